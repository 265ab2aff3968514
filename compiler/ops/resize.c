/* Resize (opsets 10, 11, 13) and Upsample (opsets 7, 9).
 *
 * Every output coordinate along an axis reads a few input coordinates ("taps") with fixed weights: 2 for
 * linear, 4 for cubic, and for nearest 2 of which one gets all the weight. All of it depends only on
 * shapes and attributes, so it is computed here, at compile time, following the ONNX reference
 * implementation step by step: map the output coordinate x to a source coordinate x_ori, take the n
 * integer neighbours nearest to x_ori in the edge-padded input, and weight them by the mode's
 * coefficients. The generated code then only reads tables: per axis, the taps' offsets into the input
 * (index times stride) and their weights. Axes that keep every coordinate need no table, and axes where
 * each output copies one input coordinate need no weights, so nearest resizing is a plain gather. */
#include "../cnnc.h"

#include <math.h>
#include <string.h>

/* The tables are printed into the generated code: an axis longer than this (a million outputs, far beyond any
 * image) would make a source file of gigabytes, so it is an error rather than a compile that never ends. */
#define RESIZE_MAX_AXIS_OUTPUTS ((int64_t)1 << 20)

typedef enum InterpMode { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC } InterpMode;

typedef enum CoordMode {
  COORD_HALF_PIXEL,
  COORD_PYTORCH_HALF_PIXEL,
  COORD_ALIGN_CORNERS,
  COORD_ASYMMETRIC,
  COORD_TF_HALF_PIXEL, /* tf_half_pixel_for_nn */
  COORD_TF_CROP_AND_RESIZE,
} CoordMode;

typedef enum NearestMode {
  NEAREST_ROUND_PREFER_FLOOR,
  NEAREST_ROUND_PREFER_CEIL,
  NEAREST_FLOOR,
  NEAREST_CEIL,
  /* Upsample and Resize-10 have no nearest_mode; like onnxruntime, round down when enlarging, up when shrinking */
  NEAREST_LEGACY,
} NearestMode;

/* What the attributes and constant inputs ask for. */
typedef struct ResizeSpec {
  InterpMode mode;
  CoordMode coord;
  NearestMode nearest;
  double cubic_a;
  bool exclude_outside;
  double extrapolation; /* tf_crop_and_resize: value of output points whose source lies outside the input */
  double scale[CN_MAX_RANK];
  int64_t out[CN_MAX_RANK];
  double roi_start[CN_MAX_RANK], roi_end[CN_MAX_RANK];
} ResizeSpec;

/* How one axis is read; `taps` == 0 means output coordinate x reads input coordinate x. */
typedef struct AxisTable {
  int taps;
  int64_t *offset; /* [out][taps]: input index times the axis's stride */
  double *weight;  /* [out][taps]; NULL when each output copies one input coordinate (taps == 1) */
  bool *outside;   /* [out]: source outside the input (tf_crop_and_resize); NULL when none is */
} AxisTable;

typedef struct ResizeParams {
  AxisTable axis[CN_MAX_RANK];
  double extrapolation;
} ResizeParams;

/* The source coordinate of output coordinate x along an axis of `len` input elements. As in the reference,
 * the output length in these formulas is scale * len, not the rounded output size. */
static double source_coordinate(const ResizeSpec *s, int axis, int64_t x, int64_t len) {
  double scale = s->scale[axis], out_len = scale * (double)len;
  switch (s->coord) {
  case COORD_HALF_PIXEL: return ((double)x + 0.5) / scale - 0.5;
  case COORD_PYTORCH_HALF_PIXEL: return out_len == 1 ? -0.5 : ((double)x + 0.5) / scale - 0.5;
  case COORD_ALIGN_CORNERS: return out_len == 1 ? 0 : (double)x * (double)(len - 1) / (out_len - 1);
  case COORD_ASYMMETRIC: return (double)x / scale;
  case COORD_TF_HALF_PIXEL: return ((double)x + 0.5) / scale;
  case COORD_TF_CROP_AND_RESIZE: {
    double start = s->roi_start[axis], end = s->roi_end[axis];
    if (out_len == 1)
      return (end - start) * (double)(len - 1) / 2 + start * (double)(len - 1);
    return (double)x * (end - start) * (double)(len - 1) / (out_len - 1) + start * (double)(len - 1);
  }
  }
  cn_unreachable();
}

/* Weights of the taps floor(x_ori) - n/2 + 1 ... floor(x_ori) + n/2, where `ratio` is x_ori minus the tap
 * just left of it, in (0, 1] (an integral x_ori counts as ratio 1 from the tap before it). */
