/* test_runtime.c: the runtime's readers, image pipeline and helpers.
 *
 * Inputs are built byte by byte here (TensorProtos, IDX files, PGM/PPM
 * images) so that each test states exactly what it feeds the decoder. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cnnrt.h"

/* ---- byte buffers and files ---- */

typedef struct bytes {
  unsigned char data[8192];
  size_t len;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  CU_ASSERT_FATAL(b->len + n <= sizeof b->data);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void put_varint(bytes *b, uint64_t v) {
  do {
    unsigned char c = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    put(b, &c, 1);
    v >>= 7;
  } while (v);
}

static void put_key(bytes *b, unsigned field, unsigned wire) {
  put_varint(b, (uint64_t)field << 3 | wire);
}

static void put_varint_field(bytes *b, unsigned field, uint64_t v) {
  put_key(b, field, 0);
  put_varint(b, v);
}

static void put_len_field(bytes *b, unsigned field, const void *p, size_t n) {
  put_key(b, field, 2);
  put_varint(b, n);
  put(b, p, n);
}

static void put_le32(bytes *b, uint32_t v) {
  unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                        (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
  put(b, c, 4);
}

static void put_float_le(bytes *b, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  put_le32(b, u);
}

static void put_be32(bytes *b, uint32_t v) {
  unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 8), (unsigned char)v};
  put(b, c, 4);
}

/* A fresh temporary file name; the caller removes the file. */
static void temp_path(char *path, size_t size) {
  const char *dir = getenv("TMPDIR");
  snprintf(path, size, "%s/cnnrt_test_XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  close(fd);
}

static void write_file(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_FATAL(fwrite(p, 1, n, f) == n);
  fclose(f);
}

static void write_gzip(const char *path, const void *p, size_t n) {
  gzFile gz = gzopen(path, "wb");
  CU_ASSERT_FATAL(gz != NULL);
  CU_ASSERT_FATAL(gzwrite(gz, p, (unsigned)n) == (int)n);
  gzclose(gz);
}

static int contains(const char *haystack, const char *needle) {
  return strstr(haystack, needle) != NULL;
}

/* ---- TensorProto ---- */

/* dims [2,3], float, name "weights", raw_data last so that every proper
 * prefix of the encoding lacks data. */
static void encode_raw_tensor(bytes *b, const float *values) {
  put_varint_field(b, 1, 2);
  put_varint_field(b, 1, 3);
  put_varint_field(b, 2, CNNRT_FLOAT);
  put_len_field(b, 8, "weights", 7);
  bytes raw = {.len = 0};
  for (int i = 0; i < 6; i++)
    put_float_le(&raw, values[i]);
  put_len_field(b, 9, raw.data, raw.len);
}

static void test_pb_raw_data(void) {
  const float v[6] = {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f};
  bytes b = {.len = 0};
  encode_raw_tensor(&b, v);
  cnnrt_tensor t;
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_OK);
  CU_ASSERT_STRING_EQUAL(t.name, "weights");
  CU_ASSERT_EQUAL(t.elem_type, CNNRT_FLOAT);
  CU_ASSERT_EQUAL(t.elem_size, 4);
  CU_ASSERT_EQUAL(t.rank, 2);
  CU_ASSERT_EQUAL(t.dims[0], 2);
  CU_ASSERT_EQUAL(t.dims[1], 3);
  CU_ASSERT_EQUAL(t.count, 6);
  CU_ASSERT(memcmp(t.data, v, sizeof v) == 0);
  cnnrt_tensor_free(&t);
  CU_ASSERT_PTR_NULL(t.data);

  char path[256];
  temp_path(path, sizeof path);
  write_file(path, b.data, b.len);
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_read_pb(path, &t), CNNRT_OK);
  CU_ASSERT_EQUAL(t.count, 6);
  CU_ASSERT(memcmp(t.data, v, sizeof v) == 0);
  cnnrt_tensor_free(&t);
  remove(path);
}

static void test_pb_float_data(void) {
  /* Packed dims, three packed floats, then one more as its own key: both
   * encodings of a repeated field are legal and add up. */
  bytes b = {.len = 0}, dims = {.len = 0}, packed = {.len = 0};
  put_varint(&dims, 1);
  put_varint(&dims, 4);
  put_len_field(&b, 1, dims.data, dims.len);
  put_len_field(&b, 8, "x", 1);
  put_float_le(&packed, 0.5f);
  put_float_le(&packed, -1.0f);
  put_float_le(&packed, 42.0f);
  put_len_field(&b, 4, packed.data, packed.len);
  put_key(&b, 4, 5);
  put_float_le(&b, 7.0f);
  put_varint_field(&b, 2, CNNRT_FLOAT);
  cnnrt_tensor t;
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_OK);
  CU_ASSERT_EQUAL(t.rank, 2);
  CU_ASSERT_EQUAL(t.dims[0], 1);
  CU_ASSERT_EQUAL(t.dims[1], 4);
  const float *f = t.data;
  CU_ASSERT_EQUAL(f[0], 0.5f);
  CU_ASSERT_EQUAL(f[1], -1.0f);
  CU_ASSERT_EQUAL(f[2], 42.0f);
  CU_ASSERT_EQUAL(f[3], 7.0f);
  cnnrt_tensor_free(&t);
}

