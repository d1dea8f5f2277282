/**
 * Client of ../shared/tools/kernel_oracle.py, the running Linux kernel as an
 * oracle (verifier verdicts and BPF_PROG_TEST_RUN). Requests go in batches
 * through one python process; `available()` says whether the machine can
 * load BPF at all, with a reason when it cannot.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of the oracle script, beside the repository. */
export const ORACLE_PATH = fileURLToPath(new URL('../../../shared/tools/kernel_oracle.py', import.meta.url));

/** A request (see the script's header for every field). */
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
  [key: string]: unknown;
}

/** A reply; fields depend on the command. */
export interface OracleReply {
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
  results?: { retval: number; duration_ns: number; data_out?: string }[];
  maps?: unknown[];
  [key: string]: unknown;
}

let probeResult: { ok: true } | { ok: false; reason: string } | null = null;

/** Sends a batch of requests; one reply per request, in order. */
export function ask(requests: readonly OracleRequest[]): OracleReply[] {
  const result = spawnSync('python3', [ORACLE_PATH], {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: 600_000,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`kernel_oracle.py exited ${result.status}: ${result.stderr}`);
  const replies = JSON.parse(result.stdout) as OracleReply[] | OracleReply;
  return Array.isArray(replies) ? replies : [replies];
}

/** Whether the kernel can load and test-run BPF here; `reason` says why not. */
export function kernelAvailable(): { ok: true } | { ok: false; reason: string } {
  if (probeResult) return probeResult;
  if (!existsSync(ORACLE_PATH)) {
    probeResult = { ok: false, reason: `kernel oracle not found at ${ORACLE_PATH}` };
    return probeResult;
  }
  try {
    const [reply] = ask([{ cmd: 'probe' }]);
    probeResult = reply && reply.ok && reply.bpf && reply['test_run']
      ? { ok: true }
      : { ok: false, reason: `the kernel cannot load BPF here: ${reply?.reason ?? reply?.error ?? 'probe failed'}` };
  } catch (err) {
    probeResult = { ok: false, reason: `kernel oracle failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  return probeResult;
}

/** Hex of bytes, as the oracle expects. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
