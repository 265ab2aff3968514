/* templates/winograd.c on its own: instantiated the way cnnc instantiates it (target.c's prologue with simd.h,
 * winograd_instance) with small constants (odd sizes, channel counts that are not multiples of the vector, pads
 * on some sides only, a batch of two, every epilogue kind), its weights packed by winograd_pack_weights, compiled
 * with gcc and clang at -Werror for every SIMD target this machine runs, and compared with a direct convolution
 * computed in double. Then the accuracy on ResNet-18's 3x3 layers against a bound, and the cost rule. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What the output goes through after the convolution (the anchor's Fusion). */
typedef enum Epilogue {
  EPI_NONE,           /* y = conv */
  EPI_BIAS_RELU,      /* y = relu(conv + bias) */
  EPI_RESIDUAL_RELU,  /* y = relu(conv + bias + residual): ResNet's second conv of a block */
  EPI_HARD_SIGMOID,   /* y = max(0, min(1, 0.2 (conv + bias) + 0.5)): zero is not kept, so the kernel must clear
                       * the padded lanes */
} Epilogue;

static const Fusion *fusion_of(Epilogue e) {
  static const Fusion fusions[] = {
      [EPI_NONE] = {.bias = -1, .residual = -1},
      [EPI_BIAS_RELU] = {.bias = -1, .act = {ACT_RELU, 0, 0}, .residual = -1},
      [EPI_RESIDUAL_RELU] = {.bias = -1, .residual = 3, .post_act = {ACT_RELU, 0, 0}},
      [EPI_HARD_SIGMOID] = {.bias = -1, .act = {ACT_HARD_SIGMOID, 0.2f, 0.5f}, .residual = -1},
  };
  return &fusions[e];
}

typedef struct Case {
  WinogradShape s;
  int64_t pad_bottom, pad_right;
  int m;
  Epilogue epilogue;
  bool transform_weights; /* at run time */
} Case;

static int registers_of(Target t) { return t == TARGET_AVX512 ? 32 : 16; }

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

/* Pixels per output map: the Conv's, or with a fused pool the pool's. */
static int64_t output_plane(const WinogradShape *s) {
  return s->pool ? s->out_h / s->pool_h * (s->out_w / s->pool_w) : s->out_h * s->out_w;
}

static void pool_reference(const WinogradShape *s, int vlen, Data *d) {
  const int64_t ph = s->out_h / s->pool_h, pw = s->out_w / s->pool_w, area = s->pool_h * s->pool_w;
  double *ref = cn_alloc_array((size_t)(s->batch * s->maps * ph * pw), sizeof *ref);
  double *scale = cn_alloc_array((size_t)(s->batch * s->maps * ph * pw), sizeof *scale);
  for (int64_t nk = 0; nk < s->batch * s->maps; nk++)
    for (int64_t py = 0; py < ph; py++)
      for (int64_t px = 0; px < pw; px++) {
        double acc = s->pool == 1 ? -INFINITY : 0, mag = 0;
        for (int64_t i = 0; i < s->pool_h; i++)
          for (int64_t j = 0; j < s->pool_w; j++) {
            int64_t o = (nk * s->out_h + py * s->pool_h + i) * s->out_w + px * s->pool_w + j;
            acc = s->pool == 1 ? fmax(acc, d->ref[o]) : acc + d->ref[o] / (double)area;
            mag = fmax(mag, d->scale[o]);
          }
        ref[(nk * ph + py) * pw + px] = acc;
        scale[(nk * ph + py) * pw + px] = mag;
      }
  d->ref = ref;
  d->scale = scale;
  d->y_floats = s->batch * ceil_div(s->maps, vlen) * ph * pw * vlen;
}

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
          if (c->epilogue == EPI_HARD_SIGMOID) {
            acc = acc * 0.2 + 0.5;
            acc = acc < 0 ? 0 : acc > 1 ? 1 : acc;
            mag = mag * 0.2 + 0.5;
          } else if (c->epilogue != EPI_NONE && acc < 0) {
            acc = 0;
          }
          d.ref[o] = acc;
          d.scale[o] = mag;
        }
  if (s->pool) /* the pool after the epilogue: its windows' maximum or mean, and their largest scale */
    pool_reference(s, vlen, &d);
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

