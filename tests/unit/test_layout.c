/* The layout pass and the SIMD kernels through the whole emitter: where reorders go, what layouts values get,
 * and graphs compiled for every SIMD target this machine runs against references computed by the driver, fused
 * epilogues included. Each case is built with one compiler, gcc and clang taking turns (the template tests
 * build every kernel with both), which keeps the suite within its time limit on a busy machine. */
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

/* x -> conv A -> conv B -> Elu (no blocked kernel) -> conv C -> y, with B's output also read by a second Elu. */
typedef struct Chain {
  Graph *g;
  Node *a, *b, *elu, *elu2, *c;
} Chain;

static Chain chain(void) {
  Chain k;
  k.g = tb_graph(13);
  Value *x = tb_input(k.g, "x", DT_FLOAT, 4, TB_DIMS(1, 20, 3, 5));
  k.a = pointwise(k.g, x, 20, 24, 1);
  k.b = pointwise(k.g, k.a->out[0], 24, 17, 2);
  k.elu = tb_node(k.g, "Elu", 1, (Value *[]){k.b->out[0]}, 1);
  k.elu2 = tb_node(k.g, "Elu", 1, (Value *[]){k.b->out[0]}, 1);
  k.c = pointwise(k.g, k.elu->out[0], 17, 9, 3);
  tb_output(k.g, k.c->out[0]);
  tb_output(k.g, k.elu2->out[0]);
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
  /* into A, out of B (once, for both Elus), into C, and out of C into the caller's buffer */
  CU_ASSERT_EQUAL(count_ops(k.g, OP_REORDER), 4);
  CU_ASSERT_PTR_NOT_NULL(k.a->kernel);
  CU_ASSERT_EQUAL(k.a->in[0]->layout, LAYOUT_NCHWC);
  CU_ASSERT_EQUAL(k.a->in[0]->producer->op->kind, OP_REORDER);
  CU_ASSERT_EQUAL(k.a->out[0]->layout, LAYOUT_NCHWC);
  CU_ASSERT_EQUAL(k.a->out[0]->block, 16);
  CU_ASSERT_PTR_EQUAL(k.b->in[0], k.a->out[0]); /* blocked from A to B: no reorder */
  CU_ASSERT_EQUAL(k.elu->in[0]->layout, LAYOUT_ROW_MAJOR);
  CU_ASSERT_PTR_EQUAL(k.elu->in[0], k.elu2->in[0]);
  CU_ASSERT_EQUAL(k.elu->in[0]->producer->op->kind, OP_REORDER);
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

/* A Conv with a fused epilogue, compiled for each target against the driver's reference. */
typedef struct ConvCase {
  int64_t batch, group, c, m, h, w; /* c and m per group */
  int64_t kernel, stride, pad;
  bool bias, residual;
  Activation act, post_act;
  const char *kernel_name; /* the start of the node's kernel description */
} ConvCase;

static const char *activation_c(const Activation *a) {
  switch (a->kind) {
  case ACT_RELU:
    return "((x) > 0 ? (x) : 0)";
  case ACT_CLIP:
    return cn_format("fmin(fmax(x, %s), %s)", emit_float(a->alpha, DT_FLOAT), emit_float(a->beta, DT_FLOAT));
  case ACT_SIGMOID:
    return "(1 / (1 + exp(-(x))))";
  default:
    CU_ASSERT_EQUAL(a->kind, ACT_NONE);
    return "(x)";
  }
}

static void run_conv_case(const ConvCase *k, Target target, const char *cc) {
  Graph *g = tb_graph(13);
  int64_t oh = (k->h + 2 * k->pad - k->kernel) / k->stride + 1, ow = (k->w + 2 * k->pad - k->kernel) / k->stride + 1;
  int64_t cc_ = k->group * k->c, mm = k->group * k->m;
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(k->batch, cc_, k->h, k->w));
  Value *r = k->residual ? tb_input(g, "r", DT_FLOAT, 4, TB_DIMS(k->batch, mm, oh, ow)) : NULL;
  Value *ins[3] = {x,
                   tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(mm, k->c, k->kernel, k->kernel),
                            random_floats(mm * k->c * k->kernel * k->kernel, 7)),
                   k->bias ? tb_const(g, "b", DT_FLOAT, 1, TB_DIMS(mm), random_floats(mm, 8)) : NULL};
  Node *n = tb_node(g, "Conv", k->bias ? 3 : 2, ins, 1);
  tb_attr_ints(n, "strides", 2, TB_DIMS(k->stride, k->stride));
  tb_attr_ints(n, "pads", 4, TB_DIMS(k->pad, k->pad, k->pad, k->pad));
  tb_attr_int(n, "group", k->group);
  tb_output(g, n->out[0]);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], k->batch, mm, oh, ow);
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
  char *driver = cn_format("#define BATCH %lld\n#define G %lld\n#define C %lld\n#define M %lld\n#define IH %lld\n"
                           "#define IW %lld\n#define KH %lld\n#define KW %lld\n#define SH %lld\n#define SW %lld\n"
                           "#define PAD_T %lld\n#define PAD_L %lld\n#define OH %lld\n#define OW %lld\n"
                           "#define HAS_BIAS %d\n#define HAS_RESIDUAL %d\n#define ACT(x) %s\n#define POST_ACT(x) %s\n"
                           "#include \"%s/tests/unit/templates/conv_model_driver.c\"\n",
                           (long long)k->batch, (long long)k->group, (long long)k->c, (long long)k->m, (long long)k->h,
                           (long long)k->w, (long long)k->kernel, (long long)k->kernel, (long long)k->stride,
                           (long long)k->stride, (long long)k->pad, (long long)k->pad, (long long)oh, (long long)ow,
                           k->bias, k->residual, activation_c(&k->act), activation_c(&k->post_act), CNNC_SOURCE_DIR);
  int status = tb_compile_and_run_target(g, driver, target, cc, NULL);
  if (status != 0)
    fprintf(stderr, "conv %lldx%lld -> %lld, kernel %lld on %s with %s: status %d\n", (long long)k->c,
            (long long)(k->h * k->w), (long long)k->m, (long long)k->kernel, target_name(target), cc, status);
  CU_ASSERT_EQUAL(status, 0);
  CU_ASSERT(n->kernel && strncmp(n->kernel, k->kernel_name, strlen(k->kernel_name)) == 0);
}

