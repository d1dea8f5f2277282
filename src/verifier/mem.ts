/**
 * Memory accesses: stack spills and fills, map values and keys, packet
 * data, the context, memory from helpers (ring buffer records), with the
 * kernel's bounds and initialisation rules and messages (check_mem_access
 * and the functions below it).
 */
import type { Env } from './env.js';
import { parseRanges } from './prog-types.js';
import { SOCK_ACCESS, SOCK_CONVERSION_FAILS } from './sock-access.js';
import { mapCaps } from './map-flags.js';
import type { Reg } from './reg.js';
import {
  baseType, coerceRegToSize, coerceRegToSizeSx, F, isNullReg, isPktPointer, isSkPointer, markConstScalar, markKnown, markKnownZero, markUnknown, mayBeNull, regTypeStr, regWidth, T,
} from './reg.js';
import type { FuncState } from './state.js';
import {
  growStack, INSN_F_STACK_ACCESS, isSpilledReg, isSpilledScalarReg, MAX_BPF_STACK, REG_SIZE, STACK_DYNPTR, STACK_INVALID, STACK_ITER, STACK_MISC, STACK_SPILL, STACK_ZERO,
} from './state.js';
import { fieldTypeName, isKptrField, recordFind } from './btf-record.js';
import { checkMapKptrAccess } from './kptrs.js';
import { tnumAdd, tnumConst, tnumIsAligned, tnumIsConst, tnumStr } from './tnum.js';
import { assignScalarIdBeforeMov, markChainPrecision, pushJmpHistory } from './precision.js';
import { markStackRead, markStackWrite } from './liveness.js';
import { checkFastcallStackContract } from './fastcall.js';
import { destroyIfDynptrStackSlot } from './dynptrs.js';
import { btfCtxAccess, lsmRetvalRange } from './attach.js';
import { checkPtrToBtfAccess, markBtfAccessResult, markRegS32Range, WALK_FLAGS } from './btf-access.js';
import { btfStructAccess, findByNameKind, typeName } from './kbtf.js';
import { AttachType, ProgType } from '../isa/uapi.js';

export const BPF_MAX_VAR_OFF = 1 << 29;
export const BPF_MAX_VAR_SIZ = 1 << 29;


export type AccessType = 'read' | 'write';

/** Stack frame a PTR_TO_STACK register points into. */
export function funcOf(env: Env, reg: Reg): FuncState {
  return env.cur.frames[reg.frameno]!;
}

function isSpillableRegtype(t: number): boolean {
  switch (baseType(t)) {
    case T.MAP_VALUE: case T.STACK: case T.CTX: case T.PACKET: case T.PACKET_META: case T.PACKET_END:
    case T.FLOW_KEYS: case T.MAP_PTR: case T.SOCKET: case T.SOCK_COMMON: case T.TCP_SOCK: case T.XDP_SOCK:
    case T.BTF_ID: case T.BUF: case T.MEM: case T.FUNC: case T.MAP_KEY: case T.ARENA:
      return true;
    default:
      return false;
  }
}

function insnFlags(frameno: number, spi: number): number {
  return INSN_F_STACK_ACCESS | (spi << 4) | frameno;
}

function saveRegisterState(f: FuncState, spi: number, reg: Reg, size: number): void {
  Object.assign(f.spilled[spi]!, reg);
  let i = REG_SIZE;
  for (; i > REG_SIZE - size; i--) f.slotType[spi * REG_SIZE + i - 1] = STACK_SPILL;
  for (; i; i--) {
    const idx = spi * REG_SIZE + i - 1;
    // mark_stack_slot_misc: keep STACK_ZERO, leave STACK_INVALID when uninit reads are allowed
    if (f.slotType[idx] === STACK_ZERO || f.slotType[idx] === STACK_INVALID) continue;
    f.slotType[idx] = STACK_MISC;
  }
}

/** is_stack_slot_special: a spilled register, a dynptr or an iterator (a plain write scrubs it). */
function isStackSlotSpecial(f: FuncState, spi: number): boolean {
  const t = f.slotType[spi * REG_SIZE + REG_SIZE - 1];
  return t === STACK_SPILL || t === STACK_DYNPTR || t === STACK_ITER;
}

/** A byte a plain read may load: data, zero, or uninitialised (privileged programs may read those). */
function plainReadable(t: number): boolean {
  return t === STACK_MISC || t === STACK_ZERO || t === STACK_INVALID;
}

function scrubSpilledSlot(f: FuncState, idx: number): void {
  if (f.slotType[idx] !== STACK_INVALID) f.slotType[idx] = STACK_MISC;
}

