/**
 * The structural checks a classic program must pass before it runs: by
 * default Linux's (`bpf_check_classic`, what SO_ATTACH_FILTER, seccomp and
 * BPF_PROG_LOAD of a classic program enforce), or libpcap's looser
 * `bpf_validate` (which lets `ja` go backwards, as its `protochain` code
 * needs). The first problem found is reported as a ClassicCheckError naming
 * the instruction and the rule, in the order the kernel finds them.
 */
import { TsbpfError } from '../errors.js';
import { AluOp, Ancillary, Class, JmpOp, MAXINSNS, MEMWORDS, MiscOp, Mode, RetVal, SKF_AD_OFF, Size, Src } from './insn.js';
import type { CbpfInsn } from './insn.js';

/** Which rule a program broke. */
export type ClassicRule =
  | 'length' | 'opcode' | 'division-by-zero' | 'shift' | 'scratch-slot' | 'jump-range' | 'ancillary' | 'last-ret' | 'scratch-uninit';

/** A classic program that does not pass the checks; `rule` says which, `location.insn` where. */
export class ClassicCheckError extends TsbpfError {
  constructor(readonly rule: ClassicRule, reason: string, pc?: number) {
    super(reason, pc === undefined ? {} : { insn: pc });
  }
}

/** Options of {@link checkClassic}. */
export interface CheckOptions {
  /** Whose rules: Linux's (default) or libpcap's `bpf_validate`. */
  rules?: 'linux' | 'libpcap';
}

/** The opcodes Linux accepts in a classic program (exact values, as the kernel's table lists them). */
export const LINUX_CLASSIC_OPCODES: ReadonlySet<number> = new Set([
  ...[AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.MOD, AluOp.AND, AluOp.OR, AluOp.XOR, AluOp.LSH, AluOp.RSH]
    .flatMap((o) => [Class.ALU | o | Src.K, Class.ALU | o | Src.X]),
  Class.ALU | AluOp.NEG,
  ...[Size.W, Size.H, Size.B].flatMap((s) => [Class.LD | s | Mode.ABS, Class.LD | s | Mode.IND]),
  Class.LD | Size.W | Mode.LEN, Class.LD | Mode.IMM, Class.LD | Mode.MEM,
  Class.LDX | Size.W | Mode.LEN, Class.LDX | Size.B | Mode.MSH, Class.LDX | Mode.IMM, Class.LDX | Mode.MEM,
  Class.ST, Class.STX, Class.MISC | MiscOp.TAX, Class.MISC | MiscOp.TXA, Class.RET | RetVal.K, Class.RET | RetVal.A,
  Class.JMP | JmpOp.JA,
  ...[JmpOp.JEQ, JmpOp.JGE, JmpOp.JGT, JmpOp.JSET].flatMap((o) => [Class.JMP | o | Src.K, Class.JMP | o | Src.X]),
]);

/** Ancillary offsets (after SKF_AD_OFF) the kernel knows; an absolute load at any other offset from SKF_AD_OFF on is refused. */
const KNOWN_ANCILLARY = new Set<number>(Object.values(Ancillary));

const hex = (code: number): string => `0x${code.toString(16).padStart(2, '0')}`;

/** Checks `prog` and throws a {@link ClassicCheckError} for the first rule it breaks. */
export function checkClassic(prog: readonly CbpfInsn[], options: CheckOptions = {}): void {
  const problem = findClassicProblem(prog, options);
  if (problem) throw problem;
}

/** The first rule `prog` breaks, as an error (not thrown), or null when it passes. */
export function findClassicProblem(prog: readonly CbpfInsn[], options: CheckOptions = {}): ClassicCheckError | null {
  return options.rules === 'libpcap' ? libpcapProblem(prog) : linuxProblem(prog);
}

function linuxProblem(prog: readonly CbpfInsn[]): ClassicCheckError | null {
  const flen = prog.length;
  if (flen === 0 || flen > MAXINSNS) return new ClassicCheckError('length', `a classic program has 1 to ${MAXINSNS} instructions, not ${flen}`);
  for (let pc = 0; pc < flen; pc++) {
    const { code, k: rawK, jt, jf } = prog[pc]!;
    const k = rawK >>> 0;
    if (!LINUX_CLASSIC_OPCODES.has(code)) {
      return new ClassicCheckError('opcode', `opcode ${hex(code)} is not a classic instruction Linux accepts${code === (Class.RET | RetVal.X) ? ' (Linux has no ret x)' : ''}`, pc);
    }
    switch (code) {
      case Class.ALU | AluOp.DIV | Src.K:
      case Class.ALU | AluOp.MOD | Src.K:
        if (k === 0) return new ClassicCheckError('division-by-zero', `${code === (Class.ALU | AluOp.DIV) ? 'division' : 'modulo'} by the constant 0`, pc);
        break;
      case Class.ALU | AluOp.LSH | Src.K:
      case Class.ALU | AluOp.RSH | Src.K:
        if (k >= 32) return new ClassicCheckError('shift', `shift by the constant ${k}: Linux allows 0 to 31`, pc);
        break;
      case Class.LD | Mode.MEM:
      case Class.LDX | Mode.MEM:
      case Class.ST:
      case Class.STX:
        if (k >= MEMWORDS) return new ClassicCheckError('scratch-slot', `scratch slot M[${k}] does not exist (M[0] to M[${MEMWORDS - 1}])`, pc);
        break;
      case Class.JMP | JmpOp.JA:
        // Unsigned in Linux: a "backward" ja is a jump far past the end.
        if (k >= flen - pc - 1) return new ClassicCheckError('jump-range', `ja +${k} jumps to ${pc + 1 + k}, past the last instruction ${flen - 1}${(k | 0) < 0 ? ' (Linux jumps only forward)' : ''}`, pc);
        break;
      case Class.LD | Size.W | Mode.ABS:
      case Class.LD | Size.H | Mode.ABS:
      case Class.LD | Size.B | Mode.ABS:
        if (k >= SKF_AD_OFF >>> 0 && !KNOWN_ANCILLARY.has(k - (SKF_AD_OFF >>> 0))) {
          return new ClassicCheckError('ancillary', `absolute load at SKF_AD_OFF + ${k - (SKF_AD_OFF >>> 0)}: no such ancillary data`, pc);
        }
        break;
      default:
        if ((code & 0x07) === Class.JMP && (pc + jt + 1 >= flen || pc + jf + 1 >= flen)) {
          return new ClassicCheckError('jump-range', `jt ${jt} / jf ${jf} jumps to ${pc + 1 + Math.max(jt, jf)}, past the last instruction ${flen - 1}`, pc);
        }
    }
  }
  const last = prog[flen - 1]!.code;
  if (last !== (Class.RET | RetVal.K) && last !== (Class.RET | RetVal.A)) {
    return new ClassicCheckError('last-ret', 'the last instruction must be ret #k or ret a', flen - 1);
  }
  return scratchProblem(prog);
}

