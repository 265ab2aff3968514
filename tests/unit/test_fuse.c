/* Epilogue fusion (fuse.c) and its portable C (ops/epilogue.c): each test builds a small graph twice, fuses one
 * copy, checks what the pass took over, and runs both copies on the same inputs: fused and unfused must agree. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tolerance for fused against unfused code: the epilogue uses the ops' own formulas in the same order, so the
 * results differ by nothing but what the C compiler may reorder. */
#define SAME 1e-6

/* A constant of pseudo-random values in [-0.5, 0.5), different per seed. */
static Value *weights(Graph *g, const char *name, int rank, const int64_t *dims, unsigned seed) {
  int64_t count = 1;
  for (int i = 0; i < rank; i++)
    count *= dims[i];
  float *v = cn_alloc_array((size_t)count + 1, sizeof *v);
  unsigned s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < count; i++) {
    s = s * 1103515245u + 12345u;
    v[i] = (float)((s >> 8) & 0xffff) / 0x10000 - 0.5f;
  }
  return tb_const(g, name, DT_FLOAT, rank, dims, v);
}

static Value *scalar(Graph *g, const char *name, float x) { return tb_const(g, name, DT_FLOAT, 0, NULL, &x); }

typedef struct ConvSpec {
  int64_t maps, kernel, stride, pad, group;
  bool bias;
  int64_t channels; /* of x, when its shape is not inferred yet (0: read it from x) */
} ConvSpec;

static Node *conv(Graph *g, Value *x, ConvSpec s, unsigned seed) {
  int64_t channels = s.channels ? s.channels : x->dims[1];
  Value *ins[3] = {x, weights(g, cn_format("w%u", seed), 4, TB_DIMS(s.maps, channels / (s.group ? s.group : 1),
                                                                       s.kernel, s.kernel), seed)};
  if (s.bias)
    ins[2] = weights(g, cn_format("b%u", seed), 1, TB_DIMS(s.maps), seed + 1000);
  Node *n = tb_node(g, "Conv", s.bias ? 3 : 2, ins, 1);
  tb_attr_ints(n, "pads", 4, TB_DIMS(s.pad, s.pad, s.pad, s.pad));
  tb_attr_ints(n, "strides", 2, TB_DIMS(s.stride, s.stride));
  tb_attr_int(n, "group", s.group ? s.group : 1);
  return n;
}

/* Activations as the graph spells them; SiLU is two nodes. */
typedef enum { RELU, LEAKY_RELU, CLIP6, CLIP_MIN_ONLY, SIGMOID, HARD_SIGMOID, HARD_SWISH, TANH, SILU, N_ACTS } Act;
static const ActKind act_kinds[N_ACTS] = {ACT_RELU, ACT_LEAKY_RELU, ACT_CLIP, ACT_CLIP, ACT_SIGMOID,
                                          ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_TANH, ACT_SILU};

static Value *activation(Graph *g, Value *x, Act a) {
  Node *n;
  switch (a) {
  case RELU: return tb_node(g, "Relu", 1, &x, 1)->out[0];
  case LEAKY_RELU:
    n = tb_node(g, "LeakyRelu", 1, &x, 1);
    tb_attr_float(n, "alpha", 0.125f);
    return n->out[0];
  case CLIP6: return tb_node(g, "Clip", 3, (Value *[]){x, scalar(g, "lo", 0), scalar(g, "hi", 6)}, 1)->out[0];
  case CLIP_MIN_ONLY: return tb_node(g, "Clip", 2, (Value *[]){x, scalar(g, "lo", -0.25f)}, 1)->out[0];
  case SIGMOID: return tb_node(g, "Sigmoid", 1, &x, 1)->out[0];
  case HARD_SIGMOID:
    n = tb_node(g, "HardSigmoid", 1, &x, 1);
    tb_attr_float(n, "alpha", 0.3f);
    tb_attr_float(n, "beta", 0.4f);
    return n->out[0];
  case HARD_SWISH: return tb_node(g, "HardSwish", 1, &x, 1)->out[0];
  case TANH: return tb_node(g, "Tanh", 1, &x, 1)->out[0];
  case SILU: {
    Value *s = tb_node(g, "Sigmoid", 1, &x, 1)->out[0];
    return tb_node(g, "Mul", 2, (Value *[]){x, s}, 1)->out[0];
  }
  case N_ACTS: break;
  }
  CU_FAIL_FATAL("unknown activation");
  return NULL;
}

