/* The graph IR: constructors, topological order, and typed access to values and attributes. */
#include "cnnc.h"

#include <math.h>
#include <string.h>

static const struct {
  const char *name, *ctype;
  size_t size;
} dtypes[] = {
    [DT_FLOAT] = {"float", "float", 4},       [DT_UINT8] = {"uint8", "uint8_t", 1},
    [DT_INT8] = {"int8", "int8_t", 1},        [DT_UINT16] = {"uint16", "uint16_t", 2},
    [DT_INT16] = {"int16", "int16_t", 2},     [DT_INT32] = {"int32", "int32_t", 4},
    [DT_INT64] = {"int64", "int64_t", 8},     [DT_STRING] = {"string", NULL, 0},
    [DT_BOOL] = {"bool", "bool", 1},          [DT_FLOAT16] = {"float16", NULL, 2},
    [DT_DOUBLE] = {"double", "double", 8},    [DT_UINT32] = {"uint32", "uint32_t", 4},
    [DT_UINT64] = {"uint64", "uint64_t", 8},  [DT_BFLOAT16] = {"bfloat16", NULL, 2},
};

static bool dtype_known(DType t) { return t > 0 && (size_t)t < sizeof dtypes / sizeof dtypes[0] && dtypes[t].name; }
bool dtype_supported(DType t) { return dtype_known(t) && dtypes[t].ctype; }
size_t dtype_size(DType t) { return dtype_known(t) ? dtypes[t].size : 0; }
const char *dtype_name(DType t) { return dtype_known(t) ? dtypes[t].name : "unknown"; }
const char *dtype_ctype(DType t) {
  CN_ASSERT(dtype_supported(t));
  return dtypes[t].ctype;
}
bool dtype_is_float(DType t) { return t == DT_FLOAT || t == DT_DOUBLE; }
bool dtype_is_signed(DType t) {
  return t == DT_INT8 || t == DT_INT16 || t == DT_INT32 || t == DT_INT64 || dtype_is_float(t);
}

Graph *graph_new(const char *path) {
  Graph *g = cn_alloc(sizeof *g);
  g->path = path;
  return g;
}

/* Pointer arrays grow 256 slots at a time; the old block is not freed (nothing in the compiler is). */
static void *grow_when_full(void *array, int count) {
  if (count % 256 != 0)
    return array;
  void **grown = cn_alloc_array((size_t)count + 256, sizeof(void *));
  if (count)
    memcpy(grown, array, (size_t)count * sizeof(void *));
  return grown;
}

Value *graph_add_value(Graph *g, const char *name) {
  g->values = grow_when_full(g->values, g->n_values);
  Value *v = cn_alloc(sizeof *v);
  v->id = g->n_values;
  v->name = name;
  v->offset = -1;
  g->values[g->n_values++] = v;
  return v;
}

Node *graph_add_node(Graph *g, const char *name, const char *op_type, int n_in, int n_out) {
  if (g->n_nodes >= CN_MAX_NODES)
    cn_error("the model has more than %d nodes", CN_MAX_NODES);
  g->nodes = grow_when_full(g->nodes, g->n_nodes);
  Node *n = cn_alloc(sizeof *n);
  n->id = g->n_nodes;
  n->name = name;
  n->op_type = op_type;
  n->n_in = n_in;
  n->n_out = n_out;
  n->in = cn_alloc_array((size_t)n_in, sizeof *n->in);
  n->out = cn_alloc_array((size_t)n_out, sizeof *n->out);
  g->nodes[g->n_nodes++] = n;
  return n;
}

