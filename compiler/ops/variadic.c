/* Max, Min, Mean and Sum of one or more inputs, broadcast together (opsets before 8 required equal shapes,
 * which broadcasting accepts too). The generated code folds the inputs into y left to right:
 *
 *   for (int64_t i0 = 0; i0 < 3; i0++) {
 *     float y = X0[i0];
 *     y += X1[i0];
 *     y += X2[i0];
 *     Y0[i0] = y / 3;
 *   }
 */
#include "../cnnc.h"

#include <limits.h>

typedef struct VariadicRow {
  OpKind kind;
  const char *step; /* printf format combining y with the next input's element (passed twice) */
  bool ints;        /* takes integer types too */
} VariadicRow;

/* Max and Min keep y when the comparison is false, so a NaN in a later input is skipped */
static const VariadicRow rows[] = {
    {OP_MAX, "y = %s > y ? %s : y;", true},
    {OP_MIN, "y = %s < y ? %s : y;", true},
    {OP_MEAN, "y += %s;", false},
    {OP_SUM, "y += %s;", false},
};

static const VariadicRow *find_row(OpKind kind) {
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
    if (rows[r].kind == kind)
      return &rows[r];
  cn_unreachable();
}

static void variadic_infer(Graph *g, Node *n) {
  (void)g;
  const VariadicRow *row = find_row(n->op->kind);
  DType t = n->in[0]->dtype;
  for (int i = 0; i < n->n_in; i++) {
    Value *x = node_in(n, i);
    if (!x)
      cn_error_node(n, "input %d is missing; %s takes no optional inputs", i, n->op->name);
    if (x->dtype != t)
      cn_error_node(n, "input %d has element type %s and input 0 %s; %s needs them all the same", i,
                    dtype_name(x->dtype), dtype_name(t), n->op->name);
  }
  check_input_type(n, 0, row->ints ? dtype_any_numeric : dtype_float_only, row->ints ? "a number" : "float or double");
  infer_broadcast(n, t);
}

static void variadic_fold(Graph *g, Node *n) {
  (void)g;
  Value *out = n->out[0];
  DType t = out->dtype;
  OpKind op = n->op->kind;
  for (int64_t i = 0; i < value_count(out); i++) {
    Scalar y = scalar_get(n->in[0], broadcast_offset(out, n->in[0], i));
    for (int k = 1; k < n->n_in; k++) {
      Scalar x = scalar_get(n->in[k], broadcast_offset(out, n->in[k], i));
      switch (op) {
      case OP_MAX: y = scalar_less(y, x, t) ? x : y; break;
      case OP_MIN: y = scalar_less(x, y, t) ? x : y; break;
      default: y = t == DT_FLOAT ? (Scalar){.f = y.f + x.f} : (Scalar){.d = y.d + x.d}; break;
      }
    }
    if (op == OP_MEAN)
      y = t == DT_FLOAT ? (Scalar){.f = y.f / (float)n->n_in} : (Scalar){.d = y.d / n->n_in};
    scalar_set(out, i, y);
  }
}

static void variadic_emit(Emitter *e, const Node *n) {
  const VariadicRow *row = find_row(n->op->kind);
  char **in_index = cn_alloc_array((size_t)n->n_in, sizeof *in_index), *out_index;
  int loops = emit_elementwise_loops(e, n->out[0], n->n_in, (const Value *const *)n->in, in_index, &out_index);
  emitf(e, "%s y = %s[%s];", dtype_ctype(n->out[0]->dtype), emit_in(n, 0), in_index[0]);
  for (int k = 1; k < n->n_in; k++) {
    char *x = cn_format("%s[%s]", emit_in(n, k), in_index[k]);
    emitf(e, row->step, x, x);
  }
  if (n->op->kind == OP_MEAN)
    emitf(e, "%s[%s] = y / %d;", emit_out(n, 0), out_index, n->n_in);
  else
    emitf(e, "%s[%s] = y;", emit_out(n, 0), out_index);
  emit_close(e, loops);
}

#define VARIADIC_OP(sym, ID, onnx_name)                                                                            \
  const OpDesc op_##sym = {                                                                                        \
      .kind = OP_##ID, .name = onnx_name, .min_in = 1, .max_in = INT_MAX, .min_out = 1, .max_out = 1,              \
      .infer = variadic_infer, .fold = variadic_fold, .emit = variadic_emit,                                       \
  };
VARIADIC_OP(max, MAX, "Max")
VARIADIC_OP(min, MIN, "Min")
VARIADIC_OP(mean, MEAN, "Mean")
VARIADIC_OP(sum, SUM, "Sum")
