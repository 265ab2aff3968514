/* Epilogue fusion: an anchor (Conv, Gemm or MatMul) takes over the element-wise and windowed nodes after it, so
 * the tensors between them are never stored. From each anchor, in graph order, the pass follows the value it
 * produces through these stages, each optional, in this order (Fusion in cnnc.h says what the anchor then
 * computes):
 *
 *   bias      MatMul only: an Add of a constant with one value per column
 *   act       Relu, LeakyRelu, Clip with constant bounds, Sigmoid, HardSigmoid, HardSwish, Tanh, or SiLU:
 *             Mul(x, Sigmoid(x))
 *   residual  an Add of any tensor of the same shape that exists before the anchor runs
 *   post_act  an activation after the residual
 *   window    Conv only, two spatial axes: a MaxPool or AveragePool after any Conv, or a depthwise Conv (and its
 *             activation, window_act) after a 1x1 Conv, when one channel's ring of rows stays small
 *
 * A node joins only when the value it reads has no other use: no other node reads it (a training graph's
 * backward nodes included) and it is not a graph output. The joined nodes go dead, the anchor's out[0] becomes
 * the last joined node's output, and Fusion.covers lists them all. */
#include "cnnc.h"

#include <string.h>

/* A window's ring (the rows of one channel it spans) larger than this stays unfused: the driver keeps the
 * rings of a block of channels on the stack. */
#define FUSE_MAX_RING_BYTES (16 << 10)

static bool same_shape(const Value *a, const Value *b) {
  return a->dtype == b->dtype && a->rank == b->rank &&
         memcmp(a->dims, b->dims, (size_t)a->rank * sizeof a->dims[0]) == 0;
}

/* The nodes a stage takes over: one, or Sigmoid and Mul for SiLU. */
typedef struct Match {
  Node *nodes[2];
  int count;
  Value *out; /* the value the stage produces */
} Match;

/* An activation of v: a single node, or SiLU's pair Sigmoid(v), Mul(v, Sigmoid(v)). */
static bool match_activation(const Readers *u, Value *v, Activation *act, Match *m) {
  if (!dtype_is_float(v->dtype) || (v->flags & VAL_GRAPH_OUTPUT))
    return false;
  Node *single = sole_reader(u, v);
  if (single && (unary_activation(single, act) || clip_activation(single, act))) {
    *m = (Match){{single}, 1, single->out[0]};
    return true;
  }
  if (u->count[v->id] != 2)
    return false;
  Node *sigmoid = NULL, *mul = NULL;
  for (int k = 0; k < 2; k++) {
    Node *n = u->nodes[v->id][k];
    if (n->op->kind == OP_SIGMOID)
      sigmoid = n;
    else if (n->op->kind == OP_MUL)
      mul = n;
  }
  if (!sigmoid || !mul || sigmoid->dead || mul->dead || sole_reader(u, sigmoid->out[0]) != mul)
    return false;
  Value *s = sigmoid->out[0];
  if (!((mul->in[0] == v && mul->in[1] == s) || (mul->in[0] == s && mul->in[1] == v)))
    return false;
  *act = (Activation){ACT_SILU, 0, 0};
  *m = (Match){{sigmoid, mul}, 2, mul->out[0]};
  return true;
}

/* Add(v, c) or Add(c, v) with c a constant holding one value per column of the MatMul result v. */
static bool match_bias(const Readers *u, const Node *anchor, Value *v, Value **bias, Match *m) {
  Node *add = sole_reader(u, v);
  if (!add || add->op->kind != OP_ADD || anchor->in[1]->rank < 2 || v->rank < 1)
    return false;
  Value *c = add->in[0] == v ? add->in[1] : add->in[0];
  int64_t columns = v->dims[v->rank - 1];
  if (!c->data || c == v || c->dtype != v->dtype || c->rank < 1 || c->rank > v->rank ||
      c->dims[c->rank - 1] != columns || value_count(c) != columns || !same_shape(add->out[0], v))
    return false;
  *bias = c;
  *m = (Match){{add}, 1, add->out[0]};
  return true;
}

/* Add(v, r) or Add(r, v) with r of v's shape, available before the anchor runs. */
static bool match_residual(const Readers *u, const Node *anchor, Value *v, Value **residual, Match *m) {
  Node *add = sole_reader(u, v);
  if (!add || add->op->kind != OP_ADD)
    return false;
  Value *r = add->in[0] == v ? add->in[1] : add->in[0];
  if (r == v || !same_shape(r, v) || !same_shape(add->out[0], v))
    return false;
  if (r->producer && r->producer->id >= anchor->id)
    return false;
  *residual = r;
  *m = (Match){{add}, 1, add->out[0]};
  return true;
}

