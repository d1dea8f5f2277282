/**
 * Capture files: every format and byte order read back what was written
 * (and what hand-built files hold), in chunks of any size; damage is
 * reported with its byte offset and packet index after the packets before
 * it; tcpdump (libpcap) reads what tsbpf writes, and tsbpf what tcpdump
 * writes, where tcpdump is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureError, CaptureReader, LinkType, splitTimestampNs, timestampNs, toEthernet } from './read.js';
import type { CapturedPacket } from './read.js';
import { CaptureWriter } from './write.js';
import type { CaptureWriterOptions, PacketToWrite } from './write.js';
import { forEachCapturedPacket } from '../node/capture-files.js';

const ETH = new Uint8Array([
  0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
  0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
]);

const PACKETS: PacketToWrite[] = [
  { data: ETH, ...splitTimestampNs(1_700_000_000_123_456_789n), iface: 0 },
  { data: ETH.subarray(0, 20), origLen: 34, ...splitTimestampNs(1_700_000_001_000_000_000n), iface: 1 },
  { data: ETH.subarray(0, 6), ...splitTimestampNs(1_700_000_002_000_001_000n), iface: 0 },
];

function write(options: CaptureWriterOptions, packets = PACKETS): Uint8Array {
  const w = new CaptureWriter(options);
  return new Uint8Array(Buffer.concat([w.header(), ...packets.map((p) => w.packet(p))]));
}

/** Reads `bytes` pushed in chunks of `chunk` bytes. */
function read(bytes: Uint8Array, chunk = bytes.length || 1): { reader: CaptureReader; packets: CapturedPacket[] } {
  const reader = new CaptureReader();
  const packets: CapturedPacket[] = [];
  for (let i = 0; i < bytes.length; i += chunk) packets.push(...reader.push(bytes.subarray(i, i + chunk)));
  reader.end();
  return { reader, packets };
}

// libpcap reads pcapng files only when every interface has the first one's snap length
const IFACES = [{ linkType: LinkType.ETHERNET, snapLen: 65535, name: 'eth0' }, { linkType: LinkType.ETHERNET, snapLen: 65535, name: 'eth1' }];

describe('capture round trips', () => {
  it('pcap with microsecond and nanosecond timestamps, any chunking', () => {
    for (const nanosecond of [false, true]) {
      const bytes = write({ format: 'pcap', interfaces: IFACES, nanosecond });
      for (const chunk of [1, 7, 4096]) {
        const { reader, packets } = read(bytes, chunk);
        expect(reader.format).toBe('pcap');
        expect(packets.map((p) => p.data)).toEqual(PACKETS.map((p) => p.data));
        expect(packets.map((p) => p.origLen)).toEqual([34, 34, 6]);
        const ts = PACKETS.map((p) => (nanosecond ? timestampNs(p) : (timestampNs(p) / 1000n) * 1000n));
        expect(packets.map(timestampNs)).toEqual(ts);
        expect(packets.every((p) => p.iface === 0 && p.linkType === 1)).toBe(true);
      }
    }
  });

  it('pcapng with several interfaces, names and nanosecond resolution', () => {
    const bytes = write({ format: 'pcapng', interfaces: IFACES });
    const { reader, packets } = read(bytes, 5);
    expect(reader.format).toBe('pcapng');
    expect(reader.interfaces.map((i) => [i.name, i.snapLen])).toEqual([['eth0', 65535], ['eth1', 65535]]);
    expect(packets.map((p) => [p.iface, timestampNs(p), p.origLen])).toEqual(PACKETS.map((p) => [p.iface, timestampNs(p), p.origLen ?? p.data.length]));
    expect(packets.map((p) => p.data)).toEqual(PACKETS.map((p) => p.data));
  });

  it('big-endian pcap and pcapng written by hand, simple packet blocks and microsecond default resolution', () => {
    const be = new DataView(new ArrayBuffer(24 + 16 + 4));
    be.setUint32(0, 0xa1b2c3d4);
    be.setUint16(4, 2);
    be.setUint16(6, 4);
    be.setUint32(16, 96);
    be.setUint32(20, LinkType.RAW);
    be.setUint32(24, 5);
    be.setUint32(28, 7);
    be.setUint32(32, 4);
    be.setUint32(36, 40);
    new Uint8Array(be.buffer).set([0x45, 1, 2, 3], 40);
    const pcap = read(new Uint8Array(be.buffer), 3).packets;
    expect(pcap).toEqual([{ data: new Uint8Array([0x45, 1, 2, 3]), origLen: 40, sec: 5, nsec: 7000, iface: 0, linkType: LinkType.RAW }]);

    // pcapng, big-endian: SHB, IDB (no options), EPB (µs), SPB
    const blocks: number[][] = [];
    const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    const u16 = (n: number) => [(n >>> 8) & 255, n & 255];
    blocks.push([...u32(0x0a0d0d0a), ...u32(28), ...u32(0x1a2b3c4d), ...u16(1), ...u16(0), ...u32(0xffffffff), ...u32(0xffffffff), ...u32(28)]);
    blocks.push([...u32(1), ...u32(20), ...u16(1), ...u16(0), ...u32(0), ...u32(20)]);
    blocks.push([...u32(6), ...u32(36), ...u32(0), ...u32(0), ...u32(2_000_000), ...u32(3), ...u32(3), 9, 8, 7, 0, ...u32(36)]);
    blocks.push([...u32(3), ...u32(20), ...u32(2), 1, 2, 0, 0, ...u32(20)]);
    const ng = read(new Uint8Array(blocks.flat()), 6).packets;
    expect(ng.map((p) => [Array.from(p.data), timestampNs(p), p.origLen])).toEqual([[[9, 8, 7], 2_000_000_000n, 3], [[1, 2], 0n, 2]]);
  });
});

