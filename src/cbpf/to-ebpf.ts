/**
 * Classic programs translated to eBPF the way Linux's `bpf_convert_filter`
 * does it, for a socket filter (`struct __sk_buff` context): A lives in r0,
 * X in r7, the context in r6 (so the legacy packet loads find it), the
 * scratch words `M[k]` on the stack at `r10 - 4(k+1)`, r2 is a temporary.
 * Packet loads become the legacy `ldabs`/`ldind` instructions, which leave
 * 0 in r0 and end the program when out of bounds, as classic loads do; the
 * ancillary loads become reads of `__sk_buff` fields or helper calls.
 * Anything tsbpf cannot express is a ClassicTranslateError naming the
 * classic instruction.
 */
import { TsbpfError } from '../errors.js';
import type { AluOpName, Instruction, JmpOpName } from '../isa/instruction.js';
import { Ancillary, AluOp, Class, JmpOp, MiscOp, Mode, RetVal, SKF_AD_OFF, Size, Src } from './insn.js';
import type { CbpfInsn } from './insn.js';
import { checkClassic } from './classic-check.js';
import type { CheckOptions } from './classic-check.js';
import { ANCILLARY_NAMES } from './listings.js';

/** A classic instruction with no eBPF equivalent in tsbpf. */
export class ClassicTranslateError extends TsbpfError {
  constructor(reason: string, pc: number) {
    super(reason, { insn: pc });
  }
}

/**
 * `struct __sk_buff` offsets the translation reads (UAPI; the same as
 * hooks' SkBuff table, which cbpf may not import).
 */
export const SK_BUFF_FIELDS = { len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28, ifindex: 40, hash: 68 } as const;

/** Registers of the translation (Linux's BPF_REG_A, _X, _CTX, _TMP). */
export const ClassicRegs = { A: 0, X: 7, CTX: 6, TMP: 2 } as const;

/** Helper ids the translation calls (`SKF_AD_RANDOM`, `SKF_AD_CPU`). */
const HELPER_PRANDOM = 7;
const HELPER_CPU = 8;

/** Options of {@link classicToEbpf}. */
export interface TranslateOptions {
  /** The rules the program is first checked by (default Linux's; libpcap's allow backward `ja`). */
  rules?: CheckOptions['rules'];
}

const { A, X, CTX, TMP } = ClassicRegs;

const alu = (op: AluOpName, dst: number, operand: { reg: number } | { imm: number }, wide = false): Instruction => ('reg' in operand
  ? { kind: 'alu', op, wide, useReg: true, dst, src: operand.reg, imm: 0 }
  : { kind: 'alu', op, wide, useReg: false, dst, src: 0, imm: operand.imm | 0 });
const ldxw = (dst: number, off: number): Instruction => ({ kind: 'ldx', size: 4, signed: false, dst, src: CTX, off });
const EXIT: Instruction = { kind: 'exit' };

const ALU_NAMES: Partial<Record<number, AluOpName>> = {
  [AluOp.ADD]: 'add', [AluOp.SUB]: 'sub', [AluOp.MUL]: 'mul', [AluOp.DIV]: 'div', [AluOp.MOD]: 'mod', [AluOp.OR]: 'or',
  [AluOp.AND]: 'and', [AluOp.XOR]: 'xor', [AluOp.LSH]: 'lsh', [AluOp.RSH]: 'rsh',
};
const JMP_NAMES: Partial<Record<number, JmpOpName>> = { [JmpOp.JEQ]: 'jeq', [JmpOp.JGT]: 'jgt', [JmpOp.JGE]: 'jge', [JmpOp.JSET]: 'jset' };
/** The condition that holds when `op` does not (for a jump whose true branch falls through). */
const NEGATED: Partial<Record<JmpOpName, JmpOpName>> = { jeq: 'jne', jgt: 'jle', jge: 'jlt' };

/** An eBPF instruction whose jump goes to the start of a classic instruction, resolved once all are laid out. */
interface Pending {
  insn: Instruction;
  /** Classic instruction index the jump goes to. */
  target?: number;
  /** The classic instruction it comes from. */
  from: number;
}

const scratch = (k: number): number => -4 * (k + 1);

/**
 * Translates a classic program (checked first) into eBPF instructions that
 * behave as it does when run as a socket filter on a context whose packet
 * data starts where the classic program's offset 0 is. Encode them with
 * `encodeProgram` from the isa.
 */
