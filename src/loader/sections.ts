/**
 * From an ELF section name to a program type: one table of rules, tried in
 * order (docs/loader.md "Section → program type" prints it, see
 * {@link sectionRules}). First libbpf 1.x (its `section_defs` and matching
 * rules), then, for names libbpf 1.x does not know, the conventions of the
 * loaders real objects were written for: libbpf 0.x "sloppy" prefixes
 * (`socket1`, `xdp_prog`, `classifier/ingress`; samples/bpf's bpf_load.c
 * matches the same prefixes), iproute2 (`prog`, tail-call sections `2/7`,
 * `1/0x0a`), Open vSwitch (`ingress`, `egress`, `downcall`, `tail-N`),
 * Suricata (`filter`, `loadbalancer`) and Cilium's tc entry points
 * (`from-container`, ...). Anything else is `unspec`.
 */
import { ATTACH_TYPE_NAMES, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, PROG_TYPE_NAMES, ProgType } from '../isa/uapi.js';
import type { AttachTypeName } from '../isa/uapi.js';

/**
 * Which loader's convention a section rule comes from: `libbpf` (1.x
 * `section_defs`), `libbpf-legacy` (libbpf 0.x "sloppy" prefixes, which
 * samples/bpf's bpf_load.c and Suricata's loader share), `iproute2`,
 * `iproute2-tail-call` (iproute2's `id/key` sections), `ovs` (Open
 * vSwitch's eBPF datapath loader), `suricata`, `cilium` (Cilium's tc
 * loader before BTF-era section names), or `unknown`.
 */
export type SectionRuleKind = 'libbpf' | 'libbpf-legacy' | 'iproute2' | 'iproute2-tail-call' | 'ovs' | 'suricata' | 'cilium' | 'unknown';

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
  /** The table entry that matched (`kprobe+`, `xdp`, `socket` (legacy prefix), `N/M`, `tail-N`). */
  rule: string;
  /** Which loader's convention matched. */
  ruleKind: SectionRuleKind;
  /** What follows `type/` for attachable names (`do_nanosleep` in `kprobe/do_nanosleep`). */
  attachTo?: string;
  /** Tail-call sections (iproute2 `N/M`, OVS `tail-N`): where the program goes. */
  tailCall?: SectionTailCall;
}

/** A tail-call convention read from a section name (see ProgramSpec.tailCall). */
export interface SectionTailCall {
  /** iproute2: the `id` of the prog array's `struct bpf_elf_map`. */
  mapId?: number;
  /** OVS: the prog array's name. */
  map?: string;
  key: number;
  loader: 'iproute2' | 'ovs' | 'samples';
}

type Flag = 'sleepable' | 'frags' | 'none';
type Def = readonly [sec: string, progType: keyof typeof ProgType, attach: AttachTypeName | null, flag?: Flag];

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

/**
 * Section names of loaders other than libbpf, for names no libbpf rule
 * knows: `[section, program type, loader, note]`, matched exactly.
 */
