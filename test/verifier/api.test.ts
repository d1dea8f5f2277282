/** The verifier's API: inputs, the result's fields, logs, the safe-access facts for engines, typed errors. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decode.js';
import { parseObject } from '../../src/loader/index.js';
import {
  VerifierError, assertVerified, kernelErrorLine, licenseIsGplCompatible, verify, verifyObjectProgram,
} from '../../src/verifier/index.js';
import { MapType } from '../../src/isa/uapi.js';

const XDP = 6;
const HASH = { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16 };

function prog(text: string): Uint8Array {
  return assemble(text, { syntax: 'llvm' }).bytes;
}

describe('verify()', () => {
  it('accepts bytes or decoded instructions alike', () => {
    const bytes = prog('r0 = 2\nexit');
    const a = verify({ insns: bytes, progType: XDP });
    const b = verify({ insns: decodeProgram(bytes).insns, progType: XDP });
    expect(a).toMatchObject({ accepted: true, error: null, errno: null, insnsProcessed: 2 });
    expect(b.accepted).toBe(true);
    expect(a.log).toBe('');
  });

  it('reports the kernel message, errno, instruction and the level-1 log', () => {
    const r = verify({ insns: prog('r0 = 1\nr1 = 0\nr0 = *(u8 *)(r1 + 0)\nexit'), progType: XDP }, { logLevel: 1 });
    expect(r).toMatchObject({ accepted: false, error: "R1 invalid mem access 'scalar'", errno: 'EACCES', errorInsn: 2, insnsProcessed: 3 });
    expect(r.log.split('\n').slice(-3)).toEqual([
      "R1 invalid mem access 'scalar'",
      'processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
      '',
    ]);
    expect(kernelErrorLine(r.log)).toBe(r.error);
  });

  it('with logOnFailure at level 0, logs only a rejection, with the level-1 log', () => {
    const bad = prog('r0 = 1\nr1 = 0\nif r0 > 3 goto +1\nr0 = *(u8 *)(r1 + 0)\nexit');
    const quiet = verify({ insns: bad, progType: XDP }, { logLevel: 0, logOnFailure: true });
    const level1 = verify({ insns: bad, progType: XDP }, { logLevel: 1 });
    expect(quiet.accepted).toBe(false);
    expect(quiet.log).toBe(level1.log);
    expect(quiet.log).toContain("R1 invalid mem access 'scalar'");
    expect({ ...quiet, safeAccesses: null }).toEqual({ ...level1, safeAccesses: null });
    const good = verify({ insns: prog('r0 = 1\nif r0 > 3 goto +1\nr0 = 2\nexit'), progType: XDP }, { logLevel: 0, logOnFailure: true });
    expect(good).toMatchObject({ accepted: true, log: '', insnsProcessed: 4 });
  });

  it('prints every instruction with its state at level 2', () => {
    const r = verify({ insns: prog('r0 = 2\nexit'), progType: XDP }, { logLevel: 2 });
    expect(r.log).toContain('0: R1=ctx() R10=fp0\n0: (b7) r0 = 2                        ; R0=2\n1: (95) exit\n');
    expect(r.log.endsWith('processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n')).toBe(true);
  });

  it('checks GPL-only helpers against the license', () => {
    const bytes = prog('*(u64 *)(r10 - 8) = 0\nr1 = r10\nr1 += -8\nr2 = 8\ncall bpf_trace_printk\nr0 = 0\nexit');
    expect(verify({ insns: bytes, progType: 2, license: 'GPL' }).accepted).toBe(true);
    expect(verify({ insns: bytes, progType: 2, license: 'MIT' }).error).toBe('cannot call GPL-restricted function from non-GPL compatible program');
    expect(licenseIsGplCompatible('Dual BSD/GPL')).toBe(true);
    expect(licenseIsGplCompatible('Proprietary')).toBe(false);
  });

  it('lists the memory accesses proven in bounds (safeAccesses), by slot', () => {
    const text = [
      '*(u64 *)(r10 - 8) = 1', //          0: stack store: safe
      'r6 = *(u32 *)(r1 + 0)', //           1: ctx load: safe
      '*(u32 *)(r10 - 12) = 0', //          2
      'r2 = r10', 'r2 += -12', //           3, 4
      'ld_pseudo r1, 1, 0', //              5-6
      'call bpf_map_lookup_elem', //        7
      'if r0 == 0 goto +1', //              8
      'r3 = *(u64 *)(r0 + 0)', //           9: map value load: safe
      'ld_pseudo r1, 1, 0', //              10-11
      'r4 = *(u32 *)(r1 + 0)', //           12: read of the map struct: not proven
      'r0 = 2', 'exit',
    ].join('\n');
    const r = verify({ insns: prog(text), progType: XDP, maps: [HASH] });
    expect(r.accepted).toBe(true);
    expect([...r.safeAccesses].sort((a, b) => a - b)).toEqual([0, 1, 2, 9]);
    expect(verify({ insns: prog('r1 = 0\nr0 = *(u8 *)(r1 + 0)\nexit'), progType: XDP }).safeAccesses.size).toBe(0);
  });

  it('keeps the kernel counters', () => {
    const r = verify({ insns: prog('r0 = 0\nl: r0 += 1\nif r0 < 10 goto l\nr0 = 2\nexit'), progType: XDP });
    expect(r).toMatchObject({ accepted: true, insnsProcessed: 23 }); // as the kernel counts it
    expect(r.stats.stackDepth).toEqual([0]);
  });

  it('turns a rejection into a VerifierError with the instruction', () => {
    const r = verify({ insns: prog('r0 = r5\nexit'), progType: XDP });
    expect(() => assertVerified(r, { section: 'xdp' })).toThrow(VerifierError);
    try {
      assertVerified(r, { section: 'xdp' });
    } catch (e) {
      expect(e).toBeInstanceOf(VerifierError);
      const v = e as VerifierError;
      expect(v.reason).toBe('verifier rejected the program: R5 !read_ok');
      expect(v.location).toEqual({ section: 'xdp', insn: 0 });
      expect(v.errno).toBe('EACCES');
    }
    expect(() => assertVerified(verify({ insns: prog('r0 = 2\nexit'), progType: XDP }))).not.toThrow();
  });
});

describe('verifyObjectProgram()', () => {
  it('verifies an object spec program, global subprograms on their own', () => {
    const obj = parseObject(readFileSync(new URL('../../examples/parser.o', import.meta.url)), { name: 'parser.o' });
    const r = verifyObjectProgram(obj, obj.programs[0]!, { logLevel: 1 });
    expect(r).toMatchObject({ accepted: true, insnsProcessed: 1123 });
    expect(r.log).toBe("Func#7 ('app_class') is safe for any args that match its prototype\n"
      + 'processed 1123 insns (limit 1000000) max_states_per_insn 5 total_states 97 peak_states 74 mark_read 0\n');
  });

  it('takes a program type override', () => {
    const obj = parseObject(readFileSync(new URL('../../examples/parser.o', import.meta.url)), { name: 'parser.o' });
    const r = verifyObjectProgram(obj, obj.programs[0]!, { progType: 3 });
    expect(r.accepted).toBe(false);
  });
});