/* The call of instance i in main(): loads its inputs from dir, runs it, saves its output. */
static char *instance_call(int i, const Case *c, const WinogradPlan *p, const Data *d) {
  return cn_format("  {\n"
                   "    float *x = load(\"%d.x\", %lld), *u = load(\"%d.u\", %lld);\n"
                   "    float *bias = load(\"%d.bias\", %lld), *res = load(\"%d.res\", %lld);\n"
                   "    float *y = calloc(%lld, sizeof(float)), *work = aligned_alloc(64, %lld * sizeof(float));\n"
                   "    if (!x || !u || !bias || !res || !y || !work)\n      return 1;\n"
                   "    wino%d(x, u, bias, res, y, work);\n"
                   "    if (!save(\"%d.y\", y, %lld))\n      return 1;\n"
                   "  }\n",
                   i, (long long)d->x_floats, i, (long long)p->weight_floats, i,
                   (long long)ceil_div(c->s.maps, p->vlen) * p->vlen, i, (long long)d->y_floats, (long long)d->y_floats,
                   (long long)ceil_div(p->work_floats, 16) * 16, i, i, (long long)d->y_floats);
}

static const char program_head[] =
    "static float *load(const char *name, long count) {\n"
    "  char path[4096];\n"
    "  snprintf(path, sizeof path, \"%s/%s\", dir, name);\n"
    "  FILE *f = fopen(path, \"rb\");\n"
    "  float *v = malloc((size_t)count * sizeof *v + 1);\n"
    "  if (!f || !v || fread(v, sizeof *v, (size_t)count, f) != (size_t)count)\n    return NULL;\n"
    "  fclose(f);\n  return v;\n}\n\n"
    "static int save(const char *name, const float *v, long count) {\n"
    "  char path[4096];\n"
    "  snprintf(path, sizeof path, \"%s/%s\", dir, name);\n"
    "  FILE *f = fopen(path, \"wb\");\n"
    "  if (!f || fwrite(v, sizeof *v, (size_t)count, f) != (size_t)count)\n    return 0;\n"
    "  return fclose(f) == 0;\n}\n\n";

/* Runs every case through one program per compiler: writes the data, builds, runs, and returns the worst error
 * of each case relative to its elements' scale (-1 where the output was wrong in kind: missing, or nonzero in
 * the padding lanes), and the worst relative to max(1, max|ref|) in *rel_max. */
