/* The data-movement ops (reshape.c, transpose.c, concat.c, split.c, slice.c, gather.c, pad.c, expand.c,
 * constant.c, shape.c): shape inference, errors, and folding that agrees with the generated code. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static Node *op1(Graph *g, const char *op, Value *a) { return tb_node(g, op, 1, (Value *[]){a}, 1); }
static Node *op2(Graph *g, const char *op, Value *a, Value *b) { return tb_node(g, op, 2, (Value *[]){a, b}, 1); }

static Value *input_f(Graph *g, int rank, const int64_t *dims) { return tb_input(g, "x", DT_FLOAT, rank, dims); }

static void infer_graph(void *g) { tb_infer(g); }

static bool infer_fails_with(Graph *g, const char *expected) {
  bool failed = tb_fails_with(infer_graph, g, expected);
  if (!failed)
    fprintf(stderr, "\n  expected an error with \"%s\", got \"%s\"\n", expected, tb_last_error());
  return failed;
}

static const float iota24[24] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

static TestInput f234(void) { return (TestInput){DT_FLOAT, 3, {2, 3, 4}, iota24}; }

static const float *out_f(const Graph *g, int j) { return g->outputs[j]->data; }

/* ---- Reshape, Flatten, Squeeze, Unsqueeze ---- */

static void test_reshape_shapes(void) {
  Graph *g = tb_graph(14);
  Value *x = input_f(g, 3, TB_DIMS(2, 3, 4));
  Node *copy_and_infer = op2(g, "Reshape", x, tb_const_ints(g, "s1", 3, TB_DIMS(0, -1, 2)));
  Node *allow_zero = op2(g, "Reshape", tb_input(g, "e", DT_FLOAT, 2, TB_DIMS(0, 3)), tb_const_ints(g, "s2", 3, TB_DIMS(3, 0, 5)));
  tb_attr_int(allow_zero, "allowzero", 1);
  Node *scalar = op2(g, "Reshape", tb_input(g, "one", DT_FLOAT, 2, TB_DIMS(1, 1)), tb_const_ints(g, "s3", 0, NULL));
  tb_infer(g);
  TB_ASSERT_SHAPE(copy_and_infer->out[0], 2, 6, 2);
  TB_ASSERT_SHAPE(allow_zero->out[0], 3, 0, 5);
  CU_ASSERT_EQUAL(scalar->out[0]->rank, 0);

  Graph *old = tb_graph(4); /* the shape was an attribute before opset 5 */
  Node *n = op1(old, "Reshape", input_f(old, 3, TB_DIMS(2, 3, 4)));
  tb_attr_ints(n, "shape", 2, TB_DIMS(-1, 4));
  tb_infer(old);
  TB_ASSERT_SHAPE(n->out[0], 6, 4);
}

static void test_reshape_errors(void) {
  Graph *g = tb_graph(14);
  op2(g, "Reshape", input_f(g, 2, TB_DIMS(2, 3)), tb_const_ints(g, "s", 2, TB_DIMS(-1, -1)));
  CU_ASSERT(infer_fails_with(g, "at most one dimension can be inferred"));
  g = tb_graph(14);
  op2(g, "Reshape", input_f(g, 2, TB_DIMS(2, 3)), tb_const_ints(g, "s", 2, TB_DIMS(4, 2)));
  CU_ASSERT(infer_fails_with(g, "cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)"));
  g = tb_graph(14);
  op2(g, "Reshape", input_f(g, 2, TB_DIMS(2, 3)), tb_const_ints(g, "s", 1, TB_DIMS(-4)));
  CU_ASSERT(infer_fails_with(g, "dimensions must be >= -1"));
  g = tb_graph(14);
  op2(g, "Reshape", input_f(g, 2, TB_DIMS(2, 3)), tb_const_ints(g, "s", 1, TB_DIMS(4)));
  CU_ASSERT(infer_fails_with(g, "cannot reshape"));
  g = tb_graph(14);
  op2(g, "Reshape", input_f(g, 2, TB_DIMS(2, 3)), tb_input(g, "s", DT_INT64, 1, TB_DIMS(2)));
  CU_ASSERT(infer_fails_with(g, "must be known at compile time"));
  g = tb_graph(14);
  op2(g, "Reshape", input_f(g, 1, TB_DIMS(6)), tb_const_ints(g, "s", 2, TB_DIMS(2, 0)));
  CU_ASSERT(infer_fails_with(g, "has only 1 dimensions"));
}

static void test_flatten_shapes(void) {
  Graph *g = tb_graph(13);
  Value *x = input_f(g, 4, TB_DIMS(2, 3, 4, 5));
  const int64_t axes[] = {0, 1, 2, 4, -1, -4};
  Node *nodes[6];
  for (int i = 0; i < 6; i++) {
    nodes[i] = op1(g, "Flatten", x);
    tb_attr_int(nodes[i], "axis", axes[i]);
  }
  Node *dflt = op1(g, "Flatten", x);
  tb_infer(g);
  TB_ASSERT_SHAPE(nodes[0]->out[0], 1, 120);
  TB_ASSERT_SHAPE(nodes[1]->out[0], 2, 60);
  TB_ASSERT_SHAPE(nodes[2]->out[0], 6, 20);
  TB_ASSERT_SHAPE(nodes[3]->out[0], 120, 1);
  TB_ASSERT_SHAPE(nodes[4]->out[0], 24, 5);
  TB_ASSERT_SHAPE(nodes[5]->out[0], 1, 120);
  TB_ASSERT_SHAPE(dflt->out[0], 2, 60);

  g = tb_graph(13);
  tb_attr_int(op1(g, "Flatten", input_f(g, 2, TB_DIMS(2, 3))), "axis", 3);
  CU_ASSERT(infer_fails_with(g, "axis 3 is out of range for rank 2"));
}

