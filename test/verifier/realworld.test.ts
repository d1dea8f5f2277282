/**
 * Regression tests from real projects' objects (docs/verifier.md,
 * "Real-world objects"): the hand-written reductions `realworld/*` of the
 * recorded corpus (test/verifier/corpus/handwritten.ts, recorded in
 * test/fixtures/verifier/handwritten.json with the kernel's verdicts) must
 * get exactly the kernel's verdict, message and insn_processed. The
 * corpus-wide test (differential.test.ts) only asserts agreement rates.
 * C reductions (test/fixtures/verifier/objects/*.c, built by build.sh there)
 * are compared with the kernel's verdicts recorded through libbpf in
 * test/fixtures/verifier/realworld-objects.json.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseObject, type ObjectSpec } from '../../src/loader/index.js';
import { assemble } from '../../src/asm/index.js';
import { verify, verifyObjectProgram } from '../../src/verifier/index.js';
import { kernelBtfUsable, localVmlinux, needsKernelBtf, verifyEntry, type CorpusFile } from './corpus/common.js';
import { kernelSymbolAddressSource, readKallsyms } from '../../src/node/objects.js';

const corpus = JSON.parse(readFileSync(new URL('../fixtures/verifier/handwritten.json', import.meta.url), 'utf8')) as CorpusFile;
const entries = corpus.programs.filter((p) => p.name.startsWith('realworld/') && (!needsKernelBtf(p) || kernelBtfUsable(corpus).ok));

describe('reductions of real-world objects', () => {
  it('are recorded', () => {
    expect(entries.length).toBeGreaterThanOrEqual(40);
  });

  for (const e of entries) {
    it(e.name, () => {
      const r = verifyEntry(e);
      expect({ accepted: r.accepted, error: r.error, insn_processed: r.insnsProcessed }).toEqual(e.kernel);
    });
  }
});

interface ObjectVerdict {
  file: string;
  program: string;
  section: string;
  /** Relocated against (CO-RE) and verified with the kernel BTF the verdicts were recorded with. */
  kernel_btf?: boolean;
  /** Has typeless ksyms, resolved (as libbpf does) from the running kernel's /proc/kallsyms. */
  kallsyms?: boolean;
  kernel: { accepted: boolean; error: string | null; insn_processed: number | null; libbpf_error: string | null };
}

const root = new URL('../../', import.meta.url);
const objects = JSON.parse(readFileSync(new URL('test/fixtures/verifier/realworld-objects.json', root), 'utf8')) as CorpusFile & { programs: ObjectVerdict[] };
const objectsBtf = kernelBtfUsable(objects);
const kallsymAddresses = kernelSymbolAddressSource();

describe('C reductions of real-world objects (each program loaded alone through libbpf)', () => {
  const specs = new Map<string, ObjectSpec>();
  for (const p of objects.programs) {
    const noKallsyms = p.kallsyms === true && kallsymAddresses === undefined;
    const skip = (p.kernel_btf === true && !objectsBtf.ok) || noKallsyms;
    if (skip) console.log(`skipping ${p.file}:${p.program}: ${noKallsyms ? 'no /proc/kallsyms to take kernel symbol addresses from' : !objectsBtf.ok ? objectsBtf.reason : ''}`);
    it.skipIf(skip)(`${p.file}:${p.program} [${p.section}]`, () => {
      const btf = p.kernel_btf ? localVmlinux()! : undefined;
      // (an object whose kfunc programs need the kernel BTF may have programs that do not)
      const key = `${p.file}${btf ? ' with kernel BTF' : ''}`;
      let obj = specs.get(key);
      if (!obj) {
        obj = parseObject(readFileSync(new URL(p.file, root)), {
          name: p.file, ...(btf ? { coreTarget: btf, ksymTarget: () => btf } : {}), ...(kallsymAddresses ? { ksymAddress: kallsymAddresses } : {}),
        });
        specs.set(key, obj);
      }
      const prog = obj.programs.find((x) => x.name === p.program);
      expect(prog).toBeDefined();
      const r = verifyObjectProgram(obj, prog!, btf ? { kernelBtf: btf, kernelSymbols: (name) => readKallsyms()?.has(name) ?? false } : {});
      expect({ accepted: r.accepted, error: r.error, insn_processed: r.insnsProcessed })
        .toEqual({ accepted: p.kernel.accepted, error: p.kernel.error, insn_processed: p.kernel.insn_processed });
    });
  }
});

