/* The training entry points, around a graph from backward_build (see the README's Training section for the
 * contract they implement). On top of what emit.c writes for inference, a training file has
 *
 *   P_params   the parameters and running statistics, mutable, initialized from the model as a string literal
 *   P_train    zeroed: the optimizer's step count and moments (what a checkpoint keeps), the parameters'
 *              gradients, and the graph outputs the training step computes on its way to the loss
 *   training, rng_seed, rng_step, learning_rate: the mode flag, Dropout's generator, the current learning rate
 *
 * P_run (emit.c) runs the forward nodes with `training` clear; P_train_step runs every node with it set, then
 * updates each parameter from its gradient as torch.optim does, in the same order of operations. */
#include "cnnc.h"

#include <stdlib.h>
#include <string.h>

#define STORAGE_ALIGN 64

/* Where the training values live; every function here computes it the same way from the graph. */
typedef struct TrainLayout {
  DType t; /* the parameters' element type, which the accessors take */
  Value **params, **states;
  int n_params, n_states;
  int64_t *param_offset, *state_offset; /* into P_params */
  int64_t params_bytes;
  /* P_train: [0, optimizer_bytes) the step count (int64) then per parameter its moments; then gradients, then
   * the graph outputs of the training step */
  int moments;            /* per parameter: 0 (plain SGD), 1 (SGD momentum), 2 (Adam, AdamW) */
  int64_t *moment_offset; /* per parameter: its first moment; a second follows the first */
  int64_t optimizer_bytes;
  int64_t *value_offset; /* per value id: gradients and training outputs in P_train, else -1 */
  int64_t train_bytes;
} TrainLayout;

static int64_t align_up(int64_t x) { return (x + STORAGE_ALIGN - 1) / STORAGE_ALIGN * STORAGE_ALIGN; }

/* The graph outputs a node computes (P_run writes them to the caller; P_train_step to P_train). */
static bool computed_output(const Value *v) { return v->producer && !v->producer->dead; }

static TrainLayout train_layout(const Graph *g, const TrainOptions *o) {
  TrainLayout l = {.t = DT_UNDEFINED};
  l.params = cn_alloc_array((size_t)g->n_values, sizeof *l.params);
  l.states = cn_alloc_array((size_t)g->n_values, sizeof *l.states);
  l.param_offset = cn_alloc_array((size_t)g->n_values, sizeof *l.param_offset);
  l.state_offset = cn_alloc_array((size_t)g->n_values, sizeof *l.state_offset);
  l.moment_offset = cn_alloc_array((size_t)g->n_values, sizeof *l.moment_offset);
  l.value_offset = cn_alloc_array((size_t)g->n_values, sizeof *l.value_offset);
  for (int i = 0; i < g->n_values; i++) {
    Value *v = g->values[i];
    l.value_offset[i] = -1;
    if (v->flags & VAL_PARAM) {
      if (l.t != DT_UNDEFINED && v->dtype != l.t)
        cn_error("the trainable tensors mix %s and %s; cnnc trains one element type at a time",
                 dtype_name(l.t), dtype_name(v->dtype));
      l.t = v->dtype;
      l.param_offset[l.n_params] = l.params_bytes;
      l.params[l.n_params++] = v;
      l.params_bytes = align_up(l.params_bytes + value_bytes(v));
    }
  }
  for (int i = 0; i < g->n_values; i++) {
    Value *v = g->values[i];
    if (v->flags & VAL_STATE) {
      l.state_offset[l.n_states] = l.params_bytes;
      l.states[l.n_states++] = v;
      l.params_bytes = align_up(l.params_bytes + value_bytes(v));
    }
  }
  CN_ASSERT(l.n_params > 0);
  l.moments = o->optimizer != OPTIMIZER_SGD ? 2 : o->momentum != 0 ? 1 : 0;
  int64_t at = align_up(sizeof(int64_t));
  for (int k = 0; k < l.n_params; k++) {
    l.moment_offset[k] = at;
    at = align_up(at + l.moments * value_bytes(l.params[k]));
  }
  l.optimizer_bytes = at;
  const Value *loss = backward_loss_node(g)->out[0];
  for (int i = 0; i < g->n_values; i++) {
    Value *v = g->values[i];
    bool output = (v->flags & VAL_GRAPH_OUTPUT) && computed_output(v) && v != loss;
    if ((v->flags & VAL_GRAD) || output) {
      l.value_offset[i] = at;
      at = align_up(at + value_bytes(v));
    }
  }
  l.train_bytes = at;
  return l;
}

