/* Conv: N-D cross-correlation with groups, strides, dilations and padding, and an optional bias.
 *
 *   X (N, C, in...), W (M, C / group, kernel...), B (M) -> Y (N, M, out...)
 *   Y[n, m, o...] = B[m] + sum over c, t... of X[n, g * C/group + c, o * stride + t * dilation - pad_begin]
 *                                            * W[m, c, t...],   g = m / (M / group)
 *
 * The output size per axis is window_forward's: floor((in + pad_begin + pad_end - dilation * (kernel - 1) - 1)
 * / stride) + 1 for explicit pads, ceil(in / stride) for SAME_*.
 *
 * The generated kernel works one output row (the last spatial axis) at a time, for a block of up to 8 output
 * channels: the rows start at the bias and each (input channel, kernel tap) adds weight * a strided input row to
 * them, one input load feeding every channel of the block. The innermost loop therefore runs contiguously over
 * the output row, and its bounds come from a per-tap table of the output columns whose input column is inside
 * the input, so the padding costs no branch there. Leading spatial axes skip the kernel taps that fall into the
 * padding with loop bounds computed once per output row.
 *
 * A fused Conv (fuse.c) stores each finished row through ops/epilogue.c. With a fused window, its rows go into
 * the window driver's ring instead of Y, and the same row-block code computes a fused depthwise window's rows
 * from that ring. */
#include "../cnnc.h"

#include <string.h>

/* Bytes of local accumulator rows per output row block: small enough for any thread's stack. */
#define CONV_ACC_BYTES (32 << 10)

typedef struct ConvParams {
  Window w;
  int64_t group;
} ConvParams;

static void conv_infer(Graph *g, Node *n) {
  (void)g;
  window_check_conv_inputs(n, "M, C/group");
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
  ConvParams *p = cn_alloc(sizeof *p);
  p->group = attr_int(n, "group", 1);
  int64_t channels = x->dims[1], maps = w->dims[0];
  if (p->group < 1 || p->group > channels || channels % p->group != 0)
    cn_error_node(n, "group = %lld must be at least 1 and divide the %lld input channels", (long long)p->group,
                  (long long)channels);
  if (w->dims[1] * p->group != channels)
    cn_error_node(n, "W has shape %s: %lld channels per group, but X has %lld channels in %lld groups",
                  value_shape_string(w), (long long)w->dims[1], (long long)channels, (long long)p->group);
  if (maps % p->group != 0)
    cn_error_node(n, "W has %lld output channels, which group = %lld does not divide", (long long)maps,
                  (long long)p->group);
  if (b && (b->rank != 1 || b->dims[0] != maps))
    cn_error_node(n, "B has shape %s; expected (%lld), one bias per output channel", value_shape_string(b),
                  (long long)maps);
  window_read(n, &p->w, w->dims + 2);
  window_forward(n, &p->w, false);
  n->params = p;

  int64_t dims[CN_MAX_RANK] = {x->dims[0], maps};
  for (int i = 0; i < p->w.rank; i++)
    dims[i + 2] = p->w.out[i];
  value_set_shape(n->out[0], n, x->dtype, x->rank, dims);
}

const Window *conv_window(const Node *n) {
  CN_ASSERT((n->op->kind == OP_CONV || n->op->kind == OP_CONV_GRAD_WEIGHT) && n->params);
  return &((const ConvParams *)n->params)->w;
}

int64_t conv_group(const Node *n) {
  CN_ASSERT((n->op->kind == OP_CONV || n->op->kind == OP_CONV_GRAD_WEIGHT) && n->params);
  return ((const ConvParams *)n->params)->group;
}

/* A 1x1 convolution with stride 1 and no padding maps every input position to the same output position, so
 * its spatial axes can run as one long row: the same kernel, with far fewer and longer inner loops. */
