/**
 * The kernel oracle as a loader with CAP_BPF but without CAP_PERFMON and
 * CAP_SYS_ADMIN (so `allow_ptr_leaks` is off): the oracle runs under
 * `setpriv`, which drops those capabilities.
 */
import { spawnSync } from 'node:child_process';
import { ORACLE_PATH, ask, type OracleReply, type OracleRequest } from '../../support/kernel-oracle.js';

/** Asks the oracle, with `caps: 'bpf'` requests run without CAP_PERFMON/CAP_SYS_ADMIN. */
export function askCaps(requests: readonly (OracleRequest & { caps?: 'bpf' })[]): OracleReply[] {
  const out: OracleReply[] = new Array<OracleReply>(requests.length);
  const plain = requests.map((r, i) => [r, i] as const).filter(([r]) => r.caps !== 'bpf');
  const reduced = requests.map((r, i) => [r, i] as const).filter(([r]) => r.caps === 'bpf');
  if (plain.length) ask(plain.map(([r]) => r)).forEach((reply, j) => { out[plain[j]![1]] = reply; });
  if (reduced.length) {
    const res = spawnSync('setpriv', ['--inh-caps=-sys_admin,-perfmon', '--bounding-set=-sys_admin,-perfmon', 'python3', ORACLE_PATH], {
      input: JSON.stringify(reduced.map(([r]) => { const { caps: _caps, ...rest } = r; return rest; })),
      encoding: 'utf8', maxBuffer: 1 << 30,
    });
    if (res.status !== 0) throw new Error(`kernel_oracle.py under setpriv failed: ${res.stderr}`);
    const replies = JSON.parse(res.stdout) as OracleReply[] | OracleReply;
    (Array.isArray(replies) ? replies : [replies]).forEach((reply, j) => { out[reduced[j]![1]] = reply; });
  }
  return out;
}
