/* Operators that current CNN and hybrid exports contain, added for opsets 18 to 21: the rest of the Reduce family,
 * ArgMax/ArgMin, comparisons and logic, normalizations, activations, DepthToSpace/SpaceToDepth, Range and TopK.
 * Shapes, errors, hand-computed values, and folding that agrees byte for byte with the generated code. */
#include "testutil.h"

#include <math.h>
#include <string.h>

static void infer_graph(void *g) { tb_infer(g); }

static bool infer_fails_with(Graph *g, const char *expected) {
  bool failed = tb_fails_with(infer_graph, g, expected);
  if (!failed)
    fprintf(stderr, "\n  expected an error with \"%s\", got \"%s\"\n", expected, tb_last_error());
  return failed;
}

static Node *op1(Graph *g, const char *op, Value *a) { return tb_node(g, op, 1, (Value *[]){a}, 1); }
static Node *op2(Graph *g, const char *op, Value *a, Value *b) { return tb_node(g, op, 2, (Value *[]){a, b}, 1); }

static const float *out_f(const Graph *g, int j) { return g->outputs[j]->data; }
static const int64_t *out_i(const Graph *g, int j) { return g->outputs[j]->data; }

//
// The Reduce family
//

/* Every float reduction over axis 2 of iota[2, 3, 4], axes as the opset-18 input. */
static void build_float_reductions(Graph *g, Value **xs) {
  static const char *const ops[] = {"ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
                                    "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceSum"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    Node *n = op2(g, ops[k], xs[0], tb_const_ints(g, cn_format("axes%zu", k), 1, TB_DIMS(-1)));
    tb_attr_int(n, "keepdims", 0);
    tb_output(g, n->out[0]);
  }
}

static void test_reduce_float_family(void) {
  float x[24];
  for (int i = 0; i < 24; i++)
    x[i] = (float)(i % 7) - 2.5f; /* negatives for L1 and Min */
  TestInput in = {DT_FLOAT, 3, {2, 3, 4}, x};
  Graph *g = tb_fold_matches_code(18, 1, &in, build_float_reductions);
  for (int j = 0; j < 10; j++)
    TB_ASSERT_SHAPE(g->outputs[j], 2, 3);
  /* row 0 is -2.5, -1.5, -0.5, 0.5 */
  CU_ASSERT_EQUAL(out_f(g, 0)[0], -2.5f);
  CU_ASSERT_DOUBLE_EQUAL(out_f(g, 1)[0], -2.5 * 1.5 * 0.5 * 0.5, 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(out_f(g, 2)[0], 5.0, 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(out_f(g, 3)[0], sqrt(6.25 + 2.25 + 0.25 + 0.25), 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(out_f(g, 4)[0], 9.0, 1e-6);
  /* row 1 is 1.5, 2.5, 3.5, -2.5 */
  CU_ASSERT_DOUBLE_EQUAL(out_f(g, 5)[1], log(5.0), 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(out_f(g, 6)[1], log(exp(1.5) + exp(2.5) + exp(3.5) + exp(-2.5)), 1e-5);
}

/* Integer sums and products wrap as in two's complement; the fold agrees with the code. */
static void build_int_reductions(Graph *g, Value **xs) {
  static const char *const ops[] = {"ReduceProd", "ReduceSum", "ReduceSumSquare", "ReduceL1", "ReduceMin"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    Node *n = op1(g, ops[k], xs[0]);
    tb_attr_ints(n, "axes", 1, TB_DIMS(1));
    tb_output(g, n->out[0]);
  }
}

static void test_reduce_int_wraps(void) {
  const int32_t x[6] = {100000, 100000, 3, INT32_MAX, INT32_MIN, -7};
  TestInput in = {DT_INT32, 2, {2, 3}, x};
  Graph *g = tb_fold_matches_code(11, 1, &in, build_int_reductions);
  const int32_t *prod = g->outputs[0]->data;
  CU_ASSERT_EQUAL(prod[0], (int32_t)(uint32_t)(100000ull * 100000ull * 3ull));
  const int32_t *min = g->outputs[4]->data;
  CU_ASSERT_EQUAL(min[1], INT32_MIN);
}

/* Log-sum-exp of large values neither overflows nor loses the result. */
static void test_reduce_log_sum_exp_large(void) {
  Graph *g = tb_graph(18);
  const float x[3] = {1000, 1000, -INFINITY};
  Value *v = tb_const(g, "x", DT_FLOAT, 1, TB_DIMS(3), x);
  Node *n = op1(g, "ReduceLogSumExp", v);
  tb_attr_int(n, "keepdims", 0);
  tb_output(g, n->out[0]);
  tb_infer(g);
  CU_ASSERT_DOUBLE_EQUAL(out_f(g, 0)[0], 1000 + log(2.0), 1e-3);
}

/* From opset 18 the reduction of no elements is its identity; ReduceMean's stays an error. */
static void test_reduce_empty(void) {
  Graph *g = tb_graph(18);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 0));
  static const char *const ops[] = {"ReduceMax", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceLogSumExp"};
  for (int k = 0; k < 5; k++) {
    Node *n = op2(g, ops[k], x, tb_const_ints(g, cn_format("axes%d", k), 1, TB_DIMS(1)));
    tb_output(g, n->out[0]);
  }
  tb_infer(g);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 1);
  const char *driver = "int main(void) {\n"
                       "  float x[1], mx[2], mn[2], prod[2], sum[2], lse[2];\n"
                       "  if (model_run((const void *[]){x}, (void *[]){mx, mn, prod, sum, lse})) return 1;\n"
                       "  for (int i = 0; i < 2; i++)\n"
                       "    if (mx[i] != -INFINITY || mn[i] != INFINITY || prod[i] != 1 || sum[i] != 0 ||\n"
                       "        lse[i] != -INFINITY) return 2;\n"
                       "  return 0;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);

  g = tb_graph(18);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 0));
  op2(g, "ReduceMean", x, tb_const_ints(g, "axes", 1, TB_DIMS(1)));
  CU_ASSERT(infer_fails_with(g, "the mean of no elements is undefined"));
}

