/**
 * The flow hash that spreads packets over worker threads, as a NIC's RSS
 * spreads them over queues: every packet of one flow gets the same hash,
 * so one worker sees a flow's packets, in order.
 *
 * - IPv4 and IPv6 (after up to two VLAN tags): the addresses, the protocol
 *   and, for TCP, UDP, SCTP and UDP-Lite, the ports. IPv4 fragments hash
 *   without ports (later fragments carry none), so all fragments of a
 *   datagram stay together; IPv6 packets with extension headers hash on
 *   the addresses and the first next-header.
 * - Anything else (ARP, LLDP, ...): the two MAC addresses.
 *
 * The hash is symmetric: both directions of a connection go to the same
 * worker (the two endpoints are hashed alone and combined with XOR).
 */

/** Protocols whose first 4 bytes are the source and destination ports. */
const PORT_PROTOCOLS = new Set([6, 17, 132, 136]);

/** FNV-1a over `len` bytes of `b` at `at`, continuing from `h`. */
function fnv(b: Uint8Array, at: number, len: number, h: number): number {
  for (let i = 0; i < len; i++) h = Math.imul(h ^ b[at + i]!, 0x01000193);
  return h;
}

/** murmur3's finaliser: spreads every input bit over the result. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const FNV_BASIS = 0x811c9dc5;

/** One endpoint: an address and (when `port` >= 0) the 2-byte port at `port`. */
function endpoint(b: Uint8Array, addr: number, len: number, port: number): number {
  const h = fnv(b, addr, len, FNV_BASIS);
  return port >= 0 ? fnv(b, port, 2, h) : h;
}

/** The flow hash of an Ethernet frame (unsigned 32 bits). */
export function flowHash(frame: Uint8Array): number {
  if (frame.length < 14) return fmix(fnv(frame, 0, frame.length, FNV_BASIS));
  let off = 12;
  let type = (frame[off]! << 8) | frame[off + 1]!;
  // 802.1Q / 802.1ad tags
  for (let tags = 0; tags < 2 && (type === 0x8100 || type === 0x88a8) && off + 6 <= frame.length; tags++) {
    off += 4;
    type = (frame[off]! << 8) | frame[off + 1]!;
  }
  const l3 = off + 2;
  if (type === 0x0800 && l3 + 20 <= frame.length && frame[l3]! >> 4 === 4) {
    const ihl = (frame[l3]! & 15) * 4;
    const proto = frame[l3 + 9]!;
    const fragment = (((frame[l3 + 6]! << 8) | frame[l3 + 7]!) & 0x3fff) !== 0; // MF or an offset
    const l4 = l3 + ihl;
    const ports = !fragment && PORT_PROTOCOLS.has(proto) && ihl >= 20 && l4 + 4 <= frame.length;
    return fmix(endpoint(frame, l3 + 12, 4, ports ? l4 : -1) ^ endpoint(frame, l3 + 16, 4, ports ? l4 + 2 : -1) ^ Math.imul(proto + 1, 0x9e3779b1));
  }
  if (type === 0x86dd && l3 + 40 <= frame.length && frame[l3]! >> 4 === 6) {
    const next = frame[l3 + 6]!;
    const l4 = l3 + 40;
    const ports = PORT_PROTOCOLS.has(next) && l4 + 4 <= frame.length;
    return fmix(endpoint(frame, l3 + 8, 16, ports ? l4 : -1) ^ endpoint(frame, l3 + 24, 16, ports ? l4 + 2 : -1) ^ Math.imul(next + 1, 0x9e3779b1));
  }
  return fmix(endpoint(frame, 0, 6, -1) ^ endpoint(frame, 6, 6, -1) ^ type);
}
