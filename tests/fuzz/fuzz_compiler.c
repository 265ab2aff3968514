/* libFuzzer target: the whole compiler, from the bytes of a model file to C source, as `cnnc MODEL` runs it
 * (loading, function inlining, shape inference and folding, fusion, layouts, the arena planned, the weights
 * written), for the generic target and then for AVX-512 (NCHWc layouts and the SIMD templates). Built twice:
 * fuzz_compiler with MODEL_FILE "model.onnx" (the ONNX loader) and fuzz_dsl with "model.cnn" (the DSL parser).
 * Every input must end in generated code or a cnnc error; an internal error (a failed CN_ASSERT) aborts, so
 * libFuzzer reports it as a crash. The model is written to a file in a directory of its own, so external data
 * can only name files there (the model itself). Everything the compiler allocated is released after each input. */
#include "cnnc.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *model, dir[4096];
static FILE *sink;
static jmp_buf on_error;

static void remove_files(void) {
  remove(model);
  rmdir(dir);
}

/* Errors are "<model>: error: ...", internal errors "<model>: internal error at ..." (names from the model
 * can contain anything, so only the prefix tells them apart). */
static void on_fatal(const char *message) {
  size_t len = strlen(model);
  if (strncmp(message, model, len) == 0 && strncmp(message + len, ": internal error at ", 20) == 0) {
    fprintf(stderr, "%s\n", message);
    abort();
  }
  longjmp(on_error, 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/cnnc-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(dir) || !(sink = fopen("/dev/null", "w")))
    abort();
  static char path[4200];
  snprintf(path, sizeof path, "%s/" MODEL_FILE, dir);
  model = path;
  atexit(remove_files);
  diag_fatal_hook = on_fatal;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(model, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
    abort();
  static const Target targets[] = {TARGET_GENERIC, TARGET_AVX512};
  for (int i = 0; i < 2; i++) {
    volatile bool failed /* read after longjmp */ = true;
    if (setjmp(on_error) == 0) {
      PipelineOptions po = {.target = targets[i]};
      Compiled c = pipeline_run(model, &po);
      EmitOptions eo = {.prefix = "model", .command_line = "fuzz", .header_name = "model.h", .target = targets[i]};
      emit_c(c.graph, &c.plan, &eo, sink, sink);
      failed = false;
    }
    onnx_release();
    dsl_release();
    cn_free_all();
    if (failed)
      break;
  }
  return 0;
}
