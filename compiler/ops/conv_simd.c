/* Conv on SIMD targets: which template kernel runs a node, its register tile, and its weights packed at compile
 * time into the order the kernel reads them. The layout pass calls conv_simd (OpDesc.simd); the emitter calls
 * conv_emit_simd to instantiate the template. Nodes no kernel fits keep the portable loop nest of conv.c.
 *
 *   templates/conv_pointwise.c   1x1, stride 1, no padding, one group: a GEMM over the pixels, NCHWc in/out */
#include "../cnnc.h"

#include <string.h>

typedef struct ConvKernel {
  const char *template;
  Window w;
  int vlen;
  int64_t batch, in_channels, out_channels, icb, ocb; /* channel blocks of VLEN */
  int ocv, pt; /* the register tile: output-channel vectors by output pixels */
  bool bias;
} ConvKernel;

static int64_t blocks(int64_t channels, int vlen) { return (channels + vlen - 1) / vlen; }

/* Accumulators a register tile may hold: the rest of the registers hold weights and a broadcast input
 * (AVX-512 has 32 vector registers, AVX2 16). */
static int max_accumulators(Target t) { return t == TARGET_AVX512 ? 24 : 12; }

/* The tile: the most output-channel vectors (up to 4) that divide the blocks, then as many pixels as the
 * accumulators allow. More channel vectors per tile mean fewer input broadcasts per multiply-add. */
static void choose_tile(ConvKernel *k, Target t, int64_t pixels) {
  int acc = max_accumulators(t);
  k->ocv = 1;
  for (int v = 4; v > 1; v--)
    if (k->ocb % v == 0 && acc / v >= 3) {
      k->ocv = v;
      break;
    }
  k->pt = acc / k->ocv;
  if (k->pt > pixels)
    k->pt = (int)pixels;
}

static bool is_pointwise(const Window *w, int64_t group) {
  if (group != 1)
    return false;
  for (int i = 0; i < w->rank; i++)
    if (w->kernel[i] != 1 || w->stride[i] != 1 || w->pad_begin[i] != 0 || w->pad_end[i] != 0)
      return false;
  return true;
}

static Value *packed_constant(Graph *g, const Value *from, const char *what, int64_t count) {
  Value *p = graph_add_value(g, cn_format("%s (%s)", from->name, what));
  p->dtype = DT_FLOAT;
  p->rank = 1;
  p->dims[0] = count;
  p->has_shape = true;
  p->flags = VAL_INITIALIZER;
  p->data = cn_alloc_array((size_t)count, sizeof(float));
  return p;
}

/* W (M, C, 1, 1) as [M blocks / OCV][C blocks][VLEN][OCV][VLEN], zero where a channel is padding. */
static Value *pack_pointwise_weights(Graph *g, const Value *w, const ConvKernel *k) {
  int V = k->vlen;
  Value *p = packed_constant(g, w, cn_format("packed for NCHW%dc, %d output vectors", V, k->ocv),
                             k->ocb * k->icb * V * V);
  const float *src = w->data;
  float *dst = p->data;
  for (int64_t og = 0; og < k->ocb / k->ocv; og++)
    for (int64_t ib = 0; ib < k->icb; ib++)
      for (int l = 0; l < V; l++)
        for (int v = 0; v < k->ocv; v++)
          for (int lane = 0; lane < V; lane++) {
            int64_t m = (og * k->ocv + v) * V + lane, c = ib * V + l;
            int64_t at = (((og * k->icb + ib) * V + l) * k->ocv + v) * V + lane;
            dst[at] = m < k->out_channels && c < k->in_channels ? src[m * k->in_channels + c] : 0;
          }
  return p;
}

/* The bias padded to whole blocks: B, plus a constant Add the fusion folded in. */
static Value *pack_bias(Graph *g, const Value *b, const Value *extra, const ConvKernel *k) {
  const Value *named = b ? b : extra;
  Value *p = packed_constant(g, named, "padded to whole blocks", k->ocb * k->vlen);
  float *dst = p->data;
  for (int64_t m = 0; m < k->out_channels; m++)
    dst[m] = (float)((b ? value_get_double(b, m) : 0) + (extra ? value_get_double(extra, m) : 0));
  return p;
}

