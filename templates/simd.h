/* simd.h: the vector abstraction every kernel template is written against.
 *
 * One section per instruction set defines the same names; the generated file (or a unit test) defines exactly
 * one of CNNC_ISA_AVX512, CNNC_ISA_AVX2 before this text and compiles it for that ISA (cnnc emits target
 * pragmas; see compiler/target.c). A NEON section (float32x4_t, VLEN 4) is a matter of defining the names of
 * one section below; everything after the sections is written in those names only.
 *
 *   vfloat, VLEN              a vector of VLEN floats; VLEN is also the channel block of the NCHWc layout
 *   vmask                     the result of a comparison
 *   vzero() vbroadcast(x)     all lanes 0 / x
 *   vload(p) vstore(p, v)     VLEN floats at p (any alignment)
 *   vload_partial(p, n)       the first n lanes (0 <= n <= VLEN) from p, the others 0; reads only n floats
 *   vload_lanes(p, lo, hi)    lanes lo .. hi - 1 (0 <= lo <= hi <= VLEN) from p, the others 0; reads only those
 *   vstore_partial(p, v, n)   stores the first n lanes; writes only n floats
 *   vkeep_lanes(v, n)         v with the lanes from n on set to 0
 *   vadd vsub vmul vdiv vmax vmin, vfmadd(a, b, c) = a * b + c, vabs, vround (to nearest even)
 *   vless(a, b), vselect(m, a, b) = m ? a : b per lane
 *   vreduce_add(v), vreduce_max(v)   the sum / maximum of the lanes, as a float
 *   vmax(a, b) = a > b ? a : b and vmin(a, b) = a < b ? a : b lane by lane, as the x86 instructions do: a NaN
 *   lane in either gives b's lane, so callers order the operands for the NaN behaviour they want
 * The activations fused epilogues apply (vexp vrelu vleaky_relu vclip vsigmoid vhard_sigmoid vhard_swish vtanh
 * vsilu; compiler/template.c: tpl_activation) are in simd_math.h, which follows this file wherever it goes. */
#ifndef CNNC_SIMD_H
#define CNNC_SIMD_H

/* Every helper is inlined where used; a file that leaves some unused compiles without warnings. */
#define VFN static inline __attribute__((unused))

#if defined(CNNC_ISA_AVX512)
#include <immintrin.h>

#define VLEN 16
typedef __m512 vfloat;
typedef __mmask16 vmask;

VFN vfloat vzero(void) { return _mm512_setzero_ps(); }
VFN vfloat vbroadcast(float x) { return _mm512_set1_ps(x); }
VFN vfloat vload(const float *p) { return _mm512_loadu_ps(p); }
VFN void vstore(float *p, vfloat v) { _mm512_storeu_ps(p, v); }
VFN __mmask16 vfirst_lanes_(int n) { return (__mmask16)((1u << n) - 1u); }
VFN vfloat vload_partial(const float *p, int n) { return _mm512_maskz_loadu_ps(vfirst_lanes_(n), p); }
VFN vfloat vload_lanes(const float *p, int lo, int hi) {
  return _mm512_maskz_loadu_ps((__mmask16)(vfirst_lanes_(hi) & ~vfirst_lanes_(lo)), p);
}
VFN void vstore_partial(float *p, vfloat v, int n) { _mm512_mask_storeu_ps(p, vfirst_lanes_(n), v); }
VFN vfloat vkeep_lanes(vfloat v, int n) { return _mm512_maskz_mov_ps(vfirst_lanes_(n), v); }
VFN vfloat vadd(vfloat a, vfloat b) { return _mm512_add_ps(a, b); }
VFN vfloat vsub(vfloat a, vfloat b) { return _mm512_sub_ps(a, b); }
VFN vfloat vmul(vfloat a, vfloat b) { return _mm512_mul_ps(a, b); }
VFN vfloat vdiv(vfloat a, vfloat b) { return _mm512_div_ps(a, b); }
VFN vfloat vmax(vfloat a, vfloat b) { return _mm512_max_ps(a, b); }
VFN vfloat vmin(vfloat a, vfloat b) { return _mm512_min_ps(a, b); }
VFN vfloat vfmadd(vfloat a, vfloat b, vfloat c) { return _mm512_fmadd_ps(a, b, c); }
VFN vfloat vabs(vfloat a) {
  return _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
}
VFN vfloat vround(vfloat a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
VFN vmask vless(vfloat a, vfloat b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
VFN vfloat vselect(vmask m, vfloat a, vfloat b) { return _mm512_mask_blend_ps(m, b, a); }
VFN float vreduce_add(vfloat v) { return _mm512_reduce_add_ps(v); }
VFN float vreduce_max(vfloat v) { return _mm512_reduce_max_ps(v); }

#elif defined(CNNC_ISA_AVX2)
#include <immintrin.h>

#define VLEN 8
typedef __m256 vfloat;
typedef __m256 vmask;

VFN vfloat vzero(void) { return _mm256_setzero_ps(); }
VFN vfloat vbroadcast(float x) { return _mm256_set1_ps(x); }
VFN vfloat vload(const float *p) { return _mm256_loadu_ps(p); }
VFN void vstore(float *p, vfloat v) { _mm256_storeu_ps(p, v); }
/* lanes below n all ones: the mask maskload and maskstore take */
VFN __m256i vfirst_lanes_(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
VFN vfloat vload_partial(const float *p, int n) { return _mm256_maskload_ps(p, vfirst_lanes_(n)); }
VFN vfloat vload_lanes(const float *p, int lo, int hi) {
  return _mm256_maskload_ps(p, _mm256_andnot_si256(vfirst_lanes_(lo), vfirst_lanes_(hi)));
}
VFN void vstore_partial(float *p, vfloat v, int n) { _mm256_maskstore_ps(p, vfirst_lanes_(n), v); }
VFN vfloat vkeep_lanes(vfloat v, int n) { return _mm256_and_ps(v, _mm256_castsi256_ps(vfirst_lanes_(n))); }
VFN vfloat vadd(vfloat a, vfloat b) { return _mm256_add_ps(a, b); }
VFN vfloat vsub(vfloat a, vfloat b) { return _mm256_sub_ps(a, b); }
VFN vfloat vmul(vfloat a, vfloat b) { return _mm256_mul_ps(a, b); }
VFN vfloat vdiv(vfloat a, vfloat b) { return _mm256_div_ps(a, b); }
VFN vfloat vmax(vfloat a, vfloat b) { return _mm256_max_ps(a, b); }
VFN vfloat vmin(vfloat a, vfloat b) { return _mm256_min_ps(a, b); }
VFN vfloat vfmadd(vfloat a, vfloat b, vfloat c) { return _mm256_fmadd_ps(a, b, c); }
VFN vfloat vabs(vfloat a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
VFN vfloat vround(vfloat a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
VFN vmask vless(vfloat a, vfloat b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
VFN vfloat vselect(vmask m, vfloat a, vfloat b) { return _mm256_blendv_ps(b, a, m); }
VFN float vreduce_add(vfloat v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
VFN float vreduce_max(vfloat v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#else
#error "simd.h: define CNNC_ISA_AVX512 or CNNC_ISA_AVX2 before it"
#endif

#endif
