/* The ONNX loader on valid and broken models that the tests build themselves, in process and through the
 * cnnc command (exit status 1, one message naming file, node and expectation, no output file left behind). */
#include "onnx_builder.h"
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char scratch[64];

static void remove_scratch(void) {
  const char *rm[] = {"rm", "-rf", scratch, NULL};
  cn_spawn(rm);
}

/* Files the tests write go to one directory, removed when the test program exits. */
static char *path_in_scratch(const char *name) {
  if (!scratch[0]) {
    strcpy(scratch, "/tmp/cnnc-loader-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(scratch));
    atexit(remove_scratch);
  }
  return cn_format("%s/%s", scratch, name);
}

static const int64_t shape_1x4[] = {1, 4};

/* x[1,4] -> Identity -> y */
static void build_identity(OnnxBuilder *b) {
  ob_init(b, 13);
  ob_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  ob_output(b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  static const char *in[] = {"x"}, *out[] = {"y"};
  ob_node(b, "copy", "Identity", 1, in, 1, out);
}

typedef struct LoadCase {
  const char *path;
  LoadOptions opts;
} LoadCase;

static void load_and_infer(void *arg) {
  LoadCase *c = arg;
  Graph *g = onnx_load(c->path, &c->opts);
  shape_infer(g);
}

/* Writes the model, loads it in process, and checks the error names what the test expects. */
static void expect_load_error(OnnxBuilder *b, const char *file, const char *expected) {
  LoadCase c = {.path = path_in_scratch(file)};
  ob_write(b, c.path);
  bool failed = tb_fails_with(load_and_infer, &c, expected);
  if (!failed)
    fprintf(stderr, "\n  expected an error containing \"%s\", got \"%s\"\n", expected, tb_last_error());
  CU_ASSERT(failed);
  CU_ASSERT_PTR_NOT_NULL(strstr(tb_last_error(), c.path));
}

static void test_valid_model(void) {
  OnnxBuilder b;
  build_identity(&b);
  char *path = path_in_scratch("valid.onnx");
  ob_write(&b, path);
  LoadOptions none = {0};
  Graph *g = onnx_load(path, &none);
  shape_infer(g);
  CU_ASSERT_EQUAL(g->opset, 13);
  CU_ASSERT_EQUAL(g->n_inputs, 1);
  CU_ASSERT_EQUAL(g->n_outputs, 1);
  CU_ASSERT_EQUAL(g->n_nodes, 1);
  CU_ASSERT_EQUAL(g->nodes[0]->op->kind, OP_IDENTITY);
  TB_ASSERT_SHAPE(g->outputs[0], 1, 4);
}

static void test_initializer_forms(void) {
  static const float w[] = {1, 2, 3, 4};
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_output(&b, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  Onnx__TensorProto *t = ob_initializer(&b, "w", 2, shape_1x4, w, sizeof w);
  char *raw = path_in_scratch("raw.onnx");
  ob_write(&b, raw);
  LoadOptions none = {0};
  Graph *g = onnx_load(raw, &none);
  CU_ASSERT_EQUAL(((float *)g->outputs[0]->data)[3], 4.0f);
  /* the same tensor as float_data instead of raw_data */
  t->has_raw_data = 0;
  t->n_float_data = 4;
  t->float_data = (float *)w;
  char *typed = path_in_scratch("typed.onnx");
  ob_write(&b, typed);
  g = onnx_load(typed, &none);
  CU_ASSERT_EQUAL(((float *)g->outputs[0]->data)[2], 3.0f);
}

static void test_symbolic_dim(void) {
  static const int64_t dims[] = {-1, 4};
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dims);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dims);
  static const char *in[] = {"x"}, *out[] = {"y"};
  ob_node(&b, "copy", "Identity", 1, in, 1, out);
  expect_load_error(&b, "symbolic.onnx", "--dim N=VALUE");
  DimSetting batch = {"N", 3};
  LoadOptions with_dim = {.dims = &batch, .n_dims = 1};
  Graph *g = onnx_load(path_in_scratch("symbolic.onnx"), &with_dim);
  shape_infer(g);
  TB_ASSERT_SHAPE(g->outputs[0], 3, 4);
}

static void test_malformed_and_truncated(void) {
  OnnxBuilder b;
  build_identity(&b);
  char *path = path_in_scratch("truncated.onnx");
  size_t size = ob_write(&b, path);
  CU_ASSERT_EQUAL(truncate(path, (off_t)(size / 2)), 0);
  LoadCase c = {.path = path};
  CU_ASSERT(tb_fails_with(load_and_infer, &c, "not a valid ONNX model"));
  FILE *f = fopen(path, "wb");
  fputs("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff garbage", f);
  fclose(f);
  CU_ASSERT(tb_fails_with(load_and_infer, &c, "not a valid ONNX model"));
  c.path = path_in_scratch("does-not-exist.onnx");
  CU_ASSERT(tb_fails_with(load_and_infer, &c, "cannot open"));
}

static void test_unknown_operator(void) {
  OnnxBuilder b;
  build_identity(&b);
  b.graph.node[0]->op_type = "FrobnicateV2";
  expect_load_error(&b, "unknown.onnx", "node 0 'copy' (FrobnicateV2): unsupported operator");
  b.graph.node[0]->op_type = "Identity";
  b.graph.node[0]->domain = "com.example";
  expect_load_error(&b, "domain.onnx", "in domain 'com.example'");
}

static void test_unsupported_type(void) {
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, 2, shape_1x4);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, 2, shape_1x4);
  static const char *in[] = {"x"}, *out[] = {"y"};
  ob_node(&b, "copy", "Identity", 1, in, 1, out);
  expect_load_error(&b, "half.onnx", "element type float16");
}

