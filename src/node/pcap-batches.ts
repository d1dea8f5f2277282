/**
 * The fast path of `tsbpf xdp` over a classic pcap file of Ethernet
 * frames: the file is read straight into the collection's address space,
 * each packet is staged from there into one XDP context of a batch
 * (`XdpBatchRunner`: a copy within the memory), the whole batch runs in one
 * call into WebAssembly, and the packets to keep are handed over as
 * addresses in the memory, so no packet costs an allocation. Any other
 * capture (pcapng, another link type, a file that does not start like a
 * pcap) is left to the general path (`forEachCapturedPacket`), which also
 * words every complaint about the file's header.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CaptureError, LinkType, MAX_RECORD, keptLength } from '../capture/read.js';
import type { CaptureInterface } from '../capture/read.js';
import { PacketRefusedError, TsbpfError } from '../errors.js';
import { BatchFaultError } from '../jit/jit-engine.js';
import type { XdpBatchRunner } from '../hooks/test-run.js';
import type { PacketStream } from '../runtime/packet-stream.js';
import { fileError, readCaptureHeader } from './capture-files.js';

/** Bytes of the file read into the memory at a time. */
const STAGE = 4 << 20;

/** A packet the caller may keep: where its bytes are after the run (valid until `keep` returns). */
export interface BatchedPacket {
  index: number;
  retval: number;
  /** `XDP_PASS`..., or `REFUSED` for a frame the test run refuses (then `bytes` is the frame as read). */
  action: string;
  /** The address space's bytes; the packet is [start, end). */
  bytes: Uint8Array;
  start: number;
  end: number;
  sec: number;
  nsec: number;
  /** Bytes the capture cut off (original length minus captured length). */
  cutOff: number;
}

/** Options of {@link runPcapBatches}. */
export interface PcapBatchesOptions {
  /** Hears of each chunk read: bytes so far, file size. */
  progress?: (bytesRead: number, fileSize: number) => void;
  /** Hears the file's header before the first packet is handed over. */
  header?: (result: PcapBatchesResult) => void;
}

/** What {@link runPcapBatches} read: the file's one interface (for writing captures like it). */
export interface PcapBatchesResult {
  format: 'pcap';
  interfaces: CaptureInterface[];
}

/**
 * Runs `stream`'s XDP program over every packet of the pcap at `path`
 * through `batch` (made by `Collection.xdpBatchFor` on the stream's
 * collection), counting into `stream.summary`; `keep` hears every packet
 * in file order after its batch ran. Returns null, having read nothing,
 * when the file is not a pcap of Ethernet frames. A truncated or corrupt
 * record throws after every packet before it ran and was handed to `keep`,
 * naming the file, the byte offset and the packet, as the general path
 * does.
 */
