/* Pad: output axis k has pads[k] elements before the input's and pads[rank + k] after (negative pads crop);
 * from opset 18 the optional `axes` input names the axes pads lists, the others are not padded.
 * Constant mode fills the output with the value and copies the input into the interior. Edge, reflect and
 * wrap (opset 19) read, for output index i on axis k, input index j = i - pads[k] mapped back into [0, size):
 * edge clamps it; reflect mirrors it about the first and last elements (the input repeats with period
 * 2 * (size - 1)); wrap takes it modulo size (the input repeats with period size). */
#include "../cnnc.h"

#include <string.h>

typedef enum PadMode { PAD_CONSTANT, PAD_EDGE, PAD_REFLECT, PAD_WRAP } PadMode;

typedef struct PadParams {
  PadMode mode;
  int64_t pads[2 * CN_MAX_RANK];
  Value *value;          /* constant mode: the value as a 1-element constant of the data's type, or NULL ... */
  bool value_at_runtime; /* ... when it is input 2, computed at run time */
  StridedCopy interior;  /* constant mode: the input's part that lands in the output */
} PadParams;

/* The pads: the `pads` attribute (`paddings` in opset 1) before opset 11, the constant input 1 since. */
static int64_t *pad_amounts(Graph *g, Node *n, int *count) {
  if (g->opset >= 11)
    return node_const_ints(n, 1, "pads", count);
  const char *name = g->opset < 2 ? "paddings" : "pads";
  int64_t *pads;
  *count = attr_ints(n, name, &pads);
  if (*count < 0)
    cn_error_node(n, "attribute '%s' is required", name);
  return pads;
}

/* The pads of every axis, [begin..., end...]: as given, or from opset 18 spread over the axes input 3 names. */
static void pads_per_axis(Graph *g, Node *n, int64_t *out) {
  int rank = n->in[0]->rank, count;
  int64_t *pads = pad_amounts(g, n, &count);
  if (g->opset < 18 || !node_in(n, 3)) {
    if (count != 2 * rank)
      cn_error_node(n, "pads has %d entries; the input %s needs 2 * %d", count, value_shape_string(n->in[0]), rank);
    memcpy(out, pads, (size_t)count * sizeof *pads);
    return;
  }
  int n_axes;
  int64_t *axes = node_const_ints(n, 3, "axes", &n_axes);
  if (count != 2 * n_axes)
    cn_error_node(n, "pads has %d entries for %d axes; it needs 2 * %d", count, n_axes, n_axes);
  bool seen[CN_MAX_RANK] = {false};
  memset(out, 0, 2 * (size_t)rank * sizeof *out);
  for (int i = 0; i < n_axes; i++) {
    int64_t axis = normalize_axis(n, axes[i], rank);
    if (seen[axis])
      cn_error_node(n, "axis %lld is listed twice in axes", (long long)axis);
    seen[axis] = true;
    out[axis] = pads[i];
    out[rank + axis] = pads[n_axes + i];
  }
}

/* The constant fill value, from the `value` attribute before opset 11 or input 2 since (default 0). */
static void pad_value(Graph *g, Node *n, PadParams *p) {
  Value *data = n->in[0];
  Value *input = g->opset >= 11 ? node_in(n, 2) : NULL;
  if (input) {
    if (input->dtype != data->dtype || value_count(input) != 1)
      cn_error_node(n, "constant_value must be one %s element, not %s%s", dtype_name(data->dtype),
                    dtype_name(input->dtype), value_shape_string(input));
    p->value = input->data ? input : NULL;
    p->value_at_runtime = !input->data;
    return;
  }
  p->value = cn_alloc(sizeof *p->value);
  p->value->name = "pad value";
  value_set_shape(p->value, n, data->dtype, 0, NULL);
  p->value->data = cn_alloc(dtype_size(data->dtype));
  value_set_double(p->value, 0, g->opset < 11 ? attr_float(n, "value", 0) : 0);
}