static void test_pb_integer_fields(void) {
  /* int8 lives in int32_data, negatives as 10-byte sign-extended varints. */
  bytes b = {.len = 0}, packed = {.len = 0};
  put_varint_field(&b, 1, 3);
  put_varint_field(&b, 2, CNNRT_INT8);
  put_varint(&packed, (uint64_t)(int64_t)-128);
  put_varint(&packed, 127);
  put_varint(&packed, (uint64_t)(int64_t)-1);
  put_len_field(&b, 5, packed.data, packed.len);
  cnnrt_tensor t;
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_OK);
  const int8_t *i8 = t.data;
  CU_ASSERT_EQUAL(t.elem_size, 1);
  CU_ASSERT(i8[0] == -128 && i8[1] == 127 && i8[2] == -1);
  cnnrt_tensor_free(&t);

  b.len = 0;
  put_varint_field(&b, 1, 2);
  put_varint_field(&b, 2, CNNRT_INT64);
  put_varint_field(&b, 7, (uint64_t)INT64_MIN);
  put_varint_field(&b, 7, 1234567890123ull);
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_OK);
  const int64_t *i64 = t.data;
  CU_ASSERT(i64[0] == INT64_MIN && i64[1] == 1234567890123ll);
  cnnrt_tensor_free(&t);

  b.len = 0;
  put_varint_field(&b, 1, 1);
  put_varint_field(&b, 2, CNNRT_UINT32);
  put_varint_field(&b, 11, UINT32_MAX);
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_OK);
  CU_ASSERT_EQUAL(*(const uint32_t *)t.data, UINT32_MAX);
  cnnrt_tensor_free(&t);

  /* Values that do not fit the declared type are corrupt, not truncated. */
  b.len = 0;
  put_varint_field(&b, 1, 1);
  put_varint_field(&b, 2, CNNRT_UINT8);
  put_varint_field(&b, 5, 256);
  CU_ASSERT_EQUAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_ERR_FORMAT);
  CU_ASSERT(contains(cnnrt_last_error(), "uint8"));
  CU_ASSERT_PTR_NULL(t.data);

  b.len = 0;
  put_varint_field(&b, 2, CNNRT_BOOL);
  put_varint_field(&b, 5, 2);
  CU_ASSERT_EQUAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_ERR_FORMAT);
}

static void test_pb_scalar_and_empty(void) {
  bytes b = {.len = 0};
  cnnrt_tensor t;
  /* No dims is a scalar: one element. */
  put_varint_field(&b, 2, CNNRT_DOUBLE);
  put_key(&b, 10, 1);
  const double d = 2.5;
  uint64_t u;
  memcpy(&u, &d, 8);
  put_le32(&b, (uint32_t)u);
  put_le32(&b, (uint32_t)(u >> 32));
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_OK);
  CU_ASSERT_EQUAL(t.rank, 0);
  CU_ASSERT_EQUAL(t.count, 1);
  CU_ASSERT_EQUAL(*(const double *)t.data, 2.5);
  cnnrt_tensor_free(&t);

  /* A zero dim needs no data at all. */
  b.len = 0;
  put_varint_field(&b, 1, 0);
  put_varint_field(&b, 1, 5);
  put_varint_field(&b, 2, CNNRT_FLOAT);
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_OK);
  CU_ASSERT_EQUAL(t.count, 0);
  cnnrt_tensor_free(&t);
}

static void test_pb_unknown_fields_skipped(void) {
  const float v[6] = {1, 2, 3, 4, 5, 6};
  bytes b = {.len = 0};
  put_varint_field(&b, 99, 12345);
  put_len_field(&b, 12, "a doc string", 12);
  put_len_field(&b, 1000, "future", 6);
  put_key(&b, 77, 5);
  put_le32(&b, 0xdeadbeef);
  put_key(&b, 78, 1);
  put_le32(&b, 1);
  put_le32(&b, 2);
  encode_raw_tensor(&b, v);
  cnnrt_tensor t;
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_parse_pb(b.data, b.len, &t), CNNRT_OK);
  CU_ASSERT(memcmp(t.data, v, sizeof v) == 0);
  cnnrt_tensor_free(&t);
}

