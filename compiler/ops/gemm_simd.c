/* Gemm and MatMul on SIMD targets when the right operand is a constant: B packed at compile time into column
 * panels (templates/gemm.c), the bias (Gemm's beta * C when it broadcasts along rows, or a fused Add) folded
 * into one padded vector per column block, and the node's fused epilogue. Tensors stay row-major. Other cases
 * (a run-time B, transA, a C with more than one row, batched B) keep the portable loop nests of gemm.c and
 * matmul.c. */
#include "../cnnc.h"

typedef struct GemmKernel {
  int vlen;
  int64_t m, k, n, nb; /* nb: column blocks of vlen */
  int mr, nv;          /* the register tile: rows by column vectors */
  double alpha;
  int bias_in;         /* index in n->in of the packed bias, or -1 */
} GemmKernel;

static int max_accumulators(Target t) { return t == TARGET_AVX512 ? 24 : 12; }

/* The largest divisor of n that is at most limit. */
static int largest_divisor(int64_t n, int limit) {
  for (int d = limit; d > 1; d--)
    if (n % d == 0)
      return d;
  return 1;
}

/* One row (a batch of one) reads every element of B once, so the tile is as wide as the accumulators allow:
 * that many independent FMA chains hide the FMA latency. Several rows reuse each vector of B MR times. */
static void choose_tile(GemmKernel *k, Target t) {
  int acc = max_accumulators(t);
  if (k->m == 1) {
    k->mr = 1;
    k->nv = largest_divisor(k->nb, acc);
    return;
  }
  k->nv = largest_divisor(k->nb, t == TARGET_AVX512 ? 4 : 2);
  k->mr = acc / k->nv > 8 ? 8 : acc / k->nv;
  if (k->mr > k->m)
    k->mr = (int)k->m;
}

static Value *packed_constant(Graph *g, const Value *from, const char *what, int64_t count) {
  Value *p = graph_add_value(g, cn_format("%s (%s)", from->name, what));
  p->dtype = DT_FLOAT;
  p->rank = 1;
  p->dims[0] = count;
  p->has_shape = true;
  p->flags = VAL_INITIALIZER;
  p->data = cn_alloc_array((size_t)count, sizeof(float));
  return p;
}

/* B (K, N), or (N, K) when trans_b, as [NB / NV][K][NV][VLEN], zero past N. */
static Value *pack_b(Graph *g, const Value *b, bool trans_b, const GemmKernel *k) {
  int64_t V = k->vlen;
  Value *p = packed_constant(g, b, cn_format("packed in panels of %d vectors", k->nv), k->nb * V * k->k);
  const float *src = b->data;
  float *dst = p->data;
  for (int64_t kk = 0; kk < k->k; kk++)
    for (int64_t j = 0; j < k->n; j++) {
      int64_t block = j / V, group = block / k->nv, v = block % k->nv;
      dst[((group * k->k + kk) * k->nv + v) * V + j % V] = src[trans_b ? j * k->k + kk : kk * k->n + j];
    }
  return p;
}

/* A constant that broadcasts along the rows of (M, N): a scalar, or N values as (N), (1, N), ... */
static bool row_broadcast(const Value *c, int64_t n) {
  if (!c->data)
    return false;
  int64_t count = value_count(c);
  return count == 1 || (count == n && c->rank >= 1 && c->dims[c->rank - 1] == n);
}

/* The bias per column, padded to whole blocks: scale * c (broadcast along rows) plus a fused Add's constant. */
static Value *pack_bias(Graph *g, const Value *c, double scale, const Value *extra, const GemmKernel *k) {
  Value *p = packed_constant(g, c ? c : extra, "bias per column, padded to whole blocks", k->nb * k->vlen);
  float *dst = p->data;
  for (int64_t j = 0; j < k->n; j++) {
    double v = c ? scale * value_get_double(c, value_count(c) == 1 ? 0 : j) : 0;
    if (extra)
      v += value_get_double(extra, value_count(extra) == 1 ? 0 : j);
    dst[j] = (float)v;
  }
  return p;
}

