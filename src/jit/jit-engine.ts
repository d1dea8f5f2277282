/**
 * The JIT engine: compiles programs on first use, instantiates them per
 * CPU, provides the imports compiled code calls (helpers, slow-path region
 * checks, tail-call resolution, faults) and turns whatever escapes a run
 * into the interpreter's `VmError`s.
 *
 * State is kept per machine (compiled modules, cached by program and
 * variant) and per CPU and mode (a "context": the globals compiled code
 * imports, the tail-call table and the instances). Nothing here touches a
 * Node built-in: it runs in a browser as well.
 */
import { VmError } from '../errors.js';
import { MAX_CALL_FRAMES, STACK_SIZE } from '../isa/opcode.js';
import type { Engine, LoadedRunner } from '../vm/engine.js';
import { interpreterEngine } from '../vm/engine.js';
import { DEFAULT_BUDGET, guardFault } from '../vm/interpreter.js';
import type { RunOptions, RunResult, SafeAccesses } from '../vm/interpreter.js';
import type { Cpu, Machine } from '../vm/machine.js';
import { legacyLoadAddress, SKB_CTX_BYTES } from '../vm/legacy-load.js';
import { GUARD_SIZE } from '../vm/memory.js';
import type { AddressSpace, Region } from '../vm/memory.js';
import { FUNC_POINTER_BASE } from '../vm/prepared-program.js';
import type { PreparedProgram } from '../vm/prepared-program.js';
import { BUDGET_LEFT_OFFSET, callbackExport, ENV, ExportName, helperImport, ImportName, UNLIMITED_BUDGET, unpackAccessInfo, unpackGuardInfo, variantKey } from './module-abi.js';
import type { JitVariant } from './module-abi.js';
import { compileProgram } from './compile.js';
import { FIND_CACHE, FIND_CACHE_ENTRIES, REGION_ENTRY, RegionAccess } from './inline.js';
import type { CompiledModule, CompileEnv } from './compile.js';
import { mapFacts } from './facts.js';
import { ModuleBuilder } from './wasm/module.js';
import type { ValType } from './wasm/opcodes.js';
import { BpfFunc } from '../isa/uapi.js';

/** Options of a batch run. */
export interface BatchOptions {
  /** Bounds-check every access (default true). */
  checked?: boolean;
  /** Instruction budget of each run (default {@link DEFAULT_BUDGET} when checked, unlimited otherwise). */
  budget?: number;
  /** CPU (worker) index (default 0). */
  cpu?: number;
  /** Unchecked batches: the accesses the verifier proved safe (see `RunOptions.safeAccesses`). */
  safeAccesses?: SafeAccesses;
  /**
   * Return a view of the results in the address space (valid until the
   * next batch on this CPU) instead of a copy: no buffer allocated per
   * batch, which a stream of small batches pays for in garbage collection.
   */
  view?: boolean;
}

/** A program loaded on the JIT. */
export interface JitRunner extends LoadedRunner {
  /** Runs the program once (a `trace` option runs it on the interpreter instead). */
  run(options?: RunOptions): RunResult;
  /**
   * Runs the program once per context address (r1 = the address, r2..r5 =
   * 0) in one call into WebAssembly; returns each run's r0. A fault stops
   * the batch with a {@link BatchFaultError}: the run's `VmError`, which run
   * it was, and the r0s of the runs before it.
   */
  runBatch(ctxAddrs: Uint32Array, options?: BatchOptions): BigUint64Array;
  /** Compiles the program for a mode now (otherwise the first run does it); returns the module. */
  compile(options?: { checked?: boolean; budget?: boolean; safe?: ReadonlySet<number> }): CompiledModule;
  /**
   * Compiles and instantiates the program for a mode and CPU asynchronously,
   * so that `run` and `runBatch` need no synchronous compilation (which
   * browsers refuse on their main thread for modules above 4 KB). Tail-call
   * targets are still compiled when first reached.
   */
  prepare(options?: { checked?: boolean; budget?: number; cpu?: number; safeAccesses?: SafeAccesses }): Promise<void>;
}

/** The result word of a batch run that has not ended (an r0 no real program returns by chance). */
const NOT_RUN = 0xbad0_5eed_bad0_5eedn;
/** Each u32 half of {@link NOT_RUN}. */
const NOT_RUN_HALF = 0xbad0_5eed;