static void test_pb_truncated(void) {
  const float v[6] = {1, 2, 3, 4, 5, 6};
  bytes b = {.len = 0};
  encode_raw_tensor(&b, v);
  for (size_t n = 0; n < b.len; n++) {
    /* A copy of exactly n bytes lets ASan catch any read past the end. */
    unsigned char *cut = malloc(n ? n : 1);
    CU_ASSERT_FATAL(cut != NULL);
    memcpy(cut, b.data, n);
    cnnrt_tensor t;
    int st = cnnrt_tensor_parse_pb(cut, n, &t);
    CU_ASSERT(st != CNNRT_OK);
    CU_ASSERT(cnnrt_last_error()[0] != '\0');
    CU_ASSERT_PTR_NULL(t.data);
    free(cut);
  }
}

/* Expects a message to fail with status and a message mentioning what. */
static void expect_pb_error(const bytes *b, int status, const char *what) {
  cnnrt_tensor t;
  int st = cnnrt_tensor_parse_pb(b->data, b->len, &t);
  CU_ASSERT_EQUAL(st, status);
  CU_ASSERT(contains(cnnrt_last_error(), what));
  if (st != status || !contains(cnnrt_last_error(), what))
    fprintf(stderr, "\n  expected %d '%s', got %d '%s'\n", status, what, st,
            cnnrt_last_error());
  CU_ASSERT_PTR_NULL(t.data);
}

static void test_pb_corrupt(void) {
  bytes b = {.len = 0};
  put_key(&b, 1, 3);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "wire type 3");
  b.len = 0;
  put_key(&b, 1, 7);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "wire type 7");
  b.len = 0;
  put_key(&b, 0, 0);
  put_varint(&b, 1);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "field number 0");

  b.len = 0;
  for (int i = 0; i < 11; i++)
    put(&b, "\x80", 1);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "varint too long");

  b.len = 0;
  put_key(&b, 9, 2);
  put_varint(&b, (uint64_t)1 << 62);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "claims");

  b.len = 0;
  for (int i = 0; i < 9; i++)
    put_varint_field(&b, 1, 1);
  put_varint_field(&b, 2, CNNRT_FLOAT);
  expect_pb_error(&b, CNNRT_ERR_UNSUPPORTED, "more than 8 dims");

  b.len = 0;
  put_varint_field(&b, 1, (uint64_t)1 << 40);
  put_varint_field(&b, 1, (uint64_t)1 << 40);
  put_varint_field(&b, 2, CNNRT_FLOAT);
  expect_pb_error(&b, CNNRT_ERR_LIMIT, "exceed");

  b.len = 0;
  put_varint_field(&b, 1, (uint64_t)(int64_t)-3);
  put_varint_field(&b, 2, CNNRT_FLOAT);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "negative");

  b.len = 0;
  put_varint_field(&b, 1, 2);
  put_varint_field(&b, 2, CNNRT_FLOAT);
  put_len_field(&b, 9, "abcd", 4);
  expect_pb_error(&b, CNNRT_ERR_MISMATCH, "raw_data holds 4 bytes");

  b.len = 0;
  put_varint_field(&b, 1, 3);
  put_varint_field(&b, 2, CNNRT_FLOAT);
  put_key(&b, 4, 5);
  put_float_le(&b, 1.0f);
  expect_pb_error(&b, CNNRT_ERR_MISMATCH, "float_data holds 1 elements");

  b.len = 0;
  put_varint_field(&b, 1, 1);
  put_len_field(&b, 9, "abcd", 4);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "data_type is missing");

  b.len = 0;
  put_varint_field(&b, 2, 8);
  expect_pb_error(&b, CNNRT_ERR_UNSUPPORTED, "data_type 8");

  b.len = 0;
  put_varint_field(&b, 2, CNNRT_FLOAT);
  put_varint_field(&b, 14, 1);
  expect_pb_error(&b, CNNRT_ERR_UNSUPPORTED, "externally");

  b.len = 0;
  put_varint_field(&b, 1, 1);
  put_varint_field(&b, 2, CNNRT_FLOAT);
  put_len_field(&b, 9, "abcd", 4);
  put_key(&b, 4, 5);
  put_float_le(&b, 1.0f);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "alongside raw_data");

  b.len = 0;
  put_varint_field(&b, 1, 1);
  put_varint_field(&b, 2, CNNRT_INT64);
  put_key(&b, 4, 5);
  put_float_le(&b, 1.0f);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "float_data given for data_type int64");

  b.len = 0;
  put_varint_field(&b, 2, CNNRT_FLOAT);
  put_len_field(&b, 4, "12345", 5);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "not a multiple of 4");

  b.len = 0;
  put_key(&b, 1, 5);
  put_le32(&b, 1);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "dims");

  /* A packed varint cut inside its payload. */
  b.len = 0;
  put_varint_field(&b, 2, CNNRT_INT32);
  put_len_field(&b, 5, "\x01\x80", 2);
  expect_pb_error(&b, CNNRT_ERR_FORMAT, "truncated varint");
}

