/* templates/eltwise_unary.c and eltwise_binary.c, compiled on their own for every ISA and compiler, against
 * plain loops (tests/unit/template_checks/eltwise.h): every activation on row-major and NCHWc data, and
 * Add/Sub/Mul/Div with full, per-channel and scalar operands. */
#include "template_harness.h"
#include "testutil.h"

typedef struct Act {
  const char *ref; /* the reference's ACT_ name */
  const char *vec; /* the vector expression of v */
  float alpha, beta;
} Act;

static const Act acts[] = {
    {"ACT_NONE", "(v)", 0, 0},
    {"ACT_RELU", "vrelu(v)", 0, 0},
    {"ACT_LEAKY_RELU", "vleaky_relu(v, 0.100000001f)", 0.1f, 0},
    {"ACT_CLIP", "vclip(v, 0.0f, 6.0f)", 0, 6},
    {"ACT_SIGMOID", "vsigmoid(v)", 0, 0},
    {"ACT_HARD_SIGMOID", "vhard_sigmoid(v, 0.200000003f, 0.5f)", 0.2f, 0.5f},
    {"ACT_HARD_SWISH", "vhard_swish(v)", 0, 0},
    {"ACT_TANH", "vtanh(v)", 0, 0},
    {"ACT_SILU", "vsilu(v)", 0, 0},
};
enum { NONE, RELU, LEAKY_RELU, CLIP, SIGMOID, HARD_SIGMOID, HARD_SWISH, TANH, SILU, N_ACTS };

static char *shape_literal(int nchwc, int batch, int channels, int spatial, const Act *act, int op, int a_kind,
                           int b_kind, int a_per_image, int b_per_image) {
  return cn_format("(EltShape){%d, %d, %d, %d, %s, %s, %s, %d, %d, %d, %d, %d}", nchwc, batch, channels, spatial,
                   act->ref, emit_float(act->alpha, DT_FLOAT), emit_float(act->beta, DT_FLOAT), op, a_kind, b_kind,
                   a_per_image, b_per_image);
}

static void test_unary(void) {
  static const struct {
    int nchwc, batch, channels, spatial, in_place;
  } layouts[] = {
      {0, 1, 1, 100, 0}, /* a partial last vector */
      {0, 2, 4, 16, 1},  /* whole vectors, in place */
      {1, 2, 20, 7, 0},  /* a partial last channel block */
      {1, 1, 32, 5, 1},
  };
  char *body = cn_strdup(""), *calls = cn_strdup("");
  int id = 0;
  for (int a = 0; a < N_ACTS; a++)
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++, id++) {
      const char *defines[] = {
          cn_format("FN unary%d", id),
          cn_format("NCHWC %d", layouts[l].nchwc),
          cn_format("COUNT %d", layouts[l].batch * layouts[l].channels * layouts[l].spatial),
          cn_format("BATCH %d", layouts[l].batch),
          cn_format("CHANNELS %d", layouts[l].channels),
          cn_format("SPATIAL %d", layouts[l].spatial),
          cn_format("ACT(v) %s", acts[a].vec),
          NULL,
      };
      body = cn_format("%s%s", body, tpl_instance("eltwise_unary.c", defines));
      calls = cn_format("%s  bad += check_unary(\"%s layout %zu\", unary%d, %s, %d);\n", calls, acts[a].ref, l, id,
                        shape_literal(layouts[l].nchwc, layouts[l].batch, layouts[l].channels, layouts[l].spatial,
                                      &acts[a], 0, 0, 0, 0, 0),
                        layouts[l].in_place);
    }
  body = cn_format("%s#include \"check.h\"\n#include \"eltwise.h\"\nint main(void) {\n  int bad = 0;\n%s  return bad != 0;\n}\n",
                   body, calls);
  tpl_build_and_run("unary", body);
}

