/**
 * Text assembler and disassembler for eBPF in three syntaxes: LLVM
 * (`llvm-objdump -d`, plus the Linux verifier log spelling when reading),
 * conformance (the bpf_conformance test data), and kernel (the verifier
 * log, printing only). See docs/assembly.md for every spelling.
 */
import { AssemblerError, InstructionError } from '../errors.js';
import type { Instruction } from '../isa/index.js';
import { branchTarget, decodeProgram, encodeProgram, slotCount, toSlots } from '../isa/index.js';
import { formatConformance, parseConformance } from './conformance-syntax.js';
import { Cursor } from './cursor.js';
import { detectSyntax } from './detect.js';
import { formatKernel } from './kernel-syntax.js';
import type { LabelSite } from './labels.js';
import { resolveRef, targetLabels } from './labels.js';
import { codeSpan, LexError, tokenize } from './lexer.js';
import { parseLlvm } from './llvm-parser.js';
import { formatLlvm } from './llvm-printer.js';
import type { Statement } from './statement.js';

export { detectSyntax } from './detect.js';
export { targetLabels } from './labels.js';

/** The text syntaxes: `llvm` (llvm-objdump), `conformance` (bpf_conformance data), `kernel` (verifier log, output only). */
export type Syntax = 'llvm' | 'conformance' | 'kernel';

/** The result of {@link assemble}. */
export interface AssembledProgram {
  /** The instructions, one entry per instruction (a `lddw` is one entry, two slots). */
  insns: Instruction[];
  /** The encoded program (little-endian, 8 bytes per slot). */
  bytes: Uint8Array;
  /** Source line (1-based) of each insn. */
  lines: number[];
  /** Label -> slot, for every label the source defines. */
  labels: Map<string, number>;
}

/** Options of {@link assemble}. */
export interface AssembleOptions {
  /** Source syntax; `auto` (the default) detects it with {@link detectSyntax}. */
  syntax?: 'llvm' | 'conformance' | 'auto';
  /** File name for error messages. */
  file?: string;
}

/** Options of {@link disassemble}. */
export interface DisassembleOptions {
  /** Output syntax (default `llvm`). */
  syntax?: Syntax;
  /** Emit `Lnn:` labels at branch targets and name them in branches instead of offsets (default false; ignored by `kernel`). */
  labels?: boolean;
  /** Prefix each instruction with its slot index, like objdump (`      12:\t`) or the verifier log (`12: `). */
  addresses?: boolean;
}

/** Options of {@link formatInstruction}. */
export interface FormatOptions {
  /** Output syntax (default `llvm`). */
  syntax?: Syntax;
  /** Slot of the instruction; with `labels`, lets a branch print its target's label. */
  pc?: number;
  /** Slot -> label name (from {@link targetLabels}); used with `pc`. */
  labels?: ReadonlyMap<number, string>;
}

const OBJDUMP_HEADER = /^\s*(?:\S+:\s+file format |Disassembly of section )/;
const OBJDUMP_SYMBOL = /^\s*[0-9a-fA-F]+ <([^<>\s]+)>:\s*$/;

interface Pending {
  stmt: Statement;
  line: number;
  slot: number;
}

function lexError(e: LexError, line: number, file: string | undefined): AssemblerError {
  const loc: { line: number; column: number; file?: string } = { line, column: e.col };
  if (file !== undefined) loc.file = file;
  return new AssemblerError(e.message, loc);
}

/**
 * Assembles a program. Jump offsets count slots (a `lddw` is two). Throws
 * {@link AssemblerError} with the line, column and file of the first problem.
 */
