/**
 * Register state: the abstract value of one register (or of a spilled stack
 * slot) as Linux's `struct bpf_reg_state` holds it — a type with modifiers,
 * a fixed offset for pointers, a tnum and eight numeric bounds, ids for
 * null-check and linked-scalar propagation, and the reference it carries.
 * The bound algorithms (`regBoundsSync` and friends) are the kernel's.
 */
import { syncBounds } from './bounds-sync.js';
import type { Tnum } from './tnum.js';
import type { BtfRecord } from './btf-record.js';
import {
  TNUM_UNKNOWN, tnumCast, tnumConst, tnumConstSubreg, tnumIsConst, tnumRange, tnumStep, tnumSubreg, tnumSubregIsConst, U32_MASK, U64_MAX,
} from './tnum.js';

/** Base register types (`enum bpf_reg_type`, low byte). */
export const T = {
  NOT_INIT: 0,
  SCALAR: 1,
  CTX: 2,
  MAP_PTR: 3,
  MAP_VALUE: 4,
  MAP_KEY: 5,
  STACK: 6,
  PACKET_META: 7,
  PACKET: 8,
  PACKET_END: 9,
  FLOW_KEYS: 10,
  SOCKET: 11,
  SOCK_COMMON: 12,
  TCP_SOCK: 13,
  TP_BUFFER: 14,
  XDP_SOCK: 15,
  BTF_ID: 16,
  MEM: 17,
  ARENA: 18,
  BUF: 19,
  FUNC: 20,
  DYNPTR: 21,
} as const;

/** Type modifier flags (above the base byte). */
export const F = {
  MAYBE_NULL: 1 << 8,
  RDONLY: 1 << 9,
  RINGBUF: 1 << 10,
  USER: 1 << 11,
  PERCPU: 1 << 12,
  UNTRUSTED: 1 << 13,
  RCU: 1 << 14,
  TRUSTED: 1 << 15,
  ALLOC: 1 << 16,
  /** A dynptr slice's dynptr type (`DYNPTR_TYPE_*`; not printed). */
  DYNPTR_LOCAL: 1 << 17,
  DYNPTR_RINGBUF: 1 << 18,
  DYNPTR_SKB: 1 << 19,
  DYNPTR_XDP: 1 << 20,
  DYNPTR_SKB_META: 1 << 21,
  /** NON_OWN_REF: an object a list or rbtree owns, valid until the lock is released (not printed). */
  NON_OWN: 1 << 22,
} as const;

const BASE_NAMES: Record<number, string> = {
  [T.NOT_INIT]: '?', [T.SCALAR]: 'scalar', [T.CTX]: 'ctx', [T.MAP_PTR]: 'map_ptr', [T.MAP_VALUE]: 'map_value',
  [T.STACK]: 'fp', [T.PACKET]: 'pkt', [T.PACKET_META]: 'pkt_meta', [T.PACKET_END]: 'pkt_end', [T.FLOW_KEYS]: 'flow_keys',
  [T.SOCKET]: 'sock', [T.SOCK_COMMON]: 'sock_common', [T.TCP_SOCK]: 'tcp_sock', [T.TP_BUFFER]: 'tp_buffer',
  [T.XDP_SOCK]: 'xdp_sock', [T.BTF_ID]: 'ptr_', [T.MEM]: 'mem', [T.ARENA]: 'arena', [T.BUF]: 'buf', [T.FUNC]: 'func',
  [T.MAP_KEY]: 'map_key', [T.DYNPTR]: 'dynptr_ptr',
};

/** The base type of a register type. */
export function baseType(t: number): number {
  return t & 0xff;
}

/** Linux's `reg_type_str`: `map_value_or_null`, `rdonly_mem`, `ringbuf_mem_or_null`, ... */
export function regTypeStr(t: number): string {
  const base = baseType(t);
  let prefix = '';
  if (t & F.RDONLY) prefix += 'rdonly_';
  if (t & F.RINGBUF) prefix += 'ringbuf_';
  if (t & F.USER) prefix += 'user_';
  if (t & F.PERCPU) prefix += 'percpu_';
  if (t & F.RCU) prefix += 'rcu_';
  if (t & F.UNTRUSTED) prefix += 'untrusted_';
  if (t & F.TRUSTED) prefix += 'trusted_';
  let postfix = '';
  if (t & F.MAYBE_NULL) postfix = base === T.BTF_ID ? 'or_null_' : '_or_null';
  return prefix + (BASE_NAMES[base] ?? '?') + postfix;
}

