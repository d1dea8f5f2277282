/**
 * seccomp against the running kernel: a small C program (built with
 * clang-19 at test time) installs a filter in a child process
 * (PR_SET_NO_NEW_PRIVS + seccomp(SECCOMP_SET_MODE_FILTER)) and makes one
 * syscall with given arguments; what happens (the errno, the syscall
 * running as without the filter, death by SIGSYS) must be what runSeccomp
 * predicts for the same seccomp_data. Filters the kernel refuses to
 * install must be those checkSeccompFilter refuses. Skipped, with the
 * reason printed, off x86_64 Linux or without clang-19.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatClassic } from '../cbpf/listings.js';
import { AluOp, Class, JmpOp, Mode, RetVal, Size, Src, insn } from '../cbpf/insn.js';
import type { CbpfInsn } from '../cbpf/insn.js';
import {
  AUDIT_ARCH, SECCOMP_DATA_SIZE, SeccompRet, checkSeccompFilter, compileSeccompPolicy, encodeSeccompData, runSeccomp,
  runSeccompStack, seccompVerdict, syscallNumber,
} from './seccomp.js';
import type { SeccompPolicy, SeccompVerdict } from './seccomp.js';
import { findClassicProblem } from '../cbpf/classic-check.js';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64 } from './seccomp-syscalls.js';

const RUNNER_C = `
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static struct sock_filter filter[4096];

int main(int argc, char **argv) {
  unsigned n = 0;
  if (argc > 1 && strcmp(argv[1], "-") != 0) {
    FILE *fp = fopen(argv[1], "r");
    if (!fp || fscanf(fp, "%u", &n) != 1 || n > 4096) return 2;
    for (unsigned i = 0; i < n; i++) {
      unsigned code, jt, jf, k;
      if (fscanf(fp, "%u %u %u %u", &code, &jt, &jf, &k) != 4) return 2;
      filter[i].code = code; filter[i].jt = jt; filter[i].jf = jf; filter[i].k = k;
    }
    fclose(fp);
  }
  unsigned long long nr, a[6];
  while (scanf("%llu %llu %llu %llu %llu %llu %llu", &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) == 7) {
    int fds[2];
    if (pipe(fds)) return 3;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      struct rlimit none = { 0, 0 };
      setrlimit(RLIMIT_CORE, &none);
      close(fds[0]);
      char b[96];
      if (argc > 1 && strcmp(argv[1], "-") != 0) {
        struct sock_fprog prog = { (unsigned short)n, filter };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) _exit(90);
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
          int l = snprintf(b, sizeof b, "install errno %d\\n", errno);
          write(fds[1], b, l);
          _exit(0);
        }
      }
      errno = 0;
      long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
      int e = errno;
      int l = snprintf(b, sizeof b, "ret %ld errno %d\\n", r, r == -1 ? e : 0);
      write(fds[1], b, l);
      _exit(0);
    }
    close(fds[1]);
    char buf[128];
    ssize_t l = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) printf("signal %d\\n", WTERMSIG(status));
    else if (l > 0) printf("%.*s", (int)l, buf);
    else printf("exit %d\\n", WEXITSTATUS(status));
  }
  return 0;
}
`;

function buildRunner(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the kernel tests need x86_64 Linux, not ${process.platform}/${process.arch}`;
  if (spawnSync('clang-19', ['--version']).status !== 0) return 'clang-19 is not installed';
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-seccomp-'));
  writeFileSync(join(dir, 'runner.c'), RUNNER_C);
  const r = spawnSync('clang-19', ['-O1', '-o', join(dir, 'runner'), join(dir, 'runner.c')], { encoding: 'utf8' });
  if (r.status !== 0) return `the test program does not build: ${r.stderr.trim().split('\n')[0]}`;
  // seccomp may be unavailable (a container without it): try a trivial filter.
  const allow = join(dir, 'allow.ddd');
  writeFileSync(allow, formatClassic([insn(Class.RET | RetVal.K, SeccompRet.ALLOW)], 'ddd'));
  const probe = spawnSync(join(dir, 'runner'), [allow], { input: '39 0 0 0 0 0 0\n', encoding: 'utf8' });
  if (!/^ret \d+ errno 0$/m.test(probe.stdout)) return `seccomp filters cannot be installed here: ${probe.stdout.trim() || probe.stderr.trim()}`;
  return join(dir, 'runner');
}

const built = buildRunner();
const runnerPath = built.startsWith('/') ? built : '';
if (!runnerPath) console.log(`skipping the seccomp kernel comparisons: ${built}`);

interface Call {
  nr: number;
  args: bigint[];
}

/** Runs each call in a child under `prog` (or none); one outcome line per call. */
function kernelOutcomes(prog: readonly CbpfInsn[] | null, calls: Call[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-seccomp-run-'));
  const file = join(dir, 'filter.ddd');
  if (prog) writeFileSync(file, formatClassic(prog, 'ddd'));
  const input = calls.map((c) => [c.nr, ...Array.from({ length: 6 }, (_v, i) => BigInt.asUintN(64, c.args[i] ?? 0n))].join(' ')).join('\n') + '\n';
  const r = spawnSync(runnerPath, [prog ? file : '-'], { input, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  // Successful results (pids, tids) differ from child to child.
  return r.stdout.trim().split('\n').map((l) => l.replace(/^ret \d+ errno 0$/, 'ret ok'));
}

/** What the kernel does for a verdict, given what the call does without a filter. */
function predicted(v: SeccompVerdict, unfiltered: string): string {
  switch (v.action) {
    case 'allow': case 'log': return unfiltered;
    case 'errno': return v.errno === 0 ? 'ret ok' : `ret -1 errno ${v.errno}`; // errno 0: skipped, returns 0
    case 'trace': case 'user_notif': return 'ret -1 errno 38'; // no tracer, no listener: ENOSYS
    default: return 'signal 31'; // kill_process, kill_thread (the only thread), trap (SIGSYS not handled)
  }
}

const X = SYSCALLS_X86_64;
/** The reason a filter cannot be installed, or null. */
const findProblem = (prog: CbpfInsn[]): unknown => {
  try {
    checkSeccompFilter(prog);
    return findClassicProblem(prog);
  } catch (e) {
    return e;
  }
};
const nrOf = (name: string): number => X[name]!;
const call = (name: string, ...args: bigint[]): Call => ({ nr: nrOf(name), args });

const POLICY: SeccompPolicy = {
  arch: 'x86_64',
  default: 'allow',
  rules: [
    { syscall: 'getppid', action: { errno: 133 } },
    { syscall: 'close', action: { errno: 101 }, args: [{ index: 0, op: 'eq', value: '0x17ffffff0' }] },
    { syscall: 'close', action: { errno: 102 }, args: [{ index: 0, op: 'gt', value: '0x100000000' }] },
    { syscall: 'close', action: { errno: 103 }, args: [{ index: 0, op: 'masked_eq', value: 0x7fff0000, mask: 0xffff0000 }] },
    { syscall: 'close', action: { errno: 104 }, args: [{ index: 0, op: 'ne', value: 0x7ffffff5 }] },
    { syscall: 'dup', action: { errno: 105 }, args: [{ index: 0, op: 'lt', value: 0x7fff0000 }] },
    { syscall: 'dup', action: { errno: 106 }, args: [{ index: 0, op: 'le', value: '0x17fff0000' }] },
    { syscall: 'dup', action: { errno: 107 }, args: [{ index: 0, op: 'ge', value: '0x8000000000000000' }] },
    { syscall: 'lseek', action: { errno: 108 }, args: [{ index: 1, op: 'eq', value: -1 }, { index: 2, op: 'eq', value: 0 }] },
    { syscall: 'getuid', action: 'log' },
    { syscall: 'getgid', action: 'trace' },
    { syscall: 'geteuid', action: 'user_notif' },
    { syscall: 'getegid', action: 'trap' },
    { syscall: 'kill', action: 'kill_process' },
    { syscall: 'gettid', action: 'kill_thread' },
    { syscall: 'getpid', action: { errno: 4095 } },
    { syscall: 'getpgrp', action: { trace: 7 } },
  ],
};

const CALLS: Call[] = [
  call('getppid'), call('getpid'), call('getuid'), call('getgid'), call('geteuid'), call('getegid'), call('getpgrp'),
  call('kill', 0x7ffffff0n, 0n), call('gettid'), call('getsid', 0n),
  ...[0x17ffffff0n, 0x27ffffff0n, 0x100000001n, 0x100000000n, 0x7fff1234n, 0x7fff0000n, 0x7ffffff5n, 0x7ffffff6n, 0x80000000n]
    .map((fd) => call('close', fd)),
  ...[0n, 0x7ffeffffn, 0x7fff0000n, 0x7fff0001n, 0x17fff0000n, 0x17fff0001n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn]
    .map((fd) => call('dup', fd)),
  call('lseek', 0x7ffffff0n, -1n, 0n), call('lseek', 0x7ffffff0n, -1n, 1n), call('lseek', 0x7ffffff0n, 0xffffffffn, 0n),
];

describe.skipIf(!runnerPath)('seccomp filters in the running kernel', () => {
  const unfiltered = runnerPath ? kernelOutcomes(null, CALLS) : [];
  const check = (prog: CbpfInsn[], arch = AUDIT_ARCH.x86_64!) => {
    const kernel = kernelOutcomes(prog, CALLS);
    const ours = CALLS.map((c, i) => predicted(runSeccomp(prog, { nr: c.nr, arch, args: c.args }), unfiltered[i]!));
    const label = (c: Call) => `${Object.keys(X).find((n) => X[n] === c.nr)}(${c.args.map((a) => '0x' + BigInt.asUintN(64, a).toString(16)).join(', ')})`;
    expect(CALLS.map((c, i) => `${label(c)}: ${kernel[i]}`)).toEqual(CALLS.map((c, i) => `${label(c)}: ${ours[i]}`));
    return kernel;
  };
  it('a policy with every comparison and action: each call does what runSeccomp predicts', () => {
    const kernel = check(compileSeccompPolicy(POLICY));
    // The comparisons were exercised both ways.
    for (const errno of [101, 102, 103, 104, 105, 106, 107, 108, 133, 4095, 38]) expect(kernel).toContain(`ret -1 errno ${errno}`);
    expect(kernel).toContain('signal 31');
  });
  it('a default-deny policy, given as JSON text', () => {
    const policy = { arch: 'x86_64', default: { errno: 1 }, rules: [{ syscall: 'write', action: 'allow' }, { syscall: 'exit_group', action: 'allow' }, { syscall: 'getpid', action: 'allow' }] };
    const kernel = check(compileSeccompPolicy(JSON.stringify(policy)));
    expect(kernel.filter((k) => k === 'ret -1 errno 1').length).toBe(CALLS.length - 1);
  });
  it('a policy for another architecture kills every syscall of this one', () => {
    const kernel = check(compileSeccompPolicy({ arch: 'aarch64', default: 'allow', rules: [] }));
    expect(new Set(kernel)).toEqual(new Set(['signal 31']));
  });
  it('hand-written filters: return A, ld len, an unknown action', () => {
    // The runner itself must be able to write its result and exit.
    const prelude = [
      insn(Class.LD | Mode.ABS, 0), insn(Class.JMP | JmpOp.JEQ | Src.K, nrOf('write'), 1, 0), insn(Class.JMP | JmpOp.JEQ | Src.K, nrOf('exit_group'), 0, 1),
      insn(Class.RET | RetVal.K, SeccompRet.ALLOW),
    ];
    // ERRNO | (nr & 0xff) via A: the syscall number comes back as the errno.
    check([...prelude, insn(Class.ALU | AluOp.AND | Src.K, 0xff), insn(Class.ALU | AluOp.OR | Src.K, SeccompRet.ERRNO), insn(Class.RET | RetVal.A)]);
    // ld len is 64: ERRNO | 64 + X where X = len too.
    check([...prelude, insn(Class.LD | Size.W | Mode.LEN), insn(Class.LDX | Size.W | Mode.LEN), insn(Class.ALU | AluOp.ADD | Src.X), insn(Class.ALU | AluOp.OR | Src.K, SeccompRet.ERRNO), insn(Class.RET | RetVal.A)]);
    // An unknown action (0x00010000) kills the process.
    check([...prelude, insn(Class.RET | RetVal.K, 0x00010000)]);
  });
  it('100 seeded random filters computing an errno from seccomp_data: the kernel returns what runSeccomp computes', () => {
    let seed = 0x9e3779b9;
    const rand = (n: number): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const rand32 = (): number => (rand(0x10000) * 0x10000 + rand(0x10000)) >>> 0;
    // Words of seccomp_data whose values the test knows (not the instruction pointer).
    const words = [0, 4, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60];
    const aluOps = [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.AND, AluOp.OR, AluOp.XOR, AluOp.LSH, AluOp.RSH];
    const prelude = [
      insn(Class.LD | Mode.ABS, 0), insn(Class.JMP | JmpOp.JEQ | Src.K, nrOf('write'), 1, 0), insn(Class.JMP | JmpOp.JEQ | Src.K, nrOf('exit_group'), 0, 1),
      insn(Class.RET | RetVal.K, SeccompRet.ALLOW),
    ];
    const outcomes: [string, string][] = [];
    for (let f = 0; f < 100; f++) {
      const body: CbpfInsn[] = [];
      const written = new Set<number>();
      const len = 4 + rand(12);
      for (let i = 0; i < len; i++) {
        const left = len - i - 1; // instructions after this one in the body; the tail follows
        switch (rand(9)) {
          case 0: case 1: body.push(insn(Class.LD | Mode.ABS, words[rand(words.length)]!)); break;
          case 2: body.push(rand(2) ? insn(Class.LDX | Mode.IMM, rand(3) ? rand(40) : rand32()) : insn(Class.MISC | (rand(2) ? 0 : 0x80))); break;
          case 3: case 4: {
            const o = aluOps[rand(aluOps.length)]!;
            const byX = rand(3) === 0;
            const k = o === AluOp.LSH || o === AluOp.RSH ? rand(32) : o === AluOp.DIV ? 1 + rand(9) : rand32();
            body.push(insn(Class.ALU | o | (byX ? Src.X : Src.K), byX ? 0 : k));
            break;
          }
          case 5: {
            const slot = rand(16);
            written.add(slot);
            body.push(insn(rand(2) ? Class.ST : Class.STX, slot));
            break;
          }
          case 6:
            if (written.size) body.push(insn(rand(2) ? Class.LD | Mode.MEM : Class.LDX | Mode.MEM, [...written][rand(written.size)]!));
            else body.push(insn(Class.ALU | AluOp.NEG));
            break;
          default: {
            const o = [JmpOp.JEQ, JmpOp.JGT, JmpOp.JGE, JmpOp.JSET][rand(4)]!;
            // Only forward, inside the body or to the tail; the jumped-over stores make the scratch rule matter.
            written.clear();
            body.push(insn(Class.JMP | o | (rand(3) === 0 ? Src.X : Src.K), rand(2) ? rand(0x100) : rand32(), rand(left + 1), rand(left + 1)));
          }
        }
      }
      const tail = [insn(Class.ALU | AluOp.AND | Src.K, 0xffff), insn(Class.ALU | AluOp.OR | Src.K, SeccompRet.ERRNO), insn(Class.RET | RetVal.A)];
      const prog = [...prelude, ...body, ...tail];
      if (findProblem(prog)) continue;
      const calls = [0, 1, 2].map(() => ({ nr: nrOf('getppid'), args: Array.from({ length: 6 }, () => (BigInt(rand32()) << 32n) | BigInt(rand32())) }));
      const kernel = kernelOutcomes(prog, calls);
      calls.forEach((c, i) => {
        const v = runSeccomp(prog, { nr: c.nr, arch: AUDIT_ARCH.x86_64!, args: c.args });
        outcomes.push([`${formatClassic(prog, 'dd').replace(/\n/g, ' ')} args ${c.args.join(',')}: ${kernel[i]}`, `${formatClassic(prog, 'dd').replace(/\n/g, ' ')} args ${c.args.join(',')}: ${predicted(v, 'ret ok')}`]);
      });
    }
    expect(outcomes.length).toBeGreaterThan(150);
    expect(outcomes.map((o) => o[0])).toEqual(outcomes.map((o) => o[1]));
  });
  it('refuses to install exactly the filters checkSeccompFilter refuses', () => {
    const RET = insn(Class.RET | RetVal.K, SeccompRet.ALLOW);
    const filters: CbpfInsn[][] = [
      [insn(Class.LD | Mode.ABS, 4), RET], [insn(Class.LD | Mode.ABS, 60), RET], [insn(Class.LD | Mode.ABS, 64), RET],
      [insn(Class.LD | Mode.ABS, 2), RET], [insn(Class.LD | Size.H | Mode.ABS, 0), RET], [insn(Class.LD | Size.B | Mode.ABS, 0), RET],
      [insn(Class.LD | Mode.IND, 0), RET], [insn(Class.LDX | Size.B | Mode.MSH, 0), RET], [insn(Class.ALU | AluOp.MOD | Src.K, 3), RET],
      [insn(Class.ALU | AluOp.XOR | Src.X), RET], [insn(Class.LDX | Size.W | Mode.LEN), insn(Class.MISC | 0x80), RET],
      [insn(Class.ST, 0), insn(Class.LD | Mode.MEM, 0), RET], [insn(Class.LD | Mode.MEM, 0), RET], [insn(Class.RET | RetVal.X)],
      [insn(Class.LD | Mode.ABS, 0)], [],
    ];
    for (const f of filters) {
      const kernel = f.length ? kernelOutcomes(f, [call('getpid')])[0] : 'install errno 22';
      let ours = 'installed';
      try {
        checkSeccompFilter(f);
      } catch {
        ours = 'install errno 22';
      }
      expect(`${formatClassic(f, 'dd').trim()}: ${kernel!.startsWith('install') ? kernel : 'installed'}`).toBe(`${formatClassic(f, 'dd').trim()}: ${ours}`);
    }
  });
});

describe('seccomp data, verdicts, checks and policies', () => {
  it('lays out struct seccomp_data little-endian and reads words natively', () => {
    const bytes = encodeSeccompData({ nr: 257, arch: AUDIT_ARCH.x86_64!, instructionPointer: 0x1122334455667788n, args: [-100n, 0x1_0000_0002n] });
    expect(bytes.length).toBe(SECCOMP_DATA_SIZE);
    expect(Buffer.from(bytes.subarray(0, 32)).toString('hex')).toBe('010100003e0000c088776655443322119cffffffffffffff0200000001000000');
    const load = (k: number) => runSeccomp([insn(Class.LD | Mode.ABS, k), insn(Class.RET | RetVal.A)], bytes).ret;
    expect([load(0), load(4), load(8), load(12), load(16), load(20), load(24), load(28)])
      .toEqual([257, 0xc000003e, 0x55667788, 0x11223344, 0xffffff9c, 0xffffffff, 2, 1]);
  });
  it('names actions by ret & SECCOMP_RET_ACTION_FULL; unknown ones kill the process; errno is capped', () => {
    expect(seccompVerdict(0x7fff0000).action).toBe('allow');
    expect(seccompVerdict(0x00050000 | 13)).toEqual({ ret: 0x5000d, action: 'errno', data: 13, errno: 13 });
    expect(seccompVerdict(0x0005ffff).errno).toBe(4095);
    expect(seccompVerdict(0x00000005).action).toBe('kill_thread');
    expect(seccompVerdict(0x80000000).action).toBe('kill_process');
    expect(seccompVerdict(0x7ffe0000).action).toBe('kill_process');
    expect(seccompVerdict(0x7ff00000 | 9)).toMatchObject({ action: 'trace', data: 9 });
  });
  it('a stack of filters: the lowest action wins (kill_process lowest, allow highest)', () => {
    const ret = (k: number) => [insn(Class.RET | RetVal.K, k)];
    const data = { nr: 0, arch: AUDIT_ARCH.x86_64! };
    expect(runSeccompStack([ret(SeccompRet.ALLOW), ret(SeccompRet.ERRNO | 5), ret(SeccompRet.LOG)], data)).toMatchObject({ action: 'errno', errno: 5 });
    expect(runSeccompStack([ret(SeccompRet.ERRNO | 5), ret(SeccompRet.KILL_PROCESS)], data).action).toBe('kill_process');
    expect(runSeccompStack([ret(SeccompRet.TRAP), ret(SeccompRet.KILL_THREAD)], data).action).toBe('kill_thread');
    expect(runSeccompStack([], data).action).toBe('allow');
  });
  it('checks filters with the instruction and the reason', () => {
    const RET = insn(Class.RET | RetVal.K, 0);
    expect(() => checkSeccompFilter([insn(Class.LD | Mode.ABS, 2), RET])).toThrow('insn 0: load at offset 2: seccomp loads must be 32-bit aligned');
    expect(() => checkSeccompFilter([RET, insn(Class.LD | Mode.ABS, 64), RET])).toThrow('insn 1: load at offset 64: struct seccomp_data has 64 bytes');
    expect(() => checkSeccompFilter([insn(Class.LD | Size.H | Mode.ABS, 0), RET])).toThrow('insn 0: opcode 0x28: seccomp filters load only 32-bit words at constant offsets (ld [k])');
    expect(() => checkSeccompFilter([insn(Class.ALU | AluOp.MOD | Src.K, 2), RET])).toThrow('insn 0: opcode 0x94: seccomp filters have no mod');
    expect(() => checkSeccompFilter([insn(Class.LD | Mode.ABS, 0)])).toThrow('insn 0: the last instruction must be ret #k or ret a');
  });
  it('compiles policies in libseccomp style and reports what is wrong with one', () => {
    const prog = compileSeccompPolicy({ arch: 'aarch64', default: 'kill_process', rules: [{ syscall: 'openat', action: 'allow' }] });
    expect(formatClassic(prog)).toBe([
      '(000) ld       [4]', '(001) jeq      #0xc00000b7      jt 3\tjf 2', '(002) ret      #-2147483648',
      '(003) ld       [0]', '(004) jeq      #0x38            jt 5\tjf 6', '(005) ret      #2147418112', '(006) ret      #-2147483648', '',
    ].join('\n'));
    const run = (nr: number, args: bigint[] = []) => runSeccomp(prog, { nr, arch: AUDIT_ARCH.aarch64!, args }).action;
    expect([run(56), run(57), runSeccomp(prog, { nr: 56, arch: AUDIT_ARCH.x86_64! }).action]).toEqual(['allow', 'kill_process', 'kill_process']);
    // x86_64: x32 syscalls (bit 30) are another architecture.
    const x86 = compileSeccompPolicy({ arch: 'x86_64', default: 'allow', rules: [] });
    expect(runSeccomp(x86, { nr: 0x40000000 | 1, arch: AUDIT_ARCH.x86_64! }).action).toBe('kill_process');
    expect(runSeccomp(x86, { nr: 1, arch: AUDIT_ARCH.x86_64! }).action).toBe('allow');
    const bad = (policy: unknown, message: string) => expect(() => compileSeccompPolicy(JSON.stringify(policy))).toThrow(message);
    bad({ arch: 'vax', default: 'allow', rules: [] }, 'seccomp policy: arch: must be one of x86_64, i386');
    bad({ arch: 'x86_64', rules: [] }, 'seccomp policy: default: missing');
    bad({ arch: 'x86_64', default: 'allow', rules: [{ syscall: 'opnat', action: 'allow' }] }, "seccomp policy: rules[0].syscall: no syscall 'opnat' on x86_64");
    bad({ arch: 'x86_64', default: 'allow', rules: [{ syscall: 'read', action: 'errno' }] }, 'seccomp policy: rules[0].action: \'errno\' needs its number');
    bad({ arch: 'x86_64', default: { errno: 5000 }, rules: [] }, 'seccomp policy: default.errno: must be an integer from 0 to 4095');
    bad({ arch: 'x86_64', default: 'allow', rules: [{ syscall: 'read', action: 'allow', args: [{ index: 6, op: 'eq', value: 1 }] }] }, 'seccomp policy: rules[0].args[0].index: must be 0 to 5');
    bad({ arch: 'x86_64', default: 'allow', rules: [{ syscall: 'read', action: 'allow', args: [{ index: 0, op: 'lte', value: 1 }] }] }, "seccomp policy: rules[0].args[0].op: unknown comparison 'lte'");
    bad({ arch: 'x86_64', default: 'allow', rules: [{ syscall: 'read', action: 'allow', args: [{ index: 0, op: 'masked_eq', value: 1 }] }] }, 'rules[0].args[0].mask: masked_eq needs a mask');
    bad({ arch: 'x86_64', default: 'allow', rules: [{ syscall: 'read', action: 'allow', args: [{ index: 0, op: 'eq', value: 2 ** 60 }] }] }, 'is not an integer JSON can carry exactly');
    bad({ arch: 'x86_64', default: 'allow', rules: [{ syscall: 'read', actions: 'allow' }] }, "seccomp policy: rules[0]: unknown field 'actions'");
    bad({ arch: 'riscv64', default: 'allow', rules: [{ syscall: 'read', action: 'allow' }] }, 'tsbpf has no syscall names for riscv64: give the number');
    expect(() => compileSeccompPolicy('{')).toThrow('seccomp policy: not JSON');
  });
  it('has syscall tables for x86_64 and aarch64 from the kernel headers', () => {
    expect([syscallNumber('x86_64', 'openat'), syscallNumber('x86_64', 'read'), syscallNumber('x86_64', 'exit_group')]).toEqual([257, 0, 231]);
    expect([syscallNumber('aarch64', 'openat'), syscallNumber('aarch64', 'fcntl'), syscallNumber('aarch64', 'clone3')]).toEqual([56, 25, 435]);
    expect(syscallNumber('aarch64', 'open')).toBe(undefined); // the generic table has only openat
    expect(syscallNumber('x86_64', 'toString')).toBe(undefined);
    expect(Object.keys(SYSCALLS_X86_64).length).toBeGreaterThan(350);
    expect(Object.keys(SYSCALLS_AARCH64).length).toBeGreaterThan(290);
  });
});