static int coefficients(const ResizeSpec *s, int axis, double ratio, double *c) {
  switch (s->mode) {
  case MODE_NEAREST: {
    bool right; /* take the tap right of x_ori */
    if (ratio == 1) {
      right = true;
    } else {
      switch (s->nearest) {
      case NEAREST_ROUND_PREFER_FLOOR: right = ratio > 0.5; break;
      case NEAREST_ROUND_PREFER_CEIL: right = ratio >= 0.5; break;
      case NEAREST_FLOOR: right = false; break;
      case NEAREST_CEIL: right = true; break;
      case NEAREST_LEGACY: right = s->scale[axis] < 1; break;
      default: cn_unreachable();
      }
    }
    c[0] = right ? 0 : 1;
    c[1] = right ? 1 : 0;
    return 2;
  }
  case MODE_LINEAR:
    c[0] = 1 - ratio;
    c[1] = ratio;
    return 2;
  case MODE_CUBIC: {
    /* Keys' cubic convolution with parameter A at distances 1 + ratio, ratio, 1 - ratio, 2 - ratio */
    double A = s->cubic_a, r = ratio, q = 1 - ratio;
    c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
    c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
    c[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
    c[3] = ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A;
    return 4;
  }
  }
  cn_unreachable();
}

/* The tap that carries all the weight (1, the others 0), or -1. */
static int single_tap(const double *weight, int taps) {
  int found = -1;
  for (int k = 0; k < taps; k++) {
    if (weight[k] == 0)
      continue;
    if (weight[k] != 1 || found >= 0)
      return -1;
    found = k;
  }
  return found;
}

/* The taps of every output coordinate along one axis, reduced to a gather or to nothing where possible. */
static AxisTable plan_axis(const ResizeSpec *s, int axis, int64_t len, int64_t stride) {
  int64_t out = s->out[axis];
  AxisTable t = {.taps = s->mode == MODE_CUBIC ? 4 : 2};
  t.offset = cn_alloc_array((size_t)(out * t.taps), sizeof *t.offset);
  t.weight = cn_alloc_array((size_t)(out * t.taps), sizeof *t.weight);
  t.outside = cn_alloc_array((size_t)out, sizeof *t.outside);
  bool any_outside = false;
  for (int64_t x = 0; x < out; x++) {
    int64_t *offset = t.offset + x * t.taps;
    double *weight = t.weight + x * t.taps;
    double x_ori = source_coordinate(s, axis, x, len);
    if (s->coord == COORD_TF_CROP_AND_RESIZE && (x_ori < 0 || x_ori > (double)(len - 1))) {
      t.outside[x] = any_outside = true;
      weight[0] = 1; /* never read: the output is the extrapolation value */
      continue;
    }
    double left = floor(x_ori);
    double ratio = x_ori == left ? 1 : x_ori - left;
    if (ratio == 1)
      left -= 1;
    int n = coefficients(s, axis, ratio, weight);
    /* The reference pads the input with n/2 copies of each edge element and takes the n elements nearest
     * to x_ori; near and past the edges, that window stops at the padding's end. */
    int64_t first = (int64_t)left - n / 2 + 1;
    if (first < -n / 2)
      first = -n / 2;
    if (first > len + n / 2 - n)
      first = len + n / 2 - n;
    double sum = 0;
    for (int k = 0; k < n; k++) {
      int64_t i = first + k;
      if (s->exclude_outside && (i < 0 || i >= len))
        weight[k] = 0;
      sum += weight[k];
      offset[k] = (i < 0 ? 0 : i >= len ? len - 1 : i) * stride;
    }
    if (s->exclude_outside)
      for (int k = 0; k < n; k++)
        weight[k] /= sum;
  }
  if (!any_outside)
    t.outside = NULL;

  /* Where every output copies one input coordinate, keep only the offsets of the copied taps. */
  for (int64_t x = 0; x < out; x++)
    if (single_tap(t.weight + x * t.taps, t.taps) < 0)
      return t;
  bool identity = out == len && !any_outside;
  for (int64_t x = 0; x < out; x++) {
    t.offset[x] = t.offset[x * t.taps + single_tap(t.weight + x * t.taps, t.taps)];
    identity = identity && t.offset[x] == x * stride;
  }
  t.taps = identity ? 0 : 1;
  t.weight = NULL;
  return t;
}

/* Computes the tables and the output shape from a filled spec. */
static void plan_resize(Node *n, const ResizeSpec *s) {
  Value *x = n->in[0];
  if (s->mode != MODE_NEAREST && !dtype_is_float(x->dtype))
    cn_error_node(n, "%s interpolation needs float or double input; got %s",
                  s->mode == MODE_LINEAR ? "linear" : "cubic", dtype_name(x->dtype));
  /* the output's size is checked against the limits before any table is sized by it */
  value_set_shape(n->out[0], n, x->dtype, x->rank, s->out);
  ResizeParams *p = cn_alloc(sizeof *p);
  p->extrapolation = s->extrapolation;
  int64_t strides[CN_MAX_RANK];
  shape_strides(x->rank, x->dims, strides);
  for (int a = 0; a < x->rank; a++) {
    if (s->out[a] > 0 && x->dims[a] == 0)
      cn_error_node(n, "cannot resize the empty axis %d of %s to %lld", a, value_shape_string(x),
                    (long long)s->out[a]);
    if (s->out[a] > RESIZE_MAX_AXIS_OUTPUTS)
      cn_error_node(n, "axis %d has %lld outputs; cnnc resizes axes of at most %lld", a,
                    (long long)s->out[a], (long long)RESIZE_MAX_AXIS_OUTPUTS);
    p->axis[a] = plan_axis(s, a, x->dims[a], strides[a]);
  }
  n->params = p;
}

static void check_length(const Node *n, const Value *v, const char *what, int64_t expected) {
  if (v->rank != 1 || value_count(v) != expected)
    cn_error_node(n, "%s has shape %s; expected [%lld] for an input of rank %d", what, value_shape_string(v),
                  (long long)expected, n->in[0]->rank);
}

/* Output sizes from scales: floor(scale * input size), as the reference computes it. */
static void sizes_from_scales(const Node *n, ResizeSpec *s, const double *scales) {
  Value *x = n->in[0];
  for (int a = 0; a < x->rank; a++) {
    if (!(scales[a] > 0) || !isfinite(scales[a]))
      cn_error_node(n, "scales[%d] is %g; scales must be positive", a, scales[a]);
    s->scale[a] = scales[a];
    double size = floor(scales[a] * (double)x->dims[a]);
    if (size > (double)CN_MAX_TENSOR_BYTES)
      cn_error_node(n, "scales[%d] = %g makes axis %d too large", a, scales[a], a);
    s->out[a] = (int64_t)size;
  }
}

/* A constant scales input, checked to have one value per axis of X. */
static void read_scales(const Node *n, int i, double *scales) {
  Value *v = node_const_in(n, i, "scales");
  check_length(n, v, "scales", n->in[0]->rank);
  for (int a = 0; a < n->in[0]->rank; a++)
    scales[a] = value_get_double(v, a);
}

static InterpMode parse_mode(const Node *n, bool cubic_allowed) {
  const char *mode = attr_string(n, "mode", "nearest");
  if (strcmp(mode, "nearest") == 0)
    return MODE_NEAREST;
  if (strcmp(mode, "linear") == 0)
    return MODE_LINEAR;
  if (strcmp(mode, "cubic") == 0 && cubic_allowed)
    return MODE_CUBIC;
  cn_error_node(n, "mode '%s' is not supported; expected nearest, linear%s", cn_escape_c_string(mode, 40),
                cubic_allowed ? " or cubic" : "");
}

static CoordMode parse_coord(const Node *n) {
  static const struct {
    const char *name;
    CoordMode mode;
  } modes[] = {
      {"half_pixel", COORD_HALF_PIXEL},
      {"pytorch_half_pixel", COORD_PYTORCH_HALF_PIXEL},
      {"align_corners", COORD_ALIGN_CORNERS},
      {"asymmetric", COORD_ASYMMETRIC},
      {"tf_half_pixel_for_nn", COORD_TF_HALF_PIXEL},
      {"tf_crop_and_resize", COORD_TF_CROP_AND_RESIZE},
  };
  const char *name = attr_string(n, "coordinate_transformation_mode", "half_pixel");
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp(name, modes[i].name) == 0)
      return modes[i].mode;
  cn_error_node(n, "coordinate_transformation_mode '%s' is not supported", cn_escape_c_string(name, 40));
}

