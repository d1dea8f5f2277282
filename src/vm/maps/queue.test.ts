import { describe, expect, it } from 'vitest';
import { QueueStackMap } from './queue.js';
import { MapError, MapType, UpdateFlags } from './types.js';
import type { MapSpec } from './types.js';
import { add, call, exit, ldmap, ldx, mapMachine, mov, movr, readU32, run, signed, st, u32 } from '../../../test/support/map-programs.js';

const qspec = (type: number, over: Partial<MapSpec> = {}): MapSpec => ({ name: type === MapType.QUEUE ? 'q' : 's', type, keySize: 0, valueSize: 4, maxEntries: 3, ...over });

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MapError) return err.errno;
    throw err;
  }
  return 'ok';
}

const values = (map: QueueStackMap) => map.entries().map((e) => readU32(e.value));

describe('queue and stack maps', () => {
  it('a queue is FIFO, a stack LIFO; full is E2BIG, empty is ENOENT', () => {
    const m = mapMachine();
    const q = m.maps.create(qspec(MapType.QUEUE)) as QueueStackMap;
    const s = m.maps.create(qspec(MapType.STACK)) as QueueStackMap;
    for (const map of [q, s]) {
      expect(map.lookup(null)).toBeUndefined();
      expect(map.lookupAndDelete(null)).toBeUndefined();
      for (const v of [1, 2, 3]) map.update(null, u32(v));
      expect(errno(() => map.update(null, u32(4)))).toBe('E2BIG');
      expect(map.count).toBe(3);
    }
    expect(values(q)).toEqual([1, 2, 3]);
    expect(values(s)).toEqual([3, 2, 1]);
    expect(readU32(q.lookup(null)!)).toBe(1);
    expect(readU32(s.lookup(null)!)).toBe(3);
    expect([1, 2, 3].map(() => readU32(q.lookupAndDelete(null)!))).toEqual([1, 2, 3]);
    expect([1, 2, 3].map(() => readU32(s.lookupAndDelete(null)!))).toEqual([3, 2, 1]);
    expect(q.lookupAndDelete(null)).toBeUndefined();
  });

  it('BPF_EXIST on a full map replaces the oldest element', () => {
    const m = mapMachine();
    const q = m.maps.create(qspec(MapType.QUEUE)) as QueueStackMap;
    const s = m.maps.create(qspec(MapType.STACK)) as QueueStackMap;
    for (const map of [q, s]) {
      for (const v of [1, 2, 3]) map.update(null, u32(v));
      map.update(null, u32(4), UpdateFlags.EXIST);
      map.update(null, u32(5), UpdateFlags.EXIST);
    }
    expect(values(q)).toEqual([3, 4, 5]);
    expect(values(s)).toEqual([5, 4, 3]);
    // wrap-around keeps working
    for (let i = 0; i < 10; i++) {
      q.lookupAndDelete(null);
      q.update(null, u32(10 + i));
    }
    expect(values(q)).toEqual([17, 18, 19]);
  });

  it('rejects keys, deletes, iteration and bad flags as Linux does', () => {
    const m = mapMachine();
    const q = m.maps.create(qspec(MapType.QUEUE));
    expect(errno(() => q.update(null, u32(1), UpdateFlags.NOEXIST))).toBe('EINVAL');
    expect(errno(() => q.update(null, u32(1), 5))).toBe('EINVAL');
    expect(errno(() => q.update(u32(0), u32(1)))).toBe('EINVAL');
    expect(errno(() => q.delete(null))).toBe('EINVAL');
    expect(errno(() => q.nextKey(null))).toBe('EINVAL');
    expect(errno(() => q.update(null, new Uint8Array(8)))).toBe('EINVAL');
  });

  it('programs push, pop and peek; pop of an empty map zeroes the buffer and returns -ENOENT', () => {
    const m = mapMachine();
    const q = m.maps.create(qspec(MapType.QUEUE, { valueSize: 8 })) as QueueStackMap;
    const push = (v: number, flags: number) => [st(8, 10, -8, v), movr(2, 10), add(2, -8), mov(3, flags), ldmap(1, q), call(87), exit];
    // pop or peek into r10-8 (pre-filled with 0x55), returns the helper result * 1000 + the value read
    const get = (helperId: number) => [
      st(8, 10, -8, 0x55), movr(2, 10), add(2, -8), ldmap(1, q), call(helperId),
      { kind: 'alu' as const, op: 'mul' as const, wide: true, useReg: false, dst: 0, src: 0, imm: 1000 },
      ldx(8, 1, 10, -8), { kind: 'alu' as const, op: 'add' as const, wide: true, useReg: true, dst: 0, src: 1, imm: 0 }, exit,
    ];
    expect(signed(run(m, get(88)))).toBe(-2000); // -ENOENT, value zeroed
    expect(signed(run(m, push(7, 0)))).toBe(0);
    expect(signed(run(m, push(8, 0)))).toBe(0);
    expect(signed(run(m, push(9, 0)))).toBe(0);
    expect(signed(run(m, push(10, 0)))).toBe(-7);
    expect(signed(run(m, push(10, UpdateFlags.EXIST)))).toBe(0);
    expect(signed(run(m, push(11, UpdateFlags.NOEXIST)))).toBe(-22);
    expect(signed(run(m, get(89)))).toBe(8);
    expect(signed(run(m, get(88)))).toBe(8);
    expect(signed(run(m, get(88)))).toBe(9);
    expect(signed(run(m, get(88)))).toBe(10);
    expect(signed(run(m, get(89)))).toBe(-2000);
    // lookup/update/delete are refused, as the verifier refuses them
    const lookup = [st(4, 10, -4, 0), movr(2, 10), add(2, -4), ldmap(1, q), call(1), exit];
    expect(() => run(m, lookup)).toThrow(/insn 5: bpf_map_lookup_elem: cannot pass map_type 22 into func bpf_map_lookup_elem#1/);
  });
});
