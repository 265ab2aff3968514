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

/* Removes nodes whose outputs nobody reads, walking backwards so whole unused chains go. A value counts as read
 * when any value sharing its storage is (views.c): a Concat input written in place is read through the Concat's
 * output, and a Reshape's input through its view. */
void fold_dead_code(Graph *g) {
  graph_count_uses(g);
  int *storage_uses = cn_alloc_array((size_t)g->n_values, sizeof *storage_uses);
  for (int v = 0; v < g->n_values; v++)
    storage_uses[view_root(g->values[v], NULL)->id] += g->values[v]->n_uses;
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    bool used = false;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k] && storage_uses[view_root(n->out[k], NULL)->id] > 0)
        used = true;
    if (used)
      continue;
    n->dead = true;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k]) {
        n->in[k]->n_uses--;
        storage_uses[view_root(n->in[k], NULL)->id]--;
      }
  }
}