/* Each opset takes axes in one form only. */
static void test_reduce_axes_forms(void) {
  Graph *g = tb_graph(18);
  Node *n = op1(g, "ReduceMean", tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3)));
  tb_attr_ints(n, "axes", 1, TB_DIMS(1));
  CU_ASSERT(infer_fails_with(g, "axes is an input of ReduceMean from opset 18 on, not an attribute"));

  g = tb_graph(17);
  op2(g, "ReduceL2", tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3)), tb_const_ints(g, "axes", 1, TB_DIMS(1)));
  CU_ASSERT(infer_fails_with(g, "ReduceL2 takes axes as an attribute before opset 18, not as input 1"));

  g = tb_graph(17);
  n = op1(g, "ReduceMax", tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3)));
  tb_attr_int(n, "noop_with_empty_axes", 1);
  CU_ASSERT(infer_fails_with(g, "attribute 'noop_with_empty_axes' is not implemented by cnnc for ReduceMax at opset 17"));

  g = tb_graph(18);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3));
  Node *noop = op2(g, "ReduceProd", x, tb_const_ints(g, "none", 0, NULL));
  tb_attr_int(noop, "noop_with_empty_axes", 1);
  Node *all = op1(g, "ReduceMin", x);
  tb_infer(g);
  TB_ASSERT_SHAPE(noop->out[0], 2, 3);
  TB_ASSERT_SHAPE(all->out[0], 1, 1);

  g = tb_graph(18);
  op1(g, "ReduceLogSum", tb_input(g, "x", DT_INT32, 1, TB_DIMS(3)));
  CU_ASSERT(infer_fails_with(g, "expected float or double"));
}

//
// ArgMax, ArgMin
//