/**
 * A fault in run `index` of {@link JitRunner.runBatch}: the runs before it
 * completed with `done` (their r0s), the ones after it did not run.
 */
export class BatchFaultError extends VmError {
  constructor(readonly index: number, readonly done: BigUint64Array, readonly fault: VmError) {
    super(fault.reason, fault.location);
  }
}

/** Thrown by compiled code when a legacy packet load fails below the entry frame: the run ends with r0 = 0. */
class AbortRun {
  constructor(readonly pc: number) {}
}

/** A compiled module with its WebAssembly.Module. */
interface Compiled {
  readonly compiled: CompiledModule;
  readonly module: WebAssembly.Module;
  readonly tag: string;
  readonly prog: PreparedProgram;
}

/** Exports of an entry-role instance. */
interface EntryExports {
  run(budgetLo: number, budgetHi: number): bigint;
  batch(ctxs: number, n: number, results: number, budgetLo: number, budgetHi: number): void;
}

let tagCounter = 0;

/** Where the region table starts inside the NULL guard page (after the search cache, beyond NULL + any 16-bit offset). */
export const TABLE_IN_GUARD = FIND_CACHE + 4 * FIND_CACHE_ENTRIES;

/** Per-machine JIT state. */
class JitMachine {
  private readonly compiled = new Map<PreparedProgram, Map<string, Compiled>>();
  private readonly contexts = new Map<string, JitContext>();
  /** Contexts of unchecked runs given proven accesses, per resolver (its sets decide the variants). */
  private readonly guardedContexts = new WeakMap<SafeAccesses, Map<string, JitContext>>();
  /** Address of the region table compiled code searches on an access-site miss. */
  readonly regionTable = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  /** Number of regions in the table. */
  readonly regionCount = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  private table: Region | null = null;
  /** `space.generation` when the table was last written. */
  mirrored = -1;

  constructor(readonly machine: Machine) {}

  /**
   * Rewrites the region table (start, end, access bits; sorted like
   * `space.regions`) when regions were added since the last call (regions
   * of different page classes interleave, so a new one may land anywhere in
   * the order). The table lives in the upper half of the NULL guard page
   * (after the search cache), which no region can ever cover and which a
   * NULL pointer plus a 16-bit offset cannot reach, so the JIT leaves the
   * address space's layout untouched; a machine with more regions than fit
   * there gets the table in an internal region of its own.
   */
  syncRegions(): void {
    const space = this.machine.space;
    if (space.generation === this.mirrored) return;
    let regions = space.regions;
    let base = this.table?.start ?? TABLE_IN_GUARD;
    const capacity = this.table?.size ?? GUARD_SIZE - TABLE_IN_GUARD;
    if ((regions.length + 1) * REGION_ENTRY > capacity) {
      const entries = Math.max(4096, 2 * (regions.length + 1));
      this.table = space.allocate('jit-regions', 'internal', entries * REGION_ENTRY, { readable: false, writable: false });
      regions = space.regions;
      base = this.table.start;
    }
    const d = space.data;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i]!;
      const at = base + i * REGION_ENTRY;
      d.setUint32(at, r.start, true);
      d.setUint32(at + 4, r.start + r.size, true);
      d.setUint32(at + 8, (r.readable ? RegionAccess.read : 0) | (r.writable ? RegionAccess.write : 0), true);
    }
    this.mirrored = space.generation;
    if (this.regionTable.value !== base) this.regionTable.value = base;
    this.regionCount.value = regions.length;
  }

  /** Compiles (or returns the cached compilation of) `prog` in `variant`. */
  compile(prog: PreparedProgram, variant: JitVariant): Compiled {
    const cached = this.cached(prog, variant);
    if (cached !== undefined) return cached;
    const tag = `jit${++tagCounter}`;
    const compiled = compileProgram(prog, variant, this.env(prog, tag));
    return this.remember(prog, variant, { compiled, module: new WebAssembly.Module(compiled.bytes as Uint8Array<ArrayBuffer>), tag, prog });
  }

  /** Like {@link compile}, with the WebAssembly compilation off the calling thread (browsers refuse large synchronous compiles on their main thread). */
  async compileAsync(prog: PreparedProgram, variant: JitVariant): Promise<Compiled> {
    const cached = this.cached(prog, variant);
    if (cached !== undefined) return cached;
    const tag = `jit${++tagCounter}`;
    const compiled = compileProgram(prog, variant, this.env(prog, tag));
    const module = await WebAssembly.compile(compiled.bytes as Uint8Array<ArrayBuffer>);
    return this.cached(prog, variant) ?? this.remember(prog, variant, { compiled, module, tag, prog });
  }

  private cached(prog: PreparedProgram, variant: JitVariant): Compiled | undefined {
    return this.compiled.get(prog)?.get(variantKey(variant));
  }

  private remember(prog: PreparedProgram, variant: JitVariant, c: Compiled): Compiled {
    let byVariant = this.compiled.get(prog);
    if (byVariant === undefined) {
      byVariant = new Map();
      this.compiled.set(prog, byVariant);
    }
    byVariant.set(variantKey(variant), c);
    return c;
  }

  /** What the compiler may know about this machine. */
  env(prog: PreparedProgram, tag: string): CompileEnv {
    const machine = this.machine;
    return {
      tag,
      helperName: (id) => (prog.helpers ?? machine.helpers).get(id)?.name,
      mapAt: (addr) => mapFacts(machine.space, addr),
    };
  }

  /** The context of `cpu` in a mode (unchecked runs: per resolver of proven accesses). */
  context(cpu: number, checked: boolean, budget: boolean, safe?: SafeAccesses): JitContext {
    const key = `${cpu}:${checked ? 'c' : 'u'}${budget ? 'b' : ''}`;
    const resolver = checked ? undefined : safe;
    let contexts = this.contexts;
    if (resolver !== undefined) {
      let byResolver = this.guardedContexts.get(resolver);
      if (byResolver === undefined) {
        byResolver = new Map();
        this.guardedContexts.set(resolver, byResolver);
      }
      contexts = byResolver;
    }
    let ctx = contexts.get(key);
    if (ctx === undefined) {
      ctx = new JitContext(this, this.machine.cpu(cpu), checked, budget, resolver);
      contexts.set(key, ctx);
    }
    return ctx;
  }
}

