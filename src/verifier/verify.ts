/**
 * The verifier's public entry points: `verify` for a program given as
 * instructions plus its program type and maps, `verifyObjectProgram` for a
 * program of an ELF object spec (src/loader), and `kernelErrorLine` to pick
 * the error out of a kernel verifier log the way `verify` reports its own.
 */
import { TsbpfError } from '../errors.js';
import type { ErrorLocation } from '../errors.js';
import type { Instruction } from '../isa/instruction.js';
import { encodeProgram } from '../isa/encode.js';
import { BPF_COMPLEXITY_LIMIT_INSNS, Env, VerifyAbort } from './env.js';
import type { GlobalArg, SourceLine } from './env.js';
import { readInsns } from '../isa/raw.js';
import { runChecks } from './check.js';
import type { MapInfo } from './reg.js';
import { progTypeInfo } from './prog-types.js';
import type { KernelBtf } from './kbtf.js';
import type { BtfField, BtfRecord } from './btf-record.js';
import { MAP_VALUE_FIELDS, parseBtfRecord } from './btf-record.js';
import { MapType, PROG_TYPE_NAMES, ProgType } from '../isa/uapi.js';

/** A map as the verifier needs it (a `MapSpec` from src/vm/maps or an object's map fits). */
export interface VerifierMapSpec {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  name?: string;
  innerMap?: VerifierMapSpec;
  /** Frozen after loading (`.rodata`): with BPF_F_RDONLY_PROG, loads from it are known constants. */
  frozen?: boolean;
  /** Initial contents of key 0 (global data). */
  initialData?: Uint8Array;
  /** BTF type id of the value in the object's BTF (objects' maps): the map has BTF. */
  btfValueTypeId?: number;
  /** Kernel objects in the value, from its BTF: a `bpf_spin_lock` and a `bpf_timer`, by offset. */
  fields?: { spinLock?: number; timer?: number };
}


