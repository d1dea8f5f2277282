/**
 * Stack slot liveness (kernel/bpf/liveness.c of 6.18), used to forget dead
 * stack slots in explored states (clean_func_state) so that more states
 * compare equal.
 *
 * The analysis is call chain sensitive: for each call chain (the call
 * instructions leading to a function, plus its entry) a "function
 * instance" keeps, per frame of the chain and per instruction of the
 * function, the slots the instruction may read (`may_read`, a union over
 * every visit), the slots it surely writes (`must_write`, an intersection
 * over every visit: only full 8-byte stores count), the slots written by it
 * or on every path after it within the function (`must_write_acc`) and the
 * slots that may be read at or after it (`live_before`). Marks are
 * accumulated as the verifier visits instructions; `live_before` is brought
 * up to date (a backward dataflow to a fixed point) only when a path ends
 * and when a subprogram returns, exactly when Linux does it, because the
 * result depends on what had been visited by then: an instruction not
 * visited yet writes nothing, so slots stay live through it. A function's
 * entry marks for its callers' frames are passed on to the call instruction
 * of the calling instance.
 *
 * Masks are 64 slots split in two 32-bit halves (lo: fp-8..fp-256, hi:
 * fp-264..fp-512).
 */
import type { Env } from './env.js';
import type { VState } from './state.js';
import { successors } from './program-checks.js';

/** Per frame of an instance, per instruction of its function. */
class FrameMasks {
  readonly mayReadLo: Int32Array;
  readonly mayReadHi: Int32Array;
  readonly mustWriteLo: Int32Array;
  readonly mustWriteHi: Int32Array;
  readonly accLo: Int32Array;
  readonly accHi: Int32Array;
  readonly liveLo: Int32Array;
  readonly liveHi: Int32Array;

  constructor(n: number) {
    this.mayReadLo = new Int32Array(n);
    this.mayReadHi = new Int32Array(n);
    this.mustWriteLo = new Int32Array(n);
    this.mustWriteHi = new Int32Array(n);
    this.accLo = new Int32Array(n);
    this.accHi = new Int32Array(n);
    this.liveLo = new Int32Array(n);
    this.liveHi = new Int32Array(n);
  }
}

/** `struct func_instance`: the marks of one function reached through one call chain. */
class FuncInstance {
  /** Call instruction of each frame up to curframe, then the function's first instruction. */
  readonly callsites: number[];
  readonly curframe: number;
  /** First instruction of the function (absolute). */
  readonly start: number;
  readonly insnCnt: number;
  readonly frames: (FrameMasks | null)[];
  readonly mustWriteSet: Uint8Array;
  updated = false;
  mustWriteDropped = false;

  constructor(callsites: number[], start: number, insnCnt: number) {
    this.callsites = callsites;
    this.curframe = callsites.length - 1;
    this.start = start;
    this.insnCnt = insnCnt;
    this.frames = new Array<FrameMasks | null>(callsites.length).fill(null);
    this.mustWriteSet = new Uint8Array(insnCnt);
  }

  masks(frame: number): FrameMasks {
    return (this.frames[frame] ??= new FrameMasks(this.insnCnt));
  }
}

function bitLo(spi: number): number {
  return spi < 32 ? 1 << spi : 0;
}
function bitHi(spi: number): number {
  return spi >= 32 ? 1 << (spi - 32) : 0;
}

/** `struct bpf_liveness`. */
export class StackLiveness {
  private readonly instances = new Map<string, FuncInstance>();
  /** Instance of the current state (`cur_instance`); null after a reset. */
  private cur: FuncInstance | null = null;
  /** Write marks of the instruction being checked (`write_masks_acc`, `write_insn_idx`). */
  private readonly accLo = new Int32Array(8);
  private readonly accHi = new Int32Array(8);
  private writeInsnIdx = 0;
  /** The live stack query (`live_stack_query`): instances of a state's frames, its frame and instruction. */
  private query: { instances: FuncInstance[]; curframe: number; insnIdx: number } | null = null;
  private succ: number[][] | null = null;

  constructor(private readonly env: Env) {}

  private successorsOf(idx: number): number[] {
    this.succ ??= new Array<number[]>(this.env.len);
    return (this.succ[idx] ??= successors(this.env, idx).filter((s) => s < this.env.len));
  }

  /** `lookup_instance`: the instance of frame `frameno` of state `st` (created when new). */
  private lookup(st: VState, frameno: number): FuncInstance {
    const callsites: number[] = [];
    for (let i = 0; i < frameno; i++) callsites.push(st.frames[i + 1]!.callsite);
    const start = this.env.subprogs[st.frames[frameno]!.subprogno]!.start;
    callsites.push(start);
    return this.lookupChain(callsites, start);
  }

