/* TopK: the k largest (or smallest, largest = 0) elements along an axis, in order, and their indices; equal
 * elements keep their index order, so the lower index comes first. k is the `k` attribute in opset 1 and the
 * constant input K from opset 10. The outputs are always sorted (opset 11's sorted = 0 allows any order).
 *
 * Each slice along the axis is scanned once; every element is inserted into the sorted list being built in the
 * outputs themselves, behind the elements that beat or equal it (O(length * k), no scratch memory):
 *
 *   for (int64_t i = 0; i < 10; i++) {
 *     const float v = x[i * 4];
 *     int64_t p = filled;
 *     while (p > 0 && v > values[(p - 1) * 4]) p--;
 *     ... shift the tail and insert at p, when p < k ...
 *   }
 *
 * NaN beats nothing, so NaNs sort last. */
#include "../cnnc.h"

#include <string.h>

typedef struct TopKParams {
  int64_t outer, length, inner, k;
  bool largest;
} TopKParams;

static void topk_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  check_input_type(n, 0, dtype_any_numeric, "a number");
  if (!n->out[0] || !n->out[1])
    cn_error_node(n, "TopK's outputs Values and Indices must both be named");
  if (x->rank == 0)
    cn_error_node(n, "the input is a scalar; TopK needs an axis");
  int64_t axis = normalize_axis(n, attr_int(n, "axis", -1), x->rank);
  TopKParams *p = cn_alloc(sizeof *p);
  if (g->opset < 10) {
    if (!node_attr(n, "k"))
      cn_error_node(n, "the attribute 'k' is required before opset 10");
    p->k = attr_int(n, "k", 0);
    if (n->n_in != 1)
      cn_error_node(n, "TopK takes k as an attribute before opset 10, not as input 1");
  } else {
    int count;
    int64_t *k = node_in(n, 1) ? node_const_ints(n, 1, "K", &count) : NULL;
    if (!k || count != 1)
      cn_error_node(n, "K must be a constant 1-D tensor of one element");
    p->k = k[0];
  }
  p->largest = g->opset < 11 || attr_flag(n, "largest", true);
  if (g->opset >= 11)
    attr_flag(n, "sorted", true); /* sorted output is one of the orders sorted = 0 allows */
  p->outer = p->inner = 1;
  for (int a = 0; a < x->rank; a++) {
    if (a < axis)
      p->outer *= x->dims[a];
    if (a > axis)
      p->inner *= x->dims[a];
  }
  p->length = x->dims[axis];
  if (p->k < 0 || p->k > p->length)
    cn_error_node(n, "k = %lld, but axis %lld of %s has %lld elements", (long long)p->k, (long long)axis,
                  value_shape_string(x), (long long)p->length);
  int64_t dims[CN_MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  dims[axis] = p->k;
  n->params = p;
  value_set_shape(n->out[0], n, x->dtype, x->rank, dims);
  value_set_shape(n->out[1], n, DT_INT64, x->rank, dims);
}

static void topk_fold(Graph *g, Node *n) {
  (void)g;
  const TopKParams *p = n->params;
  Value *x = n->in[0], *values = n->out[0];
  int64_t *indices = n->out[1]->data;
  DType t = x->dtype;
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t in = 0; in < p->inner; in++) {
      int64_t src = o * p->length * p->inner + in, dst = o * p->k * p->inner + in, filled = 0;
      for (int64_t i = 0; i < p->length; i++) {
        Scalar v = scalar_get(x, src + i * p->inner);
        int64_t at = filled;
        while (at > 0) {
          Scalar before = scalar_get(values, dst + (at - 1) * p->inner);
          if (!(p->largest ? scalar_less(before, v, t) : scalar_less(v, before, t)))
            break;
          at--;
        }
        if (at >= p->k)
          continue;
        if (filled < p->k)
          filled++;
        for (int64_t q = filled - 1; q > at; q--) {
          scalar_set(values, dst + q * p->inner, scalar_get(values, dst + (q - 1) * p->inner));
          indices[dst + q * p->inner] = indices[dst + (q - 1) * p->inner];
        }
        scalar_set(values, dst + at * p->inner, v);
        indices[dst + at * p->inner] = i;
      }
    }
}

static void topk_emit(Emitter *e, const Node *n) {
  const TopKParams *p = n->params;
  if (emit_if_empty(e, n, 0)) {
    emit_if_empty(e, n, 1);
    return;
  }
  const char *T = dtype_ctype(n->in[0]->dtype);
  long long length = p->length, inner = p->inner, k = p->k;
  char *step = inner == 1 ? cn_strdup("") : cn_format(" * %lld", inner);
  emitf(e, "for (int64_t o = 0; o < %lld; o++) {", (long long)p->outer);
  emitf(e, "for (int64_t in = 0; in < %lld; in++) {", inner);
  emitf(e, "const %s *x = %s + o * %lld + in;", T, emit_in(n, 0), length * inner);
  emitf(e, "%s *values = %s + o * %lld + in;", T, emit_out(n, 0), k * inner);
  emitf(e, "int64_t *indices = %s + o * %lld + in;", emit_out(n, 1), k * inner);
  emitf(e, "int64_t filled = 0;");
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", length);
  emitf(e, "const %s v = x[i%s];", T, step);
  emitf(e, "int64_t at = filled;");
  emitf(e, "while (at > 0 && v %s values[(at - 1)%s])", p->largest ? ">" : "<", step);
  emitf(e, "  at--;");
  emitf(e, "if (at >= %lld)", k);
  emitf(e, "  continue;");
  emitf(e, "if (filled < %lld)", k);
  emitf(e, "  filled++;");
  emitf(e, "for (int64_t q = filled - 1; q > at; q--) {");
  emitf(e, "values[q%s] = values[(q - 1)%s];", step, step);
  emitf(e, "indices[q%s] = indices[(q - 1)%s];", step, step);
  emitf(e, "}");
  emitf(e, "values[at%s] = v;", step);
  emitf(e, "indices[at%s] = i;", step);
  emitf(e, "}");
  emitf(e, "}");
  emitf(e, "}");
}

const OpDesc op_top_k = {
    .kind = OP_TOP_K, .name = "TopK", .min_in = 1, .max_in = 2, .min_out = 2, .max_out = 2,
    .infer = topk_infer, .fold = topk_fold, .emit = topk_emit,
};
