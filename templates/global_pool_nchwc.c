/* GlobalAveragePool and GlobalMaxPool on NCHWc data: one value per channel over all SIZE pixels.
 *
 *   x (BATCH, CB, SIZE, VLEN)  NCHWc input, CB = ceil(CHANNELS / VLEN), padding lanes zero
 *   y (BATCH, CB, VLEN)        with OUT_NCHWC: NCHWc, padding lanes zero
 *     (BATCH, CHANNELS)        without: row-major, which is (N, C, 1, 1) for the classifier after it
 *
 * Four accumulators per channel block take turns over the pixels, so the adds (or maxes) do not wait on each
 * other; a float sum of SIZE terms split four ways is within about SIZE / 4 roundings of exact, which for the
 * 7x7 to 56x56 planes of CNNs stays well inside 1e-5 relative. The maximum takes `v > max ? v : max`, passing
 * over NaN as the generic target does.
 *
 * Parameters (integer constants): FN, BATCH, CHANNELS, SIZE (pixels per channel), POOL_MAX (1: max, 0: mean),
 * OUT_NCHWC (0 or 1). Defines FN(x, y). */

#define GP_CB ((CHANNELS + VLEN - 1) / VLEN)
#if POOL_MAX
#define GP_START vbroadcast(-__builtin_inff())
#define GP_ACCUMULATE(acc, v) vmax((v), (acc))
#else
#define GP_START vzero()
#define GP_ACCUMULATE(acc, v) vadd((acc), (v))
#endif

static void FN(const float *restrict x, float *restrict y) {
  for (int n = 0; n < BATCH; n++) {
    for (int cb = 0; cb < GP_CB; cb++) {
      const float *p = x + (n * GP_CB + cb) * SIZE * VLEN;
      vfloat acc0 = GP_START, acc1 = GP_START, acc2 = GP_START, acc3 = GP_START;
      for (int i = 0; i < SIZE / 4 * 4; i += 4) {
        acc0 = GP_ACCUMULATE(acc0, vload(p + i * VLEN));
        acc1 = GP_ACCUMULATE(acc1, vload(p + (i + 1) * VLEN));
        acc2 = GP_ACCUMULATE(acc2, vload(p + (i + 2) * VLEN));
        acc3 = GP_ACCUMULATE(acc3, vload(p + (i + 3) * VLEN));
      }
      for (int i = SIZE / 4 * 4; i < SIZE; i++)
        acc0 = GP_ACCUMULATE(acc0, vload(p + i * VLEN));
      vfloat v = GP_ACCUMULATE(GP_ACCUMULATE(acc0, acc1), GP_ACCUMULATE(acc2, acc3));
      if (!POOL_MAX)
        v = vdiv(v, vbroadcast((float)SIZE));
      if (OUT_NCHWC)
        vstore(y + (n * GP_CB + cb) * VLEN, v);
      else if (cb < CHANNELS / VLEN)
        vstore(y + n * CHANNELS + cb * VLEN, v);
      else
        vstore_partial(y + n * CHANNELS + cb * VLEN, v, CHANNELS % VLEN);
    }
  }
}

#undef GP_CB
#undef GP_START
#undef GP_ACCUMULATE
