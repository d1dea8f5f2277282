/**
 * `tsbpf verify FILE`: runs tsbpf's verifier (src/verifier, the Linux
 * verifier's rules) on a raw or assembled program, or on every program of a
 * BPF object (the program type from the section name, as libbpf decides it).
 * Exit status 1 when any program is rejected; a rejected program's log goes
 * to stderr the way libbpf/bpftool print the verifier log.
 */
import { UsageError, validAttachType, validChoice, validLogLevel, validProgType } from '../options.js';
import type { Command } from 'commander';
import { basename } from 'node:path';
import { kernelBtfSource, kernelSymbolAddressSource, kernelSymbolsSource, openObjects } from '../../node/objects.js';
import { loadProgramFile, readFileBytes } from '../../node/files.js';
import { PROG_TYPE_NAMES, verify, verifyObjectProgram } from '../../verifier/index.js';
import { attachTypeId, progTypeId } from '../../hooks/program-types.js';
import { objectMapProblems, unbackedMapUse, withMapFailures } from '../../runtime/map-problems.js';
import { printLoaderLog } from '../object-run.js';
import type { VerifierMapSpec, VerifyResult } from '../../verifier/index.js';
import { out } from '../output.js';
import { parseLogLevel, printVerifierLog, verdictRow } from '../verifier-output.js';
import { MapType } from '../../isa/uapi.js';

interface VerifyFlags {
  progType?: string;
  kconfig?: string;
  attachType?: string;
  attachTo?: string;
  logLevel: string;
  json?: boolean;
  license?: string;
  map?: string[];
  btf?: string;
  ptrLeaks: boolean;
  syntax: 'auto' | 'llvm' | 'conformance';
  debug?: boolean;
}

/** One verified program, as printed. */
interface Row {
  name: string;
  section: string;
  type: string;
  result: VerifyResult;
  /** Why tsbpf could not run the program although it verifies (a map it uses that tsbpf does not back). */
  runError?: string;
}

/** `--map type:key_size:value_size:max_entries[:flags]`, e.g. `hash:4:8:16`. */
function parseMap(spec: string): VerifierMapSpec {
  const [type, key, value, entries, flags] = spec.split(':');
  const types = MapType as Readonly<Record<string, number>>;
  const t = type === undefined ? NaN : /^\d+$/.test(type) ? Number(type) : types[type.toUpperCase()];
  const nums = [key, value, entries].map((x) => (x !== undefined && /^\d+$/.test(x) ? Number(x) : NaN));
  if (t === undefined || Number.isNaN(t) || nums.some((n) => Number.isNaN(n))) {
    throw new UsageError(`--map ${spec}: expected TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES[:FLAGS] (e.g. hash:4:8:16)`);
  }
  return { type: t, keySize: nums[0]!, valueSize: nums[1]!, maxEntries: nums[2]!, flags: flags !== undefined ? Number(flags) : 0 };
}

