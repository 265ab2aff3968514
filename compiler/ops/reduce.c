/* ReduceMean, ReduceMax, ReduceSum over a set of axes (the `axes` attribute, or the constant `axes` input
 * where the opset moved it there: ReduceSum from 13, all from 18). No axes means all of them, unless
 * noop_with_empty_axes makes the op an identity.
 *
 * The kernel reads the input once in row-major order and combines each element into its output slot:
 * the output index is the input index with the reduced axes' terms left out. */
#include "../cnnc.h"

#include <math.h>
#include <string.h>

typedef struct ReduceParams {
  bool identity; /* noop_with_empty_axes with no axes */
  int rank;
  int64_t kept[CN_MAX_RANK]; /* the input's dims with reduced axes set to 1 (the keepdims shape) */
  int64_t count;             /* elements combined into each output */
} ReduceParams;

/* Reads the axes to reduce into `reduced` (indexed by axis); returns false when none are given. */
static bool read_axes(const Node *n, int rank, bool *reduced) {
  Value *input = node_in(n, 1);
  int64_t *attr = NULL;
  int count;
  if (input) {
    node_const_in(n, 1, "axes");
    if (input->rank != 1 || (input->dtype != DT_INT64 && input->dtype != DT_INT32))
      cn_error_node(n, "axes must be a 1-D int64 tensor; got %s%s", dtype_name(input->dtype),
                    value_shape_string(input));
    count = (int)value_count(input);
  } else {
    count = attr_ints(n, "axes", &attr);
  }
  if (count <= 0)
    return false;
  for (int i = 0; i < count; i++) {
    int64_t axis = normalize_axis(n, input ? value_get_int(input, i) : attr[i], rank);
    if (reduced[axis])
      cn_error_node(n, "axis %lld is listed twice in axes", (long long)axis);
    reduced[axis] = true;
  }
  return true;
}

static void reduce_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  check_input_type(n, 0, dtype_any_numeric, "a numeric type");
  ReduceParams *p = cn_alloc(sizeof *p);
  n->params = p;
  bool reduced[CN_MAX_RANK] = {false};
  if (!read_axes(n, x->rank, reduced)) {
    if (attr_flag(n, "noop_with_empty_axes", false)) {
      p->identity = true;
      infer_same_as_input(n, 0);
      return;
    }
    for (int i = 0; i < x->rank; i++)
      reduced[i] = true;
  }
  bool keepdims = attr_flag(n, "keepdims", true);
  int64_t dims[CN_MAX_RANK];
  int rank = 0;
  p->rank = x->rank;
  p->count = 1;
  for (int i = 0; i < x->rank; i++) {
    p->kept[i] = reduced[i] ? 1 : x->dims[i];
    if (reduced[i])
      p->count *= x->dims[i];
    if (!reduced[i] || keepdims)
      dims[rank++] = p->kept[i];
  }
  if (p->count == 0 && n->op->kind != OP_REDUCE_SUM)
    cn_error_node(n, "reduces over an empty dimension of %s; the %s of no elements is undefined", value_shape_string(x),
                  n->op->kind == OP_REDUCE_MAX ? "maximum" : "mean");
  value_set_shape(n->out[0], n, x->dtype, rank, dims);
}

/* The smallest value of an element type, where ReduceMax starts. */
static double lowest(DType t) {
  switch (t) {
  case DT_FLOAT:
  case DT_DOUBLE: return -INFINITY;
  case DT_INT8: return INT8_MIN;
  case DT_INT16: return INT16_MIN;
  case DT_INT32: return INT32_MIN;
  case DT_INT64: return (double)INT64_MIN;
  default: return 0;
  }
}

static void reduce_emit(Emitter *e, const Node *n) {
  const ReduceParams *p = n->params;
  Value *x = n->in[0], *y = n->out[0];
  const char *X = emit_in(n, 0), *Y = emit_out(n, 0);
  if (p->identity) {
    emitf(e, "/* no axes and noop_with_empty_axes: a copy */");
    emitf(e, "memcpy(%s, %s, %lld);", Y, X, (long long)value_bytes(x));
    return;
  }
  OpKind kind = n->op->kind;
  long long out_count = (long long)value_count(y);
  emitf(e, "for (int64_t o = 0; o < %lld; o++) {", out_count);
  emitf(e, "%s[o] = %s;", Y, kind == OP_REDUCE_MAX ? emit_lowest(y->dtype) : "0");
  emitf(e, "}");
  int loops = emit_loops(e, x->rank, x->dims, "i");
  char *in = cn_format("%s[%s]", X, emit_broadcast_index(x->rank, x->rank, x->dims, "i"));
  char *out = cn_format("%s[%s]", Y, emit_broadcast_index(x->rank, p->rank, p->kept, "i"));
  if (kind == OP_REDUCE_MAX)
    emitf(e, "%s = %s > %s ? %s : %s;", out, in, out, in, out);
  else
    emitf(e, "%s += %s;", out, in);
  emit_close(e, loops);
  if (kind == OP_REDUCE_MEAN && p->count != 1) {
    emitf(e, "for (int64_t o = 0; o < %lld; o++) {", out_count);
    emitf(e, "%s[o] /= %lld;", Y, (long long)p->count);
    emitf(e, "}");
  }
}