static void build_args(Graph *g, Value **xs) {
  Node *max_first = op1(g, "ArgMax", xs[0]);
  tb_attr_int(max_first, "axis", 1);
  Node *max_last = op1(g, "ArgMax", xs[0]);
  tb_attr_int(max_last, "axis", -1);
  tb_attr_int(max_last, "select_last_index", 1);
  Node *min_first = op1(g, "ArgMin", xs[0]);
  tb_attr_int(min_first, "keepdims", 0);
  Node *min_last = op1(g, "ArgMin", xs[0]);
  tb_attr_int(min_last, "axis", 1);
  tb_attr_int(min_last, "keepdims", 0);
  tb_attr_int(min_last, "select_last_index", 1);
  tb_output(g, max_first->out[0]);
  tb_output(g, max_last->out[0]);
  tb_output(g, min_first->out[0]);
  tb_output(g, min_last->out[0]);
}

static void test_arg_max_min(void) {
  /* [[3, 7, 7, 1], [5, 5, 0, 0], [2, 9, 1, 9]] */
  const float xf[12] = {3, 7, 7, 1, 5, 5, 0, 0, 2, 9, 1, 9};
  TestInput in = {DT_FLOAT, 2, {3, 4}, xf};
  Graph *g = tb_fold_matches_code(13, 1, &in, build_args);
  TB_ASSERT_SHAPE(g->outputs[0], 3, 1);
  TB_ASSERT_SHAPE(g->outputs[2], 4);
  const int64_t max_first[3] = {1, 0, 1}, max_last[3] = {2, 1, 3}, min_first[4] = {2, 1, 1, 1},
                min_last[3] = {3, 3, 2};
  CU_ASSERT(memcmp(out_i(g, 0), max_first, sizeof max_first) == 0);
  CU_ASSERT(memcmp(out_i(g, 1), max_last, sizeof max_last) == 0);
  CU_ASSERT(memcmp(out_i(g, 2), min_first, sizeof min_first) == 0);
  CU_ASSERT(memcmp(out_i(g, 3), min_last, sizeof min_last) == 0);

  const int8_t xi[12] = {-128, -128, 7, 7, 5, 5, 0, 0, 2, 9, -1, 9};
  TestInput ints = {DT_INT8, 2, {3, 4}, xi};
  tb_fold_matches_code(13, 1, &ints, build_args);

  g = tb_graph(13);
  op1(g, "ArgMax", tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(0, 3)));
  CU_ASSERT(infer_fails_with(g, "there is no index to return"));
  g = tb_graph(11);
  Node *n = op1(g, "ArgMin", tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3)));
  tb_attr_int(n, "select_last_index", 1);
  CU_ASSERT(infer_fails_with(g, "attribute 'select_last_index' is not implemented by cnnc for ArgMin at opset 11"));
}

//
// Comparisons and logic
//

static void build_comparisons(Graph *g, Value **xs) {
  static const char *const ops[] = {"Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"};
  for (int k = 0; k < 5; k++)
    tb_output(g, op2(g, ops[k], xs[0], xs[1])->out[0]);
}

