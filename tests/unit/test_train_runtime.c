/* test_train_runtime.c: the trainer's parts in runtime/ (cnnrt_train.h):
 * shuffling, augmentation, checkpoints and plots. The trainer program as a
 * whole is tested end to end in tests/trainer. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnnrt_train.h"

static char *temp_dir(void) {
  static char dir[64];
  snprintf(dir, sizeof dir, "/tmp/cnnc_train_rt_XXXXXX");
  CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  return dir;
}

static char *read_text(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  char *buf = malloc(1 << 20);
  *size = fread(buf, 1, (1 << 20) - 1, f);
  buf[*size] = '\0';
  fclose(f);
  return buf;
}

static void test_permutation(void) {
  enum { N = 1000 };
  static uint32_t a[N], b[N], c[N];
  cnnrt_permutation(7, 0, a, N);
  cnnrt_permutation(7, 0, b, N);
  CU_ASSERT(memcmp(a, b, sizeof a) == 0); /* the same seed and epoch, the same order */
  static unsigned char seen[N];
  size_t fixed = 0;
  for (size_t i = 0; i < N; i++) {
    CU_ASSERT_FATAL(a[i] < N);
    CU_ASSERT(!seen[a[i]]);
    seen[a[i]] = 1;
    fixed += a[i] == i;
  }
  CU_ASSERT(fixed < 10); /* shuffled: a random permutation fixes about one */
  cnnrt_permutation(7, 1, b, N);
  cnnrt_permutation(8, 0, c, N);
  CU_ASSERT(memcmp(a, b, sizeof a) != 0); /* each epoch its own order */
  CU_ASSERT(memcmp(a, c, sizeof a) != 0); /* each seed too */
  uint32_t one = 5;
  cnnrt_permutation(1, 2, &one, 1);
  CU_ASSERT_EQUAL(one, 0);
}

static void test_augment_parse(void) {
  cnnrt_augment a;
  CU_ASSERT_EQUAL(cnnrt_augment_parse("crop:4,flip", &a), CNNRT_OK);
  CU_ASSERT(a.crop == 4 && a.flip == 1);
  CU_ASSERT_EQUAL(cnnrt_augment_parse("flip", &a), CNNRT_OK);
  CU_ASSERT(a.crop == 0 && a.flip == 1);
  CU_ASSERT_EQUAL(cnnrt_augment_parse("crop:2", &a), CNNRT_OK);
  CU_ASSERT(a.crop == 2 && a.flip == 0);
  CU_ASSERT_EQUAL(cnnrt_augment_parse("none", &a), CNNRT_OK);
  CU_ASSERT(a.crop == 0 && a.flip == 0);
  CU_ASSERT_EQUAL(cnnrt_augment_parse("crop:x", &a), CNNRT_ERR_ARG);
  CU_ASSERT(strstr(cnnrt_last_error(), "crop:x") != NULL);
  CU_ASSERT_EQUAL(cnnrt_augment_parse("crop:-1", &a), CNNRT_ERR_ARG);
  CU_ASSERT_EQUAL(cnnrt_augment_parse("rotate", &a), CNNRT_ERR_ARG);
  CU_ASSERT(strstr(cnnrt_last_error(), "rotate") != NULL);
}

/* Every output pixel is the input pixel the shift and flip say, or zero
 * where that lies outside; over many draws every shift in -crop .. crop and
 * both flips occur. */
