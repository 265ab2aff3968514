/* ConvTranspose: the gradient of Conv with respect to its input, used as a learned upsampling.
 *
 *   X (N, C, in...), W (C, M / group, kernel...), B (M) -> Y (N, M, out...)
 *   Y[n, m, o...] = B[m] + sum of X[n, g * C/group + c, i...] * W[g * C/group + c, m - g * M/group, t...]
 *                   over all c, i, t with o = i * stride + t * dilation - pad_begin on every axis
 *
 * Output size per axis (ONNX spec):
 *   out = stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - pad_begin - pad_end,
 * or output_shape when given, or in * stride for auto_pad SAME_*; in those two cases the padding is derived:
 *   total = stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - out,
 *   pad_begin = total / 2 (SAME_UPPER) or total - total / 2 (otherwise).
 *
 * The generated kernel gathers one output row at a time: for each kernel tap of the leading axes it finds the
 * input row that lands on this output row (if any), then scatters that input row, weighted by each tap of the
 * last axis, into the output row (in phases when the last axis has a stride, see below). Per-tap tables give the
 * input columns that land inside the output. */
#include "../cnnc.h"

#include <string.h>

/* Bytes of local accumulator rows per output row: small enough for any thread's stack. */
#define CONV_TRANSPOSE_ACC_BYTES (32 << 10)

typedef struct ConvTransposeParams {
  Window w;
  int64_t group;
} ConvTransposeParams;

/* Pads and output size from explicit pads, output_shape, or auto_pad; see the formulas above. */
static void transpose_output(const Node *n, Window *w) {
  int r = w->rank;
  int64_t output_padding[CN_MAX_RANK] = {0}, pads[2 * CN_MAX_RANK] = {0}, *v;
  int count = attr_ints(n, "output_padding", &v);
  if (count >= 0 && count != r)
    cn_error_node(n, "output_padding has %d values; expected %d (one per spatial axis)", count, r);
  for (int i = 0; i < count; i++) {
    output_padding[i] = v[i];
    if (v[i] < 0 || v[i] >= (w->stride[i] > w->dilation[i] ? w->stride[i] : w->dilation[i]))
      cn_error_node(n, "output_padding[%d] = %lld; expected at least 0 and less than the stride or the dilation", i,
                    (long long)v[i]);
  }
  count = attr_ints(n, "pads", &v);
  if (count >= 0 && count != 2 * r)
    cn_error_node(n, "pads has %d values; expected %d (begin and end per spatial axis)", count, 2 * r);
  for (int i = 0; i < count; i++) {
    pads[i] = v[i];
    if (v[i] < 0 || v[i] > ((int64_t)1 << 31))
      cn_error_node(n, "pads[%d] = %lld; expected a value in [0, 2^31]", i, (long long)v[i]);
  }
  const char *auto_pad = attr_string(n, "auto_pad", "NOTSET");
  bool same_upper = strcmp(auto_pad, "SAME_UPPER") == 0, same_lower = strcmp(auto_pad, "SAME_LOWER") == 0;
  if (!same_upper && !same_lower && strcmp(auto_pad, "VALID") != 0 && strcmp(auto_pad, "NOTSET") != 0 && auto_pad[0])
    cn_error_node(n, "auto_pad is '%s'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID",
                  cn_escape_c_string(auto_pad, 40));
  int64_t *shape;
  int shape_count = attr_ints(n, "output_shape", &shape);
  /* output_shape lists the spatial sizes, though some exporters give the whole shape (N, M, spatial...) */
  if (shape_count == r + 2)
    shape += 2;
  else if (shape_count >= 0 && shape_count != r)
    cn_error_node(n, "output_shape has %d values; expected %d (one per spatial axis)", shape_count, r);
  for (int i = 0; i < r; i++) {
    int64_t spread = cn_mul_size(w->stride[i], w->in[i] - 1); /* -1 on overflow */
    if (spread < 0 || spread > ((int64_t)1 << 40))
      cn_error_node(n, "on spatial axis %d, stride %lld over %lld inputs makes the output too large", i,
                    (long long)w->stride[i], (long long)w->in[i]);
    int64_t full = spread + output_padding[i] + (w->kernel[i] - 1) * w->dilation[i] + 1;
    if (shape_count >= 0 || same_upper || same_lower) {
      w->out[i] = shape_count >= 0 ? shape[i] : w->in[i] * w->stride[i];
      if (w->out[i] < 1 || w->out[i] > ((int64_t)1 << 40))
        cn_error_node(n, "output size %lld on spatial axis %d; expected a positive size", (long long)w->out[i], i);
      /* a larger output than the input reaches is padded at the end with the bias alone */
      int64_t total = full - w->out[i] > 0 ? full - w->out[i] : 0;
      w->pad_begin[i] = same_upper ? total / 2 : total - total / 2;
      w->pad_end[i] = total - w->pad_begin[i];
    } else {
      w->pad_begin[i] = pads[i];
      w->pad_end[i] = pads[i + r];
      w->out[i] = full - w->pad_begin[i] - w->pad_end[i];
      if (w->out[i] < 1)
        cn_error_node(n, "on spatial axis %d the pads (%lld, %lld) remove the whole output (%lld)", i,
                      (long long)w->pad_begin[i], (long long)w->pad_end[i], (long long)full);
    }
  }
}

