/* Views (views.c), and how the planner and the emitter follow them: each test builds a graph twice, runs the
 * passes on one copy, checks which values became views of which, and runs both copies on the same inputs. A
 * view moves no data, so the results must be identical. */
#include "testutil.h"

static Value *ramp(Graph *g, const char *name, int rank, const int64_t *dims, float step) {
  int64_t count = 1;
  for (int i = 0; i < rank; i++)
    count *= dims[i];
  float *v = cn_alloc_array((size_t)count + 1, sizeof *v);
  for (int64_t i = 0; i < count; i++)
    v[i] = step * (float)((i * 5) % 11) - 0.5f;
  return tb_const(g, name, DT_FLOAT, rank, dims, v);
}

/* A 1x1 Conv of x with `maps` output channels: a value a node computes into the arena. */
static Value *conv(Graph *g, Value *x, int64_t maps, float step) {
  Value *w = ramp(g, "w", 4, TB_DIMS(maps, x->dims[1], 1, 1), step);
  return tb_node(g, "Conv", 2, (Value *[]){x, w}, 1)->out[0];
}

static Value *reshape(Graph *g, Value *x, int n, const int64_t *shape) {
  return tb_node(g, "Reshape", 2, (Value *[]){x, tb_const_ints(g, "shape", n, shape)}, 1)->out[0];
}

static Node *live_producer(Value *v) {
  CU_ASSERT_PTR_NOT_NULL_FATAL(v->producer);
  return v->producer->dead ? NULL : v->producer;
}

/* Conv -> Unsqueeze -> Squeeze -> Identity -> Dropout -> Reshape -> Flatten -> Gemm: every shape op a view. */
static Graph *shape_chain(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 3, 4, 5));
  Value *y = conv(g, x, 6, 0.1f);
  Value *axis0 = tb_const_ints(g, "axis0", 1, TB_DIMS(0));
  y = tb_node(g, "Unsqueeze", 2, (Value *[]){y, axis0}, 1)->out[0];
  y = tb_node(g, "Squeeze", 2, (Value *[]){y, axis0}, 1)->out[0];
  y = tb_node(g, "Identity", 1, &y, 1)->out[0];
  y = tb_node(g, "Dropout", 1, &y, 1)->out[0];
  y = reshape(g, y, 3, TB_DIMS(1, 6, 20));
  y = tb_node(g, "Flatten", 1, &y, 1)->out[0];
  Node *gemm = tb_node(g, "Gemm", 2, (Value *[]){y, ramp(g, "b", 2, TB_DIMS(120, 7), 0.01f)}, 1);
  tb_output(g, gemm->out[0]);
  tb_infer(g);
  return g;
}

static void test_shape_ops(void) {
  Graph *plain = shape_chain(), *g = shape_chain();
  tb_passes(g);
  Node *gemm = live_producer(g->outputs[0]);
  Value *flat = gemm->in[0];
  int64_t at;
  Value *root = view_root(flat, &at);
  CU_ASSERT_EQUAL(at, 0);
  CU_ASSERT_EQUAL(root->producer->op->kind, OP_CONV);
  CU_ASSERT_FALSE(root->producer->dead);
  int chain = 0;
  for (const Value *v = flat; v->alias_of; v = v->alias_of)
    chain++;
  CU_ASSERT_EQUAL(chain, 6);
  int live = 0;
  for (int i = 0; i < g->n_nodes; i++)
    live += !g->nodes[i]->dead;
  CU_ASSERT_EQUAL(live, 2);
  Plan plan = plan_memory(g);
  CU_ASSERT_EQUAL(plan.arena_bytes, 6 * 20 * 4 + 32); /* the conv's result, padded to 64 bytes */
  CU_ASSERT_EQUAL(flat->offset, root->offset);
  CU_ASSERT_EQUAL(tb_compare_graphs(plain, g, 0), 0);
}

/* A Reshape of a graph input is a view the generated code only reads; a Reshape of something computed into a
 * graph output makes the computation write the caller's buffer; from an input straight to an output, a copy. */
static Graph *boundaries(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(4, 6));
  Value *flat = reshape(g, x, 1, TB_DIMS(24));
  tb_output(g, tb_node(g, "Relu", 1, &flat, 1)->out[0]);
  Value *y = tb_node(g, "Sigmoid", 1, &x, 1)->out[0];
  tb_output(g, reshape(g, y, 2, TB_DIMS(3, 8)));
  tb_output(g, reshape(g, x, 2, TB_DIMS(6, 4)));
  tb_output(g, tb_node(g, "Identity", 1, &x, 1)->out[0]);
  tb_infer(g);
  return g;
}

