/* libFuzzer target: the runtime's TensorProto decoder (cnnrt_tensor_parse_pb), on the bytes of a .pb file. */
#include "cnnrt.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cnnrt_tensor t;
  if (cnnrt_tensor_parse_pb(data, size, &t) == CNNRT_OK)
    cnnrt_tensor_free(&t);
  return 0;
}