  private lookupChain(callsites: number[], start: number): FuncInstance {
    const key = callsites.join(',');
    let inst = this.instances.get(key);
    if (!inst) {
      const env = this.env;
      let end = env.len;
      for (const sp of env.subprogs) if (sp.start > start && sp.start < end) end = sp.start;
      inst = new FuncInstance(callsites, start, end - start);
      this.instances.set(key, inst);
    }
    return inst;
  }

  /** `bpf_reset_live_stack_callchain`. */
  resetCallchain(): void {
    this.cur = null;
  }

  private ensureCur(): FuncInstance {
    return (this.cur ??= this.lookup(this.env.cur, this.env.cur.curframe));
  }

  private markRead(inst: FuncInstance, frame: number, insnIdx: number, lo: number, hi: number): void {
    const m = inst.masks(frame);
    const i = insnIdx - inst.start;
    const newLo = m.mayReadLo[i]! | lo;
    const newHi = m.mayReadHi[i]! | hi;
    if ((newLo !== m.mayReadLo[i] || newHi !== m.mayReadHi[i])
      && ((newLo | m.liveLo[i]!) !== m.liveLo[i] || (newHi | m.liveHi[i]!) !== m.liveHi[i])) {
      inst.updated = true;
    }
    m.mayReadLo[i] = newLo;
    m.mayReadHi[i] = newHi;
  }

  /** `bpf_mark_stack_read`: the current instruction may read slot `spi` of frame `frame`. */
  read(frame: number, spi: number): void {
    this.markRead(this.ensureCur(), frame, this.env.insnIdx, bitLo(spi), bitHi(spi));
  }

  private resetWrites(inst: FuncInstance, insnIdx: number): void {
    this.writeInsnIdx = insnIdx;
    for (let i = 0; i <= inst.curframe; i++) {
      this.accLo[i] = 0;
      this.accHi[i] = 0;
    }
  }

  /** `bpf_reset_stack_write_marks`, before each instruction. */
  resetWriteMarks(insnIdx: number): void {
    this.resetWrites(this.ensureCur(), insnIdx);
  }

  /** `bpf_mark_stack_write`: the instruction writes all 8 bytes of slot `spi` of frame `frame`. */
  write(frame: number, spi: number): void {
    this.accLo[frame] = this.accLo[frame]! | bitLo(spi);
    this.accHi[frame] = this.accHi[frame]! | bitHi(spi);
  }

  private commit(inst: FuncInstance | null): void {
    if (!inst) return;
    const idx = this.writeInsnIdx - inst.start;
    const seen = inst.mustWriteSet[idx] === 1;
    for (let frame = 0; frame <= inst.curframe; frame++) {
      let lo = this.accLo[frame]!;
      let hi = this.accHi[frame]!;
      if (lo === 0 && hi === 0 && !seen) continue;
      const m = inst.masks(frame);
      const oldLo = m.mustWriteLo[idx]!;
      const oldHi = m.mustWriteHi[idx]!;
      // first visit: the writes; later visits: what every visit wrote
      if (seen) {
        lo &= oldLo;
        hi &= oldHi;
      }
      if (oldLo !== lo || oldHi !== hi) {
        m.mustWriteLo[idx] = lo;
        m.mustWriteHi[idx] = hi;
        inst.updated = true;
      }
      if ((oldLo & ~lo) !== 0 || (oldHi & ~hi) !== 0) inst.mustWriteDropped = true;
    }
    inst.mustWriteSet[idx] = 1;
    this.writeInsnIdx = 0;
  }

  /** `bpf_commit_stack_write_marks`, after an instruction was checked. */
  commitWriteMarks(): void {
    this.commit(this.cur);
  }

  /** `update_insn`: one step of the dataflow at `insnIdx`; whether anything changed. */
  private updateInsn(inst: FuncInstance, m: FrameMasks, insnIdx: number): boolean {
    const succ = this.successorsOf(insnIdx);
    if (succ.length === 0) return false;
    const i = insnIdx - inst.start;
    let afterLo = 0;
    let afterHi = 0;
    let accLo = -1;
    let accHi = -1;
    for (const s of succ) {
      const j = s - inst.start;
      afterLo |= m.liveLo[j]!;
      afterHi |= m.liveHi[j]!;
      accLo &= m.accLo[j]!;
      accHi &= m.accHi[j]!;
    }
    accLo |= m.mustWriteLo[i]!;
    accHi |= m.mustWriteHi[i]!;
    const beforeLo = (afterLo & ~m.mustWriteLo[i]!) | m.mayReadLo[i]!;
    const beforeHi = (afterHi & ~m.mustWriteHi[i]!) | m.mayReadHi[i]!;
    const changed = beforeLo !== m.liveLo[i] || beforeHi !== m.liveHi[i] || accLo !== m.accLo[i] || accHi !== m.accHi[i];
    m.liveLo[i] = beforeLo;
    m.liveHi[i] = beforeHi;
    m.accLo[i] = accLo;
    m.accHi[i] = accHi;
    return changed;
  }

