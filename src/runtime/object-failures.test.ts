/**
 * Objects always load (issue 11): a program that cannot be loaded has that
 * as its verdict, one tsbpf cannot run fails only its runs, and every other
 * program of the object is verified and runs. The loader-convention
 * fixtures (test/fixtures/loaders) run here as their loaders set them up
 * (prog arrays, maps of maps), and tsbpf's verdicts are compared with the
 * kernel's and libbpf's, recorded by scripts/record-loader-fixtures.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseObject } from '../loader/object.js';
import type { ObjectSpec } from '../loader/spec.js';
import { verifyObjectProgram } from '../verifier/index.js';
import { MapError } from '../vm/maps/types.js';
import { RingBufMap } from '../vm/maps/ringbuf.js';
import { CgroupArrayMap } from '../vm/maps/cgroup-array.js';
import { interpreterEngine } from '../vm/engine.js';
import { Collection, RejectedProgramError } from './collection.js';
import { objectMapProblems, withMapFailures } from './map-problems.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/loaders/', import.meta.url));
const parse = (name: string): ObjectSpec => parseObject(new Uint8Array(readFileSync(`${DIR}${name}`)), { name });
const load = (name: string, cpus = 1): Collection => Collection.load(parse(name), { possibleCpus: cpus });
/** An Ethernet + IPv4 frame, 64 bytes. */
const FRAME = new Uint8Array(64).fill(0).map((_, i) => (i === 12 ? 8 : i === 14 ? 0x45 : 0));

interface Recorded {
  kernel: string;
  objects: {
    file: string;
    libbpf: { program: string | null; accepted: boolean; error: string | null; libbpf_error: string | null; warnings: string[] }[];
    programs: { program: string; section: string; kernel: null | { accepted: boolean; error: string | null; insn_processed: number | null; map_create?: string }; skipped?: string }[];
  }[];
}
const recorded = JSON.parse(readFileSync(`${DIR}kernel.json`, 'utf8')) as Recorded;