static void test_pb_file_errors(void) {
  char path[256];
  temp_path(path, sizeof path);
  remove(path);
  cnnrt_tensor t;
  CU_ASSERT_EQUAL(cnnrt_tensor_read_pb(path, &t), CNNRT_ERR_IO);
  CU_ASSERT(contains(cnnrt_last_error(), path));
  CU_ASSERT(contains(cnnrt_last_error(), "cannot open"));

  /* Decoder messages get the file name in front. */
  write_file(path, "\x0b", 1);
  CU_ASSERT_EQUAL(cnnrt_tensor_read_pb(path, &t), CNNRT_ERR_FORMAT);
  CU_ASSERT(strncmp(cnnrt_last_error(), path, strlen(path)) == 0);
  CU_ASSERT(contains(cnnrt_last_error(), "wire type 3"));
  CU_ASSERT_PTR_NULL(t.data);
  remove(path);
}

/* ---- raw files ---- */

static void test_raw(void) {
  bytes b = {.len = 0};
  const float v[4] = {1.0f, -0.5f, 3.0f, 1e10f};
  for (int i = 0; i < 4; i++)
    put_float_le(&b, v[i]);
  char path[256];
  temp_path(path, sizeof path);
  write_file(path, b.data, b.len);
  cnnrt_tensor t;
  CU_ASSERT_EQUAL_FATAL(cnnrt_tensor_read_raw(path, CNNRT_FLOAT, 4, &t),
                        CNNRT_OK);
  CU_ASSERT_EQUAL(t.rank, 1);
  CU_ASSERT_EQUAL(t.dims[0], 4);
  CU_ASSERT(memcmp(t.data, v, sizeof v) == 0);
  cnnrt_tensor_free(&t);

  CU_ASSERT_EQUAL(cnnrt_tensor_read_raw(path, CNNRT_FLOAT, 5, &t),
                  CNNRT_ERR_MISMATCH);
  CU_ASSERT(contains(cnnrt_last_error(), "expected 20 bytes"));
  CU_ASSERT(contains(cnnrt_last_error(), "found 16"));
  CU_ASSERT(contains(cnnrt_last_error(), path));
  CU_ASSERT_EQUAL(cnnrt_tensor_read_raw(path, CNNRT_FLOAT, 3, &t),
                  CNNRT_ERR_MISMATCH);
  CU_ASSERT(contains(cnnrt_last_error(), "more than 12"));
  CU_ASSERT_EQUAL(cnnrt_tensor_read_raw(path, CNNRT_INT64, 2, &t), CNNRT_OK);
  cnnrt_tensor_free(&t);
  CU_ASSERT_EQUAL(cnnrt_tensor_read_raw(path, 8, 4, &t), CNNRT_ERR_ARG);
  remove(path);
}

/* ---- IDX ---- */

/* A 2x2x3 uint8 IDX file with pixel values 0, 10, ..., 110. */
static void encode_idx(bytes *b) {
  put(b, "\x00\x00\x08\x03", 4);
  put_be32(b, 2);
  put_be32(b, 2);
  put_be32(b, 3);
  for (unsigned char i = 0; i < 12; i++) {
    unsigned char v = (unsigned char)(i * 10);
    put(b, &v, 1);
  }
}

static void check_idx(const char *path) {
  cnnrt_tensor t;
  CU_ASSERT_EQUAL_FATAL(cnnrt_idx_read(path, &t), CNNRT_OK);
  CU_ASSERT_EQUAL(t.elem_type, CNNRT_UINT8);
  CU_ASSERT_EQUAL(t.rank, 3);
  CU_ASSERT(t.dims[0] == 2 && t.dims[1] == 2 && t.dims[2] == 3);
  CU_ASSERT_EQUAL(t.count, 12);
  const unsigned char *d = t.data;
  CU_ASSERT(d[0] == 0 && d[5] == 50 && d[11] == 110);
  cnnrt_tensor_free(&t);
}

static void test_idx_plain_and_gzip(void) {
  bytes b = {.len = 0};
  encode_idx(&b);
  char path[256];
  temp_path(path, sizeof path);
  write_file(path, b.data, b.len);
  check_idx(path);
  write_gzip(path, b.data, b.len);
  check_idx(path);

  /* Multi-byte elements are big-endian in the file. */
  b.len = 0;
  put(&b, "\x00\x00\x0b\x01", 4);
  put_be32(&b, 2);
  put(&b, "\x01\x02\xff\xfe", 4);
  write_gzip(path, b.data, b.len);
  cnnrt_tensor t;
  CU_ASSERT_EQUAL_FATAL(cnnrt_idx_read(path, &t), CNNRT_OK);
  CU_ASSERT_EQUAL(t.elem_type, CNNRT_INT16);
  CU_ASSERT(((int16_t *)t.data)[0] == 258 && ((int16_t *)t.data)[1] == -2);
  cnnrt_tensor_free(&t);
  remove(path);
}

