/**
 * Program types as the verifier sees them: context access rules (measured
 * on the kernel, see ctx-access.ts), which helpers are available, whether
 * packets can be read or written directly, legacy packet loads, and the
 * return value range `check_return_code` enforces.
 */
import type { CtxAccessTable } from './ctx-access.js';
import { CTX_ACCESS, CTX_PROBE_LIMIT } from './ctx-access.js';
import { GPL_ONLY_BY_TYPE, HELPERS_BY_TYPE } from './helper-availability.js';
import { F, T } from './reg.js';

/** `enum bpf_prog_type` names by id. */
export const PROG_TYPE_NAMES: readonly string[] = [
  'unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb',
  'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device', 'sk_msg', 'raw_tracepoint',
  'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport', 'flow_dissector', 'cgroup_sysctl',
  'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops', 'ext', 'lsm', 'sk_lookup', 'syscall', 'netfilter',
];

/** `enum bpf_attach_type` names by id. */
export const ATTACH_TYPE_NAMES: readonly string[] = [
  'cgroup_inet_ingress', 'cgroup_inet_egress', 'cgroup_inet_sock_create', 'cgroup_sock_ops', 'sk_skb_stream_parser',
  'sk_skb_stream_verdict', 'cgroup_device', 'sk_msg_verdict', 'cgroup_inet4_bind', 'cgroup_inet6_bind',
  'cgroup_inet4_connect', 'cgroup_inet6_connect', 'cgroup_inet4_post_bind', 'cgroup_inet6_post_bind',
  'cgroup_udp4_sendmsg', 'cgroup_udp6_sendmsg', 'lirc_mode2', 'flow_dissector', 'cgroup_sysctl', 'cgroup_udp4_recvmsg',
  'cgroup_udp6_recvmsg', 'cgroup_getsockopt', 'cgroup_setsockopt', 'trace_raw_tp', 'trace_fentry', 'trace_fexit',
  'modify_return', 'lsm_mac', 'trace_iter', 'cgroup_inet4_getpeername', 'cgroup_inet6_getpeername',
  'cgroup_inet4_getsockname', 'cgroup_inet6_getsockname', 'xdp_devmap', 'cgroup_inet_sock_release', 'xdp_cpumap',
  'sk_lookup', 'xdp', 'sk_skb_verdict', 'sk_reuseport_select', 'sk_reuseport_select_or_migrate', 'perf_event',
  'trace_kprobe_multi', 'lsm_cgroup', 'struct_ops', 'netfilter', 'tcx_ingress', 'tcx_egress', 'trace_uprobe_multi',
  'cgroup_unix_connect', 'cgroup_unix_sendmsg', 'cgroup_unix_recvmsg', 'cgroup_unix_getpeername',
  'cgroup_unix_getsockname', 'netkit_primary', 'netkit_peer', 'trace_kprobe_session', 'trace_uprobe_session',
];

/** Program type ids used by the checks. */
export const PT = {
  SOCKET_FILTER: 1, KPROBE: 2, SCHED_CLS: 3, SCHED_ACT: 4, TRACEPOINT: 5, XDP: 6, PERF_EVENT: 7, CGROUP_SKB: 8,
  CGROUP_SOCK: 9, LWT_IN: 10, LWT_OUT: 11, LWT_XMIT: 12, SOCK_OPS: 13, SK_SKB: 14, CGROUP_DEVICE: 15, SK_MSG: 16,
  RAW_TRACEPOINT: 17, CGROUP_SOCK_ADDR: 18, LWT_SEG6LOCAL: 19, LIRC_MODE2: 20, SK_REUSEPORT: 21, FLOW_DISSECTOR: 22, CGROUP_SYSCTL: 23,
  RAW_TRACEPOINT_WRITABLE: 24, CGROUP_SOCKOPT: 25, TRACING: 26, STRUCT_OPS: 27, EXT: 28, LSM: 29, SK_LOOKUP: 30,
  SYSCALL: 31, NETFILTER: 32,
} as const;

