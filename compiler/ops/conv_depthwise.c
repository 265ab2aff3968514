/* Depthwise Conv on SIMD targets: a Conv with one 2-D filter per channel (group = C = M) runs
 * templates/dwconv_nchwc.c on NCHWc tensors, its weights packed at compile time to (C blocks, KH, KW, VLEN) and
 * its bias to whole blocks, the fused activation and residual Add applied before the store (tpl_epilogue).
 * conv_simd (conv_simd.c) asks here first; a Conv that is not depthwise, or that fuses a window, goes on to the
 * other kernels or keeps the portable loop nest.
 *
 * The register tile is a run of output pixels along a row (choose_tile). */
#include "../cnnc.h"

#include <string.h>

typedef struct DepthwiseKernel {
  Window w;
  int vlen;
  int64_t batch, channels;
  int tile;
  bool bias;
} DepthwiseKernel;

static const char depthwise_template[] = "dwconv_nchwc.c";

bool conv_depthwise_owns(const Node *n) { return n->kernel && strncmp(n->kernel, "depthwise ", 10) == 0; }

/* Interior output columns of the row: those whose taps all fall inside the input. */
static int64_t interior_columns(const Window *w) {
  int64_t lo = (w->pad_begin[1] + w->stride[1] - 1) / w->stride[1];
  int64_t last = w->in[1] - 1 + w->pad_begin[1] - (w->kernel[1] - 1) * w->dilation[1];
  int64_t hi = last < 0 ? 0 : last / w->stride[1] + 1;
  if (lo > w->out[1])
    lo = w->out[1];
  if (hi > w->out[1])
    hi = w->out[1];
  return hi > lo ? hi - lo : 0;
}

/* Accumulators plus the row of weights stay in registers: at most 6 pixels (AVX-512's 32 registers would hold
 * more, but wider tiles measured no faster), fewer with wide kernels on AVX2's 16; at least 3, so the weights
 * loaded for a tile serve a few pixels, unless the row's interior is narrower. Among those, the width that
 * leaves the fewest interior pixels to the one-pixel path, the wider on a tie. */
static int choose_tile(const Window *w, Target t) {
  int widest = t == TARGET_AVX512 ? 6 : 16 - (int)w->kernel[1] - 4;
  if (widest > 6)
    widest = 6;
  if (widest < 1)
    widest = 1;
  int64_t interior = interior_columns(w);
  int narrowest = interior < 3 ? 1 : 3;
  if (narrowest > widest)
    narrowest = widest;
  int best = widest;
  for (int tile = widest - 1; tile >= narrowest; tile--)
    if (interior % tile < interior % best)
      best = tile;
  return best;
}

/* W (C, 1, KH, KW) as (C blocks, KH, KW, VLEN), zero in the lanes past C. */
static Value *pack_weights(Graph *g, const Value *w, const DepthwiseKernel *k) {
  int64_t blocks = (k->channels + k->vlen - 1) / k->vlen, taps = w->dims[2] * w->dims[3];
  Value *p = conv_packed_constant(g, w, cn_format("packed for NCHW%dc depthwise", k->vlen), blocks * taps * k->vlen);
  float *dst = p->data;
  for (int64_t c = 0; c < k->channels; c++)
    for (int64_t t = 0; t < taps; t++)
      dst[((c / k->vlen) * taps + t) * k->vlen + c % k->vlen] = (float)value_get_double(w, c * taps + t);
  return p;
}

bool conv_depthwise_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2), *y = n->out[0];
  const Fusion *f = n->fusion;
  if (x->dtype != DT_FLOAT || x->rank != 4 || !w->data || (b && !b->data) || (f && f->window))
    return false;
  int64_t channels = x->dims[1];
  if (attr_int(n, "group", 1) != channels || w->dims[0] != channels || w->dims[1] != 1 || channels < 2)
    return false;
  Value *extra = f && f->bias >= 0 ? n->in[f->bias] : NULL;
  if (extra && (!extra->data || value_count(extra) != channels))
    return false;
  int vlen = target_vector_floats(t);
  /* the template indexes with int */
  int64_t blocks = (channels + vlen - 1) / vlen;
  int64_t padded = cn_mul_size(x->dims[0] * blocks * vlen, x->dims[2] * x->dims[3]);
  int64_t padded_out = cn_mul_size(y->dims[0] * blocks * vlen, y->dims[2] * y->dims[3]);
  if (padded < 0 || padded_out < 0 || padded >= INT32_MAX || padded_out >= INT32_MAX)
    return false;
  DepthwiseKernel *k = cn_alloc(sizeof *k);
  window_read(n, &k->w, w->dims + 2);
  window_forward(n, &k->w, false);
  k->vlen = vlen;
  k->batch = x->dims[0];
  k->channels = channels;
  k->tile = choose_tile(&k->w, t);
  n->in[1] = pack_weights(g, w, k);
  k->bias = b || extra;
  if (b)
    n->in[2] = conv_pack_bias(g, b, extra, channels, vlen);
  else if (extra)
    n->in[f->bias] = conv_pack_bias(g, NULL, extra, channels, vlen);
  n->kernel = cn_format("depthwise NCHW%dc %lldx%lld, tile %d pixels", vlen, (long long)k->w.kernel[0],
                        (long long)k->w.kernel[1], k->tile);
  n->kernel_params = k;
  in_layout[0] = LAYOUT_NCHWC;
  if (f && f->residual >= 0)
    in_layout[f->residual] = LAYOUT_NCHWC;
  out_layout[0] = LAYOUT_NCHWC;
  return true;
}

void conv_depthwise_emit(Emitter *e, const Node *n) {
  const DepthwiseKernel *k = n->kernel_params;
  const Window *w = &k->w;
  const Fusion *f = n->fusion;
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  Instance *t = tpl_begin(e, depthwise_template, fn);
  tpl_int(t, "BATCH", k->batch);
  tpl_int(t, "CHANNELS", k->channels);
  static const char *const sizes[][2] = {{"IH", "IW"}, {"OH", "OW"}, {"KH", "KW"}, {"SH", "SW"}, {"DH", "DW"}};
  const int64_t *values[] = {w->in, w->out, w->kernel, w->stride, w->dilation};
  for (int s = 0; s < 5; s++)
    for (int a = 0; a < 2; a++)
      tpl_int(t, sizes[s][a], values[s][a]);
  tpl_int(t, "PT", w->pad_begin[0]);
  tpl_int(t, "PL", w->pad_begin[1]);
  tpl_int(t, "HAS_BIAS", k->bias);
  tpl_list(t, "TILE", k->tile);
  tpl_list(t, "KH_LIST", (int)w->kernel[0]);
  tpl_list(t, "KW_LIST", (int)w->kernel[1]);
  tpl_tile(t, "TILE_TAPS", k->tile, (int)w->kernel[1]);
  bool pad_nonzero = tpl_epilogue(t, f);
  tpl_int(t, "ZERO_PAD_LANES", pad_nonzero && k->channels % k->vlen != 0);
  tpl_end(t);
  const char *bias = !k->bias ? "NULL" : node_in(n, 2) ? emit_in(n, 2) : emit_in(n, f->bias);
  const char *res = f && f->residual >= 0 ? emit_in(n, f->residual) : "NULL";
  emitf(e, "%s(%s, %s, %s, %s, %s);", fn, emit_in(n, 0), emit_in(n, 1), bias, res, emit_out(n, 0));
}
