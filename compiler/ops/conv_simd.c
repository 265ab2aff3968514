/* Conv on SIMD targets: which template kernel runs a node, its register tile, and its weights packed at compile
 * time into the order the kernel reads them. The layout pass calls conv_simd (OpDesc.simd); the emitter calls
 * conv_emit_simd to instantiate the template. Nodes no kernel fits keep the portable loop nest of conv.c.
 *
 *   templates/winograd.c         3x3, stride 1, one group, where the cost rule of conv_winograd.c says so (a fused
 *                                pool whose windows neither overlap nor pad is computed by its output transform)
 *   templates/dwconv_nchwc.c     depthwise (group = C = M), 2-D: ops/conv_depthwise.c
 *   templates/gemm_rows.c        weights known only at run time (training): im2col and a GEMM, ops/conv_gemm.c
 *   templates/conv_pointwise.c   1x1, stride 1, no padding, one group: a GEMM over the pixels, NCHWc in/out
 *   templates/conv_direct.c      every other 2-D Conv whose groups have whole blocks of channels (or one group);
 *                                NCHWc out, and NCHWc in, or plain NCHW in when the input is row-major and has
 *                                fewer channels than a vector (a network's first layer: RGB images)
 *
 * Any other fused window (Fusion.window: a MaxPool or AveragePool after either kernel, a depthwise Conv after a
 * pointwise one) runs in NCHWc too: the kernel writes its rows into a ring on the stack and
 * templates/conv_window.c computes each window row from it, so the Conv's result is never stored. */
#include "../cnnc.h"

#include <string.h>

/* A fused window: conv_window.c's parameters. */
typedef struct WindowKernel {
  int kind; /* 1 MaxPool, 2 AveragePool, 3 depthwise Conv (conv_window.c's WIN_KIND) */
  Window w; /* over the Conv's result */
  bool count_include_pad, bias;
  int64_t span, ring;   /* rows one window spans, rows the ring keeps */
  int64_t ow_lo, ow_hi; /* its columns reading no padding */
  int pt;               /* interior pixels per step */
} WindowKernel;

typedef struct ConvKernel {
  const char *template;
  bool pointwise; /* conv_pointwise.c, else conv_direct.c */
  Window w;
  int vlen;
  int64_t batch, group;
  int64_t in_channels, out_channels; /* per group */
  int64_t ib;                        /* channels per input block: vlen for NCHWc input, 1 for plain NCHW */
  int64_t icb, ocb;                  /* per group: input blocks of ib channels, output blocks of vlen */
  int ocv, pt;                       /* the register tile: output-channel vectors by output pixels */
  int64_t icc;                       /* conv_direct: input blocks per chunk (icb: no chunks) */
  bool pad_copy;                     /* conv_direct: reads a zero-bordered copy of the input (PAD_COPY) */
  int64_t ow_lo, ow_hi;              /* conv_direct: the output columns whose taps all fall inside the input */
  bool bias;
  WindowKernel *win; /* a fused window, or NULL */
  bool whole;        /* conv_pointwise with a window: the ring holds the whole image of OCV blocks */
} ConvKernel;

static int64_t blocks(int64_t channels, int64_t per_block) { return (channels + per_block - 1) / per_block; }

/* Accumulators a register tile may hold: the rest of the registers hold weights and a broadcast input
 * (AVX-512 has 32 vector registers, AVX2 16). 24 of 32 would leave clang as fast, but GCC then spills. */
static int max_accumulators(Target t) { return t == TARGET_AVX512 ? 20 : 12; }

/* The tile: the most output-channel vectors (up to 4) that divide the blocks, then as many pixels as the
 * accumulators allow, at most `pixels`. More channel vectors per tile mean fewer input broadcasts per
 * multiply-add, more pixels fewer weight loads. */
