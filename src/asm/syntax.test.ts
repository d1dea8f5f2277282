/** Spellings of the three syntaxes, one example per form. */
import { describe, expect, it } from 'vitest';
import type { Instruction } from '../isa/index.js';
import { encodeProgram } from '../isa/index.js';
import { assemble, detectSyntax, disassemble, formatInstruction, targetLabels } from './index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const one = (text: string, syntax: 'llvm' | 'conformance' | 'auto' = 'auto'): Instruction => {
  const { insns } = assemble(text, { syntax });
  expect(insns).toHaveLength(1);
  return insns[0]!;
};

/** [conformance, llvm, kernel] texts of the same instruction (printed forms). */
const FORMS: [string, string, string][] = [
  ['add32 %r0, 1', 'w0 += 0x1', '(04) w0 += 1'],
  ['add %r0, -1', 'r0 += -0x1', '(07) r0 += -1'],
  ['mov %r1, %r2', 'r1 = r2', '(bf) r1 = r2'],
  ['sdiv %r1, %r2', 'r1 s/= r2', '(3f) r1 s/= r2'],
  ['smod32 %r1, -3', 'w1 s%= -0x3', '(94) w1 s%= -3'],
  ['arsh %r1, 3', 'r1 s>>= 0x3', '(c7) r1 s>>= 3'],
  ['movsx832 %r0, %r1', 'w0 = (s8)w1', '(bc) w0 = (s8)w1'],
  ['movsx3264 %r0, %r1', 'r0 = (s32)r1', '(bf) r0 = (s32)r1'],
  ['neg32 %r3', 'w3 = -w3', '(84) w3 = -w3'],
  ['be16 %r0', 'r0 = be16 r0', '(dc) r0 = be16 r0'],
  ['le64 %r0', 'r0 = le64 r0', '(d4) r0 = le64 r0'],
  ['bswap32 %r1', 'r1 = bswap32 r1', '(d7) r1 = bswap32 r1'],
  ['addr_space_cast %r1, %r2, 0, 1', 'r1 = addr_space_cast(r2, 0x0, 0x1)', '(bf) r1 = addr_space_cast(r2, 0, 1)'],
  ['jeq %r1, 0, +2', 'if r1 == 0x0 goto +0x2', '(15) if r1 == 0x0 goto pc+2'],
  ['jsgt32 %r1, -5, -2', 'if w1 s> -0x5 goto -0x2', '(66) if w1 s> 0xfffffffb goto pc-2'],
  ['jset %r1, %r2, +0', 'if r1 & r2 goto +0x0', '(4d) if r1 & r2 goto pc+0'],
  ['ja +3', 'goto +0x3', '(05) goto pc+3'],
  ['ja32 -3', 'gotol -0x3', '(06) gotol pc-3'],
  ['may_goto +3', 'may_goto +0x3', '(e5) may_goto pc+3'],
  ['call 1', 'call 0x1', '(85) call bpf_map_lookup_elem#1'],
  ['call 300', 'call 0x12c', '(85) call unknown#300'],
  ['call local +2', 'call pc+0x2', '(85) call pc+2'],
  ['call kfunc 77', 'call kfunc 0x4d', '(85) call kernel-function#77'],
  ['call %r2', 'callx r2', '(8d) callx r2'],
  ['exit', 'exit', '(95) exit'],
  ['ldxw %r0, [%r1+4]', 'r0 = *(u32 *)(r1 + 0x4)', '(61) r0 = *(u32 *)(r1 +4)'],
  ['ldxsb %r0, [%r10-1]', 'r0 = *(s8 *)(r10 - 0x1)', '(91) r0 = *(s8 *)(r10 -1)'],
  ['ldxdw %r0, [%r1+0]', 'r0 = *(u64 *)(r1 + 0x0)', '(79) r0 = *(u64 *)(r1 +0)'],
  ['sth [%r10-2], -1', '*(u16 *)(r10 - 0x2) = -0x1', '(6a) *(u16 *)(r10 -2) = -1'],
  ['stxb [%r10-1], %r1', '*(u8 *)(r10 - 0x1) = r1', '(73) *(u8 *)(r10 -1) = r1'],
  ['lock add [%r1+0], %r2', 'lock *(u64 *)(r1 + 0x0) += r2', '(db) lock *(u64 *)(r1 +0) += r2'],
  ['lock add32 [%r10-8], %r1', 'lock *(u32 *)(r10 - 0x8) += r1', '(c3) lock *(u32 *)(r10 -8) += r1'],
  ['lock xor32 [%r10-8], %r1', 'lock *(u32 *)(r10 - 0x8) ^= w1', '(c3) lock *(u32 *)(r10 -8) ^= r1'],
  ['lock fetch add [%r1+8], %r0', 'r0 = atomic_fetch_add((u64 *)(r1 + 0x8), r0)', '(db) r0 = atomic64_fetch_add((u64 *)(r1 +8), r0)'],
  ['lock fetch or32 [%r1+8], %r0', 'w0 = atomic_fetch_or((u32 *)(r1 + 0x8), w0)', '(c3) r0 = atomic_fetch_or((u32 *)(r1 +8), r0)'],
  ['lock xchg [%r1+8], %r3', 'r3 = xchg_64(r1 + 0x8, r3)', '(db) r3 = atomic64_xchg((u64 *)(r1 +8), r3)'],
  ['lock xchg32 [%r1+8], %r3', 'w3 = xchg32_32(r1 + 0x8, w3)', '(c3) r3 = atomic_xchg((u32 *)(r1 +8), r3)'],
  ['lock cmpxchg [%r10-8], %r1', 'r0 = cmpxchg_64(r10 - 0x8, r0, r1)', '(db) r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)'],
  ['lock cmpxchg32 [%r10-8], %r1', 'w0 = cmpxchg32_32(r10 - 0x8, w0, w1)', '(c3) r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r1)'],
  ['ldacqdw %r0, [%r1+0]', 'r0 = load_acquire((u64 *)(r1 + 0x0))', '(db) r0 = load_acquire((u64 *)(r1 +0))'],
  ['ldacqb %r0, [%r1+2]', 'w0 = load_acquire((u8 *)(r1 + 0x2))', '(d3) r0 = load_acquire((u8 *)(r1 +2))'],
  ['strelw [%r1+0], %r2', 'store_release((u32 *)(r1 + 0x0), w2)', '(c3) store_release((u32 *)(r1 +0), r2)'],
  ['lddw %r0, 0x1122334455667788', 'r0 = 0x1122334455667788 ll', '(18) r0 = 0x1122334455667788'],
  ['lddw %r0, 0xffffffffffffffff', 'r0 = -0x1 ll', '(18) r0 = 0xffffffffffffffff'],
  ['lddw %r1, map_fd 3', 'ld_pseudo\tr1, 0x1, 0x3', '(18) r1 = 0x3'],
  ['lddw %r1, map_value 3, 8', 'ld_pseudo\tr1, 0x2, 0x3, 0x8', '(18) r1 = 0x800000003'],
  ['lddw %r1, btf_id 5', 'ld_pseudo\tr1, 0x3, 0x5', '(18) r1 = 0x5'],
  ['lddw %r1, func -4', 'ld_pseudo\tr1, 0x4, 0xfffffffc', '(18) r1 = 0xfffffffc'],
  ['lddw %r1, map_idx 0', 'ld_pseudo\tr1, 0x5, 0x0', '(18) r1 = 0x0'],
  ['lddw %r1, map_idx_value 0, 4', 'ld_pseudo\tr1, 0x6, 0x0, 0x4', '(18) r1 = 0x400000000'],
  ['ldabsw 4', 'r0 = *(u32 *)skb[0x4]', '(20) r0 = *(u32 *)skb[4]'],
  ['ldabsb -4', 'r0 = *(u8 *)skb[-0x4]', '(30) r0 = *(u8 *)skb[-4]'],
  ['ldindh %r1, 4', 'r0 = *(u16 *)skb[r1 + 0x4]', '(48) r0 = *(u16 *)skb[r1 + 4]'],
  ['ldindb %r1, 0', 'r0 = *(u8 *)skb[r1]', '(50) r0 = *(u8 *)skb[r1 + 0]'],
];

