/**
 * The fuzzer's families and how a program is made: a family generator
 * builds a program from a seed; a generator with an edge check builds it
 * twice, first with a neutral check to learn (from tsbpf's level-2 log)
 * the bounds of the probed register at the marker, then with the real
 * check placed at those bounds (see edges.ts).
 */
import { verify } from '../../../src/verifier/index.js';
import { verifierHooks } from '../../../src/verifier/env.js';
import { verifyEntry } from '../corpus/common.js';
import { emitBad, emitUse, gatherUse, type UseKind, type UseRegs } from './edges.js';
import { finish, programBytes, Rand, type Asm, type FuzzProgram, type Skeleton } from './gen.js';
import { PROFILES, ScalarBody, scalarSkeleton } from './scalar.js';
import { POINTER_FAMILIES } from './pointers.js';
import { callbackGen } from './callbacks.js';
import { fastcallGen } from './fastcall.js';
import { unionStates, unknownScalar, type ScalarState } from './state.js';
import { toHex } from '../corpus/common.js';

/** Emits the check on the probed register (the marker is already emitted). */
export type UseFn = (a: Asm, u: UseRegs, sk: Skeleton, skip: string) => void;

/** What a generator returns: the program and, for edge programs, the marker. */
export interface Generated {
  prog: FuzzProgram;
  marker?: { slot: number; y: number };
}

export type Generator = (seed: number, use: UseFn) => Generated;

/** Emits `rY = rX` (the marker), the use, the skip label; returns the marker. */
export function probe(sk: Skeleton, x: number, u: UseRegs, use: UseFn): { slot: number; y: number } {
  const { a } = sk;
  a.emit(`r${u.y} = r${x}`);
  const slot = a.slots - 1;
  const skip = a.label();
  use(a, u, sk, skip);
  a.place(skip);
  return { slot, y: u.y };
}

function scalarFamily(name: string): Generator {
  return (seed, use) => {
    const r = new Rand(seed);
    const sk = scalarSkeleton(r);
    const body = new ScalarBody(sk, PROFILES[name]!);
    body.prologue();
    body.block(r.int(3, 16));
    const live = [...body.live];
    const x = live.length ? r.pick(live) : 0;
    const free = [0, 1, 2, 3, 4, 5].filter((n) => n !== x);
    const y = r.pick(free);
    const rest = free.filter((n) => n !== y);
    const z = r.pick(rest);
    const t = r.pick(rest.filter((n) => n !== z));
    const bad = sk.a.label();
    const marker = probe(sk, x, { y, z, t, bad }, use);
    const prog = finish(sk, name, seed);
    // the rejected path goes after the exits
    const a2 = sk.a;
    emitBad(a2, bad);
    prog.asm = a2.text();
    return { prog, marker };
  };
}

/**
 * The `mixed` family: longer programs where scalars from the scalar body
 * become variable offsets of map value and packet accesses (masked to fit,
 * or not), small bounded loops run scalar code, and a scalar is checked at
 * its edge at the end: more joins and checkpoints, so pruning and
 * precision get exercised too.
 */