/* An element pointer into a blob: "&P_params.v_float[12]". */
static char *blob_element(const char *blob, DType t, int64_t offset) {
  return cn_format("&%s.v_%s[%lld]", blob, dtype_name(t), (long long)(offset / (int64_t)dtype_size(t)));
}

void emit_train_storage(Emitter *e, Graph *g, char **names) {
  const char *P = e->opts->prefix;
  const TrainOptions *o = e->opts->train;
  TrainLayout l = train_layout(g, o);
  char *params_blob = cn_format("%s_params", P), *train_blob = cn_format("%s_train", P);
  unsigned char *bytes = cn_alloc((size_t)l.params_bytes);
  for (int k = 0; k < l.n_params; k++)
    memcpy(bytes + l.param_offset[k], l.params[k]->init, (size_t)value_bytes(l.params[k]));
  for (int k = 0; k < l.n_states; k++)
    memcpy(bytes + l.state_offset[k], l.states[k]->init, (size_t)value_bytes(l.states[k]));
  fprintf(e->out, "/* Trainable tensors and running statistics, %lld bytes, mutable: the optimizer updates them. */\n",
          (long long)l.params_bytes);
  emit_blob(e, false, params_blob, bytes, l.params_bytes);
  cn_free(bytes);
  for (int pass = 0; pass < 2; pass++) {
    int count = pass ? l.n_states : l.n_params;
    for (int k = 0; k < count; k++) {
      Value *v = pass ? l.states[k] : l.params[k];
      int64_t offset = pass ? l.state_offset[k] : l.param_offset[k];
      names[v->id] = cn_format("p%d_%s", v->id, cn_sanitize_ident(v->name, 40));
      fprintf(e->out, "/* %s '%s' %s */\n", pass ? "running statistic" : "parameter", cn_escape_comment(v->name, 200),
              emit_dims_comment(v));
      fprintf(e->out, "static %s *const %s = %s;\n", dtype_ctype(v->dtype), names[v->id],
              blob_element(params_blob, v->dtype, offset));
    }
  }
  fprintf(e->out, "\n/* The optimizer's step count and moments (%lld bytes), the gradients, and the outputs of the "
                  "training step's forward. */\n",
          (long long)l.optimizer_bytes);
  emit_blob(e, false, train_blob, NULL, l.train_bytes);
  for (int k = 0; k < l.n_params; k++) {
    Value *grad = l.params[k]->grad;
    if (!grad || names[grad->id])
      continue;
    names[grad->id] = cn_format("grad%d_%s", k, cn_sanitize_ident(l.params[k]->name, 40));
    fprintf(e->out, "static %s *const %s = %s;\n", dtype_ctype(grad->dtype), names[grad->id],
            blob_element(train_blob, grad->dtype, l.value_offset[grad->id]));
  }
  fprintf(e->out, "\n/* P_train_step sets it, P_run clears it: BatchNormalization and Dropout read it. */\n");
  fprintf(e->out, "static bool %s;\n", EMIT_TRAINING);
  fprintf(e->out, "/* Dropout's counter-based generator: masks hash the seed, the step, the node, the element. */\n");
  fprintf(e->out, "static uint64_t %s = %lluu, %s;\n", EMIT_RNG_SEED, (unsigned long long)o->seed, EMIT_RNG_STEP);
  fprintf(e->out, "static double learning_rate = %s;\n\n", emit_float(o->lr, DT_DOUBLE));
}

/* The optimizer's per-parameter update, a loop in the order of operations of torch.optim's single-tensor code
 * (weight decay, moments, step), so that one step agrees with PyTorch to float rounding. */
