/* Element-wise ops: shapes and types they infer (broadcasting, old-opset attribute forms), the errors they give,
 * and that a folded result is bit for bit what the generated code computes. */
#include "testutil.h"

#include <math.h>
#include <string.h>

static void infer_graph(void *g) { tb_infer(g); }
#define ASSERT_INFER_FAILS(g, message)                                                                             \
  CU_ASSERT(tb_fails_with(infer_graph, (g), (message)) || (printf("\n  got: %s\n", tb_last_error()), 0))

/* A node reading the given values, its output marked as a graph output. */
static Node *op_node(Graph *g, const char *op, int n_in, Value *const *ins) {
  Node *n = tb_node(g, op, n_in, ins, 1);
  tb_output(g, n->out[0]);
  return n;
}

static Value *float_input(Graph *g, const char *name, int rank, const int64_t *dims) {
  return tb_input(g, name, DT_FLOAT, rank, dims);
}

static const char *const unary_ops[] = {
    "Relu", "LeakyRelu", "Elu",  "Selu", "Celu", "ThresholdedRelu", "Sigmoid",    "HardSigmoid",
    "HardSwish", "Tanh", "Softplus", "Softsign", "Neg", "Abs", "Exp", "Log", "Sqrt", "Reciprocal",
    "Floor", "Ceil", "Sign", "Erf",
};

static void test_unary_shapes(void) {
  for (size_t k = 0; k < sizeof unary_ops / sizeof unary_ops[0]; k++) {
    Graph *g = tb_graph(13);
    Value *x = tb_input(g, "x", k % 2 ? DT_DOUBLE : DT_FLOAT, 3, TB_DIMS(2, 3, 4));
    Node *n = op_node(g, unary_ops[k], 1, &x);
    tb_infer(g);
    TB_ASSERT_SHAPE(n->out[0], 2, 3, 4);
    CU_ASSERT_EQUAL(n->out[0]->dtype, x->dtype);
  }
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 0, NULL);
  Node *n = op_node(g, "Sigmoid", 1, &x);
  tb_infer(g);
  CU_ASSERT_EQUAL(n->out[0]->rank, 0);
}

static void test_unary_types(void) {
  /* integer types where the op has an integer formula */
  const struct {
    const char *op;
    DType t;
    bool ok;
  } cases[] = {
      {"Relu", DT_INT32, true},  {"Neg", DT_INT8, true},  {"Abs", DT_UINT16, true}, {"Sign", DT_UINT64, true},
      {"Neg", DT_UINT8, false},  {"Relu", DT_UINT8, false}, {"Exp", DT_INT32, false}, {"Abs", DT_BOOL, false},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    Graph *g = tb_graph(14);
    Value *x = tb_input(g, "x", cases[k].t, 1, TB_DIMS(4));
    op_node(g, cases[k].op, 1, &x);
    if (cases[k].ok)
      tb_infer(g);
    else
      ASSERT_INFER_FAILS(g, "input 0 has element type");
  }
}

static void test_unary_attributes_fold(void) {
  Graph *g = tb_graph(13);
  float data[4] = {-2, -0.5f, 0, 3};
  Value *x = tb_const(g, "x", DT_FLOAT, 1, TB_DIMS(4), data);
  Node *leaky = op_node(g, "LeakyRelu", 1, &x);
  tb_attr_float(leaky, "alpha", 0.5f);
  Node *elu = op_node(g, "Elu", 1, &x); /* default alpha 1 */
  Node *hard = op_node(g, "HardSigmoid", 1, &x);
  tb_attr_float(hard, "beta", 0.25f); /* alpha stays 0.2 */
  tb_infer(g);
  const float *y = leaky->out[0]->data;
  CU_ASSERT_PTR_NOT_NULL_FATAL(y);
  CU_ASSERT_EQUAL(y[0], -1.0f);
  CU_ASSERT_EQUAL(y[3], 3.0f);
  y = elu->out[0]->data;
  CU_ASSERT_EQUAL(y[0], expf(-2) - 1);
  CU_ASSERT_EQUAL(y[3], 3.0f);
  y = hard->out[0]->data;
  CU_ASSERT_EQUAL(y[0], 0.0f);
  CU_ASSERT_EQUAL(y[2], 0.25f);
  CU_ASSERT_EQUAL(y[3], 0.2f * 3 + 0.25f);
}