static void pad_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  PadParams *p = cn_alloc(sizeof *p);
  const char *mode = attr_string(n, "mode", "constant");
  if (strcmp(mode, "constant") == 0)
    p->mode = PAD_CONSTANT;
  else if (strcmp(mode, "edge") == 0)
    p->mode = PAD_EDGE;
  else if (strcmp(mode, "reflect") == 0)
    p->mode = PAD_REFLECT;
  else if (strcmp(mode, "wrap") == 0 && g->opset >= 19)
    p->mode = PAD_WRAP;
  else
    cn_error_node(n, "mode '%s' is not supported at opset %lld; cnnc pads with 'constant', 'edge', 'reflect' or "
                  "(from opset 19) 'wrap'", cn_escape_c_string(mode, 40), (long long)g->opset);
  int64_t pads[2 * CN_MAX_RANK];
  pads_per_axis(g, n, pads);
  int64_t dims[CN_MAX_RANK];
  for (int k = 0; k < x->rank; k++) {
    int64_t before = pads[k], after = pads[x->rank + k], size = x->dims[k];
    /* |pads| beyond the tensor size limit would overflow below; value_set_shape rejects such sizes anyway */
    if (before > CN_MAX_TENSOR_BYTES || after > CN_MAX_TENSOR_BYTES || before < -size || after < -size ||
        size + before + after < 0)
      cn_error_node(n, "pads %lld and %lld on axis %d of size %lld leave a negative or too large size",
                    (long long)before, (long long)after, k, (long long)size);
    if (p->mode != PAD_CONSTANT && size == 0 && (before > 0 || after > 0))
      cn_error_node(n, "cannot %s-pad axis %d: it is empty", mode, k);
    p->pads[k] = before;
    p->pads[x->rank + k] = after;
    dims[k] = size + before + after;
  }
  value_set_shape(n->out[0], n, x->dtype, x->rank, dims);
  if (p->mode == PAD_CONSTANT) {
    pad_value(g, n, p);
    /* the interior skips the cropped part of the input and the padding of the output */
    int64_t in_strides[CN_MAX_RANK], out_strides[CN_MAX_RANK];
    shape_strides(x->rank, x->dims, in_strides);
    shape_strides(x->rank, dims, out_strides);
    StridedCopy *c = &p->interior;
    c->rank = x->rank;
    for (int k = 0; k < x->rank; k++) {
      int64_t before = p->pads[k], after = p->pads[x->rank + k];
      c->dims[k] = x->dims[k] + (before < 0 ? before : 0) + (after < 0 ? after : 0);
      c->src_base += (before < 0 ? -before : 0) * in_strides[k];
      c->dst_base += (before > 0 ? before : 0) * out_strides[k];
      c->src_step[k] = in_strides[k];
      c->dst_step[k] = out_strides[k];
    }
  }
  n->params = p;
}

/* The input index that output index i on an axis reads, in edge or reflect mode. The emitted code computes the
 * same thing (pad_emit_index). */
static int64_t pad_source_index(PadMode mode, int64_t i, int64_t before, int64_t size) {
  int64_t j = i - before;
  if (mode == PAD_WRAP)
    return (j % size + size) % size;
  if (mode == PAD_EDGE || size == 1)
    return j < 0 ? 0 : j >= size ? size - 1 : j;
  int64_t period = 2 * (size - 1);
  j = (j % period + period) % period;
  return j < size ? j : period - j;
}

