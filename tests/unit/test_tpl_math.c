/* templates/simd_math.h: vector exp, tanh, sigmoid and SiLU within their documented error bounds on a sample of
 * all floats and the special values (template_checks/math_accuracy.c); the cheap activations against the
 * scalar formulas of the generic target. */
#include "template_harness.h"
#include "testutil.h"

static void test_math_accuracy(void) {
  tpl_build_and_run("math_accuracy", "#define MATH_STEP 997\n#include \"math_accuracy.c\"\n");
}

static void test_activations(void) {
  tpl_build_and_run("activations", "#include \"check.h\"\n#include \"activations.h\"\n");
}

CU_TestInfo tpl_math_tests[] = {
    {"exp, tanh, sigmoid, SiLU within their error bounds", test_math_accuracy},
    {"ReLU, LeakyReLU, Clip, HardSigmoid, HardSwish as the scalar formulas", test_activations},
    CU_TEST_INFO_NULL,
};
