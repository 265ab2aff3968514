/* Checks an instance of templates/dwconv_nchwc.c against a plain depthwise convolution in double. */
typedef struct DwShape {
  int batch, channels, ih, iw, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, has_bias, act;
  float alpha, beta;
  int residual, post_act; /* y = post_act(act(conv + bias) + res) */
} DwShape;

typedef void (*DwFn)(const float *x, const float *w, const float *bias, const float *res, float *y);

CHECK_FN int dw_out(int in, int k, int s, int d, int p0, int p1) { return (in + p0 + p1 - d * (k - 1) - 1) / s + 1; }

static int check_dwconv(const char *name, DwFn fn, DwShape s) {
  int oh = dw_out(s.ih, s.kh, s.sh, s.dh, s.pt, s.pb), ow = dw_out(s.iw, s.kw, s.sw, s.dw, s.pl, s.pr);
  int cb = blocks_of(s.channels), taps = s.kh * s.kw;
  size_t in_count = (size_t)s.batch * s.channels * s.ih * s.iw, out_count = (size_t)s.batch * s.channels * oh * ow;
  float *x = random_floats(in_count, 1), *w = random_floats((size_t)s.channels * taps, 1);
  float *b = random_floats(s.channels, 1), *r = random_floats(out_count, 1);
  double *ref = malloc(out_count * sizeof *ref + 1), *mag = malloc(out_count * sizeof *mag + 1);
  for (int n = 0; n < s.batch; n++)
    for (int c = 0; c < s.channels; c++)
      for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++) {
          double acc = s.has_bias ? b[c] : 0, m = fabs(acc);
          for (int ki = 0; ki < s.kh; ki++)
            for (int kj = 0; kj < s.kw; kj++) {
              int y = i * s.sh - s.pt + ki * s.dh, xx = j * s.sw - s.pl + kj * s.dw;
              if (y < 0 || y >= s.ih || xx < 0 || xx >= s.iw)
                continue;
              double t = (double)x[(((size_t)n * s.channels + c) * s.ih + y) * s.iw + xx] * w[(c * s.kh + ki) * s.kw + kj];
              acc += t;
              m += fabs(t);
            }
          size_t at = (((size_t)n * s.channels + c) * oh + i) * ow + j;
          ref[at] = ref_act(s.act, s.alpha, s.beta, acc);
          if (s.residual) {
            ref[at] = ref_act(s.post_act, 0, 0, ref[at] + r[at]);
            m += fabs(r[at]);
          }
          mag[at] = m;
        }
  /* the packing the emitter does: w (C, 1, KH, KW) -> (CB, KH, KW, VLEN), b (C) -> (CB, VLEN), zero-padded */
  float *w_packed = calloc((size_t)cb * taps * VLEN, sizeof *w_packed);
  float *b_packed = calloc((size_t)cb * VLEN, sizeof *b_packed);
  for (int c = 0; c < s.channels; c++) {
    for (int t = 0; t < taps; t++)
      w_packed[((size_t)(c / VLEN) * taps + t) * VLEN + c % VLEN] = w[c * taps + t];
    b_packed[c] = b[c];
  }
  float *x_blocked = to_nchwc(x, s.batch, s.channels, s.ih * s.iw);
  float *y_blocked = malloc((size_t)s.batch * cb * oh * ow * VLEN * sizeof *y_blocked + 1);
  memset(y_blocked, 0xff, (size_t)s.batch * cb * oh * ow * VLEN * sizeof *y_blocked); /* NaN: every lane must be written */
  float *r_blocked = to_nchwc(r, s.batch, s.channels, oh * ow);
  fn(x_blocked, w_packed, s.has_bias ? b_packed : NULL, s.residual ? r_blocked : NULL, y_blocked);
  float *y = malloc(out_count * sizeof *y + 1);
  int bad = 0, dirty = from_nchwc(y_blocked, s.batch, s.channels, oh * ow, y);
  if (dirty) {
    printf("%s: %d padding lanes are not zero\n", name, dirty);
    bad++;
  }
  bad += compare(name, y, ref, mag, out_count, 1.2e-7 * (taps + 2)); /* float sums of taps + 1 terms */
  free(x), free(w), free(b), free(r), free(r_blocked), free(ref), free(mag), free(w_packed), free(b_packed), free(x_blocked), free(y_blocked);
  free(y);
  return bad;
}
