/**
 * The network a run sees: interfaces, routes and neighbours, the way the
 * kernel's BPF_PROG_TEST_RUN sees the network namespace it runs in
 * (docs/hooks.md, "The network"). By default it is the reference setup's
 * empty namespace: only `lo` (ifindex 1, down, MTU 65536, no forwarding).
 * A user describes another one in JSON (`tsbpf prog run --fib FILE`), and
 * the helpers that need devices or routes (`bpf_fib_lookup`,
 * `bpf_check_mtu`, `bpf_clone_redirect`, devmaps) consult it.
 *
 * FIB lookups follow `bpf_ipv4_fib_lookup` / `bpf_ipv6_fib_lookup`
 * (net/core/filter.c) over a simplified FIB: the local, main and default
 * tables (no policy rules), longest prefix first and then the lowest
 * metric, one next hop per route.
 */
import { TsbpfError } from '../errors.js';

/** An IPv4 or IPv6 address: 4 or 16 bytes in network order. */
export type IpAddress = Uint8Array;

/** An address with a prefix length. */
export interface IpPrefix {
  address: IpAddress;
  prefixLen: number;
}

/** A network interface. */
export interface NetInterface {
  ifindex: number;
  name: string;
  /** Ethernet address (6 bytes). */
  mac: Uint8Array;
  mtu: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** `net.ipv4.conf.<dev>.forwarding`. */
  forwarding: boolean;
  /** `net.ipv6.conf.<dev>.forwarding`. */
  forwarding6: boolean;
  /** Link-layer header length (`dev->hard_header_len`): 14 for Ethernet and loopback. */
  hardHeaderLen: number;
  /** Addresses with their prefix lengths (IPv4 and IPv6). */
  addresses: IpPrefix[];
  /** The ifindex of the peer device (veth, netkit), for `bpf_redirect_peer`. */
  peer?: number;
}

/** Route types (`RTN_*`). */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

/** A route. */
export interface Route {
  /** Destination prefix (its length gives the family). */
  dst: IpPrefix;
  type: RouteType;
  /** Gateway (may be IPv6 for an IPv4 route). */
  via?: IpAddress;
  /** Output interface. */
  dev?: number;
  /** Priority (`metric`); lower wins among routes of one prefix. */
  metric: number;
  /** Routing table: 255 local, 254 main (default), 253 default, or another id. */
  table: number;
  /** Preferred source address (`src`). */
  src?: IpAddress;
  /** Route MTU (`mtu`); IPv4 uses it only when locked, as the kernel does without `ip_forward_use_pmtu`. */
  mtu?: number;
  mtuLock?: boolean;
}

/** A neighbour (ARP / NDP) entry. */
export interface Neighbour {
  ip: IpAddress;
  mac: Uint8Array;
  ifindex: number;
  /** NUD_VALID (permanent, reachable, stale, ...); false for incomplete or failed entries. */
  valid: boolean;
}

/** Routing tables. */
export const RT_TABLE = { DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** `bpf_fib_lookup` return codes (`BPF_FIB_LKUP_RET_*`). */
export const FibResult = {
  SUCCESS: 0, BLACKHOLE: 1, UNREACHABLE: 2, PROHIBIT: 3, NOT_FWDED: 4, FWD_DISABLED: 5, UNSUPP_LWT: 6,
  NO_NEIGH: 7, FRAG_NEEDED: 8, NO_SRC_ADDR: 9,
} as const;

/** `bpf_fib_lookup` flags. */
export const FibFlags = { DIRECT: 1, OUTPUT: 2, SKIP_NEIGH: 4, TBID: 8, SRC: 16, MARK: 32 } as const;

const IP_MAX_MTU = 0xffff;
const IP6_MAX_MTU = 0xffff + 40;

function fail(reason: string): never {
  throw new TsbpfError(reason);
}

/** Parses a dotted IPv4 or an IPv6 address (with `::`, and a trailing dotted quad). */
export function parseIp(text: string): IpAddress {
  const s = text.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((p) => p > 255)) fail(`'${text}' is not an IPv4 address`);
    return Uint8Array.from(parts);
  }
  if (!s.includes(':')) fail(`'${text}' is not an IP address`);
  let head = s;
  let tail4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail4 = [...parseIp(s.slice(lastColon + 1))];
    head = s.slice(0, lastColon + 1) + (s.endsWith('::') ? '' : '0:0');
  }
  const halves = head.split('::');
  if (halves.length > 2) fail(`'${text}' is not an IPv6 address`);
  const words = (h: string): number[] => (h === '' ? [] : h.split(':').map((w) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) fail(`'${text}' is not an IPv6 address`);
    return parseInt(w, 16);
  }));
  const left = words(halves[0]!);
  const right = halves.length === 2 ? words(halves[1]!) : [];
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) fail(`'${text}' is not an IPv6 address`);
  const all = [...left, ...new Array<number>(8 - total).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  if (tail4.length) out.set(tail4, 12);
  return out;
}

