/**
 * `reg_bounds_sync` on 32-bit halves. A register's bounds and tnum are
 * `bigint`s elsewhere; synchronising them is the verifier's most frequent
 * bounds operation and, on bigints, allocated a new number at almost every
 * step (about 40% of the garbage on large programs). Here the ten values
 * are copied once into 32-bit words, the kernel's steps run on those words
 * without allocating, and only the values that changed become bigints
 * again. Every 64-bit quantity is kept as its bit pattern (hi, lo), so the
 * kernel's casts between s64 and u64 are free and only comparisons choose
 * a signedness.
 */
import type { Reg } from './reg.js';

const raw = new BigUint64Array(10);
const rawSigned = new BigInt64Array(raw.buffer);
const words = new Uint32Array(raw.buffer);
/** Index of the low word of a 64-bit element in `words` (the platform's byte order). */
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

// Slots of `raw`.
const UMIN = 0;
const UMAX = 1;
const SMIN = 2;
const SMAX = 3;
const U32MIN = 4;
const U32MAX = 5;
const S32MIN = 6;
const S32MAX = 7;
const TVALUE = 8;
const TMASK = 9;

// The working values: 64-bit ones as two unsigned 32-bit words, s32 bounds as int32, u32 ones as uint32.
let uminH = 0, uminL = 0, umaxH = 0, umaxL = 0;
let sminH = 0, sminL = 0, smaxH = 0, smaxL = 0;
let u32min = 0, u32max = 0, s32min = 0, s32max = 0;
let vH = 0, vL = 0, mH = 0, mL = 0;

/** a < b, unsigned 64-bit. */
function ult(ah: number, al: number, bh: number, bl: number): boolean {
  return ah < bh || (ah === bh && al < bl);
}
/** a < b, signed 64-bit. */
function slt(ah: number, al: number, bh: number, bl: number): boolean {
  const sa = ah | 0;
  const sb = bh | 0;
  return sa < sb || (sa === sb && al < bl);
}

/** Number of significant bits of a 32-bit word. */
function fls32(x: number): number {
  return 32 - Math.clz32(x);
}

/** (hi, lo) of ~0 << k for k in [0, 64]. */
let shH = 0, shL = 0;
function highMask(k: number): void {
  if (k >= 64) { shH = 0; shL = 0; } else if (k >= 32) { shH = (0xffff_ffff << (k - 32)) >>> 0; shL = 0; } else { shH = 0xffff_ffff; shL = k === 0 ? 0xffff_ffff : (0xffff_ffff << k) >>> 0; }
}

/** Result of tnumStep. */
let stH = 0, stL = 0;
/**
 * The smallest member of the tnum (vH:vL, mH:mL) above z, or the tnum's
 * largest member when z is at or above it (tnum.ts `tnumStep`).
 */
function tnumStep(zH: number, zL: number): void {
  const tmaxH = (vH | mH) >>> 0;
  const tmaxL = (vL | mL) >>> 0;
  if (!ult(zH, zL, tmaxH, tmaxL)) { stH = tmaxH; stL = tmaxL; return; }
  if (ult(zH, zL, vH, vL)) { stH = vH; stL = vL; return; }
  const sameH = (vH | (zH & mH)) >>> 0;
  const sameL = (vL | (zL & mL)) >>> 0;
  if (ult(zH, zL, sameH, sameL)) {
    // z has a 0 where a known 1 bit is: keep z above that bit, then the smallest member below it.
    const xH = (~zH & vH & ~mH) >>> 0;
    const xL = (~zL & vL & ~mL) >>> 0;
    highMask(xH !== 0 ? 32 + fls32(xH) : fls32(xL));
    stH = ((zH & shH) | (vH & ~shH)) >>> 0;
    stL = ((zL & shL) | (vL & ~shL)) >>> 0;
    return;
  }
  // z is a member, or has a 1 where a known 0 bit is: add one at the lowest position above
  // that bit, carrying through the known bits, and keep the unknown bits of the sum.
  const xH = (zH & ~vH & ~mH) >>> 0;
  const xL = (zL & ~vL & ~mL) >>> 0;
  const k = xH !== 0 ? 32 + fls32(xH) : fls32(xL);
  highMask(k);
  const wH = ((shH & mH & zH) | (shH & ~mH)) >>> 0;
  const wL = ((shL & mL & zL) | (shL & ~mL)) >>> 0;
  // w + (1 << k), modulo 2^64
  let sumH = wH;
  let sumL = wL;
  if (k < 32) {
    const lo = wL + 2 ** k;
    sumL = lo >>> 0;
    sumH = (wH + (lo > 0xffff_ffff ? 1 : 0)) >>> 0;
  } else if (k < 64) {
    sumH = (wH + 2 ** (k - 32)) >>> 0;
  }
  stH = ((sumH & mH) | vH) >>> 0;
  stL = ((sumL & mL) | vL) >>> 0;
}

