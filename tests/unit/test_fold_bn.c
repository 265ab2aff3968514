/* BatchNormalization folding (fold_bn.c): each test builds a graph twice, runs the passes on one copy, checks
 * what was folded, and runs both copies on the same inputs. Folding rounds the weights once in a different
 * order than Conv-then-BatchNormalization, so the results agree to float precision, not bit for bit. */
#include "testutil.h"

#include <math.h>

#define CLOSE 1e-5

static Value *ramp(Graph *g, const char *name, int rank, const int64_t *dims, float start, float step) {
  int64_t count = 1;
  for (int i = 0; i < rank; i++)
    count *= dims[i];
  float *v = cn_alloc_array((size_t)count + 1, sizeof *v);
  for (int64_t i = 0; i < count; i++)
    v[i] = start + step * (float)((i * 7) % 13);
  return tb_const(g, name, DT_FLOAT, rank, dims, v);
}

/* BatchNormalization over `channels` with varied scale, bias, mean and variance; `mean` may be given instead
 * (a graph input, to make the statistics known only at run time). */
static Node *batch_norm(Graph *g, Value *x, int64_t channels, Value *mean) {
  Value *ins[5] = {x, ramp(g, "scale", 1, &channels, 0.5f, 0.25f), ramp(g, "bias", 1, &channels, -1, 0.2f),
                   mean ? mean : ramp(g, "mean", 1, &channels, -0.3f, 0.1f),
                   ramp(g, "var", 1, &channels, 0.2f, 0.3f)};
  Node *n = tb_node(g, "BatchNormalization", 5, ins, 1);
  tb_attr_float(n, "epsilon", 1e-3f);
  return n;
}

static Node *conv(Graph *g, Value *x, int64_t maps, int64_t group, bool bias) {
  int64_t channels = x->dims[1];
  Value *ins[3] = {x, ramp(g, "w", 4, TB_DIMS(maps, channels / group, 3, 3), -0.4f, 0.07f)};
  if (bias)
    ins[2] = ramp(g, "b", 1, &maps, 0.3f, -0.05f);
  Node *n = tb_node(g, "Conv", bias ? 3 : 2, ins, 1);
  tb_attr_ints(n, "pads", 4, TB_DIMS(1, 1, 1, 1));
  tb_attr_int(n, "group", group);
  return n;
}

/* Conv (optionally grouped, with or without bias), BatchNormalization, Relu. */
static Graph *conv_bn_relu(int64_t group, bool bias) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 4, 7, 6));
  Value *y = conv(g, x, 6, group, bias)->out[0];
  y = batch_norm(g, y, 6, NULL)->out[0];
  tb_output(g, tb_node(g, "Relu", 1, &y, 1)->out[0]);
  tb_infer(g);
  return g;
}

static void test_conv(void) {
  Graph *plain[3], *folded[3];
  for (int k = 0; k < 3; k++) {
    int64_t group = k == 2 ? 2 : 1;
    bool bias = k != 0;
    plain[k] = conv_bn_relu(group, bias);
    Graph *g = folded[k] = conv_bn_relu(group, bias);
    Value *w = NULL;
    for (int i = 0; i < g->n_nodes; i++)
      if (g->nodes[i]->op->kind == OP_CONV)
        w = g->nodes[i]->in[1];
    tb_passes(g);
    Node *anchor = g->outputs[0]->producer;
    CU_ASSERT_EQUAL_FATAL(anchor->op->kind, OP_CONV);
    CU_ASSERT_EQUAL(anchor->n_in, 3);
    CU_ASSERT_PTR_NOT_EQUAL(anchor->in[1], w); /* new weights; the model's stay as they were */
    CU_ASSERT_PTR_NOT_NULL(anchor->in[2]->data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion);
    CU_ASSERT_EQUAL(anchor->fusion->n_covers, 3);
    CU_ASSERT_EQUAL(anchor->fusion->covers[1]->op->kind, OP_BATCH_NORMALIZATION);
    CU_ASSERT(anchor->fusion->covers[1]->dead);
    CU_ASSERT_EQUAL(anchor->fusion->act.kind, ACT_RELU);
  }
  CU_ASSERT_EQUAL(tb_compare_graph_pairs(3, plain, folded, CLOSE), 0);
}

/* The folded weights equal W * scale / sqrt(var + epsilon), and the bias (B - mean) * that + bias, in double. */
static void test_conv_arithmetic(void) {
  Graph *g = conv_bn_relu(1, true);
  Node *c = NULL, *bn = NULL;
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i]->op->kind == OP_CONV)
      c = g->nodes[i];
    if (g->nodes[i]->op->kind == OP_BATCH_NORMALIZATION)
      bn = g->nodes[i];
  }
  Value *w = c->in[1], *b = c->in[2];
  tb_passes(g);
  for (int64_t m = 0; m < 6; m++) {
    double mul = value_get_double(bn->in[1], m) / sqrt(value_get_double(bn->in[4], m) + (double)1e-3f);
    double off = value_get_double(bn->in[2], m) - value_get_double(bn->in[3], m) * mul;
    CU_ASSERT_EQUAL(value_get_double(c->in[1], m * 36 + 5), (double)(float)(value_get_double(w, m * 36 + 5) * mul));
    CU_ASSERT_EQUAL(value_get_double(c->in[2], m), (double)(float)(value_get_double(b, m) * mul + off));
  }
}

/* Gemm with transB, alpha, beta and each shape of C, then BatchNormalization over its columns. */
typedef struct GemmCase {
  bool trans_b;
  int c_rank; /* 0: no C */
  float alpha, beta;
} GemmCase;

