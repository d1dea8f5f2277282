/**
 * The verification environment (`struct bpf_verifier_env`): the program,
 * its per-instruction facts, the current state, the stack of branches to
 * explore, the explored states used for pruning, counters and the log.
 * Checks in the other modules take it as their first argument, as the
 * kernel's functions do.
 */
import type { RawInsn } from '../isa/raw.js';
import { isLdImm64 } from '../isa/raw.js';
import { formatKernelSlot } from '../asm/kernel-syntax.js';
import { snum, unum, VLog, vlogAlignment } from './log.js';
import type { MapInfo, Reg } from './reg.js';
import {
  baseType, F, isPktPointer, markUnknown as markUnknownReg, regTypeStr, S32_MAX, S32_MIN, S64_MAX, S64_MIN, T, U32_MAX, U64_MAX,
} from './reg.js';
import type { FuncState, VState } from './state.js';
import { REG_SIZE, SLOT_CHARS, STACK_DYNPTR, STACK_INVALID, STACK_ITER, STACK_SPILL } from './state.js';
import { dynptrSlotStr } from './dynptrs.js';
import { iterSlotStr, iterTypeStr } from './iters.js';
import { tnumIsConst, tnumIsUnknown, tnumStr } from './tnum.js';
import type { ProgTypeInfo } from './prog-types.js';
import { Backtrack } from './precision.js';
import { StackLiveness } from './liveness.js';
import type { KernelBtf } from './kbtf.js';
import type { AttachTarget } from './attach.js';
import { Limits } from '../isa/uapi.js';

/** Thrown to stop verification; the message is already in the log. */

/** An argument of a global subprogram, as BTF describes it. */
export type GlobalArg =
  | { kind: 'scalar' }
  | { kind: 'ctx' }
  | { kind: 'mem'; size: number; nonnull?: boolean }
  /** `__arg_trusted` (with `nullable`: `__arg_nullable`) or `__arg_untrusted` on a struct pointer: a kernel object of the struct named `struct` in the kernel BTF. */
  | { kind: 'btf'; struct: string; trusted: boolean; nullable: boolean }
  /** `__arg_untrusted` on a pointer to void or a primitive: untrusted read-only memory. */
  | { kind: 'untrusted-mem' }
  /** `struct bpf_dynptr *`: an initialised dynptr the callee only reads (a const local dynptr there). */
  | { kind: 'dynptr' };

/** BTF function info for one subprogram. */
export interface FuncInfoEntry {
  insnOff: number;
  name: string;
  global: boolean;
  args?: readonly GlobalArg[];
  argsError?: string;
  /** The BTF prototype returns a small int or enum (unknown: assumed so). */
  scalarReturn?: boolean;
}

export class VerifyAbort extends Error {
  constructor(readonly errno: string) {
    super(errno);
  }
}

/** Per-instruction facts (`struct bpf_insn_aux_data`, the parts we use). */
export interface InsnAux {
  /** bpf_loop calls: whether the call can be inlined (flags always 0, one callback). */
  loopInline?: { fit: boolean; subprogno: number };
  prunePoint: boolean;
  jmpPoint: boolean;
  forceCheckpoint: boolean;
  /** A call of an open-coded iterator's `_next` (`is_iter_next`). */
  iterNext: boolean;
  callsCallback: boolean;
  liveRegsBefore: number;
  scc: number;
  seen: boolean;
  /** Pointer type first seen by a load/store at this instruction (save_aux_ptr_type). */
  ptrType: number;
  /** For `lddw` of a map or map value. */
  mapIndex: number;
  mapOff: number;
  /** For `lddw` of a kernel variable (BPF_PSEUDO_BTF_ID): the register it loads. */
  btfVar?: { type: number; btfId: number; memSize: number };
  /** `bpf_obj_drop` calls: the type of the object they drop (`kptr_struct_meta`), one per call. */
  dropType?: number;
  /** Whether every memory access here was proven in bounds on every path (JIT contract). */
  accessChecked: boolean;
  accessSafe: boolean;
  /** bpf_loop inlining bookkeeping is not needed; tail call key state for completeness. */
  nonSleepable: boolean;
  /** The target of a jump (a branch, `goto`, a call's callee): a bpf_fastcall pattern does not grow past it. */
  jumpTarget: boolean;
  /** A spill or fill of a bpf_fastcall pattern (`fastcall_pattern`, see fastcall.ts). */
  fastcallPattern: boolean;
  /** At a call that the kernel inlines: the number of spill/fill pairs around it that it removes (`fastcall_spills_num`). */
  fastcallSpillsNum: number;
}

