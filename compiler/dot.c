/* --emit=dot: the graph as the emitter sees it after the passes, for Graphviz. Each generated layer is a box,
 * or for a fused group a cluster holding the ONNX nodes it covers (the tensors between them are never stored:
 * dashed edges without a shape). Edges carry the shape of the tensor they stand for. Constants (weights,
 * folded shape computations) are left out; ops that became views of their input (Reshape, Flatten, a Concat
 * written in place) are dashed ellipses, since they cost nothing at run time. Layers are numbered as in
 * `cnnc report` and P_profile.
 *
 * --emit=svg pipes the same text through Graphviz's `dot`. */
#include "cnnc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Text from the model inside an HTML-like label: the markup characters escaped, control characters dropped. */
static char *html(const char *s) {
  char *out = cn_strdup("");
  for (const char *p = cn_escape_comment(s, 120); *p; p++) {
    switch (*p) {
    case '&': out = cn_format("%s&amp;", out); break;
    case '<': out = cn_format("%s&lt;", out); break;
    case '>': out = cn_format("%s&gt;", out); break;
    case '"': out = cn_format("%s&quot;", out); break;
    default: out = cn_format("%s%c", out, *p);
    }
  }
  return out;
}

static char *shape_label(const Value *v) {
  char *s = cn_strdup(v->rank ? "" : "scalar");
  for (int i = 0; i < v->rank; i++)
    s = cn_format("%s%s%lld", s, i ? "x" : "", (long long)v->dims[i]);
  if (v->layout != LAYOUT_ROW_MAJOR)
    s = cn_format("%s %s", s, layout_name(v));
  return v->dtype == DT_FLOAT ? s : cn_format("%s %s", dtype_name(v->dtype), s);
}

/* " 0..6" for a Clip with constant bounds (ReLU6), so it reads as the activation it is. */
static char *clip_label(const Node *n) {
  const Value *lo = node_in(n, 1), *hi = node_in(n, 2);
  if (n->op->kind != OP_CLIP || !lo || !hi || !lo->data || !hi->data || value_count(lo) != 1 || value_count(hi) != 1)
    return "";
  return cn_format(" %g..%g", value_get_double(lo, 0), value_get_double(hi, 0));
}

/* "3x3 /2" for a windowed op: its kernel and, when not 1, its stride; "dw" for a depthwise Conv. */
static char *window_label(const Node *n) {
  int64_t *kernel = NULL, *strides = NULL;
  int rank = attr_ints(n, "kernel_shape", &kernel);
  const Value *w = n->op->kind == OP_CONV || n->op->kind == OP_CONV_TRANSPOSE ? n->in[1] : NULL;
  if (rank < 0 && w) {
    kernel = (int64_t *)w->dims + 2;
    rank = w->rank - 2;
  }
  if (rank <= 0)
    return cn_strdup("");
  char *s = cn_strdup(" ");
  for (int i = 0; i < rank; i++)
    s = cn_format("%s%s%lld", s, i ? "x" : "", (long long)kernel[i]);
  int n_strides = attr_ints(n, "strides", &strides);
  if (n_strides > 0 && strides[0] != 1)
    s = cn_format("%s /%lld", s, (long long)strides[0]);
  if (w && n->op->kind == OP_CONV && attr_int(n, "group", 1) > 1 && attr_int(n, "group", 1) == n->in[0]->dims[1])
    s = cn_format("%s dw", s);
  return s;
}

static const char *fill_color(const Node *n) {
  switch (n->op->kind) {
  case OP_CONV:
  case OP_CONV_TRANSPOSE:
  case OP_GEMM:
  case OP_MATMUL: return "#cfe2f3";
  case OP_MAX_POOL:
  case OP_AVERAGE_POOL:
  case OP_GLOBAL_AVERAGE_POOL:
  case OP_GLOBAL_MAX_POOL: return "#d9ead3";
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_SUM: return "#e6d7f0";
  case OP_CONCAT:
  case OP_SPLIT:
  case OP_SLICE:
  case OP_TRANSPOSE: return "#fff2cc";
  case OP_RELU:
  case OP_LEAKY_RELU:
  case OP_PRELU:
  case OP_CLIP:
  case OP_SIGMOID:
  case OP_HARD_SIGMOID:
  case OP_HARD_SWISH:
  case OP_TANH:
  case OP_ELU:
  case OP_SELU:
  case OP_SOFTMAX:
  case OP_LOG_SOFTMAX: return "#fce5cd";
  case OP_BATCH_NORMALIZATION: return "#d0e0e3";
  default: return "#eeeeee";
  }
}

