import { describe, expect, it } from 'vitest';
import { decodeProgram, encodeProgram, lddw, lddwValue } from './index.js';
import type { Instruction } from './index.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));
}

describe('decode', () => {
  it('decodes the raw words of the conformance lddw test', () => {
    // 0x5566778800000018, 0x1122334400000000, 0x95 as little-endian words
    const { insns, slotOf } = decodeProgram(hex('1800000088776655 0000000044332211 9500000000000000'));
    expect(insns).toEqual([
      { kind: 'lddw', dst: 0, pseudo: 0, imm: 0x55667788, imm2: 0x11223344 },
      { kind: 'exit' },
    ]);
    expect(slotOf).toEqual([0, 2]);
    expect(lddwValue(insns[0] as Extract<Instruction, { kind: 'lddw' }>)).toBe(0x1122334455667788n);
  });

  it('round-trips a hand-checked program through encode', () => {
    const prog: Instruction[] = [
      { kind: 'alu', op: 'mov', wide: true, useReg: false, dst: 0, src: 0, imm: -1 },
      lddw(1, 0xffffffff00000001n),
      { kind: 'atomic', op: 'cmpxchg', fetch: true, size: 8, dst: 10, src: 1, off: -8 },
      { kind: 'exit' },
    ];
    const bytes = encodeProgram(prog);
    expect(Buffer.from(bytes).toString('hex')).toBe(
      'b7000000ffffffff' + '1801000001000000' + '00000000ffffffff' + 'db1af8fff1000000' + '9500000000000000');
    expect(decodeProgram(bytes).insns).toEqual(prog);
  });

  it.each([
    ['unknown opcode', '0700000000000000'.replace('07', 'ff'), 'insn 0: unknown opcode ff'],
    ['reserved ALU field', 'b710000001000000', 'insn 0: BPF_MOV uses reserved fields'],
    ['truncated lddw', '1800000001000000', 'insn 0: invalid bpf_ld_imm64 insn: truncated, the second slot is missing'],
    ['bad register', 'b70b000000000000', 'insn 0: R11 is invalid'],
    ['exit with fields', '9501000000000000', 'insn 0: BPF_EXIT uses reserved fields'],
    ['ragged length', 'b700000000000000b7', 'offset 8: program length 9 is not a multiple of 8 bytes'],
  ])('rejects %s', (_name, code, message) => {
    expect(() => decodeProgram(hex(code))).toThrow(message);
  });
});