static void test_cycle(void) {
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  ob_output(&b, "b", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  static const char *in1[] = {"b"}, *out1[] = {"a"}, *in2[] = {"a"}, *out2[] = {"b"};
  ob_node(&b, "first", "Identity", 1, in1, 1, out1);
  ob_node(&b, "second", "Identity", 1, in2, 1, out2);
  expect_load_error(&b, "cycle.onnx", "cycle");
}

static void test_missing_input(void) {
  OnnxBuilder b;
  build_identity(&b);
  static const char *in[] = {"weights_never_defined"};
  b.graph.node[0]->input = (char **)in;
  expect_load_error(&b, "missing.onnx", "node 0 'copy' (Identity): input 0 'weights_never_defined' is not a graph input, an initializer");
}

static void test_raw_data_length(void) {
  static const float w[] = {1, 2, 3, 4};
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_output(&b, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  ob_initializer(&b, "w", 2, shape_1x4, w, 8);
  expect_load_error(&b, "short.onnx", "raw_data has 8 bytes; float[1, 4] needs 16");
}

static void test_absurd_dims(void) {
  static const int64_t huge[] = {(int64_t)1 << 40, (int64_t)1 << 40};
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, huge);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, huge);
  static const char *in[] = {"x"}, *out[] = {"y"};
  ob_node(&b, "copy", "Identity", 1, in, 1, out);
  expect_load_error(&b, "huge.onnx", "sizes must be non-negative and the tensor at most");
  static const int64_t negative[] = {-5, 2};
  static const float w[] = {0};
  OnnxBuilder c;
  ob_init(&c, 13);
  ob_output(&c, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  ob_initializer(&c, "w", 2, negative, w, 4);
  expect_load_error(&c, "negative.onnx", "dimension 0 = -5");
}

static void test_wrong_attribute_type(void) {
  OnnxBuilder b;
  build_identity(&b);
  b.graph.node[0]->op_type = "Flatten";
  ob_attr_float(b.graph.node[0], "axis", 1.5f);
  expect_load_error(&b, "attr.onnx", "node 0 'copy' (Flatten): attribute 'axis' must be an int");
}

static void test_inconsistent_shapes(void) {
  static const int64_t shape_4[] = {4}, shape_2x3[] = {2, 3};
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_input(&b, "a", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_2x3);
  ob_input(&b, "b", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, shape_4);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_2x3);
  static const char *in[] = {"a", "b"}, *out[] = {"y"};
  ob_node(&b, "sum", "Add", 2, in, 1, out);
  expect_load_error(&b, "broadcast.onnx", "node 0 'sum' (Add): input shapes [2, 3] and [4] do not broadcast");
}

