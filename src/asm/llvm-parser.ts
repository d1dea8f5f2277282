/**
 * The LLVM syntax parser. It reads what llvm-objdump and clang print
 * (`r0 = *(u32 *)(r1 + 0x4)`, `if r1 == 0x0 goto +0x2`, `lock *(u64 *)(r1 +
 * 0x0) += r2`, `r0 = 0x1122334455667788 ll`) and the Linux verifier log's
 * spelling of the same instructions (`(r10 -8)`, `goto pc+3`,
 * `call bpf_map_lookup_elem#1`, `atomic64_fetch_add(...)`).
 */
import type { AccessSize, AluOpName, AtomicOpName, Instruction, JmpOpName, LddwInsn } from '../isa/index.js';
import type { Cursor, RegOperand } from './cursor.js';
import { describe } from './cursor.js';
import { LLVM_ALU_OPS, LLVM_JMP_OPS } from './llvm-printer.js';
import type { LabelRef, Statement } from './statement.js';

const ALU_BY_OP = new Map<string, AluOpName>(
  Object.entries(LLVM_ALU_OPS).filter(([name]) => !name.startsWith('movsx')).map(([name, op]) => [op, name as AluOpName]),
);
const JMP_BY_OP = new Map<string, JmpOpName>(Object.entries(LLVM_JMP_OPS).map(([name, op]) => [op, name as JmpOpName]));
const ATOMIC_BY_OP = new Map<string, AtomicOpName>([['+=', 'add'], ['|=', 'or'], ['&=', 'and'], ['^=', 'xor']]);

interface MemType {
  size: AccessSize;
  signed: boolean;
}

interface Address {
  base: number;
  off: number;
}

/** `(u32 *)`: the parenthesised pointer type. */
function ptrType(c: Cursor): MemType & { col: number } {
  c.expectOp('(');
  const tok = c.peek();
  const m = tok.kind === 'ident' ? /^([us])(8|16|32|64)$/.exec(tok.text) : null;
  if (!m) c.fail(`expected an access type (u8, u16, u32, u64, s8, s16, s32), found ${describe(tok)}`);
  c.next();
  c.expectOp('*');
  c.expectOp(')');
  const size = (Number(m[2]) / 8) as AccessSize;
  const signed = m[1] === 's';
  if (signed && size === 8) c.fail(`'s64' is not an access type: sign-extending loads exist for s8, s16 and s32`, tok);
  return { size, signed, col: tok.col };
}

/** `r1 + 0x4`, `r10 -8`, `r1` (no parentheses). */
function addressBody(c: Cursor): Address {
  const base = c.expectReg('r').n;
  let off = 0;
  if (c.isOp('+') || c.isOp('-')) off = c.off16(c.expectNum('an offset'));
  return { base, off };
}

/** `(r1 + 0x4)`. */
function address(c: Cursor): Address {
  c.expectOp('(');
  const a = addressBody(c);
  c.expectOp(')');
  return a;
}

/** `(u32 *)(r1 + 0x4)`, as inside `atomic_fetch_add(...)` and `load_acquire(...)`. */
function typedAddress(c: Cursor): MemType & Address & { col: number } {
  const t = ptrType(c);
  return { ...t, ...address(c) };
}

function requireUnsigned(c: Cursor, t: MemType & { col: number }, what: string): void {
  if (t.signed) c.fail(`${what} takes an unsigned access type (u8, u16, u32, u64)`, { kind: 'op', text: '', col: t.col });
}

function requireAtomicSize(c: Cursor, t: MemType & { col: number }): void {
  requireUnsigned(c, t, 'an atomic operation');
  if (t.size < 4) c.fail(`atomic read-modify-write operations need a 32- or 64-bit access (u32, u64), found 'u${t.size * 8}'`, { kind: 'op', text: '', col: t.col });
}

