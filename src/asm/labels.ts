/**
 * Labels: resolving names to slot offsets when assembling, and choosing
 * names for branch targets when disassembling.
 */
import type { Instruction } from '../isa/index.js';
import { branchTarget, helperId, slotCount } from '../isa/index.js';
import { AssemblerError } from '../errors.js';
import type { LabelRef } from './statement.js';

/** Where a label was defined. */
export interface LabelSite {
  slot: number;
  line: number;
  col: number;
}

/** Context for resolving one reference. */
export interface ResolveContext {
  labels: ReadonlyMap<string, LabelSite>;
  /** Slot of the first `exit`, for the conformance syntax's implicit `exit` label. */
  implicitExit?: number;
  line: number;
  file?: string;
}

function fail(reason: string, ctx: ResolveContext, col: number): never {
  const loc: { line: number; column: number; file?: string } = { line: ctx.line, column: col };
  if (ctx.file !== undefined) loc.file = ctx.file;
  throw new AssemblerError(reason, loc);
}

/**
 * Returns `insn` (at slot `pc`) with its branch field pointing at the label
 * `ref`. A `call NAME` whose name is no label but a Linux helper becomes a
 * helper call.
 */
export function resolveRef(insn: Instruction, ref: LabelRef, pc: number, ctx: ResolveContext): Instruction {
  const site = ctx.labels.get(ref.name);
  let slot = site?.slot;
  if (slot === undefined && ref.name === 'exit') slot = ctx.implicitExit;
  if (slot === undefined) {
    const helper = ref.helperFallback ? helperId(ref.name) : undefined;
    if (helper !== undefined && insn.kind === 'call') return { kind: 'call', src: 0, imm: helper };
    fail(ref.helperFallback ? `undefined label or helper '${ref.name}'` : `undefined label '${ref.name}'`, ctx, ref.col);
  }
  const rel = slot - (pc + 1);
  switch (insn.kind) {
    case 'jmp':
    case 'ja':
    case 'may_goto':
      if (rel < -32768 || rel > 32767) {
        fail(`jump offset out of range: '${ref.name}' is ${rel} slots away, more than a 16-bit offset holds`, ctx, ref.col);
      }
      return { ...insn, off: rel };
    case 'gotol':
      return { ...insn, imm: rel };
    case 'call':
      return { kind: 'call', src: 1, imm: rel };
    case 'lddw':
      return { ...insn, imm: rel };
    default:
      return fail(`'${ref.name}': this instruction takes no label`, ctx, ref.col);
  }
}

/**
 * Names for the branch targets of a program: slot -> `L<slot>`, for every
 * target that starts an instruction (targets outside the program or inside
 * a `lddw` keep their numeric offset).
 */
export function targetLabels(insns: readonly Instruction[]): Map<number, string> {
  const starts = new Set<number>();
  let slot = 0;
  for (const insn of insns) {
    starts.add(slot);
    slot += slotCount(insn);
  }
  const targets = new Map<number, string>();
  slot = 0;
  for (const insn of insns) {
    const t = branchTarget(insn, slot);
    if (t !== undefined && starts.has(t)) targets.set(t, `L${t}`);
    slot += slotCount(insn);
  }
  return targets;
}
