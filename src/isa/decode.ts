/**
 * Decoding of raw eBPF bytes into typed instructions, with the field checks
 * the Linux verifier applies before anything else (reserved fields must be
 * zero, registers must exist, `lddw` needs its second slot). Messages follow
 * the kernel's wording where it has one.
 */
import { InstructionError } from '../errors.js';
import { AluOp, AtomicOp, Class, INSN_SIZE, JmpOp, Mode, Size, Source } from './opcode.js';
import type {
  AccessSize, AluOpName, AtomicOpName, Instruction, JmpOpName, LddwInsn, RawSlot,
} from './instruction.js';

const ALU_NAMES: Record<number, AluOpName> = {
  [AluOp.ADD]: 'add', [AluOp.SUB]: 'sub', [AluOp.MUL]: 'mul', [AluOp.DIV]: 'div',
  [AluOp.OR]: 'or', [AluOp.AND]: 'and', [AluOp.LSH]: 'lsh', [AluOp.RSH]: 'rsh',
  [AluOp.MOD]: 'mod', [AluOp.XOR]: 'xor', [AluOp.MOV]: 'mov', [AluOp.ARSH]: 'arsh',
};

const JMP_NAMES: Record<number, JmpOpName> = {
  [JmpOp.JEQ]: 'jeq', [JmpOp.JGT]: 'jgt', [JmpOp.JGE]: 'jge', [JmpOp.JSET]: 'jset',
  [JmpOp.JNE]: 'jne', [JmpOp.JSGT]: 'jsgt', [JmpOp.JSGE]: 'jsge', [JmpOp.JLT]: 'jlt',
  [JmpOp.JLE]: 'jle', [JmpOp.JSLT]: 'jslt', [JmpOp.JSLE]: 'jsle',
};

const SIZE_BYTES: Record<number, AccessSize> = { [Size.B]: 1, [Size.H]: 2, [Size.W]: 4, [Size.DW]: 8 };

const ATOMIC_NAMES: Record<number, [AtomicOpName, boolean]> = {
  [AtomicOp.ADD]: ['add', false],
  [AtomicOp.OR]: ['or', false],
  [AtomicOp.AND]: ['and', false],
  [AtomicOp.XOR]: ['xor', false],
  [AtomicOp.ADD | AtomicOp.FETCH]: ['add', true],
  [AtomicOp.OR | AtomicOp.FETCH]: ['or', true],
  [AtomicOp.AND | AtomicOp.FETCH]: ['and', true],
  [AtomicOp.XOR | AtomicOp.FETCH]: ['xor', true],
  [AtomicOp.XCHG]: ['xchg', true],
  [AtomicOp.CMPXCHG]: ['cmpxchg', true],
  [AtomicOp.LOAD_ACQ]: ['load_acq', false],
  [AtomicOp.STORE_REL]: ['store_rel', false],
};

/** Reads the raw fields of slot `index` of `bytes` (little-endian). */
export function readSlot(bytes: Uint8Array, index: number): RawSlot {
  const base = index * INSN_SIZE;
  const view = new DataView(bytes.buffer, bytes.byteOffset + base, INSN_SIZE);
  const regs = view.getUint8(1);
  return {
    code: view.getUint8(0),
    dst: regs & 0x0f,
    src: regs >> 4,
    off: view.getInt16(2, true),
    imm: view.getInt32(4, true),
  };
}

function fail(reason: string, insn: number): never {
  throw new InstructionError(reason, { insn });
}

function checkReg(reg: number, insn: number): number {
  if (reg > 10) fail(`R${reg} is invalid`, insn);
  return reg;
}

/**
 * Decodes the instruction at slot `index`. A `lddw` reads the following slot
 * too. Throws {@link InstructionError} naming the slot for anything Linux
 * would refuse as malformed.
 */
