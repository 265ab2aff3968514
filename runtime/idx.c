/* idx.c: IDX data-set files, the format of MNIST and Fashion-MNIST.
 *
 * Layout: 0x00 0x00, a type byte, the number of dims, then each dim as a
 * big-endian uint32, then the elements in big-endian order. zlib's gzread
 * passes uncompressed files through unchanged, so one path reads both. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cnnrt_internal.h"

/* ONNX type for an IDX type byte, or 0 for bytes the format does not use. */
static int idx_elem_type(unsigned code) {
  switch (code) {
  case 0x08: return CNNRT_UINT8;
  case 0x09: return CNNRT_INT8;
  case 0x0B: return CNNRT_INT16;
  case 0x0C: return CNNRT_INT32;
  case 0x0D: return CNNRT_FLOAT;
  case 0x0E: return CNNRT_DOUBLE;
  default: return 0;
  }
}

/* Reads up to n bytes, fewer only at end of data. gzread takes an unsigned
 * count and returns an int, hence the chunks. */
static int read_upto(gzFile gz, const char *path, unsigned char *buf, size_t n,
                     size_t *got) {
  *got = 0;
  while (*got < n) {
    size_t want = n - *got;
    if (want > INT_MAX / 2)
      want = INT_MAX / 2;
    int r = gzread(gz, buf + *got, (unsigned)want);
    if (r < 0) {
      int zerr;
      const char *msg = gzerror(gz, &zerr);
      return cnnrt_fail(CNNRT_ERR_FORMAT, "%s: cannot decompress: %s", path,
                        zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    if (r == 0)
      break;
    *got += (size_t)r;
  }
  return CNNRT_OK;
}

/* Reads exactly `bytes` bytes of elements. The buffer grows as data
 * arrives, so that a header claiming gigabytes in a tiny file fails before
 * that much is allocated. */
static int read_data(gzFile gz, const char *path, size_t bytes,
                     unsigned char **data) {
  size_t cap = bytes < ((size_t)1 << 24) ? bytes : (size_t)1 << 24, len = 0;
  unsigned char *buf = malloc(cap ? cap : 1);
  int st = CNNRT_OK;
  while (buf && !st) {
    size_t got;
    if ((st = read_upto(gz, path, buf + len, cap - len, &got)))
      break;
    len += got;
    if (len < cap) {
      st = cnnrt_fail(CNNRT_ERR_FORMAT,
                      "%s: truncated: the header promises %zu bytes of data, "
                      "the file has %zu",
                      path, bytes, len);
      break;
    }
    if (len == bytes)
      break;
    cap = bytes / 2 < cap ? bytes : cap * 2;
    unsigned char *grown = realloc(buf, cap);
    if (!grown)
      free(buf);
    buf = grown;
  }
  if (!buf)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory for %zu bytes", path,
                      bytes);
  if (st) {
    free(buf);
    return st;
  }
  *data = buf;
  return CNNRT_OK;
}

static void from_big_endian(unsigned char *data, size_t count, size_t width) {
  const uint16_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  if (width == 1 || first == 0)
    return;
  for (unsigned char *p = data; count--; p += width)
    for (size_t a = 0, b = width - 1; a < b; a++, b--) {
      unsigned char t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

static int read_idx(gzFile gz, const char *path, cnnrt_tensor *t) {
  unsigned char head[4 + 4 * CNNRT_MAX_RANK];
  size_t got;
  int st = read_upto(gz, path, head, 4, &got);
  if (st)
    return st;
  if (got < 4)
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "%s: truncated: %zu bytes, shorter than an IDX header",
                      path, got);
  t->elem_type = idx_elem_type(head[2]);
  if (head[0] != 0 || head[1] != 0 || t->elem_type == 0 || head[3] == 0)
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "%s: bad IDX magic %02x %02x %02x %02x: expected 00 00, "
                      "a type byte (08, 09, 0b, 0c, 0d or 0e) and a dim count",
                      path, head[0], head[1], head[2], head[3]);
  if (head[3] > CNNRT_MAX_RANK)
    return cnnrt_fail(CNNRT_ERR_UNSUPPORTED, "%s: %u dims, at most %d allowed",
                      path, head[3], CNNRT_MAX_RANK);
  t->rank = head[3];
  size_t dim_bytes = 4 * (size_t)t->rank;
  if ((st = read_upto(gz, path, head + 4, dim_bytes, &got)))
    return st;
  if (got < dim_bytes)
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "%s: truncated: the header lists %d dims but ends after "
                      "%zu of their %zu bytes",
                      path, t->rank, got, dim_bytes);
  for (int i = 0; i < t->rank; i++) {
    const unsigned char *d = head + 4 + 4 * i;
    t->dims[i] = (int64_t)((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
                           (uint32_t)d[2] << 8 | d[3]);
  }
  t->elem_size = cnnrt_elem_size(t->elem_type);
  if ((st = cnnrt_count_elems(t->rank, t->dims, t->elem_type, &t->count)))
    return cnnrt_fail_prefix(st, path);
  unsigned char *data = NULL;
  if ((st = read_data(gz, path, t->count * t->elem_size, &data)))
    return st;
  t->data = data;
  /* Reading past the end also makes zlib verify the gzip trailer's CRC. */
  unsigned char extra;
  if ((st = read_upto(gz, path, &extra, 1, &got)))
    return st;
  if (got)
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "%s: data continues past the %zu bytes the header "
                      "promises",
                      path, t->count * t->elem_size);
  from_big_endian(data, t->count, t->elem_size);
  snprintf(t->name, sizeof t->name, "%s", path);
  return CNNRT_OK;
}

int cnnrt_idx_read(const char *path, cnnrt_tensor *out) {
  memset(out, 0, sizeof *out);
  errno = 0;
  gzFile gz = gzopen(path, "rb");
  if (!gz)
    return cnnrt_fail(CNNRT_ERR_IO, "%s: cannot open: %s", path,
                      errno ? strerror(errno) : "out of memory");
  int st = read_idx(gz, path, out);
  gzclose(gz);
  if (st)
    cnnrt_tensor_free(out);
  return st;
}
