/**
 * The kernel oracle in a network namespace of its own, set up by shell
 * commands (`ip link`, `ip route`, sysctls): a child process runs
 * `unshare -n sh -c '<setup>; exec node dist/cli/main.js kernel-oracle
 * serve'` on CPU 0, so programs meet exactly the devices and routes the
 * commands made. Needs root, `unshare` and the built CLI (the tests'
 * global setup builds dist/).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { OracleReply, OracleRequest } from './kernel-oracle.js';

/** Whether a namespace can be made here; `reason` says why not. */
export function netnsAvailable(): { ok: true } | { ok: false; reason: string } {
  if (!existsSync('dist/cli/main.js')) return { ok: false, reason: 'dist/cli/main.js is not built' };
  const r = spawnSync('unshare', ['-n', 'ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true } : { ok: false, reason: `cannot make a network namespace with a veth pair: ${(r.stderr || r.error?.message || '').trim()}` };
}

/** Answers `requests` in a fresh namespace set up by `setup` (shell commands, run in order). */
export function askInNetns(setup: readonly string[], requests: readonly OracleRequest[]): OracleReply[] {
  const script = `set -e\n${setup.join('\n')}\nexec ${process.execPath} dist/cli/main.js kernel-oracle serve`;
  const r = spawnSync('taskset', ['-c', '0', 'unshare', '-n', 'sh', '-c', script], {
    input: requests.map((q) => JSON.stringify(q)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`namespace oracle failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== requests.length) throw new Error(`namespace oracle answered ${lines.length} of ${requests.length} requests: ${r.stderr}`);
  return lines.map((l) => JSON.parse(l) as OracleReply);
}
