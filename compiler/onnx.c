/* ONNX frontend: a ModelProto (through protobuf-c) becomes a Graph. Everything read here is untrusted:
 * sizes are checked before use and every failure is an error naming the tensor or node. */
#include "cnnc.h"
#include "onnx.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Name -> Value, open addressing. Inside an inlined function the names are the function's own, which the
 * values they stand for need not carry; a name may stand for no value (an omitted optional input). */
typedef struct ScopeEntry {
  const char *name; /* NULL: the slot is free */
  Value *value;
} ScopeEntry;

typedef struct Scope {
  ScopeEntry *slots;
  size_t cap;
} Scope;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The entry of `name`, or the free slot where it belongs. */
static ScopeEntry *scope_entry(Scope *sc, const char *name) {
  size_t i = hash_str(name) & (sc->cap - 1);
  while (sc->slots[i].name && strcmp(sc->slots[i].name, name) != 0)
    i = (i + 1) & (sc->cap - 1);
  return &sc->slots[i];
}

static Value *scope_get(Scope *sc, const char *name) { return scope_entry(sc, name)->value; }
static bool scope_has(Scope *sc, const char *name) { return scope_entry(sc, name)->name != NULL; }

static void scope_put(Scope *sc, const char *name, Value *v) {
  ScopeEntry *e = scope_entry(sc, name);
  e->name = name;
  e->value = v;
}

static Scope scope_new(size_t expected) {
  size_t cap = 64;
  while (cap < expected * 2)
    cap *= 2;
  return (Scope){cn_alloc_array(cap, sizeof(ScopeEntry)), cap};
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

/* protobuf-c allocates through cn_alloc, so a message left behind by an error is released with everything else. */
static void *pb_alloc(void *unused, size_t size) {
  (void)unused;
  return cn_alloc(size);
}

static void pb_free(void *unused, void *p) {
  (void)unused;
  cn_free(p);
}

static ProtobufCAllocator pb_allocator = {.alloc = pb_alloc, .free = pb_free};

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

/* External data: a tensor whose bytes are in another file, named by `location` relative to the directory of the
 * file that holds the TensorProto (the model, or a .pb), from `offset` (default 0) for `length` bytes (default:
 * the tensor's size). Such files are memory-mapped, copy-on-write, and never copied: a value's data points into
 * the mapping (unless the offset leaves the elements misaligned, when that one tensor is copied). The location
 * is untrusted: an absolute path, a ".." component, or a path that resolves (through symbolic links) outside
 * the directory is refused, as is anything but a regular file. */
static const char *external_dir; /* the directory external locations are relative to */

typedef struct MappedFile {
  char *path; /* resolved; NULL for the model */
  const uint8_t *bytes;
  int64_t size;
} MappedFile;

static MappedFile *mapped_files;
static int n_mapped_files;

static const char *external_key(const Onnx__TensorProto *t, const char *key) {
  for (size_t i = 0; i < t->n_external_data; i++)
    if (t->external_data[i]->key && strcmp(t->external_data[i]->key, key) == 0)
      return t->external_data[i]->value ? t->external_data[i]->value : "";
  return NULL;
}

/* A non-negative decimal number of the external_data entry `key`, or dflt when the entry is absent. */
static int64_t external_number(const Onnx__TensorProto *t, const char *key, int64_t dflt, const char *what,
                               const char *name) {
  const char *text = external_key(t, key);
  if (!text)
    return dflt;
  int64_t x = 0;
  for (const char *p = text; *p || p == text; p++) {
    if (*p < '0' || *p > '9' || x > (INT64_MAX - 9) / 10)
      cn_error("%s '%s': external data %s '%s' is not a non-negative integer", what, name, key,
               cn_escape_c_string(text, 40));
    x = x * 10 + (*p - '0');
  }
  return x;
}

/* path: resolved, or NULL for the model itself (which external data never shares). */
static const MappedFile *remember_mapping(char *path, const uint8_t *bytes, int64_t size) {
  if (n_mapped_files % 16 == 0) {
    MappedFile *grown = cn_alloc_array((size_t)n_mapped_files + 16, sizeof *grown);
    if (n_mapped_files)
      memcpy(grown, mapped_files, (size_t)n_mapped_files * sizeof *grown);
    mapped_files = grown;
  }
  mapped_files[n_mapped_files] = (MappedFile){path, bytes, size};
  return &mapped_files[n_mapped_files++];
}

static const MappedFile *map_external(const char *location, const char *what, const char *name) {
  const char *shown = cn_escape_c_string(location, 200);
  if (!location[0])
    cn_error("%s '%s': the external data location is empty", what, name);
  if (location[0] == '/')
    cn_error("%s '%s': external data location '%s' is an absolute path; it must be relative to the model's "
             "directory", what, name, shown);
  for (const char *p = location; *p;) {
    size_t len = strcspn(p, "/");
    if (len == 2 && p[0] == '.' && p[1] == '.')
      cn_error("%s '%s': external data location '%s' contains '..'; it must stay inside the model's directory",
               what, name, shown);
    p += len + (p[len] == '/');
  }
  char dir[PATH_MAX], file[PATH_MAX];
  if (!realpath(external_dir, dir))
    cn_error("cannot resolve the directory '%s': %s", cn_escape_c_string(external_dir, 200), strerror(errno));
  char *joined = cn_format("%s/%s", dir, location);
  if (!realpath(joined, file))
    cn_error("%s '%s': cannot open external data file '%s': %s", what, name, shown, strerror(errno));
  size_t dir_len = strlen(dir);
  bool inside = strncmp(file, dir, dir_len) == 0 && (file[dir_len] == '/' || (dir_len == 1 && dir[0] == '/'));
  if (!inside)
    cn_error("%s '%s': external data location '%s' resolves to '%s', outside the model's directory", what, name,
             shown, cn_escape_c_string(file, 200));
  for (int i = 0; i < n_mapped_files; i++)
    if (mapped_files[i].path && strcmp(mapped_files[i].path, file) == 0)
      return &mapped_files[i];
  /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below) */
  int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  bool opened = fd >= 0 && fstat(fd, &st) == 0;
  int error = errno;
  void *m = MAP_FAILED;
  /* copy-on-write: a pass changing weights in place never writes to the file */
  if (opened && S_ISREG(st.st_mode) && st.st_size > 0)
    m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED)
    error = errno;
  if (fd >= 0)
    close(fd);
  if (!opened)
    cn_error("%s '%s': cannot open external data file '%s': %s", what, name, shown, strerror(error));
  if (!S_ISREG(st.st_mode))
    cn_error("%s '%s': external data location '%s' is not a regular file", what, name, shown);
  if (st.st_size > 0 && m == MAP_FAILED)
    cn_error("%s '%s': cannot map external data file '%s': %s", what, name, shown, strerror(error));
  return remember_mapping(cn_strdup(file), m == MAP_FAILED ? NULL : m, (int64_t)st.st_size);
}

