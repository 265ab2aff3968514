/* An element-wise function y = ACT(x) (an activation: Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish,
 * Tanh, SiLU, ...) over row-major or NCHWc data.
 *
 *   row-major (NCHWC 0): x, y (COUNT) floats
 *   NCHWc     (NCHWC 1): x, y (BATCH, CB, SPATIAL, VLEN), CB = ceil(CHANNELS / VLEN); the padding lanes of a
 *                        partial last block are written as zero, whatever ACT makes of zero
 *
 * Row-major data runs as one flat array, the last partial vector through masked loads and stores, so no
 * element past COUNT is read or written. y may be x (in place).
 *
 * Parameters: FN, NCHWC, and COUNT (row-major) or BATCH, CHANNELS, SPATIAL (NCHWc); ACT(v), the vector
 * function, e.g. vsigmoid(v) or vclip(v, 0.0f, 6.0f). Defines FN(x, y). */

static void FN(const float *x, float *y) {
#if NCHWC
  enum { CB = (CHANNELS + VLEN - 1) / VLEN, TAIL = CHANNELS % VLEN };
  for (int n = 0; n < BATCH; n++)
    for (int cb = 0; cb < CB; cb++) {
      const int at = (n * CB + cb) * SPATIAL * VLEN;
      for (int s = 0; s < SPATIAL; s++) {
        vfloat v = ACT(vload(x + at + s * VLEN));
        if (TAIL != 0 && cb == CB - 1)
          v = vkeep_lanes(v, TAIL);
        vstore(y + at + s * VLEN, v);
      }
    }
#else
  for (int i = 0; i < COUNT / VLEN * VLEN; i += VLEN)
    vstore(y + i, ACT(vload(x + i)));
  if (COUNT % VLEN)
    vstore_partial(y + COUNT / VLEN * VLEN, ACT(vload_partial(x + COUNT / VLEN * VLEN, COUNT % VLEN)),
                   COUNT % VLEN);
#endif
}
