/* shuffle.c: the trainer's randomness (counter-based, so nothing needs
 * saving to resume), the shuffled order of each epoch and augmentation. */
#include <stdlib.h>
#include <string.h>

#include "cnnrt_internal.h"
#include "cnnrt_train.h"

uint64_t cnnrt_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15u;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

uint64_t cnnrt_random(uint64_t seed, uint64_t stream, uint64_t index) {
  return cnnrt_mix64(cnnrt_mix64(cnnrt_mix64(seed) ^ stream) ^ index);
}

/* Streams of cnnrt_random for the permutation of an epoch; the trainer's
 * augmentation uses its own (see train.c). */
#define STREAM_SHUFFLE 0x5348554646ull /* "SHUFF" */

void cnnrt_permutation(uint64_t seed, uint64_t epoch, uint32_t *perm,
                       size_t n) {
  for (size_t i = 0; i < n; i++)
    perm[i] = (uint32_t)i;
  uint64_t stream = STREAM_SHUFFLE ^ cnnrt_mix64(epoch);
  for (size_t i = n; i > 1; i--) {
    /* The modulo's bias is below n / 2^64: invisible, and deterministic. */
    size_t j = (size_t)(cnnrt_random(seed, stream, i) % i);
    uint32_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
}

int cnnrt_augment_parse(const char *spec, cnnrt_augment *aug) {
  memset(aug, 0, sizeof *aug);
  if (strcmp(spec, "none") == 0)
    return CNNRT_OK;
  const char *p = spec;
  while (*p) {
    size_t len = strcspn(p, ",");
    if (len == 4 && strncmp(p, "flip", 4) == 0) {
      aug->flip = 1;
    } else if (len > 5 && strncmp(p, "crop:", 5) == 0) {
      char *end;
      long v = strtol(p + 5, &end, 10);
      if (end != p + len || v < 0 || v > 1024)
        return cnnrt_fail(CNNRT_ERR_ARG,
                          "--augment: crop takes a number of pixels from 0 "
                          "to 1024, as in crop:4, not '%.*s'",
                          (int)len, p);
      aug->crop = (int)v;
    } else {
      return cnnrt_fail(CNNRT_ERR_ARG,
                        "--augment: expected crop:PIXELS, flip or none, not "
                        "'%.*s'",
                        (int)len, p);
    }
    p += len + (p[len] == ',');
  }
  return CNNRT_OK;
}

void cnnrt_augment_image(const cnnrt_augment *aug, uint64_t r,
                         const float *src, float *dst, int channels,
                         int height, int width) {
  int span = 2 * aug->crop + 1;
  /* Independent bits of r: the two shifts from the low and middle words,
   * the flip from the top bit. */
  int dy = aug->crop ? (int)((r & 0xffffff) % (unsigned)span) - aug->crop : 0;
  int dx = aug->crop ? (int)(((r >> 24) & 0xffffff) % (unsigned)span) -
                           aug->crop
                     : 0;
  int flip = aug->flip && (r >> 63);
  for (int c = 0; c < channels; c++) {
    const float *s = src + (size_t)c * height * width;
    float *d = dst + (size_t)c * height * width;
    for (int y = 0; y < height; y++) {
      int sy = y + dy;
      for (int x = 0; x < width; x++) {
        int sx = (flip ? width - 1 - x : x) + dx;
        int inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        d[(size_t)y * width + x] = inside ? s[(size_t)sy * width + sx] : 0.0f;
      }
    }
  }
}
