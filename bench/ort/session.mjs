// ONNX Runtime (npm onnxruntime-node, installed by bench/ort/install.sh) as a library for cnnc's scripts:
// open a model on one CPU thread, feed it raw tensor files, run it, write its outputs as raw files.
// bench/ort/run.mjs is the command-line front end; bench/ort/worker.mjs times it for bench/run.sh.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(benchDir, 'package.json'));

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  throw new Error(`onnxruntime-node is not installed in ${benchDir}/node_modules: run sh bench/ort/install.sh (${e.message})`);
}
export { ort };
export const ortVersion = require('onnxruntime-node/package.json').version;

// ORT's element type names -> typed arrays over raw little-endian bytes.
const typedArrays = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array,
  uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
  bool: Uint8Array, float16: Uint16Array,
};

// The benchmark's settings: one intra-op and one inter-op thread, every graph optimization.
export const defaultOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
};

// Opens a model. dims fixes symbolic dimensions ({batch: 1}); options override defaultOptions.
export async function openSession(modelPath, { dims = {}, options = {} } = {}) {
  const session = await ort.InferenceSession.create(modelPath, { ...defaultOptions, ...options });
  const describe = (m) => {
    if (!m.isTensor) throw new Error(`${modelPath}: '${m.name}' is not a tensor`);
    const shape = m.shape.map((d) => {
      if (typeof d === 'number') return d;
      if (!(d in dims)) throw new Error(`${modelPath}: '${m.name}' has the symbolic dimension '${d}': give --dim ${d}=VALUE`);
      return dims[d];
    });
    return { name: m.name, type: m.type, shape };
  };
  return { session, inputs: session.inputMetadata.map(describe), outputs: session.outputMetadata.map(describe) };
}

// A tensor from a raw little-endian file; its size must match the shape.
export function tensorFromFile(info, file) {
  const Array_ = typedArrays[info.type];
  if (!Array_) throw new Error(`input '${info.name}': element type ${info.type} is not supported`);
  const bytes = readFileSync(file);
  const count = info.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * Array_.BYTES_PER_ELEMENT)
    throw new Error(`${file}: ${bytes.length} bytes, but input '${info.name}' (${info.type} [${info.shape}]) needs ${count * Array_.BYTES_PER_ELEMENT}`);
  const data = new Array_(count);
  new Uint8Array(data.buffer).set(bytes);
  return new ort.Tensor(info.type, info.type === 'bool' ? Uint8Array.from(data) : data, info.shape);
}

// Feeds for session.run from one raw file per input, in graph order.
export function feedsFromFiles(opened, files) {
  if (files.length !== opened.inputs.length)
    throw new Error(`the model has ${opened.inputs.length} input(s) (${opened.inputs.map((i) => i.name).join(', ')}), ${files.length} file(s) given`);
  return Object.fromEntries(opened.inputs.map((info, i) => [info.name, tensorFromFile(info, files[i])]));
}

// The raw little-endian bytes of an output tensor.
export function tensorBytes(tensor) {
  const d = tensor.data;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

export function writeTensor(tensor, file) {
  writeFileSync(file, tensorBytes(tensor));
}

// A synchronous run(feeds) -> {name: tensor} on the native session object, for timing. The public
// session.run defers every call through setImmediate and a promise, which costs 15 to 40 us per call here:
// as much as ORT's whole LeNet-5 inference. Timing the native call measures ORT itself (and the N-API copy of
// the tensors in and out), not node's event loop.
export function syncRunner(modelPath, opened, options = {}) {
  const { binding, initOrt } = require('onnxruntime-node/dist/binding.js');
  initOrt();
  const native = new binding.InferenceSession();
  native.loadModel(modelPath, { ...defaultOptions, ...options });
  const fetches = Object.fromEntries(opened.outputs.map((o) => [o.name, null]));
  return (feeds) => native.run(feeds, fetches, {});
}