static void test_augment_image(void) {
  enum { C = 2, H = 5, W = 7 };
  float src[C * H * W], dst[C * H * W];
  for (int i = 0; i < C * H * W; i++)
    src[i] = (float)(i + 1);
  cnnrt_augment aug = {2, 1};
  int seen[5][5][2] = {{{0}}};
  for (uint64_t k = 0; k < 400; k++) {
    uint64_t r = cnnrt_random(3, 9, k);
    cnnrt_augment_image(&aug, r, src, dst, C, H, W);
    /* Find the shift and flip that explain dst, checking all of it. */
    int found = 0;
    for (int dy = -2; dy <= 2 && !found; dy++)
      for (int dx = -2; dx <= 2 && !found; dx++)
        for (int flip = 0; flip < 2 && !found; flip++) {
          int ok = 1;
          for (int c = 0; c < C && ok; c++)
            for (int y = 0; y < H && ok; y++)
              for (int x = 0; x < W && ok; x++) {
                int sy = y + dy, sx = (flip ? W - 1 - x : x) + dx;
                float want = sy >= 0 && sy < H && sx >= 0 && sx < W
                                 ? src[(c * H + sy) * W + sx]
                                 : 0.0f;
                ok = dst[(c * H + y) * W + x] == want;
              }
          if (ok) {
            seen[dy + 2][dx + 2][flip] = 1;
            found = 1;
          }
        }
    CU_ASSERT_FATAL(found);
  }
  int all = 1;
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 5; j++)
      all &= seen[i][j][0] & seen[i][j][1];
  CU_ASSERT(all);
  cnnrt_augment none = {0, 0};
  cnnrt_augment_image(&none, ~0ull, src, dst, C, H, W);
  CU_ASSERT(memcmp(src, dst, sizeof src) == 0);
}

static void test_checkpoint_round_trip(void) {
  char *dir = temp_dir(), path[128];
  snprintf(path, sizeof path, "%s/c.ckpt", dir);
  cnnrt_checkpoint c = {0};
  float w[300];
  for (int i = 0; i < 300; i++)
    w[i] = (float)i * 0.25f - 3;
  uint64_t pos = 0x0123456789abcdefull;
  CU_ASSERT_EQUAL(cnnrt_checkpoint_add(&c, "param:w", w, sizeof w), CNNRT_OK);
  CU_ASSERT_EQUAL(cnnrt_checkpoint_add(&c, "pos", &pos, sizeof pos), CNNRT_OK);
  CU_ASSERT_EQUAL(cnnrt_checkpoint_add(&c, "empty", NULL, 0), CNNRT_OK);
  CU_ASSERT_EQUAL_FATAL(cnnrt_checkpoint_write(path, &c), CNNRT_OK);
  char temp[160];
  snprintf(temp, sizeof temp, "%s.tmp", path);
  CU_ASSERT(access(temp, F_OK) != 0); /* renamed into place */
  cnnrt_checkpoint r;
  CU_ASSERT_EQUAL_FATAL(cnnrt_checkpoint_read(path, &r), CNNRT_OK);
  CU_ASSERT_EQUAL(r.count, 3);
  float back[300];
  uint64_t pos_back;
  CU_ASSERT_EQUAL(cnnrt_checkpoint_get(&r, "param:w", back, sizeof back),
                  CNNRT_OK);
  CU_ASSERT(memcmp(w, back, sizeof w) == 0);
  CU_ASSERT_EQUAL(cnnrt_checkpoint_get(&r, "pos", &pos_back, 8), CNNRT_OK);
  CU_ASSERT_EQUAL(pos_back, pos);
  CU_ASSERT_PTR_NOT_NULL(cnnrt_checkpoint_find(&r, "empty"));
  CU_ASSERT_EQUAL(cnnrt_checkpoint_get(&r, "pos", back, 4),
                  CNNRT_ERR_MISMATCH);
  CU_ASSERT(strstr(cnnrt_last_error(), "'pos' holds 8 bytes") != NULL);
  CU_ASSERT_EQUAL(cnnrt_checkpoint_get(&r, "nope", back, 4),
                  CNNRT_ERR_MISMATCH);
  cnnrt_checkpoint_free(&r);
  cnnrt_checkpoint_free(&c);
  unlink(path);
  rmdir(dir);
}

