/**
 * Classic BPF compiled straight to WebAssembly: a filter becomes one
 * function `run(off, caplen, wirelen) -> u32` over a memory the caller fills
 * with packets, with libpcap's semantics (the interpreter's, src/cbpf/
 * interpreter.ts): big-endian loads, a load past the captured bytes or a
 * division by an X of 0 ends the filter with 0, shifts of 32 or more give 0.
 * A, X and `M[]` are locals, each instruction's code sits between the
 * nested blocks its forward jumps leave, so V8 sees plain structured code.
 *
 * Programs with a backward `ja` (libpcap's `ip6 protochain` loops) are not
 * compiled here ({@link hasBackwardJump}); callers run them on the
 * interpreter.
 */
import { TsbpfError } from '../errors.js';
import { AluOp, Class, JmpOp, MEMWORDS, MiscOp, Mode, RetVal, Size, Src } from '../cbpf/insn.js';
import type { CbpfInsn } from '../cbpf/insn.js';
import { ModuleBuilder } from './wasm/module.js';
import type { Code } from './wasm/code.js';

/** A compiled filter over its own memory. */
export interface ClassicFilter {
  /** The memory packets are read from (grows only through {@link ensure}). */
  readonly memory: WebAssembly.Memory;
  /** Runs the filter on the `caplen` bytes at `off` of a packet `wirelen` bytes long on the wire; returns its u32 result. */
  run(off: number, caplen: number, wirelen: number): number;
  /** Makes the memory at least `bytes` long (views of the old buffer are then stale). */
  ensure(bytes: number): void;
}

/** A classic program this compiler refuses (a bad opcode, a jump out of the program). */
export class ClassicCompileError extends TsbpfError {
  constructor(reason: string, readonly pc: number) {
    super(`${reason} (insn ${pc})`, { insn: pc });
  }
}

/** Whether any `ja` of `prog` jumps backwards (libpcap's protochain loops), which this compiler leaves to the interpreter. */
export function hasBackwardJump(prog: readonly CbpfInsn[]): boolean {
  return prog.some((i) => (i.code & 0x07) === Class.JMP && (i.code & 0xf0) === JmpOp.JA && (i.k | 0) < 0);
}

const PAGE = 65536;

/** Compiles `prog` (forward jumps only) into a {@link ClassicFilter} with a memory of `initialBytes`. */
export function compileClassic(prog: readonly CbpfInsn[], initialBytes = 1 << 21): ClassicFilter {
  const m = new ModuleBuilder();
  m.importMemory('env', 'memory', { min: 1 });
  const t = m.type(['i32', 'i32', 'i32'], ['i32']);
  const { ref, def } = m.func('run', t, ['off', 'caplen', 'wirelen']);
  const a = m.local(def, 'i32', 'A');
  const x = m.local(def, 'i32', 'X');
  const mem: number[] = [];
  for (let i = 0; i < MEMWORDS; i++) mem.push(m.local(def, 'i32', `M${i}`));
  const tmp = m.local(def, 'i32', 'tmp');
  emitBody(def.code, prog, { off: 0, caplen: 1, wirelen: 2, a, x, mem, tmp });
  m.exportFunc('run', ref);
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(initialBytes / PAGE)) });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(m.encode().bytes as BufferSource), { env: { memory } });
  const run = instance.exports['run'] as (off: number, caplen: number, wirelen: number) => number;
  return {
    memory,
    run: (off, caplen, wirelen) => run(off, caplen, wirelen) >>> 0,
    ensure(bytes: number): void {
      const have = memory.buffer.byteLength;
      if (bytes > have) memory.grow(Math.ceil((bytes - have) / PAGE));
    },
  };
}

interface Locals {
  off: number;
  caplen: number;
  wirelen: number;
  a: number;
  x: number;
  mem: number[];
  /** Scratch for byte swaps. */
  tmp: number;
}

/** Returns 0 from the filter when the i32 on the stack is non-zero. */
function failIf(c: Code): void {
  c.if().i32(0).op('return').end();
}

/**
 * Pushes the big-endian value of `bytes` bytes at packet offset `k` (+ X when
 * `indexed`), after libpcap's bounds check against caplen.
 */
