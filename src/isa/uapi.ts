/**
 * Linux's BPF vocabulary, in one place: program types, attach types, map
 * types and flags, program flags, helper ids, errno values and the limits
 * the kernel enforces (include/uapi/linux/bpf.h, include/linux/bpf.h,
 * include/linux/bpf_verifier.h of Linux 6.18). Loader, verifier, runtime
 * and JIT all read these tables; nothing else spells a type id, a flag or
 * a helper id as a bare number. Which helpers each program type may call
 * is in helper-availability.ts (re-exported here); what each helper takes
 * and returns is in helper-protos.ts, which builds on this module.
 */
import { MAX_CALL_FRAMES, STACK_SIZE } from './opcode.js';

export { BpfFunc, HELPER_NAMES, MAX_HELPER_ID, funcIdName, helperId, helperName } from './helper-ids.js';
export type { HelperName } from './helper-ids.js';
export { GPL_ONLY_BY_TYPE, HELPERS_BY_TYPE } from './helper-availability.js';

/** `{ NAME: id }` for a list of names indexed by id (`xdp` → `XDP`). */
type EnumOf<N extends string> = { readonly [K in N as Uppercase<K>]: number };

function enumOf<N extends string>(names: readonly N[]): EnumOf<N> {
  return Object.freeze(Object.fromEntries(names.map((n, i) => [n.toUpperCase(), i]))) as EnumOf<N>;
}

const PROG_TYPES = [
  'unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb',
  'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device', 'sk_msg', 'raw_tracepoint',
  'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport', 'flow_dissector', 'cgroup_sysctl',
  'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops', 'ext', 'lsm', 'sk_lookup', 'syscall',
  'netfilter',
] as const;

/** A program type's name (`xdp`). */
export type ProgTypeName = (typeof PROG_TYPES)[number];

/** `enum bpf_prog_type` names as libbpf and bpftool print them, index = id. */
export const PROG_TYPE_NAMES: readonly string[] = PROG_TYPES;

/** `enum bpf_prog_type` ids (`ProgType.XDP` = 6). */
export const ProgType = enumOf(PROG_TYPES);

const ATTACH_TYPES = [
  'cgroup_inet_ingress', 'cgroup_inet_egress', 'cgroup_inet_sock_create', 'cgroup_sock_ops', 'sk_skb_stream_parser',
  'sk_skb_stream_verdict', 'cgroup_device', 'sk_msg_verdict', 'cgroup_inet4_bind', 'cgroup_inet6_bind',
  'cgroup_inet4_connect', 'cgroup_inet6_connect', 'cgroup_inet4_post_bind', 'cgroup_inet6_post_bind',
  'cgroup_udp4_sendmsg', 'cgroup_udp6_sendmsg', 'lirc_mode2', 'flow_dissector', 'cgroup_sysctl',
  'cgroup_udp4_recvmsg', 'cgroup_udp6_recvmsg', 'cgroup_getsockopt', 'cgroup_setsockopt', 'trace_raw_tp',
  'trace_fentry', 'trace_fexit', 'modify_return', 'lsm_mac', 'trace_iter', 'cgroup_inet4_getpeername',
  'cgroup_inet6_getpeername', 'cgroup_inet4_getsockname', 'cgroup_inet6_getsockname', 'xdp_devmap',
  'cgroup_inet_sock_release', 'xdp_cpumap', 'sk_lookup', 'xdp', 'sk_skb_verdict', 'sk_reuseport_select',
  'sk_reuseport_select_or_migrate', 'perf_event', 'trace_kprobe_multi', 'lsm_cgroup', 'struct_ops', 'netfilter',
  'tcx_ingress', 'tcx_egress', 'trace_uprobe_multi', 'cgroup_unix_connect', 'cgroup_unix_sendmsg',
  'cgroup_unix_recvmsg', 'cgroup_unix_getpeername', 'cgroup_unix_getsockname', 'netkit_primary', 'netkit_peer',
  'trace_kprobe_session', 'trace_uprobe_session',
  // Newer than 6.18: libbpf knows them, the running kernel refuses them (EINVAL).
  'trace_fsession', 'trace_fentry_multi', 'trace_fexit_multi', 'trace_fsession_multi',
] as const;

/** An attach type's name (`cgroup_inet_ingress`). */
export type AttachTypeName = (typeof ATTACH_TYPES)[number];

/** `enum bpf_attach_type` names as libbpf prints them, index = id. */
export const ATTACH_TYPE_NAMES: readonly string[] = ATTACH_TYPES;

/** `enum bpf_attach_type` ids (`AttachType.XDP` = 37). */
export const AttachType = enumOf(ATTACH_TYPES);

const MAP_TYPES = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array',
  'stack_trace', 'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps',
  'hash_of_maps', 'devmap', 'sockmap', 'cpumap', 'xskmap', 'sockhash', 'cgroup_storage',
  'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack', 'sk_storage', 'devmap_hash',
  'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter', 'user_ringbuf',
  'cgrp_storage', 'arena',
] as const;

/** A map type's name (`percpu_hash`). */
export type MapTypeName = (typeof MAP_TYPES)[number];

/** `enum bpf_map_type` names as libbpf and bpftool print them, index = id. */
export const MAP_TYPE_NAMES: readonly string[] = MAP_TYPES;

/** `enum bpf_map_type` ids (`MapType.RINGBUF` = 27). */
export const MapType = enumOf(MAP_TYPES);

