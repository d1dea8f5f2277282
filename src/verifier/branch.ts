/**
 * Conditional jumps: deciding branches from known ranges (is_branch_taken),
 * refining both registers on each side (regs_refine_cond_op), null checks
 * that turn `map_value_or_null` into `map_value`, packet range discovery
 * from comparisons with `pkt_end` (find_good_pkt_pointers), linked scalar
 * propagation, and `may_goto`.
 */
import type { Env } from './env.js';
import { checkRegArg, printInsnState } from './env.js';
import type { RawInsn } from '../isa/raw.js';
import {
  BPF_JA, BPF_JCOND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT, BPF_JSLE, BPF_JSLT, BPF_K, BPF_X, cls, op, srcBit,
} from '../isa/raw.js';
import type { Reg } from './reg.js';
import {
  baseType, bmax, bmin, F, immReg, isPktPointer, isPktPointerAny, isRegConst, markKnownZero, markUnbounded, mayBeNull, regBoundsSanity, regBoundsSync, regConstValue, regNotNull, s32, s64, T, u32, U32_MAX, U64_MAX, zext32To64,
} from './reg.js';
import { scalar32Add, scalar64Add } from './alu.js';
import type { LinkedReg, VState } from './state.js';
import { forEachReg, INSN_F_DST_REG_STACK, INSN_F_SRC_REG_STACK, isSpilledReg, REG_SIZE } from './state.js';
import { tnumAdd, tnumAnd, tnumConst, tnumIntersect, tnumIsConst, tnumOr, tnumOverlap, tnumSubreg, tnumWithSubreg } from './tnum.js';
import { regBtfRecord } from './kptrs.js';
import { markChainPrecision, pushJmpHistory } from './precision.js';
import { findPrevEntry, pushStack, widenImpreciseScalars } from './search.js';
import { releaseReferenceNomark } from './refs.js';
import { BPF_MAX_VAR_OFF } from './mem.js';

const MAX_PACKET_OFF = 0xffff;
const AT_PKT_END = -1;
const BEYOND_PKT_END = -2;

function flipOpcode(o: number): number {
  switch (o) {
    case BPF_JGE: return BPF_JLE;
    case BPF_JGT: return BPF_JLT;
    case BPF_JLE: return BPF_JGE;
    case BPF_JLT: return BPF_JGT;
    case BPF_JSGE: return BPF_JSLE;
    case BPF_JSGT: return BPF_JSLT;
    case BPF_JSLE: return BPF_JSGE;
    case BPF_JSLT: return BPF_JSGT;
    default: return o;
  }
}

const JSET_REV = BPF_JSET | BPF_X;

function revOpcode(o: number): number {
  switch (o) {
    case BPF_JEQ: return BPF_JNE;
    case BPF_JNE: return BPF_JEQ;
    case BPF_JSET: return JSET_REV;
    case JSET_REV: return BPF_JSET;
    case BPF_JGE: return BPF_JLT;
    case BPF_JGT: return BPF_JLE;
    case BPF_JLE: return BPF_JGT;
    case BPF_JLT: return BPF_JGE;
    case BPF_JSGE: return BPF_JSLT;
    case BPF_JSGT: return BPF_JSLE;
    case BPF_JSLE: return BPF_JSGT;
    case BPF_JSLT: return BPF_JSGE;
    default: return 0;
  }
}

