/* Training: from a forward graph to one training step.
 *
 * train_mark runs before shape inference. The float initializers that feed differentiable weight inputs (Conv
 * and ConvTranspose W and B, Gemm and MatMul operands, the bias added to a MatMul, BatchNormalization scale and B,
 * PRelu's slope), directly or through reshapes and masks, become parameters (VAL_PARAM), BatchNormalization's
 * running statistics state (VAL_STATE): their contents move to `init`, so nothing folds through them and the
 * generated code keeps them in mutable storage.
 *
 * backward_build runs after it and makes the graph one training step:
 *   1. the forward in training mode: BatchNormalization and Dropout take their training forms;
 *   2. requires_grad flows forward from the parameters;
 *   3. the loss node reads graph output 0 and the targets and gives the loss and its gradient (the seed);
 *   4. the nodes are walked in reverse: each node whose outputs have gradients and whose inputs need them calls
 *      its op's grad hook, which adds backward nodes; the gradients of a value used several times are summed.
 * The backward nodes are ordinary nodes (Node.backward), planned and emitted like the forward ones; the forward
 * values they read (saved activations) simply live longer. The parameters' gradients (VAL_GRAD) are what the
 * optimizer update, emitted after the nodes (emit_train.c), reads. */
#include "cnnc.h"

#include <math.h>
#include <string.h>

const char *loss_name(LossKind k) {
  static const char *const names[] = {"cross-entropy", "nll", "mse"};
  return names[k];
}

const char *optimizer_name(OptimizerKind k) {
  static const char *const names[] = {"sgd", "adam", "adamw"};
  return names[k];
}

/* A setting the file gave and the command line did not. */
static bool from_file(const TrainOptions *o, const TrainSettings *file, unsigned setting) {
  return file && (file->given & setting) && !(o->given & setting);
}

void train_options_finish(TrainOptions *o, const TrainSettings *file) {
  if (from_file(o, file, TRAIN_GIVEN_LOSS))
    o->loss = file->loss;
  if (from_file(o, file, TRAIN_GIVEN_OPTIMIZER))
    o->optimizer = file->optimizer;
  /* the file's optimizer settings belong to its optimizer: another one from the command line keeps its defaults */
  if (file && o->optimizer == file->optimizer) {
    unsigned settings[] = {TRAIN_GIVEN_LR, TRAIN_GIVEN_MOMENTUM, TRAIN_GIVEN_NESTEROV, TRAIN_GIVEN_WEIGHT_DECAY,
                           TRAIN_GIVEN_BETA1, TRAIN_GIVEN_BETA2, TRAIN_GIVEN_EPS};
    double *fields[] = {&o->lr, &o->momentum, NULL, &o->weight_decay, &o->beta1, &o->beta2, &o->eps};
    double values[] = {file->lr, file->momentum, 0, file->weight_decay, file->beta1, file->beta2, file->eps};
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
      if (!from_file(o, file, settings[k]))
        continue;
      if (fields[k])
        *fields[k] = values[k];
      else
        o->nesterov = file->nesterov;
      o->given |= settings[k];
    }
  }
  if (file && !(o->given & TRAIN_GIVEN_SEED)) { /* the train section's seed, else the file's */
    o->seed = file->seed;
    o->given |= TRAIN_GIVEN_SEED;
  }
  bool adam = o->optimizer != OPTIMIZER_SGD;
  if (!(o->given & TRAIN_GIVEN_LR))
    o->lr = adam ? 1e-3 : 0.01;
  if (!(o->given & TRAIN_GIVEN_WEIGHT_DECAY))
    o->weight_decay = o->optimizer == OPTIMIZER_ADAMW ? 0.01 : 0;
  if (!(o->given & TRAIN_GIVEN_BETA1))
    o->beta1 = 0.9;
  if (!(o->given & TRAIN_GIVEN_BETA2))
    o->beta2 = 0.999;
  if (!(o->given & TRAIN_GIVEN_EPS))
    o->eps = 1e-8;
  if (!(o->given & TRAIN_GIVEN_SEED))
    o->seed = 0;
  if (adam && (o->given & (TRAIN_GIVEN_MOMENTUM | TRAIN_GIVEN_NESTEROV)))
    cn_error("--momentum and --nesterov are SGD's; --optimizer=%s takes --beta1 and --beta2",
             optimizer_name(o->optimizer));
  if (!adam && (o->given & (TRAIN_GIVEN_BETA1 | TRAIN_GIVEN_BETA2 | TRAIN_GIVEN_EPS)))
    cn_error("--beta1, --beta2 and --eps are Adam's; --optimizer=sgd takes --momentum and --nesterov");
  if (o->nesterov && o->momentum <= 0)
    cn_error("--nesterov needs a positive --momentum");
  if (!(o->lr >= 0) || !isfinite(o->lr))
    cn_error("--lr = %g; expected a non-negative number", o->lr);
  if (!(o->momentum >= 0) || !isfinite(o->momentum))
    cn_error("--momentum = %g; expected a non-negative number", o->momentum);
  if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1))
    cn_error("--beta1 = %g and --beta2 = %g; expected numbers in [0, 1)", o->beta1, o->beta2);
  if (!(o->eps > 0) || !isfinite(o->eps) || !(o->weight_decay >= 0) || !isfinite(o->weight_decay))
    cn_error("--eps = %g and --weight-decay = %g; expected a positive and a non-negative number", o->eps,
             o->weight_decay);
}

