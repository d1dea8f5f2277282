/**
 * Verification time: tsbpf's verifier against the kernel's own
 * "verification time N usec" (log level 4), on every example program
 * (loaded through libbpf by scripts/kernel-verify-objects.py) and on a
 * generated ~4,000-instruction program with loops.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseObject } from '../src/loader/object.js';
import { verifyObjectProgram } from '../src/verifier/index.js';
import { ask, kernelAvailable } from '../test/support/kernel-oracle.js';
import { sourceBytes, toHex, verifyEntry } from '../test/verifier/corpus/common.js';
import { largeProgram } from '../test/verifier/corpus/large.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Median wall time in ms of `fn` after a warm-up. */
function medianMs(fn: () => void, runs = 15): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

interface KernelVerdict {
  file: string;
  program: string | null;
  insn_processed?: number | null;
  verification_time_usec?: number | null;
}

/** Prints the verification table. */
export function benchVerifier(table: (rows: string[][]) => void): void {
  const examples = here('../examples/');
  const objects = readdirSync(examples).filter((f) => f.endsWith('.o')).sort();
  const kernel = kernelAvailable();
  let verdicts: KernelVerdict[] = [];
  if (kernel.ok) {
    const r = spawnSync('python3', [here('../scripts/kernel-verify-objects.py'), ...objects.map((o) => join(examples, o))], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status === 0) verdicts = JSON.parse(r.stdout) as KernelVerdict[];
    else console.log(`kernel verdicts unavailable: ${r.stderr.trim().split('\n').at(-1)}`);
  }
  const rows: string[][] = [['program', 'insns', 'processed (tsbpf / kernel)', 'tsbpf ms', 'kernel ms', 'tsbpf/kernel']];
  for (const file of objects) {
    const object = parseObject(new Uint8Array(readFileSync(join(examples, file))), { name: file });
    for (const p of object.programs) {
      let processed = 0;
      const ms = medianMs(() => { processed = verifyObjectProgram(object, p, { logLevel: 0 }).insnsProcessed; });
      const k = verdicts.find((v) => v.file.endsWith(file) && v.program === p.name);
      const kms = k?.verification_time_usec != null ? k.verification_time_usec / 1000 : undefined;
      rows.push([`${file}:${p.name}`, String(p.insns.length / 8), `${processed} / ${k?.insn_processed ?? '-'}`,
        ms.toFixed(2), kms === undefined ? '-' : kms.toFixed(2), kms ? `${(ms / kms).toFixed(1)}x` : '-']);
    }
  }
  const source = largeProgram(104);
  const entry = { ...source, insns: toHex(sourceBytes(source)) };
  let processed = 0;
  const ms = medianMs(() => { processed = verifyEntry(entry, 0).insnsProcessed; }, 7);
  let kms: number | undefined;
  let kprocessed: number | string = '-';
  if (kernel.ok) {
    const [reply] = ask([{ cmd: 'verify', prog_type: entry.prog_type, insns: entry.insns, maps: entry.maps ?? [], log_level: 4 }]);
    const usec = Number(/verification time (\d+) usec/.exec(String(reply?.log ?? ''))?.[1] ?? NaN);
    if (Number.isFinite(usec)) kms = usec / 1000;
    kprocessed = reply?.insn_processed ?? '-';
  }
  rows.push([`generated program with loops`, String(entry.insns.length / 16), `${processed} / ${kprocessed}`,
    ms.toFixed(2), kms === undefined ? '-' : kms.toFixed(2), kms ? `${(ms / kms).toFixed(1)}x` : '-']);
  console.log('\nVerification time (median of warmed-up runs; the kernel\'s "verification time" from its log, level 4):');
  table(rows);
}
