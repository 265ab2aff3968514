/* InstanceNormalization: each (n, c) plane normalized by its own mean and variance over the spatial axes.
 *
 *   Y[n, c, ...] = (X[n, c, ...] - mean[n, c]) / sqrt(var[n, c] + epsilon) * scale[c] + B[c]
 *
 * The generated code makes two passes over a plane for the statistics (mean, then the mean squared deviation,
 * which avoids the cancellation of E[x^2] - E[x]^2), summing in double because planes can hold many thousand
 * elements, and a third pass to write Y. */
#include "../cnnc.h"

#include <math.h>

static void instance_norm_infer(Graph *g, Node *n) {
  (void)g;
  const Value *x = n->in[0];
  for (int i = 0; i < 3; i++)
    check_input_type(n, i, dtype_float_only, "float or double");
  if (x->rank < 3)
    cn_error_node(n, "input has shape %s; expected (N, C, spatial...) with at least one spatial axis",
                  value_shape_string(x));
  static const char *const names[] = {"input", "scale", "B"};
  for (int i = 1; i < 3; i++)
    if (n->in[i]->rank != 1 || n->in[i]->dims[0] != x->dims[1])
      cn_error_node(n, "%s has shape %s; expected (%lld), one value per channel", names[i],
                    value_shape_string(n->in[i]), (long long)x->dims[1]);
  double epsilon = attr_float(n, "epsilon", 1e-5f);
  if (!(epsilon >= 0) || !isfinite(epsilon))
    cn_error_node(n, "epsilon = %g; expected a non-negative number", epsilon);
  infer_same_as_input(n, 0);
}

static void instance_norm_emit(Emitter *e, const Node *n) {
  const Value *x = n->in[0];
  DType t = x->dtype;
  const char *T = dtype_ctype(t);
  int64_t channels = x->dims[1], planes = x->dims[0] * channels, size = plane_size(x);
  emitf(e, "/* one (n, c) plane at a time */");
  emitf(e, "for (int64_t plane = 0; plane < %lld; plane++) {", (long long)planes);
  emitf(e, "const int64_t c = plane %% %lld;", (long long)channels);
  emitf(e, "const %s *x = X0 + plane * %lld;", T, (long long)size);
  emitf(e, "%s *y = Y0 + plane * %lld;", T, (long long)size);
  emitf(e, "double sum = 0;");
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)size);
  emitf(e, "  sum += x[i];");
  emitf(e, "const %s mean = (%s)(sum / %lld);", T, T, (long long)size);
  emitf(e, "double squares = 0;");
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)size);
  emitf(e, "  squares += (double)(x[i] - mean) * (x[i] - mean);");
  emitf(e, "const %s multiplier = (%s)(X1[c] / sqrt(squares / %lld + %s));", T, T, (long long)size,
        emit_float(attr_float(n, "epsilon", 1e-5f), DT_DOUBLE));
  emitf(e, "for (int64_t i = 0; i < %lld; i++)", (long long)size);
  emitf(e, "  y[i] = (x[i] - mean) * multiplier + X2[c];");
  emitf(e, "}");
}

const OpDesc op_instance_normalization = {
    .kind = OP_INSTANCE_NORMALIZATION, .name = "InstanceNormalization", .min_in = 3, .max_in = 3, .min_out = 1,
    .max_out = 1, .infer = instance_norm_infer, .emit = instance_norm_emit,
};
