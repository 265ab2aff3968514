/* cnnc internal header: one section per .c file, in pipeline order. */
#ifndef CNNC_H
#define CNNC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>

/* CN_VERSION comes from project() in CMakeLists.txt; cn_git_commit from compiler/version.cmake, at build time. */
#ifndef CN_VERSION
#error "CN_VERSION is defined by the build (CMakeLists.txt)"
#endif
extern const char cn_git_commit[];

/* Hard limits: anything larger in a model is an error, never a crash. */
#define CN_MAX_RANK 8
#define CN_MAX_TENSOR_BYTES ((int64_t)1 << 34) /* 16 GiB */
#define CN_MAX_NODES 1000000
#define CN_MAX_FILE_BYTES ((int64_t)1 << 31)
/* The newest default-domain (ai.onnx) opset cnnc implements; a model importing a newer one is refused. */
#define CN_MAX_OPSET 21

typedef struct Graph Graph;
typedef struct Node Node;
typedef struct Value Value;
typedef struct OpDesc OpDesc;
typedef struct Emitter Emitter;
typedef struct TrainSettings TrainSettings;

//
// diag.c
//

/* Diagnostics name the model file; the loader sets it. */
extern const char *diag_file;

noreturn void cn_fatal(void);
noreturn void cn_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void cn_error_node(const Node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cn_warn_node(const Node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void cn_internal(const char *file, int line, const char *what);
/* Output files are written to temporaries that cn_fatal removes, so a failed run leaves nothing. */
void diag_track_temp(const char *path);
void diag_untrack_temp(const char *path);
/* Tests replace the exit with a longjmp so they can look at the message. */
extern void (*diag_fatal_hook)(const char *message);

/* A place in a source text (the DSL): errors there print file:line:col, the line, and a caret under the spot. */
typedef struct SrcLoc {
  const char *file;
  const char *line_start; /* the line's first character; the line ends at '\n' or NUL */
  int line, col;          /* 1-based; col counts bytes */
} SrcLoc;
noreturn void cn_error_at(const SrcLoc *loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A front end with source text says where a node came from; diagnostics about the node then point there. */
extern bool (*diag_node_loc)(const Node *n, SrcLoc *loc);

#define CN_ASSERT(x) ((x) ? (void)0 : cn_internal(__FILE__, __LINE__, #x))
#define cn_unreachable() cn_internal(__FILE__, __LINE__, "unreachable")

//
// util.c
//

void *cn_alloc(size_t size); /* zeroed; never freed (the compiler is short-lived), except as below */
void cn_free(void *p);       /* releases one block early (large temporaries); never free() a cn_alloc block */
void cn_free_all(void);      /* releases every block (a fuzz target after each input) */
void *cn_alloc_array(size_t count, size_t size);
char *cn_strdup(const char *s);
char *cn_strndup(const char *s, size_t n);
char *cn_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A C identifier made from an untrusted string: [A-Za-z0-9_], never empty, never starting with a digit. */
char *cn_sanitize_ident(const char *s, size_t max_len);
/* A C string literal body (without quotes) that is safe to paste into generated code. */
char *cn_escape_c_string(const char *s, size_t max_len);
/* Same, for text placed inside a C comment: no "*" followed by "/", no control characters. */
char *cn_escape_comment(const char *s, size_t max_len);
void cn_sha256_file(const char *path, char hex[65]);
/* A fresh directory under $TMPDIR (or /tmp) named after its purpose. */
char *cn_make_temp_dir(const char *purpose);
/* Saturating multiplication for sizes: returns -1 on overflow or negative factors. */
int64_t cn_mul_size(int64_t a, int64_t b);

//
// target.c: the instruction set of the generated kernels (--target)
//

typedef enum Target { TARGET_GENERIC, TARGET_AVX2, TARGET_AVX512, TARGET_NEON } Target;

/* "generic", "avx2", "avx512", "neon". */
const char *target_name(Target t);
/* The best target the machine running cnnc supports; *why gets a sentence saying so, for the header comment. */
Target target_native(const char **why);
/* Floats per SIMD vector, which is also the channel block of LAYOUT_NCHWC; 1 for generic. */
int target_vector_floats(Target t);
/* The run-time CPU check of the target: a C expression that is true when the CPU running P_run supports the
 * target's instruction set, and the name of that set for messages; NULL for generic. */
const char *target_cpu_check(Target t);
const char *target_isa_description(Target t);
/* What a generated file needs before its first node function: the pragma that compiles every following
 * function for the target (so plain `cc -O2 -c model.c` works without -m flags), and when `templates` (some
 * node runs a template kernel) the ISA macro, the intrinsics header and templates/simd.h, which cost the C
 * compiler a second or so to read. target_emit_end closes the pragma. Nothing for generic. */
void target_emit_begin(FILE *out, Target t, bool templates);
void target_emit_end(FILE *out, Target t);

//
// graph.c: the IR. A Value is a tensor; a Node is an operator instance.
//

/* Element types use the ONNX TensorProto.DataType codes. */
typedef enum DType {
  DT_UNDEFINED = 0,
  DT_FLOAT = 1,
  DT_UINT8 = 2,
  DT_INT8 = 3,
  DT_UINT16 = 4,
  DT_INT16 = 5,
  DT_INT32 = 6,
  DT_INT64 = 7,
  DT_STRING = 8,
  DT_BOOL = 9,
  DT_FLOAT16 = 10,
  DT_DOUBLE = 11,
  DT_UINT32 = 12,
  DT_UINT64 = 13,
  DT_BFLOAT16 = 16,
} DType;

bool dtype_supported(DType t);
size_t dtype_size(DType t);
const char *dtype_name(DType t);  /* ONNX spelling, "float", "int64", ... */
const char *dtype_ctype(DType t); /* C spelling, "float", "int64_t", ... */
bool dtype_is_float(DType t);     /* float or double */
bool dtype_is_signed(DType t);

/* Memory layout of a tensor. The shape (rank, dims) is always the ONNX one; the layout says how its elements
 * are stored. Graph inputs and outputs are always row-major: the layout pass puts reorders at the boundaries. */
typedef enum Layout {
  LAYOUT_ROW_MAJOR = 0, /* dense row-major in the ONNX shape (NCHW for images) */
  /* (N, ceil(C / block), spatial..., block): channels in blocks of Value.block (the target's vector width),
   * the last block zero-padded, so a SIMD kernel loads one channel block of one pixel as one vector. */
  LAYOUT_NCHWC = 1,
} Layout;

enum {
  VAL_GRAPH_INPUT = 1 << 0,  /* supplied by the caller at run time */
  VAL_GRAPH_OUTPUT = 1 << 1, /* written to the caller's buffer */
  VAL_INITIALIZER = 1 << 2,  /* came from the model's weights or a --bind */
  /* Training: a trainable tensor. Its initial contents are in `init` and `data` stays NULL, so nothing folds
   * through it; generated code keeps it in mutable storage that the optimizer updates. */
  VAL_PARAM = 1 << 3,
  VAL_STATE = 1 << 4, /* training: mutable but not trained (BatchNormalization running statistics); `init` too */
  /* Training: d(loss)/d(a VAL_PARAM), made by the backward construction. Like a parameter it lives outside the
   * arena and outlives the step (P_get_grad reads it, the optimizer update after the nodes consumes it), so it
   * counts as used. Gradients of activations are ordinary intermediate values. */
  VAL_GRAD = 1 << 5,
};

struct Value {
  int id;
  const char *name; /* from the model: untrusted, escape before printing into C */
  DType dtype;
  int rank;
  int64_t dims[CN_MAX_RANK];
  bool has_shape; /* set by shape inference */
  Layout layout;
  int block;  /* LAYOUT_NCHWC: channels per block */
  void *data; /* constant contents (initializer, bound input, folded), row-major; NULL if computed at run time */
  void *init; /* VAL_PARAM, VAL_STATE: initial contents, row-major */
  Node *producer;
  int n_uses;
  int flags;
  /* A view: this value's bytes are alias_of's, starting alias_bytes in (Reshape and friends at 0, a Concat
   * input at its slice of the output). The planner gives the alias no storage of its own and keeps alias_of
   * alive as long as the alias. NULL for a value with storage of its own. */
  Value *alias_of;
  int64_t alias_bytes;
  bool requires_grad; /* training: the loss's gradient flows back through this value */
  Value *grad;        /* training: d(loss)/d(this value), once the backward construction has made it */
  int64_t offset;     /* arena offset assigned by plan.c; -1 when the value does not live in the arena */
};

/* Attribute kinds use the ONNX AttributeProto.AttributeType codes. */
typedef enum AttrType {
  ATTR_UNDEFINED = 0,
  ATTR_FLOAT = 1,
  ATTR_INT = 2,
  ATTR_STRING = 3,
  ATTR_TENSOR = 4,
  ATTR_GRAPH = 5,
  ATTR_FLOATS = 6,
  ATTR_INTS = 7,
  ATTR_STRINGS = 8,
  ATTR_SPARSE_TENSOR = 11,
} AttrType;

typedef struct Attr {
  const char *name;
  AttrType type;
  float f;
  int64_t i;
  const char *s; /* STRING: NUL-terminated copy; s_len holds the real length */
  size_t s_len;
  float *floats;
  int64_t *ints;
  int n; /* element count of floats/ints */
  Value *t; /* TENSOR: a constant value not registered in the graph */
  /* Set when an op looks the attribute up (node_attr and the attr_* readers). Shape inference rejects a node
   * with an attribute its op never looked up: an attribute cnnc does not implement is an error, never ignored. */
  bool read;
} Attr;

/* An element-wise function a kernel applies to its results before storing them (epilogue fusion). */
typedef enum ActKind {
  ACT_NONE = 0,
  ACT_RELU,
  ACT_LEAKY_RELU,   /* alpha */
  ACT_CLIP,         /* min alpha, max beta (ReLU6 is Clip(0, 6)) */
  ACT_SIGMOID,
  ACT_HARD_SIGMOID, /* max(0, min(1, alpha * x + beta)) */
  ACT_HARD_SWISH,
  ACT_TANH,
  ACT_SILU,         /* x * Sigmoid(x) */
} ActKind;

typedef struct Activation {
  ActKind kind;
  float alpha, beta;
} Activation;

/* What a fused node (the anchor: Conv, Gemm or MatMul) computes after its own op, in this order:
 *   y = act(op(x) + bias)          bias: the anchor's own (Conv B, Gemm C) or in[bias], one per output channel
 *   y = post_act(y + in[residual]) a residual Add, when residual >= 0
 *   y = window(y)                  a windowed op reading y a few rows at a time, so y is never stored whole:
 *                                  MaxPool, AveragePool, or a depthwise Conv (MobileNet's expand + depthwise)
 *                                  whose weights and bias the fusion appends to the anchor's in[] at window_in
 *                                  and whose own activation is window_act
 * The anchor's out[0] is the last fused node's output; the fused-away nodes are dead. */
typedef struct Fusion {
  int bias;               /* index into the anchor's in[] of a bias added by the fusion (MatMul + Add), or -1 */
  Activation act;
  int residual;           /* index into the anchor's in[], or -1 */
  Activation post_act;
  const Node *window;     /* the fused windowed node (dead; its params still hold its Window), or NULL */
  int window_in;          /* depthwise Conv: index into the anchor's in[] of its W, then its B (if any) */
  Activation window_act;
  const Node **covers;    /* every ONNX node the anchor stands for, the anchor first: for comments and reports */
  int n_covers;
} Fusion;

struct Node {
  int id;              /* position in the ONNX graph; nodes cnnc adds get ids after the model's */
  const OpDesc *op;
  const char *name;    /* untrusted */
  const char *op_type; /* untrusted until matched against the op table */
  Value **in;          /* NULL entries are omitted optional inputs */
  int n_in;
  Value **out;         /* NULL entries are omitted optional outputs */
  int n_out;
  Attr *attrs;
  int n_attrs;
  void *params; /* op-specific, filled by the op's infer hook */
  Fusion *fusion;     /* set by the fusion pass on an anchor node; NULL when the node runs alone */
  const char *kernel; /* the kernel the backend chose ("direct NCHW16c 4x14", "winograd F(4x4,3x3)"), for
                       * comments and reports; NULL for the op's own portable loop nest */
  void *kernel_params; /* that kernel's choices (tile sizes, packing), private to the op's simd/emit_simd hooks */
  int64_t macs;       /* multiply-adds, counted by shape_infer from the ONNX shapes (cost.c) */
  int64_t param_count; /* elements of the model's float initializers it reads, counted by shape_infer (cost.c) */
  bool backward;      /* training: added by a grad hook or the loss */
  bool dead;
};

struct Graph {
  const char *path;
  const char *producer; /* untrusted */
  int64_t opset;        /* default-domain opset the model imports */
  Node **nodes;         /* topological order after graph_sort() */
  int n_nodes;
  Value **values;
  int n_values;
  Value **inputs; /* run-time inputs, in ONNX order (initializers and bound inputs removed) */
  int n_inputs;
  Value **outputs;
  int n_outputs;
  const TrainSettings *train; /* a .cnn file's training section; NULL for ONNX or a file without one */
};

Graph *graph_new(const char *path);
Value *graph_add_value(Graph *g, const char *name);
Node *graph_add_node(Graph *g, const char *name, const char *op_type, int n_in, int n_out);
void graph_sort(Graph *g); /* topological order; a cycle is an error */
/* Replaces the node order by `order` (a permutation of g->nodes) and renumbers the ids. */
void graph_set_order(Graph *g, Node *const *order);
void graph_count_uses(Graph *g);
/* For each value id, the live nodes reading it, one entry per input slot (a node reading a value twice is there
 * twice). Passes that rewrite the graph keep their own copy up to date or take a new one. */
typedef struct Readers {
  int *count;
  Node ***nodes;
} Readers;
Readers graph_readers(const Graph *g);
/* The one live node reading v, when v has no other use (a graph output is one); NULL otherwise. */
Node *sole_reader(const Readers *r, const Value *v);
void graph_verify(const Graph *g);
void graph_dump(const Graph *g, FILE *out);

int64_t value_count(const Value *v); /* number of elements */
int64_t value_bytes(const Value *v);  /* bytes of its storage in its layout (NCHWc pads the last channel block) */
/* Channels of a LAYOUT_NCHWC value rounded up to whole blocks. */
int64_t value_padded_channels(const Value *v);
/* Sets the shape, checking each dim and the total size against the limits; n names the node for errors. */
void value_set_shape(Value *v, const Node *n, DType t, int rank, const int64_t *dims);
/* A constant input's contents converted to int64 (for shape-like inputs); n names the node for errors. */
int64_t value_get_int(const Value *v, int64_t index);
double value_get_double(const Value *v, int64_t index);
void value_set_double(Value *v, int64_t index, double x); /* converts to v's dtype */
char *value_shape_string(const Value *v);

/* Attribute access. Type mismatches are errors naming the node. */
const Attr *node_attr(const Node *n, const char *name);
int64_t attr_int(const Node *n, const char *name, int64_t dflt);
bool attr_flag(const Node *n, const char *name, bool dflt); /* an int that must be 0 or 1 */
float attr_float(const Node *n, const char *name, float dflt);
const char *attr_string(const Node *n, const char *name, const char *dflt);
int attr_ints(const Node *n, const char *name, int64_t **out);   /* count, or -1 when absent */
int attr_floats(const Node *n, const char *name, float **out);   /* count, or -1 when absent */
Value *attr_tensor(const Node *n, const char *name);              /* NULL when absent */

/* Input access for op hooks. */
Value *node_in(const Node *n, int i);   /* NULL if absent */
Value *node_const_in(const Node *n, int i, const char *what); /* must be present and constant: error otherwise */
int64_t normalize_axis(const Node *n, int64_t axis, int rank);

//
// onnx.c
//

typedef struct Binding {
  const char *name;
  const char *file;
} Binding;

typedef struct DimSetting {
  const char *name;
  int64_t value;
} DimSetting;

typedef struct LoadOptions {
  Binding *binds;
  int n_binds;
  DimSetting *dims;
  int n_dims;
  int64_t batch; /* > 0: every graph input's first dimension becomes this (--batch) */
} LoadOptions;

Graph *onnx_load(const char *path, const LoadOptions *opts);
/* Unmaps the external data files of every model loaded so far; their values' data become invalid. For programs
 * loading many models in one process (the fuzz targets), before cn_free_all. */
void onnx_release(void);
/* Reads a serialized TensorProto (.pb). The returned value is a constant owned by no graph. */
Value *onnx_load_tensor_file(const char *path);
/* The initializers of an ONNX model file (a .cnn file's weights), as constants owned by no graph. */
Value **onnx_load_initializers(const char *path, int *count);

//
// init.c: seeded parameter initialisation
//

typedef enum InitKind {
  INIT_ZEROS,
  INIT_CONSTANT,      /* a */
  INIT_UNIFORM,       /* [a, b) */
  INIT_NORMAL,        /* mean a, standard deviation b */
  INIT_HE,            /* normal, std sqrt(2 / fan_in) (Kaiming normal, PyTorch's kaiming_normal_) */
  INIT_HE_UNIFORM,    /* uniform, bound sqrt(6 / fan_in) */
  INIT_XAVIER,        /* uniform, bound sqrt(6 / (fan_in + fan_out)) (Glorot uniform) */
  INIT_XAVIER_NORMAL, /* normal, std sqrt(2 / (fan_in + fan_out)) */
  INIT_LECUN_UNIFORM, /* uniform, bound sqrt(1 / fan_in): PyTorch's default for Conv and Linear */
} InitKind;

typedef struct InitRule {
  InitKind kind;
  double a, b;
} InitRule;

/* Every element is a function of (key, index) alone, from a counter-based generator: a tensor's contents do
 * not depend on the order tensors are filled in or on the other tensors of the model. */
uint64_t init_key(uint64_t seed, const char *tensor_name);
double init_sample(const InitRule *r, uint64_t key, int64_t index, int64_t fan_in, int64_t fan_out);
const char *init_name(InitKind kind);

//
// ops.c: the op table. Each op lives in compiler/ops/<name>.c.
//

typedef enum OpKind {
#define OP(id, sym) OP_##id,
#include "ops.def"
#undef OP
  OP_COUNT
} OpKind;

struct OpDesc {
  OpKind kind;
  const char *name; /* ONNX op_type */
  int min_in, max_in;
  int min_out, max_out;
  /* Parses attributes into n->params, checks the inputs and sets every output's dtype and shape. */
  void (*infer)(Graph *g, Node *n);
  /* Optional: computes the outputs' data at compile time when every input is constant. */
  void (*fold)(Graph *g, Node *n);
  /* Writes the body of the node's C function; see emit.c for the names in scope. */
  void (*emit)(Emitter *e, const Node *n);
  /* Training: adds to g the nodes that compute dx[i] = d(loss)/d(in[i]) for every input with requires_grad,
   * from dy[k] = d(loss)/d(out[k]) (NULL where the loss does not depend on out[k]). The backward
   * construction sums the dx of a value used several times. NULL when the op is not differentiable. */
  void (*grad)(Graph *g, Node *n, Value *const *dy, Value **dx);
  /* cnnc's own ops (backward kernels, losses, optimizer steps): never matched against a model's op_type. Their
   * nodes are made by grad hooks, which may set n->params from the forward node before infer runs (the window of
   * a pooling gradient, say); infer then checks the inputs against them and sets the outputs. */
  bool internal;
  /* SIMD targets (layout.c). Optional: when a template kernel (templates/) can run the node, chooses it: names
   * it in n->kernel, may pack constant inputs into the order the kernel reads them (replacing n->in[i] with the
   * packed constant), sets in_layout[i] to the layout it reads each run-time input in (on entry: the layout the
   * input has) and out_layout[k] to the layout it writes each output in (on entry: row-major), and returns
   * true. The layout pass then inserts the reorders, and emit calls emit_simd instead of emit. Returning false
   * keeps the portable emit hook on row-major tensors. */
  bool (*simd)(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout);
  void (*emit_simd)(Emitter *e, const Node *n);
};

const OpDesc *op_lookup(const char *op_type);
const OpDesc *op_get(OpKind kind);

//
// shape.c: shape inference, folding constants as it goes (shapes can depend on them).
//

void shape_infer(Graph *g);
/* Shared inference rules for op files. */
void infer_same_as_input(Node *n, int input); /* output 0 gets input's dtype and shape */
void infer_broadcast(Node *n, DType out_type); /* multidirectional broadcast of all inputs into output 0 */
bool broadcast_shapes(int ra, const int64_t *a, int rb, const int64_t *b, int *rank, int64_t *dims);
void check_input_type(const Node *n, int i, bool (*ok)(DType), const char *expected);
bool dtype_any_numeric(DType t);
bool dtype_float_only(DType t);

//
// fold.c
//

/* Runs n's fold hook when all its inputs are constant; returns whether it did. */
bool fold_node(Graph *g, Node *n);
void fold_dead_code(Graph *g);
/* Marks n as folded once its outputs' data are set: the node goes dead and its outputs become plain constants.
 * Ops whose outputs never depend on input data (Constant, Shape) call it from infer, so they fold even when
 * their inputs are computed at run time. */
void fold_mark_folded(Node *n);

//
// backward.c: training. train_mark, before shape inference, turns the trainable initializers into parameters
// (so nothing folds through them); backward_build, after it, turns the forward graph into one training step:
// the forward in training mode, the loss, and the backward nodes each op's grad hook adds.
//

typedef enum LossKind { LOSS_CROSS_ENTROPY, LOSS_NLL, LOSS_MSE } LossKind;
typedef enum OptimizerKind { OPTIMIZER_SGD, OPTIMIZER_ADAM, OPTIMIZER_ADAMW } OptimizerKind;
typedef enum ScheduleKind { SCHEDULE_CONSTANT, SCHEDULE_STEP, SCHEDULE_COSINE } ScheduleKind;

/* TrainSettings.given: which settings the file wrote (the others hold the defaults). */
enum {
  TRAIN_GIVEN_LOSS = 1 << 0,
  TRAIN_GIVEN_OPTIMIZER = 1 << 1,
  TRAIN_GIVEN_LR = 1 << 2,
  TRAIN_GIVEN_MOMENTUM = 1 << 3,
  TRAIN_GIVEN_NESTEROV = 1 << 4,
  TRAIN_GIVEN_WEIGHT_DECAY = 1 << 5,
  TRAIN_GIVEN_BETA1 = 1 << 6,
  TRAIN_GIVEN_BETA2 = 1 << 7,
  TRAIN_GIVEN_EPS = 1 << 8,
  TRAIN_GIVEN_BATCH_SIZE = 1 << 9,
  TRAIN_GIVEN_EPOCHS = 1 << 10,
  TRAIN_GIVEN_SCHEDULE = 1 << 11,
  TRAIN_GIVEN_STEP_SIZE = 1 << 12,
  TRAIN_GIVEN_GAMMA = 1 << 13,
  TRAIN_GIVEN_MIN_LR = 1 << 14,
  TRAIN_GIVEN_SEED = 1 << 15,
};

/* A .cnn file's `train { ... }` section, for the training code (defaults in parentheses; PyTorch's where it
 * has one). Command-line options override it. */
struct TrainSettings {
  LossKind loss;           /* (cross_entropy) */
  OptimizerKind optimizer; /* (sgd) */
  double lr;               /* (sgd 0.01; adam, adamw 0.001) */
  double momentum;         /* sgd (0) */
  bool nesterov;           /* sgd (false) */
  double weight_decay;     /* (sgd, adam 0; adamw 0.01) */
  double beta1, beta2;     /* adam, adamw (0.9, 0.999) */
  double eps;              /* adam, adamw (1e-8) */
  int64_t batch_size;      /* (64) */
  int64_t epochs;          /* (1) */
  ScheduleKind schedule;   /* learning rate per epoch (constant) */
  int64_t step_size;       /* step: lr *= gamma every step_size epochs (1) */
  double gamma;            /* step (0.1) */
  double min_lr;           /* cosine: lr follows half a cosine from lr down to min_lr over `epochs` (0) */
  uint64_t seed;           /* shuffling, augmentation, dropout (the train section's `seed`, else the file's) */
  unsigned given;          /* TRAIN_GIVEN_* */
};

/* What --train compiles with: the command line's options over the file's TrainSettings (`given` says which the
 * command line set), then train_options_finish's defaults. */
typedef struct TrainOptions {
  LossKind loss;
  OptimizerKind optimizer; /* torch.optim.SGD, Adam or AdamW, step for step */
  double lr, momentum, weight_decay, beta1, beta2, eps;
  bool nesterov;
  uint64_t seed;       /* of Dropout's masks */
  const char **freeze; /* initializer names kept constant */
  int n_freeze;
  unsigned given; /* TRAIN_GIVEN_* */
} TrainOptions;

/* The fields the command line did not give from the file's settings (NULL for none), the rest torch.optim's
 * defaults (lr 0.01 for SGD and 0.001 for Adam/AdamW, AdamW's weight decay 0.01, ...); checks the combination
 * (nesterov needs momentum, ...). */
void train_options_finish(TrainOptions *o, const TrainSettings *file);
const char *loss_name(LossKind k);
const char *optimizer_name(OptimizerKind k);
void train_mark(Graph *g, const TrainOptions *o);
void backward_build(Graph *g, const TrainOptions *o);
/* The node train_mark and backward_build add the loss with; NULL before. */
const Node *backward_loss_node(const Graph *g);

/* Building blocks for grad hooks. bw_node adds a backward node reading `ins` (NULL entries are omitted inputs)
 * with n_out fresh outputs, named after `from`; attributes and preset params go on it before bw_finish, which
 * runs its infer and returns out[0]. */
Node *bw_node(Graph *g, const Node *from, OpKind kind, int n_in, Value *const *ins, int n_out);
void bw_attr_int(Node *n, const char *name, int64_t v);
void bw_attr_float(Node *n, const char *name, float v);
void bw_attr_ints(Node *n, const char *name, int count, const int64_t *v);
void bw_copy_attrs(Node *to, const Node *from);
Value *bw_finish(Graph *g, Node *n);
/* A scalar constant of type t; a 1-D int64 constant. */
Value *bw_scalar(Graph *g, DType t, double x);
Value *bw_ints(Graph *g, int count, const int64_t *v);
/* A one- or two-input op without attributes (Neg, Add, Mul, Div, ...). */
Value *bw_unary(Graph *g, const Node *from, OpKind kind, Value *a);
Value *bw_binary(Graph *g, const Node *from, OpKind kind, Value *a, Value *b);
/* v summed over the axes along which a value of shape `like` was broadcast to v's shape (numpy alignment), in
 * `like`'s shape; v itself when nothing was broadcast. bw_sum_kept sums the axes where kept[] is 1 (kept has
 * v's rank) and gives the result like's shape. */
Value *bw_sum_to(Graph *g, const Node *from, Value *v, const Value *like);
Value *bw_sum_kept(Graph *g, const Node *from, Value *v, const int64_t *kept, const Value *like);
/* v with like's shape (same element count); v itself when the shapes agree. */
Value *bw_reshape(Graph *g, const Node *from, Value *v, const Value *like);
// fold_bn.c
//

/* Folds each inference BatchNormalization into the Conv or Gemm before it, when nothing else reads that node's
 * result and the folded weights are finite; the anchor's fusion then covers both. */
void fold_bn(Graph *g);

//
// fuse.c
//

/* Epilogue fusion: fills Node.fusion on Conv, Gemm and MatMul anchors and kills the nodes they take over. */
void fuse(Graph *g);

//
// layout.c: channel-blocked tensors between SIMD kernels, and the reorders at their edges
//

/* For a SIMD target: asks each live node's op whether a template kernel runs it (OpDesc.simd), gives every
 * value the layout its producer writes, and inserts Reorder nodes (ops/reorder.c) where a node reads a value in
 * another layout and before graph outputs, which stay row-major. Nothing changes for the generic target. */
void layout_assign(Graph *g, Target t);
/* The Reorder node the layout pass would insert: a new value with v's contents in layout `to`. */
Value *layout_reorder(Graph *g, Value *v, Layout to, int block);
/* "NCHW16c" for a blocked value, "" for row-major: for dumps and comments. */
char *layout_name(const Value *v);

//
// views.c
//

/* Makes values views of others (Value.alias_of): the outputs of Reshape, Flatten, Squeeze, Unsqueeze, Identity
 * and inference Dropout, and Concat inputs written straight into their slice of the output. Nodes left with
 * nothing to do go dead. */
void views(Graph *g);
/* The value whose storage v lives in (v itself when it is no view), and v's byte offset there. */
Value *view_root(const Value *v, int64_t *offset);

//
// plan.c
//

typedef struct Plan {
  int64_t arena_bytes;
  /* The most bytes of arena tensors live at one time in the node order planned: no placement of the tensors
   * (at the planner's alignment) fits in fewer than this. arena_bytes - live_peak_bytes is what first-fit lost. */
  int64_t live_peak_bytes;
} Plan;

Plan plan_memory(Graph *g);

//
// cost.c: the arithmetic a node performs, for profiles and reports
//

/* Multiply-adds of a Conv, ConvTranspose, Gemm, MatMul or ConvGradWeight from its ONNX shapes and attributes; 0 for every
 * other op. shape_infer stores it in Node.macs, before any pass packs weights or fuses nodes. */
int64_t cost_count_macs(const Node *n);
/* Elements of the float initializers (the model's weights) n reads, before packing, padding or folding change
 * them; shape_infer stores it in Node.param_count, for reports. */
int64_t cost_count_params(const Node *n);
/* n->macs plus those of a depthwise Conv fused into it as its window. A FLOP count is 2 x this (the
 * convention of shared/models/manifest.json). */
int64_t node_macs(const Node *n);

//
// emit.c
//

typedef struct EmitOptions {
  const char *prefix;
  const char *command_line;
  const char *header_name;   /* file name the .c includes */
  Target target;             /* the pipeline's (layout.c chose kernels for it) */
  const char *target_why;    /* how the target was chosen, for the header comment; NULL: --target named it */
  const TrainOptions *train; /* --train: the graph is a training step (backward_build); NULL for inference */
} EmitOptions;

struct Emitter {
  FILE *out;
  /* Text that goes before the current node's function: the template instances its body calls (template.c). */
  FILE *kernels;
  bool used_templates; /* some node function instantiated a template: the file needs simd.h */
  int indent;
  const Graph *graph;
  const EmitOptions *opts;
};

void emit_c(Graph *g, const Plan *plan, const EmitOptions *opts, FILE *c_out, FILE *h_out);
/* What emit_c would write, without writing it (for reports): per node index, the name of its function (NULL
 * when it has none); the bytes of the weights the code holds. */
typedef struct EmitSummary {
  char **function;
  int64_t weight_bytes;
} EmitSummary;
EmitSummary emit_summary(Graph *g, const EmitOptions *opts);
/* Prints one line of C, indented by brace depth ('{' at the end opens, '}' at the start closes). */
void emitf(Emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Names of a node's inputs and outputs inside its function. */
const char *emit_in(const Node *n, int i);
const char *emit_out(const Node *n, int i);
/* A float literal that round-trips exactly, e.g. "0.100000001f", "INFINITY". */
char *emit_float(double x, DType t);
char *emit_dims_comment(const Value *v);
/* The name of node n's function in generated code, e.g. "node12_conv1". */
char *emit_function_name(const Node *n);

//
// template.c: kernel templates (templates/*, embedded into cnnc at build time) instantiated per layer
//

/* One instance being written to e->kernels: the parameters as #defines, the template's text, then #undefs.
 * Parameters are the template's to name (its header comment lists them); `fn` is the function it defines. */
typedef struct Instance Instance;
Instance *tpl_begin(Emitter *e, const char *template_file, const char *fn);
void tpl_int(Instance *t, const char *name, int64_t value);
/* #define name value; `name` may take parameters, e.g. "ACT(x)". */
void tpl_define(Instance *t, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* X-macro lists that unroll a register tile: `#define name(X) X(0) X(1) ... X(n-1)`, and
 * `#define name(X) X(0,0) X(0,1) ... X(rows-1,cols-1)`. */
void tpl_list(Instance *t, const char *name, int n);
void tpl_tile(Instance *t, const char *name, int rows, int cols);
/* #define name(x) as the simd.h expression of activation a applied to x, e.g. "vrelu(x)"; "(x)" for none. */
bool tpl_activation(Instance *t, const char *name, const Activation *a); /* true: a maps 0 to non-zero */
/* The fused epilogue of an anchor (f may be NULL): ACT(x), POST_ACT(x) and EPILOGUE(acc, at), the vector a
 * kernel stores at offset `at` of its output from accumulator acc, reading a residual at `res + at` (the
 * template's residual pointer is named res), and EPILOGUE_PARTIAL(acc, at, n), which reads only n lanes of the
 * residual (for a partial store at the end of a row-major row). Returns whether the epilogue maps a zero
 * accumulator to a non-zero value, so a kernel must clear the padded lanes of the last channel block itself. */
bool tpl_epilogue(Instance *t, const Fusion *f);
void tpl_end(Instance *t);
/* The text of an embedded template file; an internal error if there is none of that name. */
const char *template_text(const char *file, size_t *size);

/* Training code: file-scope names op emitters read. P_train_step sets EMIT_TRAINING and P_run clears it, so the
 * forward nodes serve both (BatchNormalization on batch or running statistics, Dropout masking or copying);
 * Dropout's counter-based generator hashes EMIT_RNG_SEED, EMIT_RNG_STEP (one per training step), the node
 * and the element. */
#define EMIT_TRAINING "training"
#define EMIT_RNG_SEED "rng_seed"
#define EMIT_RNG_STEP "rng_step"

/* What emit_train.c shares with emit.c: the graph, which inputs each node's function reads, and every value's
 * storage as a C expression in the entry points (NULL for values an entry point names itself). */
typedef struct EmitProgram {
  Graph *graph;
  bool **uses;
  char **names;
} EmitProgram;
/* A static union of typed arrays over `size` bytes (padded to 64) named `symbol`, initialized with `bytes` as a
 * string literal (or zeroed when bytes is NULL); const for weights, mutable for training's storage. */
void emit_blob(Emitter *e, bool is_const, const char *symbol, const unsigned char *bytes, int64_t size);
/* Calls the node functions in order, with the values named by `names`: the forward nodes, and the backward
 * ones too when `backward`. */
void emit_calls(Emitter *e, const EmitProgram *p, char *const *names, bool backward);

//
// emit_train.c: the training entry points around a graph from backward_build
//

/* Before the node functions: parameters and running statistics (mutable, initialized), gradients and
 * optimizer state (zeroed), the mode flag and the generator state; fills `names` for those values. */
void emit_train_storage(Emitter *e, Graph *g, char **names);
/* After P_run: P_train_step, the parameter accessors, the learning rate and the state for checkpoints. */
void emit_train_entries(Emitter *e, const EmitProgram *p);
void emit_train_header(FILE *h, const Graph *g, const EmitOptions *o);

//
// ops/common.c: loop nests shared by many op files
//

/* Strides of a row-major shape. */
void shape_strides(int rank, const int64_t *dims, int64_t *strides);
/* Elements per (n, c) plane of an (N, C, spatial...) tensor: the product of the dims after the first two. */
int64_t plane_size(const Value *x);
/* Emits `for` loops over a row-major index space, naming indices i0..i{rank-1}; returns closing count. */
int emit_loops(Emitter *e, int rank, const int64_t *dims, const char *var);
void emit_close(Emitter *e, int count);
/* Emits the flat offset expression of an index (var0..varN) into a broadcast input of shape (rank_in, dims_in),
 * aligned at the right against the output rank. */
char *emit_broadcast_index(int out_rank, int in_rank, const int64_t *in_dims, const char *var);
/* If output `out` has no elements, emits `(void)Y<out>;` and returns true: the caller writes nothing to it. */
bool emit_if_empty(Emitter *e, const Node *n, int out);
/* The C math function `name` for element type t: "sqrtf" for float, "sqrt" for double. */
char *emit_math_fn(const char *name, DType t);
/* The smallest value of an element type as C source, where a running maximum starts. */
const char *emit_lowest(DType t);
/* A C literal of element `index` of the constant v, in v's type: "0.5f", "-3", "true", "INT64_MIN". */
char *emit_value_literal(const Value *v, int64_t index);
/* Input i as a constant 1-D int32/int64 tensor, converted to int64; *count gets its length. */
int64_t *node_const_ints(const Node *n, int i, const char *what, int *count);

//
// ops/conv_simd.c, ops/gemm_simd.c: the template kernels of Conv, Gemm and MatMul (their OpDesc.simd hooks)
//

bool conv_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout);
void conv_emit_simd(Emitter *e, const Node *n);
/* A float constant of `count` elements named after `from` and `what`: weights packed for a kernel. */
Value *conv_packed_constant(Graph *g, const Value *from, const char *what, int64_t count);
/* The bias padded to whole vectors of vlen floats: B, plus the constant Add a fusion folded in (either NULL). */
Value *conv_pack_bias(Graph *g, const Value *b, const Value *extra, int64_t maps, int vlen);
/* The fraction of the FMA peak n's direct convolution keeps busy on t: conv_winograd.c's cost rule weighs it. */
double conv_direct_efficiency(const Node *n, Target t);
bool gemm_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout);
bool matmul_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout);
void gemm_emit_simd(Emitter *e, const Node *n); /* Gemm and MatMul */

//
// ops/conv_depthwise.c: the depthwise Conv kernel (templates/dwconv_nchwc.c), which conv_simd tries first
//

bool conv_depthwise_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout);
bool conv_depthwise_owns(const Node *n); /* conv_depthwise_simd chose n's kernel */
void conv_depthwise_emit(Emitter *e, const Node *n);

//
// ops/eltwise_simd.c: the element-wise template kernels (templates/eltwise_unary.c, eltwise_binary.c)
//

/* Chooses templates/eltwise_unary.c for n, applying act (an activation simd_math.h has) in the layout the
 * input arrives in; the OpDesc.simd hooks of unary.c and clip.c call it. */
bool eltwise_unary_simd(Node *n, Target t, const Activation *act, Layout *in_layout, Layout *out_layout);
void eltwise_unary_emit(Emitter *e, const Node *n);
/* Chooses templates/eltwise_binary.c for a two-input float op with the broadcasts it takes (same shape, per
 * channel, scalar), blocked when an operand of the output's shape arrives blocked; act follows the op. */
bool eltwise_binary_simd(Graph *g, Node *n, Target t, const Activation *act, Layout *in_layout,
                         Layout *out_layout);
/* `op` is the simd.h function of the operation: "vadd", "vsub", "vmul", "vdiv". */
void eltwise_binary_emit(Emitter *e, const Node *n, const char *op);

//
// ops/conv_gemm.c: Conv with weights known only at run time (training), and ConvGradWeight, as im2col and a
// GEMM template
//

/* conv_gemm_simd is conv_simd's choice for such a Conv (layouts stay row-major). */
bool conv_gemm_simd(Node *n, Target t);
void conv_gemm_emit(Emitter *e, const Node *n);
bool conv_gemm_weight_grad_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout);
void conv_gemm_emit_weight_grad(Emitter *e, const Node *n);

