/**
 * Seeded random programs for the differential verifier corpus and the
 * soundness fuzz test: packet bounds checks and accesses, map lookups with
 * and without null checks, pointer arithmetic with bounded and unbounded
 * scalars, stack spills and fills, helper calls, ring buffer reservations,
 * bounded loops and forward branches. About half of them are rejected by
 * the kernel, for many different reasons.
 */
import { rng } from '../../support/random-programs.js';
import { m, type OracleMap, type SourceProgram } from './common.js';

/** Program types the generator targets (all with direct packet access). */
export const RANDOM_PROG_TYPES = ['xdp', 'sched_cls', 'cgroup_skb'] as const;

interface Gen {
  r: () => number;
  int: (lo: number, hi: number) => number;
  pick: <T>(xs: readonly T[]) => T;
  chance: (p: number) => boolean;
  lines: string[];
  label: number;
  type: (typeof RANDOM_PROG_TYPES)[number];
  /** Registers the program keeps special: r6 ctx, r7 data, r8 data_end, r9 map value (or null). */
  maps: OracleMap[];
  loops: number;
  /** Scratch registers (r0..r5) known to hold a value. */
  init: Set<number>;
  /** Bytes of packet proven present on every path at the current point (top level only). */
  pktChecked: number;
  /** A loop runs into the complexity limit (then no forced checkpoints: a million of them is too slow). */
  endless: boolean;
  /** Only loops that end soon (no program runs into the complexity limit). */
  bounded: boolean;
}

const SIZES = ['u8', 'u16', 'u32', 'u64'] as const;
const SIZE_BYTES: Record<(typeof SIZES)[number], number> = { u8: 1, u16: 2, u32: 4, u64: 8 };
const ALU = ['+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', 's>>=', '='] as const;
const CMP = ['==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&'] as const;

function newLabel(g: Gen): string {
  return `L${g.label++}`;
}

/** A scratch register to write. */
function scratch(g: Gen): number {
  return g.int(0, 5);
}

/** A scratch register to read: almost always an initialised one. */
function readable(g: Gen): number {
  const init = [...g.init];
  if (init.length === 0 || g.chance(0.03)) return g.int(0, 5);
  return g.pick(init);
}

/** A helper call clobbers r1..r5 and sets r0. */
function called(g: Gen): void {
  for (let i = 1; i <= 5; i++) g.init.delete(i);
  g.init.add(0);
  // re-initialise some argument registers, as compiled code does
  for (let i = g.int(0, 3); i > 0; i--) {
    const n = g.int(1, 5);
    emit(g, `r${n} = ${imm(g)}`);
    g.init.add(n);
  }
}

function imm(g: Gen): number {
  return g.pick([0, 1, 2, 3, 4, 7, 8, 14, 15, 16, 31, 32, 63, 64, 255, 256, 0xffff, -1, -8, -16, 0x7fffffff, -0x80000000, g.int(-100, 100)]);
}

function emit(g: Gen, s: string): void {
  g.lines.push(s);
}

/** Scalar ALU on a scratch register. */
function aluSnippet(g: Gen): void {
  const op = g.pick(ALU);
  const dst = op === '=' ? scratch(g) : readable(g);
  const w = g.chance(0.25);
  const reg = (n: number) => (w ? `w${n}` : `r${n}`);
  let src: string;
  if (g.chance(0.4)) src = reg(readable(g));
  else {
    let v = imm(g);
    if (op === '<<=' || op === '>>=' || op === 's>>=') v = g.int(0, w ? 31 : 63);
    if ((op === '/=' || op === '%=') && v === 0) v = 3;
    src = String(v);
  }
  emit(g, `${reg(dst)} ${op} ${src}`);
  g.init.add(dst);
}

