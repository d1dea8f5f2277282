/**
 * Scalar precision tracking (the kernel's backtracking): scalars start
 * imprecise, so that states differing only in irrelevant numbers prune each
 * other; when a scalar's exact range matters (pointer arithmetic, a decided
 * branch, a size argument, a return value) the instructions that produced
 * it are walked backwards through the jump history and every register and
 * stack slot it came from is marked precise in the parent checkpoints.
 */
import type { Env } from './env.js';
import { printVerifierState } from './env.js';
import {
  BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_END, BPF_EXIT, BPF_FETCH, BPF_IMM, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_MOV, BPF_NEG, BPF_ST, BPF_STX, BPF_X, cls, isPseudoCall, mode, op, srcBit,
} from '../isa/raw.js';
import type { Reg } from './reg.js';
import { T } from './reg.js';
import type { HistEntry, LinkedReg, VState } from './state.js';
import { INSN_F_DST_REG_STACK, INSN_F_SRC_REG_STACK, INSN_F_STACK_ACCESS, isSpilledReg, isSpilledScalarReg, REG_SIZE } from './state.js';
import { tnumIsConst } from './tnum.js';
import { findSubprog } from './program-checks.js';
import { isSyncCallbackHelper } from '../isa/helper-protos.js';
import { isSyncCallbackKfuncCall } from './kfuncs.js';
import { BpfFunc } from '../isa/helper-ids.js';

const MAX_FRAMES = 8;
const ARGS_MASK = 0x3e;

/** Registers and stack slots still looking for their origin, per frame. */
export class Backtrack {
  frame = 0;
  regs = new Uint32Array(MAX_FRAMES);
  /** The 64 stack slots of each frame as two 32-bit masks (slots 0-31, 32-63): no bigint per slot test. */
  private readonly stackLo = new Uint32Array(MAX_FRAMES);
  private readonly stackHi = new Uint32Array(MAX_FRAMES);

  reset(): void {
    this.frame = 0;
    for (let i = 0; i < MAX_FRAMES; i++) {
      this.regs[i] = 0;
      this.stackLo[i] = 0;
      this.stackHi[i] = 0;
    }
  }
  empty(): boolean {
    for (let i = 0; i <= this.frame; i++) if (this.regs[i] || this.stackLo[i] || this.stackHi[i]) return false;
    return true;
  }
  setReg(r: number): void {
    this.regs[this.frame]! |= 1 << r;
  }
  clearReg(r: number): void {
    this.regs[this.frame]! &= ~(1 << r);
  }
  isReg(r: number): boolean {
    return (this.regs[this.frame]! & (1 << r)) !== 0;
  }
  setFrameReg(f: number, r: number): void {
    this.regs[f]! |= 1 << r;
  }
  setFrameSlot(f: number, s: number): void {
    if (s < 32) this.stackLo[f]! |= 1 << s;
    else this.stackHi[f]! |= 1 << (s - 32);
  }
  clearFrameSlot(f: number, s: number): void {
    if (s < 32) this.stackLo[f]! &= ~(1 << s);
    else this.stackHi[f]! &= ~(1 << (s - 32));
  }
  isFrameSlot(f: number, s: number): boolean {
    return s < 32 ? (this.stackLo[f]! & (1 << s)) !== 0 : (this.stackHi[f]! & (1 << (s - 32))) !== 0;
  }
  /** Whether frame `f` has slots in its mask. */
  hasSlots(f: number): boolean {
    return this.stackLo[f] !== 0 || this.stackHi[f] !== 0;
  }
  /** One past the highest slot in frame `f`'s mask (0 when none). */
  slotsEnd(f: number): number {
    const hi = this.stackHi[f]!;
    return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(this.stackLo[f]!);
  }
  /** Frame `f`'s stack mask as the kernel's u64 (for the log). */
  stackMask(f: number): bigint {
    return (BigInt(this.stackHi[f]!) << 32n) | BigInt(this.stackLo[f]!);
  }
}

class NotSupported extends Error {}

