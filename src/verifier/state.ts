/**
 * Verifier states: per-function register files and stacks, the call chain,
 * acquired references, and the bookkeeping the search needs (parent
 * checkpoint, branch count, jump history for precision backtracking).
 * Mirrors `struct bpf_func_state` / `struct bpf_verifier_state`.
 */
import type { Reg } from './reg.js';
import { copyReg, copyRegLongLived, markKnownZero, markNotInit, notInitReg, T } from './reg.js';
import { Limits } from '../isa/uapi.js';

/** Stack byte kinds (`enum bpf_stack_slot_type`). */
export const STACK_INVALID = 0;
export const STACK_SPILL = 1;
export const STACK_MISC = 2;
export const STACK_ZERO = 3;
export const STACK_DYNPTR = 4;
/** A byte of an open-coded iterator (iters.ts). */
export const STACK_ITER = 5;

export const SLOT_CHARS = ['?', 'r', 'm', '0', 'd', 'i'];

/** Bytes of one stack frame. */
export const MAX_BPF_STACK = Limits.STACK;
export const REG_SIZE = 8;

/** One function frame. */
export interface FuncState {
  regs: Reg[];
  /** Instruction that called this frame (-1 for the main function). */
  callsite: number;
  frameno: number;
  subprogno: number;
  /** Bytes of stack in use (multiple of 8). */
  allocatedStack: number;
  /** 8 bytes per slot, slot `spi` covers fp-(spi+1)*8 .. fp-spi*8-1; index `spi*8 + j` as the kernel's slot_type[j]. */
  slotType: Uint8Array;
  /** Spilled register of each slot (or a NOT_INIT register). */
  spilled: Reg[];
  inCallbackFn: boolean;
  inAsyncCallbackFn: boolean;
  callbackRetMin: number;
  callbackRetMax: number;
  callbackDepth: number;
  asyncEntryCnt: number;
}

/** An acquired reference (`struct bpf_reference_state`). */
export interface RefState {
  id: number;
  insnIdx: number;
  type: 'ptr' | 'lock';
  /** Locks: the map whose value holds the lock. */
  ptr?: unknown;
}

/** One entry of a state's jump history. */
export interface HistEntry {
  idx: number;
  prevIdx: number;
  /** INSN_F_* flags: stack access frame/spi, src/dst reg stack. */
  flags: number;
  /** Packed linked registers (see precision.ts). */
  linked: LinkedReg[] | null;
}

export interface LinkedReg {
  frameno: number;
  /** Register number or stack slot index. */
  n: number;
  isReg: boolean;
}

export const INSN_F_STACK_ACCESS = 1 << 3;
export const INSN_F_DST_REG_STACK = 1 << 13;
export const INSN_F_SRC_REG_STACK = 1 << 14;

/** A verifier state: the whole call chain at one instruction. */
export interface VState {
  frames: FuncState[];
  curframe: number;
  refs: RefState[];
  activeLocks: number;
  activeLockId: number;
  /** bpf_rcu_read_lock() sections entered (`active_rcu_locks`). */
  activeRcuLock: number;
  /** The map whose value holds the lock taken (`active_lock_ptr`). */
  activeLockPtr: unknown;
  speculative: boolean;
  branches: number;
  parent: VState | null;
  insnIdx: number;
  firstInsnIdx: number;
  lastInsnIdx: number;
  history: HistEntry[];
  dfsDepth: number;
  callbackUnrollDepth: number;
  mayGotoDepth: number;
  equalState: VState | null;
  cleaned: boolean;
  /** For a checkpoint: its entry in the explored-states list (for freeing evicted states). */
  listEntry: ListEntryRef | null;
}

/** What a checkpoint knows about its explored-states list entry. */
export interface ListEntryRef {
  inFreeList: boolean;
  freed: boolean;
}

export function newFuncState(callsite: number, frameno: number, subprogno: number): FuncState {
  const regs: Reg[] = [];
  for (let i = 0; i < 11; i++) regs.push(notInitReg());
  const fp = regs[10]!;
  fp.type = T.STACK;
  markKnownZero(fp);
  fp.frameno = frameno;
  return {
    regs, callsite, frameno, subprogno, allocatedStack: 0, slotType: new Uint8Array(0), spilled: [],
    inCallbackFn: false, inAsyncCallbackFn: false, callbackRetMin: 0, callbackRetMax: 0, callbackDepth: 0, asyncEntryCnt: 0,
  };
}

export function copyFuncState(f: FuncState): FuncState {
  return {
    regs: f.regs.map(copyReg),
    callsite: f.callsite,
    frameno: f.frameno,
    subprogno: f.subprogno,
    allocatedStack: f.allocatedStack,
    slotType: f.slotType.slice(),
    spilled: f.spilled.map(copyReg),
    inCallbackFn: f.inCallbackFn,
    inAsyncCallbackFn: f.inAsyncCallbackFn,
    callbackRetMin: f.callbackRetMin,
    callbackRetMax: f.callbackRetMax,
    callbackDepth: f.callbackDepth,
    asyncEntryCnt: f.asyncEntryCnt,
  };
}

