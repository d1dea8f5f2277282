/**
 * The JIT's features one by one, each checked against the interpreter:
 * tail calls (the 33 limit, fall-through, from subprograms, prog arrays and
 * custom targets), inline map lookups (array, per-CPU array, hash maps of
 * several key sizes), callbacks, budgets, may_goto, legacy packet loads,
 * division edge cases, traps in unchecked mode, batches and the WAT text.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { encodeProgram } from '../../src/isa/encode.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { lddw } from '../../src/isa/instruction.js';
import { compileToWasm, jitEngine, programToWat } from '../../src/jit/index.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import type { RunOptions } from '../../src/vm/interpreter.js';
import { HelperTable } from '../../src/vm/helper-call.js';
import { standardHelpers } from '../../src/vm/helpers/basic.js';
import { loopHelpers } from '../../src/vm/helpers/loop.js';
import { mapHelpers } from '../../src/vm/helpers/map-helpers.js';
import { Machine } from '../../src/vm/machine.js';
import { MapFlags, MapType } from '../../src/vm/maps/index.js';
import type { BpfMap } from '../../src/vm/maps/index.js';
import { prepareProgram } from '../../src/vm/prepared-program.js';
import type { PreparedProgram } from '../../src/vm/prepared-program.js';
import { both } from './harness.js';
import type { Setup } from './harness.js';

const mov = (dst: number, imm: number): Instruction => ({ kind: 'alu', op: 'mov', wide: true, useReg: false, dst, src: 0, imm });
const movr = (dst: number, src: number): Instruction => ({ kind: 'alu', op: 'mov', wide: true, useReg: true, dst, src, imm: 0 });
const add = (dst: number, imm: number): Instruction => ({ kind: 'alu', op: 'add', wide: true, useReg: false, dst, src: 0, imm });
const call = (imm: number): Instruction => ({ kind: 'call', src: 0, imm });
const exit: Instruction = { kind: 'exit' };

function newMachine(options: { shared?: boolean; possibleCpus?: number } = {}): Machine {
  return new Machine({ ...options, helpers: new HelperTable([...standardHelpers({ seed: 7 }), ...loopHelpers(), ...mapHelpers()]) });
}

function prep(machine: Machine, insns: Instruction[] | string, name = 'prog'): PreparedProgram {
  const bytes = typeof insns === 'string' ? assemble(insns).bytes : encodeProgram(insns);
  return prepareProgram(bytes, { name, helpers: machine.helpers, allowPseudo: true });
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}

function expectSame(make: () => Setup, options: RunOptions = {}): { r0?: bigint; error?: string; insns?: number } {
  const { interp, jit } = both(make, options);
  // Unchecked runs without a budget are not counted by the JIT.
  if (options.checked === false && options.budget === undefined) {
    delete interp.insns;
    delete jit.insns;
  }
  expect(jit).toEqual(interp);
  return interp;
}

describe('tail calls', () => {
  /** Programs 0..n-1: program i counts itself in a scratch array, sets r0 = i and tail-calls index i + 1. */
  function chain(n: number, options: { fromSub?: boolean; constMap?: boolean } = {}): () => Setup {
    return () => {
      const machine = newMachine();
      const jmp = machine.maps.create({ name: 'jmp', type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 64 });
      const counts = machine.space.allocate('counts', 'scratch', 8 * 64);
      const progs: PreparedProgram[] = [];
      for (let i = 0; i < n; i++) {
        const body: Instruction[] = [
          movr(6, 1),
          lddw(7, BigInt(counts.start + 8 * i)),
          mov(8, 1),
          { kind: 'atomic', op: 'add', fetch: false, size: 8, dst: 7, src: 8, off: 0 },
          mov(0, i),
          movr(1, 6),
        ];
        if (options.constMap === false) {
          // The map pointer comes from memory: the runtime resolves the call.
          body.push(lddw(9, BigInt(counts.start + 8 * 63)), { kind: 'ldx', size: 8, signed: false, dst: 2, src: 9, off: 0 });
        } else {
          body.push(lddw(2, BigInt(jmp.address)));
        }
        body.push(mov(3, i + 1));
        let insns: Instruction[];
        if (options.fromSub && i === 0) {
          insns = [{ kind: 'call', src: 1, imm: 1 }, exit, ...body, call(12), exit];
        } else {
          insns = [...body, call(12), exit];
        }
        const prog = prep(machine, insns, `p${i}`);
        progs.push(prog);
        jmp.update(u32(i), u32(machine.programs.add(prog)));
      }
      machine.space.data.setBigUint64(counts.start + 8 * 63, BigInt(jmp.address), true);
      const observe = () => Array.from({ length: n }, (_, i) => machine.space.data.getBigUint64(counts.start + 8 * i, true)).join(',');
      return { machine, prog: progs[0]!, observe };
    };
  }

  it('stops after 33 tail calls, as Linux does, and counts every program run', () => {
    const out = expectSame(chain(40));
    expect(out.r0).toBe(33n);
  });

  it('falls through with r0 unchanged when the slot is empty', () => {
    expect(expectSame(chain(5)).r0).toBe(4n);
  });

  it('tail-calls from a subprogram', () => {
    expect(expectSame(chain(40, { fromSub: true })).r0).toBe(33n);
  });

  it('resolves a prog array pointer that is not a constant', () => {
    expect(expectSame(chain(40, { constMap: false })).r0).toBe(33n);
  });

  it('shares the budget across tail calls', () => {
    const out = expectSame(chain(40), { budget: 200 });
    expect(out.error).toMatch(/instruction budget of 200 exhausted/);
  });

  it('jumps to programs that a custom tailCallTarget returns', () => {
    const make = (): Setup => {
      const machine = newMachine();
      const target = prep(machine, [mov(0, 77), add(0, 1), exit], 'target');
      machine.tailCallTarget = (map, index) => (map === 0x1234 && index === 5 ? target : undefined);
      const prog = prep(machine, [mov(0, 1), mov(2, 0x1234), mov(3, 5), call(12), mov(0, 2), exit]);
      return { machine, prog };
    };
    expect(expectSame(make).r0).toBe(78n);
    // The unchecked variant has its own table.
    expect(expectSame(make, { checked: false }).r0).toBe(78n);
  });
});

