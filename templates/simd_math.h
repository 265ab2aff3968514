/* Vector exp, tanh and sigmoid, and the activations the fused epilogues and element-wise templates apply, on
 * top of the vector basics of simd.h (vfloat, vfmadd, vless, vselect, ...), plus two pieces of its own per ISA.
 *
 * exp(x) = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 split in two parts so
 * n ln 2 is exact), e^r = 1 + expm1(r) and expm1(r) = r + r^2 q(r), q a degree-4 polynomial fitted for least
 * relative error (Lawson-weighted least squares, float coefficients; 1.3e-8 before rounding). Arguments are
 * clamped to [-104, 89], beyond which the float result is 0 or infinity anyway; 2^n is applied exactly, with
 * gradual underflow (vldexp), so results in the subnormal range are right too.
 *
 * tanh(x) = -t / (2 + t) with t = expm1(-2|x|), sign of x put back. t comes from the same reduction,
 * t = 2^n expm1(r) + (2^n - 1), which has no cancellation: n = 0 near 0, where t = expm1(r) keeps its full
 * relative accuracy (tanh(x) ~ x for tiny x), and 2^n - 1 is exact for the n that occur (down to -29, where
 * tanh is 1 in float).
 *
 * sigmoid(x) = s for x <= 0 and 1 - s for x > 0, with s = e / (1 + e) and e = exp(-|x|): exp never overflows
 * and the small tail keeps its relative accuracy down to the subnormals.
 *
 * Errors against the correctly rounded result (double-precision libm rounded to float), in units in the last
 * place of the result, subnormal results included, over every float (tests/unit/templates/simd_math_test.c
 * built with MATH_STEP=1, AVX-512 and AVX2; the unit test checks the same bounds on a sample):
 *   vexp      <= 1 ulp
 *   vtanh     <= 2 ulp
 *   vsigmoid  <= 2 ulp
 *   vsilu     <= 3 ulp for x >= -87.3; below, sigmoid(x) is subnormal and has few bits left, so x * sigmoid(x)
 *                is only within 2e-43 (absolute) of exact
 * glibc's expf and tanhf are within 1 ulp of the same reference, so the generic target and these agree to a
 * few ulp: far inside the 1e-4 relative tolerance of the model tests and the 1e-3 of the conformance tests.
 *
 * NaN in gives NaN out for exp, tanh, sigmoid, SiLU, HardSigmoid and HardSwish (the generic target's fmin
 * makes HardSigmoid(NaN) 1). Relu of NaN is 0 and Clip keeps NaN, as the generic target's `x > 0 ? x : 0` and
 * `y < lo ? lo : y` do. */
#ifndef CNNC_SIMD_MATH_H
#define CNNC_SIMD_MATH_H

/* ISA-specific pieces: a magnitude with another's sign, and multiplying by 2^n. */
#if defined(CNNC_ISA_AVX512)

/* |m| with the sign of s */
VFN vfloat vwith_sign_of(vfloat m, vfloat s) {
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(m), _mm512_castps_si512(s),
                                                       _mm512_set1_epi32(0x7fffffff), 0xe4));
}
/* p * 2^n for integer-valued n, rounded once, with gradual underflow and overflow to infinity */
VFN vfloat vldexp(vfloat p, vfloat n) { return _mm512_scalef_ps(p, n); }

#elif defined(CNNC_ISA_AVX2)

VFN vfloat vwith_sign_of(vfloat m, vfloat s) {
  const vfloat sign = _mm256_set1_ps(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(sign, m), _mm256_and_ps(sign, s));
}
/* p * 2^n for integer-valued n in [-152, 129] and p in [0.5, 2): two factors 2^(n/2) that are normal floats
 * each, so the first product is exact and only the second rounds (into the subnormals when it must). */
VFN vfloat vldexp(vfloat p, vfloat n) {
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  vfloat s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  vfloat s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

#else
#error "define CNNC_ISA_AVX512 or CNNC_ISA_AVX2 before including the SIMD helpers"
#endif

/* The reduction shared by exp and expm1: x = n ln 2 + r, and expm1(r). */
VFN vfloat vexp_reduce(vfloat x, vfloat *n) {
  *n = vround(vmul(x, vbroadcast(0x1.715476p+0f)));   /* 1 / ln 2 */
  vfloat r = vfmadd(*n, vbroadcast(-0x1.62e400p-1f), x); /* ln 2, leading bits: n * this is exact */
  r = vfmadd(*n, vbroadcast(-0x1.7f7d1cp-20f), r);        /* ln 2, the rest */
  vfloat q = vbroadcast(0x1.6bec04p-10f);
  q = vfmadd(q, r, vbroadcast(0x1.122768p-7f));
  q = vfmadd(q, r, vbroadcast(0x1.555674p-5f));
  q = vfmadd(q, r, vbroadcast(0x1.5554b0p-3f));
  q = vfmadd(q, r, vbroadcast(0x1.fffffep-2f));
  return vfmadd(vmul(r, r), q, r); /* expm1(r) */
}

VFN vfloat vexp(vfloat x) {
  /* vmax(lo, x) and vmin(hi, .) return x's lane when it is NaN */
  x = vmin(vbroadcast(89.0f), vmax(vbroadcast(-104.0f), x));
  vfloat n;
  vfloat em = vexp_reduce(x, &n);
  return vldexp(vadd(em, vbroadcast(1.0f)), n);
}

VFN vfloat vtanh(vfloat x) {
  vfloat y = vmax(vbroadcast(-20.0f), vmul(vabs(x), vbroadcast(-2.0f))); /* tanh(10) is 1 in float */
  vfloat n;
  vfloat em = vexp_reduce(y, &n);
  vfloat scale = vldexp(vbroadcast(1.0f), n);
  vfloat t = vfmadd(scale, em, vsub(scale, vbroadcast(1.0f))); /* expm1(y) */
  vfloat m = vdiv(t, vsub(vbroadcast(-2.0f), t));             /* -t / (2 + t) = tanh|x| */
  return vwith_sign_of(m, x);
}

VFN vfloat vsigmoid(vfloat x) {
  vfloat e = vexp(vsub(vzero(), vabs(x)));
  vfloat s = vdiv(e, vadd(vbroadcast(1.0f), e));
  return vselect(vless(vzero(), x), vsub(vbroadcast(1.0f), s), s);
}

VFN vfloat vsilu(vfloat x) { return vmul(x, vsigmoid(x)); }

VFN vfloat vrelu(vfloat x) { return vmax(x, vzero()); }

VFN vfloat vleaky_relu(vfloat x, float alpha) {
  return vselect(vless(x, vzero()), vmul(x, vbroadcast(alpha)), x);
}

/* min(max(x, lo), hi), keeping NaN; hi wins when lo > hi, as ONNX Clip has it */
VFN vfloat vclip(vfloat x, float lo, float hi) { return vmin(vbroadcast(hi), vmax(vbroadcast(lo), x)); }

VFN vfloat vhard_sigmoid(vfloat x, float alpha, float beta) {
  return vmin(vbroadcast(1.0f), vmax(vzero(), vfmadd(x, vbroadcast(alpha), vbroadcast(beta))));
}

VFN vfloat vhard_swish(vfloat x) { return vmul(x, vhard_sigmoid(x, 1.0f / 6, 0.5f)); }

#endif
