/* The .cnn front end, its printer and the ONNX writer, in process: the examples build the graphs they
 * describe, every error case gives its exact message and place, parameter initialisation is seeded and
 * reproducible, the training section is read, and mutated sources never crash the compiler. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const LoadOptions no_options;

typedef struct Source {
  const char *path, *text;
  const LoadOptions *opts;
  Graph *g;
  size_t len; /* 0: strlen(text) */
} Source;

/* The stages pipeline_load runs on a .cnn file. */
static void load_source(void *arg) {
  Source *s = arg;
  s->g = dsl_load_text(s->path, s->text, s->len ? s->len : strlen(s->text), s->opts ? s->opts : &no_options);
  shape_infer(s->g);
  fold_dead_code(s->g);
}

static Graph *load(const char *text) {
  Source s = {.path = "net.cnn", .text = text};
  bool failed = tb_fails_with(load_source, &s, "");
  if (failed)
    fprintf(stderr, "unexpected error:\n%s\n", tb_last_error());
  CU_ASSERT_FATAL(!failed);
  return s.g;
}

static Value *value_named(const Graph *g, const char *name) {
  for (int i = 0; i < g->n_values; i++)
    if (strcmp(g->values[i]->name, name) == 0)
      return g->values[i];
  return NULL;
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  char *text = cn_alloc(1 << 20);
  size_t n = fread(text, 1, (1 << 20) - 1, f);
  fclose(f);
  text[n] = 0;
  return text;
}

static Graph *load_example(const char *name) {
  char *path = cn_format("%s/examples/dsl/%s", CNNC_SOURCE_DIR, name);
  Source s = {.path = path, .text = read_text(path)};
  bool failed = tb_fails_with(load_source, &s, "");
  if (failed)
    fprintf(stderr, "unexpected error:\n%s\n", tb_last_error());
  CU_ASSERT_FATAL(!failed);
  return s.g;
}

static int count_ops(const Graph *g, const char *op) {
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++)
    n += !g->nodes[i]->dead && strcmp(g->nodes[i]->op->name, op) == 0;
  return n;
}

static int64_t parameter_elements(const Graph *g) {
  int64_t n = 0;
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    if ((v->flags & VAL_INITIALIZER) && v->dtype == DT_FLOAT && v->rank > 0 && !strstr(v->name, "running_") &&
        !strstr(v->name, ".mask"))
      n += value_count(v);
  }
  return n;
}

static void test_examples(void) {
  Graph *g = load_example("lenet5.cnn");
  TB_ASSERT_SHAPE(g->outputs[0], 1, 10);
  CU_ASSERT_STRING_EQUAL(g->outputs[0]->name, "logits");
  CU_ASSERT_EQUAL(count_ops(g, "Conv"), 2);
  CU_ASSERT_EQUAL(count_ops(g, "Gemm"), 3);
  CU_ASSERT_EQUAL(parameter_elements(g), 61706); /* the shared lenet5.onnx has as many */
  CU_ASSERT_PTR_NOT_NULL_FATAL(g->train);
  CU_ASSERT_EQUAL(g->train->batch_size, 64);
  CU_ASSERT_EQUAL(g->train->epochs, 5);
  CU_ASSERT_DOUBLE_EQUAL(g->train->momentum, 0.9, 0);

  g = load_example("lenet5_c3.cnn");
  TB_ASSERT_SHAPE(g->outputs[0], 1, 10);
  TB_ASSERT_SHAPE(value_named(g, "c5"), 1, 120, 1, 1);

  g = load_example("resnet_fmnist.cnn");
  TB_ASSERT_SHAPE(g->outputs[0], 1, 10);
  CU_ASSERT_EQUAL(count_ops(g, "Add"), 3);
  CU_ASSERT_EQUAL(count_ops(g, "BatchNormalization"), 9);
  CU_ASSERT_EQUAL(g->train->schedule, SCHEDULE_COSINE);
  CU_ASSERT_TRUE(g->train->nesterov);
}

/* C3: output map m sees the input maps of row m of Table I; every other weight is zero and stays so. */
static void test_c3_table(void) {
  static const char *const table[16] = {"012", "123", "234", "345", "045", "015", "0123", "1234",
                                        "2345", "0345", "0145", "0125", "0134", "1245", "0235", "012345"};
  Graph *g = load_example("lenet5_c3.cnn");
  Value *w = value_named(g, "c3.weight"), *mask = value_named(g, "c3.mask");
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  CU_ASSERT_PTR_NOT_NULL_FATAL(mask);
  TB_ASSERT_SHAPE(mask, 16, 6, 5, 5);
  int64_t live = 0;
  for (int m = 0; m < 16; m++)
    for (int c = 0; c < 6; c++)
      for (int t = 0; t < 25; t++) {
        int64_t i = (m * 6 + c) * 25 + t;
        bool connected = strchr(table[m], '0' + c) != NULL;
        CU_ASSERT_EQUAL(((float *)mask->data)[i], connected ? 1.0f : 0.0f);
        if (!connected)
          CU_ASSERT_EQUAL(((float *)w->data)[i], 0.0f);
        live += ((float *)w->data)[i] != 0;
      }
  CU_ASSERT_EQUAL(live, 1500);
  /* the conv reads W * mask, computed by a Mul on the weights (folded here, for inference) */
  Node *conv = value_named(g, "c3")->producer;
  CU_ASSERT_STRING_EQUAL(conv->in[1]->name, "c3.masked_weight");
}

