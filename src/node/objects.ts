/** Host adapter: opens BPF object files (and BTF files) for the CLI. */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { release } from 'node:os';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TsbpfError } from '../errors.js';
import { parseBtf } from '../loader/btf.js';
import type { Btf } from '../loader/btf.js';
import { linkObjects } from '../loader/linker.js';
import { kernelVersion, parseKconfig } from '../loader/kconfig.js';
import type { KconfigValue } from '../loader/kconfig.js';
import { parseObject, readObjectParts } from '../loader/object.js';
import type { ObjectSpec } from '../loader/spec.js';
import { Collection } from '../runtime/collection.js';
import type { SharedSpace } from '../vm/memory.js';
import { readFileBytes } from './files.js';
import { hostInfo } from './host.js';

/** Options for opening objects. */
export interface OpenObjectOptions {
  /** A BTF file CO-RE relocations are resolved against (e.g. /sys/kernel/btf/vmlinux); default: tsbpf's context types. */
  btf?: string;
  /** The same, already read, or read on demand (only objects with CO-RE relocations ask); `btf` is then ignored. */
  btfData?: Btf | (() => Btf | null);
  /** Number of possible CPUs (per-CPU maps, perf event arrays). */
  possibleCpus?: number;
  /** The kernel BTF `.ksyms` externs (kfuncs, typed kernel variables) resolve against (see {@link kernelBtfSource}). */
  ksymTarget?: () => Btf | null;
  /** Addresses of kernel symbols for typeless `.ksyms` externs (see {@link kernelSymbolAddressSource}). */
  ksymAddress?: (name: string) => bigint | undefined;
  /**
   * A kernel configuration file (`.config`, or gzip-compressed like /proc/config.gz) for `.kconfig` externs;
   * the running kernel's own /proc/config.gz also brings the host's `LINUX_*` values ({@link hostLinuxKconfig}).
   */
  kconfig?: string;
}

/** Where the running kernel publishes its configuration. */
export const PROC_CONFIG = '/proc/config.gz';

/**
 * The `LINUX_*` values libbpf computes from the running kernel rather than
 * from its configuration: `LINUX_KERNEL_VERSION` from the release
 * (`uname -r`), and `LINUX_HAS_SYSCALL_WRAPPER`, which libbpf finds by
 * opening a kprobe on `__<arch>_sys_bpf`: without a kprobe PMU (and
 * without the symbol) that fails, and the value is n.
 */
export function hostLinuxKconfig(): Record<string, KconfigValue> {
  const out: Record<string, KconfigValue> = {};
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release());
  if (m) out.LINUX_KERNEL_VERSION = kernelVersion(Number(m[1]), Number(m[2]), Number(m[3] ?? 0));
  const kprobes = existsSync('/sys/bus/event_source/devices/kprobe/type');
  out.LINUX_HAS_SYSCALL_WRAPPER = kprobes && (readKallsyms()?.has('__x64_sys_bpf') ?? false) ? 'y' : 'n';
  return out;
}

/** Whether `path` is the running kernel's own configuration (then the LINUX_* values come from the host too). */
function isRunningKernelConfig(path: string): boolean {
  try {
    return realpathSync(path) === realpathSync(PROC_CONFIG);
  } catch {
    return false;
  }
}

/** Reads a kernel configuration file, plain or gzip-compressed (/proc/config.gz), as `.kconfig` values. */
export function readKconfigFile(path: string): Record<string, KconfigValue> {
  let bytes = readFileBytes(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new TsbpfError(`not a valid gzip file: ${err instanceof Error ? err.message : String(err)}`, { file: path });
    }
  }
  try {
    return parseKconfig(new TextDecoder().decode(bytes));
  } catch (err) {
    if (err instanceof TsbpfError && err.location.file === undefined) throw err.withLocation({ file: path });
    throw err;
  }
}

/** Reads a raw BTF file, or an ELF object's `.BTF`. */
export function readBtfFile(path: string): Btf {
  const bytes = readFileBytes(path);
  try {
    if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
      // The section's BTF as written by clang, before libbpf-style DATASEC fix-ups (what `bpftool btf dump file` shows).
      const btf = readObjectParts(bytes, path).btf;
      if (!btf) throw new TsbpfError('the object has no .BTF section', { file: path });
      return btf;
    }
    return parseBtf(bytes, { name: basename(path) });
  } catch (err) {
    if (err instanceof TsbpfError && err.location.file === undefined) throw err.withLocation({ file: path });
    throw err;
  }
}

