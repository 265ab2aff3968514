/* tensor_io.c: ONNX TensorProto and raw tensor files.
 *
 * The protobuf wire format is decoded by hand because the runtime links into
 * users' programs, which should not need a protobuf library for one message.
 * Input is untrusted: every read is bounds-checked and nothing is allocated
 * before the element count has been checked against the data present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnrt_internal.h"

/* TensorProto field numbers, from onnx.proto. */
enum {
  F_DIMS = 1,
  F_DATA_TYPE = 2,
  F_SEGMENT = 3,
  F_FLOAT_DATA = 4,
  F_INT32_DATA = 5,
  F_STRING_DATA = 6,
  F_INT64_DATA = 7,
  F_NAME = 8,
  F_RAW_DATA = 9,
  F_DOUBLE_DATA = 10,
  F_UINT64_DATA = 11,
  F_EXTERNAL_DATA = 13,
  F_DATA_LOCATION = 14,
};

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* Protobuf field numbers are 29 bits wide. */
#define MAX_FIELD_NUMBER 536870911u

typedef struct reader {
  const unsigned char *start, *p, *end;
} reader;

/* One decoded key and its value: the varint for WT_VARINT, otherwise the
 * bytes of the value (4 or 8 for fixed types, the payload for WT_LEN). */
typedef struct field {
  const unsigned char *msg; /* start of the message, for byte offsets */
  uint32_t number;
  int wire;
  uint64_t varint;
  const unsigned char *bytes;
  size_t len;
} field;

static const char *field_name(uint32_t number) {
  switch (number) {
  case F_DIMS: return "dims";
  case F_DATA_TYPE: return "data_type";
  case F_SEGMENT: return "segment";
  case F_FLOAT_DATA: return "float_data";
  case F_INT32_DATA: return "int32_data";
  case F_STRING_DATA: return "string_data";
  case F_INT64_DATA: return "int64_data";
  case F_NAME: return "name";
  case F_RAW_DATA: return "raw_data";
  case F_DOUBLE_DATA: return "double_data";
  case F_UINT64_DATA: return "uint64_data";
  case F_EXTERNAL_DATA: return "external_data";
  case F_DATA_LOCATION: return "data_location";
  default: return "unknown field";
  }
}

static size_t offset(const reader *r) { return (size_t)(r->p - r->start); }

static int read_varint(reader *r, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p == r->end)
      return cnnrt_fail(CNNRT_ERR_FORMAT, "truncated varint at byte %zu",
                        offset(r));
    unsigned b = *r->p++;
    /* The tenth byte holds bit 63 only; anything more cannot be a uint64. */
    if (shift == 63 && b > 1)
      return cnnrt_fail(CNNRT_ERR_FORMAT, "varint too long at byte %zu",
                        offset(r) - 1);
    x |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return CNNRT_OK;
    }
  }
  return cnnrt_fail(CNNRT_ERR_FORMAT, "varint too long at byte %zu", offset(r));
}

static int read_bytes(reader *r, size_t n, field *f) {
  if ((size_t)(r->end - r->p) < n)
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "field %u (%s) is truncated: needs %zu bytes at byte "
                      "%zu, %zu left",
                      f->number, field_name(f->number), n, offset(r),
                      (size_t)(r->end - r->p));
  f->bytes = r->p;
  f->len = n;
  r->p += n;
  return CNNRT_OK;
}