static const char seeded_net[] = "input x: float[1, 3, 8, 8]\n"
                                 "seed 42\n"
                                 "a = conv 8 kernel=3 init=he\n"
                                 "b = conv 8 kernel=3 init=xavier bias_init=uniform(-0.5, 0.5)\n"
                                 "flatten\n"
                                 "c = dense 200 init=uniform(-0.25, 0.75) bias_init=constant(0.125)\n"
                                 "d = dense 100 init=normal(1, 0.5)\n"
                                 "e = dense 4 init=zeros\n";

static void test_init_reproducible(void) {
  Graph *g1 = load(seeded_net), *g2 = load(seeded_net);
  const char *params[] = {"a.weight", "a.bias", "b.weight", "b.bias", "c.weight", "c.bias", "d.weight", "e.weight"};
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
    Value *v1 = value_named(g1, params[i]), *v2 = value_named(g2, params[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v1);
    CU_ASSERT_EQUAL(memcmp(v1->data, v2->data, (size_t)value_bytes(v1)), 0);
  }
  /* another seed, other weights */
  char *reseeded = cn_strdup(seeded_net);
  memcpy(strstr(reseeded, "seed 42"), "seed 43", 7);
  Graph *g3 = load(reseeded);
  CU_ASSERT_NOT_EQUAL(memcmp(value_named(g1, "a.weight")->data, value_named(g3, "a.weight")->data, 8 * 27 * 4), 0);
  /* a tensor's values depend on its name and the seed, not on the layers around it */
  Graph *g4 = load(cn_format("%s", strstr(seeded_net, "seed") ? "input x: float[1, 3, 8, 8]\nseed 42\nrelu\n"
                                                                  "a = conv 8 kernel=3 init=he\n" : ""));
  CU_ASSERT_EQUAL(memcmp(value_named(g1, "a.weight")->data, value_named(g4, "a.weight")->data, 8 * 27 * 4), 0);
}

static void moments(const Value *v, double *mean, double *std, double *lo, double *hi) {
  int64_t n = value_count(v);
  double s = 0, s2 = 0;
  *lo = INFINITY, *hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    double x = ((float *)v->data)[i];
    s += x, s2 += x * x;
    *lo = x < *lo ? x : *lo;
    *hi = x > *hi ? x : *hi;
  }
  *mean = s / (double)n;
  *std = sqrt(s2 / (double)n - *mean * *mean);
}

static void test_init_distributions(void) {
  Graph *g = load(seeded_net);
  double mean, std, lo, hi;
  /* he: N(0, 2 / fan_in), fan_in 27 */
  moments(value_named(g, "a.weight"), &mean, &std, &lo, &hi);
  CU_ASSERT_DOUBLE_EQUAL(std, sqrt(2.0 / 27), 0.03);
  /* xavier: U(+-sqrt(6 / (fan_in + fan_out))), fan_in 72, fan_out 72 */
  moments(value_named(g, "b.weight"), &mean, &std, &lo, &hi);
  double bound = sqrt(6.0 / 144);
  CU_ASSERT(lo >= -bound && hi <= bound && hi > 0.9 * bound && lo < -0.9 * bound);
  moments(value_named(g, "b.bias"), &mean, &std, &lo, &hi);
  CU_ASSERT(lo >= -0.5 && hi < 0.5);
  moments(value_named(g, "c.weight"), &mean, &std, &lo, &hi);
  CU_ASSERT(lo >= -0.25 && hi < 0.75);
  CU_ASSERT_DOUBLE_EQUAL(mean, 0.25, 0.01);
  CU_ASSERT_DOUBLE_EQUAL(std, 1 / sqrt(12.0), 0.01);
  moments(value_named(g, "c.bias"), &mean, &std, &lo, &hi);
  CU_ASSERT(lo == 0.125 && hi == 0.125);
  moments(value_named(g, "d.weight"), &mean, &std, &lo, &hi);
  CU_ASSERT_DOUBLE_EQUAL(mean, 1, 0.01);
  CU_ASSERT_DOUBLE_EQUAL(std, 0.5, 0.01);
  moments(value_named(g, "e.weight"), &mean, &std, &lo, &hi);
  CU_ASSERT(lo == 0 && hi == 0);
  moments(value_named(g, "a.bias"), &mean, &std, &lo, &hi); /* biases start at zero unless told */
  CU_ASSERT(lo == 0 && hi == 0);
}

static void test_train_settings(void) {
  Graph *g = load("input x: float[1, 4]\ndense 2\n"
                  "train {\n  optimizer adamw lr=0.002 beta2=0.99\n  loss mse\n  schedule step step_size=3 gamma=0.5\n"
                  "  seed 9\n}\n");
  const TrainSettings *t = g->train;
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(t->optimizer, OPTIMIZER_ADAMW);
  CU_ASSERT_EQUAL(t->loss, LOSS_MSE);
  CU_ASSERT_DOUBLE_EQUAL(t->lr, 0.002, 0);
  CU_ASSERT_DOUBLE_EQUAL(t->beta1, 0.9, 0);
  CU_ASSERT_DOUBLE_EQUAL(t->beta2, 0.99, 0);
  CU_ASSERT_DOUBLE_EQUAL(t->weight_decay, 0.01, 0); /* AdamW's default */
  CU_ASSERT_EQUAL(t->schedule, SCHEDULE_STEP);
  CU_ASSERT_EQUAL(t->step_size, 3);
  CU_ASSERT_DOUBLE_EQUAL(t->gamma, 0.5, 0);
  CU_ASSERT_EQUAL(t->seed, 9);
  CU_ASSERT_EQUAL(t->batch_size, 64);
  CU_ASSERT_EQUAL(t->given, TRAIN_GIVEN_OPTIMIZER | TRAIN_GIVEN_LR | TRAIN_GIVEN_BETA2 | TRAIN_GIVEN_LOSS |
                                TRAIN_GIVEN_SCHEDULE | TRAIN_GIVEN_STEP_SIZE | TRAIN_GIVEN_GAMMA | TRAIN_GIVEN_SEED);
  CU_ASSERT_PTR_NULL(load("input x: float[1, 4]\ndense 2\n")->train);
  /* the train section's seed defaults to the file's */
  CU_ASSERT_EQUAL(load("seed 5\ninput x: float[1, 4]\ndense 2\ntrain {\n epochs 2\n}\n")->train->seed, 5);
}

