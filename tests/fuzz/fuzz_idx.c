/* libFuzzer target: the runtime's IDX reader (cnnrt_idx_read), plain or gzip-compressed, on the bytes of a file. */
#include "cnnrt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4200];

static void remove_file(void) { remove(path); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *tmp = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/cnnc-fuzz-idx-%ld", tmp && tmp[0] ? tmp : "/tmp", (long)getpid());
  atexit(remove_file);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
    abort();
  cnnrt_tensor t;
  if (cnnrt_idx_read(path, &t) == CNNRT_OK)
    cnnrt_tensor_free(&t);
  return 0;
}
