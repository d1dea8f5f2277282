/**
 * Encoding of typed instructions into raw little-endian bytes. Encoding
 * checks field ranges so that every byte sequence it produces decodes back to
 * the same instruction.
 */
import { InstructionError } from '../errors.js';
import { AluOp, AtomicOp, Class, INSN_SIZE, JmpOp, Mode, Size, Source } from './opcode.js';
import type { AccessSize, AluOpName, AtomicOpName, Instruction, JmpOpName, RawSlot } from './instruction.js';
import { slotCount } from './instruction.js';

const ALU_CODES: Record<AluOpName, [op: number, off: number]> = {
  add: [AluOp.ADD, 0], sub: [AluOp.SUB, 0], mul: [AluOp.MUL, 0], div: [AluOp.DIV, 0],
  sdiv: [AluOp.DIV, 1], or: [AluOp.OR, 0], and: [AluOp.AND, 0], lsh: [AluOp.LSH, 0],
  rsh: [AluOp.RSH, 0], mod: [AluOp.MOD, 0], smod: [AluOp.MOD, 1], xor: [AluOp.XOR, 0],
  mov: [AluOp.MOV, 0], arsh: [AluOp.ARSH, 0],
  movsx8: [AluOp.MOV, 8], movsx16: [AluOp.MOV, 16], movsx32: [AluOp.MOV, 32],
};

const JMP_CODES: Record<JmpOpName, number> = {
  jeq: JmpOp.JEQ, jgt: JmpOp.JGT, jge: JmpOp.JGE, jset: JmpOp.JSET, jne: JmpOp.JNE,
  jsgt: JmpOp.JSGT, jsge: JmpOp.JSGE, jlt: JmpOp.JLT, jle: JmpOp.JLE, jslt: JmpOp.JSLT, jsle: JmpOp.JSLE,
};

const SIZE_CODES: Record<AccessSize, number> = { 1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW };

const ATOMIC_CODES: Record<AtomicOpName, number> = {
  add: AtomicOp.ADD, or: AtomicOp.OR, and: AtomicOp.AND, xor: AtomicOp.XOR,
  xchg: AtomicOp.XCHG, cmpxchg: AtomicOp.CMPXCHG, load_acq: AtomicOp.LOAD_ACQ, store_rel: AtomicOp.STORE_REL,
};

function check(ok: boolean, what: string): void {
  if (!ok) throw new InstructionError(`cannot encode: ${what}`);
}

function reg(r: number): number {
  check(Number.isInteger(r) && r >= 0 && r <= 10, `register r${r} does not exist`);
  return r;
}

function i16(v: number, what = 'offset'): number {
  check(Number.isInteger(v) && v >= -32768 && v <= 32767, `${what} ${v} does not fit in 16 signed bits`);
  return v;
}

function i32(v: number, what = 'immediate'): number {
  check(Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff, `${what} ${v} does not fit in 32 signed bits`);
  return v;
}