/** check_stack_write_fixed_off. */
function stackWriteFixedOff(env: Env, state: FuncState, off: number, size: number, valueRegno: number, insnIdx: number): void {
  const slot = -off - 1;
  const spi = Math.floor(slot / REG_SIZE);
  let flags = insnFlags(state.frameno, spi);
  const insn = env.insns[insnIdx]!;
  const cur = env.frame;
  const reg = valueRegno >= 0 ? cur.regs[valueRegno]! : null;
  if (off % REG_SIZE === 0 && size === REG_SIZE) markStackWrite(env, state.frameno, spi);
  destroyIfDynptrStackSlot(env, state, spi);
  checkFastcallStackContract(env, state.subprogno, insnIdx, off);
  env.markStackSlotScratched(spi);
  const isStMem = (insn.code & 0x07) === 0x02;
  if (reg && off % REG_SIZE === 0 && reg.type === T.SCALAR) {
    const fits = regWidth(reg) <= 8 * size;
    if (fits) assignScalarIdBeforeMov(env, reg);
    saveRegisterState(state, spi, reg, size);
    if (!fits) {
      state.spilled[spi]!.id = 0;
      state.spilled[spi]!.addConst = 0;
      state.spilled[spi]!.delta = 0;
    }
  } else if (!reg && off % REG_SIZE === 0 && isStMem) {
    const tmp = { ...state.spilled[spi]! };
    markConstScalar(tmp, BigInt(insn.imm));
    tmp.frameno = 0;
    tmp.subregDef = 0;
    saveRegisterState(state, spi, tmp, size);
  } else if (reg && isSpillableRegtype(reg.type)) {
    if (size !== REG_SIZE) env.fail('invalid size of register spill');
    if (state !== cur && reg.type === T.STACK) env.fail('cannot spill pointers to stack into stack frame of the caller', 'EINVAL');
    saveRegisterState(state, spi, reg, size);
  } else {
    let type = STACK_MISC;
    state.spilled[spi]!.type = T.NOT_INIT;
    if (isStackSlotSpecial(state, spi)) {
      for (let i = 0; i < REG_SIZE; i++) scrubSpilledSlot(state, spi * REG_SIZE + i);
    }
    if ((reg && isNullReg(reg)) || (!reg && isStMem && insn.imm === 0)) {
      markChainPrecision(env, valueRegno);
      type = STACK_ZERO;
    }
    for (let i = 0; i < size; i++) state.slotType[spi * REG_SIZE + ((slot - i) % REG_SIZE)] = type;
    flags = 0;
  }
  if (flags) pushJmpHistory(env, env.cur, flags, null);
}

/** check_stack_write_var_off. */
function stackWriteVarOff(env: Env, state: FuncState, ptrRegno: number, off: number, size: number, valueRegno: number, insnIdx: number): void {
  const ptr = env.regs[ptrRegno]!;
  const minOff = Number(ptr.smin) + off;
  const maxOff = Number(ptr.smax) + off + size;
  const value = valueRegno >= 0 ? env.regs[valueRegno]! : null;
  const insn = env.insns[env.insnIdx]!;
  const writingZero = (value !== null && isNullReg(value)) || (value === null && (insn.code & 7) === 0x02 && insn.imm === 0);
  let zeroUsed = false;
  for (let i = minOff; i < maxOff; i++) destroyIfDynptrStackSlot(env, state, Math.floor((-i - 1) / REG_SIZE));
  checkFastcallStackContract(env, state.subprogno, insnIdx, minOff);
  for (let i = minOff; i < maxOff; i++) {
    const slot = -i - 1;
    const spi = Math.floor(slot / REG_SIZE);
    const idx = spi * REG_SIZE + (slot % REG_SIZE);
    env.markStackSlotScratched(spi);
    const stype = state.slotType[idx]!;
    if (writingZero && stype === STACK_SPILL && isSpilledScalarReg(state, spi)) {
      const sr = state.spilled[spi]!;
      if (tnumIsConst(sr.varOff) && sr.varOff.value === 0n) {
        zeroUsed = true;
        continue;
      }
    }
    state.spilled[spi]!.type = T.NOT_INIT;
    // the rest of a spilled slot is no spill any more either (a later narrow fill of it reads plain bytes)
    for (let j = spi * REG_SIZE; j < (spi + 1) * REG_SIZE; j++) if (state.slotType[j] === STACK_SPILL) state.slotType[j] = STACK_MISC;
    let newType = STACK_MISC;
    if (writingZero && stype === STACK_ZERO) {
      newType = STACK_ZERO;
      zeroUsed = true;
    }
    state.slotType[idx] = newType;
  }
  if (zeroUsed) markChainPrecision(env, valueRegno);
}

/** mark_reg_stack_read. */
function markRegStackRead(env: Env, ptrState: FuncState, minOff: number, maxOff: number, dstRegno: number): void {
  let zeros = 0;
  for (let i = minOff; i < maxOff; i++) {
    const slot = -i - 1;
    const spi = Math.floor(slot / REG_SIZE);
    env.markStackSlotScratched(spi);
    if (ptrState.slotType[spi * REG_SIZE + (slot % REG_SIZE)] !== STACK_ZERO) break;
    zeros++;
  }
  const dst = env.regs[dstRegno]!;
  if (zeros === maxOff - minOff) markConstScalar(dst, 0n);
  else markUnknown(dst);
}

/** check_stack_read_fixed_off. */
function stackReadFixedOff(env: Env, regState: FuncState, off: number, size: number, dstRegno: number): void {
  const state = env.frame;
  const slot = -off - 1;
  const spi = Math.floor(slot / REG_SIZE);
  let flags = insnFlags(regState.frameno, spi);
  const base = spi * REG_SIZE;
  const reg = regState.spilled[spi]!;
  env.markStackSlotScratched(spi);
  // (of the frame read: a callee reading its caller's slots through a pointer breaks the caller's contract, measured on 6.18.44)
  checkFastcallStackContract(env, regState.subprogno, env.insnIdx, off);
  markStackRead(env, regState.frameno, spi);
  if (isSpilledReg(regState, spi)) {
    let spillSize = 1;
    for (let i = REG_SIZE - 1; i > 0 && regState.slotType[base + i - 1] === STACK_SPILL; i--) spillSize++;
    if (size !== REG_SIZE || spillSize !== REG_SIZE) {
      if (reg.type !== T.SCALAR) env.fail('invalid size of register fill');
      if (dstRegno < 0) return;
      if (size <= spillSize && narrowOk(off, size, spillSize)) {
        const dst = state.regs[dstRegno]!;
        const subregDef = dst.subregDef;
        if (size === 4 && spillSize === 4 && regWidth(reg) <= 32) assignScalarIdBeforeMov(env, reg);
        Object.assign(dst, reg);
        dst.subregDef = subregDef;
        if (regWidth(reg) > size * 8) {
          dst.id = 0;
          dst.addConst = 0;
          dst.delta = 0;
        }
      } else {
        let spillCnt = 0;
        let zeroCnt = 0;
        for (let i = 0; i < size; i++) {
          const type = regState.slotType[base + ((slot - i) % REG_SIZE)]!;
          if (type === STACK_SPILL) {
            spillCnt++;
            continue;
          }
          if (type === STACK_MISC || type === STACK_INVALID) continue;
          if (type === STACK_ZERO) {
            zeroCnt++;
            continue;
          }
          env.fail(`invalid read from stack off ${off}+${i} size ${size}`);
        }
        const dst = state.regs[dstRegno]!;
        if (spillCnt === size && tnumIsConst(reg.varOff) && reg.varOff.value === 0n) {
          markConstScalar(dst, 0n);
        } else if (zeroCnt === size) {
          markConstScalar(dst, 0n);
          flags = 0;
        } else {
          markUnknown(dst);
          flags = 0;
        }
      }
    } else if (dstRegno >= 0) {
      assignScalarIdBeforeMov(env, reg);
      Object.assign(state.regs[dstRegno]!, reg);
    }
  } else {
    for (let i = 0; i < size; i++) {
      if (!plainReadable(regState.slotType[base + ((slot - i) % REG_SIZE)]!)) env.fail(`invalid read from stack off ${off}+${i} size ${size}`);
    }
    if (dstRegno >= 0) markRegStackRead(env, regState, off, off + size, dstRegno);
    flags = 0;
  }
  if (flags) pushJmpHistory(env, env.cur, flags, null);
}

