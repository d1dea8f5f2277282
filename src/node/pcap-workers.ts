/**
 * XDP over a classic pcap on N worker threads, each reading the file for
 * itself: every worker runs node/pcap-batches.ts over the whole capture,
 * staging only the packets whose flow hash modulo N is its index (the
 * hash the dealing path uses, computed in WebAssembly), so no thread deals
 * packets and the reading is not a bottleneck. Workers send back the
 * pcap records of the packets to keep with their index in the file; the
 * calling thread merges them into file order for the sinks, and adds up
 * the workers' counts. `runCaptureOnWorkers` takes this path when it can
 * (docs/hooks.md, "Worker threads").
 */
import type { MessagePort } from 'node:worker_threads';
import { TsbpfError } from '../errors.js';
import type { ErrorLocation } from '../errors.js';
import { CaptureError, LinkType } from '../capture/read.js';
import type { CaptureInterface } from '../capture/read.js';
import { KEPT_FIELDS, REFUSED_CODE, captureBatchKernels } from '../hooks/xdp-capture-batch.js';
import type { XdpBatchRunner } from '../hooks/test-run.js';
import { jitEngine } from '../jit/index.js';
import type { Collection, LoadedProgram } from '../runtime/collection.js';
import type { PacketStream, StreamSummary } from '../runtime/packet-stream.js';
import { readCaptureHeader } from './capture-files.js';
import { PacketFaultError, runPcapBatches } from './pcap-batches.js';
import type { PcapRecordSink } from './pcap-batches.js';

/** Packets per batch on a worker. */
const BATCH = 256;

/** What a worker of this path is told besides the usual (`PacketWorkerInit.pcap`). */
export interface PcapShare {
  readonly path: string;
  readonly workers: number;
  /** The destination of each verdict code (hooks/xdp-capture-batch.ts), 0 for packets not kept. */
  readonly destinations: readonly number[];
}

/** Kept records (worker → main), and how far the worker has read. */
export interface PcapKeptMessage {
  readonly type: 'pcap-kept';
  /** pcap records, one after another. */
  readonly records: ArrayBuffer;
  /** {@link KEPT_FIELDS} u32 per record: destination, record bytes, index in the file. */
  readonly entries: ArrayBuffer;
  /** Records of the file seen so far (this worker's or not): every packet below it that is this worker's is in this or an earlier message. */
  readonly done: number;
  /** Bytes of the file read so far, and its size (for a progress bar). */
  readonly read: number;
  readonly size: number;
}

/** A worker's counts at the end (worker → main). */
export interface PcapDoneMessage {
  readonly type: 'pcap-done';
  readonly actions: Record<string, { packets: number; bytes: number; first: number }>;
}

/** A worker's failure on this path, with the packet it stopped at (worker → main). */
export interface PcapErrorMessage {
  readonly type: 'pcap-error';
  readonly reason: string;
  readonly location: ErrorLocation;
  /** Every packet of the file before this one that is the worker's was run and sent. */
  readonly packet: number;
}

/** Whether a capture and program can take this path: XDP on the JIT over a classic pcap of Ethernet frames, with no per-packet redirect records. */
export function pcapShareable(collection: Collection, program: LoadedProgram, engine: string, path: string): CaptureInterface | null {
  if (engine !== 'jit' || !collection.xdpBatchable(program)) return null;
  let header;
  try {
    header = readCaptureHeader(path);
  } catch {
    return null; // the general path words the complaint
  }
  if (header.format !== 'pcap' || header.interfaces.length !== 1 || header.interfaces[0]!.linkType !== LinkType.ETHERNET) return null;
  return header.interfaces[0]!;
}

/**
 * The worker side, before it says it is ready: the batch's contexts, its
 * compiled code and the capture driver, so that the time the run is
 * measured by is packets only.
 */
export function preparePcapShare(stream: PacketStream, worker: number): XdpBatchRunner {
  const batch = stream.collection.xdpBatchFor(stream.program, jitEngine, BATCH, worker);
  if (batch === null) throw new TsbpfError('internal error: a program that cannot run in batches was given to the shared-pcap path');
  batch.run(0); // compiles and instantiates the program's batch entry
  const space = stream.collection.machine.space;
  captureBatchKernels(space.memory, space.shared);
  return batch;
}

/**
 * The worker side: runs `stream`'s program (as CPU `worker`) through
 * `batch` (from {@link preparePcapShare}) over its share of the capture,
 * posting kept records after each chunk and the counts at the end, or the
 * error it stopped at.
 */