static int next_field(reader *r, field *f) {
  uint64_t key;
  size_t at = offset(r);
  int st = read_varint(r, &key);
  if (st)
    return st;
  if ((key >> 3) == 0 || (key >> 3) > MAX_FIELD_NUMBER)
    return cnnrt_fail(CNNRT_ERR_FORMAT, "invalid field number %llu at byte %zu",
                      (unsigned long long)(key >> 3), at);
  f->msg = r->start;
  f->number = (uint32_t)(key >> 3);
  f->wire = (int)(key & 7);
  f->bytes = NULL;
  f->len = 0;
  switch (f->wire) {
  case WT_VARINT: return read_varint(r, &f->varint);
  case WT_I64: return read_bytes(r, 8, f);
  case WT_I32: return read_bytes(r, 4, f);
  case WT_LEN:
    st = read_varint(r, &f->varint);
    if (st)
      return st;
    if (f->varint > (uint64_t)(r->end - r->p))
      return cnnrt_fail(CNNRT_ERR_FORMAT,
                        "field %u (%s) at byte %zu claims %llu bytes, only "
                        "%zu left",
                        f->number, field_name(f->number), at,
                        (unsigned long long)f->varint, (size_t)(r->end - r->p));
    return read_bytes(r, (size_t)f->varint, f);
  default:
    /* Groups (3, 4) are obsolete and 6, 7 undefined; none can be skipped
     * without understanding them. */
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "field %u at byte %zu has unsupported wire type %d",
                      f->number, at, f->wire);
  }
}

static int wrong_wire(const field *f) {
  return cnnrt_fail(CNNRT_ERR_FORMAT, "field %u (%s) has wire type %d",
                    f->number, field_name(f->number), f->wire);
}

/* Counts the varints in a packed payload, checking that each is whole. */
static int count_varints(const field *f, size_t *n) {
  reader r = {f->msg, f->bytes, f->bytes + f->len};
  uint64_t v;
  while (r.p < r.end) {
    int st = read_varint(&r, &v);
    if (st)
      return cnnrt_fail_prefix(st, field_name(f->number));
    (*n)++;
  }
  return CNNRT_OK;
}

/* Adds the elements of one occurrence of a repeated numeric field to *n.
 * Both packed (WT_LEN) and one-per-key encodings are legal protobuf. */
static int count_repeated(const field *f, int scalar_wire, size_t width,
                          size_t *n) {
  if (f->wire == scalar_wire) {
    (*n)++;
    return CNNRT_OK;
  }
  if (f->wire != WT_LEN)
    return wrong_wire(f);
  if (width == 0)
    return count_varints(f, n);
  if (f->len % width)
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "packed %s holds %zu bytes, not a multiple of %zu",
                      field_name(f->number), f->len, width);
  *n += f->len / width;
  return CNNRT_OK;
}

static int host_is_little_endian(void) {
  const uint16_t one = 1;
  unsigned char b;
  memcpy(&b, &one, 1);
  return b == 1;
}

/* Copies little-endian elements into host order; dst may equal src. */
static void copy_le(void *dst, const unsigned char *src, size_t count,
                    size_t width) {
  unsigned char *d = dst;
  if (host_is_little_endian()) {
    if (d != src)
      memcpy(d, src, count * width);
    return;
  }
  for (size_t i = 0; i < count; i++) {
    unsigned char elem[8];
    memcpy(elem, src + i * width, width);
    for (size_t b = 0; b < width; b++)
      d[i * width + b] = elem[width - 1 - b];
  }
}

/* Which typed field carries the data of each element type, per onnx.proto. */
static uint32_t typed_field(int elem_type) {
  switch (elem_type) {
  case CNNRT_FLOAT: return F_FLOAT_DATA;
  case CNNRT_UINT8:
  case CNNRT_INT8:
  case CNNRT_UINT16:
  case CNNRT_INT16:
  case CNNRT_INT32:
  case CNNRT_BOOL: return F_INT32_DATA;
  case CNNRT_INT64: return F_INT64_DATA;
  case CNNRT_DOUBLE: return F_DOUBLE_DATA;
  case CNNRT_UINT32:
  case CNNRT_UINT64: return F_UINT64_DATA;
  default: return 0;
  }
}

/* Stores one integer from int32_data, int64_data or uint64_data, which
 * protobuf widens to 64 bits, after checking it fits the element type. */
