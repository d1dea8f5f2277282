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
import type { PacketRunner } from '../hooks/test-run.js';
import type { RedirectTarget } from '../hooks/redirect.js';
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
  /** XDP_REDIRECT and TC_ACT_REDIRECT: where the packet went (null: no valid target, the kernel drops it). */
  redirect?: RedirectTarget | null;
}

/** Packets and bytes per action, and the time spent in the program. */
export interface StreamSummary {
  packets: number;
  bytes: number;
  actions: Record<string, { packets: number; bytes: number }>;
  /** Time spent in {@link PacketStream.runBatch} and {@link PacketStream.run} (milliseconds, wall clock). */
  elapsedMs: number;
}

/** One packet into a stream: the frame and the interface it arrived on. */
export interface PacketIn {
  /** An Ethernet frame. */
  data: Uint8Array;
  /** The interface it arrived on, as `ingress_ifindex`/`ifindex` (default 1, the test run's `lo`). */
  ifindex?: number;
}

/** Runs one packet program of a collection over packets, in order. */
export class PacketStream {
  readonly summary: StreamSummary = { packets: 0, bytes: 0, actions: {}, elapsedMs: 0 };
  /** The program's checks, made at the first packet (Collection.packetRunnerFor): only the program runs between packets. */
  private runner: PacketRunner | undefined;
  /** The outcome {@link step} hands out, reused from packet to packet. */
  private readonly current: PacketOutcome = { retval: 0, action: '', data: new Uint8Array(0) };
  /** Action names by return value, so naming and counting a verdict costs no string building. */
  private readonly names = new Map<number, string>();
  private readonly redirectAction: number;

  /**
   * `program` must be of a type `hook` runs (XDP for `xdp`, sched_cls or
   * sched_act for `tc`, socket_filter for `socket`); `options.cpu` is the
   * CPU it runs on (default 0), below the collection's possible CPUs.
   */
  /** The CPU the program runs on (`bpf_get_smp_processor_id`, the per-CPU slot): a worker thread's index. */
  readonly cpu: number;

  constructor(readonly collection: Collection, readonly program: LoadedProgram, readonly hook: PacketHook, readonly engine: Engine, options: { cpu?: number } = {}) {
    this.cpu = options.cpu ?? 0;
    if (!HOOK_TYPES[hook].includes(program.typeId)) {
      throw new TsbpfError(`program '${program.spec.name}' is ${PROG_TYPE_NAMES[program.typeId] ?? `type ${program.typeId}`}, not a ${HOOK_TYPES[hook].map((t) => PROG_TYPE_NAMES[t]).join(' or ')} program`,
        { section: program.spec.section });
    }
    this.redirectAction = hook === 'xdp' ? XdpAction.REDIRECT : hook === 'tc' ? TcAction.REDIRECT : -1;
  }

  /**
   * Makes the checks of the first packet now (the verdict, the engine's
   * compilation): their errors are thrown here rather than at the first
   * packet.
   */
  prepare(): void {
    this.runner ??= this.collection.packetRunnerFor(this.program, this.engine, this.cpu);
  }

  /** Runs the program on one Ethernet frame; `index` names the packet in errors. The outcome's data is the stream's own copy. */
  run(frame: Uint8Array, index = this.summary.packets, ifindex = 1): PacketOutcome {
    const started = performance.now();
    try {
      const o = this.step(frame, index, ifindex);
      const out: PacketOutcome = { retval: o.retval, action: o.action, data: o.data.slice() };
      if (o.refused !== undefined) out.refused = o.refused;
      if (o.redirect !== undefined) out.redirect = o.redirect;
      return out;
    } finally {
      this.summary.elapsedMs += performance.now() - started;
    }
  }

