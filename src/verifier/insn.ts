/**
 * Raw instruction slots as the verifier sees them (the kernel checks fields
 * lazily, instruction by instruction, so decoding must not refuse anything
 * up front) and their text exactly as the kernel's `print_bpf_insn` prints
 * it in the verifier log.
 */
import { HELPER_NAMES } from '../isa/helpers.js';

/** One 8-byte slot. */
export interface RawInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Reads the slots of a program (little-endian). */
export function readInsns(bytes: Uint8Array): RawInsn[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RawInsn[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    const regs = view.getUint8(i + 1);
    out.push({ code: view.getUint8(i), dst: regs & 0x0f, src: regs >> 4, off: view.getInt16(i + 2, true), imm: view.getInt32(i + 4, true) });
  }
  return out;
}

export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

export const BPF_K = 0x00;
export const BPF_X = 0x08;

export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
export const BPF_JCOND = 0xe0;

export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;

export const PSEUDO_MAP_FD = 1;
export const PSEUDO_MAP_VALUE = 2;
export const PSEUDO_BTF_ID = 3;
export const PSEUDO_FUNC = 4;
export const PSEUDO_MAP_IDX = 5;
export const PSEUDO_MAP_IDX_VALUE = 6;
export const PSEUDO_CALL = 1;
export const PSEUDO_KFUNC_CALL = 2;

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

const ALU_STR: Record<number, string> = {
  [BPF_ADD]: '+=', [BPF_SUB]: '-=', [BPF_MUL]: '*=', [BPF_DIV]: '/=', [BPF_OR]: '|=', [BPF_AND]: '&=',
  [BPF_LSH]: '<<=', [BPF_RSH]: '>>=', [BPF_NEG]: 'neg', [BPF_MOD]: '%=', [BPF_XOR]: '^=', [BPF_MOV]: '=',
  [BPF_ARSH]: 's>>=', [BPF_END]: 'endian',
};

/** `bpf_alu_string[op >> 4]` (used in messages). */
export function aluString(opcode: number): string {
  return ALU_STR[opcode] ?? '(null)';
}

const JMP_STR: Record<number, string> = {
  [BPF_JA]: 'jmp', [BPF_JEQ]: '==', [BPF_JGT]: '>', [BPF_JLT]: '<', [BPF_JGE]: '>=', [BPF_JLE]: '<=',
  [BPF_JSET]: '&', [BPF_JNE]: '!=', [BPF_JSGT]: 's>', [BPF_JSLT]: 's<', [BPF_JSGE]: 's>=', [BPF_JSLE]: 's<=',
  [BPF_CALL]: 'call', [BPF_EXIT]: 'exit',
};
const LDST: Record<number, string> = { [BPF_W]: 'u32', [BPF_H]: 'u16', [BPF_B]: 'u8', [BPF_DW]: 'u64' };
const LDSX: Record<number, string> = { [BPF_W]: 's32', [BPF_H]: 's16', [BPF_B]: 's8', [BPF_DW]: 's64' };
const CLASS_STR = ['ld', 'ldx', 'st', 'stx', 'alu', 'jmp', 'jmp32', 'alu64'];

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function plus(n: number): string {
  return n < 0 ? String(n) : `+${n}`;
}

/** Name of helper `id` as the kernel's `func_id_name` gives it. */
export function funcIdName(id: number): string {
  return id >= 0 && id < HELPER_NAMES.length ? HELPER_NAMES[id]! : 'unknown';
}

/**
 * The kernel's text of instruction `i` (without the `N: ` prefix and
 * newline). `next` is the second slot of a `lddw`; `imm64` overrides the
 * printed 64-bit value (the kernel prints resolved map addresses).
 */