/** Formats an address the way `ip` prints it. */
export function formatIp(a: IpAddress): string {
  if (a.length === 4) return [...a].join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i]! << 8) | a[i + 1]!);
  // The longest run of zero words becomes '::'.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  return best < 0 ? hex(words) : `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** Parses `10.0.0.0/8`, `fd00::/64`, an address alone (a host prefix) or `default` / `default6`. */
export function parsePrefix(text: string, family?: 4 | 6): IpPrefix {
  if (text === 'default' || text === 'default6') {
    const v6 = text === 'default6' || family === 6;
    return { address: new Uint8Array(v6 ? 16 : 4), prefixLen: 0 };
  }
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  const max = address.length * 8;
  const prefixLen = slash < 0 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) fail(`'${text}': bad prefix length`);
  return { address, prefixLen };
}

/** Parses `aa:bb:cc:dd:ee:ff`. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) fail(`'${text}' is not an Ethernet address`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Formats an Ethernet address. */
export function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Whether `addr` lies in `prefix` (same family). */
export function inPrefix(addr: IpAddress, prefix: IpPrefix): boolean {
  if (addr.length !== prefix.address.length) return false;
  let bits = prefix.prefixLen;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i]! & mask) !== (prefix.address[i]! & mask)) return false;
  }
  return true;
}

/** Byte `i` of the mask of a `/len` prefix. */
function prefixMask(len: number, i: number): number {
  const bits = len - 8 * i;
  return bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
}

function masked(p: IpPrefix): IpPrefix {
  const address = new Uint8Array(p.address.length);
  let bits = p.prefixLen;
  for (let i = 0; bits > 0; i++, bits -= 8) address[i] = p.address[i]! & (bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
  return { address, prefixLen: p.prefixLen };
}

function sameIp(a: IpAddress, b: IpAddress): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** `rt6_need_strict`: multicast, link-local and loopback IPv6 addresses are never forwarded. */
function needStrict6(a: IpAddress): boolean {
  if (a[0] === 0xff) return true;
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) return true;
  return a.subarray(0, 15).every((b) => b === 0) && a[15] === 1;
}

/** The fields of `struct bpf_fib_lookup` (64 bytes) a lookup reads and writes. */
export interface FibParams {
  family: number;
  l4Protocol: number;
  sport: number;
  dport: number;
  /** `tot_len` in, `mtu_result` out (host order). */
  totLen: number;
  ifindex: number;
  /** `tos` (IPv4) / `flowinfo` (IPv6) in, `rt_metric` out: the raw u32. */
  word12: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** `h_vlan_proto`/`h_vlan_TCI` out, `tbid` in: the raw u32 at offset 48. */
  word48: number;
  /** `mark` in (offset 52), `smac`/`dmac` out (52..63). */
  tail: Uint8Array;
}

/** `struct bpf_fib_lookup` in a 64-byte view. */
export function readFibParams(b: Uint8Array): FibParams {
  const v = new DataView(b.buffer, b.byteOffset, 64);
  return {
    family: b[0]!, l4Protocol: b[1]!, sport: v.getUint16(2, false), dport: v.getUint16(4, false),
    totLen: v.getUint16(6, true), ifindex: v.getUint32(8, true), word12: v.getUint32(12, true),
    src: b.slice(16, 32), dst: b.slice(32, 48), word48: v.getUint32(48, true), tail: b.slice(52, 64),
  };
}

/** Writes `p` back into a 64-byte `struct bpf_fib_lookup`. */
export function writeFibParams(b: Uint8Array, p: FibParams): void {
  const v = new DataView(b.buffer, b.byteOffset, 64);
  b[0] = p.family;
  b[1] = p.l4Protocol;
  v.setUint16(2, p.sport, false);
  v.setUint16(4, p.dport, false);
  v.setUint16(6, p.totLen, true);
  v.setUint32(8, p.ifindex, true);
  v.setUint32(12, p.word12, true);
  b.set(p.src, 16);
  b.set(p.dst, 32);
  v.setUint32(48, p.word48, true);
  b.set(p.tail, 52);
}

