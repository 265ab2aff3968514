/* Targets: the instruction set the generated kernels use. generic is portable C; avx2 (AVX2 + FMA, 8 floats
 * per vector) and avx512 (AVX-512F, 16 floats) instantiate templates/ through templates/simd.h.
 *
 * The generated file compiles its functions for the target with a pragma rather than -m flags, so the user's
 * plain `cc -O2 -c model.c` works; P_run, compiled for the baseline ISA, checks the CPU before it calls a
 * single kernel and returns P_ERR_ISA on a CPU without the instruction set instead of faulting. */
#include "cnnc.h"

static const struct {
  const char *name;
  int floats;          /* per vector */
  const char *isa_macro; /* what templates/simd.h selects its section by */
  const char *features;  /* for target pragmas and attributes */
  const char *check;     /* run-time CPU test */
  const char *description;
} targets[] = {
    [TARGET_GENERIC] = {"generic", 1, NULL, NULL, NULL, NULL},
    [TARGET_AVX2] = {"avx2", 8, "CNNC_ISA_AVX2", "avx2,fma",
                     "__builtin_cpu_supports(\"avx2\") && __builtin_cpu_supports(\"fma\")", "AVX2 and FMA"},
    [TARGET_AVX512] = {"avx512", 16, "CNNC_ISA_AVX512", "avx512f,avx2,fma",
                       "__builtin_cpu_supports(\"avx512f\") && __builtin_cpu_supports(\"avx2\") && "
                       "__builtin_cpu_supports(\"fma\")",
                       "AVX-512F"},
    [TARGET_NEON] = {"neon", 4, NULL, NULL, NULL, NULL},
};

const char *target_name(Target t) { return targets[t].name; }
int target_vector_floats(Target t) { return t == TARGET_NEON ? 1 : targets[t].floats; }
const char *target_cpu_check(Target t) { return targets[t].check; }
const char *target_isa_description(Target t) { return targets[t].description; }

/* __builtin_cpu_supports also checks that the operating system saves the vector registers (XCR0), so a
 * kernel chosen here can run on this machine. */
Target target_native(const char **why) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    *why = "native: the machine running cnnc has AVX-512F";
    return TARGET_AVX512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    *why = "native: the machine running cnnc has AVX2 and FMA, not AVX-512F";
    return TARGET_AVX2;
  }
  *why = "native: the machine running cnnc has neither AVX-512F nor AVX2 with FMA";
  return TARGET_GENERIC;
#else
  *why = "native: the machine running cnnc is not x86-64, and NEON kernels do not exist yet";
  return TARGET_GENERIC;
#endif
}

void target_emit_begin(FILE *out, Target t, bool templates) {
  if (!targets[t].isa_macro)
    return;
  fprintf(out, "/* The kernels use %s. The pragmas compile every function up to P_run for it, so no -m flag is\n"
               " * needed; P_run itself stays baseline x86-64 and checks the CPU first. */\n",
          targets[t].description);
  if (templates)
    fprintf(out, "#define %s 1\n#include <immintrin.h>\n", targets[t].isa_macro);
  fprintf(out, "#if defined(__clang__)\n"
               "#pragma clang attribute push(__attribute__((target(\"%s\"))), apply_to = function)\n"
               "#elif defined(__GNUC__)\n"
               "#pragma GCC push_options\n"
               "#pragma GCC target(\"%s\")\n"
               "#endif\n\n",
          targets[t].features, targets[t].features);
  if (!templates)
    return;
  size_t size;
  const char *simd = template_text("simd.h", &size);
  fwrite(simd, 1, size, out);
  fputc('\n', out);
}

void target_emit_end(FILE *out, Target t) {
  if (!targets[t].isa_macro)
    return;
  fprintf(out, "/* End of the %s functions: what follows runs on any x86-64. */\n"
               "#if defined(__clang__)\n#pragma clang attribute pop\n#elif defined(__GNUC__)\n#pragma GCC pop_options\n"
               "#endif\n\n",
          targets[t].name);
}
