/* `cnnc report`: what the compiled model is made of, one row per generated layer function (a fused group
 * counts once) in the order P_run calls them: the ONNX nodes it covers, its ops, its outputs (shape, layout,
 * where they live), the model's parameters (weights as in the ONNX file, before folding and packing) it reads,
 * its multiply-adds, the kernel the backend chose. The totals give
 * the figures a deployment is sized by: weights, work, and the arena beside its lower bound.
 *
 * Nodes that became views (a Flatten, a Concat whose inputs were written in place) have no function; they get
 * an unnumbered row in the table and an entry in the JSON's "views", so every ONNX node the graph still needs
 * is found somewhere, and the bytes a Concat's inputs share are shown once.
 *
 * Every figure comes from the graph the emitter writes (pipeline_run, then emit_summary), so the report
 * describes the generated code exactly: arena_bytes is the header's P_ARENA_BYTES, weight_bytes the size of
 * its weights, and the layer order that of P_profile under -DCNNC_PROFILE. */
#include "cnnc.h"

#include <string.h>

typedef struct Output {
  const Value *v;
  const char *storage; /* "arena", or "output": the caller's buffer (a graph output, or a view of one) */
  int64_t offset;      /* arena offset, or -1 */
} Output;

typedef struct Layer {
  const Node *node;    /* the anchor */
  const char *function; /* NULL for a view */
  const Node **covers; /* the ONNX nodes, anchor first */
  int n_covers;
  Output *outputs;
  int n_outputs;
  int64_t params, macs;
} Layer;

typedef struct Report {
  Layer *rows; /* the layers and the views, in graph order */
  int n_rows, n_layers;
  int64_t params, weight_bytes, macs, arena_bytes, lower_bound;
} Report;

/* Where a layer's output lives: the planner gave every other computed tensor (and view) an arena offset. */
static Output locate(const Value *v) {
  return v->offset >= 0 ? (Output){v, "arena", v->offset} : (Output){v, "output", -1};
}

/* A node views.c made a view: it went dead, its output is computed at run time, and that output is a view of
 * another value or the value a Concat's inputs were written into. (Folded and unused nodes fail the last test;
 * nodes a fused group covers are left out by the caller.) */
static bool is_view(const Node *n) {
  const Value *v = n->n_out == 1 ? n->out[0] : NULL;
  if (!n->dead || !v || v->data)
    return false;
  if (v->alias_of)
    return true;
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] && n->in[k]->alias_of == v)
      return true;
  return false;
}

static Report build(Graph *g, const Plan *plan, const EmitOptions *eo) {
  EmitSummary s = emit_summary(g, eo);
  Report r = {.rows = cn_alloc_array((size_t)g->n_nodes + 1, sizeof(Layer)), .weight_bytes = s.weight_bytes,
              .arena_bytes = plan->arena_bytes, .lower_bound = plan->live_peak_bytes};
  bool *covered = cn_alloc_array((size_t)g->n_nodes + 1, sizeof(bool));
  for (int i = 0; i < g->n_nodes; i++) {
    const Fusion *f = g->nodes[i]->fusion;
    for (int k = 0; s.function[i] && f && k < f->n_covers; k++)
      covered[f->covers[k]->id] = true;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (!s.function[i] && (covered[n->id] || !is_view(n)))
      continue;
    Layer *l = &r.rows[r.n_rows++];
    l->node = n;
    l->function = s.function[i];
    if (!l->function) {
      l->covers = cn_alloc(sizeof(Node *));
      l->covers[0] = n;
      l->n_covers = 1;
      l->outputs = cn_alloc(sizeof(Output));
      l->outputs[l->n_outputs++] = locate(n->out[0]);
      continue;
    }
    r.n_layers++;
    if (n->fusion && n->fusion->n_covers > 0) {
      l->covers = n->fusion->covers;
      l->n_covers = n->fusion->n_covers;
    } else {
      l->covers = cn_alloc(sizeof(Node *));
      l->covers[0] = n;
      l->n_covers = 1;
    }
    l->outputs = cn_alloc_array((size_t)n->n_out, sizeof(Output));
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k])
        l->outputs[l->n_outputs++] = locate(n->out[k]);
    for (int k = 0; k < l->n_covers; k++)
      l->params += l->covers[k]->param_count;
    r.params += l->params;
    l->macs = node_macs(n);
    r.macs += l->macs;
  }
  return r;
}

/* 1234567 -> "1,234,567" */
static char *grouped(int64_t x) {
  char digits[32];
  int len = snprintf(digits, sizeof digits, "%lld", (long long)(x < 0 ? -x : x));
  char out[48];
  int j = 0;
  if (x < 0)
    out[j++] = '-';
  for (int i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0)
      out[j++] = ',';
    out[j++] = digits[i];
  }
  out[j] = 0;
  return cn_strdup(out);
}

static char *ops_string(const Layer *l, const char *sep) {
  char *s = cn_strdup(l->covers[0]->op->name);
  for (int k = 1; k < l->n_covers; k++)
    s = cn_format("%s%s%s", s, sep, l->covers[k]->op->name);
  return s;
}

