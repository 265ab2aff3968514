/* cnnrt_train.h: the training half of the cnnc runtime.
 *
 * `cnnc MODEL --emit=trainer` compiles the model's training code (the
 * contract of the README's Training section) together with a description of
 * it, a cnnrt_train_model, and a main() that hands both to
 * cnnrt_trainer_main: the epochs, shuffling, augmentation, progress,
 * checkpoints, export and plots all live here, so the generated code stays
 * allocation-free. The parts are public so that a program of one's own can
 * train with them too.
 *
 * Randomness is counter-based: every random number is a hash of the seed,
 * the epoch and a position, so a run resumed from a checkpoint draws exactly
 * what the uninterrupted run drew, with no generator state to save. */
#ifndef CNNRT_TRAIN_H
#define CNNRT_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cnnrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The tensor description of generated headers, defined the same way. */
#ifndef CNNC_TENSOR_INFO_DEFINED
#define CNNC_TENSOR_INFO_DEFINED
typedef struct cnnc_tensor_info {
  const char *name; /* ONNX tensor name */
  int elem_type;    /* ONNX TensorProto.DataType: 1 float, 7 int64, ... */
  size_t elem_size; /* bytes per element */
  int rank;
  const int64_t *dims;
  size_t count; /* number of elements */
} cnnc_tensor_info;
#endif

/* ---- Random numbers, shuffling and augmentation ---- */

/* A well-mixed 64-bit hash of x (SplitMix64's finalizer). */
uint64_t cnnrt_mix64(uint64_t x);

/* The random number for (seed, stream, index): a hash of the three. */
uint64_t cnnrt_random(uint64_t seed, uint64_t stream, uint64_t index);

/* Fills perm with a permutation of 0 .. n-1 that depends only on seed and
 * epoch (Fisher-Yates on cnnrt_random). */
void cnnrt_permutation(uint64_t seed, uint64_t epoch, uint32_t *perm,
                       size_t n);

/* The augmentation of the AlexNet era. */
typedef struct cnnrt_augment {
  int crop; /* random shift by -crop .. crop pixels per axis, zeros shifted in */
  int flip; /* mirror left-right with probability 1/2 */
} cnnrt_augment;

/* Parses "crop:PIXELS,flip" (either part alone, or "none") into aug. */
int cnnrt_augment_parse(const char *spec, cnnrt_augment *aug);

/* Writes to dst the image src (channels x height x width floats) shifted
 * and flipped as the random number r decides; dst != src. */
void cnnrt_augment_image(const cnnrt_augment *aug, uint64_t r,
                         const float *src, float *dst, int channels,
                         int height, int width);

/* ---- Checkpoints ---- */

/* A checkpoint is a list of named byte strings (sections). On disk: the
 * magic "CNNCCKP1", the section count, each section as name length, name,
 * size and bytes (integers little-endian, u32 and u64), then the CRC-32 of
 * all that. */
typedef struct cnnrt_section {
  char *name;
  void *data;
  size_t size;
} cnnrt_section;

typedef struct cnnrt_checkpoint {
  cnnrt_section *sections;
  size_t count, capacity;
} cnnrt_checkpoint;

/* Appends a copy of data under name (names are unique by convention). */
int cnnrt_checkpoint_add(cnnrt_checkpoint *c, const char *name,
                         const void *data, size_t size);
/* The section called name, or NULL. */
const cnnrt_section *cnnrt_checkpoint_find(const cnnrt_checkpoint *c,
                                           const char *name);
/* Copies section name into dst, which must be exactly size bytes long;
 * CNNRT_ERR_MISMATCH names the section if it is missing or of another
 * size. */
int cnnrt_checkpoint_get(const cnnrt_checkpoint *c, const char *name,
                         void *dst, size_t size);
void cnnrt_checkpoint_free(cnnrt_checkpoint *c);

/* Writes c to path atomically: to path.tmp, flushed to disk with fsync,
 * renamed over path, and the directory synced, so that a crash at any point
 * leaves either the old file or the new one. */
int cnnrt_checkpoint_write(const char *path, const cnnrt_checkpoint *c);
/* Reads a file written by cnnrt_checkpoint_write; a truncated or altered
 * file fails its CRC with CNNRT_ERR_FORMAT. */
int cnnrt_checkpoint_read(const char *path, cnnrt_checkpoint *c);

/* Writes size bytes to path atomically, as cnnrt_checkpoint_write does. */
int cnnrt_write_file_atomic(const char *path, const void *data, size_t size);

/* ---- Plots ---- */

