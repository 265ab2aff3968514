/* ONNX frontend: a ModelProto (through protobuf-c) becomes a Graph. Everything read here is untrusted:
 * sizes are checked before use and every failure is an error naming the tensor or node. */
#include "cnnc.h"
#include "onnx.pb-c.h"

#include <stdlib.h>
#include <string.h>

/* Name -> Value, open addressing. */
typedef struct Scope {
  Value **slots;
  size_t cap;
} Scope;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static Value **scope_slot(Scope *sc, const char *name) {
  size_t i = hash_str(name) & (sc->cap - 1);
  while (sc->slots[i] && strcmp(sc->slots[i]->name, name) != 0)
    i = (i + 1) & (sc->cap - 1);
  return &sc->slots[i];
}

static Scope scope_new(size_t expected) {
  size_t cap = 64;
  while (cap < expected * 2)
    cap *= 2;
  return (Scope){cn_alloc_array(cap, sizeof(Value *)), cap};
}

/* protobuf-c unpacks nested messages recursively, so a hostile file nesting graphs in attributes in graphs
 * could exhaust the stack. The wire format is walked first, with the message descriptors telling which fields
 * are messages, and refused past this depth (real models nest a handful of levels). */
#define MAX_MESSAGE_DEPTH 64

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *value) {
  *value = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t byte = *(*p)++;
    *value |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80))
      return true;
  }
  return false;
}

/* Returns false only when the nesting is too deep; malformed data is left to protobuf-c to reject. */
static bool nesting_within_limit(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                                 int depth) {
  if (depth > MAX_MESSAGE_DEPTH)
    return false;
  while (p < end) {
    uint64_t key, len;
    if (!read_varint(&p, end, &key))
      return true;
    switch (key & 7) {
    case 0:
      if (!read_varint(&p, end, &len))
        return true;
      break;
    case 1:
    case 5:
      len = (key & 7) == 1 ? 8 : 4;
      if (len > (uint64_t)(end - p))
        return true;
      p += len;
      break;
    case 2: {
      if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p))
        return true;
      const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && !nesting_within_limit(f->descriptor, p, p + len, depth + 1))
        return false;
      p += len;
      break;
    }
    default:
      return true;
    }
  }
  return true;
}

static void *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    cn_error("cannot open '%s'", path);
  if (fseek(f, 0, SEEK_END) != 0)
    cn_error("cannot read '%s'", path);
  long len = ftell(f);
  if (len < 0 || (int64_t)len > CN_MAX_FILE_BYTES)
    cn_error("'%s' is larger than %lld bytes", path, (long long)CN_MAX_FILE_BYTES);
  rewind(f);
  void *buf = cn_alloc((size_t)len);
  if (fread(buf, 1, (size_t)len, f) != (size_t)len)
    cn_error("cannot read '%s'", path);
  fclose(f);
  *size = (size_t)len;
  return buf;
}

/* Fills v's shape and data from a TensorProto; `what` says where it came from, for errors. */
static void tensor_to_value(const Onnx__TensorProto *t, Value *v, const char *what) {
  const char *name = cn_escape_c_string(v->name, 100);
  if (t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL || t->n_external_data)
    cn_error("%s '%s': external data files are not supported; save the model with its weights inside", what, name);
  if (t->segment)
    cn_error("%s '%s': segmented tensors are not supported", what, name);
  DType dt = (DType)t->data_type;
  if (!dtype_supported(dt))
    cn_error("%s '%s' has element type %s; cnnc supports float, double, bool and the integer types", what, name,
             dtype_name(dt));
  if (t->n_dims > CN_MAX_RANK)
    cn_error("%s '%s' has rank %zu; cnnc supports up to %d", what, name, t->n_dims, CN_MAX_RANK);
  value_set_shape(v, NULL, dt, (int)t->n_dims, t->dims);
  int64_t count = value_count(v);
  size_t bytes = (size_t)value_bytes(v);
  v->data = cn_alloc(bytes);
  if (t->has_raw_data) {
    if (t->raw_data.len != bytes)
      cn_error("%s '%s': raw_data has %zu bytes; %s%s needs %zu", what, name, t->raw_data.len, dtype_name(dt),
               value_shape_string(v), bytes);
    if (bytes)
      memcpy(v->data, t->raw_data.data, bytes);
    return;
  }
  size_t have;
  switch (dt) {
  case DT_FLOAT: have = t->n_float_data; break;
  case DT_DOUBLE: have = t->n_double_data; break;
  case DT_INT64: have = t->n_int64_data; break;
  case DT_UINT32:
  case DT_UINT64: have = t->n_uint64_data; break;
  default: have = t->n_int32_data; break;
  }
  if (have != (size_t)count)
    cn_error("%s '%s' holds %zu values; %s%s needs %lld", what, name, have, dtype_name(dt), value_shape_string(v),
             (long long)count);
  for (int64_t i = 0; i < count; i++) {
    switch (dt) {
    case DT_FLOAT: ((float *)v->data)[i] = t->float_data[i]; break;
    case DT_DOUBLE: ((double *)v->data)[i] = t->double_data[i]; break;
    case DT_INT64: ((int64_t *)v->data)[i] = t->int64_data[i]; break;
    case DT_UINT32: ((uint32_t *)v->data)[i] = (uint32_t)t->uint64_data[i]; break;
    case DT_UINT64: ((uint64_t *)v->data)[i] = t->uint64_data[i]; break;
    default: value_set_double(v, i, (double)t->int32_data[i]); break;
    }
  }
}

