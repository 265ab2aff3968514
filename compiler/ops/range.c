/* Range: start, start + delta, ... while short of limit, from three scalar inputs that must be known at compile
 * time (they decide the output's length), so the node always folds; a range longer than the fold limit is
 * written by a loop:
 *
 *   for (int64_t i = 0; i < 100000000; i++)
 *     Y0[i] = start + (float)i * delta;
 *
 * The length is max(ceil((limit - start) / delta), 0); element i is start + i * delta in the element type. */
#include "../cnnc.h"

#include <math.h>

typedef struct RangeParams {
  Scalar start, delta;
} RangeParams;

static void range_infer(Graph *g, Node *n) {
  (void)g;
  static const char *const names[] = {"start", "limit", "delta"};
  DType t = n->in[0]->dtype;
  if (t != DT_FLOAT && t != DT_DOUBLE && t != DT_INT16 && t != DT_INT32 && t != DT_INT64)
    cn_error_node(n, "start has element type %s; Range takes float, double, int16, int32 or int64", dtype_name(t));
  for (int i = 0; i < 3; i++) {
    Value *v = node_const_in(n, i, names[i]);
    if (v->dtype != t || value_count(v) != 1 || v->rank > 1)
      cn_error_node(n, "%s is %s%s; expected a scalar of start's type %s", names[i], dtype_name(v->dtype),
                    value_shape_string(v), dtype_name(t));
  }
  RangeParams *p = cn_alloc(sizeof *p);
  p->start = scalar_get(n->in[0], 0);
  p->delta = scalar_get(n->in[2], 0);
  Scalar limit = scalar_get(n->in[1], 0);
  double count;
  if (dtype_is_float(t)) {
    double start = t == DT_FLOAT ? p->start.f : p->start.d, delta = t == DT_FLOAT ? p->delta.f : p->delta.d;
    double end = t == DT_FLOAT ? limit.f : limit.d;
    if (delta == 0 || !isfinite(start) || !isfinite(delta) || !isfinite(end))
      cn_error_node(n, "start %g, limit %g, delta %g: the values must be finite and delta non-zero", start, end, delta);
    count = ceil((end - start) / delta);
  } else {
    if (p->delta.i == 0)
      cn_error_node(n, "delta is 0; the range would never end");
    /* in long double, exact for the int64 differences of any two elements */
    long double span = (long double)limit.i - (long double)p->start.i;
    count = (double)ceill(span / (long double)p->delta.i);
  }
  if (count < 0)
    count = 0;
  if (count > (double)CN_MAX_TENSOR_BYTES)
    cn_error_node(n, "the range has %g elements, more than the tensor limit", count);
  int64_t length = (int64_t)count;
  n->params = p;
  value_set_shape(n->out[0], n, t, 1, &length);
}

static void range_fold(Graph *g, Node *n) {
  (void)g;
  const RangeParams *p = n->params;
  Value *y = n->out[0];
  for (int64_t i = 0; i < value_count(y); i++) {
    Scalar x;
    switch (scalar_kind(y->dtype)) {
    case SCALAR_FLOAT: x.f = p->start.f + (float)i * p->delta.f; break;
    case SCALAR_DOUBLE: x.d = p->start.d + (double)i * p->delta.d; break;
    default: x.u = p->start.u + (uint64_t)i * p->delta.u; break; /* wraps as the stored type would */
    }
    scalar_set(y, i, x);
  }
}

/* Only ranges too long to fold get here. */
static void range_emit(Emitter *e, const Node *n) {
  const RangeParams *p = n->params;
  Value *y = n->out[0];
  DType t = y->dtype;
  const char *T = dtype_ctype(t);
  if (dtype_is_float(t)) {
    double start = t == DT_FLOAT ? p->start.f : p->start.d, delta = t == DT_FLOAT ? p->delta.f : p->delta.d;
    emitf(e, "const %s start = %s, delta = %s;", T, emit_float(start, t), emit_float(delta, t));
    emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)value_count(y));
    emitf(e, "  %s[i] = start + (%s)i * delta;", emit_out(n, 0), T);
  } else {
    emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)value_count(y));
    emitf(e, "  %s[i] = (%s)(%lluu + (uint64_t)i * %lluu);", emit_out(n, 0), T, (unsigned long long)p->start.u,
          (unsigned long long)p->delta.u);
  }
}

const OpDesc op_range = {
    .kind = OP_RANGE, .name = "Range", .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = range_infer, .fold = range_fold, .emit = range_emit,
};
