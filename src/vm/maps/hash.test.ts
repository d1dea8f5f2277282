import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrayMap } from './array.js';
import { HashMap, HashEntry } from './hash.js';
import { jhash, jhash2 } from './hash-function.js';
import { LruHashMap } from './lru.js';
import { MapDescriptor } from './bpf-map.js';
import { MapBatchError, MapError, MapFlags, MapType, UpdateFlags } from './types.js';
import type { MapSpec } from './types.js';
import { add, call, exit, jmp, ldmap, ldx, mapMachine, mov, movr, readU32, readU64, run, signed, st, stx, u32, u64, hex } from '../../../test/support/map-programs.js';

const hspec = (over: Partial<MapSpec> = {}): MapSpec => ({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8, hashSeed: 0, ...over });

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MapError) return err.errno;
    throw err;
  }
  return 'ok';
}

/** Looks up u32 key `k` and adds 1 to the u64 value in place; returns the new value or -1. */
const incrementKey = (map: HashMap, k: number) => [
  st(4, 10, -4, k), movr(2, 10), add(2, -4), ldmap(1, map), call(1),
  jmp('jne', 0, 0, 2), mov(0, -1), exit,
  ldx(8, 1, 0, 0), add(1, 1), stx(8, 0, 0, 1), movr(0, 1), exit,
];

/** bpf_map_update_elem(map, &k, &v, flags). */
const updateKey = (map: HashMap, k: number, v: number, flags: number) => [
  st(4, 10, -4, k), st(8, 10, -16, v), movr(2, 10), add(2, -4), movr(3, 10), add(3, -16), mov(4, flags),
  ldmap(1, map), call(2), exit,
];

/** bpf_map_delete_elem(map, &k). */
const deleteKey = (map: HashMap, k: number) => [st(4, 10, -4, k), movr(2, 10), add(2, -4), ldmap(1, map), call(3), exit];

describe('jhash', () => {
  it('matches lookup3 reference values', () => {
    // hashword/hashlittle of lookup3.c: the empty input gives the initial value mixed with nothing.
    expect(jhash(new Uint8Array(0), 0, 0, 0)).toBe(0xdeadbeef);
    expect(jhash2(new Uint8Array(0), 0, 0, 0)).toBe(0xdeadbeef);
    // jhash2 over whole words equals jhash over the same bytes when the length is a multiple of 12 plus a full tail.
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(jhash2(bytes, 0, 4, 7)).toBe(jhash(bytes, 0, 16, 7));
    // lookup3's published test vector: hashlittle("Four score and seven years ago", 30, 0) = 0x17770551.
    const text = new TextEncoder().encode('Four score and seven years ago');
    expect(jhash(text, 0, text.length, 0)).toBe(0x17770551);
    expect(jhash(text, 0, text.length, 1)).toBe(0xcd628161);
  });
});

