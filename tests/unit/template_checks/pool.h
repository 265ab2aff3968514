/* Checks instances of templates/pool_nchwc.c and global_pool_nchwc.c against plain pooling in double. */
typedef struct PoolShape {
  int batch, channels, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, max, count_include_pad;
} PoolShape;

typedef void (*PoolFn)(const float *x, float *y);

CHECK_FN int check_pool(const char *name, PoolFn fn, PoolShape s) {
  int cb = blocks_of(s.channels);
  size_t in_count = (size_t)s.batch * s.channels * s.ih * s.iw, out_count = (size_t)s.batch * s.channels * s.oh * s.ow;
  float *x = random_floats(in_count, 1);
  double *ref = malloc(out_count * sizeof *ref + 1);
  for (int n = 0; n < s.batch; n++)
    for (int c = 0; c < s.channels; c++)
      for (int i = 0; i < s.oh; i++)
        for (int j = 0; j < s.ow; j++) {
          double acc = s.max ? -INFINITY : 0;
          int count = 0;
          for (int ki = 0; ki < s.kh; ki++)
            for (int kj = 0; kj < s.kw; kj++) {
              int y = i * s.sh - s.pt + ki * s.dh, xx = j * s.sw - s.pl + kj * s.dw;
              if (s.count_include_pad && y < s.ih + s.pb && xx < s.iw + s.pr)
                count++;
              if (y < 0 || y >= s.ih || xx < 0 || xx >= s.iw)
                continue;
              if (!s.count_include_pad)
                count++;
              double v = x[(((size_t)n * s.channels + c) * s.ih + y) * s.iw + xx];
              acc = s.max ? (v > acc ? v : acc) : acc + v;
            }
          ref[(((size_t)n * s.channels + c) * s.oh + i) * s.ow + j] = s.max ? acc : acc / count;
        }
  float *x_blocked = to_nchwc(x, s.batch, s.channels, s.ih * s.iw);
  size_t y_blocked_count = (size_t)s.batch * cb * s.oh * s.ow * VLEN;
  float *y_blocked = malloc(y_blocked_count * sizeof *y_blocked + 1);
  memset(y_blocked, 0xff, y_blocked_count * sizeof *y_blocked); /* NaN: every lane must be written */
  fn(x_blocked, y_blocked);
  float *y = malloc(out_count * sizeof *y + 1);
  int bad = 0, dirty = from_nchwc(y_blocked, s.batch, s.channels, s.oh * s.ow, y);
  if (dirty) {
    printf("%s: %d padding lanes are not zero\n", name, dirty);
    bad++;
  }
  bad += compare(name, y, ref, NULL, out_count, s.max ? 0 : 1.2e-7 * (s.kh * s.kw + 2));
  free(x), free(ref), free(x_blocked), free(y_blocked), free(y);
  return bad;
}

typedef struct GlobalPoolShape {
  int batch, channels, size, max, out_nchwc;
} GlobalPoolShape;

CHECK_FN int check_global_pool(const char *name, PoolFn fn, GlobalPoolShape s) {
  int cb = blocks_of(s.channels);
  size_t out_count = (size_t)s.batch * s.channels;
  float *x = random_floats((size_t)s.batch * s.channels * s.size, 1);
  double *ref = malloc(out_count * sizeof *ref + 1), *mag = malloc(out_count * sizeof *mag + 1);
  for (size_t p = 0; p < out_count; p++) {
    double acc = s.max ? -INFINITY : 0, m = 0;
    for (int i = 0; i < s.size; i++) {
      double v = x[p * s.size + i];
      acc = s.max ? (v > acc ? v : acc) : acc + v;
      m += fabs(v);
    }
    ref[p] = s.max ? acc : acc / s.size;
    mag[p] = s.max ? fabs(acc) : m / s.size;
  }
  float *x_blocked = to_nchwc(x, s.batch, s.channels, s.size);
  size_t y_count = s.out_nchwc ? (size_t)s.batch * cb * VLEN : out_count;
  float *y_raw = malloc((y_count + VLEN) * sizeof *y_raw);
  memset(y_raw, 0xff, (y_count + VLEN) * sizeof *y_raw); /* NaN, and a guard past the end that must stay NaN */
  fn(x_blocked, y_raw);
  int bad = 0;
  for (size_t i = y_count; i < y_count + VLEN; i++)
    if (!isnan(y_raw[i])) {
      printf("%s: wrote past the end of y\n", name);
      bad++;
      break;
    }
  float *y = y_raw;
  if (s.out_nchwc) {
    y = malloc(out_count * sizeof *y + 1);
    int dirty = from_nchwc(y_raw, s.batch, s.channels, 1, y);
    if (dirty) {
      printf("%s: %d padding lanes are not zero\n", name, dirty);
      bad++;
    }
  }
  /* a float sum of size terms: size roundings at most */
  bad += compare(name, y, ref, mag, out_count, s.max ? 0 : 6e-8 * (s.size + 2));
  if (y != y_raw)
    free(y);
  free(x), free(ref), free(mag), free(x_blocked), free(y_raw);
  return bad;
}
