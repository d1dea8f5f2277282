/**
 * The main loop (do_check): walk instructions of the current state, check
 * each one, fork on conditional jumps, prune against explored states, and
 * pop the next pending branch when a path ends; plus the whole-program
 * checks around it (bpf_check).
 */
import type { Env } from './env.js';
import { BPF_COMPLEXITY_LIMIT_INSNS, checkRegArg, printInsnState, printVerifierState, verifierHooks } from './env.js';
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_DW, BPF_EXIT, BPF_FETCH, BPF_IMM, BPF_IND, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_MEM, BPF_MEMSX, BPF_OR, BPF_ST, BPF_STORE_REL, BPF_STX, BPF_W, BPF_X, BPF_XCHG, BPF_XOR, cls, mode, op, size, sizeBytes, srcBit,
} from '../isa/raw.js';
import type { RawInsn } from '../isa/raw.js';
import { baseType, F, isPktPointer, isSkPointer, markKnownZero, markUnknown, regTypeStr, T } from './reg.js';
import { newFuncState, newVState } from './state.js';
import { checkAluOp } from './alu.js';
import { checkCondJmpOp } from './branch.js';
import { checkFuncCall, checkHelperCall, checkLdAbs, checkLdImm, checkReturnCode, prepareFuncExit } from './calls.js';
import { checkMemAccess } from './mem.js';
import { isStateVisited, popStack, updateBranchCounts } from './search.js';
import { checkCfg, checkSubprogs, computeLiveRegs, computeScc, resolvePseudoLdimm64 } from './program-checks.js';
import { checkResourceLeak } from './refs.js';
import { checkAttachBtfId } from './attach.js';
import { checkKfuncCall, kfuncSpinAllowed } from './kfuncs.js';
import { markDynptrCbReg } from './dynptrs.js';
import { DynptrType } from '../isa/uapi.js';
import { findByNameKind, typeName } from './kbtf.js';
import { markFastcallPatterns, removeFastcallSpillsFills } from './fastcall.js';
import { pushJmpHistory } from './precision.js';
import { BpfFunc } from '../isa/uapi.js';

/** save_aux_ptr_type: one load/store instruction may not see incompatible pointer types on different paths. */
function saveAuxPtrType(env: Env, type: number, allowTrustMismatch: boolean): void {
  const aux = env.aux[env.insnIdx]!;
  const okMismatch = (t: number): boolean => {
    const b = baseType(t);
    return !(b === T.CTX || b === T.SOCKET || b === T.SOCK_COMMON || b === T.TCP_SOCK || b === T.XDP_SOCK || b === T.BTF_ID || b === T.ARENA);
  };
  if (aux.ptrType === 0) {
    aux.ptrType = type === 0 ? -1 : type;
    return;
  }
  const prev = aux.ptrType === -1 ? 0 : aux.ptrType;
  if (type !== prev && (!okMismatch(type) || !okMismatch(prev))) {
    const memOrBtf = (t: number): boolean => baseType(t) === T.MEM || baseType(t) === T.BTF_ID;
    if (allowTrustMismatch && memOrBtf(type) && memOrBtf(prev)) return;
    env.fail('same insn cannot be used with different pointers', 'EINVAL');
  }
}

function atomicPtrTypeOk(env: Env, regno: number): boolean {
  const t = env.regs[regno]!.type;
  if (t === T.CTX || isPktPointer(t) || t === T.FLOW_KEYS || isSkPointer(t)) return false;
  return true;
}

function checkLoadMem(env: Env, insn: RawInsn, strictOnce: boolean, isLdsx: boolean, allowTrustMismatch: boolean): void {
  checkRegArg(env, insn.src, 'src');
  checkRegArg(env, insn.dst, 'dst_no_mark');
  const srcType = env.regs[insn.src]!.type;
  checkMemAccess(env, env.insnIdx, insn.src, insn.off, sizeBytes(insn.code), 'read', insn.dst, strictOnce, isLdsx);
  saveAuxPtrType(env, srcType, allowTrustMismatch);
}

