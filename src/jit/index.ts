/**
 * The WebAssembly JIT: eBPF programs compiled to WebAssembly modules that
 * the host's engine (V8, SpiderMonkey, ...) compiles to native code. See
 * docs/jit.md.
 */
import type { Machine } from '../vm/machine.js';
import type { PreparedProgram } from '../vm/prepared-program.js';
import type { JitVariant } from './module-abi.js';
import { compileProgram } from './compile.js';
import { mapFacts } from './facts.js';
import type { CompiledModule } from './compile.js';
import { moduleToWat } from './wasm/wat.js';

export { jitEngine } from './jit-engine.js';
export type { BatchOptions, JitRunner } from './jit-engine.js';
export { compileProgram } from './compile.js';
export type { CompiledModule, CompileEnv, CompileStats, MapFacts } from './compile.js';
export type { JitVariant } from './module-abi.js';
export { moduleToWat } from './wasm/wat.js';

/** Options of {@link compileToWasm} and {@link programToWat}. */
export interface WasmOutputOptions {
  /** Checked mode (bounds checks and a budget; default true). */
  checked?: boolean;
  /** Count instructions against a budget (default: same as `checked`). */
  budget?: boolean;
  /** Compile for a shared memory (default: the machine's, else false). */
  shared?: boolean;
  /**
   * Unchecked modules: the slots the verifier proved safe (its
   * `safeAccesses`), which get the page guard; the other accesses get the
   * region check. Default: every access counts as proven.
   */
  safe?: ReadonlySet<number>;
  /** `entry` (default) or `tail` (the body a tail call jumps to). */
  role?: 'entry' | 'tail';
  /** The machine the program will run on: its helpers and maps (inline lookups). */
  machine?: Machine;
  /** Show each BPF instruction as a comment before its code (WAT only; default true). */
  annotate?: boolean;
}

/** Compiles `program` to a WebAssembly module (bytes plus statistics) without running it. */
export function compileToWasm(program: PreparedProgram, options: WasmOutputOptions = {}): CompiledModule {
  const checked = options.checked ?? true;
  const variant: JitVariant = {
    checked,
    budget: options.budget ?? checked,
    shared: options.shared ?? options.machine?.space.shared ?? false,
    role: options.role ?? 'entry',
    ...(options.safe !== undefined && !checked ? { safe: options.safe } : {}),
  };
  const machine = options.machine;
  return compileProgram(program, variant, {
    helperName: (id) => (program.helpers ?? machine?.helpers)?.get(id)?.name,
    annotate: options.annotate ?? false,
    ...(machine ? { mapAt: (addr: number) => mapFacts(machine.space, addr) } : {}),
  });
}

/**
 * The WebAssembly text (WAT) of the module the JIT generates for `program`,
 * with the BPF instructions as comments. `wat2wasm --enable-threads
 * --enable-tail-call` turns it back into the same code.
 */
export function programToWat(program: PreparedProgram, options: WasmOutputOptions = {}): string {
  const compiled = compileToWasm(program, { ...options, annotate: options.annotate ?? true });
  return moduleToWat(compiled.builder);
}