//
// ops/copy.c: strided copies shared by the data-movement ops
//

/* A copy between two dense tensors where element (i0..i{rank-1}) of an index space goes from src offset
 * src_base + sum(i_k * src_step[k]) to dst offset dst_base + sum(i_k * dst_step[k]) (offsets in elements).
 * Transpose, Slice, Split, Concat, Expand, Tile and Pad's interior are all such copies. */
#define CN_MAX_COPY_RANK (2 * CN_MAX_RANK) /* Tile splits each axis into repeats and elements */
typedef struct StridedCopy {
  int rank;
  int64_t dims[CN_MAX_COPY_RANK];
  int64_t src_base, src_step[CN_MAX_COPY_RANK];
  int64_t dst_base, dst_step[CN_MAX_COPY_RANK];
} StridedCopy;

/* Emits the copy as a loop nest (the innermost contiguous run as one memcpy); nothing when it is empty. */
void emit_strided_copy(Emitter *e, const StridedCopy *c, const char *dst, const char *src);
/* Performs the copy at compile time, for fold hooks. */
void strided_copy_run(const StridedCopy *c, void *dst, const void *src, size_t elem_size);
/* fold and emit hooks for ops whose infer leaves one StridedCopy from input 0 to output 0 in n->params. */
void strided_copy_fold(Graph *g, Node *n);
void strided_copy_emit(Emitter *e, const Node *n);

