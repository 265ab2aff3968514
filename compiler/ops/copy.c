/* Strided copies: the one kernel shape behind Transpose, Slice, Split, Concat, Expand, Tile and Pad's interior. */
#include "../cnnc.h"

#include <string.h>

/* Drops axes of size 1 and merges neighbours that are contiguous in both tensors, so the loop nest is as shallow
 * as the layouts allow (a Concat of rows becomes one memcpy per row). Returns false when the copy is empty. */
static bool strided_copy_simplify(const StridedCopy *c, StridedCopy *s) {
  *s = (StridedCopy){.src_base = c->src_base, .dst_base = c->dst_base};
  for (int k = 0; k < c->rank; k++) {
    if (c->dims[k] == 0)
      return false;
    if (c->dims[k] == 1)
      continue;
    int last = s->rank - 1;
    /* outer index a and inner index b read a*sa + b*sb, which is (a*dims + b)*sb when sa == sb*dims */
    if (last >= 0 && s->src_step[last] == c->src_step[k] * c->dims[k] &&
        s->dst_step[last] == c->dst_step[k] * c->dims[k]) {
      s->dims[last] *= c->dims[k];
      s->src_step[last] = c->src_step[k];
      s->dst_step[last] = c->dst_step[k];
      continue;
    }
    s->dims[s->rank] = c->dims[k];
    s->src_step[s->rank] = c->src_step[k];
    s->dst_step[s->rank] = c->dst_step[k];
    s->rank++;
  }
  return true;
}

/* "base + i0 * step0 + i1 - i2 * 4 ...", leaving out zero terms. */
static char *affine_index(int64_t base, int rank, const int64_t *step, const char *var) {
  char *expr = base ? cn_format("%lld", (long long)base) : cn_strdup("");
  for (int k = 0; k < rank; k++) {
    if (step[k] == 0)
      continue;
    /* steps are offsets within one tensor, so -step cannot overflow */
    int64_t size = step[k] < 0 ? -step[k] : step[k];
    const char *sep = step[k] < 0 ? (expr[0] ? " - " : "-") : (expr[0] ? " + " : "");
    expr = size == 1 ? cn_format("%s%s%s%d", expr, sep, var, k)
                     : cn_format("%s%s%s%d * %lld", expr, sep, var, k, (long long)size);
  }
  return expr[0] ? expr : cn_strdup("0");
}

void emit_strided_copy(Emitter *e, const StridedCopy *c, const char *dst, const char *src) {
  StridedCopy s;
  if (!strided_copy_simplify(c, &s))
    return;
  int inner = s.rank - 1;
  bool contiguous_rows = s.rank > 0 && s.src_step[inner] == 1 && s.dst_step[inner] == 1;
  int loops = contiguous_rows ? inner : s.rank;
  emit_loops(e, loops, s.dims, "i");
  char *to = affine_index(s.dst_base, loops, s.dst_step, "i");
  char *from = affine_index(s.src_base, loops, s.src_step, "i");
  if (contiguous_rows) {
    char *to_ptr = strcmp(to, "0") ? cn_format("%s + %s", dst, to) : cn_strdup(dst);
    char *from_ptr = strcmp(from, "0") ? cn_format("%s + %s", src, from) : cn_strdup(src);
    emitf(e, "memcpy(%s, %s, %lld * sizeof *%s);", to_ptr, from_ptr, (long long)s.dims[inner], dst);
  } else {
    emitf(e, "%s[%s] = %s[%s];", dst, to, src, from);
  }
  emit_close(e, loops);
}

void strided_copy_run(const StridedCopy *c, void *dst, const void *src, size_t elem_size) {
  StridedCopy s;
  if (!strided_copy_simplify(c, &s))
    return;
  int64_t index[CN_MAX_COPY_RANK] = {0};
  for (;;) {
    int64_t from = s.src_base, to = s.dst_base;
    for (int k = 0; k < s.rank; k++) {
      from += index[k] * s.src_step[k];
      to += index[k] * s.dst_step[k];
    }
    memcpy((char *)dst + to * (int64_t)elem_size, (const char *)src + from * (int64_t)elem_size, elem_size);
    int k = s.rank - 1;
    while (k >= 0 && ++index[k] == s.dims[k])
      index[k--] = 0;
    if (k < 0)
      return;
  }
}

void strided_copy_fold(Graph *g, Node *n) {
  (void)g;
  strided_copy_run(n->params, n->out[0]->data, n->in[0]->data, dtype_size(n->in[0]->dtype));
}

void strided_copy_emit(Emitter *e, const Node *n) { emit_strided_copy(e, n->params, emit_out(n, 0), emit_in(n, 0)); }