export function decodeAt(bytes: Uint8Array, index: number): Instruction {
  const slots = Math.floor(bytes.length / INSN_SIZE);
  if (index < 0 || index >= slots) fail(`no instruction at slot ${index}`, index);
  const raw = readSlot(bytes, index);
  if (raw.code === (Class.LD | Size.DW | Mode.IMM)) {
    if (index + 1 >= slots) fail('invalid bpf_ld_imm64 insn: truncated, the second slot is missing', index);
    return decodeLddw(raw, readSlot(bytes, index + 1), index);
  }
  return decodeSlot(raw, index);
}

/**
 * Opcodes Linux knows (its `bpf_opcode_in_insntable`), plus `callx` (0x8d),
 * which tsbpf runs as an extension and the verifier refuses like Linux.
 */
const KNOWN_OPCODES: ReadonlySet<number> = (() => {
  const codes = new Set<number>();
  for (const cls of [Class.ALU, Class.ALU64]) {
    for (const op of [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND, AluOp.LSH,
      AluOp.RSH, AluOp.MOD, AluOp.XOR, AluOp.MOV, AluOp.ARSH]) {
      codes.add(cls | op | Source.K).add(cls | op | Source.X);
    }
    codes.add(cls | AluOp.NEG);
  }
  codes.add(Class.ALU | AluOp.END | Source.K).add(Class.ALU | AluOp.END | Source.X).add(Class.ALU64 | AluOp.END);
  for (const cls of [Class.JMP, Class.JMP32]) {
    codes.add(cls | JmpOp.JA);
    for (const op of Object.keys(JMP_NAMES)) codes.add(cls | Number(op) | Source.K).add(cls | Number(op) | Source.X);
  }
  codes.add(Class.JMP | JmpOp.CALL).add(Class.JMP | JmpOp.CALL | Source.X).add(Class.JMP | JmpOp.EXIT).add(Class.JMP | JmpOp.JCOND);
  for (const size of [Size.B, Size.H, Size.W, Size.DW]) {
    codes.add(Class.LDX | Mode.MEM | size).add(Class.STX | Mode.MEM | size).add(Class.ST | Mode.MEM | size);
    codes.add(Class.STX | Mode.ATOMIC | size);
    if (size !== Size.DW) {
      codes.add(Class.LDX | Mode.MEMSX | size).add(Class.LD | Mode.ABS | size).add(Class.LD | Mode.IND | size);
    }
  }
  codes.add(Class.LD | Mode.IMM | Size.DW);
  return codes;
})();

/** Whether `code` is an opcode tsbpf knows (Linux's set plus `callx`). */
export function isKnownOpcode(code: number): boolean {
  return KNOWN_OPCODES.has(code);
}