/** What the verifier knows about a map (its definition). */
export interface MapInfo {
  /** Index in the program's map list (lddw src 1/5/2/6 immediates). */
  index: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Name as the kernel prints it (`map=NAME`); '' for none. */
  name: string;
  /** Inner map template for maps of maps. */
  inner: MapInfo | null;
  /** Read-only for programs and frozen: loads from it are known constants when `initialValue` is set. */
  readonly: boolean;
  /** Contents of key 0 of a frozen read-only array (for `.rodata`). */
  initialValue: Uint8Array | null;
  /** The map has a BTF value type (an object's map). */
  btf: boolean;
  /** Offset of the value's `struct bpf_spin_lock` (from its BTF), or -1. */
  spinLockOff: number;
  /** Offset of the value's `struct bpf_timer`, or -1. */
  timerOff: number;
  /** The value's kernel objects (`map->record`), or null. */
  record: BtfRecord | null;
}

/** One register's abstract value. */
export interface Reg {
  type: number;
  /** Fixed offset of a pointer (s32). */
  off: number;
  /** Packet pointers: bytes known to be inside the packet from `off`; -1 / -2 at / beyond pkt_end. */
  range: number;
  map: MapInfo | null;
  mapUid: number;
  /** PTR_TO_MEM size. */
  memSize: number;
  /** PTR_TO_FUNC: callee subprogram. */
  subprogno: number;
  varOff: Tnum;
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  s32min: bigint;
  s32max: bigint;
  u32min: bigint;
  u32max: bigint;
  /** Null-check / packet-range / linked-scalar identity. */
  id: number;
  /** Linked scalar: `id` plus a constant `delta` (printed `id=N+delta`); 0 none, 32 or 64 for the ALU width. */
  addConst: number;
  delta: number;
  /** Acquired reference this register carries. */
  refObjId: number;
  /** Stack frame a PTR_TO_STACK points into. */
  frameno: number;
  /** Instruction+1 that defined the low 32 bits only (0: full 64-bit definition). */
  subregDef: number;
  precise: boolean;
  /** PTR_TO_BTF_ID: the BTF type's name, as the log prints it (`trusted_ptr_task_struct`). */
  btfName: string;
  /** PTR_TO_BTF_ID: the type's id in the kernel BTF (0 when tsbpf has none: accesses are then refused). */
  btfId: number;
  /**
   * A scalar read from the context of a tracing or LSM program: the kernel
   * types these arguments from BTF (often as pointers), tsbpf gives them as
   * scalars. Only for messages.
   */
  ctxArg: boolean;
  /**
   * An iterator's main stack slot (`iter.state`): 0 none, {@link ITER_ACTIVE}
   * or {@link ITER_DRAINED}; its type is `btfId`/`btfName`.
   */
  iterState: number;
  /** `iter.depth`: iterations simulated, told apart only by the infinite-loop check. */
  iterDepth: number;
  /** A dynptr's slot or a const dynptr pointer (`dynptr.type`, dynptrs.ts); 0 otherwise. */
  dynptrType: number;
  /** `dynptr.first_slot`. */
  dynptrFirst: boolean;
  /** The dynptr a slice comes from (`dynptr_id`). */
  dynptrId: number;
}

/** `enum bpf_iter_state`. */
export const ITER_ACTIVE = 1;
export const ITER_DRAINED = 2;

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;
export const U32_MAX = U32_MASK;
export { U64_MAX };