function isScalarBranchTaken(r1: Reg, r2: Reg, opcode: number, j32: boolean): number {
  const t1 = j32 ? tnumSubreg(r1.varOff) : r1.varOff;
  const t2 = j32 ? tnumSubreg(r2.varOff) : r2.varOff;
  const umin1 = j32 ? r1.u32min : r1.umin;
  const umax1 = j32 ? r1.u32max : r1.umax;
  const smin1 = j32 ? r1.s32min : r1.smin;
  const smax1 = j32 ? r1.s32max : r1.smax;
  const umin2 = j32 ? r2.u32min : r2.umin;
  const umax2 = j32 ? r2.u32max : r2.umax;
  const smin2 = j32 ? r2.s32min : r2.smin;
  const smax2 = j32 ? r2.s32max : r2.smax;
  switch (opcode) {
    case BPF_JEQ:
      if (tnumIsConst(t1) && tnumIsConst(t2)) return t1.value === t2.value ? 1 : 0;
      if (!tnumOverlap(t1, t2)) return 0;
      if (umin1 > umax2 || umax1 < umin2) return 0;
      if (smin1 > smax2 || smax1 < smin2) return 0;
      if (!j32) {
        if (r1.u32min > r2.u32max || r1.u32max < r2.u32min) return 0;
        if (r1.s32min > r2.s32max || r1.s32max < r2.s32min) return 0;
      }
      break;
    case BPF_JNE:
      if (tnumIsConst(t1) && tnumIsConst(t2)) return t1.value !== t2.value ? 1 : 0;
      if (!tnumOverlap(t1, t2)) return 1;
      if (umin1 > umax2 || umax1 < umin2) return 1;
      if (smin1 > smax2 || smax1 < smin2) return 1;
      if (!j32) {
        if (r1.u32min > r2.u32max || r1.u32max < r2.u32min) return 1;
        if (r1.s32min > r2.s32max || r1.s32max < r2.s32min) return 1;
      }
      break;
    case BPF_JSET: {
      let a = t1;
      let b = t2;
      let rb = r2;
      if (!isRegConst(rb, j32)) {
        rb = r1;
        a = t2;
        b = t1;
      }
      if (!isRegConst(rb, j32)) return -1;
      if ((~a.mask & a.value) & b.value) return 1;
      if (!((a.mask | a.value) & b.value)) return 0;
      break;
    }
    case BPF_JGT: if (umin1 > umax2) return 1; if (umax1 <= umin2) return 0; break;
    case BPF_JSGT: if (smin1 > smax2) return 1; if (smax1 <= smin2) return 0; break;
    case BPF_JLT: if (umax1 < umin2) return 1; if (umin1 >= umax2) return 0; break;
    case BPF_JSLT: if (smax1 < smin2) return 1; if (smin1 >= smax2) return 0; break;
    case BPF_JGE: if (umin1 >= umax2) return 1; if (umax1 < umin2) return 0; break;
    case BPF_JSGE: if (smin1 >= smax2) return 1; if (smax1 < smin2) return 0; break;
    case BPF_JLE: if (umax1 <= umin2) return 1; if (umin1 > umax2) return 0; break;
    case BPF_JSLE: if (smax1 <= smin2) return 1; if (smin1 > smax2) return 0; break;
  }
  return -1;
}

function isPktPtrBranchTaken(dst: Reg, src: Reg, opcode: number): number {
  let pkt: Reg;
  if (src.type === T.PACKET_END) pkt = dst;
  else if (dst.type === T.PACKET_END) {
    pkt = src;
    opcode = flipOpcode(opcode);
  } else return -1;
  if (pkt.range >= 0) return -1;
  switch (opcode) {
    case BPF_JLE: case BPF_JGT:
      if (pkt.range === BEYOND_PKT_END) return opcode === BPF_JGT ? 1 : 0;
      break;
    case BPF_JLT: case BPF_JGE:
      if (pkt.range === BEYOND_PKT_END || pkt.range === AT_PKT_END) return opcode === BPF_JGE ? 1 : 0;
      break;
  }
  return -1;
}

/** is_branch_taken: 1 always taken, 0 never, -1 unknown. */
export function isBranchTaken(r1: Reg, r2: Reg, opcode: number, j32: boolean): number {
  if (isPktPointerAny(r1) && isPktPointerAny(r2) && !j32) return isPktPtrBranchTaken(r1, r2, opcode);
  if (r1.type !== T.SCALAR || r2.type !== T.SCALAR) {
    // The low 32 bits of a non-null pointer may be zero: a JMP32 test of a
    // pointer against 0 decides nothing (measured: the kernel explores both).
    if (j32) return -1;
    if (!isRegConst(r2, j32)) {
      opcode = flipOpcode(opcode);
      [r1, r2] = [r2, r1];
    }
    if (!isRegConst(r2, j32)) return -1;
    if (!regNotNull(r1)) return -1;
    if (regConstValue(r2, j32) !== 0n) return -1;
    if (opcode === BPF_JEQ) return 0;
    if (opcode === BPF_JNE) return 1;
    return -1;
  }
  return isScalarBranchTaken(r1, r2, opcode, j32);
}

