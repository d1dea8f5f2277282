/**
 * Socket-buffer helpers that change a packet's headers or metadata, with
 * Linux's checks and return values (net/core/filter.c, net/core/skbuff.c):
 * `bpf_skb_vlan_push` (18), `bpf_skb_vlan_pop` (19),
 * `bpf_skb_change_proto` (31), `bpf_skb_change_type` (32),
 * `bpf_skb_adjust_room` (50), `bpf_get_hash_recalc` (34),
 * `bpf_set_hash_invalid` (41) and `bpf_clone_redirect` (13).
 *
 * As in the kernel, a VLAN tag pushed on a packet without one goes to the
 * socket buffer's metadata (`__sk_buff.vlan_present`, `vlan_tci`,
 * `vlan_proto`: the "hardware accelerated" tag), not into the bytes; a
 * second push moves the first tag into the packet. A test run's output
 * packet therefore shows a tag only from the second push on.
 */
import { helperIdentity } from '../vm/helper-call.js';
import type { Helper, HelperCall } from '../vm/helper-call.js';
import { jhash2 } from '../vm/maps/hash-function.js';
import type { HookContexts } from './contexts.js';
import { skbOf } from './packet-helpers.js';
import { BPF_SKB_MAX_LEN, ETH_HLEN, SkBuff } from './skb.js';
import type { SkbContext } from './skb.js';

const EINVAL = -22;
const EFAULT = -14;
const ENOMEM = -12;
const EBADMSG = -74;
const EALREADY = -114;
const ERANGE = -34;
const ENOTSUPP = -524;

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const VLAN_HLEN = 4;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;
/** `PACKET_OTHERHOST`: the highest packet type `bpf_skb_change_type` accepts. */
const PACKET_OTHERHOST = 3;

/** `bpf_skb_adjust_room` modes and flags. */
const ADJ_ROOM_NET = 0;
const ADJ_ROOM_MAC = 1;
const F_FIXED_GSO = 1n << 0n;
const F_ENCAP_L3_IPV4 = 1n << 1n;
const F_ENCAP_L3_IPV6 = 1n << 2n;
const F_ENCAP_L4_GRE = 1n << 3n;
const F_ENCAP_L4_UDP = 1n << 4n;
const F_NO_CSUM_RESET = 1n << 5n;
const F_ENCAP_L2_ETH = 1n << 6n;
const F_DECAP_L3_IPV4 = 1n << 7n;
const F_DECAP_L3_IPV6 = 1n << 8n;
const ENCAP_L2_SHIFT = 56n;
const F_ENCAP_L3_MASK = F_ENCAP_L3_IPV4 | F_ENCAP_L3_IPV6;
const F_DECAP_L3_MASK = F_DECAP_L3_IPV4 | F_DECAP_L3_IPV6;
const F_ADJ_ROOM_MASK = F_FIXED_GSO | F_ENCAP_L3_MASK | F_ENCAP_L4_GRE | F_ENCAP_L4_UDP | F_ENCAP_L2_ETH | (0xffn << ENCAP_L2_SHIFT) | F_DECAP_L3_MASK;

/** A be16 as programs pass it (`htons(x)` in a register) to host order. */
function fromBe16(v: number): number {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}

function isVlan(proto: number): boolean {
  return proto === ETH_P_8021Q || proto === ETH_P_8021AD;
}

/** `bpf_skb_net_hdr_push`: `len` zero bytes at `off` from `data`; data and both headers move back by `len`. */
function netHdrPush(c: HelperCall, s: SkbContext, off: number, len: number): number {
  const { data, end } = s.bounds();
  if (data - len < s.buffer.start) return ENOMEM;
  const bytes = c.space.bytes;
  bytes.copyWithin(data - len, data, data + off);
  bytes.fill(0, data - len + off, data + off);
  s.setBounds(data - len, end);
  s.macHeader -= len;
  s.networkHeader -= len;
  return 0;
}

/** `bpf_skb_net_hdr_pop`: removes `len` bytes at `off` from `data`; data and both headers move forward by `len`. */
function netHdrPop(c: HelperCall, s: SkbContext, off: number, len: number): number {
  const { data, end } = s.bounds();
  if (end - data < off + len) return ENOMEM;
  c.space.bytes.copyWithin(data + len, data, data + off);
  s.setBounds(data + len, end);
  s.macHeader += len;
  s.networkHeader += len;
  return 0;
}

