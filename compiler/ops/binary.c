/* Two-input arithmetic: Add, Sub, Mul, Div, Pow and PRelu, with numpy broadcasting. Opsets before 7 broadcast
 * differently: Add..Pow take `broadcast` and `axis` attributes that place B inside A's shape, and PRelu's
 * one-dimensional slope runs along the channel axis 1. Inference turns both into ordinary broadcasting by
 * giving the operand the shape it has in the loops, padded with 1s. The generated code is
 *
 *   for (int64_t i0 = 0; i0 < 3; i0++) {
 *     for (int64_t i1 = 0; i1 < 20; i1++) {
 *       const float a = X0[i0 * 20 + i1];
 *       const float b = X1[i1];
 *       Y0[i0 * 20 + i1] = a + b;
 *     }
 *   }
 */
#include "../cnnc.h"

#include <math.h>
#include <string.h>

typedef struct BinaryParams {
  Value operand[2]; /* shapes of A and B as the loops read them (only rank and dims are set) */
} BinaryParams;

typedef struct BinaryRow {
  OpKind kind;
  const char *formula;     /* in terms of the elements a and b (float calls get the f suffix) */
  const char *int_formula; /* for integers, when it differs */
  bool ints, uints;        /* which integer types the op takes besides float and double */
} BinaryRow;

static const BinaryRow rows[] = {
    {OP_ADD, "a + b", NULL, true, true},
    {OP_SUB, "a - b", NULL, true, true},
    {OP_MUL, "a * b", NULL, true, true},
    /* C leaves integer division by zero undefined (x86 traps); cnnc makes it 0, in folds too */
    {OP_DIV, "a / b", "b == 0 ? 0 : a / b", true, true},
    /* the exponent is converted to the base's type, or to double for integer bases; float uses powf */
    {OP_POW, "pow(a, b)", NULL, true, false},
    {OP_PRELU, "a < 0 ? a * b : a", NULL, true, false},
};

static const BinaryRow *find_row(OpKind kind) {
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
    if (rows[r].kind == kind)
      return &rows[r];
  cn_unreachable();
}

static void set_operand_shape(Value *operand, int rank, const int64_t *dims) {
  operand->rank = rank;
  memcpy(operand->dims, dims, (size_t)rank * sizeof *dims);
}

/* Opset < 7 with broadcast=1: B's dims match A's from `axis` on (default: A's last dims). */
static void place_old_broadcast(const Node *n, const Value *a, const Value *b, Value *operand) {
  int64_t axis = node_attr(n, "axis") ? attr_int(n, "axis", 0) : a->rank - b->rank;
  if (axis < 0 || axis + b->rank > a->rank)
    cn_error_node(n, "axis %lld does not place B %s inside A %s (broadcast=1 needs 0 <= axis <= rank(A) - rank(B))",
                  (long long)axis, value_shape_string(b), value_shape_string(a));
  int64_t dims[CN_MAX_RANK];
  for (int j = 0; j < a->rank; j++)
    dims[j] = j >= axis && j < axis + b->rank ? b->dims[j - axis] : 1;
  set_operand_shape(operand, a->rank, dims);
}

/* Opset < 7 PRelu: a 1-D slope of C values applies along axis 1 of X, as in Caffe. */
static bool old_channel_slope(const Graph *g, const Value *x, const Value *slope) {
  return g->opset < 7 && slope->rank == 1 && x->rank >= 2 && slope->dims[0] == x->dims[1] && slope->dims[0] != 1;
}

static bool type_accepted(const BinaryRow *row, DType t) {
  if (dtype_is_float(t))
    return true;
  if (t == DT_BOOL)
    return false;
  return scalar_kind(t) == SCALAR_UINT ? row->uints : row->ints;
}

static const char *accepted_types(const BinaryRow *row) {
  return row->uints ? "numbers" : "float, double or signed integers";
}

