/* Winograd convolution F(m x m, 3 x 3), m = 4 or 2: a stride-1, dilation-1, ungrouped 3x3 convolution on NCHWc
 * tensors, with the anchor's fused epilogue applied as each output pixel is stored.
 *
 * Algorithm (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks"). The output is cut into m x m
 * tiles; tile t reads an a x a input patch d (a = m + 2, zero outside the input). Per channel,
 *     Y_t = A^T [ (G g G^T) .* (B^T d_t B) ] A
 * so with U = G g G^T (weights, transformed at compile time) and V_t = B^T d_t B (input, at run time), the sum
 * over input channels becomes, for each of the a*a transformed points xi, one matrix product
 *     M[xi] (tiles x K) = V[xi] (tiles x C) * U[xi] (C x K)
 * and the output transform A^T M A turns a*a products into m*m outputs: 36 multiplies per 16 outputs for
 * F(4x4,3x3) (2.25 per output, against 9 for a direct convolution), 16 per 4 for F(2x2,3x3) (4 per output).
 * Interpolation points 0, 1, -1, 2, -2 (and infinity) for F(4x4,3x3), 0, 1, -1 for F(2x2,3x3): the transforms
 * below are written out by hand with those coefficients (B^T and A^T; G is the compiler's).
 *
 * Schedule. Tiles run in blocks of TB. For one block the input transform fills V (all a*a points, all input
 * channels); then, one chunk of KC output-channel blocks at a time, a*a small matrix products fill M, and the
 * output transform drains M into the output through the epilogue. The compiler sizes the blocks so that V and M
 * stay in L2 (mostly in L1) between the transforms and the products; the weights stream through once per block,
 * prefetched ahead. The products' register tile is R tiles x J vectors of output channels: per input channel, R
 * broadcasts of V and J loads of U feed R*J fused multiply-adds.
 *
 * Layouts (VLEN = vector width in floats; CB = ceil(C / VLEN), KB = ceil(K / VLEN)):
 *   x     input  (N, CB, H, W, VLEN): NCHWc, channels past C zero
 *   u     weights, zero for c >= C or output channel >= K:
 *         transformed (a*a, KB / J, CB * VLEN, J * VLEN): for point xi and panel p of J output-channel vectors,
 *           row c holds U[xi][c][p*J*VLEN ...];
 *         or with WINO_TRANSFORM_WEIGHTS, as they are (KB / J, CB * VLEN, 9, J * VLEN): per panel, per input
 *           channel, the 3x3 taps of the panel's output channels
 *   bias  (KB, VLEN), when HAS_BIAS
 *   res   like y, read only by EPILOGUE (a fused residual Add)
 *   y     output (N, KB, OH, OW, VLEN), or with a fused pool (N, KB, PH, PW, VLEN); may not overlap x (tiles
 *         read their neighbours' pixels)
 *   work  scratch of a*a * TB * (CB + KC) * VLEN floats (a*a * VLEN * J * VLEN more with WINO_TRANSFORM_WEIGHTS):
 *         V (TB / R, CB, a*a, R, VLEN): per group of R tiles, per input-channel block, per point, R tile
 *                                       vectors (a tile's 36 points for one channel block lie within R*36
 *                                       vectors, so the input transform's stores stay close together)
 *         M (KC, a*a, TB, VLEN):        per output-channel block of the chunk, per point, TB tile vectors
 *         U (a*a, VLEN, J * VLEN):      with WINO_TRANSFORM_WEIGHTS, one channel block of one panel, transformed
 *
 * Parameters (integer constants the instantiation defines; the instantiation #undefs them after the text):
 *   FN              the function: FN(x, u, bias, res, y, work)
 *   WINO_M          2 or 4: output tile side
 *   WINO_N, WINO_C, WINO_K, WINO_H, WINO_W   batch, input and output channels, input height and width
 *   WINO_OH, WINO_OW                         output height and width (stride 1: H + pads - 2)
 *   WINO_PAD_T, WINO_PAD_L                   padding before the first row and column
 *   WINO_TB         tiles per block, a multiple of WINO_R
 *   WINO_R, WINO_J  register tile: tiles by output-channel vectors
 *   WINO_KC         output-channel blocks per chunk: a multiple of WINO_J that divides KB
 *   WINO_COLS(X)    X(0) ... X(J-1)                } the register tile, unrolled
 *   WINO_TILE(X)    X(r, j) for every r < R, j < J  }
 *   WINO_SPLIT      1, or 2 for a register tile too small to hide the FMA latency (R * J < 8): even and odd
 *                   input channels then go to two sets of accumulators, added at the end
 *   WINO_PREFETCH   how far ahead (in floats) the products prefetch the weights they stream; 0 for none
 *   WINO_TRANSFORM_WEIGHTS  1: u holds the weights as they are, and U = G g G^T is computed here, one channel
 *                   block of one panel at a time, just before the products use it. For layers with few tiles,
 *                   whose products use each transformed weight only a few times, this reads 9 floats instead
 *                   of a*a per weight from memory, at the price of the transform
 *   HAS_BIAS        0 or 1
 *   EPILOGUE(acc, at)  the vector stored at y + at from acc, the transformed output plus bias (activation,
 *                      residual at res + at, post-activation: compiler/template.c, tpl_epilogue)
 *   OC_LAST         the channels in use in output block KB - 1 (1 .. VLEN)
 *   ZERO_PAD_LANES  1 when EPILOGUE maps 0 to something else and OC_LAST < VLEN: the padded lanes are then
 *                   cleared, so they stay zero as NCHWc promises
 *   WINO_POOL       0, or a fused pool after the epilogue: 1 MaxPool, 2 AveragePool, with windows of
 *                   WINO_POOL_H x WINO_POOL_W pixels at that stride and no padding, the sides dividing WINO_M, so
 *                   every window lies inside one tile: the output transform pools the tile's pixels it has in
 *                   registers and L1, and the Conv's result is never stored. WINO_PH, WINO_PW: the pooled size
 *                   (OH / POOL_H, OW / POOL_W rounded down; the rows and columns past them are not stored). EPILOGUE
 *                   then may not read res (the fusion allows no residual Add before a pool here)
 */

