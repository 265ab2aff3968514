/* The accuracy of templates/simd_math.h against double-precision libm rounded to float, in units in the last
 * place. The unit test (test_tpl_math.c) runs it on every MATH_STEP-th float plus the special values; the
 * exhaustive figures in simd_math.h come from the same program built with -DMATH_STEP=1, e.g.
 *   gcc -O2 -mavx512f -mavx2 -mfma -DCNNC_ISA_AVX512 -DMATH_STEP=1 \
 *       -Itemplates tests/unit/template_checks/math_accuracy.c -lm && ./a.out
 * It prints the worst case of each function and exits non-zero when one exceeds the documented bound. */
#include "simd_k2.h"
#include "simd_math.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef MATH_STEP
#define MATH_STEP 1
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

int main(void) {
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
  return bad != 0;
}