/** Map creation flags (`map_flags`, `BPF_F_*`). */
export const MapFlags = {
  NO_PREALLOC: 1 << 0, NO_COMMON_LRU: 1 << 1, NUMA_NODE: 1 << 2, RDONLY: 1 << 3, WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5, ZERO_SEED: 1 << 6, RDONLY_PROG: 1 << 7, WRONLY_PROG: 1 << 8,
  CLONE: 1 << 9, MMAPABLE: 1 << 10, PRESERVE_ELEMS: 1 << 11, INNER_MAP: 1 << 12,
} as const;

/** Flags of an element update (`BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`). */
export const UpdateFlags = { ANY: 0, NOEXIST: 1, EXIST: 2, F_LOCK: 4 } as const;

/** Program load flags (`prog_flags`). */
export const ProgFlags = {
  STRICT_ALIGNMENT: 1 << 0,
  ANY_ALIGNMENT: 1 << 1,
  TEST_RND_HI32: 1 << 2,
  TEST_STATE_FREQ: 1 << 3,
  SLEEPABLE: 1 << 4,
  XDP_HAS_FRAGS: 1 << 5,
  XDP_DEV_BOUND_ONLY: 1 << 6,
  TEST_REG_INVARIANTS: 1 << 7,
} as const;

/** `BPF_F_SLEEPABLE` program flag. */
export const BPF_F_SLEEPABLE = ProgFlags.SLEEPABLE;
/** `BPF_F_XDP_HAS_FRAGS` program flag. */
export const BPF_F_XDP_HAS_FRAGS = ProgFlags.XDP_HAS_FRAGS;

/** errno values (helpers return them negated, bpf(2) sets them). */
export const Errno = {
  EPERM: 1, ENOENT: 2, E2BIG: 7, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17,
  ENODEV: 19, EINVAL: 22, ENOSPC: 28, ERANGE: 34, EDEADLK: 35, EOVERFLOW: 75, ENOTSUPP: 524, EOPNOTSUPP: 95,
} as const;

/** Name of an errno value. */
export type ErrnoName = keyof typeof Errno;

/** XDP program return values (`enum xdp_action`). */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;

/** tc actions (`TC_ACT_*` of include/uapi/linux/pkt_cls.h). */
export const TcAction = {
  UNSPEC: -1, OK: 0, RECLASSIFY: 1, SHOT: 2, PIPE: 3, STOLEN: 4, QUEUED: 5, REPEAT: 6, REDIRECT: 7, TRAP: 8,
} as const;

/** Packet loads (`ldabs`/`ldind`) at `SKF_NET_OFF + n` read from the network header (include/uapi/linux/filter.h). */
export const SKF_NET_OFF = -0x100000;
/** Packet loads at `SKF_LL_OFF + n` read from the link-layer (MAC) header. */
export const SKF_LL_OFF = -0x200000;

/** `enum bpf_dynptr_type`: what a dynptr points into. */
export const DynptrType = {
  INVALID: 0,
  LOCAL: 1,
  RINGBUF: 2,
  SKB: 3,
  XDP: 4,
  SKB_META: 5,
} as const;

/** The limits the kernel enforces on programs. */
export const Limits = {
  /** Most instructions a privileged program may have, and most the verifier explores (`BPF_COMPLEXITY_LIMIT_INSNS`). */
  COMPLEXITY_INSNS: 1_000_000,
  /** Most pending branches (`BPF_COMPLEXITY_LIMIT_JMP_SEQ`). */
  COMPLEXITY_JMP_SEQ: 8192,
  /** Most instructions of an unprivileged program (`BPF_MAXINSNS`). */
  MAXINSNS: 4096,
  /** Most tail calls one run may chain (`MAX_TAIL_CALL_CNT`). */
  TAIL_CALLS: 33,
  /** Most iterations of `bpf_loop` (`BPF_MAX_LOOPS`). */
  LOOPS: 1 << 23,
  /** Bytes of stack of all frames of one call chain (`MAX_BPF_STACK`). */
  STACK: STACK_SIZE,
  /** Most nested bpf-to-bpf calls (`MAX_CALL_FRAMES`). */
  CALL_FRAMES: MAX_CALL_FRAMES,
  /** Most subprograms (`BPF_MAX_SUBPROGS`). */
  SUBPROGS: 256,
  /** Most maps one program may use (`MAX_USED_MAPS`). */
  USED_MAPS: 64,
} as const;

/**
 * The values libbpf writes into instructions it cannot relocate, so that
 * the kernel refuses them with a recognisable message (and tsbpf stops a
 * run that reaches them): `call 0xbad2310` for a failed CO-RE relocation
 * ("bad relo"), `call KFUNC_BASE + n` for an unresolved weak kfunc (extern
 * number n).
 */
export const LibbpfPoison = {
  CORE_CALL: 0xbad2310,
  KFUNC_BASE: 2_002_000_000,
  /** Externs a kfunc poison may number (libbpf never has nearly this many). */
  KFUNC_SPAN: 1_000_000,
} as const;

/** Whether call immediate `imm` is one libbpf poisoned rather than a helper id. */
export function isPoisonedCall(imm: number): boolean {
  return imm === LibbpfPoison.CORE_CALL || (imm >= LibbpfPoison.KFUNC_BASE && imm < LibbpfPoison.KFUNC_BASE + LibbpfPoison.KFUNC_SPAN);
}
