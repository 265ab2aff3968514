/* checkpoint.c: named sections in one file, written atomically.
 *
 * Atomic means: the bytes go to PATH.tmp, fsync makes them durable, rename
 * replaces PATH in one step, and an fsync of the directory makes the rename
 * durable. A process killed at any moment (kill -9, power loss after the
 * directory sync) leaves PATH either old or new, never half written; a stale
 * PATH.tmp is simply overwritten by the next write. */
#define _POSIX_C_SOURCE 200809L /* fsync, open, O_DIRECTORY */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cnnrt_internal.h"
#include "cnnrt_train.h"

static const char magic[8] = {'C', 'N', 'N', 'C', 'C', 'K', 'P', '1'};

/* Sections and names have generous but finite bounds, so that a damaged
 * count cannot make the reader allocate without end. */
#define MAX_SECTIONS 100000
#define MAX_NAME 4096

int cnnrt_checkpoint_add(cnnrt_checkpoint *c, const char *name,
                         const void *data, size_t size) {
  if (c->count == c->capacity) {
    size_t cap = c->capacity ? 2 * c->capacity : 16;
    cnnrt_section *grown = realloc(c->sections, cap * sizeof *grown);
    if (!grown)
      return cnnrt_fail(CNNRT_ERR_NOMEM, "checkpoint: out of memory");
    c->sections = grown;
    c->capacity = cap;
  }
  cnnrt_section *s = &c->sections[c->count];
  size_t len = strlen(name);
  s->name = malloc(len + 1);
  s->data = malloc(size ? size : 1);
  if (!s->name || !s->data) {
    free(s->name);
    free(s->data);
    return cnnrt_fail(CNNRT_ERR_NOMEM, "checkpoint: out of memory");
  }
  memcpy(s->name, name, len + 1);
  if (size)
    memcpy(s->data, data, size);
  s->size = size;
  c->count++;
  return CNNRT_OK;
}

const cnnrt_section *cnnrt_checkpoint_find(const cnnrt_checkpoint *c,
                                           const char *name) {
  for (size_t i = 0; i < c->count; i++)
    if (strcmp(c->sections[i].name, name) == 0)
      return &c->sections[i];
  return NULL;
}

int cnnrt_checkpoint_get(const cnnrt_checkpoint *c, const char *name,
                         void *dst, size_t size) {
  const cnnrt_section *s = cnnrt_checkpoint_find(c, name);
  if (!s)
    return cnnrt_fail(CNNRT_ERR_MISMATCH, "the checkpoint has no '%s'", name);
  if (s->size != size)
    return cnnrt_fail(CNNRT_ERR_MISMATCH,
                      "the checkpoint's '%s' holds %zu bytes, this model's "
                      "%zu",
                      name, s->size, size);
  memcpy(dst, s->data, size);
  return CNNRT_OK;
}

void cnnrt_checkpoint_free(cnnrt_checkpoint *c) {
  for (size_t i = 0; i < c->count; i++) {
    free(c->sections[i].name);
    free(c->sections[i].data);
  }
  free(c->sections);
  memset(c, 0, sizeof *c);
}

static void put_u32(unsigned char *p, uint32_t x) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(x >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t x) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(x >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
  uint32_t x = 0;
  for (int i = 0; i < 4; i++)
    x |= (uint32_t)p[i] << (8 * i);
  return x;
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t x = 0;
  for (int i = 0; i < 8; i++)
    x |= (uint64_t)p[i] << (8 * i);
  return x;
}

static uint32_t crc32_of(const unsigned char *p, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n) { /* zlib's crc32 takes a uInt length */
    uInt chunk = n > (1u << 30) ? 1u << 30 : (uInt)n;
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return (uint32_t)crc;
}

int cnnrt_checkpoint_write(const char *path, const cnnrt_checkpoint *c) {
  size_t size = sizeof magic + 4 + 4;
  for (size_t i = 0; i < c->count; i++)
    size += 4 + strlen(c->sections[i].name) + 8 + c->sections[i].size;
  unsigned char *buf = malloc(size);
  if (!buf)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory", path);
  unsigned char *p = buf;
  memcpy(p, magic, sizeof magic);
  p += sizeof magic;
  put_u32(p, (uint32_t)c->count);
  p += 4;
  for (size_t i = 0; i < c->count; i++) {
    const cnnrt_section *s = &c->sections[i];
    size_t len = strlen(s->name);
    put_u32(p, (uint32_t)len);
    memcpy(p + 4, s->name, len);
    p += 4 + len;
    put_u64(p, s->size);
    if (s->size)
      memcpy(p + 8, s->data, s->size);
    p += 8 + s->size;
  }
  put_u32(p, crc32_of(buf, (size_t)(p - buf)));
  int st = cnnrt_write_file_atomic(path, buf, size);
  free(buf);
  return st;
}