static int store_int(void *data, size_t i, int elem_type, uint64_t raw) {
  int64_t s = (int64_t)raw;
  int fits;
  switch (elem_type) {
  case CNNRT_UINT8: fits = s >= 0 && s <= UINT8_MAX; break;
  case CNNRT_INT8: fits = s >= INT8_MIN && s <= INT8_MAX; break;
  case CNNRT_UINT16: fits = s >= 0 && s <= UINT16_MAX; break;
  case CNNRT_INT16: fits = s >= INT16_MIN && s <= INT16_MAX; break;
  case CNNRT_INT32: fits = s >= INT32_MIN && s <= INT32_MAX; break;
  case CNNRT_BOOL: fits = raw <= 1; break;
  case CNNRT_UINT32: fits = raw <= UINT32_MAX; break;
  default: fits = 1; break;
  }
  if (!fits)
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "element %zu (%lld) does not fit data_type %s", i,
                      (long long)s, cnnrt_elem_type_name(elem_type));
  switch (elem_type) {
  case CNNRT_UINT8:
  case CNNRT_BOOL: ((uint8_t *)data)[i] = (uint8_t)raw; break;
  case CNNRT_INT8: ((int8_t *)data)[i] = (int8_t)s; break;
  case CNNRT_UINT16: ((uint16_t *)data)[i] = (uint16_t)raw; break;
  case CNNRT_INT16: ((int16_t *)data)[i] = (int16_t)s; break;
  case CNNRT_INT32: ((int32_t *)data)[i] = (int32_t)s; break;
  case CNNRT_UINT32: ((uint32_t *)data)[i] = (uint32_t)raw; break;
  case CNNRT_INT64: ((int64_t *)data)[i] = s; break;
  default: ((uint64_t *)data)[i] = raw; break;
  }
  return CNNRT_OK;
}

/* Decodes the elements of one occurrence of the typed field into data,
 * starting at element *i. Framing was validated by the first pass. */
static int decode_typed(const field *f, const cnnrt_tensor *t, size_t *i) {
  if (f->number == F_FLOAT_DATA || f->number == F_DOUBLE_DATA) {
    size_t n = f->len / t->elem_size;
    copy_le((unsigned char *)t->data + *i * t->elem_size, f->bytes, n,
            t->elem_size);
    *i += n;
    return CNNRT_OK;
  }
  if (f->wire == WT_VARINT)
    return store_int(t->data, (*i)++, t->elem_type, f->varint);
  reader r = {f->msg, f->bytes, f->bytes + f->len};
  while (r.p < r.end) {
    uint64_t v;
    int st = read_varint(&r, &v);
    if (!st)
      st = store_int(t->data, (*i)++, t->elem_type, v);
    if (st)
      return st;
  }
  return CNNRT_OK;
}

/* What the first pass learns about a message. */
typedef struct summary {
  int64_t data_type;
  int has_raw, has_external, has_segment;
  const unsigned char *raw;
  size_t raw_len;
  size_t n_strings;
  size_t n_typed[F_UINT64_DATA + 1]; /* element counts by field number */
} summary;

static int add_dim(cnnrt_tensor *t, uint64_t v) {
  if (t->rank == CNNRT_MAX_RANK)
    return cnnrt_fail(CNNRT_ERR_UNSUPPORTED, "more than %d dims",
                      CNNRT_MAX_RANK);
  if (v > INT64_MAX)
    return cnnrt_fail(CNNRT_ERR_FORMAT, "dim %d is negative (%lld)", t->rank,
                      (long long)v);
  t->dims[t->rank++] = (int64_t)v;
  return CNNRT_OK;
}