function checkStoreReg(env: Env, insn: RawInsn, strictOnce: boolean): void {
  checkRegArg(env, insn.src, 'src');
  checkRegArg(env, insn.dst, 'src');
  const dstType = env.regs[insn.dst]!.type;
  checkMemAccess(env, env.insnIdx, insn.dst, insn.off, sizeBytes(insn.code), 'write', insn.src, strictOnce, false);
  saveAuxPtrType(env, dstType, false);
}

function checkAtomic(env: Env, insn: RawInsn): void {
  switch (insn.imm) {
    case BPF_ADD: case BPF_ADD | BPF_FETCH: case BPF_AND: case BPF_AND | BPF_FETCH: case BPF_OR: case BPF_OR | BPF_FETCH:
    case BPF_XOR: case BPF_XOR | BPF_FETCH: case BPF_XCHG: case BPF_CMPXCHG: {
      if (size(insn.code) !== BPF_W && size(insn.code) !== BPF_DW) env.fail('invalid atomic operand size', 'EINVAL');
      checkRegArg(env, insn.src, 'src');
      checkRegArg(env, insn.dst, 'src');
      if (insn.imm === BPF_CMPXCHG) checkRegArg(env, 0, 'src');
      if (env.isPointerValue(insn.src)) env.fail(`R${insn.src} leaks addr into mem`, 'EACCES');
      if (!atomicPtrTypeOk(env, insn.dst)) {
        env.fail(`BPF_ATOMIC stores into R${insn.dst} ${regTypeStr(env.regs[insn.dst]!.type)} is not allowed`);
      }
      let loadReg = -1;
      if (insn.imm & BPF_FETCH) {
        loadReg = insn.imm === BPF_CMPXCHG ? 0 : insn.src;
        checkRegArg(env, loadReg, 'dst');
      }
      const sz = sizeBytes(insn.code);
      checkMemAccess(env, env.insnIdx, insn.dst, insn.off, sz, 'read', -1, true, false);
      if (loadReg >= 0) checkMemAccess(env, env.insnIdx, insn.dst, insn.off, sz, 'read', loadReg, true, false);
      checkMemAccess(env, env.insnIdx, insn.dst, insn.off, sz, 'write', -1, true, false);
      return;
    }
    case BPF_LOAD_ACQ: {
      // judged before the load, which changes the source when it is also the destination; untrusted
      // pointers are read through fault-handling loads, which a load-acquire is not (6.18.44, measured)
      checkRegArg(env, insn.src, 'src');
      const srcType = env.regs[insn.src]!.type;
      if (!atomicPtrTypeOk(env, insn.src) || (srcType & F.UNTRUSTED)) {
        env.fail(`BPF_ATOMIC loads from R${insn.src} ${regTypeStr(srcType)} is not allowed`);
      }
      checkLoadMem(env, insn, true, false, false);
      return;
    }
    case BPF_STORE_REL:
      checkStoreReg(env, insn, true);
      if (!atomicPtrTypeOk(env, insn.dst)) {
        env.fail(`BPF_ATOMIC stores into R${insn.dst} ${regTypeStr(env.regs[insn.dst]!.type)} is not allowed`);
      }
      return;
    default:
      env.fail(`BPF_ATOMIC uses invalid atomic opcode ${(insn.imm >>> 0).toString(16).padStart(2, '0')}`, 'EINVAL');
  }
}

const PROCESS_BPF_EXIT = 1;

function processBpfExit(env: Env, state: { printState: boolean }): number {
  checkResourceLeak(env, false, !env.cur.curframe, 'BPF_EXIT instruction in main prog');
  if (env.cur.curframe) {
    env.liveness.updateLiveStack();
    prepareFuncExit(env);
    state.printState = true;
    return 0;
  }
  checkReturnCode(env, 0, 'R0');
  return PROCESS_BPF_EXIT;
}