static const ConvCase conv_cases[] = {
    {2, 1, 20, 24, 5, 7, 1, 1, 0, true, false, {ACT_RELU, 0, 0}, {ACT_NONE, 0, 0}, "pointwise"},
    {1, 1, 3, 5, 1, 1, 1, 1, 0, true, true, {ACT_NONE, 0, 0}, {ACT_RELU, 0, 0}, "pointwise"},
    {1, 1, 33, 40, 4, 4, 1, 1, 0, false, true, {ACT_RELU, 0, 0}, {ACT_CLIP, 0, 6}, "pointwise"},
    {1, 1, 16, 10, 3, 3, 1, 1, 0, true, false, {ACT_SIGMOID, 0, 0}, {ACT_NONE, 0, 0}, "pointwise"},
    /* a stem: 3 channels read as plain NCHW, 7x7 stride 2 */
    {1, 1, 3, 20, 19, 17, 7, 2, 3, true, false, {ACT_RELU, 0, 0}, {ACT_NONE, 0, 0}, "direct NCHW"},
    /* 3x3 on blocked channels, residual and ReLU after it */
    {2, 1, 24, 17, 6, 9, 3, 1, 1, true, true, {ACT_NONE, 0, 0}, {ACT_RELU, 0, 0}, "direct"},
    /* groups of whole blocks, stride 2 */
    {1, 2, 16, 16, 7, 8, 3, 2, 1, false, false, {ACT_NONE, 0, 0}, {ACT_NONE, 0, 0}, "direct"},
    /* 1x1 stride 2: the direct kernel, not the pointwise one */
    {1, 1, 32, 48, 7, 7, 1, 2, 0, true, false, {ACT_NONE, 0, 0}, {ACT_NONE, 0, 0}, "direct"},
};

