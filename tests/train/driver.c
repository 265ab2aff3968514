/* The C side of torch_compare.py: runs cnnc's training code (compiled with --name net) for STEPS steps on the
 * batches the script wrote into DIR, and writes back what the script compares with PyTorch:
 *   DIR/input<i>.bin, DIR/targets.bin   STEPS batches of each input and of the targets
 *   DIR/eval_input<i>.bin               one batch for P_run after the steps
 *   -> DIR/losses.bin    the loss of each step (float)
 *      DIR/grads.bin     each step's gradients, parameter by parameter (net_param_info order)
 *      DIR/params.bin    the parameters after the last step
 *      DIR/states.bin    the running statistics after the last step
 *      DIR/eval_output<j>.bin  net_run's outputs */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *path(const char *dir, const char *name, int index) {
  static char buf[4096];
  if (index >= 0)
    snprintf(buf, sizeof buf, "%s/%s%d.bin", dir, name, index);
  else
    snprintf(buf, sizeof buf, "%s/%s.bin", dir, name);
  return buf;
}

static void *read_exact(const char *file, size_t bytes) {
  FILE *f = fopen(file, "rb");
  void *buf = malloc(bytes ? bytes : 1);
  if (!f || !buf || fread(buf, 1, bytes, f) != bytes) {
    fprintf(stderr, "driver: cannot read %zu bytes from %s\n", bytes, file);
    exit(2);
  }
  fclose(f);
  return buf;
}

static FILE *create(const char *file) {
  FILE *f = fopen(file, "wb");
  if (!f) {
    fprintf(stderr, "driver: cannot write %s\n", file);
    exit(2);
  }
  return f;
}

static size_t tensor_bytes(const cnnc_tensor_info *t) { return t->count * t->elem_size; }

int main(int argc, char **argv) {
  if (argc != 3)
    return 2;
  int steps = atoi(argv[1]);
  const char *dir = argv[2];
  unsigned char *inputs[net_NUM_INPUTS];
  for (int i = 0; i < net_NUM_INPUTS; i++)
    inputs[i] = read_exact(path(dir, "input", i), steps * tensor_bytes(&net_input_info[i]));
  size_t target_bytes = net_TARGET_COUNT * (net_TARGET_ELEM_TYPE == 7 ? 8 : 4);
  unsigned char *targets = read_exact(path(dir, "targets", -1), steps * target_bytes);

  FILE *losses = create(path(dir, "losses", -1)), *grads = create(path(dir, "grads", -1));
  float buf[1 << 16];
  for (int s = 0; s < steps; s++) {
    const void *in[net_NUM_INPUTS + 1];
    for (int i = 0; i < net_NUM_INPUTS; i++)
      in[i] = inputs[i] + s * tensor_bytes(&net_input_info[i]);
    const void *tg[1] = {targets + s * target_bytes};
    float loss;
    int rc = net_train_step(in, tg, &loss);
    if (rc != 0) {
      fprintf(stderr, "driver: net_train_step returned %d\n", rc);
      return 3;
    }
    fwrite(&loss, sizeof loss, 1, losses);
    for (int p = 0; p < net_NUM_PARAMS; p++) {
      if (net_param_info[p].count > sizeof buf / sizeof buf[0] || net_get_grad(p, buf) != 0)
        return 4;
      fwrite(buf, sizeof *buf, net_param_info[p].count, grads);
    }
  }
  fclose(losses);
  fclose(grads);

  FILE *params = create(path(dir, "params", -1));
  for (int p = 0; p < net_NUM_PARAMS; p++) {
    if (net_get_param(p, buf) != 0)
      return 5;
    fwrite(buf, sizeof *buf, net_param_info[p].count, params);
  }
  fclose(params);
  FILE *states = create(path(dir, "states", -1));
  for (int p = 0; p < net_NUM_STATES; p++) {
    if (net_state_info[p].count > sizeof buf / sizeof buf[0] || net_get_state(p, buf) != 0)
      return 6;
    fwrite(buf, sizeof *buf, net_state_info[p].count, states);
  }
  fclose(states);

  const void *eval_in[net_NUM_INPUTS + 1];
  void *eval_out[net_NUM_OUTPUTS + 1];
  for (int i = 0; i < net_NUM_INPUTS; i++)
    eval_in[i] = read_exact(path(dir, "eval_input", i), tensor_bytes(&net_input_info[i]));
  for (int j = 0; j < net_NUM_OUTPUTS; j++)
    eval_out[j] = malloc(tensor_bytes(&net_output_info[j]));
  if (net_run(eval_in, eval_out) != 0)
    return 7;
  for (int j = 0; j < net_NUM_OUTPUTS; j++) {
    FILE *f = create(path(dir, "eval_output", j));
    fwrite(eval_out[j], 1, tensor_bytes(&net_output_info[j]), f);
    fclose(f);
  }
  return 0;
}
