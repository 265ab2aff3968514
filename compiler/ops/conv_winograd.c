/* Winograd convolution for stride-1 3x3 Convs (templates/winograd.c): which layers get it (the cost rule), with
 * which tile and blocking, their weights transformed at compile time (or left for the kernel), and the template's
 * instantiation.
 *
 * The cost rule. Winograd trades multiplies for transforms and for larger weights, so whether it pays depends on
 * the layer's shape. Each layer gets the cheapest of five ways: a direct convolution, F(2x2,3x3) and F(4x4,3x3)
 * with weights transformed at compile time, and the same with the 3x3 weights transformed by the kernel at run
 * time. The estimates are cycles of one core of the machines the SIMD targets aim at (Zen 4/5, Sapphire Rapids;
 * AVX2 ones alike with half the vector), with constants measured on ResNet-18's layers on a Zen 5 core:
 *   - the core issues 2 vector FMAs per cycle. A direct convolution keeps a fraction `direct_efficiency` of that
 *     busy, which conv_simd.c knows for its own kernels (conv_direct_efficiency: 0.9 is what a good direct
 *     kernel and ONNX Runtime reach; conv.c's portable loop nest gets about 0.06); Winograd's products keep
 *     PRODUCT_EFFICIENCY;
 *   - transforming one tile of one channel block, input or output with its epilogue and its share of the L2
 *     traffic, costs transform_cycles(m); transforming the 3x3 weights of one input channel for one vector of
 *     output channels at run time, weight_transform_cycles(m);
 *   - weights are cold: a model's weights, and the transformed ones even more, outgrow the last-level cache, so
 *     each layer's come from DRAM on every run, at WEIGHT_BYTES_PER_CYCLE (this core's DRAM rate, 26 GB/s). A
 *     direct convolution uses each weight at every pixel and hides that stream under its arithmetic. Winograd's
 *     transformed weights are a*a/9 times as large (4x for F(4x4,3x3)) and each serves only the tiles: with few
 *     tiles the stream overlapped little with the products when measured alone, and not at all while other
 *     processes shared the memory (this machine's usual state), so it is added in full.
 * With Cp, Kp the channel counts padded to whole vectors (CB, KB vectors), T the tiles, Tp the tiles padded to
 * whole register tiles (choose_blocking), a = m + 2:
 *     direct = max(N*OH*OW * 9 * C * KB / (2 * direct_efficiency), 9 * C * K * 4 / WEIGHT_BYTES_PER_CYCLE)
 *              (its vectors run along output channels only, so C is not padded)
 *     F(m)   = a*a * Tp * Cp * KB / (2 * PRODUCT_EFFICIENCY) + T * (CB + KB) * transform_cycles(m)
 *              + a*a * Cp * Kp * 4 / WEIGHT_BYTES_PER_CYCLE
 *     F(m) transforming its weights at run time, once per block of tiles:
 *            = the same products and tile transforms + blocks * Cp * KB * weight_transform_cycles(m)
 *              + 9 * Cp * Kp * 4 / WEIGHT_BYTES_PER_CYCLE
 * For ResNet-18 (N = 1) against a direct kernel at 0.9 this gives F(4x4,3x3) at 56x56x64 and 28x28x128 (the 4x
 * cut in multiplies wins 2.5x), F(4x4,3x3) transforming its weights at run time at 14x14x256 (16 tiles use each
 * transformed weight 16 times, too few to pay for streaming 9.4 MB of them), and the direct convolution at
 * 7x7x512, where 4 or 16 tiles are too few for Winograd to save much (measured within 10% of each other, the
 * direct one reading the fewest bytes); against the portable loop nest, Winograd everywhere. Small channel
 * counts (C = 1 or 3 padded to a vector) stay direct: the transforms cost more than the multiplies they save. */
#include "../cnnc.h"

#include <string.h>

#define PRODUCT_EFFICIENCY 0.85
#define WEIGHT_BYTES_PER_CYCLE 8.0
/* Weights transformed at compile time are a*a/9 times larger, and the generated C spends about 2.5 bytes of text
 * per byte of weights: past this size per layer the kernel transforms them at run time instead, so that a very
 * wide layer cannot blow up the C file. */
#define MAX_TRANSFORMED_WEIGHT_BYTES ((int64_t)64 << 20)
static double transform_cycles(int m) { return m == 4 ? 240.0 : 100.0; }
static double weight_transform_cycles(int m) { return m == 4 ? 100.0 : 80.0; }

