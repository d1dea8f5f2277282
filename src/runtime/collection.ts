/**
 * A loaded collection: an object spec (src/loader) brought into a machine
 * the way libbpf's `bpf_object__load` brings it into the kernel. Maps are
 * created (global data initialised and `.rodata` frozen), map references in
 * the code are resolved to map and value addresses, every program is
 * prepared with its program type's helpers and registered, and prog arrays
 * and maps of maps get their initial entries.
 */
import { TsbpfError } from '../errors.js';
import { decodeAt } from '../isa/decode.js';
import { writeSlot } from '../isa/encode.js';
import { INSN_SIZE, PseudoSrc } from '../isa/opcode.js';
import type { ObjectSpec, ProgramSpec } from '../loader/spec.js';
import { HookContexts } from '../hooks/contexts.js';
import { helpersForType } from '../hooks/type-helpers.js';
import type { NetNamespace } from '../hooks/net.js';
import { TestRunner } from '../hooks/test-run.js';
import type { PacketRunner, TestRunInput, TestRunResult, XdpBatchRunner } from '../hooks/test-run.js';
import type { Engine } from '../vm/engine.js';
import type { SafeAccesses } from '../vm/interpreter.js';
import { interpreterEngine } from '../vm/engine.js';
import type { VmHelperOptions } from '../vm/helpers/index.js';
import { TracePipe } from '../vm/helpers/index.js';
import { Machine } from '../vm/machine.js';
import type { SharedSpace } from '../vm/memory.js';
import { ArrayMap } from '../vm/maps/array.js';
import { MapTimers } from '../vm/maps/timers.js';
import { ProgArrayMap } from '../vm/maps/prog-array.js';
import { describeProgramAttrs } from '../vm/loaded-programs.js';
import type { ProgramAttrs } from '../vm/loaded-programs.js';
import { progTypeName } from '../hooks/program-types.js';
import type { BpfMap } from '../vm/maps/bpf-map.js';
import { PlaceholderMap } from '../vm/maps/unbacked.js';
import { prepareProgram } from '../vm/prepared-program.js';
import type { LocalType } from '../vm/helpers/alloc.js';
import { objectHeap } from '../vm/helpers/alloc.js';
import { structMeta } from '../verifier/btf-record.js';
import type { PreparedProgram } from '../vm/prepared-program.js';
import { loaderRejection, verifyObjectProgram } from '../verifier/index.js';
import type { VerifyOptions, VerifyResult } from '../verifier/index.js';
import { creationSpec, loaderMapProblem, mapProblemOf, unbackedMapUse, withMapFailures } from './map-problems.js';
import type { MapProblem } from './map-problems.js';
import { BpfFunc, MapType, ProgType, UpdateFlags } from '../isa/uapi.js';
import { ATTACH_TYPE_NAMES } from '../isa/uapi.js';

/** `r0 = 0; exit`: what stands for a program whose code could not be prepared (it never runs). */
const STUB_PROGRAM = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

/** The kfuncs that allocate the program's own objects: a program calling one needs the object heap. */
const ALLOCATING_KFUNCS: ReadonlySet<string> = new Set(['bpf_obj_new_impl', 'bpf_refcount_acquire_impl', 'bpf_list_push_front_impl', 'bpf_list_push_back_impl',
  'bpf_obj_drop_impl', 'bpf_rbtree_add_impl']);

/** `BPF_F_XDP_HAS_FRAGS` in a program's load flags. */
const BPF_F_XDP_HAS_FRAGS = 1 << 5;

/** How prog-array messages name a program's type: `xdp`, `cgroup_skb/cgroup_inet_egress`, `xdp (frags)`. */
function programLabel(typeId: number, spec: ProgramSpec): string {
  const type = progTypeName(typeId);
  const attach = spec.expectedAttachTypeName && spec.expectedAttachTypeName !== type ? `/${spec.expectedAttachTypeName}` : '';
  return `${type}${attach}${spec.flags & BPF_F_XDP_HAS_FRAGS ? ' (frags)' : ''}`;
}

