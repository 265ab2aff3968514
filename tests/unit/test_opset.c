/* Opsets 18 to 21: the signatures that changed (Split num_outputs, Pad axes and wrap, Resize axes, antialias,
 * keep_aspect_ratio_policy and half_pixel_symmetric, Cast saturate), the opset limit, and the rule that an
 * attribute cnnc does not implement is an error. */
#include "onnx_builder.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void infer_graph(void *g) { tb_infer(g); }

static bool infer_fails_with(Graph *g, const char *expected) {
  bool failed = tb_fails_with(infer_graph, g, expected);
  if (!failed)
    fprintf(stderr, "\n  expected an error with \"%s\", got \"%s\"\n", expected, tb_last_error());
  return failed;
}

static const float *out_f(const Graph *g, int j) { return g->outputs[j]->data; }

static const float iota24[24] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

//
// The opset limit and unimplemented attributes
//

static void load_and_infer(void *path) {
  LoadOptions none = {0};
  shape_infer(onnx_load(path, &none));
}

static void test_opset_limit(void) {
  static const int64_t dims[] = {1, 4};
  static const char *in[] = {"x"}, *out[] = {"y"};
  char dir[] = "/tmp/cnnc-opset-XXXXXX";
  CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  char *path = cn_format("%s/m.onnx", dir);
  OnnxBuilder b;
  ob_init(&b, 21);
  ob_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dims);
  ob_output(&b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dims);
  ob_node(&b, "act", "Relu", 1, in, 1, out);
  ob_write(&b, path);
  LoadOptions none = {0};
  Graph *g = onnx_load(path, &none);
  shape_infer(g);
  CU_ASSERT_EQUAL(g->opset, 21);
  b.opset.version = 22;
  ob_write(&b, path);
  CU_ASSERT(tb_fails_with(load_and_infer, path, "imports opset 22 of the default domain; cnnc implements opsets 1 to 21"));
  remove(path);
  rmdir(dir);
}

/* Attributes an op does not read are refused, whether ONNX never defined them or defined them only at
 * another opset. */
static void test_unread_attribute_refused(void) {
  Graph *g = tb_graph(13);
  Node *n = tb_node(g, "Relu", 1, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4))}, 1);
  tb_attr_float(n, "alpha", 0.5f);
  CU_ASSERT(infer_fails_with(g, "node 0 'Relu_0' (Relu): attribute 'alpha' is not implemented by cnnc for Relu at opset 13"));

  g = tb_graph(13);
  n = tb_node(g, "Cast", 1, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4))}, 1);
  tb_attr_int(n, "to", DT_INT32);
  tb_attr_int(n, "saturate", 1);
  CU_ASSERT(infer_fails_with(g, "attribute 'saturate' is not implemented by cnnc for Cast at opset 13"));
  g = tb_graph(19);
  n = tb_node(g, "Cast", 1, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4))}, 1);
  tb_attr_int(n, "to", DT_INT32);
  tb_attr_int(n, "saturate", 0);
  tb_infer(g);
  CU_ASSERT_EQUAL(n->out[0]->dtype, DT_INT32);

  /* Split's attribute form ended with opset 13 */
  g = tb_graph(13);
  n = tb_node(g, "Split", 1, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4))}, 2);
  tb_attr_ints(n, "split", 2, TB_DIMS(1, 3));
  CU_ASSERT(infer_fails_with(g, "attribute 'split' is not implemented by cnnc for Split at opset 13"));

  /* opset 1's in-place hint never changes a result */
  g = tb_graph(1);
  n = tb_node(g, "Relu", 1, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4))}, 1);
  tb_attr_ints(n, "consumed_inputs", 1, TB_DIMS(0));
  tb_infer(g);
  CU_ASSERT(n->out[0]->has_shape);
}

//
// Split num_outputs
//

