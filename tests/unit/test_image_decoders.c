/* The runtime's image decoders on files written here: JPEGs encoded with libjpeg (baseline, progressive, grey
 * and colour, truncated), the hostile JPEG that made stb 2.27 overflow signed integers, and PNGs with empty
 * IDAT chunks, which made it add an offset to a null pointer. The sanitizer build (tests/run.sh --sanitize)
 * turns any undefined behaviour here into a failure. */
#include "cnnrt.h"

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jpeglib.h> /* after stdio.h */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char *temp_file(void) {
  static char path[64];
  strcpy(path, "/tmp/cnnc-image-XXXXXX");
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  close(fd);
  return path;
}

static void write_bytes(const char *path, const unsigned char *data, size_t size) {
  FILE *f = fopen(path, "wb");
  CU_ASSERT_FATAL(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
}

/* Encodes width x height pixels of `channels` (1 or 3) with libjpeg at quality 100. */
static unsigned char *encode_jpeg(const unsigned char *pixels, int width, int height, int channels, bool progressive,
                                  unsigned long *size) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  unsigned char *out = NULL;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &out, size);
  c.image_width = (JDIMENSION)width;
  c.image_height = (JDIMENSION)height;
  c.input_components = channels;
  c.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 100, TRUE);
  if (progressive)
    jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)pixels + (size_t)c.next_scanline * (size_t)width * (size_t)channels;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return out;
}

/* Smooth 16x8 images (grey, and RGB with a different ramp per channel) survive quality-100 JPEG within a few
 * levels, baseline and progressive; truncated files are errors. */
static void test_jpeg_round_trip(void) {
  enum { W = 16, H = 8 };
  unsigned char grey[W * H], rgb[W * H * 3];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      grey[y * W + x] = (unsigned char)(x * 12 + y * 4);
      for (int ch = 0; ch < 3; ch++)
        rgb[(y * W + x) * 3 + ch] = (unsigned char)(40 + ch * 60 + x * 4 + y * (ch + 1));
    }
  char *path = temp_file();
  for (int progressive = 0; progressive < 2; progressive++)
    for (int channels = 1; channels <= 3; channels += 2) {
      unsigned long size;
      unsigned char *file = encode_jpeg(channels == 1 ? grey : rgb, W, H, channels, progressive, &size);
      write_bytes(path, file, size);
      cnnrt_image_opts o;
      cnnrt_image_opts_init(&o, channels, H, W);
      o.scale = 0;
      float out[W * H * 3];
      CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
      double worst = 0;
      for (int ch = 0; ch < channels; ch++)
        for (int i = 0; i < W * H; i++) {
          double want = channels == 1 ? grey[i] : rgb[i * 3 + ch];
          double err = out[ch * W * H + i] - want;
          worst = err > worst ? err : -err > worst ? -err : worst;
        }
      CU_ASSERT(worst <= 4);
      /* cut at 2/3: the entropy-coded data ends early */
      write_bytes(path, file, size * 2 / 3);
      CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
      CU_ASSERT_PTR_NOT_NULL(strstr(cnnrt_last_error(), "cannot decode JPEG"));
      free(file);
    }
  remove(path);
}

static size_t put_segment(unsigned char *p, unsigned marker, const unsigned char *payload, size_t len) {
  p[0] = 0xFF;
  p[1] = (unsigned char)marker;
  p[2] = (unsigned char)((len + 2) >> 8);
  p[3] = (unsigned char)(len + 2);
  memcpy(p + 4, payload, len);
  return len + 4;
}

/* A grey baseline JPEG of `blocks` 8x8 blocks in a row whose every block has the largest DC difference (category
 * 15, +32767) and no AC coefficient, under a quantizer of 65535 (16-bit table): the DC value summed over two
 * blocks times the quantizer overflowed stb 2.27's int. */
static size_t hostile_jpeg(unsigned char *out, int blocks) {
  size_t n = 0;
  out[n++] = 0xFF, out[n++] = 0xD8;
  unsigned char dqt[1 + 128];
  dqt[0] = 0x10;
  memset(dqt + 1, 0xFF, 128);
  n += put_segment(out + n, 0xDB, dqt, sizeof dqt);
  unsigned char sof[] = {8, 0, 8, (unsigned char)(8 * blocks >> 8), (unsigned char)(8 * blocks), 1, 1, 0x11, 0};
  n += put_segment(out + n, 0xC0, sof, sizeof sof);
  unsigned char dht[18] = {0x00, 1};
  dht[17] = 15; /* DC: one 1-bit code, category 15 */
  n += put_segment(out + n, 0xC4, dht, sizeof dht);
  dht[0] = 0x10;
  dht[17] = 0x00; /* AC: one 1-bit code, end of block */
  n += put_segment(out + n, 0xC4, dht, sizeof dht);
  unsigned char sos[] = {1, 1, 0x00, 0, 63, 0};
  n += put_segment(out + n, 0xDA, sos, sizeof sos);
  /* per block: DC code 0, fifteen 1 bits (+32767), AC code 0 */
  uint32_t bits = 0;
  int count = 0;
  for (int b = 0; b < blocks; b++)
    for (int i = 0; i < 17; i++) {
      bits = bits << 1 | (i > 0 && i < 16);
      if (++count == 8) {
        out[n++] = (unsigned char)bits;
        if ((bits & 0xFF) == 0xFF)
          out[n++] = 0;
        bits = 0;
        count = 0;
      }
    }
  if (count) {
    out[n++] = (unsigned char)(bits << (8 - count) | ((1u << (8 - count)) - 1));
    if (out[n - 1] == 0xFF)
      out[n++] = 0;
  }
  out[n++] = 0xFF, out[n++] = 0xD9;
  return n;
}

