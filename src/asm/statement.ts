/**
 * What a syntax-specific line parser hands back: labels defined on the line
 * and at most one instruction, whose jump or call target may still be a
 * label name (resolved once the whole file is read).
 */
import type { Instruction } from '../isa/index.js';

/** A reference to a label from an instruction operand. */
export interface LabelRef {
  name: string;
  /** 1-based column of the name, for errors. */
  col: number;
  /**
   * For `call NAME` in LLVM syntax: when no label has this name, a Linux
   * helper of that name is called instead (`call bpf_ktime_get_ns`).
   */
  helperFallback?: boolean;
}

/** One parsed instruction. */
export interface Statement {
  /** The instruction; a label-relative field holds 0 until resolved. */
  insn: Instruction;
  /** Label the branch field refers to, if written as a name. */
  ref?: LabelRef;
}

/** A label definition `name:`. */
export interface LabelDef {
  name: string;
  col: number;
}

/** Everything one source line holds. */
export interface ParsedLine {
  labels: LabelDef[];
  stmt?: Statement;
}

/** Access widths by the size letter of `ldxb`/`ldxh`/`ldxw`/`ldxdw`. */
export const SIZE_SUFFIX: Readonly<Record<string, 1 | 2 | 4 | 8>> = { b: 1, h: 2, w: 4, dw: 8 };

/** Size letter of an access width (inverse of {@link SIZE_SUFFIX}). */
export const SUFFIX_OF_SIZE: Readonly<Record<1 | 2 | 4 | 8, string>> = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' };
