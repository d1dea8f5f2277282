/**
 * eBPF to WebAssembly: one module per program (and variant).
 *
 * - Registers are `i64` locals; 32-bit operations work on `i32.wrap_i64`
 *   and zero-extend their result, exactly as RFC 9669 says.
 * - Every BPF function (the entry and each subprogram) is a WebAssembly
 *   function; bpf-to-bpf calls are `call`s that pass the frame pointer of
 *   the callee (caller's - 512) and the registers: all of them in checked
 *   mode (exactly as the interpreter), r1..r5 in and r0 out in unchecked
 *   mode (the verifier's rules).
 * - Control flow goes through `structured-flow.ts` (dominator-tree translation,
 *   dispatch loop for irreducible graphs).
 * - Helpers are imports; arguments and results travel through the CPU's
 *   register file in memory, so every helper works unchanged. Map lookups
 *   with a constant map (array, hash, LPM trie), `bpf_get_smp_processor_id`
 *   and argument-less helpers get shorter paths; tail calls through a
 *   constant prog array read it in WebAssembly.
 * - Checked mode bounds-checks each access against a per-site cache of the
 *   last region it hit, searching the region table (`inline.ts`) on a miss
 *   and calling the `access` import only when that fails (which throws the
 *   interpreter's fault). Unchecked (verified) code guards each access the
 *   verifier proved safe with its page's rights (one load from the page
 *   table, a test and a branch) and gives every other access the checked
 *   path. Accesses below an unmodified r10 inside its 512-byte frame need
 *   no check. A budget counts instructions per charge unit, exactly as the
 *   interpreter.
 *
 * See docs/jit.md for the whole design.
 */
import { formatInstruction } from '../asm/index.js';
import { VmError } from '../errors.js';
import type { AluInsn, AtomicInsn, EndianInsn, Instruction, JmpInsn, LdAbsInsn, LdIndInsn, LoadInsn, StoreImmInsn, StoreRegInsn } from '../isa/instruction.js';
import { STACK_SIZE } from '../isa/opcode.js';
import { MAX_TAIL_CALLS, MAY_GOTO_BUDGET } from '../vm/interpreter.js';
import { guardsBase, PAGE_TABLE, PageRights } from '../vm/memory.js';
import { BpfFunc, MapType, helperId } from '../isa/uapi.js';
import type { PreparedProgram } from '../vm/prepared-program.js';
import { accessInfo, BUDGET_LEFT_OFFSET, callbackExport, ENV, ExportName, guardInfo, helperImport, ImportName } from './module-abi.js';
import type { JitVariant } from './module-abi.js';
import { buildGraph, loopBlocks } from './cfg.js';
import type { BasicBlock } from './cfg.js';
import { emitHashLookup, emitLpmLookup, emitRegionFind, MAX_INLINE_KEY, RegionAccess } from './inline.js';
import { emitStructured } from './structured-flow.js';
import type { BlockEmitter } from './structured-flow.js';
import { Code } from './wasm/code.js';
import type { FuncRef, GlobalRef } from './wasm/code.js';
import { ModuleBuilder } from './wasm/module.js';
import type { FuncDef, SourcePoint } from './wasm/module.js';
import { BLOCK_I64 } from './wasm/opcodes.js';
import type { OpName, ValType } from './wasm/opcodes.js';

/** What the compiler may know about a map whose pointer is a constant (for inline lookups). */
export interface MapFacts {
  /** `enum bpf_map_type`. */
  readonly type: number;
  readonly keySize: number;
  readonly maxEntries: number;
  /** Address of the value storage. */
  readonly storage: number;
  /** Bytes between values. */
  readonly stride: number;
  /** Per-CPU slots of each element. */
  readonly cpus: number;
  /** Hash maps: buckets - 1. */
  readonly mask: number;
  /** Hash maps: the hash seed. */
  readonly seed: number;
}

/** What the compiler needs to know about the environment. */
export interface CompileEnv {
  /** Name of the helper with Linux id `id` that the program would call, or undefined when there is none. */
  helperName(id: number): string | undefined;
  /** Facts about the map whose descriptor is at `addr`, if it is one. */
  mapAt?(addr: number): MapFacts | undefined;
  /** Attach the BPF instructions as comments (for the WAT printer). */
  annotate?: boolean;
  /** Prefix of function names (stack traces name it; default `bpf`). */
  tag?: string;
}

/** The imports a compiled module needs besides memory and globals. */
export interface ModuleImports {
  /** Helper ids imported as functions. */
  readonly helpers: number[];
  readonly table: boolean;
  readonly budget: boolean;
  readonly tailCount: boolean;
}

/** Counts reported with a compiled module. */
export interface CompileStats {
  /** BPF instructions compiled. */
  insns: number;
  /** WebAssembly functions defined. */
  functions: number;
  /** BPF functions that needed the dispatch loop (irreducible control flow). */
  dispatchFunctions: number;
  /** WebAssembly loops emitted by the structured translation. */
  loops: number;
  /** Memory accesses that are bounds-checked against the regions at run time (checked mode, and unproven accesses of unchecked code). */
  checkedAccesses: number;
  /** Memory accesses guarded by their page's rights (proven accesses of unchecked code). */
  guardedAccesses: number;
  /** Array map lookups emitted inline. */
  inlineLookups: number;
}

/** One compiled module. */
export interface CompiledModule {
  readonly bytes: Uint8Array;
  /** The builder, for the WAT printer. */
  readonly builder: ModuleBuilder;
  /** Code offsets of BPF instructions, to map traps back to slots. */
  readonly sourceMap: SourcePoint[];
  readonly imports: ModuleImports;
  /** Subprogram slots with a callback wrapper export. */
  readonly callbacks: number[];
  readonly variant: JitVariant;
  readonly stats: CompileStats;
}

const I64x = (n: number): ValType[] => Array<ValType>(n).fill('i64');
const FULL_PARAMS: ValType[] = [...I64x(10), 'i32'];
const ENTRY_PARAMS: ValType[] = [...I64x(5), 'i32'];
const RESULTS: ValType[] = I64x(6);
const FULL_NAMES = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'fp'];
const ENTRY_NAMES = ['r1', 'r2', 'r3', 'r4', 'r5', 'fp'];

/** Helpers that read no argument and never call back: no register spill, only r0 comes back. */
const ARGLESS: ReadonlyMap<number, string> = new Map(([
  'bpf_ktime_get_ns', 'bpf_get_prandom_u32', 'bpf_get_current_pid_tgid', 'bpf_get_current_uid_gid',
  'bpf_get_numa_node_id', 'bpf_jiffies64', 'bpf_ktime_get_boot_ns', 'bpf_ktime_get_coarse_ns', 'bpf_ktime_get_tai_ns',
] as const).map((name) => [helperId(name)!, name]));


/** Wasm comparison for a jump, 64-bit name (the 32-bit one replaces the prefix). */
const JMP_CMP: Record<JmpInsn['op'], string> = {
  jeq: 'eq', jne: 'ne', jgt: 'gt_u', jge: 'ge_u', jlt: 'lt_u', jle: 'le_u',
  jsgt: 'gt_s', jsge: 'ge_s', jslt: 'lt_s', jsle: 'le_s', jset: 'and',
};

