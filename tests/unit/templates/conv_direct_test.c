/* Driver for templates/conv_direct.c (test_templates.c writes the instances and a table of cases). Packs random
 * plain-layout tensors into the layouts the template's header documents (plain NCHW input when ib is 1), runs
 * the instance and compares every output lane with a double-precision reference, padded lanes included. */
#include "common.h"

typedef void (*dc_kernel)(const float *, const float *, const float *, const float *, const float *, const float *,
                          float *);

struct dc_case {
  dc_kernel fn;
  int batch, g, c, m; /* c and m per group */
  int ih, iw, kh, kw, sh, sw, dh, dw, pad_t, pad_l, oh, ow;
  int ib, ocv, bias, residual, act, post_act;
};

static int dc_blocks(int channels, int per) { return (channels + per - 1) / per; }

static void dc_run(const struct dc_case *k) {
  const int icb = dc_blocks(k->c, k->ib), ocb = dc_blocks(k->m, VLEN), C = k->g * k->c, M = k->g * k->m;
  const long xs = (long)k->batch * C * k->ih * k->iw, ws = (long)M * k->c * k->kh * k->kw;
  const long ys = (long)k->batch * M * k->oh * k->ow, yb_size = (long)k->batch * k->g * ocb * k->oh * k->ow * VLEN;
  float *x = test_alloc(xs, 0), *w = test_alloc(ws, 0), *b = test_alloc(M, 0), *r = test_alloc(ys, 0);
  float *xb = test_alloc((long)k->batch * k->g * icb * k->ih * k->iw * k->ib, 0);
  float *wp = test_alloc((long)k->g * ocb * VLEN * icb * k->ib * k->kh * k->kw, 0);
  float *bp = test_alloc((long)k->g * ocb * VLEN, 0), *rb = test_alloc(yb_size, 0), *yb = test_alloc(yb_size, NAN);
  for (long i = 0; i < xs; i++)
    x[i] = test_random();
  for (long i = 0; i < ws; i++)
    w[i] = test_random();
  for (int i = 0; i < M; i++)
    b[i] = test_random();
  for (long i = 0; i < ys; i++)
    r[i] = test_random();
  const long plane = (long)k->ih * k->iw, out_plane = (long)k->oh * k->ow, taps = (long)k->kh * k->kw;
  /* x [BATCH][G * ICB][IH][IW][IB] */
  for (int n = 0; n < k->batch; n++)
    for (int c = 0; c < C; c++)
      for (long s = 0; s < plane; s++) {
        const int grp = c / k->c, cg = c % k->c;
        xb[(((long)n * k->g * icb + grp * icb + cg / k->ib) * plane + s) * k->ib + cg % k->ib] = x[((long)n * C + c) * plane + s];
      }
  /* w [G][OCB / OCV][ICB][KH][KW][IB][OCV][VLEN] */
  for (int m = 0; m < M; m++)
    for (int c = 0; c < k->c; c++)
      for (long t = 0; t < taps; t++) {
        const int grp = m / k->m, mg = m % k->m, ob = mg / VLEN, og = ob / k->ocv, v = ob % k->ocv;
        const long at = (((((long)grp * (ocb / k->ocv) + og) * icb + c / k->ib) * taps + t) * k->ib + c % k->ib) * k->ocv + v;
        wp[at * VLEN + mg % VLEN] = w[((long)m * k->c + c) * taps + t];
      }
  for (int m = 0; m < M; m++) {
    const int grp = m / k->m, mg = m % k->m;
    bp[(grp * ocb + mg / VLEN) * VLEN + mg % VLEN] = b[m];
    for (int n = 0; n < k->batch; n++)
      for (long s = 0; s < out_plane; s++)
        rb[(((long)n * k->g * ocb + grp * ocb + mg / VLEN) * out_plane + s) * VLEN + mg % VLEN] = r[((long)n * M + m) * out_plane + s];
  }

  k->fn(xb, wp, k->bias ? bp : NULL, k->residual ? rb : NULL, NULL, NULL, yb);

  for (int n = 0; n < k->batch; n++)
    for (int grp = 0; grp < k->g; grp++)
      for (int mg = 0; mg < ocb * VLEN; mg++)
        for (int oh = 0; oh < k->oh; oh++)
          for (int ow = 0; ow < k->ow; ow++) {
            const long at = ((((long)n * k->g * ocb + grp * ocb + mg / VLEN) * k->oh + oh) * k->ow + ow) * VLEN + mg % VLEN;
            if (mg >= k->m) {
              test_expect("padded lane", (int)at, yb[at], 0, 0);
              continue;
            }
            const int m = grp * k->m + mg;
            double acc = k->bias ? b[m] : 0, scale = fabs(acc);
            for (int c = 0; c < k->c; c++)
              for (int i = 0; i < k->kh; i++)
                for (int j = 0; j < k->kw; j++) {
                  const int ih = oh * k->sh + i * k->dh - k->pad_t, iw = ow * k->sw + j * k->dw - k->pad_l;
                  if (ih < 0 || ih >= k->ih || iw < 0 || iw >= k->iw)
                    continue;
                  const double t = (double)w[(((long)m * k->c + c) * k->kh + i) * k->kw + j] *
                                   x[(((long)n * C + grp * k->c + c) * k->ih + ih) * k->iw + iw];
                  acc += t;
                  scale += fabs(t);
                }
            double ref = test_activation(k->act, 0, 6, acc);
            if (k->residual)
              ref = test_activation(k->post_act, 0, 6, ref + r[((long)n * M + m) * out_plane + (long)oh * k->ow + ow]);
            test_expect("output", (int)at, yb[at], ref, scale);
          }
  free(x), free(w), free(b), free(r), free(xb), free(wp), free(bp), free(rb), free(yb);
}
