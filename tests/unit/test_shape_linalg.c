/* Shape inference, folding and generated code of the linalg group: Gemm, MatMul, Softmax, LogSoftmax,
 * ReduceMean/Max/Sum, Resize, Upsample. */
#include "testutil.h"

#include <string.h>

static void infer_graph(void *g) { tb_infer(g); }

/* One node of op_type reading `ins`, inferred; returns the node. */
static Node *single(Graph *g, const char *op_type, int n_in, Value *const *ins) {
  Node *n = tb_node(g, op_type, n_in, ins, 1);
  tb_output(g, n->out[0]);
  return n;
}

//
// Gemm
//

static void test_gemm_shapes(void) {
  Graph *g = tb_graph(13);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(4, 3)), *b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(5, 4));
  Value *c = tb_input(g, "c", DT_FLOAT, 1, TB_DIMS(5));
  Node *n = single(g, "Gemm", 3, (Value *[]){a, b, c});
  tb_attr_int(n, "transA", 1);
  tb_attr_int(n, "transB", 1);
  Node *plain = single(g, "Gemm", 2, (Value *[]){b, a}); /* [5, 4] x [4, 3], no C (opset 11+) */
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 3, 5);
  TB_ASSERT_SHAPE(plain->out[0], 5, 3);
}

static void test_gemm_errors(void) {
  Graph *g = tb_graph(13);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(4, 3)), *b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(4, 5));
  single(g, "Gemm", 2, (Value *[]){a, b});
  CU_ASSERT(tb_fails_with(infer_graph, g, "disagree on the inner dimension: 3 vs 4"));

  g = tb_graph(13);
  a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(2, 3));
  b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(3, 4));
  Value *c = tb_input(g, "c", DT_FLOAT, 1, TB_DIMS(3));
  single(g, "Gemm", 3, (Value *[]){a, b, c});
  CU_ASSERT(tb_fails_with(infer_graph, g, "broadcasts to [2, 4]"));

  g = tb_graph(9);
  a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(2, 3));
  b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(3, 4));
  single(g, "Gemm", 2, (Value *[]){a, b});
  CU_ASSERT(tb_fails_with(infer_graph, g, "input C is required before opset 11"));

  /* opset 6 without broadcast=1: C must be exactly [M, N] */
  g = tb_graph(6);
  a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(2, 3));
  b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(3, 4));
  c = tb_input(g, "c", DT_FLOAT, 1, TB_DIMS(4));
  single(g, "Gemm", 3, (Value *[]){a, b, c});
  CU_ASSERT(tb_fails_with(infer_graph, g, "equals (broadcast=0)"));

  g = tb_graph(13);
  a = tb_input(g, "a", DT_FLOAT, 3, TB_DIMS(1, 2, 3));
  b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(3, 4));
  single(g, "Gemm", 2, (Value *[]){a, b});
  CU_ASSERT(tb_fails_with(infer_graph, g, "must be matrices"));
}

static void test_gemm_old_broadcast(void) {
  Graph *g = tb_graph(6);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(2, 3)), *b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(3, 4));
  Value *c = tb_input(g, "c", DT_FLOAT, 1, TB_DIMS(4));
  Node *n = single(g, "Gemm", 3, (Value *[]){a, b, c});
  tb_attr_int(n, "broadcast", 1);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 4);
}

