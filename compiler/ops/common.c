/* Loop-nest helpers shared by the op files. */
#include "../cnnc.h"

void shape_strides(int rank, const int64_t *dims, int64_t *strides) {
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
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