static void test_squeeze_shapes(void) {
  Graph *g = tb_graph(11); /* axes attribute */
  Value *x = input_f(g, 4, TB_DIMS(1, 3, 1, 5));
  Node *attr = op1(g, "Squeeze", x);
  tb_attr_ints(attr, "axes", 1, TB_DIMS(-2));
  Node *all = op1(g, "Squeeze", x);
  Node *unsq = op1(g, "Unsqueeze", x);
  tb_attr_ints(unsq, "axes", 2, TB_DIMS(5, 0));
  tb_infer(g);
  TB_ASSERT_SHAPE(attr->out[0], 1, 3, 5);
  TB_ASSERT_SHAPE(all->out[0], 3, 5);
  TB_ASSERT_SHAPE(unsq->out[0], 1, 1, 3, 1, 5, 1);

  g = tb_graph(13); /* axes input */
  x = input_f(g, 4, TB_DIMS(1, 3, 1, 5));
  Node *in = op2(g, "Squeeze", x, tb_const_ints(g, "a", 2, TB_DIMS(0, 2)));
  Node *none = tb_node(g, "Squeeze", 2, (Value *[]){x, NULL}, 1);
  Node *unsorted = op2(g, "Unsqueeze", x, tb_const_ints(g, "b", 3, TB_DIMS(6, 1, -4)));
  tb_infer(g);
  TB_ASSERT_SHAPE(in->out[0], 3, 5);
  TB_ASSERT_SHAPE(none->out[0], 3, 5);
  TB_ASSERT_SHAPE(unsorted->out[0], 1, 1, 3, 1, 1, 5, 1);
}

static void test_squeeze_errors(void) {
  Graph *g = tb_graph(13);
  op2(g, "Squeeze", input_f(g, 2, TB_DIMS(1, 3)), tb_const_ints(g, "a", 1, TB_DIMS(1)));
  CU_ASSERT(infer_fails_with(g, "cannot squeeze axis 1 of the input [1, 3]: its size is 3"));
  g = tb_graph(13);
  op2(g, "Unsqueeze", input_f(g, 1, TB_DIMS(3)), tb_const_ints(g, "a", 2, TB_DIMS(0, -3)));
  CU_ASSERT(infer_fails_with(g, "is listed twice"));
  g = tb_graph(13);
  op2(g, "Unsqueeze", input_f(g, 1, TB_DIMS(3)), tb_const_ints(g, "a", 1, TB_DIMS(2)));
  CU_ASSERT(infer_fails_with(g, "axis 2 is out of range for rank 2"));
  g = tb_graph(11);
  op1(g, "Unsqueeze", input_f(g, 1, TB_DIMS(3)));
  CU_ASSERT(infer_fails_with(g, "attribute 'axes' is required"));
}

static void build_reshapes(Graph *g, Value **xs) {
  Node *r = op2(g, "Reshape", xs[0], tb_const_ints(g, "s", 2, TB_DIMS(4, -1)));
  Node *f = op1(g, "Flatten", r->out[0]);
  Node *u = op2(g, "Unsqueeze", f->out[0], tb_const_ints(g, "a", 1, TB_DIMS(0)));
  Node *s = op1(g, "Squeeze", u->out[0]);
  tb_output(g, s->out[0]);
}

static void test_reshape_family_runs(void) {
  TestInput x = f234();
  Graph *g = tb_fold_matches_code(13, 1, &x, build_reshapes);
  TB_ASSERT_SHAPE(g->outputs[0], 4, 6);
  CU_ASSERT_EQUAL(out_f(g, 0)[23], 23);
}

/* ---- Transpose ---- */

static void test_transpose_shapes(void) {
  Graph *g = tb_graph(13);
  Value *x = input_f(g, 3, TB_DIMS(2, 3, 4));
  Node *dflt = op1(g, "Transpose", x);
  Node *perm = op1(g, "Transpose", x);
  tb_attr_ints(perm, "perm", 3, TB_DIMS(1, 2, 0));
  tb_infer(g);
  TB_ASSERT_SHAPE(dflt->out[0], 4, 3, 2);
  TB_ASSERT_SHAPE(perm->out[0], 3, 4, 2);

  g = tb_graph(13);
  tb_attr_ints(op1(g, "Transpose", input_f(g, 3, TB_DIMS(2, 3, 4))), "perm", 3, TB_DIMS(0, 2, 2));
  CU_ASSERT(infer_fails_with(g, "perm is not a permutation of 0..2"));
  g = tb_graph(13);
  tb_attr_ints(op1(g, "Transpose", input_f(g, 3, TB_DIMS(2, 3, 4))), "perm", 2, TB_DIMS(1, 0));
  CU_ASSERT(infer_fails_with(g, "perm has 2 entries"));
}

