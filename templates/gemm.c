/* gemm.c: Y = ALPHA * A * B + bias for a constant B packed at compile time (Gemm, MatMul with a constant right
 * operand), with the fused epilogue applied before the store.
 *
 *   y[i][j] = EPILOGUE(ALPHA * sum over k of a[i][k] * b[k][j] + bias[j])
 *
 * The register tile is MR rows by NV column vectors: per k it loads NV vectors of packed B, broadcasts MR
 * elements of A and issues MR * NV fused multiply-adds into accumulators that stay in registers through all
 * of K, row by row (one broadcast, then its NV multiply-adds). Column groups are the outer loop, so a group's
 * panel of B (K * NV vectors) stays in cache while the rows stream past; with one row (a classifier's batch of
 * one) the tile is as wide as the registers allow, and B streams through once. A row count that MR does not
 * divide ends with a tile of TAIL_ROWS rows.
 *
 * Layouts (VLEN floats per vector):
 *   a     [M][K]                 row-major
 *   w     [NB / NV][K][NV][VLEN] packed B: per group of NV column blocks and per k, the group's NV vectors side
 *                                by side; columns past N are zero (NB = ceil(N / VLEN))
 *   bias  [NB][VLEN]             when HAS_BIAS: beta * C, or a fused Add, per column
 *   res   [M][N]                 read only by EPILOGUE / EPILOGUE_PARTIAL (a fused residual Add)
 *   y     [M][N]                 row-major: the last column block, N_LAST columns wide, is stored partially
 *
 * Parameters (macros the instantiation defines; compiler/ops/gemm_simd.c):
 *   FN                           the function: FN(a, w, bias, res, y)
 *   M K N NB                     sizes, as above
 *   MR NV                        the register tile; NV divides NB
 *   NV_LIST(X)                   X(0) ... X(NV - 1)
 *   TILE(X)                      X(r,v) for row r < MR and column vector v < NV, row by row
 *   TAIL_ROWS                    M % MR, and when it is not 0: TAIL_TILE(X) likewise
 *   N_LAST                       the columns in use in block NB - 1 (1 .. VLEN)
 *   ALPHA                        the scale of A * B; HAS_ALPHA is 0 when it is 1
 *   HAS_BIAS                     0 or 1
 *   EPILOGUE(acc, at)            the vector stored at y + at from acc (compiler/template.c, tpl_epilogue), and
 *   EPILOGUE_PARTIAL(acc, at, n) the same reading only n lanes of the residual */
#ifndef VLEN
#error "gemm.c is instantiated after simd.h"
#endif

#if HAS_BIAS
#define GM_BIAS(v) vload(bias + (nb + (v)) * VLEN)
#else
#define GM_BIAS(v) vzero()
#endif
#if HAS_ALPHA
#define GM_INIT(r, v) vzero()
#define GM_FINISH(acc, v) vfmadd(acc, vbroadcast(ALPHA), GM_BIAS(v))
#else
#define GM_INIT(r, v) GM_BIAS(v)
#define GM_FINISH(acc, v) (acc)
#endif

#define GM_DECLARE(r, v) vfloat acc_##r##_##v = GM_INIT(r, v);
#define GM_LOAD_B(v) const vfloat b_##v = vload(bk + (v) * VLEN);
#define GM_FMA(r, v) acc_##r##_##v = vfmadd(vbroadcast(ak[(r) * K]), b_##v, acc_##r##_##v);
#define GM_STORE(r, v)                                                                                           \
  {                                                                                                              \
    const int64_t at_ = (i0 + (r)) * N + (nb + (v)) * VLEN;                                                      \
    const vfloat acc_ = GM_FINISH(acc_##r##_##v, v);                                                             \
    if (N_LAST < VLEN && nb + (v) == NB - 1)                                                                     \
      vstore_partial(y + at_, EPILOGUE_PARTIAL(acc_, at_, N_LAST), N_LAST);                                      \
    else                                                                                                         \
      vstore(y + at_, EPILOGUE(acc_, at_));                                                                      \
  }

/* One register tile: the rows of TILE_OF from i0 on, for column blocks nb .. nb + NV - 1. */
#define GM_TILE(TILE_OF)                                                                                         \
  {                                                                                                              \
    TILE_OF(GM_DECLARE)                                                                                          \
    const float *ak = a + i0 * K;                                                                                \
    const float *bk = wg;                                                                                        \
    for (int64_t k = 0; k < K; k++, ak++, bk += NV * VLEN) {                                                     \
      NV_LIST(GM_LOAD_B)                                                                                         \
      TILE_OF(GM_FMA)                                                                                            \
    }                                                                                                            \
    TILE_OF(GM_STORE)                                                                                            \
  }

static void FN(const float *restrict a, const float *restrict w, const float *restrict bias,
               const float *restrict res, float *restrict y) {
  (void)bias;
  (void)res;
  for (int64_t nb = 0; nb < NB; nb += NV) {
    const float *wg = w + nb * K * VLEN;
    for (int64_t i0 = 0; i0 < M - TAIL_ROWS; i0 += MR)
      GM_TILE(TILE)
#if TAIL_ROWS > 0
    {
      const int64_t i0 = M - TAIL_ROWS;
      GM_TILE(TAIL_TILE)
    }
#endif
  }
}

#undef GM_BIAS
#undef GM_INIT
#undef GM_FINISH
#undef GM_DECLARE
#undef GM_LOAD_B
#undef GM_FMA
#undef GM_STORE
#undef GM_TILE