const mixedGen: Generator = (seed, use) => {
  const r = new Rand(seed);
  const sk = scalarSkeleton(r);
  const { a } = sk;
  const body = new ScalarBody(sk, PROFILES['mixed']!, [0, 1, 2, 3, 4, 5]);
  body.prologue();
  for (let seg = r.int(2, 5); seg > 0; seg--) {
    body.block(r.int(2, 6));
    const live = [...body.live];
    if (live.length === 0) continue;
    const x = r.pick(live);
    const t = x === 5 ? 4 : 5;
    const p = x === 3 ? 1 : 3;
    const k = r.weighted([['value', 3], ['pkt', sk.packet ? 2 : 0], ['loop', 1.5], ['none', 1]] as const);
    if (k === 'value' && sk.valueMap >= 0) {
      const vs = sk.maps[sk.valueMap]!.value_size;
      const size = r.pick([1, 2, 4, 8].filter((z) => z <= vs));
      a.emit(`r${t} = r${x}`);
      const mask = r.chance(0.85) ? (1 << Math.floor(Math.log2(Math.max(1, vs - size + 1)))) - 1 : r.pick([0xff, 0xffff, -1]);
      a.emit(`r${t} &= ${mask}`);
      a.emit(`r${p} = r9`);
      a.emit(`r${p} += r${t}`);
      if (r.chance(0.5)) a.emit(`r${t} = *(u${size * 8} *)(r${p} + 0)`);
      else a.emit(`*(u${size * 8} *)(r${p} + 0) = r${x}`);
      body.live.add(t);
      body.live.delete(p);
    } else if (k === 'pkt') {
      const skip = a.label();
      a.emit(`r${t} = r${x}`);
      a.emit(`r${t} &= ${r.pick([0, 7, 15, 63, 0xff])}`);
      a.emit(`r${p} = r7`);
      a.emit(`r${p} += r${t}`);
      a.emit('r0 = r' + p);
      const n = r.pick([1, 2, 4, 8]);
      a.emit(`r0 += ${n}`);
      a.emit(`if r0 > r8 goto ${skip}`);
      a.emit(`r0 = *(u${r.pick([1, 2, 4, 8].filter((z) => z <= n)) * 8} *)(r${p} + 0)`);
      a.place(skip);
      body.live.delete(0);
      body.live.delete(p);
      body.live.add(t);
    } else if (k === 'loop') {
      const c = t;
      const top = a.label();
      a.emit(`r${c} = 0`);
      a.place(top);
      const regs = body.live;
      regs.delete(c);
      for (let i = r.int(1, 3); i > 0; i--) body.alu();
      regs.delete(c);
      a.emit(`r${c} += 1`);
      a.emit(`if r${c} < ${r.int(2, 5)} goto ${top}`);
      body.live.add(c);
    }
  }
  const live = [...body.live];
  const x = live.length ? r.pick(live) : 0;
  const free = [0, 1, 2, 3, 4, 5].filter((n) => n !== x);
  const y = r.pick(free);
  const z = r.pick(free.filter((n) => n !== y));
  const t = r.pick(free.filter((n) => n !== y && n !== z));
  const bad = a.label();
  const marker = probe(sk, x, { y, z, t, bad }, use);
  const prog = finish(sk, 'mixed', seed);
  emitBad(a, bad);
  prog.asm = a.text();
  return { prog, marker };
};

/**
 * The `prune` family: many short branches that join again, each side
 * changing scalars, stack slots (spills of scalars and pointers, misc and
 * zero bytes) and pointers (moved packet pointers, map value pointers with
 * variable offsets) differently, always with BPF_F_TEST_STATE_FREQ (a
 * checkpoint at every prune point), then uses of what the paths left: it
 * stresses states_equal (regsafe, stacksafe, ids, precision).
 */
