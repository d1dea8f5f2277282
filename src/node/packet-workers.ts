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
 * Workers count packets, bytes and ports per action themselves and send
 * back, per batch, those counts and only the packets the caller keeps
 * (the ones it writes); the calling thread hands those to `onPacket` in
 * capture order: a packet is handed over once every other worker has
 * reported past its index, so what is written is in the capture's order
 * while the calling thread does no work per packet that is not written.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { TsbpfError } from '../errors.js';
import type { ErrorLocation } from '../errors.js';
import { CaptureReader, toEthernet } from '../capture/read.js';
import type { CaptureInterface, CapturedPacket } from '../capture/read.js';
import type { RedirectTarget } from '../hooks/redirect.js';
import type { Collection, LoadedProgram } from '../runtime/collection.js';
import { workerProblems } from '../runtime/concurrency.js';
import { flowHash } from '../runtime/flow-hash.js';
import { actionName } from '../runtime/packet-stream.js';
import type { PacketHook, PacketOutcome, StreamSummary } from '../runtime/packet-stream.js';
import type { SharedSpace } from '../vm/memory.js';
import { fileError } from './capture-files.js';
import type { ObjectFilesLoad } from './objects.js';
import { destinationsOf } from './pcap-batches.js';
import type { PcapRecordSink } from './pcap-batches.js';
import { firstError, mergeCounts, mergeKept, pcapShareable } from './pcap-workers.js';
import type { PcapDoneMessage, PcapErrorMessage, PcapKeptMessage, PcapLink, PcapShare } from './pcap-workers.js';

/** Packets per batch sent to a worker (fewer when {@link BATCH_BYTES} fill first). */
const BATCH_PACKETS = 1024;
/** Bytes of a batch buffer: frames and their record headers. */
const BATCH_BYTES = 1 << 18;
/** Batches a worker may have outstanding before the reader waits for it. */
const MAX_IN_FLIGHT = 4;
/** Bytes read from the capture at a time. */
const CHUNK = 1 << 20;
/**
 * Bytes of a record header in a batch: index, ifindex, frame length, bytes
 * the capture cut off (wire length - captured length), nsec (u32 each),
 * padding, sec (f64); the frame follows, padded to 8 bytes.
 */
export const RECORD_HEADER = 32;
/** Numbers per kept packet in {@link ResultBatchMessage.kept}. */
export const KEPT_FIELDS = 8;

/** Result flags of a kept packet (worker → main). */
export const ResultFlag = { refused: 1, redirect: 2 } as const;

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
  /** Whether packets that pass are kept (sent back with their bytes: `-w`). */
  readonly keepPassing: boolean;
  /** Actions whose packets are kept (`--write-action`). */
  readonly keepActions: readonly string[];
  /** The address of every map in the calling thread: the worker's must be the same. */
  readonly mapAddresses: readonly number[];
  /** The shared-pcap path (node/pcap-workers.ts): the worker reads the capture itself after {@link StartMessage}. */
  readonly pcap?: PcapShare;
}

/** A batch of packets (main → worker): `count` records ({@link RECORD_HEADER}). */
export interface PacketBatchMessage {
  readonly type: 'batch';
  readonly buffer: ArrayBuffer;
  readonly count: number;
}

/** Every worker is ready (main → worker, shared-pcap path): read the capture. */
export interface StartMessage {
  readonly type: 'start';
}

/** No more batches (main → worker): the worker closes its port and ends. */
export interface EndMessage {
  readonly type: 'end';
}

