/* --emit=dsl: a graph (as pipeline_load leaves it: shapes known, constants folded) printed as a .cnn file that
 * dsl.c reads back into the same computation.
 *
 * One statement per node, in the graph's order. A layer that reads the previous statement's output says
 * nothing about its input; any other tensor it reads gets a name. Weights are not copied: the file starts
 * with `weights "MODEL.onnx"` and each layer names its tensors in that file (weight=, bias=, ...), so the
 * round trip ONNX -> DSL -> ONNX keeps every weight bit for bit. A weight the graph computes (a folded
 * Identity, say) is named by the file's initializer of the same contents. Small constants that ONNX passes
 * as inputs (Clip's bounds, Reshape's shape, Dropout's ratio) are written as numbers, each printed with the
 * fewest digits that read back to the same float. */
#include "cnnc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Printer {
  const Graph *g;
  const DslWriteOptions *o;
  const char **names;    /* by value id: a run-time tensor's name in the file, NULL if it needs none */
  const Value **weights; /* the model file's initializers, for naming weights the graph computed */
  int n_weights;
} Printer;

static bool is_word(const char *s) {
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
    return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
      return false;
  return strcmp(s, "true") != 0 && strcmp(s, "false") != 0; /* bias=false would read as a switch */
}

/* A name as the DSL writes it: a word, else a string. */
static char *name_text(const Node *n, const char *name) {
  if (is_word(name))
    return cn_strdup(name);
  char *out = cn_alloc(2 * strlen(name) + 3), *p = out;
  *p++ = '"';
  for (const char *s = name; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 && c != '\t' && c != '\n')
      cn_error_node(n, "the name '%s' has a control character, which a .cnn file cannot hold",
                    cn_escape_c_string(name, 100));
    if (c == '"' || c == '\\' || c == '\n' || c == '\t')
      *p++ = '\\';
    *p++ = c == '\n' ? 'n' : c == '\t' ? 't' : (char)c;
  }
  *p++ = '"';
  return out;
}

/* The fewest digits that read back (through strtod, as the DSL reads numbers) to the same value. */
static char *number_text(double x, DType t) {
  for (int digits = 1; digits <= 17; digits++) {
    char *s = cn_format("%.*g", digits, x);
    double back = strtod(s, NULL);
    if (t == DT_FLOAT ? (float)back == (float)x : back == x)
      return s;
  }
  return cn_format("%.17g", x);
}

static char *ints_text(int count, const int64_t *v) {
  bool same = true;
  for (int i = 1; i < count; i++)
    same &= v[i] == v[0];
  if (same && count > 0)
    return cn_format("%lld", (long long)v[0]);
  char *s = cn_strdup("[");
  for (int i = 0; i < count; i++)
    s = cn_format("%s%s%lld", s, i ? ", " : "", (long long)v[i]);
  return cn_format("%s]", s);
}

static bool bound_input(const Printer *p, const char *name) {
  for (int k = 0; p->o->load && k < p->o->load->n_binds; k++)
    if (strcmp(p->o->load->binds[k].name, name) == 0)
      return true;
  return false;
}

static bool same_contents(const Value *a, const Value *b) {
  if (a->dtype != b->dtype || a->rank != b->rank)
    return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i])
      return false;
  return memcmp(a->data, b->data, (size_t)value_bytes(a)) == 0;
}

/* The model file's tensor for a node's constant input `i` (a weight): its own name if it is one of the
 * file's initializers, the initializer a folded Identity copied, else one with the same contents. */
static char *weight_ref(const Printer *p, const Node *n, int i, const char *what) {
  const Value *v = n->in[i];
  if (!v->data)
    cn_error_node(n, "input %d (%s) is computed at run time; the DSL reads a layer's %s from the weights file", i,
                  what, what);
  if ((v->flags & VAL_INITIALIZER) && !bound_input(p, v->name))
    return name_text(n, v->name);
  for (int k = 0; k < p->g->n_nodes; k++) { /* a folded Identity (PyTorch's export shares equal biases so) */
    const Node *m = p->g->nodes[k];
    if (m->dead && m->op->kind == OP_IDENTITY && m->out[0] == v && (m->in[0]->flags & VAL_INITIALIZER) &&
        !bound_input(p, m->in[0]->name))
      return name_text(n, m->in[0]->name);
  }
  for (int k = 0; k < p->n_weights; k++)
    if (same_contents(p->weights[k], v))
      return name_text(n, p->weights[k]->name);
  cn_error_node(n, "input %d (%s) is a constant the graph computes, and the model file has no tensor of the same "
                "contents for the DSL to name", i, what);
}