static void test_comparisons(void) {
  /* a [2, 3] against b [3], broadcast; NaN compares false everywhere */
  const float a[6] = {1, 2, 3, NAN, 5, -1}, b[3] = {1, 5, NAN};
  TestInput ins[2] = {{DT_FLOAT, 2, {2, 3}, a}, {DT_FLOAT, 1, {3}, b}};
  Graph *g = tb_fold_matches_code(13, 2, ins, build_comparisons);
  const bool *eq = g->outputs[0]->data, *gt = g->outputs[1]->data, *le = g->outputs[4]->data;
  TB_ASSERT_SHAPE(g->outputs[0], 2, 3);
  CU_ASSERT(eq[0] && !eq[1] && !eq[2] && !eq[3]);
  CU_ASSERT(!gt[0] && !gt[1] && !gt[3] && gt[4] == false && !gt[5]);
  CU_ASSERT(le[0] && le[1] && !le[2] && !le[3] && le[4] && !le[5]);

  const int64_t ai[4] = {INT64_MIN, -1, 0, INT64_MAX}, bi[4] = {INT64_MAX, -1, 1, INT64_MIN};
  TestInput ints[2] = {{DT_INT64, 1, {4}, ai}, {DT_INT64, 1, {4}, bi}};
  g = tb_fold_matches_code(13, 2, ints, build_comparisons);
  const bool *lt = g->outputs[2]->data;
  CU_ASSERT(lt[0] && !lt[1] && lt[2] && !lt[3]);

  const bool ab[2] = {true, false}, bb[2] = {true, true};
  TestInput bools[2] = {{DT_BOOL, 1, {2}, ab}, {DT_BOOL, 1, {2}, bb}};
  g = tb_graph(13);
  op2(g, "Greater", tb_const(g, "a", DT_BOOL, 1, TB_DIMS(2), ab), tb_const(g, "b", DT_BOOL, 1, TB_DIMS(2), bb));
  CU_ASSERT(infer_fails_with(g, "input 0 has element type bool; Greater takes numbers"));
  g = tb_graph(13);
  tb_output(g, op2(g, "Equal", tb_const(g, "a", DT_BOOL, 1, TB_DIMS(2), ab), tb_const(g, "b", DT_BOOL, 1, TB_DIMS(2), bb))->out[0]);
  tb_infer(g);
  CU_ASSERT(((const bool *)g->outputs[0]->data)[0] && !((const bool *)g->outputs[0]->data)[1]);
  (void)bools;
}

static void build_logic(Graph *g, Value **xs) {
  tb_output(g, op2(g, "And", xs[0], xs[1])->out[0]);
  tb_output(g, op2(g, "Or", xs[0], xs[1])->out[0]);
  tb_output(g, op2(g, "Xor", xs[0], xs[1])->out[0]);
  tb_output(g, op1(g, "Not", xs[0])->out[0]);
}

static void test_logic(void) {
  /* the truth table: a [4, 1] against b [2] */
  const bool a[2] = {false, true}, b[2] = {false, true};
  TestInput ins[2] = {{DT_BOOL, 2, {2, 1}, a}, {DT_BOOL, 1, {2}, b}};
  Graph *g = tb_fold_matches_code(13, 2, ins, build_logic);
  const bool and_[4] = {0, 0, 0, 1}, or_[4] = {0, 1, 1, 1}, xor_[4] = {0, 1, 1, 0}, not_[2] = {1, 0};
  CU_ASSERT(memcmp(g->outputs[0]->data, and_, 4) == 0);
  CU_ASSERT(memcmp(g->outputs[1]->data, or_, 4) == 0);
  CU_ASSERT(memcmp(g->outputs[2]->data, xor_, 4) == 0);
  CU_ASSERT(memcmp(g->outputs[3]->data, not_, 2) == 0);

  g = tb_graph(13);
  op2(g, "And", tb_input(g, "a", DT_FLOAT, 1, TB_DIMS(2)), tb_input(g, "b", DT_FLOAT, 1, TB_DIMS(2)));
  CU_ASSERT(infer_fails_with(g, "And takes bool"));
}

//
// Gelu, Mish
//

static void build_activations(Graph *g, Value **xs) {
  tb_output(g, op1(g, "Gelu", xs[0])->out[0]);
  Node *tanh_form = op1(g, "Gelu", xs[0]);
  tb_attr_string(tanh_form, "approximate", "tanh");
  tb_output(g, tanh_form->out[0]);
  tb_output(g, op1(g, "Mish", xs[0])->out[0]);
}