//
// ops/elementwise.c: loops and folding shared by the element-wise ops (unary, binary, variadic, Clip, Where, Cast)
//

/* Opens the loops of an element-wise kernel writing `out` from inputs whose shapes broadcast to it (NULL
 * entries are skipped; only rank and dims are read, so a stack Value can carry an adjusted shape). Sets
 * out_index and in_index[k] to the offset expressions valid inside; returns the loop count for emit_close.
 * Axes are merged where every input either follows the output or is broadcast along both, so an op without
 * broadcasting gets one flat loop, which compilers vectorize. */
int emit_elementwise_loops(Emitter *e, const Value *out, int n_in, const Value *const *ins, char **in_index,
                           char **out_index);
/* The offset into `in` (broadcast to out's shape, aligned at the right) of out's element `index`. */
int64_t broadcast_offset(const Value *out, const Value *in, int64_t index);

/* An element as C arithmetic sees it, for folds that must match the generated code: floats stay float, and
 * integers are 64-bit (bool and signed types in i, unsigned in u) and wrap when stored back. */
typedef enum ScalarKind { SCALAR_FLOAT, SCALAR_DOUBLE, SCALAR_INT, SCALAR_UINT } ScalarKind;
typedef union Scalar {
  float f;
  double d;
  int64_t i;
  uint64_t u;
} Scalar;
ScalarKind scalar_kind(DType t);
Scalar scalar_get(const Value *v, int64_t index);
void scalar_set(Value *v, int64_t index, Scalar x);
/* x, an element of type `from`, converted as C converts it to type `to` (to bool: x != 0). */
Scalar scalar_convert(Scalar x, DType from, DType to);
bool scalar_less(Scalar a, Scalar b, DType t); /* a < b for elements of type t */

