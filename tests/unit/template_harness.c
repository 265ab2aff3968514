#include "template_harness.h"

#include "testutil.h"

#include <stdio.h>
#include <string.h>

typedef struct Isa {
  const char *name;
  const char *define;   /* the macro that selects the simd.h section */
  const char *flags[8]; /* what the compiler needs to accept its intrinsics, NULL-terminated */
  bool (*supported)(void);
} Isa;

static bool has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
static bool has_avx512(void) { return __builtin_cpu_supports("avx512f") && has_avx2(); }


static const Isa isas[] = {
    /* exactly the features the avx512 target compiles for: AVX-512F without DQ, BW or VL */
    {"avx512", "CNNC_ISA_AVX512", {"-mavx512f", "-mavx2", "-mfma"}, has_avx512},
    {"avx2", "CNNC_ISA_AVX2", {"-mavx2", "-mfma"}, has_avx2},
};

static const char *const compilers[] = {"gcc", "clang"};

char *tpl_instance(const char *template_file, const char *const *defines) {
  char *defs = cn_strdup(""), *undefs = cn_strdup("");
  for (int i = 0; defines[i]; i++) {
    size_t name_len = strcspn(defines[i], " (");
    defs = cn_format("%s#define %s\n", defs, defines[i]);
    undefs = cn_format("%s#undef %.*s\n", undefs, (int)name_len, defines[i]);
  }
  return cn_format("%s#include \"%s\"\n%s", defs, template_file, undefs);
}

int tpl_build_and_run(const char *test_name, const char *body) {
  char *dir = cn_make_temp_dir("tpl");
  char *inc_templates = cn_format("-I%s/templates", CNNC_SOURCE_DIR);
  char *inc_checks = cn_format("-I%s/tests/unit/template_checks", CNNC_SOURCE_DIR);
  int ran = 0;
  bool all_ok = true;
  for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
    const Isa *isa = &isas[i];
    char *src = cn_format("%s/%s_%s.c", dir, test_name, isa->name);
    FILE *f = fopen(src, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "#define %s 1\n#include \"simd_k2.h\"\n#include \"simd_math.h\"\n%s", isa->define, body);
    fclose(f);
    for (size_t k = 0; k < sizeof compilers / sizeof compilers[0]; k++) {
      char *exe = cn_format("%s/%s_%s_%s", dir, test_name, isa->name, compilers[k]);
      const char *args[16];
      int n_args = 0;
      for (int j = 0; isa->flags[j]; j++)
        args[n_args++] = isa->flags[j];
      const char *rest[] = {inc_templates, inc_checks, "-o", exe, src, "-lm"};
      for (size_t j = 0; j < sizeof rest / sizeof rest[0]; j++)
        args[n_args++] = rest[j];
      CcOptions cc = {.cc = compilers[k], .opt = "-O2", .werror = true};
      int status = cc_run(&cc, args, n_args);
      if (status != 0) {
        printf("\n%s: %s for %s does not compile (%s kept)\n", test_name, compilers[k], isa->name, dir);
        CU_FAIL("template does not compile");
        all_ok = false;
        continue;
      }
      if (!isa->supported())
        continue;
      const char *run[] = {exe, NULL};
      status = cn_spawn(run);
      ran++;
      if (status != 0) {
        printf("\n%s: %s build for %s fails its check (status %d; %s kept)\n", test_name, compilers[k], isa->name,
               status, dir);
        CU_FAIL("template result differs from the reference");
        all_ok = false;
      }
    }
  }
  if (all_ok) {
    const char *rm[] = {"rm", "-rf", dir, NULL};
    cn_spawn(rm);
  }
  CU_ASSERT(ran > 0); /* a machine without AVX2 runs nothing, and that is not a pass */
  return ran;
}
