/**
 * Asks the running kernel which context offsets each program type may read
 * and write, with which access sizes, and what type a read produces, and
 * writes src/verifier/ctx-access.ts. Run as root:
 * `npx tsx scripts/probe-verifier-ctx.ts`.
 *
 * Each probe is `r2 = *(uN *)(r1 + off)` (read) or `r2 = 0; *(uN *)(r1 +
 * off) = r2` (write), then `r0 = 1; exit`, at log level 2; the log's
 * state after the load gives the type of a pointer-valued field.
 *
 * Some types check the context against the expected attach type
 * (`sock_addr_is_valid_access`, `__sock_filter_check_attach_type`,
 * `cg_sockopt_is_valid_access`, `xdp_is_valid_access`): `VARIANTS` are probed
 * too, and a variant whose table differs from its type's is written as
 * `type/attach_type` (prog-types.ts picks it for that attach type).
 */
import { writeFileSync } from 'node:fs';
import { ask, kernelAvailable } from '../test/support/kernel-oracle.js';

const TYPES: { name: string; attach?: string; flags?: string[] }[] = [
  { name: 'socket_filter' }, { name: 'kprobe' }, { name: 'sched_cls' }, { name: 'sched_act' }, { name: 'tracepoint' },
  { name: 'xdp' }, { name: 'perf_event' }, { name: 'cgroup_skb', attach: 'cgroup_inet_ingress' },
  { name: 'cgroup_sock', attach: 'cgroup_inet_sock_create' }, { name: 'lwt_in' }, { name: 'lwt_out' }, { name: 'lwt_xmit' },
  { name: 'sock_ops' }, { name: 'sk_skb' }, { name: 'cgroup_device' }, { name: 'sk_msg' }, { name: 'raw_tracepoint' },
  { name: 'cgroup_sock_addr', attach: 'cgroup_inet4_connect' }, { name: 'lwt_seg6local' }, { name: 'sk_reuseport' },
  { name: 'flow_dissector' }, { name: 'cgroup_sysctl' }, { name: 'raw_tracepoint_writable' },
  { name: 'cgroup_sockopt', attach: 'cgroup_getsockopt' }, { name: 'sk_lookup', attach: 'sk_lookup' },
  { name: 'syscall', flags: ['sleepable'] }, { name: 'netfilter', attach: 'netfilter' },
];
/** Attach types probed besides each type's own (only those whose table differs are kept). */
const VARIANTS: Record<string, string[]> = {
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
const MAX_OFF = 264;
const SIZES = [1, 2, 4, 8] as const;
const SIZE_CODE: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };

function insn(code: number, dst: number, src: number, off: number, imm: number): string {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b.toString('hex');
}
// r0 = 1: inside every probed type's return range (recvmsg, getpeername and getsockname need exactly 1)
const EXIT = insn(0xb7, 0, 0, 0, 1) + insn(0x95, 0, 0, 0, 0);

const probe = kernelAvailable();
if (!probe.ok) {
  console.error(probe.reason);
  process.exit(1);
}

