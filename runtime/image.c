/* image.c: images to normalized float tensors.
 *
 * JPEG decoding comes from libjpeg-turbo (-ljpeg). PNG and BMP decoding and
 * all resizing come from stb (Debian's libstb-dev), compiled into this file
 * with static linkage, so nothing links against a stb library and a program
 * linking its own copy of stb cannot clash with it. PGM/PPM are decoded here.
 *
 * Every file is untrusted. stb 2.27's JPEG decoder overflows signed integers
 * on hostile entropy-coded data (a DC coefficient summed over many blocks
 * times a 16-bit quantizer), which no check of the file before decoding can
 * rule out, so JPEG goes to libjpeg-turbo instead. Its PNG decoder adds an
 * offset to a null pointer when the first IDAT chunk is empty; such chunks
 * hold nothing, so they are removed before stb sees the file. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h> /* after jpeglib.h */

#include "cnnrt_internal.h"

/* The formats the classifier documents, less JPEG and PGM/PPM, decoded
 * below; the other decoders would only add code that parses untrusted
 * input. */
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS CNNRT_MAX_IMAGE_SIDE
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION

/* Under STB_IMAGE_STATIC stb declares two functions it never defines. gcc
 * reports that at the end of the file, so the warning stays off to there. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

/* Bounds decoded images to 64 Mpixel (192 MiB as RGB) whatever their
 * side lengths, and image files to what stb's int lengths can address. */
#define MAX_PIXELS ((size_t)1 << 26)
#define MAX_FILE_BYTES ((size_t)1 << 28)

void cnnrt_image_opts_init(cnnrt_image_opts *opts, int channels, int height,
                           int width) {
  memset(opts, 0, sizeof *opts);
  opts->channels = channels;
  opts->height = height;
  opts->width = width;
  opts->layout = CNNRT_LAYOUT_NCHW;
  opts->scale = 1;
  for (int c = 0; c < 3; c++)
    opts->std[c] = 1.0f;
}

static int check_opts(const cnnrt_image_opts *o) {
  if (o->channels != 1 && o->channels != 3)
    return cnnrt_fail(CNNRT_ERR_ARG, "image channels must be 1 or 3, not %d",
                      o->channels);
  if (o->height < 1 || o->width < 1 || o->height > CNNRT_MAX_IMAGE_SIDE ||
      o->width > CNNRT_MAX_IMAGE_SIDE)
    return cnnrt_fail(CNNRT_ERR_ARG, "image size %dx%d is out of range",
                      o->width, o->height);
  if (o->layout != CNNRT_LAYOUT_NCHW && o->layout != CNNRT_LAYOUT_NHWC)
    return cnnrt_fail(CNNRT_ERR_ARG, "unknown layout %d", o->layout);
  for (int c = 0; c < o->channels; c++)
    if (!isfinite(o->mean[c]) || !isfinite(o->std[c]) || o->std[c] == 0.0f)
      return cnnrt_fail(CNNRT_ERR_ARG,
                        "channel %d needs a finite mean and a finite, nonzero "
                        "std",
                        c);
  return CNNRT_OK;
}

/* Converts interleaved 8-bit pixels to out_c (1 or 3) channels, dropping
 * alpha. Grey uses the same integer luma weights as stb_image. */
