/* Trains a classifier compiled with `cnnc MODEL --train --name net` on IDX data (MNIST's format), then reports
 * its accuracy on a test set: the training contract of net.h in use. The inputs are images scaled to [0, 1];
 * the batches are taken in order, the last partial one left out.
 *
 * usage: train TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS [EPOCHS [LIMIT]]
 *   LIMIT caps the training images used per epoch. */
#include "cnnrt.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>

#define IMAGE (net_INPUT_0_COUNT / net_BATCH)
#define CLASSES (net_OUTPUT_0_COUNT / net_BATCH)

static void read_idx(const char *path, cnnrt_tensor *t) {
  if (cnnrt_idx_read(path, t) != 0 || t->elem_type != 2 /* uint8 */) {
    fprintf(stderr, "train: cannot read %s as IDX bytes\n", path);
    exit(1);
  }
}

/* Batch b of the data set: images scaled to [0, 1], labels as class indices. */
static void batch(const cnnrt_tensor *images, const cnnrt_tensor *labels, size_t b, float *x, int64_t *t) {
  const unsigned char *pixels = images->data, *classes = labels->data;
  for (size_t i = 0; i < (size_t)net_BATCH * IMAGE; i++)
    x[i] = pixels[b * net_BATCH * IMAGE + i] / 255.0f;
  for (size_t i = 0; i < net_BATCH; i++)
    t[i] = classes[b * net_BATCH + i];
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: train TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS [EPOCHS [LIMIT]]\n");
    return 2;
  }
  cnnrt_tensor train_x, train_y, test_x, test_y;
  read_idx(argv[1], &train_x);
  read_idx(argv[2], &train_y);
  read_idx(argv[3], &test_x);
  read_idx(argv[4], &test_y);
  int epochs = argc > 5 ? atoi(argv[5]) : 1;
  size_t limit = argc > 6 ? (size_t)atol(argv[6]) : train_y.count;
  if (limit > train_y.count)
    limit = train_y.count;

  static float x[net_BATCH * IMAGE], scores[net_BATCH * CLASSES];
  static int64_t t[net_BATCH];
  const void *inputs[] = {x}, *targets[] = {t};
  void *outputs[] = {scores};
  for (int epoch = 0; epoch < epochs; epoch++) {
    double total = 0;
    size_t steps = limit / net_BATCH;
    for (size_t b = 0; b < steps; b++) {
      float loss;
      batch(&train_x, &train_y, b, x, t);
      if (net_train_step(inputs, targets, &loss) != 0)
        return 1;
      total += loss;
    }
    printf("epoch %d: mean loss %.4f over %zu steps\n", epoch + 1, total / (double)steps, steps);
  }

  size_t correct = 0, tested = test_y.count / net_BATCH * net_BATCH;
  for (size_t b = 0; b < tested / net_BATCH; b++) {
    batch(&test_x, &test_y, b, x, t);
    if (net_run(inputs, outputs) != 0)
      return 1;
    for (size_t i = 0; i < net_BATCH; i++) {
      size_t best = 0;
      for (size_t c = 1; c < CLASSES; c++)
        if (scores[i * CLASSES + c] > scores[i * CLASSES + best])
          best = c;
      correct += (int64_t)best == t[i];
    }
  }
  printf("test accuracy: %.2f%% (%zu/%zu)\n", 100.0 * (double)correct / (double)tested, correct, tested);
  return 0;
}
