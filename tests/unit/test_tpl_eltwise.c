/* templates/eltwise_unary.c and eltwise_binary.c on their own (tb_run_template_tests), instantiated through
 * template.c as ops/eltwise_simd.c does, against plain loops (tests/unit/templates/eltwise_test.c). */
#include "testutil.h"

#include <math.h>

static const Activation activations[] = {
    {ACT_NONE, 0, 0},    {ACT_RELU, 0, 0},           {ACT_LEAKY_RELU, 0.1f, 0},    {ACT_CLIP, 0, 6},
    {ACT_SIGMOID, 0, 0}, {ACT_HARD_SIGMOID, 0.2f, 0.5f}, {ACT_HARD_SWISH, 0, 0}, {ACT_TANH, 0, 0},
    {ACT_SILU, 0, 0},    {ACT_CLIP, -INFINITY, 1.5f},
};
#define N_ACTIVATIONS (int)(sizeof activations / sizeof activations[0])

static const struct {
  int blocked, batch, channels, spatial, in_place;
} layouts[] = {
    {0, 1, 1, 100, 0}, /* a partial last vector */
    {0, 2, 4, 16, 1},  /* whole vectors, in place */
    {1, 2, 20, 7, 0},  /* a partial last channel block */
    {1, 1, 32, 5, 1},
};
#define N_LAYOUTS (int)(sizeof layouts / sizeof layouts[0])

static char *act_fields(const Activation *a) {
  return cn_format("%d, %s, %s", a->kind, emit_float(a->alpha, DT_FLOAT), emit_float(a->beta, DT_FLOAT));
}

static void write_unary(Emitter *e, int vlen) {
  (void)vlen;
  char *table = cn_strdup("");
  for (int a = 0; a < N_ACTIVATIONS; a++)
    for (int l = 0; l < N_LAYOUTS; l++) {
      char *fn = cn_format("unary%d_%d", a, l);
      Instance *t = tpl_begin(e, "eltwise_unary.c", fn);
      tpl_int(t, "NCHWC", layouts[l].blocked);
      tpl_int(t, "COUNT", layouts[l].batch * layouts[l].channels * layouts[l].spatial);
      tpl_int(t, "BATCH", layouts[l].batch);
      tpl_int(t, "CHANNELS", layouts[l].channels);
      tpl_int(t, "SPATIAL", layouts[l].spatial);
      tpl_activation(t, "ACT", &activations[a]);
      tpl_end(t);
      table = cn_format("%s    {%s, %d, %d, %d, %d, %d, %s},\n", table, fn, layouts[l].blocked, layouts[l].batch,
                        layouts[l].channels, layouts[l].spatial, layouts[l].in_place, act_fields(&activations[a]));
    }
  fprintf(e->kernels, "static const struct unary_case unary_cases[] = {\n%s};\n\n", table);
}

static void test_unary(void) {
  tb_run_template_tests("eltwise_test.c", write_unary,
                        "  for (size_t i = 0; i < sizeof unary_cases / sizeof unary_cases[0]; i++)\n"
                        "    unary_run(&unary_cases[i]);\n"
                        "  return test_failures;");
}

enum { FULL, CHANNEL, SCALAR };
static const char *const ops[] = {"vadd", "vsub", "vmul", "vdiv"};
typedef struct BinaryCase {
  int op, blocked, batch, channels, spatial, a_kind, b_kind, a_per_image, b_per_image, act;
} BinaryCase;

static const BinaryCase binary_cases[] = {
    {0, 0, 2, 3, 37, FULL, FULL, 0, 0, 1},        /* residual Add + ReLU, row-major */
    {0, 1, 1, 20, 9, FULL, FULL, 0, 0, 1},        /* the same blocked, a partial block */
    {0, 1, 1, 20, 9, FULL, FULL, 0, 0, 5},        /* HardSigmoid(0) = 0.5: padding lanes must stay zero */
    {2, 1, 1, 40, 7, FULL, CHANNEL, 0, 0, 0},     /* a per-channel scale */
    {2, 1, 2, 24, 5, FULL, CHANNEL, 0, 1, 0},     /* a squeeze-excitation scale per image */
    {2, 0, 2, 24, 5, CHANNEL, FULL, 1, 0, 0},
    {0, 0, 1, 5, 49, FULL, CHANNEL, 0, 0, 3},     /* a per-channel bias on planes of 49, ReLU6 */
    {1, 0, 1, 1, 77, SCALAR, FULL, 0, 0, 0},      /* 1 - x */
    {3, 1, 1, 19, 4, FULL, SCALAR, 0, 0, 0},      /* x / 6 */
    {3, 0, 1, 6, 9, CHANNEL, FULL, 0, 0, 0},
    {1, 1, 2, 17, 3, CHANNEL, FULL, 0, 0, 4},
    {0, 1, 2, 33, 1, CHANNEL, CHANNEL, 1, 0, 0},  /* (N, C, 1, 1) + (1, C, 1, 1) */
    {2, 0, 1, 8, 8, SCALAR, SCALAR, 0, 0, 8},
};

static void write_binary(Emitter *e, int vlen) {
  char *table = cn_strdup("");
  for (size_t i = 0; i < sizeof binary_cases / sizeof binary_cases[0]; i++) {
    const BinaryCase *c = &binary_cases[i];
    int64_t image = c->blocked ? (c->channels + vlen - 1) / vlen * vlen : c->channels; /* per-image stride */
    char *fn = cn_format("binary%zu", i);
    Instance *t = tpl_begin(e, "eltwise_binary.c", fn);
    tpl_int(t, "NCHWC", c->blocked);
    tpl_int(t, "BATCH", c->batch);
    tpl_int(t, "CHANNELS", c->channels);
    tpl_int(t, "SPATIAL", c->spatial);
    tpl_int(t, "A_KIND", c->a_kind);
    tpl_int(t, "B_KIND", c->b_kind);
    tpl_int(t, "A_BATCH_STRIDE", c->a_per_image ? image : 0);
    tpl_int(t, "B_BATCH_STRIDE", c->b_per_image ? image : 0);
    tpl_define(t, "OP(a, b)", "%s(a, b)", ops[c->op]);
    tpl_activation(t, "ACT", &activations[c->act]);
    tpl_end(t);
    table = cn_format("%s    {%s, %d, %d, %d, %d, %d, {%d, %d}, {%d, %d}, %s},\n", table, fn, c->blocked, c->batch,
                      c->channels, c->spatial, c->op, c->a_kind, c->b_kind, c->a_per_image, c->b_per_image,
                      act_fields(&activations[c->act]));
  }
  fprintf(e->kernels, "static const struct binary_case binary_cases[] = {\n%s};\n\n", table);
}

static void test_binary(void) {
  tb_run_template_tests("eltwise_test.c", write_binary,
                        "  for (size_t i = 0; i < sizeof binary_cases / sizeof binary_cases[0]; i++)\n"
                        "    binary_run(&binary_cases[i]);\n"
                        "  return test_failures;");
}

CU_TestInfo tpl_eltwise_tests[] = {
    {"activations on row-major and NCHWc data", test_unary},
    {"Add, Sub, Mul, Div with full, per-channel and scalar operands", test_binary},
    CU_TEST_INFO_NULL,
};