/** A program of a loaded collection. */
export interface LoadedProgram {
  /**
   * The program's spec; its `loadError` is set when the program cannot be
   * loaded: its loader refused it, or a map it uses could not be created
   * (the verdict is that refusal, it never runs).
   */
  readonly spec: ProgramSpec;
  /** The prepared code (a stub when {@link prepareError} is set). */
  readonly prepared: PreparedProgram;
  /**
   * Id in `machine.programs` (what prog arrays hold); 0 when the program is
   * not in the machine (it cannot be loaded, or its code could not be
   * prepared), so no prog array can hold it.
   */
  readonly id: number;
  /** Program type used to run it (the spec's, or an override). */
  readonly typeId: number;
  /**
   * Why the kernel would refuse this program after verifying it, if it
   * would: a prog array it uses is bound to another program type
   * (`bpf_check_tail_call`). Such a program never runs.
   */
  readonly loadError?: string;
  /**
   * Why tsbpf cannot run the program although Linux would load it: it uses
   * a map tsbpf does not back, or a helper or instruction tsbpf does not
   * implement. It is still verified; running it throws.
   */
  readonly runError?: string;
  /** Why the code could not be prepared for the engines (also in {@link runError}). */
  readonly prepareError?: string;
}

/** A program the verifier (or its loader, before the verifier) rejected: it never runs. */
export class RejectedProgramError extends TsbpfError {
  constructor(readonly program: LoadedProgram, readonly result: VerifyResult) {
    super(result.stage === 'loader'
      ? `program '${program.spec.name}' cannot be loaded: ${result.error}`
      : `program '${program.spec.name}' was rejected by the verifier: ${result.error}`, { section: program.spec.section });
  }
}

/** Options of {@link loadCollection}. */
export interface LoadOptions extends VmHelperOptions {
  /** Number of per-CPU slots of per-CPU maps (default 1). */
  possibleCpus?: number;
  /** Back the memory with a SharedArrayBuffer (for worker threads). */
  shared?: boolean;
  /**
   * Load into the shared memory another thread loaded the same object into
   * with the same options (what its `machine.space.share()` returned),
   * without touching what that memory holds: the maps are laid out at the
   * same addresses and keep their contents (AddressSpace's replay). A
   * different object or options fail with an error; so does a map whose
   * layout depends on something drawn at random (see the hash seed).
   */
  attach?: SharedSpace;
  /** Program type for programs whose section does not tell it (or to override it). */
  progType?: number;
  /** Override the type even when the section tells it. */
  forceProgType?: boolean;
  /** `expected_attach_type` for every program (overrides the section's). */
  expectedAttachType?: number;
  /**
   * `true` (default): programs are verified before they first run; a
   * rejected program never runs, and accepted ones run without per-access
   * checks. `false`: nothing is verified and every run is checked.
   */
  verify?: boolean;
  /**
   * Log level of the verification (default 0). A rejected program's result
   * always carries at least the level-1 log of its failing path.
   */
  verifierLogLevel?: 0 | 1 | 2;
  /**
   * The kernel BTF the verifier types kernel objects with (tracing and LSM
   * arguments, BTF pointers, kfuncs), as for {@link verify}; read lazily.
   */
  kernelBtf?: VerifyOptions['kernelBtf'];
  /** Whether the kernel has a symbol (`bpf_ksym_exists` on typeless ksyms), as for {@link verify}. */
  kernelSymbols?: VerifyOptions['kernelSymbols'];
}

/** An object's programs and maps inside one machine. */
export class Collection {
  readonly maps: BpfMap[] = [];
  /** Why each map could not be created (a {@link PlaceholderMap} stands for it), by map index. */
  readonly mapProblems: (MapProblem | undefined)[] = [];
  readonly programs: LoadedProgram[] = [];
  /** What loading did that a user may want to know (maps not created, programs not installed in prog arrays, fix-ups). */
  readonly log: string[] = [];
  readonly tracePipe: TracePipe;
  readonly runner: TestRunner;
  private readonly verification = new Map<LoadedProgram, VerifyResult>();
  /**
   * What unchecked runs give the engines: each program's `safeAccesses`
   * (tail-call targets use their own verdict's). One function for the
   * collection's life, so the JIT keeps its compiled code between runs.
   */
  readonly safeAccesses: SafeAccesses = (prog) => {
    const p = this.programs.find((q) => q.prepared === prog);
    return p === undefined ? undefined : this.verify(p).safeAccesses;
  };
  private verifyAll = true;
  private logLevel: 0 | 1 | 2 = 0;
  private kernel: Pick<LoadOptions, 'kernelBtf' | 'kernelSymbols'> = {};