/* Points v's data at its external bytes; v's shape is already set. */
static void external_to_value(const Onnx__TensorProto *t, Value *v, const char *what, const char *name) {
  if (t->has_raw_data || t->n_float_data || t->n_int32_data || t->n_int64_data || t->n_double_data ||
      t->n_uint64_data || t->n_string_data)
    cn_error("%s '%s' has external data and data of its own; it must have one", what, name);
  const char *location = external_key(t, "location");
  if (!location)
    cn_error("%s '%s': external data without a location", what, name);
  for (size_t i = 0; i < t->n_external_data; i++) {
    const char *key = t->external_data[i]->key ? t->external_data[i]->key : "";
    if (strcmp(key, "location") != 0 && strcmp(key, "offset") != 0 && strcmp(key, "length") != 0 &&
        strcmp(key, "checksum") != 0)
      cn_error("%s '%s': external data key '%s' is not one cnnc knows (location, offset, length, checksum)", what,
               name, cn_escape_c_string(key, 40));
  }
  const MappedFile *f = map_external(location, what, name);
  int64_t bytes = value_bytes(v);
  int64_t offset = external_number(t, "offset", 0, what, name);
  int64_t length = external_number(t, "length", bytes, what, name);
  if (length != bytes)
    cn_error("%s '%s': external data length is %lld bytes; %s%s needs %lld", what, name, (long long)length,
             dtype_name(v->dtype), value_shape_string(v), (long long)bytes);
  if (offset > f->size || length > f->size - offset)
    cn_error("%s '%s': external data at offset %lld, %lld bytes, runs past the end of '%s' (%lld bytes)", what, name,
             (long long)offset, (long long)length, cn_escape_c_string(location, 200), (long long)f->size);
  const uint8_t *at = f->bytes + offset;
  if (bytes == 0) {
    v->data = cn_alloc(1);
  } else if ((uintptr_t)at % dtype_size(v->dtype) == 0) {
    v->data = (void *)at;
  } else {
    v->data = cn_alloc((size_t)bytes);
    memcpy(v->data, at, (size_t)bytes);
  }
}

/* The model file and its weights. An initializer's raw_data (ModelProto.graph = 7, GraphProto.initializer = 5,
 * TensorProto.raw_data = 9) is nearly all of a model's bytes, and protobuf-c would copy each one into a buffer
 * of its own. So the file is memory-mapped (copy-on-write, like external data), and protobuf-c unpacks a copy
 * of the model without those payloads: split_model cuts them out, the empty raw_data fields that stay behind
 * keep has_raw_data, and the loader reads the payloads straight from the mapping (copying only those whose
 * offset does not suit their element type). Anything split_model does not expect (malformed data, a graph field
 * twice, raw_data twice in one tensor) leaves the file whole to protobuf-c, which then decides as before. */
typedef struct Payload {
  const uint8_t *data;
  size_t len;
  bool mapped; /* data is in the model's mapping, which outlives loading: values may point into it */
} Payload;

enum { MODEL_GRAPH = 7, GRAPH_INITIALIZER = 5, TENSOR_RAW_DATA = 9, WIRE_VARINT = 0, WIRE_LENGTH = 2 };

/* One field of a serialized message: from its key to its end; a length-delimited field's contents start at body. */
typedef struct WireField {
  const uint8_t *key, *body, *end;
  uint64_t number;
  int type;
} WireField;

