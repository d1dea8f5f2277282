/**
 * Tracked numbers ("tnums"): what is known about each bit of a 64-bit
 * value. A bit is known 0, known 1, or unknown (its `mask` bit is set).
 * Arithmetic on tnums gives a tnum covering every possible result, with the
 * same algorithms as Linux's kernel/bpf/tnum.c so that the verifier's
 * register state (and its log) is bit-for-bit the kernel's. Values are
 * unsigned 64-bit bigints.
 */

/** All 64 bits set. */
export const U64_MAX = 0xffff_ffff_ffff_ffffn;
/** Low 32 bits set. */
export const U32_MASK = 0xffff_ffffn;
/** The sign bit of a 64-bit value. */
export const SIGN64 = 0x8000_0000_0000_0000n;

/** A tracked number. `value` has no bits where `mask` has bits. */
export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

/** Builds a tnum (both parts truncated to 64 bits). */
export function tnum(value: bigint, mask: bigint): Tnum {
  return { value: value & U64_MAX, mask: mask & U64_MAX };
}

/** Nothing known. */
// (not frozen: a frozen object has another hidden class than the tnums built
// everywhere else, and every tnum function would then see two)
export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64_MAX };
/** The empty set (used internally by union/division helpers). */
const TNUM_BOTTOM: Tnum = { value: U64_MAX, mask: U64_MAX };
/** The constant zero. */
export const TNUM_ZERO: Tnum = { value: 0n, mask: 0n };

/** A known constant (taken modulo 2^64). */
export function tnumConst(value: bigint): Tnum {
  return value === 0n ? TNUM_ZERO : { value: value & U64_MAX, mask: 0n };
}

/** Number of significant bits of an unsigned 64-bit value (fls64). */
export function fls64(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** The smallest tnum containing every value of [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = (min ^ max) & U64_MAX;
  const bits = fls64(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta & U64_MAX, mask: delta };
}

export function tnumLshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return { value: (a.value << s) & U64_MAX, mask: (a.mask << s) & U64_MAX };
}

export function tnumRshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return { value: a.value >> s, mask: a.mask >> s };
}

/** Arithmetic right shift of the 64-bit (or, with bitness 32, the 32-bit) value. */
export function tnumArshift(a: Tnum, shift: number, bitness: 32 | 64): Tnum {
  const s = BigInt(shift);
  if (bitness === 32) {
    return {
      value: BigInt.asUintN(32, BigInt.asIntN(32, a.value) >> s),
      mask: BigInt.asUintN(32, BigInt.asIntN(32, a.mask) >> s),
    };
  }
  return {
    value: BigInt.asUintN(64, BigInt.asIntN(64, a.value) >> s),
    mask: BigInt.asUintN(64, BigInt.asIntN(64, a.mask) >> s),
  };
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = (a.mask + b.mask) & U64_MAX;
  const sv = (a.value + b.value) & U64_MAX;
  const sigma = (sm + sv) & U64_MAX;
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return { value: sv & ~mu & U64_MAX, mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = (a.value - b.value) & U64_MAX;
  const alpha = (dv + a.mask) & U64_MAX;
  const beta = (dv - b.mask) & U64_MAX;
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return { value: dv & ~mu & U64_MAX, mask: mu };
}

export function tnumNeg(a: Tnum): Tnum {
  return tnumSub(TNUM_ZERO, a);
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64_MAX };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return { value: v, mask: mu & ~v & U64_MAX };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64_MAX, mask: mu };
}

/** Superset of both tnums' values (Linux's tnum_union). */
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  if (a.value === TNUM_BOTTOM.value && a.mask === TNUM_BOTTOM.mask) return b;
  if (b.value === TNUM_BOTTOM.value && b.mask === TNUM_BOTTOM.mask) return a;
  const v = a.value & b.value;
  const mu = (a.value ^ b.value) | a.mask | b.mask;
  return { value: v & ~mu & U64_MAX, mask: mu };
}

/** Long multiplication with a union for unknown bits of `a`. */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  let acc: Tnum = TNUM_ZERO;
  let x = a;
  let y = b;
  while (x.value !== 0n || x.mask !== 0n) {
    if (x.value & 1n) acc = tnumAdd(acc, y);
    else if (x.mask & 1n) acc = tnumUnion(acc, tnumAdd(acc, y));
    x = tnumRshift(x, 1);
    y = tnumLshift(y, 1);
  }
  return acc;
}

