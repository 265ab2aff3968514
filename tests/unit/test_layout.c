/* The layout pass and the SIMD Conv kernels through the whole emitter: where reorders go, what layouts values
 * get, and graphs compiled for every SIMD target this machine runs (gcc and clang) against references computed
 * by the driver, fused epilogues included. */
#include "testutil.h"

#include <string.h>

static const char *const compilers[] = {"gcc", "clang"};

static float *random_floats(int64_t count, unsigned seed) {
  float *v = cn_alloc_array((size_t)count, sizeof *v);
  for (int64_t i = 0; i < count; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
  return v;
}

/* A 1x1 Conv from x (c channels) with m output channels and random constant weights and bias. */
static Node *pointwise(Graph *g, Value *x, int64_t c, int64_t m, unsigned seed) {
  Value *ins[3] = {x, tb_const(g, cn_format("w%u", seed), DT_FLOAT, 4, TB_DIMS(m, c, 1, 1), random_floats(m * c, seed)),
                   tb_const(g, cn_format("b%u", seed), DT_FLOAT, 1, TB_DIMS(m), random_floats(m, seed + 1))};
  return tb_node(g, "Conv", 3, ins, 1);
}

static int count_ops(const Graph *g, OpKind kind) {
  int count = 0;
  for (int i = 0; i < g->n_nodes; i++)
    count += !g->nodes[i]->dead && g->nodes[i]->op->kind == kind;
  return count;
}

/* x -> conv A -> conv B -> Relu (portable) -> conv C -> y, with B's output also read by a second Relu. */
typedef struct Chain {
  Graph *g;
  Node *a, *b, *relu, *relu2, *c;
} Chain;

static Chain chain(void) {
  Chain k;
  k.g = tb_graph(13);
  Value *x = tb_input(k.g, "x", DT_FLOAT, 4, TB_DIMS(1, 20, 3, 5));
  k.a = pointwise(k.g, x, 20, 24, 1);
  k.b = pointwise(k.g, k.a->out[0], 24, 17, 2);
  k.relu = tb_node(k.g, "Relu", 1, (Value *[]){k.b->out[0]}, 1);
  k.relu2 = tb_node(k.g, "Relu", 1, (Value *[]){k.b->out[0]}, 1);
  k.c = pointwise(k.g, k.relu->out[0], 17, 9, 3);
  tb_output(k.g, k.c->out[0]);
  tb_output(k.g, k.relu2->out[0]);
  tb_infer(k.g);
  return k;
}

static void test_generic_untouched(void) {
  Chain k = chain();
  int nodes = k.g->n_nodes;
  layout_assign(k.g, TARGET_GENERIC);
  CU_ASSERT_EQUAL(k.g->n_nodes, nodes);
  for (int i = 0; i < k.g->n_values; i++)
    CU_ASSERT_EQUAL(k.g->values[i]->layout, LAYOUT_ROW_MAJOR);
  CU_ASSERT_PTR_NULL(k.a->kernel);
}

static void test_reorders_at_edges(void) {
  Chain k = chain();
  Value *y = k.c->out[0];
  layout_assign(k.g, TARGET_AVX512);
  /* into A, out of B (once, for both Relus), into C, and out of C into the caller's buffer */
  CU_ASSERT_EQUAL(count_ops(k.g, OP_REORDER), 4);
  CU_ASSERT_PTR_NOT_NULL(k.a->kernel);
  CU_ASSERT_EQUAL(k.a->in[0]->layout, LAYOUT_NCHWC);
  CU_ASSERT_EQUAL(k.a->in[0]->producer->op->kind, OP_REORDER);
  CU_ASSERT_EQUAL(k.a->out[0]->layout, LAYOUT_NCHWC);
  CU_ASSERT_EQUAL(k.a->out[0]->block, 16);
  CU_ASSERT_PTR_EQUAL(k.b->in[0], k.a->out[0]); /* blocked from A to B: no reorder */
  CU_ASSERT_EQUAL(k.relu->in[0]->layout, LAYOUT_ROW_MAJOR);
  CU_ASSERT_PTR_EQUAL(k.relu->in[0], k.relu2->in[0]);
  CU_ASSERT_EQUAL(k.relu->in[0]->producer->op->kind, OP_REORDER);
  /* the graph output stays row-major, written by a reorder from C's blocked result */
  CU_ASSERT_PTR_EQUAL(k.g->outputs[0], y);
  CU_ASSERT_EQUAL(y->layout, LAYOUT_ROW_MAJOR);
  CU_ASSERT_EQUAL(y->producer->op->kind, OP_REORDER);
  CU_ASSERT_PTR_EQUAL(y->producer->in[0], k.c->out[0]);
  CU_ASSERT_EQUAL(k.c->out[0]->layout, LAYOUT_NCHWC);
  /* padded storage: 17 channels take two blocks of 16 */
  CU_ASSERT_EQUAL(value_bytes(k.b->out[0]), 32 * 15 * 4);
  graph_verify(k.g);
}

static void test_layout_names(void) {
  Value v = {.rank = 4, .layout = LAYOUT_NCHWC, .block = 8};
  CU_ASSERT_STRING_EQUAL(layout_name(&v), "NCHW8c");
  v.layout = LAYOUT_ROW_MAJOR;
  CU_ASSERT_STRING_EQUAL(layout_name(&v), "");
}

/* A pointwise Conv with a fused epilogue, compiled for each target against the driver's reference. */
typedef struct FusedCase {
  int64_t batch, c, m, h, w;
  bool bias, residual;
  Activation act, post_act;
} FusedCase;

static const char *activation_c(const Activation *a, const char *x) {
  switch (a->kind) {
  case ACT_RELU:
    return cn_format("(%s > 0 ? %s : 0)", x, x);
  case ACT_CLIP:
    return cn_format("fmin(fmax(%s, %s), %s)", x, emit_float(a->alpha, DT_FLOAT), emit_float(a->beta, DT_FLOAT));
  case ACT_SIGMOID:
    return cn_format("(1 / (1 + exp(-%s)))", x);
  default:
    CU_ASSERT_EQUAL(a->kind, ACT_NONE);
    return x;
  }
}

static void run_fused_case(const FusedCase *k, Target target, const char *cc) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(k->batch, k->c, k->h, k->w));
  Value *r = k->residual ? tb_input(g, "r", DT_FLOAT, 4, TB_DIMS(k->batch, k->m, k->h, k->w)) : NULL;
  float *w = random_floats(k->m * k->c, 7), *b = random_floats(k->m, 8);
  Value *ins[3] = {x, tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(k->m, k->c, 1, 1), w),
                   k->bias ? tb_const(g, "b", DT_FLOAT, 1, TB_DIMS(k->m), b) : NULL};
  Node *n = tb_node(g, "Conv", k->bias ? 3 : 2, ins, 1);
  tb_output(g, n->out[0]);
  tb_infer(g);
  /* the fusion pass's result: the residual appended to the anchor's inputs */
  Fusion *f = cn_alloc(sizeof *f);
  *f = (Fusion){.bias = -1, .act = k->act, .residual = -1, .post_act = k->post_act};
  if (r) {
    Value **in = cn_alloc_array(4, sizeof *in);
    memcpy(in, n->in, (size_t)n->n_in * sizeof *in);
    f->residual = 3;
    in[3] = r;
    n->in = in;
    n->n_in = 4;
  }
  n->fusion = f;

  int64_t pixels = k->h * k->w, x_count = k->batch * k->c * pixels, y_count = k->batch * k->m * pixels;
  char *driver = cn_format(
      "int main(void) {\n"
      "  static float x[%lld], r[%lld], y[%lld], w[%lld], b[%lld];\n"
      "  unsigned seed = 7;\n"
      "  for (int i = 0; i < %lld; i++) { seed = seed * 1664525u + 1013904223u; w[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f; }\n"
      "  seed = 8;\n"
      "  for (int i = 0; i < %lld; i++) { seed = seed * 1664525u + 1013904223u; b[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f; }\n"
      "  for (int i = 0; i < %lld; i++) x[i] = (float)((i * 37) %% 101) / 50.0f - 1.0f;\n"
      "  for (int i = 0; i < %lld; i++) r[i] = (float)((i * 53) %% 97) / 48.0f - 1.0f;\n"
      "  (void)b;\n"
      "  const void *inputs[] = {x, r};\n"
      "  void *outputs[] = {y};\n"
      "  if (model_run(inputs, outputs) != 0) return 1;\n"
      "  for (int n = 0; n < %lld; n++)\n"
      "    for (int m = 0; m < %lld; m++)\n"
      "      for (int p = 0; p < %lld; p++) {\n"
      "        double acc = %s, scale = 1;\n"
      "        for (int c = 0; c < %lld; c++) {\n"
      "          double t = (double)w[m * %lld + c] * x[(n * %lld + c) * %lld + p];\n"
      "          acc += t, scale += fabs(t);\n"
      "        }\n"
      "        const int at = (n * %lld + m) * %lld + p;\n"
      "        double ref = %s;\n"
      "        %s\n"
      "        if (fabs(y[at] - ref) > 1e-5 * scale) {\n"
      "          printf(\"y[%%d] = %%g, expected %%g\\n\", at, y[at], ref);\n"
      "          return 2;\n"
      "        }\n"
      "      }\n"
      "  return 0;\n"
      "}\n",
      (long long)x_count, (long long)(r ? y_count : 1), (long long)y_count, (long long)(k->m * k->c), (long long)k->m,
      (long long)(k->m * k->c), (long long)k->m, (long long)x_count, (long long)(r ? y_count : 1), (long long)k->batch,
      (long long)k->m, (long long)pixels, k->bias ? "b[m]" : "0", (long long)k->c, (long long)k->c, (long long)k->c,
      (long long)pixels, (long long)k->m, (long long)pixels, activation_c(&k->act, "acc"),
      r ? cn_format("ref = %s;", activation_c(&k->post_act, "(ref + r[at])")) : "(void)r;");
  int status = tb_compile_and_run_target(g, driver, target, cc, NULL);
  if (status != 0)
    fprintf(stderr, "pointwise %lldx%lld -> %lld on %s with %s: status %d\n", (long long)k->c, (long long)pixels,
            (long long)k->m, target_name(target), cc, status);
  CU_ASSERT_EQUAL(status, 0);
  CU_ASSERT_PTR_NOT_NULL(n->kernel);
}

