/* The .cnn front end: a small text language for networks written by hand, read into the same Graph IR as
 * onnx.c (ONNX op types and attributes at opset 17), so every later stage is shared. docs/dsl.md has the
 * grammar and every construct with an example.
 *
 * Three steps, in the order of this file. The lexer turns the text into tokens that remember where they are.
 * The parser reads statements (a word, the tensors it reads, values, key=value settings) without knowing what
 * the words mean. The builder walks the statements: it checks each word's settings against its table entry,
 * adds the nodes, parameters and constants to the graph, and runs each node's shape inference at once, since
 * a layer's weight shapes follow from its input's shape. Every error points into the source (file:line:col,
 * the line, a caret); errors found later, in shape inference, point at the layer through diag_node_loc. */
#include "cnnc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A .cnn file is text a person writes; weights live in ONNX files or come from initializers. */
#define MAX_SOURCE_BYTES ((int64_t)64 << 20)
#define MAX_LIST_DEPTH 16
/* The parameters a file initializes: as much as an ONNX file may hold. */
#define MAX_PARAM_BYTES CN_MAX_FILE_BYTES
/* Sizes, strides and pads: the bound the window code checks too. */
#define MAX_SIZE ((int64_t)INT32_MAX)

//
// Tokens
//

typedef enum TokenKind {
  TK_WORD,    /* [A-Za-z_][A-Za-z0-9_.]* */
  TK_NUMBER,  /* 12, 0.5, 1e-3 (a sign is a separate "-") */
  TK_STRING,  /* "...", for names that are not words and for file names */
  TK_PUNCT,   /* = , : ( ) [ ] { } - */
  TK_NEWLINE, /* ends a statement; newlines inside ( ) and [ ] are spaces */
  TK_EOF,
} TokenKind;

typedef struct Token {
  TokenKind kind;
  SrcLoc loc;
  const char *text; /* TK_WORD: the word; TK_STRING: the contents, unescaped; TK_PUNCT: the character */
  bool is_int;      /* TK_NUMBER written without '.' or an exponent */
  int64_t i;        /* TK_NUMBER when is_int */
  double f;         /* TK_NUMBER */
} Token;

static noreturn void error_tok(const Token *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static noreturn void error_tok(const Token *t, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  cn_error_at(&t->loc, "%s", message);
}

/* A name from the file, safe to print in a message. */
static const char *quoted(const char *name) { return cn_escape_c_string(name, 100); }

/* How a token reads in "expected X, got Y". */
static const char *describe(const Token *t) {
  switch (t->kind) {
  case TK_WORD: return cn_format("'%s'", quoted(t->text));
  case TK_NUMBER: return t->is_int ? cn_format("the number %lld", (long long)t->i) : cn_format("the number %g", t->f);
  case TK_STRING: return cn_format("the string \"%s\"", quoted(t->text));
  case TK_PUNCT: return cn_format("'%s'", t->text);
  case TK_NEWLINE: return "the end of the line";
  case TK_EOF: return "the end of the file";
  }
  cn_unreachable();
}

//
// Lexer
//

typedef struct Lexer {
  const char *path;
  const char *p;
  const char *line_start;
  int line;
  int depth; /* open ( and [: newlines inside them do not end the statement */
  const char *outer_open, *outer_line_start; /* the outermost open one, for "not closed" */
  int outer_line;
  Token *toks;
  int n, cap;
} Lexer;

static SrcLoc loc_at(const Lexer *l, const char *p) {
  return (SrcLoc){.file = l->path, .line_start = l->line_start, .line = l->line, .col = (int)(p - l->line_start) + 1};
}

static noreturn void error_lex(const Lexer *l, const char *p, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static noreturn void error_lex(const Lexer *l, const char *p, const char *fmt, ...) {
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  SrcLoc loc = loc_at(l, p);
  cn_error_at(&loc, "%s", message);
}

static Token *push(Lexer *l, TokenKind kind, const char *start) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 256;
    Token *grown = cn_alloc_array((size_t)l->cap, sizeof(Token));
    if (l->n)
      memcpy(grown, l->toks, (size_t)l->n * sizeof(Token));
    l->toks = grown;
  }
  Token *t = &l->toks[l->n++];
  *t = (Token){.kind = kind, .loc = loc_at(l, start)};
  return t;
}

static bool is_word_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_word_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* number = digits [ "." digits ] [ ("e" | "E") [ "+" | "-" ] digits ]  (or "." digits ...) */
static const char *lex_number(Lexer *l, const char *p) {
  const char *start = p;
  bool is_int = true;
  while (is_digit(*p))
    p++;
  if (*p == '.') {
    is_int = false;
    p++;
    while (is_digit(*p))
      p++;
  }
  if ((*p == 'e' || *p == 'E') && (is_digit(p[1]) || ((p[1] == '+' || p[1] == '-') && is_digit(p[2])))) {
    is_int = false;
    p += 2;
    while (is_digit(*p))
      p++;
  }
  if (is_word_char(*p)) {
    const char *end = p;
    while (is_word_char(*end))
      end++;
    error_lex(l, start, "malformed number '%.*s'", (int)(end - start), start);
  }
  Token *t = push(l, TK_NUMBER, start);
  t->is_int = is_int;
  if (is_int) {
    for (const char *q = start; q < p; q++) {
      if (t->i > (INT64_MAX - (*q - '0')) / 10)
        error_lex(l, start, "the integer %.*s is too large", (int)(p - start), start);
      t->i = t->i * 10 + (*q - '0');
    }
    t->f = (double)t->i;
  } else {
    t->f = strtod(start, NULL); /* reads exactly the characters above: the source is NUL-terminated */
    if (!isfinite(t->f))
      error_lex(l, start, "the number %.*s is out of range", (int)(p - start), start);
  }
  return p;
}

/* string = '"' { character | "\" ( '"' | "\" | "n" | "t" ) } '"', on one line */
static const char *lex_string(Lexer *l, const char *p) {
  const char *start = p++;
  char *buf = cn_alloc(strcspn(p, "\n") + 1);
  size_t n = 0;
  for (;; p++) {
    if (*p == '"')
      break;
    if (*p == 0 || *p == '\n')
      error_lex(l, start, "this string is not closed on its line: expected '\"'");
    if (*p == '\\') {
      p++;
      if (*p == '"' || *p == '\\')
        buf[n++] = *p;
      else if (*p == 'n')
        buf[n++] = '\n';
      else if (*p == 't')
        buf[n++] = '\t';
      else
        error_lex(l, p - 1, "unknown escape in a string: expected \\\" \\\\ \\n or \\t");
      continue;
    }
    if ((unsigned char)*p < 0x20 && *p != '\t')
      error_lex(l, p, "control character 0x%02x in a string", (unsigned char)*p);
    buf[n++] = *p;
  }
  Token *t = push(l, TK_STRING, start);
  t->text = buf;
  return p + 1;
}

static void newline(Lexer *l, const char *p) {
  if (l->depth == 0 && l->n > 0 && l->toks[l->n - 1].kind != TK_NEWLINE)
    push(l, TK_NEWLINE, p);
}

static Token *tokenize(const char *path, const char *text) {
  Lexer l = {.path = path, .p = text, .line_start = text, .line = 1};
  const char *p = text;
  while (*p) {
    char c = *p;
    if (c == '#') {
      while (*p && *p != '\n')
        p++;
    } else if (c == '\n') {
      newline(&l, p);
      l.line++;
      l.line_start = ++p;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      p++;
    } else if (is_digit(c) || (c == '.' && is_digit(p[1]))) {
      p = lex_number(&l, p);
    } else if (is_word_start(c)) {
      const char *start = p;
      while (is_word_char(*p))
        p++;
      push(&l, TK_WORD, start)->text = cn_strndup(start, (size_t)(p - start));
    } else if (c == '"') {
      p = lex_string(&l, p);
    } else if (strchr("=,:()[]{}-", c)) {
      push(&l, TK_PUNCT, p)->text = cn_strndup(p, 1);
      if ((c == '(' || c == '[') && l.depth++ == 0) {
        l.outer_open = p;
        l.outer_line_start = l.line_start;
        l.outer_line = l.line;
      }
      else if ((c == ')' || c == ']') && l.depth > 0)
        l.depth--;
      p++;
    } else if (isprint((unsigned char)c)) {
      error_lex(&l, p, "unexpected character '%c'", c);
    } else {
      error_lex(&l, p, "unexpected byte 0x%02x (outside comments and strings a .cnn file is ASCII)", (unsigned char)c);
    }
  }
  if (l.depth > 0) {
    l.line_start = l.outer_line_start;
    l.line = l.outer_line;
    error_lex(&l, l.outer_open, "'%c' is not closed: expected '%c'", *l.outer_open, *l.outer_open == '(' ? ')' : ']');
  }
  newline(&l, p);
  push(&l, TK_EOF, p);
  return l.toks;
}

//
// Parser: statements, not yet knowing what their words mean
//

typedef enum ArgKind { ARG_NUMBER, ARG_WORD, ARG_STRING, ARG_LIST, ARG_CALL } ArgKind;

/* A value in a statement: 5, -0.5, he, "file.onnx", [1, 2], uniform(-0.1, 0.1). */
typedef struct Arg {
  ArgKind kind;
  const Token *tok; /* where it starts */
  bool is_int;      /* ARG_NUMBER */
  int64_t i;
  double f;
  const char *s;      /* ARG_WORD, ARG_STRING; ARG_CALL: the function */
  struct Arg **items; /* ARG_LIST, ARG_CALL */
  int n;
} Arg;

typedef struct Setting {
  const char *key;
  const Token *at; /* the key, or the value of a setting written without its key */
  Arg *arg;
} Setting;

typedef enum StmtKind { STMT_COMMAND, STMT_INPUT, STMT_OUTPUT, STMT_TRAIN } StmtKind;

typedef struct Stmt {
  StmtKind kind;
  const Token *word;
  const Token *name;    /* `name = ...`; for `input`, the input's name */
  const Token **inputs; /* `word(a, b)`: the tensors a layer reads; for `output`, the outputs */
  int n_inputs;
  bool has_inputs;
  Arg **args; /* values before the key=value settings (the parser's view) */
  int n_args;
  Setting *settings; /* key=value settings, and after bind() the values before them too */
  int n_settings;
  const Token *type; /* input: element type */
  Arg *shape;        /* input: dims */
  struct Stmt **body; /* train { ... } */
  int n_body;
} Stmt;

typedef struct Parser {
  const Token *tok; /* the next token */
} Parser;

static bool at_punct(const Parser *p, char c) { return p->tok->kind == TK_PUNCT && p->tok->text[0] == c; }
static bool at_end(const Parser *p) { return p->tok->kind == TK_NEWLINE || p->tok->kind == TK_EOF; }

