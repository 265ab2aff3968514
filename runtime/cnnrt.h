/* cnnrt.h: the cnnc runtime, linked into programs that use generated models.
 *
 * It reads model inputs (ONNX TensorProto files, raw little-endian files,
 * IDX data sets and images) and offers the few helpers a classifier needs.
 * No function exits or prints: each returns a CNNRT_* status, and on failure
 * cnnrt_last_error() tells what went wrong, naming the file. */
#ifndef CNNRT_H
#define CNNRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Zero is success; every failure is negative. */
#define CNNRT_OK 0
#define CNNRT_ERR_IO (-1)          /* a file could not be opened or read */
#define CNNRT_ERR_FORMAT (-2)      /* the file is malformed or truncated */
#define CNNRT_ERR_UNSUPPORTED (-3) /* well-formed, but uses a feature we lack  \
                                    */
#define CNNRT_ERR_MISMATCH (-4)    /* contents do not match what was expected */
#define CNNRT_ERR_NOMEM (-5)
#define CNNRT_ERR_LIMIT (-6) /* larger than CNNRT_MAX_BYTES */
#define CNNRT_ERR_ARG (-7)   /* the caller passed an invalid argument */

/* Upper bound on any file or tensor the runtime reads, so that a hostile
 * header cannot make it allocate without bound. */
#define CNNRT_MAX_BYTES ((size_t)1 << 31)
#define CNNRT_MAX_RANK 8

/* ONNX TensorProto.DataType codes the runtime can hold. */
#define CNNRT_FLOAT 1
#define CNNRT_UINT8 2
#define CNNRT_INT8 3
#define CNNRT_UINT16 4
#define CNNRT_INT16 5
#define CNNRT_INT32 6
#define CNNRT_INT64 7
#define CNNRT_BOOL 9
#define CNNRT_DOUBLE 11
#define CNNRT_UINT32 12
#define CNNRT_UINT64 13

/* Generic text for a status code: "malformed file" and the like. */
const char *cnnrt_strerror(int status);

/* The detailed message of the last failure in this thread, such as
 * "x.pb: raw_data holds 100 bytes, but dims [1,784] of float need 3136".
 * Valid until the next failing call in the same thread. */
const char *cnnrt_last_error(void);

/* Bytes per element of an ONNX data type, or 0 if the runtime lacks it. */
size_t cnnrt_elem_size(int elem_type);

/* Lower-case ONNX name of a data type ("float", "int64"), or "unknown". */
const char *cnnrt_elem_type_name(int elem_type);

/* A dense tensor in host byte order. data is owned by the tensor. */
typedef struct cnnrt_tensor {
  char name[256]; /* truncated if longer; "" if the file gives none */
  int elem_type;  /* ONNX TensorProto.DataType code */
  int rank;
  int64_t dims[CNNRT_MAX_RANK];
  size_t count; /* number of elements: the product of dims */
  size_t elem_size;
  void *data;
} cnnrt_tensor;

/* Reads an ONNX TensorProto file. Data may be in raw_data or in the typed
 * field for its type; external and segmented tensors are rejected. On
 * failure *out is left empty and needs no cnnrt_tensor_free. */
int cnnrt_tensor_read_pb(const char *path, cnnrt_tensor *out);

/* Decodes a TensorProto from memory; same rules as cnnrt_tensor_read_pb. */
int cnnrt_tensor_parse_pb(const void *buf, size_t size, cnnrt_tensor *out);

/* Reads a file of exactly count little-endian elements of elem_type. The
 * result has rank 1. */
int cnnrt_tensor_read_raw(const char *path, int elem_type, size_t count,
                          cnnrt_tensor *out);

/* Releases the data of a tensor filled by any reader; safe on an emptied one.
 */
void cnnrt_tensor_free(cnnrt_tensor *t);

/* Reads an IDX file (as used by MNIST), gzip-compressed or not. The tensor
 * takes its element type from the IDX type byte and its dims from the
 * header; name is the path. */
int cnnrt_idx_read(const char *path, cnnrt_tensor *out);

#define CNNRT_LAYOUT_NCHW 0
#define CNNRT_LAYOUT_NHWC 1

/* Largest width or height of an image, read or produced. */
#define CNNRT_MAX_IMAGE_SIDE 16384

/* How an image becomes model input: convert to channels, resize to
 * height x width, divide by 255 if scale, then (x - mean[c]) / std[c]. */
typedef struct cnnrt_image_opts {
  int channels; /* 1 (grey) or 3 (RGB) */
  int height;
  int width;
  int layout; /* CNNRT_LAYOUT_NCHW or CNNRT_LAYOUT_NHWC */
  int scale;
  float mean[3];
  float std[3];
} cnnrt_image_opts;

/* Fills opts with the given size, NCHW, scale on, mean 0 and std 1. */
void cnnrt_image_opts_init(cnnrt_image_opts *opts, int channels, int height,
                           int width);

/* Loads a PNG, JPEG, BMP or binary (P5/P6, 8- or 16-bit) PGM/PPM file into
 * out, which must hold channels * height * width floats. */
int cnnrt_image_load(const char *path, const cnnrt_image_opts *opts,
                     float *out);

/* Same as cnnrt_image_load, from 8-bit pixels in row-major, interleaved
 * order: 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) channels. Alpha
 * is ignored. */
int cnnrt_image_convert(const unsigned char *pixels, int width, int height,
                        int channels, const cnnrt_image_opts *opts, float *out);

/* Class names, one per line of a text file. */
typedef struct cnnrt_labels {
  size_t count;
  char **names;
  char *text; /* storage that names point into */
} cnnrt_labels;

/* Reads a labels file: one name per line, "\n" or "\r\n" endings, a final
 * newline optional. Empty lines are kept, as line numbers are class ids. */
int cnnrt_labels_read(const char *path, cnnrt_labels *out);
void cnnrt_labels_free(cnnrt_labels *labels);

/* Writes to idx the indices of the min(k, n) largest scores, best first.
 * Ties go to the lower index and NaN ranks below every number. Returns the
 * number of indices written. */
size_t cnnrt_topk(const float *scores, size_t n, size_t k, size_t *idx);

/* Replaces v by its softmax, computed stably. */
void cnnrt_softmax(float *v, size_t n);

/* Seconds from a monotonic clock, for timing intervals. */
double cnnrt_seconds(void);

#ifdef __cplusplus
}
#endif

#endif /* CNNRT_H */