static const Value *const_in(const Node *n, int i, const char *what) {
  const Value *v = node_in(n, i);
  if (v && !v->data)
    cn_error_node(n, "input %d (%s) is computed at run time; the DSL writes it as a number", i, what);
  return v;
}

static void need_float(const Node *n, const char *word) {
  if (!dtype_is_float(n->in[0]->dtype))
    cn_error_node(n, "the DSL's %s works on float and double tensors, and the input is %s", word,
                  dtype_name(n->in[0]->dtype));
}

/* Whether a layer reads one tensor (in[0]; its other inputs are constants) rather than several. */
static bool reads_one(const Node *n) {
  return !(n->op->kind == OP_ADD || n->op->kind == OP_MUL || n->op->kind == OP_CONCAT);
}

static char *pads_text(const Node *n, int rank) {
  const char *auto_pad = attr_string(n, "auto_pad", "NOTSET");
  if (strcmp(auto_pad, "SAME_UPPER") == 0)
    return " pad=same";
  if (strcmp(auto_pad, "SAME_LOWER") == 0)
    return " pad=same_lower";
  int64_t *pads;
  int count = attr_ints(n, "pads", &pads);
  if (strcmp(auto_pad, "VALID") == 0 || count < 0)
    return "";
  bool zero = true, symmetric = true;
  for (int i = 0; i < rank; i++) {
    zero &= pads[i] == 0 && pads[rank + i] == 0;
    symmetric &= pads[i] == pads[rank + i];
  }
  if (zero)
    return "";
  return cn_format(" pad=%s", ints_text(symmetric ? rank : 2 * rank, pads));
}

/* " key=v" when an int-list attribute (one value per spatial axis) differs from `dflt` on any axis. */
static char *axis_text(const Node *n, const char *attr, const char *key, int rank, const int64_t *dflt) {
  int64_t *v;
  int count = attr_ints(n, attr, &v);
  if (count < 0)
    return "";
  for (int i = 0; i < rank; i++)
    if (v[i] != dflt[i])
      return cn_format(" %s=%s", key, ints_text(rank, v));
  return "";
}

static const int64_t ones[CN_MAX_RANK] = {1, 1, 1, 1, 1, 1, 1, 1};

static char *conv_text(const Printer *p, const Node *n) {
  need_float(n, "conv");
  const Value *w = n->in[1];
  if (!w->data)
    weight_ref(p, n, 1, "weights");
  int rank = w->rank - 2;
  char *s = cn_format("conv %lld kernel=%s", (long long)w->dims[0], ints_text(rank, w->dims + 2));
  s = cn_format("%s%s%s%s", s, axis_text(n, "strides", "stride", rank, ones), pads_text(n, rank),
                axis_text(n, "dilations", "dilation", rank, ones));
  int64_t group = attr_int(n, "group", 1);
  if (group != 1)
    s = cn_format("%s groups=%lld", s, (long long)group);
  s = cn_format("%s weight=%s", s, weight_ref(p, n, 1, "weights"));
  return node_in(n, 2) ? cn_format("%s bias=%s", s, weight_ref(p, n, 2, "bias")) : cn_format("%s bias=false", s);
}