/* Writes b plain and gzipped and expects both to fail the same way. */
static void expect_idx_error(const bytes *b, int status, const char *what) {
  char path[256];
  temp_path(path, sizeof path);
  for (int gz = 0; gz < 2; gz++) {
    if (gz)
      write_gzip(path, b->data, b->len);
    else
      write_file(path, b->data, b->len);
    cnnrt_tensor t;
    int st = cnnrt_idx_read(path, &t);
    CU_ASSERT_EQUAL(st, status);
    CU_ASSERT(contains(cnnrt_last_error(), what));
    CU_ASSERT(contains(cnnrt_last_error(), path));
    if (st != status || !contains(cnnrt_last_error(), what))
      fprintf(stderr, "\n  expected %d '%s', got %d '%s'\n", status, what, st,
              cnnrt_last_error());
    CU_ASSERT_PTR_NULL(t.data);
  }
  remove(path);
}

static void test_idx_corrupt(void) {
  bytes good = {.len = 0}, b;
  encode_idx(&good);

  b = good;
  b.data[1] = 1;
  expect_idx_error(&b, CNNRT_ERR_FORMAT, "bad IDX magic");
  b = good;
  b.data[2] = 0x0a;
  expect_idx_error(&b, CNNRT_ERR_FORMAT, "bad IDX magic");
  b = good;
  b.data[3] = 0;
  expect_idx_error(&b, CNNRT_ERR_FORMAT, "bad IDX magic");
  b = good;
  b.data[3] = 9;
  expect_idx_error(&b, CNNRT_ERR_UNSUPPORTED, "9 dims");

  b = good;
  b.len = 3;
  expect_idx_error(&b, CNNRT_ERR_FORMAT, "shorter than an IDX header");
  b.len = 10;
  expect_idx_error(&b, CNNRT_ERR_FORMAT, "ends after 6 of their 12 bytes");
  b.len = good.len - 1;
  expect_idx_error(&b, CNNRT_ERR_FORMAT, "promises 12 bytes of data");
  b = good;
  put(&b, "x", 1);
  expect_idx_error(&b, CNNRT_ERR_FORMAT, "continues past");

  /* Dims whose product overflows, and a small file claiming a large
   * data set: both must fail without allocating what the header says. */
  b.len = 0;
  put(&b, "\x00\x00\x0e\x03", 4);
  for (int i = 0; i < 3; i++)
    put_be32(&b, 0xffffffffu);
  expect_idx_error(&b, CNNRT_ERR_LIMIT, "exceed");
  b.len = 0;
  put(&b, "\x00\x00\x08\x01", 4);
  put_be32(&b, 1u << 30);
  put(&b, "abc", 3);
  expect_idx_error(&b, CNNRT_ERR_FORMAT, "truncated");
}

static void test_idx_bad_gzip(void) {
  bytes b = {.len = 0};
  encode_idx(&b);
  char path[256];
  temp_path(path, sizeof path);
  write_gzip(path, b.data, b.len);
  FILE *f = fopen(path, "rb");
  CU_ASSERT_FATAL(f != NULL);
  unsigned char gz[512];
  size_t n = fread(gz, 1, sizeof gz, f);
  fclose(f);
  CU_ASSERT_FATAL(n > 18);
  /* The last 8 bytes are the CRC and length of the uncompressed data. */
  gz[n - 8] ^= 0xff;
  write_file(path, gz, n);
  cnnrt_tensor t;
  CU_ASSERT_EQUAL(cnnrt_idx_read(path, &t), CNNRT_ERR_FORMAT);
  CU_ASSERT_PTR_NULL(t.data);
  /* A gzip stream cut short. */
  write_file(path, gz, n - 12);
  CU_ASSERT_EQUAL(cnnrt_idx_read(path, &t), CNNRT_ERR_FORMAT);
  remove(path);
  CU_ASSERT_EQUAL(cnnrt_idx_read(path, &t), CNNRT_ERR_IO);
}

/* ---- helpers ---- */

