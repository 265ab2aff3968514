/* Slice: along each axis, elements start, start + step, ... up to (not including) end. Every output element
 * reads input offset sum((start_k + i_k * step_k) * stride_k), which is a strided copy. */
#include "../cnnc.h"

/* Slice's parameters as lists: attributes before opset 10, constant inputs since (steps from opset 10 only). */
typedef struct SliceArgs {
  int count;
  int64_t *starts, *ends, *axes, *steps; /* axes and steps NULL when absent */
} SliceArgs;

/* One of the lists, from the attribute `name` or from input `input`; NULL (and *count -1) when absent. */
static int64_t *slice_list(Graph *g, Node *n, int input, const char *name, bool required, int *count) {
  int64_t *list = NULL;
  *count = -1;
  if (g->opset < 10)
    *count = attr_ints(n, name, &list);
  else if (node_in(n, input))
    list = node_const_ints(n, input, name, count);
  if (required && *count < 0 && g->opset < 10)
    cn_error_node(n, "attribute '%s' is required", name);
  if (required && *count < 0)
    cn_error_node(n, "input %d (%s) is required", input, name);
  if (*count >= 0 && !list)
    list = cn_alloc(sizeof *list); /* an empty list */
  return *count < 0 ? NULL : list;
}

static SliceArgs slice_args(Graph *g, Node *n) {
  SliceArgs a;
  int n_ends, n_axes = 0, n_steps = 0;
  a.starts = slice_list(g, n, 1, "starts", true, &a.count);
  a.ends = slice_list(g, n, 2, "ends", true, &n_ends);
  a.axes = slice_list(g, n, 3, "axes", false, &n_axes);
  a.steps = g->opset < 10 ? NULL : slice_list(g, n, 4, "steps", false, &n_steps);
  if (n_ends != a.count)
    cn_error_node(n, "starts has %d entries but ends has %d", a.count, n_ends);
  if (a.axes && n_axes != a.count)
    cn_error_node(n, "starts has %d entries but axes has %d", a.count, n_axes);
  if (a.steps && n_steps != a.count)
    cn_error_node(n, "starts has %d entries but steps has %d", a.count, n_steps);
  return a;
}

static int64_t clamp(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : x > hi ? hi : x; }

static void slice_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  SliceArgs a = slice_args(g, n);
  if (a.count > x->rank)
    cn_error_node(n, "%d axes are sliced but the input %s has rank %d", a.count, value_shape_string(x), x->rank);
  int64_t start[CN_MAX_RANK], step[CN_MAX_RANK], dims[CN_MAX_RANK];
  bool sliced[CN_MAX_RANK] = {false};
  for (int k = 0; k < x->rank; k++) {
    start[k] = 0;
    step[k] = 1;
    dims[k] = x->dims[k];
  }
  for (int i = 0; i < a.count; i++) {
    int64_t axis = a.axes ? a.axes[i] : i;
    if (axis < -x->rank || axis >= x->rank)
      cn_error_node(n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
    if (axis < 0)
      axis += x->rank;
    if (sliced[axis])
      cn_error_node(n, "axis %lld is sliced twice", (long long)axis);
    sliced[axis] = true;
    int64_t s = a.steps ? a.steps[i] : 1;
    if (s == 0)
      cn_error_node(n, "step %d is 0", i);
    /* negative starts and ends count from the end; then they are clamped into the axis as the spec says:
     * [0, size] stepping forwards, [0, size - 1] for starts and [-1, size - 1] for ends stepping backwards */
    int64_t size = x->dims[axis];
    int64_t b = a.starts[i] < 0 ? a.starts[i] + size : a.starts[i];
    int64_t e = a.ends[i] < 0 ? a.ends[i] + size : a.ends[i];
    int64_t count;
    if (s > 0) {
      b = clamp(b, 0, size);
      e = clamp(e, 0, size);
      count = e > b ? (e - b - 1) / s + 1 : 0;
    } else {
      b = clamp(b, 0, size - 1);
      e = clamp(e, -1, size - 1);
      int64_t back = s == INT64_MIN ? INT64_MAX : -s; /* -INT64_MIN overflows; both skip past any axis */
      count = b > e ? (b - e - 1) / back + 1 : 0;
    }
    start[axis] = b;
    step[axis] = count > 1 ? s : 1; /* a step that skips past the end is never taken; |step| < size otherwise */
    dims[axis] = count;
  }
  value_set_shape(n->out[0], n, x->dtype, x->rank, dims);

  StridedCopy *c = cn_alloc(sizeof *c);
  int64_t strides[CN_MAX_RANK];
  shape_strides(x->rank, x->dims, strides);
  c->rank = x->rank;
  for (int k = 0; k < x->rank; k++) {
    c->dims[k] = dims[k];
    c->src_base += start[k] * strides[k];
    c->src_step[k] = step[k] * strides[k];
  }
  shape_strides(x->rank, dims, c->dst_step);
  n->params = c;
}

const OpDesc op_slice = {
    .kind = OP_SLICE, .name = "Slice", .min_in = 1, .max_in = 5, .min_out = 1, .max_out = 1,
    .infer = slice_infer, .fold = strided_copy_fold, .emit = strided_copy_emit,
};
