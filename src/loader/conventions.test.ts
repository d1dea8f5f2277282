/**
 * The loaders real objects were written for (issue 11): iproute2 and
 * Cilium's legacy `struct bpf_elf_map`, samples/bpf's `bpf_load_map_def`,
 * OVS and Suricata section names, `maps/<name>` sections, and the
 * per-program (never whole-object) refusals. Fixtures: test/fixtures/loaders
 * (own C reductions, rebuilt by its build.sh).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readElf } from './elf.js';
import { verifyObjectProgram } from '../verifier/index.js';
import { parseObject } from './object.js';
import type { ObjectSpec } from './spec.js';
import { iproute2TailCall, programTypeOfSection, samplesTailCallKey, sectionRules, sectionTableRow } from './sections.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/loaders/', import.meta.url));
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(`${DIR}${name}`));
const parse = (name: string, options: Parameters<typeof parseObject>[1] = {}): ObjectSpec => parseObject(bytes(name), { name, ...options });
const mapSummary = (o: ObjectSpec) => o.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]);

describe('iproute2 and Cilium legacy objects (struct bpf_elf_map)', () => {
  it.each(['iproute2_maps.o', 'iproute2_maps_nobtf.o'])('%s: maps, map of maps by inner_id/inner_idx, tail calls, pinning', (name) => {
    const o = parse(name);
    expect(mapSummary(o)).toEqual([['jmp_map', 3, 4, 4, 4], ['inner_map', 2, 4, 4, 1], ['outer_map', 12, 4, 4, 4], ['stats_map', 1, 4, 8, 16]]);
    const fieldsFrom = name.includes('nobtf') ? 'size' : 'btf';
    expect(o.maps.map((m) => m.legacy)).toEqual([
      { layout: 'iproute2', fieldsFrom, size: 36, id: 1, pinning: 2, innerId: 0, innerIdx: 0 },
      { layout: 'iproute2', fieldsFrom, size: 36, id: 42, pinning: 0, innerId: 0, innerIdx: 3 },
      { layout: 'iproute2', fieldsFrom, size: 36, id: 0, pinning: 16, innerId: 42, innerIdx: 0 },
      { layout: 'iproute2', fieldsFrom, size: 36, id: 0, pinning: 16, innerId: 0, innerIdx: 0 },
    ]);
    // Pinning values other than libbpf's 0/1 are recorded, never refused.
    expect(o.maps.map((m) => m.pinning ?? 0)).toEqual([2, 0, 16, 16]);
    expect(o.maps.every((m) => m.loadError === undefined)).toBe(true);
    expect(o.log.some((l) => l.includes("map 'outer_map': pinning 16 (a loader's own value"))).toBe(true);
    // The inner template is the map whose id is outer's inner_id; inner_idx preselects slot 3.
    expect(o.maps[2]!.innerMap).toMatchObject({ name: 'outer_map.inner', type: 2, keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(o.maps[2]!.initialValues).toEqual([{ key: 3, kind: 'map', map: 1, name: 'inner_map' }]);
    // "1/0x2": sscanf("%i/%i") reads hex, as Cilium writes its tail-call keys.
    expect(o.programs.map((p) => [p.name, p.section, p.typeName, p.sectionRuleKind])).toEqual([
      ['tail_two', '1/0x2', 'sched_cls', 'iproute2-tail-call'], ['cls_main', 'classifier', 'sched_cls', 'libbpf'], ['act_count', 'action', 'sched_act', 'libbpf'],
    ]);
    expect(o.programs[0]!.tailCall).toEqual({ mapId: 1, key: 2, loader: 'iproute2' });
    expect(o.maps[0]!.initialValues).toEqual([{ key: 2, kind: 'program', program: 0, name: 'tail_two' }]);
    expect(o.programs.every((p) => p.loadError === undefined)).toBe(true);
  });

  it('BPF_ANNOTATE_KV_PAIR (`____btf_map_<name>`) gives a legacy map its BTF key and value types', () => {
    const o = parse('iproute2_maps.o');
    const stats = o.maps.find((m) => m.name === 'stats_map')!;
    expect(o.btf!.typeById(stats.btfKeyTypeId!).name).toBe('__u32');
    expect(o.btf!.typeById(stats.btfValueTypeId!).name).toBe('__u64');
    expect(parse('iproute2_maps_nobtf.o').maps[3]!.btfKeyTypeId).toBeUndefined();
  });

  it.each(['iproute2_old.o', 'iproute2_old_nobtf.o'])('%s: a 28-byte struct bpf_elf_map (before maps of maps) is padded like iproute2 pads it', (name) => {
    const o = parse(name);
    expect(mapSummary(o)).toEqual([['counters', 2, 4, 8, 2]]);
    expect(o.maps[0]!.legacy).toMatchObject({ layout: 'iproute2', size: 28, id: 7, pinning: 1, innerId: 0, innerIdx: 0 });
  });

  it('iproute2 loads tail-call sections with the command\'s type: an XDP object\'s "5/1" is XDP, "prog" is the default XDP section', () => {
    const o = parse('iproute2_xdp.o');
    expect(o.programs.map((p) => [p.name, p.typeName, p.expectedAttachTypeName, p.sectionRuleKind])).toEqual([
      ['xdp_drop_tail', 'xdp', undefined, 'iproute2-tail-call'], ['xdp_main', 'xdp', undefined, 'iproute2'],
    ]);
    expect(o.maps[0]!.initialValues).toEqual([{ key: 1, kind: 'program', program: 0, name: 'xdp_drop_tail' }]);
  });
});

describe('samples/bpf, OVS, Suricata and maps/<name> sections', () => {
  it.each(['samples_maps.o', 'samples_maps_nobtf.o'])('%s: struct bpf_load_map_def, inner_map_idx, socket/N tail calls, an unknown field logged', (name) => {
    const o = parse(name);
    expect(mapSummary(o)).toEqual([['inner_tmpl', 2, 4, 8, 4], ['outer', 13, 4, 4, 8], ['jmp_table', 3, 4, 4, 8]]);
    expect(o.maps.map((m) => m.legacy?.layout)).toEqual(['samples', 'samples', 'samples']);
    expect(o.maps[1]!.innerMap).toMatchObject({ type: 2, keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(o.maps[2]!.legacy!.unknown).toEqual([{ offset: 28, value: 0x5a, ...(name.includes('nobtf') ? {} : { name: 'future_field' }) }]);
    expect(o.log.some((l) => /map 'jmp_table': unknown non-zero field.* at offset 28 of its 32-byte definition \(0x5a\): ignored/.test(l))).toBe(true);
    expect(o.programs.map((p) => [p.name, p.typeName, p.tailCall])).toEqual([
      ['parse_tail', 'socket_filter', { key: 1, loader: 'samples' }], ['sock_main', 'socket_filter', undefined],
    ]);
    expect(o.maps[2]!.initialValues).toEqual([{ key: 1, kind: 'program', program: 0, name: 'parse_tail' }]);
  });

  it.each(['ovs_tail.o', 'ovs_tail_nobtf.o'])('%s: OVS ingress/egress entry points, tail-N installed in "tailcalls"', (name) => {
    const o = parse(name);
    expect(o.programs.map((p) => [p.name, p.section, p.typeName, p.sectionRuleKind])).toEqual([
      ['parser', 'tail-32', 'sched_cls', 'ovs'], ['to_stack', 'ingress', 'sched_cls', 'ovs'], ['from_stack', 'egress', 'sched_cls', 'ovs'],
    ]);
    expect(o.maps[0]!.legacy?.layout).toBe('libbpf');
    expect(o.maps[0]!.initialValues).toEqual([{ key: 32, kind: 'program', program: 0, name: 'parser' }]);
  });

  it('Suricata\'s "filter" and "loadbalancer" are socket filters', () => {
    expect(parse('suricata.o').programs.map((p) => [p.section, p.typeName, p.sectionRuleKind])).toEqual([
      ['filter', 'socket_filter', 'suricata'], ['loadbalancer', 'socket_filter', 'suricata'], ['xdp', 'xdp', 'libbpf'],
    ]);
  });

  it.each(['maps_sections.o', 'maps_sections_nobtf.o'])('%s: legacy maps in maps/<name> sections', (name) => {
    const o = parse(name);
    expect(o.maps.map((m) => [m.name, m.section, m.type])).toEqual([['flows', 'maps/flows', 9], ['hits', 'maps/hits', 2]]);
    expect(o.programs[0]!.relocations.filter((r) => r.kind === 'map').map((r) => (r as { map: number }).map).sort()).toEqual([0, 1]);
  });
});

describe('section names', () => {
  it('reads iproute2 tail-call sections like sscanf("%i/%i")', () => {
    expect(iproute2TailCall('2/7')).toEqual({ mapId: 2, key: 7 });
    expect(iproute2TailCall('1/0x0a')).toEqual({ mapId: 1, key: 10 });
    expect(iproute2TailCall('010/0X1F')).toEqual({ mapId: 8, key: 31 });
    expect(iproute2TailCall('3/4tail')).toEqual({ mapId: 3, key: 4 });
    expect(iproute2TailCall('x/1')).toBeUndefined();
    expect(iproute2TailCall('1-2')).toBeUndefined();
    expect(samplesTailCallKey('socket/3')).toBe(3);
    expect(samplesTailCallKey('kprobe/12')).toBe(12);
    expect(samplesTailCallKey('kprobe/sys_write')).toBeUndefined();
    expect(samplesTailCallKey('socket3')).toBeUndefined();
  });

  it('knows each loader\'s names, after libbpf\'s', () => {
    const t = (s: string) => { const p = programTypeOfSection(s); return `${p.typeName}:${p.ruleKind}`; };
    expect(t('tail-3')).toBe('sched_cls:ovs');
    expect(t('ingress')).toBe('sched_cls:ovs');
    expect(t('filter')).toBe('socket_filter:suricata');
    expect(t('loadbalancer')).toBe('socket_filter:suricata');
    expect(t('from-container')).toBe('sched_cls:cilium');
    expect(t('prog')).toBe('xdp:iproute2');
    expect(t('xdp_drop')).toBe('xdp:libbpf-legacy');
    expect(t('socket7')).toBe('socket_filter:libbpf-legacy');
    expect(t('1/0x1')).toBe('sched_cls:iproute2-tail-call');
    expect(t('kretprobe/tcp_sendmsg')).toBe('kprobe:libbpf');
  });

  it('docs/loader.md shows the one section table, row for row', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/loader.md', import.meta.url)), 'utf8');
    const rows = sectionRules().map(sectionTableRow);
    const table = doc.split('\n').filter((l) => l.startsWith('| `'));
    expect(table.filter((l) => rows.includes(l))).toEqual(rows);
  });
});

describe('what concerns one program or one map is that program\'s verdict, not the object\'s', () => {
  it('map_failures.o: a map Linux refuses, a pinning libbpf refuses, a strong kfunc, a map tsbpf does not back (a cgroup array)', () => {
    const o = parse('map_failures.o');
    expect(o.programs.map((p) => [p.name, p.loadError?.message ?? null])).toEqual([
      ['uses_no_entries', null], // Linux refuses the map when it is created (the runtime's verdict)
      ['uses_bad_pinning', "map 'bad_pinning': invalid pinning value 2."],
      ['uses_kfunc', "extern (func ksym) 'bpf_tsbpf_missing_kfunc': not found in kernel or module BTFs"],
      ['uses_good', null],
      ['uses_cgroup_array', null],
    ]);
    expect(o.maps.find((m) => m.name === 'bad_pinning')!.loadError).toMatchObject({ errno: 'EINVAL', section: '.maps' });
    expect(o.externs[0]).toMatchObject({ name: 'bpf_tsbpf_missing_kfunc', func: true, error: { errno: 'EINVAL' } });
  });

  it('a relocation against the wrong kind of symbol fails only the program that has it', () => {
    const b = bytes('ovs_tail_nobtf.o').slice();
    const elf = readElf(b);
    const rel = elf.relocations.find((r) => elf.sections[r.target]!.name === 'ingress')!;
    const lic = elf.symbols.findIndex((s) => s.name === '_license');
    const dv = new DataView(b.buffer);
    const info = dv.getBigUint64(elf.sections[rel.index]!.offset + 8, true);
    dv.setBigUint64(elf.sections[rel.index]!.offset + 8, (BigInt(lic) << 32n) | (info & 0xffffffffn), true);
    const o = parseObject(b, { name: 'bad.o' });
    expect(o.programs.map((p) => [p.name, p.loadError?.message ?? null])).toEqual([
      ['parser', null], ['to_stack', "prog 'to_stack': bad data relo against '_license' in section 'license'"], ['from_stack', null],
    ]);
    expect(o.programs[1]!.loadError).toMatchObject({ section: 'ingress', insn: rel.entries[0]!.offset / 8, offset: elf.sections[rel.target]!.offset + rel.entries[0]!.offset });
    // Its verdict says what and where.
    const v = verifyObjectProgram(o, o.programs[1]!);
    expect(v).toMatchObject({ accepted: false, stage: 'loader', error: "prog 'to_stack': bad data relo against '_license' in section 'license'" });
    expect(v.log).toContain(`libbpf: (section ingress, file offset ${elf.sections[rel.target]!.offset + rel.entries[0]!.offset}, insn ${rel.entries[0]!.offset / 8})`);
    expect(verifyObjectProgram(o, o.programs[2]!).accepted).toBe(true);
  });

  it('a call into the middle of a function fails the programs that make it', () => {
    const fixture = fileURLToPath(new URL('../../test/fixtures/loader/subprogs.o', import.meta.url));
    const b = new Uint8Array(readFileSync(fixture));
    const elf = readElf(b);
    const good = parseObject(b, { name: 'subprogs.o' });
    // The first relocated bpf-to-bpf call of section xdp: point it one instruction further.
    const xdp = elf.sections.find((s) => s.name === 'xdp')!;
    const rel = elf.relocations.find((r) => r.target === xdp.index)!;
    const call = rel.entries.find((e) => b[xdp.offset + e.offset] === 0x85)!;
    const dv = new DataView(b.buffer);
    dv.setInt32(xdp.offset + call.offset + 4, dv.getInt32(xdp.offset + call.offset + 4, true) + 1, true);
    const o = parseObject(b, { name: 'bad.o' });
    const failed = o.programs.filter((p) => p.loadError);
    expect(failed.map((p) => p.section)).toEqual(['xdp']);
    expect(failed[0]!.loadError!.message).toMatch(/call at insn #\d+ (jumps into the middle of function '\w+'|targets insn \d+ of section '.text', where no function starts)/);
    expect(o.programs.filter((p) => !p.loadError).map((p) => p.name)).toEqual(good.programs.map((p) => p.name).filter((n) => n !== failed[0]!.name));
    expect(o.programs.length).toBe(good.programs.length);
  });
});

describe('map fix-ups', () => {
  it('.rel.maps relocations written as R_BPF_64_64 by older clang fill prog arrays and maps of maps as R_BPF_64_ABS64 does', () => {
    const path = fileURLToPath(new URL('../../test/fixtures/loader/maps.o', import.meta.url));
    const b = new Uint8Array(readFileSync(path));
    const want = parseObject(b, { name: 'maps.o' }).maps.map((m) => m.initialValues);
    const elf = readElf(b);
    const rel = elf.relocations.find((r) => r.name === '.rel.maps')!;
    const dv = new DataView(b.buffer);
    rel.entries.forEach((_e, i) => {
      const at = elf.sections[rel.index]!.offset + i * 16 + 8;
      dv.setBigUint64(at, (dv.getBigUint64(at, true) & ~0xffffffffn) | 1n, true); // R_BPF_64_64
    });
    const old = parseObject(b, { name: 'maps.o' });
    expect(old.maps.map((m) => m.initialValues)).toEqual(want);
    expect(want.filter((v) => v !== undefined).length).toBe(2);
    expect(old.maps.every((m) => m.loadError === undefined)).toBe(true);
  });

  it('perf event arrays get key and value size 4 (cilium/ebpf) and max_entries = possible CPUs (libbpf)', () => {
    const events = (o: ObjectSpec) => o.maps.find((m) => m.name === 'events')!;
    expect(events(parse('map_sizes.o'))).toMatchObject({ type: 4, keySize: 4, valueSize: 4, maxEntries: 0 });
    expect(events(parse('map_sizes.o', { possibleCpus: 6 }))).toMatchObject({ maxEntries: 6 });
    expect(parse('map_sizes.o').maps.find((m) => m.name === 'rb1g')).toMatchObject({ type: 27, maxEntries: 1 << 30 });
  });
});
