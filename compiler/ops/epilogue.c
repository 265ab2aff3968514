/* The fused semantics of an anchor (Conv, Gemm or MatMul carrying a Fusion, see cnnc.h) in portable C, written
 * once for the three emitters: the epilogue every result goes through before it is stored, and the
 * row-streaming driver of a fused window.
 *
 * The epilogue of one result, as generated for Conv + Relu + Add + Relu:
 *
 *   {
 *     float v = y0[o];
 *     v = (v > 0 ? v : 0);
 *     v += residual[o0 * 56 + o];
 *     v = (v > 0 ? v : 0);
 *     out[o0 * 56 + o] = v;
 *   }
 *
 * The activations use the element-wise ops' own formulas (unary_activation_expr, Clip's comparisons), in the
 * order the unfused graph applies them, so fused and unfused code round the same way.
 *
 * A fused window (MaxPool, AveragePool, or MobileNet's depthwise Conv after a 1x1 Conv) reads a few rows of the
 * anchor's result at a time, so that result is never stored whole. Per batch item and block of channels, the
 * anchor's rows go into a ring of `span` rows (the window's height, dilation included) per channel, and each
 * window output row is computed as soon as its last input row is there:
 *
 *   float ring[8][3 * 112];
 *   int64_t next = 0;
 *   for (int64_t oh = 0; oh < 56; oh++) {
 *     const int64_t first = oh * 2 - 1;            the window's first input row
 *     const int64_t end = ...;                     one past its last, clamped to the anchor's rows
 *     if (next < first) next = first;              rows no window needs are skipped
 *     for (; next < end; next++) { anchor row `next` of the block, through the epilogue, into slot next % 3 }
 *     for (int64_t j = 0; j < 8; j++) { window output row oh of channel m + j, from ring[j] }
 *   }
 *
 * Each anchor row is computed once, since consecutive windows overlap by span - stride rows and the ring keeps
 * the last span. */
#include "../cnnc.h"

#include <math.h>

/* Stack bytes the rings of one block may take, like Conv's accumulator rows: the block shrinks until they fit
 * (fuse.c keeps one channel's ring within half of this). */
#define RING_BLOCK_BYTES (32 << 10)

static bool act_is_none(const Activation *a) { return a->kind == ACT_NONE; }

bool epilogue_is_trivial(const Node *anchor) {
  const Fusion *f = anchor->fusion;
  return !f || (f->bias < 0 && act_is_none(&f->act) && f->residual < 0 && act_is_none(&f->post_act) && !f->window);
}

void epilogue_emit_act(Emitter *e, const Activation *act, DType t, const char *var) {
  switch (act->kind) {
  case ACT_NONE: return;
  case ACT_CLIP:
    /* Clip's own two comparisons, in its order: when min > max every element becomes max */
    if (!isinf(act->alpha) || act->alpha > 0)
      emitf(e, "%s = %s < %s ? %s : %s;", var, var, emit_float(act->alpha, t), emit_float(act->alpha, t), var);
    if (!isinf(act->beta) || act->beta < 0)
      emitf(e, "%s = %s > %s ? %s : %s;", var, var, emit_float(act->beta, t), emit_float(act->beta, t), var);
    return;
  case ACT_SILU: {
    /* Mul(x, Sigmoid(x)) */
    Activation sigmoid = {ACT_SIGMOID, 0, 0};
    emitf(e, "%s = %s * %s;", var, var, unary_activation_expr(&sigmoid, t, var));
    return;
  }
  default: emitf(e, "%s = %s;", var, unary_activation_expr(act, t, var)); return;
  }
}

