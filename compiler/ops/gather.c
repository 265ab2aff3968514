/* Gather: output = data[:axis] + indices.shape + data[axis+1:]. Viewed as data [outer, size, inner], each index
 * k copies the block data[o, k, :] for every o. Indices may be computed at run time, so the generated code
 * clamps them: an out-of-range index (invalid ONNX) can never make it read outside the input. */
#include "../cnnc.h"

#include <string.h>

typedef struct GatherParams {
  int64_t outer, size, inner; /* data viewed as [outer, size, inner], gathering along size */
  int64_t n_indices;
} GatherParams;

static bool is_index_type(DType t) { return t == DT_INT32 || t == DT_INT64; }

static void gather_infer(Graph *g, Node *n) {
  (void)g;
  Value *data = n->in[0], *indices = n->in[1];
  check_input_type(n, 1, is_index_type, "int32 or int64");
  if (data->rank == 0)
    cn_error_node(n, "cannot gather from a scalar");
  int64_t axis = normalize_axis(n, attr_int(n, "axis", 0), data->rank);
  int rank = data->rank - 1 + indices->rank;
  if (rank > CN_MAX_RANK)
    cn_error_node(n, "the output would have rank %d; cnnc supports up to %d", rank, CN_MAX_RANK);
  GatherParams *p = cn_alloc(sizeof *p);
  p->outer = p->inner = 1;
  p->size = data->dims[axis];
  p->n_indices = value_count(indices);
  int64_t dims[CN_MAX_RANK];
  int r = 0;
  for (int k = 0; k < axis; k++) {
    dims[r++] = data->dims[k];
    p->outer *= data->dims[k];
  }
  for (int k = 0; k < indices->rank; k++)
    dims[r++] = indices->dims[k];
  for (int k = (int)axis + 1; k < data->rank; k++) {
    dims[r++] = data->dims[k];
    p->inner *= data->dims[k];
  }
  if (p->size == 0 && p->n_indices > 0)
    cn_error_node(n, "axis %lld of the data %s is empty, so no index is valid", (long long)axis,
                  value_shape_string(data));
  if (indices->data)
    for (int64_t i = 0; i < p->n_indices; i++) {
      int64_t k = value_get_int(indices, i);
      if (k < -p->size || k >= p->size)
        cn_error_node(n, "index %lld (element %lld of the indices) is out of range for axis %lld of size %lld",
                      (long long)k, (long long)i, (long long)axis, (long long)p->size);
    }
  n->params = p;
  value_set_shape(n->out[0], n, data->dtype, rank, dims);
}

static void gather_fold(Graph *g, Node *n) {
  (void)g;
  const GatherParams *p = n->params;
  size_t block = (size_t)p->inner * dtype_size(n->in[0]->dtype);
  const char *from = n->in[0]->data;
  char *to = n->out[0]->data;
  for (int64_t o = 0; o < p->outer; o++)
    for (int64_t i = 0; i < p->n_indices; i++) {
      int64_t k = value_get_int(n->in[1], i);
      if (k < 0)
        k += p->size;
      memcpy(to + (o * p->n_indices + i) * block, from + (o * p->size + k) * block, block);
    }
}

static void gather_emit(Emitter *e, const Node *n) {
  const GatherParams *p = n->params;
  const char *y = emit_out(n, 0), *x = emit_in(n, 0), *indices = emit_in(n, 1);
  int loops = 0;
  if (p->outer > 1)
    loops += emit_loops(e, 1, &p->outer, "o");
  emitf(e, "for (int64_t i = 0; i < %lld; i++) {", (long long)p->n_indices);
  loops++;
  emitf(e, "int64_t k = %s[i] < 0 ? %s[i] + %lld : %s[i]; /* negative indices count from the end */", indices,
        indices, (long long)p->size, indices);
  emitf(e, "k = k < 0 ? 0 : k > %lld ? %lld : k; /* out of range is invalid: clamp to stay in bounds */",
        (long long)p->size - 1, (long long)p->size - 1);
  char *to = p->outer > 1 ? cn_format("(o0 * %lld + i)", (long long)p->n_indices) : cn_strdup("i");
  char *from = p->outer > 1 ? cn_format("(o0 * %lld + k)", (long long)p->size) : cn_strdup("k");
  if (p->inner == 1)
    emitf(e, "%s[%s] = %s[%s];", y, to, x, from);
  else
    emitf(e, "memcpy(%s + %s * %lld, %s + %s * %lld, %lld * sizeof *%s);", y, to, (long long)p->inner, x, from,
          (long long)p->inner, (long long)p->inner, y);
  emit_close(e, loops);
}

const OpDesc op_gather = {
    .kind = OP_GATHER, .name = "Gather", .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = gather_infer, .fold = gather_fold, .emit = gather_emit,
};
