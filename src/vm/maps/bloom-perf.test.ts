import { describe, expect, it } from 'vitest';
import { BloomFilterMap, bloomBitset } from './bloom.js';
import { PerfBuffer, PerfEventArrayMap } from './perf.js';
import { MapError, MapType } from './types.js';
import type { MapSpec } from './types.js';
import { add, call, exit, ldmap, lddw, mapMachine, mov, movr, run, signed, st, u32, u64 } from '../../../test/support/map-programs.js';

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MapError) return err.errno;
    throw err;
  }
  return 'ok';
}

const bspec = (over: Partial<MapSpec> = {}): MapSpec => ({ name: 'seen', type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 8, maxEntries: 1000, ...over });

describe('bloom filters', () => {
  it('size the bit array like Linux and default to 5 hash functions', () => {
    expect(bloomBitset(1000, 5)).toEqual({ bytes: 8192 / 8 * 1, mask: 8191 }); // 1000*5/5*7 = 7000 -> 8192 bits
    expect(bloomBitset(1, 1)).toEqual({ bytes: 8, mask: 63 });
    expect(bloomBitset(2 ** 31, 5).mask).toBe(0xffffffff);
    const m = mapMachine();
    const map = m.maps.create(bspec()) as BloomFilterMap;
    expect(map.hashFuncs).toBe(5);
    expect((m.maps.create(bspec({ mapExtra: 3n })) as BloomFilterMap).hashFuncs).toBe(3);
  });

  it('have no false negatives and a sane false-positive rate', () => {
    const m = mapMachine();
    const map = m.maps.create(bspec({ hashSeed: 12345 })) as BloomFilterMap;
    for (let i = 0; i < 1000; i++) map.update(null, u64(i * 7919));
    for (let i = 0; i < 1000; i++) expect(map.contains(u64(i * 7919))).toBe(true);
    let fp = 0;
    for (let i = 0; i < 10000; i++) if (map.contains(u64(1e9 + i))) fp++;
    // 8192 bits, 1000 values, k = 5: about 1.6% expected.
    expect(fp / 10000).toBeLessThan(0.05);
  });

  it('work from programs with push and peek (odd value sizes use the byte-wise jhash)', () => {
    const m = mapMachine();
    const map = m.maps.create(bspec({ valueSize: 6, maxEntries: 10 })) as BloomFilterMap;
    const op = (helperId: number, v: number, flags = 0) => [st(8, 10, -8, v), movr(2, 10), add(2, -8), ...(helperId === 87 ? [mov(3, flags)] : []), ldmap(1, map), call(helperId), exit];
    expect(signed(run(m, op(89, 42)))).toBe(-2);
    expect(signed(run(m, op(87, 42)))).toBe(0);
    expect(signed(run(m, op(89, 42)))).toBe(0);
    expect(signed(run(m, op(87, 43, 2)))).toBe(-22);
    expect(map.contains(new Uint8Array([42, 0, 0, 0, 0, 0]))).toBe(true);
    expect(() => run(m, op(88, 42))).toThrow(/cannot pass map_type 30 into func bpf_map_pop_elem#88/);
  });

  it('answer bpf(2) operations as Linux', () => {
    const m = mapMachine();
    const map = m.maps.create(bspec());
    expect(errno(() => map.update(null, u64(1), 1))).toBe('EINVAL');
    expect(errno(() => map.delete(null))).toBe('EOPNOTSUPP');
    expect(errno(() => map.nextKey(null))).toBe('EOPNOTSUPP');
    expect(errno(() => map.lookupAndDelete(null))).toBe('ENOTSUPP');
    expect(errno(() => map.lookup(null))).toBe('EINVAL');
  });
});

describe('perf event arrays', () => {
  const pspec = (over: Partial<MapSpec> = {}): MapSpec => ({ name: 'perf', type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, ...over });

  /** bpf_perf_event_output(ctx, map, flags, r10 - 16, size) with 16 bytes 0x01..; returns the helper result. */
  const output = (map: PerfEventArrayMap, flags: bigint, size: number) => [
    st(8, 10, -16, 0x04030201), st(8, 10, -8, 0x0c0b0a09),
    mov(1, 0), ldmap(2, map), lddw(3, flags), movr(4, 10), add(4, -16), mov(5, size), call(25), exit,
  ];

  it('deliver samples per CPU, in order, padded as perf pads raw samples', () => {
    const m = mapMachine({ possibleCpus: 2 });
    const map = m.maps.create(pspec()) as PerfEventArrayMap;
    const samples: [number, number[]][] = [];
    const buf = new PerfBuffer(map, { onSample: (cpu, data) => samples.push([cpu, [...data]]) });
    expect(signed(run(m, output(map, 0xffffffffn, 5), 1))).toBe(0); // BPF_F_CURRENT_CPU
    expect(signed(run(m, output(map, 0xffffffffn, 2), 0))).toBe(0);
    expect(signed(run(m, output(map, 0n, 1), 0))).toBe(0);
    expect(buf.consume()).toBe(3);
    expect(samples).toEqual([
      [0, [1, 2, 0, 0]],
      [0, [1, 0, 0, 0]],
      [1, [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]],
    ]);
    expect(buf.consume()).toBe(0);
  });

  it('return Linux errors: empty slot, wrong CPU, bad index, bad flags', () => {
    const m = mapMachine({ possibleCpus: 2 });
    const map = m.maps.create(pspec()) as PerfEventArrayMap;
    expect(signed(run(m, output(map, 0xffffffffn, 4)))).toBe(-2); // no event opened: ENOENT
    new PerfBuffer(map);
    expect(signed(run(m, output(map, 1n, 4), 0))).toBe(-95); // CPU 1's event from CPU 0: EOPNOTSUPP
    expect(signed(run(m, output(map, 2n, 4), 0))).toBe(-2); // slot 2: nothing (2 CPUs)
    expect(signed(run(m, output(map, 9n, 4), 0))).toBe(-7); // E2BIG
    expect(signed(run(m, output(map, 1n << 33n, 4), 0))).toBe(-22);
    expect(errno(() => map.lookup(u32(0)))).toBe('ENOTSUPP');
    expect(errno(() => map.update(u32(3), u32(999)))).toBe('EBADF');
    expect(errno(() => map.delete(u32(3)))).toBe('ENOENT');
    map.delete(u32(0));
    expect(signed(run(m, output(map, 0n, 4), 0))).toBe(-2);
  });

  it('count lost samples when a CPU ring is full and report them', () => {
    const m = mapMachine();
    const map = m.maps.create(pspec()) as PerfEventArrayMap;
    const lost: number[] = [];
    let n = 0;
    const buf = new PerfBuffer(map, { pageCount: 1, onSample: () => void n++, onLost: (_cpu, c) => void lost.push(c) });
    // each 16-byte sample takes 8 + 24 = 32 bytes: 128 fit in one page
    let fails = 0;
    for (let i = 0; i < 130; i++) if (signed(run(m, output(map, 0n, 16))) === -28) fails++;
    expect(fails).toBe(2);
    expect(buf.consume()).toBe(128);
    expect(lost).toEqual([2]);
    expect(signed(run(m, output(map, 0n, 16)))).toBe(0);
    buf.close();
    expect(signed(run(m, output(map, 0n, 16)))).toBe(-2);
  });
});
