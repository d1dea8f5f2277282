/**
 * Differential check of the kernel oracle (src/node/kernel-oracle) against
 * another implementation of the same JSON protocol, e.g. the Python
 * `kernel_oracle.py` it replaced: both answer the same requests on this
 * machine and the replies are compared field by field.
 *
 *   npx tsx scripts/compare-kernel-oracles.ts --other 'python3 PATH/kernel_oracle.py' \
 *     [--corpus test/fixtures/verifier/handwritten.json]... [--level N] [--max-processed N] \
 *     [--requests FILE.jsonl]... [--diffs OUT.jsonl]
 *
 * `--corpus` turns every program of a recorded verifier corpus into a
 * `verify` request (as test/verifier/differential.test.ts does);
 * `--requests` reads requests as JSON lines (`TSBPF_ORACLE_RECORD=FILE npx
 * vitest run ...` records the ones the tests send). Requests with
 * `caps: "bpf"` go to the other oracle under `setpriv`, without
 * CAP_SYS_ADMIN and CAP_PERFMON; ours lowers its own capabilities.
 *
 * What cannot be equal is normalised before comparing: `duration_ns`
 * (timing); kernel addresses in logs (`0xffff...`, map pointers); the
 * "verification time N usec" statistic; object ids read back from prog
 * arrays and maps of maps; the order of hash map entries (random without
 * BPF_F_ZERO_SEED). Byte-identical replies are counted too.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { KernelOracle } from '../src/node/kernel-oracle/index.js';

type Json = Record<string, unknown>;

function args(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => { if (a === name && process.argv[i + 1] !== undefined) out.push(process.argv[i + 1]!); });
  return out;
}
const other = args('--other')[0];
if (!other) {
  console.error('usage: compare-kernel-oracles.ts --other COMMAND [--corpus FILE]... [--requests FILE]... [--level N] [--max-processed N] [--diffs FILE]');
  process.exit(2);
}
const level = Number(args('--level')[0] ?? 1);
const maxProcessed = Number(args('--max-processed')[0] ?? Infinity);

let requests: Json[] = [];
for (const f of args('--corpus')) {
  const corpus = JSON.parse(readFileSync(f, 'utf8')) as { programs: (Json & { kernel: { insn_processed: number | null } })[] };
  for (const e of corpus.programs) {
    if ((e.kernel.insn_processed ?? 0) > maxProcessed) continue;
    requests.push({
      cmd: 'verify', prog_type: e['prog_type'], insns: e['insns'], maps: e['maps'] ?? [], license: e['license'] ?? 'GPL',
      prog_flags: e['prog_flags'] ?? [], expected_attach_type: e['expected_attach_type'], log_level: level, ...(e['caps'] ? { caps: e['caps'] } : {}),
    });
  }
}
for (const f of args('--requests')) for (const line of readFileSync(f, 'utf8').split('\n')) if (line.trim()) requests.push(JSON.parse(line) as Json);
requests = JSON.parse(JSON.stringify(requests)) as Json[]; // exactly what goes over the wire

/** The other oracle's replies: batches of 500 per process; caps:'bpf' ones under setpriv. */
function askOther(reqs: readonly Json[]): Json[] {
  const out: Json[] = new Array<Json>(reqs.length);
  const command = other!.split(' ').filter(Boolean);
  for (const reduced of [false, true]) {
    const group = reqs.map((r, i) => [r, i] as const).filter(([r]) => (r['caps'] === 'bpf') === reduced);
    const argv = reduced ? ['setpriv', '--inh-caps=-sys_admin,-perfmon', '--bounding-set=-sys_admin,-perfmon', ...command] : command;
    for (let s = 0; s < group.length; s += 500) {
      const chunk = group.slice(s, s + 500);
      const res = spawnSync(argv[0]!, argv.slice(1), {
        input: JSON.stringify(chunk.map(([r]) => { const { caps: _caps, ...rest } = r; return rest; })), encoding: 'utf8', maxBuffer: 1 << 30,
      });
      if (res.status !== 0) throw new Error(`${argv.join(' ')} failed: ${res.stderr}`);
      const replies = JSON.parse(res.stdout) as Json[];
      chunk.forEach(([, i], j) => { out[i] = replies[j]!; });
    }
  }
  return out;
}

const t0 = performance.now();
const theirs = askOther(requests);
const tOther = performance.now() - t0;
const oracle = new KernelOracle();
const t1 = performance.now();
const ours = JSON.parse(JSON.stringify(oracle.ask(requests))) as Json[];
const tOurs = performance.now() - t1;
oracle.close();

const FD_MAPS = new Set(['prog_array', 'array_of_maps', 'hash_of_maps', 'perf_event_array', 'cgroup_array']);
function normalise(field: string, v: unknown): unknown {
  if ((field === 'log' || field === 'error') && typeof v === 'string') {
    return v.replace(/verification time \d+ usec/g, 'verification time N usec').replace(/0x[0-9a-f]{16}/g, 'ADDR').replace(/\(18\) r(\d+) = 0x[0-9a-f]+/g, '(18) r$1 = MAP');
  }
  if (field === 'results' && Array.isArray(v)) return v.map((r: Json) => ({ ...r, duration_ns: 0 }));
  if (field === 'maps' && Array.isArray(v)) {
    return v.map((m: Json & { entries?: Json[] }) => {
      if (!m.entries) return m;
      if (FD_MAPS.has(String(m['type']))) return { ...m, entries: m.entries.map((e) => ({ ...e, value: 'OBJECT-ID' })) };
      if (/hash|lpm/.test(String(m['type']))) return { ...m, entries: [...m.entries].sort((a, b) => (String(a['key']) < String(b['key']) ? -1 : 1)) };
      return m;
    });
  }
  return v;
}

const fields = new Map<string, { n: number; same: number; examples: string[] }>();
let identical = 0;
let byteIdentical = 0;
const diffs: string[] = [];
requests.forEach((req, i) => {
  const a = theirs[i]!;
  const b = ours[i]!;
  let same = true;
  let bytes = true;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k === 'duration_ns') continue;
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) bytes = false;
    const x = JSON.stringify(normalise(k, a[k]));
    const y = JSON.stringify(normalise(k, b[k]));
    const t = fields.get(k) ?? { n: 0, same: 0, examples: [] };
    t.n++;
    if (x === y) t.same++;
    else {
      same = false;
      if (t.examples.length < 3) t.examples.push(`#${i} ${String(req['cmd'])} ${String(req['prog_type'])}: other ${x?.slice(0, 240)} | ours ${y?.slice(0, 240)}`);
    }
    fields.set(k, t);
  }
  if (same) identical++;
  else diffs.push(JSON.stringify({ i, req, other: a, ours: b }));
  if (bytes) byteIdentical++;
});
const out = args('--diffs')[0];
if (out) writeFileSync(out, diffs.join('\n'));
const verify = requests.filter((r) => r['cmd'] === 'verify').length;
console.log(`${requests.length} requests (${verify} verify, ${requests.length - verify} other): replies equal after normalisation ${identical}/${requests.length}, byte-identical (duration_ns aside) ${byteIdentical}`);
for (const [k, t] of [...fields].sort()) {
  console.log(`  ${k}: ${t.same}/${t.n}`);
  for (const e of t.examples) console.log(`     ${e}`);
}
const rate = (ms: number) => (requests.length / (ms / 1000)).toFixed(0);
console.log(`time: other ${(tOther / 1000).toFixed(2)} s (${rate(tOther)} requests/s, batches of 500 per process), ours ${(tOurs / 1000).toFixed(2)} s (${rate(tOurs)} requests/s, in-process)`);
