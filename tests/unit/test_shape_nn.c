/* Shape inference of the nn group: Conv, ConvTranspose, the pools, BatchNormalization, InstanceNormalization, LRN.
 * The sliding-window ops are checked against their output-size formulas case by case. */
#include "testutil.h"

#include <string.h>

/* A graph with one input of the given shape feeding a fresh node of op_type with n_out outputs. */
static Node *unary(const char *op_type, DType t, int rank, const int64_t *dims, int n_out, Graph **graph) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", t, rank, dims);
  Value *ins[] = {x};
  Node *n = tb_node(g, op_type, 1, ins, n_out);
  tb_output(g, n->out[0]);
  *graph = g;
  return n;
}

/* Conv of x (rank 2 + spatial) with zero weights of shape w_dims; bias optional. */
static Node *conv(int rank, const int64_t *x_dims, const int64_t *w_dims, bool bias, Graph **graph) {
  Graph *g = tb_graph(13);
  static float zeros[4096];
  Value *x = tb_input(g, "x", DT_FLOAT, rank, x_dims);
  Value *w = tb_const(g, "w", DT_FLOAT, rank, w_dims, zeros);
  Value *b = bias ? tb_const(g, "b", DT_FLOAT, 1, TB_DIMS(w_dims[0]), zeros) : NULL;
  Value *ins[] = {x, w, b};
  Node *n = tb_node(g, "Conv", bias ? 3 : 2, ins, 1);
  tb_output(g, n->out[0]);
  *graph = g;
  return n;
}

static void infer(void *g) { tb_infer(g); }

static void test_conv_padding_stride_dilation(void) {
  Graph *g;
  /* floor((5 + 0 - 3) / 1) + 1 = 3 */
  Node *n = conv(4, TB_DIMS(1, 1, 5, 5), TB_DIMS(2, 1, 3, 3), true, &g);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 3, 3);
  /* pads 1: floor((5 + 2 - 3) / 1) + 1 = 5 */
  n = conv(4, TB_DIMS(1, 1, 5, 5), TB_DIMS(2, 1, 3, 3), false, &g);
  tb_attr_ints(n, "pads", 4, TB_DIMS(1, 1, 1, 1));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 5, 5);
  /* stride 2, asymmetric pads (1, 0) on H: floor((7 + 1 - 3) / 2) + 1 = 3; W: floor((5 - 3) / 2) + 1 = 2 */
  n = conv(4, TB_DIMS(2, 1, 7, 5), TB_DIMS(3, 1, 3, 3), false, &g);
  tb_attr_ints(n, "strides", 2, TB_DIMS(2, 2));
  tb_attr_ints(n, "pads", 4, TB_DIMS(1, 0, 0, 0));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 3, 3, 2);
  /* dilation 2: effective kernel 5, floor((9 - 5) / 1) + 1 = 5 */
  n = conv(4, TB_DIMS(1, 1, 9, 9), TB_DIMS(1, 1, 3, 3), false, &g);
  tb_attr_ints(n, "dilations", 2, TB_DIMS(2, 2));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 5, 5);
}

static void test_conv_1d_3d_and_groups(void) {
  Graph *g;
  Node *n = conv(3, TB_DIMS(1, 4, 10), TB_DIMS(6, 2, 3), true, &g);
  tb_attr_int(n, "group", 2);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 6, 8);
  /* depthwise: group = channels */
  n = conv(4, TB_DIMS(1, 4, 6, 6), TB_DIMS(8, 1, 3, 3), true, &g);
  tb_attr_int(n, "group", 4);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 8, 4, 4);
  n = conv(5, TB_DIMS(1, 2, 4, 5, 6), TB_DIMS(3, 2, 2, 3, 4), false, &g);
  tb_attr_ints(n, "strides", 3, TB_DIMS(2, 1, 1));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 3, 2, 3, 3);
}