static const Token *next(Parser *p) {
  const Token *t = p->tok;
  if (t->kind != TK_EOF)
    p->tok++;
  return t;
}

static void expect(Parser *p, char c, const char *why) {
  if (!at_punct(p, c))
    error_tok(p->tok, "expected '%c' %s, got %s", c, why, describe(p->tok));
  next(p);
}

/* Appends to a pointer array (grows by doubling from 4). */
static void *append_ptr(void *array, int count, void *item) {
  void **a = array;
  if (count == 0 || (count >= 4 && (count & (count - 1)) == 0)) {
    void **grown = cn_alloc_array((size_t)(count < 4 ? 4 : 2 * count), sizeof(void *));
    if (count)
      memcpy(grown, a, (size_t)count * sizeof(void *));
    a = grown;
  }
  a[count] = item;
  return a;
}

// name = WORD | STRING
static const Token *name(Parser *p, const char *what) {
  if (p->tok->kind != TK_WORD && p->tok->kind != TK_STRING)
    error_tok(p->tok, "expected %s (a word, or a \"string\"), got %s", what, describe(p->tok));
  if (!p->tok->text[0])
    error_tok(p->tok, "%s cannot be empty", what);
  return next(p);
}

// arg = [ "-" ] NUMBER | STRING | "[" [ arg { "," arg } [ "," ] ] "]" | WORD [ "(" [ arg { "," arg } ] ")" ]
static Arg *arg(Parser *p, int depth) {
  if (depth > MAX_LIST_DEPTH)
    error_tok(p->tok, "lists nest more than %d deep", MAX_LIST_DEPTH);
  Arg *a = cn_alloc(sizeof *a);
  a->tok = p->tok;
  if (at_punct(p, '-') || p->tok->kind == TK_NUMBER) {
    bool negative = at_punct(p, '-');
    if (negative)
      next(p);
    if (p->tok->kind != TK_NUMBER)
      error_tok(p->tok, "expected a number after '-', got %s", describe(p->tok));
    const Token *t = next(p);
    a->kind = ARG_NUMBER;
    a->is_int = t->is_int;
    a->i = negative ? -t->i : t->i;
    a->f = negative ? -t->f : t->f;
    return a;
  }
  if (p->tok->kind == TK_STRING) {
    a->kind = ARG_STRING;
    a->s = next(p)->text;
    return a;
  }
  char close = 0;
  if (at_punct(p, '[')) {
    next(p);
    a->kind = ARG_LIST;
    close = ']';
  } else if (p->tok->kind == TK_WORD) {
    a->kind = ARG_WORD;
    a->s = next(p)->text;
    if (!at_punct(p, '('))
      return a;
    next(p);
    a->kind = ARG_CALL;
    close = ')';
  } else {
    error_tok(p->tok, "expected a value (a number, a word, a \"string\" or a [list]), got %s", describe(p->tok));
  }
  while (!at_punct(p, close)) {
    if (a->n > 0 && !at_punct(p, ','))
      error_tok(p->tok, "expected ',' or '%c' in the %s opened at %d:%d, got %s", close, close == ']' ? "list" :
                "arguments", a->tok->loc.line, a->tok->loc.col, describe(p->tok));
    if (a->n > 0)
      next(p);
    if (a->n > 0 && close == ']' && at_punct(p, ']'))
      break; /* a trailing comma, as in a table written one row per line */
    a->items = append_ptr(a->items, a->n, arg(p, depth + 1));
    a->n++;
  }
  next(p);
  return a;
}

// command = [ name "=" ] WORD [ "(" name { "," name } ")" ] { arg } { WORD "=" arg }
static Stmt *command(Parser *p) {
  Stmt *s = cn_alloc(sizeof *s);
  if ((p->tok->kind == TK_WORD || p->tok->kind == TK_STRING) && p->tok[1].kind == TK_PUNCT &&
      p->tok[1].text[0] == '=') {
    s->name = name(p, "a name");
    next(p);
  }
  if (p->tok->kind != TK_WORD)
    error_tok(p->tok, "expected a layer or statement word, got %s", describe(p->tok));
  s->word = next(p);
  if (at_punct(p, '(')) {
    next(p);
    s->has_inputs = true;
    do {
      s->inputs = append_ptr(s->inputs, s->n_inputs, (void *)name(p, "the name of a tensor"));
      s->n_inputs++;
    } while (at_punct(p, ',') && next(p));
    expect(p, ')', "after the tensors a layer reads");
  }
  while (!at_end(p) && !at_punct(p, '}')) {
    if (p->tok->kind == TK_WORD && p->tok[1].kind == TK_PUNCT && p->tok[1].text[0] == '=') {
      Setting st = {.key = p->tok->text, .at = p->tok};
      next(p);
      next(p);
      st.arg = arg(p, 0);
      Setting *grown = cn_alloc_array((size_t)s->n_settings + 1, sizeof(Setting));
      if (s->n_settings)
        memcpy(grown, s->settings, (size_t)s->n_settings * sizeof(Setting));
      grown[s->n_settings++] = st;
      s->settings = grown;
    } else if (s->n_settings > 0) {
      error_tok(p->tok, "expected key=value, got %s (values without a key come before the settings)",
                describe(p->tok));
    } else {
      s->args = append_ptr(s->args, s->n_args, arg(p, 0));
      s->n_args++;
    }
  }
  return s;
}

// input = "input" name ":" WORD "[" [ arg { "," arg } ] "]"
static Stmt *input_decl(Parser *p) {
  Stmt *s = cn_alloc(sizeof *s);
  s->kind = STMT_INPUT;
  s->word = next(p);
  s->name = name(p, "the input's name");
  expect(p, ':', "between the input's name and its type, as in `input x: float[1, 3, 32, 32]`");
  if (p->tok->kind != TK_WORD)
    error_tok(p->tok, "expected an element type (float, double, int64, ...), got %s", describe(p->tok));
  s->type = next(p);
  if (!at_punct(p, '['))
    error_tok(p->tok, "expected '[' and the input's dimensions, as in float[1, 3, 32, 32], got %s",
              describe(p->tok));
  s->shape = arg(p, 0);
  return s;
}

// output = "output" name { "," name }
static Stmt *output_decl(Parser *p) {
  Stmt *s = cn_alloc(sizeof *s);
  s->kind = STMT_OUTPUT;
  s->word = next(p);
  s->has_inputs = true;
  do {
    s->inputs = append_ptr(s->inputs, s->n_inputs, (void *)name(p, "the name of an output tensor"));
    s->n_inputs++;
  } while (at_punct(p, ',') && next(p));
  return s;
}

static void end_of_statement(Parser *p) {
  if (!at_end(p))
    error_tok(p->tok, "expected the end of the line, got %s", describe(p->tok));
  next(p);
}

// train = "train" "{" { NEWLINE } { command ( NEWLINE | before "}" ) } "}"
static Stmt *train_block(Parser *p) {
  Stmt *s = cn_alloc(sizeof *s);
  s->kind = STMT_TRAIN;
  s->word = next(p);
  expect(p, '{', "to open the training section");
  for (;;) {
    while (p->tok->kind == TK_NEWLINE)
      next(p);
    if (at_punct(p, '}'))
      break;
    if (p->tok->kind == TK_EOF)
      error_tok(p->tok, "expected '}' to close the training section opened at line %d", s->word->loc.line);
    s->body = append_ptr(s->body, s->n_body, command(p));
    s->n_body++;
    if (!at_punct(p, '}'))
      end_of_statement(p);
  }
  next(p);
  return s;
}

static bool starts(const Parser *p, const char *word) {
  return p->tok->kind == TK_WORD && strcmp(p->tok->text, word) == 0 &&
         !(p->tok[1].kind == TK_PUNCT && p->tok[1].text[0] == '=');
}

// file = { statement ( NEWLINE | EOF ) }
// statement = input | output | train | command
static Stmt **parse(const Token *toks, int *count) {
  Parser p = {toks};
  Stmt **stmts = NULL;
  int n = 0;
  if (p.tok->kind == TK_NEWLINE)
    next(&p);
  while (p.tok->kind != TK_EOF) {
    Stmt *s = starts(&p, "input") ? input_decl(&p)
              : starts(&p, "output") ? output_decl(&p)
              : starts(&p, "train") ? train_block(&p)
                                    : command(&p);
    end_of_statement(&p);
    stmts = append_ptr(stmts, n++, s);
  }
  *count = n;
  return stmts;
}

//
// Builder: names
//

/* Anything with a name: an input or a layer's output (what layers read), a parameter, or a constant a layer
 * made for itself (a Clip bound, a mask). */
typedef enum EntryKind { ENTRY_TENSOR, ENTRY_PARAM, ENTRY_CONSTANT } EntryKind;

typedef struct Entry {
  const char *name;
  Value *value;
  const Token *def; /* where it was defined */
  EntryKind kind;
} Entry;

typedef struct Names {
  Entry **slots;
  size_t cap, count;
} Names;

static uint64_t hash_name(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static Entry **names_slot(const Names *m, const char *name) {
  size_t i = hash_name(name) & (m->cap - 1);
  while (m->slots[i] && strcmp(m->slots[i]->name, name) != 0)
    i = (i + 1) & (m->cap - 1);
  return &m->slots[i];
}

static Entry *names_get(const Names *m, const char *name) { return m->cap ? *names_slot(m, name) : NULL; }

static void names_put(Names *m, Entry *e) {
  if (2 * (m->count + 1) > m->cap) {
    Names grown = {cn_alloc_array(m->cap ? 2 * m->cap : 64, sizeof(Entry *)), m->cap ? 2 * m->cap : 64, 0};
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i])
        *names_slot(&grown, m->slots[i]->name) = m->slots[i];
    grown.count = m->count;
    *m = grown;
  }
  *names_slot(m, e->name) = e;
  m->count++;
}