/* The field at *p, advancing past it; false when the data is malformed or uses groups. */
static bool next_field(const uint8_t **p, const uint8_t *end, WireField *f) {
  uint64_t key, len;
  f->key = *p;
  if (!read_varint(p, end, &key))
    return false;
  f->number = key >> 3;
  f->type = (int)(key & 7);
  f->body = *p;
  switch (f->type) {
  case WIRE_VARINT: return read_varint(p, end, &len) && (f->end = *p, true);
  case 1:
  case 5: len = f->type == 1 ? 8 : 4; break;
  case WIRE_LENGTH:
    if (!read_varint(p, end, &len))
      return false;
    f->body = *p;
    break;
  default: return false;
  }
  if (len > (uint64_t)(end - *p))
    return false;
  *p += len;
  f->end = *p;
  return true;
}

static size_t varint_size(uint64_t x) {
  size_t n = 1;
  for (; x >= 0x80; x >>= 7)
    n++;
  return n;
}

static uint8_t *put_varint(uint8_t *o, uint64_t x) {
  for (; x >= 0x80; x >>= 7)
    *o++ = (uint8_t)(x | 0x80);
  *o++ = (uint8_t)x;
  return o;
}

static uint8_t *put_bytes(uint8_t *o, const uint8_t *from, const uint8_t *to) {
  memcpy(o, from, (size_t)(to - from));
  return o + (to - from);
}

/* The size of a TensorProto without its raw_data's contents, and those contents. */
static bool split_tensor(const uint8_t *p, const uint8_t *end, size_t *size, Payload *raw) {
  *size = 0;
  *raw = (Payload){0};
  bool seen = false;
  WireField f;
  while (p < end) {
    if (!next_field(&p, end, &f))
      return false;
    if (f.number == TENSOR_RAW_DATA) {
      if (f.type != WIRE_LENGTH || seen)
        return false;
      seen = true;
      *raw = (Payload){f.body, (size_t)(f.end - f.body), false};
      *size += 2;
    } else {
      *size += (size_t)(f.end - f.key);
    }
  }
  return true;
}

/* The size of a GraphProto with its initializers split. */
static bool split_graph_size(const uint8_t *p, const uint8_t *end, size_t *size, size_t *n_initializers) {
  *size = *n_initializers = 0;
  WireField f;
  while (p < end) {
    if (!next_field(&p, end, &f))
      return false;
    if (f.number != GRAPH_INITIALIZER) {
      *size += (size_t)(f.end - f.key);
      continue;
    }
    size_t tensor;
    Payload raw;
    if (f.type != WIRE_LENGTH || !split_tensor(f.body, f.end, &tensor, &raw))
      return false;
    *size += 1 + varint_size(tensor) + tensor;
    ++*n_initializers;
  }
  return true;
}

/* Writes the GraphProto at p..end with its initializers split, their payloads into raw[]. */
static uint8_t *put_split_graph(uint8_t *o, const uint8_t *p, const uint8_t *end, Payload *raw) {
  WireField f;
  while (p < end && next_field(&p, end, &f)) {
    if (f.number != GRAPH_INITIALIZER) {
      o = put_bytes(o, f.key, f.end);
      continue;
    }
    size_t tensor;
    split_tensor(f.body, f.end, &tensor, raw);
    *o++ = GRAPH_INITIALIZER << 3 | WIRE_LENGTH;
    o = put_varint(o, tensor);
    const uint8_t *q = f.body;
    WireField t;
    while (q < f.end && next_field(&q, f.end, &t)) {
      if (t.number == TENSOR_RAW_DATA) {
        *o++ = TENSOR_RAW_DATA << 3 | WIRE_LENGTH;
        *o++ = 0;
      } else {
        o = put_bytes(o, t.key, t.end);
      }
    }
    raw++;
  }
  return o;
}

/* The serialized model without its initializers' payloads, which go to *raw (one per initializer, in order);
 * false when the fast path does not apply. `mapped`: p stays mapped after loading. */
static bool split_model(const uint8_t *p, size_t size, bool mapped, uint8_t **out, size_t *out_size, Payload **raw) {
  const uint8_t *end = p + size, *q = p;
  WireField f, graph = {0};
  size_t n_graphs = 0;
  while (q < end) {
    if (!next_field(&q, end, &f))
      return false;
    if (f.number == MODEL_GRAPH) {
      graph = f;
      n_graphs++;
    }
  }
  size_t graph_size, n_initializers;
  if (n_graphs != 1 || graph.type != WIRE_LENGTH ||
      !split_graph_size(graph.body, graph.end, &graph_size, &n_initializers))
    return false;
  *out_size = size - (size_t)(graph.end - graph.key) + 1 + varint_size(graph_size) + graph_size;
  *out = cn_alloc(*out_size);
  *raw = cn_alloc_array(n_initializers + 1, sizeof **raw);
  uint8_t *o = put_bytes(*out, p, graph.key);
  *o++ = MODEL_GRAPH << 3 | WIRE_LENGTH;
  o = put_varint(o, graph_size);
  o = put_split_graph(o, graph.body, graph.end, *raw);
  o = put_bytes(o, graph.end, end);
  CN_ASSERT((size_t)(o - *out) == *out_size);
  for (size_t i = 0; i < n_initializers; i++)
    (*raw)[i].mapped = mapped;
  return true;
}

