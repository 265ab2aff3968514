// The benchmark: cnnc's generated code against ONNX Runtime (and PyTorch where it is installed), one core, in
// one run. bench/run.sh installs ONNX Runtime, builds cnnc and calls this; see bench/README.md.
//
// Each engine is a long-lived process speaking one line protocol (bench/c/harness.c describes it): cnnc's
// code linked into a C harness, ORT in node (bench/ort/worker.mjs), PyTorch in /usr/bin/python3
// (bench/torch/worker.py). Per model: check cnnc's output against ORT's, warm every engine up, then run
// rounds in which every engine runs a batch of inferences in turn (rotating who goes first), so a noisy
// neighbour on the machine slows all engines alike. Every inference is timed on its own, by the wall clock
// and by the CPU time of the thread running it; the table gives the CPU times (median and range), which
// other processes' time slices on a shared machine do not inflate, and the wall-clock ratio beside them.
// A separate build with -DCNNC_PROFILE gives the CPU time of each layer.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');
const buildDir = join(root, 'build', 'bench');
const python = '/usr/bin/python3';

const usage = `usage: sh bench/run.sh [options] [MODEL...]
  MODEL             a name from the models directory's manifest.json, or a path to an .onnx file
                    (default: every model in the manifest)
  --iterations N    inferences per engine per round (default: as many as fit in 0.2 s, at least 1)
  --rounds N        rounds of interleaved batches (default 10)
  --quick           a check that everything works: 3 rounds of 1 inference, short warm-up and peak runs
  --no-torch        leave PyTorch out
  --layers N        most expensive layers of cnnc's code to list per model (default 3; 0: no profile build)
  --models DIR      the models directory (default: $CNNC_SHARED_MODELS, else ../shared/models)
environment: CC (default clang), CFLAGS (default -O3 -march=native), CNNC (default build/cnnc)`;

function parseArgs(argv) {
  const o = { models: [], iterations: 0, rounds: 10, quick: false, torch: true, layers: 3,
              modelsDir: process.env.CNNC_SHARED_MODELS || join(root, '..', 'shared', 'models') };
  const count = (a, v) => {
    if (!/^\d+$/.test(v ?? '') || (Number(v) < 1 && a !== '--layers')) die(`${a} wants a positive integer\n${usage}`, 2);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--iterations') o.iterations = count(a, argv[++i]);
    else if (a === '--rounds') o.rounds = count(a, argv[++i]);
    else if (a === '--layers') o.layers = count(a, argv[++i]);
    else if (a === '--models') o.modelsDir = argv[++i] ?? die(`--models wants a directory\n${usage}`, 2);
    else if (a === '--quick') o.quick = true;
    else if (a === '--no-torch') o.torch = false;
    else if (a === '-h' || a === '--help') { console.log(usage); process.exit(0); }
    else if (a.startsWith('-')) die(`unknown option ${a}\n${usage}`, 2);
    else o.models.push(a);
  }
  if (o.quick) {
    o.rounds = Math.min(o.rounds, 3);
    o.iterations = o.iterations || 1;
  }
  return o;
}

function die(message, status = 1) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(status);
}

const log = (message) => process.stderr.write(`bench: ${message}\n`);