/* The padding auto_pad chooses, read back through window_forward on a Conv node. */
static void auto_pads(const char *mode, int64_t in, int64_t kernel, int64_t stride, int64_t *begin, int64_t *end,
                      int64_t *out) {
  Graph *g;
  Node *n = conv(3, TB_DIMS(1, 1, in), TB_DIMS(1, 1, kernel), false, &g);
  tb_attr_string(n, "auto_pad", mode);
  tb_attr_ints(n, "strides", 1, TB_DIMS(stride));
  Window w;
  window_read(n, &w, TB_DIMS(kernel));
  window_forward(n, &w, false);
  *begin = w.pad_begin[0];
  *end = w.pad_end[0];
  *out = w.out[0];
  tb_infer(g);
  CU_ASSERT_EQUAL(n->out[0]->dims[2], *out);
}

static void test_conv_auto_pad(void) {
  int64_t b, e, out;
  /* SAME: out = ceil(5 / 2) = 3; total pad = (3 - 1) * 2 + 3 - 5 = 2 */
  auto_pads("SAME_UPPER", 5, 3, 2, &b, &e, &out);
  CU_ASSERT(out == 3 && b == 1 && e == 1);
  /* odd total: out = 4, total = 3 * 1 + 4 - 4 = 3, the extra unit at the end (UPPER) or beginning (LOWER) */
  auto_pads("SAME_UPPER", 4, 4, 1, &b, &e, &out);
  CU_ASSERT(out == 4 && b == 1 && e == 2);
  auto_pads("SAME_LOWER", 4, 4, 1, &b, &e, &out);
  CU_ASSERT(out == 4 && b == 2 && e == 1);
  /* VALID: no padding, floor((7 - 3) / 2) + 1 = 3 */
  auto_pads("VALID", 7, 3, 2, &b, &e, &out);
  CU_ASSERT(out == 3 && b == 0 && e == 0);
}

static void test_conv_errors(void) {
  Graph *g;
  Node *n = conv(4, TB_DIMS(1, 3, 5, 5), TB_DIMS(2, 2, 3, 3), false, &g);
  CU_ASSERT(tb_fails_with(infer, g, "channels per group"));
  n = conv(4, TB_DIMS(1, 4, 5, 5), TB_DIMS(2, 4, 3, 3), false, &g);
  tb_attr_int(n, "group", 3);
  CU_ASSERT(tb_fails_with(infer, g, "group = 3"));
  n = conv(4, TB_DIMS(1, 1, 5, 5), TB_DIMS(2, 1, 3, 3), false, &g);
  tb_attr_ints(n, "strides", 2, TB_DIMS(0, 1));
  CU_ASSERT(tb_fails_with(infer, g, "strides[0] = 0"));
  n = conv(4, TB_DIMS(1, 1, 5, 5), TB_DIMS(2, 1, 3, 3), false, &g);
  tb_attr_ints(n, "pads", 2, TB_DIMS(1, 1));
  CU_ASSERT(tb_fails_with(infer, g, "pads has 2 values; expected 4"));
  n = conv(4, TB_DIMS(1, 1, 5, 5), TB_DIMS(2, 1, 3, 3), false, &g);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(3, 2));
  CU_ASSERT(tb_fails_with(infer, g, "kernel_shape[1] = 2"));
  n = conv(4, TB_DIMS(1, 1, 2, 2), TB_DIMS(2, 1, 3, 3), false, &g);
  CU_ASSERT(tb_fails_with(infer, g, "larger than the padded input"));
  n = conv(4, TB_DIMS(1, 1, 5, 5), TB_DIMS(2, 1, 3, 3), false, &g);
  tb_attr_string(n, "auto_pad", "SAME");
  CU_ASSERT(tb_fails_with(infer, g, "auto_pad is 'SAME'"));
  n = conv(4, TB_DIMS(1, 1, 0, 5), TB_DIMS(2, 1, 3, 3), false, &g);
  tb_attr_ints(n, "pads", 4, TB_DIMS(2, 2, 2, 2));
  CU_ASSERT(tb_fails_with(infer, g, "spatial axis 0 is empty"));
}