/* Y = 0.5 * A' * B' + 2 * C with both transposes and a row-vector C, checked against a loop in the driver. */
static void test_gemm_runs(void) {
  Graph *g = tb_graph(13);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(3, 2)), *b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(4, 3));
  Value *c = tb_input(g, "c", DT_FLOAT, 2, TB_DIMS(1, 4));
  Node *n = single(g, "Gemm", 3, (Value *[]){a, b, c});
  tb_attr_int(n, "transA", 1);
  tb_attr_int(n, "transB", 1);
  tb_attr_float(n, "alpha", 0.5f);
  tb_attr_float(n, "beta", 2.0f);
  tb_infer(g);
  const char *driver =
      "int main(void) {\n"
      "  float a[3][2], b[4][3], c[4], y[2][4];\n"
      "  for (int i = 0; i < 6; i++) a[i / 2][i % 2] = (float)i - 2;\n"
      "  for (int i = 0; i < 12; i++) b[i / 3][i % 3] = (float)(i % 5) - 1;\n"
      "  for (int i = 0; i < 4; i++) c[i] = (float)i;\n"
      "  const void *in[] = {a, b, c}; void *out[] = {y};\n"
      "  if (model_run(in, out)) return 1;\n"
      "  for (int m = 0; m < 2; m++) for (int j = 0; j < 4; j++) {\n"
      "    float s = 0; for (int k = 0; k < 3; k++) s += a[k][m] * b[j][k];\n"
      "    if (fabsf(y[m][j] - (0.5f * s + 2 * c[j])) > 1e-5f) return 2;\n"
      "  }\n"
      "  return 0;\n"
      "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

//
// MatMul
//

static void test_matmul_shapes(void) {
  Graph *g = tb_graph(13);
  Value *m34 = tb_input(g, "m34", DT_FLOAT, 2, TB_DIMS(3, 4)), *v4 = tb_input(g, "v4", DT_FLOAT, 1, TB_DIMS(4));
  Value *v3 = tb_input(g, "v3", DT_FLOAT, 1, TB_DIMS(3));
  Value *batch_a = tb_input(g, "ba", DT_FLOAT, 4, TB_DIMS(2, 1, 3, 4));
  Value *batch_b = tb_input(g, "bb", DT_FLOAT, 3, TB_DIMS(5, 4, 6));
  Node *mv = single(g, "MatMul", 2, (Value *[]){m34, v4});
  Node *vm = single(g, "MatMul", 2, (Value *[]){v3, m34});
  Node *vv = single(g, "MatMul", 2, (Value *[]){v4, v4});
  Node *bb = single(g, "MatMul", 2, (Value *[]){batch_a, batch_b});
  Node *bv = single(g, "MatMul", 2, (Value *[]){batch_a, v4});
  tb_infer(g);
  TB_ASSERT_SHAPE(mv->out[0], 3);
  TB_ASSERT_SHAPE(vm->out[0], 4);
  CU_ASSERT_EQUAL(vv->out[0]->rank, 0);
  TB_ASSERT_SHAPE(bb->out[0], 2, 5, 3, 6);
  TB_ASSERT_SHAPE(bv->out[0], 2, 1, 3);
}

static void test_matmul_errors(void) {
  Graph *g = tb_graph(13);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(3, 4)), *b = tb_input(g, "b", DT_FLOAT, 2, TB_DIMS(3, 4));
  single(g, "MatMul", 2, (Value *[]){a, b});
  CU_ASSERT(tb_fails_with(infer_graph, g, "disagree on the inner dimension: 4 vs 3"));

  g = tb_graph(13);
  a = tb_input(g, "a", DT_FLOAT, 3, TB_DIMS(2, 3, 4));
  b = tb_input(g, "b", DT_FLOAT, 3, TB_DIMS(3, 4, 5));
  single(g, "MatMul", 2, (Value *[]){a, b});
  CU_ASSERT(tb_fails_with(infer_graph, g, "batch dimensions"));

  g = tb_graph(13);
  a = tb_input(g, "a", DT_FLOAT, 0, NULL);
  b = tb_input(g, "b", DT_FLOAT, 1, TB_DIMS(3));
  single(g, "MatMul", 2, (Value *[]){a, b});
  CU_ASSERT(tb_fails_with(infer_graph, g, "rank 1 or more"));

  g = tb_graph(13);
  a = tb_input(g, "a", DT_FLOAT, 1, TB_DIMS(3));
  b = tb_input(g, "b", DT_DOUBLE, 1, TB_DIMS(3));
  single(g, "MatMul", 2, (Value *[]){a, b});
  CU_ASSERT(tb_fails_with(infer_graph, g, "expected float like A"));
}