interface TypeTable { read: Record<number, number[]>; write: Record<number, number[]>; ptr: Record<string, string> }
const result: Record<string, TypeTable> = {};
const PROBES: { key: string; base?: string; name: string; attach?: string; flags?: string[] }[] = [];
for (const t of TYPES) {
  PROBES.push({ key: t.name, ...t });
  for (const a of VARIANTS[t.name] ?? []) PROBES.push({ key: `${t.name}/${a}`, base: t.name, name: t.name, attach: a, ...(t.flags ? { flags: t.flags } : {}) });
}
for (const t of PROBES) {
  const reqs = [];
  const keys: { kind: 'read' | 'write'; size: number; off: number }[] = [];
  for (const size of SIZES) {
    for (let off = 0; off < MAX_OFF; off++) {
      const common = { cmd: 'verify' as const, prog_type: t.name, log_level: 2, ...(t.attach ? { expected_attach_type: t.attach } : {}), ...(t.flags ? { prog_flags: t.flags } : {}) };
      reqs.push({ ...common, insns: insn(0x61 | SIZE_CODE[size]!, 2, 1, off, 0) + EXIT });
      keys.push({ kind: 'read', size, off });
      reqs.push({ ...common, insns: insn(0xb7, 2, 0, 0, 0) + insn(0x63 | SIZE_CODE[size]!, 1, 2, off, 0) + EXIT });
      keys.push({ kind: 'write', size, off });
    }
  }
  const replies = ask(reqs);
  const table: TypeTable = { read: {}, write: {}, ptr: {} };
  replies.forEach((r, i) => {
    const k = keys[i]!;
    if (!r.ok) throw new Error(`${t.name}: ${r.error}`);
    if (!r.accepted) return;
    (table[k.kind][k.size] ??= []).push(k.off);
    if (k.kind === 'read') {
      const m = /^0: \(\w\w\) r2 = [^;]*; (?:R1=ctx\(\) )?R2=(\S+)/m.exec(String(r.log));
      const type = m ? m[1]!.replace(/\(.*$/, '') : 'scalar';
      if (!/^(scalar|P?-?\d+)$/.test(type)) table.ptr[`${k.off}:${k.size}`] = type;
    }
  });
  if (t.base !== undefined && JSON.stringify(table) === JSON.stringify(result[t.base])) {
    console.log(`${t.key}: same as ${t.base}`);
    continue;
  }
  result[t.key] = table;
  console.log(`${t.key}: read ${Object.values(table.read).flat().length}, write ${Object.values(table.write).flat().length}, ptr ${JSON.stringify(table.ptr)}`);
}

/** Offsets as compact ranges "a-b,c". */
function ranges(offs: number[] | undefined): string {
  if (!offs || offs.length === 0) return '';
  const out: string[] = [];
  let start = offs[0]!;
  let prev = start;
  for (const o of [...offs.slice(1), -1]) {
    if (o === prev + 1) {
      prev = o;
      continue;
    }
    out.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = o;
    prev = o;
  }
  return out.join(',');
}

let text = `/**
 * Context access rules per program type, as the running Linux kernel (6.18)
 * answered for a privileged loader: for each access size, the offsets a
 * load (read) or store (write) may use, and the pointer type some fields
 * load as (everything else loads as a scalar). Offsets are probed up to
 * ${MAX_OFF}; larger offsets follow \`CTX_LIMITS\` in prog-types.ts. A key
 * \`type/attach_type\` holds a type's table for that expected attach type
 * where it differs from the type's own.
 * Generated by scripts/probe-verifier-ctx.ts; do not edit.
 */

/** Ranges "a-b,c" of valid offsets by access size. */
export interface CtxAccessTable {
  read: Readonly<Record<number, string>>;
  write: Readonly<Record<number, string>>;
  /** "off:size" -> loaded register type name (pkt, pkt_end, sock_common_or_null, ...). */
  ptr: Readonly<Record<string, string>>;
}

export const CTX_PROBE_LIMIT = ${MAX_OFF};

export const CTX_ACCESS: Readonly<Record<string, CtxAccessTable>> = {\n`;
for (const [name, tb] of Object.entries(result)) {
  const r = SIZES.map((s) => `${s}: '${ranges(tb.read[s])}'`).join(', ');
  const w = SIZES.map((s) => `${s}: '${ranges(tb.write[s])}'`).join(', ');
  text += `  ${name.includes('/') ? `'${name}'` : name}: {\n    read: { ${r} },\n    write: { ${w} },\n    ptr: ${JSON.stringify(tb.ptr).replace(/"/g, "'")},\n  },\n`;
}
text += `};\n`;
writeFileSync(new URL('../src/verifier/ctx-access.ts', import.meta.url), text);
console.log('wrote src/verifier/ctx-access.ts');
