/**
 * tsbpf's built-in context structures, described as BTF with the Linux
 * UAPI layouts (include/uapi/linux/bpf.h, linux/seccomp.h,
 * asm/ptrace.h for x86-64, linux/bpf_perf_event.h). This BTF is the
 * default CO-RE target of the loader: a program whose local definitions
 * say `struct __sk_buff___mine { __u32 mark; } __attribute__((preserve_access_index))`
 * gets the offsets below. The layouts are checked against clang's BTF for
 * the same headers in the tests.
 */
import type { Btf } from './btf.js';
import { BtfBuilder } from './btf-builder.js';
import type { MemberSpec } from './btf-builder.js';

/** A member: `[name, type]` with C type text, or an anonymous union/struct. */
type MemberDef = readonly [string, string] | { readonly union: readonly MemberDef[] } | { readonly struct: readonly MemberDef[] };

/** A struct definition in the UAPI order. */
interface StructDef {
  readonly name: string;
  readonly members: readonly MemberDef[];
}

/** `union { T *name; __u64 :64; } __attribute__((aligned(8)))`: a pointer kept 64-bit in the UAPI. */
function mdPtr(name: string, type: string): MemberDef {
  return { union: [[name, type]] };
}

const u32s = (...names: string[]): MemberDef[] => names.map((n) => [n, '__u32'] as const);

