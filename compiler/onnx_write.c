/* ONNX writer: a graph as the model describes it (after shape inference and dead-code removal, before the
 * fusion and layout passes) becomes a ModelProto file, for --emit=onnx and the trainer's --export.
 *
 * protobuf-c packs the small messages (nodes, inputs, outputs, the model's header fields). The graph field and
 * the initializers are framed here by hand, because protobuf allows a message's fields in any order: the
 * weights then go from their buffers to the file without a copy into protobuf-c's structures, and the byte
 * offset of every initializer's raw data in the file is known, so a program can write new weights into a copy
 * of the file without a protobuf library (OnnxWriteOptions.raw_offsets). */
#include "cnnc.h"
#include "onnx.pb-c.h"

#include <stdlib.h>
#include <string.h>

/* IR version 8 (ONNX 1.10) reads every opset up to 17, the newest cnnc writes. */
#define IR_VERSION 8

/* Field numbers and wire type 2 (length-delimited) of the fields framed by hand. */
enum {
  TAG_MODEL_GRAPH = 7 << 3 | 2,
  TAG_GRAPH_INITIALIZER = 5 << 3 | 2,
  TAG_TENSOR_RAW_DATA = 9 << 3 | 2,
};

static size_t varint_size(uint64_t x) {
  size_t n = 1;
  while (x >= 0x80) {
    x >>= 7;
    n++;
  }
  return n;
}

static void write_bytes(FILE *out, const void *data, size_t size) {
  if (size && fwrite(data, 1, size, out) != size)
    cn_error("cannot write the ONNX file");
}

static void write_varint(FILE *out, uint64_t x) {
  uint8_t buf[10];
  size_t n = 0;
  while (x >= 0x80) {
    buf[n++] = (uint8_t)(x | 0x80);
    x >>= 7;
  }
  buf[n++] = (uint8_t)x;
  write_bytes(out, buf, n);
}

/* A length-delimited field's header: its tag (one byte for the fields above) and length. */
static size_t field_header_size(uint64_t len) { return 1 + varint_size(len); }

static void write_field_header(FILE *out, uint8_t tag, uint64_t len) {
  write_bytes(out, &tag, 1);
  write_varint(out, len);
}

static void *pack(const ProtobufCMessage *m, size_t *size) {
  *size = protobuf_c_message_get_packed_size(m);
  void *buf = cn_alloc(*size);
  protobuf_c_message_pack(m, buf);
  return buf;
}

