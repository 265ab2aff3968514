/* Gemm: Y = alpha * A' * B' + beta * C, where A' and B' are A and B, transposed when transA/transB are set,
 * and C is broadcast to Y's shape [M, N]. */
#include "../cnnc.h"

typedef struct GemmParams {
  int64_t m, k, n;
  bool trans_a, trans_b;
  double alpha, beta;
} GemmParams;

static bool dtype_gemm(DType t) {
  return t == DT_FLOAT || t == DT_DOUBLE || t == DT_INT32 || t == DT_INT64 || t == DT_UINT32 || t == DT_UINT64;
}

static void gemm_infer(Graph *g, Node *n) {
  Value *a = n->in[0], *b = n->in[1], *c = node_in(n, 2);
  check_input_type(n, 0, dtype_gemm, "float, double, int32, int64, uint32 or uint64");
  for (int i = 1; i < n->n_in; i++)
    if (n->in[i] && n->in[i]->dtype != a->dtype)
      cn_error_node(n, "input %d has element type %s; expected %s like A", i, dtype_name(n->in[i]->dtype),
                    dtype_name(a->dtype));
  if (a->rank != 2 || b->rank != 2)
    cn_error_node(n, "A and B must be matrices; got shapes %s and %s", value_shape_string(a), value_shape_string(b));
  if (!c && g->opset < 11 && !n->backward)
    cn_error_node(n, "input C is required before opset 11");

  GemmParams *p = cn_alloc(sizeof *p);
  p->trans_a = attr_flag(n, "transA", false);
  p->trans_b = attr_flag(n, "transB", false);
  p->alpha = attr_float(n, "alpha", 1.0f);
  p->beta = attr_float(n, "beta", 1.0f);
  p->m = a->dims[p->trans_a ? 1 : 0];
  p->k = a->dims[p->trans_a ? 0 : 1];
  int64_t kb = b->dims[p->trans_b ? 1 : 0];
  p->n = b->dims[p->trans_b ? 0 : 1];
  if (kb != p->k)
    cn_error_node(n, "A %s (transA=%d) and B %s (transB=%d) disagree on the inner dimension: %lld vs %lld",
                  value_shape_string(a), p->trans_a, value_shape_string(b), p->trans_b, (long long)p->k,
                  (long long)kb);
  if (!dtype_is_float(a->dtype) && (p->alpha != (int64_t)p->alpha || p->beta != (int64_t)p->beta))
    cn_error_node(n, "alpha %g and beta %g must be whole numbers for %s inputs", p->alpha, p->beta,
                  dtype_name(a->dtype));

  int64_t dims[2] = {p->m, p->n};
  if (c) {
    /* Before opset 7, C broadcasts only when the `broadcast` attribute says so. */
    bool must_match = g->opset < 7 && attr_int(n, "broadcast", 0) == 0;
    bool matches = c->rank == 2 && c->dims[0] == p->m && c->dims[1] == p->n;
    int rank;
    int64_t bdims[2];
    bool broadcasts = c->rank <= 2 && broadcast_shapes(2, dims, c->rank, c->dims, &rank, bdims) &&
                      bdims[0] == p->m && bdims[1] == p->n;
    if (must_match ? !matches : !broadcasts)
      cn_error_node(n, "C has shape %s; expected one that %s [%lld, %lld]", value_shape_string(c),
                    must_match ? "equals (broadcast=0)" : "broadcasts to", (long long)p->m, (long long)p->n);
  }
  n->params = p;
  value_set_shape(n->out[0], n, a->dtype, 2, dims);
}

/* A coefficient in the element type: float literal, or (checked in infer) a whole number. */
static char *coefficient(double x, DType t) {
  return dtype_is_float(t) ? emit_float(x, t) : cn_format("%lld", (long long)x);
}

/* "coef * expr", leaving out a coefficient of 1. */
static char *scaled(double coef, DType t, const char *expr) {
  return coef == 1 ? cn_strdup(expr) : cn_format("%s * %s", coefficient(coef, t), expr);
}

