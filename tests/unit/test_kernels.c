/* Textbook convolution and pooling examples, run through generated code: each test builds a one-node graph,
 * compiles it with a driver that feeds the input and checks every output value, and runs it. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* A C initializer list of the values. */
static char *c_list(const float *v, int count) {
  char *s = cn_strdup("");
  for (int i = 0; i < count; i++)
    s = cn_format("%s%s%s", s, i ? ", " : "", emit_float(v[i], DT_FLOAT));
  return s;
}

/* Compiles g (one float input, one float output) with a driver that runs it on x and compares with expect. */
static int run_and_compare(Graph *g, const float *x, int x_count, const float *expect, int y_count) {
  char *driver = cn_format(
      "static const float x[%d] = {%s};\n"
      "static const float expect[%d] = {%s};\n"
      "int main(void) {\n"
      "  float y[%d];\n"
      "  const void *inputs[] = {x};\n"
      "  void *outputs[] = {y};\n"
      "  if (model_run(inputs, outputs) != 0)\n"
      "    return 1;\n"
      "  for (int i = 0; i < %d; i++)\n"
      "    if (fabsf(y[i] - expect[i]) > 1e-5f) {\n"
      "      printf(\"y[%%d] = %%g, expected %%g\\n\", i, y[i], expect[i]);\n"
      "      return 2;\n"
      "    }\n"
      "  return 0;\n"
      "}\n",
      x_count, c_list(x, x_count), y_count, c_list(expect, y_count), y_count, y_count);
  return tb_compile_and_run(g, driver);
}

static const float iota9[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
static const float kernel_0123[4] = {0, 1, 2, 3};

/* Conv of a (1, channels, h, w) input with constant weights (maps, channels, kh, kw) and an optional bias. */
static Node *conv(Graph *g, int64_t channels, int64_t h, int64_t w, const float *weights, int64_t kh, int64_t kw,
                  const float *bias) {
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, channels, h, w));
  Value *ins[3] = {x, tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(1, channels, kh, kw), weights)};
  if (bias)
    ins[2] = tb_const(g, "b", DT_FLOAT, 1, TB_DIMS(1), bias);
  Node *n = tb_node(g, "Conv", bias ? 3 : 2, ins, 1);
  tb_output(g, n->out[0]);
  return n;
}

static void test_conv_2x2(void) {
  Graph *g = tb_graph(13);
  Node *n = conv(g, 1, 3, 3, kernel_0123, 2, 2, NULL);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 2, 2);
  CU_ASSERT_EQUAL(run_and_compare(g, iota9, 9, (const float[]){19, 25, 37, 43}, 4), 0);
}

static void test_conv_bias(void) {
  Graph *g = tb_graph(13);
  conv(g, 1, 3, 3, kernel_0123, 2, 2, (const float[]){1});
  tb_infer(g);
  CU_ASSERT_EQUAL(run_and_compare(g, iota9, 9, (const float[]){20, 26, 38, 44}, 4), 0);
}

static void test_conv_zero_padding(void) {
  Graph *g = tb_graph(13);
  Node *n = conv(g, 1, 3, 3, kernel_0123, 2, 2, NULL);
  tb_attr_ints(n, "pads", 4, TB_DIMS(1, 1, 1, 1));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 4, 4);
  static const float expect[16] = {0, 3, 8, 4, 9, 19, 25, 10, 21, 37, 43, 16, 6, 7, 8, 0};
  CU_ASSERT_EQUAL(run_and_compare(g, iota9, 9, expect, 16), 0);
}

static void test_conv_two_channels(void) {
  Graph *g = tb_graph(13);
  static const float x[18] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const float weights[8] = {0, 1, 2, 3, 1, 2, 3, 4};
  conv(g, 2, 3, 3, weights, 2, 2, NULL);
  tb_infer(g);
  CU_ASSERT_EQUAL(run_and_compare(g, x, 18, (const float[]){56, 72, 104, 120}, 4), 0);
}