export interface SubprogInfo {
  start: number;
  exitIdx: number;
  hasTailCall: boolean;
  hasLdAbs: boolean;
  stackDepth: number;
  isCb: boolean;
  isAsyncCb: boolean;
  changesPktData: boolean;
  /** Calls a helper that may sleep, itself or through its callees (`might_sleep`, found by check_cfg). */
  mightSleep: boolean;
  tailCallReachable: boolean;
  /** Static (non-global) per BTF func info; without BTF every subprogram is static. */
  global: boolean;
  /** Global subprograms: argument kinds from BTF, or the reason BTF cannot describe them. */
  args: readonly GlobalArg[] | null;
  argsError: string | null;
  /** A global subprogram was called (verify it after the main program). */
  called: boolean;
  verified: boolean;
  name: string;
  /**
   * bpf_fastcall (fastcall.ts): stack offsets in [lowest spill, fastcallStackOff)
   * hold only the spills and fills of fastcall patterns while no other
   * access reaches them (-32768: no pattern, or the contract was broken).
   */
  fastcallStackOff: number;
  /** A pattern surrounds a call the kernel does not inline: its slots stay in the stack depth (`keep_fastcall_stack`). */
  keepFastcallStack: boolean;
}

/** A pending branch (`struct bpf_verifier_stack_elem`). */
export interface StackElem {
  st: VState;
  insnIdx: number;
  prevInsnIdx: number;
  logPos: number;
}

/** One explored state (`struct bpf_verifier_state_list`). */
export interface StateListEntry {
  state: VState;
  missCnt: number;
  hitCnt: number;
  inFreeList: boolean;
  /** Evicted and no longer referenced: no longer counted in the free list (maybe_free_verifier_state). */
  freed: boolean;
}

/** A BTF line info record: the source line that produced the code from `insnOff`. */
export interface SourceLine {
  insnOff: number;
  /** The source file as the compiler named it (the log shows its last component). */
  file: string;
  line: number;
  /** The text of the line. */
  source: string;
}

/** find_linfo: the last record starting at or before `insnOff` (records are sorted by offset). */
function findLinfo(lines: readonly SourceLine[], insnOff: number): SourceLine | null {
  let l = 0;
  let r = lines.length - 1;
  if (lines[0]!.insnOff > insnOff) return null;
  while (l < r) {
    const m = l + ((r - l + 1) >> 1);
    if (lines[m]!.insnOff <= insnOff) l = m;
    else r = m - 1;
  }
  return lines[l]!;
}

/** Options the environment is built from. */
export interface EnvConfig {
  insns: RawInsn[];
  progType: number;
  typeInfo: ProgTypeInfo;
  expectedAttachType: number;
  gpl: boolean;
  maps: MapInfo[];
  logLevel: number;
  sleepable: boolean;
  funcInfo: FuncInfoEntry[] | null;
  /** BTF line info in instruction order (null: the program has none). */
  lineInfo: readonly SourceLine[] | null;
  /** The kernel's BTF (or a function that reads it when first needed). */
  kernelBtf?: KernelBtf | (() => KernelBtf | null | undefined) | null;
  /** The program's own BTF (`bpf_obj_new` types, the records of allocated objects). */
  progBtf?: KernelBtf;
  /** struct_ops: the kernel struct and member the program implements. */
  structOps?: { struct: string; member: string };
  /** The BTF kfunc calls name functions of when it is not the kernel's (the loader's built-in kfuncs). */
  kfuncBtf?: KernelBtf;
  /** Whether the kernel has an address for a symbol (kallsyms). */
  kernelSymbols?: (name: string) => boolean;
  /** `attach_btf_id` of a tracing or LSM program (undefined: tsbpf's model without the attach point). */
  attachBtfId?: number;
  /** The attach point by name, as a section names it (`sched_wakeup` of `tp_btf/sched_wakeup`), found in the kernel BTF as libbpf does. */
  attachTo?: string;
}

