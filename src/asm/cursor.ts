/**
 * A cursor over the tokens of one line, with the checks every operand parser
 * needs (registers, numbers in range, punctuation) and errors that name the
 * line and column.
 */
import { AssemblerError } from '../errors.js';
import type { Token } from './lexer.js';

/** Where a line came from, for error messages. */
export interface LineInfo {
  line: number;
  file?: string;
}

/** A parsed register operand. */
export interface RegOperand {
  n: number;
  /** true for `rN`/`%rN`, false for `wN`. */
  wide: boolean;
  tok: Token;
}

/** A parsed number with its sign applied. */
export interface NumOperand {
  value: bigint;
  /** Source spelling including the sign (`-0x10`), for messages. */
  text: string;
  tok: Token;
}

const I16 = [-(1n << 15n), (1n << 15n) - 1n] as const;

/** Describes a token for an error message. */
export function describe(tok: Token): string {
  return tok.kind === 'eol' ? 'end of line' : `'${tok.text}'`;
}

/** Token cursor with typed expectations. */
export class Cursor {
  private pos = 0;

  constructor(readonly tokens: readonly Token[], readonly where: LineInfo) {}

  /** The token `k` places ahead (the end-of-line token once past the end). */
  peek(k = 0): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)]!;
  }

  /** Consumes and returns the next token. */
  next(): Token {
    const tok = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return tok;
  }

  /** Whether the cursor is at the end of the line. */
  atEnd(): boolean {
    return this.peek().kind === 'eol';
  }

  /** Throws an {@link AssemblerError} located at `tok` (default: the next token). */
  fail(reason: string, tok: Token = this.peek()): never {
    const loc: { line: number; column: number; file?: string } = { line: this.where.line, column: tok.col };
    if (this.where.file !== undefined) loc.file = this.where.file;
    throw new AssemblerError(reason, loc);
  }

  /** Whether the next token is the operator `op`. */
  isOp(op: string, k = 0): boolean {
    const tok = this.peek(k);
    return tok.kind === 'op' && tok.text === op;
  }

  /** Whether the next token is the identifier `word` (case-sensitive). */
  isWord(word: string, k = 0): boolean {
    const tok = this.peek(k);
    return tok.kind === 'ident' && tok.text === word;
  }

  /** Consumes operator `op` if it is next. */
  acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.next();
    return true;
  }

  /** Consumes identifier `word` if it is next. */
  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.next();
    return true;
  }

  /** Consumes operator `op` or fails. */
  expectOp(op: string): Token {
    if (!this.isOp(op)) this.fail(`expected '${op}', found ${describe(this.peek())}`);
    return this.next();
  }

  /** Consumes identifier `word` or fails. */
  expectWord(word: string): Token {
    if (!this.isWord(word)) this.fail(`expected '${word}', found ${describe(this.peek())}`);
    return this.next();
  }

  /** Consumes any identifier or fails with `what` (`a label`). */
  expectIdent(what = 'a name'): Token {
    if (this.peek().kind !== 'ident') this.fail(`expected ${what}, found ${describe(this.peek())}`);
    return this.next();
  }

  /** Whether the next token is a register. */
  isReg(k = 0): boolean {
    return this.peek(k).kind === 'reg';
  }

  /**
   * Consumes a register r0..r10. `width` restricts the spelling: 'r' for
   * 64-bit only, 'w' for 32-bit only, 'any' for both. `percent` says whether
   * `%rN` is allowed (conformance syntax) or required.
   */
  expectReg(width: 'r' | 'w' | 'any' = 'any', percent: 'allow' | 'forbid' = 'forbid'): RegOperand {
    const tok = this.peek();
    if (tok.kind !== 'reg' || (tok.percent && percent === 'forbid')) {
      this.fail(`expected a register, found ${describe(tok)}`);
    }
    const n = tok.reg!;
    if (n > 10) this.fail(`invalid register '${tok.text}' (registers are r0 to r10)`);
    if (width === 'r' && !tok.wide) this.fail(`expected a 64-bit register (rN), found '${tok.text}'`);
    if (width === 'w' && tok.wide) this.fail(`expected a 32-bit register (wN), found '${tok.text}'`);
    this.next();
    return { n, wide: tok.wide!, tok };
  }

  /** Whether a (possibly signed) number comes next. */
  isNum(k = 0): boolean {
    const tok = this.peek(k);
    if (tok.kind === 'num') return true;
    return tok.kind === 'op' && (tok.text === '-' || tok.text === '+') && this.peek(k + 1).kind === 'num';
  }

  /** Consumes a number with an optional leading sign. */
  expectNum(what = 'a number'): NumOperand {
    const first = this.peek();
    let sign = 1n;
    let text = '';
    if (first.kind === 'op' && (first.text === '-' || first.text === '+') && this.peek(1).kind === 'num') {
      sign = first.text === '-' ? -1n : 1n;
      text = first.text;
      this.next();
    }
    const tok = this.peek();
    if (tok.kind !== 'num') this.fail(`expected ${what}, found ${describe(tok)}`);
    this.next();
    return { value: sign * tok.value!, text: text + tok.text, tok: first };
  }

  /**
   * Consumes a 32-bit immediate: any value from -2^31 to 2^32-1 (hex
   * patterns like `0xffffffff` mean -1); returns it as a signed 32-bit number.
   */
  expectImm32(what = 'an immediate'): number {
    const num = this.expectNum(what);
    return this.imm32(num);
  }

  /** Range-checks a number as a 32-bit immediate (see {@link expectImm32}). */
  imm32(num: NumOperand): number {
    if (num.value < -(1n << 31n) || num.value >= 1n << 32n) {
      this.fail(`immediate ${num.text} does not fit in 32 bits`, num.tok);
    }
    return Number(BigInt.asIntN(32, num.value));
  }

  /** Consumes a 64-bit immediate (-2^63 .. 2^64-1) as an unsigned bigint. */
  expectImm64(): bigint {
    const num = this.expectNum('an immediate');
    return this.imm64(num);
  }

  /** Range-checks a 64-bit immediate and returns it modulo 2^64. */
  imm64(num: NumOperand): bigint {
    if (num.value < -(1n << 63n) || num.value >= 1n << 64n) {
      this.fail(`immediate ${num.text} does not fit in 64 bits`, num.tok);
    }
    return BigInt.asUintN(64, num.value);
  }

  /** Range-checks a signed 16-bit memory offset. */
  off16(num: NumOperand): number {
    if (num.value < I16[0] || num.value > I16[1]) this.fail(`offset ${num.text} does not fit in 16 bits`, num.tok);
    return Number(num.value);
  }

  /** Range-checks a signed jump offset of `bits` (16 or 32) bits. */
  jumpOff(num: NumOperand, bits: 16 | 32): number {
    const lim = 1n << BigInt(bits - 1);
    if (num.value < -lim || num.value >= lim) this.fail(`jump offset ${num.text} does not fit in ${bits} bits`, num.tok);
    return Number(num.value);
  }

  /** Range-checks a small unsigned number (`addr_space_cast` address spaces). */
  small(num: NumOperand, max: number, what: string): number {
    if (num.value < 0n || num.value > BigInt(max)) this.fail(`${what} ${num.text} is out of range (0 to ${max})`, num.tok);
    return Number(num.value);
  }

  /** Fails unless the line is finished. */
  expectEnd(): void {
    const tok = this.peek();
    if (tok.kind !== 'eol') this.fail(`unexpected ${describe(tok)} after the instruction`);
  }
}
