/**
 * Calls and exits: helper calls checked against their prototypes
 * (check_helper_call, check_func_arg), bpf-to-bpf calls and callbacks
 * (bpf_loop, bpf_for_each_map_elem), returns from functions, the program's
 * return value (check_return_code), `lddw` (check_ld_imm) and the legacy
 * packet loads (check_ld_abs).
 */
import type { Env, SubprogInfo } from './env.js';
import { BPF_COMPLEXITY_LIMIT_JMP_SEQ, checkRegArg, MAX_CALL_FRAMES, printVerifierState, VerifyAbort } from './env.js';
import type { RawInsn } from '../isa/raw.js';
import { BPF_DW, mode, PSEUDO_FUNC, size } from '../isa/raw.js';
import { BpfFunc, funcIdName } from '../isa/helper-ids.js';
import type { FuncProto } from '../isa/helper-protos.js';
import { A, AF, R, RF } from '../isa/helper-protos.js';
import type { MapInfo, Reg } from './reg.js';
import {
  baseType, isPktPointer, copyReg, F, isNullReg, markKnown, markKnownZero, markNotInit, markUnknown, mayBeNull, regBoundsSync, regTypeStr, S64_MAX, S64_MIN, T, U32_MAX,
} from './reg.js';
import { newFuncState, newVState } from './state.js';
import type { FuncState } from './state.js';
import { tnumIsConst } from './tnum.js';
import { checkHelperMemAccess, checkMemAccess, checkMemSizeReg, checkPtrAlignment, checkPtrOffReg, mayAccessDirectPktData } from './mem.js';
import { markChainPrecision, markStackSlotPrecise } from './precision.js';
import { findPrevEntry, pushStack, widenImpreciseScalars } from './search.js';
import { acquireReference, checkResourceLeak, releaseReference } from './refs.js';
import { findSubprog } from './program-checks.js';
import { markPtrNotNullReg } from './branch.js';
import type { DynptrInfo } from './dynptrs.js';
import { Dynptr, DYNPTR_FLAGS, dynptrArgAcquired, isDynptrSlicePkt, markDynptrCbReg, processDynptrFunc, unmarkStackSlotsDynptr } from './dynptrs.js';
import { returnRange } from './prog-types.js';
import type { KernelBtf } from './kbtf.js';
import { btfStructIdsMatch, findByNameKind, isStruct, resolveSize, skipModifiers, typeName } from './kbtf.js';
import { markBtfLdReg, WALK_FLAGS } from './btf-access.js';
import type { BtfField } from './btf-record.js';
import { mapKptrMatchType, processKptrFunc, regBtfRecord } from './kptrs.js';
import { invalidateNonOwningRefs, LOCAL_LOCK_OWNER } from './graph.js';
import { hasTrampoline, lsmRetvalRange } from './attach.js';
import { envHelperProto, envHelperSets, tracingHelperAllowed } from './tracing-helpers.js';
import { AttachType, MapFlags, MapType, ProgType } from '../isa/uapi.js';

const CALLER_SAVED = [0, 1, 2, 3, 4, 5];

/** The types an argument of base type `a` accepts (compatible_reg_types). */

const COMPATIBLE: Record<number, number[]> = {
  [A.PTR_TO_MAP_KEY]: [T.STACK, T.PACKET, T.PACKET_META, T.MAP_KEY, T.MAP_VALUE, T.MEM, T.MEM | F.RINGBUF, T.BUF, T.BTF_ID | F.TRUSTED],
  [A.PTR_TO_MAP_VALUE]: [T.STACK, T.PACKET, T.PACKET_META, T.MAP_KEY, T.MAP_VALUE, T.MEM, T.MEM | F.RINGBUF, T.BUF, T.BTF_ID | F.TRUSTED],
  [A.CONST_SIZE]: [T.SCALAR],
  [A.CONST_SIZE_OR_ZERO]: [T.SCALAR],
  [A.CONST_ALLOC_SIZE_OR_ZERO]: [T.SCALAR],
  [A.CONST_MAP_PTR]: [T.MAP_PTR],
  [A.PTR_TO_CTX]: [T.CTX],
  [A.PTR_TO_SOCK_COMMON]: [T.SOCK_COMMON, T.SOCKET, T.TCP_SOCK, T.XDP_SOCK],
  [A.PTR_TO_BTF_ID_SOCK_COMMON]: [T.SOCK_COMMON, T.SOCKET, T.TCP_SOCK, T.XDP_SOCK, T.BTF_ID, T.BTF_ID | F.TRUSTED],
  [A.PTR_TO_SOCKET]: [T.SOCKET],
  [A.PTR_TO_BTF_ID]: [T.BTF_ID, T.BTF_ID | F.TRUSTED, T.BTF_ID | F.RCU],
  [A.PTR_TO_SPIN_LOCK]: [T.MAP_VALUE, T.BTF_ID | F.ALLOC],
  [A.PTR_TO_MEM]: [T.STACK, T.PACKET, T.PACKET_META, T.MAP_KEY, T.MAP_VALUE, T.MEM, T.MEM | F.RINGBUF, T.BUF, T.BTF_ID | F.TRUSTED],
  [A.PTR_TO_RINGBUF_MEM]: [T.MEM | F.RINGBUF],
  [A.PTR_TO_FUNC]: [T.FUNC],
  [A.PTR_TO_STACK]: [T.STACK],
  [A.PTR_TO_CONST_STR]: [T.MAP_VALUE],
  [A.PTR_TO_TIMER]: [T.MAP_VALUE],
  [A.PTR_TO_PERCPU_BTF_ID]: [T.BTF_ID | F.PERCPU, T.BTF_ID | F.PERCPU | F.RCU, T.BTF_ID | F.PERCPU | F.TRUSTED],
  [A.KPTR_XCHG_DEST]: [T.MAP_VALUE, T.BTF_ID | F.ALLOC],
  [A.PTR_TO_DYNPTR]: [T.STACK, T.DYNPTR],
};

interface CallMeta {
  map: MapInfo | null;
  mapUid: number;
  rawMode: boolean;
  pktAccess: boolean;
  releaseRegno: number;
  regno: number;
  accessSize: number;
  memSize: number;
  msizeMaxValue: bigint;
  refObjId: number;
  funcId: number;
  subprogno: number;
  constMapKey: bigint;
  /** The initialised dynptr argument (its id, type and reference). */
  dynptr: DynptrInfo | null;
  /** The kernel BTF id of a per-CPU variable argument (meta->ret_btf_id). */
  retBtfId: number;
  /** bpf_kptr_xchg: the kptr field its destination points at. */
  kptrField: BtfField | null;
}

/** Argument types whose compatible register types are the kernel's `mem_types`. */
const MEM_ARGS = new Set<number>([A.PTR_TO_MAP_KEY, A.PTR_TO_MAP_VALUE, A.PTR_TO_MEM]);