//
// ops/window.c: sliding-window geometry shared by Conv, ConvTranspose and the pools
//

/* One window per spatial axis (input axes 2..): size, step, dilation, padding, and the sizes it maps between. */
typedef struct Window {
  int rank; /* spatial axes */
  int64_t in[CN_MAX_RANK], out[CN_MAX_RANK];
  int64_t kernel[CN_MAX_RANK], stride[CN_MAX_RANK], dilation[CN_MAX_RANK];
  int64_t pad_begin[CN_MAX_RANK], pad_end[CN_MAX_RANK];
} Window;

/* Reads kernel_shape, strides and dilations of a node whose input 0 is (N, C, spatial...). `kernel` is the shape
 * the weights give (kernel_shape must agree with it), or NULL when the attribute is required (pools). */
void window_read(const Node *n, Window *w, const int64_t *kernel);
/* Reads pads or auto_pad and sets the output size of a Conv or pool window; ceil_mode is the pools' rounding. */
void window_forward(const Node *n, Window *w, bool ceil_mode);
/* The positions p in [0, count) with 0 <= p * stride + shift < limit, as [*begin, *end) (empty: begin == end). */
void window_positions(int64_t count, int64_t stride, int64_t shift, int64_t limit, int64_t *begin, int64_t *end);
/* Emits, inside the loop over output index `o<axis>`, `i<axis>` (the input index under kernel tap 0) and
 * `k<axis>_begin`, `k<axis>_end` (the taps that fall inside the input). */