static void test_jpeg_hostile_dc(void) {
  unsigned char file[512];
  size_t size = hostile_jpeg(file, 4);
  char *path = temp_file();
  write_bytes(path, file, size);
  cnnrt_image_opts o;
  cnnrt_image_opts_init(&o, 1, 8, 32);
  float out[8 * 32];
  /* decoded (libjpeg clamps), without undefined behaviour */
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  for (int i = 0; i < 8 * 32; i++)
    CU_ASSERT(out[i] >= 0 && out[i] <= 1);
  remove(path);
}

static uint32_t crc_of(const char *type, const unsigned char *data, size_t len) {
  uLong crc = crc32(0, (const Bytef *)type, 4);
  return (uint32_t)crc32(crc, data, (uInt)len);
}

static size_t put_chunk(unsigned char *p, const char *type, const unsigned char *data, size_t len) {
  unsigned char head[8] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                           (unsigned char)len};
  memcpy(head + 4, type, 4);
  memcpy(p, head, 8);
  if (len)
    memcpy(p + 8, data, len);
  uint32_t crc = crc_of(type, data, len);
  unsigned char tail[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16), (unsigned char)(crc >> 8),
                           (unsigned char)crc};
  memcpy(p + 8 + len, tail, 4);
  return 12 + len;
}

/* The signature and IHDR of a 2x2 grey PNG into png; its pixels [1 2; 3 4] zlib-compressed into zipped (of
 * *zipped_len bytes on entry, the compressed length on return). Returns the bytes written to png. */
static size_t start_png_2x2(unsigned char *png, unsigned char *zipped, uLongf *zipped_len) {
  const unsigned char raw[] = {0, 1, 2, 0, 3, 4};
  CU_ASSERT_FATAL(compress(zipped, zipped_len, raw, sizeof raw) == Z_OK);
  memcpy(png, "\x89PNG\r\n\x1a\n", 8);
  const unsigned char ihdr[13] = {0, 0, 0, 2, 0, 0, 0, 2, 8, 0, 0, 0, 0};
  return 8 + put_chunk(png + 8, "IHDR", ihdr, sizeof ihdr);
}

/* A 2x2 grey PNG [1 2; 3 4] whose IDAT chunks are: empty, the data, empty. */
static void test_png_empty_idat(void) {
  unsigned char png[256], zipped[64];
  uLongf zipped_len = sizeof zipped;
  size_t n = start_png_2x2(png, zipped, &zipped_len);
  n += put_chunk(png + n, "IDAT", NULL, 0);
  n += put_chunk(png + n, "IDAT", zipped, zipped_len);
  n += put_chunk(png + n, "IDAT", NULL, 0);
  n += put_chunk(png + n, "IEND", NULL, 0);
  char *path = temp_file();
  write_bytes(path, png, n);
  cnnrt_image_opts o;
  cnnrt_image_opts_init(&o, 1, 2, 2);
  o.scale = 0;
  float out[4];
  CU_ASSERT_EQUAL_FATAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  CU_ASSERT(out[0] == 1 && out[1] == 2 && out[2] == 3 && out[3] == 4);
  /* with no data at all it is an error, as before */
  n = 8 + 25;
  n += put_chunk(png + n, "IDAT", NULL, 0);
  n += put_chunk(png + n, "IEND", NULL, 0);
  write_bytes(path, png, n);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
  remove(path);
}

/* An IDAT chunk declaring 1.5 GB in a small file (stb would reserve 2 GiB for it before reading) is refused, as
 * is one whose CRC is cut off; the same file with the true length decodes. */
static void test_png_chunk_past_end(void) {
  unsigned char png[256], zipped[64];
  uLongf zipped_len = sizeof zipped;
  size_t n = start_png_2x2(png, zipped, &zipped_len);
  size_t idat = n;
  n += put_chunk(png + n, "IDAT", zipped, zipped_len);
  n += put_chunk(png + n, "IEND", NULL, 0);
  char *path = temp_file();
  cnnrt_image_opts o;
  cnnrt_image_opts_init(&o, 1, 2, 2);
  float out[4];
  write_bytes(path, png, n);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_OK);
  png[idat] = 0x60; /* length 0x60000000 + zipped_len */
  write_bytes(path, png, n);
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(cnnrt_last_error(), "chunk is longer than the rest of the file"));
  png[idat] = 0;
  write_bytes(path, png, n - 12 - 2); /* IEND gone, and half of IDAT's CRC */
  CU_ASSERT_EQUAL(cnnrt_image_load(path, &o, out), CNNRT_ERR_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(cnnrt_last_error(), "chunk is longer than the rest of the file"));
  remove(path);
}

CU_TestInfo image_decoder_tests[] = {
    {"jpeg_round_trip", test_jpeg_round_trip},
    {"jpeg_hostile_dc", test_jpeg_hostile_dc},
    {"png_empty_idat", test_png_empty_idat},
    {"png_chunk_past_end", test_png_chunk_past_end},
    CU_TEST_INFO_NULL,
};
