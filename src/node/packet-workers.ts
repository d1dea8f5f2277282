/**
 * Host adapter: a packet program over a capture on N worker threads that
 * share one collection memory (docs/hooks.md, "Worker threads").
 *
 * The calling thread loads the collection into a shared memory, reads the
 * capture, and deals packets to the workers by flow hash (like a NIC's
 * RSS: one flow, one worker, its packets in order) in batches. Each worker
 * loads the same object *attached* to that memory (the same layout, the
 * maps' contents untouched) and runs its packets as CPU `i`: per-CPU maps
 * have a slot per worker, `bpf_get_smp_processor_id` is the worker's
 * index, BPF atomics are real atomics and hash maps change under a lock.
 * Results come back in batches, and the calling thread hands them to
 * `onPacket` in capture order (a merge by sequence: it knows which worker
 * each packet went to), so what is written is in the capture's order.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { TsbpfError } from '../errors.js';
import type { ErrorLocation } from '../errors.js';
import { CaptureReader, toEthernet } from '../capture/read.js';
import type { CapturedPacket } from '../capture/read.js';
import type { RedirectTarget } from '../hooks/redirect.js';
import type { Collection, LoadedProgram } from '../runtime/collection.js';
import { workerProblems } from '../runtime/concurrency.js';
import { flowHash } from '../runtime/flow-hash.js';
import { actionName } from '../runtime/packet-stream.js';
import type { PacketHook, PacketOutcome, StreamSummary } from '../runtime/packet-stream.js';
import type { SharedSpace } from '../vm/memory.js';
import { fileError } from './capture-files.js';
import type { ObjectFilesLoad } from './objects.js';

/** Packets per batch sent to a worker (fewer when {@link BATCH_BYTES} fill first). */
const BATCH_PACKETS = 256;
/** Bytes of a batch buffer: frames and their 12-byte record headers. */
const BATCH_BYTES = 1 << 18;
/** Batches a worker may have outstanding before the reader waits for it. */
const MAX_IN_FLIGHT = 4;
/** Bytes read from the capture at a time. */
const CHUNK = 1 << 20;
/** Bytes of a record header in a batch: index, ifindex, length (u32 each). */
const RECORD_HEADER = 12;

/** Result flags of one packet (worker → main). */
export const ResultFlag = { refused: 1, data: 2, redirect: 4 } as const;

/** What a worker is started with (`workerData`). */
export interface PacketWorkerInit {
  readonly load: ObjectFilesLoad;
  readonly space: SharedSpace;
  /** Index of the program in the collection's programs. */
  readonly program: number;
  readonly hook: PacketHook;
  readonly engine: string;
  /** The worker's index: its CPU. */
  readonly cpu: number;
  /** Whether packets that pass need their bytes back (`-w`). */
  readonly keepPassing: boolean;
  /** Actions whose packets need their bytes back (`--write-action`). */
  readonly keepActions: readonly string[];
}

/** A batch of packets (main → worker): `count` records of {@link RECORD_HEADER} bytes and the frame, 4-byte aligned. */
export interface PacketBatchMessage {
  readonly type: 'batch';
  readonly buffer: ArrayBuffer;
  readonly count: number;
}

/** No more batches (main → worker): the worker closes its port and ends. */
export interface EndMessage {
  readonly type: 'end';
}

/** The outcomes of one batch (worker → main), in the batch's order. */
export interface ResultBatchMessage {
  readonly type: 'results';
  /** Per packet: retval, {@link ResultFlag} bits, bytes of data in {@link data}. */
  readonly meta: Int32Array;
  /** The packets that need their bytes, one after another. */
  readonly data: Uint8Array;
  /** For each packet flagged refused or redirect, in order: why it was refused, where it went. */
  readonly extras: { refused?: string; redirect?: RedirectTarget | null }[];
  /** The batch's buffer, handed back for the next batch (allocating a fresh one per batch costs more than the packets). */
  readonly batch: ArrayBuffer;
}

/** A worker's failure (worker → main). */
export interface WorkerErrorMessage {
  readonly type: 'error';
  /** A TsbpfError's reason and location, or another error's stack. */
  readonly reason: string;
  readonly location?: ErrorLocation;
  readonly internal: boolean;
}

/** What workers send. */
export type WorkerMessage = { readonly type: 'ready' } | ResultBatchMessage | WorkerErrorMessage;

/** What {@link runCaptureOnWorkers} tells `onPacket` about a packet besides its outcome. */
export interface WorkerPacketInfo {
  /** Index in the capture. */
  readonly index: number;
  readonly sec: number;
  readonly nsec: number;
  /** The capture interface it arrived on (ifindex - 1). */
  readonly iface: number;
  /** Length on the wire, as captured. */
  readonly origLen: number;
  /** Bytes captured (before link-layer conversion). */
  readonly capturedLength: number;
}

