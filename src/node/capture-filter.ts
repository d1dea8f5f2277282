/**
 * A classic filter (a tcpdump expression compiled by src/cbpf/filter) over
 * a capture file, as `tcpdump -r FILE EXPR` runs it. The fast path, for
 * pcap files and the JIT: the file is read in chunks straight into the
 * compiled filter's WebAssembly memory and the records are walked in place,
 * so a packet costs a header read and one call, with nothing copied or
 * allocated. pcapng files, the interpreter, and programs the compiler
 * leaves to the interpreter (backward jumps) take the general path through
 * the capture reader.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { fileError, forEachCapturedPacket, readCaptureHeader } from './capture-files.js';
import { TsbpfError } from '../errors.js';
import { CaptureError, CaptureReader, MAX_RECORD, keptLength } from '../capture/read.js';
import type { CaptureFormat, CaptureInterface } from '../capture/read.js';
import type { CbpfInsn } from '../cbpf/insn.js';
import { runClassic } from '../cbpf/classic-interpreter.js';
import { compileClassic, hasBackwardJump } from '../jit/classic.js';

/** A packet the filter accepted, as `onMatch` hears it. */
export interface MatchedPacket {
  /** 0-based index of the packet in the file. */
  index: number;
  /** The captured bytes: a view valid only during the call. */
  data: Uint8Array;
  origLen: number;
  sec: number;
  nsec: number;
  iface: number;
}

/** Options of {@link filterCaptureFile}. */
export interface FilterFileOptions {
  /** `jit` (default): the filter compiled to WebAssembly; `interp`: the classic interpreter. */
  engine?: 'interp' | 'jit';
  /** Hears, before the first packet, the capture's format, interfaces and the link type the filter was compiled for. */
  onStart?: (capture: { format: CaptureFormat; interfaces: readonly CaptureInterface[]; linkType: number }) => void;
  /** Hears every accepted packet, in file order. */
  onMatch?: (packet: MatchedPacket) => void;
}

/** What a filtered capture held. */
export interface FilterFileResult {
  format: CaptureFormat;
  interfaces: readonly CaptureInterface[];
  /** The link type the filter was compiled for. */
  linkType: number;
  packets: number;
  matched: number;
}

/** Bytes read at a time. */
const CHUNK = 1 << 20;

/**
 * Runs the filter `compile(linkType)` gives (called once, with the
 * capture's link type) over every packet of the capture at `path`. A
 * damaged file throws after every packet before the damage was filtered,
 * naming the file, the byte offset and the packet.
 */
export function filterCaptureFile(path: string, compile: (linkType: number) => readonly CbpfInsn[], options: FilterFileOptions = {}): FilterFileResult {
  const header = readCaptureHeader(path);
  let prog: readonly CbpfInsn[] | undefined;
  let linkType = -1;
  if (header.format === 'pcap' && header.interfaces.length === 1) {
    // the pcap file header alone tells byte order and link type
    linkType = header.interfaces[0]!.linkType;
    const compiled = compile(linkType);
    prog = compiled;
    options.onStart?.({ format: 'pcap', interfaces: header.interfaces, linkType });
    if ((options.engine ?? 'jit') === 'jit' && !hasBackwardJump(compiled)) {
      return { format: 'pcap', interfaces: header.interfaces, linkType, ...withFile(path, () => scanPcap(path, compiled, header, options)) };
    }
  }
  // pcapng, the interpreter, backward jumps: the capture reader's packets, compiled for the first one's link type
  let packets = 0;
  let matched = 0;
  const reader = forEachCapturedPacket(path, (p, index, r) => {
    if (prog === undefined) {
      linkType = p.linkType;
      prog = compile(linkType);
      options.onStart?.({ format: r.format ?? 'pcapng', interfaces: r.interfaces, linkType });
    } else if (p.linkType !== linkType) {
      // libpcap refuses such files too
      throw new TsbpfError(`packet ${index}: interface ${p.iface} has link type ${p.linkType}, not ${linkType} like the first: a filter is compiled for one link type`, { file: path });
    }
    if (runClassic(prog, p.data, { wireLen: p.origLen }) !== 0) {
      matched++;
      options.onMatch?.({ index, data: p.data, origLen: p.origLen, sec: p.sec, nsec: p.nsec, iface: p.iface });
    }
    packets++;
  });
  if (prog === undefined) linkType = reader.interfaces[0]?.linkType ?? 1;
  return { format: reader.format ?? 'pcapng', interfaces: reader.interfaces, linkType, packets, matched };
}

/** Runs `fn`, naming `path` in the capture damage and read failures it throws (a filter that does not compile is not the file's fault). */
function withFile<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CaptureError && err.location.file === undefined) throw err.withLocation({ file: path });
    if (!(err instanceof TsbpfError) && typeof (err as NodeJS.ErrnoException).code === 'string') fileError(err, path);
    throw err;
  }
}

/**
 * pcap records walked in the compiled filter's memory: each chunk is read
 * after what was left of the previous one (a record cut by the chunk end),
 * and each complete record runs where it lies.
 */
function scanPcap(path: string, prog: readonly CbpfInsn[], reader: CaptureReader, options: FilterFileOptions): { packets: number; matched: number } {
  const fd = openSync(path, 'r');
  try {
    return scanPcapFd(fd, prog, reader, options);
  } finally {
    closeSync(fd);
  }
}

function scanPcapFd(fd: number, prog: readonly CbpfInsn[], reader: CaptureReader, options: FilterFileOptions): { packets: number; matched: number } {
  // room for a whole record after one the chunk end cut
  const room = Math.max(CHUNK, MAX_RECORD + 16);
  const filter = compileClassic(prog, 2 * room + 65536);
  const little = reader.littleEndian;
  const snapLen = reader.interfaces[0]!.snapLen;
  const nano = reader.nanosecond;
  const onMatch = options.onMatch;
  let bytes = new Uint8Array(filter.memory.buffer);
  let view = new DataView(filter.memory.buffer);
  let packets = 0;
  let matched = 0;
  let filePos = 24; // the file offset of memory byte 0 of the current window
  let have = 0; // bytes of the window in memory
  let atEof = false;
  for (;;) {
    if (!atEof) {
      if (have + room > bytes.length) {
        filter.ensure(have + room);
        bytes = new Uint8Array(filter.memory.buffer);
        view = new DataView(filter.memory.buffer);
      }
      const got = readSync(fd, bytes, have, room, filePos + have);
      if (got === 0) atEof = true;
      have += got;
    }
    let at = 0;
    while (at + 16 <= have) {
      const caplen = view.getUint32(at + 8, little);
      if (caplen > MAX_RECORD) throw new CaptureError(`packet record of ${caplen} bytes is larger than ${MAX_RECORD}`, filePos + at + 8, packets);
      if (at + 16 + caplen > have) break;
      const origLen = view.getUint32(at + 12, little);
      const kept = keptLength(caplen, snapLen);
      if (filter.run(at + 16, kept, origLen) !== 0) {
        matched++;
        if (onMatch) {
          const frac = view.getUint32(at + 4, little);
          onMatch({ index: packets, data: bytes.subarray(at + 16, at + 16 + kept), origLen, sec: view.getUint32(at, little), nsec: nano ? frac : frac * 1000, iface: 0 });
        }
      }
      packets++;
      at += 16 + caplen;
    }
    if (atEof) {
      if (at < have) throw new CaptureError(`truncated packet record (${have - at} bytes left)`, filePos + at, packets);
      return { packets, matched };
    }
    // keep the cut record: move it to the front and read the next chunk after it
    bytes.copyWithin(0, at, have);
    filePos += at;
    have -= at;
  }
}