static int scan_field(const field *f, cnnrt_tensor *t, summary *s) {
  switch (f->number) {
  case F_DIMS:
    if (f->wire == WT_VARINT)
      return add_dim(t, f->varint);
    if (f->wire != WT_LEN)
      return wrong_wire(f);
    for (reader r = {f->msg, f->bytes, f->bytes + f->len}; r.p < r.end;) {
      uint64_t v;
      int st = read_varint(&r, &v);
      if (st)
        return cnnrt_fail_prefix(st, "dims");
      if ((st = add_dim(t, v)))
        return st;
    }
    return CNNRT_OK;
  case F_DATA_TYPE:
  case F_DATA_LOCATION:
    if (f->wire != WT_VARINT)
      return wrong_wire(f);
    if (f->number == F_DATA_TYPE)
      s->data_type = (int64_t)f->varint;
    else if (f->varint != 0)
      s->has_external = 1;
    return CNNRT_OK;
  case F_FLOAT_DATA:
    return count_repeated(f, WT_I32, 4, &s->n_typed[f->number]);
  case F_DOUBLE_DATA:
    return count_repeated(f, WT_I64, 8, &s->n_typed[f->number]);
  case F_INT32_DATA:
  case F_INT64_DATA:
  case F_UINT64_DATA:
    return count_repeated(f, WT_VARINT, 0, &s->n_typed[f->number]);
  case F_NAME:
  case F_RAW_DATA:
  case F_STRING_DATA:
  case F_SEGMENT:
  case F_EXTERNAL_DATA:
    if (f->wire != WT_LEN)
      return wrong_wire(f);
    if (f->number == F_NAME) {
      /* Names only label messages, so a cut-off one does no harm. */
      size_t n = f->len < sizeof t->name - 1 ? f->len : sizeof t->name - 1;
      memcpy(t->name, f->bytes, n);
      t->name[n] = '\0';
    } else if (f->number == F_RAW_DATA) {
      /* A repeated singular field means the last one wins. */
      s->has_raw = 1;
      s->raw = f->bytes;
      s->raw_len = f->len;
    } else if (f->number == F_STRING_DATA) {
      s->n_strings++;
    } else if (f->number == F_SEGMENT) {
      s->has_segment = 1;
    } else {
      s->has_external = 1;
    }
    return CNNRT_OK;
  default:
    /* Newer ONNX versions may add fields; skipping them is protobuf's rule. */
    return CNNRT_OK;
  }
}

/* Checks the summary against the dims and type, allocates the data and
 * fills it from raw_data or the typed field. */
static int fill_data(const unsigned char *buf, size_t size, cnnrt_tensor *t,
                     const summary *s) {
  char shape[CNNRT_MAX_RANK * 22 + 3];
  if (s->has_external)
    return cnnrt_fail(CNNRT_ERR_UNSUPPORTED,
                      "tensor data is stored externally (data_location or "
                      "external_data); expected the data in the file");
  if (s->has_segment)
    return cnnrt_fail(CNNRT_ERR_UNSUPPORTED,
                      "tensor is a segment of a larger one");
  if (s->data_type == 0)
    return cnnrt_fail(CNNRT_ERR_FORMAT, "data_type is missing");
  if (s->data_type < 0 || s->data_type > 1000 ||
      cnnrt_elem_size((int)s->data_type) == 0)
    return cnnrt_fail(CNNRT_ERR_UNSUPPORTED,
                      "data_type %lld is not supported (expected a numeric "
                      "or bool type)",
                      (long long)s->data_type);
  t->elem_type = (int)s->data_type;
  t->elem_size = cnnrt_elem_size(t->elem_type);
  int st = cnnrt_count_elems(t->rank, t->dims, t->elem_type, &t->count);
  if (st)
    return st;
  const char *type = cnnrt_elem_type_name(t->elem_type);
  uint32_t want = typed_field(t->elem_type);
  if (s->n_strings)
    return cnnrt_fail(CNNRT_ERR_FORMAT, "string_data given for data_type %s",
                      type);
  for (uint32_t fn = 0; fn <= F_UINT64_DATA; fn++)
    if (s->n_typed[fn] && (fn != want || s->has_raw))
      return cnnrt_fail(CNNRT_ERR_FORMAT, "%s given for data_type %s%s",
                        field_name(fn), type,
                        s->has_raw ? " alongside raw_data" : "");
  cnnrt_format_dims(shape, sizeof shape, t->rank, t->dims);
  size_t bytes = t->count * t->elem_size;
  if (s->has_raw && s->raw_len != bytes)
    return cnnrt_fail(CNNRT_ERR_MISMATCH,
                      "raw_data holds %zu bytes, but dims %s of %s need %zu",
                      s->raw_len, shape, type, bytes);
  if (!s->has_raw && s->n_typed[want] != t->count)
    return cnnrt_fail(CNNRT_ERR_MISMATCH,
                      "%s holds %zu elements, but dims %s need %zu",
                      field_name(want), s->n_typed[want], shape, t->count);
  t->data = malloc(bytes ? bytes : 1);
  if (!t->data)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "out of memory for %zu bytes", bytes);
  if (s->has_raw) {
    copy_le(t->data, s->raw, t->count, t->elem_size);
    return CNNRT_OK;
  }
  reader r = {buf, buf, buf + size};
  size_t i = 0;
  while (r.p < r.end) {
    field f;
    if ((st = next_field(&r, &f)))
      return st;
    if (f.number == want && (st = decode_typed(&f, t, &i)))
      return st;
  }
  return CNNRT_OK;
}

