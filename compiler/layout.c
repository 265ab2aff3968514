/* The layout pass. On a SIMD target, activations between template kernels are channel-blocked (LAYOUT_NCHWC,
 * block = floats per vector): a kernel then loads the channels of one pixel as one vector. The ops decide: each
 * op that has a template kernel says, through its OpDesc.simd hook, whether the kernel can run a given node and
 * which layouts it reads and writes (e.g. Conv: blocked in and out, or plain NCHW in for a 3-channel stem).
 * Everything else reads row-major tensors, as its portable emit hook expects.
 *
 * Walking the nodes in order, a value gets the layout its producer writes, and where a consumer reads it in the
 * other layout, a Reorder node (ops/reorder.c) goes right before the consumer; one reorder per value and layout
 * serves every consumer. Graph inputs arrive and graph outputs leave row-major, so reorders sit at the graph's
 * edges and before ops without a blocked kernel, and nowhere else. */
#include "cnnc.h"

#include <string.h>

char *layout_name(const Value *v) {
  if (v->layout != LAYOUT_NCHWC)
    return cn_strdup("");
  static const char *const spatial[] = {"", "W", "HW", "DHW"};
  int axes = v->rank - 2;
  return cn_format("NC%s%dc", axes >= 0 && axes <= 3 ? spatial[axes] : "...", v->block);
}

static Value *new_value_like(Graph *g, const Value *v, const char *name) {
  Value *r = graph_add_value(g, name);
  r->dtype = v->dtype;
  r->rank = v->rank;
  memcpy(r->dims, v->dims, sizeof r->dims);
  r->has_shape = true;
  return r;
}

/* A Reorder node writing `to` (laid out already) from `from`. */
static Node *add_reorder(Graph *g, Value *from, Value *to) {
  Node *n = graph_add_node(g, cn_format("reorder %s", from->name), "Reorder", 1, 1);
  n->op = op_get(OP_REORDER);
  n->in[0] = from;
  n->out[0] = to;
  to->producer = n;
  const Value *blocked = to->layout == LAYOUT_NCHWC ? to : from;
  n->kernel = cn_format("reorder %s %s", to == blocked ? "to" : "from", layout_name(blocked));
  return n;
}

Value *layout_reorder(Graph *g, Value *v, Layout to, int block) {
  Value *r = new_value_like(g, v, cn_format("%s@%s", v->name, to == LAYOUT_NCHWC ? "blocked" : "plain"));
  r->layout = to;
  r->block = to == LAYOUT_NCHWC ? block : 0;
  add_reorder(g, v, r);
  return r;
}

/* Per value id: the value with the same contents in the other layout, once a reorder made it. */
typedef struct Copies {
  Value **other;
  int n_values; /* the values before the pass, the only ones nodes read so far */
} Copies;

static Value *in_layout(Graph *g, Copies *c, Value *v, Layout want, int block, Node ***order, int *n_order) {
  if (v->layout == want)
    return v;
  CN_ASSERT(v->id < c->n_values);
  if (!c->other[v->id]) {
    Value *r = layout_reorder(g, v, want, block);
    (*order)[(*n_order)++] = r->producer;
    c->other[v->id] = r;
  }
  return c->other[v->id];
}

static bool is_graph_output(const Value *v) { return v->flags & VAL_GRAPH_OUTPUT; }

void layout_assign(Graph *g, Target t) {
  int block = target_vector_floats(t);
  if (block == 1)
    return;
  int n_nodes = g->n_nodes;
  /* at most one reorder per value: room for all of them */
  Node **order = cn_alloc_array((size_t)n_nodes + (size_t)g->n_values + 1, sizeof *order);
  int n_order = 0;
  Copies copies = {cn_alloc_array((size_t)g->n_values + 1, sizeof(Value *)), g->n_values};
  for (int i = 0; i < n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) {
      order[n_order++] = n;
      continue;
    }
    Layout *in = cn_alloc_array((size_t)n->n_in + 1, sizeof *in);
    Layout *out = cn_alloc_array((size_t)n->n_out + 1, sizeof *out);
    for (int k = 0; k < n->n_in; k++)
      in[k] = n->in[k] ? n->in[k]->layout : LAYOUT_ROW_MAJOR;
    bool simd = n->op->simd && n->op->simd(g, n, t, in, out);
    if (simd)
      CN_ASSERT(n->kernel);
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k])
        n->in[k] = in_layout(g, &copies, n->in[k], simd ? in[k] : LAYOUT_ROW_MAJOR, block, &order, &n_order);
    order[n_order++] = n;
    for (int k = 0; k < n->n_out; k++) {
      Value *v = n->out[k];
      if (!v || !simd || out[k] != LAYOUT_NCHWC)
        continue;
      if (!is_graph_output(v)) {
        v->layout = LAYOUT_NCHWC;
        v->block = block;
        continue;
      }
      /* the kernel writes a blocked copy; a reorder fills the caller's buffer from it */
      Value *blocked = new_value_like(g, v, cn_format("%s@blocked", v->name));
      blocked->layout = LAYOUT_NCHWC;
      blocked->block = block;
      blocked->producer = n;
      n->out[k] = blocked;
      order[n_order++] = add_reorder(g, blocked, v);
      copies.other[v->id] = blocked;
    }
  }
  CN_ASSERT(n_order == g->n_nodes);
  graph_set_order(g, order);
  graph_verify(g);
}