static void choose_tile(ConvKernel *k, Target t, int64_t pixels, int max_ocv) {
  int acc = max_accumulators(t), registers = t == TARGET_AVX512 ? 32 : 16;
  k->ocv = 1;
  for (int v = max_ocv < 4 ? max_ocv : 4; v > 1; v--)
    if (k->ocb % v == 0 && acc / v >= 3 && acc / v * v + v + 1 <= registers) {
      k->ocv = v;
      break;
    }
  k->pt = acc / k->ocv;
  if (k->pt > pixels)
    k->pt = pixels > 0 ? (int)pixels : 1;
}

static bool is_pointwise(const Window *w, int64_t group) {
  if (group != 1)
    return false;
  for (int i = 0; i < w->rank; i++)
    if (w->kernel[i] != 1 || w->stride[i] != 1 || w->pad_begin[i] != 0 || w->pad_end[i] != 0)
      return false;
  return true;
}

Value *conv_packed_constant(Graph *g, const Value *from, const char *what, int64_t count) {
  Value *p = graph_add_value(g, cn_format("%s (%s)", from->name, what));
  p->dtype = DT_FLOAT;
  p->rank = 1;
  p->dims[0] = count;
  p->has_shape = true;
  p->flags = VAL_INITIALIZER;
  p->data = cn_alloc_array((size_t)count, sizeof(float));
  return p;
}

/* W (G * M, C, KH, KW), M and C per group, as [G][M blocks / OCV][C blocks of IB][KH][KW][IB][OCV][VLEN], zero
 * where a channel is padding. A pointwise kernel is the case KH = KW = 1, G = 1, IB = VLEN. */
static Value *pack_weights(Graph *g, const Value *w, const ConvKernel *k) {
  int64_t V = k->vlen, IB = k->ib, taps = k->w.kernel[0] * k->w.kernel[1];
  int64_t count = k->group * k->ocb * V * k->icb * IB * taps;
  Value *p = conv_packed_constant(g, w, cn_format("packed for %s, %d output vectors", k->template, k->ocv), count);
  const float *src = w->data;
  float *dst = p->data;
  for (int64_t grp = 0; grp < k->group; grp++)
    for (int64_t m = 0; m < k->out_channels; m++)
      for (int64_t c = 0; c < k->in_channels; c++)
        for (int64_t t = 0; t < taps; t++) {
          int64_t ob = m / V, og = ob / k->ocv, v = ob % k->ocv;
          int64_t at = ((((grp * (k->ocb / k->ocv) + og) * k->icb + c / IB) * taps + t) * IB + c % IB) * k->ocv + v;
          dst[at * V + m % V] = src[((grp * k->out_channels + m) * k->in_channels + c) * taps + t];
        }
  return p;
}

Value *conv_pack_bias(Graph *g, const Value *b, const Value *extra, int64_t maps, int vlen) {
  const Value *named = b ? b : extra;
  Value *p = conv_packed_constant(g, named, "padded to whole blocks", blocks(maps, vlen) * vlen);
  float *dst = p->data;
  for (int64_t m = 0; m < maps; m++)
    dst[m] = (float)((b ? value_get_double(b, m) : 0) + (extra ? value_get_double(extra, m) : 0));
  return p;
}

/* A window's interior columns: ow * SW - PAD_L >= 0 and ow * SW - PAD_L + (KW - 1) * DW <= IW - 1. */
static void interior_columns(const Window *w, int64_t *ow_lo, int64_t *ow_hi) {
  int64_t lo = (w->pad_begin[1] + w->stride[1] - 1) / w->stride[1];
  int64_t last = w->in[1] - 1 + w->pad_begin[1] - (w->kernel[1] - 1) * w->dilation[1];
  int64_t hi = last < 0 ? 0 : last / w->stride[1] + 1;
  *ow_lo = lo < w->out[1] ? lo : w->out[1];
  *ow_hi = hi > w->out[1] ? w->out[1] : hi < *ow_lo ? *ow_lo : hi;
}

/* Weight bytes of one output-block group that conv_direct reads for every output row: above this, the input
 * channels run in chunks of this size, each through all the rows, so the weights come from L2 (1 MB on Zen 4,
 * 2 MB on Sapphire Rapids; half of it leaves room for the input rows) and not from memory: ResNet-18's 3x3
 * convs with 256 or 512 input channels have 0.6 to 1.2 MB per group of 4 output vectors, and measured 7 to 12%
 * of the peak unchunked. */