/* A tensor's type and shape as a ValueInfoProto (graph inputs and outputs). */
static Onnx__ValueInfoProto *value_info(const Value *v) {
  Onnx__ValueInfoProto *vi = cn_alloc(sizeof *vi);
  Onnx__TypeProto *tp = cn_alloc(sizeof *tp);
  Onnx__TypeProto__Tensor *tt = cn_alloc(sizeof *tt);
  Onnx__TensorShapeProto *shape = cn_alloc(sizeof *shape);
  onnx__value_info_proto__init(vi);
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(shape);
  shape->n_dim = (size_t)v->rank;
  shape->dim = cn_alloc_array((size_t)v->rank + 1, sizeof *shape->dim);
  for (int i = 0; i < v->rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = cn_alloc(sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d->dim_value = v->dims[i];
    shape->dim[i] = d;
  }
  tt->has_elem_type = 1;
  tt->elem_type = (int32_t)v->dtype;
  tt->shape = shape;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->name = (char *)v->name;
  vi->type = tp;
  return vi;
}

/* A TensorProto of v's name, type and shape; the contents are added by the caller. */
static Onnx__TensorProto *tensor_header(const Value *v) {
  Onnx__TensorProto *t = cn_alloc(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = (char *)v->name;
  t->has_data_type = 1;
  t->data_type = (int32_t)v->dtype;
  t->n_dims = (size_t)v->rank;
  t->dims = (int64_t *)v->dims;
  return t;
}

static Onnx__AttributeProto *attribute(const Node *n, const Attr *a) {
  Onnx__AttributeProto *p = cn_alloc(sizeof *p);
  onnx__attribute_proto__init(p);
  p->name = (char *)a->name;
  p->has_type = 1;
  p->type = (Onnx__AttributeProto__AttributeType)a->type;
  switch (a->type) {
  case ATTR_FLOAT: p->has_f = 1, p->f = a->f; break;
  case ATTR_INT: p->has_i = 1, p->i = a->i; break;
  case ATTR_STRING:
    p->has_s = 1;
    p->s.data = (uint8_t *)a->s;
    p->s.len = a->s_len;
    break;
  case ATTR_FLOATS: p->n_floats = (size_t)a->n, p->floats = a->floats; break;
  case ATTR_INTS: p->n_ints = (size_t)a->n, p->ints = a->ints; break;
  case ATTR_TENSOR: {
    Onnx__TensorProto *t = tensor_header(a->t);
    t->has_raw_data = 1;
    t->raw_data.data = a->t->data;
    t->raw_data.len = (size_t)value_bytes(a->t);
    p->t = t;
    break;
  }
  default:
    /* the loader keeps no contents for graphs and lists of strings */
    cn_error_node(n, "attribute '%s' is of a kind cnnc cannot write back to ONNX", cn_escape_c_string(a->name, 100));
  }
  return p;
}

static Onnx__NodeProto *node_proto(const Node *n) {
  Onnx__NodeProto *p = cn_alloc(sizeof *p);
  onnx__node_proto__init(p);
  p->name = (char *)(n->name ? n->name : "");
  p->op_type = (char *)n->op->name;
  int n_in = n->n_in, n_out = n->n_out;
  while (n_in > 0 && !n->in[n_in - 1]) /* trailing omitted optional inputs are left out, others are "" */
    n_in--;
  while (n_out > 0 && !n->out[n_out - 1])
    n_out--;
  p->n_input = (size_t)n_in;
  p->input = cn_alloc_array((size_t)n_in + 1, sizeof(char *));
  for (int i = 0; i < n_in; i++)
    p->input[i] = (char *)(n->in[i] ? n->in[i]->name : "");
  p->n_output = (size_t)n_out;
  p->output = cn_alloc_array((size_t)n_out + 1, sizeof(char *));
  for (int i = 0; i < n_out; i++)
    p->output[i] = (char *)(n->out[i] ? n->out[i]->name : "");
  p->n_attribute = (size_t)n->n_attrs;
  p->attribute = cn_alloc_array((size_t)n->n_attrs + 1, sizeof *p->attribute);
  for (int i = 0; i < n->n_attrs; i++)
    p->attribute[i] = attribute(n, &n->attrs[i]);
  return p;
}

/* The nodes written: the model's own, live and forward. */
static bool written(const Node *n) {
  if (n->dead || n->backward)
    return false;
  if (n->op->internal)
    cn_error_node(n, "is one of cnnc's own operators; only the forward graph can be written as ONNX");
  CN_ASSERT(!n->fusion); /* the writer runs before the fusion passes */
  return true;
}

/* An initializer's contents: a replacement, its constant data, or a trainable tensor's initial contents. */
static const void *contents(const Value *v, const OnnxWriteOptions *o) {
  const void *replaced = o->contents ? o->contents(v, o->ctx) : NULL;
  return replaced ? replaced : v->data ? v->data : v->init;
}

typedef struct Initializer {
  const Value *value;
  void *header; /* the packed TensorProto without its raw data */
  size_t header_size, raw_size, size;
} Initializer;

void onnx_write(const Graph *g, const OnnxWriteOptions *o, FILE *out) {
  Onnx__GraphProto gp;
  onnx__graph_proto__init(&gp);
  gp.name = (char *)(o->graph_name ? o->graph_name : "cnnc");
  gp.node = cn_alloc_array((size_t)g->n_nodes + 1, sizeof *gp.node);
  bool *is_initializer = cn_alloc_array((size_t)g->n_values + 1, sizeof(bool));
  for (int i = 0; i < g->n_nodes; i++) {
    const Node *n = g->nodes[i];
    if (!written(n))
      continue;
    gp.node[gp.n_node++] = node_proto(n);
    for (int k = 0; k < n->n_in; k++) {
      const Value *v = n->in[k];
      if (v && !v->producer && !(v->flags & VAL_GRAPH_INPUT))
        is_initializer[v->id] = true;
    }
  }
  gp.input = cn_alloc_array((size_t)g->n_inputs + 1, sizeof *gp.input);
  for (int i = 0; i < g->n_inputs; i++)
    gp.input[gp.n_input++] = value_info(g->inputs[i]);
  gp.output = cn_alloc_array((size_t)g->n_outputs + 1, sizeof *gp.output);
  for (int i = 0; i < g->n_outputs; i++) {
    gp.output[gp.n_output++] = value_info(g->outputs[i]);
    if (!g->outputs[i]->producer)
      is_initializer[g->outputs[i]->id] = true; /* an output the compiler folded to a constant */
  }

  Initializer *inits = cn_alloc_array((size_t)g->n_values + 1, sizeof *inits);
  int n_inits = 0;
  size_t graph_size;
  void *graph_bytes = pack(&gp.base, &graph_size);
  uint64_t graph_len = graph_size;
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    if (!is_initializer[v->id])
      continue;
    if (!contents(v, o))
      cn_error("tensor '%s' is read by the graph but has no contents to write", cn_escape_c_string(v->name, 100));
    Initializer *init = &inits[n_inits++];
    init->value = v;
    init->raw_size = (size_t)value_bytes(v);
    init->header = pack(&tensor_header(v)->base, &init->header_size);
    init->size = init->header_size + field_header_size(init->raw_size) + init->raw_size;
    graph_len += field_header_size(init->size) + init->size;
  }

  Onnx__ModelProto m;
  onnx__model_proto__init(&m);
  m.has_ir_version = 1;
  m.ir_version = IR_VERSION;
  m.producer_name = "cnnc";
  m.producer_version = CN_VERSION;
  Onnx__OperatorSetIdProto opset;
  onnx__operator_set_id_proto__init(&opset);
  opset.domain = "";
  opset.has_version = 1;
  opset.version = g->opset;
  Onnx__OperatorSetIdProto *opsets[] = {&opset};
  m.n_opset_import = 1;
  m.opset_import = opsets;
  size_t model_size;
  void *model_bytes = pack(&m.base, &model_size);

  if (o->raw_offsets)
    for (int i = 0; i < g->n_values; i++)
      o->raw_offsets[i] = -1;
  write_bytes(out, model_bytes, model_size);
  write_field_header(out, TAG_MODEL_GRAPH, graph_len);
  write_bytes(out, graph_bytes, graph_size);
  int64_t offset = (int64_t)(model_size + field_header_size(graph_len) + graph_size);
  for (int i = 0; i < n_inits; i++) {
    const Initializer *init = &inits[i];
    write_field_header(out, TAG_GRAPH_INITIALIZER, init->size);
    write_bytes(out, init->header, init->header_size);
    write_field_header(out, TAG_TENSOR_RAW_DATA, init->raw_size);
    offset += (int64_t)(field_header_size(init->size) + init->header_size + field_header_size(init->raw_size));
    if (o->raw_offsets)
      o->raw_offsets[init->value->id] = offset;
    write_bytes(out, contents(init->value, o), init->raw_size);
    offset += (int64_t)init->raw_size;
  }
}
