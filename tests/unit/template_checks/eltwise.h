/* Checks instances of templates/eltwise_unary.c and eltwise_binary.c against plain loops in double. */
typedef struct EltShape {
  int nchwc, batch, channels, spatial; /* row-major unary: count = batch * channels * spatial */
  int act;
  float alpha, beta;
  /* binary only */
  int op; /* 0 add, 1 sub, 2 mul, 3 div */
  int a_kind, b_kind, a_per_image, b_per_image;
} EltShape;

typedef void (*UnaryFn)(const float *x, float *y);
typedef void (*BinaryFn)(const float *a, const float *b, float *y);

/* Floats of a (batch, channels, spatial) tensor as the template stores it. */
CHECK_FN size_t stored_size(const EltShape *s) {
  return (size_t)s->batch * (s->nchwc ? blocks_of(s->channels) * VLEN : s->channels) * s->spatial;
}

/* Stores a logical (batch, channels, spatial) tensor the way the template reads it; *count gets the floats. */
CHECK_FN float *store_for(const EltShape *s, const float *logical, size_t *count) {
  *count = stored_size(s);
  if (s->nchwc)
    return to_nchwc(logical, s->batch, s->channels, s->spatial);
  float *p = malloc(*count * sizeof *p + 1);
  memcpy(p, logical, *count * sizeof *p);
  return p;
}

/* Reads back y (stored like store_for) into logical order; counts padding lanes that are not zero. */
CHECK_FN int load_back(const EltShape *s, const float *stored, float *logical) {
  if (!s->nchwc) {
    memcpy(logical, stored, (size_t)s->batch * s->channels * s->spatial * sizeof *logical);
    return 0;
  }
  return from_nchwc(stored, s->batch, s->channels, s->spatial, logical);
}

CHECK_FN int check_unary(const char *name, UnaryFn fn, EltShape s, int in_place) {
  size_t count = (size_t)s.batch * s.channels * s.spatial, stored_count;
  float *x = random_floats(count, 8);
  x[0] = 0, x[count - 1] = -0.0f;
  double *ref = malloc(count * sizeof *ref + 1);
  for (size_t i = 0; i < count; i++)
    ref[i] = ref_act(s.act, s.alpha, s.beta, x[i]);
  float *x_stored = store_for(&s, x, &stored_count);
  /* a guard past the end of y that must stay NaN */
  float *y_stored = in_place ? realloc(x_stored, (stored_count + VLEN) * sizeof *y_stored)
                             : malloc((stored_count + VLEN) * sizeof *y_stored);
  if (in_place)
    x_stored = y_stored;
  else
    memset(y_stored, 0xff, stored_count * sizeof *y_stored);
  memset(y_stored + stored_count, 0xff, VLEN * sizeof *y_stored);
  fn(x_stored, y_stored);
  int bad = 0;
  for (int i = 0; i < VLEN; i++)
    if (!isnan(y_stored[stored_count + i])) {
      printf("%s: wrote past the end of y\n", name);
      bad++;
      break;
    }
  float *y = malloc(count * sizeof *y + 1);
  int dirty = load_back(&s, y_stored, y);
  if (dirty) {
    printf("%s: %d padding lanes are not zero\n", name, dirty);
    bad++;
  }
  bad += compare(name, y, ref, NULL, count, 4e-7); /* the activations' few ulp */
  if (!in_place)
    free(x_stored);
  free(x), free(ref), free(y_stored), free(y);
  return bad;
}

/* An operand of the given kind: full (the logical tensor), per channel, or scalar, stored as the template
 * reads it; operand_at gives its value for output element (n, c, p). */
typedef struct Operand {
  float *stored;
  float *values; /* full: (batch, channels, spatial); per channel: (batch or 1, channels); scalar: 1 */
  int kind, per_image;
} Operand;

CHECK_FN Operand make_operand(const EltShape *s, int kind, int per_image) {
  Operand o = {NULL, NULL, kind, per_image};
  size_t stored_count;
  if (kind == 0) {
    o.values = random_floats((size_t)s->batch * s->channels * s->spatial, 1);
    o.stored = store_for(s, o.values, &stored_count);
  } else if (kind == 1) {
    int images = per_image ? s->batch : 1;
    o.values = random_floats((size_t)images * s->channels, 1);
    EltShape one = *s;
    one.batch = images;
    one.spatial = 1;
    o.stored = store_for(&one, o.values, &stored_count);
  } else {
    o.values = random_floats(1, 1);
    o.stored = malloc(sizeof *o.stored);
    o.stored[0] = o.values[0];
  }
  return o;
}

CHECK_FN double operand_at(const Operand *o, const EltShape *s, int n, int c, int p) {
  if (o->kind == 0)
    return o->values[((size_t)n * s->channels + c) * s->spatial + p];
  if (o->kind == 1)
    return o->values[(size_t)(o->per_image ? n : 0) * s->channels + c];
  return o->values[0];
}

CHECK_FN int check_binary(const char *name, BinaryFn fn, EltShape s) {
  size_t count = (size_t)s.batch * s.channels * s.spatial, stored_count = stored_size(&s);
  Operand a = make_operand(&s, s.a_kind, s.a_per_image), b = make_operand(&s, s.b_kind, s.b_per_image);
  double *ref = malloc(count * sizeof *ref + 1);
  for (int n = 0; n < s.batch; n++)
    for (int c = 0; c < s.channels; c++)
      for (int p = 0; p < s.spatial; p++) {
        /* the op rounded to float, as the vector op does, then the activation */
        float va = (float)operand_at(&a, &s, n, c, p), vb = (float)operand_at(&b, &s, n, c, p);
        float v = s.op == 0 ? va + vb : s.op == 1 ? va - vb : s.op == 2 ? va * vb : va / vb;
        ref[((size_t)n * s.channels + c) * s.spatial + p] = ref_act(s.act, s.alpha, s.beta, v);
      }
  float *y_stored = malloc((stored_count + VLEN) * sizeof *y_stored);
  memset(y_stored, 0xff, (stored_count + VLEN) * sizeof *y_stored);
  fn(a.stored, b.stored, y_stored);
  int bad = 0;
  for (int i = 0; i < VLEN; i++)
    if (!isnan(y_stored[stored_count + i])) {
      printf("%s: wrote past the end of y\n", name);
      bad++;
      break;
    }
  float *y = malloc(count * sizeof *y + 1);
  int dirty = load_back(&s, y_stored, y);
  if (dirty) {
    printf("%s: %d padding lanes are not zero\n", name, dirty);
    bad++;
  }
  bad += compare(name, y, ref, NULL, count, 4e-7);
  free(a.stored), free(a.values), free(b.stored), free(b.values), free(ref), free(y_stored), free(y);
  return bad;
}