static void convert_channels(const unsigned char *in, int in_c,
                             unsigned char *out, int out_c, size_t pixels) {
  for (size_t i = 0; i < pixels; i++) {
    const unsigned char *p = in + i * (size_t)in_c;
    if (out_c == 1)
      out[i] = in_c < 3
                   ? p[0]
                   : (unsigned char)((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
    else if (in_c < 3)
      memset(out + i * 3, p[0], 3);
    else
      memcpy(out + i * 3, p, 3);
  }
}

/* Resizes, scales, normalizes and lays out pixels that already have
 * opts->channels channels. */
static int to_floats(const unsigned char *pixels, int width, int height,
                     const cnnrt_image_opts *o, float *out) {
  const int c_n = o->channels;
  const size_t plane = (size_t)o->height * (size_t)o->width;
  unsigned char *sized = NULL;
  if (width != o->width || height != o->height) {
    sized = malloc(plane * (size_t)c_n);
    if (!sized)
      return cnnrt_fail(CNNRT_ERR_NOMEM, "out of memory resizing an image");
    if (!stbir_resize_uint8(pixels, width, height, 0, sized, o->width,
                            o->height, 0, c_n)) {
      free(sized);
      return cnnrt_fail(CNNRT_ERR_NOMEM, "out of memory resizing an image");
    }
    pixels = sized;
  }
  const float unit = o->scale ? 1.0f / 255.0f : 1.0f;
  for (size_t i = 0; i < plane; i++)
    for (int c = 0; c < c_n; c++) {
      float v =
          (pixels[i * (size_t)c_n + (size_t)c] * unit - o->mean[c]) / o->std[c];
      if (o->layout == CNNRT_LAYOUT_NCHW)
        out[(size_t)c * plane + i] = v;
      else
        out[i * (size_t)c_n + (size_t)c] = v;
    }
  free(sized);
  return CNNRT_OK;
}

int cnnrt_image_convert(const unsigned char *pixels, int width, int height,
                        int channels, const cnnrt_image_opts *opts,
                        float *out) {
  int st = check_opts(opts);
  if (st)
    return st;
  if (channels < 1 || channels > 4)
    return cnnrt_fail(CNNRT_ERR_ARG, "pixels must have 1 to 4 channels, not %d",
                      channels);
  if (width < 1 || height < 1 || (size_t)width * (size_t)height > MAX_PIXELS)
    return cnnrt_fail(CNNRT_ERR_ARG, "image size %dx%d is out of range", width,
                      height);
  if (channels == opts->channels)
    return to_floats(pixels, width, height, opts, out);
  size_t n = (size_t)width * (size_t)height;
  unsigned char *conv = malloc(n * (size_t)opts->channels);
  if (!conv)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "out of memory converting an image");
  convert_channels(pixels, channels, conv, opts->channels, n);
  st = to_floats(conv, width, height, opts, out);
  free(conv);
  return st;
}

/* Decodes binary PGM (P5) and PPM (P6) here rather than in stb 2.27, which
 * overflows on long header numbers, returns uninitialized pixels for a
 * truncated file, reads 16-bit samples in the wrong byte order and ignores
 * maxval. Leaves *pixels NULL if buf is not P5/P6. */
static int decode_pnm(const unsigned char *buf, size_t size,
                      unsigned char **pixels, int *w, int *h, int *c) {
  *pixels = NULL;
  if (size < 2 || buf[0] != 'P' || (buf[1] != '5' && buf[1] != '6'))
    return CNNRT_OK;
  size_t i = 2;
  unsigned long v[3]; /* width, height, maxval */
  for (int field = 0; field < 3; field++) {
    for (;;) {
      while (i < size && isspace(buf[i]))
        i++;
      if (i == size || buf[i] != '#')
        break;
      while (i < size && buf[i] != '\n' && buf[i] != '\r')
        i++;
    }
    size_t first = i;
    for (v[field] = 0; i < size && isdigit(buf[i]) && i - first < 6; i++)
      v[field] = v[field] * 10 + (unsigned long)(buf[i] - '0');
    if (i == first || (i < size && isdigit(buf[i])) || v[field] == 0 ||
        v[field] > (field < 2 ? CNNRT_MAX_IMAGE_SIDE : 65535))
      return cnnrt_fail(CNNRT_ERR_FORMAT,
                        "bad PGM/PPM header: %s missing or out of range",
                        field == 0   ? "width"
                        : field == 1 ? "height"
                                     : "maxval");
  }
  i++; /* the one whitespace byte that ends the header */
  size_t n = (size_t)v[0] * v[1] * (buf[1] == '6' ? 3 : 1);
  size_t width = v[2] > 255 ? 2 : 1;
  if ((size_t)v[0] * v[1] > MAX_PIXELS)
    return cnnrt_fail(CNNRT_ERR_LIMIT, "%lux%lu image has more than %zu pixels",
                      v[0], v[1], MAX_PIXELS);
  if (i > size || size - i < n * width)
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "truncated: the header promises %lux%lu pixels", v[0],
                      v[1]);
  unsigned char *out = malloc(n);
  if (!out)
    return cnnrt_fail(CNNRT_ERR_NOMEM, "out of memory for %zu pixels", n);
  for (size_t k = 0; k < n; k++) {
    const unsigned char *p = buf + i + k * width;
    unsigned long sample = width == 2 ? (unsigned long)p[0] << 8 | p[1] : p[0];
    if (sample > v[2])
      sample = v[2];
    out[k] = (unsigned char)((sample * 255 + v[2] / 2) / v[2]);
  }
  *pixels = out;
  *w = (int)v[0];
  *h = (int)v[1];
  *c = buf[1] == '6' ? 3 : 1;
  return CNNRT_OK;
}

