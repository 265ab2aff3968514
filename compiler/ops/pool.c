/* Pooling: MaxPool (with the optional Indices output), AveragePool, LpPool over sliding windows, and the global
 * forms that reduce all spatial axes.
 *
 *   X (N, C, in...) -> Y (N, C, out...), out per axis as in window_forward (with ceil_mode for the windowed pools)
 *
 * Padding never contributes a value: MaxPool and LpPool skip it, AveragePool divides by the number of taps
 * inside the input (count_include_pad = 0) or inside the padded input (count_include_pad = 1). The kernels
 * visit only the taps inside the input, with loop bounds from window_emit_taps, so no tap needs a check. */
#include "../cnnc.h"

#include <math.h>
#include <string.h>

typedef enum PoolKind { POOL_MAX, POOL_AVERAGE, POOL_LP } PoolKind;

typedef struct PoolParams {
  PoolKind kind;
  Window w;
  bool count_include_pad; /* AveragePool */
  bool column_major;      /* MaxPool storage_order = 1: Indices flatten the spatial axes column-major */
  double p;               /* LpPool's norm */
  bool relu_grad;         /* MaxPoolGrad: X is a Relu's output, and the Relu's gradient is applied too */
} PoolParams;

static void set_pooled_shape(Node *n, Value *out, DType t, const int64_t *spatial) {
  const Value *x = n->in[0];
  int64_t dims[CN_MAX_RANK] = {x->dims[0], x->dims[1]};
  for (int i = 2; i < x->rank; i++)
    dims[i] = spatial[i - 2];
  value_set_shape(out, n, t, x->rank, dims);
}

static PoolParams *pool_infer_common(Node *n, PoolKind kind) {
  PoolParams *p = cn_alloc(sizeof *p);
  p->kind = kind;
  window_read(n, &p->w, NULL);
  window_forward(n, &p->w, attr_flag(n, "ceil_mode", false));
  n->params = p;
  set_pooled_shape(n, n->out[0], n->in[0]->dtype, p->w.out);
  return p;
}

static void max_pool_infer(Graph *g, Node *n) {
  (void)g;
  check_input_type(n, 0, dtype_any_numeric, "a numeric type");
  PoolParams *p = pool_infer_common(n, POOL_MAX);
  int64_t storage_order = attr_int(n, "storage_order", 0);
  if (storage_order != 0 && storage_order != 1)
    cn_error_node(n, "storage_order = %lld; expected 0 (row major) or 1 (column major)", (long long)storage_order);
  p->column_major = storage_order == 1;
  if (n->n_out > 1 && n->out[1])
    set_pooled_shape(n, n->out[1], DT_INT64, p->w.out);
}

static void average_pool_infer(Graph *g, Node *n) {
  (void)g;
  check_input_type(n, 0, dtype_float_only, "float or double");
  PoolParams *p = pool_infer_common(n, POOL_AVERAGE);
  p->count_include_pad = attr_flag(n, "count_include_pad", false);
}

static void lp_pool_infer(Graph *g, Node *n) {
  (void)g;
  check_input_type(n, 0, dtype_float_only, "float or double");
  PoolParams *p = pool_infer_common(n, POOL_LP);
  /* p was a float attribute in opset 1 and an int from opset 2 */
  const Attr *a = node_attr(n, "p");
  p->p = !a ? 2 : a->type == ATTR_FLOAT ? a->f : (double)attr_int(n, "p", 2);
  if (!(p->p > 0) || !isfinite(p->p))
    cn_error_node(n, "p = %g; expected a positive norm", p->p);
}

const Window *pool_window(const Node *n) {
  CN_ASSERT((n->op->kind == OP_MAX_POOL || n->op->kind == OP_AVERAGE_POOL || n->op->kind == OP_LP_POOL) && n->params);
  return &((const PoolParams *)n->params)->w;
}

/* Emits the pooled value of one window of x into `acc`; with `indices`, MaxPool also tracks `best_at`, the flat
 * spatial index of the first maximum, in the layout Indices asks for. With ring_rows > 0, input row i (axis 0) is
 * stored at row i % ring_rows, as a fused window reads it. */
