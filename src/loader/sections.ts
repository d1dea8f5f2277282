/**
 * From an ELF section name to a program type, as libbpf decides it (its
 * `section_defs` table and matching rules), then, for names libbpf 1.x
 * does not know, the rules of older loaders: libbpf 0.x "sloppy" prefixes
 * (`socket1`, `xdp_prog`, `classifier/ingress`) and iproute2's numbered
 * tail-call sections (`2/7`). Anything else is `unspec`.
 */

/** `enum bpf_prog_type` names (libbpf's prog_type_name), index = id. */
export const PROG_TYPE_NAMES: readonly string[] = [
  'unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb',
  'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device', 'sk_msg', 'raw_tracepoint',
  'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport', 'flow_dissector', 'cgroup_sysctl',
  'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops', 'ext', 'lsm', 'sk_lookup', 'syscall',
  'netfilter',
];

/** `enum bpf_prog_type` ids by upper-case name (`XDP` → 6). */
export const ProgType: Readonly<Record<string, number>> = Object.fromEntries(PROG_TYPE_NAMES.map((n, i) => [n.toUpperCase(), i]));

/** `enum bpf_attach_type` names (libbpf's attach_type_name), index = id. */
export const ATTACH_TYPE_NAMES: readonly string[] = [
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
  'trace_kprobe_session', 'trace_uprobe_session', 'trace_fsession', 'trace_fentry_multi', 'trace_fexit_multi',
  'trace_fsession_multi',
];

/** `enum bpf_attach_type` ids by name (`xdp` → 37). */
export const AttachType: Readonly<Record<string, number>> = Object.fromEntries(ATTACH_TYPE_NAMES.map((n, i) => [n, i]));

/** `BPF_F_SLEEPABLE` program flag. */
export const BPF_F_SLEEPABLE = 1 << 4;
/** `BPF_F_XDP_HAS_FRAGS` program flag. */
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;

/** How a section name was matched. */
export type SectionRuleKind = 'libbpf' | 'libbpf-legacy' | 'iproute2-tail-call' | 'unknown';

/** The program type, attach type and flags of a section. */
export interface SectionProgramType {
  /** `enum bpf_prog_type` id (0 = unspec). */
  type: number;
  /** Its name (`xdp`, `sched_cls`, `socket_filter`, ...). */
  typeName: string;
  /** `expected_attach_type` libbpf passes, when its table sets one. */
  expectedAttachType?: number;
  /** Name of the expected attach type (`xdp`, `cgroup_inet_ingress`, ...). */
  expectedAttachTypeName?: string;
  /** Program load flags: `BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`. */
  flags: number;
  /** The table entry that matched (`kprobe+`, `xdp`, `socket` (legacy prefix), `N/M`). */
  rule: string;
  /** Which rule set matched. */
  ruleKind: SectionRuleKind;
  /** What follows `type/` for attachable names (`do_nanosleep` in `kprobe/do_nanosleep`). */
  attachTo?: string;
  /** For iproute2 tail-call sections `N/M`: the prog-array id and key. */
  tailCall?: { mapId: number; key: number };
}

type Flag = 'sleepable' | 'frags' | 'none';
type Def = readonly [sec: string, progType: string, attach: string | null, flag?: Flag];

