/* The pipeline, written down once: `cnnc`, `cnnc check` and every later command compile a model through
 * pipeline_run. pipeline_load is its first part, the front end the file needs (ONNX or the .cnn DSL) up to a
 * graph with known shapes and folded constants, which the converters (--emit=onnx|dsl) stop at. Each stage is
 * a file of its own; -d prints the graph after each one. */
#include "cnnc.h"

static void dump_stage(const Graph *g, const char *stage, FILE *dump) {
  if (!dump)
    return;
  fprintf(dump, "== after %s ==\n", stage);
  graph_dump(g, dump);
}

Graph *pipeline_load(const char *model_path, const PipelineOptions *o) {
  Graph *g = dsl_detect(model_path) ? dsl_load(model_path, &o->load) : onnx_load(model_path, &o->load);
  shape_infer(g);
  dump_stage(g, "shape_infer (folding constants)", o->dump);
  fold_dead_code(g);
  dump_stage(g, "fold_dead_code", o->dump);
  graph_verify(g);
  return g;
}

Compiled pipeline_run(const char *model_path, const PipelineOptions *o) {
  Graph *g = pipeline_load(model_path, o);
  fold_bn(g);
  dump_stage(g, "fold_bn", o->dump);
  fuse(g);
  dump_stage(g, "fuse", o->dump);
  layout_assign(g, o->target);
  dump_stage(g, cn_format("layout (target %s)", target_name(o->target)), o->dump);
  views(g);
  dump_stage(g, "views", o->dump);
  graph_verify(g);
  Plan plan = plan_memory(g);
  return (Compiled){.graph = g, .plan = plan};
}
