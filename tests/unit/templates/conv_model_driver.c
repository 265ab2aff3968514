/* Driver for the graph-level Conv tests (test_layout.c): runs the compiled model on a fixed input and compares
 * with a double-precision reference. The test defines the shape (BATCH, G, C, M per group, IH, IW, KH, KW, SH,
 * SW, PAD_T, PAD_L, OH, OW), HAS_BIAS, HAS_RESIDUAL, ACT(x) and POST_ACT(x) before including this file; the
 * weights and bias come from the same generator, seeds 7 and 8, as the test's constants. */
static float random_value(unsigned *seed) {
  *seed = *seed * 1664525u + 1013904223u;
  return (float)((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;
}

#define CC (G * C)
#define MM (G * M)

int main(void) {
  static float x[BATCH * CC * IH * IW], r[BATCH * MM * OH * OW], y[BATCH * MM * OH * OW], w[MM * C * KH * KW], b[MM];
  unsigned seed = 7;
  for (int i = 0; i < MM * C * KH * KW; i++)
    w[i] = random_value(&seed);
  seed = 8;
  for (int i = 0; i < MM; i++)
    b[i] = random_value(&seed);
  for (int i = 0; i < BATCH * CC * IH * IW; i++)
    x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
  for (int i = 0; i < BATCH * MM * OH * OW; i++)
    r[i] = (float)((i * 53) % 97) / 48.0f - 1.0f;
  const void *inputs[] = {x, r};
  void *outputs[] = {y};
  if (model_run(inputs, outputs) != 0)
    return 1;
  for (int n = 0; n < BATCH; n++)
    for (int m = 0; m < MM; m++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          double acc = HAS_BIAS ? b[m] : 0, scale = 1;
          const int grp = m / M;
          for (int c = 0; c < C; c++)
            for (int i = 0; i < KH; i++)
              for (int j = 0; j < KW; j++) {
                const int ih = oh * SH + i - PAD_T, iw = ow * SW + j - PAD_L;
                if (ih < 0 || ih >= IH || iw < 0 || iw >= IW)
                  continue;
                const double t = (double)w[((m * C + c) * KH + i) * KW + j] * x[((n * CC + grp * C + c) * IH + ih) * IW + iw];
                acc += t;
                scale += fabs(t);
              }
          const int at = ((n * MM + m) * OH + oh) * OW + ow;
          double ref = ACT(acc);
          if (HAS_RESIDUAL)
            ref = POST_ACT(ref + r[at]);
          if (fabs(y[at] - ref) > 1e-5 * scale) {
            printf("y[%d] = %g, expected %g\n", at, y[at], ref);
            return 2;
          }
        }
  return 0;
}