void epilogue_emit_store(Emitter *e, const Node *anchor, const char *dst, const char *value, const char *bias,
                         const char *residual) {
  const Fusion *f = anchor->fusion;
  if (epilogue_is_trivial(anchor) || (f->bias < 0 && act_is_none(&f->act) && f->residual < 0 &&
                                      act_is_none(&f->post_act))) {
    emitf(e, "%s = %s;", dst, value);
    return;
  }
  CN_ASSERT((f->bias < 0 || bias) && (f->residual < 0 || residual));
  DType t = anchor->out[0]->dtype;
  emitf(e, "{");
  emitf(e, "%s v = %s;", dtype_ctype(t), value);
  if (f->bias >= 0)
    emitf(e, "v += %s;", bias);
  epilogue_emit_act(e, &f->act, t, "v");
  if (f->residual >= 0)
    emitf(e, "v += %s;", residual);
  epilogue_emit_act(e, &f->post_act, t, "v");
  emitf(e, "%s = v;", dst);
  emitf(e, "}");
}

static const Window *window_of(const Node *window) {
  return window->op->kind == OP_CONV ? conv_window(window) : pool_window(window);
}

/* Rows of the anchor's result one window spans, and how many the ring keeps (never more than there are). */
static int64_t window_span(const Node *window) {
  const Window *w = window_of(window);
  return (w->kernel[0] - 1) * w->dilation[0] + 1;
}

static int64_t ring_rows(const Node *window) {
  int64_t span = window_span(window), height = window->in[0]->dims[2];
  return span < height ? span : height;
}

int64_t epilogue_ring_bytes(const Node *window) {
  const Value *z = window->in[0];
  return ring_rows(window) * z->dims[3] * (int64_t)dtype_size(z->dtype);
}

int epilogue_window_block(const Node *anchor, int block) {
  int64_t ring = epilogue_ring_bytes(anchor->fusion->window);
  while (block > 1 && block * ring > RING_BLOCK_BYTES)
    block /= 2;
  return block;
}

void epilogue_emit_window(Emitter *e, const Node *anchor, int block, EmitAnchorRows emit_rows, void *ctx) {
  const Fusion *f = anchor->fusion;
  const Node *window = f->window;
  const Window *w = window_of(window);
  const Value *z = window->in[0], *y = anchor->out[0];
  const char *T = dtype_ctype(z->dtype);
  int64_t span = window_span(window), rows = ring_rows(window);
  long long height = z->dims[2], width = z->dims[3], maps = y->dims[1], out_height = y->dims[2],
            out_width = y->dims[3];
  emitf(e, "/* %s '%s' fused: %s */", window->op->name, cn_escape_comment(window->name, 100), window_describe(w));
  emitf(e, "%s ring[%d][%lld]; /* the last %lld rows of the result, per channel of the block */", T, block,
        (long long)rows * width, (long long)rows);
  emitf(e, "int64_t next = 0; /* the next row of the result to compute */");
  emitf(e, "for (int64_t oh = 0; oh < %lld; oh++) {", out_height);
  emitf(e, "const int64_t first = %s; /* the window's first row; negative in the padding */",
        expr_plus(expr_times("oh", w->stride[0]), -w->pad_begin[0]));
  emitf(e, "const int64_t end = first + %lld < %lld ? first + %lld : %lld;", (long long)span, height,
        (long long)span, height);
  emitf(e, "if (next < first)");
  emitf(e, "  next = first;");
  emitf(e, "for (; next < end; next++) {");
  emitf(e, "const int64_t o0 = next;");
  emitf(e, "const int64_t slot = next %% %lld * %lld;", (long long)rows, width);
  char *dst[8];
  CN_ASSERT(block <= 8);
  for (int j = 0; j < block; j++)
    dst[j] = cn_format("ring[%d][slot + o]", j);
  emit_rows(e, anchor, ctx, dst);
  emitf(e, "}");
  emitf(e, "for (int64_t j = 0; j < %d; j++) {", block);
  emitf(e, "const int64_t o0 = oh;");
  char *out = cn_format("Y0 + ((n * %lld + m + j) * %lld + oh) * %lld", maps, out_height, out_width);
  if (window->op->kind == OP_CONV)
    conv_emit_depthwise_row(e, anchor, "ring[j]", rows, "m + j", out);
  else
    pool_emit_window_row(e, window, "ring[j]", rows, out);
  emitf(e, "}");
  emitf(e, "}");
}