static void pad_fold(Graph *g, Node *n) {
  (void)g;
  const PadParams *p = n->params;
  Value *x = n->in[0], *y = n->out[0];
  size_t elem = dtype_size(x->dtype);
  int64_t total = value_count(y);
  if (p->mode == PAD_CONSTANT) {
    for (int64_t i = 0; i < total; i++)
      memcpy((char *)y->data + i * (int64_t)elem, p->value->data, elem);
    strided_copy_run(&p->interior, y->data, x->data, elem);
    return;
  }
  int64_t in_strides[CN_MAX_RANK];
  shape_strides(x->rank, x->dims, in_strides);
  for (int64_t i = 0; i < total; i++) {
    int64_t from = 0, rest = i;
    for (int k = x->rank - 1; k >= 0; k--) {
      from += pad_source_index(p->mode, rest % y->dims[k], p->pads[k], x->dims[k]) * in_strides[k];
      rest /= y->dims[k];
    }
    memcpy((char *)y->data + i * (int64_t)elem, (const char *)x->data + from * (int64_t)elem, elem);
  }
}

/* Declares j<k>, the input index on axis k for output index i<k>; see pad_source_index. */
static void pad_emit_index(Emitter *e, const PadParams *p, int k, int64_t before, int64_t size) {
  if (p->mode == PAD_WRAP) {
    emitf(e, "const int64_t j%d = ((i%d - %lld) %% %lld + %lld) %% %lld; /* wrap: period size */", k, k,
          (long long)before, (long long)size, (long long)size, (long long)size);
    return;
  }
  if (p->mode == PAD_EDGE || size == 1) {
    emitf(e, "int64_t j%d = i%d - %lld;", k, k, (long long)before);
    emitf(e, "j%d = j%d < 0 ? 0 : j%d > %lld ? %lld : j%d;", k, k, k, (long long)size - 1, (long long)size - 1, k);
    return;
  }
  int64_t period = 2 * (size - 1);
  emitf(e, "int64_t j%d = ((i%d - %lld) %% %lld + %lld) %% %lld; /* reflect: period 2 * (size - 1) */", k, k,
        (long long)before, (long long)period, (long long)period, (long long)period);
  emitf(e, "j%d = j%d < %lld ? j%d : %lld - j%d;", k, k, (long long)size, k, (long long)period, k);
}

/* expr + " + <var><k> * stride" (without "* 1"). */
static char *add_index_term(const char *expr, char var, int k, int64_t stride) {
  const char *sep = expr[0] ? " + " : "";
  return stride == 1 ? cn_format("%s%s%c%d", expr, sep, var, k)
                     : cn_format("%s%s%c%d * %lld", expr, sep, var, k, (long long)stride);
}

static void pad_emit(Emitter *e, const Node *n) {
  const PadParams *p = n->params;
  Value *x = n->in[0], *y = n->out[0];
  const char *out = emit_out(n, 0);
  if (p->mode == PAD_CONSTANT) {
    char *value = p->value_at_runtime ? cn_format("%s[0]", emit_in(n, 2)) : emit_value_literal(p->value, 0);
    emitf(e, "for (int64_t i = 0; i < %lld; i++) {", (long long)value_count(y));
    emitf(e, "%s[i] = %s;", out, value);
    emitf(e, "}");
    emit_strided_copy(e, &p->interior, out, emit_in(n, 0));
    return;
  }
  /* axes after the last padded one are copied whole, as contiguous rows */
  int last = -1;
  for (int k = 0; k < x->rank; k++)
    if (p->pads[k] || p->pads[x->rank + k])
      last = k;
  if (last < 0) {
    emitf(e, "memcpy(%s, %s, %lld);", out, emit_in(n, 0), (long long)value_bytes(x));
    return;
  }
  int64_t row = 1, in_strides[CN_MAX_RANK], out_strides[CN_MAX_RANK];
  for (int k = last + 1; k < x->rank; k++)
    row *= x->dims[k];
  shape_strides(x->rank, x->dims, in_strides);
  shape_strides(x->rank, y->dims, out_strides);
  char *to = cn_strdup(""), *from = cn_strdup("");
  int loops = 0;
  for (int k = 0; k <= last; k++) {
    bool padded = p->pads[k] || p->pads[x->rank + k];
    if (!padded && y->dims[k] == 1)
      continue; /* index 0 throughout */
    emitf(e, "for (int64_t i%d = 0; i%d < %lld; i%d++) {", k, k, (long long)y->dims[k], k);
    loops++;
    if (padded)
      pad_emit_index(e, p, k, p->pads[k], x->dims[k]);
    to = add_index_term(to, 'i', k, out_strides[k]);
    from = add_index_term(from, padded ? 'j' : 'i', k, in_strides[k]);
  }
  if (row == 1)
    emitf(e, "%s[%s] = %s[%s];", out, to, emit_in(n, 0), from);
  else
    emitf(e, "memcpy(%s + %s, %s + %s, %lld * sizeof *%s);", out, to, emit_in(n, 0), from, (long long)row, out);
  emit_close(e, loops);
}