/** A program to verify. */
export interface VerifyProgram {
  /** Raw instructions (8 bytes per slot) or decoded instructions. */
  insns: Uint8Array | readonly Instruction[];
  /** `enum bpf_prog_type` id. */
  progType: number;
  /** License string; GPL-only helpers need a GPL-compatible one (default "GPL"). */
  license?: string;
  /** Maps by index: `lddw` with src 1/5 (map) or 2/6 (map value) has imm = index. */
  maps?: readonly VerifierMapSpec[];
  /** `enum bpf_attach_type` id (0 when not given). */
  expectedAttachType?: number;
  /** Load flags: BPF_F_STRICT_ALIGNMENT (1), BPF_F_ANY_ALIGNMENT (2), BPF_F_TEST_STATE_FREQ (8), BPF_F_SLEEPABLE (16). */
  flags?: number;
  /**
   * BTF function info: subprogram names and linkage (needed for callbacks,
   * as in Linux). A global subprogram is verified on its own, with argument
   * kinds `args` (from its BTF prototype); `argsError` is the kernel's
   * message when BTF cannot describe them.
   */
  /**
   * Whether `BPF_PSEUDO_MAP_FD`/`_VALUE` immediates index `maps` (default:
   * raw programs name their maps so). An object's loader relocates every map
   * reference to `BPF_PSEUDO_MAP_IDX`: a file descriptor left in its code
   * names nothing, as in the kernel.
   */
  mapFdsIndexMaps?: boolean;
  funcInfo?: readonly { insnOff: number; name: string; global?: boolean; args?: readonly GlobalArg[]; argsError?: string; scalarReturn?: boolean }[];
  /**
   * BTF line info (from `.BTF.ext`), in instruction order: the log prints
   * `; <source line> @ <file>:<line>` before the instructions a line
   * produced, as the kernel does when a program is loaded with line info.
   */
  lineInfo?: readonly SourceLine[];
  /**
   * Tracing and LSM programs: the attach point's id in the kernel BTF
   * (`attach_btf_id`: a `btf_trace_*` typedef for tp_btf, the function for
   * fentry/fexit/fmod_ret, `bpf_lsm_*` for LSM, `bpf_iter_*` for
   * iterators). With `VerifyOptions.kernelBtf` the context is typed from
   * it as the kernel does; without, tsbpf's own model applies (twelve u64
   * arguments, a `tsbpf:` refusal where the kernel would need BTF).
   */
  attachBtfId?: number;
  /** The attach point by name as a section gives it (`sched_wakeup` for `tp_btf/sched_wakeup`), looked up as libbpf does. */
  attachTo?: string;
  /**
   * The program's own BTF (an object's `.BTF`): the kernel objects map
   * values hold (kptrs, list heads, ...) are read from the maps' value
   * types, and `bpf_obj_new` allocates its structs.
   */
  progBtf?: KernelBtf;
  /**
   * struct_ops programs: the kernel struct (`tcp_congestion_ops`) and the
   * member the program implements (libbpf's `attach_btf_id` and
   * `expected_attach_type`, found by name in the kernel BTF).
   */
  structOps?: { struct: string; member: string };
  /**
   * The exception callback the main function names (`__exception_cb`), or
   * why the kernel refuses it before verifying (the loader reads the BTF
   * tags; verify-object.ts).
   */
  exceptionCallback?: { name: string } | { error: string };
}

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** 0: no log; 1: the failing path with register state; 2: every instruction. */
  logLevel?: 0 | 1 | 2;
  /**
   * With log level 0: a rejected program is verified again at level 1, so
   * its result carries the failing path's log (libbpf loads without a log
   * and asks for one only when the load fails). An accepted program is
   * verified once, without the cost of building a log nobody reads.
   */
  logOnFailure?: boolean;
  /** Number of possible CPUs (bounds `bpf_get_smp_processor_id`; default 2). */
  nrCpus?: number;
  /**
   * false: the pointer-leak checks of a loader without CAP_PERFMON
   * (`R0 leaks addr as return value`, `leaks addr into map/ctx/helper
   * function`, `pointer comparison prohibited`, ...). The rest stays the
   * privileged verifier (no Spectre sanitation, uninitialised stack reads
   * allowed). Default true (root / CAP_PERFMON, as the tests' kernel).
   */
  allowPtrLeaks?: boolean;
  /**
   * The kernel's BTF (e.g. /sys/kernel/btf/vmlinux parsed by src/loader's
   * parseBtf), or a function returning it, called only when a program needs
   * it: attach points of tracing/LSM programs, loads through kernel object
   * pointers, helper arguments typed by BTF, kfuncs.
   */
  kernelBtf?: KernelBtf | (() => KernelBtf | null | undefined) | null;
  /**
   * The BTF the program's kfunc calls name functions of when the loader did
   * not resolve them against a kernel BTF (src/loader's built-in kfuncs,
   * `ObjectSpec.kfuncBtf`; verifyObjectProgram passes it).
   */
  kfuncBtf?: KernelBtf;
  /**
   * Whether the kernel has an address for a symbol (`kallsyms_lookup_name`,
   * e.g. read from /proc/kallsyms of the kernel whose BTF this is): loads of
   * kernel variables need one, and a kernel built without
   * CONFIG_KALLSYMS_ALL has none for its variables. Without it functions are
   * taken to have addresses and variables are refused with a `tsbpf:`
   * message.
   */
  kernelSymbols?: (name: string) => boolean;
}

/** Counters the kernel prints on its last log line. */
export interface VerifyStats {
  maxStatesPerInsn: number;
  totalStates: number;
  peakStates: number;
  /** Stack bytes per subprogram as the kernel counts them against the combined limit (`stack_depth`, without the bpf_fastcall slots it removes). */
  stackDepth: number[];
}

