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

CU_TestInfo modern_ops_tests[] = {
    {"reduce_float_family", test_reduce_float_family},
    {"reduce_int_wraps", test_reduce_int_wraps},
    {"reduce_log_sum_exp_large", test_reduce_log_sum_exp_large},
    {"reduce_empty", test_reduce_empty},
    {"reduce_axes_forms", test_reduce_axes_forms},
    {"arg_max_min", test_arg_max_min},
    CU_TEST_INFO_NULL,
};
