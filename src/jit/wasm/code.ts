/**
 * A function body under construction: a flat list of WebAssembly
 * instructions held in parallel number arrays (opcode id, two immediates,
 * the BPF slot it came from). The encoder turns it into bytes and the WAT
 * printer into text; neither needs an object per instruction.
 */
import { BLOCK_VOID, OP_NAME } from './opcodes.js';
import type { OpName } from './opcodes.js';

/** Opcode ids by name, as a Map built once (string-keyed object lookups are slow in the emitter's hot path). */
const IDS: ReadonlyMap<string, number> = new Map(OP_NAME.map((n, i) => [n, i]));
const ELSE = IDS.get('else')!;
const END = IDS.get('end')!;

/** A reference to a function: imported (`kind: 'import'`) or defined in the module. */
export interface FuncRef {
  readonly kind: 'import' | 'defined';
  readonly index: number;
}

/** A reference to a global: imported or defined in the module. */
export interface GlobalRef {
  readonly kind: 'import' | 'defined';
  readonly index: number;
}

const TWO32 = 4294967296;

/** Packs a function or global reference into one number (even = import, odd = defined). */
export function packRef(ref: FuncRef | GlobalRef): number {
  return ref.index * 2 + (ref.kind === 'defined' ? 1 : 0);
}

/** The reference a packed number stands for. */
export function unpackRef(packed: number): { kind: 'import' | 'defined'; index: number } {
  return { kind: packed % 2 === 1 ? 'defined' : 'import', index: Math.floor(packed / 2) };
}

/** The instructions of one function body. */
export class Code {
  /** Opcode ids (see `OP_NAME`); the first {@link length} entries are used. */
  ops = new Uint16Array(64);
  /** First immediate: index, depth, log2 alignment, i32 value, low word, block type or side-table index. */
  a = new Int32Array(64);
  /** Second immediate: memory offset, high word of an i64, table index. */
  b = new Int32Array(64);
  /** BPF slot of each instruction (-1 when it belongs to none). */
  pcs = new Int32Array(64);
  /** Number of instructions. */
  length = 0;
  /** Label vectors of `br_table` and lanes of `i8x16.shuffle`. */
  readonly side: number[][] = [];
  /** Comments shown by the WAT printer before an instruction index. */
  readonly comments = new Map<number, string>();
  /** The BPF slot being translated; recorded with every instruction. */
  pc = -1;

  private grow(): void {
    const n = this.ops.length * 2;
    const ops = new Uint16Array(n);
    ops.set(this.ops);
    this.ops = ops;
    const a = new Int32Array(n);
    a.set(this.a);
    this.a = a;
    const b = new Int32Array(n);
    b.set(this.b);
    this.b = b;
    const pcs = new Int32Array(n);
    pcs.set(this.pcs);
    this.pcs = pcs;
  }

  /** Appends an instruction. */
  op(name: OpName, a = 0, b = 0): this {
    return this.opId(IDS.get(name)!, a, b);
  }

  /** Appends an instruction by opcode id. */
  opId(id: number, a = 0, b = 0): this {
    const i = this.length;
    if (i === this.ops.length) this.grow();
    this.ops[i] = id;
    this.a[i] = a;
    this.b[i] = b;
    this.pcs[i] = this.pc;
    this.length = i + 1;
    return this;
  }

  /** Puts the instructions of `head` (which must use no side table) before this code's. */
  prepend(head: Code): void {
    if (head.side.length > 0) throw new Error('internal error: prepending code with br_table or shuffles');
    const n = head.length + this.length;
    let size = this.ops.length;
    while (size < n) size *= 2;
    const join = <T extends Uint16Array | Int32Array>(a: T, b: T, make: (n: number) => T): T => {
      const out = make(size);
      out.set(a.subarray(0, head.length));
      out.set(b.subarray(0, this.length), head.length);
      return out;
    };
    this.ops = join(head.ops, this.ops, (k) => new Uint16Array(k));
    this.a = join(head.a, this.a, (k) => new Int32Array(k));
    this.b = join(head.b, this.b, (k) => new Int32Array(k));
    this.pcs = join(head.pcs, this.pcs, (k) => new Int32Array(k));
    const comments = [...this.comments];
    this.comments.clear();
    for (const [at, text] of head.comments) this.comments.set(at, text);
    for (const [at, text] of comments) this.comments.set(at + head.length, text);
    this.length = n;
  }

  /** Adds a comment before the next instruction. */
  comment(text: string): void {
    const at = this.length;
    const prev = this.comments.get(at);
    this.comments.set(at, prev === undefined ? text : `${prev}\n${text}`);
  }

  localGet(i: number): this { return this.op('local.get', i); }
  localSet(i: number): this { return this.op('local.set', i); }
  localTee(i: number): this { return this.op('local.tee', i); }
  globalGet(g: GlobalRef): this { return this.op('global.get', packRef(g)); }
  globalSet(g: GlobalRef): this { return this.op('global.set', packRef(g)); }
  call(f: FuncRef): this { return this.op('call', packRef(f)); }
  returnCall(f: FuncRef): this { return this.op('return_call', packRef(f)); }
  callIndirect(type: number, table = 0): this { return this.op('call_indirect', type, table); }
  returnCallIndirect(type: number, table = 0): this { return this.op('return_call_indirect', type, table); }

  /** `i32.const` of a value taken modulo 2^32. */
  i32(v: number): this { return this.op('i32.const', v | 0); }

  /** `i64.const` of the pair `hi:lo`. */
  i64Pair(lo: number, hi: number): this { return this.op('i64.const', lo | 0, hi | 0); }

  /** `i64.const` of a safe integer (negative values are two's complement). */
  i64(v: number): this {
    if (v >= -0x80000000 && v <= 0x7fffffff) return this.i64Pair(v | 0, v < 0 ? -1 : 0);
    const hi = Math.floor(v / TWO32);
    return this.i64Pair((v - hi * TWO32) | 0, hi | 0);
  }

  /** `i64.const` of a bigint taken modulo 2^64. */
  i64Big(v: bigint): this {
    const u = BigInt.asUintN(64, v);
    return this.i64Pair(Number(BigInt.asIntN(32, u)), Number(BigInt.asIntN(32, u >> 32n)));
  }

  /** A memory instruction with log2 `align` and a non-negative `offset`. */
  mem(name: OpName, align: number, offset = 0): this { return this.op(name, align, offset); }

  block(type = BLOCK_VOID): this { return this.op('block', type); }
  loop(type = BLOCK_VOID): this { return this.op('loop', type); }
  if(type = BLOCK_VOID): this { return this.op('if', type); }
  else(): this { return this.op('else'); }
  /** `end`; an empty `else` just before it is dropped (as wat2wasm does). */
  end(): this {
    const last = this.length - 1;
    if (last >= 0 && this.ops[last] === ELSE && !this.comments.has(last + 1)) this.length = last;
    return this.opId(END);
  }
  br(depth: number): this { return this.op('br', depth); }
  brIf(depth: number): this { return this.op('br_if', depth); }

  /** `br_table` over `labels` with `fallback` as the default. */
  brTable(labels: readonly number[], fallback: number): this {
    this.side.push([...labels, fallback]);
    return this.op('br_table', this.side.length - 1);
  }

  /** `i8x16.shuffle` with 16 lane indexes. */
  shuffle(lanes: readonly number[]): this {
    this.side.push([...lanes]);
    return this.op('i8x16.shuffle', this.side.length - 1);
  }
}