const machines = new WeakMap<Machine, JitMachine>();

function jitMachine(machine: Machine): JitMachine {
  let j = machines.get(machine);
  if (j === undefined) {
    j = new JitMachine(machine);
    machines.set(machine, j);
  }
  return j;
}

/** The interpreter's fault message (kept word for word). */
function faultError(space: AddressSpace, addr: number, size: number, write: boolean, pc: number, why?: string): VmError {
  const where = addr < 0 ? 'an address outside the 32-bit address space' : space.describe(addr);
  return new VmError(`invalid memory access: ${write ? 'write' : 'read'} of ${size} byte${size === 1 ? '' : 's'} at ${where}${why ? `: ${why}` : ''}`, { insn: pc });
}

function budgetError(budget: number, pc: number): VmError {
  return new VmError(`instruction budget of ${budget} exhausted (the program may not terminate; raise it with --budget)`, { insn: pc });
}

/** The proven accesses of a program without a verdict. */
const NO_ACCESSES: ReadonlySet<number> = new Set();

/** An instance of a compiled module in a context. */
interface Inst {
  readonly compiled: Compiled;
  readonly exports: WebAssembly.Exports;
}

/** One CPU in one mode: the globals, the tail-call table and the instances. */
class JitContext {
  readonly regs: WebAssembly.Global;
  readonly fpNow: WebAssembly.Global;
  readonly budget: WebAssembly.Global;
  readonly tailCount: WebAssembly.Global;
  /** What a failed page guard leaves before it traps (see `guard` in compile.ts). */
  readonly faultReg = new WebAssembly.Global({ value: 'i64', mutable: true }, 0n);
  readonly faultOff = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  readonly faultInfo = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  readonly table: WebAssembly.Table;
  private readonly constants: Record<string, WebAssembly.Global>;
  private readonly instances = new Map<PreparedProgram, Map<string, Inst>>();
  private readonly tailSlots = new Map<PreparedProgram, number>();
  /** The run's budget (for the exhaustion message). */
  limit = DEFAULT_BUDGET;
  /** Slot of the helper call in progress (for errors raised by helpers). */
  pc = 0;
  /** The instance whose helper is running (callbacks resolve in its program). */
  current: Inst | null = null;
  private batchRegion: Region | null = null;
  readonly stackLimit: number;

