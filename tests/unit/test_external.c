/* External data: initializers whose bytes live in another file beside the model (data_location = EXTERNAL,
 * location/offset/length), memory-mapped rather than copied, and every way a hostile location or range is
 * refused. The models and data files are written here. */
#include "onnx_builder.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void remove_dir(void) {
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
}

static char *in_dir(const char *name) {
  if (!dir[0]) {
    strcpy(dir, "/tmp/cnnc-external-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    atexit(remove_dir);
  }
  return cn_format("%s/%s", dir, name);
}

/* weights.bin: 4096 bytes of padding, then the floats 1 2 3 4, then 10 20 30 40 at byte 4096 + 18. */
static void write_weights(void) {
  unsigned char bytes[4096 + 64] = {0};
  const float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40};
  memcpy(bytes + 4096, a, sizeof a);
  memcpy(bytes + 4096 + 18, b, sizeof b);
  FILE *f = fopen(in_dir("weights.bin"), "wb");
  CU_ASSERT_FATAL(f && fwrite(bytes, 1, sizeof bytes, f) == sizeof bytes);
  fclose(f);
}

static const int64_t dims4[] = {4};

/* y = x + w with w external at `location`/offset/length. */
static Onnx__TensorProto *build(OnnxBuilder *b, const char *location, int64_t offset, int64_t length) {
  ob_init(b, 13);
  ob_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  ob_output(b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  Onnx__TensorProto *t = ob_external_initializer(b, "w", 1, dims4, location, offset, length);
  static const char *in[] = {"x", "w"}, *out[] = {"y"};
  ob_node(b, "add", "Add", 2, in, 1, out);
  return t;
}

static Graph *load(OnnxBuilder *b) {
  char *path = in_dir("model.onnx");
  ob_write(b, path);
  LoadOptions none = {0};
  Graph *g = onnx_load(path, &none);
  shape_infer(g);
  return g;
}

static void load_quietly(void *b) { load(b); }

static bool load_fails_with(OnnxBuilder *b, const char *expected) {
  bool failed = tb_fails_with(load_quietly, b, expected);
  if (!failed)
    fprintf(stderr, "\n  expected an error with \"%s\", got \"%s\"\n", expected, tb_last_error());
  return failed;
}

static Value *weight(const Graph *g) {
  for (int i = 0; i < g->n_values; i++)
    if (strcmp(g->values[i]->name, "w") == 0)
      return g->values[i];
  return NULL;
}

/* Whether p lies in a mapping of a file whose path ends in `suffix` (from /proc/self/maps). */
static bool mapped_from(const void *p, const char *suffix) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[4096];
  bool found = false;
  while (!found && f && fgets(line, sizeof line, f)) {
    unsigned long start, end;
    char path[4096] = "";
    if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &start, &end, path) < 2)
      continue;
    size_t len = strlen(path), suffix_len = strlen(suffix);
    found = (uintptr_t)p >= start && (uintptr_t)p < end && len >= suffix_len &&
            strcmp(path + len - suffix_len, suffix) == 0;
  }
  if (f)
    fclose(f);
  return found;
}

static void test_external_mapped(void) {
  write_weights();
  OnnxBuilder b;
  build(&b, "weights.bin", 4096, 16);
  Graph *g = load(&b);
  Value *w = weight(g);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  CU_ASSERT(mapped_from(w->data, "/weights.bin")); /* not a copy */
  CU_ASSERT_EQUAL(((const float *)w->data)[3], 4.0f);
  const char *driver = "int main(void) {\n"
                       "  float x[4] = {0.5f, 0.5f, 0.5f, 0.5f}, y[4];\n"
                       "  if (model_run((const void *[]){x}, (void *[]){y})) return 1;\n"
                       "  return y[0] == 1.5f && y[3] == 4.5f ? 0 : 2;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);

  /* without offset and length: the tensor's size from the start of the file */
  build(&b, "weights.bin", -1, -1);
  CU_ASSERT_EQUAL(((const float *)weight(load(&b))->data)[0], 0.0f);
  /* an offset that misaligns floats: that tensor is copied */
  build(&b, "weights.bin", 4096 + 18, -1);
  w = weight(load(&b));
  CU_ASSERT_EQUAL(((const float *)w->data)[2], 30.0f);
  CU_ASSERT_FALSE(mapped_from(w->data, "/weights.bin"));
  /* a subdirectory is fine */
  CU_ASSERT_EQUAL(mkdir(in_dir("sub"), 0755), 0);
  CU_ASSERT_EQUAL(symlink("../weights.bin", in_dir("sub/link.bin")), 0); /* resolves inside the directory */
  build(&b, "sub/./link.bin", 4096, 16);
  CU_ASSERT_EQUAL(((const float *)weight(load(&b))->data)[1], 2.0f);
}

