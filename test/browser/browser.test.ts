/**
 * The portable core in a real browser: the library is bundled for the
 * browser (esbuild, platform "browser": a Node built-in in the core would
 * fail the build), served to headless Chromium, and there runs the whole
 * eBPF conformance suite on both engines and an example object built by
 * clang, whose results must equal the ones Node gives.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseObject } from '../../src/loader/object.js';
import { loadCollection } from '../../src/runtime/collection.js';
import { dumpMaps, toHex } from '../../src/runtime/map-io.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFORMANCE = join(ROOT, 'test', 'fixtures', 'conformance');
const BROWSER = ['/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium'].find((p) => existsSync(p));
const skip = BROWSER === undefined ? 'no Chromium (install chromium-headless-shell)' : !existsSync(CONFORMANCE) ? `no conformance data at ${CONFORMANCE}` : null;
if (skip) console.log(`skipping browser tests: ${skip}`);

interface PageResult {
  conformance: Record<string, { passed: number; failed: string[] }>;
  example: { retval: number; dataOut: string; maps: unknown };
  crossOriginIsolated: boolean;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>tsbpf</title><script type="module">
import * as tsbpf from '/tsbpf.js';
const result = { conformance: {}, crossOriginIsolated: self.crossOriginIsolated };
const files = await (await fetch('/conformance/index.json')).json();
const texts = await Promise.all(files.map(async (f) => [f, await (await fetch('/conformance/' + f)).text()]));
for (const name of tsbpf.ENGINE_NAMES) {
  const engine = tsbpf.engineByName(name);
  const r = { passed: 0, failed: [] };
  for (const [f, text] of texts) {
    const o = tsbpf.runConformanceText(text, f, engine);
    if (o.passed) r.passed++; else r.failed.push(f + ': ' + o.reason);
  }
  result.conformance[name] = r;
}
const object = new Uint8Array(await (await fetch('/examples/proto_count.o')).arrayBuffer());
const packet = new Uint8Array(await (await fetch('/examples/inputs/ipv4_tcp_syn.bin')).arrayBuffer());
const collection = tsbpf.loadCollection(tsbpf.parseObject(object, { name: 'proto_count.o' }));
const run = collection.run(collection.program(), { dataIn: packet, repeat: 3 }, tsbpf.engineByName('jit'));
result.example = { retval: run.retval, dataOut: Array.from(run.dataOut, (b) => b.toString(16).padStart(2, '0')).join(''), maps: tsbpf.dumpMaps(collection) };
window.__result = result;
</script>`;

describe.skipIf(skip !== null)('tsbpf in a browser (headless Chromium)', () => {
  let url = '';
  let close = () => {};

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [join(ROOT, 'src/index.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, target: 'es2022', logLevel: 'silent',
    });
    const js = bundle.outputFiles[0]!.contents;
    const server = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
      // COOP/COEP make the page cross-origin isolated, so shared memories and workers are allowed as in Node.
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      const send = (type: string, body: string | Uint8Array) => {
        res.writeHead(200, { 'content-type': type });
        res.end(body);
      };
      if (path === '/') return send('text/html', PAGE);
      if (path === '/tsbpf.js') return send('text/javascript', js);
      if (path === '/conformance/index.json') return send('application/json', JSON.stringify(readdirSync(CONFORMANCE).filter((f) => f.endsWith('.data')).sort()));
      const file = path.startsWith('/conformance/') ? join(CONFORMANCE, path.slice(13)) : path.startsWith('/examples/') ? join(ROOT, path) : '';
      if (file && !file.includes('..') && existsSync(file)) return send('application/octet-stream', readFileSync(file));
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () => server.close();
  }, 120_000);

  afterAll(() => close());

  it('runs the conformance suite on both engines and an example object like Node does', async () => {
    const browser = await chromium.launch({
      executablePath: BROWSER!,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined || document.title === 'error', undefined, { timeout: 120_000 })
        .catch(() => { throw new Error(`the page did not finish: ${errors.join('; ')}`); });
      const result = await page.evaluate(() => (window as unknown as { __result: PageResult }).__result);
      expect(errors).toEqual([]);
      expect(result.crossOriginIsolated).toBe(true);
      const total = readdirSync(CONFORMANCE).filter((f) => f.endsWith('.data')).length;
      for (const [engine, r] of Object.entries(result.conformance)) {
        expect({ engine, failed: r.failed }).toEqual({ engine, failed: [] });
        expect(r.passed).toBe(total);
      }
      expect(Object.keys(result.conformance)).toEqual(['interp', 'jit']);
      const collection = loadCollection(parseObject(new Uint8Array(readFileSync(join(ROOT, 'examples/proto_count.o'))), { name: 'proto_count.o' }));
      const node = collection.run(collection.program(), { dataIn: new Uint8Array(readFileSync(join(ROOT, 'examples/inputs/ipv4_tcp_syn.bin'))), repeat: 3 });
      expect(result.example).toEqual({ retval: node.retval, dataOut: toHex(node.dataOut), maps: dumpMaps(collection) });
      console.log(`browser: ${total} conformance files pass on interp and jit in Chromium; proto_count.o gives Node's results`);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