/** Whether some value is in both tnums. */
export function tnumOverlap(a: Tnum, b: Tnum): boolean {
  const mu = ~a.mask & ~b.mask & U64_MAX;
  return (a.value & mu) === (b.value & mu);
}

/** Bits known in either (a disagreement gives a known 1, as in Linux). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64_MAX, mask: mu };
}

/** Truncates to `size` bytes. */
export function tnumCast(a: Tnum, size: number): Tnum {
  const m = (1n << BigInt(size * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

export function tnumIsAligned(a: Tnum, size: number): boolean {
  if (!size) return true;
  return ((a.value | a.mask) & BigInt(size - 1)) === 0n;
}

/** Whether every value of `b` is a value of `a`. */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  // (without allocating for the common unknown and constant tnums)
  if (a.mask === U64_MAX) return a.value === 0n;
  if (a.mask === 0n && b.mask === 0n) return a.value === b.value;
  if (b.mask & ~a.mask & U64_MAX) return false;
  return a.value === (b.value & ~a.mask & U64_MAX);
}

/**
 * `tnum_step`: the smallest member of `a` greater than `z` (`a.value` when
 * `z` is below every member, the largest member when `z` is at or above it).
 */
export function tnumStep(a: Tnum, z: bigint): bigint {
  const { value, mask } = a;
  const tmax = value | mask;
  if (z >= tmax) return tmax;
  if (z < value) return value;
  // The member that agrees with z on every unknown bit.
  const same = value | (z & mask);
  if (same > z) {
    // z has a 0 where a known 1 bit is: keep z above that bit, then the smallest member below it.
    const k = BigInt(fls64(~z & value & ~mask & U64_MAX));
    const high = (U64_MAX << k) & U64_MAX;
    return (z & high) | (value & ~high & U64_MAX);
  }
  // z is a member, or has a 1 where a known 0 bit is: add one at the lowest position above
  // that bit, carrying through the known bits, and keep the unknown bits of the sum.
  const k = BigInt(fls64(z & ~value & ~mask & U64_MAX));
  const high = (U64_MAX << k) & U64_MAX;
  const v = (high & mask & z) | (high & ~mask & U64_MAX);
  return (((v + (1n << k)) & mask) | value) & U64_MAX;
}

export function tnumIsConst(a: Tnum): boolean {
  return a.mask === 0n;
}

export function tnumEqualsConst(a: Tnum, v: bigint): boolean {
  return a.mask === 0n && a.value === v;
}

export function tnumIsUnknown(a: Tnum): boolean {
  return a.mask === U64_MAX;
}

export function tnumSubreg(a: Tnum): Tnum {
  return { value: a.value & U32_MASK, mask: a.mask & U32_MASK };
}

export function tnumClearSubreg(a: Tnum): Tnum {
  return { value: a.value & ~U32_MASK & U64_MAX, mask: a.mask & ~U32_MASK & U64_MAX };
}

export function tnumWithSubreg(reg: Tnum, subreg: Tnum): Tnum {
  return tnumOr(tnumClearSubreg(reg), tnumSubreg(subreg));
}

export function tnumConstSubreg(a: Tnum, value: bigint): Tnum {
  return tnumWithSubreg(a, tnumConst(value & U32_MASK));
}

export function tnumSubregIsConst(a: Tnum): boolean {
  return (a.mask & U32_MASK) === 0n;
}

function swap(v: bigint, bytes: number): bigint {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Byte swap of the low `bits` bits (the rest cleared). */
export function tnumBswap(a: Tnum, bits: 16 | 32 | 64): Tnum {
  const n = bits / 8;
  return { value: swap(a.value, n), mask: swap(a.mask, n) };
}

/** Number as the kernel prints it in a tnum: decimal up to 65535, else `0x…`. */
function unum(v: bigint): string {
  return v <= 0xffffn ? v.toString() : '0x' + v.toString(16);
}

/** `tnum_strn`: a constant alone, otherwise `(0xvalue; 0xmask)`. */
export function tnumStr(a: Tnum): string {
  if (a.mask === 0n) return unum(a.value);
  return `(${hexAlt(a.value)}; ${hexAlt(a.mask)})`;
}

/** The kernel's `%#llx` (its vsnprintf prints `0x0` for zero). */
export function hexAlt(v: bigint): string {
  return '0x' + v.toString(16);
}