function emitLoad(c: Code, l: Locals, k: number, bytes: number, indexed: boolean): void {
  // offset + bytes > caplen, in 64 bits so that neither X + k nor k + bytes wraps
  if (indexed) c.localGet(l.x).op('i64.extend_i32_u').i64(k >>> 0).op('i64.add');
  else c.i64(k >>> 0);
  c.i64(bytes).op('i64.add').localGet(l.caplen).op('i64.extend_i32_u').op('i64.gt_u');
  failIf(c);
  // the address: off + offset (in range now)
  c.localGet(l.off);
  if (indexed) c.localGet(l.x).op('i32.add');
  c.i32(k | 0).op('i32.add');
  if (bytes === 1) {
    c.mem('i32.load8_u', 0);
  } else if (bytes === 2) {
    // a little-endian u16 v: ((v & 0xff) << 8) | (v >> 8)
    c.mem('i32.load16_u', 0).localTee(l.tmp).i32(0xff).op('i32.and').i32(8).op('i32.shl')
      .localGet(l.tmp).i32(8).op('i32.shr_u').op('i32.or');
  } else {
    // a little-endian u32: bytes 0 and 2 rotate right by 8 into 3 and 1, bytes 1 and 3 left by 8 into 2 and 0
    c.mem('i32.load', 0).localTee(l.tmp).i32(0x00ff00ff).op('i32.and').i32(8).op('i32.rotr')
      .localGet(l.tmp).i32(0xff00ff00 | 0).op('i32.and').i32(8).op('i32.rotl').op('i32.or');
  }
}

function emitBody(c: Code, prog: readonly CbpfInsn[], l: Locals): void {
  const n = prog.length;
  if (n === 0) throw new ClassicCompileError('empty program', 0);
  const jumpTo = (from: number, target: number): number => {
    if (target <= from || target >= n) throw new ClassicCompileError(`jump to ${target} outside the program (or backwards)`, from);
    return target - 1 - from;
  };
  // block i ends right before instruction i + 1: a jump to t leaves block t - 1
  for (let i = n - 2; i >= 0; i--) c.block();
  for (let pc = 0; pc < n; pc++) {
    c.pc = pc;
    const { code, k } = prog[pc]!;
    const bad = (): never => {
      throw new ClassicCompileError(`unknown opcode 0x${code.toString(16)}`, pc);
    };
    switch (code & 0x07) {
      case Class.RET:
        switch (code & 0x18) {
          case RetVal.K: c.i32(k | 0); break;
          case RetVal.A: c.localGet(l.a); break;
          case RetVal.X: c.localGet(l.x); break;
          default: bad();
        }
        c.op('return');
        break;
      case Class.LD: {
        const bytes = (code & 0x18) === Size.W ? 4 : (code & 0x18) === Size.H ? 2 : (code & 0x18) === Size.B ? 1 : 0;
        switch (code & 0xe0) {
          case Mode.ABS:
          case Mode.IND:
            if (bytes === 0) bad();
            emitLoad(c, l, k, bytes, (code & 0xe0) === Mode.IND);
            c.localSet(l.a);
            break;
          case Mode.LEN:
            if ((code & 0x18) !== Size.W) bad();
            c.localGet(l.wirelen).localSet(l.a);
            break;
          case Mode.IMM: c.i32(k | 0).localSet(l.a); break;
          case Mode.MEM:
            if (k >>> 0 >= MEMWORDS) throw new ClassicCompileError(`scratch slot M[${k >>> 0}] out of range`, pc);
            c.localGet(l.mem[k]!).localSet(l.a);
            break;
          default: bad();
        }
        break;
      }
      case Class.LDX:
        switch (code & 0xe0) {
          case Mode.IMM: c.i32(k | 0).localSet(l.x); break;
          case Mode.LEN: c.localGet(l.wirelen).localSet(l.x); break;
          case Mode.MEM:
            if (k >>> 0 >= MEMWORDS) throw new ClassicCompileError(`scratch slot M[${k >>> 0}] out of range`, pc);
            c.localGet(l.mem[k]!).localSet(l.x);
            break;
          case Mode.MSH:
            if ((code & 0x18) !== Size.B) bad();
            emitLoad(c, l, k, 1, false);
            c.i32(0xf).op('i32.and').i32(2).op('i32.shl').localSet(l.x);
            break;
          default: bad();
        }
        break;
      case Class.ST:
      case Class.STX:
        if (k >>> 0 >= MEMWORDS) throw new ClassicCompileError(`scratch slot M[${k >>> 0}] out of range`, pc);
        c.localGet((code & 0x07) === Class.ST ? l.a : l.x).localSet(l.mem[k]!);
        break;
      case Class.ALU:
        emitAlu(c, l, code, k, bad);
        break;
      case Class.JMP: {
        const o = code & 0xf0;
        if (o === JmpOp.JA) {
          c.br(jumpTo(pc, pc + 1 + (k | 0)));
          break;
        }
        const jt = pc + 1 + prog[pc]!.jt;
        const jf = pc + 1 + prog[pc]!.jf;
        c.localGet(l.a);
        if ((code & 0x08) === Src.X) c.localGet(l.x);
        else c.i32(k | 0);
        switch (o) {
          case JmpOp.JEQ: c.op('i32.eq'); break;
          case JmpOp.JGT: c.op('i32.gt_u'); break;
          case JmpOp.JGE: c.op('i32.ge_u'); break;
          case JmpOp.JSET: c.op('i32.and'); break;
          default: bad();
        }
        if (jt === jf) {
          c.op('drop');
          if (jt !== pc + 1) c.br(jumpTo(pc, jt));
        } else {
          if (jt !== pc + 1) c.brIf(jumpTo(pc, jt));
          else c.op('i32.eqz').brIf(jumpTo(pc, jf));
          if (jt !== pc + 1 && jf !== pc + 1) c.br(jumpTo(pc, jf));
        }
        break;
      }
      case Class.MISC:
        if ((code & 0xf8) === MiscOp.TAX) c.localGet(l.a).localSet(l.x);
        else if ((code & 0xf8) === MiscOp.TXA) c.localGet(l.x).localSet(l.a);
        else bad();
        break;
      default:
        bad();
    }
    if (pc < n - 1) c.end();
  }
  // the last instruction is a ret (or falls off: no match, as libpcap's checker would not allow it)
  c.pc = -1;
  c.i32(0);
}

