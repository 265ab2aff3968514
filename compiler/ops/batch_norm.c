/* BatchNormalization, inference form:
 *
 *   Y[n, c, ...] = (X[n, c, ...] - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c]
 *                = X[n, c, ...] * multiplier[c] + offset[c],
 *   multiplier = scale / sqrt(var + epsilon),  offset = B - mean * multiplier.
 *
 * With constant scale, B, mean and var (the usual case: they are weights) the multiplier and offset are
 * computed at compile time in double and the kernel is one multiply-add per element.
 *
 * Training form (opset 14+, training_mode = 1): mean and var are the batch's own statistics per channel
 * (population variance), and the optional outputs 1 and 2 are the updated running averages
 *   running_mean = mean_in * momentum + batch_mean * (1 - momentum), likewise for var.
 * The statistics outputs of opsets before 14 (saved mean and variance) are rejected. */
#include "../cnnc.h"

#include <math.h>

typedef struct BatchNormParams {
  bool training;
  double epsilon, momentum;
  double *multiplier, *offset; /* per channel; NULL when an input is computed at run time */
} BatchNormParams;

/* Returns whether the node is the opset-14 training form; rejects the older training forms. */
static bool training_form(const Graph *g, const Node *n) {
  bool extra_outputs = false;
  for (int i = 1; i < n->n_out; i++)
    extra_outputs |= n->out[i] != NULL;
  int64_t training_mode = g->opset >= 14 ? attr_int(n, "training_mode", 0) : 0;
  if (training_mode != 0 && training_mode != 1)
    cn_error_node(n, "training_mode = %lld; expected 0 or 1", (long long)training_mode);
  if (training_mode == 1)
    return true;
  /* Before opset 7 the outputs alone tell training (Y and the statistics) from inference (Y); is_test says it
   * again, so only an explicit is_test = 0 is taken as a request for training. */
  if (g->opset < 7 && node_attr(n, "is_test") && attr_int(n, "is_test", 0) == 0)
    cn_error_node(n, "is_test = 0 (training) is not supported; cnnc compiles BatchNormalization for inference");
  if (extra_outputs)
    cn_error_node(n, "the running mean/variance and saved statistics outputs exist only in training, which cnnc "
                     "does not support: remove them");
  if (g->opset < 9 && attr_int(n, "spatial", 1) != 1)
    cn_error_node(n, "spatial = 0 (statistics per element instead of per channel) is not supported");
  return false;
}

/* Folds the constant statistics into one multiplier and offset per channel; both must be finite in X's type. */
static void precompute(const Node *n, BatchNormParams *p, int64_t channels) {
  bool as_float = n->in[0]->dtype == DT_FLOAT;
  Value *scale = n->in[1], *bias = n->in[2], *mean = n->in[3], *var = n->in[4];
  p->multiplier = cn_alloc_array((size_t)channels, sizeof(double));
  p->offset = cn_alloc_array((size_t)channels, sizeof(double));
  for (int64_t c = 0; c < channels; c++) {
    double denominator = value_get_double(var, c) + p->epsilon;
    if (!(denominator > 0))
      cn_error_node(n, "channel %lld: var + epsilon = %g; expected a positive value", (long long)c, denominator);
    p->multiplier[c] = value_get_double(scale, c) / sqrt(denominator);
    p->offset[c] = value_get_double(bias, c) - value_get_double(mean, c) * p->multiplier[c];
    bool finite = isfinite(p->multiplier[c]) && isfinite(p->offset[c]);
    if (as_float)
      finite = finite && isfinite((float)p->multiplier[c]) && isfinite((float)p->offset[c]);
    if (!finite)
      cn_error_node(n, "channel %lld: the normalization multiplier (%g) or offset (%g) is not finite", (long long)c,
                    p->multiplier[c], p->offset[c]);
  }
}

static void batch_norm_infer(Graph *g, Node *n) {
  BatchNormParams *p = cn_alloc(sizeof *p);
  p->training = training_form(g, n);
  const Value *x = n->in[0];
  for (int i = 0; i < 5; i++)
    check_input_type(n, i, dtype_float_only, "float or double");
  if (x->rank < 2)
    cn_error_node(n, "X has shape %s; expected (N, C, ...)", value_shape_string(x));
  int64_t channels = x->dims[1];
  static const char *const names[] = {"X", "scale", "B", "mean", "var"};
  for (int i = 1; i < 5; i++)
    if (n->in[i]->rank != 1 || n->in[i]->dims[0] != channels)
      cn_error_node(n, "%s has shape %s; expected (%lld), one value per channel", names[i],
                    value_shape_string(n->in[i]), (long long)channels);
  p->epsilon = attr_float(n, "epsilon", 1e-5f);
  if (!(p->epsilon >= 0) || !isfinite(p->epsilon))
    cn_error_node(n, "epsilon = %g; expected a non-negative number", p->epsilon);
  p->momentum = attr_float(n, "momentum", 0.9f);
  if (!(p->momentum >= 0 && p->momentum <= 1))
    cn_error_node(n, "momentum = %g; expected a number from 0 to 1", p->momentum);
  if (!p->training && n->in[1]->data && n->in[2]->data && n->in[3]->data && n->in[4]->data)
    precompute(n, p, channels);
  n->params = p;
  infer_same_as_input(n, 0);
  for (int i = 1; i < n->n_out; i++)
    if (n->out[i])
      value_set_shape(n->out[i], n, x->dtype, 1, &channels);
}