static char *pool_text(const Node *n, const char *word) {
  need_float(n, word);
  if (n->n_out > 1 && n->out[1] && n->out[1]->n_uses > 0)
    cn_error_node(n, "its Indices output is used; the DSL's maxpool has one output");
  int64_t *kernel;
  int rank = n->in[0]->rank - 2;
  if (attr_ints(n, "kernel_shape", &kernel) != rank)
    cn_error_node(n, "kernel_shape needs %d values", rank);
  char *s = cn_format("%s %s", word, ints_text(rank, kernel));
  int64_t *strides;
  int count = attr_ints(n, "strides", &strides);
  s = cn_format("%s%s", s, count < 0 ? axis_text(n, "kernel_shape", "stride", rank, ones)
                                     : axis_text(n, "strides", "stride", rank, kernel));
  s = cn_format("%s%s%s", s, pads_text(n, rank), axis_text(n, "dilations", "dilation", rank, ones));
  if (attr_int(n, "ceil_mode", 0))
    s = cn_format("%s ceil=true", s);
  if (attr_int(n, "count_include_pad", 0))
    s = cn_format("%s count_include_pad=true", s);
  return s;
}

static char *dense_text(const Printer *p, const Node *n) {
  need_float(n, "dense");
  if (attr_int(n, "transA", 0) || !attr_int(n, "transB", 0) || attr_float(n, "alpha", 1) != 1 ||
      attr_float(n, "beta", 1) != 1)
    cn_error_node(n, "the DSL's dense is Gemm with transA=0, transB=1 (weights stored (units, features), as "
                  "PyTorch's Linear), alpha=1 and beta=1");
  const Value *w = n->in[1], *c = node_in(n, 2);
  char *s = cn_format("dense %lld weight=%s", (long long)w->dims[0], weight_ref(p, n, 1, "weights"));
  if (!c)
    return cn_format("%s bias=false", s);
  if (c->rank != 1 || c->dims[0] != w->dims[0])
    cn_error_node(n, "C has shape %s; the DSL's dense has a bias of shape (%lld)", value_shape_string(c),
                  (long long)w->dims[0]);
  return cn_format("%s bias=%s", s, weight_ref(p, n, 2, "bias"));
}

static char *batchnorm_text(const Printer *p, const Node *n) {
  need_float(n, "batchnorm");
  if (attr_int(n, "training_mode", 0) || n->n_out > 1)
    cn_error_node(n, "is in training form; the DSL's batchnorm is the inference form (one output)");
  char *s = cn_strdup("batchnorm");
  float eps = attr_float(n, "epsilon", 1e-5f), momentum = attr_float(n, "momentum", 0.9f);
  if (eps != 1e-5f)
    s = cn_format("%s eps=%s", s, number_text(eps, DT_FLOAT));
  if (momentum != 0.9f)
    s = cn_format("%s momentum=%s", s, number_text(momentum, DT_FLOAT));
  return cn_format("%s weight=%s bias=%s mean=%s var=%s", s, weight_ref(p, n, 1, "scale"), weight_ref(p, n, 2, "bias"),
                   weight_ref(p, n, 3, "mean"), weight_ref(p, n, 4, "variance"));
}

static char *dropout_text(const Printer *p, const Node *n) {
  need_float(n, "dropout");
  if (n->n_out > 1 && n->out[1] && n->out[1]->n_uses > 0)
    cn_error_node(n, "its mask output is used; the DSL's dropout has one output");
  double rate = 0.5;
  if (p->g->opset < 12) {
    rate = attr_float(n, "ratio", 0.5f);
  } else if (const_in(n, 1, "ratio")) {
    rate = value_get_double(n->in[1], 0);
  }
  return rate == 0.5 ? cn_strdup("dropout") : cn_format("dropout %s", number_text(rate, n->in[0]->dtype));
}

static char *reshape_text(const Printer *p, const Node *n) {
  int count;
  int64_t *shape;
  if (p->g->opset < 5)
    count = attr_ints(n, "shape", &shape);
  else
    shape = node_const_ints(n, 1, "shape", &count);
  for (int i = 0; i < count; i++)
    if (shape[i] == 0 && attr_int(n, "allowzero", 0))
      cn_error_node(n, "allowzero=1 with a 0 in the shape; the DSL's reshape reads 0 as \"copy the input's\"");
  char *s = cn_strdup("reshape [");
  for (int i = 0; i < count; i++)
    s = cn_format("%s%s%lld", s, i ? ", " : "", (long long)shape[i]);
  return cn_format("%s]", s);
}

