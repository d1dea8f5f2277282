/**
 * Arithmetic: scalar range tracking for every ALU operation (the kernel's
 * scalar*_min_max_* functions and tnum operations), pointer arithmetic with
 * its restrictions, register moves with linked-scalar ids, and the field
 * checks of ALU instructions (check_alu_op).
 */
import type { Env } from './env.js';
import { checkRegArg } from './env.js';
import type { RawInsn } from '../isa/raw.js';
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_DIV, BPF_END, BPF_K, BPF_LSH, BPF_MOD, BPF_MOV, BPF_MUL, BPF_NEG, BPF_OR, BPF_RSH, BPF_SUB, BPF_X, BPF_XOR, cls, op, srcBit,
} from '../isa/raw.js';
import { aluString } from '../asm/kernel-syntax.js';
import type { Reg } from './reg.js';
import {
  baseType, bmax, bmin, coerceRegToSize, copyReg, coerceRegToSizeSx, coerceSubregToSizeSx, F, immReg, isPktPointer, isRegConst, mark32Unbounded, mark64Unbounded, markKnown, markReg32Known, markUnbounded, markUnknown, regBoundsSanity, regBoundsSync, regConstValue, regTypeStr, regWidth, s32, S32_MAX, S32_MIN, s64, S64_MAX, S64_MIN, setKnown, T, u32, U32_MAX, u64, U64_MAX, updateReg32Bounds, updateRegBounds, zext32To64,
} from './reg.js';
import {
  TNUM_UNKNOWN, tnumAdd, tnumAnd, tnumArshift, tnumBswap, tnumIsConst, tnumLshift, tnumMul, tnumNeg, tnumOr, tnumRshift, tnumSub, tnumSubreg, tnumSubregIsConst, tnumXor,
} from './tnum.js';
import { BPF_MAX_VAR_OFF } from './mem.js';
import { assignScalarIdBeforeMov, markChainPrecision } from './precision.js';
import { pushStack } from './search.js';

function addOvf64s(a: bigint, b: bigint): [bigint, boolean] {
  const r = a + b;
  return [s64(r), r < S64_MIN || r > S64_MAX];
}
function subOvf64s(a: bigint, b: bigint): [bigint, boolean] {
  const r = a - b;
  return [s64(r), r < S64_MIN || r > S64_MAX];
}
function addOvf64u(a: bigint, b: bigint): [bigint, boolean] {
  const r = a + b;
  return [u64(r), r > U64_MAX];
}
function subOvf64u(a: bigint, b: bigint): [bigint, boolean] {
  const r = a - b;
  return [u64(r), r < 0n];
}
function addOvf32s(a: bigint, b: bigint): [bigint, boolean] {
  const r = a + b;
  return [s32(r), r < S32_MIN || r > S32_MAX];
}
function subOvf32s(a: bigint, b: bigint): [bigint, boolean] {
  const r = a - b;
  return [s32(r), r < S32_MIN || r > S32_MAX];
}
function addOvf32u(a: bigint, b: bigint): [bigint, boolean] {
  const r = a + b;
  return [u32(r), r > U32_MAX];
}
function subOvf32u(a: bigint, b: bigint): [bigint, boolean] {
  const r = a - b;
  return [u32(r), r < 0n];
}

export function scalar32Add(d: Reg, s: Reg): void {
  const [smin, o1] = addOvf32s(d.s32min, s.s32min);
  const [smax, o2] = addOvf32s(d.s32max, s.s32max);
  if (o1 || o2) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = smin;
    d.s32max = smax;
  }
  const [umin, mo] = addOvf32u(d.u32min, s.u32min);
  const [umax, xo] = addOvf32u(d.u32max, s.u32max);
  d.u32min = umin;
  d.u32max = umax;
  if (!mo && xo) {
    d.u32min = 0n;
    d.u32max = U32_MAX;
  }
}

export function scalar64Add(d: Reg, s: Reg): void {
  const [smin, o1] = addOvf64s(d.smin, s.smin);
  const [smax, o2] = addOvf64s(d.smax, s.smax);
  if (o1 || o2) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  const [umin, mo] = addOvf64u(d.umin, s.umin);
  const [umax, xo] = addOvf64u(d.umax, s.umax);
  d.umin = umin;
  d.umax = umax;
  if (!mo && xo) {
    d.umin = 0n;
    d.umax = U64_MAX;
  }
}