static void build_transpose(Graph *g, Value **xs) {
  Node *n = op1(g, "Transpose", xs[0]);
  tb_attr_ints(n, "perm", 3, TB_DIMS(2, 0, 1));
  tb_output(g, n->out[0]);
}

static void test_transpose_runs(void) {
  TestInput x = f234();
  Graph *g = tb_fold_matches_code(13, 1, &x, build_transpose);
  TB_ASSERT_SHAPE(g->outputs[0], 4, 2, 3);
  /* y[k][i][j] = x[i][j][k] = 12i + 4j + k */
  CU_ASSERT_EQUAL(out_f(g, 0)[1 * 6 + 1 * 3 + 2], 12 + 8 + 1);
}

/* ---- Concat and Split ---- */

static void test_concat_shapes(void) {
  Graph *g = tb_graph(13);
  Value *a = tb_input(g, "a", DT_INT32, 3, TB_DIMS(2, 3, 4)), *b = tb_input(g, "b", DT_INT32, 3, TB_DIMS(2, 1, 4));
  Value *empty = tb_input(g, "e", DT_INT32, 3, TB_DIMS(2, 0, 4));
  Node *n = tb_node(g, "Concat", 3, (Value *[]){a, empty, b}, 1);
  tb_attr_int(n, "axis", -2);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 4, 4);
  CU_ASSERT_EQUAL(n->out[0]->dtype, DT_INT32);

  g = tb_graph(13);
  n = op2(g, "Concat", tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(2, 3)), tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(3, 3)));
  tb_attr_int(n, "axis", 1);
  CU_ASSERT(infer_fails_with(g, "they may differ only in axis 1"));
  g = tb_graph(13);
  op2(g, "Concat", tb_input(g, "a", DT_FLOAT, 1, TB_DIMS(2)), tb_input(g, "b", DT_FLOAT, 1, TB_DIMS(3)));
  CU_ASSERT(infer_fails_with(g, "attribute 'axis' is required"));
}

static void build_concat(Graph *g, Value **xs) {
  Node *n = tb_node(g, "Concat", 3, (Value *[]){xs[0], xs[1], xs[0]}, 1);
  tb_attr_int(n, "axis", 1);
  tb_output(g, n->out[0]);
}

static void test_concat_runs(void) {
  static const int64_t b[] = {100, 101, 102, 103, 104, 105};
  TestInput ins[2] = {{DT_INT64, 2, {2, 2}, (const int64_t[]){1, 2, 3, 4}}, {DT_INT64, 2, {2, 3}, b}};
  Graph *g = tb_fold_matches_code(13, 2, ins, build_concat);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 7);
  const int64_t want[] = {1, 2, 100, 101, 102, 1, 2, 3, 4, 103, 104, 105, 3, 4};
  CU_ASSERT_EQUAL(memcmp(g->outputs[0]->data, want, sizeof want), 0);
}

static void test_split_shapes(void) {
  Graph *g = tb_graph(11); /* split attribute */
  Value *x = input_f(g, 2, TB_DIMS(6, 4));
  Node *attr = tb_node(g, "Split", 1, &x, 3);
  tb_attr_ints(attr, "split", 3, TB_DIMS(1, 0, 5));
  Node *equal = tb_node(g, "Split", 1, &x, 2);
  tb_attr_int(equal, "axis", -1);
  tb_infer(g);
  TB_ASSERT_SHAPE(attr->out[0], 1, 4);
  TB_ASSERT_SHAPE(attr->out[1], 0, 4);
  TB_ASSERT_SHAPE(attr->out[2], 5, 4);
  TB_ASSERT_SHAPE(equal->out[1], 6, 2);

  g = tb_graph(13); /* split input */
  x = input_f(g, 2, TB_DIMS(6, 4));
  Node *in = tb_node(g, "Split", 2, (Value *[]){x, tb_const_ints(g, "s", 2, TB_DIMS(2, 4))}, 2);
  tb_infer(g);
  TB_ASSERT_SHAPE(in->out[1], 4, 4);

  g = tb_graph(13);
  x = input_f(g, 1, TB_DIMS(5));
  tb_node(g, "Split", 1, &x, 2);
  CU_ASSERT(infer_fails_with(g, "does not split into 2 equal parts"));
  g = tb_graph(13);
  x = input_f(g, 1, TB_DIMS(5));
  tb_node(g, "Split", 2, (Value *[]){x, tb_const_ints(g, "s", 2, TB_DIMS(2, 2))}, 2);
  CU_ASSERT(infer_fails_with(g, "do not add up to 5"));
  g = tb_graph(13);
  x = input_f(g, 1, TB_DIMS(5));
  tb_node(g, "Split", 2, (Value *[]){x, tb_const_ints(g, "s", 3, TB_DIMS(2, 2, 1))}, 2);
  CU_ASSERT(infer_fails_with(g, "split lists 3 sizes for 2 outputs"));
}

