#include "testutil.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Graph *tb_graph(int64_t opset) {
  Graph *g = graph_new("test.onnx");
  g->opset = opset;
  g->inputs = cn_alloc_array(64, sizeof(Value *));
  g->outputs = cn_alloc_array(64, sizeof(Value *));
  diag_file = "test.onnx";
  return g;
}

Value *tb_input(Graph *g, const char *name, DType t, int rank, const int64_t *dims) {
  Value *v = graph_add_value(g, name);
  value_set_shape(v, NULL, t, rank, dims);
  v->flags |= VAL_GRAPH_INPUT;
  g->inputs[g->n_inputs++] = v;
  return v;
}

Value *tb_const(Graph *g, const char *name, DType t, int rank, const int64_t *dims, const void *data) {
  Value *v = graph_add_value(g, name);
  value_set_shape(v, NULL, t, rank, dims);
  v->data = cn_alloc((size_t)value_bytes(v));
  if (value_bytes(v) > 0) /* an empty tensor's data may be NULL, which memcpy must not get */
    memcpy(v->data, data, (size_t)value_bytes(v));
  v->flags |= VAL_INITIALIZER;
  return v;
}

Value *tb_const_ints(Graph *g, const char *name, int n, const int64_t *values) {
  int64_t dims[1] = {n};
  return tb_const(g, name, DT_INT64, 1, dims, values);
}

Node *tb_node(Graph *g, const char *op_type, int n_in, Value *const *ins, int n_out) {
  Node *n = graph_add_node(g, cn_format("%s_%d", op_type, g->n_nodes), op_type, n_in, n_out);
  n->op = op_lookup(op_type);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n->op);
  for (int i = 0; i < n_in; i++)
    n->in[i] = ins[i];
  for (int i = 0; i < n_out; i++) {
    n->out[i] = graph_add_value(g, cn_format("%s_out%d", n->name, i));
    n->out[i]->producer = n;
  }
  n->attrs = cn_alloc_array(16, sizeof(Attr));
  return n;
}

static Attr *new_attr(Node *n, const char *name, AttrType type) {
  CU_ASSERT_FATAL(n->n_attrs < 16);
  Attr *a = &n->attrs[n->n_attrs++];
  a->name = name;
  a->type = type;
  return a;
}

void tb_attr_int(Node *n, const char *name, int64_t v) { new_attr(n, name, ATTR_INT)->i = v; }
void tb_attr_float(Node *n, const char *name, float v) { new_attr(n, name, ATTR_FLOAT)->f = v; }

void tb_attr_ints(Node *n, const char *name, int count, const int64_t *v) {
  Attr *a = new_attr(n, name, ATTR_INTS);
  a->n = count;
  a->ints = cn_alloc_array((size_t)count + 1, sizeof(int64_t));
  memcpy(a->ints, v, (size_t)count * sizeof(int64_t));
}

void tb_attr_floats(Node *n, const char *name, int count, const float *v) {
  Attr *a = new_attr(n, name, ATTR_FLOATS);
  a->n = count;
  a->floats = cn_alloc_array((size_t)count + 1, sizeof(float));
  memcpy(a->floats, v, (size_t)count * sizeof(float));
}

void tb_attr_string(Node *n, const char *name, const char *v) {
  Attr *a = new_attr(n, name, ATTR_STRING);
  a->s = v;
  a->s_len = strlen(v);
}

void tb_output(Graph *g, Value *v) {
  v->flags |= VAL_GRAPH_OUTPUT;
  g->outputs[g->n_outputs++] = v;
}

void tb_infer(Graph *g) {
  graph_sort(g);
  shape_infer(g);
}

int tb_live_nodes(const Graph *g) {
  int count = 0;
  for (int i = 0; i < g->n_nodes; i++)
    count += !g->nodes[i]->dead;
  return count;
}

static char *bytes_literal(const void *data, int64_t n) {
  char *s = cn_strdup("");
  for (int64_t i = 0; i < n; i++)
    s = cn_format("%s%s%u", s, i ? "," : "", ((const unsigned char *)data)[i]);
  return n ? s : cn_strdup("0");
}