/* ConvTranspose of x with zero weights (C, M/group, kernel...). */
static Node *conv_transpose(int rank, const int64_t *x_dims, const int64_t *w_dims, Graph **graph) {
  Graph *g = tb_graph(13);
  static float zeros[4096];
  Value *x = tb_input(g, "x", DT_FLOAT, rank, x_dims);
  Value *w = tb_const(g, "w", DT_FLOAT, rank, w_dims, zeros);
  Value *ins[] = {x, w};
  Node *n = tb_node(g, "ConvTranspose", 2, ins, 1);
  tb_output(g, n->out[0]);
  *graph = g;
  return n;
}

static void test_conv_transpose(void) {
  Graph *g;
  /* 1 * (3 - 1) + 0 + 3 - 0 = 5 */
  Node *n = conv_transpose(4, TB_DIMS(1, 1, 3, 3), TB_DIMS(1, 2, 3, 3), &g);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 5, 5);
  /* strides (3, 2), output_padding (1, 1), pads (1, 2, 1, 2): 3 * 2 + 1 + 3 - 2 = 8, 2 * 2 + 1 + 3 - 4 = 4 */
  n = conv_transpose(4, TB_DIMS(1, 1, 3, 3), TB_DIMS(1, 2, 3, 3), &g);
  tb_attr_ints(n, "strides", 2, TB_DIMS(3, 2));
  tb_attr_ints(n, "output_padding", 2, TB_DIMS(1, 1));
  tb_attr_ints(n, "pads", 4, TB_DIMS(1, 2, 1, 2));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 8, 4);
  /* output_shape wins; groups multiply W's output channels */
  n = conv_transpose(4, TB_DIMS(1, 4, 3, 3), TB_DIMS(4, 3, 3, 3), &g);
  tb_attr_int(n, "group", 2);
  tb_attr_ints(n, "strides", 2, TB_DIMS(3, 2));
  tb_attr_ints(n, "output_shape", 2, TB_DIMS(10, 8));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 6, 10, 8);
  /* SAME_UPPER: in * stride */
  n = conv_transpose(3, TB_DIMS(1, 1, 5), TB_DIMS(1, 1, 3), &g);
  tb_attr_string(n, "auto_pad", "SAME_UPPER");
  tb_attr_ints(n, "strides", 1, TB_DIMS(2));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 10);
  /* dilation 2: 1 * 2 + 5 = 7 */
  n = conv_transpose(3, TB_DIMS(1, 1, 3), TB_DIMS(1, 1, 3), &g);
  tb_attr_ints(n, "dilations", 1, TB_DIMS(2));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 7);
  n = conv_transpose(4, TB_DIMS(1, 2, 3, 3), TB_DIMS(3, 1, 3, 3), &g);
  CU_ASSERT(tb_fails_with(infer, g, "expected 2 input channels first"));
  n = conv_transpose(3, TB_DIMS(1, 1, 3), TB_DIMS(1, 1, 3), &g);
  tb_attr_ints(n, "pads", 2, TB_DIMS(3, 3));
  CU_ASSERT(tb_fails_with(infer, g, "remove the whole output"));
  n = conv_transpose(3, TB_DIMS(1, 1, 1025), TB_DIMS(1, 1, 3), &g);
  tb_attr_ints(n, "strides", 1, TB_DIMS((int64_t)1 << 31));
  CU_ASSERT(tb_fails_with(infer, g, "output too large"));
}