/**
 * Instrumentation for tests (the differential fuzzer reads the bounds of a
 * register at one instruction on every path without a level-2 log): when
 * set, called after each processed instruction with its index and the
 * verifier state. Null (the default) costs one property read per
 * instruction.
 */
export const verifierHooks: { afterInsn: ((idx: number, env: Env) => void) | null } = { afterInsn: null };

export const BPF_COMPLEXITY_LIMIT_INSNS = Limits.COMPLEXITY_INSNS;
export const BPF_COMPLEXITY_LIMIT_JMP_SEQ = Limits.COMPLEXITY_JMP_SEQ;
export const MAX_CALL_FRAMES = Limits.CALL_FRAMES;

export class Env {
  readonly insns: RawInsn[];
  readonly len: number;
  readonly progType: number;
  readonly typeInfo: ProgTypeInfo;
  readonly expectedAttachType: number;
  readonly gpl: boolean;
  readonly maps: MapInfo[];
  readonly logLevel: number;
  readonly log = new VLog();
  readonly sleepable: boolean;
  readonly funcInfo: FuncInfoEntry[] | null;
  /** `attach_btf_id` (tracing, LSM). */
  readonly attachBtfId: number | undefined;
  readonly attachTo: string | undefined;
  /** The resolved attach point of a tracing or LSM program (null: none, or no kernel BTF). */
  attach: AttachTarget | null = null;
  private kbtfSource: KernelBtf | (() => KernelBtf | null | undefined) | null;
  private kbtfValue: KernelBtf | null | undefined = undefined;
  private readonly kfuncBtfValue: KernelBtf | null;
  /** The program's own BTF, or null (a raw program). */
  readonly progBtf: KernelBtf | null;
  /** struct_ops: the kernel struct and member the program implements, or null. */
  readonly structOps: { struct: string; member: string } | null;
  /** Whether the kernel has an address for a symbol (kallsyms), when known. */
  readonly kernelSymbols: ((name: string) => boolean) | null;
  aux: InsnAux[];
  subprogs: SubprogInfo[] = [];
  cur!: VState;
  head: StackElem[] = [];
  insnIdx = 0;
  prevInsnIdx = -1;
  insnProcessed = 0;
  jmpsProcessed = 0;
  prevJmpsProcessed = 0;
  prevInsnProcessed = 0;
  idGen = 0;
  explored = new Map<number, StateListEntry[]>();
  exploredSize = 0;
  freeListSize = 0;
  numBackedges = 0;
  totalStates = 0;
  peakStates = 0;
  maxStatesPerInsn = 0;
  scratchedRegs = 0;
  scratchedStack = 0n;
  prevLogPos = 0;
  prevInsnPrintPos = 0;
  /** BPF_F_STRICT_ALIGNMENT: every pointer access must be aligned. */
  strictAlignment = false;
  /** allow_ptr_leaks (CAP_PERFMON): when false, pointers may not leave the program (return value, maps, helpers, comparisons). */
  allowPtrLeaks = true;
  /** BPF_F_TEST_STATE_FREQ: a checkpoint at every prune point. */
  testStateFreq = false;
  /** BPF_PSEUDO_MAP_FD/VALUE immediates are indices into `maps` (raw programs), not unopened fds. */
  mapFdsIndexMaps = true;
  /** Possible CPUs (bounds bpf_get_smp_processor_id). */
  nrCpus = 2;
  /** Largest end (offset + size) of a context access (`prog->aux->max_ctx_offset`). */
  maxCtxOffset = 0;
  /** Largest end of a tracepoint-buffer access (`prog->aux->max_tp_access`). */
  maxTpAccess = 0;
  /** A visited access that convert_ctx_accesses would refuse after verification. */
  ctxConversionFails = false;
  /** Set when a helper/insn writes to packet data directly. */
  seenDirectWrite = false;
  /** Postorder of instructions per subprogram. */
  postorder: number[] = [];
  /** Current history entry of this instruction (for flags merging). */
  curHistEnt: number = -1;
  /** Kernel text addresses printed for map `lddw`s. */
  readonly mapAddr: bigint[];
  /** Precision backtracking scratch state. */
  readonly bt = new Backtrack();
  /** Stack slot liveness. */
  readonly liveness: StackLiveness;

