/**
 * BPF_PROG_TEST_RUN in user space: builds each program type's input the way
 * the kernel's `net/bpf/test_run.c` does (docs/hooks.md), runs the
 * program `repeat` times on one engine and reports the return value, the
 * average duration and the packet and context afterwards.
 */
import { TsbpfError } from '../errors.js';
import type { Engine, LoadedRunner } from '../vm/engine.js';
import type { RunOptions, SafeAccesses } from '../vm/interpreter.js';
import type { Machine } from '../vm/machine.js';
import type { Region } from '../vm/memory.js';
import { MapTimers } from '../vm/maps/timers.js';
import { functionEntry } from '../vm/prepared-program.js';
import type { PreparedProgram } from '../vm/prepared-program.js';
import { HookContexts } from './contexts.js';
import { contextKind, emptyPacketFields, nulledPointerFields, progTypeName, rawContextSize, testRunRefusal } from './program-types.js';
import { SockOpsSocket } from './sock-helpers.js';
import { redirectTarget } from './redirect.js';
import type { ClonedPacket, RedirectTarget } from './redirect.js';
import { SkbContext } from './skb.js';
import type { SkbLoadOptions, TunnelInfo } from './skb.js';
import { XdpAction, XdpContext, XdpMd } from './xdp.js';
import { SLOT_FIELDS } from './xdp-capture-batch.js';
import { ProgType, TcAction } from '../isa/uapi.js';

/** Input of one test run. */
export interface TestRunInput {
  /** The packet (`data_in`), for packet program types. */
  dataIn?: Uint8Array;
  /** The context (`ctx_in`). */
  ctxIn?: Uint8Array;
  /** Number of runs (default 1); the duration is their average. */
  repeat?: number;
  /** CPU to run on (default 0). */
  cpu?: number;
  /**
   * The largest end of a context access the verifier found (its
   * `maxCtxOffset`): the context given to the program is at least this
   * large. A syscall program's `ctxIn` must cover it, as in the kernel.
   */
  minCtxSize?: number;
  /** Bounds-check every access (default true; false only for verified programs). */
  checked?: boolean;
  /** Unchecked runs: the accesses the verifier proved safe, per program (see `RunOptions.safeAccesses`). */
  safeAccesses?: SafeAccesses;
  /** Instruction budget per run. */
  budget?: number;
  /** Per-instruction trace callback. */
  trace?: RunOptions['trace'];
  /** `__sk_buff` programs: tunnel metadata the packet arrived with (what `bpf_skb_get_tunnel_key` reads). */
  tunnel?: TunnelInfo;
}

/** An XDP program ready for many packets per call ({@link TestRunner.xdpBatch}). */
export interface XdpBatchRunner {
  /** Packets per batch. */
  readonly capacity: number;
  /**
   * Stages the frame of `length` bytes at `from` in the address space as
   * packet `slot`, arrived on `ifindex`; a frame the kernel's test run
   * refuses throws a PacketRefusedError (stage another in that slot).
   */
  load(slot: number, from: number, length: number, ifindex: number): void;
  /** Runs the program on slots 0 to n-1, in order; returns their retvals (a view valid until the next call). */
  run(n: number): Uint32Array;
  /** Where the packet of `slot` starts after its run (`data_meta`): `data_out` is [start, end). */
  start(slot: number): number;
  /** Where it ends (`data_end`). */
  end(slot: number): number;
  /**
   * Address of the slots' table for a capture driver in WebAssembly
   * (hooks/xdp-capture-batch.ts): per slot its context, packet buffer and
   * dirty cell (`XdpContext.dirtyCell`), u32 each, 16 bytes a slot.
   */
  readonly slotTable: number;
  /** Whether runs are checked against the regions only (then a run may write anywhere in its packet buffer). */
  readonly checked: boolean;
}