/** push_jmp_history: record a jump, stack access or linked registers at the current instruction. */
export function pushJmpHistory(env: Env, st: VState, flags: number, linked: LinkedReg[] | null): void {
  if (env.curHistEnt >= 0 && st === env.cur && env.curHistEnt < st.history.length) {
    const e = st.history[env.curHistEnt]!;
    e.flags |= flags;
    if (linked) e.linked = linked;
    return;
  }
  st.history.push({ idx: env.insnIdx, prevIdx: env.prevInsnIdx, flags, linked });
  if (st === env.cur) env.curHistEnt = st.history.length - 1;
}

function histEntry(st: VState, histEnd: number, idx: number): HistEntry | null {
  if (histEnd > 0 && st.history[histEnd - 1]!.idx === idx) return st.history[histEnd - 1]!;
  return null;
}

function prevInsnIdx(st: VState, i: number, h: { n: number }): number {
  const cnt = h.n;
  if (i === st.firstInsnIdx) {
    if (cnt === 0) return -1;
    if (cnt === 1 && st.history[0]!.idx === i) return -1;
  }
  if (cnt && st.history[cnt - 1]!.idx === i) {
    h.n--;
    return st.history[cnt - 1]!.prevIdx;
  }
  return i - 1;
}

function syncLinkedRegs(bt: Backtrack, hist: HistEntry | null): void {
  if (!hist || !hist.linked) return;
  let some = false;
  for (const e of hist.linked) {
    if ((e.isReg && (bt.regs[e.frameno]! & (1 << e.n))) || (!e.isReg && bt.isFrameSlot(e.frameno, e.n))) {
      some = true;
      break;
    }
  }
  if (!some) return;
  for (const e of hist.linked) {
    if (e.isReg) bt.setFrameReg(e.frameno, e.n);
    else bt.setFrameSlot(e.frameno, e.n);
  }
}

/** fmt_reg_mask: `r1,r6`. */
function fmtRegMask(mask: number): string {
  const regs: string[] = [];
  for (let r = 0; r < 32; r++) if (mask & (1 << r)) regs.push(`r${r}`);
  return regs.join(',');
}

/** fmt_stack_mask: `-8,-16`. */
function fmtStackMask(mask: bigint): string {
  const slots: string[] = [];
  for (let s = 0; s < 64; s++) if (mask & (1n << BigInt(s))) slots.push(String(-(s + 1) * 8));
  return slots.join(',');
}