describe('inline map lookups', () => {
  /** `r0 = lookup(map, key) ? *(u64 *)value : -1`, for each key, summed. */
  function lookupProgram(map: BpfMap, keys: Uint8Array[]): Instruction[] {
    const insns: Instruction[] = [mov(9, 0)];
    for (const key of keys) {
      // Write the key on the stack, 1 byte at a time.
      key.forEach((b, i) => insns.push({ kind: 'st', size: 1, dst: 10, off: -64 + i, imm: b }));
      insns.push(lddw(1, BigInt(map.address)), movr(2, 10), add(2, -64), call(1));
      insns.push({ kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 0, src: 0, imm: 0, off: 3 });
      insns.push({ kind: 'ldx', size: 8, signed: false, dst: 0, src: 0, off: 0 });
      insns.push({ kind: 'alu', op: 'add', wide: true, useReg: true, dst: 9, src: 0, imm: 0 });
      insns.push({ kind: 'ja', off: 1 });
      insns.push(add(9, 1000));
    }
    insns.push(movr(0, 9), exit);
    return insns;
  }

  function mapSetup(type: number, keySize: number, n: number, options: { possibleCpus?: number; hashSeed?: number } = {}): () => Setup {
    return () => {
      const machine = newMachine({ possibleCpus: options.possibleCpus ?? 1 });
      const percpu = type === MapType.PERCPU_ARRAY || type === MapType.PERCPU_HASH;
      const map = machine.maps.create({ name: 'm', type, keySize, valueSize: 8, maxEntries: 64, ...(options.hashSeed !== undefined ? { hashSeed: options.hashSeed } : {}) });
      const keys: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const key = type === MapType.ARRAY || type === MapType.PERCPU_ARRAY ? u32(i * 3) : Uint8Array.from({ length: keySize }, (_, j) => (i * 31 + j * 7) & 0xff);
        keys.push(key);
        if (i % 2 === 0 && (i * 3 < 64 || keySize !== 4 || (type !== MapType.ARRAY && type !== MapType.PERCPU_ARRAY))) {
          const value = u64(BigInt(i * 10 + 1));
          const cpus = percpu ? machine.possibleCpus : 1;
          const v = new Uint8Array(8 * cpus);
          for (let c = 0; c < cpus; c++) v.set(u64(BigInt(i * 10 + 1 + c * 100)), 8 * c);
          map.update(key, percpu ? v : value);
        }
      }
      keys.push(u32(1000).subarray(0, Math.min(4, keySize)).length === keySize ? u32(1000) : new Uint8Array(keySize).fill(0xee));
      return { machine, prog: prep(machine, lookupProgram(map, keys)) };
    };
  }

  const cases: [string, number, number][] = [
    ['array', MapType.ARRAY, 4],
    ['hash, 4-byte keys', MapType.HASH, 4],
    ['hash, 6-byte keys (byte-wise jhash)', MapType.HASH, 6],
    ['hash, 8-byte keys', MapType.HASH, 8],
    ['hash, 13-byte keys', MapType.HASH, 13],
    ['hash, 16-byte keys', MapType.HASH, 16],
    ['hash, 20-byte keys', MapType.HASH, 20],
    ['hash, 40-byte keys', MapType.HASH, 40],
  ];
  for (const [name, type, keySize] of cases) {
    it(`${name}: same results as the helper, without calling it`, () => {
      const make = mapSetup(type, keySize, 12, { hashSeed: 0x1234567 });
      expectSame(make);
      expectSame(make, { checked: false });
      const s = make();
      expect(jitEngine.load(s.machine, s.prog).compile().stats.inlineLookups).toBe(13);
    });
  }

  it('per-CPU array and hash maps: each CPU sees its own slot, a CPU without one faults like the helper', () => {
    for (const type of [MapType.PERCPU_ARRAY, MapType.PERCPU_HASH]) {
      const make = mapSetup(type, 4, 8, { possibleCpus: 2 });
      expectSame(make, { cpu: 0 });
      expectSame(make, { cpu: 1 });
      expect(expectSame(make, { cpu: 2 }).error).toMatch(/CPU 2 has no slot/);
    }
  });

  it('a bad key pointer gets the helper\'s own error', () => {
    const make = (): Setup => {
      const machine = newMachine();
      const map = machine.maps.create({ name: 'h', type: MapType.HASH, keySize: 8, valueSize: 8, maxEntries: 4 });
      return { machine, prog: prep(machine, [lddw(1, BigInt(map.address)), mov(2, 16), call(1), exit]) };
    };
    expect(expectSame(make).error).toBe('insn 3: bpf_map_lookup_elem: helper argument R2 = 0x10 (NULL guard page) is not a readable region of 8 bytes');
  });

  it('updates through the helper are seen by the inline lookup, and values are updated in place', () => {
    const make = (): Setup => {
      const machine = newMachine();
      const map = machine.maps.create({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8, hashSeed: 0 });
      const insns: Instruction[] = [
        { kind: 'st', size: 4, dst: 10, off: -4, imm: 42 },
        { kind: 'st', size: 8, dst: 10, off: -16, imm: 5 },
        lddw(1, BigInt(map.address)), movr(2, 10), add(2, -4), movr(3, 10), add(3, -16), mov(4, 0), call(2),
        lddw(1, BigInt(map.address)), movr(2, 10), add(2, -4), call(1),
        { kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 0, src: 0, imm: 0, off: 3 },
        mov(1, 3),
        { kind: 'atomic', op: 'add', fetch: false, size: 8, dst: 0, src: 1, off: 0 },
        { kind: 'ldx', size: 8, signed: false, dst: 0, src: 0, off: 0 },
        exit,
      ];
      return { machine, prog: prep(machine, insns), observe: () => Array.from(map.entries(), (e) => `${e.key}:${e.value}`).join(';') };
    };
    expect(expectSame(make).r0).toBe(8n);
    expect(expectSame(make, { checked: false }).r0).toBe(8n);
  });
});