/** A branch target: `+0x2`, `-3`, `pc+3`, `pc-0x2` or a label. */
function target(c: Cursor, bits: 16 | 32): { off: number; ref?: LabelRef } {
  if (c.isWord('pc') && (c.isOp('+', 1) || c.isOp('-', 1)) && c.peek(2).kind === 'num') c.next();
  if (c.isNum()) return { off: c.jumpOff(c.expectNum('a jump offset'), bits) };
  const tok = c.expectIdent('a jump offset or label');
  return { off: 0, ref: { name: tok.text, col: tok.col } };
}

function withRef(insn: Instruction, ref: LabelRef | undefined): Statement {
  return ref ? { insn, ref } : { insn };
}

function sameReg(c: Cursor, expected: RegOperand, what: string): RegOperand {
  const tok = c.peek();
  const got = c.expectReg('any');
  if (got.n !== expected.n) c.fail(`${what} must be '${expected.tok.text}', found '${got.tok.text}'`, tok);
  return got;
}

/**
 * Parses one statement in LLVM (or Linux verifier log) syntax. `opcode` is
 * the `(xx)` byte of a kernel log prefix: it tells `r1 = 0x1234` apart as a
 * `lddw` (0x18) rather than a `mov`.
 */
export function parseLlvm(c: Cursor, opcode?: number): Statement {
  const stmt = parseStatement(c, opcode);
  c.expectEnd();
  return stmt;
}

function parseStatement(c: Cursor, opcode: number | undefined): Statement {
  const tok = c.peek();
  if (tok.kind === 'reg') return parseAssign(c, opcode);
  if (tok.kind === 'op' && tok.text === '*') return parseStore(c);
  if (tok.kind === 'op' && tok.text === '<') c.fail(`cannot assemble '${tok.text}${c.peek(1).text}${c.peek(2).text}': llvm-objdump could not decode this instruction`);
  if (tok.kind !== 'ident') c.fail(`expected an instruction, found ${describe(tok)}`);
  c.next();
  switch (tok.text) {
    case 'if':
      return parseCondJump(c);
    case 'goto':
    case 'ja': {
      const t = target(c, 16);
      return withRef({ kind: 'ja', off: t.off }, t.ref);
    }
    case 'gotol': {
      const t = target(c, 32);
      return withRef({ kind: 'gotol', imm: t.off }, t.ref);
    }
    case 'may_goto': {
      const t = target(c, 16);
      return withRef({ kind: 'may_goto', off: t.off }, t.ref);
    }
    case 'call':
      return parseCall(c);
    case 'callx':
      return { insn: { kind: 'callx', dst: c.expectReg('r').n } };
    case 'exit':
      return { insn: { kind: 'exit' } };
    case 'lock':
      return parseLock(c);
    case 'store_release': {
      c.expectOp('(');
      const t = typedAddress(c);
      requireUnsigned(c, t, 'store_release');
      c.expectOp(',');
      const src = c.expectReg('any').n;
      c.expectOp(')');
      return { insn: { kind: 'atomic', op: 'store_rel', fetch: false, size: t.size, dst: t.base, src, off: t.off } };
    }
    case 'ld_pseudo':
      return parseLdPseudo(c);
  }
  return c.fail(`unknown mnemonic '${tok.text}'`, tok);
}

function parseCondJump(c: Cursor): Statement {
  const dst = c.expectReg('any');
  const optok = c.peek();
  const op = optok.kind === 'op' ? JMP_BY_OP.get(optok.text) : undefined;
  if (!op) c.fail(`expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &), found ${describe(optok)}`);
  c.next();
  let useReg = false;
  let src = 0;
  let imm = 0;
  if (c.isReg()) {
    useReg = true;
    src = c.expectReg(dst.wide ? 'r' : 'w').n;
  } else {
    imm = c.expectImm32();
  }
  c.expectWord('goto');
  const t = target(c, 16);
  return withRef({ kind: 'jmp', op, wide: dst.wide, useReg, dst: dst.n, src, imm, off: t.off }, t.ref);
}

