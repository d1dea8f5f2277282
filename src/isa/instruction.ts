/**
 * The typed form of eBPF instructions: a discriminated union with one member
 * per instruction family. Every member holds exactly the fields its encoding
 * uses, so `decode(encode(x))` gives `x` back and a `switch (insn.kind)` is
 * checked for exhaustiveness by the compiler.
 */

/** ALU operation names (`movsx8/16/32` are MOV with a sign-extension width). */
export type AluOpName =
  | 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'or' | 'and' | 'lsh' | 'rsh'
  | 'mod' | 'smod' | 'xor' | 'mov' | 'arsh' | 'movsx8' | 'movsx16' | 'movsx32';

/** Conditional jump names. */
export type JmpOpName =
  | 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge' | 'jlt' | 'jle' | 'jslt' | 'jsle';

/** Read-modify-write and ordered atomic operations. */
export type AtomicOpName = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg' | 'load_acq' | 'store_rel';

/** Access width in bytes. */
export type AccessSize = 1 | 2 | 4 | 8;

/** `dst = dst OP src` (or `OP imm`), 32- or 64-bit. */
export interface AluInsn {
  kind: 'alu';
  op: AluOpName;
  /** true for ALU64, false for the 32-bit ALU class (result zero-extended). */
  wide: boolean;
  /** true when the operand is `src`, false when it is `imm`. */
  useReg: boolean;
  dst: number;
  /** Source register; 0 when `useReg` is false. */
  src: number;
  /** Immediate; 0 when `useReg` is true. */
  imm: number;
}

/** `dst = -dst`. */
export interface NegInsn {
  kind: 'neg';
  wide: boolean;
  dst: number;
}

/** Byte-order conversion: `le`/`be` (ALU class) or unconditional `swap` (ALU64 class). */
export interface EndianInsn {
  kind: 'endian';
  order: 'le' | 'be' | 'swap';
  bits: 16 | 32 | 64;
  dst: number;
}

/** Arena pointer cast (`rX = addr_space_cast(rY, dst_as, src_as)`). */
export interface AddrSpaceCastInsn {
  kind: 'addr_space_cast';
  dst: number;
  src: number;
  /** `dst_as << 16 | src_as`; Linux allows 1 (as 1 -> 0) and 0x10000 (as 0 -> 1). */
  imm: number;
}

/** Conditional jump, 64-bit (JMP) or on the low 32 bits (JMP32). */
export interface JmpInsn {
  kind: 'jmp';
  op: JmpOpName;
  wide: boolean;
  useReg: boolean;
  dst: number;
  src: number;
  imm: number;
  /** Target relative to the next instruction, in slots. */
  off: number;
}

/** Unconditional jump with a 16-bit offset (`goto`). */
export interface JaInsn {
  kind: 'ja';
  off: number;
}

/** Unconditional jump with a 32-bit offset in `imm` (`gotol`, JMP32 class). */
export interface GotolInsn {
  kind: 'gotol';
  imm: number;
}

/** `may_goto`: jumps once an implicit loop budget is spent (Linux `can_loop`). */
export interface MayGotoInsn {
  kind: 'may_goto';
  off: number;
}

/** Helper call (src 0), bpf-to-bpf call (src 1, imm = relative target) or kfunc call (src 2, imm = BTF id). */
export interface CallInsn {
  kind: 'call';
  src: 0 | 1 | 2;
  imm: number;
}

/** Call of a helper whose id is in a register (`callx`, not in RFC 9669's base set). */
export interface CallxInsn {
  kind: 'callx';
  /** The register holding the helper id (encoded in the dst field). */
  dst: number;
}

/** Return from the current function. */
export interface ExitInsn {
  kind: 'exit';
}

/** `dst = *(size *)(src + off)`, sign-extending when `signed`. */
export interface LoadInsn {
  kind: 'ldx';
  size: AccessSize;
  signed: boolean;
  dst: number;
  src: number;
  off: number;
}

/** `*(size *)(dst + off) = imm`. */
export interface StoreImmInsn {
  kind: 'st';
  size: AccessSize;
  dst: number;
  off: number;
  imm: number;
}

/** `*(size *)(dst + off) = src`. */
export interface StoreRegInsn {
  kind: 'stx';
  size: AccessSize;
  dst: number;
  src: number;
  off: number;
}

/**
 * Atomic operation on `*(size *)(dst + off)` with operand `src`. For
 * `load_acq` the roles follow Linux: `dst = load_acquire(src + off)`.
 */
export interface AtomicInsn {
  kind: 'atomic';
  op: AtomicOpName;
  /** Whether the old value is loaded back (always true for xchg/cmpxchg, false for load_acq/store_rel). */
  fetch: boolean;
  size: AccessSize;
  dst: number;
  src: number;
  off: number;
}

/** 64-bit immediate load, two slots. `pseudo` is the `src` field (see PseudoSrc). */
export interface LddwInsn {
  kind: 'lddw';
  dst: number;
  pseudo: 0 | 1 | 2 | 3 | 4 | 5 | 6;
  /** First slot's imm (low 32 bits of a plain constant). */
  imm: number;
  /** Second slot's imm (high 32 bits, or the map value offset). */
  imm2: number;
}

/** Legacy packet load `r0 = ntoh(*(size *)(skb->data + imm))`. */
export interface LdAbsInsn {
  kind: 'ldabs';
  size: 1 | 2 | 4;
  imm: number;
}

/** Legacy packet load `r0 = ntoh(*(size *)(skb->data + src + imm))`. */
export interface LdIndInsn {
  kind: 'ldind';
  size: 1 | 2 | 4;
  src: number;
  imm: number;
}

/** Any eBPF instruction. */
export type Instruction =
  | AluInsn | NegInsn | EndianInsn | AddrSpaceCastInsn
  | JmpInsn | JaInsn | GotolInsn | MayGotoInsn | CallInsn | CallxInsn | ExitInsn
  | LoadInsn | StoreImmInsn | StoreRegInsn | AtomicInsn
  | LddwInsn | LdAbsInsn | LdIndInsn;

/** The raw fields of one 8-byte instruction slot. */
export interface RawSlot {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Number of 8-byte slots an instruction takes. */
export function slotCount(insn: Instruction): 1 | 2 {
  return insn.kind === 'lddw' ? 2 : 1;
}

/** The 64-bit constant a `lddw` loads (before any pseudo-source resolution), as an unsigned bigint. */
export function lddwValue(insn: LddwInsn): bigint {
  return (BigInt(insn.imm2 >>> 0) << 32n) | BigInt(insn.imm >>> 0);
}

/** A plain `lddw dst, value` for a 64-bit constant (taken modulo 2^64). */
export function lddw(dst: number, value: bigint): LddwInsn {
  const v = BigInt.asUintN(64, value);
  return { kind: 'lddw', dst, pseudo: 0, imm: Number(BigInt.asIntN(32, v)), imm2: Number(BigInt.asIntN(32, v >> 32n)) };
}

/**
 * Target slot of a jump or local call at slot `pc`, or undefined for
 * instructions that do not branch.
 */
export function branchTarget(insn: Instruction, pc: number): number | undefined {
  switch (insn.kind) {
    case 'jmp':
    case 'ja':
    case 'may_goto':
      return pc + 1 + insn.off;
    case 'gotol':
      return pc + 1 + insn.imm;
    case 'call':
      return insn.src === 1 ? pc + 1 + insn.imm : undefined;
    case 'lddw':
      return insn.pseudo === 4 ? pc + 1 + insn.imm : undefined;
    default:
      return undefined;
  }
}
