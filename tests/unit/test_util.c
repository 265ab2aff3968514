/* Name sanitising and escaping (model strings must never reach generated C unescaped), hashing, the op table. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_sanitize_ident(void) {
  CU_ASSERT_STRING_EQUAL(cn_sanitize_ident("conv1.weight", 64), "conv1_weight");
  CU_ASSERT_STRING_EQUAL(cn_sanitize_ident("1abc", 64), "_1abc");
  CU_ASSERT_STRING_EQUAL(cn_sanitize_ident("", 64), "_");
  CU_ASSERT_STRING_EQUAL(cn_sanitize_ident("a\"b;}\n", 64), "a_b___");
  CU_ASSERT_EQUAL(strlen(cn_sanitize_ident("abcdefghij", 4)), 4);
}

static void test_escape_c_string(void) {
  CU_ASSERT_STRING_EQUAL(cn_escape_c_string("a\"b\\c", 64), "a\\\"b\\\\c");
  CU_ASSERT_STRING_EQUAL(cn_escape_c_string("x\ny", 64), "x\\012y");
  CU_ASSERT_STRING_EQUAL(cn_escape_c_string("?\?=", 64), "\\?\\?=");
  CU_ASSERT_STRING_EQUAL(cn_escape_c_string("\xff", 64), "\\377");
}

static void test_escape_comment(void) {
  CU_ASSERT_PTR_NULL(strstr(cn_escape_comment("evil */ int x; /*", 64), "*/"));
  CU_ASSERT_PTR_NULL(strstr(cn_escape_comment("evil */ int x; /*", 64), "/*"));
  CU_ASSERT_PTR_NULL(strchr(cn_escape_comment("line\nbreak\\", 64), '\n'));
  CU_ASSERT_PTR_NULL(strstr(cn_escape_comment("trigraph ?\?/", 64), "?\?"));
  CU_ASSERT_STRING_EQUAL(cn_escape_comment("/usr/share/model.onnx", 64), "/usr/share/model.onnx");
}

static void test_mul_size(void) {
  CU_ASSERT_EQUAL(cn_mul_size(3, 4), 12);
  CU_ASSERT_EQUAL(cn_mul_size(INT64_MAX / 2, 3), -1);
  CU_ASSERT_EQUAL(cn_mul_size(-1, 3), -1);
}

static void test_emit_float_round_trips(void) {
  const float values[] = {0.1f, 1.0f, -0.0f, 3.4028235e38f, 1.17549435e-38f, 1e-45f, 123456789.0f};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    char *s = emit_float(values[i], DT_FLOAT);
    CU_ASSERT_EQUAL(s[strlen(s) - 1], 'f');
    CU_ASSERT_EQUAL(strtof(s, NULL), values[i]);
  }
  CU_ASSERT_STRING_EQUAL(emit_float(1.0, DT_FLOAT), "1.0f");
  CU_ASSERT_STRING_EQUAL(emit_float(1.0 / 0.0, DT_FLOAT), "INFINITY");
}

/* Each descriptor sits at its own kind's slot and answers to one ONNX name only; cnnc's own ops to none. */
static void test_op_table_consistent(void) {
  for (int k = 0; k < OP_COUNT; k++) {
    const OpDesc *op = op_get((OpKind)k);
    CU_ASSERT_EQUAL(op->kind, k);
    CU_ASSERT_PTR_EQUAL(op_lookup(op->name), op->internal ? NULL : op);
    CU_ASSERT((op->simd == NULL) == (op->emit_simd == NULL));
    CU_ASSERT_PTR_NOT_NULL(op->infer);
    CU_ASSERT(op->min_in <= op->max_in && op->min_out <= op->max_out);
  }
  CU_ASSERT_PTR_NULL(op_lookup("NotAnOperator"));
}

