/* templates/pool_nchwc.c and global_pool_nchwc.c on their own (tb_run_template_tests), instantiated through
 * template.c as ops/pool.c does, against plain pooling (tests/unit/templates/pool_test.c). */
#include "testutil.h"

typedef struct PoolCase {
  int batch, channels, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, max, count_include_pad, tile;
} PoolCase;

static const PoolCase *cases;
static int n_cases;

static void write_pools(Emitter *e, int vlen) {
  (void)vlen;
  char *table = cn_strdup("");
  for (int i = 0; i < n_cases; i++) {
    const PoolCase *c = &cases[i];
    Instance *t = tpl_begin(e, "pool_nchwc.c", cn_format("pool%d", i));
    const char *names[] = {"BATCH", "CHANNELS", "IH", "IW", "OH", "OW", "KH", "KW", "SH", "SW",
                           "DH", "DW", "PT", "PL", "PB", "PR", "POOL_MAX", "COUNT_INCLUDE_PAD"};
    const int values[] = {c->batch, c->channels, c->ih, c->iw, c->oh, c->ow, c->kh, c->kw, c->sh, c->sw,
                          c->dh, c->dw, c->pt, c->pl, c->pb, c->pr, c->max, c->count_include_pad};
    char *row = cn_format("pool%d", i);
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
      tpl_int(t, names[k], values[k]);
      row = cn_format("%s, %d", row, values[k]);
    }
    tpl_list(t, "TILE", c->tile);
    tpl_end(t);
    table = cn_format("%s    {%s},\n", table, row);
  }
  fprintf(e->kernels, "static const struct pool_case pool_cases[] = {\n%s};\n\n", table);
}

static void run_cases(const PoolCase *list, int count) {
  cases = list;
  n_cases = count;
  tb_run_template_tests("pool_test.c", write_pools,
                        "  for (size_t i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++)\n"
                        "    pool_run(&pool_cases[i]);\n"
                        "  return test_failures;");
}

static void test_max_pool(void) {
  static const PoolCase list[] = {
      /* ResNet's stem pool 3x3 stride 2 pad 1, scaled down */
      {1, 64, 12, 12, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 3},
      /* SqueezeNet's 3x3 stride 2 with ceil_mode: the last window runs past the input */
      {1, 24, 14, 14, 7, 7, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 4},
      /* dilation, a batch, a partial channel block */
      {2, 9, 7, 6, 7, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, 2},
      /* a window larger than the input: no interior column */
      {1, 16, 3, 3, 3, 3, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, 0, 2},
      /* 2x2 stride 2, LeNet's */
      {1, 6, 8, 10, 4, 5, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 5},
  };
  run_cases(list, sizeof list / sizeof list[0]);
}

static void test_average_pool(void) {
  static const PoolCase list[] = {
      {1, 20, 7, 9, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 4},
      {1, 20, 7, 9, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 4},
      {1, 16, 8, 8, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 4},
      /* ceil_mode with count_include_pad: the last window counts the end padding but not what lies past it */
      {1, 33, 8, 8, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, 2},
      {2, 5, 6, 7, 6, 8, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, 0, 0, 3},
  };
  run_cases(list, sizeof list / sizeof list[0]);
}

static const int global_cases[][5] = {
    /* batch, channels, pixels, max, blocked output */
    {1, 40, 49, 0, 0}, {1, 64, 196, 0, 1}, {2, 19, 7, 1, 0}, {1, 32, 1, 1, 1}, {1, 1000, 169, 0, 0}, {2, 3, 5, 0, 1},
};

static void write_global_pools(Emitter *e, int vlen) {
  (void)vlen;
  char *table = cn_strdup("");
  for (size_t i = 0; i < sizeof global_cases / sizeof global_cases[0]; i++) {
    const int *c = global_cases[i];
    Instance *t = tpl_begin(e, "global_pool_nchwc.c", cn_format("gpool%zu", i));
    tpl_int(t, "BATCH", c[0]);
    tpl_int(t, "CHANNELS", c[1]);
    tpl_int(t, "SIZE", c[2]);
    tpl_int(t, "POOL_MAX", c[3]);
    tpl_int(t, "OUT_NCHWC", c[4]);
    tpl_end(t);
    table = cn_format("%s    {gpool%zu, %d, %d, %d, %d, %d},\n", table, i, c[0], c[1], c[2], c[3], c[4]);
  }
  fprintf(e->kernels, "static const struct global_case global_cases[] = {\n%s};\n\n", table);
}

static void test_global_pool(void) {
  tb_run_template_tests("pool_test.c", write_global_pools,
                        "  for (size_t i = 0; i < sizeof global_cases / sizeof global_cases[0]; i++)\n"
                        "    global_run(&global_cases[i]);\n"
                        "  return test_failures;");
}

CU_TestInfo tpl_pool_tests[] = {
    {"MaxPool", test_max_pool},
    {"AveragePool", test_average_pool},
    {"GlobalAveragePool and GlobalMaxPool", test_global_pool},
    CU_TEST_INFO_NULL,
};