static bool flatten_pointwise(const Window *w, Window *flat) {
  for (int i = 0; i < w->rank; i++)
    if (w->kernel[i] != 1 || w->stride[i] != 1 || w->pad_begin[i] != 0 || w->pad_end[i] != 0)
      return false;
  *flat = (Window){.rank = 1, .in = {1}, .out = {1}, .kernel = {1}, .stride = {1}, .dilation = {1}};
  for (int i = 0; i < w->rank; i++)
    flat->in[0] = flat->out[0] *= w->in[i];
  return true;
}

/* One output row (the last spatial axis) of `block` consecutive output channels, accumulated over the input
 * channels of their group and every kernel tap. Plain Conv, the rows of an anchor that feed a fused window,
 * and the rows of a fused depthwise window are all such blocks; they differ in where input rows come from. */
typedef struct RowBlock {
  const Window *w;
  DType t;
  int block;
  int64_t channels;      /* input channels summed over: those of the group */
  const char *x;         /* the group's first input channel */
  int64_t channel_size;  /* elements from one input channel to the next */
  int64_t ring_rows;     /* 0: x holds whole planes; else row i of a channel is at row i % ring_rows */
  const char *weights;   /* the block's first weight */
  int64_t weights_per_map;
  const char *bias;      /* the bias input, or NULL */
  const char *map;       /* the block's first output channel, as bias index */
  const char *cols;      /* prefix of the tap-range tables: <cols>_begin, <cols>_end */
  char *acc[8];          /* the accumulator rows: local arrays, or one pointer into the output */
  bool local;
} RowBlock;

/* Emits the accumulation of a row block; the leading output indices o<a> with their taps (window_emit_taps)
 * are in scope. Local accumulators are declared here. */
static void emit_row_block(Emitter *e, const RowBlock *r) {
  const Window *w = r->w;
  const char *T = dtype_ctype(r->t);
  int last = w->rank - 1;
  int64_t row = w->out[last], in_row = w->in[last];
  if (r->local) {
    char *names = cn_strdup("");
    for (int j = 0; j < r->block; j++)
      names = cn_format("%s%s%s[%lld]", names, j ? ", " : "", r->acc[j], (long long)row);
    emitf(e, "%s %s;", T, names);
  }
  emitf(e, "for (int64_t o = 0; o < %lld; o++) {", (long long)row);
  for (int j = 0; j < r->block; j++)
    emitf(e, "%s[o] = %s;", r->acc[j], r->bias ? cn_format("%s[%s]", r->bias, expr_plus(r->map, j)) : "0");
  emitf(e, "}");
  if (r->channels > 1) {
    emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)r->channels);
    emitf(e, "const %s *x = %s + c * %lld;", T, r->x, (long long)r->channel_size);
  } else {
    emitf(e, "{");
    emitf(e, "const %s *x = %s;", T, r->x);
  }
  char *in_rows = cn_strdup("0"), *taps = cn_strdup(r->channels > 1 ? "c" : "0");
  for (int a = 0; a < last; a++) {
    emitf(e, "for (int64_t k%d = k%d_begin; k%d < k%d_end; k%d++) {", a, a, a, a, a);
    char *index = cn_format("i%d + %s", a, expr_times(cn_format("k%d", a), w->dilation[a]));
    in_rows = a == 0 ? index : cn_format("%s + %s", expr_times(in_rows, w->in[a]), index);
    taps = strcmp(taps, "0") == 0 ? cn_format("k%d", a) : cn_format("%s + k%d", expr_times(taps, w->kernel[a]), a);
  }
  if (r->ring_rows)
    in_rows = cn_format("(%s) %% %lld", in_rows, (long long)r->ring_rows);
  emitf(e, "const %s *x_row = x%s;", T, last ? cn_format(" + %s", expr_times(in_rows, in_row)) : "");
  emitf(e, "for (int64_t k = 0; k < %lld; k++) {", (long long)w->kernel[last]);
  char *tap = strcmp(taps, "0") == 0 ? cn_strdup("k") : cn_format("%s + k", expr_times(taps, w->kernel[last]));
  for (int j = 0; j < r->block; j++)
    if (r->block == 1)
      emitf(e, "const %s weight = %s[%s];", T, r->weights, tap);
    else
      emitf(e, "const %s weight%d = %s[%s];", T, j, r->weights, expr_plus(tap, j * r->weights_per_map));
  emitf(e, "const int64_t shift = %s; /* input column = %s + shift */",
        expr_plus(expr_times("k", w->dilation[last]), -w->pad_begin[last]), expr_times("o", w->stride[last]));
  emitf(e, "for (int64_t o = %s_begin[k]; o < %s_end[k]; o++) {", r->cols, r->cols);
  if (r->block == 1) {
    emitf(e, "%s[o] += weight * x_row[%s + shift];", r->acc[0], expr_times("o", w->stride[last]));
  } else {
    emitf(e, "const %s v = x_row[%s + shift];", T, expr_times("o", w->stride[last]));
    for (int j = 0; j < r->block; j++)
      emitf(e, "%s[o] += weight%d * v;", r->acc[j], j);
  }
  emitf(e, "}");
  emitf(e, "}");
  emit_close(e, last); /* kernel taps of the leading axes */
  emitf(e, "}");       /* c */
}

