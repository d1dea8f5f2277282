/**
 * Random programs for the JIT's differential tests: every ALU operation at
 * both widths with edge values, JMP and JMP32, bounded loops, irreducible
 * loops, may_goto loops, stack and scratch-region memory (some of it out of
 * bounds or read-only), atomics (aligned and not), bpf-to-bpf calls
 * (including runaway recursion), helpers that read registers and memory,
 * `bpf_loop` callbacks and `callx`. Programs always terminate or hit the
 * budget; both engines must agree on r0, memory and errors.
 */
import { VmError } from '../../src/errors.js';
import type { AccessSize, AluOpName, AtomicOpName, Instruction, JmpOpName } from '../../src/isa/instruction.js';
import { lddw } from '../../src/isa/instruction.js';
import { HelperTable } from '../../src/vm/helper-call.js';
import type { Helper } from '../../src/vm/helper-call.js';
import { standardHelpers } from '../../src/vm/helpers/basic.js';
import { loopHelpers } from '../../src/vm/helpers/loop.js';
import { mapHelpers } from '../../src/vm/helpers/map-helpers.js';
import { Machine } from '../../src/vm/machine.js';
import { lpmKey, MapFlags, MapType } from '../../src/vm/maps/index.js';
import type { BpfMap } from '../../src/vm/maps/index.js';
import type { Region } from '../../src/vm/memory.js';

/** A small seeded PRNG (mulberry32). */
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

/** Helper id of `test_mix(r1..r5)`: a hash of its five arguments. */
export const MIX_HELPER = 1000;
/** Helper id of `test_read(ptr)`: the u64 at a readable pointer (faults otherwise). */
export const READ_HELPER = 1001;

const MASK64 = (1n << 64n) - 1n;

/** The helpers the random programs call. */
export function fuzzHelpers(): Helper[] {
  return [
    ...standardHelpers({ seed: 12345 }),
    ...loopHelpers(),
    ...mapHelpers(),
    {
      id: MIX_HELPER, name: 'test_mix', fn: (c) => {
        let h = 0xcbf29ce484222325n;
        for (let i = 1; i <= 5; i++) h = ((h ^ c.u64(i)) * 0x100000001b3n) & MASK64;
        c.ret(h);
      },
    },
    {
      id: READ_HELPER, name: 'test_read', fn: (c) => {
        const a = c.ptr(1, 8);
        c.ret(c.space.data.getBigUint64(a, true));
      },
    },
  ];
}

/** A machine for fuzzing: scratch (rw, 256 bytes) and rodata (ro, 64 bytes) regions with known bytes, and maps. */
export interface FuzzMachine {
  machine: Machine;
  scratch: Region;
  rodata: Region;
  /** An array (u32 -> 16 bytes, 8 entries), a hash (u64 -> 16 bytes, 16 entries), an LPM trie (IPv4 -> 16 bytes). */
  maps: BpfMap[];
}

/** Bytes of the scratch region. */
export const SCRATCH = 256;