static void test_unary_bad_attribute_type(void) {
  Graph *g = tb_graph(13);
  Value *x = float_input(g, "x", 1, TB_DIMS(4));
  Node *n = op_node(g, "Elu", 1, &x);
  tb_attr_int(n, "alpha", 2);
  ASSERT_INFER_FAILS(g, "attribute 'alpha' must be a float");
}

static Node *binary(Graph *g, const char *op, Value *a, Value *b) {
  Value *ins[2] = {a, b};
  return op_node(g, op, 2, ins);
}

static void test_binary_broadcast(void) {
  const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    Graph *g = tb_graph(14);
    Node *n = binary(g, ops[k], float_input(g, "a", 3, TB_DIMS(2, 3, 4)), float_input(g, "b", 2, TB_DIMS(3, 1)));
    tb_infer(g);
    TB_ASSERT_SHAPE(n->out[0], 2, 3, 4);
  }
  Graph *g = tb_graph(14);
  Node *outer = binary(g, "Mul", float_input(g, "a", 2, TB_DIMS(1, 5)), float_input(g, "b", 2, TB_DIMS(4, 1)));
  Node *scalar = binary(g, "Add", float_input(g, "c", 0, NULL), float_input(g, "d", 1, TB_DIMS(3)));
  Node *empty = binary(g, "Add", float_input(g, "e", 2, TB_DIMS(0, 3)), float_input(g, "f", 1, TB_DIMS(1)));
  tb_infer(g);
  TB_ASSERT_SHAPE(outer->out[0], 4, 5);
  TB_ASSERT_SHAPE(scalar->out[0], 3);
  TB_ASSERT_SHAPE(empty->out[0], 0, 3);
}

static void test_binary_errors(void) {
  Graph *g = tb_graph(14);
  binary(g, "Add", float_input(g, "a", 2, TB_DIMS(2, 3)), float_input(g, "b", 1, TB_DIMS(4)));
  ASSERT_INFER_FAILS(g, "input shapes [2, 3] and [4] do not broadcast");

  g = tb_graph(14);
  binary(g, "Sub", float_input(g, "a", 1, TB_DIMS(3)), tb_input(g, "b", DT_INT64, 1, TB_DIMS(3)));
  ASSERT_INFER_FAILS(g, "inputs have element types float and int64");

  g = tb_graph(14);
  binary(g, "Mul", tb_input(g, "a", DT_BOOL, 1, TB_DIMS(3)), tb_input(g, "b", DT_BOOL, 1, TB_DIMS(3)));
  ASSERT_INFER_FAILS(g, "input 0 has element type bool");
}

static void test_old_broadcast_attributes(void) {
  Graph *g = tb_graph(6);
  Value *a = float_input(g, "a", 4, TB_DIMS(2, 3, 4, 5));
  Node *mid = binary(g, "Add", a, float_input(g, "b", 2, TB_DIMS(3, 4)));
  tb_attr_int(mid, "broadcast", 1);
  tb_attr_int(mid, "axis", 1);
  Node *suffix = binary(g, "Mul", a, float_input(g, "c", 1, TB_DIMS(5)));
  tb_attr_int(suffix, "broadcast", 1);
  Node *ones = binary(g, "Sub", a, float_input(g, "d", 2, TB_DIMS(2, 1)));
  tb_attr_int(ones, "broadcast", 1);
  tb_attr_int(ones, "axis", 0);
  tb_infer(g);
  TB_ASSERT_SHAPE(mid->out[0], 2, 3, 4, 5);
  TB_ASSERT_SHAPE(suffix->out[0], 2, 3, 4, 5);
  TB_ASSERT_SHAPE(ones->out[0], 2, 3, 4, 5);
}

static void test_old_broadcast_bad_axis(void) {
  Graph *g = tb_graph(6);
  Node *n = binary(g, "Div", float_input(g, "a", 2, TB_DIMS(2, 3)), float_input(g, "b", 2, TB_DIMS(2, 3)));
  tb_attr_int(n, "broadcast", 1);
  tb_attr_int(n, "axis", 1);
  ASSERT_INFER_FAILS(g, "axis 1 does not place B [2, 3] inside A [2, 3]");

  g = tb_graph(6);
  n = binary(g, "Add", float_input(g, "a", 2, TB_DIMS(2, 3)), float_input(g, "b", 1, TB_DIMS(2)));
  tb_attr_int(n, "broadcast", 1); /* suffix placement: 2 against 3 */
  ASSERT_INFER_FAILS(g, "do not broadcast");
}

