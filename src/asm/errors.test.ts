/** Malformed assembly: the exact reason, line and column of every error. */
import { describe, expect, it } from 'vitest';
import { AssemblerError } from '../errors.js';
import { assemble } from './index.js';

type Row = [syntax: 'llvm' | 'conformance', source: string, line: number, column: number, reason: string];

const ROWS: Row[] = [
  // conformance syntax
  ['conformance', 'foo %r0, 1', 1, 1, "unknown mnemonic 'foo'"],
  ['conformance', 'mov x, 1', 1, 5, "expected a register, found 'x'"],
  ['conformance', 'mov %r0, 4294967296', 1, 10, 'immediate 4294967296 does not fit in 32 bits'],
  ['conformance', 'mov %r0, -2147483649', 1, 10, 'immediate -2147483649 does not fit in 32 bits'],
  ['conformance', 'mov %r11, 1', 1, 5, "invalid register '%r11' (registers are r0 to r10)"],
  ['conformance', 'mov %w1, 1', 1, 5, "expected a 64-bit register (rN), found '%w1'"],
  ['conformance', 'exit\nja L9', 2, 4, "undefined label 'L9'"],
  ['conformance', 'mov %r0 1', 1, 9, "expected ',', found '1'"],
  ['conformance', 'mov %r0,', 1, 9, 'expected an immediate, found end of line'],
  ['conformance', 'ldxw %r0, [%r1+40000]', 1, 15, 'offset +40000 does not fit in 16 bits'],
  ['conformance', 'ldxw %r0, %r1', 1, 11, "expected '[', found '%r1'"],
  ['conformance', 'lddw %r0, 0x10000000000000000', 1, 11, 'immediate 0x10000000000000000 does not fit in 64 bits'],
  ['conformance', 'jeq %r1, 0, +40000', 1, 13, 'jump offset +40000 does not fit in 16 bits'],
  ['conformance', 'exit 1', 1, 6, "unexpected '1' after the instruction"],
  ['conformance', 'lock nand [%r1+0], %r2', 1, 6, "unknown atomic operation 'nand' (add, or, and, xor, xchg, cmpxchg)"],
  ['conformance', 'ldxsdw %r0, [%r1]', 1, 8, 'sign-extending loads exist for 1, 2 and 4 bytes only (ldxsb, ldxsh, ldxsw)'],
  ['conformance', 'lddw %r1, map_ptr 3', 1, 11, "unknown lddw source 'map_ptr' (map_fd, map_value, btf_id, func, map_idx, map_idx_value)"],
  ['conformance', 'mov %r0, 0x1g', 1, 10, "malformed number '0x1g'"],
  ['conformance', '  mov %r0, $1', 1, 12, "unexpected character '$'"],
  ['conformance', 'L:\nexit\n L:\nexit', 3, 2, "duplicate label 'L' (first defined on line 1)"],
  ['conformance', 'call foo', 1, 6, "expected a helper id, 'local', 'kfunc' or a register, found 'foo'"],
  ['conformance', 'addr_space_cast %r1, %r2, 2, 0', 1, 30, 'addr_space_cast converts only between address spaces 0 and 1'],
  ['conformance', 'ldabsdw 4', 1, 9, 'legacy packet loads exist for 1, 2 and 4 bytes only'],
  ['conformance', 'jeq %r0, 0, exit', 1, 13, "undefined label 'exit'"],
  ['conformance', 'r0 = 1', 1, 1, "expected a mnemonic, found 'r0' (LLVM syntax in a conformance-syntax file?)"],
  // LLVM syntax
  ['llvm', 'r0 = foo', 1, 6, "unknown operation 'foo'"],
  ['llvm', 'r0 += w1', 1, 7, "expected a 64-bit register (rN), found 'w1'"],
  ['llvm', 'w0 = 5 ll', 1, 1, "a 64-bit constant needs a 64-bit destination, found 'w0'"],
  ['llvm', 'w0 = 4294967296', 1, 6, 'immediate 4294967296 does not fit in 32 bits'],
  ['llvm', 'r0 = *(u128 *)(r1 + 0)', 1, 8, "expected an access type (u8, u16, u32, u64, s8, s16, s32), found 'u128'"],
  ['llvm', 'r0 = *(u32 *)(w1 + 0)', 1, 15, "expected a 64-bit register (rN), found 'w1'"],
  ['llvm', 'r0 = *(u32 *)(r1 + 0x8000)', 1, 18, 'offset +0x8000 does not fit in 16 bits'],
  ['llvm', 'exit\n\nif r1 == 0 goto LBB0_3', 3, 17, "undefined label 'LBB0_3'"],
  ['llvm', 'if r1 ~ 0 goto +1', 1, 7, "unexpected character '~'"],
  ['llvm', 'if r1 = 0 goto +1', 1, 7, "expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &), found '='"],
  ['llvm', 'if r1 == 0 jump +1', 1, 12, "expected 'goto', found 'jump'"],
  ['llvm', 'if w1 == r2 goto +1', 1, 10, "expected a 32-bit register (wN), found 'r2'"],
  ['llvm', 'goto +40000', 1, 6, 'jump offset +40000 does not fit in 16 bits'],
  ['llvm', 'gotol +0x80000000', 1, 7, 'jump offset +0x80000000 does not fit in 32 bits'],
  ['llvm', 'frob r1', 1, 1, "unknown mnemonic 'frob'"],
  ['llvm', 'r1 = map[id:5]', 1, 6, "'map[...]' is a map reference from bpftool; write it as 'ld_pseudo r1, 1, FD' (or 5, INDEX)"],
  ['llvm', 'lock *(u16 *)(r1 + 0) += r2', 1, 8, "atomic read-modify-write operations need a 32- or 64-bit access (u32, u64), found 'u16'"],
  ['llvm', 'lock *(u64 *)(r1 + 0) -= r2', 1, 23, "expected an atomic operation (+=, |=, &=, ^=), found '-='"],
  ['llvm', 'r2 = atomic_fetch_add((u64 *)(r1 + 0), r3)', 1, 40, "the operand of an atomic fetch (it receives the old value) must be 'r2', found 'r3'"],
  ['llvm', 'r1 = cmpxchg_64(r1 + 0, r0, r2)', 1, 1, "the result of a compare-and-exchange goes to r0, found 'r1'"],
  ['llvm', 'r1 = be16 r2', 1, 11, "the operand of 'be16' must be 'r1', found 'r2'"],
  ['llvm', 'w1 = (s32)w2', 1, 7, "'(s32)' needs a 64-bit destination: there is no 32-bit movsx from 32 bits"],
  ['llvm', 'r1 = *(u8 *)skb[4]', 1, 1, "legacy packet loads write r0, found 'r1'"],
  ['llvm', 'r0 = *(s64 *)(r1 + 0)', 1, 8, "'s64' is not an access type: sign-extending loads exist for s8, s16 and s32"],
  ['llvm', '       3:\t<unknown>', 1, 11, "cannot assemble '<unknown>': llvm-objdump could not decode this instruction"],
  ['llvm', '0: (07) r0 = 1', 1, 4, 'opcode (07) does not match the instruction, which encodes as (b7)'],
  ['llvm', 'r1 = addr_space_cast(r2, 2, 1)', 1, 29, 'addr_space_cast converts only between address spaces 0 and 1'],
  ['llvm', 'L: goto L2\nL2 = 1', 2, 1, "unknown mnemonic 'L2'"],
  ['llvm', 'ld_pseudo r1, 7, 0', 1, 15, 'lddw pseudo source 7 is out of range (0 to 6)'],
  ['llvm', 'r0 = 0x1ffffffffffffffff ll', 1, 6, 'immediate 0x1ffffffffffffffff does not fit in 64 bits'],
  ['llvm', '*(u32 *)(r10 - 8) = 4294967296', 1, 21, 'immediate 4294967296 does not fit in 32 bits'],
  ['llvm', '*(s32 *)(r10 - 8) = 1', 1, 3, 'a store takes an unsigned access type (u8, u16, u32, u64)'],
  ['llvm', 'call bpf_nonexistent_thing', 1, 6, "undefined label or helper 'bpf_nonexistent_thing'"],
  ['llvm', 'r12 = 1', 1, 1, "invalid register 'r12' (registers are r0 to r10)"],
  ['llvm', 'r0 = %r1', 1, 6, "expected a register, found '%r1'"],
];

describe('assembler errors', () => {
  it.each(ROWS)('%s: %j', (syntax, source, line, column, reason) => {
    let error: unknown;
    try {
      assemble(source, { syntax, file: 'bad.s' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AssemblerError);
    const e = error as AssemblerError;
    expect({ reason: e.reason, ...e.location }).toEqual({ reason, line, column, file: 'bad.s' });
    expect(e.message).toBe(`bad.s:${line}:${column}: ${reason}`);
  });

  it('reports a jump whose label is too far away', () => {
    const far = 'ja L\n' + 'mov %r0, 0\n'.repeat(40000) + 'L:\nexit\n';
    expect(() => assemble(far, { syntax: 'conformance' })).toThrow(
      "line 1:4: jump offset out of range: 'L' is 40000 slots away, more than a 16-bit offset holds");
  });
});
