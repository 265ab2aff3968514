/* Driver for templates/simd_math.h (test_tpl_math.c): the accuracy of vexp, vtanh, vsigmoid and vsilu against
 * double-precision libm rounded to float, in units in the last place, on every MATH_STEP-th float and the special
 * values; and the piecewise activations against the scalar formulas the generic target uses. The exhaustive
 * figures in simd_math.h come from this file built on its own with MATH_STEP 1, for each ISA:
 *   gcc -O2 -mavx512f -mavx2 -mfma -DCNNC_ISA_AVX512 -DMATH_STEP=1 tests/unit/templates/simd_math_test.c -lm
 *   gcc -O2 -mavx2 -mfma -DCNNC_ISA_AVX2 -DMATH_STEP=1 tests/unit/templates/simd_math_test.c -lm
 * which prints the worst case of each function and exits non-zero when one exceeds its documented bound. */
#ifndef CNNC_SIMD_MATH_H /* built on its own rather than inside a test program */
#include "../../../templates/simd.h"
#include "../../../templates/simd_math.h"
#define SIMD_MATH_MAIN 1
#endif

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* each test calls one of the checks */
#define MATH_FN static __attribute__((unused))

#ifndef MATH_STEP
#define MATH_STEP 997
#endif

static float float_of_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* floats as integers ordered like the values, so the difference of two is their distance in ulps */
static int64_t ordinal(float f) {
  int32_t i;
  memcpy(&i, &f, sizeof i);
  return i < 0 ? -(int64_t)(i & 0x7fffffff) : i;
}

static double ulp_error(float got, double exact) {
  float want = (float)exact;
  if (isnan(want) || isnan(got))
    return isnan(want) && isnan(got) ? 0 : INFINITY;
  if (isinf(want) || isinf(got))
    return want == got ? 0 : INFINITY;
  return fabs((double)(ordinal(got) - ordinal(want)));
}

static vfloat call_exp(vfloat x) { return vexp(x); }
static vfloat call_tanh(vfloat x) { return vtanh(x); }
static vfloat call_sigmoid(vfloat x) { return vsigmoid(x); }
static vfloat call_silu(vfloat x) { return vsilu(x); }
static double ref_exp(double x) { return exp(x); }
static double ref_tanh(double x) { return tanh(x); }
static double ref_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double ref_silu(double x) { return x / (1 + exp(-x)); }

typedef struct MathFn {
  const char *name;
  vfloat (*vector)(vfloat);
  double (*exact)(double);
  double max_ulp;   /* bound in ulps of the result, subnormal results included */
  double min_input; /* below this input the bound is absolute: max_abs */
  double max_abs;
} MathFn;

static const MathFn fns[] = {
    {"exp", call_exp, ref_exp, 1, -INFINITY, 0},
    {"tanh", call_tanh, ref_tanh, 2, -INFINITY, 0},
    {"sigmoid", call_sigmoid, ref_sigmoid, 2, -INFINITY, 0},
    /* below -87.3, sigmoid(x) is subnormal and its few bits limit x * sigmoid(x)'s relative accuracy */
    {"silu", call_silu, ref_silu, 3, -87.3, 2e-43},
};

static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX,
                                 1e-45f, -1e-45f, 88.72f, 88.73f, -87.33f, -103.9f, -104.1f, 9.01f, -9.01f, 10.0f,
                                 -20.0f, 0.3465f, -0.3466f, 1.0f, -1.0f};

typedef struct Worst {
  double ulp, abs_err;
  float ulp_at;
} Worst;

static void measure(const MathFn *f, const float *x, int n, Worst *w) {
  float in[VLEN] = {0}, out[VLEN];
  for (int i = 0; i < n; i += VLEN) {
    int count = n - i < VLEN ? n - i : VLEN;
    memcpy(in, x + i, (size_t)count * sizeof *in);
    vstore(out, f->vector(vload(in)));
    for (int l = 0; l < count; l++) {
      double exact = f->exact(in[l]);
      if (in[l] < f->min_input) {
        double e = fabs((double)out[l] - exact);
        w->abs_err = e > w->abs_err ? e : w->abs_err;
        continue;
      }
      double e = ulp_error(out[l], exact);
      if (e > w->ulp) {
        w->ulp = e;
        w->ulp_at = in[l];
      }
    }
  }
}

