/**
 * Asks the running kernel which program types may call the kfuncs tsbpf's
 * verifier models (src/verifier/kfuncs.ts): for each kfunc and program
 * type, `r1..r5 = 0; call kfunc; r0 = 0; exit`; "calling kernel function X
 * is not allowed" means the type's kfunc sets do not hold it. Prints the
 * table kfuncs.ts keeps as KFUNC_PROG_TYPES. Run as root:
 * `npx tsx scripts/probe-verifier-kfuncs.ts`.
 */
import { readFileSync } from 'node:fs';
import { ask, kernelAvailable } from '../test/support/kernel-oracle.js';
import { parseBtf } from '../src/loader/btf.js';
import { KFUNC_NAMES } from '../src/verifier/kfuncs.js';

const probe = kernelAvailable();
if (!probe.ok) {
  console.error(probe.reason);
  process.exit(1);
}
const btf = parseBtf(readFileSync('/sys/kernel/btf/vmlinux'), { name: 'vmlinux' });
const id = (name: string, kind: string): number => btf.idsByName(name).find((i) => btf.typeById(i).kind === kind) ?? -1;

function insn(code: number, dst: number, src: number, off: number, imm: number): string {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b.toString('hex');
}

/** Program types (with what they need to load) the table covers. */
const TYPES: [string, Record<string, unknown>][] = [
  ['socket_filter', {}], ['kprobe', {}], ['sched_cls', {}], ['sched_act', {}], ['tracepoint', {}], ['xdp', {}],
  ['perf_event', {}], ['cgroup_skb', { expected_attach_type: 'cgroup_inet_ingress' }], ['cgroup_sock', { expected_attach_type: 'cgroup_inet_sock_create' }],
  ['lwt_in', {}], ['sock_ops', {}], ['sk_skb', {}], ['cgroup_device', {}], ['sk_msg', {}], ['raw_tracepoint', {}],
  ['cgroup_sock_addr', { expected_attach_type: 'cgroup_inet4_connect' }], ['sk_reuseport', {}], ['flow_dissector', {}],
  ['cgroup_sysctl', {}], ['cgroup_sockopt', { expected_attach_type: 'cgroup_getsockopt' }],
  ['tracing', { expected_attach_type: 'trace_raw_tp', attach_btf_id: id('btf_trace_sched_wakeup', 'TYPEDEF') }],
  ['sk_lookup', { expected_attach_type: 'sk_lookup' }], ['syscall', { prog_flags: ['sleepable'] }], ['netfilter', { expected_attach_type: 'netfilter' }],
  // a congestion control's ssthresh (member 0 of struct tcp_congestion_ops)
  ['struct_ops', { attach_btf_id: id('tcp_congestion_ops', 'STRUCT'), expected_attach_type: 0 }],
];

const lines: string[] = [];
for (const name of KFUNC_NAMES) {
  const fid = id(name, 'FUNC');
  if (fid < 0) {
    console.error(`${name}: not in the kernel BTF`);
    continue;
  }
  let insns = '';
  for (let r = 1; r <= 5; r++) insns += insn(0xb7, r, 0, 0, 0);
  insns += insn(0x85, 0, 2, 0, fid) + insn(0xb7, 0, 0, 0, 0) + insn(0x95, 0, 0, 0, 0);
  const replies = ask(TYPES.map(([t, extra]) => ({ cmd: 'verify' as const, prog_type: t, insns, log_level: 1, ...extra })));
  const allowed = TYPES.filter((_, i) => {
    const log = String(replies[i]!.log ?? '');
    if (!log) throw new Error(`${name} ${TYPES[i]![0]}: ${replies[i]!.error}`);
    return !log.includes('is not allowed');
  }).map(([t]) => `'${t}'`);
  lines.push(`  ${name}: [${allowed.join(', ')}],`);
}
console.log(lines.join('\n'));
