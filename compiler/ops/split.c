/* Split: the reverse of Concat. Viewed as an [outer, axis * inner] matrix, the input's rows are cut into
 * column bands, one per output. */
#include "../cnnc.h"

#include <limits.h>

/* The part sizes: the `split` attribute before opset 13 (opset 1 also took it as input 1), input 1 since; NULL
 * when absent, meaning equal parts. */
static int64_t *split_sizes(Graph *g, Node *n, int *count) {
  if (g->opset >= 13 || (g->opset < 2 && node_in(n, 1)))
    return node_in(n, 1) ? node_const_ints(n, 1, "split", count) : NULL;
  int64_t *sizes;
  *count = attr_ints(n, "split", &sizes);
  return *count < 0 ? NULL : sizes;
}

/* Opset 18's num_outputs: parts of ceil(length / num_outputs), the last one smaller (possibly empty) when it
 * does not divide. */
static int64_t *num_outputs_sizes(Node *n, int64_t length, int *count) {
  int64_t parts = attr_int(n, "num_outputs", 0);
  if (parts != n->n_out)
    cn_error_node(n, "num_outputs is %lld but the node has %d outputs", (long long)parts, n->n_out);
  int64_t chunk = (length + parts - 1) / parts;
  if (chunk * (parts - 1) > length)
    cn_error_node(n, "an axis of size %lld does not split into %lld parts of %lld and a last, smaller one",
                  (long long)length, (long long)parts, (long long)chunk);
  int64_t *sizes = cn_alloc_array((size_t)parts, sizeof *sizes);
  for (int64_t i = 0; i < parts; i++)
    sizes[i] = i < parts - 1 ? chunk : length - chunk * (parts - 1);
  *count = (int)parts;
  return sizes;
}

static void split_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (x->rank == 0)
    cn_error_node(n, "cannot split a scalar");
  int64_t axis = normalize_axis(n, attr_int(n, "axis", 0), x->rank);
  int64_t length = x->dims[axis];
  int count;
  int64_t *sizes = split_sizes(g, n, &count);
  if (g->opset >= 18 && node_attr(n, "num_outputs")) {
    if (sizes)
      cn_error_node(n, "has both the split input and num_outputs; give one");
    sizes = num_outputs_sizes(n, length, &count);
  }
  if (!sizes) {
    if (length % n->n_out != 0)
      cn_error_node(n, "axis %lld has size %lld, which does not split into %d equal parts", (long long)axis,
                    (long long)length, n->n_out);
    count = n->n_out;
    sizes = cn_alloc_array((size_t)count, sizeof *sizes);
    for (int i = 0; i < count; i++)
      sizes[i] = length / n->n_out;
  }
  if (count != n->n_out)
    cn_error_node(n, "split lists %d sizes for %d outputs", count, n->n_out);
  int64_t sum = 0;
  for (int i = 0; i < count && sum <= length; i++) {
    if (sizes[i] < 0)
      cn_error_node(n, "split size %d is %lld; sizes must be >= 0", i, (long long)sizes[i]);
    sum = sizes[i] > length - sum ? length + 1 : sum + sizes[i]; /* length + 1: too many, without overflow */
  }
  if (sum != length)
    cn_error_node(n, "the split sizes do not add up to %lld, the size of axis %lld of the input %s",
                  (long long)length, (long long)axis, value_shape_string(x));

  int64_t outer = 1, inner = 1;
  for (int k = 0; k < x->rank; k++) {
    if (k < axis)
      outer *= x->dims[k];
    if (k > axis)
      inner *= x->dims[k];
  }
  StridedCopy *copies = cn_alloc_array((size_t)n->n_out, sizeof *copies);
  int64_t offset = 0; /* where output i's band starts along the axis */
  for (int i = 0; i < n->n_out; i++) {
    int64_t band = sizes[i] * inner;
    copies[i] = (StridedCopy){
        .rank = 2,
        .dims = {outer, band},
        .src_base = offset * inner,
        .src_step = {length * inner, 1},
        .dst_step = {band, 1},
    };
    offset += sizes[i];
    if (!n->out[i])
      continue;
    int64_t dims[CN_MAX_RANK];
    for (int k = 0; k < x->rank; k++)
      dims[k] = k == axis ? sizes[i] : x->dims[k];
    value_set_shape(n->out[i], n, x->dtype, x->rank, dims);
  }
  n->params = copies;
}

static void split_fold(Graph *g, Node *n) {
  (void)g;
  const StridedCopy *copies = n->params;
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i])
      strided_copy_run(&copies[i], n->out[i]->data, n->in[0]->data, dtype_size(n->in[0]->dtype));
}

static void split_emit(Emitter *e, const Node *n) {
  const StridedCopy *copies = n->params;
  for (int i = 0; i < n->n_out; i++)
    if (n->out[i] && !emit_if_empty(e, n, i))
      emit_strided_copy(e, &copies[i], emit_out(n, i), emit_in(n, 0));
}

const OpDesc op_split = {
    .kind = OP_SPLIT, .name = "Split", .min_in = 1, .max_in = 2, .min_out = 1, .max_out = INT_MAX,
    .infer = split_infer, .fold = split_fold, .emit = split_emit,
};