/** The context structures, dependencies first. */
const STRUCTS: readonly StructDef[] = [
  { name: 'xdp_md', members: u32s('data', 'data_end', 'data_meta', 'ingress_ifindex', 'rx_queue_index', 'egress_ifindex') },
  {
    name: 'bpf_sock',
    members: [
      ...u32s('bound_dev_if', 'family', 'type', 'protocol', 'mark', 'priority', 'src_ip4'),
      ['src_ip6', '__u32[4]'], ['src_port', '__u32'], ['dst_port', '__be16'], ['dst_ip4', '__u32'],
      ['dst_ip6', '__u32[4]'], ['state', '__u32'], ['rx_queue_mapping', '__s32'],
    ],
  },
  {
    name: 'bpf_flow_keys',
    members: [
      ['nhoff', '__u16'], ['thoff', '__u16'], ['addr_proto', '__u16'], ['is_frag', '__u8'], ['is_first_frag', '__u8'],
      ['is_encap', '__u8'], ['ip_proto', '__u8'], ['n_proto', '__be16'], ['sport', '__be16'], ['dport', '__be16'],
      { union: [{ struct: [['ipv4_src', '__be32'], ['ipv4_dst', '__be32']] }, { struct: [['ipv6_src', '__u32[4]'], ['ipv6_dst', '__u32[4]']] }] },
      ['flags', '__u32'], ['flow_label', '__be32'],
    ],
  },
  {
    name: '__sk_buff',
    members: [
      ...u32s('len', 'pkt_type', 'mark', 'queue_mapping', 'protocol', 'vlan_present', 'vlan_tci', 'vlan_proto', 'priority',
        'ingress_ifindex', 'ifindex', 'tc_index'),
      ['cb', '__u32[5]'],
      ...u32s('hash', 'tc_classid', 'data', 'data_end', 'napi_id', 'family', 'remote_ip4', 'local_ip4'),
      ['remote_ip6', '__u32[4]'], ['local_ip6', '__u32[4]'],
      ...u32s('remote_port', 'local_port', 'data_meta'),
      mdPtr('flow_keys', 'struct bpf_flow_keys *'),
      ['tstamp', '__u64'], ['wire_len', '__u32'], ['gso_segs', '__u32'],
      mdPtr('sk', 'struct bpf_sock *'),
      ['gso_size', '__u32'], ['tstamp_type', '__u8'], ['hwtstamp', '__u64'],
    ],
  },
  {
    name: 'bpf_tcp_sock',
    members: [
      ...u32s('snd_cwnd', 'srtt_us', 'rtt_min', 'snd_ssthresh', 'rcv_nxt', 'snd_nxt', 'snd_una', 'mss_cache', 'ecn_flags',
        'rate_delivered', 'rate_interval_us', 'packets_out', 'retrans_out', 'total_retrans', 'segs_in', 'data_segs_in',
        'segs_out', 'data_segs_out', 'lost_out', 'sacked_out'),
      ['bytes_received', '__u64'], ['bytes_acked', '__u64'],
      ...u32s('dsack_dups', 'delivered', 'delivered_ce', 'icsk_retransmits'),
    ],
  },
  { name: 'bpf_xdp_sock', members: u32s('queue_id') },
  {
    name: 'pt_regs',
    members: ['r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi',
      'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss'].map((n) => [n, 'unsigned long'] as const),
  },
  { name: 'bpf_perf_event_data', members: [['regs', 'bpf_user_pt_regs_t'], ['sample_period', '__u64'], ['addr', '__u64']] },
  { name: 'bpf_raw_tracepoint_args', members: [['args', '__u64[0]']] },
  {
    name: 'bpf_sock_ops',
    members: [
      ['op', '__u32'],
      { union: [['args', '__u32[4]'], ['reply', '__u32'], ['replylong', '__u32[4]']] },
      ...u32s('family', 'remote_ip4', 'local_ip4'), ['remote_ip6', '__u32[4]'], ['local_ip6', '__u32[4]'],
      ...u32s('remote_port', 'local_port', 'is_fullsock', 'snd_cwnd', 'srtt_us', 'bpf_sock_ops_cb_flags', 'state',
        'rtt_min', 'snd_ssthresh', 'rcv_nxt', 'snd_nxt', 'snd_una', 'mss_cache', 'ecn_flags', 'rate_delivered',
        'rate_interval_us', 'packets_out', 'retrans_out', 'total_retrans', 'segs_in', 'data_segs_in', 'segs_out',
        'data_segs_out', 'lost_out', 'sacked_out', 'sk_txhash'),
      ['bytes_received', '__u64'], ['bytes_acked', '__u64'],
      mdPtr('sk', 'struct bpf_sock *'), mdPtr('skb_data', 'void *'), mdPtr('skb_data_end', 'void *'),
      ['skb_len', '__u32'], ['skb_tcp_flags', '__u32'],
    ],
  },
  {
    name: 'sk_msg_md',
    members: [
      mdPtr('data', 'void *'), mdPtr('data_end', 'void *'), ...u32s('family', 'remote_ip4', 'local_ip4'),
      ['remote_ip6', '__u32[4]'], ['local_ip6', '__u32[4]'], ...u32s('remote_port', 'local_port', 'size'),
      mdPtr('sk', 'struct bpf_sock *'),
    ],
  },
  {
    name: 'bpf_sock_addr',
    members: [
      ['user_family', '__u32'], ['user_ip4', '__u32'], ['user_ip6', '__u32[4]'], ['user_port', '__u32'],
      ...u32s('family', 'type', 'protocol', 'msg_src_ip4'), ['msg_src_ip6', '__u32[4]'], mdPtr('sk', 'struct bpf_sock *'),
    ],
  },
  {
    name: 'bpf_sk_lookup',
    members: [
      { union: [mdPtr('sk', 'struct bpf_sock *'), ['cookie', '__u64']] },
      ...u32s('family', 'protocol', 'remote_ip4'), ['remote_ip6', '__u32[4]'], ['remote_port', '__be16'],
      ['local_ip4', '__u32'], ['local_ip6', '__u32[4]'], ['local_port', '__u32'], ['ingress_ifindex', '__u32'],
    ],
  },
  { name: 'seccomp_data', members: [['nr', 'int'], ['arch', '__u32'], ['instruction_pointer', '__u64'], ['args', '__u64[6]']] },
  { name: 'bpf_sysctl', members: u32s('write', 'file_pos') },
  { name: 'bpf_cgroup_dev_ctx', members: u32s('access_type', 'major', 'minor') },
  {
    name: 'bpf_sockopt',
    members: [
      mdPtr('sk', 'struct bpf_sock *'), mdPtr('optval', 'void *'), mdPtr('optval_end', 'void *'),
      ['level', '__s32'], ['optname', '__s32'], ['optlen', '__s32'], ['retval', '__s32'],
    ],
  },
  {
    name: 'sk_reuseport_md',
    members: [
      mdPtr('data', 'void *'), mdPtr('data_end', 'void *'), ...u32s('len', 'eth_protocol', 'ip_protocol', 'bind_inany', 'hash'),
      mdPtr('sk', 'struct bpf_sock *'), mdPtr('migrating_sk', 'struct bpf_sock *'),
    ],
  },
];

