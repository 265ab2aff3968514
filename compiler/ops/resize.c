/* Resize (opsets 10, 11, 13, 18, 19) and Upsample (opsets 7, 9).
 *
 * Every output coordinate along an axis reads a few input coordinates ("taps") with fixed weights: 2 for
 * linear, 4 for cubic, and for nearest 2 of which one gets all the weight. All of it depends only on
 * shapes and attributes, so it is computed here, at compile time, following the ONNX reference
 * implementation step by step: map the output coordinate x to a source coordinate x_ori, take the n
 * integer neighbours nearest to x_ori in the edge-padded input, and weight them by the mode's
 * coefficients. The generated code then only reads tables: per axis, the taps' offsets into the input
 * (index times stride) and their weights. Axes that keep every coordinate need no table, and axes where
 * each output copies one input coordinate need no weights, so nearest resizing is a plain gather.
 *
 * Opset 18 added `axes` (scales, sizes and roi then list only those axes), `keep_aspect_ratio_policy` (sizes
 * bound the output while one scale keeps the aspect ratio) and `antialias`: when shrinking, the linear or cubic
 * filter is stretched by 1 / scale, so each output averages more taps. Opset 19 added the half_pixel_symmetric
 * coordinate mode. */
#include "../cnnc.h"

#include <math.h>
#include <string.h>

/* The tables are printed into the generated code: an axis longer than this (a million outputs, far beyond any
 * image) would make a source file of gigabytes, so it is an error rather than a compile that never ends. */
#define RESIZE_MAX_AXIS_OUTPUTS ((int64_t)1 << 20)
/* Antialiasing a large reduction gives each output many taps; the table of an axis holds at most this many. */
#define RESIZE_MAX_AXIS_TAPS ((int64_t)1 << 22)

typedef enum InterpMode { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC } InterpMode;

typedef enum CoordMode {
  COORD_HALF_PIXEL,
  COORD_HALF_PIXEL_SYMMETRIC,
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
  bool antialias;
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
  case COORD_HALF_PIXEL_SYMMETRIC: {
    /* centres the output on the input even when rounding made the output shorter than scale * len */
    double adjustment = (double)s->out[axis] / out_len, center = (double)len / 2;
    return center * (1 - adjustment) + ((double)x + 0.5) / scale - 0.5;
  }
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

/* Taps per output coordinate: 2 for nearest and linear, 4 for cubic; antialiasing a reduction by `scale`
 * widens the linear and cubic filters to cover 1 / scale times as many input coordinates. */
static int64_t axis_taps(const ResizeSpec *s, int axis) {
  if (s->mode == MODE_NEAREST)
    return 2;
  if (!s->antialias)
    return s->mode == MODE_LINEAR ? 2 : 4;
  double scale = s->scale[axis] < 1 ? s->scale[axis] : 1, support = s->mode == MODE_LINEAR ? 1 : 2;
  double taps = 2 - 2 * (floor(-support / scale) + 1);
  /* past the limit the exact count does not matter (and might not fit an integer) */
  return taps > (double)RESIZE_MAX_AXIS_TAPS ? RESIZE_MAX_AXIS_TAPS + 2 : (int64_t)taps;
}

/* Keys' cubic convolution kernel with parameter A at distance x. */
static double cubic_kernel(double A, double x) {
  x = fabs(x);
  if (x <= 1)
    return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2)
    return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

/* Weights of the n taps floor(x_ori) - n/2 + 1 ... floor(x_ori) + n/2 (n from axis_taps), where `ratio` is x_ori
 * minus the tap just left of it, in (0, 1] (an integral x_ori counts as ratio 1 from the tap before it). */
static void coefficients(const ResizeSpec *s, int axis, double ratio, int64_t n, double *c) {
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
    return;
  }
  case MODE_LINEAR:
    if (!s->antialias) {
      c[0] = 1 - ratio;
      c[1] = ratio;
      return;
    }
    break;
  case MODE_CUBIC:
    if (!s->antialias) {
      double A = s->cubic_a;
      c[0] = cubic_kernel(A, 1 + ratio);
      c[1] = cubic_kernel(A, ratio);
      c[2] = cubic_kernel(A, 1 - ratio);
      c[3] = cubic_kernel(A, 2 - ratio);
      return;
    }
    break;
  }
  /* antialiased: the filter sampled at distances scaled by min(scale, 1), normalized to sum 1 */
  double scale = s->scale[axis] < 1 ? s->scale[axis] : 1, sum = 0;
  int64_t first = 1 - n / 2; /* offset of tap 0 from the tap left of x_ori */
  for (int64_t k = 0; k < n; k++) {
    double x = scale * ((double)(first + k) - ratio);
    c[k] = s->mode == MODE_LINEAR ? fmax(0, 1 - fabs(x)) : cubic_kernel(s->cubic_a, x);
    sum += c[k];
  }
  for (int64_t k = 0; k < n; k++)
    c[k] /= sum;
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
  AxisTable t = {.taps = (int)axis_taps(s, axis)};
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
    int n = t.taps;
    coefficients(s, axis, ratio, n, weight);
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
    if (s->out[a] > 0 && axis_taps(s, a) > RESIZE_MAX_AXIS_TAPS / s->out[a])
      cn_error_node(n, "axis %d would need %lld taps for each of %lld outputs; cnnc antialiases at most %lld taps "
                    "per axis", a, (long long)axis_taps(s, a), (long long)s->out[a], (long long)RESIZE_MAX_AXIS_TAPS);
    p->axis[a] = plan_axis(s, a, x->dims[a], strides[a]);
  }
  n->params = p;
}

