/* The Reduce family (ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
 * ReduceLogSumExp, ReduceSumSquare) and ArgMax/ArgMin. The reduce ops combine a set of axes: the `axes` attribute,
 * or the constant `axes` input where the opset moved it there (ReduceSum from 13, the others from 18). No axes
 * means all of them, unless noop_with_empty_axes makes the op an identity. ArgMax/ArgMin reduce one `axis` to the
 * index of its largest/smallest element (the first one, or the last with select_last_index).
 *
 * The kernel walks the output: for each output element, loops over the reduced axes fold the elements into a
 * local accumulator, so every reduction (including the two-pass, overflow-free log-sum-exp) is one loop nest:
 *
 *   for (int64_t i0 = 0; i0 < 2; i0++) {
 *     float acc = 0;
 *     for (int64_t i1 = 0; i1 < 3; i1++) {
 *       const float x = X0[i0 * 3 + i1];
 *       acc += x * x;
 *     }
 *     Y0[i0] = sqrtf(acc);
 *   }
 *
 * Integer sums and products accumulate in uint64_t, where overflow wraps instead of being undefined. The fold
 * runs the same loops at compile time in the same types, so a folded constant equals the generated code's. */
#include "../cnnc.h"

#include <math.h>
#include <string.h>

typedef enum ReduceStep { STEP_SUM, STEP_MAX, STEP_MIN, STEP_PROD, STEP_ABS_SUM, STEP_SQUARE_SUM, STEP_EXP_SUM } ReduceStep;
typedef enum ReduceFinal { FINAL_NONE, FINAL_MEAN, FINAL_SQRT, FINAL_LOG } ReduceFinal;

typedef struct ReduceRow {
  OpKind kind;
  ReduceStep step;
  ReduceFinal final;
  bool float_only;    /* the result needs sqrt, log or exp: float and double only */
  bool empty_allowed; /* the reduction of no elements is defined (its identity); not for ReduceMean */
  int input_since;    /* first opset taking axes as an input instead of an attribute */
} ReduceRow;

static const ReduceRow rows[] = {
    {OP_REDUCE_SUM, STEP_SUM, FINAL_NONE, false, true, 13},
    {OP_REDUCE_MEAN, STEP_SUM, FINAL_MEAN, false, false, 18},
    {OP_REDUCE_MAX, STEP_MAX, FINAL_NONE, false, true, 18},
    {OP_REDUCE_MIN, STEP_MIN, FINAL_NONE, false, true, 18},
    {OP_REDUCE_PROD, STEP_PROD, FINAL_NONE, false, true, 18},
    {OP_REDUCE_L1, STEP_ABS_SUM, FINAL_NONE, false, true, 18},
    {OP_REDUCE_L2, STEP_SQUARE_SUM, FINAL_SQRT, true, true, 18},
    {OP_REDUCE_SUM_SQUARE, STEP_SQUARE_SUM, FINAL_NONE, false, true, 18},
    {OP_REDUCE_LOG_SUM, STEP_SUM, FINAL_LOG, true, true, 18},
    {OP_REDUCE_LOG_SUM_EXP, STEP_EXP_SUM, FINAL_LOG, true, true, 18},
    /* ArgMax and ArgMin: step says which element wins; the remaining fields do not apply */
    {OP_ARG_MAX, STEP_MAX, FINAL_NONE, false, false, 0},
    {OP_ARG_MIN, STEP_MIN, FINAL_NONE, false, false, 0},
};

static const ReduceRow *find_row(OpKind kind) {
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
    if (rows[r].kind == kind)
      return &rows[r];
  cn_unreachable();
}

static bool is_arg(OpKind kind) { return kind == OP_ARG_MAX || kind == OP_ARG_MIN; }

typedef struct ReduceParams {
  const ReduceRow *row;
  bool identity; /* noop_with_empty_axes with no axes */
  bool last;     /* ArgMax/ArgMin select_last_index: ties go to the last index */
  int rank;
  bool reduced[CN_MAX_RANK];
  int64_t kept[CN_MAX_RANK]; /* the input's dims with reduced axes set to 1 (the keepdims shape) */
  int64_t count;             /* elements combined into each output */
} ReduceParams;

