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
#include <string.h>

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

/* Inside a loop over the channels c: `sum` and `squares` (of the deviations from `mean`) of X0's channel c over
 * every (n, spatial) element, accumulated in double, and `mean` itself. */
static void emit_channel_statistics(Emitter *e, int64_t batch, int64_t channels, int64_t size) {
  double count = (double)(batch * size);
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
}

/* Inside a loop over the channels c: Y0 = X0 * alpha + beta over channel c, for alpha and beta in scope. */
static void emit_channel_affine(Emitter *e, const char *T, int64_t batch, int64_t channels, int64_t size) {
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
  emitf(e, "const %s *x = X0 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
  emitf(e, "%s *y = Y0 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)size);
  emitf(e, "  y[i] = x[i] * alpha + beta;");
  emitf(e, "}");
}

/* The ONNX training form: batch statistics, and the running averages as outputs 1 and 2. */
static void emit_training(Emitter *e, const Node *n, int64_t batch, int64_t channels, int64_t size) {
  const BatchNormParams *p = n->params;
  const char *T = dtype_ctype(n->in[0]->dtype);
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)channels);
  emit_channel_statistics(e, batch, channels, size);
  emitf(e, "const double var = squares / %s; /* population variance, as the spec's reference */",
        emit_float((double)(batch * size), DT_DOUBLE));
  emitf(e, "const %s alpha = (%s)(X1[c] / sqrt(var + %s));", T, T, emit_float(p->epsilon, DT_DOUBLE));
  emitf(e, "const %s beta = (%s)(X2[c] - mean * alpha);", T, T);
  emit_channel_affine(e, T, batch, channels, size);
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

/* BatchNormTrain(X, scale, B) -> Y, saved_mean, saved_invstd, running_mean, running_var: a BatchNormalization in
 * training code, as PyTorch's BatchNorm in train() and eval() mode. With the training flag set it normalizes
 * with the batch statistics per channel (sums in double; population variance), saves the mean and
 * 1 / sqrt(var + epsilon) for the backward, and updates the running statistics, which are its state outputs,
 * in place: running = running * momentum + batch * (1 - momentum), with the unbiased variance (count - 1) as
 * PyTorch does (the ONNX momentum is 1 - PyTorch's). With the flag clear (P_run) it normalizes with the running
 * statistics. Either way y = x * alpha + beta per channel, alpha = scale * invstd, beta = B - mean * alpha. */
void batch_norm_train_form(Graph *g, Node *n) {
  Value *mean = n->in[3], *var = n->in[4];
  if (!(mean->flags & VAL_STATE) || !(var->flags & VAL_STATE) || mean->n_uses != 1 || var->n_uses != 1)
    cn_error_node(n, "the running mean and variance must be initializers of this node alone to be trained");
  for (int k = 1; k < n->n_out; k++)
    if (n->out[k] && n->out[k]->n_uses > 0)
      cn_error_node(n, "output %d (a training statistic) is read by other nodes; cnnc's training keeps the "
                       "statistics to itself",
                    k);
  Value **in = cn_alloc_array(3, sizeof *in), **out = cn_alloc_array(5, sizeof *out);
  memcpy(in, n->in, 3 * sizeof *in);
  out[0] = n->out[0];
  out[1] = graph_add_value(g, cn_format("%s/saved_mean", n->name));
  out[2] = graph_add_value(g, cn_format("%s/saved_invstd", n->name));
  out[3] = mean;
  out[4] = var;
  for (int k = 1; k < 5; k++)
    out[k]->producer = n;
  n->in = in;
  n->n_in = 3;
  n->out = out;
  n->n_out = 5;
  n->op = op_get(OP_BATCH_NORM_TRAIN);
  n->op->infer(g, n);
}

static void batch_norm_train_infer(Graph *g, Node *n) {
  (void)g;
  BatchNormParams *p = cn_alloc(sizeof *p);
  const Value *x = n->in[0];
  for (int i = 0; i < 3; i++)
    check_input_type(n, i, dtype_float_only, "float or double");
  int64_t channels = x->dims[1];
  for (int i = 1; i < 3; i++)
    CN_ASSERT(n->in[i]->rank == 1 && n->in[i]->dims[0] == channels && n->in[i]->dtype == x->dtype);
  if (value_count(x) / (channels ? channels : 1) < 2)
    cn_error_node(n, "training needs more than one value per channel for the batch statistics; X is %s",
                  value_shape_string(x));
  p->training = true;
  p->epsilon = attr_float(n, "epsilon", 1e-5f);
  p->momentum = attr_float(n, "momentum", 0.9f);
  n->params = p;
  infer_same_as_input(n, 0);
  for (int i = 1; i < 5; i++)
    value_set_shape(n->out[i], n, x->dtype, 1, &channels);
}

static void batch_norm_train_emit(Emitter *e, const Node *n) {
  const BatchNormParams *p = n->params;
  const Value *x = n->in[0];
  const char *T = dtype_ctype(x->dtype);
  int64_t batch = x->dims[0], channels = x->dims[1], size = plane_size(x);
  double count = (double)(batch * size);
  char *momentum = emit_float(p->momentum, DT_DOUBLE), *rest = emit_float(1 - p->momentum, DT_DOUBLE);
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)channels);
  emitf(e, "double center, invstd;");
  emitf(e, "if (%s) {", EMIT_TRAINING);
  emit_channel_statistics(e, batch, channels, size);
  emitf(e, "center = mean;");
  emitf(e, "invstd = 1 / sqrt(squares / %s + %s);", emit_float(count, DT_DOUBLE), emit_float(p->epsilon, DT_DOUBLE));
  emitf(e, "Y1[c] = (%s)mean;", T);
  emitf(e, "Y2[c] = (%s)invstd;", T);
  emitf(e, "Y3[c] = (%s)(Y3[c] * %s + mean * %s);", T, momentum, rest);
  emitf(e, "Y4[c] = (%s)(Y4[c] * %s + squares / %s * %s); /* unbiased */", T, momentum,
        emit_float(count - 1, DT_DOUBLE), rest);
  emitf(e, "} else {");
  emitf(e, "center = Y3[c];");
  emitf(e, "invstd = 1 / sqrt((double)Y4[c] + %s);", emit_float(p->epsilon, DT_DOUBLE));
  emitf(e, "}");
  emitf(e, "const %s alpha = (%s)(X1[c] * invstd);", T, T);
  emitf(e, "const %s beta = (%s)(X2[c] - center * alpha);", T, T);
  emit_channel_affine(e, T, batch, channels, size);
  emitf(e, "}");
}

