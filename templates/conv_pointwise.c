/* conv_pointwise.c: a 1x1 convolution (stride 1, no padding, one group) on NCHWc tensors, as a GEMM whose
 * weights were packed at compile time, with the fused epilogue applied before the store.
 *
 *   y[n][ob][p][:] = EPILOGUE(bias[ob][:] + sum over ib, l of x[n][ib][p][l] * w[ob][ib][l][:])
 *
 * A 1x1 convolution maps pixel p to pixel p, so the H*W pixels of an image run as one long row p. The
 * register tile is OCV output-channel vectors by PT pixels: per input channel (ib, l) it loads OCV weight
 * vectors, broadcasts PT input scalars and issues OCV * PT fused multiply-adds into accumulators that stay in
 * registers across all the input channels. Output-channel groups are the outer loop, so a group's weights stay
 * in cache while the pixels stream past; a pixel count that PT does not divide ends with one narrower tile.
 *
 * Layouts (VLEN floats per vector; blocks past the channel count are zero):
 *   x     [BATCH][ICB][PIXELS][VLEN]          NCHWc input, ICB = ceil(C / VLEN)
 *   w     [OCB / OCV][ICB][VLEN][OCV][VLEN]   packed: per group of OCV output blocks and per input channel
 *                                             ib * VLEN + l, the group's OCV weight vectors, next to each other
 *   bias  [OCB][VLEN]                         when HAS_BIAS
 *   res   like y                              read only by EPILOGUE (a fused residual Add)
 *   y     [BATCH][OCB][PIXELS][VLEN]          NCHWc output
 *
 * Parameters (macros the instantiation defines; compiler/ops/conv_simd.c):
 *   FN                         the function: FN(x, w, bias, res, y)
 *   BATCH ICB OCB PIXELS       sizes, as above
 *   OCV PT                     the register tile; OCV divides OCB
 *   OCV_LIST(X)                X(0) ... X(OCV - 1)
 *   PIX_LIST(X), TILE(X)       X(0) ... X(PT - 1) and X(0,0) ... X(OCV - 1,PT - 1)
 *   TAIL_PIXELS                PIXELS % PT, and when it is not 0:
 *   TAIL_PIX_LIST(X), TAIL_TILE(X)   the same lists for the last, narrower tile
 *   HAS_BIAS                   0 or 1
 *   EPILOGUE(acc, at)          the vector stored at y + at from accumulator acc (activation, residual at
 *                              res + at, post-activation: compiler/template.c, tpl_epilogue)
 *   OC_LAST                    the channels in use in output block OCB - 1 (1 .. VLEN)
 *   ZERO_PAD_LANES             1 when EPILOGUE maps 0 to something else and OC_LAST < VLEN: the padded lanes
 *                              are then cleared, so they stay zero as NCHWc promises */
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

#define PW_DECLARE(v, p) vfloat acc_##v##_##p = PW_ACC_INIT(v);
#define PW_LOAD_W(v) const vfloat w_##v = vload(wl + (v) * VLEN);
#define PW_LOAD_X(p) const vfloat x_##p = vbroadcast(xl[(p) * VLEN]);
#define PW_FMA(v, p) acc_##v##_##p = vfmadd(w_##v, x_##p, acc_##v##_##p);
#define PW_STORE(v, p)                                                                                           \
  {                                                                                                              \
    const int64_t at_ = ((n * OCB + ob + (v)) * PIXELS + p0 + (p)) * VLEN;                                       \
    vstore(y + at_, PW_PAD(EPILOGUE(acc_##v##_##p, at_), v));                                                    \
  }

/* One register tile: the pixels of PIX from p0 on, for output blocks ob .. ob + OCV - 1. */
#define PW_TILE(PIX, TILE_OF)                                                                                    \
  {                                                                                                              \
    TILE_OF(PW_DECLARE)                                                                                          \
    for (int ib = 0; ib < ICB; ib++) {                                                                           \
      const float *xb = x + ((n * ICB + ib) * PIXELS + p0) * VLEN;                                               \
      const float *wb = wg + ib * VLEN * OCV * VLEN;                                                             \
      for (int l = 0; l < VLEN; l++) {                                                                           \
        const float *xl = xb + l, *wl = wb + l * OCV * VLEN;                                                     \
        OCV_LIST(PW_LOAD_W)                                                                                      \
        PIX(PW_LOAD_X)                                                                                           \
        TILE_OF(PW_FMA)                                                                                          \
      }                                                                                                          \
    }                                                                                                            \
    TILE_OF(PW_STORE)                                                                                            \
  }

static void FN(const float *restrict x, const float *restrict w, const float *restrict bias,
               const float *restrict res, float *restrict y) {
  (void)bias;
  (void)res;
  for (int64_t n = 0; n < BATCH; n++) {
    for (int64_t ob = 0; ob < OCB; ob += OCV) {
      const float *wg = w + ob * ICB * VLEN * VLEN;
      int64_t p0 = 0;
      for (; p0 + PT <= PIXELS; p0 += PT)
        PW_TILE(PIX_LIST, TILE)
#if TAIL_PIXELS > 0
      PW_TILE(TAIL_PIX_LIST, TAIL_TILE)
#endif
    }
  }
}

#undef PW_ACC_INIT
#undef PW_PAD
#undef PW_DECLARE
#undef PW_LOAD_W
#undef PW_LOAD_X
#undef PW_FMA
#undef PW_STORE
#undef PW_TILE