/** `___mark_reg_known` on the working values. */
function setKnown(h: number, l: number): void {
  vH = h; vL = l; mH = 0; mL = 0;
  uminH = umaxH = sminH = smaxH = h;
  uminL = umaxL = sminL = smaxL = l;
  u32min = u32max = l;
  s32min = s32max = l | 0;
}

function updateReg32Bounds(): void {
  const s32lo = (vL | (mL & 0x8000_0000)) | 0;
  const s32hi = (vL | (mL & 0x7fff_ffff)) | 0;
  if (s32lo > s32min) s32min = s32lo;
  if (s32hi < s32max) s32max = s32hi;
  if (vL > u32min) u32min = vL;
  const tmax = (vL | mL) >>> 0;
  if (tmax < u32max) u32max = tmax;
}

function updateReg64Bounds(): void {
  // smin = max(smin, v | (m & sign)); smax = min(smax, v | (m & ~sign))
  const loH = (vH | (mH & 0x8000_0000)) >>> 0;
  if (slt(sminH, sminL, loH, vL)) { sminH = loH; sminL = vL; }
  const hiH = (vH | (mH & 0x7fff_ffff)) >>> 0;
  const hiL = (vL | mL) >>> 0;
  if (slt(hiH, hiL, smaxH, smaxL)) { smaxH = hiH; smaxL = hiL; }
  if (ult(uminH, uminL, vH, vL)) { uminH = vH; uminL = vL; }
  const tmaxH = (vH | mH) >>> 0;
  const tmaxL = (vL | mL) >>> 0;
  if (ult(tmaxH, tmaxL, umaxH, umaxL)) { umaxH = tmaxH; umaxL = tmaxL; }
  // When the u64 range and the tnum have a single value in common, the
  // register is that constant (6.18's __update_reg64_bounds, with tnum_step).
  const h = uminH;
  const l = uminL;
  if (h === vH && l === vL) {
    tnumStep(h, l);
    if (ult(umaxH, umaxL, stH, stL)) setKnown(h, l);
    return;
  }
  tnumStep(h, l);
  const nextH = stH;
  const nextL = stL;
  const uminIn = ((h & ~mH) >>> 0) === vH && ((l & ~mL) >>> 0) === vL;
  if (uminIn && ult(umaxH, umaxL, nextH, nextL)) {
    setKnown(h, l);
  } else if (!uminIn && nextH === tmaxH && nextL === tmaxL) {
    setKnown(tmaxH, tmaxL);
  } else if (!uminIn && !ult(umaxH, umaxL, nextH, nextL)) {
    tnumStep(nextH, nextL);
    if (ult(umaxH, umaxL, stH, stL)) setKnown(nextH, nextL);
  }
}