/** What one batch did (worker → main). */
export interface ResultBatchMessage {
  readonly type: 'results';
  /** Index of the batch's last packet: the worker is done with every packet of its own up to it. */
  readonly last: number;
  /** Packets and bytes per action, and the index of the batch's first packet of that action. */
  readonly actions: Record<string, { packets: number; bytes: number; first: number }>;
  /** Packets redirected to each output port (see redirectPorts), and the index of the first. */
  readonly ports: Record<string, { packets: number; first: number }>;
  /**
   * The kept packets, {@link KEPT_FIELDS} numbers each: index, retval,
   * {@link ResultFlag} bits, bytes in {@link data}, sec, nsec, capture
   * interface, bytes the capture cut off.
   */
  readonly kept: Float64Array;
  /** The kept packets' bytes, one after another. */
  readonly data: Uint8Array;
  /** For each kept packet flagged refused or redirect, in order: why it was refused, where it went. */
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
export type WorkerMessage = { readonly type: 'ready' } | ResultBatchMessage | WorkerErrorMessage | PcapKeptMessage | PcapDoneMessage | PcapErrorMessage;

/** What {@link runCaptureOnWorkers} tells `onPacket` about a kept packet besides its outcome. */
export interface WorkerPacketInfo {
  /** Index in the capture. */
  readonly index: number;
  readonly sec: number;
  readonly nsec: number;
  /** The capture interface it arrived on (ifindex - 1). */
  readonly iface: number;
  /** Bytes of the packet the capture did not keep (length on the wire - bytes captured). */
  readonly cutOff: number;
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
  /** Keep the packets that pass (XDP_PASS, ...: what `-w` writes). */
  readonly keepPassing?: boolean;
  /** Keep the packets of these actions (`--write-action`). */
  readonly keepActions?: readonly string[];
  /** Hears every kept packet's outcome, in capture order (`data` valid during the call only). */
  readonly onPacket?: (outcome: PacketOutcome, packet: WorkerPacketInfo, reader: CaptureReader) => void;
  /** Hears of reading: bytes read, file size, packets done. */
  readonly progress?: (bytesRead: number, fileSize: number, packets: number) => void;
  /**
   * Where the packets of each verdict go, as pcap records (node/pcap-batches.ts):
   * given, an XDP program on the JIT over a classic pcap of Ethernet frames
   * takes the shared-pcap path (node/pcap-workers.ts), where every worker
   * reads the file and the kept packets go to these sinks, not to
   * `onPacket`; `keepPassing` and `keepActions` are then not used.
   */
  readonly sinkFor?: (action: string, retval: number) => PcapRecordSink | undefined;
}

/** What {@link runCaptureOnWorkers} returns. */
export interface WorkersResult {
  /** Packets and bytes per action, as {@link PacketStream}'s summary. */
  readonly summary: StreamSummary;
  /** Packets redirected to each output port (`if3`, `cpu1`, `xsk0`). */
  readonly ports: Record<string, number>;
  /** The capture's format and interfaces. */
  readonly reader: Pick<CaptureReader, 'format' | 'interfaces'>;
  /** Milliseconds until every worker had loaded, verified and compiled the object (before the first packet ran). */
  readonly startupMs: number;
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
  if (!import.meta.url.endsWith('.ts')) {
    // the one-file bundle of the build (scripts/bundle-worker.mjs) loads faster, unless it is older than the modules
    const modules = new URL('./packet-worker.js', import.meta.url);
    const bundle = new URL('./packet-worker.bundle.js', import.meta.url);
    try {
      if (statSync(bundle).mtimeMs >= statSync(modules).mtimeMs) return { script: bundle, eval: false };
    } catch {
      // no bundle
    }
    return { script: modules, eval: false };
  }
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
 * Ends a worker: it is asked to finish (it closes its port and its thread
 * ends on its own once the batches already sent are done; a worker that
 * failed runs none of them). `terminate()` while V8 is still optimising
 * code in the background for that thread has crashed Node 20
 * (`NodePlatform::ForIsolate` assertion), so it is only the fallback for a
 * worker that has not ended after `graceMs`.
 */
function stop(worker: Worker, exited: boolean, graceMs = 10_000): Promise<void> {
  if (exited) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), graceMs);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.postMessage({ type: 'end' } satisfies EndMessage);
  });
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
  /** Index of the last packet dealt to it (-1: none). */
  dealt: number;
  /** Index of the last packet it is done with (-1: none). */
  done: number;
  /** Result batches with kept packets not yet handed over, oldest first, with how far the first is read. */
  readonly results: { msg: ResultBatchMessage; next: number; dataAt: number; extra: number }[];
  ready: boolean;
  /** The thread has ended. */
  exited: boolean;
}

/** What {@link WorkerGroup} keeps of each worker; the paths add their own state. */
interface GroupMember {
  readonly worker: Worker;
  ready: boolean;
  exited: boolean;
}

/**
 * N packet workers as one group: their start, the first failure any of
 * them (or a message handler) meets, waiting for their next message, and
 * stopping them all. Both ways of running a capture on workers use it.
 */