export function insnText(i: RawInsn, next: RawInsn | undefined, imm64?: bigint): string {
  const c = i.code;
  const k = cls(c);
  const o = op(c);
  const code = `(${hex2(c)})`;
  if (k === BPF_ALU || k === BPF_ALU64) {
    const p = k === BPF_ALU ? 'w' : 'r';
    if (o === BPF_END) {
      if (k === BPF_ALU64) return `${code} r${i.dst} = bswap${i.imm} r${i.dst}`;
      return `${code} r${i.dst} = ${srcBit(c) ? 'be' : 'le'}${i.imm} r${i.dst}`;
    }
    if (o === BPF_NEG) return `${code} ${p}${i.dst} = -${p}${i.dst}`;
    if (c === (BPF_ALU64 | BPF_MOV | BPF_X) && i.off === 1) {
      return `${code} r${i.dst} = addr_space_cast(r${i.src}, ${(i.imm >>> 16)}, ${i.imm & 0xffff})`;
    }
    const sdiv = (o === BPF_DIV || o === BPF_MOD) && i.off === 1;
    const opStr = sdiv ? (o === BPF_DIV ? 's/=' : 's%=') : aluString(o);
    if (srcBit(c)) {
      const movsx = o === BPF_MOV && (i.off === 8 || i.off === 16 || i.off === 32) ? `(s${i.off})` : '';
      return `${code} ${p}${i.dst} ${opStr} ${movsx}${p}${i.src}`;
    }
    return `${code} ${p}${i.dst} ${opStr} ${i.imm}`;
  }
  if (k === BPF_STX) {
    const sz = LDST[size(c)]!;
    const m = mode(c);
    if (m === BPF_MEM) return `${code} *(${sz} *)(r${i.dst} ${plus(i.off)}) = r${i.src}`;
    if (m === BPF_ATOMIC) {
      const w = size(c) === BPF_DW ? '64' : '';
      if (i.imm === BPF_ADD || i.imm === BPF_AND || i.imm === BPF_OR || i.imm === BPF_XOR) {
        return `${code} lock *(${sz} *)(r${i.dst} ${plus(i.off)}) ${aluString(i.imm)} r${i.src}`;
      }
      if (i.imm === (BPF_ADD | BPF_FETCH) || i.imm === (BPF_AND | BPF_FETCH) || i.imm === (BPF_OR | BPF_FETCH) || i.imm === (BPF_XOR | BPF_FETCH)) {
        const name = { [BPF_ADD]: 'add', [BPF_AND]: 'and', [BPF_OR]: 'or', [BPF_XOR]: 'xor' }[i.imm & 0xf0]!;
        return `${code} r${i.src} = atomic${w}_fetch_${name}((${sz} *)(r${i.dst} ${plus(i.off)}), r${i.src})`;
      }
      if (i.imm === BPF_CMPXCHG) return `${code} r0 = atomic${w}_cmpxchg((${sz} *)(r${i.dst} ${plus(i.off)}), r0, r${i.src})`;
      if (i.imm === BPF_XCHG) return `${code} r${i.src} = atomic${w}_xchg((${sz} *)(r${i.dst} ${plus(i.off)}), r${i.src})`;
      if (i.imm === BPF_LOAD_ACQ) return `${code} r${i.dst} = load_acquire((${sz} *)(r${i.src} ${plus(i.off)}))`;
      if (i.imm === BPF_STORE_REL) return `${code} store_release((${sz} *)(r${i.dst} ${plus(i.off)}), r${i.src})`;
    }
    return `BUG_${hex2(c)}`;
  }
  if (k === BPF_ST) {
    if (mode(c) === BPF_MEM) return `${code} *(${LDST[size(c)]} *)(r${i.dst} ${plus(i.off)}) = ${i.imm}`;
    return `BUG_st_${hex2(c)}`;
  }
  if (k === BPF_LDX) {
    const m = mode(c);
    if (m !== BPF_MEM && m !== BPF_MEMSX) return `BUG_ldx_${hex2(c)}`;
    return `${code} r${i.dst} = *(${m === BPF_MEM ? LDST[size(c)] : LDSX[size(c)]} *)(r${i.src} ${plus(i.off)})`;
  }
  if (k === BPF_LD) {
    const m = mode(c);
    if (m === BPF_ABS) return `${code} r0 = *(${LDST[size(c)]} *)skb[${i.imm}]`;
    if (m === BPF_IND) return `${code} r0 = *(${LDST[size(c)]} *)skb[r${i.src} + ${i.imm}]`;
    if (m === BPF_IMM && size(c) === BPF_DW) {
      const v = imm64 ?? ((BigInt((next?.imm ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0));
      return `${code} r${i.dst} = 0x${v.toString(16)}`;
    }
    return `BUG_ld_${hex2(c)}`;
  }
  if (k === BPF_JMP || k === BPF_JMP32) {
    if (o === BPF_CALL) {
      if (i.src === PSEUDO_CALL) return `${code} call pc${plus(i.imm)}`;
      if (i.src === PSEUDO_KFUNC_CALL) return `${code} call <error>#${i.imm}`;
      const name = i.src === 0 && i.imm >= 0 && i.imm < HELPER_NAMES.length ? HELPER_NAMES[i.imm]! : 'unknown';
      return `${code} call ${name}#${i.imm}`;
    }
    if (c === (BPF_JMP | BPF_JA)) return `${code} goto pc${plus(i.off)}`;
    if (c === (BPF_JMP | BPF_JA | BPF_X)) return `${code} gotox r${i.dst}`;
    if (c === (BPF_JMP | BPF_JCOND) && i.src === 0) return `${code} may_goto pc${plus(i.off)}`;
    if (c === (BPF_JMP32 | BPF_JA)) return `${code} gotol pc${plus(i.imm)}`;
    if (c === (BPF_JMP | BPF_EXIT)) return `${code} exit`;
    const p = k === BPF_JMP32 ? 'w' : 'r';
    const js = JMP_STR[o] ?? '(null)';
    if (srcBit(c)) return `${code} if ${p}${i.dst} ${js} ${p}${i.src} goto pc${plus(i.off)}`;
    return `${code} if ${p}${i.dst} ${js} 0x${(i.imm >>> 0).toString(16)} goto pc${plus(i.off)}`;
  }
  return `${code} ${CLASS_STR[k]}`;
}