Graph *tb_fold_matches_code(int64_t opset, int n_in, const TestInput *ins, BuildFn build) {
  Value *xs[4];
  CU_ASSERT_FATAL(n_in <= 4);
  Graph *folded = tb_graph(opset);
  for (int i = 0; i < n_in; i++)
    xs[i] = tb_const(folded, cn_format("x%d", i), ins[i].dtype, ins[i].rank, ins[i].dims, ins[i].data);
  build(folded, xs);
  tb_infer(folded);
  CU_ASSERT_EQUAL(tb_live_nodes(folded), 0);

  Graph *compiled = tb_graph(opset);
  for (int i = 0; i < n_in; i++)
    xs[i] = tb_input(compiled, cn_format("x%d", i), ins[i].dtype, ins[i].rank, ins[i].dims);
  build(compiled, xs);
  tb_infer(compiled);
  CU_ASSERT_EQUAL_FATAL(compiled->n_outputs, folded->n_outputs);

  char *driver = cn_strdup("#include <string.h>\n");
  char *in_list = cn_strdup(""), *out_list = cn_strdup(""), *checks = cn_strdup("");
  for (int i = 0; i < n_in; i++) {
    Value *x = compiled->inputs[i];
    driver = cn_format("%sstatic const union { unsigned char b[%lld]; int64_t align; } in%d = {{%s}};\n", driver,
                       (long long)value_bytes(x) + 1, i, bytes_literal(ins[i].data, value_bytes(x)));
    in_list = cn_format("%s%sin%d.b", in_list, i ? ", " : "", i);
  }
  for (int j = 0; j < folded->n_outputs; j++) {
    Value *want = folded->outputs[j], *got = compiled->outputs[j];
    CU_ASSERT_PTR_NOT_NULL_FATAL(want->data);
    CU_ASSERT_EQUAL(got->rank, want->rank);
    CU_ASSERT_EQUAL_FATAL(value_bytes(got), value_bytes(want));
    driver = cn_format("%sstatic const unsigned char want%d[%lld] = {%s};\n"
                       "static union { unsigned char b[%lld]; int64_t align; } got%d;\n",
                       driver, j, (long long)value_bytes(want) + 1, bytes_literal(want->data, value_bytes(want)),
                       (long long)value_bytes(want) + 1, j);
    out_list = cn_format("%s%sgot%d.b", out_list, j ? ", " : "", j);
    checks = cn_format("%s  if (memcmp(got%d.b, want%d, %lld) != 0) return 10 + %d;\n", checks, j, j,
                       (long long)value_bytes(want), j);
  }
  driver = cn_format("%sint main(void) {\n  const void *in[] = {%s};\n  void *out[] = {%s};\n"
                     "  if (model_run(in, out) != 0) return 1;\n%s  return 0;\n}\n",
                     driver, n_in ? in_list : "NULL", out_list, checks);
  CU_ASSERT_EQUAL(tb_compile_and_run(compiled, driver), 0);
  return folded;
}

static jmp_buf catch_point;
static char last_error[2048];

static void catch_fatal(const char *message) {
  snprintf(last_error, sizeof last_error, "%s", message);
  longjmp(catch_point, 1);
}

bool tb_fails_with(void (*fn)(void *), void *arg, const char *expected) {
  last_error[0] = 0;
  diag_fatal_hook = catch_fatal;
  bool failed = false;
  if (setjmp(catch_point) == 0)
    fn(arg);
  else
    failed = true;
  diag_fatal_hook = NULL;
  return failed && strstr(last_error, expected) != NULL;
}

const char *tb_last_error(void) { return last_error; }

/* Test programs whose compiler the test leaves open are built with gcc: its driver starts in a fraction of
 * clang's time (clang loads all of libLLVM), which halves the CPU time of the suites that build hundreds of them.
 * Both compilers still build the generated code in the conformance suite, the models and the template tests. */
static const char default_cc[] = "gcc";