static void build_split(Graph *g, Value **xs) {
  Node *n = tb_node(g, "Split", 2, (Value *[]){xs[0], tb_const_ints(g, "s", 3, TB_DIMS(1, 0, 2))}, 3);
  tb_attr_int(n, "axis", 1);
  for (int i = 0; i < 3; i++)
    tb_output(g, n->out[i]);
}

static void test_split_runs(void) {
  TestInput x = f234();
  Graph *g = tb_fold_matches_code(13, 1, &x, build_split);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 1, 4);
  TB_ASSERT_SHAPE(g->outputs[1], 2, 0, 4);
  TB_ASSERT_SHAPE(g->outputs[2], 2, 2, 4);
  CU_ASSERT_EQUAL(out_f(g, 0)[4], 12);
  CU_ASSERT_EQUAL(out_f(g, 2)[0], 4);
}

/* ---- Slice ---- */

static Node *slice13(Graph *g, Value *x, int count, const int64_t *starts, const int64_t *ends, const int64_t *axes,
                     const int64_t *steps) {
  Value *ins[5] = {x, tb_const_ints(g, "starts", count, starts), tb_const_ints(g, "ends", count, ends),
                   axes ? tb_const_ints(g, "axes", count, axes) : NULL,
                   steps ? tb_const_ints(g, "steps", count, steps) : NULL};
  return tb_node(g, "Slice", 5, ins, 1);
}

static void test_slice_shapes(void) {
  Graph *g = tb_graph(13);
  Value *x = input_f(g, 3, TB_DIMS(20, 10, 5));
  /* clamping: starts past the end, INT64_MAX ends, negative steps with ends before the start */
  Node *clamped = slice13(g, x, 3, TB_DIMS(1, 1000, 0), TB_DIMS(INT64_MAX, 1001, -1), NULL, NULL);
  Node *backwards = slice13(g, x, 2, TB_DIMS(-1, 20), TB_DIMS(INT64_MIN, -100), TB_DIMS(1, 0), TB_DIMS(-3, -1));
  Node *big_step = slice13(g, x, 1, TB_DIMS(0), TB_DIMS(-1), TB_DIMS(-3), TB_DIMS(INT64_MAX));
  tb_infer(g);
  TB_ASSERT_SHAPE(clamped->out[0], 19, 0, 4);
  TB_ASSERT_SHAPE(backwards->out[0], 20, 4, 5); /* rows 19..0, columns 9, 6, 3, 0 */
  TB_ASSERT_SHAPE(big_step->out[0], 1, 10, 5);

  Graph *old = tb_graph(9); /* attributes before opset 10 */
  Node *n = op1(old, "Slice", input_f(old, 2, TB_DIMS(4, 6)));
  tb_attr_ints(n, "starts", 1, TB_DIMS(-4));
  tb_attr_ints(n, "ends", 1, TB_DIMS(1000));
  tb_attr_ints(n, "axes", 1, TB_DIMS(1));
  tb_infer(old);
  TB_ASSERT_SHAPE(n->out[0], 4, 4);
}

static void test_slice_errors(void) {
  Graph *g = tb_graph(13);
  slice13(g, input_f(g, 1, TB_DIMS(5)), 1, TB_DIMS(0), TB_DIMS(5), NULL, TB_DIMS(0));
  CU_ASSERT(infer_fails_with(g, "step 0 is 0"));
  g = tb_graph(13);
  slice13(g, input_f(g, 2, TB_DIMS(5, 5)), 2, TB_DIMS(0, 0), TB_DIMS(5, 5), TB_DIMS(1, -1), NULL);
  CU_ASSERT(infer_fails_with(g, "axis 1 is sliced twice"));
  g = tb_graph(13);
  Value *x = input_f(g, 1, TB_DIMS(5));
  tb_node(g, "Slice", 3, (Value *[]){x, tb_input(g, "s", DT_INT64, 1, TB_DIMS(1)), tb_const_ints(g, "e", 1, TB_DIMS(2))}, 1);
  CU_ASSERT(infer_fails_with(g, "must be known at compile time"));
  g = tb_graph(9);
  op1(g, "Slice", input_f(g, 1, TB_DIMS(5)));
  CU_ASSERT(infer_fails_with(g, "attribute 'starts' is required"));
}

static void build_slice(Graph *g, Value **xs) {
  Node *n = slice13(g, xs[0], 3, TB_DIMS(-1, 1, 3), TB_DIMS(INT64_MIN, 3, -100), TB_DIMS(0, 1, 2), TB_DIMS(-1, 1, -2));
  tb_output(g, n->out[0]);
}

static void test_slice_runs(void) {
  TestInput x = f234();
  Graph *g = tb_fold_matches_code(13, 1, &x, build_slice);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 2, 2);
  const float want[] = {12 + 4 + 3, 12 + 4 + 1, 12 + 8 + 3, 12 + 8 + 1, 4 + 3, 4 + 1, 8 + 3, 8 + 1};
  CU_ASSERT_EQUAL(memcmp(g->outputs[0]->data, want, sizeof want), 0);
}

