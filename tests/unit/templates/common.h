/* Shared by the template test drivers (test_templates.c): deterministic random numbers, the scalar reference of
 * every epilogue activation (the ACT_* values come from the test program, which copies cnnc's ActKind), and a
 * tolerance check that counts failures. Included inside the target's pragma region, after simd.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Not every driver uses every helper. */
#define TEST_FN static __attribute__((unused))

static unsigned test_rng = 12345u;

/* uniform in [-1, 1) */
TEST_FN float test_random(void) {
  test_rng = test_rng * 1664525u + 1013904223u;
  return (float)((test_rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

TEST_FN double test_clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

TEST_FN double test_activation(int kind, float alpha, float beta, double x) {
  switch (kind) {
  case ACT_RELU:
    return x > 0 ? x : 0;
  case ACT_LEAKY_RELU:
    return x < 0 ? alpha * x : x;
  case ACT_CLIP:
    return test_clamp(x, alpha, beta);
  case ACT_SIGMOID:
    return 1 / (1 + exp(-x));
  case ACT_HARD_SIGMOID:
    return test_clamp(alpha * x + beta, 0, 1);
  case ACT_HARD_SWISH:
    return x * test_clamp(x / 6 + 0.5, 0, 1);
  case ACT_TANH:
    return tanh(x);
  case ACT_SILU:
    return x / (1 + exp(-x));
  default:
    return x;
  }
}

static int test_failures;

/* got within tol of ref, where tol scales with `scale` (the sum of the magnitudes that made ref) */
TEST_FN void test_expect(const char *what, int index, float got, double ref, double scale) {
  if (fabs(got - ref) <= 1e-5 * (1 + scale))
    return;
  if (test_failures++ < 10)
    printf("%s: element %d is %.9g, expected %.9g\n", what, index, got, ref);
}

TEST_FN float *test_alloc(long count, float fill) {
  float *p = malloc((size_t)(count > 0 ? count : 1) * sizeof *p);
  for (long i = 0; i < count; i++)
    p[i] = fill;
  return p;
}
