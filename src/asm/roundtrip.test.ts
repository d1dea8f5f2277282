import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeProgram } from '../isa/index.js';
import type { Instruction } from '../isa/index.js';
import { arbProgram } from '../../test/support/arbitrary-instructions.js';
import { assemble, disassemble } from './index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('assemble(disassemble(p)) == p', () => {
  for (const syntax of ['llvm', 'conformance'] as const) {
    for (const labels of [false, true]) {
      it(`${syntax} syntax${labels ? ' with labels' : ''}`, () => {
        fc.assert(
          fc.property(arbProgram(), (insns) => {
            const text = disassemble(insns, { syntax, labels });
            const back = assemble(text, { syntax });
            expect(hex(back.bytes), text).toBe(hex(encodeProgram(insns)));
            expect(back.insns).toEqual(insns);
          }),
          { numRuns: 400 },
        );
      });
    }

    it(`${syntax} syntax with addresses, detected automatically`, () => {
      fc.assert(
        fc.property(arbProgram(), (insns) => {
          const text = disassemble(encodeProgram(insns), { syntax, addresses: true, labels: true });
          expect(hex(assemble(text).bytes), text).toBe(hex(encodeProgram(insns)));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('kernel syntax reads back through the LLVM parser (except pseudo lddw sources)', () => {
    const plain = (i: Instruction): boolean => i.kind !== 'lddw' || i.pseudo === 0;
    fc.assert(
      fc.property(arbProgram().filter((p) => p.every(plain)), (insns) => {
        const text = disassemble(insns, { syntax: 'kernel', addresses: true });
        expect(hex(assemble(text, { syntax: 'llvm' }).bytes), text).toBe(hex(encodeProgram(insns)));
      }),
      { numRuns: 300 },
    );
  });
});
