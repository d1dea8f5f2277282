/**
 * Capture files, written incrementally: pcap (little-endian, microsecond
 * or nanosecond timestamps) and pcapng (one section; one interface
 * description block per interface, with its name and nanosecond
 * resolution; enhanced packet blocks). Each call returns the bytes to
 * append, so a writer streams to any sink. ECMAScript only.
 */
import type { CaptureFormat, CaptureInterface } from './read.js';

/** What a written packet carries. */
export interface PacketToWrite {
  data: Uint8Array;
  /** Length on the wire (default: the data's length). */
  origLen?: number;
  timestampNs: bigint;
  /** Interface index (pcapng); pcap has only interface 0. */
  iface?: number;
}

/** Options of a {@link CaptureWriter}. */
export interface CaptureWriterOptions {
  format: CaptureFormat;
  /** The interfaces packets refer to by index (pcap: only the first is used). */
  interfaces: readonly Pick<CaptureInterface, 'linkType' | 'snapLen' | 'name'>[];
  /** pcap only: nanosecond timestamps (magic 0xa1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
}

/** Writes packets to pcap or pcapng bytes. */
export class CaptureWriter {
  constructor(private readonly options: CaptureWriterOptions) {
    if (options.interfaces.length === 0) throw new Error('a capture needs at least one interface');
  }

  /** The file's first bytes: the pcap file header, or pcapng's section header and interface blocks. */
  header(): Uint8Array {
    const first = this.options.interfaces[0]!;
    if (this.options.format === 'pcap') {
      const h = new DataView(new ArrayBuffer(24));
      h.setUint32(0, this.options.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, true);
      h.setUint16(4, 2, true);
      h.setUint16(6, 4, true);
      h.setUint32(16, first.snapLen || 262144, true);
      h.setUint32(20, first.linkType, true);
      return new Uint8Array(h.buffer);
    }
    const parts: Uint8Array[] = [];
    // Section header: byte-order magic, version 1.0, section length unknown (-1).
    const shb = new DataView(new ArrayBuffer(28));
    shb.setUint32(0, 0x0a0d0d0a, true);
    shb.setUint32(4, 28, true);
    shb.setUint32(8, 0x1a2b3c4d, true);
    shb.setUint16(12, 1, true);
    shb.setUint16(14, 0, true);
    shb.setBigInt64(16, -1n, true);
    shb.setUint32(24, 28, true);
    parts.push(new Uint8Array(shb.buffer));
    for (const iface of this.options.interfaces) {
      const opts: Uint8Array[] = [];
      if (iface.name) opts.push(option(2, new TextEncoder().encode(iface.name)));
      opts.push(option(9, new Uint8Array([9]))); // if_tsresol: 10^-9 s
      opts.push(new Uint8Array(4)); // opt_endofopt
      const optLen = opts.reduce((n, o) => n + o.length, 0);
      const len = 20 + optLen;
      const b = new Uint8Array(len);
      const v = new DataView(b.buffer);
      v.setUint32(0, 1, true);
      v.setUint32(4, len, true);
      v.setUint16(8, iface.linkType, true);
      v.setUint32(12, iface.snapLen || 262144, true);
      let at = 16;
      for (const o of opts) {
        b.set(o, at);
        at += o.length;
      }
      v.setUint32(len - 4, len, true);
      parts.push(b);
    }
    return concat(parts);
  }

  /** The bytes of one packet record or block. */
  packet(p: PacketToWrite): Uint8Array {
    const origLen = p.origLen ?? p.data.length;
    if (this.options.format === 'pcap') {
      const b = new Uint8Array(16 + p.data.length);
      const v = new DataView(b.buffer);
      const ns = p.timestampNs;
      v.setUint32(0, Number(ns / 1_000_000_000n) >>> 0, true);
      v.setUint32(4, Number(this.options.nanosecond ? ns % 1_000_000_000n : (ns % 1_000_000_000n) / 1000n), true);
      v.setUint32(8, p.data.length, true);
      v.setUint32(12, origLen, true);
      b.set(p.data, 16);
      return b;
    }
    const padded = (p.data.length + 3) & ~3;
    const len = 32 + padded;
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, 6, true);
    v.setUint32(4, len, true);
    v.setUint32(8, p.iface ?? 0, true);
    v.setUint32(12, Number(p.timestampNs >> 32n) >>> 0, true);
    v.setUint32(16, Number(p.timestampNs & 0xffffffffn) >>> 0, true);
    v.setUint32(20, p.data.length, true);
    v.setUint32(24, origLen, true);
    b.set(p.data, 28);
    v.setUint32(len - 4, len, true);
    return b;
  }
}

function option(code: number, value: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + ((value.length + 3) & ~3));
  const v = new DataView(b.buffer);
  v.setUint16(0, code, true);
  v.setUint16(2, value.length, true);
  b.set(value, 4);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