/** Options of {@link runCaptureOnWorkers}. */
export interface CaptureOnWorkersOptions {
  /** How `collection` was loaded: each worker loads the same, attached to its memory. */
  readonly load: ObjectFilesLoad;
  readonly program: LoadedProgram;
  readonly hook: PacketHook;
  /** Engine name (`interp`, `jit`). */
  readonly engine: string;
  /** Number of worker threads (at most the collection's possible CPUs). */
  readonly workers: number;
  /** The capture file to read. */
  readonly capture: string;
  /** Whether `onPacket` needs the bytes of packets that pass; otherwise their `data` is empty. */
  readonly keepPassing?: boolean;
  /** Actions whose packets `onPacket` needs the bytes of. */
  readonly keepActions?: readonly string[];
  /** Hears every packet's outcome, in capture order (`data` valid during the call only). */
  readonly onPacket?: (outcome: PacketOutcome, packet: WorkerPacketInfo, reader: CaptureReader) => void;
  /** Hears of reading: bytes read, file size, packets done. */
  readonly progress?: (bytesRead: number, fileSize: number, packets: number) => void;
}

/** The Ethernet frame a packet hook is given, or an error naming the packet. */
export function hookFrame(p: CapturedPacket, index: number, hook: PacketHook, file: string): Uint8Array {
  const frame = toEthernet(p);
  if (!frame) throw new TsbpfError(`packet ${index}: link type ${p.linkType} cannot be given to a ${hook} program (Ethernet, raw IPv4/IPv6, Linux SLL/SLL2 and loopback can)`, { file });
  return frame;
}

/**
 * How to start a worker: the script next to this module (.js in dist/);
 * from the TypeScript sources (under tsx) a bootstrap that registers tsx's
 * loader in the worker first, since Node 20 workers do not take
 * `--import tsx` from `execArgv`.
 */
function workerScript(): { script: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { script: new URL('./packet-worker.js', import.meta.url), eval: false };
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch {
    throw new TsbpfError('worker threads need the built package (dist/) or tsx to load their TypeScript sources');
  }
  const entry = new URL('./packet-worker.ts', import.meta.url).href;
  return { script: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, eval: true };
}

/**
 * Ends a worker. After a clean run it is asked to finish (it closes its
 * port and its thread ends on its own): `terminate()` while V8 is still
 * optimising code in the background for that thread has crashed Node 20
 * (`NodePlatform::ForIsolate` assertion); a failed run terminates it.
 */
function stop(worker: Worker, failed: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    worker.once('exit', () => resolve());
    if (failed) void worker.terminate();
    else worker.postMessage({ type: 'end' } satisfies EndMessage);
  });
}

/** The packets dealt out and not yet handed to `onPacket`, in capture order (a growable ring). */
class Pending {
  private cap = 1024;
  private head = 0;
  size = 0;
  worker = new Uint16Array(this.cap);
  sec = new Float64Array(this.cap);
  nsec = new Uint32Array(this.cap);
  iface = new Uint32Array(this.cap);
  origLen = new Uint32Array(this.cap);
  capLen = new Uint32Array(this.cap);
  frameLen = new Uint32Array(this.cap);

  push(worker: number, p: CapturedPacket, frameLen: number): void {
    if (this.size === this.cap) this.grow();
    const i = (this.head + this.size) % this.cap;
    this.worker[i] = worker;
    this.sec[i] = p.sec;
    this.nsec[i] = p.nsec;
    this.iface[i] = p.iface;
    this.origLen[i] = p.origLen;
    this.capLen[i] = p.data.length;
    this.frameLen[i] = frameLen;
    this.size++;
  }

  /** Slot of the oldest packet. */
  get first(): number {
    return this.head;
  }

  shift(): void {
    this.head = (this.head + 1) % this.cap;
    this.size--;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const order = (a: Uint16Array | Uint32Array | Float64Array, b: Uint16Array | Uint32Array | Float64Array): void => {
      for (let k = 0; k < this.size; k++) b[k] = a[(this.head + k) % this.cap]!;
    };
    const w = new Uint16Array(cap); order(this.worker, w); this.worker = w;
    const s = new Float64Array(cap); order(this.sec, s); this.sec = s;
    const ns = new Uint32Array(cap); order(this.nsec, ns); this.nsec = ns;
    const f = new Uint32Array(cap); order(this.iface, f); this.iface = f;
    const o = new Uint32Array(cap); order(this.origLen, o); this.origLen = o;
    const c = new Uint32Array(cap); order(this.capLen, c); this.capLen = c;
    const l = new Uint32Array(cap); order(this.frameLen, l); this.frameLen = l;
    this.head = 0;
    this.cap = cap;
  }
}