export function runPcapBatches(
  path: string, stream: PacketStream, batch: XdpBatchRunner, keep: (packet: BatchedPacket) => void, options: PcapBatchesOptions = {},
): PcapBatchesResult | null {
  const progress = options.progress;
  const header = readCaptureHeader(path);
  if (header.format !== 'pcap' || header.interfaces.length !== 1) return null;
  const iface = header.interfaces[0]!;
  if (iface.linkType !== LinkType.ETHERNET) return null;
  const little = header.littleEndian;
  const nano = header.nanosecond;
  const snapLen = iface.snapLen;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    fileError(err, path);
  }
  try {
    const size = progress ? fstatSync(fd).size : 0;
    const result: PcapBatchesResult = { format: 'pcap', interfaces: [iface] };
    options.header?.(result);
    runRecords(fd, path, 24, little, nano, snapLen, stream, batch, keep, progress, size);
    return result;
  } catch (err) {
    if (err instanceof CaptureError) fileError(err, path);
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** Stages, runs and hands over the records from byte `first` of the file on. */
function runRecords(
  fd: number, path: string, first: number, little: boolean, nano: boolean, snapLen: number,
  stream: PacketStream, batch: XdpBatchRunner, keep: (packet: BatchedPacket) => void,
  progress: ((bytesRead: number, fileSize: number) => void) | undefined, size: number,
): void {
  const space = stream.collection.machine.space;
  const stage = space.allocate('capture.stage', 'internal', STAGE, { readable: false, writable: false });
  const n = batch.capacity;
  // per packet of the batch: its index in the file, timestamp and lengths
  const index = new Float64Array(n);
  const sec = new Uint32Array(n);
  const nsec = new Uint32Array(n);
  const length = new Uint32Array(n);
  const cutOff = new Uint32Array(n);
  // a refused frame's offset in the stage (it stays there until its batch is handed over), -1 for a staged one
  const refusedAt = new Int32Array(n);
  const out: BatchedPacket = { index: 0, retval: 0, action: '', bytes: space.bytes, start: 0, end: 0, sec: 0, nsec: 0, cutOff: 0 };
  let fill = 0;
  let filePos = first;
  let packets = 0;
  let staged = 0;
  // bytes of the stage holding file data, from the stage's start; `at` is where the next record starts
  let held = 0;
  let at = 0;

  const flush = (): void => {
    if (fill === 0) return;
    // packets the test run refuses are not in the batch: run the others, then hand all over in order
    let ran = 0;
    const order = new Int32Array(fill);
    for (let i = 0; i < fill; i++) order[i] = refusedAt[i]! < 0 ? ran++ : -1;
    let retvals: Uint32Array;
    // a fault in run `failed` of the batch: the packets before it are handed over, then it is reported as the per-packet path reports it
    let failed = ran;
    let fault: BatchFaultError | undefined;
    try {
      retvals = ran > 0 ? batch.run(ran) : new Uint32Array(0);
    } catch (err) {
      if (!(err instanceof BatchFaultError)) throw err;
      fault = err;
      failed = err.index;
      retvals = new Uint32Array(err.done.length);
      for (let k = 0; k < err.done.length; k++) retvals[k] = Number(err.done[k]! & 0xffffffffn);
    }
    out.bytes = space.bytes;
    for (let i = 0; i < fill; i++) {
      if (fault && order[i]! >= failed) throw new TsbpfError(`packet ${index[i]}: ${fault.reason}`, fault.location);
      out.index = index[i]!;
      out.sec = sec[i]!;
      out.nsec = nsec[i]!;
      out.cutOff = cutOff[i]!;
      const slot = order[i]!;
      if (slot < 0) {
        stream.countRefused(length[i]!);
        out.retval = 0;
        out.action = 'REFUSED';
        out.start = stage.start + refusedAt[i]!;
        out.end = out.start + length[i]!;
      } else {
        out.retval = retvals[slot]!;
        out.action = stream.count(out.retval, length[i]!);
        out.start = batch.start(slot);
        out.end = batch.end(slot);
      }
      keep(out);
    }
    fill = 0;
    staged = 0;
  };

  for (;;) {
    // keep the unread tail of the stage (a partial record), then read after it
    if (at > 0) {
      flush();
      space.bytes.copyWithin(stage.start, stage.start + at, stage.start + held);
      held -= at;
      at = 0;
    }
    let got: number;
    try {
      got = readSync(fd, space.bytes, stage.start + held, STAGE - held, filePos);
    } catch (err) {
      fileError(err, path);
    }
    if (got === 0) break;
    filePos += got;
    held += got;
    let dv = space.data;
    for (;;) {
      if (held - at < 16) break;
      const rec = stage.start + at;
      const caplen = dv.getUint32(rec + 8, little);
      if (caplen > MAX_RECORD) {
        flush();
        throw new CaptureError(`packet record of ${caplen} bytes is larger than ${MAX_RECORD}`, filePos - held + at + 8, packets);
      }
      if (held - at < 16 + caplen) break;
      const frac = dv.getUint32(rec + 4, little);
      const len = keptLength(caplen, snapLen);
      const slot = fill;
      index[slot] = packets;
      sec[slot] = dv.getUint32(rec, little);
      nsec[slot] = nano ? frac : frac * 1000;
      length[slot] = len;
      cutOff[slot] = Math.max(0, dv.getUint32(rec + 12, little) - len);
      refusedAt[slot] = -1;
      try {
        batch.load(staged, rec + 16, len, 1);
        staged++;
      } catch (err) {
        if (!(err instanceof PacketRefusedError)) throw err;
        refusedAt[slot] = at + 16;
      }
      fill++;
      packets++;
      at += 16 + caplen;
      if (staged === n || fill === n) {
        flush();
        dv = space.data; // a first batch may have grown the memory
      }
    }
    progress?.(filePos, size);
    // a stage full of one record that does not fit cannot happen: records are at most MAX_RECORD + 16 bytes
  }
  flush();
  if (held - at > 0) throw new CaptureError(`truncated packet record (${held - at} bytes left)`, filePos - held + at, packets);
}
