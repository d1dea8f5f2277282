/**
 * eBPF opcode fields (RFC 9669 §3, plus the Linux extensions listed in
 * DESIGN.md). An opcode byte is `class | (op or size|mode) | source`.
 */

/** Instruction classes: the low three bits of the opcode. */
export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Operand source bit for ALU and jump classes. */
export const Source = { K: 0x00, X: 0x08 } as const;

/** Arithmetic operations: the high four bits of an ALU/ALU64 opcode. */
export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

/** Jump operations: the high four bits of a JMP/JMP32 opcode. */
export const JmpOp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  JCOND: 0xe0,
} as const;

/** Access sizes of load/store classes. */
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

/** Addressing modes of load/store classes. */
export const Mode = {
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  MEMSX: 0x80,
  ATOMIC: 0xc0,
} as const;

/** `imm` values of BPF_ATOMIC instructions. */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  FETCH: 0x01,
  XCHG: 0xe1,
  CMPXCHG: 0xf1,
  LOAD_ACQ: 0x100,
  STORE_REL: 0x110,
} as const;

/** `src` values of a `lddw` (BPF_LD | BPF_IMM | BPF_DW) instruction. */
export const PseudoSrc = {
  /** A plain 64-bit constant. */
  IMM: 0,
  /** `imm` is a map file descriptor: the result is the map pointer. */
  MAP_FD: 1,
  /** `imm` is a map fd, the second slot's `imm` an offset into its value. */
  MAP_VALUE: 2,
  /** `imm` is a BTF id of a kernel variable. */
  BTF_ID: 3,
  /** `imm` is an instruction offset: the result is a function pointer. */
  FUNC: 4,
  /** `imm` is an index into the program's map array (fd_array). */
  MAP_IDX: 5,
  /** Map index plus value offset. */
  MAP_IDX_VALUE: 6,
} as const;

/** `src` values of a `call` instruction. */
export const CallSrc = {
  HELPER: 0,
  /** bpf-to-bpf call: `imm` is the offset of the callee from the next instruction. */
  LOCAL: 1,
  /** Kernel function call: `imm` is a BTF id. */
  KFUNC: 2,
} as const;

/** Number of general registers: r0..r10. */
export const REG_COUNT = 11;
/** Register number of the read-only frame pointer. */
export const FRAME_POINTER = 10;
/** Bytes of stack each frame owns. */
export const STACK_SIZE = 512;
/** Deepest nesting of bpf-to-bpf calls (Linux MAX_CALL_FRAMES). */
export const MAX_CALL_FRAMES = 8;
/** Bytes of one instruction slot. */
export const INSN_SIZE = 8;

/** The class bits of an opcode. */
export function opClass(code: number): number {
  return code & 0x07;
}
