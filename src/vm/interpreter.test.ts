import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeProgram } from '../isa/encode.js';
import { lddw } from '../isa/instruction.js';
import type { AluOpName, Instruction, JmpOpName } from '../isa/instruction.js';
import { HelperTable } from './helper-call.js';
import { helperTable } from './helpers/index.js';
import { interpret } from './interpreter.js';
import { Machine } from './machine.js';
import { prepareProgram } from './prepared-program.js';

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u32 = (v: bigint) => BigInt.asUintN(32, v);
const s32 = (v: bigint) => BigInt.asIntN(32, v);

/** RFC 9669 ALU semantics written directly on BigInt: an independent model. */
function model(op: AluOpName, wide: boolean, a: bigint, b: bigint): bigint {
  if (wide) {
    switch (op) {
      case 'add': return u64(a + b);
      case 'sub': return u64(a - b);
      case 'mul': return u64(a * b);
      case 'div': return b === 0n ? 0n : a / b;
      case 'sdiv': return b === 0n ? 0n : u64(s64(a) / s64(b));
      case 'mod': return b === 0n ? a : a % b;
      case 'smod': return b === 0n ? a : u64(s64(a) % s64(b));
      case 'or': return a | b;
      case 'and': return a & b;
      case 'xor': return a ^ b;
      case 'lsh': return u64(a << (b & 63n));
      case 'rsh': return a >> (b & 63n);
      case 'arsh': return u64(s64(a) >> (b & 63n));
      case 'mov': return b;
      case 'movsx8': return u64(BigInt.asIntN(8, b));
      case 'movsx16': return u64(BigInt.asIntN(16, b));
      case 'movsx32': return u64(BigInt.asIntN(32, b));
    }
  }
  const x = u32(a);
  const y = u32(b);
  switch (op) {
    case 'add': return u32(x + y);
    case 'sub': return u32(x - y);
    case 'mul': return u32(x * y);
    case 'div': return y === 0n ? 0n : x / y;
    case 'sdiv': return y === 0n ? 0n : u32(s32(x) / s32(y));
    case 'mod': return y === 0n ? x : x % y;
    case 'smod': return y === 0n ? x : u32(s32(x) % s32(y));
    case 'or': return x | y;
    case 'and': return x & y;
    case 'xor': return x ^ y;
    case 'lsh': return u32(x << (y & 31n));
    case 'rsh': return x >> (y & 31n);
    case 'arsh': return u32(s32(x) >> (y & 31n));
    case 'mov': return y;
    case 'movsx8': return u32(BigInt.asIntN(8, y));
    case 'movsx16': return u32(BigInt.asIntN(16, y));
    case 'movsx32': return y;
  }
}

function jmpModel(op: JmpOpName, wide: boolean, a: bigint, b: bigint): boolean {
  const [x, y, sx, sy] = wide ? [a, b, s64(a), s64(b)] : [u32(a), u32(b), s32(a), s32(b)];
  switch (op) {
    case 'jeq': return x === y;
    case 'jne': return x !== y;
    case 'jset': return (x & y) !== 0n;
    case 'jgt': return x > y;
    case 'jge': return x >= y;
    case 'jlt': return x < y;
    case 'jle': return x <= y;
    case 'jsgt': return sx > sy;
    case 'jsge': return sx >= sy;
    case 'jslt': return sx < sy;
    case 'jsle': return sx <= sy;
  }
}

function run(prog: Instruction[], machine = new Machine()): bigint {
  return interpret(machine, prepareProgram(encodeProgram(prog), { helpers: machine.helpers })).r0;
}

const MOV = (dst: number, imm: number): Instruction => ({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst, src: 0, imm });
const EXIT: Instruction = { kind: 'exit' };

const edgy64 = fc.oneof(
  fc.bigInt({ min: 0n, max: M64 }),
  fc.constantFrom(0n, 1n, M64, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 1n << 32n, 0x80000000n, 0x7fffffffn),
  fc.bigInt({ min: -300n, max: 300n }).map(u64),
);
const aluOps: AluOpName[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'mov', 'movsx8', 'movsx16', 'movsx32'];

