/**
 * Tracing and LSM programs verified with the kernel's BTF where the kernel
 * oracle cannot be asked: this machine's kernel refuses to load fentry,
 * fexit, fmod_ret and LSM programs (EPERM before the verifier runs), so
 * their rules (bpf_check_attach_target, btf_ctx_access for trampolines,
 * bpf_lsm_func_proto, check_return_code for LSM hooks) are checked here
 * against what the kernel's code does. tp_btf and iterator programs are in
 * the recorded corpus (`btf/*` in test/verifier/corpus/handwritten.ts).
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { verify } from '../../src/verifier/index.js';
import type { VerifyResult } from '../../src/verifier/index.js';
import { attachTypeByName } from '../../src/verifier/prog-types.js';
import { localVmlinux } from './corpus/common.js';

const btf = localVmlinux();
const TRACING = 26;
const LSM = 29;

function run(progType: number, attach: string, to: string, text: string, extra: { license?: string; flags?: number } = {}): VerifyResult {
  return verify({
    insns: assemble(text, { syntax: 'llvm' }).bytes, progType, expectedAttachType: attachTypeByName(attach), attachTo: to,
    ...(extra.license ? { license: extra.license } : {}), ...(extra.flags ? { flags: extra.flags } : {}),
  }, { kernelBtf: btf, logLevel: 2 });
}

function off(struct: string, ...path: string[]): number {
  const id = btf!.idsByName(struct).find((i) => btf!.typeById(i).kind === 'STRUCT')!;
  return btf!.fieldOffset(id, path).bitOffset / 8;
}

describe.skipIf(!btf)('fentry, fexit and fmod_ret programs with the kernel BTF', () => {
  it('fentry arguments are kernel object pointers, not trusted ones (prog_args_trusted)', () => {
    const r = run(TRACING, 'trace_fentry', 'tcp_v4_connect', `r1 = *(u64 *)(r1 + 0)\nr0 = *(u16 *)(r1 + ${off('sock', '__sk_common', 'skc_family')})\nr0 = 0\nexit`);
    expect(r.accepted).toBe(true);
    expect(r.log).toContain("func 'tcp_v4_connect' arg0 has btf_id");
    expect(r.log).toMatch(/R1=ptr_sock\(\)/);
  });

  it('fentry has no return value argument; fexit reads it after the arguments', () => {
    const ret = 'r0 = *(u64 *)(r1 + 24)\nr0 = 0\nexit';
    const entry = run(TRACING, 'trace_fentry', 'tcp_v4_connect', ret);
    expect(entry.error).toBe('invalid bpf_context access off=24 size=8');
    expect(entry.log).toContain("func 'tcp_v4_connect' doesn't have 4-th argument");
    expect(run(TRACING, 'trace_fexit', 'tcp_v4_connect', ret).accepted).toBe(true);
    expect(run(TRACING, 'trace_fexit', 'tcp_v4_connect', 'r0 = *(u64 *)(r1 + 32)\nr0 = 0\nexit').error).toBe('invalid bpf_context access off=32 size=8');
  });

  it('fentry and fexit programs return 0', () => {
    expect(run(TRACING, 'trace_fentry', 'tcp_v4_connect', 'r0 = 1\nexit').error).toBe('At program exit the register R0 has smin=1 smax=1 should have been in [0, 0]');
  });

  it('trampoline helpers: bpf_get_func_arg/ret/arg_cnt, bpf_get_func_ip', () => {
    const arg = 'r2 = 0\nr3 = r10\nr3 += -8\ncall bpf_get_func_arg\nr0 = 0\nexit';
    expect(run(TRACING, 'trace_fentry', 'tcp_v4_connect', arg).accepted).toBe(true);
    expect(run(TRACING, 'trace_fexit', 'tcp_v4_connect', 'r2 = r10\nr2 += -8\ncall bpf_get_func_ret\nr0 = 0\nexit').accepted).toBe(true);
    expect(run(TRACING, 'trace_fentry', 'tcp_v4_connect', 'call bpf_get_func_ip\nr0 = 0\nexit').accepted).toBe(true);
  });

  it('bpf_d_path only from the functions the kernel lists', () => {
    const dpath = (to: string) => run(TRACING, 'trace_fentry', to, 'r1 = *(u64 *)(r1 + 0)\nr2 = r10\nr2 += -64\nr3 = 64\ncall bpf_d_path\nr0 = 0\nexit');
    expect(dpath('vfs_getattr').accepted).toBe(true);
    expect(dpath('tcp_v4_connect').error).toBe('helper call is not allowed in probe');
  });

  it('fmod_ret on a function whose return value tsbpf cannot tell is modifiable is refused plainly', () => {
    const r = run(TRACING, 'modify_return', 'tcp_v4_connect', 'r0 = 0\nexit');
    expect(r.errno).toBe('ENOTSUPP');
    expect(r.error).toMatch(/^tsbpf: whether tcp_v4_connect\(\) is modifiable/);
    expect(run(TRACING, 'modify_return', 'security_file_open', 'r0 = *(u64 *)(r1 + 8)\nr0 = 0\nexit').accepted).toBe(true);
  });

  it('sleepable fentry programs are refused plainly (the error injection list is the kernel\'s)', () => {
    const r = run(TRACING, 'trace_fentry', 'tcp_v4_connect', 'r0 = 0\nexit', { flags: 16 });
    expect(r.errno).toBe('ENOTSUPP');
  });

  it('an attach point missing from the kernel BTF: libbpf does not load the program', () => {
    const r = run(TRACING, 'trace_fentry', 'no_such_function_here', 'r0 = 0\nexit');
    expect(r.errno).toBe('ESRCH');
    expect(r.error).toMatch(/^tsbpf: attach point 'no_such_function_here' is not in the kernel BTF/);
  });

  it('functions the kernel does not let tracing programs attach to (btf_id_deny)', () => {
    expect(run(TRACING, 'trace_fentry', 'migrate_disable', 'r0 = 0\nexit').errno).toBe('EINVAL');
  });
});

describe.skipIf(!btf)('LSM programs with the kernel BTF', () => {
  const FILE_OPEN = 'file_open';

  it('hook arguments are trusted kernel objects; the return value argument is in the hook\'s range', () => {
    const r = run(LSM, 'lsm_mac', FILE_OPEN, `r6 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r6 + ${off('file', 'f_flags')})\nr0 = *(u64 *)(r1 + 8)\nexit`);
    expect(r.accepted).toBe(true);
    expect(r.log).toMatch(/R6=trusted_ptr_file\(\)/);
  });

  it('an LSM program returns 0 or an error code', () => {
    expect(run(LSM, 'lsm_mac', FILE_OPEN, 'r0 = 1\nexit').error).toBe('At program exit the register R0 has smin=1 smax=1 should have been in [-4095, 0]');
    expect(run(LSM, 'lsm_mac', FILE_OPEN, 'r0 = -13\nexit').accepted).toBe(true);
  });

  it('LSM programs need a GPL-compatible license', () => {
    expect(run(LSM, 'lsm_mac', FILE_OPEN, 'r0 = 0\nexit', { license: 'Proprietary' }).error).toBe('LSM programs must have a GPL compatible license');
  });

  it('LSM helpers: inode storage, bprm options; not the cgroup ones outside lsm_cgroup', () => {
    expect(run(LSM, 'lsm_mac', FILE_OPEN, 'call bpf_get_retval\nr0 = 0\nexit').error).toBe('program of this type cannot use helper bpf_get_retval#186');
    expect(run(LSM, 'lsm_mac', 'bprm_check_security', 'r1 = *(u64 *)(r1 + 0)\nr2 = 0\ncall bpf_bprm_opts_set\nr0 = 0\nexit').accepted).toBe(true);
    expect(run(LSM, 'lsm_mac', FILE_OPEN, 'r1 = *(u64 *)(r1 + 0)\nr2 = 0\ncall bpf_bprm_opts_set\nr0 = 0\nexit').error)
      .toBe('R1 is of type file but linux_binprm is expected');
  });

  it('a function that is not an LSM hook', () => {
    expect(run(LSM, 'lsm_mac', 'verify_prog', 'r0 = 0\nexit').error).toMatch(/^attach_btf_id \d+ points to wrong type name bpf_lsm_verify_prog$/);
  });
});

describe('without the kernel BTF, tracing programs keep tsbpf\'s own model', () => {
  it('an attach point by name without BTF: twelve u64 arguments, a tsbpf: refusal on dereference', () => {
    const r = verify({
      insns: assemble('r6 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r6 + 16)\nr0 = 0\nexit', { syntax: 'llvm' }).bytes,
      progType: TRACING, expectedAttachType: attachTypeByName('trace_raw_tp'), attachTo: 'sched_wakeup',
    });
    expect(r.error).toMatch(/^tsbpf: R6 invalid mem access 'scalar'/);
    expect(r.errno).toBe('ENOTSUPP');
  });
});

describe.skipIf(!btf)('kernel variables where the kernel has their address (CONFIG_KALLSYMS_ALL)', () => {
  // This machine's kernel has no addresses for variables (the recorded
  // corpus, btf/ksym/*, has its verdicts); a kernel with them types the
  // per-CPU variable as the kernel's code does (check_pseudo_btf_id).
  const varId = (name: string) => btf!.idsByName(name).find((i) => btf!.typeById(i).kind === 'VAR')!;
  const xdp = (text: string, kernelSymbols?: (name: string) => boolean): VerifyResult => verify({
    insns: assemble(text, { syntax: 'llvm' }).bytes, progType: 6,
  }, { kernelBtf: btf, logLevel: 2, ...(kernelSymbols ? { kernelSymbols } : {}) });
  const all = () => true;
  const int = varId('bpf_prog_active');
  const rq = varId('runqueues');
  const nr = off('rq', 'nr_running');

  it('without the kernel symbols a variable is refused plainly', () => {
    const r = xdp(`ld_pseudo r1, 3, ${int}\nr0 = 2\nexit`);
    expect(r.errno).toBe('ENOTSUPP');
    expect(r.error).toMatch(/^tsbpf: whether the kernel has an address for variable 'bpf_prog_active'/);
  });

  it('per-CPU variables are per-CPU pointers, read through bpf_this_cpu_ptr/bpf_per_cpu_ptr', () => {
    const r = xdp(`ld_pseudo r1, 3, ${int}\ncall bpf_this_cpu_ptr\nr0 = *(u32 *)(r0 + 0)\nr0 = 2\nexit`, all);
    expect(r.accepted).toBe(true);
    expect(r.log).toContain('R1=percpu_ptr_int()');
    expect(r.log).toContain('R0=rdonly_mem(sz=4)');
    expect(xdp(`ld_pseudo r1, 3, ${int}\ncall bpf_this_cpu_ptr\nr0 = *(u32 *)(r0 + 4)\nr0 = 2\nexit`, all).error)
      .toBe('R0 min value is outside of the allowed memory range');
    expect(xdp(`ld_pseudo r1, 3, ${int}\ncall bpf_this_cpu_ptr\nr1 = 0\n*(u32 *)(r0 + 0) = r1\nr0 = 2\nexit`, all).error)
      .toBe('R0 cannot write into rdonly_mem');
    expect(xdp(`ld_pseudo r1, 3, ${rq}\nr2 = 1\ncall bpf_per_cpu_ptr\nif r0 == 0 goto l\nr0 = *(u32 *)(r0 + ${nr})\nl:\nr0 = 2\nexit`, all).accepted).toBe(true);
    expect(xdp(`ld_pseudo r1, 3, ${rq}\nr2 = 1\ncall bpf_per_cpu_ptr\nr0 = *(u32 *)(r0 + ${nr})\nr0 = 2\nexit`, all).error)
      .toBe("R0 invalid mem access 'ptr_or_null_'");
    expect(xdp(`ld_pseudo r1, 3, ${rq}\nr0 = *(u32 *)(r1 + ${nr})\nr0 = 2\nexit`, all).error)
      .toBe(`R1 is ptr_rq access percpu memory: off=${nr}`);
    expect(xdp(`ld_pseudo r1, 3, ${rq}\ncall bpf_this_cpu_ptr\nr0 = *(u32 *)(r0 + 30000)\nr0 = 2\nexit`, all).error)
      .toBe('access beyond struct rq at off 30000 size 4');
  });
});
