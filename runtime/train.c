/* train.c: the trainer program around one generated training model
 * (cnnc MODEL --emit=trainer): epochs over IDX data, shuffled and augmented
 * with seeded counter-based randomness, test accuracy after every epoch,
 * atomic checkpoints from which --resume continues bit for bit, ONNX export
 * and SVG curves.
 *
 * Determinism: the order of epoch e is cnnrt_permutation(seed, e); the
 * augmentation of the sample at position i of epoch e draws
 * cnnrt_random(seed, STREAM_AUGMENT ^ e, i); the learning rate of epoch e is
 * the schedule's. So (epoch, step) and the model's own state (parameters,
 * running statistics, optimizer moments, Dropout's counter) are everything a
 * checkpoint must hold for the rest of the run to repeat exactly. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cnnrt_internal.h"
#include "cnnrt_train.h"

#define STREAM_AUGMENT 0x4155474dull /* "AUGM" */
#define CHECKPOINT_FILE "checkpoint.ckpt"
#define CHECKPOINT_VERSION 1
/* Without --checkpoint-every, a checkpoint inside an epoch every so often. */
#define CHECKPOINT_SECONDS 300.0
#define PI 3.14159265358979323846

static const char usage[] =
    "usage: %s --train-images F --train-labels F [options]\n"
    "\n"
    "Trains %s. F is an IDX file (MNIST's format), gzipped or not; images\n"
    "are bytes scaled to [0, 1], labels class indices.\n"
    "\n"
    "  --test-images F --test-labels F   score the test set after each epoch\n"
    "  --epochs N            epochs to train (default %d)\n"
    "  --seed S              shuffling, augmentation and Dropout (default "
    "%llu)\n"
    "  --augment SPEC        crop:PIXELS,flip: a random shift by up to PIXELS\n"
    "                        (zeros shifted in) and a left-right flip, per "
    "image\n"
    "  --checkpoint DIR      save the state in DIR after every epoch (and "
    "every\n"
    "                        %.0f s, or every N steps with "
    "--checkpoint-every N)\n"
    "  --resume              continue from DIR's checkpoint, exactly where "
    "it was\n"
    "  --export FILE.onnx    write the trained model as ONNX at the end\n"
    "  --plot FILE.svg       draw loss and accuracy per epoch (after each "
    "epoch)\n"
    "  --log FILE.tsv        one line per epoch: losses, accuracy, times, "
    "GFLOP/s\n"
    "  --limit N             train on the first N images only\n"
    "  --test-limit N        test on the first N test images only\n"
    "  --help\n";

typedef struct options {
  const char *train_images, *train_labels, *test_images, *test_labels;
  const char *checkpoint_dir, *export_path, *plot_path, *log_path;
  int epochs, resume;
  uint64_t seed;
  cnnrt_augment augment;
  size_t limit, test_limit; /* 0: all */
  size_t checkpoint_every;  /* steps; 0: every CHECKPOINT_SECONDS */
} options;

/* A labelled set of images, pixels kept as bytes. */
typedef struct dataset {
  cnnrt_tensor images, labels;
  size_t count, sample; /* images, bytes per image */
} dataset;

/* One epoch's results; NaN where there is no test set. */
typedef struct epoch_record {
  double loss, test_loss, test_accuracy;
} epoch_record;

typedef struct trainer {
  const cnnrt_train_model *m;
  options opt;
  const char *prog;
  dataset train, test;
  size_t classes, sample; /* classes; elements per sample of input 0 */
  int channels, height, width; /* of an image input, for augmentation */
  uint64_t fingerprint;
  double base_lr;
  /* Batches: x (floats, augmented), input (the model's real type), outputs,
   * targets. */
  float *x, *scratch;
  void *input, *output;
  int64_t *targets;
  uint32_t *order;
  /* Where the run is. */
  int epoch; /* epochs completed */
  size_t step; /* steps completed in the epoch in progress */
  double loss_sum; /* of the steps completed in the epoch in progress */
  epoch_record *history;
  char *checkpoint_path;
} trainer;

static int fail(const trainer *t, const char *fmt, ...) CNNRT_PRINTF(2, 3);

static int fail(const trainer *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", t->prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

/* ---- Options ---- */

static int usage_error(const trainer *t, const char *what, const char *arg) {
  fprintf(stderr, "%s: ", t->prog);
  fprintf(stderr, what, arg);
  fprintf(stderr, " (see %s --help)\n", t->prog);
  return 2;
}

static int parse_count(const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end || *s == '-' || errno)
    return 0;
  *out = (size_t)v;
  return 1;
}