function reg32DeduceBounds(): void {
  if (uminH === umaxH) {
    if (uminL > u32min) u32min = uminL;
    if (umaxL < u32max) u32max = umaxL;
    if ((uminL | 0) <= (umaxL | 0)) {
      if ((uminL | 0) > s32min) s32min = uminL | 0;
      if ((umaxL | 0) < s32max) s32max = umaxL | 0;
    }
  }
  if (sminH === smaxH) {
    if (sminL <= smaxL) {
      if (sminL > u32min) u32min = sminL;
      if (smaxL < u32max) u32max = smaxL;
    }
    if ((sminL | 0) <= (smaxL | 0)) {
      if ((sminL | 0) > s32min) s32min = sminL | 0;
      if ((smaxL | 0) < s32max) s32max = smaxL | 0;
    }
  }
  if (((uminH + 1) >>> 0) === umaxH && (uminL | 0) < 0 && (umaxL | 0) >= 0) {
    if ((uminL | 0) > s32min) s32min = uminL | 0;
    if ((umaxL | 0) < s32max) s32max = umaxL | 0;
  }
  if (((sminH + 1) >>> 0) === smaxH && (sminL | 0) < 0 && (smaxL | 0) >= 0) {
    if ((sminL | 0) > s32min) s32min = sminL | 0;
    if ((smaxL | 0) < s32max) s32max = smaxL | 0;
  }
  if ((u32min | 0) <= (u32max | 0)) {
    if ((u32min | 0) > s32min) s32min = u32min | 0;
    if ((u32max | 0) < s32max) s32max = u32max | 0;
  }
  if (s32min >>> 0 <= s32max >>> 0) {
    if (s32min >>> 0 > u32min) u32min = s32min >>> 0;
    if (s32max >>> 0 < u32max) u32max = s32max >>> 0;
  } else if (u32max < s32min >>> 0) {
    // The s32 range crosses the sign boundary and the u32 range overlaps
    // only its non-negative part (the 32-bit twin of the 64-bit case below).
    s32min = u32min | 0;
    if (s32max >>> 0 < u32max) u32max = s32max >>> 0;
  } else if (s32max >>> 0 < u32min) {
    // ... or only its negative part.
    s32max = u32max | 0;
    if (s32min >>> 0 > u32min) u32min = s32min >>> 0;
  }
}

function reg64DeduceBounds(): void {
  if (!slt(umaxH, umaxL, uminH, uminL)) {
    if (slt(sminH, sminL, uminH, uminL)) { sminH = uminH; sminL = uminL; }
    if (slt(umaxH, umaxL, smaxH, smaxL)) { smaxH = umaxH; smaxL = umaxL; }
  }
  if (!ult(smaxH, smaxL, sminH, sminL)) {
    if (ult(uminH, uminL, sminH, sminL)) { uminH = sminH; uminL = sminL; }
    if (ult(smaxH, smaxL, umaxH, umaxL)) { umaxH = smaxH; umaxL = smaxL; }
  } else if (ult(umaxH, umaxL, sminH, sminL)) {
    sminH = uminH; sminL = uminL;
    if (ult(smaxH, smaxL, umaxH, umaxL)) { umaxH = smaxH; umaxL = smaxL; }
  } else if (ult(smaxH, smaxL, uminH, uminL)) {
    smaxH = umaxH; smaxL = umaxL;
    if (ult(uminH, uminL, sminH, sminL)) { uminH = sminH; uminL = sminL; }
  }
}

/** tnumRange's result. */
let rgVH = 0, rgVL = 0, rgMH = 0, rgML = 0;
/** The smallest tnum holding every value of [min, max] (unsigned). */
function tnumRange(minH: number, minL: number, maxH: number, maxL: number): void {
  const cH = (minH ^ maxH) >>> 0;
  const cL = (minL ^ maxL) >>> 0;
  const bits = cH !== 0 ? 32 + fls32(cH) : fls32(cL);
  if (bits > 63) { rgVH = 0; rgVL = 0; rgMH = 0xffff_ffff; rgML = 0xffff_ffff; return; }
  // delta = (1 << bits) - 1
  const dH = bits > 32 ? (2 ** (bits - 32) - 1) >>> 0 : 0;
  const dL = bits >= 32 ? 0xffff_ffff : (2 ** bits - 1) >>> 0;
  rgVH = (minH & ~dH) >>> 0;
  rgVL = (minL & ~dL) >>> 0;
  rgMH = dH;
  rgML = dL;
}

/** varOff = varOff ∩ the last tnumRange. */
function intersectWithRange(): void {
  const h = (vH | rgVH) >>> 0;
  const l = (vL | rgVL) >>> 0;
  mH = (mH & rgMH) >>> 0;
  mL = (mL & rgML) >>> 0;
  vH = (h & ~mH) >>> 0;
  vL = (l & ~mL) >>> 0;
}

function regDeduceMixedBounds(): void {
  // Each 64-bit bound against its own upper half joined with the u32 bound:
  // the upper half does not change, so only the lower word can move.
  if (u32min > uminL) uminL = u32min;
  if (u32max < umaxL) umaxL = u32max;
  if (u32min > sminL) sminL = u32min;
  if (u32max < smaxL) smaxL = u32max;
  // A non-negative s32 range and an s64 range within s32: all are that range.
  if (s32min >= 0 && !slt(sminH, sminL, 0xffff_ffff, 0x8000_0000) && !slt(0, 0x7fff_ffff, smaxH, smaxL)) {
    const maxH = s32max < 0 ? 0xffff_ffff : 0;
    sminH = 0; sminL = s32min;
    smaxH = maxH; smaxL = s32max >>> 0;
    uminH = 0; uminL = s32min;
    umaxH = maxH; umaxL = s32max >>> 0;
    tnumRange(0, s32min, maxH, s32max >>> 0);
    intersectWithRange();
  }
}