static void test_gelu_mish(void) {
  const float x[6] = {-3, -0.5f, 0, 0.25f, 1, 40};
  TestInput in = {DT_FLOAT, 1, {6}, x};
  Graph *g = tb_fold_matches_code(20, 1, &in, build_activations);
  for (int i = 0; i < 6; i++) {
    double v = x[i];
    double gelu = 0.5 * v * (1 + erf(v / sqrt(2.0)));
    double gelu_tanh = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
    double mish = v * tanh(log1p(exp(v)));
    CU_ASSERT_DOUBLE_EQUAL(out_f(g, 0)[i], gelu, 1e-6 * (1 + fabs(gelu)));
    CU_ASSERT_DOUBLE_EQUAL(out_f(g, 1)[i], gelu_tanh, 1e-6 * (1 + fabs(gelu_tanh)));
    CU_ASSERT_DOUBLE_EQUAL(out_f(g, 2)[i], mish, 1e-6 * (1 + fabs(mish)));
  }
  /* the tanh form differs from the exact one, by about 1e-4 near x = -0.5 */
  CU_ASSERT(out_f(g, 0)[1] != out_f(g, 1)[1]);

  const double xd[3] = {-2, 0.5, 3};
  TestInput doubles = {DT_DOUBLE, 1, {3}, xd};
  g = tb_fold_matches_code(20, 1, &doubles, build_activations);
  CU_ASSERT_DOUBLE_EQUAL(((const double *)g->outputs[0]->data)[2], 1.5 * (1 + erf(3 / sqrt(2.0))), 1e-14);

  g = tb_graph(20);
  Node *n = op1(g, "Gelu", tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(2)));
  tb_attr_string(n, "approximate", "sigmoid");
  CU_ASSERT(infer_fails_with(g, "approximate = 'sigmoid'; Gelu computes 'none' (erf) or 'tanh'"));
}

//
// DepthToSpace, SpaceToDepth
//

static void build_depth_space(Graph *g, Value **xs) {
  Node *dcr = op1(g, "DepthToSpace", xs[0]);
  tb_attr_int(dcr, "blocksize", 2);
  Node *crd = op1(g, "DepthToSpace", xs[0]);
  tb_attr_int(crd, "blocksize", 2);
  tb_attr_string(crd, "mode", "CRD");
  Node *back = op1(g, "SpaceToDepth", dcr->out[0]);
  tb_attr_int(back, "blocksize", 2);
  tb_output(g, dcr->out[0]);
  tb_output(g, crd->out[0]);
  tb_output(g, back->out[0]);
}

static void test_depth_space(void) {
  float x[24];
  for (int i = 0; i < 24; i++)
    x[i] = (float)i;
  TestInput in = {DT_FLOAT, 4, {1, 8, 1, 3}, x};
  Graph *g = tb_fold_matches_code(13, 1, &in, build_depth_space);
  TB_ASSERT_SHAPE(g->outputs[0], 1, 2, 2, 6);
  /* DCR: y[0, c, h*2 + i, w*2 + j] = x[0, (i*2 + j)*2 + c, h, w] */
  const float *dcr = out_f(g, 0), *crd = out_f(g, 1);
  CU_ASSERT_EQUAL(dcr[0 * 12 + 0 * 6 + 1], x[(0 * 2 + 1) * 2 * 3 + 0]);     /* c 0, i 0, j 1, w 0 */
  CU_ASSERT_EQUAL(dcr[1 * 12 + 1 * 6 + 4], x[((1 * 2 + 0) * 2 + 1) * 3 + 2]); /* c 1, i 1, j 0, w 2 */
  /* CRD: y[0, c, h*2 + i, w*2 + j] = x[0, c*4 + i*2 + j, h, w] */
  CU_ASSERT_EQUAL(crd[1 * 12 + 1 * 6 + 4], x[(1 * 4 + 1 * 2 + 0) * 3 + 2]);
  /* SpaceToDepth undoes DCR */
  CU_ASSERT(memcmp(out_f(g, 2), x, sizeof x) == 0);

  g = tb_graph(13);
  Node *n = op1(g, "DepthToSpace", tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 6, 2, 2)));
  tb_attr_int(n, "blocksize", 2);
  CU_ASSERT(infer_fails_with(g, "6 channels do not divide into blocks of 2 x 2"));
  g = tb_graph(13);
  n = op1(g, "SpaceToDepth", tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 6)));
  tb_attr_int(n, "blocksize", (int64_t)1 << 62);
  CU_ASSERT(infer_fails_with(g, "does not fit the height and width"));
}