static void check_length(const Node *n, const Value *v, const char *what, int64_t expected) {
  if (v->rank != 1 || value_count(v) != expected)
    cn_error_node(n, "%s has shape %s; expected [%lld] for the axes resized", what, value_shape_string(v),
                  (long long)expected);
}

/* The axes that scales, sizes and roi list: all of them, or from opset 18 the `axes` attribute's. */
typedef struct ResizeAxes {
  int count;
  int axis[CN_MAX_RANK];
} ResizeAxes;

static ResizeAxes every_axis(int rank) {
  ResizeAxes r = {.count = rank};
  for (int a = 0; a < rank; a++)
    r.axis[a] = a;
  return r;
}

static ResizeAxes read_resize_axes(const Graph *g, const Node *n) {
  int rank = n->in[0]->rank;
  ResizeAxes r = every_axis(rank);
  int64_t *list;
  int count = g->opset >= 18 ? attr_ints(n, "axes", &list) : -1;
  if (count < 0)
    return r;
  if (count > rank)
    cn_error_node(n, "axes lists %d axes; the input has %d", count, rank);
  bool seen[CN_MAX_RANK] = {false};
  for (int k = 0; k < count; k++) {
    int64_t axis = normalize_axis(n, list[k], rank);
    if (seen[axis])
      cn_error_node(n, "axis %lld is listed twice in axes", (long long)axis);
    seen[axis] = true;
    r.axis[k] = (int)axis;
  }
  r.count = count;
  return r;
}

/* A constant 1-D input with one value per listed axis (two for roi), as doubles. */
static void read_per_axis(const Node *n, int i, const char *what, int64_t expected, double *values) {
  Value *v = node_const_in(n, i, what);
  check_length(n, v, what, expected);
  for (int64_t k = 0; k < expected; k++)
    values[k] = value_get_double(v, k);
}

/* Output sizes from scales: floor(scale * input size), as the reference computes it. Axes not listed keep
 * scale 1. */
static void sizes_from_scales(const Node *n, ResizeSpec *s, const ResizeAxes *axes, const double *scales) {
  Value *x = n->in[0];
  for (int a = 0; a < x->rank; a++) {
    s->scale[a] = 1;
    s->out[a] = x->dims[a];
  }
  for (int k = 0; k < axes->count; k++) {
    int a = axes->axis[k];
    if (!(scales[k] > 0) || !isfinite(scales[k]))
      cn_error_node(n, "scales[%d] is %g; scales must be positive", k, scales[k]);
    s->scale[a] = scales[k];
    double size = floor(scales[k] * (double)x->dims[a]);
    if (size > (double)CN_MAX_TENSOR_BYTES)
      cn_error_node(n, "scales[%d] = %g makes axis %d too large", k, scales[k], a);
    s->out[a] = (int64_t)size;
  }
}

typedef enum AspectPolicy { ASPECT_STRETCH, ASPECT_NOT_LARGER, ASPECT_NOT_SMALLER } AspectPolicy;

/* Output sizes from sizes. With a policy other than stretch, one scale for all listed axes keeps the aspect
 * ratio: the largest (not_larger) or smallest (not_smaller) that fits, the sizes then rounded half up. */
static void sizes_from_sizes(const Node *n, ResizeSpec *s, const ResizeAxes *axes, const double *sizes,
                             AspectPolicy policy) {
  Value *x = n->in[0];
  for (int a = 0; a < x->rank; a++) {
    s->scale[a] = 1;
    s->out[a] = x->dims[a];
  }
  double common = policy == ASPECT_NOT_LARGER ? INFINITY : 0;
  for (int k = 0; k < axes->count; k++) {
    int a = axes->axis[k];
    if (!(sizes[k] > 0) || sizes[k] > (double)CN_MAX_TENSOR_BYTES)
      cn_error_node(n, "sizes[%d] is %g; sizes must be positive and at most %lld", k, sizes[k],
                    (long long)CN_MAX_TENSOR_BYTES);
    if (x->dims[a] == 0)
      cn_error_node(n, "cannot resize the empty axis %d of %s to %g", a, value_shape_string(x), sizes[k]);
    /* the reference's scale for sizes */
    s->scale[a] = sizes[k] / (double)x->dims[a];
    s->out[a] = (int64_t)sizes[k];
    common = policy == ASPECT_NOT_LARGER ? fmin(common, s->scale[a]) : fmax(common, s->scale[a]);
  }
  if (policy == ASPECT_STRETCH)
    return;
  for (int k = 0; k < axes->count; k++) {
    int a = axes->axis[k];
    s->scale[a] = common;
    s->out[a] = (int64_t)(common * (double)x->dims[a] + 0.5);
  }
}

