/* Times one model compiled by cnnc (prefix `model`), driven over stdin/stdout by bench/bench.mjs with the same
 * line protocol as the ONNX Runtime and PyTorch workers:
 *   startup              reads the raw input files named on the command line (graph order), prints "ready"
 *   "output FILE"        runs once, writes every output's raw bytes (graph order, concatenated), prints "ok"
 *   "time N"             runs N times, prints "times W1,C1 ... WN,CN": each run's wall-clock time and the CPU
 *                        time of the thread running it, in ns
 *   "profile N"          (built with -DCNNC_PROFILE) zeroes model_profile, runs N times, prints one line per layer
 *                        "layer NS CALLS FLOPS FUNCTION OPS NODE" (NS summed over the runs), then "end"; the
 *                        profile clock is the thread's CPU time (build with -DCNNC_PROFILE_CLOCK=bench_thread_ns)
 *   "quit" or end of input: exits.
 * Errors go to stderr with exit status 1. */
#define _POSIX_C_SOURCE 199309L
#include "model.h"

#include <stdint.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *inputs[model_NUM_INPUTS > 0 ? model_NUM_INPUTS : 1];
static void *outputs[model_NUM_OUTPUTS > 0 ? model_NUM_OUTPUTS : 1];

static noreturn void fail(const char *what, const char *detail) {
  fprintf(stderr, "bench harness: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static uint64_t clock_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* CPU time of this thread: time slices the machine gives other processes do not count. */
uint64_t bench_thread_ns(void);
uint64_t bench_thread_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

static void run_once(void) {
  if (model_run((const void *const *)inputs, outputs) != 0)
    fail("model_run failed", NULL);
}

static void read_input(int i, const char *path) {
  const cnnc_tensor_info *info = &model_input_info[i];
  size_t bytes = info->count * info->elem_size;
  inputs[i] = malloc(bytes ? bytes : 1);
  FILE *f = fopen(path, "rb");
  if (!f || !inputs[i])
    fail("cannot read", path);
  if (fread(inputs[i], 1, bytes, f) != bytes || fgetc(f) != EOF)
    fail("input file does not have the input's size", path);
  fclose(f);
}

static void write_outputs(const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f)
    fail("cannot write", path);
  for (int j = 0; j < model_NUM_OUTPUTS; j++) {
    size_t bytes = model_output_info[j].count * model_output_info[j].elem_size;
    if (fwrite(outputs[j], 1, bytes, f) != bytes)
      fail("cannot write", path);
  }
  if (fclose(f) != 0)
    fail("cannot write", path);
}

#ifdef CNNC_PROFILE
/* Layer names come from the model: tabs and line breaks would break the line protocol. */
static void print_field(const char *s) {
  putchar(' ');
  for (; *s; s++)
    putchar(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ? '_' : *s);
}
#endif

int main(int argc, char **argv) {
  if (argc != 1 + model_NUM_INPUTS) {
    fprintf(stderr, "usage: %s INPUT.bin... (%d raw input files, graph order)\n", argv[0], model_NUM_INPUTS);
    return 2;
  }
  for (int i = 0; i < model_NUM_INPUTS; i++)
    read_input(i, argv[1 + i]);
  for (int j = 0; j < model_NUM_OUTPUTS; j++) {
    size_t bytes = model_output_info[j].count * model_output_info[j].elem_size;
    if (!(outputs[j] = malloc(bytes ? bytes : 1)))
      fail("out of memory", NULL);
  }
  printf("ready\n");
  fflush(stdout);
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    long n;
    if (strncmp(line, "output ", 7) == 0) {
      run_once();
      write_outputs(line + 7);
      printf("ok\n");
    } else if (sscanf(line, "time %ld", &n) == 1 && n > 0) {
      uint64_t *t = malloc(2 * (size_t)n * sizeof *t);
      if (!t)
        fail("out of memory", NULL);
      for (long k = 0; k < n; k++) {
        uint64_t wall = clock_ns(CLOCK_MONOTONIC), cpu = bench_thread_ns();
        run_once();
        t[2 * k + 1] = bench_thread_ns() - cpu;
        t[2 * k] = clock_ns(CLOCK_MONOTONIC) - wall;
      }
      printf("times");
      for (long k = 0; k < n; k++)
        printf(" %llu,%llu", (unsigned long long)t[2 * k], (unsigned long long)t[2 * k + 1]);
      printf("\n");
      free(t);
#ifdef CNNC_PROFILE
    } else if (sscanf(line, "profile %ld", &n) == 1 && n > 0) {
      for (cnnc_profile_entry *p = model_profile; p->function; p++)
        p->ns = p->calls = 0;
      for (long k = 0; k < n; k++)
        run_once();
      for (const cnnc_profile_entry *p = model_profile; p->function; p++) {
        printf("layer %llu %llu %lld", (unsigned long long)p->ns, (unsigned long long)p->calls, (long long)p->flops);
        print_field(p->function);
        print_field(p->ops);
        print_field(p->node[0] ? p->node : "-");
        putchar('\n');
      }
      printf("end\n");
#endif
    } else if (strcmp(line, "quit") == 0) {
      break;
    } else {
      fail("unknown command", line);
    }
    fflush(stdout);
  }
  return 0;
}