/** check_reg_type (`argBtf`: the struct a BTF pointer argument must be, `arg_btf_id`). */
function checkRegType(env: Env, regno: number, argType: number, argBtf: string | undefined, funcId: number, kptrField: BtfField | null): void {
  const reg = env.regs[regno]!;
  const compatible = COMPATIBLE[argType & 0xff];
  if (!compatible) env.fail(`verifier bug: unsupported arg type ${argType}`, 'EFAULT');
  let type = reg.type;
  // an allocated object (the program's own) may be the new value of bpf_kptr_xchg
  if (funcId === BpfFunc.kptr_xchg && regno === 2 && (type & F.ALLOC)) type &= ~(F.ALLOC | F.PERCPU);
  if (argType & AF.RDONLY) type &= ~F.RDONLY;
  if (argType & AF.MAYBE_NULL) type &= ~F.MAYBE_NULL;
  // a dynptr slice is memory like any other
  if ((argType & 0xff) === A.PTR_TO_MEM) type &= ~DYNPTR_FLAGS;
  if (!compatible.includes(type)) env.fail(`R${regno} type=${regTypeStr(reg.type)} expected=${compatible.map(regTypeStr).join(', ')}`);
  if (baseType(reg.type) !== T.BTF_ID) return;
  if (MEM_ARGS.has(argType & 0xff)) {
    if (!(argType & AF.RDONLY)) env.fail(`${funcIdName(funcId)}() may write into memory pointed by R${regno} type=${regTypeStr(reg.type)}`);
    return;
  }
  switch (reg.type) {
    case T.BTF_ID: case T.BTF_ID | F.TRUSTED: case T.BTF_ID | F.TRUSTED | F.MAYBE_NULL: case T.BTF_ID | F.RCU:
    case T.BTF_ID | F.MAYBE_NULL: case T.BTF_ID | F.MAYBE_NULL | F.RCU: {
      const release = (argType & AF.RELEASE) !== 0;
      const strict = release && funcId !== BpfFunc.sk_release;
      if (mayBeNull(reg.type) && (!(argType & AF.MAYBE_NULL) || release)) env.fail(`Possibly NULL pointer passed to helper arg${regno}`);
      if (funcId === BpfFunc.kptr_xchg) {
        if (!kptrField) env.fail('verifier internal error: bpf_kptr_xchg without its kptr field', 'EFAULT');
        mapKptrMatchType(env, kptrField, reg, regno);
        return;
      }
      const need = argBtf ?? ((argType & 0xff) === A.PTR_TO_BTF_ID_SOCK_COMMON ? 'sock_common' : undefined);
      if (!need) env.fail('verifier internal error: missing arg compatible BTF ID', 'EFAULT');
      const btf = env.kbtf();
      if (!btf || !reg.btfId) {
        // without the kernel BTF only an exact type match can be decided
        if (reg.off === 0 && reg.btfName === need) return;
        env.fail(`tsbpf: R${regno} is of type ${reg.btfName}, ${need} is expected: whether it is one needs the kernel's BTF, which tsbpf was not given (--btf)`, 'ENOTSUPP');
      }
      const needId = structId(btf, need);
      if (needId < 0 || !btfStructIdsMatch(btf, reg.btfId, reg.off, needId, strict, WALK_FLAGS, (m) => env.verbose(m))) {
        env.fail(`R${regno} is of type ${reg.btfName} but ${need} is expected`);
      }
      return;
    }
    case T.BTF_ID | F.ALLOC: case T.BTF_ID | F.PERCPU | F.ALLOC: case T.BTF_ID | F.ALLOC | F.NON_OWN:
    case T.BTF_ID | F.ALLOC | F.NON_OWN | F.RCU:
      if (funcId !== BpfFunc.spin_lock && funcId !== BpfFunc.spin_unlock && funcId !== BpfFunc.kptr_xchg) {
        env.fail('verifier internal error: unimplemented handling of MEM_ALLOC', 'EFAULT');
      }
      // the program's own object must be of the kptr's type
      if (funcId === BpfFunc.kptr_xchg && regno === 2) mapKptrMatchType(env, kptrField!, reg, regno);
      return;
    case T.BTF_ID | F.PERCPU: case T.BTF_ID | F.PERCPU | F.RCU: case T.BTF_ID | F.PERCPU | F.TRUSTED:
      return;
    default:
      env.fail('verifier internal error: invalid PTR_TO_BTF_ID register for type match', 'EFAULT');
  }
}

/** The id of struct `name` in the kernel BTF (BTF_ID_LIST entries), or -1. */
function structId(btf: KernelBtf, name: string): number {
  return findByNameKind(btf, name, 'STRUCT');
}

/** check_func_arg_reg_off: which pointer types may carry a fixed or variable offset into a helper or kfunc. */
export function checkFuncArgRegOff(env: Env, reg: Reg, regno: number, argType: number): void {
  if (argType & AF.RELEASE) {
    // a dynptr being released may sit at any offset of the stack
    if ((argType & 0xff) === A.PTR_TO_DYNPTR && reg.type === T.STACK) return;
    if (reg.off) env.fail(`R${regno} must have zero offset when passed to release func or trusted arg to kfunc`, 'EINVAL');
    checkPtrOffReg(env, reg, regno, false);
    return;
  }
  switch (reg.type) {
    case T.STACK: case T.PACKET: case T.PACKET_META: case T.MAP_KEY: case T.MAP_VALUE: case T.MEM: case T.MEM | F.RDONLY:
    case T.MEM | F.RINGBUF: case T.BUF: case T.BUF | F.RDONLY: case T.ARENA: case T.SCALAR:
      return;
    case T.BTF_ID: case T.BTF_ID | F.ALLOC: case T.BTF_ID | F.TRUSTED: case T.BTF_ID | F.RCU:
    case T.BTF_ID | F.ALLOC | F.NON_OWN: case T.BTF_ID | F.ALLOC | F.NON_OWN | F.RCU:
      checkPtrOffReg(env, reg, regno, true);
      return;
    default:
      checkPtrOffReg(env, reg, regno, false);
  }
}

/**
 * `can_elide_value_nullness`: a lookup with a constant key below max_entries
 * cannot fail in an array map, unless the map is an inner-map template with
 * BPF_F_INNER_MAP, whose inner maps may be smaller than it.
 */
function canElideValueNullness(map: MapInfo): boolean {
  return (map.type === MapType.ARRAY || map.type === MapType.PERCPU_ARRAY) && (map.flags & MapFlags.INNER_MAP) === 0;
}

function constMapKey(env: Env, key: Reg, keySize: number): bigint {
  if (key.type !== T.STACK || !tnumIsConst(key.varOff)) return -1n;
  const f = env.cur.frames[key.frameno]!;
  const stackOff = key.off + Number(BigInt.asIntN(64, key.varOff.value));
  const slot = -stackOff - 1;
  const spi = Math.floor(slot / 8);
  const off = slot % 8;
  if (spi < 0 || spi >= f.allocatedStack / 8) return -1n;
  let zero = 0;
  for (let i = off; i >= 0 && f.slotType[spi * 8 + i] === 3; i--) zero++;
  if (zero >= keySize) return 0n;
  if (f.slotType[spi * 8 + 7] !== 1 || f.spilled[spi]!.type !== T.SCALAR) return -1n;
  let spill = 0;
  for (let i = off; i >= 0 && f.slotType[spi * 8 + i] === 1; i--) spill++;
  if (spill !== keySize) return -1n;
  const reg = f.spilled[spi]!;
  if (!tnumIsConst(reg.varOff)) return -1n;
  markStackSlotPrecise(env, key.frameno, spi);
  return reg.varOff.value;
}

