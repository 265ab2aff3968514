/* Reorder: cnnc's own op, inserted by the layout pass (layout.c) to move a tensor between row-major and
 * channel-blocked storage. The output has the input's shape; the two values' layouts say which way it goes.
 * The kernel is templates/reorder.c. */
#include "../cnnc.h"

static void reorder_infer(Graph *g, Node *n) {
  (void)g;
  infer_same_as_input(n, 0);
}

static void reorder_emit(Emitter *e, const Node *n) {
  const Value *x = n->in[0], *y = n->out[0];
  CN_ASSERT(x->layout != y->layout && x->dtype == DT_FLOAT && x->rank >= 2);
  const Value *blocked = y->layout == LAYOUT_NCHWC ? y : x;
  CN_ASSERT(blocked->block == target_vector_floats(e->opts->target));
  char *fn = cn_format("%s_kernel", emit_function_name(n));
  Instance *t = tpl_begin(e, "reorder.c", fn);
  tpl_int(t, "BATCH", x->dims[0]);
  tpl_int(t, "C", x->dims[1]);
  tpl_int(t, "SPATIAL", plane_size(x));
  tpl_int(t, "TO_BLOCKED", y->layout == LAYOUT_NCHWC);
  tpl_end(t);
  emitf(e, "%s(%s, %s);", fn, emit_in(n, 0), emit_out(n, 0));
}

const OpDesc op_reorder = {
    .kind = OP_REORDER, .name = "Reorder", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = reorder_infer, .emit = reorder_emit, .internal = true,
};