/** libbpf's section_defs (current libbpf, in its order). */
const SECTION_DEFS: readonly Def[] = [
  ['socket', 'SOCKET_FILTER', null], ['sk_reuseport/migrate', 'SK_REUSEPORT', 'sk_reuseport_select_or_migrate'],
  ['sk_reuseport', 'SK_REUSEPORT', 'sk_reuseport_select'], ['kprobe+', 'KPROBE', null], ['uprobe+', 'KPROBE', null],
  ['uprobe.s+', 'KPROBE', null, 'sleepable'], ['kretprobe+', 'KPROBE', null], ['uretprobe+', 'KPROBE', null],
  ['uretprobe.s+', 'KPROBE', null, 'sleepable'], ['kprobe.multi+', 'KPROBE', 'trace_kprobe_multi'],
  ['kretprobe.multi+', 'KPROBE', 'trace_kprobe_multi'], ['kprobe.session+', 'KPROBE', 'trace_kprobe_session'],
  ['uprobe.multi+', 'KPROBE', 'trace_uprobe_multi'], ['uretprobe.multi+', 'KPROBE', 'trace_uprobe_multi'],
  ['uprobe.session+', 'KPROBE', 'trace_uprobe_session'], ['uprobe.multi.s+', 'KPROBE', 'trace_uprobe_multi', 'sleepable'],
  ['uretprobe.multi.s+', 'KPROBE', 'trace_uprobe_multi', 'sleepable'],
  ['uprobe.session.s+', 'KPROBE', 'trace_uprobe_session', 'sleepable'], ['ksyscall+', 'KPROBE', null],
  ['kretsyscall+', 'KPROBE', null], ['usdt+', 'KPROBE', null], ['usdt.s+', 'KPROBE', null, 'sleepable'],
  ['tc/ingress', 'SCHED_CLS', 'tcx_ingress'], ['tc/egress', 'SCHED_CLS', 'tcx_egress'],
  ['tcx/ingress', 'SCHED_CLS', 'tcx_ingress'], ['tcx/egress', 'SCHED_CLS', 'tcx_egress'], ['tc', 'SCHED_CLS', null],
  ['classifier', 'SCHED_CLS', null], ['action', 'SCHED_ACT', null], ['netkit/primary', 'SCHED_CLS', 'netkit_primary'],
  ['netkit/peer', 'SCHED_CLS', 'netkit_peer'], ['tracepoint+', 'TRACEPOINT', null], ['tp+', 'TRACEPOINT', null],
  ['tracepoint.s+', 'TRACEPOINT', null, 'sleepable'], ['tp.s+', 'TRACEPOINT', null, 'sleepable'],
  ['raw_tracepoint+', 'RAW_TRACEPOINT', null], ['raw_tp+', 'RAW_TRACEPOINT', null],
  ['raw_tracepoint.s+', 'RAW_TRACEPOINT', null, 'sleepable'], ['raw_tp.s+', 'RAW_TRACEPOINT', null, 'sleepable'],
  ['raw_tracepoint.w+', 'RAW_TRACEPOINT_WRITABLE', null], ['raw_tp.w+', 'RAW_TRACEPOINT_WRITABLE', null],
  ['tp_btf+', 'TRACING', 'trace_raw_tp'], ['tp_btf.s+', 'TRACING', 'trace_raw_tp', 'sleepable'],
  ['fentry+', 'TRACING', 'trace_fentry'], ['fmod_ret+', 'TRACING', 'modify_return'], ['fexit+', 'TRACING', 'trace_fexit'],
  ['fentry.s+', 'TRACING', 'trace_fentry', 'sleepable'], ['fmod_ret.s+', 'TRACING', 'modify_return', 'sleepable'],
  ['fexit.s+', 'TRACING', 'trace_fexit', 'sleepable'], ['fsession+', 'TRACING', 'trace_fsession'],
  ['fsession.s+', 'TRACING', 'trace_fsession', 'sleepable'], ['fsession.multi+', 'TRACING', 'trace_fsession_multi'],
  ['fsession.multi.s+', 'TRACING', 'trace_fsession_multi', 'sleepable'], ['fentry.multi+', 'TRACING', 'trace_fentry_multi'],
  ['fexit.multi+', 'TRACING', 'trace_fexit_multi'], ['fentry.multi.s+', 'TRACING', 'trace_fentry_multi', 'sleepable'],
  ['fexit.multi.s+', 'TRACING', 'trace_fexit_multi', 'sleepable'], ['freplace+', 'EXT', null],
  ['lsm+', 'LSM', 'lsm_mac'], ['lsm.s+', 'LSM', 'lsm_mac', 'sleepable'], ['lsm_cgroup+', 'LSM', 'lsm_cgroup'],
  ['iter+', 'TRACING', 'trace_iter'], ['iter.s+', 'TRACING', 'trace_iter', 'sleepable'],
  ['syscall', 'SYSCALL', null, 'sleepable'], ['xdp.frags/devmap', 'XDP', 'xdp_devmap', 'frags'],
  ['xdp/devmap', 'XDP', 'xdp_devmap'], ['xdp.frags/cpumap', 'XDP', 'xdp_cpumap', 'frags'], ['xdp/cpumap', 'XDP', 'xdp_cpumap'],
  ['xdp.frags', 'XDP', 'xdp', 'frags'], ['xdp', 'XDP', 'xdp'], ['perf_event', 'PERF_EVENT', null], ['lwt_in', 'LWT_IN', null],
  ['lwt_out', 'LWT_OUT', null], ['lwt_xmit', 'LWT_XMIT', null], ['lwt_seg6local', 'LWT_SEG6LOCAL', null],
  ['sockops', 'SOCK_OPS', 'cgroup_sock_ops'], ['sk_skb/stream_parser', 'SK_SKB', 'sk_skb_stream_parser'],
  ['sk_skb/stream_verdict', 'SK_SKB', 'sk_skb_stream_verdict'], ['sk_skb/verdict', 'SK_SKB', 'sk_skb_verdict'],
  ['sk_skb', 'SK_SKB', null], ['sk_msg', 'SK_MSG', 'sk_msg_verdict'], ['lirc_mode2', 'LIRC_MODE2', 'lirc_mode2'],
  ['flow_dissector', 'FLOW_DISSECTOR', 'flow_dissector'], ['cgroup_skb/ingress', 'CGROUP_SKB', 'cgroup_inet_ingress'],
  ['cgroup_skb/egress', 'CGROUP_SKB', 'cgroup_inet_egress'], ['cgroup/skb', 'CGROUP_SKB', null],
  ['cgroup/sock_create', 'CGROUP_SOCK', 'cgroup_inet_sock_create'], ['cgroup/sock_release', 'CGROUP_SOCK', 'cgroup_inet_sock_release'],
  ['cgroup/sock', 'CGROUP_SOCK', 'cgroup_inet_sock_create'], ['cgroup/post_bind4', 'CGROUP_SOCK', 'cgroup_inet4_post_bind'],
  ['cgroup/post_bind6', 'CGROUP_SOCK', 'cgroup_inet6_post_bind'], ['cgroup/bind4', 'CGROUP_SOCK_ADDR', 'cgroup_inet4_bind'],
  ['cgroup/bind6', 'CGROUP_SOCK_ADDR', 'cgroup_inet6_bind'], ['cgroup/connect4', 'CGROUP_SOCK_ADDR', 'cgroup_inet4_connect'],
  ['cgroup/connect6', 'CGROUP_SOCK_ADDR', 'cgroup_inet6_connect'], ['cgroup/connect_unix', 'CGROUP_SOCK_ADDR', 'cgroup_unix_connect'],
  ['cgroup/sendmsg4', 'CGROUP_SOCK_ADDR', 'cgroup_udp4_sendmsg'], ['cgroup/sendmsg6', 'CGROUP_SOCK_ADDR', 'cgroup_udp6_sendmsg'],
  ['cgroup/sendmsg_unix', 'CGROUP_SOCK_ADDR', 'cgroup_unix_sendmsg'], ['cgroup/recvmsg4', 'CGROUP_SOCK_ADDR', 'cgroup_udp4_recvmsg'],
  ['cgroup/recvmsg6', 'CGROUP_SOCK_ADDR', 'cgroup_udp6_recvmsg'], ['cgroup/recvmsg_unix', 'CGROUP_SOCK_ADDR', 'cgroup_unix_recvmsg'],
  ['cgroup/getpeername4', 'CGROUP_SOCK_ADDR', 'cgroup_inet4_getpeername'],
  ['cgroup/getpeername6', 'CGROUP_SOCK_ADDR', 'cgroup_inet6_getpeername'],
  ['cgroup/getpeername_unix', 'CGROUP_SOCK_ADDR', 'cgroup_unix_getpeername'],
  ['cgroup/getsockname4', 'CGROUP_SOCK_ADDR', 'cgroup_inet4_getsockname'],
  ['cgroup/getsockname6', 'CGROUP_SOCK_ADDR', 'cgroup_inet6_getsockname'],
  ['cgroup/getsockname_unix', 'CGROUP_SOCK_ADDR', 'cgroup_unix_getsockname'],
  ['cgroup/sysctl', 'CGROUP_SYSCTL', 'cgroup_sysctl'], ['cgroup/getsockopt', 'CGROUP_SOCKOPT', 'cgroup_getsockopt'],
  ['cgroup/setsockopt', 'CGROUP_SOCKOPT', 'cgroup_setsockopt'], ['cgroup/dev', 'CGROUP_DEVICE', 'cgroup_device'],
  ['struct_ops+', 'STRUCT_OPS', null], ['struct_ops.s+', 'STRUCT_OPS', null, 'sleepable'], ['sk_lookup', 'SK_LOOKUP', 'sk_lookup'],
  ['netfilter', 'NETFILTER', 'netfilter'],
];

