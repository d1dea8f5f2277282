/**
 * The bpf_fastcall contract (kernel/bpf/verifier.c:
 * mark_fastcall_pattern_for_call, mark_fastcall_patterns,
 * check_fastcall_stack_contract, remove_fastcall_spills_fills).
 *
 * clang compiles a call to a function declared `bpf_fastcall` as if the
 * call kept r0-r5 except its result and parameters, and surrounds it with a
 * spill before and a fill after for each such register that is live across
 * it, in the lowest 8-byte slots of the function's stack:
 *
 *     *(u64 *)(r10 - 16) = r2     <- spills, innermost at the lowest offset
 *     *(u64 *)(r10 - 24) = r1
 *     call bpf_get_smp_processor_id
 *     r1 = *(u64 *)(r10 - 24)     <- fills, mirrored
 *     r2 = *(u64 *)(r10 - 16)
 *
 * When the kernel inlines the call (x86-64 JIT: bpf_get_smp_processor_id;
 * the kfuncs flagged KF_FASTCALL, bpf_cast_to_kern_ctx and bpf_rdonly_cast),
 * the inlined code keeps those registers, so it removes the pairs after
 * verification and the slots no longer count in the function's stack
 * depth; a program whose combined stack is over 512 bytes only with them
 * is accepted. This holds for a function only while nothing but the
 * patterns' own spills and fills touches the slots: any other access below
 * the slots' upper end on an explored path (a load, a store, a helper
 * reading or writing there, a callee through a pointer) breaks the contract
 * for that function, and its depth keeps the slots.
 *
 * The verifier walks the program with the pairs in place (the kernel
 * removes them only after do_check), so only the stack depth changes:
 * verdicts, logs and insn_processed are otherwise the same. tsbpf's engines
 * run the pairs as written, in a frame of 512 bytes each (see
 * docs/verifier.md, "bpf_fastcall").
 */
import type { Env } from './env.js';
import type { RawInsn } from '../isa/raw.js';
import { BPF_CALL, BPF_JMP } from '../isa/raw.js';
import { R } from '../isa/helper-protos.js';
import { BpfFunc } from '../isa/helper-ids.js';
import { ProgType } from '../isa/uapi.js';
import { envHelperProto, envHelperSets } from './tracing-helpers.js';
import { kfuncCallable } from './kfuncs.js';
import type { KernelBtf } from './kbtf.js';

/** `struct call_summary`: what a helper or kfunc call reads and writes. */
export interface CallSummary {
  /** Parameters in the prototype: the call reads r1..r<numParams>. */
  numParams: number;
  /** No return value: r0 is not written. */
  isVoid: boolean;
  /** The kernel inlines the call keeping r0-r5 other than the above (bpf_fastcall). */
  fastcall: boolean;
}

const S16_MIN = -32768;
const REG_SIZE = 8;
/** r0-r5. */
const ALL_CALLER_SAVED_REGS = 0x3f;
const CALL = BPF_JMP | BPF_CALL;
const STX_MEM_DW = 0x7b;
const LDX_MEM_DW = 0x79;

const FASTCALL_TAGGED = new WeakMap<KernelBtf, Set<number>>();

/**
 * Kernel functions flagged KF_FASTCALL: pahole tags them `bpf_fastcall` in
 * the kernel BTF (on 6.18: bpf_cast_to_kern_ctx and bpf_rdonly_cast). A
 * BTF without the tags gives none, and the stack is counted in full.
 */
function fastcallKfuncs(btf: KernelBtf): Set<number> {
  let set = FASTCALL_TAGGED.get(btf);
  if (!set) {
    set = new Set();
    for (const id of btf.idsByName('bpf_fastcall')) {
      const t = btf.tryType(id);
      if (t?.kind === 'DECL_TAG' && t.type && (t.componentIdx ?? -1) === -1) set.add(t.type);
    }
    FASTCALL_TAGGED.set(btf, set);
  }
  return set;
}