/** do_check_insn: returns PROCESS_BPF_EXIT when the path ends, else 0 (env.insnIdx advanced). */
function doCheckInsn(env: Env, ps: { printState: boolean }): number {
  const insn = env.insns[env.insnIdx]!;
  const k = cls(insn.code);
  if (k === BPF_ALU || k === BPF_ALU64) {
    checkAluOp(env, insn);
  } else if (k === BPF_LDX) {
    checkLoadMem(env, insn, false, mode(insn.code) === BPF_MEMSX, true);
  } else if (k === BPF_STX) {
    if (mode(insn.code) === BPF_ATOMIC) {
      checkAtomic(env, insn);
      env.insnIdx++;
      return 0;
    }
    if (mode(insn.code) !== BPF_MEM || insn.imm !== 0) env.fail('BPF_STX uses reserved fields', 'EINVAL');
    checkStoreReg(env, insn, false);
  } else if (k === BPF_ST) {
    if (mode(insn.code) !== BPF_MEM || insn.src !== 0) env.fail('BPF_ST uses reserved fields', 'EINVAL');
    checkRegArg(env, insn.dst, 'src');
    const dstType = env.regs[insn.dst]!.type;
    checkMemAccess(env, env.insnIdx, insn.dst, insn.off, sizeBytes(insn.code), 'write', -1, false, false);
    saveAuxPtrType(env, dstType, false);
  } else if (k === BPF_JMP || k === BPF_JMP32) {
    const o = op(insn.code);
    env.jmpsProcessed++;
    if (o === BPF_CALL) {
      if (srcBit(insn.code) !== BPF_K || (insn.src !== 2 && insn.off !== 0) || (insn.src !== 0 && insn.src !== 1 && insn.src !== 2)
        || insn.dst !== 0 || k === BPF_JMP32) {
        env.fail('BPF_CALL uses reserved fields', 'EINVAL');
      }
      if (env.cur.activeLocks && ((insn.src === 0 && insn.imm !== 94)
        || (insn.src === 2 && (insn.off !== 0 || !kfuncSpinAllowed(env, insn.imm))))) {
        env.fail('function calls are not allowed while holding a lock', 'EINVAL');
      }
      if (insn.src === 1) checkFuncCall(env, insn);
      else if (insn.src === 2) {
        if (!env.kfuncBtf()) env.fail('calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF', 'ENOTSUPP');
        checkKfuncCall(env, insn);
      }
      else checkHelperCall(env, insn);
      env.markRegScratched(0);
    } else if (o === BPF_JA) {
      if (srcBit(insn.code) === BPF_X) {
        if (insn.src !== 0 || insn.imm !== 0 || insn.off !== 0) env.fail('BPF_JA|BPF_X uses reserved fields', 'EINVAL');
        env.fail(`R${insn.dst} has type ${regTypeStr(env.regs[insn.dst]!.type)}, expected PTR_TO_INSN`, 'EINVAL');
      }
      if (srcBit(insn.code) !== BPF_K || insn.src !== 0 || insn.dst !== 0 || (k === BPF_JMP && insn.imm !== 0) || (k === BPF_JMP32 && insn.off !== 0)) {
        env.fail('BPF_JA uses reserved fields', 'EINVAL');
      }
      env.insnIdx += (k === BPF_JMP ? insn.off : insn.imm) + 1;
      return 0;
    } else if (o === BPF_EXIT) {
      if (srcBit(insn.code) !== BPF_K || insn.imm !== 0 || insn.src !== 0 || insn.dst !== 0 || k === BPF_JMP32) {
        env.fail('BPF_EXIT uses reserved fields', 'EINVAL');
      }
      return processBpfExit(env, ps);
    } else {
      checkCondJmpOp(env, insn);
    }
  } else if (k === BPF_LD) {
    const m = mode(insn.code);
    if (m === BPF_ABS || m === BPF_IND) {
      checkLdAbs(env, insn);
    } else if (m === BPF_IMM) {
      checkLdImm(env, insn);
      env.insnIdx++;
      env.aux[env.insnIdx - 1]!.seen = true;
    } else {
      env.fail('invalid BPF_LD mode', 'EINVAL');
    }
  } else {
    env.fail(`unknown insn class ${k}`, 'EINVAL');
  }
  env.insnIdx++;
  return 0;
}