static void test_external_refused(void) {
  write_weights();
  OnnxBuilder b;
  build(&b, in_dir("weights.bin"), 4096, 16);
  CU_ASSERT(load_fails_with(&b, "is an absolute path; it must be relative to the model's directory"));
  build(&b, "../weights.bin", 0, 16);
  CU_ASSERT(load_fails_with(&b, "initializer 'w': external data location '../weights.bin' contains '..'"));
  build(&b, "sub/../../etc/passwd", 0, 16);
  CU_ASSERT(load_fails_with(&b, "contains '..'"));
  unlink(in_dir("escape.bin"));
  CU_ASSERT_EQUAL(symlink("/etc/hostname", in_dir("escape.bin")), 0);
  build(&b, "escape.bin", 0, -1);
  CU_ASSERT(load_fails_with(&b, "resolves to '/etc/hostname', outside the model's directory"));
  build(&b, "missing.bin", 0, 16);
  CU_ASSERT(load_fails_with(&b, "cannot open external data file 'missing.bin'"));
  build(&b, "", 0, 16);
  CU_ASSERT(load_fails_with(&b, "the external data location is empty"));
  mkdir(in_dir("adir"), 0755);
  build(&b, "adir", 0, 16);
  CU_ASSERT(load_fails_with(&b, "external data location 'adir' is not a regular file"));
  unlink(in_dir("fifo"));
  CU_ASSERT_EQUAL(mkfifo(in_dir("fifo"), 0644), 0);
  build(&b, "fifo", 0, 16);
  CU_ASSERT(load_fails_with(&b, "external data location 'fifo' is not a regular file"));

  build(&b, "weights.bin", 4096, 12);
  CU_ASSERT(load_fails_with(&b, "external data length is 12 bytes; float[4] needs 16"));
  build(&b, "weights.bin", 4096 + 64, 16);
  CU_ASSERT(load_fails_with(&b, "external data at offset 4160, 16 bytes, runs past the end of 'weights.bin' (4160 bytes)"));
  build(&b, "weights.bin", (int64_t)1 << 62, 16);
  CU_ASSERT(load_fails_with(&b, "runs past the end"));
  Onnx__TensorProto *t = build(&b, "weights.bin", -1, -1);
  ob_external_entry(t, "offset", "-4");
  CU_ASSERT(load_fails_with(&b, "external data offset '-4' is not a non-negative integer"));
  t = build(&b, "weights.bin", -1, -1);
  ob_external_entry(t, "offset", "99999999999999999999999");
  CU_ASSERT(load_fails_with(&b, "is not a non-negative integer"));
  t = build(&b, "weights.bin", 0, 16);
  ob_external_entry(t, "compression", "zstd");
  CU_ASSERT(load_fails_with(&b, "external data key 'compression' is not one cnnc knows"));
  t = build(&b, "weights.bin", 0, 16);
  t->has_raw_data = 1;
  t->raw_data.len = 16;
  t->raw_data.data = cn_alloc(16);
  CU_ASSERT(load_fails_with(&b, "has external data and data of its own"));
  t = build(&b, "weights.bin", 0, 16);
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
  CU_ASSERT(load_fails_with(&b, "has external_data entries, but its data_location is not EXTERNAL"));
}

/* A tensor file for --bind finds its external data beside itself. */
static void test_external_tensor_file(void) {
  write_weights();
  Onnx__TensorProto t;
  onnx__tensor_proto__init(&t);
  t.name = "w";
  t.has_data_type = 1;
  t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t.n_dims = 1;
  t.dims = (int64_t *)dims4;
  t.has_data_location = 1;
  t.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  ob_external_entry(&t, "location", "weights.bin");
  ob_external_entry(&t, "offset", "4096");
  size_t size = onnx__tensor_proto__get_packed_size(&t);
  uint8_t *buf = cn_alloc(size);
  onnx__tensor_proto__pack(&t, buf);
  FILE *f = fopen(in_dir("w.pb"), "wb");
  CU_ASSERT_FATAL(f && fwrite(buf, 1, size, f) == size);
  fclose(f);
  Value *v = onnx_load_tensor_file(in_dir("w.pb"));
  CU_ASSERT_EQUAL(((const float *)v->data)[1], 2.0f);
}

CU_TestInfo external_tests[] = {
    {"external_mapped", test_external_mapped},
    {"external_refused", test_external_refused},
    {"external_tensor_file", test_external_tensor_file},
    CU_TEST_INFO_NULL,
};
