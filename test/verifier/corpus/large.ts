/**
 * A large generated XDP program for timing the verifier against the
 * kernel: blocks of bounded loops over a map value, packet parsing with
 * bounds checks, branches on unknown scalars, stack spills and helper
 * calls, about 40 instructions each (100 blocks: ~4,000 instructions).
 */
import { rng } from '../../support/random-programs.js';
import { m, type SourceProgram } from './common.js';

export function largeProgram(blocks = 100, seed = 1): SourceProgram {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const lines: string[] = [
    'r6 = r1',
    '*(u32 *)(r10 - 4) = 0',
    'r2 = r10',
    'r2 += -4',
    'ld_pseudo r1, 1, 0',
    'call bpf_map_lookup_elem',
    'if r0 != 0 goto start',
    'r0 = 2',
    'exit',
    'start:',
    'r9 = r0',
    'r5 = 0',
    '*(u64 *)(r10 - 16) = r5',
  ];
  let label = 0;
  const L = () => `L${label++}`;
  for (let b = 0; b < blocks; b++) {
    switch (b % 4) {
      case 0: {
        // bounded loop summing bytes of the map value
        const loop = L();
        const n = int(8, 24);
        lines.push('r1 = 0', `${loop}:`, 'r2 = r9', 'r3 = r1', 'r3 &= 31', 'r2 += r3', 'r4 = *(u8 *)(r2 + 0)',
          'r5 += r4', `r5 ^= ${int(1, 255)}`, 'r1 += 1', `if r1 < ${n} goto ${loop}`,
          '*(u64 *)(r10 - 16) = r5', `*(u32 *)(r9 + ${4 * int(8, 11)}) = r5`);
        lines.push(`r3 = ${int(0, 99)}`, `r4 = ${int(0, 99)}`);
        for (let i = 0; i < 25; i++) lines.push(`r${int(3, 4)} ${['+=', '^=', '|=', '&='][int(0, 3)]} ${int(1, 1000)}`);
        break;
      }
      case 1: {
        // packet parsing with a bounds check per header
        const out = L();
        const off = int(0, 40);
        lines.push('r7 = *(u32 *)(r6 + 0)', 'r8 = *(u32 *)(r6 + 4)', 'r2 = r7', `r2 += ${off + 8}`, `if r2 > r8 goto ${out}`,
          `r3 = *(u16 *)(r7 + ${off})`, `r4 = *(u32 *)(r7 + ${off + 4})`, `if r3 == ${int(0, 0xffff)} goto +2`, 'r5 ^= r3',
          'r5 += r4', `*(u8 *)(r7 + ${off + 1}) = ${int(0, 255)}`);
        lines.push(`r3 = ${int(0, 99)}`, `r4 = ${int(0, 99)}`);
        for (let i = 0; i < 24; i++) lines.push(`r${int(3, 4)} ${['+=', '-=', '^='][int(0, 2)]} ${int(1, 1000)}`);
        lines.push(`${out}:`, 'r5 += 1');
        break;
      }
      case 2: {
        // branches on an unknown scalar used as a map value offset
        const skip = L();
        lines.push('*(u64 *)(r10 - 16) = r5', 'call bpf_get_prandom_u32', 'r5 = *(u64 *)(r10 - 16)', 'r4 = r0', 'r4 &= 0xff', `if r4 > ${int(16, 40)} goto ${skip}`, 'r2 = r9', 'r2 += r4',
          'r3 = *(u8 *)(r2 + 0)', 'r5 += r3', `if r3 & ${1 << int(0, 7)} goto +1`, 'r5 -= 1', `${skip}:`);
        lines.push(`r3 = ${int(0, 99)}`, `r4 = ${int(0, 99)}`);
        for (let i = 0; i < 24; i++) lines.push(`r${int(3, 4)} ${['+=', '^=', '*='][int(0, 2)]} ${int(1, 100)}`);
        break;
      }
      default: {
        // spills, fills and a helper call
        lines.push('*(u64 *)(r10 - 24) = r5', 'r1 = *(u64 *)(r10 - 16)', 'r1 += r5', '*(u64 *)(r10 - 16) = r1', 'call bpf_ktime_get_ns',
          'r5 = *(u64 *)(r10 - 24)', 'r5 += r0', '*(u64 *)(r10 - 32) = r5');
        lines.push(`r3 = ${int(0, 99)}`, `r4 = ${int(0, 99)}`);
        for (let i = 0; i < 28; i++) lines.push(`r${int(3, 4)} ${['+=', '^=', '|='][int(0, 2)]} ${int(1, 1000)}`);
        break;
      }
    }
  }
  lines.push('r0 = 2', 'exit');
  return { name: `large/${blocks}`, prog_type: 'xdp', asm: lines.join('\n'), maps: [m('array:4:48:1')] };
}
