/* cnnc: compiles a model (ONNX, or the .cnn DSL) into specialized C: the stages of pipeline.c, then emit_c, then
 * for --emit=obj|exe|trainer the C compiler; --emit=onnx|dsl write the model itself in the other format, --emit=dot|svg
 * draw the compiled graph, and `cnnc report` tells what the compiled model is made of. */
#include "cnnc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The one description of the command line: --help prints it, and the man page cnnc(1) is made from it at build
 * time (help2man, with the sections of docs/cnnc.h2m), so the two cannot drift apart. */
static const char usage[] =
    "Usage: cnnc MODEL.onnx|MODEL.cnn [options]\n"
    "  or:  cnnc check MODEL.onnx DATA_DIR [options]\n"
    "  or:  cnnc check MODEL.onnx --input FILE... --expect FILE... [options]\n"
    "  or:  cnnc report MODEL.onnx|MODEL.cnn [--json] [options]\n"
    "Compile a convolutional network from ONNX (or cnnc's .cnn DSL) into specialized C: every dimension a\n"
    "constant, every intermediate tensor in one static arena, the weights compiled in, no interpreter.\n"
    "\n"
    "Commands:\n"
    "  cnnc MODEL         compile MODEL: C source and header (model.c and model.h unless -o says otherwise), an\n"
    "                     object, a classifier program, a picture of the graph, or the model converted (--emit)\n"
    "  cnnc check MODEL DATA_DIR\n"
    "                     compile MODEL, build it with CC, run it on DATA_DIR/input_*.pb and compare with\n"
    "                     DATA_DIR/output_*.pb: one line per output (name, shape, max abs and rel error, pass\n"
    "                     or FAIL); exit status 0 only if every output passes\n"
    "  cnnc report MODEL  print one row per generated layer (a fused group counts once): the ONNX nodes it\n"
    "                     covers, ops, output shape and layout, parameters, multiply-adds, kernel, arena offset\n"
    "                     and bytes; a view (no code) as a row without a number; then the totals, the arena\n"
    "                     size and its lower bound\n"
    "\n"
    "Options:\n"
    "  -o FILE            output: FILE.c, or an object FILE.o (either with FILE.h beside it), a program, a\n"
    "                     picture, or the model as ONNX or DSL (default: model.c, model.o, classify, model.dot,\n"
    "                     model.svg, train, model.onnx; the DSL to stdout)\n"
    "  --emit=c|obj|exe|dot|svg|trainer|onnx|dsl\n"
    "                     what to write (default c): C source, an object, a classifier program (see\n"
    "                     examples/classifier), a trainer program (training options apply; README, The\n"
    "                     trainer), the graph after the passes for Graphviz (dot text, or SVG drawn\n"
    "                     by Graphviz's dot program), or the model converted (a .cnn file to ONNX, an ONNX model\n"
    "                     to the DSL)\n"
    "  --name PREFIX      C identifier prefix of the generated API (default: from the output file name)\n"
    "  --dim NAME=VALUE   fix a symbolic dimension, e.g. --dim batch=1\n"
    "  --bind INPUT=FILE.pb\n"
    "                     freeze a graph input to the tensor in FILE.pb at compile time\n"
    "  --target=native|avx512|avx2|generic\n"
    "                     instruction set of the generated kernels (default native: the best this machine has)\n"
    "  --cc CC            C compiler for --emit=obj|exe|trainer and check (default $CC, else clang)\n"
    "  -O0|-O1|-O2|-O3|-Os\n"
    "                     optimization level passed to CC (default -O2)\n"
    "  --input FILE, --expect FILE\n"
    "                     check: test data as files, .pb or raw little-endian, instead of a directory\n"
    "  --atol A, --rtol R\n"
    "                     check: pass when every |got-ref| <= A + R*|ref| (default 1e-5, 1e-3)\n"
    "  --tol-scaled T     check: instead, pass when max|got-ref| <= T * max(1, max|ref|)\n"
    "  --json             report: write a JSON object (layers, views, totals) instead of the table\n"
    "  -d                 print the graph after each pipeline stage to stderr\n"
    "  -h, --help         print this help and exit\n"
    "  --version          print the version and the git commit cnnc was built from, and exit\n"
    "\n"
    "Training options (--train writes training code: see the README's Training section; a .cnn file's train\n"
    "section gives the defaults):\n"
    "  --train            compile one training step (forward, loss, backward, optimizer) and inference\n"
    "  --batch N          every graph input's first dimension becomes N\n"
    "  --loss=cross-entropy|nll|mse\n"
    "                     softmax cross-entropy on logits (default), NLL on log-probabilities, mean squared error\n"
    "  --optimizer=sgd|adam|adamw  as torch.optim (default sgd)\n"
    "  --lr R             learning rate (default 0.01 for sgd, 0.001 for adam/adamw)\n"
    "  --momentum M --nesterov      sgd (default 0, off)\n"
    "  --beta1 B --beta2 B --eps E  adam/adamw (default 0.9, 0.999, 1e-8)\n"
    "  --weight-decay W   L2 penalty (sgd, adam) or decoupled decay (adamw; default 0.01, else 0)\n"
    "  --freeze NAME,...  keep these initializers fixed\n"
    "  --seed S           seed of Dropout's masks (default 0, or the .cnn file's)\n"
    "\n"
    "Exit status:\n"
    "  0 on success (check: every output passes); 1 for an error in the model, the data or the files, or an\n"
    "  output out of tolerance; 2 for a usage error. Errors name the model file, the node and what was\n"
    "  expected, and leave no output file behind.\n";