static char *softmax_text(const Printer *p, const Node *n, const char *word) {
  int rank = n->in[0]->rank;
  bool per_axis = p->g->opset >= 13;
  int64_t axis = normalize_axis(n, attr_int(n, "axis", per_axis ? -1 : 1), rank);
  if (!per_axis && axis != rank - 1)
    cn_error_node(n, "before opset 13 Softmax normalizes the axes from %lld on together; the DSL's %s normalizes one",
                  (long long)axis, word);
  return axis == 1 ? cn_strdup(word) : cn_format("%s axis=%lld", word, (long long)axis);
}

static char *clip_text(const Printer *p, const Node *n) {
  need_float(n, "clip");
  DType t = n->in[0]->dtype;
  bool has_min, has_max;
  double min = 0, max = 0;
  if (p->g->opset < 11) {
    has_min = node_attr(n, "min") != NULL;
    has_max = node_attr(n, "max") != NULL;
    min = attr_float(n, "min", 0);
    max = attr_float(n, "max", 0);
  } else {
    const Value *lo = const_in(n, 1, "min"), *hi = const_in(n, 2, "max");
    has_min = lo != NULL;
    has_max = hi != NULL;
    min = lo ? value_get_double(lo, 0) : 0;
    max = hi ? value_get_double(hi, 0) : 0;
  }
  if (has_min && has_max && min == 0 && max == 6)
    return cn_strdup("relu6");
  char *s = cn_strdup("clip");
  if (has_min)
    s = cn_format("%s min=%s", s, number_text(min, t));
  if (has_max)
    s = cn_format("%s max=%s", s, number_text(max, t));
  return s;
}

static char *prelu_text(const Printer *p, const Node *n) {
  need_float(n, "prelu");
  const Value *x = n->in[0], *slope = n->in[1];
  bool per_channel = x->rank >= 2 && slope->rank == x->rank - 1 && slope->dims[0] == x->dims[1];
  for (int i = 1; per_channel && i < slope->rank; i++)
    per_channel = slope->dims[i] == 1;
  if (!per_channel)
    cn_error_node(n, "the slope has shape %s; the DSL's prelu has one slope per channel, shaped (C, 1, ...)",
                  value_shape_string(slope));
  return cn_format("prelu slope=%s", weight_ref(p, n, 1, "slope"));
}

static char *alpha_text(const Node *n, const char *word, float dflt) {
  float alpha = attr_float(n, "alpha", dflt);
  return alpha == dflt ? cn_strdup(word) : cn_format("%s %s", word, number_text(alpha, DT_FLOAT));
}

/* The layer a node is, with its values and settings (not its name or inputs). */
static char *layer_text(const Printer *p, const Node *n) {
  switch (n->op->kind) {
  case OP_CONV: return conv_text(p, n);
  case OP_MAX_POOL: return pool_text(n, "maxpool");
  case OP_AVERAGE_POOL: return pool_text(n, "avgpool");
  case OP_GLOBAL_AVERAGE_POOL: return cn_strdup("global_avgpool");
  case OP_GLOBAL_MAX_POOL: return cn_strdup("global_maxpool");
  case OP_GEMM: return dense_text(p, n);
  case OP_BATCH_NORMALIZATION: return batchnorm_text(p, n);
  case OP_DROPOUT: return dropout_text(p, n);
  case OP_FLATTEN: {
    int64_t axis = attr_int(n, "axis", 1);
    return axis == 1 ? cn_strdup("flatten") : cn_format("flatten %lld", (long long)axis);
  }
  case OP_RESHAPE: return reshape_text(p, n);
  case OP_ADD: return cn_strdup("add");
  case OP_MUL: return cn_strdup("mul");
  case OP_CONCAT: {
    int64_t axis = attr_int(n, "axis", 1);
    return axis == 1 ? cn_strdup("concat") : cn_format("concat axis=%lld", (long long)axis);
  }
  case OP_SOFTMAX: return softmax_text(p, n, "softmax");
  case OP_LOG_SOFTMAX: return softmax_text(p, n, "log_softmax");
  case OP_RELU: return cn_strdup("relu");
  case OP_LEAKY_RELU: return alpha_text(n, "leaky_relu", 0.01f);
  case OP_ELU: return alpha_text(n, "elu", 1.0f);
  case OP_SIGMOID: return cn_strdup("sigmoid");
  case OP_HARD_SIGMOID: {
    float alpha = attr_float(n, "alpha", 0.2f), beta = attr_float(n, "beta", 0.5f);
    char *s = cn_strdup("hardsigmoid");
    if (alpha != 0.2f)
      s = cn_format("%s alpha=%s", s, number_text(alpha, DT_FLOAT));
    return beta != 0.5f ? cn_format("%s beta=%s", s, number_text(beta, DT_FLOAT)) : s;
  }
  case OP_TANH: return cn_strdup("tanh");
  case OP_CLIP: return clip_text(p, n);
  case OP_HARD_SWISH: return cn_strdup("hardswish");
  case OP_SOFTPLUS: return cn_strdup("softplus");
  case OP_PRELU: return prelu_text(p, n);
  case OP_IDENTITY: return cn_strdup("identity");
  default: cn_error_node(n, "the DSL has no layer for %s (see docs/dsl.md for the layers it has)", n->op->name);
  }
}