/** do_check: explore every path from the current state. */
export function doCheck(env: Env): void {
  const popLog = !(env.logLevel & 2);
  const ps = { printState: false };
  let prevInsnIdx = -1;
  for (;;) {
    env.curHistEnt = -1;
    env.prevInsnIdx = prevInsnIdx;
    if (env.insnIdx >= env.len) env.fail(`invalid insn idx ${env.insnIdx} insn_cnt ${env.len}`, 'EFAULT');
    const idx = env.insnIdx;
    const insn = env.insns[idx]!;
    if (++env.insnProcessed > BPF_COMPLEXITY_LIMIT_INSNS) {
      env.fail(`BPF program is too large. Processed ${env.insnProcessed} insn`, 'E2BIG');
    }
    const state = env.cur;
    state.lastInsnIdx = env.prevInsnIdx;
    state.insnIdx = idx;
    let exit = false;
    if (env.aux[idx]!.prunePoint && isStateVisited(env, idx)) {
      if (env.logLevel & 1 || env.logLevel & 2) {
        if (ps.printState) env.verbose(`\nfrom ${env.prevInsnIdx} to ${idx}${env.cur.speculative ? ' (speculative execution)' : ''}: safe\n`);
        else env.verbose(`${idx}: safe\n`);
      }
      exit = true;
    }
    if (!exit) {
      if (env.aux[idx]!.jmpPoint) pushJmpHistory(env, env.cur, 0, null);
      if (env.logLevel & 2 && ps.printState) {
        env.verbose(`\nfrom ${env.prevInsnIdx} to ${idx}${env.cur.speculative ? ' (speculative execution)' : ''}:`);
        printVerifierState(env, env.cur, env.cur.curframe, true);
        ps.printState = false;
      }
      if (env.logLevel) {
        if (env.stateScratched) printInsnState(env, env.cur, env.cur.curframe);
        env.verboseLinfo(idx, '; ');
        env.prevLogPos = env.log.pos;
        env.verbose(`${idx}: ${env.formatKernelSlot(idx)}\n`);
        env.prevInsnPrintPos = env.log.pos - env.prevLogPos;
        env.prevLogPos = env.log.pos;
      }
      env.aux[idx]!.seen = true;
      prevInsnIdx = idx;
      env.liveness.resetWriteMarks(idx);
      const r = doCheckInsn(env, ps);
      env.liveness.commitWriteMarks();
      const hook = verifierHooks.afterInsn;
      if (hook) hook(idx, env);
      if (r === PROCESS_BPF_EXIT) exit = true;
      void insn;
    }
    if (exit) {
      env.markStateScratched();
      updateBranchCounts(env, env.cur);
      env.liveness.updateLiveStack();
      const next = popStack(env, popLog);
      if (!next) break;
      env.insnIdx = next.insnIdx;
      prevInsnIdx = next.prevInsnIdx;
      ps.printState = true;
    }
  }
}

/**
 * do_check_common: explores every path from the entry of `subprog` (0: the
 * program; a global subprogram is checked on its own, its arguments set up
 * from BTF).
 */