static Value *new_const(const Onnx__TensorProto *t, const char *fallback_name, const char *what) {
  Value *v = cn_alloc(sizeof *v);
  v->id = -1;
  v->offset = -1;
  v->name = cn_strdup(t->name && t->name[0] ? t->name : fallback_name);
  tensor_to_value(t, v, what);
  return v;
}

Value *onnx_load_tensor_file(const char *path) {
  size_t size;
  void *buf = read_file(path, &size);
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, size, buf);
  if (!t)
    cn_error("'%s' is not a valid serialized TensorProto", path);
  Value *v = new_const(t, path, "tensor file");
  onnx__tensor_proto__free_unpacked(t, NULL);
  free(buf);
  return v;
}

static int64_t opset_of(const Onnx__ModelProto *m) {
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const char *d = m->opset_import[i]->domain;
    if (!d || !d[0] || strcmp(d, "ai.onnx") == 0)
      return m->opset_import[i]->version;
  }
  return 1; /* IR without opset_import predates opsets: the first version of every op */
}

static void copy_attr(Attr *a, const Onnx__AttributeProto *p, const Node *n) {
  a->name = cn_strdup(p->name ? p->name : "");
  a->type = (AttrType)p->type;
  a->f = p->f;
  a->i = p->i;
  if (p->has_s) {
    a->s = cn_strndup((const char *)p->s.data, p->s.len);
    a->s_len = p->s.len;
  }
  if (p->n_floats > INT32_MAX || p->n_ints > INT32_MAX)
    cn_error_node(n, "attribute '%s' is too long", cn_escape_c_string(a->name, 100));
  if (p->n_floats) {
    a->n = (int)p->n_floats;
    a->floats = cn_alloc_array(p->n_floats, sizeof(float));
    memcpy(a->floats, p->floats, p->n_floats * sizeof(float));
  }
  if (p->n_ints) {
    a->n = (int)p->n_ints;
    a->ints = cn_alloc_array(p->n_ints, sizeof(int64_t));
    memcpy(a->ints, p->ints, p->n_ints * sizeof(int64_t));
  }
  if (p->t)
    a->t = new_const(p->t, a->name, "attribute tensor");
  /* Files written before attribute types existed: infer the type from the field that is set. */
  if (a->type == ATTR_UNDEFINED)
    a->type = p->t ? ATTR_TENSOR
              : p->n_ints ? ATTR_INTS
              : p->n_floats ? ATTR_FLOATS
              : p->has_s ? ATTR_STRING
              : p->has_f ? ATTR_FLOAT
                         : ATTR_INT;
}

