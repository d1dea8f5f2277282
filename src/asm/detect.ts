/**
 * Syntax detection for `assemble(text, { syntax: 'auto' })`: a file is LLVM
 * syntax when any line is unmistakably LLVM (an assignment, `if ... goto`,
 * `goto`, `lock *(...)`, a register at the start, objdump headers...);
 * otherwise it is conformance syntax. Lines both syntaxes share (`exit`,
 * `call 1`, labels) decide nothing.
 */
import { codeSpan } from './lexer.js';

const LLVM_WORDS = new Set(['if', 'goto', 'gotol', 'callx', 'ld_pseudo', 'store_release']);
const OBJDUMP_NOISE = /^\s*(?:\S+:\s+file format |Disassembly of section |[0-9a-fA-F]+ <[^>]+>:\s*$)/;

/** Whether one line (comment already allowed) is written in LLVM syntax. */
function isLlvmLine(line: string): boolean {
  if (OBJDUMP_NOISE.test(line)) return true;
  const span = codeSpan(line, true);
  if (span.opcode !== undefined) return true;
  const code = line.slice(span.start, span.end).trim();
  if (code === '' || /%[rw]\d/.test(code)) return false;
  if (code.includes('=') || code.startsWith('*')) return true;
  const first = /^[A-Za-z_.][A-Za-z0-9_.]*/.exec(code)?.[0] ?? '';
  if (LLVM_WORDS.has(first)) return true;
  if (/^[rw]\d+$/.test(first)) return true;
  if (first === 'lock' && /^lock\s*\*/.test(code)) return true;
  // `call pc+2`, `call bpf_x#1`, `call LABEL`; conformance has `call local L`, `call kfunc N`.
  if (first === 'call' && /^call\s+(?!(?:local|kfunc|runtime)\b)[A-Za-z_.]/.test(code)) return true;
  return false;
}

/** Detects the syntax of an assembly text: 'llvm' or 'conformance'. */
export function detectSyntax(text: string | readonly string[]): 'llvm' | 'conformance' {
  const lines = typeof text === 'string' ? text.split('\n') : text;
  for (const line of lines) {
    if (isLlvmLine(line)) return 'llvm';
  }
  return 'conformance';
}
