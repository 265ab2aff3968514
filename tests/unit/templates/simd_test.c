/* Driver for the simd.h test (test_templates.c): included after simd.h, inside the target's pragma region.
 * Compares every activation with its libm definition over a range of inputs, and checks the partial loads and
 * stores, lane clearing and reductions lane by lane. Returns the number of failed checks. */
#include <math.h>
#include <stdio.h>

static int simd_failures;

static void expect_close(const char *what, float x, float got, double ref, double rel, double abs_tol) {
  if (fabs(got - ref) <= abs_tol + rel * fabs(ref))
    return;
  if (simd_failures++ < 10)
    printf("%s(%.9g) = %.9g, expected %.9g\n", what, x, got, ref);
}

static void lanes(vfloat v, float *out) { vstore(out, v); }

/* f over VLEN inputs from x, compared lane by lane with ref. */
#define CHECK_ACT(name, expr, ref_expr, rel, abs_tol)                                                            \
  {                                                                                                              \
    float got_[VLEN];                                                                                            \
    const vfloat v = vload(xs);                                                                                  \
    lanes(expr, got_);                                                                                           \
    for (int l = 0; l < VLEN; l++) {                                                                             \
      const double x = xs[l];                                                                                    \
      expect_close(name, xs[l], got_[l], (ref_expr), rel, abs_tol);                                              \
    }                                                                                                            \
  }

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static int simd_tests(void) {
  float xs[VLEN];
  for (int i = 0; i < 4000; i++) {
    for (int l = 0; l < VLEN; l++)
      xs[l] = -40.0f + 80.0f * (float)(i * VLEN + l) / (float)(4000 * VLEN);
    CHECK_ACT("vexp", vexp(v), exp(x), 1e-6, 0);
    CHECK_ACT("vsigmoid", vsigmoid(v), 1 / (1 + exp(-x)), 1e-6, 0);
    CHECK_ACT("vtanh", vtanh(v), tanh(x), 1e-6, 1e-7);
    CHECK_ACT("vsilu", vsilu(v), x / (1 + exp(-x)), 1e-6, 1e-7);
    CHECK_ACT("vrelu", vrelu(v), x > 0 ? x : 0, 0, 0);
    CHECK_ACT("vleaky_relu", vleaky_relu(v, 0.1f), x < 0 ? (double)(0.1f * xs[l]) : x, 0, 0);
    CHECK_ACT("vclip", vclip(v, -1.5f, 6.0f), clampd(x, -1.5, 6), 0, 0);
    CHECK_ACT("vhard_sigmoid", vhard_sigmoid(v, 0.2f, 0.5f), clampd(0.2 * x + 0.5, 0, 1), 1e-6, 1e-7);
    CHECK_ACT("vhard_swish", vhard_swish(v), x * clampd(x / 6 + 0.5, 0, 1), 1e-6, 1e-7);
  }
  /* small arguments, where tanh and exp must keep their relative precision */
  for (int i = -200; i <= 200; i++) {
    for (int l = 0; l < VLEN; l++)
      xs[l] = (float)(i * VLEN + l) * 1e-6f;
    CHECK_ACT("vtanh", vtanh(v), tanh(x), 2e-6, 0);
    CHECK_ACT("vexp", vexp(v), exp(x), 1e-6, 0);
  }

  /* partial loads read n floats and zero the rest; partial stores write n floats only */
  float src[VLEN], dst[VLEN + 1], out[VLEN];
  for (int l = 0; l < VLEN; l++)
    src[l] = (float)(l + 1);
  for (int n = 0; n <= VLEN; n++) {
    lanes(vload_partial(src, n), out);
    for (int l = 0; l < VLEN; l++)
      expect_close("vload_partial", (float)n, out[l], l < n ? src[l] : 0, 0, 0);
    for (int l = 0; l <= VLEN; l++)
      dst[l] = -1;
    vstore_partial(dst, vload(src), n);
    for (int l = 0; l <= VLEN; l++)
      expect_close("vstore_partial", (float)n, dst[l], l < n ? src[l] : -1, 0, 0);
    lanes(vkeep_lanes(vload(src), n), out);
    for (int l = 0; l < VLEN; l++)
      expect_close("vkeep_lanes", (float)n, out[l], l < n ? src[l] : 0, 0, 0);
    for (int lo = 0; lo <= n; lo++) {
      lanes(vload_lanes(src, lo, n), out);
      for (int l = 0; l < VLEN; l++)
        expect_close("vload_lanes", (float)(lo * 100 + n), out[l], l >= lo && l < n ? src[l] : 0, 0, 0);
    }
  }
  expect_close("vreduce_add", 0, vreduce_add(vload(src)), VLEN * (VLEN + 1) / 2, 0, 0);
  expect_close("vreduce_max", 0, vreduce_max(vload(src)), VLEN, 0, 0);
  return simd_failures;
}
