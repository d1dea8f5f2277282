/**
 * seccomp filters: classic programs that run on a `struct seccomp_data`
 * at every system call and return an action. This module has the data
 * layout, the kernel's extra rules for seccomp programs
 * (`seccomp_check_filter`), a run of a filter on given syscall data (what
 * the kernel would decide), the action and architecture constants, and a
 * compiler from a small JSON policy to a filter in libseccomp's style.
 */
import { TsbpfError } from '../errors.js';
import { checkClassic, ClassicCheckError } from '../cbpf/classic-check.js';
import { AluOp, Class, JmpOp, MiscOp, Mode, RetVal, Size, Src, insn } from '../cbpf/insn.js';
import type { CbpfInsn } from '../cbpf/insn.js';
import { runClassic } from '../cbpf/classic-interpreter.js';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64 } from './seccomp-syscalls.js';

/** `sizeof(struct seccomp_data)`: nr (u32), arch (u32), instruction_pointer (u64), args[6] (u64). */
export const SECCOMP_DATA_SIZE = 64;
/** Offsets in `struct seccomp_data`. */
export const SeccompDataOffset = { nr: 0, arch: 4, instruction_pointer: 8, args: 16 } as const;

/** One system call as a seccomp filter sees it. */
export interface SeccompData {
  /** The syscall number. */
  nr: number;
  /** The calling convention (`AUDIT_ARCH_*`, see {@link AUDIT_ARCH}). */
  arch: number;
  instructionPointer?: bigint;
  /** Up to six arguments, u64 each (missing ones are 0). */
  args?: readonly bigint[];
}

/** Filter return values: the action in the high 16 bits (`SECCOMP_RET_*`), data in the low 16. */
export const SeccompRet = {
  KILL_PROCESS: 0x80000000, KILL_THREAD: 0x00000000, TRAP: 0x00030000, ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000, TRACE: 0x7ff00000, LOG: 0x7ffc0000, ALLOW: 0x7fff0000,
} as const;
/** The mask the kernel picks the action with. */
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
/** The mask of the action's data (an errno, a trace message). */
export const SECCOMP_RET_DATA = 0x0000ffff;
/** The largest errno a filter can make a syscall return (larger data is capped). */
export const MAX_ERRNO = 4095;

/** Action names, as the policy and the verdicts spell them. */
export type SeccompActionName = 'kill_process' | 'kill_thread' | 'trap' | 'errno' | 'user_notif' | 'trace' | 'log' | 'allow';

const ACTION_BY_VALUE = new Map<number, SeccompActionName>([
  [SeccompRet.KILL_PROCESS, 'kill_process'], [SeccompRet.KILL_THREAD, 'kill_thread'], [SeccompRet.TRAP, 'trap'],
  [SeccompRet.ERRNO, 'errno'], [SeccompRet.USER_NOTIF, 'user_notif'], [SeccompRet.TRACE, 'trace'], [SeccompRet.LOG, 'log'],
  [SeccompRet.ALLOW, 'allow'],
]);

/** `AUDIT_ARCH_*` values (`<linux/audit.h>`): what `seccomp_data.arch` holds for each calling convention. */
export const AUDIT_ARCH: Readonly<Record<string, number>> = {
  x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028, riscv64: 0xc00000f3, riscv32: 0x400000f3,
  ppc64le: 0xc0000015, ppc64: 0x80000015, ppc: 0x00000014, s390x: 0x80000016, s390: 0x00000016, mips: 0x00000008,
  mipsel: 0x40000008, mips64: 0x80000008, mips64el: 0xc0000008, loongarch64: 0xc0000102, parisc64: 0x8000000f,
};

/** Syscall numbers by name for the architectures tsbpf has tables of (generated from the kernel headers). */
export const SYSCALL_TABLES: Readonly<Record<string, Readonly<Record<string, number>>>> = { x86_64: SYSCALLS_X86_64, aarch64: SYSCALLS_AARCH64 };