/* Edit distance, for "did you mean". */
static int distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 40 || lb > 40)
    return 99;
  int row[41];
  for (size_t j = 0; j <= lb; j++)
    row[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int up = row[j];
      int best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* " (did you mean 'x'?)" for the closest candidate within a typo's distance, else "". */
static const char *suggest(const char *word, const char *const *candidates, int n) {
  const char *best = NULL;
  int best_d = strlen(word) < 4 ? 1 : 2;
  for (int i = 0; i < n; i++) {
    if (!candidates[i])
      continue;
    int d = distance(word, candidates[i]);
    if (d <= best_d && (!best || d < best_d)) {
      best = candidates[i];
      best_d = d;
    }
  }
  return best ? cn_format(" (did you mean '%s'?)", quoted(best)) : "";
}

//
// Builder: state, nodes and values
//

typedef struct Builder {
  Graph *g;
  const char *path;
  const LoadOptions *opts;
  Names names;    /* every value defined so far */
  Names explicit; /* the names the file gives layers and inputs, which generated names avoid */
  Value *prev;    /* the last layer's output: what a layer that names no input reads */
  uint64_t seed;
  InitRule init; /* `init`: the weight initializer of the layers after it */
  const char *weights_path;
  Names weights; /* the weights file's initializers */
  int64_t param_bytes;
} Builder;

/* Source places of the nodes built, for diag_node_loc; kept for the whole run (several models may load). */
typedef struct NodeLoc {
  const Node *node;
  SrcLoc loc;
} NodeLoc;
static NodeLoc *node_locs;
static int n_node_locs;

static void remember_loc(const Node *n, const Token *t) {
  if (n_node_locs % 256 == 0) {
    NodeLoc *grown = cn_alloc_array((size_t)n_node_locs + 256, sizeof(NodeLoc));
    if (n_node_locs)
      memcpy(grown, node_locs, (size_t)n_node_locs * sizeof(NodeLoc));
    node_locs = grown;
  }
  node_locs[n_node_locs++] = (NodeLoc){n, t->loc};
}

static bool find_node_loc(const Node *n, SrcLoc *loc) {
  for (int i = n_node_locs - 1; i >= 0; i--)
    if (node_locs[i].node == n) {
      *loc = node_locs[i].loc;
      return true;
    }
  return false;
}

static Value *define(Builder *b, const char *name, const Token *where, EntryKind kind) {
  Entry *e = names_get(&b->names, name);
  if (e)
    error_tok(where, "'%s' is already defined at line %d", quoted(name), e->def->loc.line);
  e = cn_alloc(sizeof *e);
  *e = (Entry){.name = name, .value = graph_add_value(b->g, name), .def = where, .kind = kind};
  names_put(&b->names, e);
  return e->value;
}

/* A layer's node: one output, named `out`; its errors point at the statement's word. */
static Node *add_node(Builder *b, const Stmt *s, const char *op_type, const char *out, int n_in, Value *const *in) {
  Node *n = graph_add_node(b->g, out, op_type, n_in, 1);
  n->op = op_lookup(op_type);
  CN_ASSERT(n->op);
  for (int i = 0; i < n_in; i++)
    n->in[i] = in[i];
  n->out[0] = define(b, out, s->name ? s->name : s->word, ENTRY_TENSOR);
  n->out[0]->producer = n;
  n->attrs = cn_alloc_array(8, sizeof(Attr));
  remember_loc(n, s->word);
  return n;
}

static Attr *new_attr(Node *n, const char *name, AttrType type) {
  CN_ASSERT(n->n_attrs < 8);
  Attr *a = &n->attrs[n->n_attrs++];
  a->name = name;
  a->type = type;
  return a;
}

static void set_int_attr(Node *n, const char *name, int64_t v) { new_attr(n, name, ATTR_INT)->i = v; }
static void set_float_attr(Node *n, const char *name, double v) { new_attr(n, name, ATTR_FLOAT)->f = (float)v; }

static void set_ints_attr(Node *n, const char *name, int count, const int64_t *v) {
  Attr *a = new_attr(n, name, ATTR_INTS);
  a->n = count;
  a->ints = cn_alloc_array((size_t)count + 1, sizeof(int64_t));
  memcpy(a->ints, v, (size_t)count * sizeof(int64_t));
}

static void set_string_attr(Node *n, const char *name, const char *v) {
  Attr *a = new_attr(n, name, ATTR_STRING);
  a->s = v;
  a->s_len = strlen(v);
}

/* Shape inference for the node just built, so the next layer knows its input's shape. */
static Value *finish(Builder *b, Node *n) {
  n->op->infer(b->g, n);
  b->prev = n->out[0];
  return n->out[0];
}

/* The bytes of a tensor of this type and shape, or -1 past the limit. */
static int64_t tensor_bytes(DType t, int rank, const int64_t *dims) {
  int64_t bytes = (int64_t)dtype_size(t);
  for (int i = 0; i < rank; i++)
    bytes = cn_mul_size(bytes, dims[i]);
  return bytes < 0 || bytes > CN_MAX_TENSOR_BYTES ? -1 : bytes;
}

/* A constant the layer needs (a Clip bound, a Reshape shape, a mask): named `name`, zero-filled. */
static Value *constant(Builder *b, const Stmt *s, const char *name, DType t, int rank, const int64_t *dims) {
  Value *v = define(b, name, s->word, ENTRY_CONSTANT);
  value_set_shape(v, NULL, t, rank, dims);
  v->data = cn_alloc((size_t)value_bytes(v));
  v->flags |= VAL_INITIALIZER;
  return v;
}

static Value *scalar(Builder *b, const Stmt *s, const char *name, DType t, double x) {
  Value *v = constant(b, s, name, t, 0, NULL);
  value_set_double(v, 0, x);
  return v;
}

//
// Builder: settings
//

/* What a statement word takes: the keys of the values written before its settings, in order, then the
 * settings written key=value. */
typedef struct Form {
  const char *word;
  const char *args[3];
  const char *keys[12];
} Form;

static int form_keys(const Form *f, const char **out) {
  int n = 0;
  for (int i = 0; i < 3 && f->args[i]; i++)
    out[n++] = f->args[i];
  for (int i = 0; i < 12 && f->keys[i]; i++)
    out[n++] = f->keys[i];
  return n;
}

/* "a, b and c" (or "a, b or c"). */
static char *join_with(const char *const *items, int n, const char *last) {
  char *s = cn_strdup("");
  for (int i = 0; i < n; i++)
    s = cn_format("%s%s%s", s, i == 0 ? "" : i == n - 1 ? last : ", ", items[i]);
  return s;
}

static char *join(const char *const *items, int n) { return join_with(items, n, " and "); }
static char *alternatives(const char *const *items, int n) { return join_with(items, n, " or "); }

/* Turns the values written before the settings into settings with the form's keys and checks every key. */
static void bind(Stmt *s, const Form *f) {
  int n_args = 0;
  while (n_args < 3 && f->args[n_args])
    n_args++;
  if (s->n_args > n_args) {
    const Token *at = s->args[n_args]->tok;
    if (n_args == 0)
      error_tok(at, "%s takes no value here; its settings are written key=value", f->word);
    error_tok(at, "%s takes %d value%s before its key=value settings (%s)", f->word, n_args, n_args > 1 ? "s" : "",
              join(f->args, n_args));
  }
  Setting *all = cn_alloc_array((size_t)(s->n_args + s->n_settings) + 1, sizeof(Setting));
  for (int i = 0; i < s->n_args; i++)
    all[i] = (Setting){.key = f->args[i], .at = s->args[i]->tok, .arg = s->args[i]};
  if (s->n_settings)
    memcpy(all + s->n_args, s->settings, (size_t)s->n_settings * sizeof(Setting));
  s->settings = all;
  s->n_settings += s->n_args;
  s->n_args = 0;
  const char *keys[16];
  int n_keys = form_keys(f, keys);
  for (int i = 0; i < s->n_settings; i++) {
    const Setting *st = &s->settings[i];
    bool known = false;
    for (int k = 0; k < n_keys; k++)
      known |= strcmp(keys[k], st->key) == 0;
    if (!known) {
      if (n_keys == 0)
        error_tok(st->at, "%s takes no settings", f->word);
      error_tok(st->at, "%s has no setting '%s'%s; its settings are %s", f->word, quoted(st->key),
                suggest(st->key, keys, n_keys), join(keys, n_keys));
    }
    for (int j = 0; j < i; j++)
      if (strcmp(s->settings[j].key, st->key) == 0)
        error_tok(st->at, "'%s' is given twice", st->key);
  }
}

static const Setting *find(const Stmt *s, const char *key) {
  for (int i = 0; i < s->n_settings; i++)
    if (strcmp(s->settings[i].key, key) == 0)
      return &s->settings[i];
  return NULL;
}

static const Setting *require(const Stmt *s, const char *key) {
  const Setting *st = find(s, key);
  if (!st)
    error_tok(s->word, "%s needs '%s'", s->word->text, key);
  return st;
}

static const char *describe_arg(const Arg *a) {
  switch (a->kind) {
  case ARG_NUMBER: return a->is_int ? cn_format("%lld", (long long)a->i) : cn_format("%g", a->f);
  case ARG_WORD: return cn_format("'%s'", quoted(a->s));
  case ARG_STRING: return cn_format("the string \"%s\"", quoted(a->s));
  case ARG_LIST: return cn_format("a list of %d", a->n);
  case ARG_CALL: return cn_format("%s(...)", quoted(a->s));
  }
  cn_unreachable();
}

static int64_t int_of(const Arg *a, const char *key, int64_t lo, int64_t hi) {
  if (a->kind != ARG_NUMBER || !a->is_int || a->i < lo || a->i > hi)
    error_tok(a->tok, "expected an integer from %lld to %lld for '%s', got %s", (long long)lo, (long long)hi, key,
              describe_arg(a));
  return a->i;
}

static double float_of(const Arg *a, const char *key) {
  if (a->kind != ARG_NUMBER)
    error_tok(a->tok, "expected a number for '%s', got %s", key, describe_arg(a));
  return a->f;
}

static int64_t get_int(const Stmt *s, const char *key, int64_t dflt, int64_t lo, int64_t hi) {
  const Setting *st = find(s, key);
  return st ? int_of(st->arg, key, lo, hi) : dflt;
}

/* A float setting in [lo, hi] (open at the ends marked so in `range`, which the message quotes). */
static double get_float(const Stmt *s, const char *key, double dflt, double lo, double hi, bool open_lo,
                        const char *range) {
  const Setting *st = find(s, key);
  if (!st)
    return dflt;
  double x = float_of(st->arg, key);
  if (x < lo || x > hi || (open_lo && x == lo))
    error_tok(st->arg->tok, "'%s' must be %s, got %s", key, range, describe_arg(st->arg));
  return x;
}

static bool get_bool(const Stmt *s, const char *key, bool dflt) {
  const Setting *st = find(s, key);
  if (!st)
    return dflt;
  const Arg *a = st->arg;
  if (a->kind == ARG_WORD && (strcmp(a->s, "true") == 0 || strcmp(a->s, "false") == 0))
    return strcmp(a->s, "true") == 0;
  error_tok(a->tok, "expected true or false for '%s', got %s", key, describe_arg(a));
}

/* A word among `choices` (NULL-terminated); returns its index, or dflt when the setting is absent. */
static int get_choice(const Stmt *s, const char *key, const char *const *choices, int dflt) {
  const Setting *st = find(s, key);
  if (!st)
    return dflt;
  int n = 0;
  while (choices[n])
    n++;
  const Arg *a = st->arg;
  if (a->kind == ARG_WORD)
    for (int i = 0; i < n; i++)
      if (strcmp(a->s, choices[i]) == 0)
        return i;
  error_tok(a->tok, "expected %s for '%s', got %s%s", alternatives(choices, n), key, describe_arg(a),
            a->kind == ARG_WORD ? suggest(a->s, choices, n) : "");
}

static const char *name_of(const Arg *a, const char *key) {
  if ((a->kind != ARG_WORD && a->kind != ARG_STRING) || !a->s[0])
    error_tok(a->tok, "expected a tensor name for '%s' (a word, or a \"string\"), got %s", key, describe_arg(a));
  return a->s;
}

/* One integer for every axis, or a list of `count`; returns whether the setting is there. */
static bool get_axis_ints(const Stmt *s, const char *key, int count, int64_t *out, int64_t dflt, int64_t lo) {
  const Setting *st = find(s, key);
  for (int i = 0; i < count; i++)
    out[i] = dflt;
  if (!st)
    return false;
  const Arg *a = st->arg;
  if (a->kind == ARG_NUMBER) {
    for (int i = 0; i < count; i++)
      out[i] = int_of(a, key, lo, MAX_SIZE);
    return true;
  }
  if (a->kind != ARG_LIST || a->n != count)
    error_tok(a->tok, "'%s' takes one integer or a list of %d (one per spatial axis), got %s", key, count,
              describe_arg(a));
  for (int i = 0; i < count; i++)
    out[i] = int_of(a->items[i], key, lo, MAX_SIZE);
  return true;
}

static const char *const init_words[] = {"zeros", "ones", "he", "he_uniform", "xavier", "xavier_normal",
                                         "lecun_uniform", NULL};
static const InitKind init_word_kinds[] = {INIT_ZEROS, INIT_CONSTANT, INIT_HE, INIT_HE_UNIFORM, INIT_XAVIER,
                                           INIT_XAVIER_NORMAL, INIT_LECUN_UNIFORM};

// init = "zeros" | "ones" | "he" | "he_uniform" | "xavier" | "xavier_normal" | "lecun_uniform"
//      | "constant(" NUMBER ")" | "uniform(" NUMBER "," NUMBER ")" | "normal(" NUMBER "," NUMBER ")"
static InitRule init_of(const Arg *a, const char *key) {
  static const char expected[] = "he, he_uniform, xavier, xavier_normal, lecun_uniform, zeros, ones, "
                                 "constant(VALUE), uniform(LOW, HIGH) or normal(MEAN, STD)";
  if (a->kind == ARG_WORD) {
    for (int i = 0; init_words[i]; i++)
      if (strcmp(a->s, init_words[i]) == 0)
        return (InitRule){init_word_kinds[i], strcmp(a->s, "ones") == 0 ? 1 : 0, 0};
  } else if (a->kind == ARG_CALL) {
    int want = strcmp(a->s, "constant") == 0 ? 1 : strcmp(a->s, "uniform") == 0 || strcmp(a->s, "normal") == 0 ? 2 : 0;
    if (want) {
      if (a->n != want)
        error_tok(a->tok, "%s takes %d number%s, got %d", a->s, want, want > 1 ? "s" : "", a->n);
      double x = float_of(a->items[0], key), y = want > 1 ? float_of(a->items[1], key) : 0;
      if (strcmp(a->s, "uniform") == 0 && !(x < y))
        error_tok(a->tok, "uniform(LOW, HIGH) needs LOW < HIGH");
      if (strcmp(a->s, "normal") == 0 && y < 0)
        error_tok(a->items[1]->tok, "normal(MEAN, STD) needs STD >= 0");
      InitKind kind = want == 1 ? INIT_CONSTANT : strcmp(a->s, "uniform") == 0 ? INIT_UNIFORM : INIT_NORMAL;
      return (InitRule){kind, x, y};
    }
  }
  error_tok(a->tok, "expected an initializer for '%s': %s; got %s%s", key, expected, describe_arg(a),
            a->kind == ARG_WORD ? suggest(a->s, init_words, 7) : "");
}

//
// Builder: parameters
//

/* A trainable tensor of a layer: loaded from the weights file by name, or initialized by its rule. */
typedef struct ParamSpec {
  const char *key;      /* the setting that names it ("weight", "bias", "mean", ...) */
  const char *suffix;   /* its default name: the layer's name and this */
  const char *init_key; /* the setting that chooses its initializer, or NULL */
  InitRule init;        /* the initializer when that setting is absent */
  int rank;
  int64_t dims[CN_MAX_RANK];
  int64_t fan_in, fan_out;
  /* LeNet-5's C3: a 0/1 tensor of the same shape; elements where it is 0 start at 0, and a row's fan-in
   * (one row per output map) counts only its connections. */
  const float *mask;
} ParamSpec;

static char *type_string(DType t, int rank, const int64_t *dims) {
  Value v = {.rank = rank};
  memcpy(v.dims, dims, (size_t)rank * sizeof(int64_t));
  return cn_format("%s%s", dtype_name(t), value_shape_string(&v));
}

static bool same_type(const Value *v, DType t, int rank, const int64_t *dims) {
  if (v->dtype != t || v->rank != rank)
    return false;
  for (int i = 0; i < rank; i++)
    if (v->dims[i] != dims[i])
      return false;
  return true;
}

static void fill(Value *v, const InitRule *r, uint64_t key, const ParamSpec *p) {
  int64_t count = value_count(v), rows = p->rank ? p->dims[0] : 1, row_size = rows ? count / rows : 0;
  for (int64_t row = 0; row < rows; row++) {
    int64_t begin = row * row_size, end = begin + row_size, fan_in = p->fan_in;
    if (p->mask) {
      fan_in = 0;
      for (int64_t i = begin; i < end; i++)
        fan_in += p->mask[i] != 0;
    }
    for (int64_t i = begin; i < end; i++)
      value_set_double(v, i, p->mask && p->mask[i] == 0 ? 0 : init_sample(r, key, i, fan_in, p->fan_out));
  }
}

static Value *param(Builder *b, const Stmt *s, const char *layer, DType t, const ParamSpec *p) {
  const Setting *named = find(s, p->key);
  if (named && named->arg->kind == ARG_WORD && strcmp(named->arg->s, "true") == 0)
    named = NULL; /* bias=true: the default name */
  const char *name = named ? name_of(named->arg, p->key) : cn_format("%s%s", layer, p->suffix);
  const Token *where = named ? named->arg->tok : s->word;
  int64_t bytes = tensor_bytes(t, p->rank, p->dims);
  if (bytes < 0)
    error_tok(where, "parameter '%s' would be %s, larger than %lld bytes", quoted(name),
              type_string(t, p->rank, p->dims), (long long)CN_MAX_TENSOR_BYTES);
  Entry *e = names_get(&b->names, name);
  if (e) { /* a parameter named twice is shared */
    if (e->kind != ENTRY_PARAM)
      error_tok(where, "'%s' is not a parameter: it is defined at line %d", quoted(name), e->def->loc.line);
    if (!same_type(e->value, t, p->rank, p->dims))
      error_tok(where, "parameter '%s' is %s at line %d; this layer needs %s", quoted(name),
                type_string(e->value->dtype, e->value->rank, e->value->dims), e->def->loc.line,
                type_string(t, p->rank, p->dims));
    return e->value;
  }
  Entry *loaded = b->weights_path ? names_get(&b->weights, name) : NULL;
  bool fresh = find(s, "init") || (p->init_key && find(s, p->init_key));
  if (!loaded && named && b->weights_path)
    error_tok(where, "the weights file '%s' has no tensor '%s'", quoted(b->weights_path), quoted(name));
  if (!loaded && named)
    error_tok(where, "'%s' names a tensor of a weights file, but there is none: add `weights \"FILE.onnx\"`",
              quoted(name));
  if (!loaded && b->weights_path && !fresh)
    error_tok(where, "the weights file '%s' has no tensor '%s': name the tensor with %s=NAME, or give init= to "
              "initialize the layer", quoted(b->weights_path), quoted(name), p->key);
  Value *v = define(b, name, where, ENTRY_PARAM);
  v->flags |= VAL_INITIALIZER;
  value_set_shape(v, NULL, t, p->rank, p->dims);
  if (loaded) {
    if (!same_type(loaded->value, t, p->rank, p->dims))
      error_tok(where, "the weights file has '%s' as %s; this layer needs %s", quoted(name),
                type_string(loaded->value->dtype, loaded->value->rank, loaded->value->dims),
                type_string(t, p->rank, p->dims));
    v->data = loaded->value->data;
    return v;
  }
  b->param_bytes += bytes;
  if (b->param_bytes > MAX_PARAM_BYTES)
    error_tok(where, "the parameters initialized so far take more than %lld bytes", (long long)MAX_PARAM_BYTES);
  const Setting *rule = p->init_key ? find(s, p->init_key) : NULL;
  InitRule r = rule ? init_of(rule->arg, p->init_key) : p->init;
  v->data = cn_alloc((size_t)bytes);
  fill(v, &r, init_key(b->seed, name), p);
  return v;
}

//
// Builder: layers
//

typedef struct Layer Layer;
typedef void BuildFn(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in);

struct Layer {
  Form form;
  BuildFn *build;
  const char *op; /* the ONNX op of a layer that is one node */
  int inputs;     /* 1: one, the last layer's output unless named; 2: two, named; -1: one or more, named */
};

/* The input of a layer that works on (N, C, ...) tensors of floats. */
static Value *float_input(const Stmt *s, Value *x, int min_rank, const char *layout) {
  if (!dtype_is_float(x->dtype))
    error_tok(s->word, "%s needs a float or double input; '%s' is %s", s->word->text, quoted(x->name),
              type_string(x->dtype, x->rank, x->dims));
  if (x->rank < min_rank)
    error_tok(s->word, "%s needs an %s input; '%s' is %s", s->word->text, layout, quoted(x->name),
              type_string(x->dtype, x->rank, x->dims));
  return x;
}

/* pad = INT | [INT x rank] (each axis, both sides) | [INT x 2 rank] (begins, then ends, as ONNX) | same |
 *       same_lower | valid. Returns the auto_pad value for the words, else NULL with pads filled. */
static const char *get_pads(const Stmt *s, int rank, int64_t *pads) {
  for (int i = 0; i < 2 * rank; i++)
    pads[i] = 0;
  const Setting *st = find(s, "pad");
  if (!st)
    return NULL;
  const Arg *a = st->arg;
  if (a->kind == ARG_WORD) {
    static const char *const words[] = {"same", "same_lower", "valid", NULL};
    static const char *const auto_pads[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    return auto_pads[get_choice(s, "pad", words, 0)];
  }
  if (a->kind == ARG_NUMBER) {
    for (int i = 0; i < 2 * rank; i++)
      pads[i] = int_of(a, "pad", 0, MAX_SIZE);
    return NULL;
  }
  if (a->kind != ARG_LIST || (a->n != rank && a->n != 2 * rank))
    error_tok(a->tok, "'pad' takes one integer, a list of %d (one per spatial axis), a list of %d (the begins, then "
              "the ends), or same, same_lower or valid; got %s", rank, 2 * rank, describe_arg(a));
  for (int i = 0; i < a->n; i++)
    pads[i] = int_of(a->items[i], "pad", 0, MAX_SIZE);
  if (a->n == rank)
    for (int i = 0; i < rank; i++)
      pads[rank + i] = pads[i];
  return NULL;
}

static void set_pads(Node *n, const char *auto_pad, int rank, const int64_t *pads) {
  if (auto_pad)
    set_string_attr(n, "auto_pad", auto_pad);
  else
    set_ints_attr(n, "pads", 2 * rank, pads);
}

/* connect = [ [ INT... ] x filters ]: which input maps each output map sees (LeNet-5's C3 table). Returns the
 * 0/1 mask of the weights (filters, channels, kernel...). */
static float *connection_mask(const Stmt *s, int64_t filters, int64_t channels, int64_t taps) {
  const Setting *st = find(s, "connect");
  const Arg *a = st->arg;
  if (a->kind != ARG_LIST || a->n != filters)
    error_tok(a->tok, "'connect' takes a list of %lld lists, the input maps each output map sees; got %s",
              (long long)filters, describe_arg(a));
  float *mask = cn_alloc_array((size_t)(filters * channels * taps), sizeof(float));
  for (int64_t m = 0; m < filters; m++) {
    const Arg *row = a->items[m];
    if (row->kind != ARG_LIST || row->n == 0)
      error_tok(row->tok, "expected the list of input maps output map %lld sees, got %s", (long long)m,
                describe_arg(row));
    for (int k = 0; k < row->n; k++) {
      int64_t c = int_of(row->items[k], "connect", 0, channels - 1);
      float *w = mask + (m * channels + c) * taps;
      if (w[0] != 0)
        error_tok(row->items[k]->tok, "output map %lld lists input map %lld twice", (long long)m, (long long)c);
      for (int64_t t = 0; t < taps; t++)
        w[t] = 1;
    }
  }
  return mask;
}

/* bias = true | false | NAME (the tensor in the weights file) */
static bool has_bias(const Stmt *s) {
  const Setting *st = find(s, "bias");
  bool off = st && st->arg->kind == ARG_WORD && strcmp(st->arg->s, "false") == 0;
  const Setting *init = find(s, "bias_init");
  if (off && init)
    error_tok(init->at, "bias_init is for a layer with a bias, and this one has bias=false");
  return !off;
}

/* conv FILTERS kernel= [stride= pad= dilation= groups= bias= weight= init= bias_init= connect=] */
static void build_conv(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  Value *x = float_input(s, in[0], 3, "(N, C, spatial...)");
  int rank = x->rank - 2;
  int64_t filters = int_of(require(s, "filters")->arg, "filters", 1, MAX_SIZE);
  int64_t groups = get_int(s, "groups", 1, 1, MAX_SIZE), channels = x->dims[1];
  if (channels % groups != 0 || filters % groups != 0)
    error_tok(find(s, "groups")->arg->tok, "groups = %lld must divide both the %lld input channels and the %lld "
              "filters", (long long)groups, (long long)channels, (long long)filters);
  int64_t kernel[CN_MAX_RANK], stride[CN_MAX_RANK], dilation[CN_MAX_RANK], pads[2 * CN_MAX_RANK];
  require(s, "kernel");
  get_axis_ints(s, "kernel", rank, kernel, 1, 1);
  get_axis_ints(s, "stride", rank, stride, 1, 1);
  get_axis_ints(s, "dilation", rank, dilation, 1, 1);
  const char *auto_pad = get_pads(s, rank, pads);

  ParamSpec w = {.key = "weight", .suffix = ".weight", .init_key = "init", .init = b->init, .rank = x->rank,
                 .dims = {filters, channels / groups}};
  int64_t taps = 1;
  for (int i = 0; i < rank; i++) {
    w.dims[2 + i] = kernel[i];
    taps = cn_mul_size(taps, kernel[i]);
  }
  w.fan_in = channels / groups * taps;
  w.fan_out = filters * taps;
  const Setting *connect = find(s, "connect");
  if (connect && groups != 1)
    error_tok(connect->at, "'connect' lists connections between all input and output maps: it needs groups = 1");
  int64_t mask_bytes = tensor_bytes(x->dtype, x->rank, w.dims);
  if (connect && (mask_bytes < 0 || mask_bytes > MAX_PARAM_BYTES - b->param_bytes))
    error_tok(connect->at, "the weights of this layer would take more than the %lld bytes a file may initialize",
              (long long)MAX_PARAM_BYTES);
  if (connect)
    w.mask = connection_mask(s, filters, channels, taps);
  Value *weight = param(b, s, name, x->dtype, &w);
  Value *bias = NULL;
  if (has_bias(s)) {
    ParamSpec bs = {.key = "bias", .suffix = ".bias", .init_key = "bias_init", .rank = 1, .dims = {filters},
                    .fan_in = w.fan_in, .fan_out = w.fan_out};
    bias = param(b, s, name, x->dtype, &bs);
  }
  if (w.mask) {
    Value *mask = constant(b, s, cn_format("%s.mask", name), x->dtype, x->rank, w.dims);
    for (int64_t i = 0; i < value_count(mask); i++)
      value_set_double(mask, i, w.mask[i]);
    Value *masked_in[] = {weight, mask};
    weight = finish(b, add_node(b, s, "Mul", cn_format("%s.masked_weight", name), 2, masked_in));
  }
  Value *conv_in[] = {x, weight, bias};
  Node *n = add_node(b, s, "Conv", name, bias ? 3 : 2, conv_in);
  set_ints_attr(n, "kernel_shape", rank, kernel);
  set_ints_attr(n, "strides", rank, stride);
  set_pads(n, auto_pad, rank, pads);
  set_ints_attr(n, "dilations", rank, dilation);
  set_int_attr(n, "group", groups);
  finish(b, n);
}

/* maxpool KERNEL [stride= pad= dilation= ceil=]; avgpool KERNEL [stride= pad= ceil= count_include_pad=]. The
 * stride defaults to the kernel, as in PyTorch. */
static void build_pool(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)n_in;
  Value *x = float_input(s, in[0], 3, "(N, C, spatial...)");
  int rank = x->rank - 2;
  int64_t kernel[CN_MAX_RANK], stride[CN_MAX_RANK], dilation[CN_MAX_RANK], pads[2 * CN_MAX_RANK];
  require(s, "kernel");
  get_axis_ints(s, "kernel", rank, kernel, 1, 1);
  if (!get_axis_ints(s, "stride", rank, stride, 1, 1))
    memcpy(stride, kernel, sizeof stride);
  bool dilated = get_axis_ints(s, "dilation", rank, dilation, 1, 1);
  const char *auto_pad = get_pads(s, rank, pads);
  Node *n = add_node(b, s, l->op, name, 1, &x);
  set_ints_attr(n, "kernel_shape", rank, kernel);
  set_ints_attr(n, "strides", rank, stride);
  set_pads(n, auto_pad, rank, pads);
  if (dilated)
    set_ints_attr(n, "dilations", rank, dilation);
  if (get_bool(s, "ceil", false))
    set_int_attr(n, "ceil_mode", 1);
  if (get_bool(s, "count_include_pad", false))
    set_int_attr(n, "count_include_pad", 1);
  finish(b, n);
}

/* dense UNITS [bias= weight= init= bias_init=]: Gemm(x, W, B) with W (units, features), as PyTorch's Linear. */
static void build_dense(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  Value *x = float_input(s, in[0], 2, "(batch, features)");
  if (x->rank != 2)
    error_tok(s->word, "dense needs a (batch, features) input; '%s' is %s: put a flatten before it", quoted(x->name),
              type_string(x->dtype, x->rank, x->dims));
  int64_t units = int_of(require(s, "units")->arg, "units", 1, MAX_SIZE), features = x->dims[1];
  ParamSpec w = {.key = "weight", .suffix = ".weight", .init_key = "init", .init = b->init, .rank = 2,
                 .dims = {units, features}, .fan_in = features, .fan_out = units};
  Value *gemm_in[3] = {x, param(b, s, name, x->dtype, &w)};
  if (has_bias(s)) {
    ParamSpec bs = {.key = "bias", .suffix = ".bias", .init_key = "bias_init", .rank = 1, .dims = {units},
                    .fan_in = features, .fan_out = units};
    gemm_in[2] = param(b, s, name, x->dtype, &bs);
  }
  Node *n = add_node(b, s, "Gemm", name, gemm_in[2] ? 3 : 2, gemm_in);
  set_int_attr(n, "transB", 1);
  finish(b, n);
}

/* batchnorm [eps= momentum= weight= bias= mean= var=]: inference form, one output; momentum in ONNX's sense
 * (running = momentum * running + (1 - momentum) * batch: PyTorch's momentum 0.1 is 0.9 here). */
static void build_batchnorm(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  Value *x = float_input(s, in[0], 2, "(N, C, ...)");
  double eps = get_float(s, "eps", 1e-5, 0, INFINITY, true, "positive");
  double momentum = get_float(s, "momentum", 0.9, 0, 1, false, "from 0 to 1");
  static const struct {
    const char *key, *suffix;
    double init;
  } params[] = {{"weight", ".weight", 1}, {"bias", ".bias", 0}, {"mean", ".running_mean", 0},
                {"var", ".running_var", 1}};
  Value *bn_in[5] = {x};
  for (int i = 0; i < 4; i++) {
    ParamSpec p = {.key = params[i].key, .suffix = params[i].suffix, .init = {INIT_CONSTANT, params[i].init, 0},
                   .rank = 1, .dims = {x->dims[1]}};
    bn_in[i + 1] = param(b, s, name, x->dtype, &p);
  }
  Node *n = add_node(b, s, "BatchNormalization", name, 5, bn_in);
  set_float_attr(n, "epsilon", eps);
  set_float_attr(n, "momentum", momentum);
  finish(b, n);
}

/* dropout [RATE]: the ratio a constant input (opset 12+), 0.5 by default. */
static void build_dropout(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  Value *x = float_input(s, in[0], 0, "");
  double rate = get_float(s, "rate", 0.5, 0, 1, false, "at least 0 and below 1");
  if (rate == 1)
    error_tok(find(s, "rate")->arg->tok, "'rate' must be at least 0 and below 1, got 1");
  Value *dropout_in[] = {x, scalar(b, s, cn_format("%s.ratio", name), x->dtype, rate)};
  finish(b, add_node(b, s, "Dropout", name, 2, dropout_in));
}

/* flatten [AXIS]: (d0, ..., d{axis-1}) times the rest; axis 1 by default. */
static void build_flatten(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  int64_t axis = get_int(s, "axis", 1, -in[0]->rank, in[0]->rank);
  Node *n = add_node(b, s, "Flatten", name, 1, in);
  set_int_attr(n, "axis", axis);
  finish(b, n);
}

/* reshape [SHAPE]: ONNX's rules (0 copies the input's dimension, -1 takes the rest). */
static void build_reshape(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  const Arg *a = require(s, "shape")->arg;
  if (a->kind != ARG_LIST || a->n > CN_MAX_RANK)
    error_tok(a->tok, "'shape' takes a list of at most %d integers, got %s", CN_MAX_RANK, describe_arg(a));
  int64_t count = a->n;
  Value *shape = constant(b, s, cn_format("%s.shape", name), DT_INT64, 1, &count);
  for (int i = 0; i < a->n; i++)
    ((int64_t *)shape->data)[i] = int_of(a->items[i], "shape", -1, INT64_MAX);
  Value *reshape_in[] = {in[0], shape};
  finish(b, add_node(b, s, "Reshape", name, 2, reshape_in));
}

/* concat(a, b, ...) [axis=]: along the channels (axis 1) by default. */
static void build_concat(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l;
  Node *n = add_node(b, s, "Concat", name, n_in, in);
  set_int_attr(n, "axis", get_int(s, "axis", 1, -CN_MAX_RANK, CN_MAX_RANK - 1));
  finish(b, n);
}

/* softmax [AXIS], log_softmax [AXIS]: over the channels (axis 1) by default, as PyTorch's dim=1. */
static void build_softmax(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)n_in;
  Node *n = add_node(b, s, l->op, name, 1, in);
  set_int_attr(n, "axis", get_int(s, "axis", 1, -CN_MAX_RANK, CN_MAX_RANK - 1));
  finish(b, n);
}

