/* common.c: status messages, data types and file reading shared by the
 * runtime. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnrt_internal.h"

/* Per thread, so that programs decoding in several threads get their own
 * messages, as with errno. */
static _Thread_local char last_error[1024];

const char *cnnrt_strerror(int status) {
  switch (status) {
  case CNNRT_OK: return "success";
  case CNNRT_ERR_IO: return "I/O error";
  case CNNRT_ERR_FORMAT: return "malformed file";
  case CNNRT_ERR_UNSUPPORTED: return "unsupported feature";
  case CNNRT_ERR_MISMATCH: return "unexpected contents";
  case CNNRT_ERR_NOMEM: return "out of memory";
  case CNNRT_ERR_LIMIT: return "size limit exceeded";
  case CNNRT_ERR_ARG: return "invalid argument";
  default: return "unknown error";
  }
}

const char *cnnrt_last_error(void) { return last_error; }

int cnnrt_fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

int cnnrt_fail_prefix(int status, const char *prefix) {
  size_t len = strlen(prefix);
  if (len > sizeof last_error - 3)
    len = sizeof last_error - 3;
  memmove(last_error + len + 2, last_error, sizeof last_error - len - 3);
  last_error[sizeof last_error - 1] = '\0';
  memcpy(last_error, prefix, len);
  memcpy(last_error + len, ": ", 2);
  return status;
}

size_t cnnrt_elem_size(int elem_type) {
  switch (elem_type) {
  case CNNRT_UINT8:
  case CNNRT_INT8:
  case CNNRT_BOOL: return 1;
  case CNNRT_UINT16:
  case CNNRT_INT16: return 2;
  case CNNRT_FLOAT:
  case CNNRT_INT32:
  case CNNRT_UINT32: return 4;
  case CNNRT_INT64:
  case CNNRT_DOUBLE:
  case CNNRT_UINT64: return 8;
  default: return 0;
  }
}

const char *cnnrt_elem_type_name(int elem_type) {
  switch (elem_type) {
  case CNNRT_FLOAT: return "float";
  case CNNRT_UINT8: return "uint8";
  case CNNRT_INT8: return "int8";
  case CNNRT_UINT16: return "uint16";
  case CNNRT_INT16: return "int16";
  case CNNRT_INT32: return "int32";
  case CNNRT_INT64: return "int64";
  case CNNRT_BOOL: return "bool";
  case CNNRT_DOUBLE: return "double";
  case CNNRT_UINT32: return "uint32";
  case CNNRT_UINT64: return "uint64";
  default: return "unknown";
  }
}

void cnnrt_tensor_free(cnnrt_tensor *t) {
  free(t->data);
  memset(t, 0, sizeof *t);
}

int cnnrt_file_read(const char *path, size_t limit, unsigned char **data,
                    size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return cnnrt_fail(CNNRT_ERR_IO, "%s: cannot open: %s", path,
                      strerror(errno));
  /* Grow while reading rather than trusting a seek to the end: that also
   * works for pipes, and a file growing underneath cannot overrun. */
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  int status = CNNRT_OK;
  while (buf) {
    len += fread(buf + len, 1, cap - len, f);
    if (ferror(f)) {
      status = cnnrt_fail(CNNRT_ERR_IO, "%s: cannot read: %s", path,
                          strerror(errno));
      break;
    }
    if (len > limit) {
      status =
          cnnrt_fail(CNNRT_ERR_LIMIT, "%s: larger than %zu bytes", path, limit);
      break;
    }
    if (feof(f))
      break;
    /* One byte past the limit is enough to tell that it was passed. */
    cap = cap > limit / 2 ? limit + 1 : cap * 2;
    unsigned char *grown = realloc(buf, cap);
    if (!grown)
      free(buf);
    buf = grown;
  }
  fclose(f);
  if (!buf)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory reading the file",
                      path);
  if (status != CNNRT_OK) {
    free(buf);
    return status;
  }
  *data = buf;
  *size = len;
  return CNNRT_OK;
}

int cnnrt_count_elems(int rank, const int64_t *dims, int elem_type,
                      size_t *count) {
  char shape[CNNRT_MAX_RANK * 22 + 3];
  size_t max = CNNRT_MAX_BYTES / cnnrt_elem_size(elem_type), n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return cnnrt_fail(CNNRT_ERR_FORMAT, "dim %d is negative (%lld)", i,
                        (long long)dims[i]);
    if (n != 0 && (uint64_t)dims[i] > max / n) {
      cnnrt_format_dims(shape, sizeof shape, rank, dims);
      return cnnrt_fail(CNNRT_ERR_LIMIT,
                        "dims %s of %s exceed the %zu-byte limit", shape,
                        cnnrt_elem_type_name(elem_type), CNNRT_MAX_BYTES);
    }
    n *= (size_t)dims[i];
  }
  *count = n;
  return CNNRT_OK;
}

void cnnrt_format_dims(char *buf, size_t size, int rank, const int64_t *dims) {
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < rank && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? "," : "[",
                            (long long)dims[i]);
  if (len < size)
    snprintf(buf + len, size - len, "%s", rank ? "]" : "[]");
}