function regBoundOffset(): void {
  // var64 = varOff ∩ range(umin, umax)
  tnumRange(uminH, uminL, umaxH, umaxL);
  intersectWithRange();
  // var32 = subreg(var64) ∩ range(u32min, u32max); varOff = clear_subreg(var64) | var32
  tnumRange(0, u32min, 0, u32max);
  const v = (vL | rgVL) >>> 0;
  const m = (mL & rgML) >>> 0;
  const v32 = (v & ~m) >>> 0;
  // tnum_or(hi-only, lo-only): the halves do not overlap
  vL = v32;
  mL = m;
}

function load(r: Reg): void {
  raw[UMIN] = r.umin;
  raw[UMAX] = r.umax;
  raw[SMIN] = r.smin;
  raw[SMAX] = r.smax;
  raw[U32MIN] = r.u32min;
  raw[U32MAX] = r.u32max;
  raw[S32MIN] = r.s32min;
  raw[S32MAX] = r.s32max;
  raw[TVALUE] = r.varOff.value;
  raw[TMASK] = r.varOff.mask;
  uminH = words[2 * UMIN + HI]!; uminL = words[2 * UMIN + LO]!;
  umaxH = words[2 * UMAX + HI]!; umaxL = words[2 * UMAX + LO]!;
  sminH = words[2 * SMIN + HI]!; sminL = words[2 * SMIN + LO]!;
  smaxH = words[2 * SMAX + HI]!; smaxL = words[2 * SMAX + LO]!;
  u32min = words[2 * U32MIN + LO]!;
  u32max = words[2 * U32MAX + LO]!;
  s32min = words[2 * S32MIN + LO]! | 0;
  s32max = words[2 * S32MAX + LO]! | 0;
  vH = words[2 * TVALUE + HI]!; vL = words[2 * TVALUE + LO]!;
  mH = words[2 * TMASK + HI]!; mL = words[2 * TMASK + LO]!;
}

/** The 64-bit element `slot` changed to (h, l)? Then writes it to `raw`. */
function changed(slot: number, h: number, l: number): boolean {
  if (words[2 * slot + HI] === h && words[2 * slot + LO] === l) return false;
  words[2 * slot + HI] = h;
  words[2 * slot + LO] = l;
  return true;
}

function store(r: Reg): void {
  if (changed(UMIN, uminH, uminL)) r.umin = raw[UMIN]!;
  if (changed(UMAX, umaxH, umaxL)) r.umax = raw[UMAX]!;
  if (changed(SMIN, sminH, sminL)) r.smin = rawSigned[SMIN]!;
  if (changed(SMAX, smaxH, smaxL)) r.smax = rawSigned[SMAX]!;
  if (words[2 * U32MIN + LO] !== u32min) r.u32min = BigInt(u32min);
  if (words[2 * U32MAX + LO] !== u32max) r.u32max = BigInt(u32max);
  if ((words[2 * S32MIN + LO]! | 0) !== s32min) r.s32min = BigInt(s32min);
  if ((words[2 * S32MAX + LO]! | 0) !== s32max) r.s32max = BigInt(s32max);
  const tv = changed(TVALUE, vH, vL);
  const tm = changed(TMASK, mH, mL);
  if (tv || tm) r.varOff = { value: raw[TVALUE]!, mask: raw[TMASK]! };
}

/**
 * The slow path of `reg_bounds_sync` (reg.ts `regBoundsSync`): the tnum
 * and the eight bounds of `r` made to agree, as the kernel does it.
 */
export function syncBounds(r: Reg): void {
  load(r);
  updateReg32Bounds();
  updateReg64Bounds();
  for (let i = 0; i < 3; i++) {
    reg32DeduceBounds();
    reg64DeduceBounds();
    regDeduceMixedBounds();
  }
  regBoundOffset();
  updateReg32Bounds();
  updateReg64Bounds();
  store(r);
}
