/* The pipeline, written down once: `cnnc`, `cnnc check` and every later command compile a model through
 * pipeline_run. pipeline_load is its first part, the front end the file needs (ONNX or the .cnn DSL) up to a
 * graph with known shapes and folded constants, which the converters (--emit=onnx|dsl) stop at. Each stage is
 * a file of its own; -d prints the graph after each one.
 *
 * Training (--train) takes the same line. Before shape inference, train_mark turns the trainable initializers
 * into parameters, so nothing folds through them; right after pipeline_load, backward_build adds the loss and
 * the backward nodes and puts BatchNormalization and Dropout into their training forms. The passes after it see
 * one graph: fold_bn finds no inference BatchNormalization left to fold, and fuse and views never take a value
 * a backward node still reads. */
#include "cnnc.h"

static void dump_stage(const Graph *g, const char *stage, FILE *dump) {
  if (!dump)
    return;
  fprintf(dump, "== after %s ==\n", stage);
  graph_dump(g, dump);
}

static Graph *front_end(const char *model_path, const LoadOptions *load) {
  return dsl_detect(model_path) ? dsl_load(model_path, load) : onnx_load(model_path, load);
}

Graph *pipeline_load(const char *model_path, const PipelineOptions *o) {
  Graph *g = front_end(model_path, &o->load);
  if (o->train) {
    /* a .cnn file's train section sets the batch, unless --batch did: read the file again at that batch */
    if (!o->load.batch && g->train && g->n_inputs && g->inputs[0]->dims[0] != g->train->batch_size) {
      LoadOptions at_batch = o->load;
      at_batch.batch = g->train->batch_size;
      g = front_end(model_path, &at_batch);
    }
    train_options_finish(o->train, g->train);
    train_mark(g, o->train);
  }
  shape_infer(g);
  dump_stage(g, "shape_infer (folding constants)", o->dump);
  fold_dead_code(g);
  dump_stage(g, "fold_dead_code", o->dump);
  graph_verify(g);
  return g;
}

Compiled pipeline_run(const char *model_path, const PipelineOptions *o) {
  Graph *g = pipeline_load(model_path, o);
  if (o->train) {
    backward_build(g, o->train);
    dump_stage(g, "backward_build (training step)", o->dump);
  }
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
