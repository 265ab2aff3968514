/* Training's convolutions on SIMD targets: im2col and templates/gemm_rows.c. In a training step the weights
 * are known only at run time (they are parameters, or for a stride-1 input gradient the flipped parameters),
 * so nothing can be packed at compile time; instead each image is unfolded into a buffer of its own and the
 * convolution becomes a matrix product whose rows are vectors:
 *
 *   Conv:                  Y_n [M][P]  = W [M][C*kernel] * cols_n [C*kernel][P], cols_n = im2col(X_n)
 *   ConvGradWeight:     dW^T [C*kernel][M] += cols_n [C*kernel][P] * dY_n^T [P][M]
 *   input gradient:   dcols_n [C*kernel][P] = W^T [C*kernel][M] * dY_n [M][P],  dX_n = col2im(dcols_n)
 *
 * cols_n[(c, t...)][o...] = X_n[c][o * stride + t * dilation - pad] (0 in the padding), P the output pixels;
 * col2im sums, for each element, the dcols elements im2col would have taken from it. The weight gradient sums
 * over the batch with dW transposed, so its vectors run along the output channels and one dY^T row feeds every
 * kernel tap; dW is transposed back once at the end (or, for few maps and wide rows, templates/conv_wgrad.c
 * computes it directly). The input gradient of a stride-1 Conv arrives as a Conv of dY with the
 * flipped weights (conv.c's grad hook): it is run as the GEMM and col2im above, which multiply-add
 * C*kernel*M per dY pixel instead of per dX pixel and unfold nothing. The buffers are static in the
 * node's function (generated code is not reentrant anyway) and bounded by CONV_GEMM_MAX_SCRATCH_BYTES; a layer
 * with larger ones, groups, other than two spatial axes, or a fused residual or window keeps conv.c's loops. */
#include "../cnnc.h"

#define CONV_GEMM_MAX_SCRATCH_BYTES (4 << 20)

typedef struct ConvGemm {
  const Window *w;
  int vlen;
  int64_t batch, channels, maps, taps, pixels, in_plane;
  int64_t rows;    /* C * kernel taps: cols' rows */
  int64_t ld_cols; /* pixels rounded up to whole vectors */
  int64_t ld_maps; /* maps rounded up to whole vectors (the weight gradient's dY^T and dW^T) */
  int mr, nv;      /* the GEMM's register tile */
  /* the input gradient: this node is Conv(dY, flipped W), run as col2im(W^T * dY); `w` is then the forward
   * Conv's window, whose output dY is and whose input dX is, and channels/maps are the forward's */
  bool col2im;
  Window forward;
  /* the weight gradient by templates/conv_wgrad.c: mr maps by nv (= kernel columns) per tile, ld_cols the
   * length of its X copy's rows */
  bool direct;
} ConvGemm;

static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/* Rows by vectors: as many vectors (up to 4) as the row has, then the rows the accumulators allow. */
static void choose_tile(ConvGemm *k, Target t, int64_t m, int64_t n) {
  int accumulators = t == TARGET_AVX512 ? 24 : 12;
  int64_t vectors = (n + k->vlen - 1) / k->vlen;
  k->nv = (int)(vectors < 4 ? vectors : 4);
  k->mr = accumulators / k->nv;
  if (k->mr > m)
    k->mr = (int)m;
}

