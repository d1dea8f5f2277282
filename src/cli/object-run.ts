/**
 * What `prog run`, `map dump` and `prog tracelog` share: opening an object,
 * loading it, choosing a program and running it with test-run inputs.
 */
import { PROG_TYPE_NAMES } from '../isa/uapi.js';
import type { Command } from 'commander';
import { ENGINE_NAMES, engineByName } from '../engines.js';
import { attachTypeId, progTypeId } from '../hooks/program-types.js';
import type { TestRunResult } from '../hooks/test-run.js';
import { NetNamespace } from '../hooks/net.js';
import { parseTunnelJson } from '../hooks/tunnel-helpers.js';
import { loadObjectFiles } from '../node/objects.js';
import type { ObjectFilesLoad } from '../node/objects.js';
import { readFileBytes, readTextFile } from '../node/files.js';
import type { Collection, LoadedProgram } from '../runtime/collection.js';
import { applyMapInit, parseMapInitJson, parseMapsJson } from '../runtime/map-io.js';
import type { MapInitEntry } from '../runtime/map-io.js';
import { UsageError, parseCount, parseRepeat, validAttachType, validChoice, validCount, validLogLevel, validNanoseconds, validProgType, validRepeat } from './options.js';
import { printTraceStep } from './trace.js';
import { parseLogLevel, printVerifierLog } from './verifier-output.js';
import { err } from './output.js';

/** Flags of commands that load an object. */
export interface LoadFlags {
  /** Link several objects into one (`--link`). */
  link?: boolean;
  btf?: string;
  kconfig?: string;
  cpus?: string;
  progType?: string;
  attachType?: string;
  /** Print the loader's log (libbpf-style debug lines) to stderr. */
  debug?: boolean;
  /** false with --no-verify. */
  verify?: boolean;
  logLevel?: string;
}

/** Flags of commands that run a program. */
export interface RunFlags extends LoadFlags {
  section?: string;
  name?: string;
  dataIn?: string;
  ctxIn?: string;
  repeat?: string;
  mapInit?: string[];
  engine: string;
  budget?: string;
  unsafe?: boolean;
  trace?: boolean;
  fib?: string;
  tunnel?: string;
  advanceTimers?: string;
}

/** Adds the object-loading options. */
export function addLoadOptions(cmd: Command): Command {
  return cmd
    .option('--btf <file>', 'kernel BTF that CO-RE relocations, ksyms and the verifier\'s kernel types are resolved against (default: /sys/kernel/btf/vmlinux when present, else tsbpf\'s context types)')
    .option('--kconfig <file>', 'kernel configuration for `.kconfig` externs: a .config file, or gzip-compressed like /proc/config.gz (default: tsbpf\'s built-in Linux 6.18 x86-64 values)')
    .option('--cpus <n>', 'number of possible CPUs, i.e. per-CPU map slots (default 1)', validCount)
    .option('--prog-type <type>', 'program type of every program, overriding the section\'s (xdp, sched_cls, socket_filter, kprobe, kretprobe, ...)', validProgType)
    .option('--attach-type <type>', 'expected attach type of every program, overriding the section\'s (cgroup_inet_ingress, xdp, ...)', validAttachType)
    .option('--link', 'link several object files into one (like `bpftool gen object`); without it, only prog load and prog show take several objects, side by side')
    .option('--debug', 'print the loader\'s log (what libbpf -d prints: maps, relocations, fix-ups, conventions) to stderr')
    .option('--no-verify', 'skip the verifier: programs then always run with bounds checks and a budget')
    .option('--log-level <n>', 'verifier log on stderr: 1 the failing path, 2 every instruction (rejected programs always print level 1)', validLogLevel, '0');
}

