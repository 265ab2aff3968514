/* Kernel templates tested on their own. Each test writes a program the way cnnc writes a model: target.c's
 * prologue (ISA macro, target pragma, simd.h), template instances with small odd constants written through
 * template.c, then a driver from tests/unit/templates/ that runs them on random data against plain-C
 * references. Every program is built with gcc and with clang under -Werror, for each SIMD target this machine
 * runs, and must exit 0. */
#include "testutil.h"

#include <string.h>

#define DRIVERS CNNC_SOURCE_DIR "/tests/unit/templates/"

static const char *const compilers[] = {"gcc", "clang"};

/* Writes the instances of one program into e->kernels; vlen is the target's. */
typedef void (*WriteInstances)(Emitter *e, int vlen);

/* prologue, the activation kinds, the driver, the instances, then `tests` (a function body returning the failure
 * count) as run_tests, and main. */
static char *program(Target t, const char *driver, WriteInstances write, const char *tests) {
  char *text;
  size_t len;
  FILE *out = open_memstream(&text, &len);
  fputs("#include <stddef.h>\n#include <stdint.h>\n", out);
  target_emit_begin(out, t, true);
  fprintf(out, "enum { ACT_NONE = %d, ACT_RELU = %d, ACT_LEAKY_RELU = %d, ACT_CLIP = %d, ACT_SIGMOID = %d,\n"
               "       ACT_HARD_SIGMOID = %d, ACT_HARD_SWISH = %d, ACT_TANH = %d, ACT_SILU = %d };\n",
          ACT_NONE, ACT_RELU, ACT_LEAKY_RELU, ACT_CLIP, ACT_SIGMOID, ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_TANH,
          ACT_SILU);
  fprintf(out, "#include \"%s%s\"\n\n", DRIVERS, driver);
  EmitOptions o = {.target = t};
  Emitter e = {.out = out, .kernels = out, .opts = &o};
  if (write)
    write(&e, target_vector_floats(t));
  fprintf(out, "static int run_tests(void) {\n%s\n}\n\n", tests);
  target_emit_end(out, t);
  fputs("int main(void) {\n  int failures = run_tests();\n  if (failures) printf(\"%d failures\\n\", failures);\n"
        "  return failures != 0;\n}\n",
        out);
  fclose(out);
  return text;
}

/* Runs the program for every target and compiler; each must build and pass. */
static void run_everywhere(const char *driver, WriteInstances write, const char *tests) {
  Target targets[4];
  int n = tb_host_targets(targets);
  if (n == 0)
    CU_FAIL("this machine runs no SIMD target: the templates cannot be tested here");
  for (int i = 0; i < n; i++)
    for (size_t c = 0; c < sizeof compilers / sizeof compilers[0]; c++) {
      int status = tb_run_program(program(targets[i], driver, write, tests), compilers[c], "-O2");
      if (status != 0)
        fprintf(stderr, "%s with %s: exit status %d\n", target_name(targets[i]), compilers[c], status);
      CU_ASSERT_EQUAL(status, 0);
    }
}

static void test_simd_functions(void) { run_everywhere("simd_test.c", NULL, "  return simd_tests();"); }

/* conv_pointwise.c */

typedef struct PointwiseCase {
  int batch, c, m, pixels, pt;
  bool bias, residual;
  Activation act, post_act;
} PointwiseCase;

static const PointwiseCase pointwise_cases[] = {
    /* one block each way, a tail tile of 3 pixels, channels far from a whole block */
    {1, 3, 5, 7, 4, true, false, {ACT_NONE, 0, 0}, {ACT_NONE, 0, 0}},
    /* two images, several blocks, a tile wider than the image is tall */
    {2, 20, 40, 13, 6, true, false, {ACT_RELU, 0, 0}, {ACT_NONE, 0, 0}},
    /* residual Add between two ReLUs; no bias */
    {1, 33, 17, 30, 5, false, true, {ACT_RELU, 0, 0}, {ACT_RELU, 0, 0}},
    /* Sigmoid(0) = 0.5: the padded lanes must be cleared */
    {1, 8, 10, 9, 3, true, false, {ACT_SIGMOID, 0, 0}, {ACT_NONE, 0, 0}},
    /* ReLU6 after a residual, whole blocks, pixels a multiple of the tile */
    {1, 64, 64, 24, 6, true, true, {ACT_NONE, 0, 0}, {ACT_CLIP, 0, 6}},
    /* the other activations */
    {1, 16, 48, 11, 4, true, false, {ACT_HARD_SWISH, 0, 0}, {ACT_NONE, 0, 0}},
    {1, 5, 7, 5, 2, true, true, {ACT_TANH, 0, 0}, {ACT_LEAKY_RELU, 0.1f, 0}},
    {1, 9, 9, 8, 8, true, false, {ACT_SILU, 0, 0}, {ACT_NONE, 0, 0}},
    {1, 9, 9, 8, 8, true, false, {ACT_HARD_SIGMOID, 0.2f, 0.5f}, {ACT_NONE, 0, 0}},
};
#define N_POINTWISE (int)(sizeof pointwise_cases / sizeof pointwise_cases[0])