static void conv_transpose_infer(Graph *g, Node *n) {
  (void)g;
  window_check_conv_inputs(n, "C, M/group");
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
  ConvTransposeParams *p = cn_alloc(sizeof *p);
  p->group = attr_int(n, "group", 1);
  int64_t channels = x->dims[1];
  if (p->group < 1 || p->group > channels || channels % p->group != 0)
    cn_error_node(n, "group = %lld must be at least 1 and divide the %lld input channels", (long long)p->group,
                  (long long)channels);
  if (w->dims[0] != channels)
    cn_error_node(n, "W has shape %s; expected %lld input channels first, like X", value_shape_string(w),
                  (long long)channels);
  int64_t maps = w->dims[1] * p->group;
  if (b && (b->rank != 1 || b->dims[0] != maps))
    cn_error_node(n, "B has shape %s; expected (%lld), one bias per output channel", value_shape_string(b),
                  (long long)maps);
  window_read(n, &p->w, w->dims + 2);
  transpose_output(n, &p->w);
  n->params = p;

  int64_t dims[CN_MAX_RANK] = {x->dims[0], maps};
  for (int i = 0; i < p->w.rank; i++)
    dims[i + 2] = p->w.out[i];
  value_set_shape(n->out[0], n, x->dtype, x->rank, dims);
}

