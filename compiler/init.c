/* Seeded parameter initialisation for the DSL's layers (he, xavier, uniform, constant, zeros, ...).
 *
 * The generator is counter-based: element i of a tensor is a hash of (key, i), where the key hashes the
 * model's seed with the tensor's name. So a tensor's contents depend on nothing but the seed, its name, its
 * size and its rule: adding a layer, reordering the file or masking some elements (LeNet-5's C3 table) leaves
 * every other value where it was, and the same seed gives the same weights on every run. */
#include "cnnc.h"

#include <math.h>

/* SplitMix64's finalizer: a bijection on 64-bit words whose outputs pass BigCrush for consecutive inputs. */
static uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t init_key(uint64_t seed, const char *tensor_name) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a of the name */
  for (const char *p = tensor_name; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return mix64(mix64(seed) ^ h);
}

/* A uniform double in [0, 1) from draw `n` of element `index` (53 random bits). */
static double uniform01(uint64_t key, int64_t index, int n) {
  uint64_t bits = mix64(key + 0x9e3779b97f4a7c15ull * (2 * (uint64_t)index + (uint64_t)n + 1));
  return (double)(bits >> 11) * 0x1.0p-53;
}

/* A standard normal by Box-Muller from the element's two draws; 1 - u keeps the logarithm finite. */
static double normal01(uint64_t key, int64_t index) {
  double u1 = 1.0 - uniform01(key, index, 0), u2 = uniform01(key, index, 1);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double init_sample(const InitRule *r, uint64_t key, int64_t index, int64_t fan_in, int64_t fan_out) {
  double fi = fan_in > 0 ? (double)fan_in : 1, fo = fan_out > 0 ? (double)fan_out : 1;
  switch (r->kind) {
  case INIT_ZEROS: return 0;
  case INIT_CONSTANT: return r->a;
  case INIT_UNIFORM: return r->a + (r->b - r->a) * uniform01(key, index, 0);
  case INIT_NORMAL: return r->a + r->b * normal01(key, index);
  case INIT_HE: return sqrt(2.0 / fi) * normal01(key, index);
  case INIT_HE_UNIFORM: return sqrt(6.0 / fi) * (2 * uniform01(key, index, 0) - 1);
  case INIT_XAVIER: return sqrt(6.0 / (fi + fo)) * (2 * uniform01(key, index, 0) - 1);
  case INIT_XAVIER_NORMAL: return sqrt(2.0 / (fi + fo)) * normal01(key, index);
  case INIT_LECUN_UNIFORM: return sqrt(1.0 / fi) * (2 * uniform01(key, index, 0) - 1);
  }
  cn_unreachable();
}

const char *init_name(InitKind kind) {
  switch (kind) {
  case INIT_ZEROS: return "zeros";
  case INIT_CONSTANT: return "constant";
  case INIT_UNIFORM: return "uniform";
  case INIT_NORMAL: return "normal";
  case INIT_HE: return "he";
  case INIT_HE_UNIFORM: return "he_uniform";
  case INIT_XAVIER: return "xavier";
  case INIT_XAVIER_NORMAL: return "xavier_normal";
  case INIT_LECUN_UNIFORM: return "lecun_uniform";
  }
  cn_unreachable();
}
