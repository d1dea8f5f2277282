/**
 * Line-level lexing shared by both assembly syntaxes: comment and prefix
 * stripping (keeping original columns), and tokens with 1-based columns.
 */

/** Token categories. */
export type TokenKind = 'ident' | 'reg' | 'num' | 'op' | 'eol';

/** One token of a source line. */
export interface Token {
  kind: TokenKind;
  /** The exact source text (`%r1`, `0x10`, `s>>=`, `LBB0_3`). */
  text: string;
  /** 1-based column of the first character in the original line. */
  col: number;
  /** Value of a `num` token. */
  value?: bigint;
  /** Register number of a `reg` token (may be out of range: checked by the parser). */
  reg?: number;
  /** Whether a `reg` token is a 32-bit subregister (`wN`). */
  wide?: boolean;
  /** Whether a `reg` token was written with a `%` prefix. */
  percent?: boolean;
}

/** Operators, longest first so that a greedy match picks the right one. */
const OPERATORS = [
  's>>=', '<<=', '>>=', 's/=', 's%=', 's>=', 's<=',
  '==', '!=', '<=', '>=', '+=', '-=', '*=', '/=', '%=', '|=', '&=', '^=', 's>', 's<',
  '=', '<', '>', '&', '(', ')', '[', ']', '*', '+', '-', ',', '#', ':',
] as const;

const IDENT_START = /[A-Za-z_.]/;
const IDENT_PART = /[A-Za-z0-9_.]/;
const REGISTER = /^%?([rw])(\d+)$/;

/** A lexing failure: message and 1-based column. */
export class LexError {
  constructor(readonly message: string, readonly col: number) {}
}

/**
 * Splits `line[start, end)` into tokens. Columns refer to `line`. Throws
 * {@link LexError} on a character that starts no token.
 */
export function tokenize(line: string, start = 0, end = line.length): Token[] {
  const tokens: Token[] = [];
  let i = start;
  while (i < end) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    const col = i + 1;
    // `s>`, `s>>=`, `s/=`: an `s` glued to an operator is part of the operator.
    if (c === 's' && i + 1 < end && '<>/%'.includes(line[i + 1]!)) {
      const op = matchOperator(line, i, end);
      if (op) {
        tokens.push({ kind: 'op', text: op, col });
        i += op.length;
        continue;
      }
    }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < end && /[0-9A-Za-z_]/.test(line[j]!)) j++;
      const text = line.slice(i, j);
      tokens.push({ kind: 'num', text, col, value: parseNumber(text, col) });
      i = j;
      continue;
    }
    if (IDENT_START.test(c) || (c === '%' && i + 1 < end && /[A-Za-z]/.test(line[i + 1]!))) {
      let j = i + 1;
      while (j < end && IDENT_PART.test(line[j]!)) j++;
      const text = line.slice(i, j);
      const reg = REGISTER.exec(text);
      if (reg) {
        tokens.push({ kind: 'reg', text, col, reg: Number(reg[2]), wide: reg[1] === 'r', percent: text.startsWith('%') });
      } else {
        tokens.push({ kind: 'ident', text, col });
      }
      i = j;
      continue;
    }
    const op = matchOperator(line, i, end);
    if (op) {
      tokens.push({ kind: 'op', text: op, col });
      i += op.length;
      continue;
    }
    throw new LexError(`unexpected character '${c}'`, col);
  }
  tokens.push({ kind: 'eol', text: '', col: end + 1 });
  return tokens;
}

function matchOperator(line: string, at: number, end: number): string | undefined {
  for (const op of OPERATORS) {
    if (at + op.length <= end && line.startsWith(op, at)) return op;
  }
  return undefined;
}

/** Parses a decimal or `0x` hexadecimal literal (no sign). */
function parseNumber(text: string, col: number): bigint {
  if (/^0[xX][0-9a-fA-F]+$/.test(text) || /^[0-9]+$/.test(text)) return BigInt(text);
  throw new LexError(`malformed number '${text}'`, col);
}

/** The region of a line that holds code, after comments and known prefixes are cut. */
export interface CodeSpan {
  start: number;
  end: number;
  /** Opcode byte of a kernel log prefix `N: (xx) `, when present. */
  opcode?: number;
  /** 1-based column of that `(xx)`. */
  opcodeCol?: number;
}

/**
 * Finds where a comment starts: `#` always in conformance syntax; in LLVM
 * syntax `#` only at the start of the line or after white space (so that the
 * kernel's `call bpf_map_lookup_elem#1` survives), and `;` or `//` anywhere.
 */
export function commentStart(line: string, llvm: boolean): number {
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '#') {
      if (!llvm || i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t') return i;
    } else if (llvm && (c === ';' || (c === '/' && line[i + 1] === '/'))) {
      return i;
    }
  }
  return line.length;
}

const ADDRESS_PREFIX = /^\s*\d+:[ \t]+/;
const OBJDUMP_BYTES = /^(?:[0-9a-fA-F]{2} )*[0-9a-fA-F]{2}[ \t]*\t/;
const KERNEL_OPCODE = /^\(([0-9a-fA-F]{2})\)[ \t]+/;
const KERNEL_LIVENESS = /^[.0-9]{10} (?=\()/;

/**
 * Cuts the comment and the prefixes disassemblers put in front of an
 * instruction: an address `N:` (objdump, kernel log, our own `addresses`
 * output), objdump's hex bytes column (`18 00 ... 11\t`), the kernel's
 * liveness column (`.1........ `) and its opcode `(xx) `.
 */
export function codeSpan(line: string, llvm: boolean): CodeSpan {
  let end = commentStart(line, llvm);
  while (end > 0 && /\s/.test(line[end - 1]!)) end--;
  let start = 0;
  const text = line.slice(0, end);
  const addr = ADDRESS_PREFIX.exec(text);
  let opcode: number | undefined;
  let opcodeCol = 0;
  if (addr) {
    start = addr[0].length;
    if (llvm) {
      const bytes = OBJDUMP_BYTES.exec(text.slice(start));
      if (bytes) start += bytes[0].length;
      const live = KERNEL_LIVENESS.exec(text.slice(start));
      if (live) start += live[0].length;
    }
  }
  if (llvm) {
    const code = KERNEL_OPCODE.exec(text.slice(start));
    if (code) {
      opcode = parseInt(code[1]!, 16);
      opcodeCol = start + 1;
      start += code[0].length;
    }
    // objdump's target annotation: `goto +0x2 <LBB0_3>`.
    const note = /\s+<[^<>\s]+>$/.exec(text.slice(start));
    if (note) end -= note[0].length;
  }
  while (start < end && /\s/.test(line[start]!)) start++;
  return opcode === undefined ? { start, end } : { start, end, opcode, opcodeCol };
}
