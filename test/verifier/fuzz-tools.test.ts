/**
 * The fuzzer's own tools: the state parser that reads the kernel's register
 * format, the minimizer's instruction removal (jumps over and into the gap
 * keep their targets), map list compaction, and program generation being a
 * pure function of the seed.
 */
import { describe, expect, it } from 'vitest';
import { assemble, disassemble } from '../../src/asm/index.js';
import { fromHex, toHex } from './corpus/common.js';
import { compactMaps, FAMILY_NAMES, generate } from './fuzz/families.js';
import { decode, encode, removeRange } from './fuzz/minimize.js';
import { parseScalar, parseStateLine, unionStates } from './fuzz/state.js';

describe('fuzz tools', () => {
  it('parses the kernel\'s scalar format', () => {
    const s = parseScalar('scalar(id=1,smin=smin32=0,smax=umax=smax32=umax32=1000,var_off=(0x0; 0x3ff))')!;
    expect([s.smin, s.smax, s.umin, s.umax, s.s32min, s.s32max, s.u32min, s.u32max, s.value, s.mask])
      .toEqual([0n, 1000n, 0n, 1000n, 0n, 1000n, 0n, 1000n, 0n, 0x3ffn]);
    const n = parseScalar('scalar(smin=0xffffffff80000000,smax=smax32=0x7f030000,umax=0xffffffffff030000,umax32=0xff030000)')!;
    expect(n.smin).toBe(-(1n << 31n));
    expect(n.umax).toBe(0xffffffffff030000n);
    expect(n.s32min).toBe(-(1n << 31n));
    expect(n.mask).toBe((1n << 64n) - 1n);
    expect(parseScalar('P-5')!.smin).toBe(-5n);
    expect(parseScalar('map_value(ks=4,vs=8)')).toBeNull();
    const regs = parseStateLine(' R1=scalar(id=1,var_off=(0x0; 0xff)) R10=fp0');
    expect([...regs.keys()]).toEqual([1, 10]);
    const u = unionStates([parseScalar('5')!, parseScalar('7')!]);
    expect([u.umin, u.umax, u.value, u.mask]).toEqual([5n, 7n, 5n, 2n]);
  });

  it('removes instructions and keeps jump targets', () => {
    const hex = toHex(assemble('r0 = 0\nif r0 > 1 goto l\nr0 = 1\nr0 = 2\nl:\nr0 = 3\nexit', { syntax: 'llvm' }).bytes);
    const out = encode(removeRange(decode(hex), 2, 3));
    expect(disassemble(fromHex(out), { syntax: 'llvm' } as never).split('\n').filter(Boolean)).toEqual([
      'r0 = 0x0', 'if r0 > 0x1 goto +0x1', 'r0 = 0x2', 'r0 = 0x3', 'exit',
    ]);
    // removing the jump's target: it lands on the next instruction
    const out2 = encode(removeRange(decode(hex), 4, 5));
    expect(disassemble(fromHex(out2), { syntax: 'llvm' } as never)).toContain('goto +0x2');
  });

  it('keeps only the maps a program uses, renumbered', () => {
    const p = compactMaps({ name: 'x', family: 'x', seed: 0, prog_type: 'xdp', asm: 'ld_pseudo r1, 1, 3\nld_pseudo r2, 2, 1', maps: [0, 1, 2, 3].map((i) => ({ type: 'array', key_size: 4, value_size: i + 1, max_entries: 1 })) });
    expect(p.asm).toBe('ld_pseudo r1, 1, 1\nld_pseudo r2, 2, 0');
    expect(p.maps.map((m) => m.value_size)).toEqual([2, 4]);
  });

  it('generates the same program from the same seed, in every family', () => {
    for (const f of FAMILY_NAMES) {
      const a = generate(f, 12345);
      const b = generate(f, 12345);
      expect(a.asm).toBe(b.asm);
      expect(a.asm.length).toBeGreaterThan(20);
    }
  });
});