describe('hash maps', () => {
  it('keeps buckets and entries in the address space, as documented', () => {
    const m = mapMachine();
    const map = m.maps.create(hspec({ maxEntries: 5 })) as HashMap;
    expect(map.nBuckets).toBe(8);
    const dv = m.space.data;
    expect(dv.getUint32(map.address + MapDescriptor.storage, true)).toBe(map.buckets.start);
    expect(dv.getUint32(map.address + MapDescriptor.mask, true)).toBe(7);
    expect(map.entrySize).toBe(24 + 8);
    map.update(u32(42), u64(7));
    // Walk the structure by hand, the way a JIT would.
    const hash = map.hashOf(u32(42));
    const head = dv.getUint32(map.buckets.start + 4 * (hash & 7), true);
    expect(head).not.toBe(0);
    expect(dv.getUint32(head + HashEntry.hash, true)).toBe(hash);
    expect(dv.getUint32(head + HashEntry.key, true)).toBe(42);
    // The value lives apart, at the address the header holds, in a page programs may write;
    // the header and key in a page they cannot reach.
    const value = dv.getUint32(head + HashEntry.value, true);
    expect(dv.getBigUint64(value, true)).toBe(7n);
    expect(m.space.pageClass(head)).toBe('internal');
    expect(m.space.pageClass(map.buckets.start)).toBe('internal');
    expect(m.space.pageClass(value)).toBe('rw');
    expect(dv.getUint32(map.address + MapDescriptor.count, true)).toBe(1);
  });

  it('programs look up, update in place, insert and delete with Linux results', () => {
    const m = mapMachine();
    const map = m.maps.create(hspec()) as HashMap;
    expect(signed(run(m, incrementKey(map, 5)))).toBe(-1);
    expect(signed(run(m, updateKey(map, 5, 10, UpdateFlags.NOEXIST)))).toBe(0);
    expect(signed(run(m, updateKey(map, 5, 10, UpdateFlags.NOEXIST)))).toBe(-17);
    expect(signed(run(m, updateKey(map, 6, 10, UpdateFlags.EXIST)))).toBe(-2);
    expect(run(m, incrementKey(map, 5))).toBe(11n);
    expect(readU64(map.lookup(u32(5))!)).toBe(11n);
    expect(signed(run(m, deleteKey(map, 5)))).toBe(0);
    expect(signed(run(m, deleteKey(map, 5)))).toBe(-2);
    expect(signed(run(m, updateKey(map, 1, 1, 4)))).toBe(-22);
    for (let k = 0; k < 8; k++) expect(signed(run(m, updateKey(map, 100 + k, k, 0)))).toBe(0);
    expect(signed(run(m, updateKey(map, 200, 0, 0)))).toBe(-7); // full: E2BIG
    expect(signed(run(m, updateKey(map, 100, 9, 0)))).toBe(0); // replacing still works when full
  });

  it('user space gets Linux errors', () => {
    const m = mapMachine();
    const map = m.maps.create(hspec({ maxEntries: 2 }));
    expect(map.lookup(u32(1))).toBeUndefined();
    expect(errno(() => map.delete(u32(1)))).toBe('ENOENT');
    expect(errno(() => map.update(u32(1), u64(1), UpdateFlags.EXIST))).toBe('ENOENT');
    map.update(u32(1), u64(1));
    expect(errno(() => map.update(u32(1), u64(1), UpdateFlags.NOEXIST))).toBe('EEXIST');
    map.update(u32(2), u64(2));
    expect(errno(() => map.update(u32(3), u64(3)))).toBe('E2BIG');
    expect(errno(() => map.update(u32(1), u64(1), 3))).toBe('EINVAL');
    expect(readU64(map.lookupAndDelete(u32(1))!)).toBe(1n);
    expect(map.lookupAndDelete(u32(1))).toBeUndefined();
    map.update(u32(3), u64(3));
  });

  it('get_next_key follows bucket order, newest first in a bucket, and restarts for a missing key', () => {
    const m = mapMachine();
    const map = m.maps.create(hspec({ maxEntries: 4 })) as HashMap;
    const keys = [1, 2, 3, 4];
    for (const k of keys) map.update(u32(k), u64(k));
    map.update(u32(2), u64(20)); // an update moves the element to the head of its bucket, as Linux's replace does
    const seq = new Map([[1, 0], [3, 2], [4, 3], [2, 4]]);
    const expected = [...keys].sort((a, b) => {
      const ba = map.hashOf(u32(a)) & 3;
      const bb = map.hashOf(u32(b)) & 3;
      return ba !== bb ? ba - bb : seq.get(b)! - seq.get(a)!;
    });
    const order: number[] = [];
    for (let k = map.nextKey(null); k !== undefined; k = map.nextKey(k)) order.push(readU32(k));
    expect(order).toEqual(expected);
    expect(map.nextKey(u32(999))).toEqual(u32(expected[0]!));
    expect(map.entries().map((e) => readU32(e.key))).toEqual(expected);
  });

  it('batch operations take whole buckets, with Linux tokens and ENOSPC', () => {
    const m = mapMachine();
    const map = m.maps.create(hspec({ maxEntries: 16 })) as HashMap;
    // Two keys in the same bucket.
    const bucketOf = (k: number) => map.hashOf(u32(k)) & 15;
    let a = 0;
    let b = 1;
    while (bucketOf(b) !== bucketOf(a)) b++;
    const keys = [a, b, 1000, 2000, 3000, 4000];
    for (const k of keys) map.update(u32(k), u64(k));
    const all = map.entries().map((e) => readU32(e.key));
    const got: number[] = [];
    let token: Uint8Array | null = null;
    for (let guard = 0; guard < 20; guard++) {
      let res;
      try {
        res = map.lookupBatch(token, 2);
      } catch (err) {
        expect(err).toBeInstanceOf(MapError);
        throw err;
      }
      got.push(...res.entries.map((e) => readU32(e.key)));
      if (res.nextKey === null) break;
      expect(res.nextKey.length).toBe(4);
      token = res.nextKey;
    }
    expect(got).toEqual(all);
    // A bucket bigger than the count, first in the batch: ENOSPC.
    const start = u32(bucketOf(a));
    expect(errno(() => map.lookupBatch(start, 1))).toBe('ENOSPC');
    expect(map.lookupBatch(u32(16), 4)).toEqual({ entries: [], nextKey: null });
    // Lookup-and-delete batches empty the map.
    let deleted = 0;
    token = null;
    for (;;) {
      const res = map.lookupAndDeleteBatch(token, 8);
      deleted += res.entries.length;
      if (res.nextKey === null) break;
      token = res.nextKey;
    }
    expect(deleted).toBe(keys.length);
    expect(map.entries()).toEqual([]);
    expect(map.updateBatch(keys.map((k) => ({ key: u32(k), value: u64(k) })), UpdateFlags.NOEXIST)).toBe(keys.length);
    try {
      map.deleteBatch([u32(a), u32(77777), u32(b)]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MapBatchError);
      expect((err as MapBatchError).errno).toBe('ENOENT');
      expect((err as MapBatchError).processed).toBe(1);
    }
  });

  it('BPF_F_NO_PREALLOC carves entries on demand and still stops at max_entries', () => {
    const m = mapMachine();
    const map = m.maps.create(hspec({ flags: MapFlags.NO_PREALLOC, maxEntries: 300, keySize: 6 })) as HashMap;
    const regionsBefore = m.space.regions.length;
    for (let k = 0; k < 300; k++) map.update(new Uint8Array([k & 255, k >> 8, 1, 2, 3, 4]), u64(k));
    expect(m.space.regions.length).toBeGreaterThan(regionsBefore);
    expect(errno(() => map.update(new Uint8Array(6), u64(0)))).toBe('E2BIG');
    expect(map.entries().length).toBe(300);
    for (let k = 0; k < 300; k++) expect(readU64(map.lookup(new Uint8Array([k & 255, k >> 8, 1, 2, 3, 4]))!)).toBe(BigInt(k));
  });

  it('frozen hash maps refuse user writes', () => {
    const m = mapMachine();
    const map = m.maps.create(hspec());
    map.update(u32(1), u64(1));
    map.freeze();
    expect(errno(() => map.update(u32(1), u64(2)))).toBe('EPERM');
    expect(errno(() => map.delete(u32(1)))).toBe('EPERM');
    expect(errno(() => map.lookupAndDelete(u32(1)))).toBe('EPERM');
    expect(errno(() => map.deleteBatch([u32(1)]))).toBe('EPERM');
    expect(readU64(map.lookup(u32(1))!)).toBe(1n);
  });
});