static NearestMode parse_nearest(const Node *n) {
  static const char *const names[] = {
      [NEAREST_ROUND_PREFER_FLOOR] = "round_prefer_floor",
      [NEAREST_ROUND_PREFER_CEIL] = "round_prefer_ceil",
      [NEAREST_FLOOR] = "floor",
      [NEAREST_CEIL] = "ceil",
  };
  const char *name = attr_string(n, "nearest_mode", "round_prefer_floor");
  for (int i = 0; i <= NEAREST_CEIL; i++)
    if (strcmp(name, names[i]) == 0)
      return (NearestMode)i;
  cn_error_node(n, "nearest_mode '%s' is not supported", cn_escape_c_string(name, 40));
}

static void resize_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  ResizeSpec s = {.coord = COORD_ASYMMETRIC, .nearest = NEAREST_LEGACY};
  if (g->opset < 11) {
    /* Resize-10: inputs X, scales; only the mode attribute */
    if (n->n_in != 2)
      cn_error_node(n, "Resize before opset 11 takes inputs X and scales; got %d inputs", n->n_in);
    s.mode = parse_mode(n, false);
    double scales[CN_MAX_RANK];
    read_scales(n, 1, scales);
    sizes_from_scales(n, &s, scales);
    plan_resize(n, &s);
    return;
  }
  s.mode = parse_mode(n, true);
  s.coord = parse_coord(n);
  s.nearest = parse_nearest(n);
  s.cubic_a = attr_float(n, "cubic_coeff_a", -0.75f);
  s.exclude_outside = attr_int(n, "exclude_outside", 0) != 0;
  s.extrapolation = attr_float(n, "extrapolation_value", 0.0f);

  /* Exactly one of scales and sizes; an empty scales tensor stands for an omitted one. */
  Value *scales = node_in(n, 2), *sizes = node_in(n, 3);
  if (scales && value_count(scales) == 0)
    scales = NULL;
  if (!scales == !sizes)
    cn_error_node(n, "exactly one of scales and sizes must be given");
  if (scales) {
    double values[CN_MAX_RANK];
    read_scales(n, 2, values);
    sizes_from_scales(n, &s, values);
  } else {
    node_const_in(n, 3, "sizes");
    check_length(n, sizes, "sizes", x->rank);
    for (int a = 0; a < x->rank; a++) {
      s.out[a] = value_get_int(sizes, a);
      if (s.out[a] <= 0)
        cn_error_node(n, "sizes[%d] is %lld; sizes must be positive", a, (long long)s.out[a]);
      /* the reference's scale for sizes */
      s.scale[a] = (double)s.out[a] / (double)x->dims[a];
    }
  }
  if (s.coord == COORD_TF_CROP_AND_RESIZE) {
    Value *roi = node_const_in(n, 1, "roi");
    check_length(n, roi, "roi", 2 * (int64_t)x->rank);
    for (int a = 0; a < x->rank; a++) {
      s.roi_start[a] = value_get_double(roi, a);
      s.roi_end[a] = value_get_double(roi, x->rank + a);
      if (!isfinite(s.roi_start[a]) || !isfinite(s.roi_end[a]))
        cn_error_node(n, "roi for axis %d is [%g, %g]; it must be finite", a, s.roi_start[a], s.roi_end[a]);
    }
  }
  plan_resize(n, &s);
}