/* 7x7 input, 3x3 kernel, stride 2: (7 - 3) / 2 + 1 = 3 per axis. The driver checks against a direct loop. */
static void test_conv_stride_2(void) {
  Graph *g = tb_graph(13);
  float weights[9];
  for (int i = 0; i < 9; i++)
    weights[i] = (float)(i % 4) - 1.5f;
  Node *n = conv(g, 1, 7, 7, weights, 3, 3, NULL);
  tb_attr_ints(n, "strides", 2, TB_DIMS(2, 2));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 3, 3);
  char *driver = cn_format(
      "static const float w[9] = {%s};\n"
      "int main(void) {\n"
      "  float x[49], y[9];\n"
      "  for (int i = 0; i < 49; i++)\n"
      "    x[i] = (float)((i * 7) %% 11) - 5.0f;\n"
      "  const void *inputs[] = {x};\n"
      "  void *outputs[] = {y};\n"
      "  if (model_output_info[0].rank != 4 || model_output_info[0].dims[2] != 3 || model_output_info[0].dims[3] != 3)\n"
      "    return 3;\n"
      "  if (model_run(inputs, outputs) != 0)\n"
      "    return 1;\n"
      "  for (int oh = 0; oh < 3; oh++)\n"
      "    for (int ow = 0; ow < 3; ow++) {\n"
      "      float ref = 0;\n"
      "      for (int kh = 0; kh < 3; kh++)\n"
      "        for (int kw = 0; kw < 3; kw++)\n"
      "          ref += x[(oh * 2 + kh) * 7 + ow * 2 + kw] * w[kh * 3 + kw];\n"
      "      if (fabsf(y[oh * 3 + ow] - ref) > 1e-5f) {\n"
      "        printf(\"y[%%d][%%d] = %%g, expected %%g\\n\", oh, ow, y[oh * 3 + ow], ref);\n"
      "        return 2;\n"
      "      }\n"
      "    }\n"
      "  return 0;\n"
      "}\n",
      c_list(weights, 9));
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

/* A 1x1 convolution runs its 2x3 plane as one row of 6: y0 = x0 + 2 x1, y1 = -x0 + x1 / 2. */
static void test_conv_pointwise(void) {
  Graph *g = tb_graph(13);
  static const float x[12] = {1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1};
  Value *ins[] = {tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 2, 3)),
                  tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(2, 2, 1, 1), (const float[]){1, 2, -1, 0.5f})};
  Node *n = tb_node(g, "Conv", 2, ins, 1);
  tb_output(g, n->out[0]);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 2, 3);
  static const float expect[12] = {13, 12, 11, 10, 9, 8, 2, 0.5f, -1, -2.5f, -4, -5.5f};
  CU_ASSERT_EQUAL(run_and_compare(g, x, 12, expect, 12), 0);
}

/* A 1-D row too long for the local accumulators (9000 floats), so the kernel accumulates in Y: two input and
 * two output channels, kernel 3, padding 1, against a direct loop in the driver. */
static void test_conv_long_row(void) {
  Graph *g = tb_graph(13);
  static const float weights[12] = {1, -2, 3, 0.5f, 0.25f, -1, 2, 1, -3, 0, 1, 0.75f};
  Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(1, 2, 9000));
  Value *ins[] = {x, tb_const(g, "w", DT_FLOAT, 3, TB_DIMS(2, 2, 3), weights)};
  Node *n = tb_node(g, "Conv", 2, ins, 1);
  tb_attr_ints(n, "pads", 2, TB_DIMS(1, 1));
  tb_output(g, n->out[0]);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 9000);
  char *driver = cn_format(
      "static const float w[12] = {%s};\n"
      "static float x[18000], y[18000];\n"
      "int main(void) {\n"
      "  for (int i = 0; i < 18000; i++)\n"
      "    x[i] = (float)((i * 13) %% 17) - 8.0f;\n"
      "  const void *inputs[] = {x};\n"
      "  void *outputs[] = {y};\n"
      "  if (model_run(inputs, outputs) != 0)\n"
      "    return 1;\n"
      "  for (int m = 0; m < 2; m++)\n"
      "    for (int o = 0; o < 9000; o++) {\n"
      "      float ref = 0;\n"
      "      for (int c = 0; c < 2; c++)\n"
      "        for (int k = 0; k < 3; k++)\n"
      "          if (o + k - 1 >= 0 && o + k - 1 < 9000)\n"
      "            ref += x[c * 9000 + o + k - 1] * w[(m * 2 + c) * 3 + k];\n"
      "      if (fabsf(y[m * 9000 + o] - ref) > 1e-4f) {\n"
      "        printf(\"y[%%d][%%d] = %%g, expected %%g\\n\", m, o, y[m * 9000 + o], ref);\n"
      "        return 2;\n"
      "      }\n"
      "    }\n"
      "  return 0;\n"
      "}\n",
      c_list(weights, 12));
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