describe('per-CPU hash maps', () => {
  it('program updates create the element with zeros on other CPUs; lookups give the own CPU\'s slot', () => {
    const m = mapMachine({ possibleCpus: 2 });
    const map = m.maps.create(hspec({ type: MapType.PERCPU_HASH })) as HashMap;
    expect(signed(run(m, updateKey(map, 9, 5, 0), 1))).toBe(0);
    const v = map.lookup(u32(9))!;
    expect(v.length).toBe(16);
    expect([readU64(v, 0), readU64(v, 8)]).toEqual([0n, 5n]);
    expect(run(m, incrementKey(map, 9), 0)).toBe(1n);
    expect(run(m, incrementKey(map, 9), 1)).toBe(6n);
    map.update(u32(10), u64(3)); // one value for every CPU
    expect(hex(map.lookup(u32(10))!)).toBe('0300000000000000' + '0300000000000000');
    const percpu = (cpu: number) => [
      st(4, 10, -4, 9), movr(2, 10), add(2, -4), mov(3, cpu), ldmap(1, map), call(195),
      jmp('jne', 0, 0, 2), mov(0, -1), exit, ldx(8, 0, 0, 0), exit,
    ];
    expect(run(m, percpu(0), 1)).toBe(1n);
    expect(run(m, percpu(1), 0)).toBe(6n);
    expect(signed(run(m, percpu(5), 0))).toBe(-1);
  });
});

