/** `tsbpf verify`: raw and text programs, objects, JSON output, logs on stderr, exit status. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir, tsbpf, writeTemp } from '../support/cli.js';

interface JsonOut {
  programs: { name: string; section: string; type: string; accepted: boolean; error: string | null; insns_processed: number }[];
}

describe('tsbpf verify', () => {
  it('verifies every program of an object, type from the section', () => {
    const r = tsbpf('verify', 'examples/parser.o', '--json');
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout) as JsonOut;
    expect(json.programs).toEqual([{ name: 'parser', section: 'xdp', type: 'xdp', accepted: true, error: null, insns_processed: 1123 }]);
  });

  it('reports each program of an object, and exits 1 when one is rejected', () => {
    const r = tsbpf('verify', 'test/fixtures/loader/sections.o', '--json');
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout) as JsonOut;
    expect(json.programs.length).toBeGreaterThan(40);
    expect(json.programs.find((p) => p.name === 's_xdp')).toMatchObject({ type: 'xdp', accepted: true });
    expect(json.programs.find((p) => p.name === 's_freplace')?.accepted).toBe(false);
    expect(r.stderr).toContain("prog 's_freplace': -- BEGIN PROG LOAD LOG --");
  });

  it('verifies an object without programs as nothing to do (libbpf opens and loads it)', () => {
    const json = tsbpf('verify', 'test/fixtures/cli/maps_only.o', '--json');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ programs: [] });
    const text = tsbpf('verify', 'test/fixtures/cli/maps_only.o');
    expect(text.status).toBe(0);
    expect(text.stdout).toBe('maps_only.o: no programs (1 map)\n');
  });

  it('rejects a raw program with the kernel message and its level-1 log on stderr', () => {
    const dir = tempDir();
    const file = writeTemp(dir, 'bad.s', 'r0 = *(u8 *)(r1 + 0)\nexit\n');
    const r = tsbpf('verify', file, '--prog-type', 'xdp');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('bad.s (xdp): rejected: invalid bpf_context access off=0 size=1\n');
    expect(r.stderr).toBe([
      "prog 'bad.s': BPF program load failed: Permission denied",
      "prog 'bad.s': -- BEGIN PROG LOAD LOG --",
      '0: R1=ctx() R10=fp0',
      '0: (71) r0 = *(u8 *)(r1 +0)',
      'invalid bpf_context access off=0 size=1',
      'processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
      '-- END PROG LOAD LOG --',
      "prog 'bad.s': failed to load: -13",
      '',
    ].join('\n'));
  });

  it('prints the level-2 log of an accepted program, and takes maps for raw programs', () => {
    const dir = tempDir();
    const file = writeTemp(dir, 'ok.s', [
      '*(u32 *)(r10 - 4) = 0', 'r2 = r10', 'r2 += -4', 'ld_pseudo r1, 1, 0', 'call bpf_map_lookup_elem',
      'if r0 == 0 goto +1', 'r0 = *(u64 *)(r0 + 0)', 'r0 = 2', 'exit',
    ].join('\n'));
    const r = tsbpf('verify', file, '--prog-type', 'xdp', '--map', 'hash:4:8:16', '--log-level', '2', '--json');
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as JsonOut).programs[0]).toMatchObject({ accepted: true, insns_processed: 10 });
    expect(r.stderr).toContain('0: R1=ctx() R10=fp0');
    expect(r.stderr).toContain('R1=map_ptr(ks=4,vs=8)');
  });

  it('checks pointer leaks with --no-ptr-leaks', () => {
    const dir = tempDir();
    const file = writeTemp(dir, 'leak.s', 'r0 = r10\nexit\n');
    expect(tsbpf('verify', file, '--prog-type', 'xdp').status).toBe(0);
    const r = tsbpf('verify', file, '--prog-type', 'xdp', '--no-ptr-leaks');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('leak.s (xdp): rejected: R0 leaks addr as return value\n');
  });

  it('refuses an unknown program type as a usage error (exit 2)', () => {
    const dir = tempDir();
    const file = writeTemp(dir, 'ok.s', 'r0 = 0\nexit\n');
    const r = tsbpf('verify', file, '--prog-type', 'nosuch');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: option '--prog-type <type>' argument 'nosuch' is invalid\. unknown program type 'nosuch'/);
  });
});

const VMLINUX = '/sys/kernel/btf/vmlinux';
const haveVmlinux = existsSync(VMLINUX);
if (!haveVmlinux) console.log(`skipping the default-BTF verify test: ${VMLINUX} is missing`);

describe.skipIf(!haveVmlinux)('tsbpf verify on the machine\'s kernel BTF by default', () => {
  const obj = fileURLToPath(new URL('../fixtures/verifier/objects/kprobe_core.o', import.meta.url));
  const core = fileURLToPath(new URL('../fixtures/loader/core.o', import.meta.url));

  it('resolves CO-RE on struct pt_regs as libbpf does (accepted, 14 insns like the kernel); another BTF leaves them unresolved', () => {
    const r = tsbpf('verify', obj, '--json');
    expect(JSON.parse(r.stdout).programs).toEqual([
      { name: 'first_two_args', section: 'kprobe/do_sys_openat2', type: 'kprobe', accepted: true, error: null, insns_processed: 14 },
    ]);
    const other = tsbpf('verify', obj, '--json', '--btf', core);
    expect(JSON.parse(other.stdout).programs[0].error).toBe('failed to resolve CO-RE relocation <byte_off> [16] struct pt_regs.di (0:0 @ offset 0)');
  });

  it('prog load types and relocates the same way', () => {
    const r = tsbpf('prog', 'load', obj, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('"accepted":true');
  });
});
