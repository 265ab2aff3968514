/* Reshape, Flatten, Squeeze and Unsqueeze: the elements stay in the same row-major order and only the shape
 * changes, so the kernel is one memcpy (a later pass will alias the two buffers instead). */
#include "../cnnc.h"

#include <string.h>

static void copy_fold(Graph *g, Node *n) {
  (void)g;
  memcpy(n->out[0]->data, n->in[0]->data, (size_t)value_bytes(n->in[0]));
}

static void copy_emit(Emitter *e, const Node *n) {
  emitf(e, "memcpy(%s, %s, %lld);", emit_out(n, 0), emit_in(n, 0), (long long)value_bytes(n->in[0]));
}

/* The elements do not move, so the gradient is dY in X's shape. */
static void reshape_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  dx[0] = bw_reshape(g, n, dy[0], n->in[0]);
}

/* The target shape: the `shape` attribute before opset 5, the constant `shape` input since. */
static int64_t *reshape_target(Graph *g, Node *n, int *count) {
  if (g->opset >= 5)
    return node_const_ints(n, 1, "shape", count);
  int64_t *shape;
  *count = attr_ints(n, "shape", &shape);
  if (*count < 0)
    cn_error_node(n, "attribute 'shape' is required before opset 5");
  return shape;
}

static void reshape_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int count;
  int64_t *shape = reshape_target(g, n, &count);
  bool allow_zero = attr_int(n, "allowzero", 0) != 0;
  if (count > CN_MAX_RANK)
    cn_error_node(n, "the target shape has %d dimensions; cnnc supports up to %d", count, CN_MAX_RANK);
  int64_t dims[CN_MAX_RANK];
  int inferred = -1;
  int64_t known = 1; /* product of the dims other than the -1 */
  for (int i = 0; i < count; i++) {
    int64_t d = shape[i];
    if (d == -1) {
      if (inferred >= 0)
        cn_error_node(n, "the target shape has -1 at %d and at %d; at most one dimension can be inferred", inferred,
                      i);
      inferred = i;
      continue;
    }
    if (d == 0 && !allow_zero) {
      /* 0 means "the same as the input's dimension i" unless allowzero says it is a real 0 */
      if (i >= x->rank)
        cn_error_node(n, "target dimension %d is 0 (copy the input's), but the input %s has only %d dimensions", i,
                      value_shape_string(x), x->rank);
      d = x->dims[i];
    }
    if (d < 0)
      cn_error_node(n, "target dimension %d is %lld; dimensions must be >= -1", i, (long long)d);
    dims[i] = d;
    known = cn_mul_size(known, d);
    if (known < 0)
      cn_error_node(n, "the target shape is too large");
  }
  int64_t total = value_count(x);
  if (inferred >= 0) {
    if (known == 0)
      cn_error_node(n, "cannot infer the -1 dimension: the other target dimensions hold 0 elements");
    if (total % known != 0)
      cn_error_node(n, "cannot reshape %s (%lld elements) with a -1 dimension: %lld is not a multiple of %lld",
                    value_shape_string(x), (long long)total, (long long)total, (long long)known);
    dims[inferred] = total / known;
  } else if (known != total) {
    Value target = {.rank = count};
    memcpy(target.dims, dims, (size_t)count * sizeof *dims);
    cn_error_node(n, "cannot reshape %s (%lld elements) to %s (%lld elements)", value_shape_string(x),
                  (long long)total, value_shape_string(&target), (long long)known);
  }
  value_set_shape(n->out[0], n, x->dtype, count, dims);
}

const OpDesc op_reshape = {
    .kind = OP_RESHAPE, .name = "Reshape", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = reshape_infer, .fold = copy_fold, .emit = copy_emit, .grad = reshape_grad,
};