/** The VLAN tag in the metadata: (present, tci, proto as the raw be16 the context holds). */
function hwTag(s: SkbContext): { present: boolean; tci: number; proto: number } {
  return { present: s.field(SkBuff.vlan_present) !== 0, tci: s.field(SkBuff.vlan_tci) & 0xffff, proto: s.field(SkBuff.vlan_proto) & 0xffff };
}

function setHwTag(s: SkbContext, tag: { present: boolean; tci: number; proto: number }): void {
  s.setField(SkBuff.vlan_present, tag.present ? 1 : 0);
  s.setField(SkBuff.vlan_tci, tag.present ? tag.tci : 0);
  s.setField(SkBuff.vlan_proto, tag.present ? tag.proto : 0);
}

/**
 * `__skb_vlan_pop`: takes the tag after the MAC addresses out of the
 * packet; the protocol becomes the encapsulated one. Returns the TCI or an
 * error (negative).
 */
function vlanPopData(c: HelperCall, s: SkbContext): number {
  const { data, end } = s.bounds();
  if (data !== s.macHeader) return EINVAL;
  if (end - data < ETH_HLEN + VLAN_HLEN) return ENOMEM;
  const v = c.space.data;
  const tci = v.getUint16(data + ETH_HLEN, false);
  const inner = v.getUint16(data + ETH_HLEN + 2, false);
  c.space.bytes.copyWithin(data + VLAN_HLEN, data, data + 12);
  // vlan_set_encap_proto: an EtherType, or 802.3 / 802.2 for a length field.
  s.protocol = inner >= 0x600 ? inner : end - data >= ETH_HLEN + VLAN_HLEN + 2 && v.getUint16(data + ETH_HLEN + VLAN_HLEN, false) === 0xffff ? 0x0001 : 0x0004;
  s.setBounds(data + VLAN_HLEN, end);
  s.macHeader += VLAN_HLEN;
  if (s.networkHeader - (data + VLAN_HLEN) < ETH_HLEN) s.networkHeader = data + VLAN_HLEN + ETH_HLEN;
  return tci;
}

/**
 * A deterministic flow hash for `bpf_get_hash_recalc` (Linux's
 * `__skb_get_hash` uses the flow dissector and a boot-time random seed, so
 * its values cannot be reproduced): lookup3 over the IP addresses and
 * ports, each pair ordered so both directions of a flow hash alike, and the
 * protocol; never 0.
 */
