/* The SIMD kernels of depthwise Conv, pooling, the element-wise ops and softmax through the whole compiler: small
 * graphs whose inputs arrive in the layouts a real network gives them (after a pointwise Conv, blocked; straight
 * from the graph input, row-major), compiled for every SIMD target this machine runs, with gcc and clang,
 * against the same graph compiled for the generic target. Each test also checks that the layout pass chose the
 * kernel it is about, so a hook that quietly declines cannot pass. */
#include "testutil.h"

#include <math.h>
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

static Value *constant(Graph *g, int rank, const int64_t *dims, unsigned seed) {
  int64_t count = 1;
  for (int i = 0; i < rank; i++)
    count *= dims[i];
  return tb_const(g, cn_format("c%u", seed), DT_FLOAT, rank, dims, random_floats(count, seed));
}

/* A 1x1 Conv from c to m channels: its output is blocked on a SIMD target. (Shapes are inferred later, so the
 * builders pass channel counts.) */
static Value *pointwise(Graph *g, Value *x, int64_t c, int64_t m, unsigned seed) {
  Value *ins[3] = {x, constant(g, 4, TB_DIMS(m, c, 1, 1), seed), constant(g, 1, TB_DIMS(m), seed + 1)};
  return tb_node(g, "Conv", 3, ins, 1)->out[0];
}

static Value *unary(Graph *g, const char *op, Value *x) { return tb_node(g, op, 1, (Value *[]){x}, 1)->out[0]; }

static Value *binary(Graph *g, const char *op, Value *a, Value *b) {
  return tb_node(g, op, 2, (Value *[]){a, b}, 1)->out[0];
}

static Node *pool(Graph *g, const char *op, Value *x, int64_t k, int64_t s, int64_t pad) {
  Node *n = tb_node(g, op, 1, (Value *[]){x}, 1);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(k, k));
  tb_attr_ints(n, "strides", 2, TB_DIMS(s, s));
  tb_attr_ints(n, "pads", 4, TB_DIMS(pad, pad, pad, pad));
  return n;
}

static Value *depthwise(Graph *g, Value *x, int64_t c, int64_t k, int64_t s, unsigned seed) {
  Value *ins[3] = {x, constant(g, 4, TB_DIMS(c, 1, k, k), seed), constant(g, 1, TB_DIMS(c), seed + 1)};
  Node *n = tb_node(g, "Conv", 3, ins, 1);
  tb_attr_int(n, "group", c);
  tb_attr_ints(n, "pads", 4, TB_DIMS(k / 2, k / 2, k / 2, k / 2));
  tb_attr_ints(n, "strides", 2, TB_DIMS(s, s));
  return n->out[0];
}

/* Fills every input from a formula, runs the model, and either writes the outputs to `path` (generic) or
 * compares them with what is there, within 5e-5 * (1 + |ref|): the 3x3 Convs of these graphs may run as
 * Winograd F(4x4,3x3), whose rounding differs from the direct sum's by up to about 2e-5 here. */
static char *driver(const char *path, bool write) {
  return cn_format(
      "#include <stdlib.h>\n"
      "int main(void) {\n"
      "  const void *inputs[8];\n"
      "  void *outputs[8];\n"
      "  for (int k = 0; model_input_info[k].name; k++) {\n"
      "    float *x = malloc(model_input_info[k].count * sizeof *x);\n"
      "    for (size_t i = 0; i < model_input_info[k].count; i++)\n"
      "      x[i] = (float)((i * 37 + k * 11) %% 101) / 25.0f - 2.0f;\n"
      "    inputs[k] = x;\n"
      "  }\n"
      "  for (int k = 0; model_output_info[k].name; k++)\n"
      "    outputs[k] = malloc(model_output_info[k].count * sizeof(float));\n"
      "  if (model_run(inputs, outputs) != 0) return 1;\n"
      "  FILE *f = fopen(\"%s\", \"%s\");\n"
      "  if (!f) return 3;\n"
      "  for (int k = 0; model_output_info[k].name; k++) {\n"
      "    const float *y = outputs[k];\n"
      "    for (size_t i = 0; i < model_output_info[k].count; i++) {\n"
      "      float ref;\n"
      "      if (%d) { fwrite(&y[i], sizeof y[i], 1, f); continue; }\n"
      "      if (fread(&ref, sizeof ref, 1, f) != 1) return 4;\n"
      "      if (!(fabsf(y[i] - ref) <= 5e-5f * (1 + fabsf(ref))) && !(isnan(ref) && isnan(y[i]))) {\n"
      "        printf(\"output %%d element %%zu is %%.9g, the generic target gives %%.9g\\n\", k, i, y[i], ref);\n"
      "        return 2;\n"
      "      }\n"
      "    }\n"
      "  }\n"
      "  fclose(f);\n"
      "  return 0;\n"
      "}\n",
      path, write ? "wb" : "rb", write);
}

