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
  if (o->train) {
    train_options_finish(o->train);
    train_mark(g, o->train);
  }
  shape_infer(g);
  dump_stage(g, "shape_infer (folding constants)", o->dump);
  fold_dead_code(g);
  dump_stage(g, "fold_dead_code", o->dump);
  if (o->train) {
    backward_build(g, o->train);
    dump_stage(g, "backward_build (training step)", o->dump);
  }
  graph_verify(g);
  Plan plan = plan_memory(g);
  return (Compiled){.graph = g, .plan = plan};
}
