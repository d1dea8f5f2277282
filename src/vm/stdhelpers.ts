/**
 * Helpers that need no maps or program context: time, randomness and the
 * CPU number, with Linux's ids (include/uapi/linux/bpf.h).
 */
import type { Helper } from './helpers.js';

/** A monotonic clock in nanoseconds. */
export type Clock = () => bigint;

/** Nanoseconds from `performance.now()` (available in browsers and Node). */
export const monotonicClock: Clock = () => BigInt(Math.round(performance.now() * 1e6));

/** A xorshift128+ generator seeded from `Math.random`, for `bpf_get_prandom_u32`. */
function prandom(): () => number {
  let s0 = (Math.random() * 0x100000000) | 0 || 1;
  let s1 = (Math.random() * 0x100000000) | 0 || 2;
  return () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x;
    return (s0 + s1) >>> 0;
  };
}

/** The context-free helpers, with `clock` for the time ones. */
export function standardHelpers(clock: Clock = monotonicClock): Helper[] {
  const random = prandom();
  return [
    { id: 5, name: 'bpf_ktime_get_ns', fn: (c) => c.ret(clock()) },
    { id: 7, name: 'bpf_get_prandom_u32', fn: (c) => c.ret(random()) },
    { id: 8, name: 'bpf_get_smp_processor_id', fn: (c) => c.ret(c.cpu) },
    { id: 42, name: 'bpf_get_numa_node_id', fn: (c) => c.ret(0) },
    { id: 118, name: 'bpf_jiffies64', fn: (c) => c.ret(clock() / 4_000_000n) },
    { id: 125, name: 'bpf_ktime_get_boot_ns', fn: (c) => c.ret(clock()) },
    { id: 160, name: 'bpf_ktime_get_coarse_ns', fn: (c) => c.ret((clock() / 4_000_000n) * 4_000_000n) },
  ];
}
