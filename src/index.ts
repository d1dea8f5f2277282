/**
 * tsbpf: a BPF system in TypeScript. This is the library's public surface
 * (docs/api.md): assemble and disassemble programs, load the objects clang
 * builds, verify them as Linux does, run them on the interpreter or the
 * WebAssembly JIT with their maps, over packets and captures; classic BPF,
 * pcap filters and seccomp. Everything here runs in browsers too (no Node
 * built-ins).
 *
 * Deeper layers have entry points of their own: `tsbpf/isa` (every opcode,
 * instruction type and Linux constant), `tsbpf/loader` (ELF, BTF, CO-RE,
 * sections, the linker), `tsbpf/maps` (the map implementations),
 * `tsbpf/low-level` (the address space, helper tables, contexts, the JIT's
 * WebAssembly), and `tsbpf/node` (files, captures on disk, the kernel's
 * `bpf(2)`).
 */

// ---- Errors ---------------------------------------------------------------
export { TsbpfError, InstructionError, AssemblerError, VmError, PacketRefusedError, formatLocated } from './errors.js';
export type { ErrorLocation } from './errors.js';

// ---- Instructions: assembly, disassembly, encoding ------------------------
export { assemble, disassemble, formatInstruction } from './asm/index.js';
export type { AssembledProgram, Syntax } from './asm/index.js';
export { decodeProgram, encodeProgram } from './isa/index.js';
export type { Instruction } from './isa/index.js';

// ---- Linux's BPF vocabulary -----------------------------------------------
export {
  ProgType, AttachType, MapType, MapFlags, UpdateFlags, XdpAction, TcAction, BpfFunc,
  PROG_TYPE_NAMES, ATTACH_TYPE_NAMES, MAP_TYPE_NAMES, helperName, helperId,
} from './isa/uapi.js';
export { progTypeId, progTypeName } from './hooks/program-types.js';

// ---- Objects --------------------------------------------------------------
export { parseObject, linkObjects, parseBtf, Btf, LoaderError } from './loader/index.js';
export type { ParseObjectOptions, ObjectSpec, ProgramSpec, ObjectMapSpec, LoadFailure } from './loader/index.js';

// ---- Verifier -------------------------------------------------------------
export { verify, verifyObjectProgram, assertVerified, VerifierError, kernelErrorLine } from './verifier/index.js';
export type { VerifyProgram, VerifyOptions, VerifyResult, VerifyStats, VerifierMapSpec } from './verifier/index.js';

// ---- Running programs -----------------------------------------------------
export { Machine } from './vm/machine.js';
export type { MachineOptions } from './vm/machine.js';
export { prepareProgram } from './vm/prepared-program.js';
export type { PreparedProgram, PrepareOptions } from './vm/prepared-program.js';
export { interpret } from './vm/interpreter.js';
export type { RunOptions, RunResult, TraceStep } from './vm/interpreter.js';
export { interpreterEngine } from './vm/engine.js';
export type { Engine, LoadedRunner } from './vm/engine.js';
export { jitEngine } from './jit/index.js';
export { engineByName, ENGINE_NAMES } from './engines.js';
export type { EngineName } from './engines.js';
export { Collection, loadCollection, RejectedProgramError } from './runtime/collection.js';
export type { LoadedProgram, LoadOptions } from './runtime/collection.js';
export type { PacketRunner, TestRunInput, TestRunResult } from './hooks/test-run.js';

// ---- Maps from user space -------------------------------------------------
export { BpfMap, MapError, MapBatchError, RingBuffer, PerfBuffer } from './vm/maps/index.js';
export type {
  MapEntry, MapSpec, BatchResult, RingBufferCallback, PerfBufferOptions, PerfSampleCallback, PerfLostCallback, PerfRecord,
} from './vm/maps/index.js';
export { applyMapInit, dumpMap, dumpMaps, parseMapInitJson, parseMapsJson } from './runtime/map-io.js';
export type { MapInitEntry, MapDumpEntry } from './runtime/map-io.js';

// ---- Packets and captures -------------------------------------------------
export { PacketStream, actionName, hookOfType, passes, redirectPorts } from './runtime/packet-stream.js';
export type { PacketIn, PacketOutcome, PacketHook, StreamSummary } from './runtime/packet-stream.js';
export { CaptureReader, CaptureError, LinkType, toEthernet } from './capture/read.js';
export type { CapturedPacket, CaptureInterface, CaptureFormat } from './capture/read.js';
export { CaptureWriter } from './capture/write.js';
export type { CaptureWriterOptions, PacketToWrite } from './capture/write.js';

// ---- Conformance ----------------------------------------------------------
export { parseConformance } from './conformance/data-format.js';
export type { ConformanceTest } from './conformance/data-format.js';
export { runConformanceText } from './conformance/run-conformance.js';
export type { ConformanceOutcome } from './conformance/run-conformance.js';

// ---- Classic BPF, pcap filters, seccomp ----------------------------------
/**
 * Classic BPF (cBPF): instructions and opcode fields (under `classic`, as
 * eBPF's share their names), the libpcap interpreter, tcpdump's three
 * listings and their assembler, Linux's and libpcap's structural checks,
 * and the translation to eBPF (docs/classic.md).
 */
export * as classic from './cbpf/insn.js';
export type { CbpfInsn } from './cbpf/insn.js';
export { runClassic, ClassicRunError } from './cbpf/classic-interpreter.js';
export type { ClassicRunOptions, SkbMetadata } from './cbpf/classic-interpreter.js';
export { formatClassic, formatClassicInsn } from './cbpf/listings.js';
export type { ClassicFormat, FormatOptions as ClassicFormatOptions } from './cbpf/listings.js';
export { assembleClassic } from './cbpf/assemble.js';
export type { AssembleOptions as ClassicAssembleOptions } from './cbpf/assemble.js';
export { checkClassic, ClassicCheckError } from './cbpf/classic-check.js';
export type { ClassicRule, CheckOptions as ClassicCheckOptions } from './cbpf/classic-check.js';
export { classicToEbpf, ClassicTranslateError } from './cbpf/to-ebpf.js';
export type { TranslateOptions as ClassicTranslateOptions } from './cbpf/to-ebpf.js';
/**
 * The pcap-filter language (`tcp port 80 and host 10.0.0.1`) compiled to
 * classic BPF as libpcap does, for Ethernet, raw IP, Linux SLL/SLL2 and
 * null/loopback link types; errors are {@link FilterError}s with the
 * character offset. See docs/filter.md.
 */
export { compileFilter, FilterError, SUPPORTED_LINK_TYPES } from './cbpf/filter/index.js';
export type { CompileFilterOptions } from './cbpf/filter/index.js';
/** seccomp filters: seccomp_data, the kernel's checks, runs, actions, architectures and a policy compiler (docs/classic.md). */
export {
  SeccompRet, AUDIT_ARCH, syscallNumber, encodeSeccompData, checkSeccompFilter, SeccompFilterError, seccompVerdict, runSeccomp, runSeccompStack,
  compileSeccompPolicy, SeccompPolicyError,
} from './hooks/seccomp.js';
export type {
  SeccompData, SeccompActionName, SeccompVerdict, SeccompRunOptions, SeccompPolicy, SeccompPolicyAction, SeccompRule, SeccompArgCheck,
} from './hooks/seccomp.js';
