import { loadObjectFiles } from './src/node/objects.js';
import { runCaptureOnWorkers } from './src/node/packet-workers.js';
const file = process.argv[2]!;
for (const workers of [1, 2, 1, 2, 2]) {
  const load = { files: ['examples/proto_count.o'], possibleCpus: 2, shared: true };
  const { collection } = loadObjectFiles(load);
  const sink = { writeRecords: () => {} };
  const r = await runCaptureOnWorkers(collection, { load, program: collection.program(), hook: 'xdp', engine: 'jit', workers, capture: file, sinkFor: () => undefined });
  console.log(workers, 'total', r.summary.elapsedMs.toFixed(0), 'startup', r.startupMs.toFixed(0), 'run', (r.summary.elapsedMs - r.startupMs).toFixed(0), r.summary.packets);
  void sink;
}