/* Reads the axes to reduce into `reduced` (indexed by axis); returns false when none are given. */
static bool read_axes(Graph *g, const Node *n, const ReduceRow *row, int rank, bool *reduced) {
  bool as_input = g->opset >= row->input_since;
  Value *input = node_in(n, 1);
  int64_t *attr = NULL;
  int count;
  if (as_input) {
    if (node_attr(n, "axes"))
      cn_error_node(n, "axes is an input of %s from opset %d on, not an attribute", n->op->name, row->input_since);
    count = input ? -1 : 0;
    if (input)
      attr = node_const_ints(n, 1, "axes", &count);
  } else {
    if (input)
      cn_error_node(n, "%s takes axes as an attribute before opset %d, not as input 1", n->op->name,
                    row->input_since);
    count = attr_ints(n, "axes", &attr);
  }
  if (count <= 0)
    return false;
  for (int i = 0; i < count; i++) {
    int64_t axis = normalize_axis(n, attr[i], rank);
    if (reduced[axis])
      cn_error_node(n, "axis %lld is listed twice in axes", (long long)axis);
    reduced[axis] = true;
  }
  return true;
}

static void reduce_shape(Node *n, ReduceParams *p, bool keepdims, DType out_type) {
  Value *x = n->in[0];
  int64_t dims[CN_MAX_RANK];
  int rank = 0;
  p->rank = x->rank;
  p->count = 1;
  for (int i = 0; i < x->rank; i++) {
    p->kept[i] = p->reduced[i] ? 1 : x->dims[i];
    if (p->reduced[i])
      p->count *= x->dims[i];
    if (!p->reduced[i] || keepdims)
      dims[rank++] = p->kept[i];
  }
  value_set_shape(n->out[0], n, out_type, rank, dims);
}

static void reduce_infer(Graph *g, Node *n) {
  const ReduceRow *row = find_row(n->op->kind);
  Value *x = n->in[0];
  if (row->float_only)
    check_input_type(n, 0, dtype_float_only, "float or double");
  else
    check_input_type(n, 0, dtype_any_numeric, "a numeric type");
  ReduceParams *p = cn_alloc(sizeof *p);
  p->row = row;
  n->params = p;
  bool keepdims = attr_flag(n, "keepdims", true); /* read even where noop_with_empty_axes makes it moot */
  if (!read_axes(g, n, row, x->rank, p->reduced)) {
    /* the attribute exists only where axes is an input */
    if (g->opset >= row->input_since && attr_flag(n, "noop_with_empty_axes", false)) {
      p->identity = true;
      infer_same_as_input(n, 0);
      return;
    }
    for (int i = 0; i < x->rank; i++)
      p->reduced[i] = true;
  }
  reduce_shape(n, p, keepdims, x->dtype);
  if (p->count == 0 && !row->empty_allowed)
    cn_error_node(n, "reduces over an empty dimension of %s; the mean of no elements is undefined",
                  value_shape_string(x));
}

static void arg_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  check_input_type(n, 0, dtype_any_numeric, "a numeric type");
  ReduceParams *p = cn_alloc(sizeof *p);
  p->row = find_row(n->op->kind);
  n->params = p;
  if (x->rank == 0)
    cn_error_node(n, "the input is a scalar; %s needs an axis to reduce", n->op->name);
  int64_t axis = normalize_axis(n, attr_int(n, "axis", 0), x->rank);
  p->reduced[axis] = true;
  p->last = g->opset >= 12 && attr_flag(n, "select_last_index", false);
  reduce_shape(n, p, attr_flag(n, "keepdims", true), DT_INT64);
  if (p->count == 0)
    cn_error_node(n, "axis %lld of %s is empty; there is no index to return", (long long)axis, value_shape_string(x));
}

/* The largest value of an element type, where a running minimum starts. */
static const char *emit_highest(DType t) {
  switch (t) {
  case DT_FLOAT:
  case DT_DOUBLE: return "INFINITY";
  case DT_INT8: return "INT8_MAX";
  case DT_INT16: return "INT16_MAX";
  case DT_INT32: return "INT32_MAX";
  case DT_INT64: return "INT64_MAX";
  case DT_UINT8: return "UINT8_MAX";
  case DT_UINT16: return "UINT16_MAX";
  case DT_UINT32: return "UINT32_MAX";
  case DT_UINT64: return "UINT64_MAX";
  default: cn_unreachable();
  }
}