/** Decodes one self-contained slot (anything but `lddw`, which needs {@link decodeAt}). */
export function decodeSlot(raw: RawSlot, index = 0): Instruction {
  const { code, dst, src, off, imm } = raw;
  const cls = code & 0x07;
  if (!KNOWN_OPCODES.has(code)) fail(`unknown opcode ${hex2(code)}`, index);
  switch (cls) {
    case Class.ALU:
    case Class.ALU64:
      return decodeAlu(raw, cls === Class.ALU64, index);
    case Class.JMP:
    case Class.JMP32:
      return decodeJmp(raw, cls === Class.JMP, index);
    case Class.LDX: {
      const mode = code & 0xe0;
      const size = SIZE_BYTES[code & 0x18]!;
      if (mode !== Mode.MEM && mode !== Mode.MEMSX) fail(`unknown opcode ${hex2(code)}`, index);
      if (mode === Mode.MEMSX && size === 8) fail(`unknown opcode ${hex2(code)}`, index);
      if (imm !== 0) fail('BPF_LDX uses reserved fields', index);
      return { kind: 'ldx', size, signed: mode === Mode.MEMSX, dst: checkReg(dst, index), src: checkReg(src, index), off };
    }
    case Class.ST: {
      const mode = code & 0xe0;
      if (mode !== Mode.MEM) fail(`unknown opcode ${hex2(code)}`, index);
      if (src !== 0) fail('BPF_ST uses reserved fields', index);
      return { kind: 'st', size: SIZE_BYTES[code & 0x18]!, dst: checkReg(dst, index), off, imm };
    }
    case Class.STX: {
      const mode = code & 0xe0;
      const size = SIZE_BYTES[code & 0x18]!;
      if (mode === Mode.MEM) {
        if (imm !== 0) fail('BPF_STX uses reserved fields', index);
        return { kind: 'stx', size, dst: checkReg(dst, index), src: checkReg(src, index), off };
      }
      if (mode === Mode.ATOMIC) {
        const entry = ATOMIC_NAMES[imm];
        if (entry === undefined) fail(`BPF_ATOMIC uses invalid atomic opcode ${hex2(imm)}`, index);
        const [op, fetch] = entry;
        const ordered = op === 'load_acq' || op === 'store_rel';
        if (!ordered && size < 4) fail(`invalid atomic operand size`, index);
        return { kind: 'atomic', op, fetch, size, dst: checkReg(dst, index), src: checkReg(src, index), off };
      }
      return fail(`unknown opcode ${hex2(code)}`, index);
    }
    case Class.LD: {
      const mode = code & 0xe0;
      const size = SIZE_BYTES[code & 0x18]!;
      if ((mode === Mode.ABS || mode === Mode.IND) && size !== 8) {
        if (dst !== 0 || off !== 0 || (mode === Mode.ABS && src !== 0)) fail('BPF_LD_[ABS|IND] uses reserved fields', index);
        const narrow = size as 1 | 2 | 4;
        return mode === Mode.ABS
          ? { kind: 'ldabs', size: narrow, imm }
          : { kind: 'ldind', size: narrow, src: checkReg(src, index), imm };
      }
      if (mode === Mode.IMM && size === 8) fail('invalid bpf_ld_imm64 insn: decode it with its second slot', index);
      return fail(`unknown opcode ${hex2(code)}`, index);
    }
  }
  return fail(`unknown opcode ${hex2(code)}`, index);
}

function decodeLddw(first: RawSlot, second: RawSlot, index: number): LddwInsn {
  if (second.code !== 0 || second.dst !== 0 || second.src !== 0 || second.off !== 0) {
    fail('invalid bpf_ld_imm64 insn', index);
  }
  if (first.off !== 0) fail('BPF_LD_IMM64 uses reserved fields', index);
  if (first.src > 6) fail('unrecognized bpf_ld_imm64 insn', index);
  return {
    kind: 'lddw',
    dst: checkReg(first.dst, index),
    pseudo: first.src as LddwInsn['pseudo'],
    imm: first.imm,
    imm2: second.imm,
  };
}

function decodeAlu(raw: RawSlot, wide: boolean, index: number): Instruction {
  const { code, dst, src, off, imm } = raw;
  const op = code & 0xf0;
  const useReg = (code & Source.X) !== 0;
  if (op === AluOp.NEG) {
    if (useReg || src !== 0 || off !== 0 || imm !== 0) fail('BPF_NEG uses reserved fields', index);
    return { kind: 'neg', wide, dst: checkReg(dst, index) };
  }
  if (op === AluOp.END) {
    if (src !== 0 || off !== 0 || (imm !== 16 && imm !== 32 && imm !== 64) || (wide && useReg)) {
      fail('BPF_END uses reserved fields', index);
    }
    const order = wide ? 'swap' : useReg ? 'be' : 'le';
    return { kind: 'endian', order, bits: imm, dst: checkReg(dst, index) };
  }
  if (op > AluOp.END) fail(`invalid BPF_ALU opcode ${op.toString(16)}`, index);
  let name = ALU_NAMES[op]!;
  if (op === AluOp.MOV) {
    if (useReg) {
      if (wide && off === 1) {
        if (imm !== 1 && imm !== 0x10000) fail('addr_space_cast insn can only convert between address space 1 and 0', index);
        return { kind: 'addr_space_cast', dst: checkReg(dst, index), src: checkReg(src, index), imm };
      }
      if (imm !== 0 || !(off === 0 || off === 8 || off === 16 || (wide && off === 32))) fail('BPF_MOV uses reserved fields', index);
      if (off !== 0) name = `movsx${off}` as AluOpName;
    } else if (src !== 0 || off !== 0) {
      fail('BPF_MOV uses reserved fields', index);
    }
  } else {
    const divmod = op === AluOp.DIV || op === AluOp.MOD;
    if ((useReg ? imm !== 0 : src !== 0) || (off !== 0 && !(off === 1 && divmod))) fail('BPF_ALU uses reserved fields', index);
    if (off === 1) name = op === AluOp.DIV ? 'sdiv' : 'smod';
  }
  return useReg
    ? { kind: 'alu', op: name, wide, useReg, dst: checkReg(dst, index), src: checkReg(src, index), imm: 0 }
    : { kind: 'alu', op: name, wide, useReg, dst: checkReg(dst, index), src: 0, imm };
}

