/* Shape: the input's dimensions as a 1-D int64 tensor (dims[start:end] from opset 15). Every shape is static in
 * cnnc, so the output is a compile-time constant even when the input is computed at run time: infer sets its
 * data and folds the node, which lets the Shape -> Gather -> Concat -> Reshape chains that exporters write fold
 * into a plain Reshape. */
#include "../cnnc.h"

static void shape_op_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  /* negative start/end count from the end; both are then clamped into [0, rank] */
  int64_t start = attr_int(n, "start", 0), end = attr_int(n, "end", x->rank);
  if (start < 0)
    start += x->rank;
  if (end < 0)
    end += x->rank;
  start = start < 0 ? 0 : start > x->rank ? x->rank : start;
  end = end < 0 ? 0 : end > x->rank ? x->rank : end;
  int64_t count = end > start ? end - start : 0;
  Value *y = n->out[0];
  value_set_shape(y, n, DT_INT64, 1, &count);
  y->data = cn_alloc((size_t)value_bytes(y));
  for (int64_t i = 0; i < count; i++)
    ((int64_t *)y->data)[i] = x->dims[start + i];
  fold_mark_folded(n);
}

const OpDesc op_shape = {
    .kind = OP_SHAPE, .name = "Shape", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = shape_op_infer, /* no emit: infer always folds the node */
};