/* An empty intermediate tensor still flows through the generated code: a Slice that selects nothing feeds a
 * Concat. */
static void build_empty_intermediate(Graph *g, Value **xs) {
  Node *nothing = slice13(g, xs[0], 1, TB_DIMS(2), TB_DIMS(1), TB_DIMS(1), NULL);
  Node *n = op2(g, "Concat", nothing->out[0], xs[0]);
  tb_attr_int(n, "axis", 1);
  tb_output(g, n->out[0]);
}

static void test_empty_intermediate_runs(void) {
  TestInput x = f234();
  Graph *g = tb_fold_matches_code(13, 1, &x, build_empty_intermediate);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 3, 4);
  CU_ASSERT_EQUAL(memcmp(g->outputs[0]->data, iota24, sizeof iota24), 0);
}

/* ---- Gather ---- */

static void test_gather_shapes(void) {
  Graph *g = tb_graph(13);
  Value *x = input_f(g, 3, TB_DIMS(5, 4, 3));
  Node *axis1 = op2(g, "Gather", x, tb_input(g, "i", DT_INT32, 2, TB_DIMS(2, 6)));
  tb_attr_int(axis1, "axis", -2);
  Node *scalar = op2(g, "Gather", x, tb_const(g, "k", DT_INT64, 0, NULL, (const int64_t[]){-5}));
  tb_infer(g);
  TB_ASSERT_SHAPE(axis1->out[0], 5, 2, 6, 3);
  TB_ASSERT_SHAPE(scalar->out[0], 4, 3);

  g = tb_graph(13);
  op2(g, "Gather", input_f(g, 1, TB_DIMS(5)), tb_const_ints(g, "k", 2, TB_DIMS(0, 5)));
  CU_ASSERT(infer_fails_with(g, "index 5 (element 1 of the indices) is out of range"));
  g = tb_graph(13);
  op2(g, "Gather", input_f(g, 1, TB_DIMS(5)), tb_input(g, "k", DT_FLOAT, 1, TB_DIMS(1)));
  CU_ASSERT(infer_fails_with(g, "expected int32 or int64"));
}

static void build_gather(Graph *g, Value **xs) {
  Node *n = op2(g, "Gather", xs[0], xs[1]);
  tb_attr_int(n, "axis", 1);
  tb_output(g, n->out[0]);
}

static void test_gather_runs(void) {
  TestInput ins[2] = {f234(), {DT_INT32, 2, {2, 2}, (const int32_t[]){2, -1, 0, -3}}};
  Graph *g = tb_fold_matches_code(13, 2, ins, build_gather);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 2, 2, 4);
  CU_ASSERT_EQUAL(out_f(g, 0)[4], 8);      /* [0][0][1][0]: index -1 is row 2 */
  CU_ASSERT_EQUAL(out_f(g, 0)[16 + 12], 12); /* [1][1][1][0]: index -3 is row 0 */
}

