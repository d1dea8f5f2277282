/**
 * The running Linux kernel as an oracle (verifier verdicts and
 * BPF_PROG_TEST_RUN) for tests, scripts and the bench: the project's own
 * kernel oracle (src/node/kernel-oracle, docs/testing.md), called
 * in-process. `kernelAvailable()` says whether the machine can load and
 * test-run BPF at all, with a reason when it cannot.
 *
 * With `TSBPF_ORACLE_RECORD=FILE` in the environment, every request is also
 * appended to FILE as a JSON line (scripts/compare-kernel-oracles.ts replays
 * them).
 */
import { appendFileSync } from 'node:fs';
import { ask as askOracle } from '../../src/node/kernel-oracle/index.js';
import type { OracleReply as Reply } from '../../src/node/kernel-oracle/index.js';
import { missingKernelFeature } from './kernel-features.js';

/** A request (docs/testing.md lists every field). */
export interface OracleRequest {
  cmd: 'probe' | 'verify' | 'run';
  prog_type?: string;
  insns?: string;
  data_in?: string;
  ctx_in?: string;
  repeat?: number;
  log_level?: number;
  license?: string;
  maps?: unknown[];
  map_init?: unknown[];
  inputs?: { data_in?: string; ctx_in?: string; repeat?: number }[];
  /** 'bpf': loaded with CAP_BPF but without CAP_PERFMON/CAP_SYS_ADMIN (pointer-leak checks on). */
  caps?: 'bpf';
  [key: string]: unknown;
}

/** A reply; fields depend on the command. */
export interface OracleReply extends Reply {
  ok: boolean;
  error?: string;
  accepted?: boolean;
  log?: string;
  retval?: number;
  duration_ns?: number;
  data_out?: string;
  insn_processed?: number | null;
  bpf?: boolean;
  reason?: string;
  maps?: Reply['maps'];
  [key: string]: unknown;
}

let probeResult: { ok: true } | { ok: false; reason: string } | null = null;

/** Sends a batch of requests; one reply per request, in order. */
export function ask(requests: readonly OracleRequest[]): OracleReply[] {
  const record = process.env['TSBPF_ORACLE_RECORD'];
  if (record) appendFileSync(record, requests.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return askOracle(requests) as OracleReply[];
}

/** Whether the kernel can load and test-run BPF here; `reason` says why not. */
export function kernelAvailable(): { ok: true } | { ok: false; reason: string } {
  if (probeResult) return probeResult;
  const [reply] = ask([{ cmd: 'probe' }]);
  probeResult = reply && reply.ok && reply.bpf && reply['test_run']
    ? { ok: true }
    : { ok: false, reason: `the kernel cannot load BPF here: ${reply?.reason ?? reply?.error ?? 'probe failed'}` };
  return probeResult;
}

/**
 * Whether the kernel refused `reply` for want of a feature this kernel
 * build lacks (support/kernel-features.ts); if so, says which, for the
 * case `name`, and the comparing test skips that case.
 */
export function kernelLacksFeature(name: string, reply: OracleReply): boolean {
  if (reply.ok && reply.accepted !== false) return false;
  const lacks = missingKernelFeature(`${reply.error ?? ''}\n${reply.log ?? ''}`);
  if (lacks === undefined) return false;
  console.log(`${name}: not compared: ${lacks}`);
  return true;
}

/** Hex of bytes, as the oracle expects. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