static void conv_transpose_emit(Emitter *e, const Node *n) {
  const ConvTransposeParams *p = n->params;
  const Window *w = &p->w;
  const char *T = dtype_ctype(n->in[0]->dtype);
  int last = w->rank - 1;
  int64_t batch = n->in[0]->dims[0], channels = n->in[0]->dims[1], maps = n->out[0]->dims[1];
  int64_t group_channels = channels / p->group, group_maps = maps / p->group;
  int64_t in_size = 1, plane = 1, kernel_size = 1;
  for (int i = 0; i < w->rank; i++) {
    in_size *= w->in[i];
    plane *= w->out[i];
    kernel_size *= w->kernel[i];
  }
  int64_t row = w->out[last], in_row = w->in[last];

  emitf(e, "/* %s */", window_describe(w));
  /* For each kernel tap t of the last axis, the input columns i whose output column
   * i * stride + t * dilation - pad_begin lies inside the output. */
  emitf(e, "/* input columns whose output column is inside the output, per kernel column */");
  window_emit_tap_ranges(e, w, in_row, row, "col");
  /* With a stride on the last axis, the output row is accumulated in `stride` phases: tap k lands input column i on
   * output column i * stride + k * dilation - pad_begin, that is on element i + tap_shift[k] of phase tap_phase[k],
   * so the innermost loop runs contiguously over both rows. The phases are interleaved into Y at the end. */
  int64_t stride = w->stride[last], phase_len = (row + stride - 1) / stride;
  bool phased = stride > 1 && stride * phase_len * (int64_t)dtype_size(n->in[0]->dtype) <= CONV_TRANSPOSE_ACC_BYTES;
  if (phased) {
    int64_t taps = w->kernel[last];
    int64_t *phases = cn_alloc_array((size_t)taps, sizeof *phases);
    int64_t *shifts = cn_alloc_array((size_t)taps, sizeof *shifts);
    for (int64_t k = 0; k < taps; k++) {
      int64_t offset = k * w->dilation[last] - w->pad_begin[last];
      phases[k] = (offset % stride + stride) % stride;
      shifts[k] = (offset - phases[k]) / stride;
    }
    emitf(e, "/* per kernel column: the phase its output columns fall in, and their index there minus the input's */");
    window_emit_table(e, "tap_phase", phases, taps);
    window_emit_table(e, "tap_shift", shifts, taps);
  }

  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
  emitf(e, "for (int64_t m = 0; m < %lld; m++) {", (long long)maps);
  if (p->group > 1) {
    emitf(e, "const int64_t first_channel = m / %lld * %lld; /* of m's group */", (long long)group_maps,
          (long long)group_channels);
    emitf(e, "const int64_t map = m %% %lld; /* within the group */", (long long)group_maps);
  }
  emitf(e, "%s *out = Y0 + (n * %lld + m) * %lld;", T, (long long)maps, (long long)plane);
  char *out_row = cn_strdup("0");
  for (int a = 0; a < last; a++) {
    emitf(e, "for (int64_t o%d = 0; o%d < %lld; o%d++) {", a, a, (long long)w->out[a], a);
    out_row = a == 0 ? cn_strdup("o0") : cn_format("%s + o%d", expr_times(out_row, w->out[a]), a);
  }
  emitf(e, "%s *y = out%s;", T, last ? cn_format(" + %s", expr_times(out_row, row)) : "");
  const char *bias = node_in(n, 2) ? "X2[m]" : "0";
  if (phased) {
    emitf(e, "%s phase[%lld][%lld]; /* output column j * %lld + r at phase[r][j] */", T, (long long)stride,
          (long long)phase_len, (long long)stride);
    emitf(e, "for (int64_t r = 0; r < %lld; r++)", (long long)stride);
    emitf(e, "  for (int64_t j = 0; j < %lld; j++)", (long long)phase_len);
    emitf(e, "    phase[r][j] = %s;", bias);
  } else {
    emitf(e, "for (int64_t o = 0; o < %lld; o++)", (long long)row);
    emitf(e, "  y[o] = %s;", bias);
  }
  /* the input rows landing on this output row: o = i * stride + t * dilation - pad_begin on each leading axis */
  char *in_rows = cn_strdup("0"), *taps = cn_strdup("0");
  for (int a = 0; a < last; a++) {
    emitf(e, "for (int64_t k%d = 0; k%d < %lld; k%d++) {", a, a, (long long)w->kernel[a], a);
    char *landing = expr_plus(cn_format("o%d - %s", a, expr_times(cn_format("k%d", a), w->dilation[a])),
                              w->pad_begin[a]);
    if (w->stride[a] == 1) {
      emitf(e, "const int64_t i%d = %s; /* the input row landing on this output row */", a, landing);
      emitf(e, "if (i%d < 0 || i%d >= %lld)", a, a, (long long)w->in[a]);
      emitf(e, "  continue;");
    } else {
      emitf(e, "const int64_t t%d = %s; /* i%d * %lld for the input row i%d landing here */", a, landing, a,
            (long long)w->stride[a], a);
      emitf(e, "if (t%d < 0 || t%d %% %lld != 0 || t%d >= %lld)", a, a, (long long)w->stride[a], a,
            (long long)(w->in[a] * w->stride[a]));
      emitf(e, "  continue;");
      emitf(e, "const int64_t i%d = t%d / %lld;", a, a, (long long)w->stride[a]);
    }
    in_rows = a == 0 ? cn_format("i%d", a) : cn_format("%s + i%d", expr_times(in_rows, w->in[a]), a);
    taps = a == 0 ? cn_format("k%d", a) : cn_format("%s + k%d", expr_times(taps, w->kernel[a]), a);
  }
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)group_channels);
  char *channel = p->group > 1 ? cn_strdup("first_channel + c") : cn_strdup("c");
  char *x_row = cn_format("(n * %lld + %s) * %lld", (long long)channels, channel, (long long)in_size);
  if (last)
    x_row = cn_format("%s + %s", x_row, expr_times(in_rows, in_row));
  emitf(e, "const %s *x_row = X0 + %s;", T, x_row);
  char *weights = cn_format("%s + %s", expr_times(channel, group_maps), p->group > 1 ? "map" : "m");
  weights = expr_times(weights, kernel_size);
  if (last)
    weights = cn_format("%s + %s", weights, expr_times(taps, w->kernel[last]));
  emitf(e, "const %s *weights = X1 + %s;", T, weights);
  emitf(e, "for (int64_t k = 0; k < %lld; k++) {", (long long)w->kernel[last]);
  emitf(e, "const %s weight = weights[k];", T);
  if (phased) {
    emitf(e, "%s *acc = phase[tap_phase[k]];", T);
    emitf(e, "const int64_t shift = tap_shift[k];");
    emitf(e, "for (int64_t i = col_begin[k]; i < col_end[k]; i++)");
    emitf(e, "  acc[i + shift] += weight * x_row[i];");
  } else {
    emitf(e, "const int64_t shift = %s; /* output column = %s + shift */",
          expr_plus(expr_times("k", w->dilation[last]), -w->pad_begin[last]), expr_times("i", w->stride[last]));
    emitf(e, "for (int64_t i = col_begin[k]; i < col_end[k]; i++)");
    emitf(e, "  y[%s + shift] += weight * x_row[i];", expr_times("i", w->stride[last]));
  }
  emitf(e, "}");       /* k */
  emitf(e, "}");       /* c */
  emit_close(e, last); /* kernel taps of the leading axes */
  if (phased) {
    emitf(e, "for (int64_t j = 0; j < %lld; j++)", (long long)phase_len);
    emitf(e, "  for (int64_t r = 0; r < %lld && j * %lld + r < %lld; r++)", (long long)stride, (long long)stride,
          (long long)row);
    emitf(e, "    y[j * %lld + r] = phase[r][j];", (long long)stride);
  }
  emit_close(e, last); /* output rows */
  emitf(e, "}");       /* m */
  emitf(e, "}");       /* n */
}

