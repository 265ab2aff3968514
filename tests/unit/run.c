/* The unit test runner: registers every suite in suites.def and runs them all, or the one named on the
 * command line (CTest runs each suite as its own test). Exits non-zero on any failure. */
#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>

#define SUITE(name, array) extern CU_TestInfo array[];
#include "suites.def"
#undef SUITE

int main(int argc, char **argv) {
  CU_SuiteInfo suites[] = {
#define SUITE(name, array) {name, NULL, NULL, NULL, NULL, array},
#include "suites.def"
#undef SUITE
      CU_SUITE_INFO_NULL,
  };
  if (CU_initialize_registry() != CUE_SUCCESS || CU_register_suites(suites) != CUE_SUCCESS)
    return 2;
  CU_basic_set_mode(CU_BRM_VERBOSE);
  if (argc > 1) {
    CU_pSuite suite = CU_get_suite(argv[1]);
    if (!suite) {
      fprintf(stderr, "no test suite named '%s'\n", argv[1]);
      return 2;
    }
    CU_basic_run_suite(suite);
  } else {
    CU_basic_run_tests();
  }
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  unsigned ran = CU_get_number_of_tests_run();
  CU_cleanup_registry();
  return failed || ran == 0 ? 1 : 0;
}