function backtrackInsn(env: Env, idx: number, subseqIdx: number, hist: HistEntry | null, bt: Backtrack): void {
  const insn = env.insns[idx]!;
  const k = cls(insn.code);
  const o = op(insn.code);
  const dreg = insn.dst;
  const sreg = insn.src;
  if (insn.code === 0) return;
  if (env.logLevel & 2) {
    env.verbose(`mark_precise: frame${bt.frame}: regs=${fmtRegMask(bt.regs[bt.frame]!)} stack=${fmtStackMask(bt.stackMask(bt.frame))} before ${idx}: ${env.formatKernelSlot(idx)}\n`);
  }
  syncLinkedRegs(bt, hist);
  if (k === BPF_ALU || k === BPF_ALU64) {
    if (!bt.isReg(dreg)) return;
    if (o === BPF_END || o === BPF_NEG) return;
    if (o === BPF_MOV) {
      if (srcBit(insn.code) === BPF_X) {
        bt.clearReg(dreg);
        if (sreg !== 10) bt.setReg(sreg);
      } else {
        bt.clearReg(dreg);
      }
    } else if (srcBit(insn.code) === BPF_X) {
      if (sreg !== 10) bt.setReg(sreg);
    }
  } else if (k === BPF_LDX || (k === BPF_STX && mode(insn.code) === BPF_ATOMIC && (insn.imm === BPF_LOAD_ACQ || (insn.imm & BPF_FETCH)))) {
    // An atomic fetch (fetch ops, xchg, cmpxchg) loads like LDX: the loaded
    // register (r0 for cmpxchg, src for the others) is defined here, from
    // the stack slot when it was one (measured on the kernel).
    const loadReg = k === BPF_LDX || insn.imm === BPF_LOAD_ACQ ? dreg : insn.imm === BPF_CMPXCHG ? 0 : sreg;
    if (!bt.isReg(loadReg)) return;
    bt.clearReg(loadReg);
    if (!hist || !(hist.flags & INSN_F_STACK_ACCESS)) return;
    bt.setFrameSlot(hist.flags & 7, (hist.flags >> 4) & 0x3f);
  } else if (k === BPF_STX || k === BPF_ST) {
    if (bt.isReg(dreg)) throw new NotSupported();
    if (!hist || !(hist.flags & INSN_F_STACK_ACCESS)) return;
    const spi = (hist.flags >> 4) & 0x3f;
    const fr = hist.flags & 7;
    if (!bt.isFrameSlot(fr, spi)) return;
    bt.clearFrameSlot(fr, spi);
    if (k === BPF_STX) bt.setReg(sreg);
  } else if (k === BPF_JMP || k === BPF_JMP32) {
    if (isPseudoCall(insn)) {
      const sub = findSubprog(env, idx + insn.imm + 1);
      if (sub < 0) env.fail(`verifier bug: backtracking call unexpected target ${idx + insn.imm + 1}`, 'EFAULT');
      if (env.subprogs[sub]!.global) {
        bt.clearReg(0);
        return;
      }
      for (let r = 1; r <= 5; r++) {
        if (bt.isReg(r)) {
          bt.clearReg(r);
          bt.setFrameReg(bt.frame - 1, r);
        }
      }
      bt.frame--;
      return;
    } else if (insn.code === (BPF_JMP | BPF_CALL) && ((insn.src === 0 && isSyncCallbackHelper(insn.imm)) || (insn.src === 2 && isSyncCallbackKfuncCall(env, insn)))
      && idx !== subseqIdx - 1) {
      // back from the callback to its helper call: only argument registers can be asked for here
      // (r0 is when the callback returned abnormally, from LD_ABS's hidden exit, which the kernel reports as its own bug)
      const extra = bt.regs[bt.frame]! & ~ARGS_MASK;
      if (extra) env.fail(`verifier bug: callback unexpected regs ${extra.toString(16)}`, 'EFAULT');
      for (let r = 1; r <= 5; r++) bt.clearReg(r);
      bt.frame--;
      return;
    } else if (o === BPF_CALL) {
      if (insn.src === 2 && insn.imm === 0) throw new NotSupported();
      bt.clearReg(0);
      if (insn.src === 0 && insn.imm === BpfFunc.tail_call && subseqIdx - idx !== 1) bt.frame++;
    } else if (o === BPF_EXIT) {
      // a callback's exit keeps the caller's r1-r5: bpf_loop's arguments stay asked for
      // until the walk is back at the helper call (6.18.44 build v1272 and later, as upstream)
      const fromSubprogCall = subseqIdx - 1 >= 0 && isPseudoCall(env.insns[subseqIdx - 1]!);
      const args = bt.regs[bt.frame]! & ARGS_MASK;
      if (fromSubprogCall && args) env.fail(`verifier bug: backtracking exit unexpected regs ${args.toString(16)}`, 'EFAULT');
      const r0precise = fromSubprogCall && bt.isReg(0);
      bt.clearReg(0);
      bt.frame++;
      if (r0precise) bt.setReg(0);
      return;
    } else if (srcBit(insn.code) === BPF_X) {
      if (!bt.isReg(dreg) && !bt.isReg(sreg)) return;
      if (!hist || !(hist.flags & INSN_F_SRC_REG_STACK)) bt.setReg(sreg);
      if (!hist || !(hist.flags & INSN_F_DST_REG_STACK)) bt.setReg(dreg);
    } else if (srcBit(insn.code) === BPF_K) {
      // dreg <cond> K: nothing new
    }
  } else if (k === BPF_LD) {
    if (!bt.isReg(dreg)) return;
    bt.clearReg(dreg);
    if (mode(insn.code) !== BPF_IMM) throw new NotSupported();
  }
  syncLinkedRegs(bt, hist);
}