/** The routes of one lookup's candidate set. */
interface Candidate {
  route: Route;
  /** Connected routes are in the main table with no gateway. */
}

/** The network a run sees. */
export class NetNamespace {
  readonly interfaces = new Map<number, NetInterface>();
  readonly routes: Route[] = [];
  readonly neighbours: Neighbour[] = [];
  /** The namespace's cookie (`bpf_get_netns_cookie`). */
  cookie = 1n;

  /** The reference setup's namespace: `lo` alone, down. */
  constructor() {
    this.interfaces.set(1, loopback());
  }

  /** The interface with `ifindex`. */
  device(ifindex: number): NetInterface | undefined {
    return this.interfaces.get(ifindex);
  }

  /** The interface called `name`. */
  deviceByName(name: string): NetInterface | undefined {
    for (const d of this.interfaces.values()) if (d.name === name) return d;
    return undefined;
  }

  /**
   * The routes in force: the given ones on up interfaces (or without one),
   * plus what the kernel adds for the addresses of up interfaces: a local
   * route per address (for the loopback device, its whole prefix) and an
   * IPv4 broadcast route in the local table, and a connected route per
   * prefix in the main table (metric 0 for IPv4, 256 for IPv6).
   */
  effectiveRoutes(): Route[] {
    const out: Route[] = [];
    for (const d of this.interfaces.values()) {
      if (!d.up) continue;
      for (const a of d.addresses) {
        const bits = a.address.length * 8;
        const loopback = d.ifindex === 1;
        out.push({ dst: loopback ? masked(a) : { address: a.address, prefixLen: bits }, type: 'local', dev: d.ifindex, metric: 0, table: RT_TABLE.LOCAL, src: a.address });
        if (loopback) continue;
        if (a.address.length === 4 && a.prefixLen < 31) {
          const bcast = masked(a).address.map((b, i) => b | (~prefixMask(a.prefixLen, i) & 0xff));
          out.push({ dst: { address: bcast, prefixLen: 32 }, type: 'broadcast', dev: d.ifindex, metric: 0, table: RT_TABLE.LOCAL, src: a.address });
        }
        if (a.prefixLen < bits || a.address.length === 16) {
          out.push({ dst: masked(a), type: 'unicast', dev: d.ifindex, metric: a.address.length === 4 ? 0 : 256, table: RT_TABLE.MAIN, src: a.address });
        }
      }
    }
    for (const r of this.routes) {
      if (r.dev !== undefined && !this.interfaces.get(r.dev)?.up) continue;
      out.push(r);
    }
    return out;
  }

  /** The best route of `tables` for `dst` (longest prefix, then lowest metric), optionally only through `oif`. */
  private lookupTables(routes: readonly Route[], tables: readonly number[], dst: IpAddress, oif: number): Route | undefined {
    let best: Candidate | undefined;
    for (const route of routes) {
      if (!tables.includes(route.table) || route.dst.address.length !== dst.length || !inPrefix(dst, route.dst)) continue;
      if (oif && route.type === 'unicast' && route.dev !== oif) continue;
      if (!best || route.dst.prefixLen > best.route.dst.prefixLen
        || (route.dst.prefixLen === best.route.dst.prefixLen && route.metric < best.route.metric)) best = { route };
    }
    return best?.route;
  }

  /** Whether a table exists (`fib_get_table`): local, main, default, or one a route names. */
  private hasTable(table: number): boolean {
    return table === RT_TABLE.LOCAL || table === RT_TABLE.MAIN || table === RT_TABLE.DEFAULT || this.routes.some((r) => r.table === table);
  }

  /** A valid neighbour entry for `ip` on `ifindex`. */
  neighbour(ifindex: number, ip: IpAddress): Neighbour | undefined {
    return this.neighbours.find((n) => n.ifindex === ifindex && n.valid && sameIp(n.ip, ip));
  }

