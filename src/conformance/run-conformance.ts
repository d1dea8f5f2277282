/**
 * Runs conformance tests on an engine with the harness conventions of
 * FORMAT.md: r1 = a private copy of `-- mem`, r2 = its length (both 0 when
 * there is none), Linux helper ids, and r0 compared as 64 bits.
 */
import { assemble } from '../asm/index.js';
import { TsbpfError } from '../errors.js';
import { HelperTable } from '../vm/helper-call.js';
import { Machine } from '../vm/machine.js';
import { prepareProgram } from '../vm/prepared-program.js';
import type { Engine } from '../vm/engine.js';
import { standardHelpers } from '../vm/helpers/basic.js';
import { parseConformance, rawToBytes } from './data-format.js';

/** The outcome of one test file. */
export interface ConformanceOutcome {
  /** File name (or any label the caller passed). */
  name: string;
  passed: boolean;
  /** Why it failed. */
  reason?: string;
  /** r0 when the program ran to its end. */
  r0?: bigint;
  /** Instructions executed. */
  insns?: number;
}

/** Runs the conformance test in `text` on `engine`. Never throws for bad input. */
export function runConformanceText(text: string, name: string, engine: Engine): ConformanceOutcome {
  try {
    const test = parseConformance(text, name);
    if (test.result === null && test.error === null) return { name, passed: true, reason: 'skipped: no result or error' };
    let bytes: Uint8Array;
    try {
      bytes = assemble(test.asm.text, { syntax: 'conformance', file: name }).bytes;
      if (test.raw) {
        const raw = rawToBytes(test.raw);
        if (!sameBytes(raw, bytes)) return { name, passed: false, reason: '-- raw and the assembled -- asm differ' };
      }
    } catch (err) {
      if (test.error !== null && err instanceof TsbpfError) return errorOutcome(name, test.error, err);
      throw err;
    }
    const machine = new Machine({ helpers: new HelperTable(standardHelpers()) });
    let r1 = 0;
    let r2 = 0;
    if (test.mem) {
      const input = machine.space.allocate('input', 'input', test.mem.length);
      machine.space.write(input.start, test.mem);
      r1 = input.start;
      r2 = test.mem.length;
    }
    try {
      const program = prepareProgram(bytes, { name, helpers: machine.helpers });
      const result = engine.load(machine, program).run({ args: [r1, r2] });
      if (test.error !== null) return { name, passed: false, reason: `expected error '${test.error}', got r0 = 0x${result.r0.toString(16)}`, r0: result.r0 };
      const passed = result.r0 === test.result;
      return passed
        ? { name, passed, r0: result.r0, insns: result.insns }
        : { name, passed, r0: result.r0, insns: result.insns, reason: `r0 = 0x${result.r0.toString(16)}, expected 0x${test.result!.toString(16)}` };
    } catch (err) {
      if (test.error !== null && err instanceof TsbpfError) return errorOutcome(name, test.error, err);
      throw err;
    }
  } catch (err) {
    if (err instanceof TsbpfError) return { name, passed: false, reason: err.message };
    throw err;
  }
}

function errorOutcome(name: string, expected: string, err: TsbpfError): ConformanceOutcome {
  const got = err.reason.trim();
  return got === expected ? { name, passed: true } : { name, passed: false, reason: `expected error '${expected}', got '${got}'` };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
