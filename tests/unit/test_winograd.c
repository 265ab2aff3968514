/* templates/winograd.c on its own: instantiated with small constants (odd sizes, channel counts that are not
 * multiples of the vector, pads on some sides only, a batch of two), its weights packed by the compiler's
 * winograd_pack_weights, compiled with gcc and clang at -Werror for every ISA this machine runs, and compared
 * with a direct convolution computed in double. Then the accuracy on ResNet-18's 3x3 layers, against a bound. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What the output goes through after the convolution (EPILOGUE in the template). */
typedef enum Epilogue {
  EPI_NONE,           /* y = conv */
  EPI_BIAS_RELU,      /* y = relu(conv + bias) */
  EPI_RESIDUAL_RELU,  /* y = relu(conv + bias + residual): ResNet's second conv of a block */
  EPI_PLUS_ONE,       /* y = conv + bias + 1: zero is not kept, so the kernel must clear the padded lanes */
} Epilogue;

typedef struct Case {
  WinogradShape s;
  int64_t pad_bottom, pad_right;
  int m;
  Epilogue epilogue;
  bool transform_weights; /* at run time */
} Case;

typedef struct Isa {
  const char *name, *define, *march; /* -m flag besides -mfma */
  int vlen, registers;
} Isa;

static const Isa isas[] = {
    {"avx512", "CNNC_ISA_AVX512", "-mavx512f", 16, 32},
    {"avx2", "CNNC_ISA_AVX2", "-mavx2", 8, 16},
};

static bool cpu_runs(const Isa *isa) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("fma"))
    return false;
  return isa->vlen == 16 ? __builtin_cpu_supports("avx512f") : __builtin_cpu_supports("avx2");
}

