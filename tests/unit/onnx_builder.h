/* Builds small ONNX models in memory through protobuf-c, so tests can make valid and broken files. */
#ifndef ONNX_BUILDER_H
#define ONNX_BUILDER_H

#include "onnx.pb-c.h"

#include <stdint.h>

typedef struct OnnxBuilder {
  Onnx__ModelProto model;
  Onnx__GraphProto graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
} OnnxBuilder;

void ob_init(OnnxBuilder *b, int64_t opset);
/* A graph input or output; dims < 0 become symbolic dims named "N". */
void ob_input(OnnxBuilder *b, const char *name, int elem_type, int rank, const int64_t *dims);
void ob_output(OnnxBuilder *b, const char *name, int elem_type, int rank, const int64_t *dims);
/* A float initializer stored as raw_data with `raw_bytes` bytes (pass count*4 for a well-formed one). */
Onnx__TensorProto *ob_initializer(OnnxBuilder *b, const char *name, int rank, const int64_t *dims,
                                  const float *values, size_t raw_bytes);
Onnx__NodeProto *ob_node(OnnxBuilder *b, const char *name, const char *op_type, int n_in, const char *const *ins,
                         int n_out, const char *const *outs);
void ob_attr_int(Onnx__NodeProto *n, const char *name, int64_t v);
void ob_attr_float(Onnx__NodeProto *n, const char *name, float v);
void ob_attr_ints(Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
/* Serializes the model to `path`; returns the number of bytes written. */
size_t ob_write(OnnxBuilder *b, const char *path);

#endif
