/* node_macs (compiler/cost.c) against hand-counted multiply-adds, and the opt-in profile of generated code
 * (-DCNNC_PROFILE): one entry per layer function, with its FLOPs, its call count and a time. */
#include "testutil.h"

#include <stdlib.h>

static float zeros[4096];

/* A node of op_type reading x (a run-time input of shape x_dims) and a zero constant of shape w_dims. */
static Node *with_weights(Graph *g, const char *op_type, int rank, const int64_t *x_dims, int w_rank,
                          const int64_t *w_dims) {
  Value *ins[] = {tb_input(g, cn_format("x%d", g->n_values), DT_FLOAT, rank, x_dims),
                  tb_const(g, cn_format("w%d", g->n_values), DT_FLOAT, w_rank, w_dims, zeros)};
  Node *n = tb_node(g, op_type, 2, ins, 1);
  tb_output(g, n->out[0]);
  return n;
}

static void test_conv(void) {
  Graph *g = tb_graph(13);
  /* pads 1, stride 2: 10x10 -> 5x5; 8 outputs channels x 25 pixels, each 3 channels x 9 taps */
  Node *strided = with_weights(g, "Conv", 4, TB_DIMS(1, 3, 10, 10), 4, TB_DIMS(8, 3, 3, 3));
  tb_attr_ints(strided, "pads", 4, TB_DIMS(1, 1, 1, 1));
  tb_attr_ints(strided, "strides", 2, TB_DIMS(2, 2));
  /* group 2: each output reads 2 of the 4 channels; batch 2; 6x6 -> 4x4 */
  Node *grouped = with_weights(g, "Conv", 4, TB_DIMS(2, 4, 6, 6), 4, TB_DIMS(6, 2, 3, 3));
  tb_attr_int(grouped, "group", 2);
  /* SAME_UPPER keeps 7x7 whatever the dilation; kernel_shape given */
  Node *same = with_weights(g, "Conv", 4, TB_DIMS(1, 1, 7, 7), 4, TB_DIMS(2, 1, 3, 3));
  tb_attr_string(same, "auto_pad", "SAME_UPPER");
  tb_attr_ints(same, "dilations", 2, TB_DIMS(2, 2));
  tb_attr_ints(same, "kernel_shape", 2, TB_DIMS(3, 3));
  /* 1-D */
  Node *line = with_weights(g, "Conv", 3, TB_DIMS(1, 2, 9), 3, TB_DIMS(4, 2, 4));
  tb_infer(g);
  CU_ASSERT_EQUAL(node_macs(strided), 1 * 8 * 25 * 3 * 9);
  CU_ASSERT_EQUAL(node_macs(grouped), 2 * 6 * 16 * 2 * 9);
  CU_ASSERT_EQUAL(node_macs(same), 1 * 2 * 49 * 1 * 9);
  CU_ASSERT_EQUAL(node_macs(line), 1 * 4 * 6 * 2 * 4);
}

static void test_conv_transpose_gemm_matmul(void) {
  Graph *g = tb_graph(13);
  /* every one of the 2x3x3 inputs feeds M/group = 4 channels x 2x2 taps */
  Node *up = with_weights(g, "ConvTranspose", 4, TB_DIMS(1, 2, 3, 3), 4, TB_DIMS(2, 4, 2, 2));
  tb_attr_ints(up, "strides", 2, TB_DIMS(2, 2));
  /* A (5, 3) transposed: M 3, K 5; B (5, 7): N 7 */
  Node *gemm = with_weights(g, "Gemm", 2, TB_DIMS(5, 3), 2, TB_DIMS(5, 7));
  tb_attr_int(gemm, "transA", 1);
  /* batched (2, 3) x (4, 5) times (5, 6): 2 * 3 * 4 * 6 outputs of 5 multiply-adds */
  Node *matmul = with_weights(g, "MatMul", 4, TB_DIMS(2, 3, 4, 5), 2, TB_DIMS(5, 6));
  Node *relu = tb_node(g, "Relu", 1, (Value *[]){matmul->out[0]}, 1);
  tb_output(g, relu->out[0]);
  tb_infer(g);
  CU_ASSERT_EQUAL(node_macs(up), 18 * 4 * 4);
  CU_ASSERT_EQUAL(node_macs(gemm), 3 * 7 * 5);
  CU_ASSERT_EQUAL(node_macs(matmul), 2 * 3 * 4 * 6 * 5);
  CU_ASSERT_EQUAL(node_macs(relu), 0);
}

