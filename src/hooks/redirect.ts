/**
 * Redirects: `bpf_redirect` (23), `bpf_redirect_map` (51),
 * `bpf_redirect_neigh` (152), `bpf_redirect_peer` (155) and
 * `bpf_clone_redirect` (13), with Linux's flag checks and return values
 * (net/core/filter.c). As in the kernel, the helpers only record where the
 * packet goes (the per-CPU `struct bpf_redirect_info`); the driver (XDP) or
 * tc acts on it when the program returns `XDP_REDIRECT` /
 * `TC_ACT_REDIRECT`. A test run does not carry the redirect out; its
 * result names the target instead ({@link RedirectTarget}, docs/hooks.md).
 * `bpf_clone_redirect` does send a copy at once: the run's result lists
 * these clones.
 */
import { VmError } from '../errors.js';
import { helperIdentity } from '../vm/helper-call.js';
import type { Helper, HelperCall } from '../vm/helper-call.js';
import { MapDirectory } from '../vm/maps/directory.js';
import { RedirectMap } from '../vm/maps/devmap.js';
import type { RedirectEntry } from '../vm/maps/devmap.js';
import { mapTypeName } from '../vm/maps/bpf-map.js';
import type { HookContexts } from './contexts.js';
import { formatIp } from './net.js';
import { XdpAction } from './xdp.js';
import { MapType, TcAction } from '../isa/uapi.js';

const BPF_F_INGRESS = 1n;
/** `bpf_redirect_map` flags. */
const BPF_F_BROADCAST = 1n << 3n;
const BPF_F_EXCLUDE_INGRESS = 1n << 4n;
/** XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX: the low bits of the flags are the action when the key is missing. */
const XDP_ACTION_MASK = 3n;

/** Linux's `struct bpf_redirect_info`, as the helpers of one run leave it. */
export interface RedirectInfo {
  /** The target: an ifindex, or a map key. */
  tgtIndex: number;
  /** `bpf_redirect` target (an ifindex) or a map; `none` after a failed map lookup (the kernel's map type UNSPEC, id INT_MAX). */
  kind: 'none' | 'ifindex' | 'map';
  /** tc: ingress instead of egress (`BPF_F_INGRESS`). */
  ingress: boolean;
  /** tc: `bpf_redirect_neigh` / `bpf_redirect_peer`. */
  via?: 'neigh' | 'peer';
  /** `bpf_redirect_neigh` with a next hop: its address. */
  nexthop?: string;
  /** `bpf_redirect_map`: the map, its entry (undefined for a broadcast), and the broadcast flags. */
  map?: RedirectMap;
  entry?: RedirectEntry;
  broadcast?: { excludeIngress: boolean };
}

/** No redirect requested yet in this run. */
export function noRedirect(): RedirectInfo {
  return { tgtIndex: 0, kind: 'none', ingress: false };
}

/**
 * Where a redirect sends the packet, as a run's result reports it (and
 * `tsbpf prog run --json` prints it as `redirect`).
 */
export interface RedirectTarget {
  /** `ifindex` (bpf_redirect, _neigh, _peer) or the map type of bpf_redirect_map: devmap, devmap_hash, cpumap, xskmap. */
  type: 'ifindex' | 'devmap' | 'devmap_hash' | 'cpumap' | 'xskmap';
  /** The output device (ifindex targets, devmap entries, the device of an XSK socket). */
  ifindex?: number;
  /** Its name in the run's network, or null when it has no such device (the kernel drops the packet then). */
  device?: string | null;
  /** tc: delivered to the device's ingress (`BPF_F_INGRESS`) instead of sent out of it. */
  ingress?: boolean;
  /** tc: through the neighbour subsystem (`bpf_redirect_neigh`) or to the peer device (`bpf_redirect_peer`). */
  via?: 'neigh' | 'peer';
  /** `bpf_redirect_neigh`: the next hop the program gave. */
  nexthop?: string;
  /** `bpf_redirect_map`: the map's name and the key. */
  map?: string;
  key?: number;
  /** cpumap: the CPU and its queue size. */
  cpu?: number;
  qsize?: number;
  /** xskmap: the AF_XDP socket id and its queue. */
  socket?: number;
  queue?: number;
  /** devmap/cpumap entries: the id of the program the entry runs on the frame (0 = none). */
  program?: number;
  /** `BPF_F_BROADCAST`: every entry of the map receives a copy (`ifindexes`), but the ingress device with `BPF_F_EXCLUDE_INGRESS`. */
  broadcast?: { excludeIngress: boolean; ifindexes: number[] };
}

