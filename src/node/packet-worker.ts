/**
 * The worker-thread side of {@link runCaptureOnWorkers}: loads the object
 * attached to the shared memory, then runs every batch of packets it is
 * sent as CPU `cpu`, and sends back per batch the counts and the packets
 * the caller keeps.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { engineByName } from '../engines.js';
import { TsbpfError } from '../errors.js';
import { PacketStream, passes, redirectPorts } from '../runtime/packet-stream.js';
import { loadObjectFiles } from './objects.js';
import { preparePcapShare, runPcapShare } from './pcap-workers.js';
import type { XdpBatchRunner } from '../hooks/test-run.js';
import { KEPT_FIELDS, RECORD_HEADER, ResultFlag } from './packet-workers.js';
import type { EndMessage, PacketBatchMessage, PacketWorkerInit, ResultBatchMessage, StartMessage, WorkerMessage } from './packet-workers.js';

const port = parentPort;
if (port === null) throw new Error('packet-worker.ts runs as a worker thread (node/packet-workers.ts starts it)');
const init = workerData as PacketWorkerInit;

function post(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function report(err: unknown): void {
  if (err instanceof TsbpfError) post({ type: 'error', reason: err.reason, location: err.location, internal: false });
  else post({ type: 'error', reason: err instanceof Error ? err.stack ?? err.message : String(err), internal: true });
}

let stream: PacketStream | undefined;
let pcapBatch: XdpBatchRunner | undefined;
try {
  const { collection } = loadObjectFiles(init.load, init.space);
  // The replay must have put every map where the calling thread has it, or the two would work on different bytes.
  const moved = collection.maps.findIndex((m, i) => m.address !== init.mapAddresses[i]);
  if (moved >= 0 || collection.maps.length !== init.mapAddresses.length) {
    const name = moved >= 0 ? `map '${collection.object.maps[moved]!.name}' is at 0x${collection.maps[moved]!.address.toString(16)}, not 0x${init.mapAddresses[moved]!.toString(16)}` : 'the number of maps differs';
    throw new TsbpfError(`worker ${init.cpu} laid the object out differently from the calling thread (${name}): was it loaded from the same files with the same options?`);
  }
  const program = collection.programs[init.program]!;
  stream = new PacketStream(collection, program, init.hook, engineByName(init.engine), { cpu: init.cpu });
  // The checks (verdict, compilation) now, not at the first packet: a failure stops the run before any packet.
  stream.prepare();
  if (init.pcap) pcapBatch = preparePcapShare(stream, init.cpu);
  post({ type: 'ready' });
} catch (err) {
  report(err);
}

const keepActions = new Set(init.keepActions);
let out = new Uint8Array(1 << 18);
let kept = new Float64Array(KEPT_FIELDS * 1024);

function run(s: PacketStream, batch: PacketBatchMessage): void {
  const view = new DataView(batch.buffer);
  const bytes = new Uint8Array(batch.buffer);
  const extras: ResultBatchMessage['extras'] = [];
  const ports: ResultBatchMessage['ports'] = {};
  const actions: ResultBatchMessage['actions'] = {};
  let at = 0;
  let used = 0;
  let nKept = 0;
  let last = -1;
  for (let k = 0; k < batch.count; k++) {
    const index = view.getUint32(at, true);
    const len = view.getUint32(at + 8, true);
    const frame = bytes.subarray(at + RECORD_HEADER, at + RECORD_HEADER + len);
    const o = s.step(frame, index, view.getUint32(at + 4, true));
    last = index;
    const a = (actions[o.action] ??= { packets: 0, bytes: 0, first: index });
    a.packets++;
    a.bytes += len;
    if (o.redirect !== undefined) for (const p of redirectPorts(o.redirect)) (ports[p] ??= { packets: 0, first: index }).packets++;
    // what the caller writes: the packets that pass (-w) and those of the actions it names
    if (o.refused === undefined && passes(init.hook, o.retval) ? init.keepPassing : keepActions.has(o.action)) {
      if (used + o.data.length > out.length) {
        const bigger = new Uint8Array(Math.max(out.length * 2, used + o.data.length));
        bigger.set(out.subarray(0, used));
        out = bigger;
      }
      out.set(o.data, used);
      used += o.data.length;
      if ((nKept + 1) * KEPT_FIELDS > kept.length) {
        const bigger = new Float64Array(kept.length * 2);
        bigger.set(kept);
        kept = bigger;
      }
      let flags = 0;
      if (o.refused !== undefined || o.redirect !== undefined) {
        flags = o.refused !== undefined ? ResultFlag.refused : ResultFlag.redirect;
        extras.push({ ...(o.refused !== undefined ? { refused: o.refused } : {}), ...(o.redirect !== undefined ? { redirect: o.redirect } : {}) });
      }
      const f = nKept * KEPT_FIELDS;
      kept[f] = index;
      kept[f + 1] = o.retval;
      kept[f + 2] = flags;
      kept[f + 3] = o.data.length;
      kept[f + 4] = view.getFloat64(at + 24, true);
      kept[f + 5] = view.getUint32(at + 16, true);
      kept[f + 6] = view.getUint32(at + 4, true) - 1;
      kept[f + 7] = view.getUint32(at + 12, true);
      nKept++;
    }
    at += RECORD_HEADER + ((len + 7) & ~7);
  }
  const data = out.slice(0, used);
  const keptOut = kept.slice(0, nKept * KEPT_FIELDS);
  post({ type: 'results', last, actions, ports, kept: keptOut, data, extras, batch: batch.buffer }, [keptOut.buffer, data.buffer, batch.buffer]);
}

port.on('message', (msg: PacketBatchMessage | EndMessage | StartMessage) => {
  if (msg.type === 'end') {
    port.close();
    return;
  }
  if (stream === undefined) return;
  if (msg.type === 'start') {
    // the shared-pcap path: this worker reads the capture itself (node/pcap-workers.ts)
    try {
      runPcapShare(stream, pcapBatch!, init.cpu, init.pcap!, port);
    } catch (err) {
      report(err);
      stream = undefined;
    }
    return;
  }
  try {
    run(stream, msg);
  } catch (err) {
    report(err);
    stream = undefined;
  }
});