static void check_types(const Node *n, const BinaryRow *row) {
  DType ta = n->in[0]->dtype, tb = n->in[1]->dtype;
  if (row->kind == OP_POW) {
    if (ta != DT_FLOAT && ta != DT_DOUBLE && ta != DT_INT32 && ta != DT_INT64)
      cn_error_node(n, "the base has element type %s; Pow takes float, double, int32 or int64", dtype_name(ta));
    if (!dtype_any_numeric(tb))
      cn_error_node(n, "the exponent has element type %s; Pow takes a number", dtype_name(tb));
    return;
  }
  if (!type_accepted(row, ta))
    cn_error_node(n, "input 0 has element type %s; %s takes %s", dtype_name(ta), n->op->name, accepted_types(row));
  if (ta != tb)
    cn_error_node(n, "inputs have element types %s and %s; %s needs both the same", dtype_name(ta), dtype_name(tb),
                  n->op->name);
}

static void binary_infer(Graph *g, Node *n) {
  const BinaryRow *row = find_row(n->op->kind);
  check_types(n, row);
  Value *a = n->in[0], *b = n->in[1];
  BinaryParams *p = cn_alloc(sizeof *p);
  set_operand_shape(&p->operand[0], a->rank, a->dims);
  set_operand_shape(&p->operand[1], b->rank, b->dims);
  if (row->kind == OP_PRELU && old_channel_slope(g, a, b)) {
    int64_t dims[CN_MAX_RANK];
    for (int j = 0; j < a->rank; j++)
      dims[j] = j == 1 ? b->dims[0] : 1;
    set_operand_shape(&p->operand[1], a->rank, dims);
  } else if (row->kind != OP_PRELU && g->opset < 7 && attr_int(n, "broadcast", 0)) {
    place_old_broadcast(n, a, b, &p->operand[1]);
  }
  int rank;
  int64_t dims[CN_MAX_RANK];
  if (!broadcast_shapes(p->operand[0].rank, p->operand[0].dims, p->operand[1].rank, p->operand[1].dims, &rank, dims))
    cn_error_node(n, "input shapes %s and %s do not broadcast", value_shape_string(a), value_shape_string(b));
  /* the slope broadcasts to X, never X to the slope */
  if (row->kind == OP_PRELU && (rank != a->rank || memcmp(dims, a->dims, (size_t)rank * sizeof *dims) != 0))
    cn_error_node(n, "slope of shape %s does not broadcast to the input's shape %s", value_shape_string(b),
                  value_shape_string(a));
  n->params = p;
  value_set_shape(n->out[0], n, a->dtype, rank, dims);
}

/* One element of the result, computed as the generated code computes it (integers wrap). */
static Scalar binary_apply(OpKind op, DType t, Scalar a, Scalar b) {
  Scalar y;
  switch (scalar_kind(t) * OP_COUNT + op) {
#define CASE(kind, op) case kind * OP_COUNT + op:
#define REAL_CASES(kind, v)                                                                                        \
  CASE(kind, OP_ADD) y.v = a.v + b.v; break;                                                                       \
  CASE(kind, OP_SUB) y.v = a.v - b.v; break;                                                                       \
  CASE(kind, OP_MUL) y.v = a.v * b.v; break;                                                                       \
  CASE(kind, OP_DIV) y.v = a.v / b.v; break;                                                                       \
  CASE(kind, OP_PRELU) y.v = a.v < 0 ? a.v * b.v : a.v; break;
    REAL_CASES(SCALAR_FLOAT, f)
    REAL_CASES(SCALAR_DOUBLE, d)
    CASE(SCALAR_FLOAT, OP_POW) y.f = powf(a.f, b.f); break;
    CASE(SCALAR_DOUBLE, OP_POW) y.d = pow(a.d, b.d); break;
    /* integers in unsigned arithmetic, which wraps where the signed would overflow */
    CASE(SCALAR_INT, OP_ADD) CASE(SCALAR_UINT, OP_ADD) y.u = a.u + b.u; break;
    CASE(SCALAR_INT, OP_SUB) CASE(SCALAR_UINT, OP_SUB) y.u = a.u - b.u; break;
    CASE(SCALAR_INT, OP_MUL) CASE(SCALAR_UINT, OP_MUL) y.u = a.u * b.u; break;
    CASE(SCALAR_INT, OP_DIV) y.u = b.i == 0 ? 0 : b.i == -1 ? 0 - a.u : (uint64_t)(a.i / b.i); break;
    CASE(SCALAR_UINT, OP_DIV) y.u = b.u == 0 ? 0 : a.u / b.u; break;
    CASE(SCALAR_INT, OP_PRELU) y.u = a.i < 0 ? a.u * b.u : a.u; break;
    /* integer bases: the exponent is a double here */
    CASE(SCALAR_INT, OP_POW) y = scalar_convert((Scalar){.d = pow((double)a.i, b.d)}, DT_DOUBLE, t); break;
#undef REAL_CASES
#undef CASE
  default: cn_unreachable();
  }
  return y;
}

