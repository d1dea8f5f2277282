import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BtfBuilder } from './btf-builder.js';
import { parseObject } from './object.js';
import type { ObjectMapSpec, ObjectSpec } from './spec.js';
import { fixture, fixturePath, kernelUnavailable, libbpfLoad, run } from '../../test/support/loader-tools.js';
import type { FormattedValue } from './value-format.js';
import { formatBtfValue, formatMapEntry, formattedToJs, formattedToJson, isPerCpuMapType, mapDumpEntry } from './value-format.js';

/** A small seeded generator (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const hexArgs = (b: Uint8Array): string[] => [...b].map((x) => x.toString(16).padStart(2, '0'));

interface DumpEntry {
  key: string[];
  value?: string[];
  values?: { cpu: number; value: string[] }[];
}

const bytesOf = (h: string[]): Uint8Array => Uint8Array.from(h.map((x) => parseInt(x, 16)));

/** Our text for what bpftool dumped: same entries, same bytes, formatted by tsbpf. */
function oursFor(map: ObjectMapSpec, spec: ObjectSpec, entries: DumpEntry[], plain: boolean): string {
  const items: FormattedValue[] = entries.map((e) => {
    const key = bytesOf(e.key);
    let value: Uint8Array;
    let cpus = 1;
    if (e.values) {
      const step = Math.ceil(map.valueSize / 8) * 8;
      cpus = e.values.length;
      value = new Uint8Array(step * cpus);
      e.values.forEach((v, i) => value.set(bytesOf(v.value), i * step));
    } else {
      value = bytesOf(e.value!);
    }
    return plain ? formatMapEntry(spec.btf!, map, key, value, { plainText: true, cpus }) : mapDumpEntry(map, key, value, spec.btf, cpus);
  });
  return formattedToJson({ kind: 'array', items }, { pretty: true }) + '\n';
}

