/* The vector names templates/winograd.c uses, for its unit tests, until the backend's templates/simd.h lands in
 * main: the same names (TEAM.md), only those the template needs. */
#include <immintrin.h>

#if defined(CNNC_ISA_AVX512)
typedef __m512 vfloat;
#define VLEN 16
#define vload(p) _mm512_loadu_ps(p)
#define vstore(p, v) _mm512_storeu_ps((p), (v))
#define vbroadcast(x) _mm512_set1_ps(x)
#define vzero() _mm512_setzero_ps()
#define vadd(a, b) _mm512_add_ps((a), (b))
#define vsub(a, b) _mm512_sub_ps((a), (b))
#define vmul(a, b) _mm512_mul_ps((a), (b))
#define vfmadd(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define vmax(a, b) _mm512_max_ps((a), (b))
#define vkeep_lanes(v, n) _mm512_maskz_mov_ps((__mmask16)((1u << (n)) - 1u), (v))
#elif defined(CNNC_ISA_AVX2)
typedef __m256 vfloat;
#define VLEN 8
#define vload(p) _mm256_loadu_ps(p)
#define vstore(p, v) _mm256_storeu_ps((p), (v))
#define vbroadcast(x) _mm256_set1_ps(x)
#define vzero() _mm256_setzero_ps()
#define vadd(a, b) _mm256_add_ps((a), (b))
#define vsub(a, b) _mm256_sub_ps((a), (b))
#define vmul(a, b) _mm256_mul_ps((a), (b))
#define vfmadd(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define vmax(a, b) _mm256_max_ps((a), (b))
#define vkeep_lanes(v, n)                                                                                          \
  _mm256_and_ps((v), _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n),                                 \
                                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))))
#endif