class WorkerGroup<M extends GroupMember> {
  readonly members: M[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private closing = false;

  /**
   * Starts `n` workers with `initFor(cpu)`; `member` makes each one's state,
   * `onMessage` handles what it posts (`ready` is handled here) and may throw
   * (a sink that cannot write): the group fails with that.
   */
  constructor(n: number, initFor: (cpu: number) => PacketWorkerInit, member: (worker: Worker) => M,
    onMessage: (m: M, cpu: number, msg: WorkerMessage) => void) {
    const script = workerScript();
    for (let cpu = 0; cpu < n; cpu++) {
      const worker = new Worker(script.script, { workerData: initFor(cpu), eval: script.eval });
      const m = member(worker);
      worker.on('message', (msg: WorkerMessage) => {
        try {
          if (msg.type === 'ready') m.ready = true;
          else if (msg.type === 'error') this.fail(msg.internal ? new Error(`worker ${cpu}: ${msg.reason}`) : new TsbpfError(msg.reason, msg.location ?? {}));
          else onMessage(m, cpu, msg);
        } catch (err) {
          this.fail(err instanceof Error ? err : new Error(String(err)));
        }
        this.notify();
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        m.exited = true;
        if (!this.closing) this.fail(new TsbpfError(`worker ${cpu} stopped (exit code ${code}) before the capture was done`));
      });
      this.members.push(m);
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Records the first failure (later ones are consequences) and wakes the waiter. */
  fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  /** Throws the group's failure, if any. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Waits for the next message from any worker; throws what the group failed with. */
  async nextEvent(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => { this.wake = resolve; });
    this.check();
  }

  /** Waits until `done()` holds, one message at a time. */
  async until(done: () => boolean): Promise<void> {
    while (!done()) await this.nextEvent();
  }

  /**
   * Ends every worker. Every result was received after its worker posted
   * it, so every map change the workers made is visible to the caller.
   */
  async stop(): Promise<void> {
    this.closing = true;
    await Promise.all(this.members.map((m) => stop(m.worker, m.exited)));
  }
}

function newBatch(link: Pick<Link, 'buffer' | 'bytes' | 'view' | 'used' | 'count' | 'spare'>, size = BATCH_BYTES): void {
  link.buffer = (size === BATCH_BYTES ? link.spare.pop() : undefined) ?? new ArrayBuffer(size);
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
 * it.
 */
export async function runCaptureOnWorkers(collection: Collection, options: CaptureOnWorkersOptions): Promise<WorkersResult> {
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
  const pcapInterface = options.sinkFor !== undefined && options.hook === 'xdp' ? pcapShareable(collection, options.program, options.engine, options.capture) : null;
  if (pcapInterface !== null) return runPcapOnWorkers(collection, options, options.sinkFor!, space, programIndex, pcapInterface);
  const summary: StreamSummary = { packets: 0, bytes: 0, actions: {}, elapsedMs: 0 };
  const ports: Record<string, number> = {};
  // Where each action and port first appeared: the result lists them in that order, as one thread does.
  const firstAction = new Map<string, number>();
  const firstPort = new Map<string, number>();
  const started = performance.now();
  let startupMs = 0;
  const reader = new CaptureReader();
  const outcome: PacketOutcome = { retval: 0, action: '', data: new Uint8Array(0) };
  const empty = new Uint8Array(0);
  const names = new Map<number, string>();
  let index = 0;
  const group = new WorkerGroup<Link>(n, (cpu) => ({
    load: options.load, space, program: programIndex, hook: options.hook, engine: options.engine, cpu,
    keepPassing: options.keepPassing ?? false, keepActions: [...(options.keepActions ?? [])],
    mapAddresses: collection.maps.map((m) => m.address),
  }), (worker) => {
    const link: Link = {
      worker, buffer: new ArrayBuffer(0), bytes: empty, view: new DataView(new ArrayBuffer(0)), used: 0, count: 0, inFlight: 0,
      spare: [], dealt: -1, done: -1, results: [], ready: false, exited: false,
    };
    newBatch(link);
    return link;
  }, (link, _cpu, msg) => {
    // (onPacket may throw: a file that cannot be written)
    if (msg.type === 'results') received(link, msg);
  });
  const links = group.members;

  /**
   * Hands kept packets to `onPacket` in capture order: the lowest index
   * any worker holds goes once every other worker is done past it (or has
   * nothing left), since a worker reports its packets in order.
   */
  const handOver = (): void => {
    for (;;) {
      let best: Link | undefined;
      let bestIndex = Infinity;
      for (const l of links) {
        const r = l.results[0];
        if (r !== undefined && r.msg.kept[r.next * KEPT_FIELDS]! < bestIndex) {
          best = l;
          bestIndex = r.msg.kept[r.next * KEPT_FIELDS]!;
        }
      }
      if (best === undefined) return;
      for (const l of links) if (l !== best && l.done < l.dealt && l.done < bestIndex) return;
      const r = best.results[0]!;
      const at = r.next * KEPT_FIELDS;
      const kept = r.msg.kept;
      const flags = kept[at + 2]!;
      const len = kept[at + 3]!;
      outcome.retval = kept[at + 1]!;
      outcome.refused = undefined;
      outcome.redirect = undefined;
      if (flags & (ResultFlag.refused | ResultFlag.redirect)) {
        const extra = r.msg.extras[r.extra++]!;
        if (extra.refused !== undefined) outcome.refused = extra.refused;
        if (extra.redirect !== undefined) outcome.redirect = extra.redirect;
      }
      if (outcome.refused !== undefined) {
        outcome.action = 'REFUSED';
      } else {
        let name = names.get(outcome.retval);
        if (name === undefined) names.set(outcome.retval, (name = actionName(options.hook, outcome.retval)));
        outcome.action = name;
      }
      outcome.data = r.msg.data.subarray(r.dataAt, r.dataAt + len);
      r.dataAt += len;
      if (++r.next === kept.length / KEPT_FIELDS) best.results.shift();
      options.onPacket?.(outcome, { index: bestIndex, sec: kept[at + 4]!, nsec: kept[at + 5]!, iface: kept[at + 6]!, cutOff: kept[at + 7]! }, reader);
    }
  };

  const received = (link: Link, msg: ResultBatchMessage): void => {
    link.inFlight--;
    link.done = msg.last;
    if (msg.batch.byteLength === BATCH_BYTES) link.spare.push(msg.batch);
    for (const [action, c] of Object.entries(msg.actions)) {
      const a = (summary.actions[action] ??= { packets: 0, bytes: 0 });
      a.packets += c.packets;
      a.bytes += c.bytes;
      summary.packets += c.packets;
      summary.bytes += c.bytes;
      firstAction.set(action, Math.min(firstAction.get(action) ?? Infinity, c.first));
    }
    for (const [port, c] of Object.entries(msg.ports)) {
      ports[port] = (ports[port] ?? 0) + c.packets;
      firstPort.set(port, Math.min(firstPort.get(port) ?? Infinity, c.first));
    }
    if (msg.kept.length) link.results.push({ msg, next: 0, dataAt: 0, extra: 0 });
    handOver();
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
    const link = links[n === 1 ? 0 : flowHash(frame) % n]!;
    const need = RECORD_HEADER + ((frame.length + 7) & ~7);
    if (link.used + need > link.bytes.length) {
      send(link);
      // a frame larger than a batch travels alone
      if (need > BATCH_BYTES) newBatch(link, need);
    }
    const v = link.view;
    const at = link.used;
    v.setUint32(at, index, true);
    v.setUint32(at + 4, p.iface + 1, true); // the capture's interfaces are ifindex 1, 2, ...
    v.setUint32(at + 8, frame.length, true);
    v.setUint32(at + 12, Math.max(0, p.origLen - p.data.length), true);
    v.setUint32(at + 16, p.nsec, true);
    v.setFloat64(at + 24, p.sec, true);
    link.bytes.set(frame, at + RECORD_HEADER);
    link.used += need;
    link.dealt = index;
    index++;
    if (++link.count === BATCH_PACKETS) send(link);
  };

  /** Sends what is dealt and waits until every worker is done with it. */
  const finish = async (): Promise<void> => {
    for (const link of links) send(link);
    await group.until(() => links.every((l) => l.inFlight === 0));
    group.check();
  };

  let fd: number | undefined;
  try {
    // every worker loaded, verified and attached before the first packet goes out
    await group.until(() => links.every((l) => l.ready));
    startupMs = performance.now() - started;
    try {
      fd = openSync(options.capture, 'r');
    } catch (err) {
      fileError(err, options.capture);
    }
    const size = options.progress ? fstatSync(fd).size : 0;
    const chunk = new Uint8Array(CHUNK);
    let read = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, chunk, 0, CHUNK, null);
      } catch (err) {
        fileError(err, options.capture);
      }
      if (got === 0) break;
      try {
        reader.feed(chunk.subarray(0, got), deal);
      } catch (err) {
        // Damage in the capture (or a packet no hook takes): as on one thread, every packet before it runs first.
        await finish();
        throw err;
      }
      read += got;
      // Partly filled batches go too: a worker with few packets must not hold back the others' kept packets for long.
      for (const link of links) send(link);
      options.progress?.(read, size, summary.packets);
      // the reader runs ahead of the slowest worker by a few batches, no more
      await group.until(() => links.every((l) => l.inFlight < MAX_IN_FLIGHT));
    }
    try {
      reader.end();
    } catch (err) {
      await finish();
      fileError(err, options.capture);
    }
    await finish();
  } finally {
    if (fd !== undefined) closeSync(fd);
    await group.stop();
  }
  summary.elapsedMs = performance.now() - started;
  const byFirst = (first: Map<string, number>) => (a: [string, unknown], b: [string, unknown]): number => first.get(a[0])! - first.get(b[0])!;
  summary.actions = Object.fromEntries(Object.entries(summary.actions).sort(byFirst(firstAction)));
  return { summary, ports: Object.fromEntries(Object.entries(ports).sort(byFirst(firstPort))), reader, startupMs };
}

