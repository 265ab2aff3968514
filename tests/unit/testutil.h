/* Helpers for unit tests: build small graphs in C, run compiler stages, and catch diagnostics. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include "cnnc.h"

#include <CUnit/CUnit.h>

Graph *tb_graph(int64_t opset);
/* A run-time graph input of the given shape. */
Value *tb_input(Graph *g, const char *name, DType t, int rank, const int64_t *dims);
/* A constant (initializer) with the given shape and contents (count = product of dims). */
Value *tb_const(Graph *g, const char *name, DType t, int rank, const int64_t *dims, const void *data);
Value *tb_const_ints(Graph *g, const char *name, int n, const int64_t *values); /* 1-D int64 */
/* A node reading `ins` (NULL entries are omitted optional inputs) with n_out fresh outputs. */
Node *tb_node(Graph *g, const char *op_type, int n_in, Value *const *ins, int n_out);
void tb_attr_int(Node *n, const char *name, int64_t v);
void tb_attr_float(Node *n, const char *name, float v);
void tb_attr_ints(Node *n, const char *name, int count, const int64_t *v);
void tb_attr_floats(Node *n, const char *name, int count, const float *v);
void tb_attr_string(Node *n, const char *name, const char *v);
/* Marks v as a graph output. */
void tb_output(Graph *g, Value *v);
/* Sorts the graph and runs shape inference (folding constants). */
void tb_infer(Graph *g);

/* Runs fn(arg); returns true if it raised a cnnc error whose message contains `expected`. */
bool tb_fails_with(void (*fn)(void *), void *arg, const char *expected);
/* The message of the last error caught by tb_fails_with. */
const char *tb_last_error(void);

/* Compiles g to C with prefix "model", builds it together with `driver_c` (a C source that calls model_run
 * and returns 0 on success) using $CC or cc, and runs it; returns the program's exit status. */
int tb_compile_and_run(Graph *g, const char *driver_c);
/* The same for a target (running the layout pass first), a compiler (NULL: $CC or clang) and one more compiler
 * flag (NULL for none), e.g. "-DCNNC_PROFILE". */
int tb_compile_and_run_target(Graph *g, const char *driver_c, Target target, const char *cc, const char *cflag);
/* The same (generic target) for a graph from backward_build: training code with these options. */
int tb_compile_and_run_train(Graph *g, const TrainOptions *train, const char *driver_c);
/* Compiles a whole C program with cc under -Werror at optimization `opt`, runs it, and returns its exit status
 * (100 + the compiler's status when it does not compile); a failing program's directory is kept and named. */
int tb_run_program(const char *source, const char *cc, const char *opt);
/* The SIMD targets this machine can run, best first; returns how many. */
int tb_host_targets(Target *targets);

/* The passes after shape inference, as the pipeline runs them: fold_dead_code, fold_bn, fuse, views. */
void tb_passes(Graph *g);
/* Compiles `plain` (each node by its own emitter) and `transformed` (the same model after passes the caller ran)
 * into one program with prefixes plain_ and fused_, runs both on the same pseudo-random float or double inputs
 * in [-2, 2], and returns 0 when every output element agrees within tol * max(1, |plain|); non-zero otherwise
 * (the program prints the first difference). Both graphs must have been through tb_infer. */
int tb_compare_graphs(Graph *plain, Graph *transformed, double tol);
/* The same for n <= 24 pairs in one program (one C compiler run); returns 0 when every pair agrees, else 13 + the
 * index of the first pair that does not (or the status of a failed build, >= 100). */
int tb_compare_graph_pairs(int n, Graph **plain, Graph **transformed, double tol);

#define TB_DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define TB_ASSERT_SHAPE(v, ...)                                                                                      \
  do {                                                                                                               \
    const int64_t expect_[] = {__VA_ARGS__};                                                                         \
    CU_ASSERT_EQUAL_FATAL((v)->rank, (int)(sizeof expect_ / sizeof expect_[0]));                                     \
    for (int k_ = 0; k_ < (v)->rank; k_++)                                                                           \
      CU_ASSERT_EQUAL((v)->dims[k_], expect_[k_]);                                                                   \
  } while (0)

#endif
