/* cnnc report and --emit=dot on graphs built here: names from a hostile model reach the JSON escaped (and always
 * valid UTF-8), the table and the dot labels without markup or control characters; a fused group is one row
 * and one cluster; a view an unnumbered row and a dashed ellipse; the figures are those of the graph. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static float zeros[4096];

static char *capture(void (*write)(Graph *, FILE *), Graph *g) {
  char *text;
  size_t len;
  FILE *f = open_memstream(&text, &len);
  write(g, f);
  fclose(f);
  return text;
}

static void report_json(Graph *g, FILE *f) {
  Plan plan = plan_memory(g);
  report_write(g, &plan, &(EmitOptions){.prefix = "P"}, true, f);
}

static void report_table(Graph *g, FILE *f) {
  Plan plan = plan_memory(g);
  report_write(g, &plan, &(EmitOptions){.prefix = "P"}, false, f);
}

static void dot(Graph *g, FILE *f) { dot_write(g, f); }

/* x -> Conv (8 -> 16 channels, 3x3, pad 1, 8x8) -> Relu -> y */
static Graph *conv_relu(const char *conv_name) {
  Graph *g = tb_graph(13);
  Value *ins[] = {tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 8, 8, 8)),
                  tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(16, 8, 3, 3), zeros)};
  Node *conv = tb_node(g, "Conv", 2, ins, 1);
  conv->name = conv_name;
  tb_attr_ints(conv, "pads", 4, TB_DIMS(1, 1, 1, 1));
  Node *relu = tb_node(g, "Relu", 1, (Value *[]){conv->out[0]}, 1);
  relu->name = "relu";
  tb_output(g, relu->out[0]);
  tb_infer(g);
  return g;
}

static void test_figures(void) {
  Graph *g = conv_relu("conv");
  char *json = capture(report_json, g);
  /* the Conv's output lives in the arena at 0, the Relu writes the caller's buffer */
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"nodes\": [\"conv\"], \"ops\": [\"Conv\"]"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"shape\": [1, 16, 8, 8], \"layout\": \"NCHW\", \"storage\": \"arena\", "
                                      "\"arena_offset\": 0, \"bytes\": 4096}"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"storage\": \"output\", \"arena_offset\": null"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, cn_format("\"params\": %d, \"macs\": %d", 16 * 8 * 9, 16 * 64 * 8 * 9)));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"kernel\": \"portable C\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, cn_format("\"totals\": {\"layers\": 2, \"params\": 1152, \"weight_bytes\": %d, "
                                                "\"macs\": 73728, \"arena_bytes\": 4096, "
                                                "\"arena_lower_bound_bytes\": 4096}",
                                                16 * 8 * 9 * 4)));
  free(json);
  char *table = capture(report_table, g);
  CU_ASSERT_PTR_NOT_NULL(strstr(table, "total: 1,152 params, 4,608 weight bytes, 73,728 MACs"));
  CU_ASSERT_PTR_NOT_NULL(strstr(table, "arena: 4,096 bytes (P_ARENA_BYTES); lower bound 4,096 bytes"));
  free(table);
}

/* Quotes, backslashes, control characters, markup and invalid UTF-8 in a node name. */
static void test_hostile_names(void) {
  const char *name = "a\"b\\c\n<i>&\x01\xff\xc3\xa9\xe2\x82";
  Graph *g = conv_relu(name);
  char *json = capture(report_json, g);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"nodes\": [\"a\\\"b\\\\c\\u000a<i>&\\u0001\\ufffd\xc3\xa9\\ufffd\\ufffd\"]"));
  free(json);
  char *table = capture(report_table, g);
  CU_ASSERT_PTR_NULL(strchr(table, '\x01'));
  CU_ASSERT_PTR_NULL(strstr(table, "\xff"));
  free(table);
  char *text = capture(dot, g);
  CU_ASSERT_PTR_NULL(strstr(text, "<i>"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "&lt;i&gt;&amp;"));
  CU_ASSERT_PTR_NULL(strchr(text, '\x01'));
  free(text);
}

