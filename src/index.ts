/**
 * tsbpf: a BPF system in TypeScript. This entry point exports the portable
 * core (no Node built-ins): the instruction set, the assembler and
 * disassembler, the address space, the interpreter and the hooks.
 */
export * from './errors.js';
export * from './isa/index.js';
export { assemble, disassemble, formatInstruction } from './asm/index.js';
export type { AssembledProgram, Syntax } from './asm/index.js';
export { AddressSpace, GUARD_SIZE, WASM_PAGE } from './vm/memory.js';
export type { AddressSpaceOptions, Region, RegionKind, SharedSpace, SpaceLayout } from './vm/memory.js';
export { Machine, Cpu, REGFILE_SIZE } from './vm/machine.js';
export type { MachineOptions } from './vm/machine.js';
export { HelperCall, HelperTable } from './vm/helpers.js';
export type { Helper, HelperFn } from './vm/helpers.js';
export { standardHelpers, monotonicClock } from './vm/helpers/basic.js';
export type { Clock } from './vm/helpers/basic.js';
export { prepareProgram } from './vm/program.js';
export type { PreparedProgram, PrepareOptions } from './vm/program.js';
export { interpret, Execution, DEFAULT_BUDGET, MAY_GOTO_BUDGET } from './vm/interpreter.js';
export type { RunOptions, RunResult, TraceStep } from './vm/interpreter.js';
export { interpreterEngine } from './vm/engine.js';
export type { Engine, LoadedRunner } from './vm/engine.js';
export { engineByName, ENGINE_NAMES } from './engines.js';
export { XdpContext, XdpMd, XdpAction, XDP_HEADROOM, XDP_MAX_FRAME } from './hooks/xdp.js';
export { parseConformance, rawToBytes } from './conformance/format.js';
export type { ConformanceTest } from './conformance/format.js';
export { runConformanceText } from './conformance/run.js';
export type { ConformanceOutcome } from './conformance/run.js';
export * from './loader/index.js';
export * from './vm/maps/index.js';
export { mapHelpers } from './vm/helpers/maps.js';
export { vmHelpers, helperTable, TracePipe, formatTraceLine, DEFAULT_HOST } from './vm/helpers/index.js';
export type { VmHelperOptions, TraceLine, HostInfo } from './vm/helpers/index.js';
export { HookContexts } from './hooks/contexts.js';
export { SkbContext, SkBuff, SK_BUFF_SIZE } from './hooks/skb.js';
export { helpersForType } from './hooks/helpers.js';
export { progTypeId, progTypeName, contextKind } from './hooks/program-types.js';
export { TestRunner } from './hooks/test-run.js';
export type { PacketRunner, TestRunInput, TestRunResult } from './hooks/test-run.js';
export { Collection, loadCollection } from './runtime/collection.js';
export type { LoadedProgram, LoadOptions } from './runtime/collection.js';
export { applyMapInit, dumpMap, dumpMaps, parseMapInitJson, parseMapsJson } from './runtime/map-io.js';
export { PacketStream, actionName, hookOfType, passes, redirectPorts } from './runtime/packet-stream.js';
export type { PacketIn, PacketOutcome, PacketHook, StreamSummary } from './runtime/packet-stream.js';
export { concurrencyProblem, workerProblems } from './runtime/concurrency.js';
export { flowHash } from './runtime/flow-hash.js';
export { CaptureReader, CaptureError, LinkType, toEthernet } from './capture/read.js';
export type { CapturedPacket, CaptureInterface, CaptureFormat } from './capture/read.js';
export { CaptureWriter } from './capture/write.js';
export type { CaptureWriterOptions, PacketToWrite } from './capture/write.js';
export type { MapInitEntry, MapDumpEntry } from './runtime/map-io.js';
export { objectMapProblems, mapProblemOf, withMapFailures, unbackedMapUse, mapsUsedBy } from './runtime/map-problems.js';
export type { MapProblem } from './runtime/map-problems.js';
export { verify, verifyObjectProgram, assertVerified, VerifierError, kernelErrorLine } from './verifier/index.js';
export type { VerifyProgram, VerifyOptions, VerifyResult, VerifyStats, VerifierMapSpec } from './verifier/index.js';
export { RejectedProgramError } from './runtime/collection.js';
export { jitEngine, programToWat, compileToWasm } from './jit/index.js';
/**
 * Classic BPF (cBPF): instructions and opcode fields (under `classic`, as
 * eBPF's share their names), the libpcap interpreter, tcpdump's three
 * listings and their assembler, Linux's and libpcap's structural checks,
 * and the translation to eBPF (docs/classic.md).
 */
export * as classic from './cbpf/insn.js';
export type { CbpfInsn } from './cbpf/insn.js';
export { runClassic, ClassicRunError } from './cbpf/interpreter.js';
export type { ClassicRunOptions, SkbMetadata } from './cbpf/interpreter.js';
export { formatClassic, formatClassicInsn, classicMnemonic, ANCILLARY_NAMES } from './cbpf/format.js';
export type { ClassicFormat, FormatOptions as ClassicFormatOptions } from './cbpf/format.js';
export { assembleClassic } from './cbpf/assemble.js';
export type { AssembleOptions as ClassicAssembleOptions } from './cbpf/assemble.js';
export { checkClassic, findClassicProblem, ClassicCheckError, LINUX_CLASSIC_OPCODES } from './cbpf/check.js';
export type { ClassicRule, CheckOptions as ClassicCheckOptions } from './cbpf/check.js';
export { classicToEbpf, ClassicTranslateError, ClassicRegs, SK_BUFF_FIELDS } from './cbpf/to-ebpf.js';
export type { TranslateOptions as ClassicTranslateOptions } from './cbpf/to-ebpf.js';
/** seccomp filters: seccomp_data, the kernel's checks, runs, actions, architectures and a policy compiler (docs/classic.md). */
export {
  SECCOMP_DATA_SIZE, SeccompDataOffset, SeccompRet, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_DATA, MAX_ERRNO, AUDIT_ARCH, SYSCALL_TABLES,
  syscallNumber, encodeSeccompData, checkSeccompFilter, SeccompFilterError, seccompVerdict, runSeccomp, runSeccompStack,
  seccompActionValue, compileSeccompPolicy, SeccompPolicyError,
} from './hooks/seccomp.js';
export type {
  SeccompData, SeccompActionName, SeccompVerdict, SeccompRunOptions, SeccompPolicy, SeccompPolicyAction, SeccompRule, SeccompArgCheck,
} from './hooks/seccomp.js';
/**
 * The pcap-filter language (`tcp port 80 and host 10.0.0.1`) compiled to
 * classic BPF as libpcap does, for Ethernet, raw IP, Linux SLL/SLL2 and
 * null/loopback link types; errors are {@link FilterError}s with the
 * character offset. See docs/filter.md.
 */
export { compileFilter, FilterError, SUPPORTED_LINK_TYPES } from './cbpf/filter/index.js';
export type { CompileFilterOptions } from './cbpf/filter/index.js';
