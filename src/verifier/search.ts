/**
 * The search over paths: the stack of branches still to explore, explored
 * states ("checkpoints") kept per instruction, and state pruning — a state
 * that is equivalent to, or more specific than, a checkpoint whose
 * exploration already succeeded need not be explored again (states_equal,
 * is_state_visited). Loops are handled as the kernel does: checkpoints in
 * a strongly connected component compare ranges of all scalars until the
 * loop's paths are all explored, then precision found on the back-edges is
 * propagated; an exact repeat of a state in a loop is an infinite loop.
 */
import type { Env, StateListEntry } from './env.js';
import { BPF_COMPLEXITY_LIMIT_JMP_SEQ, printVerifierState } from './env.js';
import { isMayGoto } from '../isa/raw.js';
import type { Reg } from './reg.js';
import { baseType, markNotInit, markUnknown, notInitReg, rangeWithin, regsEqualUpToId, regsEqualUpToVarOff, T } from './reg.js';
import type { FuncState, VState } from './state.js';
import { copyVState, copyVStateLongLived, isSpilledReg, isSpilledScalarReg64, REG_SIZE, STACK_DYNPTR, STACK_INVALID, STACK_ITER, STACK_MISC, STACK_SPILL } from './state.js';
import { iterActiveDepthsDiffer, iterNextArgActive } from './iters.js';
import { tnumIn } from './tnum.js';
import { markAllScalarsImprecise, markAllScalarsPrecise, markChainPrecisionFrom, pushJmpHistory } from './precision.js';

/** push_stack: queue a copy of the current state to explore from `insnIdx`. */
export function pushStack(env: Env, insnIdx: number, prevInsnIdx: number): VState {
  const st = copyVState(env.cur);
  env.head.push({ st, insnIdx, prevInsnIdx, logPos: env.log.pos });
  if (env.head.length > BPF_COMPLEXITY_LIMIT_JMP_SEQ) env.fail(`The sequence of ${env.head.length} jumps is too complex.`, 'E2BIG');
  if (st.parent) st.parent.branches++;
  return st;
}

/** pop_stack: continue with the most recent pending branch; false when none is left. */
export function popStack(env: Env, popLog: boolean): { insnIdx: number; prevInsnIdx: number } | null {
  const head = env.head.pop();
  if (!head) return null;
  env.cur = head.st;
  if (popLog) env.log.reset(head.logPos);
  return { insnIdx: head.insnIdx, prevInsnIdx: head.prevInsnIdx };
}

function frameInsnIdx(st: VState, frame: number): number {
  return frame === st.curframe ? st.insnIdx : st.frames[frame + 1]!.callsite;
}

// ---- SCC visits -----------------------------------------------------------

interface Backedge {
  state: VState;
}

interface SccVisit {
  entryState: VState | null;
  backedges: Backedge[];
}

function callchainKey(env: Env, st: VState): string | null {
  if (st.curframe === 0) {
    // the common case, without allocating: frame 0's key is the SCC alone
    const scc = env.aux[st.insnIdx]?.scc ?? 0;
    if (!scc) return null;
    return (sccKeyCache[scc] ??= `|${scc}`);
  }
  const sites: number[] = [];
  for (let i = 0; i <= st.curframe; i++) {
    const idx = frameInsnIdx(st, i);
    const scc = env.aux[idx]?.scc ?? 0;
    if (scc) return `${sites.join(',')}|${scc}`;
    if (i < st.curframe) sites.push(idx);
    else return null;
  }
  return null;
}

const sccKeyCache: string[] = [];

function sccVisits(env: Env): Map<string, SccVisit> {
  return (env as Env & { sccVisits?: Map<string, SccVisit> }).sccVisits ??= new Map();
}

function maybeEnterScc(env: Env, st: VState): void {
  const key = callchainKey(env, st);
  if (key === null) return;
  const visits = sccVisits(env);
  let v = visits.get(key);
  if (!v) {
    v = { entryState: null, backedges: [] };
    visits.set(key, v);
  }
  if (!v.entryState) {
    v.entryState = st;
    if (env.logLevel & 2) env.verbose(`SCC enter (${key.replace('|', '')})\n`);
  }
}