typedef enum { CMD_COMPILE, CMD_CHECK, CMD_REPORT } Command;
typedef enum { EMIT_C, EMIT_OBJ, EMIT_EXE, EMIT_DOT, EMIT_SVG, EMIT_TRAINER, EMIT_ONNX, EMIT_DSL } EmitKind;

typedef struct Args {
  const char *model, *data_dir, *output, *name;
  Command command;
  bool json, train;
  TrainOptions train_opts;
  EmitKind emit;
  PipelineOptions pipeline;
  EmitOptions emit_opts;
  CheckOptions check_opts;
} Args;

static noreturn void usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "cnnc: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see cnnc --help)\n");
  exit(2);
}

/* Matches "--opt=value" or "--opt value"; returns the value or NULL. */
static const char *option_value(const char *opt, int argc, char **argv, int *i) {
  size_t len = strlen(opt);
  if (strncmp(argv[*i], opt, len) != 0)
    return NULL;
  if (argv[*i][len] == '=')
    return argv[*i] + len + 1;
  if (argv[*i][len] != 0)
    return NULL;
  if (*i + 1 >= argc)
    usage_error("%s needs a value", opt);
  return argv[++*i];
}

static void split_pair(const char *s, const char *opt, char **name, char **value) {
  const char *eq = strchr(s, '=');
  if (!eq || eq == s || !eq[1])
    usage_error("expected NAME=VALUE after %s", opt);
  *name = cn_strndup(s, (size_t)(eq - s));
  *value = cn_strdup(eq + 1);
}

static double parse_double(const char *s, const char *opt) {
  char *end;
  double x = strtod(s, &end);
  if (*end || x < 0)
    usage_error("%s takes a non-negative number", opt);
  return x;
}

static double parse_number(const char *s, const char *opt) {
  char *end;
  double x = strtod(s, &end);
  if (!*s || *end)
    usage_error("%s takes a number", opt);
  return x;
}

/* "a,b,c" appended to names. */
static void split_list(const char *s, const char ***names, int *count) {
  int parts = 1;
  for (const char *p = s; *p; p++)
    parts += *p == ',';
  const char **grown = cn_alloc_array((size_t)(*count + parts), sizeof *grown);
  if (*count)
    memcpy(grown, *names, (size_t)*count * sizeof *grown);
  *names = grown;
  for (const char *p = s; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == 0)
      usage_error("%s", "--freeze takes NAME,NAME,... without empty names");
    (*names)[(*count)++] = cn_strndup(p, len);
    p += len + (comma ? 1 : 0);
  }
}