/* Shape of a run-time graph input, with symbolic dims resolved through --dim, and the first set by --batch. */
static void input_shape(Value *v, const Onnx__ValueInfoProto *vi, const LoadOptions *o) {
  const char *name = cn_escape_c_string(v->name, 100);
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    cn_error("graph input '%s' is not a tensor; cnnc supports tensor inputs only", name);
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (!tt->shape)
    cn_error("graph input '%s' has no shape; bind it with --bind %s=FILE.pb", name, name);
  if (tt->shape->n_dim > CN_MAX_RANK)
    cn_error("graph input '%s' has rank %zu; cnnc supports up to %d", name, tt->shape->n_dim, CN_MAX_RANK);
  int64_t dims[CN_MAX_RANK];
  for (size_t i = 0; i < tt->shape->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    if (i == 0 && o->batch > 0) {
      dims[i] = o->batch;
      continue;
    }
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      dims[i] = d->dim_value;
      continue;
    }
    const char *param = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? d->dim_param : "";
    bool found = false;
    for (int k = 0; k < o->n_dims && !found; k++)
      if (strcmp(o->dims[k].name, param) == 0) {
        dims[i] = o->dims[k].value;
        found = true;
      }
    if (!found && param[0])
      cn_error("graph input '%s' dimension %zu is symbolic ('%s'): fix it with --dim %s=VALUE", name, i,
               cn_escape_c_string(param, 100), cn_escape_c_string(param, 100));
    if (!found)
      cn_error("graph input '%s' dimension %zu has no size: give the input a fixed shape or bind it with --bind", name,
               i);
  }
  value_set_shape(v, NULL, (DType)tt->elem_type, (int)tt->shape->n_dim, dims);
}

static const char *bound_file(const LoadOptions *o, const char *name) {
  for (int k = 0; k < o->n_binds; k++)
    if (strcmp(o->binds[k].name, name) == 0)
      return o->binds[k].file;
  return NULL;
}

static Value *define(Graph *g, Scope *sc, const char *name, const char *what) {
  Value **slot = scope_slot(sc, name);
  if (*slot)
    cn_error("%s '%s' is defined twice", what, cn_escape_c_string(name, 100));
  *slot = graph_add_value(g, cn_strdup(name));
  return *slot;
}

