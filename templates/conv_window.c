/* conv_window.c: one output row of a window fused after a Conv (MaxPool, AveragePool, or the depthwise Conv of a
 * MobileNet block after its 1x1 expansion), computed in NCHWc from the few rows of the Conv's result that the
 * Conv kernel keeps in a ring (conv_direct.c and conv_pointwise.c with WINDOW = 1): the Conv's result is never
 * stored whole.
 *
 *   MaxPool       y[v][ow] = max over taps inside the input of z[ih][iw]
 *   AveragePool   y[v][ow] = sum over taps inside the input of z[ih][iw] / count (the taps inside the input, or
 *                 with COUNT_INCLUDE_PAD inside the padded input)
 *   depthwise     y[v][ow] = WIN_ACT(bdw[v] + sum over taps inside the input of z[ih][iw] * wdw[v][kh][kw])
 *   with ih = oh * WSH + kh * WDH - WPAD_T, iw = ow * WSW + kw * WDW - WPAD_L, all lanes (channels) at once.
 *
 * Columns WOW_LO .. WOW_HI - 1 read no padding: they run WPT output pixels at a time (WTILE), so one weight
 * vector serves WPT pixels; the others run one at a time with their in-range taps only.
 *
 * Layouts (VLEN floats per vector):
 *   ring  [OCV][RING][ZW][VLEN]   row r of the Conv's result (ZH x ZW) in slot r % RING, for OCV channel blocks
 *   wdw   [blocks][WKH][WKW][VLEN]   depthwise weights, packed at compile time (zero past C); blocks ob .. are read
 *   bdw   [blocks][VLEN]          depthwise bias (WIN_BIAS), zero past C
 *   y     block v at y + v * WOH * WOW * VLEN: row oh of the window's NCHWc output, WOW pixels of VLEN
 *
 * Parameters (macros the instantiation defines; compiler/ops/conv_simd.c):
 *   FN                         the function: FN(ring, oh, wdw, bdw, ob, y, last) for blocks ob .. ob + OCV - 1
 *                              (NULL for what the window does not read), last the block v that is the
 *                              tensor's last (or -1): its padded lanes may need clearing
 *   WIN_KIND                   1 MaxPool, 2 AveragePool, 3 depthwise Conv
 *   OCV ZH ZW RING             channel blocks, the Conv's result, ring rows
 *   WOH WOW WKH WKW WSH WSW WDH WDW WPAD_T WPAD_L WPAD_B WPAD_R    the window's geometry
 *   WOW_LO WOW_HI              its columns whose taps all fall inside ZW
 *   WPT WTILE(X)               interior pixels per step (at most WOW_HI - WOW_LO), X(0) ... X(WPT - 1)
 *   COUNT_INCLUDE_PAD          AveragePool
 *   WIN_BIAS WIN_ACT(x)        depthwise: whether bdw is read; its activation (x itself for none)
 *   WIN_ZERO_LANES             the channels in use in the last block when WIN_ACT(0) != 0 and some of its
 *                              lanes are padding, else 0 */
#ifndef VLEN
#error "conv_window.c is instantiated after simd.h"
#endif

#if WIN_KIND == 1
#define WN_INIT(v) vbroadcast(-__builtin_inff())
#define WN_TAP(acc, xv, wv) vmax(acc, xv)
#elif WIN_KIND == 2
#define WN_INIT(v) vzero()
#define WN_TAP(acc, xv, wv) vadd(acc, xv)
#else
#if WIN_BIAS
#define WN_INIT(v) vload(bdw + (ob + (v)) * VLEN)
#else
#define WN_INIT(v) vzero()
#endif
#define WN_TAP(acc, xv, wv) vfmadd(xv, wv, acc)
#endif

#if WIN_KIND == 3
#define WN_WEIGHT(v, kh, kw) vload(wdw + (((ob + (v)) * WKH + (kh)) * WKW + (kw)) * VLEN)
#else
#define WN_WEIGHT(v, kh, kw) vzero()
#endif

#define WN_DECLARE(p) vfloat acc_##p = WN_INIT(v);
#define WN_ACC(p) acc_##p = WN_TAP(acc_##p, vload(zr + ((ow0 + (p)) * WSW + kw * WDW - WPAD_L) * VLEN), wk);
#define WN_STORE(p) vstore(y + v * WOH * WOW * VLEN + (ow0 + (p)) * VLEN, WN_FINISH(acc_##p, v, count_h * WKW));