  constructor(cfg: EnvConfig) {
    this.insns = cfg.insns;
    this.len = cfg.insns.length;
    this.progType = cfg.progType;
    this.typeInfo = cfg.typeInfo;
    this.expectedAttachType = cfg.expectedAttachType;
    this.gpl = cfg.gpl;
    this.maps = cfg.maps;
    this.logLevel = cfg.logLevel;
    this.sleepable = cfg.sleepable;
    this.funcInfo = cfg.funcInfo;
    this.lineInfo = cfg.lineInfo && cfg.lineInfo.length > 0 ? cfg.lineInfo : null;
    this.attachBtfId = cfg.attachBtfId;
    this.attachTo = cfg.attachTo;
    this.kbtfSource = cfg.kernelBtf ?? null;
    this.kfuncBtfValue = cfg.kfuncBtf ?? null;
    this.progBtf = cfg.progBtf ?? null;
    this.structOps = cfg.structOps ?? null;
    this.kernelSymbols = cfg.kernelSymbols ?? null;
    this.aux = [];
    for (let i = 0; i < this.len; i++) {
      this.aux.push({
        prunePoint: false, jmpPoint: false, forceCheckpoint: false, iterNext: false, callsCallback: false, liveRegsBefore: 0,
        scc: 0, seen: false, ptrType: 0, mapIndex: -1, mapOff: 0, accessChecked: false, accessSafe: true, nonSleepable: false,
        jumpTarget: false, fastcallPattern: false, fastcallSpillsNum: 0,
      });
    }
    this.mapAddr = cfg.maps.map((_, i) => 0xffff888104000000n + BigInt(i) * 0x2400n);
    this.liveness = new StackLiveness(this);
  }

  /**
   * The BTF whose ids kfunc calls hold: the loader's built-in kfuncs when
   * it resolved them there, else the kernel's.
   */
  kfuncBtf(): KernelBtf | null {
    return this.kfuncBtfValue ?? this.kbtf();
  }

  /** The kernel BTF, read on first use (null when the verifier was not given one). */
  kbtf(): KernelBtf | null {
    if (this.kbtfValue === undefined) {
      const src = this.kbtfSource;
      this.kbtfValue = (typeof src === 'function' ? src() : src) ?? null;
    }
    return this.kbtfValue;
  }

  /** Appends to the log when logging is on (`verbose`). */
  verbose(s: string): void {
    if (this.logLevel) this.log.write(s);
  }

  /** BTF line info of the program, in instruction order. */
  readonly lineInfo: readonly SourceLine[] | null;
  /** The line info record printed last (the kernel's `prev_linfo`): kept across paths. */
  private prevLinfo: SourceLine | null = null;