static char *first_word(const char *text) { return cn_strndup(text, strcspn(text, " ")); }

/* The tensors a layer reads at run time: in[0] for a one-input layer, every input for add, mul and concat. */
static int runtime_inputs(const Node *n) { return reads_one(n) ? 1 : n->n_in; }

static bool implicit_input(const Node *n, int k, const Value *prev) { return reads_one(n) && k == 0 && n->in[0] == prev; }

/* Gives every run-time tensor that a statement reads other than as its implicit input a name: its own for
 * graph inputs and outputs and when it is a word already, else its producer's word and a number (conv_3). */
static void name_tensors(Printer *p, const Node **nodes, int n_nodes, char **texts) {
  const Graph *g = p->g;
  p->names = cn_alloc_array((size_t)g->n_values + 1, sizeof(char *));
  for (int i = 0; i < g->n_inputs; i++)
    p->names[g->inputs[i]->id] = g->inputs[i]->name;
  for (int i = 0; i < g->n_outputs; i++)
    if (g->outputs[i]->producer)
      p->names[g->outputs[i]->id] = g->outputs[i]->name;
  bool *needs = cn_alloc_array((size_t)g->n_values + 1, sizeof(bool));
  const Value *prev = g->n_inputs ? g->inputs[g->n_inputs - 1] : NULL;
  for (int j = 0; j < n_nodes; j++) {
    const Node *n = nodes[j];
    for (int k = 0; k < runtime_inputs(n); k++) {
      const Value *v = n->in[k];
      if (!v || !(v->producer || (v->flags & VAL_GRAPH_INPUT)))
        cn_error_node(n, "input %d is a constant; the DSL's %s reads tensors computed at run time", k,
                      first_word(texts[j]));
      if (!implicit_input(n, k, prev))
        needs[v->id] = true;
    }
    prev = n->out[0];
  }
  /* Generated names avoid every name the graph has, which the file may also write. */
  const char **taken = cn_alloc_array(2 * (size_t)g->n_values + 1, sizeof(char *));
  int n_taken = 0;
  for (int i = 0; i < g->n_values; i++)
    taken[n_taken++] = g->values[i]->name;
  const char **words = cn_alloc_array((size_t)n_nodes + 1, sizeof(char *));
  int *counts = cn_alloc_array((size_t)n_nodes + 1, sizeof(int)), n_words = 0;
  for (int j = 0; j < n_nodes; j++) {
    const Value *v = nodes[j]->out[0];
    if (!needs[v->id] || p->names[v->id])
      continue;
    if (is_word(v->name)) {
      p->names[v->id] = v->name;
      continue;
    }
    const char *word = first_word(texts[j]);
    int w = 0;
    while (w < n_words && strcmp(words[w], word) != 0)
      w++;
    if (w == n_words)
      words[n_words++] = word;
    for (;;) {
      char *name = cn_format("%s_%d", word, ++counts[w]);
      bool free = true;
      for (int i = 0; i < n_taken && free; i++)
        free = strcmp(taken[i], name) != 0;
      if (free) {
        p->names[v->id] = taken[n_taken++] = name;
        break;
      }
    }
  }
}