const OTHER_LOADER_DEFS: readonly (readonly [sec: string, progType: keyof typeof ProgType, kind: SectionRuleKind, note: string])[] = [
  ['prog', 'XDP', 'iproute2', "iproute2's default section for `ip link ... xdp obj` (lwt programs use it too: `--prog-type`)"],
  ['ingress', 'SCHED_CLS', 'ovs', 'OVS eBPF datapath entry point (tc ingress)'],
  ['egress', 'SCHED_CLS', 'ovs', 'OVS eBPF datapath entry point (tc egress)'],
  ['downcall', 'SCHED_CLS', 'ovs', 'OVS eBPF datapath entry point (packets from user space)'],
  ['filter', 'SOCKET_FILTER', 'suricata', "Suricata's `ebpf-filter-file` section (loaded as a socket filter)"],
  ['loadbalancer', 'SOCKET_FILTER', 'suricata', "Suricata's `ebpf-lb-file` section (loaded as a socket filter)"],
  ['from-container', 'SCHED_CLS', 'cilium', "Cilium's tc entry points (bpf_lxc.o, bpf_host.o, bpf_overlay.o ...)"],
  ['to-container', 'SCHED_CLS', 'cilium', ''],
  ['from-netdev', 'SCHED_CLS', 'cilium', "bpf_xdp.o's `from-netdev` is an XDP program: `--prog-type xdp`"],
  ['to-netdev', 'SCHED_CLS', 'cilium', ''],
  ['from-host', 'SCHED_CLS', 'cilium', ''],
  ['to-host', 'SCHED_CLS', 'cilium', ''],
  ['from-overlay', 'SCHED_CLS', 'cilium', ''],
  ['to-overlay', 'SCHED_CLS', 'cilium', ''],
  ['from-network', 'SCHED_CLS', 'cilium', ''],
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
  const type = ProgType[progType];
  const out: SectionProgramType = {
    type,
    typeName: PROG_TYPE_NAMES[type]!,
    flags: flag === 'sleepable' ? BPF_F_SLEEPABLE : flag === 'frags' ? BPF_F_XDP_HAS_FRAGS : 0,
    rule: sec,
    ruleKind,
  };
  if (attach !== null) {
    out.expectedAttachType = ATTACH_TYPE_NAMES.indexOf(attach);
    out.expectedAttachTypeName = attach;
  }
  if (attachTo !== undefined && attachTo !== '') out.attachTo = attachTo;
  return out;
}

/** C's `%i` conversion at the start of `text` (sign, `0x` hex, `0` octal, decimal) as a u32, with the characters it used. */
function scanInt(text: string): { value: number; length: number } | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return undefined;
  const digits = m[2]!;
  let v = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits.startsWith('0') ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
  if (m[1] === '-') v = -v;
  return { value: Number(BigInt.asUintN(32, v)), length: m[0].length };
}

/** iproute2's `sscanf(name, "%i/%i", &map_id, &key)` (trailing characters are ignored, as sscanf does). */
export function iproute2TailCall(name: string): { mapId: number; key: number } | undefined {
  const a = scanInt(name);
  if (!a || name[a.length] !== '/') return undefined;
  const b = scanInt(name.slice(a.length + 1));
  return b ? { mapId: a.value, key: b.value } : undefined;
}

/**
 * samples/bpf's bpf_load.c tail-call sections: `socket/N`, `kprobe/N`,
 * `kretprobe/N`, `sockops/N`, `sk_skb/N`, `sk_msg/N` with N starting with a
 * digit (`atoi`) go at key N of the last prog array of the `maps` section.
 */
export function samplesTailCallKey(name: string): number | undefined {
  const m = /^(?:socket|kprobe|kretprobe|sockops|sk_skb|sk_msg)\/([0-9]+)/.exec(name);
  return m ? Number(BigInt.asUintN(32, BigInt(m[1]!))) : undefined;
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
  for (const [sec, progType, kind] of OTHER_LOADER_DEFS) {
    if (name === sec) return fromDef([sec, progType, null], kind, undefined);
  }
  const ovs = /^tail-([0-9]+)$/.exec(name);
  if (ovs) {
    return {
      type: ProgType.SCHED_CLS, typeName: 'sched_cls', flags: 0, rule: 'tail-N', ruleKind: 'ovs',
      tailCall: { map: 'tailcalls', key: Number(BigInt.asUintN(32, BigInt(ovs[1]!))), loader: 'ovs' },
    };
  }
  const tail = iproute2TailCall(name);
  if (tail) {
    return {
      type: ProgType.SCHED_CLS, typeName: 'sched_cls', flags: 0, rule: 'N/M', ruleKind: 'iproute2-tail-call',
      tailCall: { ...tail, loader: 'iproute2' },
    };
  }
  return { type: 0, typeName: 'unspec', flags: 0, rule: '', ruleKind: 'unknown' };
}

/** One row of the section table (docs/loader.md "Section → program type"). */
export interface SectionRule {
  /** The pattern: libbpf's `name`, `name+`, `name/`; a prefix (`name*`); `N/M`, `tail-N`. */
  section: string;
  type: string;
  expectedAttachType?: string;
  sleepable: boolean;
  xdpFrags: boolean;
  /** The loader convention the row comes from. */
  loader: SectionRuleKind | 'samples';
  note: string;
}