/** A packet program ready for packet after packet ({@link TestRunner.packetRunner}). */
export interface PacketRunner {
  /**
   * Runs the program on one Ethernet frame that arrived on interface
   * `ifindex` (default 1, the test run's `lo`) and returns its return value
   * (32 bits, as the kernel reports `retval`). A frame the kernel's test run
   * refuses (shorter than its headers, larger than the buffer) throws a
   * PacketRefusedError, and the program does not run.
   */
  run(frame: Uint8Array, ifindex?: number): number;
  /**
   * The packet after the last run, as `data_out` (XDP: from `data_meta`;
   * `__sk_buff`: from `data`): a view of the machine's memory, valid until
   * the next run. Copy it (`slice()`) to keep it.
   */
  packet(): Uint8Array;
  /** Where the last run redirected the packet (see {@link TestRunResult.redirect}); null when it did not ask for a valid target. */
  redirect(): RedirectTarget | null;
}

/** What a test run reports, as BPF_PROG_TEST_RUN does. */
export interface TestRunResult {
  /** r0 truncated to 32 bits, as the kernel reports `retval`. */
  retval: number;
  /** The full 64-bit r0. */
  r0: bigint;
  /** Average wall time per run in nanoseconds. */
  durationNs: number;
  /** The packet after the last run (empty for context-only types). */
  dataOut: Uint8Array;
  /** The context after the last run. */
  ctxOut: Uint8Array;
  /** Instructions executed by the last run. */
  insns: number;
  /**
   * Where the packet goes when the program returned the redirect action
   * (`XDP_REDIRECT`; `TC_ACT_REDIRECT` for tc and lwt_xmit): the target the
   * redirect helpers recorded, or null when there is none (the kernel drops
   * the packet). Absent for any other return value.
   */
  redirect?: RedirectTarget | null;
  /** The copies `bpf_clone_redirect` sent (every repetition's). */
  clones: ClonedPacket[];
  /** `__sk_buff` programs: the packet's tunnel metadata after the run (set by `bpf_skb_set_tunnel_key`), or null. */
  tunnel?: TunnelInfo | null;
  /** sock_ops programs: the socket options the program set (`level:optname` → value; `bpf_setsockopt`). */
  socketOptions?: Record<string, number | string>;
}

/** Program types whose `TC_ACT_REDIRECT` / `BPF_REDIRECT` (7) return value carries out a redirect. */
const SKB_REDIRECT_TYPES = new Set(['sched_cls', 'sched_act', 'lwt_xmit']);

/** Largest `repeat` (the kernel's is a u32). */
export const MAX_REPEAT = 0xffff_ffff;
/** A budget no run exhausts: given to unchecked first runs so the JIT counts instructions as the interpreter does. */
const COUNTING_BUDGET = Number.MAX_SAFE_INTEGER;

/** Runs per engine batch call when repeating. */
const REPEAT_BATCH = 1 << 16;

/** The kernel's rule for `repeat`: a u32, where 0 means 1. */
export function checkRepeat(repeat: number): number {
  if (!Number.isInteger(repeat) || repeat < 0 || repeat > MAX_REPEAT) {
    throw new TsbpfError(`repeat must be an integer from 0 to ${MAX_REPEAT} (0 runs once, as in the kernel), not ${repeat}`);
  }
  return repeat === 0 ? 1 : repeat;
}

/** Runs programs of every type on one machine, reusing each context kind's buffers. */
export class TestRunner {
  readonly contexts: HookContexts;
  private xdp: XdpContext | null = null;
  private skbL2: SkbContext | null = null;
  private skbL3: SkbContext | null = null;
  private raw: Region | null = null;
  private emptyPacket: Region | null = null;
  /** Loaded runners by engine, so repeated runs of a program compile it once. */
  private readonly runners = new Map<Engine, Map<PreparedProgram, LoadedRunner>>();

  constructor(readonly machine: Machine, contexts?: HookContexts) {
    this.contexts = contexts ?? new HookContexts();
    // Maps that hold devices (devmaps) check them against the network runs see.
    machine.netDevice = (ifindex) => this.contexts.net.device(ifindex) !== undefined;
  }

  /** The XDP context of this machine (created on first use). */
  xdpContext(): XdpContext {
    this.xdp ??= this.contexts.addXdp(new XdpContext(this.machine));
    return this.xdp;
  }

  /** The socket-buffer context of this machine for L2 (tc) or L3 programs. */
  skbContext(l2: boolean): SkbContext {
    if (l2) return (this.skbL2 ??= this.contexts.addSkb(new SkbContext(this.machine, true, 'skb')));
    return (this.skbL3 ??= this.contexts.addSkb(new SkbContext(this.machine, false, 'skb.l3')));
  }