/** libbpf 0.x entries matched by plain prefix ("SEC_SLOPPY_PFX"), in its order. */
const LEGACY_PREFIX_DEFS: readonly Def[] = [
  ['socket', 'SOCKET_FILTER', null], ['sk_reuseport/migrate', 'SK_REUSEPORT', 'sk_reuseport_select_or_migrate'],
  ['sk_reuseport', 'SK_REUSEPORT', 'sk_reuseport_select'], ['classifier', 'SCHED_CLS', null], ['action', 'SCHED_ACT', null],
  ['xdp_devmap/', 'XDP', 'xdp_devmap'], ['xdp_cpumap/', 'XDP', 'xdp_cpumap'], ['xdp', 'XDP', 'xdp'],
  ['perf_event', 'PERF_EVENT', null], ['lwt_in', 'LWT_IN', null], ['lwt_out', 'LWT_OUT', null], ['lwt_xmit', 'LWT_XMIT', null],
  ['lwt_seg6local', 'LWT_SEG6LOCAL', null], ['cgroup_skb/ingress', 'CGROUP_SKB', 'cgroup_inet_ingress'],
  ['cgroup_skb/egress', 'CGROUP_SKB', 'cgroup_inet_egress'], ['cgroup/skb', 'CGROUP_SKB', null],
  ['cgroup/sock_create', 'CGROUP_SOCK', 'cgroup_inet_sock_create'], ['cgroup/sock_release', 'CGROUP_SOCK', 'cgroup_inet_sock_release'],
  ['cgroup/sock', 'CGROUP_SOCK', 'cgroup_inet_sock_create'], ['cgroup/post_bind4', 'CGROUP_SOCK', 'cgroup_inet4_post_bind'],
  ['cgroup/post_bind6', 'CGROUP_SOCK', 'cgroup_inet6_post_bind'], ['cgroup/dev', 'CGROUP_DEVICE', 'cgroup_device'],
  ['sockops', 'SOCK_OPS', 'cgroup_sock_ops'], ['sk_skb/stream_parser', 'SK_SKB', 'sk_skb_stream_parser'],
  ['sk_skb/stream_verdict', 'SK_SKB', 'sk_skb_stream_verdict'], ['sk_skb', 'SK_SKB', null], ['sk_msg', 'SK_MSG', 'sk_msg_verdict'],
  ['lirc_mode2', 'LIRC_MODE2', 'lirc_mode2'], ['flow_dissector', 'FLOW_DISSECTOR', 'flow_dissector'],
  ['cgroup/bind4', 'CGROUP_SOCK_ADDR', 'cgroup_inet4_bind'], ['cgroup/bind6', 'CGROUP_SOCK_ADDR', 'cgroup_inet6_bind'],
  ['cgroup/connect4', 'CGROUP_SOCK_ADDR', 'cgroup_inet4_connect'], ['cgroup/connect6', 'CGROUP_SOCK_ADDR', 'cgroup_inet6_connect'],
  ['cgroup/sendmsg4', 'CGROUP_SOCK_ADDR', 'cgroup_udp4_sendmsg'], ['cgroup/sendmsg6', 'CGROUP_SOCK_ADDR', 'cgroup_udp6_sendmsg'],
  ['cgroup/recvmsg4', 'CGROUP_SOCK_ADDR', 'cgroup_udp4_recvmsg'], ['cgroup/recvmsg6', 'CGROUP_SOCK_ADDR', 'cgroup_udp6_recvmsg'],
  ['cgroup/getpeername4', 'CGROUP_SOCK_ADDR', 'cgroup_inet4_getpeername'],
  ['cgroup/getpeername6', 'CGROUP_SOCK_ADDR', 'cgroup_inet6_getpeername'],
  ['cgroup/getsockname4', 'CGROUP_SOCK_ADDR', 'cgroup_inet4_getsockname'],
  ['cgroup/getsockname6', 'CGROUP_SOCK_ADDR', 'cgroup_inet6_getsockname'],
  ['cgroup/sysctl', 'CGROUP_SYSCTL', 'cgroup_sysctl'], ['cgroup/getsockopt', 'CGROUP_SOCKOPT', 'cgroup_getsockopt'],
  ['cgroup/setsockopt', 'CGROUP_SOCKOPT', 'cgroup_setsockopt'], ['sk_lookup', 'SK_LOOKUP', 'sk_lookup'],
];