#define CHUNK_WEIGHT_BYTES (512 << 10)

/* Stack bytes a fused window's ring may take (OCV blocks of `ring` rows): the tile keeps fewer output vectors
 * until it fits. ResNet's stem (4 blocks of 3 rows of 112 pixels) takes 84 KB with AVX-512. */
#define RING_MAX_BYTES (128 << 10)

/* A pointwise Conv with a fused window keeps the whole image of its OCV output blocks in the ring (conv_pointwise.c's
 * WHOLE) when it takes at most this much stack: its tiles then run across rows, as without a window. Measured
 * on MobileNetV2 (Zen 5, clang -O3, bench/run.sh's per-layer profile, the least of 400 runs): the ring of rows
 * ran its 14x14 and 7x7 expand+depthwise layers 3 to 8% slower than the pointwise and depthwise kernels run
 * apart (their 14- and 7-pixel rows end in narrow tiles), the whole image as fast as apart, without storing the
 * expanded tensor. 64 KB takes 14x14 images with 4 output vectors and keeps 28x28 (200 KB) on the ring. Larger
 * images stay on the ring rather than apart: there, apart ran block 2 (112x112, stride 2) 22 us slower and block 3
 * (56x56, stride 1) 10 us faster, but whole-model timings did not tell the two apart, and apart stores the
 * expanded tensors (1.8 to 4.8 MB) and grows the arena. */
#define WHOLE_MAX_BYTES (64 << 10)

/* The fused window of n, or NULL when it is none the kernels run (a depthwise Conv with a partial block of
 * weights is still packed whole, so every fused window fits). */
static WindowKernel *window_kernel(const Node *n) {
  const Node *window = n->fusion ? n->fusion->window : NULL;
  if (!window)
    return NULL;
  WindowKernel *wk = cn_alloc(sizeof *wk);
  switch (window->op->kind) {
  case OP_MAX_POOL: wk->kind = 1; break;
  case OP_AVERAGE_POOL: wk->kind = 2; break;
  case OP_CONV: wk->kind = 3; break;
  default: return NULL;
  }
  wk->w = wk->kind == 3 ? *conv_window(window) : *pool_window(window);
  if (wk->w.rank != 2)
    return NULL;
  wk->count_include_pad = wk->kind == 2 && attr_flag(window, "count_include_pad", false);
  wk->bias = wk->kind == 3 && node_in(window, 2);
  wk->span = (wk->w.kernel[0] - 1) * wk->w.dilation[0] + 1;
  wk->ring = wk->span < wk->w.in[0] ? wk->span : wk->w.in[0];
  interior_columns(&wk->w, &wk->ow_lo, &wk->ow_hi);
  int64_t interior = wk->ow_hi - wk->ow_lo;
  wk->pt = interior < 8 ? (interior > 0 ? (int)interior : 1) : 8;
  return wk;
}

/* The depthwise window's W (C, 1, KH, KW) as [C blocks][KH][KW][VLEN], or its B as [C blocks][VLEN]; zero past
 * C. */
static Value *pack_depthwise(Graph *g, const Value *v, int vlen, int64_t taps) {
  int64_t channels = v->dims[0], cb = blocks(channels, vlen);
  Value *p = conv_packed_constant(g, v, "packed for conv_window.c", cb * taps * vlen);
  float *dst = p->data;
  for (int64_t c = 0; c < channels; c++)
    for (int64_t t = 0; t < taps; t++)
      dst[((c / vlen) * taps + t) * vlen + c % vlen] = (float)value_get_double(v, c * taps + t);
  return p;
}

/* conv_direct copies a group's input into a zero-bordered buffer on the stack when the border columns, which
 * otherwise run one pixel at a time (a quarter of the FMA rate with 4 output vectors), are more than this share
 * of a row, and the copy fits in PAD_COPY_MAX_BYTES of stack: ResNet-18's 7x7 layers have 2 border columns of 7,
 * its 14x14 layers 2 of 14 (a 16x16x256 copy: 256 KB). */