function isElf(path: string): boolean {
  const b = readFileBytes(path);
  return b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/** Registers `verify`. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify a program (.s/.asm text, raw .bin instructions) or every program of a BPF object like the Linux verifier')
    .argument('<file>', 'program or object file')
    .option('--prog-type <type>', 'program type (xdp, socket_filter, sched_cls, kprobe, ...); objects: overrides the section\'s type', validProgType)
    .option('--attach-type <type>', 'expected attach type (cgroup_inet_ingress, trace_fentry, trace_raw_tp, ...)', validAttachType)
    .option('--attach-to <name>', 'raw tracing/LSM programs: the attach point (function, tp_btf tracepoint, LSM hook or iterator name), found in the kernel BTF')
    .option('--log-level <n>', '0, 1 (the failing path) or 2 (every instruction); logs go to stderr', validLogLevel, '0')
    .option('--json', 'print {"programs":[{name, section, type, accepted, error, insns_processed}]}')
    .option('--license <license>', 'license string (default GPL; objects: their license section)')
    .option('--map <spec>', 'a map for raw programs, by index: TYPE:KEY:VALUE:ENTRIES[:FLAGS] (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--btf <path>', 'kernel BTF (e.g. /sys/kernel/btf/vmlinux): CO-RE relocations of objects are resolved against it, and the verifier types kernel objects (tracing/LSM arguments, BTF pointers) with it; default: /sys/kernel/btf/vmlinux when present (else tsbpf\'s context types)')
    .option('--kconfig <file>', 'objects: kernel configuration for `.kconfig` externs, a .config file or gzip-compressed like /proc/config.gz (default: tsbpf\'s built-in Linux 6.18 x86-64 values)')
    .option('--no-ptr-leaks', 'check pointer leaks as for a loader without CAP_PERFMON (R0 leaks addr as return value, ...)')
    .option('--syntax <syntax>', 'assembly syntax of text files: auto, llvm, conformance', validChoice(['auto', 'llvm', 'conformance']), 'auto')
    .option('--debug', 'objects: print the loader\'s log (libbpf-style debug lines) to stderr')
    .action((file: string, flags: VerifyFlags) => {
      const level = parseLogLevel(flags.logLevel);
      // At level 0 tsbpf still gets the level-1 log of a rejected program, for stderr.
      const runLevel = level;
      const rows: Row[] = [];
      const override = flags.progType !== undefined ? progTypeId(flags.progType) : undefined;
      const attach = flags.attachType !== undefined ? attachTypeId(flags.attachType) : undefined;
      const kernelBtf = kernelBtfSource(flags.btf);
      const syms = kernelSymbolsSource(flags.btf);
      const kernelSymbols = syms ? { kernelSymbols: syms } : {};
      if (isElf(file)) {
        // CO-RE against the kernel BTF the verifier uses (the machine's by default), as libbpf resolves it on that kernel
        const addresses = kernelSymbolAddressSource(flags.btf);
        const obj = openObjects([file], {
          btfData: kernelBtf, ...(flags.kconfig !== undefined ? { kconfig: flags.kconfig } : {}), ksymTarget: kernelBtf, ...(addresses ? { ksymAddress: addresses } : {}),
        });
        printLoaderLog(obj.log, flags);
        if (obj.programs.length === 0) {
          // libbpf opens such an object (maps only) and loads it; there is nothing to verify, which is not an error
          out(flags.json ? JSON.stringify({ programs: [] }) : `${basename(file)}: no programs (${obj.maps.length} map${obj.maps.length === 1 ? '' : 's'})`);
          return;
        }
        const license = flags.license ?? obj.license;
        // Each program is judged on its own: a map Linux refuses fails the programs that use it.
        const problems = objectMapProblems(obj);
        for (const p of obj.programs) {
          const type = override ?? p.type;
          const spec = withMapFailures(p, problems);
          const result = verifyObjectProgram({ ...obj, license }, {
            ...spec, ...(attach !== undefined ? { expectedAttachType: attach } : {}),
          }, { logLevel: runLevel, logOnFailure: true, progType: type, allowPtrLeaks: flags.ptrLeaks, kernelBtf, ...kernelSymbols });
          const runError = result.accepted ? unbackedMapUse(spec, problems) : undefined;
          rows.push({ name: p.name, section: p.section, type: PROG_TYPE_NAMES[type] ?? String(type), result, ...(runError ? { runError } : {}) });
        }
      } else {
        const { bytes } = loadProgramFile(file, flags.syntax);
        const type = override ?? progTypeId('socket_filter');
        const result = verify({
          insns: bytes,
          progType: type,
          license: flags.license ?? 'GPL',
          maps: (flags.map ?? []).map(parseMap),
          ...(attach !== undefined ? { expectedAttachType: attach } : {}),
          ...(flags.attachTo !== undefined ? { attachTo: flags.attachTo } : {}),
        }, { logLevel: runLevel, logOnFailure: true, allowPtrLeaks: flags.ptrLeaks, kernelBtf, ...kernelSymbols });
        rows.push({ name: basename(file), section: '', type: PROG_TYPE_NAMES[type] ?? String(type), result });
      }
      for (const row of rows) printVerifierLog(row.name, row.result, level);
      if (flags.json) {
        out(JSON.stringify({
          programs: rows.map((row) => ({ ...verdictRow(row.name, row.section, row.type, row.result), ...(row.runError ? { run_error: row.runError } : {}) })),
        }));
      } else {
        for (const row of rows) {
          const where = row.section ? `${row.name} [${row.section}] (${row.type})` : `${row.name} (${row.type})`;
          out(row.result.accepted
            ? `${where}: accepted, ${row.result.insnsProcessed} insns processed${row.runError ? ` (tsbpf cannot run it: ${row.runError})` : ''}`
            : `${where}: ${row.result.stage === 'loader' ? 'not loaded' : 'rejected'}: ${row.result.error}`);
        }
      }
      if (rows.some((row) => !row.result.accepted)) process.exitCode = 1;
    });
}
