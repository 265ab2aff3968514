/* Concat: the inputs are laid side by side along `axis`. Viewed as [outer, axis * inner] matrices, each input
 * copies its rows into a column band of the output's rows. */
#include "../cnnc.h"

#include <limits.h>

static void concat_infer(Graph *g, Node *n) {
  /* opset 4 made axis required; opset 1 defaulted it to 1 */
  if (g->opset >= 4 && !node_attr(n, "axis"))
    cn_error_node(n, "attribute 'axis' is required");
  for (int i = 0; i < n->n_in; i++)
    if (!n->in[i])
      cn_error_node(n, "input %d is missing; Concat inputs cannot be omitted", i);
  Value *first = n->in[0];
  if (first->rank == 0)
    cn_error_node(n, "cannot concatenate scalars: the inputs need rank 1 or more");
  int64_t axis = normalize_axis(n, attr_int(n, "axis", 1), first->rank);
  int64_t dims[CN_MAX_RANK];
  for (int k = 0; k < first->rank; k++)
    dims[k] = first->dims[k];
  dims[axis] = 0;
  for (int i = 0; i < n->n_in; i++) {
    Value *x = n->in[i];
    if (x->dtype != first->dtype)
      cn_error_node(n, "input %d has element type %s; input 0 has %s", i, dtype_name(x->dtype),
                    dtype_name(first->dtype));
    if (x->rank != first->rank)
      cn_error_node(n, "input %d has shape %s; input 0 has %s, of a different rank", i, value_shape_string(x),
                    value_shape_string(first));
    for (int k = 0; k < x->rank; k++)
      if (k != axis && x->dims[k] != first->dims[k])
        cn_error_node(n, "input %d has shape %s; input 0 has %s: they may differ only in axis %lld", i,
                      value_shape_string(x), value_shape_string(first), (long long)axis);
    dims[axis] += x->dims[axis];
  }
  value_set_shape(n->out[0], n, first->dtype, first->rank, dims);

  int64_t outer = 1, inner = 1;
  for (int k = 0; k < first->rank; k++) {
    if (k < axis)
      outer *= dims[k];
    if (k > axis)
      inner *= dims[k];
  }
  StridedCopy *copies = cn_alloc_array((size_t)n->n_in, sizeof *copies);
  int64_t offset = 0; /* where input i's band starts along the axis */
  for (int i = 0; i < n->n_in; i++) {
    int64_t band = n->in[i]->dims[axis] * inner;
    copies[i] = (StridedCopy){
        .rank = 2,
        .dims = {outer, band},
        .src_step = {band, 1},
        .dst_base = offset * inner,
        .dst_step = {dims[axis] * inner, 1},
    };
    offset += n->in[i]->dims[axis];
  }
  n->params = copies;
}

static void concat_fold(Graph *g, Node *n) {
  (void)g;
  const StridedCopy *copies = n->params;
  for (int i = 0; i < n->n_in; i++)
    strided_copy_run(&copies[i], n->out[0]->data, n->in[i]->data, dtype_size(n->in[i]->dtype));
}

static void concat_emit(Emitter *e, const Node *n) {
  const StridedCopy *copies = n->params;
  for (int i = 0; i < n->n_in; i++) {
    if (n->in[i]->alias_of == n->out[0])
      continue; /* its producer wrote it in place (views.c) */
    emit_strided_copy(e, &copies[i], emit_out(n, 0), emit_in(n, i));
  }
}

const OpDesc op_concat = {
    .kind = OP_CONCAT, .name = "Concat", .min_in = 1, .max_in = INT_MAX, .min_out = 1, .max_out = 1,
    .infer = concat_infer, .fold = concat_fold, .emit = concat_emit,
};
