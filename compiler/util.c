/* Allocation, strings and hashing for the compiler. */
#include "cnnc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Every block starts with a header linking it into one list, so a program running the compiler many times in
 * one process (the fuzz targets) can release all of it with cn_free_all; cnnc itself never does. Passing a
 * block to free() instead of cn_free fails loudly (an invalid pointer). */
typedef union BlockHeader {
  struct {
    union BlockHeader *prev, *next;
    size_t mapped; /* the bytes of a block mapped on its own (see HUGE_BLOCK), else 0 */
  } link;
  max_align_t align;
} BlockHeader;

static BlockHeader blocks = {.link = {&blocks, &blocks, 0}};

/* Blocks this large (weights copied or packed: 80 MB for ResNet-18) are mapped on their own, with transparent
 * huge pages where the kernel offers them (madvise mode, as on Debian): touching them then takes one page fault
 * per 2 MB instead of one per 4 KB, which was 15% of cnnc's time on ResNet-18. */
#define HUGE_BLOCK ((size_t)1 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

/* AddressSanitizer checks only what malloc gives, so its builds (GCC's macro, clang's feature) keep every block
 * there. */
#if defined(__SANITIZE_ADDRESS__)
#define CN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CN_ASAN 1
#endif
#endif

static BlockHeader *map_block(size_t bytes) {
#if defined(MADV_HUGEPAGE) && !defined(CN_ASAN)
  if (bytes > SIZE_MAX - HUGE_PAGE)
    return NULL;
  bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE; /* whole huge pages, which Linux then aligns */
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  madvise(p, bytes, MADV_HUGEPAGE);
  BlockHeader *h = p;
  h->link.mapped = bytes;
  return h;
#else
  return calloc(1, bytes);
#endif
}

void *cn_alloc(size_t size) {
  if (size > SIZE_MAX - sizeof(BlockHeader))
    cn_error("out of memory (%zu bytes)", size);
  BlockHeader *h = size >= HUGE_BLOCK ? map_block(sizeof *h + size) : calloc(1, sizeof *h + size);
  if (!h)
    cn_error("out of memory (%zu bytes)", size);
  h->link.prev = &blocks;
  h->link.next = blocks.link.next;
  blocks.link.next->link.prev = h;
  blocks.link.next = h;
  return h + 1;
}

void cn_free(void *p) {
  if (!p)
    return;
  BlockHeader *h = (BlockHeader *)p - 1;
  h->link.prev->link.next = h->link.next;
  h->link.next->link.prev = h->link.prev;
  if (h->link.mapped)
    munmap(h, h->link.mapped);
  else
    free(h);
}

void cn_free_all(void) {
  while (blocks.link.next != &blocks)
    cn_free(blocks.link.next + 1);
}

void *cn_alloc_array(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size)
    cn_error("out of memory (%zu x %zu bytes)", count, size);
  return cn_alloc(count * size);
}

char *cn_strndup(const char *s, size_t n) {
  char *p = cn_alloc(n + 1);
  if (n) /* protobuf-c gives empty bytes fields a NULL pointer */
    memcpy(p, s, n);
  return p;
}

char *cn_strdup(const char *s) { return cn_strndup(s, strlen(s)); }

char *cn_format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *buf = cn_alloc((size_t)len + 1);
  va_start(ap, fmt);
  vsnprintf(buf, (size_t)len + 1, fmt, ap);
  va_end(ap);
  return buf;
}

static bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char *cn_sanitize_ident(const char *s, size_t max_len) {
  size_t len = strlen(s);
  if (len > max_len)
    len = max_len;
  char *out = cn_alloc(len + 2);
  size_t j = 0;
  if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
    out[j++] = '_';
  for (size_t i = 0; i < len; i++)
    out[j++] = is_ident_char(s[i]) ? s[i] : '_';
  return out;
}

char *cn_escape_c_string(const char *s, size_t max_len) {
  size_t len = strlen(s);
  bool cut = len > max_len;
  if (cut)
    len = max_len;
  char *out = cn_alloc(len * 4 + 4);
  char *p = out;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      *p++ = '\\', *p++ = (char)c;
    else if (c == '?') /* a "??x" trigraph would be replaced in some compiler modes */
      p += sprintf(p, "\\?");
    else if (c < 0x20 || c >= 0x7f)
      p += sprintf(p, "\\%03o", c);
    else
      *p++ = (char)c;
  }
  if (cut)
    p += sprintf(p, "...");
  *p = 0;
  return out;
}