/* The live node computing v, after the passes. */
static Node *producer(Value *v) {
  CU_ASSERT_PTR_NOT_NULL_FATAL(v->producer);
  CU_ASSERT_FATAL(!v->producer->dead);
  return v->producer;
}

static int live_nodes(const Graph *g) {
  int count = 0;
  for (int i = 0; i < g->n_nodes; i++)
    count += !g->nodes[i]->dead;
  return count;
}

/* The pairs again with the fused copy laid out for each SIMD target this machine runs: every fused anchor must
 * get a template kernel (no silent fallback to portable C) that computes its window in NCHWc, unless
 * `portable_ok` says the case is too big for one, and agree with the unfused portable code within float
 * rounding: the kernels sum in another order, and a 3x3 Conv may run as Winograd F(4x4,3x3), whose rounding
 * differs from the direct sum's by up to about 2e-5 of the output's scale. */
#define SIMD_CLOSE 5e-5

typedef Graph *(*BuildCase)(const void *spec);

static void compare_on_simd_targets(int n, BuildCase build, const void *specs, size_t spec_size,
                                    const bool *portable_ok) {
  Target targets[4];
  int n_targets = tb_host_targets(targets);
  for (int i = 0; i < n_targets; i++) {
    Graph *plain[24], *simd[24];
    for (int k = 0; k < n; k++) {
      const void *spec = (const char *)specs + (size_t)k * spec_size;
      plain[k] = build(spec);
      simd[k] = build(spec);
      tb_passes_for(simd[k], targets[i]);
      for (int j = 0; j < simd[k]->n_nodes; j++) {
        const Node *a = simd[k]->nodes[j];
        if (a->dead || !a->fusion || !a->fusion->window || (portable_ok && portable_ok[k]))
          continue;
        CU_ASSERT_PTR_NOT_NULL_FATAL(a->kernel);
        CU_ASSERT_PTR_NOT_NULL(strstr(a->kernel, "fused"));
      }
    }
    int status = tb_compare_graph_pairs_on(targets[i], n, plain, simd, SIMD_CLOSE);
    if (status)
      fprintf(stderr, "target %s: status %d\n", target_name(targets[i]), status);
    CU_ASSERT_EQUAL(status, 0);
  }
}

/* Conv, then one activation. The convolution's results span several units, so every activation sees its flat
 * and its steep parts. */
static Graph *conv_activation(Act a) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(2, 3, 9, 7));
  Node *c = conv(g, x, (ConvSpec){.maps = 12, .kernel = 3, .stride = 2, .pad = 1, .bias = true}, 7);
  tb_output(g, activation(g, c->out[0], a));
  tb_infer(g);
  return g;
}

static void test_conv_activations(void) {
  Graph *plain[N_ACTS], *fused[N_ACTS];
  for (Act a = 0; a < N_ACTS; a++) {
    plain[a] = conv_activation(a);
    fused[a] = conv_activation(a);
    tb_passes(fused[a]);
    Node *anchor = producer(fused[a]->outputs[0]);
    CU_ASSERT_EQUAL(anchor->op->kind, OP_CONV);
    CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion);
    CU_ASSERT_EQUAL(anchor->fusion->act.kind, act_kinds[a]);
    CU_ASSERT_EQUAL(anchor->fusion->n_covers, a == SILU ? 3 : 2);
    CU_ASSERT_EQUAL(live_nodes(fused[a]), 1);
    if (a == LEAKY_RELU)
      CU_ASSERT_EQUAL(anchor->fusion->act.alpha, 0.125f);
    if (a == CLIP6) {
      CU_ASSERT_EQUAL(anchor->fusion->act.alpha, 0);
      CU_ASSERT_EQUAL(anchor->fusion->act.beta, 6);
    }
    if (a == HARD_SIGMOID) {
      CU_ASSERT_EQUAL(anchor->fusion->act.alpha, 0.3f);
      CU_ASSERT_EQUAL(anchor->fusion->act.beta, 0.4f);
    }
  }
  CU_ASSERT_EQUAL(tb_compare_graph_pairs(N_ACTS, plain, fused, SAME), 0);
}