/* The output-channel vectors of a tile: the most, up to 4, that divide the blocks. */
static int pointwise_ocv(int m, int vlen) {
  int ocb = (m + vlen - 1) / vlen;
  for (int v = 4; v > 1; v--)
    if (ocb % v == 0)
      return v;
  return 1;
}

static void write_pointwise(Emitter *e, int vlen) {
  char *table = cn_strdup("");
  for (int i = 0; i < N_POINTWISE; i++) {
    const PointwiseCase *k = &pointwise_cases[i];
    int ocv = pointwise_ocv(k->m, vlen), icb = (k->c + vlen - 1) / vlen, ocb = (k->m + vlen - 1) / vlen;
    Instance *t = tpl_begin(e, "conv_pointwise.c", cn_format("pointwise%d", i));
    tpl_int(t, "BATCH", k->batch);
    tpl_int(t, "ICB", icb);
    tpl_int(t, "OCB", ocb);
    tpl_int(t, "PIXELS", k->pixels);
    tpl_int(t, "OCV", ocv);
    tpl_int(t, "PT", k->pt);
    tpl_list(t, "OCV_LIST", ocv);
    tpl_list(t, "PIX_LIST", k->pt);
    tpl_tile(t, "TILE", ocv, k->pt);
    int tail = k->pixels % k->pt;
    tpl_int(t, "TAIL_PIXELS", tail);
    if (tail) {
      tpl_list(t, "TAIL_PIX_LIST", tail);
      tpl_tile(t, "TAIL_TILE", ocv, tail);
    }
    tpl_int(t, "HAS_BIAS", k->bias);
    int oc_last = k->m - (ocb - 1) * vlen;
    tpl_int(t, "OC_LAST", oc_last);
    Fusion f = {.bias = -1, .act = k->act, .residual = k->residual ? 3 : -1, .post_act = k->post_act};
    bool pad = tpl_epilogue(t, &f);
    tpl_int(t, "ZERO_PAD_LANES", pad && oc_last < vlen);
    tpl_end(t);
    table = cn_format("%s    {pointwise%d, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s, %d, %s, %s},\n", table, i, k->batch,
                      k->c, k->m, k->pixels, ocv, k->bias, k->residual, k->act.kind, emit_float(k->act.alpha, DT_FLOAT),
                      emit_float(k->act.beta, DT_FLOAT), k->post_act.kind, emit_float(k->post_act.alpha, DT_FLOAT),
                      emit_float(k->post_act.beta, DT_FLOAT));
  }
  fprintf(e->kernels, "static const struct pw_case pw_cases[] = {\n%s};\n\n", table);
}

static void test_conv_pointwise(void) {
  run_everywhere("conv_pointwise_test.c", write_pointwise,
                 "  for (size_t i = 0; i < sizeof pw_cases / sizeof pw_cases[0]; i++)\n"
                 "    pw_run(&pw_cases[i]);\n"
                 "  return test_failures;");
}

/* reorder.c */

static const int reorder_cases[][3] = {{1, 3, 7}, {2, 17, 5}, {1, 32, 1}, {3, 40, 6}};
#define N_REORDER (int)(sizeof reorder_cases / sizeof reorder_cases[0])