function checkFuncArg(env: Env, arg: number, meta: CallMeta, fn: FuncProto): void {
  const regno = arg + 1;
  const reg = env.regs[regno]!;
  let argType = fn.args[arg] ?? A.DONTCARE;
  if (argType === A.DONTCARE) return;
  checkRegArg(env, regno, 'src');
  if (argType === A.ANYTHING) {
    if (env.isPointerValue(regno)) env.fail(`R${regno} leaks addr into helper function`);
    return;
  }
  if ((baseType(reg.type) === T.PACKET || baseType(reg.type) === T.PACKET_META) && !mayAccessDirectPktData(env, meta, 'read')) {
    env.fail('helper access to the packet is not allowed');
  }
  if ((argType & 0xff) === A.PTR_TO_MAP_VALUE) {
    if (!meta.map) env.fail('verifier bug: invalid map_ptr to access map->type', 'EFAULT');
    if (meta.map.type === MapType.SOCKMAP || meta.map.type === MapType.SOCKHASH) {
      if (argType === A.PTR_TO_MAP_VALUE) argType = A.PTR_TO_BTF_ID_SOCK_COMMON;
      else env.fail('invalid arg_type for sockmap/sockhash', 'EINVAL');
    } else if (meta.map.type === MapType.BLOOM_FILTER && meta.funcId === BpfFunc.map_peek_elem) {
      argType = A.PTR_TO_MAP_VALUE;
    }
  }
  const skipTypeCheck = isNullReg(reg) && (argType & AF.MAYBE_NULL) !== 0;
  // 6.18.44 marks a NULL passed for a nullable argument precise (measured)
  if (skipTypeCheck) markChainPrecision(env, regno);
  if (!skipTypeCheck) {
    checkRegType(env, regno, argType, fn.argBtf?.[arg], meta.funcId, meta.kptrField);
    checkFuncArgRegOff(env, reg, regno, argType);
  }
  if (argType & AF.RELEASE) {
    if ((argType & 0xff) === A.PTR_TO_DYNPTR) {
      // only a dynptr on the stack can be released
      if (reg.type !== T.STACK) env.fail('cannot release unowned const bpf_dynptr', 'EINVAL');
      if (!dynptrArgAcquired(env, reg)) env.fail(`arg ${regno} is an unacquired reference`, 'EINVAL');
    } else if (!reg.refObjId && !isNullReg(reg)) {
      env.fail(`R${regno} must be referenced when passed to release function`, 'EINVAL');
    }
    meta.releaseRegno = regno;
  }
  // (the object bpf_kptr_xchg stores into is not what it releases)
  if (reg.refObjId && (argType & 0xff) !== A.KPTR_XCHG_DEST) {
    if (meta.refObjId) env.fail(`more than one arg with ref_obj_id R${regno} ${reg.refObjId} ${meta.refObjId}`);
    meta.refObjId = reg.refObjId;
  }
  const base = argType & 0xff;
  switch (base) {
    case A.CONST_MAP_PTR:
      if (meta.map && (meta.map !== reg.map || meta.mapUid !== reg.mapUid)) {
        env.fail(`timer pointer in R1 map_uid=${meta.mapUid} doesn't match map pointer in R2 map_uid=${reg.mapUid}`, 'EINVAL');
      }
      meta.map = reg.map;
      meta.mapUid = reg.mapUid;
      break;
    case A.PTR_TO_MAP_KEY: {
      if (!meta.map) env.fail('verifier bug: invalid map_ptr to access map->key', 'EFAULT');
      checkHelperMemAccess(env, regno, meta.map.keySize, 'read', false, null);
      if (canElideValueNullness(meta.map)) {
        meta.constMapKey = constMapKey(env, reg, meta.map.keySize);
      }
      break;
    }
    case A.PTR_TO_MAP_VALUE:
      if ((argType & AF.MAYBE_NULL) && isNullReg(reg)) return;
      if (!meta.map) env.fail('verifier bug: invalid map_ptr to access map->value', 'EFAULT');
      meta.rawMode = (argType & AF.UNINIT) !== 0;
      checkHelperMemAccess(env, regno, meta.map.valueSize, argType & AF.WRITE ? 'write' : 'read', false, meta);
      break;
    case A.PTR_TO_FUNC:
      meta.subprogno = reg.subprogno;
      break;
    case A.PTR_TO_MEM:
      meta.rawMode = (argType & AF.UNINIT) !== 0;
      if (argType & AF.FIXED_SIZE) {
        checkHelperMemAccess(env, regno, fn.argSize?.[arg] ?? 0, argType & AF.WRITE ? 'write' : 'read', false, meta);
        if (argType & AF.ALIGNED) checkPtrAlignment(env, reg, 0, fn.argSize?.[arg] ?? 0, true);
      }
      break;
    case A.CONST_SIZE:
      checkMemSizeReg(env, regno, (fn.args[arg - 1] ?? 0) & AF.WRITE ? 'write' : 'read', false, meta);
      break;
    case A.CONST_SIZE_OR_ZERO:
      checkMemSizeReg(env, regno, (fn.args[arg - 1] ?? 0) & AF.WRITE ? 'write' : 'read', true, meta);
      break;
    case A.CONST_ALLOC_SIZE_OR_ZERO:
      if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} is not a known constant'`);
      meta.memSize = Number(reg.varOff.value);
      markChainPrecision(env, regno);
      break;
    case A.PTR_TO_CONST_STR:
      checkRegConstStr(env, reg, regno);
      break;
    case A.PTR_TO_DYNPTR: {
      const info = processDynptrFunc(env, regno, { uninit: (argType & AF.UNINIT) !== 0, rdonly: (argType & AF.RDONLY) !== 0, type: helperDynptrType(meta.funcId) });
      if (info) meta.dynptr = info;
      break;
    }
    case A.PTR_TO_PERCPU_BTF_ID:
      if (!reg.btfId) env.fail(`Helper has invalid btf_id in R${regno}`, 'EACCES');
      meta.retBtfId = reg.btfId;
      break;
    case A.PTR_TO_SPIN_LOCK:
      processSpinLock(env, regno, meta.funcId === BpfFunc.spin_lock);
      break;
    case A.KPTR_XCHG_DEST:
      meta.kptrField = processKptrFunc(env, regno);
      break;
    case A.PTR_TO_TIMER:
      checkMapFieldPointer(env, regno, 'bpf_timer', reg.map?.timerOff ?? -1);
      meta.mapUid = reg.mapUid;
      meta.map = reg.map;
      break;
    default:
      break;
  }
}

/** The dynptr type a helper's dynptr argument must have or gets (DYNPTR_TYPE_* of its prototype; 0 any). */
function helperDynptrType(funcId: number): number {
  switch (funcId) {
    case BpfFunc.dynptr_from_mem: return Dynptr.LOCAL;
    case BpfFunc.ringbuf_reserve_dynptr: case BpfFunc.ringbuf_submit_dynptr: case BpfFunc.ringbuf_discard_dynptr: return Dynptr.RINGBUF;
    default: return 0;
  }
}

/** check_map_field_pointer: a constant offset in a map value that holds the field there. */
function checkMapFieldPointer(env: Env, regno: number, name: string, fieldOff: number): void {
  const reg = env.regs[regno]!;
  const map = reg.map!;
  if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} doesn't have constant offset. ${name} has to be at the constant offset`, 'EINVAL');
  if (!map.btf) env.fail(`map '${map.name}' has to have BTF in order to use ${name}`, 'EINVAL');
  if (fieldOff < 0) env.fail(`map '${map.name}' has no valid ${name}`, 'EINVAL');
  const off = Number(BigInt.asIntN(64, reg.varOff.value)) + reg.off;
  if (off !== fieldOff) env.fail(`off ${off} doesn't point to 'struct ${name}' that is at ${fieldOff}`, 'EINVAL');
}

/**
 * process_spin_lock: `bpf_spin_lock` takes the lock of a map value (the one
 * at the BTF's `struct bpf_spin_lock`), at most one at a time;
 * `bpf_spin_unlock` releases the one taken, through a pointer to the same
 * value.
 */
function processSpinLock(env: Env, regno: number, isLock: boolean): void {
  const reg = env.regs[regno]!;
  const cur = env.cur;
  if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset`, 'EINVAL');
  const map = reg.type === T.MAP_VALUE ? reg.map! : null;
  if (map && !map.btf) env.fail(`map '${map.name}' has to have BTF in order to use bpf_spin_lock`, 'EINVAL');
  // a map value's record, or an allocated object's (whose type is in the program's BTF)
  const rec = map ? map.record : regBtfRecord(env, reg);
  if (!rec || rec.spinLockOff < 0) env.fail(map ? `map '${map.name}' has no valid bpf_spin_lock` : `local 'kptr' has no valid bpf_spin_lock`, 'EINVAL');
  const off = Number(BigInt.asIntN(64, reg.varOff.value)) + reg.off;
  if (off !== rec.spinLockOff) env.fail(`off ${off} doesn't point to 'struct bpf_spin_lock' that is at ${rec.spinLockOff}`, 'EINVAL');
  // The lock belongs to the map, not to one program's view of it (inner maps of one template share it).
  const ptr = map ? mapIdentity(map) : LOCAL_LOCK_OWNER;
  if (isLock) {
    if (cur.activeLocks && cur.refs.some((r) => r.type === 'lock')) env.fail('Locking two bpf_spin_locks are not allowed', 'EINVAL');
    cur.refs.push({ id: reg.id, insnIdx: env.insnIdx, type: 'lock', ptr });
    cur.activeLocks++;
    cur.activeLockId = reg.id;
    cur.activeLockPtr = ptr;
    return;
  }
  if (!cur.activeLocks) env.fail('bpf_spin_unlock without taking a lock', 'EINVAL');
  const i = cur.refs.findIndex((r) => r.type === 'lock' && r.id === reg.id && r.ptr === ptr);
  if (i < 0) env.fail('bpf_spin_unlock of different lock', 'EINVAL');
  if (reg.id !== cur.activeLockId || ptr !== cur.activeLockPtr) env.fail('bpf_spin_unlock cannot be out of order', 'EINVAL');
  cur.refs.splice(i, 1);
  cur.activeLocks--;
  const prev = [...cur.refs].reverse().find((r) => r.type === 'lock');
  cur.activeLockId = prev?.id ?? 0;
  cur.activeLockPtr = prev?.ptr ?? null;
  invalidateNonOwningRefs(env);
}

/** The identity of a map for lock bookkeeping (`reg->map_ptr`): its index, or the inner template object. */
export function mapIdentity(map: MapInfo): unknown {
  return map.index >= 0 ? map.index : map;
}

function checkRegConstStr(env: Env, reg: Reg, regno: number): void {
  if (reg.type !== T.MAP_VALUE) env.fail('verifier bug: const str', 'EINVAL');
  const map = reg.map!;
  if (map.type === MapType.PERCPU_ARRAY) env.fail(`R${regno} points to percpu_array map which cannot be used as const string`);
  if (!map.readonly) env.fail(`R${regno} does not point to a readonly map'`);
  if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} is not a constant address'`);
  const off = reg.off + Number(reg.varOff.value);
  const data = map.initialValue;
  if (!data || !data.subarray(off).includes(0)) env.fail('string is not zero-terminated', 'EINVAL');
}