static bool pointwise(const Node *conv) {
  const Window *w = conv_window(conv);
  for (int i = 0; i < w->rank; i++)
    if (w->kernel[i] != 1 || w->stride[i] != 1 || w->pad_begin[i] != 0 || w->pad_end[i] != 0)
      return false;
  return conv_group(conv) == 1;
}

/* A MaxPool or AveragePool of v, or a depthwise Conv of v after a 1x1 Conv anchor, with two spatial axes. */
static bool match_window(const Readers *u, const Node *anchor, Value *v, Match *m) {
  Node *n = sole_reader(u, v);
  if (!n || anchor->op->kind != OP_CONV || v->rank != 4 || n->in[0] != v)
    return false;
  switch (n->op->kind) {
  case OP_MAX_POOL:
    if (n->n_out > 1 && n->out[1])
      return false; /* Indices */
    break;
  case OP_AVERAGE_POOL: break;
  case OP_CONV: {
    Value *w = n->in[1], *b = node_in(n, 2);
    int64_t channels = v->dims[1];
    bool depthwise = conv_group(n) == channels && n->out[0]->dims[1] == channels;
    if (!depthwise || !pointwise(anchor) || !w->data || (b && !b->data))
      return false;
    break;
  }
  default: return false;
  }
  if (epilogue_ring_bytes(n) > FUSE_MAX_RING_BYTES)
    return false;
  *m = (Match){{n}, 1, n->out[0]};
  return true;
}

static int add_input(Node *n, Value *v) {
  Value **in = cn_alloc_array((size_t)n->n_in + 1, sizeof *in);
  memcpy(in, n->in, (size_t)n->n_in * sizeof *in);
  in[n->n_in] = v;
  n->in = in;
  return n->n_in++;
}

/* The anchor's fusion, made on first use (fold_bn may have started it). */
static Fusion *fusion_of(Node *anchor) {
  if (!anchor->fusion) {
    Fusion *f = cn_alloc(sizeof *f);
    f->bias = f->residual = f->window_in = -1;
    f->covers = cn_alloc_array(1, sizeof *f->covers);
    f->covers[f->n_covers++] = anchor;
    anchor->fusion = f;
  }
  return anchor->fusion;
}

static void take(Node *anchor, const Match *m, Value **v) {
  Fusion *f = fusion_of(anchor);
  const Node **covers = cn_alloc_array((size_t)f->n_covers + (size_t)m->count, sizeof *covers);
  memcpy(covers, f->covers, (size_t)f->n_covers * sizeof *covers);
  for (int k = 0; k < m->count; k++) {
    covers[f->n_covers++] = m->nodes[k];
    m->nodes[k]->dead = true;
  }
  f->covers = covers;
  *v = m->out;
}

static void fuse_anchor(const Readers *u, Node *anchor) {
  Value *v = anchor->out[0], *extra;
  Activation act;
  Match m;
  if (anchor->op->kind == OP_MATMUL && match_bias(u, anchor, v, &extra, &m)) {
    take(anchor, &m, &v);
    anchor->fusion->bias = add_input(anchor, extra);
  }
  if (match_activation(u, v, &act, &m)) {
    take(anchor, &m, &v);
    anchor->fusion->act = act;
  }
  if (match_residual(u, anchor, v, &extra, &m)) {
    take(anchor, &m, &v);
    anchor->fusion->residual = add_input(anchor, extra);
    if (match_activation(u, v, &act, &m)) {
      take(anchor, &m, &v);
      anchor->fusion->post_act = act;
    }
  }
  if (match_window(u, anchor, v, &m)) {
    Node *window = m.nodes[0];
    take(anchor, &m, &v);
    Fusion *f = anchor->fusion;
    f->window = window;
    if (window->op->kind == OP_CONV) {
      f->window_in = add_input(anchor, window->in[1]);
      if (node_in(window, 2))
        add_input(anchor, window->in[2]);
      if (match_activation(u, v, &act, &m)) {
        take(anchor, &m, &v);
        f->window_act = act;
      }
    }
  }
  anchor->out[0] = v;
  v->producer = anchor;
}

void fuse(Graph *g) {
  Readers u = graph_readers(g);
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    bool anchor = n->op->kind == OP_CONV || n->op->kind == OP_GEMM || n->op->kind == OP_MATMUL;
    if (!n->dead && anchor && !n->backward && dtype_is_float(n->out[0]->dtype))
      fuse_anchor(&u, n);
  }
}