/* Gemm (both weight layouts), Relu, Add of a graph input, Sigmoid. */
static Graph *gemm_chain(bool trans_b) {
  Graph *g = tb_graph(17);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(3, 20));
  Value *r = tb_input(g, "r", DT_FLOAT, 2, TB_DIMS(3, 17));
  Value *b = weights(g, "b", 2, trans_b ? TB_DIMS(17, 20) : TB_DIMS(20, 17), 3);
  Node *n = tb_node(g, "Gemm", 3, (Value *[]){a, b, weights(g, "c", 1, TB_DIMS(17), 4)}, 1);
  tb_attr_int(n, "transB", trans_b);
  tb_attr_float(n, "alpha", 0.5f);
  Value *y = tb_node(g, "Relu", 1, &n->out[0], 1)->out[0];
  y = tb_node(g, "Add", 2, (Value *[]){r, y}, 1)->out[0];
  tb_output(g, tb_node(g, "Sigmoid", 1, &y, 1)->out[0]);
  tb_infer(g);
  return g;
}

static void test_gemm_residual(void) {
  Graph *plain[2], *fused[2];
  for (int trans_b = 0; trans_b < 2; trans_b++) {
    plain[trans_b] = gemm_chain(trans_b);
    fused[trans_b] = gemm_chain(trans_b);
    tb_passes(fused[trans_b]);
    Node *anchor = producer(fused[trans_b]->outputs[0]);
    CU_ASSERT_EQUAL(anchor->op->kind, OP_GEMM);
    CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion);
    CU_ASSERT_EQUAL(anchor->fusion->act.kind, ACT_RELU);
    CU_ASSERT_EQUAL(anchor->fusion->residual, 3);
    CU_ASSERT_PTR_EQUAL(anchor->in[3], fused[trans_b]->inputs[1]);
    CU_ASSERT_EQUAL(anchor->fusion->post_act.kind, ACT_SIGMOID);
    CU_ASSERT_EQUAL(anchor->fusion->n_covers, 4);
  }
  CU_ASSERT_EQUAL(tb_compare_graph_pairs(2, plain, fused, SAME), 0);
}

/* Batched MatMul, Add of a per-column constant, Tanh, Add of a tensor, HardSwish. */
static Graph *matmul_chain(int bias_rank) {
  Graph *g = tb_graph(17);
  Value *a = tb_input(g, "a", DT_FLOAT, 3, TB_DIMS(2, 3, 4));
  Value *r = tb_input(g, "r", DT_FLOAT, 3, TB_DIMS(2, 3, 5));
  Value *y = tb_node(g, "MatMul", 2, (Value *[]){a, weights(g, "b", 2, TB_DIMS(4, 5), 5)}, 1)->out[0];
  Value *bias = weights(g, "bias", bias_rank, bias_rank == 1 ? TB_DIMS(5) : TB_DIMS(1, 1, 5), 6);
  y = tb_node(g, "Add", 2, (Value *[]){y, bias}, 1)->out[0];
  y = tb_node(g, "Tanh", 1, &y, 1)->out[0];
  y = tb_node(g, "Add", 2, (Value *[]){y, r}, 1)->out[0];
  tb_output(g, tb_node(g, "HardSwish", 1, &y, 1)->out[0]);
  tb_infer(g);
  return g;
}

static void test_matmul_bias(void) {
  Graph *plain[2], *fused[2];
  for (int k = 0; k < 2; k++) {
    plain[k] = matmul_chain(k ? 3 : 1);
    fused[k] = matmul_chain(k ? 3 : 1);
    tb_passes(fused[k]);
    Node *anchor = producer(fused[k]->outputs[0]);
    CU_ASSERT_EQUAL(anchor->op->kind, OP_MATMUL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion);
    CU_ASSERT_EQUAL(anchor->fusion->bias, 2);
    CU_ASSERT_PTR_NOT_NULL(anchor->in[2]->data);
    CU_ASSERT_EQUAL(anchor->fusion->act.kind, ACT_TANH);
    CU_ASSERT_EQUAL(anchor->fusion->residual, 3);
    CU_ASSERT_EQUAL(anchor->fusion->post_act.kind, ACT_HARD_SWISH);
    CU_ASSERT_EQUAL(live_nodes(fused[k]), 1);
  }
  CU_ASSERT_EQUAL(tb_compare_graph_pairs(2, plain, fused, SAME), 0);
}