/* Prints into `out`, which the caller discards if a later node cannot be expressed. */
static void print(const Graph *g, const DslWriteOptions *o, FILE *out) {
  Printer p = {.g = g, .o = o};
  const Node **nodes = cn_alloc_array((size_t)g->n_nodes + 1, sizeof(Node *));
  int n_nodes = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i]->dead)
      nodes[n_nodes++] = g->nodes[i];
  p.weights = cn_alloc_array((size_t)g->n_values + 1, sizeof(Value *));
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    if ((v->flags & VAL_INITIALIZER) && v->data && !bound_input(&p, v->name))
      p.weights[p.n_weights++] = v;
  }
  char **texts = cn_alloc_array((size_t)n_nodes + 1, sizeof(char *));
  for (int j = 0; j < n_nodes; j++) {
    const Node *n = nodes[j];
    if (n->n_out > 1)
      for (int k = 1; k < n->n_out; k++)
        if (n->out[k] && n->out[k]->n_uses > 0 && n->op->kind != OP_MAX_POOL && n->op->kind != OP_DROPOUT)
          cn_error_node(n, "output %d is used; DSL layers have one output", k);
    texts[j] = layer_text(&p, n);
  }
  name_tensors(&p, nodes, n_nodes, texts);
  for (int i = 0; i < g->n_outputs; i++)
    if (!g->outputs[i]->producer)
      cn_error("graph output '%s' is a constant; outputs of a .cnn file are computed by layers",
               cn_escape_c_string(g->outputs[i]->name, 100));

  fprintf(out, "# %s, printed by cnnc %s --emit=dsl", cn_escape_comment(o->source, 200), CN_VERSION);
  if (g->producer && g->producer[0] && strcmp(g->producer, " ") != 0)
    fprintf(out, " (the model comes from %s)", cn_escape_comment(g->producer, 100));
  fprintf(out, ".\n# The layers read their weights from the model file by name.\n\n");
  fprintf(out, "weights %s\n\n", name_text(NULL, o->weights_path));
  for (int i = 0; i < g->n_inputs; i++) {
    const Value *v = g->inputs[i];
    fprintf(out, "input %s: %s[", name_text(NULL, v->name), dtype_name(v->dtype));
    for (int k = 0; k < v->rank; k++)
      fprintf(out, "%s%lld", k ? ", " : "", (long long)v->dims[k]);
    fprintf(out, "]\n");
  }
  fprintf(out, "\n");
  const Value *prev = g->n_inputs ? g->inputs[g->n_inputs - 1] : NULL;
  for (int j = 0; j < n_nodes; j++) {
    const Node *n = nodes[j];
    const char *name = p.names[n->out[0]->id];
    if (name)
      fprintf(out, "%s = ", name_text(n, name));
    char *word = first_word(texts[j]), *rest = texts[j] + strlen(word);
    fprintf(out, "%s", word);
    if (!implicit_input(n, 0, prev)) {
      for (int k = 0; k < runtime_inputs(n); k++)
        fprintf(out, "%s%s", k ? ", " : "(", name_text(n, p.names[n->in[k]->id]));
      fprintf(out, ")");
    }
    fprintf(out, "%s\n", rest);
    prev = n->out[0];
  }
  fprintf(out, "\noutput ");
  for (int i = 0; i < g->n_outputs; i++)
    fprintf(out, "%s%s", i ? ", " : "", name_text(NULL, g->outputs[i]->name));
  fprintf(out, "\n");
}

void dsl_write(const Graph *g, const DslWriteOptions *o, FILE *out) {
  char *text = NULL;
  size_t size = 0;
  FILE *buffer = open_memstream(&text, &size);
  if (!buffer)
    cn_error("out of memory");
  print(g, o, buffer); /* an error exits before anything reaches `out` */
  if (fclose(buffer) != 0 || fwrite(text, 1, size, out) != size)
    cn_error("cannot write the DSL file");
  free(text);
}
