/* Training code: the contract of the generated header, checked by compiling a program against it that assigns
 * every declared function to a pointer of the contract's exact type and uses it; and the errors of the training
 * pipeline (what is trained, what cannot be). */
#include "onnx_builder.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static const TrainOptions sgd = {.loss = LOSS_CROSS_ENTROPY, .optimizer = OPTIMIZER_SGD};

static float *iota(int count, float scale) {
  float *v = cn_alloc_array((size_t)count, sizeof *v);
  for (int i = 0; i < count; i++)
    v[i] = (float)((i * 7) % 13 - 6) * scale;
  return v;
}

/* x[N,1,6,6] -> Conv(3x3, 2 maps) -> Relu -> Flatten -> Gemm(transB, 3 classes) -> y[N,3] */
static void build_classifier(OnnxBuilder *b) {
  ob_init(b, 13);
  static const int64_t x_dims[] = {-1, 1, 6, 6}, y_dims[] = {-1, 3}, w_dims[] = {2, 1, 3, 3}, b_dims[] = {2},
                       fc_dims[] = {3, 32}, fcb_dims[] = {3};
  ob_input(b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 4, x_dims);
  ob_output(b, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, y_dims);
  ob_initializer(b, "conv.weight", 4, w_dims, iota(18, 0.05f), 18 * 4);
  ob_initializer(b, "conv.bias", 1, b_dims, iota(2, 0.01f), 2 * 4);
  ob_initializer(b, "fc.weight", 2, fc_dims, iota(96, 0.02f), 96 * 4);
  ob_initializer(b, "fc.bias", 1, fcb_dims, iota(3, 0.01f), 3 * 4);
  static const char *conv_in[] = {"x", "conv.weight", "conv.bias"}, *conv_out[] = {"c"}, *relu_out[] = {"r"},
                    *flat_out[] = {"f"}, *fc_in[] = {"f", "fc.weight", "fc.bias"}, *fc_out[] = {"y"};
  ob_node(b, "conv", "Conv", 3, conv_in, 1, conv_out);
  ob_node(b, "relu", "Relu", 1, conv_out, 1, relu_out);
  ob_node(b, "flatten", "Flatten", 1, relu_out, 1, flat_out);
  Onnx__NodeProto *fc = ob_node(b, "fc", "Gemm", 3, fc_in, 1, fc_out);
  ob_attr_int(fc, "transB", 1);
}

