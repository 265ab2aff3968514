/* LRN: local response normalization across channels.
 *
 *   Y[n, c, ...] = X[n, c, ...] / (bias + alpha / size * square_sum[n, c, ...]) ^ beta,
 *   square_sum   = sum of X[n, j, ...]^2 over channels max(0, c - floor((size - 1) / 2))
 *                  <= j <= min(C - 1, c + ceil((size - 1) / 2)). */
#include "../cnnc.h"

#include <math.h>

typedef struct LrnParams {
  double alpha, beta, bias;
  int64_t size;
} LrnParams;

static void lrn_infer(Graph *g, Node *n) {
  (void)g;
  check_input_type(n, 0, dtype_float_only, "float or double");
  if (n->in[0]->rank < 2)
    cn_error_node(n, "X has shape %s; expected (N, C, ...)", value_shape_string(n->in[0]));
  LrnParams *p = cn_alloc(sizeof *p);
  if (!node_attr(n, "size"))
    cn_error_node(n, "attribute size is required");
  p->size = attr_int(n, "size", 1);
  if (p->size < 1 || p->size > ((int64_t)1 << 31))
    cn_error_node(n, "size = %lld; expected a positive channel count", (long long)p->size);
  p->alpha = attr_float(n, "alpha", 1e-4f);
  p->beta = attr_float(n, "beta", 0.75f);
  p->bias = attr_float(n, "bias", 1.0f);
  if (!isfinite(p->alpha) || !isfinite(p->beta) || !isfinite(p->bias))
    cn_error_node(n, "alpha, beta and bias must be finite");
  n->params = p;
  infer_same_as_input(n, 0);
}

static void lrn_emit(Emitter *e, const Node *n) {
  const LrnParams *p = n->params;
  const Value *x = n->in[0];
  DType t = x->dtype;
  const char *T = dtype_ctype(t);
  int64_t batch = x->dims[0], channels = x->dims[1], size = plane_size(x);
  int64_t before = (p->size - 1) / 2, after = p->size / 2; /* floor and ceil of (size - 1) / 2 */
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
  emitf(e, "const %s *x = X0 + n * %lld;", T, (long long)(channels * size));
  emitf(e, "%s *y = Y0 + n * %lld;", T, (long long)(channels * size));
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)channels);
  emitf(e, "/* the channels summed over: [c - %lld, c + %lld] clipped to the tensor */", (long long)before,
        (long long)after);
  emitf(e, "const int64_t first = c < %lld ? 0 : c - %lld;", (long long)before, (long long)before);
  emitf(e, "const int64_t end = c + %lld < %lld ? c + %lld : %lld;", (long long)(after + 1), (long long)channels,
        (long long)(after + 1), (long long)channels);
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", (long long)size);
  emitf(e, "%s square_sum = 0;", T);
  emitf(e, "for (int64_t j = first; j < end; j++)");
  emitf(e, "  square_sum += x[j * %lld + i] * x[j * %lld + i];", (long long)size, (long long)size);
  emitf(e, "y[c * %lld + i] = x[c * %lld + i] / %s(%s + %s * square_sum, %s);", (long long)size, (long long)size,
        emit_math_fn("pow", t), emit_float(p->bias, t), emit_float(p->alpha / (double)p->size, t),
        emit_float(p->beta, t));
  emitf(e, "}");
  emitf(e, "}");
  emitf(e, "}");
}

const OpDesc op_lrn = {
    .kind = OP_LRN, .name = "LRN", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = lrn_infer, .emit = lrn_emit,
};
