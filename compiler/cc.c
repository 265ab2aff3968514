/* Running the C compiler on generated code, for --emit=obj|exe and `cnnc check`. */
#include "cnnc.h"

#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

/* clang is the default compiler for generated code; $CC overrides it. */
const char *cc_default(void) {
  const char *cc = getenv("CC");
  return cc && cc[0] ? cc : "clang";
}

int cc_run(const CcOptions *o, const char *const *args, int n_args) {
  const char *argv[64];
  int argc = 0;
  argv[argc++] = o->cc ? o->cc : cc_default();
  argv[argc++] = "-std=c11";
  argv[argc++] = o->opt ? o->opt : "-O2";
  if (o->werror) {
    argv[argc++] = "-Wall";
    argv[argc++] = "-Wextra";
    argv[argc++] = "-Werror";
  }
#ifdef CN_GENERATED_CFLAGS
  /* a cnnc built with sanitizers (cmake -DCNNC_SANITIZE=ON) builds the code it generates with them too */
  static char flags[] = CN_GENERATED_CFLAGS;
  static char *flag_list[16];
  static int n_flags = -1;
  if (n_flags < 0)
    for (n_flags = 0; n_flags < 16 && (flag_list[n_flags] = strtok(n_flags ? NULL : flags, " ")); n_flags++)
      ;
  for (int i = 0; i < n_flags; i++)
    argv[argc++] = flag_list[i];
#endif
  CN_ASSERT(argc + n_args < 63);
  for (int i = 0; i < n_args; i++)
    argv[argc++] = args[i];
  argv[argc] = NULL;
  return cn_spawn(argv);
}

int cn_spawn(const char *const *argv) {
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0)
    cn_error("cannot run '%s'", argv[0]);
  int status;
  if (waitpid(pid, &status, 0) < 0)
    cn_error("waiting for '%s' failed", argv[0]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

char *embed_write(const char *dir, const char *name) {
  for (size_t i = 0; i < cn_embedded_count; i++) {
    if (strcmp(cn_embedded_files[i].name, name) != 0)
      continue;
    char *path = cn_format("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(cn_embedded_files[i].data, 1, cn_embedded_files[i].size, f) != cn_embedded_files[i].size ||
        fclose(f) != 0)
      cn_error("cannot write '%s'", path);
    return path;
  }
  cn_internal(__FILE__, __LINE__, cn_format("no embedded file '%s'", name));
}
