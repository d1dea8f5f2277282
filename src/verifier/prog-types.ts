/**
 * Program types as the verifier sees them: context access rules (measured
 * on the kernel, see ctx-access.ts), which helpers are available, whether
 * packets can be read or written directly, legacy packet loads, and the
 * return value range `check_return_code` enforces.
 */
import type { CtxAccessTable } from './ctx-access.js';
import { CTX_ACCESS, CTX_PROBE_LIMIT } from './ctx-access.js';
import { ATTACH_TYPE_NAMES, AttachType, GPL_ONLY_BY_TYPE, HELPERS_BY_TYPE, PROG_TYPE_NAMES, ProgType } from '../isa/uapi.js';
import { F, T } from './reg.js';

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
  const btfTyped = id === ProgType.TRACING || id === ProgType.LSM;
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
    ldAbs: id === ProgType.SOCKET_FILTER || id === ProgType.SCHED_CLS || id === ProgType.SCHED_ACT,
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
    case ProgType.CGROUP_SOCK_ADDR: {
      const one: number[] = [
        AttachType.CGROUP_UDP4_RECVMSG, AttachType.CGROUP_UDP6_RECVMSG, AttachType.CGROUP_UNIX_RECVMSG,
        AttachType.CGROUP_INET4_GETPEERNAME, AttachType.CGROUP_INET6_GETPEERNAME, AttachType.CGROUP_UNIX_GETPEERNAME,
        AttachType.CGROUP_INET4_GETSOCKNAME, AttachType.CGROUP_INET6_GETSOCKNAME, AttachType.CGROUP_UNIX_GETSOCKNAME,
      ];
      if (one.includes(attach)) return { min: 1, max: 1 };
      if (attach === AttachType.CGROUP_INET4_BIND || attach === AttachType.CGROUP_INET6_BIND) return { min: 0, max: 3 };
      return { min: 0, max: 1 };
    }
    case ProgType.CGROUP_SKB:
      if (attach === AttachType.CGROUP_INET_EGRESS) return { min: 0, max: 3 };
      return { min: 0, max: 1 };
    case ProgType.CGROUP_SOCK: case ProgType.SOCK_OPS: case ProgType.CGROUP_DEVICE: case ProgType.CGROUP_SYSCTL: case ProgType.CGROUP_SOCKOPT:
      return { min: 0, max: 1 };
    case ProgType.TRACING:
      if (attach === AttachType.TRACE_FENTRY || attach === AttachType.TRACE_FEXIT) return { min: 0, max: 0 };
      if (attach === AttachType.TRACE_ITER) return { min: 0, max: 1 };
      return null;
    case ProgType.LSM:
      return { min: -4095, max: 0 };
    case ProgType.KPROBE:
      if (attach === AttachType.TRACE_KPROBE_SESSION || attach === AttachType.TRACE_UPROBE_SESSION) return { min: 0, max: 1 };
      return null;
    case ProgType.SK_LOOKUP:
      return { min: 0, max: 1 };
    case ProgType.NETFILTER:
      return { min: 0, max: 1 };
    default:
      return null;
  }
}

/**
 * Other names users and tools give program types (libbpf's section names,
 * bpftool's type names): `kretprobe` is a kprobe program, `tc` a sched_cls.
 */
export const PROG_TYPE_ALIASES: Readonly<Record<string, string>> = {
  socket: 'socket_filter', filter: 'socket_filter', tc: 'sched_cls', tcx: 'sched_cls', classifier: 'sched_cls', cls: 'sched_cls',
  action: 'sched_act', act: 'sched_act', tp: 'tracepoint', raw_tp: 'raw_tracepoint', raw_tp_writable: 'raw_tracepoint_writable',
  kretprobe: 'kprobe', uprobe: 'kprobe', uretprobe: 'kprobe', ksyscall: 'kprobe', usdt: 'kprobe',
  fentry: 'tracing', fexit: 'tracing', fmod_ret: 'tracing', tp_btf: 'tracing', iter: 'tracing', freplace: 'ext',
  sockops: 'sock_ops', sk_skb: 'sk_skb', sk_msg: 'sk_msg', cgroup_skb: 'cgroup_skb',
};

/** The id of a program type name (or alias, `BPF_PROG_TYPE_` prefix allowed, any case), or -1. */
export function progTypeByName(name: string): number {
  const n = name.toLowerCase().replace(/^bpf_prog_type_/, '');
  return PROG_TYPE_NAMES.indexOf(PROG_TYPE_ALIASES[n] ?? n);
}

/** The id of an attach type name (`cgroup_inet_ingress`, `BPF_XDP`, ...), or -1. */
export function attachTypeByName(name: string): number {
  const n = name.toLowerCase().replace(/^bpf_/, '');
  return ATTACH_TYPE_NAMES.indexOf(n);
}