/* The training options; returns false when argv[*i] is none of them. */
static bool parse_train_option(Args *a, int argc, char **argv, int *i) {
  TrainOptions *t = &a->train_opts;
  const char *v;
  if (strcmp(argv[*i], "--train") == 0) {
    a->train = true;
  } else if (strcmp(argv[*i], "--nesterov") == 0) {
    t->nesterov = true;
    t->given |= TRAIN_GIVEN_NESTEROV;
  } else if ((v = option_value("--batch", argc, argv, i))) {
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end || n < 1 || n > (1 << 24))
      usage_error("--batch takes a positive integer, not '%s'", v);
    a->pipeline.load.batch = n;
  } else if ((v = option_value("--loss", argc, argv, i))) {
    if (strcmp(v, "cross-entropy") == 0)
      t->loss = LOSS_CROSS_ENTROPY;
    else if (strcmp(v, "nll") == 0)
      t->loss = LOSS_NLL;
    else if (strcmp(v, "mse") == 0)
      t->loss = LOSS_MSE;
    else
      usage_error("--loss takes cross-entropy, nll or mse, not '%s'", v);
    t->given |= TRAIN_GIVEN_LOSS;
  } else if ((v = option_value("--optimizer", argc, argv, i))) {
    if (strcmp(v, "sgd") == 0)
      t->optimizer = OPTIMIZER_SGD;
    else if (strcmp(v, "adam") == 0)
      t->optimizer = OPTIMIZER_ADAM;
    else if (strcmp(v, "adamw") == 0)
      t->optimizer = OPTIMIZER_ADAMW;
    else
      usage_error("--optimizer takes sgd, adam or adamw, not '%s'", v);
    t->given |= TRAIN_GIVEN_OPTIMIZER;
  } else if ((v = option_value("--lr", argc, argv, i))) {
    t->lr = parse_number(v, "--lr");
    t->given |= TRAIN_GIVEN_LR;
  } else if ((v = option_value("--momentum", argc, argv, i))) {
    t->momentum = parse_number(v, "--momentum");
    t->given |= TRAIN_GIVEN_MOMENTUM;
  } else if ((v = option_value("--weight-decay", argc, argv, i))) {
    t->weight_decay = parse_number(v, "--weight-decay");
    t->given |= TRAIN_GIVEN_WEIGHT_DECAY;
  } else if ((v = option_value("--beta1", argc, argv, i))) {
    t->beta1 = parse_number(v, "--beta1");
    t->given |= TRAIN_GIVEN_BETA1;
  } else if ((v = option_value("--beta2", argc, argv, i))) {
    t->beta2 = parse_number(v, "--beta2");
    t->given |= TRAIN_GIVEN_BETA2;
  } else if ((v = option_value("--eps", argc, argv, i))) {
    t->eps = parse_number(v, "--eps");
    t->given |= TRAIN_GIVEN_EPS;
  } else if ((v = option_value("--seed", argc, argv, i))) {
    char *end;
    t->seed = strtoull(v, &end, 0);
    if (!*v || *end)
      usage_error("--seed takes a non-negative integer, not '%s'", v);
    t->given |= TRAIN_GIVEN_SEED;
  } else if ((v = option_value("--freeze", argc, argv, i))) {
    split_list(v, &t->freeze, &t->n_freeze);
  } else {
    return false;
  }
  return true;
}