/** check_map_func_compatibility. */
function checkMapFuncCompatibility(env: Env, map: MapInfo | null, funcId: number): void {
  if (!map) return;
  const t = map.type;
  const bad = (): never => env.fail(`cannot pass map_type ${t} into func ${funcIdName(funcId)}#${funcId}`, 'EINVAL');
  const only = (...ids: number[]): void => {
    if (!ids.includes(funcId)) bad();
  };
  switch (t) {
    case MapType.PROG_ARRAY: only(BpfFunc.tail_call); break;
    case MapType.PERF_EVENT_ARRAY:
      only(
        BpfFunc.perf_event_read,
        BpfFunc.perf_event_output,
        BpfFunc.skb_output,
        BpfFunc.perf_event_read_value,
        BpfFunc.xdp_output,
      );
      break;
    case MapType.RINGBUF:
      only(
        BpfFunc.ringbuf_output,
        BpfFunc.ringbuf_reserve,
        BpfFunc.ringbuf_query,
        BpfFunc.ringbuf_reserve_dynptr,
        BpfFunc.ringbuf_submit_dynptr,
        BpfFunc.ringbuf_discard_dynptr,
      );
      break;
    case MapType.USER_RINGBUF: only(BpfFunc.user_ringbuf_drain); break;
    case MapType.STACK_TRACE: only(BpfFunc.get_stackid); break;
    case MapType.CGROUP_ARRAY: only(BpfFunc.skb_under_cgroup, BpfFunc.current_task_under_cgroup); break;
    case MapType.CGROUP_STORAGE: case MapType.PERCPU_CGROUP_STORAGE: only(BpfFunc.get_local_storage); break;
    case MapType.DEVMAP: case MapType.DEVMAP_HASH: only(BpfFunc.redirect_map, BpfFunc.map_lookup_elem); break;
    case MapType.CPUMAP: only(BpfFunc.redirect_map); break;
    case MapType.XSKMAP: only(BpfFunc.redirect_map, BpfFunc.map_lookup_elem); break;
    case MapType.ARRAY_OF_MAPS: case MapType.HASH_OF_MAPS: only(BpfFunc.map_lookup_elem); break;
    case MapType.SOCKMAP:
      only(
        BpfFunc.sk_redirect_map,
        BpfFunc.sock_map_update,
        BpfFunc.msg_redirect_map,
        BpfFunc.sk_select_reuseport,
        BpfFunc.map_lookup_elem,
        ...(mayUpdateSockmap(env,
        funcId) ? [funcId] : []),
      );
      break;
    case MapType.SOCKHASH:
      only(
        BpfFunc.sk_redirect_hash,
        BpfFunc.sock_hash_update,
        BpfFunc.msg_redirect_hash,
        BpfFunc.sk_select_reuseport,
        BpfFunc.map_lookup_elem,
        ...(mayUpdateSockmap(env,
        funcId) ? [funcId] : []),
      );
      break;
    case MapType.REUSEPORT_SOCKARRAY: only(BpfFunc.sk_select_reuseport); break;
    case MapType.QUEUE: case MapType.STACK: only(BpfFunc.map_peek_elem, BpfFunc.map_pop_elem, BpfFunc.map_push_elem); break;
    case MapType.SK_STORAGE: only(BpfFunc.sk_storage_get, BpfFunc.sk_storage_delete, BpfFunc.kptr_xchg); break;
    case MapType.INODE_STORAGE: only(BpfFunc.inode_storage_get, BpfFunc.inode_storage_delete, BpfFunc.kptr_xchg); break;
    case MapType.TASK_STORAGE: only(BpfFunc.task_storage_get, BpfFunc.task_storage_delete, BpfFunc.kptr_xchg); break;
    case MapType.CGRP_STORAGE: only(BpfFunc.cgrp_storage_get, BpfFunc.cgrp_storage_delete, BpfFunc.kptr_xchg); break;
    case MapType.BLOOM_FILTER: only(BpfFunc.map_peek_elem, BpfFunc.map_push_elem); break;
    default: break;
  }
  const need = (...types: number[]): void => {
    if (!types.includes(t)) bad();
  };
  switch (funcId) {
    case BpfFunc.tail_call:
      need(MapType.PROG_ARRAY);
      if (env.subprogs.length > 1) {
        // x86-64 JIT supports tail calls in subprograms
      }
      break;
    case BpfFunc.perf_event_read: case BpfFunc.perf_event_output: case BpfFunc.perf_event_read_value:
    case BpfFunc.skb_output: case BpfFunc.xdp_output:
      need(MapType.PERF_EVENT_ARRAY);
      break;
    case BpfFunc.ringbuf_output: case BpfFunc.ringbuf_reserve: case BpfFunc.ringbuf_query:
    case BpfFunc.ringbuf_reserve_dynptr: case BpfFunc.ringbuf_submit_dynptr: case BpfFunc.ringbuf_discard_dynptr:
      need(MapType.RINGBUF);
      break;
    case BpfFunc.user_ringbuf_drain: need(MapType.USER_RINGBUF); break;
    case BpfFunc.get_stackid: need(MapType.STACK_TRACE); break;
    case BpfFunc.current_task_under_cgroup: case BpfFunc.skb_under_cgroup: need(MapType.CGROUP_ARRAY); break;
    case BpfFunc.redirect_map: need(MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP); break;
    case BpfFunc.sk_redirect_map: case BpfFunc.msg_redirect_map: case BpfFunc.sock_map_update: need(MapType.SOCKMAP); break;
    case BpfFunc.sk_redirect_hash: case BpfFunc.msg_redirect_hash: case BpfFunc.sock_hash_update: need(MapType.SOCKHASH); break;
    case BpfFunc.get_local_storage: need(MapType.CGROUP_STORAGE, MapType.PERCPU_CGROUP_STORAGE); break;
    case BpfFunc.sk_select_reuseport: need(MapType.REUSEPORT_SOCKARRAY, MapType.SOCKMAP, MapType.SOCKHASH); break;
    case BpfFunc.map_pop_elem: need(MapType.QUEUE, MapType.STACK); break;
    case BpfFunc.map_peek_elem: case BpfFunc.map_push_elem: need(MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER); break;
    case BpfFunc.map_lookup_percpu_elem: need(MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH); break;
    case BpfFunc.sk_storage_get: case BpfFunc.sk_storage_delete: need(MapType.SK_STORAGE); break;
    case BpfFunc.inode_storage_get: case BpfFunc.inode_storage_delete: need(MapType.INODE_STORAGE); break;
    case BpfFunc.task_storage_get: case BpfFunc.task_storage_delete: need(MapType.TASK_STORAGE); break;
    case BpfFunc.cgrp_storage_get: case BpfFunc.cgrp_storage_delete: need(MapType.CGRP_STORAGE); break;
    default: break;
  }
}

function mayUpdateSockmap(env: Env, funcId: number): boolean {
  if (funcId !== BpfFunc.map_update_elem && funcId !== BpfFunc.map_delete_elem) return false;
  switch (env.progType) {
    case ProgType.TRACING: if (env.expectedAttachType === AttachType.TRACE_ITER) return true; break;
    case ProgType.SOCK_OPS: if (funcId === BpfFunc.map_delete_elem) return true; break;
    case ProgType.SOCKET_FILTER: case ProgType.SCHED_CLS: case ProgType.SCHED_ACT: case ProgType.XDP:
    case ProgType.SK_REUSEPORT: case ProgType.FLOW_DISSECTOR: case ProgType.SK_LOOKUP:
      return true;
    default: break;
  }
  env.verbose('cannot update sockmap in this context\n');
  return false;
}

/** clear_all_pkt_pointers: after a call that may move the packet, no pointer into it (or a packet dynptr's slice) stays valid. */
export function clearAllPktPointers(env: Env): void {
  for (let i = 0; i <= env.cur.curframe; i++) {
    const f = env.cur.frames[i]!;
    const fix = (r: Reg): void => {
      if (baseType(r.type) === T.PACKET || baseType(r.type) === T.PACKET_META || r.type === T.PACKET_END || isDynptrSlicePkt(r)) markUnknown(r);
    };
    f.regs.forEach(fix);
    for (let s = 0; s < f.allocatedStack / 8; s++) if (f.slotType[s * 8 + 7] === 1) fix(f.spilled[s]!);
  }
}

/** Callee frame for a call to `subprog` at `callsite`, filled by `setState`. */
function setupFuncEntry(env: Env, subprog: number, callsite: number, setState: (caller: FuncState, callee: FuncState) => void, st = env.cur): void {
  if (st.curframe + 1 >= MAX_CALL_FRAMES) env.fail(`the call stack of ${st.curframe + 2} frames is too deep`, 'E2BIG');
  const caller = st.frames[st.curframe]!;
  const callee = newFuncState(callsite, st.curframe + 1, subprog);
  env.markStateScratched();
  setState(caller, callee);
  st.frames[st.curframe + 1] = callee;
  st.curframe++;
}

function setCalleeState(caller: FuncState, callee: FuncState): void {
  for (let i = 1; i <= 5; i++) callee.regs[i] = { ...caller.regs[i]! };
}

function clearCallerSavedRegs(env: Env, regs: Reg[]): void {
  for (const r of CALLER_SAVED) {
    markNotInit(regs[r]!);
    env.markRegScratched(r);
  }
}