/* The geometry of a Conv (X, W) or ConvGradWeight (X, dY) node, or NULL when no GEMM kernel runs it. */
static ConvGemm *plan(const Node *n, Target t, const Window *w, int64_t group, int64_t maps, bool weight_grad) {
  const Value *x = n->in[0];
  if (x->dtype != DT_FLOAT || x->rank != 4 || group != 1)
    return NULL;
  ConvGemm *k = cn_alloc(sizeof *k);
  k->w = w;
  k->vlen = target_vector_floats(t);
  k->batch = x->dims[0];
  k->channels = x->dims[1];
  k->maps = maps;
  k->taps = w->kernel[0] * w->kernel[1];
  k->pixels = w->out[0] * w->out[1];
  k->in_plane = w->in[0] * w->in[1];
  k->rows = k->channels * k->taps;
  k->ld_cols = round_up(k->pixels, k->vlen);
  k->ld_maps = round_up(maps, k->vlen);
  int64_t floats = k->rows * k->ld_cols;
  if (weight_grad)
    floats += k->pixels * k->ld_maps + k->rows * k->ld_maps;
  if (floats * 4 > CONV_GEMM_MAX_SCRATCH_BYTES || k->pixels == 0 || k->rows == 0)
    return NULL;
  if (weight_grad)
    choose_tile(k, t, k->rows, maps);
  else
    choose_tile(k, t, maps, k->pixels);
  return k;
}

/* A Conv of dY with flipped weights (stride 1) as the forward Conv's input gradient: the forward window has
 * the same kernel and dilation, input and output swapped, and the pads that made the flipped ones. */
static ConvGemm *plan_input_grad(const Node *n, Target t) {
  const Window *flipped = conv_window(n);
  const Value *dy = n->in[0], *dx = n->out[0];
  if (dy->dtype != DT_FLOAT || dy->rank != 4 || conv_group(n) != 1 || node_in(n, 2) || n->fusion)
    return NULL;
  ConvGemm *k = cn_alloc(sizeof *k);
  k->col2im = true;
  Window *w = &k->forward;
  *w = *flipped;
  for (int i = 0; i < 2; i++) {
    int64_t span = (w->kernel[i] - 1) * w->dilation[i];
    w->in[i] = flipped->out[i];
    w->out[i] = flipped->in[i];
    w->pad_begin[i] = span - flipped->pad_begin[i];
    w->pad_end[i] = span - flipped->pad_end[i];
  }
  k->w = w;
  k->vlen = target_vector_floats(t);
  k->batch = dy->dims[0];
  k->channels = dx->dims[1];
  k->maps = dy->dims[1];
  k->taps = w->kernel[0] * w->kernel[1];
  k->pixels = w->out[0] * w->out[1];
  k->in_plane = w->in[0] * w->in[1];
  k->rows = k->channels * k->taps;
  k->ld_cols = round_up(k->pixels, k->vlen);
  int64_t floats = k->rows * k->maps + k->maps * k->ld_cols + k->rows * k->ld_cols;
  if (floats * 4 > CONV_GEMM_MAX_SCRATCH_BYTES || k->pixels == 0 || k->rows == 0)
    return NULL;
  choose_tile(k, t, k->rows, k->pixels);
  return k;
}

bool conv_gemm_simd(Node *n, Target t) {
  const Fusion *f = n->fusion;
  if (f && (f->window || f->residual >= 0 || f->bias >= 0))
    return false;
  const Node *flip = n->in[1]->producer;
  if (flip && flip->op->kind == OP_CONV_FLIP_WEIGHTS) {
    ConvGemm *k = plan_input_grad(n, t);
    if (!k)
      return false;
    n->kernel_params = k;
    n->kernel = cn_format("input gradient as GEMM and col2im, tile %d rows x %d vectors", k->mr, k->nv);
    return true;
  }
  ConvGemm *k = plan(n, t, conv_window(n), conv_group(n), n->in[1]->dims[0], false);
  if (!k)
    return false;
  n->kernel_params = k;
  n->kernel = cn_format("im2col + GEMM (run-time weights), tile %d rows x %d vectors", k->mr, k->nv);
  return true; /* row-major in and out: the layouts stay as they are */
}

/* The tile and buffers of templates/conv_wgrad.c for `batch` images of `channels`, `maps` maps and stride-1
 * window w: as many maps per tile as the registers hold next to the kernel columns' X vectors, spread evenly
 * over the tiles; NULL when not one map fits or the sums and the X copy exceed the scratch bound. */
