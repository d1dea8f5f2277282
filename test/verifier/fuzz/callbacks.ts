/**
 * The `callback` family: `bpf_loop` and `bpf_for_each_map_elem` with a
 * static callback (BTF func info in the program), the callback accessing
 * its context (a caller stack buffer), the map key (PTR_TO_MAP_KEY) and
 * value at their edges, using the loop index, returning a value at the
 * edge of the allowed [0, 1]; the helper's result is checked at its edge
 * in the caller.
 *
 * The kernel oracle loads programs without BTF, so the kernel refuses
 * these with "missing btf func_info": they are compared with the kernel
 * only where the oracle passes func info, and always run in checked mode.
 */
import { emitBad } from './edges.js';
import type { Generated, Generator } from './families.js';
import { finish, MAP_ARRAY, MAP_HASH, Rand, skeleton } from './gen.js';

const SIZES = [1, 2, 4, 8] as const;

function ot(off: number): string {
  return off < 0 ? `- ${-off}` : `+ ${off}`;
}

/** An access offset inside [0, len) or at its edge. */
function off(r: Rand, len: number, size: number): number {
  if (r.chance(0.6)) return size * r.int(0, Math.max(0, Math.floor((len - size) / size)));
  return r.pick([len - size, len - size + 1, -1, len, 0]);
}

export const callbackGen: Generator = (seed, use) => {
  const r = new Rand(seed);
  const type = r.weighted([['xdp', 3], ['sched_cls', 1], ['kprobe', 1]] as const);
  const sk = skeleton(r, type, { packet: false });
  const { a, maps } = sk;
  const kind = r.weighted([['loop', 3], ['foreach', 2]] as const);
  const ctxLen = r.pick([8, 16, 32]);
  const ctxBase = 64 + ctxLen;
  for (let o = 0; o < ctxLen; o += 8) a.emit(`*(u64 *)(r10 - ${ctxBase - o}) = 0`);
  const noCtx = r.chance(0.1);
  if (kind === 'loop') {
    // (not 1 << 23, the most bpf_loop runs: 8M callbacks exhaust a checked run's budget)
    const n = r.chance(0.7) ? r.pick([1, 2, 4, 16, 100]) : r.pick([0, (1 << 23) + 1, -1]);
    if (r.chance(0.2)) {
      a.emit('r1 = *(u8 *)(r9 + 0)');
      a.emit(`r1 &= ${r.pick([3, 15, 255])}`);
    } else {
      a.emit(`r1 = ${n}`);
    }
    a.emit('ld_pseudo r2, 4, CB');
    if (noCtx) a.emit('r3 = 0');
    else {
      a.emit('r3 = r10');
      a.emit(`r3 += -${ctxBase}`);
    }
    a.emit(`r4 = ${r.chance(0.9) ? 0 : 1}`);
    a.emit('call bpf_loop');
  } else {
    a.emit(`ld_pseudo r1, 1, ${r.pick([MAP_ARRAY, MAP_HASH])}`);
    a.emit('ld_pseudo r2, 4, CB');
    if (noCtx) a.emit('r3 = 0');
    else {
      a.emit('r3 = r10');
      a.emit(`r3 += -${ctxBase}`);
    }
    a.emit('r4 = 0');
    a.emit('call bpf_for_each_map_elem');
  }
  // the helper's result, checked at its edge
  const bad = a.label();
  a.emit('r1 = r0');
  const slot = a.slots - 1;
  const skip = a.label();
  use(a, { y: 1, z: 2, t: 3, bad }, sk, skip);
  a.place(skip);
  const marker: Generated['marker'] = { slot, y: 1 };
  const prog = finish(sk, 'callback', seed, kind);
  emitBad(a, bad);
  // the callback
  a.place('CB');
  const cbSlot = a.slots;
  const ctxReg = kind === 'loop' ? 2 : 4;
  for (let i = r.int(1, 3); i > 0; i--) {
    const what = r.weighted([['ctx', 4], ['key', kind === 'foreach' ? 2 : 0], ['value', kind === 'foreach' ? 3 : 0], ['index', kind === 'loop' ? 2 : 0]] as const);
    const size = r.pick(SIZES);
    if (what === 'ctx') {
      const o = off(r, ctxLen, size);
      if (r.chance(0.5)) a.emit(`*(u${size * 8} *)(r${ctxReg} ${ot(o)}) = r${kind === 'loop' ? 1 : 0}`.replace('= r0', '= 1'));
      else a.emit(`r0 = *(u${size * 8} *)(r${ctxReg} ${ot(o)})`);
    } else if (what === 'key') {
      const ks = maps[MAP_HASH]!.key_size;
      const o = off(r, Math.max(ks, 4), size);
      if (r.chance(0.1)) a.emit(`*(u${size * 8} *)(r2 ${ot(o)}) = 1`);
      else a.emit(`r0 = *(u${size * 8} *)(r2 ${ot(o)})`);
    } else if (what === 'value') {
      const vs = Math.min(maps[MAP_ARRAY]!.value_size, maps[MAP_HASH]!.value_size);
      const o = off(r, vs, size);
      if (r.chance(0.5)) a.emit(`*(u${size * 8} *)(r3 ${ot(o)}) = 7`);
      else a.emit(`r0 = *(u${size * 8} *)(r3 ${ot(o)})`);
    } else {
      // the index as an offset into the context
      a.emit('r5 = r1');
      a.emit(`r5 &= ${r.pick([0, 1, 3, 7, 15, 31])}`);
      a.emit(`r5 += r${ctxReg}`);
      a.emit(`*(u8 *)(r5 + 0) = 1`);
    }
  }
  a.emit(`r0 = ${r.chance(0.9) ? r.pick([0, 1]) : r.pick([2, -1])}`);
  a.emit('exit');
  prog.asm = a.text();
  prog.func_info = [{ insn_off: 0, name: 'main' }, { insn_off: cbSlot, name: 'cb' }];
  return { prog, marker };
};