/* Names the local accumulator rows of a block: y, or y0..y7. */
static void name_accumulators(RowBlock *r) {
  for (int j = 0; j < r->block; j++)
    r->acc[j] = r->block == 1 ? cn_strdup("y") : cn_format("y%d", j);
}

typedef struct ConvEmit {
  const Window *w;
  RowBlock rows;
  int64_t plane; /* elements per output channel of the Conv's own result */
  bool residual;
} ConvEmit;

/* The anchor's rows for a fused window (epilogue_emit_window's callback): row o0 of the block, through the
 * epilogue into dst[j], element o of channel j's row. */
static void emit_anchor_rows(Emitter *e, const Node *anchor, void *ctx, char *const *dst) {
  const ConvEmit *c = ctx;
  window_emit_taps(e, c->w, 0);
  emit_row_block(e, &c->rows);
  int64_t row = c->w->out[1];
  emitf(e, "for (int64_t o = 0; o < %lld; o++) {", (long long)row);
  for (int j = 0; j < c->rows.block; j++)
    epilogue_emit_store(e, anchor, dst[j], cn_format("%s[o]", c->rows.acc[j]), NULL,
                        c->residual ? cn_format("residual[%s + o]", expr_plus(expr_times("o0", row), j * c->plane))
                                    : NULL);
  emitf(e, "}");
}

