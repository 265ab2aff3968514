/* `cnnc check`: compiles the model, runs it on a test data set (input_*.pb) and compares with output_*.pb. */
#include "cnnc.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The program check builds: reads raw inputs named on the command line, writes raw outputs. It includes the
 * generated model.c first, so the model still compiles on its own terms (its header, then its own includes)
 * while the whole program is one translation unit: one compiler pass instead of two, a third of each test's
 * compile time for the small models of the conformance suite. */
static const char harness[] =
    "#include \"model.c\"\n"
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
    "  const void *in[model_NUM_INPUTS + 1] = {0};\n"
    "  void *out[model_NUM_OUTPUTS + 1] = {0};\n"
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
    "  /* freed, so a leak checker (a sanitizer build, tests/run.sh --sanitize) sees no leak */\n"
    "  for (int i = 0; i < model_NUM_INPUTS; i++)\n"
    "    free((void *)in[i]);\n"
    "  for (int i = 0; i < model_NUM_OUTPUTS; i++)\n"
    "    free(out[i]);\n"
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

/* Reads a tensor file for `like`: a TensorProto if it ends in .pb, else raw little-endian data of like's type
 * and size. */
static Value *read_tensor(const char *path, const Value *like) {
  size_t len = strlen(path);
  if (len > 3 && strcmp(path + len - 3, ".pb") == 0)
    return onnx_load_tensor_file(path);
  FILE *f = fopen(path, "rb");
  if (!f)
    cn_error("cannot open '%s'", path);
  Value *v = cn_alloc(sizeof *v);
  *v = *like;
  v->name = like->name;
  size_t bytes = (size_t)value_bytes(v);
  v->data = cn_alloc(bytes);
  if (fread(v->data, 1, bytes, f) != bytes || fgetc(f) != EOF)
    cn_error("'%s' should hold exactly %zu bytes: %s%s as raw little-endian data", path, bytes,
             dtype_name(like->dtype), value_shape_string(like));
  fclose(f);
  return v;
}

/* Compares one output and prints its line: name, shape, max abs and rel error, pass or FAIL; returns whether it
 * is within tolerance. */
