/**
 * The emitter of one BPF function's WebAssembly code (see compile.ts for the
 * module around it and docs/jit.md for the design): registers are `i64`
 * locals, control flow goes through `structured-flow.ts`, and a budget
 * counts instructions per charge unit, exactly as the interpreter. The
 * instructions themselves are emitted by emit-alu.ts, emit-memory.ts and
 * emit-calls.ts.
 */
import { formatInstruction } from '../asm/index.js';
import { VmError } from '../errors.js';
import type { Instruction, JmpInsn } from '../isa/instruction.js';
import { STACK_SIZE } from '../isa/opcode.js';
import { MAY_GOTO_BUDGET } from '../vm/interpreter.js';
import type { PreparedProgram } from '../vm/prepared-program.js';
import { buildGraph, loopBlocks } from './control-flow.js';
import type { BasicBlock } from './control-flow.js';
import type { ProgramCompiler } from './compile.js';
import { emitAlu, emitEndian, emitNeg } from './emit-alu.js';
import { emitCallx, emitHelperCall, emitLegacyLoad, emitLocalCall } from './emit-calls.js';
import { emitAtomic, emitLoad, emitStore } from './emit-memory.js';
import { ImportName } from './module-abi.js';
import type { JitVariant } from './module-abi.js';
import { emitStructured } from './structured-flow.js';
import type { BlockEmitter } from './structured-flow.js';
import { Code } from './wasm/code.js';
import type { GlobalRef } from './wasm/code.js';
import type { FuncDef, ModuleBuilder } from './wasm/module.js';
import type { OpName, ValType } from './wasm/opcodes.js';

/** Wasm comparison for a jump, 64-bit name (the 32-bit one replaces the prefix). */
const JMP_CMP: Record<JmpInsn['op'], string> = {
  jeq: 'eq', jne: 'ne', jgt: 'gt_u', jge: 'ge_u', jlt: 'lt_u', jle: 'le_u',
  jsgt: 'gt_s', jsge: 'ge_s', jslt: 'lt_s', jsle: 'le_s', jset: 'and',
};

/** Whether an instruction ends a budget segment (it faults or has effects beyond registers). */
function effectful(insn: Instruction): boolean {
  switch (insn.kind) {
    case 'ldx': case 'st': case 'stx': case 'atomic': case 'call': case 'callx': case 'ldabs': case 'ldind':
      return true;
    default:
      return false;
  }
}

/**
 * Whether an instruction may end its function's run other than by a fault:
 * a tail call, a failed legacy load, and any call (its callee or a callback
 * may end the run through a failed legacy load, and the run still reports
 * its instruction count).
 */
function leaves(insn: Instruction): boolean {
  return insn.kind === 'call' || insn.kind === 'callx' || insn.kind === 'ldabs' || insn.kind === 'ldind';
}

/** An access site's cache: globals, and locals (or -1) inside loops. */
export interface Site {
  lo: GlobalRef;
  span: GlobalRef;
  loLocal: number;
  spanLocal: number;
}

/**
 * Translates one BPF function: locals and registers, block bodies, budget
 * charging, the dispatch of each instruction and the control-flow hooks of
 * `structured-flow.ts`. The instructions of each concern are emitted by the
 * emit-* modules (ALU, memory, calls), which take the emitter as their first
 * argument.
 */
