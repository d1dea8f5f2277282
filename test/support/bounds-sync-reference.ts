/**
 * The bigint implementation of `reg_bounds_sync`'s slow path that the
 * verifier used before src/verifier/bounds-sync.ts: one bigint operation
 * per kernel step, checked against the kernel by the verifier's
 * differential tests at the time. Kept as the oracle the word-based
 * version is compared with (test/verifier/bounds-sync.test.ts).
 */
import type { Reg } from '../../src/verifier/reg.js';
import { bmax, bmin, S32_MAX, S32_MIN, s32, s64, u32, u64, updateRegBounds } from '../../src/verifier/reg.js';
import { tnumClearSubreg, tnumIntersect, tnumOr, tnumRange, tnumSubreg } from '../../src/verifier/tnum.js';

function reg32DeduceBounds(r: Reg): void {
  if (r.umin >> 32n === r.umax >> 32n) {
    r.u32min = bmax(r.u32min, u32(r.umin));
    r.u32max = bmin(r.u32max, u32(r.umax));
    if (s32(r.umin) <= s32(r.umax)) {
      r.s32min = bmax(r.s32min, s32(r.umin));
      r.s32max = bmin(r.s32max, s32(r.umax));
    }
  }
  if (r.smin >> 32n === r.smax >> 32n) {
    if (u32(r.smin) <= u32(r.smax)) {
      r.u32min = bmax(r.u32min, u32(r.smin));
      r.u32max = bmin(r.u32max, u32(r.smax));
    }
    if (s32(r.smin) <= s32(r.smax)) {
      r.s32min = bmax(r.s32min, s32(r.smin));
      r.s32max = bmin(r.s32max, s32(r.smax));
    }
  }
  if (u32((r.umin >> 32n) + 1n) === u32(r.umax >> 32n) && s32(r.umin) < 0n && s32(r.umax) >= 0n) {
    r.s32min = bmax(r.s32min, s32(r.umin));
    r.s32max = bmin(r.s32max, s32(r.umax));
  }
  if (u32((r.smin >> 32n) + 1n) === u32(r.smax >> 32n) && s32(r.smin) < 0n && s32(r.smax) >= 0n) {
    r.s32min = bmax(r.s32min, s32(r.smin));
    r.s32max = bmin(r.s32max, s32(r.smax));
  }
  if (s32(r.u32min) <= s32(r.u32max)) {
    r.s32min = bmax(r.s32min, s32(r.u32min));
    r.s32max = bmin(r.s32max, s32(r.u32max));
  }
  if (u32(r.s32min) <= u32(r.s32max)) {
    r.u32min = bmax(r.u32min, u32(r.s32min));
    r.u32max = bmin(r.u32max, u32(r.s32max));
  } else if (r.u32max < u32(r.s32min)) {
    // The s32 range crosses the sign boundary and the u32 range overlaps
    // only its non-negative part (the 32-bit twin of the 64-bit case below).
    r.s32min = s32(r.u32min);
    r.u32max = bmin(r.u32max, u32(r.s32max));
  } else if (u32(r.s32max) < r.u32min) {
    // ... or only its negative part.
    r.s32max = s32(r.u32max);
    r.u32min = bmax(r.u32min, u32(r.s32min));
  }
}

function reg64DeduceBounds(r: Reg): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = bmax(r.smin, s64(r.umin));
    r.smax = bmin(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = bmax(r.umin, u64(r.smin));
    r.umax = bmin(r.umax, u64(r.smax));
  } else if (r.umax < u64(r.smin)) {
    r.smin = s64(r.umin);
    r.umax = bmin(r.umax, u64(r.smax));
  } else if (u64(r.smax) < r.umin) {
    r.smax = s64(r.umax);
    r.umin = bmax(r.umin, u64(r.smin));
  }
}

function regDeduceMixedBounds(r: Reg): void {
  const hiMask = 0xffff_ffff_0000_0000n;
  const newUmin = (r.umin & hiMask) | r.u32min;
  const newUmax = (r.umax & hiMask) | r.u32max;
  r.umin = bmax(r.umin, newUmin);
  r.umax = bmin(r.umax, newUmax);
  const newSmin = s64((u64(r.smin) & hiMask) | r.u32min);
  const newSmax = s64((u64(r.smax) & hiMask) | r.u32max);
  r.smin = bmax(r.smin, newSmin);
  r.smax = bmin(r.smax, newSmax);
  if (r.s32min >= 0n && r.smin >= S32_MIN && r.smax <= S32_MAX) {
    r.smin = r.s32min;
    r.smax = r.s32max;
    r.umin = u64(r.s32min);
    r.umax = u64(r.s32max);
    r.varOff = tnumIntersect(r.varOff, tnumRange(u64(r.smin), u64(r.smax)));
  }
}

function regDeduceBounds(r: Reg): void {
  reg32DeduceBounds(r);
  reg64DeduceBounds(r);
  regDeduceMixedBounds(r);
}

function regBoundOffset(r: Reg): void {
  const var64 = tnumIntersect(r.varOff, tnumRange(r.umin, r.umax));
  const var32 = tnumIntersect(tnumSubreg(var64), tnumRange(r.u32min, r.u32max));
  r.varOff = tnumOr(tnumClearSubreg(var64), var32);
}

/** The slow path of `reg_bounds_sync`, on bigints. */
export function syncBoundsReference(r: Reg): void {
  updateRegBounds(r);
  regDeduceBounds(r);
  regDeduceBounds(r);
  regDeduceBounds(r);
  regBoundOffset(r);
  updateRegBounds(r);
}
