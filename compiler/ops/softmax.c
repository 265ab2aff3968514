/* Softmax and LogSoftmax. Before opset 13 the input is seen as a matrix [outer, len] split at `axis`
 * (default 1) and each row is normalized; from opset 13 only the dimension `axis` (default -1) is. Both
 * cases are a loop over [outer, len, inner] that normalizes along len, with inner = 1 before opset 13. */
#include "../cnnc.h"

typedef struct SoftmaxParams {
  int64_t outer, len, inner;
} SoftmaxParams;

static void softmax_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  check_input_type(n, 0, dtype_float_only, "float or double");
  bool per_axis = g->opset >= 13;
  int64_t axis = normalize_axis(n, attr_int(n, "axis", per_axis ? -1 : 1), x->rank);
  SoftmaxParams *p = cn_alloc(sizeof *p);
  p->outer = p->len = p->inner = 1;
  for (int i = 0; i < x->rank; i++) {
    if (i < axis)
      p->outer *= x->dims[i];
    else if (i == axis || !per_axis)
      p->len *= x->dims[i];
    else
      p->inner *= x->dims[i];
  }
  n->params = p;
  infer_same_as_input(n, 0);
}

static void softmax_emit(Emitter *e, const Node *n) {
  const SoftmaxParams *p = n->params;
  DType t = n->out[0]->dtype;
  const char *T = dtype_ctype(t);
  const char *f = t == DT_FLOAT ? "f" : ""; /* math function suffix: expf, logf */
  const char *X = emit_in(n, 0), *Y = emit_out(n, 0);
  bool log_softmax = n->op->kind == OP_LOG_SOFTMAX;
  long long len = p->len, inner = p->inner;
  /* element a of the current slice */
  char *at = inner == 1 ? cn_strdup("base + a") : cn_format("base + a * %lld", inner);

  emitf(e, "for (int64_t o = 0; o < %lld; o++) {", (long long)p->outer);
  if (inner > 1)
    emitf(e, "for (int64_t i = 0; i < %lld; i++) {", inner);
  emitf(e, "const int64_t base = o * %lld%s;", len * inner, inner > 1 ? " + i" : "");
  emitf(e, "/* subtracting the maximum keeps exp from overflowing */");
  emitf(e, "%s max = -INFINITY;", T);
  emitf(e, "for (int64_t a = 0; a < %lld; a++) {", len);
  emitf(e, "max = %s[%s] > max ? %s[%s] : max;", X, at, X, at);
  emitf(e, "}");
  emitf(e, "%s sum = 0;", T);
  emitf(e, "for (int64_t a = 0; a < %lld; a++) {", len);
  if (log_softmax) {
    emitf(e, "sum += exp%s(%s[%s] - max);", f, X, at);
    emitf(e, "}");
    emitf(e, "const %s log_sum = log%s(sum);", T, f);
    emitf(e, "for (int64_t a = 0; a < %lld; a++) {", len);
    emitf(e, "%s[%s] = %s[%s] - max - log_sum;", Y, at, X, at);
  } else {
    emitf(e, "%s[%s] = exp%s(%s[%s] - max);", Y, at, f, X, at);
    emitf(e, "sum += %s[%s];", Y, at);
    emitf(e, "}");
    emitf(e, "for (int64_t a = 0; a < %lld; a++) {", len);
    emitf(e, "%s[%s] /= sum;", Y, at);
  }
  emitf(e, "}");
  if (inner > 1)
    emitf(e, "}");
  emitf(e, "}");
}

/* On SIMD targets a float (Log)Softmax over contiguous rows (the last axis, or everything from `axis` on before
 * opset 13) runs templates/softmax.c on row-major data. */
static bool softmax_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  (void)g, (void)t;
  const SoftmaxParams *p = n->params;
  if (n->in[0]->dtype != DT_FLOAT || p->inner != 1 || value_count(n->in[0]) >= INT32_MAX)
    return false;
  n->kernel = cn_strdup("softmax over rows");
  in_layout[0] = out_layout[0] = LAYOUT_ROW_MAJOR;
  return true;
}

