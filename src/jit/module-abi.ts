/**
 * The contract between compiled modules and the JavaScript runtime: import
 * names, signatures, how slow-path arguments are packed, and the variants
 * a program is compiled in. Kept in one place so `compile.ts` and
 * `jit-engine.ts` cannot drift apart.
 */

/** How a program is compiled. */
export interface JitVariant {
  /** Bounds-check every access against the address space's regions (unverified programs). */
  readonly checked: boolean;
  /** Count instructions against a budget (always with `checked`, optional otherwise). */
  readonly budget: boolean;
  /** The memory is shared (atomics become threads-proposal instructions). */
  readonly shared: boolean;
  /**
   * `entry`: the program runs from `run`/`batch` with r1..r5 as arguments.
   * `tail`: the program is a tail-call target and takes every register.
   */
  readonly role: 'entry' | 'tail';
  /**
   * Unchecked code: the slots of the accesses the verifier proved safe
   * (`VerifyResult.safeAccesses`), which only get the page guard; every other
   * access gets the full region check. Undefined: every access counts as
   * proven. Ignored by checked code.
   */
  readonly safe?: ReadonlySet<number>;
}

const setKeys = new WeakMap<ReadonlySet<number>, string>();

/** A key of a set of slots (computed once per set: sets must not change after use). */
function setKey(set: ReadonlySet<number>): string {
  let key = setKeys.get(set);
  if (key === undefined) {
    key = [...set].sort((a, b) => a - b).join(',');
    setKeys.set(set, key);
  }
  return key;
}

/** A key of a variant, for caches (unchecked variants with a set of proven accesses name its slots). */
export function variantKey(v: JitVariant): string {
  const base = `${v.checked ? 'c' : 'u'}${v.budget ? 'b' : ''}${v.shared ? 's' : ''}-${v.role}`;
  return v.checked || v.safe === undefined ? base : `${base}-safe:${setKey(v.safe)}`;
}

/** Module name of every import. */
export const ENV = 'env';

/** Import names. */
export const ImportName = {
  memory: 'memory',
  table: 'table',
  /** i32: address of the CPU's register file. */
  regs: 'regs',
  /** i64: start of the CPU's stack region (initial value of access-site caches). */
  stackLo: 'stackLo',
  /** i32: start of the CPU's stack region (call depth limit). */
  stackLimit: 'stackLimit',
  /** i32: frame pointer of depth 0 (end of the stack region). */
  fpTop: 'fpTop',
  /** i32: the CPU index. */
  cpu: 'cpu',
  /** mut i32: frame pointer of the function that is calling a helper (callbacks run one frame below). */
  fpNow: 'fpNow',
  /** mut i64: instructions left. */
  budget: 'budget',
  /** mut i32: tail calls made in this run. */
  tailCount: 'tailCount',
  /** (reg i64, off i32, info i32) -> i64: region check slow path; throws the fault. */
  access: 'access',
  /** mut i32: address of the region table (start, end, access bits per region, sorted). */
  regionTable: 'regionTable',
  /** mut i32: number of regions in the table. */
  regionCount: 'regionCount',
  /** (segment pc i32, instructions left i32): throws the budget error. */
  budgetOut: 'budgetOut',
  /** (pc i32): throws "the call stack is too deep". */
  tooDeep: 'tooDeep',
  /** (map lo i32, map hi i32, index i32, pc i32) -> i32: table slot of the tail-call target, or -1. */
  tailCall: 'tailCall',
  /** (id i32, pc i32) -> i32: calls helper `id` (callx); returns 1 when it is bpf_tail_call. */
  callx: 'callx',
  /** (pc i32): a legacy packet load failed: ends the whole run with r0 = 0 (throws a marker). */
  abortRun: 'abortRun',
  /** (skb context i32, offset i32, size i32) -> i32: where a legacy load at a negative offset (SKF_NET_OFF, SKF_LL_OFF) reads, or -1. */
  legacyAddress: 'legacyAddress',
  /** mut i64: the pointer register of an access whose page guard failed (set just before the trap). */
  faultReg: 'faultReg',
  /** mut i32: its offset. */
  faultOff: 'faultOff',
  /** mut i32: its packed {@link guardInfo} (0: no guard fault pending). */
  faultInfo: 'faultInfo',
} as const;

/** Import name of the helper with Linux id `id`. */
export function helperImport(id: number): string {
  return `helper${id}`;
}

/** Packs the `info` argument of the `access` import. */
export function accessInfo(size: number, write: boolean, pc: number): number {
  return size | (write ? 16 : 0) | (pc << 5);
}

/** Packs what a failed page guard leaves in the `faultInfo` global before it traps (never 0). */
export function guardInfo(size: number, rights: number, pc: number): number {
  return size | (rights << 4) | (pc << 6);
}

/** Unpacks {@link guardInfo}. */
export function unpackGuardInfo(info: number): { size: number; rights: number; pc: number } {
  return { size: info & 15, rights: (info >>> 4) & 3, pc: info >>> 6 };
}

/** Unpacks the `info` argument of the `access` import. */
export function unpackAccessInfo(info: number): { size: number; write: boolean; pc: number } {
  return { size: info & 15, write: (info & 16) !== 0, pc: info >>> 5 };
}

/** Offset in the register file (after r0..r10) where `run` leaves the budget left (i64). */
export const BUDGET_LEFT_OFFSET = 88;

/** Export names. */
export const ExportName = {
  /** (budget lo i32, budget hi i32) -> i64: runs the entry with r1..r5 from the register file. */
  run: 'run',
  /** (ctxs i32, n i32, results i32, budget lo i32, budget hi i32) -> (): runs the entry once per context. */
  batch: 'batch',
  /** The program's body with every register (tail role): what the table holds. */
  body: 'body',
} as const;

/** Export name of the callback wrapper of the function at `slot`. */
export function callbackExport(slot: number): string {
  return `callback${slot}`;
}

/** The budget a run without a limit gets (never reached). */
export const UNLIMITED_BUDGET = 2n ** 62n;