/** One worker as the dealing thread sees it. */
interface Link {
  readonly worker: Worker;
  /** The batch being filled. */
  buffer: ArrayBuffer;
  bytes: Uint8Array;
  view: DataView;
  used: number;
  count: number;
  inFlight: number;
  /** Batch buffers the worker handed back, for reuse. */
  readonly spare: ArrayBuffer[];
  /** Result batches not yet merged, oldest first, with how far the first is read. */
  readonly results: { msg: ResultBatchMessage; next: number; dataAt: number; extra: number }[];
  ready: boolean;
}

function newBatch(link: Pick<Link, 'buffer' | 'bytes' | 'view' | 'used' | 'count' | 'spare'>): void {
  link.buffer = link.spare.pop() ?? new ArrayBuffer(BATCH_BYTES);
  link.bytes = new Uint8Array(link.buffer);
  link.view = new DataView(link.buffer);
  link.used = 0;
  link.count = 0;
}

/**
 * Runs `options.program` of `collection` over every packet of a capture on
 * `options.workers` worker threads sharing the collection's memory. The
 * collection must have been loaded as `options.load` says, with `shared`
 * and at least `workers` possible CPUs; its maps hold the result when the
 * promise resolves. A map the program uses that is not safe on several
 * threads (runtime/concurrency.ts) fails before any packet runs, naming
 * it. Returns the summary (as {@link PacketStream}'s) and the reader
 * (format, interfaces).
 */