/* Whether a live node of `kind` got a kernel whose description contains `kernel`. */
static bool has_kernel(const Graph *g, OpKind kind, const char *kernel) {
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (!n->dead && n->op->kind == kind && n->kernel && strstr(n->kernel, kernel))
      return true;
  }
  return false;
}

/* No node that fused a window got the depthwise kernel: fused windows belong to the Conv anchor's kernel. */
static bool windows_left_to_anchor(const Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (!n->dead && n->fusion && n->fusion->window && conv_depthwise_owns(n))
      return false;
  }
  return true;
}

/* Builds the graph (fresh for every compilation: the passes change it) with `build`, runs it for the generic
 * target without the passes, then for each SIMD target and compiler (with fold_bn, fuse and views when `passes`);
 * a live node of `kind` must get a kernel whose description contains `kernel`. */
static void agree(Graph *(*build)(void), OpKind kind, const char *kernel, bool passes) {
  char *dir = cn_make_temp_dir("simd-ops");
  char *ref = cn_format("%s/ref.bin", dir);
  CU_ASSERT_EQUAL_FATAL(tb_compile_and_run(build(), driver(ref, true)), 0);
  Target targets[4];
  int n = tb_host_targets(targets);
  if (n == 0)
    CU_FAIL("this machine runs no SIMD target");
  for (int t = 0; t < n; t++)
    for (size_t c = 0; c < sizeof compilers / sizeof compilers[0]; c++) {
      Graph *g = build();
      int status = passes ? tb_compile_and_run_pipeline(g, driver(ref, false), targets[t], compilers[c])
                          : tb_compile_and_run_target(g, driver(ref, false), targets[t], compilers[c], NULL);
      if (status != 0)
        fprintf(stderr, "%s with %s: status %d\n", target_name(targets[t]), compilers[c], status);
      CU_ASSERT_EQUAL(status, 0);
      if (!has_kernel(g, kind, kernel))
        fprintf(stderr, "%s: no %s node got a '%s' kernel\n", target_name(targets[t]), op_get(kind)->name, kernel);
      CU_ASSERT(has_kernel(g, kind, kernel));
      CU_ASSERT(windows_left_to_anchor(g));
    }
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
}

static void agree_with_generic(Graph *(*build)(void), OpKind kind, const char *kernel) {
  agree(build, kind, kernel, false);
}

/* Blocked input: pointwise Conv (20 -> 24 channels, a partial block of 16), then MaxPool 3x3 stride 2 pad 1. */
static Graph *max_pool_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 20, 9, 11));
  tb_output(g, pool(g, "MaxPool", pointwise(g, x, 20, 24, 1), 3, 2, 1)->out[0]);
  tb_infer(g);
  return g;
}

/* ceil_mode and count_include_pad: the last windows run past the padded input. */
static Graph *average_pool_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(2, 8, 8, 8));
  Node *n = pool(g, "AveragePool", pointwise(g, x, 8, 19, 2), 3, 2, 1);
  tb_attr_int(n, "ceil_mode", 1);
  tb_attr_int(n, "count_include_pad", 1);
  tb_output(g, n->out[0]);
  tb_infer(g);
  return g;
}

static Graph *global_pool_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(2, 16, 7, 7));
  Value *y = pointwise(g, x, 16, 40, 3);
  tb_output(g, unary(g, "GlobalAveragePool", y));
  tb_output(g, unary(g, "GlobalMaxPool", y));
  tb_infer(g);
  return g;
}

static void test_max_pool(void) { agree_with_generic(max_pool_graph, OP_MAX_POOL, "max pool"); }
static void test_average_pool(void) { agree_with_generic(average_pool_graph, OP_AVERAGE_POOL, "average pool"); }
static void test_global_pool(void) { agree_with_generic(global_pool_graph, OP_GLOBAL_AVERAGE_POOL, "global"); }

