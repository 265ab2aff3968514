/* Memory planning: every intermediate tensor gets an offset in one static arena. A tensor lives from the
 * node that writes it to the last node that reads it; offsets are reused first-fit once a tensor dies.
 *
 * Views (Value.alias_of) have no storage of their own: the value at the root of a chain of views holds the
 * bytes, and lives from the first node that writes any value of the chain (a Concat's inputs, written in place,
 * come before the Concat) to the last node that reads or writes one. A view's offset is its root's plus its
 * alias_bytes. A root that is a graph input or output lives in the caller's buffers, so its views are not in the
 * arena either. */
#include "cnnc.h"

#include <limits.h>
#include <stdlib.h>

#define ARENA_ALIGN 64

/* Whether a root needs arena space: computed at run time into storage that is neither the caller's (inputs and
 * outputs) nor the weights (constants); training's parameters, running statistics and parameter gradients
 * outlive a run in storage of their own. */
static bool in_arena(const Value *root, int first_write) {
  return first_write != INT_MAX && !root->data &&
         !(root->flags & (VAL_GRAPH_INPUT | VAL_GRAPH_OUTPUT | VAL_PARAM | VAL_STATE | VAL_GRAD));
}

typedef struct Block {
  int64_t offset, size;
  int last_use;
} Block;

static int64_t align_up(int64_t x) { return (x + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

Plan plan_memory(Graph *g) {
  /* per root value id: the first node writing its chain of views and the last node touching it */
  int *first_write = cn_alloc_array((size_t)g->n_values, sizeof *first_write);
  int *last_use = cn_alloc_array((size_t)g->n_values, sizeof *last_use);
  for (int v = 0; v < g->n_values; v++) {
    first_write[v] = INT_MAX;
    last_use[v] = -1;
    g->values[v]->offset = -1;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k]) {
        int r = view_root(n->out[k], NULL)->id;
        if (first_write[r] == INT_MAX)
          first_write[r] = i;
        last_use[r] = i;
      }
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k])
        last_use[view_root(n->in[k], NULL)->id] = i;
  }
  /* live blocks, kept sorted by offset */
  Block *live = cn_alloc_array((size_t)g->n_values + 1, sizeof *live);
  int n_live = 0;
  int64_t arena = 0, peak = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    /* outputs are placed before this node's inputs are released, so a kernel never reads what it writes */
    for (int k = 0; k < n->n_out; k++) {
      Value *root = n->out[k] ? view_root(n->out[k], NULL) : NULL;
      if (!root || first_write[root->id] != i || root->offset >= 0 || !in_arena(root, first_write[root->id]))
        continue;
      int64_t size = align_up(value_bytes(root));
      int64_t at = 0;
      int pos = 0;
      while (pos < n_live && live[pos].offset < at + size) {
        if (live[pos].offset + live[pos].size > at)
          at = live[pos].offset + live[pos].size;
        pos++;
      }
      for (int m = n_live; m > pos; m--)
        live[m] = live[m - 1];
      live[pos] = (Block){at, size, last_use[root->id]};
      n_live++;
      root->offset = at;
      if (at + size > arena)
        arena = at + size;
    }
    /* the lower bound any placement has: the tensors live at once, this node's outputs and inputs included */
    int64_t live_bytes = 0;
    for (int m = 0; m < n_live; m++)
      live_bytes += live[m].size;
    if (live_bytes > peak)
      peak = live_bytes;
    int kept = 0;
    for (int m = 0; m < n_live; m++)
      if (live[m].last_use > i)
        live[kept++] = live[m];
    n_live = kept;
  }
  for (int v = 0; v < g->n_values; v++) {
    int64_t at;
    Value *root = view_root(g->values[v], &at);
    if (root != g->values[v] && root->offset >= 0)
      g->values[v]->offset = root->offset + at;
  }
  return (Plan){.arena_bytes = arena, .live_peak_bytes = peak};
}