/**
 * The shared-pcap path of {@link runCaptureOnWorkers}: every worker reads
 * the capture and runs its flows' packets in batches (node/pcap-workers.ts);
 * this thread only merges the kept records into file order for the sinks.
 */
async function runPcapOnWorkers(
  collection: Collection, options: CaptureOnWorkersOptions, sinkFor: NonNullable<CaptureOnWorkersOptions['sinkFor']>,
  space: SharedSpace, programIndex: number, iface: CaptureInterface,
): Promise<WorkersResult> {
  const n = options.workers;
  const started = performance.now();
  const { destinations, sinks } = destinationsOf(sinkFor);
  const share: PcapShare = { path: options.capture, workers: n, destinations };
  let startupMs = 0;
  type Member = PcapLink & GroupMember & { finished: boolean };
  const group = new WorkerGroup<Member>(n, (cpu) => ({
    load: options.load, space, program: programIndex, hook: options.hook, engine: options.engine, cpu,
    keepPassing: false, keepActions: [], mapAddresses: collection.maps.map((m) => m.address), pcap: share,
  }), (worker) => ({ worker, queue: [], done: 0, ready: false, finished: false, exited: false }), (link, cpu, msg) => {
    if (msg.type === 'pcap-kept') {
      const entries = new Uint32Array(msg.entries);
      if (entries.length > 0) link.queue.push({ records: new Uint8Array(msg.records), entries, next: 0, at: 0 });
      link.done = msg.done;
      // (a sink may throw: a file that cannot be written)
      mergeKept(links, sinks);
      if (cpu === 0) options.progress?.(msg.read, msg.size, Math.min(...links.map((l) => l.done)));
    } else if (msg.type === 'pcap-done') {
      link.actions = msg.actions;
      link.finished = true;
    } else if (msg.type === 'pcap-error') {
      link.error = msg;
      link.done = msg.packet;
      link.finished = true;
    }
  });
  const links = group.members;
  try {
    await group.until(() => links.every((l) => l.ready));
    startupMs = performance.now() - started;
    for (const l of links) l.worker.postMessage({ type: 'start' } satisfies StartMessage);
    await group.until(() => links.every((l) => l.finished));
    mergeKept(links, sinks);
  } finally {
    await group.stop();
  }
  const error = firstError(links);
  if (error !== undefined) throw error;
  const summary = mergeCounts(links);
  summary.elapsedMs = performance.now() - started;
  return { summary, ports: {}, reader: { format: 'pcap', interfaces: [iface] }, startupMs };
}