export class FnEmitter implements BlockEmitter {
  readonly code: Code;
  /** Local index of each register. */
  private readonly reg: number[] = [];
  /** @internal Shared with the emit-* modules: local index of the frame pointer (i32 parameter). */
  readonly fp: number;
  /** @internal Shared with the emit-* modules: local of the frame's base (fp - 512). */
  readonly fpb: number;
  /** @internal Shared with the emit-* modules: whether the function writes r10 (then r10-relative accesses get checks). */
  readonly r10Written: boolean;
  private bud = -1;
  private mg = -1;
  private readonly temps = new Map<string, number>();
  /** @internal Shared with the emit-* modules: the module being built. */
  readonly m: ModuleBuilder;
  /** @internal Shared with the emit-* modules: the variant being compiled. */
  readonly v: JitVariant;
  private readonly prog: PreparedProgram;
  /**
   * Per register, the page rights already tested on its value's page on
   * every path to here (in the current block, or in the chain of
   * single-predecessor blocks leading to it): page rights never change once
   * a page is given out, so a second access through the same register at a
   * small offset needs no test.
   *
   * @internal Shared with the emit-* modules.
   */
  readonly guarded = new Uint8Array(11);
  /** {@link guarded} at the end of each block emitted so far: a block with one predecessor starts from it. */
  private readonly guardedAtEnd = new Map<number, Uint8Array>();
  /** @internal Shared with the emit-* modules: registers known to hold a constant in the current block (map pointers), as [lo, hi]. */
  readonly consts: ([number, number] | null)[] = Array<[number, number] | null>(11).fill(null);

  constructor(
    /** @internal Shared with the emit-* modules: the module-wide state (imports, globals, statistics). */
    readonly pc: ProgramCompiler,
    /** @internal Shared with the emit-* modules: the WebAssembly function being emitted. */
    readonly def: FuncDef,
    private readonly entry: number,
    private readonly end: number,
    /** `entry`: r1..r5, fp in; `full`: r0..r9, fp in, r0..r5 out. */
    private readonly kind: 'entry' | 'full',
    /** @internal Shared with the emit-* modules: the entry function of an entry-role module (depth 0: a failed legacy load can simply return). */
    readonly isMain: boolean,
  ) {
    this.m = pc.m;
    this.v = pc.variant;
    this.prog = pc.prog;
    this.code = def.code;
    if (kind === 'entry') {
      this.reg[0] = this.m.local(def, 'i64', 'r0');
      for (let r = 1; r <= 5; r++) this.reg[r] = r - 1;
      this.fp = 5;
      for (let r = 6; r <= 10; r++) this.reg[r] = this.m.local(def, 'i64', `r${r}`);
    } else {
      for (let r = 0; r <= 9; r++) this.reg[r] = r;
      this.fp = 10;
      this.reg[10] = this.m.local(def, 'i64', 'r10');
    }
    this.fpb = this.m.local(def, 'i32', 'frame');
    let written = false;
    let mayGoto = false;
    for (let pc = entry; pc < end; pc++) {
      const insn = this.prog.bySlot[pc];
      if (insn === undefined) continue;
      if (writesReg(insn) === 10) written = true;
      if (insn.kind === 'may_goto') mayGoto = true;
    }
    this.r10Written = written;
    if (this.v.budget) this.bud = this.m.local(def, 'i64', 'budget');
    if (mayGoto) this.mg = this.m.local(def, 'i32', 'may_goto');
  }

  /** @internal Shared with the emit-* modules: the scratch local `name` of `type` (one per name and type in a function). */
  temp(name: string, type: ValType): number {
    const key = `${name}:${type}`;
    let t = this.temps.get(key);
    if (t === undefined) {
      t = this.m.local(this.def, type, name);
      this.temps.set(key, t);
    }
    return t;
  }

  nextLocal(): number {
    return this.temp('next', 'i32');
  }

  /** @internal Shared with the emit-* modules: pushes register `r`. */
  get(r: number): void { this.code.localGet(this.reg[r]!); }
  /** @internal Shared with the emit-* modules: pops into register `r`. */
  set(r: number): void { this.code.localSet(this.reg[r]!); }

