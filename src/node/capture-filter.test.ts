/**
 * filterCaptureFile: the fast path (pcap walked in the compiled filter's
 * memory) and the general path (pcapng, the interpreter) accept the same
 * packets as the classic interpreter run on each packet the capture reader
 * gives, for pcap in both byte orders and timestamp units and for pcapng,
 * across chunk boundaries; damage is reported with file, byte and packet
 * after the packets before it were filtered.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../capture/read.js';
import type { CapturedPacket } from '../capture/read.js';
import { CaptureWriter } from '../capture/write.js';
import { insn } from '../cbpf/insn.js';
import { runClassic } from '../cbpf/classic-interpreter.js';
import { filterCaptureFile } from './capture-filter.js';

/** `tcpdump -ddd 'tcp dst port 80 or udp'` (libpcap 1.10, Ethernet), kept as data. */
const TCP80_OR_UDP = '40 0 0 12;21 0 8 34525;48 0 0 20;21 0 2 6;40 0 0 56;21 13 14 80;21 12 0 17;21 0 12 44;48 0 0 54;21 9 10 17;21 0 9 2048;48 0 0 23;21 0 5 6;40 0 0 20;69 5 0 8191;177 0 0 14;72 0 0 16;21 1 2 80;21 0 1 17;6 0 0 262144;6 0 0 0'
  .split(';').map((l) => {
    const [code, jt, jf, k] = l.split(' ').map(Number);
    return insn(code!, k!, jt!, jf!);
  });

const sample = (() => {
  const r = new CaptureReader();
  const p = r.push(new Uint8Array(readFileSync(new URL('../../samples/traffic.pcap', import.meta.url))));
  r.end();
  return p;
})();

/** 12,000 packets (about 1 MiB and more: several chunks, records cut at their ends), some cut short of their wire length. */
const PACKETS: CapturedPacket[] = Array.from({ length: 12_000 }, (_, i) => {
  const p = sample[i % sample.length]!;
  const cut = i % 7 === 3 ? p.data.subarray(0, Math.max(14, p.data.length - 20)) : p.data;
  return { ...p, data: cut, sec: 1_700_000_000 + Math.floor(i / 1000), nsec: (i % 1000) * 1_000_123 };
});

function write(dir: string, name: string, format: 'pcap' | 'pcapng', nanosecond = false): string {
  const w = new CaptureWriter({ format, interfaces: [{ linkType: 1, snapLen: 65535 }], nanosecond });
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([w.header(), ...PACKETS.map((p) => w.packet({ ...p, iface: 0 }))]));
  return path;
}

/** The same pcap with every header field big-endian. */
function toBigEndian(path: string, out: string): string {
  const b = Buffer.from(readFileSync(path));
  const swap = (at: number, n: number) => b.subarray(at, at + n).reverse();
  swap(0, 4); swap(4, 2); swap(6, 2); swap(8, 4); swap(12, 4); swap(16, 4); swap(20, 4);
  for (let at = 24; at < b.length;) {
    const caplen = b.readUInt32LE(at + 8);
    for (let f = 0; f < 16; f += 4) swap(at + f, 4);
    at += 16 + caplen;
  }
  writeFileSync(out, b);
  return out;
}

const expected = PACKETS.flatMap((p, i) => (runClassic(TCP80_OR_UDP, p.data, { wireLen: p.origLen }) !== 0 ? [i] : []));

describe('filterCaptureFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-filter-'));
  const files = {
    'pcap, little-endian, µs': write(dir, 'us.pcap', 'pcap'),
    'pcap, nanoseconds': write(dir, 'ns.pcap', 'pcap', true),
    pcapng: write(dir, 'x.pcapng', 'pcapng'),
  } as Record<string, string>;
  files['pcap, big-endian'] = toBigEndian(files['pcap, little-endian, µs']!, join(dir, 'be.pcap'));

  it('the sample programs match something and not everything', () => {
    expect(expected.length).toBeGreaterThan(1000);
    expect(expected.length).toBeLessThan(PACKETS.length - 1000);
  });

  for (const engine of ['jit', 'interp'] as const) {
    it.each(Object.keys(files))(`%s (${engine}): the interpreter's packets, with their timestamps`, (name) => {
      const seen: number[] = [];
      const stamps: string[] = [];
      const result = filterCaptureFile(files[name]!, (linkType) => {
        expect(linkType).toBe(1);
        return TCP80_OR_UDP;
      }, {
        engine, onMatch: (m) => {
          seen.push(m.index);
          stamps.push(`${m.sec}.${m.nsec}:${m.data.length}/${m.origLen}`);
        },
      });
      expect([result.packets, result.matched]).toEqual([PACKETS.length, expected.length]);
      expect(seen).toEqual(expected);
      const us = name.includes('µs') || name.includes('big');
      expect(stamps).toEqual(expected.map((i) => {
        const p = PACKETS[i]!;
        return `${p.sec}.${us ? Math.floor(p.nsec / 1000) * 1000 : p.nsec}:${p.data.length}/${p.origLen}`;
      }));
    });
  }

  it('a truncated file: every packet before the damage filtered, then file, byte and packet named', () => {
    const whole = readFileSync(files['pcap, little-endian, µs']!);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    for (const engine of ['jit', 'interp'] as const) {
      const seen: number[] = [];
      expect(() => filterCaptureFile(cut, () => TCP80_OR_UDP, { engine, onMatch: (m) => seen.push(m.index) }))
        .toThrow(new RegExp(`^${cut}: truncated packet record \\(\\d+ bytes left\\) at byte \\d+ \\(packet ${PACKETS.length - 1}\\)$`));
      expect(seen).toEqual(expected.filter((i) => i < PACKETS.length - 1));
    }
    expect(() => filterCaptureFile(join(dir, 'missing.pcap'), () => TCP80_OR_UDP)).toThrow('missing.pcap: cannot read file: no such file');
  });
});