/**
 * btf_check_func_arg_match for a global subprogram: the caller's R1..R5
 * must fit the BTF prototype (scalars, the context, memory of the pointed
 * type's size). Logs what does not fit and returns false.
 */
function checkGlobalArgs(env: Env, subprog: number, sp: SubprogInfo, regs: Reg[]): boolean {
  if (sp.argsError !== null) {
    env.verbose(`${sp.argsError}\n`);
    return false;
  }
  const args = sp.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const regno = i + 1;
    const reg = regs[regno]!;
    const arg = args[i]!;
    try {
      if (arg.kind === 'scalar') {
        if (reg.type !== T.SCALAR) {
          env.verbose(`R${regno} is not a scalar\n`);
          return false;
        }
      } else if (arg.kind === 'untrusted-mem') {
        // anything goes: untrusted arguments are read-only, through fault-handling loads
      } else if (arg.kind === 'dynptr') {
        checkFuncArgRegOff(env, reg, regno, A.PTR_TO_DYNPTR);
        processDynptrFunc(env, regno, { uninit: false, rdonly: true, type: 0 });
      } else if (arg.kind === 'btf') {
        // (the kernel finds the struct when it prepares the function's arguments, at its first call)
        const btf = env.kbtf();
        const need = btf ? findByNameKind(btf, arg.struct, 'STRUCT') : -1;
        if (!btf || need < 0) {
          env.verbose(`arg#${i}: struct ${arg.struct} is not a type of the kernel BTF\n`);
          return false;
        }
        if (!arg.trusted) continue; // untrusted: anything goes, as above
        if (arg.nullable && isNullReg(reg)) continue;
        const type = arg.nullable ? reg.type & ~F.MAYBE_NULL : reg.type;
        if (type !== T.BTF_ID && type !== (T.BTF_ID | F.TRUSTED) && type !== (T.BTF_ID | F.RCU)) {
          env.verbose(`R${regno} type=${regTypeStr(reg.type)} expected=ptr_, trusted_ptr_, rcu_ptr_\n`);
          return false;
        }
        if (!btfStructIdsMatch(btf, reg.btfId, reg.off, need, false, WALK_FLAGS, (m) => env.verbose(m))) {
          env.verbose(`R${regno} is of type ${reg.btfName} but ${arg.struct} is expected\n`);
          return false;
        }
        checkPtrOffReg(env, reg, regno, true);
      } else if (arg.kind === 'ctx') {
        if (reg.type === T.CTX) checkPtrOffReg(env, reg, regno, false);
        if (reg.type !== T.CTX) {
          env.verbose(`arg#${i} expects pointer to ctx\n`);
          return false;
        }
      } else {
        // the callee may move the packet: a pointer into it would not survive the call
        if (isPktPointer(reg.type) && sp.changesPktData) {
          env.verbose(`R${regno} is a packet pointer, but func#${subprog} may change packet data\n`);
          return false;
        }
        if (reg.type !== T.SCALAR) checkFuncArgRegOffAny(env, reg, regno);
        if (arg.nonnull === true && (isNullReg(reg) || mayBeNull(reg.type))) {
          env.verbose(`R${regno} is expected to be non-NULL\n`);
          return false;
        }
        if (!isNullReg(reg)) {
          // check_mem_reg: the memory must be readable and writable, as if not NULL
          const saved = copyReg(reg);
          if (mayBeNull(reg.type)) markPtrNotNullReg(reg);
          try {
            checkHelperMemAccess(env, regno, arg.size, 'read', true, null);
            checkHelperMemAccess(env, regno, arg.size, 'write', true, null);
          } finally {
            Object.assign(reg, saved);
          }
        }
      }
    } catch (e) {
      if (e instanceof VerifyAbort) return false;
      throw e;
    }
  }
  return true;
}

/** check_func_arg_reg_off with ARG_DONTCARE, for the pointer types a global subprogram may get. */
function checkFuncArgRegOffAny(env: Env, reg: Reg, regno: number): void {
  const b = baseType(reg.type);
  if (b === T.STACK || b === T.PACKET || b === T.PACKET_META || b === T.MAP_KEY || b === T.MAP_VALUE || b === T.MEM
    || b === T.FLOW_KEYS) {
    return;
  }
  checkPtrOffReg(env, reg, regno, false);
}

/**
 * update_loop_inline_state: the kernel inlines bpf_loop when every call at
 * this instruction passes flags 0 and the same callback; a zero flags
 * register is marked precise while that holds.
 */
function updateLoopInlineState(env: Env, insnIdx: number, subprogno: number): void {
  const aux = env.aux[insnIdx]!;
  const flagIsZero = (): boolean => {
    const zero = isNullReg(env.regs[4]!);
    if (zero) markChainPrecision(env, 4);
    return zero;
  };
  if (!aux.loopInline) {
    aux.loopInline = { fit: flagIsZero(), subprogno };
    return;
  }
  if (!aux.loopInline.fit) return;
  aux.loopInline.fit = flagIsZero() && aux.loopInline.subprogno === subprogno;
}

/** check_func_call: a bpf-to-bpf call. */
export function checkFuncCall(env: Env, insn: RawInsn): void {
  const target = env.insnIdx + insn.imm + 1;
  const subprog = findSubprog(env, target);
  if (subprog < 0) env.fail(`verifier bug: target of func call at insn ${target} is not a program`, 'EFAULT');
  const state = env.cur;
  const caller = state.frames[state.curframe]!;
  const sp = env.subprogs[subprog]!;
  if (sp.global) {
    const argsOk = checkGlobalArgs(env, subprog, sp, caller.regs);
    if (state.activeLocks) env.fail('global function calls are not allowed while holding a lock,\nuse static function instead', 'EINVAL');
    if (sp.mightSleep && (state.activeRcuLock || !env.sleepable)) {
      env.verbose('global functions that may sleep are not allowed in non-sleepable context,\n');
      env.verbose('i.e., in a RCU/IRQ/preempt-disabled section, or in\n');
      env.fail('a non-sleepable BPF program context', 'EINVAL');
    }
    if (!argsOk) env.fail(`Caller passes invalid args into func#${subprog} ('${sp.name}')`, 'EINVAL');
    if (env.logLevel) env.verbose(`Func#${subprog} ('${sp.name}') is global and assumed valid.\n`);
    if (sp.changesPktData) clearAllPktPointers(env);
    sp.called = true;
    clearCallerSavedRegs(env, caller.regs);
    markUnknown(caller.regs[0]!);
    caller.regs[0]!.subregDef = 0;
    return;
  }
  setupFuncEntry(env, subprog, env.insnIdx, setCalleeState);
  clearCallerSavedRegs(env, caller.regs);
  env.insnIdx = sp.start - 1;
  env.liveness.resetCallchain();
  if (env.logLevel) {
    env.verbose('caller:\n');
    printVerifierState(env, state, caller.frameno, true);
    env.verbose('callee:\n');
    printVerifierState(env, state, state.curframe, true);
  }
}

/** push_callback_call: explore the callback as if called now, then continue after the helper. */
export function pushCallbackCall(env: Env, insnIdx: number, subprog: number, setState: (caller: FuncState, callee: FuncState) => void): void {
  env.subprogs[subprog]!.isCb = true;
  const st = pushStack(env, env.subprogs[subprog]!.start, insnIdx);
  setupFuncEntry(env, subprog, insnIdx, setState, st);
  st.callbackUnrollDepth++;
  st.frames[st.curframe - 1]!.callbackDepth++;
  env.frame.callbackDepth = 0;
}

/** prepare_func_exit: return to the caller (or, for a callback, to the helper call). */
export function prepareFuncExit(env: Env): void {
  const state = env.cur;
  const callee = state.frames[state.curframe]!;
  const r0 = callee.regs[0]!;
  if (r0.type === T.STACK) env.fail('cannot return stack pointer to the caller', 'EINVAL');
  const caller = state.frames[state.curframe - 1]!;
  if (callee.inCallbackFn) {
    if (r0.type !== T.SCALAR) env.fail('R0 not a scalar value');
    markChainPrecision(env, 0);
    if (!(BigInt(callee.callbackRetMin) <= r0.smin && r0.smax <= BigInt(callee.callbackRetMax))) {
      invalidScalar(env, r0, callee.callbackRetMin, callee.callbackRetMax, 'At callback return', 'R0');
      env.abort('EINVAL');
    }
  } else {
    caller.regs[0] = { ...r0 };
  }
  const inCallback = callee.inCallbackFn;
  env.insnIdx = inCallback ? callee.callsite : callee.callsite + 1;
  if (env.logLevel) {
    env.verbose('returning from callee:\n');
    printVerifierState(env, state, callee.frameno, true);
    env.verbose(`to caller at ${env.insnIdx}:\n`);
    printVerifierState(env, state, caller.frameno, true);
  }
  state.frames.length = state.curframe;
  state.curframe--;
  if (inCallback) {
    const prev = findPrevEntry(env, state, env.insnIdx);
    if (prev) widenImpreciseScalars(prev, state);
  }
}