static void run_cases(const Case *cases, int n_cases, Target target, const char *cc, bool relu_input,
                      double *worst, double *rel_max) {
  const int vlen = target_vector_floats(target);
  char *dir = cn_make_temp_dir("winograd-test");
  char *source;
  size_t source_len;
  FILE *out = open_memstream(&source, &source_len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  fprintf(out, "#include <stddef.h>\n#include <stdio.h>\n#include <stdlib.h>\n\nstatic const char dir[] = \"%s\";\n",
          cn_escape_c_string(dir, 4096));
  target_emit_begin(out, target, true);
  fputs(program_head, out);
  EmitOptions options = {.target = target};
  Emitter e = {.out = out, .kernels = out, .opts = &options};
  char *calls = cn_strdup("");
  Data *data = cn_alloc_array((size_t)n_cases, sizeof *data);
  WinogradPlan *plans = cn_alloc_array((size_t)n_cases, sizeof *plans);
  for (int i = 0; i < n_cases; i++) {
    const Case *c = &cases[i];
    plans[i] = winograd_plan_tile(&c->s, vlen, registers_of(target), c->m, c->transform_weights);
    data[i] = make_data(c, vlen, relu_input, 1000 + (uint64_t)i);
    float *u = winograd_pack_weights(data[i].w, &c->s, &plans[i]);
    write_floats(cn_format("%s/%d.x", dir, i), data[i].x_blocked, data[i].x_floats);
    write_floats(cn_format("%s/%d.u", dir, i), u, plans[i].weight_floats);
    write_floats(cn_format("%s/%d.bias", dir, i), data[i].bias_padded, ceil_div(c->s.maps, vlen) * vlen);
    write_floats(cn_format("%s/%d.res", dir, i), data[i].res_blocked, data[i].y_floats);
    winograd_instance(&e, cn_format("wino%d", i), &c->s, &plans[i], c->epilogue != EPI_NONE,
                      c->epilogue == EPI_NONE ? NULL : fusion_of(c->epilogue));
    calls = cn_format("%s%s", calls, instance_call(i, c, &plans[i], &data[i]));
  }
  target_emit_end(out, target);
  fprintf(out, "int main(void) {\n%s  return 0;\n}\n", calls);
  fclose(out);
  CU_ASSERT_EQUAL_FATAL(tb_run_program(source, cc, "-O2"), 0);

  for (int i = 0; i < n_cases; i++) {
    const WinogradShape *s = &cases[i].s;
    const Data *d = &data[i];
    int64_t kb = ceil_div(s->maps, vlen), out_plane = output_plane(s);
    float *y = read_floats(cn_format("%s/%d.y", dir, i), d->y_floats);
    worst[i] = 0;
    double err_max = 0, ref_max = 0;
    if (!y) {
      worst[i] = -1;
      continue;
    }
    for (int64_t n = 0; n < s->batch; n++)
      for (int64_t k = 0; k < kb * vlen; k++)
        for (int64_t o = 0; o < out_plane; o++) {
          float got = y[((n * kb + k / vlen) * out_plane + o) * vlen + k % vlen];
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
      .pad_left = 1}, 1, 1, 4, EPI_HARD_SIGMOID, false},
    {{.batch = 2, .channels = 9, .maps = 20, .in_h = 6, .in_w = 5, .out_h = 6, .out_w = 5, .pad_top = 1,
      .pad_left = 1}, 1, 1, 2, EPI_HARD_SIGMOID, false},
    /* the weights transformed at run time */
    {{.batch = 1, .channels = 5, .maps = 7, .in_h = 9, .in_w = 11, .out_h = 9, .out_w = 11, .pad_top = 1,
      .pad_left = 1}, 1, 1, 4, EPI_NONE, true},
    {{.batch = 2, .channels = 20, .maps = 33, .in_h = 7, .in_w = 6, .out_h = 5, .out_w = 4}, 0, 0, 2,
     EPI_RESIDUAL_RELU, true},
    {{.batch = 1, .channels = 40, .maps = 64, .in_h = 7, .in_w = 7, .out_h = 7, .out_w = 7, .pad_top = 1,
      .pad_left = 1}, 1, 1, 4, EPI_BIAS_RELU, true},
    {{.batch = 1, .channels = 16, .maps = 64, .in_h = 21, .in_w = 19, .out_h = 21, .out_w = 19, .pad_top = 1,
      .pad_left = 1}, 1, 1, 2, EPI_HARD_SIGMOID, true},
    /* a fused pool (out_h, out_w: the rows and columns its windows read, as conv_winograd.c sets them): MNIST's
     * conv2 into a 2x2 MaxPool; AveragePool with an epilogue that does not keep zero and pads; a 4x4 window
     * over the whole tile, with a batch of two; windows 1 x 2 and 2 x 1 (a remaining row and column of
     * tiles reads past the output); weights transformed at run time */
    {{.batch = 1, .channels = 32, .maps = 64, .in_h = 26, .in_w = 26, .out_h = 24, .out_w = 24, .pool = 1,
      .pool_h = 2, .pool_w = 2}, 0, 0, 4, EPI_BIAS_RELU, false},
    {{.batch = 1, .channels = 5, .maps = 7, .in_h = 9, .in_w = 11, .out_h = 8, .out_w = 10, .pad_top = 1,
      .pad_left = 1, .pool = 2, .pool_h = 2, .pool_w = 2}, 0, 0, 2, EPI_HARD_SIGMOID, false},
    {{.batch = 2, .channels = 20, .maps = 33, .in_h = 13, .in_w = 14, .out_h = 12, .out_w = 12, .pad_top = 1,
      .pad_left = 1, .pool = 1, .pool_h = 4, .pool_w = 4}, 0, 0, 4, EPI_NONE, false},
    {{.batch = 1, .channels = 17, .maps = 32, .in_h = 10, .in_w = 9, .out_h = 8, .out_w = 6, .pool = 1,
      .pool_h = 1, .pool_w = 2}, 0, 0, 4, EPI_HARD_SIGMOID, false},
    {{.batch = 1, .channels = 16, .maps = 48, .in_h = 11, .in_w = 11, .out_h = 10, .out_w = 11, .pad_top = 1,
      .pad_left = 1, .pool = 2, .pool_h = 2, .pool_w = 1}, 0, 0, 2, EPI_BIAS_RELU, true},
};

static void check_small_cases(const char *cc) {
  const int n = (int)(sizeof small_cases / sizeof small_cases[0]);
  Target targets[4];
  int n_targets = tb_host_targets(targets);
  CU_ASSERT(n_targets > 0); /* a test that checked nothing must not pass */
  for (int k = 0; k < n_targets; k++) {
    double worst[sizeof small_cases / sizeof small_cases[0]];
    run_cases(small_cases, n, targets[k], cc, false, worst, NULL);
    for (int i = 0; i < n; i++) {
      if (worst[i] < 0 || worst[i] > bound_for(small_cases[i].m))
        printf("\n  %s %s case %d F(%dx%d,3x3): worst error / scale %g (bound %g)", cc, target_name(targets[k]), i,
               small_cases[i].m, small_cases[i].m, worst[i], bound_for(small_cases[i].m));
      CU_ASSERT(worst[i] >= 0 && worst[i] <= bound_for(small_cases[i].m));
    }
  }
}

/* A file with one instance leaves some of the template's shared helpers unused: still no warning. */
static void test_one_instance_per_file(void) {
  Target targets[4];
  int n_targets = tb_host_targets(targets);
  for (int k = 0; k < n_targets; k++)
    for (int m = 2; m <= 4; m += 2) {
      Case c = small_cases[m == 4 ? 0 : 1];
      double worst;
      run_cases(&c, 1, targets[k], "clang", false, &worst, NULL);
      CU_ASSERT(worst >= 0 && worst <= bound_for(m));
      run_cases(&c, 1, targets[k], "gcc", false, &worst, NULL);
      CU_ASSERT(worst >= 0 && worst <= bound_for(m));
    }
}

static void test_small_shapes_gcc(void) { check_small_cases("gcc"); }
static void test_small_shapes_clang(void) { check_small_cases("clang"); }

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
  Target targets[4];
  CU_ASSERT_FATAL(tb_host_targets(targets) > 0);
  double worst[10], rel[10];
  run_cases(cases, 10, targets[0], "clang", true, worst, rel);
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
    WinogradPlan p = winograd_plan(&s, 16, 32, 0.9);
    CU_ASSERT_EQUAL(p.m, resnet[i].m);
    CU_ASSERT_EQUAL(p.transform_weights, resnet[i].transform_weights);
    for (int v = 1; v < 5; v++) /* the chosen way is the cheapest */
      CU_ASSERT(p.cycles[p.m == 0 ? 0 : p.m / 2 + (p.transform_weights ? 2 : 0)] <= p.cycles[v]);
  }
  WinogradShape stem = square(224, 3, 64), mnist = square(28, 1, 32);
  CU_ASSERT_EQUAL(winograd_plan(&stem, 16, 32, 0.9).m, 0);
  CU_ASSERT_EQUAL(winograd_plan(&mnist, 16, 32, 0.9).m, 0);
  CU_ASSERT_EQUAL(winograd_plan(&mnist, 8, 16, 0.9).m, 0);
  /* a layer whose transformed weights would take more than 64 MB keeps them 3x3 */
  WinogradShape wide = square(56, 2048, 2048);
  WinogradPlan p = winograd_plan(&wide, 16, 32, 0.9);
  CU_ASSERT_NOT_EQUAL(p.m, 0);
  CU_ASSERT(p.transform_weights);
  /* against the portable loop nest, Winograd wins even at 7x7x512 */
  WinogradShape deep = square(7, 512, 512);
  CU_ASSERT_NOT_EQUAL(winograd_plan(&deep, 16, 32, 0.06).m, 0);
}

