/* `cnnc check`: compiles the model, runs it on a test data set (input_*.pb) and compares with output_*.pb. */
#include "cnnc.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The program check builds: reads raw inputs named on the command line, writes raw outputs. */
static const char harness[] =
    "#include \"model.h\"\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "\n"
    "static void *read_exact(const char *path, size_t bytes) {\n"
    "  FILE *f = fopen(path, \"rb\");\n"
    "  void *buf = malloc(bytes ? bytes : 1);\n"
    "  if (!f || !buf || fread(buf, 1, bytes, f) != bytes) {\n"
    "    fprintf(stderr, \"harness: cannot read %zu bytes from %s\\n\", bytes, path);\n"
    "    exit(2);\n"
    "  }\n"
    "  fclose(f);\n"
    "  return buf;\n"
    "}\n"
    "\n"
    "int main(int argc, char **argv) {\n"
    "  if (argc != 1 + model_NUM_INPUTS + model_NUM_OUTPUTS) return 2;\n"
    "  const void *in[model_NUM_INPUTS + 1];\n"
    "  void *out[model_NUM_OUTPUTS + 1];\n"
    "  for (int i = 0; i < model_NUM_INPUTS; i++)\n"
    "    in[i] = read_exact(argv[1 + i], model_input_info[i].count * model_input_info[i].elem_size);\n"
    "  for (int i = 0; i < model_NUM_OUTPUTS; i++)\n"
    "    out[i] = calloc(model_output_info[i].count + 1, model_output_info[i].elem_size);\n"
    "  if (model_run(in, out) != 0) return 3;\n"
    "  for (int i = 0; i < model_NUM_OUTPUTS; i++) {\n"
    "    FILE *f = fopen(argv[1 + model_NUM_INPUTS + i], \"wb\");\n"
    "    size_t bytes = model_output_info[i].count * model_output_info[i].elem_size;\n"
    "    if (!f || fwrite(out[i], 1, bytes, f) != bytes || fclose(f) != 0) return 4;\n"
    "  }\n"
    "  return 0;\n"
    "}\n";

static void write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
    cn_error("cannot write '%s'", path);
}

static void *read_all(const char *path, size_t expected) {
  FILE *f = fopen(path, "rb");
  void *buf = cn_alloc(expected);
  if (!f || fread(buf, 1, expected, f) != expected)
    cn_error("cannot read '%s'", path);
  fclose(f);
  return buf;
}

static bool bound(const LoadOptions *lo, const char *name) {
  for (int k = 0; k < lo->n_binds; k++)
    if (strcmp(lo->binds[k].name, name) == 0)
      return true;
  return false;
}

/* Compares one output; returns whether it is within tolerance. */
static bool compare(const Value *got, const Value *ref, int index, const CheckOptions *co) {
  const char *name = cn_escape_c_string(ref->name, 100);
  if (got->dtype != ref->dtype || value_count(got) != value_count(ref)) {
    printf("output %d '%s': expected %s%s, the model gives %s%s: FAIL\n", index, name, dtype_name(ref->dtype),
           value_shape_string(ref), dtype_name(got->dtype), value_shape_string(got));
    return false;
  }
  double max_abs = 0, max_rel = 0;
  int64_t bad = 0, count = value_count(ref);
  for (int64_t i = 0; i < count; i++) {
    double a = value_get_double(got, i), b = value_get_double(ref, i);
    if (isnan(a) && isnan(b))
      continue;
    if (a == b)
      continue;
    double diff = fabs(a - b);
    if (isnan(diff))
      diff = INFINITY;
    double rel = diff / (fabs(b) > 0 ? fabs(b) : 1);
    if (diff > max_abs)
      max_abs = diff;
    if (rel > max_rel)
      max_rel = rel;
    if (!(diff <= co->atol + co->rtol * fabs(b)))
      bad++;
  }
  printf("output %d '%s' %s%s: max abs err %.3g, max rel err %.3g, %lld of %lld out of tolerance: %s\n", index, name,
         dtype_name(ref->dtype), value_shape_string(ref), max_abs, max_rel, (long long)bad, (long long)count,
         bad ? "FAIL" : "ok");
  return bad == 0;
}