#define PAD_COPY_BORDER_SHARE 0.1
#define PAD_COPY_MAX_BYTES (320 << 10)

/* How busy conv_direct.c keeps the FMA units, from bench/run.sh's per-layer profile (AVX-512, clang -O3):
 * MNIST's 3x3 32->64 Conv on 24x24 pixels, tile 4 output vectors x 5 pixels, ran at 86% of the peak. Per
 * input channel and tap a tile issues OCV * PW multiply-adds against OCV weight loads and PW broadcasts; with
 * one output vector the loads (PW + 1 per PW multiply-adds) bound it near half the peak. The border columns
 * run one pixel at a time (OCV multiply-adds per OCV + 1 loads), so narrow images lose their share. */
double conv_direct_efficiency(const Node *n, Target t) {
  const Value *x = n->in[0], *w = n->in[1];
  if (t == TARGET_GENERIC || x->rank != 4 || w->rank != 4)
    return 0.06; /* conv.c's portable loop nest, measured on ResNet-18's 3x3 layers */
  int vlen = target_vector_floats(t);
  int64_t ocb = blocks(w->dims[0] / attr_int(n, "group", 1), vlen);
  int ocv = ocb % 4 == 0 ? 4 : ocb % 3 == 0 ? 3 : ocb % 2 == 0 ? 2 : 1;
  double tile = ocv == 1 ? 0.45 : 0.85;
  Window win;
  window_read(n, &win, w->dims + 2);
  window_forward(n, &win, false);
  int64_t lo, hi;
  interior_columns(&win, &lo, &hi);
  double border = (double)(win.out[1] - (hi - lo)) / (double)win.out[1];
  int64_t padded = blocks(x->dims[1], vlen) * vlen * (win.in[0] + win.pad_begin[0] + win.pad_end[0]) *
                   (win.in[1] + win.pad_begin[1] + win.pad_end[1]) * (int64_t)sizeof(float);
  if (border > PAD_COPY_BORDER_SHARE && padded <= PAD_COPY_MAX_BYTES)
    border = 0; /* conv_simd gives it a zero-bordered copy */
  return tile * (1 - border) + 0.25 * border;
}