/* The accumulator's C type: integer sums and products wrap in uint64_t. */
static const char *acc_ctype(ReduceStep step, DType t) {
  bool wrapping = step != STEP_MAX && step != STEP_MIN;
  return wrapping && !dtype_is_float(t) ? "uint64_t" : dtype_ctype(t);
}

/* One step folding x into acc, as C. */
static char *step_code(ReduceStep step, DType t) {
  bool real = dtype_is_float(t);
  switch (step) {
  case STEP_SUM: return cn_strdup(real ? "acc += x;" : "acc += (uint64_t)x;");
  case STEP_MAX: return cn_strdup("acc = x > acc ? x : acc;");
  case STEP_MIN: return cn_strdup("acc = x < acc ? x : acc;");
  case STEP_PROD: return cn_strdup(real ? "acc *= x;" : "acc *= (uint64_t)x;");
  case STEP_ABS_SUM:
    if (real)
      return cn_format("acc += %s(x);", emit_math_fn("fabs", t));
    return cn_strdup(dtype_is_signed(t) ? "acc += x < 0 ? 0 - (uint64_t)x : (uint64_t)x;" : "acc += x;");
  case STEP_SQUARE_SUM: return cn_strdup(real ? "acc += x * x;" : "acc += (uint64_t)x * (uint64_t)x;");
  case STEP_EXP_SUM: return cn_format("acc += %s(x - max);", emit_math_fn("exp", t));
  }
  cn_unreachable();
}

/* Emits loops over the reduced axes (named i<axis>) around `body`, reading x at the input offset; nothing when
 * the reduction has no elements. The body always gets a scope of its own, so it can run twice per output. */
static void emit_reduced_loops(Emitter *e, const Node *n, const ReduceParams *p, const char *const *body, int lines) {
  Value *x = n->in[0];
  if (p->count == 0)
    return;
  int loops = 0;
  for (int a = 0; a < p->rank; a++)
    if (p->reduced[a] && x->dims[a] > 1) {
      emitf(e, "for (int64_t i%d = 0; i%d < %lld; i%d++) {", a, a, (long long)x->dims[a], a);
      loops++;
    }
  if (loops == 0) {
    emitf(e, "{");
    loops = 1;
  }
  emitf(e, "const %s x = %s[%s];", dtype_ctype(x->dtype), emit_in(n, 0),
        emit_broadcast_index(x->rank, x->rank, x->dims, "i"));
  for (int k = 0; k < lines; k++)
    emitf(e, "%s", body[k]);
  emit_close(e, loops);
}