static void test_duplicate_output(void) {
  OnnxBuilder b;
  build_identity(&b);
  static const char *in[] = {"x"}, *out[] = {"y"};
  ob_node(&b, "again", "Identity", 1, in, 1, out);
  expect_load_error(&b, "twice.onnx", "tensor 'y' is defined twice");
}

/* Runs cnnc with args, stderr into a file; returns the exit status and the stderr text. */
static int run_cnnc(const char *const *args, int n, char **err_text) {
  const char *bin = getenv("CNNC_BIN");
  CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
  const char *argv[16] = {bin};
  for (int i = 0; i < n; i++)
    argv[1 + i] = args[i];
  argv[1 + n] = NULL;
  char *err_path = path_in_scratch("stderr.txt");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  CU_ASSERT_EQUAL_FATAL(posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ), 0);
  int status;
  waitpid(pid, &status, 0);
  posix_spawn_file_actions_destroy(&fa);
  FILE *f = fopen(err_path, "r");
  *err_text = cn_alloc(8192);
  size_t got = fread(*err_text, 1, 8191, f);
  (*err_text)[got] = 0;
  fclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool scratch_has_file_starting(const char *prefix) {
  path_in_scratch("");
  DIR *d = opendir(scratch);
  bool found = false;
  for (struct dirent *e; d && (e = readdir(d));)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
      found = true;
  closedir(d);
  return found;
}

static void test_cli_error_leaves_nothing(void) {
  OnnxBuilder b;
  build_identity(&b);
  b.graph.node[0]->op_type = "FrobnicateV2";
  char *model = path_in_scratch("cli_bad.onnx"), *out = path_in_scratch("cli_out.c");
  ob_write(&b, model);
  char *err;
  const char *args[] = {model, "-o", out};
  CU_ASSERT_EQUAL(run_cnnc(args, 3, &err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, model));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "'copy' (FrobnicateV2)"));
  CU_ASSERT_EQUAL(strchr(err, '\n'), err + strlen(err) - 1); /* one message, one line */
  CU_ASSERT_FALSE(scratch_has_file_starting("cli_out"));
}

static void test_cli_success_writes_both_files(void) {
  OnnxBuilder b;
  build_identity(&b);
  char *model = path_in_scratch("cli_good.onnx"), *out = path_in_scratch("cli_good.c");
  ob_write(&b, model);
  char *err;
  const char *args[] = {model, "-o", out};
  CU_ASSERT_EQUAL(run_cnnc(args, 3, &err), 0);
  CU_ASSERT_EQUAL(access(out, R_OK), 0);
  CU_ASSERT_EQUAL(access(path_in_scratch("cli_good.h"), R_OK), 0);
  CU_ASSERT_FALSE(scratch_has_file_starting("cli_good.c.tmp"));
}

static void test_cli_usage_errors(void) {
  char *err;
  const char *no_model[] = {"-o", "x.c"};
  CU_ASSERT_EQUAL(run_cnnc(no_model, 2, &err), 2);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "no model given"));
  const char *bad_target[] = {"m.onnx", "--target=sparc"};
  CU_ASSERT_EQUAL(run_cnnc(bad_target, 2, &err), 2);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown target 'sparc'"));
}

/* Found by fuzzing: a kernel a million taps wide once took minutes to emit (a quadratic table builder). The
 * CTest timeout is what fails a regression here; the assertion checks the code was written. */
static void test_long_kernel_emits_linearly(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 3, 3));
  int64_t taps = 1 << 20;
  float *w = cn_alloc_array((size_t)taps, sizeof(float));
  Value *weights = tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(1, 1, 1, taps), w);
  Node *n = tb_node(g, "ConvTranspose", 2, (Value *[]){x, weights}, 1);
  tb_output(g, n->out[0]);
  tb_infer(g);
  TB_ASSERT_SHAPE(n->out[0], 1, 1, 3, taps + 2);
  FILE *c = tmpfile(), *h = tmpfile();
  EmitOptions o = {.prefix = "model", .command_line = "unit test", .header_name = "model.h"};
  g->path = "/dev/null";
  emit_c(g, &(Plan){0}, &o, c, h);
  CU_ASSERT(ftell(c) > taps * 2);
  fclose(c);
  fclose(h);
}