/** mark_all_scalars_precise: the conservative fallback for the parents of `st`. */
export function markAllScalarsPrecise(env: Env, st: VState): void {
  if (env.logLevel & 2) env.verbose(`mark_precise: frame${st.curframe}: falling back to forcing all scalars precise\n`);
  for (let s = st.parent; s; s = s.parent) {
    for (let i = 0; i <= s.curframe; i++) {
      const f = s.frames[i]!;
      for (let j = 0; j < 10; j++) {
        const r = f.regs[j]!;
        if (r.type !== T.SCALAR || r.precise) continue;
        r.precise = true;
        if (env.logLevel & 2) env.verbose(`force_precise: frame${i}: forcing r${j} to be precise\n`);
      }
      for (let j = 0; j < f.allocatedStack / REG_SIZE; j++) {
        if (!isSpilledReg(f, j)) continue;
        const r = f.spilled[j]!;
        if (r.type !== T.SCALAR || r.precise) continue;
        r.precise = true;
        if (env.logLevel & 2) env.verbose(`force_precise: frame${i}: forcing fp${-(j + 1) * 8} to be precise\n`);
      }
    }
  }
}

/** mark_all_scalars_imprecise: before a state becomes a checkpoint. */
export function markAllScalarsImprecise(st: VState): void {
  for (let i = 0; i <= st.curframe; i++) {
    const f = st.frames[i]!;
    for (let j = 0; j < 10; j++) if (f.regs[j]!.type === T.SCALAR) f.regs[j]!.precise = false;
    for (let j = 0; j < f.allocatedStack / REG_SIZE; j++) {
      if (isSpilledReg(f, j) && f.spilled[j]!.type === T.SCALAR) f.spilled[j]!.precise = false;
    }
  }
}

/**
 * __mark_chain_precision: make `regno` (if >= 0) and everything in
 * `env.bt` precise in the parents of `start`. Returns whether anything changed.
 */
