/* Kernel templates tested on their own (tb_run_template_tests): simd.h, the pointwise convolution and the
 * reorders. Each program holds template instances with small odd constants written through template.c and a
 * driver from tests/unit/templates/ that runs them on random data against plain-C references. */
#include "testutil.h"

#include <string.h>

static void test_simd_functions(void) { tb_run_template_tests("simd_test.c", NULL, "  return simd_tests();"); }

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
    tpl_int(t, "IC_LAST", k->c - (icb - 1) * vlen);
    tpl_int(t, "PIXELS", k->pixels);
    tpl_int(t, "OCV", ocv);
    tpl_int(t, "PT", k->pt);
    tpl_list(t, "OCV_LIST", ocv);
    tpl_tile(t, "TILE", k->pt, ocv);
    int tail = k->pixels % k->pt;
    tpl_int(t, "TAIL_PIXELS", tail);
    if (tail)
      tpl_tile(t, "TAIL_TILE", tail, ocv);
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
  tb_run_template_tests("conv_pointwise_test.c", write_pointwise,
                 "  for (size_t i = 0; i < sizeof pw_cases / sizeof pw_cases[0]; i++)\n"
                 "    pw_run(&pw_cases[i]);\n"
                 "  return test_failures;");
}

/* conv_direct.c */

typedef struct DirectCase {
  int batch, g, c, m, ih, iw, kh, kw, sh, sw, dh, dw, pad_t, pad_l, pad_b, pad_r;
  bool plain; /* read plain NCHW (IB = 1) */
  int ocv, pw;
  bool bias, residual;
  ActKind act, post_act;
  int icc;      /* input blocks per chunk; 0: all */
  bool padded; /* PAD_COPY: the kernel reads a zero-bordered copy of x */
} DirectCase;

static const DirectCase direct_cases[] = {
    /* ResNet's stem in small: 3 plain channels, 7x7 stride 2 pad 3, border pixels on both sides */
    {1, 1, 3, 20, 17, 19, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, true, 1, 4, true, false, ACT_RELU, ACT_NONE, 0, false},
    /* 3x3 pad 1 on blocked channels with a partial block each way, two images, a residual */
    {2, 1, 20, 37, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, 1, 3, true, true, ACT_NONE, ACT_RELU, 0, false},
    /* groups of whole blocks, stride 2, asymmetric padding, dilation */
    {1, 2, 16, 32, 12, 13, 3, 2, 2, 1, 2, 2, 2, 0, 1, 1, false, 1, 5, false, false, ACT_CLIP, ACT_NONE, 0, false},
    /* a kernel as wide as the padded input: no interior columns at all */
    {1, 1, 5, 9, 4, 3, 3, 5, 1, 1, 1, 1, 1, 1, 1, 1, true, 1, 2, true, false, ACT_SIGMOID, ACT_NONE, 0, false},
    /* 1x1 stride 2 (a ResNet downsample), several output vectors per tile */
    {1, 1, 32, 64, 9, 9, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, false, 2, 4, true, false, ACT_NONE, ACT_NONE, 0, false},
    /* input channels in chunks of 2 blocks, the last chunk shorter and partial, a residual and ReLUs that only
     * the last chunk may apply */
    {2, 1, 75, 40, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, 1, 3, true, true, ACT_RELU, ACT_RELU, 2, false},
    /* one block per chunk, two groups, stride 2 */
    {1, 2, 32, 32, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, 2, 2, true, false, ACT_SIGMOID, ACT_NONE, 1, false},
    /* a small image read through a zero-bordered copy: every column in whole tiles, chunks, two images */
    {2, 1, 40, 48, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, 3, 5, true, true, ACT_NONE, ACT_RELU, 2, true},
    /* the same with stride 2 and asymmetric padding */
    {1, 1, 16, 16, 8, 9, 3, 3, 2, 2, 1, 1, 1, 0, 1, 1, false, 1, 3, false, false, ACT_HARD_SWISH, ACT_NONE, 0, true},
};
#define N_DIRECT (int)(sizeof direct_cases / sizeof direct_cases[0])

static int out_size(int in, int k, int s, int d, int pb, int pe) { return (in + pb + pe - (k - 1) * d - 1) / s + 1; }

