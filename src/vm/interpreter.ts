/**
 * The reference interpreter. Registers are (lo, hi) pairs of 32-bit words in
 * the CPU's register file inside the address space, so arithmetic needs no
 * BigInt and helpers read their arguments from the same bytes the JIT uses.
 *
 * Checked mode (the default) bounds-checks every access against the address
 * space's regions and stops after an instruction budget. Unchecked mode is
 * for programs the verifier accepted and is guarded: an access the verifier
 * proved safe (its `safeAccesses`) is only tested against the rights of its
 * page (one table load), so a verifier bug can reach nothing but memory
 * programs may reach anyway; every other access gets checked mode's full
 * region check (docs/interpreter.md).
 */
import { VmError } from '../errors.js';
import { MAX_CALL_FRAMES } from '../isa/opcode.js';
import { divmod64, mulhiU32, pairToBig } from './int64.js';
import type { Cpu, Machine } from './machine.js';
import { guardsBase, PageRights } from './memory.js';
import type { AddressSpace } from './memory.js';
import type { PreparedProgram } from './prepared-program.js';
import { FUNC_POINTER_BASE } from './prepared-program.js';
import { BpfFunc, Limits } from '../isa/uapi.js';
import { SkbWords, legacyLoadAddress } from './legacy-load.js';

/** Instructions a checked run may execute before it is stopped. */
export const DEFAULT_BUDGET = 10_000_000;
/** Linux's `may_goto` budget per function frame (BPF_MAX_LOOPS). */
export const MAY_GOTO_BUDGET = 8 * 1024 * 1024;

/**
 * The accesses the verifier proved safe, per program: the slots of each
 * program's `VerifyResult.safeAccesses` (the entry's and those of the
 * programs it may tail-call), or undefined for a program without a verdict
 * (none of its accesses counts as proven). Sets are read, never changed:
 * engines cache compiled code per set, so do not mutate one after a run.
 */
export type SafeAccesses = (prog: PreparedProgram) => ReadonlySet<number> | undefined;

/** Options of one run. */
export interface RunOptions {
  /** Values of r1..r5 at entry (missing ones are 0). */
  args?: readonly (bigint | number)[];
  /**
   * Bounds-check every access against the regions, with an instruction
   * budget (default true). `false` (verified programs) guards instead: see
   * {@link safeAccesses}.
   */
  checked?: boolean;
  /**
   * Unchecked runs only: which accesses the verifier proved safe. An access
   * whose slot is in its program's set is guarded by its page's rights (read
   * needs the read right, write the write right, atomics both); any other
   * access gets checked mode's full region check (without a budget).
   * Without this option every access counts as proven.
   */
  safeAccesses?: SafeAccesses;
  /** Largest number of instructions to execute (default {@link DEFAULT_BUDGET} when checked, unlimited otherwise). */
  budget?: number;
  /** CPU (worker) index (default 0). */
  cpu?: number;
  /** Called after every instruction; makes the run slower. */
  trace?: (step: TraceStep) => void;
}

/** One executed instruction, as reported to a trace callback. */
export interface TraceStep {
  /** The program the instruction belongs to (tail calls change it). */
  program: PreparedProgram;
  /** Slot of the instruction. */
  pc: number;
  /** Call depth (0 = entry function). */
  depth: number;
  /** Registers r0..r10 whose value changed, with their new values. */
  changed: { reg: number; value: bigint }[];
}

/** The outcome of a run. */
export interface RunResult {
  /** r0 at the final `exit`, unsigned. */
  r0: bigint;
  /** Instructions executed. */
  insns: number;
}

/** Why the inner loop returned. */
const enum Stop { Exited, Paused, CallbackReturned }

/** How an access is checked (see `Execution.modes`). */
const GUARD = 0;
const CHECK = 1;
const GUARD_BASE = 2;

/** Most tail calls one run may make (Linux MAX_TAIL_CALL_CNT). */
export const MAX_TAIL_CALLS = Limits.TAIL_CALLS;
/** Return slot recorded for a frame entered from a helper callback. */
const CALLBACK_RETURN = -1;

/** Fast region check with a one-entry cache per access kind. */
class AccessChecker {
  private rlo = 0;
  private rhi = 0;
  private wlo = 0;
  private whi = 0;

  constructor(private readonly space: AddressSpace) {}

  /** Throws unless `[addr, addr + size)` is inside one region that allows the access. */
  check(addr: number, size: number, write: boolean, pc: number): void {
    if (write) {
      if (addr >= this.wlo && addr + size <= this.whi) return;
    } else if (addr >= this.rlo && addr + size <= this.rhi) {
      return;
    }
    const region = addr >= 0 ? this.space.regionAt(addr, size) : undefined;
    if (region === undefined || !(write ? region.writable : region.readable)) {
      throw faultError(this.space, addr, size, write, pc, region === undefined ? undefined : `${region.name} is ${write ? 'read-only' : 'not readable'}`);
    }
    if (write) {
      this.wlo = region.start;
      this.whi = region.start + region.size;
    } else {
      this.rlo = region.start;
      this.rhi = region.start + region.size;
    }
  }
}

function faultError(space: AddressSpace, addr: number, size: number, write: boolean, pc: number, why?: string): VmError {
  const where = addr < 0 ? 'an address outside the 32-bit address space' : space.describe(addr);
  return new VmError(`invalid memory access: ${write ? 'write' : 'read'} of ${size} byte${size === 1 ? '' : 's'} at ${where}${why ? `: ${why}` : ''}`, { insn: pc });
}

