/* Template instantiation. A kernel template (templates/<kernel>.c) is real C written against templates/simd.h,
 * with every dimension, stride, pad and tile size a macro. An instance is, in the generated file:
 *
 *   / * conv_pointwise.c for node 7 * /
 *   #define FN node7_conv_kernel          parameters: tpl_int, tpl_define
 *   #define ICB 4
 *   #define TILE(X) X(0,0) X(0,1) ...     the register tile, unrolled: tpl_list, tpl_tile
 *   ... the template's text ...
 *   #undef FN                             every parameter, so the next instance starts clean
 *
 * so each loop has constant bounds, the register tile is straight-line code, and the code per layer is bounded
 * by the template's size. The node's function calls FN; the instance goes right before it (Emitter.kernels). */
#include "cnnc.h"

#include <math.h>
#include <string.h>

extern const struct EmbeddedFile cn_templates[];
extern const size_t cn_templates_count;

struct Instance {
  FILE *out;
  const char *file;
  char **names; /* defined so far, for the #undefs */
  int n_names, cap_names;
};

const char *template_text(const char *file, size_t *size) {
  for (size_t i = 0; i < cn_templates_count; i++)
    if (strcmp(cn_templates[i].name, file) == 0) {
      *size = cn_templates[i].size;
      return (const char *)cn_templates[i].data;
    }
  cn_internal(__FILE__, __LINE__, cn_format("no template '%s' embedded", file));
}

/* The macro's name without its parameter list, for #undef. */
static void remember(Instance *t, const char *name) {
  if (t->n_names == t->cap_names) {
    t->cap_names = t->cap_names ? 2 * t->cap_names : 32;
    char **grown = cn_alloc_array((size_t)t->cap_names, sizeof *grown);
    if (t->n_names)
      memcpy(grown, t->names, (size_t)t->n_names * sizeof *grown);
    t->names = grown;
  }
  t->names[t->n_names++] = cn_strndup(name, strcspn(name, "("));
}

Instance *tpl_begin(Emitter *e, const char *template_file, const char *fn) {
  CN_ASSERT(e->kernels);
  Instance *t = cn_alloc(sizeof *t);
  e->used_templates = true;
  t->out = e->kernels;
  t->file = template_file;
  size_t size;
  template_text(template_file, &size); /* fails early on a missing template */
  fprintf(t->out, "/* Instance of templates/%s */\n", template_file);
  tpl_define(t, "FN", "%s", fn);
  return t;
}

void tpl_int(Instance *t, const char *name, int64_t value) { tpl_define(t, name, "%lld", (long long)value); }

void tpl_define(Instance *t, const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(t->out, "#define %s ", name);
  vfprintf(t->out, fmt, ap);
  fputc('\n', t->out);
  va_end(ap);
  remember(t, name);
}

void tpl_list(Instance *t, const char *name, int n) {
  fprintf(t->out, "#define %s(X)", name);
  for (int i = 0; i < n; i++)
    fprintf(t->out, " X(%d)", i);
  fputc('\n', t->out);
  remember(t, name);
}

void tpl_tile(Instance *t, const char *name, int rows, int cols) {
  fprintf(t->out, "#define %s(X)", name);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      fprintf(t->out, " X(%d,%d)", r, c);
  fputc('\n', t->out);
  remember(t, name);
}

void tpl_activation(Instance *t, const char *name, const Activation *a) {
  char *macro = cn_format("%s(x)", name);
  switch (a->kind) {
  case ACT_NONE:
    tpl_define(t, macro, "(x)");
    break;
  case ACT_RELU:
    tpl_define(t, macro, "vrelu(x)");
    break;
  case ACT_LEAKY_RELU:
    tpl_define(t, macro, "vleaky_relu(x, %s)", emit_float(a->alpha, DT_FLOAT));
    break;
  case ACT_CLIP:
    tpl_define(t, macro, "vclip(x, %s, %s)", emit_float(a->alpha, DT_FLOAT), emit_float(a->beta, DT_FLOAT));
    break;
  case ACT_SIGMOID:
    tpl_define(t, macro, "vsigmoid(x)");
    break;
  case ACT_HARD_SIGMOID:
    tpl_define(t, macro, "vhard_sigmoid(x, %s, %s)", emit_float(a->alpha, DT_FLOAT), emit_float(a->beta, DT_FLOAT));
    break;
  case ACT_HARD_SWISH:
    tpl_define(t, macro, "vhard_swish(x)");
    break;
  case ACT_TANH:
    tpl_define(t, macro, "vtanh(x)");
    break;
  case ACT_SILU:
    tpl_define(t, macro, "vsilu(x)");
    break;
  }
}

/* The scalar value of an activation, to tell whether an epilogue keeps zero lanes zero. */
static double activation_apply(const Activation *a, double x) {
  switch (a->kind) {
  case ACT_NONE:
    return x;
  case ACT_RELU:
    return x > 0 ? x : 0;
  case ACT_LEAKY_RELU:
    return x < 0 ? a->alpha * x : x;
  case ACT_CLIP:
    return x < a->alpha ? a->alpha : x > a->beta ? a->beta : x;
  case ACT_SIGMOID:
    return 1 / (1 + exp(-x));
  case ACT_HARD_SIGMOID: {
    double y = a->alpha * x + a->beta;
    return y < 0 ? 0 : y > 1 ? 1 : y;
  }
  case ACT_HARD_SWISH: {
    double y = x / 6 + 0.5;
    return x * (y < 0 ? 0 : y > 1 ? 1 : y);
  }
  case ACT_TANH:
    return tanh(x);
  case ACT_SILU:
    return x / (1 + exp(-x));
  }
  cn_unreachable();
}

bool tpl_epilogue(Instance *t, const Fusion *f) {
  static const Activation none = {ACT_NONE, 0, 0};
  const Activation *act = f ? &f->act : &none, *post = f ? &f->post_act : &none;
  bool residual = f && f->residual >= 0;
  tpl_activation(t, "ACT", act);
  tpl_activation(t, "POST_ACT", post);
  if (residual)
    tpl_define(t, "EPILOGUE(acc, at)", "POST_ACT(vadd(ACT(acc), vload(res + (at))))");
  else
    tpl_define(t, "EPILOGUE(acc, at)", "ACT(acc)");
  /* a padded lane accumulates 0 and its residual is 0 */
  double pad = activation_apply(act, 0);
  if (residual)
    pad = activation_apply(post, pad);
  return pad != 0;
}

void tpl_end(Instance *t) {
  size_t size;
  const char *text = template_text(t->file, &size);
  fwrite(text, 1, size, t->out);
  if (size && text[size - 1] != '\n')
    fputc('\n', t->out);
  for (int i = 0; i < t->n_names; i++)
    fprintf(t->out, "#undef %s\n", t->names[i]);
  fputc('\n', t->out);
}