  private timerKeys: Region | null = null;

  /**
   * Moves the timers' virtual clock forward by `ns` nanoseconds and runs
   * the callback of every timer that expires by then, in expiry order, on
   * `engine` in checked mode (docs/helpers.md, "Timers"). Returns how many
   * callbacks ran.
   */
  advanceTimers(ns: bigint, engine: Engine): number {
    return MapTimers.of(this.machine.space).advance(ns, (prog, slot, mapAddr, key, valueAddr) => {
      if (key.length > TIMER_KEY_SLOT) throw new TsbpfError(`a timer callback's key of ${key.length} bytes is larger than ${TIMER_KEY_SLOT}`);
      this.timerKeys ??= this.machine.space.allocate('timer.key', 'scratch', TIMER_KEY_SLOT, { readable: true, writable: false });
      this.machine.space.write(this.timerKeys.start, key);
      const entry = functionEntry(prog, slot);
      let byProgram = this.runners.get(engine);
      if (!byProgram) this.runners.set(engine, (byProgram = new Map()));
      let runner = byProgram.get(entry);
      if (!runner) byProgram.set(entry, (runner = engine.load(this.machine, entry)));
      runner.run({ args: [mapAddr, this.timerKeys.start, valueAddr], cpu: 0 });
    });
  }

  /** The runner of `program` on `engine`, loaded (compiled) once. */
  private loaded(engine: Engine, program: PreparedProgram): LoadedRunner {
    let byProgram = this.runners.get(engine);
    if (!byProgram) this.runners.set(engine, (byProgram = new Map()));
    let runner = byProgram.get(program);
    if (!runner) byProgram.set(program, (runner = engine.load(this.machine, program)));
    return runner;
  }

  /** The packet context of a context kind, if it has one and it exists. */
  private packetContext(kind: ReturnType<typeof contextKind>): XdpContext | SkbContext | null {
    return kind === 'xdp' ? this.xdp : kind === 'skb-l2' ? this.skbL2 : kind === 'skb-l3' ? this.skbL3 : null;
  }

  /**
   * An XDP `program` made ready to run on `capacity` packets per call into
   * the engine: each packet gets its own XDP context (a test run's, as
   * {@link packetRunner} gives), staged from bytes already in the address
   * space, and a JIT runs the whole batch in one call into WebAssembly.
   * Only for programs that record nothing per run in the hook contexts
   * (no redirect or clone helper: their targets would be overwritten by
   * the next packet of the batch); packets run in slot order, maps kept.
   */
  xdpBatch(program: PreparedProgram, engine: Engine, capacity: number, fixed: Pick<TestRunInput, 'checked' | 'safeAccesses' | 'budget' | 'cpu'> = {}): XdpBatchRunner {
    const runner = this.loaded(engine, program);
    const checked = fixed.checked ?? true;
    const cpu = fixed.cpu ?? 0;
    this.xdpSlots ??= [];
    const have = this.xdpSlots.length;
    if (have < capacity) {
      // one region for the new slots' dirty cells, not one each
      const cells = this.machine.space.allocate(`xdp.batch${have}.dirty`, 'internal', 8 * (capacity - have), { readable: false, writable: false }).start;
      for (let i = have; i < capacity; i++) this.xdpSlots.push(this.contexts.addXdp(new XdpContext(this.machine, `xdp.batch${i}`, cells + 8 * (i - have))));
    }
    const slots = this.xdpSlots.slice(0, capacity);
    const addrs = Uint32Array.from(slots, (x) => x.ctx.start);
    const table = this.machine.space.allocate('xdp.batch.slots', 'internal', 4 * SLOT_FIELDS * capacity, { readable: false, writable: false });
    const words = new DataView(this.machine.space.memory.buffer);
    slots.forEach((x, i) => {
      words.setUint32(table.start + 16 * i, x.ctx.start, true);
      words.setUint32(table.start + 16 * i + 4, x.buffer.start, true);
      words.setUint32(table.start + 16 * i + 8, x.dirtyCell, true);
    });
    const batchOptions = {
      checked, cpu, view: true,
      ...(fixed.safeAccesses !== undefined ? { safeAccesses: fixed.safeAccesses } : {}),
      ...(fixed.budget !== undefined ? { budget: fixed.budget } : {}),
    };
    const contexts = this.contexts;
    const retvals = new Uint32Array(capacity);
    const batched = 'runBatch' in runner && typeof runner.runBatch === 'function'
      ? (runner.runBatch as (ctxAddrs: Uint32Array, options: typeof batchOptions) => BigUint64Array).bind(runner) : undefined;
    return {
      capacity,
      checked,
      slotTable: table.start,
      load(slot: number, from: number, length: number, ifindex: number): void {
        slots[slot]!.loadFrom(from, length, ifindex);
      },
      run(n: number): Uint32Array {
        contexts.beginRun();
        if (batched) {
          const r0 = batched(addrs.subarray(0, n), batchOptions);
          // the low words of the little-endian r0s, read without a BigInt per packet
          const words = new Uint32Array(r0.buffer, r0.byteOffset, 2 * n);
          for (let i = 0; i < n; i++) retvals[i] = words[2 * i]!;
        } else {
          for (let i = 0; i < n; i++) retvals[i] = Number(runner.run({ ...batchOptions, args: [addrs[i]!] }).r0 & 0xffffffffn);
        }
        if (checked) for (let i = 0; i < n; i++) slots[i]!.assumeWritten();
        return retvals;
      },
      start(slot: number): number {
        return slots[slot]!.outRange(false);
      },
      end(slot: number): number {
        return slots[slot]!.outRange(true);
      },
    };
  }