static void emit_window_reduce(Emitter *e, DType t, const PoolParams *p, bool indices, int64_t ring_rows) {
  const Window *w = &p->w;
  const char *T = dtype_ctype(t);
  if (p->kind == POOL_MAX)
    emitf(e, "%s acc = %s;", T, emit_lowest(t));
  else
    emitf(e, "%s acc = 0;", T);
  if (indices)
    emitf(e, "int64_t best_at = 0;");
  char *at = cn_strdup("0"), *at_column_major = cn_strdup("0");
  int64_t column_stride = 1;
  for (int a = 0; a < w->rank; a++) {
    emitf(e, "for (int64_t k%d = k%d_begin; k%d < k%d_end; k%d++) {", a, a, a, a, a);
    char *index = cn_format("i%d + %s", a, expr_times(cn_format("k%d", a), w->dilation[a]));
    char *stored = a == 0 && ring_rows ? cn_format("(%s) %% %lld", index, (long long)ring_rows) : index;
    at = a == 0 ? stored : cn_format("%s + %s", expr_times(at, w->in[a]), index);
    at_column_major = a == 0 ? index : cn_format("%s + %s", at_column_major, expr_times(index, column_stride));
    column_stride *= w->in[a];
  }
  emitf(e, "const %s v = x[%s];", T, at);
  switch (p->kind) {
  case POOL_MAX:
    if (indices) {
      /* selects rather than a branch: which tap wins depends on the data, and a branch would mispredict */
      emitf(e, "const bool better = v > acc;");
      emitf(e, "best_at = better ? %s : best_at;", p->column_major ? at_column_major : at);
      emitf(e, "acc = better ? v : acc;");
    } else {
      emitf(e, "acc = v > acc ? v : acc;");
    }
    break;
  case POOL_AVERAGE: emitf(e, "acc += v;"); break;
  case POOL_LP:
    if (p->p == 1)
      emitf(e, "acc += %s(v);", emit_math_fn("fabs", t));
    else if (p->p == 2)
      emitf(e, "acc += v * v;");
    else
      emitf(e, "acc += %s(%s(v), %s);", emit_math_fn("pow", t), emit_math_fn("fabs", t), emit_float(p->p, t));
    break;
  }
  emit_close(e, w->rank);
}

/* The divisor of one AveragePool window: its taps inside the input, or inside the padded input. */
static char *average_count(const PoolParams *p) {
  const Window *w = &p->w;
  char *count = cn_strdup("");
  for (int a = 0; a < w->rank; a++) {
    char *taps;
    int64_t last_tap = (w->out[a] - 1) * w->stride[a] - w->pad_begin[a] + (w->kernel[a] - 1) * w->dilation[a];
    if (!p->count_include_pad)
      taps = cn_format("(k%d_end - k%d_begin)", a, a);
    else if (last_tap < w->in[a] + w->pad_end[a])
      taps = cn_format("%lld", (long long)w->kernel[a]);
    else /* ceil_mode windows can run past the end padding: count the taps before its end */
      taps = cn_format("(%lld - i%d) / %lld < %lld ? (%lld - i%d) / %lld : %lld",
                       (long long)(w->in[a] + w->pad_end[a] + w->dilation[a] - 1), a, (long long)w->dilation[a],
                       (long long)w->kernel[a], (long long)(w->in[a] + w->pad_end[a] + w->dilation[a] - 1), a,
                       (long long)w->dilation[a], (long long)w->kernel[a]);
    if (w->rank > 1 && strchr(taps, '?'))
      taps = cn_format("(%s)", taps);
    count = a == 0 ? taps : cn_format("%s * %s", count, taps);
  }
  return count;
}

/* Stores the finished window in y[out_at]. */
static void emit_pooled_store(Emitter *e, const Node *n, const PoolParams *p, const char *out_at) {
  DType t = n->in[0]->dtype;
  const char *T = dtype_ctype(t);
  switch (p->kind) {
  case POOL_MAX: emitf(e, "y[%s] = acc;", out_at); break;
  case POOL_AVERAGE: emitf(e, "y[%s] = acc / (%s)(%s);", out_at, T, average_count(p)); break;
  case POOL_LP:
    if (p->p == 1)
      emitf(e, "y[%s] = acc;", out_at);
    else if (p->p == 2)
      emitf(e, "y[%s] = %s(acc);", out_at, emit_math_fn("sqrt", t));
    else
      emitf(e, "y[%s] = %s(acc, %s);", out_at, emit_math_fn("pow", t), emit_float(1 / p->p, t));
    break;
  }
}