static ConvGemm *direct_geometry(Target t, int64_t batch, int64_t channels, int64_t maps, const Window *w) {
  int vlen = target_vector_floats(t);
  int registers = (t == TARGET_AVX512 ? 32 : 16) - 1; /* one for the dY vector being multiplied */
  int64_t taps = w->kernel[1], most = registers / taps - 1; /* maps per tile: (most + 1) * taps registers */
  if (most < 1 || maps < 1)
    return NULL;
  ConvGemm *k = cn_alloc(sizeof *k);
  k->w = w;
  k->vlen = vlen;
  k->direct = true;
  k->batch = batch;
  k->channels = channels;
  k->maps = maps;
  k->taps = w->kernel[0] * w->kernel[1];
  int64_t tiles = (maps + most - 1) / most;
  k->mr = (int)((maps + tiles - 1) / tiles);
  k->nv = (int)taps;
  k->ld_cols = (w->out[1] + vlen - 1) / vlen * vlen + (taps - 1) * w->dilation[1];
  if (k->ld_cols < w->pad_begin[1] + w->in[1])
    k->ld_cols = w->pad_begin[1] + w->in[1];
  int64_t floats = channels * w->in[0] * k->ld_cols + channels * k->taps * maps * vlen;
  return floats * 4 > CONV_GEMM_MAX_SCRATCH_BYTES ? NULL : k;
}

/* templates/conv_wgrad.c for a stride-1 weight gradient whose output rows fill more of their vectors than the
 * maps fill dW^T's rows (LeNet-5's first layer: 28 columns in 2 vectors of 16, against 6 maps in one). */
static ConvGemm *plan_direct_weight_grad(const Node *n, Target t) {
  const Window *w = conv_window(n);
  const Value *x = n->in[0];
  int64_t maps = n->in[1]->dims[1];
  if (x->dtype != DT_FLOAT || x->rank != 4 || conv_group(n) != 1 || w->stride[0] != 1 || w->stride[1] != 1)
    return NULL;
  int vlen = target_vector_floats(t);
  int64_t row_vectors = (w->out[1] + vlen - 1) / vlen, map_vectors = (maps + vlen - 1) / vlen;
  if (w->out[1] * map_vectors <= maps * row_vectors) /* out[1] / (row_vectors * vlen) <= maps / (...) */
    return NULL;
  return direct_geometry(t, x->dims[0], x->dims[1], maps, w);
}

bool conv_gemm_weight_grad_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  (void)g;
  (void)in_layout;
  (void)out_layout;
  ConvGemm *k = plan_direct_weight_grad(n, t);
  if (k) {
    n->kernel_params = k;
    n->kernel = cn_format("direct along output rows, tile %d maps x %d kernel columns", k->mr, k->nv);
    return true;
  }
  k = plan(n, t, conv_window(n), conv_group(n), n->in[1]->dims[1], true);
  if (!k)
    return false;
  n->kernel_params = k;
  n->kernel = cn_format("im2col + GEMM over the batch, tile %d rows x %d vectors", k->mr, k->nv);
  return true;
}

