/**
 * Large real programs (bench/programs/katran: katran's XDP load balancer in
 * four builds): the verifier explores exactly as many instructions as the
 * kernel did (its verdicts recorded in bench/programs/katran/kernel.json by
 * scripts/kernel-verify-objects.py), so the benchmark compares the same work.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseObject } from '../../src/loader/index.js';
import { verifyObjectProgram } from '../../src/verifier/index.js';

interface Recorded {
  kernel: string;
  programs: { file: string; program: string; accepted: boolean; error: string | null; insn_processed: number }[];
}

const root = new URL('../../', import.meta.url);
const recorded = JSON.parse(readFileSync(new URL('bench/programs/katran/kernel.json', root), 'utf8')) as Recorded;

describe(`katran's balancer, against the kernel (${recorded.kernel})`, () => {
  for (const k of recorded.programs) {
    it(`${k.file}:${k.program}`, () => {
      const object = parseObject(readFileSync(new URL(k.file, root)), { name: k.file });
      const program = object.programs.find((p) => p.name === k.program)!;
      const r = verifyObjectProgram(object, program, { logLevel: 0, logOnFailure: true });
      expect({ accepted: r.accepted, error: r.error, insn_processed: r.insnsProcessed })
        .toEqual({ accepted: k.accepted, error: k.error, insn_processed: k.insn_processed });
    }, 60_000);
  }
});
