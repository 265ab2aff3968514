/* DepthToSpace and SpaceToDepth: both move b x b blocks (b = blocksize) between the channel axis and the
 * spatial axes of an (N, C, H, W) tensor. Each is a reshape to six dimensions, a transpose, and a reshape back,
 * so one strided copy:
 *
 *   DepthToSpace DCR: [N, b, b, C/b², H, W]   transposed (0, 3, 4, 1, 5, 2) -> [N, C/b², H*b, W*b]
 *   DepthToSpace CRD: [N, C/b², b, b, H, W]   transposed (0, 1, 4, 2, 5, 3) -> [N, C/b², H*b, W*b]
 *   SpaceToDepth:     [N, C, H/b, b, W/b, b]  transposed (0, 3, 5, 1, 2, 4) -> [N, C*b², H/b, W/b] */
#include "../cnnc.h"

#include <string.h>

/* The copy reading the input, seen as the row-major 6-D `view`, in the order of `perm`. */
static StridedCopy *permuted_view(const int64_t *view, const int *perm) {
  StridedCopy *c = cn_alloc(sizeof *c);
  int64_t strides[6];
  shape_strides(6, view, strides);
  c->rank = 6;
  for (int k = 0; k < 6; k++) {
    c->dims[k] = view[perm[k]];
    c->src_step[k] = strides[perm[k]];
  }
  shape_strides(6, c->dims, c->dst_step);
  return c;
}

static int64_t read_blocksize(const Node *n, int64_t limit, const char *what) {
  const Value *x = n->in[0];
  if (x->rank != 4)
    cn_error_node(n, "input has shape %s; %s takes (N, C, H, W)", value_shape_string(x), n->op->name);
  if (!node_attr(n, "blocksize"))
    cn_error_node(n, "the attribute 'blocksize' is required");
  int64_t b = attr_int(n, "blocksize", 0);
  if (b < 1 || b > limit)
    cn_error_node(n, "blocksize = %lld does not fit %s of %s", (long long)b, what, value_shape_string(x));
  return b;
}

static void depth_to_space_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  int64_t b = read_blocksize(n, C > 0 ? C : 1, "the channels");
  if (C % (b * b) != 0)
    cn_error_node(n, "%lld channels do not divide into blocks of %lld x %lld", (long long)C, (long long)b,
                  (long long)b);
  const char *mode = g->opset >= 11 ? attr_string(n, "mode", "DCR") : "DCR";
  bool crd = strcmp(mode, "CRD") == 0;
  if (!crd && strcmp(mode, "DCR") != 0)
    cn_error_node(n, "mode = '%s'; expected DCR or CRD", cn_escape_c_string(mode, 40));
  int64_t depth = C / (b * b);
  static const int dcr[6] = {0, 3, 4, 1, 5, 2}, crd_perm[6] = {0, 1, 4, 2, 5, 3};
  int64_t dcr_view[6] = {N, b, b, depth, H, W}, crd_view[6] = {N, depth, b, b, H, W};
  int64_t dims[4] = {N, depth, H * b, W * b};
  value_set_shape(n->out[0], n, x->dtype, 4, dims);
  n->params = crd ? permuted_view(crd_view, crd_perm) : permuted_view(dcr_view, dcr);
}

static void space_to_depth_infer(Graph *g, Node *n) {
  (void)g;
  Value *x = n->in[0];
  int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  int64_t b = read_blocksize(n, H < W ? (H > 0 ? H : 1) : (W > 0 ? W : 1), "the height and width");
  if (H % b != 0 || W % b != 0)
    cn_error_node(n, "height %lld and width %lld must be multiples of blocksize %lld", (long long)H, (long long)W,
                  (long long)b);
  static const int perm[6] = {0, 3, 5, 1, 2, 4};
  int64_t view[6] = {N, C, H / b, b, W / b, b};
  int64_t dims[4] = {N, C * b * b, H / b, W / b};
  value_set_shape(n->out[0], n, x->dtype, 4, dims);
  n->params = permuted_view(view, perm);
}

const OpDesc op_depth_to_space = {
    .kind = OP_DEPTH_TO_SPACE, .name = "DepthToSpace", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = depth_to_space_infer, .fold = strided_copy_fold, .emit = strided_copy_emit,
};

const OpDesc op_space_to_depth = {
    .kind = OP_SPACE_TO_DEPTH, .name = "SpaceToDepth", .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = space_to_depth_infer, .fold = strided_copy_fold, .emit = strided_copy_emit,
};