static void write_reorders(Emitter *e, int vlen) {
  (void)vlen;
  char *table = cn_strdup("");
  for (int i = 0; i < N_REORDER; i++)
    for (int to_blocked = 0; to_blocked < 2; to_blocked++) {
      Instance *t = tpl_begin(e, "reorder.c", cn_format("reorder%d_%s", i, to_blocked ? "blocked" : "plain"));
      tpl_int(t, "BATCH", reorder_cases[i][0]);
      tpl_int(t, "C", reorder_cases[i][1]);
      tpl_int(t, "SPATIAL", reorder_cases[i][2]);
      tpl_int(t, "TO_BLOCKED", to_blocked);
      tpl_end(t);
      if (to_blocked)
        table = cn_format("%s    {reorder%d_blocked, reorder%d_plain, %d, %d, %d},\n", table, i, i, reorder_cases[i][0],
                          reorder_cases[i][1], reorder_cases[i][2]);
    }
  fprintf(e->kernels, "static const struct ro_case ro_cases[] = {\n%s};\n\n", table);
}

static void test_reorder_round_trip(void) {
  run_everywhere("reorder_test.c", write_reorders,
                 "  for (size_t i = 0; i < sizeof ro_cases / sizeof ro_cases[0]; i++)\n"
                 "    ro_run(&ro_cases[i]);\n"
                 "  return test_failures;");
}

/* gemm_rows.c: m, n, k, init (0 zero, 1 bias, 2 accumulate), ReLU epilogue, padding columns of C */
static const int gemm_cases[][6] = {
    {6, 25, 7, 0, 0, 0}, {16, 100, 150, 1, 1, 0}, {150, 16, 100, 2, 0, 3}, {7, 40, 3, 2, 0, 5}, {1, 5, 9, 1, 0, 0},
};
#define N_GEMM (int)(sizeof gemm_cases / sizeof gemm_cases[0])

static void write_gemms(Emitter *e, int vlen) {
  char *table = cn_strdup("");
  for (int i = 0; i < N_GEMM; i++) {
    const int *c = gemm_cases[i];
    int m = c[0], n = c[1], k = c[2], vectors = (n + vlen - 1) / vlen, ldb = vectors * vlen, ldc = n + c[5];
    int nv = vectors < 4 ? vectors : 4, mr = (vlen == 16 ? 24 : 12) / nv;
    if (mr > m)
      mr = m;
    int mr_tail = m % mr, nv_tail = vectors % nv;
    Instance *t = tpl_begin(e, "gemm_rows.c", cn_format("gemm%d", i));
    tpl_int(t, "M", m);
    tpl_int(t, "N", n);
    tpl_int(t, "K", k);
    tpl_int(t, "LDA", k + 1);
    tpl_int(t, "LDB", ldb);
    tpl_int(t, "LDC", ldc);
    tpl_int(t, "MR", mr);
    tpl_int(t, "NV", nv);
    tpl_int(t, "M_TILES", m / mr);
    tpl_int(t, "MR_TAIL", mr_tail);
    tpl_int(t, "N_VECTORS", vectors);
    tpl_int(t, "N_TILES", vectors / nv);
    tpl_int(t, "NV_TAIL", nv_tail);
    tpl_int(t, "N_LAST", n - (vectors - 1) * vlen);
    tpl_list(t, "ROWS", mr);
    tpl_list(t, "TAIL_ROWS", mr_tail);
    tpl_list(t, "COLS", nv);
    tpl_list(t, "TAIL_COLS", nv_tail);
    tpl_tile(t, "TILE_RC", mr, nv);
    tpl_tile(t, "TILE_RT", mr, nv_tail);
    tpl_tile(t, "TILE_TC", mr_tail, nv);
    tpl_tile(t, "TILE_TT", mr_tail, nv_tail);
    Fusion relu = {.act = {ACT_RELU, 0, 0}, .residual = -1};
    tpl_epilogue(t, c[4] ? &relu : NULL);
    tpl_end(t);
    table = cn_format("%s    {gemm%d, %d, %d, %d, %d, %d, %d, %d, %d},\n", table, i, m, n, k, k + 1, ldb, ldc, c[3],
                      c[4]);
  }
  fprintf(e->kernels, "static const struct gr_case gr_cases[] = {\n%s};\n\n", table);
}

static void test_gemm_rows(void) {
  run_everywhere("gemm_rows_test.c", write_gemms,
                 "  for (size_t i = 0; i < sizeof gr_cases / sizeof gr_cases[0]; i++)\n"
                 "    gr_run(&gr_cases[i]);\n"
                 "  return test_failures;");
}

CU_TestInfo template_tests[] = {
    {"simd_functions", test_simd_functions},
    {"conv_pointwise", test_conv_pointwise},
    {"reorder_round_trip", test_reorder_round_trip},
    {"gemm_rows", test_gemm_rows},
    CU_TEST_INFO_NULL,
};
