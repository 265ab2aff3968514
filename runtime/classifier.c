/* classifier.c: a command-line image classifier around one generated model.
 *
 * `cnnc --emit=exe` compiles this file together with the generated model
 * and the runtime sources:
 *
 *   cc -std=c11 -O2 -DCNNC_MODEL_HEADER='"model.h"' -DCNNC_MODEL_PREFIX=model
 *      classifier.c model.c <runtime .c files> -lz -ljpeg -lm
 *
 * It feeds the model's only input and reads its first output as class
 * scores, either for the files named on the command line or for every
 * image of an IDX data set, whose accuracy it reports. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnrt.h"

#ifndef CNNC_MODEL_HEADER
#error "define CNNC_MODEL_HEADER as the generated header, e.g. '\"model.h\"'"
#endif
#ifndef CNNC_MODEL_PREFIX
#error "define CNNC_MODEL_PREFIX as the generated prefix, e.g. model"
#endif
#include CNNC_MODEL_HEADER

/* Two levels, so that CNNC_MODEL_PREFIX is expanded before pasting. */
#define MODEL_PASTE_(prefix, name) prefix##_##name
#define MODEL_PASTE(prefix, name) MODEL_PASTE_(prefix, name)
#define MODEL(name) MODEL_PASTE(CNNC_MODEL_PREFIX, name)

_Static_assert(MODEL(NUM_INPUTS) == 1,
               "the classifier needs a model with exactly one input");
_Static_assert(MODEL(NUM_OUTPUTS) >= 1,
               "the classifier needs a model with an output");

/* Buffers are aligned for the widest vector loads generated code may use. */
#define BUFFER_ALIGN 64

typedef struct options {
  size_t top;
  int softmax;
  const char *labels_path;
  int layout;
  int scale;
  int n_mean, n_std;
  float mean[3], std[3];
  const char *idx_images, *idx_labels;
  size_t limit; /* 0: every image */
  char **files;
  int n_files;
} options;

/* Everything one run of the model needs. */
typedef struct session {
  const options *opt;
  const cnnc_tensor_info *in, *out;
  void *input;
  void *outputs[MODEL(NUM_OUTPUTS)];
  float *scores; /* copy of output 0, so softmax leaves the model's intact */
  size_t n_classes;
  cnnrt_labels labels;
} session;

static const char *prog = "classify";

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void
print_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void shape_text(char *buf, size_t size, const cnnc_tensor_info *t) {
  size_t len =
      (size_t)snprintf(buf, size, "%s ", cnnrt_elem_type_name(t->elem_type));
  for (int i = 0; i < t->rank && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? "," : "[",
                            (long long)t->dims[i]);
  if (len < size)
    snprintf(buf + len, size - len, "%s", t->rank ? "]" : "[]");
}

static void usage(FILE *f) {
  char in[200], out[200];
  shape_text(in, sizeof in, &MODEL(input_info)[0]);
  shape_text(out, sizeof out, &MODEL(output_info)[0]);
  fprintf(f,
          "usage: %s [options] FILE...\n"
          "       %s [options] --idx-images FILE --idx-labels FILE\n"
          "\n"
          "Classifies each FILE with the compiled model and prints the top\n"
          "classes. FILE is a TensorProto (.pb), raw little-endian input\n"
          "(.raw, .bin) or an image (.png, .jpg, .jpeg, .pgm, .ppm, .bmp).\n"
          "\n"
          "model input:  '%s' %s\n"
          "model output: '%s' %s\n"
          "\n"
          "options:\n"
          "  --top K             print the K best classes (default 5)\n"
          "  --labels FILE       class names, one per line\n"
          "  --softmax           print softmax probabilities, not raw scores\n"
          "  --mean A[,B,C]      per-channel mean subtracted (default 0)\n"
          "  --std A[,B,C]       per-channel std divided by (default 1)\n"
          "  --layout nchw|nhwc  layout of the model input (default nchw)\n"
          "  --no-scale          keep pixels in 0..255 instead of 0..1\n"
          "  --idx-images FILE   evaluate on an IDX image set (.gz or not)\n"
          "  --idx-labels FILE   labels for --idx-images\n"
          "  --limit N           evaluate only the first N images\n"
          "  --help              show this help\n",
          prog, prog, MODEL(input_info)[0].name, in, MODEL(output_info)[0].name,
          out);
}