/** A copy `bpf_clone_redirect` sent. */
export interface ClonedPacket {
  ifindex: number;
  ingress: boolean;
  /** The packet as it left (from the MAC header). */
  data: Uint8Array;
}

/**
 * The target of the run's redirect, from the redirect info the helpers
 * left: undefined when the program never asked for a valid one (the kernel
 * drops the packet then: `xdp_do_redirect` and `skb_do_redirect` fail).
 */
export function redirectTarget(info: RedirectInfo, contexts: HookContexts, ingressIfindex: number): RedirectTarget | undefined {
  const device = (ifindex: number) => contexts.net.device(ifindex)?.name ?? null;
  if (info.kind === 'ifindex') {
    return {
      type: 'ifindex', ifindex: info.tgtIndex, device: device(info.tgtIndex), ingress: info.ingress,
      ...(info.via ? { via: info.via } : {}), ...(info.nexthop ? { nexthop: info.nexthop } : {}),
    };
  }
  if (info.kind !== 'map' || !info.map) return undefined;
  const map = info.map;
  const type = mapTypeName(map.type) as RedirectTarget['type'];
  if (info.broadcast) {
    const entries = map.redirectEntries().filter((e) => !(info.broadcast!.excludeIngress && e.ifindex === ingressIfindex));
    return { type, map: map.name, broadcast: { excludeIngress: info.broadcast.excludeIngress, ifindexes: entries.map((e) => e.ifindex) } };
  }
  const e = info.entry;
  if (!e) return undefined;
  switch (map.type) {
    case MapType.CPUMAP:
      return { type, map: map.name, key: e.key, cpu: e.key, qsize: e.qsize ?? 0, program: e.progId };
    case MapType.XSKMAP:
      return { type, map: map.name, key: e.key, socket: e.socket!, queue: e.queueId!, ifindex: e.ifindex, device: device(e.ifindex) };
    default:
      return { type, map: map.name, key: e.key, ifindex: e.ifindex, device: device(e.ifindex), program: e.progId };
  }
}

/** One line describing a target, for `tsbpf prog run`. */
export function describeRedirect(t: RedirectTarget | undefined): string {
  if (!t) return 'no target (the program returned the redirect action without a successful redirect helper call: the kernel drops the packet)';
  const dev = (ifindex: number | undefined, name: string | null | undefined) => `ifindex ${ifindex}${name ? ` (${name})` : name === null ? ' (no such device: the kernel drops the packet)' : ''}`;
  if (t.type === 'ifindex') {
    const how = t.via === 'neigh' ? `, through the neighbour subsystem${t.nexthop ? ` via ${t.nexthop}` : ''}` : t.via === 'peer' ? ', to its peer device' : '';
    return `${dev(t.ifindex, t.device)}, ${t.ingress ? 'ingress' : 'egress'}${how}`;
  }
  if (t.broadcast) {
    return `broadcast through ${t.type} '${t.map}'${t.broadcast.excludeIngress ? ' (excluding the ingress device)' : ''} to ${t.broadcast.ifindexes.length ? t.broadcast.ifindexes.map((i) => `ifindex ${i}`).join(', ') : 'no device'}`;
  }
  const prog = t.program ? `, running program ${t.program}` : '';
  if (t.type === 'cpumap') return `CPU ${t.cpu} through cpumap '${t.map}' (queue size ${t.qsize})${prog}`;
  if (t.type === 'xskmap') return `AF_XDP socket ${t.socket} (queue ${t.queue} of ${dev(t.ifindex, t.device)}) through xskmap '${t.map}' key ${t.key}`;
  return `${dev(t.ifindex, t.device)} through ${t.type} '${t.map}' key ${t.key}${prog}`;
}

