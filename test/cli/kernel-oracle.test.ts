/**
 * `tsbpf kernel-oracle`: JSON requests on stdin, JSON replies on stdout
 * (one request, a batch, or JSON lines with `serve`).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';

function oracle(args: string[], input: string): { status: number; replies: unknown[] } {
  const r = spawnSync(process.execPath, [CLI, 'kernel-oracle', ...args], { input, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, replies: r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) };
}

const probe = oracle(['probe'], '').replies[0] as { ok: boolean; bpf?: boolean; reason?: string };
if (!probe.bpf) console.log(`tsbpf kernel-oracle: kernel checks skipped: ${probe.reason}`);

describe('tsbpf kernel-oracle', () => {
  it('probes, and answers bad input with ok:false and exit 0', () => {
    expect(probe.ok).toBe(true);
    expect(oracle([], '')).toEqual({ status: 0, replies: [{ ok: false, error: 'empty request on stdin (try: tsbpf kernel-oracle probe)', stage: 'input' }] });
    const bad = oracle([], 'not json');
    expect(bad.status).toBe(0);
    expect(bad.replies[0]).toMatchObject({ ok: false, stage: 'input', error: expect.stringMatching(/^request is not valid JSON/) });
  });

  it.skipIf(!probe.bpf)('answers a request, a batch, and JSON lines', () => {
    const verify = { cmd: 'verify', prog_type: 'xdp', insns: 'b7000000020000009500000000000000' };
    expect(oracle([], JSON.stringify(verify)).replies).toEqual([expect.objectContaining({ ok: true, accepted: true, insn_processed: 2 })]);
    expect((oracle([], JSON.stringify([verify, { cmd: 'probe' }])).replies[0] as unknown[]).length).toBe(2);
    const served = oracle(['serve'], `${JSON.stringify(verify)}\n\n${JSON.stringify({ ...verify, insns: '9500000000000000' })}\n`);
    expect(served.replies).toEqual([
      expect.objectContaining({ ok: true, accepted: true }),
      expect.objectContaining({ ok: true, accepted: false, errno_name: 'EACCES' }),
    ]);
  });
});