describe('regions added during a run', () => {
  it('a BPF_F_NO_PREALLOC hash map growing (new regions, a bigger memory) while the program runs', () => {
    const make = (): Setup => {
      const machine = newMachine();
      const map = machine.maps.create({ name: 'grow', type: MapType.HASH, keySize: 4, valueSize: 256, maxEntries: 4096, flags: MapFlags.NO_PREALLOC, hashSeed: 1 });
      // for (i = 0; i < 2000; i++) { update(i, value); p = lookup(i); p[248] += i; sum += p[248] }
      const insns: Instruction[] = [
        mov(6, 0), mov(9, 0),
        { kind: 'stx', size: 4, dst: 10, src: 6, off: -4 },
        lddw(1, BigInt(map.address)), movr(2, 10), add(2, -4), movr(3, 10), add(3, -300), mov(4, 0), call(2),
        lddw(1, BigInt(map.address)), movr(2, 10), add(2, -4), call(1),
        { kind: 'jmp', op: 'jeq', wide: true, useReg: false, dst: 0, src: 0, imm: 0, off: 4 },
        { kind: 'atomic', op: 'add', fetch: false, size: 8, dst: 0, src: 6, off: 248 },
        { kind: 'ldx', size: 8, signed: false, dst: 7, src: 0, off: 248 },
        { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 9, src: 7, imm: 0 },
        add(6, 1),
        { kind: 'jmp', op: 'jlt', wide: true, useReg: false, dst: 6, src: 0, imm: 2000, off: -20 },
        movr(0, 9), exit,
      ];
      return { machine, prog: prep(machine, insns), observe: () => `${machine.space.regions.length} regions, ${machine.space.byteLength} bytes` };
    };
    const out = expectSame(make);
    // Each value starts as the (zeroed) stack bytes the update copies, so p[248] ends as i.
    const sum = BigInt((1999 * 2000) / 2);
    expect(out.r0).toBe(sum);
    expect(expectSame(make, { checked: false }).r0).toBe(sum);
  });
});