/* Pow's exponent is converted first: to the base's type, or to double for integer bases. */
static DType exponent_type(DType base) { return dtype_is_float(base) ? base : DT_DOUBLE; }

static void binary_fold(Graph *g, Node *n) {
  (void)g;
  const BinaryParams *p = n->params;
  Value *a = n->in[0], *b = n->in[1], *out = n->out[0];
  DType t = a->dtype;
  for (int64_t i = 0; i < value_count(out); i++) {
    Scalar x = scalar_get(a, broadcast_offset(out, &p->operand[0], i));
    Scalar y = scalar_get(b, broadcast_offset(out, &p->operand[1], i));
    if (n->op->kind == OP_POW)
      y = scalar_convert(y, b->dtype, exponent_type(t));
    scalar_set(out, i, binary_apply(n->op->kind, t, x, y));
  }
}

static void binary_emit(Emitter *e, const Node *n) {
  const BinaryParams *p = n->params;
  const BinaryRow *row = find_row(n->op->kind);
  DType t = n->in[0]->dtype;
  const char *T = dtype_ctype(t);
  const char *formula = row->int_formula && !dtype_is_float(t) ? row->int_formula : row->formula;
  DType tb = t;
  if (row->kind == OP_POW) {
    tb = exponent_type(t);
    if (t == DT_FLOAT)
      formula = "powf(a, b)";
  }
  const Value *operands[2] = {&p->operand[0], &p->operand[1]};
  char *in_index[2], *out_index;
  int loops = emit_elementwise_loops(e, n->out[0], 2, operands, in_index, &out_index);
  emitf(e, "const %s a = %s[%s];", T, emit_in(n, 0), in_index[0]);
  emitf(e, "const %s b = %s[%s];", dtype_ctype(tb), emit_in(n, 1), in_index[1]);
  emitf(e, "%s[%s] = %s;", emit_out(n, 0), out_index, formula);
  emit_close(e, loops);
}

/* On SIMD targets float Add, Sub, Mul and Div with the broadcasts CNNs use run as templates/eltwise_binary.c
 * (eltwise_simd.c), blocked when an operand arrives blocked. */
static const char *vector_op(OpKind kind) {
  switch (kind) {
  case OP_ADD: return "vadd";
  case OP_SUB: return "vsub";
  case OP_MUL: return "vmul";
  case OP_DIV: return "vdiv";
  default: return NULL;
  }
}

static bool binary_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  static const Activation none = {ACT_NONE, 0, 0};
  /* opset < 7 broadcasts (axis) and PRelu's old slope are not numpy's: the portable loops read them */
  const BinaryParams *p = n->params;
  for (int i = 0; i < 2; i++)
    if (p->operand[i].rank != n->in[i]->rank)
      return false;
  return vector_op(n->op->kind) && eltwise_binary_simd(g, n, t, &none, in_layout, out_layout);
}

static void binary_emit_simd(Emitter *e, const Node *n) { eltwise_binary_emit(e, n, vector_op(n->op->kind)); }

/* Gradients. Operand k as the loops read it (its shape padded for old-opset broadcasting): the value itself, or
 * a reshape of it. */
static Value *operand(Graph *g, const Node *n, int k) {
  const BinaryParams *p = n->params;
  return bw_reshape(g, n, n->in[k], &p->operand[k]);
}

/* A gradient of output shape, summed down to operand k and given that input's shape. */
static Value *to_input(Graph *g, const Node *n, Value *d, int k) {
  const BinaryParams *p = n->params;
  return bw_reshape(g, n, bw_sum_to(g, n, d, &p->operand[k]), n->in[k]);
}

/* Add: dA = dy, dB = dy; Sub: dB = -dy; Mul: dA = dy * B, dB = dy * A; Div: dA = dy / B, dB = -dy / B * Y
 * (= -dy * A / B^2); each summed over the axes its operand was broadcast along. */