MATH_FN int accuracy_failures(void) {
  int bad = 0;
  for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
    const MathFn *f = &fns[k];
    Worst w = {0, 0, 0};
    measure(f, specials, (int)(sizeof specials / sizeof specials[0]), &w);
    float batch[4096];
    int n = 0;
    for (uint64_t u = 0; u < ((uint64_t)1 << 32); u += MATH_STEP) {
      batch[n++] = float_of_bits((uint32_t)u);
      if (n == 4096) {
        measure(f, batch, n, &w);
        n = 0;
      }
    }
    measure(f, batch, n, &w);
    bool ok = w.ulp <= f->max_ulp && w.abs_err <= f->max_abs;
    printf("%-8s max %g ulp (at %a)", f->name, w.ulp, (double)w.ulp_at);
    if (f->min_input > -INFINITY)
      printf(", below %g max abs error %.3g", f->min_input, w.abs_err);
    printf(": %s\n", ok ? "ok" : "ABOVE THE DOCUMENTED BOUND");
    bad += !ok;
  }
  return bad;
}

/* The piecewise activations against the scalar formulas of the generic target (compiler/ops/unary.c,
 * clip.c): ReLU, LeakyReLU and Clip exactly, NaN included; HardSigmoid and HardSwish, which the vector code
 * computes with one FMA, within one rounding of alpha * x + beta (and NaN for NaN, where the scalar fmin makes
 * HardSigmoid 1). */
static float scalar_relu(float x) { return x > 0 ? x : 0; }
static float scalar_leaky_relu(float x) { return x < 0 ? 0.1f * x : x; }
static float scalar_clip(float x) {
  float y = x < -1.0f ? -1.0f : x;
  return y > 2.0f ? 2.0f : y;
}
static float scalar_hard_sigmoid(float x) { return fmaxf(0, fminf(1, 0.2f * x + 0.5f)); }
static float scalar_hard_swish(float x) { return x * fmaxf(0, fminf(1, x / 6 + 0.5f)); }

static vfloat vector_relu(vfloat x) { return vrelu(x); }
static vfloat vector_leaky_relu(vfloat x) { return vleaky_relu(x, 0.1f); }
static vfloat vector_clip(vfloat x) { return vclip(x, -1.0f, 2.0f); }
static vfloat vector_hard_sigmoid(vfloat x) { return vhard_sigmoid(x, 0.2f, 0.5f); }
static vfloat vector_hard_swish(vfloat x) { return vhard_swish(x); }

typedef struct PiecewiseActivation {
  const char *name;
  float (*scalar)(float);
  vfloat (*vector)(vfloat);
  double tol; /* absolute, times max(1, |x|); 0: bit-exact, NaN included */
} PiecewiseActivation;

static const PiecewiseActivation piecewise[] = {
    {"relu", scalar_relu, vector_relu, 0},
    {"leaky_relu", scalar_leaky_relu, vector_leaky_relu, 0},
    {"clip", scalar_clip, vector_clip, 0},
    {"hard_sigmoid", scalar_hard_sigmoid, vector_hard_sigmoid, 1.2e-7},
    {"hard_swish", scalar_hard_swish, vector_hard_swish, 1.2e-7},
};

MATH_FN int piecewise_failures(void) {
  enum { N = 4096 };
  static float x[N];
  static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -1.0f, 2.0f, -3.0f, 3.0f, -2.5f, 2.5f,
                                   FLT_MIN, -FLT_MIN, 1e-45f, FLT_MAX, -FLT_MAX};
  int n_specials = (int)(sizeof specials / sizeof specials[0]);
  for (int i = 0; i < N; i++)
    x[i] = i < n_specials ? specials[i] : -5.0f + 10.0f * (float)i / N; /* and [-5, 5) evenly */
  int bad = 0;
  for (size_t k = 0; k < sizeof piecewise / sizeof piecewise[0]; k++) {
    const PiecewiseActivation *a = &piecewise[k];
    for (int i = 0; i < N; i += VLEN) {
      float out[VLEN];
      vstore(out, a->vector(vload(x + i)));
      for (int l = 0; l < VLEN; l++) {
        float want = a->scalar(x[i + l]), got = out[l];
        bool same = a->tol == 0 ? memcmp(&want, &got, sizeof got) == 0 || (isnan(want) && isnan(got))
                                : isnan(x[i + l]) || got == want || (isnan(want) && isnan(got)) ||
                                      fabs((double)got - want) <= a->tol * fmax(1, fabs(x[i + l]));
        if (!same && bad++ < 10)
          printf("%s(%a) = %a, the scalar formula gives %a\n", a->name, (double)x[i + l], (double)got, (double)want);
      }
    }
  }
  return bad;
}

MATH_FN int simd_math_tests(void) { return accuracy_failures() + piecewise_failures(); }

#ifdef SIMD_MATH_MAIN
int main(void) { return simd_math_tests() != 0; }
#endif
