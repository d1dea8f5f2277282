/**
 * A small grammar fuzzer: seeded random filter expressions (primitives,
 * qualifiers carried to bare ids, and/or/not, parentheses, arithmetic,
 * vlan/mpls shifts, some deliberately wrong) either compile here and
 * accept exactly the packets tcpdump keeps, or both refuse them. Also
 * checks unoptimized programs against tcpdump -O on the same captures.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TsbpfError } from '../../errors.js';
import { runClassic } from '../interpreter.js';
import { compileFilter } from './index.js';
import { ethernetPackets } from './testing/packets.js';
import type { TestPacket } from './testing/packets.js';
import { haveTcpdump, readPackets, tcpdumpMatches, writeCapture } from './testing/oracle.js';

/** A seeded xorshift generator. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const PRIMS = [
  'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp', 'vlan', 'vlan 100', 'vlan 10', 'mpls', 'mpls 3',
  'host 10.0.0.1', 'src host 10.0.0.2', 'dst host 8.8.8.8', 'net 10.0.0.0/8', 'src net 192.168.0.0/16', 'net 10.1',
  'host 2001:db8::1', 'dst net ff00::/8', 'port 80', 'tcp port 80', 'udp port 53', 'src port 1234', 'dst port 443',
  'portrange 1-1024', 'tcp dst portrange 20-90', 'ether host 00:11:22:33:44:55', 'ether dst ff:ff:ff:ff:ff:ff',
  'ether broadcast', 'ether multicast', 'ip multicast', 'ip6 multicast', 'ip broadcast', 'proto 17', 'ip proto 1',
  'ip6 proto 58', 'ip6 protochain 6', 'ether proto 0x806', 'len > 100', 'less 80', 'greater 500', 'ip[8] < 64',
  'tcp[tcpflags] & tcp-syn != 0', 'tcp[13] = 0x10', 'udp[0:2] = 53', 'icmp[icmptype] = icmp-echo', 'ip[2:2] - 20 > len / 4',
  'ip6[6] = 17', 'ether[12:2] = 0x8100', 'host foo', 'port 99999', 'ip6 host 10.0.0.1', 'tcp[0:3] = 1',
];
const BARE = ['10.0.0.2', '443', '53', '8.8.8.8', '2001:db8::2', '80'];

function expression(r: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (depth <= 0 || r() < 0.35) {
    const p = pick(PRIMS);
    return r() < 0.15 ? `not ${p}` : p;
  }
  const left = expression(r, depth - 1);
  const op = pick(['and', 'or', '&&', '||']);
  // A bare id after and/or takes the last qualifiers (libpcap refuses it after a protocol name or relation).
  if (r() < 0.15) return `${left} ${op} ${pick(BARE)}`;
  const right = expression(r, depth - 1);
  const e = `${left} ${op} ${right}`;
  return r() < 0.3 ? `(${e})` : r() < 0.1 ? `not (${e})` : e;
}

describe.skipIf(!haveTcpdump)('filter grammar fuzzer vs libpcap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-filter-fuzz-'));
  const file = join(dir, 'ethernet.pcap');
  const packets: TestPacket[] = ethernetPackets();
  writeCapture(file, 1, packets);
  const sample = new URL('../../../samples/traffic.pcap', import.meta.url).pathname;
  const samplePackets = readPackets(new Uint8Array(readFileSync(sample)));
  const r = rng(0x5eed13);
  const exprs = Array.from({ length: 120 }, () => expression(r, 3));
  it.each(exprs)('%s', (expr) => {
    for (const [f, ps] of [[file, packets], [sample, samplePackets]] as const) {
      const expected = tcpdumpMatches(f, ps, expr, dir);
      let prog;
      try {
        prog = compileFilter(expr, 1);
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
        expect('error' in expected ? expected.error : 'tcpdump accepted it', e.message).not.toBe('tcpdump accepted it');
        return;
      }
      if ('error' in expected) throw new Error(`we compile what tcpdump refuses: ${expected.error}`);
      const got = ps.flatMap((p, i) => (runClassic(prog, p.data, { wireLen: p.origLen }) !== 0 ? [i] : []));
      expect(got).toEqual(expected);
    }
  });
  // Unoptimized programs keep every load, as libpcap's do with -O: the same packets, truncated ones included.
  it.each(exprs.slice(0, 40))('unoptimized: %s', (expr) => {
    const expected = tcpdumpMatches(file, packets, expr, dir, true);
    let prog;
    try {
      prog = compileFilter(expr, 1, { optimize: false });
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      expect('error' in expected ? expected.error : 'tcpdump accepted it', e.message).not.toBe('tcpdump accepted it');
      return;
    }
    if ('error' in expected) throw new Error(`we compile what tcpdump refuses: ${expected.error}`);
    const got = packets.flatMap((p, i) => (runClassic(prog, p.data, { wireLen: p.origLen }) !== 0 ? [i] : []));
    expect(got).toEqual(expected);
  });
});