#define WINO_PASTE2(a, b) a##b
#define WINO_PASTE(a, b) WINO_PASTE2(a, b)
#define WINO_LOCAL(name) WINO_PASTE(FN, name)

#define WINO_A (WINO_M + 2)
#define WINO_POINTS (WINO_A * WINO_A)
#define WINO_CB ((WINO_C + VLEN - 1) / VLEN)
#define WINO_KB ((WINO_K + VLEN - 1) / VLEN)
#define WINO_TH ((WINO_OH + WINO_M - 1) / WINO_M)
#define WINO_TW ((WINO_OW + WINO_M - 1) / WINO_M)
#define WINO_TILES (WINO_N * WINO_TH * WINO_TW)
#define WINO_BLOCKS ((WINO_TILES + WINO_TB - 1) / WINO_TB)
#define WINO_V_P (WINO_R * VLEN)                            /* V: between transformed points */
#define WINO_V_CB (WINO_POINTS * WINO_R * VLEN)             /*    between input-channel blocks */
#define WINO_V_RB (WINO_CB * WINO_POINTS * WINO_R * VLEN)   /*    between groups of R tiles */
#define WINO_M_P (WINO_TB * VLEN)                           /* M: between transformed points */
#define WINO_M_KB (WINO_POINTS * WINO_TB * VLEN)            /*    between output-channel blocks */

#if WINO_TB % WINO_R != 0 || WINO_KC % WINO_J != 0 || WINO_KB % WINO_KC != 0
#error "winograd.c: WINO_TB must be a multiple of WINO_R, WINO_KC a multiple of WINO_J and a divisor of KB"
#endif
#if WINO_POOL && (WINO_M % WINO_POOL_H != 0 || WINO_M % WINO_POOL_W != 0)
#error "winograd.c: a fused pool's window sides must divide WINO_M"
#endif