/** (s64) of an unsigned 64-bit value. */
export function s64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
/** (u64) of a signed value. */
export function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}
export function s32(v: bigint): bigint {
  return BigInt.asIntN(32, v);
}
export function u32(v: bigint): bigint {
  return BigInt.asUintN(32, v);
}
export function bmin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
export function bmax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** A fresh NOT_INIT register. */
export function notInitReg(): Reg {
  return {
    type: T.NOT_INIT, off: 0, range: 0, map: null, mapUid: 0, memSize: 0, subprogno: 0,
    varOff: TNUM_UNKNOWN, smin: S64_MIN, smax: S64_MAX, umin: 0n, umax: U64_MAX,
    s32min: S32_MIN, s32max: S32_MAX, u32min: 0n, u32max: U32_MAX,
    id: 0, addConst: 0, delta: 0, refObjId: 0, frameno: 0, subregDef: 0, precise: false, btfName: '', btfId: 0, ctxArg: false,
    iterState: 0, iterDepth: 0, dynptrType: 0, dynptrFirst: false, dynptrId: 0,
  };
}

export function copyReg(r: Reg): Reg {
  // field by field: the same shape for every register, faster than a spread
  return {
    type: r.type, off: r.off, range: r.range, map: r.map, mapUid: r.mapUid, memSize: r.memSize, subprogno: r.subprogno,
    varOff: r.varOff, smin: r.smin, smax: r.smax, umin: r.umin, umax: r.umax,
    s32min: r.s32min, s32max: r.s32max, u32min: r.u32min, u32max: r.u32max,
    id: r.id, addConst: r.addConst, delta: r.delta, refObjId: r.refObjId, frameno: r.frameno, subregDef: r.subregDef,
    precise: r.precise, btfName: r.btfName, btfId: r.btfId, ctxArg: r.ctxArg,
    iterState: r.iterState, iterDepth: r.iterDepth, dynptrType: r.dynptrType, dynptrFirst: r.dynptrFirst, dynptrId: r.dynptrId,
  };
}

/** {@link copyReg} for copies that live long (checkpoints): its own allocation site, which V8 can allocate in the old generation. */
export function copyRegLongLived(r: Reg): Reg {
  // field by field: the same shape for every register, faster than a spread
  return {
    type: r.type, off: r.off, range: r.range, map: r.map, mapUid: r.mapUid, memSize: r.memSize, subprogno: r.subprogno,
    varOff: r.varOff, smin: r.smin, smax: r.smax, umin: r.umin, umax: r.umax,
    s32min: r.s32min, s32max: r.s32max, u32min: r.u32min, u32max: r.u32max,
    id: r.id, addConst: r.addConst, delta: r.delta, refObjId: r.refObjId, frameno: r.frameno, subregDef: r.subregDef,
    precise: r.precise, btfName: r.btfName, btfId: r.btfId, ctxArg: r.ctxArg,
    iterState: r.iterState, iterDepth: r.iterDepth, dynptrType: r.dynptrType, dynptrFirst: r.dynptrFirst, dynptrId: r.dynptrId,
  };
}

/** Copies every field of `src` into `dst` (kernel `*dst = *src`). */
export function assignReg(dst: Reg, src: Reg): void {
  Object.assign(dst, src);
}

/** Clears the pointer-specific fields (off and the union). */
function clearPtrFields(r: Reg): void {
  r.ctxArg = false;
  r.off = 0;
  r.range = 0;
  r.map = null;
  r.mapUid = 0;
  r.memSize = 0;
  r.subprogno = 0;
  r.btfId = 0;
  r.btfName = '';
  r.iterState = 0;
  r.iterDepth = 0;
  r.dynptrType = 0;
  r.dynptrFirst = false;
  r.dynptrId = 0;
}

/** `___mark_reg_known`: tnum and bounds to the constant (id kept). */
export function setKnown(r: Reg, imm: bigint): void {
  const v = u64(imm);
  r.varOff = tnumConst(v);
  r.smin = s64(v);
  r.smax = r.smin;
  r.umin = v;
  r.umax = v;
  r.s32min = s32(v);
  r.s32max = r.s32min;
  r.u32min = u32(v);
  r.u32max = r.u32min;
}