/* ConvTranspose is the adjoint of a Conv over the same window from its output back to its input, so its gradients
 * are that Conv's: dX = Conv(dY, W), dW = ConvGradWeight(dY, X) (dY in the Conv input's place), dB the sum of dY
 * over all but the channel axis. The Conv must map the output size back to the input size, which explicit pads
 * guarantee; an output_shape larger than the pads give (filled with the bias alone) is not trained. */
static void conv_transpose_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  const ConvTransposeParams *p = n->params;
  Value *x = n->in[0], *weights = n->in[1], *b = node_in(n, 2);
  Window conv = p->w;
  for (int i = 0; i < conv.rank; i++) {
    conv.in[i] = p->w.out[i];
    conv.out[i] = p->w.in[i];
    int64_t room = conv.in[i] + conv.pad_begin[i] + conv.pad_end[i] - ((conv.kernel[i] - 1) * conv.dilation[i] + 1);
    if (room < 0 || room / conv.stride[i] + 1 != conv.out[i])
      cn_error_node(n, "cnnc trains ConvTranspose when its pads give its output size; on spatial axis %d the output "
                       "is %lld",
                    i, (long long)p->w.out[i]);
  }
  if (x->requires_grad) {
    Value *ins[2] = {dy[0], weights};
    Node *t = bw_node(g, n, OP_CONV, 2, ins, 1);
    window_set_attrs(t, &conv);
    bw_attr_int(t, "group", p->group);
    dx[0] = bw_finish(g, t);
  }
  if (weights->requires_grad) {
    Value *ins[2] = {dy[0], x};
    Node *t = bw_node(g, n, OP_CONV_GRAD_WEIGHT, 2, ins, 1);
    window_set_attrs(t, &conv);
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

const OpDesc op_conv_transpose = {
    .kind = OP_CONV_TRANSPOSE, .name = "ConvTranspose", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = conv_transpose_infer, .emit = conv_transpose_emit, .grad = conv_transpose_grad,
};
