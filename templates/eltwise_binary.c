/* A binary element-wise op y = ACT(OP(a, b)) (Add, Sub, Mul, Div, then an optional activation) with the
 * broadcasts CNNs use, over row-major or NCHWc data.
 *
 * y has shape (BATCH, CHANNELS, SPATIAL...) with SPATIAL pixels per channel, stored
 *   row-major (NCHWC 0): (BATCH, CHANNELS, SPATIAL)
 *   NCHWc     (NCHWC 1): (BATCH, CB, SPATIAL, VLEN), CB = ceil(CHANNELS / VLEN), padding lanes written as zero
 * Each operand has a kind, A_KIND and B_KIND:
 *   0  full: y's shape and layout (a residual Add)
 *   1  per channel: one value per (n, c), at n * <A|B>_BATCH_STRIDE + c, so a stride of 0 shares one set of
 *      channels between the batch ((C, 1, 1) or (1, C, 1, 1)) and CHANNELS or CB * VLEN (its NCHWc form,
 *      zero-padded) gives each image its own (N, C, 1, 1), e.g. a squeeze-excitation scale. Row-major: (.., C)
 *      floats; NCHWc: CB vectors of VLEN channels.
 *   2  scalar: one value for everything
 * The op order is kept, so Sub and Div with a broadcast first operand work too.
 *
 * Row-major data without a per-channel operand runs as one flat array, the last partial vector through masked
 * loads and stores; with one, each (n, c) plane runs its SPATIAL elements the same way. y may be a full
 * operand (in place).
 *
 * Parameters: FN, NCHWC, BATCH, CHANNELS, SPATIAL, A_KIND, B_KIND, A_BATCH_STRIDE, B_BATCH_STRIDE (read for
 * per-channel operands only; 0 otherwise), OP(a, b), e.g. vadd(a, b), and ACT(v), the activation after it,
 * e.g. vrelu(v) or (v). Defines FN(a, b, y). */

#define BIN_CB ((CHANNELS + VLEN - 1) / VLEN)
#define BIN_TAIL (CHANNELS % VLEN)
#define BIN_COUNT (BATCH * CHANNELS * SPATIAL)

static void FN(const float *a, const float *b, float *y) {
#if NCHWC
  for (int n = 0; n < BATCH; n++)
    for (int cb = 0; cb < BIN_CB; cb++) {
      const int at = (n * BIN_CB + cb) * SPATIAL * VLEN;
      /* the broadcast operands' vectors for this channel block */
      const vfloat a_fixed = A_KIND == 1 ? vload(a + n * A_BATCH_STRIDE + cb * VLEN)
                             : A_KIND == 2 ? vbroadcast(a[0])
                                           : vzero();
      const vfloat b_fixed = B_KIND == 1 ? vload(b + n * B_BATCH_STRIDE + cb * VLEN)
                             : B_KIND == 2 ? vbroadcast(b[0])
                                           : vzero();
      for (int s = 0; s < SPATIAL; s++) {
        const vfloat va = A_KIND == 0 ? vload(a + at + s * VLEN) : a_fixed;
        const vfloat vb = B_KIND == 0 ? vload(b + at + s * VLEN) : b_fixed;
        vfloat v = ACT(OP(va, vb));
        if (BIN_TAIL != 0 && cb == BIN_CB - 1)
          v = vkeep_lanes(v, BIN_TAIL);
        vstore(y + at + s * VLEN, v);
      }
    }
#elif A_KIND == 1 || B_KIND == 1
  for (int n = 0; n < BATCH; n++)
    for (int c = 0; c < CHANNELS; c++) {
      const int at = (n * CHANNELS + c) * SPATIAL;
      const vfloat a_fixed = vbroadcast(A_KIND == 1 ? a[n * A_BATCH_STRIDE + c] : A_KIND == 2 ? a[0] : 0.0f);
      const vfloat b_fixed = vbroadcast(B_KIND == 1 ? b[n * B_BATCH_STRIDE + c] : B_KIND == 2 ? b[0] : 0.0f);
      for (int s = 0; s < SPATIAL / VLEN * VLEN; s += VLEN) {
        const vfloat va = A_KIND == 0 ? vload(a + at + s) : a_fixed;
        const vfloat vb = B_KIND == 0 ? vload(b + at + s) : b_fixed;
        vstore(y + at + s, ACT(OP(va, vb)));
      }
      if (SPATIAL % VLEN) {
        const int s = SPATIAL / VLEN * VLEN;
        const vfloat va = A_KIND == 0 ? vload_partial(a + at + s, SPATIAL % VLEN) : a_fixed;
        const vfloat vb = B_KIND == 0 ? vload_partial(b + at + s, SPATIAL % VLEN) : b_fixed;
        vstore_partial(y + at + s, ACT(OP(va, vb)), SPATIAL % VLEN);
      }
    }
#else
  const vfloat a_fixed = A_KIND == 2 ? vbroadcast(a[0]) : vzero();
  const vfloat b_fixed = B_KIND == 2 ? vbroadcast(b[0]) : vzero();
  for (int i = 0; i < BIN_COUNT / VLEN * VLEN; i += VLEN) {
    const vfloat va = A_KIND == 0 ? vload(a + i) : a_fixed;
    const vfloat vb = B_KIND == 0 ? vload(b + i) : b_fixed;
    vstore(y + i, ACT(OP(va, vb)));
  }
  if (BIN_COUNT % VLEN) {
    const int i = BIN_COUNT / VLEN * VLEN;
    const vfloat va = A_KIND == 0 ? vload_partial(a + i, BIN_COUNT % VLEN) : a_fixed;
    const vfloat vb = B_KIND == 0 ? vload_partial(b + i, BIN_COUNT % VLEN) : b_fixed;
    vstore_partial(y + i, ACT(OP(va, vb)), BIN_COUNT % VLEN);
  }
#endif
}

#undef BIN_CB
#undef BIN_TAIL
#undef BIN_COUNT