/** `__mark_reg_known`: pointer fields, id and ref cleared, value known. */
export function markKnown(r: Reg, imm: bigint): void {
  clearPtrFields(r);
  r.id = 0;
  r.addConst = 0;
  r.delta = 0;
  r.refObjId = 0;
  setKnown(r, imm);
}

export function markKnownZero(r: Reg): void {
  markKnown(r, 0n);
}

/** `__mark_reg32_known`. */
export function markReg32Known(r: Reg, imm: bigint): void {
  r.varOff = tnumConstSubreg(r.varOff, imm);
  r.s32min = s32(imm);
  r.s32max = r.s32min;
  r.u32min = u32(imm);
  r.u32max = r.u32min;
}

/** A known scalar constant (`__mark_reg_const_zero` generalised). */
export function markConstScalar(r: Reg, imm: bigint): void {
  markKnown(r, imm);
  r.type = T.SCALAR;
  r.precise = false;
}

export function markUnbounded(r: Reg): void {
  r.smin = S64_MIN;
  r.smax = S64_MAX;
  r.umin = 0n;
  r.umax = U64_MAX;
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  r.u32min = 0n;
  r.u32max = U32_MAX;
}

export function mark64Unbounded(r: Reg): void {
  r.smin = S64_MIN;
  r.smax = S64_MAX;
  r.umin = 0n;
  r.umax = U64_MAX;
}

export function mark32Unbounded(r: Reg): void {
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  r.u32min = 0n;
  r.u32max = U32_MAX;
}

/** `__mark_reg_unknown` (privileged: imprecise). */
export function markUnknown(r: Reg): void {
  r.type = T.SCALAR;
  clearPtrFields(r);
  r.id = 0;
  r.addConst = 0;
  r.delta = 0;
  r.refObjId = 0;
  r.varOff = TNUM_UNKNOWN;
  r.frameno = 0;
  r.precise = false;
  markUnbounded(r);
}

export function markNotInit(r: Reg): void {
  markUnknown(r);
  r.type = T.NOT_INIT;
}

function updateReg32Bounds(r: Reg): void {
  const v = r.varOff.value & U32_MASK;
  const m = r.varOff.mask & U32_MASK;
  r.s32min = bmax(r.s32min, s32(v | (m & 0x8000_0000n)));
  r.s32max = bmin(r.s32max, s32(v | (m & 0x7fff_ffffn)));
  r.u32min = bmax(r.u32min, v);
  r.u32max = bmin(r.u32max, v | m);
}

function updateReg64Bounds(r: Reg): void {
  const v = r.varOff.value;
  const m = r.varOff.mask;
  r.smin = bmax(r.smin, s64(v | (m & 0x8000_0000_0000_0000n)));
  r.smax = bmin(r.smax, s64(v | (m & 0x7fff_ffff_ffff_ffffn)));
  r.umin = bmax(r.umin, v);
  r.umax = bmin(r.umax, v | m);
  // When the u64 range and the tnum have a single value in common, the
  // register is that constant (6.18's __update_reg64_bounds, with tnum_step).
  const umin = r.umin;
  if (umin === v) {
    // umin is the tnum's smallest member: a constant if the next member is above umax
    if (tnumStep(r.varOff, umin) > r.umax) setKnown(r, umin);
    return;
  }
  const tmax = v | m;
  const next = tnumStep(r.varOff, umin);
  const uminIn = (umin & ~m) === v;
  if (uminIn && next > r.umax) setKnown(r, umin);
  else if (!uminIn && next === tmax) setKnown(r, tmax);
  else if (!uminIn && next <= r.umax && tnumStep(r.varOff, next) > r.umax) setKnown(r, next);
}

export function updateRegBounds(r: Reg): void {
  updateReg32Bounds(r);
  updateReg64Bounds(r);
}

export { updateReg32Bounds };

