/* MaxPool and AveragePool over 2-D windows on NCHWc data.
 *
 *   x (BATCH, CB, IH, IW, VLEN)  NCHWc input, CB = ceil(CHANNELS / VLEN) channel blocks, padding lanes zero
 *   y (BATCH, CB, OH, OW, VLEN)  y[c][oh][ow] = max or mean of x[c][oh*SH - PT + kh*DH][ow*SW - PL + kw*DW]
 *                                over the taps (kh, kw) inside the input
 *
 * Padding never contributes a value. The mean sums the taps row by row, as the generic target does, and divides
 * by the taps inside the input, or with COUNT_INCLUDE_PAD by the taps inside the padded input, rows
 * [-PT, IH + PB) and columns [-PL, IW + PR): a ceil_mode window can reach past even that, and those taps are not
 * counted. The maximum starts at -infinity and takes `v > max ? v : max` per tap, so NaN inputs are passed over
 * as in the generic target. Padding lanes stay zero (the max and the mean of zeros).
 *
 * Like the depthwise convolution: a vector holds one pixel's VLEN channels; one output row of one channel
 * block at a time (FN_row); the columns whose window lies inside the input in register tiles of TILE's pixels,
 * the edge columns one pixel at a time, skipping taps in the padding, and kernel rows in the padding as NULL
 * row pointers, so a fused producer (conv + ReLU + pool) can hand FN_row its rows without storing its output.
 *
 * Parameters (integer constants): FN, BATCH, CHANNELS, IH, IW, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR
 * (padding before and after each axis), POOL_MAX (1: MaxPool, 0: AveragePool), COUNT_INCLUDE_PAD (0 or 1).
 * TILE(X): X(0) X(1) ... X(T-1), one entry per output pixel of a register tile.
 * Defines FN(x, y) and FN_row. y must not overlap x. */

#define PL_CAT_(a, b) a##b
#define PL_CAT(a, b) PL_CAT_(a, b)
#define PL_ONE(p) +1
#define PL_TILE_W (0 TILE(PL_ONE))
#define PL_CB ((CHANNELS + VLEN - 1) / VLEN)
#define PL_OW_LO_ ((PL + SW - 1) / SW)
#define PL_OW_LO (PL_OW_LO_ < OW ? PL_OW_LO_ : OW)
#define PL_LAST_IN_ (IW - 1 + PL - (KW - 1) * DW)
#define PL_OW_HI_ (PL_LAST_IN_ < 0 ? 0 : PL_LAST_IN_ / SW + 1 < OW ? PL_LAST_IN_ / SW + 1 : OW)
#define PL_OW_HI (PL_OW_HI_ > PL_OW_LO ? PL_OW_HI_ : PL_OW_LO)
#define PL_TILES ((PL_OW_HI - PL_OW_LO) / PL_TILE_W)
#define PL_TILED_END (PL_OW_LO + PL_TILES * PL_TILE_W)
#if POOL_MAX
#define PL_START vbroadcast(-__builtin_inff())
#define PL_ACCUMULATE(acc, v) vmax((v), (acc))
#else
#define PL_START vzero()
#define PL_ACCUMULATE(acc, v) vadd((acc), (v))
#endif

/* Kernel rows (for the mean's divisor) of output row oh: inside the input, or inside the padded input. */
static inline __attribute__((always_inline)) int PL_CAT(FN, _rows_counted)(const float *const rows[KH], int oh) {
  int count = 0;
  for (int kh = 0; kh < KH; kh++) {
    const int ih = oh * SH - PT + kh * DH;
    count += COUNT_INCLUDE_PAD ? ih < IH + PB : rows[kh] != 0;
  }
  return count;
}

/* One output pixel, checking each tap's column against the input. */
static inline __attribute__((always_inline)) vfloat PL_CAT(FN, _pixel)(const float *const rows[KH], int rows_counted,
                                                                      int ow) {
  vfloat acc = PL_START;
  int columns = 0;
  for (int kw = 0; kw < KW; kw++) {
    const int iw = ow * SW - PL + kw * DW;
    columns += COUNT_INCLUDE_PAD ? iw < IW + PR : iw >= 0 && iw < IW;
  }
  for (int kh = 0; kh < KH; kh++) {
    if (!rows[kh])
      continue;
    for (int kw = 0; kw < KW; kw++) {
      const int iw = ow * SW - PL + kw * DW;
      if (iw >= 0 && iw < IW)
        acc = PL_ACCUMULATE(acc, vload(rows[kh] + iw * VLEN));
    }
  }
  (void)rows_counted, (void)columns;
  return POOL_MAX ? acc : vdiv(acc, vbroadcast((float)(rows_counted * columns)));
}

/* One output row y (OW, VLEN) of one channel block: rows[kh] is the input row (IW, VLEN) under kernel row kh, or
 * NULL when it lies in the padding. */
static inline void PL_CAT(FN, _row)(const float *const rows[KH], float *restrict y, int oh) {
  const int rows_counted = PL_CAT(FN, _rows_counted)(rows, oh);
  for (int ow = 0; ow < PL_OW_LO; ow++)
    vstore(y + ow * VLEN, PL_CAT(FN, _pixel)(rows, rows_counted, ow));
  const vfloat count = vbroadcast((float)(rows_counted * KW)); /* interior windows have all KW columns */
  (void)count;
  for (int t = 0; t < PL_TILES; t++) {
    const int ow = PL_OW_LO + t * PL_TILE_W;
#define PL_DECLARE(p) vfloat acc##p = PL_START;
#define PL_TAP(p) acc##p = PL_ACCUMULATE(acc##p, vload(x + ((p) * SW + kw * DW) * VLEN));
#define PL_STORE(p) vstore(y + (ow + (p)) * VLEN, POOL_MAX ? acc##p : vdiv(acc##p, count));
    TILE(PL_DECLARE)
    for (int kh = 0; kh < KH; kh++) {
      if (!rows[kh])
        continue;
      const float *x = rows[kh] + (ow * SW - PL) * VLEN;
      for (int kw = 0; kw < KW; kw++) {
        TILE(PL_TAP)
      }
    }
    TILE(PL_STORE)
#undef PL_DECLARE
#undef PL_TAP
#undef PL_STORE
  }
  for (int ow = PL_TILED_END; ow < OW; ow++)
    vstore(y + ow * VLEN, PL_CAT(FN, _pixel)(rows, rows_counted, ow));
}

static void FN(const float *restrict x, float *restrict y) {
  for (int n = 0; n < BATCH; n++) {
    for (int cb = 0; cb < PL_CB; cb++) {
      const float *x_block = x + (n * PL_CB + cb) * IH * IW * VLEN;
      for (int oh = 0; oh < OH; oh++) {
        const float *rows[KH];
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * SH - PT + kh * DH;
          rows[kh] = ih >= 0 && ih < IH ? x_block + ih * IW * VLEN : 0;
        }
        PL_CAT(FN, _row)(rows, y + ((n * PL_CB + cb) * OH + oh) * OW * VLEN, oh);
      }
    }
  }
}

#undef PL_CAT_
#undef PL_CAT
#undef PL_ONE
#undef PL_TILE_W
#undef PL_CB
#undef PL_OW_LO_
#undef PL_OW_LO
#undef PL_LAST_IN_
#undef PL_OW_HI_
#undef PL_OW_HI
#undef PL_TILES
#undef PL_TILED_END
#undef PL_START
#undef PL_ACCUMULATE
