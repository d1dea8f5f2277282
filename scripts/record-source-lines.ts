/**
 * Records the kernel's verifier logs, at log levels 1 and 2, of a few
 * objects built with BTF line info, into
 * test/fixtures/verifier/source-lines.json: the logs carry the kernel's
 * `; <source line> @ <file>:<line>` annotations, which
 * test/verifier/source-lines.test.ts compares with tsbpf's logs without
 * needing the kernel. Each program is loaded alone through libbpf
 * (scripts/kernel-verify-objects.py --log-level N).
 *
 *   sudo npx tsx scripts/record-source-lines.ts
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const OBJECTS = ['examples/proto_count.o', 'examples/sock_filter.o', 'test/fixtures/verifier/objects/source_lines.o'];

interface Row { file: string; program: string | null; accepted?: boolean; log?: string; libbpf_error?: string | null }

const logs: { file: string; program: string; level: number; accepted: boolean; log: string }[] = [];
for (const level of [1, 2]) {
  const r = spawnSync('python3', [`${root}scripts/kernel-verify-objects.py`, '--log-level', String(level), ...OBJECTS], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`kernel-verify-objects.py failed: ${r.stderr}`);
  for (const row of JSON.parse(r.stdout) as Row[]) {
    if (row.program === null || row.log === undefined || row.libbpf_error) throw new Error(`${row.file}: ${row.libbpf_error ?? 'no log'}`);
    logs.push({ file: row.file, program: row.program, level, accepted: row.accepted === true, log: row.log });
  }
}
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
writeFileSync(new URL('test/fixtures/verifier/source-lines.json', `file://${root}`),
  `${JSON.stringify({ kernel, generated_by: 'scripts/record-source-lines.ts', logs }, null, 1)}\n`);
console.log(`source-lines.json: ${logs.length} logs`);