/** Result of a context access check. */
export interface CtxAccessResult {
  ok: boolean;
  /** Register type a read loads (SCALAR for plain fields). */
  regType: number;
}

/** What the verifier needs to know about a program type. */
export interface ProgTypeInfo {
  id: number;
  name: string;
  /** Helper ids the type's func_proto returns. */
  helpers: ReadonlySet<number>;
  gplHelpers: ReadonlySet<number>;
  /** `may_access_direct_pkt_data`: none, read-only or read-write. */
  pkt: 'none' | 'ro' | 'rw';
  /** Legacy `ld_abs`/`ld_ind` allowed. */
  ldAbs: boolean;
  /** The type has a context conversion (false: helpers access ctx bytes directly, as for syscall). */
  convertCtx: boolean;
  /** Checks a context access. */
  ctxAccess(off: number, size: number, write: boolean): CtxAccessResult;
}

/** Parses "a-b,c" offset ranges (the generated access tables). */
export function parseRanges(s: string): Set<number> {
  const out = new Set<number>();
  if (!s) return out;
  for (const part of s.split(',')) {
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

const PTR_NAMES: Record<string, number> = {
  pkt: T.PACKET, pkt_end: T.PACKET_END, pkt_meta: T.PACKET_META, sock_common_or_null: T.SOCK_COMMON | F.MAYBE_NULL,
  sock_or_null: T.SOCKET | F.MAYBE_NULL, sock: T.SOCKET, flow_keys: T.FLOW_KEYS, tp_buffer: T.TP_BUFFER,
  trusted_ptr_nf_hook_state: T.BTF_ID | F.TRUSTED, trusted_ptr_sk_buff: T.BTF_ID | F.TRUSTED,
};

function tableAccess(table: CtxAccessTable, beyond: (off: number, size: number, write: boolean) => boolean) {
  const read = new Map<number, Set<number>>();
  const write = new Map<number, Set<number>>();
  for (const size of [1, 2, 4, 8]) {
    read.set(size, parseRanges(table.read[size] ?? ''));
    write.set(size, parseRanges(table.write[size] ?? ''));
  }
  return (off: number, size: number, isWrite: boolean): CtxAccessResult => {
    if (off + size > CTX_PROBE_LIMIT || off < 0) return { ok: beyond(off, size, isWrite), regType: T.SCALAR };
    const ok = (isWrite ? write : read).get(size)?.has(off) ?? false;
    const ptr = isWrite ? undefined : table.ptr[`${off}:${size}`];
    return { ok, regType: ptr !== undefined ? (PTR_NAMES[ptr] ?? T.SCALAR) : T.SCALAR };
  };
}

const never = (): boolean => false;

const PKT: Record<string, 'ro' | 'rw'> = {
  lwt_in: 'ro', lwt_out: 'ro', lwt_seg6local: 'ro', sk_reuseport: 'ro', flow_dissector: 'ro', cgroup_skb: 'ro',
  sched_cls: 'rw', sched_act: 'rw', xdp: 'rw', lwt_xmit: 'rw', sk_skb: 'rw', sk_msg: 'rw', cgroup_sockopt: 'rw',
};

const cache = new Map<string, ProgTypeInfo>();

/**
 * The verifier's view of program type `id` loaded with expected attach type
 * `attach` (unknown types: no context, no helpers). Some types check context
 * fields and offer helpers by attach type (`sock_addr_is_valid_access`,
 * `__sock_filter_check_attach_type`, `cg_sockopt_is_valid_access`,
 * `xdp_is_valid_access`, `sock_addr_func_proto`, ...): the probed tables keep
 * those under `type/attach_type`.
 */
export function progTypeInfo(id: number, attach = 0): ProgTypeInfo {
  const cacheKey = `${id}/${attach}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const name = PROG_TYPE_NAMES[id] ?? `type${id}`;
  const variant = `${name}/${ATTACH_TYPE_NAMES[attach] ?? attach}`;
  // BTF-typed programs (tracing, lsm): without the kernel's BTF tsbpf cannot
  // know the attach point's arguments; it treats the context as an array of
  // up to 12 u64 arguments (read-only scalars) and gives them the helpers of
  // raw tracepoints.
  const btfTyped = id === PT.TRACING || id === PT.LSM;
  const table = CTX_ACCESS[variant] ?? CTX_ACCESS[name];
  const helperKey = btfTyped ? 'raw_tracepoint' : HELPERS_BY_TYPE[variant] ? variant : name;
  let beyond: (off: number, size: number, write: boolean) => boolean = never;
  // tp_prog_is_valid_access compares the offset with sizeof(void *) unsigned: negative offsets pass
  // (measured); the run checks them, as every tracepoint access (see mem.ts)
  if (name === 'tracepoint') beyond = (off, size, w) => !w && (off >= 8 || off < 0) && off < 8192 && off % size === 0;
  if (name === 'syscall') beyond = (off, size) => off >= 0 && off < 0xffff && off % size === 0;
  const info: ProgTypeInfo = {
    id,
    name,
    helpers: new Set(HELPERS_BY_TYPE[helperKey] ?? []),
    gplHelpers: new Set(GPL_ONLY_BY_TYPE[helperKey] ?? []),
    pkt: PKT[name] ?? 'none',
    ldAbs: id === PT.SOCKET_FILTER || id === PT.SCHED_CLS || id === PT.SCHED_ACT,
    convertCtx: name !== 'syscall',
    ctxAccess: btfTyped
      ? (off, size, write) => ({ ok: !write && size === 8 && off >= 0 && off % 8 === 0 && off < 96, regType: T.SCALAR })
      : table ? tableAccess(table, beyond) : () => ({ ok: false, regType: T.SCALAR }),
  };
  cache.set(cacheKey, info);
  return info;
}

/** Return value range enforced at program exit, or null when any value is allowed. */
export function returnRange(progType: number, attach: number): { min: number; max: number; enforceTnum?: [number, number] } | null {
  switch (progType) {
    case PT.CGROUP_SOCK_ADDR: {
      const one = [19, 20, 51, 29, 30, 52, 31, 32, 53];
      if (one.includes(attach)) return { min: 1, max: 1 };
      if (attach === 8 || attach === 9) return { min: 0, max: 3 };
      return { min: 0, max: 1 };
    }
    case PT.CGROUP_SKB:
      if (attach === 1) return { min: 0, max: 3 };
      return { min: 0, max: 1 };
    case PT.CGROUP_SOCK: case PT.SOCK_OPS: case PT.CGROUP_DEVICE: case PT.CGROUP_SYSCTL: case PT.CGROUP_SOCKOPT:
      return { min: 0, max: 1 };
    case PT.TRACING:
      if (attach === 24 || attach === 25) return { min: 0, max: 0 };
      if (attach === 28) return { min: 0, max: 1 };
      return null;
    case PT.LSM:
      return { min: -4095, max: 0 };
    case PT.KPROBE:
      if (attach === 56 || attach === 57) return { min: 0, max: 1 };
      return null;
    case PT.SK_LOOKUP:
      return { min: 0, max: 1 };
    case PT.NETFILTER:
      return { min: 0, max: 1 };
    default:
      return null;
  }
}

/** The id of a program type name (or alias), or -1. */
export function progTypeByName(name: string): number {
  const n = name.toLowerCase().replace(/^bpf_prog_type_/, '');
  const aliases: Record<string, string> = {
    socket: 'socket_filter', filter: 'socket_filter', tc: 'sched_cls', classifier: 'sched_cls', action: 'sched_act',
    tp: 'tracepoint', raw_tp: 'raw_tracepoint', uprobe: 'kprobe', fentry: 'tracing', fexit: 'tracing', sockops: 'sock_ops',
  };
  return PROG_TYPE_NAMES.indexOf(aliases[n] ?? n);
}

/** The id of an attach type name (`cgroup_inet_ingress`, `BPF_XDP`, ...), or -1. */
export function attachTypeByName(name: string): number {
  const n = name.toLowerCase().replace(/^bpf_/, '');
  return ATTACH_TYPE_NAMES.indexOf(n);
}
