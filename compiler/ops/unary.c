/* Unary element-wise ops, one table row each. A row's formula is C written once, in terms of the element x and
 * the attributes alpha, beta and gamma: this file compiles it to fold constants and pastes its text into the
 * generated code, so the two cannot disagree. The generated code is
 *
 *   const float alpha = 0.100000001f;
 *   for (int64_t i0 = 0; i0 < 60; i0++) {
 *     const float x = X0[i0];
 *     Y0[i0] = x < 0 ? alpha * x : x;
 *   }
 *
 * Formulas call <math.h> functions by their double names. For float tensors the generated code calls the
 * f-suffixed versions, and folding goes through <tgmath.h>, which makes the same choice. A function that
 * rounds must get only float operands (exp(-x), not exp(1 - x * 0.5)), or tgmath would pick the double one.
 * Irrational constants are named (sqrt1_2, ...): each is declared in the element type where it is used, so it
 * stays a float operand for float. */
#include "../cnnc.h"

#include <ctype.h>
#include <string.h>
#include <tgmath.h>

enum { ALPHA, BETA, GAMMA, N_ATTRS };
static const char *const attr_names[N_ATTRS] = {"alpha", "beta", "gamma"};

typedef struct RealFormula {
  const char *text;
  float (*fold_float)(float x, float alpha, float beta, float gamma);
  double (*fold_double)(double x, double alpha, double beta, double gamma);
} RealFormula;

typedef struct IntFormula {
  const char *text;
  int64_t (*fold_int)(int64_t x);    /* signed types, computed in 64 bits and wrapped when stored */
  uint64_t (*fold_uint)(uint64_t x); /* unsigned types */
} IntFormula;

/* Formulas for float and double. */
#define REAL_FORMULAS(X)                                                                                           \
  X(relu, x > 0 ? x : 0)                                                                                           \
  X(leaky_relu, x < 0 ? alpha * x : x)                                                                             \
  X(elu, x < 0 ? alpha * (exp(x) - 1) : x)                                                                         \
  X(selu, x > 0 ? gamma * x : gamma * (alpha * exp(x) - alpha))                                                    \
  X(celu, x > 0 ? x : alpha * (exp(x / alpha) - 1))                                                                \
  X(thresholded_relu, x > alpha ? x : 0)                                                                           \
  X(sigmoid, 1 / (1 + exp(-x)))                                                                                    \
  X(hard_sigmoid, fmax(0, fmin(1, alpha * x + beta)))                                                              \
  X(hard_swish, x * fmax(0, fmin(1, x / 6 + 0.5f)))                                                                \
  X(tanh, tanh(x))                                                                                                 \
  /* log(1 + exp(x)), without overflowing exp for large x */                                                       \
  X(softplus, x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)))                                                          \
  X(softsign, x / (1 + fabs(x)))                                                                                   \
  X(neg, -x)                                                                                                       \
  X(abs, fabs(x))                                                                                                  \
  X(exp, exp(x))                                                                                                   \
  X(log, log(x))                                                                                                   \
  X(sqrt, sqrt(x))                                                                                                 \
  X(reciprocal, 1 / x)                                                                                             \
  X(floor, floor(x))                                                                                               \
  X(ceil, ceil(x))                                                                                                 \
  /* NaN stays NaN, as numpy.sign has it */                                                                        \
  X(sign, x > 0 ? 1 : x < 0 ? -1 : x)                                                                              \
  X(erf, erf(x))                                                                                                   \
  X(gelu, 0.5f * x * (1 + erf(x * sqrt1_2)))                                                                       \
  /* Gelu with approximate = "tanh" */                                                                             \
  X(gelu_tanh, 0.5f * x * (1 + tanh(sqrt_2_over_pi * (x + gelu_cubic * x * x * x))))                               \
  /* x * tanh(softplus(x)), softplus written as for Softplus */                                                    \
  X(mish, x * tanh(x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))))

/* Formulas for the integer types an op accepts (none where the op is float-only). Unsigned types get their
 * own, since comparing them with 0 draws -Wtype-limits. */
