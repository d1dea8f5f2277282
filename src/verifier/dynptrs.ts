/**
 * Dynamic pointers (`struct bpf_dynptr`): a pointer to memory with its
 * size, kept in two stack slots (STACK_DYNPTR) by the helpers and kfuncs
 * that create it (`bpf_dynptr_from_mem`, `bpf_ringbuf_reserve_dynptr`,
 * `bpf_dynptr_from_skb/xdp`, `bpf_dynptr_clone`) or handed to a callback
 * as a pointer to a const dynptr (CONST_PTR_TO_DYNPTR, `dynptr_ptr`). A
 * ring buffer dynptr holds a reference until it is submitted or discarded;
 * slices (`bpf_dynptr_data`, `bpf_dynptr_slice`) die with their dynptr.
 * As Linux 6.18's process_dynptr_func and the stack-slot functions around
 * it.
 */
import type { Env } from './env.js';
import type { Reg } from './reg.js';
import { F, markKnownZero, markNotInit, markUnknown, T } from './reg.js';
import type { FuncState } from './state.js';
import { forEachReg, REG_SIZE, STACK_DYNPTR, STACK_INVALID } from './state.js';
import { checkMemAccess, funcOf } from './mem.js';
import { acquireReference, releaseReference } from './refs.js';
import { markStackRead, markStackWrite } from './liveness.js';
import { stackSlotObjSpi } from './iters.js';
import { DynptrType } from '../isa/uapi.js';

/** `enum bpf_dynptr_type` (isa/uapi.ts). */
export const Dynptr = DynptrType;

const TYPE_NAMES = ['<invalid>', 'local', 'ringbuf', 'skb', 'xdp', 'skb_meta'];

/** `dynptr_type_str`. */
export function dynptrTypeStr(type: number): string {
  return TYPE_NAMES[type] ?? '<invalid>';
}

/** The register type flag of a dynptr type's slices (`get_dynptr_type_flag`). */
export function dynptrTypeFlag(type: number): number {
  switch (type) {
    case Dynptr.LOCAL: return F.DYNPTR_LOCAL;
    case Dynptr.RINGBUF: return F.DYNPTR_RINGBUF;
    case Dynptr.SKB: return F.DYNPTR_SKB;
    case Dynptr.XDP: return F.DYNPTR_XDP;
    case Dynptr.SKB_META: return F.DYNPTR_SKB_META;
    default: return 0;
  }
}

/** Every dynptr type flag (DYNPTR_TYPE_FLAG_MASK). */
export const DYNPTR_FLAGS = F.DYNPTR_LOCAL | F.DYNPTR_RINGBUF | F.DYNPTR_SKB | F.DYNPTR_XDP | F.DYNPTR_SKB_META;

/** `reg_is_dynptr_slice_pkt`: a slice of packet data, gone when the packet may change. */
export function isDynptrSlicePkt(r: Reg): boolean {
  return (r.type & 0xff) === T.MEM && (r.type & (F.DYNPTR_SKB | F.DYNPTR_XDP | F.DYNPTR_SKB_META)) !== 0;
}

/** `dynptr_type_refcounted`: ring buffer records must be submitted or discarded. */
function refcounted(type: number): boolean {
  return type === Dynptr.RINGBUF;
}

const SLOTS = 2;

/** dynptr_get_spi: the dynptr's first slot, 'range' when not allocated yet, 'bad' (logged) otherwise. */
function getSpi(env: Env, reg: Reg): number | 'range' | 'bad' {
  return stackSlotObjSpi(env, reg, 'dynptr', SLOTS);
}

/** __mark_dynptr_reg: both slots (and a callback's argument) say the type, which is first, and the dynptr's id. */
function markDynptrReg(r: Reg, type: number, first: boolean, id: number): void {
  markKnownZero(r);
  r.type = T.DYNPTR;
  r.id = id;
  r.dynptrId = id;
  r.dynptrType = type;
  r.dynptrFirst = first;
}

/** mark_dynptr_cb_reg: a callback's pointer to a const dynptr of `type`. */
export function markDynptrCbReg(env: Env, r: Reg, type: number): void {
  markDynptrReg(r, type, true, env.nextId());
}