  private constructor(readonly object: ObjectSpec, readonly machine: Machine, readonly contexts: HookContexts, tracePipe: TracePipe) {
    this.tracePipe = tracePipe;
    this.runner = new TestRunner(machine, contexts);
  }

  /**
   * Loads `object` into a new machine. Every map and program of the object
   * is there: a map that cannot be created is a {@link PlaceholderMap}
   * (see {@link mapProblems}), a program that cannot be loaded has a
   * `loadError` (its verdict) and one tsbpf cannot run a `runError`.
   */
  static load(object: ObjectSpec, options: LoadOptions = {}): Collection {
    const machine = new Machine({
      possibleCpus: options.possibleCpus ?? 1, ...(options.shared ? { shared: true } : {}),
      ...(options.attach ? { attach: options.attach.memory, attachLayout: options.attach.layout, maximumPages: options.attach.maximumPages } : {}),
    });
    const tracePipe = options.tracePipe ?? new TracePipe();
    const collection = new Collection(object, machine, new HookContexts(), tracePipe);
    collection.verifyAll = options.verify ?? true;
    collection.logLevel = options.verifierLogLevel ?? 0;
    collection.kernel = { kernelBtf: options.kernelBtf, kernelSymbols: options.kernelSymbols };
    collection.createMaps();
    for (const spec of object.programs) collection.loadProgram(spec, { ...options, tracePipe });
    collection.initialiseMapValues();
    for (const [i, map] of collection.maps.entries()) if (object.maps[i]!.frozen && !(map instanceof PlaceholderMap)) map.freeze();
    // The maps are in place: from here on this thread works on the shared bytes;
    // or this is the original, whose layout at this point others attaching must reproduce.
    if (options.attach) machine.space.endReplay();
    else machine.space.markLayout();
    return collection;
  }

  private createMaps(): void {
    for (const objectSpec of this.object.maps) {
      const spec = creationSpec(objectSpec, this.machine.possibleCpus);
      if (spec !== objectSpec) this.log.push(`map '${spec.name}': setting size to ${spec.maxEntries}`);
      let map: BpfMap | undefined;
      let problem: MapProblem | undefined;
      if (objectSpec.loadError) {
        problem = loaderMapProblem(objectSpec, objectSpec.loadError);
      } else {
        try {
          map = this.machine.maps.create(spec);
        } catch (err) {
          problem = mapProblemOf(spec, err);
        }
      }
      if (problem) {
        const reason = objectSpec.loadError ? problem.reason : problem.kind === 'invalid' ? `-${problem.errno}: ${problem.reason}` : problem.reason;
        map = this.machine.maps.createPlaceholder(spec, reason, problem.kind);
        this.log.push(problem.kind === 'invalid'
          ? `${problem.message}: the programs that use it cannot be loaded`
          : `map '${spec.name}' (${map.typeName}) is not backed by tsbpf: ${problem.reason}: the programs that use it are verified but cannot run`);
      } else if (spec.initialData) {
        map!.update(new Uint8Array(4), spec.initialData, UpdateFlags.ANY);
      }
      this.maps.push(map!);
      this.mapProblems.push(problem);
    }
  }

  private readonly localTypes = new Map<number, LocalType | undefined>();

  /** A struct of the object's BTF as `bpf_obj_new` allocates it (its record, from the verifier's reading of the BTF). */
  private localType(typeId: number): LocalType | undefined {
    if (this.localTypes.has(typeId)) return this.localTypes.get(typeId);
    const btf = this.object.btf;
    const t = btf?.tryType(typeId);
    let type: LocalType | undefined;
    if (btf && t && t.kind === 'STRUCT') {
      const rec = structMeta(btf, typeId, null);
      type = {
        name: t.name, size: t.size, refcountOff: rec?.refcountOff ?? -1,
        roots: (rec?.fields ?? []).filter((f) => f.graphRoot).map((f) => ({
          offset: f.offset, kind: f.type === 'bpf_list_head' ? 'list' as const : 'rbtree' as const,
          valueTypeId: f.graphRoot!.valueBtfId, nodeOffset: f.graphRoot!.nodeOffset,
        })),
        kptrs: (rec?.fields ?? []).filter((f) => f.kptr?.local).map((f) => f.offset),
      };
    }
    this.localTypes.set(typeId, type);
    return type;
  }

