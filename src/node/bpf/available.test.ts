/**
 * The backend loads lazily: on a machine where koffi cannot be loaded,
 * importing tsbpf (and the backend itself) still works, `available()` says
 * why bpf(2) cannot be used, and the kernel oracle answers with that reason
 * instead of throwing. Simulated in a child process whose module resolution
 * refuses `koffi`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../', import.meta.url));

describe('bpf(2) backend without koffi', () => {
  it('imports cleanly and explains why bpf(2) is unavailable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-nokoffi-'));
    try {
      const block = join(dir, 'block-koffi.cjs');
      writeFileSync(block, `
        const Module = require('node:module');
        const resolve = Module._resolveFilename;
        Module._resolveFilename = function (request, ...rest) {
          if (request === 'koffi') { const e = new Error("Cannot find module 'koffi'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
          return resolve.call(this, request, ...rest);
        };`);
      const script = `
        const tsbpf = await import(${JSON.stringify(join(SRC, 'index.ts'))});
        const bpf = await import(${JSON.stringify(join(SRC, 'node/bpf/index.ts'))});
        const oracle = await import(${JSON.stringify(join(SRC, 'node/kernel-oracle/index.ts'))});
        console.log(JSON.stringify({
          core: typeof tsbpf.assemble,
          available: bpf.available(),
          probe: oracle.ask([{ cmd: 'probe' }])[0],
          verify: oracle.ask([{ cmd: 'verify', prog_type: 'xdp', insns: 'b7000000020000009500000000000000' }])[0],
        }));`;
      const r = spawnSync(process.execPath, ['--require', block, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: join(SRC, '..') });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { core: string; available: { ok: boolean; reason?: string }; probe: Record<string, unknown>; verify: Record<string, unknown> };
      expect(out.core).toBe('function');
      expect(out.available.ok).toBe(false);
      expect(out.available.reason).toMatch(/koffi cannot be loaded/);
      expect(out.probe).toMatchObject({ ok: true, bpf: false, reason: out.available.reason });
      expect(out.verify).toMatchObject({ ok: false, stage: 'bpf', error: out.available.reason });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
