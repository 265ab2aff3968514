/* The pipeline, written down once: `cnnc`, `cnnc check` and every later command compile a model through
 * pipeline_run. Each stage is a file of its own; -d prints the graph after each one. */
#include "cnnc.h"

static void dump_stage(const Graph *g, const char *stage, FILE *dump) {
  if (!dump)
    return;
  fprintf(dump, "== after %s ==\n", stage);
  graph_dump(g, dump);
}

Compiled pipeline_run(const char *model_path, const PipelineOptions *o) {
  Graph *g = onnx_load(model_path, &o->load);
  shape_infer(g);
  dump_stage(g, "shape_infer (folding constants)", o->dump);
  fold_dead_code(g);
  dump_stage(g, "fold_dead_code", o->dump);
  layout_assign(g, o->target);
  dump_stage(g, cn_format("layout (target %s)", target_name(o->target)), o->dump);
  graph_verify(g);
  Plan plan = plan_memory(g);
  return (Compiled){.graph = g, .plan = plan};
}