/** Opens one object, or statically links several (like `bpftool gen object`). */
export function openObjects(paths: readonly string[], options: OpenObjectOptions = {}): ObjectSpec {
  if (paths.length === 0) throw new TsbpfError('no object file given');
  const coreTarget = options.btfData ?? (options.btf !== undefined ? readBtfFile(options.btf) : undefined);
  const parseOptions = {
    ...(coreTarget ? { coreTarget } : {}),
    ...(options.possibleCpus !== undefined ? { possibleCpus: options.possibleCpus } : {}),
    ...(options.ksymTarget ? { ksymTarget: options.ksymTarget } : {}),
    ...(options.ksymAddress ? { ksymAddress: options.ksymAddress } : {}),
    ...(options.kconfig !== undefined ? { kconfig: { ...readKconfigFile(options.kconfig), ...(isRunningKernelConfig(options.kconfig) ? hostLinuxKconfig() : {}) } } : {}),
  };
  const withFile = <T>(file: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof TsbpfError && err.location.file === undefined) throw err.withLocation({ file });
      throw err;
    }
  };
  if (paths.length === 1) {
    const path = paths[0]!;
    return withFile(path, () => parseObject(readFileBytes(path), { name: path, ...parseOptions }));
  }
  const inputs = paths.map((path) => ({ bytes: readFileBytes(path), name: path }));
  return withFile(paths.join(' + '), () => linkObjects(inputs, parseOptions));
}

/** Where the running kernel publishes its BTF. */
export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

const kernelBtfCache = new Map<string, Btf | null>();

/**
 * The kernel BTF the verifier types kernel objects with: the file `path`
 * (`--btf`), or the running kernel's /sys/kernel/btf/vmlinux when there is
 * one. A function that reads (and caches) it on first use, so programs that
 * never need it cost nothing.
 */
export function kernelBtfSource(path?: string): () => Btf | null {
  return () => {
    const file = path ?? VMLINUX_BTF;
    let btf = kernelBtfCache.get(file);
    if (btf === undefined) {
      btf = path === undefined && !existsSync(file) ? null : readBtfFile(file);
      kernelBtfCache.set(file, btf);
    }
    return btf;
  };
}

/** Where the running kernel lists its symbols. */
export const KALLSYMS = '/proc/kallsyms';

let kallsyms: Set<string> | null | undefined;

/** The names in /proc/kallsyms (llvm's `.llvm.N` suffixes dropped, as kallsyms_lookup_name does), or null when unreadable. */
export function readKallsyms(): Set<string> | null {
  if (kallsyms === undefined) {
    try {
      const names = new Set<string>();
      for (const line of readFileSync(KALLSYMS, 'latin1').split('\n')) {
        const name = line.split(/\s+/)[2];
        if (!name) continue;
        names.add(name);
        const llvm = name.indexOf('.llvm.');
        if (llvm > 0) names.add(name.slice(0, llvm));
      }
      kallsyms = names.size ? names : null;
    } catch {
      kallsyms = null;
    }
  }
  return kallsyms;
}

let kallsymAddresses: Map<string, bigint> | null | undefined;

/** Each symbol's address in /proc/kallsyms (the first when a name repeats, as libbpf's reader keeps it; zeros for a reader without CAP_SYSLOG), or null when unreadable. */
function readKallsymAddresses(): Map<string, bigint> | null {
  if (kallsymAddresses === undefined) {
    try {
      const out = new Map<string, bigint>();
      for (const line of readFileSync(KALLSYMS, 'latin1').split('\n')) {
        const [addr, , name] = line.split(/\s+/);
        if (!addr || !name || !/^[0-9a-f]+$/i.test(addr)) continue;
        if (!out.has(name)) out.set(name, BigInt(`0x${addr}`));
      }
      kallsymAddresses = out.size ? out : null;
    } catch {
      kallsymAddresses = null;
    }
  }
  return kallsymAddresses;
}