static Graph *gemm_bn(const GemmCase *k) {
  Graph *g = tb_graph(17);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(3, 8));
  Value *ins[3] = {a, ramp(g, "b", 2, k->trans_b ? TB_DIMS(5, 8) : TB_DIMS(8, 5), -0.5f, 0.1f)};
  if (k->c_rank)
    ins[2] = ramp(g, "c", k->c_rank, k->c_rank == 1 ? TB_DIMS(5) : TB_DIMS(3, 5), 0.2f, -0.1f);
  Node *n = tb_node(g, "Gemm", k->c_rank ? 3 : 2, ins, 1);
  tb_attr_int(n, "transB", k->trans_b);
  tb_attr_float(n, "alpha", k->alpha);
  tb_attr_float(n, "beta", k->beta);
  tb_output(g, batch_norm(g, n->out[0], 5, NULL)->out[0]);
  tb_infer(g);
  return g;
}

static void test_gemm(void) {
  static const GemmCase cases[] = {
      {true, 1, 1, 1}, {false, 2, 0.5f, 2}, {true, 0, 1, 1}, {false, 1, 2, 0}, {true, 2, 1, 0.5f},
  };
  enum { N = sizeof cases / sizeof cases[0] };
  Graph *plain[N], *folded[N];
  for (int k = 0; k < N; k++) {
    plain[k] = gemm_bn(&cases[k]);
    Graph *g = folded[k] = gemm_bn(&cases[k]);
    tb_passes(g);
    Node *anchor = g->outputs[0]->producer;
    CU_ASSERT_EQUAL_FATAL(anchor->op->kind, OP_GEMM);
    CU_ASSERT_EQUAL(attr_float(anchor, "beta", 1), 1);
    CU_ASSERT_EQUAL(anchor->n_in, 3);
    /* C stays one row unless it had one per row */
    CU_ASSERT_EQUAL(anchor->in[2]->rank, cases[k].c_rank == 2 ? 2 : 1);
  }
  CU_ASSERT_EQUAL(tb_compare_graph_pairs(N, plain, folded, CLOSE), 0);
}

/* Weights of 1e30 times a multiplier of about 1e10 overflow float: the BatchNormalization stays. The Conv
 * reads the same input twice with weights 1e30 and -1e30, so its result, and the normalized one, stay finite. */
static Graph *overflowing(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 4));
  Value *twice = tb_node(g, "Concat", 2, (Value *[]){x, x}, 1)->out[0];
  tb_attr_int(twice->producer, "axis", 1);
  float w[2] = {1e30f, -1e30f}, one = 1, scale = 1e10f, zero = 0, var = 0.5f;
  Value *weights = tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(1, 2, 1, 1), w);
  Value *y = tb_node(g, "Conv", 2, (Value *[]){twice, weights}, 1)->out[0];
  Value *ins[5] = {y, tb_const(g, "scale", DT_FLOAT, 1, TB_DIMS(1), &scale),
                   tb_const(g, "bias", DT_FLOAT, 1, TB_DIMS(1), &one),
                   tb_const(g, "mean", DT_FLOAT, 1, TB_DIMS(1), &zero),
                   tb_const(g, "var", DT_FLOAT, 1, TB_DIMS(1), &var)};
  tb_output(g, tb_node(g, "BatchNormalization", 5, ins, 1)->out[0]);
  tb_infer(g);
  return g;
}

static void test_non_finite_stays(void) {
  Graph *plain = overflowing(), *g = overflowing();
  tb_passes(g);
  Node *bn = g->outputs[0]->producer;
  CU_ASSERT_EQUAL_FATAL(bn->op->kind, OP_BATCH_NORMALIZATION);
  CU_ASSERT_FALSE(bn->dead);
  CU_ASSERT_PTR_NULL(bn->in[0]->producer->fusion);
  CU_ASSERT_EQUAL(tb_compare_graphs(plain, g, 0), 0);
}

static void not_folded(Graph *g) {
  tb_passes(g);
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i]->op->kind == OP_BATCH_NORMALIZATION)
      CU_ASSERT_FALSE(g->nodes[i]->dead);
}

/* What must stay: the training form, statistics known only at run time, a Conv result read elsewhere. */
static void test_left_alone(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(2, 4, 5, 5));
  Node *bn = batch_norm(g, conv(g, x, 4, 1, true)->out[0], 4, NULL);
  tb_attr_int(bn, "training_mode", 1);
  tb_output(g, bn->out[0]);
  tb_infer(g);
  not_folded(g);

  g = tb_graph(17);
  x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 4, 5, 5));
  Value *mean = tb_input(g, "mean", DT_FLOAT, 1, TB_DIMS(4));
  tb_output(g, batch_norm(g, conv(g, x, 4, 1, true)->out[0], 4, mean)->out[0]);
  tb_infer(g);
  not_folded(g);

  g = tb_graph(17);
  x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 4, 5, 5));
  Value *y = conv(g, x, 4, 1, true)->out[0];
  tb_output(g, batch_norm(g, y, 4, NULL)->out[0]);
  tb_output(g, y);
  tb_infer(g);
  not_folded(g);
}

CU_TestInfo fold_bn_tests[] = {
    {"conv", test_conv},
    {"conv_arithmetic", test_conv_arithmetic},
    {"gemm", test_gemm},
    {"non_finite_stays", test_non_finite_stays},
    {"left_alone", test_left_alone},
    CU_TEST_INFO_NULL,
};