  emit(): void {
    const c = this.code;
    c.pc = -1;
    // Prologue: frame base, r10, budget, may_goto counter.
    c.localGet(this.fp);
    c.i32(STACK_SIZE);
    c.op('i32.sub');
    c.localSet(this.fpb);
    c.localGet(this.fp);
    c.op('i64.extend_i32_u');
    this.set(10);
    if (this.bud >= 0) {
      c.globalGet(this.pc.budget);
      c.localSet(this.bud);
    }
    if (this.mg >= 0) {
      c.i32(MAY_GOTO_BUDGET);
      c.localSet(this.mg);
    }
    const g = buildGraph(this.prog.bySlot, this.entry, this.end);
    this.inLoop = loopBlocks(g);
    const s = emitStructured(g, this);
    if (s.dispatch) this.pc.stats.dispatchFunctions++;
    this.pc.stats.loops += s.loops;
    // Access sites inside loops keep their cache in locals, loaded here.
    if (this.loopSites.length > 0) {
      const head = new Code();
      for (const site of this.loopSites) {
        head.globalGet(site.lo);
        head.localSet(site.loLocal);
        head.globalGet(site.span);
        head.localSet(site.spanLocal);
      }
      c.prepend(head);
    }
  }

  /** @internal Shared with the emit-* modules: set while emitting the slow copy of a charge unit (not counted in the statistics). */
  copying = false;

  /** Blocks inside loops (their access sites cache in locals). */
  private inLoop: Uint8Array = new Uint8Array(0);
  /** @internal Shared with the emit-* modules: whether the block being emitted is inside a loop. */
  curInLoop = false;
  /** @internal Shared with the emit-* modules: the access sites inside loops (their cache is loaded into locals at the function's start). */
  readonly loopSites: Site[] = [];

  // ---- BlockEmitter -------------------------------------------------------

  body(b: BasicBlock): void {
    this.curInLoop = this.inLoop[b.id] === 1;
    const slots: number[] = [];
    for (let pc = b.start; pc < b.end; pc++) if (this.prog.bySlot[pc] !== undefined) slots.push(pc);
    const termPc = b.term.pc;
    // Segments: straight-line runs ending at an instruction that can fault or has effects.
    const segments: [number, number][] = [];
    for (let i = 0; i < slots.length;) {
      let j = i;
      while (j < slots.length - 1 && !effectful(this.prog.bySlot[slots[j]!]!)) j++;
      segments.push([i, j]);
      i = j + 1;
    }
    const emitRange = (i: number, j: number) => {
      for (let k = i; k <= j; k++) {
        const pc = slots[k]!;
        if (pc !== termPc) this.insn(pc, this.prog.bySlot[pc]!);
      }
    };
    this.consts.fill(null);
    const from = b.preds.length === 1 ? this.guardedAtEnd.get(b.preds[0]!) : undefined;
    if (from !== undefined) this.guarded.set(from);
    else this.guarded.fill(0);
    if (this.bud < 0) {
      emitRange(0, slots.length - 1);
      this.guardedAtEnd.set(b.id, this.guarded.slice());
      return;
    }
    // Charge units: segments up to one that may leave the function without a fault (a tail
    // call, a legacy load ending the run), so no instruction is charged that does not run.
    let u = 0;
    while (u < segments.length) {
      let v = u;
      while (v < segments.length - 1 && !leaves(this.prog.bySlot[slots[segments[v]![1]]!]!)) v++;
      this.chargeUnit(slots, segments.slice(u, v + 1), emitRange);
      u = v + 1;
    }
    this.guardedAtEnd.set(b.id, this.guarded.slice());
  }

