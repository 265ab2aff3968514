/* The training losses: internal ops that backward_build puts after graph output 0. Each gives the loss and its
 * gradient with respect to the output, which seeds the backward pass, as PyTorch's losses with reduction 'mean':
 *
 *   SoftmaxCrossEntropy(logits x [N, C], targets t int64 [N])   (CrossEntropyLoss)
 *     loss = 1/N sum_n (log sum_c exp x[n, c] - x[n, t[n]]),   dx = (softmax(x) - onehot(t)) / N
 *   NllLoss(log-probabilities x [N, C], targets t int64 [N])    (NLLLoss)
 *     loss = -1/N sum_n x[n, t[n]],                            dx = -onehot(t) / N
 *   MseLoss(y, targets t shaped like y)                         (MSELoss)
 *     loss = 1/count sum (y - t)^2,                            dy = 2 (y - t) / count
 *
 * The sums run in double. P_train_step checks the class indices before any node runs, so the kernels index
 * with them freely. */
#include "../cnnc.h"

static void loss_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0], *t = n->in[1];
  check_input_type(n, 0, dtype_float_only, "float or double");
  if (n->op->kind == OP_MSE_LOSS) {
    if (t->dtype != x->dtype || t->rank != x->rank || value_count(t) != value_count(x))
      cn_error_node(n, "the targets %s%s must have the output's type and shape %s%s", dtype_name(t->dtype),
                    value_shape_string(t), dtype_name(x->dtype), value_shape_string(x));
  } else if (x->rank != 2 || t->dtype != DT_INT64 || t->rank != 1 || t->dims[0] != x->dims[0]) {
    cn_error_node(n, "expects scores [N, C] and int64 class indices [N]; got %s and %s%s", value_shape_string(x),
                  dtype_name(t->dtype), value_shape_string(t));
  }
  value_set_shape(n->out[0], n, x->dtype, 0, NULL);
  value_set_shape(n->out[1], n, x->dtype, x->rank, x->dims);
}

static void class_loss_emit(Emitter *e, const Node *n) {
  const Value *x = n->in[0];
  DType t = x->dtype;
  const char *T = dtype_ctype(t);
  long long batch = (long long)x->dims[0], classes = (long long)x->dims[1];
  char *scale = emit_float(1.0 / (double)(batch ? batch : 1), t);
  emitf(e, "double total = 0;");
  emitf(e, "for (int64_t n = 0; n < %lld; n++) {", batch);
  emitf(e, "const %s *x = X0 + n * %lld;", T, classes);
  emitf(e, "%s *dx = Y1 + n * %lld;", T, classes);
  emitf(e, "const int64_t target = X1[n];");
  if (n->op->kind == OP_NLL_LOSS) {
    emitf(e, "for (int64_t c = 0; c < %lld; c++)", classes);
    emitf(e, "  dx[c] = 0;");
    emitf(e, "total -= x[target];");
    emitf(e, "dx[target] = -%s;", scale);
  } else {
    emitf(e, "/* log sum exp, shifted by the maximum so exp cannot overflow */");
    emitf(e, "%s max = -INFINITY;", T);
    emitf(e, "for (int64_t c = 0; c < %lld; c++)", classes);
    emitf(e, "  max = x[c] > max ? x[c] : max;");
    emitf(e, "double sum = 0;");
    emitf(e, "for (int64_t c = 0; c < %lld; c++) {", classes);
    emitf(e, "dx[c] = %s(x[c] - max);", emit_math_fn("exp", t));
    emitf(e, "sum += dx[c];");
    emitf(e, "}");
    emitf(e, "total += log(sum) + max - x[target];");
    emitf(e, "for (int64_t c = 0; c < %lld; c++)", classes);
    emitf(e, "  dx[c] = (%s)(dx[c] / sum) * %s;", T, scale);
    emitf(e, "dx[target] -= %s;", scale);
  }
  emitf(e, "}");
  emitf(e, "Y0[0] = (%s)(total / %lld);", T, batch ? batch : 1);
}

static void mse_loss_emit(Emitter *e, const Node *n) {
  const Value *y = n->in[0];
  DType t = y->dtype;
  long long count = (long long)value_count(y);
  emitf(e, "double total = 0;");
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", count);
  emitf(e, "const %s d = X0[i] - X1[i];", dtype_ctype(t));
  emitf(e, "total += (double)d * d;");
  emitf(e, "Y1[i] = %s * d;", emit_float(2.0 / (double)(count ? count : 1), t));
  emitf(e, "}");
  emitf(e, "Y0[0] = (%s)(total / %lld);", dtype_ctype(t), count ? count : 1);
}

const OpDesc op_softmax_cross_entropy = {
    .kind = OP_SOFTMAX_CROSS_ENTROPY, .name = "SoftmaxCrossEntropy", .min_in = 2, .max_in = 2, .min_out = 2,
    .max_out = 2, .infer = loss_infer, .emit = class_loss_emit, .internal = true,
};

const OpDesc op_nll_loss = {
    .kind = OP_NLL_LOSS, .name = "NllLoss", .min_in = 2, .max_in = 2, .min_out = 2, .max_out = 2,
    .infer = loss_infer, .emit = class_loss_emit, .internal = true,
};

const OpDesc op_mse_loss = {
    .kind = OP_MSE_LOSS, .name = "MseLoss", .min_in = 2, .max_in = 2, .min_out = 2, .max_out = 2,
    .infer = loss_infer, .emit = mse_loss_emit, .internal = true,
};
