/* templates/pool_nchwc.c and global_pool_nchwc.c, compiled on their own with small constants for every ISA and
 * compiler, against plain pooling (tests/unit/template_checks/pool.h). */
#include "template_harness.h"
#include "testutil.h"

typedef struct PoolCase {
  int batch, channels, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, max, count_include_pad, tile;
} PoolCase;

static void run_pool_cases(const char *test_name, const PoolCase *cases, int n_cases) {
  char *body = cn_strdup(""), *calls = cn_strdup("");
  for (int i = 0; i < n_cases; i++) {
    const PoolCase *c = &cases[i];
    char *tile = cn_strdup("");
    for (int p = 0; p < c->tile; p++)
      tile = cn_format("%s X(%d)", tile, p);
    const char *defines[] = {
        cn_format("FN pool%d", i),         cn_format("BATCH %d", c->batch), cn_format("CHANNELS %d", c->channels),
        cn_format("IH %d", c->ih),         cn_format("IW %d", c->iw),       cn_format("OH %d", c->oh),
        cn_format("OW %d", c->ow),         cn_format("KH %d", c->kh),       cn_format("KW %d", c->kw),
        cn_format("SH %d", c->sh),         cn_format("SW %d", c->sw),       cn_format("DH %d", c->dh),
        cn_format("DW %d", c->dw),         cn_format("PT %d", c->pt),       cn_format("PL %d", c->pl),
        cn_format("PB %d", c->pb),         cn_format("PR %d", c->pr),       cn_format("POOL_MAX %d", c->max),
        cn_format("COUNT_INCLUDE_PAD %d", c->count_include_pad),            cn_format("TILE(X)%s", tile),
        NULL,
    };
    body = cn_format("%s%s", body, tpl_instance("pool_nchwc.c", defines));
    calls = cn_format("%s  bad += check_pool(\"case %d\", pool%d, (PoolShape){%d, %d, %d, %d, %d, %d, %d, %d, %d, "
                      "%d, %d, %d, %d, %d, %d, %d, %d, %d});\n",
                      calls, i, i, c->batch, c->channels, c->ih, c->iw, c->oh, c->ow, c->kh, c->kw, c->sh, c->sw,
                      c->dh, c->dw, c->pt, c->pl, c->pb, c->pr, c->max, c->count_include_pad);
  }
  body = cn_format("%s#include \"check.h\"\n#include \"pool.h\"\nint main(void) {\n  int bad = 0;\n%s  return bad != 0;\n}\n",
                   body, calls);
  tpl_build_and_run(test_name, body);
}

static void test_max_pool(void) {
  static const PoolCase cases[] = {
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
  run_pool_cases("max_pool", cases, sizeof cases / sizeof cases[0]);
}

static void test_average_pool(void) {
  static const PoolCase cases[] = {
      {1, 20, 7, 9, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 4},
      {1, 20, 7, 9, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 4},
      {1, 16, 8, 8, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 4},
      /* ceil_mode with count_include_pad: the last window counts the end padding but not what lies past it */
      {1, 33, 8, 8, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 1, 2},
      {2, 5, 6, 7, 6, 8, 3, 3, 1, 1, 1, 1, 0, 1, 2, 0, 0, 0, 3},
  };
  run_pool_cases("average_pool", cases, sizeof cases / sizeof cases[0]);
}

static void test_global_pool(void) {
  static const struct {
    int batch, channels, size, max, out_nchwc;
  } cases[] = {
      {1, 40, 49, 0, 0}, {1, 64, 196, 0, 1}, {2, 19, 7, 1, 0}, {1, 32, 1, 1, 1}, {1, 1000, 169, 0, 0}, {2, 3, 5, 0, 1},
  };
  char *body = cn_strdup(""), *calls = cn_strdup("");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *defines[] = {
        cn_format("FN gpool%zu", i),
        cn_format("BATCH %d", cases[i].batch),
        cn_format("CHANNELS %d", cases[i].channels),
        cn_format("SIZE %d", cases[i].size),
        cn_format("POOL_MAX %d", cases[i].max),
        cn_format("OUT_NCHWC %d", cases[i].out_nchwc),
        NULL,
    };
    body = cn_format("%s%s", body, tpl_instance("global_pool_nchwc.c", defines));
    calls = cn_format("%s  bad += check_global_pool(\"case %zu\", gpool%zu, (GlobalPoolShape){%d, %d, %d, %d, %d});\n",
                      calls, i, i, cases[i].batch, cases[i].channels, cases[i].size, cases[i].max, cases[i].out_nchwc);
  }
  body = cn_format("%s#include \"check.h\"\n#include \"pool.h\"\nint main(void) {\n  int bad = 0;\n%s  return bad != 0;\n}\n",
                   body, calls);
  tpl_build_and_run("global_pool", body);
}

CU_TestInfo tpl_pool_tests[] = {
    {"MaxPool", test_max_pool},
    {"AveragePool", test_average_pool},
    {"GlobalAveragePool and GlobalMaxPool", test_global_pool},
    CU_TEST_INFO_NULL,
};