/* The one-dimensional transforms do not depend on the layer: defined once per file (a file may use only some). The input ones read their
 * vectors at in + i * is and write them at out + i * os; the output ones read at p + i * s into named vectors,
 * which the caller sends through the epilogue. */
#ifndef CNNC_WINOGRAD_TRANSFORMS
#define CNNC_WINOGRAD_TRANSFORMS

/* B^T for F(2,3): rows (1 0 -1 0) (0 1 1 0) (0 -1 1 0) (0 1 0 -1). */
__attribute__((unused)) static inline void wino_input_1d_2(const float *in, ptrdiff_t is, float *out, ptrdiff_t os) {
  const vfloat d0 = vload(in), d1 = vload(in + is), d2 = vload(in + 2 * is), d3 = vload(in + 3 * is);
  vstore(out, vsub(d0, d2));
  vstore(out + os, vadd(d1, d2));
  vstore(out + 2 * os, vsub(d2, d1));
  vstore(out + 3 * os, vsub(d1, d3));
}

/* B^T for F(4,3): rows (4 0 -5 0 1 0) (0 -4 -4 1 1 0) (0 4 -4 -1 1 0) (0 -2 -1 2 1 0) (0 2 -1 -2 1 0)
 * (0 4 0 -5 0 1). Rows 1, 2 and rows 3, 4 are even +- odd parts, which share their terms: 12 operations. */
__attribute__((unused)) static inline void wino_input_1d_4(const float *in, ptrdiff_t is, float *out, ptrdiff_t os) {
  const vfloat d0 = vload(in), d1 = vload(in + is), d2 = vload(in + 2 * is), d3 = vload(in + 3 * is),
               d4 = vload(in + 4 * is), d5 = vload(in + 5 * is);
  const vfloat four = vbroadcast(4.0f), minus_four = vbroadcast(-4.0f), minus_five = vbroadcast(-5.0f);
  const vfloat two = vbroadcast(2.0f), minus_two = vbroadcast(-2.0f);
  const vfloat even4 = vfmadd(minus_four, d2, d4), odd4 = vfmadd(minus_four, d1, d3);
  const vfloat even2 = vsub(d4, d2), odd2 = vsub(d3, d1);
  vstore(out, vfmadd(four, d0, vfmadd(minus_five, d2, d4)));
  vstore(out + os, vadd(even4, odd4));
  vstore(out + 2 * os, vsub(even4, odd4));
  vstore(out + 3 * os, vfmadd(two, odd2, even2));
  vstore(out + 4 * os, vfmadd(minus_two, odd2, even2));
  vstore(out + 5 * os, vfmadd(four, d1, vfmadd(minus_five, d3, d5)));
}

/* A^T for F(2,3): rows (1 1 1 0) (0 1 -1 -1), on m_k = vload(p + k * s), into y0, y1. */
#define WINO_OUTPUT_1D_2(p, s, y0, y1)                                                                             \
  do {                                                                                                             \
    const vfloat m0_ = vload(p), m1_ = vload((p) + (s)), m2_ = vload((p) + 2 * (s)), m3_ = vload((p) + 3 * (s));   \
    y0 = vadd(vadd(m0_, m1_), m2_);                                                                                \
    y1 = vsub(vsub(m1_, m2_), m3_);                                                                                \
  } while (0)

/* A^T for F(4,3): rows (1 1 1 1 1 0) (0 1 -1 2 -2 0) (0 1 1 4 4 0) (0 1 -1 8 -8 1), into y0 .. y3: 10
 * operations, sharing the sums and differences of the +-1 and +-2 points. */
