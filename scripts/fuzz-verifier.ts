/**
 * Differential verifier fuzzing on demand: random programs from the
 * families of test/verifier/fuzz/ are verified by tsbpf and by the running
 * kernel (batched oracle requests); every program tsbpf accepts runs in the
 * interpreter's checked mode over several inputs. Divergences are
 * classified (false accept, checked-mode fault, false reject, message
 * mismatch), minimized by delta debugging and written as named regression
 * cases into test/fixtures/verifier/fuzz-regressions.json.
 *
 *   npm run fuzz:verifier -- --count N [--seed S] [--family F[,G...]] [--jobs J]
 *       [--batch 500] [--inputs 6] [--per-signature 3] [--no-kernel] [--no-runs]
 *       [--no-minimize] [--no-write] [--out FIXTURE] [--report FILE] [--logs N]
 *
 * `--logs N` also compares the full level-2 logs (register states after
 * every instruction) of every Nth program and prints the first differing
 * line: it finds precision differences that do not change a verdict.
 *
 * Seeds are consecutive from S (default: from the clock); a program is
 * reproduced from its family and seed (`--seed S --count 1 --family F`).
 * Exits 1 when a false accept, a checked-mode fault or a verifier crash
 * was found.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask, kernelAvailable } from '../test/support/kernel-oracle.js';
import {
  addToTally, formatTally, mergeTally, newTally, regressionEntry, runBatch, type BatchTimes, type DivergenceClass, type Outcome, type Tally,
} from '../test/verifier/fuzz/driver.js';
import { FAMILY_NAMES } from '../test/verifier/fuzz/families.js';
import { minimize } from '../test/verifier/fuzz/minimize.js';
import { addRegressions, entrySignature, loadRegressions, saveRegressions, signature, type FuzzRegression } from '../test/verifier/fuzz/regressions.js';

interface Options {
  count: number;
  seed: number;
  families: string[];
  jobs: number;
  batch: number;
  inputs: number;
  perSignature: number;
  kernel: boolean;
  runs: boolean;
  minimize: boolean;
  write: boolean;
  report: string | null;
  /** Regression fixture to write (default test/fixtures/verifier/fuzz-regressions.json). */
  out: string | undefined;
  workerOut: string | null;
  label: string;
  /** Compare level-2 logs of every Nth program (0: off). */
  logs: number;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    count: 1000, seed: Date.now() % 1_000_000_000, families: [], jobs: 1, batch: 500, inputs: 6, perSignature: 3,
    kernel: true, runs: true, minimize: true, write: true, report: null, out: undefined, workerOut: null, label: '', logs: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--count': o.count = Number(val()); break;
      case '--seed': o.seed = Number(val()); break;
      case '--family': o.families = val().split(',').filter(Boolean); break;
      case '--jobs': o.jobs = Math.max(1, Number(val())); break;
      case '--batch': o.batch = Math.max(1, Number(val())); break;
      case '--inputs': o.inputs = Number(val()); break;
      case '--per-signature': o.perSignature = Number(val()); break;
      case '--no-kernel': o.kernel = false; break;
      case '--no-runs': o.runs = false; break;
      case '--no-minimize': o.minimize = false; break;
      case '--no-write': o.write = false; break;
      case '--report': o.report = val(); break;
      case '--out': o.out = val(); break;
      case '--worker-out': o.workerOut = val(); break;
      case '--label': o.label = val(); break;
      case '--logs': o.logs = Number(val()); break;
      case '--help': case '-h':
        console.log(readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
        process.exit(0);
        break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  for (const f of o.families) if (!FAMILY_NAMES.includes(f)) throw new Error(`unknown family '${f}' (known: ${FAMILY_NAMES.join(', ')})`);
  if (!Number.isInteger(o.count) || o.count < 0) throw new Error('--count must be a non-negative integer');
  return o;
}

/** What a worker reports. */
interface WorkerResult {
  tally: Tally;
  /** Divergence signatures with their counts and a few seeds. */
  signatures: Record<string, { count: number; seeds: string[] }>;
  regressions: FuzzRegression[];
  crashes: string[];
  ms: number;
  times: BatchTimes;
}