/** bpf_stack_narrow_access_ok (little-endian: the low bytes of a spill are at its slot's lowest address). */
function narrowOk(off: number, _size: number, _spillSize: number): boolean {
  return off % REG_SIZE === 0;
}

/** check_stack_range_initialized. */
export function checkStackRangeInitialized(env: Env, regno: number, off: number, accessSize: number,
  zeroSizeAllowed: boolean, type: AccessType, meta: { rawMode: boolean; accessSize: number; regno: number } | null): void {
  const reg = env.regs[regno]!;
  const state = funcOf(env, reg);
  if (accessSize === 0 && !zeroSizeAllowed) env.fail('invalid zero-sized read');
  const clobber = type === 'write';
  checkStackAccessWithinBounds(env, regno, off, accessSize, type);
  let minOff: number;
  let maxOff: number;
  if (tnumIsConst(reg.varOff)) {
    minOff = maxOff = Number(BigInt.asIntN(64, reg.varOff.value)) + off;
  } else {
    if (meta && meta.rawMode) meta = null;
    minOff = Number(reg.smin) + off;
    maxOff = Number(reg.smax) + off;
  }
  if (meta && meta.rawMode) {
    // a helper writing here byte by byte could corrupt a dynptr the call also uses
    for (let i = minOff; i < maxOff + accessSize; i++) {
      const slot = -i - 1;
      if (state.allocatedStack <= slot) continue;
      if (state.slotType[Math.floor(slot / REG_SIZE) * REG_SIZE + (slot % REG_SIZE)] === STACK_DYNPTR) env.fail(`potential write to dynptr at off=${i} disallowed`, 'EACCES');
    }
    meta.accessSize = accessSize;
    meta.regno = regno;
    return;
  }
  for (let i = minOff; i < maxOff + accessSize; i++) {
    const slot = -i - 1;
    const spi = Math.floor(slot / REG_SIZE);
    if (state.allocatedStack <= slot) env.fail('allocated_stack too small', 'EFAULT');
    const idx = spi * REG_SIZE + (slot % REG_SIZE);
    const st = state.slotType[idx]!;
    if (st === STACK_MISC) {
      markStackRead(env, reg.frameno, spi);
      continue;
    }
    if (st === STACK_ZERO || st === STACK_INVALID) {
      if (clobber) state.slotType[idx] = STACK_MISC;
      markStackRead(env, reg.frameno, spi);
      continue;
    }
    if (isSpilledReg(state, spi)) {
      if (clobber) {
        markUnknown(state.spilled[spi]!);
        for (let j = 0; j < REG_SIZE; j++) scrubSpilledSlot(state, spi * REG_SIZE + j);
      }
      markStackRead(env, reg.frameno, spi);
      continue;
    }
    if (tnumIsConst(reg.varOff)) env.fail(`invalid read from stack R${regno} off ${minOff}+${i - minOff} size ${accessSize}`);
    env.fail(`invalid read from stack R${regno} var_off ${tnumStr(reg.varOff)}+${i - minOff} size ${accessSize}`);
  }
  // A helper's (or a global function's) access to the fastcall slots breaks
  // the contract as the program's own would; a zero-sized one does not
  // (measured on 6.18.44, whose verifier does this where 6.12's did not).
  if (accessSize > 0) checkFastcallStackContract(env, state.subprogno, env.insnIdx, minOff);
}

/** check_stack_access_within_bounds (off includes reg->off). */
export function checkStackAccessWithinBounds(env: Env, regno: number, off: number, accessSize: number, type: AccessType): void {
  const reg = env.regs[regno]!;
  const state = funcOf(env, reg);
  const extra = type === 'read' ? ' read from' : ' write to';
  let minOff: number;
  let maxOff: number;
  if (tnumIsConst(reg.varOff)) {
    minOff = Number(BigInt.asIntN(64, reg.varOff.value)) + off;
    maxOff = minOff + accessSize;
  } else {
    if (reg.smax >= BigInt(BPF_MAX_VAR_OFF) || reg.smin <= -BigInt(BPF_MAX_VAR_OFF)) {
      env.fail(`invalid unbounded variable-offset${extra} stack R${regno}`);
    }
    minOff = Number(reg.smin) + off;
    maxOff = Number(reg.smax) + off + accessSize;
  }
  let err = minOff < -MAX_BPF_STACK || minOff > -1;
  if (!err && maxOff > 0) err = true;
  if (!err && accessSize < 0) err = true;
  if (err) {
    if (tnumIsConst(reg.varOff)) env.fail(`invalid${extra} stack R${regno} off=${minOff} size=${accessSize}`);
    env.fail(`invalid variable-offset${extra} stack R${regno} var_off=${tnumStr(reg.varOff)} off=${off} size=${accessSize}`);
  }
  growStack(state, -minOff);
  const sp = env.subprogs[state.subprogno]!;
  if (sp.stackDepth < state.allocatedStack) sp.stackDepth = state.allocatedStack;
}

