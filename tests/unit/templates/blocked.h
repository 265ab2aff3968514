/* For the drivers of kernels2's templates (depthwise conv, pooling, element-wise, softmax), after common.h:
 * random tensors, NCHW <-> NCHWc packing, and a comparison whose tolerance scales with the magnitude of what
 * made each reference value. */
#include <string.h>

TEST_FN float *random_tensor(long count, float scale) {
  float *p = test_alloc(count, 0);
  for (long i = 0; i < count; i++)
    p[i] = scale * test_random();
  return p;
}

TEST_FN int blocks_of(int channels) { return (channels + VLEN - 1) / VLEN; }

/* (n, c, s) row-major -> (n, ceil(c / VLEN), s, VLEN), the padding lanes zero */
TEST_FN float *to_blocked(const float *x, int batch, int channels, int spatial) {
  const int cb = blocks_of(channels);
  float *y = test_alloc((long)batch * cb * spatial * VLEN, 0);
  for (int n = 0; n < batch; n++)
    for (int c = 0; c < channels; c++)
      for (int s = 0; s < spatial; s++)
        y[(((long)n * cb + c / VLEN) * spatial + s) * VLEN + c % VLEN] = x[((long)n * channels + c) * spatial + s];
  return y;
}

/* The inverse, into x; counts the padding lanes that are not +0 as failures. */
TEST_FN void from_blocked(const char *what, const float *y, int batch, int channels, int spatial, float *x) {
  const int cb = blocks_of(channels);
  int dirty = 0;
  for (int n = 0; n < batch; n++)
    for (int c = 0; c < cb * VLEN; c++)
      for (int s = 0; s < spatial; s++) {
        const float v = y[(((long)n * cb + c / VLEN) * spatial + s) * VLEN + c % VLEN];
        if (c < channels)
          x[((long)n * channels + c) * spatial + s] = v;
        else if (v != 0 || signbit(v))
          dirty++;
      }
  if (dirty && test_failures++ < 10)
    printf("%s: %d padding lanes are not zero\n", what, dirty);
}

/* got[i] within tol * (1 + mag[i]) of ref[i] (mag: the sum of the magnitudes of the terms behind ref[i], or
 * NULL for |ref[i]|); equal infinities and two NaNs agree. */
TEST_FN void expect_all(const char *what, const float *got, const double *ref, const double *mag, long count,
                        double tol) {
  int bad = 0;
  for (long i = 0; i < count; i++) {
    const double scale = 1 + (mag ? mag[i] : fabs(ref[i]));
    if (got[i] == ref[i] || fabs(got[i] - ref[i]) <= tol * scale || (isnan(ref[i]) && isnan(got[i])))
      continue;
    if (bad++ < 5)
      printf("%s: element %ld is %.9g, expected %.9g\n", what, i, got[i], ref[i]);
  }
  if (bad) {
    printf("%s: %d of %ld elements wrong\n", what, bad, count);
    test_failures++;
  }
}

/* Floats past the end of a buffer that must come back untouched (NaN). */
enum { GUARD = 2 * VLEN };
TEST_FN void expect_guard(const char *what, const float *end) {
  for (int i = 0; i < GUARD; i++)
    if (!isnan(end[i])) {
      if (test_failures++ < 10)
        printf("%s: wrote past the end of its output\n", what);
      return;
    }
}