/* Found by fuzzing: Resize sized its tables by an output far over the tensor limit before checking it. */
static void resize_too_large(void *arg) {
  (void)arg;
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 2, (int64_t)1 << 31));
  const float scales[] = {1, 1, 2, 3};
  Value *s = tb_const(g, "scales", DT_FLOAT, 1, TB_DIMS(4), scales);
  Node *n = tb_node(g, "Resize", 3, (Value *[]){x, NULL, s}, 1);
  tb_output(g, n->out[0]);
  tb_infer(g);
}

static void test_resize_output_limit(void) {
  CU_ASSERT(tb_fails_with(resize_too_large, NULL, "sizes must be non-negative and the tensor at most"));
}

/* Found by fuzzing: a node whose outputs are all empty has nothing to do; it must not leave an unused
 * parameter behind in code that has to compile under -Werror. */
static void test_empty_output_compiles(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 0, 2, 4));
  const float scales[] = {1, 1, 0.5f, 0.5f};
  Value *s = tb_const(g, "scales", DT_FLOAT, 1, TB_DIMS(4), scales);
  Node *n = tb_node(g, "Resize", 3, (Value *[]){x, NULL, s}, 1);
  tb_attr_string(n, "mode", "linear");
  Value *y = tb_node(g, "Relu", 1, (Value *[]){n->out[0]}, 1)->out[0];
  tb_output(g, y);
  tb_infer(g);
  TB_ASSERT_SHAPE(y, 1, 0, 1, 2);
  CU_ASSERT_EQUAL(tb_compile_and_run(g, "int main(void) {\n"
                                        "  float in[1], out[1];\n"
                                        "  return model_run((const void *[]){in}, (void *[]){out});\n"
                                        "}\n"),
                  0);
}

/* Found by fuzzing: a Resize axis of a billion outputs asked for tables of tens of gigabytes. */
static void resize_long_axis(void *arg) {
  (void)arg;
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(1, (int64_t)1 << 30));
  const float scales[] = {1, 0.5f};
  Value *s = tb_const(g, "scales", DT_FLOAT, 1, TB_DIMS(2), scales);
  tb_output(g, tb_node(g, "Resize", 3, (Value *[]){x, NULL, s}, 1)->out[0]);
  tb_infer(g);
}

static void test_resize_axis_limit(void) {
  CU_ASSERT(tb_fails_with(resize_long_axis, NULL, "axis 1 has 536870912 outputs; cnnc resizes axes of at most"));
}

/* Names are untrusted: they may try to end a comment or string, splice lines or spell trigraphs. The
 * generated code must still compile warning-free and say nothing but what cnnc wrote. */