void window_emit_taps(Emitter *e, const Window *w, int axis);
/* Checks X (N, C, spatial...), W and the optional bias share X's float type and W has X's rank; `w_layout`
 * names W's axes for the message, e.g. "M, C/group". */
void window_check_conv_inputs(const Node *n, const char *w_layout);
/* A static int64_t table of per-tap values named `name`. */
void window_emit_table(Emitter *e, const char *name, const int64_t *values, int64_t count);
/* The window as attributes (kernel_shape, strides, dilations, explicit pads) of a node a grad hook makes. */
void window_set_attrs(Node *n, const Window *w);
/* Emits static tables <name>_begin[k] and <name>_end[k] over the kernel taps k of the last spatial axis: the
 * positions p in [0, count) whose partner p * stride + k * dilation - pad_begin lies in [0, limit). */
void window_emit_tap_ranges(Emitter *e, const Window *w, int64_t count, int64_t limit, const char *name);
/* One line for a comment in generated code: "kernel 3x3, stride 2x2, ...: input 7x7 -> output 3x3". */
char *window_describe(const Window *w);
/* Index arithmetic for generated code: "expr * k" (parenthesized as needed; expr alone when k is 1) and
 * "expr + k" / "expr - |k|" (expr alone when k is 0). */
char *expr_times(const char *expr, int64_t k);
char *expr_plus(const char *expr, int64_t k);

