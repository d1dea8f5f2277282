/**
 * The program's own allocated objects and the lists and rbtrees that own
 * them, as check_kfunc_call and check_kfunc_args treat them:
 * `bpf_obj_new` gives an owning reference to a struct of the program's
 * BTF, `bpf_obj_drop` releases it, pushing it into a list or rbtree turns
 * every copy into a non-owning reference that lives until the lock
 * protecting the root is released, and popping or removing gives an owning
 * reference back. A list head or rbtree root is used only with the spin
 * lock of the value (or object) that holds it taken.
 */
import type { Env } from './env.js';
import type { Reg } from './reg.js';
import { baseType, F, markKnownZero, markUnknown, T } from './reg.js';
import type { BtfField, FieldType } from './btf-record.js';
import { fieldTypeName, recordFind, structMeta } from './btf-record.js';
import { btfStructIdsMatch, isStruct, typeById } from './kbtf.js';
import { forEachReg } from './state.js';
import type { FuncState } from './state.js';
import { syncCallbackRest } from './calls.js';
import { regBtfRecord } from './kptrs.js';
import { tnumIsConst } from './tnum.js';
import { WALK_FLAGS } from './btf-access.js';

/** The identity of the object a lock belongs to: the map (by index), or the program's BTF for allocated objects. */
export const LOCAL_LOCK_OWNER = 'local kptr btf';

/** Whether the register is an allocated object (`type_is_ptr_alloc_obj`; not one an RCU section's end made untrusted). */
export function isAllocObj(reg: Reg): boolean {
  return baseType(reg.type) === T.BTF_ID && (reg.type & F.ALLOC) !== 0 && (reg.type & F.UNTRUSTED) === 0;
}

/** `type_is_non_owning_ref`. */
export function isNonOwningRef(reg: Reg): boolean {
  return isAllocObj(reg) && (reg.type & F.NON_OWN) !== 0;
}

/** check_reg_allocation_locked: the spin lock of the value or object `reg` points into is held. */
function allocationLocked(env: Env, reg: Reg, mapIdentity: (r: Reg) => unknown): boolean {
  const cur = env.cur;
  if (!cur.activeLocks) return false;
  const owner = reg.type === T.MAP_VALUE ? mapIdentity(reg) : LOCAL_LOCK_OWNER;
  return cur.refs.some((r) => r.type === 'lock' && r.id === reg.id && r.ptr === owner);
}

/**
 * KF_ARG_PTR_TO_LIST_HEAD / KF_ARG_PTR_TO_RB_ROOT: a map value or an owned
 * object whose record has a root of `type` at the pointer's constant
 * offset, its lock held.
 */
export function processGraphRootArg(env: Env, type: FieldType, i: number, regno: number, mapIdentity: (r: Reg) => unknown): BtfField {
  const reg = env.regs[regno]!;
  if (reg.type !== T.MAP_VALUE && reg.type !== (T.BTF_ID | F.ALLOC)) env.fail(`arg#${i} expected pointer to map value or allocated object`, 'EINVAL');
  if (reg.type !== T.MAP_VALUE && !reg.refObjId) env.fail('allocated object must be referenced', 'EINVAL');
  const name = fieldTypeName(type);
  if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} doesn't have constant offset. ${name} has to be at the constant offset`, 'EINVAL');
  const rec = regBtfRecord(env, reg);
  const off = reg.off + Number(reg.varOff.value);
  const field = recordFind(rec, off, (t) => t === type);
  if (!field) env.fail(`${name} not found at offset=${off}`, 'EINVAL');
  if (!allocationLocked(env, reg, mapIdentity)) env.fail(`bpf_spin_lock at off=${rec!.spinLockOff} must be held for ${name}`, 'EINVAL');
  return field;
}

/**
 * KF_ARG_PTR_TO_LIST_NODE / KF_ARG_PTR_TO_RB_NODE: the node of an object of
 * the type the root holds, at the node's offset. `owning`: the kfunc takes
 * ownership (push, add); else a non-owning or refcounted reference will do.
 */
