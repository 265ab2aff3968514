/* Softmax or LogSoftmax over the last axis of row-major data.
 *
 *   x, y (ROWS, LEN):  y[r][i] = exp(x[r][i] - m) / s           (Softmax)
 *                      y[r][i] = x[r][i] - m - log(s)           (LogSoftmax)
 *   with m = max over i of x[r][i] and s = sum over i of exp(x[r][i] - m)
 *
 * Three passes over each row, as the generic target makes: the maximum (subtracting it keeps exp from
 * overflowing), then exp and its sum (Softmax stores the exponentials in y on the way), then the scaling. The
 * vector exp is within 1 ulp (simd_math.h); four accumulators shorten the dependency chains of the first two
 * passes. Elements past a row's last whole vector go through masked loads and stores, the max over them in
 * scalar code, so nothing outside the row is read or written. y may be x.
 *
 * Parameters: FN, ROWS, LEN, LOG (0: Softmax, 1: LogSoftmax). Defines FN(x, y). */

static void FN(const float *x, float *y) {
  enum { WHOLE4 = LEN / (4 * VLEN) * 4 * VLEN, WHOLE = LEN / VLEN * VLEN, REST = LEN % VLEN };
  for (int r = 0; r < ROWS; r++) {
    const float *xr = x + r * LEN;
    float *yr = y + r * LEN;

    vfloat m0 = vbroadcast(-__builtin_inff()), m1 = m0, m2 = m0, m3 = m0;
    for (int i = 0; i < WHOLE4; i += 4 * VLEN) {
      m0 = vmax(vload(xr + i), m0);
      m1 = vmax(vload(xr + i + VLEN), m1);
      m2 = vmax(vload(xr + i + 2 * VLEN), m2);
      m3 = vmax(vload(xr + i + 3 * VLEN), m3);
    }
    for (int i = WHOLE4; i < WHOLE; i += VLEN)
      m0 = vmax(vload(xr + i), m0);
    float max = vreduce_max(vmax(vmax(m0, m1), vmax(m2, m3)));
    for (int k = WHOLE; k < LEN; k++)
      max = xr[k] > max ? xr[k] : max;
    const vfloat vmax_x = vbroadcast(max);

    vfloat s0 = vzero(), s1 = vzero(), s2 = vzero(), s3 = vzero();
#define SM_EXP(acc, at)                                                                                            \
  do {                                                                                                             \
    const vfloat e_ = vexp(vsub(vload(xr + (at)), vmax_x));                                                        \
    if (!LOG)                                                                                                      \
      vstore(yr + (at), e_);                                                                                       \
    acc = vadd(acc, e_);                                                                                           \
  } while (0)
    for (int i = 0; i < WHOLE4; i += 4 * VLEN) {
      SM_EXP(s0, i);
      SM_EXP(s1, i + VLEN);
      SM_EXP(s2, i + 2 * VLEN);
      SM_EXP(s3, i + 3 * VLEN);
    }
    for (int i = WHOLE4; i < WHOLE; i += VLEN)
      SM_EXP(s0, i);
#undef SM_EXP
    if (REST) {
      const vfloat e = vkeep_lanes(vexp(vsub(vload_partial(xr + WHOLE, REST), vmax_x)), REST);
      if (!LOG)
        vstore_partial(yr + WHOLE, e, REST);
      s0 = vadd(s0, e);
    }
    const float sum = vreduce_add(vadd(vadd(s0, s1), vadd(s2, s3)));

    if (LOG) {
      const vfloat log_sum = vbroadcast(__builtin_logf(sum));
      for (int i = 0; i < WHOLE; i += VLEN)
        vstore(yr + i, vsub(vsub(vload(xr + i), vmax_x), log_sum));
      if (REST)
        vstore_partial(yr + WHOLE, vsub(vsub(vload_partial(xr + WHOLE, REST), vmax_x), log_sum), REST);
    } else {
      const vfloat vsum = vbroadcast(sum);
      for (int i = 0; i < WHOLE; i += VLEN)
        vstore(yr + i, vdiv(vload(yr + i), vsum));
      if (REST)
        vstore_partial(yr + WHOLE, vdiv(vload_partial(yr + WHOLE, REST), vsum), REST);
    }
  }
}