function isPowerOf2(v: bigint): boolean {
  return v !== 0n && (v & (v - 1n)) === 0n;
}

function regsRefineCondOp(r1: Reg, r2: Reg, opcode: number, j32: boolean): void {
  switch (opcode) {
    case BPF_JGE: case BPF_JGT: case BPF_JSGE: case BPF_JSGT:
      opcode = flipOpcode(opcode);
      [r1, r2] = [r2, r1];
      break;
  }
  switch (opcode) {
    case BPF_JEQ:
      if (j32) {
        r1.u32min = bmax(r1.u32min, r2.u32min);
        r1.u32max = bmin(r1.u32max, r2.u32max);
        r1.s32min = bmax(r1.s32min, r2.s32min);
        r1.s32max = bmin(r1.s32max, r2.s32max);
        r2.u32min = r1.u32min;
        r2.u32max = r1.u32max;
        r2.s32min = r1.s32min;
        r2.s32max = r1.s32max;
        const t = tnumIntersect(tnumSubreg(r1.varOff), tnumSubreg(r2.varOff));
        r1.varOff = tnumWithSubreg(r1.varOff, t);
        r2.varOff = tnumWithSubreg(r2.varOff, t);
      } else {
        r1.umin = bmax(r1.umin, r2.umin);
        r1.umax = bmin(r1.umax, r2.umax);
        r1.smin = bmax(r1.smin, r2.smin);
        r1.smax = bmin(r1.smax, r2.smax);
        r2.umin = r1.umin;
        r2.umax = r1.umax;
        r2.smin = r1.smin;
        r2.smax = r1.smax;
        r1.varOff = tnumIntersect(r1.varOff, r2.varOff);
        r2.varOff = r1.varOff;
      }
      break;
    case BPF_JNE: {
      if (!isRegConst(r2, j32)) [r1, r2] = [r2, r1];
      if (!isRegConst(r2, j32)) break;
      const val = regConstValue(r2, j32);
      if (j32) {
        if (r1.u32min === u32(val)) r1.u32min++;
        if (r1.u32max === u32(val)) r1.u32max--;
        if (r1.s32min === s32(val)) r1.s32min++;
        if (r1.s32max === s32(val)) r1.s32max--;
      } else {
        if (r1.umin === val) r1.umin++;
        if (r1.umax === val) r1.umax--;
        if (r1.smin === s64(val)) r1.smin++;
        if (r1.smax === s64(val)) r1.smax--;
      }
      break;
    }
    case BPF_JSET: {
      if (!isRegConst(r2, j32)) [r1, r2] = [r2, r1];
      if (!isRegConst(r2, j32)) break;
      const val = regConstValue(r2, j32);
      if (!isPowerOf2(val)) break;
      if (j32) r1.varOff = tnumWithSubreg(r1.varOff, tnumOr(tnumSubreg(r1.varOff), tnumConst(val)));
      else r1.varOff = tnumOr(r1.varOff, tnumConst(val));
      break;
    }
    case JSET_REV: {
      if (!isRegConst(r2, j32)) [r1, r2] = [r2, r1];
      if (!isRegConst(r2, j32)) break;
      const val = regConstValue(r2, j32);
      markUnbounded(r1);
      if (j32) r1.varOff = tnumWithSubreg(r1.varOff, tnumAnd(tnumSubreg(r1.varOff), tnumConst(~val & U64_MAX)));
      else r1.varOff = tnumAnd(r1.varOff, tnumConst(~val & U64_MAX));
      break;
    }
    case BPF_JLE:
      if (j32) {
        r1.u32max = bmin(r1.u32max, r2.u32max);
        r2.u32min = bmax(r1.u32min, r2.u32min);
      } else {
        r1.umax = bmin(r1.umax, r2.umax);
        r2.umin = bmax(r1.umin, r2.umin);
      }
      break;
    case BPF_JLT:
      if (j32) {
        r1.u32max = bmin(r1.u32max, u32(r2.u32max - 1n));
        r2.u32min = bmax(u32(r1.u32min + 1n), r2.u32min);
      } else {
        r1.umax = bmin(r1.umax, BigInt.asUintN(64, r2.umax - 1n));
        r2.umin = bmax(BigInt.asUintN(64, r1.umin + 1n), r2.umin);
      }
      break;
    case BPF_JSLE:
      if (j32) {
        r1.s32max = bmin(r1.s32max, r2.s32max);
        r2.s32min = bmax(r1.s32min, r2.s32min);
      } else {
        r1.smax = bmin(r1.smax, r2.smax);
        r2.smin = bmax(r1.smin, r2.smin);
      }
      break;
    case BPF_JSLT:
      if (j32) {
        r1.s32max = bmin(r1.s32max, s32(r2.s32max - 1n));
        r2.s32min = bmax(s32(r1.s32min + 1n), r2.s32min);
      } else {
        r1.smax = bmin(r1.smax, s64(r2.smax - 1n));
        r2.smin = bmax(s64(r1.smin + 1n), r2.smin);
      }
      break;
  }
}