static int parse_options(trainer *t, int argc, char **argv) {
  options *o = &t->opt;
  o->epochs = t->m->epochs;
  o->seed = t->m->seed;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      printf(usage, t->prog, t->m->name, t->m->epochs,
             (unsigned long long)t->m->seed, CHECKPOINT_SECONDS);
      exit(0);
    }
    if (strcmp(a, "--resume") == 0) {
      o->resume = 1;
      continue;
    }
    if (i + 1 >= argc)
      return usage_error(t, "unknown option '%s', or it needs a value", a);
    const char *v = argv[++i];
    size_t n;
    if (strcmp(a, "--train-images") == 0) {
      o->train_images = v;
    } else if (strcmp(a, "--train-labels") == 0) {
      o->train_labels = v;
    } else if (strcmp(a, "--test-images") == 0) {
      o->test_images = v;
    } else if (strcmp(a, "--test-labels") == 0) {
      o->test_labels = v;
    } else if (strcmp(a, "--checkpoint") == 0) {
      o->checkpoint_dir = v;
    } else if (strcmp(a, "--export") == 0) {
      o->export_path = v;
    } else if (strcmp(a, "--plot") == 0) {
      o->plot_path = v;
    } else if (strcmp(a, "--log") == 0) {
      o->log_path = v;
    } else if (strcmp(a, "--epochs") == 0) {
      if (!parse_count(v, &n) || n > 1000000)
        return usage_error(t, "--epochs takes a count, not '%s'", v);
      o->epochs = (int)n;
    } else if (strcmp(a, "--seed") == 0) {
      if (!parse_count(v, &n))
        return usage_error(t, "--seed takes a non-negative integer, not '%s'",
                           v);
      o->seed = n;
    } else if (strcmp(a, "--augment") == 0) {
      if (cnnrt_augment_parse(v, &o->augment) != 0)
        return usage_error(t, "%s", cnnrt_last_error());
    } else if (strcmp(a, "--limit") == 0) {
      if (!parse_count(v, &o->limit) || !o->limit)
        return usage_error(t, "--limit takes a positive count, not '%s'", v);
    } else if (strcmp(a, "--test-limit") == 0) {
      if (!parse_count(v, &o->test_limit) || !o->test_limit)
        return usage_error(t, "--test-limit takes a positive count, not '%s'",
                           v);
    } else if (strcmp(a, "--checkpoint-every") == 0) {
      if (!parse_count(v, &o->checkpoint_every) || !o->checkpoint_every)
        return usage_error(
            t, "--checkpoint-every takes a positive number of steps, not '%s'",
            v);
    } else {
      return usage_error(t, "unknown option '%s'", a);
    }
  }
  if (!o->train_images || !o->train_labels)
    return usage_error(t, "%s", "--train-images and --train-labels are needed");
  if (!o->test_images != !o->test_labels)
    return usage_error(t, "%s",
                       "--test-images and --test-labels go together");
  if (o->resume && !o->checkpoint_dir)
    return usage_error(t, "%s", "--resume needs --checkpoint DIR");
  if ((o->augment.crop || o->augment.flip) && !t->width)
    return usage_error(t, "%s",
                       "--augment needs an image input (batch, channels, "
                       "height, width)");
  return 0;
}

/* ---- Data ---- */

static int load_dataset(trainer *t, const char *images, const char *labels,
                        size_t limit, dataset *d) {
  if (cnnrt_idx_read(images, &d->images) != 0)
    return fail(t, "%s", cnnrt_last_error());
  if (cnnrt_idx_read(labels, &d->labels) != 0)
    return fail(t, "%s", cnnrt_last_error());
  if (d->images.elem_type != CNNRT_UINT8 || d->images.rank < 2)
    return fail(t, "%s: expected images of bytes (an IDX file of type 0x08 "
                   "with at least 2 dims)",
                images);
  if (d->labels.rank != 1 || d->labels.elem_type != CNNRT_UINT8)
    return fail(t, "%s: expected labels: an IDX file of 1 dim of bytes",
                labels);
  d->count = (size_t)d->images.dims[0];
  d->sample = d->images.count / (d->count ? d->count : 1);
  if ((size_t)d->labels.dims[0] != d->count)
    return fail(t, "%s holds %zu images but %s %zu labels", images, d->count,
                labels, (size_t)d->labels.dims[0]);
  if (d->sample != t->sample) {
    char dims[128];
    cnnrt_format_dims(dims, sizeof dims, t->m->input->rank,
                      t->m->input->dims);
    return fail(t, "%s: an image has %zu pixels, but the model's input %s %s "
                   "takes %zu per sample",
                images, d->sample, t->m->input->name, dims, t->sample);
  }
  const unsigned char *y = d->labels.data;
  for (size_t i = 0; i < d->count; i++)
    if (y[i] >= t->classes)
      return fail(t, "%s: label %u of image %zu is not below the model's %zu "
                     "classes",
                  labels, y[i], i, t->classes);
  if (limit && limit < d->count)
    d->count = limit;
  return 0;
}

