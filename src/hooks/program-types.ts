/**
 * Program types (`enum bpf_prog_type`) and how tsbpf gives each its context
 * in a test run.
 */
import { TsbpfError } from '../errors.js';
import { attachTypeByName, progTypeByName } from '../verifier/prog-types.js';
import { ATTACH_TYPE_NAMES, PROG_TYPE_NAMES } from '../isa/uapi.js';

export { PROG_TYPE_NAMES };

/** How a program type's context is built in a test run. */
export type ContextKind =
  /** `struct xdp_md` over a packet. */
  | 'xdp'
  /** `struct __sk_buff`, data from the Ethernet header. */
  | 'skb-l2'
  /** `struct __sk_buff`, data from the network header. */
  | 'skb-l3'
  /** A context struct given as bytes (`--ctx-in`), zeroes by default. */
  | 'raw';

/** Context size used when no `--ctx-in` is given for a raw context. */
const RAW_CONTEXT_SIZE: Record<string, number> = {
  kprobe: 168, // struct pt_regs on x86-64
  perf_event: 184, // struct bpf_perf_event_data: pt_regs + sample_period + addr
  tracepoint: 64,
  raw_tracepoint: 96, // 12 u64 arguments
  raw_tracepoint_writable: 96,
  tracing: 96,
  sock_ops: 224,
  syscall: 64,
};

/**
 * Program types whose test run tsbpf refuses, and why: their contexts hold
 * pointers (sockets, packets, flow keys, a tracepoint's buffer) that would
 * have to point at real objects of the right size, and a context made of
 * user bytes would let a program reach any address through them. The kernel
 * refuses all of them but flow_dissector (ENOTSUPP).
 */
const NO_TEST_RUN: Record<string, string> = {
  sk_skb: 'its __sk_buff carries packet and socket pointers (the kernel has no test run for it either)',
  sk_msg: 'its context carries message and socket pointers (the kernel has no test run for it either)',
  cgroup_sock_addr: 'its context carries a socket pointer (the kernel has no test run for it either)',
  sk_reuseport: 'its context carries packet and socket pointers (the kernel has no test run for it either)',
  cgroup_sockopt: 'its context carries socket and option-buffer pointers (the kernel has no test run for it either)',
  raw_tracepoint_writable: 'its first argument points to the tracepoint\'s writable buffer (the kernel has no test run for it either)',
  netfilter: 'its context carries pointers to kernel objects (hook state, socket buffer)',
  flow_dissector: 'tsbpf does not build the flow keys its context points to yet',
  struct_ops: 'its arguments are kernel objects (a congestion control\'s socket; the kernel test-runs only bpf_dummy_ops programs, and refuses the others)',
};

/** Fields of a raw context that the verifier types as nullable pointers: a run clears them (NULL). */
const NULLED_POINTER_FIELDS: Record<string, readonly (readonly [number, number])[]> = {
  sk_lookup: [[0, 8]], // struct bpf_sk_lookup: sk, a sock_or_null
  sock_ops: [[184, 8]], // struct bpf_sock_ops: sk, a sock_or_null
};

/**
 * Packet pointer pairs (`data`, `data_end` offsets) of a raw context: a run
 * points both at one empty packet, so a program can prove no access.
 */
const EMPTY_PACKET_FIELDS: Record<string, readonly [number, number]> = {
  sock_ops: [192, 200], // skb_data, skb_data_end: the TCP header of the packet in hand (none in a test run)
};

/** The (data, data_end) offsets of a raw context's packet pointers, if it has them. */
export function emptyPacketFields(id: number): readonly [number, number] | undefined {
  return EMPTY_PACKET_FIELDS[PROG_TYPE_NAMES[id] ?? ''];
}

/** Why a test run of program type `id` is refused, or undefined when tsbpf runs it. */
export function testRunRefusal(id: number): string | undefined {
  return NO_TEST_RUN[PROG_TYPE_NAMES[id] ?? ''];
}

/** The (offset, size) of the nullable pointer fields a raw context of type `id` gets cleared. */
export function nulledPointerFields(id: number): readonly (readonly [number, number])[] {
  return NULLED_POINTER_FIELDS[PROG_TYPE_NAMES[id] ?? ''] ?? [];
}

/**
 * The kernel id of a program type name or alias (`xdp`, `BPF_PROG_TYPE_XDP`,
 * `kretprobe`, `tc`, ...), or a clear error listing the known names. Every
 * command that takes `--prog-type` parses it here.
 */
export function progTypeId(name: string): number {
  const id = progTypeByName(name);
  if (id <= 0) throw new TsbpfError(`unknown program type '${name}' (known: ${PROG_TYPE_NAMES.slice(1).join(', ')}; aliases such as kretprobe, tc, fentry)`);
  return id;
}

/** The kernel id of an attach type name (`cgroup_inet_ingress`, `BPF_XDP`, ...), or a clear error. Every `--attach-type` is parsed here. */
export function attachTypeId(name: string): number {
  const id = attachTypeByName(name);
  if (id < 0) throw new TsbpfError(`unknown attach type '${name}' (known: ${ATTACH_TYPE_NAMES.join(', ')})`);
  return id;
}

/** The name of program type `id`. */
export function progTypeName(id: number): string {
  return PROG_TYPE_NAMES[id] ?? `type${id}`;
}

/** How program type `id` gets its context. */
export function contextKind(id: number): ContextKind {
  switch (PROG_TYPE_NAMES[id]) {
    case 'xdp': return 'xdp';
    case 'sched_cls': case 'sched_act': return 'skb-l2';
    case 'socket_filter': case 'cgroup_skb': case 'lwt_in': case 'lwt_out': case 'lwt_xmit': case 'lwt_seg6local':
      return 'skb-l3';
    default: return 'raw';
  }
}

/** Default raw context size of program type `id`. */
export function rawContextSize(id: number): number {
  return RAW_CONTEXT_SIZE[PROG_TYPE_NAMES[id] ?? ''] ?? 64;
}
