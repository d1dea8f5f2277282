/**
 * The worker-thread side of {@link runCaptureOnWorkers}: loads the object
 * attached to the shared memory, then runs every batch of packets it is
 * sent as CPU `cpu` and sends the outcomes back, batch for batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { engineByName } from '../engines.js';
import { TsbpfError } from '../errors.js';
import { PacketStream, passes } from '../runtime/packet-stream.js';
import { loadObjectFiles } from './objects.js';
import { ResultFlag } from './packet-workers.js';
import type { EndMessage, PacketBatchMessage, PacketWorkerInit, ResultBatchMessage, WorkerMessage } from './packet-workers.js';

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
try {
  const { collection } = loadObjectFiles(init.load, init.space);
  const program = collection.programs[init.program]!;
  stream = new PacketStream(collection, program, init.hook, engineByName(init.engine), { cpu: init.cpu });
  // The checks (verdict, JIT compilation) now, not at the first packet: a failure stops the run before any packet.
  stream.prepare();
  post({ type: 'ready' });
} catch (err) {
  report(err);
}

const keepActions = new Set(init.keepActions);
let out = new Uint8Array(1 << 18);

function run(s: PacketStream, batch: PacketBatchMessage): void {
  const view = new DataView(batch.buffer);
  const bytes = new Uint8Array(batch.buffer);
  const meta = new Int32Array(3 * batch.count);
  const extras: ResultBatchMessage['extras'] = [];
  let at = 0;
  let used = 0;
  for (let k = 0; k < batch.count; k++) {
    const index = view.getUint32(at, true);
    const ifindex = view.getUint32(at + 4, true);
    const len = view.getUint32(at + 8, true);
    const frame = bytes.subarray(at + 12, at + 12 + len);
    at += 12 + ((len + 3) & ~3);
    const o = s.step(frame, index, ifindex);
    let flags = 0;
    // what the caller writes: the packets that pass (-w) and those of the actions it names
    const keep = o.refused === undefined && passes(init.hook, o.retval) ? init.keepPassing : keepActions.has(o.action);
    if (keep) {
      flags |= ResultFlag.data;
      if (used + o.data.length > out.length) {
        const bigger = new Uint8Array(Math.max(out.length * 2, used + o.data.length));
        bigger.set(out.subarray(0, used));
        out = bigger;
      }
      out.set(o.data, used);
      used += o.data.length;
    }
    if (o.refused !== undefined || o.redirect !== undefined) {
      flags |= o.refused !== undefined ? ResultFlag.refused : ResultFlag.redirect;
      extras.push({ ...(o.refused !== undefined ? { refused: o.refused } : {}), ...(o.redirect !== undefined ? { redirect: o.redirect } : {}) });
    }
    meta[3 * k] = o.retval | 0;
    meta[3 * k + 1] = flags;
    meta[3 * k + 2] = keep ? o.data.length : 0;
  }
  const data = out.slice(0, used);
  post({ type: 'results', meta, data, extras, batch: batch.buffer }, [meta.buffer, data.buffer, batch.buffer]);
}

port.on('message', (msg: PacketBatchMessage | EndMessage) => {
  if (msg.type === 'end') {
    port.close();
    return;
  }
  if (stream === undefined) return;
  try {
    run(stream, msg);
  } catch (err) {
    report(err);
    stream = undefined;
  }
});
