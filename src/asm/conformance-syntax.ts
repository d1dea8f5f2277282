/**
 * The conformance syntax: the uBPF-style assembly of the bpf_conformance
 * test data (`mov %r0, 1`, `ldxw %r0, [%r1+4]`, `jeq %r1, 0, +2`,
 * `lock fetch add32 [%r10-8], %r1`), extended to every instruction form
 * tsbpf knows (see docs/assembly.md).
 */
import type {
  AccessSize, AluOpName, AtomicOpName, Instruction, JmpOpName, LddwInsn,
} from '../isa/index.js';
import type { Cursor } from './cursor.js';
import type { LabelRef, Statement } from './statement.js';
import { SIZE_SUFFIX, SUFFIX_OF_SIZE } from './statement.js';

const ALU_OPS: readonly AluOpName[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh'];
const JMP_OPS: readonly JmpOpName[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
const RMW_OPS: readonly AtomicOpName[] = ['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'];

/** Keywords of `lddw` pseudo sources, indexed by the `src` value. */
export const PSEUDO_NAMES = ['', 'map_fd', 'map_value', 'btf_id', 'func', 'map_idx', 'map_idx_value'] as const;

/** movsx mnemonics: `movsx{from}{to}`. */
const MOVSX: Readonly<Record<string, { op: AluOpName; wide: boolean }>> = {
  movsx832: { op: 'movsx8', wide: false },
  movsx1632: { op: 'movsx16', wide: false },
  movsx864: { op: 'movsx8', wide: true },
  movsx1664: { op: 'movsx16', wide: true },
  movsx3264: { op: 'movsx32', wide: true },
};

// ---------------------------------------------------------------- parsing

function reg(c: Cursor): number {
  return c.expectReg('r', 'allow').n;
}

/** `[%rN]`, `[%rN+off]`, `[%rN-off]`. */
function mem(c: Cursor): { base: number; off: number } {
  c.expectOp('[');
  const base = reg(c);
  let off = 0;
  if (c.isOp('+') || c.isOp('-')) off = c.off16(c.expectNum('an offset'));
  c.expectOp(']');
  return { base, off };
}

/** A jump target: `+N`, `-N`, `N` or a label. */
function target(c: Cursor, bits: 16 | 32): { off: number; ref?: LabelRef } {
  if (c.isNum()) return { off: c.jumpOff(c.expectNum('a jump offset'), bits) };
  const tok = c.expectIdent('a jump offset or label');
  return { off: 0, ref: { name: tok.text, col: tok.col } };
}

function regOrImm(c: Cursor): { useReg: boolean; src: number; imm: number } {
  if (c.isReg()) return { useReg: true, src: reg(c), imm: 0 };
  return { useReg: false, src: 0, imm: c.expectImm32() };
}

function withRef(insn: Instruction, ref: LabelRef | undefined): Statement {
  return ref ? { insn, ref } : { insn };
}

/** Parses one instruction (the mnemonic is the next token). */
export function parseConformance(c: Cursor): Statement {
  const mtok = c.peek();
  if (mtok.kind === 'reg') c.fail(`expected a mnemonic, found '${mtok.text}' (LLVM syntax in a conformance-syntax file?)`);
  if (mtok.kind !== 'ident') c.fail(`expected a mnemonic, found '${mtok.text}'`);
  c.next();
  const m = mtok.text.toLowerCase();
  const stmt = parseMnemonic(c, m);
  if (!stmt) c.fail(`unknown mnemonic '${mtok.text}'`, mtok);
  c.expectEnd();
  return stmt;
}

function parseMnemonic(c: Cursor, m: string): Statement | undefined {
  const wide = !m.endsWith('32');
  const base = wide ? m : m.slice(0, -2);
  const movsx = MOVSX[m];
  if (movsx) {
    const dst = reg(c);
    c.expectOp(',');
    return { insn: { kind: 'alu', op: movsx.op, wide: movsx.wide, useReg: true, dst, src: reg(c), imm: 0 } };
  }
  if ((ALU_OPS as readonly string[]).includes(base)) {
    const dst = reg(c);
    c.expectOp(',');
    return { insn: { kind: 'alu', op: base as AluOpName, wide, dst, ...regOrImm(c) } };
  }
  if (base === 'neg') return { insn: { kind: 'neg', wide, dst: reg(c) } };
  if ((JMP_OPS as readonly string[]).includes(base)) {
    const dst = reg(c);
    c.expectOp(',');
    const operand = regOrImm(c);
    c.expectOp(',');
    const t = target(c, 16);
    return withRef({ kind: 'jmp', op: base as JmpOpName, wide, dst, ...operand, off: t.off }, t.ref);
  }
  const endian = /^(le|be|bswap|swap)(16|32|64)$/.exec(m);
  if (endian) {
    const order = endian[1] === 'le' ? 'le' : endian[1] === 'be' ? 'be' : 'swap';
    return { insn: { kind: 'endian', order, bits: Number(endian[2]) as 16 | 32 | 64, dst: reg(c) } };
  }
  const sized = /^(ldx|ldxs|st|stx|ldabs|ldind|ldacq|strel)(b|h|w|dw)$/.exec(m);
  if (sized) return parseSized(c, sized[1]!, SIZE_SUFFIX[sized[2]!]!);
  switch (m) {
    case 'ja': {
      const t = target(c, 16);
      return withRef({ kind: 'ja', off: t.off }, t.ref);
    }
    case 'ja32': {
      const t = target(c, 32);
      return withRef({ kind: 'gotol', imm: t.off }, t.ref);
    }
    case 'may_goto': {
      const t = target(c, 16);
      return withRef({ kind: 'may_goto', off: t.off }, t.ref);
    }
    case 'exit':
      return { insn: { kind: 'exit' } };
    case 'call':
      return parseCall(c);
    case 'lddw':
      return parseLddw(c);
    case 'lock':
      return parseLock(c);
    case 'addr_space_cast': {
      const dst = reg(c);
      c.expectOp(',');
      const src = reg(c);
      c.expectOp(',');
      const dstAs = c.small(c.expectNum('an address space'), 0xffff, 'address space');
      c.expectOp(',');
      const asTok = c.peek();
      const srcAs = c.small(c.expectNum('an address space'), 0xffff, 'address space');
      const imm = dstAs * 0x10000 + srcAs;
      if (imm !== 1 && imm !== 0x10000) c.fail('addr_space_cast converts only between address spaces 0 and 1', asTok);
      return { insn: { kind: 'addr_space_cast', dst, src, imm } };
    }
  }
  return undefined;
}

function parseSized(c: Cursor, family: string, size: AccessSize): Statement {
  const at = c.peek();
  switch (family) {
    case 'ldx':
    case 'ldxs': {
      if (family === 'ldxs' && size === 8) c.fail('sign-extending loads exist for 1, 2 and 4 bytes only (ldxsb, ldxsh, ldxsw)', at);
      const dst = reg(c);
      c.expectOp(',');
      const m = mem(c);
      return { insn: { kind: 'ldx', size, signed: family === 'ldxs', dst, src: m.base, off: m.off } };
    }
    case 'st': {
      const m = mem(c);
      c.expectOp(',');
      return { insn: { kind: 'st', size, dst: m.base, off: m.off, imm: c.expectImm32() } };
    }
    case 'stx': {
      const m = mem(c);
      c.expectOp(',');
      return { insn: { kind: 'stx', size, dst: m.base, src: reg(c), off: m.off } };
    }
    case 'ldabs':
    case 'ldind': {
      if (size === 8) c.fail('legacy packet loads exist for 1, 2 and 4 bytes only', at);
      if (family === 'ldabs') return { insn: { kind: 'ldabs', size, imm: c.expectImm32() } };
      const src = reg(c);
      c.expectOp(',');
      return { insn: { kind: 'ldind', size, src, imm: c.expectImm32() } };
    }
    case 'ldacq': {
      const dst = reg(c);
      c.expectOp(',');
      const m = mem(c);
      return { insn: { kind: 'atomic', op: 'load_acq', fetch: false, size, dst, src: m.base, off: m.off } };
    }
    default: {
      const m = mem(c);
      c.expectOp(',');
      return { insn: { kind: 'atomic', op: 'store_rel', fetch: false, size, dst: m.base, src: reg(c), off: m.off } };
    }
  }
}

function parseCall(c: Cursor): Statement {
  if (c.isReg()) return { insn: { kind: 'callx', dst: reg(c) } };
  if (c.acceptWord('local')) {
    const t = target(c, 32);
    return withRef({ kind: 'call', src: 1, imm: t.off }, t.ref);
  }
  if (c.acceptWord('kfunc') || c.acceptWord('runtime')) return { insn: { kind: 'call', src: 2, imm: c.expectImm32('a kfunc BTF id') } };
  if (!c.isNum()) c.fail(`expected a helper id, 'local', 'kfunc' or a register, found '${c.peek().text || 'end of line'}'`);
  return { insn: { kind: 'call', src: 0, imm: c.expectImm32('a helper id') } };
}

function parseLddw(c: Cursor): Statement {
  const dst = reg(c);
  c.expectOp(',');
  const word = c.peek();
  const pseudo = word.kind === 'ident' ? PSEUDO_NAMES.indexOf(word.text as (typeof PSEUDO_NAMES)[number]) : 0;
  if (pseudo <= 0) {
    if (word.kind === 'ident') c.fail(`unknown lddw source '${word.text}' (${PSEUDO_NAMES.slice(1).join(', ')})`);
    const value = c.expectImm64();
    const insn: LddwInsn = {
      kind: 'lddw', dst, pseudo: 0,
      imm: Number(BigInt.asIntN(32, value)), imm2: Number(BigInt.asIntN(32, value >> 32n)),
    };
    return { insn };
  }
  c.next();
  let imm = 0;
  let ref: LabelRef | undefined;
  if (pseudo === 4) {
    const t = target(c, 32);
    imm = t.off;
    ref = t.ref;
  } else {
    imm = c.expectImm32();
  }
  let imm2 = 0;
  if (c.acceptOp(',')) imm2 = c.expectImm32();
  return withRef({ kind: 'lddw', dst, pseudo: pseudo as LddwInsn['pseudo'], imm, imm2 }, ref);
}

function parseLock(c: Cursor): Statement {
  const fetch = c.acceptWord('fetch');
  const optok = c.expectIdent('an atomic operation');
  const m = /^(add|or|and|xor|xchg|cmpxchg)(32)?$/.exec(optok.text.toLowerCase());
  if (!m) c.fail(`unknown atomic operation '${optok.text}' (${RMW_OPS.join(', ')})`, optok);
  const op = m[1] as AtomicOpName;
  const always = op === 'xchg' || op === 'cmpxchg';
  const dstMem = mem(c);
  c.expectOp(',');
  const src = reg(c);
  return {
    insn: { kind: 'atomic', op, fetch: fetch || always, size: m[2] ? 4 : 8, dst: dstMem.base, src, off: dstMem.off },
  };
}

// ---------------------------------------------------------------- printing

function r(n: number): string {
  return `%r${n}`;
}

function memText(base: number, off: number): string {
  return `[${r(base)}${off < 0 ? '-' : '+'}${Math.abs(off)}]`;
}

function signed(n: number): string {
  return n < 0 ? String(n) : `+${n}`;
}

function hex64(insn: LddwInsn): string {
  const v = (BigInt(insn.imm2 >>> 0) << 32n) | BigInt(insn.imm >>> 0);
  return '0x' + v.toString(16);
}

/**
 * Formats one instruction in conformance syntax. `label` names the branch
 * target, when the caller wants labels instead of offsets.
 */
export function formatConformance(insn: Instruction, label?: string): string {
  switch (insn.kind) {
    case 'alu': {
      if (insn.op.startsWith('movsx')) return `${insn.op}${insn.wide ? 64 : 32} ${r(insn.dst)}, ${r(insn.src)}`;
      const name = insn.op + (insn.wide ? '' : '32');
      return `${name} ${r(insn.dst)}, ${insn.useReg ? r(insn.src) : String(insn.imm)}`;
    }
    case 'neg':
      return `neg${insn.wide ? '' : '32'} ${r(insn.dst)}`;
    case 'endian':
      return `${insn.order === 'swap' ? 'bswap' : insn.order}${insn.bits} ${r(insn.dst)}`;
    case 'addr_space_cast':
      return `addr_space_cast ${r(insn.dst)}, ${r(insn.src)}, ${insn.imm >>> 16}, ${insn.imm & 0xffff}`;
    case 'jmp':
      return `${insn.op}${insn.wide ? '' : '32'} ${r(insn.dst)}, ${insn.useReg ? r(insn.src) : String(insn.imm)}, ${label ?? signed(insn.off)}`;
    case 'ja':
      return `ja ${label ?? signed(insn.off)}`;
    case 'gotol':
      return `ja32 ${label ?? signed(insn.imm)}`;
    case 'may_goto':
      return `may_goto ${label ?? signed(insn.off)}`;
    case 'call':
      if (insn.src === 1) return `call local ${label ?? signed(insn.imm)}`;
      return insn.src === 2 ? `call kfunc ${insn.imm}` : `call ${insn.imm}`;
    case 'callx':
      return `call ${r(insn.dst)}`;
    case 'exit':
      return 'exit';
    case 'ldx':
      return `ldx${insn.signed ? 's' : ''}${SUFFIX_OF_SIZE[insn.size]} ${r(insn.dst)}, ${memText(insn.src, insn.off)}`;
    case 'st':
      return `st${SUFFIX_OF_SIZE[insn.size]} ${memText(insn.dst, insn.off)}, ${insn.imm}`;
    case 'stx':
      return `stx${SUFFIX_OF_SIZE[insn.size]} ${memText(insn.dst, insn.off)}, ${r(insn.src)}`;
    case 'atomic': {
      if (insn.op === 'load_acq') return `ldacq${SUFFIX_OF_SIZE[insn.size]} ${r(insn.dst)}, ${memText(insn.src, insn.off)}`;
      if (insn.op === 'store_rel') return `strel${SUFFIX_OF_SIZE[insn.size]} ${memText(insn.dst, insn.off)}, ${r(insn.src)}`;
      const always = insn.op === 'xchg' || insn.op === 'cmpxchg';
      const fetch = insn.fetch && !always ? 'fetch ' : '';
      return `lock ${fetch}${insn.op}${insn.size === 4 ? '32' : ''} ${memText(insn.dst, insn.off)}, ${r(insn.src)}`;
    }
    case 'lddw': {
      if (insn.pseudo === 0) return `lddw ${r(insn.dst)}, ${hex64(insn)}`;
      const first = insn.pseudo === 4 ? (label ?? signed(insn.imm)) : String(insn.imm);
      const second = insn.imm2 !== 0 || insn.pseudo === 2 || insn.pseudo === 6 ? `, ${insn.imm2}` : '';
      return `lddw ${r(insn.dst)}, ${PSEUDO_NAMES[insn.pseudo]} ${first}${second}`;
    }
    case 'ldabs':
      return `ldabs${SUFFIX_OF_SIZE[insn.size]} ${insn.imm}`;
    case 'ldind':
      return `ldind${SUFFIX_OF_SIZE[insn.size]} ${r(insn.src)}, ${insn.imm}`;
  }
}
