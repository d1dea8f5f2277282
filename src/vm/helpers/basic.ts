/**
 * Helpers that need no maps or program context: time, randomness, the CPU
 * number and the identity of the "current task", with Linux's ids
 * (include/uapi/linux/bpf.h).
 */
import { helperIdentity } from '../helper-call.js';
import type { Helper } from '../helper-call.js';

/** A monotonic clock in nanoseconds. */
export type Clock = () => bigint;

/** Nanoseconds from `performance.now()` (available in browsers and Node). */
export const monotonicClock: Clock = () => BigInt(Math.round(performance.now() * 1e6));

/** The "current task" that `bpf_get_current_*` report; the Node adapter fills it from the host process. */
export interface HostInfo {
  pid: number;
  tgid: number;
  uid: number;
  gid: number;
  /** Task name; Linux keeps at most 15 bytes plus NUL. */
  comm: string;
}

/** The task reported when no host information is given. */
export const DEFAULT_HOST: HostInfo = { pid: 1, tgid: 1, uid: 0, gid: 0, comm: 'tsbpf' };

/** Options of {@link standardHelpers}. */
export interface StandardHelperOptions {
  clock?: Clock;
  host?: HostInfo;
  /** Seed of `bpf_get_prandom_u32` (default: random). */
  seed?: number;
}

/** A xorshift128+ generator for `bpf_get_prandom_u32`. */
function prandom(seed?: number): () => number {
  let s0 = seed !== undefined ? (seed | 0) || 1 : (Math.random() * 0x100000000) | 0 || 1;
  let s1 = seed !== undefined ? Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) || 2 : (Math.random() * 0x100000000) | 0 || 2;
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

const JIFFY_NS = 4_000_000n; // CONFIG_HZ=250

/** The context-free helpers. */
export function standardHelpers(options: StandardHelperOptions = {}): Helper[] {
  const clock = options.clock ?? monotonicClock;
  const host = options.host ?? DEFAULT_HOST;
  const random = prandom(options.seed);
  return [
    { ...helperIdentity('bpf_ktime_get_ns'), fn: (c) => c.ret(clock()) },
    { ...helperIdentity('bpf_get_prandom_u32'), fn: (c) => c.ret(random()) },
    { ...helperIdentity('bpf_get_smp_processor_id'), fn: (c) => c.ret(c.cpu) },
    { ...helperIdentity('bpf_get_current_pid_tgid'), fn: (c) => c.ret((BigInt(host.tgid) << 32n) | BigInt(host.pid >>> 0)) },
    { ...helperIdentity('bpf_get_current_uid_gid'), fn: (c) => c.ret((BigInt(host.gid >>> 0) << 32n) | BigInt(host.uid >>> 0)) },
    {
      ...helperIdentity('bpf_get_current_comm'), fn: (c) => {
        const size = c.u32(2);
        if (size === 0) return c.ret(-22);
        const addr = c.ptr(1, size, true);
        const name = new TextEncoder().encode(host.comm).subarray(0, Math.min(15, size - 1));
        const bytes = c.space.bytes;
        bytes.fill(0, addr, addr + size);
        bytes.set(name, addr);
        c.ret(0);
      },
    },
    { ...helperIdentity('bpf_get_numa_node_id'), fn: (c) => c.ret(0) },
    { ...helperIdentity('bpf_jiffies64'), fn: (c) => c.ret(clock() / JIFFY_NS) },
    { ...helperIdentity('bpf_ktime_get_boot_ns'), fn: (c) => c.ret(clock()) },
    { ...helperIdentity('bpf_ktime_get_coarse_ns'), fn: (c) => c.ret((clock() / JIFFY_NS) * JIFFY_NS) },
    { ...helperIdentity('bpf_ktime_get_tai_ns'), fn: (c) => c.ret(clock()) },
  ];
}