static void reduce_emit(Emitter *e, const Node *n) {
  const ReduceParams *p = n->params;
  const ReduceRow *row = p->row;
  Value *x = n->in[0];
  DType t = x->dtype;
  const char *T = dtype_ctype(t), *Y = emit_out(n, 0);
  if (p->identity) {
    emitf(e, "/* no axes and noop_with_empty_axes: a copy */");
    emitf(e, "memcpy(%s, %s, %lld);", Y, emit_in(n, 0), (long long)value_bytes(x));
    return;
  }
  if (emit_if_empty(e, n, 0))
    return;
  /* loops over the kept axes, named after the input's axes so the input offset reads the same in both nests */
  int outer = 0;
  for (int a = 0; a < p->rank; a++)
    if (!p->reduced[a] && x->dims[a] > 1) {
      emitf(e, "for (int64_t i%d = 0; i%d < %lld; i%d++) {", a, a, (long long)x->dims[a], a);
      outer++;
    }
  char *out = cn_format("%s[%s]", Y, emit_broadcast_index(p->rank, p->rank, p->kept, "i"));
  if (is_arg(n->op->kind)) {
    const char *better = row->step == STEP_MAX ? (p->last ? ">=" : ">") : (p->last ? "<=" : "<");
    int axis = 0;
    while (!p->reduced[axis])
      axis++;
    emitf(e, "%s best = %s;", T, row->step == STEP_MAX ? emit_lowest(t) : emit_highest(t));
    emitf(e, "int64_t best_at = 0;");
    char *check = cn_format("if (x %s best) {", better);
    const char *body[] = {check, "best = x;", x->dims[axis] > 1 ? cn_format("best_at = i%d;", axis) : "", "}"};
    emit_reduced_loops(e, n, p, body, 4);
    emitf(e, "%s = best_at;", out);
    emit_close(e, outer);
    return;
  }
  if (row->step == STEP_EXP_SUM) {
    /* log-sum-exp as max + log(sum(exp(x - max))): exp never overflows */
    emitf(e, "%s max = -INFINITY;", T);
    const char *find_max[] = {"max = x > max ? x : max;"};
    emit_reduced_loops(e, n, p, find_max, 1);
  }
  const char *init = row->step == STEP_MAX    ? emit_lowest(t)
                     : row->step == STEP_MIN  ? emit_highest(t)
                     : row->step == STEP_PROD ? "1"
                                              : "0";
  emitf(e, "%s acc = %s;", acc_ctype(row->step, t), init);
  const char *step[] = {step_code(row->step, t)};
  emit_reduced_loops(e, n, p, step, 1);
  switch (row->final) {
  case FINAL_NONE: emitf(e, "%s = (%s)acc;", out, T); break;
  case FINAL_MEAN:
    if (dtype_is_float(t))
      emitf(e, "%s = acc / %lld;", out, (long long)p->count);
    else
      emitf(e, "%s = (%s)((int64_t)acc / %lld);", out, T, (long long)p->count);
    break;
  case FINAL_SQRT: emitf(e, "%s = %s(acc);", out, emit_math_fn("sqrt", t)); break;
  case FINAL_LOG:
    if (row->step == STEP_EXP_SUM)
      emitf(e, "%s = isinf(max) ? max : max + %s(acc); /* all -inf, or a +inf: the sum is that */", out,
            emit_math_fn("log", t));
    else
      emitf(e, "%s = %s(acc);", out, emit_math_fn("log", t));
    break;
  }
  emit_close(e, outer);
}

/* Compile-time accumulators mirroring the generated code's types. */
typedef struct Acc {
  float f;
  double d;
  uint64_t u; /* integer sums and products */
  Scalar s;   /* integer max and min, in the element's kind */
} Acc;

static Acc acc_init(ReduceStep step, DType t) {
  Acc a = {0};
  a.f = a.d = step == STEP_PROD ? 1 : step == STEP_MAX ? -INFINITY : step == STEP_MIN ? INFINITY : 0;
  a.u = step == STEP_PROD ? 1 : 0;
  if (!dtype_is_float(t) && (step == STEP_MAX || step == STEP_MIN)) {
    /* the extreme of t, as emit_lowest and emit_highest spell it */
    static const struct {
      DType t;
      int64_t lo, hi;
      uint64_t uhi;
    } limits[] = {
        {DT_INT8, INT8_MIN, INT8_MAX, 0},       {DT_INT16, INT16_MIN, INT16_MAX, 0},
        {DT_INT32, INT32_MIN, INT32_MAX, 0},    {DT_INT64, INT64_MIN, INT64_MAX, 0},
        {DT_UINT8, 0, 0, UINT8_MAX},            {DT_UINT16, 0, 0, UINT16_MAX},
        {DT_UINT32, 0, 0, UINT32_MAX},          {DT_UINT64, 0, 0, UINT64_MAX},
    };
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++)
      if (limits[k].t == t) {
        if (scalar_kind(t) == SCALAR_UINT)
          a.s.u = step == STEP_MAX ? 0 : limits[k].uhi;
        else
          a.s.i = step == STEP_MAX ? limits[k].lo : limits[k].hi;
      }
  }
  return a;
}

