#!/usr/bin/env node
// Bundles the packet worker thread (dist/node/packet-worker.js and every
// module it imports) into one file, dist/node/packet-worker.bundle.js: a
// worker starts by loading its modules, and one file loads in about a
// third of the time the ~150 separate modules take (docs/performance.md).
// node/packet-workers.ts uses the bundle only when it is at least as new as
// the modules; without esbuild (a production install) nothing is bundled.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/node/packet-worker.js', import.meta.url));
const out = fileURLToPath(new URL('../dist/node/packet-worker.bundle.js', import.meta.url));
if (!existsSync(entry)) {
  console.error(`bundle-worker: ${entry} is not built (npm run build)`);
  process.exit(1);
}
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.exit(0);
}
await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'warning' });