/* Out-of-range run-time indices are invalid, but the generated code must still stay inside the input. */
static void test_gather_clamps_runtime_indices(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_const(g, "data", DT_FLOAT, 1, TB_DIMS(3), (const float[]){10, 20, 30});
  Node *n = op2(g, "Gather", x, tb_input(g, "i", DT_INT64, 1, TB_DIMS(4)));
  tb_output(g, n->out[0]);
  tb_infer(g);
  const char *driver = "int main(void) {\n"
                       "  static const int64_t idx[] = {-100, 100, INT64_MIN, INT64_MAX};\n"
                       "  float y[4];\n"
                       "  if (model_infer(idx, y) != 0) return 1;\n"
                       "  return y[0] == 10 && y[1] == 30 && y[2] == 10 && y[3] == 30 ? 0 : 2;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

/* ---- Pad ---- */

static void test_pad_shapes(void) {
  Graph *g = tb_graph(2); /* pads attribute */
  Node *attr = op1(g, "Pad", input_f(g, 2, TB_DIMS(3, 4)));
  tb_attr_ints(attr, "pads", 4, TB_DIMS(1, -1, 2, 3));
  tb_infer(g);
  TB_ASSERT_SHAPE(attr->out[0], 6, 6);

  g = tb_graph(11); /* pads input */
  Node *in = op2(g, "Pad", input_f(g, 2, TB_DIMS(3, 4)), tb_const_ints(g, "p", 4, TB_DIMS(0, 2, -3, 0)));
  tb_attr_string(in, "mode", "reflect");
  tb_infer(g);
  TB_ASSERT_SHAPE(in->out[0], 0, 6);

  g = tb_graph(11);
  op2(g, "Pad", input_f(g, 2, TB_DIMS(3, 4)), tb_const_ints(g, "p", 2, TB_DIMS(1, 1)));
  CU_ASSERT(infer_fails_with(g, "pads has 2 entries; the input [3, 4] needs 2 * 2"));
  g = tb_graph(11);
  op2(g, "Pad", input_f(g, 1, TB_DIMS(3)), tb_const_ints(g, "p", 2, TB_DIMS(-4, 2)));
  CU_ASSERT(infer_fails_with(g, "leave a negative or too large size"));
  g = tb_graph(11);
  tb_attr_string(op2(g, "Pad", input_f(g, 1, TB_DIMS(3)), tb_const_ints(g, "p", 2, TB_DIMS(1, 1))), "mode", "wrap");
  CU_ASSERT(infer_fails_with(g, "mode 'wrap' is not supported"));
  g = tb_graph(11);
  tb_attr_string(op2(g, "Pad", input_f(g, 1, TB_DIMS(0)), tb_const_ints(g, "p", 2, TB_DIMS(1, 1))), "mode", "edge");
  CU_ASSERT(infer_fails_with(g, "cannot edge-pad axis 0: it is empty"));
}

static const char *pad_mode;

static void build_pad(Graph *g, Value **xs) {
  Value *value = tb_const(g, "v", DT_FLOAT, 0, NULL, (const float[]){-1.5f});
  Node *n = tb_node(g, "Pad", 3, (Value *[]){xs[0], tb_const_ints(g, "p", 6, TB_DIMS(0, 4, -1, 1, -1, 2)), value}, 1);
  tb_attr_string(n, "mode", pad_mode);
  tb_output(g, n->out[0]);
}

static void test_pad_runs(void) {
  TestInput x = f234();
  pad_mode = "constant";
  Graph *g = tb_fold_matches_code(11, 1, &x, build_pad);
  TB_ASSERT_SHAPE(g->outputs[0], 3, 6, 5);
  CU_ASSERT_EQUAL(out_f(g, 0)[0], -1.5f);
  CU_ASSERT_EQUAL(out_f(g, 0)[4 * 5], 1); /* y[0][4][0] = x[0][0][1]: 4 rows padded, column 0 cropped */
  pad_mode = "edge";
  g = tb_fold_matches_code(11, 1, &x, build_pad);
  CU_ASSERT_EQUAL(out_f(g, 0)[0], 1);     /* clamped to x[0][0][1] */
  CU_ASSERT_EQUAL(out_f(g, 0)[2 * 30 + 29], 19); /* the last element: x[1][1][3], as row 2 is cropped */
  pad_mode = "reflect";
  g = tb_fold_matches_code(11, 1, &x, build_pad);
  /* rows: 4 pads before 3 rows reflect as 0 1 2 1 | 0 1 (row 2 cropped); columns: 1 2 3 | 2 1 */
  CU_ASSERT_EQUAL(out_f(g, 0)[0], 1);
  CU_ASSERT_EQUAL(out_f(g, 0)[5 * 5 + 4], 4 + 1);
  /* the old attribute form pads with `value`, converted to the data's type */
  Graph *old = tb_graph(2);
  Node *n = op1(old, "Pad", tb_const(old, "x", DT_INT32, 1, TB_DIMS(2), (const int32_t[]){7, 8}));
  tb_attr_ints(n, "pads", 2, TB_DIMS(1, 0));
  tb_attr_float(n, "value", 3.0f);
  tb_infer(old);
  CU_ASSERT_EQUAL(((const int32_t *)n->out[0]->data)[0], 3);
}

/* ---- Expand and Tile ---- */

static void test_expand_tile_shapes(void) {
  Graph *g = tb_graph(13);
  Value *x = input_f(g, 2, TB_DIMS(3, 1));
  Node *both = op2(g, "Expand", x, tb_const_ints(g, "s", 3, TB_DIMS(2, 1, 6)));
  Node *smaller = op2(g, "Expand", x, tb_const_ints(g, "t", 1, TB_DIMS(1)));
  Node *tile = op2(g, "Tile", x, tb_const_ints(g, "r", 2, TB_DIMS(2, 0)));
  tb_infer(g);
  TB_ASSERT_SHAPE(both->out[0], 2, 3, 6);
  TB_ASSERT_SHAPE(smaller->out[0], 3, 1);
  TB_ASSERT_SHAPE(tile->out[0], 6, 0);

  g = tb_graph(13);
  op2(g, "Expand", input_f(g, 2, TB_DIMS(3, 2)), tb_const_ints(g, "s", 1, TB_DIMS(3)));
  CU_ASSERT(infer_fails_with(g, "the input [3, 2] does not broadcast to the shape [3]"));
  g = tb_graph(13);
  op2(g, "Tile", input_f(g, 2, TB_DIMS(3, 2)), tb_const_ints(g, "r", 1, TB_DIMS(3)));
  CU_ASSERT(infer_fails_with(g, "repeats has 1 entries; the input [3, 2] has rank 2"));
  g = tb_graph(13);
  op2(g, "Tile", input_f(g, 1, TB_DIMS(3)), tb_const_ints(g, "r", 1, TB_DIMS(-2)));
  CU_ASSERT(infer_fails_with(g, "repeats must be >= 0"));
}

static void build_expand_tile(Graph *g, Value **xs) {
  Node *e = op2(g, "Expand", xs[0], tb_const_ints(g, "s", 3, TB_DIMS(2, 1, 3)));
  Node *t = op2(g, "Tile", xs[0], tb_const_ints(g, "r", 2, TB_DIMS(3, 2)));
  tb_output(g, e->out[0]);
  tb_output(g, t->out[0]);
}

static void test_expand_tile_run(void) {
  TestInput x = {DT_UINT8, 2, {2, 1}, (const uint8_t[]){5, 6}};
  Graph *g = tb_fold_matches_code(13, 1, &x, build_expand_tile);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 2, 3);
  TB_ASSERT_SHAPE(g->outputs[1], 6, 2);
  CU_ASSERT_EQUAL(memcmp(g->outputs[0]->data, (const uint8_t[]){5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6}, 12), 0);
  CU_ASSERT_EQUAL(memcmp(g->outputs[1]->data, (const uint8_t[]){5, 5, 6, 6, 5, 5, 6, 6, 5, 5, 6, 6}, 12), 0);
}

