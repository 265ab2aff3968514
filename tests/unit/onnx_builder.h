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
/* A float initializer whose data is external: `location`, with offset and length entries unless negative. */
Onnx__TensorProto *ob_external_initializer(OnnxBuilder *b, const char *name, int rank, const int64_t *dims,
                                           const char *location, int64_t offset, int64_t length);
/* Adds an external_data entry to t. */
void ob_external_entry(Onnx__TensorProto *t, const char *key, const char *value);
Onnx__NodeProto *ob_node(OnnxBuilder *b, const char *name, const char *op_type, int n_in, const char *const *ins,
                         int n_out, const char *const *outs);
void ob_attr_int(Onnx__NodeProto *n, const char *name, int64_t v);
void ob_attr_float(Onnx__NodeProto *n, const char *name, float v);
void ob_attr_ints(Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
void ob_attr_string(Onnx__NodeProto *n, const char *name, const char *v);
/* An attribute referring to the attribute `ref` of the function the node is in (ref_attr_name). */
void ob_attr_ref(Onnx__NodeProto *n, const char *name, const char *ref, Onnx__AttributeProto__AttributeType type);

/* A model-local function; the model imports its domain at version 1. */
Onnx__FunctionProto *ob_function(OnnxBuilder *b, const char *domain, const char *name, int n_in,
                                 const char *const *ins, int n_out, const char *const *outs, int n_attrs,
                                 const char *const *attrs);
/* A node of a function body (or, with fn NULL, of the graph) in the given domain ("" for ONNX's). */
Onnx__NodeProto *ob_function_node(OnnxBuilder *b, Onnx__FunctionProto *fn, const char *domain, const char *op_type,
                                  int n_in, const char *const *ins, int n_out, const char *const *outs);
/* A default value for a function attribute: FunctionProto.attribute_proto (field 11, newer than the onnx.proto
 * compiled here), stored as an unknown field. */
void ob_function_default_float(Onnx__FunctionProto *fn, const char *name, float v);
/* Makes fn import `version` of the default domain. */
void ob_function_opset(Onnx__FunctionProto *fn, int64_t version);

/* Serializes the model to `path`; returns the number of bytes written. */
size_t ob_write(OnnxBuilder *b, const char *path);

#endif