describe('formatting values with BTF (bpftool map dump)', () => {
  it('formats every kind the way btf_dumper does', () => {
    const b = new BtfBuilder();
    const u8 = b.int('unsigned char', 1);
    const chr = b.int('char', 1, { signed: true });
    const s16 = b.int('short', 2, { signed: true });
    const u64 = b.int('unsigned long long', 8);
    const bool = b.int('_Bool', 1, { bool: true });
    const e = b.enum('e', [['A', 1], ['B', -2]], { signed: true });
    const e64 = b.enum64('e64', [['BIG', 1n << 40n]]);
    const s = b.struct('s', [
      { name: 'name', type: b.array(chr, 4) }, { name: 'raw', type: b.array(u8, 2) }, { name: 'x', type: s16 },
      { name: 'f', type: u8, bits: 3 }, { name: 'g', type: u8, bits: 5 }, { name: 'big', type: u64 }, { name: 'e', type: e },
      { name: 'p', type: b.ptr(0) }, { name: 'ok', type: bool }, { name: 'e64', type: e64 }, { name: 'i128', type: b.int('__int128', 16, { signed: true }) },
    ]);
    const btf = b.build();
    const data = new Uint8Array(btf.resolveSize(s));
    const v = new DataView(data.buffer);
    const at = (n: string): number => btf.fieldOffset(s, [n]).bitOffset / 8;
    data.set([0x68, 0x69, 0, 0x7f], at('name'));
    data.set([7, 255], at('raw'));
    v.setInt16(at('x'), -3, true);
    data[Math.floor(at('f'))] = 0b10101_110;
    v.setBigUint64(at('big'), 0xffffffffffffffffn, true);
    v.setInt32(at('e'), -2, true);
    v.setBigUint64(at('p'), 0n, true);
    data[at('ok')] = 2;
    v.setBigUint64(at('e64'), 5n, true);
    v.setBigUint64(at('i128'), 0x10n, true);
    v.setBigUint64(at('i128') + 8, 1n, true);
    const f = formatBtfValue(btf, s, data);
    expect(formattedToJson(f)).toBe('{"name":"hi","raw":[7,255],"x":-3,"f":"0x6","g":"0x15","big":18446744073709551615,"e":"B","p":0,"ok":true,"e64":5,"i128":"0x10000000000000010"}');
    expect(formattedToJson(formatBtfValue(btf, s, data, { plainText: true }))).toBe('{"name":"hi","raw":[7,255],"x":-3,"f":0x6,"g":0x15,"big":18446744073709551615,"e":"B","p":(nil),"ok":true,"e64":5,"i128":0x10000000000000010}');
    expect(formattedToJs(f)).toMatchObject({ name: 'hi', raw: [7, 255], x: -3, big: 18446744073709551615n, ok: true, f: '0x6' });
    expect(formattedToJson(f, { pretty: true })).toMatch(/^\{\n {4}"name": "hi",\n {4}"raw": \[7,255\n {4}\],/);
    expect(isPerCpuMapType(6)).toBe(true);
  });

  const cases: [string, string[]][] = [
    ['maps.o', ['flows', 'percpu_counts', 'routes', 'inner_a', 'maps.rodata', 'lru_sized']],
    ['globals_11.o', ['globals_.data', 'globals_.rodata', '.data.table', '.rodata.config', 'globals_.bss', 'globals.kconfig']],
  ];
  it.each(cases)('%s: bpftool -j map dump and bpftool map dump print what tsbpf formats', (name, mapNames) => {
    const why = kernelUnavailable();
    const spec = parseObject(fixture(name), { name });
    for (const n of mapNames) expect(spec.maps.some((m) => m.name === n), n).toBe(true);
    if (why) {
      console.log(`skipped: ${why}`);
      return;
    }
    const next = rng(12345);
    let compared = 0;
    const load = libbpfLoad(fixturePath(name), (dir) => {
      const pinned = (m: ObjectMapSpec): string => join(dir, 'maps', m.name.replace(/\./g, '_'));
      const flows = spec.maps.find((m) => m.name === 'flows');
      if (flows) {
        for (let i = 0; i < 20; i++) {
          const key = Uint8Array.from({ length: flows.keySize }, () => next() & 0xff);
          const value = Uint8Array.from({ length: flows.valueSize }, () => {
            const r = next() & 0xff;
            return r === 0x22 || r === 0x27 || r === 0x5c ? 0x41 : r;
          });
          if (i % 3 === 0) value.set([0x61, 0x62, 0x63, 0, 0, 0], 32); // name = "abc"
          const r = run('bpftool', ['map', 'update', 'pinned', pinned(flows), 'key', 'hex', ...hexArgs(key), 'value', 'hex', ...hexArgs(value)]);
          expect(r.ok, r.stderr).toBe(true);
        }
      }
      const routes = spec.maps.find((m) => m.name === 'routes');
      if (routes) {
        const r = run('bpftool', ['map', 'update', 'pinned', pinned(routes), 'key', 'hex', '18', '00', '00', '00', '0a', '01', '02', '00', 'value', 'hex', '2a', '00', '00', '00']);
        expect(r.ok, r.stderr).toBe(true);
      }
      for (const n of mapNames) {
        const m = spec.maps.find((x) => x.name === n)!;
        const json = run('bpftool', ['-j', '-p', 'map', 'dump', 'pinned', pinned(m)]);
        expect(json.ok, json.stderr).toBe(true);
        const entries = JSON.parse(json.stdout) as DumpEntry[];
        expect(oursFor(m, spec, entries, false), `${n} (-j)`).toBe(json.stdout);
        if (m.btfKeyTypeId || m.btfValueTypeId) {
          const plain = run('bpftool', ['map', 'dump', 'pinned', pinned(m)]);
          expect(plain.ok, plain.stderr).toBe(true);
          expect(oursFor(m, spec, entries, true), `${n} (plain)`).toBe(plain.stdout.replace(/Found \d+ elements?\n$/, ''));
        }
        compared++;
      }
    });
    expect(load.ok, load.stderr.slice(-2000)).toBe(true);
    expect(compared).toBe(mapNames.length);
  });
});