/** A bounded scalar: rX = prandom & mask (or an unbounded one). */
function boundedScalar(g: Gen, dst: number): void {
  emit(g, 'call bpf_get_prandom_u32');
  called(g);
  if (dst !== 0) emit(g, `r${dst} = r0`);
  g.init.add(dst);
  if (g.chance(0.8)) emit(g, `r${dst} &= ${g.pick([1, 3, 7, 15, 31, 63, 0xff, 0xfff])}`);
  else if (g.chance(0.5)) emit(g, `if r${dst} > ${g.int(0, 64)} goto ${g.pick(['+0', '+1'])}`);
}

/** Forward conditional jump over a small block. */
function branchSnippet(g: Gen, depth: number): void {
  const a = g.chance(0.8) ? readable(g) : g.pick([7, 9]);
  const op = g.pick(CMP);
  const w = g.chance(0.2) && a <= 5;
  const lhs = w ? `w${a}` : `r${a}`;
  const rhs = g.chance(0.3) ? (w ? `w${readable(g)}` : `r${readable(g)}`) : String(imm(g));
  const l = newLabel(g);
  emit(g, `if ${lhs} ${op} ${rhs} goto ${l}`);
  const before = new Set(g.init);
  block(g, g.int(1, 3), depth + 1);
  // after the join only what was initialised on both paths is known
  for (const n of [...g.init]) if (!before.has(n)) g.init.delete(n);
  emit(g, `${l}:`);
}

/** A load or store through a pointer register. */
function memSnippet(g: Gen): void {
  const size = g.pick(SIZES);
  const bytes = SIZE_BYTES[size];
  const kind = g.pick(['stack', 'stack', 'stack', 'pkt', 'map', 'map', 'ctx'] as const);
  let base: string;
  let off: number;
  switch (kind) {
    case 'stack':
      base = 'r10';
      off = g.chance(0.9) ? -bytes * g.int(1, 64 / bytes * 2) : g.int(-520, 8);
      break;
    case 'pkt':
      base = 'r7';
      if (g.pktChecked >= bytes && g.chance(0.9)) off = g.int(0, g.pktChecked - bytes);
      else if (g.chance(0.7)) {
        base = 'r10';
        off = -bytes * g.int(1, 16);
      } else off = g.chance(0.85) ? g.int(0, 40) : g.int(-4, 70);
      break;
    case 'map':
      base = 'r9';
      off = g.chance(0.9) ? g.int(0, 48 - bytes) : g.int(-4, 56);
      break;
    default: {
      // the context: mostly readable u32 fields
      const store = g.chance(0.15);
      const good = g.type === 'xdp' ? [12, 16, 20] : store ? [48, 52, 56] : [0, 4, 8, 16, 36, 40, 48];
      const o2 = g.chance(0.85) ? g.pick(good) : g.pick([2, 100, 24, 8, 200]);
      const sz = g.chance(0.85) ? 'u32' : g.pick(SIZES);
      if (store) emit(g, `*(${sz} *)(r6 + ${o2}) = r${readable(g)}`);
      else {
        const d = scratch(g);
        emit(g, `r${d} = *(${sz} *)(r6 + ${o2})`);
        g.init.add(d);
      }
      return;
    }
  }
  const o = off < 0 ? `- ${-off}` : `+ ${off}`;
  if (g.chance(base === 'r7' && g.type === 'cgroup_skb' ? 0.03 : 0.5)) {
    if (g.chance(0.5)) emit(g, `*(${size} *)(${base} ${o}) = ${g.int(-5, 300)}`);
    else emit(g, `*(${size} *)(${base} ${o}) = r${g.chance(0.95) ? readable(g) : g.pick([6, 7, 10])}`);
  } else {
    const d = scratch(g);
    emit(g, `r${d} = *(${size} *)(${base} ${o})`);
    g.init.add(d);
  }
}