function scalar32Sub(d: Reg, s: Reg): void {
  const [smin, o1] = subOvf32s(d.s32min, s.s32max);
  const [smax, o2] = subOvf32s(d.s32max, s.s32min);
  if (o1 || o2) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = smin;
    d.s32max = smax;
  }
  const [umin, mu] = subOvf32u(d.u32min, s.u32max);
  const [umax, xu] = subOvf32u(d.u32max, s.u32min);
  d.u32min = umin;
  d.u32max = umax;
  if (mu && !xu) {
    d.u32min = 0n;
    d.u32max = U32_MAX;
  }
}

function scalar64Sub(d: Reg, s: Reg): void {
  const [smin, o1] = subOvf64s(d.smin, s.smax);
  const [smax, o2] = subOvf64s(d.smax, s.smin);
  if (o1 || o2) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = smin;
    d.smax = smax;
  }
  const [umin, mu] = subOvf64u(d.umin, s.umax);
  const [umax, xu] = subOvf64u(d.umax, s.umin);
  d.umin = umin;
  d.umax = umax;
  if (mu && !xu) {
    d.umin = 0n;
    d.umax = U64_MAX;
  }
}

function scalar32Mul(d: Reg, s: Reg): void {
  const umax = d.u32max * s.u32max;
  const umin = d.u32min * s.u32min;
  if (umax > U32_MAX || umin > U32_MAX) {
    d.u32min = 0n;
    d.u32max = U32_MAX;
  } else {
    d.u32min = umin;
    d.u32max = umax;
  }
  const prods = [d.s32min * s.s32min, d.s32min * s.s32max, d.s32max * s.s32min, d.s32max * s.s32max];
  if (prods.some((x) => x < S32_MIN || x > S32_MAX)) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = prods.reduce(bmin);
    d.s32max = prods.reduce(bmax);
  }
}

function scalar64Mul(d: Reg, s: Reg): void {
  const umax = d.umax * s.umax;
  const umin = d.umin * s.umin;
  if (umax > U64_MAX || umin > U64_MAX) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = umin;
    d.umax = umax;
  }
  const prods = [d.smin * s.smin, d.smin * s.smax, d.smax * s.smin, d.smax * s.smax];
  if (prods.some((x) => x < S64_MIN || x > S64_MAX)) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = prods.reduce(bmin);
    d.smax = prods.reduce(bmax);
  }
}

function scalar32And(d: Reg, s: Reg): void {
  const srcKnown = tnumSubregIsConst(s.varOff);
  const dstKnown = tnumSubregIsConst(d.varOff);
  const v32 = tnumSubreg(d.varOff);
  if (srcKnown && dstKnown) {
    markReg32Known(d, v32.value);
    return;
  }
  d.u32min = v32.value;
  d.u32max = bmin(d.u32max, s.u32max);
  if (s32(d.u32min) <= s32(d.u32max)) {
    d.s32min = s32(d.u32min);
    d.s32max = s32(d.u32max);
  } else {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  }
}

function scalar64And(d: Reg, s: Reg): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = bmin(d.umax, s.umax);
  if (s64(d.umin) <= s64(d.umax)) {
    d.smin = s64(d.umin);
    d.smax = s64(d.umax);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  }
  updateRegBounds(d);
}

function scalar32Or(d: Reg, s: Reg): void {
  const v32 = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) {
    markReg32Known(d, v32.value);
    return;
  }
  d.u32min = bmax(d.u32min, s.u32min);
  d.u32max = v32.value | v32.mask;
  if (s32(d.u32min) <= s32(d.u32max)) {
    d.s32min = s32(d.u32min);
    d.s32max = s32(d.u32max);
  } else {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  }
}

function scalar64Or(d: Reg, s: Reg): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = bmax(d.umin, s.umin);
  d.umax = d.varOff.value | d.varOff.mask;
  if (s64(d.umin) <= s64(d.umax)) {
    d.smin = s64(d.umin);
    d.smax = s64(d.umax);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  }
  updateRegBounds(d);
}