/* The model file, mapped when it is a regular file (kept until onnx_release), else read. */
static const uint8_t *map_model(const char *path, size_t *size, bool *mapped) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  void *m = MAP_FAILED;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= CN_MAX_FILE_BYTES)
    m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (fd >= 0)
    close(fd);
  *mapped = m != MAP_FAILED;
  if (!*mapped)
    return read_file(path, size);
  *size = (size_t)st.st_size;
  remember_mapping(NULL, m, (int64_t)st.st_size);
  return m;
}

/* Fills v's shape and data from a TensorProto; `what` says where it came from, for errors. `raw`, when not NULL,
 * holds the raw_data that split_model took out of t. */
static void tensor_to_value(const Onnx__TensorProto *t, const Payload *raw, Value *v, const char *what) {
  const char *name = cn_escape_c_string(v->name, 100);
  bool external = t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (!external && t->n_external_data)
    cn_error("%s '%s' has external_data entries, but its data_location is not EXTERNAL", what, name);
  if (t->segment)
    cn_error("%s '%s': segmented tensors are not supported", what, name);
  DType dt = (DType)t->data_type;
  if (!dtype_supported(dt))
    cn_error("%s '%s' has element type %s; cnnc supports float, double, bool and the integer types", what, name,
             dtype_name(dt));
  if (t->n_dims > CN_MAX_RANK)
    cn_error("%s '%s' has rank %zu; cnnc supports up to %d", what, name, t->n_dims, CN_MAX_RANK);
  value_set_shape(v, NULL, dt, (int)t->n_dims, t->dims);
  if (external) {
    external_to_value(t, v, what, name);
    return;
  }
  int64_t count = value_count(v);
  size_t bytes = (size_t)value_bytes(v);
  if (t->has_raw_data) {
    const uint8_t *data = raw ? raw->data : t->raw_data.data;
    size_t len = raw ? raw->len : t->raw_data.len;
    if (len != bytes)
      cn_error("%s '%s': raw_data has %zu bytes; %s%s needs %zu", what, name, len, dtype_name(dt),
               value_shape_string(v), bytes);
    if (raw && raw->mapped && bytes && (uintptr_t)data % dtype_size(dt) == 0) {
      v->data = (void *)data;
      return;
    }
    v->data = cn_alloc(bytes);
    if (bytes)
      memcpy(v->data, data, bytes);
    return;
  }
  v->data = cn_alloc(bytes);
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

static Value *new_const(const Onnx__TensorProto *t, const Payload *raw, const char *fallback_name, const char *what) {
  Value *v = cn_alloc(sizeof *v);
  v->id = -1;
  v->offset = -1;
  v->name = cn_strdup(t->name && t->name[0] ? t->name : fallback_name);
  tensor_to_value(t, raw, v, what);
  return v;
}

void onnx_release(void) {
  for (int i = 0; i < n_mapped_files; i++)
    if (mapped_files[i].size > 0)
      munmap((void *)mapped_files[i].bytes, (size_t)mapped_files[i].size);
  mapped_files = NULL;
  n_mapped_files = 0;
  external_dir = NULL;
}

static const char *directory_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return !slash ? "." : slash == path ? "/" : cn_strndup(path, (size_t)(slash - path));
}

Value *onnx_load_tensor_file(const char *path) {
  size_t size;
  void *buf = read_file(path, &size);
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(&pb_allocator, size, buf);
  if (!t)
    cn_error("'%s' is not a valid serialized TensorProto", path);
  const char *model_dir = external_dir;
  external_dir = directory_of(path);
  Value *v = new_const(t, NULL, path, "tensor file");
  external_dir = model_dir;
  onnx__tensor_proto__free_unpacked(t, &pb_allocator);
  cn_free(buf);
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
    a->t = new_const(p->t, NULL, a->name, "attribute tensor");
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
  if (scope_has(sc, name))
    cn_error("%s '%s' is defined twice", what, cn_escape_c_string(name, 100));
  Value *v = graph_add_value(g, cn_strdup(name));
  scope_put(sc, v->name, v);
  return v;
}

/* Model-local functions (ModelProto.functions, as the dynamo exporter writes them) are inlined: a node calling
 * one becomes the function's body, its formal inputs and outputs bound to the call's values, its attribute
 * references (ref_attr_name) bound to the call's attributes or the function's defaults. Bodies may call other
 * functions; recursion and nesting deeper than MAX_CALL_DEPTH are errors.
 *
 * onnx.proto 1.12 (the one protobuf-c compiles here) predates three fields of later IR versions, which
 * protobuf-c keeps as unknown fields and this file reads by number: FunctionProto.attribute_proto (11, the
 * defaults), FunctionProto.overload (13) and NodeProto.overload (8), the last two part of a function's name. */
#define MAX_CALL_DEPTH 32
#define FUNCTION_ATTRIBUTE_PROTO 11
#define FUNCTION_OVERLOAD 13
#define NODE_OVERLOAD 8

