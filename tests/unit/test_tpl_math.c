/* templates/simd_math.h: vector exp, tanh, sigmoid and SiLU within their documented error bounds on a sample of
 * all floats and the special values, and the piecewise activations as the generic target's scalar formulas
 * (tests/unit/templates/simd_math_test.c), for every SIMD target and compiler. */
#include "testutil.h"

static void test_accuracy(void) { tb_run_template_tests("simd_math_test.c", NULL, "  return accuracy_failures();"); }

static void test_piecewise(void) { tb_run_template_tests("simd_math_test.c", NULL, "  return piecewise_failures();"); }

CU_TestInfo tpl_math_tests[] = {
    {"exp, tanh, sigmoid, SiLU within their error bounds", test_accuracy},
    {"ReLU, LeakyReLU, Clip, HardSigmoid, HardSwish as the scalar formulas", test_piecewise},
    CU_TEST_INFO_NULL,
};
