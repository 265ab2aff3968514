/* Runs three compiled models in one program and compares the ONNX ones with their reference outputs:
 *   several_models A_INPUT A_EXPECTED B_INPUT B_EXPECTED   (raw float32 files of 784 and 10 values)
 * Exit 0 when both agree to 1e-4 x max(1, max|ref|), the .cnn network (seeded weights, no reference) gives
 * ten finite scores for A's input, and its training code, repeating one step on one batch, lowers the loss. */
#include "cnn_lenet.h"
#include "digits.h"
#include "lenet.h"
#include "lenet_train.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static int read_floats(const char *path, float *x, size_t n) {
  FILE *f = fopen(path, "rb");
  size_t got = f ? fread(x, sizeof *x, n, f) : 0;
  if (f)
    fclose(f);
  if (got != n)
    fprintf(stderr, "%s: expected %zu floats\n", path, n);
  return got == n;
}

static int agrees(const char *what, const float *got, const float *ref, size_t n) {
  float max_diff = 0, max_ref = 1;
  for (size_t i = 0; i < n; i++) {
    max_diff = fmaxf(max_diff, fabsf(got[i] - ref[i]));
    max_ref = fmaxf(max_ref, fabsf(ref[i]));
  }
  printf("%s: max |got-ref| %.3g: %s\n", what, max_diff, max_diff <= 1e-4f * max_ref ? "pass" : "FAIL");
  return max_diff <= 1e-4f * max_ref;
}

int main(int argc, char **argv) {
  static float a_in[lenet_INPUT_0_COUNT], a_ref[lenet_OUTPUT_0_COUNT], a_out[lenet_OUTPUT_0_COUNT];
  static float b_in[digits_INPUT_0_COUNT], b_ref[digits_OUTPUT_0_COUNT], b_out[digits_OUTPUT_0_COUNT];
  if (argc != 5 || !read_floats(argv[1], a_in, lenet_INPUT_0_COUNT) ||
      !read_floats(argv[2], a_ref, lenet_OUTPUT_0_COUNT) || !read_floats(argv[3], b_in, digits_INPUT_0_COUNT) ||
      !read_floats(argv[4], b_ref, digits_OUTPUT_0_COUNT))
    return 2;
  const void *a_inputs[] = {a_in}, *b_inputs[] = {b_in};
  void *a_outputs[] = {a_out}, *b_outputs[] = {b_out};
  if (lenet_run(a_inputs, a_outputs) != 0 || digits_run(b_inputs, b_outputs) != 0)
    return 3;
  int ok = agrees("lenet", a_out, a_ref, lenet_OUTPUT_0_COUNT);
  ok &= agrees("digits", b_out, b_ref, digits_OUTPUT_0_COUNT);
  static float c_out[cnn_lenet_OUTPUT_0_COUNT];
  _Static_assert(cnn_lenet_INPUT_0_COUNT == lenet_INPUT_0_COUNT, "the .cnn network reads A's input");
  void *c_outputs[] = {c_out};
  int finite = cnn_lenet_run(a_inputs, c_outputs) == 0 && cnn_lenet_OUTPUT_0_COUNT == 10;
  for (int i = 0; i < cnn_lenet_OUTPUT_0_COUNT; i++)
    finite &= isfinite(c_out[i]);
  printf("cnn_lenet: %s\n", finite ? "pass" : "FAIL");
  ok &= finite;
  static float batch[lenet_train_INPUT_0_COUNT];
  _Static_assert(lenet_train_INPUT_0_COUNT == lenet_train_BATCH * lenet_INPUT_0_COUNT, "a batch of A's inputs");
  int64_t labels[lenet_train_BATCH];
  for (int i = 0; i < lenet_train_BATCH; i++) {
    labels[i] = i;
    for (int k = 0; k < lenet_INPUT_0_COUNT; k++)
      batch[i * lenet_INPUT_0_COUNT + k] = a_in[k] * (float)(i + 1) / lenet_train_BATCH;
  }
  const void *train_inputs[] = {batch}, *targets[] = {labels};
  float first = 0, loss = 0;
  int trained = lenet_train_train_step(train_inputs, targets, &first) == 0;
  for (int step = 0; step < 4; step++)
    trained &= lenet_train_train_step(train_inputs, targets, &loss) == 0;
  trained &= isfinite(first) && loss < first;
  printf("lenet_train: loss %.4f, then %.4f after 4 more steps: %s\n", first, loss, trained ? "pass" : "FAIL");
  ok &= trained;
  return ok ? 0 : 1;
}