static void test_prelu_slope(void) {
  /* opset 6: a 1-D slope runs along channels */
  Graph *g = tb_graph(6);
  Node *channel = binary(g, "PRelu", float_input(g, "x", 4, TB_DIMS(2, 3, 4, 5)), float_input(g, "s", 1, TB_DIMS(3)));
  tb_infer(g);
  TB_ASSERT_SHAPE(channel->out[0], 2, 3, 4, 5);

  g = tb_graph(16);
  Node *last = binary(g, "PRelu", float_input(g, "x", 3, TB_DIMS(3, 4, 5)), float_input(g, "s", 1, TB_DIMS(5)));
  tb_infer(g);
  TB_ASSERT_SHAPE(last->out[0], 3, 4, 5);

  g = tb_graph(16);
  binary(g, "PRelu", float_input(g, "x", 4, TB_DIMS(2, 3, 4, 5)), float_input(g, "s", 1, TB_DIMS(3)));
  ASSERT_INFER_FAILS(g, "do not broadcast");

  g = tb_graph(16);
  binary(g, "PRelu", float_input(g, "x", 1, TB_DIMS(5)), float_input(g, "s", 2, TB_DIMS(2, 5)));
  ASSERT_INFER_FAILS(g, "slope of shape [2, 5] does not broadcast to the input's shape [5]");
}

static void test_pow_types(void) {
  Graph *g = tb_graph(15);
  Node *n = binary(g, "Pow", float_input(g, "x", 1, TB_DIMS(3)), tb_input(g, "y", DT_INT64, 0, NULL));
  Node *m = binary(g, "Pow", tb_input(g, "i", DT_INT32, 1, TB_DIMS(3)), float_input(g, "f", 1, TB_DIMS(3)));
  tb_infer(g);
  CU_ASSERT_EQUAL(n->out[0]->dtype, DT_FLOAT);
  CU_ASSERT_EQUAL(m->out[0]->dtype, DT_INT32);
  TB_ASSERT_SHAPE(n->out[0], 3);

  g = tb_graph(15);
  binary(g, "Pow", tb_input(g, "x", DT_UINT8, 1, TB_DIMS(3)), float_input(g, "y", 1, TB_DIMS(3)));
  ASSERT_INFER_FAILS(g, "the base has element type uint8");
}

static void test_integer_folds(void) {
  Graph *g = tb_graph(14);
  int32_t a[4] = {7, -7, 5, INT32_MIN}, b[4] = {2, 2, 0, -1};
  Value *va = tb_const(g, "a", DT_INT32, 1, TB_DIMS(4), a), *vb = tb_const(g, "b", DT_INT32, 1, TB_DIMS(4), b);
  Node *div = binary(g, "Div", va, vb);
  int64_t shape[2] = {3, 5}, one[1] = {-1};
  Node *mul = binary(g, "Mul", tb_const_ints(g, "shape", 2, shape), tb_const_ints(g, "one", 1, one));
  tb_infer(g);
  const int32_t *q = div->out[0]->data;
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT_EQUAL(q[0], 3); /* truncation, as in C */
  CU_ASSERT_EQUAL(q[1], -3);
  CU_ASSERT_EQUAL(q[2], 0); /* division by zero is 0 */
  CU_ASSERT_EQUAL(q[3], INT32_MIN); /* wraps */
  const int64_t *p = mul->out[0]->data;
  CU_ASSERT_EQUAL(p[0], -3);
  CU_ASSERT_EQUAL(p[1], -5);
}

static Node *clip(Graph *g, int n_in, Value *x, Value *lo, Value *hi) {
  Value *ins[3] = {x, lo, hi};
  return op_node(g, "Clip", n_in, ins);
}