static void softmax_emit_simd(Emitter *e, const Node *n) {
  const SoftmaxParams *p = n->params;
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  Instance *t = tpl_begin(e, "softmax.c", fn);
  tpl_int(t, "ROWS", p->outer);
  tpl_int(t, "LEN", p->len);
  tpl_int(t, "LOG", n->op->kind == OP_LOG_SOFTMAX);
  tpl_end(t);
  emitf(e, "%s(%s, %s);", fn, emit_in(n, 0), emit_out(n, 0));
}

/* Gradients from the output y along each normalized slice:
 *   Softmax:    dx = y * (dy - sum(dy * y))
 *   LogSoftmax: dx = dy - exp(y) * sum(dy)
 * SoftmaxGrad(dy, y) -> dx, with the forward's slicing preset (and which of the two it is). */
typedef struct SoftmaxGradParams {
  SoftmaxParams slices;
  bool log;
} SoftmaxGradParams;

static void softmax_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  SoftmaxGradParams *q = cn_alloc(sizeof *q);
  q->slices = *(const SoftmaxParams *)n->params;
  q->log = n->op->kind == OP_LOG_SOFTMAX;
  Value *ins[2] = {dy[0], n->out[0]};
  Node *b = bw_node(g, n, OP_SOFTMAX_GRAD, 2, ins, 1);
  b->params = q;
  dx[0] = bw_finish(g, b);
}

const OpDesc op_softmax = {
    .kind = OP_SOFTMAX, .name = "Softmax", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = softmax_infer, .emit = softmax_emit, .simd = softmax_simd, .emit_simd = softmax_emit_simd,
    .grad = softmax_grad,
};

const OpDesc op_log_softmax = {
    .kind = OP_LOG_SOFTMAX, .name = "LogSoftmax", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = softmax_infer, .emit = softmax_emit, .simd = softmax_simd, .emit_simd = softmax_emit_simd,
    .grad = softmax_grad,
};

static void softmax_grad_infer(Graph *g, Node *n) {
  (void)g;
  CN_ASSERT(n->params && dtype_is_float(n->in[0]->dtype));
  infer_same_as_input(n, 0);
}

static void softmax_grad_emit(Emitter *e, const Node *n) {
  const SoftmaxGradParams *p = n->params;
  const SoftmaxParams *s = &p->slices;
  DType t = n->out[0]->dtype;
  const char *T = dtype_ctype(t);
  long long len = s->len, inner = s->inner;
  char *at = inner == 1 ? cn_strdup("base + a") : cn_format("base + a * %lld", inner);
  emitf(e, "for (int64_t o = 0; o < %lld; o++) {", (long long)s->outer);
  if (inner > 1)
    emitf(e, "for (int64_t i = 0; i < %lld; i++) {", inner);
  emitf(e, "const int64_t base = o * %lld%s;", len * inner, inner > 1 ? " + i" : "");
  emitf(e, "double sum = 0;");
  emitf(e, "for (int64_t a = 0; a < %lld; a++)", len);
  if (p->log)
    emitf(e, "  sum += X0[%s];", at);
  else
    emitf(e, "  sum += X0[%s] * X1[%s];", at, at);
  emitf(e, "for (int64_t a = 0; a < %lld; a++)", len);
  if (p->log)
    emitf(e, "  Y0[%s] = (%s)(X0[%s] - %s(X1[%s]) * sum);", at, T, at, emit_math_fn("exp", t), at);
  else
    emitf(e, "  Y0[%s] = (%s)(X1[%s] * (X0[%s] - sum));", at, T, at, at);
  if (inner > 1)
    emitf(e, "}");
  emitf(e, "}");
}

const OpDesc op_softmax_grad = {
    .kind = OP_SOFTMAX_GRAD, .name = "SoftmaxGrad", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = softmax_grad_infer, .emit = softmax_grad_emit, .internal = true,
};
