/* The op table, built from ops.def so the enum and the descriptors cannot drift apart. */
#include "cnnc.h"

#include <string.h>

#define OP(id, sym) extern const OpDesc op_##sym;
#include "ops.def"
#undef OP

static const OpDesc *const op_table[OP_COUNT] = {
#define OP(id, sym) [OP_##id] = &op_##sym,
#include "ops.def"
#undef OP
};

const OpDesc *op_lookup(const char *op_type) {
  for (int k = 0; k < OP_COUNT; k++)
    if (!op_table[k]->internal && strcmp(op_table[k]->name, op_type) == 0)
      return op_table[k];
  return NULL;
}

const OpDesc *op_get(OpKind kind) {
  CN_ASSERT(kind >= 0 && kind < OP_COUNT);
  return op_table[kind];
}
