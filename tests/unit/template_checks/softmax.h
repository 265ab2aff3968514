/* Checks instances of templates/softmax.c against Softmax and LogSoftmax in double. */
typedef void (*SoftmaxFn)(const float *x, float *y);

CHECK_FN int check_softmax(const char *name, SoftmaxFn fn, int rows, int len, int log_softmax, float scale, int in_place) {
  size_t count = (size_t)rows * len;
  float *x = random_floats(count, scale);
  x[0] = -INFINITY; /* contributes nothing */
  double *ref = malloc(count * sizeof *ref + 1);
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * len;
    double max = -INFINITY, sum = 0;
    for (int i = 0; i < len; i++)
      max = xr[i] > max ? xr[i] : max;
    for (int i = 0; i < len; i++)
      sum += exp(xr[i] - max);
    for (int i = 0; i < len; i++)
      ref[(size_t)r * len + i] = log_softmax ? xr[i] - max - log(sum) : exp(xr[i] - max) / sum;
  }
  /* a guard past the end of y that must stay NaN */
  float *y = malloc((count + VLEN) * sizeof *y);
  memset(y, 0xff, (count + VLEN) * sizeof *y);
  if (in_place)
    memcpy(y, x, count * sizeof *y);
  fn(in_place ? y : x, y);
  int bad = 0;
  for (int i = 0; i < VLEN; i++)
    if (!isnan(y[count + i])) {
      printf("%s: wrote past the end of y\n", name);
      bad++;
      break;
    }
  /* exp within 1 ulp, a float sum of len terms, one division or subtraction */
  bad += compare(name, y, ref, NULL, count, 6e-8 * (len + 8));
  free(x), free(ref), free(y);
  return bad;
}