/** Pointer arithmetic on a copy of a pointer, then an access through it. */
function ptrArithSnippet(g: Gen): void {
  const kind = g.chance(0.05) ? 'r6' : g.pick(['r7', 'r7', 'r9', 'r10'] as const);
  const hasCall = g.chance(0.6);
  // the pointer copy is made after the scalar's helper call (r1..r5 are clobbered by calls)
  let scalar = -1;
  if (hasCall) {
    scalar = 5;
    boundedScalar(g, scalar);
    if (g.chance(0.2)) emit(g, `r${scalar} -= ${g.int(0, 8)}`);
  }
  const p = g.pick([1, 2, 3, 4]);
  emit(g, `r${p} = ${kind}`);
  g.init.add(p);
  if (kind === 'r10') emit(g, `r${p} += ${-8 * g.int(1, 8)}`);
  if (hasCall) {
    emit(g, `r${p} += r${scalar}`);
  } else {
    emit(g, `r${p} += ${g.chance(0.8) ? g.int(0, 16) : g.int(-8, 24)}`);
  }
  if (kind === 'r7' && g.chance(0.9)) {
    // re-check the moved packet pointer against data_end
    const l = newLabel(g);
    const n = g.pick([1, 2, 4, 8]);
    emit(g, `r0 = r${p}`);
    emit(g, `r0 += ${n}`);
    emit(g, `if r0 > r8 goto ${l}`);
    emit(g, `r0 = *(${g.chance(0.9) ? g.pick(SIZES.filter((x) => SIZE_BYTES[x] <= n)) : g.pick(SIZES)} *)(r${p} + 0)`);
    emit(g, `${l}:`);
    g.init.add(0);
    g.init.delete(p);
    return;
  }
  const size = g.pick(SIZES);
  if (g.chance(0.5)) emit(g, `r0 = *(${size} *)(r${p} + ${g.int(0, 8)})`);
  else emit(g, `*(${size} *)(r${p} + ${g.int(0, 8)}) = 1`);
  g.init.add(0);
  g.init.delete(p); // a pointer, not a scratch value
}

/** Spill a register to the stack and fill it back (maybe partially). */
function spillSnippet(g: Gen): void {
  const src = g.chance(0.6) ? readable(g) : g.pick([6, 7, 9]);
  const slot = -8 * g.int(1, 16);
  emit(g, `*(u64 *)(r10 ${slot}) = r${src}`);
  if (g.chance(0.3)) emit(g, `*(${g.pick(SIZES)} *)(r10 ${slot + g.pick([0, 4])}) = ${g.int(0, 9)}`);
  const dst = g.pick([1, 2, 3, 4, 5]);
  const size = g.chance(0.7) ? 'u64' : g.pick(SIZES);
  emit(g, `r${dst} = *(${size} *)(r10 ${slot})`);
  g.init.add(dst);
  if (src >= 6 && g.chance(0.5)) {
    emit(g, `r0 = *(u8 *)(r${dst} + 0)`);
    g.init.add(0);
  }
}

/** Packet bounds check that protects a few accesses. */
function pktCheckSnippet(g: Gen, depth: number): void {
  const n = g.pick([1, 2, 4, 8, 14, 16, 20, 34, 40]);
  const l = newLabel(g);
  emit(g, 'r4 = r7');
  emit(g, `r4 += ${n}`);
  g.init.delete(4);
  const topLevel = depth === 0 && g.chance(0.6);
  if (topLevel) {
    // the short path leaves the program: the rest may use the checked bytes
    const l2 = newLabel(g);
    emit(g, `if r4 <= r8 goto ${l2}`);
    emit(g, `r0 = ${g.type === 'cgroup_skb' ? 1 : 2}`);
    emit(g, 'exit');
    emit(g, `${l2}:`);
    g.pktChecked = Math.max(g.pktChecked, n);
    return;
  }
  const form = g.int(0, 2);
  if (form === 0) emit(g, `if r4 > r8 goto ${l}`);
  else if (form === 1) emit(g, `if r8 < r4 goto ${l}`);
  else emit(g, `if r4 >= r8 goto ${l}`);
  for (let i = g.int(1, 3); i > 0; i--) {
    const size = g.pick(SIZES);
    const off = g.chance(0.8) ? g.int(0, Math.max(0, n - SIZE_BYTES[size])) : g.int(0, n + 4);
    if (g.chance(g.type === 'cgroup_skb' ? 0.97 : 0.7)) {
      const d = scratch(g);
      emit(g, `r${d} = *(${size} *)(r7 + ${off})`);
      g.init.add(d);
    } else emit(g, `*(${size} *)(r7 + ${off}) = ${g.int(0, 255)}`);
  }
  emit(g, `${l}:`);
}