#define WINO_OUTPUT_1D_4(p, s, y0, y1, y2, y3)                                                                     \
  do {                                                                                                             \
    const vfloat m1_ = vload((p) + (s)), m2_ = vload((p) + 2 * (s)), m3_ = vload((p) + 3 * (s)),                   \
                 m4_ = vload((p) + 4 * (s));                                                                       \
    const vfloat s12_ = vadd(m1_, m2_), d12_ = vsub(m1_, m2_), s34_ = vadd(m3_, m4_), d34_ = vsub(m3_, m4_);       \
    y0 = vadd(vadd(vload(p), s12_), s34_);                                                                         \
    y1 = vfmadd(vbroadcast(2.0f), d34_, d12_);                                                                     \
    y2 = vfmadd(vbroadcast(4.0f), s34_, s12_);                                                                     \
    y3 = vadd(vfmadd(vbroadcast(8.0f), d34_, d12_), vload((p) + 5 * (s)));                                         \
  } while (0)

/* G for F(2,3) on g0, g1, g2 into r0 .. r3: rows (1 0 0) (1/2 1/2 1/2) (1/2 -1/2 1/2) (0 0 1). */
#define WINO_WEIGHT_1D_2(g0, g1, g2, r0, r1, r2, r3)                                                              \
  do {                                                                                                             \
    const vfloat even_ = vmul(vbroadcast(0.5f), vadd(g0, g2));                                                     \
    r0 = g0;                                                                                                       \
    r1 = vfmadd(vbroadcast(0.5f), g1, even_);                                                                      \
    r2 = vfmadd(vbroadcast(-0.5f), g1, even_);                                                                     \
    r3 = g2;                                                                                                       \
  } while (0)

/* G for F(4,3) on g0, g1, g2 into r0 .. r5: rows (1/4 0 0) (-1/6 -1/6 -1/6) (-1/6 1/6 -1/6) (1/24 1/12 1/6)
 * (1/24 -1/12 1/6) (0 0 1). */
#define WINO_WEIGHT_1D_4(g0, g1, g2, r0, r1, r2, r3, r4, r5)                                                      \
  do {                                                                                                             \
    const vfloat even6_ = vmul(vbroadcast(-1.0f / 6), vadd(g0, g2)), odd6_ = vmul(vbroadcast(1.0f / 6), g1);       \
    const vfloat even24_ = vfmadd(vbroadcast(1.0f / 24), g0, vmul(vbroadcast(1.0f / 6), g2));                      \
    const vfloat odd12_ = vmul(vbroadcast(1.0f / 12), g1);                                                         \
    r0 = vmul(vbroadcast(0.25f), g0);                                                                              \
    r1 = vsub(even6_, odd6_);                                                                                      \
    r2 = vadd(even6_, odd6_);                                                                                      \
    r3 = vadd(even24_, odd12_);                                                                                    \
    r4 = vsub(even24_, odd12_);                                                                                    \
    r5 = g2;                                                                                                       \
  } while (0)

#endif /* CNNC_WINOGRAD_TRANSFORMS */

#define WINO_INPUT_1D WINO_PASTE(wino_input_1d_, WINO_M)
#if WINO_M == 4
#define WINO_ALPHA(X) X(0) X(1) X(2) X(3) X(4) X(5) /* 0 .. a - 1, twice: lists cannot nest in themselves */
#define WINO_ALPHA2(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define WINO_WEIGHT_1D(g0, g1, g2, r) WINO_WEIGHT_1D_4(g0, g1, g2, r##0, r##1, r##2, r##3, r##4, r##5)
#else
#define WINO_ALPHA(X) X(0) X(1) X(2) X(3)
#define WINO_ALPHA2(X) X(0) X(1) X(2) X(3)
#define WINO_WEIGHT_1D(g0, g1, g2, r) WINO_WEIGHT_1D_2(g0, g1, g2, r##0, r##1, r##2, r##3)
#endif
#if WINO_M == 4
#define WINO_OUTPUTS(X) X(0) X(1) X(2) X(3)
#define WINO_OUTPUT_1D(p, s) WINO_OUTPUT_1D_4(p, s, y0, y1, y2, y3)
#else
#define WINO_OUTPUTS(X) X(0) X(1)
#define WINO_OUTPUT_1D(p, s) WINO_OUTPUT_1D_2(p, s, y0, y1)
#endif