/** The raw slots of one instruction (two for `lddw`). */
export function toSlots(insn: Instruction): RawSlot[] {
  switch (insn.kind) {
    case 'alu': {
      const cls = insn.wide ? Class.ALU64 : Class.ALU;
      const [op, off] = ALU_CODES[insn.op];
      check(insn.op !== 'movsx32' || insn.wide, 'movsx32 exists only in the 64-bit class');
      check(!insn.op.startsWith('movsx') || insn.useReg, 'movsx takes a register operand');
      return [insn.useReg
        ? { code: cls | op | Source.X, dst: reg(insn.dst), src: reg(insn.src), off, imm: 0 }
        : { code: cls | op | Source.K, dst: reg(insn.dst), src: 0, off, imm: i32(insn.imm) }];
    }
    case 'neg':
      return [{ code: (insn.wide ? Class.ALU64 : Class.ALU) | AluOp.NEG, dst: reg(insn.dst), src: 0, off: 0, imm: 0 }];
    case 'endian': {
      check(insn.bits === 16 || insn.bits === 32 || insn.bits === 64, `byte swap width ${insn.bits}`);
      const code = insn.order === 'swap' ? Class.ALU64 | AluOp.END
        : Class.ALU | AluOp.END | (insn.order === 'be' ? Source.X : Source.K);
      return [{ code, dst: reg(insn.dst), src: 0, off: 0, imm: insn.bits }];
    }
    case 'addr_space_cast':
      check(insn.imm === 1 || insn.imm === 0x10000, 'addr_space_cast converts only between address spaces 0 and 1');
      return [{ code: Class.ALU64 | AluOp.MOV | Source.X, dst: reg(insn.dst), src: reg(insn.src), off: 1, imm: insn.imm }];
    case 'jmp': {
      const cls = insn.wide ? Class.JMP : Class.JMP32;
      const op = JMP_CODES[insn.op];
      return [insn.useReg
        ? { code: cls | op | Source.X, dst: reg(insn.dst), src: reg(insn.src), off: i16(insn.off), imm: 0 }
        : { code: cls | op | Source.K, dst: reg(insn.dst), src: 0, off: i16(insn.off), imm: i32(insn.imm) }];
    }
    case 'ja':
      return [{ code: Class.JMP | JmpOp.JA, dst: 0, src: 0, off: i16(insn.off), imm: 0 }];
    case 'gotol':
      return [{ code: Class.JMP32 | JmpOp.JA, dst: 0, src: 0, off: 0, imm: i32(insn.imm, 'jump offset') }];
    case 'may_goto':
      return [{ code: Class.JMP | JmpOp.JCOND, dst: 0, src: 0, off: i16(insn.off), imm: 0 }];
    case 'call':
      check(insn.src === 0 || insn.src === 1 || insn.src === 2, `call source ${insn.src}`);
      return [{ code: Class.JMP | JmpOp.CALL, dst: 0, src: insn.src, off: 0, imm: i32(insn.imm) }];
    case 'callx':
      return [{ code: Class.JMP | JmpOp.CALL | Source.X, dst: reg(insn.dst), src: 0, off: 0, imm: 0 }];
    case 'exit':
      return [{ code: Class.JMP | JmpOp.EXIT, dst: 0, src: 0, off: 0, imm: 0 }];
    case 'ldx':
      check(!(insn.signed && insn.size === 8), 'sign-extending loads exist for 1, 2 and 4 bytes only');
      return [{ code: Class.LDX | (insn.signed ? Mode.MEMSX : Mode.MEM) | SIZE_CODES[insn.size], dst: reg(insn.dst), src: reg(insn.src), off: i16(insn.off), imm: 0 }];
    case 'st':
      return [{ code: Class.ST | Mode.MEM | SIZE_CODES[insn.size], dst: reg(insn.dst), src: 0, off: i16(insn.off), imm: i32(insn.imm) }];
    case 'stx':
      return [{ code: Class.STX | Mode.MEM | SIZE_CODES[insn.size], dst: reg(insn.dst), src: reg(insn.src), off: i16(insn.off), imm: 0 }];
    case 'atomic': {
      const ordered = insn.op === 'load_acq' || insn.op === 'store_rel';
      check(ordered || insn.size >= 4, 'read-modify-write atomics are 32 or 64 bits wide');
      const alwaysFetch = insn.op === 'xchg' || insn.op === 'cmpxchg';
      check(ordered ? !insn.fetch : !alwaysFetch || insn.fetch, `${insn.op} ${insn.fetch ? 'with' : 'without'} fetch`);
      const imm = ATOMIC_CODES[insn.op] | (insn.fetch && !ordered ? AtomicOp.FETCH : 0);
      return [{ code: Class.STX | Mode.ATOMIC | SIZE_CODES[insn.size], dst: reg(insn.dst), src: reg(insn.src), off: i16(insn.off), imm }];
    }
    case 'lddw':
      check(insn.pseudo >= 0 && insn.pseudo <= 6, `lddw source ${insn.pseudo}`);
      return [
        { code: Class.LD | Mode.IMM | Size.DW, dst: reg(insn.dst), src: insn.pseudo, off: 0, imm: i32(insn.imm) },
        { code: 0, dst: 0, src: 0, off: 0, imm: i32(insn.imm2) },
      ];
    case 'ldabs':
      return [{ code: Class.LD | Mode.ABS | SIZE_CODES[insn.size], dst: 0, src: 0, off: 0, imm: i32(insn.imm) }];
    case 'ldind':
      return [{ code: Class.LD | Mode.IND | SIZE_CODES[insn.size], dst: 0, src: reg(insn.src), off: 0, imm: i32(insn.imm) }];
  }
}

/** Writes one raw slot at byte offset `at` of `out`. */
export function writeSlot(out: Uint8Array, at: number, slot: RawSlot): void {
  const view = new DataView(out.buffer, out.byteOffset + at, INSN_SIZE);
  view.setUint8(0, slot.code);
  view.setUint8(1, (slot.src << 4) | slot.dst);
  view.setInt16(2, slot.off, true);
  view.setInt32(4, slot.imm, true);
}

/** Encodes instructions into the little-endian byte form the kernel loads. */
export function encodeProgram(insns: readonly Instruction[]): Uint8Array {
  let slots = 0;
  for (const insn of insns) slots += slotCount(insn);
  const out = new Uint8Array(slots * INSN_SIZE);
  let at = 0;
  for (const insn of insns) {
    for (const slot of toSlots(insn)) {
      writeSlot(out, at, slot);
      at += INSN_SIZE;
    }
  }
  return out;
}

/** Encodes one instruction. */
export function encode(insn: Instruction): Uint8Array {
  return encodeProgram([insn]);
}
