import { describe, expect, it } from 'vitest';
import { ArrayMap } from './array.js';
import { MapDescriptor } from './bpf-map.js';
import { MapBatchError, MapError, MapFlags, MapType, UpdateFlags } from './types.js';
import type { MapSpec } from './types.js';
import { add, call, exit, jmp, ldmap, ldx, mapMachine, mov, movr, readU32, readU64, run, signed, st, stx, u32, u64 } from '../../../test/support/map-programs.js';
import type { Machine } from '../machine.js';

const spec = (over: Partial<MapSpec> = {}): MapSpec => ({ name: 'arr', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, ...over });

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MapError) return err.errno;
    throw err;
  }
  return 'ok';
}

/** A program that increments the u64 at index `index` of `map` in place and returns the new value (or -1 when the lookup fails). */
function incrementProgram(map: ArrayMap, index: number) {
  return [
    st(4, 10, -4, index),
    movr(2, 10), add(2, -4),
    ldmap(1, map),
    call(1),
    jmp('jne', 0, 0, 2),
    mov(0, -1), exit,
    ldx(8, 1, 0, 0), add(1, 1), stx(8, 0, 0, 1),
    movr(0, 1), exit,
  ];
}

describe('array maps', () => {
  it('lays values out at storage + index * stride, zeroed, and describes itself', () => {
    const m = mapMachine();
    const map = m.maps.create(spec({ valueSize: 12 })) as ArrayMap;
    expect(map.stride).toBe(16);
    const dv = m.space.data;
    expect(dv.getUint32(map.address + MapDescriptor.type, true)).toBe(MapType.ARRAY);
    expect(dv.getUint32(map.address + MapDescriptor.keySize, true)).toBe(4);
    expect(dv.getUint32(map.address + MapDescriptor.valueSize, true)).toBe(12);
    expect(dv.getUint32(map.address + MapDescriptor.maxEntries, true)).toBe(4);
    expect(dv.getUint32(map.address + MapDescriptor.id, true)).toBe(map.id);
    expect(dv.getUint32(map.address + MapDescriptor.storage, true)).toBe(map.storage.start);
    expect(dv.getUint32(map.address + MapDescriptor.stride, true)).toBe(16);
    map.update(u32(2), new Uint8Array(12).fill(7));
    expect(m.space.read(map.storage.start + 2 * 16, 12)).toEqual(new Uint8Array(12).fill(7));
    expect(map.lookup(u32(0))).toEqual(new Uint8Array(12));
  });

  it('a program updates a value in place and user space sees it (one memory)', () => {
    const m = mapMachine();
    const map = m.maps.create(spec()) as ArrayMap;
    map.update(u32(3), u64(40));
    expect(run(m, incrementProgram(map, 3))).toBe(41n);
    expect(run(m, incrementProgram(map, 3))).toBe(42n);
    expect(readU64(map.lookup(u32(3))!)).toBe(42n);
    expect(signed(run(m, incrementProgram(map, 4)))).toBe(-1); // index >= max_entries: NULL
  });

  it('follows Linux for update flags, bounds and delete', () => {
    const m = mapMachine();
    const map = m.maps.create(spec());
    expect(errno(() => map.update(u32(0), u64(1), UpdateFlags.NOEXIST))).toBe('EEXIST');
    expect(errno(() => map.update(u32(0), u64(1), UpdateFlags.EXIST))).toBe('ok');
    expect(errno(() => map.update(u32(4), u64(1)))).toBe('E2BIG');
    expect(errno(() => map.update(u32(0), u64(1), 3))).toBe('EINVAL');
    expect(errno(() => map.update(u32(0), u64(1), UpdateFlags.F_LOCK))).toBe('EINVAL');
    expect(errno(() => map.delete(u32(0)))).toBe('EINVAL');
    expect(errno(() => map.lookupAndDelete(u32(0)))).toBe('ENOTSUPP');
    expect(map.lookup(u32(4))).toBeUndefined();
    expect(errno(() => map.update(u32(0), new Uint8Array(4)))).toBe('EINVAL'); // wrong value size
    expect(errno(() => map.lookup(new Uint8Array(8)))).toBe('EINVAL'); // wrong key size
  });

  it('program-side updates return Linux errors', () => {
    const m = mapMachine();
    const map = m.maps.create(spec());
    const prog = (index: number, flags: number) => [
      st(4, 10, -4, index), st(8, 10, -16, 99),
      movr(2, 10), add(2, -4), movr(3, 10), add(3, -16), mov(4, flags),
      ldmap(1, map), call(2), exit,
    ];
    expect(signed(run(m, prog(1, UpdateFlags.ANY)))).toBe(0);
    expect(readU64(map.lookup(u32(1))!)).toBe(99n);
    expect(signed(run(m, prog(1, UpdateFlags.NOEXIST)))).toBe(-17);
    expect(signed(run(m, prog(9, UpdateFlags.ANY)))).toBe(-7);
    expect(signed(run(m, prog(1, 7)))).toBe(-22);
    const del = [st(4, 10, -4, 0), movr(2, 10), add(2, -4), ldmap(1, map), call(3), exit];
    expect(signed(run(m, del))).toBe(-22);
  });

  it('iterates keys in index order; a missing key restarts at 0', () => {
    const m = mapMachine();
    const map = m.maps.create(spec({ maxEntries: 3 }));
    expect(map.nextKey(null)).toEqual(u32(0));
    expect(map.nextKey(u32(0))).toEqual(u32(1));
    expect(map.nextKey(u32(1))).toEqual(u32(2));
    expect(map.nextKey(u32(2))).toBeUndefined();
    expect(map.nextKey(u32(77))).toEqual(u32(0));
    expect(map.entries().map((e) => readU32(e.key))).toEqual([0, 1, 2]);
  });

  it('batch lookups walk get_next_key and end with ENOENT (nextKey null)', () => {
    const m = mapMachine();
    const map = m.maps.create(spec({ maxEntries: 5 }));
    for (let i = 0; i < 5; i++) map.update(u32(i), u64(i * 10));
    const first = map.lookupBatch(null, 2);
    expect(first.entries.map((e) => readU32(e.key))).toEqual([0, 1]);
    expect(first.nextKey).toEqual(u32(1));
    const second = map.lookupBatch(first.nextKey, 2);
    expect(second.entries.map((e) => readU64(e.value))).toEqual([20n, 30n]);
    const third = map.lookupBatch(second.nextKey, 2);
    expect(third.entries.map((e) => readU32(e.key))).toEqual([4]);
    expect(third.nextKey).toBeNull();
    expect(map.updateBatch([{ key: u32(0), value: u64(5) }, { key: u32(1), value: u64(6) }])).toBe(2);
    try {
      map.updateBatch([{ key: u32(2), value: u64(5) }, { key: u32(9), value: u64(6) }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MapBatchError);
      expect((err as MapBatchError).errno).toBe('E2BIG');
      expect((err as MapBatchError).processed).toBe(1);
    }
    expect(errno(() => map.deleteBatch([u32(0)]))).toBe('ENOTSUPP');
    expect(errno(() => map.lookupAndDeleteBatch(null, 2))).toBe('ENOTSUPP');
  });

  it('frozen maps refuse user writes (EPERM) but not program writes; freezing twice is EBUSY', () => {
    const m = mapMachine();
    const map = m.maps.create(spec()) as ArrayMap;
    map.freeze();
    expect(errno(() => map.update(u32(0), u64(1)))).toBe('EPERM');
    expect(errno(() => map.updateBatch([{ key: u32(0), value: u64(1) }]))).toBe('EPERM');
    expect(errno(() => map.freeze())).toBe('EBUSY');
    expect(run(m, incrementProgram(map, 0))).toBe(1n);
    expect(readU64(map.lookup(u32(0))!)).toBe(1n);
  });

  it('BPF_F_RDONLY / BPF_F_WRONLY restrict user space; BPF_F_RDONLY_PROG makes the values read-only for programs', () => {
    const m = mapMachine();
    const ro = m.maps.create(spec({ flags: MapFlags.RDONLY }));
    expect(errno(() => ro.update(u32(0), u64(1)))).toBe('EPERM');
    expect(errno(() => ro.freeze())).toBe('EPERM');
    expect(ro.lookup(u32(0))).toEqual(new Uint8Array(8));
    const wo = m.maps.create(spec({ flags: MapFlags.WRONLY }));
    expect(errno(() => wo.lookup(u32(0)))).toBe('EPERM');
    expect(errno(() => wo.nextKey(null))).toBe('EPERM');
    wo.update(u32(0), u64(1));
    const rop = m.maps.create(spec({ flags: MapFlags.RDONLY_PROG })) as ArrayMap;
    rop.update(u32(0), u64(5)); // user space may still write (e.g. a loader filling .rodata)
    expect(() => run(m, incrementProgram(rop, 0))).toThrow(/invalid memory access: write of 8 bytes .*map:arr\.values.*read-only/);
    const upd = [st(4, 10, -4, 0), st(8, 10, -16, 1), movr(2, 10), add(2, -4), movr(3, 10), add(3, -16), mov(4, 0), ldmap(1, rop), call(2), exit];
    expect(() => run(m, upd)).toThrow(/insn 9: bpf_map_update_elem: write into map forbidden/);
  });
});

describe('array maps without their zero slots (nonZeroEntries)', () => {
  it('lists only the indexes holding a non-zero byte, in index order, and agrees with entries()', () => {
    const m = mapMachine({ possibleCpus: 2 });
    const map = m.maps.create(spec({ maxEntries: 1000 })) as ArrayMap;
    map.update(u32(999), u64(1n << 56n));
    map.update(u32(3), u64(5));
    map.update(u32(4), u64(0));
    expect(map.nonZeroEntries().map((e) => readU32(e.key))).toEqual([3, 999]);
    expect(map.nonZeroEntries()).toEqual(map.entries().filter((e) => e.value.some((b) => b !== 0)));
    const pcpu = m.maps.create(spec({ name: 'pcpu', type: MapType.PERCPU_ARRAY, valueSize: 4, maxEntries: 8 })) as ArrayMap;
    const onlyCpu1 = new Uint8Array(16);
    onlyCpu1[8] = 9;
    pcpu.update(u32(6), onlyCpu1);
    expect(pcpu.nonZeroEntries()).toEqual([{ key: u32(6), value: onlyCpu1 }]);
  });
});

describe('per-CPU arrays', () => {
  const pspec = (over: Partial<MapSpec> = {}) => spec({ name: 'pcpu', type: MapType.PERCPU_ARRAY, valueSize: 4, ...over });

  function machine(): Machine {
    return mapMachine({ possibleCpus: 2 });
  }

  it('keeps one slot per possible CPU, each value padded to 8, as bpf(2) returns them', () => {
    const m = machine();
    const map = m.maps.create(pspec()) as ArrayMap;
    expect(map.cpus).toBe(2);
    expect(map.lookup(u32(0))).toEqual(new Uint8Array(16));
    map.update(u32(1), u32(7)); // one value: copied to every CPU
    expect(map.lookup(u32(1))).toEqual(new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]));
    const both = new Uint8Array(16);
    both.set(u32(1), 0);
    both.set(u32(2), 8);
    map.update(u32(2), both);
    expect(map.valueAddress(2, 1)).toBe(map.storage.start + (2 * 2 + 1) * 8);
    expect(readU32(m.space.read(map.valueAddress(2, 1), 4))).toBe(2);
    expect(errno(() => map.update(u32(0), new Uint8Array(12)))).toBe('EINVAL');
  });

  it('programs see their own CPU\'s slot (cpu 0 and cpu 1) and bpf_map_lookup_percpu_elem any CPU\'s', () => {
    const m = machine();
    const map = m.maps.create(pspec({ valueSize: 8 })) as ArrayMap;
    const inc = incrementProgram(map, 0);
    expect(run(m, inc, 0)).toBe(1n);
    expect(run(m, inc, 1)).toBe(1n);
    expect(run(m, inc, 1)).toBe(2n);
    const v = map.lookup(u32(0))!;
    expect([readU64(v, 0), readU64(v, 8)]).toEqual([1n, 2n]);
    const percpu = (cpu: number) => [
      st(4, 10, -4, 0), movr(2, 10), add(2, -4), mov(3, cpu), ldmap(1, map), call(195),
      jmp('jne', 0, 0, 2), mov(0, -1), exit, ldx(8, 0, 0, 0), exit,
    ];
    expect(run(m, percpu(1), 0)).toBe(2n);
    expect(run(m, percpu(0), 1)).toBe(1n);
    expect(signed(run(m, percpu(2), 0))).toBe(-1);
    // A CPU the map has no slot for is a clear error.
    expect(() => run(m, inc, 2)).toThrow(/CPU 2 has no slot in per-CPU map 'pcpu'/);
  });

  it('a program update writes only the calling CPU\'s slot', () => {
    const m = machine();
    const map = m.maps.create(pspec({ valueSize: 8 })) as ArrayMap;
    const upd = [st(4, 10, -4, 3), st(8, 10, -16, 55), movr(2, 10), add(2, -4), movr(3, 10), add(3, -16), mov(4, 0), ldmap(1, map), call(2), exit];
    expect(run(m, upd, 1)).toBe(0n);
    const v = map.lookup(u32(3))!;
    expect([readU64(v, 0), readU64(v, 8)]).toEqual([0n, 55n]);
  });
});