/** `reg_bounds_sync`: make tnum and the eight bounds agree. */
export function regBoundsSync(r: Reg): void {
  // Fast paths (no-ops of the full sync): a consistent constant, a fully unknown value.
  const t = r.varOff;
  if (t.mask === 0n) {
    const v = t.value;
    const lo = v & U32_MASK;
    if (r.umin === v && r.umax === v && r.u32min === lo && r.u32max === lo) {
      const sv = s64(v);
      const slo = s32(lo);
      if (r.smin === sv && r.smax === sv && r.s32min === slo && r.s32max === slo) return;
    }
  } else if (t.mask === U64_MAX && r.umin === 0n && r.umax === U64_MAX && r.smin === S64_MIN && r.smax === S64_MAX
    && r.u32min === 0n && r.u32max === U32_MASK && r.s32min === S32_MIN && r.s32max === S32_MAX) {
    return;
  }
  syncBounds(r);
}

/**
 * `reg_bounds_sanity_check` (without the log): on inconsistent bounds the
 * kernel logs a verifier bug and resets the register to unbounded.
 */
export function regBoundsSanity(r: Reg, log?: (line: string) => void, ctx = ''): void {
  let msg: string | null = null;
  if (r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max) msg = 'range bounds violation';
  if (!msg && tnumIsConst(r.varOff)) {
    const uv = r.varOff.value;
    if (r.umin !== uv || r.umax !== uv || r.smin !== s64(uv) || r.smax !== s64(uv)) msg = 'const tnum out of sync with range bounds';
  }
  if (!msg && tnumSubregIsConst(r.varOff)) {
    const uv = r.varOff.value & U32_MASK;
    if (r.u32min !== uv || r.u32max !== uv || r.s32min !== s32(uv) || r.s32max !== s32(uv)) msg = 'const subreg tnum out of sync with range bounds';
  }
  if (!msg) return;
  if (log) {
    // verifier_bug() in the kernel's words; the values as its %#llx / %#x print them
    const h = (v: bigint, bits: 32 | 64) => `0x${BigInt.asUintN(bits, v).toString(16)}`;
    log(`verifier bug: REG INVARIANTS VIOLATION (${ctx}): ${msg} u64=[${h(r.umin, 64)}, ${h(r.umax, 64)}] `
      + `s64=[${h(r.smin, 64)}, ${h(r.smax, 64)}] u32=[${h(r.u32min, 32)}, ${h(r.u32max, 32)}] `
      + `s32=[${h(r.s32min, 32)}, ${h(r.s32max, 32)}] var_off=(${h(r.varOff.value, 64)}, ${h(r.varOff.mask, 64)})\n`);
  }
  markUnbounded(r);
}

/** `__reg_assign_32_into_64`. */
export function regAssign32Into64(r: Reg): void {
  r.umin = r.u32min;
  r.umax = r.u32max;
  if (r.s32min >= 0n && r.s32max >= 0n) {
    r.smin = r.s32min;
    r.smax = r.s32max;
  } else {
    r.smin = 0n;
    r.smax = U32_MAX;
  }
}

/** `zext_32_to_64`. */
export function zext32To64(r: Reg): void {
  r.varOff = tnumSubreg(r.varOff);
  regAssign32Into64(r);
}

/** `coerce_reg_to_size`: zero-extending load or truncation to `size` (< 8) bytes. */
export function coerceRegToSize(r: Reg, size: number): void {
  r.varOff = tnumCast(r.varOff, size);
  const mask = (1n << BigInt(size * 8)) - 1n;
  if ((r.umin & ~mask) === (r.umax & ~mask)) {
    r.umin &= mask;
    r.umax &= mask;
  } else {
    r.umin = 0n;
    r.umax = mask;
  }
  r.smin = r.umin;
  r.smax = r.umax;
  if (size < 4) mark32Unbounded(r);
  regBoundsSync(r);
}

function sextN(v: bigint, size: number): bigint {
  return BigInt.asIntN(size * 8, v);
}