function flowHash(c: HelperCall, s: SkbContext): number {
  const { end } = s.bounds();
  const v = c.space.data;
  const net = s.networkHeader;
  const words: number[] = [];
  let proto = 0;
  let l4 = -1;
  if (s.protocol === ETH_P_IP && end - net >= IPV4_HLEN) {
    const a = v.getUint32(net + 12, false);
    const b = v.getUint32(net + 16, false);
    words.push(Math.min(a, b), Math.max(a, b));
    proto = c.space.bytes[net + 9]!;
    const ihl = (c.space.bytes[net]! & 0xf) * 4;
    const fragmented = (v.getUint16(net + 6, false) & 0x3fff) !== 0;
    if (!fragmented) l4 = net + ihl;
  } else if (s.protocol === ETH_P_IPV6 && end - net >= IPV6_HLEN) {
    const a = c.space.read(net + 8, 16);
    const b = c.space.read(net + 24, 16);
    const first = a.join(',') <= b.join(',') ? [a, b] : [b, a];
    for (const addr of first) for (let i = 0; i < 16; i += 4) words.push(new DataView(addr.buffer).getUint32(i, false));
    proto = c.space.bytes[net + 6]!;
    l4 = net + IPV6_HLEN;
  } else {
    words.push(s.protocol);
  }
  if ((proto === 6 || proto === 17 || proto === 132 || proto === 136) && l4 >= 0 && end - l4 >= 4) {
    const sp = v.getUint16(l4, false);
    const dp = v.getUint16(l4 + 2, false);
    words.push(((Math.min(sp, dp) << 16) | Math.max(sp, dp)) >>> 0);
  }
  words.push(proto);
  const bytes = new Uint8Array(words.length * 4);
  const dv = new DataView(bytes.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return jhash2(bytes, 0, words.length, 0) || 1;
}

/** The helpers that edit a socket buffer's headers and metadata. */
export function skbEditHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      // skb_vlan_push: the tag goes to the metadata; one already there moves into the packet first.
      ...helperIdentity('bpf_skb_vlan_push'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_vlan_push');
        let proto = c.u32(2) & 0xffff;
        if (fromBe16(proto) !== ETH_P_8021Q && fromBe16(proto) !== ETH_P_8021AD) proto = fromBe16(ETH_P_8021Q);
        const tci = c.u32(3) & 0xffff;
        const old = hwTag(s);
        if (old.present) {
          const { data, end } = s.bounds();
          if (data !== s.macHeader) return c.ret(EINVAL);
          if (data - VLAN_HLEN < s.buffer.start) return c.ret(ENOMEM);
          const bytes = c.space.bytes;
          bytes.copyWithin(data - VLAN_HLEN, data, data + 12);
          c.space.data.setUint16(data - VLAN_HLEN + 12, old.proto, true);
          c.space.data.setUint16(data - VLAN_HLEN + 14, old.tci, false);
          s.setBounds(data - VLAN_HLEN, end);
          s.macHeader = data - VLAN_HLEN;
          s.networkHeader -= VLAN_HLEN;
          s.protocol = fromBe16(old.proto);
        }
        setHwTag(s, { present: true, tci, proto });
        c.ret(0);
      },
    },
    {
      // skb_vlan_pop: drops the metadata tag (or the packet's outer tag), then moves a next tag from the packet to the metadata.
      ...helperIdentity('bpf_skb_vlan_pop'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_vlan_pop');
        if (hwTag(s).present) {
          setHwTag(s, { present: false, tci: 0, proto: 0 });
        } else {
          if (!isVlan(s.protocol)) return c.ret(0);
          const r = vlanPopData(c, s);
          if (r < 0) return c.ret(r);
        }
        if (!isVlan(s.protocol)) return c.ret(0);
        const proto = fromBe16(s.protocol);
        const tci = vlanPopData(c, s);
        if (tci < 0) return c.ret(tci);
        setHwTag(s, { present: true, tci, proto });
        c.ret(0);
      },
    },
    {
      // bpf_skb_proto_xlat: IPv4 <-> IPv6 only, 20 bytes of room made or removed after the MAC header.
      ...helperIdentity('bpf_skb_change_proto'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_change_proto');
        if (c.u64(3) !== 0n) return c.ret(EINVAL);
        const to = fromBe16(c.u32(2) & 0xffff);
        const off = s.networkHeader - s.macHeader;
        const diff = IPV6_HLEN - IPV4_HLEN;
        let r: number;
        if (s.protocol === ETH_P_IP && to === ETH_P_IPV6) r = netHdrPush(c, s, off, diff);
        else if (s.protocol === ETH_P_IPV6 && to === ETH_P_IP) r = netHdrPop(c, s, off, diff);
        else return c.ret(ENOTSUPP);
        if (r < 0) return c.ret(r);
        s.protocol = to;
        s.clearHash();
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_skb_change_type'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_change_type');
        const type = c.u32(2);
        if (s.field(SkBuff.pkt_type) > PACKET_OTHERHOST || type > PACKET_OTHERHOST) return c.ret(EINVAL);
        s.setField(SkBuff.pkt_type, type);
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_skb_adjust_room'), fn: (c) => c.ret(adjustRoom(c, skbOf(c, contexts, 'bpf_skb_adjust_room'))),
    },
    {
      // skb_get_hash: the hash set by bpf_set_hash or computed before, else a fresh flow hash.
      ...helperIdentity('bpf_get_hash_recalc'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_get_hash_recalc');
        if (!s.hashValid) {
          s.setField(SkBuff.hash, flowHash(c, s));
          s.hashValid = true;
        }
        c.ret(s.field(SkBuff.hash));
      },
    },
    {
      ...helperIdentity('bpf_set_hash_invalid'), fn: (c) => {
        skbOf(c, contexts, 'bpf_set_hash_invalid').clearHash();
        c.ret(0);
      },
    },
    {
      // A copy of the packet goes to the device now: delivered (0) when the device is up, dropped when it is down
      // (egress: the noop qdisc's NET_XMIT_CN, 2; ingress: NET_RX_DROP, 1).
      ...helperIdentity('bpf_clone_redirect'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_clone_redirect');
        const flags = c.u64(3);
        if (flags & ~1n) return c.ret(EINVAL);
        if (s.gso) return c.ret(EBADMSG);
        const dev = contexts.net.device(c.u32(2));
        if (!dev) return c.ret(EINVAL);
        const { end } = s.bounds();
        if (s.macHeader >= s.networkHeader || end === s.macHeader) return c.ret(ERANGE);
        const ingress = flags !== 0n;
        if (!dev.up) return c.ret(ingress ? 1 : 2);
        contexts.clones.push({ ifindex: dev.ifindex, ingress, data: c.space.read(s.macHeader, end - s.macHeader) });
        c.ret(0);
      },
    },
  ];
}