/* A [2, 1, 2, 3] times B [3, 3, 2] broadcasts to [2, 3, 2, 2]; the driver recomputes every element. */
static void test_matmul_runs(void) {
  Graph *g = tb_graph(13);
  Value *a = tb_input(g, "a", DT_FLOAT, 4, TB_DIMS(2, 1, 2, 3)), *b = tb_input(g, "b", DT_FLOAT, 3, TB_DIMS(3, 3, 2));
  single(g, "MatMul", 2, (Value *[]){a, b});
  tb_infer(g);
  const char *driver =
      "int main(void) {\n"
      "  float a[2][1][2][3], b[3][3][2], y[2][3][2][2];\n"
      "  for (int i = 0; i < 12; i++) (&a[0][0][0][0])[i] = (float)(i % 7) - 3;\n"
      "  for (int i = 0; i < 18; i++) (&b[0][0][0])[i] = (float)(i % 4) * 0.5f;\n"
      "  const void *in[] = {a, b}; void *out[] = {y};\n"
      "  if (model_run(in, out)) return 1;\n"
      "  for (int p = 0; p < 2; p++) for (int q = 0; q < 3; q++)\n"
      "  for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) {\n"
      "    float s = 0; for (int k = 0; k < 3; k++) s += a[p][0][i][k] * b[q][k][j];\n"
      "    if (fabsf(y[p][q][i][j] - s) > 1e-5f) return 2;\n"
      "  }\n"
      "  return 0;\n"
      "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

//
// Softmax, LogSoftmax
//

static void test_softmax_shapes(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(2, 3, 4));
  Node *s = single(g, "Softmax", 1, (Value *[]){x});
  Node *l = single(g, "LogSoftmax", 1, (Value *[]){x});
  tb_attr_int(l, "axis", -2);
  tb_infer(g);
  TB_ASSERT_SHAPE(s->out[0], 2, 3, 4);
  TB_ASSERT_SHAPE(l->out[0], 2, 3, 4);
}

static void test_softmax_errors(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3));
  Node *n = single(g, "Softmax", 1, (Value *[]){x});
  tb_attr_int(n, "axis", 2);
  CU_ASSERT(tb_fails_with(infer_graph, g, "axis 2 is out of range for rank 2"));

  g = tb_graph(13);
  x = tb_input(g, "x", DT_INT32, 2, TB_DIMS(2, 3));
  single(g, "LogSoftmax", 1, (Value *[]){x});
  CU_ASSERT(tb_fails_with(infer_graph, g, "expected float or double"));
}

/* Softmax over x [2, 2, 2] with axis 1: opset 11 normalizes each block of 4 (axes 1 and 2 together), opset 13
 * only along axis 1; x = 0..7 makes the results differ. */
static int run_softmax_axis1(int64_t opset) {
  Graph *g = tb_graph(opset);
  Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(2, 2, 2));
  Node *n = single(g, "Softmax", 1, (Value *[]){x});
  tb_attr_int(n, "axis", 1);
  tb_infer(g);
  const char *driver =
      "int main(void) {\n"
      "  float x[8], y[8];\n"
      "  for (int i = 0; i < 8; i++) x[i] = (float)i;\n"
      "  const void *in[] = {x}; void *out[] = {y};\n"
      "  if (model_run(in, out)) return 1;\n"
      "  for (int o = 0; o < 2; o++) for (int i = 0; i < 4; i++) {\n"
      "    float sum = 0; int per_axis = OPSET >= 13;\n"
      "    for (int a = 0; a < 4; a++) if (!per_axis || a % 2 == i % 2) sum += expf(x[o * 4 + a]);\n"
      "    if (fabsf(y[o * 4 + i] - expf(x[o * 4 + i]) / sum) > 1e-6f) return 2;\n"
      "  }\n"
      "  return 0;\n"
      "}\n";
  return tb_compile_and_run(g, cn_format("#define OPSET %d\n%s", (int)opset, driver));
}