/** `coerce_reg_to_size_sx`: sign-extending load or `movsx` to 64 bits. */
export function coerceRegToSizeSx(r: Reg, size: number): void {
  // A value the sign extension may change is no longer its linked registers'
  // value (a sign-extending fill of a spilled scalar keeps the link only when
  // umax < 2^(bits-1), as the kernel does; BPF_MOVSX decides the same before).
  if (r.umax >= 1n << BigInt(size * 8 - 1)) {
    r.id = 0;
    r.addConst = 0;
    r.delta = 0;
  }
  if (tnumIsConst(r.varOff)) {
    const c = sextN(r.varOff.value, size);
    r.varOff = tnumConst(u64(c));
    r.smin = c;
    r.smax = c;
    r.umin = u64(c);
    r.umax = u64(c);
    r.s32min = s32(c);
    r.s32max = s32(c);
    r.u32min = u32(c);
    r.u32max = u32(c);
    return;
  }
  const bits = BigInt(size * 8);
  const half = 1n << (bits - 1n);
  if (r.s32min >= -half && r.s32max < half) {
    // The low 32 bits already hold the sign extension of the low `size`
    // bytes (always so for (s32)): the result is the 32-bit value
    // sign-extended, so the 32-bit bounds stay and the 64-bit signed
    // bounds are the 32-bit ones (as 6.18 does; measured on the kernel).
    r.smin = r.s32min;
    r.smax = r.s32max;
    r.umin = 0n;
    r.umax = U64_MAX;
    r.varOff = TNUM_UNKNOWN;
    regBoundsSync(r);
    return;
  }
  const topMax = (u64(r.smax) >> bits) << bits;
  const topMin = (u64(r.smin) >> bits) << bits;
  if (topMax === topMin) {
    const initMax = sextN(r.smax, size);
    const initMin = sextN(r.smin, size);
    const smax = bmax(initMax, initMin);
    const smin = bmin(initMax, initMin);
    if ((smax >= 0n) === (smin >= 0n)) {
      r.smin = smin;
      r.s32min = s32(smin);
      r.smax = smax;
      r.s32max = s32(smax);
      r.umin = u64(smin);
      r.u32min = u32(smin);
      r.umax = u64(smax);
      r.u32max = u32(smax);
      r.varOff = tnumRange(u64(smin), u64(smax));
      return;
    }
  }
  // set_sext64_default_val
  const lim = 1n << (bits - 1n);
  r.smin = -lim;
  r.s32min = -lim;
  r.smax = lim - 1n;
  r.s32max = lim - 1n;
  r.umin = 0n;
  r.u32min = 0n;
  r.umax = U64_MAX;
  r.u32max = U32_MAX;
  r.varOff = TNUM_UNKNOWN;
}

/** `coerce_subreg_to_size_sx`: `w = (s8/s16) w`. */
export function coerceSubregToSizeSx(r: Reg, size: number): void {
  if (tnumIsConst(r.varOff)) {
    const c = sextN(r.varOff.value, size);
    r.varOff = tnumConst(u64(c));
    r.s32min = s32(c);
    r.s32max = s32(c);
    r.u32min = u32(c);
    r.u32max = u32(c);
    return;
  }
  const bits = BigInt(size * 8);
  const topMax = (u32(r.s32max) >> bits) << bits;
  const topMin = (u32(r.s32min) >> bits) << bits;
  if (topMax === topMin) {
    const initMax = sextN(r.s32max, size);
    const initMin = sextN(r.s32min, size);
    const smax = bmax(initMax, initMin);
    const smin = bmin(initMax, initMin);
    if ((smin >= 0n) === (smax >= 0n)) {
      r.s32min = smin;
      r.s32max = smax;
      r.u32min = u32(smin);
      r.u32max = u32(smax);
      r.varOff = tnumSubreg(tnumRange(u64(smin), u64(smax)));
      return;
    }
  }
  const lim = 1n << (bits - 1n);
  r.s32min = -lim;
  r.s32max = lim - 1n;
  r.u32min = 0n;
  r.u32max = U32_MAX;
  r.varOff = tnumSubreg(TNUM_UNKNOWN);
}

/** Whether the register is a scalar known to be 0. */
export function isNullReg(r: Reg): boolean {
  return r.type === T.SCALAR && r.varOff.mask === 0n && r.varOff.value === 0n;
}

/** Whether the register is a known scalar (in 32 or 64 bits). */
export function isRegConst(r: Reg, subreg32: boolean): boolean {
  return r.type === T.SCALAR && (subreg32 ? (r.varOff.mask & U32_MASK) === 0n : r.varOff.mask === 0n);
}

