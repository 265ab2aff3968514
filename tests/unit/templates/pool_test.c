/* Driver for templates/pool_nchwc.c and global_pool_nchwc.c (test_tpl_pool.c writes the instances and tables
 * of cases): random blocked tensors against plain pooling in double, as ONNX counts the taps of a mean, padding
 * lanes exactly zero, nothing written past the output. */
#include "common.h"
#include "blocked.h"

typedef void (*pool_kernel)(const float *x, float *y);

struct pool_case {
  pool_kernel fn;
  int batch, channels, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, max, count_include_pad;
};

TEST_FN void pool_run(const struct pool_case *k) {
  const int cb = blocks_of(k->channels);
  const long in = (long)k->batch * k->channels * k->ih * k->iw, out = (long)k->batch * k->channels * k->oh * k->ow;
  float *x = random_tensor(in, 1);
  double *ref = malloc(out * sizeof *ref + 1);
  for (int n = 0; n < k->batch; n++)
    for (int c = 0; c < k->channels; c++)
      for (int i = 0; i < k->oh; i++)
        for (int j = 0; j < k->ow; j++) {
          double acc = k->max ? -INFINITY : 0;
          int count = 0;
          for (int ki = 0; ki < k->kh; ki++)
            for (int kj = 0; kj < k->kw; kj++) {
              const int y = i * k->sh - k->pt + ki * k->dh, xx = j * k->sw - k->pl + kj * k->dw;
              /* count_include_pad counts the padded input, not what a ceil_mode window reaches past it */
              if (k->count_include_pad && y < k->ih + k->pb && xx < k->iw + k->pr)
                count++;
              if (y < 0 || y >= k->ih || xx < 0 || xx >= k->iw)
                continue;
              count += !k->count_include_pad;
              const double v = x[(((long)n * k->channels + c) * k->ih + y) * k->iw + xx];
              acc = k->max ? (v > acc ? v : acc) : acc + v;
            }
          ref[(((long)n * k->channels + c) * k->oh + i) * k->ow + j] = k->max ? acc : acc / count;
        }
  const long blocked_out = (long)k->batch * cb * k->oh * k->ow * VLEN;
  float *x_blocked = to_blocked(x, k->batch, k->channels, k->ih * k->iw);
  float *y_blocked = test_alloc(blocked_out + GUARD, NAN), *y = test_alloc(out, 0);
  k->fn(x_blocked, y_blocked);
  expect_guard("pool", y_blocked + blocked_out);
  from_blocked("pool", y_blocked, k->batch, k->channels, k->oh * k->ow, y);
  expect_all("pool", y, ref, NULL, out, k->max ? 0 : 1.2e-7 * (k->kh * k->kw + 2));
  free(x), free(ref), free(x_blocked), free(y_blocked), free(y);
}

struct global_case {
  pool_kernel fn;
  int batch, channels, size, max, out_blocked;
};

TEST_FN void global_run(const struct global_case *k) {
  const int cb = blocks_of(k->channels);
  const long out = (long)k->batch * k->channels;
  float *x = random_tensor(out * k->size, 1);
  double *ref = malloc(out * sizeof *ref + 1), *mag = malloc(out * sizeof *mag + 1);
  for (long p = 0; p < out; p++) {
    double acc = k->max ? -INFINITY : 0, m = 0;
    for (int i = 0; i < k->size; i++) {
      const double v = x[p * k->size + i];
      acc = k->max ? (v > acc ? v : acc) : acc + v;
      m += fabs(v);
    }
    ref[p] = k->max ? acc : acc / k->size;
    mag[p] = k->max ? fabs(acc) : m / k->size;
  }
  const long stored = k->out_blocked ? (long)k->batch * cb * VLEN : out;
  float *x_blocked = to_blocked(x, k->batch, k->channels, k->size);
  float *y_stored = test_alloc(stored + GUARD, NAN), *y = y_stored;
  k->fn(x_blocked, y_stored);
  expect_guard("global pool", y_stored + stored);
  if (k->out_blocked) {
    y = test_alloc(out, 0);
    from_blocked("global pool", y_stored, k->batch, k->channels, 1, y);
  }
  /* a float sum of size terms */
  expect_all("global pool", y, ref, mag, out, k->max ? 0 : 6e-8 * (k->size + 2));
  if (y != y_stored)
    free(y);
  free(x), free(ref), free(mag), free(x_blocked), free(y_stored);
}
