/**
 * tsbpf's verifier against the Linux verifier: every program of the recorded
 * corpus (test/fixtures/verifier/*.json, written by
 * scripts/record-verifier-corpus.ts with the kernel as oracle) must get the
 * kernel's verdict, and a rejected one the kernel's message. The agreement
 * rates are printed; the thresholds are 99% for the verdict and 95% for the
 * message. When the kernel is here, a sample is re-checked live, and a batch
 * of fresh random programs is compared with it directly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ask, kernelAvailable } from '../support/kernel-oracle.js';
import {
  compareCorpus, kernelBtfUsable, needsKernelBtf, oracleAttach, sourceBytes, toHex, verifyEntry, type CorpusEntry, type CorpusFile,
} from './corpus/common.js';
import { randomVerifierProgram } from './corpus/random.js';
import { kernelErrorLine } from '../../src/verifier/index.js';

function load(name: string): CorpusFile {
  return JSON.parse(readFileSync(new URL(`../fixtures/verifier/${name}.json`, import.meta.url), 'utf8')) as CorpusFile;
}

const handwritten = load('handwritten');
const random = load('random');
const fuzz = load('fuzz-regressions') as unknown as { programs: (CorpusEntry & { known?: string })[] };
// Entries that need the kernel BTF (tracing attach points, BTF pointers, kfuncs) hold ids of the
// kernel they were recorded on: they are checked where /sys/kernel/btf/vmlinux is that BTF.
const btfUsable = kernelBtfUsable(handwritten);
const usable = (e: CorpusEntry): boolean => !needsKernelBtf(e) || btfUsable.ok;
if (!btfUsable.ok) {
  console.log(`skipping ${handwritten.programs.filter(needsKernelBtf).length} corpus programs that need the kernel BTF: ${btfUsable.reason}`);
}
const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(2)}%`;

describe('verifier vs recorded kernel verdicts', () => {
  it('has at least 1,000 programs, with messages for every rule', () => {
    expect(handwritten.programs.length + random.programs.length).toBeGreaterThanOrEqual(1000);
    const rejectedMessages = new Set(handwritten.programs.filter((p) => !p.kernel.accepted).map((p) => p.kernel.error));
    expect(rejectedMessages.size).toBeGreaterThan(150);
  });

  it('agrees with the kernel (verdict >= 99%, message >= 95%)', { timeout: 120_000 }, () => {
    const all = [...handwritten.programs.filter(usable), ...random.programs];
    const a = compareCorpus(all);
    console.log(
      `verifier corpus (kernel ${handwritten.kernel}): ${a.total} programs `
      + `(${handwritten.programs.length} hand-written, ${random.programs.length} random); `
      + `verdict agreement ${a.verdictAgree}/${a.total} = ${pct(a.verdictAgree, a.total)}, `
      + `message agreement ${a.messageAgree}/${a.total} = ${pct(a.messageAgree, a.total)}, `
      + `insn_processed agreement ${a.processedAgree}/${a.total} = ${pct(a.processedAgree, a.total)}`,
    );
    for (const d of a.disagreements) console.log(`  disagreement ${d.name}: kernel ${d.kernel}; tsbpf ${d.tsbpf}`);
    expect(a.verdictAgree / a.total).toBeGreaterThanOrEqual(0.99);
    expect(a.messageAgree / a.total).toBeGreaterThanOrEqual(0.95);
    // A program the kernel rejects and tsbpf accepts would run unchecked: never allowed.
    expect(a.disagreements.filter((d) => d.tsbpf === 'accepted')).toEqual([]);
  });

  it('gets the kernel\'s exact verdict, message and insn_processed on every soundness and real-world regression', () => {
    const regressions = handwritten.programs.filter((p) => /^(soundness|realworld|btf)\//.test(p.name) && usable(p));
    expect(regressions.length).toBeGreaterThan(70);
    const wrong = regressions.flatMap((e) => {
      const r = verifyEntry(e, 0);
      const same = r.accepted === e.kernel.accepted && (r.accepted || r.error === e.kernel.error) && r.insnsProcessed === e.kernel.insn_processed;
      return same ? [] : [`${e.name}: kernel ${JSON.stringify(e.kernel)}, tsbpf ${r.accepted ? 'accepted' : r.error} (${r.insnsProcessed})`];
    });
    expect(wrong).toEqual([]);
  });

  it('agrees on every divergence the fuzzer found and that was fixed (fuzz-regressions.json)', { timeout: 120_000 }, () => {
    const fixed = fuzz.programs.filter((p) => !p.known);
    const known = fuzz.programs.filter((p) => p.known);
    const a = compareCorpus(fixed);
    const k = compareCorpus(known);
    console.log(`fuzz regressions: ${fixed.length} fixed, agreement ${a.messageAgree}/${a.total}; `
      + `${known.length} known (not fixed), of which ${k.messageAgree} now agree`);
    for (const d of a.disagreements) console.log(`  regression ${d.name}: kernel ${d.kernel}; tsbpf ${d.tsbpf}`);
    for (const p of known) console.log(`  known ${p.name}: ${p.known}`);
    expect(a.disagreements).toEqual([]);
    // and the kernel's insn_processed (the fuzzer also records pruning and precision differences)
    expect(a.processedAgree).toBe(a.total);
  });
});

const kernel = kernelAvailable();

describe.skipIf(!kernel.ok)('verifier vs the running kernel', () => {
  it('the recorded verdicts still hold (sample)', { timeout: 120_000 }, () => {
    const sample = [...handwritten.programs.filter((p, i) => i % 25 === 0 || (p.name.startsWith('btf/') && i % 3 === 0)), ...random.programs.filter((_, i) => i % 50 === 0)]
      .filter((p) => (p.kernel.insn_processed ?? 0) < 100_000 && usable(p));
    const replies = ask(sample.map((e) => ({
      cmd: 'verify' as const, prog_type: e.prog_type, insns: e.insns, maps: e.maps ?? [], license: e.license ?? 'GPL',
      prog_flags: e.prog_flags ?? [], expected_attach_type: e.expected_attach_type, log_level: 1, ...(e.caps ? { caps: e.caps } : {}),
      ...oracleAttach(e),
    })));
    let same = 0;
    sample.forEach((e, i) => {
      const r = replies[i]!;
      const err = r.accepted ? null : kernelErrorLine(String(r.log ?? ''));
      if (r.accepted === e.kernel.accepted && err === e.kernel.error) same++;
      else console.log(`  recorded verdict changed: ${e.name}: now ${r.accepted ? 'accepted' : err}`);
    });
    expect(same / sample.length).toBeGreaterThanOrEqual(0.99);
  });

  it('prints the kernel\'s log at levels 1 and 2 (sample)', { timeout: 120_000 }, () => {
    // level 2 without the stack-liveness lines ("(0) frame 0 insn 8 +live -8"), which tsbpf does not print
    const norm = (s: string) => s.split('\n').filter((l) => !/^\(\d[\d,]*\) /.test(l)).join('\n')
      .replace(/0x[0-9a-f]{16}/g, 'ADDR').replace(/\(18\) r(\d) = 0x[0-9a-f]+/g, '(18) r$1 = MAP');
    const sample = [...handwritten.programs.filter((p, i) => i % 10 === 0 || (p.name.startsWith('btf/') && i % 2 === 0)), ...random.programs.filter((_, i) => i % 15 === 0)]
      .filter((p) => (p.kernel.insn_processed ?? 0) < 20_000 && usable(p));
    for (const level of [1, 2] as const) {
      const replies = ask(sample.map((e) => ({
        cmd: 'verify' as const, prog_type: e.prog_type, insns: e.insns, maps: e.maps ?? [], license: e.license ?? 'GPL',
        prog_flags: e.prog_flags ?? [], expected_attach_type: e.expected_attach_type, log_level: level, ...(e.caps ? { caps: e.caps } : {}),
        ...oracleAttach(e),
      })));
      let same = 0;
      sample.forEach((e, i) => {
        if (norm(String(replies[i]!.log ?? '')) === norm(verifyEntry(e, level).log)) same++;
        else console.log(`  level-${level} log differs: ${e.name}`);
      });
      console.log(`level-${level} logs identical to the kernel's: ${same}/${sample.length} (${pct(same, sample.length)})`);
      expect(same / sample.length).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('fresh random programs get the kernel verdict and message', { timeout: 120_000 }, () => {
    const programs = Array.from({ length: 150 }, (_, i) => randomVerifierProgram(1_000_000 + Math.floor(Date.now() / 86_400_000) * 1000 + i));
    const entries = programs.map((p) => ({ ...p, insns: toHex(sourceBytes(p)) }));
    const replies: ReturnType<typeof ask> = [];
    for (let i = 0; i < entries.length; i += 10) {
      replies.push(...ask(entries.slice(i, i + 10).map((e) => ({
        cmd: 'verify' as const, prog_type: e.prog_type, insns: e.insns, maps: e.maps ?? [], prog_flags: e.prog_flags ?? [], log_level: 1,
      }))));
    }
    let verdict = 0;
    let message = 0;
    let n = 0;
    entries.forEach((e, i) => {
      const k = replies[i]!;
      if ((k.insn_processed ?? 0) > 100_000) return;
      n++;
      const r = verifyEntry(e, 0);
      const kerr = k.accepted ? null : kernelErrorLine(String(k.log ?? ''));
      if (r.accepted === k.accepted) verdict++;
      if (r.accepted === k.accepted && (r.accepted || r.error === kerr)) message++;
      else console.log(`  live disagreement ${e.name}: kernel ${k.accepted ? 'accepted' : kerr}; tsbpf ${r.accepted ? 'accepted' : r.error}`);
    });
    console.log(`fresh random programs vs the live kernel: verdict ${pct(verdict, n)}, message ${pct(message, n)} of ${n}`);
    expect(verdict / n).toBeGreaterThanOrEqual(0.99);
    expect(message / n).toBeGreaterThanOrEqual(0.95);
  });
});