static void pool_emit(Emitter *e, const Node *n) {
  const PoolParams *p = n->params;
  const Window *w = &p->w;
  DType t = n->in[0]->dtype;
  const char *T = dtype_ctype(t);
  bool indices = p->kind == POOL_MAX && n->n_out > 1 && n->out[1];
  int64_t planes = n->in[0]->dims[0] * n->in[0]->dims[1], in_size = 1, out_size = 1;
  for (int a = 0; a < w->rank; a++) {
    in_size *= w->in[a];
    out_size *= w->out[a];
  }
  emitf(e, "/* %s */", window_describe(w));
  emitf(e, "/* one (n, c) plane at a time */");
  emitf(e, "for (int64_t plane = 0; plane < %lld; plane++) {", (long long)planes);
  emitf(e, "const %s *x = X0 + plane * %lld;", T, (long long)in_size);
  emitf(e, "%s *y = Y0 + plane * %lld;", T, (long long)out_size);
  if (indices)
    emitf(e, "int64_t *indices = Y1 + plane * %lld;", (long long)out_size);
  char *out_at = cn_strdup("0");
  for (int a = 0; a < w->rank; a++) {
    emitf(e, "for (int64_t o%d = 0; o%d < %lld; o%d++) {", a, a, (long long)w->out[a], a);
    window_emit_taps(e, w, a);
    out_at = a == 0 ? cn_strdup("o0") : cn_format("%s + o%d", expr_times(out_at, w->out[a]), a);
  }
  emit_window_reduce(e, t, p, indices, 0);
  emit_pooled_store(e, n, p, out_at);
  if (indices)
    emitf(e, "indices[%s] = plane * %lld + best_at; /* flat index into X */", out_at, (long long)in_size);
  emit_close(e, w->rank);
  emitf(e, "}");
}

/* Gradients: MaxPool routes each dY to the first maximum of its window, found again in X (as PyTorch breaks
 * ties); AveragePool spreads dY / count over the window's taps inside X. Both kernels are MaxPoolGrad(X, dY)
 * and AveragePoolGrad(dY), with the forward's window preset. */
static void pool_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  const PoolParams *p = n->params;
  if (!dy[0])
    return; /* only the Indices output is used */
  PoolParams *q = cn_alloc(sizeof *q);
  *q = *p;
  q->column_major = false;
  Node *b;
  if (p->kind == POOL_MAX) {
    Value *ins[2] = {n->in[0], dy[0]};
    b = bw_node(g, n, OP_MAX_POOL_GRAD, 2, ins, 1);
  } else {
    b = bw_node(g, n, OP_AVERAGE_POOL_GRAD, 1, dy, 1);
  }
  b->params = q;
  dx[0] = bw_finish(g, b);
}

void pool_emit_window_row(Emitter *e, const Node *pool, const char *x, int64_t ring_rows, const char *y) {
  const PoolParams *p = pool->params;
  const Window *w = &p->w;
  CN_ASSERT(w->rank == 2 && p->kind != POOL_LP);
  emitf(e, "const %s *x = %s;", dtype_ctype(pool->in[0]->dtype), x);
  emitf(e, "%s *y = %s;", dtype_ctype(pool->in[0]->dtype), y);
  window_emit_taps(e, w, 0);
  emitf(e, "for (int64_t o1 = 0; o1 < %lld; o1++) {", (long long)w->out[1]);
  window_emit_taps(e, w, 1);
  emit_window_reduce(e, pool->in[0]->dtype, p, false, ring_rows);
  emit_pooled_store(e, pool, p, "o1");
  emitf(e, "}");
}

/* On SIMD targets, a 2-D MaxPool (without Indices) or AveragePool whose input arrives channel-blocked runs
 * templates/pool_nchwc.c and writes a blocked output; a row-major input keeps the loop nest above. */
typedef struct PoolKernel {
  int vlen;
  int tile; /* output pixels per register tile */
} PoolKernel;

