/* Driver for templates/gemm_rows.c (test_templates.c writes the instances and a table of cases): each start
 * (zero, bias per row, accumulating into C) against a double-precision product, with ReLU as the epilogue in
 * one case; the padding columns of C past N must keep what they held. */
#include "common.h"

typedef void (*gr_kernel)(const float *, const float *, const float *, float *, int);

struct gr_case {
  gr_kernel fn;
  int m, n, k, lda, ldb, ldc, init, relu;
};

static void gr_run(const struct gr_case *t) {
  float *a = test_alloc((long)t->m * t->lda, 0), *b = test_alloc((long)t->k * t->ldb, 0);
  float *bias = test_alloc(t->m, 0), *c = test_alloc((long)t->m * t->ldc, 0), *c0 = test_alloc((long)t->m * t->ldc, 0);
  for (long i = 0; i < (long)t->m * t->lda; i++)
    a[i] = test_random();
  for (long i = 0; i < (long)t->k * t->ldb; i++)
    b[i] = test_random();
  for (int i = 0; i < t->m; i++)
    bias[i] = test_random();
  for (long i = 0; i < (long)t->m * t->ldc; i++)
    c[i] = c0[i] = test_random();
  t->fn(a, b, bias, c, t->init);
  for (int i = 0; i < t->m; i++)
    for (int j = 0; j < t->ldc; j++) {
      const long at = (long)i * t->ldc + j;
      double want = c0[at], scale = 0;
      if (j < t->n) {
        want = t->init == 1 ? bias[i] : t->init == 2 ? c0[at] : 0;
        scale = fabs(want);
        for (int k = 0; k < t->k; k++) {
          const double product = (double)a[(long)i * t->lda + k] * b[(long)k * t->ldb + j];
          want += product;
          scale += fabs(product);
        }
        if (t->relu)
          want = want > 0 ? want : 0;
      }
      test_expect("gemm_rows", (int)at, c[at], want, scale);
    }
  free(a), free(b), free(bias), free(c), free(c0);
}