/* Transforms the input patch of `tile` for every input-channel block into V; v is the tile's slot at point 0,
 * channel block 0. A tile past the last (padding of the last block) gets zeros. */
static inline void WINO_LOCAL(_input)(const float *restrict x, int tile, float *restrict v) {
  float patch[WINO_A * WINO_A * VLEN], rows[WINO_A * WINO_A * VLEN];
  if (tile >= WINO_TILES) {
    for (int cb = 0; cb < WINO_CB; cb++)
      for (int p = 0; p < WINO_POINTS; p++)
        vstore(v + p * WINO_V_P + cb * WINO_V_CB, vzero());
    return;
  }
  const int n = tile / (WINO_TH * WINO_TW), ty = tile / WINO_TW % WINO_TH, tx = tile % WINO_TW;
  const int iy = ty * WINO_M - WINO_PAD_T, ix = tx * WINO_M - WINO_PAD_L;
  const int inside = iy >= 0 && iy + WINO_A <= WINO_H && ix >= 0 && ix + WINO_A <= WINO_W;
  for (int cb = 0; cb < WINO_CB; cb++) {
    const float *src = x + (ptrdiff_t)(n * WINO_CB + cb) * WINO_H * WINO_W * VLEN;
    const float *d = src + ((ptrdiff_t)iy * WINO_W + ix) * VLEN;
    ptrdiff_t row_stride = WINO_W * VLEN;
    if (!inside) { /* a border tile: copy what lies inside the input into a zeroed patch */
      for (int i = 0; i < WINO_A; i++)
        for (int j = 0; j < WINO_A; j++) {
          const int yy = iy + i, xx = ix + j;
          const int in = yy >= 0 && yy < WINO_H && xx >= 0 && xx < WINO_W;
          vstore(patch + (i * WINO_A + j) * VLEN, in ? vload(src + ((ptrdiff_t)yy * WINO_W + xx) * VLEN) : vzero());
        }
      d = patch;
      row_stride = WINO_A * VLEN;
    }
    for (int i = 0; i < WINO_A; i++) /* along each row: rows[i][j] = (d B)[i][j] */
      WINO_INPUT_1D(d + i * row_stride, VLEN, rows + i * WINO_A * VLEN, VLEN);
    for (int j = 0; j < WINO_A; j++) /* down each column: V[i][j] = (B^T d B)[i][j], point i * a + j */
      WINO_INPUT_1D(rows + j * VLEN, WINO_A * VLEN, v + cb * WINO_V_CB + j * WINO_V_P, WINO_A * WINO_V_P);
  }
}

/* The products of one register tile over `blocks` input-channel blocks: R tiles (a: V of one point and one
 * group of tiles, R vectors per input channel) by J output-channel vectors (b: weights, J vectors per input
 * channel), added to M when `accumulate`, else stored. Tile r, vector j is at m + j * M_KB + r * VLEN. */