/* The taps of axis 0 or 1 for output position o: [lo, hi) of the kernel taps inside [0, limit). */
#define WN_TAPS(o, S, K, D, PAD, LIMIT, lo, hi)                                                                   \
  int64_t lo = 0, hi = K;                                                                                        \
  {                                                                                                              \
    const int64_t first_ = (o) * (S) - (PAD);                                                                    \
    while (lo < K && first_ + lo * (D) < 0)                                                                      \
      lo++;                                                                                                      \
    while (hi > lo && first_ + (hi - 1) * (D) >= (LIMIT))                                                        \
      hi--;                                                                                                      \
  }

/* AveragePool's divisor along one axis for the window starting at `first`: the taps inside the input (lo, hi),
 * or inside the padded input, which a ceil_mode window can run past (every window starts before its end). */
#if COUNT_INCLUDE_PAD
#define WN_COUNT(first, lo, hi, K, D, END)                                                                       \
  (((END) - (first) + (D)-1) / (D) < (K) ? ((END) - (first) + (D)-1) / (D) : (K))
#else
#define WN_COUNT(first, lo, hi, K, D, END) ((hi) - (lo))
#endif

/* The finished vector of channel block v: the average's division, the depthwise activation, and padded lanes
 * cleared where the activation makes them non-zero. */
#if WIN_KIND == 2
#define WN_FINISH(acc, v, count) vdiv(acc, vbroadcast((float)(count)))
#elif WIN_KIND == 3 && WIN_ZERO_LANES
#define WN_FINISH(acc, v, count) ((v) == last ? vkeep_lanes(WIN_ACT(acc), WIN_ZERO_LANES) : WIN_ACT(acc))
#elif WIN_KIND == 3
#define WN_FINISH(acc, v, count) WIN_ACT(acc)
#else
#define WN_FINISH(acc, v, count) (acc)
#endif

static void FN(const float *restrict ring, int64_t oh, const float *restrict wdw, const float *restrict bdw,
               int64_t ob, float *restrict y, int last) {
  (void)wdw;
  (void)bdw;
  (void)ob;
  (void)last;
  WN_TAPS(oh, WSH, WKH, WDH, WPAD_T, ZH, kh_lo, kh_hi)
  const int64_t ih0 = oh * WSH - WPAD_T;
  const int64_t count_h = WN_COUNT(ih0, kh_lo, kh_hi, WKH, WDH, ZH + WPAD_B);
  (void)count_h;
  for (int v = 0; v < OCV; v++) {
    const float *rv = ring + (int64_t)v * RING * ZW * VLEN;
    /* the border columns, one at a time */
    for (int64_t ow = 0; ow < WOW; ow++) {
      if (ow == WOW_LO && WOW_HI > WOW_LO)
        ow = WOW_HI;
      if (ow >= WOW)
        break;
      WN_TAPS(ow, WSW, WKW, WDW, WPAD_L, ZW, kw_lo, kw_hi)
      vfloat acc = WN_INIT(v);
      for (int64_t kh = kh_lo; kh < kh_hi; kh++) {
        const float *zr = rv + ((ih0 + kh * WDH) % RING) * ZW * VLEN;
        for (int64_t kw = kw_lo; kw < kw_hi; kw++)
          acc = WN_TAP(acc, vload(zr + (ow * WSW + kw * WDW - WPAD_L) * VLEN), WN_WEIGHT(v, kh, kw));
      }
      const int64_t count_w = WN_COUNT(ow * WSW - WPAD_L, kw_lo, kw_hi, WKW, WDW, ZW + WPAD_R);
      (void)count_w;
      vstore(y + v * WOH * WOW * VLEN + ow * VLEN, WN_FINISH(acc, v, count_h * count_w));
    }
    /* the interior columns, WPT at a time; the last step may overlap the one before it */
    for (int64_t step = WOW_LO; step < WOW_HI; step += WPT) {
      const int64_t ow0 = step + WPT <= WOW_HI ? step : WOW_HI - WPT;
      WTILE(WN_DECLARE)
      for (int64_t kh = kh_lo; kh < kh_hi; kh++) {
        const float *zr = rv + ((ih0 + kh * WDH) % RING) * ZW * VLEN;
        for (int64_t kw = 0; kw < WKW; kw++) {
          const vfloat wk = WN_WEIGHT(v, kh, kw);
          (void)wk;
          WTILE(WN_ACC)
        }
      }
      WTILE(WN_STORE)
    }
  }
}

#undef WN_INIT
#undef WN_TAP
#undef WN_WEIGHT
#undef WN_DECLARE
#undef WN_ACC
#undef WN_STORE
#undef WN_TAPS
#undef WN_COUNT
#undef WN_FINISH
