/**
 * Verification time of a generated ~4,000-instruction program with loops
 * (test/verifier/corpus/large.ts), tsbpf against the kernel when it is here
 * (the kernel's "verification time N usec", log level 4). The numbers are
 * printed; the assertion is loose (machines are noisy, and vitest's module
 * transform makes cross-module calls slower than the built code; see
 * docs/verifier.md for timings of the built code).
 */
import { describe, expect, it } from 'vitest';
import { ask, kernelAvailable } from '../support/kernel-oracle.js';
import { sourceBytes, toHex, verifyEntry } from './corpus/common.js';
import { largeProgram } from './corpus/large.js';

describe('verifier speed', () => {
  it('verifies a 4,000-instruction program with loops within a few times the kernel', { timeout: 120_000 }, () => {
    const source = largeProgram(104);
    const entry = { ...source, insns: toHex(sourceBytes(source)) };
    const times: number[] = [];
    let processed = 0;
    for (let i = 0; i < 8; i++) {
      const t = performance.now();
      const r = verifyEntry(entry, 0);
      times.push(performance.now() - t);
      expect(r.accepted).toBe(true);
      processed = r.insnsProcessed;
    }
    times.sort((a, b) => a - b);
    const best = times[0]!;
    let line = `verifier speed: ${entry.insns.length / 16} insns, ${processed} processed; tsbpf best ${best.toFixed(1)} ms, median ${times[4]!.toFixed(1)} ms`;
    const k = kernelAvailable();
    if (k.ok) {
      const [reply] = ask([{ cmd: 'verify', prog_type: entry.prog_type, insns: entry.insns, maps: entry.maps ?? [], log_level: 4 }]);
      const usec = Number(/verification time (\d+) usec/.exec(String(reply?.log ?? ''))?.[1] ?? NaN);
      expect(reply?.insn_processed).toBe(processed);
      line += `; kernel ${(usec / 1000).toFixed(1)} ms (ratio ${(best / (usec / 1000)).toFixed(1)}x)`;
      if (Number.isFinite(usec)) expect(best).toBeLessThan(Math.max(40 * (usec / 1000), 100));
    }
    console.log(line);
    expect(best).toBeLessThan(2000);
  });
});
