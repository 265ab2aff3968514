/* The element-wise ops on SIMD targets: activations (unary.c, clip.c) run templates/eltwise_unary.c, Add, Sub,
 * Mul and Div (binary.c) templates/eltwise_binary.c, on the layout their input arrives in, so a blocked tensor
 * between two convolutions never goes back to row-major for a ReLU or a residual Add.
 *
 * A binary op takes the broadcasts CNNs use: operands of the output's shape, one value per channel (shape
 * (C, 1, 1), (1, C, 1, 1) or (N, C, 1, 1)) or a scalar. A blocked per-channel constant is packed to whole
 * channel blocks at compile time; a per-channel operand computed at run time is read blocked too. Other
 * broadcasts keep the portable loop nest. */
#include "../cnnc.h"

#include <string.h>

typedef enum OperandKind { OPERAND_FULL = 0, OPERAND_CHANNEL = 1, OPERAND_SCALAR = 2 } OperandKind;

typedef struct EltwiseKernel {
  bool blocked;
  int vlen;
  int64_t batch, channels, spatial; /* the output as (N, C, spatial); row-major unary: channels = spatial = 1 */
  Activation act;                    /* unary: the function; binary: after the op */
  OperandKind kind[2];
  int64_t batch_stride[2]; /* per-channel operands: floats between images, 0 when shared */
} EltwiseKernel;

/* The templates index with int: tensors (blocked: padded to whole blocks) below 2^31 elements. */
static bool fits_int(const Value *v, int vlen, bool blocked) {
  if (!blocked)
    return value_count(v) < INT32_MAX;
  int64_t padded = cn_mul_size(v->dims[0], (v->dims[1] + vlen - 1) / vlen * vlen);
  padded = cn_mul_size(padded, plane_size(v));
  return padded >= 0 && padded < INT32_MAX;
}

static void set_shape(EltwiseKernel *k, const Value *y) {
  k->batch = y->rank >= 2 ? y->dims[0] : 1;
  k->channels = y->rank >= 2 ? y->dims[1] : 1;
  k->spatial = y->rank >= 2 ? plane_size(y) : value_count(y);
}

bool eltwise_unary_simd(Node *n, Target t, const Activation *act, Layout *in_layout, Layout *out_layout) {
  const Value *x = n->in[0];
  bool blocked = in_layout[0] == LAYOUT_NCHWC;
  int vlen = target_vector_floats(t);
  if (x->dtype != DT_FLOAT || !fits_int(x, vlen, blocked))
    return false;
  EltwiseKernel *k = cn_alloc(sizeof *k);
  k->blocked = blocked;
  k->vlen = vlen;
  k->act = *act;
  set_shape(k, n->out[0]);
  n->kernel = cn_format("element-wise %s", blocked ? cn_format("NCHW%dc", vlen) : "row-major");
  n->kernel_params = k;
  out_layout[0] = in_layout[0];
  return true;
}

void eltwise_unary_emit(Emitter *e, const Node *n) {
  const EltwiseKernel *k = n->kernel_params;
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  Instance *t = tpl_begin(e, "eltwise_unary.c", fn);
  tpl_int(t, "NCHWC", k->blocked);
  tpl_int(t, "COUNT", value_count(n->out[0]));
  tpl_int(t, "BATCH", k->batch);
  tpl_int(t, "CHANNELS", k->channels);
  tpl_int(t, "SPATIAL", k->spatial);
  tpl_activation(t, "ACT", &k->act);
  tpl_end(t);
  emitf(e, "%s(%s, %s);", fn, emit_in(n, 0), emit_out(n, 0));
}

/* How operand v (numpy-aligned to y) is read: all of y's elements, one per channel (and per image when
 * *per_image), or one; false for any other broadcast. */
static bool classify(const Value *v, const Value *y, OperandKind *kind, bool *per_image) {
  *per_image = false;
  if (v->rank == y->rank && memcmp(v->dims, y->dims, (size_t)y->rank * sizeof *y->dims) == 0) {
    *kind = OPERAND_FULL;
    return true;
  }
  if (value_count(v) == 1) {
    *kind = OPERAND_SCALAR;
    return true;
  }
  if (y->rank < 2 || v->rank > y->rank)
    return false;
  int64_t dims[CN_MAX_RANK];
  for (int j = 0; j < y->rank; j++)
    dims[j] = j < y->rank - v->rank ? 1 : v->dims[j - (y->rank - v->rank)];
  for (int j = 2; j < y->rank; j++)
    if (dims[j] != 1)
      return false;
  if (dims[1] != y->dims[1] || (dims[0] != 1 && dims[0] != y->dims[0]))
    return false;
  *kind = OPERAND_CHANNEL;
  *per_image = dims[0] != 1 && y->dims[0] != 1;
  return true;
}