describe('LRU hash maps', () => {
  const lspec = (over: Partial<MapSpec> = {}) => hspec({ name: 'lru', type: MapType.LRU_HASH, maxEntries: 4, ...over });
  const has = (map: HashMap, k: number) => map.lookup(u32(k)) !== undefined;

  it('evict the least recently used element under pressure; program lookups count as use, user lookups do not', () => {
    const m = mapMachine();
    const map = m.maps.create(lspec()) as LruHashMap;
    for (const k of [0, 1, 2, 3]) map.update(u32(k), u64(k));
    expect(map.recency().map((k) => readU32(k))).toEqual([3, 2, 1, 0]);
    expect(run(m, incrementKey(map, 0))).toBe(1n); // 0 is now the most recent
    map.update(u32(4), u64(4)); // evicts 1
    expect([0, 1, 2, 3, 4].map((k) => has(map, k))).toEqual([true, false, true, true, true]);
    expect(map.lookup(u32(2))).toBeDefined(); // user lookup: no effect on recency
    map.update(u32(5), u64(5)); // evicts 2
    expect(has(map, 2)).toBe(false);
    map.update(u32(3), u64(33)); // an update is a use
    map.update(u32(6), u64(6)); // evicts 0
    expect(has(map, 0)).toBe(false);
    expect(map.recency().map((k) => readU32(k))).toEqual([6, 3, 5, 4]);
    // A program insert into the full map succeeds by evicting.
    expect(signed(run(m, updateKey(map, 7, 7, UpdateFlags.NOEXIST)))).toBe(0);
    expect(has(map, 4)).toBe(false);
    expect(map.entries().length).toBe(4);
    map.delete(u32(7));
    expect(map.recency().map((k) => readU32(k))).toEqual([6, 3, 5]);
  });

  it('lru_percpu_hash keeps per-CPU values and evicts too', () => {
    const m = mapMachine({ possibleCpus: 2 });
    const map = m.maps.create(lspec({ type: MapType.LRU_PERCPU_HASH, maxEntries: 2 })) as LruHashMap;
    run(m, updateKey(map, 1, 10, 0), 1);
    run(m, updateKey(map, 2, 20, 0), 0);
    run(m, incrementKey(map, 1), 1);
    run(m, updateKey(map, 3, 30, 0), 0); // evicts 2
    expect(map.lookup(u32(2))).toBeUndefined();
    const v = map.lookup(u32(1))!;
    expect([readU64(v, 0), readU64(v, 8)]).toEqual([0n, 11n]);
  });

  it('BPF_F_NO_COMMON_LRU rounds max_entries to a multiple of the CPU count, as Linux', () => {
    const m = mapMachine({ possibleCpus: 4 });
    const map = m.maps.create(lspec({ maxEntries: 5, flags: MapFlags.NO_COMMON_LRU }));
    expect(map.maxEntries).toBe(8);
  });
});

