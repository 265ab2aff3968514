/* Constant and ConstantOfShape: outputs known at compile time. Constant sets its output's data in infer (it has
 * no inputs to wait for); ConstantOfShape folds like any op, since its shape input must be constant anyway. */
#include "../cnnc.h"

#include <string.h>

/* The attributes that can hold Constant's value; exactly one must be given. */
static const char *const value_attrs[] = {"value",      "value_float", "value_floats", "value_int",
                                          "value_ints", "sparse_value", "value_string", "value_strings"};

static void constant_infer(Graph *g, Node *n) {
  (void)g;
  const Attr *a = NULL;
  for (size_t k = 0; k < sizeof value_attrs / sizeof value_attrs[0]; k++) {
    const Attr *found = node_attr(n, value_attrs[k]);
    if (found && a)
      cn_error_node(n, "has both '%s' and '%s'; a Constant takes exactly one value attribute", a->name, found->name);
    if (found)
      a = found;
  }
  if (!a)
    cn_error_node(n, "has no value attribute ('value', 'value_float', 'value_floats', 'value_int' or 'value_ints')");
  if (strcmp(a->name, "sparse_value") == 0)
    cn_error_node(n, "sparse tensors ('sparse_value') are not supported");
  if (strncmp(a->name, "value_string", 12) == 0)
    cn_error_node(n, "string tensors ('%s') are not supported", a->name);

  Value *y = n->out[0];
  if (strcmp(a->name, "value") == 0) {
    Value *t = attr_tensor(n, "value");
    if (!t)
      cn_error_node(n, "attribute 'value' holds no tensor");
    value_set_shape(y, n, t->dtype, t->rank, t->dims);
    y->data = t->data;
  } else {
    bool is_float = strncmp(a->name, "value_float", 11) == 0;
    bool is_list = a->name[strlen(a->name) - 1] == 's';
    if (a->type != (is_float ? (is_list ? ATTR_FLOATS : ATTR_FLOAT) : (is_list ? ATTR_INTS : ATTR_INT)))
      cn_error_node(n, "attribute '%s' has the wrong type", a->name);
    int64_t count = is_list ? a->n : 1;
    value_set_shape(y, n, is_float ? DT_FLOAT : DT_INT64, is_list ? 1 : 0, &count);
    y->data = cn_alloc((size_t)value_bytes(y));
    const void *from = is_float ? (is_list ? (const void *)a->floats : &a->f) : (is_list ? (const void *)a->ints : &a->i);
    if (count > 0)
      memcpy(y->data, from, (size_t)value_bytes(y));
  }
  fold_mark_folded(n);
}

const OpDesc op_constant = {
    .kind = OP_CONSTANT, .name = "Constant", .min_in = 0, .max_in = 0, .min_out = 1, .max_out = 1,
    .infer = constant_infer, /* no emit: infer always folds the node */
};

static void constant_of_shape_infer(Graph *g, Node *n) {
  (void)g;
  int count;
  int64_t *shape = node_const_ints(n, 0, "shape", &count);
  if (count > CN_MAX_RANK)
    cn_error_node(n, "the shape has %d dimensions; cnnc supports up to %d", count, CN_MAX_RANK);
  Value *value = attr_tensor(n, "value");
  if (value && value_count(value) != 1)
    cn_error_node(n, "attribute 'value' must hold one element, not %s", value_shape_string(value));
  if (!value) {
    value = cn_alloc(sizeof *value);
    value->name = "zero";
    value_set_shape(value, n, DT_FLOAT, 0, NULL);
    value->data = cn_alloc(sizeof(float));
  }
  n->params = value;
  value_set_shape(n->out[0], n, value->dtype, count, shape);
}

static void constant_of_shape_fold(Graph *g, Node *n) {
  (void)g;
  const Value *value = n->params;
  Value *y = n->out[0];
  size_t elem = dtype_size(y->dtype);
  for (int64_t i = 0; i < value_count(y); i++)
    memcpy((char *)y->data + i * (int64_t)elem, value->data, elem);
}

/* Only outputs too large to fold get here. */
static void constant_of_shape_emit(Emitter *e, const Node *n) {
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", (long long)value_count(n->out[0]));
  emitf(e, "%s[i] = %s;", emit_out(n, 0), emit_value_literal(n->params, 0));
  emitf(e, "}");
}

const OpDesc op_constant_of_shape = {
    .kind = OP_CONSTANT_OF_SHAPE, .name = "ConstantOfShape", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = constant_of_shape_infer, .fold = constant_of_shape_fold, .emit = constant_of_shape_emit,
};