const ALU_OP: Partial<Record<AluInsn['op'], string>> = {
  add: 'add', sub: 'sub', mul: 'mul', or: 'or', and: 'and', xor: 'xor', lsh: 'shl', rsh: 'shr_u', arsh: 'shr_s',
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

/** Compiles `prog` in `variant`. Throws a {@link VmError} for instructions the JIT cannot run. */
export function compileProgram(prog: PreparedProgram, variant: JitVariant, env: CompileEnv): CompiledModule {
  return new ProgramCompiler(prog, variant, env).compile();
}

/** Module-wide state of one compilation. */
class ProgramCompiler {
  readonly m = new ModuleBuilder();
  /** Subprograms (and, checked, program bodies): r0..r9, fp -> r0..r5. */
  readonly fullType: number;
  /** The entry function: r1..r5, fp -> r0 (checked: r0..r5, for tail calls). */
  readonly entryType: number;
  /** What the tail-call table holds: checked, {@link fullType}; unchecked, {@link entryType}. */
  readonly bodyType: number;
  /** Results of the entry function. */
  readonly entryResults: number;
  /** Full-signature function of each subprogram slot that needs one. */
  readonly funcs = new Map<number, FuncRef>();
  readonly helperRefs = new Map<number, FuncRef>();
  readonly stats: CompileStats = { insns: 0, functions: 0, dispatchFunctions: 0, loops: 0, checkedAccesses: 0, guardedAccesses: 0, inlineLookups: 0 };
  private readonly importFuncs = new Map<string, FuncRef>();
  private readonly importGlobals = new Map<string, GlobalRef>();
  private sites = 0;
  usesTable = false;

  /** Prefix of function names. */
  readonly tag: string;

  constructor(readonly prog: PreparedProgram, readonly variant: JitVariant, readonly env: CompileEnv) {
    this.tag = env.tag ?? 'bpf';
    this.m.importMemory(ENV, ImportName.memory, variant.shared ? { min: 1, max: 65536, shared: true } : { min: 1 });
    this.fullType = this.m.type(FULL_PARAMS, RESULTS);
    // Unchecked code follows the verifier's rules, under which a program starts with r1 (and
    // r10) only and a caller reads only r0 back, so its bodies pass five arguments and return r0.
    this.entryResults = variant.checked ? 6 : 1;
    this.entryType = this.m.type(ENTRY_PARAMS, variant.checked ? RESULTS : ['i64']);
    this.bodyType = variant.checked ? this.fullType : this.entryType;
  }

  /** The import of a runtime function (added on first use). */
  importFunc(name: string, params: ValType[], results: ValType[]): FuncRef {
    let f = this.importFuncs.get(name);
    if (f === undefined) {
      f = this.m.importFunc(ENV, name, this.m.type(params, results));
      this.importFuncs.set(name, f);
    }
    return f;
  }

  /** The import of a runtime global (added on first use). */
  global(name: string, type: ValType, mutable: boolean): GlobalRef {
    let g = this.importGlobals.get(name);
    if (g === undefined) {
      g = this.m.importGlobal(ENV, name, type, mutable);
      this.importGlobals.set(name, g);
    }
    return g;
  }

  get regs(): GlobalRef { return this.global(ImportName.regs, 'i32', false); }
  get budget(): GlobalRef { return this.global(ImportName.budget, 'i64', true); }
  get fpNow(): GlobalRef { return this.global(ImportName.fpNow, 'i32', true); }
  get tailCount(): GlobalRef { return this.global(ImportName.tailCount, 'i32', true); }
  get stackLimit(): GlobalRef { return this.global(ImportName.stackLimit, 'i32', false); }
  get cpu(): GlobalRef { return this.global(ImportName.cpu, 'i32', false); }
  get fpTop(): GlobalRef { return this.global(ImportName.fpTop, 'i32', false); }

  /** The import of helper `id`. */
  helper(id: number): FuncRef {
    let f = this.helperRefs.get(id);
    if (f === undefined) {
      f = this.m.importFunc(ENV, helperImport(id), this.m.type(['i32'], []), this.env.helperName(id) ?? `helper${id}`);
      this.helperRefs.set(id, f);
    }
    return f;
  }

  private readonly lookups = new Map<number, FuncRef>();

  /** The inline lookup function of a hash map (one per map and module). */
  hashLookup(f: MapFacts): FuncRef {
    let ref = this.lookups.get(f.storage);
    if (ref === undefined) {
      ref = emitHashLookup(this.m, `${this.tag}.lookup${this.lookups.size}`, {
        keySize: f.keySize, seed: f.seed, mask: f.mask, storage: f.storage, stride: f.stride, cpus: f.cpus,
        percpu: f.type === MapType.PERCPU_HASH, maxSteps: f.maxEntries + 1,
      }, this.cpu);
      this.lookups.set(f.storage, ref);
    }
    return ref;
  }

  /** The inline lookup function of an LPM trie (one per map and module). */
  lpmLookup(f: MapFacts): FuncRef {
    let ref = this.lookups.get(f.storage);
    if (ref === undefined) {
      ref = emitLpmLookup(this.m, `${this.tag}.lookup${this.lookups.size}`, {
        keySize: f.keySize, rootSlot: f.storage, maxSteps: 8 * (f.keySize - 4) + 1,
      });
      this.lookups.set(f.storage, ref);
    }
    return ref;
  }

  private findRef: FuncRef | null = null;

  /** The region-table search (see `emitRegionFind`), defined on first use. */
  regionFind(): FuncRef {
    this.findRef ??= emitRegionFind(this.m, `${this.tag}.find_region`, this.global(ImportName.regionTable, 'i32', true), this.global(ImportName.regionCount, 'i32', true));
    return this.findRef;
  }

  /** A new access-site cache: (start of the last region hit, bytes it allows past the start). */
  site(size: number): { lo: GlobalRef; span: GlobalRef } {
    const k = this.sites++;
    const stackLo = this.global(ImportName.stackLo, 'i64', false);
    const lo = this.m.globalFrom(`site${k}.lo`, 'i64', true, stackLo);
    const span = this.m.global(`site${k}.span`, 'i64', true, MAX_STACK - size, 0);
    return { lo, span };
  }

  compile(): CompiledModule {
    const { prog, variant, m } = this;
    const subprogs = prog.subprogs;
    const ends = subprogs.map((_s, i) => (i + 1 < subprogs.length ? subprogs[i + 1]! : prog.slots));
    // Slot 0 needs a full-signature copy only when something calls it or takes its address.
    let zeroCalled = variant.role === 'tail' && variant.checked;
    prog.bySlot.forEach((insn, pc) => {
      if (insn === undefined) return;
      this.stats.insns++;
      if (insn.kind === 'call' && insn.src === 1 && pc + 1 + insn.imm === 0) zeroCalled = true;
      if (insn.kind === 'lddw' && insn.pseudo === 4 && pc + 1 + insn.imm === 0) zeroCalled = true;
      if (insn.kind === 'call' && insn.src === 2) throw new VmError(`kfunc call (BTF id ${insn.imm}) is not supported in user space`, { insn: pc });
      if (insn.kind === 'addr_space_cast') throw new VmError('addr_space_cast needs an arena map, which tsbpf does not provide yet', { insn: pc });
    });
    const defs = new Map<number, FuncDef>();
    // Checked, functions take and return every register the interpreter would leave;
    // unchecked (verified semantics), they take r1..r5 and return r0 like the entry.
    const subType = variant.checked ? this.fullType : this.entryType;
    const subNames = variant.checked ? FULL_NAMES : ENTRY_NAMES;
    subprogs.forEach((slot) => {
      if (slot === 0 && !zeroCalled) return;
      const { ref, def } = m.func(`${this.tag}.f${slot}`, subType, subNames);
      this.funcs.set(slot, ref);
      defs.set(slot, def);
    });
    let main: FuncRef;
    if (variant.role === 'entry' || !variant.checked) {
      const { ref, def } = m.func(`${this.tag}.main`, this.entryType, ENTRY_NAMES);
      main = ref;
      new FnEmitter(this, def, 0, ends[0]!, 'entry', variant.role === 'entry').emit();
    } else {
      main = this.funcs.get(0)!;
    }
    subprogs.forEach((slot, i) => {
      const def = defs.get(slot);
      if (def !== undefined) new FnEmitter(this, def, slot, ends[i]!, variant.checked ? 'full' : 'entry', false).emit();
    });

    if (variant.role === 'entry') {
      this.emitRun(main);
      this.emitBatch(main);
    } else {
      m.exportFunc(ExportName.body, main);
    }
    const callbacks: number[] = [];
    for (const [slot, f] of this.funcs) {
      this.emitCallback(slot, f);
      callbacks.push(slot);
    }
    this.stats.functions = m.funcs.length;
    const { bytes, sourceMap } = m.encode();
    return {
      bytes, builder: m, sourceMap, variant, callbacks, stats: this.stats,
      imports: {
        helpers: [...this.helperRefs.keys()],
        table: this.usesTable,
        budget: this.importGlobals.has(ImportName.budget),
        tailCount: this.importGlobals.has(ImportName.tailCount),
      },
    };
  }

  /** Sets the budget global from the (lo, hi) i32 parameters `lo` and `lo + 1` of `c`'s function. */
  private setBudget(c: Code, lo: number): void {
    c.localGet(lo);
    c.op('i64.extend_i32_u');
    c.localGet(lo + 1);
    c.op('i64.extend_i32_u');
    c.i64(32);
    c.op('i64.shl');
    c.op('i64.or');
    c.globalSet(this.budget);
  }

  /** Stores the budget left at `RESULT_SLOT` of the register file (as an i64). */
  private reportBudget(c: Code): void {
    c.globalGet(this.regs);
    c.globalGet(this.budget);
    c.mem('i64.store', 3, BUDGET_LEFT_OFFSET);
  }

  /**
   * `run(budget lo, budget hi) -> r0`: r1..r5 from the register file, frame
   * 0, then the entry; the budget left goes to the register file's spare word.
   */
  private emitRun(main: FuncRef): void {
    const { def, ref } = this.m.func(`${this.tag}.run`, this.m.type(['i32', 'i32'], ['i64']), ['budget_lo', 'budget_hi']);
    const c = def.code;
    const budgeted = this.variant.budget;
    if (budgeted) this.setBudget(c, 0);
    if (this.importGlobals.has(ImportName.tailCount)) {
      c.i32(0);
      c.globalSet(this.tailCount);
    }
    for (let r = 1; r <= 5; r++) {
      c.globalGet(this.regs);
      c.mem('i64.load', 3, 8 * r);
    }
    c.globalGet(this.fpTop);
    c.call(main);
    for (let k = 1; k < this.entryResults; k++) c.op('drop');
    if (budgeted) this.reportBudget(c);
    this.m.exportFunc(ExportName.run, ref);
  }

  /** `batch(ctxs, n, results, budget lo, budget hi)`: runs the entry once per u32 context address, storing each r0. */
  private emitBatch(main: FuncRef): void {
    const { def, ref } = this.m.func(`${this.tag}.batch`, this.m.type(['i32', 'i32', 'i32', 'i32', 'i32'], []), ['ctxs', 'n', 'results', 'budget_lo', 'budget_hi']);
    const c = def.code;
    const i = this.m.local(def, 'i32', 'i');
    c.block();
    c.localGet(1);
    c.op('i32.eqz');
    c.brIf(0);
    c.loop();
    if (this.variant.budget) this.setBudget(c, 3);
    if (this.importGlobals.has(ImportName.tailCount)) {
      c.i32(0);
      c.globalSet(this.tailCount);
    }
    // results[i] = main(ctxs[i], 0, 0, 0, 0, fpTop).r0
    c.localGet(2);
    c.localGet(i);
    c.i32(3);
    c.op('i32.shl');
    c.op('i32.add');
    c.localGet(0);
    c.localGet(i);
    c.i32(2);
    c.op('i32.shl');
    c.op('i32.add');
    c.mem('i64.load32_u', 2, 0);
    for (let k = 0; k < 4; k++) c.i64(0);
    c.globalGet(this.fpTop);
    c.call(main);
    for (let k = 1; k < this.entryResults; k++) c.op('drop');
    c.mem('i64.store', 3, 0);
    c.localGet(i);
    c.i32(1);
    c.op('i32.add');
    c.localTee(i);
    c.localGet(1);
    c.op('i32.lt_u');
    c.brIf(0);
    c.end();
    c.end();
    this.m.exportFunc(ExportName.batch, ref);
  }

  /**
   * `callbackN(fp) -> r0`: runs the function at slot N with r0..r9 from the
   * register file (the runtime has put the callback's arguments in r1..r5)
   * and writes r0..r5 back, as the interpreter leaves them (unchecked: r1..r5
   * in, r0 back).
   */
  private emitCallback(slot: number, f: FuncRef): void {
    const { def, ref } = this.m.func(`${this.tag}.${callbackExport(slot)}`, this.m.type(['i32'], ['i64']), ['fp']);
    const c = def.code;
    const full = this.variant.checked;
    for (let r = full ? 0 : 1; r <= (full ? 9 : 5); r++) {
      c.globalGet(this.regs);
      c.mem('i64.load', 3, 8 * r);
    }
    c.localGet(0);
    c.call(f);
    const tmp = this.m.local(def, 'i64', 'value');
    for (let r = full ? 5 : 0; r >= 0; r--) {
      c.localSet(tmp);
      c.globalGet(this.regs);
      c.localGet(tmp);
      c.mem('i64.store', 3, 8 * r);
    }
    c.localGet(tmp);
    this.m.exportFunc(callbackExport(slot), ref);
  }
}

/** An access site's cache: globals, and locals (or -1) inside loops. */
interface Site {
  lo: GlobalRef;
  span: GlobalRef;
  loLocal: number;
  spanLocal: number;
}

/** Bytes of a CPU's stack region. */
const MAX_STACK = 8 * STACK_SIZE;

/** Translates one BPF function. */
class FnEmitter implements BlockEmitter {
  readonly code: Code;
  /** Local index of each register. */
  private readonly reg: number[] = [];
  private readonly fp: number;
  private readonly fpb: number;
  private readonly r10Written: boolean;
  private bud = -1;
  private mg = -1;
  private readonly temps = new Map<string, number>();
  private readonly m: ModuleBuilder;
  private readonly v: JitVariant;
  private readonly prog: PreparedProgram;
  /**
   * Per register, the page rights already tested on its value's page on
   * every path to here (in the current block, or in the chain of
   * single-predecessor blocks leading to it): page rights never change once
   * a page is given out, so a second access through the same register at a
   * small offset needs no test.
   */
  private readonly guarded = new Uint8Array(11);
  /** {@link guarded} at the end of each block emitted so far: a block with one predecessor starts from it. */
  private readonly guardedAtEnd = new Map<number, Uint8Array>();
  /** Registers known to hold a constant in the current block (map pointers), as [lo, hi]. */
  private readonly consts: ([number, number] | null)[] = Array<[number, number] | null>(11).fill(null);

  constructor(
    private readonly pc: ProgramCompiler,
    private readonly def: FuncDef,
    private readonly entry: number,
    private readonly end: number,
    /** `entry`: r1..r5, fp in; `full`: r0..r9, fp in, r0..r5 out. */
    private readonly kind: 'entry' | 'full',
    /** The entry function of an entry-role module (depth 0: a failed legacy load can simply return). */
    private readonly isMain: boolean,
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

  private temp(name: string, type: ValType): number {
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

  private get(r: number): void { this.code.localGet(this.reg[r]!); }
  private set(r: number): void { this.code.localSet(this.reg[r]!); }

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

  /** Set while emitting the slow copy of a charge unit (not counted in the statistics). */
  private copying = false;

  /** Blocks inside loops (their access sites cache in locals). */
  private inLoop: Uint8Array = new Uint8Array(0);
  /** Whether the block being emitted is inside a loop. */
  private curInLoop = false;
  private readonly loopSites: Site[] = [];

  /** A new access site of `size` bytes: its cache in globals, and in locals too inside a loop. */
  private newSite(size: number): Site {
    const g = this.pc.site(size);
    if (!this.curInLoop) return { ...g, loLocal: -1, spanLocal: -1 };
    const site: Site = { ...g, loLocal: this.m.local(this.def, 'i64', 'site.lo'), spanLocal: this.m.local(this.def, 'i64', 'site.span') };
    this.loopSites.push(site);
    return site;
  }

  /** Pushes `ea - site.lo >u site.span` (a miss). */
  private siteMiss(site: Site, ea: () => void): void {
    const c = this.code;
    ea();
    if (site.loLocal >= 0) c.localGet(site.loLocal);
    else c.globalGet(site.lo);
    c.op('i64.sub');
    if (site.spanLocal >= 0) c.localGet(site.spanLocal);
    else c.globalGet(site.span);
    c.op('i64.gt_u');
  }

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

  private syncBudgetOut(): void {
    if (this.bud < 0) return;
    this.code.localGet(this.bud);
    this.code.globalSet(this.pc.budget);
  }

  private syncBudgetIn(): void {
    if (this.bud < 0) return;
    this.code.globalGet(this.pc.budget);
    this.code.localSet(this.bud);
  }

  private returnSequence(): void {
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
      case 'alu': this.alu(insn); break;
      case 'neg':
        if (insn.wide) {
          c.i64(0);
          this.get(insn.dst);
          c.op('i64.sub');
        } else {
          c.i32(0);
          this.get(insn.dst);
          c.op('i32.wrap_i64');
          c.op('i32.sub');
          c.op('i64.extend_i32_u');
        }
        this.set(insn.dst);
        break;
      case 'endian': this.endian(insn); break;
      case 'lddw':
        c.i64Pair(this.prog.imm[pc]!, this.prog.imm[pc + 1]!);
        this.set(insn.dst);
        break;
      case 'ldx': this.load(insn, pc); break;
      case 'st': case 'stx': this.store(insn, pc); break;
      case 'atomic': this.atomic(insn, pc); break;
      case 'call':
        if (insn.src === 1) this.localCall(pc, pc + 1 + insn.imm);
        else this.helperCall(pc, insn.imm);
        break;
      case 'callx': this.callx(pc, insn.dst); break;
      case 'ldabs': case 'ldind': this.legacyLoad(insn, pc); break;
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

  private lastLookupInline = false;

  // ---- ALU ------------------------------------------------------------------

  private alu(i: AluInsn): void {
    const c = this.code;
    const { dst, src, imm, wide, useReg } = i;
    switch (i.op) {
      case 'mov':
        if (useReg) {
          this.get(src);
          if (!wide) {
            c.op('i32.wrap_i64');
            c.op('i64.extend_i32_u');
          }
        } else {
          c.i64(wide ? imm : imm >>> 0);
        }
        this.set(dst);
        return;
      case 'movsx8': case 'movsx16': case 'movsx32': {
        this.get(src);
        if (wide) {
          c.op(i.op === 'movsx8' ? 'i64.extend8_s' : i.op === 'movsx16' ? 'i64.extend16_s' : 'i64.extend32_s');
        } else {
          c.op('i32.wrap_i64');
          if (i.op !== 'movsx32') c.op(i.op === 'movsx8' ? 'i32.extend8_s' : 'i32.extend16_s');
          c.op('i64.extend_i32_u');
        }
        this.set(dst);
        return;
      }
      case 'div': case 'mod': case 'sdiv': case 'smod':
        if (wide) this.divmod64(i);
        else this.divmod32(i);
        return;
      default: {
        const op = ALU_OP[i.op]!;
        this.get(dst);
        if (wide) {
          if (useReg) this.get(src);
          else c.i64(imm);
          c.op(`i64.${op}` as OpName);
        } else {
          c.op('i32.wrap_i64');
          if (useReg) {
            this.get(src);
            c.op('i32.wrap_i64');
          } else {
            c.i32(imm);
          }
          c.op(`i32.${op}` as OpName);
          c.op('i64.extend_i32_u');
        }
        this.set(dst);
      }
    }
  }

  /** 64-bit division and modulo with RFC 9669's rules for 0 and INT64_MIN / -1. */
  private divmod64(i: AluInsn): void {
    const c = this.code;
    const { dst, src, imm } = i;
    const signed = i.op === 'sdiv' || i.op === 'smod';
    const isDiv = i.op === 'div' || i.op === 'sdiv';
    const wasm = (isDiv ? (signed ? 'i64.div_s' : 'i64.div_u') : (signed ? 'i64.rem_s' : 'i64.rem_u')) as OpName;
    if (!i.useReg) {
      if (imm === 0) {
        if (isDiv) {
          c.i64(0);
          this.set(dst);
        }
        return;
      }
      if (signed && imm === -1) {
        if (isDiv) {
          c.i64(0);
          this.get(dst);
          c.op('i64.sub');
        } else {
          c.i64(0);
        }
        this.set(dst);
        return;
      }
      this.get(dst);
      c.i64(imm);
      c.op(wasm);
      this.set(dst);
      return;
    }
    if (signed && isDiv) {
      // src in {0, -1}: 0 or -dst; otherwise div_s.
      this.get(src);
      c.i64(1);
      c.op('i64.add');
      c.i64(1);
      c.op('i64.le_u');
      c.if(BLOCK_I64);
      c.i64(0);
      c.i64(0);
      this.get(dst);
      c.op('i64.sub');
      this.get(src);
      c.op('i64.eqz');
      c.op('select');
      c.else();
      this.get(dst);
      this.get(src);
      c.op(wasm);
      c.end();
      this.set(dst);
      return;
    }
    this.get(src);
    c.op('i64.eqz');
    c.if(BLOCK_I64);
    if (isDiv) c.i64(0);
    else this.get(dst);
    c.else();
    this.get(dst);
    this.get(src);
    c.op(wasm);
    c.end();
    this.set(dst);
  }

  /** 32-bit division and modulo; the result is zero-extended even when the divisor is 0. */
  private divmod32(i: AluInsn): void {
    const c = this.code;
    const { dst, src, imm } = i;
    const signed = i.op === 'sdiv' || i.op === 'smod';
    const isDiv = i.op === 'div' || i.op === 'sdiv';
    const wasm = (isDiv ? (signed ? 'i32.div_s' : 'i32.div_u') : (signed ? 'i32.rem_s' : 'i32.rem_u')) as OpName;
    const a = () => {
      this.get(dst);
      c.op('i32.wrap_i64');
    };
    const b = () => {
      this.get(src);
      c.op('i32.wrap_i64');
    };
    if (!i.useReg) {
      if (imm === 0) {
        if (isDiv) c.i64(0);
        else {
          a();
          c.op('i64.extend_i32_u');
        }
      } else if (signed && imm === -1) {
        if (isDiv) {
          c.i32(0);
          a();
          c.op('i32.sub');
          c.op('i64.extend_i32_u');
        } else {
          c.i64(0);
        }
      } else {
        a();
        c.i32(imm);
        c.op(wasm);
        c.op('i64.extend_i32_u');
      }
      this.set(dst);
      return;
    }
    if (signed && isDiv) {
      b();
      c.i32(1);
      c.op('i32.add');
      c.i32(1);
      c.op('i32.le_u');
      c.if(BLOCK_I64);
      c.i32(0);
      c.i32(0);
      a();
      c.op('i32.sub');
      b();
      c.op('i32.eqz');
      c.op('select');
      c.op('i64.extend_i32_u');
      c.else();
      a();
      b();
      c.op(wasm);
      c.op('i64.extend_i32_u');
      c.end();
      this.set(dst);
      return;
    }
    b();
    c.op('i32.eqz');
    c.if(BLOCK_I64);
    if (isDiv) c.i64(0);
    else {
      a();
      c.op('i64.extend_i32_u');
    }
    c.else();
    a();
    b();
    c.op(wasm);
    c.op('i64.extend_i32_u');
    c.end();
    this.set(dst);
  }

  private bswap32(): void {
    // x on the stack (i32) -> byte-swapped, using a temp.
    const c = this.code;
    const t = this.temp('swap', 'i32');
    c.localTee(t);
    c.i32(8);
    c.op('i32.rotl');
    c.i32(0x00ff00ff);
    c.op('i32.and');
    c.localGet(t);
    c.i32(8);
    c.op('i32.rotr');
    c.i32(0xff00ff00 | 0);
    c.op('i32.and');
    c.op('i32.or');
  }

  private bswap16(): void {
    // x on the stack (i32, any upper bits) -> low 16 bits byte-swapped, upper zero.
    const c = this.code;
    const t = this.temp('swap', 'i32');
    c.localTee(t);
    c.i32(0xff);
    c.op('i32.and');
    c.i32(8);
    c.op('i32.shl');
    c.localGet(t);
    c.i32(8);
    c.op('i32.shr_u');
    c.i32(0xff);
    c.op('i32.and');
    c.op('i32.or');
  }

  private bswap64(): void {
    // x on the stack (i64) -> byte-swapped, through one SIMD shuffle.
    const c = this.code;
    const t = this.temp('swap', 'i64');
    c.localTee(t);
    c.op('i64x2.splat');
    c.localGet(t);
    c.op('i64x2.splat');
    c.shuffle([7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8]);
    c.op('i64x2.extract_lane', 0);
  }

  private endian(i: EndianInsn): void {
    const c = this.code;
    const d = i.dst;
    if (i.order === 'le') {
      if (i.bits === 64) return;
      this.get(d);
      c.i64(i.bits === 16 ? 0xffff : 0xffffffff);
      c.op('i64.and');
      this.set(d);
      return;
    }
    this.get(d);
    if (i.bits === 64) {
      this.bswap64();
    } else {
      c.op('i32.wrap_i64');
      if (i.bits === 16) this.bswap16();
      else this.bswap32();
      c.op('i64.extend_i32_u');
    }
    this.set(d);
  }

  // ---- memory -------------------------------------------------------------

  /** Whether the access at `pc` gets the full region check: checked code, or an access the verifier did not prove. */
  private fullCheck(pc: number): boolean {
    return this.v.checked || (this.v.safe !== undefined && !this.v.safe.has(pc));
  }

  /**
   * Pushes the i32 address of an access of `size` bytes at `reg + off`
   * (region-checked in checked mode and for unproven accesses, guarded by
   * the page rights otherwise) and returns the static offset the load or
   * store must add. `rmw`: a read-modify-write (the guard needs both rights;
   * in checked mode the caller checks the read first).
   */
  private address(reg: number, off: number, size: number, write: boolean, pc: number, rmw = false): number {
    const c = this.code;
    if (reg === 10 && !this.r10Written && off >= -STACK_SIZE && off + size <= 0) {
      // Inside this function's own frame: always inside the stack region.
      c.localGet(this.fpb);
      return off + STACK_SIZE;
    }
    if (!this.fullCheck(pc)) {
      const need = rmw ? PageRights.read | PageRights.write : write ? PageRights.write : PageRights.read;
      const base = this.temp('base', 'i32');
      this.get(reg);
      c.op('i32.wrap_i64');
      if (!guardsBase(off, size)) {
        c.localTee(base);
        c.i32(off);
        c.op('i32.add');
        this.guardTop(size, need, pc, () => this.get(reg), off);
      } else if ((this.guarded[reg]! & need) !== need) {
        // A small offset: the base's page is tested, once per block and register for all of them.
        c.localTee(base);
        this.guardTop(size, need, pc, () => this.get(reg), off);
        this.guarded[reg]! |= need;
      } else {
        c.localSet(base);
      }
      // The access itself adds a non-negative offset in the instruction (an address the guard
      // let through cannot have wrapped: a sum of 4 GiB or more wraps into the guard page).
      c.localGet(base);
      if (off >= 0) return off;
      c.i32(off);
      c.op('i32.add');
      return 0;
    }
    const ea = this.temp('ea', 'i64');
    this.get(reg);
    if (off !== 0) {
      c.i64(off);
      c.op('i64.add');
    }
    c.localSet(ea);
    this.siteCheck(ea, size, write, pc, () => {
      this.get(reg);
      c.i32(off);
    });
    c.localGet(ea);
    c.op('i32.wrap_i64');
    return 0;
  }

  /**
   * The page guard of a proven access at the i32 address in local `a` (the
   * low 32 bits of `reg + off`, as the interpreter takes them): `if
   * ((pages[a >>> 16] & need) != need)` trap, leaving the pointer (`reg`
   * pushes it), `off` and the access in the `fault*` globals for the runtime
   * to report checked mode's fault (src/vm/interpreter.ts guardFault). A
   * trap rather than a call keeps the fast path free of spills. An access of
   * up to 8 bytes may spill into the next page only where that page's first
   * bytes are unused (PAGE_GAP in src/vm/memory.ts).
   */
  private guard(a: number, size: number, need: number, pc: number, reg: () => void, off: number): void {
    this.code.localGet(a);
    this.guardTop(size, need, pc, reg, off);
  }

  /** {@link guard} of the i32 address on top of the stack (consumed). */
  private guardTop(size: number, need: number, pc: number, reg: () => void, off: number): void {
    const c = this.code;
    if (!this.copying) this.pc.stats.guardedAccesses++;
    c.i32(16);
    c.op('i32.shr_u');
    c.mem('i32.load8_u', 0, PAGE_TABLE);
    c.i32(need);
    c.op('i32.and');
    if (need === PageRights.read || need === PageRights.write) {
      c.op('i32.eqz');
    } else {
      c.i32(need);
      c.op('i32.ne');
    }
    c.if();
    reg();
    c.globalSet(this.pc.global(ImportName.faultReg, 'i64', true));
    c.i32(off);
    c.globalSet(this.pc.global(ImportName.faultOff, 'i32', true));
    c.i32(guardInfo(size, need, pc));
    c.globalSet(this.pc.global(ImportName.faultInfo, 'i32', true));
    c.op('unreachable');
    c.end();
  }

  /**
   * `if (ea - site.lo >u site.span) refill-or-fault`, where `args` pushes
   * the (reg i64, off i32) the `access` import takes.
   */
  private siteCheck(ea: number, size: number, write: boolean, pc: number, args: () => void): void {
    const c = this.code;
    const site = this.newSite(size);
    if (!this.copying) this.pc.stats.checkedAccesses++;
    this.siteMiss(site, () => c.localGet(ea));
    c.if();
    // A miss: the region table in WebAssembly, then the runtime (which refreshes it or throws the fault).
    const packed = this.temp('packed', 'i64');
    c.localGet(ea);
    c.i32(size);
    c.i32(write ? RegionAccess.write : RegionAccess.read);
    c.call(this.pc.regionFind());
    c.localTee(packed);
    c.i64(-1);
    c.op('i64.eq');
    c.if();
    args();
    c.i32(accessInfo(size, write, pc));
    c.call(this.pc.importFunc(ImportName.access, ['i64', 'i32', 'i32'], ['i64']));
    c.localSet(packed);
    c.end();
    c.localGet(packed);
    this.storeSite(site);
    c.end();
  }

  /** Pops a packed (lo | span << 32) region and stores it in `site`. */
  private storeSite(site: Site): void {
    const c = this.code;
    const t = this.temp('packed', 'i64');
    c.localTee(t);
    c.i64(0xffffffff);
    c.op('i64.and');
    if (site.loLocal >= 0) c.localTee(site.loLocal);
    c.globalSet(site.lo);
    c.localGet(t);
    c.i64(32);
    c.op('i64.shr_u');
    if (site.spanLocal >= 0) c.localTee(site.spanLocal);
    c.globalSet(site.span);
  }

  private load(i: LoadInsn, pc: number): void {
    const c = this.code;
    const s = this.address(i.src, i.off, i.size, false, pc);
    const name: OpName = i.size === 8 ? 'i64.load'
      : i.size === 4 ? (i.signed ? 'i64.load32_s' : 'i64.load32_u')
        : i.size === 2 ? (i.signed ? 'i64.load16_s' : 'i64.load16_u')
          : (i.signed ? 'i64.load8_s' : 'i64.load8_u');
    c.mem(name, 0, s);
    this.set(i.dst);
  }

  private store(i: StoreImmInsn | StoreRegInsn, pc: number): void {
    const c = this.code;
    const s = this.address(i.dst, i.off, i.size, true, pc);
    if (i.kind === 'st') c.i64(i.imm);
    else this.get(i.src);
    c.mem(i.size === 8 ? 'i64.store' : i.size === 4 ? 'i64.store32' : i.size === 2 ? 'i64.store16' : 'i64.store8', 0, s);
  }

  private atomic(i: AtomicInsn, pc: number): void {
    const c = this.code;
    const size = i.size;
    const log = Math.log2(size);
    const addr = this.temp('addr', 'i32');
    const plainLoad: OpName = size === 8 ? 'i64.load' : size === 4 ? 'i64.load32_u' : size === 2 ? 'i64.load16_u' : 'i64.load8_u';
    const plainStore: OpName = size === 8 ? 'i64.store' : size === 4 ? 'i64.store32' : size === 2 ? 'i64.store16' : 'i64.store8';
    const setAddr = (s: number) => {
      if (s !== 0) {
        c.i32(s);
        c.op('i32.add');
      }
      c.localSet(addr);
    };
    /** Emits `aligned ? atomicPart : plainPart` for shared memory, plain otherwise. */
    const choose = (atomicPart: () => void, plainPart: () => void, result: boolean) => {
      if (!this.v.shared) {
        plainPart();
        return;
      }
      c.localGet(addr);
      c.i32(size - 1);
      c.op('i32.and');
      c.op('i32.eqz');
      c.if(result ? BLOCK_I64 : undefined);
      atomicPart();
      c.else();
      plainPart();
      c.end();
    };
    if (i.op === 'load_acq') {
      setAddr(this.address(i.src, i.off, size, false, pc));
      const atomicLoad: OpName = size === 8 ? 'i64.atomic.load' : size === 4 ? 'i64.atomic.load32_u' : size === 2 ? 'i64.atomic.load16_u' : 'i64.atomic.load8_u';
      choose(() => { c.localGet(addr); c.mem(atomicLoad, log, 0); }, () => { c.localGet(addr); c.mem(plainLoad, 0, 0); }, true);
      this.set(i.dst);
      return;
    }
    if (i.op === 'store_rel') {
      setAddr(this.address(i.dst, i.off, size, true, pc));
      const atomicStore: OpName = size === 8 ? 'i64.atomic.store' : size === 4 ? 'i64.atomic.store32' : size === 2 ? 'i64.atomic.store16' : 'i64.atomic.store8';
      choose(
        () => { c.localGet(addr); this.get(i.src); c.mem(atomicStore, log, 0); },
        () => { c.localGet(addr); this.get(i.src); c.mem(plainStore, 0, 0); },
        false,
      );
      return;
    }
    // Read-modify-write: the interpreter checks the read, then the write (the guard tests both rights at once).
    if (this.fullCheck(pc) && !(i.dst === 10 && !this.r10Written && i.off >= -STACK_SIZE && i.off + size <= 0)) {
      this.address(i.dst, i.off, size, false, pc);
      c.op('drop');
    }
    setAddr(this.address(i.dst, i.off, size, true, pc, true));
    const old = this.temp('old', 'i64');
    const w32 = size === 4;
    const rmw = (op: string): OpName => (w32 ? `i64.atomic.rmw32.${op}_u` : `i64.atomic.rmw.${op}`) as OpName;
    if (i.op === 'cmpxchg') {
      choose(
        () => { c.localGet(addr); this.get(0); this.get(i.src); c.mem(rmw('cmpxchg'), log, 0); },
        () => {
          c.localGet(addr);
          c.mem(plainLoad, 0, 0);
          c.localTee(old);
          this.get(0);
          if (w32) {
            c.i64(0xffffffff);
            c.op('i64.and');
          }
          c.op('i64.eq');
          c.if();
          c.localGet(addr);
          this.get(i.src);
          c.mem(plainStore, 0, 0);
          c.end();
          c.localGet(old);
        },
        true,
      );
      this.set(0);
      return;
    }
    const opName = i.op === 'xchg' ? 'xchg' : i.op;
    choose(
      () => { c.localGet(addr); this.get(i.src); c.mem(rmw(opName), log, 0); },
      () => {
        c.localGet(addr);
        c.mem(plainLoad, 0, 0);
        c.localSet(old);
        c.localGet(addr);
        if (i.op === 'xchg') {
          this.get(i.src);
        } else {
          c.localGet(old);
          this.get(i.src);
          c.op(`i64.${i.op}` as OpName);
        }
        c.mem(plainStore, 0, 0);
        c.localGet(old);
      },
      true,
    );
    if (i.fetch) this.set(i.src);
    else c.op('drop');
  }

  // ---- calls --------------------------------------------------------------

  /** Stores registers into the register file before a helper call. */
  private spill(from: number, to: number): void {
    const c = this.code;
    for (let r = from; r <= to; r++) {
      c.globalGet(this.pc.regs);
      this.get(r);
      c.mem('i64.store', 3, 8 * r);
    }
  }

  /** Loads registers back from the register file after a helper call. */
  private reload(from: number, to: number): void {
    const c = this.code;
    for (let r = from; r <= to; r++) {
      c.globalGet(this.pc.regs);
      c.mem('i64.load', 3, 8 * r);
      this.set(r);
    }
  }

  /** The generic helper call: spill, call the import, reload. */
  private genericHelper(pc: number, id: number): void {
    const c = this.code;
    // The interpreter's exact register file: callbacks see every register and may leave r1..r5 changed.
    this.spill(0, 10);
    c.localGet(this.fp);
    c.globalSet(this.pc.fpNow);
    this.syncBudgetOut();
    c.i32(pc);
    c.call(this.pc.helper(id));
    this.syncBudgetIn();
    this.reload(0, 5);
  }

  private helperCall(pc: number, id: number): void {
    const c = this.code;
    this.lastLookupInline = false;
    if (id === BpfFunc.tail_call) {
      this.tailCall(pc);
      return;
    }
    const name = this.pc.env.helperName(id);
    if (id === BpfFunc.get_smp_processor_id && name === 'bpf_get_smp_processor_id') {
      c.globalGet(this.pc.cpu);
      c.op('i64.extend_i32_u');
      this.set(0);
      return;
    }
    if (name !== undefined && ARGLESS.get(id) === name) {
      this.syncBudgetOut();
      c.i32(pc);
      c.call(this.pc.helper(id));
      this.syncBudgetIn();
      this.reload(0, 0);
      return;
    }
    if (id === BpfFunc.map_lookup_elem && name === 'bpf_map_lookup_elem' && this.inlineLookup(pc)) {
      this.lastLookupInline = true;
      return;
    }
    this.genericHelper(pc, id);
  }

  /** Facts of the map whose pointer register `r` holds as a known constant. */
  private constMap(r: number): MapFacts | undefined {
    const k = this.consts[r];
    if (k === null || k === undefined || k[1] !== 0 || k[0] === 0) return undefined;
    return this.pc.env.mapAt?.(k[0] >>> 0);
  }

  /**
   * `bpf_map_lookup_elem` on a map whose pointer is a constant, from the
   * layouts of docs/maps.md read at compile time:
   * - array: `r0 = key < max_entries ? storage + key * stride : 0`;
   * - hash: a call of the map's lookup function (jhash, then the chain).
   * The key pointer goes through an access-site cache whose miss runs the
   * real helper (same checks, same messages): the key is a helper argument,
   * checked in every mode.
   */
  private inlineLookup(pc: number): boolean {
    const facts = this.constMap(1);
    if (facts === undefined) return false;
    const c = this.code;
    let fast: () => void;
    let keySize: number;
    let needsCheck = true;
    if ((facts.type === MapType.ARRAY || facts.type === MapType.PERCPU_ARRAY) && facts.keySize === 4) {
      const percpu = facts.type === MapType.PERCPU_ARRAY;
      keySize = 4;
      if (percpu) needsCheck = true;
      const key = this.temp('key', 'i32');
      fast = () => {
        this.get(2);
        c.op('i32.wrap_i64');
        c.op('i32.load', 0, 0);
        c.localTee(key);
        c.i32(facts.maxEntries);
        c.op('i32.lt_u');
        c.if(BLOCK_I64);
        c.i64(facts.storage);
        c.localGet(key);
        c.op('i64.extend_i32_u');
        c.i64(facts.stride * facts.cpus);
        c.op('i64.mul');
        c.op('i64.add');
        if (percpu) {
          c.globalGet(this.pc.cpu);
          c.op('i64.extend_i32_u');
          c.i64(facts.stride);
          c.op('i64.mul');
          c.op('i64.add');
        }
        c.else();
        c.i64(0);
        c.end();
        this.set(0);
      };
    } else if ((facts.type === MapType.HASH || facts.type === MapType.PERCPU_HASH) && facts.keySize <= MAX_INLINE_KEY) {
      keySize = facts.keySize;
      const lookup = this.pc.hashLookup(facts);
      const t = this.temp('found', 'i64');
      fast = () => {
        this.get(2);
        c.op('i32.wrap_i64');
        c.call(lookup);
        c.localTee(t);
        c.i64(-1);
        c.op('i64.eq');
        c.if();
        this.genericHelper(pc, 1);
        c.else();
        c.localGet(t);
        this.set(0);
        c.end();
      };
    } else if (facts.type === MapType.LPM_TRIE && facts.keySize > 4) {
      keySize = facts.keySize;
      const lookup = this.pc.lpmLookup(facts);
      const t = this.temp('found', 'i64');
      fast = () => {
        this.get(2);
        c.op('i32.wrap_i64');
        c.call(lookup);
        c.localTee(t);
        c.i64(-1);
        c.op('i64.eq');
        c.if();
        this.genericHelper(pc, 1);
        c.else();
        c.localGet(t);
        this.set(0);
        c.end();
      };
    } else {
      return false;
    }
    if (!this.copying) this.pc.stats.inlineLookups++;
    if (!needsCheck) {
      fast();
      return true;
    }
    const site = this.newSite(keySize);
    if (!this.copying) this.pc.stats.checkedAccesses++;
    this.siteMiss(site, () => this.get(2));
    if (facts.type === MapType.PERCPU_ARRAY) {
      // A CPU without a slot: the helper raises the error.
      c.globalGet(this.pc.cpu);
      c.i32(facts.cpus);
      c.op('i32.ge_u');
      c.op('i32.or');
    }
    c.if();
    this.genericHelper(pc, 1);
    // The helper accepted the key pointer: remember its region for the fast path.
    this.get(2);
    c.i32(keySize);
    c.i32(RegionAccess.read);
    c.call(this.pc.regionFind());
    const t = this.temp('packed', 'i64');
    c.localTee(t);
    c.i64(-1);
    c.op('i64.ne');
    c.if();
    c.localGet(t);
    this.storeSite(site);
    c.end();
    c.else();
    fast();
    c.end();
    return true;
  }

  /**
   * `bpf_tail_call(ctx, map, index)`: jump to the target's body, or fall
   * through. The table holds bodies at slot 2 * program id (stubs that
   * compile the body on first use until then); with a constant prog array
   * the id is read from its storage in WebAssembly and the runtime is asked
   * only when the slot lies beyond the table.
   */
  private tailCall(pc: number): void {
    const c = this.code;
    const slot = this.temp('target', 'i32');
    if (!this.pc.usesTable) {
      this.m.importTable(ENV, ImportName.table, { min: 0 });
      this.pc.usesTable = true;
    }
    const resolve = () => {
      this.get(2);
      c.op('i32.wrap_i64');
      this.get(2);
      c.i64(32);
      c.op('i64.shr_u');
      c.op('i32.wrap_i64');
      this.get(3);
      c.op('i32.wrap_i64');
      c.i32(pc);
      c.call(this.pc.importFunc(ImportName.tailCall, ['i32', 'i32', 'i32', 'i32'], ['i32']));
      c.localSet(slot);
    };
    const jump = () => {
      c.localGet(slot);
      c.i32(0);
      c.op('i32.ge_s');
      c.if();
      c.globalGet(this.pc.tailCount);
      c.i32(1);
      c.op('i32.add');
      c.globalSet(this.pc.tailCount);
      this.syncBudgetOut();
      if (this.v.checked) {
        for (let r = 0; r <= 9; r++) this.get(r);
        c.localGet(this.fp);
        c.localGet(slot);
        c.returnCallIndirect(this.pc.bodyType);
      } else {
        for (let r = 1; r <= 5; r++) this.get(r);
        c.localGet(this.fp);
        c.localGet(slot);
        c.returnCallIndirect(this.pc.bodyType);
      }
      c.end();
    };
    c.globalGet(this.pc.tailCount);
    c.i32(MAX_TAIL_CALLS);
    c.op('i32.lt_u');
    c.if();
    const facts = this.constMap(2);
    if (facts !== undefined && facts.type === MapType.PROG_ARRAY) {
      const id = this.temp('index', 'i32');
      // index < max_entries (the low 32 bits of r3, as the interpreter takes them)
      this.get(3);
      c.op('i32.wrap_i64');
      c.localTee(id);
      c.i32(facts.maxEntries);
      c.op('i32.lt_u');
      c.if();
      c.localGet(id);
      c.i32(2);
      c.op('i32.shl');
      c.mem('i32.load', 2, facts.storage);
      c.localTee(id);
      c.if();
      // slot = 2 * id; ask the runtime when the table has no body there yet.
      c.localGet(id);
      c.i32(1);
      c.op('i32.shl');
      // Every slot of the table holds the program's body or a stub that compiles it first;
      // only a slot beyond the table's end asks the runtime (which grows the table).
      c.localTee(slot);
      c.op('table.size', 0);
      c.op('i32.ge_u');
      c.if();
      resolve();
      c.end();
      jump();
      c.end();
      c.end();
    } else {
      resolve();
      jump();
    }
    c.end();
  }

  /** `callx rX`: the helper id is in a register (resolved by the runtime). */
  private callx(pc: number, dst: number): void {
    const c = this.code;
    this.spill(0, 10);
    c.localGet(this.fp);
    c.globalSet(this.pc.fpNow);
    this.syncBudgetOut();
    this.get(dst);
    c.op('i32.wrap_i64');
    c.i32(pc);
    c.call(this.pc.importFunc(ImportName.callx, ['i32', 'i32'], ['i32']));
    this.syncBudgetIn();
    this.reload(0, 5);
    c.if();
    this.tailCall(pc);
    c.end();
  }

  /** bpf-to-bpf call: a new frame 512 bytes below, at most 8 frames deep. */
  private localCall(pc: number, target: number): void {
    const c = this.code;
    const f = this.pc.funcs.get(target);
    if (f === undefined) throw new Error(`internal error: no function for slot ${target}`);
    c.localGet(this.fp);
    c.i32(STACK_SIZE);
    c.op('i32.sub');
    c.globalGet(this.pc.stackLimit);
    c.op('i32.le_u');
    c.if();
    c.i32(pc);
    c.call(this.pc.importFunc(ImportName.tooDeep, ['i32'], []));
    c.op('unreachable');
    c.end();
    this.syncBudgetOut();
    const full = this.v.checked;
    for (let r = full ? 0 : 1; r <= (full ? 9 : 5); r++) this.get(r);
    c.localGet(this.fp);
    c.i32(STACK_SIZE);
    c.op('i32.sub');
    c.call(f);
    for (let r = full ? 5 : 0; r >= 0; r--) this.set(r);
    this.syncBudgetIn();
  }

  /**
   * Legacy `ldabs`/`ldind`: big-endian packet data of the `__sk_buff` in r6
   * (`data` at 76, `data_end` at 80); out of bounds ends the run with r0 = 0.
   */
  private legacyLoad(i: LdAbsInsn | LdIndInsn, pc: number): void {
    const c = this.code;
    const size = i.size;
    const ctx = this.temp('addr', 'i32');
    const data = this.temp('ea', 'i64');
    const a = this.temp('old', 'i64');
    const full = this.fullCheck(pc);
    if (full) {
      // The context's data/data_end words: r6 + 76 when r6's high word is 0, else -1 + 76 (outside every region).
      const ea = this.temp('ctx', 'i64');
      this.get(6);
      c.i64(32);
      c.op('i64.shr_u');
      c.op('i64.eqz');
      c.if(BLOCK_I64);
      this.get(6);
      c.else();
      c.i64(-1);
      c.end();
      c.i64(76);
      c.op('i64.add');
      c.localSet(ea);
      this.siteCheck(ea, 8, false, pc, () => {
        this.get(6);
        c.i32(76);
      });
      c.localGet(ea);
      c.op('i32.wrap_i64');
      c.localSet(ctx);
    } else {
      this.get(6);
      c.op('i32.wrap_i64');
      c.i32(76);
      c.op('i32.add');
      c.localSet(ctx);
      this.guard(ctx, 8, PageRights.read, pc, () => this.get(6), 76);
    }
    // a = data + offset; fail when offset < 0 or a + size > data_end.
    c.localGet(ctx);
    c.mem('i64.load32_u', 0, 0);
    c.localSet(data);
    const off = this.temp('off', 'i64');
    if (i.kind === 'ldind') {
      this.get(i.src);
      c.op('i32.wrap_i64');
      c.i32(i.imm);
      c.op('i32.add');
      c.op('i64.extend_i32_s');
    } else {
      c.i64(i.imm);
    }
    c.localTee(off);
    c.i64(0);
    c.op('i64.lt_s');
    c.localGet(data);
    c.localGet(off);
    c.op('i64.add');
    c.localTee(a);
    c.i64(size);
    c.op('i64.add');
    c.localGet(ctx);
    c.mem('i64.load32_u', 0, 4);
    c.op('i64.gt_u');
    c.op('i32.or');
    c.if();
    c.i64(0);
    this.set(0);
    if (this.isMain) {
      this.returnSequence();
    } else {
      this.syncBudgetOut();
      c.i32(pc);
      c.call(this.pc.importFunc(ImportName.abortRun, ['i32'], []));
      c.op('unreachable');
    }
    c.end();
    if (full) {
      this.siteCheck(a, size, false, pc, () => {
        c.localGet(a);
        c.i32(0);
      });
    } else {
      const a32 = this.temp('guarded', 'i32');
      c.localGet(a);
      c.op('i32.wrap_i64');
      c.localSet(a32);
      this.guard(a32, size, PageRights.read, pc, () => c.localGet(a), 0);
    }
    c.localGet(a);
    c.op('i32.wrap_i64');
    if (size === 1) {
      c.mem('i64.load8_u', 0, 0);
    } else {
      c.mem(size === 2 ? 'i32.load16_u' : 'i32.load', 0, 0);
      if (size === 2) this.bswap16();
      else this.bswap32();
      c.op('i64.extend_i32_u');
    }
    this.set(0);
  }
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

