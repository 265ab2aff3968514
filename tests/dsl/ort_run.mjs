// Runs an ONNX model once with ONNX Runtime (npm onnxruntime-node) on raw little-endian float32 inputs and
// writes its outputs as raw float32, in the model's input and output order.
// usage: node ort_run.mjs MODEL.onnx INPUT.bin... -- OUTPUT.bin...   (onnxruntime-node found through NODE_PATH)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const args = process.argv.slice(2);
const split = args.indexOf('--');
const [model, ...inputs] = args.slice(0, split);
const outputs = args.slice(split + 1);

const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
if (inputs.length !== session.inputNames.length || outputs.length !== session.outputNames.length) {
  console.error(`${model}: ${session.inputNames.length} inputs and ${session.outputNames.length} outputs`);
  process.exit(2);
}
const feeds = {};
session.inputNames.forEach((name, i) => {
  const meta = session.inputMetadata[i];
  const bytes = readFileSync(inputs[i]);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  feeds[name] = new ort.Tensor('float32', data, meta.shape);
});
const results = await session.run(feeds);
session.outputNames.forEach((name, i) => {
  const t = results[name];
  writeFileSync(outputs[i], Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
});