/** The libbpf 1.x section patterns, for documentation and `--help` texts. */
export function sectionPatterns(): { section: string; type: string; expectedAttachType?: string; sleepable: boolean; xdpFrags: boolean }[] {
  return SECTION_DEFS.map(([sec, pt, at, flag]) => ({
    section: sec,
    type: PROG_TYPE_NAMES[ProgType[pt]]!,
    ...(at !== null ? { expectedAttachType: at } : {}),
    sleepable: flag === 'sleepable',
    xdpFrags: flag === 'frags',
  }));
}

/** Notes on libbpf rows that other loaders share. */
const LIBBPF_NOTES: Readonly<Record<string, string>> = {
  classifier: "also iproute2's default section for `tc filter ... bpf obj` (ELF_SECTION_CLASSIFIER)",
  action: "also iproute2's default section for `tc action ... bpf obj` (ELF_SECTION_ACTION)",
  xdp: 'also Suricata\'s `xdp-filter-file` section',
  'kprobe+': 'also samples/bpf (`kprobe/N`: tail call, see below)',
  'kretprobe+': 'also samples/bpf (`kretprobe/N`: tail call)',
  'tracepoint+': 'also samples/bpf',
  'raw_tracepoint+': 'also samples/bpf',
};

const LEGACY_NOTES: Readonly<Record<string, string>> = {
  socket: 'also samples/bpf (`socket/N`: tail call at key N of the last prog array)',
  xdp: 'also samples/bpf',
  perf_event: 'also samples/bpf',
  'cgroup/skb': 'also samples/bpf',
  'cgroup/sock': 'also samples/bpf',
  sockops: 'also samples/bpf (`sockops/N`: tail call)',
  sk_skb: 'also samples/bpf (`sk_skb/N`: tail call)',
  sk_msg: 'also samples/bpf (`sk_msg/N`: tail call)',
};

/** A row of the docs/loader.md table: `| \`section\` | type | attach type | flags | loader | note |`. */
export function sectionTableRow(r: SectionRule): string {
  const flags = [r.sleepable ? 'sleepable' : '', r.xdpFrags ? 'xdp frags' : ''].filter(Boolean).join(', ');
  return `| \`${r.section}\` | ${r.type} | ${r.expectedAttachType ?? ''} | ${flags} | ${r.loader} | ${r.note.replace(/\|/g, '\\|')} |`;
}

/** Every section rule, in the order they are tried: the one table docs/loader.md shows. */
export function sectionRules(): SectionRule[] {
  const row = (def: Def, loader: SectionRule['loader'], section: string, note: string): SectionRule => {
    const [, pt, at, flag] = def;
    return {
      section, type: PROG_TYPE_NAMES[ProgType[pt]]!, ...(at !== null ? { expectedAttachType: at } : {}),
      sleepable: flag === 'sleepable', xdpFrags: flag === 'frags', loader, note,
    };
  };
  return [
    ...SECTION_DEFS.map((d) => row(d, 'libbpf', d[0], LIBBPF_NOTES[d[0]] ?? '')),
    ...LEGACY_PREFIX_DEFS.map((d) => row(d, 'libbpf-legacy', `${d[0]}*`, LEGACY_NOTES[d[0]] ?? '')),
    ...OTHER_LOADER_DEFS.map(([sec, pt, kind, note]) => row([sec, pt, null], kind, sec, note)),
    { section: 'tail-N', type: 'sched_cls', sleepable: false, xdpFrags: false, loader: 'ovs', note: 'installed at key N of the prog array `tailcalls`' },
    {
      section: 'N/M', type: 'sched_cls', sleepable: false, xdpFrags: false, loader: 'iproute2-tail-call',
      note: "`sscanf(\"%i/%i\")` (Cilium writes `1/0x0a`): installed at key M of the prog array whose `struct bpf_elf_map` id is N; the type is the loading command's (tc filter: sched_cls): tsbpf takes the one the object's other programs agree on, else sched_cls",
    },
  ];
}