/* Fills the batch from samples order[0 .. n) of d (n <= batch, the rest
 * zeros), augmented with the random numbers of (epoch, first + i) unless
 * epoch is UINT64_MAX. */
static void fill_batch(trainer *t, const dataset *d, const uint32_t *order,
                       size_t n, uint64_t epoch, size_t first) {
  const cnnrt_train_model *m = t->m;
  const unsigned char *pixels = d->images.data, *labels = d->labels.data;
  int augment = epoch != UINT64_MAX &&
                (t->opt.augment.crop || t->opt.augment.flip);
  for (size_t i = 0; i < (size_t)m->batch; i++) {
    float *x = t->x + i * t->sample;
    if (i >= n) {
      memset(x, 0, t->sample * sizeof *x);
      t->targets[i] = 0;
      continue;
    }
    const unsigned char *p = pixels + (size_t)order[i] * d->sample;
    float *dst = augment ? t->scratch : x;
    for (size_t k = 0; k < t->sample; k++)
      dst[k] = (float)p[k] / 255.0f;
    if (augment)
      cnnrt_augment_image(
          &t->opt.augment,
          cnnrt_random(t->opt.seed, STREAM_AUGMENT ^ cnnrt_mix64(epoch),
                       first + i),
          t->scratch, x, t->channels, t->height, t->width);
    t->targets[i] = labels[order[i]];
  }
  if (m->elem_type == CNNRT_DOUBLE) {
    double *in = t->input;
    for (size_t k = 0; k < (size_t)m->batch * t->sample; k++)
      in[k] = t->x[k];
  }
}

static double output_at(const trainer *t, size_t i) {
  return t->m->output->elem_type == CNNRT_DOUBLE ? ((double *)t->output)[i]
                                                 : ((float *)t->output)[i];
}

/* Accuracy (%) and mean loss on the test set, with the current weights. */
static int evaluate(trainer *t, double *accuracy, double *loss) {
  const cnnrt_train_model *m = t->m;
  const dataset *d = &t->test;
  const void *inputs[] = {t->input};
  void *outputs[] = {t->output};
  size_t correct = 0;
  double total = 0;
  for (size_t first = 0; first < d->count; first += (size_t)m->batch) {
    size_t n = d->count - first < (size_t)m->batch ? d->count - first
                                                   : (size_t)m->batch;
    for (size_t i = 0; i < n; i++)
      t->order[i] = (uint32_t)(first + i);
    fill_batch(t, d, t->order, n, UINT64_MAX, 0);
    if (m->run(inputs, outputs) != 0)
      return fail(t, "the model failed on test images %zu..%zu", first,
                  first + n - 1);
    for (size_t i = 0; i < n; i++) {
      size_t best = 0, label = (size_t)t->targets[i];
      double max = output_at(t, i * t->classes), sum = 0;
      for (size_t c = 1; c < t->classes; c++) {
        double v = output_at(t, i * t->classes + c);
        if (v > max) {
          max = v;
          best = c;
        }
      }
      correct += best == label;
      if (m->loss == CNNRT_LOSS_NLL) {
        total -= output_at(t, i * t->classes + label);
      } else { /* cross-entropy: log-sum-exp of the logits minus the label's */
        for (size_t c = 0; c < t->classes; c++)
          sum += exp(output_at(t, i * t->classes + c) - max);
        total += max + log(sum) - output_at(t, i * t->classes + label);
      }
    }
  }
  *accuracy = 100.0 * (double)correct / (double)d->count;
  *loss = total / (double)d->count;
  return 0;
}