describe('the three syntaxes print and read every form', () => {
  it.each(FORMS)('%s | %s | %s', (conf, llvm, kernel) => {
    const insn = one(conf, 'conformance');
    expect(formatInstruction(insn, { syntax: 'conformance' })).toBe(conf);
    expect(formatInstruction(insn, { syntax: 'llvm' })).toBe(llvm);
    expect(formatInstruction(insn, { syntax: 'kernel' })).toBe(kernel);
    expect(one(llvm, 'llvm')).toEqual(insn);
    expect(one(conf)).toEqual(insn);
    expect(one(llvm)).toEqual(insn);
    if (insn.kind !== 'lddw' || insn.pseudo === 0) expect(one(`7: ${kernel}`, 'llvm')).toEqual(insn);
  });
});

describe('conformance syntax input', () => {
  it.each([
    ['mov r0, 1', { kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 0, src: 0, imm: 1 }],
    ['add32 %r0, 0xffffffff', { kind: 'alu', op: 'add', wide: false, useReg: false, dst: 0, src: 0, imm: -1 }],
    ['ldxh %r0, [%r1]', { kind: 'ldx', size: 2, signed: false, dst: 0, src: 1, off: 0 }],
    ['ldxb %r0, [%r1 + 0x2]', { kind: 'ldx', size: 1, signed: false, dst: 0, src: 1, off: 2 }],
    ['swap16 %r0', { kind: 'endian', order: 'swap', bits: 16, dst: 0 }],
    ['lock fetch xchg [%r1+0], %r2', { kind: 'atomic', op: 'xchg', fetch: true, size: 8, dst: 1, src: 2, off: 0 }],
    ['call runtime 7', { kind: 'call', src: 2, imm: 7 }],
    ['lddw %r0, 2147483648', { kind: 'lddw', dst: 0, pseudo: 0, imm: -2147483648, imm2: 0 }],
    ['lddw %r0, -1', { kind: 'lddw', dst: 0, pseudo: 0, imm: -1, imm2: -1 }],
    ['MOV %R0, 1', { kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 0, src: 0, imm: 1 }],
  ])('%s', (text, insn) => {
    expect(one(text.replace('%R0', '%r0'), 'conformance')).toEqual(insn);
  });

  it('takes labels, comments, CR LF, the implicit exit label and local calls', () => {
    const prog = assemble('# comment\r\nmov %r0, 0 # trailing\r\njeq %r0, 0, exit\r\ncall local f\r\nL1: exit\r\nf:\r\n  ja L1\r\n', { syntax: 'conformance' });
    expect(prog.lines).toEqual([2, 3, 4, 5, 7]);
    expect(prog.labels).toEqual(new Map([['L1', 3], ['f', 4]]));
    expect(prog.insns.slice(1, 3)).toEqual([
      { kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 0, src: 0, imm: 0, off: 1 },
      { kind: 'call', src: 1, imm: 1 },
    ]);
    expect(prog.insns[4]).toEqual({ kind: 'ja', off: -2 });
  });

  it('counts lddw as two slots', () => {
    const prog = assemble('ja L\nlddw %r0, 1\nL:\nexit', { syntax: 'conformance' });
    expect(prog.insns[0]).toEqual({ kind: 'ja', off: 2 });
    expect(prog.labels.get('L')).toBe(3);
  });
});