static void flatten_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  int64_t axis = attr_int(n, "axis", 1);
  /* unlike most axes, Flatten's may equal the rank: everything goes into the first dimension */
  if (axis < -x->rank || axis > x->rank)
    cn_error_node(n, "axis %lld is out of range for rank %d (expected %d to %d)", (long long)axis, x->rank, -x->rank,
                  x->rank);
  if (axis < 0)
    axis += x->rank;
  int64_t dims[2] = {1, 1};
  for (int i = 0; i < x->rank; i++)
    dims[i < axis ? 0 : 1] *= x->dims[i];
  value_set_shape(n->out[0], n, x->dtype, 2, dims);
}

const OpDesc op_flatten = {
    .kind = OP_FLATTEN, .name = "Flatten", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = flatten_infer, .fold = copy_fold, .emit = copy_emit, .grad = reshape_grad,
};

/* Squeeze's and Unsqueeze's axes: an attribute before opset 13, the constant input 1 since. Returns the count,
 * or -1 when they are absent. */
static int squeeze_axes(Graph *g, Node *n, int64_t **axes) {
  int count = -1;
  if (g->opset < 13)
    count = attr_ints(n, "axes", axes);
  else if (node_in(n, 1))
    *axes = node_const_ints(n, 1, "axes", &count);
  return count;
}

/* Normalizes axes against `rank` into a mask of the chosen axes; repeated axes are errors. */
static void axes_mask(const Node *n, int count, const int64_t *axes, int rank, bool *mask) {
  for (int i = 0; i < count; i++) {
    if (axes[i] < -rank || axes[i] >= rank)
      cn_error_node(n, "axis %lld is out of range for rank %d", (long long)axes[i], rank);
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (mask[a])
      cn_error_node(n, "axis %lld is listed twice", (long long)axes[i]);
    mask[a] = true;
  }
}

static void squeeze_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int64_t *axes;
  int count = squeeze_axes(g, n, &axes);
  bool squeezed[CN_MAX_RANK] = {false};
  if (count < 0) {
    for (int i = 0; i < x->rank; i++)
      squeezed[i] = x->dims[i] == 1;
  } else {
    axes_mask(n, count, axes, x->rank, squeezed);
  }
  int64_t dims[CN_MAX_RANK];
  int rank = 0;
  for (int i = 0; i < x->rank; i++) {
    if (!squeezed[i]) {
      dims[rank++] = x->dims[i];
      continue;
    }
    if (x->dims[i] != 1)
      cn_error_node(n, "cannot squeeze axis %d of the input %s: its size is %lld, not 1", i, value_shape_string(x),
                    (long long)x->dims[i]);
  }
  value_set_shape(n->out[0], n, x->dtype, rank, dims);
}

const OpDesc op_squeeze = {
    .kind = OP_SQUEEZE, .name = "Squeeze", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = squeeze_infer, .fold = copy_fold, .emit = copy_emit, .grad = reshape_grad,
};

static void unsqueeze_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int64_t *axes;
  int count = squeeze_axes(g, n, &axes);
  if (count < 0)
    cn_error_node(n, g->opset < 13 ? "attribute 'axes' is required" : "input 1 (axes) is required");
  int rank = x->rank + count;
  if (rank > CN_MAX_RANK)
    cn_error_node(n, "the output would have rank %d; cnnc supports up to %d", rank, CN_MAX_RANK);
  /* the axes index the output, so they are normalized against its rank */
  bool inserted[CN_MAX_RANK] = {false};
  axes_mask(n, count, axes, rank, inserted);
  int64_t dims[CN_MAX_RANK];
  for (int i = 0, from = 0; i < rank; i++)
    dims[i] = inserted[i] ? 1 : x->dims[from++];
  value_set_shape(n->out[0], n, x->dtype, rank, dims);
}

const OpDesc op_unsqueeze = {
    .kind = OP_UNSQUEEZE, .name = "Unsqueeze", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = unsqueeze_infer, .fold = copy_fold, .emit = copy_emit, .grad = reshape_grad,
};