describe('snapshot length', () => {
  it('a record longer than its snapshot length is cut to it, as libpcap reads it (0 means 256 KiB)', () => {
    for (const [snapLen, kept] of [[20, 20], [0, 34], [65535, 34]] as const) {
      const w = new CaptureWriter({ format: 'pcap', interfaces: [{ linkType: 1, snapLen }] });
      const bytes = new Uint8Array(Buffer.concat([w.header(), w.packet({ data: ETH, sec: 1, nsec: 0 })]));
      if (snapLen === 0) new DataView(bytes.buffer).setUint32(16, 0, true);
      const [p] = read(bytes).packets;
      expect([p!.data.length, p!.origLen]).toEqual([kept, 34]);
      expect(Array.from(p!.data)).toEqual(Array.from(ETH.subarray(0, kept)));
    }
    const ng = read(write({ format: 'pcapng', interfaces: [{ linkType: 1, snapLen: 10 }] }, [{ data: ETH, sec: 0, nsec: 0, iface: 0 }])).packets;
    expect(ng.map((p) => p.data.length)).toEqual([10]);
  });
});

describe('damaged captures', () => {
  it('a truncated record: the packets before it come out, then the byte offset and packet index', () => {
    const bytes = write({ format: 'pcap', interfaces: IFACES });
    const cut = bytes.subarray(0, bytes.length - 5);
    const reader = new CaptureReader();
    const got = reader.push(cut);
    expect(got).toHaveLength(2);
    // records: header 24, then 16+34, 16+20, 16+6: the third starts at 24+50+36 = 110
    expect(() => reader.end()).toThrow(new CaptureError('truncated packet record (17 bytes left)', 110, 2));
  });

  it('garbage in the middle of a pcapng file is named where it is, after the packets before it', () => {
    const bytes = write({ format: 'pcapng', interfaces: IFACES });
    const bad = bytes.slice();
    const epb = bytes.length - 40; // the last EPB (6 bytes of data, padded to 8) is 40 bytes
    new DataView(bad.buffer).setUint32(epb + 4, 30, true);
    const reader = new CaptureReader();
    expect(reader.push(bad)).toHaveLength(2);
    expect(() => reader.end()).toThrow(`pcapng block of type 0x6 with invalid length 30 at byte ${epb + 4} (packet 2)`);
  });

  it('not a capture, an empty file, an unknown interface', () => {
    expect(() => read(new TextEncoder().encode('this is not a capture file'))).toThrow('not a pcap or pcapng file (magic 0x74686973) at byte 0 (packet 0)');
    expect(() => read(new Uint8Array(0))).toThrow('empty file: no capture header at byte 0 (packet 0)');
    const one = write({ format: 'pcapng', interfaces: IFACES.slice(0, 1) }, [{ data: ETH, sec: 0, nsec: 0, iface: 3 }]);
    expect(() => read(one)).toThrow(/packet of interface 3, which no interface description block defines at byte \d+ \(packet 0\)/);
  });

  it('a file on disk: the file is named too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cap-'));
    const path = join(dir, 'cut.pcap');
    writeFileSync(path, write({ format: 'pcap', interfaces: IFACES }).subarray(0, 30));
    const seen: number[] = [];
    expect(() => forEachCapturedPacket(path, (_p, i) => seen.push(i))).toThrow(`${path}: truncated packet record (6 bytes left) at byte 24 (packet 0)`);
  });
});

