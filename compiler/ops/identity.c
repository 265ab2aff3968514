/* Identity and Dropout (inference: a copy; Dropout's optional mask is all true). */
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

const OpDesc op_identity = {
    .kind = OP_IDENTITY, .name = "Identity", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = identity_infer, .fold = copy_fold, .emit = copy_emit,
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