static void test_boundaries(void) {
  Graph *plain = boundaries(), *g = boundaries();
  tb_passes(g);
  Value *x = g->inputs[0];
  Value *flat = live_producer(g->outputs[0])->in[0];
  CU_ASSERT_PTR_EQUAL(flat->alias_of, x);
  CU_ASSERT_PTR_NULL(x->alias_of);
  /* the Sigmoid's result is a view of the graph output: the Sigmoid writes the caller's buffer */
  Value *s = NULL;
  for (int i = 0; i < g->n_values; i++)
    if (g->values[i]->alias_of == g->outputs[1])
      s = g->values[i];
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_EQUAL(live_producer(s)->op->kind, OP_SIGMOID);
  CU_ASSERT_PTR_NULL(live_producer(g->outputs[1]));
  for (int k = 2; k < 4; k++) {
    CU_ASSERT_PTR_NOT_NULL(live_producer(g->outputs[k])); /* copies */
    CU_ASSERT_PTR_NULL(g->outputs[k]->alias_of);
  }
  CU_ASSERT_EQUAL(plan_memory(g).arena_bytes, 0);
  CU_ASSERT_EQUAL(tb_compare_graphs(plain, g, 0), 0);
}

/* A Dropout whose mask is read stays a node. */
static void test_dropout_mask(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(5));
  Value *y = tb_node(g, "Relu", 1, &x, 1)->out[0];
  Node *d = tb_node(g, "Dropout", 1, &y, 2);
  tb_output(g, tb_node(g, "Neg", 1, &d->out[0], 1)->out[0]);
  tb_output(g, d->out[1]);
  tb_infer(g);
  tb_passes(g);
  CU_ASSERT_FALSE(d->dead);
  CU_ASSERT_PTR_NULL(d->out[0]->alias_of);
}

/* SqueezeNet's fire module: two Convs (+ Relu) concatenated along channels, then read. */
static Graph *fire(int64_t batch) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(batch, 3, 5, 4));
  Value *a = conv(g, x, 4, 0.1f), *b = conv(g, x, 6, 0.07f);
  a = tb_node(g, "Relu", 1, &a, 1)->out[0];
  b = tb_node(g, "Relu", 1, &b, 1)->out[0];
  Node *cat = tb_node(g, "Concat", 2, (Value *[]){a, b}, 1);
  tb_attr_int(cat, "axis", 1);
  tb_output(g, tb_node(g, "Sigmoid", 1, &cat->out[0], 1)->out[0]);
  tb_infer(g);
  return g;
}

static void test_concat_in_place(void) {
  Graph *plain = fire(1), *g = fire(1);
  tb_passes(g);
  Value *c = live_producer(g->outputs[0])->in[0];
  CU_ASSERT_TRUE(c->producer->dead); /* the Concat has nothing left to do */
  int views = 0;
  for (int i = 0; i < g->n_values; i++) {
    Value *v = g->values[i];
    if (v->alias_of != c)
      continue;
    views++;
    CU_ASSERT_EQUAL(live_producer(v)->op->kind, OP_CONV);
    CU_ASSERT_EQUAL(v->alias_bytes, v->dims[1] == 4 ? 0 : 4 * 20 * 4);
  }
  CU_ASSERT_EQUAL(views, 2);
  CU_ASSERT_EQUAL(plan_memory(g).arena_bytes, (10 * 20 * 4 + 63) / 64 * 64); /* the Concat's output, only */
  CU_ASSERT_EQUAL(tb_compare_graphs(plain, g, 0), 0);

  /* with two batch items a slice is not contiguous */
  plain = fire(2);
  g = fire(2);
  tb_passes(g);
  for (int i = 0; i < g->n_values; i++)
    CU_ASSERT_PTR_NULL(g->values[i]->alias_of);
  CU_ASSERT_EQUAL(tb_compare_graphs(plain, g, 0), 0);
}

/* Only some inputs can be written in place: a constant, a graph input, a value read twice, a graph output and
 * the same value twice are copied by the Concat. */
static Graph *mixed_concat(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 3, 3));
  Value *a = conv(g, x, 3, 0.1f), *b = conv(g, x, 2, 0.2f), *shared = conv(g, x, 1, 0.3f);
  Value *out = conv(g, x, 2, 0.05f), *twice = conv(g, x, 1, 0.15f);
  Value *k = ramp(g, "k", 4, TB_DIMS(1, 2, 3, 3), 0.3f);
  Node *cat = tb_node(g, "Concat", 8, (Value *[]){a, k, x, shared, out, twice, twice, b}, 1);
  tb_attr_int(cat, "axis", 1);
  tb_output(g, tb_node(g, "Neg", 1, &cat->out[0], 1)->out[0]);
  tb_output(g, tb_node(g, "Relu", 1, &shared, 1)->out[0]);
  tb_output(g, out);
  tb_infer(g);
  return g;
}