function maybeExitScc(env: Env, st: VState): void {
  const key = callchainKey(env, st);
  if (key === null) return;
  const v = sccVisits(env).get(key);
  if (!v || v.entryState !== st) return;
  if (env.logLevel & 2) env.verbose(`SCC exit (${key.replace('|', '')})\n`);
  v.entryState = null;
  env.numBackedges -= v.backedges.length;
  updatePeakStates(env);
  propagateBackedges(env, v);
}

function addSccBackedge(env: Env, st: VState, be: Backedge): void {
  const key = callchainKey(env, st);
  if (key === null) return;
  const v = sccVisits(env).get(key);
  if (!v) return;
  if (env.logLevel & 2) env.verbose(`SCC backedge (${key.replace('|', '')})\n`);
  v.backedges.push(be);
  env.numBackedges++;
  updatePeakStates(env);
}

function incompleteReadMarks(env: Env, st: VState): boolean {
  const key = callchainKey(env, st);
  if (key === null) return false;
  const v = sccVisits(env).get(key);
  return v !== undefined && v.backedges.length > 0;
}

function propagateBackedges(env: Env, v: SccVisit): void {
  let iter = 0;
  let changed: boolean;
  do {
    if (iter++ > 64) {
      for (const be of v.backedges) markAllScalarsPrecise(env, be.state);
      break;
    }
    changed = false;
    for (const be of v.backedges) {
      if (be.state.equalState && propagatePrecision(env, be.state.equalState, be.state)) changed = true;
    }
  } while (changed);
  v.backedges = [];
}

function updatePeakStates(env: Env): void {
  const cur = env.exploredSize + env.freeListSize + env.numBackedges;
  if (cur > env.peakStates) env.peakStates = cur;
}

/** update_branch_counts: a path ended; finished checkpoints may complete their loops. */
export function updateBranchCounts(env: Env, st: VState | null): void {
  while (st) {
    const br = --st.branches;
    if (br) break;
    maybeExitScc(env, st);
    if (st.listEntry) maybeFreeState(env, st);
    st = st.parent;
  }
}

/** maybe_free_verifier_state: an evicted checkpoint with nothing left to explore is freed. */
function maybeFreeState(env: Env, st: VState): void {
  const e = st.listEntry;
  if (!e || !e.inFreeList || e.freed || st.branches !== 0 || incompleteReadMarks(env, st)) return;
  e.freed = true;
  env.freeListSize--;
}

// ---- state equivalence ----------------------------------------------------

class IdMap {
  old: number[] = [];
  cur: number[] = [];
  tmp = 0;
  reset(idGen: number): void {
    this.old.length = 0;
    this.cur.length = 0;
    this.tmp = idGen;
  }
}

function checkIds(oldId: number, curId: number, m: IdMap): boolean {
  if ((oldId === 0) !== (curId === 0)) return false;
  if (oldId === 0) return true;
  for (let i = 0; i < m.old.length; i++) {
    if (m.old[i] === oldId) return m.cur[i] === curId;
    if (m.cur[i] === curId) return false;
  }
  m.old.push(oldId);
  m.cur.push(curId);
  return true;
}

function checkScalarIds(oldId: number, curId: number, m: IdMap): boolean {
  if (!oldId) return true;
  return checkIds(oldId, curId || ++m.tmp, m);
}

/** The kernel's full id of a scalar (with the BPF_ADD_CONST flag bit). */
function fullId(r: Reg): number {
  if (!r.id) return 0;
  return r.addConst === 64 ? r.id + 0x4000_0000 : r.addConst === 32 ? r.id + 0x2000_0000 : r.id;
}

function regsExact(a: Reg, b: Reg, m: IdMap): boolean {
  return regsEqualUpToId(a, b) && a.delta === b.delta && checkIds(fullId(a), fullId(b), m) && checkIds(a.refObjId, b.refObjId, m);
}

type Exact = 'not_exact' | 'exact' | 'range_within';