function regSetMinMax(env: Env, tr1: Reg, tr2: Reg, fr1: Reg, fr2: Reg, opcode: number, j32: boolean): void {
  // (6.18: `if r1 < r1` refines the register against itself, as the kernel does)
  if (fr1.type !== T.SCALAR || fr2.type !== T.SCALAR) return;
  regsRefineCondOp(fr1, fr2, revOpcode(opcode), j32);
  regBoundsSync(fr1);
  regBoundsSync(fr2);
  regsRefineCondOp(tr1, tr2, opcode, j32);
  regBoundsSync(tr1);
  regBoundsSync(tr2);
  // reg_bounds_sanity_check: an empty refinement is logged as a verifier bug and reset (not fatal)
  const log = (line: string): void => env.verbose(line);
  regBoundsSanity(tr1, log, 'true_reg1');
  regBoundsSanity(tr2, log, 'true_reg2');
  regBoundsSanity(fr1, log, 'false_reg1');
  regBoundsSanity(fr2, log, 'false_reg2');
}

/** mark_ptr_not_null_reg (a map lookup's result already has the element's type, see check_helper_call). */
export function markPtrNotNullReg(reg: Reg): void {
  reg.type &= ~F.MAYBE_NULL;
}

function markPtrOrNullReg(env: Env, reg: Reg, id: number, isNull: boolean): void {
  if (mayBeNull(reg.type) && reg.id === id) {
    if (!tnumIsConst(reg.varOff) || reg.varOff.value !== 0n) return;
    // kfuncs returning a node of an allocated object point into it (a fixed offset)
    if (reg.off && !(baseType(reg.type) === T.BTF_ID && (reg.type & (F.ALLOC | F.NON_OWN)))) return;
    if (isNull) {
      markKnownZero(reg);
      reg.type = T.SCALAR;
      return;
    }
    markPtrNotNullReg(reg);
    // A pointer to a value with a spin lock keeps its id: bpf_spin_unlock must name the value bpf_spin_lock took.
    if (!((regBtfRecord(env, reg)?.spinLockOff ?? -1) >= 0)) reg.id = 0;
  }
}

function markPtrOrNullRegs(env: Env, vs: VState, regno: number, isNull: boolean): void {
  const regs = vs.frames[vs.curframe]!.regs;
  const refObjId = regs[regno]!.refObjId;
  const id = regs[regno]!.id;
  if (refObjId && refObjId === id && isNull) releaseReferenceNomark(vs, id);
  forEachReg(vs, (r) => markPtrOrNullReg(env, r, id, isNull));
}

