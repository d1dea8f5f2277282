/**
 * Differential verifier fuzzing, bounded for CI: fresh programs from every
 * family of test/verifier/fuzz/ (fixed seeds) are verified by tsbpf and,
 * when the kernel is here, by the kernel; every program tsbpf accepts runs
 * in checked mode on several inputs. Any false accept (tsbpf accepts what
 * the kernel rejects, or a checked run faults) and any other disagreement
 * fails the test, unless its signature (class and both messages, numbers
 * left out) is recorded as known in test/fixtures/verifier/fuzz-regressions.json.
 *
 * TSBPF_FUZZ_COUNT changes the number of programs (default 2000);
 * `npm run fuzz:verifier` runs millions on demand.
 */
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../support/kernel-oracle.js';
import { addToTally, formatTally, newTally, runBatch, type Outcome } from './fuzz/driver.js';
import { entrySignature, loadRegressions, normMessage, signature } from './fuzz/regressions.js';

const COUNT = Number(process.env['TSBPF_FUZZ_COUNT'] ?? 2000);
const SEED = 90_000_000;

describe('verifier fuzzing (bounded)', () => {
  it(`${COUNT} fresh programs: no false accept, no unknown disagreement with the kernel`, { timeout: 900_000 }, () => {
    const kernel = kernelAvailable();
    if (!kernel.ok) console.log(`fuzz: kernel comparison skipped: ${kernel.reason}; checked-mode runs only`);
    // known: the same signature as a recorded unfixed divergence, or the same kernel rejection
    // (the rule tsbpf gets wrong; what tsbpf says then depends on where it stops)
    const known = new Map<string, string>();
    const knownKernel = new Map<string, string>();
    for (const p of loadRegressions().programs) {
      if (!p.known) continue;
      known.set(entrySignature(p), p.known);
      if (!p.kernel.accepted) knownKernel.set(normMessage(p.kernel.error), p.known);
    }
    const t0 = performance.now();
    const seeds = Array.from({ length: COUNT }, (_, i) => SEED + i);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < seeds.length; i += 400) outcomes.push(...runBatch(seeds.slice(i, i + 400), { kernel: kernel.ok, runs: true, inputs: 4 }));
    const tally = newTally();
    addToTally(tally, outcomes);
    console.log(`fuzz (${((performance.now() - t0) / 1000).toFixed(1)} s):\n${formatTally(tally)}`);
    const unknown: string[] = [];
    let knownCount = 0;
    for (const o of outcomes) {
      if (o.crash) unknown.push(`${o.prog.name}: ${o.crash}`);
      if (!o.cls) continue;
      const sig = signature(o.cls, o.tsbpf, o.kernel);
      const why = known.get(sig) ?? (o.kernel && !o.kernel.accepted ? knownKernel.get(normMessage(o.kernel.error)) : undefined);
      if (why) {
        knownCount++;
        console.log(`  known divergence ${o.prog.name}: ${sig} (${why})`);
      } else {
        unknown.push(`${o.prog.name}: ${sig}${o.fault ? ` (${o.fault})` : ''}`);
      }
    }
    console.log(`fuzz: ${COUNT} programs, ${tally.accepted} accepted by tsbpf, agreement ${kernel.ok ? `${tally.agree}/${tally.kernelCompared}` : 'not measured'}, `
      + `false accepts ${tally.classes['false-accept']}, checked-mode faults ${tally.classes.fault}, known divergences ${knownCount}`);
    for (const u of unknown) console.log(`  DIVERGENCE ${u}`);
    expect(unknown).toEqual([]);
    expect(tally.accepted).toBeGreaterThan(COUNT / 5);
    expect(tally.accepted).toBeLessThan(COUNT * 0.8);
  });
});