//
// ops/conv_winograd.c: Winograd F(4x4,3x3) and F(2x2,3x3) for stride-1 3x3 Convs (templates/winograd.c)
//

/* The shape of a Conv Winograd can compute: 2-D, 3x3, stride 1, dilation 1, one group. */
typedef struct WinogradShape {
  int64_t batch, channels, maps; /* N, C, K */
  int64_t in_h, in_w, out_h, out_w;
  int64_t pad_top, pad_left;
  /* a fused pool the output transform computes (templates/winograd.c, WINO_POOL): 0 none, 1 MaxPool,
   * 2 AveragePool, its windows pool_h x pool_w at that stride, unpadded, the sides dividing the tile side */
  int pool;
  int64_t pool_h, pool_w;
} WinogradShape;

/* How a Conv runs as Winograd: the tile and the template's blocking (see templates/winograd.c). */
typedef struct WinogradPlan {
  int m;              /* output tile side: 4 for F(4x4,3x3), 2 for F(2x2,3x3); 0 when the direct convolution wins */
  int vlen;           /* floats per vector of the target */
  int rows, cols;     /* register tile: R tiles by J vectors of output channels */
  int split;          /* 2: a tile too small to hide the FMA latency alternates two sets of accumulators */
  int tile_block;     /* TB: tiles transformed and multiplied together */
  int k_chunk;        /* KC: output-channel blocks per chunk of products */
  int prefetch;       /* floats ahead that the products prefetch their weights */
  bool transform_weights; /* the weights stay 3x3 and are transformed at run time (few tiles: less to read) */
  int64_t work_floats;   /* scratch the function needs */
  int64_t weight_floats; /* packed weights */
  /* the cost rule's estimates: direct; F(2x2,3x3), F(4x4,3x3) with weights transformed at compile time; the
   * same transformed at run time */
  double cycles[5];
} WinogradPlan;