//
// LayerNormalization, GroupNormalization
//

static void test_layer_norm(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(2, 2, 3));
  const float scale[3] = {1, 2, -1}, bias[1] = {0.5f};
  Node *n = tb_node(g, "LayerNormalization", 3, (Value *[]){x, tb_const(g, "scale", DT_FLOAT, 1, TB_DIMS(3), scale),
                                                            tb_const(g, "bias", DT_FLOAT, 1, TB_DIMS(1), bias)}, 3);
  tb_attr_float(n, "epsilon", 0);
  Node *two_axes = tb_node(g, "LayerNormalization", 2,
                           (Value *[]){x, tb_const(g, "s2", DT_FLOAT, 2, TB_DIMS(1, 3), scale)}, 1);
  tb_attr_int(two_axes, "axis", 1);
  for (int k = 0; k < 3; k++)
    tb_output(g, n->out[k]);
  tb_output(g, two_axes->out[0]);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[1], 2, 2, 1);
  /* row [1, 2, 3]: mean 2, variance 2/3 */
  const char *driver = "int main(void) {\n"
                       "  float x[12] = {1, 2, 3, 0, 0, 6, 1, 1, 1, -2, 0, 2}, y[12], mean[4], inv[4], y2[12];\n"
                       "  if (model_run((const void *[]){x}, (void *[]){y, mean, inv, y2})) return 1;\n"
                       "  double s = 1 / sqrt(2.0 / 3);\n"
                       "  if (fabs(y[0] - (-s + 0.5)) > 1e-6 || fabs(y[1] - 0.5) > 1e-6 || fabs(y[2] - (-s + 0.5)) > 1e-6)\n"
                       "    return 2;\n"
                       "  if (mean[0] != 2 || fabs(inv[0] - s) > 1e-6 || mean[1] != 2) return 3;\n"
                       "  /* axis 1, default epsilon: the 6 elements 1 2 3 0 0 6 have mean 2 and variance 26/6 */\n"
                       "  if (fabs(y2[5] - (-(6 - 2) / sqrt(26.0 / 6 + 1e-5))) > 1e-6) return 5;\n"
                       "  return 0;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