/* libjpeg reports errors through error_exit, which must not return: it
 * jumps back to decode_jpeg with the message. A warning that the data ended
 * early is an error too (libjpeg would pad the image with grey). */
typedef struct jpeg_errors {
  struct jpeg_error_mgr mgr;
  jmp_buf escape;
  char message[JMSG_LENGTH_MAX];
} jpeg_errors;

static void jpeg_error_exit(j_common_ptr d) {
  jpeg_errors *e = (jpeg_errors *)d->err;
  e->mgr.format_message(d, e->message);
  longjmp(e->escape, 1);
}

static void jpeg_emit_message(j_common_ptr d, int level) {
  if (level < 0 && d->err->msg_code == JWRN_JPEG_EOF)
    jpeg_error_exit(d);
}

/* Decodes a JPEG (a file starting with SOI) with libjpeg-turbo into grey or
 * RGB pixels. Leaves *pixels NULL if buf is not a JPEG. */
static int decode_jpeg(const unsigned char *buf, size_t size,
                       unsigned char **pixels, int *w, int *h, int *c) {
  *pixels = NULL;
  if (size < 3 || buf[0] != 0xFF || buf[1] != 0xD8 || buf[2] != 0xFF)
    return CNNRT_OK;
  struct jpeg_decompress_struct d;
  jpeg_errors err;
  unsigned char *volatile out = NULL;
  d.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.emit_message = jpeg_emit_message;
  if (setjmp(err.escape)) {
    jpeg_destroy_decompress(&d);
    free(out);
    return cnnrt_fail(CNNRT_ERR_FORMAT, "cannot decode JPEG: %s",
                      err.message);
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, buf, (unsigned long)size);
  jpeg_read_header(&d, TRUE);
  /* checked before anything is decoded */
  size_t pixel_count = (size_t)d.image_width * d.image_height;
  if (d.image_width > CNNRT_MAX_IMAGE_SIDE ||
      d.image_height > CNNRT_MAX_IMAGE_SIDE || pixel_count > MAX_PIXELS) {
    jpeg_destroy_decompress(&d);
    return cnnrt_fail(CNNRT_ERR_LIMIT,
                      "%ux%u JPEG is larger than %d pixels a side or %zu "
                      "pixels",
                      d.image_width, d.image_height, CNNRT_MAX_IMAGE_SIDE,
                      MAX_PIXELS);
  }
  if (d.num_components != 1 && d.num_components != 3) {
    jpeg_destroy_decompress(&d);
    return cnnrt_fail(CNNRT_ERR_UNSUPPORTED,
                      "JPEG with %d color components (CMYK?); grey and "
                      "RGB JPEGs are supported",
                      d.num_components);
  }
  d.out_color_space = d.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&d);
  size_t row = (size_t)d.output_width * (size_t)d.output_components;
  out = malloc(row * d.output_height);
  if (!out) {
    jpeg_destroy_decompress(&d);
    return cnnrt_fail(CNNRT_ERR_NOMEM, "out of memory for a %ux%u JPEG",
                      d.output_width, d.output_height);
  }
  while (d.output_scanline < d.output_height) {
    JSAMPROW line = out + row * d.output_scanline;
    jpeg_read_scanlines(&d, &line, 1);
  }
  jpeg_finish_decompress(&d);
  *w = (int)d.output_width;
  *h = (int)d.output_height;
  *c = d.output_components;
  jpeg_destroy_decompress(&d);
  *pixels = out;
  return CNNRT_OK;
}