  /**
   * Charges the instructions of `segments` once; only when the budget runs
   * out inside them does a copy with one check per segment run (it always
   * ends in the budget error or a fault).
   */
  private chargeUnit(slots: number[], segments: [number, number][], emitRange: (i: number, j: number) => void): void {
    const first = segments[0]![0];
    const last = segments[segments.length - 1]![1];
    const n = last - first + 1;
    if (segments.length === 1) {
      this.budgetCheck(slots[first]!, n);
      emitRange(first, last);
      return;
    }
    const c = this.code;
    c.pc = slots[first]!;
    this.charge(n);
    c.if();
    // Not enough: give the instructions back and go one segment at a time.
    c.localGet(this.bud);
    c.i64(n);
    c.op('i64.add');
    c.localSet(this.bud);
    const saved = this.consts.slice();
    const savedGuards = this.guarded.slice();
    this.copying = true;
    for (const [i, j] of segments) {
      this.budgetCheck(slots[i]!, j - i + 1);
      emitRange(i, j);
    }
    this.copying = false;
    c.op('unreachable');
    c.end();
    saved.forEach((k, r) => { this.consts[r] = k; });
    this.guarded.set(savedGuards);
    emitRange(first, last);
  }

  /** `budget -= n`, pushing `budget < 0` (a subtraction whose flags the branch uses). */
  private charge(n: number): void {
    const c = this.code;
    c.localGet(this.bud);
    c.i64(n);
    c.op('i64.sub');
    c.localTee(this.bud);
    c.i64(0);
    c.op('i64.lt_s');
  }

  cond(b: BasicBlock): void {
    const t = b.term;
    if (t.kind !== 'cond') throw new Error('internal error: cond of a block without a conditional');
    const insn = this.prog.bySlot[t.pc]!;
    const c = this.code;
    if (insn.kind === 'may_goto') {
      c.localGet(this.mg);
      c.op('i32.eqz');
      return;
    }
    if (insn.kind !== 'jmp') throw new Error(`internal error: conditional terminator ${insn.kind}`);
    const cmp = JMP_CMP[insn.op];
    if (insn.wide) {
      this.get(insn.dst);
      if (insn.useReg) this.get(insn.src);
      else c.i64(insn.imm);
      c.op(`i64.${cmp}` as OpName);
      if (insn.op === 'jset') {
        c.op('i64.eqz');
        c.op('i32.eqz');
      }
    } else {
      this.get(insn.dst);
      c.op('i32.wrap_i64');
      if (insn.useReg) {
        this.get(insn.src);
        c.op('i32.wrap_i64');
      } else {
        c.i32(insn.imm);
      }
      c.op(`i32.${cmp}` as OpName);
    }
  }

  hasFallEdge(b: BasicBlock): boolean {
    return b.term.kind === 'cond' && this.prog.bySlot[b.term.pc]!.kind === 'may_goto';
  }

  fallEdge(_b: BasicBlock): void {
    const c = this.code;
    c.localGet(this.mg);
    c.i32(1);
    c.op('i32.sub');
    c.localSet(this.mg);
  }

  sameTarget(b: BasicBlock): void {
    if (!this.hasFallEdge(b)) return;
    // may_goto to the next instruction: count down unless already at 0.
    const c = this.code;
    c.localGet(this.mg);
    c.localGet(this.mg);
    c.i32(0);
    c.op('i32.ne');
    c.op('i32.sub');
    c.localSet(this.mg);
  }

  exit(_b: BasicBlock): void {
    this.returnSequence();
  }

  // ---- helpers of emission ------------------------------------------------

  /** @internal Shared with the emit-* modules: stores the budget local in the budget global (before a call). */
  syncBudgetOut(): void {
    if (this.bud < 0) return;
    this.code.localGet(this.bud);
    this.code.globalSet(this.pc.budget);
  }

  /** @internal Shared with the emit-* modules: loads the budget local from the budget global (after a call). */
  syncBudgetIn(): void {
    if (this.bud < 0) return;
    this.code.globalGet(this.pc.budget);
    this.code.localSet(this.bud);
  }

  /** @internal Shared with the emit-* modules: returns r0 (and, `full`, r1..r5) with the budget synced. */
  returnSequence(): void {
    const c = this.code;
    this.syncBudgetOut();
    this.get(0);
    if (this.kind === 'entry') for (let k = 1; k < this.pc.entryResults; k++) c.i64(0);
    else for (let r = 1; r <= 5; r++) this.get(r);
    c.op('return');
  }

