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

static int compile_and_run(Graph *g, const TrainOptions *train, const char *driver_c, Target target,
                           const char *cc_name, const char *cflag);

int tb_compile_and_run(Graph *g, const char *driver_c) {
  return compile_and_run(g, NULL, driver_c, TARGET_GENERIC, NULL, NULL);
}

int tb_compile_and_run_target(Graph *g, const char *driver_c, Target target, const char *cc_name, const char *cflag) {
  return compile_and_run(g, NULL, driver_c, target, cc_name, cflag);
}

int tb_compile_and_run_train(Graph *g, const TrainOptions *train, const char *driver_c) {
  return compile_and_run(g, train, driver_c, TARGET_GENERIC, NULL, NULL);
}

static int compile_and_run(Graph *g, const TrainOptions *train, const char *driver_c, Target target,
                           const char *cc_name, const char *cflag) {
  char tmpl[] = "/tmp/cnnc-unit-XXXXXX";
  char *dir = mkdtemp(tmpl);
  CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
  fold_dead_code(g);
  layout_assign(g, target);
  Plan plan = plan_memory(g);
  char *c_path = cn_format("%s/model.c", dir), *h_path = cn_format("%s/model.h", dir);
  char *d_path = cn_format("%s/driver.c", dir), *exe = cn_format("%s/run", dir);
  FILE *c = fopen(c_path, "w"), *h = fopen(h_path, "w"), *d = fopen(d_path, "w");
  EmitOptions o = {
      .prefix = "model", .command_line = "unit test", .header_name = "model.h", .target = target, .train = train};
  g->path = "/dev/null"; /* hashed into the header comment */
  emit_c(g, &plan, &o, c, h);
  fputs("#include \"model.h\"\n#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n", d);
  fputs(driver_c, d);
  fclose(c);
  fclose(h);
  fclose(d);
  CcOptions cc = {.cc = cc_name, .opt = "-O1", .werror = true};
  const char *args[] = {"-o", exe, c_path, d_path, "-lm", cflag};
  int status = cc_run(&cc, args, cflag ? 6 : 5);
  if (status != 0)
    return 100 + status;
  const char *run[] = {exe, NULL};
  status = cn_spawn(run);
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
  return status;
}

void tb_passes(Graph *g) {
  fold_dead_code(g);
  fold_bn(g);
  fuse(g);
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

static char *emit_model(Graph *g, const char *dir, const char *prefix) {
  Plan plan = plan_memory(g);
  char *c_path = cn_format("%s/%s.c", dir, prefix), *h_path = cn_format("%s/%s.h", dir, prefix);
  FILE *c = fopen(c_path, "w"), *h = fopen(h_path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  EmitOptions o = {.prefix = prefix, .command_line = "unit test", .header_name = cn_format("%s.h", prefix)};
  g->path = "/dev/null"; /* hashed into the header comment */
  emit_c(g, &plan, &o, c, h);
  fclose(c);
  fclose(h);
  return c_path;
}

int tb_compare_graph_pairs(int n, Graph **plain, Graph **transformed, double tol) {
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
    args[n_args++] = emit_model(plain[k], dir, cn_format("plain%d", k));
    args[n_args++] = emit_model(transformed[k], dir, cn_format("fused%d", k));
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
  CcOptions cc = {.cc = NULL, .opt = "-O1", .werror = true};
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
  CcOptions cc = {.cc = cc_name, .opt = opt, .werror = true};
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
