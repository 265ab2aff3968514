/* LayerNormalization (opset 17) and GroupNormalization (opsets 18, 21): normalize contiguous blocks of the input
 * by their own mean and variance, then scale and shift.
 *
 *   LayerNormalization: the blocks are the trailing axes from `axis` on; Scale and B broadcast to them.
 *                       Optional outputs Mean and InvStdDev (1 / sqrt(var + epsilon)) per block.
 *   GroupNormalization: the blocks are the C / num_groups channels of a group (with their spatial axes) of one
 *                       sample; scale and bias have one value per group at opset 18, per channel from 21.
 *
 * As in InstanceNormalization, the statistics take two passes in double (mean, then the mean squared deviation),
 * and the generated code is one loop over the blocks:
 *
 *   for (int64_t b = 0; b < 6; b++) {
 *     const float *x = X0 + b * 20;
 *     ... mean and inv_std_dev of x[0..20) ...
 *     for (int64_t j0 = 0; j0 < 4; j0++) {
 *       for (int64_t j1 = 0; j1 < 5; j1++) {
 *         y[j0 * 5 + j1] = (x[j0 * 5 + j1] - mean) * inv_std_dev * X1[j1] + X2[j1];
 *       }
 *     }
 *   }
 *
 * stash_type, the precision of the statistics, must be 1 (float): double statistics are at least as precise. */
#include "../cnnc.h"

#include <math.h>

typedef struct NormParams {
  int64_t blocks, size; /* blocks of `size` elements */
  double epsilon;
  /* how the block's elements are looped over: rank and dims of the normalized shape (LayerNormalization), or
   * [channels per group, spatial size] (GroupNormalization) */
  int rank;
  int64_t dims[CN_MAX_RANK];
  int64_t groups; /* GroupNormalization: scale and bias index by group (per_group) or channel */
  bool per_group;
} NormParams;

static double read_epsilon(const Node *n) {
  double epsilon = attr_float(n, "epsilon", 1e-5f);
  if (!(epsilon >= 0) || !isfinite(epsilon))
    cn_error_node(n, "epsilon = %g; expected a non-negative number", epsilon);
  return epsilon;
}

static void check_stash_type(const Node *n) {
  int64_t stash = attr_int(n, "stash_type", 1);
  if (stash != 1)
    cn_error_node(n, "stash_type = %lld; cnnc computes the statistics as float (1) or better", (long long)stash);
}

static void check_float_inputs(const Node *n) {
  for (int i = 0; i < n->n_in; i++) {
    check_input_type(n, i, dtype_float_only, "float or double");
    if (n->in[i] && n->in[i]->dtype != n->in[0]->dtype)
      cn_error_node(n, "input %d has element type %s; it must be X's type %s", i, dtype_name(n->in[i]->dtype),
                    dtype_name(n->in[0]->dtype));
  }
}

static void layer_norm_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  check_float_inputs(n);
  check_stash_type(n);
  if (x->rank == 0)
    cn_error_node(n, "the input is a scalar; LayerNormalization needs at least one axis");
  int64_t axis = normalize_axis(n, attr_int(n, "axis", -1), x->rank);
  NormParams *p = cn_alloc(sizeof *p);
  p->epsilon = read_epsilon(n);
  p->blocks = p->size = 1;
  p->rank = x->rank - (int)axis;
  for (int k = 0; k < x->rank; k++) {
    if (k < axis)
      p->blocks *= x->dims[k];
    else
      p->dims[k - axis] = x->dims[k], p->size *= x->dims[k];
  }
  if (p->size == 0 && p->blocks > 0)
    cn_error_node(n, "normalizes over an empty block of %s; its mean is undefined", value_shape_string(x));
  static const char *const names[] = {"X", "Scale", "B"};
  for (int i = 1; i < n->n_in; i++) {
    Value *v = n->in[i];
    if (!v)
      continue;
    int rank;
    int64_t dims[CN_MAX_RANK];
    bool fits = v->rank <= p->rank && broadcast_shapes(p->rank, p->dims, v->rank, v->dims, &rank, dims);
    for (int k = 0; fits && k < rank; k++)
      fits = dims[k] == p->dims[k];
    if (!fits)
      cn_error_node(n, "%s has shape %s, which does not broadcast to the normalized shape of %s from axis %lld",
                    names[i], value_shape_string(v), value_shape_string(x), (long long)axis);
  }
  n->params = p;
  infer_same_as_input(n, 0);
  /* Mean and InvStdDev: X's shape with the normalized axes 1, in the stash type (float) */
  int64_t stat_dims[CN_MAX_RANK];
  for (int k = 0; k < x->rank; k++)
    stat_dims[k] = k < axis ? x->dims[k] : 1;
  for (int k = 1; k < n->n_out; k++)
    if (n->out[k])
      value_set_shape(n->out[k], n, DT_FLOAT, x->rank, stat_dims);
}