static void test_softmax_axis_semantics(void) {
  CU_ASSERT_EQUAL(run_softmax_axis1(11), 0);
  CU_ASSERT_EQUAL(run_softmax_axis1(13), 0);
}

static void test_log_softmax_runs(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_DOUBLE, 2, TB_DIMS(2, 3));
  single(g, "LogSoftmax", 1, (Value *[]){x});
  tb_infer(g);
  const char *driver =
      "int main(void) {\n"
      "  double x[2][3] = {{1000, 1001, 1002}, {-1, 0, 1}}, y[2][3];\n"
      "  const void *in[] = {x}; void *out[] = {y};\n"
      "  if (model_run(in, out)) return 1;\n"
      "  double expect = -log(1 + exp(-1.0) + exp(-2.0)); /* log softmax of the largest of 3 consecutive values */\n"
      "  return fabs(y[0][2] - expect) < 1e-12 && fabs(y[1][2] - expect) < 1e-12 ? 0 : 2;\n"
      "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

//
// ReduceMean, ReduceMax, ReduceSum
//

static void test_reduce_shapes(void) {
  Graph *g = tb_graph(11);
  Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(2, 3, 4));
  Node *keep = single(g, "ReduceMean", 1, (Value *[]){x});
  tb_attr_ints(keep, "axes", 2, TB_DIMS(0, -1));
  Node *drop = single(g, "ReduceMax", 1, (Value *[]){x});
  tb_attr_ints(drop, "axes", 1, TB_DIMS(1));
  tb_attr_int(drop, "keepdims", 0);
  Node *all = single(g, "ReduceSum", 1, (Value *[]){x});
  tb_attr_int(all, "keepdims", 0);
  tb_infer(g);
  TB_ASSERT_SHAPE(keep->out[0], 1, 3, 1);
  TB_ASSERT_SHAPE(drop->out[0], 2, 4);
  CU_ASSERT_EQUAL(all->out[0]->rank, 0);
}

static void test_reduce_sum_axes_input(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(2, 3, 4));
  Node *by_input = single(g, "ReduceSum", 2, (Value *[]){x, tb_const_ints(g, "axes", 1, TB_DIMS(-2))});
  Node *noop = single(g, "ReduceSum", 2, (Value *[]){x, tb_const_ints(g, "none", 0, TB_DIMS(0))});
  tb_attr_int(noop, "noop_with_empty_axes", 1);
  Node *all = single(g, "ReduceSum", 1, (Value *[]){x});
  tb_infer(g);
  TB_ASSERT_SHAPE(by_input->out[0], 2, 1, 4);
  TB_ASSERT_SHAPE(noop->out[0], 2, 3, 4);
  TB_ASSERT_SHAPE(all->out[0], 1, 1, 1);
}

static void test_reduce_errors(void) {
  Graph *g = tb_graph(11);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3));
  Node *n = single(g, "ReduceMean", 1, (Value *[]){x});
  tb_attr_ints(n, "axes", 2, TB_DIMS(1, -1));
  CU_ASSERT(tb_fails_with(infer_graph, g, "axis 1 is listed twice"));

  g = tb_graph(11);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3));
  n = single(g, "ReduceMax", 1, (Value *[]){x});
  tb_attr_ints(n, "axes", 1, TB_DIMS(2));
  CU_ASSERT(tb_fails_with(infer_graph, g, "axis 2 is out of range for rank 2"));

  g = tb_graph(13);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 3));
  Value *axes = tb_input(g, "axes", DT_INT64, 1, TB_DIMS(1));
  single(g, "ReduceSum", 2, (Value *[]){x, axes});
  CU_ASSERT(tb_fails_with(infer_graph, g, "must be known at compile time"));

  g = tb_graph(11);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(0, 3));
  n = single(g, "ReduceMean", 1, (Value *[]){x});
  tb_attr_ints(n, "axes", 1, TB_DIMS(0));
  CU_ASSERT(tb_fails_with(infer_graph, g, "empty dimension"));
}