static void upsample_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (g->opset < 7)
    cn_error_node(n, "Upsample before opset 7 (experimental, height_scale/width_scale) is not supported");
  ResizeSpec s = {.mode = parse_mode(n, false), .coord = COORD_ASYMMETRIC, .nearest = NEAREST_LEGACY};
  double scales[CN_MAX_RANK];
  if (g->opset < 9) {
    float *values;
    if (n->n_in != 1)
      cn_error_node(n, "Upsample before opset 9 takes only X; scales is an attribute");
    if (attr_floats(n, "scales", &values) != x->rank)
      cn_error_node(n, "the scales attribute must list %d values, one per axis of X", x->rank);
    for (int a = 0; a < x->rank; a++)
      scales[a] = values[a];
  } else {
    if (n->n_in != 2)
      cn_error_node(n, "Upsample from opset 9 takes inputs X and scales; got %d inputs", n->n_in);
    read_scales(n, 1, scales);
  }
  for (int a = 0; a < x->rank; a++)
    if (scales[a] < 1)
      cn_error_node(n, "scales[%d] is %g; Upsample scales must be at least 1", a, scales[a]);
  sizes_from_scales(n, &s, scales);
  plan_resize(n, &s);
}

/* Emits `static const type name[rows][cols]` (cols 0: one dimension) from per-element strings. */
static void emit_table(Emitter *e, const char *type, const char *name, int64_t rows, int cols,
                       char *(*item)(const void *, int64_t), const void *data) {
  if (cols == 0) {
    emitf(e, "static const %s %s[%lld] = {", type, name, (long long)rows);
    for (int64_t r = 0; r < rows; r += 16) {
      char *line = cn_strdup("");
      for (int64_t k = r; k < rows && k < r + 16; k++)
        line = cn_format("%s%s%s,", line, k > r ? " " : "", item(data, k));
      emitf(e, "%s", line);
    }
  } else {
    emitf(e, "static const %s %s[%lld][%d] = {", type, name, (long long)rows, cols);
    for (int64_t r = 0; r < rows; r++) {
      char *line = cn_strdup("{");
      for (int k = 0; k < cols; k++)
        line = cn_format("%s%s%s", line, k ? ", " : "", item(data, r * cols + k));
      emitf(e, "%s},", line);
    }
  }
  emitf(e, "};");
}