static void test_binary(void) {
  static const char *const ops[] = {"vadd(a, b)", "vsub(a, b)", "vmul(a, b)", "vdiv(a, b)"};
  enum { FULL, CHANNEL, SCALAR };
  static const struct {
    int op, nchwc, batch, channels, spatial, a_kind, b_kind, a_per_image, b_per_image, act;
  } cases[] = {
      {0, 0, 2, 3, 37, FULL, FULL, 0, 0, RELU},         /* residual Add + ReLU, row-major */
      {0, 1, 1, 20, 9, FULL, FULL, 0, 0, RELU},         /* the same on NCHWc, a partial block */
      {0, 1, 1, 20, 9, FULL, FULL, 0, 0, HARD_SIGMOID}, /* padding lanes must stay zero */
      {2, 1, 1, 40, 7, FULL, CHANNEL, 0, 0, NONE},      /* a per-channel scale */
      {2, 1, 2, 24, 5, FULL, CHANNEL, 0, 1, NONE},      /* a squeeze-excitation scale per image */
      {2, 0, 2, 24, 5, CHANNEL, FULL, 1, 0, NONE},
      {0, 0, 1, 5, 49, FULL, CHANNEL, 0, 0, CLIP},      /* a per-channel bias, planes of 49 */
      {1, 0, 1, 1, 77, SCALAR, FULL, 0, 0, NONE},       /* 1 - x */
      {3, 1, 1, 19, 4, FULL, SCALAR, 0, 0, NONE},       /* x / 6 */
      {3, 0, 1, 6, 9, CHANNEL, FULL, 0, 0, NONE},
      {1, 1, 2, 17, 3, CHANNEL, FULL, 0, 0, SIGMOID},
      {0, 1, 2, 33, 1, CHANNEL, CHANNEL, 1, 0, NONE},   /* (N, C, 1, 1) + (1, C, 1, 1) */
      {2, 0, 1, 8, 8, SCALAR, SCALAR, 0, 0, SILU},
  };
  char *body = cn_strdup(""), *calls = cn_strdup("");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    /* per-image strides: the channels of one image as stored */
    const char *image = cases[i].nchwc ? "((CHANNELS + VLEN - 1) / VLEN * VLEN)" : "CHANNELS";
    const char *defines[] = {
        cn_format("FN binary%zu", i),
        cn_format("NCHWC %d", cases[i].nchwc),
        cn_format("BATCH %d", cases[i].batch),
        cn_format("CHANNELS %d", cases[i].channels),
        cn_format("SPATIAL %d", cases[i].spatial),
        cn_format("A_KIND %d", cases[i].a_kind),
        cn_format("B_KIND %d", cases[i].b_kind),
        cn_format("A_BATCH_STRIDE %s", cases[i].a_per_image ? image : "0"),
        cn_format("B_BATCH_STRIDE %s", cases[i].b_per_image ? image : "0"),
        cn_format("OP(a, b) %s", ops[cases[i].op]),
        cn_format("ACT(v) %s", acts[cases[i].act].vec),
        NULL,
    };
    body = cn_format("%s%s", body, tpl_instance("eltwise_binary.c", defines));
    calls = cn_format("%s  bad += check_binary(\"case %zu\", binary%zu, %s);\n", calls, i, i,
                      shape_literal(cases[i].nchwc, cases[i].batch, cases[i].channels, cases[i].spatial,
                                    &acts[cases[i].act], cases[i].op, cases[i].a_kind, cases[i].b_kind,
                                    cases[i].a_per_image, cases[i].b_per_image));
  }
  body = cn_format("%s#include \"check.h\"\n#include \"eltwise.h\"\nint main(void) {\n  int bad = 0;\n%s  return bad != 0;\n}\n",
                   body, calls);
  tpl_build_and_run("binary", body);
}

CU_TestInfo tpl_eltwise_tests[] = {
    {"activations on row-major and NCHWc data", test_unary},
    {"Add, Sub, Mul, Div with full, per-channel and scalar operands", test_binary},
    CU_TEST_INFO_NULL,
};
