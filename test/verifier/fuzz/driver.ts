/**
 * The differential loop: generate programs, verify each with tsbpf and
 * (in batches) with the running kernel, run every program tsbpf accepts in
 * checked mode, and classify what differs:
 *
 * - `false-accept`: tsbpf accepts, the kernel rejects;
 * - `fault`: tsbpf accepts and a checked run faults (also a false accept);
 * - `false-reject`: the kernel accepts, tsbpf rejects;
 * - `message`: both reject, with different messages.
 *
 * Used by scripts/fuzz-verifier.ts (millions on demand) and
 * test/verifier/fuzz.test.ts (a bounded number in CI).
 */
import { kernelErrorLine } from '../../../src/verifier/index.js';
import { ask, type OracleReply, type OracleRequest } from '../../support/kernel-oracle.js';
import { fromHex, toHex, verifyEntry, type CorpusEntry } from '../corpus/common.js';
import { execChecked } from './exec.js';
import { familyOf, generate } from './families.js';
import { programBytes, type FuzzProgram } from './gen.js';

export type DivergenceClass = 'false-accept' | 'fault' | 'false-reject' | 'message';

export interface Verdict {
  accepted: boolean;
  error: string | null;
  insn_processed: number | null;
}

/** One program's outcome. */
export interface Outcome {
  prog: FuzzProgram;
  insns: string;
  tsbpf: Verdict;
  kernel: Verdict | null;
  /** Checked-mode runs (0 when rejected). */
  runs: number;
  fault: string | null;
  cls: DivergenceClass | null;
  /** Generation or verification threw (a tsbpf crash is a bug too). */
  crash: string | null;
  /** With `logsEvery`: the first line where the level-2 logs differ (null: identical; undefined: not compared). */
  logDiff?: { line: number; kernel: string; tsbpf: string } | null;
}

/** A level-2 log without what tsbpf does not print (stack liveness) and with map addresses hidden. */
export function normalizeLog(log: string): string[] {
  return log.split('\n')
    .filter((l) => !/^\(\d[\d,]*\) /.test(l) && !/^live stack update/.test(l))
    .map((l) => l.replace(/0xffff[0-9a-f]{12}/g, 'ADDR'));
}

/** The first difference of two level-2 logs, or null. */
export function firstLogDiff(tsbpfLog: string, kernelLog: string): { line: number; kernel: string; tsbpf: string } | null {
  const t = normalizeLog(tsbpfLog);
  const k = normalizeLog(kernelLog);
  let j = 0;
  while (j < t.length && j < k.length && t[j] === k[j]) j++;
  if (j === t.length && j === k.length) return null;
  return { line: j, kernel: k[j] ?? '<end>', tsbpf: t[j] ?? '<end>' };
}

/** The kernel request for a program. */
export function kernelRequest(e: { prog_type: string; insns: string; maps?: unknown[]; prog_flags?: string[]; expected_attach_type?: string; license?: string; func_info?: unknown[] }): OracleRequest {
  const req: OracleRequest = {
    cmd: 'verify', prog_type: e.prog_type, insns: e.insns, maps: e.maps ?? [], prog_flags: e.prog_flags ?? [],
    license: e.license ?? 'GPL', log_level: 1,
  };
  if (e.expected_attach_type) req['expected_attach_type'] = e.expected_attach_type;
  // passed along for an oracle that loads BTF func info (kernel_oracle.py ignores it)
  if (e.func_info) req['func_info'] = e.func_info;
  return req;
}

/** The kernel's verdict from a reply (null when the oracle could not load it at all). */
export function kernelVerdict(reply: OracleReply | undefined): Verdict | null {
  if (!reply || !reply.ok || typeof reply.accepted !== 'boolean') return null;
  return {
    accepted: reply.accepted,
    error: reply.accepted ? null : kernelErrorLine(String(reply.log ?? '')),
    insn_processed: reply.insn_processed ?? null,
  };
}

/**
 * Verdicts of many programs from the kernel, `batch` per oracle call. A
 * program with BTF func info that the oracle loaded without it (the kernel
 * answers "missing btf func_info") has no kernel verdict.
 */
export function kernelVerdicts(entries: readonly { prog_type: string; insns: string; maps?: unknown[]; prog_flags?: string[]; expected_attach_type?: string; func_info?: unknown[] }[], batch = 500): (Verdict | null)[] {
  const out: (Verdict | null)[] = [];
  for (let i = 0; i < entries.length; i += batch) {
    const part = entries.slice(i, i + batch);
    const replies = ask(part.map(kernelRequest));
    replies.forEach((r, j) => {
      const v = kernelVerdict(r);
      out.push(v && part[j]!.func_info && v.error === 'missing btf func_info' ? null : v);
    });
  }
  return out;
}

/** tsbpf's verdict. */
export function tsbpfVerdict(e: Parameters<typeof verifyEntry>[0]): Verdict {
  const r = verifyEntry(e, 0);
  return { accepted: r.accepted, error: r.error, insn_processed: r.insnsProcessed };
}

