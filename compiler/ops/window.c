/* Sliding-window geometry shared by Conv, ConvTranspose and the pools: attribute parsing, output sizes, and
 * the ranges of kernel taps and positions that stay inside the input, so kernels need no bounds checks. */
#include "../cnnc.h"

#include <string.h>

/* Larger kernel sizes, strides, dilations or pads are errors: this bound keeps every product of two of them,
 * and every index the generated code computes from them, inside int64_t. */
#define WINDOW_MAX_PARAM ((int64_t)1 << 31)

/* Reads an ints attribute with one value per spatial axis, each in [min, WINDOW_MAX_PARAM]; `dflt` when absent. */
static void read_axis_ints(const Node *n, const char *name, int rank, int64_t min, int64_t dflt, int64_t *out) {
  int64_t *v;
  int count = attr_ints(n, name, &v);
  if (count >= 0 && count != rank)
    cn_error_node(n, "%s has %d values; expected %d (one per spatial axis)", name, count, rank);
  for (int i = 0; i < rank; i++) {
    out[i] = count >= 0 ? v[i] : dflt;
    if (out[i] < min || out[i] > WINDOW_MAX_PARAM)
      cn_error_node(n, "%s[%d] = %lld; expected a value in [%lld, %lld]", name, i, (long long)out[i], (long long)min,
                    (long long)WINDOW_MAX_PARAM);
  }
}

void window_read(const Node *n, Window *w, const int64_t *kernel) {
  const Value *x = n->in[0];
  if (x->rank < 3)
    cn_error_node(n, "input 0 has shape %s; expected (N, C, spatial...) with at least one spatial axis",
                  value_shape_string(x));
  memset(w, 0, sizeof *w);
  w->rank = x->rank - 2;
  for (int i = 0; i < w->rank; i++) {
    w->in[i] = x->dims[i + 2];
    if (w->in[i] < 1)
      cn_error_node(n, "input 0 has shape %s: spatial axis %d is empty", value_shape_string(x), i);
  }
  const Attr *kernel_shape = node_attr(n, "kernel_shape");
  if (!kernel_shape && !kernel)
    cn_error_node(n, "attribute kernel_shape is required");
  if (kernel_shape) {
    read_axis_ints(n, "kernel_shape", w->rank, 1, 1, w->kernel);
    for (int i = 0; kernel && i < w->rank; i++)
      if (w->kernel[i] != kernel[i])
        cn_error_node(n, "kernel_shape[%d] = %lld, but the weights have kernel size %lld on that axis", i,
                      (long long)w->kernel[i], (long long)kernel[i]);
  } else {
    for (int i = 0; i < w->rank; i++) {
      w->kernel[i] = kernel[i];
      if (kernel[i] < 1 || kernel[i] > WINDOW_MAX_PARAM)
        cn_error_node(n, "the weights have kernel size %lld on spatial axis %d; expected at least 1",
                      (long long)kernel[i], i);
    }
  }
  read_axis_ints(n, "strides", w->rank, 1, 1, w->stride);
  read_axis_ints(n, "dilations", w->rank, 1, 1, w->dilation);
}

/* The extent of a dilated kernel: the distance from its first tap to one past its last. */
static int64_t dilated_kernel(const Window *w, int i) { return (w->kernel[i] - 1) * w->dilation[i] + 1; }

static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); }

/* Output size per spatial axis (ONNX Conv and pool specs):
 *   explicit pads:  out = floor((in + pad_begin + pad_end - ((kernel - 1) * dilation + 1)) / stride) + 1
 *                   (ceil_mode rounds the division up instead, but the last window must then start inside
 *                   the input or the left padding: windows starting in the right padding are dropped)
 *   VALID:          the same with no padding
 *   SAME_UPPER/LOWER: out = ceil(in / stride), padded by
 *                   total = max(0, (out - 1) * stride + ((kernel - 1) * dilation + 1) - in),
 *                   the odd unit going to the end (UPPER) or the beginning (LOWER). */