/** Builds a fuzz machine; two calls give identical memory layouts and contents. */
export function fuzzMachine(shared = false): FuzzMachine {
  const machine = new Machine({ shared, helpers: new HelperTable(fuzzHelpers()) });
  const scratch = machine.space.allocate('scratch', 'scratch', SCRATCH);
  const rodata = machine.space.allocate('rodata', 'global', 64, { writable: false });
  const bytes = machine.space.bytes;
  for (let i = 0; i < SCRATCH; i++) bytes[scratch.start + i] = (i * 37 + 11) & 0xff;
  for (let i = 0; i < 64; i++) bytes[rodata.start + i] = (i * 91 + 3) & 0xff;
  const value = (i: number) => Uint8Array.from({ length: 16 }, (_, j) => (i * 17 + j) & 0xff);
  const array = machine.maps.create({ name: 'arr', type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 8 });
  const hash = machine.maps.create({ name: 'hash', type: MapType.HASH, keySize: 8, valueSize: 16, maxEntries: 16, hashSeed: 0x5eed });
  const lpm = machine.maps.create({ name: 'lpm', type: MapType.LPM_TRIE, keySize: 8, valueSize: 16, maxEntries: 16, flags: MapFlags.NO_PREALLOC });
  for (let i = 0; i < 8; i += 2) array.update(Uint8Array.of(i, 0, 0, 0), value(i));
  for (let i = 0; i < 6; i++) hash.update(Uint8Array.of(i, 0, 0, 0, 0, 0, 0, 0), value(i + 10));
  lpm.update(lpmKey(8, [10, 0, 0, 0]), value(20));
  lpm.update(lpmKey(16, [10, 1, 0, 0]), value(21));
  lpm.update(lpmKey(24, [10, 1, 2, 0]), value(22));
  return { machine, scratch, rodata, maps: [array, hash, lpm] };
}

type Item =
  | { t: 'insn'; insn: Instruction }
  | { t: 'label'; name: string }
  | { t: 'jmp'; make: (off: number) => Instruction; target: string }
  | { t: 'call'; target: string }
  | { t: 'func'; dst: number; target: string };

const ALU_OPS: AluOpName[] = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh', 'movsx8', 'movsx16', 'movsx32'];
const JMP_OPS: JmpOpName[] = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'];
const RMW_OPS: AtomicOpName[] = ['add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'];
const INTERESTING32 = [0, 1, -1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 0x7fffffff, -0x80000000, 0x80, 0xff, 0xffff, 0x8000, -2, 1000];
const INTERESTING64 = [0n, 1n, MASK64, 0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffn, 0x100000000n, 0x80000000n, 0xffffffff80000000n, 2n, 3n, 64n];

/** What a generated program needs to run: its instructions and the machine facts it was built for. */
export interface FuzzProgram {
  insns: Instruction[];
  /**
   * Whether the program follows the verifier's register rules (no read of
   * r0, r6..r9 at a function's entry or of r1..r5 after a call before a
   * write), which unchecked mode assumes; only those are compared unchecked.
   */
  clean: boolean;
  /** How many functions it has (entry included). */
  functions: number;
}

/** Options of {@link randomProgram}. */
export interface GenOptions {
  /** Approximate instructions per function body. */
  length?: number;
  /** Include accesses that fault (default true). */
  faults?: boolean;
}

