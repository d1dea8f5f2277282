/**
 * Maps against the Linux kernel (the kernel oracle, src/node/kernel-oracle): the same
 * map specs, user-space updates and programs run in the kernel
 * (BPF_PROG_TEST_RUN) and in tsbpf must give the same creation errors,
 * helper results (written into a `results` array map) and map dumps.
 * Hash maps and bloom filters use BPF_F_ZERO_SEED, so even the iteration
 * order and the false positives must be the kernel's. Skipped, with the
 * reason printed, where the kernel cannot load BPF.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ask, kernelAvailable, toHex } from '../../../test/support/kernel-oracle.js';
import type { OracleReply, OracleRequest } from '../../../test/support/kernel-oracle.js';
import { encodeProgram } from '../../isa/encode.js';
import type { Instruction } from '../../isa/instruction.js';
import type { Machine } from '../machine.js';
import type { BpfMap } from './bpf-map.js';
import { mapTypeName } from './bpf-map.js';
import { QueueStackMap } from './queue.js';
import { RingBufMap } from './ringbuf.js';
import { lpmKey } from './lpm.js';
import { MapError, MapFlags, MapType } from './types.js';
import type { MapSpec } from './types.js';
import { CREATE_CASES } from '../../../test/support/map-specs.js';
import { add, call, exit, hex, jmp, lddw, ldx, mapMachine, mov, movr, run, st, stx, u32, u64 } from '../../../test/support/map-programs.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping map tests against the kernel: ${kernel.reason}`);

/** The kernel's possible CPUs (per-CPU value slots). */
function possibleCpus(): number {
  try {
    const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    return Math.max(...text.split(',').map((r) => Number(r.split('-').at(-1)))) + 1;
  } catch {
    return 1;
  }
}
const CPUS = possibleCpus();

/** A map of a scenario; `inner` indexes an earlier map used as the inner map template. */
interface ScenarioMap {
  spec: MapSpec;
  inner?: number;
  dump?: boolean;
}

/** A user-space update before the run (`valueMap`: the id of map N, for maps of maps). */
interface Init {
  map: number;
  key?: Uint8Array;
  value?: Uint8Array;
  valueMap?: number;
  flags?: number;
}

/** `rN = map #i` (kernel: BPF_PSEUDO_MAP_FD patched by the oracle; tsbpf: the map's address). */
type MapRef = (dst: number, index: number) => Instruction;

interface Scenario {
  name: string;
  maps: ScenarioMap[];
  init?: Init[];
  program: (ref: MapRef) => Instruction[];
}

/** A dumped map as the oracle reports it. */
interface Dump {
  entries?: { key?: string; value: string; values?: string[] }[];
  records?: string[];
  error?: string;
}

function oracleMap(m: ScenarioMap): Record<string, unknown> {
  return {
    type: m.spec.type, key_size: m.spec.keySize, value_size: m.spec.valueSize, max_entries: m.spec.maxEntries,
    flags: m.spec.flags ?? 0, map_extra: Number(m.spec.mapExtra ?? 0n), name: m.spec.name,
    ...(m.inner !== undefined ? { inner_map: m.inner } : {}), dump: m.dump ?? true,
  };
}

function kernelRequest(s: Scenario): OracleRequest {
  const ref: MapRef = (dst, index) => ({ kind: 'lddw', dst, pseudo: 1, imm: index, imm2: 0 });
  return {
    cmd: 'run', prog_type: 'xdp', data_in: '00'.repeat(64), repeat: 1, log_level: 0,
    insns: toHex(encodeProgram(s.program(ref))),
    maps: s.maps.map(oracleMap),
    map_init: (s.init ?? []).map((i) => ({
      map: i.map, flags: i.flags ?? 0,
      ...(i.key !== undefined ? { key: toHex(i.key) } : {}),
      ...(i.valueMap !== undefined ? { value_map: i.valueMap } : { value: toHex(i.value!) }),
    })),
  };
}