/** invalidate_dynptr: both slots become plain uninitialised stack. */
function invalidateDynptr(env: Env, f: FuncState, spi: number): void {
  for (const s of [spi, spi - 1]) {
    f.slotType.fill(STACK_INVALID, s * REG_SIZE, (s + 1) * REG_SIZE);
    markNotInit(f.spilled[s]!);
    markStackWrite(env, f.frameno, s);
  }
}

/**
 * destroy_if_dynptr_stack_slot: a write over part of a dynptr destroys it
 * and its slices; a ring buffer dynptr cannot be overwritten (its record
 * would never be released).
 */
export function destroyIfDynptrStackSlot(env: Env, f: FuncState, spi0: number): void {
  let spi = spi0;
  if (spi < 0 || spi >= f.allocatedStack / REG_SIZE || f.slotType[spi * REG_SIZE] !== STACK_DYNPTR) return;
  if (!f.spilled[spi]!.dynptrFirst) spi++;
  const main = f.spilled[spi]!;
  if (refcounted(main.dynptrType)) env.fail('cannot overwrite referenced dynptr', 'EINVAL');
  env.markStackSlotScratched(spi);
  env.markStackSlotScratched(spi - 1);
  f.slotType.fill(STACK_INVALID, (spi - 1) * REG_SIZE, (spi + 1) * REG_SIZE);
  const id = main.id;
  forEachReg(env.cur, (r) => {
    // dynptr slices are PTR_TO_MEM (or NULL), exactly
    if ((r.type === T.MEM || r.type === (T.MEM | F.MAYBE_NULL)) && r.dynptrId === id) markUnknown(r);
  });
  markNotInit(f.spilled[spi]!);
  markNotInit(f.spilled[spi - 1]!);
  markStackWrite(env, f.frameno, spi);
  markStackWrite(env, f.frameno, spi - 1);
}

/** mark_stack_slots_dynptr: a new dynptr of `type` in the slots `reg` points to (a clone shares its parent's reference). */
function markStackSlotsDynptr(env: Env, reg: Reg, type: number, cloneRefObjId: number): void {
  const f = funcOf(env, reg);
  const spi = getSpi(env, reg);
  if (typeof spi !== 'number') env.fail('tsbpf: dynptr slots outside the stack after their write', 'EFAULT');
  destroyIfDynptrStackSlot(env, f, spi);
  destroyIfDynptrStackSlot(env, f, spi - 1);
  f.slotType.fill(STACK_DYNPTR, (spi - 1) * REG_SIZE, (spi + 1) * REG_SIZE);
  const id = env.nextId();
  markDynptrReg(f.spilled[spi]!, type, true, id);
  markDynptrReg(f.spilled[spi - 1]!, type, false, id);
  if (refcounted(type)) {
    const ref = cloneRefObjId || acquireReference(env, env.insnIdx);
    f.spilled[spi]!.refObjId = ref;
    f.spilled[spi - 1]!.refObjId = ref;
  }
  markStackWrite(env, f.frameno, spi);
  markStackWrite(env, f.frameno, spi - 1);
}

/**
 * unmark_stack_slots_dynptr (a release helper's argument): a ring buffer
 * dynptr releases its record, which ends its slices and every clone.
 */
export function unmarkStackSlotsDynptr(env: Env, reg: Reg): void {
  const f = funcOf(env, reg);
  const spi = getSpi(env, reg);
  if (typeof spi !== 'number') return;
  const main = f.spilled[spi]!;
  if (!refcounted(main.dynptrType)) {
    invalidateDynptr(env, f, spi);
    return;
  }
  const ref = main.refObjId;
  releaseReference(env, ref);
  for (let i = 1; i < f.allocatedStack / REG_SIZE; i++) {
    const s = f.spilled[i]!;
    if (s.refObjId !== ref) continue;
    if (f.slotType[i * REG_SIZE] !== STACK_DYNPTR) env.fail('verifier internal error: misconfigured ref_obj_id', 'EFAULT');
    if (s.dynptrFirst) invalidateDynptr(env, f, i);
  }
}

/** is_dynptr_reg_valid_uninit. */
function validUninit(env: Env, reg: Reg): boolean {
  if (reg.type === T.DYNPTR) return false;
  return getSpi(env, reg) !== 'bad';
}

