/**
 * Classic programs read back from the three listings `tcpdump` prints
 * (see listings.ts): `-d` text with mnemonics and absolute jump targets,
 * `-dd` C initialisers and `-ddd` decimal numbers. A listing that
 * tcpdump printed assembles to exactly the instructions it came from;
 * anything malformed is an AssemblerError naming the line and column.
 */
import { AssemblerError } from '../errors.js';
import { AluOp, Class, JmpOp, MiscOp, Mode, RetVal, SKF_AD_OFF, Size, Src, insn } from './insn.js';
import type { CbpfInsn } from './insn.js';
import { ANCILLARY_NAMES } from './listings.js';
import type { ClassicFormat } from './listings.js';

/** Options of {@link assembleClassic}. */
export interface AssembleOptions {
  /** The listing's form; by default it is recognised from its first line. */
  format?: ClassicFormat;
}

const ANCILLARY_BY_NAME = new Map(Object.entries(ANCILLARY_NAMES).map(([off, name]) => [name, (SKF_AD_OFF + Number(off)) >>> 0]));

/** A piece of a line with the 1-based column it starts at. */
interface Piece {
  text: string;
  column: number;
}

class Line {
  constructor(readonly number: number, readonly text: string) {}
  fail(reason: string, column = 1): never {
    throw new AssemblerError(reason, { line: this.number, column });
  }
}

/** Parses an integer as C would print it (decimal, `0x` hex, maybe negative) into a u32. */
function integer(line: Line, p: Piece, what: string): number {
  const m = /^(-)?(0x[0-9a-f]+|\d+)$/i.exec(p.text);
  if (!m) line.fail(`${what} must be a number, not '${p.text}'`, p.column);
  const v = Number(m[2]!.toLowerCase().startsWith('0x') ? parseInt(m[2]!.slice(2), 16) : m[2]);
  const signed = m[1] ? -v : v;
  if (signed > 0xffffffff || signed < -0x80000000) line.fail(`${what} ${p.text} does not fit in 32 bits`, p.column);
  return signed >>> 0;
}

/**
 * Reads a classic program from a `tcpdump -d`, `-dd` or `-ddd` listing.
 * Blank lines are skipped; in `-d` text the `(NNN)` index prefix is
 * optional but, when present, must count the instructions.
 */
export function assembleClassic(text: string, options: AssembleOptions = {}): CbpfInsn[] {
  const lines = text.split(/\r?\n/).map((t, i) => new Line(i + 1, t)).filter((l) => l.text.trim() !== '');
  if (lines.length === 0) throw new AssemblerError('the listing is empty', { line: 1, column: 1 });
  const format = options.format ?? detect(lines[0]!.text);
  if (format === 'ddd') return assembleDdd(lines);
  if (format === 'dd') return lines.map(assembleDdLine);
  return lines.map((l, n) => assembleDLine(l, n));
}

function detect(first: string): ClassicFormat {
  const t = first.trim();
  if (/^\d+$/.test(t)) return 'ddd';
  if (t.startsWith('{')) return 'dd';
  return 'd';
}

/** Splits at runs of blanks, keeping each piece's column. */
function pieces(text: string, from = 0): Piece[] {
  const out: Piece[] = [];
  const re = /\S+/g;
  re.lastIndex = from;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ text: m[0], column: m.index + 1 });
  return out;
}

function field(line: Line, p: Piece, what: string, max: number): number {
  const v = integer(line, p, what);
  if (v > max) line.fail(`${what} ${p.text} is larger than ${max}`, p.column);
  return v;
}

function assembleDdd(lines: Line[]): CbpfInsn[] {
  const [head, ...rest] = lines;
  const countPiece = pieces(head!.text)[0]!;
  const count = field(head!, countPiece, 'the instruction count', 0xffff);
  const prog = rest.map((l) => {
    const ps = pieces(l.text);
    if (ps.length !== 4) l.fail(`expected 'code jt jf k' (four numbers), found ${ps.length} field${ps.length === 1 ? '' : 's'}`, ps[Math.min(ps.length, 4) - 1]?.column ?? 1);
    return insn(field(l, ps[0]!, 'the opcode', 0xffff), integer(l, ps[3]!, 'k'), field(l, ps[1]!, 'jt', 255), field(l, ps[2]!, 'jf', 255));
  });
  if (prog.length !== count) {
    head!.fail(`the listing says ${count} instruction${count === 1 ? '' : 's'} but has ${prog.length}`, countPiece.column);
  }
  return prog;
}