static void build_split_num_outputs(Graph *g, Value **xs) {
  Node *n = tb_node(g, "Split", 1, xs, 3);
  tb_attr_int(n, "axis", 1);
  tb_attr_int(n, "num_outputs", 3);
  for (int i = 0; i < 3; i++)
    tb_output(g, n->out[i]);
}

static void test_split_num_outputs(void) {
  TestInput x = {DT_FLOAT, 2, {2, 7}, iota24};
  Graph *g = tb_fold_matches_code(18, 1, &x, build_split_num_outputs);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 3);
  TB_ASSERT_SHAPE(g->outputs[1], 2, 3);
  TB_ASSERT_SHAPE(g->outputs[2], 2, 1); /* the last part is smaller */
  CU_ASSERT_EQUAL(out_f(g, 1)[0], 3);
  CU_ASSERT_EQUAL(out_f(g, 2)[1], 13);

  g = tb_graph(18);
  Node *n = tb_node(g, "Split", 1, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(6))}, 2);
  tb_attr_int(n, "num_outputs", 3);
  CU_ASSERT(infer_fails_with(g, "num_outputs is 3 but the node has 2 outputs"));
  g = tb_graph(18);
  n = tb_node(g, "Split", 2, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(6)), tb_const_ints(g, "s", 2, TB_DIMS(3, 3))}, 2);
  tb_attr_int(n, "num_outputs", 2);
  CU_ASSERT(infer_fails_with(g, "has both the split input and num_outputs"));
  g = tb_graph(13);
  n = tb_node(g, "Split", 1, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(6))}, 2);
  tb_attr_int(n, "num_outputs", 2);
  CU_ASSERT(infer_fails_with(g, "attribute 'num_outputs' is not implemented by cnnc for Split at opset 13"));
}

//
// Pad axes and wrap
//

static void build_pad_axes(Graph *g, Value **xs) {
  /* pad only the last axis: 2 before, 3 after, wrapping around; and axis 0 by 1 after with a constant */
  Node *wrap = tb_node(g, "Pad", 4, (Value *[]){xs[0], tb_const_ints(g, "pads", 2, TB_DIMS(2, 3)), NULL,
                                               tb_const_ints(g, "axes", 1, TB_DIMS(-1))}, 1);
  tb_attr_string(wrap, "mode", "wrap");
  Node *constant = tb_node(g, "Pad", 4, (Value *[]){xs[0], tb_const_ints(g, "pads0", 2, TB_DIMS(0, 1)), NULL,
                                                   tb_const_ints(g, "axes0", 1, TB_DIMS(0))}, 1);
  tb_output(g, wrap->out[0]);
  tb_output(g, constant->out[0]);
}

static void test_pad_axes_wrap(void) {
  TestInput x = {DT_FLOAT, 2, {2, 3}, iota24};
  Graph *g = tb_fold_matches_code(19, 1, &x, build_pad_axes);
  TB_ASSERT_SHAPE(g->outputs[0], 2, 8);
  TB_ASSERT_SHAPE(g->outputs[1], 3, 3);
  /* row 0 is 0 1 2: wrapped, 1 2 | 0 1 2 | 0 1 2 */
  const float row0[8] = {1, 2, 0, 1, 2, 0, 1, 2};
  CU_ASSERT(memcmp(out_f(g, 0), row0, sizeof row0) == 0);
  CU_ASSERT_EQUAL(out_f(g, 1)[8], 0);
  CU_ASSERT_EQUAL(out_f(g, 1)[5], 5);

  g = tb_graph(18);
  Node *n = tb_node(g, "Pad", 2, (Value *[]){tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(3)), tb_const_ints(g, "p", 2, TB_DIMS(1, 1))}, 1);
  tb_attr_string(n, "mode", "wrap");
  CU_ASSERT(infer_fails_with(g, "mode 'wrap' is not supported at opset 18"));
  g = tb_graph(18);
  tb_node(g, "Pad", 4, (Value *[]){tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(3, 3)), tb_const_ints(g, "p", 2, TB_DIMS(1, 1)), NULL,
                                   tb_const_ints(g, "a", 2, TB_DIMS(0, 1))}, 1);
  CU_ASSERT(infer_fails_with(g, "pads has 2 entries for 2 axes; it needs 2 * 2"));
}

