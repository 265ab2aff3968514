/* The piecewise activations of simd_math.h against the scalar formulas the generic target uses
 * (compiler/ops/unary.c, clip.c): ReLU, LeakyReLU and Clip exactly, NaN included; HardSigmoid and HardSwish,
 * which the vector code computes with one FMA, within one rounding of alpha * x + beta (and NaN for NaN, where
 * the scalar fmin makes HardSigmoid 1). */
#include <float.h>

static float scalar_relu(float x) { return x > 0 ? x : 0; }
static float scalar_leaky_relu(float x) { return x < 0 ? 0.1f * x : x; }
static float scalar_clip(float x) {
  float y = x < -1.0f ? -1.0f : x;
  return y > 2.0f ? 2.0f : y;
}
static float scalar_hard_sigmoid(float x) { return fmaxf(0, fminf(1, 0.2f * x + 0.5f)); }
static float scalar_hard_swish(float x) { return x * fmaxf(0, fminf(1, x / 6 + 0.5f)); }

static vfloat vector_relu(vfloat x) { return vrelu(x); }
static vfloat vector_leaky_relu(vfloat x) { return vleaky_relu(x, 0.1f); }
static vfloat vector_clip(vfloat x) { return vclip(x, -1.0f, 2.0f); }
static vfloat vector_hard_sigmoid(vfloat x) { return vhard_sigmoid(x, 0.2f, 0.5f); }
static vfloat vector_hard_swish(vfloat x) { return vhard_swish(x); }

typedef struct Activation {
  const char *name;
  float (*scalar)(float);
  vfloat (*vector)(vfloat);
  double tol; /* absolute, times max(1, |x|); 0: bit-exact, NaN included */
} Activation;

static const Activation activations[] = {
    {"relu", scalar_relu, vector_relu, 0},
    {"leaky_relu", scalar_leaky_relu, vector_leaky_relu, 0},
    {"clip", scalar_clip, vector_clip, 0},
    {"hard_sigmoid", scalar_hard_sigmoid, vector_hard_sigmoid, 1.2e-7},
    {"hard_swish", scalar_hard_swish, vector_hard_swish, 1.2e-7},
};

int main(void) {
  enum { N = 4096 };
  static float x[N];
  static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -1.0f, 2.0f, -3.0f, 3.0f, -2.5f, 2.5f,
                                   FLT_MIN, -FLT_MIN, 1e-45f, FLT_MAX, -FLT_MAX};
  int n_specials = (int)(sizeof specials / sizeof specials[0]);
  for (int i = 0; i < N; i++)
    x[i] = i < n_specials ? specials[i] : 5 * rnd();
  int bad = 0;
  for (size_t k = 0; k < sizeof activations / sizeof activations[0]; k++) {
    const Activation *a = &activations[k];
    for (int i = 0; i < N; i += VLEN) {
      float out[VLEN];
      vstore(out, a->vector(vload(x + i)));
      for (int l = 0; l < VLEN; l++) {
        float want = a->scalar(x[i + l]), got = out[l];
        bool same = a->tol == 0 ? memcmp(&want, &got, sizeof got) == 0 || (isnan(want) && isnan(got))
                                : isnan(x[i + l]) || got == want || (isnan(want) && isnan(got)) ||
                                      fabs((double)got - want) <= a->tol * fmax(1, fabs(x[i + l]));
        if (!same && bad++ < 10)
          printf("%s(%a) = %a, the scalar formula gives %a\n", a->name, (double)x[i + l], (double)got, (double)want);
      }
    }
  }
  return bad != 0;
}
