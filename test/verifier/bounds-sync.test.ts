/**
 * The verifier's word-based `reg_bounds_sync` (src/verifier/bounds-sync.ts)
 * against the bigint implementation it replaced
 * (test/support/bounds-sync-reference.ts): the same eight bounds and tnum
 * for registers made from sets of values (the states the verifier meets)
 * and for arbitrary, even contradictory, field values; `tnum_in`'s shortcuts
 * against the kernel's definition.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { syncBounds } from '../../src/verifier/bounds-sync.js';
import { copyReg, notInitReg, T, type Reg } from '../../src/verifier/reg.js';
import { syncBoundsReference } from '../support/bounds-sync-reference.js';
import { tnumIn } from '../../src/verifier/tnum.js';

/** More runs for a longer search: TSBPF_PROPERTY_RUNS=1000000. */
const RUNS = Number(process.env.TSBPF_PROPERTY_RUNS ?? 20_000);
const M64 = (1n << 64n) - 1n;
const EDGES = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n,
  0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, M64, M64 - 1n, 0xffff_ffff_8000_0000n, 0xffff_ffff_7fff_ffffn];

/** 64-bit patterns, mostly near the values where signedness and halves change. */
const u64 = fc.oneof(
  fc.constantFrom(...EDGES),
  fc.tuple(fc.constantFrom(...EDGES), fc.integer({ min: -300, max: 300 })).map(([e, d]) => (e + BigInt(d)) & M64),
  fc.bigInt({ min: 0n, max: 0xffffn }),
  fc.bigInt({ min: 0n, max: M64 }),
);
const u32 = u64.map((v) => v & 0xffff_ffffn);
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const s32 = (v: bigint) => BigInt.asIntN(32, v);

function reg(fields: Partial<Reg>): Reg {
  const r = notInitReg();
  r.type = T.SCALAR;
  return Object.assign(r, fields);
}

/** A register holding exactly the given values: each bound its min/max, the tnum their join (optionally widened). */
const fromValues = fc.tuple(fc.array(u64, { minLength: 1, maxLength: 5 }), u64).map(([values, extraMask]) => {
  const min = <T extends bigint>(xs: T[]) => xs.reduce((a, b) => (b < a ? b : a));
  const max = <T extends bigint>(xs: T[]) => xs.reduce((a, b) => (b > a ? b : a));
  let and = M64;
  let or = 0n;
  for (const v of values) {
    and &= v;
    or |= v;
  }
  const mask = ((and ^ or) | (values.length === 1 ? 0n : extraMask & (values[0]! ^ M64))) & M64;
  const value = and & ~mask & M64;
  return reg({
    umin: min(values), umax: max(values),
    smin: min(values.map(s64)), smax: max(values.map(s64)),
    u32min: min(values.map((v) => v & 0xffff_ffffn)), u32max: max(values.map((v) => v & 0xffff_ffffn)),
    s32min: min(values.map(s32)), s32max: max(values.map(s32)),
    varOff: { value, mask },
  });
});

/** Any field values (a tnum's value keeps no bit of its mask, as every tnum the verifier builds). */
const arbitrary = fc.tuple(u64, u64, u64, u64, u32, u32, u32, u32, u64, u64).map(([a, b, c, d, e, f, g, h, v, m]) => reg({
  umin: a, umax: b, smin: s64(c), smax: s64(d), u32min: e, u32max: f, s32min: s32(g), s32max: s32(h),
  varOff: { value: v & ~m & M64, mask: m },
}));

/** Consistent 64-bit bounds with the 32-bit ones reset (what ALU results look like before the sync). */
const afterAlu = fc.tuple(u64, u64, u64).map(([a, b, m]) => {
  const lo = a < b ? a : b;
  const hi = a < b ? b : a;
  return reg({
    umin: lo, umax: hi, smin: -(1n << 63n), smax: (1n << 63n) - 1n, u32min: 0n, u32max: 0xffff_ffffn, s32min: -(1n << 31n), s32max: (1n << 31n) - 1n,
    varOff: { value: lo & ~m & M64, mask: m },
  });
});

function fields(r: Reg) {
  return {
    umin: r.umin, umax: r.umax, smin: r.smin, smax: r.smax, u32min: r.u32min, u32max: r.u32max, s32min: r.s32min, s32max: r.s32max,
    value: r.varOff.value, mask: r.varOff.mask,
  };
}

function same(r: Reg): void {
  const a = copyReg(r);
  const b = copyReg(r);
  syncBounds(a);
  syncBoundsReference(b);
  expect(fields(a)).toEqual(fields(b));
}

describe('reg_bounds_sync on 32-bit words', () => {
  it('equals the bigint implementation on registers made from values', () => {
    fc.assert(fc.property(fromValues, (r) => same(r)), { numRuns: RUNS });
  });

  it('equals it on ALU results whose 32-bit bounds were reset', () => {
    fc.assert(fc.property(afterAlu, (r) => same(r)), { numRuns: RUNS });
  });

  it('equals it on arbitrary, even contradictory, bounds', () => {
    fc.assert(fc.property(arbitrary, (r) => same(r)), { numRuns: RUNS });
  });

  it('gives the kernel\'s results on hand-checked registers', () => {
    // w1 &= 512; if w1 != 0: a range and a tnum with one value in common make a constant
    const r = reg({ umin: 1n, umax: 512n, smin: 1n, smax: 512n, u32min: 1n, u32max: 512n, s32min: 1n, s32max: 512n, varOff: { value: 0n, mask: 512n } });
    syncBounds(r);
    expect(fields(r)).toEqual({ umin: 512n, umax: 512n, smin: 512n, smax: 512n, u32min: 512n, u32max: 512n, s32min: 512n, s32max: 512n, value: 512n, mask: 0n });
    // u64 [0, 255] with unknown 32-bit bounds: the 32-bit bounds follow
    const b = reg({ umin: 0n, umax: 255n, smin: 0n, smax: 255n, u32min: 0n, u32max: 0xffff_ffffn, s32min: -(1n << 31n), s32max: (1n << 31n) - 1n, varOff: { value: 0n, mask: 0xffn } });
    syncBounds(b);
    expect(fields(b)).toEqual({ umin: 0n, umax: 255n, smin: 0n, smax: 255n, u32min: 0n, u32max: 255n, s32min: 0n, s32max: 255n, value: 0n, mask: 0xffn });
  });
});

describe('tnum_in', () => {
  // the kernel's definition: b's unknown bits are unknown in a, and a's known bits are b's
  const kernelTnumIn = (a: { value: bigint; mask: bigint }, b: { value: bigint; mask: bigint }) =>
    (b.mask & ~a.mask & M64) === 0n && a.value === (b.value & ~a.mask & M64);
  const tnum = fc.oneof(
    fc.tuple(u64, u64).map(([v, m]) => ({ value: v & ~m & M64, mask: m })),
    u64.map((v) => ({ value: v, mask: 0n })),
    fc.constant({ value: 0n, mask: M64 }),
  );

  it('takes its shortcuts for unknown and constant tnums exactly', () => {
    fc.assert(fc.property(tnum, tnum, (a, b) => {
      expect(tnumIn(a, b)).toBe(kernelTnumIn(a, b));
    }), { numRuns: RUNS });
  });
});