function parseCall(c: Cursor): Statement {
  if (c.isWord('pc') && (c.isOp('+', 1) || c.isOp('-', 1))) {
    const t = target(c, 32);
    return withRef({ kind: 'call', src: 1, imm: t.off }, t.ref);
  }
  if (c.isWord('kfunc') && c.isNum(1)) {
    c.next();
    return { insn: { kind: 'call', src: 2, imm: c.expectImm32('a kfunc BTF id') } };
  }
  // The verifier's `call kernel-function#N` (a kfunc it could not name).
  if (c.isWord('kernel') && c.isOp('-', 1) && c.isWord('function', 2) && c.isOp('#', 3)) {
    c.next(); c.next(); c.next(); c.next();
    return { insn: { kind: 'call', src: 2, imm: c.expectImm32('a kfunc BTF id') } };
  }
  if (c.isReg()) return { insn: { kind: 'callx', dst: c.expectReg('r').n } };
  if (c.isNum()) return { insn: { kind: 'call', src: 0, imm: c.expectImm32('a helper id') } };
  const name = c.expectIdent('a helper id, label or function name');
  // The verifier's `call bpf_map_lookup_elem#1`: the number is authoritative.
  if (c.acceptOp('#')) return { insn: { kind: 'call', src: 0, imm: c.expectImm32('a helper id') } };
  return { insn: { kind: 'call', src: 1, imm: 0 }, ref: { name: name.text, col: name.col, helperFallback: true } };
}

function parseLock(c: Cursor): Statement {
  c.expectOp('*');
  const t = typedAddress(c);
  requireAtomicSize(c, t);
  const optok = c.peek();
  const op = optok.kind === 'op' ? ATOMIC_BY_OP.get(optok.text) : undefined;
  if (!op) c.fail(`expected an atomic operation (+=, |=, &=, ^=), found ${describe(optok)}`);
  c.next();
  const src = c.expectReg('any').n;
  return { insn: { kind: 'atomic', op, fetch: false, size: t.size, dst: t.base, src, off: t.off } };
}

function parseLdPseudo(c: Cursor): Statement {
  const dst = c.expectReg('r').n;
  c.expectOp(',');
  const pseudo = c.small(c.expectNum('a pseudo source'), 6, 'lddw pseudo source');
  c.expectOp(',');
  let imm = 0;
  let ref: LabelRef | undefined;
  if (pseudo === 4 && c.peek().kind === 'ident') {
    const tok = c.next();
    ref = { name: tok.text, col: tok.col };
  } else {
    imm = c.expectImm32();
  }
  let imm2 = 0;
  if (c.acceptOp(',')) imm2 = c.expectImm32();
  return withRef({ kind: 'lddw', dst, pseudo: pseudo as LddwInsn['pseudo'], imm, imm2 }, ref);
}

function parseStore(c: Cursor): Statement {
  c.expectOp('*');
  const t = ptrType(c);
  requireUnsigned(c, t, 'a store');
  const a = address(c);
  c.expectOp('=');
  if (c.isReg()) return { insn: { kind: 'stx', size: t.size, dst: a.base, src: c.expectReg('any').n, off: a.off } };
  return { insn: { kind: 'st', size: t.size, dst: a.base, off: a.off, imm: c.expectImm32() } };
}

/** Everything that starts with a register: `rD op= ...` and `rD = ...`. */
function parseAssign(c: Cursor, opcode: number | undefined): Statement {
  const dst = c.expectReg('any');
  const p = dst.wide ? 'r' : 'w';
  const optok = c.peek();
  const aluOp = optok.kind === 'op' ? ALU_BY_OP.get(optok.text) : undefined;
  if (!aluOp) c.fail(`expected an assignment operator (=, +=, -=, ...), found ${describe(optok)}`);
  c.next();
  if (aluOp !== 'mov') {
    if (c.isReg()) {
      const src = c.expectReg(p).n;
      return { insn: { kind: 'alu', op: aluOp, wide: dst.wide, useReg: true, dst: dst.n, src, imm: 0 } };
    }
    return { insn: { kind: 'alu', op: aluOp, wide: dst.wide, useReg: false, dst: dst.n, src: 0, imm: c.expectImm32() } };
  }
  return parseRhs(c, dst, opcode);
}

