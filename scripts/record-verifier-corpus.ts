/**
 * Records the kernel's verdicts on the verifier corpus: the hand-written
 * rule programs (test/verifier/corpus/handwritten.ts) and seeded random
 * programs (test/verifier/corpus/random.ts), into
 * test/fixtures/verifier/{handwritten,random}.json. The differential test
 * (test/verifier/differential.test.ts) compares tsbpf's verifier with them,
 * so it runs without the kernel.
 *
 *   sudo npx tsx scripts/record-verifier-corpus.ts [--random N] [--only handwritten|random|objects] [--prefix NAME]
 *
 * `--prefix NAME` (with `--only handwritten`) records only the hand-written
 * programs whose names start with NAME and keeps the others' recorded
 * verdicts. Programs that need the kernel BTF (tracing attach points, BTF
 * pointers, kfuncs) are recorded with the machine's /sys/kernel/btf/vmlinux,
 * whose fingerprint the fixture keeps.
 *
 * Each entry keeps the program (hex), its type, maps, license and flags, and
 * the kernel's accepted flag, error line (the log's last line before
 * "processed ...", as `kernelErrorLine` picks it) and insn_processed.
 * `objects.json` holds the kernel's verdict on every program of the example
 * objects (examples/*.o) and the loader's fixture objects
 * (test/fixtures/loader/*.o) and the packet-helper objects
 * (test/fixtures/pkt/*.o), each loaded alone through libbpf
 * (scripts/kernel-verify-objects.py).
 * Random programs that make the kernel process more than 100,000
 * instructions are left out (they only slow the suite down; the complexity
 * limit has hand-written programs of its own).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { parseObject } from '../src/loader/index.js';
import { fileURLToPath } from 'node:url';
import { ask, kernelAvailable } from '../test/support/kernel-oracle.js';
import { handwrittenPrograms } from '../test/verifier/corpus/handwritten.js';
import { randomVerifierProgram } from '../test/verifier/corpus/random.js';
import {
  oracleAttach, sourceBytes, toHex, vmlinuxFingerprint, type CorpusEntry, type CorpusFile, type SourceProgram,
} from '../test/verifier/corpus/common.js';
import { kernelErrorLine } from '../src/verifier/index.js';

const OUT_DIR = new URL('../test/fixtures/verifier/', import.meta.url);
const RANDOM_MAX_PROCESSED = 100_000;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function kernelVersion(): string {
  const [probe] = ask([{ cmd: 'probe' }]);
  return String(probe?.['kernel'] ?? 'unknown');
}

function record(programs: readonly SourceProgram[], keepSource: boolean, filter: (e: CorpusEntry) => boolean): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  const CHUNK = 10;
  for (let i = 0; i < programs.length; i += CHUNK) {
    const chunk = programs.slice(i, i + CHUNK);
    const entries = chunk.map((p) => {
      const e: CorpusEntry & { asm?: string } = {
        name: p.name,
        prog_type: p.prog_type,
        insns: toHex(sourceBytes(p)),
        kernel: { accepted: false, error: null, insn_processed: null },
      };
      if (p.maps?.length) e.maps = p.maps;
      if (p.license) e.license = p.license;
      if (p.prog_flags?.length) e.prog_flags = p.prog_flags;
      if (p.expected_attach_type) e.expected_attach_type = p.expected_attach_type;
      if (p.caps) e.caps = p.caps;
      if (p.attach_btf !== undefined) e.attach_btf = p.attach_btf;
      if (p.kernel_btf) e.kernel_btf = true;
      if (keepSource && p.asm !== undefined) e.asm = p.asm.length < 4000 ? p.asm : `${p.asm.slice(0, 200)}\n...`;
      return e;
    });
    const replies = ask(entries.map((e) => ({
      cmd: 'verify' as const,
      prog_type: e.prog_type,
      insns: e.insns,
      maps: e.maps ?? [],
      license: e.license ?? 'GPL',
      prog_flags: e.prog_flags ?? [],
      expected_attach_type: e.expected_attach_type,
      log_level: 1,
      ...(e.caps ? { caps: e.caps } : {}),
      ...oracleAttach(e),
    })));
    entries.forEach((e, j) => {
      const r = replies[j]!;
      if (!r.ok) {
        console.error(`${e.name}: the oracle could not run it: ${r.error}`);
        return;
      }
      e.kernel = {
        accepted: r.accepted === true,
        error: r.accepted ? null : kernelErrorLine(String(r.log ?? '')),
        insn_processed: r.insn_processed ?? null,
      };
      if (filter(e)) out.push(e);
    });
    process.stderr.write(`\r${Math.min(i + CHUNK, programs.length)}/${programs.length}`);
  }
  process.stderr.write('\n');
  return out;
}

function write(file: string, programs: CorpusEntry[], kernel: string): void {
  const btf = programs.some((p) => p.attach_btf !== undefined || p.kernel_btf) ? vmlinuxFingerprint() : null;
  const body: CorpusFile = { kernel, generated_by: 'scripts/record-verifier-corpus.ts', ...(btf ? { vmlinux_btf: btf } : {}), programs };
  const text = `{\n  "kernel": ${JSON.stringify(body.kernel)},\n  "generated_by": ${JSON.stringify(body.generated_by)},\n${
    btf ? `  "vmlinux_btf": ${JSON.stringify(btf)},\n` : ''}  "programs": [\n${
    programs.map((p) => `    ${JSON.stringify(p)}`).join(',\n')}\n  ]\n}\n`;
  writeFileSync(new URL(file, OUT_DIR), text);
  const accepted = programs.filter((p) => p.kernel.accepted).length;
  console.log(`${file}: ${programs.length} programs (${accepted} accepted by the kernel)`);
}

/** One program of an object with the kernel's verdict. */
export interface ObjectVerdict {
  file: string;
  program: string;
  section: string;
  /** The object calls kfuncs: libbpf resolved them against the machine's kernel BTF, which verifying it needs too. */
  kernel_btf?: boolean;
  kernel: { accepted: boolean; error: string | null; insn_processed: number | null; libbpf_error: string | null };
}

