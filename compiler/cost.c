/* The arithmetic a node performs and the weights it reads, from shapes and attributes alone, so profiles
 * (generated code built with -DCNNC_PROFILE) and reports can turn times into GFLOP/s. It is counted once, right after shape inference:
 * later passes replace weights by packed copies whose shapes are no longer the ONNX ones. */
#include "cnnc.h"

static int64_t product(const int64_t *v, int count) {
  int64_t p = 1;
  for (int i = 0; i < count; i++)
    p *= v[i];
  return p;
}

/* Conv: every output element (N, M, out...) is a dot product of length C/group x kernel taps. The output
 * size comes from the window, not from out[0], which a fused pool or depthwise Conv makes smaller. */
static int64_t conv_macs(const Node *n) {
  const Value *x = n->in[0], *w = n->in[1];
  Window win;
  window_read(n, &win, node_attr(n, "kernel_shape") ? NULL : w->dims + 2);
  window_forward(n, &win, false);
  int64_t group = attr_int(n, "group", 1);
  return x->dims[0] * n->out[0]->dims[1] * product(win.out, win.rank) * (x->dims[1] / group) *
         product(win.kernel, win.rank);
}

/* ConvTranspose: every input element (N, C, in...) is scattered into M/group x kernel taps outputs. */
static int64_t conv_transpose_macs(const Node *n) {
  const Value *x = n->in[0], *w = n->in[1];
  return value_count(x) * w->dims[1] * product(w->dims + 2, w->rank - 2);
}

/* Gemm: (M x K) times (K x N). out[0] is (M, N), also when an activation is fused into the node. */
static int64_t gemm_macs(const Node *n) {
  const Value *a = n->in[0];
  int64_t k = a->dims[attr_flag(n, "transA", false) ? 0 : 1];
  return value_count(n->out[0]) * k;
}

/* MatMul: every output element is a dot product along A's last axis. */
static int64_t matmul_macs(const Node *n) {
  const Value *a = n->in[0];
  return value_count(n->out[0]) * a->dims[a->rank - 1];
}

/* ConvGradWeight (training): every weight (M, C/group, kernel...) is a dot product over dY's batch and spatial
 * positions. */
static int64_t conv_grad_weight_macs(const Node *n) {
  const Value *dy = n->in[1], *dw = n->out[0];
  return value_count(dy) * dw->dims[1] * product(dw->dims + 2, dw->rank - 2);
}

int64_t cost_count_macs(const Node *n) {
  switch (n->op->kind) {
  case OP_CONV: return conv_macs(n);
  case OP_CONV_GRAD_WEIGHT: return conv_grad_weight_macs(n);
  case OP_CONV_TRANSPOSE: return conv_transpose_macs(n);
  case OP_GEMM: return gemm_macs(n);
  case OP_MATMUL: return matmul_macs(n);
  default: return 0;
  }
}

int64_t cost_count_params(const Node *n) {
  int64_t count = 0;
  for (int k = 0; k < n->n_in; k++) {
    const Value *v = n->in[k];
    if (v && v->data && (v->flags & VAL_INITIALIZER) && dtype_is_float(v->dtype))
      count += value_count(v);
  }
  return count;
}

int64_t node_macs(const Node *n) {
  /* a depthwise Conv fused in as the window is part of the same function */
  if (n->fusion && n->fusion->window)
    return n->macs + n->fusion->window->macs;
  return n->macs;
}