static void emit_update_function(Emitter *e, const TrainOptions *o, DType t) {
  const char *T = dtype_ctype(t);
  char *wd = emit_float(o->weight_decay, t);
  if (o->optimizer == OPTIMIZER_SGD) {
    emitf(e, "/* torch.optim.SGD: momentum %g, dampening 0, weight decay %g%s */", o->momentum, o->weight_decay,
          o->nesterov ? ", Nesterov" : "");
    emitf(e, "static void sgd_update(%s *restrict param, const %s *restrict grad, %s%s int64_t count, %s neg_lr, "
             "bool first)",
          T, T, o->momentum != 0 ? T : "", o->momentum != 0 ? " *restrict velocity," : "", T);
    emitf(e, "{");
    if (o->momentum == 0)
      emitf(e, "(void)first;");
    emitf(e, "for (int64_t i = 0; i < count; i++) {");
    emitf(e, "%s d = grad[i];", T);
    if (o->weight_decay != 0)
      emitf(e, "d = d + %s * param[i];", wd);
    if (o->momentum != 0) {
      char *m = emit_float(o->momentum, t);
      emitf(e, "velocity[i] = first ? d : velocity[i] * %s + d;", m);
      if (o->nesterov)
        emitf(e, "d = d + %s * velocity[i];", m);
      else
        emitf(e, "d = velocity[i];");
    }
    emitf(e, "param[i] = param[i] + neg_lr * d;");
    emitf(e, "}");
    emitf(e, "}");
    fputc('\n', e->out);
    return;
  }
  bool decoupled = o->optimizer == OPTIMIZER_ADAMW && o->weight_decay != 0;
  emitf(e, "/* torch.optim.%s: betas (%g, %g), eps %g, weight decay %g */", o->optimizer == OPTIMIZER_ADAM ? "Adam" : "AdamW",
        o->beta1, o->beta2, o->eps, o->weight_decay);
  emitf(e, "static void adam_update(%s *restrict param, const %s *restrict grad, %s *restrict exp_avg, "
           "%s *restrict exp_avg_sq, int64_t count, %s step_size, %s bias_correction2_sqrt%s%s%s)",
        T, T, T, T, T, T, decoupled ? ", " : "", decoupled ? T : "", decoupled ? " decay" : "");
  emitf(e, "{");
  emitf(e, "for (int64_t i = 0; i < count; i++) {");
  emitf(e, "%s g = grad[i];", T);
  if (o->optimizer == OPTIMIZER_ADAM && o->weight_decay != 0)
    emitf(e, "g = g + %s * param[i];", wd);
  if (decoupled)
    emitf(e, "param[i] = param[i] * decay; /* 1 - lr * weight_decay */");
  emitf(e, "exp_avg[i] = exp_avg[i] * %s + %s * g;", emit_float(o->beta1, t), emit_float(1 - o->beta1, t));
  emitf(e, "exp_avg_sq[i] = exp_avg_sq[i] * %s + %s * g * g;", emit_float(o->beta2, t), emit_float(1 - o->beta2, t));
  emitf(e, "const %s denom = %s(exp_avg_sq[i]) / bias_correction2_sqrt + %s;", T, emit_math_fn("sqrt", t),
        emit_float(o->eps, t));
  emitf(e, "param[i] = param[i] + -step_size * (exp_avg[i] / denom);");
  emitf(e, "}");
  emitf(e, "}");
  fputc('\n', e->out);
}

static void emit_update_calls(Emitter *e, const TrainLayout *l, const TrainOptions *o, char *const *names) {
  const char *T = dtype_ctype(l->t);
  const char *blob = cn_format("%s_train", e->opts->prefix);
  emitf(e, "int64_t *const steps = &%s.v_int64[0];", blob);
  if (o->optimizer == OPTIMIZER_SGD) {
    emitf(e, "const bool first = *steps == 0;");
    emitf(e, "const %s neg_lr = (%s)-learning_rate;", T, T);
  } else {
    emitf(e, "++*steps;");
    emitf(e, "const double bias_correction1 = 1 - pow(%s, (double)*steps);", emit_float(o->beta1, DT_DOUBLE));
    emitf(e, "const double bias_correction2 = 1 - pow(%s, (double)*steps);", emit_float(o->beta2, DT_DOUBLE));
    emitf(e, "const %s step_size = (%s)(learning_rate / bias_correction1);", T, T);
    emitf(e, "const %s bias_correction2_sqrt = (%s)sqrt(bias_correction2);", T, T);
    if (o->optimizer == OPTIMIZER_ADAMW && o->weight_decay != 0)
      emitf(e, "const %s decay = (%s)(1 - learning_rate * %s);", T, T, emit_float(o->weight_decay, DT_DOUBLE));
  }
  for (int k = 0; k < l->n_params; k++) {
    Value *v = l->params[k];
    if (!v->grad) {
      emitf(e, "/* '%s' does not reach the loss: no gradient, no update */", cn_escape_comment(v->name, 200));
      continue;
    }
    long long count = (long long)value_count(v);
    char *moment = blob_element(blob, v->dtype, l->moment_offset[k]);
    char *second = blob_element(blob, v->dtype, l->moment_offset[k] + value_bytes(v));
    if (o->optimizer == OPTIMIZER_SGD)
      emitf(e, "sgd_update(%s, %s, %s%s%lld, neg_lr, first);", names[v->id], names[v->grad->id],
            l->moments ? moment : "", l->moments ? ", " : "", count);
    else
      emitf(e, "adam_update(%s, %s, %s, %s, %lld, step_size, bias_correction2_sqrt%s);", names[v->id],
            names[v->grad->id], moment, second, count,
            o->optimizer == OPTIMIZER_ADAMW && o->weight_decay != 0 ? ", decay" : "");
  }
  if (o->optimizer == OPTIMIZER_SGD)
    emitf(e, "++*steps;");
}