/** The class of a (tsbpf, kernel, fault) triple. */
export function classify(t: Verdict, k: Verdict | null, fault: string | null): DivergenceClass | null {
  if (fault) return 'fault';
  if (!k) return null;
  if (t.accepted && !k.accepted) return 'false-accept';
  if (!t.accepted && k.accepted) return 'false-reject';
  if (!t.accepted && !k.accepted && t.error !== k.error) return 'message';
  return null;
}

/** Options of a batch. */
export interface BatchOptions {
  kernel: boolean;
  runs: boolean;
  families?: readonly string[];
  /** Checked runs per accepted program. */
  inputs?: number;
  /** Also compare full level-2 logs of every program whose seed is a multiple of this (0: never). */
  logsEvery?: number;
}

/** Timings of a batch, in ms. */
export interface BatchTimes {
  generate: number;
  verify: number;
  kernel: number;
  exec: number;
}

/** Generates, verifies and classifies the programs of `seeds`. */
export function runBatch(seeds: readonly number[], opts: BatchOptions, times?: BatchTimes): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const seed of seeds) {
    const family = familyOf(seed, opts.families);
    let t = performance.now();
    let prog: FuzzProgram;
    let insns: string;
    try {
      prog = generate(family, seed);
      insns = toHex(programBytes(prog));
    } catch (err) {
      const p: FuzzProgram = { name: `fuzz/${family}/${seed}`, family, seed, prog_type: 'xdp', asm: '', maps: [] };
      outcomes.push({ prog: p, insns: '', tsbpf: { accepted: false, error: null, insn_processed: null }, kernel: null, runs: 0, fault: null, cls: null, crash: `generator: ${String(err)}` });
      continue;
    }
    if (times) times.generate += performance.now() - t;
    t = performance.now();
    const entry = { ...prog, insns };
    let tsbpf: Verdict;
    let crash: string | null = null;
    try {
      tsbpf = tsbpfVerdict(entry);
    } catch (err) {
      tsbpf = { accepted: false, error: `tsbpf threw: ${String(err)}`, insn_processed: null };
      crash = `verifier: ${err instanceof Error ? err.stack ?? err.message : String(err)}`;
    }
    if (times) times.verify += performance.now() - t;
    outcomes.push({ prog, insns, tsbpf, kernel: null, runs: 0, fault: null, cls: null, crash });
  }
  if (opts.kernel) {
    const t = performance.now();
    const live = outcomes.filter((o) => o.insns !== '');
    const verdicts = kernelVerdicts(live.map((o) => ({ ...o.prog, insns: o.insns })));
    live.forEach((o, i) => { o.kernel = verdicts[i] ?? null; });
    if (times) times.kernel += performance.now() - t;
  }
  if (opts.kernel && opts.logsEvery) {
    const picked = outcomes.filter((o) => o.insns !== '' && o.kernel && o.prog.seed % opts.logsEvery! === 0 && (o.tsbpf.insn_processed ?? 0) < 20_000);
    const replies = picked.length ? ask(picked.map((o) => ({ ...kernelRequest({ ...o.prog, insns: o.insns }), log_level: 2 }))) : [];
    picked.forEach((o, i) => {
      const r = replies[i];
      if (!r?.ok) return;
      try {
        o.logDiff = firstLogDiff(verifyEntry({ ...o.prog, insns: o.insns }, 2).log, String(r.log ?? ''));
      } catch {
        /* a crash is reported by the verdict pass */
      }
    });
  }
  if (opts.runs) {
    const t = performance.now();
    for (const o of outcomes) {
      if (!o.tsbpf.accepted) continue;
      const res = execChecked(fromHex(o.insns), o.prog.prog_type, o.prog.maps, o.prog.seed, opts.inputs ?? 6);
      o.runs = res.runs;
      o.fault = res.fault;
      if (res.harness) o.crash = `checked run could not be set up: ${res.harness}`;
    }
    if (times) times.exec += performance.now() - t;
  }
  for (const o of outcomes) o.cls = classify(o.tsbpf, o.kernel, o.fault);
  return outcomes;
}

/** Counts of a run, per family and class. */
export interface Tally {
  programs: number;
  accepted: number;
  kernelCompared: number;
  kernelAccepted: number;
  agree: number;
  runs: number;
  crashes: number;
  /** Programs with the kernel's insn_processed (accepted by both, or rejected with the same message), and how many match. */
  processedCompared: number;
  processedAgree: number;
  /** Level-2 logs compared, and how many differ. */
  logsCompared: number;
  logsDiffer: number;
  classes: Record<DivergenceClass, number>;
  byFamily: Record<string, { programs: number; accepted: number; compared: number; agree: number; classes: Record<string, number> }>;
}

export function newTally(): Tally {
  return {
    programs: 0, accepted: 0, kernelCompared: 0, kernelAccepted: 0, agree: 0, runs: 0, crashes: 0, processedCompared: 0, processedAgree: 0, logsCompared: 0, logsDiffer: 0,
    classes: { 'false-accept': 0, fault: 0, 'false-reject': 0, message: 0 }, byFamily: {},
  };
}