  /** `update_instance`: live_before and must_write_acc to a fixed point, then marks passed to the caller. */
  private updateInstance(inst: FuncInstance): void {
    if (inst.mustWriteDropped) {
      for (const m of inst.frames) {
        if (!m) continue;
        m.accLo.fill(0);
        m.accHi.fill(0);
      }
    }
    const end = inst.start + inst.insnCnt;
    let changed: boolean;
    do {
      changed = false;
      for (let frame = 0; frame <= inst.curframe; frame++) {
        const m = inst.frames[frame];
        if (!m) continue;
        // backward order reaches the fixed point in few rounds (the result does not depend on the order)
        for (let idx = end - 1; idx >= inst.start; idx--) {
          if (this.updateInsn(inst, m, idx)) changed = true;
        }
      }
    } while (changed);
    if (inst.curframe > 0) this.propagateToOuter(inst);
  }

  /** `propagate_to_outer_instance`: the function entry's marks for outer frames go to the call instruction. */
  private propagateToOuter(inst: FuncInstance): void {
    const cs = inst.callsites.slice(0, inst.curframe);
    const outerStart = this.outerStart(inst);
    cs[cs.length - 1] = outerStart;
    const outer = this.lookupChain(cs, outerStart);
    const callsite = inst.callsites[inst.curframe - 1]!;
    this.resetWrites(outer, callsite);
    const i = 0; // the function's entry, relative
    for (let frame = 0; frame < inst.curframe; frame++) {
      const m = inst.frames[frame];
      if (!m) continue;
      this.accLo[frame] = this.accLo[frame]! | m.accLo[i]!;
      this.accHi[frame] = this.accHi[frame]! | m.accHi[i]!;
      this.markRead(outer, frame, callsite, m.liveLo[i]!, m.liveHi[i]!);
    }
    this.commit(outer);
  }

  /** First instruction of the function that contains the call site of `inst`'s frame. */
  private outerStart(inst: FuncInstance): number {
    const callsite = inst.callsites[inst.curframe - 1]!;
    let start = 0;
    for (const sp of this.env.subprogs) if (sp.start <= callsite && sp.start >= start) start = sp.start;
    return start;
  }

  /**
   * `bpf_update_live_stack`: brings the instances of the current state's
   * call chain up to date (at the end of a path and at a subprogram's exit).
   */
  updateLiveStack(): void {
    this.cur = null;
    const st = this.env.cur;
    for (let frame = st.curframe; frame >= 0; frame--) {
      const inst = this.lookup(st, frame);
      if (inst.updated) {
        this.updateInstance(inst);
        inst.updated = false;
        inst.mustWriteDropped = false;
      }
    }
  }

  /** `bpf_live_stack_query_init`: prepares `alive` queries about state `st`. */
  queryInit(st: VState): void {
    const instances: FuncInstance[] = [];
    for (let frame = 0; frame <= st.curframe; frame++) instances.push(this.lookup(st, frame));
    this.query = { instances, curframe: st.curframe, insnIdx: st.insnIdx };
  }

  private liveBefore(inst: FuncInstance, insnIdx: number, frame: number, spi: number): boolean {
    const m = inst.frames[frame];
    if (!m) return false;
    const i = insnIdx - inst.start;
    return spi < 32 ? (m.liveLo[i]! & (1 << spi)) !== 0 : (m.liveHi[i]! & (1 << (spi - 32))) !== 0;
  }

  /**
   * `bpf_stack_slot_alive`: whether slot `spi` of frame `frameno` of the
   * queried state may be read later: at or after its instruction, or after
   * the call of an outer frame (at the call, for one that calls a callback).
   */
  alive(frameno: number, spi: number): boolean {
    const q = this.query!;
    const top = q.instances[q.curframe]!;
    if (this.liveBefore(top, q.insnIdx, frameno, spi)) return true;
    for (let i = frameno; i < q.curframe; i++) {
      const callsite = top.callsites[i]!;
      const inst = q.instances[i]!;
      const alive = this.env.aux[callsite]!.callsCallback
        ? this.liveBefore(inst, callsite, frameno, spi)
        : this.liveBefore(inst, callsite + 1, frameno, spi);
      if (alive) return true;
    }
    return false;
  }
}

/** bpf_mark_stack_read: frame `frameno` slot `spi` read by the current instruction. */
export function markStackRead(env: Env, frameno: number, spi: number): void {
  env.liveness.read(frameno, spi);
}

/** bpf_mark_stack_write: all 8 bytes of frame `frameno` slot `spi` written by the current instruction. */
export function markStackWrite(env: Env, frameno: number, spi: number): void {
  env.liveness.write(frameno, spi);
}
