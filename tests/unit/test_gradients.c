/* Gradient checks: every differentiable op against central finite differences. Each test builds a small graph in
 * double whose tensors are all parameters, compiles its training code (SGD with learning rate 0, so the
 * parameters stay put), and runs a driver that takes the gradients of one step, then for every element of every
 * parameter compares them with (L(p + h) - L(p - h)) / 2h, each L the loss of a step with that element moved.
 * The loss is the mean squared error against fixed targets unless a test says otherwise; Dropout's generator is
 * reset before each step, so every step draws the same masks. */
#include "testutil.h"

#include <string.h>

/* A deterministic pseudo-random value in [-1, 1). */
static double next_value(void) {
  static uint64_t state = 0x853c49e6748fea9bu;
  state = state * 6364136223846793005u + 1442695040888963407u;
  return (double)(state >> 11) / (double)(1ull << 52) - 1;
}

/* A trainable tensor of doubles with pseudo-random contents, spread out so no two are closer than the finite
 * differences' step (ReLU kinks and max-pool ties stay away). */
static Value *param(Graph *g, const char *name, int rank, const int64_t *dims) {
  Value *v = graph_add_value(g, name);
  value_set_shape(v, NULL, DT_DOUBLE, rank, dims);
  double *init = cn_alloc_array((size_t)value_count(v) + 1, sizeof *init);
  for (int64_t i = 0; i < value_count(v); i++)
    init[i] = next_value() * 2;
  v->init = init;
  v->flags |= VAL_INITIALIZER | VAL_PARAM;
  return v;
}

/* A constant that is not trained (shapes, pads, scalars). */
static Value *constant(Graph *g, double x) { return tb_const(g, "constant", DT_DOUBLE, 0, NULL, &x); }

static const char driver[] =
    "static double loss_now(void) {\n"
    "  static const double dummy;\n"
    "  const void *inputs[] = {&dummy};\n"
    "  const void *targets[] = {model_targets};\n"
    "  double loss;\n"
    "  model_set_rng(7, 0);\n"
    "  if (model_train_step(inputs, targets, &loss) != 0)\n"
    "    exit(3);\n"
    "  return loss;\n"
    "}\n"
    "\n"
    "int main(void) {\n"
    "  static double grads[model_NUM_PARAMS][4096], values[4096];\n"
    "  model_set_learning_rate(0);\n"
    "  for (int i = 0; i < model_TARGET_COUNT; i++)\n"
    "    model_targets[i] = TARGET(i);\n"
    "  loss_now();\n"
    "  for (int p = 0; p < model_NUM_PARAMS; p++)\n"
    "    if (model_param_info[p].count > 4096 || model_get_grad(p, grads[p]) != 0)\n"
    "      return 4;\n"
    "  int failures = 0;\n"
    "  for (int p = 0; p < model_NUM_PARAMS; p++) {\n"
    "    model_get_param(p, values);\n"
    "    for (size_t k = 0; k < model_param_info[p].count; k++) {\n"
    "      const double x = values[k], h = 1e-6;\n"
    "      values[k] = x + h;\n"
    "      model_set_param(p, values);\n"
    "      const double above = loss_now();\n"
    "      values[k] = x - h;\n"
    "      model_set_param(p, values);\n"
    "      const double below = loss_now();\n"
    "      values[k] = x;\n"
    "      model_set_param(p, values);\n"
    "      const double numeric = (above - below) / (2 * h), analytic = grads[p][k];\n"
    "      if (fabs(numeric - analytic) > 1e-6 * fmax(1, fabs(numeric)) && failures++ < 10)\n"
    "        printf(\"%s[%zu]: backward %.9g, finite differences %.9g\\n\", model_param_info[p].name, k,\n"
    "               analytic, numeric);\n"
    "    }\n"
    "  }\n"
    "  return failures ? 1 : 0;\n"
    "}\n";