static void gemm_emit(Emitter *e, const Node *n) {
  const GemmParams *p = n->params;
  Value *c = node_in(n, 2);
  DType t = n->out[0]->dtype;
  const char *T = dtype_ctype(t);
  long long M = p->m, K = p->k, N = p->n;
  /* A'[i0][k] and B'[k][i1] in terms of the stored layouts */
  const char *A = emit_in(n, 0), *B = emit_in(n, 1);
  char *a = p->trans_a ? cn_format("%s[k * %lld + i0]", A, M) : cn_format("%s[i0 * %lld + k]", A, K);
  char *b = p->trans_b ? cn_format("%s[i1 * %lld + k]", B, K) : cn_format("%s[k * %lld + i1]", B, N);
  /* beta * C[i0][i1], broadcast; C is left out when beta is 0 */
  bool use_c = c && p->beta != 0;
  char *bias = NULL;
  if (use_c)
    bias = scaled(p->beta, t, cn_format("%s[%s]", emit_in(n, 2), emit_broadcast_index(2, c->rank, c->dims, "i")));

  /* a fused epilogue (activation, residual) applies to each finished element */
  const Fusion *f = n->fusion;
  char *residual = f && f->residual >= 0 ? cn_format("%s[i0 * %lld + i1]", emit_in(n, f->residual), N) : NULL;
  emitf(e, "/* A' [%lld, %lld] times B' [%lld, %lld]%s */", M, K, K, N, use_c ? ", plus C broadcast" : "");
  emitf(e, "for (int64_t i0 = 0; i0 < %lld; i0++) {", M);
  emitf(e, "%s *y = %s + i0 * %lld;", T, emit_out(n, 0), N);
  if (p->trans_b) {
    /* B is stored [N, K]: a dot product per output reads both rows contiguously. In float, it keeps 16 partial
     * sums (lane l adds the products of k = l mod 16), element-wise work a compiler vectorizes without
     * reassociating anything, and adds them up at the end. */
    long long lanes = dtype_is_float(t) && K >= 32 ? 16 : 1, whole = lanes > 1 ? K / lanes * lanes : 0;
    emitf(e, "for (int64_t i1 = 0; i1 < %lld; i1++) {", N);
    emitf(e, "%s acc = 0;", T);
    if (lanes > 1) {
      emitf(e, "%s part[%lld] = {0};", T, lanes);
      emitf(e, "for (int64_t k0 = 0; k0 < %lld; k0 += %lld) {", whole, lanes);
      emitf(e, "for (int64_t l = 0; l < %lld; l++) {", lanes);
      emitf(e, "const int64_t k = k0 + l;");
      emitf(e, "part[l] += %s * %s;", a, b);
      emitf(e, "}");
      emitf(e, "}");
      emitf(e, "for (int64_t l = 0; l < %lld; l++)", lanes);
      emitf(e, "  acc += part[l];");
    }
    emitf(e, "for (int64_t k = %lld; k < %lld; k++) {", whole, K);
    emitf(e, "acc += %s * %s;", a, b);
    emitf(e, "}");
    char *value = cn_format("%s%s%s", scaled(p->alpha, t, "acc"), use_c ? " + " : "", use_c ? bias : "");
    epilogue_emit_store(e, n, "y[i1]", value, NULL, residual);
    emitf(e, "}");
  } else {
    /* i-k-j order: the inner loop walks a row of B and a row of Y */
    emitf(e, "for (int64_t i1 = 0; i1 < %lld; i1++) {", N);
    emitf(e, "y[i1] = %s;", use_c ? bias : "0");
    emitf(e, "}");
    emitf(e, "for (int64_t k = 0; k < %lld; k++) {", K);
    emitf(e, "const %s a = %s;", T, scaled(p->alpha, t, a));
    emitf(e, "for (int64_t i1 = 0; i1 < %lld; i1++) {", N);
    emitf(e, "y[i1] += a * %s;", b);
    emitf(e, "}");
    emitf(e, "}");
    if (!epilogue_is_trivial(n)) {
      emitf(e, "for (int64_t i1 = 0; i1 < %lld; i1++) {", N);
      epilogue_emit_store(e, n, "y[i1]", "y[i1]", NULL, residual);
      emitf(e, "}");
    }
  }
  emitf(e, "}");
}

/* A Gemm of two operands, each transposed or not, scaled by alpha: a backward node. */
static Value *gemm_node(Graph *g, const Node *from, Value *a, bool trans_a, Value *b, bool trans_b, double alpha) {
  Value *ins[2] = {a, b};
  Node *t = bw_node(g, from, OP_GEMM, 2, ins, 1);
  bw_attr_int(t, "transA", trans_a);
  bw_attr_int(t, "transB", trans_b);
  bw_attr_float(t, "alpha", (float)alpha);
  return bw_finish(g, t);
}

/* With A' = op(A) [M, K] and B' = op(B) [K, N]: dA' = alpha dY B'^T and dB' = alpha A'^T dY, themselves Gemms of
 * dY with the stored operands (transposing back where A or B was transposed); dC = beta dY, summed over the axes C
 * was broadcast along. */
static void gemm_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  const GemmParams *p = n->params;
  Value *a = n->in[0], *b = n->in[1], *c = node_in(n, 2);
  if (a->requires_grad)
    dx[0] = p->trans_a ? gemm_node(g, n, b, p->trans_b, dy[0], true, p->alpha)
                       : gemm_node(g, n, dy[0], false, b, !p->trans_b, p->alpha);
  if (b->requires_grad)
    dx[1] = p->trans_b ? gemm_node(g, n, dy[0], true, a, p->trans_a, p->alpha)
                       : gemm_node(g, n, a, !p->trans_a, dy[0], false, p->alpha);
  if (c && c->requires_grad) {
    Value *d = bw_sum_to(g, n, dy[0], c);
    dx[2] = p->beta == 1 ? d : bw_binary(g, n, OP_MUL, d, bw_scalar(g, c->dtype, p->beta));
  }
}

const OpDesc op_gemm = {
    .kind = OP_GEMM, .name = "Gemm", .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = gemm_infer, .emit = gemm_emit, .grad = gemm_grad,
};
