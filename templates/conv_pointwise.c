/* conv_pointwise.c: a 1x1 convolution (stride 1, no padding, one group) on NCHWc tensors, as a GEMM whose
 * weights were packed at compile time, with the fused epilogue applied before the store.
 *
 *   y[n][ob][p][:] = EPILOGUE(bias[ob][:] + sum over ib, l of x[n][ib][p][l] * w[ob][ib][l][:])
 *
 * A 1x1 convolution maps pixel p to pixel p, so the H*W pixels of an image run as one long row p. The
 * register tile is OCV output-channel vectors by PT pixels: per input channel (ib, l) it loads OCV weight
 * vectors, broadcasts PT input scalars and issues OCV * PT fused multiply-adds into accumulators that stay in
 * registers across all the input channels, pixel by pixel (see conv_direct.c). Output-channel groups are the
 * outer loop, so a group's weights stay in cache while the pixels stream past; a pixel count that PT does not
 * divide ends with one narrower tile. With a fused window (MobileNet's depthwise Conv after its expansion), the
 * pixels run row by row into a ring, as in conv_direct.c; or, when the image of OCV blocks is small (WHOLE), the
 * ring holds all of it: the tiles then run over all the pixels, across rows, as without a window (a 7- or
 * 14-pixel row would leave a narrow tail tile in every row), and the window rows follow.
 *
 * Layouts (VLEN floats per vector; blocks past the channel count are zero):
 *   x     [BATCH][ICB][PIXELS][VLEN]          NCHWc input, ICB = ceil(C / VLEN)
 *   w     [OCB / OCV][ICB][VLEN][OCV][VLEN]   packed: per group of OCV output blocks and per input channel
 *                                             ib * VLEN + l, the group's OCV weight vectors, next to each other
 *   bias  [OCB][VLEN]                         when HAS_BIAS
 *   res   like y                              read only by EPILOGUE (a fused residual Add)
 *   y     [BATCH][OCB][PIXELS][VLEN]          NCHWc output; with WINDOW, [BATCH][OCB][WOH][WOW][VLEN]
 *   wdw bdw                                   with WINDOW, a depthwise window's packed weights and bias
 *
 * Parameters (macros the instantiation defines; compiler/ops/conv_simd.c):
 *   FN                         the function: FN(x, w, bias, res, wdw, bdw, y)
 *   BATCH ICB OCB PIXELS       sizes, as above
 *   IC_LAST                    the channels in use in input block ICB - 1 (1 .. VLEN): the zero lanes past
 *                              them are skipped
 *   OCV PT                     the register tile; OCV divides OCB
 *   OCV_LIST(X)                X(0) ... X(OCV - 1)
 *   TILE(X)                    X(p,v) for pixel p < PT and output vector v < OCV, pixel by pixel
 *   TAIL_PIXELS                PIXELS % PT (with WINDOW, ZW % PT), and when it is not 0:
 *   TAIL_TILE(X)               the same list for the last, narrower tile
 *   HAS_BIAS                   0 or 1
 *   EPILOGUE(acc, at)          the vector stored at y + at from accumulator acc (activation, residual at
 *                              res + at, post-activation: compiler/template.c, tpl_epilogue)
 *   OC_LAST                    the channels in use in output block OCB - 1 (1 .. VLEN)
 *   ZERO_PAD_LANES             1 when EPILOGUE maps 0 to something else and OC_LAST < VLEN: the padded lanes
 *                              are then cleared, so they stay zero as NCHWc promises
 *   WINDOW                     1 with a fused window (conv_direct.c says how), and then ZH ZW, the image's rows
 *                              and columns (PIXELS = ZH * ZW), and WINDOW_FN RING WSPAN WOH WOW WSH WPAD_T as
 *                              in conv_direct.c; the tiles then run along each row of ZW pixels, unless
 *   WHOLE                      1 (with WINDOW): RING = ZH, the ring holds the whole image, and the tiles run
 *                              over all PIXELS (TAIL_PIXELS = PIXELS % PT) before any window row */
#ifndef VLEN
#error "conv_pointwise.c is instantiated after simd.h"
#endif

#if HAS_BIAS
#define PW_ACC_INIT(v) vload(bias + (ob + (v)) * VLEN)
#else
#define PW_ACC_INIT(v) vzero()
#endif
#if ZERO_PAD_LANES
#define PW_PAD(r, v) (ob + (v) == OCB - 1 ? vkeep_lanes(r, OC_LAST) : (r))
#else
#define PW_PAD(r, v) (r)
#endif

#define PW_DECLARE(p, v) vfloat acc_##p##_##v = PW_ACC_INIT(v);
#define PW_LOAD_W(v) const vfloat w_##v = vload(wl + (v) * VLEN);
#define PW_FMA(p, v) acc_##p##_##v = vfmadd(w_##v, vbroadcast(xl[(p) * VLEN]), acc_##p##_##v);
/* Where pixel p0 + p of block ob + v goes: y, or with a fused window its slot in the ring (whole images: the
 * ring is [OCV][PIXELS][VLEN]). */
