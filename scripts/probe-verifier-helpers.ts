/**
 * Asks the running kernel which helpers each program type may call and
 * which of them are GPL-only, and writes src/isa/helper-availability.ts.
 * Run as root: `npx tsx scripts/probe-verifier-helpers.ts`.
 *
 * For each program type and helper id it loads `r1..r5 = 0; call id; r0 = 0;
 * exit` twice (GPL, then a proprietary license): "program of this type cannot
 * use helper" means not available; "cannot call GPL-restricted function"
 * under the proprietary license means GPL-only.
 *
 * Some types offer helpers by expected attach type (`bpf_bind` only to
 * connect programs, `bpf_set_retval` not to recvmsg/getpeername/getsockname
 * ones, ...): `VARIANTS` are probed too, and a variant whose lists differ
 * from its type's is written as `type/attach_type`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ask, kernelAvailable } from '../test/support/kernel-oracle.js';
import { HELPER_NAMES } from '../src/isa/helper-ids.js';
import { parseBtf } from '../src/loader/btf.js';

/**
 * Tracing programs need an attach point (attach_btf_id in the running
 * kernel's BTF): `btf` names it. fentry/fexit/fmod_ret/LSM programs cannot
 * be loaded on every machine (trampolines); their lists are derived from
 * these in helper-availability's users (tracing_prog_func_proto differs
 * from the raw tracepoint one only by trampoline and iterator helpers).
 */
const TYPES: { name: string; id: number; attach?: string | number; flags?: string[]; btf?: [string, string] }[] = [
  { name: 'socket_filter', id: 1 }, { name: 'kprobe', id: 2 }, { name: 'sched_cls', id: 3 }, { name: 'sched_act', id: 4 },
  { name: 'tracepoint', id: 5 }, { name: 'xdp', id: 6 }, { name: 'perf_event', id: 7 },
  { name: 'cgroup_skb', id: 8, attach: 'cgroup_inet_ingress' }, { name: 'cgroup_sock', id: 9, attach: 'cgroup_inet_sock_create' },
  { name: 'lwt_in', id: 10 }, { name: 'lwt_out', id: 11 }, { name: 'lwt_xmit', id: 12 }, { name: 'sock_ops', id: 13 },
  { name: 'sk_skb', id: 14 }, { name: 'cgroup_device', id: 15, attach: 'cgroup_device' }, { name: 'sk_msg', id: 16 }, { name: 'raw_tracepoint', id: 17 },
  { name: 'cgroup_sock_addr', id: 18, attach: 'cgroup_inet4_connect' }, { name: 'lwt_seg6local', id: 19 },
  { name: 'sk_reuseport', id: 21 }, { name: 'flow_dissector', id: 22 },
  { name: 'cgroup_sysctl', id: 23, attach: 'cgroup_sysctl' }, { name: 'raw_tracepoint_writable', id: 24 },
  { name: 'cgroup_sockopt', id: 25, attach: 'cgroup_getsockopt' }, { name: 'sk_lookup', id: 30, attach: 'sk_lookup' },
  { name: 'syscall', id: 31, flags: ['sleepable'] }, { name: 'netfilter', id: 32, attach: 'netfilter' },
  { name: 'tracing', id: 26, attach: 'trace_raw_tp', btf: ['btf_trace_sched_wakeup', 'TYPEDEF'] },
  // a congestion control's ssthresh (member 0 of struct tcp_congestion_ops); struct_ops programs must be GPL
  { name: 'struct_ops', id: 27, attach: 0, btf: ['tcp_congestion_ops', 'STRUCT'] },
];

/** Iterator targets probed besides tracing/trace_iter (task): their own helpers (`bpf_iter_reg.get_func_proto`). */
const ITER_TARGETS = ['task', 'tcp', 'udp', 'unix', 'bpf_sk_storage_map', 'sockmap', 'bpf_map_elem', 'ipv6_route', 'netlink'];

/** Attach types probed besides each type's own (only those whose lists differ are kept). */
const VARIANTS: Record<string, string[]> = {
  kprobe: ['trace_kprobe_multi', 'trace_kprobe_session', 'trace_uprobe_multi'],
  cgroup_skb: ['cgroup_inet_egress'],
  cgroup_sock: ['cgroup_inet_sock_release', 'cgroup_inet4_post_bind', 'cgroup_inet6_post_bind'],
  cgroup_sock_addr: [
    'cgroup_inet4_bind', 'cgroup_inet6_bind', 'cgroup_inet6_connect', 'cgroup_udp4_sendmsg', 'cgroup_udp6_sendmsg',
    'cgroup_udp4_recvmsg', 'cgroup_udp6_recvmsg', 'cgroup_inet4_getpeername', 'cgroup_inet6_getpeername',
    'cgroup_inet4_getsockname', 'cgroup_inet6_getsockname', 'cgroup_unix_connect', 'cgroup_unix_sendmsg',
    'cgroup_unix_recvmsg', 'cgroup_unix_getpeername', 'cgroup_unix_getsockname',
  ],
  cgroup_sockopt: ['cgroup_setsockopt'],
  xdp: ['xdp', 'xdp_devmap', 'xdp_cpumap'],
  sched_cls: ['tcx_ingress', 'tcx_egress', 'netkit_primary', 'netkit_peer'],
  sk_skb: ['sk_skb_stream_parser', 'sk_skb_stream_verdict', 'sk_skb_verdict'],
  sk_reuseport: ['sk_reuseport_select', 'sk_reuseport_select_or_migrate'],
};