  constructor(readonly jm: JitMachine, readonly cpu: Cpu, readonly checked: boolean, readonly budgeted: boolean,
    /** Unchecked contexts: the proven accesses of each program (undefined: all of them). */
    readonly safe: SafeAccesses | undefined = undefined) {
    const stack = cpu.stack;
    this.stackLimit = stack.start;
    this.regs = new WebAssembly.Global({ value: 'i32', mutable: false }, cpu.regfile.start);
    this.fpNow = new WebAssembly.Global({ value: 'i32', mutable: true }, stack.start + stack.size);
    this.budget = new WebAssembly.Global({ value: 'i64', mutable: true }, UNLIMITED_BUDGET);
    this.tailCount = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: 0 });
    this.constants = {
      [ImportName.regs]: this.regs,
      [ImportName.stackLo]: new WebAssembly.Global({ value: 'i64', mutable: false }, BigInt(stack.start)),
      [ImportName.stackLimit]: new WebAssembly.Global({ value: 'i32', mutable: false }, stack.start),
      [ImportName.fpTop]: new WebAssembly.Global({ value: 'i32', mutable: false }, stack.start + stack.size),
      [ImportName.cpu]: new WebAssembly.Global({ value: 'i32', mutable: false }, cpu.index),
      [ImportName.fpNow]: this.fpNow,
      [ImportName.budget]: this.budget,
      [ImportName.tailCount]: this.tailCount,
      [ImportName.faultReg]: this.faultReg,
      [ImportName.faultOff]: this.faultOff,
      [ImportName.faultInfo]: this.faultInfo,
      [ImportName.regionTable]: jm.regionTable,
      [ImportName.regionCount]: jm.regionCount,
    };
  }

  get machine(): Machine {
    return this.jm.machine;
  }

  /** How `prog` is compiled in this context (`prog` omitted: the signature only, as stubs need). */
  variant(role: 'entry' | 'tail', prog?: PreparedProgram): JitVariant {
    const v = { checked: this.checked, budget: this.budgeted, shared: this.machine.space.shared, role };
    if (this.checked || this.safe === undefined || prog === undefined) return v;
    return { ...v, safe: this.safe(prog) ?? NO_ACCESSES };
  }

  /** The instance of `prog` in `role`, compiled and instantiated on first use. */
  instance(prog: PreparedProgram, role: 'entry' | 'tail'): Inst {
    const existing = this.instances.get(prog)?.get(role);
    if (existing !== undefined) return existing;
    const compiled = this.jm.compile(prog, this.variant(role, prog));
    const holder: { inst: Inst | null } = { inst: null };
    return this.keep(prog, role, compiled, new WebAssembly.Instance(compiled.module, this.imports(compiled, holder)), holder);
  }

  /** Compiles and instantiates `prog` without blocking (see {@link JitMachine.compileAsync}). */
  async instanceAsync(prog: PreparedProgram, role: 'entry' | 'tail'): Promise<Inst> {
    const existing = this.instances.get(prog)?.get(role);
    if (existing !== undefined) return existing;
    const compiled = await this.jm.compileAsync(prog, this.variant(role, prog));
    const holder: { inst: Inst | null } = { inst: null };
    const instance = await WebAssembly.instantiate(compiled.module, this.imports(compiled, holder));
    return this.instances.get(prog)?.get(role) ?? this.keep(prog, role, compiled, instance, holder);
  }

  private keep(prog: PreparedProgram, role: 'entry' | 'tail', compiled: Compiled, instance: WebAssembly.Instance, holder: { inst: Inst | null }): Inst {
    let byRole = this.instances.get(prog);
    if (byRole === undefined) {
      byRole = new Map();
      this.instances.set(prog, byRole);
    }
    const inst: Inst = { compiled, exports: instance.exports };
    holder.inst = inst;
    byRole.set(role, inst);
    return inst;
  }

  /**
   * Table slot of `prog`'s body (tail role), added on first use: 2 * its id
   * in `machine.programs` (what compiled code computes from a prog array),
   * or an odd slot for a program that is not registered.
   */
  private tailSlot(prog: PreparedProgram): number {
    let slot = this.tailSlots.get(prog);
    if (slot === undefined) {
      const id = this.machine.programs.idOf(prog);
      slot = id !== undefined ? 2 * id : 2 * this.unregistered++ + 1;
      this.ensureTable(slot + 1);
      const inst = this.instance(prog, 'tail');
      this.table.set(slot, inst.exports[ExportName.body] as never);
      this.tailSlots.set(prog, slot);
    }
    return slot;
  }

  /**
   * Grows the table to at least `size` slots, filling the new ones with
   * stubs: a stub for slot 2 * id compiles program `id` into its slot, then
   * jumps to it with the same arguments. So compiled code never has to ask
   * whether a slot is filled (`table.get` costs several nanoseconds).
   */
  private ensureTable(size: number): void {
    const old = this.table.length;
    if (old >= size) return;
    let next = Math.max(64, old);
    while (next < size) next *= 2;
    this.table.grow(next - old);
    const stubs = new WebAssembly.Instance(new WebAssembly.Module(stubModule(this.variant('tail'), old, next) as Uint8Array<ArrayBuffer>), {
      [ENV]: {
        [ImportName.table]: this.table,
        fill: (slot: number): void => {
          const prog = this.machine.programs.get(slot >>> 1);
          if (prog === undefined || slot % 2 === 1) throw new VmError(`tail call into an empty table slot ${slot}`);
          this.tailSlot(prog);
        },
      },
    });
    for (let s = old; s < next; s++) this.table.set(s, stubs.exports[`s${s}`] as never);
  }

  private unregistered = 0;

  private imports(c: Compiled, holder: { inst: Inst | null }): WebAssembly.Imports {
    const env: Record<string, WebAssembly.ImportValue> = { [ImportName.memory]: this.machine.space.memory };
    for (const imp of c.compiled.builder.imports) {
      if (imp.kind === 'global') env[imp.name] = this.constants[imp.name]!;
    }
    if (c.compiled.imports.table) env[ImportName.table] = this.table;
    const space = this.machine.space;
    const machine = this.machine;
    const prog = c.prog;
    const call = this.cpu.call;
    env[ImportName.access] = (reg: bigint, off: number, info: number): bigint => {
      const { size, write, pc } = unpackAccessInfo(info);
      const hi = Number(BigInt.asUintN(64, reg) >> 32n);
      const a = hi === 0 ? Number(BigInt.asUintN(32, reg)) + off : -1;
      const region = a >= 0 ? space.regionAt(a, size) : undefined;
      if (region === undefined || !(write ? region.writable : region.readable)) {
        throw faultError(space, a, size, write, pc, region === undefined ? undefined : `${region.name} is ${write ? 'read-only' : 'not readable'}`);
      }
      // A region added since the table was written (a helper allocated it): refresh the table.
      this.jm.syncRegions();
      return BigInt(region.start) | (BigInt(region.size - size) << 32n);
    };
    env[ImportName.budgetOut] = (pc: number, left: number): never => {
      throw budgetError(this.limit, nthInstruction(prog, pc, left));
    };
    env[ImportName.tooDeep] = (pc: number): never => {
      throw new VmError(`the call stack is too deep: more than ${MAX_CALL_FRAMES} frames`, { insn: pc });
    };
    env[ImportName.abortRun] = (pc: number): never => {
      throw new AbortRun(pc);
    };
    env[ImportName.legacyAddress] = (ctx: number, offset: number, size: number): number => {
      const dv = machine.space.data;
      // r6 was checked only for its data/data_end words: the words after them must exist too
      return (ctx >>> 0) + SKB_CTX_BYTES > dv.byteLength ? -1 : legacyLoadAddress(dv, ctx >>> 0, offset, size);
    };
    env[ImportName.tailCall] = (mapLo: number, mapHi: number, index: number): number => {
      if (mapHi !== 0) return -1;
      const target = machine.tailCallTarget(mapLo >>> 0, index >>> 0);
      return target === undefined ? -1 : this.tailSlot(target);
    };
    const runHelper = (id: number, pc: number): void => {
      const helper = (prog.helpers ?? machine.helpers).get(id);
      if (helper === undefined) throw (prog.helpers ?? machine.helpers).missing(id, pc);
      call.pc = pc;
      call.program = prog;
      this.pc = pc;
      this.current = holder.inst;
      const outer = call.helper;
      call.helper = helper.name;
      helper.fn(call);
      call.helper = outer; // a callback's helpers named themselves
    };
    env[ImportName.callx] = (id: number, pc: number): number => {
      if (id === BpfFunc.tail_call) return 1;
      runHelper(id, pc);
      return 0;
    };
    for (const id of c.compiled.imports.helpers) env[helperImport(id)] = (pc: number) => runHelper(id, pc);
    return { [ENV]: env };
  }

  /**
   * Runs the callback at `target` one frame below the helper's caller with
   * r1..r5 = `args`; what `HelperCall.invoke` does during a JIT run.
   */
  invoke(target: bigint, args: readonly bigint[]): bigint {
    const inst = this.current;
    const pc = this.pc;
    if (inst === null) throw new VmError('no program is running: callbacks cannot be invoked', { insn: pc });
    const prog = inst.compiled.prog;
    const slot = Number(target) - FUNC_POINTER_BASE;
    if (target < BigInt(FUNC_POINTER_BASE) || !prog.subprogs.includes(slot)) {
      throw new VmError(`callback pointer 0x${target.toString(16)} is not a function of ${prog.name}`, { insn: pc });
    }
    const fp = this.fpNow.value as number;
    if (fp - STACK_SIZE <= this.stackLimit) {
      throw new VmError(`the call stack is too deep: more than ${MAX_CALL_FRAMES} frames`, { insn: pc });
    }
    const fn = inst.exports[callbackExport(slot)] as ((fp: number) => bigint) | undefined;
    if (fn === undefined) throw new VmError(`callback at slot ${slot} of ${prog.name} cannot run on the JIT`, { insn: pc });
    const space = this.machine.space;
    const regs = this.cpu.regfile.start;
    const d = space.data;
    for (let i = 0; i < 5; i++) d.setBigUint64(regs + 8 * (i + 1), BigInt.asUintN(64, args[i] ?? 0n), true);
    // The callback's own helper calls overwrite r6..r10 in the register file; the interpreter restores them.
    const saved = space.read(regs + 48, 40);
    try {
      return BigInt.asUintN(64, fn(fp - STACK_SIZE));
    } finally {
      this.current = inst;
      this.pc = pc;
      this.fpNow.value = fp;
      space.write(regs + 48, saved);
    }
  }

  /** The compiled module of one of this context's instances, by function-name tag. */
  compiledByTag(tag: string): Compiled | undefined {
    for (const byRole of this.instances.values()) {
      for (const inst of byRole.values()) if (inst.compiled.tag === tag) return inst.compiled;
    }
    return undefined;
  }

  /** The `invoke` this context gives helpers during a run. */
  readonly invokeFn = (target: bigint, args: readonly bigint[]): bigint => this.invoke(target, args);

  /** Makes whatever escaped a run a `VmError` (an {@link AbortRun} is returned for the caller to handle). */
  translate(err: unknown): AbortRun {
    if (err instanceof AbortRun) return err;
    if (err instanceof VmError) throw err;
    if (err instanceof WebAssembly.RuntimeError && (this.faultInfo.value as number) !== 0) {
      // A page guard failed: report checked mode's fault, as the interpreter does.
      const { size, rights, pc } = unpackGuardInfo(this.faultInfo.value as number);
      this.faultInfo.value = 0;
      const reg = BigInt.asUintN(64, this.faultReg.value as bigint);
      throw guardFault(this.machine.space, Number(reg & 0xffffffffn) | 0, Number(reg >> 32n) | 0, this.faultOff.value as number, size, rights, pc);
    }
    if (err instanceof WebAssembly.RuntimeError) {
      const pc = pcFromStack(err, (tag) => this.compiledByTag(tag)) ?? this.pc;
      throw new VmError(`invalid memory access outside the address space (${err.message})`, { insn: pc });
    }
    if (err instanceof RangeError) {
      throw new VmError(`invalid memory access outside the address space (${err.message})`, { insn: this.pc });
    }
    throw err;
  }

  /** Scratch memory for a batch of `n` contexts and results (reused, grown by doubling). */
  batchBuffers(n: number): { ctxs: number; results: number } {
    const need = n * 12;
    if (this.batchRegion === null || this.batchRegion.size < need) {
      const size = Math.max(need, (this.batchRegion?.size ?? 0) * 2, 12 * 1024);
      this.batchRegion = this.machine.space.allocate(`jit-batch[${this.cpu.index}]`, 'internal', size, { readable: false, writable: false, align: 8 });
    }
    const start = this.batchRegion.start;
    return { results: start, ctxs: start + n * 8 };
  }
}

