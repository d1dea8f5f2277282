/**
 * The LLVM printer: instruction text exactly as `llvm-objdump-19 -d` prints
 * it (without the `<label>` annotation objdump appends to branches), and a
 * documented spelling for what llvm-objdump-19 cannot print without losing
 * information (see docs/assembly.md, "LLVM syntax: extensions").
 */
import type { AluOpName, Instruction, JmpOpName } from '../isa/index.js';

/** ALU operators as LLVM writes them (`movsx*` are `=` with a cast). */
export const LLVM_ALU_OPS: Readonly<Record<AluOpName, string>> = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', sdiv: 's/=', or: '|=', and: '&=', lsh: '<<=', rsh: '>>=',
  mod: '%=', smod: 's%=', xor: '^=', mov: '=', arsh: 's>>=', movsx8: '=', movsx16: '=', movsx32: '=',
};

/** Comparison operators of conditional jumps. */
export const LLVM_JMP_OPS: Readonly<Record<JmpOpName, string>> = {
  jeq: '==', jgt: '>', jge: '>=', jset: '&', jne: '!=', jsgt: 's>', jsge: 's>=', jlt: '<', jle: '<=', jslt: 's<', jsle: 's<=',
};

/** Operators of the plain (non-fetch) atomic read-modify-write forms. */
export const LLVM_ATOMIC_OPS = { add: '+=', or: '|=', and: '&=', xor: '^=' } as const;

/** LLVM's immediate format: `0x1f`, `-0x1` (signed). */
export function llvmHex(n: number | bigint): string {
  const v = BigInt(n);
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** A branch offset: `+0x2`, `-0x3`, `+0x0`. */
function branch(n: number): string {
  return n < 0 ? llvmHex(n) : `+${llvmHex(n)}`;
}

/** A memory operand body: `r1 + 0x4`, `r10 - 0x8`. */
function addr(base: number, off: number): string {
  return `r${base} ${off < 0 ? '-' : '+'} ${llvmHex(Math.abs(off))}`;
}

function u32(n: number): string {
  return llvmHex(n >>> 0);
}

/**
 * Formats one instruction in LLVM syntax. `label` names the branch target
 * (printed instead of the offset).
 */
export function formatLlvm(insn: Instruction, label?: string): string {
  switch (insn.kind) {
    case 'alu': {
      const p = insn.wide ? 'r' : 'w';
      const dst = `${p}${insn.dst}`;
      if (insn.op.startsWith('movsx')) return `${dst} = (s${insn.op.slice(5)})${p}${insn.src}`;
      return `${dst} ${LLVM_ALU_OPS[insn.op]} ${insn.useReg ? p + insn.src : llvmHex(insn.imm)}`;
    }
    case 'neg': {
      const d = `${insn.wide ? 'r' : 'w'}${insn.dst}`;
      return `${d} = -${d}`;
    }
    case 'endian':
      return `r${insn.dst} = ${insn.order === 'swap' ? 'bswap' : insn.order}${insn.bits} r${insn.dst}`;
    case 'addr_space_cast':
      return `r${insn.dst} = addr_space_cast(r${insn.src}, ${llvmHex(insn.imm >>> 16)}, ${llvmHex(insn.imm & 0xffff)})`;
    case 'jmp': {
      const p = insn.wide ? 'r' : 'w';
      const rhs = insn.useReg ? `${p}${insn.src}` : llvmHex(insn.imm);
      return `if ${p}${insn.dst} ${LLVM_JMP_OPS[insn.op]} ${rhs} goto ${label ?? branch(insn.off)}`;
    }
    case 'ja':
      return `goto ${label ?? branch(insn.off)}`;
    case 'gotol':
      return `gotol ${label ?? branch(insn.imm)}`;
    case 'may_goto':
      return `may_goto ${label ?? branch(insn.off)}`;
    case 'call':
      if (insn.src === 1) return `call ${label ?? 'pc' + branch(insn.imm)}`;
      return insn.src === 2 ? `call kfunc ${llvmHex(insn.imm)}` : `call ${llvmHex(insn.imm)}`;
    case 'callx':
      return `callx r${insn.dst}`;
    case 'exit':
      return 'exit';
    case 'ldx':
      return `r${insn.dst} = *(${insn.signed ? 's' : 'u'}${insn.size * 8} *)(${addr(insn.src, insn.off)})`;
    case 'st':
      return `*(u${insn.size * 8} *)(${addr(insn.dst, insn.off)}) = ${llvmHex(insn.imm)}`;
    case 'stx':
      return `*(u${insn.size * 8} *)(${addr(insn.dst, insn.off)}) = r${insn.src}`;
    case 'atomic':
      return formatAtomic(insn);
    case 'lddw': {
      if (insn.pseudo === 0) {
        const v = (BigInt(insn.imm2) << 32n) | BigInt(insn.imm >>> 0);
        return `r${insn.dst} = ${llvmHex(BigInt.asIntN(64, v))} ll`;
      }
      const first = insn.pseudo === 4 && label !== undefined ? label : u32(insn.imm);
      const second = insn.imm2 !== 0 ? `, ${u32(insn.imm2)}` : '';
      return `ld_pseudo\tr${insn.dst}, ${llvmHex(insn.pseudo)}, ${first}${second}`;
    }
    case 'ldabs':
      return `r0 = *(u${insn.size * 8} *)skb[${llvmHex(insn.imm)}]`;
    case 'ldind': {
      const extra = insn.imm === 0 ? '' : ` ${insn.imm < 0 ? '-' : '+'} ${llvmHex(Math.abs(insn.imm))}`;
      return `r0 = *(u${insn.size * 8} *)skb[r${insn.src}${extra}]`;
    }
  }
}

function formatAtomic(insn: Extract<Instruction, { kind: 'atomic' }>): string {
  const type = `u${insn.size * 8}`;
  const at = addr(insn.dst, insn.off);
  // llvm-objdump-19 (no --mcpu) prints 32-bit atomics other than `lock ... += rN`
  // as <unknown> or wrongly; we print them as it does with --mcpu=v3 (wN operands).
  const p = insn.size === 8 ? 'r' : 'w';
  const s = `${p}${insn.src}`;
  switch (insn.op) {
    case 'load_acq':
      return `${insn.size === 8 ? 'r' : 'w'}${insn.dst} = load_acquire((${type} *)(${addr(insn.src, insn.off)}))`;
    case 'store_rel':
      return `store_release((${type} *)(${at}), ${s})`;
    case 'xchg':
      return insn.size === 8 ? `${s} = xchg_64(${at}, ${s})` : `${s} = xchg32_32(${at}, ${s})`;
    case 'cmpxchg':
      return insn.size === 8 ? `r0 = cmpxchg_64(${at}, r0, ${s})` : `w0 = cmpxchg32_32(${at}, w0, ${s})`;
    default:
      if (insn.fetch) return `${s} = atomic_fetch_${insn.op}((${type} *)(${at}), ${s})`;
      if (insn.size === 4 && insn.op === 'add') return `lock *(${type} *)(${at}) += r${insn.src}`;
      return `lock *(${type} *)(${at}) ${LLVM_ATOMIC_OPS[insn.op]} ${s}`;
  }
}