/* Compiles g (output 0 feeds the loss) and runs the finite-difference driver; the targets are class indices for
 * the classification losses and values in [-1, 1] for mse. */
static void check_gradients(Graph *g, LossKind loss) {
  tb_infer(g);
  TrainOptions o = {.loss = loss, .optimizer = OPTIMIZER_SGD, .lr = 0, .given = TRAIN_GIVEN_LR};
  train_options_finish(&o, NULL);
  backward_build(g, &o);
  char *code = cn_format("static %s model_targets[model_TARGET_COUNT];\n#define TARGET(i) %s\n%s",
                         loss == LOSS_MSE ? "double" : "int64_t",
                         loss == LOSS_MSE ? "(double)((i * 7) % 11) / 5 - 1" : "((i * 3) % 4)", driver);
  CU_ASSERT_EQUAL(tb_compile_and_run_train(g, &o, code), 0);
}

/* One node of op_type reading `ins`, its output the graph's. */
static Node *op(Graph *g, const char *op_type, int n_in, Value *const *ins) {
  Node *n = tb_node(g, op_type, n_in, ins, 1);
  tb_output(g, n->out[0]);
  return n;
}

static void check_unary(const char *op_type, const char *attr, float alpha) {
  Graph *g = tb_graph(13);
  Value *x = param(g, "x", 2, TB_DIMS(3, 5));
  Node *n = op(g, op_type, 1, &x);
  if (attr)
    tb_attr_float(n, attr, alpha);
  check_gradients(g, LOSS_MSE);
}

static void test_relu(void) { check_unary("Relu", NULL, 0); }
static void test_leaky_relu(void) { check_unary("LeakyRelu", "alpha", 0.2f); }
static void test_sigmoid(void) { check_unary("Sigmoid", NULL, 0); }
static void test_tanh(void) { check_unary("Tanh", NULL, 0); }
static void test_hard_swish(void) { check_unary("HardSwish", NULL, 0); }
static void test_hard_sigmoid(void) { check_unary("HardSigmoid", "alpha", 0.3f); }
static void test_elu(void) { check_unary("Elu", "alpha", 0.7f); }
static void test_softplus(void) { check_unary("Softplus", NULL, 0); }
static void test_exp(void) { check_unary("Exp", NULL, 0); }
static void test_neg(void) { check_unary("Neg", NULL, 0); }
static void test_abs(void) { check_unary("Abs", NULL, 0); }

/* HardSwish's kinks at -3 and 3 and its curve between: the inputs are scaled to reach past both. */
static void test_hard_swish_wide(void) {
  Graph *g = tb_graph(14);
  Value *x = param(g, "x", 1, TB_DIMS(12));
  Value *ins[2] = {x, constant(g, 2.5)};
  Node *scaled = tb_node(g, "Mul", 2, ins, 1);
  op(g, "HardSwish", 1, scaled->out);
  check_gradients(g, LOSS_MSE);
}

/* Clip with both bounds (ReLU6-like), with only a lower bound, and with attribute bounds before opset 11. */
static void test_clip(void) {
  Graph *g = tb_graph(13);
  Value *ins[3] = {param(g, "x", 2, TB_DIMS(4, 5)), constant(g, -0.5), constant(g, 0.75)};
  op(g, "Clip", 3, ins);
  check_gradients(g, LOSS_MSE);

  g = tb_graph(13);
  ins[0] = param(g, "x", 2, TB_DIMS(4, 5));
  ins[1] = constant(g, 0.1);
  op(g, "Clip", 2, ins);
  check_gradients(g, LOSS_MSE);

  g = tb_graph(6);
  ins[0] = param(g, "x", 2, TB_DIMS(4, 5));
  Node *n = op(g, "Clip", 1, ins);
  tb_attr_float(n, "min", -1);
  tb_attr_float(n, "max", 0.5f);
  check_gradients(g, LOSS_MSE);
}