static char *offset_item(const void *data, int64_t i) {
  return cn_format("%lld", (long long)((const int64_t *)data)[i]);
}
static char *bool_item(const void *data, int64_t i) { return cn_strdup(((const bool *)data)[i] ? "1" : "0"); }
static char *float_item(const void *data, int64_t i) { return emit_float(((const double *)data)[i], DT_FLOAT); }
static char *double_item(const void *data, int64_t i) { return emit_float(((const double *)data)[i], DT_DOUBLE); }

static void resize_emit(Emitter *e, const Node *n) {
  const ResizeParams *p = n->params;
  Value *x = n->in[0], *y = n->out[0];
  DType t = y->dtype;
  const char *T = dtype_ctype(t);
  if (value_count(y) == 0) {
    emitf(e, "/* the output is empty */");
    return;
  }
  int64_t strides[CN_MAX_RANK];
  shape_strides(x->rank, x->dims, strides);
  char *source = cn_strdup(""), *weight = cn_strdup(""), *outside = cn_strdup("");
  int interpolated = 0; /* axes with weights */
  for (int a = 0; a < x->rank; a++) {
    const AxisTable *at = &p->axis[a];
    char *term = NULL; /* this axis's part of the input offset */
    if (at->taps == 0 && x->dims[a] > 1) {
      term = cn_format("i%d * %lld", a, (long long)strides[a]);
    } else if (at->taps == 1) {
      emitf(e, "/* axis %d: the input offset each output coordinate copies */", a);
      emit_table(e, "int64_t", cn_format("src%d", a), y->dims[a], 0, offset_item, at->offset);
      term = cn_format("src%d[i%d]", a, a);
    } else if (at->taps > 1) {
      emitf(e, "/* axis %d: input offsets of each output coordinate's taps, and their weights */", a);
      emit_table(e, "int64_t", cn_format("src%d", a), y->dims[a], at->taps, offset_item, at->offset);
      emit_table(e, T, cn_format("w%d", a), y->dims[a], at->taps, t == DT_DOUBLE ? double_item : float_item,
                 at->weight);
      term = cn_format("src%d[i%d][t%d]", a, a, a);
      weight = cn_format("%sw%d[i%d][t%d] * ", weight, a, a, a);
      interpolated++;
    }
    if (term)
      source = cn_format("%s%s%s", source, source[0] ? " + " : "", term);
    if (at->outside) {
      emitf(e, "/* axis %d: output coordinates whose source lies outside the input */", a);
      emit_table(e, "bool", cn_format("outside%d", a), y->dims[a], 0, bool_item, at->outside);
      outside = cn_format("%s%soutside%d[i%d]", outside, outside[0] ? " || " : "", a, a);
    }
  }
  const char *X = emit_in(n, 0);
  char *out = cn_format("%s[%s]", emit_out(n, 0), emit_broadcast_index(y->rank, y->rank, y->dims, "i"));
  char *in = cn_format("%s[%s]", X, source[0] ? source : "0");
  int loops = emit_loops(e, y->rank, y->dims, "i");
  if (outside[0]) {
    emitf(e, "if (%s) {", outside);
    char *value = dtype_is_float(t) ? emit_float(p->extrapolation, t) : cn_format("%lld", (long long)p->extrapolation);
    emitf(e, "%s = %s;", out, value);
    emitf(e, "continue;");
    emitf(e, "}");
  }
  if (interpolated == 0) {
    emitf(e, "%s = %s;", out, in);
  } else {
    emitf(e, "%s acc = 0;", T);
    for (int a = 0; a < x->rank; a++)
      if (p->axis[a].taps > 1)
        emitf(e, "for (int64_t t%d = 0; t%d < %d; t%d++) {", a, a, p->axis[a].taps, a);
    emitf(e, "acc += %s%s;", weight, in);
    emit_close(e, interpolated);
    emitf(e, "%s = acc;", out);
  }
  emit_close(e, loops);
}

const OpDesc op_resize = {
    .kind = OP_RESIZE, .name = "Resize", .min_in = 1, .max_in = 4, .min_out = 1, .max_out = 1,
    .infer = resize_infer, .emit = resize_emit,
};

const OpDesc op_upsample = {
    .kind = OP_UPSAMPLE, .name = "Upsample", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = upsample_infer, .emit = resize_emit,
};
