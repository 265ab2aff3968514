/* Model-local functions (FunctionProto), inlined by the loader: attribute references bound to the call's
 * attributes or to the function's defaults, nested calls, omitted optional inputs, outputs passed through from
 * inputs, and the errors of malformed functions. The models are built here with protobuf-c. */
#include "onnx_builder.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int64_t dims4[] = {4};
static const Onnx__AttributeProto__AttributeType FLOAT_ATTR = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;

static char *model_path(void) {
  static char dir[64];
  if (!dir[0]) {
    strcpy(dir, "/tmp/cnnc-functions-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  }
  return cn_format("%s/model.onnx", dir);
}

static Graph *load(OnnxBuilder *b) {
  char *path = model_path();
  ob_write(b, path);
  LoadOptions none = {0};
  Graph *g = onnx_load(path, &none);
  shape_infer(g);
  remove(path);
  return g;
}

static void load_and_infer(void *b) { load(b); }

static bool load_fails_with(OnnxBuilder *b, const char *expected) {
  bool failed = tb_fails_with(load_and_infer, b, expected);
  if (!failed)
    fprintf(stderr, "\n  expected an error with \"%s\", got \"%s\"\n", expected, tb_last_error());
  return failed;
}

/* local.Scale(x) = x * alpha + beta, beta defaulting to 1. */
static Onnx__FunctionProto *add_scale(OnnxBuilder *b) {
  static const char *in[] = {"x"}, *out[] = {"y"}, *attrs[] = {"alpha"};
  Onnx__FunctionProto *fn = ob_function(b, "local", "Scale", 1, in, 1, out, 1, attrs);
  ob_function_default_float(fn, "beta", 1.0f);
  static const char *a_out[] = {"a"}, *b_out[] = {"b"}, *mul_in[] = {"x", "a"}, *mul_out[] = {"t"},
                    *add_in[] = {"t", "b"};
  ob_attr_ref(ob_function_node(b, fn, "", "Constant", 0, NULL, 1, a_out), "value_float", "alpha", FLOAT_ATTR);
  ob_attr_ref(ob_function_node(b, fn, "", "Constant", 0, NULL, 1, b_out), "value_float", "beta", FLOAT_ATTR);
  ob_function_node(b, fn, "", "Mul", 2, mul_in, 1, mul_out);
  ob_function_node(b, fn, "", "Add", 2, add_in, 1, out);
  return fn;
}

/* local.Outer(x) = (Scale(x, alpha = @gain), x): a nested call with a reference, and an input passed through. */
static Onnx__FunctionProto *add_outer(OnnxBuilder *b) {
  static const char *in[] = {"x"}, *out[] = {"y", "x"}, *attrs[] = {"gain"}, *call_in[] = {"x"}, *call_out[] = {"y"};
  Onnx__FunctionProto *fn = ob_function(b, "local", "Outer", 1, in, 2, out, 1, attrs);
  ob_attr_ref(ob_function_node(b, fn, "local", "Scale", 1, call_in, 1, call_out), "alpha", "gain", FLOAT_ATTR);
  return fn;
}

static void build_calls(OnnxBuilder *b) {
  ob_init(b, 18);
  ob_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  static const char *outs[] = {"scaled", "copy", "shifted"};
  for (int k = 0; k < 3; k++)
    ob_output(b, outs[k], ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  add_scale(b);
  add_outer(b);
  static const char *in[] = {"x"}, *outer_out[] = {"scaled", "copy"}, *scale_out[] = {"shifted"};
  ob_attr_float(ob_function_node(b, NULL, "local", "Outer", 1, in, 2, outer_out), "gain", 3.0f);
  Onnx__NodeProto *direct = ob_function_node(b, NULL, "local", "Scale", 1, in, 1, scale_out);
  ob_attr_float(direct, "alpha", 2.0f);
  ob_attr_float(direct, "beta", -1.0f);
}

static void test_inlined_calls(void) {
  OnnxBuilder b;
  build_calls(&b);
  Graph *g = load(&b);
  int live = tb_live_nodes(g);
  CU_ASSERT_EQUAL(live, 5); /* Mul, Add for each Scale, the Identity of Outer's passed-through x */
  for (int i = 0; i < g->n_nodes; i++)
    CU_ASSERT_PTR_NOT_NULL(g->nodes[i]->op); /* no call is left */
  const char *driver = "int main(void) {\n"
                       "  float x[4] = {1, 2, -3, 0.5f}, scaled[4], copy[4], shifted[4];\n"
                       "  if (model_run((const void *[]){x}, (void *[]){scaled, copy, shifted})) return 1;\n"
                       "  for (int i = 0; i < 4; i++) {\n"
                       "    if (scaled[i] != 3 * x[i] + 1) return 2; /* gain 3, beta's default 1 */\n"
                       "    if (copy[i] != x[i]) return 3;\n"
                       "    if (shifted[i] != 2 * x[i] - 1) return 4;\n"
                       "  }\n"
                       "  return 0;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

/* An optional input the call leaves out stays out in the body: Clip without a max. */
static void test_omitted_optional_input(void) {
  OnnxBuilder b;
  ob_init(&b, 13);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  static const char *in[] = {"v", "lo", "hi"}, *out[] = {"w"};
  Onnx__FunctionProto *fn = ob_function(&b, "local", "Bound", 3, in, 1, out, 0, NULL);
  ob_function_node(&b, fn, "", "Clip", 3, in, 1, out);
  static const char *lo_out[] = {"zero"}, *call_in[] = {"x", "zero", ""}, *call_out[] = {"y"};
  Onnx__NodeProto *zero = ob_function_node(&b, NULL, "", "Constant", 0, NULL, 1, lo_out);
  ob_attr_float(zero, "value_float", 0.0f);
  ob_function_node(&b, NULL, "local", "Bound", 3, call_in, 1, call_out);
  Graph *g = load(&b);
  Node *clip = NULL;
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i]->dead)
      clip = g->nodes[i];
  CU_ASSERT_PTR_NOT_NULL_FATAL(clip);
  CU_ASSERT_STRING_EQUAL(clip->op->name, "Clip");
  CU_ASSERT_PTR_NULL(clip->in[2]);
  const char *driver = "int main(void) {\n"
                       "  float x[4] = {-1, 2, 1e30f, -0.0f}, y[4];\n"
                       "  if (model_run((const void *[]){x}, (void *[]){y})) return 1;\n"
                       "  return y[0] == 0 && y[1] == 2 && y[2] == 1e30f ? 0 : 2;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);
}

static void test_function_errors(void) {
  OnnxBuilder b;
  build_calls(&b);
  ob_attr_float(b.graph.node[1], "gamma", 1.0f);
  CU_ASSERT(load_fails_with(&b, "function 'Scale' has no attribute 'gamma'"));

  /* F calls itself */
  ob_init(&b, 18);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  static const char *in[] = {"x"}, *out[] = {"y"};
  Onnx__FunctionProto *fn = ob_function(&b, "local", "F", 1, in, 1, out, 0, NULL);
  ob_function_node(&b, fn, "local", "F", 1, in, 1, out);
  ob_function_node(&b, NULL, "local", "F", 1, in, 1, out);
  CU_ASSERT(load_fails_with(&b, "function 'F' calls itself"));

  /* an output no node computes */
  static const char *relu_out[] = {"z"};
  fn->node[0]->op_type = "Relu";
  fn->node[0]->domain = "";
  fn->node[0]->output = (char **)relu_out;
  CU_ASSERT(load_fails_with(&b, "function 'F' never computes its output 'y'"));

  /* a different opset inside the function */
  fn->node[0]->output = (char **)out;
  ob_function_opset(fn, 13);
  CU_ASSERT(load_fails_with(&b, "function 'F' imports opset 13 of the default domain and the model 18"));

  /* calls nested 40 deep */
  ob_init(&b, 18);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  for (int level = 0; level < 40; level++) {
    fn = ob_function(&b, "local", cn_format("L%d", level), 1, in, 1, out, 0, NULL);
    ob_function_node(&b, fn, level < 39 ? "local" : "", level < 39 ? cn_format("L%d", level + 1) : "Relu", 1, in, 1,
                     out);
  }
  ob_function_node(&b, NULL, "local", "L0", 1, in, 1, out);
  CU_ASSERT(load_fails_with(&b, "function calls nest more than 32 deep"));

  /* a reference outside any function */
  ob_init(&b, 18);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims4);
  ob_attr_ref(ob_node(&b, "leaky", "LeakyRelu", 1, in, 1, out), "alpha", "slope", FLOAT_ATTR);
  CU_ASSERT(load_fails_with(&b, "attribute 'alpha' refers to 'slope', but the node is not inside a function"));
}

CU_TestInfo function_tests[] = {
    {"inlined_calls", test_inlined_calls},
    {"omitted_optional_input", test_omitted_optional_input},
    {"function_errors", test_function_errors},
    CU_TEST_INFO_NULL,
};
