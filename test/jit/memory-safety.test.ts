/**
 * Checked mode is memory-safe: programs that load, store and update memory
 * at random addresses (random 64-bit values, addresses around every
 * region's edges, offsets across the whole signed 16-bit range) either run
 * or stop with the interpreter's exact `VmError`, and the bytes outside the
 * regions programs may write are never changed. Guarded unchecked mode
 * (every access taken as proven by the verifier: only its page's rights are
 * tested) gives both engines the same outcome too and never changes a byte
 * of a page programs may not write.
 */
import { describe, expect, it } from 'vitest';
import { encodeProgram } from '../../src/isa/encode.js';
import type { AccessSize, Instruction } from '../../src/isa/instruction.js';
import { lddw } from '../../src/isa/instruction.js';
import { FIND_CACHE } from '../../src/jit/inline.js';
import { jitEngine } from '../../src/jit/jit-engine.js';
import { GUARD_SIZE, PAGE_GAP, PageRights, WASM_PAGE } from '../../src/vm/memory.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import { fuzzMachine, outcome, rng } from './random-programs.js';
import type { FuzzMachine } from './random-programs.js';

/** A machine with, besides the fuzz regions, a hidden region of known bytes. */
function machineWithSecret(): FuzzMachine {
  const fm = fuzzMachine();
  const secret = fm.machine.space.allocate('secret', 'internal', 512, { readable: false, writable: false });
  fm.machine.space.bytes.fill(0xa5, secret.start, secret.start + secret.size);
  return fm;
}

function accessProgram(seed: number, fm: FuzzMachine, pageEdges = false): Instruction[] {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const space = fm.machine.space;
  const regions = space.regions;
  const address = (): bigint => {
    const w = r();
    if (w < 0.2) return (BigInt(int(0, 0xffffffff)) << 32n) | BigInt(int(0, 0xffffffff));
    if (w < 0.4) return BigInt(int(0, space.byteLength + 0x20000));
    if (pageEdges && w < 0.6) return BigInt(WASM_PAGE * int(1, space.byteLength / WASM_PAGE) + int(-72, 12));
    const reg = pick(regions);
    const edge = r() < 0.5 ? reg.start : reg.start + reg.size;
    return BigInt(edge + int(-16, 16));
  };
  const insns: Instruction[] = [];
  const n = int(1, 6);
  for (let i = 0; i < n; i++) {
    const base = int(1, 9);
    insns.push(lddw(base, address()));
    const off = pageEdges && r() < 0.4 ? int(-8, 72) : r() < 0.7 ? int(-16, 16) : int(-32768, 32767);
    const size = pick<AccessSize>([1, 2, 4, 8]);
    const w = r();
    if (w < 0.35) insns.push({ kind: 'ldx', size, signed: r() < 0.3 && size < 8, dst: 0, src: base, off });
    else if (w < 0.6) insns.push({ kind: 'stx', size, dst: base, src: int(0, 10), off });
    else if (w < 0.75) insns.push({ kind: 'st', size, dst: base, off, imm: int(-0x80000000, 0x7fffffff) });
    else if (w < 0.9) {
      const s = pick<AccessSize>([4, 8]);
      insns.push({ kind: 'atomic', op: pick(['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'] as const), fetch: true, size: s, dst: base, src: 0, off });
    } else {
      insns.push({ kind: 'atomic', op: r() < 0.5 ? 'load_acq' : 'store_rel', fetch: false, size, dst: r() < 0.5 ? 0 : base, src: base, off });
    }
  }
  insns.push({ kind: 'exit' });
  return insns;
}

/**
 * Every byte outside writable regions, less the engines' own state: the
 * CPU's register file and the JIT's region table and search cache (upper
 * half of the guard page, see jit-engine.ts).
 */
function protectedBytes(fm: FuzzMachine): Uint8Array {
  const space = fm.machine.space;
  const copy = space.bytes.slice();
  const regs = fm.machine.cpu(0).regfile;
  for (const r of space.regions) if (r.writable || r === regs) copy.fill(0, r.start, r.start + r.size);
  copy.fill(0, FIND_CACHE, GUARD_SIZE);
  return copy;
}

/**
 * Every byte of the pages programs may not write, less the engines' own
 * state (the register file, the JIT's region table and search cache) and
 * the unused first bytes of each page (where a straddling access may spill).
 */