static int is_one_of(const char *s, const char *const *list) {
  for (; *list; list++)
    if (!strcmp(s, *list))
      return 1;
  return 0;
}

static int parse_size(const char *opt, const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (!isdigit((unsigned char)s[0]) || *end || errno || v == 0 ||
      v > (size_t)-1) {
    print_error("%s expects a positive integer, got '%s'", opt, s);
    return -1;
  }
  *out = (size_t)v;
  return 0;
}

/* Parses "a" or "a,b,c" into v, returning how many values were read. */
static int parse_floats(const char *opt, const char *s, float v[3]) {
  int n = 0;
  for (const char *p = s;; p++) {
    char *end;
    errno = 0;
    float f = strtof(p, &end);
    if (end == p || errno || !isfinite(f) || n == 3 ||
        (*end != ',' && *end != '\0')) {
      print_error("%s expects 1 or 3 comma-separated numbers, got '%s'", opt,
                  s);
      return -1;
    }
    v[n++] = f;
    if (*end == '\0')
      break;
    p = end;
  }
  if (n == 2) {
    print_error("%s expects 1 or 3 comma-separated numbers, got '%s'", opt, s);
    return -1;
  }
  return n;
}

/* Returns 0 to go on, 1 to stop successfully (--help), -1 on error. */
static int parse_args(int argc, char **argv, options *o) {
  o->top = 5;
  o->scale = 1;
  o->layout = CNNRT_LAYOUT_NCHW;
  o->files = malloc((size_t)argc * sizeof *o->files);
  if (!o->files) {
    print_error("out of memory");
    return -1;
  }
  int only_files = 0;
  for (int i = 1; i < argc; i++) {
    char *arg = argv[i];
    if (only_files || arg[0] != '-' || arg[1] == '\0') {
      o->files[o->n_files++] = arg;
      continue;
    }
    if (!strcmp(arg, "--")) {
      only_files = 1;
      continue;
    }
    /* Accept both "--opt value" and "--opt=value". */
    char name[32];
    const char *value = NULL, *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len >= sizeof name)
      len = sizeof name - 1;
    memcpy(name, arg, len);
    name[len] = '\0';
    static const char *const flags[] = {"--help", "-h", "--softmax",
                                        "--no-scale", NULL};
    static const char *const valued[] = {
        "--top",        "--limit",      "--labels",
        "--idx-images", "--idx-labels", "--mean",
        "--std",        "--layout",     NULL};
    int flag = is_one_of(name, flags);
    if (!flag && !is_one_of(name, valued)) {
      print_error("unknown option %s (try --help)", name);
      return -1;
    }
    if (flag && eq) {
      print_error("option %s takes no value", name);
      return -1;
    }
    if (!flag) {
      value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
      if (!value) {
        print_error("option %s needs a value", name);
        return -1;
      }
    }
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
      usage(stdout);
      return 1;
    } else if (!strcmp(name, "--softmax")) {
      o->softmax = 1;
    } else if (!strcmp(name, "--no-scale")) {
      o->scale = 0;
    } else if (!strcmp(name, "--top")) {
      if (parse_size(name, value, &o->top))
        return -1;
    } else if (!strcmp(name, "--limit")) {
      if (parse_size(name, value, &o->limit))
        return -1;
    } else if (!strcmp(name, "--labels")) {
      o->labels_path = value;
    } else if (!strcmp(name, "--idx-images")) {
      o->idx_images = value;
    } else if (!strcmp(name, "--idx-labels")) {
      o->idx_labels = value;
    } else if (!strcmp(name, "--mean")) {
      if ((o->n_mean = parse_floats(name, value, o->mean)) < 0)
        return -1;
    } else if (!strcmp(name, "--std")) {
      if ((o->n_std = parse_floats(name, value, o->std)) < 0)
        return -1;
      for (int c = 0; c < o->n_std; c++)
        if (o->std[c] == 0.0f) {
          print_error("--std values must be nonzero, got '%s'", value);
          return -1;
        }
    } else { /* --layout, the one option left */
      if (strcmp(value, "nchw") && strcmp(value, "nhwc")) {
        print_error("--layout expects nchw or nhwc, got '%s'", value);
        return -1;
      }
      o->layout = strcmp(value, "nchw") ? CNNRT_LAYOUT_NHWC : CNNRT_LAYOUT_NCHW;
    }
  }
  if (!o->idx_images != !o->idx_labels) {
    print_error("--idx-images and --idx-labels go together");
    return -1;
  }
  if (o->n_files == 0 && !o->idx_images) {
    print_error("no input files (try --help)");
    return -1;
  }
  return 0;
}