bool conv_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  if (!n->in[1]->data) /* weights known at run time: training's */
    return conv_gemm_simd(n, t);
  if (conv_depthwise_simd(g, n, t, in_layout, out_layout) || conv_winograd_simd(g, n, t, in_layout, out_layout))
    return true;
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
  const Fusion *f = n->fusion;
  if (x->dtype != DT_FLOAT || x->rank != 4 || (b && !b->data))
    return false;
  WindowKernel *win = window_kernel(n);
  if (f && f->window && !win)
    return false;
  Value *extra = f && f->bias >= 0 ? n->in[f->bias] : NULL;
  if (extra && (!extra->data || value_count(extra) != w->dims[0]))
    return false;
  ConvKernel *k = cn_alloc(sizeof *k);
  window_read(n, &k->w, w->dims + 2);
  window_forward(n, &k->w, false);
  k->vlen = target_vector_floats(t);
  k->batch = x->dims[0];
  k->group = attr_int(n, "group", 1);
  k->in_channels = x->dims[1] / k->group;
  k->out_channels = w->dims[0] / k->group;
  bool whole_blocks = k->in_channels % k->vlen == 0 && k->out_channels % k->vlen == 0;
  if (k->group > 1 && !whole_blocks)
    return false;
  k->pointwise = is_pointwise(&k->w, k->group);
  if (k->pointwise) {
    k->template = "conv_pointwise.c";
    k->ib = k->vlen;
  } else {
    k->template = "conv_direct.c";
    bool plain = x->layout == LAYOUT_ROW_MAJOR && k->group == 1 && k->in_channels < k->vlen;
    k->ib = plain ? 1 : k->vlen;
    interior_columns(&k->w, &k->ow_lo, &k->ow_hi);
  }
  k->icb = blocks(k->in_channels, k->ib);
  k->ocb = blocks(k->out_channels, k->vlen);
  k->win = win;
  int max_ocv = 4;
  if (win) {
    int64_t ring_vector = win->ring * k->w.out[1] * k->vlen * (int64_t)sizeof(float);
    while (max_ocv > 1 && max_ocv * ring_vector > RING_MAX_BYTES)
      max_ocv--;
    if (ring_vector > RING_MAX_BYTES)
      return false;
  }
  if (!k->pointwise && !win && k->ib == k->vlen) {
    const Window *cw = &k->w;
    int64_t padded = k->icb * k->ib * (cw->in[0] + cw->pad_begin[0] + cw->pad_end[0]) *
                     (cw->in[1] + cw->pad_begin[1] + cw->pad_end[1]) * (int64_t)sizeof(float);
    double border = (double)(cw->out[1] - (k->ow_hi - k->ow_lo)) / (double)cw->out[1];
    k->pad_copy = border > PAD_COPY_BORDER_SHARE && padded <= PAD_COPY_MAX_BYTES;
    if (k->pad_copy) {
      k->ow_lo = 0;
      k->ow_hi = cw->out[1];
    }
  }
  /* with a window, the pointwise kernel's tiles run along one row at a time */
  int64_t run = !k->pointwise ? k->ow_hi - k->ow_lo : win ? k->w.out[1] : plane_size(x);
  choose_tile(k, t, run, max_ocv);
  if (win && k->pointwise && k->ocv * plane_size(x) * k->vlen * (int64_t)sizeof(float) <= WHOLE_MAX_BYTES) {
    k->whole = true;
    win->ring = k->w.out[0];
    choose_tile(k, t, plane_size(x), max_ocv);
  }
  int64_t block_bytes = k->w.kernel[0] * k->w.kernel[1] * k->ib * k->ocv * k->vlen * (int64_t)sizeof(float);
  k->icc = k->icb;
  if (!k->pointwise && !win && k->icb * block_bytes > CHUNK_WEIGHT_BYTES) {
    int64_t chunks = (k->icb * block_bytes + CHUNK_WEIGHT_BYTES - 1) / CHUNK_WEIGHT_BYTES;
    k->icc = blocks(k->icb, chunks); /* chunks of equal size, give or take one block */
  }
  n->in[1] = pack_weights(g, w, k);
  k->bias = b || extra;
  if (b)
    n->in[2] = conv_pack_bias(g, b, extra, k->group * k->out_channels, k->vlen);
  else if (extra)
    n->in[f->bias] = conv_pack_bias(g, NULL, extra, k->group * k->out_channels, k->vlen);
  if (win && win->kind == 3) {
    int64_t taps = win->w.kernel[0] * win->w.kernel[1];
    n->in[f->window_in] = pack_depthwise(g, n->in[f->window_in], k->vlen, taps);
    if (win->bias)
      n->in[f->window_in + 1] = pack_depthwise(g, n->in[f->window_in + 1], k->vlen, 1);
  }
  static const char *const window_names[] = {"", "MaxPool", "AveragePool", "depthwise Conv"};
  char *chunks = cn_format("%s%s", k->pad_copy ? ", zero-bordered input copy" : "",
                           k->icc < k->icb ? cn_format(", input channels in chunks of %lld", (long long)(k->icc * k->ib))
                                           : "");
  n->kernel = cn_format("%s NCHW%dc%s, tile %d output vectors x %d pixels%s%s%s%s",
                        k->pointwise ? "pointwise" : "direct", k->vlen, k->ib == 1 ? " from plain NCHW" : "", k->ocv,
                        k->pt, chunks, win ? ", fused " : "", win ? window_names[win->kind] : "",
                        !win ? "" : k->whole ? " on the whole image (conv_window.c)" : " on a ring of rows (conv_window.c)");
  n->kernel_params = k;
  in_layout[0] = k->ib == 1 ? LAYOUT_ROW_MAJOR : LAYOUT_NCHWC;
  if (f && f->residual >= 0)
    in_layout[f->residual] = LAYOUT_NCHWC;
  out_layout[0] = LAYOUT_NCHWC;
  return true;
}

