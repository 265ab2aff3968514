/* cnnrt_internal.h: helpers shared by the runtime's .c files; not part of
 * the public API. */
#ifndef CNNRT_INTERNAL_H
#define CNNRT_INTERNAL_H

#include "cnnrt.h"

#if defined(__GNUC__)
#define CNNRT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CNNRT_PRINTF(fmt, args)
#endif

/* Records a failure message for cnnrt_last_error() and returns status, so
 * that callers can write `return cnnrt_fail(...)`. */
int cnnrt_fail(int status, const char *fmt, ...) CNNRT_PRINTF(2, 3);

/* Prepends "prefix: " to the recorded message and returns status; used
 * where the code that failed did not know the file name. */
int cnnrt_fail_prefix(int status, const char *prefix);

/* Reads a whole file into a malloc'ed buffer (never NULL on success, even
 * for an empty file), failing with CNNRT_ERR_LIMIT past limit bytes. */
int cnnrt_file_read(const char *path, size_t limit, unsigned char **data,
                    size_t *size);

/* Multiplies dims into *count, rejecting negative dims and tensors over
 * CNNRT_MAX_BYTES. elem_type must be one cnnrt_elem_size knows. */
int cnnrt_count_elems(int rank, const int64_t *dims, int elem_type,
                      size_t *count);

/* Formats dims as "[1,3,224,224]" for messages. */
void cnnrt_format_dims(char *buf, size_t size, int rank, const int64_t *dims);

#endif /* CNNRT_INTERNAL_H */