/* The emitted kernel run at compile time. Each step goes through the output's element type, as at run time. */
static void reduce_fold(Graph *g, Node *n) {
  (void)g;
  const ReduceParams *p = n->params;
  Value *x = n->in[0], *y = n->out[0];
  if (p->identity) {
    memcpy(y->data, x->data, (size_t)value_bytes(x));
    return;
  }
  OpKind kind = n->op->kind;
  int64_t out_count = value_count(y);
  for (int64_t o = 0; o < out_count; o++)
    value_set_double(y, o, kind == OP_REDUCE_MAX ? lowest(y->dtype) : 0);
  int64_t out_strides[CN_MAX_RANK], index[CN_MAX_RANK] = {0};
  shape_strides(p->rank, p->kept, out_strides);
  int64_t in_count = value_count(x);
  for (int64_t i = 0; i < in_count; i++) {
    int64_t o = 0;
    for (int a = 0; a < p->rank; a++)
      o += p->kept[a] == 1 ? 0 : index[a] * out_strides[a];
    double in = value_get_double(x, i), out = value_get_double(y, o);
    value_set_double(y, o, kind == OP_REDUCE_MAX ? (in > out ? in : out) : out + in);
    for (int a = p->rank - 1; a >= 0 && ++index[a] == x->dims[a]; a--)
      index[a] = 0;
  }
  if (kind == OP_REDUCE_MEAN && p->count != 1)
    for (int64_t o = 0; o < out_count; o++)
      value_set_double(y, o, value_get_double(y, o) / (double)p->count);
}

/* ReduceSum and ReduceMean spread dy back over the axes they reduced (divided by the count for the mean). */
static void reduce_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  const ReduceParams *p = n->params;
  Value *x = n->in[0];
  if (p->identity) {
    dx[0] = dy[0];
    return;
  }
  Value kept = {.rank = p->rank};
  memcpy(kept.dims, p->kept, (size_t)p->rank * sizeof *p->kept);
  Value *d = bw_reshape(g, n, dy[0], &kept);
  if (n->op->kind == OP_REDUCE_MEAN)
    d = bw_binary(g, n, OP_DIV, d, bw_scalar(g, x->dtype, (double)p->count));
  Value *ins[2] = {d, bw_ints(g, x->rank, x->dims)};
  dx[0] = bw_finish(g, bw_node(g, n, OP_EXPAND, 2, ins, 1));
}

const OpDesc op_reduce_mean = {
    .kind = OP_REDUCE_MEAN, .name = "ReduceMean", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = reduce_infer, .fold = reduce_fold, .emit = reduce_emit, .grad = reduce_grad,
};

const OpDesc op_reduce_max = {
    .kind = OP_REDUCE_MAX, .name = "ReduceMax", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = reduce_infer, .fold = reduce_fold, .emit = reduce_emit,
};

const OpDesc op_reduce_sum = {
    .kind = OP_REDUCE_SUM, .name = "ReduceSum", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = reduce_infer, .fold = reduce_fold, .emit = reduce_emit, .grad = reduce_grad,
};

/* ReduceSumTo: the backward's sum over broadcast axes (bw_sum_kept). Attributes: `kept`, the input's dims with
 * the summed axes set to 1, and `shape`, the output's (same element count as kept). The kernel is ReduceSum's. */
static void reduce_sum_to_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  int64_t *kept, *shape;
  int n_kept = attr_ints(n, "kept", &kept), n_shape = attr_ints(n, "shape", &shape);
  CN_ASSERT(n_kept == x->rank && n_shape >= 0);
  ReduceParams *p = cn_alloc(sizeof *p);
  p->rank = x->rank;
  p->count = 1;
  int64_t kept_count = 1;
  for (int i = 0; i < x->rank; i++) {
    CN_ASSERT(kept[i] == 1 || kept[i] == x->dims[i]);
    p->kept[i] = kept[i];
    kept_count *= kept[i];
    if (kept[i] != x->dims[i])
      p->count *= x->dims[i];
  }
  n->params = p;
  value_set_shape(n->out[0], n, x->dtype, n_shape, shape);
  CN_ASSERT(value_count(n->out[0]) == kept_count);
}

const OpDesc op_reduce_sum_to = {
    .kind = OP_REDUCE_SUM_TO, .name = "ReduceSumTo", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = reduce_sum_to_infer, .emit = reduce_emit, .internal = true,
};
