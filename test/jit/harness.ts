/**
 * Runs one setup on the interpreter and on the JIT, each on its own fresh
 * machine, and captures what they did.
 */
import { VmError } from '../../src/errors.js';
import { jitEngine } from '../../src/jit/jit-engine.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import type { Engine } from '../../src/vm/engine.js';
import type { RunOptions } from '../../src/vm/interpreter.js';
import type { Machine } from '../../src/vm/machine.js';
import type { PreparedProgram } from '../../src/vm/prepared-program.js';

/** A machine with a program on it, and what to observe afterwards. */
export interface Setup {
  machine: Machine;
  prog: PreparedProgram;
  /** Extra observable state (map contents, memory) as text. */
  observe?: () => string;
  /** r1..r5 of the run (when the options give none). */
  args?: (bigint | number)[];
}

/** What a run showed. */
export interface Seen {
  r0?: bigint;
  insns?: number;
  error?: string;
  state: string;
}

/** Runs `make()`'s program on `engine`. */
export function runOn(engine: Engine, make: () => Setup, options: RunOptions = {}): Seen {
  const s = make();
  try {
    const r = engine.load(s.machine, s.prog).run({ ...(s.args ? { args: s.args } : {}), ...options });
    return { r0: r.r0, insns: r.insns, state: s.observe?.() ?? '' };
  } catch (err) {
    if (err instanceof VmError) return { error: err.message, state: s.observe?.() ?? '' };
    throw err;
  }
}

/** The same program on both engines. */
export function both(make: () => Setup, options: RunOptions = {}): { interp: Seen; jit: Seen } {
  return { interp: runOn(interpreterEngine, make, options), jit: runOn(jitEngine, make, options) };
}
