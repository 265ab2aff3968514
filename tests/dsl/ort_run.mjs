// Runs an ONNX model once with ONNX Runtime (npm onnxruntime-node, found through NODE_PATH) and writes its
// outputs as raw little-endian float32, in the model's output order. The inputs are raw float32 files, in the
// model's input order; with --random SEED they are written first, uniform in [-1, 1) from a seeded generator.
// usage: node ort_run.mjs [--random SEED] MODEL.onnx INPUT.bin... -- OUTPUT.bin...
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
let args = process.argv.slice(2);
let seed = null;
if (args[0] === '--random') {
  seed = BigInt(args[1]);
  args = args.slice(2);
}
const split = args.indexOf('--');
const [model, ...inputs] = args.slice(0, split);
const outputs = args.slice(split + 1);

// PCG-style 64-bit LCG; the top 24 bits make the float.
let state = 0x853c49e6748fea9bn ^ (seed ?? 0n);
function uniform() {
  state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
  return Number(state >> 40n) / 2 ** 24 * 2 - 1;
}

const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
if (inputs.length !== session.inputNames.length || outputs.length !== session.outputNames.length) {
  console.error(`${model} has ${session.inputNames.length} inputs and ${session.outputNames.length} outputs`);
  process.exit(2);
}
const feeds = {};
session.inputNames.forEach((name, i) => {
  const shape = session.inputMetadata[i].shape;
  let data;
  if (seed !== null) {
    data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(uniform);
    writeFileSync(inputs[i], Buffer.from(data.buffer));
  } else {
    const bytes = readFileSync(inputs[i]);
    data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  feeds[name] = new ort.Tensor('float32', data, shape);
});
const results = await session.run(feeds);
session.outputNames.forEach((name, i) => {
  const t = results[name];
  writeFileSync(outputs[i], Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
});
