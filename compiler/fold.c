/* Constant folding and dead-code removal. */
#include "cnnc.h"

/* Folding larger tensors than this would only move weights from the model into the binary twice. */
#define FOLD_MAX_BYTES ((int64_t)64 << 20)

bool fold_node(Graph *g, Node *n) {
  if (!n->op->fold || n->dead)
    return false;
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && !n->in[i]->data)
      return false;
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i] && value_bytes(n->out[i]) > FOLD_MAX_BYTES)
      return false;
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i])
      n->out[i]->data = cn_alloc((size_t)value_bytes(n->out[i]));
  n->op->fold(g, n);
  fold_mark_folded(n);
  return true;
}

void fold_mark_folded(Node *n) {
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i]) {
      CN_ASSERT(n->out[i]->data);
      n->out[i]->producer = NULL;
    }
  n->dead = true;
}

/* Removes nodes whose outputs nobody reads, walking backwards so whole unused chains go. */
void fold_dead_code(Graph *g) {
  graph_count_uses(g);
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    bool used = false;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k] && n->out[k]->n_uses > 0)
        used = true;
    if (used)
      continue;
    n->dead = true;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k])
        n->in[k]->n_uses--;
  }
}
