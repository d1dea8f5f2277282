import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { readElf } from './elf.js';
import { LoaderError } from './loader-error.js';
import { parseKconfig } from './kconfig.js';
import { objectNameOf, parseObject } from './object.js';
import { internalMapName } from './object-maps.js';
import type { ObjectSpec } from './spec.js';
import { programTypeOfSection } from './sections.js';
import {
  FIXTURES, fixture, fixtureObjects, fixturePath, indexOfBytes, kernelUnavailable, libbpfLoad, lightSkeletonData,
  missing, run, tempDir, vmlinuxBytes,
} from '../../test/support/loader-tools.js';

const MAP_TYPE_NAMES = ['unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array',
  'stack_trace', 'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps', 'hash_of_maps', 'devmap',
  'sockmap', 'cpumap', 'xskmap', 'sockhash', 'cgroup_storage', 'reuseport_sockarray', 'percpu_cgroup_storage', 'queue',
  'stack', 'sk_storage', 'devmap_hash', 'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter'];

function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  let n = 0;
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a! + 1;
  }
  return n;
}

function parse(name: string, extra: Parameters<typeof parseObject>[1] = {}): ObjectSpec {
  return parseObject(fixture(name), { name, ...extra });
}

/** Objects libbpf 1.1 (Debian's bpftool) opens and this kernel loads. */
const LIBBPF_OK = ['globals_11.o', 'maps.o', 'subprogs.o', 'subprogs_v4.o', 'core.o', 'link_b.o', 'linked_abc.o', 'sections_11.o'];

describe('object names', () => {
  it('derives the object name and internal map names like libbpf', () => {
    expect(objectNameOf('/a/b/myprog_xyz.bpf.o')).toBe('myprog_xyz');
    expect(objectNameOf('averyveryverylongname.o')).toBe('averyveryverylo');
    expect(internalMapName('myprog_x', '.bss')).toBe('myprog_x.bss');
    expect(internalMapName('myprog_xyz', '.rodata')).toBe('myprog_x.rodata');
    expect(internalMapName('my_object_name', '.kconfig')).toBe('my_obje.kconfig');
    expect(internalMapName('obj', '.rodata.config')).toBe('.rodata.config');
    expect(internalMapName('obj', '.rodata.abracadabra')).toBe('.rodata.abracad');
    expect(internalMapName('obj', '.data.a-b')).toBe('.data.a_b');
  });
});

