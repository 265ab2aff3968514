/* libFuzzer target: the runtime's image loader (cnnrt_image_load: PNG, JPEG, BMP, PGM/PPM, then conversion,
 * resizing and normalization) on the bytes of a file. The output size and channels vary with the input's
 * length, so resizing up and down and both channel counts are exercised. */
#include "cnnrt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4200];

static void remove_file(void) { remove(path); }
static float out[3 * 64 * 64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *tmp = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/cnnc-fuzz-image-%ld", tmp && tmp[0] ? tmp : "/tmp", (long)getpid());
  atexit(remove_file);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
    abort();
  cnnrt_image_opts opts;
  cnnrt_image_opts_init(&opts, size % 2 ? 3 : 1, 1 + (int)(size % 61), 1 + (int)(size / 61 % 64));
  opts.layout = size % 3 ? CNNRT_LAYOUT_NCHW : CNNRT_LAYOUT_NHWC;
  cnnrt_image_load(path, &opts, out);
  return 0;
}