/** A map lookup into r9, with or without a null check. */
function lookupSnippet(g: Gen): void {
  emit(g, `*(u32 *)(r10 - 4) = ${g.int(0, 5)}`);
  emit(g, 'r2 = r10');
  emit(g, 'r2 += -4');
  emit(g, `ld_pseudo r1, 1, ${g.int(0, 1)}`);
  emit(g, 'call bpf_map_lookup_elem');
  called(g);
  g.init.delete(0);
  emit(g, 'r9 = r0');
  if (g.chance(0.85)) {
    const l = newLabel(g);
    emit(g, `if r9 ${g.chance(0.9) ? '!=' : '=='} 0 goto ${l}`);
    emit(g, `r0 = ${g.type === 'cgroup_skb' ? 1 : 2}`);
    emit(g, 'exit');
    emit(g, `${l}:`);
  }
}

/** A ring buffer reservation, submitted (or leaked). */
function ringbufSnippet(g: Gen): void {
  const l = newLabel(g);
  emit(g, 'ld_pseudo r1, 1, 2');
  emit(g, `r2 = ${g.pick([8, 16, 8, 4])}`);
  emit(g, 'r3 = 0');
  emit(g, 'call bpf_ringbuf_reserve');
  for (let i = 1; i <= 5; i++) g.init.delete(i);
  emit(g, `if r0 == 0 goto ${l}`);
  emit(g, `*(${g.pick(SIZES)} *)(r0 + ${g.int(0, g.chance(0.9) ? 0 : 12)}) = 1`);
  if (g.chance(0.9)) {
    emit(g, 'r1 = r0');
    emit(g, 'r2 = 0');
    emit(g, g.chance(0.5) ? 'call bpf_ringbuf_submit' : 'call bpf_ringbuf_discard');
  }
  emit(g, `${l}:`);
  g.init.delete(0);
  called(g);
  g.init.delete(0);
}

/** Helper calls with simple arguments. */
function helperSnippet(g: Gen): void {
  switch (g.int(0, 4)) {
    case 0: {
      emit(g, 'call bpf_get_prandom_u32');
      called(g);
      const d = g.int(1, 5);
      emit(g, `r${d} = r0`);
      g.init.add(d);
      break;
    }
    case 1:
      emit(g, 'call bpf_ktime_get_ns');
      called(g);
      break;
    case 2: {
      emit(g, 'call bpf_get_smp_processor_id');
      called(g);
      const d = g.int(1, 5);
      emit(g, `r${d} = r0`);
      g.init.add(d);
      break;
    }
    case 3: {
      // bpf_map_update_elem(map, &key, &value, 0)
      emit(g, `*(u32 *)(r10 - 4) = ${g.int(0, 3)}`);
      if (g.chance(0.8)) emit(g, '*(u64 *)(r10 - 64) = 0');
      emit(g, 'r2 = r10');
      emit(g, 'r2 += -4');
      emit(g, 'r3 = r10');
      emit(g, `r3 += ${g.pick([-64, -64, -56, -8])}`);
      emit(g, 'r4 = 0');
      emit(g, 'ld_pseudo r1, 1, 0');
      emit(g, 'call bpf_map_update_elem');
      called(g);
      break;
    }
    default:
      emit(g, 'r1 = r10');
      emit(g, `r1 += ${g.pick([-16, -32])}`);
      emit(g, `r2 = ${g.pick([8, 16])}`);
      emit(g, 'call bpf_get_prandom_u32');
      called(g);
      break;
  }
}