/**
 * A module of stubs for table slots `[from, to)`: stub `s` calls
 * `fill(s)`, which puts the real body into slot s, then jumps there.
 */
function stubModule(variant: JitVariant, from: number, to: number): Uint8Array {
  const m = new ModuleBuilder();
  m.importTable(ENV, ImportName.table, { min: to });
  const fill = m.importFunc(ENV, 'fill', m.type(['i32'], []));
  const params: ValType[] = variant.checked ? [...Array<ValType>(10).fill('i64'), 'i32'] : [...Array<ValType>(5).fill('i64'), 'i32'];
  const results: ValType[] = Array<ValType>(variant.checked ? 6 : 1).fill('i64');
  const type = m.type(params, results);
  for (let s = from; s < to; s++) {
    const { def, ref } = m.func(`stub${s}`, type);
    const c = def.code;
    c.i32(s);
    c.call(fill);
    for (let k = 0; k < params.length; k++) c.localGet(k);
    c.i32(s);
    c.returnCallIndirect(type);
    m.exportFunc(`s${s}`, ref);
  }
  return m.encode().bytes;
}

/** The slot of the `n`-th instruction from `pc` (a `lddw` is one instruction of two slots). */
function nthInstruction(prog: PreparedProgram, pc: number, n: number): number {
  let at = pc;
  for (let k = 0; k < n; k++) {
    at += prog.bySlot[at]?.kind === 'lddw' ? 2 : 1;
  }
  return at;
}

