/**
 * A packet program over a stream of packets: each packet is one
 * `BPF_PROG_TEST_RUN`-style run (the contexts of docs/hooks.md), in order,
 * with the maps kept from one packet to the next, as when the program is
 * attached to an interface. The result of each packet is its action (XDP
 * verdict, tc action, or what a socket filter keeps) and the packet after
 * the program; a summary counts packets and bytes per action.
 *
 * The CLI (`tsbpf xdp|tc|socket`) is a shell over this; a library user
 * feeds packets from any source.
 */
import { PacketRefusedError, TsbpfError } from '../errors.js';
import type { Engine } from '../vm/engine.js';
import type { TestRunInput, TestRunResult } from '../hooks/test-run.js';
import { ProgType, PROG_TYPE_NAMES, TcAction, XdpAction } from '../isa/uapi.js';
import type { Collection, LoadedProgram } from './collection.js';

/** The hooks a packet stream runs at. */
export type PacketHook = 'xdp' | 'tc' | 'socket';

/** Program types each hook runs. */
const HOOK_TYPES: Record<PacketHook, readonly number[]> = {
  xdp: [ProgType.XDP],
  tc: [ProgType.SCHED_CLS, ProgType.SCHED_ACT],
  socket: [ProgType.SOCKET_FILTER],
};

/** Verdict names by value, from uapi's tables: `XDP_PASS`, `TC_ACT_SHOT`. */
const XDP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(XdpAction).map(([n, v]) => [v, `XDP_${n}`]));
const TC_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TcAction).map(([n, v]) => [v, `TC_ACT_${n}`]));

/**
 * The name of a program's verdict: `XDP_PASS`, `TC_ACT_SHOT`; socket
 * filters `KEEP` (a non-zero number of bytes kept) or `DROP`. A value
 * outside the hook's enum is named by its number (`XDP_ACTION_7`), which
 * the kernel treats as an invalid action.
 */
export function actionName(hook: PacketHook, retval: number): string {
  switch (hook) {
    case 'xdp': return XDP_NAMES[retval] ?? `XDP_ACTION_${retval >>> 0}`;
    case 'tc': return TC_NAMES[retval | 0] ?? `TC_ACT_${retval | 0}`;
    case 'socket': return retval === 0 ? 'DROP' : 'KEEP';
  }
}

/** The actions after which a packet goes on up the stack (the ones written with `-w`). */
export function passes(hook: PacketHook, retval: number): boolean {
  switch (hook) {
    case 'xdp': return retval === XdpAction.PASS;
    case 'tc': return retval === TcAction.OK || (retval | 0) === TcAction.UNSPEC || retval === TcAction.PIPE;
    case 'socket': return retval !== 0;
  }
}

/** What one packet became. */
export interface PacketOutcome {
  /**
   * Why the packet was not run: a packet the kernel's test run refuses
   * (EINVAL: shorter than its headers, larger than the buffer). Its action
   * is `REFUSED` and its retval 0.
   */
  refused?: string;
  /** The program's return value (32 bits, as the kernel reports it). */
  retval: number;
  /** {@link actionName} of it. */
  action: string;
  /** The packet after the program: the frame with its edits; a socket filter's frame cut to the bytes it keeps. */
  data: Uint8Array;
}

/** Packets and bytes per action, and the time spent in the program. */
export interface StreamSummary {
  packets: number;
  bytes: number;
  actions: Record<string, { packets: number; bytes: number }>;
  /** Time spent running packets (milliseconds, wall clock). */
  elapsedMs: number;
}

/** Runs one packet program of a collection over packets, in order. */
export class PacketStream {
  readonly summary: StreamSummary = { packets: 0, bytes: 0, actions: {}, elapsedMs: 0 };
  /** The program's checks, made at the first packet (Collection.runnerFor): only the program runs between packets. */
  private runOne: ((input: TestRunInput) => TestRunResult) | undefined;

  /**
   * `program` must be of a type `hook` runs (XDP for `xdp`, sched_cls or
   * sched_act for `tc`, socket_filter for `socket`).
   */
  constructor(readonly collection: Collection, readonly program: LoadedProgram, readonly hook: PacketHook, readonly engine: Engine) {
    if (!HOOK_TYPES[hook].includes(program.typeId)) {
      throw new TsbpfError(`program '${program.spec.name}' is ${PROG_TYPE_NAMES[program.typeId] ?? `type ${program.typeId}`}, not a ${HOOK_TYPES[hook].map((t) => PROG_TYPE_NAMES[t]).join(' or ')} program`,
        { section: program.spec.section });
    }
  }

  /** Runs the program on one Ethernet frame; `index` names the packet in errors. */
  run(frame: Uint8Array, index = this.summary.packets): PacketOutcome {
    const started = performance.now();
    let retval = 0;
    let out = frame;
    let refused: string | undefined;
    try {
      this.runOne ??= this.collection.runnerFor(this.program, {}, this.engine);
      const r = this.runOne({ dataIn: frame });
      retval = r.retval;
      out = this.hook === 'tc' || this.hook === 'xdp' ? r.dataOut : frame.subarray(0, Math.min(frame.length, r.retval >>> 0));
    } catch (err) {
      if (err instanceof PacketRefusedError) refused = err.reason;
      else if (err instanceof TsbpfError) throw new TsbpfError(`packet ${index}: ${err.reason}`, err.location);
      else throw err;
    } finally {
      this.summary.elapsedMs += performance.now() - started;
    }
    const action = refused !== undefined ? 'REFUSED' : actionName(this.hook, retval);
    const s = this.summary;
    s.packets++;
    s.bytes += frame.length;
    const a = (s.actions[action] ??= { packets: 0, bytes: 0 });
    a.packets++;
    a.bytes += frame.length;
    return { retval, action, data: out, ...(refused !== undefined ? { refused } : {}) };
  }
}

/** Which hook runs programs of type `typeId`, or undefined. */
export function hookOfType(typeId: number): PacketHook | undefined {
  return (Object.keys(HOOK_TYPES) as PacketHook[]).find((h) => HOOK_TYPES[h].includes(typeId));
}
