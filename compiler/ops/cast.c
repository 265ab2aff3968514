/* Cast: converts every element to the type `to` names, as a C cast does: float to integer truncates toward zero
 * (out-of-range values are undefined, in ONNX too), anything to bool is x != 0. The generated code is
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

static void cast_infer(Graph *g, Node *n) {
  (void)g;
  const Attr *to = node_attr(n, "to");
  if (!to)
    cn_error_node(n, "the attribute 'to' is required");
  DType t = to->type == ATTR_STRING ? type_named(n, to->s) : (DType)attr_int(n, "to", 0);
  if (!dtype_supported(t))
    cn_error_node(n, "casts to %s, which cnnc does not support (it has float, double, bool and the integer types)",
                  dtype_name(t));
  Value *x = n->in[0];
  value_set_shape(n->out[0], n, t, x->rank, x->dims);
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