function doCheckCommon(env: Env, subprog: number): void {
  const sp = env.subprogs[subprog]!;
  const st = newVState();
  const f0 = newFuncState(-1, 0, subprog);
  st.frames.push(f0);
  st.firstInsnIdx = sp.start;
  st.lastInsnIdx = -1;
  env.cur = st;
  env.markStateScratched();
  const regs = f0.regs;
  if (subprog) {
    if (env.logLevel) env.verbose(`Validating ${sp.name}() func#${subprog}...\n`);
    if (sp.argsError !== null) env.fail(sp.argsError, 'EINVAL');
    (sp.args ?? []).forEach((arg, i) => {
      const reg = regs[i + 1]!;
      if (arg.kind === 'ctx') {
        reg.type = T.CTX;
        markKnownZero(reg);
      } else if (arg.kind === 'scalar') {
        markUnknown(reg);
      } else if (arg.kind === 'untrusted-mem') {
        markKnownZero(reg);
        reg.type = T.MEM | F.RDONLY | F.UNTRUSTED;
        reg.memSize = 0;
      } else if (arg.kind === 'dynptr') {
        // assumed a plain local dynptr
        markDynptrCbReg(env, reg, DynptrType.LOCAL);
      } else if (arg.kind === 'btf') {
        const btf = env.kbtf();
        const id = btf ? findByNameKind(btf, arg.struct, 'STRUCT') : -1;
        if (!btf || id < 0) env.fail(`tsbpf: arg#${i} of ${sp.name}() points to struct ${arg.struct}, which the kernel BTF must describe (--btf)`, 'ENOTSUPP');
        markKnownZero(reg);
        reg.type = T.BTF_ID | (arg.trusted ? F.TRUSTED : F.UNTRUSTED) | (arg.nullable ? F.MAYBE_NULL : 0);
        reg.btfId = id;
        reg.btfName = typeName(btf, id);
        if (arg.nullable) reg.id = env.nextId();
      } else {
        // __arg_nonnull: the callers proved it; otherwise it may be NULL
        reg.type = arg.nonnull === true ? T.MEM : T.MEM | F.MAYBE_NULL;
        markKnownZero(reg);
        reg.memSize = arg.size;
        if (arg.nonnull !== true) reg.id = env.nextId();
      }
    });
  } else {
    regs[1]!.type = T.CTX;
    markKnownZero(regs[1]!);
  }
  env.insnIdx = sp.start;
  doCheck(env);
  // do_check_common: a successful check at level 1 drops the log of the explored paths.
  if (!(env.logLevel & 2)) env.log.reset(0);
}

/** do_check_subprogs: global subprograms that were called, each verified on its own. */
function doCheckSubprogs(env: Env): void {
  if (!env.funcInfo) return;
  let newCnt: number;
  do {
    newCnt = 0;
    for (let i = 1; i < env.subprogs.length; i++) {
      const sp = env.subprogs[i]!;
      if (!sp.global || !sp.called || sp.verified) continue;
      doCheckCommon(env, i);
      if (env.logLevel) env.verbose(`Func#${i} ('${sp.name}') is safe for any args that match its prototype\n`);
      sp.verified = true;
      newCnt++;
    }
  } while (newCnt);
}

/** Runs the checks of bpf_check() up to the end of path exploration. */
export function runChecks(env: Env): void {
  checkSubprogs(env);
  checkAbnormalReturn(env);
  resolvePseudoLdimm64(env);
  checkCfg(env);
  checkAttachBtfId(env);
  computeScc(env);
  computeLiveRegs(env);
  markFastcallPatterns(env);
  doCheckCommon(env, 0);
  doCheckSubprogs(env);
  // might decrease the stack depth: before check_max_stack_depth, as in bpf_check
  removeFastcallSpillsFills(env);
  checkMaxStackDepth(env);
  // convert_ctx_accesses, the first rewrite after verification, refuses what it cannot rewrite
  if (env.ctxConversionFails) env.fail('verifier bug: error during ctx access conversion (0)', 'EFAULT');
}

/**
 * check_abnormal_return (without BTF, subprograms may not use LD_ABS or
 * tail calls) and its BTF counterpart in check_btf_func (only in functions
 * whose prototype returns a scalar: both can return from the function).
 */
