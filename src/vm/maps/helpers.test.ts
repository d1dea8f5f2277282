import { describe, expect, it } from 'vitest';
import { VmError } from '../../errors.js';
import type { Instruction } from '../../isa/instruction.js';
import { mapHelpers } from '../helpers/map-helpers.js';
import type { HelperCall } from '../helper-call.js';
import { ArrayMap } from './array.js';
import { HashMap } from './hash.js';
import { MapType } from './types.js';
import { add, call, exit, ldmap, ldx, lddw, mapMachine, mov, movr, run, signed, st, stx, u32, u64 } from '../../../test/support/map-programs.js';
import type { Machine } from '../machine.js';

const helper = (id: number) => mapHelpers().find((h) => h.id === id)!;

/** Sets r1..r5 of CPU `cpu`'s register file. */
function setArgs(m: Machine, args: (number | bigint)[], cpu = 0): HelperCall {
  const c = m.cpu(cpu).call;
  args.forEach((a, i) => m.space.data.setBigUint64(c.regs + 8 * (i + 1), BigInt.asUintN(64, BigInt(a)), true));
  return c;
}

const r0 = (c: HelperCall) => BigInt.asIntN(64, c.space.data.getBigUint64(c.regs, true));

describe('map helpers', () => {
  it('have Linux ids and names', () => {
    expect(mapHelpers().map((h) => `${h.id}:${h.name}`)).toEqual([
      '1:bpf_map_lookup_elem', '2:bpf_map_update_elem', '3:bpf_map_delete_elem', '25:bpf_perf_event_output', '37:bpf_current_task_under_cgroup',
      '87:bpf_map_push_elem', '88:bpf_map_pop_elem', '89:bpf_map_peek_elem', '130:bpf_ringbuf_output',
      '131:bpf_ringbuf_reserve', '132:bpf_ringbuf_submit', '133:bpf_ringbuf_discard', '134:bpf_ringbuf_query',
      '164:bpf_for_each_map_elem', '195:bpf_map_lookup_percpu_elem',
    ]);
  });

  it('a bad map pointer is a VmError naming the helper and the address', () => {
    const m = mapMachine();
    const map = m.maps.create({ name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const prog = (ptr: bigint) => [st(4, 10, -4, 0), movr(2, 10), add(2, -4), lddw(1, ptr), call(1), exit];
    expect(() => run(m, prog(0x1234n))).toThrow(new VmError('bpf_map_lookup_elem: R1 = 0x1234 (NULL guard page) is not a map pointer', { insn: 5 }));
    expect(() => run(m, prog(BigInt(map.address + 4)))).toThrow(/insn 5: bpf_map_lookup_elem: R1 = 0x[0-9a-f]+ \(map:a\+4\) is not a map pointer/);
    expect(() => run(m, prog(1n << 40n))).toThrow(/bpf_map_lookup_elem: R1 = .* is not a map pointer/);
    // a key pointer outside every region
    const badKey = [mov(2, 16), ldmap(1, map), call(1), exit];
    expect(() => run(m, badKey)).toThrow(/insn 3: bpf_map_lookup_elem: helper argument R2 = 0x10 .* is not a readable region of 4 bytes/);
  });

  it('bpf_for_each_map_elem calls the callback per element through HelperCall.invoke (fake engine)', () => {
    const m = mapMachine();
    const map = m.maps.create({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8, hashSeed: 1 }) as HashMap;
    for (const k of [1, 2, 3, 4]) map.update(u32(k), u64(k * 10));
    const seen: bigint[] = [];
    const c = setArgs(m, [map.address, 0x4000_0007n, 0xabcn, 0]);
    c.invoke = (target, args) => {
      expect(target).toBe(0x4000_0007n);
      expect(args[0]).toBe(BigInt(map.address));
      expect(args[3]).toBe(0xabcn);
      const key = m.space.data.getUint32(Number(args[1]), true);
      const value = m.space.data.getBigUint64(Number(args[2]), true);
      expect(value).toBe(BigInt(key * 10));
      seen.push(BigInt(key));
      if (key === 2) map.delete(u32(2)); // the callback may delete the element it is given
      return 0n;
    };
    helper(164).fn(c);
    expect(r0(c)).toBe(4n);
    expect(seen.sort()).toEqual([1n, 2n, 3n, 4n]);
    expect(map.lookup(u32(2))).toBeUndefined();
    // a non-zero callback result stops; the count includes that element
    c.invoke = () => 1n;
    setArgs(m, [map.address, 0x4000_0007n, 0, 0]);
    helper(164).fn(c);
    expect(r0(c)).toBe(1n);
    // flags must be 0
    setArgs(m, [map.address, 0x4000_0007n, 0, 1]);
    helper(164).fn(c);
    expect(r0(c)).toBe(-22n);
  });

  it('bpf_for_each_map_elem gives arrays a readable u32 key and per-CPU maps the caller\'s slot', () => {
    const m = mapMachine({ possibleCpus: 2 });
    const map = m.maps.create({ name: 'p', type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 3 }) as ArrayMap;
    const both = new Uint8Array(16);
    both.set(u64(5), 0);
    both.set(u64(6), 8);
    map.update(u32(2), both);
    const got: [number, bigint][] = [];
    const c = setArgs(m, [map.address, 0x4000_0001n, 0, 0], 1);
    c.invoke = (_t, args) => {
      expect(m.space.regionAt(Number(args[1]), 4)?.readable).toBe(true);
      got.push([m.space.data.getUint32(Number(args[1]), true), m.space.data.getBigUint64(Number(args[2]), true)]);
      return 0n;
    };
    helper(164).fn(c);
    expect(r0(c)).toBe(3n);
    expect(got).toEqual([[0, 0n], [1, 0n], [2, 6n]]);
  });

  it('bpf_for_each_map_elem runs a real BPF callback in the interpreter', () => {
    const m = mapMachine();
    const map = m.maps.create({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 }) as HashMap;
    for (const k of [1, 2, 3]) map.update(u32(k), u64(k * 100));
    // main: sum = 0; n = for_each(map, cb, &sum, 0); return sum + n
    const main: Instruction[] = [
      st(8, 10, -8, 0),
      ldmap(1, map),
      { kind: 'lddw', dst: 2, pseudo: 4, imm: 8, imm2: 0 }, // BPF_PSEUDO_FUNC: the callback at slot 3 + 1 + 8
      movr(3, 10), add(3, -8), mov(4, 0), call(164),
      ldx(8, 1, 10, -8), { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 0, src: 1, imm: 0 }, exit,
    ];
    // slots: st 0, lddw 1-2, lddw 3-4, movr 5, add 6, mov 7, call 8, ldx 9, add 10, exit 11; callback at 12 = 3 + 8 + 1
    const callback: Instruction[] = [
      ldx(8, 5, 3, 0), ldx(8, 6, 4, 0), { kind: 'alu', op: 'add', wide: true, useReg: true, dst: 6, src: 5, imm: 0 }, stx(8, 4, 0, 6),
      mov(0, 0), exit,
    ];
    expect(run(m, [...main, ...callback])).toBe(603n);
  });

  it('refuses calls the verifier would refuse, naming the helper', () => {
    const m = mapMachine();
    const arr = m.maps.create({ name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const push = [st(8, 10, -8, 1), movr(2, 10), add(2, -8), mov(3, 0), ldmap(1, arr), call(87), exit];
    expect(() => run(m, push)).toThrow(/insn 6: bpf_map_push_elem: cannot pass map_type 2 into func bpf_map_push_elem#87/);
    const out = [st(8, 10, -8, 1), ldmap(1, arr), movr(2, 10), add(2, -8), mov(3, 8), mov(4, 0), call(130), exit];
    expect(() => run(m, out)).toThrow(/bpf_ringbuf_output: cannot pass map_type 2 into func bpf_ringbuf_output#130/);
    const perf = [mov(1, 0), ldmap(2, arr), mov(3, 0), movr(4, 10), add(4, -8), mov(5, 8), call(25), exit];
    expect(() => run(m, perf)).toThrow(/bpf_perf_event_output: cannot pass map_type 2/);
    const hash = m.maps.create({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 1 });
    const percpu = [st(4, 10, -4, 0), movr(2, 10), add(2, -4), mov(3, 0), ldmap(1, hash), call(195), exit];
    expect(() => run(m, percpu)).toThrow(/cannot pass map_type 1 into func bpf_map_lookup_percpu_elem#195/);
    const lpm = m.maps.create({ name: 'l', type: MapType.LPM_TRIE, keySize: 8, valueSize: 8, maxEntries: 1, flags: 1 });
    const each = [ldmap(1, lpm), mov(2, 0), mov(3, 0), mov(4, 0), call(164), exit];
    expect(() => run(m, each)).toThrow(/cannot pass map_type 11 into func bpf_for_each_map_elem#164/);
    expect(signed(run(m, [st(4, 10, -4, 0), movr(2, 10), add(2, -4), ldmap(1, hash), call(1), exit]))).toBe(0);
  });
});