function findGoodPktPointers(vs: VState, dst: Reg, type: number, rightOpen: boolean): void {
  if (dst.off < 0 || (dst.off === 0 && rightOpen)) return;
  if (dst.umax > BigInt(MAX_PACKET_OFF) || dst.umax + BigInt(dst.off) > BigInt(MAX_PACKET_OFF)) return;
  let newRange = dst.off;
  if (rightOpen) newRange++;
  const id = dst.id;
  forEachReg(vs, (r) => {
    if (r.type === type && r.id === id) r.range = Math.max(r.range, newRange);
  });
}

function markPktEnd(vs: VState, regno: number, rangeOpen: boolean): void {
  const reg = vs.frames[vs.curframe]!.regs[regno]!;
  if (reg.type !== T.PACKET) return;
  reg.range = rangeOpen ? BEYOND_PKT_END : AT_PKT_END;
}

function isInitPktPointer(r: Reg, which: number): boolean {
  return r.type === which && r.id === 0 && r.off === 0 && tnumIsConst(r.varOff) && r.varOff.value === 0n;
}

function tryMatchPktPointers(insn: RawInsn, dst: Reg, src: Reg, thisBranch: VState, other: VState): boolean {
  if (srcBit(insn.code) !== BPF_X) return false;
  if (cls(insn.code) === BPF_JMP32) return false;
  const left = (dst.type === T.PACKET && src.type === T.PACKET_END) || (dst.type === T.PACKET_META && isInitPktPointer(src, T.PACKET));
  const right = (dst.type === T.PACKET_END && src.type === T.PACKET) || (isInitPktPointer(dst, T.PACKET) && src.type === T.PACKET_META);
  switch (op(insn.code)) {
    case BPF_JGT:
      if (left) {
        findGoodPktPointers(thisBranch, dst, dst.type, false);
        markPktEnd(other, insn.dst, true);
      } else if (right) {
        findGoodPktPointers(other, src, src.type, true);
        markPktEnd(thisBranch, insn.src, false);
      } else return false;
      break;
    case BPF_JLT:
      if (left) {
        findGoodPktPointers(other, dst, dst.type, true);
        markPktEnd(thisBranch, insn.dst, false);
      } else if (right) {
        findGoodPktPointers(thisBranch, src, src.type, false);
        markPktEnd(other, insn.src, true);
      } else return false;
      break;
    case BPF_JGE:
      if (left) {
        findGoodPktPointers(thisBranch, dst, dst.type, true);
        markPktEnd(other, insn.dst, false);
      } else if (right) {
        findGoodPktPointers(other, src, src.type, false);
        markPktEnd(thisBranch, insn.src, true);
      } else return false;
      break;
    case BPF_JLE:
      if (left) {
        findGoodPktPointers(other, dst, dst.type, false);
        markPktEnd(thisBranch, insn.dst, true);
      } else if (right) {
        findGoodPktPointers(thisBranch, src, src.type, true);
        markPktEnd(other, insn.src, false);
      } else return false;
      break;
    default:
      return false;
  }
  return true;
}

const LINKED_REGS_MAX = 6;

function collectLinkedRegs(env: Env, vs: VState, id: number, out: LinkedReg[]): void {
  const visit = (r: Reg, frameno: number, n: number, isReg: boolean): void => {
    if (r.type !== T.SCALAR || r.id !== id) return;
    if (out.length < LINKED_REGS_MAX) out.push({ frameno, n, isReg });
    else {
      r.id = 0;
      r.addConst = 0;
      r.delta = 0;
    }
  };
  for (let i = vs.curframe; i >= 0; i--) {
    const f = vs.frames[i]!;
    // Only registers live before the frame's current instruction are linked (6.18 stable).
    const live = env.aux[i === vs.curframe ? vs.insnIdx : vs.frames[i + 1]!.callsite]!.liveRegsBefore;
    for (let j = 0; j < 10; j++) if (live & (1 << j)) visit(f.regs[j]!, i, j, true);
    for (let j = 0; j < f.allocatedStack / REG_SIZE; j++) {
      if (!isSpilledReg(f, j)) continue;
      visit(f.spilled[j]!, i, j, false);
    }
  }
}