/* The directory part of path, "." if none, in buf. */
static void directory_of(const char *path, char *buf, size_t size) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(buf, size, ".");
    return;
  }
  size_t len = slash == path ? 1 : (size_t)(slash - path);
  snprintf(buf, size, "%.*s", (int)len, path);
}

int cnnrt_write_file_atomic(const char *path, const void *data, size_t size) {
  size_t len = strlen(path);
  char *temp = malloc(len + 5);
  if (!temp)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory", path);
  memcpy(temp, path, len);
  memcpy(temp + len, ".tmp", 5);
  int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0) {
    int st = cnnrt_fail(CNNRT_ERR_IO, "%s: cannot create: %s", temp,
                        strerror(errno));
    free(temp);
    return st;
  }
  const unsigned char *p = data;
  size_t left = size;
  while (left) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    p += n;
    left -= (size_t)n;
  }
  int err = left ? errno : 0;
  if (!err && fsync(fd) != 0)
    err = errno;
  if (close(fd) != 0 && !err)
    err = errno;
  if (!err && rename(temp, path) != 0)
    err = errno;
  if (err) {
    unlink(temp);
    free(temp);
    return cnnrt_fail(CNNRT_ERR_IO, "%s: cannot write: %s", path,
                      strerror(err ? err : EIO));
  }
  free(temp);
  char dir[4096];
  directory_of(path, dir, sizeof dir);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) { /* the rename is durable once the directory is synced */
    int synced = fsync(dfd);
    close(dfd);
    if (synced != 0)
      return cnnrt_fail(CNNRT_ERR_IO, "%s: cannot sync its directory: %s",
                        path, strerror(errno));
  }
  return CNNRT_OK;
}

int cnnrt_checkpoint_read(const char *path, cnnrt_checkpoint *c) {
  memset(c, 0, sizeof *c);
  unsigned char *buf;
  size_t size;
  int st = cnnrt_file_read(path, CNNRT_MAX_BYTES, &buf, &size);
  if (st)
    return st;
  st = CNNRT_ERR_FORMAT;
  if (size < sizeof magic + 8 || memcmp(buf, magic, sizeof magic) != 0) {
    cnnrt_fail(st, "%s: not a cnnc checkpoint", path);
    goto done;
  }
  if (crc32_of(buf, size - 4) != get_u32(buf + size - 4)) {
    cnnrt_fail(st, "%s: the checkpoint is damaged (its CRC does not match)",
               path);
    goto done;
  }
  const unsigned char *p = buf + sizeof magic, *end = buf + size - 4;
  uint32_t count = get_u32(p);
  p += 4;
  if (count > MAX_SECTIONS) {
    cnnrt_fail(st, "%s: %u sections, more than a checkpoint has", path,
               (unsigned)count);
    goto done;
  }
  for (uint32_t i = 0; i < count; i++) {
    if (end - p < 4 || get_u32(p) > MAX_NAME ||
        (size_t)(end - p) < 4 + (size_t)get_u32(p) + 8) {
      cnnrt_fail(st, "%s: section %u is truncated", path, (unsigned)i);
      goto done;
    }
    size_t len = get_u32(p);
    char name[MAX_NAME + 1];
    memcpy(name, p + 4, len);
    name[len] = '\0';
    p += 4 + len;
    uint64_t bytes = get_u64(p);
    p += 8;
    if (bytes > (uint64_t)(end - p)) {
      cnnrt_fail(st, "%s: section '%s' is truncated", path, name);
      goto done;
    }
    int added = cnnrt_checkpoint_add(c, name, p, (size_t)bytes);
    if (added) {
      st = added;
      goto done;
    }
    p += bytes;
  }
  if (p != end) {
    cnnrt_fail(st, "%s: %zu bytes after the last section", path,
               (size_t)(end - p));
    goto done;
  }
  st = CNNRT_OK;
done:
  free(buf);
  if (st)
    cnnrt_checkpoint_free(c);
  return st;
}
