/* Clip: y = min(max(x, min), max), so when min > max every element becomes max, as the spec says. The bounds
 * are `min`/`max` attributes before opset 11 and optional scalar inputs from 11 on; an input bound may be
 * computed at run time. A missing bound does not clip. The generated code is
 *
 *   const float lo = -1.0f;
 *   const float hi = 1.0f;
 *   for (int64_t i0 = 0; i0 < 60; i0++) {
 *     float y = X0[i0];
 *     y = y < lo ? lo : y;
 *     y = y > hi ? hi : y;
 *     Y0[i0] = y;
 *   }
 */
#include "../cnnc.h"

#include <inttypes.h>
#include <math.h>

typedef struct Bound {
  bool present;
  bool constant; /* value holds it; otherwise it is input `input`, known at run time */
  Scalar value;
  int input;
} Bound;

typedef struct ClipParams {
  Bound lo, hi;
} ClipParams;

static Bound attr_bound(const Node *n, const char *name, DType t) {
  Bound b = {0};
  if (!node_attr(n, name))
    return b;
  b.present = b.constant = true;
  b.value = scalar_convert((Scalar){.f = attr_float(n, name, 0)}, DT_FLOAT, t);
  return b;
}

static Bound input_bound(const Node *n, int i, const char *name) {
  Bound b = {0};
  Value *v = node_in(n, i);
  if (!v)
    return b;
  if (v->dtype != n->in[0]->dtype)
    cn_error_node(n, "%s has element type %s; it must be the input's type %s", name, dtype_name(v->dtype),
                  dtype_name(n->in[0]->dtype));
  if (value_count(v) != 1)
    cn_error_node(n, "%s has shape %s; it must be a scalar", name, value_shape_string(v));
  b.present = true;
  b.input = i;
  if (v->data) {
    b.constant = true;
    b.value = scalar_get(v, 0);
  }
  return b;
}

static void clip_infer(Graph *g, Node *n) {
  check_input_type(n, 0, dtype_any_numeric, "a number");
  ClipParams *p = cn_alloc(sizeof *p);
  if (g->opset < 11) {
    if (n->n_in > 1)
      cn_error_node(n, "has %d inputs; before opset 11 Clip takes one, with min and max attributes", n->n_in);
    p->lo = attr_bound(n, "min", n->in[0]->dtype);
    p->hi = attr_bound(n, "max", n->in[0]->dtype);
  } else {
    p->lo = input_bound(n, 1, "min");
    p->hi = input_bound(n, 2, "max");
  }
  n->params = p;
  infer_same_as_input(n, 0);
}

static void clip_fold(Graph *g, Node *n) {
  (void)g;
  const ClipParams *p = n->params;
  Value *x = n->in[0], *out = n->out[0];
  DType t = x->dtype;
  for (int64_t i = 0; i < value_count(out); i++) {
    Scalar y = scalar_get(x, i);
    if (p->lo.present && scalar_less(y, p->lo.value, t))
      y = p->lo.value;
    if (p->hi.present && scalar_less(p->hi.value, y, t))
      y = p->hi.value;
    scalar_set(out, i, y);
  }
}

bool clip_activation(const Node *n, Activation *act) {
  if (n->op->kind != OP_CLIP || !n->params)
    return false;
  const ClipParams *p = n->params;
  DType t = n->in[0]->dtype;
  if (!dtype_is_float(t) || (p->lo.present && !p->lo.constant) || (p->hi.present && !p->hi.constant))
    return false;
  double lo = !p->lo.present ? -INFINITY : t == DT_FLOAT ? p->lo.value.f : p->lo.value.d;
  double hi = !p->hi.present ? INFINITY : t == DT_FLOAT ? p->hi.value.f : p->hi.value.d;
  /* Activation holds floats: a double bound that a float cannot hold exactly stays unfused */
  if ((double)(float)lo != lo || (double)(float)hi != hi)
    return false;
  *act = (Activation){ACT_CLIP, (float)lo, (float)hi};
  return true;
}

