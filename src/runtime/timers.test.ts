/**
 * Timers and spin locks in a loaded collection (test/fixtures/pkt/
 * locks_timers.c): the virtual clock, callbacks that re-arm themselves,
 * cancel, timers freed with their element, and the special fields user
 * space never sees; on both engines.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseObject } from '../loader/object.js';
import { jitEngine } from '../jit/jit-engine.js';
import { interpreterEngine } from '../vm/engine.js';
import type { Engine } from '../vm/engine.js';
import { MapTimers } from '../vm/maps/timers.js';
import { MapError } from '../vm/maps/types.js';
import { loadCollection } from './collection.js';
import { UpdateFlags } from '../isa/uapi.js';

const OBJECT = new URL('../../test/fixtures/pkt/locks_timers.o', import.meta.url);
const FRAME = new Uint8Array(60);
FRAME[12] = 0x08;

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const s64 = (b: Uint8Array | undefined) => (b ? new DataView(b.buffer, b.byteOffset).getBigInt64(0, true) : undefined);

function load() {
  const c = loadCollection(parseObject(new Uint8Array(readFileSync(OBJECT)), { name: 'locks_timers.o' }));
  const run = (name: string, engine: Engine) => c.run(c.program({ name }), { dataIn: FRAME }, engine).retval;
  const results = () => Array.from({ length: 8 }, (_, i) => Number(s64(c.map('results').lookup(u32(i)))));
  const runs = () => s64(c.map('ticks').lookup(u32(7))?.subarray(0, 8));
  return { c, run, results, runs };
}

describe.each([['interp', interpreterEngine], ['jit', jitEngine]] as const)('timers and spin locks (%s)', (_name, engine) => {
  it('finds the lock and the timer in the values\' BTF', () => {
    const { c } = load();
    expect(c.map('counters').spec.fields).toEqual({ spinLock: 0 });
    expect(c.map('ticks').spec.fields).toEqual({ timer: 8 });
    expect(c.map('plain').spec.fields).toBeUndefined();
  });

  it('runs callbacks only when the virtual clock passes their expiry, and lets them re-arm', () => {
    const { c, run, results, runs } = load();
    expect(run('arm_timer', engine)).toBe(2);
    expect(results().slice(0, 6)).toEqual([0, -16, -22, 0, -22, 0]);
    expect(runs()).toBe(0n);
    expect(c.advanceTimers(499, engine)).toBe(0);
    expect(c.advanceTimers(1, engine)).toBe(1);
    expect(runs()).toBe(1n);
    // Re-armed for 1000 ns, then 2000 ns: both fire within one advance that covers them.
    expect(c.advanceTimers(10_000, engine)).toBe(2);
    expect(runs()).toBe(3n);
    expect(c.timerClock).toBe(10_500n);
    expect(c.advanceTimers(1e9, engine)).toBe(0);
  });

  it('cancel answers whether the timer was armed; an uninitialised timer is -EINVAL', () => {
    const { c, run, results } = load();
    expect(run('cancel_timer', engine)).toBe(0); // no element yet
    run('arm_timer', engine);
    run('cancel_timer', engine);
    expect(results().slice(6)).toEqual([1, 0]);
    expect(c.advanceTimers(1e6, engine)).toBe(0);
  });

  it('a user-space update or delete of the element frees its timer; user space reads the timer as zeros', () => {
    const { c, run, runs } = load();
    run('arm_timer', engine);
    const ticks = c.map('ticks');
    const value = ticks.lookup(u32(7))!;
    expect([...value.subarray(8, 24)].every((b) => b === 0)).toBe(true);
    ticks.update(u32(7), value, UpdateFlags.EXIST);
    expect(c.advanceTimers(1e6, engine)).toBe(0);
    expect(runs()).toBe(0n);
    run('arm_timer', engine); // init succeeds again: the old timer is gone
    expect(Number(s64(c.map('results').lookup(u32(0))))).toBe(0);
    ticks.delete(u32(7));
    expect(MapTimers.of(c.machine.space).pending()).toEqual([]);
  });

  it('counts under the lock; BPF_F_LOCK needs a lock in the value; user space never writes the lock', () => {
    const { c, run } = load();
    for (let i = 0; i < 3; i++) run('locked_count', engine);
    const counters = c.map('counters');
    const v = counters.lookup(u32(0))!;
    expect(s64(v.subarray(8))).toBe(3n);
    expect(s64(v.subarray(16))).toBe(3n * BigInt(FRAME.length));
    // The lock word is free after every run, and a BPF_F_LOCK update keeps it so.
    const raw = new Uint8Array(24).fill(0xff);
    counters.update(u32(1), raw, UpdateFlags.F_LOCK);
    expect([...counters.lookup(u32(1))!.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    run('locked_count', engine);
    expect(() => c.map('plain').update(u32(0), new Uint8Array(8), UpdateFlags.F_LOCK)).toThrow(MapError);
  });
});