static Args parse_args(int argc, char **argv) {
  Args a = {.check_opts = {.atol = 1e-5, .rtol = 1e-3}};
  a.emit_opts.target = target_native(&a.emit_opts.target_why);
  a.pipeline.load.binds = cn_alloc_array((size_t)argc, sizeof(Binding));
  a.pipeline.load.dims = cn_alloc_array((size_t)argc, sizeof(DimSetting));
  a.check_opts.inputs = cn_alloc_array((size_t)argc, sizeof(char *));
  a.check_opts.expects = cn_alloc_array((size_t)argc, sizeof(char *));
  const char *positional[3];
  int n_pos = 0;
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "check") == 0) {
    a.command = CMD_CHECK;
    first = 2;
  } else if (argc > 1 && strcmp(argv[1], "report") == 0) {
    a.command = CMD_REPORT;
    first = 2;
  }
  for (int i = first; i < argc; i++) {
    const char *v;
    char *name, *value;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      exit(0);
    } else if (strcmp(argv[i], "--version") == 0) {
      printf("cnnc %s (git %s)\n", CN_VERSION, cn_git_commit);
      exit(0);
    } else if (strcmp(argv[i], "-o") == 0) {
      if (++i >= argc)
        usage_error("%s needs a file name", "-o");
      a.output = argv[i];
    } else if ((v = option_value("--emit", argc, argv, &i))) {
      if (strcmp(v, "c") == 0)
        a.emit = EMIT_C;
      else if (strcmp(v, "obj") == 0)
        a.emit = EMIT_OBJ;
      else if (strcmp(v, "exe") == 0)
        a.emit = EMIT_EXE;
      else if (strcmp(v, "trainer") == 0)
        a.emit = EMIT_TRAINER;
      else if (strcmp(v, "dot") == 0)
        a.emit = EMIT_DOT;
      else if (strcmp(v, "svg") == 0)
        a.emit = EMIT_SVG;
      else if (strcmp(v, "onnx") == 0)
        a.emit = EMIT_ONNX;
      else if (strcmp(v, "dsl") == 0)
        a.emit = EMIT_DSL;
      else
        usage_error("--emit takes c, obj, exe, dot, svg, trainer, onnx or dsl, not '%s'", v);
    } else if ((v = option_value("--name", argc, argv, &i))) {
      a.name = v;
    } else if ((v = option_value("--dim", argc, argv, &i))) {
      split_pair(v, "--dim", &name, &value);
      char *end;
      long long n = strtoll(value, &end, 10);
      if (*end || n < 0)
        usage_error("--dim takes NAME=VALUE with a non-negative integer value, not '%s'", v);
      a.pipeline.load.dims[a.pipeline.load.n_dims++] = (DimSetting){name, n};
    } else if ((v = option_value("--bind", argc, argv, &i))) {
      split_pair(v, "--bind", &name, &value);
      a.pipeline.load.binds[a.pipeline.load.n_binds++] = (Binding){name, value};
    } else if ((v = option_value("--target", argc, argv, &i))) {
      a.emit_opts.target_why = NULL;
      if (strcmp(v, "native") == 0)
        a.emit_opts.target = target_native(&a.emit_opts.target_why);
      else if (strcmp(v, "generic") == 0)
        a.emit_opts.target = TARGET_GENERIC;
      else if (strcmp(v, "avx2") == 0)
        a.emit_opts.target = TARGET_AVX2;
      else if (strcmp(v, "avx512") == 0)
        a.emit_opts.target = TARGET_AVX512;
      else if (strcmp(v, "neon") == 0)
        usage_error("target '%s' is planned but not implemented yet; use native, avx512, avx2 or generic", v);
      else
        usage_error("unknown target '%s' (native, avx512, avx2, generic)", v);
    } else if ((v = option_value("--cc", argc, argv, &i))) {
      a.check_opts.cc.cc = v;
    } else if ((v = option_value("--input", argc, argv, &i))) {
      a.check_opts.inputs[a.check_opts.n_inputs++] = v;
    } else if ((v = option_value("--expect", argc, argv, &i))) {
      a.check_opts.expects[a.check_opts.n_expects++] = v;
    } else if ((v = option_value("--tol-scaled", argc, argv, &i))) {
      a.check_opts.tol_scaled = parse_double(v, "--tol-scaled");
    } else if ((v = option_value("--atol", argc, argv, &i))) {
      a.check_opts.atol = parse_double(v, "--atol");
    } else if ((v = option_value("--rtol", argc, argv, &i))) {
      a.check_opts.rtol = parse_double(v, "--rtol");
    } else if (argv[i][0] == '-' && argv[i][1] == 'O' && strchr("0123s", argv[i][2]) && argv[i][2] && !argv[i][3]) {
      a.check_opts.cc.opt = argv[i];
    } else if (strcmp(argv[i], "--json") == 0) {
      if (a.command != CMD_REPORT)
        usage_error("%s goes with cnnc report", "--json");
      a.json = true;
    } else if (strcmp(argv[i], "-d") == 0) {
      a.pipeline.dump = stderr;
    } else if (parse_train_option(&a, argc, argv, &i)) {
      continue;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      usage_error("unknown option '%s'", argv[i]);
    } else {
      if (n_pos == 2)
        usage_error("unexpected argument '%s'", argv[i]);
      positional[n_pos++] = argv[i];
    }
  }
  bool files_given = a.check_opts.n_inputs || a.check_opts.n_expects;
  if (n_pos < 1)
    usage_error("%s", "no model given");
  if (a.command == CMD_CHECK && (n_pos == 2) == files_given)
    usage_error("%s", "check needs a test data directory, or --input and --expect files");
  if (a.command != CMD_CHECK && n_pos > 1)
    usage_error("unexpected argument '%s'", positional[1]);
  if (a.emit == EMIT_TRAINER && a.command != CMD_COMPILE)
    usage_error("%s", "--emit=trainer builds a program; check and report are for inference");
  if (a.emit == EMIT_TRAINER) /* the trainer's training code takes the training options */
    a.train = true;
  if (a.train && a.emit != EMIT_C && a.emit != EMIT_OBJ && a.emit != EMIT_TRAINER)
    usage_error("%s", "--train writes C or an object (--emit=c|obj); the other --emit kinds are for inference");
  if (a.train && a.command != CMD_COMPILE)
    usage_error("%s", "--train writes C or an object; check and report are for inference");
  if (!a.train && (a.train_opts.given || a.train_opts.n_freeze))
    usage_error("%s", "training options need --train");
  a.pipeline.target = a.emit_opts.target;
  a.model = positional[0];
  a.data_dir = a.command == CMD_CHECK && n_pos == 2 ? positional[1] : NULL;
  return a;
}