/* leaky_relu [ALPHA] (0.01), elu [ALPHA] (1). */
static void build_alpha(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)n_in;
  double dflt = strcmp(l->op, "LeakyRelu") == 0 ? 0.01 : 1.0;
  double alpha = get_float(s, "alpha", dflt, -INFINITY, INFINITY, false, "a number");
  Node *n = add_node(b, s, l->op, name, 1, in);
  set_float_attr(n, "alpha", alpha);
  finish(b, n);
}

/* hardsigmoid [alpha= beta=]: max(0, min(1, alpha x + beta)), ONNX's defaults 0.2 and 0.5 (PyTorch's
 * Hardsigmoid is alpha=0.1666667). */
static void build_hardsigmoid(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  Node *n = add_node(b, s, "HardSigmoid", name, 1, in);
  set_float_attr(n, "alpha", get_float(s, "alpha", 0.2, -INFINITY, INFINITY, false, "a number"));
  set_float_attr(n, "beta", get_float(s, "beta", 0.5, -INFINITY, INFINITY, false, "a number"));
  finish(b, n);
}

/* clip [MIN] [MAX], relu6 (clip 0 6): the bounds are constant inputs (opset 11+); an absent one is no bound. */
static void build_clip(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)n_in;
  Value *x = float_input(s, in[0], 0, "");
  bool relu6 = strcmp(l->form.word, "relu6") == 0;
  const Setting *lo = find(s, "min"), *hi = find(s, "max");
  double min = relu6 ? 0 : lo ? float_of(lo->arg, "min") : 0, max = relu6 ? 6 : hi ? float_of(hi->arg, "max") : 0;
  if (lo && hi && !(min <= max))
    error_tok(hi->arg->tok, "'max' must be at least 'min' (%g), got %g", min, max);
  Value *clip_in[3] = {x};
  if (relu6 || lo)
    clip_in[1] = scalar(b, s, cn_format("%s.min", name), x->dtype, min);
  if (relu6 || hi)
    clip_in[2] = scalar(b, s, cn_format("%s.max", name), x->dtype, max);
  finish(b, add_node(b, s, "Clip", name, clip_in[2] ? 3 : clip_in[1] ? 2 : 1, clip_in));
}

