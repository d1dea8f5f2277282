/**
 * BPF timers and spin locks (kernel/bpf/helpers.c), with Linux's checks
 * and return values: `bpf_timer_init` (169), `bpf_timer_set_callback`
 * (170), `bpf_timer_start` (171), `bpf_timer_cancel` (172) on the virtual
 * clock of {@link MapTimers}, and `bpf_spin_lock` (93) / `bpf_spin_unlock`
 * (94) on the lock word inside a map value.
 */
import { VmError } from '../../errors.js';
import { helperIdentity } from '../helper-call.js';
import type { Helper, HelperCall } from '../helper-call.js';
import { MapDirectory } from '../maps/directory.js';
import { MapTimers } from '../maps/timers.js';
import { FUNC_POINTER_BASE } from '../prepared-program.js';

const EINVAL = -22;
const EBUSY = -16;
const EDEADLK = -35;
/** Clock ids a timer may use: CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME. */
const TIMER_CLOCKS = new Set([0, 1, 7]);
/** `bpf_timer_start` flags. */
const BPF_F_TIMER_ABS = 1n;
const BPF_F_TIMER_CPU_PIN = 2n;

/** The helpers of timers and spin locks. */
export function timerHelpers(): Helper[] {
  return [
    {
      ...helperIdentity('bpf_timer_init'), fn: (c) => {
        const addr = c.ptr(1, 16, true);
        const map = MapDirectory.of(c.space).byAddress(c.num(2));
        const off = map?.spec.fields?.timer;
        if (!map || off === undefined || !map.keyOfValue(addr - off)) {
          throw new VmError(`bpf_timer_init: R1 = ${c.space.describe(addr)} is not the bpf_timer of a value of the map in R2 (the Linux verifier refuses this call)`, { insn: c.pc });
        }
        const flags = c.u64(3);
        if (flags > 0xffn || !TIMER_CLOCKS.has(Number(flags))) return c.ret(EINVAL);
        const timers = MapTimers.of(c.space);
        if (timers.get(addr)) return c.ret(EBUSY);
        timers.init(addr, map, addr - off, Number(flags));
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_timer_set_callback'), fn: (c) => {
        const t = MapTimers.of(c.space).get(c.ptr(1, 16, true));
        if (!t) return c.ret(EINVAL);
        const target = c.num(2);
        const prog = c.program;
        if (!prog || target < FUNC_POINTER_BASE || target - FUNC_POINTER_BASE >= prog.slots) {
          throw new VmError(`bpf_timer_set_callback: R2 = 0x${target.toString(16)} is not a function of the program`, { insn: c.pc });
        }
        t.callback = { program: prog, slot: target - FUNC_POINTER_BASE };
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_timer_start'), fn: (c) => {
        const timers = MapTimers.of(c.space);
        const t = timers.get(c.ptr(1, 16, true));
        const flags = c.u64(3);
        if (flags & ~(BPF_F_TIMER_ABS | BPF_F_TIMER_CPU_PIN)) return c.ret(EINVAL);
        if (!t || !t.callback) return c.ret(EINVAL);
        timers.arm(t, flags & BPF_F_TIMER_ABS ? c.u64(2) : timers.now + c.u64(2));
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_timer_cancel'), fn: (c) => {
        const timers = MapTimers.of(c.space);
        const addr = c.ptr(1, 16, true);
        const t = timers.get(addr);
        if (!t) return c.ret(EINVAL);
        // A callback cancelling its own timer would wait for itself (hrtimer_cancel).
        if (timers.running === addr) return c.ret(EDEADLK);
        const active = t.expires !== null;
        t.expires = null;
        c.ret(active ? 1 : 0);
      },
    },
    { ...helperIdentity('bpf_spin_lock'), fn: (c) => c.ret(spin(c, true)) },
    { ...helperIdentity('bpf_spin_unlock'), fn: (c) => c.ret(spin(c, false)) },
  ];
}

/**
 * Takes or releases the lock word at r1. Programs run one at a time on a
 * CPU and the verifier lets a program hold one lock and release it before
 * it ends, so a lock is never found taken when a verified program takes it;
 * an unverified program that does would spin forever in Linux, and gets a
 * VmError here. With a shared memory (workers) the word is changed
 * atomically and a taken lock is waited for.
 */
function spin(c: HelperCall, lock: boolean): number {
  const addr = c.ptr(1, 4, true);
  if (addr % 4) throw new VmError(`${lock ? 'bpf_spin_lock' : 'bpf_spin_unlock'}: R1 = ${c.space.describe(addr)} is not 4-byte aligned`, { insn: c.pc });
  const words = new Int32Array(c.space.bytes.buffer);
  const i = addr / 4;
  if (!lock) {
    if (Atomics.exchange(words, i, 0) === 0) {
      throw new VmError(`bpf_spin_unlock: the lock at ${c.space.describe(addr)} is not held (the Linux verifier refuses an unlock without a lock)`, { insn: c.pc });
    }
    return 0;
  }
  if (Atomics.compareExchange(words, i, 0, 1) === 0) return 0;
  if (typeof SharedArrayBuffer !== 'undefined' && words.buffer instanceof SharedArrayBuffer) {
    for (let tries = 0; tries < 1_000_000; tries++) {
      Atomics.wait(words, i, 1, 1);
      if (Atomics.compareExchange(words, i, 0, 1) === 0) return 0;
    }
  }
  throw new VmError(`bpf_spin_lock: the lock at ${c.space.describe(addr)} is already held: this would spin forever (the Linux verifier refuses programs that take a lock twice)`, { insn: c.pc });
}