/* Gradients (PyTorch's batch_norm_backward in training), per channel with M = N * spatial values:
 *   dB = sum dy,  dscale = sum dy * xhat,  xhat = (x - mean) * invstd,
 *   dx = (dy - dB / M - xhat * dscale / M) * invstd * scale. */
static void batch_norm_train_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  if (!dy[0])
    return;
  Value *ins[5] = {dy[0], n->in[0], n->in[1], n->out[1], n->out[2]};
  Node *b = bw_node(g, n, OP_BATCH_NORM_GRAD, 5, ins, 3);
  for (int k = 0; k < 3; k++)
    if (!n->in[k]->requires_grad)
      b->out[k] = NULL;
  bw_finish(g, b);
  for (int k = 0; k < 3; k++)
    dx[k] = b->out[k];
}

const OpDesc op_batch_norm_train = {
    .kind = OP_BATCH_NORM_TRAIN, .name = "BatchNormTrain", .min_in = 3, .max_in = 3, .min_out = 5, .max_out = 5,
    .infer = batch_norm_train_infer, .emit = batch_norm_train_emit, .grad = batch_norm_train_grad, .internal = true,
};

/* BatchNormGrad(dY, X, scale, saved_mean, saved_invstd) -> dX, dscale, dB (each optional). */
static void batch_norm_grad_infer(Graph *g, Node *n) {
  (void)g;
  const Value *dy = n->in[0];
  int64_t channels = dy->dims[1];
  if (n->out[0])
    infer_same_as_input(n, 0);
  for (int k = 1; k < 3; k++)
    if (n->out[k])
      value_set_shape(n->out[k], n, dy->dtype, 1, &channels);
}

static void batch_norm_grad_emit(Emitter *e, const Node *n) {
  const Value *x = n->in[1];
  const char *T = dtype_ctype(x->dtype);
  int64_t batch = x->dims[0], channels = x->dims[1], size = plane_size(x);
  double count = (double)(batch * size);
  emitf(e, "for (int64_t c = 0; c < %lld; c++) {", (long long)channels);
  emitf(e, "const double mean = X3[c], invstd = X4[c];");
  emitf(e, "double sum = 0, dot = 0; /* of dy, and of dy * (x - mean) */");
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
  emitf(e, "const %s *dy = X0 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
  emitf(e, "const %s *x = X1 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", (long long)size);
  emitf(e, "sum += dy[i];");
  emitf(e, "dot += dy[i] * (x[i] - mean);");
  emitf(e, "}");
  emitf(e, "}");
  if (n->out[1])
    emitf(e, "Y1[c] = (%s)(dot * invstd);", T);
  if (n->out[2])
    emitf(e, "Y2[c] = (%s)sum;", T);
  if (n->out[0]) {
    emitf(e, "const double k = dot * invstd * invstd / %s, mean_dy = sum / %s;", emit_float(count, DT_DOUBLE),
          emit_float(count, DT_DOUBLE));
    emitf(e, "const double gain = invstd * X2[c];");
    emitf(e, "for (int64_t n = 0; n < %lld; n++) {", (long long)batch);
    emitf(e, "const %s *dy = X0 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
    emitf(e, "const %s *x = X1 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
    emitf(e, "%s *dx = Y0 + (n * %lld + c) * %lld;", T, (long long)channels, (long long)size);
    emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)size);
    emitf(e, "  dx[i] = (%s)((dy[i] - mean_dy - (x[i] - mean) * k) * gain);", T);
    emitf(e, "}");
  }
  emitf(e, "}");
}

const OpDesc op_batch_norm_grad = {
    .kind = OP_BATCH_NORM_GRAD, .name = "BatchNormGrad", .min_in = 5, .max_in = 5, .min_out = 3, .max_out = 3,
    .infer = batch_norm_grad_infer, .emit = batch_norm_grad_emit, .internal = true,
};
