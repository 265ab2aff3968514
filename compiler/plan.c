/* Memory planning: every intermediate tensor gets an offset in one static arena. A tensor lives from the
 * node that writes it to the last node that reads it; offsets are reused first-fit once a tensor dies. */
#include "cnnc.h"

#include <stdlib.h>

#define ARENA_ALIGN 64

/* Whether the value needs arena space (the caller's buffers hold inputs and outputs; constants are in the
 * weights; training's parameters, running statistics and parameter gradients outlive a run in storage of their
 * own). */
static bool in_arena(const Value *v) {
  return v->producer && !v->producer->dead && !v->data &&
         !(v->flags & (VAL_GRAPH_OUTPUT | VAL_PARAM | VAL_STATE | VAL_GRAD));
}

typedef struct Block {
  int64_t offset, size;
  int last_use;
} Block;

static int64_t align_up(int64_t x) { return (x + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

Plan plan_memory(Graph *g) {
  int *last_use = cn_alloc_array((size_t)g->n_values, sizeof *last_use);
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k])
        last_use[n->out[k]->id] = i;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k])
        last_use[n->in[k]->id] = i;
  }
  /* live blocks, kept sorted by offset */
  Block *live = cn_alloc_array((size_t)g->n_values + 1, sizeof *live);
  int n_live = 0;
  int64_t arena = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    /* outputs are placed before this node's inputs are released, so a kernel never reads what it writes */
    for (int k = 0; k < n->n_out; k++) {
      Value *v = n->out[k];
      if (!v || !in_arena(v))
        continue;
      int64_t size = align_up(value_bytes(v));
      int64_t at = 0;
      int pos = 0;
      while (pos < n_live && live[pos].offset < at + size) {
        if (live[pos].offset + live[pos].size > at)
          at = live[pos].offset + live[pos].size;
        pos++;
      }
      for (int m = n_live; m > pos; m--)
        live[m] = live[m - 1];
      live[pos] = (Block){at, size, last_use[v->id]};
      n_live++;
      v->offset = at;
      if (at + size > arena)
        arena = at + size;
    }
    int kept = 0;
    for (int m = 0; m < n_live; m++)
      if (live[m].last_use > i)
        live[kept++] = live[m];
    n_live = kept;
  }
  return (Plan){.arena_bytes = arena};
}