/** is_dynptr_reg_valid_init. */
function validInit(env: Env, reg: Reg): boolean {
  if (reg.type === T.DYNPTR) return true;
  const spi = getSpi(env, reg);
  if (typeof spi !== 'number') return false;
  const f = funcOf(env, reg);
  if (!f.spilled[spi]!.dynptrFirst) return false;
  for (let j = (spi - 1) * REG_SIZE; j < (spi + 1) * REG_SIZE; j++) if (f.slotType[j] !== STACK_DYNPTR) return false;
  return true;
}

/** The main slot's register of an initialised dynptr argument (the argument itself for a const dynptr). */
function dynptrState(env: Env, reg: Reg): Reg | null {
  if (reg.type === T.DYNPTR) return reg;
  const spi = getSpi(env, reg);
  return typeof spi === 'number' ? funcOf(env, reg).spilled[spi]! : null;
}

/** What a call learns of an initialised dynptr argument: its id, type and reference. */
export interface DynptrInfo {
  id: number;
  type: number;
  refObjId: number;
}

/** How a helper or kfunc takes its dynptr argument. */
export interface DynptrArg {
  /** MEM_UNINIT: the call creates a dynptr of `type` there. */
  uninit: boolean;
  /** MEM_RDONLY: the call neither changes nor destroys the dynptr (a const one is fine). */
  rdonly: boolean;
  /** The dynptr type the call wants or creates (0: any). */
  type: number;
  /** `bpf_dynptr_clone`: the reference the new dynptr shares. */
  cloneRefObjId?: number;
}

/**
 * process_dynptr_func: argument register `regno` (argument `regno - 1`)
 * as a dynptr. Returns the initialised dynptr's id, type and reference,
 * or null for a created one.
 */
export function processDynptrFunc(env: Env, regno: number, arg: DynptrArg): DynptrInfo | null {
  const reg = env.regs[regno]!;
  if (reg.type !== T.STACK && reg.type !== T.DYNPTR) env.fail(`arg#${regno - 1} expected pointer to stack or const struct bpf_dynptr`, 'EINVAL');
  if (arg.uninit) {
    if (!validUninit(env, reg)) env.fail('Dynptr has to be an uninitialized dynptr', 'EINVAL');
    for (let i = 0; i < SLOTS * REG_SIZE; i += REG_SIZE) checkMemAccess(env, env.insnIdx, regno, i, REG_SIZE, 'write', -1, false, false);
    markStackSlotsDynptr(env, reg, arg.type, arg.cloneRefObjId ?? 0);
    return null;
  }
  if (reg.type === T.DYNPTR && !arg.rdonly) env.fail('cannot pass pointer to const bpf_dynptr, the helper mutates it', 'EINVAL');
  if (!validInit(env, reg)) env.fail(`Expected an initialized dynptr as arg #${regno - 1}`, 'EINVAL');
  const state = dynptrState(env, reg)!;
  if (arg.type && state.dynptrType !== arg.type) env.fail(`Expected a dynptr of type ${dynptrTypeStr(arg.type)} as arg #${regno - 1}`, 'EINVAL');
  // mark_dynptr_read (a const dynptr was read with its register)
  if (reg.type === T.STACK) {
    const spi = getSpi(env, reg) as number;
    for (const s of [spi, spi - 1]) {
      markStackRead(env, reg.frameno, s);
      env.markStackSlotScratched(s);
    }
  }
  return { id: state.id, type: state.dynptrType, refObjId: state.refObjId };
}

/** Whether a release helper's dynptr argument holds a reference (before process_dynptr_func); logs nothing. */
export function dynptrArgAcquired(env: Env, reg: Reg): boolean {
  const spi = getSpi(env, reg);
  return typeof spi === 'number' && funcOf(env, reg).spilled[spi]!.refObjId !== 0;
}

/** The log's view of a dynptr's main slot (`dynptr_ringbuf(id=1,ref_id=2,dynptr_id=1)`). */
export function dynptrSlotStr(r: Reg): string {
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.refObjId) parts.push(`ref_id=${r.refObjId}`);
  if (r.dynptrId) parts.push(`dynptr_id=${r.dynptrId}`);
  return `dynptr_${dynptrTypeStr(r.dynptrType)}(${parts.join(',')})`;
}