  private loadProgram(objectSpec: ProgramSpec, options: LoadOptions): void {
    const typeId = options.progType !== undefined && (options.forceProgType || objectSpec.type === 0) ? options.progType : objectSpec.type;
    const attached = options.expectedAttachType !== undefined ? { ...objectSpec, expectedAttachType: options.expectedAttachType, expectedAttachTypeName: ATTACH_TYPE_NAMES[options.expectedAttachType] ?? String(options.expectedAttachType) } : objectSpec;
    const spec = withMapFailures(attached, this.mapProblems);
    let runError = unbackedMapUse(spec, this.mapProblems);
    const helpers = helpersForType(typeId, this.contexts, options);
    let prepared: PreparedProgram;
    let prepareError: string | undefined;
    try {
      // Every call loads: the verifier judges the program, and a helper tsbpf cannot run fails when the call executes.
      // a program that allocates objects gets the heap they live in (made once, at load, in every thread)
      if (spec.relocations.some((r) => r.kind === 'kfunc' && ALLOCATING_KFUNCS.has(r.name))) objectHeap(this.machine.space, this.machine.possibleCpus);
      prepared = prepareProgram(this.resolve(spec), {
        name: spec.name, helpers, allowUnknownHelper: () => true,
        kfuncName: (slot) => {
          const r = spec.relocations.find((x) => x.slot === slot && x.kind === 'kfunc');
          return r?.kind === 'kfunc' ? r.name : undefined;
        },
        localType: (typeId) => this.localType(typeId),
      });
    } catch (err) {
      if (!(err instanceof TsbpfError)) throw err;
      // Linux judges the program (the verifier runs on its own bytes); tsbpf cannot run it.
      prepareError = `${err.reason}${err.location.insn !== undefined ? ` (insn ${err.location.insn})` : ''}`;
      runError ??= prepareError;
      prepared = prepareProgram(STUB_PROGRAM, { name: spec.name });
    }
    const attrs: ProgramAttrs = {
      type: typeId,
      expectedAttachType: spec.expectedAttachType ?? 0,
      xdpHasFrags: (spec.flags & BPF_F_XDP_HAS_FRAGS) !== 0,
      label: programLabel(typeId, spec),
    };
    // A program Linux never loads claims no prog array and no prog array can hold it.
    const loadable = spec.loadError === undefined;
    const loadError = loadable ? this.claimProgArrays(spec, attrs) : undefined;
    const id = loadable && prepareError === undefined ? this.machine.programs.add(prepared, attrs) : 0;
    if (spec.loadError) this.log.push(`prog '${spec.name}': cannot be loaded: ${spec.loadError.message}`);
    else if (runError) this.log.push(`prog '${spec.name}': cannot run in tsbpf: ${runError}`);
    this.programs.push({
      spec, prepared, id, typeId, ...(loadError ? { loadError } : {}), ...(runError ? { runError } : {}), ...(prepareError ? { prepareError } : {}),
    });
  }

  /**
   * Binds the prog arrays `spec` uses to its program type, as the kernel does
   * when it loads the program; returns why it would refuse the program when
   * one is already bound to another type.
   */
  private claimProgArrays(spec: ProgramSpec, attrs: ProgramAttrs): string | undefined {
    for (let pc = 0; pc < spec.insns.length / INSN_SIZE; pc++) {
      if (spec.insns[pc * INSN_SIZE] !== 0x18) continue;
      const insn = decodeAt(spec.insns, pc);
      pc++;
      if (insn.kind !== 'lddw' || insn.pseudo !== PseudoSrc.MAP_IDX) continue;
      const map = this.maps[insn.imm];
      if (!(map instanceof ProgArrayMap) || map.claim(attrs)) continue;
      return `it uses prog array '${map.name}', which holds ${describeProgramAttrs(map.owner!)} programs: a ${describeProgramAttrs(attrs)} program cannot tail-call into them (the kernel refuses to load it: EINVAL)`;
    }
    return undefined;
  }