function regsafe(rold: Reg, rcur: Reg, m: IdMap, exact: Exact): boolean {
  if (exact === 'exact') return regsExact(rold, rcur, m);
  if (rold.type === T.NOT_INIT) return true;
  if (rold.type !== rcur.type) return false;
  switch (baseType(rold.type)) {
    case T.SCALAR:
      if (!rold.precise && exact === 'not_exact') return true;
      if (rold.addConst && !rcur.addConst) return false;
      if (rold.id && !rold.addConst && rcur.addConst) return false;
      if (rold.addConst && rold.delta !== rcur.delta) return false;
      // ids without the add-const flag: a register linked as base + delta and
      // the base are one link group (the kernel compares base ids here; with
      // the flag, the old state's r5 = r1 - 8 link matched a current state
      // where r1 and r5 are unrelated and tsbpf pruned a path it must explore)
      if (!checkScalarIds(rold.id, rcur.id, m)) return false;
      return rangeWithin(rold, rcur) && tnumIn(rold.varOff, rcur.varOff);
    case T.MAP_KEY: case T.MAP_VALUE: case T.MEM: case T.BUF: case T.TP_BUFFER:
      return regsEqualUpToVarOff(rold, rcur) && rangeWithin(rold, rcur) && tnumIn(rold.varOff, rcur.varOff)
        && checkIds(rold.id, rcur.id, m) && checkIds(rold.refObjId, rcur.refObjId, m);
    case T.PACKET_META: case T.PACKET:
      if (rold.range > rcur.range) return false;
      if (rold.off !== rcur.off) return false;
      if (!checkIds(rold.id, rcur.id, m)) return false;
      return rangeWithin(rold, rcur) && tnumIn(rold.varOff, rcur.varOff);
    case T.STACK:
      return regsExact(rold, rcur, m) && rold.frameno === rcur.frameno;
    case T.ARENA:
      return true;
    default:
      return regsExact(rold, rcur, m);
  }
}

const UNBOUND = ((): Reg => {
  const r = notInitReg();
  markUnknown(r);
  return r;
})();

function isStackAllMisc(f: FuncState, spi: number): boolean {
  for (let j = 0; j < REG_SIZE; j++) {
    const t = f.slotType[spi * REG_SIZE + j]!;
    if (t === STACK_MISC || t === STACK_INVALID) continue;
    return false;
  }
  return true;
}

function scalarRegForStack(f: FuncState, spi: number): Reg | null {
  if (isSpilledScalarReg64(f, spi)) return f.spilled[spi]!;
  if (isStackAllMisc(f, spi)) return UNBOUND;
  return null;
}

function stacksafe(old: FuncState, cur: FuncState, m: IdMap, exact: Exact): boolean {
  const oldTypes = old.slotType;
  const curTypes = cur.slotType;
  const curAlloc = cur.allocatedStack;
  const slots = old.allocatedStack / REG_SIZE;
  for (let spi = 0; spi < slots; spi++) {
    // scalar_reg_for_stack depends on the slot only: the kernel asks it at
    // every byte, tsbpf once per slot. Both answers can be non-null only at
    // the slot's first byte (an all-spill or all-misc old slot), where the
    // kernel then skips the slot's other bytes, as this does.
    let pairAsked = false;
    for (let k = 0; k < REG_SIZE; k++) {
      const i = spi * REG_SIZE + k;
      const ot = oldTypes[i]!;
      // only EXACT wants the same slot types: in a loop (RANGE_WITHIN) data bytes still
      // cover a spilled scalar (6.18.44; older 6.18s compared types for RANGE_WITHIN too)
      if (exact === 'exact' && (i >= curAlloc || ot !== curTypes[i])) return false;
      if (ot === STACK_INVALID || ot === STACK_MISC) continue;
      if (i >= curAlloc) return false;
      if (!pairAsked) {
        pairAsked = true;
        const oldReg = scalarRegForStack(old, spi);
        const curReg = oldReg === null ? null : scalarRegForStack(cur, spi);
        if (oldReg !== null && curReg !== null) {
          if (!regsafe(oldReg, curReg, m, exact)) return false;
          break;
        }
      }
      const ct = curTypes[i]!;
      if (ot !== ct) return false;
      if (k !== REG_SIZE - 1) continue;
      if (ot === STACK_SPILL && !regsafe(old.spilled[spi]!, cur.spilled[spi]!, m, exact)) return false;
      // dynptrs: the same kind, and slot of it, holding the same reference
      if (ot === STACK_DYNPTR) {
        const ro = old.spilled[spi]!;
        const rc = cur.spilled[spi]!;
        if (ro.dynptrType !== rc.dynptrType || ro.dynptrFirst !== rc.dynptrFirst || !checkIds(ro.refObjId, rc.refObjId, m)) return false;
      }
      // iterators: the same type and state holding the same reference; the depth only tells iterations apart
      if (ot === STACK_ITER) {
        const ro = old.spilled[spi]!;
        const rc = cur.spilled[spi]!;
        if (ro.type !== rc.type || ro.btfId !== rc.btfId || ro.iterState !== rc.iterState || !checkIds(ro.refObjId, rc.refObjId, m)) return false;
      }
    }
  }
  return true;
}