/* ---- Checkpoints ---- */

/* Identifies the model: batch, types, and every saved tensor's name and
 * shape, so that a checkpoint is never loaded into another model. */
static uint64_t model_fingerprint(const cnnrt_train_model *m) {
  uint64_t h = 0xcbf29ce484222325u;
#define FNV(byte) h = (h ^ (unsigned char)(byte)) * 0x100000001b3u
  const cnnc_tensor_info *lists[] = {m->input, m->params, m->states};
  FNV(m->batch);
  FNV(m->elem_type);
  for (size_t b = 0; b < 8; b++)
    FNV(m->optimizer_state_bytes >> (8 * b));
  for (int l = 0; l < 3; l++)
    for (const cnnc_tensor_info *ti = lists[l]; ti->name; ti++) {
      for (const char *c = ti->name; *c; c++)
        FNV(*c);
      FNV(0);
      for (int k = 0; k < ti->rank; k++)
        for (size_t b = 0; b < 8; b++)
          FNV((uint64_t)ti->dims[k] >> (8 * b));
      if (l == 0)
        break; /* input 0 alone */
    }
#undef FNV
  return h;
}

/* The trainer's own fields, as little-endian u64s. */
enum {
  F_VERSION,
  F_FINGERPRINT,
  F_EPOCH,
  F_STEP,
  F_LOSS_SUM,
  F_SEED,
  F_CROP,
  F_FLIP,
  F_TRAIN_COUNT,
  F_RNG_SEED,
  F_RNG_STEP,
  F_COUNT
};