/* Kahn's algorithm, keeping the model's order among ready nodes so the output follows the source. */
void graph_sort(Graph *g) {
  int n = g->n_nodes;
  int *pending = cn_alloc_array((size_t)n, sizeof *pending);
  int *order = cn_alloc_array((size_t)n, sizeof *order);
  /* consumers[k]: the nodes reading an output of node k, as a linked list through next */
  int *first = cn_alloc_array((size_t)n, sizeof *first);
  int total_edges = 0;
  for (int i = 0; i < n; i++)
    total_edges += g->nodes[i]->n_in;
  int *edge_to = cn_alloc_array((size_t)total_edges + 1, sizeof *edge_to);
  int *edge_next = cn_alloc_array((size_t)total_edges + 1, sizeof *edge_next);
  int n_edges = 0;
  for (int i = 0; i < n; i++)
    first[i] = -1;
  for (int i = 0; i < n; i++) {
    g->nodes[i]->id = i;
  }
  for (int i = 0; i < n; i++) {
    Node *node = g->nodes[i];
    for (int k = 0; k < node->n_in; k++) {
      Value *v = node->in[k];
      if (!v || !v->producer)
        continue;
      int p = v->producer->id;
      edge_to[n_edges] = i;
      edge_next[n_edges] = first[p];
      first[p] = n_edges++;
      pending[i]++;
    }
  }
  /* a min-heap would keep source order exactly; a FIFO over source order is close and simpler */
  int head = 0, tail = 0;
  for (int i = 0; i < n; i++)
    if (pending[i] == 0)
      order[tail++] = i;
  while (head < tail) {
    int i = order[head++];
    for (int e = first[i]; e >= 0; e = edge_next[e])
      if (--pending[edge_to[e]] == 0)
        order[tail++] = edge_to[e];
  }
  if (tail < n) {
    for (int i = 0; i < n; i++)
      if (pending[i] > 0)
        cn_error_node(g->nodes[i], "the graph has a cycle through this node");
  }
  /* room as grow_when_full expects it, so passes can add nodes after sorting */
  Node **sorted = cn_alloc_array(((size_t)n + 255) / 256 * 256, sizeof *sorted);
  for (int i = 0; i < n; i++)
    sorted[i] = g->nodes[order[i]];
  graph_set_order(g, sorted);
}

void graph_set_order(Graph *g, Node *const *order) {
  /* whole blocks of 256 slots, as graph_add_node expects when it appends */
  Node **nodes = cn_alloc_array(((size_t)g->n_nodes + 255) / 256 * 256 + 256, sizeof *nodes);
  memcpy(nodes, order, (size_t)g->n_nodes * sizeof *nodes);
  g->nodes = nodes;
  for (int i = 0; i < g->n_nodes; i++)
    nodes[i]->id = i;
}

void graph_count_uses(Graph *g) {
  for (int i = 0; i < g->n_values; i++)
    g->values[i]->n_uses = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k])
        n->in[k]->n_uses++;
  }
  for (int i = 0; i < g->n_outputs; i++)
    g->outputs[i]->n_uses++;
  /* a parameter's gradient is read after the nodes (the optimizer update, P_get_grad) */
  for (int i = 0; i < g->n_values; i++)
    if (g->values[i]->flags & VAL_GRAD)
      g->values[i]->n_uses++;
}

Readers graph_readers(const Graph *g) {
  Readers r = {cn_alloc_array((size_t)g->n_values + 1, sizeof(int)),
               cn_alloc_array((size_t)g->n_values + 1, sizeof(Node **))};
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i]->n_in && !g->nodes[i]->dead; k++)
      if (g->nodes[i]->in[k])
        r.count[g->nodes[i]->in[k]->id]++;
  for (int v = 0; v < g->n_values; v++) {
    r.nodes[v] = cn_alloc_array((size_t)r.count[v] + 1, sizeof(Node *));
    r.count[v] = 0;
  }
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i]->n_in && !g->nodes[i]->dead; k++)
      if (g->nodes[i]->in[k]) {
        int v = g->nodes[i]->in[k]->id;
        r.nodes[v][r.count[v]++] = g->nodes[i];
      }
  return r;
}

Node *sole_reader(const Readers *r, const Value *v) {
  if ((v->flags & VAL_GRAPH_OUTPUT) || r->count[v->id] != 1 || r->nodes[v->id][0]->dead)
    return NULL;
  return r->nodes[v->id][0];
}

