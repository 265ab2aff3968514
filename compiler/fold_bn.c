/* BatchNormalization folding: an inference BatchNormalization, y = x * multiplier[c] + offset[c] with the
 * multiplier and offset that batch_norm_affine computes from its constant statistics, becomes part of the Conv or
 * Gemm before it when nothing else reads that node's result:
 *
 *   Conv (X, W, B):       W'[m, ...] = W[m, ...] * multiplier[m]     B'[m] = B[m] * multiplier[m] + offset[m]
 *   Gemm (A, B, C), Y = alpha * A' * B' + beta * C, the channels being Y's columns n:
 *                         B' column n (row n when transB) * multiplier[n]
 *                         C'[i, n] = beta * C[i, n] * multiplier[n] + offset[n], and beta becomes 1
 *
 * The new weights are new constants (the old ones may have other readers), computed in double from the original
 * weights and rounded once. Where one of them is not finite in the weight type, nothing changes: the
 * BatchNormalization stays and runs on its own. The training form, and weights known only at run time
 * (training parameters), are left alone. */
#include "cnnc.h"

#include <math.h>
#include <string.h>

static bool representable(double x, DType t) { return t == DT_FLOAT ? isfinite((float)x) : isfinite(x); }

/* A new constant of `like`'s type and the given shape, named after what it was folded from. */
static Value *new_constant(Graph *g, const Value *like, const char *suffix, int rank, const int64_t *dims) {
  Value *v = graph_add_value(g, cn_format("%s_%s", like->name, suffix));
  value_set_shape(v, NULL, like->dtype, rank, dims);
  v->data = cn_alloc((size_t)value_bytes(v));
  v->flags |= VAL_INITIALIZER;
  return v;
}

/* W' and B' of a Conv, or false when one is not finite. */
static bool fold_conv(Graph *g, Node *conv, const double *mul, const double *off, Value **w_out, Value **b_out) {
  Value *w = conv->in[1], *b = node_in(conv, 2);
  int64_t maps = w->dims[0], per_map = value_count(w) / (maps ? maps : 1);
  Value *nw = new_constant(g, w, "bn", w->rank, w->dims);
  Value *nb = new_constant(g, w, "bn_bias", 1, &maps);
  for (int64_t m = 0; m < maps; m++) {
    for (int64_t i = 0; i < per_map; i++) {
      double x = value_get_double(w, m * per_map + i) * mul[m];
      if (!representable(x, w->dtype))
        return false;
      value_set_double(nw, m * per_map + i, x);
    }
    double bias = (b ? value_get_double(b, m) : 0) * mul[m] + off[m];
    if (!representable(bias, w->dtype))
      return false;
    value_set_double(nb, m, bias);
  }
  *w_out = nw;
  *b_out = nb;
  return true;
}

/* B' and C' of a Gemm, or false when one is not finite. */
static bool fold_gemm(Graph *g, Node *gemm, const double *mul, const double *off, Value **b_out, Value **c_out) {
  Value *b = gemm->in[1], *c = node_in(gemm, 2), *y = gemm->out[0];
  bool trans_b = attr_flag(gemm, "transB", false);
  double beta = attr_float(gemm, "beta", 1.0f);
  int64_t rows = y->dims[0], columns = y->dims[1];
  Value *nb = new_constant(g, b, "bn", 2, b->dims);
  for (int64_t i = 0; i < value_count(b); i++) {
    int64_t column = trans_b ? i / b->dims[1] : i % b->dims[1];
    double x = value_get_double(b, i) * mul[column];
    if (!representable(x, b->dtype))
      return false;
    value_set_double(nb, i, x);
  }
  /* C' keeps one row when C is the same for every row; before opset 7 it must match Y's shape */
  bool per_row = (c && c->rank == 2 && c->dims[0] != 1) || g->opset < 7;
  int64_t dims[2] = {rows, columns};
  Value *nc = per_row ? new_constant(g, b, "bn_c", 2, dims) : new_constant(g, b, "bn_c", 1, &columns);
  Value shape = {.rank = 2, .dims = {rows, columns}};
  for (int64_t i = 0; i < value_count(nc); i++) {
    int64_t column = i % columns;
    double from_c = c && beta != 0 ? beta * value_get_double(c, broadcast_offset(&shape, c, i)) : 0;
    double x = from_c * mul[column] + off[column];
    if (!representable(x, b->dtype))
      return false;
    value_set_double(nc, i, x);
  }
  *b_out = nb;
  *c_out = nc;
  return true;
}

/* Gemm's attributes with beta = 1: C' already holds beta * C. */
static void set_beta_one(Node *gemm) {
  Attr *attrs = cn_alloc_array((size_t)gemm->n_attrs + 1, sizeof *attrs);
  memcpy(attrs, gemm->attrs, (size_t)gemm->n_attrs * sizeof *attrs);
  for (int i = 0; i < gemm->n_attrs; i++)
    if (strcmp(attrs[i].name, "beta") == 0 && attrs[i].type == ATTR_FLOAT)
      attrs[i].f = 1;
  gemm->attrs = attrs;
}

static void fold_into(Graph *g, Node *anchor, Node *bn) {
  const double *mul, *off;
  if (!batch_norm_affine(bn, &mul, &off) || bn->in[0] != anchor->out[0])
    return;
  Value *w = anchor->in[1], *bias = node_in(anchor, 2);
  if (!w->data || (bias && !bias->data))
    return;
  Value *nw, *nb;
  bool folded = anchor->op->kind == OP_CONV ? fold_conv(g, anchor, mul, off, &nw, &nb)
                                            : fold_gemm(g, anchor, mul, off, &nw, &nb);
  if (!folded)
    return;
  if (anchor->n_in < 3) {
    Value **in = cn_alloc_array(3, sizeof *in);
    memcpy(in, anchor->in, (size_t)anchor->n_in * sizeof *in);
    anchor->in = in;
    anchor->n_in = 3;
  }
  anchor->in[1] = nw;
  anchor->in[2] = nb;
  anchor->out[0] = bn->out[0];
  anchor->out[0]->producer = anchor;
  bn->dead = true;
  if (anchor->op->kind == OP_GEMM) {
    set_beta_one(anchor);
    anchor->op->infer(g, anchor); /* its parameters follow the new C and beta */
  }
  Fusion *f = cn_alloc(sizeof *f);
  f->bias = f->residual = f->window_in = -1;
  f->covers = cn_alloc_array(2, sizeof *f->covers);
  f->covers[f->n_covers++] = anchor;
  f->covers[f->n_covers++] = bn;
  anchor->fusion = f;
}

void fold_bn(Graph *g) {
  Readers readers = graph_readers(g);
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || n->backward || (n->op->kind != OP_CONV && n->op->kind != OP_GEMM))
      continue;
    Node *reader = sole_reader(&readers, n->out[0]);
    if (reader && reader->op->kind == OP_BATCH_NORMALIZATION)
      fold_into(g, n, reader);
  }
}