function unwritablePages(fm: FuzzMachine): Uint8Array {
  const space = fm.machine.space;
  const copy = space.bytes.slice();
  for (let p = 0; p * WASM_PAGE < copy.length; p++) {
    if (space.pageRights[p]! & PageRights.write) copy.fill(0, p * WASM_PAGE, (p + 1) * WASM_PAGE);
    else copy.fill(0, p * WASM_PAGE, p * WASM_PAGE + PAGE_GAP);
  }
  const regs = fm.machine.cpu(0).regfile;
  copy.fill(0, regs.start, regs.start + regs.size);
  copy.fill(0, FIND_CACHE, GUARD_SIZE);
  return copy;
}

describe('guarded unchecked mode keeps every access inside pages that allow it', () => {
  it('random loads, stores and atomics at random addresses: both engines agree and no unwritable page changes', () => {
    let faults = 0;
    let runs = 0;
    const problems: string[] = [];
    for (let seed = 1; seed <= 500; seed++) {
      const a = machineWithSecret();
      const b = machineWithSecret();
      const bytes = encodeProgram(accessProgram(seed, a, true));
      const beforeA = unwritablePages(a);
      const beforeB = unwritablePages(b);
      const ra = outcome(a, () => interpreterEngine.load(a.machine, prepareProgram(bytes)).run({ checked: false }));
      const rb = outcome(b, () => jitEngine.load(b.machine, prepareProgram(bytes)).run({ checked: false }));
      if (rb.error !== undefined) faults++;
      else runs++;
      if (ra.error !== rb.error || ra.r0 !== rb.r0 || ra.memory !== rb.memory) problems.push(`seed ${seed}: ${ra.error ?? ra.r0} vs ${rb.error ?? rb.r0}`);
      const afterA = unwritablePages(a);
      const afterB = unwritablePages(b);
      if (!beforeA.every((x, i) => x === afterA[i])) problems.push(`seed ${seed}: interpreter changed an unwritable page`);
      if (!beforeB.every((x, i) => x === afterB[i])) problems.push(`seed ${seed}: JIT changed an unwritable page`);
    }
    expect(problems).toEqual([]);
    expect(faults).toBeGreaterThan(150);
    expect(runs).toBeGreaterThan(25);
  });
});

describe('checked mode keeps every access inside the allowed regions', () => {
  it('random loads, stores and atomics at random addresses fault exactly like the interpreter and change nothing else', () => {
    let faults = 0;
    const problems: string[] = [];
    for (let seed = 1; seed <= 1500; seed++) {
      const a = machineWithSecret();
      const b = machineWithSecret();
      const insns = accessProgram(seed, a);
      const bytes = encodeProgram(insns);
      const before = protectedBytes(b);
      const ra = outcome(a, () => interpreterEngine.load(a.machine, prepareProgram(bytes)).run());
      const rb = outcome(b, () => jitEngine.load(b.machine, prepareProgram(bytes)).run());
      if (rb.error !== undefined) faults++;
      if (ra.error !== rb.error || ra.r0 !== rb.r0 || ra.memory !== rb.memory) problems.push(`seed ${seed}: ${ra.error ?? ra.r0} vs ${rb.error ?? rb.r0}`);
      const after = protectedBytes(b);
      if (!before.every((x, i) => x === after[i])) problems.push(`seed ${seed}: protected memory changed`);
    }
    expect(problems).toEqual([]);
    expect(faults).toBeGreaterThan(500);
  });

  it('names the instruction and the region in the fault', () => {
    const fm = machineWithSecret();
    const secret = fm.machine.space.regions.find((r) => r.name === 'secret')!;
    const prog = prepareProgram(encodeProgram([
      { kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 0, src: 0, imm: 0 },
      lddw(1, BigInt(secret.start)),
      { kind: 'ldx', size: 8, signed: false, dst: 0, src: 1, off: 8 },
      { kind: 'exit' },
    ]));
    expect(() => jitEngine.load(fm.machine, prog).run()).toThrow(`insn 3: invalid memory access: read of 8 bytes at 0x${(secret.start + 8).toString(16)} (secret+8): secret is not readable`);
    const rodata = fm.rodata;
    const prog2 = prepareProgram(encodeProgram([lddw(1, BigInt(rodata.start)), { kind: 'st', size: 4, dst: 1, off: 60, imm: 1 }, { kind: 'exit' }]));
    expect(() => jitEngine.load(fm.machine, prog2).run()).toThrow(`insn 2: invalid memory access: write of 4 bytes at 0x${(rodata.start + 60).toString(16)} (rodata+60): rodata is read-only`);
    const prog3 = prepareProgram(encodeProgram([lddw(1, -1n), { kind: 'ldx', size: 1, signed: false, dst: 0, src: 1, off: 0 }, { kind: 'exit' }]));
    expect(() => jitEngine.load(fm.machine, prog3).run()).toThrow('insn 2: invalid memory access: read of 1 byte at an address outside the 32-bit address space');
  });
});