/* silu: x * sigmoid(x), which ONNX (to opset 17) writes as two nodes. */
static void build_silu(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  Value *mul_in[] = {in[0], finish(b, add_node(b, s, "Sigmoid", cn_format("%s.sigmoid", name), 1, in))};
  finish(b, add_node(b, s, "Mul", name, 2, mul_in));
}

/* prelu [slope= init=]: one slope per channel, shaped (C, 1, ...) to broadcast over (N, C, ...); 0.25 at first
 * as in PyTorch. */
static void build_prelu(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  (void)l, (void)n_in;
  Value *x = float_input(s, in[0], 2, "(N, C, ...)");
  ParamSpec p = {.key = "slope", .suffix = ".slope", .init_key = "init", .init = {INIT_CONSTANT, 0.25, 0},
                 .rank = x->rank - 1, .dims = {x->dims[1]}};
  for (int i = 1; i < p.rank; i++)
    p.dims[i] = 1;
  Value *prelu_in[] = {x, param(b, s, name, x->dtype, &p)};
  finish(b, add_node(b, s, "PRelu", name, 2, prelu_in));
}

/* Layers that are one node without attributes: the activations, add, mul, the global pools. */
static void build_op(Builder *b, const Stmt *s, const Layer *l, const char *name, Value **in, int n_in) {
  finish(b, add_node(b, s, l->op, name, n_in, in));
}