/* Reductions of constants fold at compile time. */
static void test_reduce_fold(void) {
  Graph *g = tb_graph(11);
  const float xf[6] = {1, 2, 3, 4, 5, 7};
  const int64_t xi[6] = {-5, 9, 2, -7, -1, -3};
  Value *f = tb_const(g, "f", DT_FLOAT, 2, TB_DIMS(2, 3), xf);
  Value *i = tb_const(g, "i", DT_INT64, 2, TB_DIMS(2, 3), xi);
  Node *mean = single(g, "ReduceMean", 1, (Value *[]){f});
  tb_attr_ints(mean, "axes", 1, TB_DIMS(0));
  Node *max = single(g, "ReduceMax", 1, (Value *[]){i});
  tb_attr_ints(max, "axes", 1, TB_DIMS(1));
  tb_attr_int(max, "keepdims", 0);
  Node *sum = single(g, "ReduceSum", 1, (Value *[]){i});
  Node *mean_i = single(g, "ReduceMean", 1, (Value *[]){i});
  tb_attr_ints(mean_i, "axes", 1, TB_DIMS(1));
  tb_infer(g);
  CU_ASSERT(mean->dead && max->dead && sum->dead && mean_i->dead);
  const float *m = mean->out[0]->data;
  CU_ASSERT(m[0] == 2.5f && m[1] == 3.5f && m[2] == 5.0f);
  const int64_t *mx = max->out[0]->data;
  CU_ASSERT(mx[0] == 9 && mx[1] == -1);
  CU_ASSERT_EQUAL(*(const int64_t *)sum->out[0]->data, -5);
  const int64_t *mi = mean_i->out[0]->data; /* integer means truncate: 6 / 3, -11 / 3 */
  CU_ASSERT(mi[0] == 2 && mi[1] == -3);
}

/* ReduceMax over the middle axis and ReduceMean over the outer ones, run. */
static void test_reduce_runs(void) {
  Graph *g = tb_graph(11);
  Value *x = tb_input(g, "x", DT_INT32, 3, TB_DIMS(2, 3, 2));
  Node *max = single(g, "ReduceMax", 1, (Value *[]){x});
  tb_attr_ints(max, "axes", 1, TB_DIMS(1));
  Value *xf = tb_input(g, "xf", DT_FLOAT, 3, TB_DIMS(2, 3, 2));
  Node *mean = single(g, "ReduceMean", 1, (Value *[]){xf});
  tb_attr_ints(mean, "axes", 2, TB_DIMS(0, 2));
  tb_attr_int(mean, "keepdims", 0);
  tb_infer(g);
  const char *driver =
      "int main(void) {\n"
      "  int32_t x[2][3][2], mx[2][1][2]; float xf[2][3][2], mean[3];\n"
      "  for (int i = 0; i < 12; i++) { (&x[0][0][0])[i] = (i * 7) % 11 - 20; (&xf[0][0][0])[i] = (float)i; }\n"
      "  const void *in[] = {x, xf}; void *out[] = {mx, mean};\n"
      "  if (model_run(in, out)) return 1;\n"
      "  for (int a = 0; a < 2; a++) for (int c = 0; c < 2; c++) {\n"
      "    int32_t m = INT32_MIN; for (int b = 0; b < 3; b++) if (x[a][b][c] > m) m = x[a][b][c];\n"
      "    if (mx[a][0][c] != m) return 2;\n"
      "  }\n"
      "  for (int b = 0; b < 3; b++) if (mean[b] != (float)(2 * b + 2 * b + 1 + 6 + 2 * b + 7 + 2 * b) / 4) return 3;\n"
      "  return 0;\n"
      "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

//
// Resize, Upsample
//

static Value *tb_const_floats(Graph *g, const char *name, int n, const float *values) {
  return tb_const(g, name, DT_FLOAT, 1, TB_DIMS(n), values);
}

static void test_resize_shapes(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 3, 5, 7));
  /* floor(5 * 0.6) = 3, floor(7 * 1.5) = 10 */
  Value *scales = tb_const_floats(g, "scales", 4, (const float[]){1, 1, 0.6f, 1.5f});
  Node *by_scales = single(g, "Resize", 3, (Value *[]){x, NULL, scales});
  tb_attr_string(by_scales, "mode", "linear");
  Value *sizes = tb_const_ints(g, "sizes", 4, TB_DIMS(2, 3, 9, 2));
  Node *by_sizes = single(g, "Resize", 4, (Value *[]){x, NULL, NULL, sizes});
  tb_attr_string(by_sizes, "mode", "cubic");
  tb_infer(g);
  TB_ASSERT_SHAPE(by_scales->out[0], 1, 3, 3, 10);
  TB_ASSERT_SHAPE(by_sizes->out[0], 2, 3, 9, 2);

  /* opset 11 passes an empty scales tensor next to sizes */
  g = tb_graph(11);
  x = tb_input(g, "x", DT_UINT8, 2, TB_DIMS(4, 4));
  Value *roi = tb_const_floats(g, "roi", 0, (const float[]){0}),
        *empty = tb_const_floats(g, "empty", 0, (const float[]){0});
  Node *n = single(g, "Resize", 4, (Value *[]){x, roi, empty, tb_const_ints(g, "sizes", 2, TB_DIMS(3, 2))});
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 3, 2);
}

