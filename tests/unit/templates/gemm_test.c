/* Driver for templates/gemm.c (test_templates.c writes the instances and a table of cases): B packed into the
 * panels the template's header documents, the output row-major with a partial last column block, compared
 * with a double-precision reference; the guard words after the output must stay untouched. */
#include "common.h"

typedef void (*gm_kernel)(const float *, const float *, const float *, const float *, float *);

struct gm_case {
  gm_kernel fn;
  int m, k, n, nv;
  float alpha;
  int bias, residual, act, post_act;
};

static void gm_run(const struct gm_case *t) {
  const int nb = (t->n + VLEN - 1) / VLEN;
  float *a = test_alloc((long)t->m * t->k, 0), *b = test_alloc((long)t->k * t->n, 0), *c = test_alloc(t->n, 0);
  float *r = test_alloc((long)t->m * t->n, 0), *wp = test_alloc((long)nb * VLEN * t->k, 0);
  float *bp = test_alloc((long)nb * VLEN, 0), *y = test_alloc((long)t->m * t->n + VLEN, NAN);
  for (long i = 0; i < (long)t->m * t->k; i++)
    a[i] = test_random();
  for (long i = 0; i < (long)t->k * t->n; i++)
    b[i] = test_random();
  for (int j = 0; j < t->n; j++)
    c[j] = bp[j] = test_random();
  for (long i = 0; i < (long)t->m * t->n; i++)
    r[i] = test_random();
  /* w [NB / NV][K][NV][VLEN] */
  for (int kk = 0; kk < t->k; kk++)
    for (int j = 0; j < t->n; j++) {
      const int block = j / VLEN, group = block / t->nv, v = block % t->nv;
      wp[(((long)group * t->k + kk) * t->nv + v) * VLEN + j % VLEN] = b[(long)kk * t->n + j];
    }

  t->fn(a, wp, t->bias ? bp : NULL, t->residual ? r : NULL, y);

  for (int i = 0; i < t->m; i++)
    for (int j = 0; j < t->n; j++) {
      double acc = 0, scale = 0;
      for (int kk = 0; kk < t->k; kk++) {
        const double p = (double)a[(long)i * t->k + kk] * b[(long)kk * t->n + j];
        acc += p;
        scale += fabs(p);
      }
      acc = t->alpha * acc + (t->bias ? c[j] : 0);
      double ref = test_activation(t->act, 0, 6, acc);
      if (t->residual)
        ref = test_activation(t->post_act, 0, 6, ref + r[(long)i * t->n + j]);
      test_expect("output", i * t->n + j, y[(long)i * t->n + j], ref, fabs(t->alpha) * scale + 1);
    }
  for (int j = 0; j < VLEN; j++)
    if (!isnan(y[(long)t->m * t->n + j]) && test_failures++ < 10)
      printf("the kernel wrote past the output (guard %d)\n", j);
  free(a), free(b), free(c), free(r), free(wp), free(bp), free(y);
}
