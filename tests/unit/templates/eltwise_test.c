/* Driver for templates/eltwise_unary.c and eltwise_binary.c (test_tpl_eltwise.c writes the instances and tables
 * of cases): every activation on row-major and blocked data, in place too, and Add/Sub/Mul/Div with full,
 * per-channel and scalar operands, against plain loops in double; padding lanes exactly zero, nothing written
 * past the output. */
#include "common.h"
#include "blocked.h"

typedef void (*unary_kernel)(const float *x, float *y);
typedef void (*binary_kernel)(const float *a, const float *b, float *y);

/* (batch, channels, spatial) as the template stores it: row-major or blocked. */
static long stored_count(int blocked, int batch, int channels, int spatial) {
  return (long)batch * (blocked ? blocks_of(channels) * VLEN : channels) * spatial;
}

static float *store(int blocked, const float *x, int batch, int channels, int spatial) {
  if (blocked)
    return to_blocked(x, batch, channels, spatial);
  const long count = (long)batch * channels * spatial;
  float *p = test_alloc(count, 0);
  memcpy(p, x, (size_t)count * sizeof *p);
  return p;
}

static void load(const char *what, int blocked, const float *stored, int batch, int channels, int spatial, float *x) {
  if (blocked)
    from_blocked(what, stored, batch, channels, spatial, x);
  else
    memcpy(x, stored, (size_t)batch * channels * spatial * sizeof *x);
}

struct unary_case {
  unary_kernel fn;
  int blocked, batch, channels, spatial, in_place;
  int act;
  float alpha, beta;
};

TEST_FN void unary_run(const struct unary_case *k) {
  const long count = (long)k->batch * k->channels * k->spatial;
  const long stored = stored_count(k->blocked, k->batch, k->channels, k->spatial);
  float *x = random_tensor(count, 8);
  x[0] = 0, x[count - 1] = -0.0f;
  double *ref = malloc(count * sizeof *ref + 1);
  for (long i = 0; i < count; i++)
    ref[i] = test_activation(k->act, k->alpha, k->beta, x[i]);
  float *x_stored = store(k->blocked, x, k->batch, k->channels, k->spatial);
  float *y_stored = test_alloc(stored + GUARD, NAN);
  if (k->in_place)
    memcpy(y_stored, x_stored, (size_t)stored * sizeof *y_stored);
  k->fn(k->in_place ? y_stored : x_stored, y_stored);
  expect_guard("activation", y_stored + stored);
  float *y = test_alloc(count, 0);
  load("activation", k->blocked, y_stored, k->batch, k->channels, k->spatial, y);
  expect_all("activation", y, ref, NULL, count, 4e-7); /* the activations' few ulp (simd_math.h) */
  free(x), free(ref), free(x_stored), free(y_stored), free(y);
}

struct binary_case {
  binary_kernel fn;
  int blocked, batch, channels, spatial;
  int op; /* 0 add, 1 sub, 2 mul, 3 div */
  int kind[2], per_image[2]; /* kind: 0 full, 1 per channel, 2 scalar */
  int act;
  float alpha, beta;
};

/* An operand of a kind: its values in logical order, and stored as the template reads it. */
struct operand {
  float *values, *stored;
};

static struct operand make_operand(const struct binary_case *k, int i) {
  struct operand o;
  if (k->kind[i] == 0) {
    o.values = random_tensor((long)k->batch * k->channels * k->spatial, 1);
    o.stored = store(k->blocked, o.values, k->batch, k->channels, k->spatial);
  } else if (k->kind[i] == 1) {
    const int images = k->per_image[i] ? k->batch : 1;
    o.values = random_tensor((long)images * k->channels, 1);
    o.stored = store(k->blocked, o.values, images, k->channels, 1);
  } else {
    o.values = random_tensor(1, 1);
    o.stored = store(0, o.values, 1, 1, 1);
  }
  return o;
}

static float operand_at(const struct binary_case *k, int i, const struct operand *o, int n, int c, int p) {
  if (k->kind[i] == 0)
    return o->values[((long)n * k->channels + c) * k->spatial + p];
  if (k->kind[i] == 1)
    return o->values[(long)(k->per_image[i] ? n : 0) * k->channels + c];
  return o->values[0];
}

TEST_FN void binary_run(const struct binary_case *k) {
  const long count = (long)k->batch * k->channels * k->spatial;
  const long stored = stored_count(k->blocked, k->batch, k->channels, k->spatial);
  struct operand a = make_operand(k, 0), b = make_operand(k, 1);
  double *ref = malloc(count * sizeof *ref + 1);
  for (int n = 0; n < k->batch; n++)
    for (int c = 0; c < k->channels; c++)
      for (int p = 0; p < k->spatial; p++) {
        /* the op rounded to float, as the vector op does, then the activation */
        const float va = operand_at(k, 0, &a, n, c, p), vb = operand_at(k, 1, &b, n, c, p);
        const float v = k->op == 0 ? va + vb : k->op == 1 ? va - vb : k->op == 2 ? va * vb : va / vb;
        ref[((long)n * k->channels + c) * k->spatial + p] = test_activation(k->act, k->alpha, k->beta, v);
      }
  float *y_stored = test_alloc(stored + GUARD, NAN), *y = test_alloc(count, 0);
  k->fn(a.stored, b.stored, y_stored);
  expect_guard("binary", y_stored + stored);
  load("binary", k->blocked, y_stored, k->batch, k->channels, k->spatial, y);
  expect_all("binary", y, ref, NULL, count, 4e-7);
  free(a.values), free(a.stored), free(b.values), free(b.stored), free(ref), free(y_stored), free(y);
}