/* The GEMM instance: c [m][ldc] = a [m][lda] * b [depth][ldb], as gemm_rows.c documents. */
static void emit_gemm(Emitter *e, const ConvGemm *k, const char *fn, const Fusion *f, int64_t m, int64_t n,
                      int64_t depth, int64_t lda, int64_t ldb, int64_t ldc) {
  int64_t vectors = (n + k->vlen - 1) / k->vlen;
  int mr_tail = (int)(m % k->mr), nv_tail = (int)(vectors % k->nv);
  Instance *t = tpl_begin(e, "gemm_rows.c", fn);
  tpl_int(t, "M", m);
  tpl_int(t, "N", n);
  tpl_int(t, "K", depth);
  tpl_int(t, "LDA", lda);
  tpl_int(t, "LDB", ldb);
  tpl_int(t, "LDC", ldc);
  tpl_int(t, "MR", k->mr);
  tpl_int(t, "NV", k->nv);
  tpl_int(t, "M_TILES", m / k->mr);
  tpl_int(t, "MR_TAIL", mr_tail);
  tpl_int(t, "N_VECTORS", vectors);
  tpl_int(t, "N_TILES", vectors / k->nv);
  tpl_int(t, "NV_TAIL", nv_tail);
  tpl_int(t, "N_LAST", n - (vectors - 1) * k->vlen);
  tpl_list(t, "ROWS", k->mr);
  tpl_list(t, "TAIL_ROWS", mr_tail);
  tpl_list(t, "COLS", k->nv);
  tpl_list(t, "TAIL_COLS", nv_tail);
  tpl_tile(t, "TILE_RC", k->mr, k->nv);
  tpl_tile(t, "TILE_RT", k->mr, nv_tail);
  tpl_tile(t, "TILE_TC", mr_tail, k->nv);
  tpl_tile(t, "TILE_TT", mr_tail, nv_tail);
  tpl_epilogue(t, f);
  tpl_end(t);
}

/* Unfolds image `x` into cols [rows][ld_cols]; the padding columns past the pixels are never written. */
static void emit_im2col(Emitter *e, const ConvGemm *k, const char *x) {
  const Window *w = k->w;
  int64_t out_h = w->out[0], out_w = w->out[1], in_h = w->in[0], in_w = w->in[1];
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)k->channels);
  emitf(e, "const float *plane = %s + c * %lld;", x, (long long)k->in_plane);
  emitf(e, "for (int64_t kh = 0; kh < %lld; kh++) {", (long long)w->kernel[0]);
  emitf(e, "for (int64_t kw = 0; kw < %lld; kw++) {", (long long)w->kernel[1]);
  emitf(e, "float *dst = cols + ((c * %lld + kh) * %lld + kw) * %lld;", (long long)w->kernel[0],
        (long long)w->kernel[1], (long long)k->ld_cols);
  emitf(e, "for (int64_t oh = 0; oh < %lld; oh++, dst += %lld) {", (long long)out_h, (long long)out_w);
  emitf(e, "const int64_t ih = %s;",
        expr_plus(cn_format("%s + %s", expr_times("oh", w->stride[0]), expr_times("kh", w->dilation[0])),
                  -w->pad_begin[0]));
  emitf(e, "if (ih < 0 || ih >= %lld) {", (long long)in_h);
  emitf(e, "memset(dst, 0, %lld * sizeof *dst); /* the padding */", (long long)out_w);
  emitf(e, "continue;");
  emitf(e, "}");
  emitf(e, "const float *src = plane + ih * %lld;", (long long)in_w);
  emitf(e, "for (int64_t ow = 0; ow < col_begin[kw]; ow++)");
  emitf(e, "  dst[ow] = 0;");
  char *from = expr_plus(cn_format("%s + %s", expr_times("ow", w->stride[1]), expr_times("kw", w->dilation[1])),
                         -w->pad_begin[1]);
  if (w->stride[1] == 1) { /* a contiguous run, copied a vector at a time (runs are short for a memcpy call) */
    emitf(e, "const float *from = src + %s;", expr_plus(expr_times("kw", w->dilation[1]), -w->pad_begin[1]));
    emitf(e, "for (int64_t ow = col_begin[kw]; ow < col_end[kw]; ow += VLEN) {");
    emitf(e, "const int lanes = col_end[kw] - ow < VLEN ? (int)(col_end[kw] - ow) : VLEN;");
    emitf(e, "vstore_partial(dst + ow, vload_partial(from + ow, lanes), lanes);");
    emitf(e, "}");
  } else {
    emitf(e, "for (int64_t ow = col_begin[kw]; ow < col_end[kw]; ow++)");
    emitf(e, "  dst[ow] = src[%s];", from);
  }
  emitf(e, "for (int64_t ow = col_end[kw]; ow < %lld; ow++)", (long long)out_w);
  emitf(e, "  dst[ow] = 0;");
  emitf(e, "}");
  emitf(e, "}");
  emitf(e, "}");
  emitf(e, "}");
}

