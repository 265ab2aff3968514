/* Views: values stored inside another value's bytes instead of being copied (Value.alias_of, alias_bytes).
 *
 *   Reshape, Flatten, Squeeze, Unsqueeze, Identity and inference Dropout move nothing: their output becomes a view
 *   of their input, at offset 0, and the node goes dead. When the output is a graph output, the caller's buffer
 *   must receive the bytes, so instead the input becomes a view of the output (its producer then writes straight
 *   into that buffer), provided nothing else reads the input.
 *
 *   Concat: an input that only the Concat reads, and that a node computes at run time, becomes a view of its
 *   slice of the output, so its producer writes there directly. The slice must be contiguous (every axis before
 *   the concat axis has size 1: N = 1, or the concat axis is 0); for a value in LAYOUT_NCHWC the axis must be
 *   the channel axis and the slice must start at a multiple of the block, so that it starts a block. The Concat
 *   copies the other inputs, and goes dead when it has none left.
 *
 * What never becomes a view, so the generated code never writes where it must not: constants (their bytes are
 * in the read-only weights), graph inputs (the caller's buffers are read-only), training parameters and state.
 * A Reshape of a graph input becomes a view of it, which only readers see; a Reshape from a graph input or a
 * constant to a graph output stays a copy, as does a view whose layouts differ. */
#include "cnnc.h"

#include <string.h>

Value *view_root(const Value *v, int64_t *offset) {
  int64_t at = 0;
  while (v->alias_of) {
    at += v->alias_bytes;
    v = v->alias_of;
  }
  if (offset)
    *offset = at;
  return (Value *)v;
}

/* Whether generated code writes v at run time into storage of its own: a live node computes it, or it is a
 * Concat output whose inputs all write their slices in place. */
static bool computed(const Value *v, const bool *in_place_concat) {
  if (v->data || (v->flags & (VAL_GRAPH_INPUT | VAL_PARAM | VAL_STATE)) || !v->producer)
    return false;
  return !v->producer->dead || in_place_concat[v->id];
}

static void make_view(Value *v, Value *of, int64_t bytes) {
  CN_ASSERT(!v->alias_of && v->dtype == of->dtype);
  v->alias_of = of;
  v->alias_bytes = bytes;
}

static bool row_major(const Value *v) { return v->layout == LAYOUT_ROW_MAJOR; }

/* Reshape and the other ops that keep the bytes as they are. */
static bool moves_nothing(const Node *n) {
  switch (n->op->kind) {
  case OP_RESHAPE:
  case OP_FLATTEN:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE: return row_major(n->in[0]) && row_major(n->out[0]);
  case OP_IDENTITY: return n->in[0]->layout == n->out[0]->layout && n->in[0]->block == n->out[0]->block;
  case OP_DROPOUT:
    /* the mask output, all true, would still have to be written */
    if (n->n_out > 1 && n->out[1] && (n->out[1]->n_uses > 0 || (n->out[1]->flags & VAL_GRAPH_OUTPUT)))
      return false;
    return n->in[0]->layout == n->out[0]->layout && n->in[0]->block == n->out[0]->block;
  default: return false;
  }
}

static void view_of_input(const Readers *readers, Node *n, const bool *in_place_concat) {
  Value *x = n->in[0], *y = n->out[0];
  bool x_stored = x->alias_of || (x->flags & VAL_GRAPH_INPUT) || computed(x, in_place_concat);
  if (!(y->flags & VAL_GRAPH_OUTPUT) && x_stored) {
    make_view(y, x, 0);
    n->dead = true;
  } else if ((y->flags & VAL_GRAPH_OUTPUT) && !x->alias_of && !(x->flags & VAL_GRAPH_OUTPUT) &&
             computed(x, in_place_concat) && sole_reader(readers, x) == n) {
    make_view(x, y, 0);
    n->dead = true;
  }
}

/* Concat inputs written in place; returns whether the Concat has nothing left to copy. */
static bool concat_in_place(const Readers *readers, Node *n, const bool *in_place_concat) {
  Value *out = n->out[0];
  int64_t axis = normalize_axis(n, attr_int(n, "axis", 1), out->rank), outer = 1, inner = 1;
  for (int k = 0; k < out->rank; k++) {
    if (k < axis)
      outer *= out->dims[k];
    if (k > axis)
      inner *= out->dims[k];
  }
  if (outer != 1 || value_bytes(out) == 0)
    return false;
  if (out->layout == LAYOUT_NCHWC && axis != 1)
    return false;
  bool all = true;
  int64_t at = 0; /* where input i's slice starts along the axis */
  for (int i = 0; i < n->n_in; i++) {
    Value *x = n->in[i];
    int64_t start = at;
    at += x->dims[axis];
    bool legal = computed(x, in_place_concat) && !x->alias_of && !(x->flags & VAL_GRAPH_OUTPUT) &&
                 sole_reader(readers, x) == n && x->layout == out->layout && x->block == out->block &&
                 (out->layout != LAYOUT_NCHWC || start % out->block == 0);
    if (legal)
      make_view(x, out, start * inner * (int64_t)dtype_size(out->dtype));
    all = all && legal;
  }
  return all;
}

void views(Graph *g) {
  graph_count_uses(g);
  Readers readers = graph_readers(g);
  bool *in_place_concat = cn_alloc_array((size_t)g->n_values, sizeof *in_place_concat);
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    if (moves_nothing(n))
      view_of_input(&readers, n, in_place_concat);
    else if (n->op->kind == OP_CONCAT && concat_in_place(&readers, n, in_place_concat)) {
      n->dead = true;
      in_place_concat[n->out[0]->id] = true;
    }
  }
}