/** The number of syscall `name` on `arch`, or undefined. */
export function syscallNumber(arch: string, name: string): number | undefined {
  const table = SYSCALL_TABLES[arch];
  return table && Object.hasOwn(table, name) ? table[name] : undefined;
}

/**
 * `data` as the 64 bytes of `struct seccomp_data`, in the byte order of
 * the machine that makes the syscall (little-endian by default, as on
 * x86_64 and aarch64).
 */
export function encodeSeccompData(data: SeccompData, littleEndian = true): Uint8Array {
  const bytes = new Uint8Array(SECCOMP_DATA_SIZE);
  const v = new DataView(bytes.buffer);
  v.setUint32(SeccompDataOffset.nr, data.nr >>> 0, littleEndian);
  v.setUint32(SeccompDataOffset.arch, data.arch >>> 0, littleEndian);
  v.setBigUint64(SeccompDataOffset.instruction_pointer, BigInt.asUintN(64, data.instructionPointer ?? 0n), littleEndian);
  const args = data.args ?? [];
  if (args.length > 6) throw new TsbpfError(`a syscall has at most 6 arguments, not ${args.length}`);
  args.forEach((a, i) => v.setBigUint64(SeccompDataOffset.args + 8 * i, BigInt.asUintN(64, a), littleEndian));
  return bytes;
}

/** The opcodes a seccomp filter may use besides its loads (`seccomp_check_filter`; no `mod`, no packet loads). */
const SECCOMP_OPCODES = new Set<number>([
  Class.RET | RetVal.K, Class.RET | RetVal.A,
  ...[AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.AND, AluOp.OR, AluOp.XOR, AluOp.LSH, AluOp.RSH]
    .flatMap((o) => [Class.ALU | o | Src.K, Class.ALU | o | Src.X]),
  Class.ALU | AluOp.NEG, Class.LD | Mode.IMM, Class.LDX | Mode.IMM, Class.MISC | MiscOp.TAX, Class.MISC | MiscOp.TXA,
  Class.LD | Mode.MEM, Class.LDX | Mode.MEM, Class.ST, Class.STX, Class.JMP | JmpOp.JA,
  ...[JmpOp.JEQ, JmpOp.JGE, JmpOp.JGT, JmpOp.JSET].flatMap((o) => [Class.JMP | o | Src.K, Class.JMP | o | Src.X]),
]);

/** A program the kernel would not install as a seccomp filter (EINVAL), with the instruction and the reason. */
export class SeccompFilterError extends ClassicCheckError {}

/**
 * Checks `prog` as `seccomp(SECCOMP_SET_MODE_FILTER)` does: Linux's classic
 * rules first, then seccomp's own: the only loads of data are aligned
 * 32-bit absolute loads inside `struct seccomp_data` (`len` is the
 * constant 64), and no `mod`, packet loads or `ldxb 4*([k]&0xf)`.
 */
export function checkSeccompFilter(prog: readonly CbpfInsn[]): void {
  checkClassic(prog);
  prog.forEach(({ code, k: rawK }, pc) => {
    const k = rawK >>> 0;
    if (code === (Class.LD | Size.W | Mode.ABS)) {
      if (k >= SECCOMP_DATA_SIZE) throw new SeccompFilterError('opcode', `load at offset ${k}: struct seccomp_data has ${SECCOMP_DATA_SIZE} bytes`, pc);
      if (k & 3) throw new SeccompFilterError('opcode', `load at offset ${k}: seccomp loads must be 32-bit aligned`, pc);
      return;
    }
    if (code === (Class.LD | Size.W | Mode.LEN) || code === (Class.LDX | Size.W | Mode.LEN) || SECCOMP_OPCODES.has(code)) return;
    const what = (code & 0x07) === Class.LD && ((code & 0xe0) === Mode.ABS || (code & 0xe0) === Mode.IND)
      ? 'seccomp filters load only 32-bit words at constant offsets (ld [k])'
      : (code & 0xf0) === AluOp.MOD && (code & 0x07) === Class.ALU ? 'seccomp filters have no mod'
        : 'seccomp filters do not allow it';
    throw new SeccompFilterError('opcode', `opcode 0x${code.toString(16).padStart(2, '0')}: ${what}`, pc);
  });
}

