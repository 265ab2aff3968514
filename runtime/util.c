/* util.c: labels files, top-k, softmax and timing. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnrt_internal.h"

/* Far above any real label set, yet it bounds the array of line pointers
 * a file of blank lines would need. */
#define LABELS_MAX_BYTES ((size_t)16 << 20)

int cnnrt_labels_read(const char *path, cnnrt_labels *out) {
  memset(out, 0, sizeof *out);
  unsigned char *buf;
  size_t size;
  int st = cnnrt_file_read(path, LABELS_MAX_BYTES, &buf, &size);
  if (st)
    return st;
  char *text = realloc(buf, size + 1);
  if (!text) {
    free(buf);
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory", path);
  }
  text[size] = '\0';
  size_t lines = 0;
  for (size_t i = 0; i < size; i++)
    lines += text[i] == '\n';
  if (size && text[size - 1] != '\n')
    lines++;
  char **names = malloc((lines ? lines : 1) * sizeof *names);
  if (!names) {
    free(text);
    return cnnrt_fail(CNNRT_ERR_NOMEM, "%s: out of memory", path);
  }
  char *p = text;
  for (size_t i = 0; i < lines; i++) {
    char *nl = strchr(p, '\n');
    char *end = nl ? nl : text + size;
    if (end > p && end[-1] == '\r')
      end--;
    *end = '\0';
    names[i] = p;
    p = nl ? nl + 1 : text + size;
  }
  out->count = lines;
  out->names = names;
  out->text = text;
  return CNNRT_OK;
}

void cnnrt_labels_free(cnnrt_labels *labels) {
  free(labels->names);
  free(labels->text);
  memset(labels, 0, sizeof *labels);
}

/* Whether score a at index ia ranks above score b at index ib. */
static int ranks_above(float a, size_t ia, float b, size_t ib) {
  if (isnan(a) || isnan(b))
    return isnan(a) ? isnan(b) && ia < ib : 1;
  return a != b ? a > b : ia < ib;
}

size_t cnnrt_topk(const float *scores, size_t n, size_t k, size_t *idx) {
  if (k > n)
    k = n;
  size_t m = 0;
  for (size_t i = 0; i < n && k; i++) {
    if (m == k && !ranks_above(scores[i], i, scores[idx[k - 1]], idx[k - 1]))
      continue;
    size_t j = m < k ? m++ : k - 1;
    for (; j > 0 && ranks_above(scores[i], i, scores[idx[j - 1]], idx[j - 1]);
         j--)
      idx[j] = idx[j - 1];
    idx[j] = i;
  }
  return k;
}

void cnnrt_softmax(float *v, size_t n) {
  if (n == 0)
    return;
  /* Subtracting the maximum keeps expf from overflowing. */
  float max = v[0];
  for (size_t i = 1; i < n; i++)
    if (v[i] > max)
      max = v[i];
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    v[i] = expf(v[i] - max);
    sum += v[i];
  }
  for (size_t i = 0; i < n; i++)
    v[i] = (float)(v[i] / sum);
}

double cnnrt_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