export function classicToEbpf(prog: readonly CbpfInsn[], options: TranslateOptions = {}): Instruction[] {
  checkClassic(prog, { rules: options.rules ?? 'linux' });
  const out: Pending[] = [];
  let from = -1;
  const emit = (insn: Instruction, target?: number): void => {
    out.push(target === undefined ? { insn, from } : { insn, target, from });
  };
  // Classic starts with A = X = 0 (Linux clears them with xor, which its verifier, skipped for classic programs,
  // would refuse as a read of an unset register: mov passes it); the context stays where the legacy loads use it.
  emit(alu('mov', A, { imm: 0 }));
  emit(alu('mov', X, { imm: 0 }));
  emit(alu('mov', CTX, { reg: 1 }, true));
  if (options.rules === 'libpcap') {
    // libpcap's checker lets a program read scratch words it never wrote; they read as 0 there, so they must here.
    const used = new Set(prog.filter((i) => i.code === (Class.LD | Mode.MEM) || i.code === (Class.LDX | Mode.MEM)).map((i) => i.k >>> 0));
    for (const k of used) emit({ kind: 'st', size: 4, dst: 10, off: scratch(k), imm: 0 });
  }
  const starts: number[] = [];
  const live = reachable(prog);
  prog.forEach((ci, pc) => {
    from = pc;
    starts.push(out.length);
    // Instructions no path reaches are left out: they change nothing, and an eBPF verifier refuses unreachable code.
    if (live[pc]) translateOne(ci, pc, emit);
  });
  // Resolve jump targets: classic index -> first eBPF instruction of it.
  return out.map(({ insn, target, from: pc }, at) => {
    if (target === undefined) return insn;
    const off = starts[target]! - (at + 1);
    if (off < -32768 || off > 32767) throw new ClassicTranslateError(`the jump to ${target} does not fit in eBPF's 16-bit offset (${off})`, pc);
    return { ...insn, off } as Instruction;
  });
}

/** Which instructions some path from the first one reaches (jumps as the interpreter takes them; `ja` signed). */
function reachable(prog: readonly CbpfInsn[]): boolean[] {
  const seen = new Array<boolean>(prog.length).fill(false);
  const work = [0];
  while (work.length) {
    const pc = work.pop()!;
    if (pc < 0 || pc >= prog.length || seen[pc]) continue;
    seen[pc] = true;
    const { code, k, jt, jf } = prog[pc]!;
    if ((code & 0x07) === Class.RET) continue;
    if ((code & 0x07) === Class.JMP) {
      if ((code & 0xf0) === JmpOp.JA) work.push(pc + 1 + (k | 0));
      else work.push(pc + 1 + jt, pc + 1 + jf);
    } else {
      work.push(pc + 1);
    }
  }
  return seen;
}

