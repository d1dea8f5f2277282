/**
 * A small grammar fuzzer: seeded random filter expressions (every kind of
 * primitive with random qualifiers, arithmetic relations, qualifiers
 * carried to bare ids, and/or/not, parentheses, vlan/mpls/pppoes shifts, some
 * deliberately wrong) either compile here and accept exactly the packets
 * tcpdump keeps on both Ethernet captures, or both refuse them. Also checks
 * unoptimized programs against tcpdump -O on the same captures.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TsbpfError } from '../../errors.js';
import { runClassic } from '../classic-interpreter.js';
import { compileFilter } from './index.js';
import { ethernetPackets, linkPackets } from '../../../test/support/filter-packets.js';
import type { TestPacket } from '../../../test/support/filter-packets.js';
import { haveTcpdump, readPackets, tcpdumpMatches, writeCapture } from '../../../test/support/tcpdump-oracle.js';

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

const num = (r: () => number): number => [0, 1, 2, 4, 6, 8, 12, 13, 14, 16, 17, 20, 40, 64, 80, 100, 255, 0x800, 1500, 65535][Math.floor(r() * 20)]!;

/** Random filter expressions over every kind of primitive, arithmetic relations included. */
function generator(r: () => number): (depth: number) => string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const proto = (): string => pick(['ether', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'igmp']);
  const arth = (d: number): string => {
    if (d <= 0 || r() < 0.4) {
      return pick([
        () => String(num(r)),
        () => 'len',
        () => `${proto()}[${r() < 0.7 ? num(r) % 60 : arth(d - 1)}${r() < 0.5 ? ':' + pick([1, 2, 4]) : ''}]`,
      ])();
    }
    const e = `${arth(d - 1)} ${pick(['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>'])} ${r() < 0.5 ? (num(r) % 33) + 1 : arth(d - 1)}`;
    return r() < 0.3 ? `(${e})` : e;
  };
  const dir = (): string => pick(['', 'src ', 'dst ', 'src or dst ', 'src and dst ']);
  const ip4 = (): string => pick(['10.0.0.1', '10.0.0.2', '8.8.8.8', '10.1.0.5', '192.168.1.5', '224.0.0.1', '127.0.0.1']);
  const prim = (): string =>
    pick([
      () => proto(),
      () => `${pick(['', 'ip ', 'arp ', 'rarp '])}${dir()}host ${ip4()}`,
      () => `${dir()}net ${pick(['10.0.0.0/8', '10.1', '192.168', '10.0.0.0/24', '224.0.0.0/4', '0.0.0.0/0', '10.0.0.0 mask 255.255.0.0'])}`,
      () => `${pick(['', 'ip6 '])}${dir()}host ${pick(['2001:db8::1', '2001:db8::2', 'fe80::1', 'ff02::1', '::1'])}`,
      () => `${dir()}net ${pick(['2001:db8::/32', 'fe80::/10', 'ff00::/8', '::/0'])}`,
      () => `${pick(['', 'tcp ', 'udp ', 'sctp '])}${dir()}port ${pick([80, 53, 443, 1234, 22, 123, 500, 0])}`,
      () => `${pick(['', 'tcp ', 'udp '])}${dir()}portrange ${pick(['1-1024', '50-60', '80-80', '1000-10000'])}`,
      () => `ether ${pick(['src', 'dst', 'host'])} ${pick(['00:11:22:33:44:55', '66:77:88:99:aa:bb', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01'])}`,
      () => pick(['ether broadcast', 'ether multicast', 'ip multicast', 'ip6 multicast', 'ip broadcast']),
      () => `${pick(['', 'ip ', 'ip6 '])}proto ${pick([1, 2, 6, 17, 47, 58, 132, 44, 0, 59])}`,
      () => `${pick(['', 'ip ', 'ip6 '])}protochain ${pick([6, 17, 58, 59, 51, 44])}`,
      () => `ether proto ${pick(['0x800', '0x86dd', '0x806', '0x8035', '0x8100', '0x8847', '100', '0x42'])}`,
      () => `vlan${r() < 0.5 ? ' ' + pick([100, 10, 20, 200, 300, 5, 7]) : ''}`,
      () => `mpls${r() < 0.5 ? ' ' + pick([3, 16, 17, 5]) : ''}`,
      () => (r() < 0.2 ? 'pppoed' : `pppoes${r() < 0.5 ? ' ' + pick([0x1234, 5, 7, 9]) : ''}`),
      () => pick(['pim', 'vrrp', 'carp', 'ah', 'esp', 'stp', 'ipx', 'atalk', 'aarp', 'netbeui', 'iso', 'decnet', 'lat', 'llc', 'llc i', 'llc s', 'llc ui', 'llc rr', 'isis', 'l1', 'clnp', 'psnp']),
      () => `${pick(['less', 'greater'])} ${pick([40, 60, 74, 100, 500, 1000])}`,
      () => `${arth(2)} ${pick(['<', '>', '<=', '>=', '=', '!='])} ${arth(1)}`,
      () => `tcp[tcpflags] & ${pick(['tcp-syn', 'tcp-ack', 'tcp-fin|tcp-rst', 'tcp-push'])} ${pick(['!= 0', '= 0'])}`,
      () => pick(['host foo', 'port 99999', 'ip6 host 10.0.0.1', 'tcp[0:3] = 1', 'port', 'ip and (tcp']),
    ])();
  const expr = (d: number): string => {
    if (d <= 0 || r() < 0.3) return (r() < 0.15 ? 'not ' : '') + prim();
    const op = pick(['and', 'or', '&&', '||']);
    // A bare id after and/or takes the last qualifiers (libpcap refuses it after a protocol name or relation).
    if (r() < 0.1) return `${expr(d - 1)} ${op} ${pick(['10.0.0.2', '80', '53', '2001:db8::2'])}`;
    const e = `${expr(d - 1)} ${op} ${expr(d - 1)}`;
    return r() < 0.3 ? `(${e})` : r() < 0.1 ? `not (${e})` : e;
  };
  return expr;
}

describe.skipIf(!haveTcpdump)('filter grammar fuzzer vs libpcap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-filter-fuzz-'));
  const file = join(dir, 'ethernet.pcap');
  const packets: TestPacket[] = ethernetPackets();
  writeCapture(file, 1, packets);
  const sample = new URL('../../../samples/traffic.pcap', import.meta.url).pathname;
  const samplePackets = readPackets(new Uint8Array(readFileSync(sample)));
  const r = rng(0x5eed13);
  const expression = generator(r);
  const exprs = Array.from({ length: 150 }, () => expression(3));
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
  // The other link types: 20 expressions each, on the same network packets under their headers.
  const linkCases = [101, 113, 276, 0, 108].flatMap((lt) => {
    const f = join(dir, `link${lt}.pcap`);
    const ps = linkPackets(lt);
    writeCapture(f, lt, ps);
    return Array.from({ length: 20 }, (): [string, number, string, TestPacket[]] => [expression(2), lt, f, ps]);
  });
  it.each(linkCases)('%s (link type %i)', (expr, lt, f, ps) => {
    const expected = tcpdumpMatches(f, ps, expr, dir);
    let prog;
    try {
      prog = compileFilter(expr, lt);
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      expect('error' in expected ? expected.error : 'tcpdump accepted it', e.message).not.toBe('tcpdump accepted it');
      return;
    }
    if ('error' in expected) throw new Error(`we compile what tcpdump refuses: ${expected.error}`);
    expect(ps.flatMap((p, i) => (runClassic(prog, p.data, { wireLen: p.origLen }) !== 0 ? [i] : []))).toEqual(expected);
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