/** Builds one random program for the given machine layout. */
export function randomProgram(seed: number, fm: FuzzMachine, options: GenOptions = {}): FuzzProgram {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const chance = (p: number) => r() < p;
  const length = options.length ?? int(10, 40);
  const faults = options.faults ?? true;
  let clean = chance(0.7);
  const nfuncs = int(1, 4);
  const names = Array.from({ length: nfuncs }, (_, i) => `f${i}`);
  let labelN = 0;
  const label = () => `L${labelN++}`;
  const imm32 = () => (chance(0.6) ? pick(INTERESTING32) : int(-0x80000000, 0x7fffffff));
  const big64 = () => (chance(0.4) ? pick(INTERESTING64) : (BigInt(int(0, 0xffffffff)) << 32n) | BigInt(int(0, 0xffffffff)));

  const all: Item[] = [];
  for (let f = 0; f < nfuncs; f++) {
    const items: Item[] = [{ t: 'label', name: names[f]! }];
    const emit = (insn: Instruction) => items.push({ t: 'insn', insn });
    /** Clean programs write r1..r5 after a call that may leave them changed. */
    const afterCall = () => {
      if (!clean) return;
      for (let x = 1; x <= 5; x++) emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: x, src: 0, imm: imm32() });
    };
    if (clean && f > 0) {
      // A function starts with r1..r5 and r10 only: set r0 and r6..r9 (r6 = the scratch region again).
      emit(lddw(6, BigInt(fm.scratch.start)));
      for (const x of [0, 7, 8, 9]) emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: x, src: 0, imm: imm32() });
    }
    const reserved = new Set<number>([6]);
    const free = (exclude: Set<number>) => {
      let d = int(0, 9);
      for (let k = 0; k < 20 && exclude.has(d); k++) d = int(0, 9);
      return exclude.has(d) ? 0 : d;
    };
    const dstReg = () => (faults && chance(0.01) ? 10 : free(reserved));
    const anyReg = () => int(0, 10);
    const callees = names.slice(f + 1);

    const alu = () => {
      const d = dstReg();
      if (chance(0.06)) return emit({ kind: 'neg', wide: chance(0.5), dst: d });
      if (chance(0.08)) return emit({ kind: 'endian', order: pick(['le', 'be', 'swap'] as const), bits: pick([16, 32, 64] as const), dst: d });
      if (chance(0.06)) return emit(lddw(d, big64()));
      const wide = chance(0.6);
      let op = pick(ALU_OPS);
      if (op === 'movsx32' && !wide) op = 'movsx16';
      const useReg = op.startsWith('movsx') || chance(0.5);
      let imm = 0;
      if (!useReg) imm = (op === 'lsh' || op === 'rsh' || op === 'arsh') && chance(0.7) ? int(0, wide ? 63 : 31) : imm32();
      emit({ kind: 'alu', op, wide, useReg, dst: d, src: useReg ? anyReg() : 0, imm });
    };

    /** A base register and offset for an access of `size` bytes. */
    const place = (size: AccessSize, write: boolean): { base: number; off: number } => {
      const w = r();
      if (w < 0.4) return { base: 10, off: -int(1, 512 / size) * size + (chance(0.2) ? int(0, size - 1) : 0) };
      if (w < 0.75) {
        const inside = !faults || chance(0.92);
        const off = inside ? int(0, SCRATCH - size) : pick([-8, -1, SCRATCH - size + 1, SCRATCH, 30000, -30000]);
        return { base: 6, off };
      }
      if (w < 0.85) {
        // A pointer into the stack through another register (checked path for the stack).
        const t = free(reserved);
        emit({ kind: 'alu', op: 'mov', wide: true, useReg: true, dst: t, src: 10, imm: 0 });
        emit({ kind: 'alu', op: 'add', wide: true, useReg: false, dst: t, src: 0, imm: -int(0, 64) * 8 });
        return { base: t, off: -int(1, 56) * size };
      }
      if (w < 0.93 || !faults) {
        if (write && !faults) return { base: 6, off: int(0, SCRATCH - size) };
        const t = free(reserved);
        emit(lddw(t, BigInt(fm.rodata.start)));
        return { base: t, off: write ? int(0, 56) : int(0, 64 - size) };
      }
      return { base: anyReg(), off: int(-64, 64) };
    };

    const memory = () => {
      const kind = r();
      if (kind < 0.4) {
        const signed = chance(0.3);
        const size = signed ? pick<AccessSize>([1, 2, 4]) : pick<AccessSize>([1, 2, 4, 8]);
        const p = place(size, false);
        emit({ kind: 'ldx', size, signed, dst: dstReg(), src: p.base, off: p.off });
      } else if (kind < 0.75) {
        const size = pick<AccessSize>([1, 2, 4, 8]);
        const p = place(size, true);
        if (chance(0.5)) emit({ kind: 'stx', size, dst: p.base, src: anyReg(), off: p.off });
        else emit({ kind: 'st', size, dst: p.base, off: p.off, imm: imm32() });
      } else if (kind < 0.93) {
        const size = pick<AccessSize>([4, 8]);
        const op = pick(RMW_OPS);
        const fetch = op === 'xchg' || op === 'cmpxchg' ? true : chance(0.5);
        const p = place(size, true);
        const src = fetch ? free(reserved) : anyReg();
        if (op === 'cmpxchg' && reserved.has(0)) return;
        emit({ kind: 'atomic', op, fetch, size, dst: p.base, src, off: p.off });
      } else {
        const size = pick<AccessSize>([1, 2, 4, 8]);
        if (chance(0.5)) {
          const p = place(size, false);
          emit({ kind: 'atomic', op: 'load_acq', fetch: false, size, dst: dstReg(), src: p.base, off: p.off });
        } else {
          const p = place(size, true);
          emit({ kind: 'atomic', op: 'store_rel', fetch: false, size, dst: p.base, src: anyReg(), off: p.off });
        }
      }
    };

    const condJump = (target: string) => {
      const wide = chance(0.5);
      const op = pick(JMP_OPS);
      const useReg = chance(0.5);
      const dst = anyReg();
      const src = useReg ? anyReg() : 0;
      const imm = useReg ? 0 : imm32();
      items.push({ t: 'jmp', target, make: (off) => ({ kind: 'jmp', op, wide, useReg, dst, src, imm, off }) });
    };

    const counter = (): number | undefined => {
      const choices = [7, 8, 9].filter((x) => !reserved.has(x));
      return choices.length ? pick(choices) : undefined;
    };

    const helper = () => {
      const w = r();
      if (w < 0.3) emit({ kind: 'call', src: 0, imm: MIX_HELPER });
      else if (w < 0.45) {
        if (reserved.has(1)) return;
        if (chance(0.85) || !faults) {
          emit({ kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 1, src: 6, imm: 0 });
          emit({ kind: 'alu', op: 'add', wide: true, useReg: false, dst: 1, src: 0, imm: int(0, SCRATCH - 8) });
        }
        emit({ kind: 'call', src: 0, imm: READ_HELPER });
      } else if (w < 0.6) emit({ kind: 'call', src: 0, imm: 7 });
      else if (w < 0.7) emit({ kind: 'call', src: 0, imm: 8 });
      else if (w < 0.9 && callees.length > 0 && ![1, 2, 3, 4].some((x) => reserved.has(x))) {
        // bpf_loop(n, callback, ctx, flags)
        emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 1, src: 0, imm: int(0, 4) });
        items.push({ t: 'func', dst: 2, target: pick(callees) });
        emit({ kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 3, src: 6, imm: 0 });
        emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 4, src: 0, imm: chance(0.95) ? 0 : 1 });
        emit({ kind: 'call', src: 0, imm: 181 });
        afterCall();
      } else {
        const t = free(reserved);
        emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: t, src: 0, imm: chance(0.9) ? MIX_HELPER : (faults ? 9999 : MIX_HELPER) });
        emit({ kind: 'callx', dst: t });
        afterCall();
      }
    };

    /** A map lookup (then an access through the value pointer), update or delete, keys from a small set. */
    const mapOp = () => {
      if ([0, 1, 2, 3, 4].some((x) => reserved.has(x))) return;
      const which = int(0, 2);
      const map = fm.maps[which]!;
      // The key at r10 - 488 (8 bytes), the value at r10 - 480 (16 bytes).
      if (which === 0) emit({ kind: 'st', size: 4, dst: 10, off: -488, imm: chance(0.8) ? int(0, 9) : imm32() });
      else if (which === 1) emit({ kind: 'st', size: 8, dst: 10, off: -488, imm: chance(0.8) ? int(0, 8) : imm32() });
      else {
        emit({ kind: 'st', size: 4, dst: 10, off: -488, imm: pick([32, 24, 16, 8, 0, 33]) });
        emit({ kind: 'st', size: 4, dst: 10, off: -484, imm: pick([0x0002010a, 0x0003010a, 0x0000010a, 0x0000000b]) });
      }
      emit(lddw(1, BigInt(map.address)));
      emit({ kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 2, src: 10, imm: 0 });
      emit({ kind: 'alu', op: 'add', wide: true, useReg: false, dst: 2, src: 0, imm: chance(0.97) || !faults ? -488 : 40000 });
      const w = r();
      if (w < 0.7 || which === 0 || which === 2) {
        emit({ kind: 'call', src: 0, imm: 1 });
        const skip = label();
        items.push({ t: 'jmp', target: skip, make: (off) => ({ kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 0, src: 0, imm: 0, off }) });
        const size = pick<AccessSize>([1, 2, 4, 8]);
        const off = int(0, 16 - size);
        const v = r();
        if (v < 0.4) emit({ kind: 'ldx', size, signed: false, dst: free(reserved), src: 0, off });
        else if (v < 0.7) emit({ kind: 'stx', size, dst: 0, src: anyReg(), off });
        else emit({ kind: 'atomic', op: 'add', fetch: false, size: 8, dst: 0, src: anyReg(), off: 8 * int(0, 1) });
        items.push({ t: 'label', name: skip });
      } else {
        emit({ kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 3, src: 10, imm: 0 });
        emit({ kind: 'alu', op: 'add', wide: true, useReg: false, dst: 3, src: 0, imm: -480 });
        emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 4, src: 0, imm: pick([0, 0, 1, 2]) });
        emit({ kind: 'call', src: 0, imm: w < 0.85 ? 2 : 3 });
      }
    };

    const seq = (n: number, depth: number): void => {
      for (let i = 0; i < n; i++) {
        const w = r();
        if (w < 0.5) alu();
        else if (w < 0.7) memory();
        else if (w < 0.78) {
          const end = label();
          condJump(end);
          seq(int(1, 5), depth + 1);
          items.push({ t: 'label', name: end });
        } else if (w < 0.82 && depth < 2) {
          const rc = counter();
          if (rc === undefined) continue;
          const top = label();
          emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: rc, src: 0, imm: int(1, 5) });
          items.push({ t: 'label', name: top });
          reserved.add(rc);
          seq(int(1, 6), depth + 1);
          reserved.delete(rc);
          emit({ kind: 'alu', op: 'sub', wide: chance(0.5), useReg: false, dst: rc, src: 0, imm: 1 });
          items.push({ t: 'jmp', target: top, make: (off) => ({ kind: 'jmp', op: 'jne', wide: true, useReg: false, dst: rc, src: 0, imm: 0, off }) });
        } else if (w < 0.85 && depth < 2) {
          // Irreducible: a cycle A -> B -> A entered at A or at B.
          const rc = counter();
          if (rc === undefined) continue;
          const a = label();
          const b = label();
          const out = label();
          emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: rc, src: 0, imm: int(1, 4) });
          reserved.add(rc);
          condJump(b);
          items.push({ t: 'label', name: a });
          seq(int(1, 4), depth + 1);
          emit({ kind: 'alu', op: 'sub', wide: true, useReg: false, dst: rc, src: 0, imm: 1 });
          items.push({ t: 'jmp', target: out, make: (off) => ({ kind: 'jmp', op: 'jsle', wide: true, useReg: false, dst: rc, src: 0, imm: 0, off }) });
          items.push({ t: 'label', name: b });
          seq(int(1, 4), depth + 1);
          emit({ kind: 'alu', op: 'sub', wide: true, useReg: false, dst: rc, src: 0, imm: 1 });
          items.push({ t: 'jmp', target: a, make: (off) => ({ kind: 'jmp', op: 'jsgt', wide: true, useReg: false, dst: rc, src: 0, imm: 0, off }) });
          items.push({ t: 'label', name: out });
          reserved.delete(rc);
        } else if (w < 0.86 && depth < 2) {
          // may_goto loop: the loop runs until its counter or may_goto's budget stops it.
          const rc = counter();
          if (rc === undefined) continue;
          const top = label();
          const out = label();
          emit({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst: rc, src: 0, imm: int(1, 4) });
          reserved.add(rc);
          items.push({ t: 'label', name: top });
          items.push({ t: 'jmp', target: out, make: (off) => ({ kind: 'may_goto', off }) });
          seq(int(1, 4), depth + 1);
          emit({ kind: 'alu', op: 'sub', wide: true, useReg: false, dst: rc, src: 0, imm: 1 });
          items.push({ t: 'jmp', target: top, make: (off) => ({ kind: 'jmp', op: 'jne', wide: true, useReg: false, dst: rc, src: 0, imm: 0, off }) });
          items.push({ t: 'label', name: out });
          reserved.delete(rc);
        } else if (w < 0.9) {
          if (callees.length > 0 && chance(0.97)) {
            items.push({ t: 'call', target: pick(callees) });
            afterCall();
          } else if (faults && chance(0.3)) {
            items.push({ t: 'call', target: names[f]! }); // runaway recursion
            // The entry has no prologue that sets r0, r6..r9: entering it as a callee breaks the rules.
            if (f === 0) clean = false;
          }
        } else if (w < 0.95) {
          helper();
        } else if (w < 0.98) {
          mapOp();
        } else {
          alu();
        }
      }
    };
    seq(length, 0);
    if (f === 0) {
      // Entry: set up r6 = scratch at the start.
      items.splice(1, 0, { t: 'insn', insn: lddw(6, BigInt(fm.scratch.start)) });
    }
    emit({ kind: 'exit' });
    all.push(...items);
  }
  return { insns: resolve(all), functions: nfuncs, clean };
}