static const Layer layers[] = {
    {{.word = "conv", {"filters"}, {"kernel", "stride", "pad", "dilation", "groups", "bias", "weight", "init", "bias_init",
                            "connect"}}, build_conv, "Conv", 1},
    {{.word = "maxpool", {"kernel"}, {"stride", "pad", "dilation", "ceil"}}, build_pool, "MaxPool", 1},
    {{.word = "avgpool", {"kernel"}, {"stride", "pad", "ceil", "count_include_pad"}}, build_pool, "AveragePool", 1},
    {{.word = "global_avgpool"}, build_op, "GlobalAveragePool", 1},
    {{.word = "global_maxpool"}, build_op, "GlobalMaxPool", 1},
    {{.word = "dense", {"units"}, {"bias", "weight", "init", "bias_init"}}, build_dense, "Gemm", 1},
    {{.word = "batchnorm", {0}, {"eps", "momentum", "weight", "bias", "mean", "var"}}, build_batchnorm, "BatchNormalization", 1},
    {{.word = "dropout", {"rate"}}, build_dropout, "Dropout", 1},
    {{.word = "flatten", {"axis"}}, build_flatten, "Flatten", 1},
    {{.word = "reshape", {"shape"}}, build_reshape, "Reshape", 1},
    {{.word = "add"}, build_op, "Add", 2},
    {{.word = "mul"}, build_op, "Mul", 2},
    {{.word = "concat", {0}, {"axis"}}, build_concat, "Concat", -1},
    {{.word = "softmax", {"axis"}}, build_softmax, "Softmax", 1},
    {{.word = "log_softmax", {"axis"}}, build_softmax, "LogSoftmax", 1},
    {{.word = "relu"}, build_op, "Relu", 1},
    {{.word = "leaky_relu", {"alpha"}}, build_alpha, "LeakyRelu", 1},
    {{.word = "elu", {"alpha"}}, build_alpha, "Elu", 1},
    {{.word = "sigmoid"}, build_op, "Sigmoid", 1},
    {{.word = "hardsigmoid", {0}, {"alpha", "beta"}}, build_hardsigmoid, "HardSigmoid", 1},
    {{.word = "tanh"}, build_op, "Tanh", 1},
    {{.word = "relu6"}, build_clip, "Clip", 1},
    {{.word = "clip", {"min", "max"}}, build_clip, "Clip", 1},
    {{.word = "hardswish"}, build_op, "HardSwish", 1},
    {{.word = "silu"}, build_silu, NULL, 1},
    {{.word = "softplus"}, build_op, "Softplus", 1},
    {{.word = "prelu", {0}, {"slope", "init"}}, build_prelu, "PRelu", 1},
    {{.word = "identity"}, build_op, "Identity", 1},
};
enum { N_LAYERS = sizeof layers / sizeof layers[0] };

//
// Builder: statements
//

/* Words that begin statements other than layers. */
static const char *const statement_words[] = {"input", "output", "train", "seed", "init", "weights", NULL};

static const Form seed_form = {.word = "seed", {"value"}};
static const Form weights_form = {.word = "weights", {"file"}};
static const Form init_form = {.word = "init", {"rule"}};

static const Layer *find_layer(const Stmt *s) {
  const char *word = s->word->text;
  for (int i = 0; i < N_LAYERS; i++)
    if (strcmp(layers[i].form.word, word) == 0)
      return &layers[i];
  const char *words[N_LAYERS + 8];
  int n = 0;
  for (int i = 0; i < N_LAYERS; i++)
    words[n++] = layers[i].form.word;
  for (int i = 0; statement_words[i]; i++) {
    if (strcmp(statement_words[i], word) == 0)
      error_tok(s->name, "'%s' begins a statement and takes no `name =` before it", word);
    words[n++] = statement_words[i];
  }
  const char *hint = suggest(word, words, n);
  if (hint[0])
    error_tok(s->word, "unknown layer '%s'%s", quoted(word), hint);
  error_tok(s->word, "unknown layer '%s'; the layers are %s", quoted(word), join(words, N_LAYERS));
}

