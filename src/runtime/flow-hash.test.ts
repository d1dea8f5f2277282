/**
 * The flow hash that deals packets to workers: both directions of a flow
 * hash alike, the ports and addresses tell flows apart, IPv4 fragments
 * stay with their datagram, and anything that is not IP hashes by MACs.
 */
import { describe, expect, it } from 'vitest';
import { flowHash } from './flow-hash.js';

/** An Ethernet + IPv4 + UDP frame. */
function udp4(src: number, dst: number, sport: number, dport: number, frag = 0): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45]);
  v.setUint16(20, frag);
  f[23] = 17;
  v.setUint32(26, src);
  v.setUint32(30, dst);
  v.setUint16(34, sport);
  v.setUint16(36, dport);
  return f;
}

/** An Ethernet + IPv6 + TCP frame. */
function tcp6(srcLast: number, dstLast: number, sport: number, dport: number): Uint8Array {
  const f = new Uint8Array(14 + 40 + 20);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd, 0x60]);
  f[20] = 6;
  f[37] = srcLast;
  f[53] = dstLast;
  v.setUint16(54, sport);
  v.setUint16(56, dport);
  return f;
}

describe('flowHash', () => {
  it('is symmetric: both directions of a flow go to the same worker', () => {
    expect(flowHash(udp4(0x0a000001, 0xc0a80001, 1234, 53))).toBe(flowHash(udp4(0xc0a80001, 0x0a000001, 53, 1234)));
    expect(flowHash(tcp6(1, 2, 40000, 443))).toBe(flowHash(tcp6(2, 1, 443, 40000)));
  });

  it('tells flows apart by addresses and ports', () => {
    const hashes = new Set<number>();
    for (let port = 1000; port < 1256; port++) hashes.add(flowHash(udp4(0x0a000001, 0xc0a80001, port, 53)));
    expect(hashes.size).toBe(256);
    // and spreads them: every one of 4 workers gets a fair share
    const perWorker = [0, 0, 0, 0];
    for (const h of hashes) perWorker[h % 4]!++;
    for (const n of perWorker) expect(n).toBeGreaterThan(32);
  });

  it('keeps the fragments of a datagram together (no ports in a fragment\'s hash)', () => {
    const first = udp4(0x0a000001, 0xc0a80001, 1234, 53, 0x2000); // MF
    const later = udp4(0x0a000001, 0xc0a80001, 0, 0, 0x00b9); // offset, no ports in it
    expect(flowHash(first)).toBe(flowHash(later));
  });

  it('hashes what is not IP by its MAC addresses, symmetrically', () => {
    const arp = new Uint8Array(42);
    arp.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 7, 0x08, 0x06]);
    const reply = new Uint8Array(42);
    reply.set([2, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x08, 0x06]);
    expect(flowHash(arp)).toBe(flowHash(reply));
    expect(flowHash(new Uint8Array(3))).toBe(flowHash(new Uint8Array(3)));
  });
});
