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

/* dX_i is input i's band of dY: ConcatGrad(dY) -> dX_0, dX_1, ... (NULL where no gradient is needed), each the
 * forward's strided copy run backwards. */
typedef struct ConcatGradParams {
  StridedCopy *copies; /* from dY's band into dX_i */
  Value **shapes;      /* of the forward's inputs */
} ConcatGradParams;

static void concat_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  const StridedCopy *forward = n->params;
  ConcatGradParams *q = cn_alloc(sizeof *q);
  q->copies = cn_alloc_array((size_t)n->n_in, sizeof *q->copies);
  q->shapes = n->in;
  for (int i = 0; i < n->n_in; i++) {
    StridedCopy c = forward[i];
    q->copies[i] = c;
    q->copies[i].src_base = c.dst_base;
    q->copies[i].dst_base = c.src_base;
    for (int k = 0; k < c.rank; k++) {
      q->copies[i].src_step[k] = c.dst_step[k];
      q->copies[i].dst_step[k] = c.src_step[k];
    }
  }
  Node *b = bw_node(g, n, OP_CONCAT_GRAD, 1, dy, n->n_in);
  for (int i = 0; i < n->n_in; i++)
    if (!n->in[i]->requires_grad)
      b->out[i] = NULL;
  b->params = q;
  bw_finish(g, b);
  for (int i = 0; i < n->n_in; i++)
    dx[i] = b->out[i];
}

const OpDesc op_concat = {
    .kind = OP_CONCAT, .name = "Concat", .min_in = 1, .max_in = INT_MAX, .min_out = 1, .max_out = 1,
    .infer = concat_infer, .fold = concat_fold, .emit = concat_emit, .grad = concat_grad,
};

static void concat_grad_infer(Graph *g, Node *n) {
  (void)g;
  const ConcatGradParams *p = n->params;
  CN_ASSERT(p);
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i])
      value_set_shape(n->out[i], n, n->in[0]->dtype, p->shapes[i]->rank, p->shapes[i]->dims);
}

static void concat_grad_emit(Emitter *e, const Node *n) {
  const ConcatGradParams *p = n->params;
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i])
      emit_strided_copy(e, &p->copies[i], emit_out(n, i), emit_in(n, 0));
}

const OpDesc op_concat_grad = {
    .kind = OP_CONCAT_GRAD, .name = "ConcatGrad", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = INT_MAX,
    .infer = concat_grad_infer, .emit = concat_grad_emit, .internal = true,
};