/* A per-channel constant as the blocked kernel reads it: (images, C) padded to whole blocks. */
static Value *pack_channels(Graph *g, const Value *v, int64_t images, int64_t channels, int vlen) {
  int64_t padded = (channels + vlen - 1) / vlen * vlen;
  Value *p = conv_packed_constant(g, v, "padded to whole channel blocks", images * padded);
  float *dst = p->data;
  for (int64_t i = 0; i < images; i++)
    for (int64_t c = 0; c < channels; c++)
      dst[i * padded + c] = (float)value_get_double(v, i * channels + c);
  return p;
}

bool eltwise_binary_simd(Graph *g, Node *n, Target t, const Activation *act, Layout *in_layout,
                         Layout *out_layout) {
  const Value *y = n->out[0];
  int vlen = target_vector_floats(t);
  EltwiseKernel k = {.vlen = vlen, .act = *act};
  bool per_image[2];
  for (int i = 0; i < 2; i++) {
    if (n->in[i]->dtype != DT_FLOAT || !classify(n->in[i], y, &k.kind[i], &per_image[i]))
      return false;
    /* a full operand that arrives blocked keeps the op blocked */
    if (k.kind[i] == OPERAND_FULL && in_layout[i] == LAYOUT_NCHWC)
      k.blocked = true;
  }
  if (k.kind[0] != OPERAND_FULL && k.kind[1] != OPERAND_FULL && y->rank >= 2 && plane_size(y) != 1)
    return false; /* neither operand has the output's shape: a broadcast the templates do not do */
  if (k.blocked && y->rank < 2)
    return false;
  if (!fits_int(y, vlen, k.blocked))
    return false;
  set_shape(&k, y);
  int64_t padded = (k.channels + vlen - 1) / vlen * vlen;
  for (int i = 0; i < 2; i++) {
    Value *v = n->in[i];
    if (k.kind[i] == OPERAND_CHANNEL)
      k.batch_stride[i] = per_image[i] ? (k.blocked ? padded : k.channels) : 0;
    if (!k.blocked) {
      in_layout[i] = LAYOUT_ROW_MAJOR;
    } else if (k.kind[i] == OPERAND_FULL) {
      in_layout[i] = LAYOUT_NCHWC;
    } else if (k.kind[i] == OPERAND_CHANNEL && v->data) {
      n->in[i] = pack_channels(g, v, per_image[i] ? k.batch : 1, k.channels, vlen);
      in_layout[i] = LAYOUT_ROW_MAJOR;
    } else if (k.kind[i] == OPERAND_CHANNEL) {
      /* computed at run time: (N, C, 1, 1) blocked is one padded channel vector per image */
      if (v->rank != y->rank)
        return false;
      in_layout[i] = LAYOUT_NCHWC;
    }
    /* a scalar is element 0 in either layout */
  }
  EltwiseKernel *kept = cn_alloc(sizeof *kept);
  *kept = k;
  n->kernel = cn_format("element-wise %s", k.blocked ? cn_format("NCHW%dc", vlen) : "row-major");
  n->kernel_params = kept;
  out_layout[0] = k.blocked ? LAYOUT_NCHWC : LAYOUT_ROW_MAJOR;
  return true;
}

void eltwise_binary_emit(Emitter *e, const Node *n, const char *op) {
  const EltwiseKernel *k = n->kernel_params;
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  Instance *t = tpl_begin(e, "eltwise_binary.c", fn);
  tpl_int(t, "NCHWC", k->blocked);
  tpl_int(t, "BATCH", k->batch);
  tpl_int(t, "CHANNELS", k->channels);
  tpl_int(t, "SPATIAL", k->spatial);
  tpl_int(t, "A_KIND", k->kind[0]);
  tpl_int(t, "B_KIND", k->kind[1]);
  tpl_int(t, "A_BATCH_STRIDE", k->batch_stride[0]);
  tpl_int(t, "B_BATCH_STRIDE", k->batch_stride[1]);
  tpl_define(t, "OP(a, b)", "%s(a, b)", op);
  tpl_activation(t, "ACT", &k->act);
  tpl_end(t);
  emitf(e, "%s(%s, %s, %s);", fn, emit_in(n, 0), emit_in(n, 1), emit_out(n, 0));
}
