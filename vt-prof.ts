import { readFileSync } from 'node:fs';
import { parseObject } from './src/loader/index.js';
import { loadCollection } from './src/runtime/collection.js';
import { PacketStream } from './src/runtime/packet-stream.js';
import { jitEngine } from './src/jit/index.js';
import { runPcapBatches } from './src/node/pcap-batches.js';
const file = process.argv[2]!;
const workers = Number(process.argv[3] ?? 1);
const obj = parseObject(new Uint8Array(readFileSync(process.argv[4] ?? 'examples/proto_count.o')), { name: 'x.o' });
const g = globalThis as any;
const best: Record<string, number> = {};
for (let rep = 0; rep < 12; rep++) {
  const c = loadCollection(obj);
  const p = c.program();
  const s = new PacketStream(c, p, 'xdp', jitEngine);
  const b = c.xdpBatchFor(p, jitEngine, 256)!;
  b.run(0);
  g.TR = g.TS = g.TB = g.TX = g.TC = 0;
  const t = performance.now();
  runPcapBatches(file, s, b, () => undefined, workers > 1 ? { share: { workers, worker: 0 } } : {});
  const r: Record<string, number> = { total: performance.now() - t, read: g.TR, stage: g.TS, exec: g.TX, collect: g.TC, js: g.TB - g.TX - g.TC };
  if (rep === 0) console.log("cold", Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)}`).join("  "));
  for (const k in r) best[k] = Math.min(best[k] ?? 1e9, r[k]!);
}
console.log(Object.entries(best).map(([k, v]) => `${k} ${v.toFixed(1)}`).join('  '));
