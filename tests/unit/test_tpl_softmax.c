/* templates/softmax.c on its own (tb_run_template_tests), instantiated through template.c as ops/softmax.c
 * does, against Softmax and LogSoftmax in double (tests/unit/templates/softmax_test.c). */
#include "testutil.h"

static const struct {
  int rows, len, log, in_place;
  float scale;
} cases[] = {
    {1, 1000, 0, 0, 8}, /* a classifier's output */
    {1, 1000, 1, 1, 8},
    {3, 10, 0, 1, 50}, /* shorter than a vector, large logits */
    {3, 10, 1, 0, 50},
    {4, 16, 0, 0, 1}, /* whole vectors */
    {2, 67, 1, 0, 3},
    {5, 1, 0, 0, 1}, /* one element: 1 and 0 */
    {5, 1, 1, 0, 1},
};

static void write_softmax(Emitter *e, int vlen) {
  (void)vlen;
  char *table = cn_strdup("");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *fn = cn_format("softmax%zu", i);
    Instance *t = tpl_begin(e, "softmax.c", fn);
    tpl_int(t, "ROWS", cases[i].rows);
    tpl_int(t, "LEN", cases[i].len);
    tpl_int(t, "LOG", cases[i].log);
    tpl_end(t);
    table = cn_format("%s    {%s, %d, %d, %d, %d, %s},\n", table, fn, cases[i].rows, cases[i].len, cases[i].log,
                      cases[i].in_place, emit_float(cases[i].scale, DT_FLOAT));
  }
  fprintf(e->kernels, "static const struct softmax_case softmax_cases[] = {\n%s};\n\n", table);
}

static void test_softmax(void) {
  tb_run_template_tests("softmax_test.c", write_softmax,
                        "  for (size_t i = 0; i < sizeof softmax_cases / sizeof softmax_cases[0]; i++)\n"
                        "    softmax_run(&softmax_cases[i]);\n"
                        "  return test_failures;");
}

CU_TestInfo tpl_softmax_tests[] = {
    {"Softmax and LogSoftmax over the last axis", test_softmax},
    CU_TEST_INFO_NULL,
};
