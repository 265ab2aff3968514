/* Training's kernel templates on their own (tb_run_template_tests), instantiated through the emitters' own
 * functions, against plain loops in double: templates/conv_wgrad.c (tests/unit/templates/conv_wgrad_test.c). */
#include "testutil.h"

/* batch, channels, maps, input rows and columns, kernel, dilation, pads before (rows, columns), pads after */
typedef struct WgradCase {
  int batch, channels, maps, ih, iw, kh, kw, dh, dw, pt, pl, pb, pr;
} WgradCase;

static const WgradCase wgrad_cases[] = {
    {3, 1, 6, 28, 28, 5, 5, 1, 1, 2, 2, 2, 2}, /* LeNet-5's first layer: 28 columns, a partial second vector */
    {2, 3, 7, 9, 20, 3, 3, 1, 1, 1, 1, 1, 1},  /* maps in a whole tile and a tail tile on AVX2 */
    {2, 2, 3, 8, 16, 3, 5, 2, 1, 0, 0, 0, 0},  /* row dilation, rows of exactly one AVX-512 vector */
    {1, 2, 2, 6, 5, 3, 3, 1, 2, 1, 0, 2, 4},   /* asymmetric pads, column dilation, rows shorter than a vector */
    {2, 1, 1, 4, 33, 1, 1, 1, 1, 0, 0, 0, 0},  /* 1x1 kernel, three vectors per row on AVX-512 */
};
#define N_WGRAD (int)(sizeof wgrad_cases / sizeof wgrad_cases[0])

static void write_wgrads(Emitter *e, int vlen) {
  char *table = cn_strdup("");
  for (int i = 0; i < N_WGRAD; i++) {
    const WgradCase *c = &wgrad_cases[i];
    Window w = {.rank = 2, .in = {c->ih, c->iw}, .kernel = {c->kh, c->kw}, .stride = {1, 1},
                .dilation = {c->dh, c->dw}, .pad_begin = {c->pt, c->pl}, .pad_end = {c->pb, c->pr}};
    for (int a = 0; a < 2; a++)
      w.out[a] = w.in[a] + w.pad_begin[a] + w.pad_end[a] - (w.kernel[a] - 1) * w.dilation[a];
    char *fn = cn_format("wgrad%d", i);
    CU_ASSERT_FATAL(conv_wgrad_instance(e, vlen == 16 ? TARGET_AVX512 : TARGET_AVX2, fn, c->batch, c->channels,
                                        c->maps, &w));
    table = cn_format("%s    {%s, %d, %d, %d, %d, %d, %lld, %lld, %d, %d, %d, %d, %d, %d},\n", table, fn, c->batch,
                      c->channels, c->maps, c->ih, c->iw, (long long)w.out[0], (long long)w.out[1], c->kh, c->kw,
                      c->dh, c->dw, c->pt, c->pl);
  }
  fprintf(e->kernels, "static const struct wgrad_case wgrad_cases[] = {\n%s};\n\n", table);
}

static void test_conv_wgrad(void) {
  tb_run_template_tests("conv_wgrad_test.c", write_wgrads,
                        "  for (size_t i = 0; i < sizeof wgrad_cases / sizeof wgrad_cases[0]; i++)\n"
                        "    wgrad_run(&wgrad_cases[i]);\n"
                        "  return test_failures;");
}

CU_TestInfo tpl_train_tests[] = {
    {"conv_wgrad: direct weight gradient", test_conv_wgrad},
    CU_TEST_INFO_NULL,
};