static void test_conv_kernels(void) {
  Target targets[4];
  int n = tb_host_targets(targets);
  if (n == 0)
    CU_FAIL("this machine runs no SIMD target");
  for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
    for (int t = 0; t < n; t++)
      run_conv_case(&conv_cases[i], targets[t], compilers[(i + (size_t)t) % 2]);
}

/* Grouped convolutions whose groups are not whole blocks, and depthwise ones, are not the direct kernel's. */
static void test_conv_partial_groups_stay_portable(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 12, 5, 5));
  Value *ins[2] = {x, tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(12, 4, 3, 3), random_floats(12 * 4 * 9, 3))};
  Node *n = tb_node(g, "Conv", 2, ins, 1);
  tb_attr_int(n, "group", 3);
  tb_output(g, n->out[0]);
  tb_infer(g);
  layout_assign(g, TARGET_AVX512);
  CU_ASSERT_PTR_NULL(n->kernel);
  CU_ASSERT_EQUAL(count_ops(g, OP_REORDER), 0);
}

/* Gemm (transB, alpha, beta * C per column) and MatMul with a constant B, through the packed-B kernel. The
 * driver computes A * B' with B' read through the original layout. */
typedef struct GemmCase {
  bool matmul;
  int64_t batch, m, k, n; /* MatMul: A is (batch, m, k) */
  bool trans_b;
  float alpha, beta;
  bool c;
} GemmCase;

static void run_gemm_case(const GemmCase *k, Target target, const char *cc) {
  Graph *g = tb_graph(13);
  int64_t rows = k->batch * k->m;
  Value *a = k->matmul ? tb_input(g, "a", DT_FLOAT, 3, TB_DIMS(k->batch, k->m, k->k))
                       : tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(k->m, k->k));
  Value *b = tb_const(g, "b", DT_FLOAT, 2, k->trans_b ? TB_DIMS(k->n, k->k) : TB_DIMS(k->k, k->n),
                      random_floats(k->k * k->n, 7));
  Value *ins[3] = {a, b, k->c ? tb_const(g, "c", DT_FLOAT, 1, TB_DIMS(k->n), random_floats(k->n, 8)) : NULL};
  Node *n = tb_node(g, k->matmul ? "MatMul" : "Gemm", k->c ? 3 : 2, ins, 1);
  if (!k->matmul) {
    tb_attr_int(n, "transB", k->trans_b);
    tb_attr_float(n, "alpha", k->alpha);
    tb_attr_float(n, "beta", k->beta);
  }
  tb_output(g, n->out[0]);
  tb_infer(g);
  char *driver = cn_format(
      "static float random_value(unsigned *seed) {\n"
      "  *seed = *seed * 1664525u + 1013904223u;\n"
      "  return (float)((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;\n"
      "}\n"
      "int main(void) {\n"
      "  static float a[%lld], b[%lld], c[%lld], y[%lld];\n"
      "  unsigned seed = 7;\n"
      "  for (int i = 0; i < %lld; i++) b[i] = random_value(&seed);\n"
      "  seed = 8;\n"
      "  for (int i = 0; i < %lld; i++) c[i] = random_value(&seed);\n"
      "  for (int i = 0; i < %lld; i++) a[i] = (float)((i * 37) %% 101) / 50.0f - 1.0f;\n"
      "  const void *inputs[] = {a};\n"
      "  void *outputs[] = {y};\n"
      "  if (model_run(inputs, outputs) != 0) return 1;\n"
      "  for (int i = 0; i < %lld; i++)\n"
      "    for (int j = 0; j < %lld; j++) {\n"
      "      double acc = 0, scale = 1;\n"
      "      for (int k = 0; k < %lld; k++) {\n"
      "        double t = (double)a[i * %lld + k] * b[%s];\n"
      "        acc += t, scale += fabs(t);\n"
      "      }\n"
      "      double ref = %s * acc + %s;\n"
      "      if (fabs(y[i * %lld + j] - ref) > 1e-5 * scale) {\n"
      "        printf(\"y[%%d][%%d] = %%g, expected %%g\\n\", i, j, y[i * %lld + j], ref);\n"
      "        return 2;\n"
      "      }\n"
      "    }\n"
      "  return 0;\n"
      "}\n",
      (long long)(rows * k->k), (long long)(k->k * k->n), (long long)k->n, (long long)(rows * k->n),
      (long long)(k->k * k->n), (long long)k->n, (long long)(rows * k->k), (long long)rows, (long long)k->n,
      (long long)k->k, (long long)k->k,
      k->trans_b ? cn_format("j * %lld + k", (long long)k->k) : cn_format("k * %lld + j", (long long)k->n),
      emit_float(k->matmul ? 1 : k->alpha, DT_FLOAT),
      k->c ? cn_format("%s * c[j]", emit_float(k->beta, DT_FLOAT)) : "0 * c[j]", (long long)k->n, (long long)k->n);
  int status = tb_compile_and_run_target(g, driver, target, cc, NULL);
  if (status != 0)
    fprintf(stderr, "%s %lldx%lldx%lld on %s with %s: status %d\n", k->matmul ? "MatMul" : "Gemm", (long long)rows,
            (long long)k->k, (long long)k->n, target_name(target), cc, status);
  CU_ASSERT_EQUAL(status, 0);
  CU_ASSERT(n->kernel && strncmp(n->kernel, "gemm", 4) == 0);
}