char *cn_escape_comment(const char *s, size_t max_len) {
  size_t len = strlen(s);
  bool cut = len > max_len;
  if (cut)
    len = max_len;
  char *out = cn_alloc(len + 4);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    unsigned char next = i + 1 < len ? (unsigned char)s[i + 1] : 0;
    /* "*" + "/" would close the comment, "/" + "*" draws -Wcomment, "\" (or a trigraph for it) could
     * splice the next line in */
    bool breaks_comment =
        (c == '*' && next == '/') || (c == '/' && next == '*') || c == '\\' || (c == '?' && next == '?');
    out[i] = (c < 0x20 || c >= 0x7f || breaks_comment) ? '_' : (char)c;
  }
  if (cut)
    strcpy(out + len, "...");
  return out;
}

char *cn_make_temp_dir(const char *purpose) {
  const char *base = getenv("TMPDIR");
  char *dir = cn_format("%s/cnnc-%s-XXXXXX", base && base[0] ? base : "/tmp", purpose);
  if (!mkdtemp(dir))
    cn_error("cannot create a temporary directory like '%s'", dir);
  return dir;
}

int64_t cn_mul_size(int64_t a, int64_t b) {
  if (a < 0 || b < 0)
    return -1;
  if (a != 0 && b > INT64_MAX / a)
    return -1;
  return a * b;
}

/* SHA-256 (FIPS 180-4), for the model hash in the generated header. */
static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
    uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define SHA_EXTENSIONS 1

/* The same with the SHA extensions (Intel since Ice Lake and Goldmont, AMD since Zen): 4 rounds per step, the
 * state kept as (A, B, E, F) and (C, D, G, H) as sha256rnds2 wants it. Some 7x faster: ResNet-18's 47 MB took
 * 0.2 s before. */
__attribute__((target("sha,sse4.1"))) static void sha256_blocks_ni(uint32_t h[8], const unsigned char *p,
                                                                      size_t blocks) {
  const __m128i big_endian = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  __m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]), hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
  __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1), efgh = _mm_shuffle_epi32(hgfe, 0x1b);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8), cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
  for (; blocks > 0; blocks--, p += 64) {
    __m128i abef_in = abef, cdgh_in = cdgh, w[4];
    for (int i = 0; i < 16; i++) { /* w[i % 4]: message words 4i..4i+3 */
      if (i < 4)
        w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), big_endian);
      else
        w[i % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w[i % 4], w[(i + 1) % 4]),
                                                      _mm_alignr_epi8(w[(i + 3) % 4], w[(i + 2) % 4], 4)),
                                        w[(i + 3) % 4]);
      __m128i wk = _mm_add_epi32(w[i % 4], _mm_loadu_si128((const __m128i *)&sha_k[4 * i]));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk); /* two rounds: now (A, B, E, F) */
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1b), dchg = _mm_shuffle_epi32(cdgh, 0xb1);
  _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xf0));
  _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

static bool cpu_has_sha(void) {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_SSSE3) &&
         __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

bool cn_sha256_portable;

static void sha256_blocks(uint32_t h[8], const unsigned char *p, size_t blocks) {
#ifdef SHA_EXTENSIONS
  static int has_sha = -1;
  if (has_sha < 0)
    has_sha = cpu_has_sha();
  if (has_sha && !cn_sha256_portable) {
    sha256_blocks_ni(h, p, blocks);
    return;
  }
#endif
  for (size_t i = 0; i < blocks; i++)
    sha256_block(h, p + 64 * i);
}

void cn_sha256_file(const char *path, char hex[65]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  FILE *f = fopen(path, "rb");
  if (!f)
    cn_error("cannot read '%s'", path);
  enum { CHUNK = 256 * 1024 };
  unsigned char *buf = cn_alloc(CHUNK + 128);
  uint64_t total = 0;
  size_t got;
  for (;;) {
    got = fread(buf, 1, CHUNK, f);
    total += got;
    size_t whole = got / 64 * 64;
    sha256_blocks(h, buf, whole / 64);
    if (got < CHUNK) {
      size_t rest = got - whole;
      memmove(buf, buf + whole, rest);
      buf[rest++] = 0x80;
      while (rest % 64 != 56)
        buf[rest++] = 0;
      for (int i = 7; i >= 0; i--)
        buf[rest++] = (unsigned char)((total * 8) >> (8 * i));
      sha256_blocks(h, buf, rest / 64);
      break;
    }
  }
  fclose(f);
  cn_free(buf);
  for (int i = 0; i < 8; i++)
    sprintf(hex + 8 * i, "%08x", h[i]);
}