  /** The program's bytes with map references turned into plain 64-bit constants (addresses). */
  private resolve(spec: ProgramSpec): Uint8Array {
    const bytes = spec.insns.slice();
    const slots = bytes.length / INSN_SIZE;
    for (let pc = 0; pc < slots; pc++) {
      if (bytes[pc * INSN_SIZE] !== 0x18) continue;
      const insn = decodeAt(bytes, pc);
      if (insn.kind !== 'lddw') continue;
      let value: number | undefined;
      if (insn.pseudo === PseudoSrc.MAP_IDX || insn.pseudo === PseudoSrc.MAP_IDX_VALUE) {
        const map = this.maps[insn.imm];
        if (map === undefined) throw new TsbpfError(`insn ${pc} refers to map #${insn.imm}, which the object does not define`, { section: spec.section, insn: pc });
        if (map instanceof PlaceholderMap && insn.pseudo === PseudoSrc.MAP_IDX_VALUE) {
          throw new TsbpfError(`insn ${pc}: a direct value access to ${map.message}`, { section: spec.section, insn: pc });
        }
        if (insn.pseudo === PseudoSrc.MAP_IDX) {
          value = map.address;
        } else {
          if (!(map instanceof ArrayMap) || map.type !== MapType.ARRAY) {
            throw new TsbpfError(`insn ${pc}: a direct value access needs an array map, '${map.name}' is ${map.typeName}`, { section: spec.section, insn: pc });
          }
          if (insn.imm2 < 0 || insn.imm2 >= map.valueSize) {
            throw new TsbpfError(`insn ${pc}: offset ${insn.imm2} is outside the ${map.valueSize}-byte value of '${map.name}'`, { section: spec.section, insn: pc });
          }
          value = map.valueAddress(0) + insn.imm2;
        }
      }
      if (value === undefined) continue;
      writeSlot(bytes, pc * INSN_SIZE, { code: 0x18, dst: insn.dst, src: 0, off: 0, imm: value | 0 });
      writeSlot(bytes, (pc + 1) * INSN_SIZE, { code: 0, dst: 0, src: 0, off: 0, imm: 0 });
      pc++;
    }
    return bytes;
  }