#define SIGNED_FORMULAS(X)                                                                                         \
  X(relu, x > 0 ? x : 0)                                                                                           \
  X(neg, -x)                                                                                                       \
  X(abs, x < 0 ? -x : x)                                                                                           \
  X(sign, (x > 0) - (x < 0))
#define UNSIGNED_FORMULAS(X)                                                                                       \
  X(abs, x)                                                                                                        \
  X(sign, x > 0)

/* The named constants formulas may use, declared in the element type in folds and generated code alike. */
#define NAMED_CONSTANTS(X)                                                                                         \
  X(sqrt1_2, 0.70710678118654752440)                                                                               \
  X(sqrt_2_over_pi, 0.79788456080286535588)                                                                        \
  X(gelu_cubic, 0.044715)

#define DECLARE_CONSTANT(T, name, value) const T name = (T)value;
#define DECLARE_FLOAT(name, value) DECLARE_CONSTANT(float, name, value) (void)name;
#define DECLARE_DOUBLE(name, value) DECLARE_CONSTANT(double, name, value) (void)name;

#define X(sym, formula)                                                                                            \
  static float sym##_float(float x, float alpha, float beta, float gamma) {                                         \
    (void)alpha, (void)beta, (void)gamma;                                                                          \
    NAMED_CONSTANTS(DECLARE_FLOAT)                                                                                 \
    return formula;                                                                                                \
  }                                                                                                                \
  static double sym##_double(double x, double alpha, double beta, double gamma) {                                  \
    (void)alpha, (void)beta, (void)gamma;                                                                          \
    NAMED_CONSTANTS(DECLARE_DOUBLE)                                                                                \
    return formula;                                                                                                \
  }                                                                                                                \
  static const RealFormula sym##_real = {#formula, sym##_float, sym##_double};
REAL_FORMULAS(X)
#undef X

#define X(sym, formula)                                                                                            \
  static int64_t sym##_int(int64_t x) { return formula; }
SIGNED_FORMULAS(X)
#undef X
#define X(sym, formula)                                                                                            \
  static uint64_t sym##_uint(uint64_t x) { return formula; }
UNSIGNED_FORMULAS(X)
#undef X

#define X(sym, formula) static const IntFormula sym##_signed = {#formula, sym##_int, NULL};
SIGNED_FORMULAS(X)
#undef X
#define X(sym, formula) static const IntFormula sym##_unsigned = {#formula, NULL, sym##_uint};
UNSIGNED_FORMULAS(X)
#undef X

typedef struct UnaryRow {
  OpKind kind;
  const char *approximate; /* Gelu: the value of its `approximate` attribute this row computes */
  struct {
    bool used; /* the formula reads it, so the op has this attribute */
    float dflt;
  } attr[N_ATTRS];
  const RealFormula *real;
  const IntFormula *sint, *uint; /* NULL: the op rejects that kind of integer */
} UnaryRow;