/* Deterministic data: uniform in [-1, 1). */
static double next_uniform(uint64_t *state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(*state >> 11) / (double)(1ull << 53) * 2 - 1;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* The data of one case: NCHW originals, their NCHWc copies for the template, and the reference output. */
typedef struct Data {
  float *x, *w, *bias, *res;     /* x (N, C, H, W), w (K, C, 3, 3), bias (K), res (N, K, OH, OW) */
  float *x_blocked, *res_blocked, *bias_padded, *u;
  double *ref, *scale;           /* reference output (N, K, OH, OW), and per element sum |x * w| + |bias| + |res| */
  int64_t x_floats, y_floats;    /* blocked sizes */
} Data;

/* Activations as a ReLU network has them (nonnegative) when `relu_input`, otherwise signed; weights scaled like
 * He initialization, so outputs stay of order one whatever the channel count. */
static Data make_data(const Case *c, int vlen, bool relu_input, uint64_t seed) {
  const WinogradShape *s = &c->s;
  Data d = {0};
  uint64_t st = seed;
  int64_t cb = ceil_div(s->channels, vlen), kb = ceil_div(s->maps, vlen), plane = s->in_h * s->in_w,
          out_plane = s->out_h * s->out_w;
  d.x = cn_alloc_array((size_t)(s->batch * s->channels * plane), sizeof(float));
  d.w = cn_alloc_array((size_t)(s->maps * s->channels * 9), sizeof(float));
  d.bias = cn_alloc_array((size_t)s->maps, sizeof(float));
  d.res = cn_alloc_array((size_t)(s->batch * s->maps * out_plane), sizeof(float));
  for (int64_t i = 0; i < s->batch * s->channels * plane; i++)
    d.x[i] = (float)(relu_input ? fabs(next_uniform(&st)) * 2 : next_uniform(&st));
  double w_scale = sqrt(6.0 / (9.0 * (double)s->channels));
  for (int64_t i = 0; i < s->maps * s->channels * 9; i++)
    d.w[i] = (float)(next_uniform(&st) * w_scale);
  for (int64_t k = 0; k < s->maps; k++)
    d.bias[k] = (float)(next_uniform(&st) * 0.5);
  for (int64_t i = 0; i < s->batch * s->maps * out_plane; i++)
    d.res[i] = (float)next_uniform(&st);

  d.x_floats = s->batch * cb * plane * vlen;
  d.y_floats = s->batch * kb * out_plane * vlen;
  d.x_blocked = cn_alloc_array((size_t)d.x_floats, sizeof(float));
  d.res_blocked = cn_alloc_array((size_t)d.y_floats, sizeof(float));
  d.bias_padded = cn_alloc_array((size_t)(kb * vlen), sizeof(float));
  for (int64_t n = 0; n < s->batch; n++)
    for (int64_t ch = 0; ch < s->channels; ch++)
      for (int64_t i = 0; i < plane; i++)
        d.x_blocked[((n * cb + ch / vlen) * plane + i) * vlen + ch % vlen] = d.x[(n * s->channels + ch) * plane + i];
  for (int64_t n = 0; n < s->batch; n++)
    for (int64_t k = 0; k < s->maps; k++)
      for (int64_t i = 0; i < out_plane; i++)
        d.res_blocked[((n * kb + k / vlen) * out_plane + i) * vlen + k % vlen] = d.res[(n * s->maps + k) * out_plane + i];
  memcpy(d.bias_padded, d.bias, (size_t)s->maps * sizeof(float));

  d.ref = cn_alloc_array((size_t)(s->batch * s->maps * out_plane), sizeof(double));
  d.scale = cn_alloc_array((size_t)(s->batch * s->maps * out_plane), sizeof(double));
  for (int64_t n = 0; n < s->batch; n++)
    for (int64_t k = 0; k < s->maps; k++)
      for (int64_t oy = 0; oy < s->out_h; oy++)
        for (int64_t ox = 0; ox < s->out_w; ox++) {
          double acc = 0, mag = 0;
          for (int64_t ch = 0; ch < s->channels; ch++)
            for (int p = 0; p < 3; p++)
              for (int q = 0; q < 3; q++) {
                int64_t iy = oy + p - s->pad_top, ix = ox + q - s->pad_left;
                if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w)
                  continue;
                double t = (double)d.x[((n * s->channels + ch) * s->in_h + iy) * s->in_w + ix] *
                           d.w[((k * s->channels + ch) * 3 + p) * 3 + q];
                acc += t;
                mag += fabs(t);
              }
          int64_t o = (n * s->maps + k) * out_plane + oy * s->out_w + ox;
          if (c->epilogue != EPI_NONE) {
            acc += d.bias[k];
            mag += fabs(d.bias[k]);
          }
          if (c->epilogue == EPI_RESIDUAL_RELU) {
            acc += d.res[o];
            mag += fabs(d.res[o]);
          }
          if (c->epilogue == EPI_PLUS_ONE) {
            acc += 1;
            mag += 1;
          } else if (c->epilogue != EPI_NONE && acc < 0) {
            acc = 0;
          }
          d.ref[o] = acc;
          d.scale[o] = mag;
        }
  return d;
}

static void write_floats(const char *path, const float *v, int64_t count) {
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(fwrite(v, sizeof *v, (size_t)count, f), (size_t)count);
  fclose(f);
}

static float *read_floats(const char *path, int64_t count) {
  float *v = cn_alloc_array((size_t)count, sizeof *v);
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t got = fread(v, sizeof *v, (size_t)count, f);
  fclose(f);
  return got == (size_t)count ? v : NULL;
}

/* templates/winograd.c's text, pasted into the program as the emitter pastes it into generated code (warnings
 * about unused functions, for one, apply to the main file only). */
