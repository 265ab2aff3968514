/* The memory planner: tensors alive at the same time never share bytes, and the arena is exactly as large as
 * the highest byte any tensor uses. A view shares its root's bytes at its offset, and keeps the root alive. */
#include "testutil.h"

#include <stdlib.h>

/* Interleaved chains of tensors of different sizes, with random Adds joining tensors of the same chain and
 * some values kept alive across many nodes. With views, some Identity nodes become views, and pairs of values
 * are concatenated (in place when only the Concat reads them) and sliced back. */
static Graph *random_graph(unsigned seed, int n_nodes, bool with_views) {
  srand(seed);
  Graph *g = tb_graph(13);
  enum { CHAINS = 4 };
  Value *recent[CHAINS][8];
  int n_recent[CHAINS] = {0};
  for (int c = 0; c < CHAINS; c++) {
    int64_t dims[2] = {1, 3 + 37 * c};
    recent[c][0] = tb_input(g, cn_format("in%d", c), DT_FLOAT, 2, dims);
    n_recent[c] = 1;
  }
  for (int i = 0; i < n_nodes; i++) {
    int c = rand() % CHAINS;
    int64_t width = 3 + 37 * c;
    Value *a = recent[c][rand() % n_recent[c]];
    Node *n;
    int op = rand() % (with_views ? 4 : 2);
    if (op == 1) {
      Value *b = recent[c][rand() % n_recent[c]];
      n = tb_node(g, "Add", 2, (Value *[]){a, b}, 1);
    } else if (op == 0) {
      n = tb_node(g, "Identity", 1, (Value *[]){a}, 1);
    } else if (op == 2) {
      /* fresh values, which the Concat can write in place, or a value read elsewhere too, which it cannot */
      Value *b = tb_node(g, "Neg", 1, (Value *[]){a}, 1)->out[0];
      Value *second = rand() % 2 ? a : tb_node(g, "Abs", 1, (Value *[]){a}, 1)->out[0];
      Node *cat = tb_node(g, "Concat", 2, (Value *[]){b, second}, 1);
      tb_attr_int(cat, "axis", 1);
      int64_t start = rand() % 2 ? 0 : width;
      Value *ins[4] = {cat->out[0], tb_const_ints(g, "starts", 1, TB_DIMS(start)),
                       tb_const_ints(g, "ends", 1, TB_DIMS(start + width)), tb_const_ints(g, "axes", 1, TB_DIMS(1))};
      Value *sliced = tb_node(g, "Slice", 4, ins, 1)->out[0];
      n = tb_node(g, "Relu", 1, (Value *[]){sliced}, 1);
    } else {
      n = tb_node(g, "Reshape", 2, (Value *[]){a, tb_const_ints(g, "shape", 2, TB_DIMS(1, width))}, 1);
    }
    if (n_recent[c] < 8)
      recent[c][n_recent[c]++] = n->out[0];
    else
      recent[c][rand() % 8] = n->out[0];
  }
  for (int c = 0; c < CHAINS; c++)
    tb_output(g, recent[c][n_recent[c] - 1]);
  tb_infer(g);
  fold_dead_code(g);
  if (with_views) {
    views(g);
    graph_verify(g);
  }
  return g;
}

/* Checks the plan against the graph: views sit at their root's offset plus their own; roots alive at the same
 * time (from the first node writing any value stored in them to the last node touching one) never overlap. */
static void check_plan(Graph *g, Plan plan) {
  int *first = cn_alloc_array((size_t)g->n_values, sizeof(int));
  int *last = cn_alloc_array((size_t)g->n_values, sizeof(int));
  for (int i = 0; i < g->n_values; i++)
    first[i] = last[i] = -1;
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_out; k++) {
      int r = view_root(n->out[k], NULL)->id;
      if (first[r] < 0)
        first[r] = i;
      last[r] = i;
    }
    for (int k = 0; k < n->n_in; k++)
      last[view_root(n->in[k], NULL)->id] = i;
  }
  int64_t bound = 0;
  int in_arena = 0;
  for (int a = 0; a < g->n_values; a++) {
    Value *va = g->values[a];
    int64_t at;
    Value *root = view_root(va, &at);
    if (root != va) {
      CU_ASSERT_EQUAL(va->offset, root->offset >= 0 ? root->offset + at : -1);
      continue;
    }
    if (va->offset < 0)
      continue;
    in_arena++;
    CU_ASSERT_EQUAL(va->offset % 64, 0);
    CU_ASSERT(first[a] >= 0);
    int64_t end_a = va->offset + value_bytes(va);
    if (end_a > bound)
      bound = end_a;
    for (int b = a + 1; b < g->n_values; b++) {
      Value *vb = g->values[b];
      if (vb->offset < 0 || vb->alias_of)
        continue;
      bool live_together = first[a] <= last[b] && first[b] <= last[a];
      bool overlap = va->offset < vb->offset + value_bytes(vb) && vb->offset < end_a;
      CU_ASSERT_FALSE(live_together && overlap);
    }
  }
  CU_ASSERT(in_arena > 0);
  /* the lower bound: the most (padded) bytes live at one node */
  int64_t peak = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    int64_t live = 0;
    for (int a = 0; a < g->n_values; a++)
      if (g->values[a]->offset >= 0 && first[a] <= i && i <= last[a])
        live += (value_bytes(g->values[a]) + 63) / 64 * 64;
    if (live > peak)
      peak = live;
  }
  CU_ASSERT_EQUAL(plan.live_peak_bytes, peak);
  CU_ASSERT(plan.live_peak_bytes <= plan.arena_bytes);
  /* each tensor is padded to the 64-byte alignment, so the arena ends at a padded tensor end */
  CU_ASSERT_EQUAL(plan.arena_bytes, (bound + 63) / 64 * 64);
}