/** The verdict. */
export interface VerifyResult {
  accepted: boolean;
  /** The kernel-style message of a rejection (the last log line before "processed ..."), else null. */
  error: string | null;
  /** Errno name the kernel would return (EACCES, EINVAL, E2BIG, ...), null when accepted. */
  errno: string | null;
  /** Instruction being verified when the program was rejected (null when accepted or before any instruction). */
  errorInsn: number | null;
  /** The verifier log at the requested level, ending with the "processed ..." line. */
  log: string;
  insnsProcessed: number;
  stats: VerifyStats;
  /**
   * Slots of load/store/atomic instructions whose every memory access was
   * proven in bounds on every explored path (see docs/verifier.md): an
   * engine may run them without a bounds check. Empty when rejected.
   */
  safeAccesses: Set<number>;
  /**
   * Largest end (offset + size) of a context access on any explored path
   * (the kernel's `max_ctx_offset`): a run must give a context at least this
   * large. 0 when rejected.
   */
  maxCtxOffset: number;
  /** Largest end of a writable tracepoint buffer access (`max_tp_access`); 0 when rejected. */
  maxTpAccess: number;
  /**
   * `loader`: the program never reached the verifier: its loader (libbpf)
   * refused it first (an unresolved extern, a relocation, a map that could
   * not be created); `error` is the loader's message.
   */
  stage?: 'loader';
}

const GPL_LICENSES = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

/** `license_is_gpl_compatible`. */
export function licenseIsGplCompatible(license: string): boolean {
  return GPL_LICENSES.has(license);
}

const BPF_F_RDONLY_PROG = 1 << 7;

/**
 * The record of a map's value: parsed from the program's BTF when the map
 * has a value type there, else the spin lock and timer the spec names.
 */
function mapRecord(spec: VerifierMapSpec, progBtf: KernelBtf | null, kernelBtf: () => KernelBtf | null): BtfRecord | null {
  if (progBtf && spec.btfValueTypeId) {
    const rec = parseBtfRecord(progBtf, spec.btfValueTypeId, MAP_VALUE_FIELDS, spec.valueSize, kernelBtf);
    return typeof rec === 'number' ? null : rec;
  }
  const fields: BtfField[] = [];
  if (spec.fields?.spinLock !== undefined) fields.push({ type: 'bpf_spin_lock', offset: spec.fields.spinLock, size: 4 });
  if (spec.fields?.timer !== undefined) fields.push({ type: 'bpf_timer', offset: spec.fields.timer, size: 16 });
  if (fields.length === 0) return null;
  fields.sort((a, b) => a.offset - b.offset);
  return { fields, spinLockOff: spec.fields?.spinLock ?? -1, resSpinLockOff: -1, timerOff: spec.fields?.timer ?? -1, wqOff: -1, refcountOff: -1 };
}

function mapInfo(spec: VerifierMapSpec, index: number, progBtf: KernelBtf | null, kernelBtf: () => KernelBtf | null): MapInfo {
  const record = mapRecord(spec, progBtf, kernelBtf);
  const readonly = (spec.flags ?? 0) & BPF_F_RDONLY_PROG ? spec.frozen === true : false;
  return {
    index,
    type: spec.type,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries: spec.maxEntries,
    // dev_map_init_map: devmap values are read-only for programs (lookups point at the device's entry).
    flags: (spec.flags ?? 0) | (spec.type === MapType.DEVMAP || spec.type === MapType.DEVMAP_HASH ? BPF_F_RDONLY_PROG : 0),
    name: (spec.name ?? '').slice(0, 15),
    // the kernel's inner_map_meta has no name
    inner: spec.innerMap ? { ...mapInfo(spec.innerMap, -1, progBtf, kernelBtf), name: '' } : null,
    readonly,
    initialValue: readonly && spec.type === MapType.ARRAY ? (spec.initialData ?? new Uint8Array(spec.valueSize)) : null,
    btf: (spec.btfValueTypeId ?? 0) > 0,
    spinLockOff: record?.spinLockOff ?? -1,
    timerOff: record?.timerOff ?? -1,
    record,
  };
}

function statsLine(env: Env): string {
  return `processed ${env.insnProcessed} insns (limit ${BPF_COMPLEXITY_LIMIT_INSNS}) max_states_per_insn ${env.maxStatesPerInsn} total_states ${env.totalStates} peak_states ${env.peakStates} mark_read 0\n`;
}

/**
 * Verifies a program as the Linux verifier (6.18, privileged loader) does:
 * accepts or rejects it with the kernel's message and log.
 */
export function verify(program: VerifyProgram, options: VerifyOptions = {}): VerifyResult {
  const result = verifyOnce(program, options);
  if (result.accepted || !options.logOnFailure || (options.logLevel ?? 0) !== 0) return result;
  // Logging does not steer the search: the second run reaches the same verdict, with its log.
  return verifyOnce(program, { ...options, logLevel: 1 });
}

