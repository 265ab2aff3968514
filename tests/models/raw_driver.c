/* Runs a model generated with --name model on raw little-endian input files and writes raw output files:
 *   driver INPUT_0.bin ... OUTPUT_0.bin ...
 * (opt_levels.sh builds it with the model at -O0 for the reference the other levels must match). */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 1 + model_NUM_INPUTS + model_NUM_OUTPUTS) {
    fprintf(stderr, "usage: driver %d inputs %d outputs\n", model_NUM_INPUTS, model_NUM_OUTPUTS);
    return 2;
  }
  const void *in[model_NUM_INPUTS + 1] = {0};
  void *out[model_NUM_OUTPUTS + 1] = {0};
  int status = 0;
  for (int i = 0; i < model_NUM_INPUTS; i++) {
    size_t bytes = model_input_info[i].count * model_input_info[i].elem_size;
    void *buf = malloc(bytes ? bytes : 1);
    FILE *f = fopen(argv[1 + i], "rb");
    if (!buf || !f || fread(buf, 1, bytes, f) != bytes)
      status = 3;
    if (f)
      fclose(f);
    in[i] = buf;
  }
  for (int i = 0; i < model_NUM_OUTPUTS; i++)
    out[i] = calloc(model_output_info[i].count + 1, model_output_info[i].elem_size);
  if (!status && model_run(in, out) != 0)
    status = 4;
  for (int i = 0; i < model_NUM_OUTPUTS && !status; i++) {
    size_t bytes = model_output_info[i].count * model_output_info[i].elem_size;
    FILE *f = fopen(argv[1 + model_NUM_INPUTS + i], "wb");
    if (!f || fwrite(out[i], 1, bytes, f) != bytes || fclose(f) != 0)
      status = 5;
  }
  for (int i = 0; i < model_NUM_INPUTS; i++)
    free((void *)in[i]);
  for (int i = 0; i < model_NUM_OUTPUTS; i++)
    free(out[i]);
  return status;
}
