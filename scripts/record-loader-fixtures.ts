/**
 * Records the kernel's judgement of the loader-convention fixtures
 * (test/fixtures/loaders/*.o, issue 11) into test/fixtures/loaders/kernel.json,
 * which src/runtime/object-failures.test.ts compares tsbpf with:
 *
 * - `libbpf`: what libbpf (Debian's libbpf 1.1, through
 *   scripts/kernel-verify-objects.py) says of each object it opens: its
 *   verdict per program and its warning lines (`extern (func ksym) 'x': not
 *   found in kernel or module BTFs`, `map 'x': failed to create: ...`). It
 *   refuses legacy `maps` sections altogether, and fails a whole object for
 *   one bad map or extern.
 * - `kernel`: each program on its own, as tsbpf's loader hands it over
 *   (its maps created by bpf(2), `BPF_PSEUDO_MAP_IDX` through fd_array,
 *   maps it does not use replaced by a one-entry array): the verifier's
 *   verdict, or the errno with which the kernel refused one of its maps.
 *   Programs whose maps the kernel should not be asked to create (a 1 GiB
 *   ring buffer) are left out, with the reason.
 *
 *   sudo npx tsx scripts/record-loader-fixtures.ts
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseObject } from '../src/loader/index.js';
import type { ObjectMapSpec } from '../src/loader/index.js';
import { kernelErrorLine } from '../src/verifier/index.js';
import { mapsUsedBy } from '../src/runtime/map-problems.js';
import { ask, kernelAvailable, toHex } from '../test/support/kernel-oracle.js';

const DIR = new URL('../test/fixtures/loaders/', import.meta.url);
/** Maps larger than this are not created in the kernel (memory the machine shares with others). */
const MAX_KERNEL_MAP_BYTES = 64 << 20;

/** Possible CPUs of this machine (perf event arrays with max_entries 0). */
function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  return Math.max(...text.split(',').map((r) => Number(r.split('-').at(-1)))) + 1;
}

function mapBytes(m: ObjectMapSpec): number {
  return (m.type === 27 || m.type === 31 ? m.maxEntries : m.maxEntries * (m.keySize + m.valueSize));
}

function oracleMap(m: { type: number; keySize: number; valueSize: number; maxEntries: number; flags?: number; name: string }): Record<string, unknown> {
  return { type: m.type, key_size: m.keySize, value_size: m.valueSize, max_entries: m.maxEntries, flags: m.flags ?? 0, name: m.name.slice(0, 15) };
}

const filler = { type: 2, key_size: 4, value_size: 4, max_entries: 1, flags: 0, name: 'unused' };

function main(): void {
  const k = kernelAvailable();
  if (!k.ok) {
    console.error(k.reason);
    process.exit(1);
  }
  const [probe] = ask([{ cmd: 'probe' }]);
  const cpus = possibleCpus();
  const files = readdirSync(DIR).filter((f) => f.endsWith('.o')).sort();
  const out: { kernel: string; generated_by: string; objects: unknown[] } = {
    kernel: String(probe?.['kernel'] ?? 'unknown'), generated_by: 'scripts/record-loader-fixtures.ts', objects: [],
  };
  for (const file of files) {
    const path = new URL(file, DIR).pathname;
    const libbpf = spawnSync('python3', [new URL('kernel-verify-objects.py', import.meta.url).pathname, path], { encoding: 'utf8' });
    const libbpfRows = (JSON.parse(libbpf.stdout) as Record<string, unknown>[]).map((r) => ({
      program: r['program'], accepted: r['accepted'] ?? false, error: r['error'] ?? null,
      libbpf_error: r['libbpf_error'] ?? null, warnings: ((r['libbpf_warnings'] ?? []) as string[]).map((w) => w.replace(path, file)),
    }));
    const obj = parseObject(readFileSync(path), { name: file });
    const programs = obj.programs.map((p) => {
      const used = mapsUsedBy(p);
      const big = used.map((i) => obj.maps[i]!).find((m) => mapBytes(m) > MAX_KERNEL_MAP_BYTES);
      if (big) return { program: p.name, section: p.section, kernel: null, skipped: `map '${big.name}' is not created in the kernel (${mapBytes(big)} bytes)` };
      if (obj.maps.some((m, i) => used.includes(i) && (m.kind !== 'btf' && m.kind !== 'legacy'))) {
        return { program: p.name, section: p.section, kernel: null, skipped: 'uses global data (not recorded)' };
      }
      if (p.loadError) return { program: p.name, section: p.section, kernel: null, skipped: `the loader refuses it before the kernel sees it: ${p.loadError.message}` };
      const maps: Record<string, unknown>[] = obj.maps.map((m, i) => {
        if (!used.includes(i) || m.loadError) return filler;
        const spec = { ...m, maxEntries: m.type === 4 && m.maxEntries === 0 ? cpus : m.maxEntries };
        return oracleMap(spec);
      });
      // The oracle wants a map of maps' inner template earlier in the list: an unused slot before it takes the template.
      for (const [i, m] of obj.maps.entries()) {
        if (!used.includes(i) || !m.innerMap) continue;
        const slot = maps.findIndex((x, j) => j < i && x === filler);
        if (slot < 0) return { program: p.name, section: p.section, kernel: null, skipped: `no slot before map '${m.name}' for its inner map template` };
        maps[slot] = oracleMap(m.innerMap);
        maps[i] = { ...maps[i], inner_map: slot };
      }
      return { program: p.name, section: p.section, request: { maps, p } };
    });
    const asks = programs.filter((x) => 'request' in x) as { program: string; section: string; request: { maps: Record<string, unknown>[]; p: typeof obj.programs[number] } }[];
    const replies = ask(asks.map(({ request: { maps, p } }) => ({
      cmd: 'verify' as const, prog_type: p.type as unknown as string, insns: toHex(p.insns), maps, license: obj.license || 'GPL',
      ...(p.expectedAttachType !== undefined ? { expected_attach_type: p.expectedAttachType } : {}),
      prog_flags: p.flags, log_level: 1,
    })));
    const rows = programs.map((x) => {
      if (!('request' in x)) return x;
      const r = replies[asks.indexOf(x as typeof asks[number])]!;
      const kernel = !r.ok && r['stage'] === 'map_create'
        ? { accepted: false, map_create: String(r['errno_name']), error: null, insn_processed: null }
        : r.ok
          ? { accepted: r.accepted === true, error: r.accepted ? null : kernelErrorLine(String(r.log ?? '')), insn_processed: r.insn_processed ?? null }
          : { accepted: false, error: `oracle: ${r.error}`, insn_processed: null };
      return { program: x.program, section: x.section, kernel };
    });
    out.objects.push({ file, libbpf: libbpfRows, programs: rows });
    console.log(`${file}: ${rows.map((r) => `${r.program}=${r.kernel === null ? 'skipped' : r.kernel.accepted ? 'ok' : 'no'}`).join(' ')}`);
  }
  writeFileSync(new URL('kernel.json', DIR), `${JSON.stringify(out, null, 1)}\n`);
}

main();