static void emit_train_step(Emitter *e, const EmitProgram *p, const TrainLayout *l) {
  const char *P = e->opts->prefix;
  const Graph *g = p->graph;
  const Node *loss = backward_loss_node(g);
  Value *targets = loss->in[1], *loss_value = loss->out[0];
  char **names = cn_alloc_array((size_t)g->n_values, sizeof *names);
  memcpy(names, p->names, (size_t)g->n_values * sizeof *names);
  const char *train_blob = cn_format("%s_train", P);

  emitf(e, "int %s_train_step(const void *const inputs[], const void *const targets[], %s *loss)", P,
        dtype_ctype(loss_value->dtype));
  emitf(e, "{");
  emitf(e, "if (!inputs || !targets || !loss) return -1;");
  for (int j = 0; j < g->n_inputs; j++) {
    Value *v = g->inputs[j];
    const char *T = dtype_ctype(v->dtype);
    emitf(e, "const %s *in%d = (const %s *)inputs[%d]; /* '%s' */", T, j, T, j, cn_escape_comment(v->name, 100));
    emitf(e, "if (!in%d) return -1;", j);
  }
  const char *TT = dtype_ctype(targets->dtype);
  emitf(e, "const %s *tgt0 = (const %s *)targets[0]; /* %s */", TT, TT,
        targets->dtype == DT_INT64 ? "class indices" : "shaped like output 0");
  emitf(e, "if (!tgt0) return -1;");
  names[targets->id] = "tgt0";
  if (targets->dtype == DT_INT64) {
    int64_t classes = loss->in[0]->dims[1];
    emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)value_count(targets));
    emitf(e, "  if (tgt0[i] < 0 || tgt0[i] >= %lld) return -2; /* not a class index */", (long long)classes);
  }
  emitf(e, "%s loss_value[1];", dtype_ctype(loss_value->dtype));
  names[loss_value->id] = "loss_value";
  for (int j = 0; j < g->n_outputs; j++) {
    Value *v = g->outputs[j];
    if (l->value_offset[v->id] >= 0)
      names[v->id] = blob_element(train_blob, v->dtype, l->value_offset[v->id]);
  }
  fputc('\n', e->out);
  emitf(e, "%s = true;", EMIT_TRAINING);
  emit_calls(e, p, names, true);
  fputc('\n', e->out);
  emit_update_calls(e, l, e->opts->train, names);
  emitf(e, "%s++;", EMIT_RNG_STEP);
  emitf(e, "*loss = loss_value[0];");
  emitf(e, "return 0;");
  emitf(e, "}");
  fputc('\n', e->out);
}

/* P_<what>_info and a table of element pointers (address constants: `storage`, per tensor) for
 * P_get_<what>/P_set_<what>. */
static void emit_tensor_table(Emitter *e, const char *what, Value **vals, int n, char *const *storage) {
  const char *P = e->opts->prefix;
  for (int j = 0; j < n; j++) {
    Value *v = vals[j];
    char *dims = cn_strdup("");
    for (int i = 0; i < v->rank; i++)
      dims = cn_format("%s%s%lld", dims, i ? ", " : "", (long long)v->dims[i]);
    emitf(e, "static const int64_t %s_%s%d_dims[] = {%s};", P, what, j, v->rank ? dims : "0");
  }
  emitf(e, "const cnnc_tensor_info %s_%s_info[] = {", P, what);
  for (int j = 0; j < n; j++) {
    Value *v = vals[j];
    emitf(e, "{\"%s\", %d, %zu, %d, %s_%s%d_dims, %lld},", cn_escape_c_string(v->name, 4096), v->dtype,
          dtype_size(v->dtype), v->rank, P, what, j, (long long)value_count(v));
  }
  emitf(e, "{NULL, 0, 0, 0, NULL, 0},");
  emitf(e, "};");
  emitf(e, "static %s *const %s_data[] = {", dtype_ctype(n ? vals[0]->dtype : DT_FLOAT), what);
  for (int j = 0; j < n; j++)
    emitf(e, "%s,", storage[j]);
  if (n == 0)
    emitf(e, "NULL,");
  emitf(e, "};");
  fputc('\n', e->out);
}