function verifyOnce(program: VerifyProgram, options: VerifyOptions): VerifyResult {
  const bytes = program.insns instanceof Uint8Array ? program.insns : encodeProgram(program.insns);
  const logLevel = options.logLevel ?? 0;
  const insns = readInsns(bytes);
  const license = program.license ?? 'GPL';
  // read at most once, by whichever needs it first (a map's kptr, the verifier)
  let kernelBtfValue: KernelBtf | null | undefined;
  const kernelBtfOf = (): KernelBtf | null => {
    if (kernelBtfValue === undefined) {
      const k = options.kernelBtf;
      kernelBtfValue = (typeof k === 'function' ? k() : k) ?? null;
    }
    return kernelBtfValue;
  };
  const maps = (program.maps ?? []).map((m, i) => mapInfo(m, i, program.progBtf ?? null, kernelBtfOf));
  const typeInfo = progTypeInfo(program.progType, program.expectedAttachType ?? 0);
  const sleepable = ((program.flags ?? 0) & 16) !== 0;
  const env = new Env({
    insns, progType: program.progType, typeInfo, expectedAttachType: program.expectedAttachType ?? 0,
    gpl: licenseIsGplCompatible(license), maps, logLevel, sleepable,
    lineInfo: program.lineInfo ?? null,
    funcInfo: program.funcInfo ? program.funcInfo.map((f) => ({
      insnOff: f.insnOff, name: f.name, global: f.global === true,
      ...(f.args ? { args: f.args } : {}), ...(f.argsError !== undefined ? { argsError: f.argsError } : {}),
      ...(f.scalarReturn !== undefined ? { scalarReturn: f.scalarReturn } : {}),
    })) : null,
    ...(options.kernelBtf ? { kernelBtf: kernelBtfOf } : {}),
    ...(program.progBtf ? { progBtf: program.progBtf } : {}),
    ...(program.structOps ? { structOps: program.structOps } : {}),
    ...(options.kfuncBtf ? { kfuncBtf: options.kfuncBtf } : {}),
    ...(options.kernelSymbols ? { kernelSymbols: options.kernelSymbols } : {}),
    ...(program.attachBtfId !== undefined ? { attachBtfId: program.attachBtfId } : {}),
    ...(program.attachTo !== undefined ? { attachTo: program.attachTo } : {}),
  });
  env.nrCpus = options.nrCpus ?? 2;
  env.allowPtrLeaks = options.allowPtrLeaks !== false;
  env.strictAlignment = ((program.flags ?? 0) & 3) === 1;
  env.testStateFreq = ((program.flags ?? 0) & 8) !== 0;
  env.mapFdsIndexMaps = program.mapFdsIndexMaps !== false;
  const empty: VerifyStats = { maxStatesPerInsn: 0, totalStates: 0, peakStates: 0, stackDepth: [] };
  if (insns.length === 0 || insns.length > BPF_COMPLEXITY_LIMIT_INSNS || bytes.length % 8 !== 0) {
    return {
      accepted: false, error: `program of ${bytes.length / 8} instructions: the kernel refuses 0 or more than 1000000 (E2BIG)`,
      errno: 'E2BIG', errorInsn: null, log: '', insnsProcessed: 0, stats: empty, safeAccesses: new Set(), maxCtxOffset: 0, maxTpAccess: 0,
    };
  }
  let errno: string | null = null;
  try {
    if (program.progType <= 0 || program.progType >= PROG_TYPE_NAMES.length || program.progType === ProgType.LIRC_MODE2) {
      // the kernel refuses the type before verifying anything (no log); lirc_mode2 needs CONFIG_BPF_LIRC_MODE2
      env.fail(`tsbpf: program type ${PROG_TYPE_NAMES[program.progType] ?? program.progType} cannot be loaded (the kernel answers EINVAL without verifying it)`, 'EINVAL');
    }
    if (program.progType === ProgType.SYSCALL && !sleepable) env.fail('Syscall programs can only be sleepable', 'EINVAL');
    if (sleepable && program.progType !== ProgType.SYSCALL && program.progType !== ProgType.KPROBE && program.progType !== ProgType.TRACING
      && program.progType !== ProgType.LSM && program.progType !== ProgType.STRUCT_OPS) {
      env.fail('Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable', 'EINVAL');
    }
    const exceptionCb = program.exceptionCallback;
    if (exceptionCb) {
      if ('error' in exceptionCb) env.fail(exceptionCb.error, 'EINVAL');
      else env.fail(`tsbpf: exception callbacks (bpf_throw, here '${exceptionCb.name}') are not modelled`, 'ENOTSUPP');
    }
    if (program.progType === ProgType.EXT) {
      env.fail(`tsbpf: ${typeInfo.name} programs need the BTF of the program they replace (attach_btf_id), which tsbpf does not have`, 'ENOTSUPP');
    }
    runChecks(env);
  } catch (e) {
    if (!(e instanceof VerifyAbort)) throw e;
    errno = e.errno;
  }
  if (logLevel) env.log.write(statsLine(env));
  const accepted = errno === null;
  const safe = new Set<number>();
  if (accepted) {
    env.aux.forEach((a, i) => {
      if (a.accessChecked && a.accessSafe) safe.add(i);
    });
  }
  return {
    accepted,
    error: accepted ? null : env.errorMsg ?? errno,
    errno,
    errorInsn: accepted || env.insnProcessed === 0 ? null : env.insnIdx,
    log: env.log.text(),
    insnsProcessed: env.insnProcessed,
    stats: {
      maxStatesPerInsn: env.maxStatesPerInsn, totalStates: env.totalStates, peakStates: env.peakStates,
      stackDepth: env.subprogs.map((s) => s.stackDepth),
    },
    safeAccesses: safe,
    maxCtxOffset: accepted ? env.maxCtxOffset : 0,
    maxTpAccess: accepted ? env.maxTpAccess : 0,
  };
}

