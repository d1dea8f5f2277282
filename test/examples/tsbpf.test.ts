/**
 * Every example object runs in tsbpf, on both engines, and gives what the Linux kernel gives
 * (BPF_PROG_TEST_RUN through libbpf/bpftool): the manifest's kernel-checked
 * expectations always, and, where BPF can be loaded here, a live run in the
 * kernel of the same case compared on every run's return value and packet
 * and on every map afterwards.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TsbpfError } from '../../src/errors.js';
import { parseObject } from '../../src/loader/object.js';
import type { ObjectSpec } from '../../src/loader/spec.js';
import { loadCollection } from '../../src/runtime/collection.js';
import { applyMapInit, dumpMaps, toHex } from '../../src/runtime/map-io.js';
import type { MapDumpEntry } from '../../src/runtime/map-io.js';
import { engineByName } from '../../src/engines.js';
import { interpreterEngine } from '../../src/vm/engine.js';
import type { Engine } from '../../src/vm/engine.js';
import { kernelAvailable, normaliseMaps, runObjectInKernelIfAble } from '../support/bpftool.js';
import type { MapEntry } from '../support/bpftool.js';
import { caseOptions, caseRuns, EXAMPLES_DIR, expectedDataOut, loadManifest, readPacket } from './manifest.js';
import type { ManifestCase, ManifestExample } from './manifest.js';
import { MapType } from '../../src/isa/uapi.js';

const manifest = loadManifest();
const kernel = kernelAvailable();
if (!kernel.ok) console.log(`tsbpf examples: comparing with the manifest only; no live kernel runs (${kernel.reason})`);

/** Maps holding timestamps (`bpf_ktime_get_ns`), which no two runs share. */
const TIME_DEPENDENT_MAPS: Record<string, string[]> = { rate_limit: ['rl_windows'] };

/** The kernel reports two possible CPUs here; tsbpf's per-CPU maps get the same number of slots. */
const CPUS = 2;

interface RunOutcome {
  retval?: number;
  error?: string;
  dataOut: string;
}

function parse(ex: ManifestExample): ObjectSpec {
  return parseObject(new Uint8Array(readFileSync(join(EXAMPLES_DIR, ex.object))), { name: ex.object, possibleCpus: CPUS });
}

/** Runs a case in tsbpf; maps come back normalised like the manifest's (names for program and map ids). */
function runInTsbpf(ex: ManifestExample, c: ManifestCase, engine: Engine = interpreterEngine): { runs: RunOutcome[]; maps: Record<string, MapEntry[]> } {
  const collection = loadCollection(parse(ex), { possibleCpus: CPUS });
  if (c.mapInit) applyMapInit(collection, c.mapInit);
  const program = collection.program({ name: ex.program.function });
  const runs = caseRuns(c).map((run): RunOutcome => {
    try {
      const r = collection.run(program, {
        ...(run.packet !== undefined ? { dataIn: readPacket(run.packet) } : {}),
        ...(run.ctx !== undefined ? { ctxIn: Uint8Array.from(Buffer.from(run.ctx, 'hex')) } : {}),
        repeat: run.repeat ?? 1,
      }, engine);
      return { retval: r.retval, dataOut: toHex(r.dataOut) };
    } catch (err) {
      if (err instanceof TsbpfError && /\((E[A-Z0-9]+)\)$/.test(err.reason)) return { error: /\((E[A-Z0-9]+)\)$/.exec(err.reason)![1]!, dataOut: '' };
      throw err;
    }
  });
  const raw = dumpMaps(collection);
  const types: Record<string, string> = {};
  const named: Record<string, MapEntry[]> = {};
  collection.object.maps.forEach((spec, i) => {
    const map = collection.maps[i]!;
    types[spec.name] = map.typeName;
    if (map.type === MapType.BLOOM_FILTER) return;
    named[spec.name] = raw[spec.name]!.map((e: MapDumpEntry): MapEntry => {
      const id = () => Buffer.from(e.value, 'hex').readUInt32LE(0);
      if (map.type === MapType.PROG_ARRAY) return { key: e.key!, value: `prog:${collection.programs.find((p) => p.id === id())?.spec.name}` };
      if (map.type === MapType.ARRAY_OF_MAPS || map.type === MapType.HASH_OF_MAPS) {
        return { key: e.key!, value: `map:${collection.maps.find((m) => m.id === id())?.name}` };
      }
      return e.key === undefined ? { value: e.value } : e.values ? { key: e.key, value: e.value } : { key: e.key, value: e.value };
    });
  });
  return { runs, maps: normaliseMaps(named, types) };
}

describe('examples run in tsbpf as in the kernel', () => {
  for (const ex of manifest.examples) {
    describe(ex.name, () => {
      for (const c of ex.cases) {
        it(c.name, () => {
          const ours = runInTsbpf(ex, c);
          // The JIT must give exactly what the interpreter gives: return values, packets and every map (timestamps aside).
          const timeless = (r: ReturnType<typeof runInTsbpf>) => ({
            runs: r.runs,
            maps: Object.fromEntries(Object.entries(r.maps).filter(([name]) => !TIME_DEPENDENT_MAPS[ex.name]?.includes(name))),
          });
          expect(timeless(runInTsbpf(ex, c, engineByName('jit')))).toEqual(timeless(ours));
          const expected = caseRuns(c).map((run): RunOutcome => ({
            ...(run.expect.retval !== undefined ? { retval: run.expect.retval } : { error: run.expect.error! }),
            dataOut: expectedDataOut(run) ?? '',
          }));
          ours.runs.forEach((r, i) => {
            const want = expected[i]!;
            expect(r.retval ?? r.error, `run ${i + 1}`).toBe(want.retval ?? want.error);
            if (want.dataOut !== '') expect(r.dataOut, `run ${i + 1} data_out`).toBe(want.dataOut);
          });
          for (const [name, entries] of Object.entries(c.expect.maps ?? {})) {
            expect(ours.maps[name], `map ${name}`).toEqual(entries);
          }
          if (!kernel.ok) return;
          const live = runObjectInKernelIfAble(join(EXAMPLES_DIR, ex.object), caseOptions(ex, c));
          if (live === undefined) return;
          live.runs.forEach((k, i) => {
            expect({ run: i + 1, result: ours.runs[i]!.retval ?? ours.runs[i]!.error, data: ours.runs[i]!.dataOut })
              .toEqual({ run: i + 1, result: k.error ?? k.retval, data: k.error ? '' : k.dataOut });
          });
          const kernelMaps = normaliseMaps(live.maps, Object.fromEntries(Object.entries(live.mapInfo).map(([n, info]) => [n, info.type])));
          for (const [name, entries] of Object.entries(kernelMaps)) {
            if (live.mapInfo[name]?.type === 'bloom_filter' || TIME_DEPENDENT_MAPS[ex.name]?.includes(name)) continue;
            expect(ours.maps[name], `map ${name} (kernel)`).toEqual(entries);
          }
        });
      }
    });
  }
});
