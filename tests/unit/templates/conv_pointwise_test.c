/* Driver for templates/conv_pointwise.c (test_templates.c writes the instances and a table of cases). Packs
 * random plain-layout tensors into the layouts the template's header documents, runs the instance and compares
 * every output lane with a double-precision reference, padded lanes included (they must be exactly 0). */
#include "common.h"

typedef void (*pw_kernel)(const float *, const float *, const float *, const float *, float *);

struct pw_case {
  pw_kernel fn;
  int batch, c, m, pixels, ocv, bias, residual;
  int act;
  float alpha, beta;
  int post_act;
  float post_alpha, post_beta;
};

static int pw_blocks(int channels) { return (channels + VLEN - 1) / VLEN; }

static void pw_run(const struct pw_case *k) {
  const int icb = pw_blocks(k->c), ocb = pw_blocks(k->m), P = k->pixels;
  float *x = test_alloc((long)k->batch * k->c * P, 0), *w = test_alloc((long)k->m * k->c, 0);
  float *b = test_alloc(k->m, 0), *r = test_alloc((long)k->batch * k->m * P, 0);
  float *xb = test_alloc((long)k->batch * icb * P * VLEN, 0), *wp = test_alloc((long)ocb * icb * VLEN * VLEN, 0);
  float *bp = test_alloc((long)ocb * VLEN, 0), *rb = test_alloc((long)k->batch * ocb * P * VLEN, 0);
  float *yb = test_alloc((long)k->batch * ocb * P * VLEN, NAN);
  for (long i = 0; i < (long)k->batch * k->c * P; i++)
    x[i] = test_random();
  for (long i = 0; i < (long)k->m * k->c; i++)
    w[i] = test_random();
  for (int i = 0; i < k->m; i++)
    b[i] = test_random();
  for (long i = 0; i < (long)k->batch * k->m * P; i++)
    r[i] = test_random();
  for (int n = 0; n < k->batch; n++)
    for (int c = 0; c < k->c; c++)
      for (int p = 0; p < P; p++)
        xb[(((long)n * icb + c / VLEN) * P + p) * VLEN + c % VLEN] = x[((long)n * k->c + c) * P + p];
  for (int n = 0; n < k->batch; n++)
    for (int m = 0; m < k->m; m++)
      for (int p = 0; p < P; p++)
        rb[(((long)n * ocb + m / VLEN) * P + p) * VLEN + m % VLEN] = r[((long)n * k->m + m) * P + p];
  /* [OCB / OCV][ICB][VLEN][OCV][VLEN] */
  for (int m = 0; m < k->m; m++)
    for (int c = 0; c < k->c; c++) {
      const int ob = m / VLEN, og = ob / k->ocv, v = ob % k->ocv;
      wp[((((long)og * icb + c / VLEN) * VLEN + c % VLEN) * k->ocv + v) * VLEN + m % VLEN] = w[(long)m * k->c + c];
    }
  for (int m = 0; m < k->m; m++)
    bp[m] = b[m];

  k->fn(xb, wp, k->bias ? bp : NULL, k->residual ? rb : NULL, yb);

  for (int n = 0; n < k->batch; n++)
    for (int m = 0; m < ocb * VLEN; m++)
      for (int p = 0; p < P; p++) {
        const long at = (((long)n * ocb + m / VLEN) * P + p) * VLEN + m % VLEN;
        if (m >= k->m) {
          test_expect("padded lane", (int)at, yb[at], 0, 0);
          continue;
        }
        double acc = k->bias ? b[m] : 0, scale = fabs(acc);
        for (int c = 0; c < k->c; c++) {
          const double t = (double)w[(long)m * k->c + c] * x[((long)n * k->c + c) * P + p];
          acc += t;
          scale += fabs(t);
        }
        double ref = test_activation(k->act, k->alpha, k->beta, acc);
        if (k->residual)
          ref = test_activation(k->post_act, k->post_alpha, k->post_beta, ref + r[((long)n * k->m + m) * P + p]);
        test_expect("output", (int)at, yb[at], ref, scale);
      }
  free(x), free(w), free(b), free(r), free(xb), free(wp), free(bp), free(rb), free(yb);
}