  /**
   * verbose_linfo: prints `prefix` and the source line covering `insnOff`
   * (`; x = 1; @ file.c:12`), unless it is the line printed last.
   */
  verboseLinfo(insnOff: number, prefix: string): void {
    if (!this.logLevel || !this.lineInfo || insnOff >= this.len) return;
    const linfo = findLinfo(this.lineInfo, insnOff);
    const prev = this.prevLinfo;
    if (!linfo || linfo === prev) return;
    // Records that differ only in their column print the same text: shown once.
    if (prev && linfo.file === prev.file && linfo.line === prev.line) return;
    const slash = linfo.file.lastIndexOf('/');
    this.log.write(`${prefix}${linfo.source.replace(/^[ \t\n\v\f\r]+/, '')} @ ${linfo.file.slice(slash + 1)}:${linfo.line}\n`);
    this.prevLinfo = linfo;
  }

  /** The last error message logged (the kernel's last log line before the statistics). */
  errorMsg: string | null = null;

  /** is_pointer_value: a register holding a pointer, when pointers may not leak. */
  isPointerValue(regno: number): boolean {
    return !this.allowPtrLeaks && this.regs[regno]!.type !== T.SCALAR;
  }

  /** Logs `msg` and stops verification. */
  fail(msg: string, errno = 'EACCES'): never {
    this.note(msg);
    throw new VerifyAbort(errno);
  }

  /** Logs an error line (it becomes the reported error if verification stops). */
  note(msg: string, newline = true): void {
    this.errorMsg = msg;
    this.verbose(newline ? msg + '\n' : msg);
  }

  /** Stops verification (the message was already logged). */
  abort(errno: string): never {
    throw new VerifyAbort(errno);
  }

  get frame(): FuncState {
    return this.cur.frames[this.cur.curframe]!;
  }

  get regs(): Reg[] {
    return this.cur.frames[this.cur.curframe]!.regs;
  }

  markRegScratched(regno: number): void {
    this.scratchedRegs |= 1 << regno;
  }

  markStackSlotScratched(spi: number): void {
    this.scratchedStack |= 1n << BigInt(spi);
  }

  markStateScratched(): void {
    this.scratchedRegs = 0xffff;
    this.scratchedStack = 0xffff_ffff_ffff_ffffn;
  }

  markStateClean(): void {
    this.scratchedRegs = 0;
    this.scratchedStack = 0n;
  }

  get stateScratched(): boolean {
    return this.scratchedRegs !== 0 || this.scratchedStack !== 0n;
  }

  /** The 64-bit value the kernel prints for a `lddw` at `idx` (resolved map addresses). */
  ldImmPrintValue(idx: number): bigint | undefined {
    const i = this.insns[idx]!;
    const a = this.aux[idx]!;
    // print_bpf_insn hides map addresses (src 1 and 2) from loaders without allow_ptr_leaks
    if ((i.src === 1 || i.src === 2) && !this.allowPtrLeaks) return 0n;
    if ((i.src === 1 || i.src === 5) && a.mapIndex >= 0) return this.mapAddr[a.mapIndex]!;
    if ((i.src === 2 || i.src === 6) && a.mapIndex >= 0) return this.mapAddr[a.mapIndex]! + 0x110n + BigInt(a.mapOff);
    // a kernel variable: the kernel prints the address it patched in, which tsbpf does not know
    if (i.src === 3 && a.btfVar) return 0xffffffff82000000n + BigInt(i.imm >>> 0) * 8n;
    return undefined;
  }

  /** `verbose_insn`. */
  formatKernelSlot(idx: number): string {
    const i = this.insns[idx]!;
    // a kfunc call prints the function's name from the kernel BTF (disasm_kfunc_name)
    if (i.code === 0x85 && i.src === 2 && i.off === 0) {
      const t = this.kfuncBtf()?.tryType(i.imm);
      if (t && t.kind === 'FUNC') return `(85) call ${t.name}#${i.imm}`;
    }
    return formatKernelSlot(i, isLdImm64(i) ? this.insns[idx + 1] : undefined, isLdImm64(i) ? this.ldImmPrintValue(idx) : undefined);
  }

  nextId(): number {
    return ++this.idGen;
  }
}

