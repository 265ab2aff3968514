/* Driver for templates/conv_wgrad.c (test_tpl_train.c writes the instances and a table of cases): the weight
 * gradient summed over the batch against a double-precision loop over every output pixel; a second call must
 * give the same result (the kernel's sums start again at the first image). */
#include "common.h"

typedef void (*wgrad_kernel)(const float *x, const float *dy, float *dw);

struct wgrad_case {
  wgrad_kernel fn;
  int batch, c, m, ih, iw, oh, ow, kh, kw, dh, dw, pt, pl;
};

static void wgrad_run(const struct wgrad_case *k) {
  const long xs = (long)k->batch * k->c * k->ih * k->iw, dys = (long)k->batch * k->m * k->oh * k->ow;
  const long dws = (long)k->m * k->c * k->kh * k->kw;
  float *x = test_alloc(xs, 0), *dy = test_alloc(dys, 0), *dw = test_alloc(dws + 1, NAN);
  for (long i = 0; i < xs; i++)
    x[i] = test_random();
  for (long i = 0; i < dys; i++)
    dy[i] = test_random();
  for (int pass = 0; pass < 2; pass++) {
    dw[dws] = 12345.0f; /* a guard past the end */
    k->fn(x, dy, dw);
    if (dw[dws] != 12345.0f && test_failures++ < 10)
      printf("conv_wgrad: wrote past dW\n");
    for (int m = 0; m < k->m; m++)
      for (int c = 0; c < k->c; c++)
        for (int th = 0; th < k->kh; th++)
          for (int tw = 0; tw < k->kw; tw++) {
            double want = 0, scale = 0;
            for (int n = 0; n < k->batch; n++)
              for (int oh = 0; oh < k->oh; oh++)
                for (int ow = 0; ow < k->ow; ow++) {
                  const int ih = oh + th * k->dh - k->pt, iw = ow + tw * k->dw - k->pl;
                  if (ih < 0 || ih >= k->ih || iw < 0 || iw >= k->iw)
                    continue;
                  const double p = (double)dy[(((long)n * k->m + m) * k->oh + oh) * k->ow + ow] *
                                   x[(((long)n * k->c + c) * k->ih + ih) * k->iw + iw];
                  want += p;
                  scale += fabs(p);
                }
            const int at = ((m * k->c + c) * k->kh + th) * k->kw + tw;
            test_expect("conv_wgrad", at, dw[at], want, scale);
          }
  }
  free(x), free(dy), free(dw);
}