describe('link types as Ethernet frames', () => {
  const ip = ETH.subarray(14);
  const p = (linkType: number, data: Uint8Array): CapturedPacket => ({ data, origLen: data.length, sec: 0, nsec: 0, iface: 0, linkType });
  it('raw IP, loopback and Linux cooked captures get an Ethernet header with their protocol', () => {
    const expected = new Uint8Array(14 + ip.length);
    expected.set([0x08, 0x00], 12);
    expected.set(ip, 14);
    expect(toEthernet(p(LinkType.RAW, ip))).toEqual(expected);
    expect(toEthernet(p(LinkType.IPV4, ip))).toEqual(expected);
    expect(toEthernet(p(LinkType.NULL, new Uint8Array([2, 0, 0, 0, ...ip])))).toEqual(expected);
    const sll = new Uint8Array([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00, ...ip]);
    const withSrc = expected.slice();
    withSrc.set([2, 0, 0, 0, 0, 1], 6);
    expect(toEthernet(p(LinkType.LINUX_SLL, sll))).toEqual(withSrc);
    const sll2 = new Uint8Array([0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, ...ip]);
    expect(toEthernet(p(LinkType.LINUX_SLL2, sll2))).toEqual(withSrc);
    expect(toEthernet(p(LinkType.ETHERNET, ETH))).toBe(ETH);
    expect(toEthernet(p(147, ip))).toBeUndefined();
  });
});

const tcpdump = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
const haveTcpdump = tcpdump.status === 0;
if (!haveTcpdump) console.log('skipping tcpdump capture checks: tcpdump is not installed');

describe.skipIf(!haveTcpdump)('libpcap (tcpdump) as the oracle', () => {
  it('reads the pcap and pcapng tsbpf writes, with the same timestamps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cap-'));
    for (const format of ['pcap', 'pcapng'] as const) {
      const path = join(dir, `x.${format}`);
      writeFileSync(path, write({ format, interfaces: IFACES, nanosecond: true }));
      const r = spawnSync('tcpdump', ['-r', path, '-nn', '-tt', '--time-stamp-precision=nano'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines.map((l) => l.split(' ')[0])).toEqual(['1700000000.123456789', '1700000001.000000000', '1700000002.000001000']);
      expect(lines[0]).toContain('IP 10.0.0.1 > 10.0.0.2');
    }
  });

  it('reads what tcpdump writes (it rewrites our one-interface pcapng as pcap)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-cap-'));
    const src = join(dir, 'in.pcapng');
    const dst = join(dir, 'out.pcap');
    const one = PACKETS.map((p) => ({ ...p, iface: 0 }));
    writeFileSync(src, write({ format: 'pcapng', interfaces: IFACES.slice(0, 1) }, one));
    const r = spawnSync('tcpdump', ['-r', src, '-w', dst, '--time-stamp-precision=nano'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { packets } = read(new Uint8Array(readFileSync(dst)));
    expect(packets.map((p) => p.data)).toEqual(PACKETS.map((p) => p.data));
    expect(packets.map(timestampNs)).toEqual(PACKETS.map(timestampNs));
  });
});
