/* conv_direct.c: a 2-D convolution (any kernel size, stride, padding, dilation and group count) writing NCHWc,
 * computed directly on the input with weights packed at compile time, the fused epilogue applied before the
 * store.
 *
 *   y[n][ob][oh][ow][:] = EPILOGUE(bias[ob][:] + sum over the group's input channels c and taps kh, kw of
 *                                  x[n][c][oh * SH + kh * DH - PAD_T][ow * SW + kw * DW - PAD_L] * w[ob][c][kh][kw][:])
 *
 * The register tile is OCV output-channel vectors by PW output pixels of one row: per input channel and tap it
 * loads OCV weight vectors, broadcasts PW input scalars and issues OCV * PW fused multiply-adds into
 * accumulators that stay in registers through all of the group's input channels and taps. The tile is
 * unrolled pixel by pixel (one broadcast, then its OCV multiply-adds), which keeps one broadcast live at a
 * time: GCC otherwise runs out of vector registers and re-reads the weights from memory. Taps above and
 * below the input are skipped by the kh range of each output row. Columns OW_LO .. OW_HI - 1 read no padding
 * and run in whole tiles (the last one TAIL_PW wide); the few columns left and right of them run one pixel at a
 * time, skipping the taps that fall into the padding.
 *
 * With a fused window (WINDOW = 1: a MaxPool, AveragePool or depthwise Conv after this Conv), the rows of the
 * result go into a ring of RING rows per output block on the stack, and each window output row is computed
 * (WINDOW_FN, an instance of conv_window.c) as soon as the rows it spans are there, like ops/epilogue.c's
 * portable driver: the Conv's result is never stored whole, and y is the window's output.
 *
 * Layouts (VLEN floats per vector; channels past the real count are zero):
 *   x     [BATCH][G * ICB][IH][IW][IB]     input channel c = block * IB + lane: IB = VLEN reads NCHWc; IB = 1
 *                                          reads plain NCHW (ICB = channels per group), for a first layer whose
 *                                          few channels would mostly be padding in blocks
 *   w     [G][OCB / OCV][ICB][KH][KW][IB][OCV][VLEN]   packed: per group and group of OCV output blocks, for
 *                                          each input channel and tap, the OCV weight vectors side by side
 *   bias  [G * OCB][VLEN]                  when HAS_BIAS
 *   res   like y                           read only by EPILOGUE (a fused residual Add)
 *   y     [BATCH][G * OCB][OH][OW][VLEN]   NCHWc output; with WINDOW, [BATCH][G * OCB][WOH][WOW][VLEN]
 *   wdw bdw                            with WINDOW, a depthwise window's packed weights and bias (conv_window.c)
 *
 * Parameters (macros the instantiation defines; compiler/ops/conv_simd.c):
 *   FN                                 the function: FN(x, w, bias, res, wdw, bdw, y)
 *   BATCH G ICB IB OCB                 per group: ICB input blocks of IB channels, OCB output blocks of VLEN
 *   IH IW OH OW KH KW SH SW DH DW      input, output and kernel sizes, strides, dilations
 *   PAD_T PAD_L                        padding before the first row and column
 *   IC_LAST                            the channels in use in a group's last input block (1 .. IB): the lanes
 *                                      past them are zero and skipped
 *   ICC                                input blocks per chunk (ICB: one chunk). Each output-block group runs
 *                                      its rows once per chunk, so the chunk's weights are read from cache
 *                                      and not from memory on every row of a layer whose weights outgrow L2;
 *                                      the partial sums wait in y (not with WINDOW, which needs ICC = ICB)
 *   OW_LO OW_HI                        the output columns whose taps all fall inside the input
 *   PAD_COPY                           1: x is first copied into a zero-bordered buffer on the stack, xpad, of
 *                                      IH x IW (the padded size; PAD_T = PAD_L = 0, OW_LO = 0, OW_HI = OW), from
 *                                      SRC_IH x SRC_IW pixels placed SRC_PAD_T rows and SRC_PAD_L columns in:
 *                                      small images, whose border columns would otherwise run one pixel at a
 *                                      time, then run in whole tiles
 *   OCV PW                             the register tile; OCV divides OCB
 *   OCV_LIST(X)                        X(0) ... X(OCV - 1)
 *   TILE(X)                            X(p,v) for pixel p < PW and output vector v < OCV, pixel by pixel
 *   TAIL_PW                            (OW_HI - OW_LO) % PW, and when it is not 0:
 *   TAIL_TILE(X)                       the same list for the last, narrower tile
 *   ONE_TILE(X)                        X(0,0) ... X(0,OCV - 1): the tile of one border pixel
 *   HAS_BIAS, EPILOGUE(acc, at), OC_LAST, ZERO_PAD_LANES   as in conv_pointwise.c
 *   WINDOW                             1 with a fused window, and then:
 *   WINDOW_FN RING WSPAN WOH WOW WSH WPAD_T its row function, the ring's rows, the rows one window spans
 *                                      (dilation included), its output size, row stride, top padding */
