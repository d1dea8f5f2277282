/**
 * Open-coded iterators: `bpf_iter_<type>_new/_next/_destroy` and the
 * `bpf_for`/`bpf_repeat` loops built on them. An iterator lives in as many
 * stack slots as its struct has 8-byte words (STACK_ITER), holds a
 * reference from `_new` to `_destroy`, and each `_next` forks the search: the
 * current path sees the iterator drained (NULL), a queued one sees it active
 * one iteration deeper. The search proves the loop convergent when it meets
 * an equivalent state at a `_next` call (search.ts). As Linux 6.18's
 * process_iter_arg and process_iter_next_call do.
 */
import type { Env } from './env.js';
import type { Reg } from './reg.js';
import { ITER_ACTIVE, ITER_DRAINED, F, markConstScalar, markKnownZero, markNotInit, T } from './reg.js';
import type { FuncState, VState } from './state.js';
import { REG_SIZE, STACK_INVALID, STACK_ITER } from './state.js';
import { checkMemAccess, funcOf } from './mem.js';
import { acquireReference, releaseReference } from './refs.js';
import { markStackRead, markStackWrite } from './liveness.js';
import { findPrevEntry, pushStack, sameCallsites, widenImpreciseScalars } from './search.js';
import { markPtrNotNullReg } from './branch.js';
import { tnumIsConst } from './tnum.js';

/** Which iterator method a kfunc is (KF_ITER_NEW / KF_ITER_NEXT / KF_ITER_DESTROY). */
export type IterMethod = 'new' | 'next' | 'destroy';

/** An iterator type: its struct's id in the kernel BTF and its size in slots. */
export interface IterType {
  btfId: number;
  /** The struct's name without `bpf_iter_` (`num`, `bits`), as messages print it. */
  name: string;
  slots: number;
}

/** Where `_next` and `_destroy` found their iterator (`meta->iter`) and the reference it holds. */
export interface IterSlot {
  frameno: number;
  spi: number;
  refObjId: number;
}

/** `__get_spi`: C division, truncating toward zero. */
function getSpi(off: number): number {
  return Math.trunc((-off - 1) / REG_SIZE);
}

/**
 * stack_slot_obj_get_spi: the first slot of a stack object (an iterator,
 * a dynptr) of `slots` slots, or 'range' when they are not all allocated
 * yet; a bad offset logs why and gives 'bad'.
 */
export function stackSlotObjSpi(env: Env, reg: Reg, kind: string, slots: number): number | 'range' | 'bad' {
  if (!tnumIsConst(reg.varOff)) {
    env.verbose(`${kind} has to be at a constant offset\n`);
    return 'bad';
  }
  const off = reg.off + Number(BigInt.asIntN(32, reg.varOff.value));
  // fp+0 and above are no stack slot (6.18.44; before, fp+0 aliased fp-8)
  if (off >= 0 || off % REG_SIZE) {
    env.verbose(`cannot pass in ${kind} at an offset=${off}\n`);
    return 'bad';
  }
  const spi = getSpi(off);
  if (spi + 1 < slots) {
    env.verbose(`cannot pass in ${kind} at an offset=${off}\n`);
    return 'bad';
  }
  const allocated = funcOf(env, reg).allocatedStack / REG_SIZE;
  if (!(spi - slots + 1 >= 0 && spi < allocated)) return 'range';
  return spi;
}

/** iter_get_spi. */
function iterGetSpi(env: Env, reg: Reg, slots: number): number | 'range' | 'bad' {
  return stackSlotObjSpi(env, reg, 'iter', slots);
}

/** is_iter_reg_valid_uninit: no byte of the slots is an iterator already. */
function validUninit(env: Env, reg: Reg, slots: number): boolean {
  const spi = iterGetSpi(env, reg, slots);
  if (spi === 'range') return true;
  if (spi === 'bad') return false;
  const f = funcOf(env, reg);
  for (let i = 0; i < slots; i++) {
    for (let j = 0; j < REG_SIZE; j++) if (f.slotType[(spi - i) * REG_SIZE + j] === STACK_ITER) return false;
  }
  return true;
}