static inline void WINO_LOCAL(_product)(const float *restrict a, const float *restrict b, float *restrict m,
                                        int blocks, int accumulate) {
#define WINO_ACC_INIT(r, j) vfloat acc_##r##_##j = accumulate ? vload(m + (j) * WINO_M_KB + (r) * VLEN) : vzero();
#define WINO_B_LOAD(j)                                                                                             \
  const vfloat b_##j = vload(b + (j) * VLEN);                                                                      \
  if (WINO_PREFETCH && !WINO_TRANSFORM_WEIGHTS)                                                                    \
    __builtin_prefetch(b + (j) * VLEN + WINO_PREFETCH);
#define WINO_ACC_FMA(r, j) acc_##r##_##j = vfmadd(vbroadcast(a[(r) * VLEN]), b_##j, acc_##r##_##j);
#define WINO_ACC_STORE(r, j) vstore(m + (j) * WINO_M_KB + (r) * VLEN, acc_##r##_##j);
#define WINO_ODD_INIT(r, j) vfloat odd_##r##_##j = vzero();
#define WINO_ODD_B_LOAD(j) const vfloat odd_b_##j = vload(b + (WINO_J + (j)) * VLEN);
#define WINO_ODD_FMA(r, j) odd_##r##_##j = vfmadd(vbroadcast(a[(r) * VLEN + 1]), odd_b_##j, odd_##r##_##j);
#define WINO_ODD_MERGE(r, j) acc_##r##_##j = vadd(acc_##r##_##j, odd_##r##_##j);
  WINO_TILE(WINO_ACC_INIT)
#if WINO_SPLIT == 2
  WINO_TILE(WINO_ODD_INIT)
#endif
  for (int cb = 0; cb < blocks; cb++) {
    for (int c = 0; c < VLEN; c += WINO_SPLIT) {
      WINO_COLS(WINO_B_LOAD)
      WINO_TILE(WINO_ACC_FMA)
#if WINO_SPLIT == 2
      WINO_COLS(WINO_ODD_B_LOAD)
      WINO_TILE(WINO_ODD_FMA)
#endif
      a += WINO_SPLIT;
      b += WINO_SPLIT * WINO_J * VLEN;
    }
    a += WINO_V_CB - VLEN;
  }
#if WINO_SPLIT == 2
  WINO_TILE(WINO_ODD_MERGE)
#endif
  WINO_TILE(WINO_ACC_STORE)
#undef WINO_ACC_INIT
#undef WINO_B_LOAD
#undef WINO_ACC_FMA
#undef WINO_ACC_STORE
#undef WINO_ODD_INIT
#undef WINO_ODD_B_LOAD
#undef WINO_ODD_FMA
#undef WINO_ODD_MERGE
}

#if WINO_TRANSFORM_WEIGHTS
/* U = G g G^T for the VLEN input channels of block cb and the J output-channel vectors of one panel (g: the
 * panel's weights, (CB * VLEN, 9, J * VLEN)), into ub (a*a, VLEN, J * VLEN): what the products of one channel
 * block read, point by point. Each channel's 9 taps become 3 x a, then a x a vectors in registers; only U is
 * stored. */
