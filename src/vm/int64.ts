/**
 * 64-bit arithmetic on (lo, hi) pairs of signed 32-bit words. The engines
 * keep registers as such pairs so that no BigInt is created per operation;
 * only division and modulo of values beyond 53 bits fall back to BigInt.
 */

const TWO32 = 4294967296;

/** High 32 bits of the unsigned product of two 32-bit words. */
export function mulhiU32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lo0 = a0 * b0;
  const mid1 = a1 * b0 + (lo0 >>> 16);
  const mid2 = a0 * b1 + (mid1 & 0xffff);
  return (a1 * b1 + Math.floor(mid1 / 65536) + Math.floor(mid2 / 65536)) | 0;
}

/** The pair as an unsigned bigint. */
export function pairToBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The pair as a signed bigint. */
export function pairToSignedBig(lo: number, hi: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}

/** Writes the low 64 bits of `v` into `out[at]` (lo) and `out[at + 1]` (hi). */
export function bigToPair(v: bigint, out: Int32Array, at: number): void {
  out[at] = Number(BigInt.asIntN(32, v));
  out[at + 1] = Number(BigInt.asIntN(32, v >> 32n));
}

/** Whether a pair is a sign-extended 32-bit value (so plain numbers compute it exactly). */
export function isSmall(lo: number, hi: number): boolean {
  return hi === lo >> 31;
}

/**
 * 64-bit division or modulo with RFC 9669's rules: division by zero gives 0,
 * modulo by zero keeps the dividend, signed forms truncate toward zero and
 * `INT64_MIN / -1` wraps to `INT64_MIN`. Result goes to `out[at]`, `out[at+1]`.
 */
export function divmod64(
  op: 'div' | 'mod' | 'sdiv' | 'smod',
  alo: number, ahi: number, blo: number, bhi: number,
  out: Int32Array, at: number,
): void {
  if (blo === 0 && bhi === 0) {
    if (op === 'div' || op === 'sdiv') {
      out[at] = 0;
      out[at + 1] = 0;
    } else {
      out[at] = alo;
      out[at + 1] = ahi;
    }
    return;
  }
  if (op === 'div' || op === 'mod') {
    if (ahi === 0 && bhi === 0) {
      const a = alo >>> 0;
      const b = blo >>> 0;
      out[at] = (op === 'div' ? Math.floor(a / b) : a % b) | 0;
      out[at + 1] = 0;
      return;
    }
    const a = pairToBig(alo, ahi);
    const b = pairToBig(blo, bhi);
    bigToPair(op === 'div' ? a / b : a % b, out, at);
    return;
  }
  if (isSmall(alo, ahi) && isSmall(blo, bhi)) {
    const r = op === 'sdiv' ? Math.trunc(alo / blo) : alo % blo;
    out[at] = r | 0;
    out[at + 1] = Math.floor(r / TWO32) | 0;
    return;
  }
  const a = pairToSignedBig(alo, ahi);
  const b = pairToSignedBig(blo, bhi);
  bigToPair(op === 'sdiv' ? a / b : a % b, out, at);
}