/** is_iter_reg_valid_init: the slots hold a live iterator of this type. */
function validInit(env: Env, reg: Reg, type: IterType): 'ok' | 'invalid' | 'untrusted' {
  const spi = iterGetSpi(env, reg, type.slots);
  if (typeof spi !== 'number') return 'invalid';
  const f = funcOf(env, reg);
  for (let i = 0; i < type.slots; i++) {
    const st = f.spilled[spi - i]!;
    if (st.type & F.UNTRUSTED) return 'untrusted';
    // only the main (first) slot carries the reference
    if (i === 0 && !st.refObjId) return 'invalid';
    if (i !== 0 && st.refObjId) return 'invalid';
    if (st.btfId !== type.btfId) return 'invalid';
    for (let j = 0; j < REG_SIZE; j++) if (f.slotType[(spi - i) * REG_SIZE + j] !== STACK_ITER) return 'invalid';
  }
  return 'ok';
}

/** mark_stack_slots_iter: a new active iterator holding a new reference. */
function markSlotsIter(env: Env, reg: Reg, spi: number, type: IterType): void {
  const f = funcOf(env, reg);
  const id = acquireReference(env, env.insnIdx);
  for (let i = 0; i < type.slots; i++) {
    const st = f.spilled[spi - i]!;
    markKnownZero(st);
    st.type = T.STACK; // the kernel has no register type of its own for iterator slots
    st.refObjId = i === 0 ? id : 0;
    st.btfId = type.btfId;
    st.iterState = ITER_ACTIVE;
    st.iterDepth = 0;
    f.slotType.fill(STACK_ITER, (spi - i) * REG_SIZE, (spi - i + 1) * REG_SIZE);
    markStackWrite(env, f.frameno, spi - i);
    env.markStackSlotScratched(spi - i);
  }
}

/** unmark_stack_slots_iter: `_destroy` releases the reference and frees the slots. */
function unmarkSlotsIter(env: Env, f: FuncState, spi: number, slots: number): void {
  for (let i = 0; i < slots; i++) {
    const st = f.spilled[spi - i]!;
    if (i === 0) releaseReference(env, st.refObjId);
    markNotInit(st);
    f.slotType.fill(STACK_INVALID, (spi - i) * REG_SIZE, (spi - i + 1) * REG_SIZE);
    markStackWrite(env, f.frameno, spi - i);
    env.markStackSlotScratched(spi - i);
  }
}

/**
 * process_iter_arg: argument `i` (register `regno`) of an iterator method.
 * `_new` wants uninitialised stack and makes it an iterator; `_next` and
 * `_destroy` want a live iterator of the type, and `_destroy` ends it.
 */
export function processIterArg(env: Env, fnName: string, method: IterMethod, type: IterType, i: number, regno: number): IterSlot | null {
  const reg = env.regs[regno]!;
  if (reg.type !== T.STACK) env.fail(`arg#${i} expected pointer to an iterator on stack`, 'EINVAL');
  if (method === 'new') {
    if (!validUninit(env, reg, type.slots)) env.fail(`expected uninitialized iter_${type.name} as arg #${i}`, 'EINVAL');
    for (let k = 0; k < type.slots * REG_SIZE; k += REG_SIZE) checkMemAccess(env, env.insnIdx, regno, k, REG_SIZE, 'write', -1, false, false);
    const spi = iterGetSpi(env, reg, type.slots);
    if (typeof spi !== 'number') env.fail(`tsbpf: iterator slots of arg#${i} are outside the stack after its write`, 'EFAULT');
    markSlotsIter(env, reg, spi, type);
    return null;
  }
  const valid = validInit(env, reg, type);
  if (valid === 'invalid') env.fail(`expected an initialized iter_${type.name} as arg #${i}`, 'EINVAL');
  if (valid === 'untrusted') env.fail(`expected an RCU CS when using ${fnName}`, 'EPROTO');
  const spi = iterGetSpi(env, reg, type.slots) as number;
  const f = funcOf(env, reg);
  for (let k = 0; k < type.slots; k++) {
    markStackRead(env, reg.frameno, spi - k);
    env.markStackSlotScratched(spi - k);
  }
  const slot: IterSlot = { frameno: reg.frameno, spi, refObjId: f.spilled[spi]!.refObjId };
  if (method === 'destroy') unmarkSlotsIter(env, f, spi, type.slots);
  return slot;
}