describe('an object with refused maps, externs and unbacked maps loads; each program gets its own verdict', () => {
  it('map_failures.o: verdicts, runs and errors', () => {
    const c = load('map_failures.o');
    const verdict = (name: string) => c.verify(c.program({ name }));
    expect(verdict('uses_no_entries')).toMatchObject({ accepted: false, stage: 'loader', errno: 'EINVAL' });
    expect(verdict('uses_no_entries').error).toBe("map 'no_entries': failed to create: Invalid argument(-22) (array maps need max_entries above 0)");
    expect(verdict('uses_bad_pinning')).toMatchObject({ accepted: false, stage: 'loader', error: "map 'bad_pinning': invalid pinning value 2." });
    expect(verdict('uses_kfunc')).toMatchObject({ accepted: false, stage: 'loader', error: "extern (func ksym) 'bpf_tsbpf_missing_kfunc': not found in kernel or module BTFs" });
    expect(verdict('uses_cgroup_array').accepted).toBe(true);
    expect(verdict('uses_good').accepted).toBe(true);
    // Programs that cannot load never run; the one that asks a cgroup array about a socket's cgroup stops at that helper; the rest runs.
    expect(() => c.run(c.program({ name: 'uses_kfunc' }), { dataIn: FRAME })).toThrow(/cannot be loaded: extern \(func ksym\)/);
    expect(() => c.run(c.program({ name: 'uses_no_entries' }), { dataIn: FRAME })).toThrow(RejectedProgramError);
    expect(() => c.run(c.program({ name: 'uses_cgroup_array' }), { dataIn: FRAME })).toThrow(/bpf_skb_under_cgroup#33/);
    expect(c.run(c.program({ name: 'uses_good' }), { dataIn: FRAME }).retval).toBe(2);
    expect(new DataView(c.map('good').lookup(new Uint8Array(4))!.buffer).getBigUint64(0, true)).toBe(1n);
    // The maps that could not be created are placeholders whose every operation names them; a cgroup array is backed,
    // and like Linux's cannot be read back through bpf(2).
    const cgroups = c.map('cgroups');
    expect(cgroups).toBeInstanceOf(CgroupArrayMap);
    expect(() => cgroups.lookup(new Uint8Array(4))).toThrow(MapError);
    expect(() => cgroups.lookup(new Uint8Array(4))).toThrow("map 'cgroups' (cgroup_array) slots cannot be read back");
    expect(() => c.map('no_entries').entries()).toThrow("map 'no_entries' (array) could not be created: -EINVAL: array maps need max_entries above 0");
    expect(c.mapProblems.map((p) => p?.kind ?? null)).toEqual(['invalid', 'invalid', null, null]);
    // The same, without running the program: checked (no verification, every access checked).
    const unverified = Collection.load(parse('map_failures.o'), { verify: false });
    expect(() => unverified.run(unverified.program({ name: 'uses_cgroup_array' }), { dataIn: FRAME })).toThrow(/bpf_skb_under_cgroup#33/);
    expect(() => unverified.run(unverified.program({ name: 'uses_kfunc' }), { dataIn: FRAME })).toThrow(/cannot be loaded/);
    expect(unverified.run(unverified.program({ name: 'uses_good' }), { dataIn: FRAME }).retval).toBe(2);
  });

  it('a program tail-called through an unbacked map fails with the map named, at the helper', () => {
    const c = Collection.load(parse('map_sizes.o'), { verify: false });
    const p = c.program({ name: 'out_1g' });
    expect(p.runError).toMatch(/'rb1g' \(ringbuf\)/);
    expect(p.id).toBeGreaterThan(0);
    // What a tail call would run: the program itself, in checked mode, reaching the placeholder.
    expect(() => c.runner.run(p.prepared, p.typeId, interpreterEngine, { dataIn: FRAME })).toThrow(/bpf_ringbuf_reserve: map .rb1g. \(ringbuf\) is not backed by tsbpf/);
  });

  it('map sizes: a 16 MiB ring buffer works, a 1 GiB one verifies and its program cannot run, perf event arrays get one slot per CPU', () => {
    const c = load('map_sizes.o', 2);
    const rb = c.map('rb16m');
    expect(rb).toBeInstanceOf(RingBufMap);
    expect(rb.maxEntries).toBe(16 << 20);
    expect(c.run(c.program({ name: 'out_16m' }), { dataIn: FRAME }).retval).toBe(2);
    expect((rb as RingBufMap).records()).toHaveLength(1);
    expect(c.verify(c.program({ name: 'out_1g' })).accepted).toBe(true);
    expect(() => c.run(c.program({ name: 'out_1g' }), { dataIn: FRAME })).toThrow(/map 'rb1g' \(ringbuf\), which tsbpf does not back: it needs 2147483648 bytes/);
    expect(c.map('events')).toMatchObject({ keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(c.log).toContain("map 'events': setting size to 2");
    expect(c.run(c.program({ name: 'out_perf' }), { dataIn: FRAME }).retval).toBe(2);
  });
});

describe('programs that cannot load or cannot be prepared', () => {
  it('a program that cannot load is never installed in a prog array: the tail call falls through', () => {
    const o = parse('iproute2_maps.o');
    o.programs[0] = { ...o.programs[0]!, loadError: { message: "extern 'x' (strong): not resolved", errno: 'ESRCH' } };
    const c = Collection.load(o);
    expect(c.program({ name: 'tail_two' }).id).toBe(0);
    expect(c.log).toContain("map 'jmp_map': slot [2] (program 'tail_two') not set: the program cannot be loaded: extern 'x' (strong): not resolved");
    expect(c.map('jmp_map').entries()).toEqual([]);
    expect(c.run(c.program({ name: 'cls_main' }), { dataIn: FRAME }).retval).toBe(0); // TC_ACT_OK: no tail call target
  });

  it('an instruction the structural check refuses is that program\'s verdict (the kernel verifier\'s words); the others load and run', () => {
    const o = parse('suricata.o');
    const insns = o.programs[1]!.insns.slice();
    insns.set([0x05, 0, 0x40, 0, 0, 0, 0, 0], 0); // goto +64: out of the program
    o.programs[1] = { ...o.programs[1]!, insns };
    const c = Collection.load(o);
    const lb = c.program({ name: 'lb' });
    expect(lb.prepareError).toMatch(/jump/);
    expect(lb.id).toBe(0);
    expect(c.verify(lb)).toMatchObject({ accepted: false, error: 'jump out of range from insn 0 to 65' });
    expect(() => c.run(lb, { dataIn: FRAME })).toThrow(RejectedProgramError);
    expect(c.run(c.program({ name: 'hashfilter' }), { dataIn: FRAME }).retval).toBe(0xffffffff);
  });
});

describe('legacy loaders\' objects run as their loaders set them up', () => {
  it.each(['iproute2_maps.o', 'iproute2_maps_nobtf.o'])('%s: tc tail call into "1/0x2", map of maps slot 3 holds the inner map', (name) => {
    const c = load(name);
    expect(c.run(c.program({ name: 'cls_main' }), { dataIn: FRAME }).retval).toBe(2); // TC_ACT_SHOT from tail_two
    expect(new DataView(c.map('inner_map').lookup(new Uint8Array(4))!.buffer).getUint32(0, true)).toBe(1);
    expect(c.run(c.program({ name: 'act_count' }), { dataIn: FRAME }).retval).toBe(0);
    expect(c.map('stats_map').entries()).toHaveLength(1);
  });

  it('iproute2 XDP object: "prog" tail-calls "5/1" (both XDP)', () => {
    const c = load('iproute2_xdp.o');
    expect(c.run(c.program({ name: 'xdp_main' }), { dataIn: FRAME }).retval).toBe(1); // XDP_DROP
  });

  it.each(['samples_maps.o', 'samples_maps_nobtf.o'])('%s: socket0 tail-calls socket/1 through the last prog array', (name) => {
    const c = load(name);
    expect(c.run(c.program({ name: 'sock_main' }), { dataIn: FRAME }).retval).toBe(50); // skb->len of the L3 part
  });

  it.each(['ovs_tail.o', 'ovs_tail_nobtf.o'])('%s: ingress tail-calls tail-32 through "tailcalls"', (name) => {
    const c = load(name);
    expect(c.run(c.program({ name: 'to_stack' }), { dataIn: FRAME }).retval).toBe(0); // TC_ACT_OK from parser
    const stats = c.map('datapath_stats').lookup(new Uint8Array([1, 0, 0, 0]))!;
    expect(new DataView(stats.buffer).getBigUint64(0, true)).toBe(1n);
  });
});

describe('tsbpf against the kernel and libbpf (recorded)', () => {
  it('the recording covers every fixture', () => {
    expect(recorded.objects.length).toBeGreaterThanOrEqual(18);
  });

  for (const o of recorded.objects) {
    it(`${o.file}: each program's verdict is the kernel's`, () => {
      const obj = parse(o.file);
      const problems = objectMapProblems(obj, 2);
      for (const r of o.programs) {
        const p = obj.programs.find((x) => x.name === r.program)!;
        const spec = withMapFailures(p, problems);
        const v = verifyObjectProgram(obj, spec);
        if (r.kernel === null) {
          // Not asked of the kernel: refused by the loader first (libbpf's domain, checked below), or a map too large to create there.
          expect(v.accepted, `${r.program}: ${r.skipped}`).toBe(!r.skipped!.startsWith('the loader refuses'));
          if (!v.accepted) expect(r.skipped).toContain(v.error);
          continue;
        }
        if (r.kernel.map_create) {
          expect({ program: r.program, stage: v.stage, errno: v.errno }).toEqual({ program: r.program, stage: 'loader', errno: r.kernel.map_create });
          continue;
        }
        expect({ program: r.program, accepted: v.accepted, error: v.error, insns: v.insnsProcessed })
          .toEqual({ program: r.program, accepted: r.kernel.accepted, error: r.kernel.error, insns: r.kernel.insn_processed });
      }
    });
  }

  it('libbpf\'s messages are tsbpf\'s verdicts for what libbpf refuses (one object per case)', () => {
    const warning = (file: string): string[] => recorded.objects.find((o) => o.file === file)!.libbpf.flatMap((r) => r.warnings).map((w) => w.replace(/^libbpf: /, ''));
    const verdicts = (file: string) => {
      const obj = parse(file);
      const problems = objectMapProblems(obj);
      return obj.programs.map((p) => verifyObjectProgram(obj, withMapFailures(p, problems)));
    };
    // 1: a map Linux refuses; libbpf: "map 'no_entries': failed to create: Invalid argument(-22)".
    const [noEntries, good1] = verdicts('map_failures_1.o');
    const created = warning('map_failures_1.o').find((w) => w.includes('failed to create'))!;
    expect(noEntries!.error!.startsWith(created)).toBe(true);
    expect(good1!.accepted).toBe(true);
    // 2: a pinning value libbpf refuses in a BTF map definition.
    expect(verdicts('map_failures_2.o')[0]!.error).toBe(warning('map_failures_2.o')[0]);
    // 3: a strong kfunc that does not exist.
    expect(warning('map_failures_3.o')).toContain(verdicts('map_failures_3.o')[0]!.error);
    // 4: libbpf and the kernel accept both programs; tsbpf verifies both (and cannot run the cgroup array one).
    expect(recorded.objects.find((o) => o.file === 'map_failures_4.o')!.libbpf.map((r) => r.accepted)).toEqual([true, true]);
    expect(verdicts('map_failures_4.o').map((v) => v.accepted)).toEqual([true, true]);
    // Legacy `maps` sections: libbpf 1.x refuses them all; tsbpf loads them as their loaders did.
    expect(warning('iproute2_maps.o')).toContain("elf: legacy map definitions in 'maps' section are not supported by libbpf v1.0+");
  });
});