describe('model-based: random user-space operations against a JS model', () => {
  type Op =
    | { op: 'update'; key: number; value: number; flags: number }
    | { op: 'delete'; key: number }
    | { op: 'lookup'; key: number }
    | { op: 'lookupAndDelete'; key: number }
    | { op: 'iterate' };

  const opArb = (keys: number): fc.Arbitrary<Op> => fc.oneof(
    fc.record({ op: fc.constant('update' as const), key: fc.nat(keys), value: fc.nat(), flags: fc.constantFrom(0, 0, 1, 2, 3) }),
    fc.record({ op: fc.constant('delete' as const), key: fc.nat(keys) }),
    fc.record({ op: fc.constant('lookup' as const), key: fc.nat(keys) }),
    fc.record({ op: fc.constant('lookupAndDelete' as const), key: fc.nat(keys) }),
    fc.record({ op: fc.constant('iterate' as const) }),
  );

  const outcome = (fn: () => unknown): unknown => {
    try {
      return { ok: fn() ?? null };
    } catch (err) {
      if (err instanceof MapError) return { err: err.errno };
      throw err;
    }
  };

  it('hash maps (prealloc and not, 4- and 6-byte keys) behave like a Map', () => {
    fc.assert(fc.property(
      fc.array(opArb(12), { maxLength: 80 }), fc.boolean(), fc.constantFrom(4, 6), fc.integer({ min: 1, max: 8 }), fc.nat(),
      (ops, prealloc, keySize, max, seed) => {
        const m = mapMachine();
        const map = m.maps.create(hspec({ keySize, maxEntries: max, hashSeed: seed, flags: prealloc ? 0 : MapFlags.NO_PREALLOC })) as HashMap;
        const model = new Map<number, number>();
        const key = (k: number) => {
          const b = new Uint8Array(keySize);
          b.set(u32(k));
          return b;
        };
        for (const o of ops) {
          let want: unknown;
          let got: unknown;
          switch (o.op) {
            case 'update': {
              const exists = model.has(o.key);
              if (o.flags > 2) want = { err: 'EINVAL' };
              else if (o.flags === 1 && exists) want = { err: 'EEXIST' };
              else if (o.flags === 2 && !exists) want = { err: 'ENOENT' };
              else if (!exists && model.size >= max) want = { err: 'E2BIG' };
              else {
                model.set(o.key, o.value);
                want = { ok: null };
              }
              got = outcome(() => map.update(key(o.key), u64(o.value), o.flags));
              break;
            }
            case 'delete':
              want = model.delete(o.key) ? { ok: null } : { err: 'ENOENT' };
              got = outcome(() => map.delete(key(o.key)));
              break;
            case 'lookup':
              want = { ok: model.has(o.key) ? model.get(o.key)! : null };
              got = outcome(() => {
                const v = map.lookup(key(o.key));
                return v === undefined ? null : Number(readU64(v));
              });
              break;
            case 'lookupAndDelete': {
              const had = model.get(o.key);
              model.delete(o.key);
              want = { ok: had ?? null };
              got = outcome(() => {
                const v = map.lookupAndDelete(key(o.key));
                return v === undefined ? null : Number(readU64(v));
              });
              break;
            }
            case 'iterate': {
              const seen: number[] = [];
              for (let k = map.nextKey(null); k !== undefined; k = map.nextKey(k)) {
                seen.push(readU32(k));
                if (seen.length > 100) break;
              }
              want = { ok: [...model.keys()].sort((a, b) => a - b) };
              got = { ok: [...seen].sort((a, b) => a - b) };
              expect(new Set(seen).size).toBe(seen.length);
              break;
            }
          }
          expect(got).toEqual(want);
          expect(map.count).toBe(model.size);
        }
      },
    ), { numRuns: 300 });
  });

  it('array maps behave like a zero-filled array', () => {
    fc.assert(fc.property(fc.array(opArb(10), { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (ops, max) => {
      const m = mapMachine();
      const map = m.maps.create({ name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: max }) as ArrayMap;
      const model: number[] = new Array(max).fill(0);
      for (const o of ops) {
        let want: unknown;
        let got: unknown;
        switch (o.op) {
          case 'update':
            if (o.flags > 2) want = { err: 'EINVAL' };
            else if (o.key >= max) want = { err: 'E2BIG' };
            else if (o.flags === 1) want = { err: 'EEXIST' };
            else {
              model[o.key] = o.value;
              want = { ok: null };
            }
            got = outcome(() => map.update(u32(o.key), u64(o.value), o.flags));
            break;
          case 'delete':
            want = { err: 'EINVAL' };
            got = outcome(() => map.delete(u32(o.key)));
            break;
          case 'lookup':
            want = { ok: o.key < max ? model[o.key] : null };
            got = outcome(() => {
              const v = map.lookup(u32(o.key));
              return v === undefined ? null : Number(readU64(v));
            });
            break;
          case 'lookupAndDelete':
            want = { err: 'ENOTSUPP' };
            got = outcome(() => map.lookupAndDelete(u32(o.key)));
            break;
          case 'iterate': {
            const seen: number[] = [];
            for (let k = map.nextKey(null); k !== undefined; k = map.nextKey(k)) seen.push(readU32(k));
            want = [...model.keys()];
            got = seen;
            break;
          }
        }
        expect(got).toEqual(want);
      }
    }), { numRuns: 300 });
  });
});