static void acc_step(Acc *a, ReduceStep step, DType t, Scalar x, Scalar max) {
  switch (scalar_kind(t)) {
  case SCALAR_FLOAT:
    switch (step) {
    case STEP_SUM: a->f += x.f; break;
    case STEP_MAX: a->f = x.f > a->f ? x.f : a->f; break;
    case STEP_MIN: a->f = x.f < a->f ? x.f : a->f; break;
    case STEP_PROD: a->f *= x.f; break;
    case STEP_ABS_SUM: a->f += fabsf(x.f); break;
    case STEP_SQUARE_SUM: a->f += x.f * x.f; break;
    case STEP_EXP_SUM: a->f += expf(x.f - max.f); break;
    }
    return;
  case SCALAR_DOUBLE:
    switch (step) {
    case STEP_SUM: a->d += x.d; break;
    case STEP_MAX: a->d = x.d > a->d ? x.d : a->d; break;
    case STEP_MIN: a->d = x.d < a->d ? x.d : a->d; break;
    case STEP_PROD: a->d *= x.d; break;
    case STEP_ABS_SUM: a->d += fabs(x.d); break;
    case STEP_SQUARE_SUM: a->d += x.d * x.d; break;
    case STEP_EXP_SUM: a->d += exp(x.d - max.d); break;
    }
    return;
  case SCALAR_INT:
  case SCALAR_UINT:
    switch (step) {
    case STEP_SUM: a->u += x.u; break;
    case STEP_MAX: a->s = scalar_less(a->s, x, t) ? x : a->s; break;
    case STEP_MIN: a->s = scalar_less(x, a->s, t) ? x : a->s; break;
    case STEP_PROD: a->u *= x.u; break;
    case STEP_ABS_SUM: a->u += scalar_kind(t) == SCALAR_INT && x.i < 0 ? 0 - x.u : x.u; break;
    case STEP_SQUARE_SUM: a->u += x.u * x.u; break;
    case STEP_EXP_SUM: cn_unreachable();
    }
    return;
  }
}

static bool scalar_equal(Scalar a, Scalar b, DType t) {
  switch (scalar_kind(t)) {
  case SCALAR_FLOAT: return a.f == b.f;
  case SCALAR_DOUBLE: return a.d == b.d;
  case SCALAR_INT: return a.i == b.i;
  case SCALAR_UINT: return a.u == b.u;
  }
  cn_unreachable();
}

/* The input offsets of one output's elements: the kept axes fixed by `index`, the reduced ones counted up. */
typedef struct ReduceWalk {
  int64_t index[CN_MAX_RANK], strides[CN_MAX_RANK];
} ReduceWalk;

static int64_t walk_offset(const ReduceWalk *w, int rank) {
  int64_t offset = 0;
  for (int a = 0; a < rank; a++)
    offset += w->index[a] * w->strides[a];
  return offset;
}

/* Steps the axes where `reduced` matches `which` like an odometer; returns false once they wrap to zero. */
static bool walk_next(ReduceWalk *w, const ReduceParams *p, const Value *x, bool which) {
  for (int a = p->rank - 1; a >= 0; a--) {
    if (p->reduced[a] != which)
      continue;
    if (++w->index[a] < x->dims[a])
      return true;
    w->index[a] = 0;
  }
  return false;
}