/* ---- Constant, ConstantOfShape, Shape ---- */

static void add_tensor_attr(Node *n, const char *name, Value *t) {
  Attr *a = &n->attrs[n->n_attrs++];
  a->name = name;
  a->type = ATTR_TENSOR;
  a->t = t;
}

static Value *loose_tensor(DType t, int rank, const int64_t *dims, const void *data) {
  Value *v = cn_alloc(sizeof *v);
  v->name = "attr";
  value_set_shape(v, NULL, t, rank, dims);
  v->data = cn_alloc((size_t)value_bytes(v));
  memcpy(v->data, data, (size_t)value_bytes(v));
  return v;
}

static void test_constant(void) {
  Graph *g = tb_graph(13);
  Node *tensor = tb_node(g, "Constant", 0, NULL, 1);
  add_tensor_attr(tensor, "value", loose_tensor(DT_INT32, 2, TB_DIMS(1, 2), (const int32_t[]){4, 5}));
  Node *floats = tb_node(g, "Constant", 0, NULL, 1);
  tb_attr_floats(floats, "value_floats", 3, (const float[]){1, 2, 3});
  Node *one_int = tb_node(g, "Constant", 0, NULL, 1);
  tb_attr_int(one_int, "value_int", -7);
  tb_infer(g);
  TB_ASSERT_SHAPE(tensor->out[0], 1, 2);
  CU_ASSERT_EQUAL(((const int32_t *)tensor->out[0]->data)[1], 5);
  TB_ASSERT_SHAPE(floats->out[0], 3);
  CU_ASSERT_EQUAL(((const float *)floats->out[0]->data)[2], 3);
  CU_ASSERT_EQUAL(one_int->out[0]->rank, 0);
  CU_ASSERT_EQUAL(one_int->out[0]->dtype, DT_INT64);
  CU_ASSERT_EQUAL(value_get_int(one_int->out[0], 0), -7);
  CU_ASSERT_EQUAL(tb_live_nodes(g), 0);

  g = tb_graph(13);
  tb_node(g, "Constant", 0, NULL, 1);
  CU_ASSERT(infer_fails_with(g, "has no value attribute"));
  g = tb_graph(13);
  tb_attr_string(tb_node(g, "Constant", 0, NULL, 1), "value_string", "hello");
  CU_ASSERT(infer_fails_with(g, "string tensors ('value_string') are not supported"));
  g = tb_graph(13);
  Node *two = tb_node(g, "Constant", 0, NULL, 1);
  tb_attr_int(two, "value_int", 1);
  tb_attr_float(two, "value_float", 1);
  CU_ASSERT(infer_fails_with(g, "has both 'value_float' and 'value_int'"));
}

static void test_constant_of_shape(void) {
  Graph *g = tb_graph(9);
  Node *zeros = op1(g, "ConstantOfShape", tb_const_ints(g, "s", 2, TB_DIMS(2, 3)));
  Node *ints = op1(g, "ConstantOfShape", tb_const_ints(g, "t", 1, TB_DIMS(0)));
  add_tensor_attr(ints, "value", loose_tensor(DT_INT32, 1, TB_DIMS(1), (const int32_t[]){9}));
  Node *minimum = op1(g, "ConstantOfShape", tb_const_ints(g, "u", 1, TB_DIMS(3)));
  add_tensor_attr(minimum, "value", loose_tensor(DT_INT64, 1, TB_DIMS(1), (const int64_t[]){INT64_MIN}));
  tb_infer(g);
  TB_ASSERT_SHAPE(zeros->out[0], 2, 3);
  CU_ASSERT_EQUAL(zeros->out[0]->dtype, DT_FLOAT);
  CU_ASSERT_EQUAL(((const float *)zeros->out[0]->data)[5], 0);
  TB_ASSERT_SHAPE(ints->out[0], 0);
  CU_ASSERT_EQUAL(ints->out[0]->dtype, DT_INT32);
  CU_ASSERT_EQUAL(value_get_int(minimum->out[0], 2), INT64_MIN);
  CU_ASSERT_STRING_EQUAL(emit_value_literal(minimum->out[0], 2), "INT64_MIN");

  g = tb_graph(9);
  op1(g, "ConstantOfShape", tb_input(g, "s", DT_INT64, 1, TB_DIMS(2)));
  CU_ASSERT(infer_fails_with(g, "must be known at compile time"));
  g = tb_graph(9);
  op1(g, "ConstantOfShape", tb_const_ints(g, "s", 1, TB_DIMS(-1)));
  CU_ASSERT(infer_fails_with(g, "sizes must be non-negative"));
}

