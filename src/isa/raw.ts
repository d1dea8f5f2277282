/**
 * Instructions as raw slots, the way the verifier walks them: Linux checks
 * fields lazily, instruction by instruction, so nothing here refuses a
 * slot up front. The flat `BPF_*` names mirror the kernel's (verifier code
 * reads like verifier.c); their values are those of opcode.ts.
 */
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, Mode, PseudoSrc, Size, Source } from './opcode.js';
import type { RawSlot } from './instruction.js';

/** One 8-byte slot. */
export type RawInsn = RawSlot;

/** Reads the slots of a program (little-endian); a trailing partial slot is ignored. */
export function readInsns(bytes: Uint8Array): RawInsn[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RawInsn[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const regs = view.getUint8(i + 1);
    out.push({ code: view.getUint8(i), dst: regs & 0x0f, src: regs >> 4, off: view.getInt16(i + 2, true), imm: view.getInt32(i + 4, true) });
  }
  return out;
}

export const BPF_LD = Class.LD;
export const BPF_LDX = Class.LDX;
export const BPF_ST = Class.ST;
export const BPF_STX = Class.STX;
export const BPF_ALU = Class.ALU;
export const BPF_JMP = Class.JMP;
export const BPF_JMP32 = Class.JMP32;
export const BPF_ALU64 = Class.ALU64;

export const BPF_K = Source.K;
export const BPF_X = Source.X;

export const BPF_ADD = AluOp.ADD;
export const BPF_SUB = AluOp.SUB;
export const BPF_MUL = AluOp.MUL;
export const BPF_DIV = AluOp.DIV;
export const BPF_OR = AluOp.OR;
export const BPF_AND = AluOp.AND;
export const BPF_LSH = AluOp.LSH;
export const BPF_RSH = AluOp.RSH;
export const BPF_NEG = AluOp.NEG;
export const BPF_MOD = AluOp.MOD;
export const BPF_XOR = AluOp.XOR;
export const BPF_MOV = AluOp.MOV;
export const BPF_ARSH = AluOp.ARSH;
export const BPF_END = AluOp.END;

export const BPF_JA = JmpOp.JA;
export const BPF_JEQ = JmpOp.JEQ;
export const BPF_JGT = JmpOp.JGT;
export const BPF_JGE = JmpOp.JGE;
export const BPF_JSET = JmpOp.JSET;
export const BPF_JNE = JmpOp.JNE;
export const BPF_JSGT = JmpOp.JSGT;
export const BPF_JSGE = JmpOp.JSGE;
export const BPF_CALL = JmpOp.CALL;
export const BPF_EXIT = JmpOp.EXIT;
export const BPF_JLT = JmpOp.JLT;
export const BPF_JLE = JmpOp.JLE;
export const BPF_JSLT = JmpOp.JSLT;
export const BPF_JSLE = JmpOp.JSLE;
export const BPF_JCOND = JmpOp.JCOND;

export const BPF_W = Size.W;
export const BPF_H = Size.H;
export const BPF_B = Size.B;
export const BPF_DW = Size.DW;

export const BPF_IMM = Mode.IMM;
export const BPF_ABS = Mode.ABS;
export const BPF_IND = Mode.IND;
export const BPF_MEM = Mode.MEM;
export const BPF_MEMSX = Mode.MEMSX;
export const BPF_ATOMIC = Mode.ATOMIC;

export const BPF_FETCH = AtomicOp.FETCH;
export const BPF_XCHG = AtomicOp.XCHG;
export const BPF_CMPXCHG = AtomicOp.CMPXCHG;
export const BPF_LOAD_ACQ = AtomicOp.LOAD_ACQ;
export const BPF_STORE_REL = AtomicOp.STORE_REL;

export const PSEUDO_MAP_FD = PseudoSrc.MAP_FD;
export const PSEUDO_MAP_VALUE = PseudoSrc.MAP_VALUE;
export const PSEUDO_BTF_ID = PseudoSrc.BTF_ID;
export const PSEUDO_FUNC = PseudoSrc.FUNC;
export const PSEUDO_MAP_IDX = PseudoSrc.MAP_IDX;
export const PSEUDO_MAP_IDX_VALUE = PseudoSrc.MAP_IDX_VALUE;
export const PSEUDO_CALL = CallSrc.LOCAL;
export const PSEUDO_KFUNC_CALL = CallSrc.KFUNC;

export const cls = (code: number): number => code & 0x07;
export const op = (code: number): number => code & 0xf0;
export const srcBit = (code: number): number => code & 0x08;
export const size = (code: number): number => code & 0x18;
export const mode = (code: number): number => code & 0xe0;

/** Bytes of a BPF_SIZE field. */
export function sizeBytes(code: number): number {
  switch (size(code)) {
    case BPF_B: return 1;
    case BPF_H: return 2;
    case BPF_W: return 4;
    default: return 8;
  }
}

export function isLdImm64(i: RawInsn): boolean {
  return i.code === (BPF_LD | BPF_IMM | BPF_DW);
}

export function isPseudoCall(i: RawInsn): boolean {
  return i.code === (BPF_JMP | BPF_CALL) && i.src === PSEUDO_CALL;
}

export function isPseudoFunc(i: RawInsn): boolean {
  return isLdImm64(i) && i.src === PSEUDO_FUNC;
}

export function isHelperCall(i: RawInsn): boolean {
  return i.code === (BPF_JMP | BPF_CALL) && i.src === 0;
}

export function isKfuncCall(i: RawInsn): boolean {
  return i.code === (BPF_JMP | BPF_CALL) && i.src === PSEUDO_KFUNC_CALL;
}

export function isMayGoto(i: RawInsn): boolean {
  return i.code === (BPF_JMP | BPF_JCOND) && i.src === 0;
}

/** `bpf_opcode_in_insntable`. */
const INSN_TABLE: ReadonlySet<number> = (() => {
  const s = new Set<number>();
  const alu = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH];
  for (const c of [BPF_ALU, BPF_ALU64]) {
    for (const o of alu) s.add(c | o | BPF_K).add(c | o | BPF_X);
    s.add(c | BPF_NEG);
  }
  s.add(BPF_ALU | BPF_END | BPF_K).add(BPF_ALU | BPF_END | BPF_X).add(BPF_ALU64 | BPF_END | BPF_K);
  const jmp = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE];
  for (const c of [BPF_JMP, BPF_JMP32]) {
    for (const o of jmp) s.add(c | o | BPF_K).add(c | o | BPF_X);
    s.add(c | BPF_JA | BPF_K);
  }
  s.add(BPF_JMP | BPF_JA | BPF_X);
  s.add(BPF_JMP | BPF_CALL).add(BPF_JMP | BPF_EXIT).add(BPF_JMP | BPF_JCOND);
  for (const sz of [BPF_B, BPF_H, BPF_W, BPF_DW]) {
    s.add(BPF_LDX | BPF_MEM | sz).add(BPF_STX | BPF_MEM | sz).add(BPF_ST | BPF_MEM | sz);
    s.add(BPF_STX | BPF_ATOMIC | sz);
    if (sz !== BPF_DW) s.add(BPF_LDX | BPF_MEMSX | sz).add(BPF_LD | BPF_ABS | sz).add(BPF_LD | BPF_IND | sz);
  }
  s.add(BPF_LD | BPF_IMM | BPF_DW);
  return s;
})();

export function opcodeInInsnTable(code: number): boolean {
  return INSN_TABLE.has(code);
}