const pruneGen: Generator = (seed, use) => {
  const r = new Rand(seed);
  const sk = scalarSkeleton(r);
  const { a } = sk;
  const body = new ScalarBody(sk, PROFILES['mixed']!, [0, 1, 2, 3, 4, 5]);
  body.prologue();
  const side = (): void => {
    const k = r.weighted([['scalar', 4], ['spill', 2], ['ptr', sk.packet ? 1 : 0], ['value', sk.valueMap >= 0 ? 1 : 0], ['zero', 1]] as const);
    if (k === 'scalar') body.block(r.int(1, 2), 2);
    else if (k === 'spill') {
      const slot = 8 * r.int(1, 4);
      const what = r.pick(['r9', 'r6', `r${body.reg()}`, 'r10']);
      a.emit(`*(u64 *)(r10 - ${slot}) = ${what}`);
      body.spilled.set(slot, 8);
    } else if (k === 'ptr') {
      a.emit(`r7 += ${r.pick([0, 1, 2, 8])}`);
    } else if (k === 'value') {
      const x = body.reg();
      a.emit(`r${x} &= ${r.pick([0, 1, 3, 7])}`);
      a.emit(`r9 += r${x}`);
      body.live.add(x);
    } else {
      const slot = 8 * r.int(1, 4);
      a.emit(`*(u${r.pick([8, 16, 32, 64])} *)(r10 - ${slot}) = ${r.pick([0, 0, 1, -1])}`);
    }
  };
  for (let i = r.int(4, 10); i > 0; i--) {
    const l = a.label();
    const j = a.label();
    a.emit(`if ${body.cond()} goto ${l}`);
    const before = new Set(body.live);
    side();
    const after1 = new Set(body.live);
    body.live = new Set(before);
    if (r.chance(0.5)) {
      a.emit(`goto ${j}`);
      a.place(l);
      side();
      // live after the join: defined on both sides
      body.live = new Set([...body.live].filter((n) => after1.has(n)));
    } else {
      a.place(l);
      body.live = new Set([...before].filter((n) => after1.has(n)));
    }
    a.place(j);
    if (r.chance(0.3)) body.step(1);
  }
  // uses of what the paths left
  if (sk.packet && r.chance(0.5)) {
    const skip = a.label();
    a.emit('r1 = r7');
    a.emit(`r1 += ${r.pick([1, 2, 4, 8])}`);
    a.emit(`if r1 > r8 goto ${skip}`);
    a.emit(`r0 = *(u8 *)(r7 + 0)`);
    a.place(skip);
  }
  if (sk.valueMap >= 0 && r.chance(0.5)) a.emit(`r0 = *(u8 *)(r9 + ${r.int(0, 3)})`);
  if (r.chance(0.5)) {
    const slot = 8 * r.int(1, 4);
    a.emit(`r2 = *(u64 *)(r10 - ${slot})`);
    if (r.chance(0.2)) a.emit('r0 = *(u8 *)(r2 + 0)');
    body.live.add(2);
  }
  const live = [...body.live];
  const x = live.length ? r.pick(live) : 0;
  const free = [0, 1, 2, 3, 4, 5].filter((n) => n !== x);
  const y = r.pick(free);
  const z = r.pick(free.filter((n) => n !== y));
  const t = r.pick(free.filter((n) => n !== y && n !== z));
  const bad = a.label();
  const marker = probe(sk, x, { y, z, t, bad }, use);
  const prog = finish(sk, 'prune', seed, undefined, ['test_state_freq']);
  emitBad(a, bad);
  prog.asm = a.text();
  return { prog, marker };
};

export const FAMILIES: Readonly<Record<string, { weight: number; gen: Generator }>> = {
  alu: { weight: 14, gen: scalarFamily('alu') },
  sext: { weight: 7, gen: scalarFamily('sext') },
  branch: { weight: 10, gen: scalarFamily('branch') },
  linked: { weight: 6, gen: scalarFamily('linked') },
  spill: { weight: 5, gen: scalarFamily('spill') },
  ...POINTER_FAMILIES,
  callback: { weight: 4, gen: callbackGen },
  fastcall: { weight: 3, gen: fastcallGen },
  mixed: { weight: 8, gen: mixedGen },
  prune: { weight: 6, gen: pruneGen },
};

export const FAMILY_NAMES = Object.keys(FAMILIES);

/** The family of the program with this seed (when the run mixes them). */
export function familyOf(seed: number, only?: readonly string[]): string {
  const names = only?.length ? only : FAMILY_NAMES;
  const r = new Rand(seed ^ 0x5bd1e995);
  return r.weighted(names.map((n) => [n, FAMILIES[n]!.weight] as const));
}

const USE_KINDS: readonly (readonly [UseKind, number])[] = [['branch', 8], ['map', 3], ['stack', 1.5], ['size', 1], ['sane', 0.7], ['pkt', 0.7]];

