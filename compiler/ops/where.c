/* Where: y = condition ? x : y element by element, the three inputs broadcast together. The generated code is
 *
 *   for (int64_t i0 = 0; i0 < 2; i0++) {
 *     for (int64_t i1 = 0; i1 < 2; i1++) {
 *       Y0[i0 * 2 + i1] = X0[i0 * 2 + i1] ? X1[i1] : X2[i0 * 2 + i1];
 *     }
 *   }
 */
#include "../cnnc.h"

#include <string.h>

static void where_infer(Graph *g, Node *n) {
  (void)g;
  Value *cond = n->in[0], *x = n->in[1], *y = n->in[2];
  if (cond->dtype != DT_BOOL)
    cn_error_node(n, "the condition has element type %s; Where needs bool", dtype_name(cond->dtype));
  if (x->dtype != y->dtype)
    cn_error_node(n, "X and Y have element types %s and %s; Where needs both the same", dtype_name(x->dtype),
                  dtype_name(y->dtype));
  infer_broadcast(n, x->dtype);
}

static void where_fold(Graph *g, Node *n) {
  (void)g;
  Value *out = n->out[0];
  size_t size = dtype_size(out->dtype);
  for (int64_t i = 0; i < value_count(out); i++) {
    bool take_x = ((const bool *)n->in[0]->data)[broadcast_offset(out, n->in[0], i)];
    const Value *from = take_x ? n->in[1] : n->in[2];
    memcpy((char *)out->data + i * (int64_t)size, (const char *)from->data + broadcast_offset(out, from, i) * (int64_t)size,
           size);
  }
}

static void where_emit(Emitter *e, const Node *n) {
  char *in_index[3], *out_index;
  int loops = emit_elementwise_loops(e, n->out[0], 3, (const Value *const *)n->in, in_index, &out_index);
  emitf(e, "%s[%s] = %s[%s] ? %s[%s] : %s[%s];", emit_out(n, 0), out_index, emit_in(n, 0), in_index[0], emit_in(n, 1),
        in_index[1], emit_in(n, 2), in_index[2]);
  emit_close(e, loops);
}

const OpDesc op_where = {
    .kind = OP_WHERE, .name = "Where", .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = where_infer, .fold = where_fold, .emit = where_emit,
};