static const UnaryRow rows[] = {
    {.kind = OP_RELU, .real = &relu_real, .sint = &relu_signed},
    {.kind = OP_LEAKY_RELU, .attr[ALPHA] = {true, 0.01f}, .real = &leaky_relu_real},
    {.kind = OP_ELU, .attr[ALPHA] = {true, 1.0f}, .real = &elu_real},
    {.kind = OP_SELU, .attr[ALPHA] = {true, 1.67326319217681884765625f},
     .attr[GAMMA] = {true, 1.05070102214813232421875f}, .real = &selu_real},
    {.kind = OP_CELU, .attr[ALPHA] = {true, 1.0f}, .real = &celu_real},
    {.kind = OP_THRESHOLDED_RELU, .attr[ALPHA] = {true, 1.0f}, .real = &thresholded_relu_real},
    {.kind = OP_SIGMOID, .real = &sigmoid_real},
    {.kind = OP_HARD_SIGMOID, .attr[ALPHA] = {true, 0.2f}, .attr[BETA] = {true, 0.5f}, .real = &hard_sigmoid_real},
    {.kind = OP_HARD_SWISH, .real = &hard_swish_real},
    {.kind = OP_TANH, .real = &tanh_real},
    {.kind = OP_SOFTPLUS, .real = &softplus_real},
    {.kind = OP_SOFTSIGN, .real = &softsign_real},
    {.kind = OP_NEG, .real = &neg_real, .sint = &neg_signed},
    {.kind = OP_ABS, .real = &abs_real, .sint = &abs_signed, .uint = &abs_unsigned},
    {.kind = OP_EXP, .real = &exp_real},
    {.kind = OP_LOG, .real = &log_real},
    {.kind = OP_SQRT, .real = &sqrt_real},
    {.kind = OP_RECIPROCAL, .real = &reciprocal_real},
    {.kind = OP_FLOOR, .real = &floor_real},
    {.kind = OP_CEIL, .real = &ceil_real},
    {.kind = OP_SIGN, .real = &sign_real, .sint = &sign_signed, .uint = &sign_unsigned},
    {.kind = OP_ERF, .real = &erf_real},
    {.kind = OP_GELU, .approximate = "none", .real = &gelu_real},
    {.kind = OP_GELU, .approximate = "tanh", .real = &gelu_tanh_real},
    {.kind = OP_MISH, .real = &mish_real},
};

typedef struct UnaryParams {
  const UnaryRow *row;
  float attr[N_ATTRS];
} UnaryParams;

/* The first row of an op; fusable activations have only one. */
static const UnaryRow *row_of_kind(OpKind kind) {
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
    if (rows[r].kind == kind)
      return &rows[r];
  cn_unreachable();
}

static const UnaryRow *find_row(const Node *n) {
  const char *approximate = n->op->kind == OP_GELU ? attr_string(n, "approximate", "none") : NULL;
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
    if (rows[r].kind == n->op->kind && (!approximate || strcmp(rows[r].approximate, approximate) == 0))
      return &rows[r];
  cn_error_node(n, "approximate = '%s'; Gelu computes 'none' (erf) or 'tanh'", cn_escape_c_string(approximate, 40));
}

static const IntFormula *int_formula(const UnaryRow *row, DType t) {
  return scalar_kind(t) == SCALAR_UINT ? row->uint : row->sint;
}

static void unary_infer(Graph *g, Node *n) {
  (void)g;
  UnaryParams *p = cn_alloc(sizeof *p);
  p->row = find_row(n);
  DType t = n->in[0]->dtype;
  bool accepted = dtype_is_float(t) || (t != DT_BOOL && int_formula(p->row, t));
  if (!accepted)
    cn_error_node(n, "input 0 has element type %s; %s takes %s", dtype_name(t), n->op->name,
                  p->row->uint ? "numbers" : p->row->sint ? "float, double or signed integers" : "float or double");
  for (int a = 0; a < N_ATTRS; a++)
    if (p->row->attr[a].used)
      p->attr[a] = attr_float(n, attr_names[a], p->row->attr[a].dflt);
  n->params = p;
  infer_same_as_input(n, 0);
}

static void unary_fold(Graph *g, Node *n) {
  (void)g;
  const UnaryParams *p = n->params;
  const float *a = p->attr;
  Value *in = n->in[0], *out = n->out[0];
  for (int64_t i = 0; i < value_count(out); i++) {
    Scalar x = scalar_get(in, i), y;
    switch (scalar_kind(in->dtype)) {
    case SCALAR_FLOAT: y.f = p->row->real->fold_float(x.f, a[ALPHA], a[BETA], a[GAMMA]); break;
    case SCALAR_DOUBLE: y.d = p->row->real->fold_double(x.d, a[ALPHA], a[BETA], a[GAMMA]); break;
    case SCALAR_INT: y.i = p->row->sint->fold_int(x.i); break;
    case SCALAR_UINT: y.u = p->row->uint->fold_uint(x.u); break;
    }
    scalar_set(out, i, y);
  }
}

