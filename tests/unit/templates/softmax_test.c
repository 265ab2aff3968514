/* Driver for templates/softmax.c (test_tpl_softmax.c writes the instances and a table of cases): rows against
 * Softmax and LogSoftmax in double, -inf inputs and in-place use included, nothing written past the rows. */
#include "common.h"
#include "blocked.h"

typedef void (*softmax_kernel)(const float *x, float *y);

struct softmax_case {
  softmax_kernel fn;
  int rows, len, log, in_place;
  float scale; /* inputs in [-scale, scale) */
};

static void softmax_run(const struct softmax_case *k) {
  const long count = (long)k->rows * k->len;
  float *x = random_tensor(count, k->scale);
  x[0] = -INFINITY; /* contributes nothing */
  double *ref = malloc(count * sizeof *ref + 1);
  for (int r = 0; r < k->rows; r++) {
    const float *xr = x + (long)r * k->len;
    double max = -INFINITY, sum = 0;
    for (int i = 0; i < k->len; i++)
      max = xr[i] > max ? xr[i] : max;
    for (int i = 0; i < k->len; i++)
      sum += exp(xr[i] - max);
    for (int i = 0; i < k->len; i++)
      ref[(long)r * k->len + i] = k->log ? xr[i] - max - log(sum) : exp(xr[i] - max) / sum;
  }
  float *y = test_alloc(count + GUARD, NAN);
  if (k->in_place)
    memcpy(y, x, (size_t)count * sizeof *y);
  k->fn(k->in_place ? y : x, y);
  expect_guard("softmax", y + count);
  /* exp within 1 ulp, a float sum of len terms, one division or two subtractions */
  expect_all("softmax", y, ref, NULL, count, 6e-8 * (k->len + 8));
  free(x), free(ref), free(y);
}
