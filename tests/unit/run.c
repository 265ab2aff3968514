/* The unit test runner: registers every suite in suites.def; exits non-zero on any failure. */
#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#define SUITE(name, array) extern CU_TestInfo array[];
#include "suites.def"
#undef SUITE

int main(void) {
  CU_SuiteInfo suites[] = {
#define SUITE(name, array) {name, NULL, NULL, NULL, NULL, array},
#include "suites.def"
#undef SUITE
      CU_SUITE_INFO_NULL,
  };
  if (CU_initialize_registry() != CUE_SUCCESS || CU_register_suites(suites) != CUE_SUCCESS)
    return 2;
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