  /** `budget -= n; if (budget < 0) budgetOut(pc, budget + n)`. */
  private budgetCheck(pc: number, n: number): void {
    const c = this.code;
    const saved = c.pc;
    c.pc = pc;
    this.charge(n);
    c.if();
    c.i32(pc);
    c.localGet(this.bud);
    c.i64(n);
    c.op('i64.add');
    c.op('i32.wrap_i64');
    c.call(this.pc.importFunc(ImportName.budgetOut, ['i32', 'i32'], []));
    c.op('unreachable');
    c.end();
    c.pc = saved;
  }

  private annotate(pc: number, insn: Instruction): void {
    if (!this.pc.env.annotate) return;
    let text: string;
    try {
      text = formatInstruction(insn, { syntax: 'llvm', pc });
    } catch {
      text = insn.kind;
    }
    this.code.comment(`${pc}: ${text}`);
  }

  /** Emits one non-terminator instruction. */
  private insn(pc: number, insn: Instruction): void {
    const c = this.code;
    c.pc = pc;
    this.annotate(pc, insn);
    const w = writesReg(insn);
    switch (insn.kind) {
      case 'alu': emitAlu(this, insn); break;
      case 'neg': emitNeg(this, insn); break;
      case 'endian': emitEndian(this, insn); break;
      case 'lddw':
        c.i64Pair(this.prog.imm[pc]!, this.prog.imm[pc + 1]!);
        this.set(insn.dst);
        break;
      case 'ldx': emitLoad(this, insn, pc); break;
      case 'st': case 'stx': emitStore(this, insn, pc); break;
      case 'atomic': emitAtomic(this, insn, pc); break;
      case 'call':
        if (insn.src === 1) emitLocalCall(this, pc, pc + 1 + insn.imm);
        else emitHelperCall(this, pc, insn.imm);
        break;
      case 'callx': emitCallx(this, pc, insn.dst); break;
      case 'ldabs': case 'ldind': emitLegacyLoad(this, insn, pc); break;
      case 'addr_space_cast':
        throw new VmError('addr_space_cast needs an arena map, which tsbpf does not provide yet', { insn: pc });
      case 'jmp': case 'ja': case 'gotol': case 'may_goto': case 'exit':
        throw new Error(`internal error: terminator ${insn.kind} inside a block at ${pc}`);
    }
    // Track constants (map pointers) for inline lookups and tail calls. Helpers may change
    // r0..r5 (callbacks run on the same registers), except the inline lookups, which set r0 only.
    if (insn.kind === 'lddw') this.consts[insn.dst] = [this.prog.imm[pc]!, this.prog.imm[pc + 1]!];
    else if (insn.kind === 'alu' && insn.op === 'mov' && !insn.useReg && insn.wide) this.consts[insn.dst] = [insn.imm, insn.imm >> 31];
    else if (insn.kind === 'call' || insn.kind === 'callx') {
      for (let r = this.lastLookupInline ? 0 : 5; r >= 0; r--) this.consts[r] = null;
    } else if (w >= 0) {
      this.consts[w] = null;
    }
    if (insn.kind === 'call' || insn.kind === 'callx') this.guarded.fill(0, 0, 6);
    else if (w >= 0) this.guarded[w] = 0;
  }

  /** @internal Shared with the emit-* modules: whether the last helper call was an inline lookup (which sets r0 only). */
  lastLookupInline = false;
}

/** The register an instruction writes (besides calls), or -1. */
function writesReg(insn: Instruction): number {
  switch (insn.kind) {
    case 'alu': case 'neg': case 'endian': case 'ldx': case 'lddw':
      return insn.dst;
    case 'atomic':
      if (insn.op === 'load_acq') return insn.dst;
      if (insn.op === 'cmpxchg') return 0;
      return insn.fetch ? insn.src : -1;
    case 'ldabs': case 'ldind':
      return 0;
    default:
      return -1;
  }
}