typedef struct DotGraph {
  const Graph *g;
  const Node **anchor_of; /* per node id: the live anchor of the fused group the node is in, or NULL */
  const Node **source;    /* per value id: the drawn node that writes it, or NULL */
  bool *drawn, *view;     /* per node id */
  int *layer;             /* per node id: the layer number of a drawn live node, or -1 */
} DotGraph;

/* Each line of a label is one run of one font: Graphviz places every run as an SVG <text> of its own at the width
 * its font metrics give, and a viewer with other fonts would run a bold "Conv" into a plain " 3x3". */
static void node_statement(FILE *out, const DotGraph *d, const Node *n, const char *indent) {
  const char *name = n->name && n->name[0] ? html(n->name) : "";
  char *number = d->layer[n->id] >= 0 && !d->anchor_of[n->id] ? cn_format("#%d  ", d->layer[n->id]) : "";
  if (d->view[n->id]) {
    fprintf(out, "%sn%d [shape=ellipse, style=dashed, label=<%s (%s)>];\n", indent, n->id, n->op->name,
            n->op->kind == OP_CONCAT ? "written in place" : "view");
    return;
  }
  /* a layer of its own names its kernel; a fused group's is on the cluster */
  char *kernel = n->kernel && !d->anchor_of[n->id]
                     ? cn_format("<br/><font point-size=\"8\" color=\"#1f4e79\">%s</font>", html(n->kernel))
                     : "";
  fprintf(out, "%sn%d [fillcolor=\"%s\", label=<<b>%s%s%s</b><br/><font point-size=\"8\" color=\"gray30\">%s%s</font>%s>];\n",
          indent, n->id, fill_color(n), n->op->name, window_label(n), clip_label(n), number, name, kernel);
}

static char *input_node(const DotGraph *d, const Value *v) {
  for (int j = 0; j < d->g->n_inputs; j++)
    if (d->g->inputs[j] == v)
      return cn_format("in%d", j);
  return NULL;
}

/* The drawn node that writes v: the one recorded, or else its producer (an anchor's own result, which its
 * covered nodes read), or NULL for a graph input. */
static const Node *writer(const DotGraph *d, const Value *v) {
  if (d->source[v->id])
    return d->source[v->id];
  return v->producer && d->drawn[v->producer->id] ? v->producer : NULL;
}

/* An edge into node r for its input k, from whatever writes that tensor; constants have none. */
static void input_edge(FILE *out, const DotGraph *d, const Node *r, int k) {
  const Value *v = r->in[k];
  if (!v || v->data)
    return;
  for (int j = 0; j < k; j++)
    if (r->in[j] == v)
      return; /* one edge per tensor */
  const Node *anchor = d->anchor_of[r->id];
  if (anchor == r) /* a fused anchor's in[] also holds what its covered nodes read; they draw those edges */
    for (int c = 1; c < anchor->fusion->n_covers; c++)
      for (int j = 0; j < anchor->fusion->covers[c]->n_in; j++)
        if (anchor->fusion->covers[c]->in[j] == v)
          return;
  const Node *s = writer(d, v);
  char *from = s ? cn_format("n%d", s->id) : input_node(d, v);
  if (!from)
    return;
  if (s && anchor && d->anchor_of[s->id] == anchor)
    fprintf(out, "  %s -> n%d [style=dashed];\n", from, r->id);
  else
    fprintf(out, "  %s -> n%d [label=\" %s\"];\n", from, r->id, shape_label(v));
}