function syncLinkedRegs(env: Env, vs: VState, known: Reg, linked: LinkedReg[]): void {
  for (const e of linked) {
    const f = vs.frames[e.frameno]!;
    const reg = e.isReg ? f.regs[e.n]! : f.spilled[e.n]!;
    if (reg.type !== T.SCALAR || reg === known) continue;
    if (reg.id !== known.id) continue;
    // A link made by a 64-bit add and one made by a 32-bit add do not relate
    // (the kernel skips mixed widths; measured: neither side is refined).
    if (reg.addConst && known.addConst && reg.addConst !== known.addConst) continue;
    if ((!reg.addConst && !known.addConst) || reg.delta === known.delta) {
      const subregDef = reg.subregDef;
      Object.assign(reg, known);
      reg.subregDef = subregDef;
    } else {
      const subregDef = reg.subregDef;
      const savedDelta = reg.delta;
      const savedId = reg.id;
      const savedAdd = reg.addConst;
      const fake = immReg(BigInt(reg.delta) - BigInt(known.delta));
      Object.assign(reg, known);
      reg.delta = savedDelta;
      reg.id = savedId;
      reg.addConst = savedAdd;
      reg.subregDef = subregDef;
      scalar32Add(reg, fake);
      scalar64Add(reg, fake);
      reg.varOff = tnumAddLinked(reg, fake);
      // A link made by a 32-bit add holds a zero-extended value: whichever
      // side was made by one (the other is then the plain, 32-bit wide
      // base), the result is 32 bits (zero-extending only when the known
      // register was the 32-bit one left r2 = w(r1 + 8) as r1 + 8, above
      // 2^32 when it had wrapped to [0, 2]).
      if (known.addConst === 32 || savedAdd === 32) zext32To64(reg);
      regBoundsSync(reg);
    }
    // (6.18 does not mark the synced registers scratched: the log shows only the compared ones)
    void env;
  }
}

function tnumAddLinked(reg: Reg, fake: Reg): ReturnType<typeof tnumAdd> {
  return tnumAdd(reg.varOff, fake.varOff);
}

