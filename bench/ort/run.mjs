// Runs an ONNX model in ONNX Runtime (CPU, one thread, every graph optimization) on raw input files and
// writes its outputs as raw files: the reference other scripts and tests compare cnnc against.
//
// usage: node bench/ort/run.mjs MODEL.onnx [--input FILE]... [--output FILE]... [--dim NAME=VALUE]...
//   --input FILE    one per graph input, in graph order: raw little-endian data of the input's element type
//   --output FILE   one per graph output, in graph order (fewer: the remaining outputs are not written)
//   --dim NAME=N    value of a symbolic dimension
// Prints one line per output: name, element type, shape. Exits 1 with a message on any error.
import { feedsFromFiles, openSession, writeTensor } from './session.mjs';

function usage(message) {
  process.stderr.write(`bench/ort/run.mjs: ${message}\nusage: node bench/ort/run.mjs MODEL.onnx [--input FILE]... [--output FILE]... [--dim NAME=VALUE]...\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let model;
const inputs = [], outputs = [], dims = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => (i + 1 < args.length ? args[++i] : usage(`${a} needs a value`));
  if (a === '--input') inputs.push(value());
  else if (a === '--output') outputs.push(value());
  else if (a === '--dim') {
    const m = /^([^=]+)=(\d+)$/.exec(value());
    if (!m) usage('--dim wants NAME=VALUE');
    dims[m[1]] = Number(m[2]);
  } else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (model) usage('one model only');
  else model = a;
}
if (!model) usage('no model given');

try {
  const opened = await openSession(model, { dims });
  if (outputs.length > opened.outputs.length)
    throw new Error(`the model has ${opened.outputs.length} output(s), ${outputs.length} file(s) given`);
  const results = await opened.session.run(feedsFromFiles(opened, inputs));
  opened.outputs.forEach((info, j) => {
    const t = results[info.name];
    if (j < outputs.length) writeTensor(t, outputs[j]);
    process.stdout.write(`${info.name} ${t.type} [${t.dims.join(',')}]\n`);
  });
} catch (e) {
  process.stderr.write(`bench/ort/run.mjs: ${model}: ${e.message}\n`);
  process.exit(1);
}
