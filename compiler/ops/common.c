/* Loop-nest helpers shared by the op files. */
#include "../cnnc.h"

void shape_strides(int rank, const int64_t *dims, int64_t *strides) {
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
}

int64_t plane_size(const Value *x) {
  int64_t size = 1;
  for (int i = 2; i < x->rank; i++)
    size *= x->dims[i];
  return size;
}

int emit_loops(Emitter *e, int rank, const int64_t *dims, const char *var) {
  for (int i = 0; i < rank; i++)
    emitf(e, "for (int64_t %s%d = 0; %s%d < %lld; %s%d++) {", var, i, var, i, (long long)dims[i], var, i);
  return rank;
}

void emit_close(Emitter *e, int count) {
  for (int i = 0; i < count; i++)
    emitf(e, "}");
}

char *emit_broadcast_index(int out_rank, int in_rank, const int64_t *in_dims, const char *var) {
  int64_t strides[CN_MAX_RANK];
  shape_strides(in_rank, in_dims, strides);
  char *expr = cn_strdup("");
  for (int i = 0; i < in_rank; i++) {
    if (in_dims[i] == 1)
      continue;
    int axis = out_rank - in_rank + i;
    if (strides[i] == 1)
      expr = cn_format("%s%s%s%d", expr, expr[0] ? " + " : "", var, axis);
    else
      expr = cn_format("%s%s%s%d * %lld", expr, expr[0] ? " + " : "", var, axis, (long long)strides[i]);
  }
  return expr[0] ? expr : cn_strdup("0");
}

bool emit_if_empty(Emitter *e, const Node *n, int out) {
  if (value_count(n->out[out]) > 0)
    return false;
  emitf(e, "(void)%s; /* empty tensor: nothing to write */", emit_out(n, out));
  return true;
}

char *emit_math_fn(const char *name, DType t) { return cn_format("%s%s", name, t == DT_FLOAT ? "f" : ""); }

const char *emit_lowest(DType t) {
  switch (t) {
  case DT_FLOAT:
  case DT_DOUBLE: return "-INFINITY";
  case DT_INT8: return "INT8_MIN";
  case DT_INT16: return "INT16_MIN";
  case DT_INT32: return "INT32_MIN";
  case DT_INT64: return "INT64_MIN"; /* no plain literal spells it */
  default: return "0";               /* unsigned and bool */
  }
}

char *emit_value_literal(const Value *v, int64_t index) {
  switch (v->dtype) {
  case DT_FLOAT:
  case DT_DOUBLE: return emit_float(value_get_double(v, index), v->dtype);
  case DT_BOOL: return cn_strdup(value_get_int(v, index) ? "true" : "false");
  case DT_UINT64: return cn_format("%lluu", (unsigned long long)((const uint64_t *)v->data)[index]);
  default: {
    int64_t x = value_get_int(v, index);
    /* -9223372036854775808 would be a negated literal too large for any signed type */
    return x == INT64_MIN ? cn_strdup("INT64_MIN") : cn_format("%lld", (long long)x);
  }
  }
}

int64_t *node_const_ints(const Node *n, int i, const char *what, int *count) {
  Value *v = node_const_in(n, i, what);
  if ((v->dtype != DT_INT64 && v->dtype != DT_INT32) || v->rank != 1)
    cn_error_node(n, "input %d (%s) must be a 1-D int64 or int32 tensor, not %s%s", i, what, dtype_name(v->dtype),
                  value_shape_string(v));
  int64_t len = value_count(v);
  int64_t *ints = cn_alloc_array((size_t)len + 1, sizeof *ints);
  for (int64_t k = 0; k < len; k++)
    ints[k] = value_get_int(v, k);
  *count = (int)len;
  return ints;
}
