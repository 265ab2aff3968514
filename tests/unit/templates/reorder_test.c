/* Driver for templates/reorder.c (test_templates.c writes the instances and a table of cases): plain to blocked
 * puts every element where NCHWc says and zeros the padded lanes, and blocked to plain gives back exactly the
 * tensor it started from. */
#include "common.h"

typedef void (*ro_kernel)(const float *, float *);

struct ro_case {
  ro_kernel to_blocked, to_plain;
  int batch, c, spatial;
};

static void ro_run(const struct ro_case *k) {
  const int cb = (k->c + VLEN - 1) / VLEN;
  const long plain = (long)k->batch * k->c * k->spatial, blocked = (long)k->batch * cb * k->spatial * VLEN;
  float *x = test_alloc(plain, 0), *b = test_alloc(blocked, NAN), *back = test_alloc(plain, NAN);
  for (long i = 0; i < plain; i++)
    x[i] = test_random();
  k->to_blocked(x, b);
  k->to_plain(b, back);
  for (int n = 0; n < k->batch; n++)
    for (int c = 0; c < cb * VLEN; c++)
      for (int s = 0; s < k->spatial; s++) {
        const long at = (((long)n * cb + c / VLEN) * k->spatial + s) * VLEN + c % VLEN;
        const float want = c < k->c ? x[((long)n * k->c + c) * k->spatial + s] : 0.0f;
        if (!(b[at] == want) && test_failures++ < 10)
          printf("blocked element %ld is %g, expected %g\n", at, b[at], want);
      }
  for (long i = 0; i < plain; i++)
    if (!(back[i] == x[i]) && test_failures++ < 10)
      printf("round trip: element %ld is %g, expected %g\n", i, back[i], x[i]);
  free(x), free(b), free(back);
}