/* Writes image `x` from dcols [rows][ld_cols]: each element is the sum of the dcols elements im2col would have
 * taken from it (stride 1), gathered a vector of input columns at a time: for every kernel tap whose output row
 * is inside, the output row's run shifted by the tap's column, its lanes outside the run masked to 0. Every
 * element of x is written once, from registers (adding each tap's run into x in turn made each vector wait for
 * the store of the overlapping one before it). dcols has VLEN floats before it: a shifted run may start there,
 * in lanes the mask drops. */
static void emit_col2im(Emitter *e, const ConvGemm *k, const char *x) {
  const Window *w = k->w;
  int64_t out_h = w->out[0], out_w = w->out[1], in_h = w->in[0], in_w = w->in[1];
  int64_t vectors = (in_w + k->vlen - 1) / k->vlen, last = in_w - (vectors - 1) * k->vlen;
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)k->channels);
  emitf(e, "for (int64_t ih = 0; ih < %lld; ih++) {", (long long)in_h);
  emitf(e, "float *dst = %s + (c * %lld + ih) * %lld;", x, (long long)in_h, (long long)in_w);
  emitf(e, "for (int64_t j = 0; j < %lld; j++) {", (long long)vectors);
  emitf(e, "vfloat acc = vzero();");
  emitf(e, "for (int64_t kh = 0; kh < %lld; kh++) {", (long long)w->kernel[0]);
  emitf(e, "const int64_t oh = %s;", expr_plus(cn_format("ih - %s", expr_times("kh", w->dilation[0])), w->pad_begin[0]));
  emitf(e, "if (oh < 0 || oh >= %lld)", (long long)out_h);
  emitf(e, "  continue; /* the padding */");
  emitf(e, "for (int64_t kw = 0; kw < %lld; kw++) {", (long long)w->kernel[1]);
  emitf(e, "/* lane l reads output column j * VLEN + l + shift, inside the row for lanes lo .. hi - 1 */");
  emitf(e, "const int64_t shift = %s;", expr_plus(cn_format("-%s", expr_times("kw", w->dilation[1])), w->pad_begin[1]));
  emitf(e, "const int64_t lo = -shift - j * VLEN > 0 ? -shift - j * VLEN : 0;");
  emitf(e, "const int64_t hi = %lld - shift - j * VLEN < VLEN ? %lld - shift - j * VLEN : VLEN;", (long long)out_w,
        (long long)out_w);
  emitf(e, "if (lo < hi)");
  emitf(e, "  acc = vadd(acc, vload_lanes(dcols + ((c * %lld + kh) * %lld + kw) * %lld + oh * %lld + j * VLEN + shift, "
           "(int)lo, (int)hi));",
        (long long)w->kernel[0], (long long)w->kernel[1], (long long)k->ld_cols, (long long)out_w);
  emitf(e, "}");
  emitf(e, "}");
  if (last < k->vlen) {
    emitf(e, "if (j == %lld)", (long long)(vectors - 1));
    emitf(e, "  vstore_partial(dst + j * VLEN, acc, %lld);", (long long)last);
    emitf(e, "else");
    emitf(e, "  vstore(dst + j * VLEN, acc);");
  } else {
    emitf(e, "vstore(dst + j * VLEN, acc);");
  }
  emitf(e, "}");
  emitf(e, "}");
  emitf(e, "}");
}