void dot_write(const Graph *g, FILE *out) {
  DotGraph d = {g, cn_alloc_array((size_t)g->n_nodes + 1, sizeof(Node *)),
                cn_alloc_array((size_t)g->n_values + 1, sizeof(Node *)),
                cn_alloc_array((size_t)g->n_nodes + 1, sizeof(bool)), cn_alloc_array((size_t)g->n_nodes + 1, sizeof(bool)),
                cn_alloc_array((size_t)g->n_nodes + 1, sizeof(int))};
  /* node ids index these arrays: nodes cnnc adds get ids after the model's, all below n_nodes */
  int layer = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    CN_ASSERT(n->id >= 0 && n->id < g->n_nodes);
    d.layer[n->id] = -1;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    bool has_code = false;
    for (int k = 0; k < n->n_out; k++)
      has_code |= !n->dead && n->out[k] && value_count(n->out[k]) > 0;
    if (!has_code)
      continue;
    d.drawn[n->id] = true;
    d.layer[n->id] = layer++;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k])
        d.source[n->out[k]->id] = n;
  }
  /* covered nodes second, so a fused group's result comes from its last node, not the anchor */
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (!d.drawn[n->id] || !n->fusion || n->fusion->n_covers < 2)
      continue;
    for (int c = 0; c < n->fusion->n_covers; c++) {
      const Node *m = n->fusion->covers[c];
      d.anchor_of[m->id] = n;
      d.drawn[m->id] = true;
      for (int k = 0; c > 0 && k < m->n_out; k++)
        if (m->out[k])
          d.source[m->out[k]->id] = m;
    }
  }
  /* views: dead nodes outside any group whose run-time outputs a drawn node or the caller reads */
  bool *needed = cn_alloc_array((size_t)g->n_values + 1, sizeof(bool));
  for (int j = 0; j < g->n_outputs; j++)
    needed[g->outputs[j]->id] = true;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; d.drawn[g->nodes[i]->id] && k < g->nodes[i]->n_in; k++)
      if (g->nodes[i]->in[k])
        needed[g->nodes[i]->in[k]->id] = true;
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    const Node *n = g->nodes[i];
    if (d.drawn[n->id] || !n->dead)
      continue;
    bool is_view = false;
    for (int k = 0; k < n->n_out; k++)
      is_view |= n->out[k] && !n->out[k]->data && needed[n->out[k]->id] && !d.source[n->out[k]->id];
    if (!is_view)
      continue;
    d.drawn[n->id] = d.view[n->id] = true;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k] && !d.source[n->out[k]->id])
        d.source[n->out[k]->id] = n;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k])
        needed[n->in[k]->id] = true;
  }

  fprintf(out, "digraph \"%s\" {\n", cn_escape_c_string(g->path, 200));
  fprintf(out, "  graph [rankdir=TB, nodesep=0.3, ranksep=0.35, fontname=\"Helvetica\", fontsize=10];\n");
  fprintf(out, "  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\", "
               "fontsize=11, margin=\"0.12,0.04\"];\n");
  fprintf(out, "  edge [fontname=\"Helvetica\", fontsize=9, color=\"gray35\", fontcolor=\"gray20\", arrowsize=0.6];\n");
  for (int j = 0; j < g->n_inputs; j++)
    fprintf(out, "  in%d [shape=box, style=\"filled\", fillcolor=\"#b6d7a8\", label=<<b>input</b><br/>%s<br/>%s>];\n", j,
            html(g->inputs[j]->name), shape_label(g->inputs[j]));
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (!d.drawn[n->id] || (d.anchor_of[n->id] && d.anchor_of[n->id] != n))
      continue;
    if (d.anchor_of[n->id] == n) {
      char *kernel = n->kernel ? cn_format(" · %s", html(n->kernel)) : "";
      fprintf(out, "  subgraph cluster_%d {\n    style=\"rounded,filled\"; color=\"gray60\"; fillcolor=\"#f7f7f7\";\n"
                   "    label=<<font point-size=\"9\" color=\"gray30\">#%d%s</font>>; labeljust=l;\n",
              n->id, d.layer[n->id], kernel);
      for (int c = 0; c < n->fusion->n_covers; c++)
        node_statement(out, &d, n->fusion->covers[c], "    ");
      fprintf(out, "  }\n");
    } else {
      node_statement(out, &d, n, "  ");
    }
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (d.drawn[n->id])
      for (int k = 0; k < n->n_in; k++)
        input_edge(out, &d, n, k);
  }
  for (int j = 0; j < g->n_outputs; j++) {
    const Value *v = g->outputs[j];
    fprintf(out, "  out%d [shape=box, style=\"filled\", fillcolor=\"#b6d7a8\", label=<<b>output</b><br/>%s<br/>%s>];\n", j,
            html(v->name), shape_label(v));
    const Node *s = writer(&d, v);
    char *from = s ? cn_format("n%d", s->id) : input_node(&d, v);
    if (from)
      fprintf(out, "  %s -> out%d;\n", from, j);
  }
  fprintf(out, "}\n");
}

/* Whether a program is on $PATH, so a missing Graphviz is reported as such. */
static bool on_path(const char *program) {
  const char *path = getenv("PATH");
  if (!path)
    return false;
  for (const char *p = path;; p = strchr(p, ':') + 1) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char *candidate = cn_format("%.*s/%s", (int)len, len ? p : ".", program);
    if (access(candidate, X_OK) == 0)
      return true;
    if (!end)
      return false;
  }
}

void dot_render_svg(const char *dot_path, const char *svg_path) {
  if (!on_path("dot"))
    cn_error("--emit=svg runs Graphviz's 'dot', which is not on $PATH (Debian: apt-get install graphviz); "
             "--emit=dot writes the graph for it");
  const char *argv[] = {"dot", "-Tsvg", "-o", svg_path, dot_path, NULL};
  if (cn_spawn(argv) != 0)
    cn_error("Graphviz's dot failed on '%s'", dot_path);
}
