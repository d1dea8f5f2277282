/** The `--trace` printer: each executed instruction with the registers it changed, on stderr. */
import { formatInstruction } from '../asm/index.js';
import type { TraceStep } from '../vm/interpreter.js';
import { err, hex64 } from './output.js';

/** Prints one traced step: slot, indentation by call depth, llvm-syntax text, changed registers. */
export function printTraceStep(step: TraceStep): void {
  const insn = step.program.bySlot[step.pc]!;
  const text = formatInstruction(insn, { syntax: 'llvm', pc: step.pc });
  const regs = step.changed.map((c) => `r${c.reg}=${hex64(c.value)}`).join(' ');
  err(`${String(step.pc).padStart(5)}: ${'  '.repeat(step.depth)}${text.padEnd(40)}${regs ? ' ; ' + regs : ''}`);
}