/* dX = col2im(W^T * dY), W^T gathered from the flipped weights X1 [C][M][kernel reversed]. */
static void emit_input_grad(Emitter *e, const Node *n, const ConvGemm *k) {
  const Window *w = k->w;
  char *fn = cn_format("%s_gemm", emit_function_name(n));
  emit_gemm(e, k, fn, NULL, k->rows, k->pixels, k->maps, k->maps, k->ld_cols, k->ld_cols);
  emitf(e, "/* the forward Conv's window: %s */", window_describe(w));
  emitf(e, "static float w_t[%lld]; /* W transposed: [C x kernel][M] */", (long long)(k->rows * k->maps));
  emitf(e, "static float dy_rows[%lld]; /* one image of dY, rows padded to %lld */",
        (long long)(k->maps * k->ld_cols), (long long)k->ld_cols);
  emitf(e, "static float dcols_[VLEN + %lld]; /* W^T * dY: [C x kernel][pixels, padded], after VLEN floats */",
        (long long)(k->rows * k->ld_cols));
  emitf(e, "float *const dcols = dcols_ + VLEN;");
  int64_t kh = w->kernel[0], kw = w->kernel[1];
  emitf(e, "for (int64_t c = 0; c < %lld; c++)", (long long)k->channels);
  emitf(e, "  for (int64_t m = 0; m < %lld; m++)", (long long)k->maps);
  emitf(e, "    for (int64_t t = 0; t < %lld; t++) /* the flipped weights run the taps backwards */",
        (long long)(kh * kw));
  emitf(e, "      w_t[(c * %lld + t) * %lld + m] = X1[(c * %lld + m) * %lld + %lld - t];", (long long)(kh * kw),
        (long long)k->maps, (long long)k->maps, (long long)(kh * kw), (long long)(kh * kw - 1));
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)k->batch);
  emitf(e, "for (int64_t m = 0; m < %lld; m++)", (long long)k->maps);
  emitf(e, "  memcpy(dy_rows + m * %lld, X0 + (n * %lld + m) * %lld, %lld * sizeof(float));", (long long)k->ld_cols,
        (long long)k->maps, (long long)k->pixels, (long long)k->pixels);
  emitf(e, "%s(w_t, dy_rows, NULL, dcols, 0);", fn);
  emit_col2im(e, k, cn_format("(Y0 + n * %lld)", (long long)(k->channels * k->in_plane)));
  emitf(e, "}");
}

void conv_gemm_emit(Emitter *e, const Node *n) {
  const ConvGemm *k = n->kernel_params;
  if (k->col2im) {
    emit_input_grad(e, n, k);
    return;
  }
  char *fn = cn_format("%s_gemm", emit_function_name(n));
  emit_gemm(e, k, fn, n->fusion, k->maps, k->pixels, k->rows, k->rows, k->ld_cols, k->pixels);
  emitf(e, "/* %s */", window_describe(k->w));
  emitf(e, "/* output columns whose input column is inside the input, per kernel column */");
  window_emit_tap_ranges(e, k->w, k->w->out[1], k->w->in[1], "col");
  emitf(e, "static float cols[%lld]; /* one image unfolded: [C x kernel][pixels, padded to %lld] */",
        (long long)(k->rows * k->ld_cols), (long long)k->ld_cols);
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)k->batch);
  emit_im2col(e, k, cn_format("(%s + n * %lld)", emit_in(n, 0), (long long)(k->channels * k->in_plane)));
  const char *bias = node_in(n, 2) ? emit_in(n, 2) : "NULL";
  emitf(e, "%s(%s, cols, %s, %s + n * %lld, %d);", fn, emit_in(n, 1), bias, emit_out(n, 0),
        (long long)(k->maps * k->pixels), node_in(n, 2) ? 1 : 0);
  emitf(e, "}");
}

