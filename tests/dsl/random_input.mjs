// Writes COUNT float32 values, uniform in [-1, 1) from a seeded generator, as a raw little-endian file: a
// model input the tests feed to cnnc and to ONNX Runtime alike.
// usage: node random_input.mjs OUT.bin COUNT SEED
import { writeFileSync } from 'node:fs';

const [out, count, seed] = process.argv.slice(2);
let state = 0x853c49e6748fea9bn ^ BigInt(seed);
const data = new Float32Array(Number(count)).map(() => {
  state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn; // 64-bit LCG
  return Number(state >> 40n) / 2 ** 24 * 2 - 1;
});
writeFileSync(out, Buffer.from(data.buffer));