describe('callbacks, budgets and may_goto', () => {
  it('bpf_for_each_map_elem runs the callback in the JIT', () => {
    const make = (): Setup => {
      const machine = newMachine();
      const map = machine.maps.create({ name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 5 });
      for (let i = 0; i < 5; i++) map.update(u32(i), u64(BigInt(i * i)));
      const insns: Instruction[] = [
        { kind: 'st', size: 8, dst: 10, off: -8, imm: 0 },
        lddw(1, BigInt(map.address)),
        { kind: 'lddw', dst: 2, pseudo: 4, imm: 7, imm2: 0 },
        movr(3, 10), add(3, -8), mov(4, 0), call(164),
        { kind: 'ldx', size: 8, signed: false, dst: 0, src: 10, off: -8 },
        exit,
        // callback(map, key, value, ctx): *ctx += *value; return 0
        { kind: 'ldx', size: 8, signed: false, dst: 5, src: 3, off: 0 },
        { kind: 'ldx', size: 8, signed: false, dst: 6, src: 4, off: 0 },
        { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 6, src: 5, imm: 0 },
        { kind: 'stx', size: 8, dst: 4, src: 6, off: 0 },
        mov(0, 0),
        exit,
      ];
      return { machine, prog: prep(machine, insns) };
    };
    expect(expectSame(make).r0).toBe(30n);
  });

  it('reports the same instruction when the budget runs out, at every budget', () => {
    const src = 'r0 = 0\nr1 = 0\nloop:\nr0 += r1\n*(u64 *)(r10 - 8) = r0\nr1 += 1\nif r1 < 7 goto loop\nexit\n';
    for (let budget = 0; budget < 40; budget++) {
      const make = (): Setup => {
        const machine = newMachine();
        return { machine, prog: prep(machine, src), observe: () => String(machine.space.data.getBigUint64(machine.cpu(0).stack.start + 4096 - 8, true)) };
      };
      expectSame(make, { budget });
    }
  });

  it('may_goto jumps once 8,388,608 iterations are spent', () => {
    const make = (): Setup => {
      const machine = newMachine();
      const insns: Instruction[] = [mov(0, 0), { kind: 'may_goto', off: 2 }, add(0, 1), { kind: 'ja', off: -3 }, exit];
      return { machine, prog: prep(machine, insns) };
    };
    const out = expectSame(make, { budget: 30_000_000 });
    expect(out.r0).toBe(8_388_608n);
  });

  it('a runaway recursion stops at 8 frames, a runaway loop at the budget', () => {
    const rec = (): Setup => {
      const machine = newMachine();
      return { machine, prog: prep(machine, [{ kind: 'call', src: 1, imm: -1 }, exit]) };
    };
    expect(expectSame(rec).error).toBe('insn 0: the call stack is too deep: more than 8 frames');
    const loop = (): Setup => {
      const machine = newMachine();
      return { machine, prog: prep(machine, [mov(0, 0), add(0, 1), { kind: 'ja', off: -2 }, exit]) };
    };
    expect(expectSame(loop).error).toBe('insn 2: instruction budget of 10000000 exhausted (the program may not terminate; raise it with --budget)');
  });
});

