import { describe, expect, it } from 'vitest';
import { TsbpfError } from '../errors.js';
import { readElf } from './elf.js';
import { LoaderError } from './loader-error.js';
import { linkObjects } from './linker.js';
import { parseObject } from './object.js';
import { fixture, fixtureObjects } from '../../test/support/loader-tools.js';

/** A seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Byte ranges worth hitting more often: headers, tables, BTF, relocations, code. */
function regions(bytes: Uint8Array): [number, number][] {
  const elf = readElf(bytes);
  const out: [number, number][] = [[0, 64], [elf.header.shoff, elf.header.shoff + elf.header.shnum * 64]];
  for (const s of elf.sections) {
    if (s.type === 8 || s.size === 0) continue;
    if (s.name === '.BTF' || s.name === '.BTF.ext' || s.type === 2 || s.type === 9 || (s.flags & 4) || s.name === '.maps' || s.name === 'maps') {
      out.push([s.offset, s.offset + s.size]);
    }
  }
  return out;
}

function mutate(base: Uint8Array, next: () => number, hot: [number, number][]): Uint8Array {
  const pick = (): number => {
    if (next() < 0.6 && hot.length) {
      const [a, b] = hot[Math.floor(next() * hot.length)]!;
      return Math.min(base.length - 1, a + Math.floor(next() * Math.max(1, b - a)));
    }
    return Math.floor(next() * base.length);
  };
  const r = next();
  if (r < 0.15) return base.slice(0, Math.floor(next() * base.length));
  const out = base.slice();
  if (r < 0.3) {
    // A 32-bit field replaced by an extreme value.
    const at = pick() & ~3;
    const vals = [0, 0xffffffff, 0x7fffffff, 0x80000000, 1, out.length, out.length + 8, 0x10000];
    if (at + 4 <= out.length) new DataView(out.buffer).setUint32(at, vals[Math.floor(next() * vals.length)]!, true);
    return out;
  }
  const flips = 1 + Math.floor(next() * 8);
  for (let i = 0; i < flips; i++) {
    const at = pick();
    out[at] = next() < 0.5 ? out[at]! ^ (1 << Math.floor(next() * 8)) : Math.floor(next() * 256);
  }
  return out;
}

describe('malformed objects', () => {
  it('truncated files are LoaderErrors naming the file', () => {
    for (const name of ['globals.o', 'maps.o', 'core.o']) {
      const bytes = fixture(name);
      for (let len = 0; len < bytes.length; len += Math.max(1, Math.floor(bytes.length / 97))) {
        try {
          parseObject(bytes.subarray(0, len), { name });
        } catch (e) {
          expect(e, `${name} cut at ${len}`).toBeInstanceOf(LoaderError);
          expect((e as LoaderError).location.file).toBe(name);
          continue;
        }
      }
    }
  });

  it('a missing symbol table, strong unknown sections, bad BTF are clear errors', () => {
    const bytes = fixture('subprogs.o').slice();
    const elf = readElf(bytes);
    const dv = new DataView(bytes.buffer);
    // Turn the symbol table into a PROGBITS section: "stripped object".
    const b1 = bytes.slice();
    new DataView(b1.buffer).setUint32(elf.header.shoff + elf.symtabIndex * 64 + 4, 1, true);
    expect(() => parseObject(b1, { name: 's.o' })).toThrow(/couldn't find symbol table|not to the symbol table/);
    // BTF with a type section running past its strings.
    const btf = elf.sections.find((s) => s.name === '.BTF')!;
    const b2 = bytes.slice();
    new DataView(b2.buffer).setUint32(btf.offset + 12, 0x7fffff, true);
    let err: unknown;
    try {
      parseObject(b2, { name: 's.o' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoaderError);
    expect((err as LoaderError).location).toMatchObject({ file: 's.o', section: '.BTF' });
    expect((err as Error).message).toMatch(/type section .* overlaps the string section/);
    void dv;
  });

  it('fuzz: at least 10,000 random byte flips and truncations of the fixtures, every failure a clear TsbpfError', () => {
    const names = fixtureObjects();
    const bases = names.map((n) => ({ name: n, bytes: fixture(n), hot: regions(fixture(n)) }));
    const next = rng(0x5eed);
    const total = 10_500;
    let parsed = 0;
    let rejected = 0;
    let slowest = 0;
    const messages = new Map<string, number>();
    for (let i = 0; i < total; i++) {
      const base = bases[i % bases.length]!;
      const bytes = mutate(base.bytes, next, base.hot);
      const t0 = performance.now();
      try {
        if (base.name === 'link_a.o' && i % 2 === 0) linkObjects([{ bytes, name: 'a.o' }, { bytes: fixture('link_b.o'), name: 'b.o' }, { bytes: fixture('link_c.o'), name: 'c.o' }]);
        else parseObject(bytes, { name: `fuzz-${i}.o` });
        parsed++;
      } catch (e) {
        if (!(e instanceof TsbpfError)) {
          throw new Error(`mutation ${i} of ${base.name}: not a TsbpfError: ${(e as Error)?.stack ?? String(e)}`);
        }
        expect(e.reason.length).toBeGreaterThan(5);
        rejected++;
        const key = e.reason.replace(/\d+/g, 'N').replace(/'[^']*'/g, "'X'").slice(0, 60);
        messages.set(key, (messages.get(key) ?? 0) + 1);
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    console.log(`fuzzed ${total} objects: ${parsed} parsed, ${rejected} rejected with clear errors (${messages.size} distinct messages; slowest ${slowest.toFixed(0)} ms)`);
    expect(parsed + rejected).toBe(total);
    expect(slowest).toBeLessThan(5000);
  });
});