function emitAlu(c: Code, l: Locals, code: number, k: number, bad: () => never): void {
  const o = code & 0xf0;
  const fromX = (code & 0x08) === Src.X;
  if (o === AluOp.NEG) {
    c.i32(0).localGet(l.a).op('i32.sub').localSet(l.a);
    return;
  }
  if (o === AluOp.DIV || o === AluOp.MOD) {
    if (fromX) {
      c.localGet(l.x).op('i32.eqz');
      failIf(c);
    } else if (k >>> 0 === 0) {
      c.i32(0).op('return');
      return;
    }
  }
  if ((o === AluOp.LSH || o === AluOp.RSH) && !fromX && k >>> 0 >= 32) {
    c.i32(0).localSet(l.a);
    return;
  }
  c.localGet(l.a);
  if (fromX) c.localGet(l.x);
  else c.i32(k | 0);
  switch (o) {
    case AluOp.ADD: c.op('i32.add'); break;
    case AluOp.SUB: c.op('i32.sub'); break;
    case AluOp.MUL: c.op('i32.mul'); break;
    case AluOp.DIV: c.op('i32.div_u'); break;
    case AluOp.MOD: c.op('i32.rem_u'); break;
    case AluOp.OR: c.op('i32.or'); break;
    case AluOp.AND: c.op('i32.and'); break;
    case AluOp.XOR: c.op('i32.xor'); break;
    case AluOp.LSH:
    case AluOp.RSH:
      c.op(o === AluOp.LSH ? 'i32.shl' : 'i32.shr_u');
      if (fromX) {
        // wasm takes the shift modulo 32; libpcap gives 0 for X >= 32
        c.i32(0).localGet(l.x).i32(32).op('i32.lt_u').op('select');
      }
      break;
    default: bad();
  }
  c.localSet(l.a);
}
