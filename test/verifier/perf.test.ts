/**
 * The generated ~4,000-instruction program with loops
 * (test/verifier/corpus/large.ts) that `npm run bench` times: tsbpf explores
 * exactly as many instructions as the kernel. (Speed itself is measured by
 * the bench, never by a timed test.)
 */
import { describe, expect, it } from 'vitest';
import { ask, kernelAvailable } from '../support/kernel-oracle.js';
import { sourceBytes, toHex, verifyEntry } from './corpus/common.js';
import { largeProgram } from './corpus/large.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`large-program check against the kernel skipped: ${kernel.reason}`);

describe('large generated program', () => {
  it('is accepted, exploring as many instructions as the kernel', { timeout: 120_000 }, () => {
    const source = largeProgram(104);
    const entry = { ...source, insns: toHex(sourceBytes(source)) };
    const r = verifyEntry(entry, 0);
    expect(r.accepted).toBe(true);
    expect(entry.insns.length / 16).toBeGreaterThan(3900);
    if (kernel.ok) {
      const [reply] = ask([{ cmd: 'verify', prog_type: entry.prog_type, insns: entry.insns, maps: entry.maps ?? [], log_level: 4 }]);
      expect(reply?.accepted).toBe(true);
      expect(r.insnsProcessed).toBe(reply?.insn_processed);
    }
  });
});