static void test_topk(void) {
  const float s[6] = {0.1f, 0.5f, 0.5f, NAN, -1.0f, 0.9f};
  size_t idx[6];
  CU_ASSERT_EQUAL(cnnrt_topk(s, 6, 4, idx), 4);
  CU_ASSERT(idx[0] == 5 && idx[1] == 1 && idx[2] == 2 && idx[3] == 0);
  CU_ASSERT_EQUAL(cnnrt_topk(s, 6, 100, idx), 6);
  CU_ASSERT(idx[4] == 4 && idx[5] == 3);
  CU_ASSERT_EQUAL(cnnrt_topk(s, 6, 1, idx), 1);
  CU_ASSERT_EQUAL(idx[0], 5);
  CU_ASSERT_EQUAL(cnnrt_topk(s, 6, 0, idx), 0);
  CU_ASSERT_EQUAL(cnnrt_topk(s, 0, 3, idx), 0);
  /* Ascending input makes every new element move to the front. */
  float up[50];
  for (int i = 0; i < 50; i++)
    up[i] = (float)i;
  CU_ASSERT_EQUAL(cnnrt_topk(up, 50, 3, idx), 3);
  CU_ASSERT(idx[0] == 49 && idx[1] == 48 && idx[2] == 47);
}

static void test_softmax(void) {
  float v[3] = {1.0f, 2.0f, 3.0f};
  cnnrt_softmax(v, 3);
  double z = exp(1) + exp(2) + exp(3);
  CU_ASSERT_DOUBLE_EQUAL(v[0], exp(1) / z, 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(v[2], exp(3) / z, 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(v[0] + v[1] + v[2], 1.0, 1e-6);
  /* Large logits would overflow expf without the max shift. */
  float big[2] = {1000.0f, 1001.0f};
  cnnrt_softmax(big, 2);
  CU_ASSERT_DOUBLE_EQUAL(big[0], 1 / (1 + exp(1)), 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(big[1], 1 / (1 + exp(-1)), 1e-6);
}

static void test_labels(void) {
  char path[256];
  temp_path(path, sizeof path);
  const char text[] = "T-shirt/top\r\nTrouser\n\nBag";
  write_file(path, text, sizeof text - 1);
  cnnrt_labels l;
  CU_ASSERT_EQUAL_FATAL(cnnrt_labels_read(path, &l), CNNRT_OK);
  CU_ASSERT_EQUAL_FATAL(l.count, 4);
  CU_ASSERT_STRING_EQUAL(l.names[0], "T-shirt/top");
  CU_ASSERT_STRING_EQUAL(l.names[1], "Trouser");
  CU_ASSERT_STRING_EQUAL(l.names[2], "");
  CU_ASSERT_STRING_EQUAL(l.names[3], "Bag");
  cnnrt_labels_free(&l);
  write_file(path, "a\nb\n", 4);
  CU_ASSERT_EQUAL_FATAL(cnnrt_labels_read(path, &l), CNNRT_OK);
  CU_ASSERT_EQUAL(l.count, 2);
  cnnrt_labels_free(&l);
  write_file(path, "", 0);
  CU_ASSERT_EQUAL_FATAL(cnnrt_labels_read(path, &l), CNNRT_OK);
  CU_ASSERT_EQUAL(l.count, 0);
  cnnrt_labels_free(&l);
  remove(path);
  CU_ASSERT_EQUAL(cnnrt_labels_read(path, &l), CNNRT_ERR_IO);
}

static void test_seconds_and_strerror(void) {
  double t0 = cnnrt_seconds(), t1 = cnnrt_seconds();
  CU_ASSERT(t0 > 0 && t1 >= t0);
  for (int s = CNNRT_ERR_ARG; s <= CNNRT_OK; s++)
    for (int u = s + 1; u <= CNNRT_OK; u++)
      CU_ASSERT(strcmp(cnnrt_strerror(s), cnnrt_strerror(u)) != 0);
  CU_ASSERT_STRING_EQUAL(cnnrt_elem_type_name(CNNRT_UINT64), "uint64");
  CU_ASSERT_EQUAL(cnnrt_elem_size(CNNRT_UINT16), 2);
  CU_ASSERT_EQUAL(cnnrt_elem_size(16), 0);
}

/* ---- images ---- */

static void write_pnm(const char *path, const char *magic, int w, int h,
                      const unsigned char *px, size_t n) {
  bytes b = {.len = 0};
  char head[64];
  int len = snprintf(head, sizeof head, "%s\n%d %d\n255\n", magic, w, h);
  put(&b, head, (size_t)len);
  put(&b, px, n);
  write_file(path, b.data, b.len);
}

static void test_image_normalize(void) {
  char path[256];
  temp_path(path, sizeof path);
  const unsigned char grey[4] = {0, 51, 102, 255};
  write_pnm(path, "P5", 2, 2, grey, 4);
  cnnrt_image_opts o;
  cnnrt_image_opts_init(&o, 1, 2, 2);
  o.mean[0] = 0.1f;
  o.std[0] = 0.5f;
  float out[12];
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  for (int i = 0; i < 4; i++)
    CU_ASSERT_DOUBLE_EQUAL(out[i], (grey[i] / 255.0 - 0.1) / 0.5, 1e-6);
  o.scale = 0;
  o.mean[0] = 0;
  o.std[0] = 1;
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  CU_ASSERT_DOUBLE_EQUAL(out[3], 255.0, 1e-6);

  /* Grey to three channels repeats the value in every plane. */
  cnnrt_image_opts_init(&o, 3, 2, 2);
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  for (int c = 0; c < 3; c++)
    CU_ASSERT_DOUBLE_EQUAL(out[c * 4 + 1], 51 / 255.0, 1e-6);
  remove(path);
}

static void test_image_layout(void) {
  /* A 2x1 RGB image: red-ish and blue-ish pixels. */
  char path[256];
  temp_path(path, sizeof path);
  const unsigned char rgb[6] = {255, 0, 51, 0, 102, 255};
  write_pnm(path, "P6", 2, 1, rgb, 6);
  cnnrt_image_opts o;
  cnnrt_image_opts_init(&o, 3, 1, 2);
  const float mean[3] = {0.5f, 0.25f, 0.0f}, std[3] = {0.5f, 0.25f, 2.0f};
  memcpy(o.mean, mean, sizeof mean);
  memcpy(o.std, std, sizeof std);
  float nchw[6], nhwc[6];
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, nchw), CNNRT_OK);
  o.layout = CNNRT_LAYOUT_NHWC;
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, nhwc), CNNRT_OK);
  for (int x = 0; x < 2; x++)
    for (int c = 0; c < 3; c++) {
      double want = (rgb[x * 3 + c] / 255.0 - mean[c]) / std[c];
      CU_ASSERT_DOUBLE_EQUAL(nchw[c * 2 + x], want, 1e-6);
      CU_ASSERT_DOUBLE_EQUAL(nhwc[x * 3 + c], want, 1e-6);
    }
  /* RGB to grey uses integer luma: (255*77 + 0*150 + 51*29) >> 8 = 82. */
  cnnrt_image_opts_init(&o, 1, 1, 2);
  o.scale = 0;
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, nchw), CNNRT_OK);
  CU_ASSERT_DOUBLE_EQUAL(nchw[0], 82.0, 1e-6);
  float conv[2];
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_convert(rgb, 2, 1, 3, &o, conv), CNNRT_OK);
  CU_ASSERT_DOUBLE_EQUAL(conv[0], nchw[0], 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(conv[1], nchw[1], 1e-6);
  remove(path);
}

