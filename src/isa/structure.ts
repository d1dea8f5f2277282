/**
 * Structural checks of a whole program, the ones Linux makes before any
 * analysis (its `check_subprogs`): every jump lands inside its own
 * subprogram and not in the second slot of a `lddw`, every local call
 * targets an instruction, and every subprogram ends with `exit` or a jump.
 * Programs that pass can be run without the engine ever leaving the code.
 */
import { InstructionError } from '../errors.js';
import type { Instruction, RawSlot } from './instruction.js';
import { branchTarget } from './instruction.js';
import { toSlots } from './encode.js';
import { Class, JmpOp } from './opcode.js';

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

/** A structural fault in the Linux verifier's words, at an instruction. */
export interface StructureFault {
  message: string;
  insn: number;
}

/**
 * The second pass of Linux's `check_subprogs`, the one place tsbpf makes
 * it: every jump stays inside its subprogram (`starts`, ascending, from 0)
 * and every subprogram ends with `exit` or an unconditional jump. `visit`
 * sees each slot first, with its subprogram's index (the verifier records
 * tail calls and legacy packet loads there). Returns the first fault, in
 * the kernel's order, or null.
 */
export function checkSubprogBounds(
  slots: readonly RawSlot[], starts: readonly number[], visit?: (insn: number, subprog: number) => void,
): StructureFault | null {
  let cur = 0;
  let end = starts.length > 1 ? starts[1]! : slots.length;
  let start = starts[0] ?? 0;
  for (let i = 0; i < slots.length; i++) {
    const { code, off, imm } = slots[i]!;
    visit?.(i, cur);
    const cls = code & 0x07;
    const op = code & 0xf0;
    if ((cls === Class.JMP || cls === Class.JMP32) && op !== JmpOp.CALL && op !== JmpOp.EXIT) {
      const target = i + (code === (Class.JMP32 | JmpOp.JA) ? imm : off) + 1;
      if (target < start || target >= end) return { message: `jump out of range from insn ${i} to ${target}`, insn: i };
    }
    if (i === end - 1) {
      if (code !== (Class.JMP | JmpOp.EXIT) && code !== (Class.JMP32 | JmpOp.JA) && code !== (Class.JMP | JmpOp.JA)) {
        return { message: 'last insn is not an exit or jmp', insn: i };
      }
      start = end;
      cur++;
      if (cur < starts.length) end = cur + 1 < starts.length ? starts[cur + 1]! : slots.length;
    }
  }
  return null;
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
  const slots = insns.flatMap((insn) => toSlots(insn));
  const fault = checkSubprogBounds(slots, subprogs);
  if (fault) throw new InstructionError(fault.message, { insn: fault.insn });
  for (let pc = 0; pc < count; pc++) {
    const insn = bySlot[pc];
    if (insn === undefined || (insn.kind !== 'jmp' && insn.kind !== 'ja' && insn.kind !== 'gotol' && insn.kind !== 'may_goto')) continue;
    const target = branchTarget(insn, pc)!;
    if (bySlot[target] === undefined) throw new InstructionError(`jump into the middle of ldimm64 insn ${target - 1}`, { insn: pc });
  }
  return { bySlot, subprogs };
}