/* G, the weight transform: U = G g G^T. F(4x4,3x3) interpolates at 0, 1, -1, 2, -2 and infinity; F(2x2,3x3) at
 * 0, 1, -1 and infinity. templates/winograd.c holds the matching B^T and A^T. */
static const double g4[6][3] = {{1.0 / 4, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                {0, 0, 1}};
static const double g2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool winograd_shape(const Node *n, WinogradShape *s) {
  if (n->op->kind != OP_CONV || n->in[0]->rank != 4 || n->in[0]->dtype != DT_FLOAT)
    return false;
  Window w; /* read again from the attributes, which Conv's infer has checked */
  window_read(n, &w, n->in[1]->dims + 2);
  window_forward(n, &w, false);
  for (int i = 0; i < 2; i++)
    if (w.kernel[i] != 3 || w.stride[i] != 1 || w.dilation[i] != 1)
      return false;
  if (attr_int(n, "group", 1) != 1)
    return false;
  *s = (WinogradShape){
      .batch = n->in[0]->dims[0], .channels = n->in[0]->dims[1], .maps = n->out[0]->dims[1],
      .in_h = w.in[0], .in_w = w.in[1], .out_h = w.out[0], .out_w = w.out[1],
      .pad_top = w.pad_begin[0], .pad_left = w.pad_begin[1],
  };
  return s->batch > 0 && s->channels > 0 && s->maps > 0 && s->out_h > 0 && s->out_w > 0;
}

int64_t winograd_tiles(const WinogradShape *s, int m) {
  return s->batch * ceil_div(s->out_h, m) * ceil_div(s->out_w, m);
}

/* The register tile and the blocks for tile size m, as measured best on ResNet's layers. The register tile is R
 * tiles by J vectors of output channels, J dividing KB so that no weight panel is partial. It needs R*J
 * accumulators and J weight vectors in registers (the tiles' values are broadcast from memory operands).
 *   - Few tiles (T <= 16 with 32 registers): one group of R = T tiles and the widest J that fits, so the weights,
 *     which then dominate the traffic, stream through the products exactly once.
 *   - Otherwise the widest J (4 with 32 registers, 2 with 16) and the R among the three largest that fit that
 *     costs least, counting padded tiles and a group's overhead (its weight panel read again from L2) as two
 *     FMAs per input channel: with 32 registers, T = 49 gets R = 5, T = 196 gets R = 6.
 * A block is one group of R tiles (TB = R): its V and M stay in L2 (and mostly L1) between the transforms and the
 * products, which measured faster than larger blocks reading each weight panel fewer times from L3. The products
 * then cover all output channels at once (KC = KB) unless M would outgrow half of a 1 MiB L2. With weights
 * transformed at run time J is 1: one channel block of transformed weights (a*a x VLEN x J vectors, 36 KB for
 * F(4x4,3x3) on AVX-512) must stay in L1 between its transform and the products (J = 4 measured 4x slower). */
static void choose_blocking(const WinogradShape *s, int vlen, int registers, int m, WinogradPlan *p) {
  const int64_t cb = ceil_div(s->channels, vlen), kb = ceil_div(s->maps, vlen), tiles = winograd_tiles(s, m);
  const int a = m + 2;
  int cols = 1;
  for (int j = 4; j > 1 && cols == 1 && !p->transform_weights; j--)
    if (kb % j == 0 && j * 8 <= registers && j != 3)
      cols = j;
  int rows;
  if (tiles <= 16 && tiles + 2 <= registers) {
    rows = (int)tiles;
    while (cols > 1 && rows * cols + cols + 1 > registers)
      cols /= 2;
  } else {
    int most = (registers - cols - 1) / cols < 16 ? (registers - cols - 1) / cols : 16;
    rows = most;
    for (int r = most; r >= most - 2 && r >= 1; r--)
      if (ceil_div(tiles, r) * (r * cols + 2) < ceil_div(tiles, rows) * (rows * cols + 2))
        rows = r;
  }
  p->rows = rows;
  p->cols = cols;
  p->split = rows * cols < 8 ? 2 : 1; /* 2 FMAs per cycle, 4 cycles each: 8 independent accumulators */
  p->tile_block = rows;
  p->k_chunk = (int)kb;
  const int64_t half_l2 = (512 << 10) / 4; /* floats */
  while ((int64_t)a * a * rows * p->k_chunk * vlen > half_l2 && p->k_chunk % 2 == 0 && (p->k_chunk / 2) % cols == 0)
    p->k_chunk /= 2;
  p->work_floats = (int64_t)a * a * rows * (cb + p->k_chunk) * vlen;
  p->weight_floats = (p->transform_weights ? 9 : (int64_t)a * a) * cb * vlen * kb * vlen;
  if (p->transform_weights)
    p->work_floats += (int64_t)a * a * vlen * cols * vlen;
  p->prefetch = 2048;
}

static double winograd_cycles(const WinogradShape *s, int vlen, const WinogradPlan *p) {
  int a = p->m + 2;
  int64_t cb = ceil_div(s->channels, vlen), kb = ceil_div(s->maps, vlen), tiles = winograd_tiles(s, p->m);
  double tiles_padded = (double)(ceil_div(tiles, p->rows) * p->rows);
  double products = a * a * tiles_padded * (double)(cb * vlen) * (double)kb / (2 * PRODUCT_EFFICIENCY);
  double transforms = (double)tiles * (double)(cb + kb) * transform_cycles(p->m);
  if (p->transform_weights) /* once per block of tiles */
    transforms += (double)ceil_div(tiles, p->tile_block) * (double)(cb * vlen) * (double)kb *
                  weight_transform_cycles(p->m);
  double weights = (double)p->weight_floats * 4 / WEIGHT_BYTES_PER_CYCLE;
  return products + transforms + weights;
}

WinogradPlan winograd_plan_tile(const WinogradShape *s, int vlen, int registers, int m, bool transform_weights) {
  CN_ASSERT(m == 2 || m == 4);
  WinogradPlan p = {.m = m, .vlen = vlen, .transform_weights = transform_weights};
  choose_blocking(s, vlen, registers, m, &p);
  return p;
}

WinogradPlan winograd_plan(const WinogradShape *s, int vlen, int registers, double direct_efficiency) {
  int64_t kb = ceil_div(s->maps, vlen);
  double arithmetic = (double)(s->batch * s->out_h * s->out_w) * 9 * (double)s->channels * (double)kb /
                      (2 * direct_efficiency);
  double stream = 9 * (double)s->channels * (double)s->maps * 4 / WEIGHT_BYTES_PER_CYCLE;
  double cycles[5] = {arithmetic > stream ? arithmetic : stream};
  WinogradPlan best = {.m = 0, .vlen = vlen};
  for (int variant = 1; variant < 5; variant++) {
    WinogradPlan p = winograd_plan_tile(s, vlen, registers, variant % 2 ? 2 : 4, variant > 2);
    cycles[variant] = winograd_cycles(s, vlen, &p);
    if (!p.transform_weights && p.weight_floats * 4 > MAX_TRANSFORMED_WEIGHT_BYTES)
      continue;
    if (cycles[variant] < cycles[0] && (best.m == 0 || cycles[variant] < winograd_cycles(s, vlen, &best)))
      best = p;
  }
  memcpy(best.cycles, cycles, sizeof cycles);
  return best;
}

float *winograd_pack_weights(const float *w, const WinogradShape *s, const WinogradPlan *p) {
  const int a = p->m + 2, vlen = p->vlen, panel = p->cols * vlen;
  const double(*g)[3] = p->m == 4 ? g4 : g2;
  const int64_t cp = ceil_div(s->channels, vlen) * vlen, kp = ceil_div(s->maps, vlen) * vlen;
  float *u = cn_alloc_array((size_t)p->weight_floats, sizeof *u);
  if (p->transform_weights) { /* (KB / J, Cp, 9, J * VLEN) */
    for (int64_t k = 0; k < s->maps; k++)
      for (int64_t c = 0; c < s->channels; c++)
        for (int tap = 0; tap < 9; tap++)
          u[((k / panel * cp + c) * 9 + tap) * panel + k % panel] = w[(k * s->channels + c) * 9 + tap];
    return u;
  }
  for (int64_t k = 0; k < s->maps; k++)
    for (int64_t c = 0; c < s->channels; c++) {
      const float *f = w + (k * s->channels + c) * 9;
      double gf[6][3]; /* G f */
      for (int i = 0; i < a; i++)
        for (int j = 0; j < 3; j++)
          gf[i][j] = g[i][0] * f[j] + g[i][1] * f[3 + j] + g[i][2] * f[6 + j];
      for (int i = 0; i < a; i++)
        for (int j = 0; j < a; j++) {
          double x = gf[i][0] * g[j][0] + gf[i][1] * g[j][1] + gf[i][2] * g[j][2]; /* (G f G^T)[i][j] */
          int64_t point = i * a + j;
          u[((point * (kp / panel) + k / panel) * cp + c) * panel + k % panel] = (float)x;
        }
    }
  return u;
}

void winograd_instance(Emitter *e, const char *fn, const WinogradShape *s, const WinogradPlan *p, bool bias,
                       const Fusion *f) {
  Instance *t = tpl_begin(e, "winograd.c", fn);
  tpl_int(t, "WINO_M", p->m);
  tpl_int(t, "WINO_N", s->batch);
  tpl_int(t, "WINO_C", s->channels);
  tpl_int(t, "WINO_K", s->maps);
  tpl_int(t, "WINO_H", s->in_h);
  tpl_int(t, "WINO_W", s->in_w);
  tpl_int(t, "WINO_OH", s->out_h);
  tpl_int(t, "WINO_OW", s->out_w);
  tpl_int(t, "WINO_PAD_T", s->pad_top);
  tpl_int(t, "WINO_PAD_L", s->pad_left);
  tpl_int(t, "WINO_TB", p->tile_block);
  tpl_int(t, "WINO_R", p->rows);
  tpl_int(t, "WINO_J", p->cols);
  tpl_int(t, "WINO_SPLIT", p->split);
  tpl_int(t, "WINO_KC", p->k_chunk);
  tpl_int(t, "WINO_PREFETCH", p->prefetch);
  tpl_int(t, "WINO_TRANSFORM_WEIGHTS", p->transform_weights);
  tpl_list(t, "WINO_COLS", p->cols);
  tpl_tile(t, "WINO_TILE", p->rows, p->cols);
  tpl_int(t, "WINO_POOL", s->pool);
  if (s->pool) {
    tpl_int(t, "WINO_POOL_H", s->pool_h);
    tpl_int(t, "WINO_POOL_W", s->pool_w);
    tpl_int(t, "WINO_PH", s->out_h / s->pool_h);
    tpl_int(t, "WINO_PW", s->out_w / s->pool_w);
  }
  tpl_int(t, "HAS_BIAS", bias);
  int64_t oc_last = s->maps - (ceil_div(s->maps, p->vlen) - 1) * p->vlen;
  tpl_int(t, "OC_LAST", oc_last);
  bool pad_nonzero = tpl_epilogue(t, f);
  tpl_int(t, "ZERO_PAD_LANES", pad_nonzero && oc_last < p->vlen);
  tpl_end(t);
}

//
// The Conv's SIMD hooks for Winograd (conv_simd.c calls them first)
//

/* What conv_winograd_simd chose for a node, for its emission. */
typedef struct WinogradKernel {
  WinogradShape shape;
  WinogradPlan plan;
  bool bias;
} WinogradKernel;

static int vector_registers(Target t) { return t == TARGET_AVX512 ? 32 : 16; }

/* A fused MaxPool or AveragePool the output transform can compute (WINO_POOL): windows that neither overlap nor
 * pad, the size of the pool's output the Conv's rounded down, and no residual Add to read at the Conv's pixels.
 * The Conv then computes only the rows and columns some window reads (s->out_h, s->out_w shrink to them); the
 * tile side must still be checked to be a multiple of the window's. MNIST's conv2 (24x24x64 into a 2x2 MaxPool)
 * runs its F(4x4,3x3) at 2.8x the speed of the direct kernel with the pool on its ring of rows. */
static bool winograd_pool(const Node *n, WinogradShape *s) {
  const Fusion *f = n->fusion;
  const Node *pool = f ? f->window : NULL;
  if (!pool)
    return true;
  if ((pool->op->kind != OP_MAX_POOL && pool->op->kind != OP_AVERAGE_POOL) || f->residual >= 0)
    return false;
  const Window *w = pool_window(pool);
  if (w->rank != 2)
    return false;
  for (int i = 0; i < 2; i++)
    if (w->kernel[i] != w->stride[i] || w->dilation[i] != 1 || w->pad_begin[i] != 0 || w->pad_end[i] != 0 ||
        w->out[i] != w->in[i] / w->kernel[i])
      return false;
  s->pool = pool->op->kind == OP_MAX_POOL ? 1 : 2;
  s->pool_h = w->kernel[0];
  s->pool_w = w->kernel[1];
  s->out_h = w->out[0] * w->kernel[0];
  s->out_w = w->out[1] * w->kernel[1];
  return s->out_h > 0 && s->out_w > 0;
}

bool conv_winograd_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  Value *w = n->in[1], *b = node_in(n, 2);
  const Fusion *f = n->fusion;
  WinogradShape s;
  if (t != TARGET_AVX512 && t != TARGET_AVX2)
    return false;
  if (!winograd_shape(n, &s) || !w->data || (b && !b->data) || !winograd_pool(n, &s))
    return false;
  Value *extra = f && f->bias >= 0 ? n->in[f->bias] : NULL;
  if (extra && (!extra->data || value_count(extra) != s.maps))
    return false;
  WinogradPlan plan = winograd_plan(&s, target_vector_floats(t), vector_registers(t), conv_direct_efficiency(n, t));
  if (plan.m == 0 || (s.pool && (plan.m % s.pool_h != 0 || plan.m % s.pool_w != 0)))
    return false;
  WinogradKernel *k = cn_alloc(sizeof *k);
  k->shape = s;
  k->plan = plan;
  const char *what = plan.transform_weights
                         ? cn_format("3x3 taps for Winograd F(%dx%d,3x3), %d output vectors", plan.m, plan.m, plan.cols)
                         : cn_format("Winograd F(%dx%d,3x3): G w G^T, %d output vectors", plan.m, plan.m, plan.cols);
  Value *u = conv_packed_constant(g, w, what, plan.weight_floats);
  memcpy(u->data, winograd_pack_weights(w->data, &s, &plan), (size_t)plan.weight_floats * sizeof(float));
  n->in[1] = u;
  k->bias = b || extra;
  if (b)
    n->in[2] = conv_pack_bias(g, b, extra, s.maps, plan.vlen);
  else if (extra)
    n->in[f->bias] = conv_pack_bias(g, NULL, extra, s.maps, plan.vlen);
  n->kernel = cn_format("winograd F(%dx%d,3x3) NCHW%dc, tile %d tiles x %d output vectors%s%s", plan.m, plan.m,
                        plan.vlen, plan.rows, plan.cols, plan.transform_weights ? ", weights transformed at run time" : "",
                        s.pool == 1 ? ", fused MaxPool" : s.pool == 2 ? ", fused AveragePool" : "");
  n->kernel_params = k;
  in_layout[0] = LAYOUT_NCHWC;
  if (f && f->residual >= 0)
    in_layout[f->residual] = LAYOUT_NCHWC;
  out_layout[0] = LAYOUT_NCHWC;
  return true;
}

