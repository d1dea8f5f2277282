/**
 * One differential trial: a random program on the interpreter and on the
 * JIT (checked mode, then unchecked when the program is fault-free), each on
 * its own identical machine. Returns a description of the first divergence.
 */
import { encodeProgram } from '../../src/isa/encode.js';
import { jitEngine } from '../../src/jit/jit-engine.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import type { PreparedProgram } from '../../src/vm/prepared-program.js';
import { fuzzMachine, outcome, randomProgram } from './random-programs.js';
import type { FuzzMachine, GenOptions, Outcome } from './random-programs.js';

/** Budget of each differential run. */
export const FUZZ_BUDGET = 20_000;

function same(a: Outcome, b: Outcome, withInsns: boolean): string | null {
  if (a.error !== b.error) return `error: interp ${JSON.stringify(a.error)} vs jit ${JSON.stringify(b.error)}`;
  if (a.r0 !== b.r0) return `r0: interp ${a.r0} vs jit ${b.r0}`;
  if (withInsns && a.insns !== b.insns) return `insns: interp ${a.insns} vs jit ${b.insns}`;
  if (a.memory !== b.memory) {
    const i = [...a.memory].findIndex((ch, k) => ch !== b.memory[k]);
    return `memory differs at hex digit ${i}: ${a.memory.slice(Math.max(0, i - 16), i + 16)} vs ${b.memory.slice(Math.max(0, i - 16), i + 16)}`;
  }
  return null;
}

/** Prepared program of a fuzz seed on a machine. */
export function fuzzPrepared(seed: number, fm: FuzzMachine, options: GenOptions = {}): PreparedProgram {
  const { insns } = randomProgram(seed, fm, options);
  return prepareProgram(encodeProgram(insns), { name: `seed${seed}`, helpers: fm.machine.helpers });
}

/** Whether a seed's program follows the verifier's register rules (see `FuzzProgram.clean`). */
function isClean(seed: number, options: GenOptions): boolean {
  return randomProgram(seed, fuzzMachine(), options).clean;
}

/** Runs seed `seed`; returns null when the engines agree, else what differs. */
export function differential(seed: number, given: GenOptions & { shared?: boolean; budget?: number } = {}): string | null {
  // Odd seeds avoid faults, so that most of them also run (and are compared) unchecked.
  const options = { ...given, faults: given.faults ?? seed % 2 === 0 };
  const shared = options.shared ?? false;
  // Every third seed gets a small budget, so runs stop at every kind of instruction.
  const budget = options.budget ?? (seed % 3 === 0 ? ((seed * 7919) % 400) + 1 : FUZZ_BUDGET);
  const m1 = fuzzMachine(shared);
  const m2 = fuzzMachine(shared);
  const p1 = fuzzPrepared(seed, m1, options);
  const p2 = fuzzPrepared(seed, m2, options);
  const a = outcome(m1, () => interpreterEngine.load(m1.machine, p1).run({ budget }));
  const b = outcome(m2, () => jitEngine.load(m2.machine, p2).run({ budget }));
  const d = same(a, b, true);
  if (d !== null) return `checked: ${d}`;
  // Unchecked mode follows the verifier's rules: compare programs that do.
  if (a.error === undefined && isClean(seed, options)) {
    const m3 = fuzzMachine(shared);
    const p3 = fuzzPrepared(seed, m3, options);
    const c = outcome(m3, () => jitEngine.load(m3.machine, p3).run({ checked: false }));
    const d2 = same(a, c, false);
    if (d2 !== null) return `unchecked: ${d2}`;
  }
  return null;
}