#if WINDOW && WHOLE
#define PW_AT(p, v) (ring + ((v)*PIXELS + p0 + (p)) * VLEN)
#elif WINDOW
#define PW_AT(p, v) (ring + (((v)*RING + oh % RING) * ZW + p0 - oh * ZW + (p)) * VLEN)
#else
#define PW_AT(p, v) (y + ((n * OCB + ob + (v)) * PIXELS + p0 + (p)) * VLEN)
#endif
#define PW_STORE(p, v)                                                                                           \
  {                                                                                                              \
    const int64_t at_ = ((n * OCB + ob + (v)) * PIXELS + p0 + (p)) * VLEN;                                       \
    (void)at_; /* read by a residual */                                                                          \
    vstore(PW_AT(p, v), PW_PAD(EPILOGUE(acc_##p##_##v, at_), v));                                                \
  }

/* One register tile: the pixels of TILE_OF from p0 on, for output blocks ob .. ob + OCV - 1. */
#define PW_TILE(TILE_OF)                                                                                         \
  {                                                                                                              \
    TILE_OF(PW_DECLARE)                                                                                          \
    for (int ib = 0; ib < ICB; ib++) {                                                                           \
      const float *xb = x + ((n * ICB + ib) * PIXELS + p0) * VLEN;                                               \
      const float *wb = wg + ib * VLEN * OCV * VLEN;                                                             \
      for (int l = 0; l < (ib == ICB - 1 ? IC_LAST : VLEN); l++) {                                               \
        const float *xl = xb + l, *wl = wb + l * OCV * VLEN;                                                     \
        OCV_LIST(PW_LOAD_W)                                                                                      \
        TILE_OF(PW_FMA)                                                                                          \
      }                                                                                                          \
    }                                                                                                            \
    TILE_OF(PW_STORE)                                                                                            \
  }

#if TAIL_PIXELS > 0
#define PW_TAIL(end)                                                                                             \
  {                                                                                                              \
    const int64_t p0 = (end)-TAIL_PIXELS;                                                                        \
    PW_TILE(TAIL_TILE)                                                                                           \
  }
#else
#define PW_TAIL(end)
#endif

static void FN(const float *restrict x, const float *restrict w, const float *restrict bias,
               const float *restrict res, const float *restrict wdw, const float *restrict bdw, float *restrict y) {
  (void)bias;
  (void)res;
  (void)wdw;
  (void)bdw;
#if WINDOW
  float ring[OCV * RING * ZW * VLEN] __attribute__((aligned(64)));
#endif
  for (int64_t n = 0; n < BATCH; n++) {
    for (int64_t ob = 0; ob < OCB; ob += OCV) {
      const float *wg = w + ob * ICB * VLEN * VLEN;
#if WINDOW && WHOLE
      /* the whole image of these blocks, then every window row from it */
      for (int64_t p0 = 0; p0 < PIXELS - TAIL_PIXELS; p0 += PT)
        PW_TILE(TILE)
      PW_TAIL(PIXELS)
      for (int64_t wh = 0; wh < WOH; wh++)
        WINDOW_FN(ring, wh, wdw, bdw, ob, y + ((n * OCB + ob) * WOH + wh) * WOW * VLEN,
                  ob + OCV == OCB ? OCV - 1 : -1);
#elif WINDOW
      /* row oh is pixels oh * ZW ..; each window row as soon as the rows it spans are in the ring */
      int64_t next = 0;
      for (int64_t wh = 0; wh < WOH; wh++) {
        const int64_t first = wh * WSH - WPAD_T, end = first + WSPAN < ZH ? first + WSPAN : ZH;
        if (next < first)
          next = first;
        for (; next < end; next++) {
          const int64_t oh = next;
          for (int64_t p0 = oh * ZW; p0 < (oh + 1) * ZW - TAIL_PIXELS; p0 += PT)
            PW_TILE(TILE)
          PW_TAIL((oh + 1) * ZW)
        }
        WINDOW_FN(ring, wh, wdw, bdw, ob, y + ((n * OCB + ob) * WOH + wh) * WOW * VLEN,
                  ob + OCV == OCB ? OCV - 1 : -1);
      }
#else
      for (int64_t p0 = 0; p0 < PIXELS - TAIL_PIXELS; p0 += PT)
        PW_TILE(TILE)
      PW_TAIL(PIXELS)
#endif
    }
  }
}

#undef PW_ACC_INIT
#undef PW_PAD
#undef PW_DECLARE
#undef PW_LOAD_W
#undef PW_FMA
#undef PW_STORE
#undef PW_TILE
#undef PW_AT
#undef PW_TAIL