function parseRhs(c: Cursor, dst: RegOperand, opcode: number | undefined): Statement {
  const p = dst.wide ? 'r' : 'w';
  const tok = c.peek();
  if (c.isNum()) return parseConstant(c, dst, opcode);
  if (tok.kind === 'reg') {
    const src = c.expectReg(p).n;
    return { insn: { kind: 'alu', op: 'mov', wide: dst.wide, useReg: true, dst: dst.n, src, imm: 0 } };
  }
  if (c.isOp('-') && c.isReg(1)) {
    c.next();
    sameReg(c, dst, 'the operand of a negation');
    return { insn: { kind: 'neg', wide: dst.wide, dst: dst.n } };
  }
  if (c.isOp('(')) {
    c.next();
    const cast = c.peek();
    const m = cast.kind === 'ident' ? /^s(8|16|32)$/.exec(cast.text) : null;
    if (!m) c.fail(`expected a sign-extension cast (s8, s16, s32), found ${describe(cast)}`);
    c.next();
    c.expectOp(')');
    if (m[1] === '32' && !dst.wide) c.fail(`'(s32)' needs a 64-bit destination: there is no 32-bit movsx from 32 bits`, cast);
    const src = c.expectReg(p).n;
    return { insn: { kind: 'alu', op: `movsx${m[1]}` as AluOpName, wide: dst.wide, useReg: true, dst: dst.n, src, imm: 0 } };
  }
  if (c.isOp('*')) return parseLoad(c, dst);
  if (tok.kind !== 'ident') c.fail(`expected a value, register or memory operand, found ${describe(tok)}`);
  const endian = /^(le|be|bswap)(16|32|64)$/.exec(tok.text);
  if (endian) {
    c.next();
    sameReg(c, dst, `the operand of '${tok.text}'`);
    const order = endian[1] === 'bswap' ? 'swap' : (endian[1] as 'le' | 'be');
    return { insn: { kind: 'endian', order, bits: Number(endian[2]) as 16 | 32 | 64, dst: dst.n } };
  }
  c.next();
  const fetch = /^atomic(64)?_fetch_(add|or|and|xor)$/.exec(tok.text);
  if (fetch) {
    c.expectOp('(');
    const t = typedAddress(c);
    requireAtomicSize(c, t);
    c.expectOp(',');
    const src = sameReg(c, dst, 'the operand of an atomic fetch (it receives the old value)');
    c.expectOp(')');
    return { insn: { kind: 'atomic', op: fetch[2] as AtomicOpName, fetch: true, size: t.size, dst: t.base, src: src.n, off: t.off } };
  }
  switch (tok.text) {
    case 'xchg_64':
    case 'xchg32_32':
    case 'atomic_xchg':
    case 'atomic64_xchg': {
      const t = exchangeAddress(c, tok.text);
      c.expectOp(',');
      const src = sameReg(c, dst, 'the operand of an exchange (it receives the old value)');
      c.expectOp(')');
      return { insn: { kind: 'atomic', op: 'xchg', fetch: true, size: t.size, dst: t.base, src: src.n, off: t.off } };
    }
    case 'cmpxchg_64':
    case 'cmpxchg32_32':
    case 'atomic_cmpxchg':
    case 'atomic64_cmpxchg': {
      if (dst.n !== 0) c.fail(`the result of a compare-and-exchange goes to r0, found '${dst.tok.text}'`, dst.tok);
      const t = exchangeAddress(c, tok.text);
      c.expectOp(',');
      sameReg(c, dst, 'the compared value of a compare-and-exchange');
      c.expectOp(',');
      const src = c.expectReg('any').n;
      c.expectOp(')');
      return { insn: { kind: 'atomic', op: 'cmpxchg', fetch: true, size: t.size, dst: t.base, src, off: t.off } };
    }
    case 'load_acquire': {
      c.expectOp('(');
      const t = typedAddress(c);
      requireUnsigned(c, t, 'load_acquire');
      c.expectOp(')');
      return { insn: { kind: 'atomic', op: 'load_acq', fetch: false, size: t.size, dst: dst.n, src: t.base, off: t.off } };
    }
    case 'addr_space_cast': {
      if (!dst.wide) c.fail(`addr_space_cast needs a 64-bit destination, found '${dst.tok.text}'`, dst.tok);
      c.expectOp('(');
      const src = c.expectReg('r').n;
      c.expectOp(',');
      const dstAs = c.small(c.expectNum('an address space'), 0xffff, 'address space');
      c.expectOp(',');
      const asTok = c.peek();
      const srcAs = c.small(c.expectNum('an address space'), 0xffff, 'address space');
      c.expectOp(')');
      const imm = dstAs * 0x10000 + srcAs;
      if (imm !== 1 && imm !== 0x10000) c.fail('addr_space_cast converts only between address spaces 0 and 1', asTok);
      return { insn: { kind: 'addr_space_cast', dst: dst.n, src, imm } };
    }
    case 'map':
      c.fail(`'${tok.text}[...]' is a map reference from bpftool; write it as 'ld_pseudo ${dst.tok.text}, 1, FD' (or 5, INDEX)`, tok);
  }
  return c.fail(`unknown operation '${tok.text}'`, tok);
}

