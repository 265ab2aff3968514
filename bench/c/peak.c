/* The machine's single-core peak: FMA throughput per instruction set, in GFLOP/s (an FMA counts 2 FLOPs per
 * lane). Each kernel keeps 12 independent accumulator chains in registers, more than FMA latency (4 to 5
 * cycles) times FMA units (2) on current x86 cores, so the units never wait on a result. Target attributes pick
 * the ISA per function: it builds with plain `cc -O2`, no -m flags.
 *
 * usage: peak [SECONDS]   prints "peak ISA GFLOPS" for each ISA the CPU supports, the best of 5 runs; the
 *                         runs of all ISAs together take about SECONDS (default 1) */
#define _POSIX_C_SOURCE 199309L
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CPU time of this thread: on a shared machine, time slices given to other processes do not count. */
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* acc = acc * MUL + ADDEND converges to 1: no overflow and no denormals, whatever the count */
#define MUL 0.999999f
#define ADDEND 0.000001f

/* The accumulators are separate variables, not an array, so every compiler keeps them in registers
 * (AVX2 has 16 ymm registers: 12 accumulators and the 2 operands). */
#define ACC 12
#define ACCS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECLARE(i) VEC acc##i = SET1((float)i);
#define STEP(i) acc##i = FMADD(acc##i, a, b);
#define SUM(i) s = ADD(s, acc##i);
/* `reps` FMAs on every accumulator; returns their sum, so the compiler cannot drop them. VEC, SET1, FMADD, ADD
 * and REDUCE name the ISA's vector type and operations. */
#define KERNEL_BODY                                                                                                  \
  VEC a = SET1(MUL), b = SET1(ADDEND);                                                                               \
  ACCS(DECLARE)                                                                                                      \
  for (long r = 0; r < reps; r++) {                                                                                  \
    ACCS(STEP)                                                                                                       \
  }                                                                                                                  \
  VEC s = SET1(0.0f);                                                                                                \
  ACCS(SUM)                                                                                                          \
  return REDUCE(s);

#define VEC __m512
#define SET1 _mm512_set1_ps
#define FMADD _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define REDUCE _mm512_reduce_add_ps
__attribute__((target("avx512f"))) static float fma_avx512(long reps) { KERNEL_BODY }
#undef VEC
#undef SET1
#undef FMADD
#undef ADD
#undef REDUCE

__attribute__((target("avx"))) static float reduce256(__m256 s) {
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}
#define VEC __m256
#define SET1 _mm256_set1_ps
#define FMADD _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define REDUCE reduce256
__attribute__((target("avx2,fma"))) static float fma_avx2(long reps) { KERNEL_BODY }
#undef VEC
#undef SET1
#undef FMADD
#undef ADD
#undef REDUCE

/* scalar FMAs: the most a compiler gets from code it does not vectorize */
#define VEC float
#define SET1(x) (x)
#define FMADD fmaf
#define ADD(x, y) ((x) + (y))
#define REDUCE(x) (x)
__attribute__((target("fma"))) static float fma_scalar(long reps) { KERNEL_BODY }
#undef VEC
#undef SET1
#undef FMADD
#undef ADD
#undef REDUCE

typedef struct Kernel {
  const char *isa;
  float (*run)(long reps);
  int supported;
  int lanes;
} Kernel;

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (argc > 2 || !(seconds > 0)) {
    fprintf(stderr, "usage: peak [SECONDS]\n");
    return 2;
  }
  __builtin_cpu_init();
  Kernel kernels[] = {
      {"avx512", fma_avx512, __builtin_cpu_supports("avx512f"), 16},
      {"avx2", fma_avx2, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), 8},
      {"scalar", fma_scalar, __builtin_cpu_supports("fma"), 1},
  };
  int n_kernels = (int)(sizeof kernels / sizeof kernels[0]);
  double per_run = seconds / (5.0 * n_kernels);
  volatile float sink = 0;
  for (int k = 0; k < n_kernels; k++) {
    Kernel *K = &kernels[k];
    if (!K->supported)
      continue;
    long reps = 1000; /* grow until a run is long enough to time, then scale to per_run */
    double t;
    for (;;) {
      double t0 = now();
      sink += K->run(reps);
      t = now() - t0;
      if (t > per_run / 10 || reps > (1L << 40))
        break;
      reps *= 4;
    }
    reps = (long)((double)reps * per_run / t) + 1;
    double best = 0;
    for (int run = 0; run < 5; run++) {
      double t0 = now();
      sink += K->run(reps);
      double gflops = 2.0 * ACC * K->lanes * (double)reps / (now() - t0) * 1e-9;
      best = gflops > best ? gflops : best;
    }
    printf("peak %s %.2f\n", K->isa, best);
  }
  return sink == 12345.0f; /* never true; keeps the sums alive */
}