  /**
   * Runs the program on each packet in order; `each` hears every outcome
   * (its `data` a view valid only during the call: copy it to keep it).
   * `firstIndex` is the index of the first packet, for errors.
   */
  runBatch(packets: readonly PacketIn[], each?: (outcome: PacketOutcome, index: number) => void, firstIndex = this.summary.packets): void {
    const started = performance.now();
    try {
      for (let i = 0; i < packets.length; i++) {
        const p = packets[i]!;
        const o = this.step(p.data, firstIndex + i, p.ifindex ?? 1);
        each?.(o, firstIndex + i);
      }
    } finally {
      this.summary.elapsedMs += performance.now() - started;
    }
  }

  /**
   * One packet, at the least cost: the returned outcome is reused by the
   * next call and its `data` is a view of the machine's memory, valid until
   * then. The building block of {@link run} and {@link runBatch}.
   */
  step(frame: Uint8Array, index = this.summary.packets, ifindex = 1): PacketOutcome {
    const o = this.current;
    o.refused = undefined;
    o.redirect = undefined;
    let retval = 0;
    try {
      this.runner ??= this.collection.packetRunnerFor(this.program, this.engine, this.cpu);
      retval = this.runner.run(frame, ifindex);
      o.data = this.hook === 'socket' ? frame.subarray(0, Math.min(frame.length, retval >>> 0)) : this.runner.packet();
      if (retval === this.redirectAction) o.redirect = this.runner.redirect();
    } catch (err) {
      if (err instanceof PacketRefusedError) {
        o.refused = err.reason;
        o.data = frame;
      } else if (err instanceof TsbpfError) {
        throw new TsbpfError(`packet ${index}: ${err.reason}`, err.location);
      } else {
        throw err;
      }
    }
    o.retval = o.refused === undefined ? retval : 0;
    o.action = o.refused !== undefined ? 'REFUSED' : this.nameOf(retval);
    this.tally(o.action, frame.length);
    return o;
  }

  /**
   * Counts into {@link summary} a packet of `length` bytes that a batch
   * (`XdpBatchRunner`) ran with verdict `retval`; returns the action's name.
   */
  count(retval: number, length: number): string {
    const action = this.nameOf(retval);
    this.tally(action, length);
    return action;
  }

  /** Counts a packet of `length` bytes the test run refused (`REFUSED`). */
  countRefused(length: number): void {
    this.tally('REFUSED', length);
  }

  /**
   * {@link count} (or, with `retval` null, {@link countRefused}) of
   * `packets` packets of `bytes` bytes in all: a batch's tally, in the
   * order the batch first met each verdict.
   */
  countMany(retval: number | null, packets: number, bytes: number): void {
    this.tally(retval === null ? 'REFUSED' : this.nameOf(retval), bytes, packets);
  }

  private tally(action: string, length: number, packets = 1): void {
    const s = this.summary;
    s.packets += packets;
    s.bytes += length;
    const a = (s.actions[action] ??= { packets: 0, bytes: 0 });
    a.packets += packets;
    a.bytes += length;
  }

  private nameOf(retval: number): string {
    let name = this.names.get(retval);
    if (name === undefined) this.names.set(retval, (name = actionName(this.hook, retval)));
    return name;
  }
}

/**
 * The output ports a redirect sends a packet to, named for files and
 * summaries: `if3` (a device: bpf_redirect, devmap and devmap_hash entries,
 * one per device for a broadcast), `cpu2` (cpumap), `xsk0` (xskmap key).
 * No valid target (the kernel drops the packet): none.
 */
export function redirectPorts(t: RedirectTarget | null | undefined): string[] {
  if (!t) return [];
  if (t.broadcast) return t.broadcast.ifindexes.map((i) => `if${i}`);
  if (t.type === 'cpumap') return [`cpu${t.cpu ?? t.key ?? 0}`];
  if (t.type === 'xskmap') return [`xsk${t.key ?? 0}`];
  return t.ifindex !== undefined ? [`if${t.ifindex}`] : [];
}

/** Which hook runs programs of type `typeId`, or undefined. */
export function hookOfType(typeId: number): PacketHook | undefined {
  return (Object.keys(HOOK_TYPES) as PacketHook[]).find((h) => HOOK_TYPES[h].includes(typeId));
}
