/* Compiling templates/ on their own: a test writes a driver (instances of a template with small constants, a
 * plain-C reference, a main that compares them) and the harness builds it with gcc and clang under -Werror for
 * every instruction set, and runs each build the CPU can execute. */
#ifndef TEMPLATE_HARNESS_H
#define TEMPLATE_HARNESS_H

/* The text that instantiates `template_file` (a name under templates/) with the given parameters: each
 * definition is "NAME value" or "NAME(args) body", written as a #define before the template's text and
 * #undef'd after it, as the emitter does. The list ends with NULL. */
char *tpl_instance(const char *template_file, const char *const *defines);

/* Builds the driver `body` (after the ISA macro and the SIMD helpers, which the harness puts first) with every
 * compiler and ISA, and runs the builds this CPU supports; each build that fails to compile or run is a
 * CUnit failure, named. Returns the number of builds that ran. */
int tpl_build_and_run(const char *test_name, const char *body);

#endif