/** `bpf_skb_adjust_room(skb, len_diff, mode, flags)`. */
function adjustRoom(c: HelperCall, s: SkbContext): number {
  const lenDiff = c.i32(2);
  const mode = c.u32(3);
  const flags = c.u64(4);
  const abs = Math.abs(lenDiff);
  const shrink = lenDiff < 0;
  if (flags & ~(F_ADJ_ROOM_MASK | F_NO_CSUM_RESET)) return EINVAL;
  if (abs > 0xfff) return EFAULT;
  const proto = s.protocol;
  if (proto !== ETH_P_IP && proto !== ETH_P_IPV6) return ENOTSUPP;
  const base = proto === ETH_P_IP ? IPV4_HLEN : IPV6_HLEN;
  let off = s.networkHeader - s.macHeader;
  if (mode === ADJ_ROOM_NET) off += base;
  else if (mode !== ADJ_ROOM_MAC) return ENOTSUPP;
  let lenMin = base;
  if (flags & F_DECAP_L3_MASK) {
    if (!shrink) return EINVAL;
    const decap = flags & F_DECAP_L3_MASK;
    if (decap === F_DECAP_L3_IPV4) lenMin = IPV4_HLEN;
    else if (decap === F_DECAP_L3_IPV6) lenMin = IPV6_HLEN;
    else return EINVAL;
  }
  const { data, end } = s.bounds();
  const len = end - data;
  const lenCur = len - (s.networkHeader - data);
  if ((shrink && (abs >= lenCur || lenCur - abs < lenMin)) || (!shrink && len + abs > BPF_SKB_MAX_LEN && !s.gso)) return ENOTSUPP;
  if (shrink) {
    if (flags & ~(F_FIXED_GSO | F_DECAP_L3_MASK | F_NO_CSUM_RESET)) return EINVAL;
    // A test-run skb made GSO by ctx_in has no gso_type: not TCP, not UDP_L4.
    if (s.gso) return ENOTSUPP;
    const r = netHdrPop(c, s, off, abs);
    if (r < 0) return r;
    if (proto === ETH_P_IP && flags & F_DECAP_L3_IPV6) s.protocol = ETH_P_IPV6;
    else if (proto === ETH_P_IPV6 && flags & F_DECAP_L3_IPV4) s.protocol = ETH_P_IP;
    return 0;
  }
  if (s.gso) return ENOTSUPP;
  const encap = (flags & F_ENCAP_L3_MASK) !== 0n;
  if (encap) {
    const innerMacLen = Number((flags >> ENCAP_L2_SHIFT) & 0xffn);
    if ((flags & F_ENCAP_L3_MASK) === F_ENCAP_L3_MASK) return EINVAL;
    if (flags & F_ENCAP_L4_GRE && flags & F_ENCAP_L4_UDP) return EINVAL;
    if (flags & F_ENCAP_L2_ETH && innerMacLen < ETH_HLEN) return EINVAL;
    if (s.encapsulation) return EALREADY;
    if (innerMacLen > abs) return EINVAL;
  }
  const r = netHdrPush(c, s, off, abs);
  if (r < 0) return r;
  if (encap) {
    s.encapsulation = true;
    if (proto === ETH_P_IP && flags & F_ENCAP_L3_IPV6) s.protocol = ETH_P_IPV6;
    else if (proto === ETH_P_IPV6 && flags & F_ENCAP_L3_IPV4) s.protocol = ETH_P_IP;
  }
  return 0;
}