/**
 * The program types whose bpf_get_smp_processor_id is the prototype with
 * `allow_fastcall` (bpf_get_smp_processor_id_proto: tc, XDP, lwt and the
 * tracing family); the others get bpf_get_raw_smp_processor_id_proto from
 * bpf_base_func_proto, which has not. Measured on 6.18.44 for every type
 * it loads here (LSM, which it does not load, from the source: its
 * helpers fall back to the tracing ones).
 */
const SMP_ID_FASTCALL_TYPES: ReadonlySet<number> = new Set([
  ProgType.KPROBE, ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.TRACEPOINT, ProgType.XDP, ProgType.PERF_EVENT,
  ProgType.LWT_IN, ProgType.LWT_OUT, ProgType.LWT_XMIT, ProgType.LWT_SEG6LOCAL, ProgType.RAW_TRACEPOINT,
  ProgType.RAW_TRACEPOINT_WRITABLE, ProgType.TRACING, ProgType.SYSCALL, ProgType.LSM,
]);

/**
 * `fn->allow_fastcall && (verifier_inlines_helper_call ||
 * bpf_jit_inlines_helper_call)`: on x86-64 with the JIT (always on) the
 * verifier inlines bpf_get_smp_processor_id, the one helper 6.18 marks
 * allow_fastcall (measured: bpf_get_current_task, which the verifier also
 * inlines there, is not).
 */
function helperFastcall(env: Env, funcId: number): boolean {
  return funcId === BpfFunc.get_smp_processor_id && SMP_ID_FASTCALL_TYPES.has(env.progType);
}

/**
 * `get_call_summary`: for a helper the program type may call or a kfunc
 * its kfunc sets hold, the parameters, whether it returns nothing and
 * whether the kernel inlines it as bpf_fastcall; null for anything else
 * (bpf-to-bpf calls, unknown helpers: their errors come later).
 */
export function callSummary(env: Env, insn: RawInsn): CallSummary | null {
  if (insn.code !== CALL) return null;
  if (insn.src === 0) {
    const proto = envHelperProto(env, insn.imm);
    if (!proto || !envHelperSets(env).helpers.has(insn.imm)) return null;
    return { numParams: proto.args.length, isVoid: (proto.ret & 0xff) === R.VOID, fastcall: helperFastcall(env, insn.imm) };
  }
  if (insn.src === 2 && kfuncCallable(env, insn.imm)) {
    const btf = env.kfuncBtf()!;
    const fn = btf.tryType(insn.imm);
    const proto = fn && fn.kind === 'FUNC' ? btf.tryType(fn.type ?? 0) : undefined;
    if (!proto || proto.kind !== 'FUNC_PROTO') return null;
    return { numParams: proto.params?.length ?? 0, isVoid: (proto.type ?? 0) === 0, fastcall: fastcallKfuncs(btf).has(insn.imm) };
  }
  return null;
}

/**
 * mark_fastcall_pattern_for_call: the spill/fill pairs around the call at
 * `idx` (innermost first, at offsets `lowestOff`, `lowestOff + 8`, ...,
 * each for a different register the call keeps, none of them the target
 * of a jump but the outermost spill).
 */