static const GemmCase gemm_cases[] = {
    {false, 1, 1, 400, 120, true, 1, 1, true},     /* LeNet's fc1: one row, transB */
    {false, 1, 7, 33, 10, false, 0.5f, 2, true},   /* alpha, beta, a tail of rows */
    {false, 1, 3, 16, 40, true, 1, 0, true},       /* beta 0: C is not read */
    {true, 2, 3, 20, 17, false, 1, 1, false},      /* MatMul: batch and rows as the rows of one GEMM */
};

static void test_gemm_kernels(void) {
  Target targets[4];
  int n = tb_host_targets(targets);
  if (n == 0)
    CU_FAIL("this machine runs no SIMD target");
  for (size_t i = 0; i < sizeof gemm_cases / sizeof gemm_cases[0]; i++)
    for (int t = 0; t < n; t++)
      run_gemm_case(&gemm_cases[i], targets[t], compilers[(i + (size_t)t) % 2]);
}

/* A C with one value per row and column is not a bias per column: the portable Gemm keeps it. */
static void test_gemm_full_c_stays_portable(void) {
  Graph *g = tb_graph(13);
  Value *a = tb_input(g, "a", DT_FLOAT, 2, TB_DIMS(3, 4));
  Value *ins[3] = {a, tb_const(g, "b", DT_FLOAT, 2, TB_DIMS(4, 5), random_floats(20, 1)),
                   tb_const(g, "c", DT_FLOAT, 2, TB_DIMS(3, 5), random_floats(15, 2))};
  Node *n = tb_node(g, "Gemm", 3, ins, 1);
  tb_output(g, n->out[0]);
  tb_infer(g);
  layout_assign(g, TARGET_AVX512);
  CU_ASSERT_PTR_NULL(n->kernel);
}

CU_TestInfo layout_tests[] = {
    {"generic_untouched", test_generic_untouched},
    {"reorders_at_edges", test_reorders_at_edges},
    {"layout_names", test_layout_names},
    {"conv_kernels", test_conv_kernels},
    {"conv_partial_groups_stay_portable", test_conv_partial_groups_stay_portable},
    {"gemm_kernels", test_gemm_kernels},
    {"gemm_full_c_stays_portable", test_gemm_full_c_stays_portable},
    CU_TEST_INFO_NULL,
};