  /** The source address the kernel would pick on `dev` (`inet_select_addr` / `ipv6_dev_get_saddr`, simplified). */
  private sourceAddress(dev: NetInterface, family: 4 | 6, toward?: IpAddress): IpAddress | undefined {
    const candidates = dev.addresses.filter((a) => a.address.length === (family === 4 ? 4 : 16) && !(family === 6 && needStrict6(a.address)));
    if (toward) {
      const near = candidates.find((a) => inPrefix(toward, a));
      if (near) return near.address;
    }
    return candidates[0]?.address;
  }

  /**
   * `bpf_fib_lookup` on `p` (modified in place, as the kernel writes the
   * caller's struct). `checkMtu`: XDP always, tc when `tot_len` is set.
   * Returns the helper's result: a `BPF_FIB_LKUP_RET_*` code or -errno.
   */
  fibLookup(p: FibParams, flags: number, checkMtu: boolean): number {
    if (p.family === 2) return this.lookup4(p, flags, checkMtu);
    if (p.family === 10) return this.lookup6(p, flags, checkMtu);
    return -97; // -EAFNOSUPPORT
  }

  /**
   * The route for `dst`. Without policy rules (tsbpf has none), the kernel
   * keeps the local table merged into the main one: a lookup searches both
   * as one table, then the default table; a direct lookup (`DIRECT`) only
   * the main (merged) table or, with `TBID`, the table given.
   */
  private lookupRoute(p: FibParams, flags: number, dst: IpAddress, oif: number): Route | 'no-table' | undefined {
    const routes = this.effectiveRoutes();
    const merged: number[] = [RT_TABLE.LOCAL, RT_TABLE.MAIN];
    if (flags & FibFlags.DIRECT) {
      const table = flags & FibFlags.TBID ? p.word48 : RT_TABLE.MAIN;
      if (flags & FibFlags.TBID) p.word48 = 0;
      if (!this.hasTable(table)) return 'no-table';
      return this.lookupTables(routes, merged.includes(table) ? merged : [table], dst, oif);
    }
    for (const tables of [merged, [RT_TABLE.DEFAULT]]) {
      const r = this.lookupTables(routes, tables, dst, oif);
      if (r && r.type !== 'throw') return r;
    }
    return undefined;
  }

  private lookup4(p: FibParams, flags: number, checkMtu: boolean): number {
    const dev = this.interfaces.get(p.ifindex);
    if (!dev) return -19; // -ENODEV
    if (!dev.forwarding) return FibResult.FWD_DISABLED;
    const dst = p.dst.slice(0, 4);
    const oif = flags & FibFlags.OUTPUT ? p.ifindex : 0;
    const route = this.lookupRoute(p, flags, dst, oif);
    if (route === 'no-table' || route === undefined) return FibResult.NOT_FWDED;
    switch (route.type) {
      case 'blackhole': return FibResult.BLACKHOLE;
      case 'unreachable': return FibResult.UNREACHABLE;
      case 'prohibit': return FibResult.PROHIBIT;
      case 'unicast': break;
      default: return FibResult.NOT_FWDED;
    }
    const out = this.interfaces.get(route.dev ?? 0);
    if (!out) return FibResult.NOT_FWDED;
    let mtu = 0;
    if (checkMtu) {
      mtu = route.mtu !== undefined && route.mtuLock ? route.mtu : Math.min(out.mtu, IP_MAX_MTU);
      if (p.totLen > mtu) {
        p.totLen = mtu & 0xffff;
        return FibResult.FRAG_NEEDED;
      }
    }
    p.word12 = route.metric >>> 0;
    p.ifindex = out.ifindex;
    if (flags & FibFlags.SRC) {
      const src = route.src ?? this.sourceAddress(out, 4, route.via?.length === 4 ? route.via : dst) ?? new Uint8Array(4);
      p.src.set(src.subarray(0, 4), 0);
    }
    let nextHop: IpAddress = dst;
    if (route.via?.length === 16) {
      p.family = 10;
      p.dst.set(route.via, 0);
      nextHop = route.via;
    } else if (route.via) {
      p.dst.set(route.via, 0);
      nextHop = route.via;
    }
    if (!(flags & FibFlags.SKIP_NEIGH)) {
      const n = this.neighbour(out.ifindex, nextHop);
      if (!n) return FibResult.NO_NEIGH;
      p.tail.set(out.mac, 0);
      p.tail.set(n.mac, 6);
    }
    p.word48 = 0;
    if (mtu) p.totLen = mtu & 0xffff;
    return FibResult.SUCCESS;
  }

