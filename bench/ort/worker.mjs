// Times a model in ONNX Runtime for bench/bench.mjs, with the line protocol of bench/c/harness.c:
//   node bench/ort/worker.mjs MODEL.onnx INPUT.bin...   prints "ready ORT_VERSION" once the session is open
//   "output FILE"  runs once, writes the outputs' raw bytes (graph order, concatenated), prints "ok"
//   "time N"       runs N times, prints "times W1,C1 ... WN,CN": wall-clock and CPU time of each run in ns (CPU
//                  time of the process, in us steps: ORT on one thread runs in this, the calling, thread)
//   "quit" or end of input: exits
import { closeSync, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { feedsFromFiles, openSession, ortVersion, syncRunner, tensorBytes } from './session.mjs';

const [model, ...inputFiles] = process.argv.slice(2);
try {
  const opened = await openSession(model);
  const feeds = feedsFromFiles(opened, inputFiles);
  const run = syncRunner(model, opened);
  process.stdout.write(`ready ${ortVersion}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.startsWith('output ')) {
      const results = run(feeds);
      const fd = openSync(line.slice(7), 'w');
      for (const info of opened.outputs) writeSync(fd, tensorBytes(results[info.name]));
      closeSync(fd);
      process.stdout.write('ok\n');
    } else if (/^time \d+$/.test(line)) {
      const n = Number(line.slice(5));
      const times = new Array(n);
      for (let k = 0; k < n; k++) {
        const cpu = process.cpuUsage();
        const wall = process.hrtime.bigint();
        run(feeds);
        const w = process.hrtime.bigint() - wall;
        const c = process.cpuUsage(cpu);
        times[k] = `${w},${(c.user + c.system) * 1000}`;
      }
      process.stdout.write(`times ${times.join(' ')}\n`);
    } else if (line === 'quit') {
      break;
    } else {
      throw new Error(`unknown command '${line}'`);
    }
  }
} catch (e) {
  process.stderr.write(`bench/ort/worker.mjs: ${model}: ${e.message}\n`);
  process.exit(1);
}
process.exit(0);