/* The command line, for the generated file's header comment. */
static char *command_line(int argc, char **argv) {
  char *s = cn_strdup("cnnc");
  for (int i = 1; i < argc; i++)
    s = cn_format("%s %s", s, argv[i]);
  return s;
}

static char *strip_extension(const char *path, const char *ext) {
  size_t len = strlen(path), elen = strlen(ext);
  if (len > elen && strcmp(path + len - elen, ext) == 0)
    return cn_strndup(path, len - elen);
  return cn_strdup(path);
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static mode_t current_umask(void) {
  mode_t mask = umask(0);
  umask(mask);
  return mask;
}

/* mkstemp makes files private; outputs get the permissions any new file would. */
static mode_t new_file_mode(void) { return 0666 & ~current_umask(); }

/* Opens a temporary beside `path`; it is removed if compilation fails and renamed into place at the end. */
static FILE *open_temp(const char *path, char **temp) {
  *temp = cn_format("%s.tmpXXXXXX", path);
  int fd = mkstemp(*temp);
  if (fd < 0 || fchmod(fd, new_file_mode()) != 0)
    cn_error("cannot write '%s'", path);
  diag_track_temp(*temp);
  FILE *f = fdopen(fd, "w");
  if (!f)
    cn_error("cannot write '%s'", path);
  return f;
}

static void commit_temp(FILE *f, char *temp, const char *path) {
  if (fclose(f) != 0)
    cn_error("cannot write '%s'", path);
  if (rename(temp, path) != 0)
    cn_error("cannot rename '%s' to '%s'", temp, path);
  diag_untrack_temp(temp);
}

static void write_c(const Compiled *c, const EmitOptions *eo, const char *c_path, const char *h_path) {
  char *c_temp, *h_temp;
  FILE *c_out = open_temp(c_path, &c_temp);
  FILE *h_out = open_temp(h_path, &h_temp);
  emit_c(c->graph, &c->plan, eo, c_out, h_out);
  if (ferror(c_out) || ferror(h_out))
    cn_error("cannot write '%s'", c_path);
  commit_temp(h_out, h_temp, h_path);
  commit_temp(c_out, c_temp, c_path);
}

/* --emit=obj|exe|trainer: the C goes to a scratch directory, the compiler's product to the output path (and for
 * an object, the header beside it, to call it by). A program is the generated code, the runtime's sources and its
 * main(): classifier.c's for a classifier, the generated trainer_main.c's for a trainer. */
static void build(const Compiled *c, Args *a, const char *stem) {
  char *dir = cn_make_temp_dir("build");
  a->emit_opts.header_name = "model.h";
  char *c_path = cn_format("%s/model.c", dir);
  write_c(c, &a->emit_opts, c_path, cn_format("%s/model.h", dir));
  char *temp = cn_format("%s.tmpXXXXXX", a->output);
  int fd = mkstemp(temp);
  bool program = a->emit == EMIT_EXE || a->emit == EMIT_TRAINER;
  if (fd < 0 || fchmod(fd, new_file_mode() | (program ? 0111 & ~current_umask() : 0)) != 0)
    cn_error("cannot write '%s'", a->output);
  close(fd);
  diag_track_temp(temp);
  const char *args[48];
  int n = 0;
  if (a->emit == EMIT_OBJ) {
    args[n++] = "-c";
    args[n++] = c_path;
  } else {
    char *include = cn_format("-I%s", dir);
    args[n++] = include;
    args[n++] = cn_format("-DCNNC_MODEL_HEADER=\"model.h\"");
    args[n++] = cn_format("-DCNNC_MODEL_PREFIX=%s", a->emit_opts.prefix);
    args[n++] = c_path;
    if (a->emit == EMIT_TRAINER) {
      char *main_path = cn_format("%s/trainer_main.c", dir);
      FILE *f = fopen(main_path, "w");
      if (!f)
        cn_error("cannot write '%s'", main_path);
      trainer_write_main(c->graph, a->model, &a->pipeline, a->emit_opts.prefix, "model.h", f);
      if (fclose(f) != 0)
        cn_error("cannot write '%s'", main_path);
      args[n++] = main_path;
    }
    for (size_t i = 0; i < cn_embedded_count; i++) {
      const char *name = cn_embedded_files[i].name;
      bool other_main = a->emit == EMIT_TRAINER && strcmp(name, "classifier.c") == 0;
      char *path = embed_write(dir, name);
      size_t len = strlen(path);
      if (len > 2 && strcmp(path + len - 2, ".c") == 0 && !other_main)
        args[n++] = path;
    }
    args[n++] = "-lz";
    args[n++] = "-ljpeg";
    args[n++] = "-lm";
  }
  args[n++] = "-o";
  args[n++] = temp;
  if (cc_run(&a->check_opts.cc, args, n) != 0)
    cn_error("the C compiler failed on the generated code (kept in %s)", dir);
  if (a->emit == EMIT_OBJ) {
    const char *cp[] = {"cp", cn_format("%s/model.h", dir), cn_format("%s.h", stem), NULL};
    if (cn_spawn(cp) != 0)
      cn_error("cannot write '%s.h'", stem);
  }
  if (rename(temp, a->output) != 0)
    cn_error("cannot write '%s'", a->output);
  diag_untrack_temp(temp);
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
}

/* The path to `target` from directory `dir`, both made absolute: how a .cnn file written into dir names the
 * model whose weights it reads. */
static char *relative_path(const char *dir, const char *target) {
  char *from = realpath(dir, NULL), *to = realpath(target, NULL);
  if (!from || !to)
    cn_error("cannot resolve the path of '%s'", !from ? dir : target);
  size_t i = 0;
  while (from[i] && from[i] == to[i])
    i++;
  if (from[i] == 0 && to[i] == '/') /* dir contains target */
    i++;
  else
    while (i > 0 && from[i - 1] != '/') /* back to the last whole directory they share */
      i--;
  char *up = cn_strdup("");
  if (from[i])
    up = cn_strdup("../");
  for (const char *p = from + i; *p; p++)
    if (*p == '/')
      up = cn_format("%s../", up);
  return cn_format("%s%s", up, to + i);
}

static char *directory_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? cn_strndup(path, (size_t)(slash - path + 1)) : cn_strdup(".");
}

