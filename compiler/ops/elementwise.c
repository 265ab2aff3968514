/* What the element-wise op files share: the broadcasting loop nest they emit, and the typed element access
 * their folds use so that a folded constant equals what the generated code would have computed. */
#include "../cnnc.h"

/* in's dims padded on the left with 1s to `rank` (numpy alignment). */
static void aligned_dims(const Value *in, int rank, int64_t *dims) {
  for (int j = 0; j < rank; j++)
    dims[j] = j < rank - in->rank ? 1 : in->dims[j - (rank - in->rank)];
}

static char *add_term(char *expr, const char *var, int64_t stride) {
  if (stride == 0)
    return expr;
  char *term = stride == 1 ? cn_strdup(var) : cn_format("%s * %lld", var, (long long)stride);
  return expr ? cn_format("%s + %s", expr, term) : term;
}

/* How one input is read along the output's axes. */
typedef struct InputAxes {
  int64_t strides[CN_MAX_RANK]; /* row-major strides of its aligned dims */
  bool broadcast[CN_MAX_RANK];  /* repeated along this output axis */
  int64_t loop_stride[CN_MAX_RANK]; /* per emitted loop; 0 when broadcast */
} InputAxes;

int emit_elementwise_loops(Emitter *e, const Value *out, int n_in, const Value *const *ins, char **in_index,
                           char **out_index) {
  int rank = out->rank;
  InputAxes *axes = cn_alloc_array((size_t)n_in + 1, sizeof *axes);
  for (int k = 0; k < n_in; k++) {
    if (!ins[k])
      continue;
    int64_t dims[CN_MAX_RANK];
    aligned_dims(ins[k], rank, dims);
    shape_strides(rank, dims, axes[k].strides);
    for (int j = 0; j < rank; j++) {
      CN_ASSERT(dims[j] == out->dims[j] || dims[j] == 1);
      axes[k].broadcast[j] = dims[j] != out->dims[j];
    }
  }
  int64_t out_strides[CN_MAX_RANK];
  shape_strides(rank, out->dims, out_strides);

  /* Each loop covers a run of axes: its size, and the strides of the run's innermost axis. */
  int n_loops = 0, last_axis = -1;
  int64_t size[CN_MAX_RANK], out_loop_stride[CN_MAX_RANK];
  bool empty = value_count(out) == 0;
  for (int j = 0; j < rank && !empty; j++) {
    if (out->dims[j] == 1)
      continue; /* every input has 1 here too: the axis adds nothing to any offset */
    bool merge = last_axis >= 0;
    for (int k = 0; k < n_in && merge; k++)
      if (ins[k] && axes[k].broadcast[j] != axes[k].broadcast[last_axis])
        merge = false;
    if (merge)
      size[n_loops - 1] *= out->dims[j];
    else
      size[n_loops++] = out->dims[j];
    out_loop_stride[n_loops - 1] = out_strides[j];
    for (int k = 0; k < n_in; k++)
      axes[k].loop_stride[n_loops - 1] = axes[k].broadcast[j] ? 0 : axes[k].strides[j];
    last_axis = j;
  }
  if (empty) {
    /* a loop that never runs keeps the caller's body valid C */
    size[0] = 0;
    out_loop_stride[0] = 1;
    n_loops = 1;
  }

  char *expr = NULL;
  for (int l = 0; l < n_loops; l++)
    expr = add_term(expr, cn_format("i%d", l), out_loop_stride[l]);
  *out_index = expr ? expr : cn_strdup("0");
  for (int k = 0; k < n_in; k++) {
    expr = NULL;
    for (int l = 0; l < n_loops && ins[k]; l++)
      expr = add_term(expr, cn_format("i%d", l), axes[k].loop_stride[l]);
    in_index[k] = expr ? expr : cn_strdup("0");
  }
  return emit_loops(e, n_loops, size, "i");
}

int64_t broadcast_offset(const Value *out, const Value *in, int64_t index) {
  int64_t offset = 0, in_stride = 1;
  for (int j = out->rank - 1, k = in->rank - 1; j >= 0 && k >= 0; j--, k--) {
    int64_t coord = index % out->dims[j];
    index /= out->dims[j];
    if (in->dims[k] != 1)
      offset += coord * in_stride;
    in_stride *= in->dims[k];
  }
  return offset;
}