/* Conv: X, W and B all trained, for the window parameters that change the index arithmetic. */
static void check_conv(int64_t channels, int64_t maps, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad,
                       int64_t dilation, int64_t group, bool bias) {
  Graph *g = tb_graph(13);
  Value *ins[3] = {param(g, "x", 4, TB_DIMS(2, channels, h, w)),
                   param(g, "w", 4, TB_DIMS(maps, channels / group, k, k - 1)),
                   bias ? param(g, "b", 1, TB_DIMS(maps)) : NULL};
  Node *n = op(g, "Conv", bias ? 3 : 2, ins);
  tb_attr_ints(n, "strides", 2, TB_DIMS(stride, 1));
  tb_attr_ints(n, "pads", 4, TB_DIMS(pad, 0, pad + 1, 1));
  tb_attr_ints(n, "dilations", 2, TB_DIMS(dilation, 1));
  tb_attr_int(n, "group", group);
  check_gradients(g, LOSS_MSE);
}

static void test_conv(void) { check_conv(2, 3, 5, 6, 3, 1, 0, 1, 1, true); }
static void test_conv_stride_pad(void) { check_conv(2, 2, 7, 5, 3, 2, 1, 1, 1, true); }
static void test_conv_dilation(void) { check_conv(1, 2, 7, 6, 2, 1, 1, 2, 1, false); }
static void test_conv_groups(void) { check_conv(4, 6, 5, 5, 3, 1, 1, 1, 2, true); }
static void test_conv_depthwise(void) { check_conv(3, 3, 6, 6, 3, 2, 1, 1, 3, true); }

/* A stride that leaves input rows no window reaches (output_padding in the input gradient), and a 1-D conv. */
static void test_conv_uncovered_rows(void) {
  check_conv(1, 2, 8, 4, 3, 3, 0, 1, 1, false);
  Graph *g = tb_graph(13);
  Value *ins[2] = {param(g, "x", 3, TB_DIMS(2, 2, 9)), param(g, "w", 3, TB_DIMS(3, 2, 3))};
  Node *n = op(g, "Conv", 2, ins);
  tb_attr_ints(n, "strides", 1, TB_DIMS(2));
  tb_attr_string(n, "auto_pad", "SAME_UPPER");
  check_gradients(g, LOSS_MSE);
}

/* Rows too long for ConvGradWeight's column sums on the stack: X is a constant, W is checked. */
static void test_conv_long_row(void) {
  Graph *g = tb_graph(13);
  double *x = cn_alloc_array(2 * 3000, sizeof *x);
  for (int i = 0; i < 2 * 3000; i++)
    x[i] = next_value();
  Value *ins[2] = {tb_const(g, "x", DT_DOUBLE, 3, TB_DIMS(1, 2, 3000), x), param(g, "w", 3, TB_DIMS(2, 2, 3))};
  Node *n = op(g, "Conv", 2, ins);
  tb_attr_ints(n, "pads", 2, TB_DIMS(1, 1));
  check_gradients(g, LOSS_MSE);
}

/* ConvTranspose: stride 2 with pads and output_padding, groups, dilation. */
static void check_conv_transpose(int64_t channels, int64_t maps, int64_t stride, int64_t pad, int64_t output_padding,
                                 int64_t dilation, int64_t group) {
  Graph *g = tb_graph(13);
  Value *ins[3] = {param(g, "x", 4, TB_DIMS(2, channels, 3, 4)),
                   param(g, "w", 4, TB_DIMS(channels, maps / group, 3, 2)), param(g, "b", 1, TB_DIMS(maps))};
  Node *n = op(g, "ConvTranspose", 3, ins);
  tb_attr_ints(n, "strides", 2, TB_DIMS(stride, stride));
  tb_attr_ints(n, "pads", 4, TB_DIMS(pad, 0, pad, 1));
  tb_attr_ints(n, "output_padding", 2, TB_DIMS(output_padding, 0));
  tb_attr_ints(n, "dilations", 2, TB_DIMS(dilation, 1));
  tb_attr_int(n, "group", group);
  check_gradients(g, LOSS_MSE);
}