static void write_direct(Emitter *e, int vlen) {
  char *table = cn_strdup("");
  for (int i = 0; i < N_DIRECT; i++) {
    const DirectCase *k = &direct_cases[i];
    int oh = out_size(k->ih, k->kh, k->sh, k->dh, k->pad_t, k->pad_b);
    int ow = out_size(k->iw, k->kw, k->sw, k->dw, k->pad_l, k->pad_r);
    int ib = k->plain ? 1 : vlen, icb = (k->c + ib - 1) / ib, ocb = (k->m + vlen - 1) / vlen;
    int ocv = ocb % k->ocv == 0 ? k->ocv : 1;
    /* the interior columns, counted the slow way */
    int lo = ow, hi = 0;
    for (int o = 0; o < ow; o++) {
      int first = o * k->sw - k->pad_l, last = first + (k->kw - 1) * k->dw;
      if (first >= 0 && last < k->iw) {
        lo = o < lo ? o : lo;
        hi = o + 1;
      }
    }
    if (hi < lo)
      lo = hi = 0;
    Instance *t = tpl_begin(e, "conv_direct.c", cn_format("direct%d", i));
    tpl_int(t, "BATCH", k->batch);
    tpl_int(t, "G", k->g);
    tpl_int(t, "ICB", icb);
    tpl_int(t, "IB", ib);
    tpl_int(t, "OCB", ocb);
    tpl_int(t, "IC_LAST", k->c - (icb - 1) * ib);
    tpl_int(t, "ICC", k->icc ? k->icc : icb);
    tpl_int(t, "PAD_COPY", k->padded);
    if (k->padded) {
      tpl_int(t, "SRC_IH", k->ih);
      tpl_int(t, "SRC_IW", k->iw);
      tpl_int(t, "SRC_PAD_T", k->pad_t);
      tpl_int(t, "SRC_PAD_L", k->pad_l);
      lo = 0;
      hi = ow;
    }
    int ih = k->padded ? k->ih + k->pad_t + k->pad_b : k->ih, iw = k->padded ? k->iw + k->pad_l + k->pad_r : k->iw;
    const char *names[] = {"IH", "IW", "OH", "OW", "KH", "KW", "SH", "SW", "DH", "DW", "PAD_T", "PAD_L", "OW_LO", "OW_HI"};
    int values[] = {ih, iw, oh, ow, k->kh, k->kw, k->sh, k->sw, k->dh, k->dw, k->padded ? 0 : k->pad_t,
                    k->padded ? 0 : k->pad_l, lo, hi};
    for (int j = 0; j < 14; j++)
      tpl_int(t, names[j], values[j]);
    tpl_int(t, "OCV", ocv);
    tpl_int(t, "PW", k->pw);
    tpl_list(t, "OCV_LIST", ocv);
    tpl_tile(t, "TILE", k->pw, ocv);
    tpl_tile(t, "ONE_TILE", 1, ocv);
    int tail = (hi - lo) % k->pw;
    tpl_int(t, "TAIL_PW", tail);
    if (tail)
      tpl_tile(t, "TAIL_TILE", tail, ocv);
    tpl_int(t, "HAS_BIAS", k->bias);
    int oc_last = k->m - (ocb - 1) * vlen;
    tpl_int(t, "OC_LAST", oc_last);
    Fusion f = {.bias = -1, .act = {k->act, 0, 6}, .residual = k->residual ? 3 : -1, .post_act = {k->post_act, 0, 6}};
    tpl_int(t, "ZERO_PAD_LANES", tpl_epilogue(t, &f) && oc_last < vlen);
    tpl_end(t);
    table = cn_format("%s    {direct%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d},\n",
                      table, i, k->batch, k->g, k->c, k->m, k->ih, k->iw, k->kh, k->kw, k->sh, k->sw, k->dh, k->dw,
                      k->pad_t, k->pad_l, oh, ow, ib, ocv, k->bias, k->residual, k->act, k->post_act);
  }
  fprintf(e->kernels, "static const struct dc_case dc_cases[] = {\n%s};\n\n", table);
}

static void test_conv_direct(void) {
  tb_run_template_tests("conv_direct_test.c", write_direct,
                        "  for (size_t i = 0; i < sizeof dc_cases / sizeof dc_cases[0]; i++)\n"
                        "    dc_run(&dc_cases[i]);\n"
                        "  return test_failures;");
}

/* gemm.c */

typedef struct GemmCase {
  int m, k, n, mr, nv;
  float alpha;
  bool bias, residual;
  ActKind act, post_act;
} GemmCase;