  private xdpSlots: XdpContext[] | undefined;

  /**
   * `program` (an XDP or `__sk_buff` program of type `typeId`) made ready to
   * run on packet after packet: each packet gets the context a test run of
   * it would (see {@link run}), but the context, the engine's runner and the
   * run options are set up once, and the packet after the run is a view, not
   * a copy. For streams of packets (a capture), where per-run overhead is
   * what counts.
   */
  packetRunner(program: PreparedProgram, typeId: number, engine: Engine, fixed: Pick<TestRunInput, 'checked' | 'safeAccesses' | 'budget' | 'cpu'> = {}): PacketRunner {
    const kind = contextKind(typeId);
    if (kind !== 'xdp' && kind !== 'skb-l2' && kind !== 'skb-l3') {
      throw new TsbpfError(`a ${progTypeName(typeId)} program does not run on packets (XDP, tc, socket filter and other __sk_buff programs do)`);
    }
    const cpu = this.checkCpu(fixed.cpu ?? 0);
    const runner = this.loaded(engine, program);
    const checked = fixed.checked ?? true;
    const packet = kind === 'xdp' ? this.xdpContext() : this.skbContext(kind === 'skb-l2');
    const options: RunOptions = {
      args: [packet.ctx.start],
      cpu,
      checked,
      ...(fixed.safeAccesses !== undefined ? { safeAccesses: fixed.safeAccesses } : {}),
      ...(fixed.budget !== undefined ? { budget: fixed.budget } : {}),
    };
    const contexts = this.contexts;
    const redirects = kind === 'xdp' || SKB_REDIRECT_TYPES.has(progTypeName(typeId));
    let ingress = 1;
    const skbOptions: SkbLoadOptions = {};
    return {
      run(frame: Uint8Array, ifindex = 1): number {
        contexts.beginRun();
        ingress = ifindex;
        if (packet instanceof XdpContext) {
          packet.load(frame, ifindex);
        } else {
          skbOptions.ifindex = ifindex;
          packet.load(frame, skbOptions);
        }
        const r0 = runner.run(options).r0;
        if (checked) packet.assumeWritten();
        return Number(r0 & 0xffffffffn);
      },
      packet(): Uint8Array {
        return packet.packet();
      },
      redirect(): RedirectTarget | null {
        return redirects ? redirectTarget(contexts.redirect, contexts, kind === 'xdp' ? ingress : 0) ?? null : null;
      },
    };
  }