static void group_norm_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  check_float_inputs(n);
  if (g->opset >= 21)
    check_stash_type(n);
  if (x->rank < 2)
    cn_error_node(n, "input has shape %s; expected (N, C, ...)", value_shape_string(x));
  if (!node_attr(n, "num_groups"))
    cn_error_node(n, "the attribute 'num_groups' is required");
  int64_t groups = attr_int(n, "num_groups", 1), channels = x->dims[1];
  if (groups < 1 || groups > channels || channels % groups != 0)
    cn_error_node(n, "num_groups = %lld does not divide the %lld channels of %s", (long long)groups,
                  (long long)channels, value_shape_string(x));
  NormParams *p = cn_alloc(sizeof *p);
  p->epsilon = read_epsilon(n);
  p->groups = groups;
  p->per_group = g->opset < 21;
  p->rank = 2;
  p->dims[0] = channels / groups;
  p->dims[1] = plane_size(x);
  p->blocks = x->dims[0] * groups;
  p->size = p->dims[0] * p->dims[1];
  if (p->size == 0 && p->blocks > 0)
    cn_error_node(n, "normalizes over empty groups of %s; their mean is undefined", value_shape_string(x));
  int64_t expected = p->per_group ? groups : channels;
  static const char *const names[] = {"X", "scale", "bias"};
  for (int i = 1; i < 3; i++)
    if (n->in[i]->rank != 1 || n->in[i]->dims[0] != expected)
      cn_error_node(n, "%s has shape %s; at opset %lld it holds one value per %s: [%lld]", names[i],
                    value_shape_string(n->in[i]), (long long)g->opset, p->per_group ? "group" : "channel",
                    (long long)expected);
  n->params = p;
  infer_same_as_input(n, 0);
}

/* The index of the scale (or bias) element of block element (j0, j1...) inside block `b`, as C. */
static char *affine_index(const Node *n, const NormParams *p, int input) {
  if (n->op->kind == OP_GROUP_NORMALIZATION) {
    /* block b is group b % groups; its channels are (b % groups) * per_group_channels + j0 */
    if (p->per_group)
      return cn_format("b %% %lld", (long long)p->groups);
    return cn_format("b %% %lld * %lld + j0", (long long)p->groups, (long long)p->dims[0]);
  }
  const Value *v = n->in[input];
  return emit_broadcast_index(p->rank, v->rank, v->dims, "j");
}

static void norm_emit(Emitter *e, const Node *n) {
  const NormParams *p = n->params;
  DType t = n->in[0]->dtype;
  const char *T = dtype_ctype(t);
  Value *scale = node_in(n, 1), *bias = node_in(n, 2);
  Value *mean_out = n->n_out > 1 ? n->out[1] : NULL, *inv_out = n->n_out > 2 ? n->out[2] : NULL;
  if (emit_if_empty(e, n, 0))
    return;
  emitf(e, "/* %lld blocks of %lld elements, each normalized by its own statistics */", (long long)p->blocks,
        (long long)p->size);
  emitf(e, "for (int64_t b = 0; b < %lld; b++) {", (long long)p->blocks);
  emitf(e, "const %s *x = X0 + b * %lld;", T, (long long)p->size);
  emitf(e, "%s *y = Y0 + b * %lld;", T, (long long)p->size);
  emitf(e, "double sum = 0;");
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)p->size);
  emitf(e, "  sum += x[i];");
  emitf(e, "const double mean = sum / %lld;", (long long)p->size);
  emitf(e, "double squares = 0;");
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)p->size);
  emitf(e, "  squares += (x[i] - mean) * (x[i] - mean);");
  emitf(e, "const double inv_std_dev = 1 / sqrt(squares / %lld + %s);", (long long)p->size,
        emit_float(p->epsilon, DT_DOUBLE));
  if (mean_out)
    emitf(e, "%s[b] = (float)mean;", emit_out(n, 1));
  if (inv_out)
    emitf(e, "%s[b] = (float)inv_std_dev;", emit_out(n, 2));
  int loops = emit_loops(e, p->rank, p->dims, "j");
  char *at = emit_broadcast_index(p->rank, p->rank, p->dims, "j");
  char *affine = cn_format("(%s)((x[%s] - mean) * inv_std_dev)", T, at);
  if (scale)
    affine = cn_format("%s * %s[%s]", affine, emit_in(n, 1), affine_index(n, p, 1));
  if (bias)
    affine = cn_format("%s + %s[%s]", affine, emit_in(n, 2), affine_index(n, p, 2));
  emitf(e, "y[%s] = %s;", at, affine);
  emit_close(e, loops);
  emitf(e, "}");
}

const OpDesc op_layer_normalization = {
    .kind = OP_LAYER_NORMALIZATION, .name = "LayerNormalization", .min_in = 2, .max_in = 3, .min_out = 1,
    .max_out = 3, .infer = layer_norm_infer, .emit = norm_emit,
};

const OpDesc op_group_normalization = {
    .kind = OP_GROUP_NORMALIZATION, .name = "GroupNormalization", .min_in = 3, .max_in = 3, .min_out = 1,
    .max_out = 1, .infer = group_norm_infer, .emit = norm_emit,
};