function recordViaOracle(root: string, file: string): ObjectVerdict[] {
  let obj: ReturnType<typeof parseObject>;
  try {
    obj = parseObject(readFileSync(`${root}${file}`), { name: file });
  } catch (err) {
    console.error(`${file}: neither libbpf nor tsbpf's loader can open it (${err instanceof Error ? err.message : String(err)})`);
    return [];
  }
  const maps = obj.maps.map((m) => {
    const spec: Record<string, unknown> = { type: m.type, key_size: m.keySize, value_size: m.valueSize, max_entries: m.maxEntries, flags: m.flags ?? 0 };
    if (m.innerMap) {
      const idx = obj.maps.findIndex((x) => x !== m && x.type === m.innerMap!.type && x.keySize === m.innerMap!.keySize && x.valueSize === m.innerMap!.valueSize);
      if (idx >= 0) spec['inner_map'] = idx;
    }
    return spec;
  });
  const replies = ask(obj.programs.map((p) => ({
    cmd: 'verify' as const, prog_type: p.type as unknown as string, insns: toHex(p.insns), maps, license: obj.license || 'GPL',
    ...(p.expectedAttachType !== undefined ? { expected_attach_type: p.expectedAttachType } : {}),
    prog_flags: p.flags, log_level: 1,
  })));
  return obj.programs.map((p, i) => {
    const r = replies[i]!;
    const ok = r.ok === true;
    return {
      file, program: p.name, section: p.section,
      kernel: {
        accepted: ok && r.accepted === true,
        error: ok && !r.accepted ? kernelErrorLine(String(r.log ?? '')) : null,
        insn_processed: ok ? r.insn_processed ?? null : null,
        libbpf_error: ok ? 'loaded through the kernel oracle from tsbpf\'s loader output (libbpf cannot open this object)' : `kernel oracle: ${r.error}`,
      },
    };
  });
}

