/**
 * The kernel printer: instruction text exactly as the Linux verifier log
 * prints it (`print_bpf_insn` in kernel/bpf/disasm.c, Linux 6.x):
 * `(b7) r0 = 0`, `(61) r2 = *(u32 *)(r1 +4)`, `(15) if r2 == 0x0 goto pc+3`,
 * `(85) call bpf_map_lookup_elem#1`. It prints raw slots, so the verifier
 * can print what it refuses; typed instructions go through their slots.
 * Printing only: the LLVM parser reads this spelling back.
 */
import type { Instruction, RawSlot } from '../isa/index.js';
import { funcIdName, toSlots } from '../isa/index.js';
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_B, BPF_CALL, BPF_CMPXCHG, BPF_DIV, BPF_DW,
  BPF_END, BPF_EXIT, BPF_FETCH, BPF_H, BPF_IMM, BPF_IND, BPF_JA, BPF_JCOND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT,
  BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH,
  BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_ST, BPF_STORE_REL, BPF_STX, BPF_SUB,
  BPF_W, BPF_X, BPF_XCHG, BPF_XOR, PSEUDO_CALL, PSEUDO_KFUNC_CALL, cls, mode, op, size, srcBit,
} from '../isa/raw.js';

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

/**
 * The kernel's text of the instruction in slot `i` (without the `N: `
 * prefix and newline), for any slot, even one the verifier refuses (the
 * kernel prints `BUG_...` for those). `next` is the second slot of a
 * `lddw`; `imm64` overrides the printed 64-bit value (the verifier log
 * shows resolved map addresses); `kfuncName` is what a kfunc call is
 * called (the verifier log names the kernel function, or `<error>`).
 */
export function formatKernelSlot(i: RawSlot, next: RawSlot | undefined, imm64?: bigint, kfuncName = '<error>'): string {
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
      if (i.src === PSEUDO_KFUNC_CALL) return `${code} call ${kfuncName}#${i.imm}`;
      return `${code} call ${i.src === 0 ? funcIdName(i.imm) : 'unknown'}#${i.imm}`;
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

/** Formats one instruction as the Linux verifier log does, opcode included. */
export function formatKernel(insn: Instruction): string {
  const [first, second] = toSlots(insn);
  // Linux has no text for 0x8d (its verifier rejects it); this is tsbpf's.
  if (insn.kind === 'callx') return `(${hex2(first!.code)}) callx r${insn.dst}`;
  return formatKernelSlot(first!, second, undefined, 'kernel-function');
}