static void test_conv_transpose(void) {
  check_conv_transpose(2, 3, 2, 1, 1, 1, 1);
  check_conv_transpose(4, 2, 1, 0, 0, 2, 2);
}

static void check_gemm(bool trans_a, bool trans_b, float alpha, float beta, int c_rank) {
  Graph *g = tb_graph(13);
  Value *a = param(g, "a", 2, trans_a ? TB_DIMS(4, 3) : TB_DIMS(3, 4));
  Value *b = param(g, "b", 2, trans_b ? TB_DIMS(5, 4) : TB_DIMS(4, 5));
  Value *ins[3] = {a, b, c_rank == 2 ? param(g, "c", 2, TB_DIMS(3, 5)) : c_rank == 1 ? param(g, "c", 1, TB_DIMS(5))
                                                                                     : NULL};
  Node *n = op(g, "Gemm", c_rank ? 3 : 2, ins);
  tb_attr_int(n, "transA", trans_a);
  tb_attr_int(n, "transB", trans_b);
  tb_attr_float(n, "alpha", alpha);
  tb_attr_float(n, "beta", beta);
  check_gradients(g, LOSS_MSE);
}

static void test_gemm(void) {
  check_gemm(false, false, 1, 1, 2);
  check_gemm(false, true, 0.5f, 2, 1);
  check_gemm(true, false, 1.5f, 1, 0);
  check_gemm(true, true, 1, 0.25f, 1);
}

static void test_matmul(void) {
  Graph *g = tb_graph(13);
  Value *ins[2] = {param(g, "a", 2, TB_DIMS(3, 4)), param(g, "b", 2, TB_DIMS(4, 2))};
  op(g, "MatMul", 2, ins);
  check_gradients(g, LOSS_MSE);
  /* batches, broadcast on both sides */
  g = tb_graph(13);
  ins[0] = param(g, "a", 3, TB_DIMS(2, 3, 4));
  ins[1] = param(g, "b", 4, TB_DIMS(2, 1, 4, 2));
  op(g, "MatMul", 2, ins);
  check_gradients(g, LOSS_MSE);
}

/* Add, Sub, Mul and Div with numpy broadcasting on either side, and opset 6's axis broadcasting. */
static void check_binary(const char *op_type) {
  Graph *g = tb_graph(13);
  Value *ins[2] = {param(g, "a", 3, TB_DIMS(2, 3, 4)), param(g, "b", 2, TB_DIMS(3, 1))};
  op(g, op_type, 2, ins);
  check_gradients(g, LOSS_MSE);
  g = tb_graph(13);
  ins[0] = param(g, "a", 2, TB_DIMS(1, 4));
  ins[1] = param(g, "b", 3, TB_DIMS(2, 3, 1));
  op(g, op_type, 2, ins);
  check_gradients(g, LOSS_MSE);
  g = tb_graph(6);
  ins[0] = param(g, "a", 3, TB_DIMS(2, 3, 4));
  ins[1] = param(g, "b", 1, TB_DIMS(3));
  Node *n = op(g, op_type, 2, ins);
  tb_attr_int(n, "broadcast", 1);
  tb_attr_int(n, "axis", 1);
  check_gradients(g, LOSS_MSE);
}

static void test_add(void) { check_binary("Add"); }
static void test_sub(void) { check_binary("Sub"); }
static void test_mul(void) { check_binary("Mul"); }