/* The program compiled against net_train.h: the contract's declarations with their exact types, then behaviour. */
static const char contract_program[] =
    "#include \"net_train.h\"\n"
    "#include <math.h>\n"
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "\n"
    "#define CHECK(x) do { if (!(x)) { printf(\"line %d: %s\\n\", __LINE__, #x); return 1; } } while (0)\n"
    "\n"
    "int main(void) {\n"
    "  int (*get_param)(int i, float *dst) = net_train_get_param;\n"
    "  int (*set_param)(int i, const float *src) = net_train_set_param;\n"
    "  int (*get_grad)(int i, float *dst) = net_train_get_grad;\n"
    "  int (*train_step)(const void *const inputs[], const void *const targets[], float *loss) =\n"
    "      net_train_train_step;\n"
    "  int (*run)(const void *const inputs[], void *const outputs[]) = net_train_run;\n"
    "  void (*set_learning_rate)(float lr) = net_train_set_learning_rate;\n"
    "  const cnnc_tensor_info *info = net_train_param_info;\n"
    "  static float x[net_train_BATCH][1][6][6], y[net_train_BATCH][3], w[96], g[96], before[96];\n"
    "  static int64_t t[net_train_BATCH];\n"
    "  CHECK(net_train_BATCH == 5 && net_train_NUM_PARAMS == 3 && net_train_NUM_INPUTS == 1);\n"
    "  CHECK(net_train_input_info[0].dims[0] == 5 && net_train_output_info[0].dims[0] == 5);\n"
    "  /* conv.bias is frozen: the others, in the model's order */\n"
    "  CHECK(!strcmp(info[0].name, \"conv.weight\") && !strcmp(info[1].name, \"fc.weight\"));\n"
    "  CHECK(!strcmp(info[2].name, \"fc.bias\") && !info[3].name);\n"
    "  CHECK(info[1].rank == 2 && info[1].dims[0] == 3 && info[1].dims[1] == 32 && info[1].count == 96);\n"
    "  for (int n = 0; n < net_train_BATCH; n++) {\n"
    "    t[n] = n % 3;\n"
    "    for (int i = 0; i < 36; i++)\n"
    "      x[n][0][i / 6][i % 6] = (float)(((n + 1) * (i + 3)) % 7) / 7 - 0.4f + (float)t[n] * 0.2f;\n"
    "  }\n"
    "  const void *inputs[] = {x}, *targets[] = {t};\n"
    "  void *outputs[] = {y};\n"
    "  float first, loss;\n"
    "  CHECK(get_param(1, before) == 0);\n"
    "  CHECK(train_step(inputs, targets, &first) == 0 && isfinite(first));\n"
    "  CHECK(get_grad(1, g) == 0 && get_param(1, w) == 0);\n"
    "  /* plain SGD: the update is -lr times the gradient */\n"
    "  for (int i = 0; i < 96; i++)\n"
    "    CHECK(fabsf(w[i] - (before[i] - 0.1f * g[i])) <= 1e-6f);\n"
    "  set_learning_rate(0.2f);\n"
    "  for (int step = 0; step < 40; step++)\n"
    "    CHECK(train_step(inputs, targets, &loss) == 0);\n"
    "  CHECK(loss < first * 0.5f);\n"
    "  /* the trained model classifies its batch */\n"
    "  CHECK(run(inputs, outputs) == 0);\n"
    "  for (int n = 0; n < net_train_BATCH; n++)\n"
    "    CHECK(y[n][t[n]] > y[n][(t[n] + 1) % 3] && y[n][t[n]] > y[n][(t[n] + 2) % 3]);\n"
    "  /* setting a parameter changes what run computes */\n"
    "  for (int i = 0; i < 96; i++)\n"
    "    w[i] = 0;\n"
    "  CHECK(set_param(1, w) == 0 && set_param(2, w) == 0 && run(inputs, outputs) == 0);\n"
    "  CHECK(y[0][0] == 0 && y[0][1] == 0 && y[0][2] == 0);\n"
    "  /* misuse */\n"
    "  CHECK(get_param(3, w) == -1 && get_param(-1, w) == -1 && set_param(0, NULL) == -1 && get_grad(9, g) == -1);\n"
    "  t[2] = 3;\n"
    "  CHECK(train_step(inputs, targets, &loss) == -2);\n"
    "  CHECK(train_step(inputs, NULL, &loss) == -1);\n"
    "  return 0;\n"
    "}\n";

static void test_contract(void) {
  char dir[] = "/tmp/cnnc-train-XXXXXX";
  CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  OnnxBuilder b;
  build_classifier(&b);
  char *model = cn_format("%s/classifier.onnx", dir), *c = cn_format("%s/net_train.c", dir);
  char *program = cn_format("%s/program.c", dir), *exe = cn_format("%s/program", dir);
  ob_write(&b, model);
  const char *bin = getenv("CNNC_BIN");
  CU_ASSERT_PTR_NOT_NULL_FATAL(bin);
  const char *compile[] = {bin, model, "--train", "--batch", "5", "--lr=0.1", "--freeze", "conv.bias", "-o", c, NULL};
  CU_ASSERT_EQUAL_FATAL(cn_spawn(compile), 0);
  FILE *f = fopen(program, "w");
  fputs(contract_program, f);
  fclose(f);
  CcOptions cc = {.opt = "-O1", .werror = true};
  const char *args[] = {"-I", dir, "-o", exe, c, program, "-lm"};
  CU_ASSERT_EQUAL_FATAL(cc_run(&cc, args, 7), 0);
  const char *run[] = {exe, NULL};
  CU_ASSERT_EQUAL(cn_spawn(run), 0);
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
}