static Graph *convert(const Onnx__ModelProto *m, const char *path, const LoadOptions *o) {
  const Onnx__GraphProto *gp = m->graph;
  if (!gp)
    cn_error("the model has no graph");
  if (gp->n_node > CN_MAX_NODES)
    cn_error("the model has %zu nodes; cnnc accepts at most %d", gp->n_node, CN_MAX_NODES);
  if (gp->n_sparse_initializer)
    cn_error("sparse initializers are not supported");
  Graph *g = graph_new(path);
  g->opset = opset_of(m);
  if (g->opset > 17)
    fprintf(stderr, "%s: warning: opset %lld is newer than 17, the newest cnnc knows; ops are read as opset 17\n",
            path, (long long)g->opset);
  g->producer = cn_format("%s %s", m->producer_name ? m->producer_name : "", m->producer_version ? m->producer_version : "");
  size_t names = gp->n_initializer + gp->n_input;
  for (size_t i = 0; i < gp->n_node; i++)
    names += gp->node[i]->n_output;
  Scope sc = scope_new(names);

  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *t = gp->initializer[i];
    Value *v = define(g, &sc, t->name ? t->name : "", "initializer");
    tensor_to_value(t, v, "initializer");
    v->flags |= VAL_INITIALIZER;
  }
  g->inputs = cn_alloc_array(gp->n_input + 1, sizeof(Value *));
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    const char *name = vi->name ? vi->name : "";
    if (*scope_slot(&sc, name))
      continue; /* an input with an initializer is a constant with a default value */
    Value *v = define(g, &sc, name, "graph input");
    const char *file = bound_file(o, name);
    if (file) {
      Value *bound = onnx_load_tensor_file(file);
      v->dtype = bound->dtype;
      v->data = bound->data;
      value_set_shape(v, NULL, bound->dtype, bound->rank, bound->dims);
      v->flags |= VAL_INITIALIZER;
      continue;
    }
    input_shape(v, vi, o);
    v->flags |= VAL_GRAPH_INPUT;
    g->inputs[g->n_inputs++] = v;
  }
  for (int k = 0; k < o->n_binds; k++) {
    Value *v = *scope_slot(&sc, o->binds[k].name);
    if (!v || !(v->flags & VAL_INITIALIZER) || v->producer)
      cn_error("--bind %s: the graph has no input of that name", cn_escape_c_string(o->binds[k].name, 100));
  }

  /* Outputs first, so inputs can name values of nodes that come later in the file. */
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    Node *n = graph_add_node(g, cn_strdup(np->name ? np->name : ""), cn_strdup(np->op_type ? np->op_type : ""),
                             (int)np->n_input, (int)np->n_output);
    const char *domain = np->domain ? np->domain : "";
    n->op = domain[0] && strcmp(domain, "ai.onnx") != 0 ? NULL : op_lookup(n->op_type);
    if (!n->op)
      cn_error_node(n, "unsupported operator%s%s%s; see the README for the operators cnnc supports",
                    domain[0] ? " in domain '" : "", cn_escape_c_string(domain, 100), domain[0] ? "'" : "");
    for (size_t k = 0; k < np->n_output; k++) {
      if (!np->output[k][0])
        continue;
      Value *v = define(g, &sc, np->output[k], "tensor");
      v->producer = n;
      n->out[k] = v;
    }
    n->n_attrs = (int)np->n_attribute;
    n->attrs = cn_alloc_array(np->n_attribute, sizeof(Attr));
    for (size_t k = 0; k < np->n_attribute; k++) {
      copy_attr(&n->attrs[k], np->attribute[k], n);
      for (size_t j = 0; j < k; j++)
        if (strcmp(n->attrs[j].name, n->attrs[k].name) == 0)
          cn_error_node(n, "attribute '%s' is given twice", cn_escape_c_string(n->attrs[k].name, 100));
    }
  }
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    Node *n = g->nodes[i];
    for (size_t k = 0; k < np->n_input; k++) {
      if (!np->input[k][0])
        continue;
      Value *v = *scope_slot(&sc, np->input[k]);
      if (!v)
        cn_error_node(n, "input %zu '%s' is not a graph input, an initializer or an output of any node", k,
                      cn_escape_c_string(np->input[k], 100));
      n->in[k] = v;
    }
  }
  g->outputs = cn_alloc_array(gp->n_output + 1, sizeof(Value *));
  for (size_t i = 0; i < gp->n_output; i++) {
    const char *name = gp->output[i]->name ? gp->output[i]->name : "";
    Value *v = *scope_slot(&sc, name);
    if (!v)
      cn_error("graph output '%s' is not computed by any node", cn_escape_c_string(name, 100));
    v->flags |= VAL_GRAPH_OUTPUT;
    g->outputs[g->n_outputs++] = v;
  }
  if (g->n_outputs == 0)
    cn_error("the graph has no outputs");
  graph_sort(g);
  return g;
}

/* Reads and unpacks a model file; the caller frees both with free_model. */
static Onnx__ModelProto *read_model(const char *path, void **buf) {
  size_t size;
  *buf = read_file(path, &size);
  if (!nesting_within_limit(&onnx__model_proto__descriptor, *buf, (const uint8_t *)*buf + size, 0))
    cn_error("the model nests graphs or types more than %d levels deep", MAX_MESSAGE_DEPTH);
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, *buf);
  if (!m)
    cn_error("not a valid ONNX model (the protobuf is malformed or truncated)");
  return m;
}

static void free_model(Onnx__ModelProto *m, void *buf) {
  onnx__model_proto__free_unpacked(m, NULL);
  free(buf);
}

Graph *onnx_load(const char *path, const LoadOptions *opts) {
  diag_file = path;
  void *buf;
  Onnx__ModelProto *m = read_model(path, &buf);
  Graph *g = convert(m, path, opts);
  free_model(m, buf);
  return g;
}

Value **onnx_load_initializers(const char *path, int *count) {
  const char *model_file = diag_file;
  diag_file = path;
  void *buf;
  Onnx__ModelProto *m = read_model(path, &buf);
  const Onnx__GraphProto *gp = m->graph;
  size_t n = gp ? gp->n_initializer : 0;
  if (n > CN_MAX_NODES)
    cn_error("the model has %zu initializers; cnnc accepts at most %d", n, CN_MAX_NODES);
  Value **values = cn_alloc_array(n + 1, sizeof(Value *));
  for (size_t i = 0; i < n; i++)
    values[i] = new_const(gp->initializer[i], "", "initializer");
  free_model(m, buf);
  diag_file = model_file;
  *count = (int)n;
  return values;
}