function assembleDdLine(l: Line): CbpfInsn {
  const m = /^\s*\{\s*([^,\s]+)\s*,\s*([^,\s]+)\s*,\s*([^,\s]+)\s*,\s*([^,\s}]+)\s*\}\s*,?\s*$/.exec(l.text);
  if (!m) l.fail("expected '{ code, jt, jf, k },'", l.text.search(/\S/) + 1);
  // Columns of the four fields, found left to right so equal texts do not collide.
  const cols: Piece[] = [];
  let from = 0;
  for (let g = 1; g <= 4; g++) {
    const i = l.text.indexOf(m[g]!, from);
    cols.push({ text: m[g]!, column: i + 1 });
    from = i + m[g]!.length;
  }
  return insn(field(l, cols[0]!, 'the opcode', 0xffff), integer(l, cols[3]!, 'k'), field(l, cols[1]!, 'jt', 255), field(l, cols[2]!, 'jf', 255));
}

const SIZES: Record<string, number> = { ld: Size.W, ldh: Size.H, ldb: Size.B };
const CONDITIONS: Record<string, number> = { jeq: JmpOp.JEQ, jgt: JmpOp.JGT, jge: JmpOp.JGE, jset: JmpOp.JSET };
const ALU_OPS: Record<string, number> = {
  add: AluOp.ADD, sub: AluOp.SUB, mul: AluOp.MUL, div: AluOp.DIV, mod: AluOp.MOD, and: AluOp.AND, or: AluOp.OR,
  xor: AluOp.XOR, lsh: AluOp.LSH, rsh: AluOp.RSH,
};

