/* Depthwise 2-D convolution on NCHWc data (Conv with group = channels and one filter per channel), with the
 * bias and the activation fused.
 *
 *   x     (BATCH, CB, IH, IW, VLEN)  NCHWc input, CB = ceil(CHANNELS / VLEN) channel blocks
 *   w     (CB, KH, KW, VLEN)         weights packed by channel block: lane l of w[cb][kh][kw] is channel
 *                                    cb * VLEN + l's tap (kh, kw); the lanes past CHANNELS are zero
 *   bias  (CB, VLEN)                 packed and zero-padded the same way (read only when HAS_BIAS)
 *   res   like y                     read only by EPILOGUE (a fused residual Add)
 *   y     (BATCH, CB, OH, OW, VLEN)  y[c][oh][ow] = EPILOGUE(bias[c] + sum over kh, kw of
 *                                      x[c][oh*SH - PT + kh*DH][ow*SW - PL + kw*DW] * w[c][kh][kw])
 *                                    with taps in the padding contributing nothing
 *
 * Every channel is independent, so a vector holds one pixel's VLEN channels and the kernel is a stencil of
 * vector FMAs. One output row of one channel block at a time (FN_row): the columns whose taps all fall inside
 * the input (OW_LO <= ow < OW_HI) run in register tiles of TILE's pixels, all KH x KW taps of a tile one
 * straight-line block (KH_LIST x TILE_TAPS), so each weight vector is loaded once per tile and used for every
 * pixel of it, and each input vector once per tile and kernel row and used for every tap that reads it (a 3x3
 * stride-1 tile of 8 pixels: 30 input loads for 72 FMAs); the columns at the left and right edges, and the
 * interior columns that do not fill a tile, go one pixel at a time, skipping the taps in the padding. A kernel
 * row in the padding is a row of zeros, so the tile never branches. FN_row takes its input rows as pointers: a
 * fused producer can hand it rows from a small ring buffer instead of a whole stored tensor.
 *
 * Parameters (integer constants): FN (function name), BATCH, CHANNELS, IH, IW, OH, OW, KH, KW, SH, SW (strides),
 * DH, DW (dilations), PT, PL (padding before the first row and column; the padding after follows from OH
 * and OW), HAS_BIAS (0 or 1), ZERO_PAD_LANES (1 when EPILOGUE maps 0 to something else and CHANNELS is not a
 * multiple of VLEN: the padding lanes of the last block are then cleared, so they stay zero as NCHWc promises).
 * X-macro lists: TILE(X) = X(0) ... X(T-1), one entry per output pixel of a tile; KH_LIST(X) = X(0) ...
 * X(KH-1); KW_LIST(X) = X(0) ... X(KW-1); TILE_TAPS(X) = X(0,0) X(0,1) ... X(T-1,KW-1), every (pixel, kernel
 * column) pair.
 * EPILOGUE(acc, at): the vector stored at y + at from accumulator acc (bias included), reading a residual at
 * res + at if it fuses one (compiler/template.c, tpl_epilogue); `at` is relative to the output row in FN_row.
 * Defines FN(x, w, bias, res, y), FN_row (see there) and FN_zero_row. y must not overlap x. Indices are int: the
 * instantiation keeps tensors below 2^31 elements. */

#define DW_CAT_(a, b) a##b
#define DW_CAT(a, b) DW_CAT_(a, b)
#define DW_ONE(p) +1
#define DW_TILE_W (0 TILE(DW_ONE))
#define DW_CB ((CHANNELS + VLEN - 1) / VLEN)
/* Output columns whose taps are all inside the input: ow * SW - PL >= 0 and ow * SW - PL + (KW-1) * DW < IW. */
#define DW_OW_LO_ ((PL + SW - 1) / SW)
#define DW_OW_LO (DW_OW_LO_ < OW ? DW_OW_LO_ : OW)
#define DW_LAST_IN_ (IW - 1 + PL - (KW - 1) * DW) /* ow * SW may not exceed this */
#define DW_OW_HI_ (DW_LAST_IN_ < 0 ? 0 : DW_LAST_IN_ / SW + 1 < OW ? DW_LAST_IN_ / SW + 1 : OW)
#define DW_OW_HI (DW_OW_HI_ > DW_OW_LO ? DW_OW_HI_ : DW_OW_LO)
#define DW_TILES ((DW_OW_HI - DW_OW_LO) / DW_TILE_W)
#define DW_TILED_END (DW_OW_LO + DW_TILES * DW_TILE_W)