/** Adds the program-running options. */
export function addRunOptions(cmd: Command): Command {
  return addLoadOptions(cmd)
    .option('--section <name>', 'run the program in this ELF section')
    .option('--name <function>', 'run the program with this function name')
    .option('--data-in <file>', 'packet to run on (data_in)')
    .option('--ctx-in <file>', 'context to run with (ctx_in), e.g. a struct __sk_buff or pt_regs')
    .option('--repeat <n>', 'run this many times (0 to 4294967295; 0 runs once, as in the kernel); the duration is the average', validRepeat, '1')
    .option('--map-init <name=file>', 'initial contents of a map from a JSON file [{"key":"hex","value":"hex"}...], or of several maps from a file {"name":[...]} as --json prints them and --map-out writes (repeatable)', collect, [])
    .option('--engine <name>', 'execution engine: interp or jit', validChoice(ENGINE_NAMES), 'interp')
    .option('--budget <n>', 'instruction budget per run', validCount)
    .option('--unsafe', 'unchecked mode: accesses guarded by page rights only, no budget (only for programs known to be safe)')
    .option('--trace', 'print every executed instruction with the registers it changed to stderr (interpreter)')
    .option('--fib <file>', 'the network the run sees, as JSON: {"interfaces":[...],"routes":[...],"neighbours":[...]} (docs/hooks.md); default: the test-run namespace, lo alone and down')
    .option('--advance-timers <ns>', 'after the run, move the timers\' virtual clock forward by this many nanoseconds, running the timer callbacks that expire (docs/helpers.md)', validNanoseconds)
    .option('--tunnel <file>', 'tunnel metadata the packet arrived with, as JSON: {"family":4,"id":N,"src":"ip","dst":"ip","tos":N,"ttl":N,"label":N} (__sk_buff programs)');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--prog-type` and `--attach-type` as ids (undefined when not given); unknown names are clear errors. */
export function typeOverrides(flags: Pick<LoadFlags, 'progType' | 'attachType'>): { progType?: number; attachType?: number } {
  return {
    ...(flags.progType !== undefined ? { progType: progTypeId(flags.progType) } : {}),
    ...(flags.attachType !== undefined ? { attachType: attachTypeId(flags.attachType) } : {}),
  };
}

/** Prints the loader's (and the collection's) log to stderr with `--debug`. */
export function printLoaderLog(lines: readonly string[], flags: Pick<LoadFlags, 'debug'>): void {
  if (flags.debug) for (const l of lines) err(`libbpf: ${l}`);
}

/** The object-loading flags as {@link loadObjectFiles} takes them (what a worker thread is given too). */
export function objectLoad(files: readonly string[], flags: LoadFlags, extra: { possibleCpus?: number; shared?: boolean } = {}): ObjectFilesLoad {
  if (files.length > 1 && !flags.link) {
    throw new UsageError(`${files.length} object files given: --link links them into one (like bpftool gen object)`);
  }
  const cpus = Math.max(flags.cpus !== undefined ? parseCount(flags.cpus, '--cpus') : 1, extra.possibleCpus ?? 1);
  const { progType, attachType } = typeOverrides(flags);
  const level = parseLogLevel(flags.logLevel ?? '0');
  return {
    files, possibleCpus: cpus, verify: flags.verify ?? true, verifierLogLevel: level,
    ...(flags.btf !== undefined ? { btf: flags.btf } : {}),
    ...(flags.kconfig !== undefined ? { kconfig: flags.kconfig } : {}),
    ...(progType !== undefined ? { progType } : {}),
    ...(attachType !== undefined ? { attachType } : {}),
    ...(extra.shared ? { shared: true } : {}),
  };
}

/** Opens and loads the object files. */
export function loadObject(files: readonly string[], flags: LoadFlags): Collection {
  const { collection, log } = loadObjectFiles(objectLoad(files, flags));
  printLoaderLog(log, flags);
  return collection;
}

/** Parses `--map-init name=file` options into initial contents. */
export function mapInitFromFlags(specs: readonly string[]): Record<string, MapInitEntry[]> {
  const init: Record<string, MapInitEntry[]> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq < 0) {
      // a whole --map-out document: every map it names
      for (const [name, entries] of Object.entries(parseMapsJson(readTextFile(spec), spec))) init[name] = [...(init[name] ?? []), ...entries];
      continue;
    }
    if (eq === 0) throw new UsageError(`--map-init: expected NAME=FILE or FILE, got '${spec}'`);
    const name = spec.slice(0, eq);
    const file = spec.slice(eq + 1);
    init[name] = [...(init[name] ?? []), ...parseMapInitJson(readTextFile(file), file)];
  }
  return init;
}

/**
 * Chooses the program: by --name, by --section, or the only one. An object
 * with several programs needs one of the flags: running the first would
 * silently pick one the user may not mean (a tail-call target rather than
 * the entry point).
 */
export function chooseProgram(collection: Collection, flags: RunFlags): LoadedProgram {
  if (flags.name === undefined && flags.section === undefined && collection.programs.length > 1) {
    throw new UsageError(`${collection.object.file ?? collection.object.name} holds ${collection.programs.length} programs: choose one with --name or --section (${programList(collection.programs)})`);
  }
  return collection.program({
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.section !== undefined ? { section: flags.section } : {}),
  });
}

/** `name [section, type]` of each program, for messages. */
export function programList(programs: readonly LoadedProgram[]): string {
  return programs.map((p) => `${p.spec.name} [${p.spec.section}, ${PROG_TYPE_NAMES[p.typeId] ?? p.typeId}]`).join(', ');
}

/** Loads, initialises maps, chooses and runs the program. */
export function runFromFlags(files: readonly string[], flags: RunFlags): { collection: Collection; program: LoadedProgram; result: TestRunResult; timersFired?: number } {
  const collection = loadObject(files, flags);
  // The network first: devmap entries name its devices.
  if (flags.fib !== undefined) collection.network = NetNamespace.fromJson(readTextFile(flags.fib), flags.fib);
  applyMapInit(collection, mapInitFromFlags(flags.mapInit ?? []));
  const program = chooseProgram(collection, flags);
  const engine = engineByName(flags.engine);
  if (collection.verifies) {
    const verdict = collection.verify(program);
    printVerifierLog(program.spec.name, verdict, parseLogLevel(flags.logLevel ?? '0'));
  }
  // the JIT has no per-instruction hook: say so instead of silently switching engines
  if (flags.trace && flags.engine === 'jit') err('note: --trace runs the program on the interpreter (the JIT cannot trace instructions)');
  const result = collection.run(program, {
    ...(flags.dataIn !== undefined ? { dataIn: readFileBytes(flags.dataIn) } : {}),
    ...(flags.ctxIn !== undefined ? { ctxIn: readFileBytes(flags.ctxIn) } : {}),
    repeat: parseRepeat(flags.repeat ?? '1'),
    ...(flags.budget !== undefined ? { budget: parseCount(flags.budget, '--budget') } : {}),
    ...(flags.unsafe ? { checked: false } : {}),
    ...(flags.trace ? { trace: printTraceStep } : {}),
    ...(flags.tunnel !== undefined ? { tunnel: parseTunnelJson(readTextFile(flags.tunnel), flags.tunnel) } : {}),
  }, flags.trace ? engineByName('interp') : engine);
  if (flags.advanceTimers !== undefined) {
    return { collection, program, result, timersFired: collection.advanceTimers(BigInt(flags.advanceTimers), engine) };
  }
  return { collection, program, result };
}