static const GemmCase gemm_cases[] = {
    /* a classifier's last layer: one row, N not a multiple of the vector */
    {1, 37, 21, 1, 2, 1, true, false, ACT_NONE, ACT_NONE},
    /* rows in tiles of 4 with a tail of 2, alpha, ReLU */
    {10, 19, 40, 4, 1, 0.5f, true, false, ACT_RELU, ACT_NONE},
    /* a residual Add read partially at the end of each row, no bias */
    {3, 8, 13, 3, 1, 1, false, true, ACT_NONE, ACT_CLIP},
    /* several column vectors per tile */
    {5, 16, 64, 2, 2, 1, true, false, ACT_SIGMOID, ACT_NONE},
};
#define N_GEMM (int)(sizeof gemm_cases / sizeof gemm_cases[0])

static void write_gemm(Emitter *e, int vlen) {
  char *table = cn_strdup("");
  for (int i = 0; i < N_GEMM; i++) {
    const GemmCase *k = &gemm_cases[i];
    int nb = (k->n + vlen - 1) / vlen, nv = nb % k->nv == 0 ? k->nv : 1;
    Instance *t = tpl_begin(e, "gemm.c", cn_format("gemm%d", i));
    tpl_int(t, "M", k->m);
    tpl_int(t, "K", k->k);
    tpl_int(t, "N", k->n);
    tpl_int(t, "NB", nb);
    tpl_int(t, "MR", k->mr);
    tpl_int(t, "NV", nv);
    tpl_list(t, "NV_LIST", nv);
    tpl_tile(t, "TILE", k->mr, nv);
    int tail = k->m % k->mr;
    tpl_int(t, "TAIL_ROWS", tail);
    if (tail)
      tpl_tile(t, "TAIL_TILE", tail, nv);
    tpl_int(t, "N_LAST", k->n - (nb - 1) * vlen);
    tpl_int(t, "HAS_ALPHA", k->alpha != 1);
    tpl_define(t, "ALPHA", "%s", emit_float(k->alpha, DT_FLOAT));
    tpl_int(t, "HAS_BIAS", k->bias);
    Fusion f = {.bias = -1, .act = {k->act, 0, 6}, .residual = k->residual ? 3 : -1, .post_act = {k->post_act, 0, 6}};
    tpl_epilogue(t, &f);
    tpl_end(t);
    table = cn_format("%s    {gemm%d, %d, %d, %d, %d, %s, %d, %d, %d, %d},\n", table, i, k->m, k->k, k->n, nv,
                      emit_float(k->alpha, DT_FLOAT), k->bias, k->residual, k->act, k->post_act);
  }
  fprintf(e->kernels, "static const struct gm_case gm_cases[] = {\n%s};\n\n", table);
}

static void test_gemm(void) {
  tb_run_template_tests("gemm_test.c", write_gemm,
                        "  for (size_t i = 0; i < sizeof gm_cases / sizeof gm_cases[0]; i++)\n"
                        "    gm_run(&gm_cases[i]);\n"
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
  tb_run_template_tests("reorder_test.c", write_reorders,
                 "  for (size_t i = 0; i < sizeof ro_cases / sizeof ro_cases[0]; i++)\n"
                 "    ro_run(&ro_cases[i]);\n"
                 "  return test_failures;");
}

/* gemm_rows.c: m, n, k, init (0 zero, 1 bias, 2 accumulate), ReLU epilogue, padding columns of C */
static const int gemm_rows_cases[][6] = {
    {6, 25, 7, 0, 0, 0}, {16, 100, 150, 1, 1, 0}, {150, 16, 100, 2, 0, 3}, {7, 40, 3, 2, 0, 5}, {1, 5, 9, 1, 0, 0},
};
#define N_GEMM_ROWS (int)(sizeof gemm_rows_cases / sizeof gemm_rows_cases[0])

static void write_gemms(Emitter *e, int vlen) {
  char *table = cn_strdup("");
  for (int i = 0; i < N_GEMM_ROWS; i++) {
    const int *c = gemm_rows_cases[i];
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
  tb_run_template_tests("gemm_rows_test.c", write_gemms,
                        "  for (size_t i = 0; i < sizeof gr_cases / sizeof gr_cases[0]; i++)\n"
                        "    gr_run(&gr_cases[i]);\n"
                        "  return test_failures;");
}

CU_TestInfo template_tests[] = {
    {"simd_functions", test_simd_functions},
    {"conv_pointwise", test_conv_pointwise},
    {"conv_direct", test_conv_direct},
    {"gemm", test_gemm},
    {"reorder_round_trip", test_reorder_round_trip},
    {"gemm_rows", test_gemm_rows},
    CU_TEST_INFO_NULL,
};
