// A fresh process for bench/large-programs.ts, on the built code (dist/):
//   verify-child.mjs time OBJ  -> one JSON line per program: {program, insns, first_ms, warm_ms}
//   verify-child.mjs load OBJ  -> runs `tsbpf prog load OBJ --json` in this process, then prints {max_rss_kb}
import { readFileSync } from 'node:fs';

const [mode, file] = process.argv.slice(2);
if (mode === 'time') {
  const { parseObject, verifyObjectProgram } = await import('../dist/index.js');
  const object = parseObject(new Uint8Array(readFileSync(file)), { name: file });
  for (const p of object.programs) {
    let t = performance.now();
    const first = verifyObjectProgram(object, p, { logLevel: 0 });
    const firstMs = performance.now() - t;
    const times = [];
    for (let i = 0; i < 7; i++) {
      t = performance.now();
      verifyObjectProgram(object, p, { logLevel: 0 });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ program: p.name, accepted: first.accepted, insns: first.insnsProcessed, first_ms: firstMs, warm_ms: times[3] }));
  }
} else if (mode === 'load') {
  const { main } = await import('../dist/cli/app.js');
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = () => true; // the listing is not what is measured
  const code = await main(['prog', 'load', file, '--json']);
  process.stdout.write = realWrite;
  console.log(JSON.stringify({ status: code, max_rss_kb: process.resourceUsage().maxRSS }));
} else {
  console.error('usage: verify-child.mjs time|load OBJ');
  process.exit(2);
}