static void test_image_wide_and_alpha(void) {
  /* 16-bit PGM, big-endian and scaled by maxval: 0x1234 * 255 / 65535 is
   * 18.1. (stb 2.27 got the byte order wrong, and overran its buffer when
   * asked for RGB.) */
  char path[256];
  temp_path(path, sizeof path);
  bytes b = {.len = 0};
  put(&b, "P5\n2 1\n65535\n\x12\x34\xff\xff", 17);
  write_file(path, b.data, b.len);
  cnnrt_image_opts o;
  cnnrt_image_opts_init(&o, 3, 1, 2);
  o.scale = 0;
  float out[6];
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  for (int c = 0; c < 3; c++) {
    CU_ASSERT_DOUBLE_EQUAL(out[c * 2], 0x12, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(out[c * 2 + 1], 255, 1e-6);
  }
  /* maxval 15: 15 is full white, 5 a third of it. */
  write_file(path, "P5 2 1 15\n\x0f\x05", 12);
  cnnrt_image_opts_init(&o, 1, 1, 2);
  o.scale = 0;
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  CU_ASSERT(out[0] == 255 && out[1] == 85);
  remove(path);

  /* RGBA and grey+alpha buffers: alpha is dropped. */
  cnnrt_image_opts_init(&o, 3, 1, 2);
  o.scale = 0;
  const unsigned char rgba[8] = {10, 20, 30, 0, 40, 50, 60, 255};
  const unsigned char ga[4] = {7, 0, 9, 255};
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_convert(rgba, 2, 1, 4, &o, out), CNNRT_OK);
  const float want[6] = {10, 40, 20, 50, 30, 60};
  CU_ASSERT(memcmp(out, want, sizeof want) == 0);
  cnnrt_image_opts_init(&o, 1, 1, 2);
  o.scale = 0;
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_convert(ga, 2, 1, 2, &o, out), CNNRT_OK);
  CU_ASSERT(out[0] == 7 && out[1] == 9);
}