/* Whether a tensor of x's shape, blocked, stays below 2^31 elements (the templates index with int). */
static bool blocked_fits_int(const Value *x, int vlen) {
  int64_t padded = cn_mul_size(x->dims[0], (x->dims[1] + vlen - 1) / vlen * vlen);
  padded = cn_mul_size(padded, plane_size(x));
  return padded >= 0 && padded < INT32_MAX;
}

static bool pool_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  (void)g;
  const PoolParams *p = n->params;
  const Value *x = n->in[0];
  int vlen = target_vector_floats(t);
  bool indices = n->n_out > 1 && n->out[1];
  if (in_layout[0] != LAYOUT_NCHWC || x->dtype != DT_FLOAT || x->rank != 4 || indices ||
      !blocked_fits_int(x, vlen) || !blocked_fits_int(n->out[0], vlen))
    return false;
  PoolKernel *k = cn_alloc(sizeof *k);
  k->vlen = vlen;
  k->tile = p->w.out[1] < 4 ? (int)p->w.out[1] : 4;
  n->kernel = cn_format("%s NCHW%dc %lldx%lld, tile %d pixels", p->kind == POOL_MAX ? "max pool" : "average pool",
                        vlen, (long long)p->w.kernel[0], (long long)p->w.kernel[1], k->tile);
  n->kernel_params = k;
  out_layout[0] = LAYOUT_NCHWC;
  return true;
}

static void pool_emit_simd(Emitter *e, const Node *n) {
  const PoolParams *p = n->params;
  const PoolKernel *k = n->kernel_params;
  const Window *w = &p->w;
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  Instance *t = tpl_begin(e, "pool_nchwc.c", fn);
  tpl_int(t, "BATCH", n->in[0]->dims[0]);
  tpl_int(t, "CHANNELS", n->in[0]->dims[1]);
  static const char *const sizes[][2] = {{"IH", "IW"}, {"OH", "OW"}, {"KH", "KW"}, {"SH", "SW"}, {"DH", "DW"},
                                         {"PT", "PL"}, {"PB", "PR"}};
  const int64_t *values[] = {w->in, w->out, w->kernel, w->stride, w->dilation, w->pad_begin, w->pad_end};
  for (int s = 0; s < 7; s++)
    for (int a = 0; a < 2; a++)
      tpl_int(t, sizes[s][a], values[s][a]);
  tpl_int(t, "POOL_MAX", p->kind == POOL_MAX);
  tpl_int(t, "COUNT_INCLUDE_PAD", p->count_include_pad);
  tpl_list(t, "TILE", k->tile);
  tpl_end(t);
  emitf(e, "%s(%s, %s);", fn, emit_in(n, 0), emit_out(n, 0));
}

const OpDesc op_max_pool = {
    .kind = OP_MAX_POOL, .name = "MaxPool", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 2,
    .infer = max_pool_infer, .emit = pool_emit, .simd = pool_simd, .emit_simd = pool_emit_simd,
    .grad = pool_grad,
};

const OpDesc op_average_pool = {
    .kind = OP_AVERAGE_POOL, .name = "AveragePool", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = average_pool_infer, .emit = pool_emit, .simd = pool_simd, .emit_simd = pool_emit_simd,
    .grad = pool_grad,
};

/* dY's shape is the pooled one: (N, C, out...); dX gets (N, C, in...). */
static void pool_grad_infer(Graph *g, Node *n) {
  (void)g;
  const PoolParams *p = n->params;
  const Value *dy = n->in[n->n_in - 1];
  CN_ASSERT(p && dy->rank == p->w.rank + 2);
  for (int i = 0; i < p->w.rank; i++)
    CN_ASSERT(dy->dims[i + 2] == p->w.out[i]);
  int64_t dims[CN_MAX_RANK] = {dy->dims[0], dy->dims[1]};
  for (int i = 0; i < p->w.rank; i++)
    dims[i + 2] = p->w.in[i];
  value_set_shape(n->out[0], n, dy->dtype, dy->rank, dims);
}

/* The taps of a MaxPool window that tiles its 2-D input (stride = kernel, no padding or dilation) whose
 * MaxPoolGrad gets the loop below; more become too much straight-line code. */
#define TILING_MAX_TAPS 16