bool batch_norm_affine(const Node *n, const double **multiplier, const double **offset) {
  const BatchNormParams *p = n->params;
  if (n->op->kind != OP_BATCH_NORMALIZATION || !p || p->training || !p->multiplier)
    return false;
  *multiplier = p->multiplier;
  *offset = p->offset;
  return true;
}

/* A static table of per-channel constants, eight to a line. */
static void emit_table(Emitter *e, const char *T, DType t, const char *name, const double *values, int64_t count) {
  emitf(e, "static const %s %s[%lld] = {", T, name, (long long)count);
  for (int64_t i = 0; i < count; i += 8) {
    char *line = cn_strdup("");
    for (int64_t k = i; k < count && k < i + 8; k++)
      line = cn_format("%s%s%s,", line, k > i ? " " : "", emit_float(values[k], t));
    emitf(e, "%s", line);
  }
  emitf(e, "};");
}

/* Batch statistics per channel, accumulated in double over every (n, spatial) element. */
static void emit_training(Emitter *e, const Node *n, int64_t batch, int64_t channels, int64_t size) {
  const BatchNormParams *p = n->params;
  DType t = n->in[0]->dtype;
  const char *T = dtype_ctype(t);
  double count = (double)(batch * size);
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)channels);
  emitf(e, "double sum = 0, squares = 0;");
  emitf(e, "for (int64_t n = 0; n < %lld; n++)", (long long)batch);
  emitf(e, "  for (int64_t i = 0; i < %lld; i++)", (long long)size);
  emitf(e, "    sum += X0[(n * %lld + c) * %lld + i];", (long long)channels, (long long)size);
  emitf(e, "const double mean = sum / %s;", emit_float(count, DT_DOUBLE));
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", (long long)size);
  emitf(e, "const double d = X0[(n * %lld + c) * %lld + i] - mean;", (long long)channels, (long long)size);
  emitf(e, "squares += d * d;");
  emitf(e, "}");
  emitf(e, "}");
  emitf(e, "const double var = squares / %s; /* population variance, as the spec's reference */",
        emit_float(count, DT_DOUBLE));
  emitf(e, "const %s multiplier = (%s)(X1[c] / sqrt(var + %s));", T, T, emit_float(p->epsilon, DT_DOUBLE));
  emitf(e, "const %s offset = (%s)(X2[c] - mean * multiplier);", T, T);
  emitf(e, "for (int64_t n = 0; n < %lld; n++)", (long long)batch);
  emitf(e, "  for (int64_t i = 0; i < %lld; i++)", (long long)size);
  emitf(e, "    Y0[(n * %lld + c) * %lld + i] = X0[(n * %lld + c) * %lld + i] * multiplier + offset;",
        (long long)channels, (long long)size, (long long)channels, (long long)size);
  if (n->n_out > 1 && n->out[1])
    emitf(e, "Y1[c] = (%s)(X3[c] * %s + mean * %s);", T, emit_float(p->momentum, DT_DOUBLE),
          emit_float(1 - p->momentum, DT_DOUBLE));
  if (n->n_out > 2 && n->out[2])
    emitf(e, "Y2[c] = (%s)(X4[c] * %s + var * %s);", T, emit_float(p->momentum, DT_DOUBLE),
          emit_float(1 - p->momentum, DT_DOUBLE));
  emitf(e, "}");
}

static void batch_norm_emit(Emitter *e, const Node *n) {
  const BatchNormParams *p = n->params;
  const Value *x = n->in[0];
  DType t = x->dtype;
  const char *T = dtype_ctype(t);
  int64_t batch = x->dims[0], channels = x->dims[1], size = plane_size(x);
  if (p->training) {
    emit_training(e, n, batch, channels, size);
    return;
  }
  if (p->multiplier) {
    emitf(e, "/* scale / sqrt(var + epsilon) and B - mean * that, per channel, from the constant inputs */");
    emit_table(e, T, t, "multiplier", p->multiplier, channels);
    emit_table(e, T, t, "offset", p->offset, channels);
  }
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)channels);
  if (!p->multiplier) {
    emitf(e, "const %s multiplier = X1[c] / %s(X4[c] + %s);", T, emit_math_fn("sqrt", t),
          emit_float(p->epsilon, t));
    emitf(e, "const %s offset = X2[c] - X3[c] * multiplier;", T);
  }
  const char *at = p->multiplier ? "[c]" : "";
  emitf(e, "const %s *x = X0 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
  emitf(e, "%s *y = Y0 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)size);
  emitf(e, "  y[i] = x[i] * multiplier%s + offset%s;", at, at);
  emitf(e, "}");
  emitf(e, "}");
}

const OpDesc op_batch_normalization = {
    .kind = OP_BATCH_NORMALIZATION, .name = "BatchNormalization", .min_in = 5, .max_in = 5, .min_out = 1,
    .max_out = 5, .infer = batch_norm_infer, .emit = batch_norm_emit,
};