/**
 * The fault of a proven access at `(lo, hi) + off` whose page lacks one of
 * `rights` ({@link PageRights} bits): checked mode's region check of the
 * access (a read, then a write for atomics) and its message, which both
 * engines report. A page that lacks a right never holds a region that has
 * it, so the region check always fails; should it not, the page's verdict
 * stands.
 */
export function guardFault(space: AddressSpace, lo: number, hi: number, off: number, size: number, rights: number, pc: number): VmError {
  const a = effective(lo, hi, off);
  for (const write of rights === (PageRights.read | PageRights.write) ? [false, true] : [rights === PageRights.write]) {
    const region = a >= 0 ? space.regionAt(a, size) : undefined;
    if (region === undefined || !(write ? region.writable : region.readable)) {
      return faultError(space, a, size, write, pc, region === undefined ? undefined : `${region.name} is ${write ? 'read-only' : 'not readable'}`);
    }
  }
  return faultError(space, a, size, (rights & PageRights.write) !== 0, pc, `its page does not allow it`);
}

/** Effective address of `(lo, hi) + off`; -1 when it cannot be a valid offset. */
function effective(lo: number, hi: number, off: number): number {
  return hi === 0 ? (lo >>> 0) + off : -1;
}

function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

/**
 * An in-progress run of one program on one CPU. Use {@link interpret} for a
 * whole run; `Execution` exists for stepping and tracing.
 */
export class Execution {
  pc = 0;
  depth = 0;
  executed = 0;
  done = false;
  /** Largest number of instructions this run may execute (set by {@link runExecution}). */
  budget = Number.POSITIVE_INFINITY;
  /** The program executing now (a tail call replaces it). */
  current: PreparedProgram;
  private tailCalls = 0;
  private readonly frames = new Int32Array(MAX_CALL_FRAMES * 12);
  private readonly frameProgs: PreparedProgram[] = [];
  private readonly mayGoto = new Int32Array(MAX_CALL_FRAMES);
  private readonly checker: AccessChecker;
  /**
   * Per program, a byte per slot: {@link CHECK} when its access gets the
   * full region check, {@link GUARD} when the page guard tests the page of
   * the access, {@link GUARD_BASE} when it tests the page of the base
   * register (small offsets, see `guardsBase` in memory.ts).
   */
  private readonly modes = new Map<PreparedProgram, Uint8Array>();
  private safe: SafeAccesses | undefined = undefined;
  private readonly boundInvoke = (target: bigint, args: readonly bigint[]): bigint => this.invoke(target, args);
  readonly cpu: Cpu;

  constructor(
    readonly machine: Machine,
    /** The entry program. */
    readonly prog: PreparedProgram,
    readonly checked: boolean,
    cpuIndex: number,
    args: readonly (bigint | number)[] = [],
  ) {
    this.cpu = machine.cpu(cpuIndex);
    this.current = prog;
    this.checker = new AccessChecker(machine.space);
    this.reset(args);
  }

  /** The proven accesses of unchecked runs (see {@link RunOptions.safeAccesses}); a change applies from the next instruction. */
  get safeAccesses(): SafeAccesses | undefined {
    return this.safe;
  }

  set safeAccesses(safe: SafeAccesses | undefined) {
    if (safe === this.safe) return;
    this.safe = safe;
    this.modes.clear();
  }

  /** How each access of `prog` is checked (see {@link modes}). */
  private modeOf(prog: PreparedProgram): Uint8Array {
    let mode = this.modes.get(prog);
    if (mode === undefined) {
      mode = new Uint8Array(prog.slots + 1).fill(CHECK);
      if (!this.checked) {
        const proven = this.safe === undefined ? undefined : this.safe(prog);
        for (let slot = 0; slot < prog.slots; slot++) {
          const insn = prog.bySlot[slot];
          if (insn === undefined || (proven !== undefined ? !proven.has(slot) : this.safe !== undefined)) continue;
          const small = (insn.kind === 'ldx' || insn.kind === 'st' || insn.kind === 'stx' || insn.kind === 'atomic') && guardsBase(insn.off, insn.size);
          mode[slot] = small ? GUARD_BASE : GUARD;
        }
      }
      this.modes.set(prog, mode);
    }
    return mode;
  }

  /**
   * The check of one access at `(lo, hi) + off` needing `rights`; returns
   * the address to use. A proven access uses the low 32 bits of the sum and
   * tests its page's rights (a failure is {@link guardFault}); any other
   * access gets the full region check (a read, then a write for atomics).
   */
  private access(lo: number, hi: number, off: number, size: number, rights: number, pc: number): number {
    if (this.modeOf(this.current)[pc] !== CHECK) {
      const a = (lo + off) >>> 0;
      const page = (guardsBase(off, size) ? lo : a) >>> 16;
      if ((this.machine.space.pageRights[page]! & rights) !== rights) throw guardFault(this.machine.space, lo, hi, off, size, rights, pc);
      return a;
    }
    const a = effective(lo, hi, off);
    if (rights & PageRights.read) this.checker.check(a, size, false, pc);
    if (rights & PageRights.write) this.checker.check(a, size, true, pc);
    return a;
  }