function refsafe(old: VState, cur: VState, m: IdMap): boolean {
  if (old.refs.length !== cur.refs.length) return false;
  if (old.activeLocks !== cur.activeLocks) return false;
  if (old.activeRcuLock !== cur.activeRcuLock) return false;
  if (!checkIds(old.activeLockId, cur.activeLockId, m) || old.activeLockPtr !== cur.activeLockPtr) return false;
  for (let i = 0; i < old.refs.length; i++) {
    if (!checkIds(old.refs[i]!.id, cur.refs[i]!.id, m) || old.refs[i]!.type !== cur.refs[i]!.type) return false;
    if (old.refs[i]!.type === 'lock' && old.refs[i]!.ptr !== cur.refs[i]!.ptr) return false;
  }
  return true;
}

function funcStatesEqual(env: Env, old: FuncState, cur: FuncState, insnIdx: number, m: IdMap, exact: Exact): boolean {
  const live = env.aux[insnIdx]!.liveRegsBefore;
  if (old.callbackDepth > cur.callbackDepth) return false;
  for (let i = 0; i < 11; i++) {
    if ((1 << i) & live && !regsafe(old.regs[i]!, cur.regs[i]!, m, exact)) return false;
  }
  return stacksafe(old, cur, m, exact);
}

const idmap = new IdMap();

/** states_equal. */
export function statesEqual(env: Env, old: VState, cur: VState, exact: Exact): boolean {
  if (old.curframe !== cur.curframe) return false;
  idmap.reset(env.idGen);
  if (old.speculative && !cur.speculative) return false;
  if (!refsafe(old, cur, idmap)) return false;
  for (let i = 0; i <= old.curframe; i++) {
    const idx = frameInsnIdx(old, i);
    if (old.frames[i]!.callsite !== cur.frames[i]!.callsite) return false;
    if (!funcStatesEqual(env, old.frames[i]!, cur.frames[i]!, idx, idmap, exact)) return false;
  }
  return true;
}

/** propagate_precision: precise scalars of an equivalent old state become precise in cur's parents. */
function propagatePrecision(env: Env, old: VState, cur: VState): boolean {
  const bt = env.bt;
  bt.reset();
  let any = false;
  for (let fr = old.curframe; fr >= 0; fr--) {
    const f = old.frames[fr]!;
    const names: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = f.regs[i]!;
      if (r.type !== T.SCALAR || !r.precise) continue;
      names.push(`r${i}`);
      bt.setFrameReg(fr, i);
    }
    for (let i = 0; i < f.allocatedStack / REG_SIZE; i++) {
      if (!isSpilledReg(f, i)) continue;
      const r = f.spilled[i]!;
      if (r.type !== T.SCALAR || !r.precise) continue;
      names.push(`fp${(-i - 1) * REG_SIZE}`);
      bt.setFrameSlot(fr, i);
    }
    if (names.length) {
      any = true;
      if (env.logLevel & 2) env.verbose(`frame ${fr}: propagating ${names.join(',')}\n`);
    }
  }
  if (!any) return false;
  const changed = markChainPrecisionFrom(env, cur, -1);
  bt.reset();
  return changed;
}

function statesMaybeLooping(old: VState, cur: VState): boolean {
  const fr = cur.curframe;
  if (old.curframe !== fr) return false;
  const fo = old.frames[fr]!;
  const fc = cur.frames[fr]!;
  for (let i = 0; i < 11; i++) {
    const a = fo.regs[i]!;
    const b = fc.regs[i]!;
    if (!regsEqualUpToId(a, b) || a.id !== b.id || a.addConst !== b.addConst || a.delta !== b.delta || a.refObjId !== b.refObjId) return false;
  }
  return true;
}