/** What a filter decided for one syscall. */
export interface SeccompVerdict {
  /** The filter's u32 return value. */
  ret: number;
  /** The action the kernel takes (an unknown action is taken as kill_process, as the kernel does). */
  action: SeccompActionName;
  /** The low 16 bits (the errno before capping, a trace message, the trap's si_errno). */
  data: number;
  /** For `errno`: the error the syscall returns (data capped at {@link MAX_ERRNO}). */
  errno?: number;
}

/** The action of a filter return value, as the kernel reads it (`ret & SECCOMP_RET_ACTION_FULL`). */
export function seccompVerdict(ret: number): SeccompVerdict {
  const u = ret >>> 0;
  const action = ACTION_BY_VALUE.get((u & SECCOMP_RET_ACTION_FULL) >>> 0) ?? 'kill_process';
  const data = u & SECCOMP_RET_DATA;
  return { ret: u, action, data, ...(action === 'errno' ? { errno: Math.min(data, MAX_ERRNO) } : {}) };
}

/** Options of {@link runSeccomp}. */
export interface SeccompRunOptions {
  /** Byte order of the syscall's machine (default little-endian). */
  littleEndian?: boolean;
  /** Check the filter first, as installing it would (default true). */
  check?: boolean;
}

/**
 * Runs a seccomp filter on one syscall and returns the kernel's decision.
 * The kernel reads `seccomp_data` with native-endian 32-bit loads, while
 * classic packet loads are big-endian: the data is given to the classic
 * interpreter with each 32-bit word stored big-endian, which is exact
 * because seccomp allows only aligned 32-bit loads.
 */
export function runSeccomp(prog: readonly CbpfInsn[], data: SeccompData | Uint8Array, options: SeccompRunOptions = {}): SeccompVerdict {
  if (options.check ?? true) checkSeccompFilter(prog);
  const littleEndian = options.littleEndian ?? true;
  const raw = data instanceof Uint8Array ? data : encodeSeccompData(data, littleEndian);
  if (raw.length !== SECCOMP_DATA_SIZE) throw new TsbpfError(`struct seccomp_data has ${SECCOMP_DATA_SIZE} bytes, not ${raw.length}`);
  const words = new Uint8Array(SECCOMP_DATA_SIZE);
  const from = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const to = new DataView(words.buffer);
  for (let at = 0; at < SECCOMP_DATA_SIZE; at += 4) to.setUint32(at, from.getUint32(at, littleEndian), false);
  return seccompVerdict(runClassic(prog, words, { wireLen: SECCOMP_DATA_SIZE }));
}

/**
 * Runs every filter of a stack (as installed one after another) and
 * returns the kernel's decision: the action that comes first in its
 * precedence (the lowest `ret & SECCOMP_RET_ACTION_FULL` as a signed
 * number, kill_process first, allow last); on a tie, the newest filter's.
 */
export function runSeccompStack(filters: readonly (readonly CbpfInsn[])[], data: SeccompData | Uint8Array, options: SeccompRunOptions = {}): SeccompVerdict {
  let best: SeccompVerdict = seccompVerdict(SeccompRet.ALLOW);
  // The kernel walks from the newest filter to the oldest, keeping a result unless a strictly lower one comes.
  for (let i = filters.length - 1; i >= 0; i--) {
    const v = runSeccomp(filters[i]!, data, options);
    if (((v.ret & SECCOMP_RET_ACTION_FULL) | 0) < ((best.ret & SECCOMP_RET_ACTION_FULL) | 0)) best = v;
  }
  return best;
}