static int compile_and_run(Graph *g, const TrainOptions *train, const char *driver_c, Target target,
                           const char *cc_name, const char *cflag, bool passes) {
  char tmpl[] = "/tmp/cnnc-unit-XXXXXX";
  char *dir = mkdtemp(tmpl);
  CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
  fold_dead_code(g);
  if (passes) {
    fold_bn(g);
    fuse(g);
  }
  layout_assign(g, target);
  if (passes)
    views(g);
  Plan plan = plan_memory(g);
  char *c_path = cn_format("%s/model.c", dir), *h_path = cn_format("%s/model.h", dir);
  char *d_path = cn_format("%s/driver.c", dir), *exe = cn_format("%s/run", dir);
  FILE *c = fopen(c_path, "w"), *h = fopen(h_path, "w"), *d = fopen(d_path, "w");
  EmitOptions o = {
      .prefix = "model", .command_line = "unit test", .header_name = "model.h", .target = target, .train = train};
  g->path = "/dev/null"; /* hashed into the header comment */
  emit_c(g, &plan, &o, c, h);
  /* one translation unit, the model first (so it still compiles on its own terms): one compiler pass */
  fputs("#include \"model.c\"\n#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n", d);
  fputs(driver_c, d);
  fclose(c);
  fclose(h);
  fclose(d);
  CcOptions cc = {.cc = cc_name ? cc_name : default_cc, .opt = "-O1", .werror = true};
  const char *args[] = {"-o", exe, d_path, "-lm", cflag};
  int status = cc_run(&cc, args, cflag ? 5 : 4);
  if (status != 0)
    return 100 + status;
  const char *run[] = {exe, NULL};
  status = cn_spawn(run);
  if (status != 0)
    fprintf(stderr, "\n  the test program in %s exited with status %d\n", dir, status);
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
  return status;
}

int tb_compile_and_run(Graph *g, const char *driver_c) {
  return compile_and_run(g, NULL, driver_c, TARGET_GENERIC, NULL, NULL, false);
}

int tb_compile_and_run_target(Graph *g, const char *driver_c, Target target, const char *cc_name, const char *cflag) {
  return compile_and_run(g, NULL, driver_c, target, cc_name, cflag, false);
}

int tb_compile_and_run_pipeline(Graph *g, const char *driver_c, Target target, const char *cc_name) {
  return compile_and_run(g, NULL, driver_c, target, cc_name, NULL, true);
}

int tb_compile_and_run_train(Graph *g, const TrainOptions *train, const char *driver_c) {
  return compile_and_run(g, train, driver_c, TARGET_GENERIC, NULL, NULL, false);
}

void tb_passes(Graph *g) { tb_passes_for(g, TARGET_GENERIC); }

void tb_passes_for(Graph *g, Target t) {
  fold_dead_code(g);
  fold_bn(g);
  fuse(g);
  layout_assign(g, t);
  views(g);
  graph_verify(g);
}

/* The driver comparing pairs of models: the pairs table is written before it. */
static const char compare_driver[] =
    "#include <math.h>\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "\n"
    "static unsigned state = 12345;\n"
    "static double next_value(void) {\n"
    "  state = state * 1103515245u + 12345u;\n"
    "  return (double)((state >> 8) & 0xffff) / 0xffff * 4 - 2;\n"
    "}\n"
    "\n"
    "static double element(const void *p, int type, size_t i) {\n"
    "  return type == 11 ? ((const double *)p)[i] : ((const float *)p)[i];\n"
    "}\n"
    "\n"
    "static int count(const cnnc_tensor_info *t) {\n"
    "  int n = 0;\n"
    "  while (t[n].name)\n"
    "    n++;\n"
    "  return n;\n"
    "}\n"
    "\n"
    "static int compare(int pair, const Pair *p) {\n"
    "  const void *in[64] = {0};\n"
    "  void *plain_out[64] = {0}, *fused_out[64] = {0};\n"
    "  int n_in = count(p->inputs), n_out = count(p->outputs);\n"
    "  if (n_in > 64 || n_out > 64 || count(p->fused_outputs) != n_out) return 10;\n"
    "  for (int k = 0; k < n_in; k++) {\n"
    "    const cnnc_tensor_info *t = &p->inputs[k];\n"
    "    void *buffer = calloc(t->count + 1, t->elem_size);\n"
    "    for (size_t i = 0; i < t->count; i++) {\n"
    "      if (t->elem_type == 11) ((double *)buffer)[i] = next_value();\n"
    "      else if (t->elem_type == 1) ((float *)buffer)[i] = (float)next_value();\n"
    "      else return 10;\n"
    "    }\n"
    "    in[k] = buffer;\n"
    "  }\n"
    "  for (int k = 0; k < n_out; k++) {\n"
    "    plain_out[k] = calloc(p->outputs[k].count + 1, p->outputs[k].elem_size);\n"
    "    fused_out[k] = calloc(p->outputs[k].count + 1, p->outputs[k].elem_size);\n"
    "  }\n"
    "  if (p->plain(in, plain_out) != 0 || p->fused(in, fused_out) != 0) return 11;\n"
    "  for (int k = 0; k < n_out; k++) {\n"
    "    const cnnc_tensor_info *t = &p->outputs[k];\n"
    "    if (t->count != p->fused_outputs[k].count) return 12;\n"
    "    for (size_t i = 0; i < t->count; i++) {\n"
    "      double want = element(plain_out[k], t->elem_type, i), got = element(fused_out[k], t->elem_type, i);\n"
    "      double scale = fabs(want) > 1 ? fabs(want) : 1;\n"
    "      if (!(fabs(got - want) <= TOLERANCE * scale) && !(isnan(got) && isnan(want))) {\n"
    "        printf(\"pair %d, output %d, element %zu: transformed %.9g, plain %.9g\\n\", pair, k, i, got, want);\n"
    "        return 13 + pair;\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "  return 0;\n"
    "}\n"
    "\n"
    "int main(void) {\n"
    "  for (int k = 0; k < (int)(sizeof pairs / sizeof pairs[0]); k++) {\n"
    "    int status = compare(k, &pairs[k]);\n"
    "    if (status)\n"
    "      return status;\n"
    "  }\n"
    "  return 0;\n"
    "}\n";

