/* Cast: converts every element to the type `to` names, as a C cast does: float to integer truncates toward zero
 * (out-of-range values are undefined, in ONNX too), anything to bool is x != 0. CastLike (opset 15) converts
 * to the element type of its second input instead. The generated code is
 *
 *   for (int64_t i0 = 0; i0 < 12; i0++) {
 *     Y0[i0] = (int64_t)X0[i0];
 *   }
 */
#include "../cnnc.h"

#include <strings.h>

/* Before opset 6, `to` is a string naming a TensorProto.DataType ("FLOAT", "INT64", ...). */
static DType type_named(const Node *n, const char *name) {
  for (DType t = DT_FLOAT; t <= DT_BFLOAT16; t++)
    if (strcasecmp(name, dtype_name(t)) == 0)
      return t;
  cn_error_node(n, "to = '%s' names no ONNX element type", cn_escape_c_string(name, 100));
}

/* Sets the output to x's shape in element type t. Opset 19's `saturate` only concerns the float8 types, which
 * cnnc does not have, so any valid value changes nothing. */
static void set_cast_output(Graph *g, Node *n, DType t) {
  if (g->opset >= 19)
    attr_flag(n, "saturate", true);
  if (!dtype_supported(t))
    cn_error_node(n, "casts to %s, which cnnc does not support (it has float, double, bool and the integer types)",
                  dtype_name(t));
  Value *x = n->in[0];
  value_set_shape(n->out[0], n, t, x->rank, x->dims);
}

static void cast_infer(Graph *g, Node *n) {
  const Attr *to = node_attr(n, "to");
  if (!to)
    cn_error_node(n, "the attribute 'to' is required");
  set_cast_output(g, n, to->type == ATTR_STRING ? type_named(n, to->s) : (DType)attr_int(n, "to", 0));
}

static void cast_fold(Graph *g, Node *n);

/* The second input only lends its type, so a constant first input folds even when the second is computed at run
 * time (the dynamo exporter casts attribute constants like a run-time tensor). */
static void cast_like_infer(Graph *g, Node *n) {
  set_cast_output(g, n, n->in[1]->dtype);
  if (n->in[0]->data && !n->in[1]->data) {
    n->out[0]->data = cn_alloc((size_t)value_bytes(n->out[0]));
    cast_fold(g, n);
    fold_mark_folded(n);
  }
}

static void cast_fold(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0], *out = n->out[0];
  for (int64_t i = 0; i < value_count(out); i++)
    scalar_set(out, i, scalar_convert(scalar_get(x, i), x->dtype, out->dtype));
}

static void cast_emit(Emitter *e, const Node *n) {
  const Value *x = n->in[0];
  char *in_index, *out_index;
  int loops = emit_elementwise_loops(e, n->out[0], 1, &x, &in_index, &out_index);
  emitf(e, "%s[%s] = (%s)%s[%s];", emit_out(n, 0), out_index, dtype_ctype(n->out[0]->dtype), emit_in(n, 0), in_index);
  emit_close(e, loops);
}

const OpDesc op_cast = {
    .kind = OP_CAST, .name = "Cast", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = cast_infer, .fold = cast_fold, .emit = cast_emit,
};

const OpDesc op_cast_like = {
    .kind = OP_CAST_LIKE, .name = "CastLike", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = cast_like_infer, .fold = cast_fold, .emit = cast_emit,
};