/* The formula as C for element type t: for float, every function it calls becomes the f-suffixed one. With
 * `names`, the variables x, alpha, beta and gamma become names[0..3] (a NULL entry keeps the variable). */
static char *formula_for(const char *text, DType t, const char *const *names) {
  static const char *const variables[] = {"x", "alpha", "beta", "gamma"};
  char *s = cn_strdup("");
  for (const char *p = text; *p;) {
    const char *start = p;
    if (isalpha((unsigned char)*p) || *p == '_') {
      while (isalnum((unsigned char)*p) || *p == '_')
        p++;
      const char *next = p;
      while (*next == ' ')
        next++;
      bool call = *next == '(';
      const char *word = cn_strndup(start, (size_t)(p - start));
      for (int v = 0; names && !call && v < 4; v++)
        if (names[v] && strcmp(word, variables[v]) == 0)
          word = names[v];
      s = cn_format("%s%s%s", s, word, call && t == DT_FLOAT ? "f" : "");
    } else if (isdigit((unsigned char)*p) || *p == '.') {
      /* a number, with any suffix it has (0.5f) */
      while (isalnum((unsigned char)*p) || *p == '.')
        p++;
      s = cn_format("%s%.*s", s, (int)(p - start), start);
    } else {
      s = cn_format("%s%c", s, *p++);
    }
  }
  return s;
}

/* The element-wise ops an anchor can apply as its activation (epilogue fusion), and the ActKind of each. */
static const struct {
  OpKind op;
  ActKind act;
} activations[] = {
    {OP_RELU, ACT_RELU},       {OP_LEAKY_RELU, ACT_LEAKY_RELU}, {OP_SIGMOID, ACT_SIGMOID},
    {OP_HARD_SIGMOID, ACT_HARD_SIGMOID}, {OP_HARD_SWISH, ACT_HARD_SWISH}, {OP_TANH, ACT_TANH},
};

bool unary_activation(const Node *n, Activation *act) {
  const UnaryParams *p = n->params;
  for (size_t k = 0; k < sizeof activations / sizeof activations[0]; k++)
    if (activations[k].op == n->op->kind && p && dtype_is_float(n->in[0]->dtype)) {
      *act = (Activation){activations[k].act, p->attr[ALPHA], p->attr[BETA]};
      return true;
    }
  return false;
}

char *unary_activation_expr(const Activation *act, DType t, const char *x) {
  for (size_t k = 0; k < sizeof activations / sizeof activations[0]; k++)
    if (activations[k].act == act->kind) {
      const char *names[4] = {x, emit_float(act->alpha, t), emit_float(act->beta, t), NULL};
      return cn_format("(%s)", formula_for(row_of_kind(activations[k].op)->real->text, t, names));
    }
  cn_unreachable();
}

