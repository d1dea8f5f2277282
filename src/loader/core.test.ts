import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Btf, encodeBtf } from './btf.js';
import { BtfBuilder } from './btf-builder.js';
import { CORE_POISON_IMM, essentialName, essentialNameLength } from './core.js';
import { parseObject } from './object.js';
import { fixture, fixturePath, kernelUnavailable, libbpfLoad, missing, run, tempDir, vmlinuxBytes } from '../../test/support/loader-tools.js';

const CORE_LINE = /^(CO-RE relocating|prog '[^']*': relo #|sec '[^']*': found \d+ CO-RE)/;

/** libbpf's CO-RE decisions for core.o against a target BTF file (bpftool gen min_core_btf runs them). */
function libbpfCoreLines(targetPath: string): { ok: boolean; lines: string[]; stderr: string } {
  const out = join(tempDir(), 'min.btf');
  const r = run('bpftool', ['-d', 'gen', 'min_core_btf', targetPath, out, fixturePath('core.o')]);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('libbpf: ')).map((l) => l.slice(8)).filter((l) => /^(CO-RE relocating|prog '[^']*': relo #)/.test(l));
  return { ok: r.ok, lines, stderr: r.stderr };
}

/** Our lines in min_core_btf's form: programs named by section, no patch lines. */
function oursAsMinCore(log: string[], names: Record<string, string>): string[] {
  return log.filter((l) => /^(CO-RE relocating|prog '[^']*': relo #)/.test(l))
    .filter((l) => !/: (patched insn|substituting insn)/.test(l))
    .map((l) => l.replace(/^prog '([^']*)'/, (_m, p: string) => `prog '${names[p] ?? p}'`));
}

const PROG_SECTIONS = { core_reads: 'kprobe/do_nanosleep', core_ctx: 'tc' };

function insnAt(insns: Uint8Array, slot: number): { code: number; off: number; imm: number; imm2: number } {
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  return { code: v.getUint8(slot * 8), off: v.getInt16(slot * 8 + 2, true), imm: v.getInt32(slot * 8 + 4, true), imm2: slot * 8 + 12 < insns.length ? v.getInt32(slot * 8 + 12, true) : 0 };
}

/** A target where everything sits elsewhere: other offsets, sizes, bitfield positions, enum values, flavors. */
function shuffledTarget(): Btf {
  const b = new BtfBuilder('custom');
  const int = b.int('int', 4, { signed: true });
  const uint = b.int('unsigned int', 4);
  const ulong = b.int('unsigned long', 8);
  const u8 = b.int('unsigned char', 1);
  const u16 = b.int('unsigned short', 2);
  const char = b.int('char', 1, { signed: true });
  const task = b.declare('struct', 'task_struct___v2');
  b.define(task, [
    { name: 'flags', type: ulong }, { name: 'comm', type: b.array(char, 32) }, { name: 'tgid', type: int },
    { name: 'pid', type: int }, { name: 'real_parent', type: b.ptr(task) }, { name: '__state', type: uint },
  ]);
  b.struct('sk_buff', [
    { name: 'len', type: uint }, { name: 'protocol', type: u16 },
    { name: '', type: b.struct('', [{ name: 'ignore_df', type: u8, bits: 2 }, { name: 'pkt_type', type: u8, bits: 4 }, { name: 'csum_level', type: u8, bits: 2 }, { name: 'ip_summed', type: u16, bits: 5 }]) },
  ]);
  b.enum('bpf_map_type', [['BPF_MAP_TYPE_UNSPEC', 0], ['BPF_MAP_TYPE_ARRAY', 5], ['BPF_MAP_TYPE_RINGBUF', 7], ['BPF_MAP_TYPE_HASH', 9]]);
  const u32 = b.typedef('__u32', uint);
  b.struct('__sk_buff', [{ name: 'mark', type: u32 }, { name: 'cb', type: b.array(u32, 8) }, { name: 'len', type: u32 }, { name: 'pkt_type', type: u32 }]);
  return b.build();
}

describe('CO-RE relocations', () => {
  it('flavors: the essential name ends at the last ___ between non-underscores', () => {
    expect(essentialName('task_struct___v2')).toBe('task_struct');
    expect(essentialName('a___b___c')).toBe('a___b');
    expect(essentialName('__x___')).toBe('__x___');
    expect(essentialName('x____y')).toBe('x____y');
    expect(essentialNameLength('plain')).toBe(5);
  });

  it('against /sys/kernel/btf/vmlinux: every decision and patch is libbpf\'s (bpftool -d prog loadall)', () => {
    const { bytes, reason } = vmlinuxBytes();
    if (!bytes) {
      console.log(`skipped: ${reason}`);
      return;
    }
    const vmlinux = Btf.parse(bytes, { name: 'vmlinux' });
    const spec = parseObject(fixture('core.o'), { name: 'core.o', coreTarget: vmlinux });
    const ours = spec.log.filter((l) => CORE_LINE.test(l));
    expect(ours.length).toBeGreaterThan(100);
    const reads = spec.programs.find((p) => p.name === 'core_reads')!;
    // relo #31 (byte_off of the missing task_struct___old.state) poisons its load.
    expect(insnAt(reads.insns, 107)).toMatchObject({ code: 0x85, imm: CORE_POISON_IMM });
    const why = kernelUnavailable();
    if (why) {
      console.log(`skipped the libbpf comparison: ${why}`);
      return;
    }
    const load = libbpfLoad(fixturePath('core.o'));
    expect(load.ok, load.stderr.slice(-2000)).toBe(true);
    expect(ours).toEqual(load.lines.filter((l) => CORE_LINE.test(l)));
  });

  it('against a custom target: same candidates, specs and matches as libbpf (bpftool gen min_core_btf)', () => {
    const target = shuffledTarget();
    const spec = parseObject(fixture('core.o'), { name: 'core.o', coreTarget: target, coreTargetName: 'vmlinux' });
    const reads = spec.programs.find((p) => p.name === 'core_reads')!;
    const ctx = spec.programs.find((p) => p.name === 'core_ctx')!;
    const patched = (re: RegExp): string => spec.log.find((l) => re.test(l)) ?? '';
    // Field offsets follow the target layout.
    expect(patched(/core_reads': relo #0: patched/)).toMatch(/imm 0 -> 44$/); // pid
    expect(patched(/core_reads': relo #2: patched/)).toMatch(/imm 4 -> 40$/); // tgid
    expect(patched(/core_reads': relo #5: patched/)).toMatch(/imm 16 -> 32$/); // sizeof comm
    expect(patched(/core_reads': relo #9: patched/)).toMatch(/imm 40 -> 64$/); // sizeof task_struct
    expect(patched(/core_reads': relo #12: patched/)).toMatch(/imm64 999 -> 7$/); // enum value
    expect(patched(/core_reads': relo #29: patched/)).toMatch(/imm64 2 -> 5$/);
    // Bitfields: pkt_type is 4 bits at bit 2 of byte 6 -> byte offset, size, shifts as libbpf computes them.
    expect(patched(/core_reads': relo #13: patched/)).toMatch(/-> 6$/);
    expect(patched(/core_reads': relo #14: patched/)).toMatch(/-> 1$/);
    expect(patched(/core_reads': relo #15: patched/)).toMatch(/-> 58$/);
    expect(patched(/core_reads': relo #17: patched/)).toMatch(/-> 60$/);
    // __sk_buff: ctx loads moved, the u32 cb[2] is at 12.
    expect(insnAt(ctx.insns, 3).off).toBe(12);
    expect(patched(/core_ctx': relo #0: patched/)).toMatch(/off 0 -> 36$/);
    expect(reads.insns.length).toBeGreaterThan(0);
    const nob = missing('bpftool');
    if (nob) {
      console.log(`skipped the libbpf comparison: ${nob}`);
      return;
    }
    const dir = tempDir();
    writeFileSync(join(dir, 'target.btf'), encodeBtf(target));
    const theirs = libbpfCoreLines(join(dir, 'target.btf'));
    expect(theirs.ok, theirs.stderr.slice(-1500)).toBe(true);
    expect(oursAsMinCore(spec.log, PROG_SECTIONS)).toEqual(theirs.lines);
  });

  it('ambiguous candidates are an error, as in libbpf', () => {
    const b = new BtfBuilder('amb');
    const int = b.int('int', 4, { signed: true });
    b.struct('task_struct', [{ name: 'pid', type: int }]);
    b.struct('task_struct___other', [{ name: 'x', type: int }, { name: 'pid', type: int }]);
    const target = b.build();
    // libbpf refuses the object; tsbpf the program with the relocation, and the others load.
    const spec = parseObject(fixture('core.o'), { name: 'core.o', coreTarget: target });
    const reads = spec.programs.find((p) => p.name === 'core_reads')!;
    expect(reads.loadError?.message).toMatch(/prog 'core_reads': relo #0: field offset ambiguity: 32 != 0/);
    expect(reads.loadError).toMatchObject({ section: 'kprobe/do_nanosleep', insn: 2, errno: 'EINVAL' });
    expect(spec.programs.filter((p) => p.loadError === undefined).length).toBeGreaterThan(0);
    const nob = missing('bpftool');
    if (nob) return;
    const dir = tempDir();
    writeFileSync(join(dir, 't.btf'), encodeBtf(target));
    const r = run('bpftool', ['-d', 'gen', 'min_core_btf', join(dir, 't.btf'), join(dir, 'o.btf'), fixturePath('core.o')]);
    expect(r.ok).toBe(false);
    expect(r.stderr).toMatch(/relo #0: field offset ambiguity: 32 != 0/);
  });

  it('unresolvable relocations poison their instruction (lddw: both slots) and the default target is tsbpf\'s context BTF', () => {
    const empty = new BtfBuilder('empty');
    empty.int('int', 4, { signed: true });
    const spec = parseObject(fixture('core.o'), { name: 'core.o', coreTarget: empty.build(), coreTargetName: 'empty' });
    const reads = spec.programs.find((p) => p.name === 'core_reads')!;
    const subst = spec.log.filter((l) => /relo #12: substituting insn #(\d+) w\/ invalid insn/.test(l)).map((l) => Number(/insn #(\d+)/.exec(l)![1]));
    expect(subst.length).toBe(2);
    const slot = Math.min(...subst);
    expect(subst).toEqual([slot + 1, slot]);
    expect(insnAt(reads.insns, slot)).toMatchObject({ code: 0x85, imm: CORE_POISON_IMM });
    expect(insnAt(reads.insns, slot + 1)).toMatchObject({ code: 0x85, imm: CORE_POISON_IMM });
    // Existence checks resolve to 0 instead.
    expect(spec.log.some((l) => /relo #3: patched insn #\d+ \(ALU\/ALU64\) imm 1 -> 0/.test(l))).toBe(true);
    const def = parseObject(fixture('core.o'), { name: 'core.o' });
    expect(def.log.some((l) => l.includes('in [tsbpf]'))).toBe(true);
  });

  it('a pathological target (an exponential tree of anonymous members) fails fast instead of hanging', () => {
    const b = new BtfBuilder('deep');
    const int = b.int('int', 4, { signed: true });
    let t = b.struct('', [{ name: 'leaf', type: int }]);
    for (let i = 0; i < 40; i++) t = b.struct('', [{ name: '', type: t }, { name: '', type: t }]);
    b.struct('task_struct', [{ name: '', type: t }]);
    const t0 = performance.now();
    const spec = parseObject(fixture('core.o'), { name: 'core.o', coreTarget: b.build() });
    expect(spec.programs.find((p) => p.name === 'core_reads')!.loadError?.message).toMatch(/CO-RE type search exceeded \d+ steps/);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('memory size adjustments: unsigned and pointer fields of another size are resized, others poisoned', () => {
    const b = new BtfBuilder('sizes');
    const u16 = b.int('unsigned short', 2);
    b.struct('__sk_buff', [{ name: 'len', type: u16 }, { name: 'pkt_type', type: b.int('short', 2, { signed: true }) }, { name: 'mark', type: b.int('unsigned long long', 8) }, { name: 'cb', type: b.array(u16, 5) }]);
    const spec = parseObject(fixture('core.o'), { name: 'core.o', coreTarget: b.build() });
    const ctx = spec.programs.find((p) => p.name === 'core_ctx')!;
    expect(spec.log).toContain("prog 'core_ctx': relo #0: patched insn #0 (LDX/ST/STX) mem_sz 4 -> 2");
    expect(spec.log).toContain("prog 'core_ctx': relo #1: patched insn #1 (LDX/ST/STX) mem_sz 4 -> 8");
    expect(insnAt(ctx.insns, 0).code).toBe(0x69); // ldxh
    expect(insnAt(ctx.insns, 1).code).toBe(0x79); // ldxdw
    expect(spec.log.some((l) => /relo #6: insn #12 \(LDX\/ST\/STX\) accesses field incorrectly/.test(l))).toBe(true);
    expect(insnAt(ctx.insns, 12)).toMatchObject({ code: 0x85, imm: CORE_POISON_IMM });
  });
});