static void test_clip(void) {
  Graph *g = tb_graph(6);
  Node *old = clip(g, 1, float_input(g, "x", 2, TB_DIMS(3, 4)), NULL, NULL);
  tb_attr_float(old, "min", -0.5f);
  tb_infer(g);
  TB_ASSERT_SHAPE(old->out[0], 3, 4);

  g = tb_graph(13);
  float x[4] = {-3, 0, 2, 9}, lo = 5, hi = 1;
  Value *vx = tb_const(g, "x", DT_FLOAT, 1, TB_DIMS(4), x);
  Node *swapped = clip(g, 3, vx, tb_const(g, "lo", DT_FLOAT, 0, NULL, &lo), tb_const(g, "hi", DT_FLOAT, 0, NULL, &hi));
  Node *max_only = clip(g, 3, vx, NULL, tb_const(g, "hi2", DT_FLOAT, 0, NULL, &hi));
  Node *runtime = clip(g, 2, float_input(g, "x2", 1, TB_DIMS(4)), float_input(g, "lo2", 1, TB_DIMS(1)), NULL);
  tb_infer(g);
  const float *y = swapped->out[0]->data;
  CU_ASSERT_PTR_NOT_NULL_FATAL(y);
  for (int i = 0; i < 4; i++)
    CU_ASSERT_EQUAL(y[i], 1.0f); /* min > max: everything is max */
  y = max_only->out[0]->data;
  CU_ASSERT_EQUAL(y[0], -3.0f);
  CU_ASSERT_EQUAL(y[3], 1.0f);
  TB_ASSERT_SHAPE(runtime->out[0], 4);
}

static void test_clip_errors(void) {
  Graph *g = tb_graph(13);
  clip(g, 2, float_input(g, "x", 1, TB_DIMS(4)), float_input(g, "lo", 1, TB_DIMS(2)), NULL);
  ASSERT_INFER_FAILS(g, "min has shape [2]; it must be a scalar");

  g = tb_graph(13);
  clip(g, 3, float_input(g, "x", 1, TB_DIMS(4)), NULL, tb_input(g, "hi", DT_DOUBLE, 0, NULL));
  ASSERT_INFER_FAILS(g, "max has element type double; it must be the input's type float");

  g = tb_graph(6);
  clip(g, 2, float_input(g, "x", 1, TB_DIMS(4)), float_input(g, "lo", 0, NULL), NULL);
  ASSERT_INFER_FAILS(g, "before opset 11 Clip takes one");
}

static void test_variadic(void) {
  const char *ops[] = {"Max", "Min", "Mean", "Sum"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    Graph *g = tb_graph(13);
    Value *ins[3] = {float_input(g, "a", 1, TB_DIMS(3)), float_input(g, "b", 2, TB_DIMS(2, 1)),
                     float_input(g, "c", 0, NULL)};
    Node *n = op_node(g, ops[k], 3, ins);
    Node *single = op_node(g, ops[k], 1, ins);
    tb_infer(g);
    TB_ASSERT_SHAPE(n->out[0], 2, 3);
    TB_ASSERT_SHAPE(single->out[0], 3);
  }
}

static void test_variadic_fold(void) {
  Graph *g = tb_graph(13);
  int16_t a[3] = {1, -4, 7}, b[3] = {3, -5, 2};
  Value *ins[2] = {tb_const(g, "a", DT_INT16, 1, TB_DIMS(3), a), tb_const(g, "b", DT_INT16, 1, TB_DIMS(3), b)};
  Node *max = op_node(g, "Max", 2, ins);
  Node *min = op_node(g, "Min", 2, ins);
  float f[2] = {1, 2}, h[1] = {4};
  Value *fins[2] = {tb_const(g, "f", DT_FLOAT, 1, TB_DIMS(2), f), tb_const(g, "h", DT_FLOAT, 0, NULL, h)};
  Node *mean = op_node(g, "Mean", 2, fins);
  tb_infer(g);
  const int16_t *y = max->out[0]->data;
  CU_ASSERT_EQUAL(y[0], 3);
  CU_ASSERT_EQUAL(y[1], -4);
  CU_ASSERT_EQUAL(y[2], 7);
  y = min->out[0]->data;
  CU_ASSERT_EQUAL(y[1], -5);
  const float *m = mean->out[0]->data;
  CU_ASSERT_EQUAL(m[0], 2.5f);
  CU_ASSERT_EQUAL(m[1], 3.0f);
}