/* --emit=onnx|dsl: the model before any pass that changes the computation's form. A .cnn file is written as
 * its front end builds it (which infers every shape as it goes): shape inference would fold constants into
 * each other, such as LeNet-5 C3's weights and their 0/1 mask, which the ONNX file must keep apart for
 * training. An ONNX model is read through shape inference, which its outputs' types need. */
static void convert(Args *a) {
  bool cnn = dsl_detect(a->model);
  if (cnn && a->emit == EMIT_DSL)
    cn_error("--emit=dsl prints ONNX models as DSL, and '%s' is a .cnn file already", a->model);
  Graph *g = a->emit == EMIT_ONNX && cnn ? dsl_load(a->model, &a->pipeline.load) : pipeline_load(a->model, &a->pipeline);
  if (a->emit == EMIT_ONNX) {
    char *temp;
    FILE *out = open_temp(a->output, &temp);
    char *graph_name = strip_extension(strip_extension(base_name(a->model), ".cnn"), ".onnx");
    onnx_write(g, &(OnnxWriteOptions){.graph_name = graph_name}, out);
    commit_temp(out, temp, a->output);
    return;
  }
  DslWriteOptions o = {.source = base_name(a->model), .load = &a->pipeline.load};
  if (!a->output) { /* printed: the weights path works from anywhere on this machine */
    o.weights_path = realpath(a->model, NULL);
    if (!o.weights_path)
      cn_error("cannot resolve the path of '%s'", a->model);
    dsl_write(g, &o, stdout);
    if (fflush(stdout) != 0)
      cn_error("cannot write the DSL to the standard output");
    return;
  }
  o.weights_path = relative_path(directory_of(a->output), a->model);
  char *temp;
  FILE *out = open_temp(a->output, &temp);
  dsl_write(g, &o, out);
  commit_temp(out, temp, a->output);
}

