import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Btf, encodeBtf, parseBtf } from './btf.js';
import { BtfBuilder } from './btf-builder.js';
import { dumpBtf } from './btf-dump.js';
import { contextBtf, CONTEXT_STRUCT_NAMES } from './ctx-btf.js';
import { readElf } from './elf.js';
import { LoaderError } from './loader-error.js';
import { fixture, fixtureObjects, fixturePath, missing, run, tempDir, vmlinuxBytes } from '../../test/support/loader-tools.js';

function objectBtf(name: string): Btf | undefined {
  const elf = readElf(fixture(name), { file: name });
  const s = elf.sections.find((x) => x.name === '.BTF');
  return s ? Btf.parse(s.data, { file: name, section: '.BTF', offset: s.offset }) : undefined;
}

/** `bpftool btf dump file X` for an object or a raw BTF file. */
function bpftoolDump(path: string): string {
  const r = run('bpftool', ['btf', 'dump', 'file', path]);
  expect(r.ok, r.stderr).toBe(true);
  return r.stdout;
}

function expectSameLines(ours: string, theirs: string): void {
  const a = ours.split('\n');
  const b = theirs.split('\n');
  const diffs: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length) && diffs.length < 5; i++) {
    if (a[i] !== b[i]) diffs.push(`line ${i + 1}:\n  tsbpf:   ${a[i]}\n  bpftool: ${b[i]}`);
  }
  expect(diffs).toEqual([]);
  expect(a.length).toBe(b.length);
}

/** Member layout of a struct, flattened through anonymous members. */
function layout(btf: Btf, id: number, prefix = '', base = 0): string[] {
  const t = btf.skipModsAndTypedefs(id);
  if (t.kind !== 'STRUCT' && t.kind !== 'UNION') return [];
  const out: string[] = [`${prefix}<${t.kind.toLowerCase()} size ${t.size} align ${btf.alignOf(t.id)}>`];
  for (const m of t.members) {
    const mt = btf.skipModsAndTypedefs(m.type);
    out.push(`${prefix}${m.name || '(anon)'} @${base + m.bitOffset} bits=${m.bitfieldSize} ${mt.kind} '${mt.name}' size=${btf.tryResolveSize(m.type)}`);
    if (m.name === '') out.push(...layout(btf, m.type, prefix + '  ', base + m.bitOffset));
  }
  return out;
}