typedef struct Function {
  const Onnx__FunctionProto *proto;
  const char *domain, *name, *overload;
  Onnx__AttributeProto **defaults; /* attribute_proto */
  size_t n_defaults;
  bool active; /* being inlined: a call to it now is recursion */
} Function;

typedef struct Functions {
  Function *list;
  size_t count;
} Functions;

/* An attribute value seen by the body of the function being inlined: the call's, or the default. */
typedef struct BoundAttr {
  const char *name;
  const Onnx__AttributeProto *value; /* its own name may differ (the caller's attribute it came from) */
} BoundAttr;

typedef struct Call {
  const Function *fn;
  const char *path; /* the call's node name and those of the calls around it, for names and messages */
  BoundAttr *attrs;
  size_t n_attrs;
  Value **results; /* per formal output: the value the caller reads */
  bool *computed;  /* per formal output: a body node computes it */
  int depth;
} Call;

/* The contents of the index-th occurrence of the length-delimited unknown field `number`; false when absent.
 * protobuf-c keeps such a field's length prefix in its data. */
static bool unknown_field(const ProtobufCMessage *m, uint32_t number, size_t index, const uint8_t **data, size_t *len) {
  for (unsigned i = 0; i < m->n_unknown_fields; i++) {
    const ProtobufCMessageUnknownField *f = &m->unknown_fields[i];
    if (f->tag != number || f->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || index-- != 0)
      continue;
    const uint8_t *p = f->data;
    uint64_t length;
    if (!read_varint(&p, f->data + f->len, &length) || length != (uint64_t)(f->data + f->len - p))
      cn_error("a field %u of a %s is malformed", (unsigned)number, m->descriptor->short_name);
    *data = p;
    *len = (size_t)length;
    return true;
  }
  return false;
}

static const char *unknown_string(const ProtobufCMessage *m, uint32_t number) {
  const uint8_t *data;
  size_t len;
  return unknown_field(m, number, 0, &data, &len) ? cn_strndup((const char *)data, len) : "";
}

static Functions functions_of(const Onnx__ModelProto *m, int64_t opset) {
  Functions fns = {cn_alloc_array(m->n_functions + 1, sizeof(Function)), m->n_functions};
  for (size_t i = 0; i < m->n_functions; i++) {
    const Onnx__FunctionProto *fp = m->functions[i];
    Function *f = &fns.list[i];
    f->proto = fp;
    f->domain = fp->domain ? fp->domain : "";
    f->name = fp->name ? fp->name : "";
    f->overload = unknown_string(&fp->base, FUNCTION_OVERLOAD);
    const char *shown = cn_escape_c_string(f->name, 100);
    for (size_t k = 0; k < fp->n_opset_import; k++) {
      const char *d = fp->opset_import[k]->domain;
      if ((!d || !d[0] || strcmp(d, "ai.onnx") == 0) && fp->opset_import[k]->version != opset)
        cn_error("function '%s' imports opset %lld of the default domain and the model %lld; cnnc compiles one "
                 "opset per model", shown, (long long)fp->opset_import[k]->version, (long long)opset);
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(fns.list[j].domain, f->domain) == 0 && strcmp(fns.list[j].name, f->name) == 0 &&
          strcmp(fns.list[j].overload, f->overload) == 0)
        cn_error("function '%s' in domain '%s' is defined twice", shown, cn_escape_c_string(f->domain, 100));
    const uint8_t *data;
    size_t len;
    while (unknown_field(&fp->base, FUNCTION_ATTRIBUTE_PROTO, f->n_defaults, &data, &len))
      f->n_defaults++;
    f->defaults = cn_alloc_array(f->n_defaults + 1, sizeof *f->defaults);
    for (size_t k = 0; k < f->n_defaults; k++) {
      unknown_field(&fp->base, FUNCTION_ATTRIBUTE_PROTO, k, &data, &len);
      if (!nesting_within_limit(&onnx__attribute_proto__descriptor, data, data + len, 0))
        cn_error("function '%s': a default attribute nests graphs more than %d levels deep", shown, MAX_MESSAGE_DEPTH);
      f->defaults[k] = onnx__attribute_proto__unpack(&pb_allocator, len, data);
      if (!f->defaults[k] || !f->defaults[k]->name)
        cn_error("function '%s': default attribute %zu is malformed", shown, k);
    }
  }
  return fns;
}

static Function *find_function(const Functions *fns, const Onnx__NodeProto *np) {
  const char *domain = np->domain ? np->domain : "", *overload = unknown_string(&np->base, NODE_OVERLOAD);
  const char *op_type = np->op_type ? np->op_type : "";
  for (size_t i = 0; i < fns->count; i++) {
    Function *f = &fns->list[i];
    bool same_domain = strcmp(f->domain, domain) == 0 ||
                       (!f->domain[0] && strcmp(domain, "ai.onnx") == 0) || (!domain[0] && strcmp(f->domain, "ai.onnx") == 0);
    if (same_domain && strcmp(f->name, op_type) == 0 && strcmp(f->overload, overload) == 0)
      return f;
  }
  return NULL;
}