/* --emit=dot|svg: the graph text, straight to the output or through Graphviz into it. */
static void write_graph(const Compiled *c, EmitKind emit, const char *path) {
  char *temp;
  FILE *out = open_temp(path, &temp);
  if (emit == EMIT_DOT) {
    dot_write(c->graph, out);
    commit_temp(out, temp, path);
    return;
  }
  char *dir = cn_make_temp_dir("dot");
  char *dot_path = cn_format("%s/graph.dot", dir);
  FILE *dot = fopen(dot_path, "w");
  if (!dot)
    cn_error("cannot write '%s'", dot_path);
  dot_write(c->graph, dot);
  if (fclose(dot) != 0)
    cn_error("cannot write '%s'", dot_path);
  if (fclose(out) != 0)
    cn_error("cannot write '%s'", path);
  dot_render_svg(dot_path, temp);
  if (rename(temp, path) != 0)
    cn_error("cannot rename '%s' to '%s'", temp, path);
  diag_untrack_temp(temp);
  const char *rm[] = {"rm", "-rf", dir, NULL};
  cn_spawn(rm);
}

int main(int argc, char **argv) {
  Args a = parse_args(argc, argv);
  a.emit_opts.command_line = command_line(argc, argv);
  if (a.train)
    a.pipeline.train = &a.train_opts;
  if (a.command == CMD_CHECK) {
    a.check_opts.cc.werror = true; /* generated code must compile warning-free: check proves it */
    return check_model(a.model, a.data_dir, &a.pipeline, &a.emit_opts, &a.check_opts);
  }
  if (a.command == CMD_REPORT) {
    a.emit_opts.prefix = a.name ? a.name : "P";
    Compiled compiled = pipeline_run(a.model, &a.pipeline);
    report_write(compiled.graph, &compiled.plan, &a.emit_opts, a.json, stdout);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
  }

  if (a.emit == EMIT_ONNX || a.emit == EMIT_DSL) {
    if (!a.output && a.emit == EMIT_ONNX)
      a.output = "model.onnx";
    convert(&a);
    return 0;
  }
  static const char *const default_output[] = {"model.c", "model.o", "classify", "model.dot", "model.svg", "train"};
  if (!a.output)
    a.output = default_output[a.emit];
  char *stem = strip_extension(strip_extension(a.output, ".c"), ".o");
  bool program = a.emit == EMIT_EXE || a.emit == EMIT_TRAINER;
  a.emit_opts.prefix = a.name ? a.name : program ? "model" : cn_sanitize_ident(base_name(stem), 64);
  if (strcmp(cn_sanitize_ident(a.emit_opts.prefix, 64), a.emit_opts.prefix) != 0)
    usage_error("--name '%s' is not a C identifier", a.emit_opts.prefix);

  Compiled compiled = pipeline_run(a.model, &a.pipeline);
  a.emit_opts.train = a.pipeline.train;
  if (a.emit == EMIT_C) {
    char *h_path = cn_format("%s.h", stem);
    a.emit_opts.header_name = base_name(h_path);
    write_c(&compiled, &a.emit_opts, a.output, h_path);
  } else if (a.emit == EMIT_DOT || a.emit == EMIT_SVG) {
    write_graph(&compiled, a.emit, a.output);
  } else {
    build(&compiled, &a, stem);
  }
  return 0;
}
