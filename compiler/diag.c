/* Diagnostics: every user error names the model file, the node and what was expected, then exits 1. */
#include "cnnc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *diag_file = "cnnc";
void (*diag_fatal_hook)(const char *message);

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

static void vreport(const char *kind, const Node *n, const char *fmt, va_list ap) {
  int len = snprintf(last_message, sizeof last_message, "%s: %s: ", diag_file, kind);
  if (n && len >= 0 && (size_t)len < sizeof last_message) {
    char *name = cn_escape_c_string(n->name ? n->name : "", 200);
    char *type = cn_escape_c_string(n->op_type ? n->op_type : "?", 100);
    len += snprintf(last_message + len, sizeof last_message - len, "node %d '%s' (%s): ", n->id, name, type);
  }
  if (len >= 0 && (size_t)len < sizeof last_message)
    vsnprintf(last_message + len, sizeof last_message - len, fmt, ap);
  /* with a hook installed (tests), the hook decides what to do with an error's text */
  if (!diag_fatal_hook || strcmp(kind, "error") != 0)
    fprintf(stderr, "%s\n", last_message);
}

noreturn void cn_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("error", NULL, fmt, ap);
  va_end(ap);
  cn_fatal();
}

noreturn void cn_error_node(const Node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("error", n, fmt, ap);
  va_end(ap);
  cn_fatal();
}

void cn_warn_node(const Node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("warning", n, fmt, ap);
  va_end(ap);
}

noreturn void cn_internal(const char *file, int line, const char *what) {
  snprintf(last_message, sizeof last_message, "%s: internal error at %s:%d: %s", diag_file, file, line, what);
  fprintf(stderr, "%s\n", last_message);
  cn_fatal();
}