/* Checks the invariants every pass relies on; a failure is a compiler bug. */
void graph_verify(const Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    CN_ASSERT(n->id == i);
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_in; k++) {
      const Value *v = n->in[k];
      CN_ASSERT(!v || !v->producer || v->producer->id < i);
    }
    for (int k = 0; k < n->n_out; k++)
      CN_ASSERT(!n->out[k] || n->out[k]->producer == n);
  }
  /* views: a chain ends, at a root of the same type large enough, that the generated code may write */
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    if (!v->alias_of)
      continue;
    CN_ASSERT(!(v->flags & (VAL_GRAPH_INPUT | VAL_GRAPH_OUTPUT)) && !v->data);
    int64_t at = 0;
    const Value *root = v;
    for (int steps = 0; root->alias_of; steps++) {
      CN_ASSERT(steps < g->n_values);
      at += root->alias_bytes;
      root = root->alias_of;
    }
    CN_ASSERT(root->dtype == v->dtype && at >= 0 && at + value_bytes(v) <= value_bytes(root));
    CN_ASSERT(!root->data && !(root->flags & (VAL_PARAM | VAL_STATE)));
  }
}

char *value_shape_string(const Value *v) {
  char buf[CN_MAX_RANK * 24 + 8];
  int len = sprintf(buf, "[");
  for (int i = 0; i < v->rank; i++)
    len += sprintf(buf + len, i ? ", %lld" : "%lld", (long long)v->dims[i]);
  sprintf(buf + len, "]");
  return cn_strdup(buf);
}

static const char *const act_names[] = {
    [ACT_NONE] = "none",         [ACT_RELU] = "Relu",        [ACT_LEAKY_RELU] = "LeakyRelu",
    [ACT_CLIP] = "Clip",         [ACT_SIGMOID] = "Sigmoid",  [ACT_HARD_SIGMOID] = "HardSigmoid",
    [ACT_HARD_SWISH] = "HardSwish", [ACT_TANH] = "Tanh",     [ACT_SILU] = "SiLU",
};

/* A node views.c made dead: its outputs are views of its input, or its inputs views of its output. */
static bool is_view_node(const Node *n) {
  if (!n->op || !n->n_out || !n->out[0] || !n->n_in)
    return false;
  if (n->in[0] && n->out[0]->alias_of == n->in[0])
    return true;
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] && n->in[k]->alias_of == n->out[0])
      return true;
  return false;
}

/* A fused anchor's second line: what it computes after its op, and the nodes it stands for. */
static void dump_fusion(const Node *n, FILE *out) {
  const Fusion *f = n->fusion;
  if (!f)
    return;
  fprintf(out, "     %-20s", "fused");
  if (f->bias >= 0)
    fprintf(out, " bias=in%d", f->bias);
  if (f->act.kind)
    fprintf(out, " act=%s", act_names[f->act.kind]);
  if (f->residual >= 0)
    fprintf(out, " residual=in%d", f->residual);
  if (f->post_act.kind)
    fprintf(out, " post_act=%s", act_names[f->post_act.kind]);
  if (f->window)
    fprintf(out, " window=%s", f->window->op->name);
  if (f->window_in >= 0)
    fprintf(out, "(weights in%d)", f->window_in);
  if (f->window_act.kind)
    fprintf(out, " window_act=%s", act_names[f->window_act.kind]);
  fprintf(out, " | covers");
  for (int k = 0; k < f->n_covers; k++)
    fprintf(out, "%s %s %s", k ? "," : "", f->covers[k]->op->name, cn_escape_comment(f->covers[k]->name, 40));
  fprintf(out, "\n");
}

void graph_dump(const Graph *g, FILE *out) {
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead && !is_view_node(n))
      continue;
    fprintf(out, "%4d %-20s %s(", i, n->dead ? cn_format("(view) %s", n->op->name) : n->op ? n->op->name : n->op_type,
            cn_escape_comment(n->name, 60));
    for (int k = 0; k < n->n_in; k++)
      fprintf(out, "%s%s", k ? ", " : "", n->in[k] ? cn_escape_comment(n->in[k]->name, 40) : "-");
    fprintf(out, ") ->");
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k]) {
        fprintf(out, " %s:%s%s%s%s", cn_escape_comment(n->out[k]->name, 40), dtype_name(n->out[k]->dtype),
                value_shape_string(n->out[k]), n->out[k]->layout ? " " : "", layout_name(n->out[k]));
        if (n->out[k]->alias_of)
          fprintf(out, " = view of %s at +%lld bytes", cn_escape_comment(n->out[k]->alias_of->name, 40),
                  (long long)n->out[k]->alias_bytes);
      }
    for (int k = 0; k < n->n_in && n->dead; k++)
      if (n->in[k] && n->in[k]->alias_of && n->in[k]->alias_of == n->out[0])
        fprintf(out, "; %s = view of it at +%lld bytes", cn_escape_comment(n->in[k]->name, 40),
                (long long)n->in[k]->alias_bytes);
    if (n->kernel)
      fprintf(out, "  [%s]", n->kernel);
    fprintf(out, "\n");
    dump_fusion(n, out);
  }
}