static void test_image_resize(void) {
  char path[256];
  temp_path(path, sizeof path);
  /* Constant images stay constant at any size. */
  unsigned char px[64];
  memset(px, 51, sizeof px);
  write_pnm(path, "P5", 8, 8, px, 64);
  cnnrt_image_opts o;
  float out[16 * 16];
  for (int size = 2; size <= 16; size *= 2) {
    cnnrt_image_opts_init(&o, 1, size, size);
    CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
    for (int i = 0; i < size * size; i++)
      CU_ASSERT_DOUBLE_EQUAL(out[i], 0.2, 1.0 / 255);
  }
  /* Left half black, right half white, shrunk to 4x4 and 2x3 (H x W). */
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++)
      px[y * 8 + x] = x < 4 ? 0 : 255;
  write_pnm(path, "P5", 8, 8, px, 64);
  cnnrt_image_opts_init(&o, 1, 4, 4);
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  for (int y = 0; y < 4; y++) {
    CU_ASSERT(out[y * 4 + 0] < 0.1f);
    CU_ASSERT(out[y * 4 + 3] > 0.9f);
    CU_ASSERT(out[y * 4 + 1] < out[y * 4 + 2]);
  }
  float direct[16];
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_convert(px, 8, 8, 1, &o, direct), CNNRT_OK);
  CU_ASSERT(memcmp(direct, out, sizeof direct) == 0);
  remove(path);
}

static void test_image_errors(void) {
  char path[256];
  temp_path(path, sizeof path);
  cnnrt_image_opts o;
  cnnrt_image_opts_init(&o, 1, 2, 2);
  float out[4];
  write_file(path, "not an image at all", 19);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
  CU_ASSERT(contains(cnnrt_last_error(), path));
  /* Headers promising more pixels than the file holds, one short. */
  unsigned char zeros[48] = {0};
  write_pnm(path, "P5", 4, 4, zeros, 15);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
  CU_ASSERT(contains(cnnrt_last_error(), "truncated"));
  write_pnm(path, "P6", 4, 4, zeros, 47);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
  write_file(path, "P5 # comment\n4 4\n255\n0123456789abcde", 36);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
  write_file(path, "P5 # comment\n4 4\n255\n0123456789abcdef", 37);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  /* A JPEG Huffman table declaring 16 * 255 codes (stb 2.27 wrote them
   * past its 257-entry table; JPEG now goes to libjpeg-turbo). */
  bytes jpeg = {.len = 0};
  put(&jpeg, "\xff\xd8\xff\xc4\x00\x13\x00", 7);
  for (int i = 0; i < 16; i++)
    put(&jpeg, "\xff", 1);
  write_file(path, jpeg.data, jpeg.len);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
  CU_ASSERT(contains(cnnrt_last_error(), "cannot decode JPEG"));
  remove(path);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_IO);
  CU_ASSERT(contains(cnnrt_last_error(), "cannot open"));

  const unsigned char px[4] = {1, 2, 3, 4};
  o.std[0] = 0;
  CU_ASSERT_EQUAL(cnnrt_image_convert(px, 2, 2, 1, &o, out), CNNRT_ERR_ARG);
  cnnrt_image_opts_init(&o, 2, 2, 2);
  CU_ASSERT_EQUAL(cnnrt_image_convert(px, 2, 2, 1, &o, out), CNNRT_ERR_ARG);
  cnnrt_image_opts_init(&o, 1, 2, 2);
  CU_ASSERT_EQUAL(cnnrt_image_convert(px, 2, 2, 5, &o, out), CNNRT_ERR_ARG);
  CU_ASSERT_EQUAL(cnnrt_image_convert(px, 0, 2, 1, &o, out), CNNRT_ERR_ARG);
}

CU_TestInfo runtime_tests[] = {
    {"pb raw_data round trip", test_pb_raw_data},
    {"pb float_data packed and unpacked", test_pb_float_data},
    {"pb integer fields and ranges", test_pb_integer_fields},
    {"pb scalar and empty tensors", test_pb_scalar_and_empty},
    {"pb unknown fields skipped", test_pb_unknown_fields_skipped},
    {"pb every truncation rejected", test_pb_truncated},
    {"pb corrupt messages rejected", test_pb_corrupt},
    {"pb file errors name the file", test_pb_file_errors},
    {"raw files", test_raw},
    {"idx plain and gzip", test_idx_plain_and_gzip},
    {"idx corrupt headers and sizes", test_idx_corrupt},
    {"idx bad gzip streams", test_idx_bad_gzip},
    {"topk ordering", test_topk},
    {"softmax", test_softmax},
    {"labels files", test_labels},
    {"seconds, strerror, types", test_seconds_and_strerror},
    {"image scale and normalize", test_image_normalize},
    {"image layout and channels", test_image_layout},
    {"image 16-bit and alpha", test_image_wide_and_alpha},
    {"image resize", test_image_resize},
    {"image errors", test_image_errors},
    CU_TEST_INFO_NULL,
};
