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

export const FAMILIES: Readonly<Record<string, { weight: number; gen: Generator }>> = {
  alu: { weight: 14, gen: scalarFamily('alu') },
  sext: { weight: 7, gen: scalarFamily('sext') },
  branch: { weight: 10, gen: scalarFamily('branch') },
  linked: { weight: 6, gen: scalarFamily('linked') },
  spill: { weight: 5, gen: scalarFamily('spill') },
  ...POINTER_FAMILIES,
  callback: { weight: 4, gen: callbackGen },
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
  const first = f.gen(seed, (a, u) => gatherUse(a, u));
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
  const second = f.gen(seed, (a, u, sk, skip) => {
    note = emitUse(kind, a, ur, u, s, tight, sk, skip);
  });
  second.prog.note = `${tight ? 'tight' : 'loose'} ${note}${state ? '' : ' (no state)'}`;
  return second.prog;
}

export { verify };
