/* Transpose: output axis k is input axis perm[k]. The kernel walks the output in order and reads the input
 * with the permuted (constant) strides. */
#include "../cnnc.h"

static void transpose_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  int64_t *perm;
  int count = attr_ints(n, "perm", &perm);
  int64_t reversed[CN_MAX_RANK];
  if (count < 0) {
    for (int k = 0; k < x->rank; k++)
      reversed[k] = x->rank - 1 - k;
    perm = reversed;
    count = x->rank;
  }
  if (count != x->rank)
    cn_error_node(n, "perm has %d entries; the input %s has rank %d", count, value_shape_string(x), x->rank);
  bool seen[CN_MAX_RANK] = {false};
  for (int k = 0; k < count; k++) {
    if (perm[k] < 0 || perm[k] >= x->rank || seen[perm[k]])
      cn_error_node(n, "perm is not a permutation of 0..%d: entry %d is %lld", x->rank - 1, k, (long long)perm[k]);
    seen[perm[k]] = true;
  }

  StridedCopy *c = cn_alloc(sizeof *c);
  int64_t in_strides[CN_MAX_RANK], dims[CN_MAX_RANK];
  shape_strides(x->rank, x->dims, in_strides);
  c->rank = x->rank;
  for (int k = 0; k < x->rank; k++) {
    dims[k] = c->dims[k] = x->dims[perm[k]];
    c->src_step[k] = in_strides[perm[k]];
  }
  shape_strides(x->rank, dims, c->dst_step);
  n->params = c;
  value_set_shape(n->out[0], n, x->dtype, x->rank, dims);
}

/* dX is dY transposed back: input axis perm[k] is output axis k. */
static void transpose_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  Value *x = n->in[0];
  int64_t *perm, inverse[CN_MAX_RANK];
  if (attr_ints(n, "perm", &perm) < 0)
    for (int k = 0; k < x->rank; k++)
      inverse[k] = x->rank - 1 - k;
  else
    for (int k = 0; k < x->rank; k++)
      inverse[perm[k]] = k;
  Node *b = bw_node(g, n, OP_TRANSPOSE, 1, dy, 1);
  bw_attr_ints(b, "perm", x->rank, inverse);
  dx[0] = bw_finish(g, b);
}

const OpDesc op_transpose = {
    .kind = OP_TRANSPOSE, .name = "Transpose", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = transpose_infer, .fold = strided_copy_fold, .emit = strided_copy_emit, .grad = transpose_grad,
};