static const FusedCase fused_cases[] = {
    {2, 20, 24, 5, 7, true, false, {ACT_RELU, 0, 0}, {ACT_NONE, 0, 0}},
    {1, 3, 5, 1, 1, true, true, {ACT_NONE, 0, 0}, {ACT_RELU, 0, 0}},
    {1, 33, 40, 4, 4, false, true, {ACT_RELU, 0, 0}, {ACT_CLIP, 0, 6}},
    {1, 16, 10, 3, 3, true, false, {ACT_SIGMOID, 0, 0}, {ACT_NONE, 0, 0}},
};

static void test_pointwise_fused(void) {
  Target targets[4];
  int n = tb_host_targets(targets);
  if (n == 0)
    CU_FAIL("this machine runs no SIMD target");
  for (size_t i = 0; i < sizeof fused_cases / sizeof fused_cases[0]; i++)
    for (int t = 0; t < n; t++)
      for (size_t c = 0; c < sizeof compilers / sizeof compilers[0]; c++)
        run_fused_case(&fused_cases[i], targets[t], compilers[c]);
}

CU_TestInfo layout_tests[] = {
    {"generic_untouched", test_generic_untouched},
    {"reorders_at_edges", test_reorders_at_edges},
    {"layout_names", test_layout_names},
    {"pointwise_fused", test_pointwise_fused},
    CU_TEST_INFO_NULL,
};