/* Whether n is a float Conv of that shape; fills *s. */
bool winograd_shape(const Node *n, WinogradShape *s);
int64_t winograd_tiles(const WinogradShape *s, int m);
/* The cost rule (written out in conv_winograd.c): the cheapest of a direct convolution that keeps
 * direct_efficiency of the FMA peak busy, F(2x2,3x3) and F(4x4,3x3), on a target with vlen-float vectors and
 * `registers` vector registers. */
WinogradPlan winograd_plan(const WinogradShape *s, int vlen, int registers, double direct_efficiency);
/* The plan for tile side m (2 or 4) and weights transformed at compile or run time, whatever the cost rule
 * says: for tests. */
WinogradPlan winograd_plan_tile(const WinogradShape *s, int vlen, int registers, int m, bool transform_weights);
/* The weights of W (K, C, 3, 3) in the order the template reads them, p->weight_floats floats: transformed,
 * U = G w G^T computed in double and rounded once, or with p->transform_weights as they are. */
float *winograd_pack_weights(const float *w, const WinogradShape *s, const WinogradPlan *p);
/* Writes to e->kernels the instance of templates/winograd.c that is the function `fn` for shape s and plan p,
 * with a bias when `bias` and the epilogue of f (NULL: none). */
void winograd_instance(Emitter *e, const char *fn, const WinogradShape *s, const WinogradPlan *p, bool bias,
                       const Fusion *f);
/* The Conv's SIMD hooks for Winograd (conv_simd.c tries them first): whether the cost rule gives n Winograd,
 * and if so its packed weights and bias and its layouts (OpDesc.simd's contract); whether n runs as Winograd;
 * its instance and call. */
bool conv_winograd_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout);
bool conv_winograd_owns(const Node *n);
void conv_winograd_emit(Emitter *e, const Node *n);

//
// ops/batch_norm.c, ops/identity.c: the forward ops that behave differently in training (backward_build calls)
//

/* BatchNormalization becomes BatchNormTrain: batch statistics, saved for the backward, and the running
 * statistics as state outputs it updates in place. Dropout becomes DropoutTrain: a seeded mask, kept. */
void batch_norm_train_form(Graph *g, Node *n);
void dropout_train_form(Graph *g, Node *n);

//
// dsl.c: the .cnn front end (docs/dsl.md)
//

/* Whether a model file is DSL text: a .cnn name, or (any other name but .onnx) text where ONNX would be binary. */
bool dsl_detect(const char *path);
Graph *dsl_load(const char *path, const LoadOptions *opts);
/* The same from text in memory; `path` names it in errors and anchors relative weights paths. */
Graph *dsl_load_text(const char *path, const char *text, size_t len, const LoadOptions *opts);
/* Forgets the source places of the nodes loaded so far (kept for error messages). For programs loading many models
 * in one process (the fuzz targets), before cn_free_all. */
void dsl_release(void);

//
// dsl_write.c: --emit=dsl, a graph printed as a .cnn file
//

typedef struct DslWriteOptions {
  const char *weights_path; /* the ONNX file the printed layers read their weights from, as the .cnn will name it */
  const char *source;       /* the model's path, for the header comment */
  const LoadOptions *load;  /* bound inputs are not weights of the file */
} DslWriteOptions;

/* Prints g (as pipeline_load leaves it) as DSL; an error names the first node the DSL cannot express. */
void dsl_write(const Graph *g, const DslWriteOptions *o, FILE *out);

//
// onnx_write.c: --emit=onnx
//