  /** Starts over at the entry with r1..r5 = `args` and a fresh frame, so one Execution serves many runs. */
  reset(args: readonly (bigint | number)[]): void {
    const R = this.registers();
    R.fill(0);
    for (let i = 0; i < 5 && i < args.length; i++) {
      const a = args[i]!;
      if (typeof a === 'number' && a >= 0 && a <= 0xffffffff && Number.isInteger(a)) {
        R[2 + 2 * i] = a | 0;
        continue;
      }
      const v = BigInt.asUintN(64, BigInt(a));
      R[2 + 2 * i] = Number(BigInt.asIntN(32, v));
      R[3 + 2 * i] = Number(BigInt.asIntN(32, v >> 32n));
    }
    R[20] = this.cpu.framePointer(0);
    this.mayGoto[0] = MAY_GOTO_BUDGET;
    this.pc = 0;
    this.depth = 0;
    this.executed = 0;
    this.done = false;
    this.current = this.prog;
    this.tailCalls = 0;
  }

  private regView: Int32Array | null = null;

  /** The register file as 11 (lo, hi) pairs, viewing the current memory buffer. */
  registers(): Int32Array {
    const buffer = this.machine.space.buffer;
    if (this.regView === null || this.regView.buffer !== buffer) {
      this.regView = new Int32Array(buffer, this.cpu.regfile.start, 22);
    }
    return this.regView;
  }

  /** r0 as an unsigned bigint. */
  get r0(): bigint {
    const R = this.registers();
    return pairToBig(R[0]!, R[1]!);
  }

  /**
   * Executes at most `limit` instructions. Returns true when the program
   * has exited. Throws {@link VmError} on a fault; the error names the slot.
   */
  step(limit: number): boolean {
    if (this.done) return true;
    const call = this.cpu.call;
    const previous = call.invoke;
    call.invoke = this.boundInvoke;
    try {
      return this.run(limit) === Stop.Exited;
    } catch (err) {
      if (err instanceof VmError) throw err;
      if (err instanceof RangeError) {
        throw new VmError(`invalid memory access outside the address space (${err.message})`, { insn: this.pc });
      }
      throw err;
    } finally {
      call.invoke = previous;
    }
  }

  /**
   * Runs the callback at `target` (a function pointer loaded by
   * `lddw rX, func`) in a new frame with r1..r5 = `args`; returns its r0.
   * Helpers such as `bpf_loop` call this through `HelperCall.invoke`.
   */
  private invoke(target: bigint, args: readonly bigint[]): bigint {
    const prog = this.current;
    const slot = Number(target) - FUNC_POINTER_BASE;
    if (target < BigInt(FUNC_POINTER_BASE) || !prog.subprogs.includes(slot)) {
      throw new VmError(`callback pointer 0x${target.toString(16)} is not a function of ${prog.name}`, { insn: this.pc });
    }
    const outerPc = this.pc;
    const outerDepth = this.depth;
    if (outerDepth + 1 >= MAX_CALL_FRAMES) {
      throw new VmError(`the call stack is too deep: more than ${MAX_CALL_FRAMES} frames`, { insn: outerPc });
    }
    let R = this.registers();
    const f = outerDepth * 12;
    for (let i = 0; i < 10; i++) this.frames[f + i] = R[12 + i]!;
    this.frames[f + 10] = CALLBACK_RETURN;
    this.frameProgs[outerDepth] = prog;
    for (let i = 0; i < 5; i++) {
      const v = BigInt.asUintN(64, args[i] ?? 0n);
      R[2 + 2 * i] = Number(BigInt.asIntN(32, v));
      R[3 + 2 * i] = Number(BigInt.asIntN(32, v >> 32n));
    }
    this.depth = outerDepth + 1;
    this.mayGoto[this.depth] = MAY_GOTO_BUDGET;
    R[20] = this.cpu.framePointer(this.depth);
    R[21] = 0;
    this.pc = slot;
    const stop = this.run(this.budget - this.executed);
    if (stop === Stop.Paused) throw budgetError(this.budget, this.pc);
    R = this.registers();
    const r0 = pairToBig(R[0]!, R[1]!);
    this.pc = outerPc;
    this.depth = outerDepth;
    this.done = false;
    return r0;
  }

  /** Resolves a `bpf_tail_call(ctx, map, index)`: the target program, or undefined to fall through. */
  private tailCallTarget(R: Int32Array): PreparedProgram | undefined {
    if (this.tailCalls >= MAX_TAIL_CALLS) return undefined;
    if (R[5] !== 0) return undefined;
    const index = R[6]! >>> 0;
    const target = this.machine.tailCallTarget(R[4]! >>> 0, index);
    if (target !== undefined) this.tailCalls++;
    return target;
  }