/** Resolves labels to offsets. */
function resolve(items: Item[]): Instruction[] {
  const slotOf = new Map<string, number>();
  let slot = 0;
  for (const it of items) {
    if (it.t === 'label') slotOf.set(it.name, slot);
    else slot += it.t === 'func' || (it.t === 'insn' && it.insn.kind === 'lddw') ? 2 : 1;
  }
  const out: Instruction[] = [];
  slot = 0;
  for (const it of items) {
    if (it.t === 'label') continue;
    const target = it.t === 'insn' ? 0 : slotOf.get(it.target)!;
    switch (it.t) {
      case 'insn': out.push(it.insn); break;
      case 'jmp': out.push(it.make(target - slot - 1)); break;
      case 'call': out.push({ kind: 'call', src: 1, imm: target - slot - 1 }); break;
      case 'func': out.push({ kind: 'lddw', dst: it.dst, pseudo: 4, imm: target - slot - 1, imm2: 0 }); break;
    }
    slot += it.t === 'func' || (it.t === 'insn' && it.insn.kind === 'lddw') ? 2 : 1;
  }
  return out;
}

/** The observable outcome of a run: r0 or the error, and the bytes of the stack, scratch and rodata regions. */
export interface Outcome {
  r0?: bigint;
  error?: string;
  insns?: number;
  memory: string;
}

/** Hex of the memory a fuzz program may change. */
export function observedMemory(fm: FuzzMachine): string {
  const space = fm.machine.space;
  const stack = fm.machine.cpu(0).stack;
  const hex = (a: number, n: number) => Array.from(space.read(a, n), (b) => b.toString(16).padStart(2, '0')).join('');
  const maps = space.regions.filter((r) => r.name.startsWith('map:')).map((r) => hex(r.start, r.size)).join('|');
  return `${hex(stack.start, stack.size)}|${hex(fm.scratch.start, fm.scratch.size)}|${hex(fm.rodata.start, fm.rodata.size)}|${maps}`;
}

/** Runs `fn`, capturing r0 or a VmError's message plus the memory. */
export function outcome(fm: FuzzMachine, fn: () => { r0: bigint; insns: number }): Outcome {
  try {
    const res = fn();
    return { r0: res.r0, insns: res.insns, memory: observedMemory(fm) };
  } catch (err) {
    if (err instanceof VmError) return { error: err.message, memory: observedMemory(fm) };
    throw err;
  }
}