//
// Resize: axes, keep_aspect_ratio_policy, antialias, half_pixel_symmetric
//

static Node *resize_1d(Graph *g, Value *x, float scale, const char *mode) {
  Value *scales = tb_const(g, cn_format("scales%d", g->n_values), DT_FLOAT, 1, TB_DIMS(1), &scale);
  Node *n = tb_node(g, "Resize", 3, (Value *[]){x, NULL, scales}, 1);
  tb_attr_string(n, "mode", mode);
  tb_output(g, n->out[0]);
  return n;
}

/* Shrinking [0, 1, 2, 3] by 2: antialiasing widens the linear filter to 4 taps, weights 1/8, 3/8, 3/8, 1/8, at
 * x_ori = 0.5 and 2.5 (the edge-padded taps repeat the border values). The cubic filter (A = -0.75) stretches to
 * 8 taps; at x_ori = 0.5 the 4 inside the input lie at scaled distances 0.25, 0.25, 0.75, 1.25 with weights
 * 0.87890625, 0.87890625, 0.26171875, -0.10546875, which exclude_outside renormalizes to their sum 1.9140625. */
static void test_resize_antialias_values(void) {
  Graph *g = tb_graph(18);
  Value *x = tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4));
  resize_1d(g, x, 0.5f, "linear");
  Node *smooth = resize_1d(g, x, 0.5f, "linear");
  tb_attr_int(smooth, "antialias", 1);
  Node *cubic = resize_1d(g, x, 0.5f, "cubic");
  tb_attr_int(cubic, "antialias", 1);
  tb_attr_int(cubic, "exclude_outside", 1);
  tb_infer(g);
  const char *driver = "int main(void) {\n"
                       "  float x[4] = {0, 1, 2, 3}, plain[2], smooth[2], cubic[2];\n"
                       "  if (model_run((const void *[]){x}, (void *[]){plain, smooth, cubic})) return 1;\n"
                       "  if (fabsf(plain[0] - 0.5f) > 1e-6f || fabsf(plain[1] - 2.5f) > 1e-6f) return 2;\n"
                       "  if (fabsf(smooth[0] - 0.625f) > 1e-6f || fabsf(smooth[1] - 2.375f) > 1e-6f) return 3;\n"
                       "  double want = (0.87890625 + 2 * 0.26171875 - 3 * 0.10546875) / 1.9140625;\n"
                       "  if (fabs(cubic[0] - want) > 1e-6) return 4;\n"
                       "  return 0;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);

  g = tb_graph(18);
  Node *n = resize_1d(g, tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4)), 0.5f, "nearest");
  tb_attr_int(n, "antialias", 1);
  CU_ASSERT(infer_fails_with(g, "antialias applies to the linear and cubic modes, not nearest"));
  g = tb_graph(13);
  n = resize_1d(g, tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(4)), 0.5f, "linear");
  tb_attr_int(n, "antialias", 1);
  CU_ASSERT(infer_fails_with(g, "attribute 'antialias' is not implemented by cnnc for Resize at opset 13"));
}