int64_t value_count(const Value *v) {
  int64_t count = 1;
  for (int i = 0; i < v->rank; i++)
    count *= v->dims[i];
  return count;
}

int64_t value_padded_channels(const Value *v) {
  CN_ASSERT(v->layout == LAYOUT_NCHWC && v->rank >= 2 && v->block > 0);
  return (v->dims[1] + v->block - 1) / v->block * v->block;
}

int64_t value_bytes(const Value *v) {
  int64_t count = value_count(v);
  if (v->layout == LAYOUT_NCHWC && v->dims[1] > 0)
    count = count / v->dims[1] * value_padded_channels(v);
  return count * (int64_t)dtype_size(v->dtype);
}

void value_set_shape(Value *v, const Node *n, DType t, int rank, const int64_t *dims) {
  if (!dtype_supported(t)) {
    if (n)
      cn_error_node(n, "tensor '%s' has element type %s, which cnnc does not support",
                    cn_escape_c_string(v->name, 100), dtype_name(t));
    cn_error("tensor '%s' has element type %s, which cnnc does not support", cn_escape_c_string(v->name, 100),
             dtype_name(t));
  }
  if (rank < 0 || rank > CN_MAX_RANK) {
    if (n)
      cn_error_node(n, "tensor '%s' has rank %d; cnnc supports rank 0 to %d", cn_escape_c_string(v->name, 100), rank,
                    CN_MAX_RANK);
    cn_error("tensor '%s' has rank %d; cnnc supports rank 0 to %d", cn_escape_c_string(v->name, 100), rank,
             CN_MAX_RANK);
  }
  int64_t bytes = (int64_t)dtype_size(t);
  for (int i = 0; i < rank; i++) {
    bytes = cn_mul_size(bytes, dims[i]);
    if (bytes < 0 || bytes > CN_MAX_TENSOR_BYTES) {
      if (n)
        cn_error_node(n, "tensor '%s' has dimension %d = %lld: sizes must be non-negative and the tensor at most %lld bytes",
                      cn_escape_c_string(v->name, 100), i, (long long)dims[i], (long long)CN_MAX_TENSOR_BYTES);
      cn_error("tensor '%s' has dimension %d = %lld: sizes must be non-negative and the tensor at most %lld bytes",
               cn_escape_c_string(v->name, 100), i, (long long)dims[i], (long long)CN_MAX_TENSOR_BYTES);
    }
  }
  v->dtype = t;
  v->rank = rank;
  for (int i = 0; i < rank; i++)
    v->dims[i] = dims[i];
  v->has_shape = true;
}

int64_t value_get_int(const Value *v, int64_t i) {
  CN_ASSERT(v->data && i >= 0 && i < value_count(v));
  switch (v->dtype) {
  case DT_FLOAT: return (int64_t)((const float *)v->data)[i];
  case DT_DOUBLE: return (int64_t)((const double *)v->data)[i];
  case DT_UINT8: return ((const uint8_t *)v->data)[i];
  case DT_INT8: return ((const int8_t *)v->data)[i];
  case DT_UINT16: return ((const uint16_t *)v->data)[i];
  case DT_INT16: return ((const int16_t *)v->data)[i];
  case DT_INT32: return ((const int32_t *)v->data)[i];
  case DT_INT64: return ((const int64_t *)v->data)[i];
  case DT_BOOL: return ((const bool *)v->data)[i];
  case DT_UINT32: return ((const uint32_t *)v->data)[i];
  case DT_UINT64: return (int64_t)((const uint64_t *)v->data)[i];
  default: cn_unreachable();
  }
}