/** check_cond_jmp_op. Updates env.insnIdx when the branch is followed. */
export function checkCondJmpOp(env: Env, insn: RawInsn): void {
  const thisBranch = env.cur;
  const regs = thisBranch.frames[thisBranch.curframe]!.regs;
  const opcode = op(insn.code);
  if (opcode === BPF_JA || opcode > BPF_JCOND) env.fail(`invalid BPF_JMP/JMP32 opcode ${(opcode >> 4).toString(16)}`, 'EINVAL');
  if (opcode === BPF_JCOND) {
    if (insn.code !== (BPF_JMP | BPF_JCOND) || insn.src !== 0 || insn.dst || insn.imm) env.fail(`invalid may_goto imm ${insn.imm}`, 'EINVAL');
    const idx = env.insnIdx;
    const prev = thisBranch.parent ? findPrevEntry(env, thisBranch.parent, idx) : null;
    const queued = pushStack(env, idx + 1, idx);
    queued.mayGotoDepth++;
    if (prev) widenImpreciseScalars(prev, queued);
    env.insnIdx += insn.off;
    return;
  }
  checkRegArg(env, insn.dst, 'src');
  const dst = regs[insn.dst]!;
  let src: Reg;
  let flags = 0;
  if (srcBit(insn.code) === BPF_X) {
    if (insn.imm !== 0) env.fail('BPF_JMP/JMP32 uses reserved fields', 'EINVAL');
    checkRegArg(env, insn.src, 'src');
    src = regs[insn.src]!;
    if (!(isPktPointerAny(dst) && isPktPointerAny(src)) && env.isPointerValue(insn.src)) {
      env.fail(`R${insn.src} pointer comparison prohibited`);
    }
    if (src.type === T.STACK) flags |= INSN_F_SRC_REG_STACK;
    if (dst.type === T.STACK) flags |= INSN_F_DST_REG_STACK;
  } else {
    if (insn.src !== 0) env.fail('BPF_JMP/JMP32 uses reserved fields', 'EINVAL');
    src = immReg(BigInt(insn.imm));
    if (dst.type === T.STACK) flags |= INSN_F_DST_REG_STACK;
  }
  if (flags) pushJmpHistory(env, thisBranch, flags, null);
  const j32 = cls(insn.code) === BPF_JMP32;
  const pred = isBranchTaken(dst, src, opcode, j32);
  if (pred >= 0) {
    if (dst.type === T.SCALAR) markChainPrecision(env, insn.dst);
    if (srcBit(insn.code) === BPF_X && src.type === T.SCALAR) markChainPrecision(env, insn.src);
  }
  if (pred === 1) {
    if (env.logLevel) printInsnState(env, thisBranch, thisBranch.curframe);
    env.insnIdx += insn.off;
    return;
  }
  if (pred === 0) {
    if (env.logLevel) printInsnState(env, thisBranch, thisBranch.curframe);
    return;
  }
  const linked: LinkedReg[] = [];
  if (srcBit(insn.code) === BPF_X && src.type === T.SCALAR && src.id) collectLinkedRegs(env, thisBranch, src.id, linked);
  if (dst.type === T.SCALAR && dst.id) collectLinkedRegs(env, thisBranch, dst.id, linked);
  if (linked.length > 1) pushJmpHistory(env, thisBranch, 0, linked);
  const other = pushStack(env, env.insnIdx + insn.off + 1, env.insnIdx);
  const oregs = other.frames[other.curframe]!.regs;
  if (srcBit(insn.code) === BPF_X) {
    regSetMinMax(env, oregs[insn.dst]!, oregs[insn.src]!, dst, src, opcode, j32);
  } else {
    const fake0 = immReg(BigInt(insn.imm));
    const fake1 = immReg(BigInt(insn.imm));
    regSetMinMax(env, oregs[insn.dst]!, fake0, dst, fake1, opcode, j32);
  }
  if (srcBit(insn.code) === BPF_X && src.type === T.SCALAR && src.id) {
    syncLinkedRegs(env, thisBranch, src, linked);
    syncLinkedRegs(env, other, oregs[insn.src]!, linked);
  }
  if (dst.type === T.SCALAR && dst.id) {
    syncLinkedRegs(env, thisBranch, dst, linked);
    syncLinkedRegs(env, other, oregs[insn.dst]!, linked);
  }
  if (!j32 && srcBit(insn.code) === BPF_X && src.type !== T.SCALAR && dst.type !== T.SCALAR
    && mayBeNull(src.type) !== mayBeNull(dst.type) && baseType(src.type) !== T.BTF_ID && baseType(dst.type) !== T.BTF_ID) {
    let eq: Reg[] | null = null;
    if (opcode === BPF_JEQ) eq = oregs;
    else if (opcode === BPF_JNE) eq = regs;
    // the non-null side is a witness only if it cannot be zero at run time: not untrusted memory
    // (bpf_rdonly_cast(0, 0) is NULL), and not offset so far that it may wrap to zero (measured on
    // 6.18.44: a variable offset up to BPF_MAX_VAR_OFF - 1 still proves, 2^29 does not)
    const witness = mayBeNull(src.type) ? dst : src;
    if ((witness.type & F.UNTRUSTED) || witness.smax >= BigInt(BPF_MAX_VAR_OFF)) eq = null;
    if (eq) {
      if (mayBeNull(src.type)) markPtrNotNullReg(eq[insn.src]!);
      else markPtrNotNullReg(eq[insn.dst]!);
    }
  }
  if (!j32 && srcBit(insn.code) === BPF_K && insn.imm === 0 && (opcode === BPF_JEQ || opcode === BPF_JNE) && mayBeNull(dst.type)) {
    markPtrOrNullRegs(env, thisBranch, insn.dst, opcode === BPF_JNE);
    markPtrOrNullRegs(env, other, insn.dst, opcode === BPF_JEQ);
  } else if (!tryMatchPktPointers(insn, dst, regs[insn.src]!, thisBranch, other) && env.isPointerValue(insn.dst)) {
    env.fail(`R${insn.dst} pointer comparison prohibited`);
  }
  if (env.logLevel) printInsnState(env, thisBranch, thisBranch.curframe);
}

export { BPF_JMP, BPF_K, U32_MAX, isPktPointer };