//
// train_mark
//

static bool is_float_initializer(const Value *v) {
  return v && (v->flags & VAL_INITIALIZER) && v->data && !v->producer && dtype_is_float(v->dtype);
}

/* Whether input i of n is one of the weight inputs whose initializers are trained. */
static bool weight_input(const Node *n, int i) {
  switch (n->op->kind) {
  case OP_CONV:
  case OP_CONV_TRANSPOSE: return i == 1 || i == 2;
  case OP_GEMM:
  case OP_MATMUL: return true;
  case OP_BATCH_NORMALIZATION: return i == 1 || i == 2;
  case OP_PRELU: return i == 1;
  case OP_ADD: {
    /* a bias added to a MatMul (how Linear exports with inputs of rank 3 or more) */
    const Value *other = n->in[1 - i];
    return other && other->producer && other->producer->op->kind == OP_MATMUL;
  }
  default: return false;
  }
}

/* Whether v holds zeros and ones only: a mask a Mul applies to weights, constant itself. */
static bool is_mask(const Value *v) {
  if (!is_float_initializer(v))
    return false;
  for (int64_t i = 0; i < value_count(v); i++) {
    double x = value_get_double(v, i);
    if (x != 0 && x != 1)
      return false;
  }
  return true;
}

/* Per value id: whether it becomes a weight, at a weight input or flowing into one through ops that only reshape
 * or mask weights (pruned weights, LeNet-5's table of partial connections: a Mul by zeros and ones trains its
 * other operand). Walks the sorted nodes backwards, so every consumer is seen before its producers. */
static bool *weight_values(const Graph *g) {
  bool *weight = cn_alloc_array((size_t)g->n_values, sizeof *weight);
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    const Node *n = g->nodes[i];
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] && weight_input(n, k))
        weight[n->in[k]->id] = true;
    if (!n->out[0] || !weight[n->out[0]->id])
      continue;
    switch (n->op->kind) {
    case OP_IDENTITY:
    case OP_RESHAPE:
    case OP_FLATTEN:
    case OP_SQUEEZE:
    case OP_UNSQUEEZE:
    case OP_TRANSPOSE: weight[n->in[0]->id] = true; break;
    case OP_MUL: {
      bool mask_a = is_mask(n->in[0]), mask_b = is_mask(n->in[1]);
      weight[n->in[0]->id] |= !mask_a || mask_b;
      weight[n->in[1]->id] |= !mask_b || mask_a;
      break;
    }
    default: break;
    }
  }
  return weight;
}

static bool listed(const char *name, const char *const *names, int count, bool *seen) {
  for (int k = 0; k < count; k++)
    if (strcmp(names[k], name) == 0) {
      seen[k] = true;
      return true;
    }
  return false;
}

static void make_mutable(Value *v, int flag) {
  v->init = v->data;
  v->data = NULL;
  v->flags |= flag;
}