static void test_variadic_errors(void) {
  Graph *g = tb_graph(13);
  Value *ins[2] = {float_input(g, "a", 1, TB_DIMS(3)), tb_input(g, "b", DT_DOUBLE, 1, TB_DIMS(3))};
  op_node(g, "Max", 2, ins);
  ASSERT_INFER_FAILS(g, "input 1 has element type double and input 0 float");

  g = tb_graph(13);
  Value *ints[1] = {tb_input(g, "i", DT_INT32, 1, TB_DIMS(3))};
  op_node(g, "Sum", 1, ints);
  ASSERT_INFER_FAILS(g, "expected float or double");

  g = tb_graph(13);
  Value *shapes[2] = {float_input(g, "a", 1, TB_DIMS(3)), float_input(g, "b", 1, TB_DIMS(4))};
  op_node(g, "Min", 2, shapes);
  ASSERT_INFER_FAILS(g, "does not broadcast");
}

static void test_where(void) {
  Graph *g = tb_graph(16);
  Value *ins[3] = {tb_input(g, "c", DT_BOOL, 2, TB_DIMS(2, 1)), tb_input(g, "x", DT_INT64, 1, TB_DIMS(3)),
                   tb_input(g, "y", DT_INT64, 0, NULL)};
  Node *n = op_node(g, "Where", 3, ins);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 2, 3);
  CU_ASSERT_EQUAL(n->out[0]->dtype, DT_INT64);

  g = tb_graph(16);
  bool c[2] = {true, false};
  double x[2] = {1, 2}, y[1] = {-1};
  Value *consts[3] = {tb_const(g, "c", DT_BOOL, 2, TB_DIMS(2, 1), c), tb_const(g, "x", DT_DOUBLE, 1, TB_DIMS(2), x),
                      tb_const(g, "y", DT_DOUBLE, 0, NULL, y)};
  n = op_node(g, "Where", 3, consts);
  tb_infer(g);
  const double *r = n->out[0]->data;
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL(r[0], 1);
  CU_ASSERT_EQUAL(r[1], 2);
  CU_ASSERT_EQUAL(r[2], -1);
  CU_ASSERT_EQUAL(r[3], -1);
}

static void test_where_errors(void) {
  Graph *g = tb_graph(16);
  Value *ins[3] = {float_input(g, "c", 1, TB_DIMS(3)), float_input(g, "x", 1, TB_DIMS(3)),
                   float_input(g, "y", 1, TB_DIMS(3))};
  op_node(g, "Where", 3, ins);
  ASSERT_INFER_FAILS(g, "the condition has element type float; Where needs bool");

  g = tb_graph(16);
  Value *mixed[3] = {tb_input(g, "c", DT_BOOL, 1, TB_DIMS(3)), float_input(g, "x", 1, TB_DIMS(3)),
                     tb_input(g, "y", DT_INT32, 1, TB_DIMS(3))};
  op_node(g, "Where", 3, mixed);
  ASSERT_INFER_FAILS(g, "X and Y have element types float and int32");
}

static void test_cast(void) {
  Graph *g = tb_graph(13);
  float x[4] = {-1.7f, 2.9f, 0.25f, 0};
  Value *vx = tb_const(g, "x", DT_FLOAT, 2, TB_DIMS(2, 2), x);
  Node *to_int = op_node(g, "Cast", 1, &vx);
  tb_attr_int(to_int, "to", DT_INT32);
  Node *to_bool = op_node(g, "Cast", 1, &vx);
  tb_attr_int(to_bool, "to", DT_BOOL);
  tb_infer(g);
  TB_ASSERT_SHAPE(to_int->out[0], 2, 2);
  CU_ASSERT_EQUAL(to_int->out[0]->dtype, DT_INT32);
  const int32_t *i = to_int->out[0]->data;
  CU_ASSERT_EQUAL(i[0], -1);
  CU_ASSERT_EQUAL(i[1], 2);
  const bool *b = to_bool->out[0]->data;
  CU_ASSERT(b[2]); /* 0.25 is not zero */
  CU_ASSERT(!b[3]);

  /* opset 1 names the type */
  g = tb_graph(1);
  Value *in = float_input(g, "in", 1, TB_DIMS(3));
  Node *old = op_node(g, "Cast", 1, &in);
  tb_attr_string(old, "to", "DOUBLE");
  tb_infer(g);
  CU_ASSERT_EQUAL(old->out[0]->dtype, DT_DOUBLE);
}

