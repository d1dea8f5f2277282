/**
 * Every program of the example objects (examples/*.o) and of the loader's
 * fixture objects (test/fixtures/loader/*.o) gets the kernel's verdict from
 * tsbpf's verifier, with the same message and the same number of processed
 * instructions. The kernel's verdicts were recorded by
 * scripts/record-verifier-corpus.ts --only objects (each program loaded on
 * its own through libbpf, as `bpftool prog loadall` loads it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseObject } from '../../src/loader/index.js';
import type { ObjectSpec } from '../../src/loader/index.js';
import { readBtfFile } from '../../src/node/objects.js';
import { verifyObjectProgram } from '../../src/verifier/index.js';

interface ObjectVerdict {
  file: string;
  program: string;
  section: string;
  /** The object calls kfuncs: they resolve against, and are verified with, the machine's kernel BTF. */
  kernel_btf?: boolean;
  kernel: { accepted: boolean; error: string | null; insn_processed: number | null; libbpf_error: string | null };
}

const root = new URL('../../', import.meta.url);
const recorded = JSON.parse(readFileSync(new URL('test/fixtures/verifier/objects.json', root), 'utf8')) as { kernel: string; programs: ObjectVerdict[] };

/** libbpf resolved CO-RE relocations against the running kernel's BTF when the verdicts were recorded. */
const VMLINUX = '/sys/kernel/btf/vmlinux';
const vmlinux = existsSync(VMLINUX) ? readBtfFile(VMLINUX) : undefined;
/** Programs whose CO-RE relocations need the kernel's own types (vmlinux BTF). */
const NEEDS_VMLINUX = new Set(['test/fixtures/loader/core.o:core_reads']);

const objects = new Map<string, ObjectSpec>();
function object(file: string): ObjectSpec {
  let o = objects.get(file);
  if (!o) {
    o = parseObject(readFileSync(new URL(file, root)), { name: file, ...(vmlinux ? { coreTarget: vmlinux, ksymTarget: () => vmlinux } : {}) });
    objects.set(file, o);
  }
  return o;
}

describe('verifier on example and fixture objects', () => {
  // Not comparable: programs libbpf failed on before (or without) verifying them.
  const comparable = recorded.programs.filter((p) => !p.kernel.libbpf_error || (p.kernel.insn_processed ?? 0) > 0);
  const skipped = recorded.programs.filter((p) => !comparable.includes(p));

  it('the examples are all recorded', () => {
    expect(comparable.filter((p) => p.file.startsWith('examples/')).length).toBeGreaterThanOrEqual(18);
  });

  for (const p of comparable) {
    const key = `${p.file}:${p.program}`;
    const needsVmlinux = NEEDS_VMLINUX.has(key) || p.kernel_btf === true;
    if (needsVmlinux && !vmlinux) console.log(`skipping ${key}: no ${VMLINUX} to resolve its kernel types or kfuncs against`);
    it.skipIf(needsVmlinux && !vmlinux)(`${key} [${p.section}]`, () => {
      const obj = object(p.file);
      const prog = obj.programs.find((x) => x.name === p.program);
      expect(prog, `program ${p.program} in ${p.file}`).toBeDefined();
      const r = verifyObjectProgram(obj, prog!, p.kernel_btf && vmlinux ? { kernelBtf: vmlinux } : {});
      expect({ accepted: r.accepted, error: r.error }).toEqual({ accepted: p.kernel.accepted, error: p.kernel.error });
      expect(r.insnsProcessed).toBe(p.kernel.insn_processed);
    });
  }

  it('reports the programs the kernel could not be asked about', () => {
    for (const p of skipped) console.log(`  not compared: ${p.file}:${p.program} [${p.section}]: ${p.kernel.libbpf_error}`);
    expect(skipped.every((p) => p.file.includes('sections'))).toBe(true);
  });
});