int cnnrt_tensor_parse_pb(const void *buf, size_t size, cnnrt_tensor *out) {
  memset(out, 0, sizeof *out);
  if (!buf && size)
    return cnnrt_fail(CNNRT_ERR_ARG, "no buffer");
  summary s = {0};
  reader r = {buf, buf, (const unsigned char *)buf + size};
  int st = CNNRT_OK;
  while (r.p < r.end && !st) {
    field f;
    st = next_field(&r, &f);
    if (!st)
      st = scan_field(&f, out, &s);
  }
  if (!st)
    st = fill_data(buf, size, out, &s);
  if (st)
    cnnrt_tensor_free(out);
  return st;
}

int cnnrt_tensor_read_pb(const char *path, cnnrt_tensor *out) {
  unsigned char *buf;
  size_t size;
  memset(out, 0, sizeof *out);
  int st = cnnrt_file_read(path, CNNRT_MAX_BYTES, &buf, &size);
  if (st)
    return st;
  st = cnnrt_tensor_parse_pb(buf, size, out);
  free(buf);
  if (st)
    return cnnrt_fail_prefix(st, path);
  return CNNRT_OK;
}

int cnnrt_tensor_read_raw(const char *path, int elem_type, size_t count,
                          cnnrt_tensor *out) {
  memset(out, 0, sizeof *out);
  size_t width = cnnrt_elem_size(elem_type);
  if (width == 0)
    return cnnrt_fail(CNNRT_ERR_ARG, "%s: data_type %d is not supported", path,
                      elem_type);
  if (count > CNNRT_MAX_BYTES / width)
    return cnnrt_fail(CNNRT_ERR_LIMIT, "%s: %zu %s elements exceed %zu bytes",
                      path, count, cnnrt_elem_type_name(elem_type),
                      CNNRT_MAX_BYTES);
  unsigned char *buf;
  size_t size;
  /* Reading one byte past the expected size is how a too-long file shows. */
  int st = cnnrt_file_read(path, count * width, &buf, &size);
  if (st == CNNRT_ERR_LIMIT || (!st && size != count * width)) {
    free(buf);
    return cnnrt_fail(CNNRT_ERR_MISMATCH,
                      "%s: expected %zu bytes (%zu little-endian %s), found "
                      "%s%zu",
                      path, count * width, count,
                      cnnrt_elem_type_name(elem_type), st ? "more than " : "",
                      st ? count * width : size);
  }
  if (st)
    return st;
  out->data = buf;
  copy_le(buf, buf, count, width);
  snprintf(out->name, sizeof out->name, "%s", path);
  out->elem_type = elem_type;
  out->elem_size = width;
  out->rank = 1;
  out->dims[0] = (int64_t)count;
  out->count = count;
  return CNNRT_OK;
}