/* The errors: each builds a graph through train_mark and backward_build. */
typedef struct Case {
  const char *op_type;  /* between the trained Gemm and the output */
  TrainOptions options;
  bool freeze_all;
} Case;

static void train_case(void *arg) {
  const Case *c = arg;
  Graph *g = tb_graph(13);
  float w[12] = {0};
  Value *ins[2] = {tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 4)), tb_const(g, "w", DT_FLOAT, 2, TB_DIMS(4, 3), w)};
  Node *gemm = tb_node(g, "Gemm", 2, ins, 1);
  Node *last = c->op_type ? tb_node(g, c->op_type, 1, gemm->out, 1) : gemm;
  tb_output(g, last->out[0]);
  TrainOptions o = c->options;
  if (c->freeze_all) {
    static const char *all[] = {"w"};
    o.freeze = all;
    o.n_freeze = 1;
  }
  train_options_finish(&o, NULL);
  train_mark(g, &o);
  tb_infer(g);
  backward_build(g, &o);
}

static void test_not_differentiable(void) {
  Case c = {.op_type = "Floor", .options = sgd};
  CU_ASSERT(tb_fails_with(train_case, &c, "'Floor_1' (Floor): cnnc cannot train through Floor"));
}

static void test_nothing_to_train(void) {
  Case c = {.options = sgd, .freeze_all = true};
  CU_ASSERT(tb_fails_with(train_case, &c, "nothing to train"));
}

static void test_unknown_freeze(void) {
  static const char *names[] = {"fc.wieght"};
  Case c = {.options = sgd};
  c.options.freeze = names;
  c.options.n_freeze = 1;
  CU_ASSERT(tb_fails_with(train_case, &c, "--freeze fc.wieght: the model has no trainable tensor of that name"));
}

static void test_nll_needs_log_softmax(void) {
  Case c = {.options = {.loss = LOSS_NLL}};
  CU_ASSERT(tb_fails_with(train_case, &c, "--loss=nll takes log-probabilities"));
}

static void test_optimizer_options(void) {
  Case c = {.options = {.optimizer = OPTIMIZER_ADAM, .momentum = 0.9, .given = TRAIN_GIVEN_MOMENTUM}};
  CU_ASSERT(tb_fails_with(train_case, &c, "--momentum and --nesterov are SGD's"));
  Case n = {.options = {.nesterov = true, .given = TRAIN_GIVEN_NESTEROV}};
  CU_ASSERT(tb_fails_with(train_case, &n, "--nesterov needs a positive --momentum"));
}

/* An op without a gradient rule before the first trained tensor is no obstacle: nothing flows back through it. */
static void test_frozen_prefix(void) {
  Graph *g = tb_graph(13);
  float w[12] = {0};
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(2, 4));
  Node *floor = tb_node(g, "Floor", 1, &x, 1);
  Value *ins[2] = {floor->out[0], tb_const(g, "w", DT_FLOAT, 2, TB_DIMS(4, 3), w)};
  Node *gemm = tb_node(g, "Gemm", 2, ins, 1);
  tb_output(g, gemm->out[0]);
  TrainOptions o = sgd;
  train_options_finish(&o, NULL);
  train_mark(g, &o);
  tb_infer(g);
  backward_build(g, &o);
  CU_ASSERT(ins[1]->flags & VAL_PARAM);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ins[1]->grad);
  CU_ASSERT(ins[1]->grad->flags & VAL_GRAD);
  CU_ASSERT_PTR_NULL(x->grad);
}

/* Weights multiplied by a mask of zeros and ones (pruning, LeNet-5's partial connections) train; the mask does not,
 * and a masked-out weight gets no gradient. */