// ---- the policy compiler -------------------------------------------------------------------------------

/** An action in a policy: a name, or `{errno: N}`, `{trap: N}`, `{trace: N}` with data. */
export type SeccompPolicyAction =
  | 'allow' | 'kill_process' | 'kill_thread' | 'kill' | 'trap' | 'log' | 'user_notif' | 'trace'
  | { errno: number } | { trap: number } | { trace: number };

/** A comparison of one 64-bit syscall argument. */
export interface SeccompArgCheck {
  /** Argument 0 to 5. */
  index: number;
  op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'masked_eq';
  /** u64 (a negative number is taken as its 64-bit two's complement); strings allow values past 2^53 ("0x...", decimal). */
  value: number | string;
  /** For masked_eq: `(arg & mask) == value`. */
  mask?: number | string;
}

/** A rule: this syscall (with these arguments, all of which must hold) gets this action. */
export interface SeccompRule {
  /** A name of the policy's architecture's table, or a number. */
  syscall: string | number;
  action: SeccompPolicyAction;
  args?: SeccompArgCheck[];
}

/** A seccomp policy: the first rule that matches decides; no rule, the default. */
export interface SeccompPolicy {
  /** An {@link AUDIT_ARCH} name; other architectures are killed (kill_process). */
  arch: string;
  default: SeccompPolicyAction;
  rules: SeccompRule[];
}

/** A policy that cannot be compiled. */
export class SeccompPolicyError extends TsbpfError {}

const X32_SYSCALL_BIT = 0x40000000;