function work(o: Options): WorkerResult {
  const start = performance.now();
  const tally = newTally();
  const times: BatchTimes = { generate: 0, verify: 0, kernel: 0, exec: 0 };
  const signatures: WorkerResult['signatures'] = {};
  const regressions: FuzzRegression[] = [];
  const crashes: string[] = [];
  const minimized = new Map<string, number>();
  // divergences already recorded as known (not fixed) are counted, not minimized again; a signature of a
  // fixed one may be a new bug with the same messages
  for (const p of [...loadRegressions().programs, ...(o.out ? loadRegressions(o.out).programs : [])]) if (p.known) minimized.set(entrySignature(p), o.perSignature);
  const useKernel = o.kernel && kernelAvailable().ok;
  const tag = o.label ? `[${o.label}] ` : '';
  let done = 0;
  for (let s = o.seed; s < o.seed + o.count; s += o.batch) {
    const seeds = Array.from({ length: Math.min(o.batch, o.seed + o.count - s) }, (_, i) => s + i);
    const outcomes = runBatch(seeds, { kernel: useKernel, runs: o.runs, families: o.families, inputs: o.inputs, logsEvery: o.logs }, times);
    addToTally(tally, outcomes);
    done += seeds.length;
    for (const out of outcomes) {
      if (out.crash) crashes.push(`${out.prog.name}: ${out.crash}`);
      // same verdict, another insn_processed: a pruning or precision difference, recorded too
      if (!out.cls && out.kernel && out.kernel.accepted === out.tsbpf.accepted && (out.kernel.accepted || out.kernel.error === out.tsbpf.error)
        && out.kernel.insn_processed !== null && out.kernel.insn_processed !== out.tsbpf.insn_processed) {
        const sig = `processed | ${out.prog.family}`;
        const rec = (signatures[sig] ??= { count: 0, seeds: [] });
        rec.count++;
        if (rec.seeds.length < 5) rec.seeds.push(out.prog.name);
        if (rec.count <= 3) process.stderr.write(`${tag}insn_processed differs ${out.prog.name}: kernel ${out.kernel.insn_processed}, tsbpf ${out.tsbpf.insn_processed}\n`);
        if ((minimized.get(sig) ?? 0) < o.perSignature) {
          minimized.set(sig, (minimized.get(sig) ?? 0) + 1);
          regressions.push(record(out, o, useKernel, 'processed'));
        }
      }
      if (out.logDiff) process.stderr.write(`${tag}log differs ${out.prog.name} line ${out.logDiff.line}:\n  kernel: ${out.logDiff.kernel}\n  tsbpf:  ${out.logDiff.tsbpf}\n`);
      if (!out.cls) continue;
      const sig = signature(out.cls, out.tsbpf, out.kernel);
      const rec = (signatures[sig] ??= { count: 0, seeds: [] });
      if (rec.count < 3) process.stderr.write(`${tag}divergence ${out.prog.name}: ${sig}${out.fault ? ` (${out.fault})` : ''}\n`);
      rec.count++;
      if (rec.seeds.length < 5) rec.seeds.push(out.prog.name);
      if ((minimized.get(sig) ?? 0) >= o.perSignature) continue;
      minimized.set(sig, (minimized.get(sig) ?? 0) + 1);
      regressions.push(record(out, o, useKernel));
    }
    const secs = (performance.now() - start) / 1000;
    process.stderr.write(`${tag}${done}/${o.count} programs (${(done / secs).toFixed(1)}/s): accepted ${pct(tally.accepted, tally.programs)}, `
      + `agreement ${tally.kernelCompared ? pct(tally.agree, tally.kernelCompared, 4) : '-'}, false accepts ${tally.classes['false-accept']}, `
      + `faults ${tally.classes.fault}, false rejects ${tally.classes['false-reject']}, messages ${tally.classes.message}\n`);
  }
  return { tally, signatures, regressions, crashes, ms: performance.now() - start, times };
}

/** Minimizes one divergence and makes it a regression entry. */
function record(out: Outcome, o: Options, useKernel: boolean, cls: DivergenceClass | 'processed' = out.cls!): FuzzRegression {
  const e = { prog_type: out.prog.prog_type, insns: out.insns, maps: out.prog.maps, prog_flags: out.prog.prog_flags, expected_attach_type: out.prog.expected_attach_type, seed: out.prog.seed };
  let insns = out.insns;
  let kernel = out.kernel;
  if (o.minimize) {
    try {
      const m = minimize(e, cls, out.tsbpf, out.kernel, useKernel);
      insns = m.insns;
      kernel = m.kernel;
      if (out.cls === 'fault' && useKernel) {
        const [reply] = ask([{ cmd: 'verify', prog_type: e.prog_type, insns, maps: e.maps ?? [], prog_flags: e.prog_flags ?? [], log_level: 1, ...(e.expected_attach_type ? { expected_attach_type: e.expected_attach_type } : {}) }]);
        if (reply?.ok) kernel = { accepted: reply.accepted === true, error: null, insn_processed: reply.insn_processed ?? null };
      }
    } catch (err) {
      process.stderr.write(`minimizing ${out.prog.name} failed: ${String(err)}\n`);
    }
  }
  const name = `fuzz/${out.prog.family}/${out.prog.seed}`;
  const entry = regressionEntry(name, { ...e, insns }, kernel ?? { accepted: false, error: 'no kernel verdict', insn_processed: null });
  return {
    ...entry,
    found: { class: cls, family: out.prog.family, seed: out.prog.seed, tsbpf: { accepted: out.tsbpf.accepted, error: out.tsbpf.error } },
    known: 'new: found by the fuzzer, not fixed yet',
  };
}