  // The hot loop. Locals mirror the state fields and are written back on
  // every exit path, so a fault reports the right pc.
  private run(limit: number): Stop {
    let prog = this.current;
    let code = prog.code;
    let D = prog.dst2;
    let S = prog.src2;
    let O = prog.off;
    let I = prog.imm;
    const space = this.machine.space;
    const chk = this.checker;
    // A proven access uses the low 32 bits of its address and tests the rights of its page
    // (or of its base's page, for small offsets), as compiled code does; anything else gets
    // the full region check.
    const pages = space.pageRights;
    let M = this.modeOf(prog);
    const frames = this.frames;
    const mayGoto = this.mayGoto;
    const cpu = this.cpu;
    let R = this.registers();
    let dv = space.data;
    let pc = this.pc;
    let n = 0;
    let remaining = limit;
    let depth = this.depth;
    try {
      for (;;) {
        if (n >= remaining) return Stop.Paused;
        n++;
        const op = code[pc]!;
        const d = D[pc]!;
        switch (op) {
          // ---- ALU64 -------------------------------------------------
          case 0x07: case 0x0f: { // add
            let blo: number, bhi: number;
            if (op === 0x07) { blo = I[pc]!; bhi = blo >> 31; } else { const s = S[pc]!; blo = R[s]!; bhi = R[s + 1]!; }
            const alo = R[d]!;
            const lo = (alo + blo) | 0;
            R[d + 1] = (R[d + 1]! + bhi + ((lo >>> 0) < (alo >>> 0) ? 1 : 0)) | 0;
            R[d] = lo;
            break;
          }
          case 0x17: case 0x1f: { // sub
            let blo: number, bhi: number;
            if (op === 0x17) { blo = I[pc]!; bhi = blo >> 31; } else { const s = S[pc]!; blo = R[s]!; bhi = R[s + 1]!; }
            const alo = R[d]!;
            R[d + 1] = (R[d + 1]! - bhi - ((alo >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;
            R[d] = (alo - blo) | 0;
            break;
          }
          case 0x27: case 0x2f: { // mul
            let blo: number, bhi: number;
            if (op === 0x27) { blo = I[pc]!; bhi = blo >> 31; } else { const s = S[pc]!; blo = R[s]!; bhi = R[s + 1]!; }
            const alo = R[d]!;
            const ahi = R[d + 1]!;
            R[d + 1] = (Math.imul(alo, bhi) + Math.imul(ahi, blo) + mulhiU32(alo, blo)) | 0;
            R[d] = Math.imul(alo, blo);
            break;
          }
          case 0x37: case 0x3f: case 0x97: case 0x9f: { // div, sdiv, mod, smod
            let blo: number, bhi: number;
            if ((op & 0x08) === 0) { blo = I[pc]!; bhi = blo >> 31; } else { const s = S[pc]!; blo = R[s]!; bhi = R[s + 1]!; }
            const signed = O[pc] === 1;
            const kind = (op & 0xf0) === 0x30 ? (signed ? 'sdiv' : 'div') : (signed ? 'smod' : 'mod');
            divmod64(kind, R[d]!, R[d + 1]!, blo, bhi, R, d);
            break;
          }
          case 0x47: { const b = I[pc]!; R[d] |= b; R[d + 1] |= b >> 31; break; }
          case 0x4f: { const s = S[pc]!; R[d] |= R[s]!; R[d + 1] |= R[s + 1]!; break; }
          case 0x57: { const b = I[pc]!; R[d] &= b; R[d + 1] &= b >> 31; break; }
          case 0x5f: { const s = S[pc]!; R[d] &= R[s]!; R[d + 1] &= R[s + 1]!; break; }
          case 0xa7: { const b = I[pc]!; R[d] ^= b; R[d + 1] ^= b >> 31; break; }
          case 0xaf: { const s = S[pc]!; R[d] ^= R[s]!; R[d + 1] ^= R[s + 1]!; break; }
          case 0x67: case 0x6f: { // lsh
            const n = (op === 0x67 ? I[pc]! : R[S[pc]!]!) & 63;
            if (n >= 32) { R[d + 1] = R[d]! << (n - 32); R[d] = 0; }
            else if (n !== 0) { R[d + 1] = (R[d + 1]! << n) | (R[d]! >>> (32 - n)); R[d] = R[d]! << n; }
            break;
          }
          case 0x77: case 0x7f: { // rsh
            const n = (op === 0x77 ? I[pc]! : R[S[pc]!]!) & 63;
            if (n >= 32) { R[d] = R[d + 1]! >>> (n - 32); R[d + 1] = 0; }
            else if (n !== 0) { R[d] = (R[d]! >>> n) | (R[d + 1]! << (32 - n)); R[d + 1] = R[d + 1]! >>> n; }
            break;
          }
          case 0xc7: case 0xcf: { // arsh
            const n = (op === 0xc7 ? I[pc]! : R[S[pc]!]!) & 63;
            if (n >= 32) { R[d] = R[d + 1]! >> (n - 32); R[d + 1] = R[d + 1]! >> 31; }
            else if (n !== 0) { R[d] = (R[d]! >>> n) | (R[d + 1]! << (32 - n)); R[d + 1] = R[d + 1]! >> n; }
            break;
          }
          case 0x87: { // neg
            const lo = R[d]!;
            R[d] = -lo | 0;
            R[d + 1] = (~R[d + 1]! + (lo === 0 ? 1 : 0)) | 0;
            break;
          }
          case 0xb7: { const b = I[pc]!; R[d] = b; R[d + 1] = b >> 31; break; }
          case 0xbf: { // mov, movsx
            const s = S[pc]!;
            switch (O[pc]) {
              case 0: R[d] = R[s]!; R[d + 1] = R[s + 1]!; break;
              case 8: { const v = (R[s]! << 24) >> 24; R[d] = v; R[d + 1] = v >> 31; break; }
              case 16: { const v = (R[s]! << 16) >> 16; R[d] = v; R[d + 1] = v >> 31; break; }
              default: { const v = R[s]!; R[d] = v; R[d + 1] = v >> 31; break; }
            }
            break;
          }
          case 0xd7: { // bswap16/32/64
            const w = I[pc]!;
            if (w === 16) { R[d] = bswap16(R[d]!); R[d + 1] = 0; }
            else if (w === 32) { R[d] = bswap32(R[d]!); R[d + 1] = 0; }
            else { const lo = R[d]!; R[d] = bswap32(R[d + 1]!); R[d + 1] = bswap32(lo); }
            break;
          }
          // ---- ALU32 -------------------------------------------------
          case 0x04: R[d] = (R[d]! + I[pc]!) | 0; R[d + 1] = 0; break;
          case 0x0c: R[d] = (R[d]! + R[S[pc]!]!) | 0; R[d + 1] = 0; break;
          case 0x14: R[d] = (R[d]! - I[pc]!) | 0; R[d + 1] = 0; break;
          case 0x1c: R[d] = (R[d]! - R[S[pc]!]!) | 0; R[d + 1] = 0; break;
          case 0x24: R[d] = Math.imul(R[d]!, I[pc]!); R[d + 1] = 0; break;
          case 0x2c: R[d] = Math.imul(R[d]!, R[S[pc]!]!); R[d + 1] = 0; break;
          case 0x34: case 0x3c: case 0x94: case 0x9c: { // div32, sdiv32, mod32, smod32
            const b = (op & 0x08) === 0 ? I[pc]! : R[S[pc]!]!;
            const a = R[d]!;
            const isDiv = (op & 0xf0) === 0x30;
            let r: number;
            if (b === 0) r = isDiv ? 0 : a;
            else if (O[pc] === 1) r = isDiv ? Math.trunc(a / b) | 0 : (a % b) | 0;
            else r = isDiv ? ((a >>> 0) / (b >>> 0)) >>> 0 : (a >>> 0) % (b >>> 0);
            R[d] = r | 0;
            R[d + 1] = 0;
            break;
          }
          case 0x44: R[d] |= I[pc]!; R[d + 1] = 0; break;
          case 0x4c: R[d] |= R[S[pc]!]!; R[d + 1] = 0; break;
          case 0x54: R[d] &= I[pc]!; R[d + 1] = 0; break;
          case 0x5c: R[d] &= R[S[pc]!]!; R[d + 1] = 0; break;
          case 0xa4: R[d] ^= I[pc]!; R[d + 1] = 0; break;
          case 0xac: R[d] ^= R[S[pc]!]!; R[d + 1] = 0; break;
          case 0x64: R[d] <<= I[pc]! & 31; R[d + 1] = 0; break;
          case 0x6c: R[d] <<= R[S[pc]!]! & 31; R[d + 1] = 0; break;
          case 0x74: R[d] = R[d]! >>> (I[pc]! & 31); R[d + 1] = 0; break;
          case 0x7c: R[d] = R[d]! >>> (R[S[pc]!]! & 31); R[d + 1] = 0; break;
          case 0xc4: R[d] >>= I[pc]! & 31; R[d + 1] = 0; break;
          case 0xcc: R[d] >>= R[S[pc]!]! & 31; R[d + 1] = 0; break;
          case 0x84: R[d] = -R[d]! | 0; R[d + 1] = 0; break;
          case 0xb4: R[d] = I[pc]!; R[d + 1] = 0; break;
          case 0xbc: { // mov32, movsx32
            const v = R[S[pc]!]!;
            const o = O[pc];
            R[d] = o === 8 ? (v << 24) >> 24 : o === 16 ? (v << 16) >> 16 : v;
            R[d + 1] = 0;
            break;
          }
          case 0xd4: { // le16/32/64: truncation on a little-endian machine
            const w = I[pc]!;
            if (w === 16) { R[d] &= 0xffff; R[d + 1] = 0; } else if (w === 32) { R[d + 1] = 0; }
            break;
          }
          case 0xdc: { // be16/32/64
            const w = I[pc]!;
            if (w === 16) { R[d] = bswap16(R[d]!); R[d + 1] = 0; }
            else if (w === 32) { R[d] = bswap32(R[d]!); R[d + 1] = 0; }
            else { const lo = R[d]!; R[d] = bswap32(R[d + 1]!); R[d + 1] = bswap32(lo); }
            break;
          }
          // ---- jumps -------------------------------------------------
          case 0x05: pc += O[pc]!; break;
          case 0x06: pc += I[pc]!; break;
          case 0x15: case 0x1d: case 0x25: case 0x2d: case 0x35: case 0x3d: case 0x45: case 0x4d:
          case 0x55: case 0x5d: case 0x65: case 0x6d: case 0x75: case 0x7d: case 0xa5: case 0xad:
          case 0xb5: case 0xbd: case 0xc5: case 0xcd: case 0xd5: case 0xdd: {
            let blo: number, bhi: number;
            if ((op & 0x08) === 0) { blo = I[pc]!; bhi = blo >> 31; } else { const s = S[pc]!; blo = R[s]!; bhi = R[s + 1]!; }
            const alo = R[d]!;
            const ahi = R[d + 1]!;
            let taken: boolean;
            switch (op & 0xf0) {
              case 0x10: taken = alo === blo && ahi === bhi; break;
              case 0x50: taken = alo !== blo || ahi !== bhi; break;
              case 0x40: taken = (alo & blo) !== 0 || (ahi & bhi) !== 0; break;
              case 0x20: taken = ahi === bhi ? (alo >>> 0) > (blo >>> 0) : (ahi >>> 0) > (bhi >>> 0); break;
              case 0x30: taken = ahi === bhi ? (alo >>> 0) >= (blo >>> 0) : (ahi >>> 0) > (bhi >>> 0); break;
              case 0xa0: taken = ahi === bhi ? (alo >>> 0) < (blo >>> 0) : (ahi >>> 0) < (bhi >>> 0); break;
              case 0xb0: taken = ahi === bhi ? (alo >>> 0) <= (blo >>> 0) : (ahi >>> 0) < (bhi >>> 0); break;
              case 0x60: taken = ahi === bhi ? (alo >>> 0) > (blo >>> 0) : ahi > bhi; break;
              case 0x70: taken = ahi === bhi ? (alo >>> 0) >= (blo >>> 0) : ahi > bhi; break;
              case 0xc0: taken = ahi === bhi ? (alo >>> 0) < (blo >>> 0) : ahi < bhi; break;
              default: taken = ahi === bhi ? (alo >>> 0) <= (blo >>> 0) : ahi < bhi; break;
            }
            if (taken) pc += O[pc]!;
            break;
          }
          case 0x16: case 0x1e: case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x46: case 0x4e:
          case 0x56: case 0x5e: case 0x66: case 0x6e: case 0x76: case 0x7e: case 0xa6: case 0xae:
          case 0xb6: case 0xbe: case 0xc6: case 0xce: case 0xd6: case 0xde: {
            const a = R[d]!;
            const b = (op & 0x08) === 0 ? I[pc]! : R[S[pc]!]!;
            let taken: boolean;
            switch (op & 0xf0) {
              case 0x10: taken = a === b; break;
              case 0x50: taken = a !== b; break;
              case 0x40: taken = (a & b) !== 0; break;
              case 0x20: taken = (a >>> 0) > (b >>> 0); break;
              case 0x30: taken = (a >>> 0) >= (b >>> 0); break;
              case 0xa0: taken = (a >>> 0) < (b >>> 0); break;
              case 0xb0: taken = (a >>> 0) <= (b >>> 0); break;
              case 0x60: taken = a > b; break;
              case 0x70: taken = a >= b; break;
              case 0xc0: taken = a < b; break;
              default: taken = a <= b; break;
            }
            if (taken) pc += O[pc]!;
            break;
          }
          case 0xe5: { // may_goto: falls through until the frame's loop budget is spent
            if (mayGoto[depth] === 0) pc += O[pc]!;
            else mayGoto[depth]! -= 1;
            break;
          }
          case 0x85: case 0x8d: {
            if (op === 0x85 && S[pc] === 2) { // src 1 (stored doubled): bpf-to-bpf call
              if (depth + 1 >= MAX_CALL_FRAMES) {
                throw new VmError(`the call stack is too deep: more than ${MAX_CALL_FRAMES} frames`, { insn: pc });
              }
              const f = depth * 12;
              for (let i = 0; i < 10; i++) frames[f + i] = R[12 + i]!; // r6..r10
              frames[f + 10] = pc;
              this.frameProgs[depth] = prog;
              depth += 1;
              mayGoto[depth] = MAY_GOTO_BUDGET;
              R[20] = cpu.framePointer(depth);
              R[21] = 0;
              pc += I[pc]!;
              break;
            }
            const id = op === 0x85 ? I[pc]! : R[d]!;
            if (id === BpfFunc.tail_call) {
              const target = this.tailCallTarget(R);
              if (target === undefined) break; // a failed tail call falls through
              prog = target;
              this.current = prog;
              code = prog.code; D = prog.dst2; S = prog.src2; O = prog.off; I = prog.imm;
              M = this.modeOf(prog);
              mayGoto[depth] = MAY_GOTO_BUDGET;
              pc = -1;
              break;
            }
            const helper = (prog.helpers ?? this.machine.helpers).get(id);
            if (helper === undefined) throw (prog.helpers ?? this.machine.helpers).missing(id, pc);
            cpu.call.pc = pc;
            cpu.call.program = prog;
            this.pc = pc;
            this.depth = depth;
            this.executed += n;
            remaining -= n;
            n = 0;
            const outer = cpu.call.helper;
            cpu.call.helper = helper.name;
            helper.fn(cpu.call);
            cpu.call.helper = outer; // a callback's helpers named themselves
            // Callbacks run by the helper spend the same budget.
            remaining = Math.min(remaining, this.budget - this.executed);
            // A helper may have grown the memory, which replaces its buffer.
            if (R.buffer !== space.buffer) R = this.registers();
            dv = space.data;
            break;
          }
          case 0x95: { // exit
            if (depth === 0) {
              this.done = true;
              return Stop.Exited;
            }
            depth -= 1;
            const f = depth * 12;
            for (let i = 0; i < 10; i++) R[12 + i] = frames[f + i]!;
            pc = frames[f + 10]!;
            const caller = this.frameProgs[depth]!;
            if (caller !== prog) {
              prog = caller;
              this.current = prog;
              code = prog.code; D = prog.dst2; S = prog.src2; O = prog.off; I = prog.imm;
              M = this.modeOf(prog);
            }
            if (pc === CALLBACK_RETURN) return Stop.CallbackReturned;
            break;
          }
          // ---- loads -------------------------------------------------
          case 0x61: case 0x69: case 0x71: case 0x79: case 0x81: case 0x89: case 0x91: {
            const s = S[pc]!;
            const size = op === 0x79 ? 8 : (op & 0x18) === 0 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
            let a: number;
            if (M[pc] !== CHECK) {
              a = (R[s]! + O[pc]!) >>> 0;
              if ((pages[(M[pc] === GUARD_BASE ? R[s]! : a) >>> 16]! & 1) === 0) throw guardFault(space, R[s]!, R[s + 1]!, O[pc]!, size, 1, pc);
            } else {
              a = effective(R[s]!, R[s + 1]!, O[pc]!);
              chk.check(a, size, false, pc);
            }
            switch (op) {
              case 0x61: R[d] = dv.getInt32(a, true); R[d + 1] = 0; break;
              case 0x69: R[d] = dv.getUint16(a, true); R[d + 1] = 0; break;
              case 0x71: R[d] = dv.getUint8(a); R[d + 1] = 0; break;
              case 0x79: R[d] = dv.getInt32(a, true); R[d + 1] = dv.getInt32(a + 4, true); break;
              case 0x81: { const v = dv.getInt32(a, true); R[d] = v; R[d + 1] = v >> 31; break; }
              case 0x89: { const v = dv.getInt16(a, true); R[d] = v; R[d + 1] = v >> 31; break; }
              default: { const v = dv.getInt8(a); R[d] = v; R[d + 1] = v >> 31; break; }
            }
            break;
          }
          // ---- stores ------------------------------------------------
          case 0x62: case 0x6a: case 0x72: case 0x7a: case 0x63: case 0x6b: case 0x73: case 0x7b: {
            const sz = op & 0x18;
            const size = sz === 0x18 ? 8 : sz === 0 ? 4 : sz === 0x08 ? 2 : 1;
            let a: number;
            if (M[pc] !== CHECK) {
              a = (R[d]! + O[pc]!) >>> 0;
              if ((pages[(M[pc] === GUARD_BASE ? R[d]! : a) >>> 16]! & 2) === 0) throw guardFault(space, R[d]!, R[d + 1]!, O[pc]!, size, 2, pc);
            } else {
              a = effective(R[d]!, R[d + 1]!, O[pc]!);
              chk.check(a, size, true, pc);
            }
            let lo: number, hi: number;
            if ((op & 0x07) === 0x02) { lo = I[pc]!; hi = lo >> 31; } else { const s = S[pc]!; lo = R[s]!; hi = R[s + 1]!; }
            if (size === 8) { dv.setInt32(a, lo, true); dv.setInt32(a + 4, hi, true); }
            else if (size === 4) dv.setInt32(a, lo, true);
            else if (size === 2) dv.setInt16(a, lo, true);
            else dv.setInt8(a, lo);
            break;
          }
          case 0xc3: case 0xdb: case 0xcb: case 0xd3: {
            this.pc = pc;
            this.atomic(op, d, S[pc]!, O[pc]!, I[pc]!, R, dv);
            break;
          }
          // ---- 64-bit immediates and legacy packet loads ---------------
          case 0x18: R[d] = I[pc]!; R[d + 1] = I[pc + 1]!; pc += 1; break;
          case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50: {
            this.pc = pc;
            if (!this.legacyLoad(op, S[pc]!, I[pc]!, R, dv)) {
              this.done = true;
              return Stop.Exited;
            }
            break;
          }
          default:
            throw new VmError(`unknown opcode ${op.toString(16).padStart(2, '0')}`, { insn: pc });
        }
        pc += 1;
      }
    } finally {
      this.pc = pc;
      this.depth = depth;
      this.executed += n;
    }
  }

  private atomic(op: number, d: number, s: number, off: number, imm: number, R: Int32Array, dv: DataView): void {
    const pc = this.pc;
    const size = op === 0xdb ? 8 : op === 0xc3 ? 4 : op === 0xcb ? 2 : 1;
    if (imm === 0x100) { // load-acquire: dst = *(src + off)
      const a = this.access(R[s]!, R[s + 1]!, off, size, PageRights.read, pc);
      if (size === 8) { R[d] = dv.getInt32(a, true); R[d + 1] = dv.getInt32(a + 4, true); }
      else { R[d] = size === 4 ? dv.getInt32(a, true) : size === 2 ? dv.getUint16(a, true) : dv.getUint8(a); R[d + 1] = 0; }
      return;
    }
    if (imm === 0x110) { // store-release: *(dst + off) = src
      const a = this.access(R[d]!, R[d + 1]!, off, size, PageRights.write, pc);
      if (size === 8) { dv.setInt32(a, R[s]!, true); dv.setInt32(a + 4, R[s + 1]!, true); }
      else if (size === 4) dv.setInt32(a, R[s]!, true);
      else if (size === 2) dv.setInt16(a, R[s]!, true);
      else dv.setInt8(a, R[s]!);
      return;
    }
    const a = this.access(R[d]!, R[d + 1]!, off, size, PageRights.read | PageRights.write, pc);
    const space = this.machine.space;
    if (space.shared && a % size === 0) {
      sharedAtomic(space, size, a, imm, s, R);
      return;
    }
    // Single-threaded memory: a plain read-modify-write is atomic.
    const olo = dv.getInt32(a, true);
    const ohi = size === 8 ? dv.getInt32(a + 4, true) : 0;
    const blo = R[s]!;
    const bhi = size === 8 ? R[s + 1]! : 0;
    let nlo = olo;
    let nhi = ohi;
    switch (imm & 0xf0) {
      case 0x00: {
        nlo = (olo + blo) | 0;
        nhi = (ohi + bhi + ((nlo >>> 0) < (olo >>> 0) ? 1 : 0)) | 0;
        break;
      }
      case 0x40: nlo = olo | blo; nhi = ohi | bhi; break;
      case 0x50: nlo = olo & blo; nhi = ohi & bhi; break;
      case 0xa0: nlo = olo ^ blo; nhi = ohi ^ bhi; break;
      case 0xe0: nlo = blo; nhi = bhi; break;
      case 0xf0: { // cmpxchg compares with r0
        const match = size === 8 ? olo === R[0] && ohi === R[1] : olo === R[0];
        if (match) { nlo = blo; nhi = bhi; }
        break;
      }
      default:
        throw new VmError(`invalid atomic operation ${imm.toString(16)}`, { insn: pc });
    }
    dv.setInt32(a, nlo, true);
    if (size === 8) dv.setInt32(a + 4, nhi, true);
    if ((imm & 0xf0) === 0xf0) {
      R[0] = olo;
      R[1] = ohi;
    } else if ((imm & 1) !== 0) {
      R[s] = olo;
      R[s + 1] = ohi;
    }
  }

  /**
   * Legacy `ldabs`/`ldind`: reads big-endian data from the packet of the
   * socket buffer in r6 (vm/legacy-load.ts: from `__sk_buff.data`, or from
   * the network or MAC header for `SKF_NET_OFF`/`SKF_LL_OFF` offsets).
   * Returns false when the access is outside the packet: the program then
   * exits with r0 = 0, as in Linux.
   */
  private legacyLoad(op: number, s: number, imm: number, R: Int32Array, dv: DataView): boolean {
    const pc = this.pc;
    const at = this.access(R[12]!, R[13]!, SkbWords.data, 8, PageRights.read, pc);
    const size = (op & 0x18) === 0 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
    const offset = (op & 0xe0) === 0x40 ? (R[s]! + imm) | 0 : imm;
    if (offset < 0) this.access(R[12]!, R[13]!, SkbWords.macHeader, SkbWords.head + 4 - SkbWords.macHeader, PageRights.read, pc);
    const a = legacyLoadAddress(dv, at - SkbWords.data, offset, size);
    if (a < 0) {
      R[0] = 0;
      R[1] = 0;
      return false;
    }
    this.access(a, 0, 0, size, PageRights.read, pc);
    R[0] = size === 4 ? dv.getInt32(a, false) : size === 2 ? dv.getUint16(a, false) : dv.getUint8(a);
    R[1] = 0;
    return true;
  }
}

function sharedAtomic(space: AddressSpace, size: number, a: number, imm: number, s: number, R: Int32Array): void {
  const buffer = space.buffer;
  if (size === 4) {
    const view = new Int32Array(buffer);
    const i = a >> 2;
    const b = R[s]!;
    let old: number;
    switch (imm & 0xf0) {
      case 0x00: old = Atomics.add(view, i, b); break;
      case 0x40: old = Atomics.or(view, i, b); break;
      case 0x50: old = Atomics.and(view, i, b); break;
      case 0xa0: old = Atomics.xor(view, i, b); break;
      case 0xe0: old = Atomics.exchange(view, i, b); break;
      default: old = Atomics.compareExchange(view, i, R[0]!, b); break;
    }
    if ((imm & 0xf0) === 0xf0) { R[0] = old; R[1] = 0; } else if ((imm & 1) !== 0) { R[s] = old; R[s + 1] = 0; }
    return;
  }
  const view = new BigInt64Array(buffer);
  const i = a >> 3;
  const b = BigInt.asIntN(64, pairToBig(R[s]!, R[s + 1]!));
  let old: bigint;
  switch (imm & 0xf0) {
    case 0x00: old = Atomics.add(view, i, b); break;
    case 0x40: old = Atomics.or(view, i, b); break;
    case 0x50: old = Atomics.and(view, i, b); break;
    case 0xa0: old = Atomics.xor(view, i, b); break;
    case 0xe0: old = Atomics.exchange(view, i, b); break;
    default: old = Atomics.compareExchange(view, i, BigInt.asIntN(64, pairToBig(R[0]!, R[1]!)), b); break;
  }
  const lo = Number(BigInt.asIntN(32, old));
  const hi = Number(BigInt.asIntN(32, old >> 32n));
  if ((imm & 0xf0) === 0xf0) { R[0] = lo; R[1] = hi; } else if ((imm & 1) !== 0) { R[s] = lo; R[s + 1] = hi; }
}

/**
 * Runs `prog` to its final `exit` on `machine` and returns r0. Throws a
 * {@link VmError} naming the instruction on a fault or when the budget runs out.
 */
export function interpret(machine: Machine, prog: PreparedProgram, options: RunOptions = {}): RunResult {
  const exec = new Execution(machine, prog, options.checked ?? true, options.cpu ?? 0, options.args ?? []);
  exec.safeAccesses = options.safeAccesses;
  return runExecution(exec, options);
}

/**
 * Runs an {@link Execution} that was just created or reset, honouring the
 * budget and trace options.
 */
export function runExecution(exec: Execution, options: RunOptions = {}): RunResult {
  const budget = options.budget ?? (exec.checked ? DEFAULT_BUDGET : Number.POSITIVE_INFINITY);
  exec.budget = budget;
  if (options.trace) {
    const trace = options.trace;
    let before = exec.registers().slice();
    while (!exec.done) {
      if (exec.executed >= budget) throw budgetError(budget, exec.pc);
      const pc = exec.pc;
      const depth = exec.depth;
      const program = exec.current;
      exec.step(1);
      const after = exec.registers();
      const changed: TraceStep['changed'] = [];
      for (let r = 0; r < 11; r++) {
        if (after[2 * r] !== before[2 * r] || after[2 * r + 1] !== before[2 * r + 1]) {
          changed.push({ reg: r, value: pairToBig(after[2 * r]!, after[2 * r + 1]!) });
        }
      }
      before = after.slice();
      trace({ program, pc, depth, changed });
    }
  } else if (!exec.step(budget)) {
    throw budgetError(budget, exec.pc);
  }
  return { r0: exec.r0, insns: exec.executed };
}

function budgetError(budget: number, pc: number): VmError {
  return new VmError(`instruction budget of ${budget} exhausted (the program may not terminate; raise it with --budget)`, { insn: pc });
}

