/* templates/softmax.c, compiled on its own for every ISA and compiler, against Softmax and LogSoftmax in double
 * (tests/unit/template_checks/softmax.h). */
#include "template_harness.h"
#include "testutil.h"

static void test_softmax(void) {
  static const struct {
    int rows, len, log, in_place;
    float scale; /* inputs in [-scale, scale) */
  } cases[] = {
      {1, 1000, 0, 0, 8},  /* a classifier's output */
      {1, 1000, 1, 1, 8},
      {3, 10, 0, 1, 50},   /* shorter than a vector, large logits */
      {3, 10, 1, 0, 50},
      {4, 16, 0, 0, 1},    /* whole vectors */
      {2, 67, 1, 0, 3},
      {5, 1, 0, 0, 1},     /* one element: 1 and 0 */
      {5, 1, 1, 0, 1},
  };
  char *body = cn_strdup(""), *calls = cn_strdup("");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *defines[] = {
        cn_format("FN softmax%zu", i),
        cn_format("ROWS %d", cases[i].rows),
        cn_format("LEN %d", cases[i].len),
        cn_format("LOG %d", cases[i].log),
        NULL,
    };
    body = cn_format("%s%s", body, tpl_instance("softmax.c", defines));
    calls = cn_format("%s  bad += check_softmax(\"case %zu\", softmax%zu, %d, %d, %d, %s, %d);\n", calls, i, i,
                      cases[i].rows, cases[i].len, cases[i].log, emit_float(cases[i].scale, DT_FLOAT),
                      cases[i].in_place);
  }
  body = cn_format("%s#include \"check.h\"\n#include \"softmax.h\"\nint main(void) {\n  int bad = 0;\n%s  return bad != 0;\n}\n",
                   body, calls);
  tpl_build_and_run("softmax", body);
}

CU_TestInfo tpl_softmax_tests[] = {
    {"Softmax and LogSoftmax over the last axis", test_softmax},
    CU_TEST_INFO_NULL,
};