/* The gradient flows back along the copy: PadGrad(dY) -> dX with the forward's PadParams preset. In constant mode
 * dX is dY's interior (zero where the pads cropped); in edge and reflect modes every output element adds its dY to
 * the input element it was read from. */
typedef struct PadGradParams {
  PadParams pad;
  const Value *x; /* the forward's input, for its shape */
} PadGradParams;

static void pad_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  PadGradParams *q = cn_alloc(sizeof *q);
  q->pad = *(const PadParams *)n->params;
  q->x = n->in[0];
  Node *b = bw_node(g, n, OP_PAD_GRAD, 1, dy, 1);
  b->params = q;
  dx[0] = bw_finish(g, b);
}

const OpDesc op_pad = {
    .kind = OP_PAD, .name = "Pad", .min_in = 1, .max_in = 4, .min_out = 1, .max_out = 1,
    .infer = pad_infer, .fold = pad_fold, .emit = pad_emit, .grad = pad_grad,
};

static void pad_grad_infer(Graph *g, Node *n) {
  (void)g;
  const PadGradParams *p = n->params;
  CN_ASSERT(p && dtype_is_float(n->in[0]->dtype));
  value_set_shape(n->out[0], n, n->in[0]->dtype, p->x->rank, p->x->dims);
}

static void pad_grad_emit(Emitter *e, const Node *n) {
  const PadGradParams *q = n->params;
  const PadParams *p = &q->pad;
  const Value *x = n->out[0], *y = n->in[0];
  emitf(e, "memset(Y0, 0, %lld * sizeof *Y0);", (long long)value_count(x));
  if (p->mode == PAD_CONSTANT) {
    StridedCopy c = p->interior;
    int64_t base = c.src_base;
    c.src_base = c.dst_base;
    c.dst_base = base;
    for (int k = 0; k < c.rank; k++) {
      int64_t step = c.src_step[k];
      c.src_step[k] = c.dst_step[k];
      c.dst_step[k] = step;
    }
    emit_strided_copy(e, &c, "Y0", "X0");
    return;
  }
  int64_t in_strides[CN_MAX_RANK], out_strides[CN_MAX_RANK];
  shape_strides(x->rank, x->dims, in_strides);
  shape_strides(x->rank, y->dims, out_strides);
  char *from = cn_strdup(""), *to = cn_strdup("");
  for (int k = 0; k < x->rank; k++) {
    emitf(e, "for (int64_t i%d = 0; i%d < %lld; i%d++) {", k, k, (long long)y->dims[k], k);
    pad_emit_index(e, p, k, p->pads[k], x->dims[k]);
    from = add_index_term(from, 'i', k, out_strides[k]);
    to = add_index_term(to, 'j', k, in_strides[k]);
  }
  emitf(e, "Y0[%s] += X0[%s];", to[0] ? to : "0", from[0] ? from : "0");
  emit_close(e, x->rank);
}

const OpDesc op_pad_grad = {
    .kind = OP_PAD_GRAD, .name = "PadGrad", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = pad_grad_infer, .emit = pad_grad_emit, .internal = true,
};
