/**
 * `tsbpf prog load|dump|run|tracelog`, `map dump` and `btf dump` on the
 * example objects, checked against hand-checked values, the examples'
 * kernel-verified manifest, and bpftool itself where it is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir, tsbpf, writeTemp } from '../support/cli.js';
import { EXAMPLES_DIR } from '../examples/manifest.js';

const ex = (name: string) => join(EXAMPLES_DIR, name);
const input = (name: string) => join(EXAMPLES_DIR, 'inputs', name);
const FIXTURES = fileURLToPath(new URL('../fixtures/cli/', import.meta.url));
const bpftool = spawnSync('bpftool', ['version'], { encoding: 'utf8' });
const haveBpftool = bpftool.status === 0;
if (!haveBpftool) console.log('skipping bpftool comparisons: bpftool is not installed');

describe('tsbpf prog load', () => {
  it('lists programs, maps, sizes and BTF like bpftool would name them', () => {
    const r = tsbpf('prog', 'load', ex('global_config.o'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("object global_config: license 'GPL', BTF (");
    expect(r.stdout).toContain('prog 0: xdp  name global_config  section xdp  78 insns (624 bytes)');
    expect(r.stdout).toContain('map 0: array  name global_c.rodata  key 4B  value 4B  max_entries 1  flags 0x480  frozen');
    expect(r.stdout).toContain('map 2: array  name .data.stats  key 4B  value 32B  max_entries 1  flags 0x400');
  });

  it('prints JSON with every program and its verdict, and lists maps', () => {
    const j = JSON.parse(tsbpf('prog', 'load', ex('tail_dispatch.o'), '--json').stdout);
    expect(j.programs.map((p: { name: string; type: string; accepted: boolean }) => `${p.name}:${p.type}:${p.accepted}`)).toEqual(
      ['handle_icmp:xdp:true', 'handle_tcp:xdp:true', 'handle_udp:xdp:true', 'xdp_dispatch:xdp:true']);
    expect(Object.keys(j.programs[0])).toEqual(['name', 'section', 'type', 'accepted', 'error', 'insns_processed']);
    const maps = JSON.parse(tsbpf('map', 'list', ex('tail_dispatch.o'), '--json').stdout);
    expect(maps[0]).toEqual({ name: 'jmp_table', type: 'prog_array', key_size: 4, value_size: 4, max_entries: 256, flags: 0, frozen: false, pinning: 0, legacy: null, error: null });
  });

  it('reports a rejected program with the kernel verifier log on stderr and exits 1; it never runs', () => {
    const obj = join(FIXTURES, 'unchecked_read.o');
    const load = tsbpf('prog', 'load', obj, '--json');
    expect(load.status).toBe(1);
    expect(JSON.parse(load.stdout).programs).toEqual([
      { name: 'unchecked_read', section: 'xdp', type: 'xdp', accepted: false, error: 'R1 offset is outside of the packet', insns_processed: 2 },
      { name: 'checked_read', section: 'xdp', type: 'xdp', accepted: true, error: null, insns_processed: 13 },
    ]);
    expect(load.stderr).toContain("prog 'unchecked_read': -- BEGIN PROG LOAD LOG --");
    expect(load.stderr).toContain('invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)');
    const run = tsbpf('prog', 'run', obj, '--name', 'unchecked_read', '--data-in', input('ipv4_tcp_syn.bin'));
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(/^tsbpf: .*unchecked_read.o: section xdp: program 'unchecked_read' was rejected by the verifier: R1 offset is outside of the packet$/);
    const ok = tsbpf('prog', 'run', obj, '--name', 'checked_read', '--data-in', input('ipv4_tcp_syn.bin'), '--json');
    expect(JSON.parse(ok.stdout).retval).toBe(2);
    // --no-verify runs it anyway, in checked mode.
    expect(JSON.parse(tsbpf('prog', 'run', obj, '--name', 'unchecked_read', '--data-in', input('ipv4_tcp_syn.bin'), '--no-verify', '--json').stdout).retval).toBe(2);
  });
});

describe('tsbpf prog run', () => {
  it('gives the kernel-verified results of an example as JSON', () => {
    const r = tsbpf('prog', 'run', ex('global_config.o'), '--data-in', input('ipv4_tcp_telnet.bin'), '--json');
    const j = JSON.parse(r.stdout);
    expect(j.retval).toBe(1); // XDP_DROP: telnet is blocked by .rodata's blocked_port = 23
    expect(typeof j.duration_ns).toBe('number');
    expect(j.data_out).toBe(Buffer.from(readFileSync(input('ipv4_tcp_telnet.bin'))).toString('hex'));
    expect(j.maps['global_c.rodata']).toEqual([{ key: '00000000', value: '17000101' }]);
    expect(Object.keys(j.maps)).toEqual(['global_c.rodata', 'global_c.data', '.data.stats', 'global_c.bss', '.rodata.str1.1']);
  });

  it('--kconfig: .kconfig externs from a .config file, plain or gzip-compressed like /proc/config.gz', () => {
    const obj = fileURLToPath(new URL('../fixtures/loader/globals.o', import.meta.url));
    const counter = (args: string[]): string => {
      const r = tsbpf('prog', 'run', obj, '--data-in', input('ipv4_tcp_syn.bin'), '--json', ...args);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout).maps['globals.data'][0].value.slice(0, 8);
    };
    // counter = 7, then ++ and, with CONFIG_HZ > 100 and CONFIG_BPF_SYSCALL, += CONFIG_MISSING_OPTION (weak: 0 when unset)
    const dir = tempDir();
    expect(counter([])).toBe('08000000');
    const text = 'CONFIG_HZ=1000\nCONFIG_BPF_SYSCALL=y\nCONFIG_MISSING_OPTION=5\n';
    expect(counter(['--kconfig', writeTemp(dir, 'x.config', text)])).toBe('0d000000');
    expect(counter(['--kconfig', writeTemp(dir, 'x.config.gz', gzipSync(text))])).toBe('0d000000');
    if (existsSync('/proc/config.gz')) {
      // the running kernel's configuration brings its LINUX_KERNEL_VERSION too: big_bss[queue] = (u8)LINUX_KERNEL_VERSION
      const r = tsbpf('prog', 'run', obj, '--data-in', input('ipv4_tcp_syn.bin'), '--json', '--kconfig', '/proc/config.gz');
      const patch = Math.min(255, Number(/^\d+\.\d+\.(\d+)/.exec(release())?.[1] ?? 0));
      expect(JSON.parse(r.stdout).maps['.bss.extra'][0].value.slice(0, 2)).toBe(patch.toString(16).padStart(2, '0'));
    }
    const bad = tsbpf('prog', 'run', obj, '--kconfig', writeTemp(dir, 'bad.config', 'CONFIG_HZ=1000\nHZ\n'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.config: line 2: expected CONFIG_NAME=value, got 'HZ'/);
  });

  it('runs the same program repeatedly against the same maps (--repeat) and prints maps by BTF', () => {
    const r = tsbpf('prog', 'run', ex('proto_count.o'), '--data-in', input('ipv4_tcp_syn.bin'), '--repeat', '3');
    expect(r.stdout).toMatch(/^proto_count \(xdp\): return value 2, duration \(average\) \d+ ns, \d+ insns$/m);
    expect(r.stdout).toContain('{"key":6,"values":[{"cpu":0,"value":{"packets":3,"bytes":162}}]}');
    expect(r.stdout).toContain('(255 of 256 entries hold only zeros and are not shown)');
  });

  it('takes initial map contents from JSON files, programs named by prog:NAME', () => {
    const dir = tempDir();
    const init = writeTemp(dir, 'jmp.json', JSON.stringify([{ key: '2f000000', value: 'prog:handle_tcp' }]));
    const r = tsbpf('prog', 'run', ex('tail_dispatch.o'), '--name', 'xdp_dispatch', '--data-in', input('ipv4_gre.bin'), '--map-init', `jmp_table=${init}`, '--json');
    const j = JSON.parse(r.stdout);
    expect(j.maps.jmp_table.map((e: { key: string }) => e.key)).toEqual(['01000000', '06000000', '11000000', '2f000000']);
  });

  it('writes data_out and trace output where asked', () => {
    const dir = tempDir();
    const outFile = join(dir, 'out.bin');
    const r = tsbpf('prog', 'run', ex('vlan_strip.o'), '--data-in', input('vlan_ipv4_udp.bin'), '--data-out', outFile);
    expect(r.stderr).toMatch(/bpf_trace_printk: vlan_strip: vid 100 pcp 3$/m);
    const frame = readFileSync(input('vlan_ipv4_udp.bin'));
    // The 802.1Q tag (4 bytes after the MAC addresses) is gone.
    expect(readFileSync(outFile).toString('hex')).toBe(Buffer.concat([frame.subarray(0, 12), frame.subarray(16)]).toString('hex'));
    const log = tsbpf('prog', 'tracelog', ex('vlan_strip.o'), '--data-in', input('vlan_ipv4_udp.bin'));
    expect(log.stdout).toMatch(/^\s+\S+-\d+ \[000\]\s+\d+\.\d{6}: bpf_trace_printk: vlan_strip: vid 100 pcp 3\n$/);
  });

  it('explains bad input in one line', () => {
    const dir = tempDir();
    const cases: [string[], RegExp][] = [
      [['prog', 'run', ex('tail_dispatch.o'), '--name', 'nope', '--data-in', input('ipv4_gre.bin')], /no program named 'nope' in .*tail_dispatch.o \(programs: handle_icmp \[xdp\], /],
      [['prog', 'run', ex('proto_count.o')], /an xdp program needs a packet \(--data-in\)/],
      [['prog', 'run', ex('proto_count.o'), '--data-in', input('ipv4_tcp_syn.bin'), '--map-init', 'nomap=x.json'], /x.json: cannot read file: no such file/],
      [['prog', 'run', ex('proto_count.o'), '--data-in', input('ipv4_tcp_syn.bin'), '--map-init', `nomap=${writeTemp(dir, 'a.json', '[]')}`], /no map named 'nomap'/],
      [['prog', 'run', ex('proto_count.o'), '--data-in', input('ipv4_tcp_syn.bin'), '--map-init', `l2_stats=${writeTemp(dir, 'b.json', '[{"key":"0700","value":"00"}]')}`], /--map-init l2_stats\[0\]: .*(EINVAL)/],
      [['prog', 'load', writeTemp(dir, 'notelf.o', 'hello')], /notelf.o: .*/],
      [['prog', 'load', writeTemp(dir, 'trunc.o', readFileSync(ex('proto_count.o')).subarray(0, 300))], /trunc.o: .*/],
    ];
    for (const [args, message] of cases) {
      const r = tsbpf(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('tsbpf prog dump', () => {
  it('disassembles with source lines, map names, callbacks and helper names', () => {
    const r = tsbpf('prog', 'dump', ex('csum_loop.o'), '--linum');
    expect(r.stdout).toContain('csum_loop (section socket, socket_filter, 110 insns):');
    expect(r.stdout).toMatch(/; int csum_loop\(struct __sk_buff \*skb\) \[\.\/csum_loop\.c:\d+:\d+\]/);
    expect(r.stdout).toContain('r2 = func hist_byte');
    expect(r.stdout).toContain('call 0xb5\t# bpf_loop');
    expect(r.stdout).toMatch(/r2 = map\[csum_loo\.rodata\]\[0\]\+0/);
    expect(r.stdout).toContain('hist_byte:');
  });

  it('prints the kernel verifier-log syntax', () => {
    const r = tsbpf('prog', 'dump', ex('proto_count.o'), '--syntax', 'kernel');
    expect(r.stdout).toMatch(/\(85\) call bpf_map_lookup_elem#1/);
  });
});

describe('tsbpf map dump and btf dump', () => {
  it('dumps a map after a run, as JSON with raw bytes (--hex: as hex strings) and BTF-formatted entries', () => {
    const r = tsbpf('map', 'dump', ex('global_config.o'), 'global_c.bss', '--data-in', input('ipv4_tcp_telnet.bin'), '--hex');
    const [entry] = JSON.parse(r.stdout);
    expect(entry.key).toBe('00000000');
    expect(entry.value).toMatch(/^[0-9a-f]{32}$/);
    expect(entry.formatted.value['.bss']).toBeDefined();
    const [bytes] = JSON.parse(tsbpf('map', 'dump', ex('global_config.o'), 'global_c.bss', '--data-in', input('ipv4_tcp_telnet.bin'), '--json').stdout);
    expect(bytes.key).toEqual(['0x00', '0x00', '0x00', '0x00']);
    expect(bytes.value.map((b: string) => b.slice(2)).join('')).toBe(entry.value);
    expect(bytes.formatted).toEqual(entry.formatted);
  });

  it.skipIf(!haveBpftool || process.getuid?.() !== 0)('map dump --json prints what bpftool -j map dump prints for the same object loaded in the kernel', () => {
    const pins = `/sys/fs/bpf/tsbpf-mapdump-${process.pid}`;
    for (const [obj, map] of [['xdp_firewall.o', 'verdicts'], ['proto_count.o', 'l2_stats'], ['queue_stack.o', 'history'], ['queue_stack.o', 'pending_syns']] as const) {
      spawnSync('rm', ['-rf', `${pins}-p`, `${pins}-m`]);
      const load = spawnSync('bpftool', ['prog', 'loadall', ex(obj), `${pins}-p`, 'pinmaps', `${pins}-m`], { encoding: 'utf8' });
      if (load.status !== 0) {
        console.log(`skipping the bpftool map dump comparison: bpftool cannot load ${obj} here (${load.stderr.trim().split('\n').at(-1)})`);
        return;
      }
      try {
        const theirs = spawnSync('bpftool', ['-j', 'map', 'dump', 'pinned', `${pins}-m/${map}`], { encoding: 'utf8' }).stdout;
        const cpus = JSON.parse(theirs)[0]?.values?.length ?? 1;
        expect(tsbpf('map', 'dump', ex(obj), map, '--json', '--cpus', String(cpus)).stdout.trim(), `${obj} ${map}`).toBe(theirs.trim());
      } finally {
        spawnSync('rm', ['-rf', `${pins}-p`, `${pins}-m`]);
      }
    }
  });

  it.skipIf(!haveBpftool)('btf dump prints what `bpftool btf dump file` prints for every example', () => {
    for (const name of readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.o'))) {
      const ours = tsbpf('btf', 'dump', ex(name));
      const theirs = spawnSync('bpftool', ['btf', 'dump', 'file', ex(name)], { encoding: 'utf8' });
      expect(ours.stdout, name).toBe(theirs.stdout);
    }
  });
});