static AspectPolicy parse_policy(const Node *n) {
  const char *name = attr_string(n, "keep_aspect_ratio_policy", "stretch");
  if (strcmp(name, "stretch") == 0)
    return ASPECT_STRETCH;
  if (strcmp(name, "not_larger") == 0)
    return ASPECT_NOT_LARGER;
  if (strcmp(name, "not_smaller") == 0)
    return ASPECT_NOT_SMALLER;
  cn_error_node(n, "keep_aspect_ratio_policy '%s' is not one of stretch, not_larger, not_smaller",
                cn_escape_c_string(name, 40));
}

/* A constant scales input, checked to have one value per axis of X (Resize-10 and Upsample). */
static void read_scales(const Node *n, int i, double *scales) {
  read_per_axis(n, i, "scales", n->in[0]->rank, scales);
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

static CoordMode parse_coord(const Graph *g, const Node *n) {
  static const struct {
    const char *name;
    CoordMode mode;
  } modes[] = {
      {"half_pixel", COORD_HALF_PIXEL},
      {"half_pixel_symmetric", COORD_HALF_PIXEL_SYMMETRIC},
      {"pytorch_half_pixel", COORD_PYTORCH_HALF_PIXEL},
      {"align_corners", COORD_ALIGN_CORNERS},
      {"asymmetric", COORD_ASYMMETRIC},
      {"tf_half_pixel_for_nn", COORD_TF_HALF_PIXEL},
      {"tf_crop_and_resize", COORD_TF_CROP_AND_RESIZE},
  };
  const char *name = attr_string(n, "coordinate_transformation_mode", "half_pixel");
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp(name, modes[i].name) == 0 && (modes[i].mode != COORD_HALF_PIXEL_SYMMETRIC || g->opset >= 19))
      return modes[i].mode;
  cn_error_node(n, "coordinate_transformation_mode '%s' is not supported at opset %lld", cn_escape_c_string(name, 40),
                (long long)g->opset);
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
    ResizeAxes all = every_axis(x->rank);
    sizes_from_scales(n, &s, &all, scales);
    plan_resize(n, &s);
    return;
  }
  s.mode = parse_mode(n, true);
  s.coord = parse_coord(g, n);
  s.nearest = parse_nearest(n);
  s.cubic_a = attr_float(n, "cubic_coeff_a", -0.75f);
  s.exclude_outside = attr_flag(n, "exclude_outside", false);
  s.extrapolation = attr_float(n, "extrapolation_value", 0.0f);
  AspectPolicy policy = ASPECT_STRETCH;
  if (g->opset >= 18) {
    s.antialias = attr_flag(n, "antialias", false);
    policy = parse_policy(n);
  }
  if (s.antialias && s.mode == MODE_NEAREST)
    cn_error_node(n, "antialias applies to the linear and cubic modes, not nearest");
  ResizeAxes axes = read_resize_axes(g, n);

  /* Exactly one of scales and sizes; an empty scales tensor stands for an omitted one. */
  Value *scales = node_in(n, 2), *sizes = node_in(n, 3);
  if (scales && value_count(scales) == 0)
    scales = NULL;
  if (!scales == !sizes)
    cn_error_node(n, "exactly one of scales and sizes must be given");
  double values[CN_MAX_RANK];
  if (scales) {
    read_per_axis(n, 2, "scales", axes.count, values);
    sizes_from_scales(n, &s, &axes, values);
  } else {
    read_per_axis(n, 3, "sizes", axes.count, values);
    sizes_from_sizes(n, &s, &axes, values, policy);
  }
  if (s.coord == COORD_TF_CROP_AND_RESIZE) {
    double roi[2 * CN_MAX_RANK];
    read_per_axis(n, 1, "roi", 2 * (int64_t)axes.count, roi);
    for (int a = 0; a < x->rank; a++) {
      s.roi_start[a] = 0;
      s.roi_end[a] = 1;
    }
    for (int k = 0; k < axes.count; k++) {
      int a = axes.axis[k];
      s.roi_start[a] = roi[k];
      s.roi_end[a] = roi[axes.count + k];
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
  ResizeAxes all = every_axis(x->rank);
  sizes_from_scales(n, &s, &all, scales);
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