static bool compare(const Value *got, const Value *ref, int index, const CheckOptions *co) {
  const char *name = cn_escape_c_string(got->name, 100);
  if (got->dtype != ref->dtype || value_count(got) != value_count(ref)) {
    printf("output %d '%s': expected %s%s, the model gives %s%s: FAIL\n", index, name, dtype_name(ref->dtype),
           value_shape_string(ref), dtype_name(got->dtype), value_shape_string(got));
    return false;
  }
  double max_abs = 0, max_rel = 0, max_ref = 0;
  int64_t bad = 0, count = value_count(ref);
  for (int64_t i = 0; i < count; i++) {
    double a = value_get_double(got, i), b = value_get_double(ref, i);
    if (fabs(b) > max_ref && isfinite(b))
      max_ref = fabs(b);
    if ((isnan(a) && isnan(b)) || a == b)
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
  /* --tol-scaled replaces the per-element rule by one bound for the whole tensor */
  bool ok = co->tol_scaled > 0 ? max_abs <= co->tol_scaled * (max_ref > 1 ? max_ref : 1) : bad == 0;
  printf("output %d '%s' %s%s: max abs err %.3g, max rel err %.3g, max |ref| %.3g, %lld of %lld out of tolerance: "
         "%s\n",
         index, name, dtype_name(ref->dtype), value_shape_string(got), max_abs, max_rel, max_ref,
         co->tol_scaled > 0 ? (long long)(ok ? 0 : count) : (long long)bad, (long long)count, ok ? "pass" : "FAIL");
  return ok;
}

int check_model(const char *model_path, const char *data_dir, const PipelineOptions *po, const EmitOptions *eo,
                const CheckOptions *co) {
  char *dir = cn_make_temp_dir("check");
  diag_track_temp(dir);
  const LoadOptions *lo = &po->load;
  Compiled compiled = pipeline_run(model_path, po);
  Graph *g = compiled.graph;

  /* input_K.pb is the K-th graph input that is not an initializer; bound ones are compiled in */
  Value **inputs = cn_alloc_array((size_t)g->n_inputs + 1, sizeof(Value *));
  int n_given = 0;
  if (data_dir) {
    for (int k = 0;; k++) {
      char *pb = cn_format("%s/input_%d.pb", data_dir, k);
      if (access(pb, R_OK) != 0)
        break;
      Value *t = onnx_load_tensor_file(pb);
      if (!bound(lo, t->name) && n_given < g->n_inputs)
        inputs[n_given++] = t;
    }
  } else {
    for (int k = 0; k < co->n_inputs && n_given < g->n_inputs; k++, n_given++)
      inputs[n_given] = read_tensor(co->inputs[k], g->inputs[n_given]);
  }
  if (n_given != g->n_inputs || (!data_dir && co->n_inputs != g->n_inputs))
    cn_error("the test data has %d tensors for the model's %d run-time inputs", data_dir ? n_given : co->n_inputs,
             g->n_inputs);
  if (!data_dir && co->n_expects != g->n_outputs)
    cn_error("%d --expect files given for the model's %d outputs", co->n_expects, g->n_outputs);

  char *c_path = cn_format("%s/model.c", dir), *h_path = cn_format("%s/model.h", dir);
  FILE *c_out = fopen(c_path, "w"), *h_out = fopen(h_path, "w");
  if (!c_out || !h_out)
    cn_error("cannot write in '%s'", dir);
  EmitOptions o = *eo;
  o.prefix = "model";
  o.header_name = "model.h";
  emit_c(g, &compiled.plan, &o, c_out, h_out);
  if (fclose(c_out) != 0 || fclose(h_out) != 0)
    cn_error("cannot write in '%s'", dir);
  char *main_path = cn_format("%s/main.c", dir), *exe = cn_format("%s/run", dir);
  write_file(main_path, harness, sizeof harness - 1);
  const char *args[] = {"-o", exe, main_path, "-lm"};
  diag_untrack_temp(dir); /* kept from here on, so a failure can be looked at */
  if (cc_run(&co->cc, args, 4) != 0)
    cn_error("the generated code did not compile (kept in %s)", dir);

  const char **argv = cn_alloc_array((size_t)(g->n_inputs + g->n_outputs + 2), sizeof(char *));
  int argc = 0;
  argv[argc++] = exe;
  for (int k = 0; k < g->n_inputs; k++) {
    Value *t = inputs[k], *in = g->inputs[k];
    if (t->dtype != in->dtype || value_count(t) != value_count(in))
      cn_error("the test data for input %d is %s%s; input '%s' is %s%s", k, dtype_name(t->dtype),
               value_shape_string(t), cn_escape_c_string(in->name, 100), dtype_name(in->dtype),
               value_shape_string(in));
    argv[argc] = cn_format("%s/in%d.bin", dir, k);
    write_file(argv[argc++], t->data, (size_t)value_bytes(t));
  }
  for (int j = 0; j < g->n_outputs; j++)
    argv[argc++] = cn_format("%s/out%d.bin", dir, j);
  argv[argc] = NULL;
  int status = cn_spawn(argv);
  if (status != 0)
    cn_error("the compiled model failed to run (status %d; files kept in %s)", status, dir);

  bool ok = true;
  for (int j = 0; j < g->n_outputs; j++) {
    Value got = *g->outputs[j];
    got.data = read_all(argv[1 + g->n_inputs + j], (size_t)value_bytes(&got));
    Value *ref = data_dir ? onnx_load_tensor_file(cn_format("%s/output_%d.pb", data_dir, j))
                          : read_tensor(co->expects[j], &got);
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
