/**
 * The fast path of `tsbpf xdp` over a classic pcap file of Ethernet
 * frames: the file is read straight into the collection's address space,
 * WebAssembly stages its records into the XDP contexts of a batch, the JIT
 * runs the whole batch in one call, and WebAssembly writes the packets to
 * keep as pcap records into the memory, from where they go to their files
 * a run of records at a time (hooks/xdp-capture-batch.ts). JavaScript
 * works per batch, not per packet, except to count verdicts. Any other
 * capture (pcapng, another link type, a file that does not start like a
 * pcap) is left to the general path (`forEachCapturedPacket`), which also
 * words every complaint about the file's header.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CaptureError, LinkType, MAX_RECORD } from '../capture/read.js';
import type { CaptureInterface } from '../capture/read.js';
import { TsbpfError } from '../errors.js';
import type { ErrorLocation } from '../errors.js';
import { BatchFaultError } from '../jit/jit-engine.js';
import type { XdpBatchRunner } from '../hooks/test-run.js';
import {
  CONTROL_SIZE, Control, ControlError, ControlFlag, KEPT_FIELDS, OTHER_VERDICT, RECORD_FIELDS, REFUSED_CODE, RecordField, SLOT_FIELDS, VERDICT_CODES,
  captureBatchKernels,
} from '../hooks/xdp-capture-batch.js';
import { XDP_BUFFER_SIZE } from '../hooks/xdp.js';
import { actionName } from '../runtime/packet-stream.js';
import type { PacketStream } from '../runtime/packet-stream.js';
import { fileError, readCaptureHeader } from './capture-files.js';

/** Bytes of the file read into the memory at a time. */
const STAGE = 1 << 20;
/** Bytes of pcap records gathered before they go to their files (at least one record of MAX_RECORD bytes). */
const OUT = Math.max(1 << 20, 16 + MAX_RECORD);

/** Where the packets of a verdict go. */
export interface PcapRecordSink {
  /**
   * Appends `count` whole pcap records (little-endian, microsecond
   * timestamps), the bytes [start, end) of `bytes`: a view of the address
   * space, valid during the call (`CaptureFile.writeRecords` takes them).
   */
  writeRecords(bytes: Uint8Array, start: number, end: number, count: number): void;
}

/** A program fault while running packet `packetIndex` of the file (what the per-packet path reports, with the index kept for workers). */
export class PacketFaultError extends TsbpfError {
  constructor(reason: string, location: ErrorLocation, readonly packetIndex: number) {
    super(reason, location);
  }
}

/** Options of {@link runPcapBatches}. */
export interface PcapBatchesOptions {
  /** Hears of each chunk read and run: bytes so far, file size, records seen so far (all of them, not only this worker's). */
  progress?: (bytesRead: number, fileSize: number, packets: number) => void;
  /** Hears the file's header before the first packet is handed over. */
  header?: (result: PcapBatchesResult) => void;
  /**
   * One of `workers` threads reading the same file: only the packets whose
   * flow hash (runtime/flow-hash.ts) modulo `workers` is `worker` run here
   * (node/packet-workers.ts).
   */
  share?: { workers: number; worker: number };
  /**
   * Takes the kept packets instead of the sinks (which then only say what
   * is kept, by their destination number: 1 + their place among the
   * distinct sinks `sinkFor` gave): the pcap records at [start, end) of
   * `bytes` and, per record, {@link KEPT_FIELDS} u32 (destination, record
   * bytes, index in the file), in file order.
   */
  takeKept?: (bytes: Uint8Array, start: number, end: number, entries: Uint32Array) => void;
  /** Hears the first packet (index in the file) of each action, when it is first met. */
  firstOf?: (action: string, index: number) => void;
}

/** What {@link runPcapBatches} read: the file's one interface (for writing captures like it). */
export interface PcapBatchesResult {
  format: 'pcap';
  interfaces: CaptureInterface[];
}

/**
 * Runs `stream`'s XDP program over every packet of the pcap at `path`
 * through `batch` (made by `Collection.xdpBatchFor` on the stream's
 * collection), counting into `stream.summary`. `sinkFor` is asked, once
 * the header is read, where the packets of each verdict go (XDP's
 * verdicts 0 to 7 by action name, and `REFUSED` with retval 0 for frames
 * the test run refuses; verdicts above 7 are counted, never kept); each
 * sink gets its packets in file order, with the program's changes. Returns
 * null, having read nothing, when the file is not a pcap of Ethernet
 * frames. A truncated or corrupt record throws after every packet before
 * it ran and was written, naming the file, the byte offset and the
 * packet, as the general path does.
 */
