/* Shared by the template test drivers (tests/unit/test_tpl_*.c writes a driver that includes the SIMD helpers,
 * instances of one template, this file and the template's reference, then calls the checks from main):
 * deterministic random data, NCHW <-> NCHWc packing, the activations in double, and the comparison. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* not every driver uses every helper */
#define CHECK_FN static __attribute__((unused))

static uint32_t rng_state = 12345;

/* uniform in [-1, 1) */
CHECK_FN float rnd(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float)(rng_state >> 8) / (float)(1 << 23) - 1.0f;
}

CHECK_FN float *random_floats(size_t count, float scale) {
  float *p = malloc(count * sizeof *p + 1);
  for (size_t i = 0; i < count; i++)
    p[i] = scale * rnd();
  return p;
}

CHECK_FN int blocks_of(int channels) { return (channels + VLEN - 1) / VLEN; }

/* (n, c, s) row-major -> (n, ceil(c / VLEN), s, VLEN), padding lanes zero */
CHECK_FN float *to_nchwc(const float *x, int batch, int channels, int spatial) {
  int cb = blocks_of(channels);
  float *y = calloc((size_t)batch * cb * spatial * VLEN + 1, sizeof *y);
  for (int n = 0; n < batch; n++)
    for (int c = 0; c < channels; c++)
      for (int s = 0; s < spatial; s++)
        y[(((size_t)n * cb + c / VLEN) * spatial + s) * VLEN + c % VLEN] = x[((size_t)n * channels + c) * spatial + s];
  return y;
}

/* The inverse; returns the number of padding lanes that are not zero. */
CHECK_FN int from_nchwc(const float *y, int batch, int channels, int spatial, float *x) {
  int cb = blocks_of(channels), dirty = 0;
  for (int n = 0; n < batch; n++)
    for (int c = 0; c < cb * VLEN; c++)
      for (int s = 0; s < spatial; s++) {
        float v = y[(((size_t)n * cb + c / VLEN) * spatial + s) * VLEN + c % VLEN];
        if (c < channels)
          x[((size_t)n * channels + c) * spatial + s] = v;
        else if (v != 0 || signbit(v))
          dirty++;
      }
  return dirty;
}

enum { ACT_NONE, ACT_RELU, ACT_CLIP, ACT_HARD_SIGMOID, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_SILU,
       ACT_HARD_SWISH };

CHECK_FN double ref_act(int act, double alpha, double beta, double x) {
  switch (act) {
  case ACT_RELU: return x > 0 ? x : 0;
  case ACT_CLIP: return x < alpha ? alpha : x > beta ? beta : x;
  case ACT_HARD_SIGMOID: return fmax(0, fmin(1, alpha * x + beta));
  case ACT_LEAKY_RELU: return x < 0 ? alpha * x : x;
  case ACT_SIGMOID: return 1 / (1 + exp(-x));
  case ACT_TANH: return tanh(x);
  case ACT_SILU: return x / (1 + exp(-x));
  case ACT_HARD_SWISH: return x * fmax(0, fmin(1, x / 6 + 0.5));
  default: return x;
  }
}

/* got must be within tol * (1 + mag[i]) of ref (mag: the sum of the magnitudes of the terms behind ref[i], or
 * NULL for |ref[i]|); prints the first few misses and returns their count. */
CHECK_FN int compare(const char *what, const float *got, const double *ref, const double *mag, size_t count,
                   double tol) {
  int bad = 0;
  for (size_t i = 0; i < count; i++) {
    double scale = 1 + (mag ? mag[i] : fabs(ref[i]));
    bool same = got[i] == ref[i] || fabs(got[i] - ref[i]) <= tol * scale || (isnan(ref[i]) && isnan(got[i]));
    if (!same) {
      if (bad < 5)
        printf("%s: element %zu is %.9g, expected %.9g\n", what, i, got[i], ref[i]);
      bad++;
    }
  }
  if (bad)
    printf("%s: %d of %zu elements wrong\n", what, bad, count);
  return bad;
}