function scalar32Xor(d: Reg, s: Reg): void {
  const v32 = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) {
    markReg32Known(d, v32.value);
    return;
  }
  d.u32min = v32.value;
  d.u32max = v32.value | v32.mask;
  if (s32(d.u32min) <= s32(d.u32max)) {
    d.s32min = s32(d.u32min);
    d.s32max = s32(d.u32max);
  } else {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  }
}

function scalar64Xor(d: Reg, s: Reg): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  d.umin = d.varOff.value;
  d.umax = d.varOff.value | d.varOff.mask;
  if (s64(d.umin) <= s64(d.umax)) {
    d.smin = s64(d.umin);
    d.smax = s64(d.umax);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  }
  updateRegBounds(d);
}

function scalar32LshInner(d: Reg, uminVal: bigint, umaxVal: bigint): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umaxVal > 31n || d.u32max > 1n << (31n - umaxVal)) {
    d.u32min = 0n;
    d.u32max = U32_MAX;
  } else {
    d.u32min = u32(d.u32min << uminVal);
    d.u32max = u32(d.u32max << umaxVal);
  }
}

function scalar32Lsh(d: Reg, s: Reg): void {
  const sub = tnumSubreg(d.varOff);
  scalar32LshInner(d, s.u32min, s.u32max);
  d.varOff = tnumSubreg(tnumLshift(sub, Number(s.u32min)));
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function scalar64Lsh(d: Reg, s: Reg): void {
  const uminVal = s.umin;
  const umaxVal = s.umax;
  if (uminVal === 32n && umaxVal === 32n) {
    d.smax = s64(d.s32max << 32n);
    d.smin = s64(d.s32min << 32n);
  } else {
    d.smax = S64_MAX;
    d.smin = S64_MIN;
  }
  if (d.umax > 1n << (63n - umaxVal)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = u64(d.umin << uminVal);
    d.umax = u64(d.umax << umaxVal);
  }
  scalar32LshInner(d, uminVal, umaxVal);
  d.varOff = tnumLshift(d.varOff, Number(uminVal));
  updateRegBounds(d);
}

function scalar32Rsh(d: Reg, s: Reg): void {
  const sub = tnumSubreg(d.varOff);
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  d.varOff = tnumRshift(sub, Number(s.u32min));
  d.u32min = d.u32min >> s.u32max;
  d.u32max = d.u32max >> s.u32min;
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function scalar64Rsh(d: Reg, s: Reg): void {
  d.smin = S64_MIN;
  d.smax = S64_MAX;
  d.varOff = tnumRshift(d.varOff, Number(s.umin));
  d.umin = d.umin >> s.umax;
  d.umax = d.umax >> s.umin;
  mark32Unbounded(d);
  updateRegBounds(d);
}

function scalar32Arsh(d: Reg, s: Reg): void {
  const sh = s.u32min;
  d.s32min = d.s32min >> sh;
  d.s32max = d.s32max >> sh;
  d.varOff = tnumArshift(tnumSubreg(d.varOff), Number(sh), 32);
  d.u32min = 0n;
  d.u32max = U32_MAX;
  mark64Unbounded(d);
  updateReg32Bounds(d);
}

function scalar64Arsh(d: Reg, s: Reg): void {
  const sh = s.umin;
  d.smin = d.smin >> sh;
  d.smax = d.smax >> sh;
  d.varOff = tnumArshift(d.varOff, Number(sh), 64);
  d.umin = 0n;
  d.umax = U64_MAX;
  mark32Unbounded(d);
  updateRegBounds(d);
}

function scalarByteSwap(d: Reg, insn: RawInsn): void {
  const alu64 = cls(insn.code) === BPF_ALU64;
  const toLe = srcBit(insn.code) === BPF_K;
  const needSwap = alu64 || !toLe;
  // A swapped or truncated value is no longer its linked registers' value (scalar_byte_swap resets the id).
  if (needSwap || insn.imm === 16 || insn.imm === 32) {
    d.id = 0;
    d.addConst = 0;
    d.delta = 0;
  }
  if (needSwap) {
    d.varOff = tnumBswap(d.varOff, insn.imm as 16 | 32 | 64);
    markUnbounded(d);
  }
  if (insn.imm === 16 || insn.imm === 32) coerceRegToSize(d, insn.imm / 8);
}

function isSafeToComputeDstRegRange(insn: RawInsn, src: Reg): boolean {
  const bits = cls(insn.code) === BPF_ALU64 ? 64n : 32n;
  let srcConst: boolean;
  if (bits === 32n) srcConst = tnumSubregIsConst(src.varOff) && src.s32min === src.s32max && src.u32min === src.u32max;
  else srcConst = tnumIsConst(src.varOff) && src.smin === src.smax && src.umin === src.umax;
  switch (op(insn.code)) {
    case BPF_ADD: case BPF_SUB: case BPF_NEG: case BPF_AND: case BPF_XOR: case BPF_OR: case BPF_MUL: case BPF_END:
      return true;
    case BPF_LSH: case BPF_RSH: case BPF_ARSH:
      return srcConst && src.umax < bits;
    default:
      return false;
  }
}

/**
 * maybe_fork_scalars: `x & K` / `x | K` with x in [-1, 0] explores x = 0 and
 * x = -1 separately. The x = 0 branch runs the instruction again (the fix
 * of CVE-2026-31413 that stable kernels carry: continuing after it with
 * x = 0 is wrong for `|`, where 0 | K is K).
 */
function maybeForkScalars(env: Env, insn: RawInsn, d: Reg): void {
  let alu32: boolean;
  if (d.smin === -1n && d.smax === 0n) alu32 = false;
  else if (d.s32min === -1n && d.s32max === 0n) alu32 = true;
  else return;
  const branch = pushStack(env, env.insnIdx, env.insnIdx);
  const r = branch.frames[branch.curframe]!.regs[insn.dst]!;
  if (alu32) {
    markReg32Known(r, 0n);
    markReg32Known(d, U32_MAX);
  } else {
    markKnown(r, 0n);
    markKnown(d, U64_MAX);
  }
}

/** adjust_scalar_min_max_vals. */
function adjustScalar(env: Env, insn: RawInsn, d: Reg, src: Reg): void {
  const opcode = op(insn.code);
  const alu32 = cls(insn.code) !== BPF_ALU64;
  if (!isSafeToComputeDstRegRange(insn, src)) {
    markUnknown(d);
    return;
  }
  switch (opcode) {
    case BPF_ADD:
      scalar32Add(d, src);
      scalar64Add(d, src);
      d.varOff = tnumAdd(d.varOff, src.varOff);
      break;
    case BPF_SUB:
      scalar32Sub(d, src);
      scalar64Sub(d, src);
      d.varOff = tnumSub(d.varOff, src.varOff);
      break;
    case BPF_NEG: {
      const fake = { ...d };
      markKnown(d, 0n);
      scalar32Sub(d, fake);
      scalar64Sub(d, fake);
      d.varOff = tnumNeg(fake.varOff);
      break;
    }
    case BPF_MUL:
      d.varOff = tnumMul(d.varOff, src.varOff);
      scalar32Mul(d, src);
      scalar64Mul(d, src);
      break;
    case BPF_AND:
      if (tnumIsConst(src.varOff)) maybeForkScalars(env, insn, d);
      d.varOff = tnumAnd(d.varOff, src.varOff);
      scalar32And(d, src);
      scalar64And(d, src);
      break;
    case BPF_OR:
      if (tnumIsConst(src.varOff)) maybeForkScalars(env, insn, d);
      d.varOff = tnumOr(d.varOff, src.varOff);
      scalar32Or(d, src);
      scalar64Or(d, src);
      break;
    case BPF_XOR:
      d.varOff = tnumXor(d.varOff, src.varOff);
      scalar32Xor(d, src);
      scalar64Xor(d, src);
      break;
    case BPF_LSH:
      if (alu32) scalar32Lsh(d, src);
      else scalar64Lsh(d, src);
      break;
    case BPF_RSH:
      if (alu32) scalar32Rsh(d, src);
      else scalar64Rsh(d, src);
      break;
    case BPF_ARSH:
      if (alu32) scalar32Arsh(d, src);
      else scalar64Arsh(d, src);
      break;
    case BPF_END:
      scalarByteSwap(d, insn);
      break;
    default:
      break;
  }
  if (alu32 && opcode !== BPF_END) zext32To64(d);
  regBoundsSync(d);
}

/**
 * check_reg_sane_offset (6.18). `result`: the pointer an addition or
 * subtraction produced, whose variable part out of range the kernel
 * reports as a pointer offset (`map_value pointer offset N is not allowed`,
 * N its 64-bit smin, S64_MIN included, and the fixed offset left out;
 * measured on 6.18.44), not as a value or an unbounded minimum.
 */
function checkRegSaneOffset(env: Env, reg: Reg, type: number, result = false): boolean {
  const known = tnumIsConst(reg.varOff);
  const val = s64(reg.varOff.value);
  const max = BigInt(BPF_MAX_VAR_OFF);
  if (known && (val >= max || val <= -max)) {
    env.note(`math between ${regTypeStr(type)} pointer and ${val} is not allowed`);
    return false;
  }
  if (reg.off >= BPF_MAX_VAR_OFF || reg.off <= -BPF_MAX_VAR_OFF) {
    env.note(`${regTypeStr(type)} pointer offset ${reg.off} is not allowed`);
    return false;
  }
  if (result && (reg.smin >= max || reg.smin <= -max)) {
    env.note(`${regTypeStr(type)} pointer offset ${reg.smin} is not allowed`);
    return false;
  }
  if (reg.smin === S64_MIN) {
    env.note(`math between ${regTypeStr(type)} pointer and register with unbounded min value is not allowed`);
    return false;
  }
  if (reg.smin >= max || reg.smin <= -max) {
    env.note(`value ${reg.smin} makes ${regTypeStr(type)} pointer be out of bounds`);
    return false;
  }
  return true;
}

/** adjust_ptr_min_max_vals: pointer +/- scalar. */
function adjustPtr(env: Env, insn: RawInsn, ptr: Reg, off: Reg, dst: Reg): void {
  const known = tnumIsConst(off.varOff);
  const sminVal = off.smin;
  const smaxVal = off.smax;
  const uminVal = off.umin;
  const umaxVal = off.umax;
  const p = { ...ptr };
  const opcode = op(insn.code);
  const dstno = insn.dst;
  if ((known && (sminVal !== smaxVal || uminVal !== umaxVal)) || sminVal > smaxVal || uminVal > umaxVal) {
    markUnknown(dst);
    return;
  }
  if (cls(insn.code) !== BPF_ALU64) {
    if (opcode === BPF_SUB) {
      markUnknown(dst);
      return;
    }
    env.fail(`R${dstno} 32-bit pointer arithmetic prohibited`);
  }
  if (p.type & F.MAYBE_NULL) env.fail(`R${dstno} pointer arithmetic on ${regTypeStr(p.type)} prohibited, null-check it first`);
  // untrusted memory is read through probe loads: its offsets are not tracked (6.18)
  if (baseType(p.type) === T.MEM && (p.type & F.UNTRUSTED)) return;
  switch (baseType(p.type)) {
    case T.CTX: case T.MAP_VALUE: case T.MAP_KEY: case T.STACK: case T.PACKET_META: case T.PACKET: case T.TP_BUFFER:
    case T.BTF_ID: case T.MEM: case T.BUF: case T.FUNC: case T.DYNPTR:
      break;
    case T.FLOW_KEYS:
      if (known) break;
      if (known && sminVal === 0n && opcode === BPF_ADD) break;
      env.fail(`R${dstno} pointer arithmetic on ${regTypeStr(p.type)} prohibited`);
      break;
    case T.MAP_PTR:
      if (known && sminVal === 0n && opcode === BPF_ADD) break;
      env.fail(`R${dstno} pointer arithmetic on ${regTypeStr(p.type)} prohibited`);
      break;
    default:
      env.fail(`R${dstno} pointer arithmetic on ${regTypeStr(p.type)} prohibited`);
  }
  dst.type = p.type;
  dst.id = p.id;
  // scalar += pointer keeps the pointer's reference too, so releasing it ends the sum
  // (6.18.44 build v1272; without it a ring buffer slice outlived its record)
  dst.refObjId = p.refObjId;
  // scalar += pointer: the result is the pointer's, stack frame included (a stack pointer made
  // in a subprogram from a scalar and r10 points into the subprogram's frame, not frame 0)
  dst.frameno = p.frameno;
  dst.addConst = 0;
  dst.delta = 0;
  if (!checkRegSaneOffset(env, off, p.type) || !checkRegSaneOffset(env, p, p.type)) env.abort('EINVAL');
  mark32Unbounded(dst);
  const copyRaw = (): void => {
    dst.range = p.range;
    dst.map = p.map;
    dst.mapUid = p.mapUid;
    dst.memSize = p.memSize;
    dst.subprogno = p.subprogno;
  };
  switch (opcode) {
    case BPF_ADD: {
      const newOff = BigInt(p.off) + sminVal;
      if (known && newOff === s32(newOff)) {
        dst.smin = p.smin;
        dst.smax = p.smax;
        dst.umin = p.umin;
        dst.umax = p.umax;
        dst.varOff = p.varOff;
        dst.off = Number(newOff);
        copyRaw();
        break;
      }
      const [smin, o1] = addOvf64s(p.smin, sminVal);
      const [smax, o2] = addOvf64s(p.smax, smaxVal);
      if (o1 || o2) {
        dst.smin = S64_MIN;
        dst.smax = S64_MAX;
      } else {
        dst.smin = smin;
        dst.smax = smax;
      }
      const [umin, o3] = addOvf64u(p.umin, uminVal);
      const [umax, o4] = addOvf64u(p.umax, umaxVal);
      if (o3 || o4) {
        dst.umin = 0n;
        dst.umax = U64_MAX;
      } else {
        dst.umin = umin;
        dst.umax = umax;
      }
      dst.varOff = tnumAdd(p.varOff, off.varOff);
      dst.off = p.off;
      copyRaw();
      if (isPktPointer(p.type)) {
        dst.id = env.nextId();
        dst.range = 0;
      }
      break;
    }
    case BPF_SUB: {
      if (dst === off) env.fail(`R${dstno} tried to subtract pointer from scalar`);
      if (p.type === T.STACK) env.fail(`R${dstno} subtraction from stack pointer prohibited`);
      const newOff = BigInt(p.off) - sminVal;
      if (known && newOff === s32(newOff)) {
        dst.smin = p.smin;
        dst.smax = p.smax;
        dst.umin = p.umin;
        dst.umax = p.umax;
        dst.varOff = p.varOff;
        dst.id = p.id;
        dst.off = Number(newOff);
        copyRaw();
        break;
      }
      const [smin, o1] = subOvf64s(p.smin, smaxVal);
      const [smax, o2] = subOvf64s(p.smax, sminVal);
      if (o1 || o2) {
        dst.smin = S64_MIN;
        dst.smax = S64_MAX;
      } else {
        dst.smin = smin;
        dst.smax = smax;
      }
      if (p.umin < umaxVal) {
        dst.umin = 0n;
        dst.umax = U64_MAX;
      } else {
        dst.umin = p.umin - umaxVal;
        dst.umax = p.umax - uminVal;
      }
      dst.varOff = tnumSub(p.varOff, off.varOff);
      dst.off = p.off;
      copyRaw();
      if (isPktPointer(p.type)) {
        dst.id = env.nextId();
        if (sminVal < 0n) dst.range = 0;
      }
      break;
    }
    case BPF_AND: case BPF_OR: case BPF_XOR:
      env.fail(`R${dstno} bitwise operator ${aluString(opcode)} on pointer prohibited`);
      break;
    default:
      env.fail(`R${dstno} pointer arithmetic with ${aluString(opcode)} operator prohibited`);
  }
  // "at pkt_end" and "beyond pkt_end" hold for the pointer where the
  // comparison left it: moved (even by 0), it knows nothing (as the kernel;
  // keeping the marker after `r0 -= 1` decided `if r0 >= pkt_end` wrongly)
  if (isPktPointer(dst.type) && dst.range < 0) dst.range = 0;
  if (!checkRegSaneOffset(env, dst, p.type, true)) env.abort('EINVAL');
  regBoundsSync(dst);
}

/** adjust_reg_min_max_vals: binary ALU operations other than MOV. */
function adjustRegMinMaxVals(env: Env, insn: RawInsn): void {
  const regs = env.regs;
  const dst = regs[insn.dst]!;
  const opcode = op(insn.code);
  const alu32 = cls(insn.code) !== BPF_ALU64;
  if (dst.type === T.ARENA) return;
  const ptr = dst.type !== T.SCALAR ? dst : null;
  let src: Reg;
  if (srcBit(insn.code) === BPF_X) {
    src = regs[insn.src]!;
    if (src.type !== T.SCALAR) {
      if (dst.type !== T.SCALAR) {
        if (opcode === BPF_SUB && env.allowPtrLeaks) {
          markUnknown(dst);
          return;
        }
        env.fail(`R${insn.dst} pointer ${aluString(opcode)} pointer prohibited`);
      }
      markChainPrecision(env, insn.dst);
      adjustPtr(env, insn, src, dst, dst);
      return;
    } else if (ptr) {
      markChainPrecision(env, insn.src);
      adjustPtr(env, insn, dst, src, dst);
      return;
    } else if (dst.precise) {
      markChainPrecision(env, insn.src);
    }
  } else {
    src = immReg(BigInt(insn.imm));
    if (ptr) {
      adjustPtr(env, insn, dst, src, dst);
      return;
    }
  }
  const dstUmax = dst.umax;
  // The source's value before the operation: with `r0 -= r0` the source is
  // the destination, and linking r0 to its old id by the new value (0)
  // instead of the old one (r0 = base - c) made a later sync set r0 back
  // to base (a false accept; the kernel keeps r0 = 0).
  const srcConst = isRegConst(src, alu32);
  const srcVal = srcConst ? regConstValue(src, alu32) : 0n;
  adjustScalar(env, insn, dst, copyReg(src));
  if ((opcode === BPF_ADD || opcode === BPF_SUB) && dst.id && srcConst) {
    const val = srcVal;
    let clear = false;
    let off = 0n;
    if (!alu32 && (s64(val) < S32_MIN || s64(val) > S32_MAX)) clear = true;
    else if (alu32 && dstUmax > U32_MAX) clear = true;
    else {
      off = s32(val);
      if (opcode === BPF_SUB) {
        if (off === S32_MIN) clear = true;
        else off = -off;
      }
    }
    if (clear || dst.addConst) {
      dst.delta = 0;
      dst.id = 0;
      dst.addConst = 0;
    } else {
      dst.addConst = alu32 ? 32 : 64;
      dst.delta = Number(off);
    }
  } else {
    dst.id = 0;
    dst.addConst = 0;
    dst.delta = 0;
  }
}

/** check_alu_op. */
export function checkAluOp(env: Env, insn: RawInsn): void {
  const regs = env.regs;
  const opcode = op(insn.code);
  const k = cls(insn.code);
  if (opcode === BPF_END || opcode === BPF_NEG) {
    if (opcode === BPF_NEG) {
      if (srcBit(insn.code) !== BPF_K || insn.src !== 0 || insn.off !== 0 || insn.imm !== 0) env.fail('BPF_NEG uses reserved fields', 'EINVAL');
    } else if (insn.src !== 0 || insn.off !== 0 || (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64)
      || (k === BPF_ALU64 && srcBit(insn.code) !== BPF_K)) {
      env.fail('BPF_END uses reserved fields', 'EINVAL');
    }
    checkRegArg(env, insn.dst, 'src');
    if (regs[insn.dst]!.type === T.SCALAR) {
      checkRegArg(env, insn.dst, 'dst_no_mark');
      const d = regs[insn.dst]!;
      adjustScalar(env, insn, d, { ...d });
    } else {
      checkRegArg(env, insn.dst, 'dst');
    }
  } else if (opcode === BPF_MOV) {
    if (srcBit(insn.code) === BPF_X) {
      if (k === BPF_ALU) {
        if ((insn.off !== 0 && insn.off !== 8 && insn.off !== 16) || insn.imm) env.fail('BPF_MOV uses reserved fields', 'EINVAL');
      } else if (insn.off === 1) {
        if (insn.imm !== 1 && insn.imm !== 1 << 16) env.fail('addr_space_cast insn can only convert between address space 1 and 0', 'EINVAL');
        env.fail('addr_space_cast insn can only be used in a program that has an associated arena', 'EINVAL');
      } else if ((insn.off !== 0 && insn.off !== 8 && insn.off !== 16 && insn.off !== 32) || insn.imm) {
        env.fail('BPF_MOV uses reserved fields', 'EINVAL');
      }
      checkRegArg(env, insn.src, 'src');
    } else if (insn.src !== 0 || insn.off !== 0) {
      env.fail('BPF_MOV uses reserved fields', 'EINVAL');
    }
    checkRegArg(env, insn.dst, 'dst_no_mark');
    const dst = regs[insn.dst]!;
    if (srcBit(insn.code) === BPF_X) {
      const src = regs[insn.src]!;
      if (k === BPF_ALU64) {
        if (insn.off === 0) {
          assignScalarIdBeforeMov(env, src);
          if (dst !== src) Object.assign(dst, src);
          dst.subregDef = 0;
        } else if (env.isPointerValue(insn.src)) {
          env.fail(`R${insn.src} sign-extension part of pointer`);
        } else if (src.type === T.SCALAR) {
          const noSext = src.umax < 1n << BigInt(insn.off - 1);
          if (noSext) assignScalarIdBeforeMov(env, src);
          if (dst !== src) Object.assign(dst, src);
          if (!noSext) {
            dst.id = 0;
            dst.addConst = 0;
            dst.delta = 0;
          }
          coerceRegToSizeSx(dst, insn.off >> 3);
          dst.subregDef = 0;
        } else {
          markUnknown(dst);
        }
      } else {
        if (env.isPointerValue(insn.src)) env.fail(`R${insn.src} partial copy of pointer`);
        if (src.type === T.SCALAR) {
          if (insn.off === 0) {
            const isU32 = regWidth(src) <= 32;
            if (isU32) assignScalarIdBeforeMov(env, src);
            if (dst !== src) Object.assign(dst, src);
            if (!isU32) {
              dst.id = 0;
              dst.addConst = 0;
              dst.delta = 0;
            }
          } else {
            const noSext = src.umax < 1n << BigInt(insn.off - 1);
            if (noSext) assignScalarIdBeforeMov(env, src);
            if (dst !== src) Object.assign(dst, src);
            if (!noSext) {
              dst.id = 0;
              dst.addConst = 0;
              dst.delta = 0;
            }
            coerceSubregToSizeSx(dst, insn.off >> 3);
          }
        } else {
          markUnknown(dst);
        }
        zext32To64(dst);
        regBoundsSync(dst);
      }
    } else {
      markUnknown(dst);
      dst.type = T.SCALAR;
      markKnown(dst, k === BPF_ALU64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0));
    }
  } else if (opcode > BPF_END) {
    env.fail(`invalid BPF_ALU opcode ${(opcode >> 4).toString(16)}`, 'EINVAL');
  } else {
    if (srcBit(insn.code) === BPF_X) {
      if (insn.imm !== 0 || (insn.off !== 0 && insn.off !== 1) || (insn.off === 1 && opcode !== BPF_MOD && opcode !== BPF_DIV)) {
        env.fail('BPF_ALU uses reserved fields', 'EINVAL');
      }
      checkRegArg(env, insn.src, 'src');
    } else if (insn.src !== 0 || (insn.off !== 0 && insn.off !== 1) || (insn.off === 1 && opcode !== BPF_MOD && opcode !== BPF_DIV)) {
      env.fail('BPF_ALU uses reserved fields', 'EINVAL');
    }
    checkRegArg(env, insn.dst, 'src');
    if ((opcode === BPF_MOD || opcode === BPF_DIV) && srcBit(insn.code) === BPF_K && insn.imm === 0) env.fail('div by zero', 'EINVAL');
    if ((opcode === BPF_LSH || opcode === BPF_RSH || opcode === BPF_ARSH) && srcBit(insn.code) === BPF_K) {
      const size = k === BPF_ALU64 ? 64 : 32;
      if (insn.imm < 0 || insn.imm >= size) env.fail(`invalid shift ${insn.imm}`, 'EINVAL');
    }
    checkRegArg(env, insn.dst, 'dst_no_mark');
    adjustRegMinMaxVals(env, insn);
  }
  regBoundsSanity(regs[insn.dst]!, (line) => env.verbose(line), 'alu');
}

export { TNUM_UNKNOWN, setKnown, BPF_DIV, BPF_MOD };