/* Names, branches and the layers the shared models need. */
static void test_layers(void) {
  Graph *g = load("input \"in put\": float[1, 4, 6, 6]\n"
                  "s = conv 8 kernel=1 stride=1 pad=0 groups=2\n"
                  "\"a b\" = conv 8 kernel=[3, 1] pad=[1, 0]\n"
                  "c = conv(s) 8 kernel=3 pad=same dilation=1 bias=false\n"
                  "concat(\"a b\", c)\n"
                  "maxpool 3 stride=1 pad=[0, 0, 2, 2] ceil=true\n"
                  "avgpool 2 count_include_pad=true\n"
                  "batchnorm eps=0.001 momentum=0.99\n"
                  "relu6\nleaky_relu 0.2\nclip min=-1\nhardswish\nsilu\nprelu\nelu\nhardsigmoid alpha=0.25\n"
                  "dropout 0.25\n"
                  "g = global_avgpool\n"
                  "flatten\n"
                  "reshape [1, -1]\n"
                  "d = dense 5\n"
                  "sum = add(d, d)\n"
                  "p = mul(sum, d)\n"
                  "softmax\n"
                  "q = log_softmax(p) 1\n"
                  "output q, p\n");
  CU_ASSERT_EQUAL(g->n_outputs, 2);
  CU_ASSERT_STRING_EQUAL(g->inputs[0]->name, "in put");
  TB_ASSERT_SHAPE(value_named(g, "a b"), 1, 8, 6, 6);
  TB_ASSERT_SHAPE(value_named(g, "concat1"), 1, 16, 6, 6);
  TB_ASSERT_SHAPE(value_named(g, "maxpool1"), 1, 16, 6, 6);
  TB_ASSERT_SHAPE(value_named(g, "avgpool1"), 1, 16, 3, 3);
  TB_ASSERT_SHAPE(value_named(g, "g"), 1, 16, 1, 1);
  TB_ASSERT_SHAPE(value_named(g, "s.weight"), 8, 2, 1, 1);
  TB_ASSERT_SHAPE(value_named(g, "prelu1.slope"), 16, 1, 1);
  CU_ASSERT_PTR_NULL(value_named(g, "c.bias"));
  CU_ASSERT_EQUAL(count_ops(g, "Sigmoid"), 1); /* silu is x * sigmoid(x) */
  CU_ASSERT_EQUAL(count_ops(g, "Clip"), 2);
  Node *clip = value_named(g, "clip1")->producer;
  CU_ASSERT_PTR_NULL(node_in(clip, 2));
  CU_ASSERT_EQUAL(value_get_double(clip->in[1], 0), -1);
  CU_ASSERT_STRING_EQUAL(attr_string(value_named(g, "c")->producer, "auto_pad", ""), "SAME_UPPER");
  /* generated names skip the names the file gives (relu6_1: a word ending in a digit gets an underscore) */
  CU_ASSERT_PTR_NOT_NULL(value_named(g, "relu6_1"));
}

typedef struct ErrorCase {
  const char *what, *source, *message;
} ErrorCase;

