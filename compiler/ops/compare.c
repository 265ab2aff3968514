/* Comparisons and logic, element by element with numpy broadcasting, all giving bool: Equal, Greater, Less,
 * GreaterOrEqual, LessOrEqual compare two tensors of one type; And, Or, Xor combine two bool tensors and Not
 * negates one. The generated code is
 *
 *   for (int64_t i0 = 0; i0 < 3; i0++) {
 *     for (int64_t i1 = 0; i1 < 4; i1++) {
 *       const float a = X0[i0 * 4 + i1];
 *       const float b = X1[i1];
 *       Y0[i0 * 4 + i1] = a < b;
 *     }
 *   }
 *
 * Comparisons with NaN are false, Equal included, as in C and numpy. Before opset 7 the binary ops took
 * `broadcast` and `axis` attributes instead of broadcasting; cnnc implements the equal-shape form of those. */
#include "../cnnc.h"

typedef struct CompareRow {
  OpKind kind;
  const char *op; /* C operator between a and b; NULL for Not */
  bool logical;   /* bool inputs only (And, Or, Xor, Not) */
  bool equality;  /* takes bool too (Equal) */
} CompareRow;

static const CompareRow rows[] = {
    {OP_EQUAL, "==", false, true},
    {OP_GREATER, ">", false, false},
    {OP_LESS, "<", false, false},
    {OP_GREATER_OR_EQUAL, ">=", false, false},
    {OP_LESS_OR_EQUAL, "<=", false, false},
    {OP_AND, "&&", true, false},
    {OP_OR, "||", true, false},
    {OP_XOR, "!=", true, false},
    {OP_NOT, NULL, true, false},
};

static const CompareRow *find_row(OpKind kind) {
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
    if (rows[r].kind == kind)
      return &rows[r];
  cn_unreachable();
}

static void compare_infer(Graph *g, Node *n) {
  const CompareRow *row = find_row(n->op->kind);
  for (int i = 0; i < n->n_in; i++) {
    DType t = n->in[i]->dtype;
    if (row->logical ? t != DT_BOOL : t == DT_BOOL && !row->equality)
      cn_error_node(n, "input %d has element type %s; %s takes %s", i, dtype_name(t), n->op->name,
                    row->logical ? "bool" : row->equality ? "numbers or bool" : "numbers");
  }
  if (n->n_in == 2) {
    if (n->in[0]->dtype != n->in[1]->dtype)
      cn_error_node(n, "inputs have element types %s and %s; %s needs both the same", dtype_name(n->in[0]->dtype),
                    dtype_name(n->in[1]->dtype), n->op->name);
    if (g->opset < 7 && attr_int(n, "broadcast", 0)) {
      attr_int(n, "axis", 0);
      cn_error_node(n, "broadcast = 1 (opset %lld's limited broadcasting) is not supported; cnnc implements it from "
                    "opset 7", (long long)g->opset);
    }
  }
  infer_broadcast(n, DT_BOOL);
}

static bool compare_apply(OpKind kind, DType t, Scalar a, Scalar b) {
  bool less = scalar_less(a, b, t), greater = scalar_less(b, a, t);
  bool equal;
  switch (scalar_kind(t)) {
  case SCALAR_FLOAT: equal = a.f == b.f; break;
  case SCALAR_DOUBLE: equal = a.d == b.d; break;
  case SCALAR_INT: equal = a.i == b.i; break;
  case SCALAR_UINT: equal = a.u == b.u; break;
  default: cn_unreachable();
  }
  switch (kind) {
  case OP_EQUAL: return equal;
  case OP_GREATER: return greater;
  case OP_LESS: return less;
  case OP_GREATER_OR_EQUAL: return greater || equal;
  case OP_LESS_OR_EQUAL: return less || equal;
  case OP_AND: return a.i && b.i;
  case OP_OR: return a.i || b.i;
  case OP_XOR: return (a.i != 0) != (b.i != 0);
  case OP_NOT: return !a.i;
  default: cn_unreachable();
  }
}

static void compare_fold(Graph *g, Node *n) {
  (void)g;
  Value *out = n->out[0], *a = n->in[0], *b = n->n_in > 1 ? n->in[1] : NULL;
  for (int64_t i = 0; i < value_count(out); i++) {
    Scalar x = scalar_get(a, broadcast_offset(out, a, i));
    Scalar y = b ? scalar_get(b, broadcast_offset(out, b, i)) : x;
    ((bool *)out->data)[i] = compare_apply(n->op->kind, a->dtype, x, y);
  }
}

static void compare_emit(Emitter *e, const Node *n) {
  const CompareRow *row = find_row(n->op->kind);
  const char *T = dtype_ctype(n->in[0]->dtype);
  char *in_index[2], *out_index;
  int loops = emit_elementwise_loops(e, n->out[0], n->n_in, (const Value *const *)n->in, in_index, &out_index);
  emitf(e, "const %s a = %s[%s];", T, emit_in(n, 0), in_index[0]);
  if (!row->op) {
    emitf(e, "%s[%s] = !a;", emit_out(n, 0), out_index);
  } else {
    emitf(e, "const %s b = %s[%s];", T, emit_in(n, 1), in_index[1]);
    emitf(e, "%s[%s] = a %s b;", emit_out(n, 0), out_index, row->op);
  }
  emit_close(e, loops);
}

#define COMPARE_OP(sym, ID, onnx_name, inputs)                                                                     \
  const OpDesc op_##sym = {                                                                                        \
      .kind = OP_##ID, .name = onnx_name, .min_in = inputs, .max_in = inputs, .min_out = 1, .max_out = 1,          \
      .infer = compare_infer, .fold = compare_fold, .emit = compare_emit,                                          \
  };
COMPARE_OP(equal, EQUAL, "Equal", 2)
COMPARE_OP(greater, GREATER, "Greater", 2)
COMPARE_OP(less, LESS, "Less", 2)
COMPARE_OP(greater_or_equal, GREATER_OR_EQUAL, "GreaterOrEqual", 2)
COMPARE_OP(less_or_equal, LESS_OR_EQUAL, "LessOrEqual", 2)
COMPARE_OP(and, AND, "And", 2)
COMPARE_OP(or, OR, "Or", 2)
COMPARE_OP(xor, XOR, "Xor", 2)
COMPARE_OP(not, NOT, "Not", 1)