/* Output length of a 1-D MaxPool over `in` with the given window; ceil_mode 0 or 1. */
static int64_t pooled(int64_t in, int64_t kernel, int64_t stride, int64_t pad_begin, int64_t pad_end, int ceil_mode) {
  Graph *g;
  Node *n = unary("MaxPool", DT_FLOAT, 3, TB_DIMS(1, 1, in), 1, &g);
  tb_attr_ints(n, "kernel_shape", 1, TB_DIMS(kernel));
  tb_attr_ints(n, "strides", 1, TB_DIMS(stride));
  tb_attr_ints(n, "pads", 2, TB_DIMS(pad_begin, pad_end));
  tb_attr_int(n, "ceil_mode", ceil_mode);
  tb_infer(g);
  return n->out[0]->dims[2];
}

static void test_pool_ceil_mode(void) {
  /* (4 - 3) / 2 = 0.5: floor gives 1 window, ceil 2 */
  CU_ASSERT_EQUAL(pooled(4, 3, 2, 0, 0, 0), 1);
  CU_ASSERT_EQUAL(pooled(4, 3, 2, 0, 0, 1), 2);
  /* (5 + 1 + 1 - 2) / 2 = 2.5: ceil would give 4 windows, but the 4th starts at 6 - 1 = 5, in the right
   * padding, so it is dropped */
  CU_ASSERT_EQUAL(pooled(5, 2, 2, 1, 1, 1), 3);
  CU_ASSERT_EQUAL(pooled(5, 2, 2, 1, 1, 0), 3);
  /* pads: floor((5 + 2 + 2 - 3) / 1) + 1 = 7 */
  CU_ASSERT_EQUAL(pooled(5, 3, 1, 2, 2, 0), 7);
}

static void test_max_pool(void) {
  Graph *g;
  /* dilation 2: effective kernel 3, floor((4 - 3) / 1) + 1 = 2; Indices are int64 of Y's shape */
  Node *n = unary("MaxPool", DT_FLOAT, 4, TB_DIMS(2, 3, 4, 4), 2, &g);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(2, 2));
  tb_attr_ints(n, "dilations", 2, TB_DIMS(2, 2));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 3, 2, 2);
  TB_ASSERT_SHAPE(n->out[1], 2, 3, 2, 2);
  CU_ASSERT_EQUAL(n->out[1]->dtype, DT_INT64);
  /* uint8 keeps its type; SAME_LOWER: ceil(5 / 2) = 3 */
  n = unary("MaxPool", DT_UINT8, 4, TB_DIMS(1, 1, 5, 5), 1, &g);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(2, 2));
  tb_attr_ints(n, "strides", 2, TB_DIMS(2, 2));
  tb_attr_string(n, "auto_pad", "SAME_LOWER");
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 3, 3);
  CU_ASSERT_EQUAL(n->out[0]->dtype, DT_UINT8);
  /* 3-D */
  n = unary("MaxPool", DT_FLOAT, 5, TB_DIMS(1, 1, 4, 4, 4), 1, &g);
  tb_attr_ints(n, "kernel_shape", 3, TB_DIMS(2, 2, 2));
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 3, 3, 3);
  n = unary("MaxPool", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 4), 1, &g);
  CU_ASSERT(tb_fails_with(infer, g, "kernel_shape is required"));
  n = unary("MaxPool", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 4), 1, &g);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(2, 2));
  tb_attr_int(n, "storage_order", 2);
  CU_ASSERT(tb_fails_with(infer, g, "storage_order = 2"));
}