/* int P_get_<what>(int i, T *dst) and P_set_<what>: copies of tensor i of the table, whole. */
static void emit_accessors(Emitter *e, const char *what, int n, DType t) {
  const char *P = e->opts->prefix, *T = dtype_ctype(t);
  for (int set = 0; set < 2; set++) {
    const char *ptr = set ? "src" : "dst";
    emitf(e, "int %s_%s_%s(int i, %s%s *%s)", P, set ? "set" : "get", what, set ? "const " : "", T, ptr);
    emitf(e, "{");
    if (n == 0) {
      emitf(e, "(void)i, (void)%s, (void)%s_data;", ptr, what);
      emitf(e, "return -1; /* there are none */");
    } else {
      emitf(e, "if (i < 0 || i >= %d || !%s) return -1;", n, ptr);
      if (set)
        emitf(e, "memcpy(%s_data[i], src, %s_%s_info[i].count * sizeof *src);", what, P, what);
      else
        emitf(e, "memcpy(dst, %s_data[i], %s_%s_info[i].count * sizeof *dst);", what, P, what);
      emitf(e, "return 0;");
    }
    emitf(e, "}");
    fputc('\n', e->out);
  }
}

void emit_train_entries(Emitter *e, const EmitProgram *p) {
  const char *P = e->opts->prefix;
  const TrainOptions *o = e->opts->train;
  Graph *g = p->graph;
  TrainLayout l = train_layout(g, o);
  const char *T = dtype_ctype(l.t);
  emit_update_function(e, o, l.t);
  emit_train_step(e, p, &l);

  char *params_blob = cn_format("%s_params", P), *train_blob = cn_format("%s_train", P);
  char **storage = cn_alloc_array((size_t)l.n_params + l.n_states + 1, sizeof *storage);
  for (int k = 0; k < l.n_params; k++)
    storage[k] = blob_element(params_blob, l.params[k]->dtype, l.param_offset[k]);
  emit_tensor_table(e, "param", l.params, l.n_params, storage);
  for (int k = 0; k < l.n_states; k++)
    storage[k] = blob_element(params_blob, l.states[k]->dtype, l.state_offset[k]);
  emit_tensor_table(e, "state", l.states, l.n_states, storage);
  emit_accessors(e, "param", l.n_params, l.t);
  emit_accessors(e, "state", l.n_states, l.n_states ? l.states[0]->dtype : l.t);

  emitf(e, "static const %s *const grad_data[] = {", T);
  for (int k = 0; k < l.n_params; k++) {
    Value *grad = l.params[k]->grad;
    emitf(e, "%s,", grad ? blob_element(train_blob, grad->dtype, l.value_offset[grad->id]) : "NULL");
  }
  emitf(e, "};");
  fputc('\n', e->out);
  emitf(e, "int %s_get_grad(int i, %s *dst)", P, T);
  emitf(e, "{");
  emitf(e, "if (i < 0 || i >= %d || !dst) return -1;", l.n_params);
  emitf(e, "if (grad_data[i])");
  emitf(e, "  memcpy(dst, grad_data[i], %s_param_info[i].count * sizeof *dst);", P);
  emitf(e, "else /* the loss does not depend on it */");
  emitf(e, "  memset(dst, 0, %s_param_info[i].count * sizeof *dst);", P);
  emitf(e, "return 0;");
  emitf(e, "}");
  fputc('\n', e->out);

  emitf(e, "void %s_set_learning_rate(float lr) { learning_rate = lr; }", P);
  emitf(e, "float %s_get_learning_rate(void) { return (float)learning_rate; }", P);
  fputc('\n', e->out);
  emitf(e, "int %s_get_optimizer_state(void *dst)", P);
  emitf(e, "{");
  emitf(e, "if (!dst) return -1;");
  emitf(e, "memcpy(dst, %s_train.bytes, %lld);", P, (long long)l.optimizer_bytes);
  emitf(e, "return 0;");
  emitf(e, "}");
  fputc('\n', e->out);
  emitf(e, "int %s_set_optimizer_state(const void *src)", P);
  emitf(e, "{");
  emitf(e, "if (!src) return -1;");
  emitf(e, "memcpy(%s_train.bytes, src, %lld);", P, (long long)l.optimizer_bytes);
  emitf(e, "return 0;");
  emitf(e, "}");
  fputc('\n', e->out);
  emitf(e, "void %s_set_rng(uint64_t seed, uint64_t step)", P);
  emitf(e, "{");
  emitf(e, "%s = seed;", EMIT_RNG_SEED);
  emitf(e, "%s = step;", EMIT_RNG_STEP);
  emitf(e, "}");
  fputc('\n', e->out);
  emitf(e, "void %s_get_rng(uint64_t *seed, uint64_t *step)", P);
  emitf(e, "{");
  emitf(e, "if (seed) *seed = %s;", EMIT_RNG_SEED);
  emitf(e, "if (step) *step = %s;", EMIT_RNG_STEP);
  emitf(e, "}");
  fputc('\n', e->out);
}