  /** `cpu` when it is one of the machine's possible CPUs. */
  private checkCpu(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.machine.possibleCpus) {
      // Per-CPU maps have a slot per possible CPU, and the verifier bounds bpf_get_smp_processor_id() by them.
      throw new TsbpfError(`CPU ${cpu} is not one of the ${this.machine.possibleCpus} possible CPU${this.machine.possibleCpus === 1 ? '' : 's'} of this collection (load it with more)`);
    }
    return cpu;
  }

  /** Runs `program` (of kernel program type `typeId`) with `input` on `engine`. */
  run(program: PreparedProgram, typeId: number, engine: Engine, input: TestRunInput = {}): TestRunResult {
    const repeat = checkRepeat(input.repeat ?? 1);
    const cpu = this.checkCpu(input.cpu ?? 0);
    const kind = contextKind(typeId);
    let ctxAddr: number;
    let dataOut: () => Uint8Array;
    let ctxOut: () => Uint8Array;
    let after: (retval: number) => Partial<TestRunResult> = () => ({});
    this.contexts.beginRun();
    if (kind === 'xdp') {
      if (!input.dataIn) throw new TsbpfError(`an ${progTypeName(typeId)} program needs a packet (--data-in)`);
      const x = this.xdpContext();
      x.load(input.dataIn);
      if (input.ctxIn) applyXdpCtxIn(x, input.ctxIn, input.dataIn.length);
      ctxAddr = x.ctx.start;
      dataOut = () => x.dataOut();
      ctxOut = () => this.machine.space.read(x.ctx.start, x.ctx.size);
      after = (retval) => (retval === XdpAction.REDIRECT
        ? { redirect: redirectTarget(this.contexts.redirect, this.contexts, this.machine.space.data.getUint32(x.ctx.start + XdpMd.ingress_ifindex, true)) ?? null }
        : {});
    } else if (kind === 'skb-l2' || kind === 'skb-l3') {
      if (!input.dataIn) throw new TsbpfError(`a ${progTypeName(typeId)} program needs a packet (--data-in)`);
      const s = this.skbContext(kind === 'skb-l2');
      s.load(input.dataIn, { ...(input.ctxIn ? { ctxIn: input.ctxIn } : {}), ...(input.tunnel ? { tunnel: { ...input.tunnel } } : {}) });
      ctxAddr = s.ctx.start;
      dataOut = () => s.dataOut();
      ctxOut = () => s.ctxOut();
      const redirects = SKB_REDIRECT_TYPES.has(progTypeName(typeId));
      after = (retval) => ({
        tunnel: s.tunnel,
        ...(redirects && retval === TcAction.REDIRECT ? { redirect: redirectTarget(this.contexts.redirect, this.contexts, 0) ?? null } : {}),
      });
    } else {
      const refusal = testRunRefusal(typeId);
      if (refusal) throw new TsbpfError(`a ${progTypeName(typeId)} program cannot be test-run: ${refusal}`);
      const minSize = input.minCtxSize ?? 0;
      if (typeId === ProgType.SYSCALL && (input.ctxIn?.length ?? 0) < minSize) {
        throw new TsbpfError(`the program reads or writes its context up to byte ${minSize}: ctx_in must be at least that long, not ${input.ctxIn?.length ?? 0} bytes (EINVAL, as in the kernel)`);
      }
      const size = Math.max(input.ctxIn?.length ?? 0, rawContextSize(typeId), minSize);
      if (this.raw === null || this.raw.size < size) {
        this.raw = this.machine.space.allocate(`ctx.${progTypeName(typeId)}`, 'ctx', Math.max(size, 256));
      }
      const region = this.raw;
      this.machine.space.bytes.fill(0, region.start, region.start + region.size);
      if (input.ctxIn) this.machine.space.write(region.start, input.ctxIn);
      for (const [off, len] of nulledPointerFields(typeId)) this.machine.space.bytes.fill(0, region.start + off, region.start + off + len);
      const packet = emptyPacketFields(typeId);
      if (packet) {
        this.emptyPacket ??= this.machine.space.allocate('ctx.empty_packet', 'packet', 64);
        for (const off of packet) this.machine.space.data.setBigUint64(region.start + off, BigInt(this.emptyPacket.start), true);
      }
      if (progTypeName(typeId) === 'sock_ops') {
        // A fresh socket per run, of the context's family; TCP fields exist only for a full socket (is_fullsock).
        const v = this.machine.space.data;
        const socket = new SockOpsSocket(v.getUint32(region.start + 20, true), v.getUint32(region.start + 72, true) !== 0);
        this.contexts.addSockOps(region.start, socket);
        after = () => ({ socketOptions: socket.snapshot() });
      }
      ctxAddr = region.start;
      dataOut = () => new Uint8Array(0);
      ctxOut = () => this.machine.space.read(region.start, input.ctxIn?.length ?? size);
    }
    const runner = this.loaded(engine, program);
    const options: RunOptions = {
      args: [ctxAddr],
      cpu,
      ...(input.checked !== undefined ? { checked: input.checked } : {}),
      ...(input.safeAccesses !== undefined ? { safeAccesses: input.safeAccesses } : {}),
      ...(input.budget !== undefined ? { budget: input.budget } : {}),
      ...(input.trace ? { trace: input.trace } : {}),
    };
    let start = performance.now();
    // The first run counts its instructions on every engine (an unchecked JIT run counts only under a budget,
    // so it gets one that never runs out); repetitions run as fast as the engine can.
    const counted = options.budget === undefined && !(options.checked ?? true) ? { ...options, budget: COUNTING_BUDGET } : options;
    let result = runner.run(counted);
    let elapsed = performance.now() - start;
    if (repeat > 1) {
      // Like the kernel's test-run loop, the repetitions run back to back inside the engine when it can batch
      // (the same context each time); the reported duration is their average.
      start = performance.now();
      if (runner.runBatch && !options.trace) {
        // In batches of a fixed size, so any repeat count runs in constant memory.
        const batch = new Uint32Array(Math.min(repeat - 1, REPEAT_BATCH)).fill(ctxAddr);
        let r0 = result.r0;
        for (let left = repeat - 1; left > 0; left -= batch.length) {
          const n = Math.min(left, batch.length);
          const out = runner.runBatch(n === batch.length ? batch : batch.subarray(0, n), options);
          r0 = out[n - 1]!;
        }
        result = { r0, insns: result.insns };
      } else {
        for (let i = 1; i < repeat; i++) result = runner.run(options);
      }
      elapsed = (performance.now() - start) / (repeat - 1);
    }
    if (options.checked ?? true) this.packetContext(kind)?.assumeWritten();
    const retval = Number(result.r0 & 0xffffffffn);
    return {
      retval,
      r0: result.r0,
      durationNs: Math.round(elapsed * 1e6),
      dataOut: dataOut(),
      ctxOut: ctxOut(),
      insns: result.insns,
      clones: this.contexts.clones,
      ...after(retval),
    };
  }
}