describe('LLVM syntax input', () => {
  it.each([
    // what clang and llvm-objdump write
    ['if r1 == 0 goto +2', { kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 1, src: 0, imm: 0, off: 2 }],
    ['r1 = 5 ll', { kind: 'lddw', dst: 1, pseudo: 0, imm: 5, imm2: 0 }],
    ['r1 = 0x100000000', { kind: 'lddw', dst: 1, pseudo: 0, imm: 0, imm2: 1 }],
    ['r1 = 0x80000000', { kind: 'lddw', dst: 1, pseudo: 0, imm: -2147483648, imm2: 0 }],
    ['w1 = 0x80000000', { kind: 'alu', op: 'mov', wide: false, useReg: false, dst: 1, src: 0, imm: -2147483648 }],
    ['w0 = *(u32 *)(r1 + 4)', { kind: 'ldx', size: 4, signed: false, dst: 0, src: 1, off: 4 }],
    ['*(u32 *)(r10 - 8) = w1', { kind: 'stx', size: 4, dst: 10, src: 1, off: -8 }],
    ['lock *(u32 *)(r1 + 0) += w2', { kind: 'atomic', op: 'add', fetch: false, size: 4, dst: 1, src: 2, off: 0 }],
    ['r0 = *(u16 *)skb[r1 - 4]', { kind: 'ldind', size: 2, src: 1, imm: -4 }],
    ['call bpf_ktime_get_ns', { kind: 'call', src: 0, imm: 5 }],
    ['call ktime_get_ns', { kind: 'call', src: 0, imm: 5 }],
    ['ja +1', { kind: 'ja', off: 1 }],
    // the Linux verifier log
    ['r2 = *(u32 *)(r1 +4)', { kind: 'ldx', size: 4, signed: false, dst: 2, src: 1, off: 4 }],
    ['if r2 == 0x0 goto pc+3', { kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 2, src: 0, imm: 0, off: 3 }],
    ['call bpf_map_lookup_elem#1', { kind: 'call', src: 0, imm: 1 }],
    ['call unknown#300', { kind: 'call', src: 0, imm: 300 }],
    ['call pc+2', { kind: 'call', src: 1, imm: 2 }],
    ['call kernel-function#12', { kind: 'call', src: 2, imm: 12 }],
    ['lock *(u32 *)(r10 -8) += r1', { kind: 'atomic', op: 'add', fetch: false, size: 4, dst: 10, src: 1, off: -8 }],
    ['r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)', { kind: 'atomic', op: 'add', fetch: true, size: 8, dst: 10, src: 1, off: -8 }],
    ['r0 = *(u32 *)skb[r7 + -2]', { kind: 'ldind', size: 4, src: 7, imm: -2 }],
    ['12: (18) r0 = 0x1234', { kind: 'lddw', dst: 0, pseudo: 0, imm: 0x1234, imm2: 0 }],
    ['12: (b7) r0 = 0x1234', { kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 0, src: 0, imm: 0x1234 }],
    ['     12: .1........ (07) r2 += -4', { kind: 'alu', op: 'add', wide: true, useReg: false, dst: 2, src: 0, imm: -4 }],
    ['4: (15) if r1 == 0x0 goto pc+2        ; R1=scalar(umin=1)', { kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 1, src: 0, imm: 0, off: 2 }],
    // llvm-objdump's full line
    ['       9:\t55 06 10 00 00 00 00 00\tif r6 != 0x0 goto +0x10 <count_packets+0xd0>', { kind: 'jmp', op: 'jne', wide: true, useReg: false, dst: 6, src: 0, imm: 0, off: 16 }],
    ['      14:\t18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11\tr0 = 0x1122334455667788 ll', { kind: 'lddw', dst: 0, pseudo: 0, imm: 0x55667788, imm2: 0x11223344 }],
  ])('%s', (text, insn) => {
    expect(one(text, 'llvm')).toEqual(insn);
  });

  it('takes labels, comments and an objdump listing with its headers', () => {
    const listing = [
      '',
      'x.o:\tfile format elf64-bpf',
      '',
      'Disassembly of section socket:',
      '',
      '0000000000000000 <prog>:',
      '       0:\tb7 00 00 00 00 00 00 00\tr0 = 0x0',
      '       1:\t05 00 00 00 00 00 00 00\tgoto +0x0 <LBB0_1>',
      '',
      '0000000000000010 <LBB0_1>:',
      '       2:\t95 00 00 00 00 00 00 00\texit',
    ].join('\n');
    const prog = assemble(listing);
    expect(hex(prog.bytes)).toBe('b700000000000000' + '0500000000000000' + '9500000000000000');
    expect(prog.labels).toEqual(new Map([['prog', 0], ['LBB0_1', 2]]));
    const src = assemble('LBB0_0: # loop\n  r0 += 1 // count\n  if r0 < 10 goto LBB0_0 ; again\n  exit\n');
    expect(src.insns[1]).toMatchObject({ kind: 'jmp', op: 'jlt', off: -2 });
  });

  it('prefers a label over a helper of the same name', () => {
    const prog = assemble('call bpf_ktime_get_ns\nexit\nbpf_ktime_get_ns:\nexit\n', { syntax: 'llvm' });
    expect(prog.insns[0]).toEqual({ kind: 'call', src: 1, imm: 1 });
  });
});