/** The map argument of `bpf_redirect_map`. */
function redirectMapArg(c: HelperCall): RedirectMap {
  const addr = c.num(1);
  const map = MapDirectory.of(c.space).byAddress(addr);
  if (map === undefined) throw new VmError(`bpf_redirect_map: R1 = ${c.space.describe(addr)} is not a map pointer`, { insn: c.pc });
  if (!(map instanceof RedirectMap)) {
    throw new VmError(`cannot pass map_type ${map.type} into func bpf_redirect_map#51: map '${map.name}' is a ${map.typeName} (the Linux verifier refuses this call)`, { insn: c.pc });
  }
  return map;
}

/** The XDP redirect helpers. */
export function xdpRedirectHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      // bpf_xdp_redirect: any flag aborts; the target is an ifindex.
      ...helperIdentity('bpf_redirect'), fn: (c) => {
        if (c.u64(2) !== 0n) return c.ret(XdpAction.ABORTED);
        contexts.redirect = { tgtIndex: c.u32(1), kind: 'ifindex', ingress: false };
        c.ret(XdpAction.REDIRECT);
      },
    },
    {
      // __bpf_xdp_redirect_map: devmaps take BPF_F_BROADCAST and BPF_F_EXCLUDE_INGRESS; the low bits are the action
      // when the key has no entry.
      ...helperIdentity('bpf_redirect_map'), fn: (c) => {
        const map = redirectMapArg(c);
        const key = c.u32(2);
        const flags = c.u64(3);
        const devmap = map.type === MapType.DEVMAP || map.type === MapType.DEVMAP_HASH;
        const allowed = XDP_ACTION_MASK | (devmap ? BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS : 0n);
        if (flags & ~allowed) return c.ret(XdpAction.ABORTED);
        const entry = map.redirectEntry(key);
        const broadcast = (flags & BPF_F_BROADCAST) !== 0n;
        if (!entry && !broadcast) {
          // The kernel clears the map from the redirect info, so the last lookup wins; the target index stays.
          contexts.redirect = { ...contexts.redirect, kind: 'none' };
          return c.ret(Number(flags & XDP_ACTION_MASK));
        }
        contexts.redirect = {
          tgtIndex: key, kind: 'map', ingress: false, map,
          ...(entry ? { entry } : {}),
          ...(broadcast ? { broadcast: { excludeIngress: (flags & BPF_F_EXCLUDE_INGRESS) !== 0n } } : {}),
        };
        c.ret(XdpAction.REDIRECT);
      },
    },
  ];
}

/** The socket-buffer redirect helpers (tc, lwt_xmit). */
export function skbRedirectHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      // Any flag but BPF_F_INGRESS (or an internal one) is TC_ACT_SHOT.
      ...helperIdentity('bpf_redirect'), fn: (c) => {
        const flags = c.u64(2);
        if (flags & ~BPF_F_INGRESS) return c.ret(TcAction.SHOT);
        contexts.redirect = { tgtIndex: c.u32(1), kind: 'ifindex', ingress: flags !== 0n };
        c.ret(TcAction.REDIRECT);
      },
    },
    {
      ...helperIdentity('bpf_redirect_peer'), fn: (c) => {
        if (c.u64(2) !== 0n) return c.ret(TcAction.SHOT);
        contexts.redirect = { tgtIndex: c.u32(1), kind: 'ifindex', ingress: true, via: 'peer' };
        c.ret(TcAction.REDIRECT);
      },
    },
    {
      // bpf_redirect_neigh(ifindex, params, plen, flags): params is a struct bpf_redir_neigh (20 bytes) or NULL.
      ...helperIdentity('bpf_redirect_neigh'), fn: (c) => {
        const plen = c.i32(3);
        if ((plen !== 0 && plen < 20) || c.u64(4) !== 0n) return c.ret(TcAction.SHOT);
        let nexthop: string | undefined;
        if (plen !== 0) {
          const p = c.ptr(2, 20);
          const family = c.space.data.getUint32(p, true);
          nexthop = family === 2 ? formatIp(c.space.read(p + 4, 4)) : family === 10 ? formatIp(c.space.read(p + 4, 16)) : `family ${family}`;
        }
        contexts.redirect = { tgtIndex: c.u32(1), kind: 'ifindex', ingress: false, via: 'neigh', ...(nexthop ? { nexthop } : {}) };
        c.ret(TcAction.REDIRECT);
      },
    },
  ];
}