export function runPcapBatches(
  path: string, stream: PacketStream, batch: XdpBatchRunner,
  sinkFor: (action: string, retval: number) => PcapRecordSink | undefined, options: PcapBatchesOptions = {},
): PcapBatchesResult | null {
  const progress = options.progress;
  const header = readCaptureHeader(path);
  if (header.format !== 'pcap' || header.interfaces.length !== 1) return null;
  const iface = header.interfaces[0]!;
  if (iface.linkType !== LinkType.ETHERNET) return null;
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
    const { destinations, sinks } = destinationsOf(sinkFor);
    const flags = (header.littleEndian ? 0 : ControlFlag.bigEndian) | (header.nanosecond ? ControlFlag.nanosecond : 0);
    runRecords(fd, path, { flags, snapshot: snapshotOf(iface.snapLen), stream, batch, sinks, destinations, progress, size, options });
    return result;
  } catch (err) {
    if (err instanceof CaptureError) fileError(err, path);
    throw err;
  } finally {
    closeSync(fd);
  }
}

/**
 * The destination number of each verdict code (hooks/xdp-capture-batch.ts)
 * for the sinks `sinkFor` names: 1 + the sink's place among the distinct
 * sinks, asked for codes 0..7, then REFUSED; 0 for packets not kept.
 */
export function destinationsOf(sinkFor: (action: string, retval: number) => PcapRecordSink | undefined): { destinations: number[]; sinks: PcapRecordSink[] } {
  const sinks: PcapRecordSink[] = [];
  const destinations = new Array<number>(REFUSED_CODE + 1).fill(0);
  for (let code = 0; code <= REFUSED_CODE; code++) {
    if (code === OTHER_VERDICT) continue;
    const sink = code === REFUSED_CODE ? sinkFor('REFUSED', 0) : sinkFor(actionName('xdp', code), code);
    if (sink === undefined) continue;
    if (!sinks.includes(sink)) sinks.push(sink);
    destinations[code] = sinks.indexOf(sink) + 1;
  }
  return { destinations, sinks };
}

/** The longest record kept (`keptLength`'s rule). */
function snapshotOf(snapLen: number): number {
  return snapLen > 0 && snapLen <= MAX_RECORD ? snapLen : MAX_RECORD;
}

interface RunSetup {
  flags: number;
  snapshot: number;
  stream: PacketStream;
  batch: XdpBatchRunner;
  /** The sink of destination d is sinks[d - 1]. */
  sinks: readonly PcapRecordSink[];
  destinations: readonly number[];
  progress: PcapBatchesOptions['progress'];
  size: number;
  options: PcapBatchesOptions;
}