double value_get_double(const Value *v, int64_t i) {
  CN_ASSERT(v->data && i >= 0 && i < value_count(v));
  switch (v->dtype) {
  case DT_FLOAT: return ((const float *)v->data)[i];
  case DT_DOUBLE: return ((const double *)v->data)[i];
  case DT_UINT64: return (double)((const uint64_t *)v->data)[i];
  default: return (double)value_get_int(v, i);
  }
}

void value_set_double(Value *v, int64_t i, double x) {
  CN_ASSERT(v->data && i >= 0 && i < value_count(v));
  switch (v->dtype) {
  case DT_FLOAT: ((float *)v->data)[i] = (float)x; break;
  case DT_DOUBLE: ((double *)v->data)[i] = x; break;
  case DT_UINT8: ((uint8_t *)v->data)[i] = (uint8_t)x; break;
  case DT_INT8: ((int8_t *)v->data)[i] = (int8_t)x; break;
  case DT_UINT16: ((uint16_t *)v->data)[i] = (uint16_t)x; break;
  case DT_INT16: ((int16_t *)v->data)[i] = (int16_t)x; break;
  case DT_INT32: ((int32_t *)v->data)[i] = (int32_t)x; break;
  case DT_INT64: ((int64_t *)v->data)[i] = (int64_t)x; break;
  case DT_BOOL: ((bool *)v->data)[i] = x != 0; break;
  case DT_UINT32: ((uint32_t *)v->data)[i] = (uint32_t)x; break;
  case DT_UINT64: ((uint64_t *)v->data)[i] = (uint64_t)x; break;
  default: cn_unreachable();
  }
}

const Attr *node_attr(const Node *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0)
      return &n->attrs[i];
  return NULL;
}

static const Attr *attr_of_type(const Node *n, const char *name, AttrType type, const char *expected) {
  const Attr *a = node_attr(n, name);
  if (a && a->type != type)
    cn_error_node(n, "attribute '%s' must be %s", name, expected);
  return a;
}

int64_t attr_int(const Node *n, const char *name, int64_t dflt) {
  const Attr *a = attr_of_type(n, name, ATTR_INT, "an int");
  return a ? a->i : dflt;
}

bool attr_flag(const Node *n, const char *name, bool dflt) {
  int64_t v = attr_int(n, name, dflt);
  if (v != 0 && v != 1)
    cn_error_node(n, "%s = %lld; expected 0 or 1", name, (long long)v);
  return v == 1;
}

float attr_float(const Node *n, const char *name, float dflt) {
  const Attr *a = attr_of_type(n, name, ATTR_FLOAT, "a float");
  return a ? a->f : dflt;
}

const char *attr_string(const Node *n, const char *name, const char *dflt) {
  const Attr *a = attr_of_type(n, name, ATTR_STRING, "a string");
  return a ? a->s : dflt;
}

int attr_ints(const Node *n, const char *name, int64_t **out) {
  const Attr *a = attr_of_type(n, name, ATTR_INTS, "a list of ints");
  if (!a)
    return -1;
  *out = a->ints;
  return a->n;
}

int attr_floats(const Node *n, const char *name, float **out) {
  const Attr *a = attr_of_type(n, name, ATTR_FLOATS, "a list of floats");
  if (!a)
    return -1;
  *out = a->floats;
  return a->n;
}

Value *attr_tensor(const Node *n, const char *name) {
  const Attr *a = attr_of_type(n, name, ATTR_TENSOR, "a tensor");
  return a ? a->t : NULL;
}

Value *node_in(const Node *n, int i) { return i < n->n_in ? n->in[i] : NULL; }

Value *node_const_in(const Node *n, int i, const char *what) {
  Value *v = node_in(n, i);
  if (!v)
    cn_error_node(n, "input %d (%s) is required", i, what);
  if (!v->data)
    cn_error_node(n, "input %d (%s) '%s' must be known at compile time: make it an initializer or pass --bind %s=FILE.pb",
                  i, what, cn_escape_c_string(v->name, 100), cn_escape_c_string(v->name, 100));
  return v;
}

int64_t normalize_axis(const Node *n, int64_t axis, int rank) {
  if (axis < -rank || axis >= (rank ? rank : 1))
    cn_error_node(n, "axis %lld is out of range for rank %d", (long long)axis, rank);
  return axis < 0 ? axis + rank : axis;
}
