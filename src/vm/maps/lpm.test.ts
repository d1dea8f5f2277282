import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lpmKey, LpmTrieMap } from './lpm.js';
import { MapError, MapFlags, MapType, UpdateFlags } from './types.js';
import type { MapSpec } from './types.js';
import { add, call, exit, jmp, ldmap, ldx, mapMachine, mov, movr, readU32, run, st, stx, u32 } from '../../../test/support/map-programs.js';

const v4spec = (over: Partial<MapSpec> = {}): MapSpec => ({ name: 'routes', type: MapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 64, flags: MapFlags.NO_PREALLOC, ...over });
const ip4 = (s: string) => s.split('.').map(Number);
const k4 = (s: string, plen: number) => lpmKey(plen, ip4(s));
const ip6 = (s: string): number[] => {
  const [head, tail] = s.split('::') as [string, string | undefined];
  const parse = (p: string | undefined) => (p ? p.split(':').map((x) => parseInt(x, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  const words = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return words.flatMap((w) => [w >> 8, w & 255]);
};
const k6 = (s: string, plen: number) => lpmKey(plen, ip6(s));

function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MapError) return err.errno;
    throw err;
  }
  return 'ok';
}

const val = (map: LpmTrieMap, key: Uint8Array) => {
  const v = map.lookup(key);
  return v === undefined ? undefined : readU32(v);
};

/** The kernel documentation's example trie (kernel/bpf/lpm_trie.c). */
function exampleTrie() {
  const m = mapMachine();
  const map = m.maps.create(v4spec()) as LpmTrieMap;
  map.update(k4('192.168.0.0', 16), u32(1));
  map.update(k4('192.168.0.0', 24), u32(2));
  map.update(k4('192.168.128.0', 24), u32(3));
  map.update(k4('192.168.1.0', 24), u32(5));
  return { m, map };
}

