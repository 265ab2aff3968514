/* MatMul with numpy semantics: a 1-D A is a row vector and a 1-D B a column vector (the added dimension is
 * dropped from the result); dimensions before the last two are batch dimensions and broadcast. */
#include "../cnnc.h"

#include <string.h>

/* The operands seen as stacks of matrices: batch dims of each input and the broadcast batch of the output. */
typedef struct MatMulParams {
  int64_t m, k, n;
  int a_batch_rank, b_batch_rank, batch_rank;
  int64_t a_batch[CN_MAX_RANK], b_batch[CN_MAX_RANK], batch[CN_MAX_RANK];
} MatMulParams;

static bool dtype_matmul(DType t) {
  return t == DT_FLOAT || t == DT_DOUBLE || t == DT_INT32 || t == DT_INT64 || t == DT_UINT32 || t == DT_UINT64;
}

static void matmul_infer(Graph *g, Node *n) {
  (void)g;
  Value *a = n->in[0], *b = n->in[1];
  check_input_type(n, 0, dtype_matmul, "float, double, int32, int64, uint32 or uint64");
  if (b->dtype != a->dtype)
    cn_error_node(n, "B has element type %s; expected %s like A", dtype_name(b->dtype), dtype_name(a->dtype));
  if (a->rank < 1 || b->rank < 1)
    cn_error_node(n, "MatMul needs inputs of rank 1 or more; got shapes %s and %s", value_shape_string(a),
                  value_shape_string(b));

  MatMulParams *p = cn_alloc(sizeof *p);
  p->m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
  p->k = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  p->n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
  if (kb != p->k)
    cn_error_node(n, "A %s and B %s disagree on the inner dimension: %lld vs %lld", value_shape_string(a),
                  value_shape_string(b), (long long)p->k, (long long)kb);
  p->a_batch_rank = a->rank > 2 ? a->rank - 2 : 0;
  p->b_batch_rank = b->rank > 2 ? b->rank - 2 : 0;
  memcpy(p->a_batch, a->dims, (size_t)p->a_batch_rank * sizeof(int64_t));
  memcpy(p->b_batch, b->dims, (size_t)p->b_batch_rank * sizeof(int64_t));
  if (!broadcast_shapes(p->a_batch_rank, p->a_batch, p->b_batch_rank, p->b_batch, &p->batch_rank, p->batch))
    cn_error_node(n, "the batch dimensions of A %s and B %s do not broadcast", value_shape_string(a),
                  value_shape_string(b));

  int64_t dims[CN_MAX_RANK];
  int rank = p->batch_rank;
  memcpy(dims, p->batch, (size_t)rank * sizeof(int64_t));
  if (a->rank > 1)
    dims[rank++] = p->m;
  if (b->rank > 1)
    dims[rank++] = p->n;
  n->params = p;
  value_set_shape(n->out[0], n, a->dtype, rank, dims);
}

/* Offset of the current matrix of an operand: its broadcast batch index times the matrix size. */
static char *matrix_offset(const MatMulParams *p, int rank, const int64_t *dims, int64_t matrix_size) {
  char *index = emit_broadcast_index(p->batch_rank, rank, dims, "b");
  if (strcmp(index, "0") == 0)
    return index;
  bool sum = strchr(index, '+') != NULL;
  return cn_format("%s%s%s * %lld", sum ? "(" : "", index, sum ? ")" : "", (long long)matrix_size);
}

