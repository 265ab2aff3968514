/* Identity and Dropout (inference: a copy; Dropout's optional mask is all true), and Dropout's training form. */
#include "../cnnc.h"

#include <string.h>

static void identity_infer(Graph *g, Node *n) {
  (void)g;
  infer_same_as_input(n, 0);
}

static void copy_fold(Graph *g, Node *n) {
  (void)g;
  memcpy(n->out[0]->data, n->in[0]->data, (size_t)value_bytes(n->in[0]));
  if (n->n_out > 1 && n->out[1])
    memset(n->out[1]->data, 1, (size_t)value_bytes(n->out[1]));
}

static void copy_emit(Emitter *e, const Node *n) {
  emitf(e, "memcpy(%s, %s, %lld);", emit_out(n, 0), emit_in(n, 0), (long long)value_bytes(n->in[0]));
  if (n->n_out > 1 && n->out[1])
    emitf(e, "memset(%s, 1, %lld);", emit_out(n, 1), (long long)value_bytes(n->out[1]));
}

static void identity_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  (void)g, (void)n;
  dx[0] = dy[0];
}

const OpDesc op_identity = {
    .kind = OP_IDENTITY, .name = "Identity", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = identity_infer, .fold = copy_fold, .emit = copy_emit, .grad = identity_grad,
};

static void dropout_infer(Graph *g, Node *n) {
  /* training_mode (opset 12+) makes the output random unless the ratio is 0 */
  Value *training = node_in(n, 2), *ratio = node_in(n, 1);
  bool training_on = training && (!training->data || value_get_int(training, 0) != 0);
  bool ratio_zero = ratio && ratio->data && value_get_double(ratio, 0) == 0;
  if (training_on && !ratio_zero)
    cn_error_node(n, "training_mode must be a constant false (or the ratio 0); cnnc compiles Dropout for inference");
  if (attr_int(n, "is_test", 1) == 0 && g->opset < 7)
    cn_error_node(n, "is_test=0 (training) is not supported; cnnc compiles Dropout for inference");
  /* inference copies the input: the ratio attribute (before opset 12) and the seed (from 12) change nothing */
  if (g->opset < 12)
    attr_float(n, "ratio", 0.5f);
  else
    attr_int(n, "seed", 0);
  infer_same_as_input(n, 0);
  if (n->n_out > 1 && n->out[1])
    value_set_shape(n->out[1], n, DT_BOOL, n->in[0]->rank, n->in[0]->dims);
}

const OpDesc op_dropout = {
    .kind = OP_DROPOUT, .name = "Dropout", .min_in = 1, .max_in = 3, .min_out = 1, .max_out = 2,
    .infer = dropout_infer, .fold = copy_fold, .emit = copy_emit,
};

/* DropoutTrain(X) -> Y, mask: Dropout in training code. With the training flag set each element is kept with
 * probability 1 - ratio and scaled by 1 / (1 - ratio), as PyTorch's Dropout in train(); the mask is kept for the
 * backward. The keep decision hashes (seed, step, node, element) with the splitmix64 finalizer into a uniform
 * u in [0, 1) and keeps u >= ratio: counter-based, so a step's masks depend on nothing but the step. With the flag
 * clear (P_run) it copies. */
typedef struct DropoutParams {
  double ratio;
} DropoutParams;

/* The ratio: input 1 from opset 12 (a constant), the `ratio` attribute before; 0.5 when absent. */
void dropout_train_form(Graph *g, Node *n) {
  DropoutParams *p = cn_alloc(sizeof *p);
  p->ratio = 0.5;
  if (g->opset >= 12) {
    if (node_in(n, 1))
      p->ratio = value_get_double(node_const_in(n, 1, "ratio"), 0);
  } else {
    p->ratio = attr_float(n, "ratio", 0.5f);
  }
  if (!(p->ratio >= 0 && p->ratio < 1))
    cn_error_node(n, "ratio = %g; training takes a dropout ratio in [0, 1)", p->ratio);
  Value **out = cn_alloc_array(2, sizeof *out);
  out[0] = n->out[0];
  out[1] = n->n_out > 1 && n->out[1] ? n->out[1] : graph_add_value(g, cn_format("%s/mask", n->name));
  out[1]->producer = n;
  n->out = out;
  n->n_out = 2;
  n->n_in = 1;
  n->op = op_get(OP_DROPOUT_TRAIN);
  n->params = p;
  n->op->infer(g, n);
}