static void test_average_and_lp_pool(void) {
  Graph *g;
  /* SAME_UPPER with stride 2: ceil(7 / 2) = 4 */
  Node *n = unary("AveragePool", DT_FLOAT, 4, TB_DIMS(1, 2, 7, 7), 1, &g);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(3, 3));
  tb_attr_ints(n, "strides", 2, TB_DIMS(2, 2));
  tb_attr_string(n, "auto_pad", "SAME_UPPER");
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 4, 4);
  /* VALID: floor((7 - 3) / 2) + 1 = 3 */
  n = unary("AveragePool", DT_FLOAT, 4, TB_DIMS(1, 2, 7, 7), 1, &g);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(3, 3));
  tb_attr_ints(n, "strides", 2, TB_DIMS(2, 2));
  tb_attr_string(n, "auto_pad", "VALID");
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 3, 3);
  n = unary("LpPool", DT_FLOAT, 3, TB_DIMS(1, 2, 9), 1, &g);
  tb_attr_ints(n, "kernel_shape", 1, TB_DIMS(3));
  tb_attr_ints(n, "strides", 1, TB_DIMS(3));
  tb_attr_int(n, "p", 3);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 3);
  n = unary("AveragePool", DT_INT32, 4, TB_DIMS(1, 1, 4, 4), 1, &g);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(2, 2));
  CU_ASSERT(tb_fails_with(infer, g, "expected float or double"));
  n = unary("AveragePool", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 4), 1, &g);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(2, 2));
  tb_attr_ints(n, "pads", 4, TB_DIMS(1, 1, 1, 1));
  tb_attr_string(n, "auto_pad", "SAME_UPPER");
  CU_ASSERT(tb_fails_with(infer, g, "cannot be used together"));
}

static void test_global_pools(void) {
  Graph *g;
  Node *n = unary("GlobalAveragePool", DT_FLOAT, 4, TB_DIMS(2, 3, 5, 7), 1, &g);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 3, 1, 1);
  n = unary("GlobalMaxPool", DT_FLOAT, 5, TB_DIMS(2, 3, 4, 5, 6), 1, &g);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 3, 1, 1, 1);
  n = unary("GlobalAveragePool", DT_FLOAT, 2, TB_DIMS(2, 3), 1, &g);
  CU_ASSERT(tb_fails_with(infer, g, "at least one spatial axis"));
}

/* BatchNormalization of x (N, C, ...) with constant per-channel inputs of length `channels`. */
static Node *batch_norm(int64_t opset, int rank, const int64_t *dims, int64_t channels, const float *var, int n_out,
                        Graph **graph) {
  Graph *g = tb_graph(opset);
  static const float ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  Value *x = tb_input(g, "x", DT_FLOAT, rank, dims);
  Value *ins[5] = {x};
  static const char *const names[] = {"x", "scale", "B", "mean", "var"};
  for (int i = 1; i < 5; i++)
    ins[i] = tb_const(g, names[i], DT_FLOAT, 1, TB_DIMS(channels), i == 4 && var ? var : ones);
  Node *n = tb_node(g, "BatchNormalization", 5, ins, n_out);
  tb_output(g, n->out[0]);
  *graph = g;
  return n;
}