static void conv_emit(Emitter *e, const Node *n) {
  const ConvParams *p = n->params;
  const Fusion *f = n->fusion;
  const Node *window = f ? f->window : NULL;
  /* with a fused window, out[0] is the window's result; the Conv's own is the window's input */
  const Value *result = window ? window->in[0] : n->out[0];
  Window flat;
  const Window *w = &p->w;
  if (!window && w->rank > 1 && flatten_pointwise(w, &flat)) {
    emitf(e, "/* 1x1 convolution: the spatial axes run as one row */");
    w = &flat;
  }
  DType t = n->in[0]->dtype;
  const char *T = dtype_ctype(t);
  int r = w->rank, last = r - 1;
  int64_t batch = n->in[0]->dims[0], channels = n->in[0]->dims[1], maps = result->dims[1];
  int64_t group_channels = channels / p->group, group_maps = maps / p->group;
  int64_t in_size = 1, out_row_count = 1, kernel_size = 1;
  for (int i = 0; i < r; i++) {
    in_size *= w->in[i];
    kernel_size *= w->kernel[i];
  }
  for (int i = 0; i < last; i++)
    out_row_count *= w->out[i];
  int64_t row = w->out[last], in_row = w->in[last];

  emitf(e, "/* %s */", window_describe(w));
  /* For each kernel tap t of the last axis, the output columns whose input column
   * o * stride + t * dilation - pad_begin lies inside the input. */
  emitf(e, "/* output columns whose input column is inside the input, per kernel column */");
  window_emit_tap_ranges(e, w, row, in_row, "col");
  if (window && window->op->kind == OP_CONV) {
    const Window *dw = conv_window(window);
    emitf(e, "/* the fused depthwise Conv: %s */", window_describe(dw));
    window_emit_tap_ranges(e, dw, dw->out[1], dw->in[1], "window_col");
  }

  /* Output rows accumulate in local arrays, which the compiler knows alias nothing, for a block of output
   * channels that share each input row load; a row too long for the stack accumulates in Y itself. */
  int block = 8;
  while (block > 1 && (group_maps % block != 0 || block * row * (int64_t)dtype_size(t) > CONV_ACC_BYTES))
    block /= 2;
  if (window)
    block = epilogue_window_block(n, block);
  ConvEmit c = {.w = w, .plane = out_row_count * row, .residual = f && f->residual >= 0};
  c.rows = (RowBlock){
      .w = w, .t = t, .block = block, .channels = group_channels, .channel_size = in_size,
      .weights = "weights", .weights_per_map = group_channels * kernel_size, .bias = node_in(n, 2) ? "X2" : NULL,
      .map = "m", .cols = "col", .local = row * (int64_t)dtype_size(t) <= CONV_ACC_BYTES,
  };
  c.rows.x = p->group > 1 ? cn_format("X0 + (n * %lld + first_channel) * %lld", (long long)channels, (long long)in_size)
                          : cn_format("X0 + n * %lld", (long long)(channels * in_size));
  name_accumulators(&c.rows);
  CN_ASSERT(c.rows.local || !window);

  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
  if (block == 1)
    emitf(e, "for (int64_t m = 0; m < %lld; m++) {", (long long)maps);
  else
    emitf(e, "for (int64_t m = 0; m < %lld; m += %d) {", (long long)maps, block);
  if (p->group > 1)
    emitf(e, "const int64_t first_channel = m / %lld * %lld; /* of m's group */", (long long)group_maps,
          (long long)group_channels);
  emitf(e, "const %s *weights = X1 + m * %lld;", T, (long long)c.rows.weights_per_map);
  if (c.residual)
    emitf(e, "const %s *residual = %s + (n * %lld + m) * %lld;", T, emit_in(n, f->residual), (long long)maps,
          (long long)c.plane);
  if (window) {
    epilogue_emit_window(e, n, block, emit_anchor_rows, &c);
    emitf(e, "}"); /* m */
    emitf(e, "}"); /* n */
    return;
  }
  emitf(e, "%s *out = Y0 + (n * %lld + m) * %lld;", T, (long long)maps, (long long)c.plane);
  for (int a = 0; a < last; a++) {
    emitf(e, "for (int64_t o%d = 0; o%d < %lld; o%d++) {", a, a, (long long)w->out[a], a);
    window_emit_taps(e, w, a);
  }
  char *out_row = cn_strdup("0");
  for (int a = 0; a < last; a++)
    out_row = a == 0 ? cn_strdup("o0") : cn_format("%s + o%d", expr_times(out_row, w->out[a]), a);
  char *row_offset = last ? expr_times(out_row, row) : cn_strdup("0");
  char *row_o = strcmp(row_offset, "0") ? cn_format("%s + o", row_offset) : cn_strdup("o");
  if (!c.rows.local)
    emitf(e, "%s *y = out%s;", T, strcmp(row_offset, "0") ? cn_format(" + %s", row_offset) : "");
  emit_row_block(e, &c.rows);
  if (c.rows.local) {
    emitf(e, "for (int64_t o = 0; o < %lld; o++) {", (long long)row);
    for (int j = 0; j < block; j++) {
      char *at = expr_plus(row_o, j * c.plane);
      epilogue_emit_store(e, n, cn_format("out[%s]", at), cn_format("%s[o]", c.rows.acc[j]), NULL,
                          c.residual ? cn_format("residual[%s]", at) : NULL);
    }
    emitf(e, "}");
  } else if (!epilogue_is_trivial(n)) {
    emitf(e, "for (int64_t o = 0; o < %lld; o++) {", (long long)row);
    epilogue_emit_store(e, n, "y[o]", "y[o]", NULL, c.residual ? cn_format("residual[%s]", row_o) : NULL);
    emitf(e, "}");
  }
  emit_close(e, last); /* output rows */
  emitf(e, "}");       /* m */
  emitf(e, "}");       /* n */
}