function scalarRanges(r: Reg, out: string[]): void {
  type M = { name: string; val: bigint; signed: boolean; omit: boolean };
  const smin32 = r.s32min >= -32768n && r.s32min <= 32767n ? r.s32min : BigInt.asUintN(32, r.s32min);
  const smax32 = r.s32max >= -32768n && r.s32max <= 32767n ? r.s32max : BigInt.asUintN(32, r.s32max);
  const m: M[] = [
    { name: 'smin', val: BigInt.asUintN(64, r.smin), signed: true, omit: r.smin === S64_MIN },
    { name: 'smax', val: BigInt.asUintN(64, r.smax), signed: true, omit: r.smax === S64_MAX },
    { name: 'umin', val: r.umin, signed: false, omit: r.umin === 0n },
    { name: 'umax', val: r.umax, signed: false, omit: r.umax === U64_MAX },
    { name: 'smin32', val: BigInt.asUintN(64, smin32), signed: true, omit: r.s32min === S32_MIN },
    { name: 'smax32', val: BigInt.asUintN(64, smax32), signed: true, omit: r.s32max === S32_MAX },
    { name: 'umin32', val: r.u32min, signed: false, omit: r.u32min === 0n },
    { name: 'umax32', val: r.u32max, signed: false, omit: r.u32max === U32_MAX },
  ];
  for (let i = 0; i < m.length; i++) {
    const m1 = m[i]!;
    if (m1.omit) continue;
    const neg1 = m1.signed && BigInt.asIntN(64, m1.val) < 0n;
    let s = `${m1.name}=`;
    for (let j = i + 2; j < m.length; j += 2) {
      const m2 = m[j]!;
      if (m2.omit || m2.val !== m1.val) continue;
      const neg2 = m2.signed && BigInt.asIntN(64, m2.val) < 0n;
      if (neg2 !== neg1) continue;
      m2.omit = true;
      s += `${m2.name}=`;
    }
    s += m1.signed ? snum(BigInt.asIntN(64, m1.val)) : unum(m1.val);
    out.push(s);
  }
}

/** `print_reg_state`. */
export function regStateStr(frame: FuncState, r: Reg): string {
  const t = r.type;
  let s = '';
  if (t === T.SCALAR && r.precise) s += 'P';
  if (t === T.SCALAR && tnumIsConst(r.varOff)) return s + snum(BigInt.asIntN(64, r.varOff.value));
  s += regTypeStr(t);
  if (baseType(t) === T.BTF_ID) s += r.btfName;
  if (t === T.ARENA) return s;
  if (t === T.STACK) {
    if (frame.frameno !== r.frameno) s += `[${r.frameno}]`;
    if (tnumIsConst(r.varOff)) return s + snum(BigInt.asIntN(64, r.varOff.value) + BigInt(r.off));
  }
  const parts: string[] = [];
  let idStr = '';
  if (r.id) idStr = `id=${r.id}`;
  if (r.addConst) idStr += (r.delta < 0 ? `${r.delta}` : `+${r.delta}`);
  if (idStr) parts.push(idStr);
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  const b = baseType(t);
  // type_is_non_owning_ref
  if (b === T.BTF_ID && (t & F.ALLOC) && (t & F.NON_OWN) && !(t & F.UNTRUSTED)) parts.push('non_own_ref');
  if ((b === T.MAP_PTR || b === T.MAP_KEY || b === T.MAP_VALUE) && r.map) {
    if (r.map.name) parts.push(`map=${r.map.name}`);
    parts.push(`ks=${r.map.keySize},vs=${r.map.valueSize}`);
  }
  if (t !== T.SCALAR && r.off) parts.push(`off=${snum(BigInt(r.off))}`);
  if (isPktPointer(t)) parts.push(`r=${unum(BigInt.asUintN(64, BigInt(r.range)))}`);
  if (b === T.MEM) parts.push(`sz=${unum(BigInt(r.memSize))}`);
  if (tnumIsConst(r.varOff)) {
    if (r.varOff.value) parts.push(`imm=${snum(BigInt.asIntN(64, r.varOff.value))}`);
  } else {
    scalarRanges(r, parts);
    if (!tnumIsUnknown(r.varOff)) parts.push(`var_off=${tnumStr(r.varOff)}`);
  }
  return `${s}(${parts.join(',')})`;
}

