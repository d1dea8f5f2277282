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
 * This file holds the module: imports, globals and the entry, run, batch
 * and callback wrappers. One function's code comes from `FnEmitter`
 * (function-emitter.ts), with the instructions of each concern in
 * emit-alu.ts, emit-memory.ts (addresses, checks, loads, stores, atomics)
 * and emit-calls.ts (helpers, inline lookups, tail calls, bpf-to-bpf calls,
 * legacy packet loads).
 *
 * See docs/jit.md for the whole design.
 */
import { VmError } from '../errors.js';
import { STACK_SIZE } from '../isa/opcode.js';
import { MapType } from '../isa/uapi.js';
import type { PreparedProgram } from '../vm/prepared-program.js';
import { FnEmitter } from './function-emitter.js';
import { emitHashLookup, emitLpmLookup, emitRegionFind } from './inline.js';
import { BUDGET_LEFT_OFFSET, callbackExport, ENV, ExportName, helperImport, ImportName } from './module-abi.js';
import type { JitVariant } from './module-abi.js';
import type { Code, FuncRef, GlobalRef } from './wasm/code.js';
import { ModuleBuilder } from './wasm/module.js';
import type { FuncDef, SourcePoint } from './wasm/module.js';
import type { ValType } from './wasm/opcodes.js';

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

/** Bytes of a CPU's stack region. */
const MAX_STACK = 8 * STACK_SIZE;

/** Compiles `prog` in `variant`. Throws a {@link VmError} for instructions the JIT cannot run. */
export function compileProgram(prog: PreparedProgram, variant: JitVariant, env: CompileEnv): CompiledModule {
  return new ProgramCompiler(prog, variant, env).compile();
}

/**
 * Module-wide state of one compilation.
 *
 * @internal Exported for function-emitter.ts and the emit-* modules, which use its imports, globals and statistics.
 */
export class ProgramCompiler {
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