describe('syntax detection', () => {
  it.each([
    ['mov %r0, 1\nexit', 'conformance'],
    ['exit', 'conformance'],
    ['lock add [%r10-8], %r1', 'conformance'],
    ['call local f\nf:\nexit', 'conformance'],
    ['r0 = 1\nexit', 'llvm'],
    ['if r1 > r2 goto +1\nexit', 'llvm'],
    ['goto +0\nexit', 'llvm'],
    ['lock *(u64 *)(r1 + 0) += r2', 'llvm'],
    ['call pc+1\nexit\nexit', 'llvm'],
    ['call f\nf:\nexit', 'llvm'],
    ['0: (95) exit', 'llvm'],
    ['mov %r0, 1 # r0 = 1\nexit', 'conformance'],
  ])('%j is %s', (text, syntax) => {
    expect(detectSyntax(text)).toBe(syntax);
  });
});

describe('disassembly output', () => {
  const prog = assemble('mov %r0, 0\njeq %r1, 0, L\nlddw %r2, 5\nL:\ncall local f\nexit\nf:\nexit', { syntax: 'conformance' });

  it('prints llvm text with objdump-style addresses', () => {
    expect(disassemble(prog.bytes, { addresses: true })).toBe([
      '       0:\tr0 = 0x0',
      '       1:\tif r1 == 0x0 goto +0x2',
      '       2:\tr2 = 0x5 ll',
      '       4:\tcall pc+0x1',
      '       5:\texit',
      '       6:\texit',
      '',
    ].join('\n'));
  });

  it('prints labels at branch targets', () => {
    expect(disassemble(prog.insns, { syntax: 'conformance', labels: true })).toBe([
      'mov %r0, 0', 'jeq %r1, 0, L4', 'lddw %r2, 0x5', 'L4:', 'call local L6', 'exit', 'L6:', 'exit', '',
    ].join('\n'));
    expect(targetLabels(prog.insns)).toEqual(new Map([[4, 'L4'], [6, 'L6']]));
    expect(formatInstruction(prog.insns[1]!, { pc: 1, labels: targetLabels(prog.insns) })).toBe('if r1 == 0x0 goto L4');
  });

  it('prints the kernel log', () => {
    expect(disassemble(encodeProgram(prog.insns), { syntax: 'kernel', addresses: true, labels: true })).toBe([
      '0: (b7) r0 = 0', '1: (15) if r1 == 0x0 goto pc+2', '2: (18) r2 = 0x5', '4: (85) call pc+1', '5: (95) exit', '6: (95) exit', '',
    ].join('\n'));
  });

  it('keeps numeric offsets for targets outside the program', () => {
    const text = disassemble([{ kind: 'ja', off: 5 }, { kind: 'exit' }], { labels: true });
    expect(text).toBe('goto +0x5\nexit\n');
  });
});