// Runs a program to completion; returns its stdout, or throws with its stderr.
function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${what}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} failed (${cmd} ${args.join(' ')}):\n${r.stderr.trim()}`);
  return r.stdout;
}

function timed(cmd, args, what) {
  const t0 = process.hrtime.bigint();
  run(cmd, args, what);
  return Number(process.hrtime.bigint() - t0) * 1e-9;
}

// One engine process and its line protocol.
class Engine {
  constructor(name, cmd, args) {
    this.name = name;
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.child.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((res) => this.child.on('close', (code) => res(code)));
    this.child.on('error', (e) => { this.stderr += e.message; });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
    this.wall = [];
    this.cpu = [];
  }

  async line() {
    const next = await this.lines.next();
    if (next.done) {
      const code = await this.exited;
      const error = new Error(`${this.name} exited (status ${code}): ${this.stderr.trim()}`);
      error.status = code;
      throw error;
    }
    return next.value;
  }

  async request(command) {
    this.child.stdin.write(`${command}\n`);
    return this.line();
  }

  // n inferences; returns the CPU times (ns) and keeps both clocks' times
  async time(n) {
    const reply = await this.request(`time ${n}`);
    if (!reply.startsWith('times ')) throw new Error(`${this.name}: unexpected reply '${reply.slice(0, 80)}'`);
    const cpu = [];
    for (const pair of reply.slice(6).split(' ')) {
      const [w, c] = pair.split(',').map(Number);
      this.wall.push(w);
      this.cpu.push(c);
      cpu.push(c);
    }
    return cpu;
  }

  async output(file) {
    const reply = await this.request(`output ${file}`);
    if (reply !== 'ok') throw new Error(`${this.name}: unexpected reply '${reply.slice(0, 80)}'`);
    return readFileSync(file);
  }

  async close() {
    if (this.child.exitCode === null && this.child.stdin.writable) this.child.stdin.end('quit\n');
    await this.exited;
  }
}

// The single-core FMA peak per ISA, best of the runs of bench/c/peak.c.
function measurePeak(cc, seconds) {
  const exe = join(buildDir, 'peak');
  run(cc, ['-std=c11', '-O2', '-o', exe, join(benchDir, 'c', 'peak.c'), '-lm'], 'building bench/c/peak.c');
  const peak = {};
  for (const line of run(exe, [String(seconds)], 'peak').split('\n')) {
    const m = /^peak (\S+) ([\d.]+)$/.exec(line);
    if (m) peak[m[1]] = Number(m[2]);
  }
  return peak;
}

const isaNames = { avx512: 'AVX-512', avx2: 'AVX2', scalar: 'scalar' };

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
}

// The divisor and unit that print a time of `ns` nanoseconds with 1 to 3 digits before the point.
function unitFor(ns) {
  if (ns < 1e3) return [1, 'ns'];
  if (ns < 1e6) return [1e3, 'µs'];
  if (ns < 1e9) return [1e6, 'ms'];
  return [1e9, 's'];
}
const sig3 = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
function fmtTime(ns) {
  const [div, unit] = unitFor(ns);
  return `${sig3(ns / div)} ${unit}`;
}
function fmtStats(s) {
  const [div, unit] = unitFor(s.median);
  return `${sig3(s.median / div)} ${unit} (${sig3(s.min / div)}–${sig3(s.max / div)})`;
}
const fmtSci = (x) => x.toExponential(1);
const fmtPct = (x) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

// A seeded N(0, 1) float32 input for a model that has no reference input beside it.
function randomInput(shape, file, seed) {
  let state = 0x2545f491 ^ seed;
  const uniform = () => {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  writeFileSync(file, Buffer.from(data.buffer));
}

// max |got - ref| and max |ref| over float32 outputs.
function compare(got, ref) {
  if (got.length !== ref.length) return { error: `output sizes differ: ${got.length} and ${ref.length} bytes` };
  const g = new Float32Array(got.buffer, got.byteOffset, got.length >> 2);
  const r = new Float32Array(ref.buffer, ref.byteOffset, ref.length >> 2);
  let diff = 0, scale = 0;
  for (let i = 0; i < r.length; i++) {
    const d = Math.abs(g[i] - r[i]);
    diff = d > diff || Number.isNaN(d) ? d : diff;
    scale = Math.max(scale, Math.abs(r[i]));
  }
  const tol = 1e-4 * Math.max(1, scale);
  return { diff, scale, tol, ok: diff <= tol };
}

// The models to run: names from the manifest or .onnx paths, with their input file and FLOPs when known.
function resolveModels(o) {
  const manifestPath = join(o.modelsDir, 'manifest.json');
  const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
  const names = o.models.length ? o.models : Object.keys(manifest);
  if (!names.length) die(`no models given and no manifest.json in ${o.modelsDir}`);
  return names.map((arg) => {
    if (manifest[arg]) {
      const m = manifest[arg];
      return { name: arg, onnx: join(o.modelsDir, m.file), inputs: [join(o.modelsDir, `${arg}.input.bin`)],
               shape: m.input.shape, flops: m.flops };
    }
    if (!arg.endsWith('.onnx') || !existsSync(arg)) die(`${arg}: not in ${manifestPath} and not an .onnx file`);
    const name = basename(arg, '.onnx');
    const input = join(dirname(arg), `${name}.input.bin`);
    return { name, onnx: resolve(arg), inputs: existsSync(input) ? [input] : null, shape: null, flops: null };
  });
}

async function benchModel(model, o, env) {
  const dir = join(buildDir, model.name);
  mkdirSync(dir, { recursive: true });
  const r = { model, engines: {}, notes: [] };
  if (!model.inputs || !model.shape) {
    const { openSession } = await import('./ort/session.mjs');
    const opened = await openSession(model.onnx);
    model.shape = opened.inputs[0]?.shape ?? [];
    if (!model.inputs) {
      if (opened.inputs.some((i) => i.type !== 'float32'))
        throw new Error(`${model.onnx}: inputs can be generated for float32 inputs only; give NAME.input.bin beside the model`);
      model.inputs = opened.inputs.map((info, i) => {
        const file = join(dir, `input${i}.bin`);
        randomInput(info.shape, file, i);
        return file;
      });
      r.notes.push(`${model.name}: seeded N(0,1) input${model.inputs.length > 1 ? 's' : ''}.`);
    }
  }

  // compile with cnnc, then build the timing harness and its profiling twin
  const c = join(dir, 'model.c');
  r.cnncSeconds = timed(env.cnnc, [model.onnx, '-o', c, '--name', 'model'], `cnnc ${model.onnx}`);
  const header = readFileSync(c, 'utf8').slice(0, 4096);
  r.target = /\* target: (\w+)/.exec(header)?.[1] ?? 'unknown';
  r.arenaBytes = Number(/#define model_ARENA_BYTES (\d+)/.exec(readFileSync(join(dir, 'model.h'), 'utf8'))?.[1]);
  r.cBytes = statSync(c).size;
  const cflags = ['-std=c11', ...env.cflags, '-I', dir];
  r.ccSeconds = timed(env.cc, [...cflags, '-c', c, '-o', join(dir, 'model.o')], `${env.cc} model.c`);
  r.textBytes = textSize(join(dir, 'model.o'));
  const harness = join(benchDir, 'c', 'harness.c');
  run(env.cc, [...cflags, '-o', join(dir, 'harness'), harness, join(dir, 'model.o'), '-lm'], 'building the harness');
  if (o.layers > 0) {
    run(env.cc, [...cflags, '-DCNNC_PROFILE', '-DCNNC_PROFILE_CLOCK=bench_thread_ns', '-o', join(dir, 'harness-profile'), harness, c, '-lm'],
        'building the profiling harness');
  }

  const engines = [];
  const start = async (key, cmd, args) => {
    const e = new Engine(key, cmd, args);
    e.ready = await e.line();
    engines.push(e);
    r.engines[key] = e;
    return e;
  };
  try {
    const cnnc = await start('cnnc', join(dir, 'harness'), model.inputs);
    const ort = await start('ORT', 'node', [join(benchDir, 'ort', 'worker.mjs'), model.onnx, ...model.inputs]);
    if (env.torch.ok) {
      try {
        const t = await start('PyTorch', python, [join(benchDir, 'torch', 'worker.py'), model.name, model.onnx,
                                                  model.inputs[0], model.shape.join(',')]);
        t.weights = t.ready.split(' ')[2];
      } catch (e) {
        r.notes.push(`${model.name}: PyTorch left out: ${e.message}`); // exit status 3: no architecture for it
      }
    }

    // a fast wrong answer is not a result: compare before timing
    const ref = await ort.output(join(dir, 'ort_output.bin'));
    r.check = compare(await cnnc.output(join(dir, 'cnnc_output.bin')), ref);
    const torch = r.engines.PyTorch;
    if (torch?.weights === 'onnx') r.torchCheck = compare(await torch.output(join(dir, 'torch_output.bin')), ref);

    // warm-up, then a batch size per engine that fills about batchSeconds
    const batchSeconds = 0.2;
    for (const e of engines) {
      const once = Math.max(1000, (await e.time(1))[0]);
      const warm = Math.max(1, Math.min(1000, Math.round((o.quick ? 0.1e9 : 0.5e9) / once)));
      const probe = await e.time(warm);
      e.batch = o.iterations || Math.max(1, Math.min(100000, Math.round((batchSeconds * 1e9) / Math.max(1000, stats(probe).median))));
      e.wall = [];
      e.cpu = [];
    }
    for (let round = 0; round < o.rounds; round++) {
      for (let k = 0; k < engines.length; k++) {
        const e = engines[(round + k) % engines.length];
        await e.time(e.batch);
      }
    }
    for (const e of engines) {
      e.stats = stats(e.cpu);
      e.wallStats = stats(e.wall);
    }
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }

  if (o.layers > 0) r.layers = await profileLayers(join(dir, 'harness-profile'), model.inputs, r.engines.cnnc.batch);
  r.computedFlops = r.layers ? r.layers.reduce((a, l) => a + l.flops, 0) : null;
  r.flops = model.flops ?? r.computedFlops;
  return r;
}

async function profileLayers(exe, inputs, runs) {
  const e = new Engine('cnnc (profile)', exe, inputs);
  try {
    await e.line();
    await e.time(Math.max(1, Math.min(runs, 3))); // warm-up
    e.child.stdin.write(`profile ${runs}\n`);
    const layers = [];
    for (let line = await e.line(); line !== 'end'; line = await e.line()) {
      const [, ns, calls, flops, fn, ops, node] = line.split(' ');
      layers.push({ ns: Number(ns) / Number(calls), flops: Number(flops), fn, ops, node });
    }
    return layers;
  } finally {
    await e.close();
  }
}

// The size of the object's code (.text), without the weights in .rodata.
function textSize(object) {
  const r = spawnSync('size', ['-A', object], { encoding: 'utf8' });
  const m = r.status === 0 ? /^\.text\s+(\d+)/m.exec(r.stdout) : null;
  return m ? Number(m[1]) : null;
}

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).split('\n')[0].trim() : null;
}

function cpuModel() {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

function bestPeak(peak) {
  const best = ['avx512', 'avx2', 'scalar'].find((isa) => peak[isa]);
  return best ? { isa: best, gflops: peak[best] } : { isa: 'none', gflops: NaN };
}

// The peak cnnc's code is measured against: its target's when it has one (avx2, avx512), else the best.
function peakFor(target, peak) {
  return peak[target] ? { isa: target, gflops: peak[target] } : bestPeak(peak);
}

function report(results, failures, env, o, peak) {
  const out = [];
  const p = (s = '') => out.push(s);
  const best = bestPeak(peak);
  const now = new Date();
  const targets = [...new Set(results.map((r) => r.target))];
  p(`## cnnc benchmark, ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  p();
  p(`- CPU: ${cpuModel()}, one core. Single-core FMA peak: ${['avx512', 'avx2', 'scalar'].filter((i) => peak[i])
      .map((i) => `${isaNames[i]} ${peak[i].toFixed(1)} GFLOP/s`).join(', ')}.`);
  p(`- cnnc ${env.cnncVersion}, target ${targets.join(', ')}; C built by ${env.ccVersion} with \`${env.cflags.join(' ')}\`.`);
  p(`- ONNX Runtime ${env.ortVersion} (npm onnxruntime-node, CPU, 1 intra-op and 1 inter-op thread, graph optimization level all).`);
  p(`- PyTorch: ${env.torch.ok ? `${env.torch.version}, 1 thread, eval mode, inference_mode` : `left out (${env.torch.reason})`}.`);
  if (o.quick) p(`- **--quick**: a check that the benchmark works. Single cold inferences between other engines' runs: these times are not measurements.`);
  p(`- ${o.rounds} rounds; in each, every engine runs a batch of ${o.iterations ? `${o.iterations} inference${o.iterations > 1 ? 's' : ''}` : 'inferences (about 0.2 s)'} in turn, after a warm-up.`);
  p(`  Time per inference: the CPU time of the thread running it (ORT: of its process, in µs steps), median (min–max),`);
  p(`  so time slices the machine gives other processes do not count; "wall" is the ratio of wall-clock medians.`);
  p(`  GFLOP/s from the model's FLOPs (2 x multiply-adds of Conv and Gemm). Load average when the run started: ${env.load}.`);
  for (const t of targets) {
    const pk = peakFor(t, peak);
    p(`- % of peak: against the ${isaNames[pk.isa] ?? pk.isa} peak (${pk.gflops.toFixed(1)} GFLOP/s)${
      pk.isa === t ? `, the ISA cnnc's code targets` : ` for cnnc's ${t} code (portable C, which compilers vectorize as they can) and for ORT`}.`);
  }
  p();
  const hasTorch = results.some((r) => r.engines?.PyTorch?.stats);
  p(`| model | GFLOP | cnnc | ORT |${hasTorch ? ' PyTorch |' : ''} cnnc/ORT | wall | cnnc GFLOP/s | cnnc % peak | ORT GFLOP/s | ORT % peak | cnnc output vs ORT |`);
  p(`|---|---|---|---|${hasTorch ? '---|' : ''}---|---|---|---|---|---|---|`);
  for (const r of results) {
    const c = r.engines.cnnc.stats, t = r.engines.ORT.stats, pt = r.engines.PyTorch?.stats;
    const pk = peakFor(r.target, peak);
    const gf = (s) => r.flops / s.median;
    const check = r.check.error ? `**MISMATCH**: ${r.check.error}`
      : r.check.ok ? `ok, max diff ${fmtSci(r.check.diff)}`
      : `**MISMATCH**: max diff ${fmtSci(r.check.diff)} > ${fmtSci(r.check.tol)}`;
    const ratio = r.check.ok ? (c.median / t.median).toFixed(2) : '**wrong output**';
    const wallRatio = r.check.ok ? (r.engines.cnnc.wallStats.median / r.engines.ORT.wallStats.median).toFixed(2) : '—';
    p(`| ${r.model.name} | ${(r.flops / 1e9).toPrecision(3)} | ${fmtStats(c)} | ${fmtStats(t)} |${hasTorch ? ` ${pt ? fmtStats(pt) : '—'} |` : ''} ${ratio} | ${wallRatio} | ${
      gf(c).toFixed(1)} | ${fmtPct(gf(c) / pk.gflops)} | ${gf(t).toFixed(1)} | ${fmtPct(gf(t) / best.gflops)} | ${check} |`);
  }
  for (const f of failures) p(`| ${f.name} | | | |${hasTorch ? ' |' : ''} **failed** | | | | | | ${f.message.split('\n')[0]} |`);
  p();
  if (results.some((r) => r.layers)) {
    p(`Most expensive layers of cnnc's code (a build with \`-DCNNC_PROFILE\`; mean CPU time per inference over one batch):`);
    p();
    p('| model | layer (ONNX ops) | time | share | GFLOP/s | % peak |');
    p('|---|---|---|---|---|---|');
    for (const r of results.filter((x) => x.layers)) {
      const total = r.layers.reduce((a, l) => a + l.ns, 0);
      const pk = peakFor(r.target, peak);
      for (const l of [...r.layers].sort((a, b) => b.ns - a.ns).slice(0, o.layers)) {
        const g = l.flops / l.ns;
        p(`| ${r.model.name} | ${l.node === '-' ? l.fn : l.node} (${l.ops}) | ${fmtTime(l.ns)} | ${fmtPct(l.ns / total)} | ${
          l.flops ? g.toFixed(1) : '—'} | ${l.flops ? fmtPct(g / pk.gflops) : '—'} |`);
      }
    }
    p();
  }
  p(`Build: cnnc's time to write the C, \`${env.cc} ${env.cflags.join(' ')} -c\` on it, sizes, and the arena (P_ARENA_BYTES):`);
  p();
  p('| model | cnnc | C compiler | .c | object text | arena |');
  p('|---|---|---|---|---|---|');
  const mb = (b) => (b == null ? '?' : `${(b / 1e6).toFixed(b < 1e6 ? 3 : 1)} MB`);
  for (const r of results)
    p(`| ${r.model.name} | ${r.cnncSeconds.toFixed(2)} s | ${r.ccSeconds.toFixed(1)} s | ${mb(r.cBytes)} | ${mb(r.textBytes)} | ${mb(r.arenaBytes)} |`);
  p();
  const notes = results.flatMap((r) => r.notes);
  const torchWeights = results.filter((r) => r.engines.PyTorch?.stats);
  const random = torchWeights.filter((r) => r.engines.PyTorch.weights !== 'onnx').map((r) => r.model.name);
  const loaded = torchWeights.filter((r) => r.torchCheck);
  if (random.length)
    notes.push(`PyTorch runs torchvision's architecture with random weights for ${random.join(', ')}: timing only, outputs not compared.`);
  for (const r of loaded)
    notes.push(`PyTorch ran ${r.model.name} with the ONNX model's weights: max diff to ORT ${fmtSci(r.torchCheck.diff)}${r.torchCheck.ok ? '' : ' (**outside tolerance**)'}.`);
  for (const r of results.filter((x) => x.computedFlops && x.model.flops && Math.abs(x.computedFlops - x.model.flops) > 0.01 * x.model.flops))
    notes.push(`${r.model.name}: cnnc counts ${r.computedFlops} FLOPs, manifest.json ${r.model.flops}.`);
  for (const n of notes) p(`- ${n}`);
  return out.join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const models = resolveModels(o);
  const env = {
    cc: process.env.CC || 'clang',
    cflags: (process.env.CFLAGS || '-O3 -march=native').split(/\s+/).filter(Boolean),
    cnnc: process.env.CNNC || join(root, 'build', 'cnnc'),
  };
  if (!existsSync(env.cnnc)) die(`${env.cnnc} not found: build cnnc first (sh bench/run.sh does)`);
  env.cnncVersion = firstLine(env.cnnc, ['--version'])?.replace(/^cnnc /, '') ?? '?';
  env.ccVersion = firstLine(env.cc, ['--version']) ?? env.cc;
  env.ortVersion = (await import('./ort/session.mjs')).ortVersion;
  env.torch = { ok: false, reason: 'disabled by --no-torch' };
  if (o.torch) {
    const t = spawnSync(python, ['-c', 'import torch, torchvision; print(torch.__version__)'], { encoding: 'utf8' });
    env.torch = t.status === 0 ? { ok: true, version: t.stdout.trim() }
      : { ok: false, reason: `${python} cannot import torch and torchvision` };
  }
  mkdirSync(buildDir, { recursive: true });
  env.load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  const peakSeconds = o.quick ? 0.3 : 2;
  log('measuring the FMA peak');
  const peak = measurePeak(env.cc, peakSeconds);
  const results = [], failures = [];
  for (const model of models) {
    log(`${model.name}: compiling and timing`);
    try {
      const r = await benchModel(model, o, env);
      const c = r.engines.cnnc.stats, t = r.engines.ORT.stats;
      log(`${model.name}: cnnc ${fmtStats(c)}, ORT ${fmtStats(t)}, output ${r.check.ok ? 'ok' : 'MISMATCH'}`);
      results.push(r);
    } catch (e) {
      log(`${model.name}: ${e.message}`);
      failures.push({ name: model.name, message: e.message });
    }
  }
  // the peak once more at the end: the best of both, in case a neighbour slowed the first
  for (const [isa, g] of Object.entries(measurePeak(env.cc, peakSeconds))) peak[isa] = Math.max(peak[isa] ?? 0, g);
  console.log(report(results, failures, env, o, peak));
  const wrong = results.filter((r) => !r.check.ok).map((r) => r.model.name);
  if (wrong.length) log(`WRONG OUTPUT from cnnc's code for ${wrong.join(', ')}: those times are not results`);
  if (wrong.length || failures.length) process.exit(1);
}

await main();