/* After the fusion pass, Conv + Relu is one layer covering both, and one cluster with a dashed edge between them. */
static void test_fused_group(void) {
  Graph *g = conv_relu("conv");
  Node *conv = NULL, *relu = NULL;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op->kind == OP_CONV)
      conv = g->nodes[i];
    else if (g->nodes[i]->op->kind == OP_RELU)
      relu = g->nodes[i];
  fuse(g);
  CU_ASSERT_TRUE_FATAL(conv->fusion && relu->dead);
  char *json = capture(report_json, g);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"nodes\": [\"conv\", \"relu\"], \"ops\": [\"Conv\", \"Relu\"]"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"layers\": 1,"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"arena_bytes\": 0"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"views\": [],"));
  free(json);
  char *table = capture(report_table, g);
  CU_ASSERT_PTR_NOT_NULL(strstr(table, ": 1 layer\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(table, "\n0  Conv+Relu "));
  free(table);
  char *text = capture(dot, g);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, cn_format("subgraph cluster_%d {", conv->id)));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, cn_format("n%d -> n%d [style=dashed];", conv->id, relu->id)));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "in0 -> n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, cn_format("n%d -> out0;", relu->id)));
  CU_ASSERT_PTR_NULL(strstr(text, "\"w\"")); /* the weights are not drawn */
  free(text);
}

/* x -> Conv -> Flatten -> Relu -> y after the views pass: the Flatten is a view of the Conv's output, an
 * unnumbered row and an entry of "views" at the same arena offset, and a dashed ellipse in the drawing; the
 * layers are numbered without it. */
static void test_view(void) {
  Graph *g = tb_graph(13);
  Value *ins[] = {tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 8, 8, 8)),
                  tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(16, 8, 3, 3), zeros)};
  Node *conv = tb_node(g, "Conv", 2, ins, 1);
  conv->name = "conv";
  Node *flatten = tb_node(g, "Flatten", 1, (Value *[]){conv->out[0]}, 1);
  flatten->name = "flat";
  Node *relu = tb_node(g, "Relu", 1, (Value *[]){flatten->out[0]}, 1);
  relu->name = "relu";
  tb_output(g, relu->out[0]);
  tb_infer(g);
  views(g);
  CU_ASSERT_TRUE_FATAL(flatten->dead && flatten->out[0]->alias_of == conv->out[0]);
  char *json = capture(report_json, g);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"views\": [\n    {\"node\": \"flat\", \"op\": \"Flatten\", \"in_place\": false, "
                                      "\"output\": {\"name\": "));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"shape\": [1, 576], \"layout\": \"row-major\", \"storage\": \"arena\", "
                                      "\"arena_offset\": 0, \"bytes\": 2304}"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "{\"index\": 1, \"function\": "));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"layers\": 2,"));
  free(json);
  char *table = capture(report_table, g);
  CU_ASSERT_PTR_NOT_NULL(strstr(table, ": 2 layers and 1 view "));
  CU_ASSERT_PTR_NOT_NULL(strstr(table, "\n-  Flatten "));
  CU_ASSERT_PTR_NOT_NULL(strstr(table, "none: a view"));
  CU_ASSERT_PTR_NOT_NULL(strstr(table, "\n1  Relu "));
  free(table);
  char *text = capture(dot, g);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, cn_format("n%d [shape=ellipse, style=dashed", flatten->id)));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, cn_format("n%d -> n%d [label=\" 1x16x6x6\"];", conv->id, flatten->id)));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, cn_format("n%d -> n%d [label=\" 1x576\"];", flatten->id, relu->id)));
  free(text);
}

CU_TestInfo report_tests[] = {
    {"figures", test_figures},
    {"hostile_names", test_hostile_names},
    {"fused_group", test_fused_group},
    {"view", test_view},
    CU_TEST_INFO_NULL,
};