describe('kfuncs tsbpf knows without a kernel BTF', () => {
  // the loader resolves them against its built-in kfunc BTF and the verifier reads the same ids
  const kfuncObjects = ['test/fixtures/verifier/objects/iterators.o', 'test/fixtures/verifier/objects/dynptrs.o', 'test/fixtures/verifier/objects/alloc_kptrs.o'];
  // (alloc_kptrs.o's task_* programs keep kernel objects in their maps: those need the kernel BTF)
  for (const p of (objects.programs as ObjectVerdict[]).filter((x) => kfuncObjects.includes(x.file) && !x.program.startsWith('task_'))) {
    it(`${p.file}:${p.program} [${p.section}]`, () => {
      const obj = parseObject(readFileSync(new URL(p.file, root)), { name: p.file });
      expect(obj.kfuncBtf).toBeDefined();
      const r = verifyObjectProgram(obj, obj.programs.find((x) => x.name === p.program)!);
      expect({ accepted: r.accepted, error: r.error, insn_processed: r.insnsProcessed })
        .toEqual({ accepted: p.kernel.accepted, error: p.kernel.error, insn_processed: p.kernel.insn_processed });
    });
  }
});

describe('what tsbpf cannot verify in tracing programs is said plainly; spin locks', () => {
  const asm = (text: string) => assemble(text, { syntax: 'llvm' }).bytes;
  const TRACING = 26;
  const FENTRY = 24;

  it('a dereferenced tracing argument (a kernel BTF pointer for the kernel)', () => {
    const r = verify({ insns: asm('r6 = *(u64 *)(r1 + 0)\nr0 = *(u32 *)(r6 + 16)\nr0 = 0\nexit'), progType: TRACING, expectedAttachType: FENTRY });
    expect(r.accepted).toBe(false);
    expect(r.error).toMatch(/^tsbpf: R6 invalid mem access 'scalar': it holds a tracing\/LSM argument/);
  });

  it('the same access on a scalar of another origin keeps the kernel message', () => {
    const r = verify({ insns: asm('call bpf_get_prandom_u32\nr0 = *(u32 *)(r0 + 16)\nr0 = 0\nexit'), progType: TRACING, expectedAttachType: FENTRY });
    expect(r.error).toBe("R0 invalid mem access 'scalar'");
  });

  it('a helper outside the raw tracepoint list', () => {
    const r = verify({ insns: asm('r1 = 0\ncall bpf_get_socket_cookie\nr0 = 0\nexit'), progType: TRACING, expectedAttachType: FENTRY });
    expect(r.error).toMatch(/^tsbpf: helper bpf_get_socket_cookie#46 is not among the helpers tsbpf gives tracing and LSM programs/);
  });

  it('bpf_spin_lock needs the lock\'s place in the value, from BTF', () => {
    const lock = 'r2 = r10\nr2 += -8\n*(u64 *)(r10 - 8) = 0\nld_pseudo r1, 1, 0\ncall bpf_map_lookup_elem\nif r0 == 0 goto out\nr1 = r0\ncall bpf_spin_lock\nout:\nr0 = 2\nexit';
    const map = { type: 2, keySize: 4, valueSize: 16, maxEntries: 1, name: 'locks' };
    const withBtf = verify({ insns: asm(lock), progType: 6, maps: [{ ...map, btfValueTypeId: 5 }] });
    expect(withBtf.error).toBe("map 'locks' has no valid bpf_spin_lock");
    const withLock = verify({ insns: asm(lock), progType: 6, maps: [{ ...map, btfValueTypeId: 5, fields: { spinLock: 0 } }] });
    expect(withLock.error).toBe('BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region');
    const wrongPlace = verify({ insns: asm(lock), progType: 6, maps: [{ ...map, btfValueTypeId: 5, fields: { spinLock: 8 } }] });
    expect(wrongPlace.error).toBe("off 0 doesn't point to 'struct bpf_spin_lock' that is at 8");
    const without = verify({ insns: asm(lock), progType: 6, maps: [map] });
    expect(without.error).toBe("map 'locks' has to have BTF in order to use bpf_spin_lock");
  });
});