/* A MatMul's Add of a constant that is not one value per column is a residual, not a bias. */
static void test_matmul_add_of_matrix(void) {
  Graph *g = tb_graph(17);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(3, 4));
  Value *y = tb_node(g, "MatMul", 2, (Value *[]){a, weights(g, "b", 2, TB_DIMS(4, 5), 5)}, 1)->out[0];
  tb_output(g, tb_node(g, "Add", 2, (Value *[]){y, weights(g, "c", 2, TB_DIMS(3, 5), 6)}, 1)->out[0]);
  tb_infer(g);
  tb_passes(g);
  Node *anchor = producer(g->outputs[0]);
  CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion);
  CU_ASSERT_EQUAL(anchor->fusion->bias, -1);
  CU_ASSERT_EQUAL(anchor->fusion->residual, 2);
}

/* ResNet's block end: Conv, Add of the block's input (either operand order), Relu. */
static Graph *conv_residual(bool conv_first) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 6, 8, 8));
  Value *y = conv(g, x, (ConvSpec){.maps = 6, .kernel = 3, .stride = 1, .pad = 1, .bias = true}, 2)->out[0];
  y = tb_node(g, "Add", 2, conv_first ? (Value *[]){y, x} : (Value *[]){x, y}, 1)->out[0];
  tb_output(g, tb_node(g, "Relu", 1, &y, 1)->out[0]);
  tb_infer(g);
  return g;
}

static Graph *build_conv_residual(const void *conv_first) { return conv_residual(*(const bool *)conv_first); }

static void test_conv_residual(void) {
  Graph *plain[2], *fused[2];
  for (int conv_first = 0; conv_first < 2; conv_first++) {
    plain[conv_first] = conv_residual(conv_first);
    fused[conv_first] = conv_residual(conv_first);
    tb_passes(fused[conv_first]);
    Node *anchor = producer(fused[conv_first]->outputs[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion);
    CU_ASSERT_EQUAL(anchor->fusion->act.kind, ACT_NONE);
    CU_ASSERT_EQUAL(anchor->fusion->residual, 3);
    CU_ASSERT_PTR_EQUAL(anchor->in[3], fused[conv_first]->inputs[0]);
    CU_ASSERT_EQUAL(anchor->fusion->post_act.kind, ACT_RELU);
  }
  CU_ASSERT_EQUAL(tb_compare_graph_pairs(2, plain, fused, SAME), 0);
  compare_on_simd_targets(2, build_conv_residual, (const bool[]){false, true}, sizeof(bool), NULL);
}

/* Fusion stops at a value with another use: a second reader, or a graph output. */
static void test_other_uses_stop_fusion(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 5, 5));
  Value *y = conv(g, x, (ConvSpec){.maps = 2, .kernel = 1, .stride = 1, .bias = true}, 1)->out[0];
  Value *relu = tb_node(g, "Relu", 1, &y, 1)->out[0];
  tb_output(g, tb_node(g, "Tanh", 1, &y, 1)->out[0]); /* y read twice */
  tb_output(g, relu);
  /* an activation whose output is a graph output is fused, and the chain stops there */
  Value *z = conv(g, x, (ConvSpec){.maps = 2, .kernel = 1, .stride = 1, .bias = true}, 2)->out[0];
  Value *act = tb_node(g, "Sigmoid", 1, &z, 1)->out[0];
  tb_output(g, act);
  tb_output(g, tb_node(g, "Add", 2, (Value *[]){act, x}, 1)->out[0]);
  tb_infer(g);
  tb_passes(g);
  CU_ASSERT_PTR_NULL(y->producer->fusion);
  CU_ASSERT_FALSE(y->producer->dead);
  Node *second = producer(act);
  CU_ASSERT_EQUAL(second->op->kind, OP_CONV);
  CU_ASSERT_EQUAL(second->fusion->act.kind, ACT_SIGMOID);
  CU_ASSERT_EQUAL(second->fusion->residual, -1);
  CU_ASSERT_EQUAL(producer(g->outputs[3])->op->kind, OP_ADD);
}