static void test_cast_errors(void) {
  Graph *g = tb_graph(13);
  Value *x = float_input(g, "x", 1, TB_DIMS(3));
  Node *n = op_node(g, "Cast", 1, &x);
  tb_attr_int(n, "to", DT_FLOAT16);
  ASSERT_INFER_FAILS(g, "casts to float16, which cnnc does not support");

  g = tb_graph(13);
  x = float_input(g, "x", 1, TB_DIMS(3));
  op_node(g, "Cast", 1, &x);
  ASSERT_INFER_FAILS(g, "the attribute 'to' is required");

  g = tb_graph(1);
  x = float_input(g, "x", 1, TB_DIMS(3));
  n = op_node(g, "Cast", 1, &x);
  tb_attr_string(n, "to", "QUATERNION");
  ASSERT_INFER_FAILS(g, "names no ONNX element type");
}

/* The generated code against the fold. One operand of an op under test: a tensor that is a run-time input of
 * the compiled graph (or a constant, when `constant`), and always a constant of the folded one. */
typedef struct Operand {
  DType t;
  int rank;
  int64_t dims[4];
  const void *data; /* NULL: an omitted optional input */
  bool constant;
} Operand;

static char *c_bytes(const void *data, int64_t size) {
  char *s = cn_strdup("{");
  for (int64_t i = 0; i < size; i++)
    s = cn_format("%s%s%u", s, i ? "," : "", ((const unsigned char *)data)[i]);
  return cn_format("%s%s}", s, size ? "" : "0");
}

static Node *build(Graph *g, const char *op, int n_in, const Operand *ops, bool fold_all) {
  Value *ins[4] = {0};
  for (int k = 0; k < n_in; k++) {
    const Operand *o = &ops[k];
    if (!o->data)
      continue;
    const char *name = cn_format("in%d", k);
    ins[k] = fold_all || o->constant ? tb_const(g, name, o->t, o->rank, o->dims, o->data)
                                     : tb_input(g, name, o->t, o->rank, o->dims);
  }
  return op_node(g, op, n_in, ins);
}

/* Folds op over the operands, compiles it with the non-constant ones as inputs, and checks the program computes
 * the same bytes. set_attrs (may be NULL) adds the node's attributes. */