static const float pool_input[16] = {12, 20, 30, 0, 20, 12, 2, 0, 0, 70, 5, 2, 8, 2, 90, 3};

/* A 2x2, stride-2 pool of the 4x4 pool_input; p > 0 sets LpPool's norm. */
static void check_pool(const char *op_type, int64_t p, const float *expect) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 4));
  Value *ins[] = {x};
  Node *n = tb_node(g, op_type, 1, ins, 1);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(2, 2));
  tb_attr_ints(n, "strides", 2, TB_DIMS(2, 2));
  if (p > 0)
    tb_attr_int(n, "p", p);
  tb_output(g, n->out[0]);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 2, 2);
  CU_ASSERT_EQUAL(run_and_compare(g, pool_input, 16, expect, 4), 0);
}

static void test_average_pool(void) { check_pool("AveragePool", 0, (const float[]){16, 8, 20, 25}); }

static void test_max_pool(void) { check_pool("MaxPool", 0, (const float[]){20, 30, 70, 90}); }

/* ceil_mode with count_include_pad: 3x3 windows, stride 2, padding 1 over 4x4 give 3x3 windows (the last
 * starts at 3, inside the input), and the last row and column of windows run past the end padding, so they
 * divide by the taps inside the padded input only: 2 of 3 per axis (as PyTorch and onnxruntime do). */
static void test_average_pool_ceil_count_include_pad(void) {
  Graph *g = tb_graph(13);
  float x[16];
  for (int i = 0; i < 16; i++)
    x[i] = (float)(i + 1);
  Value *ins[] = {tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 4))};
  Node *n = tb_node(g, "AveragePool", 1, ins, 1);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(3, 3));
  tb_attr_ints(n, "strides", 2, TB_DIMS(2, 2));
  tb_attr_ints(n, "pads", 4, TB_DIMS(1, 1, 1, 1));
  tb_attr_int(n, "ceil_mode", 1);
  tb_attr_int(n, "count_include_pad", 1);
  tb_output(g, n->out[0]);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 3, 3);
  static const float expect[9] = {14.0f / 9, 30.0f / 9, 8.0f / 4, 57.0f / 9, 99.0f / 9, 36.0f / 6,
                                  27.0f / 6, 45.0f / 6, 16.0f / 4};
  CU_ASSERT_EQUAL(run_and_compare(g, x, 16, expect, 9), 0);
}

/* p = 1 sums magnitudes; p = 2 is the Euclidean norm, e.g. sqrt(12^2 + 20^2 + 20^2 + 12^2) = sqrt(1088). */
static void test_lp_pool(void) {
  check_pool("LpPool", 1, (const float[]){64, 32, 80, 100});
  check_pool("LpPool", 2, (const float[]){32.984845f, 30.0665928f, 70.4840407f, 90.2108641f});
}

CU_TestInfo kernel_tests[] = {
    {"conv_2x2", test_conv_2x2},
    {"conv_bias", test_conv_bias},
    {"conv_zero_padding", test_conv_zero_padding},
    {"conv_two_channels", test_conv_two_channels},
    {"conv_stride_2", test_conv_stride_2},
    {"conv_pointwise", test_conv_pointwise},
    {"conv_long_row", test_conv_long_row},
    {"average_pool", test_average_pool},
    {"max_pool", test_max_pool},
    {"average_pool_ceil_count_include_pad", test_average_pool_ceil_count_include_pad},
    {"lp_pool", test_lp_pool},
    CU_TEST_INFO_NULL,
};