/* Element-wise ops that are no activation (and ops whose parameters look nothing like one) stay on their own. */
static void test_other_ops_are_not_activations(void) {
  static const char *const ops[] = {"Exp", "Softmax", "Abs", "Elu", "Neg"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    Graph *g = tb_graph(17);
    Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 5, 5));
    Value *y = conv(g, x, (ConvSpec){.maps = 2, .kernel = 1, .stride = 1, .bias = true}, 1)->out[0];
    Node *n = tb_node(g, ops[k], 1, &y, 1);
    tb_output(g, n->out[0]);
    tb_infer(g);
    tb_passes(g);
    CU_ASSERT_FALSE(n->dead);
    CU_ASSERT_PTR_NULL(y->producer->fusion);
  }
}

/* SiLU needs the Sigmoid to read the same value and feed only the Mul. */
static void test_silu_pattern(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 5, 5));
  Value *y = conv(g, x, (ConvSpec){.maps = 2, .kernel = 1, .stride = 1, .bias = true}, 1)->out[0];
  Value *s = tb_node(g, "Sigmoid", 1, &y, 1)->out[0];
  tb_output(g, tb_node(g, "Mul", 2, (Value *[]){s, y}, 1)->out[0]);
  tb_output(g, s); /* the Sigmoid has another use */
  tb_infer(g);
  tb_passes(g);
  CU_ASSERT_PTR_NULL(y->producer->fusion);
}

/* Add's other operand computed after the anchor (the graph order keeps it there) is not fused as a residual. */
static void test_residual_computed_later(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 5, 5));
  Value *a = conv(g, x, (ConvSpec){.maps = 2, .kernel = 1, .stride = 1, .bias = true}, 1)->out[0];
  Value *b = conv(g, x, (ConvSpec){.maps = 2, .kernel = 3, .stride = 1, .pad = 1, .bias = true}, 2)->out[0];
  tb_output(g, tb_node(g, "Add", 2, (Value *[]){a, b}, 1)->out[0]);
  tb_infer(g);
  tb_passes(g);
  Node *first = a->producer, *second = producer(g->outputs[0]);
  CU_ASSERT_PTR_NULL(first->fusion);
  CU_ASSERT_PTR_EQUAL(second, b->producer);
  CU_ASSERT_PTR_NOT_NULL_FATAL(second->fusion);
  CU_ASSERT_PTR_EQUAL(second->in[second->fusion->residual], a);
}

/* Conv, activation, optional residual, then a pool: the conv's result is streamed through the pool by rows. */
typedef struct PoolCase {
  const char *op;
  int64_t height, width, kernel, stride, pad, dilation, batch;
  bool ceil_mode, count_include_pad, residual;
} PoolCase;

static Graph *conv_pool(const PoolCase *p) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(p->batch, 3, p->height, p->width));
  Value *y = conv(g, x, (ConvSpec){.maps = 12, .kernel = 3, .stride = 1, .pad = 1, .bias = true}, 11)->out[0];
  if (p->residual) {
    Value *r = tb_input(g, "r", DT_FLOAT, 4, TB_DIMS(p->batch, 12, p->height, p->width));
    y = tb_node(g, "Add", 2, (Value *[]){y, r}, 1)->out[0];
  }
  y = tb_node(g, "Relu", 1, &y, 1)->out[0];
  Node *pool = tb_node(g, p->op, 1, &y, 1);
  tb_attr_ints(pool, "kernel_shape", 2, TB_DIMS(p->kernel, p->kernel));
  tb_attr_ints(pool, "strides", 2, TB_DIMS(p->stride, p->stride));
  tb_attr_ints(pool, "pads", 4, TB_DIMS(p->pad, p->pad, p->pad, p->pad));
  if (p->dilation > 1)
    tb_attr_ints(pool, "dilations", 2, TB_DIMS(p->dilation, p->dilation));
  if (p->ceil_mode)
    tb_attr_int(pool, "ceil_mode", 1);
  if (p->count_include_pad)
    tb_attr_int(pool, "count_include_pad", 1);
  tb_output(g, pool->out[0]);
  tb_infer(g);
  return g;
}