/* Every message names the place (file:line:col), shows the line and puts a caret under the spot. */
static const ErrorCase error_cases[] = {
    {"unexpected character", "input x: float[1, 4]\ndense 2 @\n",
     "net.cnn:2:9: error: unexpected character '@'\ndense 2 @\n        ^"},
    {"byte outside ASCII", "input x: float[1, 4]\n\xc3\xa9 = relu\n",
     "net.cnn:2:1: error: unexpected byte 0xc3 (outside comments and strings a .cnn file is ASCII)\n\xc3\xa9 = relu\n^"},
    {"string not closed", "input \"x: float[1, 4]\n",
     "net.cnn:1:7: error: this string is not closed on its line: expected '\"'\ninput \"x: float[1, 4]\n      ^"},
    {"unknown escape", "input \"a\\qb\": float[1, 4]\n",
     "net.cnn:1:9: error: unknown escape in a string: expected \\\" \\\\ \\n or \\t\ninput \"a\\qb\": float[1, 4]\n"
     "        ^"},
    {"malformed number", "input x: float[1, 1, 9, 9]\nconv 4 kernel=5x5\n",
     "net.cnn:2:15: error: malformed number '5x5'\nconv 4 kernel=5x5\n              ^"},
    {"integer too large", "input x: float[1, 99999999999999999999]\n",
     "net.cnn:1:19: error: the integer 99999999999999999999 is too large\ninput x: float[1, 99999999999999999999]\n"
     "                  ^"},
    {"list not closed", "input x: float[1, 1, 9, 9]\nconv 4 kernel=[3, 3\nrelu\n",
     "net.cnn:2:15: error: '[' is not closed: expected ']'\nconv 4 kernel=[3, 3\n              ^"},
    {"list without comma", "input x: float[1, 1, 9, 9]\nconv 4 kernel=[3 3]\n",
     "net.cnn:2:18: error: expected ',' or ']' in the list opened at 2:15, got the number 3\nconv 4 kernel=[3 3]\n"
     "                 ^"},
    {"missing value", "input x: float[1, 1, 9, 9]\nconv 4 kernel=\n",
     "net.cnn:2:15: error: expected a value (a number, a word, a \"string\" or a [list]), got the end of the line\n"
     "conv 4 kernel=\n              ^"},
    {"input without colon", "input x float[1, 4]\n",
     "net.cnn:1:9: error: expected ':' between the input's name and its type, as in `input x: float[1, 3, 32, 32]`, "
     "got 'float'\ninput x float[1, 4]\n        ^"},
    {"unknown element type", "input x: flaot[1, 4]\n",
     "net.cnn:1:10: error: unknown element type 'flaot' (did you mean 'float'?); expected float, uint8, int8, uint16, "
     "int16, int32, int64, bool, double, uint32 or uint64\ninput x: flaot[1, 4]\n         ^"},
    {"symbolic dimension", "input x: float[N, 4]\ndense 2\n",
     "net.cnn:1:16: error: dimension 'N' is symbolic: fix it with --dim N=VALUE\ninput x: float[N, 4]\n               ^"},
    {"unknown layer, close to one", "input x: float[1, 1, 9, 9]\nmaxpol 2\n",
     "net.cnn:2:1: error: unknown layer 'maxpol' (did you mean 'maxpool'?)\nmaxpol 2\n^"},
    {"unknown layer", "input x: float[1, 1, 9, 9]\nfrobnicate\n",
     "net.cnn:2:1: error: unknown layer 'frobnicate'; the layers are conv, maxpool, avgpool, global_avgpool, "
     "global_maxpool, dense, batchnorm, dropout, flatten, reshape, add, mul, concat, softmax, log_softmax, relu, "
     "leaky_relu, elu, sigmoid, hardsigmoid, tanh, relu6, clip, hardswish, silu, softplus, prelu and identity\n"
     "frobnicate\n^"},
    {"unknown setting", "input x: float[1, 1, 9, 9]\nconv 4 kernal=3\n",
     "net.cnn:2:8: error: conv has no setting 'kernal' (did you mean 'kernel'?); its settings are filters, kernel, "
     "stride, pad, dilation, groups, bias, weight, init, bias_init and connect\nconv 4 kernal=3\n       ^"},
    {"setting given twice", "input x: float[1, 1, 9, 9]\nconv 4 kernel=3 filters=2\n",
     "net.cnn:2:17: error: 'filters' is given twice\nconv 4 kernel=3 filters=2\n                ^"},
    {"value after the settings", "input x: float[1, 1, 9, 9]\nconv kernel=3 4\n",
     "net.cnn:2:15: error: expected key=value, got the number 4 (values without a key come before the settings)\n"
     "conv kernel=3 4\n              ^"},
    {"too many values", "input x: float[1, 1, 9, 9]\nconv 4 3\n",
     "net.cnn:2:8: error: conv takes 1 value before its key=value settings (filters)\nconv 4 3\n       ^"},
    {"value for a layer that takes none", "input x: float[1, 1, 9, 9]\nrelu 2\n",
     "net.cnn:2:6: error: relu takes no value here; its settings are written key=value\nrelu 2\n     ^"},
    {"missing kernel", "input x: float[1, 1, 9, 9]\nconv 4\n",
     "net.cnn:2:1: error: conv needs 'kernel'\nconv 4\n^"},
    {"kernel list of the wrong length", "input x: float[1, 1, 9, 9]\nconv 4 kernel=[3, 3, 3]\n",
     "net.cnn:2:15: error: 'kernel' takes one integer or a list of 2 (one per spatial axis), got a list of 3\n"
     "conv 4 kernel=[3, 3, 3]\n              ^"},
    {"negative stride", "input x: float[1, 1, 9, 9]\nconv 4 kernel=3 stride=-1\n",
     "net.cnn:2:24: error: expected an integer from 1 to 2147483647 for 'stride', got -1\n"
     "conv 4 kernel=3 stride=-1\n                       ^"},
    {"pad word", "input x: float[1, 1, 9, 9]\nconv 4 kernel=3 pad=full\n",
     "net.cnn:2:21: error: expected same, same_lower or valid for 'pad', got 'full'\nconv 4 kernel=3 pad=full\n"
     "                    ^"},
    {"groups", "input x: float[1, 3, 9, 9]\nconv 4 kernel=3 groups=2\n",
     "net.cnn:2:24: error: groups = 2 must divide both the 3 input channels and the 4 filters\n"
     "conv 4 kernel=3 groups=2\n                       ^"},
    {"bias_init without a bias", "input x: float[1, 4]\ndense 2 bias=false bias_init=zeros\n",
     "net.cnn:2:20: error: bias_init is for a layer with a bias, and this one has bias=false\n"
     "dense 2 bias=false bias_init=zeros\n                   ^"},
    {"dense on an image", "input x: float[1, 1, 9, 9]\nconv 4 kernel=3\ndense 10\n",
     "net.cnn:3:1: error: dense needs a (batch, features) input; 'conv1' is float[1, 4, 7, 7]: put a flatten before "
     "it\ndense 10\n^"},
    {"conv on a vector", "input x: float[1, 4]\nconv 4 kernel=3\n",
     "net.cnn:2:1: error: conv needs an (N, C, spatial...) input; 'x' is float[1, 4]\nconv 4 kernel=3\n^"},
    {"undefined tensor", "input x: float[1, 4]\nhidden = relu\nadd(x, hiden)\n",
     "net.cnn:3:8: error: no tensor named 'hiden' is defined before this line (did you mean 'hidden'?)\n"
     "add(x, hiden)\n       ^"},
    {"name defined twice", "input x: float[1, 4]\nh = relu\nh = relu\n",
     "net.cnn:3:1: error: 'h' is already defined at line 2\nh = relu\n^"},
    {"add without its inputs", "input x: float[1, 4]\nrelu\nadd\n",
     "net.cnn:3:1: error: add reads two tensors: name them, as in add(a, b)\nadd\n^"},
    {"add with three inputs", "input x: float[1, 4]\na = relu\nadd(x, a, a)\n",
     "net.cnn:3:1: error: add reads two tensors, not 3\nadd(x, a, a)\n^"},
    {"a parameter read as a tensor", "input x: float[1, 4]\nd = dense 4\nadd(x, d.weight)\n",
     "net.cnn:3:8: error: 'd.weight' is a parameter; layers read inputs and the outputs of layers\n"
     "add(x, d.weight)\n       ^"},
    {"a layer before any input", "relu\ninput x: float[1, 4]\n",
     "net.cnn:1:1: error: this layer has no input: declare one before it, as in `input x: float[1, 3, 32, 32]`\n"
     "relu\n^"},
    {"statement word named", "input x: float[1, 4]\ns = seed 3\n",
     "net.cnn:2:1: error: 'seed' begins a statement and takes no `name =` before it\ns = seed 3\n^"},
    {"init rule", "input x: float[1, 4]\ndense 2 init=kaiming\n",
     "net.cnn:2:14: error: expected an initializer for 'init': he, he_uniform, xavier, xavier_normal, lecun_uniform, "
     "zeros, ones, constant(VALUE), uniform(LOW, HIGH) or normal(MEAN, STD); got 'kaiming'\ndense 2 init=kaiming\n"
     "             ^"},
    {"uniform bounds", "input x: float[1, 4]\ndense 2 init=uniform(1, 0)\n",
     "net.cnn:2:14: error: uniform(LOW, HIGH) needs LOW < HIGH\ndense 2 init=uniform(1, 0)\n             ^"},
    {"dropout rate", "input x: float[1, 4]\ndropout 1\n",
     "net.cnn:2:9: error: 'rate' must be at least 0 and below 1, got 1\ndropout 1\n        ^"},
    {"connect: one list per filter", "input x: float[1, 3, 9, 9]\nconv 2 kernel=3 connect=[[0]]\n",
     "net.cnn:2:25: error: 'connect' takes a list of 2 lists, the input maps each output map sees; got a list of 1\n"
     "conv 2 kernel=3 connect=[[0]]\n                        ^"},
    {"connect: a map twice", "input x: float[1, 3, 9, 9]\nconv 2 kernel=3 connect=[[0], [1, 2, 1]]\n",
     "net.cnn:2:38: error: output map 1 lists input map 1 twice\nconv 2 kernel=3 connect=[[0], [1, 2, 1]]\n"
     "                                     ^"},
    {"connect: no such map", "input x: float[1, 3, 9, 9]\nconv 2 kernel=3 connect=[[0], [3]]\n",
     "net.cnn:2:32: error: expected an integer from 0 to 2 for 'connect', got 3\nconv 2 kernel=3 connect=[[0], [3]]\n"
     "                               ^"},
    {"connect with groups", "input x: float[1, 2, 9, 9]\nconv 2 kernel=3 groups=2 connect=[[0], [1]]\n",
     "net.cnn:2:26: error: 'connect' lists connections between all input and output maps: it needs groups = 1\n"
     "conv 2 kernel=3 groups=2 connect=[[0], [1]]\n                         ^"},
    {"a weight name without a weights file", "input x: float[1, 4]\ndense 2 weight=fc1.weight\n",
     "net.cnn:2:16: error: 'fc1.weight' names a tensor of a weights file, but there is none: add `weights "
     "\"FILE.onnx\"`\ndense 2 weight=fc1.weight\n               ^"},
    {"unknown training setting", "input x: float[1, 4]\ndense 2\ntrain {\n  los mse\n}\n",
     "net.cnn:4:3: error: unknown training setting 'los' (did you mean 'loss'?); expected loss, optimizer, batch, "
     "epochs, schedule or seed\n  los mse\n  ^"},
    {"training setting twice", "input x: float[1, 4]\ndense 2\ntrain {\n  epochs 2\n  epochs 3\n}\n",
     "net.cnn:5:3: error: 'epochs' is already set at line 4\n  epochs 3\n  ^"},
    {"loss", "input x: float[1, 4]\ndense 2\ntrain {\n  loss crossentropy\n}\n",
     "net.cnn:4:8: error: expected cross_entropy, nll or mse for 'kind', got 'crossentropy' (did you mean "
     "'cross_entropy'?)\n  loss crossentropy\n       ^"},
    {"an sgd setting for adam", "input x: float[1, 4]\ndense 2\ntrain {\n  optimizer adam momentum=0.9\n}\n",
     "net.cnn:4:18: error: adam takes lr, beta1, beta2, eps and weight_decay, not 'momentum'\n"
     "  optimizer adam momentum=0.9\n                 ^"},
    {"nesterov without momentum", "input x: float[1, 4]\ndense 2\ntrain {\n  optimizer sgd nesterov=true\n}\n",
     "net.cnn:4:26: error: nesterov needs a momentum above 0\n  optimizer sgd nesterov=true\n                         ^"},
    {"learning rate", "input x: float[1, 4]\ndense 2\ntrain {\n  optimizer sgd lr=0\n}\n",
     "net.cnn:4:20: error: 'lr' must be positive, got 0\n  optimizer sgd lr=0\n                   ^"},
    {"training section not closed", "input x: float[1, 4]\ndense 2\ntrain {\n  epochs 2\n",
     "net.cnn:5:1: error: expected '}' to close the training section opened at line 3\n\n^"},
    {"unknown output", "input x: float[1, 4]\nrelu\noutput y\n",
     "net.cnn:3:8: error: no layer's output is named 'y'\noutput y\n       ^"},
    {"an input as output", "input x: float[1, 4]\nrelu\noutput x\n",
     "net.cnn:3:8: error: 'x' is not the output of a layer\noutput x\n       ^"},
    {"no layers", "# nothing but a comment\n", "net.cnn:2:1: error: the file defines no layers\n\n^"},
    /* found by the op's shape inference, placed at the layer */
    {"window larger than the input", "input x: float[1, 1, 4, 4]\nmaxpool 5\n",
     "net.cnn:2:1: error: 'maxpool1' (MaxPool): on spatial axis 0 the window (kernel 5, dilation 1) is larger than "
     "the padded input (4)\nmaxpool 5\n^"},
    {"shapes that do not broadcast", "input x: float[1, 4]\na = dense 3\nadd(x, a)\n",
     "net.cnn:3:1: error: 'add1' (Add): input shapes [1, 4] and [1, 3] do not broadcast\nadd(x, a)\n^"},
    {"a tab before the spot", "input x: float[1, 4]\n\tdense 2 pad=1\n",
     "net.cnn:2:10: error: dense has no setting 'pad'; its settings are units, bias, weight, init and bias_init\n"
     "\tdense 2 pad=1\n\t        ^"},
};