/* With stride 1, dX[i] = sum over m, t of dY[i + pad - t * dilation] * W[m, c, t]: a Conv of dY with W flipped
 * along every spatial axis and its two channel axes swapped within each group, dilated alike and padded by
 * dilation * (kernel - 1) - pad, so that the backward runs on the forward's kernels. Returns false (a stride,
 * or a pad wider than the dilated kernel) when it is not such a Conv; else fills pads, if given. */
static bool flipped_conv_pads(const Window *w, int64_t *pads) {
  for (int i = 0; i < w->rank; i++) {
    int64_t span = (w->kernel[i] - 1) * w->dilation[i];
    if (w->stride[i] != 1 || w->pad_begin[i] > span || w->pad_end[i] > span)
      return false;
    if (pads) {
      pads[i] = span - w->pad_begin[i];
      pads[w->rank + i] = span - w->pad_end[i];
    }
  }
  return true;
}

/* Gradients: dX is a Conv of dY with the flipped weights (stride 1) or a ConvTranspose of dY with W and the same
 * window (output_padding restores the input columns no window reached), dW a ConvGradWeight of X and dY, dB the
 * sum of dY over all but the channel axis. */
static void conv_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  const ConvParams *p = n->params;
  const Window *w = &p->w;
  Value *x = n->in[0], *weights = n->in[1], *b = node_in(n, 2);
  int r = w->rank;
  if (x->requires_grad && flipped_conv_pads(w, NULL)) {
    /* stride 1: a Conv of dY with the flipped weights */
    int64_t pads[2 * CN_MAX_RANK];
    flipped_conv_pads(w, pads);
    Node *f = bw_node(g, n, OP_CONV_FLIP_WEIGHTS, 1, &weights, 1);
    bw_attr_int(f, "group", p->group);
    Value *ins[2] = {dy[0], bw_finish(g, f)};
    Node *t = bw_node(g, n, OP_CONV, 2, ins, 1);
    bw_attr_ints(t, "kernel_shape", r, w->kernel);
    bw_attr_ints(t, "dilations", r, w->dilation);
    bw_attr_ints(t, "pads", 2 * r, pads);
    bw_attr_int(t, "group", p->group);
    dx[0] = bw_finish(g, t);
  } else if (x->requires_grad) {
    int64_t output_padding[CN_MAX_RANK];
    for (int i = 0; i < r; i++) {
      int64_t room = w->in[i] + w->pad_begin[i] + w->pad_end[i] - ((w->kernel[i] - 1) * w->dilation[i] + 1);
      output_padding[i] = room % w->stride[i];
    }
    Value *ins[2] = {dy[0], weights};
    Node *t = bw_node(g, n, OP_CONV_TRANSPOSE, 2, ins, 1);
    window_set_attrs(t, w);
    bw_attr_ints(t, "output_padding", r, output_padding);
    bw_attr_int(t, "group", p->group);
    dx[0] = bw_finish(g, t);
  }
  if (weights->requires_grad) {
    Value *ins[2] = {x, dy[0]};
    Node *t = bw_node(g, n, OP_CONV_GRAD_WEIGHT, 2, ins, 1);
    window_set_attrs(t, w);
    bw_attr_int(t, "group", p->group);
    dx[1] = bw_finish(g, t);
  }
  if (b && b->requires_grad) {
    int64_t kept[CN_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
      kept[i] = i == 1 ? dy[0]->dims[1] : 1;
    dx[2] = bw_sum_kept(g, n, dy[0], kept, b);
  }
}

