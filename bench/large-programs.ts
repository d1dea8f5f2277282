/**
 * Verification of large real programs (bench/programs/katran: katran's XDP
 * load balancer in four builds, 69,000-114,000 processed instructions):
 * tsbpf's verifier in a fresh process on the built code (its first call,
 * and warm: the median of seven more) next to the kernel's own
 * "verification time" (log level 4, the median of three loads through
 * libbpf in the same run), `insn_processed` on both sides, and the peak
 * memory of the whole `tsbpf prog load OBJ`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelAvailable } from '../test/support/kernel-oracle.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

interface ChildTiming {
  program: string;
  accepted: boolean;
  insns: number;
  first_ms: number;
  warm_ms: number;
}

interface KernelVerdict {
  file: string;
  program: string | null;
  accepted?: boolean;
  insn_processed?: number | null;
  verification_time_usec?: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function child(mode: 'time' | 'load', file: string): string {
  const r = spawnSync(process.execPath, [here('./verify-child.mjs'), mode, file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`verify-child.mjs ${mode} ${file}: ${r.stderr.trim().split('\n').at(-1)}`);
  return r.stdout;
}

/** Prints the large-program table. */
export function benchLargePrograms(table: (rows: string[][]) => void): void {
  const dir = here('./programs/katran/');
  const objects = readdirSync(dir).filter((f) => f.endsWith('.o')).sort();
  {
    // the built code is what `tsbpf` runs: build it from the sources measured
    const build = spawnSync('npx', ['tsc', '-p', here('../tsconfig.build.json')], { stdio: 'inherit' });
    if (build.status !== 0) {
      console.log('\nLarge real programs: skipped (the build of dist/ failed)');
      return;
    }
  }
  const kernel = kernelAvailable();
  const kernelRuns: KernelVerdict[][] = [];
  if (kernel.ok) {
    for (let i = 0; i < 3; i++) {
      const r = spawnSync('python3', [here('../scripts/kernel-verify-objects.py'), ...objects.map((o) => join(dir, o))], { encoding: 'utf8', maxBuffer: 1 << 28 });
      if (r.status === 0) kernelRuns.push(JSON.parse(r.stdout) as KernelVerdict[]);
    }
  }
  const rows: string[][] = [['program', 'processed (tsbpf / kernel)', 'kernel ms', 'tsbpf warm ms', 'ratio', 'tsbpf first call ms', 'ratio', 'prog load peak MB']];
  for (const file of objects) {
    const path = join(dir, file);
    const timings = child('time', path).trim().split('\n').map((l) => JSON.parse(l) as ChildTiming);
    const load = JSON.parse(child('load', path).trim().split('\n').at(-1)!) as { max_rss_kb: number };
    for (const t of timings) {
      const ks = kernelRuns.map((run) => run.find((v) => v.file.endsWith(file) && v.program === t.program)).filter((v) => v !== undefined);
      const times = ks.map((v) => v.verification_time_usec).filter((u): u is number => typeof u === 'number');
      const kms = times.length > 0 ? median(times) / 1000 : undefined;
      const kinsns = ks[0]?.insn_processed ?? '-';
      rows.push([
        `${file}:${t.program}`, `${t.insns} / ${kinsns}`, kms === undefined ? '-' : kms.toFixed(0),
        t.warm_ms.toFixed(0), kms ? `${(t.warm_ms / kms).toFixed(1)}x` : '-',
        t.first_ms.toFixed(0), kms ? `${(t.first_ms / kms).toFixed(1)}x` : '-',
        (load.max_rss_kb / 1024).toFixed(0),
      ]);
    }
  }
  console.log(`\nLarge real programs (katran's balancer, bench/programs/katran): tsbpf on the built code in a fresh process; kernel = its "verification time" (log level 4, median of ${kernelRuns.length || 'no'} loads${kernel.ok ? '' : `: ${kernel.reason}`}); peak = max RSS of the whole \`tsbpf prog load OBJ\`:`);
  table(rows);
}