/* Every plan, whatever the shape, satisfies the template's constraints and fits its register file. */
static void test_plans_fit_template(void) {
  static const int64_t channels[] = {1, 3, 8, 16, 17, 40, 64, 96, 256, 512};
  static const int64_t sizes[] = {1, 2, 5, 7, 14, 15, 28, 56};
  static const Target targets[] = {TARGET_AVX512, TARGET_AVX2};
  for (size_t k = 0; k < sizeof targets / sizeof targets[0]; k++)
    for (size_t a = 0; a < sizeof channels / sizeof channels[0]; a++)
      for (size_t b = 0; b < sizeof channels / sizeof channels[0]; b++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
          for (int mode = 0; mode < 4; mode++) {
            int m = mode % 2 ? 4 : 2, a2 = (m + 2) * (m + 2), v = target_vector_floats(targets[k]);
            int registers = registers_of(targets[k]);
            bool runtime = mode >= 2;
            WinogradShape s = square(sizes[z], channels[a], channels[b]);
            WinogradPlan p = winograd_plan_tile(&s, v, registers, m, runtime);
            int64_t kb = ceil_div(s.maps, v), cb = ceil_div(s.channels, v);
            CU_ASSERT(p.rows >= 1 && p.cols >= 1 && p.rows * p.cols + p.cols + 1 <= registers);
            CU_ASSERT(p.tile_block % p.rows == 0 && p.k_chunk % p.cols == 0 && kb % p.k_chunk == 0);
            CU_ASSERT_EQUAL(p.work_floats, a2 * p.tile_block * (cb + p.k_chunk) * v + (runtime ? a2 * v * p.cols * v : 0));
            CU_ASSERT_EQUAL(p.weight_floats, (runtime ? 9 : a2) * cb * kb * v * v);
          }
}

/* Through the whole compiler: a Conv the cost rule gives to Winograd and the ONNX nodes after it (an activation, a
 * residual Add, an activation after it), which the fusion pass joins to the Conv, laid out, emitted and built for
 * each SIMD target and compiler, and compared with a direct convolution computed by the driver in double. */
typedef struct ModelCase {
  int64_t batch, c, m, h, w;
  bool residual;
  Activation act, post_act;
  const char *kernel; /* the start of the kernel the cost rule must choose on avx512 */
  int64_t pool;       /* a MaxPool after it, pool x pool at stride pool, or 0 */
} ModelCase;

static const char *activation_c(const Activation *a, const char *x) {
  switch (a->kind) {
  case ACT_RELU:
    return cn_format("(%s > 0 ? %s : 0)", x, x);
  case ACT_HARD_SIGMOID:
    return cn_format("fmin(fmax(%s * %s + %s, 0.0), 1.0)", x, emit_float(a->alpha, DT_FLOAT),
                     emit_float(a->beta, DT_FLOAT));
  default:
    CU_ASSERT_EQUAL(a->kind, ACT_NONE);
    return x;
  }
}

/* The ONNX node computing activation a of v (ReLU or HardSigmoid), or v itself for none. */
static Value *activation_node(Graph *g, const Activation *a, Value *v) {
  if (a->kind == ACT_NONE)
    return v;
  Node *n = tb_node(g, a->kind == ACT_RELU ? "Relu" : "HardSigmoid", 1, &v, 1);
  if (a->kind == ACT_HARD_SIGMOID) {
    tb_attr_float(n, "alpha", a->alpha);
    tb_attr_float(n, "beta", a->beta);
  }
  return n->out[0];
}

/* MaxPool of v, size x size at stride size. */
static Value *max_pool_node(Graph *g, Value *v, int64_t size) {
  Node *p = tb_node(g, "MaxPool", 1, &v, 1);
  tb_attr_ints(p, "kernel_shape", 2, TB_DIMS(size, size));
  tb_attr_ints(p, "strides", 2, TB_DIMS(size, size));
  return p->out[0];
}

/* A 3x3 Conv (pads 1) of x with the driver's pseudo-random weights and bias. */
static Node *conv_node(Graph *g, Value *x, int64_t c, int64_t m) {
  /* the same generator as the driver's */
  float *w = cn_alloc_array((size_t)(m * c * 9), sizeof *w), *b = cn_alloc_array((size_t)m, sizeof *b);
  unsigned seed = 7;
  for (int64_t i = 0; i < m * c * 9; i++) {
    seed = seed * 1664525u + 1013904223u;
    w[i] = ((float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f) * 0.1f;
  }
  for (int64_t i = 0; i < m; i++) {
    seed = seed * 1664525u + 1013904223u;
    b[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
  Value *ins[3] = {x, tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(m, c, 3, 3), w), tb_const(g, "b", DT_FLOAT, 1, TB_DIMS(m), b)};
  Node *n = tb_node(g, "Conv", 3, ins, 1);
  tb_attr_ints(n, "pads", 4, TB_DIMS(1, 1, 1, 1));
  return n;
}

static void run_model_case(const ModelCase *k, Target target, const char *cc) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(k->batch, k->c, k->h, k->w));
  Value *r = k->residual ? tb_input(g, "r", DT_FLOAT, 4, TB_DIMS(k->batch, k->m, k->h, k->w)) : NULL;
  Node *n = conv_node(g, x, k->c, k->m);
  Value *y = activation_node(g, &k->act, n->out[0]);
  if (r) {
    Value *sum_in[2] = {y, r};
    y = activation_node(g, &k->post_act, tb_node(g, "Add", 2, sum_in, 1)->out[0]);
  }
  if (k->pool)
    y = max_pool_node(g, y, k->pool);
  tb_output(g, y);
  tb_infer(g);
  tb_passes(g);
  int joined = (k->act.kind != ACT_NONE) + (r ? 1 + (k->post_act.kind != ACT_NONE) : 0) + (k->pool > 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n->fusion);
  CU_ASSERT_EQUAL(n->fusion->n_covers, 1 + joined);
  CU_ASSERT_EQUAL(n->fusion->residual >= 0, r != NULL);

  /* the driver computes the reference of every Conv pixel into z (and its scale, sum |x * w| + 1), then compares
   * each output pixel with its pool window's maximum (a window of one pixel without a pool) */
  const int64_t pool = k->pool ? k->pool : 1, ph = k->h / pool, pw = k->w / pool;
  int64_t plane = k->h * k->w, x_count = k->batch * k->c * plane, y_count = k->batch * k->m * plane;
  char *driver = cn_format(
      "int main(void) {\n"
      "  static float x[%lld], r[%lld], y[%lld], w[%lld], b[%lld];\n"
      "  static double z[%lld], z_scale[%lld];\n"
      "  unsigned seed = 7;\n"
      "  for (int i = 0; i < %lld; i++) { seed = seed * 1664525u + 1013904223u; w[i] = ((float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f) * 0.1f; }\n"
      "  for (int i = 0; i < %lld; i++) { seed = seed * 1664525u + 1013904223u; b[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f; }\n"
      "  for (int i = 0; i < %lld; i++) x[i] = (float)((i * 37) %% 101) / 50.0f - 1.0f;\n"
      "  for (int i = 0; i < %lld; i++) r[i] = (float)((i * 53) %% 97) / 48.0f - 1.0f;\n"
      "  const void *inputs[] = {x, r};\n"
      "  void *outputs[] = {y};\n"
      "  if (model_run(inputs, outputs) != 0) return 1;\n"
      "  for (int n = 0; n < %lld; n++)\n"
      "    for (int m = 0; m < %lld; m++)\n"
      "      for (int oy = 0; oy < %lld; oy++)\n"
      "        for (int ox = 0; ox < %lld; ox++) {\n"
      "          double acc = b[m], scale = 1;\n"
      "          for (int c = 0; c < %lld; c++)\n"
      "            for (int ky = 0; ky < 3; ky++)\n"
      "              for (int kx = 0; kx < 3; kx++) {\n"
      "                int iy = oy + ky - 1, ix = ox + kx - 1;\n"
      "                if (iy < 0 || iy >= %lld || ix < 0 || ix >= %lld) continue;\n"
      "                double t = (double)w[((m * %lld + c) * 3 + ky) * 3 + kx] * x[((n * %lld + c) * %lld + iy) * %lld + ix];\n"
      "                acc += t, scale += fabs(t);\n"
      "              }\n"
      "          const int at = ((n * %lld + m) * %lld + oy) * %lld + ox;\n"
      "          double ref = %s;\n"
      "          %s\n"
      "          z[at] = ref, z_scale[at] = scale;\n"
      "        }\n"
      "  for (int nm = 0; nm < %lld; nm++)\n"
      "    for (int py = 0; py < %lld; py++)\n"
      "      for (int px = 0; px < %lld; px++) {\n"
      "        double ref = -INFINITY, scale = 0;\n"
      "        for (int i = 0; i < %lld; i++)\n"
      "          for (int j = 0; j < %lld; j++) {\n"
      "            const int at = (nm * %lld + py * %lld + i) * %lld + px * %lld + j;\n"
      "            ref = fmax(ref, z[at]), scale = fmax(scale, z_scale[at]);\n"
      "          }\n"
      "        const int at = (nm * %lld + py) * %lld + px;\n"
      "        if (fabs(y[at] - ref) > 1e-5 * scale) {\n"
      "          printf(\"y[%%d] = %%g, expected %%g\\n\", at, y[at], ref);\n"
      "          return 2;\n"
      "        }\n"
      "      }\n"
      "  return 0;\n"
      "}\n",
      (long long)x_count, (long long)(r ? y_count : 1), (long long)y_count, (long long)(k->m * k->c * 9),
      (long long)k->m, (long long)y_count, (long long)y_count, (long long)(k->m * k->c * 9), (long long)k->m,
      (long long)x_count,
      (long long)(r ? y_count : 1), (long long)k->batch, (long long)k->m, (long long)k->h, (long long)k->w,
      (long long)k->c, (long long)k->h, (long long)k->w, (long long)k->c, (long long)k->c, (long long)k->h,
      (long long)k->w, (long long)k->m, (long long)k->h, (long long)k->w, activation_c(&k->act, "acc"),
      r ? cn_format("ref = %s;", activation_c(&k->post_act, "(ref + r[at])")) : "(void)r;",
      (long long)(k->batch * k->m), (long long)ph, (long long)pw, (long long)pool, (long long)pool, (long long)k->h,
      (long long)pool, (long long)k->w, (long long)pool, (long long)ph, (long long)pw);
  int status = tb_compile_and_run_target(g, driver, target, cc, NULL);
  if (status != 0)
    fprintf(stderr, "Winograd %lldx%lldx%lld -> %lld on %s with %s: status %d\n", (long long)k->c, (long long)k->h,
            (long long)k->w, (long long)k->m, target_name(target), cc, status);
  CU_ASSERT_EQUAL(status, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n->kernel);
  if (target == TARGET_AVX512)
    CU_ASSERT_NSTRING_EQUAL(n->kernel, k->kernel, strlen(k->kernel));
  CU_ASSERT(conv_winograd_owns(n));
}

static const ModelCase model_cases[] = {
    {1, 32, 64, 28, 28, false, {ACT_RELU, 0, 0}, {ACT_NONE, 0, 0}, "winograd F(4x4,3x3) NCHW16c, tile 5 tiles x 4", 0},
    {1, 64, 80, 14, 14, true, {ACT_NONE, 0, 0}, {ACT_RELU, 0, 0}, "winograd F(4x4,3x3) NCHW16c, tile 16 tiles x 1 output vectors, weights transformed at run time", 0},
    {2, 40, 72, 17, 19, false, {ACT_HARD_SIGMOID, 0.2f, 0.5f}, {ACT_NONE, 0, 0}, "winograd F(4x4,3x3)", 0},
    /* conv + ReLU + MaxPool: the pool in the output transform; odd sizes leave a row and column unpooled */
    {1, 32, 64, 24, 24, false, {ACT_RELU, 0, 0}, {ACT_NONE, 0, 0}, "winograd F(4x4,3x3) NCHW16c, tile 6 tiles x 4 output vectors, fused MaxPool", 2},
    {2, 40, 72, 17, 19, false, {ACT_HARD_SIGMOID, 0.2f, 0.5f}, {ACT_NONE, 0, 0}, "winograd F(4x4,3x3)", 2},
};

static void test_in_model(void) {
  static const char *const compilers[] = {"gcc", "clang"};
  Target targets[4];
  int n = tb_host_targets(targets);
  CU_ASSERT(n > 0);
  for (size_t i = 0; i < sizeof model_cases / sizeof model_cases[0]; i++)
    for (int t = 0; t < n; t++)
      for (size_t c = 0; c < sizeof compilers / sizeof compilers[0]; c++)
        run_model_case(&model_cases[i], targets[t], compilers[c]);
}

/* Which fused windows Winograd takes (conv + ReLU + pool): a pool whose windows neither overlap nor pad and fit
 * in a tile, not an overlapping 3x3 MaxPool at stride 2, a padded one, or a window 3 wide (which does not
 * divide the tile): those go to the direct kernel, which computes the pool row by row. */
static void test_window_choice(void) {
  static const struct {
    int64_t kernel, stride, pad;
    bool winograd;
  } pools[] = {{2, 2, 0, true}, {4, 4, 0, true}, {3, 2, 0, false}, {2, 2, 1, false}, {3, 3, 0, false}};
  for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
    Graph *g = tb_graph(13);
    Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 64, 28, 28));
    Node *n = conv_node(g, x, 64, 64);
    Value *y = activation_node(g, &(Activation){ACT_RELU, 0, 0}, n->out[0]);
    Node *p = tb_node(g, "MaxPool", 1, &y, 1);
    tb_attr_ints(p, "kernel_shape", 2, TB_DIMS(pools[i].kernel, pools[i].kernel));
    tb_attr_ints(p, "strides", 2, TB_DIMS(pools[i].stride, pools[i].stride));
    tb_attr_ints(p, "pads", 4, TB_DIMS(pools[i].pad, pools[i].pad, pools[i].pad, pools[i].pad));
    tb_output(g, p->out[0]);
    tb_infer(g);
    tb_passes(g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(n->fusion);
    CU_ASSERT_PTR_EQUAL(n->fusion->window, p);
    layout_assign(g, TARGET_AVX512);
    CU_ASSERT_EQUAL(conv_winograd_owns(n), pools[i].winograd);
    CU_ASSERT_PTR_NOT_NULL(n->kernel);
  }
}

CU_TestInfo winograd_tests[] = {
    {"in_model", test_in_model},
    {"window_choice", test_window_choice},
    {"cost_rule_choices", test_cost_rule_choices},
    {"plans_fit_template", test_plans_fit_template},
    {"small_shapes_gcc", test_small_shapes_gcc},
    {"small_shapes_clang", test_small_shapes_clang},
    {"one_instance_per_file", test_one_instance_per_file},
    {"resnet_layer_accuracy", test_resnet_layer_accuracy},
    CU_TEST_INFO_NULL,
};