export function regConstValue(r: Reg, subreg32: boolean): bigint {
  return subreg32 ? r.varOff.value & U32_MASK : r.varOff.value;
}

export function isPktPointer(t: number): boolean {
  const b = baseType(t);
  return b === T.PACKET || b === T.PACKET_META;
}

export function isPktPointerAny(r: Reg): boolean {
  return isPktPointer(r.type) || r.type === T.PACKET_END;
}

export function mayBeNull(t: number): boolean {
  return (t & F.MAYBE_NULL) !== 0;
}

export function isSkPointer(t: number): boolean {
  return t === T.SOCKET || t === T.SOCK_COMMON || t === T.TCP_SOCK || t === T.XDP_SOCK;
}

/** Number of significant bits of umax (`get_reg_width`). */
export function regWidth(r: Reg): number {
  return r.umax === 0n ? 0 : r.umax.toString(2).length;
}

/** Flags that keep a register trusted (`BPF_REG_TRUSTED_MODIFIERS`). */
export const TRUSTED_MODIFIERS = F.TRUSTED | F.ALLOC | F.NON_OWN;

/** `is_trusted_reg`. */
export function isTrustedReg(r: Reg): boolean {
  if (r.refObjId) return true;
  const b = baseType(r.type);
  const flags = r.type & ~0xff;
  const unsafe = (flags & ~TRUSTED_MODIFIERS) !== 0;
  if ((b === T.SOCKET || b === T.SOCK_COMMON || b === T.TCP_SOCK || b === T.MAP_PTR) && !unsafe) return true;
  return (flags & TRUSTED_MODIFIERS) !== 0 && !unsafe;
}

/** `reg_not_null`. */
export function regNotNull(r: Reg): boolean {
  if (mayBeNull(r.type)) return false;
  const b = baseType(r.type);
  return b === T.SOCKET || b === T.TCP_SOCK || b === T.MAP_VALUE || b === T.MAP_KEY || b === T.SOCK_COMMON
    || (b === T.MEM && !(r.type & F.UNTRUSTED)) || b === T.MAP_PTR || (b === T.BTF_ID && isTrustedReg(r));
}

/** Equality of every field the kernel's memcmp up to `id` would compare (type, off, union, tnum, bounds). */
export function regsEqualUpToId(a: Reg, b: Reg): boolean {
  return a.type === b.type && a.off === b.off && a.range === b.range && a.map === b.map && a.mapUid === b.mapUid
    && a.memSize === b.memSize && a.subprogno === b.subprogno && a.btfId === b.btfId && a.dynptrType === b.dynptrType
    && a.dynptrFirst === b.dynptrFirst && a.varOff.value === b.varOff.value
    && a.varOff.mask === b.varOff.mask && a.smin === b.smin && a.smax === b.smax && a.umin === b.umin
    && a.umax === b.umax && a.s32min === b.s32min && a.s32max === b.s32max && a.u32min === b.u32min
    && a.u32max === b.u32max;
}

/** Equality up to `var_off` (type, off and the union). */
export function regsEqualUpToVarOff(a: Reg, b: Reg): boolean {
  return a.type === b.type && a.off === b.off && a.range === b.range && a.map === b.map && a.mapUid === b.mapUid
    && a.memSize === b.memSize && a.subprogno === b.subprogno && a.btfId === b.btfId;
}

/** `range_within`: cur's bounds inside old's. */
export function rangeWithin(old: Reg, cur: Reg): boolean {
  return old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin && old.smax >= cur.smax
    && old.u32min <= cur.u32min && old.u32max >= cur.u32max && old.s32min <= cur.s32min && old.s32max >= cur.s32max;
}

/** Known 64-bit value of `imm` as a register would hold it. */
export function immReg(imm: bigint): Reg {
  const r = notInitReg();
  r.type = T.SCALAR;
  markKnown(r, imm);
  return r;
}

/** `tnum_range` over the s64 bounds, used by the mixed-bound deduction. */
export { tnumRange };
export { U32_MASK };