/** Stages, runs and writes out the records from the end of the file header on. */
function runRecords(fd: number, path: string, setup: RunSetup): void {
  const { stream, batch, sinks, progress } = setup;
  const { takeKept, firstOf } = setup.options;
  const space = stream.collection.machine.space;
  const n = batch.capacity;
  const hidden = { readable: false, writable: false };
  const stage = space.allocate('capture.stage', 'internal', STAGE, hidden).start;
  const control = space.allocate('capture.control', 'internal', CONTROL_SIZE, hidden).start;
  const records = space.allocate('capture.records', 'internal', 4 * RECORD_FIELDS * n, hidden).start;
  const retvalArea = space.allocate('capture.retvals', 'internal', 4 * n, hidden).start;
  const kept = space.allocate('capture.kept', 'internal', 4 * KEPT_FIELDS * n, hidden).start;
  const out = space.allocate('capture.out', 'internal', OUT, hidden).start;
  const kernels = captureBatchKernels(space.memory, space.shared);
  const word = (field: number): number => space.data.getUint32(control + field, true);
  const setWord = (field: number, value: number): void => space.data.setUint32(control + field, value, true);
  setWord(Control.stage, stage);
  setWord(Control.flags, setup.flags | (batch.checked ? ControlFlag.checked : 0));
  setWord(Control.snapshot, setup.snapshot);
  setWord(Control.capacity, n);
  setWord(Control.slots, batch.slotTable);
  setWord(Control.records, records);
  setWord(Control.out, out);
  setWord(Control.outSize, OUT);
  setWord(Control.retvals, retvalArea);
  setWord(Control.kept, kept);
  setWord(Control.ifindex, 1);
  setWord(Control.workers, setup.options.share?.workers ?? 1);
  setWord(Control.worker, setup.options.share?.worker ?? 0);
  setWord(Control.packet, 0);
  space.bytes.set(Uint8Array.from(setup.destinations), control + Control.destinations);

  // per verdict code: packets and bytes of the batch, and the order the batch first met them
  const packetsOf = new Float64Array(VERDICT_CODES);
  const bytesOf = new Float64Array(VERDICT_CODES);
  const met: number[] = [];
  const firstMet = new Uint8Array(VERDICT_CODES);
  const others = new Set<number>();
  const tallyMet = (): void => {
    for (const code of met) {
      stream.countMany(code === REFUSED_CODE ? null : code, packetsOf[code]!, bytesOf[code]!);
      packetsOf[code] = 0;
      bytesOf[code] = 0;
    }
    met.length = 0;
  };

  /** Hands the records collected at `out` to their sinks, a run of one destination at a time. */
  const writeOut = (): void => {
    const count = word(Control.keptCount);
    if (count === 0) return;
    const list = new Uint32Array(space.memory.buffer, kept, KEPT_FIELDS * count);
    const bytes = space.bytes;
    if (takeKept !== undefined) {
      takeKept(bytes, out, out + word(Control.outUsed), list);
      return;
    }
    let from = out;
    let at = out;
    let dest = list[0]!;
    let inRun = 0;
    for (let j = 0; j < count; j++) {
      const d = list[KEPT_FIELDS * j]!;
      if (d !== dest) {
        sinks[dest - 1]!.writeRecords(bytes, from, at, inRun);
        dest = d;
        from = at;
        inRun = 0;
      }
      at += list[KEPT_FIELDS * j + 1]!;
      inRun++;
    }
    sinks[dest - 1]!.writeRecords(bytes, from, at, inRun);
  };

  /** Runs the `staged` contexts of a batch of `fill` records, writes and counts them. */
  const runBatch = (fill: number, staged: number): void => {
    let retvals: Uint32Array;
    let fault: BatchFaultError | undefined;
    try {
      retvals = staged > 0 ? batch.run(staged) : new Uint32Array(0);
    } catch (err) {
      if (!(err instanceof BatchFaultError)) throw err;
      fault = err;
      retvals = new Uint32Array(err.done.length);
      for (let k = 0; k < err.done.length; k++) retvals[k] = Number(err.done[k]! & 0xffffffffn);
      // the runs the fault cut short are never collected: their buffers count as written, so a later batch clears them
      const words = new Uint32Array(space.memory.buffer);
      for (let k = 0; k < staged; k++) {
        const at = (batch.slotTable >>> 2) + SLOT_FIELDS * k;
        const buffer = words[at + 1]!;
        words[words[at + 2]! >>> 2] = buffer;
        words[(words[at + 2]! >>> 2) + 1] = buffer + XDP_BUFFER_SIZE;
      }
    }
    const table = new Int32Array(space.memory.buffer, records, RECORD_FIELDS * fill);
    // a fault in the run of slot `failed`: the records before its packet are written and counted, then it is reported
    let until = fill;
    if (fault !== undefined) {
      for (let i = 0; i < fill; i++) {
        if (table[RECORD_FIELDS * i + RecordField.slot]! >= fault.index) {
          until = i;
          break;
        }
      }
    }
    new Uint32Array(space.memory.buffer, retvalArea, n).set(retvals.subarray(0, Math.min(retvals.length, n)));
    setWord(Control.next, 0);
    setWord(Control.until, until);
    const tallies = new Uint32Array(space.memory.buffer, control + Control.packets, 3 * VERDICT_CODES);
    tallies.fill(0, 0, 2 * VERDICT_CODES);
    tallies.fill(0xffffffff, 2 * VERDICT_CODES);
    for (;;) {
      kernels.collect(control);
      writeOut();
      if (word(Control.error) === ControlError.contextOverwritten) {
        batch.start(word(Control.errorValue)); // throws the context's error
        throw new TsbpfError(`packet ${table[RECORD_FIELDS * word(Control.next) + RecordField.index]!}: the XDP context was overwritten`);
      }
      if (word(Control.next) >= until) break;
    }
    if (tallies[OTHER_VERDICT] === 0) countCodes(tallies, table);
    else countEach(until, table, retvals);
    if (fault !== undefined) {
      const index = table[RECORD_FIELDS * until + RecordField.index]!;
      throw new PacketFaultError(`packet ${index}: ${fault.reason}`, fault.location, index);
    }
  };

  /** Counts a batch from the collector's tallies per verdict code, codes in the order the batch first met them. */
  const countCodes = (tallies: Uint32Array, table: Int32Array): void => {
    const codes: number[] = [];
    for (let code = 0; code < VERDICT_CODES; code++) if (tallies[code]! > 0) codes.push(code);
    if (codes.length > 1) codes.sort((a, b) => tallies[2 * VERDICT_CODES + a]! - tallies[2 * VERDICT_CODES + b]!);
    for (const code of codes) {
      stream.countMany(code === REFUSED_CODE ? null : code, tallies[code]!, tallies[VERDICT_CODES + code]!);
      if (firstOf !== undefined && firstMet[code] === 0) {
        firstMet[code] = 1;
        firstOf(code === REFUSED_CODE ? 'REFUSED' : actionName('xdp', code), table[RECORD_FIELDS * tallies[2 * VERDICT_CODES + code]! + RecordField.index]!);
      }
    }
  };

  /** Counts a batch that met unusual verdicts packet by packet: each such verdict is an action of its own, in order. */
  const countEach = (until: number, table: Int32Array, retvals: Uint32Array): void => {
    for (let i = 0; i < until; i++) {
      const slot = table[RECORD_FIELDS * i + RecordField.slot]!;
      const length = table[RECORD_FIELDS * i + RecordField.length]!;
      let code = REFUSED_CODE;
      if (slot >= 0) {
        const retval = retvals[slot]!;
        if (retval >= OTHER_VERDICT) {
          // an unusual verdict is counted on its own, after what the batch met before it
          tallyMet();
          const action = stream.count(retval, length);
          if (firstOf !== undefined && !others.has(retval)) {
            others.add(retval);
            firstOf(action, table[RECORD_FIELDS * i + RecordField.index]!);
          }
          continue;
        }
        code = retval;
      }
      if (packetsOf[code]++ === 0) {
        met.push(code);
        if (firstOf !== undefined && firstMet[code] === 0) {
          firstMet[code] = 1;
          firstOf(code === REFUSED_CODE ? 'REFUSED' : actionName('xdp', code), table[RECORD_FIELDS * i + RecordField.index]!);
        }
      }
      bytesOf[code] += length;
    }
    tallyMet();
  };

  let filePos = 24;
  // bytes of the stage holding file data, from the stage's start; `at` is where the next record starts
  let held = 0;
  let at = 0;
  for (;;) {
    // keep the unread tail of the stage (a partial record), then read after it
    if (at > 0) {
      space.bytes.copyWithin(stage, stage + at, stage + held);
      held -= at;
      at = 0;
    }
    let got: number;
    try {
      got = readSync(fd, space.bytes, stage + held, STAGE - held, filePos);
    } catch (err) {
      fileError(err, path);
    }
    if (got === 0) break;
    filePos += got;
    held += got;
    for (;;) {
      setWord(Control.held, held);
      setWord(Control.at, at);
      kernels.stage(control);
      const fill = word(Control.fill);
      const tooLarge = word(Control.error) === ControlError.recordTooLarge ? word(Control.errorValue) : -1;
      const packets = word(Control.packet);
      at = word(Control.at);
      if (fill > 0) runBatch(fill, word(Control.staged));
      if (tooLarge >= 0) throw new CaptureError(`packet record of ${tooLarge} bytes is larger than ${MAX_RECORD}`, filePos - held + at + 8, packets);
      if (fill < n) break; // the held data ends in a partial record (or exactly)
    }
    progress?.(filePos, setup.size, word(Control.packet));
    // a stage full of one record that does not fit cannot happen: records are at most MAX_RECORD + 16 bytes
  }
  if (held - at > 0) throw new CaptureError(`truncated packet record (${held - at} bytes left)`, filePos - held + at, word(Control.packet));
}