/* Copies --no-scale, --mean and --std into io, whose channels are set. */
static int set_normalization(const options *o, cnnrt_image_opts *io) {
  if ((o->n_mean == 3 || o->n_std == 3) && io->channels != 3) {
    print_error(
        "--mean/--std give 3 values, but the model input has 1 channel");
    return -1;
  }
  io->scale = o->scale;
  for (int i = 0; i < 3; i++) {
    if (o->n_mean)
      io->mean[i] = o->mean[o->n_mean == 3 ? i : 0];
    if (o->n_std)
      io->std[i] = o->std[o->n_std == 3 ? i : 0];
  }
  return 0;
}

/* Fills geometry and normalization for images from the model input's
 * shape: [1,C,H,W] or [1,H,W,C] per --layout, or the same without batch. */
static int image_opts(const session *s, cnnrt_image_opts *io) {
  const cnnc_tensor_info *in = s->in;
  const options *o = s->opt;
  char shape[200];
  shape_text(shape, sizeof shape, in);
  if (in->elem_type != CNNRT_FLOAT) {
    print_error("model input '%s' is %s; images need a float input", in->name,
                shape);
    return -1;
  }
  if ((in->rank != 4 && in->rank != 3) || (in->rank == 4 && in->dims[0] != 1)) {
    print_error("model input '%s' is %s; images need [1,C,H,W] or [1,H,W,C]",
                in->name, shape);
    return -1;
  }
  const int64_t *d = in->dims + (in->rank - 3);
  int nchw = o->layout == CNNRT_LAYOUT_NCHW;
  int64_t c = nchw ? d[0] : d[2], h = nchw ? d[1] : d[0],
          w = nchw ? d[2] : d[1];
  if (c != 1 && c != 3) {
    print_error(
        "model input '%s' is %s: as %s its channel dim is %lld, expected 1 "
        "or 3 (try --layout %s)",
        in->name, shape, nchw ? "NCHW" : "NHWC", (long long)c,
        nchw ? "nhwc" : "nchw");
    return -1;
  }
  if (h < 1 || w < 1 || h > CNNRT_MAX_IMAGE_SIDE || w > CNNRT_MAX_IMAGE_SIDE) {
    print_error("model input '%s' is %s: image size %lldx%lld is out of range",
                in->name, shape, (long long)w, (long long)h);
    return -1;
  }
  cnnrt_image_opts_init(io, (int)c, (int)h, (int)w);
  io->layout = o->layout;
  return set_normalization(o, io);
}

static void *alloc_buffer(size_t bytes) {
  size_t rounded = (bytes + BUFFER_ALIGN - 1) / BUFFER_ALIGN * BUFFER_ALIGN;
  void *p = aligned_alloc(BUFFER_ALIGN, rounded ? rounded : BUFFER_ALIGN);
  if (!p)
    print_error("out of memory for a %zu-byte buffer", bytes);
  return p;
}

static int session_open(session *s, const options *o) {
  memset(s, 0, sizeof *s);
  s->opt = o;
  s->in = &MODEL(input_info)[0];
  s->out = &MODEL(output_info)[0];
  if (s->out->elem_type != CNNRT_FLOAT || s->out->count == 0) {
    char shape[200];
    shape_text(shape, sizeof shape, s->out);
    print_error("model output '%s' is %s; expected float class scores",
                s->out->name, shape);
    return -1;
  }
  s->n_classes = s->out->count;
  if (!(s->input = alloc_buffer(s->in->count * s->in->elem_size)))
    return -1;
  for (int i = 0; i < MODEL(NUM_OUTPUTS); i++) {
    const cnnc_tensor_info *t = &MODEL(output_info)[i];
    if (!(s->outputs[i] = alloc_buffer(t->count * t->elem_size)))
      return -1;
  }
  if (!(s->scores = malloc(s->n_classes * sizeof *s->scores))) {
    print_error("out of memory");
    return -1;
  }
  if (o->labels_path) {
    if (cnnrt_labels_read(o->labels_path, &s->labels)) {
      print_error("%s", cnnrt_last_error());
      return -1;
    }
    if (s->labels.count != s->n_classes)
      fprintf(stderr, "%s: warning: %s has %zu names, the model %zu classes\n",
              prog, o->labels_path, s->labels.count, s->n_classes);
  }
  return 0;
}