int check_model(const char *model_path, const char *data_dir, const LoadOptions *lo, const EmitOptions *eo,
                const CheckOptions *co) {
  char tmpl[] = "/tmp/cnnc-check-XXXXXX";
  char *dir = mkdtemp(tmpl);
  if (!dir)
    cn_error("cannot create a temporary directory");
  Graph *g = onnx_load(model_path, lo);
  shape_infer(g);
  fold_dead_code(g);
  Plan plan = plan_memory(g);
  char *c_path = cn_format("%s/model.c", dir), *h_path = cn_format("%s/model.h", dir);
  FILE *c_out = fopen(c_path, "w"), *h_out = fopen(h_path, "w");
  if (!c_out || !h_out)
    cn_error("cannot write in '%s'", dir);
  EmitOptions o = *eo;
  o.prefix = "model";
  o.header_name = "model.h";
  emit_c(g, &plan, &o, c_out, h_out);
  if (fclose(c_out) != 0 || fclose(h_out) != 0)
    cn_error("cannot write in '%s'", dir);
  char *main_path = cn_format("%s/main.c", dir), *exe = cn_format("%s/run", dir);
  write_file(main_path, harness, sizeof harness - 1);
  const char *args[] = {"-o", exe, c_path, main_path, "-lm"};
  if (cc_run(&co->cc, args, 5) != 0)
    cn_error("the generated code did not compile (kept in %s)", dir);

  /* input_K.pb is the K-th graph input that is not an initializer; bound ones are compiled in */
  const char **argv = cn_alloc_array((size_t)(g->n_inputs + g->n_outputs + 2), sizeof(char *));
  int argc = 0;
  argv[argc++] = exe;
  int runtime_index = 0;
  for (int k = 0;; k++) {
    char *pb = cn_format("%s/input_%d.pb", data_dir, k);
    if (access(pb, R_OK) != 0)
      break;
    Value *t = onnx_load_tensor_file(pb);
    if (bound(lo, t->name) || runtime_index >= g->n_inputs)
      continue;
    Value *in = g->inputs[runtime_index];
    if (t->dtype != in->dtype || value_count(t) != value_count(in))
      cn_error("%s is %s%s; input '%s' is %s%s", pb, dtype_name(t->dtype), value_shape_string(t),
               cn_escape_c_string(in->name, 100), dtype_name(in->dtype), value_shape_string(in));
    char *raw = cn_format("%s/in%d.bin", dir, runtime_index++);
    write_file(raw, t->data, (size_t)value_bytes(t));
    argv[argc++] = raw;
  }
  if (runtime_index != g->n_inputs)
    cn_error("%s has data for %d of the model's %d run-time inputs", data_dir, runtime_index, g->n_inputs);
  for (int j = 0; j < g->n_outputs; j++)
    argv[argc++] = cn_format("%s/out%d.bin", dir, j);
  argv[argc] = NULL;
  int status = cn_spawn(argv);
  if (status != 0)
    cn_error("the compiled model failed to run (status %d; files kept in %s)", status, dir);

  bool ok = true;
  for (int j = 0; j < g->n_outputs; j++) {
    Value *ref = onnx_load_tensor_file(cn_format("%s/output_%d.pb", data_dir, j));
    Value got = *g->outputs[j];
    got.data = read_all(argv[1 + g->n_inputs + j], (size_t)value_bytes(&got));
    ok &= compare(&got, ref, j, co);
  }
  if (ok) {
    const char *rm[] = {"rm", "-rf", dir, NULL};
    if (cn_spawn(rm) != 0)
      fprintf(stderr, "cnnc: could not remove %s\n", dir);
  } else {
    printf("generated code kept in %s\n", dir);
  }
  return ok ? 0 : 1;
}
