/**
 * The WebAssembly instructions the JIT emits: text name, binary opcode
 * (with its prefix byte for the 0xFC/0xFD/0xFE spaces) and the kind of
 * immediate that follows. Both the binary encoder and the WAT printer read
 * this one table, so they cannot disagree.
 */

/** Kinds of immediates. */
export const Imm = {
  None: 0,
  /** A local index. */
  Local: 1,
  /** A global index. */
  Global: 2,
  /** A function index. */
  Func: 3,
  /** A label depth. */
  Label: 4,
  /** Memory argument: log2 alignment and offset. */
  Mem: 5,
  I32: 6,
  I64: 7,
  /** Block type: void or a type index. */
  Block: 8,
  /** Label vector plus default. */
  BrTable: 9,
  /** Type index, then table index. */
  CallIndirect: 10,
  /** One lane index byte. */
  Lane: 11,
  /** 16 lane bytes of i8x16.shuffle. */
  Shuffle: 12,
  /** The reserved zero byte of memory.size/grow and atomic.fence. */
  Zero: 13,
  /** A table index. */
  Table: 14,
  /** The two reserved zero bytes (destination and source memory) of memory.copy. */
  ZeroZero: 15,
} as const;

/** An immediate kind. */
export type ImmKind = (typeof Imm)[keyof typeof Imm];

/** One table row: name, prefix (0 for single-byte opcodes), opcode, immediate. */
type Row = readonly [name: string, prefix: number, code: number, imm: ImmKind];

const N = Imm.None;
const M = Imm.Mem;