static Graph *build_conv_pool(const void *spec) { return conv_pool(spec); }

static void test_conv_pool(void) {
  static const PoolCase cases[] = {
      {"MaxPool", 16, 16, 3, 2, 1, 1, 1, false, false, false},  /* ResNet's stem */
      {"MaxPool", 13, 11, 2, 2, 0, 1, 1, false, false, false},  /* LeNet's, odd sizes */
      {"MaxPool", 13, 11, 3, 2, 0, 1, 2, true, false, false},   /* ceil_mode, two batch items */
      {"MaxPool", 12, 12, 2, 3, 0, 1, 1, false, false, false},  /* stride > kernel: rows no window needs */
      {"MaxPool", 14, 14, 3, 1, 2, 2, 1, false, false, false},  /* dilation */
      {"AveragePool", 10, 9, 3, 2, 1, 1, 1, false, false, true}, /* a residual before the pool */
      {"AveragePool", 10, 9, 3, 2, 1, 1, 1, true, true, false},
      {"AveragePool", 3, 5, 5, 1, 2, 1, 1, false, false, false}, /* the window spans more rows than there are */
      {"MaxPool", 4, 700, 3, 2, 1, 1, 1, false, false, false},    /* rows so long the block shrinks to 2 */
  };
  enum { N = sizeof cases / sizeof cases[0] };
  Graph *plain[N], *fused[N];
  for (size_t k = 0; k < N; k++) {
    plain[k] = conv_pool(&cases[k]);
    fused[k] = conv_pool(&cases[k]);
    tb_passes(fused[k]);
    Node *anchor = producer(fused[k]->outputs[0]);
    CU_ASSERT_EQUAL(anchor->op->kind, OP_CONV);
    CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion);
    CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion->window);
    CU_ASSERT_STRING_EQUAL(anchor->fusion->window->op->name, cases[k].op);
    CU_ASSERT_EQUAL(cases[k].residual ? anchor->fusion->post_act.kind : anchor->fusion->act.kind, ACT_RELU);
    CU_ASSERT_EQUAL(live_nodes(fused[k]), 1);
    /* the conv's result has no storage: only the pool's output does, and it is the caller's */
    CU_ASSERT_EQUAL(plan_memory(fused[k]).arena_bytes, 0);
  }
  CU_ASSERT_EQUAL(tb_compare_graph_pairs(N, plain, fused, SAME), 0);
  /* the last case's ring (3 rows of 700 vectors) is beyond what a SIMD kernel keeps on the stack */
  bool portable_ok[N] = {[N - 1] = true};
  compare_on_simd_targets(N, build_conv_pool, cases, sizeof cases[0], portable_ok);
}

/* Rows too long for a ring on the stack (3 rows of 1500 floats) stay unfused. */
static void test_pool_rows_too_long(void) {
  PoolCase wide = {"MaxPool", 4, 1500, 3, 2, 1, 1, 1, false, false, false};
  Graph *g = conv_pool(&wide);
  tb_passes(g);
  Node *anchor = g->outputs[0]->producer->in[0]->producer;
  CU_ASSERT_EQUAL_FATAL(anchor->op->kind, OP_CONV);
  CU_ASSERT_PTR_NOT_NULL_FATAL(anchor->fusion);
  CU_ASSERT_EQUAL(anchor->fusion->act.kind, ACT_RELU);
  CU_ASSERT_PTR_NULL(anchor->fusion->window);
  CU_ASSERT_FALSE(g->outputs[0]->producer->dead);
}

/* A MaxPool with its Indices output is not a window. */
static void test_pool_with_indices(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 2, 6, 6));
  Value *y = conv(g, x, (ConvSpec){.maps = 2, .kernel = 1, .stride = 1, .bias = true}, 1)->out[0];
  Node *pool = tb_node(g, "MaxPool", 1, &y, 2);
  tb_attr_ints(pool, "kernel_shape", 2, TB_DIMS(2, 2));
  tb_output(g, pool->out[0]);
  tb_output(g, pool->out[1]);
  tb_infer(g);
  tb_passes(g);
  CU_ASSERT_FALSE(pool->dead);
  CU_ASSERT_PTR_NULL(y->producer->fusion);
}