void conv_emit_depthwise_row(Emitter *e, const Node *anchor, const char *x, int64_t ring_rows, const char *channel,
                             const char *y) {
  const Fusion *f = anchor->fusion;
  const Node *dw = f->window;
  const Window *w = conv_window(dw);
  DType t = dw->in[0]->dtype;
  const char *T = dtype_ctype(t);
  int64_t kernel_size = w->kernel[0] * w->kernel[1], row = w->out[1];
  RowBlock r = {
      .w = w, .t = t, .block = 1, .channels = 1, .x = x, .ring_rows = ring_rows, .weights = "window_weights",
      .weights_per_map = kernel_size, .map = channel, .cols = "window_col", .local = true,
      .bias = node_in(dw, 2) ? emit_in(anchor, f->window_in + 1) : NULL,
  };
  r.acc[0] = cn_strdup("acc");
  emitf(e, "const %s *window_weights = %s + %s;", T, emit_in(anchor, f->window_in), expr_times(channel, kernel_size));
  emitf(e, "%s *out = %s;", T, y);
  window_emit_taps(e, w, 0);
  emit_row_block(e, &r);
  emitf(e, "for (int64_t o = 0; o < %lld; o++) {", (long long)row);
  emitf(e, "%s v = acc[o];", T);
  epilogue_emit_act(e, &f->window_act, t, "v");
  emitf(e, "out[o] = v;");
  emitf(e, "}");
}

const OpDesc op_conv = {
    .kind = OP_CONV, .name = "Conv", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = conv_infer, .emit = conv_emit, .grad = conv_grad, .simd = conv_simd, .emit_simd = conv_emit_simd,
};

/* ConvGradWeight(X, dY) -> dW, the weight gradient of a Conv (attributes as the Conv's: the window and groups):
 *
 *   dW[m, c, t...] = sum over n, o... of dY[n, m, o...] * X[n, g * C/group + c, o * stride + t * dilation - pad]
 *
 * For each (m, c) and kernel taps of the leading axes, partial sums over the batch and the leading output axes
 * accumulate per (last-axis tap, output column) in a local array: the innermost loop multiplies a dY row by the
 * shifted X row element by element, which vectorizes, and each tap's column sums are added up once at the end
 * (rows too long for the stack sum each tap's products at once instead). The per-tap table gives the output
 * columns whose input column is inside X. */
/* The window comes from attributes, as a Conv's: X is the input, dY must have the output's shape. */
static void conv_grad_weight_infer(Graph *g, Node *n) {
  (void)g;
  const Value *x = n->in[0], *dy = n->in[1];
  ConvParams *p = cn_alloc(sizeof *p);
  p->group = attr_int(n, "group", 1);
  window_read(n, &p->w, NULL);
  window_forward(n, &p->w, false);
  CN_ASSERT(dy->dtype == x->dtype && dy->rank == x->rank && x->dims[1] % p->group == 0);
  int64_t dims[CN_MAX_RANK] = {dy->dims[1], x->dims[1] / p->group};
  for (int i = 0; i < p->w.rank; i++) {
    CN_ASSERT(dy->dims[i + 2] == p->w.out[i]);
    dims[i + 2] = p->w.kernel[i];
  }
  n->params = p;
  value_set_shape(n->out[0], n, x->dtype, x->rank, dims);
}