/** Dumps a tsbpf map the way the oracle dumps a kernel map. */
function dumpMap(map: BpfMap): Dump {
  if (map instanceof RingBufMap) return { records: map.records().map(hex) };
  if (map instanceof QueueStackMap) {
    const entries: { value: string }[] = [];
    for (let v = map.lookupAndDelete(null); v !== undefined; v = map.lookupAndDelete(null)) entries.push({ value: hex(v) });
    return { entries };
  }
  const entries: { key: string; value: string; values?: string[] }[] = [];
  for (let k = map.nextKey(null); k !== undefined; k = map.nextKey(k)) {
    const v = map.lookup(k);
    if (v === undefined) continue;
    if (map.percpu) {
      const values = Array.from({ length: map.cpus }, (_, c) => hex(v.subarray(c * map.stride, c * map.stride + map.valueSize)));
      entries.push({ key: hex(k), value: values[0]!, values });
    } else {
      entries.push({ key: hex(k), value: hex(v) });
    }
  }
  return { entries };
}

/** Runs a scenario in tsbpf; returns the dumps of the maps to dump. */
function runTsbpf(s: Scenario): { machine: Machine; maps: BpfMap[]; dumps: Dump[] } {
  const machine = mapMachine({ possibleCpus: CPUS });
  const maps: BpfMap[] = [];
  for (const m of s.maps) {
    const spec = m.inner !== undefined ? { ...m.spec, innerMap: maps[m.inner]!.spec } : m.spec;
    maps.push(machine.maps.create(spec));
  }
  for (const i of s.init ?? []) {
    const value = i.valueMap !== undefined ? u32(maps[i.valueMap]!.id) : i.value!;
    maps[i.map]!.update(i.key ?? null, value, i.flags ?? 0);
  }
  const ref: MapRef = (dst, index) => lddw(dst, BigInt(maps[index]!.address));
  run(machine, s.program(ref));
  const dumps = s.maps.map((m, i) => ((m.dump ?? true) ? dumpMap(maps[i]!) : null)).filter((d): d is Dump => d !== null);
  return { machine, maps, dumps };
}

/** A map type this kernel does not let us create (EPERM: a capability or sysctl missing), not a disagreement. */
function refusedHere(reply: OracleReply): boolean {
  return !reply.ok && reply['stage'] === 'map_create' && reply['errno_name'] === 'EPERM';
}

/** Compares every scenario with the kernel, in one batch. */
function compare(scenarios: Scenario[]): void {
  const replies = ask(scenarios.map(kernelRequest));
  scenarios.forEach((s, n) => {
    const reply: OracleReply = replies[n]!;
    if (refusedHere(reply)) {
      console.log(`${s.name}: skipped: the kernel refuses this map here: ${reply.error}`);
      return;
    }
    expect(reply.ok, `${s.name}: the kernel refused the scenario: ${reply.error}\n${reply.log ?? ''}`).toBe(true);
    const ours = runTsbpf(s).dumps;
    const theirs = (reply.maps as (Dump & { map: number })[]).map(({ entries, records, error }) => ({ ...(entries ? { entries } : {}), ...(records ? { records } : {}), ...(error ? { error } : {}) }));
    expect(theirs.length).toBe(ours.length);
    ours.forEach((d, i) => {
      const t = theirs[i]!;
      expect({ scenario: s.name, map: i, ...d }).toEqual({ scenario: s.name, map: i, ...t });
    });
  });
}

// ---- program pieces ------------------------------------------------------------------

/** results[slot] = r0 (map #resultsIndex is an array of u64). Clobbers r1-r5. */
const saveR0 = (ref: MapRef, resultsIndex: number, slot: number): Instruction[] => [
  stx(8, 10, -24, 0), st(4, 10, -28, slot),
  ref(1, resultsIndex), movr(2, 10), add(2, -28), movr(3, 10), add(3, -24), mov(4, 0), call(2),
];

const ja = (off: number): Instruction => ({ kind: 'ja', off });

/** r0 = value at r0 plus 1 (written back in place), or -1 when r0 is NULL. */
const bumpOrMinusOne: Instruction[] = [
  jmp('jne', 0, 0, 2), mov(0, -1), ja(4),
  ldx(8, 1, 0, 0), add(1, 1), stx(8, 0, 0, 1), movr(0, 1),
];