/** `print_verifier_state`. */
export function printVerifierState(env: Env, vs: VState, frameno: number, printAll: boolean): void {
  const f = vs.frames[frameno]!;
  let s = '';
  if (f.frameno) s += ` frame${f.frameno}:`;
  for (let i = 0; i < 11; i++) {
    const r = f.regs[i]!;
    if (r.type === T.NOT_INIT) continue;
    if (!printAll && !(env.scratchedRegs & (1 << i))) continue;
    s += ` R${i}=${regStateStr(f, r)}`;
  }
  for (let spi = 0; spi < f.allocatedStack / REG_SIZE; spi++) {
    if (!printAll && !(env.scratchedStack & (1n << BigInt(spi)))) continue;
    let valid = false;
    let buf = '';
    for (let j = 0; j < REG_SIZE; j++) {
      const t = f.slotType[spi * REG_SIZE + j]!;
      if (t !== STACK_INVALID) valid = true;
      buf += SLOT_CHARS[t];
    }
    if (!valid) continue;
    const name = ` fp${(-spi - 1) * REG_SIZE}`;
    const last = f.slotType[spi * REG_SIZE + REG_SIZE - 1];
    if (last === STACK_SPILL) {
      let j = 0;
      while (j < REG_SIZE && f.slotType[spi * REG_SIZE + j] !== STACK_SPILL) j++;
      s += `${name}=${buf.slice(0, j)}${regStateStr(f, f.spilled[spi]!)}`;
    } else if (last === STACK_DYNPTR) {
      // print_verifier_state skips to the dynptr's first slot and names it
      spi++;
      s += ` fp${(-spi - 1) * REG_SIZE}=${dynptrSlotStr(f.spilled[spi]!)}`;
    } else if (last === STACK_ITER) {
      // only an iterator's main slot carries its reference; the others are not printed
      const r = f.spilled[spi]!;
      if (!r.refObjId) continue;
      const t = env.kfuncBtf()?.tryType(r.btfId);
      s += `${name}=${iterSlotStr(iterTypeStr(t?.name ?? ''), r)}`;
    } else {
      s += `${name}=${buf}`;
    }
  }
  if (vs.refs.length > 0 && vs.refs[0]!.id) {
    s += ` refs=${vs.refs.filter((r) => r.id).map((r) => r.id).join(',')}`;
  }
  if (f.inCallbackFn) s += ' cb';
  if (f.inAsyncCallbackFn) s += ' async_cb';
  env.verbose(s + '\n');
  if (!printAll) env.markStateClean();
}

/** `print_insn_state`: either `N:` + state, or `; state` appended to the instruction just printed. */
export function printInsnState(env: Env, vs: VState, frameno: number): void {
  if (env.prevLogPos && env.prevLogPos === env.log.pos) {
    env.log.reset(env.prevLogPos - 1);
    env.verbose(' '.repeat(vlogAlignment(env.prevInsnPrintPos)) + ';');
  } else {
    env.verbose(`${env.insnIdx}:`);
  }
  printVerifierState(env, vs, frameno, false);
}

export { S32_MAX, S32_MIN };

/** check_reg_arg: a source must be initialised; a destination must not be r10 (and is reset for DST). */
export function checkRegArg(env: Env, regno: number, kind: 'src' | 'dst' | 'dst_no_mark'): void {
  if (regno >= 11) env.fail(`R${regno} is invalid`, 'EINVAL');
  env.markRegScratched(regno);
  const reg = env.regs[regno]!;
  if (kind === 'src') {
    if (reg.type === T.NOT_INIT) env.fail(`R${regno} !read_ok`);
    return;
  }
  if (regno === 10) env.fail('frame pointer is read only');
  if (kind === 'dst') markUnknownReg(reg);
}