static void dropout_train_infer(Graph *g, Node *n) {
  (void)g;
  CN_ASSERT(n->params);
  check_input_type(n, 0, dtype_float_only, "float or double");
  infer_same_as_input(n, 0);
  value_set_shape(n->out[1], n, DT_BOOL, n->in[0]->rank, n->in[0]->dims);
}

/* splitmix64's finalizer on the variable z: a bijection mixing every input bit into every output bit. */
static void emit_mix(Emitter *e, const char *z) {
  emitf(e, "%s = (%s ^ (%s >> 30)) * 0xbf58476d1ce4e5b9u;", z, z, z);
  emitf(e, "%s = (%s ^ (%s >> 27)) * 0x94d049bb133111ebu;", z, z, z);
  emitf(e, "%s ^= %s >> 31;", z, z);
}

static void dropout_train_emit(Emitter *e, const Node *n) {
  const DropoutParams *p = n->params;
  DType t = n->in[0]->dtype;
  long long count = (long long)value_count(n->in[0]);
  emitf(e, "if (!%s) {", EMIT_TRAINING);
  emitf(e, "memcpy(Y0, X0, %lld * sizeof *Y0);", count);
  emitf(e, "memset(Y1, 1, %lld);", count);
  emitf(e, "return;");
  emitf(e, "}");
  emitf(e, "uint64_t key = %s + 0x9e3779b97f4a7c15u * (%s + 1);", EMIT_RNG_SEED, EMIT_RNG_STEP);
  emit_mix(e, "key");
  emitf(e, "key ^= %lluu; /* the node */", (unsigned long long)n->id * 0xd1b54a32d192ed03u);
  emit_mix(e, "key");
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", count);
  emitf(e, "uint64_t z = key + 0x9e3779b97f4a7c15u * (uint64_t)i;");
  emit_mix(e, "z");
  emitf(e, "const bool keep = (double)(z >> 11) * 0x1.0p-53 >= %s;", emit_float(p->ratio, DT_DOUBLE));
  emitf(e, "Y1[i] = keep;");
  emitf(e, "Y0[i] = keep ? X0[i] * %s : 0;", emit_float(1 / (1 - p->ratio), t));
  emitf(e, "}");
}

/* dX = dY * mask / (1 - ratio): DropoutGrad(dY, mask) with the ratio preset. */
static void dropout_train_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  Value *ins[2] = {dy[0], n->out[1]};
  Node *b = bw_node(g, n, OP_DROPOUT_GRAD, 2, ins, 1);
  b->params = n->params;
  dx[0] = bw_finish(g, b);
}

const OpDesc op_dropout_train = {
    .kind = OP_DROPOUT_TRAIN, .name = "DropoutTrain", .min_in = 1, .max_in = 1, .min_out = 2, .max_out = 2,
    .infer = dropout_train_infer, .emit = dropout_train_emit, .grad = dropout_train_grad, .internal = true,
};

static void dropout_grad_infer(Graph *g, Node *n) {
  (void)g;
  CN_ASSERT(n->params);
  infer_same_as_input(n, 0);
}

static void dropout_grad_emit(Emitter *e, const Node *n) {
  const DropoutParams *p = n->params;
  long long count = (long long)value_count(n->in[0]);
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", count);
  emitf(e, "  Y0[i] = X1[i] ? X0[i] * %s : 0;", emit_float(1 / (1 - p->ratio), n->in[0]->dtype));
}

const OpDesc op_dropout_grad = {
    .kind = OP_DROPOUT_GRAD, .name = "DropoutGrad", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = dropout_grad_infer, .emit = dropout_grad_emit, .internal = true,
};