static void check_code_matches_fold(const char *op, int64_t opset, int n_in, const Operand *ops,
                                    void (*set_attrs)(Node *)) {
  Graph *folded = tb_graph(opset);
  Node *f = build(folded, op, n_in, ops, true);
  if (set_attrs)
    set_attrs(f);
  tb_infer(folded);
  Value *expected = f->out[0];
  CU_ASSERT_PTR_NOT_NULL_FATAL(expected->data);

  Graph *g = tb_graph(opset);
  Node *n = build(g, op, n_in, ops, false);
  if (set_attrs)
    set_attrs(n);
  /* The op's result goes through an Identity, so it lives in the arena: the emitter declares the arena even
   * when nothing uses it, which -Werror rejects. */
  g->n_outputs = 0;
  n->out[0]->flags &= ~VAL_GRAPH_OUTPUT;
  tb_output(g, tb_node(g, "Identity", 1, n->out, 1)->out[0]);
  tb_infer(g);
  CU_ASSERT_PTR_NULL_FATAL(n->out[0]->data);
  char *driver = cn_strdup("int main(void) {\n");
  char *inputs = cn_strdup("");
  for (int k = 0, j = 0; k < n_in; k++) {
    if (!ops[k].data || ops[k].constant)
      continue;
    Value *v = n->in[k];
    driver = cn_format("%s  static const unsigned char _Alignas(8) in%d[] = %s;\n", driver, k,
                       c_bytes(ops[k].data, value_bytes(v)));
    inputs = cn_format("%s%sin%d", inputs, j++ ? ", " : "", k);
  }
  int64_t bytes = value_bytes(expected);
  driver = cn_format("%s  static const unsigned char expected[] = %s;\n"
                     "  static unsigned char _Alignas(8) out[%lld + 1];\n"
                     "  const void *inputs[] = {%s};\n  void *outputs[] = {out};\n"
                     "  if (model_run(inputs, outputs) != 0) return 1;\n"
                     "  for (int i = 0; i < %lld; i++)\n"
                     "    if (out[i] != expected[i]) { printf(\"%s: byte %%d differs\\n\", i); return 1; }\n"
                     "  return 0;\n}\n",
                     driver, c_bytes(expected->data, bytes), (long long)bytes, inputs, (long long)bytes, op);
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

static void alpha_half(Node *n) { tb_attr_float(n, "alpha", 0.5f); }

static void test_unary_code_matches_fold(void) {
  float x[8] = {-3.5f, -1, -0.25f, 0, 0.3f, 1, 2.5f, 40};
  for (size_t k = 0; k < sizeof unary_ops / sizeof unary_ops[0]; k++) {
    Operand in = {DT_FLOAT, 2, {2, 4}, x, false};
    check_code_matches_fold(unary_ops[k], 13, 1, &in, NULL);
  }
  double d[3] = {-2, 0.5, 3};
  Operand in = {DT_DOUBLE, 1, {3}, d, false};
  check_code_matches_fold("Celu", 13, 1, &in, alpha_half);
  check_code_matches_fold("Softplus", 13, 1, &in, NULL);
  int8_t i8[4] = {-128, -3, 0, 5};
  uint16_t u16[3] = {0, 7, 65535};
  const char *int_ops[] = {"Relu", "Neg", "Abs", "Sign"};
  for (size_t k = 0; k < 4; k++) {
    Operand i = {DT_INT8, 1, {4}, i8, false};
    check_code_matches_fold(int_ops[k], 14, 1, &i, NULL);
  }
  Operand u = {DT_UINT16, 1, {3}, u16, false};
  check_code_matches_fold("Abs", 13, 1, &u, NULL);
  check_code_matches_fold("Sign", 13, 1, &u, NULL);
}

static void test_binary_code_matches_fold(void) {
  /* a negative base only meets integer exponents: NaN bits need not agree */
  float a[6] = {-2, -1, 0.5f, 3, 4, 100}, b[3] = {2, -3, 7};
  const char *ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "PRelu"};
  for (size_t k = 0; k < 6; k++) {
    Operand ins[2] = {{DT_FLOAT, 2, {2, 3}, a, false}, {DT_FLOAT, 1, {3}, b, false}};
    check_code_matches_fold(ops[k], 14, 2, ins, NULL);
  }
  int32_t ia[4] = {7, -7, 5, -9}, ib[4] = {2, 2, 0, 4};
  uint8_t ua[3] = {3, 200, 9}, ub[3] = {5, 100, 0};
  for (size_t k = 0; k < 4; k++) {
    Operand ints[2] = {{DT_INT32, 1, {4}, ia, false}, {DT_INT32, 1, {4}, ib, false}};
    check_code_matches_fold(ops[k], 14, 2, ints, NULL);
    Operand uints[2] = {{DT_UINT8, 1, {3}, ua, false}, {DT_UINT8, 1, {3}, ub, false}};
    check_code_matches_fold(ops[k], 14, 2, uints, NULL);
  }
  /* Pow with mixed types; the channel slope of opset 6 PRelu; a broadcast that keeps two loops */
  int64_t e[3] = {0, 2, 3};
  Operand pow_mixed[2] = {{DT_FLOAT, 1, {3}, b, false}, {DT_INT64, 1, {3}, e, false}};
  check_code_matches_fold("Pow", 15, 2, pow_mixed, NULL);
  float fractional[3] = {0.5f, -3, 2};
  Operand pow_int[2] = {{DT_INT32, 1, {3}, ia, false}, {DT_FLOAT, 1, {3}, fractional, true}};
  check_code_matches_fold("Pow", 15, 2, pow_int, NULL);
  float x[12] = {-1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11, 12}, slope[3] = {0.5f, 2, -1};
  Operand prelu[2] = {{DT_FLOAT, 3, {2, 3, 2}, x, false}, {DT_FLOAT, 1, {3}, slope, true}};
  check_code_matches_fold("PRelu", 6, 2, prelu, NULL);
  Operand outer[2] = {{DT_FLOAT, 3, {2, 1, 3}, a, false}, {DT_FLOAT, 2, {2, 1}, slope, false}};
  check_code_matches_fold("Mul", 14, 2, outer, NULL);
  Operand empty[2] = {{DT_FLOAT, 2, {0, 3}, a, false}, {DT_FLOAT, 1, {3}, slope, false}};
  check_code_matches_fold("Sub", 14, 2, empty, NULL);
}

