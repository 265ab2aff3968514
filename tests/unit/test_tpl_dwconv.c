/* templates/dwconv_nchwc.c on its own (tb_run_template_tests), instantiated through template.c as
 * ops/conv_depthwise.c does, against a plain depthwise convolution (tests/unit/templates/dwconv_test.c). */
#include "testutil.h"

typedef struct DwCase {
  int batch, channels, ih, iw, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool bias, residual;
  Activation act, post_act;
  int tile;
} DwCase;

static const DwCase *cases;
static int n_cases;

static int out_size(int in, int k, int s, int d, int p0, int p1) { return (in + p0 + p1 - d * (k - 1) - 1) / s + 1; }

static void write_dwconv(Emitter *e, int vlen) {
  char *table = cn_strdup("");
  for (int i = 0; i < n_cases; i++) {
    const DwCase *c = &cases[i];
    int oh = out_size(c->ih, c->kh, c->sh, c->dh, c->pt, c->pb), ow = out_size(c->iw, c->kw, c->sw, c->dw, c->pl, c->pr);
    Instance *t = tpl_begin(e, "dwconv_nchwc.c", cn_format("dw%d", i));
    const char *names[] = {"BATCH", "CHANNELS", "IH", "IW", "OH", "OW", "KH", "KW", "SH", "SW", "DH", "DW", "PT", "PL"};
    const int values[] = {c->batch, c->channels, c->ih, c->iw, oh, ow, c->kh, c->kw, c->sh, c->sw, c->dh, c->dw,
                          c->pt, c->pl};
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++)
      tpl_int(t, names[k], values[k]);
    tpl_int(t, "HAS_BIAS", c->bias);
    tpl_list(t, "TILE", c->tile);
    tpl_list(t, "KH_LIST", c->kh);
    tpl_list(t, "KW_LIST", c->kw);
    tpl_tile(t, "TILE_TAPS", c->tile, c->kw);
    Fusion f = {.bias = -1, .act = c->act, .residual = c->residual ? 3 : -1, .post_act = c->post_act};
    bool pad = tpl_epilogue(t, &f);
    tpl_int(t, "ZERO_PAD_LANES", pad && c->channels % vlen != 0);
    tpl_end(t);
    table = cn_format("%s    {dw%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s, %d, %s, %s},\n",
                      table, i, c->batch, c->channels, c->ih, c->iw, oh, ow, c->kh, c->kw, c->sh, c->sw, c->dh, c->dw,
                      c->pt, c->pl, c->bias, c->residual, c->act.kind, emit_float(c->act.alpha, DT_FLOAT),
                      emit_float(c->act.beta, DT_FLOAT), c->post_act.kind, emit_float(c->post_act.alpha, DT_FLOAT),
                      emit_float(c->post_act.beta, DT_FLOAT));
  }
  fprintf(e->kernels, "static const struct dw_case dw_cases[] = {\n%s};\n\n", table);
}

static void run_cases(const DwCase *list, int count) {
  cases = list;
  n_cases = count;
  tb_run_template_tests("dwconv_test.c", write_dwconv,
                        "  for (size_t i = 0; i < sizeof dw_cases / sizeof dw_cases[0]; i++)\n"
                        "    dw_run(&dw_cases[i]);\n"
                        "  return test_failures;");
}

#define NONE {ACT_NONE, 0, 0}
#define RELU {ACT_RELU, 0, 0}
#define RELU6 {ACT_CLIP, 0, 6}

/* MobileNetV2's kinds of layer, scaled down: 3x3 stride 1 and 2 with pad 1, ReLU6, channel counts that fill
 * whole vectors and ones that leave a partial last block. */
static void test_dwconv_mobilenet_like(void) {
  static const DwCase list[] = {
      {1, 32, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, RELU6, NONE, 4},
      {1, 96, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, false, RELU6, NONE, 3},
      {1, 144, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, RELU6, NONE, 5},
      {1, 40, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, RELU, NONE, 6},
      {1, 24, 8, 8, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, false, false, NONE, NONE, 2},
  };
  run_cases(list, sizeof list / sizeof list[0]);
}

/* 5x5 kernels, dilation, asymmetric and missing padding, batches, inputs smaller than the kernel, epilogues
 * that are not zero at zero (the padding lanes must still come out zero) and a fused residual Add. */
static void test_dwconv_odd_shapes(void) {
  static const DwCase list[] = {
      {1, 19, 10, 7, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, false, false, NONE, NONE, 5},
      {1, 24, 13, 13, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, true, false, {ACT_HARD_SIGMOID, 0.2f, 0.5f}, NONE, 2},
      {1, 16, 9, 9, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, true, false, {ACT_LEAKY_RELU, 0.1f, 0}, NONE, 4},
      {2, 7, 6, 5, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, true, false, {ACT_SIGMOID, 0, 0}, NONE, 1},
      {1, 9, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, {ACT_CLIP, -0.5f, 0.5f}, NONE, 2},
      {1, 33, 11, 10, 3, 5, 2, 1, 1, 2, 1, 4, 0, 3, true, false, NONE, NONE, 3},
      {2, 20, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, true, NONE, RELU, 4},
      {1, 40, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, true, RELU6, {ACT_SIGMOID, 0, 0}, 3},
  };
  run_cases(list, sizeof list / sizeof list[0]);
}

CU_TestInfo tpl_dwconv_tests[] = {
    {"MobileNetV2-like layers", test_dwconv_mobilenet_like},
    {"odd shapes and epilogues", test_dwconv_odd_shapes},
    CU_TEST_INFO_NULL,
};