/* Division keeps the divisor away from 0: b = 2 + sigmoid(b'). */
static void test_div(void) {
  Graph *g = tb_graph(13);
  Value *b = param(g, "b", 2, TB_DIMS(3, 1));
  Node *s = tb_node(g, "Sigmoid", 1, &b, 1);
  Value *shift[2] = {s->out[0], constant(g, 2)};
  Node *divisor = tb_node(g, "Add", 2, shift, 1);
  Value *ins[2] = {param(g, "a", 3, TB_DIMS(2, 3, 4)), divisor->out[0]};
  op(g, "Div", 2, ins);
  check_gradients(g, LOSS_MSE);
}

static void test_prelu(void) {
  Graph *g = tb_graph(13);
  Value *ins[2] = {param(g, "x", 4, TB_DIMS(2, 3, 2, 2)), param(g, "slope", 3, TB_DIMS(3, 1, 1))};
  op(g, "PRelu", 2, ins);
  check_gradients(g, LOSS_MSE);
}

static void check_softmax(const char *op_type, int64_t opset, int64_t axis) {
  Graph *g = tb_graph(opset);
  Value *x = param(g, "x", 3, TB_DIMS(2, 3, 4));
  Node *n = op(g, op_type, 1, &x);
  tb_attr_int(n, "axis", axis);
  check_gradients(g, LOSS_MSE);
}

static void test_softmax(void) {
  check_softmax("Softmax", 13, 1);
  check_softmax("Softmax", 11, 1); /* the [2, 12] matrix's rows */
}

static void test_log_softmax(void) {
  check_softmax("LogSoftmax", 13, -1);
  check_softmax("LogSoftmax", 13, 0);
}

/* A pool of a 2x2x7x6 input: kernel, stride, pads (begin and end differ), dilation, ceil_mode. */
static Node *pool(Graph *g, const char *op_type, int64_t k, int64_t stride, int64_t pad, int64_t dilation,
                  bool ceil_mode) {
  Value *x = param(g, "x", 4, TB_DIMS(2, 2, 7, 6));
  Node *n = op(g, op_type, 1, &x);
  tb_attr_ints(n, "kernel_shape", 2, TB_DIMS(k, k));
  tb_attr_ints(n, "strides", 2, TB_DIMS(stride, stride));
  tb_attr_ints(n, "pads", 4, TB_DIMS(pad, pad, 0, pad));
  if (dilation > 1)
    tb_attr_ints(n, "dilations", 2, TB_DIMS(dilation, dilation));
  tb_attr_int(n, "ceil_mode", ceil_mode);
  return n;
}

static void test_max_pool(void) {
  Graph *g = tb_graph(12);
  pool(g, "MaxPool", 2, 2, 0, 1, false);
  check_gradients(g, LOSS_MSE);
  g = tb_graph(12);
  pool(g, "MaxPool", 3, 2, 1, 1, true); /* overlapping windows, padding, ceil_mode */
  check_gradients(g, LOSS_MSE);
  g = tb_graph(12);
  pool(g, "MaxPool", 2, 1, 1, 2, false);
  check_gradients(g, LOSS_MSE);
}

static void test_average_pool(void) {
  Graph *g = tb_graph(13);
  pool(g, "AveragePool", 2, 2, 0, 1, false);
  check_gradients(g, LOSS_MSE);
  g = tb_graph(13);
  pool(g, "AveragePool", 3, 2, 1, 1, true);
  check_gradients(g, LOSS_MSE);
  g = tb_graph(13);
  Node *n = pool(g, "AveragePool", 3, 2, 1, 1, true);
  tb_attr_int(n, "count_include_pad", 1);
  check_gradients(g, LOSS_MSE);
}

static void test_global_average_pool(void) {
  Graph *g = tb_graph(13);
  Value *x = param(g, "x", 4, TB_DIMS(2, 3, 3, 2));
  op(g, "GlobalAveragePool", 1, &x);
  check_gradients(g, LOSS_MSE);
}