ScalarKind scalar_kind(DType t) {
  switch (t) {
  case DT_FLOAT: return SCALAR_FLOAT;
  case DT_DOUBLE: return SCALAR_DOUBLE;
  case DT_UINT8:
  case DT_UINT16:
  case DT_UINT32:
  case DT_UINT64: return SCALAR_UINT;
  default: return SCALAR_INT;
  }
}

Scalar scalar_get(const Value *v, int64_t index) {
  Scalar x;
  switch (scalar_kind(v->dtype)) {
  case SCALAR_FLOAT: x.f = ((const float *)v->data)[index]; break;
  case SCALAR_DOUBLE: x.d = ((const double *)v->data)[index]; break;
  case SCALAR_INT: x.i = value_get_int(v, index); break;
  case SCALAR_UINT: x.u = (uint64_t)value_get_int(v, index); break;
  }
  return x;
}

void scalar_set(Value *v, int64_t index, Scalar x) {
  CN_ASSERT(v->data && index >= 0 && index < value_count(v));
  void *p = v->data;
  switch (v->dtype) {
  case DT_FLOAT: ((float *)p)[index] = x.f; break;
  case DT_DOUBLE: ((double *)p)[index] = x.d; break;
  case DT_BOOL: ((bool *)p)[index] = x.i != 0; break;
  case DT_INT8: ((int8_t *)p)[index] = (int8_t)x.i; break;
  case DT_INT16: ((int16_t *)p)[index] = (int16_t)x.i; break;
  case DT_INT32: ((int32_t *)p)[index] = (int32_t)x.i; break;
  case DT_INT64: ((int64_t *)p)[index] = x.i; break;
  case DT_UINT8: ((uint8_t *)p)[index] = (uint8_t)x.u; break;
  case DT_UINT16: ((uint16_t *)p)[index] = (uint16_t)x.u; break;
  case DT_UINT32: ((uint32_t *)p)[index] = (uint32_t)x.u; break;
  case DT_UINT64: ((uint64_t *)p)[index] = x.u; break;
  default: cn_unreachable();
  }
}

Scalar scalar_convert(Scalar x, DType from, DType to) {
  Scalar y;
  if (to == DT_BOOL) {
    switch (scalar_kind(from)) {
    case SCALAR_FLOAT: y.i = x.f != 0; break;
    case SCALAR_DOUBLE: y.i = x.d != 0; break;
    default: y.i = x.i != 0; break;
    }
    return y;
  }
  switch (scalar_kind(from) * 4 + scalar_kind(to)) {
#define CONVERT(from_kind, from_field, to_kind, to_field, to_type)                                                 \
  case from_kind * 4 + to_kind: y.to_field = (to_type)x.from_field; break;
    CONVERT(SCALAR_FLOAT, f, SCALAR_FLOAT, f, float)
    CONVERT(SCALAR_FLOAT, f, SCALAR_DOUBLE, d, double)
    CONVERT(SCALAR_FLOAT, f, SCALAR_INT, i, int64_t)
    CONVERT(SCALAR_FLOAT, f, SCALAR_UINT, u, uint64_t)
    CONVERT(SCALAR_DOUBLE, d, SCALAR_FLOAT, f, float)
    CONVERT(SCALAR_DOUBLE, d, SCALAR_DOUBLE, d, double)
    CONVERT(SCALAR_DOUBLE, d, SCALAR_INT, i, int64_t)
    CONVERT(SCALAR_DOUBLE, d, SCALAR_UINT, u, uint64_t)
    CONVERT(SCALAR_INT, i, SCALAR_FLOAT, f, float)
    CONVERT(SCALAR_INT, i, SCALAR_DOUBLE, d, double)
    CONVERT(SCALAR_INT, i, SCALAR_INT, i, int64_t)
    CONVERT(SCALAR_INT, i, SCALAR_UINT, u, uint64_t)
    CONVERT(SCALAR_UINT, u, SCALAR_FLOAT, f, float)
    CONVERT(SCALAR_UINT, u, SCALAR_DOUBLE, d, double)
    CONVERT(SCALAR_UINT, u, SCALAR_INT, i, int64_t)
    CONVERT(SCALAR_UINT, u, SCALAR_UINT, u, uint64_t)
#undef CONVERT
  default: cn_unreachable();
  }
  return y;
}

bool scalar_less(Scalar a, Scalar b, DType t) {
  switch (scalar_kind(t)) {
  case SCALAR_FLOAT: return a.f < b.f;
  case SCALAR_DOUBLE: return a.d < b.d;
  case SCALAR_INT: return a.i < b.i;
  case SCALAR_UINT: return a.u < b.u;
  }
  cn_unreachable();
}