/**
 * Where the kernel has a symbol, for typeless `.ksyms` externs
 * (`extern const void sym __ksym;`, which libbpf resolves from
 * /proc/kallsyms): the running kernel's addresses, when the kernel BTF in
 * use is the running kernel's (`path` unset or /sys/kernel/btf/vmlinux);
 * otherwise undefined (no addresses are known).
 */
export function kernelSymbolAddressSource(path?: string): ((name: string) => bigint | undefined) | undefined {
  if (path !== undefined) {
    try {
      if (realpathSync(path) !== realpathSync(VMLINUX_BTF)) return undefined;
    } catch {
      return undefined;
    }
  }
  if (!existsSync(KALLSYMS)) return undefined;
  return (name) => readKallsymAddresses()?.get(name);
}

/**
 * Whether the kernel has an address for a symbol, for the verifier
 * (`kernelSymbols`): the running kernel's /proc/kallsyms, when the kernel
 * BTF in use is the running kernel's (`path` unset or
 * /sys/kernel/btf/vmlinux); otherwise undefined (not known).
 */
export function kernelSymbolsSource(path?: string): ((name: string) => boolean) | undefined {
  if (path !== undefined) {
    try {
      if (realpathSync(path) !== realpathSync(VMLINUX_BTF)) return undefined;
    } catch {
      return undefined;
    }
  }
  if (!existsSync(KALLSYMS)) return undefined;
  return (name) => readKallsyms()?.has(name) ?? false;
}

/**
 * How to load object files into a collection: plain data, so a worker
 * thread can be given the same and load the same ({@link loadObjectFiles}).
 */
export interface ObjectFilesLoad {
  /** The object files (several are linked into one). */
  readonly files: readonly string[];
  /** Kernel BTF file (`--btf`); default: the running kernel's when present. */
  readonly btf?: string;
  /** Kernel configuration file for `.kconfig` externs (`--kconfig`). */
  readonly kconfig?: string;
  /** Per-CPU slots of per-CPU maps (default 1). */
  readonly possibleCpus?: number;
  /** Program type of every program, overriding the sections'. */
  readonly progType?: number;
  /** `expected_attach_type` of every program. */
  readonly attachType?: number;
  /** false: nothing is verified and every run is checked. */
  readonly verify?: boolean;
  /** Verifier log level (default 0; a rejection always has its failing path's log). */
  readonly verifierLogLevel?: 0 | 1 | 2;
  /** Back the memory with a SharedArrayBuffer (worker threads). */
  readonly shared?: boolean;
}

/**
 * Opens and loads object files as libbpf on this machine would: CO-RE,
 * ksyms and the verifier's kernel types from `btf`, else the running
 * kernel's BTF when there is one; the current process as the current task.
 * `attach` loads into another thread's shared memory (Collection's
 * `attach`). Returns the collection and the loader's log.
 */
export function loadObjectFiles(load: ObjectFilesLoad, attach?: SharedSpace): { collection: Collection; log: string[] } {
  const cpus = load.possibleCpus ?? 1;
  const kernelBtf = kernelBtfSource(load.btf);
  const symbols = kernelSymbolsSource(load.btf);
  const addresses = kernelSymbolAddressSource(load.btf);
  const object = openObjects(load.files, {
    btfData: kernelBtf, ...(load.kconfig !== undefined ? { kconfig: load.kconfig } : {}), possibleCpus: cpus, ksymTarget: kernelBtf,
    ...(addresses ? { ksymAddress: addresses } : {}),
  });
  const collection = Collection.load(object, {
    possibleCpus: cpus,
    host: hostInfo(),
    verify: load.verify ?? true,
    verifierLogLevel: load.verifierLogLevel ?? 0,
    kernelBtf,
    ...(symbols ? { kernelSymbols: symbols } : {}),
    ...(load.progType !== undefined ? { progType: load.progType, forceProgType: true } : {}),
    ...(load.attachType !== undefined ? { expectedAttachType: load.attachType } : {}),
    ...(load.shared || attach ? { shared: true } : {}),
    ...(attach ? { attach } : {}),
  });
  return { collection, log: [...object.log, ...collection.log] };
}