static void test_hostile_names_are_escaped(void) {
  static const char *in_name = "x */ #error in_comment \"quoted\" ?\?/";
  static const char *out_name = "y\n#error newline\\";
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_input(&b, in_name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  ob_output(&b, out_name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  static const char *ins[1], *outs[1];
  ins[0] = in_name;
  outs[0] = out_name;
  ob_node(&b, "/* node */ \"name\"\n", "Relu", 1, ins, 1, outs);
  char *model = path_in_scratch("hostile.onnx"), *c = path_in_scratch("hostile.c");
  ob_write(&b, model);
  char *err;
  const char *args[] = {model, "-o", c};
  CU_ASSERT_EQUAL_FATAL(run_cnnc(args, 3, &err), 0);
  CcOptions cc = {.opt = "-O0", .werror = true};
  const char *compile[] = {"-Wtrigraphs", "-c", c, "-o", path_in_scratch("hostile.o")};
  CU_ASSERT_EQUAL(cc_run(&cc, compile, 5), 0);
}

static size_t put_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  do {
    p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return n;
}

/* Wraps the message in buf[*start, end) as field `number`, writing the key and length just before it. */
static void wrap_field(uint8_t *buf, size_t *start, size_t end, int number) {
  uint8_t head[20];
  size_t n = put_varint(head, (uint64_t)number << 3 | 2);
  n += put_varint(head + n, end - *start);
  *start -= n;
  memcpy(buf + *start, head, n);
}

/* Graphs in attributes in nodes in graphs, thousands deep: protobuf-c would recurse until the stack ran out. */
static void test_deep_nesting(void) {
  enum { LEVELS = 20000 };
  size_t cap = (size_t)LEVELS * 3 * 8 + 64, end = cap, start = cap;
  uint8_t *buf = cn_alloc(cap);
  for (int i = 0; i < LEVELS; i++) {
    wrap_field(buf, &start, end, 6); /* AttributeProto.g */
    wrap_field(buf, &start, end, 5); /* NodeProto.attribute */
    wrap_field(buf, &start, end, 1); /* GraphProto.node */
  }
  wrap_field(buf, &start, end, 7); /* ModelProto.graph */
  LoadCase c = {.path = path_in_scratch("deep.onnx")};
  FILE *f = fopen(c.path, "wb");
  fwrite(buf + start, 1, end - start, f);
  fclose(f);
  CU_ASSERT(tb_fails_with(load_and_infer, &c, "nests graphs or types more than 64 levels deep"));
}

/* A length-delimited unknown field (protobuf-c keeps the length prefix in the data), so a test can write a field
 * twice or one the compiled onnx.proto has as a known field. */
static void add_unknown_field(ProtobufCMessage *m, uint32_t number, const void *data, size_t len) {
  ProtobufCMessageUnknownField field = {.tag = number, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED};
  field.data = cn_alloc(len + 10);
  size_t n = 0;
  for (size_t x = len; ; x >>= 7) {
    field.data[n++] = (uint8_t)(x >= 0x80 ? (x & 0x7f) | 0x80 : x);
    if (x < 0x80)
      break;
  }
  memcpy(field.data + n, data, len);
  field.len = n + len;
  ProtobufCMessageUnknownField *fields = cn_alloc_array(m->n_unknown_fields + 1, sizeof *fields);
  if (m->n_unknown_fields)
    memcpy(fields, m->unknown_fields, m->n_unknown_fields * sizeof *fields);
  fields[m->n_unknown_fields++] = field;
  m->unknown_fields = fields;
}

static unsigned char *file_bytes(const char *path, size_t size) {
  FILE *f = fopen(path, "rb");
  unsigned char *bytes = cn_alloc(size);
  CU_ASSERT_FATAL(f && fread(bytes, 1, size, f) == size);
  fclose(f);
  return bytes;
}

/* Initializers' raw_data is read from the model's mapping, not copied by protobuf-c: whatever the payload's offset
 * in the file (the names of 1 to 7 characters shift it), the values hold its exact bytes, and a pass writing into
 * a value leaves the file as it was. */
static void test_initializer_payloads(void) {
  enum { N = 7, COUNT = 5 };
  static float w[N][COUNT];
  static const char *names[N] = {"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg"};
  for (int k = 0; k < N; k++)
    for (int i = 0; i < COUNT; i++) /* bit patterns that are not round numbers, a subnormal, a negative zero */
      w[k][i] = k == 1 && i == 2 ? 1e-40f : k == 2 && i == 0 ? -0.0f : (float)(k * 131 + i) / 7.0f - 3.3f;
  static const int64_t shape[] = {1, COUNT};
  OnnxBuilder b;
  ob_init(&b, 13);
  for (int k = 0; k < N; k++) {
    ob_output(&b, names[k], ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape);
    Onnx__TensorProto *t = ob_initializer(&b, names[k], 2, shape, w[k], sizeof w[k]);
    if (k == 3) { /* typed data in the middle: the payloads after it still match their tensors */
      t->has_raw_data = 0;
      t->n_float_data = COUNT;
      t->float_data = w[k];
    }
  }
  char *path = path_in_scratch("payloads.onnx");
  size_t size = ob_write(&b, path);
  unsigned char *before = file_bytes(path, size);
  LoadOptions none = {0};
  Graph *g = onnx_load(path, &none);
  CU_ASSERT_EQUAL_FATAL(g->n_outputs, N);
  for (int k = 0; k < N; k++)
    CU_ASSERT(memcmp(g->outputs[k]->data, w[k], sizeof w[k]) == 0);
  for (int k = 0; k < N; k++)
    ((float *)g->outputs[k]->data)[4] = 12345.0f;
  CU_ASSERT(memcmp(file_bytes(path, size), before, size) == 0);
  g = onnx_load(path, &none);
  for (int k = 0; k < N; k++)
    CU_ASSERT(memcmp(g->outputs[k]->data, w[k], sizeof w[k]) == 0);
}

/* Protobuf's rules hold where the loader's split of the payloads does not apply: a field given twice takes the
 * last value (raw_data), and a message field given twice is merged (the graph). */
static void test_initializer_payloads_repeated_fields(void) {
  static const float first[] = {1, 2}, last[] = {5, 6, 7, 8}, late[] = {9, 10, 11, 12};
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_output(&b, "w", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  Onnx__TensorProto *t = ob_initializer(&b, "w", 2, shape_1x4, first, sizeof first);
  add_unknown_field(&t->base, 9, last, sizeof last); /* raw_data again, after the first */
  char *path = path_in_scratch("raw_twice.onnx");
  ob_write(&b, path);
  LoadOptions none = {0};
  Graph *g = onnx_load(path, &none);
  CU_ASSERT(memcmp(g->outputs[0]->data, last, sizeof last) == 0);

  OnnxBuilder more; /* a second graph field with one more initializer and output */
  ob_init(&more, 13);
  ob_output(&more, "v", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, shape_1x4);
  ob_initializer(&more, "v", 2, shape_1x4, late, sizeof late);
  size_t len = onnx__graph_proto__get_packed_size(&more.graph);
  uint8_t *graph = cn_alloc(len);
  onnx__graph_proto__pack(&more.graph, graph);
  add_unknown_field(&b.model.base, 7, graph, len);
  path = path_in_scratch("graph_twice.onnx");
  ob_write(&b, path);
  g = onnx_load(path, &none);
  CU_ASSERT_EQUAL_FATAL(g->n_outputs, 2);
  CU_ASSERT(memcmp(g->outputs[0]->data, last, sizeof last) == 0);
  CU_ASSERT(memcmp(g->outputs[1]->data, late, sizeof late) == 0);
}

CU_TestInfo loader_tests[] = {
    {"deep_nesting", test_deep_nesting},
    {"hostile_names_are_escaped", test_hostile_names_are_escaped},
    {"empty_output_compiles", test_empty_output_compiles},
    {"resize_axis_limit", test_resize_axis_limit},
    {"long_kernel_emits_linearly", test_long_kernel_emits_linearly},
    {"resize_output_limit", test_resize_output_limit},
    {"valid_model", test_valid_model},
    {"initializer_forms", test_initializer_forms},
    {"initializer_payloads", test_initializer_payloads},
    {"initializer_payloads_repeated_fields", test_initializer_payloads_repeated_fields},
    {"symbolic_dim", test_symbolic_dim},
    {"malformed_and_truncated", test_malformed_and_truncated},
    {"unknown_operator", test_unknown_operator},
    {"unsupported_type", test_unsupported_type},
    {"cycle", test_cycle},
    {"missing_input", test_missing_input},
    {"raw_data_length", test_raw_data_length},
    {"absurd_dims", test_absurd_dims},
    {"wrong_attribute_type", test_wrong_attribute_type},
    {"inconsistent_shapes", test_inconsistent_shapes},
    {"duplicate_output", test_duplicate_output},
    {"cli_error_leaves_nothing", test_cli_error_leaves_nothing},
    {"cli_success_writes_both_files", test_cli_success_writes_both_files},
    {"cli_usage_errors", test_cli_usage_errors},
    CU_TEST_INFO_NULL,
};