static inline void WINO_LOCAL(_weights)(const float *restrict g, int cb, float *restrict ub) {
  enum { JV = WINO_J * VLEN };
#define WINO_DECLARE_ROWS(x) vfloat t0_##x, t1_##x, t2_##x;
#define WINO_STORE_U(i) vstore(out + (i) * WINO_A * VLEN * JV, u##i);
#define WINO_COLUMN(x)                                                                                             \
  {                                                                                                                \
    WINO_ALPHA2(WINO_DECLARE_U)                                                                                    \
    float *out = ub + ((x) * VLEN + c) * JV + j * VLEN; /* point i * a + x */                                      \
    WINO_WEIGHT_1D(t0_##x, t1_##x, t2_##x, u);                                                                     \
    WINO_ALPHA2(WINO_STORE_U)                                                                                      \
  }
#define WINO_DECLARE_U(i) vfloat u##i;
  g += (ptrdiff_t)cb * VLEN * 9 * JV;
  for (int c = 0; c < VLEN; c++)
    for (int j = 0; j < WINO_J; j++) {
      const float *taps = g + c * 9 * JV + j * VLEN;
      if (WINO_PREFETCH)
        for (int t = 0; t < 9; t++)
          __builtin_prefetch(taps + t * JV + VLEN * 9 * JV);
      const vfloat g00 = vload(taps), g01 = vload(taps + JV), g02 = vload(taps + 2 * JV);
      const vfloat g10 = vload(taps + 3 * JV), g11 = vload(taps + 4 * JV), g12 = vload(taps + 5 * JV);
      const vfloat g20 = vload(taps + 6 * JV), g21 = vload(taps + 7 * JV), g22 = vload(taps + 8 * JV);
      WINO_ALPHA(WINO_DECLARE_ROWS)
      WINO_WEIGHT_1D(g00, g01, g02, t0_); /* along each kernel row: (g G^T)[ky][x] */
      WINO_WEIGHT_1D(g10, g11, g12, t1_);
      WINO_WEIGHT_1D(g20, g21, g22, t2_);
      WINO_ALPHA(WINO_COLUMN) /* down each column: U[i][x] = (G g G^T)[i][x] */
    }
#undef WINO_DECLARE_ROWS
#undef WINO_STORE_U
#undef WINO_COLUMN
#undef WINO_DECLARE_U
}
#endif

/* Transforms M back for `tile` and output-channel block kb (m: its slot at point 0) and stores the pixels that
 * lie inside the output through the epilogue; with a fused pool, the tile's pixels through the epilogue into
 * `pixels`, then its pooled pixels that lie inside the pooled output. */
static inline void WINO_LOCAL(_output)(const float *restrict m, int tile, int kb, const float *restrict bias,
                                       const float *restrict res, float *restrict y) {
#define WINO_DECLARE(i) vfloat y##i;
#if WINO_POOL
#define WINO_PUT(i)                                                                                                \
  if (oy + (i) < WINO_OH)                                                                                          \
    vstore(pixels + ((i) * WINO_M + j) * VLEN, EPILOGUE(WINO_BIAS(y##i), 0));
  float pixels[WINO_M * WINO_M * VLEN];
#else
#define WINO_PUT(i)                                                                                                \
  if (oy + (i) < WINO_OH) {                                                                                        \
    const ptrdiff_t at = ((((ptrdiff_t)n * WINO_KB + kb) * WINO_OH + oy + (i)) * WINO_OW + ox + j) * VLEN;          \
    vstore(y + at, WINO_PAD(EPILOGUE(WINO_BIAS(y##i), at)));                                                       \
  }
#endif
#if HAS_BIAS
  const vfloat b = vload(bias + kb * VLEN);
#define WINO_BIAS(v) vadd((v), b)
#else
#define WINO_BIAS(v) (v)
#endif
#if ZERO_PAD_LANES
#define WINO_PAD(v) (kb == WINO_KB - 1 ? vkeep_lanes((v), OC_LAST) : (v))
#else
#define WINO_PAD(v) (v)
#endif
  (void)bias;
  (void)res;
  float rows[WINO_A * WINO_M * VLEN];
  const int n = tile / (WINO_TH * WINO_TW), ty = tile / WINO_TW % WINO_TH, tx = tile % WINO_TW;
  const int oy = ty * WINO_M, ox = tx * WINO_M;
  for (int i = 0; i < WINO_A; i++) { /* along each row: rows[i][j] = (M A)[i][j] */
    WINO_OUTPUTS(WINO_DECLARE)
    WINO_OUTPUT_1D(m + i * WINO_A * WINO_M_P, WINO_M_P);
#define WINO_ROW_KEEP(j) vstore(rows + (i * WINO_M + (j)) * VLEN, y##j);
    WINO_OUTPUTS(WINO_ROW_KEEP)
#undef WINO_ROW_KEEP
  }
  for (int j = 0; j < WINO_M && ox + j < WINO_OW; j++) { /* down each column: Y = A^T M A, out through the epilogue */
    WINO_OUTPUTS(WINO_DECLARE)
    WINO_OUTPUT_1D(rows + j * VLEN, WINO_M * VLEN);
    WINO_OUTPUTS(WINO_PUT)
  }
#if WINO_POOL
  for (int py = 0; py < WINO_M / WINO_POOL_H && oy / WINO_POOL_H + py < WINO_PH; py++)
    for (int px = 0; px < WINO_M / WINO_POOL_W && ox / WINO_POOL_W + px < WINO_PW; px++) {
      const float *window = pixels + (py * WINO_POOL_H * WINO_M + px * WINO_POOL_W) * VLEN;
      vfloat acc = vload(window);
      for (int i = 0; i < WINO_POOL_H; i++)
        for (int j = i == 0; j < WINO_POOL_W; j++)
          acc = WINO_POOL == 1 ? vmax(vload(window + (i * WINO_M + j) * VLEN), acc)
                               : vadd(acc, vload(window + (i * WINO_M + j) * VLEN));
      if (WINO_POOL == 2)
        acc = vmul(acc, vbroadcast(1.0f / (WINO_POOL_H * WINO_POOL_W)));
      const ptrdiff_t at =
          ((((ptrdiff_t)n * WINO_KB + kb) * WINO_PH + oy / WINO_POOL_H + py) * WINO_PW + ox / WINO_POOL_W + px) * VLEN;
      vstore(y + at, WINO_PAD(acc));
    }
#endif
#undef WINO_DECLARE
#undef WINO_PUT
#undef WINO_BIAS
#undef WINO_PAD
}

static void FN(const float *restrict x, const float *restrict u, const float *restrict bias,
               const float *restrict res, float *restrict y, float *restrict work) {
  float *restrict v = work;
  float *restrict m = work + WINO_POINTS * WINO_TB * WINO_CB * VLEN;
  for (int block = 0; block < WINO_BLOCKS; block++) {
    const int first = block * WINO_TB;
    for (int t = 0; t < WINO_TB; t++)
      WINO_LOCAL(_input)(x, first + t, v + (t / WINO_R) * WINO_V_RB + (t % WINO_R) * VLEN);
    for (int kc = 0; kc < WINO_KB; kc += WINO_KC) {
#if WINO_TRANSFORM_WEIGHTS
      /* per panel and channel block: transform the weights, then every point's products with them */
      float *restrict ub = m + WINO_POINTS * WINO_KC * WINO_TB * VLEN;
      for (int kp = 0; kp < WINO_KC; kp += WINO_J)
        for (int cb = 0; cb < WINO_CB; cb++) {
          WINO_LOCAL(_weights)(u + (ptrdiff_t)(kc + kp) * WINO_CB * VLEN * 9 * VLEN, cb, ub);
          for (int p = 0; p < WINO_POINTS; p++)
            for (int rb = 0; rb < WINO_TB; rb += WINO_R)
              WINO_LOCAL(_product)(v + p * WINO_V_P + rb / WINO_R * WINO_V_RB + cb * WINO_V_CB,
                                   ub + p * VLEN * WINO_J * VLEN, m + p * WINO_M_P + kp * WINO_M_KB + rb * VLEN,
                                   1, cb > 0);
        }
#else
      for (int p = 0; p < WINO_POINTS; p++)
        for (int kp = 0; kp < WINO_KC; kp += WINO_J)
          for (int rb = 0; rb < WINO_TB; rb += WINO_R)
            WINO_LOCAL(_product)(v + p * WINO_V_P + rb / WINO_R * WINO_V_RB,
                                 u + ((ptrdiff_t)p * WINO_KB + kc + kp) * WINO_CB * VLEN * VLEN,
                                 m + p * WINO_M_P + kp * WINO_M_KB + rb * VLEN, WINO_CB, 0);
#endif
      for (int t = 0; t < WINO_TB && first + t < WINO_TILES; t++)
        for (int kb = 0; kb < WINO_KC; kb++)
          WINO_LOCAL(_output)(m + kb * WINO_M_KB + t * VLEN, first + t, kc + kb, bias, res, y);
    }
  }
}

#undef WINO_PASTE2
#undef WINO_PASTE
#undef WINO_LOCAL
#undef WINO_A
#undef WINO_POINTS
#undef WINO_CB
#undef WINO_KB
#undef WINO_TH
#undef WINO_TW
#undef WINO_TILES
#undef WINO_BLOCKS
#undef WINO_V_P
#undef WINO_V_CB
#undef WINO_V_RB
#undef WINO_M_P
#undef WINO_M_KB
#undef WINO_INPUT_1D
#undef WINO_WEIGHT_1D
#undef WINO_ALPHA
#undef WINO_ALPHA2
#undef WINO_OUTPUT_1D
#undef WINO_OUTPUTS