void window_forward(const Node *n, Window *w, bool ceil_mode) {
  const char *auto_pad = attr_string(n, "auto_pad", "NOTSET");
  bool same_upper = strcmp(auto_pad, "SAME_UPPER") == 0, same_lower = strcmp(auto_pad, "SAME_LOWER") == 0;
  bool valid = strcmp(auto_pad, "VALID") == 0, notset = strcmp(auto_pad, "NOTSET") == 0 || !auto_pad[0];
  if (!same_upper && !same_lower && !valid && !notset)
    cn_error_node(n, "auto_pad is '%s'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID",
                  cn_escape_c_string(auto_pad, 40));
  int64_t pads[2 * CN_MAX_RANK];
  read_axis_ints(n, "pads", 2 * w->rank, 0, 0, pads);
  for (int i = 0; i < 2 * w->rank; i++)
    if (!notset && pads[i] != 0)
      cn_error_node(n, "pads and auto_pad=%s cannot be used together", auto_pad);
  for (int i = 0; i < w->rank; i++) {
    int64_t span = dilated_kernel(w, i), s = w->stride[i];
    if (same_upper || same_lower) {
      w->out[i] = ceil_div(w->in[i], s);
      int64_t total = (w->out[i] - 1) * s + span - w->in[i];
      total = total > 0 ? total : 0;
      w->pad_begin[i] = same_upper ? total / 2 : total - total / 2;
      w->pad_end[i] = total - w->pad_begin[i];
      continue;
    }
    w->pad_begin[i] = pads[i];
    w->pad_end[i] = pads[i + w->rank];
    int64_t room = w->in[i] + w->pad_begin[i] + w->pad_end[i] - span;
    if (room < 0)
      cn_error_node(n, "on spatial axis %d the window (kernel %lld, dilation %lld) is larger than the padded input (%lld)",
                    i, (long long)w->kernel[i], (long long)w->dilation[i],
                    (long long)(w->in[i] + w->pad_begin[i] + w->pad_end[i]));
    if (ceil_mode) {
      w->out[i] = ceil_div(room, s) + 1;
      if ((w->out[i] - 1) * s >= w->in[i] + w->pad_begin[i])
        w->out[i]--;
    } else {
      w->out[i] = room / s + 1;
    }
  }
}

void window_positions(int64_t count, int64_t stride, int64_t shift, int64_t limit, int64_t *begin, int64_t *end) {
  int64_t b = shift >= 0 ? 0 : ceil_div(-shift, stride);
  int64_t last = limit - 1 - shift; /* p * stride <= last */
  int64_t e = last < 0 ? 0 : last / stride + 1;
  b = b < count ? b : count;
  e = e < count ? e : count;
  *begin = b;
  *end = e > b ? e : b;
}

void window_emit_taps(Emitter *e, const Window *w, int axis) {
  int64_t s = w->stride[axis], pb = w->pad_begin[axis], d = w->dilation[axis], k = w->kernel[axis];
  int64_t in = w->in[axis];
  int a = axis;
  char *start = s == 1 ? cn_format("o%d", a) : cn_format("o%d * %lld", a, (long long)s);
  if (pb != 0)
    start = cn_format("%s - %lld", start, (long long)pb);
  emitf(e, "const int64_t i%d = %s; /* input index under kernel tap 0 */", a, start);
  /* taps t with 0 <= i + t * d < in */
  if (pb == 0)
    emitf(e, "const int64_t k%d_begin = 0;", a);
  else if (d == 1)
    emitf(e, "const int64_t k%d_begin = i%d < 0 ? -i%d : 0;", a, a, a);
  else
    emitf(e, "const int64_t k%d_begin = i%d < 0 ? (-i%d + %lld) / %lld : 0;", a, a, a, (long long)(d - 1),
          (long long)d);
  int64_t last_tap = (w->out[axis] - 1) * s - pb + (k - 1) * d;
  if (last_tap < in)
    emitf(e, "const int64_t k%d_end = %lld;", a, (long long)k);
  else if (d == 1)
    emitf(e, "const int64_t k%d_end = %lld - i%d < %lld ? %lld - i%d : %lld;", a, (long long)in, a, (long long)k,
          (long long)in, a, (long long)k);
  else
    emitf(e, "const int64_t k%d_end = (%lld - i%d) / %lld < %lld ? (%lld - i%d) / %lld : %lld;", a,
          (long long)(in + d - 1), a, (long long)d, (long long)k, (long long)(in + d - 1), a, (long long)d,
          (long long)k);
}