describe('program types from section names', () => {
  it('follows libbpf, then legacy loaders, then unspec', () => {
    const t = (s: string): string => {
      const p = programTypeOfSection(s);
      return `${p.typeName}${p.expectedAttachTypeName ? '/' + p.expectedAttachTypeName : ''}${p.flags ? ' flags=' + p.flags : ''}`;
    };
    expect(t('xdp')).toBe('xdp/xdp');
    expect(t('xdp.frags')).toBe('xdp/xdp flags=32');
    expect(t('xdp/devmap')).toBe('xdp/xdp_devmap');
    expect(t('xdp_devmap/x')).toBe('xdp/xdp_devmap');
    expect(t('tc')).toBe('sched_cls');
    expect(t('tc/ingress')).toBe('sched_cls/tcx_ingress');
    expect(t('tcx/egress')).toBe('sched_cls/tcx_egress');
    expect(t('classifier')).toBe('sched_cls');
    expect(t('classifier/foo')).toBe('sched_cls');
    expect(t('action')).toBe('sched_act');
    expect(t('socket')).toBe('socket_filter');
    expect(t('socket1')).toBe('socket_filter');
    expect(t('kprobe/do_sys_open')).toBe('kprobe');
    expect(programTypeOfSection('kprobe/do_sys_open').attachTo).toBe('do_sys_open');
    expect(t('kprobex')).toBe('unspec');
    expect(t('kretprobe/x')).toBe('kprobe');
    expect(t('uprobe.s//bin/sh:main')).toBe('kprobe flags=16');
    expect(t('tracepoint/syscalls/sys_enter_open')).toBe('tracepoint');
    expect(t('tp/a/b')).toBe('tracepoint');
    expect(t('raw_tp/sys_enter')).toBe('raw_tracepoint');
    expect(t('raw_tracepoint.w/x')).toBe('raw_tracepoint_writable');
    expect(t('tp_btf/sched_switch')).toBe('tracing/trace_raw_tp');
    expect(t('fentry/x')).toBe('tracing/trace_fentry');
    expect(t('fexit.s/x')).toBe('tracing/trace_fexit flags=16');
    expect(t('lsm/file_open')).toBe('lsm/lsm_mac');
    expect(t('cgroup_skb/ingress')).toBe('cgroup_skb/cgroup_inet_ingress');
    expect(programTypeOfSection('cgroup_skb/ingress').expectedAttachType).toBe(0);
    expect(t('cgroup/connect4')).toBe('cgroup_sock_addr/cgroup_inet4_connect');
    expect(t('sockops')).toBe('sock_ops/cgroup_sock_ops');
    expect(t('sk_skb/stream_parser')).toBe('sk_skb/sk_skb_stream_parser');
    expect(t('sk_msg')).toBe('sk_msg/sk_msg_verdict');
    expect(t('flow_dissector')).toBe('flow_dissector/flow_dissector');
    expect(t('perf_event')).toBe('perf_event');
    expect(t('syscall')).toBe('syscall flags=16');
    expect(t('2/7')).toBe('sched_cls');
    expect(programTypeOfSection('2/7').tailCall).toEqual({ mapId: 2, key: 7, loader: 'iproute2' });
    expect(t('foo')).toBe('unspec');
  });

  it('sections.o: every program gets its section\'s type; the kernel agrees for what libbpf 1.1 loads', () => {
    const spec = parse('sections.o');
    const byName = new Map(spec.programs.map((p) => [p.name, p]));
    expect(byName.get('s_unknown')).toMatchObject({ type: 0, typeName: 'unspec', section: 'tsbpf/unknown' });
    expect(byName.get('s_tail_call')).toMatchObject({ typeName: 'sched_cls', tailCall: { mapId: 2, key: 7 } });
    expect(byName.get('s_legacy_xdp')).toMatchObject({ typeName: 'xdp', sectionRuleKind: 'libbpf-legacy' });
    const why = kernelUnavailable();
    if (why) {
      console.log(`skipped the kernel comparison: ${why}`);
      return;
    }
    const spec11 = parse('sections_11.o');
    const load = libbpfLoad(fixturePath('sections_11.o'));
    expect(load.ok, load.stderr.slice(-2000)).toBe(true);
    expect(load.programs.length).toBe(spec11.programs.length);
    for (const p of spec11.programs) {
      const k = load.programs.find((x) => x.name === p.name);
      expect(k, p.name).toBeDefined();
      expect(p.typeName, `${p.name} in ${p.section}`).toBe(k!.type);
    }
  });
});

describe('libbpf\'s final instructions (light skeleton oracle)', () => {
  const noBpftool = missing('bpftool');
  it.each(['subprogs.o', 'subprogs_v4.o', 'globals_11.o', 'link_b.o', 'linked_abc.o', 'sections_11.o'])('%s: every program\'s bytes appear verbatim in libbpf\'s loader data', (name) => {
    const spec = parse(name);
    if (noBpftool) {
      console.log(`skipped: ${noBpftool}`);
      return;
    }
    const blob = lightSkeletonData(fixturePath(name));
    expect(blob, 'bpftool gen skeleton -L failed').toBeDefined();
    for (const p of spec.programs) expect(indexOfBytes(blob!, p.insns), p.name).toBeGreaterThanOrEqual(0);
  });
});