function policyFail(where: string, reason: string): never {
  throw new SeccompPolicyError(`seccomp policy: ${where}: ${reason}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(where: string, o: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of Object.keys(o)) if (!keys.includes(key)) policyFail(where, `unknown field '${key}' (expected ${keys.join(', ')})`);
}

/** The filter return value of a policy action. */
export function seccompActionValue(action: unknown, where = 'action'): number {
  if (typeof action === 'string') {
    switch (action) {
      case 'allow': return SeccompRet.ALLOW;
      case 'kill_process': return SeccompRet.KILL_PROCESS;
      case 'kill_thread': case 'kill': return SeccompRet.KILL_THREAD;
      case 'trap': return SeccompRet.TRAP;
      case 'log': return SeccompRet.LOG;
      case 'user_notif': return SeccompRet.USER_NOTIF;
      case 'trace': return SeccompRet.TRACE;
      case 'errno': return policyFail(where, "'errno' needs its number: {\"errno\": N}");
      default: return policyFail(where, `unknown action '${action}' (allow, kill_process, kill_thread, trap, log, user_notif, trace, {"errno": N})`);
    }
  }
  if (isRecord(action) && Object.keys(action).length === 1) {
    const [[name, value]] = Object.entries(action) as [[string, unknown]];
    const base = name === 'errno' ? SeccompRet.ERRNO : name === 'trap' ? SeccompRet.TRAP : name === 'trace' ? SeccompRet.TRACE : undefined;
    if (base === undefined) return policyFail(where, `unknown action '${name}' (with data: errno, trap, trace)`);
    const max = name === 'errno' ? MAX_ERRNO : SECCOMP_RET_DATA;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) policyFail(`${where}.${name}`, `must be an integer from 0 to ${max}`);
    return (base | value) >>> 0;
  }
  return policyFail(where, 'must be an action name or {"errno": N}');
}

function u64(where: string, v: unknown): bigint {
  let b: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) policyFail(where, `${v} is not an integer JSON can carry exactly (give values past 2^53 as strings)`);
    b = BigInt(v);
  } else if (typeof v === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(v.trim())) {
    const t = v.trim();
    b = t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  } else {
    return policyFail(where, 'must be an integer (or a string holding one)');
  }
  if (b < -(1n << 63n) || b >= 1n << 64n) policyFail(where, `${v} does not fit in 64 bits`);
  return BigInt.asUintN(64, b);
}

/** A classic instruction whose jumps name labels (or 0: the next instruction). */
interface Draft {
  code: number;
  k: number;
  jt: string | 0;
  jf: string | 0;
}

/**
 * Compiles a policy (an object or its JSON text) into a seccomp filter in
 * libseccomp's style: the architecture is checked first (others, and
 * x32 syscalls on x86_64, are killed), then each rule in order loads the
 * syscall number and compares it, then each argument as two 32-bit halves
 * (high half first), and returns its action; the default comes last.
 */
export function compileSeccompPolicy(input: SeccompPolicy | string): CbpfInsn[] {
  let policy: unknown = input;
  if (typeof input === 'string') {
    try {
      policy = JSON.parse(input) as unknown;
    } catch (e) {
      throw new SeccompPolicyError(`seccomp policy: not JSON: ${(e as Error).message}`);
    }
  }
  if (!isRecord(policy)) return policyFail('the policy', 'must be an object {"arch", "default", "rules"}');
  onlyKeys('the policy', policy, ['arch', 'default', 'rules']);
  const arch = policy.arch;
  if (typeof arch !== 'string' || !Object.hasOwn(AUDIT_ARCH, arch)) {
    return policyFail('arch', `must be one of ${Object.keys(AUDIT_ARCH).join(', ')}`);
  }
  if (policy.default === undefined) policyFail('default', 'missing (the action for syscalls no rule matches)');
  const defaultRet = seccompActionValue(policy.default, 'default');
  const rules = policy.rules ?? [];
  if (!Array.isArray(rules)) return policyFail('rules', 'must be an array');

  const drafts: Draft[] = [];
  const labels = new Map<string, number>();
  const emit = (code: number, k: number | bigint = 0, jt: string | 0 = 0, jf: string | 0 = 0): void => {
    drafts.push({ code, k: Number(BigInt.asUintN(32, BigInt(k))), jt, jf });
  };
  const mark = (label: string): void => {
    labels.set(label, drafts.length);
  };
  const LD = Class.LD | Size.W | Mode.ABS;
  const JEQ = Class.JMP | JmpOp.JEQ | Src.K;
  const JGT = Class.JMP | JmpOp.JGT | Src.K;
  const JGE = Class.JMP | JmpOp.JGE | Src.K;
  const RET = Class.RET | RetVal.K;

  emit(LD, SeccompDataOffset.arch);
  emit(JEQ, AUDIT_ARCH[arch]!, 'arch_ok', 0);
  emit(RET, SeccompRet.KILL_PROCESS);
  mark('arch_ok');
  if (arch === 'x86_64') {
    // x32 syscalls share AUDIT_ARCH_X86_64 and are told apart by bit 30 of the number: not this policy's architecture.
    emit(LD, SeccompDataOffset.nr);
    emit(JGE, X32_SYSCALL_BIT, 0, 'rules');
    emit(RET, SeccompRet.KILL_PROCESS);
    mark('rules');
  }
  rules.forEach((rule: unknown, r) => {
    const where = `rules[${r}]`;
    if (!isRecord(rule)) return policyFail(where, 'must be an object {"syscall", "action", "args"?}');
    onlyKeys(where, rule, ['syscall', 'action', 'args']);
    let nr: number;
    if (typeof rule.syscall === 'number') {
      if (!Number.isInteger(rule.syscall) || rule.syscall < 0 || rule.syscall > 0xffffffff) policyFail(`${where}.syscall`, 'must be a syscall name or number');
      nr = rule.syscall;
    } else if (typeof rule.syscall === 'string') {
      const n = syscallNumber(arch, rule.syscall);
      if (n === undefined) {
        policyFail(`${where}.syscall`, SYSCALL_TABLES[arch] ? `no syscall '${rule.syscall}' on ${arch}` : `tsbpf has no syscall names for ${arch}: give the number`);
      }
      nr = n;
    } else {
      return policyFail(`${where}.syscall`, 'must be a syscall name or number');
    }
    const action = seccompActionValue(rule.action, `${where}.action`);
    const skip = `skip${r}`;
    emit(LD, SeccompDataOffset.nr);
    emit(JEQ, nr, 0, skip);
    const args = rule.args ?? [];
    if (!Array.isArray(args)) return policyFail(`${where}.args`, 'must be an array');
    args.forEach((arg: unknown, a) => {
      const at = `${where}.args[${a}]`;
      if (!isRecord(arg)) return policyFail(at, 'must be an object {"index", "op", "value", "mask"?}');
      onlyKeys(at, arg, ['index', 'op', 'value', 'mask']);
      const index = arg.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) policyFail(`${at}.index`, 'must be 0 to 5');
      const value = u64(`${at}.value`, arg.value);
      const op = arg.op;
      if (arg.mask !== undefined && op !== 'masked_eq') policyFail(`${at}.mask`, 'only masked_eq has a mask');
      const lo = SeccompDataOffset.args + 8 * index;
      const hi = lo + 4;
      const [vh, vl] = [value >> 32n, value & 0xffffffffn];
      const ok = `ok${r}_${a}`;
      switch (op) {
        case 'eq':
          emit(LD, hi); emit(JEQ, vh, 0, skip);
          emit(LD, lo); emit(JEQ, vl, 0, skip);
          break;
        case 'ne':
          emit(LD, hi); emit(JEQ, vh, 0, ok);
          emit(LD, lo); emit(JEQ, vl, skip, 0);
          break;
        case 'masked_eq': {
          if (arg.mask === undefined) policyFail(`${at}.mask`, 'masked_eq needs a mask');
          const mask = u64(`${at}.mask`, arg.mask);
          emit(LD, hi); emit(Class.ALU | AluOp.AND | Src.K, mask >> 32n); emit(JEQ, vh & (mask >> 32n), 0, skip);
          emit(LD, lo); emit(Class.ALU | AluOp.AND | Src.K, mask & 0xffffffffn); emit(JEQ, vl & mask & 0xffffffffn, 0, skip);
          break;
        }
        case 'gt':
          emit(LD, hi); emit(JGT, vh, ok, 0); emit(JEQ, vh, 0, skip);
          emit(LD, lo); emit(JGT, vl, 0, skip);
          break;
        case 'ge':
          emit(LD, hi); emit(JGT, vh, ok, 0); emit(JEQ, vh, 0, skip);
          emit(LD, lo); emit(JGE, vl, 0, skip);
          break;
        case 'lt':
          emit(LD, hi); emit(JGE, vh, 0, ok); emit(JEQ, vh, 0, skip);
          emit(LD, lo); emit(JGE, vl, skip, 0);
          break;
        case 'le':
          emit(LD, hi); emit(JGE, vh, 0, ok); emit(JEQ, vh, 0, skip);
          emit(LD, lo); emit(JGT, vl, skip, 0);
          break;
        default:
          policyFail(`${at}.op`, `unknown comparison '${String(op)}' (eq, ne, lt, le, gt, ge, masked_eq)`);
      }
      mark(ok);
    });
    emit(RET, action);
    mark(skip);
  });
  emit(RET, defaultRet);

  const prog = drafts.map((d, i) => {
    const rel = (t: string | 0): number => {
      if (t === 0) return 0;
      const off = labels.get(t)! - (i + 1);
      if (off > 255) policyFail(t.startsWith('skip') ? `rules[${t.slice(4)}]` : 'the policy', `a jump of ${off} instructions is longer than a classic jump can go (255)`);
      return off;
    };
    return insn(d.code, d.k, rel(d.jt), rel(d.jf));
  });
  if (prog.length > 4096) policyFail('rules', `the filter has ${prog.length} instructions, more than the kernel's 4096`);
  checkSeccompFilter(prog);
  return prog;
}