char *expr_times(const char *expr, int64_t k) {
  if (k == 1)
    return cn_strdup(expr);
  if (strcmp(expr, "0") == 0 || k == 0)
    return cn_strdup("0");
  return strchr(expr, ' ') ? cn_format("(%s) * %lld", expr, (long long)k) : cn_format("%s * %lld", expr, (long long)k);
}

char *expr_plus(const char *expr, int64_t k) {
  if (k == 0)
    return cn_strdup(expr);
  if (strcmp(expr, "0") == 0)
    return cn_format("%lld", (long long)k);
  return cn_format("%s %c %lld", expr, k > 0 ? '+' : '-', (long long)(k > 0 ? k : -k));
}

/* "a x b" of one field of each axis. */
static char *axes(const Window *w, const int64_t *v) {
  char *s = cn_strdup("");
  for (int i = 0; i < w->rank; i++)
    s = cn_format("%s%s%lld", s, i ? "x" : "", (long long)v[i]);
  return s;
}

char *window_describe(const Window *w) {
  return cn_format("kernel %s, stride %s, dilation %s, pads %s before and %s after: input %s -> output %s",
                   axes(w, w->kernel), axes(w, w->stride), axes(w, w->dilation), axes(w, w->pad_begin),
                   axes(w, w->pad_end), axes(w, w->in), axes(w, w->out));
}

void window_check_conv_inputs(const Node *n, const char *w_layout) {
  check_input_type(n, 0, dtype_float_only, "float or double");
  const Value *x = n->in[0], *w = n->in[1];
  for (int i = 1; i < n->n_in; i++)
    if (n->in[i] && n->in[i]->dtype != x->dtype)
      cn_error_node(n, "input %d has element type %s; expected %s like X", i, dtype_name(n->in[i]->dtype),
                    dtype_name(x->dtype));
  if (x->rank < 3)
    cn_error_node(n, "X has shape %s; expected (N, C, spatial...) with at least one spatial axis",
                  value_shape_string(x));
  if (w->rank != x->rank)
    cn_error_node(n, "W has shape %s; expected rank %d (%s, kernel...) to match X %s", value_shape_string(w),
                  x->rank, w_layout, value_shape_string(x));
}

/* Written a line of values at a time: kernels can be long, and building one string would be quadratic. */
void window_emit_table(Emitter *e, const char *name, const int64_t *values, int64_t count) {
  emitf(e, "static const int64_t %s[%lld] = {", name, (long long)count);
  for (int64_t i = 0; i < count; i += 16) {
    char line[16 * 24], *p = line;
    for (int64_t k = i; k < count && k < i + 16; k++)
      p += sprintf(p, "%s%lld,", k > i ? " " : "", (long long)values[k]);
    emitf(e, "%s", line);
  }
  emitf(e, "};");
}

void window_emit_tap_ranges(Emitter *e, const Window *w, int64_t count, int64_t limit, const char *name) {
  int last = w->rank - 1;
  int64_t taps = w->kernel[last];
  int64_t *begins = cn_alloc_array((size_t)taps, sizeof(int64_t)), *ends = cn_alloc_array((size_t)taps, sizeof(int64_t));
  for (int64_t t = 0; t < taps; t++)
    window_positions(count, w->stride[last], t * w->dilation[last] - w->pad_begin[last], limit, &begins[t], &ends[t]);
  window_emit_table(e, cn_format("%s_begin", name), begins, taps);
  window_emit_table(e, cn_format("%s_end", name), ends, taps);
}

void window_set_attrs(Node *n, const Window *w) {
  int64_t pads[2 * CN_MAX_RANK];
  for (int i = 0; i < w->rank; i++) {
    pads[i] = w->pad_begin[i];
    pads[w->rank + i] = w->pad_end[i];
  }
  bw_attr_ints(n, "kernel_shape", w->rank, w->kernel);
  bw_attr_ints(n, "strides", w->rank, w->stride);
  bw_attr_ints(n, "dilations", w->rank, w->dilation);
  bw_attr_ints(n, "pads", 2 * w->rank, pads);
}