static void session_close(session *s) {
  free(s->input);
  for (int i = 0; i < MODEL(NUM_OUTPUTS); i++)
    free(s->outputs[i]);
  free(s->scores);
  cnnrt_labels_free(&s->labels);
}

static int run_model(session *s) {
  const void *const inputs[1] = {s->input};
  int rc = MODEL(run)(inputs, s->outputs);
  if (rc) {
    print_error("the model failed with status %d", rc);
    return -1;
  }
  return 0;
}

/* Lower-case extension of a path, or "" if it has none. */
static void extension(const char *path, char *ext, size_t size) {
  const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
  size_t n = 0;
  if (dot && (!slash || dot > slash))
    for (dot++; dot[n] && n + 1 < size; n++)
      ext[n] = (char)tolower((unsigned char)dot[n]);
  ext[n] = '\0';
}

/* Fills the input buffer from a .pb or raw tensor file. */
static int load_tensor(session *s, const char *path, int is_pb) {
  cnnrt_tensor t;
  int st =
      is_pb ? cnnrt_tensor_read_pb(path, &t)
            : cnnrt_tensor_read_raw(path, s->in->elem_type, s->in->count, &t);
  if (st) {
    print_error("%s", cnnrt_last_error());
    return -1;
  }
  if (t.elem_type != s->in->elem_type || t.count != s->in->count) {
    char want[200], got[CNNRT_MAX_RANK * 22 + 40];
    shape_text(want, sizeof want, s->in);
    cnnc_tensor_info have = {.name = t.name,
                             .elem_type = t.elem_type,
                             .elem_size = t.elem_size,
                             .rank = t.rank,
                             .dims = t.dims,
                             .count = t.count};
    shape_text(got, sizeof got, &have);
    print_error("%s: tensor is %s, but model input '%s' is %s", path, got,
                s->in->name, want);
    cnnrt_tensor_free(&t);
    return -1;
  }
  memcpy(s->input, t.data, t.count * t.elem_size);
  cnnrt_tensor_free(&t);
  return 0;
}

static int classify_file(session *s, const char *path) {
  static const char *const images[] = {"png", "jpg", "jpeg", "pgm",
                                       "ppm", "bmp", NULL};
  static const char *const raws[] = {"raw", "bin", NULL};
  char ext[8];
  extension(path, ext, sizeof ext);
  if (!strcmp(ext, "pb") || is_one_of(ext, raws)) {
    if (load_tensor(s, path, !strcmp(ext, "pb")))
      return -1;
  } else if (is_one_of(ext, images)) {
    cnnrt_image_opts io;
    if (image_opts(s, &io))
      return -1;
    if (cnnrt_image_load(path, &io, s->input)) {
      print_error("%s", cnnrt_last_error());
      return -1;
    }
  } else {
    print_error("%s: unknown file type; expected .pb, .raw, .bin, .png, .jpg, "
                ".jpeg, .pgm, .ppm or .bmp",
                path);
    return -1;
  }
  if (run_model(s))
    return -1;
  memcpy(s->scores, s->outputs[0], s->n_classes * sizeof *s->scores);
  if (s->opt->softmax)
    cnnrt_softmax(s->scores, s->n_classes);
  size_t k = s->opt->top < s->n_classes ? s->opt->top : s->n_classes;
  size_t *best = malloc(k * sizeof *best);
  if (!best) {
    print_error("out of memory");
    return -1;
  }
  k = cnnrt_topk(s->scores, s->n_classes, k, best);
  printf("%s:\n", path);
  for (size_t i = 0; i < k; i++) {
    const char *label =
        best[i] < s->labels.count ? s->labels.names[best[i]] : "";
    printf("  %12.6f  %zu%s%s\n", s->scores[best[i]], best[i],
           *label ? "  " : "", label);
  }
  free(best);
  return 0;
}

