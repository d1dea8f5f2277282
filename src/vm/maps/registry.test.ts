import { describe, expect, it } from 'vitest';
import { encodeProgram } from '../../isa/encode.js';
import { prepareProgram } from '../prepared-program.js';
import { ArrayMap } from './array.js';
import { MapDescriptor, mapTypeName } from './bpf-map.js';
import { ProgArrayMap } from './prog-array.js';
import { MapError, MapType } from './types.js';
import { CREATE_CASES } from '../../../test/support/map-specs.js';
import { exit, mapMachine, mov, readU32, u32 } from '../../../test/support/map-programs.js';

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MapError) return err.errno;
    throw err;
  }
  return 'ok';
}

describe('the map registry', () => {
  it.each(CREATE_CASES.map((c) => [`${mapTypeName(c.spec.type)} key ${c.spec.keySize} value ${c.spec.valueSize} max ${c.spec.maxEntries} flags 0x${(c.spec.flags ?? 0).toString(16)}${c.spec.mapExtra ? ` extra ${c.spec.mapExtra}` : ''}${c.spec.innerMap ? ` inner ${mapTypeName(c.spec.innerMap.type)}` : ''}`, c] as const))(
    'creates %s with Linux\'s answer', (_name, c) => {
      const m = mapMachine({ possibleCpus: 2 });
      expect(errno(() => m.maps.create(c.spec))).toBe(c.tsbpf ?? c.linux);
    });

  it('names unsupported types clearly', () => {
    const m = mapMachine();
    expect(() => m.maps.create({ name: 'sk', type: MapType.SOCKMAP, keySize: 4, valueSize: 4, maxEntries: 4 }))
      .toThrow("map 'sk' (sockmap): tsbpf does not implement sockmap maps (type 15) (EOPNOTSUPP)");
    expect(() => m.maps.create({ name: 'sk', type: MapType.SOCKMAP, keySize: 8, valueSize: 4, maxEntries: 4 }))
      .toThrow(/map 'sk' \(sockmap\): sockmaps need key_size 4.*\(EINVAL\)/);
    expect(() => m.maps.create({ name: 'x', type: 99, keySize: 4, valueSize: 4, maxEntries: 4 })).toThrow("map 'x': unknown map type 99 (EINVAL)");
    expect(() => m.maps.create({ name: 'a', type: MapType.ARRAY, keySize: 8, valueSize: 4, maxEntries: 4 })).toThrow("map 'a' (array): array maps need key_size 4, not 8 (EINVAL)");
    expect(() => m.maps.create({ name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 })).toThrow("map 'a' (array): array maps need max_entries above 0 (EINVAL)");
  });

  it('a placeholder stands for a map that cannot be created: it has an id and a descriptor, every operation names it', () => {
    const m = mapMachine();
    const p = m.maps.createPlaceholder({ name: 'sk', type: MapType.SOCKMAP, keySize: 4, valueSize: 4, maxEntries: 4 }, 'tsbpf does not implement sockmap maps (type 15)', 'unsupported');
    expect(m.maps.byId(p.id)).toBe(p);
    expect(m.maps.byAddress(p.address)).toBe(p);
    expect(readU32(m.space.read(p.address + MapDescriptor.type, 4))).toBe(0); // engines never inline it
    expect(errno(() => p.lookup(u32(0)))).toBe('EOPNOTSUPP');
    expect(() => p.update(u32(0), u32(1))).toThrow("map 'sk' (sockmap) is not backed by tsbpf: tsbpf does not implement sockmap maps (type 15) (EOPNOTSUPP)");
    expect(() => p.progLookup(0, 0)).toThrow(/bpf_map_lookup_elem#1: map 'sk' \(sockmap\) is not backed by tsbpf/);
    const bad = m.maps.createPlaceholder({ name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 }, '-EINVAL: array maps need max_entries above 0', 'invalid');
    expect(() => bad.entries()).toThrow("map 'a' (array) could not be created: -EINVAL: array maps need max_entries above 0 (EBADF)");
  });

  it('finds maps by id, address and name, and lists them in creation order', () => {
    const m = mapMachine();
    const a = m.maps.create({ name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    const b = m.maps.create({ name: 'b', type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(a.id).toBe(1);
    expect(b.id).toBe(2);
    expect(m.maps.byId(2)).toBe(b);
    expect(m.maps.byAddress(a.address)).toBe(a);
    expect(m.maps.byAddress(a.address + 8)).toBeUndefined();
    expect(m.maps.byName('b')).toBe(b);
    expect(m.maps.list()).toEqual([a, b]);
    expect(m.space.regionAt(a.address)?.name).toBe('map:a');
    expect(readU32(m.space.read(b.address + MapDescriptor.type, 4))).toBe(MapType.HASH);
  });

  it('an out-of-memory map is ENOMEM, not a crash', () => {
    const m = mapMachine();
    expect(errno(() => m.maps.create({ name: 'huge', type: MapType.ARRAY, keySize: 4, valueSize: 1 << 20, maxEntries: 4096 }))).toBe('ENOMEM');
  });
});

describe('prog arrays', () => {
  it('store program ids from user space and resolve tail calls', () => {
    const m = mapMachine();
    const prog = prepareProgram(encodeProgram([mov(0, 7), exit]));
    const id = m.programs.add(prog);
    const pa = m.maps.create({ name: 'jmp', type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 }) as ProgArrayMap;
    expect(pa.programAt(1)).toBeUndefined();
    pa.update(u32(1), u32(id));
    expect(pa.programAt(1)).toBe(id);
    expect(readU32(pa.lookup(u32(1))!)).toBe(id);
    expect(pa.lookup(u32(0))).toBeUndefined();
    expect(m.tailCallTarget(pa.address, 1)).toBe(prog);
    expect(m.tailCallTarget(pa.address, 2)).toBeUndefined();
    expect(m.tailCallTarget(pa.address, 99)).toBeUndefined();
    expect(errno(() => pa.update(u32(0), u32(id + 100)))).toBe('EBADF');
    expect(errno(() => pa.update(u32(0), u32(id), 1))).toBe('EINVAL');
    expect(errno(() => pa.update(u32(4), u32(id)))).toBe('E2BIG');
    expect(errno(() => pa.delete(u32(0)))).toBe('ENOENT');
    expect(errno(() => pa.delete(u32(9)))).toBe('E2BIG');
    expect(pa.entries().map((e) => readU32(e.key))).toEqual([1]);
    pa.delete(u32(1));
    expect(m.tailCallTarget(pa.address, 1)).toBeUndefined();
    const arr = m.maps.create({ name: 'arr', type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 }) as ArrayMap;
    expect(m.tailCallTarget(arr.address, 0)).toBeUndefined();
  });
});

describe('cgroup arrays', () => {
  it('hold what user space puts in their slots, cannot be read back, and answer bpf_current_task_under_cgroup where cgroups do not matter', async () => {
    const { CgroupArrayMap } = await import('./cgroup-array.js');
    const m = mapMachine();
    const map = m.maps.create({ name: 'cg', type: MapType.CGROUP_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(map).toBeInstanceOf(CgroupArrayMap);
    const cg = map as InstanceType<typeof CgroupArrayMap>;
    expect(errno(() => cg.lookup(u32(0)))).toBe('ENOTSUPP');
    expect(errno(() => cg.update(u32(2), u32(7)))).toBe('E2BIG');
    expect(errno(() => cg.update(u32(0), u32(7), 1))).toBe('EINVAL');
    expect(errno(() => cg.delete(u32(0)))).toBe('ENOENT');
    // -E2BIG beyond max_entries, -EAGAIN for an empty slot (Linux's answers); a filled slot asks what tsbpf does not model
    expect(cg.currentTaskUnderCgroup(2)).toBe(-7);
    expect(cg.currentTaskUnderCgroup(0)).toBe(-11);
    cg.update(u32(0), u32(7));
    expect(cg.entries().map((e) => [readU32(e.key), readU32(e.value)])).toEqual([[0, 7]]);
    expect(() => cg.currentTaskUnderCgroup(0)).toThrow(/tsbpf does not model cgroups/);
    cg.delete(u32(0));
    expect(cg.currentTaskUnderCgroup(0)).toBe(-11);
  });
});