/** same_callsites: the same chain of calls. */
export function sameCallsites(a: VState, b: VState): boolean {
  if (a.curframe !== b.curframe) return false;
  for (let fr = a.curframe; fr >= 0; fr--) if (a.frames[fr]!.callsite !== b.frames[fr]!.callsite) return false;
  return true;
}

function bucketKey(env: Env, idx: number): number {
  const callsite = env.cur.frames[env.cur.curframe]!.callsite;
  return ((idx ^ callsite) >>> 0) % env.len;
}

function cleanFuncState(env: Env, f: FuncState, ip: number): void {
  const live = env.aux[ip]!.liveRegsBefore;
  for (let i = 0; i < 10; i++) if (!(live & (1 << i))) markNotInit(f.regs[i]!);
  for (let spi = 0; spi < f.allocatedStack / REG_SIZE; spi++) {
    if (!env.liveness.alive(f.frameno, spi)) {
      markNotInit(f.spilled[spi]!);
      for (let j = 0; j < REG_SIZE; j++) f.slotType[spi * REG_SIZE + j] = STACK_INVALID;
    }
  }
}

function cleanLiveStates(env: Env, insn: number, cur: VState): void {
  const list = env.explored.get(bucketKey(env, insn));
  if (!list) return;
  for (const sl of list) {
    const st = sl.state;
    if (st.branches) continue;
    if (st.insnIdx !== insn || !sameCallsites(st, cur)) continue;
    if (st.cleaned) continue;
    if (incompleteReadMarks(env, st)) continue;
    // clean_verifier_state
    env.liveness.queryInit(st);
    st.cleaned = true;
    for (let i = 0; i <= st.curframe; i++) cleanFuncState(env, st.frames[i]!, frameInsnIdx(st, i));
  }
}

/** find_prev_entry: a checkpoint at `insnIdx` on the current path (a loop head). */
export function findPrevEntry(env: Env, cur: VState, insnIdx: number): VState | null {
  const list = env.explored.get(bucketKey(env, insnIdx));
  if (!list) return null;
  for (const sl of list) {
    const st = sl.state;
    if (st.insnIdx === insnIdx && st.branches && sameCallsites(st, cur) && st.dfsDepth < cur.dfsDepth) return st;
  }
  return null;
}

/** widen_imprecise_scalars: forget imprecise scalars that changed since the previous loop iteration. */
export function widenImpreciseScalars(old: VState, cur: VState): void {
  const m = new IdMap();
  const widen = (ro: Reg, rc: Reg): void => {
    if (ro.type !== T.SCALAR || ro.type !== rc.type) return;
    if (ro.precise || rc.precise || regsExact(ro, rc, m)) return;
    markUnknown(rc);
  };
  for (let fr = old.curframe; fr >= 0; fr--) {
    const fo = old.frames[fr]!;
    const fc = cur.frames[fr]!;
    for (let i = 0; i < 11; i++) widen(fo.regs[i]!, fc.regs[i]!);
    const n = Math.min(fo.allocatedStack, fc.allocatedStack) / REG_SIZE;
    for (let i = 0; i < n; i++) {
      if (!isSpilledReg(fo, i) || !isSpilledReg(fc, i)) continue;
      widen(fo.spilled[i]!, fc.spilled[i]!);
    }
  }
}

/**
 * is_state_visited: returns true when the current state is covered by an
 * explored one (prune), otherwise may record it as a new checkpoint.
 */