/* Opset 18 scales and shifts per group, opset 21 per channel. */
static void test_group_norm(void) {
  for (int opset = 18; opset <= 21; opset += 3) {
    Graph *g = tb_graph(opset);
    Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(1, 4, 2));
    int64_t params = opset == 18 ? 2 : 4;
    const float scale[4] = {1, 2, 3, 4}, bias[4] = {0, 10, 20, 30};
    Node *n = tb_node(g, "GroupNormalization", 3,
                      (Value *[]){x, tb_const(g, "scale", DT_FLOAT, 1, TB_DIMS(params), scale),
                                  tb_const(g, "bias", DT_FLOAT, 1, TB_DIMS(params), bias)}, 1);
    tb_attr_int(n, "num_groups", 2);
    tb_attr_float(n, "epsilon", 0);
    tb_output(g, n->out[0]);
    tb_infer(g);
    /* group 0 is channels 0, 1: [0, 2, 4, 6], mean 3, variance 5 */
    const char *driver = opset == 18 ? "int main(void) {\n"
                                       "  float x[8] = {0, 2, 4, 6, 1, 1, 1, 3}, y[8];\n"
                                       "  if (model_run((const void *[]){x}, (void *[]){y})) return 1;\n"
                                       "  double s = 1 / sqrt(5.0);\n"
                                       "  if (fabs(y[0] - (-3 * s)) > 1e-6 || fabs(y[3] - 3 * s) > 1e-6) return 2;\n"
                                       "  if (fabs(y[7] - (2 * sqrt(3.0) + 10)) > 1e-5) return 3;\n"
                                       "  return 0;\n"
                                       "}\n"
                                     : "int main(void) {\n"
                                       "  float x[8] = {0, 2, 4, 6, 1, 1, 1, 3}, y[8];\n"
                                       "  if (model_run((const void *[]){x}, (void *[]){y})) return 1;\n"
                                       "  double s = 1 / sqrt(5.0);\n"
                                       "  if (fabs(y[0] - (-3 * s)) > 1e-6 || fabs(y[3] - (3 * s * 2 + 10)) > 1e-5) return 2;\n"
                                       "  if (fabs(y[7] - (4 * sqrt(3.0) + 30)) > 1e-5) return 3;\n"
                                       "  return 0;\n"
                                       "}\n";
    CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
  }
  Graph *g = tb_graph(21);
  Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(1, 4, 2));
  const float two[2] = {1, 1};
  Node *n = tb_node(g, "GroupNormalization", 3, (Value *[]){x, tb_const(g, "s", DT_FLOAT, 1, TB_DIMS(2), two),
                                                            tb_const(g, "b", DT_FLOAT, 1, TB_DIMS(2), two)}, 1);
  tb_attr_int(n, "num_groups", 2);
  CU_ASSERT(infer_fails_with(g, "scale has shape [2]; at opset 21 it holds one value per channel: [4]"));
  g = tb_graph(18);
  x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(1, 4, 2));
  n = tb_node(g, "GroupNormalization", 3, (Value *[]){x, tb_const(g, "s", DT_FLOAT, 1, TB_DIMS(2), two),
                                                      tb_const(g, "b", DT_FLOAT, 1, TB_DIMS(2), two)}, 1);
  tb_attr_int(n, "num_groups", 3);
  CU_ASSERT(infer_fails_with(g, "num_groups = 3 does not divide the 4 channels"));
}

//
// Range, TopK
//

static void test_range(void) {
  Graph *g = tb_graph(11);
  const float fs[3] = {1, 2.5f, 0.5f};
  const int32_t is[3] = {10, -3, -4};
  Node *f = tb_node(g, "Range", 3, (Value *[]){tb_const(g, "a", DT_FLOAT, 0, NULL, &fs[0]),
                                               tb_const(g, "b", DT_FLOAT, 0, NULL, &fs[1]),
                                               tb_const(g, "c", DT_FLOAT, 0, NULL, &fs[2])}, 1);
  Node *i = tb_node(g, "Range", 3, (Value *[]){tb_const(g, "d", DT_INT32, 0, NULL, &is[0]),
                                               tb_const(g, "e", DT_INT32, 0, NULL, &is[1]),
                                               tb_const(g, "f", DT_INT32, 0, NULL, &is[2])}, 1);
  Node *empty = tb_node(g, "Range", 3, (Value *[]){i->in[1], i->in[0], i->in[2]}, 1);
  tb_infer(g);
  TB_ASSERT_SHAPE(f->out[0], 3);
  TB_ASSERT_SHAPE(i->out[0], 4); /* 10, 6, 2, -2 */
  TB_ASSERT_SHAPE(empty->out[0], 0);
  const float want_f[3] = {1, 1.5f, 2};
  const int32_t want_i[4] = {10, 6, 2, -2};
  CU_ASSERT(memcmp(f->out[0]->data, want_f, sizeof want_f) == 0);
  CU_ASSERT(memcmp(i->out[0]->data, want_i, sizeof want_i) == 0);

  g = tb_graph(11);
  const int64_t zero = 0, one = 1;
  tb_node(g, "Range", 3, (Value *[]){tb_const(g, "a", DT_INT64, 0, NULL, &zero), tb_const(g, "b", DT_INT64, 0, NULL, &one),
                                     tb_const(g, "c", DT_INT64, 0, NULL, &zero)}, 1);
  CU_ASSERT(infer_fails_with(g, "delta is 0"));
  g = tb_graph(11);
  tb_node(g, "Range", 3, (Value *[]){tb_input(g, "a", DT_INT64, 0, NULL), tb_const(g, "b", DT_INT64, 0, NULL, &one),
                                     tb_const(g, "c", DT_INT64, 0, NULL, &one)}, 1);
  CU_ASSERT(infer_fails_with(g, "must be known at compile time"));
}

