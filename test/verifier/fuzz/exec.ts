/**
 * Runs a program tsbpf's verifier accepted in the interpreter's checked
 * mode, on several inputs (packets of several sizes, random context bytes,
 * map contents in place and changed between runs). A memory fault, an
 * exhausted instruction budget, an unknown helper or any other error is a
 * false accept: the verifier let through a program that misbehaves.
 */
import { HookContexts } from '../../../src/hooks/contexts.js';
import { helpersForType } from '../../../src/hooks/type-helpers.js';
import { progTypeId } from '../../../src/hooks/program-types.js';
import { TestRunner } from '../../../src/hooks/test-run.js';
import { interpreterEngine } from '../../../src/vm/engine.js';
import { Machine } from '../../../src/vm/machine.js';
import type { ArrayMap } from '../../../src/vm/maps/array.js';
import type { BpfMap } from '../../../src/vm/maps/bpf-map.js';
import { prepareProgram } from '../../../src/vm/prepared-program.js';
import { VmError } from '../../../src/errors.js';
import { verifierMap, type OracleMap } from '../corpus/common.js';
import { Rand } from './gen.js';

/** Instructions a run may execute (programs are small; loops are bounded). */
const BUDGET = 2_000_000;

const EDGE_BYTES = [0, 0, 0xff, 0xff, 0x80, 0x7f, 1, 0xfe, 0x81, 0x40];

function randomBytes(r: Rand, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const mode = r.int(0, 3);
  for (let i = 0; i < n; i++) {
    if (mode === 0) out[i] = 0;
    else if (mode === 1) out[i] = 0xff;
    else out[i] = r.chance(0.6) ? r.pick(EDGE_BYTES) : r.int(0, 255);
  }
  return out;
}

/** Replaces map references (`lddw` src 1: map, src 2: value) with addresses, as a loader does. */
function resolveMaps(bytes: Uint8Array, maps: readonly BpfMap[]): Uint8Array {
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let pc = 0; pc * 8 < out.length; pc++) {
    if (out[pc * 8] !== 0x18) continue;
    const src = out[pc * 8 + 1]! >> 4;
    const idx = view.getInt32(pc * 8 + 4, true);
    if (src === 1 || src === 2) {
      const map = maps[idx];
      if (!map) throw new Error(`lddw references map ${idx}, which does not exist`);
      let addr = map.address;
      if (src === 2) addr = (map as ArrayMap).valueAddress(0) + view.getInt32(pc * 8 + 12, true);
      out[pc * 8 + 1] = out[pc * 8 + 1]! & 0x0f;
      view.setInt32(pc * 8 + 4, addr | 0, true);
      view.setInt32(pc * 8 + 12, 0, true);
    }
    pc++;
  }
  return out;
}

/** Result of the checked runs of one program. */
export interface ExecResult {
  runs: number;
  /** The first fault, or null. */
  fault: string | null;
  /** The harness could not set the run up (not the program's fault). */
  harness?: string;
  /** The run stopped at something the VM does not model (a read of `struct bpf_map`). */
  unmodelled?: string;
}

/** Packet sizes the runs use (skb types need an Ethernet header). */
const SIZES = [14, 15, 20, 34, 42, 54, 60, 64, 100, 1500];

/**
 * Program types whose context a test run builds as the kernel would: packet
 * types get real packet pointers, the others here have no pointer fields.
 * Types with pointer fields in a raw context (flow_dissector's flow_keys,
 * sock_ops, sk_msg, sk_lookup and cgroup_sock_addr sockets, sk_skb) are not
 * run: their pointers would be whatever bytes the context holds.
 */
const RUNNABLE = new Set(['xdp', 'sched_cls', 'sched_act', 'socket_filter', 'cgroup_skb', 'lwt_in', 'lwt_out', 'lwt_xmit',
  'kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint', 'cgroup_device', 'cgroup_sock']);

/** Runs `bytes` (program type `progType`, maps `maps`) `inputs` times in checked mode. */
export function execChecked(bytes: Uint8Array, progType: string, maps: readonly OracleMap[], seed: number, inputs = 6): ExecResult {
  if (!RUNNABLE.has(progType)) return { runs: 0, fault: null };
  const r = new Rand(seed ^ 0x2545f491);
  const typeId = progTypeId(progType);
  const contexts = new HookContexts();
  const machine = new Machine({ helpers: helpersForType(typeId, contexts), possibleCpus: 2 });
  const runner = new TestRunner(machine, contexts);
  let runs = 0;
  try {
    const created = maps.map((m, i) => {
      const spec = verifierMap(m, maps);
      return machine.maps.create({ name: `m${i}`, type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags: spec.flags ?? 0 });
    });
    const fill = (): void => {
      created.forEach((map, i) => {
        const m = maps[i]!;
        if (m.type === 'ringbuf') return;
        const keys = m.type.includes('array') ? Math.min(m.max_entries, 4) : 3;
        for (let k = 0; k < keys; k++) {
          const key = new Uint8Array(m.key_size);
          if (k > 0) key[0] = k;
          if (m.type === 'hash' && r.chance(0.3)) {
            try { map.delete(key); } catch { /* absent */ }
            continue;
          }
          map.update(key, randomBytes(r, m.value_size), 0);
        }
      });
    };
    const prog = prepareProgram(resolveMaps(bytes, created), { helpers: machine.helpers });
    const raw = !['xdp', 'sched_cls', 'sched_act', 'socket_filter', 'cgroup_skb', 'lwt_in', 'lwt_out', 'lwt_xmit'].includes(progType);
    for (let i = 0; i < inputs; i++) {
      fill();
      runs++;
      if (raw) {
        const size = progType === 'tracepoint' ? 8192 : 256;
        runner.run(prog, typeId, interpreterEngine, { ctxIn: randomBytes(r, size), checked: true, budget: BUDGET });
      } else {
        const len = i < SIZES.length && i < 3 ? SIZES[i]! : r.pick(SIZES);
        const frame = randomBytes(r, len);
        // an IPv4/IPv6 ethertype needs the whole IP header in the frame (as in the kernel's test run)
        if (len < 54 && ((frame[12] === 0x08 && frame[13] === 0x00) || (frame[12] === 0x86 && frame[13] === 0xdd))) frame[13] = 0x01;
        runner.run(prog, typeId, interpreterEngine, { dataIn: frame, checked: true, budget: BUDGET });
      }
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (!(err instanceof VmError)) return { runs, fault: null, harness: msg };
    // A load through a map pointer reads `struct bpf_map` in the kernel (allowed to privileged
    // programs); tsbpf's maps have no such struct and the access stays checked (not proven by the
    // verifier, see docs/verifier.md "The contract with engines"): not a false accept.
    if (/\(map:[^)+]*(\+\d+)?\): map:\S+ is not readable/.test(msg)) return { runs, fault: null, unmodelled: msg };
    return { runs, fault: msg };
  }
  return { runs, fault: null };
}