/* The flat index of the leading axes' kernel taps k0, k1, ... */
static char *lead_taps_expr(const Window *w) {
  char *taps = cn_strdup("0");
  for (int a = 0; a < w->rank - 1; a++)
    taps = a == 0 ? cn_strdup("k0") : cn_format("%s + k%d", expr_times(taps, w->kernel[a]), a);
  return taps;
}

static void conv_grad_weight_emit(Emitter *e, const Node *n) {
  const ConvParams *p = n->params;
  const Window *w = &p->w;
  const char *T = dtype_ctype(n->in[0]->dtype);
  int last = w->rank - 1;
  int64_t batch = n->in[0]->dims[0], channels = n->in[0]->dims[1], maps = n->in[1]->dims[1];
  int64_t group_channels = channels / p->group, group_maps = maps / p->group;
  int64_t in_size = 1, plane = 1, kernel_size = 1;
  for (int i = 0; i < w->rank; i++) {
    in_size *= w->in[i];
    plane *= w->out[i];
    kernel_size *= w->kernel[i];
  }
  int64_t row = w->out[last], in_row = w->in[last], taps = w->kernel[last];
  /* rows too long for the column sums on the stack sum each tap's products at once, into dW */
  bool per_column = taps * row * (int64_t)dtype_size(n->in[0]->dtype) <= CONV_ACC_BYTES;
  char *tap_at = last ? cn_format("%s + k", expr_times(lead_taps_expr(w), taps)) : cn_strdup("k");
  emitf(e, "/* %s */", window_describe(w));
  emitf(e, "/* output columns whose input column is inside the input, per kernel column */");
  window_emit_tap_ranges(e, w, row, in_row, "col");
  if (!per_column)
    emitf(e, "memset(Y0, 0, %lld * sizeof *Y0);", (long long)value_count(n->out[0]));
  emitf(e, "for (int64_t m = 0; m < %lld; m++) {", (long long)maps);
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)group_channels);
  char *channel = p->group > 1 ? cn_format("m / %lld * %lld + c", (long long)group_maps, (long long)group_channels)
                               : cn_strdup("c");
  emitf(e, "%s *dw = Y0 + (m * %lld + c) * %lld;", T, (long long)group_channels, (long long)kernel_size);
  /* the kernel taps of the leading axes, and for each the output rows whose input row is inside X */
  for (int a = 0; a < last; a++)
    emitf(e, "for (int64_t k%d = 0; k%d < %lld; k%d++) {", a, a, (long long)w->kernel[a], a);
  if (per_column)
    emitf(e, "%s acc[%lld][%lld] = {{0}}; /* per kernel column and output column */", T, (long long)taps,
          (long long)row);
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
  emitf(e, "const %s *dy = X1 + (n * %lld + m) * %lld;", T, (long long)maps, (long long)plane);
  emitf(e, "const %s *x = X0 + (n * %lld + %s) * %lld;", T, (long long)channels, channel, (long long)in_size);
  char *out_rows = cn_strdup("0"), *in_rows = cn_strdup("0");
  for (int a = 0; a < last; a++) {
    emitf(e, "for (int64_t o%d = 0; o%d < %lld; o%d++) {", a, a, (long long)w->out[a], a);
    emitf(e, "const int64_t i%d = %s;", a,
          expr_plus(cn_format("%s + %s", expr_times(cn_format("o%d", a), w->stride[a]),
                              expr_times(cn_format("k%d", a), w->dilation[a])),
                    -w->pad_begin[a]));
    emitf(e, "if (i%d < 0 || i%d >= %lld)", a, a, (long long)w->in[a]);
    emitf(e, "  continue; /* the padding */");
    out_rows = a == 0 ? cn_strdup("o0") : cn_format("%s + o%d", expr_times(out_rows, w->out[a]), a);
    in_rows = a == 0 ? cn_strdup("i0") : cn_format("%s + i%d", expr_times(in_rows, w->in[a]), a);
  }
  emitf(e, "const %s *dy_row = dy%s;", T, last ? cn_format(" + %s", expr_times(out_rows, row)) : "");
  emitf(e, "const %s *x_row = x%s;", T, last ? cn_format(" + %s", expr_times(in_rows, in_row)) : "");
  emitf(e, "for (int64_t k = 0; k < %lld; k++) {", (long long)taps);
  emitf(e, "const int64_t shift = %s; /* input column = %s + shift */",
        expr_plus(expr_times("k", w->dilation[last]), -w->pad_begin[last]), expr_times("o", w->stride[last]));
  if (per_column) {
    emitf(e, "for (int64_t o = col_begin[k]; o < col_end[k]; o++)");
    emitf(e, "  acc[k][o] += dy_row[o] * x_row[%s + shift];", expr_times("o", w->stride[last]));
  } else {
    emitf(e, "%s sum = 0;", T);
    emitf(e, "for (int64_t o = col_begin[k]; o < col_end[k]; o++)");
    emitf(e, "  sum += dy_row[o] * x_row[%s + shift];", expr_times("o", w->stride[last]));
    emitf(e, "dw[%s] += sum;", tap_at);
  }
  emitf(e, "}");
  emit_close(e, last); /* output rows of the leading axes */
  emitf(e, "}");       /* n */
  if (per_column) {
    emitf(e, "for (int64_t k = 0; k < %lld; k++) {", (long long)taps);
    emitf(e, "%s sum = 0;", T);
    emitf(e, "for (int64_t o = 0; o < %lld; o++)", (long long)row);
    emitf(e, "  sum += acc[k][o];");
    emitf(e, "dw[%s] = sum;", tap_at);
    emitf(e, "}");
  }
  emit_close(e, last); /* kernel taps of the leading axes */
  emitf(e, "}");       /* c */
  emitf(e, "}");       /* m */
}