/** libbpf's `sec_def_matches`: `type/` needs the slash, `type+` is exact or `type/extra`, else exact. */
function matches(def: string, name: string): { ok: boolean; attachTo?: string } {
  if (def.endsWith('/')) return name.startsWith(def) ? { ok: true, attachTo: name.slice(def.length) } : { ok: false };
  if (def.endsWith('+')) {
    const pfx = def.slice(0, -1);
    if (!name.startsWith(pfx)) return { ok: false };
    if (name.length === pfx.length) return { ok: true };
    if (name[pfx.length] === '/') return { ok: true, attachTo: name.slice(pfx.length + 1) };
    return { ok: false };
  }
  return { ok: name === def };
}

function fromDef(def: Def, ruleKind: SectionRuleKind, attachTo: string | undefined): SectionProgramType {
  const [sec, progType, attach, flag] = def;
  const type = ProgType[progType]!;
  const out: SectionProgramType = {
    type,
    typeName: PROG_TYPE_NAMES[type]!,
    flags: flag === 'sleepable' ? BPF_F_SLEEPABLE : flag === 'frags' ? BPF_F_XDP_HAS_FRAGS : 0,
    rule: sec,
    ruleKind,
  };
  if (attach !== null) {
    out.expectedAttachType = AttachType[attach]!;
    out.expectedAttachTypeName = attach;
  }
  if (attachTo !== undefined && attachTo !== '') out.attachTo = attachTo;
  return out;
}