describe('arithmetic edge cases', () => {
  it('division and modulo by zero and INT_MIN / -1, at both widths, with registers and immediates', () => {
    const values = [0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, 0x80000000n, 0xffffffff80000000n, 0xffffffffn, 7n, 0x7fffffffffffffffn];
    const ops = ['div', 'sdiv', 'mod', 'smod'] as const;
    for (const a of values) {
      for (const b of values) {
        const insns: Instruction[] = [mov(9, 0)];
        for (const op of ops) {
          for (const wide of [true, false]) {
            insns.push(lddw(1, a), lddw(2, b), { kind: 'alu', op, wide, useReg: true, dst: 1, src: 2, imm: 0 });
            insns.push({ kind: 'alu', op: 'xor', wide: true, useReg: true, dst: 9, src: 1, imm: 0 }, { kind: 'alu', op: 'lsh', wide: true, useReg: false, dst: 9, src: 0, imm: 3 });
            const imm = Number(BigInt.asIntN(32, b));
            insns.push(lddw(1, a), { kind: 'alu', op, wide, useReg: false, dst: 1, src: 0, imm });
            insns.push({ kind: 'alu', op: 'xor', wide: true, useReg: true, dst: 9, src: 1, imm: 0 }, { kind: 'alu', op: 'rsh', wide: true, useReg: false, dst: 9, src: 0, imm: 1 });
          }
        }
        insns.push(movr(0, 9), exit);
        expectSame(() => {
          const machine = newMachine();
          return { machine, prog: prep(machine, insns) };
        });
      }
    }
  });
});

describe('legacy packet loads', () => {
  function skb(subprogram: boolean, offsets: number[]): () => Setup {
    return () => {
      const machine = newMachine();
      const ctx = machine.space.allocate('ctx', 'ctx', 192);
      const pkt = machine.space.allocate('pkt', 'packet', 64);
      machine.space.bytes.set(Uint8Array.from({ length: 64 }, (_, i) => i * 5 + 1), pkt.start);
      machine.space.data.setUint32(ctx.start + 76, pkt.start, true);
      machine.space.data.setUint32(ctx.start + 80, pkt.start + 64, true);
      const body: Instruction[] = [movr(6, 1), mov(9, 0)];
      for (const off of offsets) {
        body.push({ kind: 'ldabs', size: 4, imm: off }, { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 9, src: 0, imm: 0 });
        body.push(mov(7, off + 1), { kind: 'ldind', size: 2, src: 7, imm: 1 }, { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 9, src: 0, imm: 0 });
        body.push({ kind: 'ldabs', size: 1, imm: off + 3 }, { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 9, src: 0, imm: 0 });
      }
      body.push(movr(0, 9), exit);
      const insns = subprogram ? [movr(6, 1), { kind: 'call', src: 1, imm: 2 } as Instruction, add(0, 1), exit, ...body] : body;
      return { machine, prog: prep(machine, insns), observe: () => '', args: [ctx.start] };
    };
  }

  it('reads big-endian packet data, and ends the run with r0 = 0 outside the packet', () => {
    expect(expectSame(skb(false, [0, 10, 59])).r0).not.toBe(0n);
    expect(expectSame(skb(false, [0, 61])).r0).toBe(0n);
    expect(expectSame(skb(false, [-1])).r0).toBe(0n);
  });

  it('ends the whole run from a subprogram too', () => {
    expect(expectSame(skb(true, [0, 10])).r0).not.toBe(0n);
    expect(expectSame(skb(true, [0, 70])).r0).toBe(0n);
    expect(expectSame(skb(true, [0, 70]), { checked: false }).r0).toBe(0n);
  });
});