  private lookup6(p: FibParams, flags: number, checkMtu: boolean): number {
    const dst = p.dst.slice(0, 16);
    const src = p.src.slice(0, 16);
    if (needStrict6(dst) || needStrict6(src)) return FibResult.NOT_FWDED;
    const dev = this.interfaces.get(p.ifindex);
    if (!dev) return -19;
    if (!dev.forwarding6) return FibResult.FWD_DISABLED;
    const oif = flags & FibFlags.OUTPUT ? p.ifindex : 0;
    const route = this.lookupRoute(p, flags, dst, oif);
    if (route === 'no-table' || route === undefined) return FibResult.NOT_FWDED;
    switch (route.type) {
      case 'unicast': break;
      case 'blackhole': return FibResult.BLACKHOLE;
      case 'unreachable': return FibResult.UNREACHABLE;
      case 'prohibit': return FibResult.PROHIBIT;
      default: return FibResult.NOT_FWDED;
    }
    const out = this.interfaces.get(route.dev ?? 0);
    if (!out) return FibResult.NOT_FWDED;
    let mtu = 0;
    if (checkMtu) {
      // ip6_mtu_from_fib6: a locked route MTU, else the device's (at least IPV6_MIN_MTU).
      mtu = Math.min(route.mtu !== undefined && route.mtuLock ? route.mtu : Math.max(1280, out.mtu), IP6_MAX_MTU);
      if (p.totLen > mtu) {
        p.totLen = mtu & 0xffff;
        return FibResult.FRAG_NEEDED;
      }
    }
    if (route.via) p.dst.set(route.via, 0);
    p.word12 = route.metric >>> 0;
    p.ifindex = out.ifindex;
    if (flags & FibFlags.SRC) {
      const chosen = route.src ?? this.sourceAddress(out, 6, dst);
      if (!chosen) return FibResult.NO_SRC_ADDR;
      p.src.set(chosen, 0);
    }
    if (!(flags & FibFlags.SKIP_NEIGH)) {
      const n = this.neighbour(out.ifindex, p.dst.slice(0, 16));
      if (!n) return FibResult.NO_NEIGH;
      p.tail.set(out.mac, 0);
      p.tail.set(n.mac, 6);
    }
    p.word48 = 0;
    if (mtu) p.totLen = mtu & 0xffff;
    return FibResult.SUCCESS;
  }

