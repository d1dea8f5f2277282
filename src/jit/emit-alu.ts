/**
 * ALU and endian instructions of the eBPF to WebAssembly JIT: registers are
 * `i64` locals; 32-bit operations work on `i32.wrap_i64` and zero-extend
 * their result, exactly as RFC 9669 says. Division and modulo follow its
 * rules for a divisor of 0 and for INT64_MIN / -1 (`rem_s` by -1 does not
 * trap in Wasm, but the immediate cases are decided at compile time).
 * The byte swaps are shared with the legacy packet loads (emit-calls.ts).
 */
import type { AluInsn, EndianInsn, NegInsn } from '../isa/instruction.js';
import type { FnEmitter } from './function-emitter.js';
import { BLOCK_I64 } from './wasm/opcodes.js';
import type { OpName } from './wasm/opcodes.js';

const ALU_OP: Partial<Record<AluInsn['op'], string>> = {
  add: 'add', sub: 'sub', mul: 'mul', or: 'or', and: 'and', xor: 'xor', lsh: 'shl', rsh: 'shr_u', arsh: 'shr_s',
};

/** `neg dst`: 64-bit, or 32-bit with the result zero-extended. */
export function emitNeg(e: FnEmitter, insn: NegInsn): void {
  const c = e.code;
  if (insn.wide) {
    c.i64(0);
    e.get(insn.dst);
    c.op('i64.sub');
  } else {
    c.i32(0);
    e.get(insn.dst);
    c.op('i32.wrap_i64');
    c.op('i32.sub');
    c.op('i64.extend_i32_u');
  }
  e.set(insn.dst);
}

/** An ALU instruction (`mov`, `movsx*`, arithmetic, shifts, division), 64-bit or 32-bit. */
export function emitAlu(e: FnEmitter, i: AluInsn): void {
  const c = e.code;
  const { dst, src, imm, wide, useReg } = i;
  switch (i.op) {
    case 'mov':
      if (useReg) {
        e.get(src);
        if (!wide) {
          c.op('i32.wrap_i64');
          c.op('i64.extend_i32_u');
        }
      } else {
        c.i64(wide ? imm : imm >>> 0);
      }
      e.set(dst);
      return;
    case 'movsx8': case 'movsx16': case 'movsx32': {
      e.get(src);
      if (wide) {
        c.op(i.op === 'movsx8' ? 'i64.extend8_s' : i.op === 'movsx16' ? 'i64.extend16_s' : 'i64.extend32_s');
      } else {
        c.op('i32.wrap_i64');
        if (i.op !== 'movsx32') c.op(i.op === 'movsx8' ? 'i32.extend8_s' : 'i32.extend16_s');
        c.op('i64.extend_i32_u');
      }
      e.set(dst);
      return;
    }
    case 'div': case 'mod': case 'sdiv': case 'smod':
      if (wide) emitDivmod64(e, i);
      else emitDivmod32(e, i);
      return;
    default: {
      const op = ALU_OP[i.op]!;
      e.get(dst);
      if (wide) {
        if (useReg) e.get(src);
        else c.i64(imm);
        c.op(`i64.${op}` as OpName);
      } else {
        c.op('i32.wrap_i64');
        if (useReg) {
          e.get(src);
          c.op('i32.wrap_i64');
        } else {
          c.i32(imm);
        }
        c.op(`i32.${op}` as OpName);
        c.op('i64.extend_i32_u');
      }
      e.set(dst);
    }
  }
}

/** 64-bit division and modulo with RFC 9669's rules for 0 and INT64_MIN / -1. */
function emitDivmod64(e: FnEmitter, i: AluInsn): void {
  const c = e.code;
  const { dst, src, imm } = i;
  const signed = i.op === 'sdiv' || i.op === 'smod';
  const isDiv = i.op === 'div' || i.op === 'sdiv';
  const wasm = (isDiv ? (signed ? 'i64.div_s' : 'i64.div_u') : (signed ? 'i64.rem_s' : 'i64.rem_u')) as OpName;
  if (!i.useReg) {
    if (imm === 0) {
      if (isDiv) {
        c.i64(0);
        e.set(dst);
      }
      return;
    }
    if (signed && imm === -1) {
      if (isDiv) {
        c.i64(0);
        e.get(dst);
        c.op('i64.sub');
      } else {
        c.i64(0);
      }
      e.set(dst);
      return;
    }
    e.get(dst);
    c.i64(imm);
    c.op(wasm);
    e.set(dst);
    return;
  }
  if (signed && isDiv) {
    // src in {0, -1}: 0 or -dst; otherwise div_s.
    e.get(src);
    c.i64(1);
    c.op('i64.add');
    c.i64(1);
    c.op('i64.le_u');
    c.if(BLOCK_I64);
    c.i64(0);
    c.i64(0);
    e.get(dst);
    c.op('i64.sub');
    e.get(src);
    c.op('i64.eqz');
    c.op('select');
    c.else();
    e.get(dst);
    e.get(src);
    c.op(wasm);
    c.end();
    e.set(dst);
    return;
  }
  e.get(src);
  c.op('i64.eqz');
  c.if(BLOCK_I64);
  if (isDiv) c.i64(0);
  else e.get(dst);
  c.else();
  e.get(dst);
  e.get(src);
  c.op(wasm);
  c.end();
  e.set(dst);
}

