/** Host adapter: capture files on disk, read and written in chunks (src/capture). */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { CaptureReader } from '../capture/read.js';
import type { CapturedPacket } from '../capture/read.js';
import { CaptureWriter } from '../capture/write.js';
import type { CaptureWriterOptions, PacketToWrite } from '../capture/write.js';

/** Bytes read at a time: a capture streams through in chunks this size. */
const CHUNK = 1 << 20;

/** Throws what reading `path` failed with, as a TsbpfError naming the file. */
export function fileError(err: unknown, path: string): never {
  if (err instanceof TsbpfError) throw err.location.file === undefined ? err.withLocation({ file: path }) : err;
  const code = (err as NodeJS.ErrnoException).code;
  throw new TsbpfError(code === 'ENOENT' ? 'cannot read file: no such file' : `cannot read file: ${err instanceof Error ? err.message : String(err)}`, { file: path });
}

/**
 * Calls `visit` for every packet of the capture at `path`, in file order,
 * reading it in chunks (`progress` hears of each: bytes read so far, file
 * size). Returns the reader (format, interfaces). A
 * truncated or corrupt file throws after every packet before the damage
 * was visited; the error names the file, the byte offset and the packet.
 */
export function forEachCapturedPacket(
  path: string, visit: (packet: CapturedPacket, index: number, reader: CaptureReader) => void,
  progress?: (bytesRead: number, fileSize: number) => void,
): CaptureReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    fileError(err, path);
  }
  const reader = new CaptureReader();
  const buf = new Uint8Array(CHUNK);
  let index = 0;
  let done = 0;
  const size = progress ? fstatSync(fd).size : 0;
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (err) {
        fileError(err, path);
      }
      if (n === 0) break;
      // the visitor's own errors (a program failing on a packet) are not the file's
      reader.feed(buf.subarray(0, n), (p) => visit(p, index++, reader));
      done += n;
      progress?.(done, size);
    }
    try {
      reader.end();
    } catch (err) {
      fileError(err, path);
    }
  } finally {
    closeSync(fd);
  }
  return reader;
}

/**
 * The capture reader after the first 24 bytes of the file at `path`: the
 * format, and for a pcap its byte order, timestamp unit and its one
 * interface. The fast paths (classic filters, XDP batches) walk pcap
 * records themselves from there; a damaged header leaves the reader with
 * no interface, and the general path words the complaint.
 */
export function readCaptureHeader(path: string): CaptureReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    fileError(err, path);
  }
  try {
    const first = new Uint8Array(24);
    let n: number;
    try {
      n = readSync(fd, first, 0, 24, 0);
    } catch (err) {
      fileError(err, path);
    }
    const reader = new CaptureReader();
    reader.feed(first.subarray(0, n), () => undefined);
    return reader;
  } finally {
    closeSync(fd);
  }
}

/** Bytes a {@link CaptureFile} gathers before it writes them out. */
const WRITE_BUFFER = 1 << 20;

/** A capture file being written (buffered: call {@link close} to flush the last records). */
export class CaptureFile {
  private readonly fd: number;
  private readonly writer: CaptureWriter;
  private readonly buffer = new Uint8Array(WRITE_BUFFER);
  private used = 0;
  /** Packets written so far. */
  count = 0;

  constructor(readonly path: string, private readonly options: CaptureWriterOptions) {
    this.writer = new CaptureWriter(options);
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new TsbpfError(`cannot write file: ${err instanceof Error ? err.message : String(err)}`, { file: path });
    }
    this.put(this.writer.header());
  }

  /** Appends one packet. */
  write(packet: PacketToWrite): void {
    const n = this.writer.recordLength(packet);
    if (this.used + n > WRITE_BUFFER) this.flush();
    if (n > WRITE_BUFFER) {
      this.put(this.writer.packet(packet));
    } else {
      this.writer.writeRecord(packet, this.buffer, this.used);
      this.used += n;
    }
    this.count++;
  }

  /** {@link write} of the packet at [start, start + length) of `src`, with no view of it made. */
  writeFrom(src: Uint8Array, start: number, length: number, sec: number, nsec: number, iface: number, origLen: number): void {
    const n = this.writer.recordLengthOf(length);
    if (this.used + n > WRITE_BUFFER) this.flush();
    if (n > WRITE_BUFFER) {
      this.put(this.writer.packet({ data: src.subarray(start, start + length), sec, nsec, iface, origLen }));
    } else {
      this.writer.writeRecordFrom(src, start, length, sec, nsec, iface, origLen, this.buffer, this.used);
      this.used += n;
    }
    this.count++;
  }

  /**
   * Appends `count` pcap records (little-endian, microsecond timestamps, as
   * the capture driver of `tsbpf xdp` writes them: hooks/xdp-capture-batch.ts)
   * found at [start, end) of `src`: copied as they are into a pcap file of
   * microseconds, converted one by one for any other format.
   */
  writeRecords(src: Uint8Array, start: number, end: number, count: number): void {
    if (this.options.format !== 'pcap' || this.options.nanosecond === true) {
      const v = new DataView(src.buffer, src.byteOffset);
      for (let at = start; at < end;) {
        const length = v.getUint32(at + 8, true);
        this.writeFrom(src, at + 16, length, v.getUint32(at, true), v.getUint32(at + 4, true) * 1000, 0, v.getUint32(at + 12, true));
        at += 16 + length;
      }
      return;
    }
    const n = end - start;
    if (this.used + n > WRITE_BUFFER) this.flush();
    if (n > WRITE_BUFFER) {
      this.put(src.subarray(start, end));
    } else {
      this.buffer.set(src.subarray(start, end), this.used);
      this.used += n;
    }
    this.count += count;
  }

  /** Writes out what is buffered and closes the file. */
  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }

  private flush(): void {
    const pending = this.buffer.subarray(0, this.used);
    this.used = 0;
    this.put(pending);
  }

  private put(bytes: Uint8Array): void {
    let at = 0;
    try {
      while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at);
    } catch (err) {
      throw new TsbpfError(`cannot write file: ${err instanceof Error ? err.message : String(err)}`, { file: this.path });
    }
  }
}