function copyFuncStateLongLived(f: FuncState): FuncState {
  return {
    regs: f.regs.map(copyRegLongLived),
    callsite: f.callsite,
    frameno: f.frameno,
    subprogno: f.subprogno,
    allocatedStack: f.allocatedStack,
    slotType: f.slotType.slice(),
    spilled: f.spilled.map(copyRegLongLived),
    inCallbackFn: f.inCallbackFn,
    inAsyncCallbackFn: f.inAsyncCallbackFn,
    callbackRetMin: f.callbackRetMin,
    callbackRetMax: f.callbackRetMax,
    callbackDepth: f.callbackDepth,
    asyncEntryCnt: f.asyncEntryCnt,
  };
}

/** Grows the frame's stack to at least `size` bytes (rounded to 8). */
export function growStack(f: FuncState, size: number): void {
  const n = Math.ceil(size / REG_SIZE) * REG_SIZE;
  if (n <= f.allocatedStack) return;
  const st = new Uint8Array(n);
  st.set(f.slotType);
  f.slotType = st;
  for (let i = f.allocatedStack / REG_SIZE; i < n / REG_SIZE; i++) f.spilled.push(notInitReg());
  f.allocatedStack = n;
}

export function newVState(): VState {
  return {
    frames: [], curframe: 0, refs: [], activeLocks: 0, activeLockId: 0, activeLockPtr: null, activeRcuLock: 0, speculative: false, branches: 1,
    parent: null, insnIdx: 0, firstInsnIdx: 0, lastInsnIdx: -1, history: [], dfsDepth: 0, callbackUnrollDepth: 0,
    mayGotoDepth: 0, equalState: null, cleaned: false, listEntry: null,
  };
}

/** `copy_verifier_state`. */
export function copyVState(s: VState): VState {
  return {
    frames: s.frames.slice(0, s.curframe + 1).map(copyFuncState),
    curframe: s.curframe,
    refs: s.refs.map((r) => ({ ...r })),
    activeLocks: s.activeLocks,
    activeRcuLock: s.activeRcuLock,
    activeLockPtr: s.activeLockPtr,
    activeLockId: s.activeLockId,
    speculative: s.speculative,
    branches: s.branches,
    parent: s.parent,
    insnIdx: s.insnIdx,
    firstInsnIdx: s.firstInsnIdx,
    lastInsnIdx: s.lastInsnIdx,
    history: s.history.slice(),
    dfsDepth: s.dfsDepth,
    callbackUnrollDepth: s.callbackUnrollDepth,
    mayGotoDepth: s.mayGotoDepth,
    equalState: s.equalState,
    cleaned: s.cleaned,
    listEntry: null,
  };
}

/** {@link copyVState} for checkpoints, which live long. */
export function copyVStateLongLived(s: VState): VState {
  return {
    frames: s.frames.slice(0, s.curframe + 1).map(copyFuncStateLongLived),
    curframe: s.curframe,
    refs: s.refs.map((r) => ({ ...r })),
    activeLocks: s.activeLocks,
    activeRcuLock: s.activeRcuLock,
    activeLockPtr: s.activeLockPtr,
    activeLockId: s.activeLockId,
    speculative: s.speculative,
    branches: s.branches,
    parent: s.parent,
    insnIdx: s.insnIdx,
    firstInsnIdx: s.firstInsnIdx,
    lastInsnIdx: s.lastInsnIdx,
    history: s.history.slice(),
    dfsDepth: s.dfsDepth,
    callbackUnrollDepth: s.callbackUnrollDepth,
    mayGotoDepth: s.mayGotoDepth,
    equalState: s.equalState,
    cleaned: s.cleaned,
    listEntry: null,
  };
}

/** Whether the slot holds a spilled register (its last byte is STACK_SPILL). */
export function isSpilledReg(f: FuncState, spi: number): boolean {
  return f.slotType[spi * REG_SIZE + REG_SIZE - 1] === STACK_SPILL;
}

export function isSpilledScalarReg(f: FuncState, spi: number): boolean {
  return isSpilledReg(f, spi) && f.spilled[spi]!.type === T.SCALAR;
}

/** A full 8-byte scalar spill. */
export function isSpilledScalarReg64(f: FuncState, spi: number): boolean {
  if (!isSpilledScalarReg(f, spi)) return false;
  for (let j = 0; j < REG_SIZE; j++) if (f.slotType[spi * REG_SIZE + j] !== STACK_SPILL) return false;
  return true;
}

/** Every register of every frame, then every spilled register (bpf_for_each_reg_in_vstate). */
export function forEachReg(s: VState, fn: (r: Reg, frame: FuncState) => void): void {
  for (let i = 0; i <= s.curframe; i++) {
    const f = s.frames[i]!;
    for (const r of f.regs) fn(r, f);
    for (let spi = 0; spi < f.allocatedStack / REG_SIZE; spi++) {
      if (isSpilledReg(f, spi)) fn(f.spilled[spi]!, f);
    }
  }
}

export function resetRegNotInit(r: Reg): void {
  markNotInit(r);
}