/** What the edge pass learnt (for reports). */
export interface EdgeInfo {
  state: ScalarState | null;
  tight: boolean;
  note: string;
}

/**
 * Keeps only the maps the program references (`ld_pseudo rX, 1|2, N`),
 * renumbered: the kernel oracle creates every listed map for every program.
 */
export function compactMaps(p: FuzzProgram): FuzzProgram {
  const used: number[] = [];
  const re = /^ld_pseudo (r\d+), ([12]), (\d+)/;
  for (const line of p.asm.split('\n')) {
    const m = re.exec(line);
    if (m && !used.includes(Number(m[3]))) used.push(Number(m[3]));
  }
  used.sort((x, y) => x - y);
  const asm = p.asm.split('\n').map((line) => line.replace(re, (_all, r, src, n) => `ld_pseudo ${r}, ${src}, ${used.indexOf(Number(n))}`)).join('\n');
  return { ...p, asm, maps: used.map((i) => p.maps[i]!) };
}

/**
 * The bounds of register `y` right after instruction `slot`, over every
 * path tsbpf explores (the union of the states it prints at log level 2 for
 * that instruction; read through the verifier's test hook, which is much
 * cheaper than formatting a level-2 log). Null when never reached or not a
 * scalar there.
 */
export function markerState(e: Parameters<typeof verifyEntry>[0], slot: number, y: number): ScalarState | null {
  const states: ScalarState[] = [];
  let scalar = true;
  verifierHooks.afterInsn = (idx, env) => {
    if (idx !== slot) return;
    const r = env.regs[y]!;
    if (r.type !== 1) {
      scalar = false;
      return;
    }
    states.push({ smin: r.smin, smax: r.smax, umin: r.umin, umax: r.umax, s32min: r.s32min, s32max: r.s32max, u32min: r.u32min, u32max: r.u32max, value: r.varOff.value, mask: r.varOff.mask });
  };
  try {
    verifyEntry(e, 0);
  } finally {
    verifierHooks.afterInsn = null;
  }
  return scalar && states.length ? unionStates(states) : null;
}

/** Builds the program of `family` for `seed`, with its edge check placed. */
export function generate(family: string, seed: number): FuzzProgram {
  return compactMaps(generateFull(family, seed));
}

function generateFull(family: string, seed: number): FuzzProgram {
  const f = FAMILIES[family];
  if (!f) throw new Error(`unknown fuzz family '${family}' (known: ${FAMILY_NAMES.join(', ')})`);
  // some programs checkpoint at every prune point (BPF_F_TEST_STATE_FREQ): pruning gets harder
  const stateFreq = new Rand(seed ^ 0x3c6ef372).chance(0.08);
  const flag = (g: Generated): Generated => {
    if (stateFreq && !g.prog.prog_flags?.includes('test_state_freq')) g.prog.prog_flags = [...(g.prog.prog_flags ?? []), 'test_state_freq'];
    return g;
  };
  const first = flag(f.gen(seed, (a, u) => gatherUse(a, u)));
  if (!first.marker) return first.prog;
  let state: ScalarState | null = null;
  try {
    state = markerState({ ...first.prog, insns: toHex(programBytes(first.prog)) }, first.marker.slot, first.marker.y);
  } catch {
    state = null;
  }
  const ur = new Rand((seed * 2654435761) ^ 0x1234567);
  const tight = ur.chance(0.5);
  const kind = ur.weighted(USE_KINDS);
  const s = state ?? unknownScalar();
  let note = '';
  const second = flag(f.gen(seed, (a, u, sk, skip) => {
    note = emitUse(kind, a, ur, u, s, tight, sk, skip);
  }));
  second.prog.note = `${tight ? 'tight' : 'loose'} ${note}${state ? '' : ' (no state)'}`;
  return second.prog;
}

export { verify };