/* The tensors a layer reads: the ones it names, else the last layer's output. */
static Value **layer_inputs(Builder *b, const Stmt *s, const Layer *l, int *n_in) {
  const char *word = l->form.word;
  if (!s->has_inputs) {
    if (l->inputs != 1)
      error_tok(s->word, "%s reads %s: name them, as in %s(a, b)", word, l->inputs == 2 ? "two tensors" :
                "one or more tensors", word);
    if (!b->prev)
      error_tok(s->word, "this layer has no input: declare one before it, as in `input x: float[1, 3, 32, 32]`");
    Value **in = cn_alloc(sizeof(Value *)); /* a copy: building the layer moves b->prev on */
    in[0] = b->prev;
    *n_in = 1;
    return in;
  }
  if ((l->inputs == 1 || l->inputs == 2) && s->n_inputs != l->inputs)
    error_tok(s->word, "%s reads %s tensor%s, not %d", word, l->inputs == 1 ? "one" : "two", l->inputs == 1 ? "" : "s",
              s->n_inputs);
  Value **in = cn_alloc_array((size_t)s->n_inputs, sizeof(Value *));
  for (int i = 0; i < s->n_inputs; i++) {
    const Token *t = s->inputs[i];
    Entry *e = names_get(&b->names, t->text);
    if (!e) {
      const char **known = cn_alloc_array(b->names.count + 1, sizeof(char *));
      int n = 0;
      for (size_t k = 0; k < b->names.cap; k++)
        if (b->names.slots[k] && b->names.slots[k]->kind == ENTRY_TENSOR)
          known[n++] = b->names.slots[k]->name;
      error_tok(t, "no tensor named '%s' is defined before this line%s", quoted(t->text), suggest(t->text, known, n));
    }
    if (e->kind != ENTRY_TENSOR)
      error_tok(t, "'%s' is a %s; layers read inputs and the outputs of layers", quoted(t->text),
                e->kind == ENTRY_PARAM ? "parameter" : "layer's constant");
    in[i] = e->value;
  }
  *n_in = s->n_inputs;
  return in;
}

/* The layer's name, which is also its output's: the one the file gives, else the word and a number that no
 * name in the file takes (conv1, conv2, ..., relu6_1). */
static const char *layer_name(Builder *b, const Stmt *s, const Layer *l, int *counter) {
  if (s->name)
    return s->name->text;
  const char *word = l->form.word;
  bool digit = word[strlen(word) - 1] >= '0' && word[strlen(word) - 1] <= '9';
  for (;;) {
    const char *name = cn_format(digit ? "%s_%d" : "%s%d", word, ++*counter); /* relu6_1, not relu61 */
    if (!names_get(&b->explicit, name) && !names_get(&b->names, name))
      return name;
  }
}

static DType dtype_named(const Token *t) {
  const char *names[24];
  int n = 0;
  for (int k = 1; k <= DT_BFLOAT16; k++)
    if (dtype_supported((DType)k)) {
      if (strcmp(dtype_name((DType)k), t->text) == 0)
        return (DType)k;
      names[n++] = dtype_name((DType)k);
    }
  error_tok(t, "unknown element type '%s'%s; expected %s", quoted(t->text), suggest(t->text, names, n),
            alternatives(names, n));
}

static const char *bound_file(const LoadOptions *o, const char *name) {
  for (int k = 0; k < o->n_binds; k++)
    if (strcmp(o->binds[k].name, name) == 0)
      return o->binds[k].file;
  return NULL;
}

// input NAME: TYPE[DIM, ...], a DIM a number or a symbolic name fixed with --dim
static void build_input(Builder *b, const Stmt *s) {
  DType t = dtype_named(s->type);
  const Arg *shape = s->shape;
  if (shape->n > CN_MAX_RANK)
    error_tok(shape->tok, "the input has %d dimensions; cnnc supports up to %d", shape->n, CN_MAX_RANK);
  int64_t dims[CN_MAX_RANK];
  for (int i = 0; i < shape->n; i++) {
    const Arg *d = shape->items[i];
    if (i == 0 && b->opts->batch > 0) { /* --batch, or the train section's batch for --train */
      dims[0] = b->opts->batch;
      continue;
    }
    if (d->kind == ARG_WORD) {
      bool found = false;
      for (int k = 0; k < b->opts->n_dims && !found; k++)
        if (strcmp(b->opts->dims[k].name, d->s) == 0) {
          dims[i] = b->opts->dims[k].value;
          found = true;
        }
      if (!found)
        error_tok(d->tok, "dimension '%s' is symbolic: fix it with --dim %s=VALUE", quoted(d->s), quoted(d->s));
    } else {
      dims[i] = int_of(d, "a dimension", 0, INT64_MAX);
    }
  }
  if (tensor_bytes(t, shape->n, dims) < 0)
    error_tok(shape->tok, "the input would be larger than %lld bytes", (long long)CN_MAX_TENSOR_BYTES);
  Value *v = define(b, s->name->text, s->name, ENTRY_TENSOR);
  value_set_shape(v, NULL, t, shape->n, dims);
  const char *file = bound_file(b->opts, v->name);
  if (file) { /* --bind: a constant compiled in, as for an ONNX input */
    Value *bound = onnx_load_tensor_file(file);
    if (!same_type(bound, t, shape->n, dims))
      error_tok(s->name, "--bind %s: '%s' holds %s; the input is %s", quoted(v->name), quoted(file),
                type_string(bound->dtype, bound->rank, bound->dims), type_string(t, shape->n, dims));
    v->data = bound->data;
    v->flags |= VAL_INITIALIZER;
    return;
  }
  v->flags |= VAL_GRAPH_INPUT;
  b->g->inputs[b->g->n_inputs++] = v;
  b->prev = v;
}

static char *resolve_path(const char *dsl_path, const char *file) {
  const char *slash = strrchr(dsl_path, '/');
  if (file[0] == '/' || !slash)
    return cn_strdup(file);
  return cn_format("%.*s/%s", (int)(slash - dsl_path + 1), dsl_path, file);
}

/* weights "FILE.onnx": the initializers of an ONNX file, which layers take by name. */
static void load_weights(Builder *b, Stmt *s) {
  bind(s, &weights_form);
  const Arg *a = require(s, "file")->arg;
  if (a->kind != ARG_STRING || !a->s[0])
    error_tok(a->tok, "expected the weights file's name as a \"string\", got %s", describe_arg(a));
  b->weights_path = resolve_path(b->path, a->s);
  int count;
  Value **values = onnx_load_initializers(b->weights_path, &count);
  for (int i = 0; i < count; i++) {
    if (names_get(&b->weights, values[i]->name))
      error_tok(a->tok, "'%s' has two initializers named '%s'", quoted(b->weights_path), quoted(values[i]->name));
    Entry *e = cn_alloc(sizeof *e);
    *e = (Entry){.name = values[i]->name, .value = values[i], .def = s->word};
    names_put(&b->weights, e);
  }
}

//
// Builder: the training section
//

static const Form train_forms[] = {
    {.word = "loss", {"kind"}},
    {.word = "optimizer", {"kind"}, {"lr", "momentum", "nesterov", "weight_decay", "beta1", "beta2", "eps"}},
    {.word = "batch", {"size"}},
    {.word = "epochs", {"count"}},
    {.word = "schedule", {"kind"}, {"step_size", "gamma", "min_lr"}},
    {.word = "seed", {"value"}},
};
enum { N_TRAIN_FORMS = sizeof train_forms / sizeof train_forms[0] };

/* The settings of one optimizer or schedule: an error names the one a key belongs to. */
static void only_keys(const Stmt *s, const char *kind, const char *const *keys, int n_keys) {
  for (int i = 1; i < s->n_settings; i++) {
    bool ok = false;
    for (int k = 0; k < n_keys; k++)
      ok |= strcmp(s->settings[i].key, keys[k]) == 0;
    if (!ok)
      error_tok(s->settings[i].at, "%s takes %s%s, not '%s'", kind, n_keys ? "" : "no settings",
                n_keys ? join(keys, n_keys) : "", s->settings[i].key);
  }
}

static void train_command(TrainSettings *t, Stmt *s) {
  static const char *const losses[] = {"cross_entropy", "nll", "mse", NULL};
  static const char *const optimizers[] = {"sgd", "adam", "adamw", NULL};
  static const char *const schedules[] = {"constant", "step", "cosine", NULL};
  static const char *const sgd_keys[] = {"lr", "momentum", "nesterov", "weight_decay"};
  static const char *const adam_keys[] = {"lr", "beta1", "beta2", "eps", "weight_decay"};
  static const char *const step_keys[] = {"step_size", "gamma"};
  static const char *const cosine_keys[] = {"min_lr"};
  const char *word = s->word->text;
  if (strcmp(word, "loss") == 0) {
    require(s, "kind");
    t->loss = (LossKind)get_choice(s, "kind", losses, 0);
    t->given |= TRAIN_GIVEN_LOSS;
  } else if (strcmp(word, "optimizer") == 0) {
    require(s, "kind");
    t->optimizer = (OptimizerKind)get_choice(s, "kind", optimizers, 0);
    bool sgd = t->optimizer == OPTIMIZER_SGD;
    only_keys(s, optimizers[t->optimizer], sgd ? sgd_keys : adam_keys, sgd ? 4 : 5);
    static const struct {
      const char *key;
      unsigned bit;
      size_t offset;
      double lo, hi;
      bool open_lo;
      const char *range;
    } numbers[] = {
        {"lr", TRAIN_GIVEN_LR, offsetof(TrainSettings, lr), 0, INFINITY, true, "positive"},
        {"momentum", TRAIN_GIVEN_MOMENTUM, offsetof(TrainSettings, momentum), 0, 1, false, "from 0 to 1"},
        {"weight_decay", TRAIN_GIVEN_WEIGHT_DECAY, offsetof(TrainSettings, weight_decay), 0, INFINITY, false,
         "at least 0"},
        {"beta1", TRAIN_GIVEN_BETA1, offsetof(TrainSettings, beta1), 0, 1, false, "at least 0 and below 1"},
        {"beta2", TRAIN_GIVEN_BETA2, offsetof(TrainSettings, beta2), 0, 1, false, "at least 0 and below 1"},
        {"eps", TRAIN_GIVEN_EPS, offsetof(TrainSettings, eps), 0, INFINITY, false, "at least 0"},
    };
    if (!sgd) {
      t->lr = 0.001;
      t->weight_decay = t->optimizer == OPTIMIZER_ADAMW ? 0.01 : 0;
    }
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
      const Setting *st = find(s, numbers[i].key);
      if (!st)
        continue;
      double x = get_float(s, numbers[i].key, 0, numbers[i].lo, numbers[i].hi, numbers[i].open_lo, numbers[i].range);
      if ((strcmp(numbers[i].key, "beta1") == 0 || strcmp(numbers[i].key, "beta2") == 0) && x == 1)
        error_tok(st->arg->tok, "'%s' must be %s, got 1", numbers[i].key, numbers[i].range);
      *(double *)((char *)t + numbers[i].offset) = x;
      t->given |= numbers[i].bit;
    }
    if (find(s, "nesterov")) {
      t->nesterov = get_bool(s, "nesterov", false);
      t->given |= TRAIN_GIVEN_NESTEROV;
      if (t->nesterov && t->momentum == 0)
        error_tok(find(s, "nesterov")->arg->tok, "nesterov needs a momentum above 0");
    }
    t->given |= TRAIN_GIVEN_OPTIMIZER;
  } else if (strcmp(word, "batch") == 0) {
    t->batch_size = int_of(require(s, "size")->arg, "size", 1, MAX_SIZE);
    t->given |= TRAIN_GIVEN_BATCH_SIZE;
  } else if (strcmp(word, "epochs") == 0) {
    t->epochs = int_of(require(s, "count")->arg, "count", 1, MAX_SIZE);
    t->given |= TRAIN_GIVEN_EPOCHS;
  } else if (strcmp(word, "schedule") == 0) {
    require(s, "kind");
    t->schedule = (ScheduleKind)get_choice(s, "kind", schedules, 0);
    if (t->schedule == SCHEDULE_STEP) {
      only_keys(s, "the step schedule", step_keys, 2);
      if (find(s, "step_size"))
        t->given |= TRAIN_GIVEN_STEP_SIZE;
      if (find(s, "gamma"))
        t->given |= TRAIN_GIVEN_GAMMA;
      t->step_size = get_int(s, "step_size", t->step_size, 1, MAX_SIZE);
      t->gamma = get_float(s, "gamma", t->gamma, 0, INFINITY, true, "positive");
    } else if (t->schedule == SCHEDULE_COSINE) {
      only_keys(s, "the cosine schedule", cosine_keys, 1);
      if (find(s, "min_lr"))
        t->given |= TRAIN_GIVEN_MIN_LR;
      t->min_lr = get_float(s, "min_lr", t->min_lr, 0, INFINITY, false, "at least 0");
    } else {
      only_keys(s, "the constant schedule", NULL, 0);
    }
    t->given |= TRAIN_GIVEN_SCHEDULE;
  } else {
    t->seed = (uint64_t)int_of(require(s, "value")->arg, "value", 0, INT64_MAX);
    t->given |= TRAIN_GIVEN_SEED;
  }
}

