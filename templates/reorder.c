/* reorder.c: a tensor between plain NCHW and channel-blocked NCHWc (the layout pass puts these at the edges of
 * the blocked part of the graph; compiler/layout.c).
 *
 *   plain    x[n][c][s]                       s: the flattened spatial position, c < C
 *   blocked  y[n][cb][s][l], c = cb * VLEN + l  CB = ceil(C / VLEN) blocks, lanes of c >= C hold 0
 *
 * Parameters: FN (the function: FN(const float *x, float *y) reads x and writes y), BATCH, C, SPATIAL, and
 * TO_BLOCKED (1: plain to blocked, 0: blocked to plain). Both directions walk the destination in order; the
 * source reads of one destination vector fall into VLEN cache lines that the next positions reuse. */
#ifndef VLEN
#error "reorder.c is instantiated after simd.h"
#endif

#define REORDER_CB ((C + VLEN - 1) / VLEN)

static void FN(const float *restrict x, float *restrict y) {
  for (int n = 0; n < BATCH; n++) {
    for (int cb = 0; cb < REORDER_CB; cb++) {
      const int lanes = C - cb * VLEN < VLEN ? C - cb * VLEN : VLEN;
#if TO_BLOCKED
      const float *src = x + ((int64_t)n * C + (int64_t)cb * VLEN) * SPATIAL;
      float *dst = y + ((int64_t)n * REORDER_CB + cb) * SPATIAL * VLEN;
      for (int s = 0; s < SPATIAL; s++) {
        for (int l = 0; l < lanes; l++)
          dst[s * VLEN + l] = src[(int64_t)l * SPATIAL + s];
        for (int l = lanes; l < VLEN; l++)
          dst[s * VLEN + l] = 0.0f;
      }
#else
      const float *src = x + ((int64_t)n * REORDER_CB + cb) * SPATIAL * VLEN;
      float *dst = y + ((int64_t)n * C + (int64_t)cb * VLEN) * SPATIAL;
      for (int l = 0; l < lanes; l++)
        for (int s = 0; s < SPATIAL; s++)
          dst[(int64_t)l * SPATIAL + s] = src[(int64_t)s * VLEN + l];
#endif
    }
  }
}

#undef REORDER_CB
