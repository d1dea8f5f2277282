/**
 * The `fastcall` family: bpf_fastcall patterns (spills of r0-r5 before a
 * helper call and fills after it, in the lowest stack slots; see
 * src/verifier/fastcall.ts) in a caller whose stack is near 512 bytes and
 * in its callee, so that the combined stack fits only when the kernel
 * drops the patterns' slots. Around them: patterns that are almost right
 * (another offset, register, size), calls the kernel does not inline
 * (bpf_get_prandom_u32, ...), jumps into a pattern, and accesses that break
 * the contract or not: loads and stores of every size above, inside and
 * below the slots, variable-offset ones, helpers reading the stack
 * (bpf_csum_diff, sizes 0 to 8), the callee reading or writing the
 * caller's slots through a pointer.
 */
import type { Generator } from './families.js';
import { finish, Rand, skeleton, type Asm } from './gen.js';

const INLINED = 'bpf_get_smp_processor_id';
const NOT_INLINED = ['bpf_get_prandom_u32', 'bpf_ktime_get_ns', 'bpf_get_numa_node_id'];
const SIZES = [8, 4, 2, 1] as const;

function ot(off: number): string {
  return off < 0 ? `- ${-off}` : `+ ${off}`;
}

/**
 * A body of 1-4 pieces whose patterns start at `lowest`; `r7` holds an
 * unknown scalar, `r9` (callee only) the caller's stack pointer.
 */
function body(a: Asm, r: Rand, lowest: number, callee: boolean): void {
  const lines: string[] = [];
  for (let k = r.int(1, 4); k > 0; k--) {
    const what = r.weighted([['pattern', 6], ['store', 1], ['load', 1], ['helper', 1], ['varoff', 1], ['caller', callee ? 1 : 0]] as const);
    if (what === 'pattern') {
      const call = r.chance(0.7) ? INLINED : r.pick(NOT_INLINED);
      const pool = [1, 2, 3, 4, 5, 0];
      const regs: number[] = [];
      for (let n = r.int(1, 3); n > 0; n--) regs.push(pool.splice(r.int(0, pool.length - 1), 1)[0]!);
      for (const x of regs) lines.push(`r${x} = ${r.int(0, 99)}`);
      const base = lowest + (r.chance(0.1) ? r.pick([-8, 8]) : 0);
      const spills: string[] = [];
      const fills: string[] = [];
      regs.forEach((x, i) => {
        const off = base + 8 * i + (r.chance(0.03) ? 4 : 0);
        const size = r.chance(0.03) ? 'u32' : 'u64';
        spills.unshift(`*(${size} *)(r10 ${ot(off)}) = r${x}`);
        fills.push(`r${r.chance(0.03) ? (x + 1) % 6 : x} = *(${size} *)(r10 ${ot(off)})`);
      });
      lines.push(...spills, `call ${call}`, ...fills);
    } else if (what === 'store' || what === 'load') {
      const size = r.pick(SIZES);
      const off = -size * r.int(1, Math.floor(40 / size));
      if (what === 'load') lines.push(`r3 = *(u${size * 8} *)(r10 ${ot(off)})`);
      else if (r.chance(0.5)) lines.push(`*(u${size * 8} *)(r10 ${ot(off)}) = ${r.int(0, 9)}`);
      else lines.push(`r3 = ${r.int(0, 9)}`, `*(u${size * 8} *)(r10 ${ot(off)}) = r3`);
    } else if (what === 'helper') {
      lines.push('r1 = r10', `r1 += ${-r.int(1, 40)}`, `r2 = ${r.pick([0, 1, 4, 8])}`, 'r3 = 0', 'r4 = 0', 'r5 = 0', 'call bpf_csum_diff');
    } else if (what === 'varoff') {
      lines.push('r3 = r7', 'r3 &= 7', `r3 -= ${8 * r.int(1, 4)}`, 'r2 = r10', 'r2 += r3', r.chance(0.5) ? 'r3 = *(u8 *)(r2 + 0)' : '*(u8 *)(r2 + 0) = r3');
    } else {
      lines.push(r.chance(0.5) ? 'r3 = *(u64 *)(r9 + 0)' : '*(u64 *)(r9 + 0) = r7');
    }
  }
  // jumps forward into the middle of what follows
  for (let j = r.chance(0.4) ? r.int(1, 2) : 0; j > 0; j--) {
    const at = r.int(0, lines.length - 1);
    lines.splice(at, 0, `if r7 > 3 goto +${r.int(0, lines.length - 1 - at)}`);
  }
  for (const l of lines) a.emit(l);
}

export const fastcallGen: Generator = (seed) => {
  const r = new Rand(seed);
  const type = r.weighted([['xdp', 3], ['sched_cls', 1], ['socket_filter', 1]] as const);
  const sk = skeleton(r, type, { packet: false, value: false });
  const { a } = sk;
  a.emit('call bpf_get_prandom_u32');
  a.emit('r7 = r0');
  // the caller's own stack, near 512 bytes
  const depth = r.pick([448, 464, 480, 488, 496, 504, 512]);
  a.emit(`*(u64 *)(r10 - ${depth}) = r7`);
  if (r.chance(0.3) && depth <= 504) body(a, r, -depth - 8, false);
  a.emit('r1 = r10');
  a.emit(`r1 += ${-8 * r.int(1, depth / 8)}`);
  a.emit('call S0');
  const prog = finish(sk, 'fastcall', seed, `caller depth ${depth}`);
  // the callee
  a.place('S0');
  a.emit('r9 = r1');
  a.emit('call bpf_get_prandom_u32');
  a.emit('r7 = r0');
  body(a, r, -8 * r.int(1, 4), true);
  a.emit('r0 = 0');
  a.emit('exit');
  prog.asm = a.text();
  return { prog };
};