// train { loss KIND | optimizer KIND [settings] | batch N | epochs N | schedule KIND [settings] | seed N }
static TrainSettings *build_train(Builder *b, const Stmt *s) {
  TrainSettings *t = cn_alloc(sizeof *t);
  *t = (TrainSettings){.loss = LOSS_CROSS_ENTROPY, .optimizer = OPTIMIZER_SGD, .lr = 0.01, .beta1 = 0.9,
                       .beta2 = 0.999, .eps = 1e-8, .batch_size = 64, .epochs = 1, .schedule = SCHEDULE_CONSTANT,
                       .step_size = 1, .gamma = 0.1, .seed = b->seed};
  const Token *seen[N_TRAIN_FORMS] = {0};
  for (int i = 0; i < s->n_body; i++) {
    Stmt *c = s->body[i];
    int f = 0;
    while (f < N_TRAIN_FORMS && strcmp(train_forms[f].word, c->word->text) != 0)
      f++;
    if (c->name)
      error_tok(c->name, "training settings take no `name =`");
    if (f == N_TRAIN_FORMS) {
      const char *words[N_TRAIN_FORMS];
      for (int k = 0; k < N_TRAIN_FORMS; k++)
        words[k] = train_forms[k].word;
      error_tok(c->word, "unknown training setting '%s'%s; expected %s", quoted(c->word->text),
                suggest(c->word->text, words, N_TRAIN_FORMS), alternatives(words, N_TRAIN_FORMS));
    }
    if (seen[f])
      error_tok(c->word, "'%s' is already set at line %d", train_forms[f].word, seen[f]->loc.line);
    seen[f] = c->word;
    if (c->has_inputs)
      error_tok(c->inputs[0], "training settings read no tensors");
    bind(c, &train_forms[f]);
    train_command(t, c);
  }
  return t;
}

//
// Entry points
//

/* Statements that apply to the whole file wherever they are: `seed` and `weights` (layers before them
 * initialize or load by them too). Also collects the names the file gives, which generated names avoid. */
static void first_pass(Builder *b, Stmt **stmts, int n) {
  const Token *seed = NULL, *weights = NULL;
  for (int i = 0; i < n; i++) {
    Stmt *s = stmts[i];
    const char *word = s->word->text;
    if (s->name && !names_get(&b->explicit, s->name->text)) {
      Entry *e = cn_alloc(sizeof *e);
      *e = (Entry){.name = s->name->text, .def = s->name};
      names_put(&b->explicit, e);
    }
    if (s->kind != STMT_COMMAND || s->name)
      continue;
    if (strcmp(word, "seed") == 0) {
      if (seed)
        error_tok(s->word, "the seed is already set at line %d", seed->loc.line);
      seed = s->word;
      bind(s, &seed_form);
      b->seed = (uint64_t)int_of(require(s, "value")->arg, "value", 0, INT64_MAX);
    } else if (strcmp(word, "weights") == 0) {
      if (weights)
        error_tok(s->word, "the weights file is already given at line %d", weights->loc.line);
      weights = s->word;
      load_weights(b, s);
    }
  }
}

Graph *dsl_load_text(const char *path, const char *text, size_t len, const LoadOptions *opts) {
  diag_file = path;
  diag_node_loc = find_node_loc;
  const char *nul = memchr(text, 0, len);
  char *source = cn_strndup(text, len);
  if (nul) {
    source[nul - text] = '\n'; /* so the lexer stops there with the right line and column */
    const char *line_start = source;
    int line = 1;
    for (const char *p = source; p < source + (nul - text); p++)
      if (*p == '\n') {
        line++;
        line_start = p + 1;
      }
    SrcLoc loc = {path, line_start, line, (int)(source + (nul - text) - line_start) + 1};
    source[nul - text] = 0;
    cn_error_at(&loc, "unexpected NUL byte: a .cnn file is text");
  }
  Token *toks = tokenize(path, source);
  int n;
  Stmt **stmts = parse(toks, &n);

  Graph *g = graph_new(path);
  g->opset = 17;
  g->producer = "cnnc " CN_VERSION " (DSL)";
  g->inputs = cn_alloc_array((size_t)n + 1, sizeof(Value *));
  Builder b = {.g = g, .path = path, .opts = opts, .init = {INIT_HE, 0, 0}};
  first_pass(&b, stmts, n);
  int counters[N_LAYERS] = {0};
  Stmt **outputs = cn_alloc_array((size_t)n + 1, sizeof(Stmt *));
  int n_output_stmts = 0;
  const Token *train = NULL;
  for (int i = 0; i < n; i++) {
    Stmt *s = stmts[i];
    const char *word = s->word->text;
    if (s->kind == STMT_INPUT) {
      build_input(&b, s);
    } else if (s->kind == STMT_OUTPUT) {
      outputs[n_output_stmts++] = s;
    } else if (s->kind == STMT_TRAIN) {
      if (train)
        error_tok(s->word, "the training section is already given at line %d", train->loc.line);
      train = s->word;
      g->train = build_train(&b, s);
    } else if (!s->name && (strcmp(word, "seed") == 0 || strcmp(word, "weights") == 0)) {
      continue; /* first_pass */
    } else if (!s->name && strcmp(word, "init") == 0) {
      bind(s, &init_form);
      b.init = init_of(require(s, "rule")->arg, "rule");
    } else {
      const Layer *l = find_layer(s);
      bind(s, &l->form);
      int n_in;
      Value **in = layer_inputs(&b, s, l, &n_in);
      l->build(&b, s, l, layer_name(&b, s, l, &counters[l - layers]), in, n_in);
    }
  }

  for (int k = 0; k < opts->n_binds; k++) {
    Entry *e = names_get(&b.names, opts->binds[k].name);
    if (!e || e->kind != ENTRY_TENSOR || !(e->value->flags & VAL_INITIALIZER))
      cn_error("--bind %s: the model has no input of that name", quoted(opts->binds[k].name));
  }
  int n_outputs = 0;
  for (int i = 0; i < n_output_stmts; i++)
    n_outputs += outputs[i]->n_inputs;
  g->outputs = cn_alloc_array((size_t)n_outputs + 1, sizeof(Value *));
  for (int i = 0; i < n_output_stmts; i++)
    for (int k = 0; k < outputs[i]->n_inputs; k++) {
      const Token *t = outputs[i]->inputs[k];
      Entry *e = names_get(&b.names, t->text);
      if (!e || e->kind != ENTRY_TENSOR || !e->value->producer)
        error_tok(t, e ? "'%s' is not the output of a layer" : "no layer's output is named '%s'", quoted(t->text));
      if (e->value->flags & VAL_GRAPH_OUTPUT)
        error_tok(t, "'%s' is already an output", quoted(t->text));
      e->value->flags |= VAL_GRAPH_OUTPUT;
      g->outputs[g->n_outputs++] = e->value;
    }
  if (g->n_outputs == 0) {
    if (!b.prev || !b.prev->producer)
      error_tok(&toks[0], "the file defines no layers");
    b.prev->flags |= VAL_GRAPH_OUTPUT;
    g->outputs[g->n_outputs++] = b.prev;
  }
  if (g->n_inputs == 0)
    error_tok(&toks[0], "the file declares no run-time input: `input NAME: TYPE[dims]`");
  graph_sort(g);
  return g;
}

bool dsl_detect(const char *path) {
  size_t len = strlen(path);
  if (len >= 4 && strcmp(path + len - 4, ".cnn") == 0)
    return true;
  if (len >= 5 && strcmp(path + len - 5, ".onnx") == 0)
    return false;
  /* Another name: DSL text starts with a comment or a word; ONNX starts with a binary field tag (0x08, ir_version). */
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  unsigned char head[256];
  size_t n = fread(head, 1, sizeof head, f);
  fclose(f);
  size_t i = 0;
  while (i < n && isspace(head[i]))
    i++;
  if (i == n || !(head[i] == '#' || is_word_start((char)head[i])))
    return false;
  for (size_t k = 0; k < n; k++)
    if (head[k] < 0x20 && !isspace(head[k]))
      return false;
  return true;
}

Graph *dsl_load(const char *path, const LoadOptions *opts) {
  diag_file = path;
  FILE *f = fopen(path, "rb");
  if (!f)
    cn_error("cannot open '%s'", path);
  long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (len < 0)
    cn_error("cannot read '%s'", path);
  if ((int64_t)len > MAX_SOURCE_BYTES)
    cn_error("'%s' is larger than %lld bytes; a .cnn file is text written by hand (weights go in a weights file)",
             path, (long long)MAX_SOURCE_BYTES);
  rewind(f);
  char *text = cn_alloc((size_t)len + 1);
  if (fread(text, 1, (size_t)len, f) != (size_t)len)
    cn_error("cannot read '%s'", path);
  fclose(f);
  return dsl_load_text(path, text, (size_t)len, opts);
}