function checkStackRead(env: Env, ptrRegno: number, off: number, size: number, dstRegno: number): void {
  const reg = env.regs[ptrRegno]!;
  const state = funcOf(env, reg);
  const varOff = !tnumIsConst(reg.varOff);
  if (dstRegno < 0 && varOff) {
    env.fail(`variable offset stack pointer cannot be passed into helper function; var_off=${tnumStr(reg.varOff)} off=${off} size=${size}`);
  }
  if (!varOff) {
    stackReadFixedOff(env, state, off + Number(BigInt.asIntN(64, reg.varOff.value)), size, dstRegno);
  } else {
    checkStackRangeInitialized(env, ptrRegno, off, size, false, 'read', null);
    const minOff = Number(reg.smin) + off;
    const maxOff = Number(reg.smax) + off;
    markRegStackRead(env, state, minOff, maxOff + size, dstRegno);
    checkFastcallStackContract(env, state.subprogno, env.insnIdx, minOff);
  }
}

function checkStackWrite(env: Env, ptrRegno: number, off: number, size: number, valueRegno: number, insnIdx: number): void {
  const reg = env.regs[ptrRegno]!;
  const state = funcOf(env, reg);
  if (tnumIsConst(reg.varOff)) {
    stackWriteFixedOff(env, state, off + Number(BigInt.asIntN(64, reg.varOff.value)), size, valueRegno, insnIdx);
  } else {
    stackWriteVarOff(env, state, ptrRegno, off, size, valueRegno, insnIdx);
  }
}

/** __check_mem_access: [off, off+size) inside [0, memSize). */
function checkMemAccessBounds(env: Env, regno: number, off: number, size: number, memSize: number, zeroSizeAllowed: boolean): void {
  const sizeOk = size > 0 || (size === 0 && zeroSizeAllowed);
  if (off >= 0 && sizeOk && off + size <= memSize) return;
  const reg = env.regs[regno]!;
  switch (reg.type) {
    case T.MAP_KEY:
      env.fail(`invalid access to map key, key_size=${memSize} off=${off} size=${size}`);
      break;
    case T.MAP_VALUE:
      env.fail(`invalid access to map value, value_size=${memSize} off=${off} size=${size}`);
      break;
    case T.PACKET: case T.PACKET_META: case T.PACKET_END:
      env.fail(`invalid access to packet, off=${off} size=${size}, R${regno}(id=${reg.id},off=${off},r=${memSize})`);
      break;
    default:
      env.fail(`invalid access to memory, mem_size=${memSize >>> 0} off=${off} size=${size}`);
  }
}

