/**
 * The kernel printer: instruction text exactly as the Linux verifier log
 * prints it (`print_bpf_insn` in kernel/bpf/disasm.c, Linux 6.x):
 * `(b7) r0 = 0`, `(61) r2 = *(u32 *)(r1 +4)`, `(15) if r2 == 0x0 goto pc+3`,
 * `(85) call bpf_map_lookup_elem#1`. Printing only: the LLVM parser reads
 * this spelling back.
 */
import type { Instruction } from '../isa/index.js';
import { helperName, toSlots } from '../isa/index.js';
import { LLVM_ALU_OPS, LLVM_ATOMIC_OPS, LLVM_JMP_OPS } from './llvm-printer.js';

/** `%+d`. */
function plus(n: number): string {
  return n < 0 ? String(n) : `+${n}`;
}

/** `(r%d %+d)`: the kernel's memory operand. */
function mem(base: number, off: number): string {
  return `(r${base} ${plus(off)})`;
}

/** The text after the `(xx) ` opcode. */
function body(insn: Instruction): string {
  switch (insn.kind) {
    case 'alu': {
      const p = insn.wide ? 'r' : 'w';
      const cast = insn.op.startsWith('movsx') ? `(s${insn.op.slice(5)})` : '';
      return `${p}${insn.dst} ${LLVM_ALU_OPS[insn.op]} ${insn.useReg ? `${cast}${p}${insn.src}` : insn.imm}`;
    }
    case 'neg': {
      const d = `${insn.wide ? 'r' : 'w'}${insn.dst}`;
      return `${d} = -${d}`;
    }
    case 'endian':
      return `r${insn.dst} = ${insn.order === 'swap' ? 'bswap' : insn.order}${insn.bits} r${insn.dst}`;
    case 'addr_space_cast':
      return `r${insn.dst} = addr_space_cast(r${insn.src}, ${insn.imm >>> 16}, ${insn.imm & 0xffff})`;
    case 'jmp': {
      const p = insn.wide ? 'r' : 'w';
      const rhs = insn.useReg ? `${p}${insn.src}` : `0x${(insn.imm >>> 0).toString(16)}`;
      return `if ${p}${insn.dst} ${LLVM_JMP_OPS[insn.op]} ${rhs} goto pc${plus(insn.off)}`;
    }
    case 'ja':
      return `goto pc${plus(insn.off)}`;
    case 'gotol':
      return `gotol pc${plus(insn.imm)}`;
    case 'may_goto':
      return `may_goto pc${plus(insn.off)}`;
    case 'call':
      if (insn.src === 1) return `call pc${plus(insn.imm)}`;
      if (insn.src === 2) return `call kernel-function#${insn.imm}`;
      return `call ${helperName(insn.imm) ?? 'unknown'}#${insn.imm}`;
    case 'callx':
      // Linux has no text for 0x8d (its verifier rejects it); this is tsbpf's.
      return `callx r${insn.dst}`;
    case 'exit':
      return 'exit';
    case 'ldx':
      return `r${insn.dst} = *(${insn.signed ? 's' : 'u'}${insn.size * 8} *)${mem(insn.src, insn.off)}`;
    case 'st':
      return `*(u${insn.size * 8} *)${mem(insn.dst, insn.off)} = ${insn.imm}`;
    case 'stx':
      return `*(u${insn.size * 8} *)${mem(insn.dst, insn.off)} = r${insn.src}`;
    case 'atomic': {
      const type = `u${insn.size * 8}`;
      const at = mem(insn.dst, insn.off);
      const w = insn.size === 8 ? '64' : '';
      switch (insn.op) {
        case 'load_acq':
          return `r${insn.dst} = load_acquire((${type} *)${mem(insn.src, insn.off)})`;
        case 'store_rel':
          return `store_release((${type} *)${at}, r${insn.src})`;
        case 'xchg':
          return `r${insn.src} = atomic${w}_xchg((${type} *)${at}, r${insn.src})`;
        case 'cmpxchg':
          return `r0 = atomic${w}_cmpxchg((${type} *)${at}, r0, r${insn.src})`;
        default:
          if (insn.fetch) return `r${insn.src} = atomic${w}_fetch_${insn.op}((${type} *)${at}, r${insn.src})`;
          return `lock *(${type} *)${at} ${LLVM_ATOMIC_OPS[insn.op]} r${insn.src}`;
      }
    }
    case 'lddw': {
      // The kernel prints the 64-bit immediate; for map and BTF pseudo
      // sources its log shows the resolved kernel address instead.
      const v = (BigInt(insn.imm2 >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      return `r${insn.dst} = 0x${v.toString(16)}`;
    }
    case 'ldabs':
      return `r0 = *(u${insn.size * 8} *)skb[${insn.imm}]`;
    case 'ldind':
      return `r0 = *(u${insn.size * 8} *)skb[r${insn.src} + ${insn.imm}]`;
  }
}

/** Formats one instruction as the Linux verifier log does, opcode included. */
export function formatKernel(insn: Instruction): string {
  const code = toSlots(insn)[0]!.code;
  return `(${code.toString(16).padStart(2, '0')}) ${body(insn)}`;
}