static void test_other_code_matches_fold(void) {
  /* Constant bounds become literals, which leaves their weights unused: the emitter still declares them, so
   * -Werror rejects such a program for now, and the bounds here are run-time inputs. */
  uint8_t u[5] = {0, 3, 9, 200, 255}, lo = 3, hi = 100;
  Operand clip_u8[3] = {{DT_UINT8, 1, {5}, u, false}, {DT_UINT8, 0, {0}, &lo, false}, {DT_UINT8, 0, {0}, &hi, false}};
  check_code_matches_fold("Clip", 13, 3, clip_u8, NULL);
  int64_t big[3] = {INT64_MIN, 0, INT64_MAX}, low = INT64_MIN + 1;
  Operand clip_i64[2] = {{DT_INT64, 1, {3}, big, false}, {DT_INT64, 0, {0}, &low, false}};
  check_code_matches_fold("Clip", 13, 2, clip_i64, NULL);

  float f[4] = {-1, 0.5f, 2, 8}, g[2] = {1, 3}, h[1] = {0.25f};
  const char *ops[] = {"Max", "Min", "Mean", "Sum"};
  for (size_t k = 0; k < 4; k++) {
    Operand ins[3] = {{DT_FLOAT, 2, {2, 2}, f, false}, {DT_FLOAT, 1, {2}, g, false}, {DT_FLOAT, 0, {0}, h, false}};
    check_code_matches_fold(ops[k], 13, 3, ins, NULL);
  }
  bool c[2] = {false, true};
  int16_t x[3] = {1, 2, 3}, y[1] = {-4};
  Operand where[3] = {{DT_BOOL, 2, {2, 1}, c, false}, {DT_INT16, 1, {3}, x, false}, {DT_INT16, 0, {0}, y, false}};
  check_code_matches_fold("Where", 16, 3, where, NULL);
}

static DType cast_to;
static void set_cast_to(Node *n) { tb_attr_int(n, "to", cast_to); }

static void test_cast_code_matches_fold(void) {
  float f[5] = {-1.75f, 2.5f, 0, 0.125f, 100};
  int64_t i[3] = {-3, 1 << 30, 5};
  const DType targets[] = {DT_FLOAT, DT_DOUBLE, DT_INT8, DT_UINT8, DT_INT32, DT_INT64, DT_UINT64, DT_BOOL};
  for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++) {
    cast_to = targets[k];
    /* negative floats to unsigned types are undefined in C */
    bool is_unsigned = targets[k] == DT_UINT8 || targets[k] == DT_UINT64;
    Operand from_float = {DT_FLOAT, 1, {is_unsigned ? 4 : 5}, is_unsigned ? f + 1 : f, false};
    check_code_matches_fold("Cast", 13, 1, &from_float, set_cast_to);
    Operand from_int = {DT_INT64, 1, {3}, i, false};
    check_code_matches_fold("Cast", 13, 1, &from_int, set_cast_to);
  }
}

CU_TestInfo shape_eltwise_tests[] = {
    {"unary_shapes", test_unary_shapes},
    {"unary_types", test_unary_types},
    {"unary_attributes_fold", test_unary_attributes_fold},
    {"unary_bad_attribute_type", test_unary_bad_attribute_type},
    {"binary_broadcast", test_binary_broadcast},
    {"binary_errors", test_binary_errors},
    {"old_broadcast_attributes", test_old_broadcast_attributes},
    {"old_broadcast_bad_axis", test_old_broadcast_bad_axis},
    {"prelu_slope", test_prelu_slope},
    {"pow_types", test_pow_types},
    {"integer_folds", test_integer_folds},
    {"clip", test_clip},
    {"clip_errors", test_clip_errors},
    {"variadic", test_variadic},
    {"variadic_fold", test_variadic_fold},
    {"variadic_errors", test_variadic_errors},
    {"where", test_where},
    {"where_errors", test_where_errors},
    {"cast", test_cast},
    {"cast_errors", test_cast_errors},
    {"unary_code_matches_fold", test_unary_code_matches_fold},
    {"binary_code_matches_fold", test_binary_code_matches_fold},
    {"other_code_matches_fold", test_other_code_matches_fold},
    {"cast_code_matches_fold", test_cast_code_matches_fold},
    CU_TEST_INFO_NULL,
};
