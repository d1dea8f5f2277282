/**
 * The fuzzer's regression fixture, test/fixtures/verifier/fuzz-regressions.json:
 * every divergence the fuzzer found, minimized, in the differential
 * corpus's entry format with the kernel's verdict and message, so
 * test/verifier/differential.test.ts checks them without the kernel.
 *
 * An entry tsbpf still gets wrong carries `known` (why it is not fixed);
 * the differential test requires every other entry to agree.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CorpusEntry, CorpusFile } from '../corpus/common.js';
import type { DivergenceClass } from './driver.js';

export const REGRESSIONS_PATH = fileURLToPath(new URL('../../fixtures/verifier/fuzz-regressions.json', import.meta.url));

/** A recorded divergence. */
export interface FuzzRegression extends CorpusEntry {
  /** What the fuzzer saw: its class ('processed': same verdict, another insn_processed), and tsbpf's verdict then. */
  found: { class: DivergenceClass | 'processed'; family: string; seed: number; tsbpf: { accepted: boolean; error: string | null } };
  /** Set while tsbpf still disagrees: the reason it is not fixed (or "new"). */
  known?: string;
}

export interface RegressionFile extends CorpusFile {
  programs: FuzzRegression[];
}

export function loadRegressions(path = REGRESSIONS_PATH): RegressionFile {
  if (!existsSync(path)) return { kernel: '', generated_by: 'scripts/fuzz-verifier.ts', programs: [] };
  return JSON.parse(readFileSync(path, 'utf8')) as RegressionFile;
}

export function saveRegressions(file: RegressionFile, path = REGRESSIONS_PATH): void {
  const body = file.programs.map((p) => `    ${JSON.stringify(p)}`).join(',\n');
  writeFileSync(path, `{\n  "kernel": ${JSON.stringify(file.kernel)},\n  "generated_by": ${JSON.stringify(file.generated_by)},\n  "programs": [\n${body}\n  ]\n}\n`);
}

/** Messages up to their numbers. */
export function normMessage(e: string | null): string {
  return (e ?? 'accepted').replace(/0x[0-9a-f]+|-?\d+/g, 'N');
}

/** What makes two divergences "the same bug" for deduplication. */
export function signature(cls: DivergenceClass | 'processed', tsbpf: { accepted: boolean; error: string | null }, kernel: { accepted: boolean; error: string | null } | null): string {
  return `${cls} | tsbpf: ${tsbpf.accepted ? 'accepted' : normMessage(tsbpf.error)} | kernel: ${kernel ? (kernel.accepted ? 'accepted' : normMessage(kernel.error)) : '-'}`;
}

export function entrySignature(p: FuzzRegression): string {
  return signature(p.found.class, p.found.tsbpf, p.kernel);
}

/**
 * Adds `entries` to `file`: skips exact duplicates and keeps at most
 * `perSignature` entries of one signature. Returns the entries added.
 */
export function addRegressions(file: RegressionFile, entries: readonly FuzzRegression[], perSignature: number): FuzzRegression[] {
  const have = new Set(file.programs.map((p) => `${p.prog_type}:${p.insns}`));
  const counts = new Map<string, number>();
  for (const p of file.programs) counts.set(entrySignature(p), (counts.get(entrySignature(p)) ?? 0) + 1);
  const names = new Set(file.programs.map((p) => p.name));
  const added: FuzzRegression[] = [];
  for (const e of entries) {
    const key = `${e.prog_type}:${e.insns}`;
    const sig = entrySignature(e);
    if (have.has(key) || (counts.get(sig) ?? 0) >= perSignature) continue;
    let name = e.name;
    for (let i = 2; names.has(name); i++) name = `${e.name}-${i}`;
    const entry = { ...e, name };
    file.programs.push(entry);
    added.push(entry);
    have.add(key);
    names.add(name);
    counts.set(sig, (counts.get(sig) ?? 0) + 1);
  }
  return added;
}