describe('unchecked mode', () => {
  it('guards every access: one outside the memory faults like checked mode, naming the instruction', () => {
    const machine = newMachine();
    const prog = prep(machine, [mov(0, 0), lddw(1, 0x7ffffff0n), { kind: 'ldx', size: 8, signed: false, dst: 0, src: 1, off: 8 }, exit]);
    const message = 'insn 3: invalid memory access: read of 8 bytes at 0x7ffffff8 (unmapped)';
    expect(() => jitEngine.load(machine, prog).run({ checked: false })).toThrow(message);
    expect(() => interpreterEngine.load(machine, prog).run({ checked: false })).toThrow(message);
  });

  it('does not count instructions unless given a budget', () => {
    const machine = newMachine();
    const prog = prep(machine, [mov(0, 1), exit]);
    const runner = jitEngine.load(machine, prog);
    expect(runner.run({ checked: false })).toEqual({ r0: 1n, insns: -1 });
    expect(runner.run({ checked: false, budget: 100 })).toEqual({ r0: 1n, insns: 2 });
    expect(() => runner.run({ checked: false, budget: 1 })).toThrow('insn 1: instruction budget of 1 exhausted');
  });
});

describe('batches', () => {
  const parse = `
    r2 = *(u32 *)(r1 + 0)
    r3 = *(u32 *)(r1 + 4)
    r4 = r2
    r4 += 14
    if r4 > r3 goto short
    r0 = *(u16 *)(r2 + 12)
    r0 = be16 r0
    exit
short:
    r0 = 1
    exit
`;

  function contexts(machine: Machine, n: number): Uint32Array {
    const addrs = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const len = 10 + (i % 20);
      const pkt = machine.space.allocate(`pkt${i}`, 'packet', len);
      machine.space.bytes.set(Uint8Array.from({ length: len }, (_, j) => (i * 13 + j) & 0xff), pkt.start);
      const ctx = machine.space.allocate(`ctx${i}`, 'ctx', 24);
      machine.space.data.setUint32(ctx.start, pkt.start, true);
      machine.space.data.setUint32(ctx.start + 4, pkt.start + len, true);
      addrs[i] = ctx.start;
    }
    return addrs;
  }

  it('gives each context the r0 of a single run, checked and unchecked', () => {
    const machine = newMachine();
    const prog = prep(machine, parse);
    const ctxs = contexts(machine, 300);
    const expected = BigUint64Array.from(ctxs, (c) => interpreterEngine.load(machine, prog).run({ args: [c] }).r0);
    const runner = jitEngine.load(machine, prog);
    expect(runner.runBatch(ctxs)).toEqual(expected);
    expect(runner.runBatch(ctxs, { checked: false })).toEqual(expected);
    expect(interpreterEngine.load(machine, prog).runBatch?.(ctxs)).toEqual(expected);
    expect(runner.runBatch(new Uint32Array(0))).toEqual(new BigUint64Array(0));
  });

  it('stops at the first fault with the run\'s error', () => {
    const machine = newMachine();
    const prog = prep(machine, parse);
    const ctxs = contexts(machine, 10);
    ctxs[4] = 0x100;
    expect(() => jitEngine.load(machine, prog).runBatch(ctxs)).toThrow('insn 0: invalid memory access: read of 4 bytes at 0x100 (NULL guard page)');
  });
});

describe('the generated module', () => {
  it('can be compiled and instantiated asynchronously before the first run', async () => {
    const machine = newMachine();
    const prog = prep(machine, [mov(0, 5), add(0, 6), exit]);
    const runner = jitEngine.load(machine, prog);
    await runner.prepare({ checked: false });
    await runner.prepare();
    expect(runner.run({ checked: false }).r0).toBe(11n);
    expect(runner.run()).toEqual({ r0: 11n, insns: 3 });
  });

  it('is valid WebAssembly in every variant and prints as WAT', () => {
    const machine = newMachine({ shared: true });
    const prog = prep(machine, 'r0 = 1\nlock *(u64 *)(r10 - 8) += r0\nr0 = be64 r0\nexit\n');
    for (const checked of [true, false]) {
      for (const role of ['entry', 'tail'] as const) {
        const c = compileToWasm(prog, { checked, role, machine });
        expect(WebAssembly.validate(c.bytes as Uint8Array<ArrayBuffer>)).toBe(true);
      }
    }
    const wat = programToWat(prog, { machine });
    expect(wat).toContain('(import "env" "memory" (memory 1 65536 shared))');
    expect(wat).toContain('i64.atomic.rmw.add');
    expect(wat).toContain('i8x16.shuffle 7 6 5 4 3 2 1 0');
  });
});