describe('interpreter arithmetic against a BigInt model of RFC 9669', () => {
  it('agrees on every ALU operation with register operands', () => {
    fc.assert(fc.property(fc.constantFrom(...aluOps), fc.boolean(), edgy64, edgy64, (op, wide, a, b) => {
      if (op === 'movsx32' && !wide) return;
      const prog: Instruction[] = [lddw(1, a), lddw(2, b), { kind: 'alu', op, wide, useReg: true, dst: 1, src: 2, imm: 0 },
        { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 0, src: 1, imm: 0 }, EXIT];
      expect(run(prog)).toBe(model(op, wide, a, b));
    }), { numRuns: 3000 });
  });

  it('agrees on immediates, which are sign-extended to 64 bits', () => {
    fc.assert(fc.property(fc.constantFrom(...aluOps.filter((o) => !o.startsWith('movsx'))), fc.boolean(), edgy64, fc.integer({ min: -0x80000000, max: 0x7fffffff }), (op, wide, a, imm) => {
      const prog: Instruction[] = [lddw(0, a), { kind: 'alu', op, wide, useReg: false, dst: 0, src: 0, imm }, EXIT];
      expect(run(prog)).toBe(model(op, wide, a, u64(BigInt(imm))));
    }), { numRuns: 2000 });
  });

  it('agrees on every conditional jump', () => {
    const ops: JmpOpName[] = ['jeq', 'jne', 'jset', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle'];
    fc.assert(fc.property(fc.constantFrom(...ops), fc.boolean(), edgy64, edgy64, (op, wide, a, b) => {
      const prog: Instruction[] = [lddw(1, a), lddw(2, b), MOV(0, 0),
        { kind: 'jmp', op, wide, useReg: true, dst: 1, src: 2, imm: 0, off: 1 }, EXIT, MOV(0, 1), EXIT];
      expect(run(prog)).toBe(jmpModel(op, wide, a, b) ? 1n : 0n);
    }), { numRuns: 2000 });
  });

  it('negates, byte-swaps and truncates as specified', () => {
    fc.assert(fc.property(edgy64, fc.constantFrom(16, 32, 64) as fc.Arbitrary<16 | 32 | 64>, (a, bits) => {
      const swap = (v: bigint, n: number) => { let r = 0n; for (let i = 0; i < n / 8; i++) r = (r << 8n) | ((v >> BigInt(8 * i)) & 0xffn); return r; };
      expect(run([lddw(0, a), { kind: 'endian', order: 'be', bits, dst: 0 }, EXIT])).toBe(swap(a, bits));
      expect(run([lddw(0, a), { kind: 'endian', order: 'swap', bits, dst: 0 }, EXIT])).toBe(swap(a, bits));
      expect(run([lddw(0, a), { kind: 'endian', order: 'le', bits, dst: 0 }, EXIT])).toBe(BigInt.asUintN(bits, a));
      expect(run([lddw(0, a), { kind: 'neg', wide: true, dst: 0 }, EXIT])).toBe(u64(-a));
      expect(run([lddw(0, a), { kind: 'neg', wide: false, dst: 0 }, EXIT])).toBe(u32(-a));
    }), { numRuns: 500 });
  });
});

describe('interpreter memory, calls and limits', () => {
  it('reports a NULL dereference with the instruction, address and region', () => {
    expect(() => run([MOV(1, 0), { kind: 'ldx', size: 4, signed: false, dst: 0, src: 1, off: 16 }, EXIT]))
      .toThrow('insn 1: invalid memory access: read of 4 bytes at 0x10 (NULL guard page)');
  });

  it('refuses stores into a read-only region and leaves it unchanged', () => {
    const machine = new Machine();
    const ro = machine.space.allocate('config', 'global', 8, { writable: false });
    machine.space.write(ro.start, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const prog: Instruction[] = [lddw(1, BigInt(ro.start)), { kind: 'st', size: 4, dst: 1, off: 0, imm: 0 }, EXIT];
    expect(() => run(prog, machine)).toThrow(`insn 2: invalid memory access: write of 4 bytes at 0x${ro.start.toString(16)} (config+0): config is read-only`);
    expect([...machine.space.read(ro.start, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refuses an access that straddles the end of a region', () => {
    const machine = new Machine();
    const buf = machine.space.allocate('buf', 'input', 6);
    const prog: Instruction[] = [lddw(1, BigInt(buf.start)), { kind: 'ldx', size: 8, signed: false, dst: 0, src: 1, off: 0 }, EXIT];
    expect(() => run(prog, machine)).toThrow('insn 2: invalid memory access: read of 8 bytes at');
  });

  it('keeps each frame 512 bytes apart and restores r6..r10 after a call', () => {
    // main: r6 = 7; store 1 at fp-8; call f; r0 = r6 + *(fp-8) + r0(=fp difference)
    const prog: Instruction[] = [
      MOV(6, 7),
      { kind: 'st', size: 8, dst: 10, off: -8, imm: 1 },
      { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 7, src: 10, imm: 0 },
      { kind: 'call', src: 1, imm: 6 },
      { kind: 'ldx', size: 8, signed: false, dst: 1, src: 10, off: -8 },
      { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 0, src: 6, imm: 0 },
      { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 0, src: 1, imm: 0 },
      { kind: 'alu', op: 'sub', wide: true, useReg: true, dst: 7, src: 10, imm: 0 },
      { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 0, src: 7, imm: 0 },
      EXIT,
      // f: clobbers r6, writes its own fp-8, returns caller_fp - callee_fp
      MOV(6, 100),
      { kind: 'st', size: 8, dst: 10, off: -8, imm: 99 },
      { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 0, src: 7, imm: 0 },
      { kind: 'alu', op: 'sub', wide: true, useReg: true, dst: 0, src: 10, imm: 0 },
      EXIT,
    ];
    expect(run(prog)).toBe(7n + 1n + 512n);
  });

  it('stops recursion deeper than 8 frames', () => {
    expect(() => run([{ kind: 'call', src: 1, imm: -1 }, EXIT])).toThrow('insn 0: the call stack is too deep: more than 8 frames');
  });

  it('stops an endless loop at the budget', () => {
    const prog = prepareProgram(encodeProgram([{ kind: 'ja', off: -1 }, EXIT]));
    expect(() => interpret(new Machine(), prog, { budget: 5000 })).toThrow('insn 0: instruction budget of 5000 exhausted');
  });

  it('falls through may_goto until the 8M budget of the frame is spent', () => {
    // loop: r0 += 1; may_goto +1; ja loop; exit — counts iterations until may_goto jumps
    const prog = prepareProgram(encodeProgram([MOV(0, 0),
      { kind: 'alu', op: 'add', wide: true, useReg: false, dst: 0, src: 0, imm: 1 },
      { kind: 'may_goto', off: 1 }, { kind: 'ja', off: -3 }, EXIT]));
    expect(interpret(new Machine(), prog, { budget: 40_000_000 }).r0).toBe(8n * 1024n * 1024n + 1n);
  });

  it('calls helpers by Linux id and reads their arguments from the register file', () => {
    const helpers = new HelperTable([{ id: 1000, name: 'sum', fn: (c) => c.ret(c.u64(1) + c.u64(2) + c.u64(5)) }]);
    const machine = new Machine({ helpers });
    const prog: Instruction[] = [MOV(1, 1), lddw(2, 1n << 40n), MOV(5, -1), { kind: 'call', src: 0, imm: 1000 }, EXIT];
    expect(run(prog, machine)).toBe(u64(1n + (1n << 40n) - 1n));
    // A Linux helper the table lacks loads and fails only when the call runs; an id that is no helper is refused.
    const missing = prepareProgram(encodeProgram([MOV(0, 0), { kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 0, src: 0, imm: 0, off: 1 }, { kind: 'call', src: 0, imm: 1 }, EXIT]), { helpers });
    expect(interpret(machine, missing).r0).toBe(0n);
    const calls = prepareProgram(encodeProgram([{ kind: 'call', src: 0, imm: 18 }, EXIT]), { helpers });
    expect(() => interpret(machine, calls)).toThrow('bpf_skb_vlan_push#18 at insn 0: not available in user space');
    expect(() => prepareProgram(encodeProgram([{ kind: 'call', src: 0, imm: 5000 }, EXIT]), { helpers }))
      .toThrow('insn 0: unknown helper #5000: no such helper');
  });

  it('runs legacy packet loads from the socket buffer in r6 and exits with 0 when out of bounds', () => {
    const machine = new Machine();
    const pkt = machine.space.allocate('pkt', 'packet', 4);
    machine.space.write(pkt.start, Uint8Array.of(0x12, 0x34, 0x56, 0x78));
    const skb = machine.space.allocate('skb', 'ctx', 192);
    machine.space.data.setUint32(skb.start + 76, pkt.start, true);
    machine.space.data.setUint32(skb.start + 80, pkt.start + 4, true);
    const load = (insn: Instruction) => run([lddw(6, BigInt(skb.start)), MOV(0, 9), insn, EXIT], machine);
    expect(load({ kind: 'ldabs', size: 4, imm: 0 })).toBe(0x12345678n);
    expect(load({ kind: 'ldabs', size: 2, imm: 2 })).toBe(0x5678n);
    expect(load({ kind: 'ldabs', size: 2, imm: 3 })).toBe(0n);
    expect(run([lddw(6, BigInt(skb.start)), MOV(7, 1), { kind: 'ldind', size: 1, src: 7, imm: 2 }, EXIT], machine)).toBe(0x78n);
  });

  it('runs atomics with and without fetch, 32 and 64 bits, on shared memory too', () => {
    for (const shared of [false, true]) {
      const machine = new Machine({ shared });
      const prog: Instruction[] = [
        lddw(1, 0x1_0000_0005n), { kind: 'stx', size: 8, dst: 10, src: 1, off: -8 },
        MOV(2, 3), { kind: 'atomic', op: 'add', fetch: true, size: 8, dst: 10, src: 2, off: -8 }, // r2 = old
        MOV(0, 8), MOV(3, 42), { kind: 'atomic', op: 'cmpxchg', fetch: true, size: 4, dst: 10, src: 3, off: -8 }, // low word 8 == r0 -> 42
        { kind: 'ldx', size: 8, signed: false, dst: 0, src: 10, off: -8 },
        { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 0, src: 2, imm: 0 },
        EXIT,
      ];
      expect(run(prog, machine)).toBe(0x1_0000_002an + 0x1_0000_0005n);
    }
  });
});

describe('callbacks and tail calls', () => {
  it('runs bpf_loop callbacks in their own frame and stops when one returns 1', () => {
    const machine = new Machine({ helpers: helperTable() });
    const prog: Instruction[] = [
      MOV(6, 100),
      { kind: 'st', size: 8, dst: 10, off: -8, imm: 0 },
      MOV(1, 5),
      { kind: 'lddw', dst: 2, pseudo: 4, imm: 9, imm2: 0 }, // slot 3 -> callback at slot 3 + 1 + 9 = 13
      { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 3, src: 10, imm: 0 },
      { kind: 'alu', op: 'add', wide: true, useReg: false, dst: 3, src: 0, imm: -8 },
      MOV(4, 0),
      { kind: 'call', src: 0, imm: 181 },
      { kind: 'ldx', size: 8, signed: false, dst: 1, src: 10, off: -8 },
      { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 0, src: 1, imm: 0 },
      { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 0, src: 6, imm: 0 },
      EXIT,
      // callback(i, ctx): *ctx += i; r6 = 7 (callee-saved: restored); return i == 3
      { kind: 'ldx', size: 8, signed: false, dst: 3, src: 2, off: 0 },
      { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 3, src: 1, imm: 0 },
      { kind: 'stx', size: 8, dst: 2, src: 3, off: 0 },
      MOV(6, 7),
      MOV(0, 0),
      { kind: 'jmp', op: 'jne', wide: true, useReg: false, dst: 1, src: 0, imm: 3, off: 1 },
      MOV(0, 1),
      EXIT,
    ];
    // iterations 4 (stopped at i = 3) + sum 0..3 = 6 + r6 100
    expect(run(prog, machine)).toBe(4n + 6n + 100n);
  });

  it('tail calls replace the program, keep r1, and stop after 33', () => {
    const machine = new Machine();
    const counter = machine.space.allocate('counter', 'map', 8);
    // Each run adds 1 to the counter and tail-calls itself; when the tail call fails, returns the counter.
    const self = prepareProgram(encodeProgram([
      { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 6, src: 1, imm: 0 },
      lddw(7, BigInt(counter.start)),
      MOV(2, 1),
      { kind: 'atomic', op: 'add', fetch: false, size: 8, dst: 7, src: 2, off: 0 },
      { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 1, src: 6, imm: 0 },
      lddw(2, 0x1234n),
      MOV(3, 0),
      { kind: 'call', src: 0, imm: 12 },
      { kind: 'ldx', size: 8, signed: false, dst: 0, src: 7, off: 0 },
      { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 0, src: 6, imm: 0 },
      EXIT,
    ]));
    machine.tailCallTarget = (map, index) => (map === 0x1234 && index === 0 ? self : undefined);
    // 1 entry run + 33 tail calls = 34 increments; r1 (= 1000) is passed through every tail call.
    expect(interpret(machine, self, { args: [1000] }).r0).toBe(34n + 1000n);
  });
});
