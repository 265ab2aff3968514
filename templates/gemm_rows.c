/* gemm_rows.c: C = A * B on row-major matrices, C's rows in vectors: the GEMM under training's convolutions
 * (compiler/ops/conv_gemm.c), where one operand is known only at run time and the other is an im2col buffer.
 *
 *   c[i][j] = INIT(i, j) + sum over k < K of a[i * LDA + k] * b[k * LDB + j]      i < M, j < N
 *
 * INIT is 0 (init = 0), bias[i] (init = 1: a convolution's bias, one per output channel = row) or c[i][j]
 * itself (init = 2: accumulating over a batch). The register tile is MR rows by NV vectors of C: per k, NV vectors of
 * B's row k are loaded once and each of the MR scalars a[i][k] is broadcast against them, MR * NV fused
 * multiply-adds into accumulators that stay in registers for the whole sum. Rows past the last whole MR tile
 * form a tile of MR_TAIL rows, vectors past the last whole NV tile one of NV_TAIL vectors. B's rows are padded
 * to whole vectors (LDB >= N rounded up to VLEN): the kernel loads them whole and the lanes past N, whatever
 * they hold, only reach lanes it never stores.
 *
 * Layouts: a [M][LDA], b [K][LDB], bias [M] (read when init = 1), c [M][LDC] with LDC >= N; the
 * last vector of a row stores N_LAST lanes (1 .. VLEN), so C may be dense (LDC = N).
 *
 * Parameters (macros the instantiation defines):
 *   FN                           the function: FN(a, b, bias, c, init)
 *   M N K LDA LDB LDC            sizes and leading dimensions, as above
 *   MR NV                        the register tile; M_TILES = M / MR whole row tiles, N_TILES = N_VECTORS / NV
 *   M_TILES MR_TAIL              whole row tiles and the rows left (0 .. MR - 1)
 *   N_VECTORS N_TILES NV_TAIL    vectors per row (N / VLEN rounded up), whole vector tiles, vectors left
 *   N_LAST                       lanes of the row's last vector that are C's
 *   ROWS(X), TAIL_ROWS(X)        X(0) ... X(MR - 1), X(0) ... X(MR_TAIL - 1)
 *   COLS(X), TAIL_COLS(X)        X(0) ... X(NV - 1), X(0) ... X(NV_TAIL - 1)
 *   TILE_RC(X), TILE_RT(X), TILE_TC(X), TILE_TT(X)   the (row, vector) pairs of the four tile shapes: whole rows
 *                                by whole vectors, whole rows by the tail vectors, tail rows by whole vectors,
 *                                tail rows by tail vectors
 *   EPILOGUE(acc, at)            the vector stored at c + at from accumulator acc (an activation:
 *                                compiler/template.c, tpl_epilogue; residuals are not read here) */
#ifndef VLEN
#error "gemm_rows.c is instantiated after simd.h"
#endif

/* Whether vector j (from j0) of the tile is the row's last, which stores N_LAST lanes. */
#define GR_LAST(v) (j0 + (v) == N_VECTORS - 1)
#define GR_DECLARE(r, v) vfloat acc_##r##_##v;
#define GR_INIT(r, v)                                                                                            \
  acc_##r##_##v = init == 1   ? vbroadcast(bias[i0 + (r)])                                                      \
                  : init == 2 ? (GR_LAST(v) ? vload_partial(GR_C(r, v), N_LAST) : vload(GR_C(r, v)))              \
                              : vzero();
#define GR_C(r, v) (c + (i0 + (r)) * LDC + (j0 + (v)) * VLEN)
#define GR_LOAD_B(v) const vfloat b_##v = vload(bk + (v) * VLEN);
#define GR_BROADCAST_A(r) const vfloat a_##r = vbroadcast(ak[(r) * LDA]);
#define GR_FMA(r, v) acc_##r##_##v = vfmadd(a_##r, b_##v, acc_##r##_##v);
#define GR_STORE(r, v)                                                                                           \
  {                                                                                                              \
    const int64_t at_ = (i0 + (r)) * LDC + (j0 + (v)) * VLEN;                                                    \
    if (GR_LAST(v))                                                                                              \
      vstore_partial(c + at_, EPILOGUE(acc_##r##_##v, at_), N_LAST);                                            \
    else                                                                                                         \
      vstore(c + at_, EPILOGUE(acc_##r##_##v, at_));                                                             \
  }

/* One register tile: rows i0.. of ROWS_OF, vectors j0.. of COLS_OF. */
#define GR_TILE(ROWS_OF, COLS_OF, TILE_OF)                                                                       \
  {                                                                                                              \
    TILE_OF(GR_DECLARE)                                                                                          \
    TILE_OF(GR_INIT)                                                                                             \
    for (int64_t k = 0; k < K; k++) {                                                                            \
      const float *bk = b + k * LDB + j0 * VLEN, *ak = a + i0 * LDA + k;                                         \
      COLS_OF(GR_LOAD_B)                                                                                         \
      ROWS_OF(GR_BROADCAST_A)                                                                                    \
      TILE_OF(GR_FMA)                                                                                            \
    }                                                                                                            \
    TILE_OF(GR_STORE)                                                                                            \
  }

static void FN(const float *restrict a, const float *restrict b, const float *restrict bias, float *restrict c,
               int init) {
  (void)bias;
  for (int64_t tj = 0; tj < N_TILES; tj++) {
    const int64_t j0 = tj * NV;
    for (int64_t ti = 0; ti < M_TILES; ti++) {
      const int64_t i0 = ti * MR;
      GR_TILE(ROWS, COLS, TILE_RC)
    }
#if MR_TAIL
    {
      const int64_t i0 = M_TILES * MR;
      GR_TILE(TAIL_ROWS, COLS, TILE_TC)
    }
#endif
  }
#if NV_TAIL
  {
    const int64_t j0 = N_TILES * NV;
    for (int64_t ti = 0; ti < M_TILES; ti++) {
      const int64_t i0 = ti * MR;
      GR_TILE(ROWS, TAIL_COLS, TILE_RT)
    }
#if MR_TAIL
    {
      const int64_t i0 = M_TILES * MR;
      GR_TILE(TAIL_ROWS, TAIL_COLS, TILE_TT)
    }
#endif
  }
#endif
}

#undef GR_LAST
#undef GR_DECLARE
#undef GR_INIT
#undef GR_C
#undef GR_LOAD_B
#undef GR_BROADCAST_A
#undef GR_FMA
#undef GR_STORE
#undef GR_TILE