const vmlinux = parseBtf(readFileSync('/sys/kernel/btf/vmlinux'), { name: 'vmlinux' });
function btfId(name: string, kind: string): number {
  const id = vmlinux.idsByName(name).find((i) => vmlinux.typeById(i).kind === kind);
  if (id === undefined) throw new Error(`${kind} ${name} is not in /sys/kernel/btf/vmlinux`);
  return id;
}

function hexInsn(code: number, dst: number, src: number, off: number, imm: number): string {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b.toString('hex');
}

const probe = kernelAvailable();
if (!probe.ok) {
  console.error(probe.reason);
  process.exit(1);
}
const out: Record<string, { allowed: number[]; gpl: number[] }> = {};
const PROBES: { key: string; base?: string; name: string; attach?: string | number; flags?: string[]; btf?: [string, string] }[] = [];
for (const t of TYPES) {
  PROBES.push({ key: t.name, ...t });
  for (const a of VARIANTS[t.name] ?? []) PROBES.push({ key: `${t.name}/${a}`, base: t.name, name: t.name, attach: a, ...(t.flags ? { flags: t.flags } : {}) });
}
for (const target of ITER_TARGETS) {
  PROBES.push({
    key: target === 'task' ? 'tracing/trace_iter' : `tracing/trace_iter/${target}`, ...(target === 'task' ? {} : { base: 'tracing/trace_iter' }),
    name: 'tracing', attach: 'trace_iter', btf: [`bpf_iter_${target}`, 'FUNC'],
  });
}
for (const t of PROBES) {
  const reqs = [];
  for (let id = 1; id < HELPER_NAMES.length; id++) {
    let insns = '';
    for (let r = 1; r <= 5; r++) insns += hexInsn(0xb7, r, 0, 0, 0);
    // r0 = 1 at exit: inside every probed type's return range (recvmsg and friends need exactly 1)
    insns += hexInsn(0x85, 0, 0, 0, id) + hexInsn(0xb7, 0, 0, 0, 1) + hexInsn(0x95, 0, 0, 0, 0);
    for (const license of ['GPL', 'Proprietary']) {
      reqs.push({
        cmd: 'verify' as const, prog_type: t.name, insns, license, log_level: 1, ...(t.attach !== undefined ? { expected_attach_type: t.attach } : {}),
        ...(t.flags ? { prog_flags: t.flags } : {}), ...(t.btf ? { attach_btf_id: btfId(t.btf[0], t.btf[1]) } : {}),
      });
    }
  }
  const replies = ask(reqs);
  if (t.btf && replies.every((r) => !/cannot use helper|invalid func| call /.test(String(r.log ?? '')))) {
    console.log(`${t.key}: the kernel refuses the attach point, skipped`);
    continue;
  }
  const allowed: number[] = [];
  const gpl: number[] = [];
  for (let id = 1; id < HELPER_NAMES.length; id++) {
    const g = replies[(id - 1) * 2]!;
    const p = replies[(id - 1) * 2 + 1]!;
    const glog = String(g.log ?? '');
    if (!g.ok || !glog) throw new Error(`${t.name} helper ${id}: ${g.error}`);
    if (glog.includes('program of this type cannot use helper') || glog.includes('unknown func') || glog.includes('invalid func')) continue;
    allowed.push(id);
    if (String(p.log ?? '').includes('cannot call GPL-restricted function')) gpl.push(id);
  }
  if (t.base !== undefined && JSON.stringify({ allowed, gpl }) === JSON.stringify(out[t.base])) {
    console.log(`${t.key}: same as ${t.base}`);
    continue;
  }
  out[t.key] = { allowed, gpl };
  console.log(`${t.key}: ${allowed.length} helpers, ${gpl.length} GPL-only`);
}
let text = `/**
 * Which helpers each program type may call, as the running Linux kernel
 * (6.18) answered (\`func_proto\` per program type, for a privileged loader).
 * A key \`type/attach_type\` holds the lists for that expected attach type
 * where they differ from the type's own (\`tracing/trace_iter/TARGET\`: an
 * iterator target's; tracing programs are probed attached to
 * sched_wakeup and to the task iterator).
 * Generated by scripts/probe-verifier-helpers.ts; do not edit.
 */

/** Helper ids allowed per program type name. */
export const HELPERS_BY_TYPE: Readonly<Record<string, readonly number[]>> = {\n`;
const key = (k: string): string => (k.includes('/') ? `'${k}'` : k);
for (const [k, v] of Object.entries(out)) text += `  ${key(k)}: [${v.allowed.join(', ')}],\n`;
text += `};\n\n/** Helpers a program of the type may call only with a GPL-compatible license. */\nexport const GPL_ONLY_BY_TYPE: Readonly<Record<string, readonly number[]>> = {\n`;
for (const [k, v] of Object.entries(out)) text += `  ${key(k)}: [${v.gpl.join(', ')}],\n`;
text += `};\n`;
writeFileSync(new URL('../src/isa/helper-availability.ts', import.meta.url), text);
console.log('wrote src/isa/helper-availability.ts');