static void binary_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  Value *a = n->in[0], *b = n->in[1];
  switch (n->op->kind) {
  case OP_ADD:
  case OP_SUB:
    if (a->requires_grad)
      dx[0] = to_input(g, n, dy[0], 0);
    if (b->requires_grad) {
      dx[1] = to_input(g, n, dy[0], 1);
      if (n->op->kind == OP_SUB)
        dx[1] = bw_unary(g, n, OP_NEG, dx[1]);
    }
    break;
  case OP_MUL:
    if (a->requires_grad)
      dx[0] = to_input(g, n, bw_binary(g, n, OP_MUL, dy[0], operand(g, n, 1)), 0);
    if (b->requires_grad)
      dx[1] = to_input(g, n, bw_binary(g, n, OP_MUL, dy[0], operand(g, n, 0)), 1);
    break;
  case OP_DIV: {
    Value *quotient = bw_binary(g, n, OP_DIV, dy[0], operand(g, n, 1));
    if (a->requires_grad)
      dx[0] = to_input(g, n, quotient, 0);
    if (b->requires_grad)
      dx[1] = bw_unary(g, n, OP_NEG, to_input(g, n, bw_binary(g, n, OP_MUL, quotient, n->out[0]), 1));
    break;
  }
  case OP_PRELU: {
    /* PReluGrad(dy, x, slope) -> dx, and dy * x where x < 0 (in x's shape), summed to the slope's */
    Value *ins[3] = {dy[0], a, operand(g, n, 1)};
    Node *t = bw_node(g, n, OP_PRELU_GRAD, 3, ins, 2);
    if (!a->requires_grad)
      t->out[0] = NULL;
    if (!b->requires_grad)
      t->out[1] = NULL;
    bw_finish(g, t);
    dx[0] = t->out[0];
    if (t->out[1])
      dx[1] = to_input(g, n, t->out[1], 1);
    break;
  }
  default: cn_unreachable();
  }
}

#define BINARY_OP(sym, ID, onnx_name, grad_hook, simd_hooks)                                                       \
  const OpDesc op_##sym = {                                                                                        \
      .kind = OP_##ID, .name = onnx_name, .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,                    \
      .infer = binary_infer, .fold = binary_fold, .emit = binary_emit, .grad = grad_hook, simd_hooks               \
  };
#define SIMD_HOOKS .simd = binary_simd, .emit_simd = binary_emit_simd,
BINARY_OP(add, ADD, "Add", binary_grad, SIMD_HOOKS)
BINARY_OP(sub, SUB, "Sub", binary_grad, SIMD_HOOKS)
BINARY_OP(mul, MUL, "Mul", binary_grad, SIMD_HOOKS)
BINARY_OP(div, DIV, "Div", binary_grad, SIMD_HOOKS)
BINARY_OP(pow, POW, "Pow", NULL, )
BINARY_OP(prelu, PRELU, "PRelu", binary_grad, )

static void prelu_grad_infer(Graph *g, Node *n) {
  (void)g;
  const Value *x = n->in[1];
  CN_ASSERT(dtype_is_float(x->dtype));
  for (int k = 0; k < 2; k++)
    if (n->out[k])
      value_set_shape(n->out[k], n, x->dtype, x->rank, x->dims);
}

static void prelu_grad_emit(Emitter *e, const Node *n) {
  const char *T = dtype_ctype(n->in[1]->dtype);
  char *in_index[3], *out_index;
  int loops = emit_elementwise_loops(e, n->in[1], 3, (const Value *const *)n->in, in_index, &out_index);
  emitf(e, "const %s dy = X0[%s];", T, in_index[0]);
  emitf(e, "const %s x = X1[%s];", T, in_index[1]);
  if (n->out[0])
    emitf(e, "Y0[%s] = x > 0 ? dy : dy * X2[%s];", out_index, in_index[2]);
  if (n->out[1])
    emitf(e, "Y1[%s] = x > 0 ? 0 : dy * x;", out_index);
  emit_close(e, loops);
}

const OpDesc op_prelu_grad = {
    .kind = OP_PRELU_GRAD, .name = "PReluGrad", .min_in = 3, .max_in = 3, .min_out = 2, .max_out = 2,
    .infer = prelu_grad_infer, .emit = prelu_grad_emit, .internal = true,
};