/* Checks that an IDX pair holds uint8 images [N,H,W] and N uint8 labels. */
static int check_data_set(const options *o, const cnnrt_tensor *images,
                          const cnnrt_tensor *labels) {
  if (images->elem_type != CNNRT_UINT8 || images->rank != 3) {
    print_error("%s: expected uint8 images of dims [N,H,W], got %s of rank %d",
                o->idx_images, cnnrt_elem_type_name(images->elem_type),
                images->rank);
    return -1;
  }
  if (labels->elem_type != CNNRT_UINT8 || labels->rank != 1 ||
      labels->dims[0] != images->dims[0]) {
    print_error("%s: expected %lld uint8 labels of dims [N], got %s of rank %d "
                "with %zu elements",
                o->idx_labels, (long long)images->dims[0],
                cnnrt_elem_type_name(labels->elem_type), labels->rank,
                labels->count);
    return -1;
  }
  if (images->count == 0) {
    print_error("%s: holds no images", o->idx_images);
    return -1;
  }
  if (images->dims[1] > CNNRT_MAX_IMAGE_SIDE ||
      images->dims[2] > CNNRT_MAX_IMAGE_SIDE) {
    print_error("%s: images of %lldx%lld pixels are too large", o->idx_images,
                (long long)images->dims[2], (long long)images->dims[1]);
    return -1;
  }
  return 0;
}

/* Chooses how HxW data-set images become the model input. An input of
 * exactly H*W floats, such as [1,784], takes the pixels in row-major order;
 * for a one-channel image input of that size this is the same as the image
 * path. Any other input must be image-shaped. */
static int data_set_opts(const session *s, int h, int w, cnnrt_image_opts *io) {
  if (s->in->elem_type != CNNRT_FLOAT || s->in->count != (size_t)h * (size_t)w)
    return image_opts(s, io);
  cnnrt_image_opts_init(io, 1, h, w);
  return set_normalization(s->opt, io);
}

/* Runs the first n images (all, or --limit) and prints the accuracy and the
 * mean time per image, timing only the model. */
static int run_data_set(session *s, const cnnrt_tensor *images,
                        const cnnrt_tensor *labels) {
  const options *o = s->opt;
  int h = (int)images->dims[1], w = (int)images->dims[2];
  size_t n = (size_t)images->dims[0], correct = 0;
  if (o->limit && o->limit < n)
    n = o->limit;
  cnnrt_image_opts io;
  if (data_set_opts(s, h, w, &io))
    return -1;
  const unsigned char *pixels = images->data, *truth = labels->data;
  double seconds = 0;
  for (size_t i = 0; i < n; i++) {
    if (truth[i] >= s->n_classes) {
      print_error("%s: label %u of image %zu is not below the model's %zu "
                  "classes",
                  o->idx_labels, truth[i], i, s->n_classes);
      return -1;
    }
    if (cnnrt_image_convert(pixels + i * (size_t)h * (size_t)w, w, h, 1, &io,
                            s->input)) {
      print_error("%s: image %zu: %s", o->idx_images, i, cnnrt_last_error());
      return -1;
    }
    double t0 = cnnrt_seconds();
    if (run_model(s))
      return -1;
    seconds += cnnrt_seconds() - t0;
    size_t best;
    cnnrt_topk(s->outputs[0], s->n_classes, 1, &best);
    correct += best == truth[i];
  }
  printf("accuracy: %.2f%% (%zu/%zu)\n", 100.0 * (double)correct / (double)n,
         correct, n);
  printf("time per image: %.3f ms\n", seconds * 1e3 / (double)n);
  return 0;
}

static int evaluate(session *s) {
  cnnrt_tensor images, labels;
  if (cnnrt_idx_read(s->opt->idx_images, &images)) {
    print_error("%s", cnnrt_last_error());
    return -1;
  }
  int rc = -1;
  if (cnnrt_idx_read(s->opt->idx_labels, &labels))
    print_error("%s", cnnrt_last_error());
  else if (!check_data_set(s->opt, &images, &labels))
    rc = run_data_set(s, &images, &labels);
  cnnrt_tensor_free(&images);
  cnnrt_tensor_free(&labels);
  return rc;
}

int main(int argc, char **argv) {
  if (argc > 0 && argv[0][0]) {
    const char *slash = strrchr(argv[0], '/');
    prog = slash ? slash + 1 : argv[0];
  }
  options o = {0};
  int rc = parse_args(argc, argv, &o);
  if (rc) {
    free(o.files);
    return rc < 0 ? 1 : 0;
  }
  session s;
  int failed = session_open(&s, &o) != 0;
  if (!failed) {
    /* A bad file does not stop the others, but fails the whole run. */
    for (int i = 0; i < o.n_files; i++)
      failed |= classify_file(&s, o.files[i]) != 0;
    if (o.idx_images)
      failed |= evaluate(&s) != 0;
  }
  session_close(&s);
  free(o.files);
  return failed;
}