export function assemble(text: string, options: AssembleOptions = {}): AssembledProgram {
  const file = options.file;
  const sourceLines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const syntax = options.syntax === 'llvm' || options.syntax === 'conformance' ? options.syntax : detectSyntax(sourceLines);
  const llvm = syntax === 'llvm';
  const labels = new Map<string, LabelSite>();
  const pending: Pending[] = [];
  let slot = 0;
  let firstExit: number | undefined;

  const define = (name: string, line: number, col: number): void => {
    const prev = labels.get(name);
    if (prev) {
      const loc: { line: number; column: number; file?: string } = { line, column: col };
      if (file !== undefined) loc.file = file;
      throw new AssemblerError(`duplicate label '${name}' (first defined on line ${prev.line})`, loc);
    }
    labels.set(name, { slot, line, col });
  };

  sourceLines.forEach((source, index) => {
    const line = index + 1;
    if (llvm) {
      if (OBJDUMP_HEADER.test(source)) return;
      const symbol = OBJDUMP_SYMBOL.exec(source);
      if (symbol) {
        define(symbol[1]!, line, source.indexOf('<') + 2);
        return;
      }
    }
    const span = codeSpan(source, llvm);
    if (span.start >= span.end) return;
    let tokens;
    try {
      tokens = tokenize(source, span.start, span.end);
    } catch (e) {
      if (e instanceof LexError) throw lexError(e, line, file);
      throw e;
    }
    const where = file === undefined ? { line } : { line, file };
    const c = new Cursor(tokens, where);
    while (c.peek().kind === 'ident' && c.isOp(':', 1)) {
      const tok = c.next();
      c.next();
      define(tok.text, line, tok.col);
    }
    if (c.atEnd()) return;
    const stmt = llvm ? parseLlvm(c, span.opcode) : parseConformance(c);
    if (span.opcode !== undefined) {
      const code = toSlots(stmt.insn)[0]!.code;
      if (code !== span.opcode) {
        c.fail(`opcode (${hex2(span.opcode)}) does not match the instruction, which encodes as (${hex2(code)})`, { kind: 'op', text: '(', col: span.opcodeCol ?? 1 });
      }
    }
    if (stmt.insn.kind === 'exit' && firstExit === undefined) firstExit = slot;
    pending.push({ stmt, line, slot });
    slot += slotCount(stmt.insn);
  });

  const insns: Instruction[] = [];
  const lines: number[] = [];
  for (const p of pending) {
    let insn = p.stmt.insn;
    if (p.stmt.ref) {
      const ctx = { labels, line: p.line, ...(file !== undefined ? { file } : {}), ...(llvm || firstExit === undefined ? {} : { implicitExit: firstExit }) };
      insn = resolveRef(insn, p.stmt.ref, p.slot, ctx);
    }
    insns.push(insn);
    lines.push(p.line);
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeProgram(insns);
  } catch (e) {
    if (!(e instanceof InstructionError)) throw e;
    // The parsers check every field, so this only reports a missed check.
    const at = insns.findIndex((insn) => { try { encodeProgram([insn]); return false; } catch { return true; } });
    const loc: { line: number; file?: string } = { line: lines[at] ?? 0 };
    if (file !== undefined) loc.file = file;
    throw new AssemblerError(e.reason, loc);
  }
  const labelSlots = new Map<string, number>();
  for (const [name, site] of labels) labelSlots.set(name, site.slot);
  return { insns, bytes, lines, labels: labelSlots };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Formats one instruction in the given syntax (default `llvm`). */
export function formatInstruction(insn: Instruction, options: FormatOptions = {}): string {
  const syntax = options.syntax ?? 'llvm';
  let label: string | undefined;
  if (options.labels && options.pc !== undefined) {
    const target = branchTarget(insn, options.pc);
    if (target !== undefined) label = options.labels.get(target);
  }
  switch (syntax) {
    case 'llvm':
      return formatLlvm(insn, label);
    case 'conformance':
      return formatConformance(insn, label);
    case 'kernel':
      return formatKernel(insn);
  }
}

/** The address prefix of one line of {@link disassemble} output. */
function addressPrefix(syntax: Syntax, slot: number): string {
  return syntax === 'kernel' ? `${slot}: ` : `${String(slot).padStart(8)}:\t`;
}

/**
 * Disassembles raw bytes (decoded first; bad bytes throw the decoder's
 * InstructionError) or decoded instructions, one instruction per line, each
 * line ending in `\n`.
 */
export function disassemble(program: Uint8Array | readonly Instruction[], options: DisassembleOptions = {}): string {
  const syntax = options.syntax ?? 'llvm';
  const insns = program instanceof Uint8Array ? decodeProgram(program).insns : program;
  const labels = options.labels && syntax !== 'kernel' ? targetLabels(insns) : undefined;
  let out = '';
  let slot = 0;
  for (const insn of insns) {
    const name = labels?.get(slot);
    if (name !== undefined) out += `${name}:\n`;
    const text = formatInstruction(insn, labels ? { syntax, pc: slot, labels } : { syntax });
    out += (options.addresses ? addressPrefix(syntax, slot) : '') + text + '\n';
    slot += slotCount(insn);
  }
  return out;
}