export function processGraphNodeArg(env: Env, name: string, type: FieldType, i: number, regno: number, root: BtfField | null,
  owning: boolean, inRbtreeCb: boolean): void {
  const reg = env.regs[regno]!;
  if (owning) {
    if (reg.type !== (T.BTF_ID | F.ALLOC)) env.fail(`arg#${i} expected pointer to allocated object`, 'EINVAL');
    if (!reg.refObjId) env.fail('allocated object must be referenced', 'EINVAL');
  } else {
    if (!isNonOwningRef(reg) && !reg.refObjId) env.fail(`${name} can only take non-owning or refcounted bpf_rb_node pointer`, 'EINVAL');
    if (inRbtreeCb) env.fail(`${name} not allowed in rbtree cb`, 'EINVAL');
  }
  const nodeName = fieldTypeName(type);
  if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} doesn't have constant offset. ${nodeName} has to be at the constant offset`, 'EINVAL');
  const off = reg.off + Number(reg.varOff.value);
  if (!recordFind(regBtfRecord(env, reg), off, (t) => t === type)) env.fail(`${nodeName} not found at offset=${off}`, 'EINVAL');
  if (!root?.graphRoot) env.fail(`verifier internal error: ${nodeName} arg without its root`, 'EFAULT');
  const g = root.graphRoot;
  const btf = env.progBtf!;
  const rootName = fieldTypeName(root.type);
  if (!isAllocObj(reg) || !btfStructIdsMatch(btf, reg.btfId, 0, g.valueBtfId, true, WALK_FLAGS, (m) => env.verbose(m))) {
    env.fail(`operation on ${rootName} expects arg#1 ${nodeName} at offset=${g.nodeOffset} in struct ${g.valueName}, but arg is at offset=${off} in struct ${typeById(btf, reg.btfId).name}`, 'EINVAL');
  }
  if (off !== g.nodeOffset) env.fail(`arg#1 offset=${off}, but expected ${nodeName} at offset=${g.nodeOffset} in struct ${g.valueName}`, 'EINVAL');
}

/**
 * KF_ARG_PTR_TO_ALLOC_BTF_ID (`bpf_obj_drop`, `bpf_percpu_obj_drop`): an
 * owned object of the matching kind.
 */
export function processAllocArg(env: Env, name: string, i: number, regno: number): void {
  const reg = env.regs[regno]!;
  const percpuDrop = name.startsWith('bpf_percpu_obj_drop');
  if (reg.type === (T.BTF_ID | F.ALLOC)) {
    if (percpuDrop) env.fail(`arg#${i} expected for bpf_obj_drop_impl()`, 'EINVAL');
  } else if (reg.type === (T.BTF_ID | F.ALLOC | F.PERCPU)) {
    if (!percpuDrop) env.fail(`arg#${i} expected for bpf_percpu_obj_drop_impl()`, 'EINVAL');
  } else {
    env.fail(`arg#${i} expected pointer to allocated object`, 'EINVAL');
  }
  if (!reg.refObjId) env.fail('allocated object must be referenced', 'EINVAL');
}

/** KF_ARG_PTR_TO_REFCOUNTED_KPTR (`bpf_refcount_acquire`): an object whose type has a `bpf_refcount`; its type id. */
export function processRefcountedArg(env: Env, i: number, regno: number): number {
  const reg = env.regs[regno]!;
  if (!isAllocObj(reg)) env.fail(`arg#${i} is neither owning or non-owning ref`, 'EINVAL');
  const rec = regBtfRecord(env, reg);
  if (!rec) env.fail("verifier bug: Couldn't find btf_record", 'EFAULT');
  if (rec.refcountOff < 0) env.fail(`arg#${i} doesn't point to a type with bpf_refcount field`, 'EINVAL');
  return reg.btfId;
}

/** The maximum size of a `bpf_percpu_obj_new` object (BPF_GLOBAL_PERCPU_MA_MAX_SIZE). */
const PERCPU_OBJ_MAX = 512;

/** Whether every member of a struct is a scalar (or a struct of scalars): `__btf_type_is_scalar_struct`. */
function isScalarStruct(env: Env, id: number, depth: number): boolean {
  const btf = env.progBtf!;
  for (const m of typeById(btf, id).members ?? []) {
    let mid = m.type;
    let t = typeById(btf, mid);
    for (let n = 0; n < 32 && (t.kind === 'TYPEDEF' || t.kind === 'CONST' || t.kind === 'VOLATILE' || t.kind === 'RESTRICT' || t.kind === 'TYPE_TAG'); n++) {
      mid = t.type ?? 0;
      t = typeById(btf, mid);
    }
    for (let n = 0; n < 32 && t.kind === 'ARRAY'; n++) {
      mid = t.type ?? 0;
      t = typeById(btf, mid);
    }
    if (t.kind === 'INT' || t.kind === 'ENUM' || t.kind === 'ENUM64' || t.kind === 'FLOAT') continue;
    if (isStruct(t) && depth < 2 && isScalarStruct(env, mid, depth + 1)) continue;
    return false;
  }
  return true;
}