bool conv_winograd_owns(const Node *n) { return n->kernel && strncmp(n->kernel, "winograd ", 9) == 0; }

/* The scratch every Winograd layer of the model shares (they run one after another): declared once, before the
 * first one's instance, as large as the largest one needs. */
static void emit_shared_work(Emitter *e, const Node *n, const char *name) {
  int64_t floats = 0;
  const Node *first = NULL;
  for (int i = 0; i < e->graph->n_nodes; i++) {
    const Node *o = e->graph->nodes[i];
    if (o->dead || !conv_winograd_owns(o))
      continue;
    first = first ? first : o;
    const WinogradKernel *k = o->kernel_params;
    floats = k->plan.work_floats > floats ? k->plan.work_floats : floats;
  }
  if (first != n)
    return;
  fprintf(e->kernels, "/* The Winograd layers' scratch: a block of transformed inputs and of products. */\n");
  fprintf(e->kernels, "static _Alignas(64) float %s[%lld];\n\n", name, (long long)floats);
}

void conv_winograd_emit(Emitter *e, const Node *n) {
  const WinogradKernel *k = n->kernel_params;
  const Fusion *f = n->fusion;
  char *work = cn_format("%s_winograd_work", e->opts->prefix);
  emit_shared_work(e, n, work);
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  winograd_instance(e, fn, &k->shape, &k->plan, k->bias, f);
  const char *bias = !k->bias ? "NULL" : node_in(n, 2) ? emit_in(n, 2) : emit_in(n, f->bias);
  const char *res = f && f->residual >= 0 ? emit_in(n, f->residual) : "NULL";
  emitf(e, "%s(%s, %s, %s, %s, %s, %s);", fn, emit_in(n, 0), emit_in(n, 1), bias, res, emit_out(n, 0), work);
}
