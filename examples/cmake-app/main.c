/* classify_image: the Fashion-MNIST classes of images, with a model that cnnc_add_model() compiled at build
 * time (fashion.h) and the cnnc runtime to read the images. usage: classify_image IMAGE... */
#include "fashion.h"

#include <cnnrt.h>
#include <stdio.h>

static const char *const classes[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s IMAGE...\n", argv[0]);
    return 2;
  }
  static float image[1][1][28][28];
  static float scores[1][10];
  _Static_assert(fashion_INPUT_0_COUNT == 28 * 28 && fashion_OUTPUT_0_COUNT == 10, "a 28x28 image, 10 classes");
  cnnrt_image_opts opts;
  cnnrt_image_opts_init(&opts, 1, 28, 28); /* grey, 28x28, pixel/255: how the model was trained */
  for (int i = 1; i < argc; i++) {
    if (cnnrt_image_load(argv[i], &opts, &image[0][0][0][0]) != CNNRT_OK) {
      fprintf(stderr, "%s\n", cnnrt_last_error());
      return 1;
    }
    if (fashion_infer(image, scores) != 0)
      return 1;
    cnnrt_softmax(scores[0], 10);
    size_t best[3];
    cnnrt_topk(scores[0], 10, 3, best);
    printf("%s:\n", argv[i]);
    for (int k = 0; k < 3; k++)
      printf("  %5.1f%%  %s\n", 100 * scores[0][best[k]], classes[best[k]]);
  }
  return 0;
}