/** R0 of `bpf_obj_new` / `bpf_percpu_obj_new` of local type `id` (the nullable, acquired flags come after). */
export function objNewResult(env: Env, r0: Reg, constArg: bigint, percpu: boolean): void {
  if (BigInt.asUintN(32, constArg) !== constArg) env.fail('local type ID argument must be in range [0, U32_MAX]', 'EINVAL');
  const btf = env.progBtf;
  if (!btf) env.fail('bpf_obj_new/bpf_percpu_obj_new requires prog BTF', 'EINVAL');
  const id = Number(constArg);
  const t = btf.tryType(id);
  if (!t || t.kind !== 'STRUCT') env.fail('bpf_obj_new/bpf_percpu_obj_new type ID argument must be of a struct', 'EINVAL');
  if (percpu) {
    if ((t.size ?? 0) > PERCPU_OBJ_MAX) env.fail(`bpf_percpu_obj_new type size (${t.size}) is greater than ${PERCPU_OBJ_MAX}`, 'EINVAL');
    if (!isScalarStruct(env, id, 0)) env.fail('bpf_percpu_obj_new type ID argument must be of a struct of scalars', 'EINVAL');
    if (structMeta(btf, id, () => env.kbtf())) env.fail('bpf_percpu_obj_new type ID argument must not contain special fields', 'EINVAL');
  }
  markKnownZero(r0);
  r0.type = T.BTF_ID | F.ALLOC | (percpu ? F.PERCPU : 0);
  r0.btfId = id;
  r0.btfName = t.name;
}

/** mark_reg_graph_node: R0 points at the node of an object of the root's value type. */
export function graphNodeResult(r0: Reg, root: BtfField): void {
  const g = root.graphRoot!;
  markKnownZero(r0);
  r0.type = T.BTF_ID | F.ALLOC;
  r0.btfId = g.valueBtfId;
  r0.btfName = g.valueName;
  r0.off = g.nodeOffset;
}

/**
 * set_rbtree_add_callback_state: `less(a, b)` gets two non-owning
 * references to nodes of the root's value type and returns 0 or 1.
 */
export function rbtreeAddCallbackState(env: Env, root: BtfField): (caller: FuncState, callee: FuncState) => void {
  return (_caller, callee) => {
    for (const r of [1, 2]) {
      graphNodeResult(callee.regs[r]!, root);
      refSetNonOwning(env, callee.regs[r]!);
    }
    syncCallbackRest(callee, 3);
  };
}

/** ref_set_non_owning: a reference the list or rbtree owns, valid while the lock is held (RCU-safe when refcounted). */
export function refSetNonOwning(env: Env, reg: Reg): void {
  if (!env.cur.activeLocks) env.fail('verifier internal error: ref_set_non_owning w/o active lock', 'EFAULT');
  if (reg.type & F.NON_OWN) env.fail('verifier internal error: NON_OWN_REF already set', 'EFAULT');
  reg.type |= F.NON_OWN;
  const rec = env.progBtf ? structMeta(env.progBtf, reg.btfId, () => env.kbtf()) : null;
  if (rec && rec.refcountOff >= 0) reg.type |= F.RCU;
}

/** ref_convert_owning_non_owning: every copy of an object handed to a list or rbtree stops owning it. */
export function convertOwningNonOwning(env: Env, refObjId: number): void {
  if (!env.cur.refs.some((r) => r.type === 'ptr' && r.id === refObjId)) {
    env.fail('verifier internal error: ref state missing for ref_obj_id', 'EFAULT');
  }
  forEachReg(env.cur, (r) => {
    if (r.refObjId === refObjId) {
      r.refObjId = 0;
      refSetNonOwning(env, r);
    }
  });
}

/** invalidate_non_owning_refs: releasing the lock ends every non-owning reference. */
export function invalidateNonOwningRefs(env: Env): void {
  forEachReg(env.cur, (r) => {
    if (isNonOwningRef(r)) markUnknown(r);
  });
}
