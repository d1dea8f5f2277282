/**
 * Defence in depth (docs/architecture.md, "The address space"): a verifier
 * bug must not become a write into the runtime's own state, on either
 * engine. A verifier bug is simulated the way it happens: the verifier
 * proves an access safe (it is in `safeAccesses`) for the pointer it
 * believes the program holds, and at run time the pointer is another one.
 * The program is verified with a map-value pointer, then run with that
 * `lddw` pointing somewhere else and the verifier's `safeAccesses`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VmError } from '../src/errors.js';
import { encodeProgram } from '../src/isa/encode.js';
import type { Instruction } from '../src/isa/instruction.js';
import { lddw } from '../src/isa/instruction.js';
import { FIND_CACHE } from '../src/jit/inline.js';
import { jitEngine } from '../src/jit/jit-engine.js';
import { parseObject } from '../src/loader/object.js';
import { loadCollection } from '../src/runtime/collection.js';
import { verify } from '../src/verifier/index.js';
import type { VerifyResult } from '../src/verifier/index.js';
import type { Engine } from '../src/vm/engine.js';
import { interpreterEngine } from '../src/vm/engine.js';
import { HelperTable } from '../src/vm/helper-call.js';
import { standardHelpers } from '../src/vm/helpers/basic.js';
import { mapHelpers } from '../src/vm/helpers/map-helpers.js';
import { probeHelpers } from '../src/vm/helpers/probe-read.js';
import type { RunOptions, SafeAccesses } from '../src/vm/interpreter.js';
import { Machine } from '../src/vm/machine.js';
import { MAP_DESCRIPTOR_SIZE, MapFlags, MapType } from '../src/vm/maps/index.js';
import type { ArrayMap, HashMap } from '../src/vm/maps/index.js';
import type { ProgArrayMap } from '../src/vm/maps/prog-array.js';
import { GUARD_SIZE, PAGE_GAP, PAGE_TABLE, WASM_PAGE } from '../src/vm/memory.js';
import { prepareProgram } from '../src/vm/prepared-program.js';
import type { PreparedProgram } from '../src/vm/prepared-program.js';

const XDP = 6;
const ENGINES: Engine[] = [interpreterEngine, jitEngine];
const PATTERN = 0x4141414141414141n;

const mov = (dst: number, imm: number): Instruction => ({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst, src: 0, imm });
const exit: Instruction = { kind: 'exit' };
/** `lddw r1, map_value(map #0) + 0`: what the verifier sees. */
const mapValue: Instruction = { kind: 'lddw', dst: 1, pseudo: 2, imm: 0, imm2: 0 };

/** The access under test, at slot 4 (after two lddw). */
type Access = 'write' | 'read' | 'atomic' | 'store_rel' | 'load_acq';
const ACCESS_SLOT = 4;

function accessInsn(kind: Access): Instruction {
  switch (kind) {
    case 'write': return { kind: 'stx', size: 8, dst: 1, src: 2, off: 0 };
    case 'read': return { kind: 'ldx', size: 8, signed: false, dst: 0, src: 1, off: 0 };
    case 'atomic': return { kind: 'atomic', op: 'add', fetch: false, size: 8, dst: 1, src: 2, off: 0 };
    case 'store_rel': return { kind: 'atomic', op: 'store_rel', fetch: false, size: 8, dst: 1, src: 2, off: 0 };
    case 'load_acq': return { kind: 'atomic', op: 'load_acq', fetch: false, size: 8, dst: 0, src: 1, off: 0 };
  }
}

/** The program with r1 = `r1` (the verified template uses a map value). */
function program(kind: Access, r1: Instruction): Instruction[] {
  const insns = [r1, lddw(2, PATTERN), accessInsn(kind)];
  if (kind !== 'read' && kind !== 'load_acq') insns.push(mov(0, 0));
  insns.push(exit);
  return insns;
}

const verdicts = new Map<Access, VerifyResult>();

/** The verifier's verdict on the template: accepted, with the access proven safe. */
function verdict(kind: Access): VerifyResult {
  let v = verdicts.get(kind);
  if (v === undefined) {
    v = verify({ insns: program(kind, mapValue), progType: XDP, maps: [{ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 }] });
    verdicts.set(kind, v);
  }
  return v;
}

function newMachine(): Machine {
  return new Machine({ helpers: new HelperTable([...standardHelpers({ seed: 1 }), ...mapHelpers(), ...probeHelpers()]) });
}

function prep(machine: Machine, insns: Instruction[], name = 'forged'): PreparedProgram {
  return prepareProgram(encodeProgram(insns), { name, helpers: machine.helpers, allowPseudo: true });
}