static void unary_emit(Emitter *e, const Node *n) {
  const UnaryParams *p = n->params;
  const Value *in = n->in[0], *out = n->out[0];
  DType t = in->dtype;
  const char *T = dtype_ctype(t);
  for (int a = 0; a < N_ATTRS; a++)
    if (p->row->attr[a].used)
      emitf(e, "const %s %s = %s;", T, attr_names[a], emit_float(p->attr[a], t));
  const char *text = dtype_is_float(t) ? p->row->real->text : int_formula(p->row, t)->text;
#define EMIT_CONSTANT(name, value)                                                                                 \
  if (strstr(text, #name))                                                                                         \
    emitf(e, "const %s %s = %s;", T, #name, emit_float(value, t));
  NAMED_CONSTANTS(EMIT_CONSTANT)
#undef EMIT_CONSTANT
  char *in_index, *out_index;
  int loops = emit_elementwise_loops(e, out, 1, &in, &in_index, &out_index);
  emitf(e, "const %s x = %s[%s];", T, emit_in(n, 0), in_index);
  emitf(e, "%s[%s] = %s;", emit_out(n, 0), out_index, formula_for(text, t, NULL));
  emit_close(e, loops);
}

/* On SIMD targets the activations simd_math.h has run as templates/eltwise_unary.c (eltwise_simd.c). */
static bool unary_simd(Graph *g, Node *n, Target t, Layout *in_layout, Layout *out_layout) {
  (void)g;
  const UnaryParams *p = n->params;
  Activation act = {.alpha = p->attr[ALPHA], .beta = p->attr[BETA]};
  switch (p->row->kind) {
  case OP_RELU: act.kind = ACT_RELU; break;
  case OP_LEAKY_RELU: act.kind = ACT_LEAKY_RELU; break;
  case OP_SIGMOID: act.kind = ACT_SIGMOID; break;
  case OP_HARD_SIGMOID: act.kind = ACT_HARD_SIGMOID; break;
  case OP_HARD_SWISH: act.kind = ACT_HARD_SWISH; break;
  case OP_TANH: act.kind = ACT_TANH; break;
  default: return false;
  }
  return eltwise_unary_simd(n, t, &act, in_layout, out_layout);
}

/* Gradients: dx as C in terms of dy and either the input x or the output y, as PyTorch's backward formulas. The
 * output is used where it determines the gradient, so that the input need not be kept (and the op can fuse
 * into the node before it). Ops without a row (Floor, Sign, ...) are not differentiable here. */
typedef struct GradRow {
  OpKind kind;
  char saved; /* 'x', 'y', or 0 when dy alone gives dx */
  const char *text;
} GradRow;

static const GradRow grad_rows[] = {
    {OP_RELU, 'y', "y > 0 ? dy : 0"},
    {OP_LEAKY_RELU, 'x', "x > 0 ? dy : alpha * dy"},
    {OP_ELU, 'x', "x > 0 ? dy : dy * alpha * exp(x)"},
    {OP_SELU, 'x', "x > 0 ? gamma * dy : dy * gamma * alpha * exp(x)"},
    {OP_CELU, 'x', "x > 0 ? dy : dy * exp(x / alpha)"},
    {OP_SIGMOID, 'y', "dy * (1 - y) * y"},
    {OP_HARD_SIGMOID, 'x', "alpha * x + beta > 0 && alpha * x + beta < 1 ? alpha * dy : 0"},
    {OP_HARD_SWISH, 'x', "x < -3 ? 0 : x <= 3 ? dy * (x / 3 + 0.5f) : dy"},
    {OP_TANH, 'y', "dy * (1 - y * y)"},
    {OP_SOFTPLUS, 'x', "dy / (1 + exp(-x))"},
    {OP_SOFTSIGN, 'x', "dy / ((1 + fabs(x)) * (1 + fabs(x)))"},
    {OP_NEG, 0, "-dy"},
    {OP_ABS, 'x', "x > 0 ? dy : x < 0 ? -dy : 0"},
    {OP_EXP, 'y', "dy * y"},
    {OP_LOG, 'x', "dy / x"},
    {OP_SQRT, 'y', "dy / (2 * y)"},
    {OP_RECIPROCAL, 'y', "-dy * y * y"},
};

typedef struct UnaryGradParams {
  const GradRow *row;
  float attr[N_ATTRS];
} UnaryGradParams;

static void unary_grad(Graph *g, Node *n, Value *const *dy, Value **dx) {
  const UnaryParams *p = n->params;
  /* a Relu before a MaxPool whose windows tile: the pool's gradient kernel applies the Relu's too */
  if (n->op->kind == OP_RELU && dy[0]->producer && pool_grad_absorb_relu(dy[0]->producer, n->out[0])) {
    dx[0] = dy[0];
    return;
  }
  const GradRow *row = NULL;
  for (size_t r = 0; r < sizeof grad_rows / sizeof grad_rows[0]; r++)
    if (grad_rows[r].kind == n->op->kind)
      row = &grad_rows[r];
  CN_ASSERT(row);
  Value *ins[2] = {dy[0], row->saved == 'x' ? n->in[0] : n->out[0]};
  Node *b = bw_node(g, n, OP_UNARY_GRAD, row->saved ? 2 : 1, ins, 1);
  UnaryGradParams *q = cn_alloc(sizeof *q);
  q->row = row;
  memcpy(q->attr, p->attr, sizeof q->attr);
  b->params = q;
  dx[0] = bw_finish(g, b);
}

/* UnaryGrad(dy, x or y) -> dx, for the forward op whose row unary_grad presets. */
static void unary_grad_infer(Graph *g, Node *n) {
  (void)g;
  const UnaryGradParams *p = n->params;
  CN_ASSERT(p && dtype_is_float(n->in[0]->dtype));
  infer_same_as_input(n, 0);
}

static void unary_grad_emit(Emitter *e, const Node *n) {
  const UnaryGradParams *p = n->params;
  const Value *out = n->out[0];
  DType t = out->dtype;
  const char *T = dtype_ctype(t);
  const UnaryRow *row = row_of_kind(p->row->kind);
  for (int a = 0; a < N_ATTRS; a++)
    if (row->attr[a].used)
      emitf(e, "const %s %s = %s;", T, attr_names[a], emit_float(p->attr[a], t));
  char *in_index[2], *out_index;
  int loops = emit_elementwise_loops(e, out, n->n_in, (const Value *const *)n->in, in_index, &out_index);
  emitf(e, "const %s dy = X0[%s];", T, in_index[0]);
  if (p->row->saved)
    emitf(e, "const %s %c = X1[%s];", T, p->row->saved, in_index[1]);
  emitf(e, "Y0[%s] = %s;", out_index, formula_for(p->row->text, t, NULL));
  emit_close(e, loops);
}

const OpDesc op_unary_grad = {
    .kind = OP_UNARY_GRAD, .name = "UnaryGrad", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = unary_grad_infer, .emit = unary_grad_emit, .internal = true,
};

#define UNARY_OP(sym, ID, onnx_name, grad_hook)                                                                    \
  const OpDesc op_##sym = {                                                                                        \
      .kind = OP_##ID, .name = onnx_name, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,                    \
      .infer = unary_infer, .fold = unary_fold, .emit = unary_emit, .grad = grad_hook, .simd = unary_simd,       \
      .emit_simd = eltwise_unary_emit,                                                                             \
  };
UNARY_OP(relu, RELU, "Relu", unary_grad)
UNARY_OP(leaky_relu, LEAKY_RELU, "LeakyRelu", unary_grad)
UNARY_OP(elu, ELU, "Elu", unary_grad)
UNARY_OP(selu, SELU, "Selu", unary_grad)
UNARY_OP(celu, CELU, "Celu", unary_grad)
UNARY_OP(thresholded_relu, THRESHOLDED_RELU, "ThresholdedRelu", NULL)
UNARY_OP(sigmoid, SIGMOID, "Sigmoid", unary_grad)
UNARY_OP(hard_sigmoid, HARD_SIGMOID, "HardSigmoid", unary_grad)
UNARY_OP(hard_swish, HARD_SWISH, "HardSwish", unary_grad)
UNARY_OP(tanh, TANH, "Tanh", unary_grad)
UNARY_OP(softplus, SOFTPLUS, "Softplus", unary_grad)
UNARY_OP(softsign, SOFTSIGN, "Softsign", unary_grad)
UNARY_OP(neg, NEG, "Neg", unary_grad)
UNARY_OP(abs, ABS, "Abs", unary_grad)
UNARY_OP(exp, EXP, "Exp", unary_grad)
UNARY_OP(log, LOG, "Log", unary_grad)
UNARY_OP(sqrt, SQRT, "Sqrt", unary_grad)
UNARY_OP(reciprocal, RECIPROCAL, "Reciprocal", unary_grad)
UNARY_OP(floor, FLOOR, "Floor", NULL)
UNARY_OP(ceil, CEIL, "Ceil", NULL)
UNARY_OP(sign, SIGN, "Sign", NULL)
UNARY_OP(erf, ERF, "Erf", NULL)
UNARY_OP(gelu, GELU, "Gelu", NULL)
UNARY_OP(mish, MISH, "Mish", NULL)
