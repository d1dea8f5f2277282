/**
 * Random eBPF programs that the Linux verifier accepts, for differential
 * tests against the kernel: straight-line code with forward jumps (JMP and
 * JMP32), every ALU operation, stack loads/stores and atomics on a
 * pre-initialised stack area. Each program is an XDP program that writes
 * r0..r9 and its stack area into the packet, so the kernel's `data_out`
 * shows the full 64-bit machine state at the end.
 */
import type { AluOpName, Instruction, JmpOpName, AtomicOpName, AccessSize } from '../../src/isa/instruction.js';
import { lddw } from '../../src/isa/instruction.js';

/** Bytes of packet a program writes: 10 registers + 7 stack slots. */
export const STATE_BYTES = 136;

/** A small seeded PRNG (mulberry32), so failures reproduce from the seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALU_OPS: AluOpName[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh', 'movsx8', 'movsx16', 'movsx32'];
const JMP_OPS: JmpOpName[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
const ATOMIC_OPS: AtomicOpName[] = ['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'];

/** Builds one random program from `seed`. */
export function randomStateProgram(seed: number, bodyLength = 40): Instruction[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const reg = () => int(0, 9);
  const interesting = [0, 1, -1, 2, 7, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 0x80, 0xff, 0xffff, -2, 1000];
  const imm32 = () => (r() < 0.5 ? pick(interesting) : (int(0, 0xffffffff) | 0));
  const big64 = () => {
    const specials = [0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffn, 0x100000000n, 0x80000000n];
    if (r() < 0.3) return pick(specials);
    return (BigInt(int(0, 0xffffffff)) << 32n) | BigInt(int(0, 0xffffffff));
  };

  const prologue: Instruction[] = [
    { kind: 'ldx', size: 4, signed: false, dst: 2, src: 1, off: 0 },
    { kind: 'ldx', size: 4, signed: false, dst: 3, src: 1, off: 4 },
    { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 4, src: 2, imm: 0 },
    { kind: 'alu', op: 'add', wide: true, useReg: false, dst: 4, src: 0, imm: STATE_BYTES },
    // jump offset patched below, to the "too short" exit
    { kind: 'jmp', op: 'jgt', wide: true, useReg: true, dst: 4, src: 3, imm: 0, off: 0 },
    { kind: 'stx', size: 8, dst: 10, src: 2, off: -8 },
  ];
  for (let i = 0; i <= 9; i++) {
    prologue.push(r() < 0.5 ? lddw(i, big64()) : { kind: 'alu', op: 'mov', wide: r() < 0.5, useReg: false, dst: i, src: 0, imm: imm32() });
  }
  for (let k = 2; k <= 8; k++) prologue.push({ kind: 'stx', size: 8, dst: 10, src: reg(), off: -8 * k });

  // Body: generated as slots so forward jump offsets can be computed.
  const body: (Instruction | { kind: 'pending-jump'; make: (off: number) => Instruction; target: number })[] = [];
  for (let i = 0; i < bodyLength; i++) {
    const what = r();
    if (what < 0.55) body.push(randomAlu());
    else if (what < 0.7) {
      const target = int(i + 1, bodyLength); // bodyLength = the epilogue start
      const wide = r() < 0.5;
      const op = pick(JMP_OPS);
      const useReg = r() < 0.5;
      const dst = reg();
      const src = useReg ? reg() : 0;
      const imm = useReg ? 0 : imm32();
      body.push({ kind: 'pending-jump', target, make: (off) => ({ kind: 'jmp', op, wide, useReg, dst, src, imm, off }) });
    } else if (what < 0.8) {
      const size = pick<AccessSize>([1, 2, 4, 8]);
      const off = -8 * int(2, 8) + size * int(0, 8 / size - 1);
      if (r() < 0.5) body.push({ kind: 'stx', size, dst: 10, src: reg(), off });
      else body.push({ kind: 'st', size, dst: 10, off, imm: imm32() });
    } else if (what < 0.9) {
      const signed = r() < 0.3;
      const size = signed ? pick<AccessSize>([1, 2, 4]) : pick<AccessSize>([1, 2, 4, 8]);
      const off = -8 * int(2, 8) + size * int(0, 8 / size - 1);
      body.push({ kind: 'ldx', size, signed, dst: reg(), src: 10, off });
    } else {
      const size = pick<AccessSize>([4, 8]);
      const op = pick(ATOMIC_OPS);
      const fetch = op === 'xchg' || op === 'cmpxchg' ? true : r() < 0.5;
      const off = -8 * int(2, 8) + size * int(0, 8 / size - 1);
      body.push({ kind: 'atomic', op, fetch, size, dst: 10, src: reg(), off });
    }
  }

  function randomAlu(): Instruction {
    const wide = r() < 0.6;
    if (r() < 0.08) return { kind: 'neg', wide, dst: reg() };
    if (r() < 0.08) {
      const order = pick(['le', 'be', 'swap'] as const);
      return { kind: 'endian', order, bits: pick([16, 32, 64] as const), dst: reg() };
    }
    let op = pick(ALU_OPS);
    if (op === 'movsx32' && !wide) op = 'movsx16';
    const useReg = op.startsWith('movsx') || r() < 0.5;
    let imm = 0;
    if (!useReg) {
      imm = imm32();
      if (op === 'lsh' || op === 'rsh' || op === 'arsh') imm = int(0, wide ? 63 : 31);
      if ((op === 'div' || op === 'mod' || op === 'sdiv' || op === 'smod') && imm === 0) imm = 3;
    }
    return { kind: 'alu', op, wide, useReg, dst: reg(), src: useReg ? reg() : 0, imm };
  }

  const epilogue: Instruction[] = [
    { kind: 'stx', size: 8, dst: 10, src: 0, off: -72 },
    { kind: 'ldx', size: 8, signed: false, dst: 0, src: 10, off: -8 },
  ];
  for (let i = 1; i <= 9; i++) epilogue.push({ kind: 'stx', size: 8, dst: 0, src: i, off: 8 * i });
  epilogue.push({ kind: 'ldx', size: 8, signed: false, dst: 1, src: 10, off: -72 });
  epilogue.push({ kind: 'stx', size: 8, dst: 0, src: 1, off: 0 });
  for (let k = 2; k <= 8; k++) {
    epilogue.push({ kind: 'ldx', size: 8, signed: false, dst: 1, src: 10, off: -8 * k });
    epilogue.push({ kind: 'stx', size: 8, dst: 0, src: 1, off: 80 + 8 * (k - 2) });
  }
  epilogue.push({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 0, src: 0, imm: 2 }, { kind: 'exit' });
  const tooShort: Instruction[] = [{ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 0, src: 0, imm: 1 }, { kind: 'exit' }];

  // Resolve body jumps: every body entry is one slot, the epilogue starts at body index bodyLength.
  const bodyInsns: Instruction[] = body.map((b, i) => (b.kind === 'pending-jump' ? b.make(b.target - i - 1) : b));
  const slots = (xs: Instruction[]) => xs.reduce((n, x) => n + (x.kind === 'lddw' ? 2 : 1), 0);
  const guard = prologue[4] as Extract<Instruction, { kind: 'jmp' }>;
  const afterGuard = slots(prologue.slice(5)) + bodyInsns.length + slots(epilogue);
  prologue[4] = { ...guard, off: afterGuard };
  return [...prologue, ...bodyInsns, ...epilogue, ...tooShort];
}