function invalidScalar(env: Env, reg: Reg, min: number, max: number, ctx: string, name: string): void {
  let s = `${ctx} the register ${name} has`;
  let unknown = true;
  if (reg.smin > S64_MIN) {
    s += ` smin=${reg.smin}`;
    unknown = false;
  }
  if (reg.smax < S64_MAX) {
    s += ` smax=${reg.smax}`;
    unknown = false;
  }
  if (unknown) s += ' unknown scalar value';
  env.note(`${s} should have been in [${min}, ${max}]`);
}

/** check_return_code at the main program's exit. */
export function checkReturnCode(env: Env, regno: number, regName: string): void {
  const frame = env.cur.frames[0]!;
  const isSubprog = frame.subprogno !== 0;
  // program_returns_void: a struct_ops member returning void takes no return value
  if (!frame.inAsyncCallbackFn && !isSubprog && env.progType === ProgType.STRUCT_OPS && env.attach && !env.attach.proto.type) return;
  checkRegArg(env, regno, 'src');
  if (env.isPointerValue(regno)) env.fail(`R${regno} leaks addr as return value`);
  const reg = env.regs[regno]!;
  if (frame.inAsyncCallbackFn) {
    if (reg.type !== T.SCALAR) env.fail(`At async callback return the register R${regno} is not a known value (${regTypeStr(reg.type)})`, 'EINVAL');
    markChainPrecision(env, regno);
    if (!(BigInt(frame.callbackRetMin) <= reg.smin && reg.smax <= BigInt(frame.callbackRetMax))) {
      invalidScalar(env, reg, frame.callbackRetMin, frame.callbackRetMax, 'At async callback return', regName);
      env.abort('EINVAL');
    }
    return;
  }
  if (isSubprog) {
    if (reg.type !== T.SCALAR) env.fail(`At subprogram exit the register R${regno} is not a scalar value (${regTypeStr(reg.type)})`, 'EINVAL');
    return;
  }
  let range = returnRange(env.progType, env.expectedAttachType);
  let return32 = false;
  if (env.progType === ProgType.LSM && env.attach) {
    // check_return_code with the hook's prototype (bpf_lsm_get_retval_range)
    if (env.expectedAttachType !== AttachType.LSM_CGROUP) {
      range = lsmRetvalRange(env.attach);
      return32 = true;
    } else {
      range = env.attach.proto.type ? { min: 0, max: 1 } : { min: 1, max: 1 };
    }
  }
  if (!range) return;
  if (reg.type !== T.SCALAR) env.fail(`At program exit the register R${regno} is not a known value (${regTypeStr(reg.type)})`, 'EINVAL');
  markChainPrecision(env, regno);
  const within = return32
    ? BigInt(range.min) <= reg.s32min && reg.s32max <= BigInt(range.max)
    : BigInt(range.min) <= reg.smin && reg.smax <= BigInt(range.max);
  if (!within) {
    invalidScalar(env, reg, range.min, range.max, 'At program exit', regName);
    env.abort('EINVAL');
  }
}

/** check_ld_imm: `lddw` of a constant, a map, a map value address or a function. */
export function checkLdImm(env: Env, insn: RawInsn): void {
  if (size(insn.code) !== BPF_DW) env.fail('invalid BPF_LD_IMM insn', 'EINVAL');
  if (insn.off !== 0) env.fail('BPF_LD_IMM64 uses reserved fields', 'EINVAL');
  checkRegArg(env, insn.dst, 'dst');
  const dst = env.regs[insn.dst]!;
  const next = env.insns[env.insnIdx + 1]!;
  if (insn.src === 0) {
    dst.type = T.SCALAR;
    markKnown(dst, (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0));
    return;
  }
  markKnownZero(dst);
  if (insn.src === PSEUDO_FUNC) {
    const subprog = findSubprog(env, env.insnIdx + insn.imm + 1);
    if (!env.funcInfo) env.fail('missing btf func_info', 'EINVAL');
    if (env.subprogs[subprog]!.global) env.fail('callback function not static', 'EINVAL');
    dst.type = T.FUNC;
    dst.subprogno = subprog;
    return;
  }
  const aux = env.aux[env.insnIdx]!;
  if (insn.src === 3) {
    // a kernel variable or function (check_pseudo_btf_id typed it)
    const v = aux.btfVar!;
    dst.type = v.type;
    if (v.btfId) {
      dst.btfId = v.btfId;
      dst.btfName = env.kbtf()!.tryType(v.btfId)?.name ?? '';
    } else {
      dst.memSize = v.memSize;
    }
    return;
  }
  const map = env.maps[aux.mapIndex]!;
  if (insn.src === 2 || insn.src === 6) {
    if (map.type === MapType.ARENA) {
      markUnknown(dst);
      dst.map = map;
      return;
    }
    markKnownZero(dst);
    dst.type = T.MAP_VALUE;
    dst.off = aux.mapOff; // 6.18 keeps the value offset in reg->off
    dst.map = map;
  } else {
    dst.type = T.MAP_PTR;
    dst.map = map;
  }
}

/** check_ld_abs. */
export function checkLdAbs(env: Env, insn: RawInsn): void {
  const regs = env.regs;
  if (!env.typeInfo.ldAbs) env.fail('BPF_LD_[ABS|IND] instructions not allowed for this program type', 'EINVAL');
  if (insn.dst !== 0 || insn.off !== 0 || size(insn.code) === BPF_DW || (mode(insn.code) === 0x20 && insn.src !== 0)) {
    env.fail('BPF_LD_[ABS|IND] uses reserved fields', 'EINVAL');
  }
  checkRegArg(env, 6, 'src');
  checkResourceLeak(env, false, true, 'BPF_LD_[ABS|IND]');
  if (regs[6]!.type !== T.CTX) env.fail('at the time of BPF_LD_ABS|IND R6 != pointer to skb', 'EINVAL');
  if (mode(insn.code) === 0x40) checkRegArg(env, insn.src, 'src');
  checkPtrOffReg(env, regs[6]!, 6, false);
  for (const r of CALLER_SAVED) {
    markNotInit(regs[r]!);
    env.markRegScratched(r);
  }
  markUnknown(regs[0]!);
  // A failed load returns 0 from the function (the hidden exit of the
  // rewrite): in a subprogram the caller must see that return too.
  if (env.cur.curframe) {
    env.markRegScratched(0);
    pushStack(env, env.insnIdx + 1, env.insnIdx);
    markKnownZero(regs[0]!);
    prepareFuncExit(env);
    env.insnIdx--;
  }
}

/**
 * push_async_cb + set_timer_callback_state: a timer callback runs later, on
 * a fresh stack, as `cb(map, key, value)`; it is verified as a path of its
 * own starting at its first instruction, and must return 0.
 */
function pushAsyncCallback(env: Env, insnIdx: number, subprog: number, map: MapInfo): void {
  const sp = env.subprogs[subprog]!;
  sp.isAsyncCb = true;
  const st = newVState();
  const frame = newFuncState(-1, 0, subprog);
  frame.asyncEntryCnt = env.frame.asyncEntryCnt + 1;
  frame.inAsyncCallbackFn = true;
  frame.callbackRetMin = 0;
  frame.callbackRetMax = 0;
  const [, r1, r2, r3] = frame.regs;
  for (const [reg, type] of [[r1!, T.MAP_PTR], [r2!, T.MAP_KEY], [r3!, T.MAP_VALUE]] as const) {
    reg.type = type;
    markKnownZero(reg);
    reg.map = map;
  }
  st.frames.push(frame);
  st.firstInsnIdx = sp.start;
  st.lastInsnIdx = -1;
  env.head.push({ st, insnIdx: sp.start, prevInsnIdx: insnIdx, logPos: env.log.pos });
  if (env.head.length > BPF_COMPLEXITY_LIMIT_JMP_SEQ) env.fail(`The sequence of ${env.head.length} jumps is too complex for async cb.`, 'E2BIG');
}

/** The common end of the sync callbacks' states: the arguments from `firstUnused` on are not set, and the callback returns 0 or 1. */
export function syncCallbackRest(callee: FuncState, firstUnused: number): void {
  for (let r = firstUnused; r <= 5; r++) markNotInit(callee.regs[r]!);
  callee.inCallbackFn = true;
  callee.callbackRetMin = 0;
  callee.callbackRetMax = 1;
}