bool conv_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  Value *x = n->in[0], *w = n->in[1], *b = node_in(n, 2);
  const Fusion *f = n->fusion;
  if (!w->data) /* weights known at run time: training's */
    return conv_gemm_simd(n, t);
  if (x->dtype != DT_FLOAT || x->rank != 4 || (b && !b->data))
    return false;
  if (f && f->window)
    return false;
  Value *extra = f && f->bias >= 0 ? n->in[f->bias] : NULL;
  if (extra && (!extra->data || value_count(extra) != w->dims[0]))
    return false;
  ConvKernel *k = cn_alloc(sizeof *k);
  window_read(n, &k->w, w->dims + 2);
  window_forward(n, &k->w, false);
  int64_t group = attr_int(n, "group", 1);
  if (!is_pointwise(&k->w, group))
    return false;
  k->template = "conv_pointwise.c";
  k->vlen = target_vector_floats(t);
  k->batch = x->dims[0];
  k->in_channels = x->dims[1];
  k->out_channels = w->dims[0];
  k->icb = blocks(k->in_channels, k->vlen);
  k->ocb = blocks(k->out_channels, k->vlen);
  choose_tile(k, t, plane_size(x));
  n->in[1] = pack_pointwise_weights(g, w, k);
  k->bias = b || extra;
  if (b)
    n->in[2] = pack_bias(g, b, extra, k);
  else if (extra)
    n->in[f->bias] = pack_bias(g, NULL, extra, k);
  n->kernel = cn_format("pointwise NCHW%dc, tile %d output vectors x %d pixels", k->vlen, k->ocv, k->pt);
  n->kernel_params = k;
  in_layout[0] = LAYOUT_NCHWC;
  if (f && f->residual >= 0)
    in_layout[f->residual] = LAYOUT_NCHWC;
  out_layout[0] = LAYOUT_NCHWC;
  return true;
}

void conv_emit_simd(Emitter *e, const Node *n) {
  if (!n->in[1]->data) {
    conv_gemm_emit(e, n);
    return;
  }
  const ConvKernel *k = n->kernel_params;
  const Fusion *f = n->fusion;
  const Value *y = n->out[0];
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  int64_t pixels = plane_size(y);
  Instance *t = tpl_begin(e, k->template, fn);
  tpl_int(t, "BATCH", k->batch);
  tpl_int(t, "ICB", k->icb);
  tpl_int(t, "OCB", k->ocb);
  tpl_int(t, "PIXELS", pixels);
  tpl_int(t, "OCV", k->ocv);
  tpl_int(t, "PT", k->pt);
  tpl_list(t, "OCV_LIST", k->ocv);
  tpl_list(t, "PIX_LIST", k->pt);
  tpl_tile(t, "TILE", k->ocv, k->pt);
  int tail = (int)(pixels % k->pt);
  tpl_int(t, "TAIL_PIXELS", tail);
  if (tail) {
    tpl_list(t, "TAIL_PIX_LIST", tail);
    tpl_tile(t, "TAIL_TILE", k->ocv, tail);
  }
  tpl_int(t, "HAS_BIAS", k->bias);
  int64_t oc_last = k->out_channels - (k->ocb - 1) * k->vlen;
  tpl_int(t, "OC_LAST", oc_last);
  bool pad_nonzero = tpl_epilogue(t, f);
  tpl_int(t, "ZERO_PAD_LANES", pad_nonzero && oc_last < k->vlen);
  tpl_end(t);
  const char *bias = !k->bias ? "NULL" : node_in(n, 2) ? emit_in(n, 2) : emit_in(n, f->bias);
  const char *res = f && f->residual >= 0 ? emit_in(n, f->residual) : "NULL";
  emitf(e, "%s(%s, %s, %s, %s, %s);", fn, emit_in(n, 0), emit_in(n, 1), bias, res, emit_out(n, 0));
}