static bool windows_tile(const Window *w) {
  if (w->rank != 2 || w->kernel[0] * w->kernel[1] > TILING_MAX_TAPS)
    return false;
  for (int a = 0; a < 2; a++)
    if (w->stride[a] != w->kernel[a] || w->dilation[a] != 1 || w->pad_begin[a] || w->pad_end[a] ||
        w->out[a] * w->stride[a] > w->in[a])
      return false;
  return true;
}

/* MaxPoolGrad over windows that tile X: per window, its taps are read once into locals, the first maximum is
 * found as emit_window_reduce finds it (the winner's index kept with a mask, not a select, which gcc turns into
 * branches that mispredict), and every tap of dX is written from a local array holding dY at the winner and 0
 * elsewhere. Each element of dX is stored once, with no clearing first and no scattered additions. Rows and
 * columns past the last whole window are cleared. */
static void emit_tiling_max_pool_grad(Emitter *e, const Node *n) {
  const PoolParams *p = n->params;
  const Window *w = &p->w;
  const Value *dy = n->in[1];
  const char *T = dtype_ctype(dy->dtype);
  int64_t kh = w->kernel[0], kw = w->kernel[1], in_w = w->in[1], out_w = w->out[1];
  int64_t planes = dy->dims[0] * dy->dims[1], in_size = w->in[0] * in_w, out_size = w->out[0] * out_w;
  int64_t covered_rows = w->out[0] * kh, covered_cols = out_w * kw;
  emitf(e, "/* %s: the windows tile X */", window_describe(w));
  if (p->relu_grad)
    emitf(e, "/* X is a Relu's output: dX is its input's gradient, 0 where X is not positive */");
  emitf(e, "for (int64_t plane = 0; plane < %lld; plane++) {", (long long)planes);
  emitf(e, "const %s *x = X0 + plane * %lld;", T, (long long)in_size);
  emitf(e, "const %s *dy = X1 + plane * %lld;", T, (long long)out_size);
  emitf(e, "%s *dx = Y0 + plane * %lld;", T, (long long)in_size);
  emitf(e, "for (int64_t o0 = 0; o0 < %lld; o0++) {", (long long)w->out[0]);
  emitf(e, "const %s *xr = x + o0 * %lld;", T, (long long)(kh * in_w));
  emitf(e, "%s *dxr = dx + o0 * %lld;", T, (long long)(kh * in_w));
  emitf(e, "for (int64_t o1 = 0; o1 < %lld; o1++) {", (long long)out_w);
  emitf(e, "const %s g = dy[o0 * %lld + o1];", T, (long long)out_w);
  emitf(e, "%s acc = %s;", T, emit_lowest(dy->dtype));
  emitf(e, "int best = 0;");
  for (int64_t r = 0; r < kh; r++)
    for (int64_t c = 0; c < kw; c++) {
      int64_t tap = r * kw + c;
      emitf(e, "const %s v%lld = xr[%s];", T, (long long)tap,
            expr_plus(expr_times("o1", kw), r * in_w + c));
      emitf(e, "best ^= (best ^ %lld) & -(int)(v%lld > acc);", (long long)tap, (long long)tap);
      emitf(e, "acc = v%lld > acc ? v%lld : acc;", (long long)tap, (long long)tap);
    }
  emitf(e, "%s taps[%lld] = {0};", T, (long long)(kh * kw));
  /* acc is X at the winner, unless no tap beat -inf and the first tap won by default: then it is not positive */
  emitf(e, "taps[best] = %s;", p->relu_grad ? "acc > 0 ? g : 0" : "g");
  for (int64_t r = 0; r < kh; r++)
    for (int64_t c = 0; c < kw; c++)
      emitf(e, "dxr[%s] = taps[%lld];", expr_plus(expr_times("o1", kw), r * in_w + c), (long long)(r * kw + c));
  emitf(e, "}");
  if (covered_cols < in_w) {
    emitf(e, "for (int64_t r = 0; r < %lld; r++) /* columns no window covers */", (long long)kh);
    emitf(e, "  memset(dxr + r * %lld + %lld, 0, %lld * sizeof *dxr);", (long long)in_w, (long long)covered_cols,
          (long long)(in_w - covered_cols));
  }
  emitf(e, "}");
  if (covered_rows < w->in[0])
    emitf(e, "memset(dx + %lld, 0, %lld * sizeof *dx); /* rows no window covers */",
          (long long)(covered_rows * in_w), (long long)((w->in[0] - covered_rows) * in_w));
  emitf(e, "}");
}