void train_mark(Graph *g, const TrainOptions *o) {
  bool *frozen_seen = cn_alloc_array((size_t)o->n_freeze + 1, sizeof *frozen_seen);
  bool *weight = weight_values(g);
  int params = 0;
  for (int i = 0; i < g->n_values; i++) {
    Value *v = g->values[i];
    if (weight[i] && is_float_initializer(v) && !listed(v->name, o->freeze, o->n_freeze, frozen_seen)) {
      make_mutable(v, VAL_PARAM);
      params++;
    }
  }
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    /* the training step decides the mode, whatever the model's training_mode input says */
    if (n->op->kind == OP_DROPOUT && n->n_in > 2)
      n->in[2] = NULL;
    if (n->op->kind == OP_BATCH_NORMALIZATION)
      for (int k = 3; k < 5 && k < n->n_in; k++) {
        Value *v = n->in[k];
        if (!v || !(v->flags & VAL_INITIALIZER) || !v->data || !dtype_is_float(v->dtype))
          cn_error_node(n, "the running %s must be an initializer to be trained", k == 3 ? "mean" : "variance");
        make_mutable(v, VAL_STATE);
      }
  }
  for (int k = 0; k < o->n_freeze; k++)
    if (!frozen_seen[k])
      cn_error("--freeze %s: the model has no trainable tensor of that name (trainable: the float initializers of "
               "Conv, ConvTranspose, Gemm and MatMul weights and biases, BatchNormalization scale and B, PRelu "
               "slopes)",
               cn_escape_c_string(o->freeze[k], 100));
  if (params == 0)
    cn_error("nothing to train: no initializer feeds a Conv, Gemm, MatMul, BatchNormalization or PRelu weight%s",
             o->n_freeze ? " that --freeze leaves trainable" : "");
}

//
// Building blocks for grad hooks
//

Node *bw_node(Graph *g, const Node *from, OpKind kind, int n_in, Value *const *ins, int n_out) {
  const OpDesc *op = op_get(kind);
  const char *base = from->name && from->name[0] ? from->name : from->op->name;
  Node *n = graph_add_node(g, cn_format("%s/grad/%s", base, op->name), op->name, n_in, n_out);
  n->op = op;
  n->backward = true;
  for (int i = 0; i < n_in; i++)
    n->in[i] = ins[i];
  for (int k = 0; k < n_out; k++) {
    n->out[k] = graph_add_value(g, n_out == 1 ? n->name : cn_format("%s:%d", n->name, k));
    n->out[k]->producer = n;
  }
  return n;
}

static Attr *add_attr(Node *n, const char *name, AttrType type) {
  Attr *attrs = cn_alloc_array((size_t)n->n_attrs + 1, sizeof *attrs);
  if (n->n_attrs)
    memcpy(attrs, n->attrs, (size_t)n->n_attrs * sizeof *attrs);
  n->attrs = attrs;
  Attr *a = &attrs[n->n_attrs++];
  a->name = name;
  a->type = type;
  return a;
}

void bw_attr_int(Node *n, const char *name, int64_t v) { add_attr(n, name, ATTR_INT)->i = v; }
void bw_attr_float(Node *n, const char *name, float v) { add_attr(n, name, ATTR_FLOAT)->f = v; }

void bw_attr_ints(Node *n, const char *name, int count, const int64_t *v) {
  Attr *a = add_attr(n, name, ATTR_INTS);
  a->n = count;
  a->ints = cn_alloc_array((size_t)count + 1, sizeof *a->ints);
  memcpy(a->ints, v, (size_t)count * sizeof *v);
}

void bw_copy_attrs(Node *to, const Node *from) {
  for (int i = 0; i < from->n_attrs; i++)
    *add_attr(to, from->attrs[i].name, from->attrs[i].type) = from->attrs[i];
}

Value *bw_finish(Graph *g, Node *n) {
  n->op->infer(g, n);
  for (int k = 0; k < n->n_out; k++)
    CN_ASSERT(!n->out[k] || n->out[k]->has_shape);
  n->macs = cost_count_macs(n);
  return n->out[0];
}

static Value *new_const(Graph *g, DType t, int rank, const int64_t *dims) {
  Value *v = graph_add_value(g, "backward constant");
  value_set_shape(v, NULL, t, rank, dims);
  v->data = cn_alloc((size_t)value_bytes(v) + 1);
  v->flags |= VAL_INITIALIZER;
  return v;
}

Value *bw_scalar(Graph *g, DType t, double x) {
  Value *v = new_const(g, t, 0, NULL);
  value_set_double(v, 0, x);
  return v;
}

Value *bw_ints(Graph *g, int count, const int64_t *values) {
  int64_t dims[1] = {count};
  Value *v = new_const(g, DT_INT64, 1, dims);
  memcpy(v->data, values, (size_t)count * sizeof *values);
  return v;
}