static void test_errors(void) {
  for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
    const ErrorCase *c = &error_cases[i];
    Source s = {.path = "net.cnn", .text = c->source};
    const char *got = tb_fails_with(load_source, &s, "") ? tb_last_error() : "(no error)";
    if (strcmp(got, c->message) != 0)
      fprintf(stderr, "\n%s:\nexpected:\n%s\ngot:\n%s\n", c->what, c->message, got);
    CU_ASSERT_STRING_EQUAL(got, c->message);
  }
}

static void test_nul_byte(void) {
  static const char text[] = "input x: float[1, 4]\nrelu\0\n";
  Source s = {.path = "net.cnn", .text = text, .len = sizeof text - 1};
  CU_ASSERT(tb_fails_with(load_source, &s, ""));
  CU_ASSERT_STRING_EQUAL(tb_last_error(), "net.cnn:2:5: error: unexpected NUL byte: a .cnn file is text\nrelu\n    ^");
}

static char scratch[64];

static void remove_scratch(void) {
  const char *rm[] = {"rm", "-rf", scratch, NULL};
  cn_spawn(rm);
}

static char *path_in_scratch(const char *name) {
  if (!scratch[0]) {
    strcpy(scratch, "/tmp/cnnc-dsl-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(scratch));
    atexit(remove_scratch);
  }
  return cn_format("%s/%s", scratch, name);
}

static void write_onnx(Graph *g, const char *path, int64_t *raw_offsets) {
  FILE *f = fopen(path, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  onnx_write(g, &(OnnxWriteOptions){.graph_name = "test", .raw_offsets = raw_offsets}, f);
  CU_ASSERT_EQUAL(fclose(f), 0);
}

static void load_onnx(void *arg) {
  Source *s = arg;
  s->g = onnx_load(s->path, &no_options);
  shape_infer(s->g);
  fold_dead_code(s->g);
}

/* The writer's file reads back as the same graph, and each initializer's raw data is where it says. */
static void test_onnx_write(void) {
  Graph *g = load(seeded_net);
  char *path = path_in_scratch("seeded.onnx");
  int64_t *offsets = cn_alloc_array((size_t)g->n_values, sizeof(int64_t));
  write_onnx(g, path, offsets);
  Source s = {.path = path};
  CU_ASSERT_FATAL(!tb_fails_with(load_onnx, &s, ""));
  Graph *back = s.g;
  CU_ASSERT_EQUAL(back->opset, 17);
  CU_ASSERT_EQUAL(count_ops(back, "Conv"), 2);
  CU_ASSERT_EQUAL(count_ops(back, "Gemm"), 3);
  TB_ASSERT_SHAPE(back->outputs[0], 1, 4);
  CU_ASSERT_STRING_EQUAL(back->outputs[0]->name, "e");
  FILE *f = fopen(path, "rb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  char *bytes = cn_alloc(1 << 20);
  size_t size = fread(bytes, 1, 1 << 20, f);
  fclose(f);
  int written = 0;
  for (int i = 0; i < g->n_values; i++) {
    const Value *v = g->values[i];
    if (offsets[i] < 0)
      continue;
    written++;
    CU_ASSERT_FATAL(offsets[i] + value_bytes(v) <= (int64_t)size);
    CU_ASSERT_EQUAL(memcmp(bytes + offsets[i], v->data, (size_t)value_bytes(v)), 0);
    Value *w = value_named(back, v->name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(memcmp(w->data, v->data, (size_t)value_bytes(v)), 0);
  }
  CU_ASSERT_EQUAL(written, 10); /* five layers, weight and bias each */
}

/* Replacement contents (the trainer's --export): every initializer the callback names is written from it. */
static const void *halves(const Value *v, void *ctx) {
  (void)ctx;
  if (strcmp(v->name, "e.weight") != 0)
    return NULL;
  float *x = cn_alloc_array((size_t)value_count(v), sizeof(float));
  for (int64_t i = 0; i < value_count(v); i++)
    x[i] = 0.5f;
  return x;
}

static void test_onnx_write_replaced(void) {
  Graph *g = load(seeded_net);
  char *path = path_in_scratch("replaced.onnx");
  FILE *f = fopen(path, "wb");
  onnx_write(g, &(OnnxWriteOptions){.contents = halves}, f);
  fclose(f);
  Source s = {.path = path};
  CU_ASSERT_FATAL(!tb_fails_with(load_onnx, &s, ""));
  Value *w = value_named(s.g, "e.weight"), *d = value_named(s.g, "d.weight");
  CU_ASSERT_EQUAL(((float *)w->data)[7], 0.5f);
  CU_ASSERT_EQUAL(memcmp(d->data, value_named(g, "d.weight")->data, (size_t)value_bytes(d)), 0);
}

/* A .cnn file takes its parameters from an ONNX file by name: the default names, or named ones. */
static void test_weights_file(void) {
  Graph *g = load(seeded_net);
  char *path = path_in_scratch("weights.onnx");
  write_onnx(g, path, NULL);
  char *text = cn_format("weights \"%s\"\n"
                         "input x: float[1, 3, 8, 8]\n"
                         "a = conv 8 kernel=3\n"
                         "conv 8 kernel=3 weight=b.weight bias=b.bias\n"
                         "flatten\n"
                         "c = dense 200\n"
                         "d = dense 100\n"
                         "fresh = dense 4 init=zeros\n",
                         path);
  Graph *h = load(text);
  const char *same[] = {"a.weight", "a.bias", "b.weight", "b.bias", "c.weight", "c.bias", "d.weight", "d.bias"};
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
    CU_ASSERT_EQUAL(memcmp(value_named(h, same[i])->data, value_named(g, same[i])->data,
                           (size_t)value_bytes(value_named(g, same[i]))), 0);
  CU_ASSERT_EQUAL(((float *)value_named(h, "fresh.weight")->data)[0], 0.0f);

  Source s = {.path = "net.cnn", .text = cn_format("weights \"%s\"\ninput x: float[1, 3, 8, 8]\nconv 8 kernel=3\n", path)};
  CU_ASSERT(tb_fails_with(load_source, &s, ""));
  CU_ASSERT_STRING_EQUAL(tb_last_error(),
                         cn_format("net.cnn:3:1: error: the weights file '%s' has no tensor 'conv1.weight': name the "
                                   "tensor with weight=NAME, or give init= to initialize the layer\n"
                                   "conv 8 kernel=3\n^", path));
  s = (Source){.path = "net.cnn", .text = cn_format("weights \"%s\"\ninput x: float[1, 3, 8, 8]\nconv 4 kernel=3 weight=a.weight "
                                    "bias=a.bias\n", path)};
  CU_ASSERT(tb_fails_with(load_source, &s, ""));
  CU_ASSERT_STRING_EQUAL(tb_last_error(), "net.cnn:3:24: error: the weights file has 'a.weight' as float[8, 3, 3, 3]; "
                                          "this layer needs float[4, 3, 3, 3]\nconv 4 kernel=3 weight=a.weight "
                                          "bias=a.bias\n                       ^");
  /* a relative path is found beside the .cnn file */
  s = (Source){.path = path_in_scratch("net.cnn"), .text = "weights \"weights.onnx\"\ninput x: float[1, 3, 8, 8]\na = conv 8 kernel=3\n"};
  CU_ASSERT(!tb_fails_with(load_source, &s, ""));
}

/* ONNX -> DSL -> graph: the printed file reads back into the same layers with the same weights. */
static void test_print_round_trip(void) {
  Graph *g = load("input x: float[1, 3, 8, 8]\n"
                  "s = conv 8 kernel=3 stride=2 pad=[0, 0, 1, 1] bias=false\n"
                  "batchnorm eps=0.001\n"
                  "r = relu6\n"
                  "t = conv 8 kernel=1 groups=8\n"
                  "u = add(t, r)\n"
                  "concat(u, s, t)\n"
                  "maxpool 2 stride=1 ceil=true\n"
                  "global_avgpool\n"
                  "flatten\n"
                  "dropout 0.2\n"
                  "logits = dense 3\n"
                  "log_softmax\n");
  char *onnx = path_in_scratch("printed.onnx");
  write_onnx(g, onnx, NULL);
  Source s = {.path = onnx};
  CU_ASSERT_FATAL(!tb_fails_with(load_onnx, &s, ""));
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  dsl_write(s.g, &(DslWriteOptions){.weights_path = onnx, .source = "printed.onnx"}, f);
  fclose(f);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "conv 8 kernel=3 stride=2 pad=[0, 0, 1, 1] weight=s.weight bias=false\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "r = relu6\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "u = add(t, r)\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "concat(u, s, t)\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "dropout 0.2\n")); /* the fewest digits that read back to the float */
  Graph *back = load(text);
  free(text);
  CU_ASSERT_EQUAL(back->n_nodes, s.g->n_nodes);
  for (int i = 0; i < back->n_nodes; i++)
    CU_ASSERT_STRING_EQUAL(back->nodes[i]->op->name, s.g->nodes[i]->op->name);
  CU_ASSERT_EQUAL(memcmp(value_named(back, "s.weight")->data, value_named(g, "s.weight")->data, 8 * 27 * 4), 0);
}

static void print_graph(void *arg) {
  Source *s = arg;
  FILE *f = fopen("/dev/null", "w");
  dsl_write(s->g, &(DslWriteOptions){.weights_path = "w.onnx", .source = "m.onnx"}, f);
  fclose(f);
}

/* The printer names the first node the DSL cannot express. */
static void test_print_unsupported(void) {
  Graph *g = tb_graph(13);
  Value *x = tb_input(g, "x", DT_FLOAT, 2, TB_DIMS(1, 4));
  Node *relu = tb_node(g, "Relu", 1, &x, 1);
  Node *exp = tb_node(g, "Exp", 1, &relu->out[0], 1);
  tb_output(g, exp->out[0]);
  tb_infer(g);
  Source s = {.g = g};
  CU_ASSERT(tb_fails_with(print_graph, &s, ""));
  CU_ASSERT_STRING_EQUAL(tb_last_error(), "test.onnx: error: node 1 'Exp_1' (Exp): the DSL has no layer for Exp (see "
                                          "docs/dsl.md for the layers it has)");
}

/* Mutated sources: every outcome is a graph or an error, never a crash. The seeds are the examples and a file
 * that uses every construct; the mutations flip, insert, delete and duplicate bytes and splice lines. */
static const char fuzz_seed[] = "# every construct, small\n"
                                "seed 3\ninit xavier\n"
                                "input x: float[1, 6, 12, 12]\n"
                                "a = conv 4 kernel=[3, 3] stride=1 pad=1 dilation=1 groups=2 init=he bias_init=zeros\n"
                                "batchnorm eps=1e-5 momentum=0.9\n"
                                "b = conv(x) 2 kernel=3 pad=same connect=[[0, 1], [2, 3, 4, 5],]\n"
                                "concat(a, b) axis=1\n"
                                "maxpool 2 stride=2 ceil=true\navgpool 1 count_include_pad=true\n"
                                "relu\nleaky_relu 0.1\nclip -1 1\nrelu6\nhardswish\nsilu\nprelu init=constant(0.2)\n"
                                "c = global_avgpool\nflatten 1\nreshape [1, -1]\ndropout 0.1\n"
                                "d = dense 3 init=uniform(-0.1, 0.1)\ne = mul(d, d)\nsoftmax 1\n"
                                "\"out put\" = log_softmax(e)\noutput \"out put\"\n"
                                "train {\n loss nll\n optimizer adam lr=1e-3\n batch 8\n epochs 2\n"
                                " schedule step step_size=1 gamma=0.5\n}\n";

static uint64_t rng_state = 0x853c49e6748fea9bull;
static uint32_t rng(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33);
}

static char *mutate(const char *seed, size_t *len) {
  static const char pieces[] = "=,:()[]{}-\"#\n 0123456789.eE_ax";
  size_t n = strlen(seed);
  char *out = cn_alloc(2 * n + 64);
  memcpy(out, seed, n);
  int edits = 1 + (int)(rng() % 4);
  for (int e = 0; e < edits && n > 0; e++) {
    size_t at = rng() % n;
    switch (rng() % 6) {
    case 0: out[at] = (char)rng(); break;                                   /* any byte */
    case 1: out[at] = pieces[rng() % (sizeof pieces - 1)]; break;          /* a character that means something */
    case 2: memmove(out + at, out + at + 1, n - at - 1), n--; break;       /* delete */
    case 3:                                                                /* insert */
      memmove(out + at + 1, out + at, n - at), n++;
      out[at] = pieces[rng() % (sizeof pieces - 1)];
      break;
    case 4: { /* duplicate a stretch */
      size_t len = 1 + rng() % 16;
      if (at + len > n || n + len > 2 * strlen(seed) + 32)
        break;
      memmove(out + at + len, out + at, n - at);
      n += len;
      break;
    }
    case 5: n = at; break; /* truncate */
    }
  }
  *len = n;
  return out;
}

/* What --emit=onnx does with a .cnn file, then the pipeline's stages. */
static void load_write_compile(void *arg) {
  Source *s = arg;
  Graph *g = dsl_load_text(s->path, s->text, s->len, &no_options);
  FILE *null = fopen("/dev/null", "w");
  onnx_write(g, &(OnnxWriteOptions){0}, null);
  fclose(null);
  shape_infer(g);
  fold_dead_code(g);
  plan_memory(g);
  s->g = g;
}

static void test_fuzz(void) {
  const char *seeds[] = {fuzz_seed, read_text(CNNC_SOURCE_DIR "/examples/dsl/lenet5_c3.cnn"),
                         read_text(CNNC_SOURCE_DIR "/examples/dsl/resnet_fmnist.cnn")};
  int loaded = 0, failed = 0;
  const char *env = getenv("CNNC_DSL_FUZZ_RUNS"); /* longer runs by hand, e.g. under -fsanitize=address */
  int runs = env ? atoi(env) : 3000;
  if (getenv("CNNC_DSL_FUZZ_SEED"))
    rng_state = strtoull(getenv("CNNC_DSL_FUZZ_SEED"), NULL, 0);
  for (int i = 0; i < runs; i++) {
    const char *seed = seeds[i % 50 == 0 ? 1 + (i / 50) % 2 : 0];
    size_t len;
    char *text = mutate(seed, &len);
    Source s = {.path = "fuzz.cnn", .text = text, .len = len};
    if (tb_fails_with(load_write_compile, &s, ""))
      failed++;
    else
      loaded++;
  }
  /* both outcomes happen, so the mutations reach past the lexer */
  CU_ASSERT(loaded > runs / 100);
  CU_ASSERT(failed > runs / 3);
}

CU_TestInfo dsl_tests[] = {
    {"examples build the networks they describe", test_examples},
    {"LeNet-5's C3 table: masked weights start at zero", test_c3_table},
    {"initialisation is seeded and reproducible", test_init_reproducible},
    {"initialisation follows its distribution", test_init_distributions},
    {"the training section", test_train_settings},
    {"layers, names and branches", test_layers},
    {"every error case: message and place", test_errors},
    {"a NUL byte", test_nul_byte},
    {"ONNX writer: reads back, raw data offsets", test_onnx_write},
    {"ONNX writer: replaced initializer contents", test_onnx_write_replaced},
    {"weights from an ONNX file", test_weights_file},
    {"ONNX -> DSL -> the same graph", test_print_round_trip},
    {"DSL printer names the op it cannot express", test_print_unsupported},
    {"mutated sources never crash", test_fuzz},
    CU_TEST_INFO_NULL,
};