static void matmul_emit(Emitter *e, const Node *n) {
  const MatMulParams *p = n->params;
  const Fusion *f = n->fusion;
  const char *T = dtype_ctype(n->out[0]->dtype);
  long long M = p->m, K = p->k, N = p->n;
  int loops = emit_loops(e, p->batch_rank, p->batch, "b");
  char *out_offset = matrix_offset(p, p->batch_rank, p->batch, M * N);
  emitf(e, "const %s *a = %s + %s;", T, emit_in(n, 0), matrix_offset(p, p->a_batch_rank, p->a_batch, M * K));
  emitf(e, "const %s *b = %s + %s;", T, emit_in(n, 1), matrix_offset(p, p->b_batch_rank, p->b_batch, K * N));
  emitf(e, "%s *y = %s + %s;", T, emit_out(n, 0), out_offset);
  if (f && f->residual >= 0)
    emitf(e, "const %s *residual = %s + %s;", T, emit_in(n, f->residual), out_offset);
  emitf(e, "/* [%lld, %lld] times [%lld, %lld] in i-k-j order: the inner loop walks rows of b and y */", M, K, K, N);
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", M);
  emitf(e, "for (int64_t j = 0; j < %lld; j++) {", N);
  emitf(e, "y[i * %lld + j] = 0;", N);
  emitf(e, "}");
  emitf(e, "for (int64_t k = 0; k < %lld; k++) {", K);
  emitf(e, "const %s aik = a[i * %lld + k];", T, K);
  emitf(e, "for (int64_t j = 0; j < %lld; j++) {", N);
  emitf(e, "y[i * %lld + j] += aik * b[k * %lld + j];", N, N);
  emitf(e, "}");
  emitf(e, "}");
  if (!epilogue_is_trivial(n)) {
    /* the fused bias is one value per column */
    emitf(e, "for (int64_t j = 0; j < %lld; j++) {", N);
    char *at = cn_format("i * %lld + j", N);
    epilogue_emit_store(e, n, cn_format("y[%s]", at), cn_format("y[%s]", at),
                        f->bias >= 0 ? cn_format("%s[j]", emit_in(n, f->bias)) : NULL,
                        f->residual >= 0 ? cn_format("residual[%s]", at) : NULL);
    emitf(e, "}");
  }
  emitf(e, "}");
  emit_close(e, loops);
}

/* v with its last two axes swapped. */
static Value *swap_last_axes(Graph *g, const Node *from, Value *v) {
  int64_t perm[CN_MAX_RANK];
  for (int k = 0; k < v->rank; k++)
    perm[k] = k;
  perm[v->rank - 2] = v->rank - 1;
  perm[v->rank - 1] = v->rank - 2;
  Node *t = bw_node(g, from, OP_TRANSPOSE, 1, &v, 1);
  bw_attr_ints(t, "perm", v->rank, perm);
  return bw_finish(g, t);
}

/* dA = dY B^T and dB = A^T dY per matrix of the batch, summed over the batch axes an operand was broadcast
 * along. Two matrices make Gemms (transposes for free); batches transpose with a copy. Operands of rank 1 are
 * not supported on a trained path. */
static void matmul_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  Value *a = n->in[0], *b = n->in[1];
  if (a->rank < 2 || b->rank < 2)
    cn_error_node(n, "cnnc trains MatMul with operands of rank 2 or more; A is %s and B %s", value_shape_string(a),
                  value_shape_string(b));
  bool matrices = a->rank == 2 && b->rank == 2;
  for (int k = 0; k < 2; k++) {
    if (!n->in[k]->requires_grad)
      continue;
    Value *ins[2], *d;
    if (matrices) {
      ins[0] = k == 0 ? dy[0] : a;
      ins[1] = k == 0 ? b : dy[0];
      Node *t = bw_node(g, n, OP_GEMM, 2, ins, 1);
      bw_attr_int(t, k == 0 ? "transB" : "transA", 1);
      d = bw_finish(g, t);
    } else {
      ins[0] = k == 0 ? dy[0] : swap_last_axes(g, n, a);
      ins[1] = k == 0 ? swap_last_axes(g, n, b) : dy[0];
      d = bw_finish(g, bw_node(g, n, OP_MATMUL, 2, ins, 1));
    }
    dx[k] = bw_sum_to(g, n, d, n->in[k]);
  }
}

const OpDesc op_matmul = {
    .kind = OP_MATMUL, .name = "MatMul", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = matmul_infer, .emit = matmul_emit, .grad = matmul_grad,
};