bool pool_grad_absorb_relu(Node *pool_grad, const Value *y) {
  if (pool_grad->op->kind != OP_MAX_POOL_GRAD || pool_grad->in[0] != y)
    return false;
  PoolParams *p = pool_grad->params;
  if (!windows_tile(&p->w) || p->relu_grad)
    return false;
  p->relu_grad = true;
  return true;
}

static void pool_grad_emit(Emitter *e, const Node *n) {
  const PoolParams *p = n->params;
  const Window *w = &p->w;
  bool max = p->kind == POOL_MAX;
  if (max && windows_tile(w)) {
    emit_tiling_max_pool_grad(e, n);
    return;
  }
  const Value *dy = n->in[n->n_in - 1];
  DType t = dy->dtype;
  const char *T = dtype_ctype(t);
  int64_t planes = dy->dims[0] * dy->dims[1], in_size = 1, out_size = 1;
  for (int a = 0; a < w->rank; a++) {
    in_size *= w->in[a];
    out_size *= w->out[a];
  }
  emitf(e, "/* %s */", window_describe(w));
  emitf(e, "memset(Y0, 0, %lld * sizeof *Y0);", (long long)value_count(n->out[0]));
  emitf(e, "for (int64_t plane = 0; plane < %lld; plane++) {", (long long)planes);
  if (max)
    emitf(e, "const %s *x = X0 + plane * %lld;", T, (long long)in_size);
  emitf(e, "const %s *dy = %s + plane * %lld;", T, max ? "X1" : "X0", (long long)out_size);
  emitf(e, "%s *dx = Y0 + plane * %lld;", T, (long long)in_size);
  char *out_at = cn_strdup("0"), *at = cn_strdup("0");
  for (int a = 0; a < w->rank; a++) {
    emitf(e, "for (int64_t o%d = 0; o%d < %lld; o%d++) {", a, a, (long long)w->out[a], a);
    window_emit_taps(e, w, a);
    out_at = a == 0 ? cn_strdup("o0") : cn_format("%s + o%d", expr_times(out_at, w->out[a]), a);
  }
  if (max) {
    emit_window_reduce(e, t, p, true, 0);
    emitf(e, "dx[best_at] += dy[%s];", out_at);
  } else {
    emitf(e, "const %s share = dy[%s] / (%s)(%s);", T, out_at, T, average_count(p));
    for (int a = 0; a < w->rank; a++) {
      emitf(e, "for (int64_t k%d = k%d_begin; k%d < k%d_end; k%d++) {", a, a, a, a, a);
      char *index = cn_format("i%d + %s", a, expr_times(cn_format("k%d", a), w->dilation[a]));
      at = a == 0 ? index : cn_format("%s + %s", expr_times(at, w->in[a]), index);
    }
    emitf(e, "dx[%s] += share;", at);
    emit_close(e, w->rank);
  }
  emit_close(e, w->rank);
  emitf(e, "}");
}

const OpDesc op_max_pool_grad = {
    .kind = OP_MAX_POOL_GRAD, .name = "MaxPoolGrad", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = pool_grad_infer, .emit = pool_grad_emit, .internal = true,
};

const OpDesc op_average_pool_grad = {
    .kind = OP_AVERAGE_POOL_GRAD, .name = "AveragePoolGrad", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = pool_grad_infer, .emit = pool_grad_emit, .internal = true,
};

const OpDesc op_lp_pool = {
    .kind = OP_LP_POOL, .name = "LpPool", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = lp_pool_infer, .emit = pool_emit,
};