export function isStateVisited(env: Env, insnIdx: number): boolean {
  const cur = env.cur;
  const force = env.testStateFreq || env.aux[insnIdx]!.forceCheckpoint || cur.history.length > 40;
  let addNew = force;
  if (env.jmpsProcessed - env.prevJmpsProcessed >= 2 && env.insnProcessed - env.prevInsnProcessed >= 8) addNew = true;
  cleanLiveStates(env, insnIdx, cur);
  const key = bucketKey(env, insnIdx);
  let list = env.explored.get(key);
  if (!list) {
    list = [];
    env.explored.set(key, list);
  }
  let statesCnt = 0;
  for (let k = 0; k < list.length; k++) {
    const sl = list[k]!;
    statesCnt++;
    if (sl.state.insnIdx !== insnIdx) continue;
    let loop = false;
    let hit = false;
    if (sl.state.branches) {
      const frame = sl.state.frames[sl.state.curframe]!;
      let skipInf = false;
      if (frame.inAsyncCallbackFn && frame.asyncEntryCnt !== cur.frames[cur.curframe]!.asyncEntryCnt) {
        skipInf = true;
      } else if (env.aux[insnIdx]!.iterNext) {
        // an open-coded iterator's `_next`: an equivalent state with the iterator still active proves the loop converges
        if (statesEqual(env, sl.state, cur, 'range_within') && iterNextArgActive(cur)) {
          loop = true;
          hit = true;
        } else {
          skipInf = true;
        }
      } else if (isMayGoto(env.insns[insnIdx]!) && sl.state.mayGotoDepth !== cur.mayGotoDepth
        && statesEqual(env, sl.state, cur, 'range_within')) {
        loop = true;
        hit = true;
      } else if (env.aux[insnIdx]!.callsCallback) {
        if (statesEqual(env, sl.state, cur, 'range_within')) {
          loop = true;
          hit = true;
        } else {
          skipInf = true;
        }
      }
      if (!hit) {
        if (!skipInf && statesMaybeLooping(sl.state, cur) && statesEqual(env, sl.state, cur, 'exact')
          && !iterActiveDepthsDiffer(sl.state, cur) && sl.state.mayGotoDepth === cur.mayGotoDepth && sl.state.callbackUnrollDepth === cur.callbackUnrollDepth) {
          env.verboseLinfo(insnIdx, '; ');
          env.note(`infinite loop detected at insn ${insnIdx}`);
          env.verbose('cur state:');
          printVerifierState(env, cur, cur.curframe, true);
          env.verbose('old state:');
          printVerifierState(env, sl.state, cur.curframe, true);
          env.abort('EINVAL');
        }
        if (!force && env.jmpsProcessed - env.prevJmpsProcessed < 20 && env.insnProcessed - env.prevInsnProcessed < 100) addNew = false;
      }
    } else {
      loop = incompleteReadMarks(env, sl.state);
      hit = statesEqual(env, sl.state, cur, loop ? 'range_within' : 'not_exact');
    }
    if (hit) {
      sl.hitCnt++;
      if (env.aux[env.insnIdx]!.jmpPoint) pushJmpHistory(env, cur, 0, null);
      propagatePrecision(env, sl.state, cur);
      if (loop) {
        const copy = copyVState(cur);
        copy.equalState = sl.state;
        copy.insnIdx = insnIdx;
        addSccBackedge(env, sl.state, { state: copy });
      }
      return true;
    }
    // miss
    if (addNew) sl.missCnt++;
    const n = env.aux[insnIdx]!.forceCheckpoint && sl.state.branches > 0 ? 64 : 3;
    if (sl.missCnt > sl.hitCnt * n + n) {
      list.splice(k, 1);
      k--;
      env.freeListSize++;
      env.exploredSize--;
      sl.inFreeList = true;
      maybeFreeState(env, sl.state);
    }
  }
  if (env.maxStatesPerInsn < statesCnt) env.maxStatesPerInsn = statesCnt;
  if (!addNew) return false;
  env.totalStates++;
  env.exploredSize++;
  updatePeakStates(env);
  env.prevJmpsProcessed = env.jmpsProcessed;
  env.prevInsnProcessed = env.insnProcessed;
  markAllScalarsImprecise(cur);
  // (no clear_singular_ids in 6.18: checkpoints keep ids nobody else shares)
  const snapshot = copyVStateLongLived(cur);
  snapshot.insnIdx = insnIdx;
  const entry: StateListEntry = { state: snapshot, missCnt: 0, hitCnt: 0, inFreeList: false, freed: false };
  snapshot.listEntry = entry;
  list.unshift(entry);
  maybeEnterScc(env, snapshot);
  cur.parent = snapshot;
  cur.firstInsnIdx = insnIdx;
  cur.dfsDepth = snapshot.dfsDepth + 1;
  cur.history = [];
  env.curHistEnt = -1;
  return false;
}