static char *emit_model(Graph *g, const char *dir, const char *prefix, Target t) {
  Plan plan = plan_memory(g);
  char *c_path = cn_format("%s/%s.c", dir, prefix), *h_path = cn_format("%s/%s.h", dir, prefix);
  FILE *c = fopen(c_path, "w"), *h = fopen(h_path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  EmitOptions o = {
      .prefix = prefix, .command_line = "unit test", .header_name = cn_format("%s.h", prefix), .target = t};
  g->path = "/dev/null"; /* hashed into the header comment */
  emit_c(g, &plan, &o, c, h);
  fclose(c);
  fclose(h);
  return c_path;
}

int tb_compare_graph_pairs(int n, Graph **plain, Graph **transformed, double tol) {
  return tb_compare_graph_pairs_on(TARGET_GENERIC, n, plain, transformed, tol);
}

int tb_compare_graph_pairs_on(Target t, int n, Graph **plain, Graph **transformed, double tol) {
  char tmpl[] = "/tmp/cnnc-unit-XXXXXX";
  char *dir = mkdtemp(tmpl);
  CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
  CU_ASSERT_FATAL(n >= 1 && n <= 24); /* cc_run takes up to 63 arguments */
  char *d_path = cn_format("%s/driver.c", dir), *exe = cn_format("%s/run", dir);
  FILE *d = fopen(d_path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  const char *args[2 * 24 + 4] = {"-o", exe, d_path};
  int n_args = 3;
  for (int k = 0; k < n; k++) {
    fold_dead_code(plain[k]);
    args[n_args++] = emit_model(plain[k], dir, cn_format("plain%d", k), TARGET_GENERIC);
    args[n_args++] = emit_model(transformed[k], dir, cn_format("fused%d", k), t);
    fprintf(d, "#include \"plain%d.h\"\n#include \"fused%d.h\"\n", k, k);
  }
  args[n_args++] = "-lm";
  fprintf(d, "\n#define TOLERANCE %.17g\n\n", tol);
  fprintf(d, "typedef struct Pair {\n  int (*plain)(const void *const *, void *const *);\n"
             "  int (*fused)(const void *const *, void *const *);\n"
             "  const cnnc_tensor_info *inputs, *outputs, *fused_outputs;\n} Pair;\n\n");
  fprintf(d, "static const Pair pairs[] = {\n");
  for (int k = 0; k < n; k++)
    fprintf(d, "    {plain%d_run, fused%d_run, plain%d_input_info, plain%d_output_info, fused%d_output_info},\n", k,
            k, k, k, k);
  fprintf(d, "};\n\n%s", compare_driver);
  fclose(d);
  CcOptions cc = {.cc = default_cc, .opt = "-O1", .werror = true};
  int status = cc_run(&cc, args, n_args);
  if (status != 0)
    return 100 + status;
  const char *run[] = {exe, NULL};
  status = cn_spawn(run);
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
  return status;
}

int tb_compare_graphs(Graph *plain, Graph *transformed, double tol) {
  return tb_compare_graph_pairs(1, &plain, &transformed, tol);
}

int tb_run_program(const char *source, const char *cc_name, const char *opt) {
  char tmpl[] = "/tmp/cnnc-unit-XXXXXX";
  char *dir = mkdtemp(tmpl);
  CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
  char *c_path = cn_format("%s/test.c", dir), *exe = cn_format("%s/run", dir);
  FILE *c = fopen(c_path, "w");
  fputs(source, c);
  fclose(c);
  CcOptions cc = {.cc = cc_name ? cc_name : default_cc, .opt = opt, .werror = true};
  const char *args[] = {"-o", exe, c_path, "-lm"};
  int status = cc_run(&cc, args, 4);
  if (status == 0) {
    const char *run[] = {exe, NULL};
    status = cn_spawn(run);
  } else {
    status += 100;
  }
  if (status == 0) {
    const char *rm[] = {"rm", "-rf", dir, NULL};
    cn_spawn(rm);
  } else {
    fprintf(stderr, "program kept in %s\n", dir);
  }
  return status;
}

int tb_host_targets(Target *targets) {
  const char *why;
  Target best = target_native(&why);
  int n = 0;
  if (best == TARGET_AVX512)
    targets[n++] = TARGET_AVX512;
  if (best == TARGET_AVX512 || best == TARGET_AVX2)
    targets[n++] = TARGET_AVX2;
  return n;
}

#define TEMPLATE_DRIVERS CNNC_SOURCE_DIR "/tests/unit/templates/"

static char *template_program(Target t, const char *driver, TbWriteInstances write, const char *tests) {
  char *text;
  size_t len;
  FILE *out = open_memstream(&text, &len);
  fputs("#include <stddef.h>\n#include <stdint.h>\n", out);
  target_emit_begin(out, t, true);
  fprintf(out, "enum { ACT_NONE = %d, ACT_RELU = %d, ACT_LEAKY_RELU = %d, ACT_CLIP = %d, ACT_SIGMOID = %d,\n"
               "       ACT_HARD_SIGMOID = %d, ACT_HARD_SWISH = %d, ACT_TANH = %d, ACT_SILU = %d };\n",
          ACT_NONE, ACT_RELU, ACT_LEAKY_RELU, ACT_CLIP, ACT_SIGMOID, ACT_HARD_SIGMOID, ACT_HARD_SWISH, ACT_TANH,
          ACT_SILU);
  fprintf(out, "#include \"%s%s\"\n\n", TEMPLATE_DRIVERS, driver);
  EmitOptions o = {.target = t};
  Emitter e = {.out = out, .kernels = out, .opts = &o};
  if (write)
    write(&e, target_vector_floats(t));
  fprintf(out, "static int run_tests(void) {\n%s\n}\n\n", tests);
  target_emit_end(out, t);
  fputs("int main(void) {\n  int failures = run_tests();\n  if (failures) printf(\"%d failures\\n\", failures);\n"
        "  return failures != 0;\n}\n",
        out);
  fclose(out);
  return text;
}

void tb_run_template_tests(const char *driver, TbWriteInstances write, const char *tests) {
  static const char *const compilers[] = {"gcc", "clang"};
  Target targets[4];
  int n = tb_host_targets(targets);
  if (n == 0)
    CU_FAIL("this machine runs no SIMD target: the templates cannot be tested here");
  for (int i = 0; i < n; i++)
    for (size_t c = 0; c < sizeof compilers / sizeof compilers[0]; c++) {
      int status = tb_run_program(template_program(targets[i], driver, write, tests), compilers[c], "-O2");
      if (status != 0)
        fprintf(stderr, "%s: %s with %s: exit status %d\n", driver, target_name(targets[i]), compilers[c], status);
      CU_ASSERT_EQUAL(status, 0);
    }
}