static void test_resize_axes_and_policy(void) {
  Graph *g = tb_graph(18);
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 6));
  Value *sizes = tb_const_ints(g, "sizes", 2, TB_DIMS(3, 3));
  const char *policies[] = {"stretch", "not_larger", "not_smaller"};
  Node *n[3];
  for (int k = 0; k < 3; k++) {
    n[k] = tb_node(g, "Resize", 4, (Value *[]){x, NULL, NULL, sizes}, 1);
    tb_attr_ints(n[k], "axes", 2, TB_DIMS(2, -1));
    tb_attr_string(n[k], "keep_aspect_ratio_policy", policies[k]);
  }
  float half = 0.5f;
  Node *one_axis = tb_node(g, "Resize", 3, (Value *[]){x, NULL, tb_const(g, "s", DT_FLOAT, 1, TB_DIMS(1), &half)}, 1);
  tb_attr_ints(one_axis, "axes", 1, TB_DIMS(3));
  tb_infer(g);
  TB_ASSERT_SHAPE(n[0]->out[0], 1, 1, 3, 3);
  TB_ASSERT_SHAPE(n[1]->out[0], 1, 1, 2, 3); /* scale min(3/4, 3/6) */
  TB_ASSERT_SHAPE(n[2]->out[0], 1, 1, 3, 5); /* scale max(3/4, 3/6): 4.5 rounds half up */
  TB_ASSERT_SHAPE(one_axis->out[0], 1, 1, 4, 3);

  g = tb_graph(18);
  x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 6));
  Node *bad = tb_node(g, "Resize", 4, (Value *[]){x, NULL, NULL, tb_const_ints(g, "sizes", 4, TB_DIMS(1, 1, 3, 3))}, 1);
  tb_attr_ints(bad, "axes", 2, TB_DIMS(2, 3));
  CU_ASSERT(infer_fails_with(g, "sizes has shape [4]; expected [2] for the axes resized"));
  g = tb_graph(18);
  x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(1, 1, 4, 6));
  bad = tb_node(g, "Resize", 4, (Value *[]){x, NULL, NULL, tb_const_ints(g, "sizes", 4, TB_DIMS(1, 1, 3, 3))}, 1);
  tb_attr_string(bad, "keep_aspect_ratio_policy", "squash");
  CU_ASSERT(infer_fails_with(g, "keep_aspect_ratio_policy 'squash' is not one of"));
}

/* [0..4] shrunk by 0.5 has 2 outputs where 2.5 were asked for: half_pixel_symmetric centres them at 1 and 3,
 * half_pixel at 0.5 and 2.5. */
static void test_resize_half_pixel_symmetric(void) {
  Graph *g = tb_graph(19);
  Value *x = tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(5));
  Node *symmetric = resize_1d(g, x, 0.5f, "linear");
  tb_attr_string(symmetric, "coordinate_transformation_mode", "half_pixel_symmetric");
  resize_1d(g, x, 0.5f, "linear");
  tb_infer(g);
  const char *driver = "int main(void) {\n"
                       "  float x[5] = {0, 1, 2, 3, 4}, symmetric[2], plain[2];\n"
                       "  if (model_run((const void *[]){x}, (void *[]){symmetric, plain})) return 1;\n"
                       "  if (fabsf(symmetric[0] - 1) > 1e-6f || fabsf(symmetric[1] - 3) > 1e-6f) return 2;\n"
                       "  if (fabsf(plain[0] - 0.5f) > 1e-6f || fabsf(plain[1] - 2.5f) > 1e-6f) return 3;\n"
                       "  return 0;\n"
                       "}\n";
  CU_ASSERT_EQUAL(tb_compile_and_run(g, driver), 0);

  g = tb_graph(18);
  Node *n = resize_1d(g, tb_input(g, "x", DT_FLOAT, 1, TB_DIMS(5)), 0.5f, "linear");
  tb_attr_string(n, "coordinate_transformation_mode", "half_pixel_symmetric");
  CU_ASSERT(infer_fails_with(g, "coordinate_transformation_mode 'half_pixel_symmetric' is not supported at opset 18"));
}

CU_TestInfo opset_tests[] = {
    {"opset_limit", test_opset_limit},
    {"unread_attribute_refused", test_unread_attribute_refused},
    {"split_num_outputs", test_split_num_outputs},
    {"pad_axes_wrap", test_pad_axes_wrap},
    {"resize_antialias_values", test_resize_antialias_values},
    {"resize_axes_and_policy", test_resize_axes_and_policy},
    {"resize_half_pixel_symmetric", test_resize_half_pixel_symmetric},
    CU_TEST_INFO_NULL,
};