/* "1x64x56x56" for a float tensor, "int64 1x4" otherwise; "scalar" for rank 0. */
static char *shape_text(const Value *v) {
  char *s = cn_strdup(v->rank ? "" : "scalar");
  for (int i = 0; i < v->rank; i++)
    s = cn_format("%s%s%lld", s, i ? "x" : "", (long long)v->dims[i]);
  return v->dtype == DT_FLOAT ? s : cn_format("%s %s", dtype_name(v->dtype), s);
}

/* layout.c's name of a blocked layout ("NCHW16c"); NCHW or row-major otherwise. */
static const char *layout_text(const Value *v) {
  if (v->layout != LAYOUT_ROW_MAJOR)
    return layout_name(v);
  return v->rank == 4 ? "NCHW" : "row-major";
}

static const char *kernel_name(const Layer *l) {
  if (!l->function)
    return l->outputs[0].v->alias_of ? "none: a view" : "none: inputs written in place";
  return l->node->kernel ? l->node->kernel : "portable C";
}

//
// The table
//

enum { COL_INDEX, COL_OPS, COL_OUTPUT, COL_LAYOUT, COL_PARAMS, COL_MACS, COL_KERNEL, COL_OFFSET, COL_BYTES,
       COL_NODES, N_COLS };
static const char *const col_titles[N_COLS] = {"#",      "ops",    "output", "layout",       "params",
                                               "MACs",   "kernel", "arena offset", "bytes", "ONNX nodes"};
static const bool col_right[N_COLS] = {[COL_INDEX] = true, [COL_PARAMS] = true, [COL_MACS] = true,
                                       [COL_OFFSET] = true, [COL_BYTES] = true};

typedef struct Row {
  char *cell[N_COLS];
} Row;

static void output_cells(Row *row, const Output *o) {
  row->cell[COL_OUTPUT] = shape_text(o->v);
  row->cell[COL_LAYOUT] = (char *)layout_text(o->v);
  row->cell[COL_OFFSET] = o->offset >= 0 ? grouped(o->offset) : (char *)o->storage;
  row->cell[COL_BYTES] = grouped(value_bytes(o->v));
}

static void print_row(FILE *out, const Row *row, const int *width) {
  char *line = cn_strdup("");
  for (int c = 0; c < N_COLS; c++) {
    const char *text = row->cell[c] ? row->cell[c] : "";
    if (c == N_COLS - 1)
      line = cn_format("%s%s", line, text);
    else
      line = cn_format(col_right[c] ? "%s%*s  " : "%s%-*s  ", line, width[c], text);
  }
  size_t len = strlen(line);
  while (len > 0 && line[len - 1] == ' ')
    line[--len] = 0;
  fprintf(out, "%s\n", line);
}

static void print_text(FILE *out, const Graph *g, const Report *r, const char *prefix) {
  /* one row per layer or view, and one more per extra output (Split's) with only the output columns */
  Row *rows = cn_alloc_array((size_t)g->n_values + (size_t)r->n_rows + 1, sizeof(Row));
  int n_rows = 0, index = 0;
  for (int c = 0; c < N_COLS; c++)
    rows[0].cell[c] = (char *)col_titles[c];
  n_rows++;
  for (int i = 0; i < r->n_rows; i++) {
    const Layer *l = &r->rows[i];
    Row *row = &rows[n_rows++];
    row->cell[COL_INDEX] = l->function ? cn_format("%d", index++) : "-";
    row->cell[COL_OPS] = ops_string(l, "+");
    row->cell[COL_PARAMS] = l->function ? grouped(l->params) : "";
    row->cell[COL_MACS] = l->function ? grouped(l->macs) : "";
    row->cell[COL_KERNEL] = cn_escape_comment(kernel_name(l), 60);
    char *nodes = cn_strdup("");
    for (int k = 0; k < l->n_covers; k++)
      nodes = cn_format("%s%s%s", nodes, k ? ", " : "", cn_escape_comment(l->covers[k]->name, 120));
    row->cell[COL_NODES] = nodes;
    for (int k = 0; k < l->n_outputs; k++) {
      if (k > 0)
        row = &rows[n_rows++];
      output_cells(row, &l->outputs[k]);
    }
  }
  int width[N_COLS] = {0};
  for (int i = 0; i < n_rows; i++)
    for (int c = 0; c < N_COLS; c++)
      if (rows[i].cell[c] && (int)strlen(rows[i].cell[c]) > width[c])
        width[c] = (int)strlen(rows[i].cell[c]);
  int n_views = r->n_rows - r->n_layers;
  fprintf(out, "%s: %d layer%s", cn_escape_comment(g->path, 500), r->n_layers, r->n_layers == 1 ? "" : "s");
  if (n_views > 0)
    fprintf(out, " and %d view%s (rows without a number: no code, no copy)", n_views, n_views == 1 ? "" : "s");
  fprintf(out, "\n\n");
  for (int i = 0; i < n_rows; i++)
    print_row(out, &rows[i], width);
  fprintf(out, "\ntotal: %s params, %s weight bytes, %s MACs (%.3g GFLOP)\n", grouped(r->params),
          grouped(r->weight_bytes), grouped(r->macs), 2e-9 * (double)r->macs);
  fprintf(out, "arena: %s bytes (%s_ARENA_BYTES); lower bound %s bytes (the most live at once in this order)\n",
          grouped(r->arena_bytes), prefix, grouped(r->lower_bound));
}