const ROWS = [
  ['unreachable', 0, 0x00, N], ['nop', 0, 0x01, N],
  ['block', 0, 0x02, Imm.Block], ['loop', 0, 0x03, Imm.Block], ['if', 0, 0x04, Imm.Block],
  ['else', 0, 0x05, N], ['end', 0, 0x0b, N],
  ['br', 0, 0x0c, Imm.Label], ['br_if', 0, 0x0d, Imm.Label], ['br_table', 0, 0x0e, Imm.BrTable],
  ['return', 0, 0x0f, N], ['call', 0, 0x10, Imm.Func], ['call_indirect', 0, 0x11, Imm.CallIndirect],
  ['return_call', 0, 0x12, Imm.Func], ['return_call_indirect', 0, 0x13, Imm.CallIndirect],
  ['drop', 0, 0x1a, N], ['select', 0, 0x1b, N],
  ['table.get', 0, 0x25, Imm.Table], ['table.size', 0xfc, 0x10, Imm.Table], ['ref.is_null', 0, 0xd1, N],
  ['local.get', 0, 0x20, Imm.Local], ['local.set', 0, 0x21, Imm.Local], ['local.tee', 0, 0x22, Imm.Local],
  ['global.get', 0, 0x23, Imm.Global], ['global.set', 0, 0x24, Imm.Global],
  ['i32.load', 0, 0x28, M], ['i64.load', 0, 0x29, M],
  ['i32.load8_s', 0, 0x2c, M], ['i32.load8_u', 0, 0x2d, M], ['i32.load16_s', 0, 0x2e, M], ['i32.load16_u', 0, 0x2f, M],
  ['i64.load8_s', 0, 0x30, M], ['i64.load8_u', 0, 0x31, M], ['i64.load16_s', 0, 0x32, M], ['i64.load16_u', 0, 0x33, M],
  ['i64.load32_s', 0, 0x34, M], ['i64.load32_u', 0, 0x35, M],
  ['i32.store', 0, 0x36, M], ['i64.store', 0, 0x37, M], ['i32.store8', 0, 0x3a, M], ['i32.store16', 0, 0x3b, M],
  ['i64.store8', 0, 0x3c, M], ['i64.store16', 0, 0x3d, M], ['i64.store32', 0, 0x3e, M],
  ['memory.size', 0, 0x3f, Imm.Zero], ['memory.grow', 0, 0x40, Imm.Zero],
  // bulk memory (0xFC): the capture drivers' packet copies (hooks/xdp-capture-batch.ts)
  ['memory.copy', 0xfc, 0x0a, Imm.ZeroZero], ['memory.fill', 0xfc, 0x0b, Imm.Zero],
  ['i32.const', 0, 0x41, Imm.I32], ['i64.const', 0, 0x42, Imm.I64],
  ['i32.eqz', 0, 0x45, N], ['i32.eq', 0, 0x46, N], ['i32.ne', 0, 0x47, N], ['i32.lt_s', 0, 0x48, N], ['i32.lt_u', 0, 0x49, N],
  ['i32.gt_s', 0, 0x4a, N], ['i32.gt_u', 0, 0x4b, N], ['i32.le_s', 0, 0x4c, N], ['i32.le_u', 0, 0x4d, N],
  ['i32.ge_s', 0, 0x4e, N], ['i32.ge_u', 0, 0x4f, N],
  ['i64.eqz', 0, 0x50, N], ['i64.eq', 0, 0x51, N], ['i64.ne', 0, 0x52, N], ['i64.lt_s', 0, 0x53, N], ['i64.lt_u', 0, 0x54, N],
  ['i64.gt_s', 0, 0x55, N], ['i64.gt_u', 0, 0x56, N], ['i64.le_s', 0, 0x57, N], ['i64.le_u', 0, 0x58, N],
  ['i64.ge_s', 0, 0x59, N], ['i64.ge_u', 0, 0x5a, N],
  ['i32.clz', 0, 0x67, N], ['i32.ctz', 0, 0x68, N], ['i32.popcnt', 0, 0x69, N], ['i32.add', 0, 0x6a, N], ['i32.sub', 0, 0x6b, N],
  ['i32.mul', 0, 0x6c, N], ['i32.div_s', 0, 0x6d, N], ['i32.div_u', 0, 0x6e, N], ['i32.rem_s', 0, 0x6f, N], ['i32.rem_u', 0, 0x70, N],
  ['i32.and', 0, 0x71, N], ['i32.or', 0, 0x72, N], ['i32.xor', 0, 0x73, N], ['i32.shl', 0, 0x74, N], ['i32.shr_s', 0, 0x75, N],
  ['i32.shr_u', 0, 0x76, N], ['i32.rotl', 0, 0x77, N], ['i32.rotr', 0, 0x78, N],
  ['i64.clz', 0, 0x79, N], ['i64.ctz', 0, 0x7a, N], ['i64.popcnt', 0, 0x7b, N], ['i64.add', 0, 0x7c, N], ['i64.sub', 0, 0x7d, N],
  ['i64.mul', 0, 0x7e, N], ['i64.div_s', 0, 0x7f, N], ['i64.div_u', 0, 0x80, N], ['i64.rem_s', 0, 0x81, N], ['i64.rem_u', 0, 0x82, N],
  ['i64.and', 0, 0x83, N], ['i64.or', 0, 0x84, N], ['i64.xor', 0, 0x85, N], ['i64.shl', 0, 0x86, N], ['i64.shr_s', 0, 0x87, N],
  ['i64.shr_u', 0, 0x88, N], ['i64.rotl', 0, 0x89, N], ['i64.rotr', 0, 0x8a, N],
  ['i32.wrap_i64', 0, 0xa7, N], ['i64.extend_i32_s', 0, 0xac, N], ['i64.extend_i32_u', 0, 0xad, N],
  ['i32.extend8_s', 0, 0xc0, N], ['i32.extend16_s', 0, 0xc1, N],
  ['i64.extend8_s', 0, 0xc2, N], ['i64.extend16_s', 0, 0xc3, N], ['i64.extend32_s', 0, 0xc4, N],
  // SIMD (0xFD): only what byte swaps need.
  ['i8x16.shuffle', 0xfd, 0x0d, Imm.Shuffle], ['i64x2.splat', 0xfd, 0x12, N], ['i64x2.extract_lane', 0xfd, 0x1d, Imm.Lane],
  // Threads (0xFE): atomic loads, stores and read-modify-writes.
  ['atomic.fence', 0xfe, 0x03, Imm.Zero],
  ['i64.atomic.load', 0xfe, 0x11, M], ['i64.atomic.load8_u', 0xfe, 0x14, M], ['i64.atomic.load16_u', 0xfe, 0x15, M],
  ['i64.atomic.load32_u', 0xfe, 0x16, M],
  ['i64.atomic.store', 0xfe, 0x18, M], ['i64.atomic.store8', 0xfe, 0x1b, M], ['i64.atomic.store16', 0xfe, 0x1c, M],
  ['i64.atomic.store32', 0xfe, 0x1d, M],
  ['i64.atomic.rmw.add', 0xfe, 0x1f, M], ['i64.atomic.rmw32.add_u', 0xfe, 0x24, M],
  ['i64.atomic.rmw.and', 0xfe, 0x2d, M], ['i64.atomic.rmw32.and_u', 0xfe, 0x32, M],
  ['i64.atomic.rmw.or', 0xfe, 0x34, M], ['i64.atomic.rmw32.or_u', 0xfe, 0x39, M],
  ['i64.atomic.rmw.xor', 0xfe, 0x3b, M], ['i64.atomic.rmw32.xor_u', 0xfe, 0x40, M],
  ['i64.atomic.rmw.xchg', 0xfe, 0x42, M], ['i64.atomic.rmw32.xchg_u', 0xfe, 0x47, M],
  ['i64.atomic.rmw.cmpxchg', 0xfe, 0x49, M], ['i64.atomic.rmw32.cmpxchg_u', 0xfe, 0x4e, M],
] as const satisfies readonly Row[];

/** Name of an instruction the JIT can emit. */
export type OpName = (typeof ROWS)[number][0];

/** Per opcode id: its text name. */
export const OP_NAME: readonly string[] = ROWS.map((r) => r[0]);
/** Per opcode id: prefix byte (0 = none). */
export const OP_PREFIX: Uint8Array = Uint8Array.from(ROWS.map((r) => r[1]));
/** Per opcode id: opcode byte (after the prefix). */
export const OP_CODE: Uint8Array = Uint8Array.from(ROWS.map((r) => r[2]));
/** Per opcode id: immediate kind. */
export const OP_IMM: Uint8Array = Uint8Array.from(ROWS.map((r) => r[3]));

/** Opcode id by name. */
export const OP: Readonly<Record<OpName, number>> = Object.freeze(
  Object.fromEntries(ROWS.map((r, i) => [r[0], i])) as Record<OpName, number>,
);

/** Value types. */
export type ValType = 'i32' | 'i64' | 'v128' | 'funcref';

/** Binary codes of value types. */
export const VALTYPE_CODE: Readonly<Record<ValType, number>> = { i32: 0x7f, i64: 0x7e, v128: 0x7b, funcref: 0x70 };

/** Block type of a block with no parameters and no result. */
export const BLOCK_VOID = -64;
/** Block type of a block producing one i32. */
export const BLOCK_I32 = -1;
/** Block type of a block producing one i64. */
export const BLOCK_I64 = -2;
