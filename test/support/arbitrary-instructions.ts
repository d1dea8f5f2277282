/**
 * fast-check arbitraries for property tests: every member of
 * {@link Instruction} in canonical form (exactly what `decode` returns), and
 * random programs whose branches land on instruction starts inside them.
 */
import fc from 'fast-check';
import type {
  AccessSize, AluOpName, AtomicOpName, Instruction, JmpOpName, LddwInsn,
} from '../../src/isa/instruction.js';
import { branchTarget, slotCount } from '../../src/isa/instruction.js';

const INT32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const INT16 = fc.integer({ min: -0x8000, max: 0x7fff });
const REG = fc.integer({ min: 0, max: 10 });
const SIZE: fc.Arbitrary<AccessSize> = fc.constantFrom(1, 2, 4, 8);

const PLAIN_ALU: readonly AluOpName[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
const JMP: readonly JmpOpName[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];

const alu: fc.Arbitrary<Instruction> = fc.oneof(
  fc.record({ op: fc.constantFrom(...PLAIN_ALU), wide: fc.boolean(), dst: REG, imm: INT32 })
    .map(({ op, wide, dst, imm }): Instruction => ({ kind: 'alu', op, wide, useReg: false, dst, src: 0, imm })),
  fc.record({ op: fc.constantFrom(...PLAIN_ALU), wide: fc.boolean(), dst: REG, src: REG })
    .map(({ op, wide, dst, src }): Instruction => ({ kind: 'alu', op, wide, useReg: true, dst, src, imm: 0 })),
  fc.record({ op: fc.constantFrom<AluOpName>('movsx8', 'movsx16', 'movsx32'), wide: fc.boolean(), dst: REG, src: REG })
    .map(({ op, wide, dst, src }): Instruction => ({ kind: 'alu', op, wide: op === 'movsx32' ? true : wide, useReg: true, dst, src, imm: 0 })),
);

const jmp: fc.Arbitrary<Instruction> = fc.oneof(
  fc.record({ op: fc.constantFrom(...JMP), wide: fc.boolean(), dst: REG, imm: INT32, off: INT16 })
    .map(({ op, wide, dst, imm, off }): Instruction => ({ kind: 'jmp', op, wide, useReg: false, dst, src: 0, imm, off })),
  fc.record({ op: fc.constantFrom(...JMP), wide: fc.boolean(), dst: REG, src: REG, off: INT16 })
    .map(({ op, wide, dst, src, off }): Instruction => ({ kind: 'jmp', op, wide, useReg: true, dst, src, imm: 0, off })),
);

const atomic: fc.Arbitrary<Instruction> = fc.oneof(
  fc.record({ op: fc.constantFrom<AtomicOpName>('add', 'or', 'and', 'xor'), fetch: fc.boolean(), size: fc.constantFrom<AccessSize>(4, 8), dst: REG, src: REG, off: INT16 })
    .map((f): Instruction => ({ kind: 'atomic', ...f })),
  fc.record({ op: fc.constantFrom<AtomicOpName>('xchg', 'cmpxchg'), size: fc.constantFrom<AccessSize>(4, 8), dst: REG, src: REG, off: INT16 })
    .map((f): Instruction => ({ kind: 'atomic', op: f.op, fetch: true, size: f.size, dst: f.dst, src: f.src, off: f.off })),
  fc.record({ op: fc.constantFrom<AtomicOpName>('load_acq', 'store_rel'), size: SIZE, dst: REG, src: REG, off: INT16 })
    .map((f): Instruction => ({ kind: 'atomic', op: f.op, fetch: false, size: f.size, dst: f.dst, src: f.src, off: f.off })),
);

/** Every instruction form with every field over its full canonical range. */
export function arbInstruction(): fc.Arbitrary<Instruction> {
  return fc.oneof(
    { arbitrary: alu, weight: 4 },
    fc.record({ wide: fc.boolean(), dst: REG }).map((f): Instruction => ({ kind: 'neg', ...f })),
    fc.record({ order: fc.constantFrom<'le' | 'be' | 'swap'>('le', 'be', 'swap'), bits: fc.constantFrom<16 | 32 | 64>(16, 32, 64), dst: REG })
      .map((f): Instruction => ({ kind: 'endian', ...f })),
    fc.record({ dst: REG, src: REG, imm: fc.constantFrom(1, 0x10000) }).map((f): Instruction => ({ kind: 'addr_space_cast', ...f })),
    { arbitrary: jmp, weight: 3 },
    INT16.map((off): Instruction => ({ kind: 'ja', off })),
    INT32.map((imm): Instruction => ({ kind: 'gotol', imm })),
    INT16.map((off): Instruction => ({ kind: 'may_goto', off })),
    fc.record({ src: fc.constantFrom<0 | 1 | 2>(0, 1, 2), imm: INT32 }).map((f): Instruction => ({ kind: 'call', ...f })),
    REG.map((dst): Instruction => ({ kind: 'callx', dst })),
    fc.constant<Instruction>({ kind: 'exit' }),
    fc.record({ size: SIZE, signed: fc.boolean(), dst: REG, src: REG, off: INT16 })
      .map((f): Instruction => ({ kind: 'ldx', ...f, signed: f.size === 8 ? false : f.signed })),
    fc.record({ size: SIZE, dst: REG, off: INT16, imm: INT32 }).map((f): Instruction => ({ kind: 'st', ...f })),
    fc.record({ size: SIZE, dst: REG, src: REG, off: INT16 }).map((f): Instruction => ({ kind: 'stx', ...f })),
    { arbitrary: atomic, weight: 2 },
    fc.record({ dst: REG, pseudo: fc.constantFrom<LddwInsn['pseudo']>(0, 0, 0, 1, 2, 3, 4, 5, 6), imm: INT32, imm2: INT32 })
      .map((f): Instruction => ({ kind: 'lddw', ...f })),
    fc.record({ size: fc.constantFrom<1 | 2 | 4>(1, 2, 4), imm: INT32 }).map((f): Instruction => ({ kind: 'ldabs', ...f })),
    fc.record({ size: fc.constantFrom<1 | 2 | 4>(1, 2, 4), src: REG, imm: INT32 }).map((f): Instruction => ({ kind: 'ldind', ...f })),
  );
}

/** Whether an instruction's branch field is relative (jumps, local calls, `lddw` of a function). */
function branches(insn: Instruction): boolean {
  return branchTarget(insn, 0) !== undefined;
}

/** Returns `insn` re-aimed from slot `pc` at slot `target`. */
function aim(insn: Instruction, pc: number, target: number): Instruction {
  const rel = target - (pc + 1);
  switch (insn.kind) {
    case 'jmp':
    case 'ja':
    case 'may_goto':
      return { ...insn, off: rel };
    case 'gotol':
    case 'call':
    case 'lddw':
      return { ...insn, imm: rel };
    default:
      return insn;
  }
}

/**
 * Random valid programs of 1..`maxLength` instructions: every branch lands
 * on the start of an instruction inside the program (never inside a `lddw`).
 */
export function arbProgram(maxLength = 30): fc.Arbitrary<Instruction[]> {
  return fc.array(arbInstruction(), { minLength: 1, maxLength }).chain((insns) => {
    const starts: number[] = [];
    let slot = 0;
    for (const insn of insns) {
      starts.push(slot);
      slot += slotCount(insn);
    }
    const picks = insns.map((insn) => (branches(insn) ? fc.integer({ min: 0, max: starts.length - 1 }) : fc.constant(-1)));
    return fc.tuple(...picks).map((choice) => insns.map((insn, i) => (choice[i]! < 0 ? insn : aim(insn, starts[i]!, starts[choice[i]!]!))));
  });
}