describe('BTF parser and raw dump', () => {
  const noBpftool = missing('bpftool');
  const withBtf = fixtureObjects().filter((f) => f !== 'legacy_nobtf.o');

  it.each(withBtf)('%s: the dump is bpftool btf dump file, line for line', (name) => {
    const btf = objectBtf(name)!;
    expect(btf.count).toBeGreaterThan(1);
    if (noBpftool) {
      console.log(`skipped the bpftool comparison: ${noBpftool}`);
      return;
    }
    expectSameLines(dumpBtf(btf), bpftoolDump(fixturePath(name)));
  });

  it('/sys/kernel/btf/vmlinux: parsed, and dumped exactly as bpftool does (every line)', () => {
    const { bytes, reason } = vmlinuxBytes();
    if (!bytes) {
      console.log(`skipped: ${reason}`);
      return;
    }
    const t0 = performance.now();
    const btf = Btf.parse(bytes, { name: 'vmlinux' });
    const ms = performance.now() - t0;
    console.log(`vmlinux: ${btf.count - 1} types parsed in ${ms.toFixed(0)} ms`);
    expect(btf.findByName('task_struct', 'STRUCT')).toBeDefined();
    expect(btf.findByName('bpf_map_type', 'ENUM')).toBeDefined();
    if (noBpftool) {
      console.log(`skipped the bpftool comparison: ${noBpftool}`);
      return;
    }
    expectSameLines(dumpBtf(btf), bpftoolDump('/sys/kernel/btf/vmlinux'));
  });

  it('resolves sizes, alignments, modifiers and member offsets (bitfields too)', () => {
    const btf = objectBtf('maps.o')!;
    const stats = btf.findByName('flow_stats', 'STRUCT')!;
    expect(btf.resolveSize(stats.id)).toBe(56);
    expect(btf.alignOf(stats.id)).toBe(8);
    const kind = btf.fieldOffset(stats.id, ['kind']);
    const level = btf.fieldOffset(stats.id, ['level']);
    expect(kind).toMatchObject({ bitOffset: 160, bitfieldSize: 3 });
    expect(level).toMatchObject({ bitOffset: 164, bitfieldSize: 12 });
    expect(btf.fieldOffset(stats.id, ['inner', 'b']).bitOffset).toBe(btf.fieldOffset(stats.id, ['inner']).bitOffset + 16);
    expect(btf.fieldOffset(stats.id, ['u', 'word']).bitOffset).toBe(btf.fieldOffset(stats.id, ['u']).bitOffset);
    const u32 = btf.findByName('__u32', 'TYPEDEF')!;
    expect(btf.skipModsAndTypedefs(u32.id)).toMatchObject({ kind: 'INT', name: 'unsigned int', size: 4 });
    expect(btf.resolveSize(u32.id)).toBe(4);
    expect(btf.describe(stats.id)).toBe('struct flow_stats');
    expect(() => btf.typeById(btf.count)).toThrow(LoaderError);
  });

  it('vmlinux lookups: sk_buff bitfields inside anonymous unions', () => {
    const { bytes, reason } = vmlinuxBytes();
    if (!bytes) {
      console.log(`skipped: ${reason}`);
      return;
    }
    const btf = Btf.parse(bytes, { name: 'vmlinux' });
    const skb = btf.findByName('sk_buff', 'STRUCT')!;
    const pkt = btf.fieldOffset(skb.id, ['pkt_type']);
    expect(pkt.bitfieldSize).toBe(3);
    expect(Math.floor(pkt.bitOffset / 8)).toBe(128);
    expect(btf.resolveSize(skb.id)).toBe(skb.kind === 'STRUCT' ? skb.size : 0);
  });

  it('split BTF: types and strings continue the base', () => {
    const b = new BtfBuilder('base');
    const int = b.int('int', 4, { signed: true });
    b.struct('base_s', [{ name: 'x', type: int }]);
    const base = b.build();
    // Hand-made split blob: one PTR to base type 1 and one typedef named with a new string.
    const strings = [0, ...new TextEncoder().encode('my_ptr'), 0];
    const types = [0, (2 << 24) >>> 0, int, /* typedef */ base.strings.length + 1, (8 << 24) >>> 0, base.count];
    const out = new Uint8Array(24 + types.length * 4 + strings.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    v.setUint8(2, 1);
    v.setUint32(4, 24, true);
    v.setUint32(12, types.length * 4, true);
    v.setUint32(16, types.length * 4, true);
    v.setUint32(20, strings.length, true);
    types.forEach((w, i) => v.setUint32(24 + i * 4, w, true));
    out.set(strings, 24 + types.length * 4);
    const split = parseBtf(out, { base });
    expect(split.count).toBe(base.count + 2);
    expect(split.typeById(base.count + 1)).toMatchObject({ kind: 'TYPEDEF', name: 'my_ptr', type: base.count });
    expect(split.typeById(1)).toMatchObject({ kind: 'INT', name: 'int' });
    expect(split.findByName('base_s', 'STRUCT')?.id).toBe(2);
    expect(split.resolveSize(base.count + 1)).toBe(8);
    expect(dumpBtf(split).split('\n')[0]).toBe(`[${base.count}] PTR '(anon)' type_id=1`);
  });

  it('rejects malformed BTF with a LoaderError naming the offset', () => {
    const good = encodeBtf(new BtfBuilder().build());
    const b = new BtfBuilder();
    const i = b.int('int', 4, { signed: true });
    b.struct('s', [{ name: 'a', type: i }]);
    const blob = encodeBtf(b.build());
    const patch = (at: number, v: number, width: 1 | 2 | 4 = 4): Uint8Array => {
      const c = blob.slice();
      const dv = new DataView(c.buffer);
      if (width === 1) dv.setUint8(at, v);
      else if (width === 2) dv.setUint16(at, v, true);
      else dv.setUint32(at, v, true);
      return c;
    };
    const cases: [Uint8Array, RegExp][] = [
      [blob.subarray(0, 10), /header not found/],
      [patch(0, 0x1234, 2), /invalid magic/],
      [patch(0, 0x9feb, 2), /big-endian BTF/],
      [patch(2, 2, 1), /unsupported version 2/],
      [patch(4, 4), /header length 4/],
      [patch(20, 1 << 20), /string section .* extends past the end/],
      [patch(12, 1 << 20), /type section .* overlaps the string section/],
      [patch(8, 2), /not aligned to 4 bytes|overlaps/],
      [patch(24, 9999), /string offset 9999 is outside the string section/],
      [patch(24 + 4, (25 << 24) >>> 0), /unsupported BTF kind 25/],
      [patch(24 + 16 + 12 + 4, 77), /refers to type \[77\]/],
      [patch(24 + 16 + 4, ((4 << 24) | 300) >>> 0), /truncated/],
      [good.subarray(0, good.length - 1), /string section/],
    ];
    for (const [bytes, re] of cases) {
      let err: unknown;
      try {
        parseBtf(bytes, { file: 'bad.o', section: '.BTF', offset: 100 });
      } catch (e) {
        err = e;
      }
      expect(err, String(re)).toBeInstanceOf(LoaderError);
      expect((err as Error).message).toMatch(re);
      expect((err as LoaderError).location).toMatchObject({ file: 'bad.o', section: '.BTF' });
    }
  });
});

describe('BTF builder', () => {
  const noClang = missing('clang-19');

  it('lays out structs, unions and bitfields exactly as clang does', () => {
    const b = new BtfBuilder('test');
    const u8 = b.int('unsigned char', 1);
    const u16 = b.int('unsigned short', 2);
    const u32 = b.int('unsigned int', 4);
    const s32 = b.int('int', 4, { signed: true });
    const u64 = b.int('unsigned long long', 8);
    const chr = b.int('char', 1, { signed: true });
    const bits = b.struct('bits', [
      { name: 'a', type: u8 }, { name: 'k', type: u32, bits: 3 }, { name: 'l', type: u32, bits: 12 },
      { name: 'm', type: s32, bits: 20 }, { name: 'c', type: u16 }, { name: 'w', type: u64, bits: 33 },
      { name: 'tail', type: u8 },
    ]);
    const inner = b.union('', [{ name: 'x', type: u32 }, { name: 'y', type: b.array(u8, 6) }]);
    b.struct('mixed', [
      { name: 'c', type: chr }, { name: 'p', type: b.ptr(bits) }, { name: 'arr', type: b.array(b.array(u16, 3), 2) },
      { name: '', type: inner }, { name: 'last', type: u8 },
    ]);
    b.struct('packed_s', [{ name: 'a', type: u8 }, { name: 'b', type: u32 }, { name: 'c', type: u16 }], { packed: true });
    const ours = b.build();
    if (noClang) {
      console.log(`skipped the clang comparison: ${noClang}`);
      expect(ours.resolveSize(ours.findByName('bits', 'STRUCT')!.id)).toBe(16);
      return;
    }
    const dir = tempDir();
    writeFileSync(join(dir, 'l.c'), `
      struct bits { unsigned char a; unsigned int k:3, l:12; int m:20; unsigned short c; unsigned long long w:33; unsigned char tail; };
      struct mixed { char c; struct bits *p; unsigned short arr[2][3]; union { unsigned int x; unsigned char y[6]; }; unsigned char last; };
      struct __attribute__((packed)) packed_s { unsigned char a; unsigned int b; unsigned short c; };
      struct bits g1; struct mixed g2; struct packed_s g3;`);
    const r = run('clang-19', ['-g', '-O2', '-target', 'bpf', '-c', 'l.c', '-o', 'l.o'], { cwd: dir });
    expect(r.ok, r.stderr).toBe(true);
    const clang = Btf.parse(readElf(new Uint8Array(readBytes(join(dir, 'l.o')))).sections.find((s) => s.name === '.BTF')!.data);
    for (const n of ['bits', 'mixed', 'packed_s']) {
      expect(layout(ours, ours.findByName(n, 'STRUCT')!.id), n).toEqual(layout(clang, clang.findByName(n, 'STRUCT')!.id));
    }
  });

  it('encodes BTF that bpftool reads back as the same types', () => {
    const btf = contextBtf();
    const bytes = encodeBtf(btf);
    expect(dumpBtf(parseBtf(bytes))).toBe(dumpBtf(btf));
    const nob = missing('bpftool');
    if (nob) {
      console.log(`skipped the bpftool comparison: ${nob}`);
      return;
    }
    const dir = tempDir();
    writeFileSync(join(dir, 'ctx.btf'), bytes);
    expectSameLines(dumpBtf(btf), bpftoolDump(join(dir, 'ctx.btf')));
  });

  it('covers every kind and refuses undefined declarations', () => {
    const b = new BtfBuilder();
    const i = b.int('int', 4, { signed: true });
    const node = b.declare('struct', 'node');
    b.define(node, [{ name: 'next', type: b.ptr(node) }, { name: 'v', type: i }]);
    const e = b.enum('e', [['A', -1], ['B', 2]]);
    b.enum64('e64', [['BIG', 1n << 40n]]);
    b.fwd('later', true);
    const proto = b.funcProto(i, [{ name: 'x', type: i }]);
    const f = b.func('f', proto);
    b.declTag('tag', f, -1);
    b.typeTag('user', b.ptr(0));
    b.float('double', 8);
    b.const(b.volatile(b.restrict(b.ptr(i))));
    const v = b.variable('g', i);
    b.datasec('.data', [{ type: v, offset: 0, size: 4 }]);
    b.typedef('e_t', e);
    const btf = b.build();
    const kinds = new Set([...btf.types()].map((t) => t.kind));
    for (const k of ['INT', 'PTR', 'ARRAY', 'STRUCT', 'ENUM', 'ENUM64', 'FWD', 'FUNC', 'FUNC_PROTO', 'DECL_TAG', 'TYPE_TAG', 'FLOAT', 'CONST', 'VOLATILE', 'RESTRICT', 'VAR', 'DATASEC', 'TYPEDEF']) {
      if (k !== 'ARRAY') expect(kinds.has(k as never), k).toBe(true);
    }
    expect(btf.resolveSize(node)).toBe(16);
    const b2 = new BtfBuilder();
    b2.declare('struct', 'never');
    expect(() => b2.build()).toThrow(/declared but never defined: struct never/);
  });
});

describe('context BTF (the default CO-RE target)', () => {
  it('matches clang\'s BTF of the Linux UAPI headers for every context structure', () => {
    const nc = missing('clang-19');
    const ours = contextBtf();
    expect(ours.resolveSize(ours.findByName('__sk_buff', 'STRUCT')!.id)).toBe(192);
    expect(ours.resolveSize(ours.findByName('xdp_md', 'STRUCT')!.id)).toBe(24);
    expect(ours.resolveSize(ours.findByName('pt_regs', 'STRUCT')!.id)).toBe(168);
    if (nc) {
      console.log(`skipped the clang comparison: ${nc}`);
      return;
    }
    const dir = tempDir();
    writeFileSync(join(dir, 'ctx.c'), `#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/seccomp.h>
#include <asm/ptrace.h>
#include <linux/bpf_perf_event.h>
${CONTEXT_STRUCT_NAMES.map((n, k) => `struct ${n} v${k};`).join('\n')}
`);
    const r = run('clang-19', ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`, '-c', 'ctx.c', '-o', 'ctx.o'], { cwd: dir });
    expect(r.ok, r.stderr).toBe(true);
    const clang = Btf.parse(readElf(new Uint8Array(readBytes(join(dir, 'ctx.o')))).sections.find((s) => s.name === '.BTF')!.data);
    for (const n of CONTEXT_STRUCT_NAMES) {
      expect(layout(ours, ours.findByName(n, 'STRUCT')!.id), n).toEqual(layout(clang, clang.findByName(n, 'STRUCT')!.id));
    }
  });
});

function readBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