/**
 * The program type of section `name` (without a leading `?`, which only
 * turns autoload off). See docs/loader.md for the rules.
 */
export function programTypeOfSection(name: string): SectionProgramType {
  for (const def of SECTION_DEFS) {
    const m = matches(def[0], name);
    if (m.ok) return fromDef(def, 'libbpf', m.attachTo);
  }
  for (const def of LEGACY_PREFIX_DEFS) {
    if (name.startsWith(def[0])) {
      const rest = name.slice(def[0].length);
      return fromDef(def, 'libbpf-legacy', rest.startsWith('/') ? rest.slice(1) : undefined);
    }
  }
  const tail = /^(\d+)\/(\d+)$/.exec(name);
  if (tail) {
    return {
      type: ProgType['SCHED_CLS']!, typeName: 'sched_cls', flags: 0, rule: 'N/M', ruleKind: 'iproute2-tail-call',
      tailCall: { mapId: Number(tail[1]), key: Number(tail[2]) },
    };
  }
  return { type: 0, typeName: 'unspec', flags: 0, rule: '', ruleKind: 'unknown' };
}

/** The libbpf 1.x section patterns, for documentation and `--help` texts. */
export function sectionPatterns(): { section: string; type: string; expectedAttachType?: string; sleepable: boolean; xdpFrags: boolean }[] {
  return SECTION_DEFS.map(([sec, pt, at, flag]) => ({
    section: sec,
    type: PROG_TYPE_NAMES[ProgType[pt]!]!,
    ...(at !== null ? { expectedAttachType: at } : {}),
    sleepable: flag === 'sleepable',
    xdpFrags: flag === 'frags',
  }));
}
