/* Robustness: cnnc on randomly corrupted copies of a real model either compiles it or reports an error with
 * exit status 1 and leaves no output; it never crashes, asserts or exits otherwise. A short version of the
 * fuzzing a person runs for hours. */
#include "testutil.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static unsigned char *read_model(size_t *size) {
  FILE *f = fopen(CNNC_SOURCE_DIR "/examples/fashion-mnist/lenet5_fmnist.onnx", "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  rewind(f);
  unsigned char *buf = cn_alloc(*size);
  CU_ASSERT_EQUAL_FATAL(fread(buf, 1, *size, f), *size);
  fclose(f);
  return buf;
}

static int run_quietly(const char *const *argv) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  CU_ASSERT_EQUAL_FATAL(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
  int status;
  waitpid(pid, &status, 0);
  posix_spawn_file_actions_destroy(&fa);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

static void test_corrupted_models(void) {
  const char *bin = getenv("CNNC_BIN");
  CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
  size_t size;
  unsigned char *original = read_model(&size);
  unsigned char *copy = cn_alloc(size);
  char dir[] = "/tmp/cnnc-mutate-XXXXXX";
  CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  char *model = cn_format("%s/m.onnx", dir), *out = cn_format("%s/m.c", dir), *header = cn_format("%s/m.h", dir);
  srand(12345);
  int compiled = 0, rejected = 0;
  for (int round = 0; round < 300; round++) {
    memcpy(copy, original, size);
    size_t len = size;
    /* most corruption lands in the weights; the graph structure sits in the first and last few kilobytes */
    int flips = 1 + rand() % 8;
    for (int k = 0; k < flips; k++) {
      size_t at = rand() % 2 ? (size_t)rand() % 4096 : size - 1 - (size_t)rand() % 4096;
      copy[at] = (unsigned char)rand();
    }
    if (round % 5 == 0)
      len = (size_t)rand() % size;
    FILE *f = fopen(model, "wb");
    fwrite(copy, 1, len, f);
    fclose(f);
    const char *argv[] = {bin, model, "-o", out, NULL};
    int status = run_quietly(argv);
    if (status != 0 && status != 1)
      fprintf(stderr, "\n  round %d: cnnc ended with status %d (kept in %s)\n", round, status, model);
    CU_ASSERT_FATAL(status == 0 || status == 1);
    if (status == 1) {
      rejected++;
      CU_ASSERT_NOT_EQUAL(access(out, F_OK), 0);
      CU_ASSERT_NOT_EQUAL(access(header, F_OK), 0);
    } else {
      compiled++;
      remove(out);
      remove(header);
    }
  }
  CU_ASSERT(rejected > 0);
  CU_ASSERT(compiled > 0);
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
}

CU_TestInfo mutation_tests[] = {
    {"corrupted_models", test_corrupted_models},
    CU_TEST_INFO_NULL,
};