/* MobileNetV2's expand (1x1 Conv + ReLU6) and depthwise Conv (+ ReLU6), then the projection with a residual. */
typedef struct DepthwiseCase {
  int64_t height, width, kernel, stride, pad, dilation;
  bool dw_bias;
  Act dw_act; /* N_ACTS: none */
} DepthwiseCase;

static Graph *expand_depthwise(const DepthwiseCase *d) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 4, d->height, d->width));
  Value *y = conv(g, x, (ConvSpec){.maps = 24, .kernel = 1, .stride = 1, .bias = true}, 21)->out[0];
  y = activation(g, y, CLIP6);
  Node *dw = conv(g, y, (ConvSpec){.maps = 24, .kernel = d->kernel, .stride = d->stride, .pad = d->pad,
                                   .group = 24, .bias = d->dw_bias, .channels = 24}, 22);
  if (d->dilation > 1)
    tb_attr_ints(dw, "dilations", 2, TB_DIMS(d->dilation, d->dilation));
  y = d->dw_act == N_ACTS ? dw->out[0] : activation(g, dw->out[0], d->dw_act);
  Value *z = conv(g, y, (ConvSpec){.maps = 4, .kernel = 1, .stride = 1, .bias = true, .channels = 24}, 23)->out[0];
  tb_output(g, d->stride == 1 && d->pad * 2 == (d->kernel - 1) * d->dilation
                   ? tb_node(g, "Add", 2, (Value *[]){x, z}, 1)->out[0]
                   : z);
  tb_infer(g);
  return g;
}

static Graph *build_expand_depthwise(const void *spec) { return expand_depthwise(spec); }

static void test_expand_depthwise(void) {
  static const DepthwiseCase cases[] = {
      {12, 12, 3, 1, 1, 1, true, CLIP6},  /* MobileNetV2's stride-1 block, with its residual */
      {12, 11, 3, 2, 1, 1, true, CLIP6},  /* its stride-2 block */
      {9, 10, 5, 1, 4, 2, false, N_ACTS}, /* dilated, no bias, no activation */
      {7, 7, 3, 2, 0, 1, true, SILU},     /* no padding, a two-node activation */
      {6, 20, 3, 1, 1, 1, true, HARD_SIGMOID}, /* 0 -> 0.4: padded channels must be cleared again */
      /* an image too large for the SIMD kernel to hold whole: its rows go through a ring (conv_simd.c) */
      {30, 30, 3, 1, 1, 1, true, CLIP6},
  };
  enum { N = sizeof cases / sizeof cases[0] };
  Graph *plain[N], *fused[N];
  for (size_t k = 0; k < N; k++) {
    plain[k] = expand_depthwise(&cases[k]);
    Graph *g = fused[k] = expand_depthwise(&cases[k]);
    tb_passes(g);
    Node *expand = NULL;
    for (int i = 0; i < g->n_nodes; i++)
      if (!g->nodes[i]->dead && g->nodes[i]->fusion && g->nodes[i]->fusion->window)
        expand = g->nodes[i];
    CU_ASSERT_PTR_NOT_NULL_FATAL(expand);
    const Fusion *f = expand->fusion;
    CU_ASSERT_EQUAL(f->window->op->kind, OP_CONV);
    CU_ASSERT_EQUAL(f->act.kind, ACT_CLIP);
    CU_ASSERT_EQUAL(f->window_in, 3);
    CU_ASSERT_PTR_EQUAL(expand->in[3], f->window->in[1]);
    CU_ASSERT_EQUAL(expand->n_in, cases[k].dw_bias ? 5 : 4);
    CU_ASSERT_EQUAL(f->window_act.kind, cases[k].dw_act == N_ACTS ? ACT_NONE : act_kinds[cases[k].dw_act]);
    CU_ASSERT_EQUAL(live_nodes(g), 2);
  }
  CU_ASSERT_EQUAL(tb_compare_graph_pairs(N, plain, fused, SAME), 0);
  compare_on_simd_targets(N, build_expand_depthwise, cases, sizeof cases[0], NULL);
  /* the first case's 12x12 image fits the SIMD kernel whole, the last one's 30x30 goes through the ring */
  Target targets[4];
  int n_targets = tb_host_targets(targets);
  for (int i = 0; i < n_targets; i++)
    for (size_t k = 0; k < N; k += N - 1) {
      Graph *g = expand_depthwise(&cases[k]);
      tb_passes_for(g, targets[i]);
      const char *kernel = NULL;
      for (int j = 0; j < g->n_nodes; j++)
        if (!g->nodes[j]->dead && g->nodes[j]->fusion && g->nodes[j]->fusion->window)
          kernel = g->nodes[j]->kernel;
      CU_ASSERT_PTR_NOT_NULL_FATAL(kernel);
      CU_ASSERT_PTR_NOT_NULL(strstr(kernel, k == 0 ? "on the whole image" : "on a ring of rows"));
    }
}