/** A program the verifier rejected, as a typed error (`insn`: where verification stopped). */
export class VerifierError extends TsbpfError {
  /** The verifier log (level 1 unless the caller asked for more). */
  readonly log: string;
  /** Errno name the kernel would return. */
  readonly errno: string;

  constructor(reason: string, location: ErrorLocation = {}, log = '', errno = 'EACCES') {
    super(reason, location);
    this.log = log;
    this.errno = errno;
  }
}

/**
 * Throws a {@link VerifierError} for a rejected program (the message is the
 * kernel-style error; `location` adds the file, section or program name).
 */
export function assertVerified(result: VerifyResult, location: ErrorLocation = {}): void {
  if (result.accepted) return;
  throw new VerifierError(`verifier rejected the program: ${result.error ?? result.errno ?? 'unknown reason'}`,
    { ...location, ...(result.errorInsn !== null ? { insn: result.errorInsn } : {}) }, result.log, result.errno ?? 'EACCES');
}

/**
 * The error of a kernel verifier log as {@link verify} reports its own: the
 * last line before "processed N insns ...", skipping the state dumps that
 * follow "infinite loop detected".
 */
export function kernelErrorLine(log: string): string {
  // A few kernel messages lack their newline: the statistics then follow on the same line.
  const stats = /processed \d+ insns \(limit \d+\)/.exec(log);
  const lines = (stats ? log.slice(0, stats.index) : log).split('\n');
  const before = lines.filter((l) => l.length > 0);
  // Skipped: the state dumps after "infinite loop detected", and the source
  // line (`; x = ctx->y; @ file.c:12`) printed after a context access error.
  while (before.length && /^(cur|old) state:|^; .* @ [^ ]*:\d+$/.test(before[before.length - 1]!)) before.pop();
  const last = before[before.length - 1] ?? '';
  // At level 1 a message printed right after a pending branch is popped can
  // land on the jump's own line ("2: (55) if r0 != 0xa goto pc-2 infinite loop ...").
  const glued = /^\d+: \([0-9a-f]{2}\) (?:if .*? goto pc[+-]\d+|goto pc[+-]\d+|gotol pc[+-]\d+|may_goto pc[+-]\d+) (?!\d+: )(.+)$/.exec(last);
  return glued ? glued[1]! : last;
}