/* MobileNetV2's pattern, unfused: expand, depthwise 3x3 stride 2, ReLU6 as a Clip, project. */
static Graph *depthwise_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 8, 10, 9));
  Value *lo = tb_const(g, "lo", DT_FLOAT, 0, NULL, (const float[]){0});
  Value *hi = tb_const(g, "hi", DT_FLOAT, 0, NULL, (const float[]){6});
  Value *d = depthwise(g, pointwise(g, x, 8, 24, 4), 24, 3, 2, 5);
  Value *clipped = tb_node(g, "Clip", 3, (Value *[]){d, lo, hi}, 1)->out[0];
  tb_output(g, pointwise(g, clipped, 24, 12, 6));
  tb_infer(g);
  return g;
}

/* A depthwise 5x5 straight from the graph input (a reorder puts it in blocks), 33 channels. */
static Graph *depthwise_input_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 33, 7, 12));
  tb_output(g, depthwise(g, x, 33, 5, 1, 7));
  tb_infer(g);
  return g;
}

static void test_depthwise(void) { agree_with_generic(depthwise_graph, OP_CONV, "depthwise"); }
static void test_depthwise_from_input(void) { agree_with_generic(depthwise_input_graph, OP_CONV, "depthwise"); }

/* A residual Add of two blocked tensors, then ReLU and Sigmoid on the blocked sum. */
static Graph *residual_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 12, 5, 6));
  Value *sum = binary(g, "Add", pointwise(g, x, 12, 20, 8), pointwise(g, x, 12, 20, 10));
  tb_output(g, unary(g, "Relu", sum));
  tb_output(g, unary(g, "Sigmoid", sum));
  tb_infer(g);
  return g;
}

/* Squeeze-excitation: x * Sigmoid(pointwise(GlobalAveragePool(x))), per image, two images. */
static Graph *squeeze_excitation_graph(void) {
  Graph *g = tb_graph(13);
  Value *in = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(2, 16, 6, 6));
  Value *x = pointwise(g, in, 16, 24, 12);
  Value *scale = unary(g, "Sigmoid", pointwise(g, unary(g, "GlobalAveragePool", x), 24, 24, 14));
  tb_output(g, binary(g, "Mul", x, scale));
  tb_infer(g);
  return g;
}

/* Per-channel constants of shapes (1, C, 1, 1) and (C, 1, 1), a scalar, on a blocked tensor. */
static Graph *per_channel_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 12, 4, 5));
  Value *y = pointwise(g, x, 12, 19, 16);
  y = binary(g, "Mul", y, constant(g, 4, TB_DIMS(1, 19, 1, 1), 18));
  y = binary(g, "Sub", constant(g, 3, TB_DIMS(19, 1, 1), 19), y);
  y = binary(g, "Div", y, tb_const(g, "six", DT_FLOAT, 0, NULL, (const float[]){6}));
  tb_output(g, unary(g, "HardSwish", y));
  tb_infer(g);
  return g;
}

/* Row-major data: the graph input itself. */
static Graph *row_major_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(3, 37));
  Value *y = binary(g, "Mul", unary(g, "Tanh", x), constant(g, 1, TB_DIMS(37), 20));
  Node *leaky = tb_node(g, "LeakyRelu", 1, (Value *[]){y}, 1);
  tb_attr_float(leaky, "alpha", 0.2f);
  tb_output(g, leaky->out[0]);
  tb_infer(g);
  return g;
}

static void test_residual(void) { agree_with_generic(residual_graph, OP_ADD, "NCHW"); }
static void test_squeeze_excitation(void) { agree_with_generic(squeeze_excitation_graph, OP_MUL, "NCHW"); }
static void test_per_channel(void) { agree_with_generic(per_channel_graph, OP_SUB, "NCHW"); }
static void test_row_major(void) { agree_with_generic(row_major_graph, OP_TANH, "row-major"); }

static Graph *softmax_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(4, 1000));
  tb_output(g, unary(g, "Softmax", x));
  tb_output(g, unary(g, "LogSoftmax", x));
  tb_infer(g);
  return g;
}

static void test_softmax(void) { agree_with_generic(softmax_graph, OP_SOFTMAX, "softmax"); }

/* With every pass: the expand Conv takes the depthwise Conv as its fused window (the Conv's kernel then runs it),
 * while a depthwise Conv straight from the graph input has no anchor and gets the depthwise kernel. */
