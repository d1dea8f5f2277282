/**
 * The examples' expectations are the Linux kernel's: every case of
 * examples/examples.json is loaded with bpftool/libbpf, run with
 * BPF_PROG_TEST_RUN and must give the manifest's return values, output
 * packets and maps. Skips, with a printed reason, where the kernel cannot
 * be used (not root, no bpftool, no bpf(2)).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable, normaliseMaps, runObjectInKernelIfAble } from '../support/bpftool.js';
import { EXAMPLES_DIR, caseOptions, caseRuns, expectedDataOut, loadManifest } from './manifest.js';

const manifest = loadManifest();
const kernel = kernelAvailable();
if (!kernel.ok) console.log(`skipping the examples in the kernel: ${kernel.reason}`);

describe('examples manifest', () => {
  it('names files that exist', () => {
    for (const ex of manifest.examples) {
      expect(existsSync(join(EXAMPLES_DIR, ex.source)), ex.source).toBe(true);
      expect(existsSync(join(EXAMPLES_DIR, ex.object)), ex.object).toBe(true);
      for (const c of ex.cases) {
        for (const run of caseRuns(c)) {
          if (run.packet !== undefined) expect(existsSync(join(EXAMPLES_DIR, run.packet)), `${ex.name}: ${run.packet}`).toBe(true);
        }
      }
    }
  });
});

describe.skipIf(!kernel.ok)('examples in the Linux kernel', () => {
  for (const example of manifest.examples) {
    describe(example.name, () => {
      for (const c of example.cases) {
        it(c.name, () => {
          const result = runObjectInKernelIfAble(join(EXAMPLES_DIR, example.object), caseOptions(example, c));
          if (result === undefined) return;
          const runs = caseRuns(c);
          expect(result.runs.length).toBe(runs.length);
          runs.forEach((run, i) => {
            const got = result.runs[i]!;
            const what = `run ${i + 1} (${run.packet ?? 'ctx'})`;
            if (run.expect.error !== undefined) {
              expect(got.error, `${what}: the kernel should refuse the run`).toBe(run.expect.error);
              return;
            }
            expect(got.error, `${what}: the kernel refused the run`).toBeUndefined();
            expect(got.retval, `${what}: retval`).toBe(run.expect.retval);
            const dataOut = expectedDataOut(run);
            if (dataOut !== undefined) expect(got.dataOut, `${what}: data_out`).toBe(dataOut);
          });
          const expectedMaps = c.expect.maps ?? {};
          const types = Object.fromEntries(Object.entries(result.mapInfo).map(([name, info]) => [name, info.type]));
          const normal = normaliseMaps(result.maps, types);
          const compared = Object.fromEntries(Object.keys(expectedMaps).map((name) => [name, normal[name]]));
          expect(compared).toEqual(expectedMaps);
        });
      }
    });
  }
});