static void test_upsample_shapes(void) {
  Graph *g = tb_graph(7);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 3, 4));
  Node *n = single(g, "Upsample", 1, (Value *[]){x});
  tb_attr_floats(n, "scales", 4, (const float[]){1, 1, 2, 2.5f});
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 2, 6, 10);

  g = tb_graph(9);
  x = tb_input(g, "x", DT_INT64, 2, TB_DIMS(3, 4));
  n = single(g, "Upsample", 2, (Value *[]){x, tb_const_floats(g, "scales", 2, (const float[]){3, 1})});
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 9, 4);
}

static void test_resize_errors(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 2));
  Value *scales = tb_const_floats(g, "scales", 2, (const float[]){2, 2});
  single(g, "Resize", 4, (Value *[]){x, NULL, scales, tb_const_ints(g, "sizes", 2, TB_DIMS(4, 4))});
  CU_ASSERT(tb_fails_with(infer_graph, g, "exactly one of scales and sizes"));

  g = tb_graph(13);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 2));
  single(g, "Resize", 3, (Value *[]){x, NULL, tb_const_floats(g, "scales", 3, (const float[]){1, 2, 2})});
  CU_ASSERT(tb_fails_with(infer_graph, g, "expected [2] for the axes resized"));

  g = tb_graph(13);
  x = tb_input(g, "x", DT_INT32, 2, TB_DIMS(2, 2));
  Node *n = single(g, "Resize", 3, (Value *[]){x, NULL, tb_const_floats(g, "scales", 2, (const float[]){2, 2})});
  tb_attr_string(n, "mode", "cubic");
  CU_ASSERT(tb_fails_with(infer_graph, g, "cubic interpolation needs float or double input"));

  g = tb_graph(13);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 2));
  n = single(g, "Resize", 3, (Value *[]){x, NULL, tb_const_floats(g, "scales", 2, (const float[]){2, 0})});
  CU_ASSERT(tb_fails_with(infer_graph, g, "scales must be positive"));

  g = tb_graph(13);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 2));
  n = single(g, "Resize", 3, (Value *[]){x, NULL, tb_const_floats(g, "scales", 2, (const float[]){2, 2})});
  tb_attr_string(n, "coordinate_transformation_mode", "sideways");
  CU_ASSERT(tb_fails_with(infer_graph, g, "coordinate_transformation_mode 'sideways' is not supported"));

  g = tb_graph(13);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 2));
  Value *run_time_scales = tb_input(g, "s", DT_FLOAT, 1, TB_DIMS(2));
  single(g, "Resize", 3, (Value *[]){x, NULL, run_time_scales});
  CU_ASSERT(tb_fails_with(infer_graph, g, "must be known at compile time"));

  g = tb_graph(9);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 2));
  single(g, "Upsample", 2, (Value *[]){x, tb_const_floats(g, "scales", 2, (const float[]){1, 0.5f})});
  CU_ASSERT(tb_fails_with(infer_graph, g, "Upsample scales must be at least 1"));

  g = tb_graph(7);
  x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 2));
  single(g, "Upsample", 1, (Value *[]){x});
  CU_ASSERT(tb_fails_with(infer_graph, g, "the scales attribute must list 2 values"));
}