/** Every place the runtime trusts, and the maps programs may not write or read. */
interface Target {
  name: string;
  /** Sets up the machine; returns the address and the region name the fault names. */
  make(machine: Machine): { addr: number; region: string };
  kinds: Access[];
}

const WRITES: Access[] = ['write', 'atomic', 'store_rel'];

const targets: Target[] = [
  {
    name: 'the register file', kinds: [...WRITES, 'read'],
    make: (m) => ({ addr: m.cpu(0).regfile.start + 7 * 8, region: 'regs[0]' }),
  },
  {
    name: 'the JIT batch area', kinds: [...WRITES, 'read'],
    make: (m) => {
      jitEngine.load(m, prep(m, [mov(0, 0), exit], 'batch')).runBatch(Uint32Array.of(0, 0), { checked: false });
      const r = m.space.regions.find((x) => x.name === 'jit-batch[0]')!;
      return { addr: r.start, region: r.name };
    },
  },
  {
    name: 'a hash bucket', kinds: [...WRITES, 'read'],
    make: (m) => {
      const h = m.maps.create({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 }) as HashMap;
      h.update(Uint8Array.of(1, 0, 0, 0), new Uint8Array(8));
      return { addr: h.buckets.start, region: 'map:h.buckets' };
    },
  },
  {
    name: 'a hash entry header', kinds: [...WRITES, 'read'],
    make: (m) => {
      const h = m.maps.create({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 }) as HashMap;
      h.update(Uint8Array.of(1, 0, 0, 0), new Uint8Array(8));
      const bucket = h.buckets.start + 4 * (h.hashOf(Uint8Array.of(1, 0, 0, 0)) & (h.nBuckets - 1));
      return { addr: m.space.data.getUint32(bucket, true), region: 'map:h.elems' };
    },
  },
  {
    name: 'a prog-array slot', kinds: [...WRITES, 'read'],
    make: (m) => {
      const pa = m.maps.create({ name: 'jmp', type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 }) as ProgArrayMap;
      pa.update(Uint8Array.of(0, 0, 0, 0), Uint8Array.of(m.programs.add(prep(m, [mov(0, 0), exit], 'target')), 0, 0, 0));
      return { addr: pa.storage.start, region: 'map:jmp.progs' };
    },
  },
  {
    name: 'a map descriptor', kinds: WRITES,
    make: (m) => ({ addr: m.maps.create({ name: 'd', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 }).address, region: 'map:d' }),
  },
  {
    name: 'a BPF_F_RDONLY_PROG map value', kinds: WRITES,
    make: (m) => {
      const a = m.maps.create({ name: 'ro', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: MapFlags.RDONLY_PROG }) as ArrayMap;
      a.update(Uint8Array.of(0, 0, 0, 0), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
      return { addr: a.valueAddress(0), region: 'map:ro.values' };
    },
  },
  {
    name: 'a BPF_F_WRONLY_PROG map value', kinds: ['read', 'load_acq', 'atomic'],
    make: (m) => {
      const a = m.maps.create({ name: 'wo', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: MapFlags.WRONLY_PROG }) as ArrayMap;
      a.update(Uint8Array.of(0, 0, 0, 0), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
      return { addr: a.valueAddress(0), region: 'map:wo.values' };
    },
  },
  {
    name: 'the page rights table', kinds: WRITES,
    make: () => ({ addr: PAGE_TABLE + 8, region: '' }),
  },
  {
    name: 'the JIT region table in the guard page', kinds: WRITES,
    make: () => ({ addr: FIND_CACHE + 64, region: '' }),
  },
];

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

describe('a verifier bug cannot reach what the runtime trusts (guarded unchecked mode)', () => {
  it('the templates are accepted with the access proven safe', () => {
    for (const kind of ['write', 'read', 'atomic', 'store_rel', 'load_acq'] as const) {
      const v = verdict(kind);
      expect(v.error).toBeNull();
      expect(v.safeAccesses.has(ACCESS_SLOT)).toBe(true);
    }
  });

  for (const target of targets) {
    for (const kind of target.kinds) {
      for (const engine of ENGINES) {
        it(`${engine.name}: a proven ${kind} forged into ${target.name} faults and changes nothing`, () => {
          const machine = newMachine();
          const { addr, region } = target.make(machine);
          const before = machine.space.read(addr, 8);
          const prog = prep(machine, program(kind, lddw(1, BigInt(addr))));
          const safe = verdict(kind).safeAccesses;
          let error: unknown;
          try {
            engine.load(machine, prog).run({ checked: false, safeAccesses: () => safe });
          } catch (err) {
            error = err;
          }
          expect(error).toBeInstanceOf(VmError);
          const found = machine.space.regionAt(addr, 8);
          expect(found?.name ?? '').toBe(region);
          // Checked mode's message: an atomic is checked as a read, then as a write.
          const write = kind === 'write' || kind === 'store_rel' || (kind === 'atomic' && found !== undefined && found.readable);
          const why = found === undefined ? '' : `: ${found.name} is ${write ? 'read-only' : 'not readable'}`;
          expect((error as VmError).message).toBe(`insn ${ACCESS_SLOT}: invalid memory access: ${write ? 'write' : 'read'} of 8 bytes at ${machine.space.describe(addr)}${why}`);
          expect(hex(machine.space.read(addr, 8))).toBe(hex(before));
        });
      }
    }
  }

  for (const engine of ENGINES) {
    it(`${engine.name}: without safeAccesses every access is guarded (no unguarded unchecked mode)`, () => {
      const machine = newMachine();
      const regs = machine.cpu(0).regfile.start + 56;
      const prog = prep(machine, program('write', lddw(1, BigInt(regs))));
      expect(() => engine.load(machine, prog).run({ checked: false })).toThrow(`insn 4: invalid memory access: write of 8 bytes at ${machine.space.describe(regs)}: regs[0] is read-only`);
    });

    it(`${engine.name}: a page tested for reading is tested again for writing, and a rewritten base register again`, () => {
      const machine = newMachine();
      const ro = machine.maps.create({ name: 'ro', type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, flags: MapFlags.RDONLY_PROG }) as ArrayMap;
      const rw = machine.maps.create({ name: 'rw', type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1 }) as ArrayMap;
      const regs = machine.cpu(0).regfile.start + 56;
      // Read through r1 (allowed), then write through it at another small offset: the write right is tested.
      const readThenWrite = prep(machine, [lddw(1, BigInt(ro.valueAddress(0))), { kind: 'ldx', size: 8, signed: false, dst: 0, src: 1, off: 0 }, { kind: 'stx', size: 8, dst: 1, src: 0, off: 8 }, exit]);
      expect(() => engine.load(machine, readThenWrite).run({ checked: false })).toThrow(`insn 3: invalid memory access: write of 8 bytes at ${machine.space.describe(ro.valueAddress(0) + 8)}: map:ro.values is read-only`);
      // Write through r1 (allowed), branch, point r1 at the register file, write again: tested again.
      const rewritten = prep(machine, [
        lddw(1, BigInt(rw.valueAddress(0))), { kind: 'stx', size: 8, dst: 1, src: 10, off: 0 },
        { kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 0, src: 0, imm: 5, off: 0 },
        lddw(1, BigInt(regs)), { kind: 'stx', size: 8, dst: 1, src: 10, off: 0 }, mov(0, 0), exit,
      ]);
      expect(() => engine.load(machine, rewritten).run({ checked: false })).toThrow(`insn 6: invalid memory access: write of 8 bytes at ${machine.space.describe(regs)}: regs[0] is read-only`);
    });

    it(`${engine.name}: an access that straddles into the next page lands in its unused first bytes`, () => {
      const machine = newMachine();
      const regs = machine.cpu(0).regfile;
      // The stack's rw page is followed by the register file's internal page.
      const pageEnd = Math.ceil(machine.cpu(0).stack.start / WASM_PAGE) * WASM_PAGE;
      expect(machine.space.pageClass(pageEnd - 1)).toBe('rw');
      expect(machine.space.pageClass(pageEnd)).toBe('internal');
      expect(regs.start).toBeGreaterThanOrEqual(pageEnd + PAGE_GAP);
      const before = machine.space.read(pageEnd, WASM_PAGE);
      const prog = prep(machine, program('write', lddw(1, BigInt(pageEnd - 4))));
      const r = engine.load(machine, prog).run({ checked: false, safeAccesses: () => verdict('write').safeAccesses });
      expect(r.r0).toBe(0n);
      const after = machine.space.read(pageEnd, WASM_PAGE);
      // Only the gap took the spill (the register file changes as the engines run, nothing else does).
      expect(hex(after.subarray(0, 4))).toBe('41414141');
      expect(hex(after.subarray(4, regs.start - pageEnd))).toBe(hex(before.subarray(4, regs.start - pageEnd)));
      expect(hex(after.subarray(regs.start + regs.size - pageEnd))).toBe(hex(before.subarray(regs.start + regs.size - pageEnd)));
    });
  }
});

describe('accesses the verifier did not prove get the full region check', () => {
  for (const engine of ENGINES) {
    it(`${engine.name}: a write to an rw page outside every region passes the page guard only when proven`, () => {
      const machine = newMachine();
      const stack = machine.cpu(0).stack;
      const gap = Math.floor(stack.start / WASM_PAGE) * WASM_PAGE;
      expect(machine.space.regionAt(gap)).toBeUndefined();
      expect(machine.space.pageClass(gap)).toBe('rw');
      const prog = prep(machine, program('write', lddw(1, BigInt(gap))));
      const runner = engine.load(machine, prog);
      // The verifier's set: proven, so only the page is tested (the page is rw).
      expect(runner.run({ checked: false, safeAccesses: () => verdict('write').safeAccesses }).r0).toBe(0n);
      // No verdict for this program: the same access is region-checked, as in checked mode.
      const none: SafeAccesses = () => undefined;
      expect(() => runner.run({ checked: false, safeAccesses: none })).toThrow(`insn 4: invalid memory access: write of 8 bytes at ${machine.space.describe(gap)}`);
      expect(() => runner.run({ checked: false, safeAccesses: () => new Set() })).toThrow(`insn 4: invalid memory access: write of 8 bytes at ${machine.space.describe(gap)}`);
      expect(() => runner.run({ checked: true })).toThrow(`insn 4: invalid memory access: write of 8 bytes at ${machine.space.describe(gap)}`);
    });

    it(`${engine.name}: reads of a map pointer (never proven) are region-checked, and the descriptor holds all the verifier allows`, () => {
      const machine = newMachine();
      const map = machine.maps.create({ name: 'm', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
      const insns = (r1: Instruction): Instruction[] => [r1, { kind: 'ldx', size: 4, signed: false, dst: 0, src: 1, off: 0 }, { kind: 'ldx', size: 8, signed: false, dst: 2, src: 1, off: 248 }, exit];
      const v = verify({ insns: insns({ kind: 'lddw', dst: 1, pseudo: 1, imm: 0, imm2: 0 }), progType: XDP, maps: [{ type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 }] });
      expect(v.error).toBeNull();
      expect(v.safeAccesses.size).toBe(0);
      expect(MAP_DESCRIPTOR_SIZE).toBe(256);
      const prog = prep(machine, insns(lddw(1, BigInt(map.address))));
      expect(engine.load(machine, prog).run({ checked: false, safeAccesses: () => v.safeAccesses }).r0).toBe(BigInt(MapType.ARRAY));
      // Writing the descriptor stays impossible, proven or not.
      const write = prep(machine, program('write', lddw(1, BigInt(map.address))));
      expect(() => engine.load(machine, write).run({ checked: false, safeAccesses: () => undefined })).toThrow('map:m is read-only');
    });

    it(`${engine.name}: a tail-call target uses its own verdict's set`, () => {
      const machine = newMachine();
      const jmp = machine.maps.create({ name: 'jmp', type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 });
      const gap = Math.floor(machine.cpu(0).stack.start / WASM_PAGE) * WASM_PAGE;
      // The target: a proven store (slot 4) to an rw page outside every region.
      const target = prep(machine, program('write', lddw(1, BigInt(gap))), 'target');
      jmp.update(Uint8Array.of(0, 0, 0, 0), Uint8Array.of(machine.programs.add(target), 0, 0, 0));
      const entry = prep(machine, [lddw(2, BigInt(jmp.address)), mov(3, 0), { kind: 'call', src: 0, imm: 12 }, mov(0, 7), exit], 'entry');
      const runner = engine.load(machine, entry);
      const proven = verdict('write').safeAccesses;
      const both: SafeAccesses = () => proven;
      const entryOnly: SafeAccesses = (p) => (p === entry ? proven : undefined);
      expect(runner.run({ checked: false, safeAccesses: both }).r0).toBe(0n);
      expect(() => runner.run({ checked: false, safeAccesses: entryOnly })).toThrow(`insn 4: invalid memory access: write of 8 bytes at ${machine.space.describe(gap)}`);
    });
  }
});

describe('Collection.run hands each program its own verdict', () => {
  it('runs an accepted program unchecked with the verifier\'s safeAccesses of it and of its tail-call targets, on both engines', () => {
    const object = parseObject(new Uint8Array(readFileSync(new URL('../examples/tail_dispatch.o', import.meta.url))), { name: 'tail_dispatch.o' });
    const packet = new Uint8Array(readFileSync(new URL('../samples/tcp-syn.bin', import.meta.url)));
    const retvals: number[] = [];
    for (const engine of ENGINES) {
      const collection = loadCollection(object);
      const seen: RunOptions[] = [];
      const recording: Engine = {
        name: engine.name,
        load: (machine, prog) => {
          const runner = engine.load(machine, prog);
          return { run: (options = {}) => { seen.push(options); return runner.run(options); } };
        },
      };
      const entry = collection.program({ name: 'xdp_dispatch' });
      retvals.push(collection.run(entry, { dataIn: packet }, recording).retval);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.checked).toBe(false);
      expect(seen[0]!.safeAccesses).toBe(collection.safeAccesses);
      expect(collection.tailCallTargets().length).toBeGreaterThan(0);
      for (const p of collection.programs) {
        const verdict = collection.verify(p);
        expect(verdict.accepted).toBe(true);
        expect(collection.safeAccesses(p.prepared)).toBe(verdict.safeAccesses);
      }
      expect(collection.verify(entry).safeAccesses.size).toBeGreaterThan(0);
    }
    expect(retvals[1]).toBe(retvals[0]);
  });
});

describe('helpers refuse program pointers into pages that lack the right', () => {
  for (const engine of ENGINES) {
    it(`${engine.name}: bpf_probe_read into the register file and bpf_map_update_elem from a write-only value`, () => {
      const machine = newMachine();
      const regs = machine.cpu(0).regfile.start + 56;
      // bpf_probe_read(dst = regs, 8, src = the stack)
      const probe = prep(machine, [lddw(1, BigInt(regs)), mov(2, 8), { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 3, src: 10, imm: 0 }, { kind: 'alu', op: 'add', wide: true, useReg: false, dst: 3, src: 0, imm: -8 }, { kind: 'call', src: 0, imm: 4 }, exit]);
      expect(() => engine.load(machine, probe).run({ checked: false })).toThrow(`insn 5: bpf_probe_read: helper argument R1 = ${machine.space.describe(regs)} is not a writable region of 8 bytes`);
      const wo = machine.maps.create({ name: 'wo', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: MapFlags.WRONLY_PROG }) as ArrayMap;
      const arr = machine.maps.create({ name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 }) as ArrayMap;
      // bpf_map_update_elem(a, key = fp - 8, value = the write-only value)
      const update = prep(machine, [
        { kind: 'st', size: 8, dst: 10, off: -8, imm: 0 },
        lddw(1, BigInt(arr.address)),
        { kind: 'alu', op: 'mov', wide: true, useReg: true, dst: 2, src: 10, imm: 0 }, { kind: 'alu', op: 'add', wide: true, useReg: false, dst: 2, src: 0, imm: -8 },
        lddw(3, BigInt(wo.valueAddress(0))), mov(4, 0), { kind: 'call', src: 0, imm: 2 }, exit,
      ]);
      expect(() => engine.load(machine, update).run({ checked: false })).toThrow(/^insn 8: bpf_map_update_elem: helper argument R3 = 0x[0-9a-f]+ \(map:wo\.values\+0\) is not a readable region of 8 bytes$/);
    });
  }
});

describe('the address space', () => {
  it('never puts two protection classes in one page and mirrors the rights table', () => {
    const machine = newMachine();
    machine.maps.create({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 64, flags: MapFlags.NO_PREALLOC });
    machine.maps.create({ name: 'ro', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: MapFlags.RDONLY_PROG });
    machine.maps.create({ name: 'big', type: MapType.ARRAY, keySize: 4, valueSize: 4096, maxEntries: 40 });
    machine.cpu(1);
    const space = machine.space;
    for (const r of space.regions) {
      const cls = space.pageClass(r.start);
      const expected = r.readable ? (r.writable ? 'rw' : 'ro') : r.writable ? 'wo' : 'internal';
      expect(`${r.name}: ${cls}`).toBe(`${r.name}: ${expected}`);
      if (r.size > 0) expect(`${r.name}: ${space.pageClass(r.start + r.size - 1)}`).toBe(`${r.name}: ${expected}`);
      // Every region starts past the unused first bytes of its page run (a straddling access lands there).
      expect(r.start % WASM_PAGE === 0 || r.start % WASM_PAGE >= PAGE_GAP).toBe(true);
    }
    for (let p = 0; p * WASM_PAGE < space.byteLength; p++) expect(space.bytes[PAGE_TABLE + p]).toBe(space.pageRights[p]);
    expect(space.pageRights[0]).toBe(0);
    expect(space.pageRights[GUARD_SIZE / WASM_PAGE]).toBe(0);
    expect(space.byteLength).toBeGreaterThanOrEqual(Math.max(...space.regions.map((r) => r.start + r.size)) + PAGE_GAP);
  });
});