static void test_shape_of_runtime_input_folds(void) {
  Graph *g = tb_graph(15);
  Value *x = input_f(g, 4, TB_DIMS(2, 3, 4, 5));
  Node *all = op1(g, "Shape", x);
  Node *middle = op1(g, "Shape", x);
  tb_attr_int(middle, "start", -3);
  tb_attr_int(middle, "end", -1);
  Node *clamped = op1(g, "Shape", x);
  tb_attr_int(clamped, "start", -10);
  tb_attr_int(clamped, "end", 10);
  Node *empty = op1(g, "Shape", x);
  tb_attr_int(empty, "start", 3);
  tb_attr_int(empty, "end", 1);
  tb_infer(g);
  CU_ASSERT_EQUAL(tb_live_nodes(g), 0);
  TB_ASSERT_SHAPE(all->out[0], 4);
  CU_ASSERT_EQUAL(memcmp(all->out[0]->data, TB_DIMS(2, 3, 4, 5), 4 * sizeof(int64_t)), 0);
  TB_ASSERT_SHAPE(middle->out[0], 2);
  CU_ASSERT_EQUAL(memcmp(middle->out[0]->data, TB_DIMS(3, 4), 2 * sizeof(int64_t)), 0);
  TB_ASSERT_SHAPE(clamped->out[0], 4);
  TB_ASSERT_SHAPE(empty->out[0], 0);
  CU_ASSERT_PTR_NULL(all->out[0]->producer);
}

/* PyTorch exports x.view(x.size(0), -1) as Shape -> Gather -> Unsqueeze -> Concat -> Reshape: everything but
 * the Reshape must fold away at compile time, leaving it a constant target shape. */
static void test_exported_view_folds_to_reshape(void) {
  Graph *g = tb_graph(13);
  Value *x = input_f(g, 3, TB_DIMS(2, 3, 4));
  Node *shape = op1(g, "Shape", x);
  Node *batch = op2(g, "Gather", shape->out[0], tb_const(g, "zero", DT_INT64, 0, NULL, (const int64_t[]){0}));
  Node *unsqueeze = op2(g, "Unsqueeze", batch->out[0], tb_const_ints(g, "axes", 1, TB_DIMS(0)));
  Node *concat = op2(g, "Concat", unsqueeze->out[0], tb_const_ints(g, "minus_one", 1, TB_DIMS(-1)));
  tb_attr_int(concat, "axis", 0);
  Node *reshape = op2(g, "Reshape", x, concat->out[0]);
  tb_output(g, reshape->out[0]);
  tb_infer(g);
  CU_ASSERT_EQUAL(tb_live_nodes(g), 1);
  CU_ASSERT_FALSE(reshape->dead);
  Value *target = reshape->in[1];
  CU_ASSERT_PTR_NULL(target->producer);
  CU_ASSERT_PTR_NOT_NULL_FATAL(target->data);
  CU_ASSERT_EQUAL(memcmp(target->data, TB_DIMS(2, -1), 2 * sizeof(int64_t)), 0);
  TB_ASSERT_SHAPE(reshape->out[0], 2, 12);

  const char *driver = "int main(void) {\n"
                       "  float x[24], y[24];\n"
                       "  for (int i = 0; i < 24; i++) x[i] = (float)i;\n"
                       "  if (model_run((const void *[]){x}, (void *[]){y}) != 0) return 1;\n"
                       "  for (int i = 0; i < 24; i++) if (y[i] != (float)i) return 2;\n"
                       "  return 0;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

CU_TestInfo shape_data_tests[] = {
    {"reshape_shapes", test_reshape_shapes},
    {"reshape_errors", test_reshape_errors},
    {"flatten_shapes", test_flatten_shapes},
    {"squeeze_shapes", test_squeeze_shapes},
    {"squeeze_errors", test_squeeze_errors},
    {"reshape_family_runs", test_reshape_family_runs},
    {"transpose_shapes", test_transpose_shapes},
    {"transpose_runs", test_transpose_runs},
    {"concat_shapes", test_concat_shapes},
    {"concat_runs", test_concat_runs},
    {"split_shapes", test_split_shapes},
    {"split_runs", test_split_runs},
    {"slice_shapes", test_slice_shapes},
    {"slice_errors", test_slice_errors},
    {"slice_runs", test_slice_runs},
    {"empty_intermediate_runs", test_empty_intermediate_runs},
    {"gather_shapes", test_gather_shapes},
    {"gather_runs", test_gather_runs},
    {"gather_clamps_runtime_indices", test_gather_clamps_runtime_indices},
    {"pad_shapes", test_pad_shapes},
    {"pad_runs", test_pad_runs},
    {"expand_tile_shapes", test_expand_tile_shapes},
    {"expand_tile_run", test_expand_tile_run},
    {"constant", test_constant},
    {"constant_of_shape", test_constant_of_shape},
    {"shape_of_runtime_input_folds", test_shape_of_runtime_input_folds},
    {"exported_view_folds_to_reshape", test_exported_view_folds_to_reshape},
    CU_TEST_INFO_NULL,
};
