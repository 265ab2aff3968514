/* Diagnostics: every user error names the model file, the node and what was expected, then exits 1. */
#include "cnnc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *diag_file = "cnnc";
void (*diag_fatal_hook)(const char *message);
bool (*diag_node_loc)(const Node *n, SrcLoc *loc);

#define MAX_TEMPS 16
static const char *temps[MAX_TEMPS];
static char last_message[2048];

void diag_track_temp(const char *path) {
  for (int i = 0; i < MAX_TEMPS; i++)
    if (!temps[i]) {
      temps[i] = path;
      return;
    }
  cn_error("too many temporary files");
}

void diag_untrack_temp(const char *path) {
  for (int i = 0; i < MAX_TEMPS; i++)
    if (temps[i] == path)
      temps[i] = NULL;
}

noreturn void cn_fatal(void) {
  for (int i = 0; i < MAX_TEMPS; i++)
    if (temps[i]) {
      remove(temps[i]); /* a file, or a scratch directory that is still empty */
      temps[i] = NULL;
    }
  if (diag_fatal_hook)
    diag_fatal_hook(last_message);
  exit(1);
}

/* Appends to last_message as far as it has room. */
static void append(size_t *len, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(size_t *len, const char *fmt, ...) {
  if (*len >= sizeof last_message)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(last_message + *len, sizeof last_message - *len, fmt, ap);
  va_end(ap);
  if (n > 0)
    *len += (size_t)n;
}

/* The source line under the message and a caret under the column (chibicc's error_at). A long line is cut to
 * a window around the spot; tabs are kept in the caret line so the caret stays aligned. */
static void append_source_line(size_t *len, const SrcLoc *loc) {
  enum { BEFORE = 120, AFTER = 80 };
  const char *start = loc->line_start, *spot = loc->line_start + (loc->col - 1), *end = spot;
  while (*end && *end != '\n' && *end != '\r')
    end++;
  for (const char *p = start; p < spot; p++)
    if (!*p || *p == '\n') /* a column past the end of the line: the caret goes right after it */
      spot = end = p;
  if (spot - start > BEFORE)
    start = spot - BEFORE;
  if (end - spot > AFTER)
    end = spot + AFTER;
  append(len, "\n%.*s\n", (int)(end - start), start);
  for (const char *p = start; p < spot; p++)
    append(len, "%c", *p == '\t' ? '\t' : ' ');
  append(len, "^");
}

/* Formats one diagnostic into last_message: located at `loc` when given (the DSL), else at the model file; about
 * node n when given, which the front end may place in its source through diag_node_loc. */
static void vreport(const char *kind, const Node *n, const SrcLoc *loc, const char *fmt, va_list ap) {
  size_t len = 0;
  SrcLoc node_loc;
  if (!loc && n && diag_node_loc && diag_node_loc(n, &node_loc))
    loc = &node_loc;
  if (loc)
    append(&len, "%s:%d:%d: %s: ", loc->file, loc->line, loc->col, kind);
  else
    append(&len, "%s: %s: ", diag_file, kind);
  if (n) {
    char *name = cn_escape_c_string(n->name ? n->name : "", 200);
    char *type = cn_escape_c_string(n->op_type ? n->op_type : "?", 100);
    if (loc)
      append(&len, "'%s' (%s): ", name, type);
    else
      append(&len, "node %d '%s' (%s): ", n->id, name, type);
  }
  if (len < sizeof last_message) {
    int k = vsnprintf(last_message + len, sizeof last_message - len, fmt, ap);
    if (k > 0)
      len += (size_t)k;
  }
  if (loc)
    append_source_line(&len, loc);
  /* with a hook installed (tests), the hook decides what to do with an error's text */
  if (!diag_fatal_hook || strcmp(kind, "error") != 0)
    fprintf(stderr, "%s\n", last_message);
}

noreturn void cn_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("error", NULL, NULL, fmt, ap);
  va_end(ap);
  cn_fatal();
}

noreturn void cn_error_at(const SrcLoc *loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("error", NULL, loc, fmt, ap);
  va_end(ap);
  cn_fatal();
}

noreturn void cn_error_node(const Node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("error", n, NULL, fmt, ap);
  va_end(ap);
  cn_fatal();
}

void cn_warn_node(const Node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("warning", n, NULL, fmt, ap);
  va_end(ap);
}

noreturn void cn_internal(const char *file, int line, const char *what) {
  snprintf(last_message, sizeof last_message, "%s: internal error at %s:%d: %s", diag_file, file, line, what);
  fprintf(stderr, "%s\n", last_message);
  cn_fatal();
}
