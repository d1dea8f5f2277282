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
 * worker, because the two addresses (and the two ports) are combined with
 * XOR before anything else. Every worker computes it for every packet of a
 * shared capture, so it is as cheap as it can be while still spreading
 * flows: for IPv4 three multiplications after the XORs (murmur3's
 * finaliser does the spreading), for IPv6 four murmur3 steps more.
 */

/** Protocols whose first 4 bytes are the source and destination ports. */
const PORT_PROTOCOLS = new Set([6, 17, 132, 136]);

/** FNV-1a over `len` bytes of `b` at `at` (frames too short for an Ethernet header only). */
function fnv(b: Uint8Array, at: number, len: number): number {
  let h = 0x811c9dc5;
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

/** The little-endian u32 at `at` (as WebAssembly loads it: the capture driver computes the same hash, hooks/xdp-capture-batch.ts). */
function word(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

/** murmur3's block step: one 32-bit word into the running hash. */
function mix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0xcc9e2d51);
  return (h << 15) | (h >>> 17);
}

const SEED = 0x811c9dc5;
const GOLDEN = 0x9e3779b1;

/** The little-endian u16 at `at`. */
function half(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

/**
 * The transport part: the two ports XORed (marked, so that no ports
 * differ from ports 0) and the protocol, spread by one multiplication.
 */
function transport(b: Uint8Array, l4: number, ports: boolean, proto: number): number {
  const p = ports ? (half(b, l4) ^ half(b, l4 + 2)) | 0x10000 : 0;
  return Math.imul(p ^ (proto << 17), GOLDEN);
}

/** The flow hash of an Ethernet frame (unsigned 32 bits). */
export function flowHash(frame: Uint8Array): number {
  if (frame.length < 14) return fmix(fnv(frame, 0, frame.length));
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
    return fmix(word(frame, l3 + 12) ^ word(frame, l3 + 16) ^ transport(frame, l4, ports, proto));
  }
  if (type === 0x86dd && l3 + 40 <= frame.length && frame[l3]! >> 4 === 6) {
    const next = frame[l3 + 6]!;
    const l4 = l3 + 40;
    const ports = PORT_PROTOCOLS.has(next) && l4 + 4 <= frame.length;
    let h = SEED;
    for (let i = 0; i < 16; i += 4) h = mix(h, word(frame, l3 + 8 + i) ^ word(frame, l3 + 24 + i));
    return fmix(h ^ transport(frame, l4, ports, next));
  }
  return fmix(mix(mix(SEED, word(frame, 0) ^ word(frame, 6)), half(frame, 4) ^ half(frame, 10)) ^ type);
}