static void test_masked_weights(void) {
  Graph *g = tb_graph(13);
  float w[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mask[8] = {1, 0, 1, 1, 0, 0, 1, 1};
  Value *x = tb_input(g, "x", DT_FLOAT, 4, TB_DIMS(2, 2, 3, 3));
  Value *mul_in[2] = {tb_const(g, "mask", DT_FLOAT, 4, TB_DIMS(2, 2, 1, 2), mask),
                      tb_const(g, "w", DT_FLOAT, 4, TB_DIMS(2, 2, 1, 2), w)};
  Node *masked = tb_node(g, "Mul", 2, mul_in, 1);
  Value *conv_in[2] = {x, masked->out[0]};
  Node *conv = tb_node(g, "Conv", 2, conv_in, 1);
  Node *flat = tb_node(g, "Flatten", 1, conv->out, 1);
  tb_output(g, flat->out[0]);
  TrainOptions o = {.loss = LOSS_MSE};
  train_options_finish(&o, NULL);
  train_mark(g, &o);
  CU_ASSERT(mul_in[1]->flags & VAL_PARAM);
  CU_ASSERT_FALSE(mul_in[0]->flags & VAL_PARAM);
  CU_ASSERT_PTR_NOT_NULL(mul_in[0]->data);
  tb_infer(g);
  backward_build(g, &o);
  CU_ASSERT_PTR_NOT_NULL(mul_in[1]->grad);
  CU_ASSERT_PTR_NULL(mul_in[0]->grad);
}

/* torch.optim's defaults, and the combinations it refuses. */
static void test_optimizer_defaults(void) {
  TrainOptions o = {.optimizer = OPTIMIZER_ADAMW};
  train_options_finish(&o, NULL);
  CU_ASSERT(o.lr == 1e-3 && o.weight_decay == 0.01 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8);
  TrainOptions s = {.optimizer = OPTIMIZER_SGD, .weight_decay = 1e-4, .given = TRAIN_GIVEN_WEIGHT_DECAY};
  train_options_finish(&s, NULL);
  CU_ASSERT(s.lr == 0.01 && s.weight_decay == 1e-4 && s.momentum == 0);
}

/* A .cnn file's train section gives what the command line leaves out; its optimizer settings only go with its
 * optimizer. */
static void test_file_settings(void) {
  TrainSettings file = {.loss = LOSS_NLL, .optimizer = OPTIMIZER_SGD, .lr = 0.05, .momentum = 0.9, .nesterov = true,
                        .weight_decay = 5e-4, .seed = 7,
                        .given = TRAIN_GIVEN_LOSS | TRAIN_GIVEN_OPTIMIZER | TRAIN_GIVEN_LR | TRAIN_GIVEN_MOMENTUM |
                                 TRAIN_GIVEN_NESTEROV | TRAIN_GIVEN_WEIGHT_DECAY};
  TrainOptions o = {.lr = 0.1, .given = TRAIN_GIVEN_LR};
  train_options_finish(&o, &file);
  CU_ASSERT(o.loss == LOSS_NLL && o.optimizer == OPTIMIZER_SGD && o.nesterov);
  CU_ASSERT(o.lr == 0.1 && o.momentum == 0.9 && o.weight_decay == 5e-4 && o.seed == 7);
  TrainOptions adam = {.optimizer = OPTIMIZER_ADAM, .given = TRAIN_GIVEN_OPTIMIZER};
  train_options_finish(&adam, &file);
  CU_ASSERT(adam.optimizer == OPTIMIZER_ADAM && adam.lr == 1e-3 && adam.weight_decay == 0 && !adam.nesterov);
}

CU_TestInfo train_tests[] = {
    {"contract", test_contract},
    {"not_differentiable", test_not_differentiable},
    {"nothing_to_train", test_nothing_to_train},
    {"unknown_freeze", test_unknown_freeze},
    {"nll_needs_log_softmax", test_nll_needs_log_softmax},
    {"optimizer_options", test_optimizer_options},
    {"frozen_prefix", test_frozen_prefix},
    {"masked_weights", test_masked_weights},
    {"optimizer_defaults", test_optimizer_defaults},
    {"file_settings", test_file_settings},
    CU_TEST_INFO_NULL,
};