/* The value an attribute reference in a function body stands for, or NULL when the call gives none and the
 * function has no default (the attribute is then absent). */
static const Onnx__AttributeProto *resolve_reference(const Call *call, const char *ref) {
  for (size_t i = 0; i < call->n_attrs; i++)
    if (strcmp(call->attrs[i].name, ref) == 0)
      return call->attrs[i].value;
  return NULL;
}

/* A node's attributes as name/value pairs: inside a function, references replaced by what they stand for. */
static BoundAttr *bind_attributes(const Onnx__NodeProto *np, const Call *call, const Node *n, size_t *count) {
  BoundAttr *out = cn_alloc_array(np->n_attribute + 1, sizeof *out);
  *count = 0;
  for (size_t k = 0; k < np->n_attribute; k++) {
    const Onnx__AttributeProto *a = np->attribute[k];
    const char *name = a->name ? a->name : "";
    if (a->ref_attr_name && a->ref_attr_name[0]) {
      if (!call)
        cn_error_node(n, "attribute '%s' refers to '%s', but the node is not inside a function",
                      cn_escape_c_string(name, 100), cn_escape_c_string(a->ref_attr_name, 100));
      a = resolve_reference(call, a->ref_attr_name);
      if (!a)
        continue;
    }
    out[(*count)++] = (BoundAttr){name, a};
  }
  return out;
}

/* Defines the outputs of nodes (before any node reads them, so inputs can name values defined later). Inside a
 * function, a formal output is already bound to the caller's value: its producer is found here. */
static void define_outputs(Graph *g, Scope *sc, Onnx__NodeProto *const *nodes, size_t n_nodes, const Call *call) {
  for (size_t i = 0; i < n_nodes; i++) {
    const Onnx__NodeProto *np = nodes[i];
    for (size_t k = 0; k < np->n_output; k++) {
      const char *name = np->output[k];
      if (!name[0])
        continue;
      if (!scope_has(sc, name)) {
        scope_put(sc, name, graph_add_value(g, call ? cn_format("%s/%s", call->path, name) : cn_strdup(name)));
        continue;
      }
      /* a formal output, bound to the caller's value before the body was walked, computed once */
      size_t j = 0;
      while (call && j < call->fn->proto->n_output && strcmp(call->fn->proto->output[j], name) != 0)
        j++;
      if (!call || j == call->fn->proto->n_output || scope_get(sc, name) != call->results[j] || call->computed[j])
        cn_error("tensor '%s' is defined twice", cn_escape_c_string(name, 100));
      call->computed[j] = true;
    }
  }
}

static void add_node(Graph *g, Scope *sc, const Functions *fns, const Onnx__NodeProto *np, const Call *call);