/** The key slot timer callbacks read their key from (`key_size` bytes, read-only for programs). */
const TIMER_KEY_SLOT = 512;

/**
 * Applies an `xdp_md` ctx_in as Linux does: `data` is the length of the
 * metadata at the front of `data_in`, `data_end` must be the input length,
 * `data_meta` and `egress_ifindex` must be 0.
 */
function applyXdpCtxIn(x: XdpContext, ctxIn: Uint8Array, inputLen: number): void {
  if (ctxIn.length > 24) throw new TsbpfError(`ctx_in of ${ctxIn.length} bytes is larger than struct xdp_md (24)`);
  const padded = new Uint8Array(24);
  padded.set(ctxIn);
  const v = new DataView(padded.buffer);
  const metalen = v.getUint32(0, true);
  const end = v.getUint32(4, true);
  const ingress = v.getUint32(12, true);
  const queue = v.getUint32(16, true);
  if (v.getUint32(8, true) !== 0 || end !== inputLen || metalen > end || metalen > 255 || (metalen & 3) !== 0 || v.getUint32(20, true) !== 0) {
    throw new TsbpfError('ctx_in: xdp_md.data must be the metadata length (0..252, a multiple of 4), data_end the input length, data_meta and egress_ifindex 0 (EINVAL)');
  }
  if ((ingress === 0 && queue !== 0) || (ingress !== 0 && ingress !== 1) || queue > 0) {
    throw new TsbpfError(`ctx_in: no receive queue ${queue} on interface ${ingress} (the test-run device is lo, ifindex 1, one queue) (EINVAL)`);
  }
  const p = x.pointers();
  x.setPointers({ meta: p.data, data: p.data + metalen, end: p.end });
  x.setIngress(ingress === 0 ? 1 : ingress, queue);
}