Value *bw_unary(Graph *g, const Node *from, OpKind kind, Value *a) {
  return bw_finish(g, bw_node(g, from, kind, 1, &a, 1));
}

Value *bw_binary(Graph *g, const Node *from, OpKind kind, Value *a, Value *b) {
  Value *ins[2] = {a, b};
  return bw_finish(g, bw_node(g, from, kind, 2, ins, 1));
}

static bool same_shape(const Value *a, const Value *b) {
  return a->rank == b->rank && memcmp(a->dims, b->dims, (size_t)a->rank * sizeof a->dims[0]) == 0;
}

Value *bw_sum_kept(Graph *g, const Node *from, Value *v, const int64_t *kept, const Value *like) {
  bool reduces = false;
  for (int i = 0; i < v->rank; i++) {
    CN_ASSERT(kept[i] == v->dims[i] || kept[i] == 1);
    reduces |= kept[i] != v->dims[i];
  }
  if (!reduces)
    return bw_reshape(g, from, v, like);
  Node *n = bw_node(g, from, OP_REDUCE_SUM_TO, 1, &v, 1);
  bw_attr_ints(n, "kept", v->rank, kept);
  bw_attr_ints(n, "shape", like->rank, like->dims);
  return bw_finish(g, n);
}

Value *bw_sum_to(Graph *g, const Node *from, Value *v, const Value *like) {
  CN_ASSERT(like->rank <= v->rank);
  int64_t kept[CN_MAX_RANK];
  for (int i = 0; i < v->rank; i++) {
    int j = i - (v->rank - like->rank);
    kept[i] = j < 0 ? 1 : like->dims[j];
  }
  return bw_sum_kept(g, from, v, kept, like);
}

Value *bw_reshape(Graph *g, const Node *from, Value *v, const Value *like) {
  CN_ASSERT(value_count(v) == value_count(like));
  if (same_shape(v, like))
    return v;
  Node *n;
  if (g->opset >= 5) {
    Value *ins[2] = {v, bw_ints(g, like->rank, like->dims)};
    n = bw_node(g, from, OP_RESHAPE, 2, ins, 1);
  } else {
    n = bw_node(g, from, OP_RESHAPE, 1, &v, 1);
    bw_attr_ints(n, "shape", like->rank, like->dims);
  }
  return bw_finish(g, n);
}

//
// backward_build
//

/* The gradient a value receives from one more use: summed with those it has. A fresh gradient is named after
 * the value, for comments and dumps ("grad(conv1.weight)"). */
static void accumulate(Graph *g, const Node *from, Value *v, Value *dx) {
  if (!same_shape(dx, v) || dx->dtype != v->dtype)
    cn_internal(__FILE__, __LINE__,
                cn_format("the grad hook of %s gave a %s gradient for input '%s' %s", from->op->name,
                          value_shape_string(dx), cn_escape_c_string(v->name, 100), value_shape_string(v)));
  v->grad = v->grad ? bw_binary(g, from, OP_ADD, v->grad, dx) : dx;
  if (v->grad->producer && v->grad->name == v->grad->producer->name)
    v->grad->name = cn_format("grad(%s)", v->name);
}

static void propagate_requires_grad(Graph *g) {
  for (int i = 0; i < g->n_values; i++)
    g->values[i]->requires_grad = (g->values[i]->flags & VAL_PARAM) != 0;
  for (int i = 0; i < g->n_nodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    bool any = false;
    for (int k = 0; k < n->n_in; k++)
      any |= n->in[k] && n->in[k]->requires_grad;
    for (int k = 0; k < n->n_out && any; k++)
      if (n->out[k] && dtype_is_float(n->out[k]->dtype) && !(n->out[k]->flags & VAL_STATE))
        n->out[k]->requires_grad = true;
  }
}

/* The loss node: reads graph output 0 and the targets (a value the caller gives P_train_step), gives the loss
 * (delivered to the caller, so it is a graph output that P_run does not list) and d(loss)/d(output 0). */