static void test_batch_norm(void) {
  Graph *g;
  Node *n = batch_norm(15, 4, TB_DIMS(2, 3, 4, 5), 3, NULL, 1, &g);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 3, 4, 5);
  n = batch_norm(6, 2, TB_DIMS(2, 3), 3, NULL, 1, &g);
  tb_attr_int(n, "is_test", 1);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 3);
  /* training form: the running mean and variance come out per channel */
  n = batch_norm(15, 4, TB_DIMS(2, 3, 4, 5), 3, NULL, 3, &g);
  tb_attr_int(n, "training_mode", 1);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[1], 3);
  TB_ASSERT_SHAPE(n->out[2], 3);
  n = batch_norm(15, 4, TB_DIMS(2, 3, 4, 5), 3, NULL, 1, &g);
  tb_attr_int(n, "training_mode", 2);
  CU_ASSERT(tb_fails_with(infer, g, "training_mode = 2; expected 0 or 1"));
  CU_ASSERT_PTR_NOT_NULL(strstr(tb_last_error(), "BatchNormalization"));
  n = batch_norm(6, 4, TB_DIMS(2, 3, 4, 5), 3, NULL, 1, &g);
  tb_attr_int(n, "is_test", 0);
  CU_ASSERT(tb_fails_with(infer, g, "is_test = 0"));
  n = batch_norm(15, 4, TB_DIMS(2, 3, 4, 5), 4, NULL, 1, &g);
  CU_ASSERT(tb_fails_with(infer, g, "scale has shape [4]"));
  /* the compile-time folding rejects var + epsilon <= 0 */
  n = batch_norm(15, 4, TB_DIMS(1, 2, 1, 1), 2, (const float[]){1, -1}, 1, &g);
  CU_ASSERT(tb_fails_with(infer, g, "channel 1: var + epsilon"));
  /* var 0, scale 3e38: the multiplier 3e38 / sqrt(1e-5) is finite in double but overflows float */
  static const float scale_huge[2] = {1, 3e38f};
  Graph *g2 = tb_graph(15);
  Value *x = tb_input(g2, "x", DT_FLOAT, 2, TB_DIMS(1, 2));
  Value *ins[] = {x, tb_const(g2, "scale", DT_FLOAT, 1, TB_DIMS(2), scale_huge),
                  tb_const(g2, "B", DT_FLOAT, 1, TB_DIMS(2), (const float[]){0, 0}),
                  tb_const(g2, "mean", DT_FLOAT, 1, TB_DIMS(2), (const float[]){0, 0}),
                  tb_const(g2, "var", DT_FLOAT, 1, TB_DIMS(2), (const float[]){1, 0})};
  tb_node(g2, "BatchNormalization", 5, ins, 1);
  CU_ASSERT(tb_fails_with(infer, g2, "channel 1: the normalization multiplier"));
}

static void test_instance_norm_and_lrn(void) {
  Graph *g = tb_graph(13);
  static const float ones[4] = {1, 1, 1, 1};
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(2, 3, 4, 5));
  Value *ins[] = {x, tb_const(g, "scale", DT_FLOAT, 1, TB_DIMS(3), ones),
                  tb_const(g, "B", DT_FLOAT, 1, TB_DIMS(3), ones)};
  Node *n = tb_node(g, "InstanceNormalization", 3, ins, 1);
  tb_output(g, n->out[0]);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 3, 4, 5);

  g = tb_graph(13);
  x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(2, 3, 4, 5));
  Value *bad[] = {x, tb_const(g, "scale", DT_FLOAT, 1, TB_DIMS(4), ones),
                  tb_const(g, "B", DT_FLOAT, 1, TB_DIMS(3), ones)};
  n = tb_node(g, "InstanceNormalization", 3, bad, 1);
  CU_ASSERT(tb_fails_with(infer, g, "scale has shape [4]"));

  n = unary("LRN", DT_FLOAT, 4, TB_DIMS(2, 5, 3, 3), 1, &g);
  tb_attr_int(n, "size", 3);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 5, 3, 3);
  n = unary("LRN", DT_FLOAT, 4, TB_DIMS(2, 5, 3, 3), 1, &g);
  CU_ASSERT(tb_fails_with(infer, g, "size is required"));
  n = unary("LRN", DT_FLOAT, 4, TB_DIMS(2, 5, 3, 3), 1, &g);
  tb_attr_int(n, "size", 0);
  CU_ASSERT(tb_fails_with(infer, g, "size = 0"));
}

CU_TestInfo shape_nn_tests[] = {
    {"conv_padding_stride_dilation", test_conv_padding_stride_dilation},
    {"conv_1d_3d_and_groups", test_conv_1d_3d_and_groups},
    {"conv_auto_pad", test_conv_auto_pad},
    {"conv_errors", test_conv_errors},
    {"conv_transpose", test_conv_transpose},
    {"pool_ceil_mode", test_pool_ceil_mode},
    {"max_pool", test_max_pool},
    {"average_and_lp_pool", test_average_and_lp_pool},
    {"global_pools", test_global_pools},
    {"batch_norm", test_batch_norm},
    {"instance_norm_and_lrn", test_instance_norm_and_lrn},
    CU_TEST_INFO_NULL,
};
