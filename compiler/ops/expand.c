/* Expand and Tile: both repeat the input, so both are strided copies. Expand broadcasts (axes of size 1 read
 * with step 0); Tile splits output axis k into [repeats, size] and reads the input with steps [0, stride]. */
#include "../cnnc.h"

static void expand_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  int count;
  int64_t *shape = node_const_ints(n, 1, "shape", &count);
  if (count > CN_MAX_RANK)
    cn_error_node(n, "the shape has %d dimensions; cnnc supports up to %d", count, CN_MAX_RANK);
  for (int k = 0; k < count; k++)
    if (shape[k] < 0)
      cn_error_node(n, "shape dimension %d is %lld; dimensions must be >= 0", k, (long long)shape[k]);
  int rank;
  int64_t dims[CN_MAX_RANK];
  /* bidirectional: the output is the broadcast of the input and the shape, so it can be larger than both */
  if (!broadcast_shapes(x->rank, x->dims, count, shape, &rank, dims)) {
    Value target = {.rank = count};
    for (int k = 0; k < count; k++)
      target.dims[k] = shape[k];
    cn_error_node(n, "the input %s does not broadcast to the shape %s", value_shape_string(x),
                  value_shape_string(&target));
  }
  value_set_shape(n->out[0], n, x->dtype, rank, dims);

  StridedCopy *c = cn_alloc(sizeof *c);
  int64_t in_strides[CN_MAX_RANK];
  shape_strides(x->rank, x->dims, in_strides);
  c->rank = rank;
  for (int k = 0; k < rank; k++) {
    int from = k - (rank - x->rank); /* inputs align at the right */
    c->dims[k] = dims[k];
    c->src_step[k] = from >= 0 && x->dims[from] != 1 ? in_strides[from] : 0;
  }
  shape_strides(rank, dims, c->dst_step);
  n->params = c;
}

const OpDesc op_expand = {
    .kind = OP_EXPAND, .name = "Expand", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = expand_infer, .fold = strided_copy_fold, .emit = strided_copy_emit,
};

static void tile_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (g->opset < 6)
    cn_error_node(n, "Tile before opset 6 (tiles and axis inputs) is not supported; re-export with opset 6 or newer");
  int count;
  int64_t *repeats = node_const_ints(n, 1, "repeats", &count);
  if (count != x->rank)
    cn_error_node(n, "repeats has %d entries; the input %s has rank %d", count, value_shape_string(x), x->rank);
  int64_t dims[CN_MAX_RANK];
  for (int k = 0; k < x->rank; k++) {
    dims[k] = cn_mul_size(x->dims[k], repeats[k]);
    if (dims[k] < 0)
      cn_error_node(n, "repeats[%d] is %lld; repeats must be >= 0 and the output not too large", k,
                    (long long)repeats[k]);
  }
  value_set_shape(n->out[0], n, x->dtype, x->rank, dims);

  /* output index on axis k is r * size + i for repeat r and element i, so walking [r0, i0, r1, i1, ...] in order
   * writes the output in row-major order */
  StridedCopy *c = cn_alloc(sizeof *c);
  int64_t in_strides[CN_MAX_RANK], out_strides[CN_MAX_RANK];
  shape_strides(x->rank, x->dims, in_strides);
  shape_strides(x->rank, dims, out_strides);
  c->rank = 2 * x->rank;
  for (int k = 0; k < x->rank; k++) {
    c->dims[2 * k] = repeats[k];
    c->src_step[2 * k] = 0;
    c->dst_step[2 * k] = x->dims[k] * out_strides[k];
    c->dims[2 * k + 1] = x->dims[k];
    c->src_step[2 * k + 1] = in_strides[k];
    c->dst_step[2 * k + 1] = out_strides[k];
  }
  n->params = c;
}

const OpDesc op_tile = {
    .kind = OP_TILE, .name = "Tile", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = tile_infer, .fold = strided_copy_fold, .emit = strided_copy_emit,
};