static const char *template_source(void) {
  static char *text;
  if (!text) {
    FILE *f = fopen(CNNC_SOURCE_DIR "/templates/winograd.c", "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    text = cn_alloc((size_t)size + 1);
    CU_ASSERT_EQUAL_FATAL(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
  }
  return text;
}

/* The C source of instance i: its #defines, the epilogue, the template, the #undefs. */
static char *instance_source(int i, const Case *c, const WinogradPlan *p) {
  static const char *const epilogues[] = {
      [EPI_NONE] = "#define HAS_BIAS 0\n#define EPILOGUE(acc, at) (acc)\n",
      [EPI_BIAS_RELU] = "#define HAS_BIAS 1\n#define EPILOGUE(acc, at) vmax((acc), vzero())\n",
      [EPI_RESIDUAL_RELU] = "#define HAS_BIAS 1\n#define EPILOGUE(acc, at) vmax(vadd((acc), vload(res + (at))), vzero())\n",
      [EPI_PLUS_ONE] = "#define HAS_BIAS 1\n#define EPILOGUE(acc, at) vadd((acc), vbroadcast(1.0f))\n",
  };
  int64_t oc_last = c->s.maps - (ceil_div(c->s.maps, p->vlen) - 1) * p->vlen;
  return cn_format("%s%s#define OC_LAST %lld\n#define ZERO_PAD_LANES %d\n%s\n%s"
                   "#undef HAS_BIAS\n#undef EPILOGUE\n#undef OC_LAST\n#undef ZERO_PAD_LANES\n\n",
                   winograd_defines(cn_format("wino%d", i), &c->s, p), epilogues[c->epilogue], (long long)oc_last,
                   c->epilogue == EPI_PLUS_ONE && oc_last < p->vlen, template_source(), winograd_undefs());
}

/* The call of instance i in main(): loads its inputs from dir, runs it, saves its output. */
static char *instance_call(int i, const Case *c, const WinogradPlan *p, const Data *d) {
  return cn_format("  {\n"
                   "    float *x = load(dir, \"%d.x\", %lld), *u = load(dir, \"%d.u\", %lld);\n"
                   "    float *bias = load(dir, \"%d.bias\", %lld), *res = load(dir, \"%d.res\", %lld);\n"
                   "    float *y = calloc(%lld, sizeof(float)), *work = aligned_alloc(64, %lld * sizeof(float));\n"
                   "    if (!x || !u || !bias || !res || !y || !work)\n      return 1;\n"
                   "    wino%d(x, u, bias, res, y, work);\n"
                   "    if (!save(dir, \"%d.y\", y, %lld))\n      return 1;\n"
                   "  }\n",
                   i, (long long)d->x_floats, i, (long long)p->weight_floats, i,
                   (long long)ceil_div(c->s.maps, p->vlen) * p->vlen, i, (long long)d->y_floats, (long long)d->y_floats,
                   (long long)ceil_div(p->work_floats, 16) * 16, i, i, (long long)d->y_floats);
}

static const char program_head[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <stddef.h>\n\n"
    "static float *load(const char *dir, const char *name, long count) {\n"
    "  char path[4096];\n"
    "  snprintf(path, sizeof path, \"%s/%s\", dir, name);\n"
    "  FILE *f = fopen(path, \"rb\");\n"
    "  float *v = malloc((size_t)count * sizeof *v + 1);\n"
    "  if (!f || !v || fread(v, sizeof *v, (size_t)count, f) != (size_t)count)\n    return NULL;\n"
    "  fclose(f);\n  return v;\n}\n\n"
    "static int save(const char *dir, const char *name, const float *v, long count) {\n"
    "  char path[4096];\n"
    "  snprintf(path, sizeof path, \"%s/%s\", dir, name);\n"
    "  FILE *f = fopen(path, \"wb\");\n"
    "  if (!f || fwrite(v, sizeof *v, (size_t)count, f) != (size_t)count)\n    return 0;\n"
    "  return fclose(f) == 0;\n}\n\n";

/* Runs every case through one program per compiler: writes the data, builds, runs, and returns the worst error
 * of each case relative to its elements' scale (-1 where the output was wrong in kind: missing, or nonzero in
 * the padding lanes), and the worst relative to max(1, max|ref|) in *rel_max. */
static void run_cases(const Case *cases, int n_cases, const Isa *isa, const char *cc, bool relu_input,
                      double *worst, double *rel_max) {
  char *dir = cn_make_temp_dir("winograd-test");
  char *source = cn_format("#define %s 1\n#include \"%s/tests/unit/winograd_simd.h\"\n%s", isa->define,
                           CNNC_SOURCE_DIR, program_head);
  char *calls = cn_strdup("");
  Data *data = cn_alloc_array((size_t)n_cases, sizeof *data);
  WinogradPlan *plans = cn_alloc_array((size_t)n_cases, sizeof *plans);
  for (int i = 0; i < n_cases; i++) {
    const Case *c = &cases[i];
    plans[i] = winograd_plan_tile(&c->s, isa->vlen, isa->registers, c->m, c->transform_weights);
    data[i] = make_data(c, isa->vlen, relu_input, 1000 + (uint64_t)i);
    float *u = winograd_pack_weights(data[i].w, &c->s, &plans[i]);
    write_floats(cn_format("%s/%d.x", dir, i), data[i].x_blocked, data[i].x_floats);
    write_floats(cn_format("%s/%d.u", dir, i), u, plans[i].weight_floats);
    write_floats(cn_format("%s/%d.bias", dir, i), data[i].bias_padded, ceil_div(c->s.maps, isa->vlen) * isa->vlen);
    write_floats(cn_format("%s/%d.res", dir, i), data[i].res_blocked, data[i].y_floats);
    source = cn_format("%s%s", source, instance_source(i, c, &plans[i]));
    calls = cn_format("%s%s", calls, instance_call(i, c, &plans[i], &data[i]));
  }
  source = cn_format("%sint main(int argc, char **argv) {\n  if (argc != 2)\n    return 1;\n"
                     "  const char *dir = argv[1];\n%s  return 0;\n}\n",
                     source, calls);
  char *src_path = cn_format("%s/wino.c", dir), *exe = cn_format("%s/wino", dir);
  FILE *f = fopen(src_path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(source, f);
  fclose(f);
  const char *compile[] = {cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", isa->march, "-mfma",
                           "-o", exe, src_path, NULL};
  int status = cn_spawn(compile);
  CU_ASSERT_EQUAL_FATAL(status, 0);
  const char *run[] = {exe, dir, NULL};
  CU_ASSERT_EQUAL_FATAL(cn_spawn(run), 0);

  for (int i = 0; i < n_cases; i++) {
    const WinogradShape *s = &cases[i].s;
    const Data *d = &data[i];
    int64_t kb = ceil_div(s->maps, isa->vlen), out_plane = s->out_h * s->out_w;
    float *y = read_floats(cn_format("%s/%d.y", dir, i), d->y_floats);
    worst[i] = 0;
    double err_max = 0, ref_max = 0;
    if (!y) {
      worst[i] = -1;
      continue;
    }
    for (int64_t n = 0; n < s->batch; n++)
      for (int64_t k = 0; k < kb * isa->vlen; k++)
        for (int64_t o = 0; o < out_plane; o++) {
          float got = y[((n * kb + k / isa->vlen) * out_plane + o) * isa->vlen + k % isa->vlen];
          if (k >= s->maps) {
            if (got != 0)
              worst[i] = -1;
            continue;
          }
          int64_t r = (n * s->maps + k) * out_plane + o;
          double err = fabs(got - d->ref[r]);
          if (!(err <= 1e30)) /* NaN */
            err = 1e30;
          if (worst[i] >= 0 && err / (d->scale[r] + 1e-30) > worst[i])
            worst[i] = err / (d->scale[r] + 1e-30);
          err_max = err > err_max ? err : err_max;
          ref_max = fabs(d->ref[r]) > ref_max ? fabs(d->ref[r]) : ref_max;
        }
    if (rel_max)
      rel_max[i] = err_max / (ref_max > 1 ? ref_max : 1);
  }
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
}

/* Per element, |got - ref| <= bound * (sum over the 3x3xC window of |x * w|, plus |bias| and |residual|): the
 * error a float sum of those terms may carry, grown by the transforms' coefficients. Measured worst ratios:
 * 1.9e-6 for F(4x4,3x3), 1.1e-7 for F(2x2,3x3). A wrong coefficient or index is off by far more than 1e-4. */
static double bound_for(int m) { return m == 4 ? 8e-6 : 1e-6; }

static const Case small_cases[] = {
    /* C and K below one vector; pads all round; odd H and W */
    {{.batch = 1, .channels = 5, .maps = 7, .in_h = 9, .in_w = 11, .out_h = 9, .out_w = 11, .pad_top = 1,
      .pad_left = 1}, 1, 1, 4, EPI_NONE, false},
    {{.batch = 1, .channels = 5, .maps = 7, .in_h = 9, .in_w = 11, .out_h = 9, .out_w = 11, .pad_top = 1,
      .pad_left = 1}, 1, 1, 2, EPI_BIAS_RELU, false},
    /* batch 2, no padding, K of three avx512 vectors (J = 1) */
    {{.batch = 2, .channels = 20, .maps = 33, .in_h = 7, .in_w = 6, .out_h = 5, .out_w = 4}, 0, 0, 4,
     EPI_RESIDUAL_RELU, false},
    {{.batch = 2, .channels = 20, .maps = 33, .in_h = 7, .in_w = 6, .out_h = 5, .out_w = 4}, 0, 0, 2, EPI_NONE, false},
    /* pads on some sides only: top 2, left 0, bottom 1, right 2 */
    {{.batch = 1, .channels = 17, .maps = 32, .in_h = 13, .in_w = 10, .out_h = 14, .out_w = 10, .pad_top = 2,
      .pad_left = 0}, 1, 2, 4, EPI_BIAS_RELU, false},
    {{.batch = 1, .channels = 17, .maps = 32, .in_h = 13, .in_w = 10, .out_h = 14, .out_w = 10, .pad_top = 2,
      .pad_left = 0}, 1, 2, 2, EPI_RESIDUAL_RELU, false},
    /* more tiles than one register tile holds, J > 1 */
    {{.batch = 1, .channels = 16, .maps = 64, .in_h = 21, .in_w = 19, .out_h = 21, .out_w = 19, .pad_top = 1,
      .pad_left = 1}, 1, 1, 4, EPI_NONE, false},
    {{.batch = 1, .channels = 16, .maps = 64, .in_h = 21, .in_w = 19, .out_h = 21, .out_w = 19, .pad_top = 1,
      .pad_left = 1}, 1, 1, 2, EPI_RESIDUAL_RELU, false},
    /* an image smaller than one tile; an epilogue that does not keep zero */
    {{.batch = 1, .channels = 3, .maps = 9, .in_h = 2, .in_w = 3, .out_h = 2, .out_w = 3, .pad_top = 1,
      .pad_left = 1}, 1, 1, 4, EPI_PLUS_ONE, false},
    {{.batch = 2, .channels = 9, .maps = 20, .in_h = 6, .in_w = 5, .out_h = 6, .out_w = 5, .pad_top = 1,
      .pad_left = 1}, 1, 1, 2, EPI_PLUS_ONE, false},
    /* the weights transformed at run time */
    {{.batch = 1, .channels = 5, .maps = 7, .in_h = 9, .in_w = 11, .out_h = 9, .out_w = 11, .pad_top = 1,
      .pad_left = 1}, 1, 1, 4, EPI_NONE, true},
    {{.batch = 2, .channels = 20, .maps = 33, .in_h = 7, .in_w = 6, .out_h = 5, .out_w = 4}, 0, 0, 2,
     EPI_RESIDUAL_RELU, true},
    {{.batch = 1, .channels = 40, .maps = 64, .in_h = 7, .in_w = 7, .out_h = 7, .out_w = 7, .pad_top = 1,
      .pad_left = 1}, 1, 1, 4, EPI_BIAS_RELU, true},
    {{.batch = 1, .channels = 16, .maps = 64, .in_h = 21, .in_w = 19, .out_h = 21, .out_w = 19, .pad_top = 1,
      .pad_left = 1}, 1, 1, 2, EPI_PLUS_ONE, true},
};

static void check_small_cases(const char *cc) {
  const int n = (int)(sizeof small_cases / sizeof small_cases[0]);
  for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
    if (!cpu_runs(&isas[k]))
      continue;
    double worst[sizeof small_cases / sizeof small_cases[0]];
    run_cases(small_cases, n, &isas[k], cc, false, worst, NULL);
    for (int i = 0; i < n; i++) {
      if (worst[i] < 0 || worst[i] > bound_for(small_cases[i].m))
        printf("\n  %s %s case %d F(%dx%d,3x3): worst error / scale %g (bound %g)", cc, isas[k].name, i,
               small_cases[i].m, small_cases[i].m, worst[i], bound_for(small_cases[i].m));
      CU_ASSERT(worst[i] >= 0 && worst[i] <= bound_for(small_cases[i].m));
    }
  }
}

/* A file with one instance leaves some of the template's shared helpers unused: still no warning. */
static void test_one_instance_per_file(void) {
  for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++)
    for (int m = 2; m <= 4; m += 2)
      if (cpu_runs(&isas[k])) {
        Case c = small_cases[m == 4 ? 0 : 1];
        double worst;
        run_cases(&c, 1, &isas[k], "clang", false, &worst, NULL);
        CU_ASSERT(worst >= 0 && worst <= bound_for(m));
        run_cases(&c, 1, &isas[k], "gcc", false, &worst, NULL);
        CU_ASSERT(worst >= 0 && worst <= bound_for(m));
      }
}

static void test_small_shapes_gcc(void) { check_small_cases("gcc"); }
static void test_small_shapes_clang(void) { check_small_cases("clang"); }

/* The tiles need a machine with one of the ISAs; a test that checked nothing must not pass. */
static void test_some_isa_runs(void) {
  bool any = false;
  for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++)
    any |= cpu_runs(&isas[k]);
  CU_ASSERT(any);
}

/* ResNet-18's stride-1 3x3 layers with the activations a ReLU network feeds them, each with F(4x4,3x3) and
 * F(2x2,3x3): the largest error relative to max(1, max|output|) must stay within 2e-5, a fifth of the budget
 * the whole model is held to (1e-4, ../shared/models/README.md). Measured: 3.2e-6 (64 channels) to 7.5e-6
 * (512) for F(4x4,3x3), 3.5e-7 to 8.6e-7 for F(2x2,3x3); ResNet-18 as a whole, every such layer in
 * F(4x4,3x3), ends 3.4e-6 from ONNX Runtime. */
static void test_resnet_layer_accuracy(void) {
  static const int64_t sizes[4][2] = {{56, 64}, {28, 128}, {14, 256}, {7, 512}};
  Case cases[10];
  for (int i = 0; i < 10; i++) { /* the last two: the small images with their weights transformed at run time */
    int64_t hw = sizes[i < 8 ? i / 2 : i - 6][0], ch = sizes[i < 8 ? i / 2 : i - 6][1];
    cases[i] = (Case){{.batch = 1, .channels = ch, .maps = ch, .in_h = hw, .in_w = hw, .out_h = hw, .out_w = hw,
                       .pad_top = 1, .pad_left = 1},
                      1, 1, i % 2 ? 2 : 4, EPI_RESIDUAL_RELU, i >= 8};
  }
  const Isa *isa = NULL;
  for (size_t k = 0; k < sizeof isas / sizeof isas[0] && !isa; k++)
    if (cpu_runs(&isas[k]))
      isa = &isas[k];
  CU_ASSERT_PTR_NOT_NULL_FATAL(isa);
  double worst[10], rel[10];
  run_cases(cases, 10, isa, cc_default(), true, worst, rel);
  for (int i = 0; i < 10; i++) {
    if (!(worst[i] >= 0 && rel[i] <= 2e-5))
      printf("\n  %lldx%lld, %lld channels, F(%dx%d,3x3): max error / max(1, max|ref|) = %g (bound 2e-5)",
             (long long)cases[i].s.in_h, (long long)cases[i].s.in_w, (long long)cases[i].s.channels, cases[i].m,
             cases[i].m, rel[i]);
    CU_ASSERT(worst[i] >= 0 && rel[i] <= 2e-5);
  }
}

static WinogradShape square(int64_t size, int64_t channels, int64_t maps) {
  return (WinogradShape){.batch = 1, .channels = channels, .maps = maps, .in_h = size, .in_w = size,
                         .out_h = size, .out_w = size, .pad_top = 1, .pad_left = 1};
}

/* The cost rule's choices for ResNet-18's layers (see conv_winograd.c), and for the few input channels of a
 * first layer, where the transforms cost more than the multiplies they save. */
static void test_cost_rule_choices(void) {
  static const struct {
    int64_t size, channels;
    int m;                  /* avx512 */
    bool transform_weights; /* at run time */
  } resnet[] = {{56, 64, 4, false}, {28, 128, 4, false}, {14, 256, 4, true}, {7, 512, 0, false}};
  for (size_t i = 0; i < sizeof resnet / sizeof resnet[0]; i++) {
    WinogradShape s = square(resnet[i].size, resnet[i].channels, resnet[i].channels);
    WinogradPlan p = winograd_plan(&s, 16, 32);
    CU_ASSERT_EQUAL(p.m, resnet[i].m);
    CU_ASSERT_EQUAL(p.transform_weights, resnet[i].transform_weights);
    for (int v = 1; v < 5; v++) /* the chosen way is the cheapest */
      CU_ASSERT(p.cycles[p.m == 0 ? 0 : p.m / 2 + (p.transform_weights ? 2 : 0)] <= p.cycles[v]);
  }
  WinogradShape stem = square(224, 3, 64), mnist = square(28, 1, 32);
  CU_ASSERT_EQUAL(winograd_plan(&stem, 16, 32).m, 0);
  CU_ASSERT_EQUAL(winograd_plan(&mnist, 16, 32).m, 0);
  CU_ASSERT_EQUAL(winograd_plan(&mnist, 8, 16).m, 0);
}

/* Every plan, whatever the shape, satisfies the template's constraints and fits its register file. */
static void test_plans_fit_template(void) {
  static const int64_t channels[] = {1, 3, 8, 16, 17, 40, 64, 96, 256, 512};
  static const int64_t sizes[] = {1, 2, 5, 7, 14, 15, 28, 56};
  for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++)
    for (size_t a = 0; a < sizeof channels / sizeof channels[0]; a++)
      for (size_t b = 0; b < sizeof channels / sizeof channels[0]; b++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
          for (int mode = 0; mode < 4; mode++) {
            const Isa *isa = &isas[k];
            int m = mode % 2 ? 4 : 2, a2 = (m + 2) * (m + 2);
            bool runtime = mode >= 2;
            WinogradShape s = square(sizes[z], channels[a], channels[b]);
            WinogradPlan p = winograd_plan_tile(&s, isa->vlen, isa->registers, m, runtime);
            int64_t kb = ceil_div(s.maps, isa->vlen), cb = ceil_div(s.channels, isa->vlen), v = isa->vlen;
            CU_ASSERT(p.rows >= 1 && p.cols >= 1 && p.rows * p.cols + p.cols + 1 <= isa->registers);
            CU_ASSERT(p.tile_block % p.rows == 0 && p.k_chunk % p.cols == 0 && kb % p.k_chunk == 0);
            CU_ASSERT_EQUAL(p.work_floats, a2 * p.tile_block * (cb + p.k_chunk) * v + (runtime ? a2 * v * p.cols * v : 0));
            CU_ASSERT_EQUAL(p.weight_floats, (runtime ? 9 : a2) * cb * kb * v * v);
          }
}

CU_TestInfo winograd_tests[] = {
    {"cost_rule_choices", test_cost_rule_choices},
    {"plans_fit_template", test_plans_fit_template},
    {"some_isa_runs", test_some_isa_runs},
    {"small_shapes_gcc", test_small_shapes_gcc},
    {"small_shapes_clang", test_small_shapes_clang},
    {"one_instance_per_file", test_one_instance_per_file},
    {"resnet_layer_accuracy", test_resnet_layer_accuracy},
    CU_TEST_INFO_NULL,
};