/* What Gemm and MatMul share once M, K, N, B and the C to fold are known. */
static bool choose(Graph *g, Node *n, Target t, int64_t m, int64_t kk, int64_t cols, Value *b, bool trans_b,
                   double alpha, Value *c, double beta) {
  const Fusion *f = n->fusion;
  if (f && f->window)
    return false;
  Value *extra = f && f->bias >= 0 ? n->in[f->bias] : NULL;
  if (extra && !row_broadcast(extra, cols))
    return false;
  if (c && beta != 0 && !row_broadcast(c, cols))
    return false;
  GemmKernel *k = cn_alloc(sizeof *k);
  k->vlen = target_vector_floats(t);
  k->m = m;
  k->k = kk;
  k->n = cols;
  k->nb = (cols + k->vlen - 1) / k->vlen;
  k->alpha = alpha;
  choose_tile(k, t);
  n->in[1] = pack_b(g, b, trans_b, k);
  const Value *scaled = c && beta != 0 ? c : NULL;
  k->bias_in = -1;
  if (scaled || extra) {
    k->bias_in = c ? 2 : f->bias;
    n->in[k->bias_in] = pack_bias(g, scaled, beta, extra, k);
  }
  n->kernel = cn_format("gemm, B packed in panels, tile %d rows x %d column vectors of %d", k->mr, k->nv, k->vlen);
  n->kernel_params = k;
  return true;
}

bool gemm_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  (void)in_layout;
  (void)out_layout;
  Value *a = n->in[0], *b = n->in[1], *c = node_in(n, 2);
  if (a->dtype != DT_FLOAT || !b->data || attr_flag(n, "transA", false) || value_count(n->out[0]) == 0)
    return false;
  bool trans_b = attr_flag(n, "transB", false);
  return choose(g, n, t, a->dims[0], a->dims[1], n->out[0]->dims[1], b, trans_b, attr_float(n, "alpha", 1.0f), c,
                attr_float(n, "beta", 1.0f));
}

/* A MatMul by a constant matrix: A's leading dimensions (batch and rows) run as the rows of one Gemm. */
bool matmul_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  (void)in_layout;
  (void)out_layout;
  Value *a = n->in[0], *b = n->in[1];
  if (a->dtype != DT_FLOAT || !b->data || b->rank != 2 || value_count(n->out[0]) == 0)
    return false;
  int64_t kk = b->dims[0], cols = b->dims[1];
  return choose(g, n, t, value_count(a) / kk, kk, cols, b, false, 1.0, NULL, 0);
}

void gemm_emit_simd(Emitter *e, const Node *n) {
  const GemmKernel *k = n->kernel_params;
  const Fusion *f = n->fusion;
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  Instance *t = tpl_begin(e, "gemm.c", fn);
  tpl_int(t, "M", k->m);
  tpl_int(t, "K", k->k);
  tpl_int(t, "N", k->n);
  tpl_int(t, "NB", k->nb);
  tpl_int(t, "MR", k->mr);
  tpl_int(t, "NV", k->nv);
  tpl_list(t, "NV_LIST", k->nv);
  tpl_tile(t, "TILE", k->mr, k->nv);
  int tail = (int)(k->m % k->mr);
  tpl_int(t, "TAIL_ROWS", tail);
  if (tail)
    tpl_tile(t, "TAIL_TILE", tail, k->nv);
  tpl_int(t, "N_LAST", k->n - (k->nb - 1) * k->vlen);
  tpl_int(t, "HAS_ALPHA", k->alpha != 1);
  tpl_define(t, "ALPHA", "%s", emit_float(k->alpha, DT_FLOAT));
  tpl_int(t, "HAS_BIAS", k->bias_in >= 0);
  tpl_epilogue(t, f);
  tpl_end(t);
  const char *bias = k->bias_in >= 0 ? emit_in(n, k->bias_in) : "NULL";
  const char *res = f && f->residual >= 0 ? emit_in(n, f->residual) : "NULL";
  emitf(e, "%s(%s, %s, %s, %s, %s);", fn, emit_in(n, 0), emit_in(n, 1), bias, res, emit_out(n, 0));
}