static Graph *depthwise_pair_graph(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 24, 10, 9));
  Value *direct = depthwise(g, x, 24, 3, 1, 30);
  Value *lo = tb_const(g, "lo", DT_FLOAT, 0, NULL, (const float[]){0});
  Value *hi = tb_const(g, "hi", DT_FLOAT, 0, NULL, (const float[]){6});
  Value *expanded = tb_node(g, "Clip", 3, (Value *[]){pointwise(g, direct, 24, 40, 32), lo, hi}, 1)->out[0];
  Value *d = depthwise(g, expanded, 40, 3, 2, 34);
  Value *clipped = tb_node(g, "Clip", 3, (Value *[]){d, lo, hi}, 1)->out[0];
  tb_output(g, pointwise(g, clipped, 40, 12, 36));
  tb_infer(g);
  return g;
}

static void test_depthwise_passes(void) {
  agree(depthwise_pair_graph, OP_CONV, "depthwise", true);
  Graph *g = depthwise_pair_graph();
  fold_dead_code(g);
  fuse(g);
  bool window = false;
  for (int i = 0; i < g->n_nodes; i++)
    window = window || (!g->nodes[i]->dead && g->nodes[i]->fusion && g->nodes[i]->fusion->window);
  CU_ASSERT(window);
}

/* SqueezeNet's fire module: squeeze, then a blocked 1x1 expand and a 3x3 expand (20 channels, a partial last
 * block) concatenated along channels, then MaxPool and a 1x1 Conv. The Concat stays blocked, so the pool gets the
 * blocked kernel; with one image the expands write their slices in place, with two the Concat copies them. */
static Graph *fire_graph(int64_t images) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(images, 16, 9, 10));
  Value *squeezed = unary(g, "Relu", pointwise(g, x, 16, 8, 40));
  Value *e1 = unary(g, "Relu", pointwise(g, squeezed, 8, 16, 42));
  Value *ins[3] = {squeezed, constant(g, 4, TB_DIMS(20, 8, 3, 3), 44), constant(g, 1, TB_DIMS(20), 45)};
  Node *conv = tb_node(g, "Conv", 3, ins, 1);
  tb_attr_ints(conv, "pads", 4, TB_DIMS(1, 1, 1, 1));
  Value *e3 = unary(g, "Relu", conv->out[0]);
  Node *concat = tb_node(g, "Concat", 2, (Value *[]){e1, e3}, 1);
  tb_attr_int(concat, "axis", 1);
  Value *pooled = pool(g, "MaxPool", concat->out[0], 3, 2, 0)->out[0];
  tb_output(g, pointwise(g, pooled, 36, 8, 46));
  tb_infer(g);
  return g;
}

static Graph *fire_one_image(void) { return fire_graph(1); }
static Graph *fire_two_images(void) { return fire_graph(2); }

/* Whether a Concat's output is blocked and every input of it is a view of its slice. */
static bool concat_in_place(const Graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (n->op->kind != OP_CONCAT || n->out[0]->layout != LAYOUT_NCHWC)
      continue;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k]->alias_of != n->out[0])
        return false;
    return true;
  }
  return false;
}

static void test_fire_in_place(void) {
  agree(fire_one_image, OP_MAX_POOL, "max pool", true);
  Graph *blocked = fire_one_image();
  fold_dead_code(blocked);
  fold_bn(blocked);
  fuse(blocked);
  layout_assign(blocked, TARGET_AVX2);
  views(blocked);
  CU_ASSERT(concat_in_place(blocked));
}

static void test_fire_copies(void) { agree(fire_two_images, OP_CONCAT, "concat NCHW", true); }

CU_TestInfo simd_ops_tests[] = {
    {"MaxPool on a blocked input", test_max_pool},
    {"AveragePool with ceil_mode and count_include_pad", test_average_pool},
    {"GlobalAveragePool and GlobalMaxPool", test_global_pool},
    {"expand, depthwise, ReLU6, project", test_depthwise},
    {"depthwise 5x5 on the graph input", test_depthwise_from_input},
    {"residual Add, ReLU, Sigmoid", test_residual},
    {"squeeze-excitation scale per image", test_squeeze_excitation},
    {"per-channel and scalar constants", test_per_channel},
    {"row-major activations and a broadcast Mul", test_row_major},
    {"Softmax and LogSoftmax", test_softmax},
    CU_TEST_INFO_NULL,
};

/* A suite of its own, so that each stays well within the unit tests' time limit on a busy machine. */
CU_TestInfo simd_passes_tests[] = {
    {"fused depthwise windows stay with the Conv", test_depthwise_passes},
    {"fire module, blocked Concat written in place", test_fire_in_place},
    {"fire module of two images, blocked Concat copies", test_fire_copies},
    CU_TEST_INFO_NULL,
};