function markPatternForCall(env: Env, subprog: number, idx: number, lowestOff: number): void {
  const cs = callSummary(env, env.insns[idx]!);
  if (!cs) return;
  // GENMASK(num_params, is_void ? 1 : 0): the result and the parameters are clobbered
  const clobbered = ((1 << (cs.numParams + 1)) - 1) & ~(cs.isVoid ? 1 : 0);
  let expected = ~clobbered & ALL_CALLER_SAVED_REGS;
  const { insns, aux } = env;
  let i = 1;
  let off = lowestOff;
  for (; i <= 6; i++, off += REG_SIZE) {
    if (idx - i < 0 || idx + i >= env.len) break;
    // the spill/call/fill may not be jump targets (a jump to the first spill is fine)
    if (aux[idx - i + 1]!.jumpTarget || aux[idx + i]!.jumpTarget) break;
    const stx = insns[idx - i]!;
    const ldx = insns[idx + i]!;
    if (stx.code !== STX_MEM_DW || ldx.code !== LDX_MEM_DW || stx.dst !== 10 || ldx.src !== 10) break;
    if (stx.src !== ldx.dst) break;
    if (!((1 << stx.src) & expected)) break;
    if (stx.off !== off || ldx.off !== off) break;
    expected &= ~(1 << stx.src);
    aux[idx - i]!.fastcallPattern = true;
    aux[idx + i]!.fastcallPattern = true;
  }
  if (i === 1) return;
  const sp = env.subprogs[subprog]!;
  // A pattern around a call the kernel does not inline stays (forward
  // compatibility with functions clang knows as bpf_fastcall and this
  // kernel does not), and so does the stack it uses.
  if (cs.fastcall) aux[idx]!.fastcallSpillsNum = i - 1;
  else sp.keepFastcallStack = true;
  // The slots of all the subprogram's patterns: up to the end of the
  // longest (every pattern starts at the lowest offset). 6.18.44 measures
  // so; the upstream source of 2025 took the shortest one's end instead.
  sp.fastcallStackOff = Math.max(sp.fastcallStackOff, off);
}

/** mark_fastcall_patterns: before path exploration, every call of every subprogram. */
export function markFastcallPatterns(env: Env): void {
  for (let s = 0; s < env.subprogs.length; s++) {
    const start = env.subprogs[s]!.start;
    const end = s + 1 < env.subprogs.length ? env.subprogs[s + 1]!.start : env.len;
    // no pattern yet: no slot is the fastcall slots' (as after a broken contract)
    env.subprogs[s]!.fastcallStackOff = S16_MIN;
    let lowestOff = 0;
    for (let i = start; i < end; i++) {
      const insn = env.insns[i]!;
      if (insn.code === STX_MEM_DW && insn.dst === 10) lowestOff = Math.min(lowestOff, insn.off);
    }
    for (let i = start; i < end; i++) {
      if (env.insns[i]!.code === CALL) markPatternForCall(env, s, i, lowestOff);
    }
  }
}

/**
 * check_fastcall_stack_contract: an access at stack offset `off` (its
 * lowest byte) of subprogram `subprog`'s frame by instruction `insnIdx`.
 * Below the fastcall slots' upper end, anything but a pattern's own spill
 * or fill gives up the rewrite for that subprogram, once and for good.
 */
export function checkFastcallStackContract(env: Env, subprog: number, insnIdx: number, off: number): void {
  const sp = env.subprogs[subprog]!;
  if (sp.fastcallStackOff <= off || env.aux[insnIdx]!.fastcallPattern) return;
  sp.fastcallStackOff = S16_MIN;
  const end = subprog + 1 < env.subprogs.length ? env.subprogs[subprog + 1]!.start : env.len;
  for (let i = sp.start; i < end; i++) {
    env.aux[i]!.fastcallSpillsNum = 0;
    env.aux[i]!.fastcallPattern = false;
  }
}

/**
 * remove_fastcall_spills_fills (after verification, before
 * check_max_stack_depth): a subprogram with a call whose pairs the kernel
 * removes, and no pattern it keeps, has the stack above its fastcall slots
 * as its depth. tsbpf does not rewrite the program (see the file comment).
 */
export function removeFastcallSpillsFills(env: Env): void {
  for (let s = 0; s < env.subprogs.length; s++) {
    const sp = env.subprogs[s]!;
    const end = s + 1 < env.subprogs.length ? env.subprogs[s + 1]!.start : env.len;
    let modified = false;
    for (let i = sp.start; i < end && !modified; i++) modified = env.aux[i]!.fastcallSpillsNum > 0;
    if (modified && !sp.keepFastcallStack) sp.stackDepth = -sp.fastcallStackOff;
  }
}