static void reduce_fold(Graph *g, Node *n) {
  (void)g;
  const ReduceParams *p = n->params;
  const ReduceRow *row = p->row;
  Value *x = n->in[0], *y = n->out[0];
  DType t = x->dtype;
  if (p->identity) {
    memcpy(y->data, x->data, (size_t)value_bytes(x));
    return;
  }
  ReduceWalk w = {0};
  shape_strides(x->rank, x->dims, w.strides);
  int64_t out_count = value_count(y);
  for (int64_t o = 0; o < out_count; o++, walk_next(&w, p, x, false)) {
    if (is_arg(n->op->kind)) {
      Acc extreme = acc_init(row->step, t);
      Scalar best = t == DT_FLOAT ? (Scalar){.f = extreme.f} : t == DT_DOUBLE ? (Scalar){.d = extreme.d} : extreme.s;
      int64_t best_at = 0, at = 0;
      do {
        Scalar v = scalar_get(x, walk_offset(&w, p->rank));
        bool wins = row->step == STEP_MAX ? scalar_less(best, v, t) : scalar_less(v, best, t);
        if (wins || (p->last && scalar_equal(v, best, t)))
          best = v, best_at = at;
        at++;
      } while (walk_next(&w, p, x, true));
      scalar_set(y, o, (Scalar){.i = best_at});
      continue;
    }
    Scalar max = t == DT_FLOAT ? (Scalar){.f = -INFINITY} : (Scalar){.d = -INFINITY};
    if (row->step == STEP_EXP_SUM && p->count > 0) {
      Acc m = acc_init(STEP_MAX, t);
      do
        acc_step(&m, STEP_MAX, t, scalar_get(x, walk_offset(&w, p->rank)), max);
      while (walk_next(&w, p, x, true));
      max = t == DT_FLOAT ? (Scalar){.f = m.f} : (Scalar){.d = m.d};
    }
    Acc a = acc_init(row->step, t);
    if (p->count > 0) {
      do
        acc_step(&a, row->step, t, scalar_get(x, walk_offset(&w, p->rank)), max);
      while (walk_next(&w, p, x, true));
    }
    Scalar r;
    switch (scalar_kind(t)) {
    case SCALAR_FLOAT:
      r.f = row->final == FINAL_MEAN   ? a.f / (float)p->count
            : row->final == FINAL_SQRT ? sqrtf(a.f)
            : row->final != FINAL_LOG  ? a.f
            : row->step != STEP_EXP_SUM ? logf(a.f)
            : isinf(max.f)             ? max.f
                                       : max.f + logf(a.f);
      break;
    case SCALAR_DOUBLE:
      r.d = row->final == FINAL_MEAN   ? a.d / (double)p->count
            : row->final == FINAL_SQRT ? sqrt(a.d)
            : row->final != FINAL_LOG  ? a.d
            : row->step != STEP_EXP_SUM ? log(a.d)
            : isinf(max.d)             ? max.d
                                       : max.d + log(a.d);
      break;
    default:
      if (row->step == STEP_MAX || row->step == STEP_MIN)
        r = a.s;
      else
        r.u = row->final == FINAL_MEAN ? (uint64_t)((int64_t)a.u / p->count) : a.u;
      break;
    }
    scalar_set(y, o, r);
  }
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

#define REDUCE_OP(sym, ID, onnx_name, grad_hook)                                                                   \
  const OpDesc op_##sym = {                                                                                        \
      .kind = OP_##ID, .name = onnx_name, .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,                    \
      .infer = reduce_infer, .fold = reduce_fold, .emit = reduce_emit, .grad = grad_hook,                          \
  };
REDUCE_OP(reduce_sum, REDUCE_SUM, "ReduceSum", reduce_grad)
REDUCE_OP(reduce_mean, REDUCE_MEAN, "ReduceMean", reduce_grad)
REDUCE_OP(reduce_max, REDUCE_MAX, "ReduceMax", NULL)
REDUCE_OP(reduce_min, REDUCE_MIN, "ReduceMin", NULL)
REDUCE_OP(reduce_prod, REDUCE_PROD, "ReduceProd", NULL)
REDUCE_OP(reduce_l1, REDUCE_L1, "ReduceL1", NULL)
REDUCE_OP(reduce_l2, REDUCE_L2, "ReduceL2", NULL)
REDUCE_OP(reduce_sum_square, REDUCE_SUM_SQUARE, "ReduceSumSquare", NULL)
REDUCE_OP(reduce_log_sum, REDUCE_LOG_SUM, "ReduceLogSum", NULL)
REDUCE_OP(reduce_log_sum_exp, REDUCE_LOG_SUM_EXP, "ReduceLogSumExp", NULL)

const OpDesc op_arg_max = {
    .kind = OP_ARG_MAX, .name = "ArgMax", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = arg_infer, .fold = reduce_fold, .emit = reduce_emit,
};

const OpDesc op_arg_min = {
    .kind = OP_ARG_MIN, .name = "ArgMin", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = arg_infer, .fold = reduce_fold, .emit = reduce_emit,
};

/* ReduceSumTo: the backward's sum over broadcast axes (bw_sum_kept). Attributes: `kept`, the input's dims with
 * the summed axes set to 1, and `shape`, the output's (same element count as kept). */
