/* Shape inference: one walk in topological order. Shapes can depend on constant inputs (Reshape's shape,
 * Slice's starts), so a node whose inputs are all constant is folded right after its shapes are known. */
#include "cnnc.h"

#include <string.h>

static void check_node_arity(const Node *n) {
  const OpDesc *op = n->op;
  if (n->n_in < op->min_in || n->n_in > op->max_in)
    cn_error_node(n, "has %d inputs; %s takes %d to %d", n->n_in, op->name, op->min_in, op->max_in);
  if (n->n_out < op->min_out || n->n_out > op->max_out)
    cn_error_node(n, "has %d outputs; %s gives %d to %d", n->n_out, op->name, op->min_out, op->max_out);
  for (int i = 0; i < op->min_in; i++)
    if (!n->in[i])
      cn_error_node(n, "input %d is required", i);
  for (int i = 0; i < n->n_in; i++)
    if (n->in[i] && !n->in[i]->has_shape)
      cn_error_node(n, "input %d '%s' has no known shape", i, cn_escape_c_string(n->in[i]->name, 100));
}

void shape_infer(Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    check_node_arity(n);
    n->op->infer(g, n);
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k] && !n->out[k]->has_shape)
        cn_internal(__FILE__, __LINE__, cn_format("%s left output %d without a shape", n->op->name, k));
    n->macs = cost_count_macs(n);
    n->param_count = cost_count_params(n);
    fold_node(g, n);
  }
  for (int i = 0; i < g->n_outputs; i++)
    if (!g->outputs[i]->has_shape)
      cn_error("graph output '%s' is never computed", cn_escape_c_string(g->outputs[i]->name, 100));
}

void infer_same_as_input(Node *n, int input) {
  Value *x = n->in[input];
  value_set_shape(n->out[0], n, x->dtype, x->rank, x->dims);
}

/* Numpy-style broadcasting: align at the right; each pair of dims must match or one must be 1. */
bool broadcast_shapes(int ra, const int64_t *a, int rb, const int64_t *b, int *rank, int64_t *dims) {
  int r = ra > rb ? ra : rb;
  for (int i = 0; i < r; i++) {
    int64_t da = i < r - ra ? 1 : a[i - (r - ra)];
    int64_t db = i < r - rb ? 1 : b[i - (r - rb)];
    if (da != db && da != 1 && db != 1)
      return false;
    dims[i] = da == 1 ? db : da;
  }
  *rank = r;
  return true;
}

void infer_broadcast(Node *n, DType out_type) {
  int rank = 0;
  int64_t dims[CN_MAX_RANK] = {0};
  for (int i = 0; i < n->n_in; i++) {
    Value *x = n->in[i];
    if (!x)
      continue;
    Value so_far = {.rank = rank};
    memcpy(so_far.dims, dims, sizeof dims);
    if (!broadcast_shapes(so_far.rank, so_far.dims, x->rank, x->dims, &rank, dims))
      cn_error_node(n, "input %d has shape %s, which does not broadcast with %s", i, value_shape_string(x),
                    value_shape_string(&so_far));
  }
  value_set_shape(n->out[0], n, out_type, rank, dims);
}

void check_input_type(const Node *n, int i, bool (*ok)(DType), const char *expected) {
  Value *x = n->in[i];
  if (x && !ok(x->dtype))
    cn_error_node(n, "input %d '%s' has element type %s; expected %s", i, cn_escape_c_string(x->name, 100),
                  dtype_name(x->dtype), expected);
}

bool dtype_any_numeric(DType t) { return dtype_supported(t) && t != DT_BOOL; }
bool dtype_float_only(DType t) { return dtype_is_float(t); }