/* A line of a plot: values[i] at x = i + 1 (the epochs); NaN leaves a gap. */
typedef struct cnnrt_series {
  const char *label;
  const double *values;
} cnnrt_series;

/* One panel: a title, a y-axis label, up to four series. */
typedef struct cnnrt_panel {
  const char *title, *y_label;
  cnnrt_series series[4];
  int n_series;
} cnnrt_panel;

/* Writes an SVG file of panels side by side, each with its axes (x: epoch,
 * 1 .. n), ticks, grid and legend, under a title; atomically. */
int cnnrt_plot_svg(const char *path, const char *title,
                   const cnnrt_panel *panels, int n_panels, size_t n);

/* ---- Progress ---- */

/* On a terminal, a bar redrawn in place at most ten times a second; else
 * nothing (the caller prints one line per epoch). */
typedef struct cnnrt_progress {
  FILE *out;
  int tty;
  double started, last_draw;
  uint64_t first_step; /* steps already done when timing started */
} cnnrt_progress;

void cnnrt_progress_start(cnnrt_progress *p, FILE *out, uint64_t done_steps);
/* Epoch e of epochs (1-based), step of steps in the epoch, the mean loss so
 * far; done and total count steps over the whole run (for samples/s and the
 * ETA), batch samples per step. */
void cnnrt_progress_update(cnnrt_progress *p, int e, int epochs, size_t step,
                           size_t steps, double loss, uint64_t done,
                           uint64_t total, int batch);
/* Erases the bar so that a line can be printed in its place. */
void cnnrt_progress_clear(cnnrt_progress *p);

/* ---- The trainer ---- */

/* The learning-rate schedules of a .cnn file's train section. */
#define CNNRT_SCHEDULE_CONSTANT 0
#define CNNRT_SCHEDULE_STEP 1   /* lr * gamma^(epoch / step_size) */
#define CNNRT_SCHEDULE_COSINE 2 /* half a cosine from lr to min_lr */

#define CNNRT_LOSS_CROSS_ENTROPY 0 /* output 0 holds logits */
#define CNNRT_LOSS_NLL 1           /* output 0 holds log-probabilities */

/* An initializer's raw data inside the model's ONNX file. */
typedef struct cnnrt_onnx_tensor {
  const char *name;
  size_t offset, size;
} cnnrt_onnx_tensor;

/* One generated training model, as cnnc --emit=trainer describes it. Reals
 * (parameters, inputs, states) are of elem_type, float or double. */
typedef struct cnnrt_train_model {
  const char *name; /* the model file it was compiled from */
  int elem_type;    /* CNNRT_FLOAT or CNNRT_DOUBLE */
  int batch;
  int loss; /* CNNRT_LOSS_* */
  const cnnc_tensor_info *input, *output; /* input 0 and output 0 */
  const cnnc_tensor_info *params, *states; /* each ends with name NULL */
  size_t optimizer_state_bytes;
  double flops_per_step; /* forward, backward and update as generated */

  /* The defaults of the model's train section (or of cnnc). */
  int epochs;
  uint64_t seed;
  int schedule; /* CNNRT_SCHEDULE_* */
  int step_size;
  double gamma, min_lr;

  /* The model as ONNX, with the initial weights; tensors lists where each
   * parameter's and state's raw data lies in it (ends with name NULL). */
  const unsigned char *onnx;
  size_t onnx_size;
  const cnnrt_onnx_tensor *onnx_tensors;

  /* The generated functions, with reals passed through void pointers. */
  int (*train_step)(const void *const inputs[], const void *const targets[],
                    double *loss);
  int (*run)(const void *const inputs[], void *const outputs[]);
  int (*get_param)(int i, void *dst);
  int (*set_param)(int i, const void *src);
  int (*get_state)(int i, void *dst);
  int (*set_state)(int i, const void *src);
  int (*get_optimizer_state)(void *dst);
  int (*set_optimizer_state)(const void *src);
  void (*set_rng)(uint64_t seed, uint64_t step);
  void (*get_rng)(uint64_t *seed, uint64_t *step);
  void (*set_learning_rate)(double lr);
  double (*get_learning_rate)(void);
} cnnrt_train_model;

/* The trainer program: parses argv (see cnnrt_trainer_usage), trains, and
 * returns the exit status (0, 1 on failure, 2 on a usage error). */
int cnnrt_trainer_main(const cnnrt_train_model *m, int argc, char **argv);

/* Writes the model as ONNX with the current parameters and running
 * statistics patched into a copy of m->onnx. */
int cnnrt_export_onnx(const cnnrt_train_model *m, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* CNNRT_TRAIN_H */