/** A small bounded loop (counter in a scratch register). */
function loopSnippet(g: Gen, depth: number): void {
  if (g.loops >= 2) return;
  g.loops++;
  const c = g.pick([1, 2, 3]);
  const l = newLabel(g);
  emit(g, `r${c} = ${g.int(0, 2)}`);
  g.init.add(c);
  g.init.add(4);
  g.init.add(5);
  emit(g, `r4 = ${g.int(0, 9)}`);
  emit(g, `r5 = ${g.int(0, 9)}`);
  emit(g, `${l}:`);
  const body = g.int(0, 2);
  for (let i = 0; i < body; i++) {
    if (g.chance(0.5)) emit(g, `r${g.pick([4, 5])} += ${g.int(1, 3)}`);
    else emit(g, `*(u64 *)(r10 - ${8 * g.int(1, 4)}) = r${c}`);
  }
  const step = g.pick([1, 1, 2]);
  emit(g, `r${c} += ${step}`);
  // rarely a loop the verifier has to give up on (the counter wraps only after 2^64 steps)
  if (g.chance(0.01) && !g.bounded) {
    emit(g, `if r${c} > 0 goto ${l}`);
    g.endless = true;
  }
  else emit(g, `if r${c} ${step === 1 ? g.pick(['<', '<', '!=', 's<']) : g.pick(['<', 's<'])} ${g.int(3, 12)} goto ${l}`);
  void depth;
}

function snippet(g: Gen, depth: number): void {
  const k = g.r();
  if (k < 0.2) aluSnippet(g);
  else if (k < 0.32 && depth < 2) branchSnippet(g, depth);
  else if (k < 0.44) memSnippet(g);
  else if (k < 0.53) ptrArithSnippet(g);
  else if (k < 0.6) spillSnippet(g);
  else if (k < 0.74) pktCheckSnippet(g, depth);
  else if (k < 0.79) lookupSnippet(g);
  else if (k < 0.83) ringbufSnippet(g);
  else if (k < 0.9) helperSnippet(g);
  else if (k < 0.95 && depth === 0) loopSnippet(g, depth);
  else aluSnippet(g);
}

function block(g: Gen, n: number, depth: number): void {
  for (let i = 0; i < n; i++) snippet(g, depth);
}

/** One random program from `seed`. */
export function randomVerifierProgram(seed: number, options: { type?: (typeof RANDOM_PROG_TYPES)[number]; bounded?: boolean } = {}): SourceProgram {
  const r = rng(seed);
  const g: Gen = {
    r,
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(r() * xs.length)]!,
    chance: (p) => r() < p,
    lines: [],
    label: 0,
    type: RANDOM_PROG_TYPES[Math.floor(r() * RANDOM_PROG_TYPES.length)]!,
    maps: [m('hash:4:48:16'), m('array:4:48:4'), m('ringbuf:0:0:4096')],
    loops: 0,
    init: new Set(),
    pktChecked: 0,
    endless: false,
    bounded: options.bounded === true,
  };
  if (options.type) g.type = options.type;
  const skb = g.type !== 'xdp';
  emit(g, 'r6 = r1');
  emit(g, `r7 = *(u32 *)(r6 + ${skb ? 76 : 0})`);
  emit(g, `r8 = *(u32 *)(r6 + ${skb ? 80 : 4})`);
  lookupSnippet(g);
  // Scratch registers start as known constants (rarely uninitialised).
  for (let i = 0; i <= 5; i++) {
    if (g.chance(0.97)) {
      emit(g, `r${i} = ${imm(g)}`);
      g.init.add(i);
    }
  }
  block(g, g.int(3, 12), 0);
  // Return value: a constant or a scratch register.
  if (g.chance(0.8)) emit(g, `r0 = ${g.type === 'cgroup_skb' && g.chance(0.9) ? g.int(0, 1) : g.pick([0, 1, 2, 3])}`);
  else if (g.chance(0.5)) emit(g, `r0 = r${readable(g)}`);
  emit(g, 'exit');
  const prog: SourceProgram = { name: `random/${seed}`, prog_type: g.type, asm: g.lines.join('\n'), maps: g.maps };
  // some programs checkpoint at every prune point, which exercises state pruning harder
  if (g.chance(0.15) && !g.endless) prog.prog_flags = ['test_state_freq'];
  return prog;
}