/* BatchNormalization in training mode: the batch statistics are functions of X too. */
static void test_batch_norm(void) {
  Graph *g = tb_graph(13);
  Value *mean = tb_const(g, "mean", DT_DOUBLE, 1, TB_DIMS(3), (const double[]){0.1, -0.2, 0.3});
  Value *var = tb_const(g, "var", DT_DOUBLE, 1, TB_DIMS(3), (const double[]){1, 2, 0.5});
  mean->init = mean->data, mean->data = NULL, mean->flags |= VAL_STATE;
  var->init = var->data, var->data = NULL, var->flags |= VAL_STATE;
  Value *ins[5] = {param(g, "x", 4, TB_DIMS(3, 3, 2, 2)), param(g, "scale", 1, TB_DIMS(3)),
                   param(g, "b", 1, TB_DIMS(3)), mean, var};
  op(g, "BatchNormalization", 5, ins);
  check_gradients(g, LOSS_MSE);
}

/* Dropout with a fixed mask (the driver resets the generator before every step). */
static void test_dropout(void) {
  Graph *g = tb_graph(13);
  Value *ins[2] = {param(g, "x", 2, TB_DIMS(4, 8)), tb_const(g, "ratio", DT_FLOAT, 0, NULL, (const float[]){0.3f})};
  op(g, "Dropout", 2, ins);
  check_gradients(g, LOSS_MSE);
}

static void test_concat(void) {
  Graph *g = tb_graph(13);
  Value *ins[3] = {param(g, "a", 3, TB_DIMS(2, 1, 3)), param(g, "b", 3, TB_DIMS(2, 2, 3)),
                   param(g, "c", 3, TB_DIMS(2, 3, 3))};
  Node *n = op(g, "Concat", 3, ins);
  tb_attr_int(n, "axis", 1);
  check_gradients(g, LOSS_MSE);
}

/* Reshape, Flatten, Squeeze, Unsqueeze, Identity and Transpose in a chain; MSE against a non-symmetric target
 * would catch any element moved to the wrong place. */
static void test_shape_ops(void) {
  Graph *g = tb_graph(13);
  Value *x = param(g, "x", 4, TB_DIMS(2, 3, 1, 2));
  Node *flat = tb_node(g, "Flatten", 1, &x, 1);
  Value *reshape_in[2] = {flat->out[0], tb_const_ints(g, "shape", 3, TB_DIMS(3, 1, 4))};
  Node *reshape = tb_node(g, "Reshape", 2, reshape_in, 1);
  Value *squeeze_in[2] = {reshape->out[0], tb_const_ints(g, "axes", 1, TB_DIMS(1))};
  Node *squeeze = tb_node(g, "Squeeze", 2, squeeze_in, 1);
  Node *transpose = tb_node(g, "Transpose", 1, squeeze->out, 1);
  Node *identity = tb_node(g, "Identity", 1, transpose->out, 1);
  Value *unsqueeze_in[2] = {identity->out[0], tb_const_ints(g, "axes", 1, TB_DIMS(0))};
  op(g, "Unsqueeze", 2, unsqueeze_in);
  check_gradients(g, LOSS_MSE);
}

static void check_pad(const char *mode) {
  Graph *g = tb_graph(13);
  Value *ins[2] = {param(g, "x", 3, TB_DIMS(2, 3, 4)), tb_const_ints(g, "pads", 6, TB_DIMS(0, 2, 1, 0, -1, 3))};
  Node *n = op(g, "Pad", 2, ins);
  tb_attr_string(n, "mode", mode);
  check_gradients(g, LOSS_MSE);
}

static void test_pad(void) {
  check_pad("constant");
  check_pad("edge");
  check_pad("reflect");
}

static void test_reduce(void) {
  Graph *g = tb_graph(13);
  Value *ins[2] = {param(g, "x", 3, TB_DIMS(2, 3, 4)), tb_const_ints(g, "axes", 2, TB_DIMS(0, 2))};
  op(g, "ReduceSum", 2, ins);
  check_gradients(g, LOSS_MSE);
  g = tb_graph(13);
  Value *x = param(g, "x", 3, TB_DIMS(2, 3, 4));
  Node *n = op(g, "ReduceMean", 1, &x);
  tb_attr_ints(n, "axes", 1, TB_DIMS(1));
  tb_attr_int(n, "keepdims", 0);
  check_gradients(g, LOSS_MSE);
}