export function runPcapShare(stream: PacketStream, batch: XdpBatchRunner, worker: number, share: PcapShare, port: MessagePort): void {
  // sinks that only carry the destination numbers the calling thread chose
  const marks: PcapRecordSink[] = [];
  for (const d of share.destinations) if (d > 0) marks[d - 1] ??= { writeRecords: () => {} };
  let records = new Uint8Array(1 << 16);
  let used = 0;
  let entries = new Uint32Array(KEPT_FIELDS * 1024);
  let count = 0;
  let done = 0;
  let read = 0;
  let size = 0;
  const firsts = new Map<string, number>();
  const flush = (): void => {
    const msg: PcapKeptMessage = { type: 'pcap-kept', records: records.slice(0, used).buffer, entries: entries.slice(0, KEPT_FIELDS * count).buffer, done, read, size };
    port.postMessage(msg, [msg.records, msg.entries]);
    used = 0;
    count = 0;
  };
  try {
    runPcapBatches(share.path, stream, batch, (action, retval) => {
      const code = action === 'REFUSED' ? REFUSED_CODE : retval;
      const d = share.destinations[code] ?? 0;
      return d > 0 ? marks[d - 1] : undefined;
    }, {
      share: { workers: share.workers, worker },
      takeKept: (bytes, start, end, list) => {
        const n = end - start;
        if (used + n > records.length) {
          const bigger = new Uint8Array(Math.max(records.length * 2, used + n));
          bigger.set(records.subarray(0, used));
          records = bigger;
        }
        records.set(bytes.subarray(start, end), used);
        used += n;
        if (KEPT_FIELDS * count + list.length > entries.length) {
          const bigger = new Uint32Array(Math.max(entries.length * 2, KEPT_FIELDS * count + list.length));
          bigger.set(entries.subarray(0, KEPT_FIELDS * count));
          entries = bigger;
        }
        entries.set(list, KEPT_FIELDS * count);
        count += list.length / KEPT_FIELDS;
      },
      progress: (bytesRead, fileSize, packets) => {
        done = packets;
        read = bytesRead;
        size = fileSize;
        flush();
      },
      firstOf: (action, index) => { if (!firsts.has(action)) firsts.set(action, index); },
    });
  } catch (err) {
    flush();
    if (!(err instanceof TsbpfError)) throw err;
    const packet = err instanceof CaptureError ? err.packetIndex : err instanceof PacketFaultError ? err.packetIndex : done;
    const msg: PcapErrorMessage = { type: 'pcap-error', reason: err.reason, location: err.location, packet };
    port.postMessage(msg);
    return;
  }
  done = Number.MAX_SAFE_INTEGER;
  flush();
  const actions: PcapDoneMessage['actions'] = {};
  for (const [action, a] of Object.entries(stream.summary.actions)) actions[action] = { ...a, first: firsts.get(action) ?? 0 };
  port.postMessage({ type: 'pcap-done', actions } satisfies PcapDoneMessage);
}

/** One worker's results as the merging thread holds them. */
export interface PcapLink {
  /** Kept-record messages not yet fully handed over, oldest first, with the next entry and its byte offset. */
  readonly queue: { records: Uint8Array; entries: Uint32Array; next: number; at: number }[];
  /** Records of the file the worker has seen (all its packets below are in `queue` or written). */
  done: number;
  /** Its counts, once it is done. */
  actions?: PcapDoneMessage['actions'];
  error?: PcapErrorMessage;
}

/**
 * Hands kept records to their sinks in file order: a record goes once
 * every other worker has read past it (so none of theirs can come before
 * it), a run of records of one destination per call.
 */
export function mergeKept(links: readonly PcapLink[], sinks: readonly PcapRecordSink[]): void {
  for (;;) {
    let best: PcapLink | undefined;
    let bestIndex = Infinity;
    for (const l of links) {
      const head = l.queue[0];
      if (head !== undefined && head.entries[KEPT_FIELDS * head.next + 2]! < bestIndex) {
        best = l;
        bestIndex = head.entries[KEPT_FIELDS * head.next + 2]!;
      }
    }
    if (best === undefined) return;
    // nothing of another worker's may come before the records handed over: the bound is what each has read or holds
    let bound = Infinity;
    for (const l of links) {
      if (l === best) continue;
      const head = l.queue[0];
      const limit = head !== undefined ? head.entries[KEPT_FIELDS * head.next + 2]! : l.done;
      if (limit < bound) bound = limit;
    }
    if (bestIndex >= bound) return;
    const head = best.queue[0]!;
    const e = head.entries;
    const total = e.length / KEPT_FIELDS;
    const dest = e[KEPT_FIELDS * head.next]!;
    const from = head.at;
    let k = head.next;
    let to = from;
    while (k < total && e[KEPT_FIELDS * k]! === dest && e[KEPT_FIELDS * k + 2]! < bound) {
      to += e[KEPT_FIELDS * k + 1]!;
      k++;
    }
    sinks[dest - 1]!.writeRecords(head.records, from, to, k - head.next);
    head.next = k;
    head.at = to;
    if (k === total) best.queue.shift();
  }
}

/** The workers' counts added up, actions in the order the file first met them (as one thread lists them). */
export function mergeCounts(links: readonly PcapLink[]): StreamSummary {
  const summary: StreamSummary = { packets: 0, bytes: 0, actions: {}, elapsedMs: 0 };
  const first = new Map<string, number>();
  for (const l of links) {
    for (const [action, a] of Object.entries(l.actions ?? {})) {
      const s = (summary.actions[action] ??= { packets: 0, bytes: 0 });
      s.packets += a.packets;
      s.bytes += a.bytes;
      summary.packets += a.packets;
      summary.bytes += a.bytes;
      first.set(action, Math.min(first.get(action) ?? Infinity, a.first));
    }
  }
  summary.actions = Object.fromEntries(Object.entries(summary.actions).sort((a, b) => first.get(a[0])! - first.get(b[0])!));
  return summary;
}

/** The error the run ends with, when a worker failed: the one at the earliest packet (a damaged file is the same for all). */
export function firstError(links: readonly PcapLink[]): TsbpfError | undefined {
  const errors = links.flatMap((l) => (l.error ? [l.error] : []));
  if (errors.length === 0) return undefined;
  errors.sort((a, b) => a.packet - b.packet);
  return new TsbpfError(errors[0]!.reason, errors[0]!.location);
}