function checkAbnormalReturn(env: Env): void {
  for (let s = 1; s < env.subprogs.length; s++) {
    const fi = env.funcInfo?.[s];
    if (env.funcInfo && fi?.scalarReturn !== false) continue;
    const start = env.subprogs[s]!.start;
    const end = s + 1 < env.subprogs.length ? env.subprogs[s + 1]!.start : env.len;
    let ldAbs = false;
    let tailCall = false;
    for (let i = start; i < end; i++) {
      const insn = env.insns[i]!;
      const cls = insn.code & 7;
      if (cls === 0 && ((insn.code & 0xe0) === 0x20 || (insn.code & 0xe0) === 0x40)) ldAbs = true;
      if (insn.code === (BPF_JMP | BPF_CALL) && insn.src === 0 && insn.imm === BpfFunc.tail_call) tailCall = true;
    }
    if (env.funcInfo) {
      if (ldAbs) env.fail("LD_ABS is only allowed in functions that return 'int'.", 'EINVAL');
      if (tailCall) env.fail("tail_call is only allowed in functions that return 'int'.", 'EINVAL');
      continue;
    }
    if (ldAbs) env.fail('LD_ABS is not allowed in subprogs without BTF', 'EINVAL');
    if (tailCall) env.fail('tail_call is not allowed in subprogs without BTF', 'EINVAL');
  }
}

/** check_max_stack_depth (x86-64 JIT: depths rounded to 16 bytes). */
function checkMaxStackDepth(env: Env): void {
  const depth = (i: number): number => Math.ceil(env.subprogs[i]!.stackDepth / 16) * 16;
  // once a function with a tail call is reached, it stays so for the rest of the walk, as the kernel's flag does
  let tailCallReachable = false;
  /** The callers of the function being walked, outermost first (`ret_prog`). */
  const callers: number[] = [];
  const walk = (idx: number, frame: number, total: number): void => {
    // A tail call unwinds its own frame but not its callers': with 32 tail calls of
    // callers at 256 bytes each the kernel stack would hold 8 KiB, so callers stay below.
    if (idx && env.subprogs[idx]!.hasTailCall && total >= 256) {
      env.fail(`tail_calls are not allowed when call stack of previous frames is ${total} bytes. Too large`, 'EACCES');
    }
    const d = total + depth(idx);
    if (d > 512) env.fail(`combined stack size of ${frame + 1} calls is ${d}. Too large`, 'EACCES');
    const sp = env.subprogs[idx]!;
    const end = idx + 1 < env.subprogs.length ? env.subprogs[idx + 1]!.start : env.len;
    for (let i = sp.start; i < end; i++) {
      const insn = env.insns[i]!;
      const isCall = insn.code === (BPF_JMP | BPF_CALL) && insn.src === 1;
      const isFunc = insn.code === 0x18 && insn.src === 4;
      if (!isCall && !isFunc) continue;
      const sidx = env.subprogs.findIndex((s) => s.start === i + insn.imm + 1);
      if (sidx < 0) continue;
      // an async callback (a timer's) runs on a stack of its own unless called directly
      if (env.subprogs[sidx]!.isAsyncCb && !isCall) continue;
      if (env.subprogs[sidx]!.hasTailCall) tailCallReachable = true;
      if (frame + 1 >= 8) env.fail(`the call stack of ${frame + 1} frames is too deep !`, 'E2BIG');
      callers.push(idx);
      walk(sidx, frame + 1, d);
      callers.pop();
    }
    // a tail call unwinds frames the JIT keeps the tail call counter in: a callback's caller is not one
    if (tailCallReachable && callers.some((c) => env.subprogs[c]!.isCb)) env.fail('cannot tail call within callback', 'EINVAL');
  };
  // the main program and every async callback (which runs on a stack of its own) are roots, the last first
  for (let i = env.subprogs.length - 1; i >= 0; i--) {
    if (i !== 0 && !env.subprogs[i]!.isAsyncCb) continue;
    tailCallReachable = false;
    walk(i, 0, 0);
  }
}

export { BPF_IMM, BPF_X, BPF_EXIT };
