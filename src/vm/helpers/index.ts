/**
 * Every helper the vm layer provides, as one table. Hooks add the packet
 * helpers of their program types on top.
 */
import { HelperTable } from '../helper-call.js';
import type { Helper } from '../helper-call.js';
import { monotonicClock, standardHelpers } from './basic.js';
import type { StandardHelperOptions } from './basic.js';
import { csumHelpers } from './csum.js';
import { dynptrHelpers } from './dynptr.js';
import { kfuncHelpers } from './kfuncs.js';
import { kptrHelpers } from './alloc.js';
import { loopHelpers } from './loop.js';
import { mapHelpers } from './map-helpers.js';
import { printkHelpers, TracePipe } from './printk.js';
import { probeHelpers } from './probe-read.js';
import { stackHelpers } from './stack.js';
import { stringHelpers } from './strings.js';
import { timerHelpers } from './timer.js';

export { TracePipe, formatTraceLine } from './printk.js';
export type { TraceLine } from './printk.js';
export { DEFAULT_HOST, monotonicClock, standardHelpers } from './basic.js';
export type { Clock, HostInfo, StandardHelperOptions } from './basic.js';

/** Options of {@link vmHelpers}. */
export interface VmHelperOptions extends StandardHelperOptions {
  /** Where `bpf_trace_printk` output goes (default: a new pipe). */
  tracePipe?: TracePipe;
}

/** The helpers that need no hook: maps, time, identity, printk, strings, probe reads, bpf_loop, csum_diff, timers, spin locks, stacks, dynptrs, and the kfuncs user space runs. */
export function vmHelpers(options: VmHelperOptions = {}): Helper[] {
  const clock = options.clock ?? monotonicClock;
  const pipe = options.tracePipe ?? new TracePipe();
  return [
    ...standardHelpers(options),
    ...mapHelpers(),
    ...printkHelpers({ pipe, clock }),
    ...stringHelpers(),
    ...probeHelpers(),
    ...loopHelpers(),
    ...csumHelpers(),
    ...timerHelpers(),
    ...stackHelpers(),
    ...kfuncHelpers(),
    ...kptrHelpers(),
    ...dynptrHelpers(),
  ];
}

/** A helper table with {@link vmHelpers} plus `extra`. */
export function helperTable(options: VmHelperOptions = {}, extra: Helper[] = []): HelperTable {
  return new HelperTable([...vmHelpers(options), ...extra]);
}