/* Inlines the body of fn for the call np, whose inputs are read and outputs defined in the caller's scope. */
static void inline_call(Graph *g, Scope *caller, const Functions *fns, Function *fn, const Onnx__NodeProto *np,
                        const Call *outer, const Node *site) {
  const Onnx__FunctionProto *fp = fn->proto;
  const char *shown = cn_escape_c_string(fn->name, 100);
  if (fn->active)
    cn_error_node(site, "function '%s' calls itself; recursive functions cannot be inlined", shown);
  if (outer && outer->depth >= MAX_CALL_DEPTH)
    cn_error_node(site, "function calls nest more than %d deep", MAX_CALL_DEPTH);
  if (np->n_input > fp->n_input || np->n_output > fp->n_output)
    cn_error_node(site, "calls function '%s' with %zu inputs and %zu outputs; it has %zu and %zu", shown, np->n_input,
                  np->n_output, fp->n_input, fp->n_output);
  Call call = {.fn = fn, .depth = outer ? outer->depth + 1 : 1};
  const char *name = np->name && np->name[0] ? np->name : fn->name;
  call.path = outer ? cn_format("%s/%s", outer->path, name) : cn_strdup(name);
  /* the call's attributes, each declared by the function, then the defaults of those it does not give */
  call.attrs = bind_attributes(np, outer, site, &call.n_attrs);
  for (size_t k = 0; k < call.n_attrs; k++) {
    bool declared = false;
    for (size_t j = 0; j < fp->n_attribute; j++)
      declared = declared || strcmp(fp->attribute[j], call.attrs[k].name) == 0;
    for (size_t j = 0; j < fn->n_defaults; j++)
      declared = declared || strcmp(fn->defaults[j]->name, call.attrs[k].name) == 0;
    if (!declared)
      cn_error_node(site, "function '%s' has no attribute '%s'", shown, cn_escape_c_string(call.attrs[k].name, 100));
  }
  BoundAttr *all = cn_alloc_array(call.n_attrs + fn->n_defaults + 1, sizeof *all);
  memcpy(all, call.attrs, call.n_attrs * sizeof *all);
  for (size_t j = 0; j < fn->n_defaults; j++)
    if (!resolve_reference(&call, fn->defaults[j]->name))
      all[call.n_attrs++] = (BoundAttr){fn->defaults[j]->name, fn->defaults[j]};
  call.attrs = all;

  size_t names = fp->n_input + fp->n_output;
  for (size_t i = 0; i < fp->n_node; i++)
    names += fp->node[i]->n_output;
  Scope local = scope_new(names);
  for (size_t k = 0; k < fp->n_input; k++) {
    if (scope_has(&local, fp->input[k]))
      cn_error("function '%s' names input '%s' twice", shown, cn_escape_c_string(fp->input[k], 100));
    /* an input the call leaves out is an omitted optional input throughout the body */
    bool given = k < np->n_input && np->input[k][0];
    if (given && !scope_get(caller, np->input[k]))
      cn_error_node(site, "input %zu '%s' is not a graph input, an initializer or an output of any node", k,
                    cn_escape_c_string(np->input[k], 100));
    scope_put(&local, fp->input[k], given ? scope_get(caller, np->input[k]) : NULL);
  }
  /* formal outputs are the caller's values (or fresh ones for outputs the call leaves out) */
  Value **results = call.results = cn_alloc_array(fp->n_output + 1, sizeof *results);
  call.computed = cn_alloc_array(fp->n_output + 1, sizeof *call.computed);
  for (size_t k = 0; k < fp->n_output; k++) {
    bool wanted = k < np->n_output && np->output[k][0];
    results[k] = wanted ? scope_get(caller, np->output[k])
                        : graph_add_value(g, cn_format("%s/%s", call.path, fp->output[k]));
    if (!scope_has(&local, fp->output[k]))
      scope_put(&local, fp->output[k], results[k]);
  }

  fn->active = true;
  define_outputs(g, &local, fp->node, fp->n_node, &call);
  for (size_t i = 0; i < fp->n_node; i++)
    add_node(g, &local, fns, fp->node[i], &call);
  fn->active = false;

  /* outputs no body node computes: passed-through inputs (an Identity), or an error */
  for (size_t k = 0; k < fp->n_output; k++) {
    Value *v = scope_get(&local, fp->output[k]);
    if (call.computed[k])
      continue;
    if (v == results[k])
      cn_error_node(site, "function '%s' never computes its output '%s'", shown, cn_escape_c_string(fp->output[k], 100));
    if (!v)
      cn_error_node(site, "function '%s' returns its input '%s', which the call leaves out", shown,
                    cn_escape_c_string(fp->output[k], 100));
    Node *copy = graph_add_node(g, cn_format("%s/%s", call.path, fp->output[k]), "Identity", 1, 1);
    copy->op = op_lookup("Identity");
    copy->in[0] = v;
    copy->out[0] = results[k];
    results[k]->producer = copy;
  }
}

/* Adds the node np (or, for a call, the function body it stands for), reading and defining names in sc. */
static void add_node(Graph *g, Scope *sc, const Functions *fns, const Onnx__NodeProto *np, const Call *call) {
  const char *op_type = np->op_type ? np->op_type : "";
  const char *name = np->name ? np->name : "";
  name = call ? cn_format("%s/%s", call->path, name) : cn_strdup(name);
  Function *fn = find_function(fns, np);
  if (fn) {
    /* the call site, for messages: the body replaces the node */
    Node site = {.id = g->n_nodes, .name = name, .op_type = op_type};
    inline_call(g, sc, fns, fn, np, call, &site);
    return;
  }
  Node *n = graph_add_node(g, name, cn_strdup(op_type), (int)np->n_input, (int)np->n_output);
  const char *domain = np->domain ? np->domain : "";
  n->op = domain[0] && strcmp(domain, "ai.onnx") != 0 ? NULL : op_lookup(n->op_type);
  if (!n->op)
    cn_error_node(n, "unsupported operator%s%s%s; see the README for the operators cnnc supports",
                  domain[0] ? " in domain '" : "", cn_escape_c_string(domain, 100), domain[0] ? "'" : "");
  for (size_t k = 0; k < np->n_output; k++) {
    if (!np->output[k][0])
      continue;
    Value *v = scope_get(sc, np->output[k]);
    if (v->producer)
      cn_error("tensor '%s' is defined twice", cn_escape_c_string(np->output[k], 100));
    v->producer = n;
    n->out[k] = v;
  }
  size_t n_attrs;
  BoundAttr *attrs = bind_attributes(np, call, n, &n_attrs);
  n->n_attrs = (int)n_attrs;
  n->attrs = cn_alloc_array(n_attrs, sizeof(Attr));
  for (size_t k = 0; k < n_attrs; k++) {
    copy_attr(&n->attrs[k], attrs[k].value, n);
    n->attrs[k].name = cn_strdup(attrs[k].name);
    for (size_t j = 0; j < k; j++)
      if (strcmp(n->attrs[j].name, n->attrs[k].name) == 0)
        cn_error_node(n, "attribute '%s' is given twice", cn_escape_c_string(n->attrs[k].name, 100));
  }
  for (size_t k = 0; k < np->n_input; k++) {
    if (!np->input[k][0])
      continue;
    /* inside a function, a name bound to an omitted input is an omitted input */
    if (!scope_has(sc, np->input[k]))
      cn_error_node(n, "input %zu '%s' is not a graph input, an initializer or an output of any node", k,
                    cn_escape_c_string(np->input[k], 100));
    n->in[k] = scope_get(sc, np->input[k]);
  }
}

