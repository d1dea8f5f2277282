/**
 * Structural checks of a whole program, the ones Linux makes before any
 * analysis (its `check_subprogs`): every jump lands inside its own
 * subprogram and not in the second slot of a `lddw`, every local call
 * targets an instruction, and every subprogram ends with `exit` or a jump.
 * Programs that pass can be run without the engine ever leaving the code.
 */
import { InstructionError } from '../errors.js';
import type { Instruction } from './instruction.js';
import { branchTarget } from './instruction.js';

/** A decoded program with per-slot lookup. */
export interface ProgramLayout {
  /** Instruction starting at each slot, or undefined for a `lddw`'s second slot. */
  bySlot: (Instruction | undefined)[];
  /** Slots where subprograms start, ascending; always starts with 0. */
  subprogs: number[];
}

/** Builds the slot table of decoded instructions. */
export function layoutOf(insns: readonly Instruction[]): (Instruction | undefined)[] {
  const bySlot: (Instruction | undefined)[] = [];
  for (const insn of insns) {
    bySlot.push(insn);
    if (insn.kind === 'lddw') bySlot.push(undefined);
  }
  return bySlot;
}

/**
 * Checks the structure of a program and returns its subprogram layout.
 * Messages are the Linux verifier's.
 */
export function checkStructure(insns: readonly Instruction[]): ProgramLayout {
  const bySlot = layoutOf(insns);
  const count = bySlot.length;
  if (count === 0) throw new InstructionError('empty program: at least one instruction is needed');
  const starts = new Set<number>([0]);
  for (let pc = 0; pc < count; pc++) {
    const insn = bySlot[pc];
    if (insn === undefined) continue;
    const isFuncRef = (insn.kind === 'call' && insn.src === 1) || (insn.kind === 'lddw' && insn.pseudo === 4);
    if (!isFuncRef) continue;
    const target = branchTarget(insn, pc)!;
    if (target < 0 || target >= count) {
      throw new InstructionError(`call to invalid destination: insn ${pc} calls insn ${target}, outside 0..${count - 1}`, { insn: pc });
    }
    if (bySlot[target] === undefined) throw new InstructionError(`jump into the middle of ldimm64 insn ${target - 1}`, { insn: pc });
    starts.add(target);
  }
  const subprogs = [...starts].sort((a, b) => a - b);
  for (let s = 0; s < subprogs.length; s++) {
    const begin = subprogs[s]!;
    const end = s + 1 < subprogs.length ? subprogs[s + 1]! : count;
    for (let pc = begin; pc < end; pc++) {
      const insn = bySlot[pc];
      if (insn === undefined) continue;
      if (insn.kind === 'jmp' || insn.kind === 'ja' || insn.kind === 'gotol' || insn.kind === 'may_goto') {
        const target = branchTarget(insn, pc)!;
        if (target < begin || target >= end) {
          throw new InstructionError(`jump out of range from insn ${pc} to ${target}`, { insn: pc });
        }
        if (bySlot[target] === undefined) throw new InstructionError(`jump into the middle of ldimm64 insn ${target - 1}`, { insn: pc });
      }
    }
    let last = end - 1;
    if (bySlot[last] === undefined) last -= 1;
    const tail = bySlot[last]!;
    if (tail.kind !== 'exit' && tail.kind !== 'ja' && tail.kind !== 'gotol') {
      throw new InstructionError('last insn is not an exit or jmp', { insn: last });
    }
  }
  return { bySlot, subprogs };
}