static void reduce_sum_to_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  int64_t *kept, *shape;
  int n_kept = attr_ints(n, "kept", &kept), n_shape = attr_ints(n, "shape", &shape);
  CN_ASSERT(n_kept == x->rank && n_shape >= 0);
  ReduceParams *p = cn_alloc(sizeof *p);
  p->row = find_row(OP_REDUCE_SUM);
  p->rank = x->rank;
  p->count = 1;
  int64_t kept_count = 1;
  for (int i = 0; i < x->rank; i++) {
    CN_ASSERT(kept[i] == 1 || kept[i] == x->dims[i]);
    p->kept[i] = kept[i];
    kept_count *= kept[i];
    p->reduced[i] = kept[i] != x->dims[i];
    if (p->reduced[i])
      p->count *= x->dims[i];
  }
  n->params = p;
  value_set_shape(n->out[0], n, x->dtype, n_shape, shape);
  CN_ASSERT(value_count(n->out[0]) == kept_count);
}

/* ReduceSumTo's kernel walks X in memory order and adds into Y, zeroed first, so that the innermost loop is
 * contiguous and vectorizes: adjacent axes that are all kept or all summed merge into runs; an innermost kept run
 * adds a row of X into a row of Y (a bias gradient summed over the batch), an innermost summed run folds into
 * VLEN-wide partial sums first (a convolution's bias gradient summed over a plane), rather than one accumulator
 * whose every addition waits for the previous one. */
static void reduce_sum_to_emit(Emitter *e, const Node *n) {
  const ReduceParams *p = n->params;
  const Value *x = n->in[0];
  const char *T = dtype_ctype(x->dtype);
  if (emit_if_empty(e, n, 0))
    return;
  int64_t len[CN_MAX_RANK], out_stride[CN_MAX_RANK];
  bool summed[CN_MAX_RANK];
  int runs = 0;
  for (int a = 0; a < p->rank; a++) {
    if (x->dims[a] == 1)
      continue;
    if (runs && summed[runs - 1] == p->reduced[a]) {
      len[runs - 1] *= x->dims[a];
    } else {
      len[runs] = x->dims[a];
      summed[runs++] = p->reduced[a];
    }
  }
  if (runs == 0) { /* a single element */
    len[0] = 1;
    summed[runs++] = false;
  }
  int64_t stride = 1;
  for (int r = runs - 1; r >= 0; r--) {
    out_stride[r] = summed[r] ? 0 : stride;
    stride *= summed[r] ? 1 : len[r];
  }
  emitf(e, "memset(Y0, 0, %lld * sizeof *Y0);", (long long)value_count(n->out[0]));
  char *in_at = cn_strdup("0"), *out_at = cn_strdup("0");
  for (int r = 0; r < runs - 1; r++) {
    emitf(e, "for (int64_t r%d = 0; r%d < %lld; r%d++) {", r, r, (long long)len[r], r);
    char *index = cn_format("r%d", r);
    in_at = r == 0 ? index : cn_format("%s + %s", expr_times(in_at, len[r]), index);
    if (!summed[r])
      out_at = strcmp(out_at, "0") == 0 ? expr_times(index, out_stride[r])
                                        : cn_format("%s + %s", out_at, expr_times(index, out_stride[r]));
  }
  int64_t last = len[runs - 1];
  emitf(e, "const %s *x = X0 + %s;", T, expr_times(in_at, last));
  emitf(e, "%s *y = Y0 + %s;", T, out_at);
  if (!summed[runs - 1]) {
    emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)last);
    emitf(e, "  y[i] += x[i];");
  } else {
    int64_t whole = last / 16 * 16;
    emitf(e, "%s part[16] = {0};", T);
    if (whole) {
      emitf(e, "for (int64_t i = 0; i < %lld; i += 16)", (long long)whole);
      emitf(e, "  for (int64_t l = 0; l < 16; l++)");
      emitf(e, "    part[l] += x[i + l];");
    }
    if (whole < last) {
      emitf(e, "for (int64_t i = %lld; i < %lld; i++)", (long long)whole, (long long)last);
      emitf(e, "  part[i - %lld] += x[i];", (long long)whole);
    }
    emitf(e, "%s sum = 0;", T);
    emitf(e, "for (int64_t l = 0; l < 16; l++)");
    emitf(e, "  sum += part[l];");
    emitf(e, "y[0] += sum;");
  }
  emit_close(e, runs - 1);
}

const OpDesc op_reduce_sum_to = {
    .kind = OP_REDUCE_SUM_TO, .name = "ReduceSumTo", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = reduce_sum_to_infer, .emit = reduce_sum_to_emit, .internal = true,
};