const pct = (n: number, d: number, digits = 2): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(digits)}%`);

function runChild(o: Options, seed: number, count: number, index: number, dir: string): Promise<WorkerResult> {
  const out = join(dir, `worker-${index}.json`);
  const args = ['--seed', String(seed), '--count', String(count), '--batch', String(o.batch), '--inputs', String(o.inputs),
    '--per-signature', String(o.perSignature), '--worker-out', out, '--label', `job ${index}`];
  if (o.families.length) args.push('--family', o.families.join(','));
  if (!o.kernel) args.push('--no-kernel');
  if (!o.runs) args.push('--no-runs');
  if (o.logs) args.push('--logs', String(o.logs));
  if (!o.minimize) args.push('--no-minimize');
  if (o.out) args.push('--out', o.out);
  return new Promise((resolve, reject) => {
    // a larger young generation: the verifier allocates many short-lived bigints (15-20% faster)
    const child = spawn(process.execPath, [...process.execArgv, '--max-semi-space-size=32', process.argv[1]!, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`job ${index} exited ${code}`));
      else resolve(JSON.parse(readFileSync(out, 'utf8')) as WorkerResult);
    });
  });
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.workerOut) {
    writeFileSync(o.workerOut, JSON.stringify(work(o), (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
    return;
  }
  const kernel = o.kernel ? kernelAvailable() : { ok: false as const, reason: 'disabled with --no-kernel' };
  console.log(`fuzz:verifier: ${o.count} programs from seed ${o.seed}, families ${o.families.length ? o.families.join(',') : 'all'}, `
    + `${o.jobs} job${o.jobs === 1 ? '' : 's'}, kernel ${kernel.ok ? 'on' : `off (${kernel.reason})`}, checked runs ${o.runs ? `${o.inputs} per accepted program` : 'off'}`);
  const start = performance.now();
  let results: WorkerResult[];
  {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-fuzz-'));
    try {
      const per = Math.ceil(o.count / o.jobs);
      const jobs: Promise<WorkerResult>[] = [];
      for (let j = 0; j < o.jobs; j++) {
        const seed = o.seed + j * per;
        const count = Math.max(0, Math.min(per, o.seed + o.count - seed));
        if (count > 0) jobs.push(runChild(o, seed, count, j, dir));
      }
      results = await Promise.all(jobs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const tally = newTally();
  const signatures: WorkerResult['signatures'] = {};
  const regressions: FuzzRegression[] = [];
  const crashes: string[] = [];
  for (const r of results) {
    mergeTally(tally, r.tally);
    for (const [sig, v] of Object.entries(r.signatures)) {
      const s = (signatures[sig] ??= { count: 0, seeds: [] });
      s.count += v.count;
      s.seeds.push(...v.seeds.slice(0, 5 - s.seeds.length));
    }
    regressions.push(...r.regressions);
    crashes.push(...r.crashes);
  }
  const secs = (performance.now() - start) / 1000;
  console.log(`\n${formatTally(tally)}`);
  console.log(`time ${secs.toFixed(0)} s (${(tally.programs / secs).toFixed(1)} programs/s)`);
  if (Object.keys(signatures).length) {
    console.log('\ndivergences by signature:');
    for (const [sig, v] of Object.entries(signatures).sort((a, b) => b[1].count - a[1].count)) console.log(`  ${String(v.count).padStart(6)}  ${sig}  (e.g. ${v.seeds.join(', ')})`);
  }
  for (const c of crashes.slice(0, 20)) console.log(`CRASH ${c}`);
  if (o.write && regressions.length) {
    const file = loadRegressions(o.out);
    if (!file.kernel && kernel.ok) file.kernel = String(ask([{ cmd: 'probe' }])[0]?.['kernel'] ?? '');
    const added = addRegressions(file, regressions, o.perSignature);
    saveRegressions(file, o.out);
    console.log(`\n${added.length} new regression case${added.length === 1 ? '' : 's'} written to ${o.out ?? 'test/fixtures/verifier/fuzz-regressions.json'}`
      + (added.length ? `: ${added.map((a) => a.name).join(', ')}` : ''));
  }
  if (o.report) {
    writeFileSync(o.report, JSON.stringify({ options: o, tally, signatures, seconds: secs, crashes }, null, 2));
  }
  const bad = tally.classes['false-accept'] + tally.classes.fault + crashes.length;
  process.exitCode = bad > 0 ? 1 : 0;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
});