describe('maps, programs and relocations against libbpf', () => {
  it.each(LIBBPF_OK)('%s: libbpf creates the same maps and programs', (name) => {
    const vm = vmlinuxBytes();
    const opts = { possibleCpus: 1, ...(vm.bytes ? { coreTarget: Btf.parse(vm.bytes, { name: 'vmlinux' }) } : {}) };
    const why = kernelUnavailable();
    if (why) {
      parse(name, opts);
      console.log(`skipped: ${why}`);
      return;
    }
    opts.possibleCpus = possibleCpus();
    const spec = parse(name, opts);
    const load = libbpfLoad(fixturePath(name));
    expect(load.ok, load.stderr.slice(-3000)).toBe(true);
    // Programs: names and types as the kernel reports them.
    expect(spec.programs.map((p) => [p.name, p.typeName]).sort())
      .toEqual(load.programs.map((p) => [p.name, p.type]).sort());
    // Maps: what the kernel created. libbpf 1.1 makes every global data map mmapable; current libbpf
    // (and tsbpf) only those with a non-static variable, so that one bit is compared apart.
    const norm = (m: { name: string; type: string; k: number; v: number; max: number; flags: number }): string =>
      `${m.name} ${m.type} key=${m.k} value=${m.v} max=${m.max} flags=${(m.flags & ~0x400).toString(16)}`;
    const ours = spec.maps.map((m) => norm({ name: m.name.slice(0, 15), type: MAP_TYPE_NAMES[m.type]!, k: m.keySize, v: m.valueSize, max: m.maxEntries, flags: m.flags ?? 0 })).sort();
    const theirs = load.maps.map((m) => norm({ name: m.name, type: m.type, k: m.bytes_key, v: m.bytes_value, max: m.max_entries, flags: m.flags })).sort();
    expect(ours).toEqual(theirs);
    // libbpf's debug lines about programs, map definitions, relocations and CO-RE, as a set.
    const families = [
      /^sec '[^']*': found program /, /^map '[^']*': found /, /^map '[^']*': at sec_idx /, /^sec '[^']*': relo #\d+: insn #\d+ against /,
      /^prog '[^']*': found (data )?map /, /^prog '[^']*': found extern /, /^extern \((kcfg|ksym)\) #/, /^collected \d+ externs total/,
      /^CO-RE relocating /, /^prog '[^']*': relo #/, /^sec '[^']*': found \d+ CO-RE relocations/, /^\.maps relo #/,
    ];
    const pick = (lines: string[]): string[] => lines.filter((l) => families.some((re) => re.test(l))).sort();
    expect(pick(spec.log)).toEqual(pick(load.lines));
  });

  it('maps.o: definitions, inner maps and initial values', () => {
    const spec = parse('maps.o', { possibleCpus: 4 });
    const m = new Map(spec.maps.map((x, i) => [x.name, { ...x, index: i }]));
    expect(m.get('events')).toMatchObject({ type: 27, maxEntries: 8192 });
    expect(m.get('bloom')).toMatchObject({ type: 30, mapExtra: 3n, keySize: 0, valueSize: 4 });
    expect(m.get('perf_out')).toMatchObject({ maxEntries: 4 });
    expect(m.get('routes')).toMatchObject({ flags: 1, keySize: 8 });
    expect(m.get('outer_arr')!.innerMap).toMatchObject({ name: 'outer_arr.inner', type: 2, keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(m.get('outer_arr')!.initialValues).toEqual([
      { key: 0, kind: 'map', map: m.get('inner_a')!.index, name: 'inner_a' },
      { key: 2, kind: 'map', map: m.get('inner_b')!.index, name: 'inner_b' },
    ]);
    expect(m.get('outer_hash')!.innerMap).toMatchObject({ type: 1, keySize: 8, valueSize: 8, maxEntries: 16 });
    const progs = spec.programs.map((p) => p.name);
    expect(m.get('jumps')!.initialValues).toEqual([
      { key: 1, kind: 'program', program: progs.indexOf('tail_one'), name: 'tail_one' },
      { key: 3, kind: 'program', program: progs.indexOf('tail_two'), name: 'tail_two' },
    ]);
    const flows = m.get('flows')!;
    expect(spec.btf!.typeById(flows.btfValueTypeId!).name).toBe('flow_stats');
    expect(spec.btf!.typeById(flows.btfKeyTypeId!).name).toBe('flow_key');
  });

  it('globals.o: global data maps with contents, flags, kconfig and ksyms', () => {
    const spec = parse('globals.o');
    const names = spec.maps.map((x) => x.name);
    expect(names).toEqual(['globals.data', 'globals.rodata', '.data.table', '.rodata.config', 'globals.bss', '.bss.extra', 'globals.kconfig']);
    const rodata = spec.maps[1]!;
    expect(rodata).toMatchObject({ kind: 'rodata', realName: '.rodata', frozen: true, keySize: 4, maxEntries: 1 });
    expect((rodata.flags ?? 0) & 0x80).toBe(0x80);
    const v = new DataView(rodata.initialData!.buffer, rodata.initialData!.byteOffset);
    expect(v.getUint32(0, true)).toBe(100);
    expect(new TextDecoder().decode(spec.maps[3]!.initialData!.subarray(0, 12))).toBe('tsbpf-loader');
    expect(spec.maps[5]!.initialData).toEqual(new Uint8Array(64));
    const kc = spec.maps[6]!;
    expect(kc).toMatchObject({ kind: 'kconfig', valueSize: 17, frozen: true });
    const ext = new Map(spec.externs.map((e) => [e.name, e]));
    expect(ext.get('CONFIG_MISSING_OPTION')).toMatchObject({ kind: 'kconfig', weak: true, resolved: false, offset: 0, size: 8 });
    expect(ext.get('CONFIG_HZ')).toMatchObject({ resolved: true, offset: 8, value: 250n });
    expect(ext.get('LINUX_KERNEL_VERSION')).toMatchObject({ offset: 12, value: BigInt((6 << 16) + (18 << 8)) });
    expect(ext.get('CONFIG_BPF_SYSCALL')).toMatchObject({ offset: 16, value: 'y' });
    const kv = new DataView(kc.initialData!.buffer, kc.initialData!.byteOffset);
    expect(kv.getBigUint64(0, true)).toBe(0n);
    expect(kv.getUint32(8, true)).toBe(250);
    expect(kc.initialData![16]).toBe(1);
    expect(ext.get('bpf_prog_active')).toMatchObject({ kind: 'ksym', weak: true, typeless: true, resolved: false });
    const p = spec.programs[0]!;
    const kinds = p.relocations.map((r) => r.kind);
    expect(kinds).toContain('kconfig');
    expect(kinds).toContain('ksym');
    const ks = p.relocations.find((r) => r.kind === 'ksym')!;
    expect(new DataView(p.insns.buffer).getInt32(ks.slot * 8 + 4, true)).toBe(0);
    // Overrides.
    const o2 = parse('globals.o', { kconfig: { CONFIG_HZ: 1000, CONFIG_MISSING_OPTION: '0x123456789' } });
    const kv2 = new DataView(o2.maps[6]!.initialData!.buffer);
    expect(kv2.getUint32(8, true)).toBe(1000);
    expect(kv2.getBigUint64(0, true)).toBe(0x123456789n);
    // A value libbpf would refuse fails the programs that use the extern.
    const bad = parse('globals.o', { kconfig: { CONFIG_BPF_SYSCALL: 'm' } });
    expect(bad.externs.find((e) => e.name === 'CONFIG_BPF_SYSCALL')!.error?.message).toMatch(/extern \(kcfg\) 'CONFIG_BPF_SYSCALL': value 'm' implies tristate/);
    expect(bad.programs[0]!.loadError?.message).toMatch(/value 'm' implies tristate/);
    expect(parse('globals.o', { kconfig: { CONFIG_HZ: 2 ** 40 } }).programs[0]!.loadError?.message).toMatch(/doesn't fit in 4 bytes/);
  });

  it('a kernel .config file gives .kconfig values: set options, not unset ones; a bad line is named', () => {
    const values = parseKconfig('# comment\nCONFIG_HZ=1000\n# CONFIG_MISSING_OPTION is not set\nCONFIG_DEFAULT_HOSTNAME="(none)"\n\nCONFIG_BPF_SYSCALL=y\n');
    expect(values).toEqual({ CONFIG_HZ: '1000', CONFIG_DEFAULT_HOSTNAME: '"(none)"', CONFIG_BPF_SYSCALL: 'y' });
    const kv = new DataView(parse('globals.o', { kconfig: values }).maps[6]!.initialData!.buffer);
    expect(kv.getUint32(8, true)).toBe(1000);
    expect(kv.getBigUint64(0, true)).toBe(0n); // unset: the weak extern stays 0
    expect(() => parseKconfig('CONFIG_A=y\nCONFIG_B\n')).toThrow("line 2: expected CONFIG_NAME=value, got 'CONFIG_B'");
  });

  it('map_value relocations carry the offset; lddw bytes encode map indexes', () => {
    const spec = parse('globals_11.o');
    const p = spec.programs[0]!;
    const view = new DataView(p.insns.buffer);
    for (const r of p.relocations) {
      const src = view.getUint8(r.slot * 8 + 1) >> 4;
      if (r.kind === 'map_value' || r.kind === 'kconfig') {
        expect(src).toBe(6);
        expect(view.getInt32(r.slot * 8 + 4, true)).toBe(r.map);
        expect(view.getInt32(r.slot * 8 + 12, true)).toBe(r.offset);
      }
    }
    const cfg = p.relocations.filter((r) => r.kind === 'map_value' && spec.maps[r.map]!.realName === '.rodata');
    expect(cfg.map((r) => (r as { offset: number }).offset).sort((a, b) => a - b)).toEqual([0, 4, 4, 16]);
  });

  it('subprogs.o: subprograms appended per program, callbacks linked as BPF_PSEUDO_FUNC', () => {
    const spec = parse('subprogs.o');
    const a = spec.programs.find((p) => p.name === 'prog_a')!;
    expect(a.functions.map((f) => f.name)).toEqual(['prog_a', 'loop_cb', 'leaf', 'middle']);
    const fn = a.relocations.find((r) => r.kind === 'func')!;
    expect(fn).toMatchObject({ kind: 'func', function: 'loop_cb', target: 13 });
    const view = new DataView(a.insns.buffer);
    expect(view.getUint8(fn.slot * 8 + 1) >> 4).toBe(4);
    expect(fn.slot + 1 + view.getInt32(fn.slot * 8 + 4, true)).toBe(13);
    for (const r of a.relocations) {
      if (r.kind === 'call') expect(r.slot + 1 + view.getInt32(r.slot * 8 + 4, true)).toBe(r.target);
    }
    const c = spec.programs.find((p) => p.name === 'prog_c')!;
    expect(c.functions.map((f) => f.name)).toEqual(['prog_c', 'each_cb', 'other', 'middle', 'leaf', 'global_helper']);
    expect(spec.programs.find((p) => p.name === 'prog_d')!.functions).toHaveLength(1);
  });

  it('legacy maps (libbpf 0.x struct bpf_map_def) and legacy section names', () => {
    for (const name of ['legacy.o', 'legacy_nobtf.o']) {
      const spec = parse(name);
      expect(spec.maps.map((m) => [m.name, m.kind, m.type, m.keySize, m.valueSize, m.maxEntries])).toEqual([
        ['legacy_hash', 'legacy', 1, 4, 8, 256], ['legacy_array', 'legacy', 2, 4, 4, 2],
      ]);
      expect(spec.programs.map((p) => [p.name, p.typeName])).toEqual([['sock_prog', 'socket_filter'], ['xdp_legacy', 'xdp'], ['probe_getpid', 'kprobe']]);
      expect(spec.programs[0]!.relocations).toEqual([{ slot: 5, kind: 'map', map: 0 }]);
      expect(spec.kernelVersion).toBe(0x060c00);
    }
    if (!missing('bpftool')) {
      const r = run('bpftool', ['prog', 'loadall', fixturePath('legacy.o'), '/sys/fs/bpf/tsbpf-never']);
      expect(r.stderr).toMatch(/legacy map definitions in 'maps' section are not supported by libbpf v1.0\+/);
    }
  });

  it('iproute2 objects: struct bpf_elf_map, classifier/action and tail-call sections fill the prog array', () => {
    const spec = parse('iproute2.o');
    expect(spec.maps[0]).toMatchObject({ name: 'jmp_tc', type: 3, maxEntries: 8, legacy: { id: 1, pinning: 2, innerId: 0, innerIdx: 0 } });
    expect(spec.maps[0]!.initialValues).toEqual([
      { key: 0, kind: 'program', program: 0, name: 'cls_case1' }, { key: 2, kind: 'program', program: 1, name: 'cls_case2' },
    ]);
    expect(spec.programs.map((p) => [p.name, p.section, p.typeName])).toEqual([
      ['cls_case1', '1/0', 'sched_cls'], ['cls_case2', '1/2', 'sched_cls'], ['cls_entry', 'classifier', 'sched_cls'], ['act_count', 'action', 'sched_act'],
    ]);
  });

  it('CO-RE against the built-in context BTF by default', () => {
    const spec = parse('core.o');
    const ctx = spec.programs.find((p) => p.name === 'core_ctx')!;
    const view = new DataView(ctx.insns.buffer);
    const loads = [];
    for (let i = 0; i < ctx.insns.length / 8; i++) if ((view.getUint8(i * 8) & 7) === 1) loads.push(view.getInt16(i * 8 + 2, true));
    expect(loads).toContain(56); // cb[2] in struct __sk_buff
    expect(spec.log).toContain("prog 'core_ctx': relo #2: matching candidate #0 <byte_off> [" + spec.log.find((l) => /matching candidate #0 <byte_off> \[\d+\] struct __sk_buff\.cb\[2\]/.test(l))!.split('[')[1]!.split(']')[0] + '] struct __sk_buff.cb[2] (0:12:2 @ offset 56)');
    const poisoned = [];
    for (let i = 0; i < ctx.insns.length / 8; i++) if (view.getUint8(i * 8) === 0x85 && view.getInt32(i * 8 + 4, true) === 195896080) poisoned.push(i);
    expect(poisoned).toEqual([7]);
    expect(spec.log).toContain("prog 'core_ctx': relo #4: substituting insn #7 w/ invalid insn");
    const reads = spec.programs.find((p) => p.name === 'core_reads')!;
    expect(reads.insns.length).toBeGreaterThan(0);
  });

  it('refuses strong externs tsbpf cannot provide, with clear messages', () => {
    const why = missing('clang-19');
    if (why) {
      console.log(`skipped: ${why}`);
      return;
    }
    const dir = tempDir();
    const build = (src: string): Uint8Array => {
      const r = run('sh', ['-c', `cat > x.c <<'EOF'\n#include "${FIXTURES}common.h"\n${src}\nchar L[] SEC("license") = "GPL";\nEOF\nclang-19 -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -c x.c -o x.o`], { cwd: dir });
      expect(r.ok, r.stderr).toBe(true);
      return new Uint8Array(readFileSync(`${dir}/x.o`));
    };
    // libbpf's messages, as the verdict of the programs that use the extern (the others load).
    const strongKsym = build('extern const int tsbpf_var __ksym; SEC("xdp") int f(void *c) { return tsbpf_var; } SEC("xdp") int g(void *c) { return 2; }');
    const ks = parseObject(strongKsym, { name: 'x.o' });
    expect(ks.programs.map((p) => [p.name, p.loadError?.message])).toEqual([['f', "extern (var ksym) 'tsbpf_var': not found in kernel BTF"], ['g', undefined]]);
    expect(ks.programs[0]!.loadError!.errno).toBe('EINVAL');
    expect(ks.log.some((l) => /kernel symbols do not exist in user space/.test(l))).toBe(true);
    const typeless = build('extern const void tsbpf_sym __ksym; SEC("xdp") int f(void *c) { return (long)&tsbpf_sym & 3; }');
    expect(parseObject(typeless, { name: 'x.o' }).programs[0]!.loadError?.message).toBe("extern 'tsbpf_sym' (strong): not resolved");
    // with kernel symbol addresses (kallsyms), the ld_imm64 loads the address as a plain constant, as libbpf writes it
    const withAddress = parseObject(typeless, { name: 'x.o', ksymAddress: (n) => (n === 'tsbpf_sym' ? 0xffffffff8123abcdn : undefined) });
    const prog = withAddress.programs[0]!;
    expect(prog.loadError).toBeUndefined();
    expect(withAddress.log).toContain("extern (ksym) 'tsbpf_sym': set to 0xffffffff8123abcd");
    const view = new DataView(prog.insns.buffer, prog.insns.byteOffset, prog.insns.byteLength);
    const at = [...Array(prog.insns.length / 8).keys()].find((i) => prog.insns[i * 8] === 0x18)!;
    expect(prog.insns[at * 8 + 1]! >> 4).toBe(0); // no pseudo source
    expect([view.getUint32(at * 8 + 4, true), view.getUint32(at * 8 + 12, true)]).toEqual([0x8123abcd, 0xffffffff]);
    const strongKcfg = build('extern int CONFIG_TSBPF_NOPE __kconfig; SEC("xdp") int f(void *c) { return CONFIG_TSBPF_NOPE; }');
    expect(parseObject(strongKcfg, { name: 'x.o' }).programs[0]!.loadError?.message).toBe("extern 'CONFIG_TSBPF_NOPE' (strong): not resolved");
    const virtual = build('extern int LINUX_TSBPF_NOPE __kconfig; SEC("xdp") int f(void *c) { return LINUX_TSBPF_NOPE; }');
    expect(parseObject(virtual, { name: 'x.o' }).programs[0]!.loadError?.message).toBe("extern (kcfg) 'LINUX_TSBPF_NOPE': unrecognized virtual extern");
    expect(parseObject(strongKcfg, { name: 'x.o', kconfig: { CONFIG_TSBPF_NOPE: 7 } }).externs[0]).toMatchObject({ resolved: true, value: 7n });
    // a kfunc outside tsbpf's built-in set (loader/kfunc-btf.ts), with no kernel BTF to find it in
    const kfunc = build('extern void bpf_preempt_disable(void) __ksym __weak; SEC("tc") int f(void *c) { if (bpf_ksym_exists(bpf_preempt_disable)) bpf_preempt_disable(); return 0; }');
    const spec = parseObject(kfunc, { name: 'x.o' });
    const p = spec.programs[0]!;
    const call = p.relocations.find((r) => r.kind === 'kfunc')!;
    expect(call).toMatchObject({ kind: 'kfunc', name: 'bpf_preempt_disable', weak: true });
    expect(new DataView(p.insns.buffer).getInt32(call.slot * 8 + 4, true)).toBe(2002000000);
    expect(spec.kfuncBtf).toBeUndefined();
    const strongKfunc = build('extern void bpf_preempt_disable(void) __ksym; SEC("tc") int f(void *c) { bpf_preempt_disable(); return 0; }');
    const kf = parseObject(strongKfunc, { name: 'x.o' });
    expect(kf.programs[0]!.loadError).toMatchObject({ message: "extern (func ksym) 'bpf_preempt_disable': not found in kernel or module BTFs", errno: 'EINVAL' });
    expect(kf.log.some((l) => /kernel functions \(kfuncs\) do not exist in user space/.test(l))).toBe(true);
    // one of the built-in set resolves without a kernel BTF, to an id of that BTF
    const builtin = parseObject(build('extern void bpf_rcu_read_lock(void) __ksym; SEC("tc") int f(void *c) { bpf_rcu_read_lock(); return 0; }'), { name: 'x.o' });
    expect(builtin.programs[0]!.loadError).toBeUndefined();
    const rcu = builtin.programs[0]!.relocations.find((r) => r.kind === 'kfunc')!;
    const rcuId = new DataView(builtin.programs[0]!.insns.buffer).getInt32(rcu.slot * 8 + 4, true);
    expect(builtin.kfuncBtf!.typeById(rcuId)).toMatchObject({ kind: 'FUNC', name: 'bpf_rcu_read_lock' });
    const unlinked = parseObject(fixture('link_c.o'), { name: 'link_c.o' });
    expect(unlinked.programs.some((p) => /extern function 'shared_fn' is not defined in this object/.test(p.loadError?.message ?? ''))).toBe(true);
  });

  it('every committed fixture parses; objects rebuilt with clang-19 match the committed ones', () => {
    for (const name of fixtureObjects()) {
      if (name === 'link_a.o' || name === 'link_c.o') continue; // need linking
      const spec = parse(name);
      expect(spec.programs.length, name).toBeGreaterThan(0);
      for (const p of spec.programs) expect(p.insns.length % 8).toBe(0);
    }
    const why = missing('clang-19');
    if (why) {
      console.log(`skipped the rebuild: ${why}`);
      return;
    }
    const dir = tempDir();
    const r = run('sh', [`${FIXTURES}build.sh`, dir]);
    expect(r.ok, r.stderr).toBe(true);
    const differ: string[] = [];
    for (const name of fixtureObjects()) {
      const rebuilt = new Uint8Array(readFileSync(`${dir}/${name}`));
      const committed = fixture(name);
      if (rebuilt.length !== committed.length || rebuilt.some((b, i) => b !== committed[i])) differ.push(name);
      if (name !== 'link_a.o' && name !== 'link_c.o') expect(parseObject(rebuilt, { name }).programs.length).toBe(parse(name).programs.length);
    }
    if (differ.length) console.log(`rebuilt objects differ from the committed ones (another clang build?): ${differ.join(', ')}`);
  });
});

describe('relocation errors name the section and offset', () => {
  it('a relocation pointing outside its section', () => {
    const bytes = fixture('subprogs.o').slice();
    const spec = parseObject(bytes);
    expect(spec.programs.length).toBe(4);
    const elf = readElf(bytes);
    const rel = elf.relocations.find((r) => elf.sections[r.target]!.name === 'xdp')!;
    const relSec = elf.sections[rel.index]!;
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(relSec.offset, 0x10000n, true);
    let err: unknown;
    try {
      parseObject(bytes, { name: 'bad.o' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoaderError);
    expect((err as LoaderError).message).toMatch(/relocation #0 at offset 65536 is outside the section/);
    expect((err as LoaderError).location).toMatchObject({ file: 'bad.o', section: 'xdp' });
    // At an instruction that is not lddw or call: that program's verdict, the others load.
    dv.setBigUint64(relSec.offset, 8n, true);
    const bad = parseObject(bytes, { name: 'bad.o' });
    const hit = bad.programs.filter((p) => p.loadError !== undefined);
    expect(hit.map((p) => p.section)).toEqual(['xdp']);
    expect(hit[0]!.loadError!.message).toMatch(/a relocation must point at a lddw or call instruction/);
    expect(hit[0]!.loadError).toMatchObject({ section: 'xdp', insn: 1 });
    expect(bad.programs.length).toBe(4);
  });
});

describe('struct_ops sections', () => {
  it('give each program the struct and member that point at it (libbpf\'s attach_btf_id and expected_attach_type)', () => {
    const file = new URL('../../test/fixtures/verifier/objects/struct_ops_tcp_ca.o', import.meta.url);
    const spec = parseObject(new Uint8Array(readFileSync(file)), { name: 'struct_ops_tcp_ca.o' });
    const of = (name: string) => spec.programs.find((p) => p.name === name)?.structOps;
    expect(of('halve')).toEqual({ struct: 'tcp_congestion_ops', member: 'ssthresh', map: 'tsbpf_cc' });
    expect(of('write_srtt')).toEqual({ struct: 'tcp_congestion_ops', member: 'release', map: 'tsbpf_cc' });
    expect(of('uninit_return')).toEqual({ struct: 'tcp_congestion_ops', member: 'ssthresh', map: 'tsbpf_cc2' });
    expect(of('send_ack')).toEqual({ struct: 'tcp_congestion_ops', member: 'set_state', map: 'tsbpf_cc2' });
    // a program two variables name keeps the last (reno_avoid is cong_avoid in both)
    expect(of('reno_avoid')?.member).toBe('cong_avoid');
    expect(spec.programs.every((p) => p.structOps !== undefined)).toBe(true);
  });
});
