/* templates/dwconv_nchwc.c, compiled on its own with small constants for every ISA and compiler, against a
 * plain depthwise convolution (tests/unit/template_checks/dwconv.h). */
#include "template_harness.h"
#include "testutil.h"

typedef struct DwCase {
  int batch, channels, ih, iw, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, has_bias;
  const char *act; /* the reference's ACT_ name */
  float alpha, beta;
  int tile;
  int residual;       /* then ReLU after the residual Add */
  int zero_pad_lanes; /* the epilogue is not zero at zero */
} DwCase;

/* The ACT each activation gets, as compiler/template.c writes it. */
static const char *activation(const DwCase *c) {
  if (!strcmp(c->act, "ACT_NONE"))
    return "(v)";
  if (!strcmp(c->act, "ACT_RELU"))
    return "vrelu(v)";
  if (!strcmp(c->act, "ACT_CLIP"))
    return cn_format("vclip(v, %s, %s)", emit_float(c->alpha, DT_FLOAT), emit_float(c->beta, DT_FLOAT));
  if (!strcmp(c->act, "ACT_HARD_SIGMOID"))
    return cn_format("vhard_sigmoid(v, %s, %s)", emit_float(c->alpha, DT_FLOAT), emit_float(c->beta, DT_FLOAT));
  if (!strcmp(c->act, "ACT_LEAKY_RELU"))
    return cn_format("vleaky_relu(v, %s)", emit_float(c->alpha, DT_FLOAT));
  if (!strcmp(c->act, "ACT_SIGMOID"))
    return "vsigmoid(v)";
  cn_unreachable();
}

static int out_size(int in, int k, int s, int d, int p0, int p1) { return (in + p0 + p1 - d * (k - 1) - 1) / s + 1; }

static void run_cases(const char *test_name, const DwCase *cases, int n_cases) {
  char *body = cn_strdup("");
  char *calls = cn_strdup("");
  for (int i = 0; i < n_cases; i++) {
    const DwCase *c = &cases[i];
    char *tile = cn_strdup(""), *kh_list = cn_strdup(""), *kw_list = cn_strdup(""), *taps = cn_strdup("");
    for (int k = 0; k < c->kh; k++)
      kh_list = cn_format("%s X(%d)", kh_list, k);
    for (int p = 0; p < c->tile; p++)
      tile = cn_format("%s X(%d)", tile, p);
    for (int k = 0; k < c->kw; k++)
      kw_list = cn_format("%s X(%d)", kw_list, k);
    for (int p = 0; p < c->tile; p++)
      for (int k = 0; k < c->kw; k++)
        taps = cn_format("%s X(%d,%d)", taps, p, k);
    const char *defines[] = {
        cn_format("FN dw%d", i),
        cn_format("BATCH %d", c->batch),
        cn_format("CHANNELS %d", c->channels),
        cn_format("IH %d", c->ih),
        cn_format("IW %d", c->iw),
        cn_format("OH %d", out_size(c->ih, c->kh, c->sh, c->dh, c->pt, c->pb)),
        cn_format("OW %d", out_size(c->iw, c->kw, c->sw, c->dw, c->pl, c->pr)),
        cn_format("KH %d", c->kh),
        cn_format("KW %d", c->kw),
        cn_format("SH %d", c->sh),
        cn_format("SW %d", c->sw),
        cn_format("DH %d", c->dh),
        cn_format("DW %d", c->dw),
        cn_format("PT %d", c->pt),
        cn_format("PL %d", c->pl),
        cn_format("HAS_BIAS %d", c->has_bias),
        cn_format("TILE(X)%s", tile),
        cn_format("KH_LIST(X)%s", kh_list),
        cn_format("KW_LIST(X)%s", kw_list),
        cn_format("TILE_TAPS(X)%s", taps),
        cn_format("ZERO_PAD_LANES %d", c->zero_pad_lanes),
        cn_format("ACT(v) %s", activation(c)),
        cn_format("POST_ACT(v) vrelu(v)"),
        c->residual ? "EPILOGUE(acc, at) POST_ACT(vadd(ACT(acc), vload(res + (at))))" : "EPILOGUE(acc, at) ACT(acc)",
        NULL,
    };
    body = cn_format("%s%s", body, tpl_instance("dwconv_nchwc.c", defines));
    calls = cn_format("%s  bad += check_dwconv(\"case %d\", dw%d, (DwShape){%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, "
                      "%d, %d, %d, %d, %d, %s, %s, %s, %d, ACT_RELU});\n",
                      calls, i, i, c->batch, c->channels, c->ih, c->iw, c->kh, c->kw, c->sh, c->sw, c->dh, c->dw,
                      c->pt, c->pl, c->pb, c->pr, c->has_bias, c->act, emit_float(c->alpha, DT_FLOAT),
                      emit_float(c->beta, DT_FLOAT), c->residual);
  }
  body = cn_format("%s#include \"check.h\"\n#include \"dwconv.h\"\n"
                   "int main(void) {\n  int bad = 0;\n%s  return bad != 0;\n}\n",
                   body, calls);
  tpl_build_and_run(test_name, body);
}

/* MobileNetV2's kinds of layer, scaled down: 3x3 stride 1 and 2 with pad 1, ReLU6, channel counts that fill
 * whole vectors and ones that leave a partial last block. */
static void test_dwconv_mobilenet_like(void) {
  static const DwCase cases[] = {
      {1, 32, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "ACT_CLIP", 0, 6, 4, 0, 0},
      {1, 96, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, "ACT_CLIP", 0, 6, 3, 0, 0},
      {1, 144, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "ACT_CLIP", 0, 6, 5, 0, 0},
      {1, 40, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "ACT_RELU", 0, 0, 8, 0, 0},
      {1, 24, 8, 8, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 0, "ACT_NONE", 0, 0, 2, 0, 0},
  };
  run_cases("dwconv_mobilenet", cases, sizeof cases / sizeof cases[0]);
}

/* 5x5 kernels, dilation, asymmetric and missing padding, batches, inputs smaller than the kernel, epilogues
 * that are not zero at zero (the padding lanes must still come out zero) and a fused residual Add. */
static void test_dwconv_odd_shapes(void) {
  static const DwCase cases[] = {
      {1, 19, 10, 7, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 0, "ACT_NONE", 0, 0, 5, 0, 0},
      {1, 24, 13, 13, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 1, "ACT_HARD_SIGMOID", 0.2f, 0.5f, 2, 0, 1},
      {1, 16, 9, 9, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, "ACT_LEAKY_RELU", 0.1f, 0, 4, 0, 0},
      {2, 7, 6, 5, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, 1, "ACT_SIGMOID", 0, 0, 1, 0, 1},
      {1, 9, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "ACT_CLIP", -0.5f, 0.5f, 2, 0, 0},
      {1, 33, 11, 10, 3, 5, 2, 1, 1, 2, 1, 4, 0, 3, 1, "ACT_NONE", 0, 0, 3, 0, 0},
      /* a fused residual Add and ReLU after it */
      {2, 20, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "ACT_NONE", 0, 0, 4, 1, 0},
      {1, 40, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "ACT_CLIP", 0, 6, 3, 1, 0},
  };
  run_cases("dwconv_odd", cases, sizeof cases / sizeof cases[0]);
}

CU_TestInfo tpl_dwconv_tests[] = {
    {"MobileNetV2-like layers", test_dwconv_mobilenet_like},
    {"odd shapes and epilogues", test_dwconv_odd_shapes},
    CU_TEST_INFO_NULL,
};