/**
 * The address of an exchange: LLVM's `xchg_64(r1 + 0x8, ...)` (width in
 * the name) or the kernel's `atomic64_xchg((u64 *)(r1 +8), ...)`. Consumes
 * the opening parenthesis.
 */
function exchangeAddress(c: Cursor, name: string): { size: AccessSize; base: number; off: number } {
  c.expectOp('(');
  if (name.startsWith('atomic')) {
    const t = typedAddress(c);
    requireAtomicSize(c, t);
    return t;
  }
  return { ...addressBody(c), size: name.endsWith('_64') ? 8 : 4 };
}

/** `rD = N`, `rD = N ll`, and the kernel's `rD = 0x...` lddw (opcode 0x18). */
function parseConstant(c: Cursor, dst: RegOperand, opcode: number | undefined): Statement {
  const num = c.expectNum('a value');
  const ll = c.acceptWord('ll');
  const fits32 = num.value >= -(1n << 31n) && num.value < 1n << 31n;
  if (ll || opcode === 0x18 || (dst.wide && !fits32)) {
    if (!dst.wide) c.fail(`a 64-bit constant needs a 64-bit destination, found '${dst.tok.text}'`, dst.tok);
    const value = c.imm64(num);
    return {
      insn: { kind: 'lddw', dst: dst.n, pseudo: 0, imm: Number(BigInt.asIntN(32, value)), imm2: Number(BigInt.asIntN(32, value >> 32n)) },
    };
  }
  return { insn: { kind: 'alu', op: 'mov', wide: dst.wide, useReg: false, dst: dst.n, src: 0, imm: c.imm32(num) } };
}

/** `rD = *(u32 *)(r1 + 4)` and the legacy `r0 = *(u8 *)skb[...]`. */
function parseLoad(c: Cursor, dst: RegOperand): Statement {
  c.expectOp('*');
  const t = ptrType(c);
  if (c.isWord('skb')) {
    const skb = c.next();
    if (dst.n !== 0) c.fail(`legacy packet loads write r0, found '${dst.tok.text}'`, dst.tok);
    if (t.signed || t.size === 8) c.fail('legacy packet loads read u8, u16 or u32', skb);
    c.expectOp('[');
    let insn: Instruction;
    if (c.isReg()) {
      const src = c.expectReg('r').n;
      let imm = 0;
      // `skb[r1 + 0x4]`, `skb[r1 - 0x4]`, and the kernel's `skb[r1 + -4]`.
      if (c.acceptOp('+') || c.isOp('-')) imm = c.expectImm32('an offset');
      insn = { kind: 'ldind', size: t.size as 1 | 2 | 4, src, imm };
    } else {
      insn = { kind: 'ldabs', size: t.size as 1 | 2 | 4, imm: c.expectImm32('an offset') };
    }
    c.expectOp(']');
    return { insn };
  }
  const a = address(c);
  return { insn: { kind: 'ldx', size: t.size, signed: t.signed, dst: dst.n, src: a.base, off: a.off } };
}