  /**
   * A namespace from its JSON description (docs/hooks.md, "The network"):
   * `{"interfaces":[...],"routes":[...],"neighbours":[...]}`.
   */
  static fromJson(text: string, source = 'network description'): NetNamespace {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      fail(`${source}: not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    return NetNamespace.fromObject(json, source);
  }

  /** A namespace from a parsed description. */
  static fromObject(json: unknown, source = 'network description'): NetNamespace {
    const ns = new NetNamespace();
    const where = (what: string) => `${source}: ${what}`;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(where('expected an object with interfaces, routes and neighbours'));
    const o = json as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!['interfaces', 'routes', 'neighbours', 'neighbors', 'netns_cookie'].includes(key)) fail(where(`unknown field '${key}' (interfaces, routes, neighbours, netns_cookie)`));
    }
    const list = (key: string): Record<string, unknown>[] => {
      const v = o[key];
      if (v === undefined) return [];
      if (!Array.isArray(v) || v.some((e) => typeof e !== 'object' || e === null)) fail(where(`'${key}' must be a list of objects`));
      return v as Record<string, unknown>[];
    };
    if (o['netns_cookie'] !== undefined) ns.cookie = BigInt(num(o['netns_cookie'], where('netns_cookie')));
    for (const [i, e] of list('interfaces').entries()) {
      const at = where(`interfaces[${i}]`);
      const ifindex = num(e['ifindex'], `${at}.ifindex`);
      if (ifindex < 1) fail(`${at}: ifindex must be 1 or more`);
      const base = ifindex === 1 ? loopback() : undefined;
      const dev: NetInterface = {
        ifindex,
        name: str(e['name'] ?? base?.name ?? `if${ifindex}`, `${at}.name`),
        mac: e['mac'] === undefined ? (base?.mac ?? new Uint8Array(6)) : parseMac(str(e['mac'], `${at}.mac`)),
        mtu: e['mtu'] === undefined ? (base?.mtu ?? 1500) : num(e['mtu'], `${at}.mtu`),
        up: e['up'] === undefined ? (base?.up ?? true) : bool(e['up'], `${at}.up`),
        forwarding: e['forwarding'] === undefined ? false : bool(e['forwarding'], `${at}.forwarding`),
        forwarding6: e['forwarding6'] === undefined ? (e['forwarding'] === undefined ? false : bool(e['forwarding'], `${at}.forwarding`)) : bool(e['forwarding6'], `${at}.forwarding6`),
        hardHeaderLen: e['hard_header_len'] === undefined ? 14 : num(e['hard_header_len'], `${at}.hard_header_len`),
        addresses: e['addresses'] === undefined ? [] : strList(e['addresses'], `${at}.addresses`).map((a) => parsePrefix(a)),
        ...(e['peer'] !== undefined ? { peer: num(e['peer'], `${at}.peer`) } : {}),
      };
      ns.interfaces.set(ifindex, dev);
    }
    const devOf = (v: unknown, at: string): number => {
      if (typeof v === 'number') {
        if (!ns.interfaces.has(v)) fail(`${at}: no interface with ifindex ${v}`);
        return v;
      }
      const d = ns.deviceByName(str(v, at));
      if (!d) fail(`${at}: no interface named '${String(v)}'`);
      return d.ifindex;
    };
    for (const [i, e] of list('routes').entries()) {
      const at = where(`routes[${i}]`);
      const via = e['via'] === undefined ? undefined : parseIp(str(e['via'], `${at}.via`));
      const dstText = str(e['dst'] ?? 'default', `${at}.dst`);
      const family = dstText === 'default' && via?.length === 16 && e['family'] === undefined ? 6 : e['family'] === 6 ? 6 : undefined;
      const dst = masked(parsePrefix(dstText, family));
      const type = str(e['type'] ?? 'unicast', `${at}.type`) as RouteType;
      if (!['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'throw'].includes(type)) fail(`${at}: unknown route type '${type}'`);
      const dev = e['dev'] === undefined ? undefined : devOf(e['dev'], `${at}.dev`);
      if (type === 'unicast' && dev === undefined) {
        // The kernel resolves a gateway's device from the connected routes.
        const d = via && [...ns.interfaces.values()].find((x) => x.addresses.some((a) => inPrefix(via, a)));
        if (!d) fail(`${at}: a unicast route needs 'dev' (or a 'via' inside an interface's prefix)`);
        ns.routes.push(route(d.ifindex));
      } else {
        ns.routes.push(route(dev));
      }
      function route(routeDev: number | undefined): Route {
        return {
          dst, type, metric: e['metric'] === undefined ? (dst.address.length === 16 ? 1024 : 0) : num(e['metric'], `${at}.metric`),
          table: e['table'] === undefined ? RT_TABLE.MAIN : num(e['table'], `${at}.table`),
          ...(via ? { via } : {}), ...(routeDev !== undefined ? { dev: routeDev } : {}),
          ...(e['src'] !== undefined ? { src: parseIp(str(e['src'], `${at}.src`)) } : {}),
          ...(e['mtu'] !== undefined ? { mtu: num(e['mtu'], `${at}.mtu`) } : {}),
          ...(e['mtu_lock'] !== undefined ? { mtuLock: bool(e['mtu_lock'], `${at}.mtu_lock`) } : {}),
        };
      }
    }
    for (const [i, e] of [...list('neighbours'), ...list('neighbors')].entries()) {
      const at = where(`neighbours[${i}]`);
      const state = str(e['state'] ?? 'permanent', `${at}.state`);
      ns.neighbours.push({
        ip: parseIp(str(e['ip'], `${at}.ip`)), mac: parseMac(str(e['mac'], `${at}.mac`)), ifindex: devOf(e['dev'], `${at}.dev`),
        valid: !['incomplete', 'failed', 'none'].includes(state),
      });
    }
    return ns;
  }
}

/** The test-run namespace's loopback device. */
function loopback(): NetInterface {
  return { ifindex: 1, name: 'lo', mac: new Uint8Array(6), mtu: 65536, up: false, forwarding: false, forwarding6: false, hardHeaderLen: 14, addresses: [] };
}

function num(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) fail(`${at}: expected an unsigned 32-bit integer, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') fail(`${at}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') fail(`${at}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function strList(v: unknown, at: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`${at}: expected a list of strings`);
  return v as string[];
}