static void write_direct_weight_grad(Emitter *e, const ConvGemm *k, const char *fn) {
  const Window *w = k->w;
  int64_t full = w->out[1] / k->vlen, tail = w->out[1] % k->vlen;
  int tail_maps = (int)(k->maps % k->mr);
  Instance *t = tpl_begin(e, "conv_wgrad.c", fn);
  tpl_int(t, "BATCH", k->batch);
  tpl_int(t, "C", k->channels);
  tpl_int(t, "M", k->maps);
  static const char *const sizes[][2] = {{"IH", "IW"}, {"OH", "OW"}, {"KH", "KW"}, {"DH", "DW"}, {"PT", "PL"}};
  const int64_t *values[] = {w->in, w->out, w->kernel, w->dilation, w->pad_begin};
  for (int s = 0; s < 5; s++)
    for (int a = 0; a < 2; a++)
      tpl_int(t, sizes[s][a], values[s][a]);
  tpl_int(t, "XW", k->ld_cols);
  tpl_int(t, "OW_FULL", full);
  tpl_int(t, "OW_LAST", tail);
  tpl_int(t, "MB", k->mr);
  tpl_int(t, "M_BLOCKS", k->maps / k->mr);
  tpl_int(t, "MB_TAIL", tail_maps);
  tpl_list(t, "MAPS", k->mr);
  tpl_list(t, "TAIL_MAPS", tail_maps);
  tpl_list(t, "TAPS", k->nv);
  tpl_tile(t, "TILE", k->mr, k->nv);
  tpl_tile(t, "TAIL_TILE", tail_maps, k->nv);
  tpl_end(t);
}

bool conv_wgrad_instance(Emitter *e, Target t, const char *fn, int64_t batch, int64_t channels, int64_t maps,
                         const Window *w) {
  ConvGemm *k = direct_geometry(t, batch, channels, maps, w);
  if (k)
    write_direct_weight_grad(e, k, fn);
  return k != NULL;
}

void conv_gemm_emit_weight_grad(Emitter *e, const Node *n) {
  const ConvGemm *k = n->kernel_params;
  if (k->direct) {
    char *fn = cn_format("%s_kernel", emit_function_name(n));
    write_direct_weight_grad(e, k, fn);
    emitf(e, "/* %s */", window_describe(k->w));
    emitf(e, "%s(X0, X1, Y0);", fn);
    return;
  }
  char *fn = cn_format("%s_gemm", emit_function_name(n));
  emit_gemm(e, k, fn, NULL, k->rows, k->maps, k->pixels, k->ld_cols, k->ld_maps, k->ld_maps);
  emitf(e, "/* %s */", window_describe(k->w));
  emitf(e, "/* output columns whose input column is inside the input, per kernel column */");
  window_emit_tap_ranges(e, k->w, k->w->out[1], k->w->in[1], "col");
  emitf(e, "static float cols[%lld]; /* one image unfolded: [C x kernel][pixels, padded to %lld] */",
        (long long)(k->rows * k->ld_cols), (long long)k->ld_cols);
  emitf(e, "static float dy_t[%lld]; /* its dY transposed: [pixels][maps, padded to %lld] */",
        (long long)(k->pixels * k->ld_maps), (long long)k->ld_maps);
  emitf(e, "static float dw_t[%lld]; /* dW transposed, summed over the batch: [C x kernel][maps, padded] */",
        (long long)(k->rows * k->ld_maps));
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)k->batch);
  emit_im2col(e, k, cn_format("(X0 + n * %lld)", (long long)(k->channels * k->in_plane)));
  emitf(e, "const float *dy = X1 + n * %lld;", (long long)(k->maps * k->pixels));
  emitf(e, "for (int64_t m = 0; m < %lld; m++)", (long long)k->maps);
  emitf(e, "  for (int64_t p = 0; p < %lld; p++)", (long long)k->pixels);
  emitf(e, "    dy_t[p * %lld + m] = dy[m * %lld + p];", (long long)k->ld_maps, (long long)k->pixels);
  emitf(e, "%s(cols, dy_t, NULL, dw_t, n == 0 ? 0 : 2);", fn);
  emitf(e, "}");
  emitf(e, "for (int64_t m = 0; m < %lld; m++)", (long long)k->maps);
  emitf(e, "  for (int64_t r = 0; r < %lld; r++)", (long long)k->rows);
  emitf(e, "    Y0[m * %lld + r] = dw_t[r * %lld + m];", (long long)k->rows, (long long)k->ld_maps);
}