/* The input row under kernel rows that fall into the padding. */
static const float DW_CAT(FN, _zero_row)[IW * VLEN];

/* One output pixel, checking each tap's column against the input. */
static inline __attribute__((always_inline)) vfloat DW_CAT(FN, _pixel)(const float *const rows[KH],
                                                                      const float *w, vfloat bias, int ow) {
  vfloat acc = bias;
  for (int kh = 0; kh < KH; kh++)
    for (int kw = 0; kw < KW; kw++) {
      const int iw = ow * SW - PL + kw * DW;
      if (iw >= 0 && iw < IW)
        acc = vfmadd(vload(rows[kh] + iw * VLEN), vload(w + (kh * KW + kw) * VLEN), acc);
    }
  return acc;
}

/* One output row y (OW, VLEN) of channel block cb: rows[kh] is the input row (IW, VLEN) under kernel row kh,
 * FN_zero_row where that lies in the padding; w (KH, KW, VLEN) and bias are the block's; res is the residual's
 * row (NULL without one). */
static inline void DW_CAT(FN, _row)(const float *const rows[KH], const float *restrict w, vfloat bias,
                                    const float *restrict res, float *restrict y, int cb) {
  (void)res, (void)cb;
#define DW_STORE(v, ow)                                                                                            \
  do {                                                                                                             \
    vfloat out_ = EPILOGUE((v), (ow) * VLEN);                                                                      \
    if (ZERO_PAD_LANES && cb == DW_CB - 1)                                                                         \
      out_ = vkeep_lanes(out_, CHANNELS - (DW_CB - 1) * VLEN);                                                     \
    vstore(y + (ow) * VLEN, out_);                                                                                 \
  } while (0)
  for (int ow = 0; ow < DW_OW_LO; ow++)
    DW_STORE(DW_CAT(FN, _pixel)(rows, w, bias, ow), ow);
  for (int t = 0; t < DW_TILES; t++) {
    const int ow = DW_OW_LO + t * DW_TILE_W;
#define DW_DECLARE(p) vfloat acc##p = bias;
#define DW_LOAD_W(k) const vfloat w##k = vload(wr + (k) * VLEN);
#define DW_FMA(p, k) acc##p = vfmadd(vload(x + ((p) * SW + (k) * DW) * VLEN), w##k, acc##p);
#define DW_KERNEL_ROW(kh)                                                                                          \
  {                                                                                                                \
    const float *x = rows[kh] + (ow * SW - PL) * VLEN, *wr = w + (kh) * KW * VLEN;                                 \
    KW_LIST(DW_LOAD_W)                                                                                             \
    TILE_TAPS(DW_FMA)                                                                                              \
  }
#define DW_STORE_TILE(p) DW_STORE(acc##p, ow + (p));
    TILE(DW_DECLARE)
    KH_LIST(DW_KERNEL_ROW)
    TILE(DW_STORE_TILE)
#undef DW_DECLARE
#undef DW_LOAD_W
#undef DW_FMA
#undef DW_KERNEL_ROW
#undef DW_STORE_TILE
  }
  for (int ow = DW_TILED_END; ow < OW; ow++)
    DW_STORE(DW_CAT(FN, _pixel)(rows, w, bias, ow), ow);
#undef DW_STORE
}

static void FN(const float *restrict x, const float *restrict w, const float *restrict bias,
               const float *restrict res, float *restrict y) {
  (void)bias, (void)res;
  for (int n = 0; n < BATCH; n++) {
    for (int cb = 0; cb < DW_CB; cb++) {
      const float *x_block = x + (n * DW_CB + cb) * IH * IW * VLEN;
      const vfloat block_bias = HAS_BIAS ? vload(bias + cb * VLEN) : vzero();
      for (int oh = 0; oh < OH; oh++) {
        const float *rows[KH];
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * SH - PT + kh * DH;
          rows[kh] = ih >= 0 && ih < IH ? x_block + ih * IW * VLEN : DW_CAT(FN, _zero_row);
        }
        const int out_row = ((n * DW_CB + cb) * OH + oh) * OW * VLEN;
        DW_CAT(FN, _row)(rows, w + cb * KH * KW * VLEN, block_bias, res ? res + out_row : 0, y + out_row, cb);
      }
    }
  }
}

#undef DW_CAT_
#undef DW_CAT
#undef DW_ONE
#undef DW_TILE_W
#undef DW_CB
#undef DW_OW_LO_
#undef DW_OW_LO
#undef DW_LAST_IN_
#undef DW_OW_HI_
#undef DW_OW_HI
#undef DW_TILES
#undef DW_TILED_END