function setLoopCallbackState(caller: FuncState, callee: FuncState): void {
  callee.regs[1]!.type = T.SCALAR;
  callee.regs[2] = { ...caller.regs[3]! };
  syncCallbackRest(callee, 3);
}

function setMapElemCallbackState(caller: FuncState, callee: FuncState): void {
  const map = caller.regs[1]!.map;
  callee.regs[1] = { ...caller.regs[1]! };
  const key = callee.regs[2]!;
  key.type = T.MAP_KEY;
  markKnownZero(key);
  key.map = map;
  const value = callee.regs[3]!;
  value.type = T.MAP_VALUE;
  markKnownZero(value);
  value.map = map;
  callee.regs[4] = { ...caller.regs[3]! };
  syncCallbackRest(callee, 5);
}

/** set_find_vma_callback_state: (task, vma, ctx) for bpf_find_vma's callback, which runs once per matching VMA. */
function findVmaCallbackState(env: Env): (caller: FuncState, callee: FuncState) => void {
  return (caller, callee) => {
    callee.regs[1] = { ...caller.regs[1]! };
    const vma = callee.regs[2]!;
    const btf = env.kbtf();
    const id = btf ? findByNameKind(btf, 'vm_area_struct', 'STRUCT') : 0;
    markBtfLdReg(env, vma, true, btf && id > 0 ? btf : null, id > 0 ? id : 0, 0);
    if (!btf || id <= 0) vma.btfName = 'vm_area_struct';
    callee.regs[3] = { ...caller.regs[4]! };
    syncCallbackRest(callee, 4);
  };
}

/** set_user_ringbuf_callback_state: (dynptr, ctx) for bpf_user_ringbuf_drain's callback, which runs once per sample. */
function userRingbufCallbackState(env: Env): (caller: FuncState, callee: FuncState) => void {
  return (caller, callee) => {
    markNotInit(callee.regs[0]!);
    markDynptrCbReg(env, callee.regs[1]!, Dynptr.LOCAL);
    callee.regs[2] = { ...caller.regs[3]! };
    syncCallbackRest(callee, 3);
  };
}

