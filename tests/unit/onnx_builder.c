#include "onnx_builder.h"

#include "cnnc.h"

#include <string.h>

void ob_init(OnnxBuilder *b, int64_t opset) {
  memset(b, 0, sizeof *b);
  onnx__model_proto__init(&b->model);
  onnx__graph_proto__init(&b->graph);
  onnx__operator_set_id_proto__init(&b->opset);
  b->opset.domain = "";
  b->opset.has_version = 1;
  b->opset.version = opset;
  b->opsets[0] = &b->opset;
  b->model.has_ir_version = 1;
  b->model.ir_version = 7;
  b->model.n_opset_import = 1;
  b->model.opset_import = b->opsets;
  b->model.producer_name = "cnnc-tests";
  b->model.graph = &b->graph;
  b->graph.name = "test";
}

#define APPEND(array, count, item)                                                                                   \
  do {                                                                                                               \
    void *grown_ = cn_alloc_array((count) + 1, sizeof *(array));                                                     \
    if (count)                                                                                                       \
      memcpy(grown_, (array), (count) * sizeof *(array));                                                            \
    (array) = grown_;                                                                                                \
    (array)[(count)++] = (item);                                                                                     \
  } while (0)

static Onnx__ValueInfoProto *value_info(const char *name, int elem_type, int rank, const int64_t *dims) {
  Onnx__ValueInfoProto *vi = cn_alloc(sizeof *vi);
  Onnx__TypeProto *tp = cn_alloc(sizeof *tp);
  Onnx__TypeProto__Tensor *tt = cn_alloc(sizeof *tt);
  Onnx__TensorShapeProto *shape = cn_alloc(sizeof *shape);
  onnx__value_info_proto__init(vi);
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(shape);
  for (int i = 0; i < rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = cn_alloc(sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if (dims[i] >= 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = "N";
    }
    APPEND(shape->dim, shape->n_dim, d);
  }
  tt->has_elem_type = 1;
  tt->elem_type = elem_type;
  tt->shape = shape;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->name = (char *)name;
  vi->type = tp;
  return vi;
}

void ob_input(OnnxBuilder *b, const char *name, int elem_type, int rank, const int64_t *dims) {
  APPEND(b->graph.input, b->graph.n_input, value_info(name, elem_type, rank, dims));
}

void ob_output(OnnxBuilder *b, const char *name, int elem_type, int rank, const int64_t *dims) {
  APPEND(b->graph.output, b->graph.n_output, value_info(name, elem_type, rank, dims));
}

Onnx__TensorProto *ob_initializer(OnnxBuilder *b, const char *name, int rank, const int64_t *dims,
                                  const float *values, size_t raw_bytes) {
  Onnx__TensorProto *t = cn_alloc(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->has_data_type = 1;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t->n_dims = (size_t)rank;
  t->dims = (int64_t *)dims;
  t->has_raw_data = 1;
  t->raw_data.len = raw_bytes;
  t->raw_data.data = (uint8_t *)values;
  APPEND(b->graph.initializer, b->graph.n_initializer, t);
  return t;
}

void ob_external_entry(Onnx__TensorProto *t, const char *key, const char *value) {
  Onnx__StringStringEntryProto *e = cn_alloc(sizeof *e);
  onnx__string_string_entry_proto__init(e);
  e->key = (char *)key;
  e->value = (char *)value;
  APPEND(t->external_data, t->n_external_data, e);
}

Onnx__TensorProto *ob_external_initializer(OnnxBuilder *b, const char *name, int rank, const int64_t *dims,
                                           const char *location, int64_t offset, int64_t length) {
  Onnx__TensorProto *t = ob_initializer(b, name, rank, dims, NULL, 0);
  t->has_raw_data = 0;
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  ob_external_entry(t, "location", location);
  if (offset >= 0)
    ob_external_entry(t, "offset", cn_format("%lld", (long long)offset));
  if (length >= 0)
    ob_external_entry(t, "length", cn_format("%lld", (long long)length));
  return t;
}

Onnx__NodeProto *ob_node(OnnxBuilder *b, const char *name, const char *op_type, int n_in, const char *const *ins,
                         int n_out, const char *const *outs) {
  Onnx__NodeProto *n = cn_alloc(sizeof *n);
  onnx__node_proto__init(n);
  n->name = (char *)name;
  n->op_type = (char *)op_type;
  n->n_input = (size_t)n_in;
  n->input = (char **)ins;
  n->n_output = (size_t)n_out;
  n->output = (char **)outs;
  APPEND(b->graph.node, b->graph.n_node, n);
  return n;
}

static Onnx__AttributeProto *new_attr(Onnx__NodeProto *n, const char *name, Onnx__AttributeProto__AttributeType t) {
  Onnx__AttributeProto *a = cn_alloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_type = 1;
  a->type = t;
  APPEND(n->attribute, n->n_attribute, a);
  return a;
}

void ob_attr_int(Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
}

void ob_attr_float(Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = v;
}

void ob_attr_ints(Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
  Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = (size_t)count;
  a->ints = (int64_t *)v;
}

void ob_attr_string(Onnx__NodeProto *n, const char *name, const char *v) {
  Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.len = strlen(v);
  a->s.data = (uint8_t *)v;
}

void ob_attr_ref(Onnx__NodeProto *n, const char *name, const char *ref, Onnx__AttributeProto__AttributeType type) {
  new_attr(n, name, type)->ref_attr_name = (char *)ref;
}

Onnx__FunctionProto *ob_function(OnnxBuilder *b, const char *domain, const char *name, int n_in,
                                 const char *const *ins, int n_out, const char *const *outs, int n_attrs,
                                 const char *const *attrs) {
  Onnx__FunctionProto *fn = cn_alloc(sizeof *fn);
  onnx__function_proto__init(fn);
  fn->domain = (char *)domain;
  fn->name = (char *)name;
  fn->n_input = (size_t)n_in;
  fn->input = (char **)ins;
  fn->n_output = (size_t)n_out;
  fn->output = (char **)outs;
  fn->n_attribute = (size_t)n_attrs;
  fn->attribute = (char **)attrs;
  APPEND(b->model.functions, b->model.n_functions, fn);
  Onnx__OperatorSetIdProto *import = cn_alloc(sizeof *import);
  onnx__operator_set_id_proto__init(import);
  import->domain = (char *)domain;
  import->has_version = 1;
  import->version = 1;
  APPEND(b->model.opset_import, b->model.n_opset_import, import);
  return fn;
}

Onnx__NodeProto *ob_function_node(OnnxBuilder *b, Onnx__FunctionProto *fn, const char *domain, const char *op_type,
                                  int n_in, const char *const *ins, int n_out, const char *const *outs) {
  Onnx__NodeProto *n = cn_alloc(sizeof *n);
  onnx__node_proto__init(n);
  n->name = cn_format("%s_%zu", op_type, fn ? fn->n_node : b->graph.n_node);
  n->domain = (char *)domain;
  n->op_type = (char *)op_type;
  n->n_input = (size_t)n_in;
  n->input = (char **)ins;
  n->n_output = (size_t)n_out;
  n->output = (char **)outs;
  if (fn)
    APPEND(fn->node, fn->n_node, n);
  else
    APPEND(b->graph.node, b->graph.n_node, n);
  return n;
}

void ob_function_default_float(Onnx__FunctionProto *fn, const char *name, float v) {
  Onnx__AttributeProto a;
  onnx__attribute_proto__init(&a);
  a.name = (char *)name;
  a.has_type = 1;
  a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  a.has_f = 1;
  a.f = v;
  /* protobuf-c keeps a length-delimited unknown field's length prefix in its data (one byte here) */
  size_t size = onnx__attribute_proto__get_packed_size(&a);
  CN_ASSERT(size < 128);
  ProtobufCMessageUnknownField field = {.tag = 11, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, .len = size + 1};
  field.data = cn_alloc(field.len);
  field.data[0] = (uint8_t)size;
  onnx__attribute_proto__pack(&a, field.data + 1);
  APPEND(fn->base.unknown_fields, fn->base.n_unknown_fields, field);
}

void ob_function_opset(Onnx__FunctionProto *fn, int64_t version) {
  Onnx__OperatorSetIdProto *import = cn_alloc(sizeof *import);
  onnx__operator_set_id_proto__init(import);
  import->domain = "";
  import->has_version = 1;
  import->version = version;
  APPEND(fn->opset_import, fn->n_opset_import, import);
}

size_t ob_write(OnnxBuilder *b, const char *path) {
  size_t size = onnx__model_proto__get_packed_size(&b->model);
  uint8_t *buf = cn_alloc(size);
  onnx__model_proto__pack(&b->model, buf);
  FILE *f = fopen(path, "wb");
  CN_ASSERT(f && fwrite(buf, 1, size, f) == size && fclose(f) == 0);
  return size;
}