static uint64_t double_bits(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

static double bits_double(uint64_t u) {
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

static void encode_u64s(unsigned char *dst, const uint64_t *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (int b = 0; b < 8; b++)
      dst[8 * i + b] = (unsigned char)(v[i] >> (8 * b));
}

static void decode_u64s(uint64_t *v, const unsigned char *src, size_t n) {
  for (size_t i = 0; i < n; i++) {
    v[i] = 0;
    for (int b = 0; b < 8; b++)
      v[i] |= (uint64_t)src[8 * i + b] << (8 * b);
  }
}

static size_t tensor_bytes(const cnnc_tensor_info *ti) {
  return ti->count * ti->elem_size;
}

static size_t largest_tensor(const cnnrt_train_model *m) {
  size_t max = m->optimizer_state_bytes;
  for (const cnnc_tensor_info *ti = m->params; ti->name; ti++)
    max = tensor_bytes(ti) > max ? tensor_bytes(ti) : max;
  for (const cnnc_tensor_info *ti = m->states; ti->name; ti++)
    max = tensor_bytes(ti) > max ? tensor_bytes(ti) : max;
  return max;
}

static int save_checkpoint(trainer *t) {
  const cnnrt_train_model *m = t->m;
  cnnrt_checkpoint c = {0};
  unsigned char *buf = malloc(largest_tensor(m) + 1);
  size_t n_history = 3 * (size_t)t->epoch;
  unsigned char *hist = malloc(8 * n_history + 1);
  int st = buf && hist ? 0 : CNNRT_ERR_NOMEM;
  uint64_t f[F_COUNT] = {CHECKPOINT_VERSION, t->fingerprint,
                         (uint64_t)t->epoch, t->step,
                         double_bits(t->loss_sum), t->opt.seed,
                         (uint64_t)t->opt.augment.crop,
                         (uint64_t)t->opt.augment.flip, t->train.count};
  m->get_rng(&f[F_RNG_SEED], &f[F_RNG_STEP]);
  unsigned char fields[8 * F_COUNT];
  encode_u64s(fields, f, F_COUNT);
  if (!st)
    st = cnnrt_checkpoint_add(&c, "trainer", fields, sizeof fields);
  for (size_t i = 0; !st && i < (size_t)t->epoch; i++) {
    uint64_t r[3] = {double_bits(t->history[i].loss),
                     double_bits(t->history[i].test_loss),
                     double_bits(t->history[i].test_accuracy)};
    encode_u64s(hist + 24 * i, r, 3);
  }
  if (!st)
    st = cnnrt_checkpoint_add(&c, "history", hist, 8 * n_history);
  if (!st && m->get_optimizer_state(buf) == 0)
    st = cnnrt_checkpoint_add(&c, "optimizer", buf, m->optimizer_state_bytes);
  char name[512];
  for (int i = 0; !st && m->params[i].name; i++) {
    snprintf(name, sizeof name, "param:%s", m->params[i].name);
    if (m->get_param(i, buf) != 0)
      st = CNNRT_ERR_ARG;
    else
      st = cnnrt_checkpoint_add(&c, name, buf, tensor_bytes(&m->params[i]));
  }
  for (int i = 0; !st && m->states[i].name; i++) {
    snprintf(name, sizeof name, "state:%s", m->states[i].name);
    if (m->get_state(i, buf) != 0)
      st = CNNRT_ERR_ARG;
    else
      st = cnnrt_checkpoint_add(&c, name, buf, tensor_bytes(&m->states[i]));
  }
  if (!st)
    st = cnnrt_checkpoint_write(t->checkpoint_path, &c);
  cnnrt_checkpoint_free(&c);
  free(buf);
  free(hist);
  if (st)
    return fail(t, "cannot save the checkpoint: %s",
                st == CNNRT_ERR_NOMEM ? "out of memory" : cnnrt_last_error());
  return 0;
}

/* The checkpoint's settings must be this run's, or it would not repeat the
 * interrupted run. */
static int check_setting(const trainer *t, const char *what, uint64_t saved,
                         uint64_t now) {
  if (saved == now)
    return 0;
  return fail(t, "%s was written with %s %llu, this run has %llu: resume "
                 "with the same settings",
              t->checkpoint_path, what, (unsigned long long)saved,
              (unsigned long long)now);
}

static int load_checkpoint(trainer *t) {
  const cnnrt_train_model *m = t->m;
  cnnrt_checkpoint c;
  if (cnnrt_checkpoint_read(t->checkpoint_path, &c) != 0)
    return fail(t, "%s", cnnrt_last_error());
  unsigned char fields[8 * F_COUNT];
  uint64_t f[F_COUNT] = {0};
  unsigned char *buf = malloc(largest_tensor(m) + 1);
  int err = buf ? 0 : fail(t, "out of memory");
  if (!err && cnnrt_checkpoint_get(&c, "trainer", fields, sizeof fields)) {
    err = fail(t, "%s: %s", t->checkpoint_path, cnnrt_last_error());
  } else if (!err) {
    decode_u64s(f, fields, F_COUNT);
    if (f[F_VERSION] != CHECKPOINT_VERSION || f[F_FINGERPRINT] != t->fingerprint)
      err = fail(t, "%s was written by another model (or another build of "
                    "it: a different batch size, optimizer or tensors)",
                 t->checkpoint_path);
  }
  err = err || check_setting(t, "--seed", f[F_SEED], t->opt.seed) ||
        check_setting(t, "--augment crop:", f[F_CROP],
                      (uint64_t)t->opt.augment.crop) ||
        check_setting(t, "--augment flip (0 or 1)", f[F_FLIP],
                      (uint64_t)t->opt.augment.flip) ||
        check_setting(t, "a training set size (--limit)", f[F_TRAIN_COUNT],
                      t->train.count);
  const cnnrt_section *h = err ? NULL : cnnrt_checkpoint_find(&c, "history");
  if (!err && (!h || h->size != 24 * f[F_EPOCH]))
    err = fail(t, "%s: its history does not cover its %llu epochs",
               t->checkpoint_path, (unsigned long long)f[F_EPOCH]);
  if (!err) {
    t->epoch = (int)f[F_EPOCH];
    t->step = (size_t)f[F_STEP];
    t->loss_sum = bits_double(f[F_LOSS_SUM]);
    epoch_record *grown =
        realloc(t->history, (size_t)(t->epoch + 1) * sizeof *t->history);
    if (!grown)
      err = fail(t, "out of memory");
    else
      t->history = grown;
    for (int i = 0; !err && i < t->epoch; i++) {
      uint64_t r[3];
      decode_u64s(r, (const unsigned char *)h->data + 24 * i, 3);
      t->history[i] = (epoch_record){bits_double(r[0]), bits_double(r[1]),
                                     bits_double(r[2])};
    }
  }
  if (!err) {
    m->set_rng(f[F_RNG_SEED], f[F_RNG_STEP]);
    if (cnnrt_checkpoint_get(&c, "optimizer", buf, m->optimizer_state_bytes) ||
        m->set_optimizer_state(buf))
      err = fail(t, "%s: %s", t->checkpoint_path, cnnrt_last_error());
  }
  char name[512];
  for (int i = 0; !err && m->params[i].name; i++) {
    snprintf(name, sizeof name, "param:%s", m->params[i].name);
    if (cnnrt_checkpoint_get(&c, name, buf, tensor_bytes(&m->params[i])) ||
        m->set_param(i, buf))
      err = fail(t, "%s: %s", t->checkpoint_path, cnnrt_last_error());
  }
  for (int i = 0; !err && m->states[i].name; i++) {
    snprintf(name, sizeof name, "state:%s", m->states[i].name);
    if (cnnrt_checkpoint_get(&c, name, buf, tensor_bytes(&m->states[i])) ||
        m->set_state(i, buf))
      err = fail(t, "%s: %s", t->checkpoint_path, cnnrt_last_error());
  }
  free(buf);
  cnnrt_checkpoint_free(&c);
  return err;
}

/* ---- Export ---- */

int cnnrt_export_onnx(const cnnrt_train_model *m, const char *path) {
  unsigned char *copy = malloc(m->onnx_size);
  if (!copy)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory", path);
  memcpy(copy, m->onnx, m->onnx_size);
  const cnnc_tensor_info *lists[] = {m->params, m->states};
  for (int l = 0; l < 2; l++)
    for (int i = 0; lists[l][i].name; i++) {
      const cnnc_tensor_info *ti = &lists[l][i];
      const cnnrt_onnx_tensor *o = m->onnx_tensors;
      while (o->name && strcmp(o->name, ti->name) != 0)
        o++;
      if (!o->name || o->size != tensor_bytes(ti) ||
          o->offset + o->size > m->onnx_size) {
        free(copy);
        return cnnrt_fail(CNNRT_ERR_MISMATCH,
                          "%s: the model's ONNX file has no raw data of "
                          "%zu bytes for '%s'",
                          path, tensor_bytes(ti), ti->name);
      }
      /* ONNX raw data is little-endian, as the host (checked by the glue). */
      int got = l == 0 ? m->get_param(i, copy + o->offset)
                       : m->get_state(i, copy + o->offset);
      if (got != 0) {
        free(copy);
        return cnnrt_fail(CNNRT_ERR_ARG, "%s: cannot read '%s'", path,
                          ti->name);
      }
    }
  int st = cnnrt_write_file_atomic(path, copy, m->onnx_size);
  free(copy);
  return st;
}

/* ---- Reports ---- */

static int write_plot(trainer *t) {
  size_t n = (size_t)t->epoch;
  double *v = malloc(3 * (n ? n : 1) * sizeof *v);
  if (!v)
    return fail(t, "%s: out of memory", t->opt.plot_path);
  for (size_t i = 0; i < n; i++) {
    v[i] = t->history[i].loss;
    v[n + i] = t->history[i].test_loss;
    v[2 * n + i] = t->history[i].test_accuracy;
  }
  cnnrt_panel panels[2] = {
      {"Loss", "cross-entropy loss", {{"training (mean of the epoch)", v},
                                      {"test", v + n}}, 2},
      {"Test accuracy", "accuracy (%)", {{"test", v + 2 * n}}, 1}};
  if (t->m->loss == CNNRT_LOSS_NLL)
    panels[0].y_label = "negative log-likelihood";
  char title[512];
  snprintf(title, sizeof title, "Training %s", t->m->name);
  int st = cnnrt_plot_svg(t->opt.plot_path, title, panels,
                          t->test.count ? 2 : 1, n);
  free(v);
  return st ? fail(t, "%s", cnnrt_last_error()) : 0;
}

static double thread_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double learning_rate(const trainer *t, int epoch) {
  const cnnrt_train_model *m = t->m;
  switch (m->schedule) {
  case CNNRT_SCHEDULE_STEP:
    return t->base_lr * pow(m->gamma, epoch / (m->step_size ? m->step_size
                                                            : 1));
  case CNNRT_SCHEDULE_COSINE: /* torch.optim.lr_scheduler.CosineAnnealingLR */
    return m->min_lr + (t->base_lr - m->min_lr) *
                           (1 + cos(PI * epoch / t->opt.epochs)) / 2;
  default: return t->base_lr;
  }
}

/* ---- The run ---- */

static int setup(trainer *t) {
  const cnnrt_train_model *m = t->m;
  const cnnc_tensor_info *in = m->input;
  t->sample = in->count / (size_t)m->batch;
  t->classes = m->output->count / (size_t)m->batch;
  if (in->rank == 4) {
    t->channels = (int)in->dims[1];
    t->height = (int)in->dims[2];
    t->width = (int)in->dims[3];
  }
  t->fingerprint = model_fingerprint(m);
  t->base_lr = m->get_learning_rate();
  t->x = malloc(in->count * sizeof *t->x);
  t->scratch = malloc(t->sample * sizeof *t->scratch);
  t->input = m->elem_type == CNNRT_DOUBLE
                 ? malloc(in->count * sizeof(double))
                 : (void *)t->x;
  t->output = malloc(m->output->count * m->output->elem_size);
  t->targets = malloc((size_t)m->batch * sizeof *t->targets);
  t->history = malloc(sizeof *t->history);
  if (!t->x || !t->scratch || !t->input || !t->output || !t->targets ||
      !t->history)
    return fail(t, "out of memory");
  return 0;
}

static int train_epoch(trainer *t, cnnrt_progress *bar, uint64_t total_steps,
                       FILE *log) {
  const cnnrt_train_model *m = t->m;
  const options *o = &t->opt;
  size_t steps = t->train.count / (size_t)m->batch;
  int e = t->epoch;
  m->set_learning_rate(learning_rate(t, e));
  cnnrt_permutation(o->seed, (uint64_t)e, t->order, t->train.count);
  const void *inputs[] = {t->input}, *targets[] = {t->targets};
  double wall = cnnrt_seconds(), cpu = thread_seconds();
  double last_save = wall;
  size_t first_step = t->step;
  while (t->step < steps) {
    size_t first = t->step * (size_t)m->batch;
    fill_batch(t, &t->train, t->order + first, (size_t)m->batch, (uint64_t)e,
               first);
    double loss;
    int st = m->train_step(inputs, targets, &loss);
    if (st != 0)
      return fail(t, "the training step failed (%d) at epoch %d, step %zu",
                  st, e + 1, t->step + 1);
    if (!isfinite(loss))
      return fail(t, "the loss is %g at epoch %d, step %zu: the training "
                     "diverged (a lower learning rate may help)",
                  loss, e + 1, t->step + 1);
    t->loss_sum += loss;
    t->step++;
    cnnrt_progress_update(bar, e + 1, o->epochs, t->step, steps,
                          t->loss_sum / (double)t->step,
                          (uint64_t)e * steps + t->step, total_steps,
                          m->batch);
    if (o->checkpoint_dir && t->step < steps) { /* the epoch's end saves too */
      double now = cnnrt_seconds();
      if (o->checkpoint_every ? t->step % o->checkpoint_every == 0
                              : now - last_save >= CHECKPOINT_SECONDS) {
        if (save_checkpoint(t))
          return 1;
        last_save = now;
      }
    }
  }
  double wall_s = cnnrt_seconds() - wall, cpu_s = thread_seconds() - cpu;
  size_t trained = steps - first_step;
  epoch_record r = {t->loss_sum / (double)(steps ? steps : 1), NAN, NAN};
  if (t->test.count && evaluate(t, &r.test_accuracy, &r.test_loss))
    return 1;
  epoch_record *grown =
      realloc(t->history, (size_t)(e + 1) * sizeof *t->history);
  if (!grown)
    return fail(t, "out of memory");
  t->history = grown;
  t->history[e] = r;
  t->epoch++;
  t->step = 0;
  t->loss_sum = 0;
  if (o->checkpoint_dir && save_checkpoint(t))
    return 1;
  cnnrt_progress_clear(bar);
  double rate = wall_s > 0 ? (double)(trained * m->batch) / wall_s : 0;
  printf("epoch %d/%d  loss %.4f", e + 1, o->epochs, r.loss);
  if (t->test.count)
    printf("  test loss %.4f  test accuracy %.2f%%", r.test_loss,
           r.test_accuracy);
  printf("  %.1f s  %.0f samples/s\n", wall_s, rate);
  fflush(stdout);
  if (log) {
    fprintf(log, "%d\t%.6f\t%.6f\t%.4f\t%zu\t%.4f\t%.4f\t%.3f\n", e + 1,
            r.loss, r.test_loss, r.test_accuracy, trained, wall_s, cpu_s,
            cpu_s > 0 ? m->flops_per_step * (double)trained / cpu_s * 1e-9
                      : 0.0);
    fflush(log);
  }
  if (o->plot_path && write_plot(t))
    return 1;
  return 0;
}

static int run(trainer *t) {
  const options *o = &t->opt;
  const cnnrt_train_model *m = t->m;
  if (load_dataset(t, o->train_images, o->train_labels, o->limit, &t->train))
    return 1;
  if (o->test_images && load_dataset(t, o->test_images, o->test_labels,
                                     o->test_limit, &t->test))
    return 1;
  size_t steps = t->train.count / (size_t)m->batch;
  if (steps == 0)
    return fail(t, "%zu training images do not fill one batch of %d",
                t->train.count, m->batch);
  size_t order_len = t->train.count > (size_t)m->batch ? t->train.count
                                                      : (size_t)m->batch;
  t->order = malloc(order_len * sizeof *t->order);
  if (!t->order)
    return fail(t, "out of memory");

  m->set_rng(o->seed, 0);
  if (o->checkpoint_dir) {
    if (mkdir(o->checkpoint_dir, 0777) != 0 && errno != EEXIST)
      return fail(t, "cannot create the directory %s: %s", o->checkpoint_dir,
                  strerror(errno));
    size_t len = strlen(o->checkpoint_dir) + sizeof CHECKPOINT_FILE + 1;
    t->checkpoint_path = malloc(len);
    if (!t->checkpoint_path)
      return fail(t, "out of memory");
    snprintf(t->checkpoint_path, len, "%s/%s", o->checkpoint_dir,
             CHECKPOINT_FILE);
    struct stat sb;
    int exists = stat(t->checkpoint_path, &sb) == 0;
    if (exists && !o->resume)
      return fail(t, "%s exists: add --resume to continue from it, or remove "
                     "it to start again",
                  t->checkpoint_path);
    if (exists) {
      if (load_checkpoint(t))
        return 1;
      printf("resuming from %s: epoch %d, step %zu of %zu\n",
             t->checkpoint_path, t->epoch + 1, t->step, steps);
    } else if (o->resume) {
      printf("%s does not exist yet: starting from the beginning\n",
             t->checkpoint_path);
    }
  }

  FILE *log = NULL;
  if (o->log_path) {
    log = fopen(o->log_path, t->epoch || t->step ? "a" : "w");
    if (!log)
      return fail(t, "cannot write %s: %s", o->log_path, strerror(errno));
    if (!t->epoch && !t->step)
      fprintf(log, "epoch\tloss\ttest_loss\ttest_accuracy\tsteps\tseconds\t"
                   "cpu_seconds\tgflops\n");
  }
  printf("training %s: %zu images, batch %d, %zu steps per epoch, %d "
         "epoch%s\n",
         m->name, t->train.count, m->batch, steps, o->epochs,
         o->epochs == 1 ? "" : "s");
  fflush(stdout);
  cnnrt_progress bar;
  cnnrt_progress_start(&bar, stdout, (uint64_t)t->epoch * steps + t->step);
  int err = 0;
  while (!err && t->epoch < o->epochs)
    err = train_epoch(t, &bar, (uint64_t)o->epochs * steps, log);
  if (log && fclose(log) != 0 && !err)
    err = fail(t, "cannot write %s", o->log_path);
  if (!err && o->plot_path && t->epoch && write_plot(t))
    err = 1;
  if (!err && o->export_path) {
    if (cnnrt_export_onnx(m, o->export_path) != 0)
      err = fail(t, "%s", cnnrt_last_error());
    else
      printf("exported the trained model to %s\n", o->export_path);
  }
  return err;
}

int cnnrt_trainer_main(const cnnrt_train_model *m, int argc, char **argv) {
  trainer t = {.m = m};
  const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
  t.prog = slash ? slash + 1 : argc > 0 ? argv[0] : "train";
  if (setup(&t))
    return 1;
  int st = parse_options(&t, argc, argv);
  if (!st)
    st = run(&t);
  cnnrt_tensor_free(&t.train.images);
  cnnrt_tensor_free(&t.train.labels);
  cnnrt_tensor_free(&t.test.images);
  cnnrt_tensor_free(&t.test.labels);
  free(t.x);
  free(t.scratch);
  if (t.input != (void *)t.x)
    free(t.input);
  free(t.output);
  free(t.targets);
  free(t.order);
  free(t.history);
  free(t.checkpoint_path);
  return st;
}