/* raw: per initializer, its raw_data (see split_model), or NULL. */
static Graph *convert(const Onnx__ModelProto *m, const Payload *raw, const char *path, const LoadOptions *o) {
  const Onnx__GraphProto *gp = m->graph;
  if (!gp)
    cn_error("the model has no graph");
  if (gp->n_node > CN_MAX_NODES)
    cn_error("the model has %zu nodes; cnnc accepts at most %d", gp->n_node, CN_MAX_NODES);
  if (gp->n_sparse_initializer)
    cn_error("sparse initializers are not supported");
  Graph *g = graph_new(path);
  g->opset = opset_of(m);
  if (g->opset > CN_MAX_OPSET || g->opset < 1)
    cn_error("the model imports opset %lld of the default domain; cnnc implements opsets 1 to %d", (long long)g->opset,
             CN_MAX_OPSET);
  g->producer = cn_format("%s %s", m->producer_name ? m->producer_name : "", m->producer_version ? m->producer_version : "");
  size_t names = gp->n_initializer + gp->n_input;
  for (size_t i = 0; i < gp->n_node; i++)
    names += gp->node[i]->n_output;
  Scope sc = scope_new(names);

  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *t = gp->initializer[i];
    Value *v = define(g, &sc, t->name ? t->name : "", "initializer");
    tensor_to_value(t, raw ? &raw[i] : NULL, v, "initializer");
    v->flags |= VAL_INITIALIZER;
  }
  g->inputs = cn_alloc_array(gp->n_input + 1, sizeof(Value *));
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    const char *name = vi->name ? vi->name : "";
    if (scope_has(&sc, name))
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
    Value *v = scope_get(&sc, o->binds[k].name);
    if (!v || !(v->flags & VAL_INITIALIZER) || v->producer)
      cn_error("--bind %s: the graph has no input of that name", cn_escape_c_string(o->binds[k].name, 100));
  }

  Functions fns = functions_of(m, g->opset);
  define_outputs(g, &sc, gp->node, gp->n_node, NULL);
  for (size_t i = 0; i < gp->n_node; i++)
    add_node(g, &sc, &fns, gp->node[i], NULL);
  g->outputs = cn_alloc_array(gp->n_output + 1, sizeof(Value *));
  for (size_t i = 0; i < gp->n_output; i++) {
    const char *name = gp->output[i]->name ? gp->output[i]->name : "";
    Value *v = scope_get(&sc, name);
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

/* A model file, unpacked. */
typedef struct ModelFile {
  Onnx__ModelProto *proto;
  Payload *raw;         /* per initializer, the raw_data split_model took out, or NULL when it did not apply */
  uint8_t *split;       /* what protobuf-c unpacked, when split */
  const uint8_t *read;  /* the file's bytes when they were read, not mapped */
} ModelFile;

static ModelFile read_model(const char *path) {
  ModelFile f = {0};
  size_t size, unpack_size;
  bool mapped;
  const uint8_t *bytes = map_model(path, &size, &mapped), *unpack = bytes;
  if (!mapped)
    f.read = bytes;
  unpack_size = size;
  if (split_model(bytes, size, mapped, &f.split, &unpack_size, &f.raw))
    unpack = f.split;
  if (!nesting_within_limit(&onnx__model_proto__descriptor, unpack, unpack + unpack_size, 0))
    cn_error("the model nests graphs or types more than %d levels deep", MAX_MESSAGE_DEPTH);
  f.proto = onnx__model_proto__unpack(&pb_allocator, unpack_size, unpack);
  if (!f.proto)
    cn_error("not a valid ONNX model (the protobuf is malformed or truncated)");
  return f;
}

/* Releases what only loading needed; values may still point into the mapping. */
static void free_model(ModelFile *f) {
  onnx__model_proto__free_unpacked(f->proto, &pb_allocator);
  cn_free(f->split);
  cn_free(f->raw);
  cn_free((void *)f->read);
}

Graph *onnx_load(const char *path, const LoadOptions *opts) {
  diag_file = path;
  external_dir = directory_of(path);
  ModelFile f = read_model(path);
  Graph *g = convert(f.proto, f.raw, path, opts);
  free_model(&f);
  return g;
}

Value **onnx_load_initializers(const char *path, int *count) {
  const char *model_file = diag_file, *model_dir = external_dir;
  diag_file = path;
  external_dir = directory_of(path);
  ModelFile f = read_model(path);
  const Onnx__GraphProto *gp = f.proto->graph;
  size_t n = gp ? gp->n_initializer : 0;
  if (n > CN_MAX_NODES)
    cn_error("the model has %zu initializers; cnnc accepts at most %d", n, CN_MAX_NODES);
  Value **values = cn_alloc_array(n + 1, sizeof(Value *));
  for (size_t i = 0; i < n; i++)
    values[i] = new_const(gp->initializer[i], f.raw ? &f.raw[i] : NULL, "", "initializer");
  free_model(&f);
  diag_file = model_file;
  external_dir = model_dir;
  *count = (int)n;
  return values;
}