static char *literal(Scalar x, DType t) {
  switch (scalar_kind(t)) {
  case SCALAR_FLOAT: return emit_float(x.f, t);
  case SCALAR_DOUBLE: return emit_float(x.d, t);
  case SCALAR_UINT: return cn_format("%" PRIu64 "u", x.u);
  case SCALAR_INT: break;
  }
  /* -9223372036854775808 would be the negation of a constant too large for int64_t */
  return x.i == INT64_MIN ? cn_strdup("INT64_MIN") : cn_format("%" PRId64, x.i);
}

static void emit_bound(Emitter *e, const Node *n, const Bound *b, const char *name) {
  DType t = n->in[0]->dtype;
  if (b->constant)
    emitf(e, "const %s %s = %s;", dtype_ctype(t), name, literal(b->value, t));
  else if (b->present)
    emitf(e, "const %s %s = %s[0];", dtype_ctype(t), name, emit_in(n, b->input));
}

static void clip_emit(Emitter *e, const Node *n) {
  const ClipParams *p = n->params;
  const Value *x = n->in[0];
  emit_bound(e, n, &p->lo, "lo");
  emit_bound(e, n, &p->hi, "hi");
  char *in_index, *out_index;
  int loops = emit_elementwise_loops(e, n->out[0], 1, &x, &in_index, &out_index);
  emitf(e, "%s y = %s[%s];", dtype_ctype(x->dtype), emit_in(n, 0), in_index);
  if (p->lo.present)
    emitf(e, "y = y < lo ? lo : y;");
  if (p->hi.present)
    emitf(e, "y = y > hi ? hi : y;");
  emitf(e, "%s[%s] = y;", emit_out(n, 0), out_index);
  emit_close(e, loops);
}

/* The gradient passes where the input lies strictly between the bounds, as PyTorch's hardtanh (ReLU6), which
 * exports as Clip. The output tells as well as the input (y is inside exactly when x is), so ClipGrad reads y:
 * ClipGrad(dy, y, min, max), the bounds at inputs 2 and 3 when they are computed at run time. */
static void clip_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  const ClipParams *p = n->params;
  Value *ins[4] = {dy[0], n->out[0], node_in(n, 1), node_in(n, 2)};
  ClipParams *q = cn_alloc(sizeof *q);
  *q = *p;
  q->lo.input = 2;
  q->hi.input = 3;
  if (g->opset < 11)
    ins[2] = ins[3] = NULL;
  Node *b = bw_node(g, n, OP_CLIP_GRAD, 4, ins, 1);
  b->params = q;
  dx[0] = bw_finish(g, b);
}

const OpDesc op_clip = {
    .kind = OP_CLIP, .name = "Clip", .min_in = 1, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = clip_infer, .fold = clip_fold, .emit = clip_emit, .grad = clip_grad,
};

static void clip_grad_infer(Graph *g, Node *n) {
  (void)g;
  CN_ASSERT(n->params && dtype_is_float(n->in[0]->dtype));
  infer_same_as_input(n, 0);
}

static void clip_grad_emit(Emitter *e, const Node *n) {
  const ClipParams *p = n->params;
  const Value *ins[2] = {n->in[0], n->in[1]};
  emit_bound(e, n, &p->lo, "lo");
  emit_bound(e, n, &p->hi, "hi");
  char *in_index[2], *out_index;
  int loops = emit_elementwise_loops(e, n->out[0], 2, ins, in_index, &out_index);
  const char *T = dtype_ctype(n->out[0]->dtype);
  emitf(e, "const %s y = X1[%s];", T, in_index[1]);
  char *inside = cn_format("%s%s%s", p->lo.present ? "y > lo" : "", p->lo.present && p->hi.present ? " && " : "",
                           p->hi.present ? "y < hi" : "");
  if (inside[0])
    emitf(e, "Y0[%s] = %s ? X0[%s] : 0;", out_index, inside, in_index[0]);
  else
    emitf(e, "Y0[%s] = X0[%s]; /* no bounds */", out_index, in_index[0]);
  emit_close(e, loops);
}

const OpDesc op_clip_grad = {
    .kind = OP_CLIP_GRAD, .name = "ClipGrad", .min_in = 2, .max_in = 4, .min_out = 1, .max_out = 1,
    .infer = clip_grad_infer, .emit = clip_grad_emit, .internal = true,
};