/**
 * Linux's check that scratch memory is written before it is read: one pass
 * in program order, where each jump target receives the slots written on
 * every jump to it and the instruction after a jump starts from nothing
 * known. The instruction after a `ret` keeps the `ret`'s state, as in the
 * kernel (so this can refuse a program whose every path is fine).
 */
function scratchProblem(prog: readonly CbpfInsn[]): ClassicCheckError | null {
  const all = (1 << MEMWORDS) - 1;
  const masks = new Array<number>(prog.length).fill(all);
  let valid = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    valid &= masks[pc]!;
    const { code, k, jt, jf } = prog[pc]!;
    switch (code) {
      case Class.ST:
      case Class.STX:
        valid |= 1 << k;
        break;
      case Class.LD | Mode.MEM:
      case Class.LDX | Mode.MEM:
        if ((valid & (1 << k)) === 0) return new ClassicCheckError('scratch-uninit', `M[${k}] is read before it is written on some path`, pc);
        break;
      case Class.JMP | JmpOp.JA:
        masks[pc + 1 + (k >>> 0)]! &= valid;
        valid = all;
        break;
      default:
        if ((code & 0x07) === Class.JMP) {
          masks[pc + 1 + jt]! &= valid;
          masks[pc + 1 + jf]! &= valid;
          valid = all;
        }
    }
  }
  return null;
}

/** libpcap's `bpf_validate`: field by field, any ret and misc, jumps inside the program (ja may wrap backwards). */
function libpcapProblem(prog: readonly CbpfInsn[]): ClassicCheckError | null {
  const len = prog.length;
  if (len < 1) return new ClassicCheckError('length', 'a classic program has at least 1 instruction');
  for (let i = 0; i < len; i++) {
    const { code, k: rawK, jt, jf } = prog[i]!;
    const k = rawK >>> 0;
    const bad = (): ClassicCheckError => new ClassicCheckError('opcode', `opcode ${hex(code)} is not a classic instruction libpcap accepts`, i);
    switch (code & 0x07) {
      case Class.LD:
      case Class.LDX:
        switch (code & 0xe0) {
          case Mode.IMM: case Mode.ABS: case Mode.IND: case Mode.MSH: case Mode.LEN: break;
          case Mode.MEM:
            if (k >= MEMWORDS) return new ClassicCheckError('scratch-slot', `scratch slot M[${k}] does not exist (M[0] to M[${MEMWORDS - 1}])`, i);
            break;
          default: return bad();
        }
        break;
      case Class.ST:
      case Class.STX:
        if (k >= MEMWORDS) return new ClassicCheckError('scratch-slot', `scratch slot M[${k}] does not exist (M[0] to M[${MEMWORDS - 1}])`, i);
        break;
      case Class.ALU:
        switch (code & 0xf0) {
          case AluOp.DIV: case AluOp.MOD:
            if ((code & 0x08) === Src.K && k === 0) return new ClassicCheckError('division-by-zero', `${(code & 0xf0) === AluOp.DIV ? 'division' : 'modulo'} by the constant 0`, i);
            break;
          case AluOp.ADD: case AluOp.SUB: case AluOp.MUL: case AluOp.OR: case AluOp.AND: case AluOp.XOR: case AluOp.LSH: case AluOp.RSH: case AluOp.NEG:
            break;
          default: return bad();
        }
        break;
      case Class.JMP: {
        const from = i + 1;
        switch (code & 0xf0) {
          case JmpOp.JA:
            // u_int arithmetic: a ja whose target wraps around to inside the program is a backward jump, allowed.
            if ((from + k) >>> 0 >= len) return new ClassicCheckError('jump-range', `ja jumps to ${(from + k) | 0}, outside the program (0 to ${len - 1})`, i);
            break;
          case JmpOp.JEQ: case JmpOp.JGT: case JmpOp.JGE: case JmpOp.JSET:
            if (from + jt >= len || from + jf >= len) return new ClassicCheckError('jump-range', `jt ${jt} / jf ${jf} jumps to ${from + Math.max(jt, jf)}, past the last instruction ${len - 1}`, i);
            break;
          default: return bad();
        }
        break;
      }
      case Class.RET:
      case Class.MISC:
        break;
      default:
        return bad();
    }
  }
  if ((prog[len - 1]!.code & 0x07) !== Class.RET) return new ClassicCheckError('last-ret', 'the last instruction must be a ret', len - 1);
  return null;
}