const results = (n: number): ScenarioMap => ({ spec: { name: 'results', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: Math.max(1, n) } });

// ---- scenarios -------------------------------------------------------------------------

type ElemOp = { map: 0 | 2; op: 'update' | 'lookup' | 'delete'; key: number; value: number; flags: number };

const elemOpArb: fc.Arbitrary<ElemOp> = fc.record({
  map: fc.constantFrom(0 as const, 0 as const, 2 as const),
  op: fc.constantFrom('update' as const, 'update' as const, 'lookup' as const, 'delete' as const),
  key: fc.integer({ min: 0, max: 9 }),
  value: fc.integer({ min: 0, max: 1000 }),
  flags: fc.constantFrom(0, 0, 0, 1, 2, 3, 4, 5),
});

function elemScenario(name: string, ops: ElemOp[], hashFlags: number, hashType: number = MapType.HASH): Scenario {
  return {
    name,
    maps: [
      { spec: { name: 'hash', type: hashType, keySize: 4, valueSize: 8, maxEntries: 6, flags: hashFlags } },
      results(ops.length),
      { spec: { name: 'array', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 } },
    ],
    program: (ref) => [
      ...ops.flatMap((o, i) => {
        const head = [st(4, 10, -4, o.key), st(8, 10, -16, o.value), ref(1, o.map), movr(2, 10), add(2, -4)];
        const body = o.op === 'update' ? [movr(3, 10), add(3, -16), mov(4, o.flags), call(2)]
          : o.op === 'delete' ? [call(3)]
            : [call(1), ...bumpOrMinusOne];
        return [...head, ...body, ...saveR0(ref, 1, i)];
      }),
      mov(0, 2), exit,
    ],
  };
}

