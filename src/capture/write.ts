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
  /** Capture time: seconds since the epoch and nanoseconds into the second (see `splitTimestampNs`). */
  sec: number;
  nsec: number;
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
    const b = new Uint8Array(this.recordLength(p));
    this.writeRecord(p, b, 0);
    return b;
  }

  /** How many bytes {@link writeRecord} writes for `p`. */
  recordLength(p: PacketToWrite): number {
    return this.recordLengthOf(p.data.length);
  }

  /**
   * Writes the record or block of `p` into `out` at `at` (which must have
   * {@link recordLength} bytes of room): a file writer fills one buffer
   * with many packets.
   */
  writeRecord(p: PacketToWrite, out: Uint8Array, at: number): void {
    this.writeRecordFrom(p.data, 0, p.data.length, p.sec, p.nsec, p.iface ?? 0, p.origLen ?? p.data.length, out, at);
  }

  /** Bytes of the record of a packet of `length` bytes. */
  recordLengthOf(length: number): number {
    return this.options.format === 'pcap' ? 16 + length : 32 + ((length + 3) & ~3);
  }

  /**
   * {@link writeRecord} of the packet at [start, start + length) of `src`
   * (a capture read into memory, a machine's memory): no view of the
   * packet is made.
   */
  writeRecordFrom(src: Uint8Array, start: number, length: number, sec: number, nsec: number, iface: number, origLen: number, out: Uint8Array, at: number): void {
    if (this.options.format === 'pcap') {
      putU32(out, at, sec >>> 0);
      putU32(out, at + 4, this.options.nanosecond ? nsec : Math.floor(nsec / 1000));
      putU32(out, at + 8, length);
      putU32(out, at + 12, origLen);
      copyBytes(src, start, length, out, at + 16);
      return;
    }
    const len = this.recordLengthOf(length);
    const ts = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
    putU32(out, at, 6);
    putU32(out, at + 4, len);
    putU32(out, at + 8, iface);
    putU32(out, at + 12, Number(ts >> 32n) >>> 0);
    putU32(out, at + 16, Number(ts & 0xffffffffn) >>> 0);
    putU32(out, at + 20, length);
    putU32(out, at + 24, origLen);
    copyBytes(src, start, length, out, at + 28);
    out.fill(0, at + 28 + length, at + len - 4);
    putU32(out, at + len - 4, len);
  }
}

/** Copies bytes between arrays through a view made for the copy (cheaper than `subarray`, and than a loop for a packet's bytes). */
function copyBytes(src: Uint8Array, start: number, length: number, out: Uint8Array, at: number): void {
  out.set(new Uint8Array(src.buffer, src.byteOffset + start, length), at);
}

/** A little-endian u32 (a DataView per record would cost more than the record). */
function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v;
  out[at + 1] = v >>> 8;
  out[at + 2] = v >>> 16;
  out[at + 3] = v >>> 24;
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
