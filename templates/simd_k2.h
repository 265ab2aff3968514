/* The vector basics kernels2's templates use, standing in for the backend's templates/simd.h until that lands
 * in main: the same names (vfloat, VLEN, vload, vstore, vbroadcast, vfmadd, vmax, vmin, vzero, partial loads
 * and stores for tails), one section per ISA, chosen by the macro the instantiation defines first
 * (CNNC_ISA_AVX512 or CNNC_ISA_AVX2). When simd.h lands, the templates switch to it and this file goes.
 *
 * Semantics every section keeps:
 *   vless(a, b) is the lane mask a < b (false for NaN), vselect(m, a, b) = m ? a : b per lane;
 *   vround rounds to nearest even;
 *   vmax(a, b) = a > b ? a : b and vmin(a, b) = a < b ? a : b, lane by lane, as the x86 instructions do: when a
 *   lane of either is NaN the result is b's lane. Callers order the operands for the NaN behaviour they want.
 *   vload_partial(p, n) reads lanes 0..n-1 and zeroes the rest without touching memory past p + n;
 *   vstore_partial(p, v, n) writes lanes 0..n-1 only; vkeep_lanes(v, n) zeroes lanes n.. (0 <= n <= VLEN).
 *
 * Every helper is static inline and marked unused, since the generated file holds them in its main file,
 * where clang warns about unused static functions. */
#ifndef CNNC_SIMD_K2_H
#define CNNC_SIMD_K2_H

#include <immintrin.h>

#define VFN static inline __attribute__((always_inline, unused))

#if defined(CNNC_ISA_AVX512)

typedef __m512 vfloat;
typedef __mmask16 vmask;
#define VLEN 16

VFN vfloat vload(const float *p) { return _mm512_loadu_ps(p); }
VFN void vstore(float *p, vfloat v) { _mm512_storeu_ps(p, v); }
VFN vfloat vbroadcast(float x) { return _mm512_set1_ps(x); }
VFN vfloat vzero(void) { return _mm512_setzero_ps(); }
VFN vfloat vadd(vfloat a, vfloat b) { return _mm512_add_ps(a, b); }
VFN vfloat vsub(vfloat a, vfloat b) { return _mm512_sub_ps(a, b); }
VFN vfloat vmul(vfloat a, vfloat b) { return _mm512_mul_ps(a, b); }
VFN vfloat vdiv(vfloat a, vfloat b) { return _mm512_div_ps(a, b); }
VFN vfloat vfmadd(vfloat a, vfloat b, vfloat c) { return _mm512_fmadd_ps(a, b, c); } /* a * b + c */
VFN vfloat vmax(vfloat a, vfloat b) { return _mm512_max_ps(a, b); }
VFN vfloat vmin(vfloat a, vfloat b) { return _mm512_min_ps(a, b); }
VFN vfloat vabs(vfloat a) {
  return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
}
VFN vfloat vround(vfloat a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
VFN vmask vless(vfloat a, vfloat b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
VFN vfloat vselect(vmask m, vfloat a, vfloat b) { return _mm512_mask_blend_ps(m, b, a); }
VFN __mmask16 vmask_first(int n) { return (__mmask16)((1u << n) - 1); }
VFN vfloat vload_partial(const float *p, int n) { return _mm512_maskz_loadu_ps(vmask_first(n), p); }
VFN void vstore_partial(float *p, vfloat v, int n) { _mm512_mask_storeu_ps(p, vmask_first(n), v); }
VFN vfloat vkeep_lanes(vfloat v, int n) { return _mm512_maskz_mov_ps(vmask_first(n), v); }
VFN float vreduce_add(vfloat v) { return _mm512_reduce_add_ps(v); }
VFN float vreduce_max(vfloat v) { return _mm512_reduce_max_ps(v); }

#elif defined(CNNC_ISA_AVX2)

typedef __m256 vfloat;
typedef __m256 vmask;
#define VLEN 8

VFN vfloat vload(const float *p) { return _mm256_loadu_ps(p); }
VFN void vstore(float *p, vfloat v) { _mm256_storeu_ps(p, v); }
VFN vfloat vbroadcast(float x) { return _mm256_set1_ps(x); }
VFN vfloat vzero(void) { return _mm256_setzero_ps(); }
VFN vfloat vadd(vfloat a, vfloat b) { return _mm256_add_ps(a, b); }
VFN vfloat vsub(vfloat a, vfloat b) { return _mm256_sub_ps(a, b); }
VFN vfloat vmul(vfloat a, vfloat b) { return _mm256_mul_ps(a, b); }
VFN vfloat vdiv(vfloat a, vfloat b) { return _mm256_div_ps(a, b); }
VFN vfloat vfmadd(vfloat a, vfloat b, vfloat c) { return _mm256_fmadd_ps(a, b, c); } /* a * b + c */
VFN vfloat vmax(vfloat a, vfloat b) { return _mm256_max_ps(a, b); }
VFN vfloat vmin(vfloat a, vfloat b) { return _mm256_min_ps(a, b); }
VFN vfloat vabs(vfloat a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
VFN vfloat vround(vfloat a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
VFN vmask vless(vfloat a, vfloat b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
VFN vfloat vselect(vmask m, vfloat a, vfloat b) { return _mm256_blendv_ps(b, a, m); }
/* all ones in lanes 0..n-1 */
VFN __m256i vmask_first(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
VFN vfloat vload_partial(const float *p, int n) { return _mm256_maskload_ps(p, vmask_first(n)); }
VFN void vstore_partial(float *p, vfloat v, int n) { _mm256_maskstore_ps(p, vmask_first(n), v); }
VFN vfloat vkeep_lanes(vfloat v, int n) { return _mm256_and_ps(v, _mm256_castsi256_ps(vmask_first(n))); }
VFN float vreduce_add(vfloat v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
VFN float vreduce_max(vfloat v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

#else
#error "define CNNC_ISA_AVX512 or CNNC_ISA_AVX2 before including the SIMD helpers"
#endif

#endif