#ifndef VLEN
#error "conv_direct.c is instantiated after simd.h"
#endif

#if HAS_BIAS
#define DC_ACC_INIT(v) vload(bias + (ob + (v)) * VLEN)
#else
#define DC_ACC_INIT(v) vzero()
#endif
#if ZERO_PAD_LANES
#define DC_PAD(r, v) (ob + (v) == G * OCB - 1 ? vkeep_lanes(r, OC_LAST) : (r))
#else
#define DC_PAD(r, v) (r)
#endif

/* With the input channels in chunks (ICC < ICB), a chunk after the first resumes the sums it left in y, and only
 * the last one applies the epilogue. */
#if ICC < ICB
#define DC_DECLARE(p, v)                                                                                         \
  vfloat acc_##p##_##v = ic0 == 0 ? DC_ACC_INIT(v) : vload(DC_ROW_AT(v) + (ow0 + (p)) * VLEN);
#define DC_FINISH(acc, v, at) (ic_end == ICB ? DC_PAD(EPILOGUE(acc, at), v) : (acc))
#else
#define DC_DECLARE(p, v) vfloat acc_##p##_##v = DC_ACC_INIT(v);
#define DC_FINISH(acc, v, at) DC_PAD(EPILOGUE(acc, at), v)
#endif
#define DC_LOAD_W(v) const vfloat w_##v = vload(wl + (v) * VLEN);
#define DC_FMA(p, v) acc_##p##_##v = vfmadd(w_##v, vbroadcast(xl[(p) * SW * IB]), acc_##p##_##v);
/* Where output row oh of block ob + v goes: y, or with a fused window its slot in the ring. */
#if WINDOW
#define DC_ROW_AT(v) (ring + (((v)*RING + oh % RING) * OW) * VLEN)
#else
#define DC_ROW_AT(v) (y + (((n * G * OCB + ob + (v)) * OH + oh) * OW) * VLEN)
#endif
#define DC_STORE(p, v)                                                                                           \
  {                                                                                                              \
    const int64_t at_ = (((n * G * OCB + ob + (v)) * OH + oh) * OW + ow0 + (p)) * VLEN;                          \
    (void)at_; /* read by a residual */                                                                          \
    vstore(DC_ROW_AT(v) + (ow0 + (p)) * VLEN, DC_FINISH(acc_##p##_##v, v, at_));                                \
  }

/* The accumulation of one tile at columns ow0 .. : xr is the input row of tap kh = 0 for this output row and
 * wg the weights of the output-block group. Taps whose column is outside the input are skipped when CHECK
 * (border pixels) and never happen otherwise. */
#define DC_TILE(TILE_OF, CHECK)                                                                             \
  {                                                                                                              \
    TILE_OF(DC_DECLARE)                                                                                          \
    for (int64_t ib = ic0; ib < ic_end; ib++) {                                                                  \
      for (int kh = kh_lo; kh < kh_hi; kh++) {                                                                   \
        const float *xk = xg + (((int64_t)ib * IH + ih0 + kh * DH) * IW) * IB;                                   \
        const float *wk = wg + (((int64_t)ib * KH + kh) * KW) * IB * OCV * VLEN;                                 \
        for (int kw = 0; kw < KW; kw++) {                                                                        \
          const int64_t iw = ow0 * SW + kw * DW - PAD_L;                                                         \
          if (CHECK && (iw < 0 || iw >= IW))                                                                     \
            continue;                                                                                            \
          for (int il = 0; il < (ib == ICB - 1 ? IC_LAST : IB); il++) {                                          \
            const float *xl = xk + iw * IB + il, *wl = wk + (kw * IB + il) * OCV * VLEN;                         \
            OCV_LIST(DC_LOAD_W)                                                                                  \
            TILE_OF(DC_FMA)                                                                                      \
          }                                                                                                      \
        }                                                                                                        \
      }                                                                                                          \
    }                                                                                                            \
    TILE_OF(DC_STORE)                                                                                            \
  }

/* Output row oh of blocks ob .. ob + OCV - 1 of image n, group g. */
#define DC_ROW                                                                                                   \
  {                                                                                                              \
    /* the taps kh whose input row oh * SH + kh * DH - PAD_T lies inside the input */                            \
    const int64_t ih0 = oh * SH - PAD_T;                                                                         \
    int64_t kh_lo = 0, kh_hi = KH;                                                                               \
    while (kh_lo < KH && ih0 + kh_lo * DH < 0)                                                                   \
      kh_lo++;                                                                                                   \
    while (kh_hi > kh_lo && ih0 + (kh_hi - 1) * DH >= IH)                                                        \
      kh_hi--;                                                                                                   \
    for (int64_t ow0 = 0; ow0 < OW_LO; ow0++)                                                                    \
      DC_TILE(ONE_TILE, 1)                                                                                       \
    for (int64_t ow0 = OW_LO; ow0 < OW_HI - TAIL_PW; ow0 += PW)                                                  \
      DC_TILE(TILE, 0)                                                                                           \
    DC_TAIL                                                                                                      \
    for (int64_t ow0 = OW_HI; ow0 < OW; ow0++)                                                                   \
      DC_TILE(ONE_TILE, 1)                                                                                       \
  }
#if TAIL_PW > 0
#define DC_TAIL                                                                                                  \
  {                                                                                                              \
    const int64_t ow0 = OW_HI - TAIL_PW;                                                                         \
    DC_TILE(TAIL_TILE, 0)                                                                                        \
  }
#else
#define DC_TAIL
#endif

static void FN(const float *restrict x, const float *restrict w, const float *restrict bias,
               const float *restrict res, const float *restrict wdw, const float *restrict bdw, float *restrict y) {
  (void)bias;
  (void)res;
  (void)wdw;
  (void)bdw;
#if WINDOW
  float ring[OCV * RING * OW * VLEN] __attribute__((aligned(64)));
#endif
#if PAD_COPY
  float xpad[ICB * IH * IW * IB] __attribute__((aligned(64)));
  for (int64_t i = 0; i < ICB * IH * IW * IB; i++)
    xpad[i] = 0;
#endif
  for (int64_t n = 0; n < BATCH; n++) {
    for (int64_t g = 0; g < G; g++) {
#if PAD_COPY
      /* the group's input inside its zero border: every tap of every output pixel is then inside xpad */
      for (int64_t ib = 0; ib < ICB; ib++)
        for (int64_t r = 0; r < SRC_IH; r++) {
          const float *from = x + (((n * G + g) * ICB + ib) * SRC_IH + r) * SRC_IW * IB;
          float *to = xpad + ((ib * IH + r + SRC_PAD_T) * IW + SRC_PAD_L) * IB;
          for (int64_t i = 0; i < SRC_IW * IB; i++)
            to[i] = from[i];
        }
      const float *xg = xpad;
#else
      const float *xg = x + (n * G + g) * ICB * IH * IW * IB;
#endif
      for (int64_t ob = g * OCB; ob < (g + 1) * OCB; ob += OCV) {
        const float *wg = w + ob * ICB * KH * KW * IB * VLEN;
#if WINDOW
        const int64_t ic0 = 0, ic_end = ICB;
        /* each window row as soon as the Conv rows it spans are in the ring; rows no window reads are skipped */
        int64_t next = 0;
        for (int64_t wh = 0; wh < WOH; wh++) {
          const int64_t first = wh * WSH - WPAD_T, end = first + WSPAN < OH ? first + WSPAN : OH;
          if (next < first)
            next = first;
          for (; next < end; next++) {
            const int64_t oh = next;
            DC_ROW
          }
          WINDOW_FN(ring, wh, wdw, bdw, ob,
                    y + ((n * G * OCB + ob) * WOH + wh) * WOW * VLEN, ob + OCV == G * OCB ? OCV - 1 : -1);
        }
#else
        /* a chunk's weights stay in cache through all the rows */
        for (int64_t ic0 = 0; ic0 < ICB; ic0 += ICC) {
          const int64_t ic_end = ic0 + ICC < ICB ? ic0 + ICC : ICB;
          for (int64_t oh = 0; oh < OH; oh++)
            DC_ROW
        }
#endif
      }
    }
  }
}

#undef DC_ACC_INIT
#undef DC_PAD
#undef DC_DECLARE
#undef DC_FINISH
#undef DC_LOAD_W
#undef DC_FMA
#undef DC_STORE
#undef DC_TILE
#undef DC_ROW_AT
#undef DC_ROW
#undef DC_TAIL