/* A depthwise Conv after a 3x3 Conv runs as an anchor of its own. */
static void test_depthwise_needs_pointwise_anchor(void) {
  Graph *g = tb_graph(17);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 4, 8, 8));
  Value *y = conv(g, x, (ConvSpec){.maps = 8, .kernel = 3, .stride = 1, .pad = 1, .bias = true}, 1)->out[0];
  Node *dw = conv(g, y, (ConvSpec){.maps = 8, .kernel = 3, .stride = 1, .pad = 1, .group = 8, .bias = true,
                                   .channels = 8}, 2);
  tb_output(g, tb_node(g, "Relu", 1, &dw->out[0], 1)->out[0]);
  tb_infer(g);
  tb_passes(g);
  CU_ASSERT_PTR_NULL(y->producer->fusion);
  CU_ASSERT_FALSE(dw->dead);
  CU_ASSERT_EQUAL(dw->fusion->act.kind, ACT_RELU);
}

/* The generated function of a fused group names every node it covers. */
static void test_function_comment_lists_covers(void) {
  PoolCase stem = {"MaxPool", 16, 16, 3, 2, 1, 1, 1, false, false, true};
  Graph *g = conv_pool(&stem);
  tb_passes(g);
  char *text;
  size_t len;
  FILE *c = open_memstream(&text, &len), *h = fopen("/dev/null", "w");
  EmitOptions o = {.prefix = "model", .command_line = "unit test", .header_name = "model.h"};
  g->path = "/dev/null";
  Plan plan = plan_memory(g);
  emit_c(g, &plan, &o, c, h);
  fclose(c);
  fclose(h);
  const Fusion *f = producer(g->outputs[0])->fusion;
  CU_ASSERT_EQUAL_FATAL(f->n_covers, 4);
  for (int k = 0; k < f->n_covers; k++)
    CU_ASSERT_PTR_NOT_NULL(strstr(text, cn_format("%s '%s' (ONNX node %d)", f->covers[k]->op->name,
                                                   f->covers[k]->name, f->covers[k]->id)));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "residual X3"));
  free(text);
}

CU_TestInfo fuse_tests[] = {
    {"conv_activations", test_conv_activations},
    {"gemm_residual", test_gemm_residual},
    {"matmul_bias", test_matmul_bias},
    {"matmul_add_of_matrix", test_matmul_add_of_matrix},
    {"conv_residual", test_conv_residual},
    {"other_uses_stop_fusion", test_other_uses_stop_fusion},
    {"other_ops_are_not_activations", test_other_ops_are_not_activations},
    {"silu_pattern", test_silu_pattern},
    {"residual_computed_later", test_residual_computed_later},
    {"conv_pool", test_conv_pool},
    {"pool_rows_too_long", test_pool_rows_too_long},
    {"pool_with_indices", test_pool_with_indices},
    {"expand_depthwise", test_expand_depthwise},
    {"depthwise_needs_pointwise_anchor", test_depthwise_needs_pointwise_anchor},
    {"function_comment_lists_covers", test_function_comment_lists_covers},
    CU_TEST_INFO_NULL,
};