  /**
   * Initial entries of prog arrays and maps of maps (BTF `values`, iproute2
   * and OVS tail-call sections, iproute2 inner maps). An entry naming a
   * program that cannot be loaded or a map that could not be created is
   * left out, and the log says so.
   */
  private initialiseMapValues(): void {
    this.object.maps.forEach((spec, i) => {
      const map = this.maps[i]!;
      for (const v of spec.initialValues ?? []) {
        const what = `map '${spec.name}': slot [${v.key}] (${v.kind} '${v.name}')`;
        if (map instanceof PlaceholderMap) {
          this.log.push(`${what} not set: ${map.message}`);
          continue;
        }
        const target = v.kind === 'program' ? this.programs[v.program] : undefined;
        const inner = v.kind === 'map' ? this.maps[v.map] : undefined;
        if (v.kind === 'program' && (target === undefined || target.id === 0)) {
          this.log.push(`${what} not set: the program ${target?.spec.loadError ? `cannot be loaded: ${target.spec.loadError.message}` : target?.prepareError ? `cannot run in tsbpf: ${target.prepareError}` : 'does not exist'}`);
          continue;
        }
        if (v.kind === 'map' && (inner === undefined || inner instanceof PlaceholderMap)) {
          this.log.push(`${what} not set: ${inner instanceof PlaceholderMap ? inner.message : 'the map does not exist'}`);
          continue;
        }
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, v.key, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, target ? target.id : inner!.id, true);
        try {
          map.update(key, value, UpdateFlags.ANY);
        } catch (err) {
          if (!(err instanceof TsbpfError)) throw err;
          this.log.push(`${what} not set: ${err.reason}`);
        }
      }
    });
  }

  /** The program called `name` (function name), or in section `section`. */
  program(selector: { name?: string; section?: string } = {}): LoadedProgram {
    const { name, section } = selector;
    const matches = this.programs.filter((p) => (name === undefined || p.spec.name === name) && (section === undefined || p.spec.section === section));
    if (matches.length === 0) {
      const what = name !== undefined ? `named '${name}'` : section !== undefined ? `in section '${section}'` : '';
      throw new TsbpfError(`no program ${what} in ${this.object.file ?? this.object.name} (programs: ${this.programs.map((p) => `${p.spec.name} [${p.spec.section}]`).join(', ') || 'none'})`);
    }
    if (matches.length > 1 && name === undefined) {
      if (section === undefined) return matches[0]!;
      throw new TsbpfError(`section '${section}' holds ${matches.length} programs (${matches.map((p) => p.spec.name).join(', ')}): choose one with --name`);
    }
    return matches[0]!;
  }

  /** The map called `name` (as libbpf names it). */
  map(name: string): BpfMap {
    const i = this.object.maps.findIndex((m) => m.name === name || m.realName === name);
    if (i < 0) throw new TsbpfError(`no map named '${name}' (maps: ${this.object.maps.map((m) => m.name).join(', ') || 'none'})`);
    return this.maps[i]!;
  }

  /** The verifier's verdict on `program` (computed once); a program the kernel would refuse after verification is rejected too. */
  verify(program: LoadedProgram): VerifyResult {
    let result = this.verification.get(program);
    if (result === undefined) {
      // bpf_get_smp_processor_id() is bounded by the CPUs this collection can run on, not the host's.
      result = verifyObjectProgram(this.object, program.spec, {
        progType: program.typeId, logLevel: this.logLevel, logOnFailure: true, nrCpus: this.machine.possibleCpus,
        ...(this.kernel.kernelBtf !== undefined ? { kernelBtf: this.kernel.kernelBtf } : {}),
        ...(this.kernel.kernelSymbols !== undefined ? { kernelSymbols: this.kernel.kernelSymbols } : {}),
      });
      if (result.accepted && program.loadError) {
        result = { ...result, accepted: false, error: program.loadError, errno: 'EINVAL', safeAccesses: new Set() };
      }
      this.verification.set(program, result);
    }
    return result;
  }

  /** The programs the prog arrays of this collection hold now. */
  tailCallTargets(): LoadedProgram[] {
    const ids = new Set<number>();
    for (const map of this.maps) {
      if (map.type !== MapType.PROG_ARRAY || map instanceof PlaceholderMap) continue;
      for (const e of map.entries()) ids.add(new DataView(e.value.buffer, e.value.byteOffset, 4).getUint32(0, true));
    }
    return this.programs.filter((p) => ids.has(p.id));
  }

  /**
   * The network runs see: devices (which devmaps check), routes and
   * neighbours (`bpf_fib_lookup`). The kernel test run's namespace (lo
   * alone, down) unless replaced; set it before filling maps that name
   * devices.
   */
  get network(): NetNamespace {
    return this.contexts.net;
  }

  set network(ns: NetNamespace) {
    this.contexts.net = ns;
  }

  /**
   * Moves the timers' virtual clock forward by `ns` nanoseconds and runs
   * every timer callback that expires by then (`bpf_timer_start`), in expiry
   * order, on `engine` in checked mode. Timers fire only here: a run never
   * advances the clock. Returns how many callbacks ran.
   */
  advanceTimers(ns: bigint | number, engine: Engine = interpreterEngine): number {
    return this.runner.advanceTimers(BigInt(ns), engine);
  }

  /** The timers' virtual clock (nanoseconds since the collection was loaded). */
  get timerClock(): bigint {
    return MapTimers.of(this.machine.space).now;
  }

  /** Whether programs are verified before they run (the `verify` load option). */
  get verifies(): boolean {
    return this.verifyAll;
  }

  /**
   * Runs a program the way BPF_PROG_TEST_RUN does. With verification on, a
   * rejected program throws {@link RejectedProgramError}; an accepted one
   * runs unchecked when every program it could tail-call was accepted too,
   * each program's accesses guarded as its verdict allows (what the
   * verifier proved gets the page guard, the rest the full region check).
   */
  run(program: LoadedProgram, input: TestRunInput, engine: Engine = interpreterEngine): TestRunResult {
    return this.runnerFor(program, input, engine)(input);
  }

  /**
   * What {@link run} checks once for a program (its verdict, the verdicts
   * of the programs it can tail-call now, the context size they need),
   * done once: the returned function runs it on input after input. For a
   * stream of packets, between which only the program itself runs (user
   * space changes no prog array), the checks hold for the whole stream.
   */
  runnerFor(program: LoadedProgram, input: Pick<TestRunInput, 'checked' | 'minCtxSize' | 'safeAccesses'>, engine: Engine = interpreterEngine): (input: TestRunInput) => TestRunResult {
    const fixed = this.runSettings(program, input);
    return (each) => this.runner.run(program.prepared, program.typeId, engine, { ...each, ...fixed });
  }

  /**
   * An XDP program made ready for many packets per call into the engine
   * ({@link TestRunner.xdpBatch}), with the checks of {@link runnerFor}
   * made once; null when it cannot run that way: a program of this
   * collection (the one given, or one it may tail-call) calls a helper
   * that records where a packet goes (the redirect family, clone_redirect),
   * which each packet of a batch would overwrite.
   */
  xdpBatchFor(program: LoadedProgram, engine: Engine, capacity: number, cpu = 0): XdpBatchRunner | null {
    if (!this.xdpBatchable(program)) return null;
    const fixed = this.runSettings(program, {});
    return this.runner.xdpBatch(program.prepared, engine, capacity, { ...fixed, cpu });
  }

  /** Whether {@link xdpBatchFor} gives `program` a batch: an XDP program that, nor any program a prog array may reach from it, records nothing per run. */
  xdpBatchable(program: LoadedProgram): boolean {
    if (program.typeId !== ProgType.XDP) return false;
    // with a prog array any program of the collection may run in the batch
    const reach = this.maps.some((m) => m.type === MapType.PROG_ARRAY) ? this.programs : [program];
    return !reach.some((p) => callsAnyHelper(p.spec.insns, PER_RUN_HELPERS));
  }

  /**
   * A packet program (XDP, tc, socket filter) made ready for packet after
   * packet, with the checks of {@link runnerFor} made once: the fast path
   * under {@link PacketStream}. `cpu` is the CPU it runs on (per-CPU slots,
   * `bpf_get_smp_processor_id`): a worker thread's index.
   */
  packetRunnerFor(program: LoadedProgram, engine: Engine = interpreterEngine, cpu = 0): PacketRunner {
    const fixed = this.runSettings(program, {});
    return this.runner.packetRunner(program.prepared, program.typeId, engine, { ...fixed, cpu });
  }

  /** What {@link runnerFor} fixes for every run: the verdicts it needs, checked or not, the context size. */
  private runSettings(program: LoadedProgram, input: Pick<TestRunInput, 'checked' | 'minCtxSize' | 'safeAccesses'>): Pick<TestRunInput, 'checked' | 'minCtxSize' | 'safeAccesses'> {
    if (program.spec.loadError) throw new RejectedProgramError(program, loaderRejection(program.spec.loadError.message, program.spec.loadError.errno, program.spec.loadError));
    if (program.loadError) throw new TsbpfError(`program '${program.spec.name}' cannot run: ${program.loadError}`, { section: program.spec.section });
    let checked = input.checked;
    let minCtxSize = input.minCtxSize;
    if (this.verifyAll) {
      const result = this.verify(program);
      if (!result.accepted) throw new RejectedProgramError(program, result);
      // Unchecked only when every program a tail call can reach right now was accepted too
      // (prog arrays change only from user space, never during a run).
      const targets = this.tailCallTargets().map((p) => this.verify(p));
      checked ??= !targets.every((r) => r.accepted);
      // The context must hold every offset the program, or a program it tail-calls, was allowed to use.
      minCtxSize = Math.max(minCtxSize ?? 0, result.maxCtxOffset, ...targets.map((r) => r.maxCtxOffset));
    }
    if (program.runError) throw new TsbpfError(`program '${program.spec.name}' cannot run in tsbpf: ${program.runError}`, { section: program.spec.section });
    const safe = this.verifyAll && checked === false && input.safeAccesses === undefined ? { safeAccesses: this.safeAccesses } : {};
    return { ...(checked !== undefined ? { checked } : {}), ...(minCtxSize !== undefined ? { minCtxSize } : {}), ...safe };
  }
}

/** Loads `object` into a new machine (see {@link Collection.load}). */
export function loadCollection(object: ObjectSpec, options: LoadOptions = {}): Collection {
  return Collection.load(object, options);
}

/** Helpers that record per run where a packet goes (the hook contexts' redirect and clone state). */
const PER_RUN_HELPERS: ReadonlySet<number> = new Set([
  BpfFunc.redirect, BpfFunc.redirect_map, BpfFunc.redirect_neigh, BpfFunc.redirect_peer, BpfFunc.clone_redirect,
]);

/** Whether code calls (`call` with src 0) one of `helpers`. */
function callsAnyHelper(insns: Uint8Array, helpers: ReadonlySet<number>): boolean {
  const dv = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (let at = 0; at + 8 <= insns.length; at += 8) {
    if (insns[at] === 0x85 && (insns[at + 1]! >> 4) === 0 && helpers.has(dv.getInt32(at + 4, true))) return true;
  }
  return false;
}