static void test_concat_mixed(void) {
  Graph *plain = mixed_concat(), *g = mixed_concat();
  tb_passes(g);
  Node *cat = NULL;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op->kind == OP_CONCAT)
      cat = g->nodes[i];
  CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
  CU_ASSERT_FALSE(cat->dead);
  for (int k = 0; k < cat->n_in; k++)
    CU_ASSERT_PTR_EQUAL(cat->in[k]->alias_of, k == 0 || k == 7 ? cat->out[0] : NULL);
  CU_ASSERT_EQUAL(cat->in[7]->alias_bytes, (3 + 2 + 2 + 1 + 2 + 1 + 1) * 9 * 4);
  CU_ASSERT_EQUAL(tb_compare_graphs(plain, g, 0), 0);
}

/* A Concat of Concats, all in place; the outer one's output, flattened, is a graph output, so everything is
 * written straight into the caller's buffer. */
static Graph *nested_concat(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 3, TB_DIMS(1, 3, 5));
  Value *a = tb_node(g, "Tanh", 1, &x, 1)->out[0], *b = tb_node(g, "Sigmoid", 1, &x, 1)->out[0];
  Value *c = tb_node(g, "Relu", 1, &x, 1)->out[0];
  Node *inner = tb_node(g, "Concat", 2, (Value *[]){a, b}, 1);
  tb_attr_int(inner, "axis", 1);
  Node *outer = tb_node(g, "Concat", 2, (Value *[]){c, inner->out[0]}, 1);
  tb_attr_int(outer, "axis", 1);
  tb_output(g, tb_node(g, "Flatten", 1, &outer->out[0], 1)->out[0]);
  tb_infer(g);
  return g;
}

static void test_nested_concat(void) {
  Graph *plain = nested_concat(), *g = nested_concat();
  tb_passes(g);
  Value *out = g->outputs[0];
  int in_output = 0;
  for (int i = 0; i < g->n_values; i++) {
    int64_t at;
    Value *v = g->values[i];
    if (v != out && view_root(v, &at) == out) {
      in_output++;
      if (v->producer && v->producer->op->kind == OP_SIGMOID)
        CU_ASSERT_EQUAL(at, (3 + 3) * 5 * 4);
    }
  }
  CU_ASSERT_EQUAL(in_output, 5); /* a, b, c and both Concats' outputs */
  CU_ASSERT_EQUAL(plan_memory(g).arena_bytes, 0);
  CU_ASSERT_EQUAL(tb_compare_graphs(plain, g, 0), 0);
}

/* After views, removing dead code keeps the nodes that write in place: their values are read through the
 * Concat's output. */
static void test_dead_code_keeps_writers(void) {
  Graph *g = fire(1);
  tb_passes(g);
  fold_dead_code(g);
  int convs = 0;
  for (int i = 0; i < g->n_nodes; i++)
    convs += g->nodes[i]->op->kind == OP_CONV && !g->nodes[i]->dead;
  CU_ASSERT_EQUAL(convs, 2);
}

/* In LAYOUT_NCHWC a slice must start a channel block (as the layout pass will hand the values to views). */
static void test_nchwc_slices(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 3, 3));
  Value *a = conv(g, x, 8, 0.1f), *b = conv(g, x, 4, 0.1f), *c = conv(g, x, 8, 0.1f);
  Node *cat = tb_node(g, "Concat", 3, (Value *[]){a, b, c}, 1);
  tb_attr_int(cat, "axis", 1);
  tb_output(g, tb_node(g, "Relu", 1, &cat->out[0], 1)->out[0]);
  tb_infer(g);
  for (Value *const *v = (Value *const[]){a, b, c, cat->out[0], NULL}; *v; v++) {
    (*v)->layout = LAYOUT_NCHWC;
    (*v)->block = 8;
  }
  fold_dead_code(g);
  views(g);
  CU_ASSERT_PTR_EQUAL(a->alias_of, cat->out[0]);
  CU_ASSERT_PTR_EQUAL(b->alias_of, cat->out[0]); /* starts at channel 8 */
  CU_ASSERT_PTR_NULL(c->alias_of);              /* starts at channel 12, inside a block */
  CU_ASSERT_FALSE(cat->dead);
}

CU_TestInfo views_tests[] = {
    {"shape_ops", test_shape_ops},
    {"boundaries", test_boundaries},
    {"dropout_mask", test_dropout_mask},
    {"concat_in_place", test_concat_in_place},
    {"concat_mixed", test_concat_mixed},
    {"nested_concat", test_nested_concat},
    {"dead_code_keeps_writers", test_dead_code_keeps_writers},
    {"nchwc_slices", test_nchwc_slices},
    CU_TEST_INFO_NULL,
};