static void test_random_graphs(void) {
  for (unsigned seed = 1; seed <= 40; seed++) {
    Graph *g = random_graph(seed, 10 + (int)seed * 3, false);
    check_plan(g, plan_memory(g));
  }
}

static void test_random_graphs_with_views(void) {
  int views = 0, in_place = 0;
  for (unsigned seed = 1; seed <= 40; seed++) {
    Graph *g = random_graph(seed, 10 + (int)seed * 3, true);
    check_plan(g, plan_memory(g));
    for (int i = 0; i < g->n_values; i++) {
      views += g->values[i]->alias_of != NULL;
      in_place += g->values[i]->alias_of && g->values[i]->alias_bytes > 0; /* a Concat's second slice */
    }
  }
  /* the random graphs do exercise both kinds of view */
  CU_ASSERT(views > 100);
  CU_ASSERT(in_place > 10);
}

/* A view read late keeps its root's bytes: nothing else may take them in between. */
static void test_view_keeps_root_alive(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(1, 1000));
  Value *root = tb_node(g, "Neg", 1, (Value *[]){x}, 1)->out[0];
  Value *view = tb_node(g, "Reshape", 2, (Value *[]){root, tb_const_ints(g, "shape", 1, TB_DIMS(1000))}, 1)->out[0];
  Value *v = x;
  for (int i = 0; i < 6; i++)
    v = tb_node(g, "Abs", 1, (Value *[]){v}, 1)->out[0];
  tb_output(g, tb_node(g, "Add", 2, (Value *[]){v, view}, 1)->out[0]);
  tb_infer(g);
  views(g);
  CU_ASSERT_PTR_EQUAL(view->alias_of, root);
  Plan plan = plan_memory(g);
  check_plan(g, plan);
  CU_ASSERT_EQUAL(view->offset, root->offset);
  /* the root and the two buffers the chain of Abs alternates between */
  CU_ASSERT_EQUAL(plan.arena_bytes, 3 * 4032);
}

static void test_chain_reuses_memory(void) {
  Graph *g = tb_graph(13);
  Value *v = tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(1000));
  for (int i = 0; i < 10; i++)
    v = tb_node(g, "Identity", 1, (Value *[]){v}, 1)->out[0];
  tb_output(g, v);
  tb_infer(g);
  Plan plan = plan_memory(g);
  check_plan(g, plan);
  /* a chain needs two buffers whatever its length: one being read, one being written */
  CU_ASSERT_EQUAL(plan.arena_bytes, 2 * 4032);
  CU_ASSERT_EQUAL(plan.live_peak_bytes, 2 * 4032);
  CU_ASSERT_EQUAL(g->outputs[0]->offset, -1); /* written straight into the caller's buffer */
}

static void test_constants_take_no_arena(void) {
  Graph *g = tb_graph(13);
  float w[4] = {1, 2, 3, 4};
  Value *c = tb_const(g, "w", DT_FLOAT, 1, TB_DIMS(4), w);
  Value *x = tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4));
  Value *y = tb_node(g, "Identity", 1, (Value *[]){c}, 1)->out[0]; /* folded away */
  Value *z = tb_node(g, "Add", 2, (Value *[]){x, y}, 1)->out[0];
  tb_output(g, z);
  tb_infer(g);
  Plan plan = plan_memory(g);
  CU_ASSERT_PTR_NOT_NULL(y->data);
  CU_ASSERT_EQUAL(y->offset, -1);
  CU_ASSERT_EQUAL(plan.arena_bytes, 0);
}

CU_TestInfo plan_tests[] = {
    {"random_graphs", test_random_graphs},
    {"random_graphs_with_views", test_random_graphs_with_views},
    {"view_keeps_root_alive", test_view_keeps_root_alive},
    {"chain_reuses_memory", test_chain_reuses_memory},
    {"constants_take_no_arena", test_constants_take_no_arena},
    CU_TEST_INFO_NULL,
};