/** check_helper_call. */
export function checkHelperCall(env: Env, insn: RawInsn): void {
  const funcId = insn.imm;
  const insnIdx = env.insnIdx;
  if (funcId < 0 || funcId >= 212) env.fail(`invalid func ${funcIdName(funcId)}#${funcId}`, 'EINVAL');
  const attach = env.attach;
  const sets = envHelperSets(env);
  const fn = envHelperProto(env, funcId);
  if (!sets.helpers.has(funcId)) {
    if (!attach && (env.progType === ProgType.TRACING || env.progType === ProgType.LSM)) {
      env.fail(`tsbpf: helper ${funcIdName(funcId)}#${funcId} is not among the helpers tsbpf gives tracing and LSM programs without their attach point's BTF (those of raw tracepoints; the kernel's depend on the attach point)`, 'ENOTSUPP');
    }
    env.fail(`program of this type cannot use helper ${funcIdName(funcId)}#${funcId}`, 'EINVAL');
  }
  if (!fn) env.fail(`tsbpf: helper ${funcIdName(funcId)}#${funcId} has no prototype in tsbpf's verifier`, 'ENOTSUPP');
  if (!env.gpl && sets.gpl.has(funcId)) env.fail('cannot call GPL-restricted function from non-GPL compatible program', 'EINVAL');
  if (attach) {
    const allowed = tracingHelperAllowed(funcId, env.progType, env.expectedAttachType, attach);
    if (allowed === 'refused') env.fail('helper call is not allowed in probe', 'EINVAL');
    if (allowed !== null) env.fail(allowed, 'ENOTSUPP');
  } else if (fn.allowedOnlyForTracing && env.progType !== ProgType.TRACING && env.progType !== ProgType.LSM) {
    env.fail('helper call is not allowed in probe', 'EINVAL');
  }
  if (!env.sleepable && fn.mightSleep) env.fail('helper call might sleep in a non-sleepable prog', 'EINVAL');
  if (env.cur.activeRcuLock && fn.mightSleep) env.fail(`sleepable helper ${funcIdName(funcId)}#${funcId} in rcu_read_lock region`, 'EINVAL');
  const meta: CallMeta = {
    map: null, mapUid: 0, rawMode: false, pktAccess: fn.pktAccess === true, releaseRegno: 0, regno: 0, accessSize: 0,
    memSize: 0, msizeMaxValue: 0n, refObjId: 0, funcId, subprogno: 0, constMapKey: -1n, dynptr: null, retBtfId: 0, kptrField: null,
  };
  for (let i = 0; i < 5; i++) checkFuncArg(env, i, meta, fn);
  const map = meta.map;
  if ([
    BpfFunc.tail_call, BpfFunc.map_lookup_elem, BpfFunc.map_update_elem, BpfFunc.map_delete_elem, BpfFunc.map_push_elem,
    BpfFunc.map_pop_elem, BpfFunc.map_peek_elem, BpfFunc.for_each_map_elem, BpfFunc.redirect_map, BpfFunc.map_lookup_percpu_elem,
  ].includes(funcId)) {
    if (!map) env.fail('verifier bug: expected map for helper call', 'EFAULT');
    if ((map.flags & MapFlags.RDONLY_PROG) && (funcId === BpfFunc.map_delete_elem || funcId === BpfFunc.map_update_elem || funcId === BpfFunc.map_push_elem || funcId === BpfFunc.map_pop_elem)) env.fail('write into map forbidden');
  }
  if (funcId === BpfFunc.tail_call) {
    const r3 = env.regs[3]!;
    if (!map || map.type !== MapType.PROG_ARRAY) {
      env.note('expected prog array map for tail call', false); // the kernel prints it without a newline
      env.abort('EINVAL');
    }
    if (r3.type === T.SCALAR && tnumIsConst(r3.varOff) && r3.varOff.value < BigInt(map.maxEntries)) markChainPrecision(env, 3);
  }
  for (let i = 0; i < meta.accessSize; i++) checkMemAccess(env, insnIdx, meta.regno, i, 1, 'write', -1, false, false);
  const regs = env.regs;
  if (meta.releaseRegno) {
    let ok = false;
    if ((fn.args[meta.releaseRegno - 1]! & 0xff) === A.PTR_TO_DYNPTR) {
      unmarkStackSlotsDynptr(env, regs[meta.releaseRegno]!);
      ok = true;
    } else if (meta.refObjId) ok = releaseReference(env, meta.refObjId);
    else if (isNullReg(regs[meta.releaseRegno]!)) ok = true;
    if (!ok) env.fail(`func ${funcIdName(funcId)}#${funcId} reference has not been acquired before`, 'EINVAL');
  }
  let changesDynptrData = false;
  switch (funcId) {
    case BpfFunc.dynptr_from_mem:
      if (regs[1]!.type !== T.MAP_VALUE) env.fail(`Unsupported reg type ${regTypeStr(regs[1]!.type)} for bpf_dynptr_from_mem data`, 'EACCES');
      break;
    case BpfFunc.dynptr_data:
      // the slice lives as long as the dynptr (and its record)
      meta.refObjId = meta.dynptr?.refObjId ?? 0;
      break;
    case BpfFunc.dynptr_write:
      // writing an skb dynptr may move the packet: its slices and packet pointers go
      changesDynptrData = meta.dynptr?.type === Dynptr.SKB || meta.dynptr?.type === Dynptr.SKB_META;
      break;
    case BpfFunc.tail_call:
      checkResourceLeak(env, false, true, 'tail_call');
      break;
    case BpfFunc.get_local_storage:
      if (!isNullReg(regs[2]!)) env.fail("get_local_storage() doesn't support non-zero flags", 'EINVAL');
      markChainPrecision(env, 2); // (measured on 6.18.44, as for NULL arguments)
      break;
    case BpfFunc.for_each_map_elem:
      pushCallbackCall(env, insnIdx, meta.subprogno, setMapElemCallbackState);
      break;
    case BpfFunc.find_vma:
      pushCallbackCall(env, insnIdx, meta.subprogno, findVmaCallbackState(env));
      break;
    case BpfFunc.user_ringbuf_drain:
      pushCallbackCall(env, insnIdx, meta.subprogno, userRingbufCallbackState(env));
      break;
    case BpfFunc.timer_set_callback:
      pushAsyncCallback(env, insnIdx, meta.subprogno, meta.map!);
      break;
    case BpfFunc.loop: {
      updateLoopInlineState(env, insnIdx, meta.subprogno);
      markChainPrecision(env, 1);
      if (BigInt(env.frame.callbackDepth) < regs[1]!.umax) {
        pushCallbackCall(env, insnIdx, meta.subprogno, setLoopCallbackState);
      } else {
        env.frame.callbackDepth = 0;
        if (env.logLevel & 2) env.verbose(`frame${env.cur.curframe} bpf_loop iteration limit reached\n`);
      }
      break;
    }
    default:
      break;
  }
  for (const r of CALLER_SAVED) {
    markNotInit(regs[r]!);
    env.markRegScratched(r);
  }
  const r0 = regs[0]!;
  const retBase = fn.ret & 0xff;
  const retFlags = fn.ret & ~0xff;
  switch (retBase) {
    case R.INTEGER:
      markUnknown(r0);
      break;
    case R.VOID:
      r0.type = T.NOT_INIT;
      break;
    case R.PTR_TO_MAP_VALUE: {
      markKnownZero(r0);
      if (!map) env.fail('verifier bug: unexpected null map_ptr', 'EFAULT');
      let flags = retFlags & RF.MAYBE_NULL ? F.MAYBE_NULL : 0;
      if (funcId === BpfFunc.map_lookup_elem && canElideValueNullness(map)
        && meta.constMapKey >= 0n && meta.constMapKey < BigInt(map.maxEntries)) flags = 0;
      r0.map = map;
      r0.mapUid = meta.mapUid;
      r0.type = T.MAP_VALUE | flags;
      // what a map of maps, an AF_XDP socket map or a socket map holds
      // (6.18 types the lookup's result at the call, not at the null check)
      if (map.inner) {
        r0.type = T.MAP_PTR | flags;
        r0.map = map.inner;
      } else if (funcId === BpfFunc.map_lookup_elem && map.type === MapType.XSKMAP) {
        r0.type = T.XDP_SOCK | flags;
      } else if (funcId === BpfFunc.map_lookup_elem && (map.type === MapType.SOCKMAP || map.type === MapType.SOCKHASH)) {
        r0.type = T.SOCKET | flags;
      }
      // A value with a spin lock gets an id even when it cannot be NULL: unlocks are matched with locks by it.
      if (!flags && map.spinLockOff >= 0) r0.id = env.nextId();
      break;
    }
    case R.PTR_TO_SOCKET:
      markKnownZero(r0);
      r0.type = T.SOCKET | (retFlags & RF.MAYBE_NULL ? F.MAYBE_NULL : 0);
      break;
    case R.PTR_TO_SOCK_COMMON:
      markKnownZero(r0);
      r0.type = T.SOCK_COMMON | (retFlags & RF.MAYBE_NULL ? F.MAYBE_NULL : 0);
      break;
    case R.PTR_TO_TCP_SOCK:
      markKnownZero(r0);
      r0.type = T.TCP_SOCK | (retFlags & RF.MAYBE_NULL ? F.MAYBE_NULL : 0);
      break;
    case R.PTR_TO_MEM:
      markKnownZero(r0);
      r0.type = T.MEM | (retFlags & RF.MAYBE_NULL ? F.MAYBE_NULL : 0) | (retFlags & RF.RINGBUF ? F.RINGBUF : 0) | (retFlags & RF.RDONLY ? F.RDONLY : 0);
      r0.memSize = meta.memSize;
      break;
    case R.PTR_TO_BTF_ID: {
      // a kernel object described by BTF (task_struct, ...); without the
      // kernel BTF tsbpf knows only its name and refuses accesses through it
      markKnownZero(r0);
      r0.type = T.BTF_ID | (funcId === BpfFunc.get_current_task_btf ? F.TRUSTED : 0) | (retFlags & RF.MAYBE_NULL ? F.MAYBE_NULL : 0);
      if (funcId === BpfFunc.kptr_xchg && meta.kptrField?.kptr) {
        // the old value: a kernel object, or the program's own allocated object
        const k = meta.kptrField.kptr;
        if (k.local) r0.type |= F.ALLOC | (meta.kptrField.type === 'percpu_kptr' ? F.PERCPU : 0);
        r0.btfId = k.btfId;
        r0.btfName = k.name;
        break;
      }
      r0.btfName = fn.retBtf ?? '';
      const btf = env.kbtf();
      if (btf && fn.retBtf) r0.btfId = Math.max(0, structId(btf, fn.retBtf));
      break;
    }
    case R.PTR_TO_MEM_OR_BTF_ID: {
      // bpf_per_cpu_ptr / bpf_this_cpu_ptr: the variable's type, read-only
      markKnownZero(r0);
      const btf = env.kbtf()!;
      const { t, id } = skipModifiers(btf, meta.retBtfId);
      const nullable = retFlags & RF.MAYBE_NULL ? F.MAYBE_NULL : 0;
      if (!isStruct(t)) {
        const r = resolveSize(btf, id);
        if (!r) env.fail(`unable to resolve the size of type '${t.name}': -22`, 'EINVAL');
        r0.type = T.MEM | F.RDONLY | nullable;
        r0.memSize = r.size;
      } else {
        r0.type = T.BTF_ID | nullable;
        r0.btfId = meta.retBtfId;
        r0.btfName = typeName(btf, meta.retBtfId);
      }
      break;
    }
    default:
      env.fail(`unknown return type ${retBase} of func ${funcIdName(funcId)}#${funcId}`, 'EINVAL');
  }
  if (mayBeNull(r0.type)) r0.id = env.nextId();
  const isAcquire = funcId === BpfFunc.sk_lookup_tcp || funcId === BpfFunc.sk_lookup_udp || funcId === BpfFunc.skc_lookup_tcp || funcId === BpfFunc.ringbuf_reserve || funcId === BpfFunc.kptr_xchg
    || (funcId === BpfFunc.map_lookup_elem && map !== null && (map.type === MapType.SOCKMAP || map.type === MapType.SOCKHASH));
  const isPtrCast = funcId === BpfFunc.tcp_sock || funcId === BpfFunc.sk_fullsock || [
    BpfFunc.skc_to_tcp6_sock, BpfFunc.skc_to_tcp_sock, BpfFunc.skc_to_tcp_timewait_sock, BpfFunc.skc_to_tcp_request_sock,
    BpfFunc.skc_to_udp6_sock, BpfFunc.skc_to_mptcp_sock,
  ].includes(funcId);
  if (funcId === BpfFunc.dynptr_data) r0.dynptrId = meta.dynptr?.id ?? 0;
  if (isPtrCast || funcId === BpfFunc.dynptr_data) {
    r0.refObjId = meta.refObjId;
  } else if (isAcquire) {
    const id = acquireReference(env, insnIdx);
    r0.id = id;
    r0.refObjId = id;
  }
  if (fn.ret === R.INTEGER) {
    if (funcId === BpfFunc.get_stack || funcId === BpfFunc.get_task_stack || funcId === BpfFunc.probe_read_str || funcId === BpfFunc.probe_read_kernel_str || funcId === BpfFunc.probe_read_user_str) {
      r0.smax = meta.msizeMaxValue;
      r0.s32max = BigInt.asIntN(32, meta.msizeMaxValue);
      r0.smin = -4095n;
      r0.s32min = -4095n;
      regBoundsSync(r0);
    } else if (funcId === BpfFunc.get_smp_processor_id) {
      const ncpu = BigInt(env.nrCpus - 1);
      r0.umax = ncpu;
      r0.u32max = ncpu;
      r0.smax = ncpu;
      r0.s32max = ncpu;
      r0.umin = 0n;
      r0.u32min = 0n;
      r0.smin = 0n;
      r0.s32min = 0n;
      regBoundsSync(r0);
    }
  }
  checkMapFuncCompatibility(env, map, funcId);
  if (funcId === BpfFunc.get_func_ip) {
    // check_get_func_ip
    if (env.progType === ProgType.TRACING && attach && !hasTrampoline(env.progType, env.expectedAttachType)) {
      env.fail(`func ${funcIdName(funcId)}#${funcId} supported only for fentry/fexit/fmod_ret programs`, 'ENOTSUPP');
    }
    if (env.progType !== ProgType.KPROBE && env.progType !== ProgType.TRACING) env.fail(`func ${funcIdName(funcId)}#${funcId} not supported for program type ${env.progType}`, 'ENOTSUPP');
  }
  if (funcId === BpfFunc.set_retval && env.progType === ProgType.LSM && env.expectedAttachType === AttachType.LSM_CGROUP && attach && !attach.proto.type) {
    env.fail("BPF_LSM_CGROUP that attach to void LSM hooks can't modify return value!", 'EINVAL');
  }
  let changesData = fn.changesPkt === true || changesDynptrData;
  if (funcId === BpfFunc.tail_call) {
    if (env.cur.curframe) {
      env.markRegScratched(0);
      pushStack(env, env.insnIdx + 1, env.insnIdx);
      clearAllPktPointers(env);
      markUnknown(regs[0]!);
      prepareFuncExit(env);
      env.insnIdx--;
    } else {
      changesData = false;
    }
  }
  if (changesData) clearAllPktPointers(env);
  void U32_MAX;
}

export { markPtrNotNullReg };
