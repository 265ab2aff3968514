/* conv_wgrad.c: the weight gradient of a stride-1 2-D convolution (group 1), summed over the batch, computed
 * directly from X and dY without unfolding either:
 *
 *   dw[m][c][kh][kw] = sum over n, oh, ow of dy[n][m][oh][ow] * x[n][c][oh + kh * DH - PT][ow + kw * DW - PL]
 *
 * (x is 0 outside the image). Vectors run along the output columns ow, so the kernel suits layers with few
 * maps and wide rows (LeNet-5's first layer: 6 maps of 28 columns, where dW^T's rows would fill 6 lanes of 16).
 * The register tile is MB maps by the KW kernel columns: for one input channel c and kernel row kh, each vector
 * of an output row loads KW shifted vectors of the X row it meets and MB vectors of dY, and multiplies them
 * into MB * KW accumulators. Per lane these hold partial sums over the rows and the batch; they live in `sums`
 * between images (one image's X and dY stay in L1 while every tap is summed over it) and are added across
 * lanes at the end.
 *
 * X is copied one image at a time into a zero-bordered buffer whose rows are XW floats (column j holds input
 * column j - PL), so the shifted loads need no bounds; input rows outside the image contribute nothing and
 * are skipped. The last vector of an output row loads OW_LAST lanes of dY, the others 0: its lanes past the
 * row multiply X values by 0 (an infinite X there would make the sum NaN, as it makes the forward's output).
 *
 * Layouts: x [BATCH][C][IH][IW], dy [BATCH][M][OH][OW], dw [M][C][KH][KW], all dense.
 * Parameters (macros the instantiation defines):
 *   FN                         the function: FN(x, dy, dw)
 *   BATCH C M                  images, input channels, maps (output channels)
 *   IH IW OH OW KH KW DH DW    input, output and kernel sizes, dilations
 *   PT PL                      the pads before the rows and the columns (stride 1: OW = IW + PL + PR -
 *                              (KW - 1) * DW, likewise OH)
 *   XW                         row length of the X copy: >= OW_VECTORS * VLEN + (KW - 1) * DW and >= PL + IW
 *   OW_FULL OW_LAST            whole vectors per output row, lanes of the partial one after them (0: none)
 *   MB M_BLOCKS MB_TAIL        maps per register tile, whole tiles, maps of the last tile (0: none)
 *   MAPS(X), TAIL_MAPS(X)      X(0) ... X(MB - 1), X(0) ... X(MB_TAIL - 1)
 *   TAPS(X)                    X(0) ... X(KW - 1)
 *   TILE(X), TAIL_TILE(X)      the (map, kernel column) pairs of the two tiles */
#ifndef VLEN
#error "conv_wgrad.c is instantiated after simd.h"
#endif

#define WG_DECLARE(r, k) vfloat acc_##r##_##k;
#define WG_SUMS(r, k) (sums_ck + ((m0 + (r)) * KW + (k)) * VLEN)
#define WG_START(r, k) acc_##r##_##k = n == 0 ? vzero() : vload(WG_SUMS(r, k));
#define WG_KEEP(r, k) vstore(WG_SUMS(r, k), acc_##r##_##k);
#define WG_LOAD_X(k) const vfloat x_##k = vload(xv + (k) * DW);
#define WG_LOAD_DY(r) const vfloat dy_##r = vload(dyv + (r) * (OH * OW));
#define WG_LOAD_DY_LAST(r) const vfloat dy_##r = vload_partial(dyv + (r) * (OH * OW), OW_LAST);
#define WG_FMA(r, k) acc_##r##_##k = vfmadd(dy_##r, x_##k, acc_##r##_##k);

/* The tile of maps m0.. over the rows of channel c and kernel row kh, for image n. */
#define WG_TILE(MAPS_OF, TILE_OF)                                                                                \
  {                                                                                                              \
    TILE_OF(WG_DECLARE)                                                                                          \
    TILE_OF(WG_START)                                                                                            \
    for (int oh = oh_begin; oh < oh_end; oh++) {                                                                 \
      const float *x_row = xpad + (c * IH + oh + kh * DH - PT) * XW;                                             \
      const float *dy_row = dy_n + m0 * (OH * OW) + oh * OW;                                                     \
      for (int v = 0; v < OW_FULL; v++) {                                                                        \
        const float *xv = x_row + v * VLEN, *dyv = dy_row + v * VLEN;                                            \
        TAPS(WG_LOAD_X)                                                                                          \
        MAPS_OF(WG_LOAD_DY)                                                                                      \
        TILE_OF(WG_FMA)                                                                                          \
      }                                                                                                          \
      if (OW_LAST) {                                                                                             \
        const float *xv = x_row + OW_FULL * VLEN, *dyv = dy_row + OW_FULL * VLEN;                                \
        TAPS(WG_LOAD_X)                                                                                          \
        MAPS_OF(WG_LOAD_DY_LAST)                                                                                 \
        TILE_OF(WG_FMA)                                                                                          \
      }                                                                                                          \
    }                                                                                                            \
    TILE_OF(WG_KEEP)                                                                                             \
  }

static void FN(const float *restrict x, const float *restrict dy, float *restrict dw) {
  static float xpad[C * IH * XW];          /* one image, zero-bordered; the borders are never written */
  static float sums[C * KH * M * KW * VLEN]; /* per (c, kh, m, kw): partial sums per lane */
  for (int n = 0; n < BATCH; n++) {
    const float *x_n = x + n * (C * IH * IW), *dy_n = dy + n * (M * OH * OW);
    for (int r = 0; r < C * IH; r++)
      for (int j = 0; j < IW; j++)
        xpad[r * XW + PL + j] = x_n[r * IW + j];
    for (int c = 0; c < C; c++) {
      for (int kh = 0; kh < KH; kh++) {
        /* the output rows whose input row is inside the image */
        const int oh_begin = PT - kh * DH > 0 ? PT - kh * DH : 0;
        const int oh_end = IH + PT - kh * DH < OH ? IH + PT - kh * DH : OH;
        float *sums_ck = sums + (c * KH + kh) * (M * KW * VLEN);
        for (int b = 0; b < M_BLOCKS; b++) {
          const int m0 = b * MB;
          WG_TILE(MAPS, TILE)
        }
#if MB_TAIL
        {
          const int m0 = M_BLOCKS * MB;
          WG_TILE(TAIL_MAPS, TAIL_TILE)
        }
#endif
      }
    }
  }
  for (int m = 0; m < M; m++)
    for (int c = 0; c < C; c++)
      for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++)
          dw[((m * C + c) * KH + kh) * KW + kw] = vreduce_add(vload(sums + (((c * KH + kh) * M + m) * KW + kw) * VLEN));
}

#undef WG_DECLARE
#undef WG_SUMS
#undef WG_START
#undef WG_KEEP
#undef WG_LOAD_X
#undef WG_LOAD_DY
#undef WG_LOAD_DY_LAST
#undef WG_FMA
#undef WG_TILE