function translateOne(ci: CbpfInsn, pc: number, emit: (insn: Instruction, target?: number) => void): void {
  const { code, jt, jf } = ci;
  const k = ci.k >>> 0;
  const fail = (reason: string): never => {
    throw new ClassicTranslateError(reason, pc);
  };
  const bytes = (code & 0x18) === Size.B ? 1 : (code & 0x18) === Size.H ? 2 : 4;
  switch (code & 0x07) {
    case Class.LD:
      switch (code & 0xe0) {
        case Mode.ABS:
          if (k >= SKF_AD_OFF >>> 0) return ancillary(k - (SKF_AD_OFF >>> 0), emit, fail);
          // Offsets of 2^31 and more are negative to eBPF too: SKF_NET_OFF + n and
          // SKF_LL_OFF + n read relative to the headers in both, the others fail in both.
          emit({ kind: 'ldabs', size: bytes as 1 | 2 | 4, imm: k | 0 });
          return;
        case Mode.IND:
          emit({ kind: 'ldind', size: bytes as 1 | 2 | 4, src: X, imm: k | 0 });
          return;
        case Mode.LEN:
          emit(ldxw(A, SK_BUFF_FIELDS.len));
          return;
        case Mode.IMM:
          emit(alu('mov', A, { imm: k }));
          return;
        case Mode.MEM:
          emit({ kind: 'ldx', size: 4, signed: false, dst: A, src: 10, off: scratch(k) });
          return;
      }
      return fail(`opcode 0x${code.toString(16)} has no eBPF translation`);
    case Class.LDX:
      switch (code & 0xe0) {
        case Mode.IMM: emit(alu('mov', X, { imm: k })); return;
        case Mode.LEN: emit(ldxw(X, SK_BUFF_FIELDS.len)); return;
        case Mode.MEM: emit({ kind: 'ldx', size: 4, signed: false, dst: X, src: 10, off: scratch(k) }); return;
        case Mode.MSH:
          // X = 4 * (P[k] & 0xf); the load goes through r0, so A waits in X meanwhile.
          emit(alu('mov', X, { reg: A }, true));
          emit({ kind: 'ldabs', size: 1, imm: k | 0 });
          emit(alu('and', A, { imm: 0xf }));
          emit(alu('lsh', A, { imm: 2 }));
          emit(alu('mov', TMP, { reg: X }, true));
          emit(alu('mov', X, { reg: A }, true));
          emit(alu('mov', A, { reg: TMP }, true));
          return;
      }
      return fail(`opcode 0x${code.toString(16)} has no eBPF translation`);
    case Class.ST:
      emit({ kind: 'stx', size: 4, dst: 10, src: A, off: scratch(k) });
      return;
    case Class.STX:
      emit({ kind: 'stx', size: 4, dst: 10, src: X, off: scratch(k) });
      return;
    case Class.ALU: {
      const op = code & 0xf0;
      if (op === AluOp.NEG) {
        emit({ kind: 'neg', wide: false, dst: A });
        return;
      }
      const name = ALU_NAMES[op];
      if (!name) return fail(`opcode 0x${code.toString(16)} has no eBPF translation`);
      if ((code & 0x08) === Src.X) {
        if (op === AluOp.DIV || op === AluOp.MOD) {
          // Classic division by an X of 0 ends the filter with 0; eBPF's would go on.
          emit({ kind: 'jmp', op: 'jne', wide: true, useReg: false, dst: X, src: 0, imm: 0, off: 2 });
          emit(alu('xor', A, { reg: A }));
          emit(EXIT);
        }
        emit(alu(name, A, { reg: X }));
      } else {
        emit(alu(name, A, { imm: k }));
      }
      return;
    }
    case Class.JMP: {
      const op = code & 0xf0;
      if (op === JmpOp.JA) {
        emit({ kind: 'ja', off: 0 }, pc + 1 + (k | 0));
        return;
      }
      const name = JMP_NAMES[op];
      if (!name) return fail(`opcode 0x${code.toString(16)} has no eBPF translation`);
      let src: { reg: number } | { imm: number };
      if ((code & 0x08) === Src.X) {
        src = { reg: X };
      } else if ((k | 0) < 0) {
        // eBPF sign-extends immediates to 64 bits; A is a zero-extended u32, so compare with a register instead.
        emit(alu('mov', TMP, { imm: k }));
        src = { reg: TMP };
      } else {
        src = { imm: k };
      }
      const jump = (o: JmpOpName, target: number): void => {
        emit('reg' in src
          ? { kind: 'jmp', op: o, wide: true, useReg: true, dst: A, src: src.reg, imm: 0, off: 0 }
          : { kind: 'jmp', op: o, wide: true, useReg: false, dst: A, src: 0, imm: src.imm | 0, off: 0 }, target);
      };
      const negated = NEGATED[name];
      if (jf === 0) {
        jump(name, pc + 1 + jt);
      } else if (jt === 0 && negated) {
        jump(negated, pc + 1 + jf);
      } else {
        jump(name, pc + 1 + jt);
        emit({ kind: 'ja', off: 0 }, pc + 1 + jf);
      }
      return;
    }
    case Class.RET:
      switch (code & 0x18) {
        case RetVal.K: emit(alu('mov', A, { imm: k })); emit(EXIT); return;
        case RetVal.A: emit(EXIT); return;
        case RetVal.X: emit(alu('mov', A, { reg: X }, true)); emit(EXIT); return;
      }
      return fail(`opcode 0x${code.toString(16)} has no eBPF translation`);
    case Class.MISC:
      if ((code & 0xf8) === MiscOp.TAX) emit(alu('mov', X, { reg: A }, true));
      else if ((code & 0xf8) === MiscOp.TXA) emit(alu('mov', A, { reg: X }, true));
      else fail(`opcode 0x${code.toString(16)} has no eBPF translation`);
      return;
  }
  fail(`opcode 0x${code.toString(16)} has no eBPF translation`);
}

/** Linux's ancillary loads as `__sk_buff` reads and helper calls. */
function ancillary(off: number, emit: (insn: Instruction) => void, fail: (reason: string) => never): void {
  const field = (f: number): void => emit(ldxw(A, f));
  switch (off) {
    case Ancillary.PROTOCOL:
      // __sk_buff.protocol is the network-order EtherType; classic gives it in host order.
      field(SK_BUFF_FIELDS.protocol);
      emit({ kind: 'endian', order: 'be', bits: 16, dst: A });
      return;
    case Ancillary.PKTTYPE: field(SK_BUFF_FIELDS.pkt_type); return;
    case Ancillary.IFINDEX: field(SK_BUFF_FIELDS.ifindex); return;
    case Ancillary.MARK: field(SK_BUFF_FIELDS.mark); return;
    case Ancillary.QUEUE: field(SK_BUFF_FIELDS.queue_mapping); return;
    case Ancillary.RXHASH: field(SK_BUFF_FIELDS.hash); return;
    case Ancillary.VLAN_TAG: field(SK_BUFF_FIELDS.vlan_tci); return;
    case Ancillary.VLAN_TAG_PRESENT: field(SK_BUFF_FIELDS.vlan_present); return;
    case Ancillary.VLAN_TPID:
      field(SK_BUFF_FIELDS.vlan_proto);
      emit({ kind: 'endian', order: 'be', bits: 16, dst: A });
      return;
    case Ancillary.ALU_XOR_X: emit(alu('xor', A, { reg: X })); return;
    case Ancillary.RANDOM: emit({ kind: 'call', src: 0, imm: HELPER_PRANDOM }); return;
    case Ancillary.CPU: emit({ kind: 'call', src: 0, imm: HELPER_CPU }); return;
  }
  const name = ANCILLARY_NAMES[off];
  fail(name === undefined
    ? `absolute load at SKF_AD_OFF + ${off}: no such ancillary data`
    : `ancillary load [${name}] (SKF_AD_OFF + ${off}) has no __sk_buff field or helper in tsbpf`);
}