/* GlobalAveragePool and GlobalMaxPool: one value per (n, c) plane, Y (N, C, 1, ...). */
static void global_pool_infer(Graph *g, Node *n) {
  (void)g;
  const Value *x = n->in[0];
  if (n->op->kind == OP_GLOBAL_AVERAGE_POOL)
    check_input_type(n, 0, dtype_float_only, "float or double");
  else
    check_input_type(n, 0, dtype_any_numeric, "a numeric type");
  if (x->rank < 3)
    cn_error_node(n, "input 0 has shape %s; expected (N, C, spatial...) with at least one spatial axis",
                  value_shape_string(x));
  const int64_t ones[CN_MAX_RANK] = {1, 1, 1, 1, 1, 1, 1, 1};
  set_pooled_shape(n, n->out[0], x->dtype, ones);
}

static void global_pool_emit(Emitter *e, const Node *n) {
  const Value *x = n->in[0];
  DType t = x->dtype;
  const char *T = dtype_ctype(t);
  bool average = n->op->kind == OP_GLOBAL_AVERAGE_POOL;
  int64_t planes = x->dims[0] * x->dims[1], size = value_count(x) / (planes ? planes : 1);
  emitf(e, "/* one (n, c) plane at a time */");
  emitf(e, "for (int64_t plane = 0; plane < %lld; plane++) {", (long long)planes);
  emitf(e, "const %s *x = X0 + plane * %lld;", T, (long long)size);
  /* a plane can hold many thousand elements: the average sums in double */
  if (average)
    emitf(e, "double acc = 0;");
  else
    emitf(e, "%s acc = %s;", T, emit_lowest(t));
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)size);
  emitf(e, average ? "  acc += x[i];" : "  acc = x[i] > acc ? x[i] : acc;");
  if (average)
    emitf(e, "Y0[plane] = (%s)(acc / %lld);", T, (long long)size);
  else
    emitf(e, "Y0[plane] = acc;");
  emitf(e, "}");
}

/* On SIMD targets a blocked float input runs templates/global_pool_nchwc.c, which writes the (N, C, 1, ...)
 * result row-major: the classifier after it reads it so. */
static bool global_pool_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  (void)g;
  const Value *x = n->in[0];
  int vlen = target_vector_floats(t);
  if (in_layout[0] != LAYOUT_NCHWC || x->dtype != DT_FLOAT || !blocked_fits_int(x, vlen))
    return false;
  n->kernel = cn_format("global %s pool NCHW%dc", n->op->kind == OP_GLOBAL_AVERAGE_POOL ? "average" : "max", vlen);
  out_layout[0] = LAYOUT_ROW_MAJOR;
  return true;
}

static void global_pool_emit_simd(Emitter *e, const Node *n) {
  const Value *x = n->in[0];
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  Instance *t = tpl_begin(e, "global_pool_nchwc.c", fn);
  tpl_int(t, "BATCH", x->dims[0]);
  tpl_int(t, "CHANNELS", x->dims[1]);
  tpl_int(t, "SIZE", plane_size(x));
  tpl_int(t, "POOL_MAX", n->op->kind == OP_GLOBAL_MAX_POOL);
  tpl_int(t, "OUT_NCHWC", 0);
  tpl_end(t);
  emitf(e, "%s(%s, %s);", fn, emit_in(n, 0), emit_out(n, 0));
}

/* dX = dY / size, broadcast over each plane. */
static void global_average_pool_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  Value *x = n->in[0];
  int64_t planes = x->dims[0] * x->dims[1];
  double size = (double)(value_count(x) / (planes ? planes : 1));
  Value *share = bw_binary(g, n, OP_DIV, dy[0], bw_scalar(g, x->dtype, size));
  Value *ins[2] = {share, bw_ints(g, x->rank, x->dims)};
  dx[0] = bw_finish(g, bw_node(g, n, OP_EXPAND, 2, ins, 1));
}

const OpDesc op_global_average_pool = {
    .kind = OP_GLOBAL_AVERAGE_POOL, .name = "GlobalAveragePool", .min_in = 1, .max_in = 1, .min_out = 1,
    .max_out = 1, .infer = global_pool_infer, .emit = global_pool_emit, .simd = global_pool_simd,
    .emit_simd = global_pool_emit_simd,
    .grad = global_average_pool_grad,
};

const OpDesc op_global_max_pool = {
    .kind = OP_GLOBAL_MAX_POOL, .name = "GlobalMaxPool", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = global_pool_infer, .emit = global_pool_emit, .simd = global_pool_simd,
    .emit_simd = global_pool_emit_simd,
};