/** 32-bit division and modulo; the result is zero-extended even when the divisor is 0. */
function emitDivmod32(e: FnEmitter, i: AluInsn): void {
  const c = e.code;
  const { dst, src, imm } = i;
  const signed = i.op === 'sdiv' || i.op === 'smod';
  const isDiv = i.op === 'div' || i.op === 'sdiv';
  const wasm = (isDiv ? (signed ? 'i32.div_s' : 'i32.div_u') : (signed ? 'i32.rem_s' : 'i32.rem_u')) as OpName;
  const a = () => {
    e.get(dst);
    c.op('i32.wrap_i64');
  };
  const b = () => {
    e.get(src);
    c.op('i32.wrap_i64');
  };
  if (!i.useReg) {
    if (imm === 0) {
      if (isDiv) c.i64(0);
      else {
        a();
        c.op('i64.extend_i32_u');
      }
    } else if (signed && imm === -1) {
      if (isDiv) {
        c.i32(0);
        a();
        c.op('i32.sub');
        c.op('i64.extend_i32_u');
      } else {
        c.i64(0);
      }
    } else {
      a();
      c.i32(imm);
      c.op(wasm);
      c.op('i64.extend_i32_u');
    }
    e.set(dst);
    return;
  }
  if (signed && isDiv) {
    b();
    c.i32(1);
    c.op('i32.add');
    c.i32(1);
    c.op('i32.le_u');
    c.if(BLOCK_I64);
    c.i32(0);
    c.i32(0);
    a();
    c.op('i32.sub');
    b();
    c.op('i32.eqz');
    c.op('select');
    c.op('i64.extend_i32_u');
    c.else();
    a();
    b();
    c.op(wasm);
    c.op('i64.extend_i32_u');
    c.end();
    e.set(dst);
    return;
  }
  b();
  c.op('i32.eqz');
  c.if(BLOCK_I64);
  if (isDiv) c.i64(0);
  else {
    a();
    c.op('i64.extend_i32_u');
  }
  c.else();
  a();
  b();
  c.op(wasm);
  c.op('i64.extend_i32_u');
  c.end();
  e.set(dst);
}

/** Byte-swaps the i32 on top of the stack (through a temp). */
export function emitBswap32(e: FnEmitter): void {
  // x on the stack (i32) -> byte-swapped, using a temp.
  const c = e.code;
  const t = e.temp('swap', 'i32');
  c.localTee(t);
  c.i32(8);
  c.op('i32.rotl');
  c.i32(0x00ff00ff);
  c.op('i32.and');
  c.localGet(t);
  c.i32(8);
  c.op('i32.rotr');
  c.i32(0xff00ff00 | 0);
  c.op('i32.and');
  c.op('i32.or');
}

/** Byte-swaps the low 16 bits of the i32 on top of the stack; the upper 16 bits become 0. */
export function emitBswap16(e: FnEmitter): void {
  // x on the stack (i32, any upper bits) -> low 16 bits byte-swapped, upper zero.
  const c = e.code;
  const t = e.temp('swap', 'i32');
  c.localTee(t);
  c.i32(0xff);
  c.op('i32.and');
  c.i32(8);
  c.op('i32.shl');
  c.localGet(t);
  c.i32(8);
  c.op('i32.shr_u');
  c.i32(0xff);
  c.op('i32.and');
  c.op('i32.or');
}

/** Byte-swaps the i64 on top of the stack. */
function emitBswap64(e: FnEmitter): void {
  // x on the stack (i64) -> byte-swapped, through one SIMD shuffle.
  const c = e.code;
  const t = e.temp('swap', 'i64');
  c.localTee(t);
  c.op('i64x2.splat');
  c.localGet(t);
  c.op('i64x2.splat');
  c.shuffle([7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8]);
  c.op('i64x2.extract_lane', 0);
}

/** `le16/32/64` (truncate) and `be16/32/64` (truncate and byte-swap) of a register. */
export function emitEndian(e: FnEmitter, i: EndianInsn): void {
  const c = e.code;
  const d = i.dst;
  if (i.order === 'le') {
    if (i.bits === 64) return;
    e.get(d);
    c.i64(i.bits === 16 ? 0xffff : 0xffffffff);
    c.op('i64.and');
    e.set(d);
    return;
  }
  e.get(d);
  if (i.bits === 64) {
    emitBswap64(e);
  } else {
    c.op('i32.wrap_i64');
    if (i.bits === 16) emitBswap16(e);
    else emitBswap32(e);
    c.op('i64.extend_i32_u');
  }
  e.set(d);
}