/* cn_sha256_file against coreutils' sha256sum, with the CPU's SHA extensions (where it has them) and without, on
 * lengths around the block (64) and padding (56) boundaries and the 256 KB read chunk. */
static void test_sha256_matches_sha256sum(void) {
  static const size_t lengths[] = {0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 262143, 262144, 262145,
                                   1000003};
  char dir[] = "/tmp/cnnc-sha-XXXXXX";
  CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  char *path = cn_format("%s/data", dir);
  uint64_t x = 88172645463325252ull;
  for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (size_t i = 0; i < lengths[k]; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      fputc((int)(x >> 32) & 0xff, f);
    }
    fclose(f);
    FILE *p = popen(cn_format("sha256sum %s", path), "r");
    char expected[65] = "";
    CU_ASSERT_FATAL(p && fread(expected, 1, 64, p) == 64);
    pclose(p);
    for (int portable = 0; portable < 2; portable++) {
      cn_sha256_portable = portable;
      char hex[65];
      cn_sha256_file(path, hex);
      CU_ASSERT_STRING_EQUAL(hex, expected);
    }
  }
  cn_sha256_portable = false;
  unlink(path);
  rmdir(dir);
}

/* The weights' string literal holds exactly the bytes: every byte value before every other (a short octal escape
 * before a digit would swallow it), across lines and the writer's 64 KB chunks, two tensors with the zero gap
 * the blob's alignment leaves between them, and an odd tail. Compiled and read back by the generated code. */
static void test_weights_literal_exact(void) {
  enum { PAIRS = 65536, TAIL = 37, SECOND = 5000 };
  const int64_t first_dims[1] = {2 * PAIRS + TAIL}, second_dims[1] = {SECOND};
  unsigned char *first = cn_alloc(2 * PAIRS + TAIL), *second = cn_alloc(SECOND);
  for (int k = 0; k < PAIRS; k++)
    first[2 * k] = (unsigned char)(k >> 8), first[2 * k + 1] = (unsigned char)k;
  for (int i = 0; i < TAIL; i++)
    first[2 * PAIRS + i] = (unsigned char)('0' + i % 10);
  for (int i = 0; i < SECOND; i++)
    second[i] = (unsigned char)(i % 3 == 0 ? '0' + i % 10 : i % 3 == 1 ? i % 8 : i * 37);
  Graph *g = tb_graph(13);
  tb_output(g, tb_const(g, "first", DT_UINT8, 1, first_dims, first));
  tb_output(g, tb_const(g, "second", DT_UINT8, 1, second_dims, second));
  tb_infer(g);
  const char *driver =
      "int main(void) {\n"
      "  static unsigned char a[2 * 65536 + 37], b[5000];\n"
      "  if (model_run((const void *[]){NULL}, (void *[]){a, b})) return 1;\n"
      "  for (int k = 0; k < 65536; k++)\n"
      "    if (a[2 * k] != (unsigned char)(k >> 8) || a[2 * k + 1] != (unsigned char)k) return 2;\n"
      "  for (int i = 0; i < 37; i++)\n"
      "    if (a[2 * 65536 + i] != '0' + i % 10) return 3;\n"
      "  for (int i = 0; i < 5000; i++)\n"
      "    if (b[i] != (unsigned char)(i % 3 == 0 ? '0' + i % 10 : i % 3 == 1 ? i % 8 : i * 37)) return 4;\n"
      "  return 0;\n"
      "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

CU_TestInfo util_tests[] = {
    {"op_table_consistent", test_op_table_consistent},
    {"sanitize_ident", test_sanitize_ident},
    {"escape_c_string", test_escape_c_string},
    {"escape_comment", test_escape_comment},
    {"mul_size", test_mul_size},
    {"emit_float_round_trips", test_emit_float_round_trips},
    {"sha256_matches_sha256sum", test_sha256_matches_sha256sum},
    {"weights_literal_exact", test_weights_literal_exact},
    CU_TEST_INFO_NULL,
};