/** check_mem_region_access: a region with a possibly variable offset. */
export function checkMemRegionAccess(env: Env, regno: number, off: number, size: number, memSize: number, zeroSizeAllowed: boolean): void {
  const reg = env.regs[regno]!;
  const smin = reg.smin;
  if (smin < 0n && (smin === -(1n << 63n) || BigInt(off) + smin !== BigInt.asIntN(32, BigInt(off) + smin) || smin + BigInt(off) < 0n)) {
    env.fail(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  }
  try {
    checkMemAccessBounds(env, regno, Number(smin) + off, size, memSize, zeroSizeAllowed);
  } catch (e) {
    env.note(`R${regno} min value is outside of the allowed memory range`);
    throw e;
  }
  if (reg.umax >= BigInt(BPF_MAX_VAR_OFF)) {
    env.fail(`R${regno} unbounded memory access, make sure to bounds check any such access`);
  }
  try {
    checkMemAccessBounds(env, regno, Number(reg.umax) + off, size, memSize, zeroSizeAllowed);
  } catch (e) {
    env.note(`R${regno} max value is outside of the allowed memory range`);
    throw e;
  }
}

/** __check_ptr_off_reg (6.18: fixed offset in reg.off, variable part in var_off). */
export function checkPtrOffReg(env: Env, reg: Reg, regno: number, fixedOffOk: boolean): void {
  if (reg.off < 0) env.fail(`negative offset ${regTypeStr(reg.type)} ptr R${regno} off=${reg.off} disallowed`);
  if (!fixedOffOk && reg.off) env.fail(`dereference of modified ${regTypeStr(reg.type)} ptr R${regno} off=${reg.off} disallowed`);
  if (!tnumIsConst(reg.varOff) || reg.varOff.value) {
    env.fail(`variable ${regTypeStr(reg.type)} access var_off=${tnumStr(reg.varOff)} disallowed`);
  }
}

function checkMapAccessType(env: Env, regno: number, off: number, size: number, type: AccessType): void {
  const reg = env.regs[regno]!;
  const map = reg.map!;
  const caps = mapCaps(map);
  if (type === 'write' && !caps.write) {
    env.fail(`write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
  }
  if (type === 'read' && !caps.read) {
    env.fail(`read from map forbidden, value_size=${map.valueSize} off=${off} size=${size}`);
  }
}

function checkMapAccess(env: Env, regno: number, off: number, size: number, zeroSizeAllowed: boolean, direct: boolean): void {
  const reg = env.regs[regno]!;
  const map = reg.map!;
  checkMemRegionAccess(env, regno, off, size, map.valueSize, zeroSizeAllowed);
  // The kernel objects in a value (its btf_record) cannot be loaded or
  // stored, kptrs aside: those are 8-byte loads and stores at their offset.
  for (const f of map.record?.fields ?? []) {
    if (!(reg.smin + BigInt(off) < BigInt(f.offset + f.size) && BigInt(f.offset) < reg.umax + BigInt(off + size))) continue;
    const name = fieldTypeName(f.type);
    if (!isKptrField(f.type)) env.fail(`${name} cannot be accessed directly by load/store`, 'EACCES');
    if (!direct) env.fail(`${name} cannot be accessed indirectly by helper`, 'EACCES');
    if (!tnumIsConst(reg.varOff)) env.fail(`${name} access cannot have variable offset`, 'EACCES');
    const at = BigInt(off) + reg.varOff.value;
    if (BigInt(f.offset) !== at) env.fail(`${name} access misaligned expected=${f.offset} off=${at}`, 'EACCES');
    if (size !== 8) env.fail(`${name} access size must be BPF_DW`, 'EACCES');
  }
}

/** may_access_direct_pkt_data. */
export function mayAccessDirectPktData(env: Env, meta: { pktAccess: boolean } | null, t: AccessType): boolean {
  const pkt = env.typeInfo.pkt;
  if (pkt === 'none') return false;
  if (pkt === 'ro' && t === 'write' && env.typeInfo.name !== 'cgroup_sockopt') return false;
  if (env.typeInfo.name === 'cgroup_sockopt') {
    if (t === 'write') env.seenDirectWrite = true;
    return true;
  }
  if (meta) return meta.pktAccess;
  env.seenDirectWrite = true;
  return true;
}

export function checkPacketAccess(env: Env, regno: number, off: number, size: number, zeroSizeAllowed: boolean): void {
  const reg = env.regs[regno]!;
  // Only the fixed offset is checked against the range: the range is proven
  // for the pointer including its variable part (find_good_pkt_pointers).
  if (reg.smin < 0n) env.fail(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  if (reg.range < 0) env.fail(`R${regno} offset is outside of the packet`, 'EINVAL');
  try {
    checkMemAccessBounds(env, regno, off, size, reg.range, zeroSizeAllowed);
  } catch (e) {
    env.note(`R${regno} offset is outside of the packet`);
    throw e;
  }
}

function checkCtxAccess(env: Env, off: number, size: number, t: AccessType, isLdsx: boolean): number {
  const res = env.typeInfo.ctxAccess(off, size, t === 'write');
  // A sign-extending load of a pointer field is not a valid context access.
  if (res.ok && !(isLdsx && res.regType !== T.SCALAR)) {
    env.maxCtxOffset = Math.max(env.maxCtxOffset, off + size);
    return res.regType;
  }
  env.note(`invalid bpf_context access off=${off} size=${size}`);
  env.verboseLinfo(env.insnIdx, '; ');
  env.abort('EACCES');
}

/**
 * check_ctx_access for a tracing or LSM program with its attach point: the
 * argument's BTF type gives the loaded register (btf_ctx_access).
 */
function checkBtfCtxAccess(env: Env, regs: Reg[], off: number, size: number, t: AccessType, valueRegno: number): void {
  const res = btfCtxAccess(env.attach!, env.progType, env.expectedAttachType, off, size, t === 'write', (s) => env.verbose(s));
  if (!res.ok) {
    env.note(`invalid bpf_context access off=${off} size=${size}`);
    env.verboseLinfo(env.insnIdx, '; ');
    env.abort('EACCES');
  }
  env.maxCtxOffset = Math.max(env.maxCtxOffset, off + size);
  if (t !== 'read' || valueRegno < 0) return;
  const dst = regs[valueRegno]!;
  if (res.regType === T.SCALAR) {
    const range = res.isRetval && env.progType === ProgType.LSM && env.expectedAttachType === AttachType.LSM_MAC ? lsmRetvalRange(env.attach!) : null;
    // __mark_reg_s32_range narrows what the register held before (as the kernel does)
    if (range) markRegS32Range(dst, range.min, range.max);
    else markUnknown(dst);
  } else {
    markKnownZero(dst);
    if (mayBeNull(res.regType)) dst.id = env.nextId();
    dst.subregDef = 0;
    if (baseType(res.regType) === T.BTF_ID) {
      dst.btfId = res.btfId;
      dst.btfName = env.attach!.btf.tryType(res.btfId)?.name ?? '';
    }
  }
  dst.type = res.regType;
}

function checkFlowKeysAccess(env: Env, off: number, size: number): void {
  if (size < 0 || off < 0 || off + size > 56) env.fail(`invalid access to flow keys off=${off} size=${size}`);
}

export function checkPtrAlignment(env: Env, reg: Reg, off: number, size: number, strictOnce: boolean): void {
  let strict = strictOnce || env.strictAlignment;
  let desc = '';
  switch (reg.type) {
    case T.PACKET: case T.PACKET_META: {
      if (!strict || size === 1) return;
      const regOff = tnumAdd(reg.varOff, tnumConst(BigInt(2 + reg.off + off)));
      if (!tnumIsAligned(regOff, size)) {
        env.fail(`misaligned packet access off 2+${tnumStr(reg.varOff)}+${reg.off}+${off} size ${size}`);
      }
      return;
    }
    case T.FLOW_KEYS: desc = 'flow keys '; break;
    case T.MAP_KEY: desc = 'key '; break;
    case T.MAP_VALUE: desc = 'value '; break;
    case T.CTX: desc = 'context '; break;
    case T.STACK: desc = 'stack '; strict = true; break;
    case T.SOCKET: desc = 'sock '; break;
    case T.SOCK_COMMON: desc = 'sock_common '; break;
    case T.TCP_SOCK: desc = 'tcp_sock '; break;
    case T.XDP_SOCK: desc = 'xdp_sock '; break;
    case T.ARENA: return;
    default: break;
  }
  if (!strict || size === 1) return;
  const regOff = tnumAdd(reg.varOff, tnumConst(BigInt(reg.off + off)));
  if (!tnumIsAligned(regOff, size)) {
    env.fail(`misaligned ${desc}access off ${tnumStr(reg.varOff)}+${reg.off}+${off} size ${size}`);
  }
}

/** Pointer types whose accesses are proven in bounds by the checks above (the JIT contract). */
function boundedType(t: number): boolean {
  const b = baseType(t);
  return b === T.STACK || b === T.MAP_VALUE || b === T.MAP_KEY || b === T.PACKET || b === T.PACKET_META
    || b === T.CTX || (b === T.MEM && !(t & F.UNTRUSTED)) || b === T.FLOW_KEYS;
}

/**
 * check_mem_access: `regno + off` read or written with `size` bytes; for a
 * read, `valueRegno` receives the loaded value.
 */
export function checkMemAccess(env: Env, insnIdx: number, regno: number, off0: number, size: number, t: AccessType,
  valueRegno: number, strictAlignmentOnce: boolean, isLdsx: boolean): void {
  const regs = env.regs;
  const reg = regs[regno]!;
  checkPtrAlignment(env, reg, off0, size, strictAlignmentOnce);
  const off = off0 + reg.off;
  const aux = env.aux[insnIdx]!;
  aux.accessChecked = true;
  if (!boundedType(reg.type)) aux.accessSafe = false;
  if (reg.type === T.MAP_KEY) {
    if (t === 'write') env.fail(`write to change key R${regno} not allowed`);
    checkMemRegionAccess(env, regno, off, size, reg.map!.keySize, false);
    if (valueRegno >= 0) markUnknown(regs[valueRegno]!);
  } else if (reg.type === T.MAP_VALUE) {
    if (t === 'write' && valueRegno >= 0 && env.isPointerValue(valueRegno)) env.fail(`R${valueRegno} leaks addr into map`);
    checkMapAccessType(env, regno, off, size, t);
    checkMapAccess(env, regno, off, size, false, true);
    const kptr = tnumIsConst(reg.varOff) ? recordFind(reg.map!.record, off + Number(reg.varOff.value), isKptrField) : undefined;
    if (kptr) {
      checkMapKptrAccess(env, insnIdx, valueRegno, kptr);
    } else if (t === 'read' && valueRegno >= 0) {
      const map = reg.map!;
      if (tnumIsConst(reg.varOff) && map.readonly && map.initialValue) {
        const mapOff = off + Number(reg.varOff.value);
        let v = 0n;
        for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(map.initialValue[mapOff + i] ?? 0);
        if (isLdsx) v = BigInt.asUintN(64, BigInt.asIntN(size * 8, v));
        regs[valueRegno]!.type = T.SCALAR;
        markKnown(regs[valueRegno]!, v);
      } else {
        markUnknown(regs[valueRegno]!);
      }
    }
  } else if (baseType(reg.type) === T.MEM) {
    const rdonly = (reg.type & F.RDONLY) !== 0;
    if (mayBeNull(reg.type)) env.fail(`R${regno} invalid mem access '${regTypeStr(reg.type)}'`);
    if (t === 'write' && rdonly) env.fail(`R${regno} cannot write into ${regTypeStr(reg.type)}`);
    if (t === 'write' && valueRegno >= 0 && env.isPointerValue(valueRegno)) env.fail(`R${valueRegno} leaks addr into mem`);
    // untrusted read-only memory is read with probe loads: no bounds (6.18)
    if (!(rdonly && (reg.type & F.UNTRUSTED))) checkMemRegionAccess(env, regno, off, size, reg.memSize, false);
    if (valueRegno >= 0 && (t === 'read' || rdonly)) markUnknown(regs[valueRegno]!);
  } else if (reg.type === T.CTX) {
    if (t === 'write' && valueRegno >= 0 && env.isPointerValue(valueRegno)) env.fail(`R${valueRegno} leaks addr into ctx`);
    // contexts whose size the kernel does not fix (BTF-typed arguments, tracepoint records, syscall buffers)
    if (env.progType === ProgType.TRACING || env.progType === ProgType.LSM || env.progType === ProgType.SYSCALL || env.progType === ProgType.TRACEPOINT) {
      aux.accessSafe = false;
    }
    checkPtrOffReg(env, reg, regno, false);
    if (env.attach) {
      checkBtfCtxAccess(env, regs, off, size, t, valueRegno);
    } else {
      const regType = checkCtxAccess(env, off, size, t, isLdsx);
      if (t === 'read' && valueRegno >= 0) {
        const dst = regs[valueRegno]!;
        if (regType === T.SCALAR) {
          markUnknown(dst);
          if (env.progType === ProgType.TRACING || env.progType === ProgType.LSM) dst.ctxArg = true;
        } else {
          markKnownZero(dst);
          if (mayBeNull(regType)) dst.id = env.nextId();
          dst.subregDef = 0;
        }
        dst.type = regType;
      }
    }
  } else if (reg.type === T.STACK) {
    checkStackAccessWithinBounds(env, regno, off, size, t);
    if (t === 'read') checkStackRead(env, regno, off, size, valueRegno);
    else checkStackWrite(env, regno, off, size, valueRegno, insnIdx);
  } else if (isPktPointer(reg.type)) {
    if (t === 'write' && !mayAccessDirectPktData(env, null, t)) env.fail('cannot write into packet');
    if (t === 'write' && valueRegno >= 0 && env.isPointerValue(valueRegno)) env.fail(`R${valueRegno} leaks addr into packet`);
    checkPacketAccess(env, regno, off, size, false);
    if (t === 'read' && valueRegno >= 0) markUnknown(regs[valueRegno]!);
  } else if (reg.type === T.FLOW_KEYS) {
    if (t === 'write' && valueRegno >= 0 && env.isPointerValue(valueRegno)) env.fail(`R${valueRegno} leaks addr into flow keys`);
    checkFlowKeysAccess(env, off, size);
    if (t === 'read' && valueRegno >= 0) markUnknown(regs[valueRegno]!);
  } else if (isSkPointer(reg.type)) {
    if (t === 'write') env.fail(`R${regno} cannot write into ${regTypeStr(reg.type)}`);
    if (reg.smin < 0n) env.fail(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
    if (sockConversionFails(reg.type, off, size)) {
      // allowed by the checks, refused by the rewrite that follows verification (convert_ctx_accesses)
      env.ctxConversionFails = true;
    } else if (!sockAccessOk(reg.type, off, size)) {
      env.fail(`R${regno} invalid ${regTypeStr(reg.type)} access off=${off} size=${size}`);
    }
    if (valueRegno >= 0) markUnknown(regs[valueRegno]!);
  } else if (reg.type === T.TP_BUFFER) {
    if (off < 0) env.fail(`R${regno} invalid tracepoint buffer access: off=${off}, size=${size}`);
    if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} invalid variable buffer offset: off=${off}, var_off=${tnumStr(reg.varOff)}`);
    env.maxTpAccess = Math.max(env.maxTpAccess, off + Number(reg.varOff.value) + size);
    if (t === 'read' && valueRegno >= 0) markUnknown(regs[valueRegno]!);
  } else if (reg.type === T.ARENA) {
    if (t === 'read' && valueRegno >= 0) markUnknown(regs[valueRegno]!);
  } else if (baseType(reg.type) === T.BTF_ID && !mayBeNull(reg.type)) {
    checkPtrToBtfAccess(env, regs, regno, off, size, t === 'write', valueRegno);
  } else if (reg.type === T.MAP_PTR) {
    checkPtrToMapAccess(env, regs, regno, off, size, t, valueRegno);
  } else if (baseType(reg.type) === T.BUF && !mayBeNull(reg.type)) {
    // check_buffer_access: an iterator's key or value buffer, whose size is checked against the map at attach
    const rdonly = (reg.type & F.RDONLY) !== 0;
    if (rdonly && t === 'write') env.fail(`R${regno} cannot write into ${regTypeStr(reg.type)}`);
    const info = rdonly ? 'rdonly' : 'rdwr';
    if (off < 0) env.fail(`R${regno} invalid ${info} buffer access: off=${off}, size=${size}`);
    if (!tnumIsConst(reg.varOff) || reg.varOff.value) env.fail(`R${regno} invalid variable buffer offset: off=${off}, var_off=${tnumStr(reg.varOff)}`);
    if (valueRegno >= 0 && (rdonly || t === 'read')) markUnknown(regs[valueRegno]!);
  } else {
    if (reg.type === T.SCALAR && reg.ctxArg) {
      env.fail(`tsbpf: R${regno} invalid mem access 'scalar': it holds a tracing/LSM argument, which the kernel types from the attach point's BTF (often a pointer) and tsbpf does not model`, 'ENOTSUPP');
    }
    env.fail(`R${regno} invalid mem access '${regTypeStr(reg.type)}'`);
  }
  if (size < REG_SIZE && valueRegno >= 0 && t === 'read' && regs[valueRegno]!.type === T.SCALAR) {
    if (!isLdsx) coerceRegToSize(regs[valueRegno]!, size);
    else coerceRegToSizeSx(regs[valueRegno]!, size);
  }
}

/** The kernel struct behind a map pointer, by map type (its `map_btf_id`'s BTF name). */
function mapStructName(mapType: number): string {
  switch (mapType) {
    case 1: case 5: case 9: case 10: case 13: return 'bpf_htab';
    case 2: case 3: case 4: case 6: case 8: case 12: return 'bpf_array';
    case 14: case 25: return 'bpf_dtab';
    case 15: return 'bpf_stab';
    case 16: return 'bpf_cpu_map';
    case 17: return 'xsk_map';
    case 18: return 'bpf_shtab';
    case 19: case 21: return 'bpf_cgroup_storage_map';
    case 20: return 'reuseport_array';
    case 24: case 28: case 29: case 32: return 'bpf_local_storage_map';
    case 26: return 'bpf_struct_ops_map';
    case 27: case 31: return 'bpf_ringbuf_map';
    case 22: case 23: return 'bpf_queue_stack';
    case 11: return 'lpm_trie';
    case 7: return 'bpf_stack_map';
    case 30: return 'bpf_bloom_filter';
    case 33: return 'bpf_arena';
    default: return 'bpf_map';
  }
}

/**
 * check_ptr_to_map_access: a read through a map pointer is checked against
 * the map type's struct in the kernel BTF (`struct bpf_array`, whose first
 * member is `struct bpf_map`, ...), as a read through a BTF pointer to it
 * would be, and gives what that read gives (a scalar, or a pointer for
 * `ops` and other pointer members). Without a kernel BTF, tsbpf lets reads
 * of the first 256 bytes through as unknown scalars.
 */
function checkPtrToMapAccess(env: Env, regs: Reg[], regno: number, off: number, size: number, t: AccessType, valueRegno: number): void {
  const reg = regs[regno]!;
  const btf = env.kbtf();
  const wanted = mapStructName(reg.map?.type ?? 0);
  const id = btf ? findByNameKind(btf, wanted, 'STRUCT') : 0;
  const name = btf && id > 0 ? typeName(btf, id) : wanted;
  if (btf && id > 0 && !env.allowPtrLeaks) env.fail(`'struct ${name}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN`, 'EPERM');
  if (off < 0) env.fail(`R${regno} is ${name} invalid negative access: off=${off}`);
  if (t !== 'read') env.fail(`only read from ${name} is supported`);
  env.aux[env.insnIdx]!.accessSafe = false;
  if (!btf || id <= 0) {
    if (off + size > 256) env.fail(`access beyond struct ${name} at off ${off} size ${size}`);
    if (valueRegno >= 0) markUnknown(regs[valueRegno]!);
    return;
  }
  let last = '';
  const res = btfStructAccess(btf, id, off, size, WALK_FLAGS, (line: string) => {
    last = line;
    env.verbose(line);
  });
  if ('err' in res) {
    env.errorMsg = last.replace(/\n$/, '');
    env.abort(res.err === -22 ? 'EINVAL' : res.err === -14 ? 'EFAULT' : 'EACCES');
  }
  if (valueRegno >= 0) markBtfAccessResult(env, regs[valueRegno]!, res.kind, btf, res.kind === 'ptr' ? res.id : 0, res.kind === 'ptr' ? res.flag : 0);
}

type SockTable = typeof SOCK_ACCESS;

/** (offset, size) pairs per socket pointer type, from one of the kernel's tables (sock-access.ts). */
function sockPairs(table: SockTable): Map<number, ReadonlyMap<number, ReadonlySet<number>>> {
  return new Map(([[T.SOCK_COMMON, 'sock_common'], [T.SOCKET, 'sock'], [T.TCP_SOCK, 'tcp_sock'], [T.XDP_SOCK, 'xdp_sock']] as const)
    .map(([type, name]) => [type, new Map(Object.entries(table[name]).map(([size, offs]) => [Number(size), parseRanges(offs)]))]));
}

const SOCK_READABLE = sockPairs(SOCK_ACCESS);
const SOCK_UNCONVERTIBLE = sockPairs(SOCK_CONVERSION_FAILS);

/** `bpf_sock_common_is_valid_access` and friends: whether `size` bytes at `off` of a socket pointer may be read. */
function sockAccessOk(t: number, off: number, size: number): boolean {
  return SOCK_READABLE.get(baseType(t))?.get(size)?.has(off) === true;
}

/** An access the checks allow whose rewrite the kernel then refuses (the upper half of a u64 field). */
function sockConversionFails(t: number, off: number, size: number): boolean {
  return SOCK_UNCONVERTIBLE.get(baseType(t))?.get(size)?.has(off) === true;
}

/** check_helper_mem_access: a helper reads or writes `accessSize` bytes at register `regno`. */
export function checkHelperMemAccess(env: Env, regno: number, accessSize: number, accessType: AccessType,
  zeroSizeAllowed: boolean, meta: { rawMode: boolean; accessSize: number; regno: number } | null): void {
  const reg = env.regs[regno]!;
  switch (baseType(reg.type)) {
    case T.PACKET: case T.PACKET_META:
      checkPacketAccess(env, regno, reg.off, accessSize, zeroSizeAllowed);
      return;
    case T.MAP_KEY:
      if (accessType === 'write') env.fail(`R${regno} cannot write into ${regTypeStr(reg.type)}`);
      checkMemRegionAccess(env, regno, reg.off, accessSize, reg.map!.keySize, false);
      return;
    case T.MAP_VALUE:
      checkMapAccessType(env, regno, reg.off, accessSize, accessType);
      checkMapAccess(env, regno, reg.off, accessSize, zeroSizeAllowed, false);
      return;
    case T.MEM:
      if ((reg.type & F.RDONLY) && accessType === 'write') env.fail(`R${regno} cannot write into ${regTypeStr(reg.type)}`);
      checkMemRegionAccess(env, regno, reg.off, accessSize, reg.memSize, zeroSizeAllowed);
      return;
    case T.STACK:
      checkStackRangeInitialized(env, regno, reg.off, accessSize, zeroSizeAllowed, accessType, meta);
      return;
    case T.BTF_ID:
      // the kernel checks a read whatever the helper does with the memory
      checkPtrToBtfAccess(env, env.regs, regno, reg.off, accessSize, false, -1);
      return;
    case T.CTX:
      if (!env.typeInfo.convertCtx) {
        if (accessSize === 0) {
          if (zeroSizeAllowed) return;
          env.fail(`tsbpf: R${regno}: a zero-size access to the context of a ${env.typeInfo.name} program is not modelled`, 'ENOTSUPP');
        }
        checkMemAccess(env, env.insnIdx, regno, accessSize - 1, 1, accessType, -1, false, false);
        return;
      }
      break;
    default:
      break;
  }
  if (zeroSizeAllowed && accessSize === 0 && isNullReg(reg)) return;
  env.fail(`R${regno} type=${regTypeStr(reg.type)} expected=${regTypeStr(T.STACK)}`);
}

/** check_mem_size_reg: `regno` holds the size for the memory argument in `regno - 1`. */
export function checkMemSizeReg(env: Env, regno: number, accessType: AccessType, zeroSizeAllowed: boolean,
  meta: { rawMode: boolean; accessSize: number; regno: number; msizeMaxValue: bigint }): void {
  const reg = env.regs[regno]!;
  meta.msizeMaxValue = reg.umax;
  const m = tnumIsConst(reg.varOff) ? meta : null;
  if (reg.smin < 0n) env.fail(`R${regno} min value is negative, either use unsigned or 'var &= const'`);
  if (reg.umin === 0n && !zeroSizeAllowed) env.fail(`R${regno} invalid zero-sized read: u64=[${reg.umin},${reg.umax}]`);
  if (reg.umax >= BigInt(BPF_MAX_VAR_SIZ)) env.fail(`R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
  checkHelperMemAccess(env, regno - 1, Number(reg.umax), accessType, zeroSizeAllowed, m);
  markChainPrecision(env, regno);
}