/* The parameters both templates share: the tile lists, bias and epilogue. `pixels` is the extent the tile runs
 * along (tail tiles cover pixels % pt). */
static void emit_tile_and_epilogue(Instance *t, const Node *n, const ConvKernel *k, int64_t pixels) {
  tpl_int(t, "OCV", k->ocv);
  tpl_list(t, "OCV_LIST", k->ocv);
  tpl_tile(t, "TILE", k->pt, k->ocv);
  int tail = (int)(pixels % k->pt);
  tpl_int(t, k->pointwise ? "TAIL_PIXELS" : "TAIL_PW", tail);
  if (tail)
    tpl_tile(t, "TAIL_TILE", tail, k->ocv);
  tpl_int(t, "HAS_BIAS", k->bias);
  int64_t oc_last = k->out_channels - (k->ocb - 1) * k->vlen;
  tpl_int(t, "OC_LAST", oc_last);
  bool pad_nonzero = tpl_epilogue(t, n->fusion);
  tpl_int(t, "ZERO_PAD_LANES", pad_nonzero && oc_last < k->vlen);
}

/* The window's instance (conv_window.c), named fn, and the parameters the Conv's instance needs to drive it. */
static void emit_window(Emitter *e, const Node *n, const ConvKernel *k, const char *fn) {
  const WindowKernel *wk = k->win;
  const Window *w = &wk->w;
  Instance *t = tpl_begin(e, "conv_window.c", fn);
  tpl_int(t, "WIN_KIND", wk->kind);
  tpl_int(t, "OCV", k->ocv);
  tpl_int(t, "ZH", w->in[0]);
  tpl_int(t, "ZW", w->in[1]);
  tpl_int(t, "RING", wk->ring);
  const char *names[] = {"WOH", "WOW", "WKH",    "WKW",    "WSH",    "WSW",
                         "WDH", "WDW", "WPAD_T", "WPAD_L", "WPAD_B", "WPAD_R"};
  int64_t values[] = {w->out[0],    w->out[1],     w->kernel[0],    w->kernel[1],   w->stride[0], w->stride[1],
                      w->dilation[0], w->dilation[1], w->pad_begin[0], w->pad_begin[1], w->pad_end[0], w->pad_end[1]};
  for (int i = 0; i < 12; i++)
    tpl_int(t, names[i], values[i]);
  tpl_int(t, "WOW_LO", wk->ow_lo);
  tpl_int(t, "WOW_HI", wk->ow_hi);
  tpl_int(t, "WPT", wk->pt);
  tpl_list(t, "WTILE", wk->pt);
  tpl_int(t, "COUNT_INCLUDE_PAD", wk->count_include_pad);
  tpl_int(t, "WIN_BIAS", wk->bias);
  static const Activation none = {ACT_NONE, 0, 0};
  bool zero_moves = tpl_activation(t, "WIN_ACT", wk->kind == 3 ? &n->fusion->window_act : &none);
  int64_t last = k->group * k->out_channels - (k->group * k->ocb - 1) * k->vlen;
  tpl_int(t, "WIN_ZERO_LANES", zero_moves && last < k->vlen ? last : 0);
  tpl_end(t);
}