function assembleDLine(l: Line, n: number): CbpfInsn {
  let from = 0;
  const prefix = /^\s*\((\d+)\)/.exec(l.text);
  if (prefix) {
    if (Number(prefix[1]) !== n) l.fail(`instruction (${prefix[1]}) is number ${n} of the listing`, l.text.indexOf('(') + 1);
    from = prefix[0].length;
  }
  const ps = pieces(l.text, from);
  if (ps.length === 0) l.fail('expected an instruction after the index', from + 1);
  const mnemonic = ps[0]!;
  const name = mnemonic.text.toLowerCase();
  let rest = ps.slice(1);
  // Conditional jumps end in "jt N jf M" (absolute targets).
  let targets: [Piece, Piece] | null = null;
  if (rest.length >= 4 && rest[rest.length - 4]!.text === 'jt' && rest[rest.length - 2]!.text === 'jf') {
    targets = [rest[rest.length - 3]!, rest[rest.length - 1]!];
    rest = rest.slice(0, -4);
  }
  const end = mnemonic.column + mnemonic.text.length;
  // Operands may contain blanks ("[x + 14]"): rejoin what is left, dropping the blanks.
  const operand: Piece = rest.length ? { text: rest.map((p) => p.text).join(''), column: rest[0]!.column } : { text: '', column: end + 1 };
  const extra = (): never => l.fail(`'${name}' takes no operand here, found '${operand.text}'`, operand.column);
  const need = (what: string): never => l.fail(`'${name}' needs ${what}${operand.text ? `, not '${operand.text}'` : ''}`, operand.column);
  if (targets && !Object.hasOwn(CONDITIONS, name)) l.fail(`only conditional jumps have jt/jf targets, not '${name}'`, targets[0].column);
  const num = (text: string, column: number, what: string): number => integer(l, { text, column }, what);

  if (Object.hasOwn(CONDITIONS, name)) {
    if (!targets) l.fail(`'${name}' needs 'jt N jf M' targets`, operand.column + operand.text.length);
    const rel = (p: Piece, what: string): number => {
      const target = integer(l, p, `the ${what} target`) | 0;
      const off = target - (n + 1);
      if (off < 0 || off > 255) l.fail(`the ${what} target ${target} is not 0 to 255 instructions after instruction ${n}`, p.column);
      return off;
    };
    const jt = rel(targets[0], 'jt');
    const jf = rel(targets[1], 'jf');
    const code = Class.JMP | CONDITIONS[name]!;
    if (operand.text.toLowerCase() === 'x') return insn(code | Src.X, 0, jt, jf);
    if (!operand.text.startsWith('#')) need("'#k' or 'x'");
    return insn(code | Src.K, num(operand.text.slice(1), operand.column + 1, 'the constant'), jt, jf);
  }
  if (Object.hasOwn(ALU_OPS, name)) {
    const code = Class.ALU | ALU_OPS[name]!;
    if (operand.text.toLowerCase() === 'x') return insn(code | Src.X);
    if (!operand.text.startsWith('#')) need("'#k' or 'x'");
    return insn(code | Src.K, num(operand.text.slice(1), operand.column + 1, 'the constant'));
  }
  const memSlot = (): number => {
    const m = /^M\[(.+)\]$/i.exec(operand.text);
    if (!m) return need("a scratch slot 'M[n]'");
    return num(m[1]!, operand.column + 2, 'the scratch slot');
  };
  switch (name) {
    case 'ret': {
      const t = operand.text.toLowerCase();
      if (t === '' || t === 'a') return insn(Class.RET | RetVal.A);
      if (t === 'x') return insn(Class.RET | RetVal.X);
      if (!t.startsWith('#')) need("'#k', 'a', 'x' or nothing (a)");
      return insn(Class.RET | RetVal.K, num(operand.text.slice(1), operand.column + 1, 'the return value'));
    }
    case 'ld': case 'ldh': case 'ldb': {
      const size = SIZES[name]!;
      const t = operand.text;
      const ind = /^\[x\+(.+)\]$/i.exec(t);
      if (ind) return insn(Class.LD | size | Mode.IND, num(ind[1]!, operand.column + t.indexOf('+') + 1, 'the offset'));
      const abs = /^\[(.+)\]$/.exec(t);
      if (abs) {
        const named = ANCILLARY_BY_NAME.get(abs[1]!.toLowerCase());
        return insn(Class.LD | size | Mode.ABS, named ?? num(abs[1]!, operand.column + 1, 'the offset'));
      }
      if (name === 'ld') {
        if (/^#?(pktlen|len)$/i.test(t)) return insn(Class.LD | Size.W | Mode.LEN);
        if (/^M\[/i.test(t)) return insn(Class.LD | Mode.MEM, memSlot());
        if (t.startsWith('#')) return insn(Class.LD | Mode.IMM, num(t.slice(1), operand.column + 1, 'the constant'));
        need("'[k]', '[x + k]', '#k', 'M[n]' or '#pktlen'");
      }
      return need("'[k]' or '[x + k]'");
    }
    case 'ldx': {
      const t = operand.text;
      if (/^#?(pktlen|len)$/i.test(t)) return insn(Class.LDX | Size.W | Mode.LEN);
      if (/^M\[/i.test(t)) return insn(Class.LDX | Mode.MEM, memSlot());
      if (t.startsWith('#')) return insn(Class.LDX | Mode.IMM, num(t.slice(1), operand.column + 1, 'the constant'));
      return need("'#k', 'M[n]' or '#pktlen'");
    }
    case 'ldxb': {
      const m = /^4\*\(\[(.+)\]&0xf\)$/i.exec(operand.text);
      if (!m) return need("'4*([k]&0xf)'");
      return insn(Class.LDX | Size.B | Mode.MSH, num(m[1]!, operand.column + 4, 'the offset'));
    }
    case 'st': return insn(Class.ST, memSlot());
    case 'stx': return insn(Class.STX, memSlot());
    case 'ja': {
      if (!operand.text) need('a target');
      const target = num(operand.text, operand.column, 'the target') | 0;
      return insn(Class.JMP | JmpOp.JA, (target - (n + 1)) >>> 0);
    }
    case 'neg': if (operand.text) extra(); return insn(Class.ALU | AluOp.NEG);
    case 'tax': if (operand.text) extra(); return insn(Class.MISC | MiscOp.TAX);
    case 'txa': if (operand.text) extra(); return insn(Class.MISC | MiscOp.TXA);
    case 'unimp':
      return l.fail(`'unimp ${operand.text}' cannot be assembled: libpcap printed an opcode it has no name for, and the listing lacks its constant`, mnemonic.column);
    default:
      return l.fail(`unknown mnemonic '${mnemonic.text}'`, mnemonic.column);
  }
}