/** The context structure each program type receives (kernel names), for hooks and docs. */
export const CONTEXT_STRUCT_BY_PROG_TYPE: Readonly<Record<string, string>> = {
  socket_filter: '__sk_buff', sched_cls: '__sk_buff', sched_act: '__sk_buff', cgroup_skb: '__sk_buff',
  lwt_in: '__sk_buff', lwt_out: '__sk_buff', lwt_xmit: '__sk_buff', lwt_seg6local: '__sk_buff', sk_skb: '__sk_buff',
  flow_dissector: '__sk_buff', xdp: 'xdp_md', kprobe: 'pt_regs', perf_event: 'bpf_perf_event_data',
  raw_tracepoint: 'bpf_raw_tracepoint_args', raw_tracepoint_writable: 'bpf_raw_tracepoint_args', sock_ops: 'bpf_sock_ops',
  sk_msg: 'sk_msg_md', cgroup_sock_addr: 'bpf_sock_addr', cgroup_sock: 'bpf_sock', sk_lookup: 'bpf_sk_lookup',
  cgroup_sysctl: 'bpf_sysctl', cgroup_device: 'bpf_cgroup_dev_ctx', cgroup_sockopt: 'bpf_sockopt',
  sk_reuseport: 'sk_reuseport_md', seccomp: 'seccomp_data',
};

/** Names of the structs in {@link contextBtf}. */
export const CONTEXT_STRUCT_NAMES: readonly string[] = STRUCTS.map((s) => s.name);

let cached: Btf | undefined;

/** The BTF of tsbpf's context structures (built once, then shared; treat as read-only). */
export function contextBtf(): Btf {
  if (!cached) cached = buildContextBtf();
  return cached;
}

function buildContextBtf(): Btf {
  const b = new BtfBuilder('tsbpf');
  const named = new Map<string, number>();
  const uchar = b.int('unsigned char', 1);
  const ushort = b.int('unsigned short', 2);
  const uint = b.int('unsigned int', 4);
  const int = b.int('int', 4, { signed: true });
  const ulong = b.int('unsigned long', 8);
  const ullong = b.int('unsigned long long', 8);
  named.set('unsigned char', uchar).set('unsigned short', ushort).set('unsigned int', uint).set('int', int)
    .set('unsigned long', ulong).set('unsigned long long', ullong);
  named.set('__u8', b.typedef('__u8', uchar));
  named.set('__u16', b.typedef('__u16', ushort));
  named.set('__u32', b.typedef('__u32', uint));
  named.set('__s32', b.typedef('__s32', int));
  named.set('__u64', b.typedef('__u64', ullong));
  named.set('__be16', b.typedef('__be16', named.get('__u16')!));
  named.set('__be32', b.typedef('__be32', named.get('__u32')!));
  const structIds = new Map<string, number>();
  for (const s of STRUCTS) structIds.set(s.name, b.declare('struct', s.name));

  const typeOf = (text: string): number => {
    const arr = /^(.*)\[(\d+)\]$/.exec(text);
    if (arr) return b.array(typeOf(arr[1]!.trim()), Number(arr[2]));
    if (text.endsWith('*')) {
      const inner = text.slice(0, -1).trim();
      return b.ptr(inner === 'void' ? 0 : typeOf(inner));
    }
    if (text.startsWith('struct ')) {
      const id = structIds.get(text.slice(7));
      if (id === undefined) throw new Error(`ctx-btf: unknown ${text}`);
      return id;
    }
    const id = named.get(text);
    if (id === undefined) throw new Error(`ctx-btf: unknown type ${text}`);
    return id;
  };
  const members = (defs: readonly MemberDef[]): MemberSpec[] => defs.map((d) => {
    if (Array.isArray(d)) {
      const [name, type] = d as readonly [string, string];
      return { name, type: typeOf(type) };
    }
    if ('union' in d) return { name: '', type: b.union('', members(d.union)) };
    return { name: '', type: b.struct('', members((d as { struct: readonly MemberDef[] }).struct)) };
  });
  for (const s of STRUCTS) {
    b.define(structIds.get(s.name)!, members(s.members));
    if (s.name === 'pt_regs') named.set('bpf_user_pt_regs_t', b.typedef('bpf_user_pt_regs_t', structIds.get('pt_regs')!));
  }
  return b.build();
}