/* ConvFlipWeights(W) -> W': W (M, C/group, kernel...) flipped along every spatial axis with its channel axes
 * swapped within each group: W'[g * C/group + c, m, t...] = W[g * M/group + m, c, kernel - 1 - t...]. The weights
 * of the Conv that computes a stride-1 Conv's input gradient; one strided copy. */
static void conv_flip_weights_infer(Graph *g, Node *n) {
  (void)g;
  const Value *w = n->in[0];
  int64_t group = attr_int(n, "group", 1), maps = w->dims[0], group_channels = w->dims[1];
  int64_t group_maps = maps / group, r = w->rank - 2, strides[CN_MAX_RANK];
  shape_strides(w->rank, w->dims, strides);
  int64_t dims[CN_MAX_RANK] = {group_channels * group, group_maps};
  StridedCopy *c = cn_alloc(sizeof *c);
  *c = (StridedCopy){.rank = 3 + (int)r, .dims = {group, group_channels, group_maps}};
  c->src_step[0] = group_maps * strides[0];
  c->src_step[1] = strides[1];
  c->src_step[2] = strides[0];
  for (int i = 0; i < r; i++) {
    dims[2 + i] = c->dims[3 + i] = w->dims[2 + i];
    c->src_step[3 + i] = -strides[2 + i];
    c->src_base += (w->dims[2 + i] - 1) * strides[2 + i];
  }
  value_set_shape(n->out[0], n, w->dtype, w->rank, dims);
  shape_strides(c->rank, c->dims, c->dst_step);
  n->params = c;
}

const OpDesc op_conv_flip_weights = {
    .kind = OP_CONV_FLIP_WEIGHTS, .name = "ConvFlipWeights", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = conv_flip_weights_infer, .emit = strided_copy_emit, .internal = true,
};

const OpDesc op_conv_grad_weight = {
    .kind = OP_CONV_GRAD_WEIGHT, .name = "ConvGradWeight", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = conv_grad_weight_infer, .emit = conv_grad_weight_emit, .internal = true,
    .simd = conv_gemm_weight_grad_simd, .emit_simd = conv_gemm_emit_weight_grad,
};