describe('LPM tries', () => {
  it('find the longest matching prefix (IPv4)', () => {
    const { map } = exampleTrie();
    expect(val(map, k4('192.168.0.1', 32))).toBe(2);
    expect(val(map, k4('192.168.1.1', 32))).toBe(5);
    expect(val(map, k4('192.168.2.1', 32))).toBe(1);
    expect(val(map, k4('192.168.128.9', 32))).toBe(3);
    expect(val(map, k4('10.0.0.1', 32))).toBeUndefined();
    expect(val(map, k4('192.168.1.1', 20))).toBe(1); // a shorter lookup prefix matches less specific entries only
    map.update(k4('0.0.0.0', 0), u32(100)); // default route
    expect(val(map, k4('10.0.0.1', 32))).toBe(100);
    map.update(k4('192.168.1.7', 32), u32(7)); // a host route
    expect(val(map, k4('192.168.1.7', 32))).toBe(7);
    expect(val(map, k4('192.168.1.8', 32))).toBe(5);
    expect(map.count).toBe(6);
  });

  it('iterate in the kernel\'s post-order: more specific prefixes first', () => {
    const { map } = exampleTrie();
    const keys = () => map.entries().map((e) => `${e.key.slice(4).join('.')}/${readU32(e.key)}`);
    expect(keys()).toEqual(['192.168.0.0/24', '192.168.1.0/24', '192.168.128.0/24', '192.168.0.0/16']);
    map.update(k4('0.0.0.0', 0), u32(0));
    expect(keys().at(-1)).toBe('0.0.0.0/0');
    expect(map.nextKey(null)).toEqual(k4('192.168.0.0', 24));
    expect(map.nextKey(k4('192.168.1.0', 24))).toEqual(k4('192.168.128.0', 24));
    expect(map.nextKey(k4('0.0.0.0', 0))).toBeUndefined();
    expect(map.nextKey(k4('172.16.0.0', 12))).toEqual(k4('192.168.0.0', 24)); // a missing key restarts
  });

  it('delete exact prefixes only and keep the trie consistent', () => {
    const { map } = exampleTrie();
    expect(errno(() => map.delete(k4('192.168.0.0', 23)))).toBe('ENOENT'); // the intermediate node is not an element
    map.delete(k4('192.168.0.0', 16));
    expect(val(map, k4('192.168.2.1', 32))).toBeUndefined();
    expect(val(map, k4('192.168.1.1', 32))).toBe(5);
    map.delete(k4('192.168.0.0', 24));
    map.delete(k4('192.168.1.0', 24));
    expect(map.entries().length).toBe(1);
    expect(errno(() => map.delete(k4('192.168.1.0', 24)))).toBe('ENOENT');
    expect(errno(() => map.delete(k4('192.168.1.0', 33)))).toBe('EINVAL');
    map.delete(k4('192.168.128.0', 24));
    expect(map.entries()).toEqual([]);
    expect(map.nextKey(null)).toBeUndefined();
  });

  it('honour update flags and max_entries (ENOSPC), with in-place updates when full', () => {
    const m = mapMachine();
    const map = m.maps.create(v4spec({ maxEntries: 2 })) as LpmTrieMap;
    map.update(k4('10.0.0.0', 8), u32(1));
    expect(errno(() => map.update(k4('10.0.0.0', 8), u32(2), UpdateFlags.NOEXIST))).toBe('EEXIST');
    expect(errno(() => map.update(k4('11.0.0.0', 8), u32(2), UpdateFlags.EXIST))).toBe('ENOENT');
    map.update(k4('10.0.0.0', 8), u32(3), UpdateFlags.EXIST);
    map.update(k4('12.0.0.0', 8), u32(4));
    expect(errno(() => map.update(k4('13.0.0.0', 8), u32(5)))).toBe('ENOSPC');
    map.update(k4('12.0.0.0', 8), u32(6));
    expect(val(map, k4('12.1.2.3', 32))).toBe(6);
    expect(errno(() => map.update(k4('13.0.0.0', 33), u32(5)))).toBe('EINVAL');
    expect(errno(() => map.update(k4('13.0.0.0', 8), u32(5), 3))).toBe('EINVAL');
    expect(map.lookup(k4('10.0.0.0', 40))).toBeUndefined();
  });

  it('handles IPv6 prefixes', () => {
    const m = mapMachine();
    const map = m.maps.create(v4spec({ name: 'v6', keySize: 20 })) as LpmTrieMap;
    expect(map.maxPrefixlen).toBe(128);
    map.update(k6('2001:db8::', 32), u32(1));
    map.update(k6('2001:db8:1::', 48), u32(2));
    map.update(k6('2001:db8:1:2::1', 128), u32(3));
    map.update(k6('::', 0), u32(9));
    expect(val(map, k6('2001:db8:1:2::1', 128))).toBe(3);
    expect(val(map, k6('2001:db8:1:2::2', 128))).toBe(2);
    expect(val(map, k6('2001:db8:ffff::1', 128))).toBe(1);
    expect(val(map, k6('fe80::1', 128))).toBe(9);
    expect(map.entries().map((e) => readU32(e.key))).toEqual([128, 48, 32, 0]);
  });

  it('programs look up with bpf_map_lookup_elem and may update the value in place', () => {
    const { m, map } = exampleTrie();
    // key on the stack: prefixlen 32, 192.168.1.9 (data bytes in network order)
    const prog = [
      st(4, 10, -8, 32), st(4, 10, -4, 0x0901a8c0),
      movr(2, 10), add(2, -8), ldmap(1, map), call(1),
      jmp('jne', 0, 0, 2), mov(0, -1), exit,
      ldx(4, 1, 0, 0), add(1, 10), stx(4, 0, 0, 1), movr(0, 1), exit,
    ];
    expect(run(m, prog)).toBe(15n);
    expect(val(map, k4('192.168.1.0', 24))).toBe(15);
  });

  it('agree with a brute-force longest-prefix model under random operations', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ del: fc.boolean(), plen: fc.integer({ min: 0, max: 16 }), addr: fc.integer({ min: 0, max: 0xffff }), value: fc.nat() }), { maxLength: 60 }),
      fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }),
      (ops, probes) => {
        const m = mapMachine();
        const map = m.maps.create(v4spec({ keySize: 6, maxEntries: 1000 })) as LpmTrieMap;
        const model = new Map<string, { plen: number; addr: number; value: number }>();
        const norm = (addr: number, plen: number) => (plen === 0 ? 0 : (addr >>> (16 - plen)) << (16 - plen));
        const key = (addr: number, plen: number) => lpmKey(plen, [addr >> 8, addr & 255]);
        for (const o of ops) {
          const id = `${norm(o.addr, o.plen)}/${o.plen}`;
          if (o.del) {
            const want = model.delete(id) ? 'ok' : 'ENOENT';
            expect(errno(() => map.delete(key(o.addr, o.plen)))).toBe(want);
          } else {
            map.update(key(o.addr, o.plen), u32(o.value));
            model.set(id, { plen: o.plen, addr: o.addr, value: o.value });
          }
        }
        for (const p of probes) {
          let best: { plen: number; value: number } | undefined;
          for (const e of model.values()) {
            if (norm(p, e.plen) === norm(e.addr, e.plen) && (best === undefined || e.plen > best.plen)) best = e;
          }
          expect(val(map, key(p, 16))).toBe(best?.value);
        }
        const listed = map.entries().map((e) => `${norm((e.key[4]! << 8) | e.key[5]!, readU32(e.key))}/${readU32(e.key)}`);
        expect(new Set(listed)).toEqual(new Set(model.keys()));
        expect(listed.length).toBe(model.size);
        expect(map.count).toBe(model.size);
      },
    ), { numRuns: 200 });
  });
});