/* The losses' own gradients (the seeds): cross-entropy on logits, NLL on a LogSoftmax. */
static void test_losses(void) {
  Graph *g = tb_graph(13);
  Value *ins[2] = {param(g, "a", 2, TB_DIMS(6, 4)), param(g, "b", 2, TB_DIMS(4, 4))};
  op(g, "MatMul", 2, ins);
  check_gradients(g, LOSS_CROSS_ENTROPY);
  g = tb_graph(13);
  Value *x = param(g, "x", 2, TB_DIMS(6, 4));
  Node *n = op(g, "LogSoftmax", 1, &x);
  tb_attr_int(n, "axis", 1);
  check_gradients(g, LOSS_NLL);
}

/* A value used by several nodes sums their gradients: a residual y = relu(conv(x)) + x, and x * x. */
static void test_shared_values(void) {
  Graph *g = tb_graph(13);
  Value *x = param(g, "x", 4, TB_DIMS(1, 2, 4, 4));
  Value *conv_in[2] = {x, param(g, "w", 4, TB_DIMS(2, 2, 3, 3))};
  Node *conv = tb_node(g, "Conv", 2, conv_in, 1);
  tb_attr_ints(conv, "pads", 4, TB_DIMS(1, 1, 1, 1));
  Node *relu = tb_node(g, "Relu", 1, conv->out, 1);
  Value *add_in[2] = {relu->out[0], x};
  Node *add = tb_node(g, "Add", 2, add_in, 1);
  Value *square_in[2] = {add->out[0], add->out[0]};
  op(g, "Mul", 2, square_in);
  check_gradients(g, LOSS_MSE);
}

/* Two suites, so that CTest runs them side by side: each test compiles and runs a program or several. */
CU_TestInfo gradient_tests[] = {
    {"relu", test_relu},
    {"leaky_relu", test_leaky_relu},
    {"sigmoid", test_sigmoid},
    {"tanh", test_tanh},
    {"hard_swish", test_hard_swish},
    {"hard_swish_wide", test_hard_swish_wide},
    {"hard_sigmoid", test_hard_sigmoid},
    {"elu", test_elu},
    {"softplus", test_softplus},
    {"exp", test_exp},
    {"neg", test_neg},
    {"abs", test_abs},
    {"clip", test_clip},
    {"add", test_add},
    {"sub", test_sub},
    {"mul", test_mul},
    {"div", test_div},
    {"prelu", test_prelu},
    {"softmax", test_softmax},
    {"log_softmax", test_log_softmax},
    {"dropout", test_dropout},
    {"concat", test_concat},
    {"shape_ops", test_shape_ops},
    {"pad", test_pad},
    {"reduce", test_reduce},
    {"losses", test_losses},
    CU_TEST_INFO_NULL,
};

CU_TestInfo gradient_nn_tests[] = {
    {"conv", test_conv},
    {"conv_stride_pad", test_conv_stride_pad},
    {"conv_dilation", test_conv_dilation},
    {"conv_groups", test_conv_groups},
    {"conv_depthwise", test_conv_depthwise},
    {"conv_uncovered_rows", test_conv_uncovered_rows},
    {"conv_long_row", test_conv_long_row},
    {"conv_transpose", test_conv_transpose},
    {"gemm", test_gemm},
    {"matmul", test_matmul},
    {"max_pool", test_max_pool},
    {"average_pool", test_average_pool},
    {"global_average_pool", test_global_average_pool},
    {"batch_norm", test_batch_norm},
    {"shared_values", test_shared_values},
    CU_TEST_INFO_NULL,
};