//
// JSON
//

/* A JSON string of untrusted text: quotes, backslashes and control characters escaped, and every byte that is
 * not part of valid UTF-8 replaced by U+FFFD, so the output always parses. */
static void json_string(FILE *out, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', out);
  while (*p) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      fprintf(out, "\\%c", c);
      p++;
    } else if (c < 0x20 || c == 0x7f) {
      fprintf(out, "\\u%04x", c);
      p++;
    } else if (c < 0x80) {
      fputc(c, out);
      p++;
    } else {
      /* the length a lead byte announces, and the smallest code point that length may encode */
      int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
      uint32_t cp = len == 4 ? c & 7u : len == 3 ? c & 15u : c & 31u;
      int k = 1;
      for (; k < len && (p[k] & 0xc0) == 0x80; k++)
        cp = cp << 6 | (p[k] & 0x3fu);
      static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
      bool valid = len && k == len && cp >= min_cp[len] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
      if (valid)
        fwrite(p, 1, (size_t)len, out);
      else
        fputs("\\ufffd", out);
      p += valid ? len : 1;
    }
  }
  fputc('"', out);
}

static void json_output(FILE *out, const Output *o) {
  fprintf(out, "{\"name\": ");
  json_string(out, o->v->name);
  fprintf(out, ", \"dtype\": \"%s\", \"shape\": [", dtype_name(o->v->dtype));
  for (int d = 0; d < o->v->rank; d++)
    fprintf(out, "%s%lld", d ? ", " : "", (long long)o->v->dims[d]);
  fprintf(out, "], \"layout\": \"%s\", \"storage\": \"%s\", \"arena_offset\": ", layout_text(o->v), o->storage);
  if (o->offset >= 0)
    fprintf(out, "%lld", (long long)o->offset);
  else
    fprintf(out, "null");
  fprintf(out, ", \"bytes\": %lld}", (long long)value_bytes(o->v));
}

static void print_json(FILE *out, const Graph *g, const Report *r) {
  fprintf(out, "{\n  \"model\": ");
  json_string(out, g->path);
  fprintf(out, ",\n  \"layers\": [");
  int index = 0;
  for (int i = 0; i < r->n_rows; i++) {
    const Layer *l = &r->rows[i];
    if (!l->function)
      continue;
    fprintf(out, "%s\n    {\"index\": %d, \"function\": ", index ? "," : "", index);
    index++;
    json_string(out, l->function);
    fprintf(out, ", \"nodes\": [");
    for (int k = 0; k < l->n_covers; k++) {
      fprintf(out, k ? ", " : "");
      json_string(out, l->covers[k]->name);
    }
    fprintf(out, "], \"ops\": [");
    for (int k = 0; k < l->n_covers; k++)
      fprintf(out, "%s\"%s\"", k ? ", " : "", l->covers[k]->op->name);
    fprintf(out, "],\n     \"outputs\": [");
    for (int k = 0; k < l->n_outputs; k++) {
      fprintf(out, k ? ", " : "");
      json_output(out, &l->outputs[k]);
    }
    fprintf(out, "],\n     \"params\": %lld, \"macs\": %lld, \"kernel\": ", (long long)l->params, (long long)l->macs);
    json_string(out, kernel_name(l));
    fprintf(out, "}");
  }
  fprintf(out, "\n  ],\n  \"views\": [");
  bool first = true;
  for (int i = 0; i < r->n_rows; i++) {
    const Layer *l = &r->rows[i];
    if (l->function)
      continue;
    fprintf(out, "%s\n    {\"node\": ", first ? "" : ",");
    first = false;
    json_string(out, l->node->name);
    fprintf(out, ", \"op\": \"%s\", \"in_place\": %s, \"output\": ", l->node->op->name,
            l->outputs[0].v->alias_of ? "false" : "true");
    json_output(out, &l->outputs[0]);
    fprintf(out, "}");
  }
  fprintf(out, "%s],\n  \"totals\": {\"layers\": %d, \"params\": %lld, \"weight_bytes\": %lld, \"macs\": %lld, "
               "\"arena_bytes\": %lld, \"arena_lower_bound_bytes\": %lld}\n}\n",
          first ? "" : "\n  ", r->n_layers, (long long)r->params, (long long)r->weight_bytes, (long long)r->macs,
          (long long)r->arena_bytes, (long long)r->lower_bound);
}

void report_write(Graph *g, const Plan *plan, const EmitOptions *eo, bool json, FILE *out) {
  Report r = build(g, plan, eo);
  if (json)
    print_json(out, g, &r);
  else
    print_text(out, g, &r, eo->prefix);
}