static void build_topk(Graph *g, Value **xs) {
  Node *largest = tb_node(g, "TopK", 2, (Value *[]){xs[0], tb_const_ints(g, "k3", 1, TB_DIMS(3))}, 2);
  Node *smallest = tb_node(g, "TopK", 2, (Value *[]){xs[0], tb_const_ints(g, "k2", 1, TB_DIMS(2))}, 2);
  tb_attr_int(smallest, "axis", 0);
  tb_attr_int(smallest, "largest", 0);
  for (int k = 0; k < 2; k++) {
    tb_output(g, largest->out[k]);
    tb_output(g, smallest->out[k]);
  }
}

static void test_topk(void) {
  /* [[3, 7, 7, 1, 9], [5, 5, 0, 5, 2], [2, 9, 1, 9, 9]] */
  const float x[15] = {3, 7, 7, 1, 9, 5, 5, 0, 5, 2, 2, 9, 1, 9, 9};
  TestInput in = {DT_FLOAT, 2, {3, 5}, x};
  Graph *g = tb_fold_matches_code(11, 1, &in, build_topk);
  TB_ASSERT_SHAPE(g->outputs[0], 3, 3);
  TB_ASSERT_SHAPE(g->outputs[1], 2, 5);
  const float values[9] = {9, 7, 7, 5, 5, 5, 9, 9, 9};
  const int64_t indices[9] = {4, 1, 2, 0, 1, 3, 1, 3, 4}; /* ties in index order */
  CU_ASSERT(memcmp(out_f(g, 0), values, sizeof values) == 0);
  CU_ASSERT(memcmp(out_i(g, 2), indices, sizeof indices) == 0);
  /* the two smallest of each column, down axis 0 */
  const float low[10] = {2, 5, 0, 1, 2, 3, 7, 1, 5, 9};
  const int64_t low_at[10] = {2, 1, 1, 0, 1, 0, 0, 2, 1, 0};
  CU_ASSERT(memcmp(out_f(g, 1), low, sizeof low) == 0);
  CU_ASSERT(memcmp(out_i(g, 3), low_at, sizeof low_at) == 0);

  const int32_t xi[6] = {INT32_MIN, 4, -1, 4, INT32_MAX, 0};
  TestInput ints = {DT_INT32, 2, {2, 3}, xi};
  tb_fold_matches_code(11, 1, &ints, build_topk);

  g = tb_graph(11);
  tb_node(g, "TopK", 2, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4)), tb_const_ints(g, "k", 1, TB_DIMS(5))}, 2);
  CU_ASSERT(infer_fails_with(g, "k = 5, but axis 0 of [4] has 4 elements"));
  g = tb_graph(11);
  tb_node(g, "TopK", 2, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4)), tb_input(g, "k", DT_INT64, 1, TB_DIMS(1))}, 2);
  CU_ASSERT(infer_fails_with(g, "must be known at compile time"));
}

CU_TestInfo modern_ops_tests[] = {
    {"reduce_float_family", test_reduce_float_family},
    {"reduce_int_wraps", test_reduce_int_wraps},
    {"reduce_log_sum_exp_large", test_reduce_log_sum_exp_large},
    {"reduce_empty", test_reduce_empty},
    {"reduce_axes_forms", test_reduce_axes_forms},
    {"arg_max_min", test_arg_max_min},
    {"comparisons", test_comparisons},
    {"logic", test_logic},
    {"gelu_mish", test_gelu_mish},
    {"depth_space", test_depth_space},
    {"layer_norm", test_layer_norm},
    {"group_norm", test_group_norm},
    {"range", test_range},
    {"topk", test_topk},
    CU_TEST_INFO_NULL,
};