export async function runCaptureOnWorkers(collection: Collection, options: CaptureOnWorkersOptions): Promise<{ summary: StreamSummary; reader: CaptureReader }> {
  const n = options.workers;
  if (!Number.isInteger(n) || n < 1) throw new TsbpfError(`the number of workers must be a positive integer, not ${n}`);
  if (n > collection.machine.possibleCpus) throw new TsbpfError(`${n} workers need ${n} possible CPUs: the collection has ${collection.machine.possibleCpus} (load it with possibleCpus >= ${n})`);
  if (n > 1) {
    const problems = workerProblems(collection, options.program);
    if (problems.length) {
      throw new TsbpfError(`program '${options.program.spec.name}' cannot run on ${n} workers: ${problems.join('; ')}`, { section: options.program.spec.section });
    }
  }
  const programIndex = collection.programs.indexOf(options.program);
  if (programIndex < 0) throw new TsbpfError(`program '${options.program.spec.name}' is not a program of this collection`);
  const space = collection.machine.space.share();
  const summary: StreamSummary = { packets: 0, bytes: 0, actions: {}, elapsedMs: 0 };
  const started = performance.now();
  const reader = new CaptureReader();
  const pending = new Pending();
  const script = workerScript();
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: Error): void => {
    failure ??= err;
    notify();
  };
  const outcome: PacketOutcome = { retval: 0, action: '', data: new Uint8Array(0) };
  const empty = new Uint8Array(0);
  const names = new Map<number, string>();
  let index = 0;
  let closing = false;

  /** Hands every packet whose result is in to `onPacket`, in capture order. */
  const merge = (): void => {
    while (pending.size > 0) {
      const slot = pending.first;
      const link = links[pending.worker[slot]!]!;
      const r = link.results[0];
      if (r === undefined) return;
      const k = r.next++;
      const retval = r.msg.meta[3 * k]!;
      const flags = r.msg.meta[3 * k + 1]!;
      const len = r.msg.meta[3 * k + 2]!;
      outcome.retval = retval >>> 0;
      outcome.refused = undefined;
      outcome.redirect = undefined;
      if (flags & (ResultFlag.refused | ResultFlag.redirect)) {
        const extra = r.msg.extras[r.extra++]!;
        if (extra.refused !== undefined) outcome.refused = extra.refused;
        if (extra.redirect !== undefined) outcome.redirect = extra.redirect;
      }
      if (outcome.refused !== undefined) {
        outcome.action = 'REFUSED';
        outcome.retval = 0;
      } else {
        let name = names.get(outcome.retval);
        if (name === undefined) names.set(outcome.retval, (name = actionName(options.hook, outcome.retval)));
        outcome.action = name;
      }
      outcome.data = flags & ResultFlag.data ? r.msg.data.subarray(r.dataAt, r.dataAt + len) : empty;
      r.dataAt += flags & ResultFlag.data ? len : 0;
      if (r.next === r.msg.meta.length / 3) link.results.shift();
      const frameLen = pending.frameLen[slot]!;
      summary.packets++;
      summary.bytes += frameLen;
      const a = (summary.actions[outcome.action] ??= { packets: 0, bytes: 0 });
      a.packets++;
      a.bytes += frameLen;
      const info: WorkerPacketInfo = {
        index: summary.packets - 1, sec: pending.sec[slot]!, nsec: pending.nsec[slot]!, iface: pending.iface[slot]!,
        origLen: pending.origLen[slot]!, capturedLength: pending.capLen[slot]!,
      };
      pending.shift();
      options.onPacket?.(outcome, info, reader);
    }
  };

  const links: Link[] = [];
  for (let cpu = 0; cpu < n; cpu++) {
    const init: PacketWorkerInit = {
      load: options.load, space, program: programIndex, hook: options.hook, engine: options.engine, cpu,
      keepPassing: options.keepPassing ?? false, keepActions: [...(options.keepActions ?? [])],
    };
    const worker = new Worker(script.script, { workerData: init, eval: script.eval });
    const link: Link = { worker, buffer: new ArrayBuffer(0), bytes: empty, view: new DataView(new ArrayBuffer(0)), used: 0, count: 0, inFlight: 0, spare: [], results: [], ready: false };
    newBatch(link);
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'ready') {
        link.ready = true;
      } else if (msg.type === 'results') {
        link.inFlight--;
        if (msg.batch.byteLength === BATCH_BYTES) link.spare.push(msg.batch);
        link.results.push({ msg, next: 0, dataAt: 0, extra: 0 });
        try {
          merge();
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
        }
      } else {
        fail(msg.internal ? new Error(`worker ${cpu}: ${msg.reason}`) : new TsbpfError(msg.reason, msg.location ?? {}));
      }
      notify();
    });
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => {
      if (!closing) fail(new TsbpfError(`worker ${cpu} stopped (exit code ${code}) before the capture was done`));
    });
    links.push(link);
  }

  /** Waits for the next message from any worker; throws what a worker failed with. */
  const nextEvent = async (): Promise<void> => {
    if (failure) throw failure;
    await new Promise<void>((resolve) => { wake = resolve; });
    if (failure) throw failure;
  };

  const send = (link: Link): void => {
    if (link.count === 0) return;
    const msg: PacketBatchMessage = { type: 'batch', buffer: link.buffer, count: link.count };
    link.worker.postMessage(msg, [link.buffer]);
    link.inFlight++;
    newBatch(link);
  };

  const deal = (p: CapturedPacket): void => {
    const frame = hookFrame(p, index, options.hook, options.capture);
    const w = n === 1 ? 0 : flowHash(frame) % n;
    const link = links[w]!;
    const need = RECORD_HEADER + ((frame.length + 3) & ~3);
    if (link.used + need > link.bytes.length) send(link);
    if (need > link.bytes.length) {
      // a frame larger than a batch travels alone
      link.buffer = new ArrayBuffer(need);
      link.bytes = new Uint8Array(link.buffer);
      link.view = new DataView(link.buffer);
    }
    link.view.setUint32(link.used, index, true);
    link.view.setUint32(link.used + 4, p.iface + 1, true); // the capture's interfaces are ifindex 1, 2, ...
    link.view.setUint32(link.used + 8, frame.length, true);
    link.bytes.set(frame, link.used + RECORD_HEADER);
    link.used += need;
    link.count++;
    pending.push(w, p, frame.length);
    index++;
    if (link.count === BATCH_PACKETS) send(link);
  };

  let fd: number | undefined;
  try {
    // every worker loaded, verified and attached before the first packet goes out
    while (!links.every((l) => l.ready)) await nextEvent();
    try {
      fd = openSync(options.capture, 'r');
    } catch (err) {
      fileError(err, options.capture);
    }
    const size = options.progress ? fstatSync(fd).size : 0;
    const chunk = new Uint8Array(CHUNK);
    let done = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, chunk, 0, CHUNK, null);
      } catch (err) {
        fileError(err, options.capture);
      }
      if (got === 0) break;
      reader.feed(chunk.subarray(0, got), deal);
      done += got;
      options.progress?.(done, size, summary.packets);
      // the reader runs ahead of the slowest worker by a few batches, no more
      while (links.some((l) => l.inFlight >= MAX_IN_FLIGHT)) await nextEvent();
    }
    try {
      reader.end();
    } catch (err) {
      fileError(err, options.capture);
    }
    for (const link of links) send(link);
    while (pending.size > 0) await nextEvent();
    if (failure) throw failure;
  } finally {
    if (fd !== undefined) closeSync(fd);
    // Results are merged only after the worker posted them, so every map change they made is visible here.
    closing = true;
    await Promise.all(links.map((l) => stop(l.worker, failure !== undefined)));
  }
  summary.elapsedMs = performance.now() - started;
  return { summary, reader };
}