/* Linear align_corners on [1, 3] -> [1, 5] and Upsample-9 nearest on a [2, 2] int32 by [2, 3], run. */
static void test_resize_runs(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(1, 3));
  Node *n = single(g, "Resize", 4, (Value *[]){x, NULL, NULL, tb_const_ints(g, "sizes", 2, TB_DIMS(1, 5))});
  tb_attr_string(n, "mode", "linear");
  tb_attr_string(n, "coordinate_transformation_mode", "align_corners");
  tb_infer(g);
  const char *driver =
      "int main(void) {\n"
      "  float x[3] = {0, 10, 30}, y[5], expect[5] = {0, 5, 10, 20, 30};\n"
      "  const void *in[] = {x}; void *out[] = {y};\n"
      "  if (model_run(in, out)) return 1;\n"
      "  for (int i = 0; i < 5; i++) if (fabsf(y[i] - expect[i]) > 1e-5f) return 2;\n"
      "  return 0;\n"
      "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);

  g = tb_graph(9);
  x = tb_input(g, "x", DT_INT32, 2, TB_DIMS(2, 2));
  single(g, "Upsample", 2, (Value *[]){x, tb_const_floats(g, "scales", 2, (const float[]){2, 3})});
  tb_infer(g);
  driver = "int main(void) {\n"
           "  int32_t x[2][2] = {{1, 2}, {3, 4}}, y[4][6];\n"
           "  const void *in[] = {x}; void *out[] = {y};\n"
           "  if (model_run(in, out)) return 1;\n"
           "  for (int i = 0; i < 4; i++) for (int j = 0; j < 6; j++) if (y[i][j] != x[i / 2][j / 3]) return 2;\n"
           "  return 0;\n"
           "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

CU_TestInfo shape_linalg_tests[] = {
    {"gemm_shapes", test_gemm_shapes},
    {"gemm_errors", test_gemm_errors},
    {"gemm_old_broadcast", test_gemm_old_broadcast},
    {"gemm_runs", test_gemm_runs},
    {"matmul_shapes", test_matmul_shapes},
    {"matmul_errors", test_matmul_errors},
    {"matmul_runs", test_matmul_runs},
    {"softmax_shapes", test_softmax_shapes},
    {"softmax_errors", test_softmax_errors},
    {"softmax_axis_semantics", test_softmax_axis_semantics},
    {"log_softmax_runs", test_log_softmax_runs},
    {"reduce_shapes", test_reduce_shapes},
    {"reduce_sum_axes_input", test_reduce_sum_axes_input},
    {"reduce_errors", test_reduce_errors},
    {"reduce_fold", test_reduce_fold},
    {"reduce_runs", test_reduce_runs},
    {"resize_shapes", test_resize_shapes},
    {"upsample_shapes", test_upsample_shapes},
    {"resize_errors", test_resize_errors},
    {"resize_runs", test_resize_runs},
    CU_TEST_INFO_NULL,
};