void conv_emit_simd(Emitter *e, const Node *n) {
  if (!n->in[1]->data) {
    conv_gemm_emit(e, n);
    return;
  }
  if (conv_depthwise_owns(n)) {
    conv_depthwise_emit(e, n);
    return;
  }
  if (conv_winograd_owns(n)) {
    conv_winograd_emit(e, n);
    return;
  }
  const ConvKernel *k = n->kernel_params;
  const Fusion *f = n->fusion;
  char *fn = cn_format("%s_kernel", emit_function_name(n)), *window_fn = cn_format("%s_window", emit_function_name(n));
  if (k->win)
    emit_window(e, n, k, window_fn);
  Instance *t = tpl_begin(e, k->template, fn);
  tpl_int(t, "BATCH", k->batch);
  tpl_int(t, "ICB", k->icb);
  tpl_int(t, "OCB", k->ocb);
  tpl_int(t, "IC_LAST", k->in_channels - (k->icb - 1) * k->ib);
  tpl_int(t, "WINDOW", k->win != NULL);
  if (k->win) {
    const Window *w = &k->win->w;
    tpl_define(t, "WINDOW_FN", "%s", window_fn);
    tpl_int(t, "RING", k->win->ring);
    tpl_int(t, "WSPAN", k->win->span);
    tpl_int(t, "WOH", w->out[0]);
    tpl_int(t, "WOW", w->out[1]);
    tpl_int(t, "WSH", w->stride[0]);
    tpl_int(t, "WPAD_T", w->pad_begin[0]);
  }
  if (k->pointwise) {
    int64_t pixels = k->w.out[0] * k->w.out[1];
    tpl_int(t, "PIXELS", pixels);
    tpl_int(t, "PT", k->pt);
    tpl_int(t, "WHOLE", k->whole);
    if (k->win) {
      tpl_int(t, "ZH", k->w.out[0]);
      tpl_int(t, "ZW", k->w.out[1]);
    }
    emit_tile_and_epilogue(t, n, k, k->win && !k->whole ? k->w.out[1] : pixels);
  } else {
    const Window *w = &k->w;
    tpl_int(t, "G", k->group);
    tpl_int(t, "IB", k->ib);
    tpl_int(t, "PAD_COPY", k->pad_copy);
    if (k->pad_copy) {
      tpl_int(t, "SRC_IH", w->in[0]);
      tpl_int(t, "SRC_IW", w->in[1]);
      tpl_int(t, "SRC_PAD_T", w->pad_begin[0]);
      tpl_int(t, "SRC_PAD_L", w->pad_begin[1]);
    }
    tpl_int(t, "IH", w->in[0] + (k->pad_copy ? w->pad_begin[0] + w->pad_end[0] : 0));
    tpl_int(t, "IW", w->in[1] + (k->pad_copy ? w->pad_begin[1] + w->pad_end[1] : 0));
    tpl_int(t, "OH", w->out[0]);
    tpl_int(t, "OW", w->out[1]);
    tpl_int(t, "KH", w->kernel[0]);
    tpl_int(t, "KW", w->kernel[1]);
    tpl_int(t, "SH", w->stride[0]);
    tpl_int(t, "SW", w->stride[1]);
    tpl_int(t, "DH", w->dilation[0]);
    tpl_int(t, "DW", w->dilation[1]);
    tpl_int(t, "PAD_T", k->pad_copy ? 0 : w->pad_begin[0]);
    tpl_int(t, "PAD_L", k->pad_copy ? 0 : w->pad_begin[1]);
    tpl_int(t, "ICC", k->icc);
    tpl_int(t, "OW_LO", k->ow_lo);
    tpl_int(t, "OW_HI", k->ow_hi);
    tpl_int(t, "PW", k->pt);
    tpl_tile(t, "ONE_TILE", 1, k->ocv);
    emit_tile_and_epilogue(t, n, k, k->ow_hi - k->ow_lo);
  }
  tpl_end(t);
  const char *bias = !k->bias ? "NULL" : node_in(n, 2) ? emit_in(n, 2) : emit_in(n, f->bias);
  const char *res = f && f->residual >= 0 ? emit_in(n, f->residual) : "NULL";
  bool depthwise = k->win && k->win->kind == 3;
  const char *wdw = depthwise ? emit_in(n, f->window_in) : "NULL";
  const char *bdw = depthwise && k->win->bias ? emit_in(n, f->window_in + 1) : "NULL";
  emitf(e, "%s(%s, %s, %s, %s, %s, %s, %s);", fn, emit_in(n, 0), emit_in(n, 1), bias, res, wdw, bdw, emit_out(n, 0));
}