typedef struct OnnxWriteOptions {
  const char *graph_name;
  /* Contents to write instead of an initializer's own (trained weights): NULL, or a function returning the
   * row-major bytes of v, or NULL to keep its own. */
  const void *(*contents)(const Value *v, void *ctx);
  void *ctx;
  /* If set (g->n_values entries): the byte offset in the file of each written initializer's raw data, -1 for
   * values written otherwise, so a program can patch new weights into a copy of the file. */
  int64_t *raw_offsets;
} OnnxWriteOptions;

/* Writes the live forward nodes of g (before fusion and layout passes) as an ONNX model at g->opset. Constants
 * read by nodes become initializers: their data, or for VAL_PARAM and VAL_STATE values their init. */
void onnx_write(const Graph *g, const OnnxWriteOptions *o, FILE *out);

//
// ops/unary.c, ops/clip.c, ops/batch_norm.c: what the passes ask of single ops
//

/* The activation an element-wise node computes (Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish or Tanh, on
 * float or double), for epilogue fusion; false for any other node. */
bool unary_activation(const Node *n, Activation *act);
/* The C expression of one of those activations applied to the expression x of type t: the op's own formula,
 * so fused and unfused code compute the same. */
char *unary_activation_expr(const Activation *act, DType t, const char *x);
/* A float or double Clip with constant or absent bounds as ACT_CLIP (alpha = min, beta = max; infinite when
 * absent); false otherwise. */
bool clip_activation(const Node *n, Activation *act);
/* An inference BatchNormalization with constant statistics as y = x * multiplier[c] + offset[c] (computed in
 * double, each finite in X's type); false for the training form or statistics known only at run time. */
bool batch_norm_affine(const Node *n, const double **multiplier, const double **offset);

//
// ops/conv.c, ops/pool.c: the windowed ops a fusion can stream
//

const Window *conv_window(const Node *n); /* a Conv's geometry */
int64_t conv_group(const Node *n);
const Window *pool_window(const Node *n); /* a MaxPool's, AveragePool's or LpPool's */
/* Emits output row o0 (in scope) of one channel of a fused depthwise Conv window (anchor->fusion->window): input
 * rows from x, row i at row i % ring_rows; `channel` indexes its weights and bias; writes y[0 .. width). */
void conv_emit_depthwise_row(Emitter *e, const Node *anchor, const char *x, int64_t ring_rows, const char *channel,
                             const char *y);
/* The same for a fused MaxPool or AveragePool window of rank 2. */
void pool_emit_window_row(Emitter *e, const Node *pool, const char *x, int64_t ring_rows, const char *y);

//
// ops/epilogue.c: the fused semantics (Fusion) in portable C, shared by the Conv, Gemm and MatMul emitters
//

/* Whether the anchor computes nothing beyond its own op (no fusion, or only folded BatchNormalization). */
bool epilogue_is_trivial(const Node *anchor);
/* Statements applying act to the variable var of type t; nothing for ACT_NONE. */
void epilogue_emit_act(Emitter *e, const Activation *act, DType t, const char *var);
/* Stores one result of the anchor: `value` (its op's result, own bias included) plus the fused bias element
 * `bias`, through act, plus the residual element `residual`, through post_act, into the lvalue dst. bias and
 * residual are C expressions, NULL when the fusion has none. */
void epilogue_emit_store(Emitter *e, const Node *anchor, const char *dst, const char *value, const char *bias,
                         const char *residual);
/* Bytes one channel's ring of a fused window takes: the anchor's rows the window spans, times a row. */
int64_t epilogue_ring_bytes(const Node *window);
/* The channel block (at most `block`) whose rings fit the driver's stack budget. */
int epilogue_window_block(const Node *anchor, int block);
/* Emits, inside the anchor's loops over the batch item `n` and the block of channels starting at `m`, the
 * row-streaming driver of its fused window: emit_rows must emit row o0 (in scope) of the block's `block`
 * channels of the anchor's result, element o of channel j going through the epilogue into the lvalue dst[j]
 * (which names `o`). */
typedef void (*EmitAnchorRows)(Emitter *e, const Node *anchor, void *ctx, char *const *dst);
void epilogue_emit_window(Emitter *e, const Node *anchor, int block, EmitAnchorRows emit_rows, void *ctx);

//
// pipeline.c: the stages from a model file to a planned graph, in order
//

typedef struct PipelineOptions {
  LoadOptions load;
  Target target;       /* the kernels' instruction set: decides layouts and kernels (layout.c) */
  TrainOptions *train; /* --train: compile a training step; NULL for inference */
  FILE *dump;          /* -d: the graph after each stage goes here; NULL for none */
} PipelineOptions;

typedef struct Compiled {
  Graph *graph;
  Plan plan;
} Compiled;

/* The front end picked by the file (DSL or ONNX), shape inference and dead-code removal: the graph as the
 * model describes it, which --emit=onnx and --emit=dsl write. */
Graph *pipeline_load(const char *model_path, const PipelineOptions *o);
Compiled pipeline_run(const char *model_path, const PipelineOptions *o);

//
// report.c: `cnnc report`
//

/* One row per generated layer and the totals, as a table (json false) or a JSON object. eo->prefix names the
 * arena size macro in the table. */
void report_write(Graph *g, const Plan *plan, const EmitOptions *eo, bool json, FILE *out);

//
// dot.c: --emit=dot|svg
//

/* The graph after the passes as Graphviz text: layers, fused groups as clusters, tensor shapes on edges. */
void dot_write(const Graph *g, FILE *out);
/* Runs Graphviz's dot on a .dot file; an error naming the package when it is not installed. */
void dot_render_svg(const char *dot_path, const char *svg_path);

//
// cc.c: running the C compiler for --emit=obj|exe and check
//

typedef struct CcOptions {
  const char *cc;     /* NULL: $CC, else clang */
  const char *opt;    /* "-O2" */
  bool werror;
} CcOptions;

const char *cc_default(void);
/* Runs the compiler with the given argv tail; returns the exit status (its output goes to stderr). */
int cc_run(const CcOptions *o, const char *const *args, int n_args);
/* Runs argv (NULL-terminated) and waits; returns the exit status, or 128 + signal. */
int cn_spawn(const char *const *argv);
/* Writes an embedded file (runtime sources) into dir. */
char *embed_write(const char *dir, const char *name);

//
// trainer.c: --emit=trainer, the trainer program's generated main (the program itself is runtime/train.c)
//

/* Writes trainer_main.c for the training graph g (from pipeline_run with po->train) compiled with `prefix` into
 * `header_name`: the model's description for cnnrt_trainer_main, the model as ONNX with its initial weights (for
 * --export) and main(). */
void trainer_write_main(const Graph *g, const char *model_path, const PipelineOptions *po, const char *prefix,
                        const char *header_name, FILE *out);
extern const struct EmbeddedFile {
  const char *name;
  const unsigned char *data;
  size_t size;
} cn_embedded_files[];
extern const size_t cn_embedded_count;

//
// check.c
//

typedef struct CheckOptions {
  double atol, rtol;
  double tol_scaled; /* > 0: pass when max|got-ref| <= tol_scaled * max(1, max|ref|) */
  const char **inputs, **expects; /* test data as files (.pb or raw) instead of a data directory */
  int n_inputs, n_expects;
  CcOptions cc;
} CheckOptions;

int check_model(const char *model_path, const char *data_dir, const PipelineOptions *po, const EmitOptions *eo,
                const CheckOptions *co);

#endif
