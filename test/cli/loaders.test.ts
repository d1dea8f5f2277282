/**
 * The CLI on objects of every loader's conventions (issue 11): an object
 * always loads, each program is judged on its own, `--prog-type` and
 * `--attach-type` work on every command that takes an object, pinning and
 * legacy definitions are shown. Fixtures: test/fixtures/loaders.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tsbpf } from '../support/cli.js';

const DIR = fileURLToPath(new URL('../fixtures/loaders/', import.meta.url));
const LOADER = fileURLToPath(new URL('../fixtures/loader/', import.meta.url));
const fx = (name: string) => join(DIR, name);
const frame = fileURLToPath(new URL('../../examples/inputs/ipv4_tcp_syn.bin', import.meta.url));

describe('an object loads whatever one of its programs or maps does', () => {
  it('verify: each program its verdict, libbpf\'s message for what libbpf refuses, exit status 1', () => {
    const r = tsbpf('verify', fx('map_failures.o'));
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      "uses_no_entries [xdp] (xdp): not loaded: map 'no_entries': failed to create: Invalid argument(-22) (array maps need max_entries above 0)",
      "uses_bad_pinning [xdp] (xdp): not loaded: map 'bad_pinning': invalid pinning value 2.",
      "uses_kfunc [xdp] (xdp): not loaded: extern (func ksym) 'bpf_tsbpf_missing_kfunc': not found in kernel or module BTFs",
      expect.stringMatching(/^uses_good \[xdp\] \(xdp\): accepted, \d+ insns processed$/),
      expect.stringMatching(/^uses_cgroup_array \[tc\] \(sched_cls\): accepted, \d+ insns processed$/),
    ]);
    expect(r.stderr).toContain("libbpf: extern (func ksym) 'bpf_tsbpf_missing_kfunc': not found in kernel or module BTFs");
    expect(r.stderr).toContain("prog 'uses_kfunc': failed to load: -22");
    const j = JSON.parse(tsbpf('verify', fx('map_failures.o'), '--json').stdout);
    expect(j.programs.map((p: { accepted: boolean }) => p.accepted)).toEqual([false, false, false, true, true]);
    expect(j.programs[4].run_error).toBeUndefined();
  });

  it('prog load lists what is not loaded, not backed, not created; prog run runs the good program and refuses the others clearly', () => {
    const r = tsbpf('prog', 'load', fx('map_failures.o'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/prog 2: xdp {2}name uses_kfunc .* NOT LOADED: extern \(func ksym\)/);
    expect(r.stdout).toMatch(/prog 4: sched_cls {2}name uses_cgroup_array .* verified \(\d+ insns processed\)\n/);
    expect(r.stdout).toContain('map 0: array  name no_entries  key 4B  value 8B  max_entries 0  flags 0x0  NOT CREATED: -EINVAL: array maps need max_entries above 0');
    expect(r.stdout).toContain('map 2: cgroup_array  name cgroups  key 4B  value 4B  max_entries 1  flags 0x0\n');
    const sizes = tsbpf('prog', 'load', fx('map_sizes.o'));
    expect(sizes.stdout).toMatch(/name out_1g .* verified \(\d+ insns processed\) {2}cannot run in tsbpf: it uses map 'rb1g' \(ringbuf\), which tsbpf does not back/);
    expect(sizes.stdout).toMatch(/name rb1g .* NOT BACKED: it needs 2147483648 bytes/);
    const good = tsbpf('prog', 'run', fx('map_failures.o'), '--name', 'uses_good', '--data-in', frame);
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/^uses_good \(xdp\): return value 2/);
    // --json too: the map Linux refuses is left out of the dump, not an error
    const json = tsbpf('prog', 'run', fx('map_failures.o'), '--name', 'uses_good', '--data-in', frame, '--json');
    expect(json.status, json.stderr).toBe(0);
    expect(Object.keys(JSON.parse(json.stdout).maps)).not.toContain('no_entries');
    // asking whether the packet's socket is in a cgroup is what user space cannot answer: the run stops at the helper
    const cgroups = tsbpf('prog', 'run', fx('map_failures.o'), '--name', 'uses_cgroup_array', '--data-in', frame);
    expect(cgroups.status).toBe(1);
    expect(cgroups.stderr).toMatch(/bpf_skb_under_cgroup#33/);
    const kfunc = tsbpf('prog', 'run', fx('map_failures.o'), '--name', 'uses_kfunc', '--data-in', frame);
    expect(kfunc.status).toBe(1);
    expect(kfunc.stderr).toMatch(/program 'uses_kfunc' cannot be loaded: extern \(func ksym\) 'bpf_tsbpf_missing_kfunc': not found in kernel or module BTFs/);
    expect(tsbpf('map', 'dump', fx('map_sizes.o'), 'rb1g').stderr).toMatch(/map 'rb1g' \(ringbuf\) is not backed by tsbpf/);
  });
});

describe('legacy loaders on the command line', () => {
  it('prog show: each program\'s section rule and loader, tail-call slots; map show: pinning and legacy layouts', () => {
    const r = tsbpf('prog', 'show', fx('iproute2_maps.o'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('prog 0: sched_cls  name tail_two  section 1/0x2  rule N/M (iproute2-tail-call)  tail call: key 2 of the prog array with id 1 (iproute2)');
    expect(r.stdout).toContain('prog 2: sched_act  name act_count  section action  rule action (libbpf)');
    const m = tsbpf('map', 'show', fx('iproute2_maps.o'));
    expect(m.stdout).toContain('map 0: prog_array  name jmp_map  key 4B  value 4B  max_entries 4  flags 0x0  pinning 2 (iproute2 PIN_GLOBAL_NS)  legacy iproute2 definition (36 bytes) id 1');
    expect(m.stdout).toMatch(/map 2: array_of_maps {2}name outer_map .* pinning 16 \(a loader's own value/);
    const j = JSON.parse(tsbpf('map', 'list', fx('samples_maps_nobtf.o'), '--json').stdout);
    expect(j[2]).toMatchObject({ name: 'jmp_table', pinning: 0, legacy: { layout: 'samples', fieldsFrom: 'size', size: 32, unknown: [{ offset: 28, value: 0x5a }] }, error: null });
    const ovs = JSON.parse(tsbpf('prog', 'show', fx('ovs_tail.o'), '--json').stdout);
    expect(ovs[0]).toMatchObject({ name: 'parser', type: 'sched_cls', rule: 'tail-N', loader: 'ovs', tail_call: { map: 'tailcalls', key: 32, loader: 'ovs' } });
  });

  it('--debug prints the loader\'s log: unknown fields and pinning are logged, never refused', () => {
    const r = tsbpf('prog', 'show', fx('samples_maps.o'), '--debug');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("libbpf: map 'jmp_table': unknown non-zero field 'future_field' at offset 28 of its 32-byte definition (0x5a): ignored");
    expect(tsbpf('verify', fx('iproute2_maps.o'), '--debug').stderr).toContain("libbpf: map 'outer_map': pinning 16 (a loader's own value");
  });

  it('runs a tc object through its tail-call section, as tc set it up', () => {
    const r = tsbpf('prog', 'run', fx('iproute2_maps_nobtf.o'), '--name', 'cls_main', '--data-in', frame);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^cls_main \(sched_cls\): return value 2/);
  });
});

describe('--prog-type and --attach-type everywhere an object is accepted', () => {
  // legacy.o's sections (socket1, xdp_prog, kprobe/...) all become kretprobe's type, kprobe.
  const sections = join(LOADER, 'legacy.o');

  it('verify --prog-type kretprobe (an alias) works as prog load does', () => {
    const v = tsbpf('verify', sections, '--prog-type', 'kretprobe', '--json');
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout).programs.map((p: { type: string }) => p.type)).toEqual(['kprobe', 'kprobe', 'kprobe']);
    const l = tsbpf('prog', 'load', sections, '--prog-type', 'kretprobe', '--json');
    expect(JSON.parse(l.stdout).programs.map((p: { type: string }) => p.type)).toEqual(['kprobe', 'kprobe', 'kprobe']);
  });

  it.each(['verify', 'prog load', 'prog show', 'prog dump', 'map list', 'map show'])('%s takes --prog-type and --attach-type and refuses unknown names clearly', (cmd) => {
    const args = cmd.split(' ');
    const ok = tsbpf(...args, fx('suricata.o'), '--prog-type', 'BPF_PROG_TYPE_SOCKET_FILTER', '--attach-type', 'cgroup_inet_ingress');
    expect(ok.stderr).not.toMatch(/unknown option/);
    expect(tsbpf(...args, fx('suricata.o'), '--prog-type', 'bogus').stderr).toMatch(/unknown program type 'bogus'/);
    expect(tsbpf(...args, fx('suricata.o'), '--attach-type', 'bogus').stderr).toMatch(/unknown attach type 'bogus'/);
  });

  it('prog run and map dump take them too; prog dump shows the overridden types', () => {
    const run = tsbpf('prog', 'run', fx('suricata.o'), '--name', 'xdp_hashfilter', '--prog-type', 'xdp', '--attach-type', 'xdp', '--data-in', frame);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^xdp_hashfilter \(xdp\): return value 2/);
    expect(tsbpf('map', 'dump', fx('ovs_tail.o'), 'datapath_stats', '--prog-type', 'sched_cls', '--attach-type', 'tcx_ingress').status).toBe(0);
    const dump = tsbpf('prog', 'dump', fx('suricata.o'), '--name', 'lb', '--prog-type', 'sched_cls', '--attach-type', 'tcx_ingress');
    expect(dump.stdout).toContain('lb (section loadbalancer, sched_cls/tcx_ingress, ');
  });
});