/**
 * process_iter_next_call, after `_next`'s result is in r0: the current path
 * continues with the iterator drained and r0 = 0; while the iterator was
 * active, a path with it active one iteration deeper and r0 not NULL is
 * queued, its imprecise scalars widened against the previous iteration.
 */
export function processIterNextCall(env: Env, slot: IterSlot): void {
  const cur = env.cur;
  const iter = cur.frames[slot.frameno]!.spilled[slot.spi]!;
  if (iter.iterState !== ITER_ACTIVE && iter.iterState !== ITER_DRAINED) {
    env.fail(`verifier internal error: unexpected iterator state ${iter.iterState}`, 'EFAULT');
  }
  const idx = env.insnIdx;
  if (iter.iterState === ITER_ACTIVE) {
    // `_next` is a forced checkpoint: the state's parent is the checkpoint made at this call
    const parent = cur.parent;
    if (!parent || parent.insnIdx !== idx || !sameCallsites(parent, cur)) env.fail('verifier bug: bad parent state for iter next call', 'EFAULT');
    const prev = findPrevEntry(env, parent, idx);
    const queued = pushStack(env, idx + 1, idx);
    const qIter = queued.frames[slot.frameno]!.spilled[slot.spi]!;
    qIter.iterState = ITER_ACTIVE;
    qIter.iterDepth++;
    if (prev) widenImpreciseScalars(prev, queued);
    markPtrNotNullReg(queued.frames[queued.curframe]!.regs[0]!);
  }
  iter.iterState = ITER_DRAINED;
  markConstScalar(env.regs[0]!, 0n);
}

/**
 * iter_active_depths_differ: an active iterator one iteration deeper is not
 * an infinite loop, though the states are otherwise equal.
 */
export function iterActiveDepthsDiffer(old: VState, cur: VState): boolean {
  for (let fr = old.curframe; fr >= 0; fr--) {
    const f = old.frames[fr]!;
    for (let spi = 0; spi < f.allocatedStack / REG_SIZE; spi++) {
      if (f.slotType[spi * REG_SIZE] !== STACK_ITER) continue;
      const r = f.spilled[spi]!;
      if (r.iterState !== ITER_ACTIVE) continue;
      if (cur.frames[fr]!.spilled[spi]!.iterDepth !== r.iterDepth) return true;
    }
  }
  return false;
}

/** Whether the iterator `_next` is called on (its first argument, r1) is active: the search's convergence test. */
export function iterNextArgActive(cur: VState): boolean {
  const r1 = cur.frames[cur.curframe]!.regs[1]!;
  const spi = getSpi(Number(BigInt.asIntN(32, r1.varOff.value)) + r1.off);
  const st = cur.frames[r1.frameno]!.spilled[spi];
  return st !== undefined && st.iterState === ITER_ACTIVE;
}

/** `iter_type_str`: an iterator struct's name without `bpf_iter_` (`num` of `bpf_iter_num`). */
export function iterTypeStr(structName: string): string {
  return structName.replace(/^bpf_iter_/, '');
}

/** The state of an iterator slot as the log prints it (`iter_num(ref_id=1,state=active,depth=0)`). */
export function iterSlotStr(name: string, r: Reg): string {
  const state = r.iterState === ITER_ACTIVE ? 'active' : r.iterState === ITER_DRAINED ? 'drained' : '<invalid>';
  return `iter_${name}(ref_id=${r.refObjId},state=${state},depth=${r.iterDepth})`;
}