static void add_loss(Graph *g, const TrainOptions *o) {
  Value *y = g->outputs[0];
  const char *name = cn_escape_c_string(y->name, 100);
  if (!dtype_is_float(y->dtype))
    cn_error("graph output 0 '%s' is %s; the loss needs float outputs", name, dtype_name(y->dtype));
  if (!y->requires_grad)
    cn_error("graph output 0 '%s' does not depend on any trainable tensor", name);
  const Node *producer = y->producer;
  bool log_probs = producer && producer->op->kind == OP_LOG_SOFTMAX;
  Value *t = graph_add_value(g, "targets");
  OpKind kind = OP_MSE_LOSS;
  if (o->loss == LOSS_MSE) {
    value_set_shape(t, NULL, y->dtype, y->rank, y->dims);
  } else {
    if (y->rank != 2)
      cn_error("--loss=%s needs graph output 0 of shape [batch, classes]; '%s' is %s", loss_name(o->loss), name,
               value_shape_string(y));
    value_set_shape(t, NULL, DT_INT64, 1, y->dims);
    kind = o->loss == LOSS_NLL ? OP_NLL_LOSS : OP_SOFTMAX_CROSS_ENTROPY;
    if (o->loss == LOSS_NLL && !log_probs)
      cn_error("--loss=nll takes log-probabilities, but graph output 0 '%s' does not come from a LogSoftmax; "
               "use --loss=cross-entropy on logits",
               name);
    if (o->loss == LOSS_CROSS_ENTROPY && producer &&
        (producer->op->kind == OP_LOG_SOFTMAX || producer->op->kind == OP_SOFTMAX))
      cn_warn_node(producer, "graph output 0 is already a %s; --loss=cross-entropy applies softmax again (is "
                             "--loss=nll meant?)",
                   producer->op->name);
  }
  t->flags |= VAL_GRAPH_INPUT;
  Node *n = graph_add_node(g, "loss", op_get(kind)->name, 2, 2);
  n->op = op_get(kind);
  n->backward = true;
  n->in[0] = y;
  n->in[1] = t;
  n->out[0] = graph_add_value(g, "loss");
  n->out[1] = graph_add_value(g, cn_format("grad(%s)", y->name));
  for (int k = 0; k < 2; k++)
    n->out[k]->producer = n;
  bw_finish(g, n);
  n->out[0]->flags |= VAL_GRAPH_OUTPUT;
  y->grad = n->out[1];
}

const Node *backward_loss_node(const Graph *g) {
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    const Node *n = g->nodes[i];
    OpKind k = n->op->kind;
    if (!n->dead && (k == OP_SOFTMAX_CROSS_ENTROPY || k == OP_NLL_LOSS || k == OP_MSE_LOSS))
      return n;
  }
  return NULL;
}

void backward_build(Graph *g, const TrainOptions *o) {
  graph_count_uses(g);
  int n_forward = g->n_nodes;
  for (int i = 0; i < n_forward; i++) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    if (n->op->kind == OP_BATCH_NORMALIZATION)
      batch_norm_train_form(g, n);
    else if (n->op->kind == OP_DROPOUT)
      dropout_train_form(g, n);
  }
  propagate_requires_grad(g);
  add_loss(g, o);

  for (int i = n_forward - 1; i >= 0; i--) {
    Node *n = g->nodes[i];
    if (n->dead)
      continue;
    bool has_dy = false, needs_dx = false;
    Value **dy = cn_alloc_array((size_t)n->n_out + 1, sizeof *dy);
    for (int k = 0; k < n->n_out; k++) {
      dy[k] = n->out[k] ? n->out[k]->grad : NULL;
      has_dy |= dy[k] != NULL;
    }
    for (int k = 0; k < n->n_in; k++)
      needs_dx |= n->in[k] && n->in[k]->requires_grad;
    if (!has_dy || !needs_dx)
      continue;
    if (!n->op->grad)
      cn_error_node(n, "cnnc cannot train through %s: it lies between a trainable tensor and the loss, and has no "
                       "gradient rule (freeze the tensors before it with --freeze, or see the README for the "
                       "differentiable operators)",
                    n->op->name);
    Value **dx = cn_alloc_array((size_t)n->n_in + 1, sizeof *dx);
    n->op->grad(g, n, dy, dx);
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] && n->in[k]->requires_grad && dx[k])
        accumulate(g, n, n->in[k], dx[k]);
  }

  for (int i = 0; i < g->n_values; i++) {
    Value *v = g->values[i];
    if ((v->flags & VAL_PARAM) && v->grad)
      v->grad->flags |= VAL_GRAD;
  }
  fold_dead_code(g);
}
