/**
 * `tsbpf/low-level`: the machine underneath the public API (docs/api.md),
 * for embedding tsbpf in other tools: the address space and its regions,
 * CPUs and register files, helper tables and the standard helpers, the
 * program contexts of each hook and their test runs, the interpreter's
 * execution object, and the JIT's WebAssembly output.
 */
export { AddressSpace, GUARD_SIZE, WASM_PAGE } from './vm/memory.js';
export type { AddressSpaceOptions, Region, RegionKind, SharedSpace, SpaceLayout } from './vm/memory.js';
export { Machine, Cpu, REGFILE_SIZE } from './vm/machine.js';
export type { MachineOptions } from './vm/machine.js';
export { HelperCall, HelperTable } from './vm/helper-call.js';
export type { Helper, HelperFn } from './vm/helper-call.js';
export { vmHelpers, helperTable, standardHelpers, monotonicClock, TracePipe, formatTraceLine, DEFAULT_HOST } from './vm/helpers/index.js';
export type { VmHelperOptions, TraceLine, HostInfo, Clock } from './vm/helpers/index.js';
export { mapHelpers } from './vm/helpers/map-helpers.js';
export { interpret, Execution, DEFAULT_BUDGET, MAY_GOTO_BUDGET } from './vm/interpreter.js';
export { XdpContext, XdpMd, XDP_HEADROOM, XDP_MAX_FRAME } from './hooks/xdp.js';
export { SkbContext, SkBuff, SK_BUFF_SIZE } from './hooks/skb.js';
export { HookContexts } from './hooks/contexts.js';
export { helpersForType } from './hooks/type-helpers.js';
export { contextKind } from './hooks/program-types.js';
export { TestRunner } from './hooks/test-run.js';
export { jitEngine, compileProgram, compileToWasm, programToWat, moduleToWat } from './jit/index.js';
export type { BatchOptions, JitRunner, CompiledModule, CompileEnv, CompileStats, JitVariant, WasmOutputOptions } from './jit/index.js';
export { objectMapProblems, mapProblemOf, withMapFailures, unbackedMapUse, mapsUsedBy } from './runtime/map-problems.js';
export type { MapProblem } from './runtime/map-problems.js';
export { concurrencyProblem, workerProblems } from './runtime/concurrency.js';
export { flowHash } from './runtime/flow-hash.js';
export { rawToBytes } from './conformance/data-format.js';
