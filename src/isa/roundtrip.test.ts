import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProgram, encode, encodeProgram } from './index.js';
import { arbInstruction, arbProgram } from '../../test/support/arbitrary-instructions.js';

describe('encode/decode', () => {
  it('decode(encode(x)) == x for every instruction form', () => {
    fc.assert(
      fc.property(arbInstruction(), (insn) => {
        expect(decodeProgram(encode(insn)).insns).toEqual([insn]);
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips whole random programs', () => {
    fc.assert(
      fc.property(arbProgram(), (insns) => {
        expect(decodeProgram(encodeProgram(insns)).insns).toEqual(insns);
      }),
      { numRuns: 500 },
    );
  });

  it('covers every instruction kind', () => {
    const kinds = new Set(fc.sample(arbInstruction(), 3000).map((i) => i.kind));
    expect([...kinds].sort()).toEqual([
      'addr_space_cast', 'alu', 'atomic', 'call', 'callx', 'endian', 'exit', 'gotol', 'ja', 'jmp',
      'ldabs', 'lddw', 'ldind', 'ldx', 'may_goto', 'neg', 'st', 'stx',
    ]);
  });
});
