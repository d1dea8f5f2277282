/**
 * BPF timers (`struct bpf_timer` in a map value; kernel/bpf/helpers.c) on a
 * virtual clock. `bpf_timer_init`, `_set_callback`, `_start` and `_cancel`
 * (src/vm/helpers/timer.ts) keep each timer's state here, keyed by the
 * address of its `bpf_timer` field; nothing runs by itself: the virtual
 * clock moves only when the user advances it ({@link MapTimers.advance},
 * `Collection.advanceTimers`, `tsbpf prog run --advance-timers`), and then
 * every callback whose expiry the clock passed runs, in expiry order.
 *
 * The clock starts at 0. `BPF_F_TIMER_ABS`
 * expiries are read on it too, so they are not comparable with
 * `bpf_ktime_get_ns`, which reads the host's clock (docs/helpers.md).
 */
import type { AddressSpace } from '../memory.js';
import type { PreparedProgram } from '../prepared-program.js';
import type { BpfMap } from './bpf-map.js';

/** One timer. */
export interface TimerState {
  /** The map holding the timer, and the value it is in. */
  readonly map: BpfMap;
  readonly valueAddr: number;
  /** `bpf_timer_init`'s clock id (CLOCK_MONOTONIC, CLOCK_REALTIME or CLOCK_BOOTTIME). */
  readonly clock: number;
  /** The callback: a function of `program` (its slot). */
  callback?: { program: PreparedProgram; slot: number };
  /** Virtual time (ns) it fires at, or null when not armed. */
  expires: bigint | null;
  /** Start order, to break ties between equal expiries. */
  seq: number;
}

/**
 * Runs a timer callback: the function at `slot` of `program` as
 * `fn(map, key, value)`; the runner puts `key` where the program can read
 * it and passes its address.
 */
export type TimerCallbackRunner = (program: PreparedProgram, slot: number, mapAddr: number, key: Uint8Array, valueAddr: number) => void;

/** At most this many callbacks per advance (a callback that re-arms itself at once would never let time move on). */
export const MAX_CALLBACKS_PER_ADVANCE = 1_000_000;

/** The timers of one address space (a collection's maps). */
export class MapTimers {
  private static readonly bySpace = new WeakMap<AddressSpace, MapTimers>();
  private readonly timers = new Map<number, TimerState>();
  private seq = 0;
  /** The virtual clock, in nanoseconds. */
  now = 0n;
  /** The timer whose callback is running (its own `bpf_timer_cancel` is -EDEADLK). */
  running: number | null = null;

  /** The timers of the address space `space` (created on first use). */
  static of(space: AddressSpace): MapTimers {
    let t = MapTimers.bySpace.get(space);
    if (!t) MapTimers.bySpace.set(space, (t = new MapTimers()));
    return t;
  }

  /** The timer whose `bpf_timer` field is at `addr`, if it was initialised. */
  get(addr: number): TimerState | undefined {
    return this.timers.get(addr);
  }

  /** `bpf_timer_init`: a new timer (the caller checked it does not exist). */
  init(addr: number, map: BpfMap, valueAddr: number, clock: number): TimerState {
    const t: TimerState = { map, valueAddr, clock, expires: null, seq: 0 };
    this.timers.set(addr, t);
    return t;
  }

  /** Arms `t` to fire at virtual time `at`. */
  arm(t: TimerState, at: bigint): void {
    t.expires = at;
    t.seq = ++this.seq;
  }

  /** `bpf_timer_cancel_and_free`: the value holding the timer is replaced or deleted. */
  free(addr: number): void {
    this.timers.delete(addr);
  }

  /** The armed timers, soonest first. */
  pending(): TimerState[] {
    return [...this.timers.values()].filter((t) => t.expires !== null)
      .sort((a, b) => (a.expires! < b.expires! ? -1 : a.expires! > b.expires! ? 1 : a.seq - b.seq));
  }

  /**
   * Moves the virtual clock forward by `ns` and runs, in expiry order, the
   * callback of every timer that expires by then (one a callback re-arms
   * runs again if it expires in time). Returns how many callbacks ran.
   */
  advance(ns: bigint, run: TimerCallbackRunner): number {
    if (ns < 0n) throw new RangeError('the virtual clock only moves forward');
    const until = this.now + ns;
    let fired = 0;
    for (;;) {
      const [next] = this.pending();
      if (!next || next.expires! > until) break;
      if (fired >= MAX_CALLBACKS_PER_ADVANCE) throw new RangeError(`more than ${MAX_CALLBACKS_PER_ADVANCE} timer callbacks in one advance: a callback re-arms its timer without letting time pass`);
      this.now = next.expires!;
      next.expires = null;
      const addr = [...this.timers.entries()].find(([, t]) => t === next)![0];
      const key = next.map.keyOfValue(next.valueAddr);
      fired++;
      if (!next.callback || !key) continue;
      this.running = addr;
      try {
        run(next.callback.program, next.callback.slot, next.map.address, key, next.valueAddr);
      } finally {
        this.running = null;
      }
    }
    this.now = until;
    return fired;
  }
}
