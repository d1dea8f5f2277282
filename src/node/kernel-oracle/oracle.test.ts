/**
 * The kernel oracle against the running kernel: every command and field
 * the repository's tests use, its input errors, map reuse for `verify`,
 * and no fd left open. (Its replies were also compared with those of the
 * Python tool it replaces, request by request: docs/testing.md.) Skipped,
 * with the reason printed, where the kernel cannot load BPF.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/index.js';
import { possibleCpus } from '../bpf/cpus.js';
import { KernelOracle, ask, probe } from './index.js';
import type { OracleReply } from './index.js';

const p = probe();
const usable = p.ok && p.bpf === true && p['test_run'] === true;
if (!usable) console.log(`kernel oracle tests skipped: ${p.reason ?? 'probe failed'}`);

const hex = (text: string) => Buffer.from(assemble(text, { syntax: 'llvm' }).bytes).toString('hex');
const openFds = () => readdirSync('/proc/self/fd').length;
const R0_2 = 'b7000000020000009500000000000000';
const HASH = { type: 'hash', key_size: 4, value_size: 8, max_entries: 8 };
const LOOKUP = hex('r1 = 0\n*(u32 *)(r10 - 4) = r1\nld_pseudo r1, 1, 0\nr2 = r10\nr2 += -4\ncall bpf_map_lookup_elem\nr0 = 2\nexit');

describe('kernel oracle requests that need no kernel', () => {
  it('refuses bad requests with a reason and the stage', () => {
    expect(ask([5])[0]).toEqual({ ok: false, error: 'request must be a JSON object', stage: 'input' });
    expect(ask([{ cmd: 'load' }])[0]).toEqual({ ok: false, error: "unknown cmd 'load' (one of: probe, verify, run)", stage: 'input' });
    expect(ask([{}])[0]).toEqual({ ok: false, error: 'unknown cmd None (one of: probe, verify, run)', stage: 'input' });
  });
});

describe.skipIf(!usable)('kernel oracle', () => {
  it('probes', () => {
    expect(p).toMatchObject({ ok: true, bpf: true, prog_load: true, test_run: true });
    expect(typeof p['kernel']).toBe('string');
  });

  it('verifies: the verdict, errno, log and processed instructions', () => {
    const [ok, bad, quiet] = ask([
      { cmd: 'verify', prog_type: 'xdp', insns: R0_2 },
      { cmd: 'verify', prog_type: 'socket_filter', insns: '7a0af8fd00000000b7000000000000009500000000000000' },
      { cmd: 'verify', prog_type: 'BPF_PROG_TYPE_XDP', insns: `0x ${R0_2.slice(0, 16)} ${R0_2.slice(16)}`, log_level: 0 },
    ]);
    expect(ok).toMatchObject({ ok: true, accepted: true, errno: 0, insn_processed: 2, log_truncated: false });
    expect(ok!.log).toMatch(/^processed 2 insns/);
    expect(bad).toMatchObject({ ok: true, accepted: false, errno: 13, errno_name: 'EACCES', error: 'EACCES (Permission denied)', insn_processed: 1 });
    expect(bad!.log).toContain('invalid write to stack R10 off=-520 size=8');
    expect(quiet).toMatchObject({ ok: true, accepted: true, log: '', insn_processed: null });
  });

  it('grows a short log until the whole log fits', () => {
    const insns = hex('r0 = 1\nr0 += 1\nr0 += 2\nr0 += 3\nexit');
    const [small, large] = ask([
      { cmd: 'verify', prog_type: 'xdp', insns, log_level: 2, log_size: 128 },
      { cmd: 'verify', prog_type: 'xdp', insns, log_level: 2 },
    ]);
    expect(small!.log!.length).toBeGreaterThan(128);
    expect(small!.log).toBe(large!.log);
    expect(small!.log_truncated).toBe(false);
  });

  it('takes prog_flags, expected_attach_type, license and maps by name or number', () => {
    const replies = ask([
      { cmd: 'verify', prog_type: 'cgroup_skb', expected_attach_type: 'BPF_CGROUP_INET_EGRESS', insns: 'b7000000010000009500000000000000' },
      { cmd: 'verify', prog_type: 'xdp', prog_flags: ['BPF_F_TEST_STATE_FREQ', 1], insns: R0_2 },
      { cmd: 'verify', prog_type: 6, insns: LOOKUP, maps: [{ type: 1, key_size: 4, value_size: 8, max_entries: 4, flags: 0x40, name: 'm' }] },
      { cmd: 'verify', prog_type: 'kprobe', license: 'Proprietary', insns: hex('call bpf_get_current_pid_tgid\nr0 = 0\nexit') },
    ]);
    expect(replies.map((r) => r.accepted)).toEqual([true, true, true, true]);
  });

  it('names what is wrong with a request', () => {
    const errors = ask([
      { cmd: 'verify', prog_type: 'nope', insns: R0_2 },
      { cmd: 'verify', prog_type: 'xdp', insns: 'zz' },
      { cmd: 'verify', prog_type: 'xdp', insns: R0_2.slice(0, 30) },
      { cmd: 'verify', prog_type: 'xdp', insns: '' },
      { cmd: 'verify', prog_type: 'xdp', insns: LOOKUP },
      { cmd: 'verify', prog_type: 'xdp', insns: R0_2, log_level: 'x' },
      { cmd: 'verify', prog_type: 'xdp', insns: R0_2, prog_flags: ['bogus'] },
      { cmd: 'verify', prog_type: 'xdp', insns: R0_2, maps: [{ type: 'array_of_maps', key_size: 4, value_size: 4, max_entries: 1, inner_map: 0 }] },
      { cmd: 'verify', prog_type: 'xdp', insns: R0_2, maps: 'x' },
      { cmd: 'verify', prog_type: 'xdp', insns: R0_2, caps: 'root' },
    ]).map((r) => [r.stage, r.error]);
    expect(errors).toEqual([
      ['input', expect.stringMatching(/^unknown prog_type 'nope' \(known: socket_filter, kprobe, /)],
      ['input', 'insns is not valid hex'],
      ['input', 'insns: 15 bytes is not a whole number of 8-byte instructions'],
      ['input', 'insns: no instructions'],
      ['input', 'insns: instruction 2: lddw map index 0 out of range (0 maps)'],
      ['input', 'log_level must be an integer'],
      ['input', expect.stringMatching(/^unknown prog flag 'bogus' \(known: any_alignment, /)],
      ['input', 'maps[0].inner_map must index an earlier map'],
      ['input', 'maps must be a list'],
      ['input', "unknown caps 'root' (known: bpf)"],
    ]);
    const [create] = ask([{ cmd: 'verify', prog_type: 'xdp', insns: R0_2, maps: [{ type: 'array', key_size: 4, value_size: 8, max_entries: 0 }] }]);
    expect(create).toEqual({
      ok: false, stage: 'map_create', errno: 22, errno_name: 'EINVAL',
      error: 'maps[0] (array key_size=4 value_size=8 max_entries=0): BPF_MAP_CREATE failed: EINVAL (Invalid argument)',
    });
  });

  it('runs: data and context in and out, several inputs, refusals', () => {
    const [one, many, ctx, sys, rejected, runt] = ask([
      { cmd: 'run', prog_type: 'xdp', insns: R0_2, data_in: '00'.repeat(14) },
      { cmd: 'run', prog_type: 'xdp', insns: R0_2, repeat: 2, data_size_out: 100, inputs: [{ data_in: '11'.repeat(14) }, { data_in: 'ff'.repeat(30), repeat: 5 }] },
      { cmd: 'run', prog_type: 'sched_cls', insns: 'b7000000010000009500000000000000', data_in: '00'.repeat(14), ctx_in: '00'.repeat(192) },
      { cmd: 'run', prog_type: 'syscall', prog_flags: ['sleepable'], insns: hex('r2 = 7\n*(u32 *)(r1 + 0) = r2\nr0 = 0\nexit'), ctx_in: '00'.repeat(8) },
      { cmd: 'run', prog_type: 'xdp', insns: '9500000000000000', data_in: '00'.repeat(14) },
      { cmd: 'run', prog_type: 'xdp', insns: R0_2, data_in: '00' },
    ]);
    expect(one).toMatchObject({ ok: true, retval: 2, repeat: 1, data_size_out: 14, data_out: '00'.repeat(14), ctx_out: null, insn_processed: 2, maps: [] });
    expect(typeof one!.duration_ns).toBe('number');
    expect(many!.results!.map((r) => [r.retval, r.repeat, r.data_out])).toEqual([[2, 2, '11'.repeat(14)], [2, 5, 'ff'.repeat(30)]]);
    expect(many).toMatchObject({ data_out: 'ff'.repeat(30), repeat: 5 });
    expect(ctx!.ctx_out).toHaveLength(2 * 192);
    expect(sys).toMatchObject({ ok: true, retval: 0, repeat: 0, data_out: '', ctx_out: '0700000000000000' });
    expect(rejected).toMatchObject({ ok: false, stage: 'load', accepted: false, errno_name: 'EACCES', error: 'program rejected by the verifier: EACCES (Permission denied)' });
    expect(rejected!.log).toContain('R0 !read_ok');
    expect(runt).toMatchObject({ ok: false, stage: 'test_run', errno_name: 'EINVAL', error: 'BPF_PROG_TEST_RUN failed: EINVAL (Invalid argument)' });
  });

  it('initialises and dumps maps: per-CPU values, queues, ring buffers, prog arrays, maps of maps', () => {
    const cpus = possibleCpus();
    const out = hex(`
      ld_pseudo r1, 1, 2
      r2 = 0x0a0b0c0d
      *(u64 *)(r10 - 8) = r2
      r2 = r10
      r2 += -8
      r3 = 4
      r4 = 0
      call bpf_ringbuf_output
      r0 = 2
      exit`);
    const [r] = ask([{
      cmd: 'run', prog_type: 'xdp', insns: out, data_in: '00'.repeat(14),
      maps: [
        { type: 'percpu_hash', key_size: 4, value_size: 3, max_entries: 4, flags: ['zero_seed'] },
        { type: 'queue', value_size: 4, max_entries: 3 },
        { type: 'ringbuf', max_entries: 4096 },
        { type: 'array', key_size: 4, value_size: 8, max_entries: 2, dump: false },
        { type: 'array_of_maps', key_size: 4, value_size: 4, max_entries: 2, inner_map: 3 },
      ],
      map_init: [
        { map: 0, key: '05000000', value: '010203' },
        { map: 0, key: '06000000', value: '09'.repeat(8 * cpus) },
        { map: 1, value: '01000000' },
        { map: 1, value: '02000000' },
        { map: 4, key: '01000000', value_map: 3 },
      ],
    }]);
    expect(r!.ok, `${r!.error}\n${r!.log}`).toBe(true);
    const [pc, q, rb, aom] = r!.maps!;
    expect(pc!.entries!.find((e) => e.key === '05000000')).toEqual({ key: '05000000', value: '010203', values: Array(cpus).fill('010203') });
    expect(pc!.entries!.find((e) => e.key === '06000000')!.values).toEqual(Array(cpus).fill('090909'));
    expect(q).toEqual({ map: 1, type: 'queue', entries: [{ value: '01000000' }, { value: '02000000' }] });
    expect(rb).toEqual({ map: 2, type: 'ringbuf', records: ['0d0c0b0a'] });
    expect(aom!.map).toBe(4);
    expect(aom!.entries!.map((e) => e.key)).toEqual(['01000000']);
    const [bad] = ask([{ cmd: 'run', prog_type: 'xdp', insns: R0_2, data_in: '00'.repeat(14), maps: [HASH], map_init: [{ map: 0, key: '00', value: '00' }] }]);
    expect(bad).toMatchObject({ ok: false, stage: 'input', error: 'map_init[0]: value is 1 bytes, map value_size is 8' });
    const [exists] = ask([{
      cmd: 'run', prog_type: 'xdp', insns: R0_2, data_in: '00'.repeat(14), maps: [HASH],
      map_init: [{ map: 0, key: '00000000', value: '00'.repeat(8) }, { map: 0, key: '00000000', value: '00'.repeat(8), flags: 1 }],
    }]);
    expect(exists).toMatchObject({ ok: false, stage: 'map_init', errno_name: 'EEXIST' });
  });

  it('loads tail-call targets from progs and stores them with value_prog', () => {
    const [r] = ask([{
      cmd: 'run', prog_type: 'xdp', data_in: '00'.repeat(14), dump_maps: false,
      insns: hex('ld_pseudo r2, 1, 0\nr3 = 1\ncall bpf_tail_call\nr0 = 1\nexit'),
      maps: [{ type: 'prog_array', key_size: 4, value_size: 4, max_entries: 2 }],
      progs: [{ insns: hex('r0 = 3\nexit') }],
      map_init: [{ map: 0, key: '01000000', value_prog: 0 }],
    }]);
    expect(r).toMatchObject({ ok: true, retval: 3 });
    expect(r!.maps).toBeUndefined();
    const [rejected] = ask([{ cmd: 'run', prog_type: 'xdp', insns: R0_2, data_in: '00'.repeat(14), progs: [{ insns: '9500000000000000' }] }]);
    expect(rejected).toMatchObject({ ok: false, stage: 'load', accepted: false, prog: 0, error: 'progs[0] rejected by the verifier: EACCES (Permission denied)' });
  });

  it('caps: bpf loads without CAP_PERFMON and CAP_SYS_ADMIN', () => {
    const insns = hex('r2 = r10\nif r2 > 5 goto +0\nr0 = 2\nexit');
    const [full, reduced] = ask([{ cmd: 'verify', prog_type: 'xdp', insns }, { cmd: 'verify', prog_type: 'xdp', insns, caps: 'bpf' }]);
    expect(full!.accepted).toBe(true);
    expect(reduced!.accepted).toBe(false);
    expect(reduced!.log).toContain('R2 pointer comparison prohibited');
  });

  it('reuses the maps of verify requests with the same maps list, never those of runs or prog arrays, and closes every fd', () => {
    const before = openFds();
    const oracle = new KernelOracle({ mapCacheSize: 2 });
    const verify = (maps: object[]): OracleReply => oracle.handle({ cmd: 'verify', prog_type: 'xdp', insns: LOOKUP, maps });
    for (let i = 0; i < 5; i++) expect(verify([HASH]).accepted).toBe(true);
    expect(oracle.keptMaps).toBe(1);
    expect(verify([{ ...HASH, max_entries: 9 }]).accepted).toBe(true);
    expect(verify([{ ...HASH, max_entries: 10 }, HASH]).accepted).toBe(true);
    expect(oracle.keptMaps).toBe(3); // two lists kept: the oldest was closed
    expect(verify([{ type: 'prog_array', key_size: 4, value_size: 4, max_entries: 2 }]).ok).toBe(true);
    expect(oracle.handle({ cmd: 'run', prog_type: 'xdp', insns: LOOKUP, data_in: '00'.repeat(14), maps: [HASH] }).ok).toBe(true);
    expect(oracle.handle({ cmd: 'verify', prog_type: 'xdp', insns: LOOKUP, maps: [HASH], caps: 'bpf' }).accepted).toBe(true);
    expect(oracle.keptMaps).toBe(3);
    // failures on the way close what they opened
    oracle.ask([
      { cmd: 'verify', prog_type: 'xdp', insns: R0_2, maps: [HASH, { type: 'array', max_entries: 0 }] },
      { cmd: 'run', prog_type: 'xdp', insns: R0_2, data_in: '00', maps: [HASH] },
      { cmd: 'run', prog_type: 'xdp', insns: '9500000000000000', maps: [HASH] },
    ]);
    expect(openFds()).toBe(before + 3);
    oracle.close();
    expect(oracle.keptMaps).toBe(0);
    expect(openFds()).toBe(before);
    expect(verify([HASH]).accepted).toBe(true); // still usable after close()
    oracle.close();
    expect(openFds()).toBe(before);
  });
});