/** The BPF slot of the innermost compiled frame of a trap, from the stack trace and the source maps. */
function pcFromStack(err: Error, byTag: (tag: string) => Compiled | undefined): number | undefined {
  const stack = err.stack ?? '';
  const re = /(jit\d+)\.[^\s@(]*[\s@(]+[^\n]*?wasm-function\[\d+\]:0x([0-9a-fA-F]+)/g;
  for (let m = re.exec(stack); m !== null; m = re.exec(stack)) {
    const compiled = byTag(m[1]!);
    if (compiled === undefined) continue;
    const offset = parseInt(m[2]!, 16);
    let best: number | undefined;
    for (const p of compiled.compiled.sourceMap) {
      if (p.offset <= offset) best = p.pc;
      else break;
    }
    if (best !== undefined) return best;
  }
  return undefined;
}

const TWO32 = 4294967296;

/** The per-mode state a runner caches between runs. */
interface RunnerMode {
  readonly key: number;
  readonly safe: SafeAccesses | undefined;
  readonly ctx: JitContext;
  readonly exports: EntryExports;
}

/** Loads `program` on `machine` for the JIT. */
function loadJit(machine: Machine, program: PreparedProgram): JitRunner {
  const jm = jitMachine(machine);
  let last: RunnerMode | null = null;
  let words: Uint32Array | null = null;

  const mode = (cpu: number, checked: boolean, budgeted: boolean, safe: SafeAccesses | undefined): RunnerMode => {
    const key = cpu * 4 + (checked ? 2 : 0) + (budgeted ? 1 : 0);
    if (checked) safe = undefined;
    if (last !== null && last.key === key && last.safe === safe) return last;
    const ctx = jm.context(cpu, checked, budgeted, safe);
    const inst = ctx.instance(program, 'entry');
    last = { key, safe, ctx, exports: inst.exports as unknown as EntryExports };
    return last;
  };

  /** A u32 view of the memory (a new one only when growth detached the old buffer). */
  const view = (): Uint32Array => {
    if (words === null || words.byteLength === 0) words = new Uint32Array(machine.space.memory.buffer);
    return words;
  };

  const writeArgs = (regs: number, args: readonly (bigint | number)[]): void => {
    const w = view();
    const base = regs >>> 2;
    for (let i = 0; i < 5; i++) {
      const a = i < args.length ? args[i]! : 0;
      const at = base + 2 * (i + 1);
      if (typeof a === 'number' && a >= 0 && a <= 0xffffffff && Number.isInteger(a)) {
        w[at] = a;
        w[at + 1] = 0;
      } else {
        const v = BigInt.asUintN(64, BigInt(a));
        w[at] = Number(v & 0xffffffffn);
        w[at + 1] = Number(v >> 32n);
      }
    }
  };

  /** The budget compiled code left in the register file's spare word. */
  const budgetLeft = (regs: number): number => {
    const w = view();
    const at = (regs + BUDGET_LEFT_OFFSET) >>> 2;
    return w[at + 1]! * TWO32 + w[at]!;
  };

  return {
    run(options: RunOptions = {}): RunResult {
      if (options.trace) return interpreterEngine.load(machine, program).run(options);
      const checked = options.checked ?? true;
      const limit = options.budget ?? (checked ? DEFAULT_BUDGET : Number.POSITIVE_INFINITY);
      const budgeted = Number.isFinite(limit);
      const { ctx, exports } = mode(options.cpu ?? 0, checked, budgeted, options.safeAccesses);
      if (machine.space.generation !== jm.mirrored) jm.syncRegions();
      writeArgs(ctx.cpu.regfile.start, options.args ?? []);
      ctx.limit = limit;
      const call = ctx.cpu.call;
      const previous = call.invoke;
      call.invoke = ctx.invokeFn;
      ctx.current = null;
      let r0: bigint;
      let left: number;
      try {
        r0 = budgeted ? exports.run(limit % TWO32, Math.floor(limit / TWO32)) : exports.run(0, 0);
        left = budgeted ? budgetLeft(ctx.cpu.regfile.start) : 0;
      } catch (err) {
        ctx.translate(err);
        r0 = 0n;
        left = budgeted ? Number(ctx.budget.value as bigint) : 0;
      } finally {
        call.invoke = previous;
      }
      return { r0: r0 < 0n ? BigInt.asUintN(64, r0) : r0, insns: budgeted ? limit - left : -1 };
    },

    runBatch(ctxAddrs: Uint32Array, options: BatchOptions = {}): BigUint64Array {
      const checked = options.checked ?? true;
      const limit = options.budget ?? (checked ? DEFAULT_BUDGET : Number.POSITIVE_INFINITY);
      const budgeted = Number.isFinite(limit);
      const { ctx, exports } = mode(options.cpu ?? 0, checked, budgeted, options.safeAccesses);
      const n = ctxAddrs.length;
      if (n === 0) return new BigUint64Array(0);
      const { ctxs, results } = ctx.batchBuffers(n);
      new Uint32Array(machine.space.memory.buffer, ctxs, n).set(ctxAddrs);
      // marks the runs not done yet, so a fault can say which run it stopped
      // (as two u32 halves: filling a BigUint64Array with a bigint costs more than the runs of a small program)
      new Uint32Array(machine.space.memory.buffer, results, 2 * n).fill(NOT_RUN_HALF);
      if (machine.space.generation !== jm.mirrored) jm.syncRegions();
      ctx.limit = limit;
      const call = ctx.cpu.call;
      const previous = call.invoke;
      call.invoke = ctx.invokeFn;
      ctx.current = null;
      try {
        if (budgeted) exports.batch(ctxs, n, results, limit % TWO32, Math.floor(limit / TWO32));
        else exports.batch(ctxs, n, results, 0, 0);
      } catch (err) {
        try {
          ctx.translate(err);
        } catch (fault) {
          if (!(fault instanceof VmError)) throw fault;
          const all = new BigUint64Array(machine.space.memory.buffer, results, n);
          const at = all.indexOf(NOT_RUN);
          throw new BatchFaultError(at < 0 ? n - 1 : at, all.slice(0, at < 0 ? n - 1 : at), fault);
        }
        throw new VmError('a legacy packet load failed below the entry function during a batch: run such programs one at a time');
      } finally {
        call.invoke = previous;
      }
      if (options.view === true) return new BigUint64Array(machine.space.memory.buffer, results, n);
      return new BigUint64Array(machine.space.memory.buffer.slice(results, results + 8 * n));
    },

    async prepare(options: { checked?: boolean; budget?: number; cpu?: number; safeAccesses?: SafeAccesses } = {}): Promise<void> {
      const checked = options.checked ?? true;
      const budgeted = Number.isFinite(options.budget ?? (checked ? DEFAULT_BUDGET : Number.POSITIVE_INFINITY));
      await jm.context(options.cpu ?? 0, checked, budgeted, options.safeAccesses).instanceAsync(program, 'entry');
    },

    compile(options: { checked?: boolean; budget?: boolean; safe?: ReadonlySet<number> } = {}): CompiledModule {
      const checked = options.checked ?? true;
      const variant: JitVariant = { checked, budget: options.budget ?? checked, shared: machine.space.shared, role: 'entry' };
      return jm.compile(program, options.safe !== undefined && !checked ? { ...variant, safe: options.safe } : variant).compiled;
    },
  };
}

/** The JIT's engine type: `load` gives a {@link JitRunner}. */
export interface JitEngine extends Engine {
  load(machine: Machine, program: PreparedProgram): JitRunner;
}

/** The WebAssembly JIT as an {@link Engine}. */
export const jitEngine: JitEngine = {
  name: 'jit',
  load: loadJit,
};