function decodeJmp(raw: RawSlot, wide: boolean, index: number): Instruction {
  const { code, dst, src, off, imm } = raw;
  const op = code & 0xf0;
  const useReg = (code & Source.X) !== 0;
  switch (op) {
    case JmpOp.JA:
      if (useReg || src !== 0 || dst !== 0 || (wide ? imm !== 0 : off !== 0)) fail('BPF_JA uses reserved fields', index);
      return wide ? { kind: 'ja', off } : { kind: 'gotol', imm };
    case JmpOp.CALL:
      if (!wide) fail(`unknown opcode ${hex2(code)}`, index);
      if (useReg) {
        if (src !== 0 || off !== 0 || imm !== 0) fail('BPF_CALL uses reserved fields', index);
        return { kind: 'callx', dst: checkReg(dst, index) };
      }
      if (off !== 0 || src > 2 || dst !== 0) fail('BPF_CALL uses reserved fields', index);
      return { kind: 'call', src: src as 0 | 1 | 2, imm };
    case JmpOp.EXIT:
      if (!wide) fail(`unknown opcode ${hex2(code)}`, index);
      if (useReg || imm !== 0 || src !== 0 || dst !== 0 || off !== 0) fail('BPF_EXIT uses reserved fields', index);
      return { kind: 'exit' };
    case JmpOp.JCOND:
      if (!wide || useReg) fail(`unknown opcode ${hex2(code)}`, index);
      if (src !== 0 || dst !== 0 || imm !== 0) fail('invalid may_goto imm ' + imm, index);
      return { kind: 'may_goto', off };
    case 0xf0:
      return fail(`unknown opcode ${hex2(code)}`, index);
  }
  if (useReg ? imm !== 0 : src !== 0) fail(`BPF_${wide ? 'JMP' : 'JMP32'} uses reserved fields`, index);
  const name = JMP_NAMES[op]!;
  return useReg
    ? { kind: 'jmp', op: name, wide, useReg, dst: checkReg(dst, index), src: checkReg(src, index), imm: 0, off }
    : { kind: 'jmp', op: name, wide, useReg, dst: checkReg(dst, index), src: 0, imm, off };
}

/**
 * Decodes a whole program. The result has one entry per instruction (a
 * `lddw` is one entry covering two slots); `slotOf[i]` is the slot index of
 * entry `i`. Throws on a length that is not a multiple of 8.
 */
export function decodeProgram(bytes: Uint8Array): { insns: Instruction[]; slotOf: number[] } {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new InstructionError(`program length ${bytes.length} is not a multiple of ${INSN_SIZE} bytes`, { offset: bytes.length - (bytes.length % INSN_SIZE) });
  }
  const insns: Instruction[] = [];
  const slotOf: number[] = [];
  const slots = bytes.length / INSN_SIZE;
  for (let i = 0; i < slots; ) {
    const insn = decodeAt(bytes, i);
    insns.push(insn);
    slotOf.push(i);
    i += insn.kind === 'lddw' ? 2 : 1;
  }
  return { insns, slotOf };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