export function addToTally(t: Tally, outcomes: readonly Outcome[]): void {
  for (const o of outcomes) {
    t.programs++;
    const f = (t.byFamily[o.prog.family] ??= { programs: 0, accepted: 0, compared: 0, agree: 0, classes: {} });
    f.programs++;
    if (o.crash) t.crashes++;
    if (o.logDiff !== undefined) {
      t.logsCompared++;
      if (o.logDiff) t.logsDiffer++;
    }
    if (o.tsbpf.accepted) {
      t.accepted++;
      f.accepted++;
    }
    t.runs += o.runs;
    if (o.kernel) {
      t.kernelCompared++;
      f.compared++;
      if (o.kernel.accepted) t.kernelAccepted++;
      const same = o.kernel.accepted === o.tsbpf.accepted && (o.kernel.accepted || o.kernel.error === o.tsbpf.error);
      if (same && !o.fault) {
        t.agree++;
        f.agree++;
      }
      if (same && o.kernel.insn_processed !== null) {
        t.processedCompared++;
        if (o.kernel.insn_processed === o.tsbpf.insn_processed) t.processedAgree++;
      }
    }
    if (o.cls) {
      t.classes[o.cls]++;
      f.classes[o.cls] = (f.classes[o.cls] ?? 0) + 1;
    }
  }
}

export function mergeTally(into: Tally, t: Tally): void {
  into.programs += t.programs;
  into.accepted += t.accepted;
  into.kernelCompared += t.kernelCompared;
  into.kernelAccepted += t.kernelAccepted;
  into.agree += t.agree;
  into.runs += t.runs;
  into.crashes += t.crashes;
  into.processedCompared += t.processedCompared;
  into.processedAgree += t.processedAgree;
  into.logsCompared += t.logsCompared;
  into.logsDiffer += t.logsDiffer;
  for (const k of Object.keys(t.classes) as DivergenceClass[]) into.classes[k] += t.classes[k];
  for (const [name, f] of Object.entries(t.byFamily)) {
    const g = (into.byFamily[name] ??= { programs: 0, accepted: 0, compared: 0, agree: 0, classes: {} });
    g.programs += f.programs;
    g.accepted += f.accepted;
    g.compared += f.compared;
    g.agree += f.agree;
    for (const [c, n] of Object.entries(f.classes)) g.classes[c] = (g.classes[c] ?? 0) + n;
  }
}

const pct = (n: number, d: number, digits = 2): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(digits)}%`);

/** The summary table. */
export function formatTally(t: Tally): string {
  const lines: string[] = [];
  lines.push(`programs ${t.programs}, tsbpf accepted ${t.accepted} (${pct(t.accepted, t.programs)}), checked runs ${t.runs}`
    + (t.crashes ? `, CRASHES ${t.crashes}` : ''));
  if (t.kernelCompared) {
    lines.push(`kernel compared ${t.kernelCompared}, kernel accepted ${t.kernelAccepted} (${pct(t.kernelAccepted, t.kernelCompared)}), `
      + `agreement (verdict and message) ${t.agree}/${t.kernelCompared} = ${pct(t.agree, t.kernelCompared, 4)}`);
  }
  if (t.processedCompared) lines.push(`insn_processed equal to the kernel's ${t.processedAgree}/${t.processedCompared} (${pct(t.processedAgree, t.processedCompared, 3)})`);
  if (t.logsCompared) lines.push(`level-2 logs compared ${t.logsCompared}, identical ${t.logsCompared - t.logsDiffer} (${pct(t.logsCompared - t.logsDiffer, t.logsCompared)})`);
  lines.push(`false accepts ${t.classes['false-accept']}, checked-mode faults ${t.classes.fault}, false rejects ${t.classes['false-reject']}, message mismatches ${t.classes.message}`);
  lines.push('family        programs  accepted  compared    agreement  false-acc  faults  false-rej  message');
  for (const [name, f] of Object.entries(t.byFamily).sort()) {
    lines.push(`${name.padEnd(12)} ${String(f.programs).padStart(9)} ${pct(f.accepted, f.programs).padStart(9)} ${String(f.compared).padStart(9)} `
      + `${pct(f.agree, f.compared, 3).padStart(12)} ${String(f.classes['false-accept'] ?? 0).padStart(10)} ${String(f.classes['fault'] ?? 0).padStart(7)} `
      + `${String(f.classes['false-reject'] ?? 0).padStart(10)} ${String(f.classes['message'] ?? 0).padStart(8)}`);
  }
  return lines.join('\n');
}

/** A divergence as a corpus entry (the differential corpus's format) with the kernel's verdict. */
export function regressionEntry(name: string, e: { prog_type: string; insns: string; maps?: CorpusEntry['maps']; prog_flags?: string[]; expected_attach_type?: string }, kernel: Verdict): CorpusEntry {
  const out: CorpusEntry = { name, prog_type: e.prog_type, insns: e.insns, kernel: { accepted: kernel.accepted, error: kernel.error, insn_processed: kernel.insn_processed } };
  if (e.maps?.length) out.maps = e.maps;
  if (e.prog_flags?.length) out.prog_flags = e.prog_flags;
  if (e.expected_attach_type) out.expected_attach_type = e.expected_attach_type;
  return out;
}
