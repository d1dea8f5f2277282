/**
 * `inbound`, `outbound` and `ifindex`: Linux cooked captures record the
 * packet type (SLL, SLL2) and the interface (SLL2). Over hand-built SLL and
 * SLL2 captures the packets matched are the ones tcpdump reading the same
 * file matches; on link types without them the errors are libpcap's for a
 * capture file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../capture/read.js';
import { CaptureWriter } from '../../capture/write.js';
import { runClassic } from '../classic-interpreter.js';
import { compileFilter } from './index.js';

const IPV4_UDP = Uint8Array.from([0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 53, 0, 8, 0, 0]);

/** An SLL header: packet type, ARPHRD_ETHER, address length 6, an address, protocol IPv4. */
function sll(pktType: number): Uint8Array {
  return Uint8Array.from([0, pktType, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00, ...IPV4_UDP]);
}
/** An SLL2 header: protocol IPv4, reserved, interface index, ARPHRD_ETHER, packet type, address length 6, an address. */
function sll2(pktType: number, ifindex: number): Uint8Array {
  return Uint8Array.from([0x08, 0x00, 0, 0, ifindex >>> 24, (ifindex >>> 16) & 255, (ifindex >>> 8) & 255, ifindex & 255, 0, 1, pktType, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...IPV4_UDP]);
}

const CASES = [
  { linkType: 113, packets: [0, 4, 1, 4, 3].map((t) => sll(t)) },
  { linkType: 276, packets: [[0, 1], [4, 2], [0, 3], [4, 3], [2, 7]].map(([t, i]) => sll2(t!, i!)) },
];
const EXPRESSIONS: Record<number, string[]> = {
  113: ['inbound', 'outbound', 'not inbound and udp', 'outbound or port 53'],
  276: ['inbound', 'outbound', 'ifindex 3', 'ifindex 3 and outbound', 'not ifindex 7 and inbound'],
};
/** What each expression matches, by hand: packet types 4 are outgoing. */
const EXPECTED: Record<string, number[]> = {
  '113 inbound': [0, 2, 4], '113 outbound': [1, 3], '113 not inbound and udp': [1, 3], '113 outbound or port 53': [0, 1, 2, 3, 4],
  '276 inbound': [0, 2, 4], '276 outbound': [1, 3], '276 ifindex 3': [2, 3], '276 ifindex 3 and outbound': [3], '276 not ifindex 7 and inbound': [0, 2],
};

const tcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = tcpdump.status === 0;
if (!haveTcpdump) console.log('skipping tcpdump checks of inbound/outbound/ifindex: tcpdump is not installed');

describe('inbound, outbound, ifindex', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-direction-'));
  for (const { linkType, packets } of CASES) {
    it.each(EXPRESSIONS[linkType]!)(`link type ${linkType}: %s`, (expr) => {
      const prog = compileFilter(expr, linkType);
      const ours = packets.flatMap((p, i) => (runClassic(prog, p) !== 0 ? [i] : []));
      expect(ours).toEqual(EXPECTED[`${linkType} ${expr}`]);
      if (!haveTcpdump) return;
      const w = new CaptureWriter({ format: 'pcap', interfaces: [{ linkType, snapLen: 65535 }] });
      const file = join(dir, `in-${linkType}.pcap`);
      writeFileSync(file, Buffer.concat([w.header(), ...packets.map((data, i) => w.packet({ data, sec: i, nsec: 0 }))]));
      const out = join(dir, 'out.pcap');
      const r = spawnSync('tcpdump', ['-r', file, '-w', out, expr], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const reader = new CaptureReader();
      const matched = reader.push(new Uint8Array(readFileSync(out))).map((p) => p.sec);
      expect(ours).toEqual(matched);
    });
  }

  it('elsewhere, libpcap\'s errors for a capture file', () => {
    expect(() => compileFilter('inbound', 1)).toThrow('inbound/outbound not supported on Ethernet when reading savefiles');
    expect(() => compileFilter('tcp or outbound', 1)).toThrow('inbound/outbound not supported on Ethernet when reading savefiles');
    expect(() => compileFilter('ifindex 2', 113)).toThrow('ifindex not supported on Linux cooked v1 when reading savefiles');
    expect(() => compileFilter('ifindex', 276)).toThrow('syntax error');
  });
});