export function markChainPrecisionFrom(env: Env, start: VState, regno: number): boolean {
  const bt = env.bt;
  let changed = false;
  let st: VState | null = start;
  let firstIdx = st.firstInsnIdx;
  let lastIdx = start.insnIdx;
  let subseqIdx = -1;
  let skipFirst = true;
  bt.frame = start.curframe;
  if (regno >= 0) {
    const reg = st.frames[bt.frame]!.regs[regno]!;
    if (reg.type !== T.SCALAR) env.fail('verifier bug: backtracking misuse', 'EFAULT');
    bt.setReg(regno);
  }
  if (bt.empty()) {
    bt.reset();
    return false;
  }
  try {
    for (;;) {
      const h = { n: st.history.length };
      if (env.logLevel & 2) env.verbose(`mark_precise: frame${bt.frame}: last_idx ${lastIdx} first_idx ${firstIdx} subseq_idx ${subseqIdx} \n`);
      if (lastIdx < 0) {
        // Entry of a subprogram verified on its own (global functions): only r1-r5 may be requested.
        if (st.curframe === 0 && st.frames[0]!.subprogno > 0 && st.frames[0]!.callsite === -1
          && !bt.hasSlots(bt.frame) && (bt.regs[bt.frame]! & ~ARGS_MASK) === 0) {
          for (let r = 0; r < 32; r++) {
            if (!(bt.regs[bt.frame]! & (1 << r))) continue;
            const reg = st.frames[0]!.regs[r]!;
            bt.clearReg(r);
            if (reg.type === T.SCALAR) {
              reg.precise = true;
              changed = true;
            }
          }
          return changed;
        }
        // Linux 6.18 treats this as its own bug (older kernels fell back to all-precise).
        env.fail(`verifier bug: backtracking func entry subprog ${st.frames[0]!.subprogno} reg_mask ${bt.regs[bt.frame]!.toString(16)} stack_mask ${bt.stackMask(bt.frame).toString(16)}`, 'EFAULT');
      }
      for (let i = lastIdx; ;) {
        if (skipFirst) {
          skipFirst = false;
        } else {
          backtrackInsn(env, i, subseqIdx, histEntry(st, h.n, i), bt);
        }
        if (bt.empty()) return changed;
        subseqIdx = i;
        i = prevInsnIdx(st, i, h);
        if (i === -1) break;
        if (i >= env.len) env.fail(`verifier bug: backtracking idx ${i}`, 'EFAULT');
      }
      st = st.parent;
      if (!st) break;
      for (let fr = bt.frame; fr >= 0; fr--) {
        const func = st.frames[fr];
        if (!func) continue;
        for (let r = 0; r < 32 && bt.regs[fr]! >>> r; r++) {
          if (!(bt.regs[fr]! & (1 << r))) continue;
          const reg: Reg | undefined = func.regs[r];
          if (!reg || reg.type !== T.SCALAR) {
            bt.regs[fr]! &= ~(1 << r);
            continue;
          }
          if (reg.precise) bt.regs[fr]! &= ~(1 << r);
          else {
            reg.precise = true;
            changed = true;
          }
        }
        for (let s = 0, end = bt.slotsEnd(fr); s < end; s++) {
          if (!bt.isFrameSlot(fr, s)) continue;
          // A slot the parent never allocated: since 6.4 Linux reports its own bug here and rejects.
          if (s >= func.allocatedStack / REG_SIZE) {
            env.fail(`verifier bug: stack slot ${s}, total slots ${func.allocatedStack / REG_SIZE} (i >= func->allocated_stack / BPF_REG_SIZE)`, 'EFAULT');
          }
          if (!isSpilledScalarReg(func, s)) {
            bt.clearFrameSlot(fr, s);
            continue;
          }
          const reg = func.spilled[s]!;
          if (reg.precise) bt.clearFrameSlot(fr, s);
          else {
            reg.precise = true;
            changed = true;
          }
        }
        if (env.logLevel & 2) {
          env.verbose(`mark_precise: frame${fr}: parent state regs=${fmtRegMask(bt.regs[fr]!)} stack=${fmtStackMask(bt.stackMask(fr))}: `);
          printVerifierState(env, st, fr, true);
        }
      }
      if (bt.empty()) return changed;
      subseqIdx = firstIdx;
      lastIdx = st.lastInsnIdx;
      firstIdx = st.firstInsnIdx;
    }
    if (!bt.empty()) {
      markAllScalarsPrecise(env, start);
      bt.reset();
    }
    return changed;
  } catch (e) {
    if (e instanceof NotSupported) {
      markAllScalarsPrecise(env, start);
      bt.reset();
      return changed;
    }
    throw e;
  } finally {
    if (bt.empty()) bt.reset();
  }
}

/** mark_chain_precision(env, regno). */
export function markChainPrecision(env: Env, regno: number): void {
  if (regno < 0) return;
  env.bt.reset();
  markChainPrecisionFrom(env, env.cur, regno);
  env.bt.reset();
}

/** Marks stack slot `spi` of frame `frameno` precise in the current chain (mark_chain_precision_batch). */
export function markStackSlotPrecise(env: Env, frameno: number, spi: number): void {
  env.bt.reset();
  env.bt.frame = env.cur.curframe;
  env.bt.setFrameSlot(frameno, spi);
  markChainPrecisionFrom(env, env.cur, -1);
  env.bt.reset();
}

/** assign_scalar_id_before_mov: give a scalar an id so copies can be linked. */
export function assignScalarIdBeforeMov(env: Env, src: Reg): void {
  if (src.type !== T.SCALAR) return;
  if (src.addConst) {
    src.id = 0;
    src.addConst = 0;
    src.delta = 0;
  }
  if (!src.id && !tnumIsConst(src.varOff)) src.id = env.nextId();
}

export { BPF_ST, BPF_LDX };
