import { describe, expect, it } from 'vitest';
import { ArrayMap } from './array.js';
import { ArrayOfMapsMap, HashOfMapsMap } from './map-of-maps.js';
import { MapError, MapFlags, MapType } from './types.js';
import type { MapSpec } from './types.js';
import { add, call, exit, jmp, ldmap, ldx, mapMachine, mov, movr, readU32, readU64, run, signed, st, u32, u64 } from '../../../test/support/map-programs.js';

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MapError) return err.errno;
    throw err;
  }
  return 'ok';
}

const inner: MapSpec = { name: 'inner', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 };

/** outer[okey] -> inner map; inner[1] -> value; returns the u64 value, -1 when the outer lookup fails, -2 when the inner one does. */
const twoLevel = (outer: ArrayOfMapsMap | HashOfMapsMap, okey: number) => [
  st(4, 10, -4, okey), movr(2, 10), add(2, -4), ldmap(1, outer), call(1),
  jmp('jne', 0, 0, 2), mov(0, -1), exit,
  movr(1, 0), st(4, 10, -8, 1), movr(2, 10), add(2, -8), call(1),
  jmp('jne', 0, 0, 2), mov(0, -2), exit,
  ldx(8, 0, 0, 0), exit,
];

describe('maps of maps', () => {
  it('array_of_maps: user space stores inner map ids; programs get the inner map pointer and use it', () => {
    const m = mapMachine();
    const outer = m.maps.create({ name: 'outer', type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: inner }) as ArrayOfMapsMap;
    const a = m.maps.create(inner) as ArrayMap;
    const b = m.maps.create({ ...inner, name: 'b' }) as ArrayMap;
    a.update(u32(1), u64(111));
    b.update(u32(1), u64(222));
    outer.update(u32(0), u32(a.id));
    outer.update(u32(2), u32(b.id));
    expect(run(m, twoLevel(outer, 0))).toBe(111n);
    expect(run(m, twoLevel(outer, 2))).toBe(222n);
    expect(signed(run(m, twoLevel(outer, 1)))).toBe(-1);
    expect(signed(run(m, twoLevel(outer, 9)))).toBe(-1);
    expect(readU32(outer.lookup(u32(2))!)).toBe(b.id);
    expect(outer.lookup(u32(1))).toBeUndefined();
    expect(outer.entries().map((e) => [readU32(e.key), readU32(e.value)])).toEqual([[0, a.id], [2, b.id]]);
    expect(outer.mapAt(0)).toBe(a);
    outer.delete(u32(0));
    expect(errno(() => outer.delete(u32(0)))).toBe('ENOENT');
    expect(errno(() => outer.delete(u32(7)))).toBe('E2BIG');
    expect(signed(run(m, twoLevel(outer, 0)))).toBe(-1);
  });

  it('inner maps must match the template like Linux\'s map_meta_equal', () => {
    const m = mapMachine();
    const outer = m.maps.create({ name: 'outer', type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: inner });
    const bigger = m.maps.create({ ...inner, maxEntries: 3 });
    const wider = m.maps.create({ ...inner, valueSize: 16 });
    const hash = m.maps.create({ ...inner, type: MapType.HASH });
    expect(errno(() => outer.update(u32(0), u32(bigger.id)))).toBe('EINVAL');
    expect(errno(() => outer.update(u32(0), u32(wider.id)))).toBe('EINVAL');
    expect(errno(() => outer.update(u32(0), u32(hash.id)))).toBe('EINVAL');
    expect(errno(() => outer.update(u32(0), u32(999)))).toBe('EBADF');
    expect(errno(() => outer.update(u32(0), u32(bigger.id), 1))).toBe('EINVAL');
    // BPF_F_INNER_MAP lifts the max_entries check for arrays; hash maps never compare max_entries.
    const flexible = m.maps.create({ name: 'outer2', type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: { ...inner, flags: MapFlags.INNER_MAP } });
    const small = m.maps.create({ ...inner, flags: MapFlags.INNER_MAP, maxEntries: 1 });
    flexible.update(u32(0), u32(small.id));
    const hinner: MapSpec = { name: 'hi', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 };
    const houter = m.maps.create({ name: 'houter', type: MapType.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: hinner });
    houter.update(u32(5), u32(m.maps.create({ ...hinner, maxEntries: 100 }).id));
  });

  it('hash_of_maps: lookups by key give the inner map; update/delete from programs are refused', () => {
    const m = mapMachine();
    const outer = m.maps.create({ name: 'outer', type: MapType.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: inner }) as HashOfMapsMap;
    const a = m.maps.create(inner) as ArrayMap;
    a.update(u32(1), u64(7));
    outer.update(u32(1000), u32(a.id));
    expect(run(m, twoLevel(outer, 1000))).toBe(7n);
    expect(signed(run(m, twoLevel(outer, 1001)))).toBe(-1);
    expect(readU32(outer.lookup(u32(1000))!)).toBe(a.id);
    expect(outer.mapFor(u32(1000))).toBe(a);
    const batch = outer.lookupBatch(null, 4);
    expect(batch.entries.map((e) => readU32(e.value))).toEqual([a.id]);
    // The inner value can be changed from the program through the inner pointer.
    const bump = [
      st(4, 10, -4, 1000), movr(2, 10), add(2, -4), ldmap(1, outer), call(1), movr(1, 0),
      st(4, 10, -8, 1), movr(2, 10), add(2, -8), call(1), ldx(8, 1, 0, 0), add(1, 5), { kind: 'stx' as const, size: 8 as const, dst: 0, src: 1, off: 0 }, mov(0, 0), exit,
    ];
    run(m, bump);
    expect(readU64(a.lookup(u32(1))!)).toBe(12n);
    const upd = [st(4, 10, -4, 1), st(4, 10, -8, a.id), movr(2, 10), add(2, -4), movr(3, 10), add(3, -8), mov(4, 0), ldmap(1, outer), call(2), exit];
    expect(() => run(m, upd)).toThrow(/cannot pass map_type 13 into func bpf_map_update_elem#2/);
    outer.delete(u32(1000));
    expect(outer.lookup(u32(1000))).toBeUndefined();
  });
});
