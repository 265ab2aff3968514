/* Driver for templates/dwconv_nchwc.c (test_tpl_dwconv.c writes the instances and a table of cases): random
 * tensors packed as the template's header documents, every output lane against a plain depthwise convolution
 * in double, fused activation and residual included, padding lanes exactly zero. */
#include "common.h"
#include "blocked.h"

typedef void (*dw_kernel)(const float *x, const float *w, const float *bias, const float *res, float *y);

struct dw_case {
  dw_kernel fn;
  int batch, channels, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, bias, residual;
  int act;
  float alpha, beta;
  int post_act;
  float post_alpha, post_beta;
};

static void dw_run(const struct dw_case *k) {
  const int cb = blocks_of(k->channels), taps = k->kh * k->kw;
  const long in = (long)k->batch * k->channels * k->ih * k->iw, out = (long)k->batch * k->channels * k->oh * k->ow;
  float *x = random_tensor(in, 1), *w = random_tensor((long)k->channels * taps, 1);
  float *b = random_tensor(k->channels, 1), *r = random_tensor(out, 1);
  double *ref = malloc(out * sizeof *ref + 1), *mag = malloc(out * sizeof *mag + 1);
  for (int n = 0; n < k->batch; n++)
    for (int c = 0; c < k->channels; c++)
      for (int i = 0; i < k->oh; i++)
        for (int j = 0; j < k->ow; j++) {
          double acc = k->bias ? b[c] : 0, m = fabs(acc);
          for (int ki = 0; ki < k->kh; ki++)
            for (int kj = 0; kj < k->kw; kj++) {
              const int y = i * k->sh - k->pt + ki * k->dh, xx = j * k->sw - k->pl + kj * k->dw;
              if (y < 0 || y >= k->ih || xx < 0 || xx >= k->iw)
                continue;
              const double t = (double)x[(((long)n * k->channels + c) * k->ih + y) * k->iw + xx] * w[c * taps + ki * k->kw + kj];
              acc += t, m += fabs(t);
            }
          const long at = (((long)n * k->channels + c) * k->oh + i) * k->ow + j;
          ref[at] = test_activation(k->act, k->alpha, k->beta, acc);
          if (k->residual) {
            ref[at] = test_activation(k->post_act, k->post_alpha, k->post_beta, ref[at] + r[at]);
            m += fabs(r[at]);
          }
          mag[at] = m;
        }
  /* the packing the emitter does (ops/conv_depthwise.c): (C, 1, KH, KW) -> (CB, KH, KW, VLEN), bias to (CB, VLEN) */
  float *w_packed = test_alloc((long)cb * taps * VLEN, 0), *b_packed = test_alloc((long)cb * VLEN, 0);
  for (int c = 0; c < k->channels; c++) {
    for (int t = 0; t < taps; t++)
      w_packed[((long)(c / VLEN) * taps + t) * VLEN + c % VLEN] = w[c * taps + t];
    b_packed[c] = b[c];
  }
  const long blocked_out = (long)k->batch * cb * k->oh * k->ow * VLEN;
  float *x_blocked = to_blocked(x, k->batch, k->channels, k->ih * k->iw);
  float *r_blocked = to_blocked(r, k->batch, k->channels, k->oh * k->ow);
  float *y_blocked = test_alloc(blocked_out + GUARD, NAN), *y = test_alloc(out, 0);
  k->fn(x_blocked, w_packed, k->bias ? b_packed : NULL, k->residual ? r_blocked : NULL, y_blocked);
  expect_guard("dwconv", y_blocked + blocked_out);
  from_blocked("dwconv", y_blocked, k->batch, k->channels, k->oh * k->ow, y);
  /* float sums of the taps, the bias and the residual */
  expect_all("dwconv", y, ref, mag, out, 1.2e-7 * (taps + 3));
  free(x), free(w), free(b), free(r), free(ref), free(mag), free(w_packed), free(b_packed), free(x_blocked);
  free(r_blocked), free(y_blocked), free(y);
}