static uint32_t get32be(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static const unsigned char png_signature[8] = {0x89, 'P',  'N',  'G',
                                               '\r', '\n', 0x1a, '\n'};

/* stb reserves room for a PNG's IDAT data from the length a chunk declares,
 * before reading it: a chunk claiming more bytes than the file holds would
 * cost up to 2 GiB. Whether every chunk (length, type, data, CRC) fits in
 * buf; true for anything that is not a PNG. */
static bool png_chunks_fit(const unsigned char *buf, size_t size) {
  if (size < 8 || memcmp(buf, png_signature, 8) != 0)
    return true;
  size_t at = 8;
  while (size - at >= 8) {
    uint32_t len = get32be(buf + at);
    if (len > size - at - 8 || size - at - 8 - len < 4)
      return false;
    at += 12 + (size_t)len;
  }
  return true;
}

/* stb 2.27 adds the offset 0 to a null pointer when a PNG's first IDAT
 * chunk is empty. An empty IDAT adds no data, so a copy of the file without
 * the empty ones decodes to the same image; returns that copy, or NULL
 * when buf needs none (not a PNG, or no empty IDAT). A malformed chunk
 * list is left for stb to reject. */
static unsigned char *without_empty_idat(const unsigned char *buf,
                                         size_t size, size_t *new_size) {
  if (size < 8 || memcmp(buf, png_signature, 8) != 0)
    return NULL;
  unsigned char *copy = NULL;
  size_t at = 8, kept = 8;
  while (size - at >= 12) {
    uint32_t len = get32be(buf + at);
    if (len > size - at - 12)
      break;
    size_t chunk = 12 + (size_t)len;
    bool empty_idat = len == 0 && memcmp(buf + at + 4, "IDAT", 4) == 0;
    if (empty_idat && !copy) {
      if (!(copy = malloc(size)))
        return NULL;
      memcpy(copy, buf, at);
    }
    if (copy && !empty_idat) {
      memcpy(copy + kept, buf + at, chunk);
    }
    if (!empty_idat)
      kept += chunk;
    at += chunk;
  }
  if (copy) {
    memcpy(copy + kept, buf + at, size - at);
    *new_size = kept + size - at;
  }
  return copy;
}

/* Decodes PNG and BMP with stb. Channels are left as in the file:
 * cnnrt_image_convert does that conversion for every format alike. */
static int decode_stb(const unsigned char *buf, size_t size,
                      unsigned char **pixels, int *w, int *h, int *c) {
  *pixels = NULL;
  if (!png_chunks_fit(buf, size))
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "a PNG chunk is longer than the rest of the file; the "
                      "file is corrupt or truncated");
  /* Reading the header first keeps a huge image from being decoded. */
  if (!stbi_info_from_memory(buf, (int)size, w, h, c))
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "cannot read as an image (%s); expected PNG, JPEG, "
                      "PGM/PPM or BMP",
                      stbi_failure_reason());
  if ((size_t)*w * (size_t)*h > MAX_PIXELS)
    return cnnrt_fail(CNNRT_ERR_LIMIT, "%dx%d image has more than %zu pixels",
                      *w, *h, MAX_PIXELS);
  if (!(*pixels = stbi_load_from_memory(buf, (int)size, w, h, c, 0)))
    return cnnrt_fail(CNNRT_ERR_FORMAT,
                      "cannot decode image (%s); the file may be corrupt or "
                      "truncated",
                      stbi_failure_reason());
  return CNNRT_OK;
}

int cnnrt_image_load(const char *path, const cnnrt_image_opts *opts,
                     float *out) {
  int st = check_opts(opts);
  if (st)
    return st;
  unsigned char *buf, *pixels;
  size_t size;
  if ((st = cnnrt_file_read(path, MAX_FILE_BYTES, &buf, &size)))
    return st;
  int w = 0, h = 0, c = 0;
  st = decode_pnm(buf, size, &pixels, &w, &h, &c);
  if (!st && !pixels)
    st = decode_jpeg(buf, size, &pixels, &w, &h, &c);
  if (!st && !pixels) {
    size_t png_size;
    unsigned char *png = without_empty_idat(buf, size, &png_size);
    if (png) {
      free(buf);
      buf = png;
      size = png_size;
    }
    st = decode_stb(buf, size, &pixels, &w, &h, &c);
  }
  free(buf);
  if (!st)
    st = cnnrt_image_convert(pixels, w, h, c, opts, out);
  /* stb allocates with plain malloc, so free() serves every decoder. */
  free(pixels);
  if (st)
    return cnnrt_fail_prefix(st, path);
  return CNNRT_OK;
}