/* A depthwise Conv fused into a pointwise one as its window counts with the anchor. */
static void test_fused_window(void) {
  Graph *g = tb_graph(13);
  Node *pointwise = with_weights(g, "Conv", 4, TB_DIMS(1, 4, 8, 8), 4, TB_DIMS(8, 4, 1, 1));
  Value *ins[] = {pointwise->out[0], tb_const(g, "dw", DT_FLOAT, 4, TB_DIMS(8, 1, 3, 3), zeros)};
  Node *depthwise = tb_node(g, "Conv", 2, ins, 1);
  tb_attr_int(depthwise, "group", 8);
  tb_attr_ints(depthwise, "pads", 4, TB_DIMS(1, 1, 1, 1));
  tb_output(g, depthwise->out[0]);
  tb_infer(g);
  int64_t alone = node_macs(pointwise);
  CU_ASSERT_EQUAL(alone, 8 * 64 * 4);
  CU_ASSERT_EQUAL(node_macs(depthwise), 8 * 64 * 9);
  pointwise->fusion = &(Fusion){.bias = -1, .residual = -1, .window = depthwise};
  CU_ASSERT_EQUAL(node_macs(pointwise), 8 * 64 * 4 + 8 * 64 * 9);
}

/* Built with -DCNNC_PROFILE, three runs of Conv -> Relu leave two entries with three calls each, the
 * Conv's FLOPs, and time spent in the Conv (about a million multiply-adds: well above the clock's step). */
static void test_profile(void) {
  Graph *g = tb_graph(13);
  float *w = calloc(16 * 8 * 9, sizeof *w);
  Value *ins[] = {tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 8, 32, 32)),
                  tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(16, 8, 3, 3), w)};
  Node *conv = tb_node(g, "Conv", 2, ins, 1);
  conv->name = "conv \"1\"";
  tb_attr_ints(conv, "pads", 4, TB_DIMS(1, 1, 1, 1));
  Node *relu = tb_node(g, "Relu", 1, (Value *[]){conv->out[0]}, 1);
  tb_output(g, relu->out[0]);
  tb_infer(g);
  const char *driver = "#include <string.h>\n"
                       "static float x[8 * 32 * 32], y[16 * 32 * 32];\n"
                       "int main(void) {\n"
                       "  const void *in[] = {x};\n"
                       "  void *out[] = {y};\n"
                       "  for (int r = 0; r < 3; r++)\n"
                       "    if (model_run(in, out) != 0) return 1;\n"
                       "  const cnnc_profile_entry *p = model_profile;\n"
                       "  if (!p[0].function || !p[1].function || p[2].function) return 2;\n"
                       "  if (strcmp(p[0].ops, \"Conv\") || strcmp(p[1].ops, \"Relu\")) return 3;\n"
                       "  if (strcmp(p[0].node, \"conv \\\"1\\\"\")) return 4;\n"
                       "  if (p[0].flops != 2LL * 16 * 32 * 32 * 8 * 9 || p[1].flops != 0) return 5;\n"
                       "  if (p[0].calls != 3 || p[1].calls != 3) return 6;\n"
                       "  if (p[0].ns == 0) return 7;\n"
                       "  return 0;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run_target(g, driver, TARGET_GENERIC, NULL, "-DCNNC_PROFILE"), 0);
  free(w);
}

/* Parameters: the float initializers a node reads, before any pass changes them; not shapes (int64), not the
 * results of folding (an Identity's copy of a weight), and not run-time inputs. */
static void test_params(void) {
  Graph *g = tb_graph(13);
  Value *b = tb_const(g, "b", DT_FLOAT, 1, TB_DIMS(8), zeros);
  Value *copy = tb_node(g, "Identity", 1, (Value *[]){b}, 1)->out[0];
  Value *ins[] = {tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 3, 6, 6)),
                  tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(8, 3, 3, 3), zeros), b};
  Node *conv = tb_node(g, "Conv", 3, ins, 1);
  ins[2] = copy;
  Node *conv_of_copy = tb_node(g, "Conv", 3, ins, 1);
  Node *reshape = tb_node(g, "Reshape", 2, (Value *[]){conv->out[0], tb_const_ints(g, "shape", 2, TB_DIMS(1, -1))}, 1);
  Node *add = tb_node(g, "Add", 2, (Value *[]){reshape->out[0], reshape->out[0]}, 1);
  tb_output(g, add->out[0]);
  tb_output(g, conv_of_copy->out[0]);
  tb_infer(g);
  CU_ASSERT_EQUAL(conv->param_count, 8 * 3 * 9 + 8);
  CU_ASSERT_EQUAL(conv_of_copy->param_count, 8 * 3 * 9);
  CU_ASSERT_EQUAL(reshape->param_count, 0);
  CU_ASSERT_EQUAL(add->param_count, 0);
}

CU_TestInfo cost_tests[] = {
    {"params", test_params},
    {"conv", test_conv},
    {"conv_transpose_gemm_matmul", test_conv_transpose_gemm_matmul},
    {"fused_window", test_fused_window},
    {"profile", test_profile},
    CU_TEST_INFO_NULL,
};