describe.skipIf(!kernel.ok)('maps against the Linux kernel', () => {
  it('creation checks give the kernel\'s errno for every case', () => {
    const requests: OracleRequest[] = CREATE_CASES.map((c) => {
      const maps: ScenarioMap[] = c.spec.innerMap
        ? (c.spec.innerMap.innerMap
          ? [{ spec: c.spec.innerMap.innerMap }, { spec: c.spec.innerMap, inner: 0 }, { spec: c.spec, inner: 1 }]
          : [{ spec: c.spec.innerMap }, { spec: c.spec, inner: 0 }])
        : [{ spec: c.spec }];
      return { cmd: 'verify', prog_type: 'xdp', insns: 'b7000000000000009500000000000000', log_level: 0, maps: maps.map(oracleMap) };
    });
    const replies = ask(requests);
    const what = (c: (typeof CREATE_CASES)[number]) => `${mapTypeName(c.spec.type)} key ${c.spec.keySize} value ${c.spec.valueSize} max ${c.spec.maxEntries} flags 0x${(c.spec.flags ?? 0).toString(16)}`;
    const kept = CREATE_CASES.map((c, i) => [c, replies[i]!] as const).filter(([c, r]) => {
      if (refusedHere(r) && c.linux !== 'EPERM') console.log(`${what(c)}: skipped: the kernel refuses this map here: ${r.error}`);
      return !refusedHere(r) || c.linux === 'EPERM';
    });
    const got = kept.map(([c, r]) => `${what(c)}: ${r.ok ? 'ok' : r['stage'] === 'map_create' ? String(r['errno_name']) : `failed: ${r.error}`}`);
    const want = kept.map(([c]) => `${what(c)}: ${c.linux}`);
    expect(got).toEqual(want);
  });

  it('user-space update errors are the kernel\'s', () => {
    const arr: ScenarioMap = { spec: { name: 'a', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 } };
    const hash: ScenarioMap = { spec: { name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 2 } };
    const queue: ScenarioMap = { spec: { name: 'q', type: MapType.QUEUE, keySize: 0, valueSize: 8, maxEntries: 2 } };
    const lpm: ScenarioMap = { spec: { name: 'l', type: MapType.LPM_TRIE, keySize: 8, valueSize: 8, maxEntries: 1, flags: MapFlags.NO_PREALLOC } };
    const devmap: ScenarioMap = { spec: { name: 'd', type: MapType.DEVMAP, keySize: 4, valueSize: 8, maxEntries: 2 } };
    const devhash: ScenarioMap = { spec: { name: 'dh', type: MapType.DEVMAP_HASH, keySize: 4, valueSize: 4, maxEntries: 2 } };
    const cpumap: ScenarioMap = { spec: { name: 'c', type: MapType.CPUMAP, keySize: 4, valueSize: 4, maxEntries: 4 } };
    const stackmap: ScenarioMap = { spec: { name: 's', type: MapType.STACK_TRACE, keySize: 4, valueSize: 8, maxEntries: 2 } };
    const cases: { maps: ScenarioMap[]; init: Init[] }[] = [
      { maps: [arr], init: [{ map: 0, key: u32(0), value: u64(1), flags: 1 }] },
      { maps: [arr], init: [{ map: 0, key: u32(2), value: u64(1) }] },
      { maps: [arr], init: [{ map: 0, key: u32(0), value: u64(1), flags: 3 }] },
      { maps: [arr], init: [{ map: 0, key: u32(0), value: u64(1), flags: 4 }] },
      { maps: [arr], init: [{ map: 0, key: u32(0), value: u64(1), flags: 2 }] },
      { maps: [hash], init: [{ map: 0, key: u32(0), value: u64(1), flags: 2 }] },
      { maps: [hash], init: [{ map: 0, key: u32(0), value: u64(1) }, { map: 0, key: u32(0), value: u64(1), flags: 1 }] },
      { maps: [hash], init: [{ map: 0, key: u32(0), value: u64(1) }, { map: 0, key: u32(1), value: u64(1) }, { map: 0, key: u32(2), value: u64(1) }] },
      { maps: [hash], init: [{ map: 0, key: u32(0), value: u64(1) }, { map: 0, key: u32(1), value: u64(1) }, { map: 0, key: u32(1), value: u64(2) }] },
      { maps: [hash], init: [{ map: 0, key: u32(0), value: u64(1), flags: 4 }] },
      { maps: [queue], init: [{ map: 0, value: u64(1) }, { map: 0, value: u64(2) }, { map: 0, value: u64(3) }] },
      { maps: [queue], init: [{ map: 0, value: u64(1) }, { map: 0, value: u64(2) }, { map: 0, value: u64(3), flags: 2 }] },
      { maps: [queue], init: [{ map: 0, value: u64(1), flags: 1 }] },
      { maps: [lpm], init: [{ map: 0, key: lpmKey(8, [10, 0, 0, 0]), value: u64(1) }, { map: 0, key: lpmKey(8, [11, 0, 0, 0]), value: u64(1) }] },
      { maps: [lpm], init: [{ map: 0, key: lpmKey(8, [10, 0, 0, 0]), value: u64(1) }, { map: 0, key: lpmKey(8, [10, 0, 0, 0]), value: u64(2) }] },
      { maps: [lpm], init: [{ map: 0, key: lpmKey(33, [10, 0, 0, 0]), value: u64(1) }] },
      { maps: [lpm], init: [{ map: 0, key: lpmKey(8, [10, 0, 0, 0]), value: u64(1), flags: 2 }] },
      // Redirect maps: devices must exist (lo, ifindex 1, does everywhere), CPUs must be possible.
      ...[
        { key: 0, value: [1, 0] }, { key: 2, value: [1, 0] }, { key: 0, value: [1, 0], flags: 1 }, { key: 0, value: [1, 0], flags: 3 },
        { key: 0, value: [999, 0] }, { key: 0, value: [0, 5] }, { key: 1, value: [0, 0] }, { key: 0, value: [1, 99999] }, { key: 0, value: [1, 0], flags: 2 },
      ].map((u) => ({ maps: [devmap], init: [{ map: 0, key: u32(u.key), value: u64((BigInt(u.value[1]!) << 32n) | BigInt(u.value[0]!)), flags: u.flags ?? 0 }] })),
      { maps: [devhash], init: [{ map: 0, key: u32(5), value: u32(1) }, { map: 0, key: u32(6), value: u32(1) }, { map: 0, key: u32(7), value: u32(1) }] },
      { maps: [devhash], init: [{ map: 0, key: u32(5), value: u32(1) }, { map: 0, key: u32(5), value: u32(1), flags: 1 }] },
      { maps: [devhash], init: [{ map: 0, key: u32(5), value: u32(0) }] },
      { maps: [devhash], init: [{ map: 0, key: u32(5), value: u32(1), flags: 2 }] },
      { maps: [devhash], init: [{ map: 0, key: u32(5), value: u32(999) }] },
      ...[[0, 64, 0], [4, 64, 0], [CPUS, 64, 0], [0, 16385, 0], [0, 0, 0], [0, 64, 1], [1, 16384, 2]].map(([key, qsize, flags]) => (
        { maps: [cpumap], init: [{ map: 0, key: u32(key!), value: u32(qsize!), flags: flags! }] })),
      { maps: [stackmap], init: [{ map: 0, key: u32(0), value: u64(1) }] },
    ];
    const replies = ask(cases.map((c) => kernelRequest({ name: '', maps: c.maps, init: c.init, program: () => [mov(0, 2), exit] })));
    cases.forEach((c, n) => {
      const r = replies[n]!;
      const theirs = r.ok ? 'ok' : r['stage'] === 'map_init' ? String(r['errno_name']) : `failed: ${r.error}`;
      let ours = 'ok';
      try {
        runTsbpf({ name: '', maps: c.maps, init: c.init, program: () => [mov(0, 2), exit] });
      } catch (err) {
        if (!(err instanceof MapError)) throw err;
        ours = err.errno;
      }
      expect({ case: n, errno: ours }).toEqual({ case: n, errno: theirs });
    });
  });

  it('random hash/array update, lookup-in-place and delete sequences give the kernel\'s results and dumps (in order)', () => {
    const seqs = fc.sample(fc.array(elemOpArb, { minLength: 10, maxLength: 40 }), { numRuns: 24, seed: 42 });
    const scenarios = seqs.flatMap((ops, i) => [
      elemScenario(`hash #${i}`, ops, MapFlags.ZERO_SEED),
      elemScenario(`hash no_prealloc #${i}`, ops, MapFlags.ZERO_SEED | MapFlags.NO_PREALLOC),
    ]);
    compare(scenarios);
  });

  it('LRU hashes below capacity behave as hash maps, in the kernel\'s order', () => {
    const below = elemOpArb.map((o) => ({ ...o, key: o.key % 6 }));
    const seqs = fc.sample(fc.array(below, { minLength: 10, maxLength: 40 }), { numRuns: 12, seed: 11 });
    compare(seqs.map((ops, i) => elemScenario(`lru #${i}`, ops, MapFlags.ZERO_SEED, MapType.LRU_HASH)));
  });

  it('per-CPU hashes and arrays: the same results and the same per-CPU dumps', () => {
    const seqs = fc.sample(fc.array(elemOpArb, { minLength: 10, maxLength: 30 }), { numRuns: 6, seed: 7 });
    // test_run runs on some CPU: compare the sets of values, which do not depend on which one.
    const scenarios = seqs.map((ops, i) => {
      const s = elemScenario(`percpu hash #${i}`, ops, MapFlags.ZERO_SEED, MapType.PERCPU_HASH);
      s.maps[0]!.dump = false;
      return s;
    });
    compare(scenarios);
    const init: Scenario = {
      name: 'percpu init',
      maps: [
        { spec: { name: 'pa', type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 12, maxEntries: 3 } },
        { spec: { name: 'ph', type: MapType.PERCPU_HASH, keySize: 4, valueSize: 4, maxEntries: 3, flags: MapFlags.ZERO_SEED } },
      ],
      init: [
        { map: 0, key: u32(1), value: new Uint8Array(12).fill(9) },
        { map: 1, key: u32(5), value: u32(77) },
        { map: 1, key: u32(6), value: new Uint8Array(8 * CPUS).fill(3) },
      ],
      program: () => [mov(0, 2), exit],
    };
    compare([init]);
  });

  it('LPM tries: random prefixes give the kernel\'s lookups and get_next_key order', () => {
    const prefixes = fc.sample(fc.array(fc.record({ plen: fc.integer({ min: 0, max: 32 }), a: fc.integer({ min: 0, max: 3 }), b: fc.integer({ min: 0, max: 255 }), c: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 30 }), { numRuns: 12, seed: 9 });
    const probes = [[10, 0, 0, 1], [10, 1, 2, 3], [10, 3, 255, 255], [10, 2, 128, 7], [192, 168, 0, 1], [10, 0, 200, 1]];
    const scenarios = prefixes.map((ps, n): Scenario => ({
      name: `lpm #${n}`,
      maps: [
        { spec: { name: 'lpm', type: MapType.LPM_TRIE, keySize: 8, valueSize: 8, maxEntries: 64, flags: MapFlags.NO_PREALLOC } },
        results(probes.length),
      ],
      init: ps.map((p, i) => ({ map: 0, key: lpmKey(p.plen, [10, p.a, p.b, p.c]), value: u64(i + 1) })),
      program: (ref) => [
        ...probes.flatMap((ip, i) => [
          st(4, 10, -8, 32), st(4, 10, -4, (ip[0]! | (ip[1]! << 8) | (ip[2]! << 16) | (ip[3]! << 24)) | 0),
          ref(1, 0), movr(2, 10), add(2, -8), call(1), ...bumpOrMinusOne, ...saveR0(ref, 1, i),
        ]),
        mov(0, 2), exit,
      ],
    }));
    compare(scenarios);
  });

  it('queues and stacks: push (with BPF_EXIST overwrite), pop and peek like the kernel', () => {
    type QOp = { op: 'push' | 'pop' | 'peek'; value: number; flags: number };
    const opArb: fc.Arbitrary<QOp> = fc.record({ op: fc.constantFrom('push' as const, 'push' as const, 'pop' as const, 'peek' as const), value: fc.integer({ min: 1, max: 1000 }), flags: fc.constantFrom(0, 0, 2, 1, 4) });
    const seqs = fc.sample(fc.array(opArb, { minLength: 5, maxLength: 30 }), { numRuns: 8, seed: 3 });
    const scenarios = seqs.flatMap((ops, n) => [MapType.QUEUE, MapType.STACK].map((type): Scenario => ({
      name: `${mapTypeName(type)} #${n}`,
      maps: [{ spec: { name: 'qs', type, keySize: 0, valueSize: 8, maxEntries: 3 } }, results(2 * ops.length)],
      program: (ref) => [
        ...ops.flatMap((o, i) => {
          const head = [st(8, 10, -16, o.op === 'push' ? o.value : 0x55), ref(1, 0), movr(2, 10), add(2, -16)];
          const body = o.op === 'push' ? [mov(3, o.flags), call(87)] : [call(o.op === 'pop' ? 88 : 89)];
          return [...head, ...body, ...saveR0(ref, 1, 2 * i), ldx(8, 0, 10, -16), ...saveR0(ref, 1, 2 * i + 1)];
        }),
        mov(0, 2), exit,
      ],
    })));
    compare(scenarios);
  });

  it('ring buffers: reserve/submit/discard/output, full ring and query give the kernel\'s records and results', () => {
    type ROp = { op: 'reserve' | 'discard' | 'output' | 'query'; size: number };
    const opArb: fc.Arbitrary<ROp> = fc.record({ op: fc.constantFrom('reserve' as const, 'discard' as const, 'output' as const, 'query' as const), size: fc.integer({ min: 1, max: 900 }) });
    const seqs = fc.sample(fc.array(opArb, { minLength: 5, maxLength: 25 }), { numRuns: 8, seed: 5 });
    const scenarios = seqs.map((ops, n): Scenario => ({
      name: `ringbuf #${n}`,
      maps: [{ spec: { name: 'rb', type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 } }, results(ops.length)],
      program: (ref) => [
        ...ops.flatMap((o, i): Instruction[] => {
          const size = o.op === 'output' ? 8 * Math.ceil(o.size / 64) : o.size;
          switch (o.op) {
            case 'query':
              return [ref(1, 0), mov(2, o.size % 4), call(134), ...saveR0(ref, 1, i)];
            case 'output':
              return [st(8, 10, -48, i * 1000 + 1), st(8, 10, -40, 7), ref(1, 0), movr(2, 10), add(2, -48), mov(3, Math.min(size, 16)), mov(4, 0), call(130), ...saveR0(ref, 1, i)];
            default:
              // r0 = reserve(size); if r0 { *(u8 *)r0 = i; submit or discard }; result: r0 != 0
              return [
                ref(1, 0), mov(2, size), mov(3, 0), call(131),
                jmp('jeq', 0, 0, 5), st(1, 0, 0, i), movr(1, 0), mov(2, 0), call(o.op === 'discard' ? 133 : 132), mov(0, 1),
                ...saveR0(ref, 1, i),
              ];
          }
        }),
        mov(0, 2), exit,
      ],
    }));
    compare(scenarios);
  });

  it('bloom filters (BPF_F_ZERO_SEED) answer peeks, false positives included, exactly like the kernel', () => {
    const scenarios = [4, 6, 8].flatMap((valueSize) => [1, 3, 0].map((k): Scenario => {
      const members = Array.from({ length: 6 }, (_, i) => i * 17 + 3);
      const probes = Array.from({ length: 40 }, (_, i) => i);
      const val = (v: number) => {
        const b = new Uint8Array(valueSize);
        b.set(u32(v).subarray(0, Math.min(4, valueSize)));
        return b;
      };
      return {
        name: `bloom value ${valueSize} k ${k}`,
        maps: [
          { spec: { name: 'bf', type: MapType.BLOOM_FILTER, keySize: 0, valueSize, maxEntries: 4, flags: MapFlags.ZERO_SEED, mapExtra: BigInt(k) }, dump: false },
          results(probes.length + 1),
        ],
        init: members.slice(0, 3).map((v) => ({ map: 0, value: val(v) })),
        program: (ref) => [
          // two more members pushed by the program, then the probes
          ...members.slice(3).flatMap((v) => [st(8, 10, -16, 0), st(4, 10, -16, v), ref(1, 0), movr(2, 10), add(2, -16), mov(3, 0), call(87)]),
          ...probes.flatMap((v, i) => [st(8, 10, -16, 0), st(4, 10, -16, v), ref(1, 0), movr(2, 10), add(2, -16), call(89), ...saveR0(ref, 1, i)]),
          mov(0, 2), exit,
        ],
      };
    }));
    compare(scenarios);
  });

  it('maps of maps: programs reach inner maps through array_of_maps and hash_of_maps like the kernel', () => {
    const inner: MapSpec = { name: 'inner', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 };
    const s: Scenario = {
      name: 'map in map',
      maps: [
        { spec: inner },
        { spec: { ...inner, name: 'inner2' } },
        { spec: { name: 'aom', type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 3 }, inner: 0, dump: false },
        { spec: { name: 'hom', type: MapType.HASH_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 3 }, inner: 0, dump: false },
        results(6),
      ],
      init: [
        { map: 0, key: u32(1), value: u64(111) },
        { map: 1, key: u32(1), value: u64(222) },
        { map: 2, key: u32(0), valueMap: 0 },
        { map: 2, key: u32(2), valueMap: 1 },
        { map: 3, key: u32(77), valueMap: 1 },
      ],
      program: (ref) => {
        const twoLevel = (outer: number, key: number, slot: number): Instruction[] => [
          st(4, 10, -4, key), ref(1, outer), movr(2, 10), add(2, -4), call(1),
          jmp('jne', 0, 0, 2), mov(0, -1), ja(7),
          movr(1, 0), st(4, 10, -8, 1), movr(2, 10), add(2, -8), call(1), ...bumpOrMinusOne,
          ...saveR0(ref, 4, slot),
        ];
        return [...twoLevel(2, 0, 0), ...twoLevel(2, 1, 1), ...twoLevel(2, 2, 2), ...twoLevel(3, 77, 3), ...twoLevel(3, 78, 4), ...twoLevel(2, 9, 5), mov(0, 2), exit];
      },
    };
    compare([s]);
    // the inner maps were updated in place through the inner pointers
    const { maps } = runTsbpf(s);
    expect(hex(maps[1]!.lookup(u32(1))!)).toBe(hex(u64(224)));
  });
});
