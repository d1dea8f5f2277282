/**
 * `tsbpf seccomp compile|run`: a policy compiled, listed and evaluated for
 * system calls, with hand-checked verdicts (the library's runs are checked
 * against the kernel in src/hooks/seccomp.test.ts); the listing runs the
 * same as the policy; usage errors exit 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, tsbpf, writeTemp } from '../support/cli.js';

const POLICY = JSON.stringify({
  arch: 'x86_64', default: 'kill_process', rules: [
    { syscall: 'read', action: 'allow' },
    { syscall: 'openat', action: { errno: 13 }, args: [{ index: 2, op: 'masked_eq', mask: 3, value: 1 }] },
    { syscall: 'openat', action: 'allow' },
    { syscall: 'write', action: 'log', args: [{ index: 0, op: 'le', value: 2 }] },
  ],
});

describe('tsbpf seccomp', () => {
  const dir = tempDir();
  const policy = writeTemp(dir, 'policy.json', POLICY);
  const verdict = (file: string, ...args: string[]) => JSON.parse(tsbpf('seccomp', 'run', file, '--json', ...args).stdout) as { action: string; errno?: number; ret: number };

  it('runs a policy: the first matching rule decides, arguments compared, other architectures killed', () => {
    expect(verdict(policy, '--nr', 'read').action).toBe('allow');
    expect(verdict(policy, '--nr', 'openat', '--args', '0,0,1')).toEqual({ action: 'errno', data: 13, ret: 0x5000d, errno: 13 });
    expect(verdict(policy, '--nr', 'openat', '--args', '0,0,0x40').action).toBe('allow');
    expect(verdict(policy, '--nr', 'write', '--args', '2').action).toBe('log');
    expect(verdict(policy, '--nr', 'write', '--args', '3').action).toBe('kill_process');
    expect(verdict(policy, '--nr', '59').action).toBe('kill_process');
    expect(verdict(policy, '--nr', '63', '--arch', 'aarch64').action).toBe('kill_process');
    expect(tsbpf('seccomp', 'run', policy, '--nr', 'openat', '--args', '0,0,1').stdout.trim()).toBe('ERRNO(13)  ret 0x0005000d');
  });

  it('compiles to a listing (and raw sock_filter bytes) that runs as the policy does', () => {
    const raw = join(dir, 'filter.bin');
    const ddd = tsbpf('seccomp', 'compile', policy, '-ddd', '-o', raw);
    expect(ddd.status, ddd.stderr).toBe(0);
    const count = Number(ddd.stdout.split('\n')[0]);
    expect(readFileSync(raw).length).toBe(count * 8);
    const listing = writeTemp(dir, 'filter.ddd', ddd.stdout);
    for (const args of [['--nr', 'read'], ['--nr', 'openat', '--args', '0,0,1'], ['--nr', 'write', '--args', '7']]) {
      expect(verdict(listing, ...args), args.join(' ')).toEqual(verdict(policy, ...args));
    }
    expect(tsbpf('seccomp', 'compile', policy).stdout).toMatch(/^\(000\) ld {7}\[4\]\n\(001\) jeq {6}#0xc000003e /);
  });

  it('bad input: one line naming what; usage errors exit 2', () => {
    const bad = writeTemp(dir, 'bad.json', '{"arch":"x86_64","default":"allow","rules":[{"syscall":"nosuch","action":"allow"}]}');
    const r = tsbpf('seccomp', 'compile', bad);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nosuch');
    expect(tsbpf('seccomp', 'run', policy, '--nr', 'nosuch').status).toBe(2);
    expect(tsbpf('seccomp', 'run', policy, '--nr', 'read', '--arch', 'vax').status).toBe(2);
    expect(tsbpf('seccomp', 'run', policy, '--nr', 'read', '--args', '1,2,3,4,5,6,7').status).toBe(2);
    expect(tsbpf('seccomp', 'run', policy).status).toBe(2);
  });
});