/* Any changed byte fails the CRC, any cut-off the CRC or the framing. */
static void test_checkpoint_damage(void) {
  char *dir = temp_dir(), path[128];
  snprintf(path, sizeof path, "%s/c.ckpt", dir);
  cnnrt_checkpoint c = {0};
  double v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  CU_ASSERT_EQUAL(cnnrt_checkpoint_add(&c, "v", v, sizeof v), CNNRT_OK);
  CU_ASSERT_EQUAL_FATAL(cnnrt_checkpoint_write(path, &c), CNNRT_OK);
  cnnrt_checkpoint_free(&c);
  size_t size;
  char *good = read_text(path, &size);
  for (size_t i = 0; i < size; i += 7) {
    char *bad = malloc(size);
    memcpy(bad, good, size);
    bad[i] ^= 0x10;
    CU_ASSERT_EQUAL_FATAL(cnnrt_write_file_atomic(path, bad, size), CNNRT_OK);
    cnnrt_checkpoint r;
    CU_ASSERT_EQUAL(cnnrt_checkpoint_read(path, &r), CNNRT_ERR_FORMAT);
    CU_ASSERT_EQUAL_FATAL(cnnrt_write_file_atomic(path, good, i), CNNRT_OK);
    CU_ASSERT_EQUAL(cnnrt_checkpoint_read(path, &r), CNNRT_ERR_FORMAT);
    free(bad);
  }
  CU_ASSERT(strstr(cnnrt_last_error(), path) != NULL);
  free(good);
  unlink(path);
  rmdir(dir);
}

static int count(const char *s, const char *what) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, what)); p++)
    n++;
  return n;
}

static void test_plot(void) {
  char *dir = temp_dir(), path[128];
  snprintf(path, sizeof path, "%s/p.svg", dir);
  double loss[5] = {2.1, 0.9, 0.6, 0.5, 0.45};
  double test[5] = {1.5, NAN, 0.55, 0.5, 0.48}; /* a gap at epoch 2 */
  double acc[5] = {70, 80, 84, 86, 87.5};
  cnnrt_panel panels[2] = {
      {"Loss", "loss", {{"training", loss}, {"test <&>", test}}, 2},
      {"Test accuracy", "accuracy (%)", {{"test", acc}}, 1}};
  CU_ASSERT_EQUAL_FATAL(cnnrt_plot_svg(path, "Training \"net\"", panels, 2, 5),
                        CNNRT_OK);
  size_t size;
  char *svg = read_text(path, &size);
  CU_ASSERT(strncmp(svg, "<?xml", 5) == 0);
  CU_ASSERT(strstr(svg, "</svg>\n") != NULL);
  CU_ASSERT(strstr(svg, "Training &quot;net&quot;") != NULL); /* escaped */
  CU_ASSERT(strstr(svg, "test &lt;&amp;&gt;") != NULL);
  CU_ASSERT(count(svg, "<circle") == 5 + 4 + 5);  /* a dot per value */
  CU_ASSERT(count(svg, "<polyline") == 1 + 1 + 1); /* the gap leaves one point alone */
  CU_ASSERT(count(svg, ">epoch</text>") == 2);
  CU_ASSERT(strstr(svg, ">accuracy (%)</text>") != NULL);
  /* y ticks of the accuracy panel: nice numbers around 70 .. 87.5 */
  CU_ASSERT(strstr(svg, ">70</text>") != NULL && strstr(svg, ">90</text>"));
  free(svg);
  /* One epoch, and nothing finite at all, still draw. */
  double one[1] = {NAN};
  cnnrt_panel empty = {"Loss", "loss", {{"training", one}}, 1};
  CU_ASSERT_EQUAL(cnnrt_plot_svg(path, "t", &empty, 1, 1), CNNRT_OK);
  unlink(path);
  rmdir(dir);
}

CU_TestInfo train_runtime_tests[] = {
    {"permutation", test_permutation},
    {"augment_parse", test_augment_parse},
    {"augment_image", test_augment_image},
    {"checkpoint_round_trip", test_checkpoint_round_trip},
    {"checkpoint_damage", test_checkpoint_damage},
    {"plot", test_plot},
    CU_TEST_INFO_NULL,
};