void emit_train_header(FILE *h, const Graph *g, const EmitOptions *o) {
  const char *P = o->prefix;
  const TrainOptions *t = o->train;
  TrainLayout l = train_layout(g, t);
  const char *T = dtype_ctype(l.t);
  const Node *loss = backward_loss_node(g);
  const Value *targets = loss->in[1];
  fprintf(h, "/* Training (cnnc --train): one step of %s on the %s loss, at batch %s_BATCH. P_run above runs the\n"
             "   model at that batch with the current parameters and running statistics. */\n",
          optimizer_name(t->optimizer), loss_name(t->loss), P);
  fprintf(h, "#define %s_BATCH %lld\n", P, (long long)(g->n_inputs && g->inputs[0]->rank ? g->inputs[0]->dims[0] : 1));
  fprintf(h, "#define %s_NUM_PARAMS %d\n", P, l.n_params);
  fprintf(h, "/* targets[0] of %s_train_step: %s */\n", P,
          targets->dtype == DT_INT64 ? "int64_t class indices, one per sample" : "shaped like output 0");
  fprintf(h, "#define %s_TARGET_ELEM_TYPE %d\n#define %s_TARGET_COUNT %lld\n\n", P, targets->dtype, P,
          (long long)value_count(targets));
  fprintf(h, "/* The trainable tensors: name (the initializer's), dims in the ONNX shape; ends with name NULL. */\n");
  fprintf(h, "extern const cnnc_tensor_info %s_param_info[];\n", P);
  fprintf(h, "/* Copy trainable tensor i out (dense row-major in its ONNX shape), or in. */\n");
  fprintf(h, "int %s_get_param(int i, %s *dst);\nint %s_set_param(int i, const %s *src);\n", P, T, P, T);
  fprintf(h, "/* d(loss)/d(param i) of the last %s_train_step, before the update. */\n", P);
  fprintf(h, "int %s_get_grad(int i, %s *dst);\n", P, T);
  fprintf(h, "/* One step on one batch: forward in training mode, loss (mean over the batch), backward, optimizer\n"
             "   update. targets[0]: int64_t[%s_BATCH] class indices for cross-entropy/nll; for mse, values shaped\n"
             "   like output 0. Returns 0, -1 for a NULL pointer, -2 for a class index out of range. */\n",
          P);
  fprintf(h, "int %s_train_step(const void *const inputs[], const void *const targets[], %s *loss);\n", P,
          dtype_ctype(loss->out[0]->dtype));
  fprintf(h, "void %s_set_learning_rate(float lr);\nfloat %s_get_learning_rate(void);\n\n", P, P);
  fprintf(h, "/* For checkpoints: the running statistics (BatchNormalization's mean and variance), like the\n"
             "   parameters; the optimizer's step count and moments as opaque bytes; Dropout's generator. */\n");
  fprintf(h, "#define %s_NUM_STATES %d\n", P, l.n_states);
  fprintf(h, "extern const cnnc_tensor_info %s_state_info[];\n", P);
  const char *TS = l.n_states ? dtype_ctype(l.states[0]->dtype) : T;
  fprintf(h, "int %s_get_state(int i, %s *dst);\nint %s_set_state(int i, const %s *src);\n", P, TS, P, TS);
  fprintf(h, "#define %s_OPTIMIZER_STATE_BYTES %lld\n", P, (long long)l.optimizer_bytes);
  fprintf(h, "int %s_get_optimizer_state(void *dst);\nint %s_set_optimizer_state(const void *src);\n", P, P);
  fprintf(h, "/* Dropout's masks depend on the seed and the step, which counts training steps from 0. */\n");
  fprintf(h, "void %s_set_rng(uint64_t seed, uint64_t step);\nvoid %s_get_rng(uint64_t *seed, uint64_t *step);\n\n", P,
          P);
}
