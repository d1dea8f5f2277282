/**
 * Classic programs as text, in the three forms `tcpdump` prints them:
 * `-d` (libpcap's `bpf_image`: mnemonics, absolute jump targets), `-dd`
 * (C initialisers) and `-ddd` (a count, then decimal `code jt jf k`).
 * The output matches libpcap 1.10 byte for byte, including its quirks
 * (a padded, empty operand column; `%d` printing of constants that are
 * u32; opcodes it has no name for shown as `unimp`), because scripts and
 * people compare these listings with tcpdump's.
 */
import { AluOp, Ancillary, Class, JmpOp, MiscOp, Mode, RetVal, SKF_AD_MAX, SKF_AD_OFF, Size, Src } from './insn.js';
import type { CbpfInsn } from './insn.js';

/** The three listings: `-d`, `-dd` and `-ddd`. */
export type ClassicFormat = 'd' | 'dd' | 'ddd';

/** Options of {@link formatClassic} and {@link formatClassicInsn}. */
export interface FormatOptions {
  /**
   * Name the opcodes libpcap 1.10 prints as `unimp` but Linux accepts
   * (`ret x`, `ldx #pktlen`), so that a `-d` listing of any Linux filter
   * assembles back. Off by default: tcpdump's exact text.
   */
  extended?: boolean;
}

/** The names libpcap gives Linux's ancillary loads (`ld [proto]`...), by offset after SKF_AD_OFF. */
export const ANCILLARY_NAMES: Readonly<Record<number, string>> = {
  [Ancillary.PROTOCOL]: 'proto', [Ancillary.PKTTYPE]: 'type', [Ancillary.IFINDEX]: 'ifidx', [Ancillary.NLATTR]: 'nla',
  [Ancillary.NLATTR_NEST]: 'nlan', [Ancillary.MARK]: 'mark', [Ancillary.QUEUE]: 'queue', [Ancillary.HATYPE]: 'hatype',
  [Ancillary.RXHASH]: 'rxhash', [Ancillary.CPU]: 'cpu', [Ancillary.ALU_XOR_X]: 'xor_x', [Ancillary.VLAN_TAG]: 'vlan_tci',
  [Ancillary.VLAN_TAG_PRESENT]: 'vlanp', [Ancillary.PAY_OFFSET]: 'poff', [Ancillary.RANDOM]: 'random', [Ancillary.VLAN_TPID]: 'vlan_tpid',
};

type Operand = (k: number, n: number) => string;

// C's printf("%d") of a u32 shows it as signed; "%x" shows it unsigned.
const dec: Operand = (k) => String(k | 0);
const hex = (k: number): string => (k >>> 0).toString(16);
const none: Operand = () => '';
const absOperand: Operand = (k) => {
  const u = k >>> 0;
  const base = SKF_AD_OFF >>> 0;
  if (u >= base && u < base + SKF_AD_MAX) {
    const name = ANCILLARY_NAMES[u - base];
    if (name !== undefined) return `[${name}]`;
  }
  return `[${k | 0}]`;
};