/** Whether the object at `file` calls kernel functions (`__ksym` function externs). */
function callsKfuncs(root: string, file: string): boolean {
  return parseObject(readFileSync(`${root}${file}`), { name: file }).programs.some((p) => p.relocations.some((r) => r.kind === 'kfunc'));
}

function recordObjects(kernel: string): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const files = [
    ...readdirSync(`${root}examples`).filter((f) => f.endsWith('.o')).sort().map((f) => `examples/${f}`),
    // link_*.o are the static linker's inputs: their externs resolve only in linked_abc.o
    ...readdirSync(`${root}test/fixtures/loader`).filter((f) => f.endsWith('.o') && !f.startsWith('link_')).sort().map((f) => `test/fixtures/loader/${f}`),
    ...readdirSync(`${root}test/fixtures/pkt`).filter((f) => f.endsWith('.o')).sort().map((f) => `test/fixtures/pkt/${f}`),
  ];
  const r = spawnSync('python3', [`${root}scripts/kernel-verify-objects.py`, ...files], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`kernel-verify-objects.py failed: ${r.stderr}`);
  const rows = JSON.parse(r.stdout) as {
    file: string; program: string | null; section?: string; accepted?: boolean; error?: string | null;
    insn_processed?: number | null; libbpf_error?: string | null;
  }[];
  const out: ObjectVerdict[] = [];
  for (const row of rows) {
    if (row.program === null) {
      // libbpf cannot open it (legacy map sections, unresolved externs): load
      // the programs tsbpf's loader builds through the oracle instead
      out.push(...recordViaOracle(root, row.file));
      continue;
    }
    out.push({
      file: row.file, program: row.program, section: row.section ?? '', ...(callsKfuncs(root, row.file) ? { kernel_btf: true } : {}),
      kernel: { accepted: row.accepted === true, error: row.error ?? null, insn_processed: row.insn_processed ?? null, libbpf_error: row.libbpf_error ?? null },
    });
  }
  const text = `{\n  "kernel": ${JSON.stringify(kernel)},\n  "generated_by": "scripts/record-verifier-corpus.ts --only objects",\n  "programs": [\n${
    out.map((p) => `    ${JSON.stringify(p)}`).join(',\n')}\n  ]\n}\n`;
  writeFileSync(new URL('objects.json', OUT_DIR), text);
  console.log(`objects.json: ${out.length} programs of ${files.length} objects (${out.filter((p) => p.kernel.accepted).length} accepted by the kernel)`);
}

function main(): void {
  const avail = kernelAvailable();
  if (!avail.ok) {
    console.error(`cannot record: ${avail.reason}`);
    process.exit(1);
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const kernel = kernelVersion();
  const only = arg('--only');
  if (!only || only === 'handwritten') {
    const prefix = arg('--prefix');
    if (prefix) {
      // re-record only the programs whose names start with PREFIX; the others keep their recorded verdicts
      const old = JSON.parse(readFileSync(new URL('handwritten.json', OUT_DIR), 'utf8')) as CorpusFile;
      const fresh = record(handwrittenPrograms().filter((p) => p.name.startsWith(prefix)), true, () => true);
      const byName = new Map(fresh.map((e) => [e.name, e]));
      const merged = handwrittenPrograms().flatMap((p) => {
        const e = byName.get(p.name) ?? old.programs.find((o) => o.name === p.name);
        return e ? [e] : [];
      });
      write('handwritten.json', merged, old.kernel);
    } else {
      write('handwritten.json', record(handwrittenPrograms(), true, () => true), kernel);
    }
  }
  if (!only || only === 'objects') recordObjects(kernel);
  if (!only || only === 'random') {
    const n = Number(arg('--random') ?? 1500);
    const programs: SourceProgram[] = [];
    for (let seed = 0; seed < n; seed++) programs.push(randomVerifierProgram(seed));
    write('random.json', record(programs, false, (e) => (e.kernel.insn_processed ?? 0) <= RANDOM_MAX_PROCESSED), kernel);
  }
}

main();