/** Mnemonic and operand printer per exact opcode (libpcap matches whole opcodes, not fields). */
const MNEMONICS = new Map<number, [string, Operand]>();
function def(code: number, name: string, operand: Operand): void {
  MNEMONICS.set(code, [name, operand]);
}
def(Class.RET | RetVal.K, 'ret', (k) => `#${k | 0}`);
def(Class.RET | RetVal.A, 'ret', none);
for (const [sz, name] of [[Size.W, 'ld'], [Size.H, 'ldh'], [Size.B, 'ldb']] as const) {
  def(Class.LD | sz | Mode.ABS, name, absOperand);
  def(Class.LD | sz | Mode.IND, name, (k) => `[x + ${k | 0}]`);
}
def(Class.LD | Size.W | Mode.LEN, 'ld', () => '#pktlen');
def(Class.LD | Mode.IMM, 'ld', (k) => `#0x${hex(k)}`);
def(Class.LDX | Mode.IMM, 'ldx', (k) => `#0x${hex(k)}`);
def(Class.LDX | Size.B | Mode.MSH, 'ldxb', (k) => `4*([${k | 0}]&0xf)`);
def(Class.LD | Mode.MEM, 'ld', (k) => `M[${k | 0}]`);
def(Class.LDX | Mode.MEM, 'ldx', (k) => `M[${k | 0}]`);
def(Class.ST, 'st', (k) => `M[${k | 0}]`);
def(Class.STX, 'stx', (k) => `M[${k | 0}]`);
def(Class.JMP | JmpOp.JA, 'ja', (k, n) => String((n + 1 + k) | 0));
for (const [o, name] of [[JmpOp.JGT, 'jgt'], [JmpOp.JGE, 'jge'], [JmpOp.JEQ, 'jeq'], [JmpOp.JSET, 'jset']] as const) {
  def(Class.JMP | o | Src.K, name, (k) => `#0x${hex(k)}`);
  def(Class.JMP | o | Src.X, name, () => 'x');
}
const ALU: readonly [number, string, Operand][] = [
  [AluOp.ADD, 'add', dec], [AluOp.SUB, 'sub', dec], [AluOp.MUL, 'mul', dec], [AluOp.DIV, 'div', dec], [AluOp.MOD, 'mod', dec],
  [AluOp.AND, 'and', (k) => `0x${hex(k)}`], [AluOp.OR, 'or', (k) => `0x${hex(k)}`], [AluOp.XOR, 'xor', (k) => `0x${hex(k)}`],
  [AluOp.LSH, 'lsh', dec], [AluOp.RSH, 'rsh', dec],
];
for (const [o, name, operand] of ALU) {
  def(Class.ALU | o | Src.K, name, (k, n) => `#${operand(k, n)}`);
  def(Class.ALU | o | Src.X, name, () => 'x');
}
def(Class.ALU | AluOp.NEG, 'neg', none);
def(Class.MISC | MiscOp.TAX, 'tax', none);
def(Class.MISC | MiscOp.TXA, 'txa', none);

/** What {@link FormatOptions.extended} adds. */
const EXTENDED = new Map<number, [string, Operand]>([
  [Class.RET | RetVal.X, ['ret', () => 'x']],
  [Class.LDX | Size.W | Mode.LEN, ['ldx', () => '#pktlen']],
]);

/** The mnemonic table the assembler reads back (exact opcode → mnemonic), including the extended forms. */
export function classicMnemonic(code: number, extended = true): string | undefined {
  return (MNEMONICS.get(code) ?? (extended ? EXTENDED.get(code) : undefined))?.[0];
}

function pad(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

/**
 * One instruction as `tcpdump -d` prints it, `n` being its index:
 * `(000) ldh      [12]`, `(001) jeq      #0x800           jt 2\tjf 5`.
 */
export function formatClassicInsn(insn: CbpfInsn, n: number, options: FormatOptions = {}): string {
  const entry = MNEMONICS.get(insn.code) ?? (options.extended ? EXTENDED.get(insn.code) : undefined);
  const [name, operand] = entry ?? ['unimp', () => `0x${insn.code.toString(16)}`];
  const text = operand(insn.k >>> 0, n);
  const index = String(n).padStart(3, '0');
  if ((insn.code & 0x07) === Class.JMP && (insn.code & 0xf0) !== JmpOp.JA) {
    return `(${index}) ${pad(name, 8)} ${pad(text, 16)} jt ${n + 1 + insn.jt}\tjf ${n + 1 + insn.jf}`;
  }
  return `(${index}) ${pad(name, 8)} ${text}`;
}

/** The whole program in one of tcpdump's listings (`-d`, `-dd`, `-ddd`), each line ending in a newline. */
export function formatClassic(prog: readonly CbpfInsn[], format: ClassicFormat = 'd', options: FormatOptions = {}): string {
  const lines: string[] = [];
  if (format === 'ddd') {
    lines.push(String(prog.length));
    for (const i of prog) lines.push(`${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}`);
  } else if (format === 'dd') {
    for (const i of prog) lines.push(`{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, '0')} },`);
  } else {
    prog.forEach((i, n) => lines.push(formatClassicInsn(i, n, options)));
  }
  return lines.map((l) => l + '\n').join('');
}
