/**
 * Reading a scalar register's abstract value out of a level-2 verifier log
 * (the kernel's `print_verifier_state` format, which tsbpf prints too), so a
 * generator can put a check exactly at the edge of what the verifier knows:
 * `if r3 > K` with K the largest value the verifier thinks r3 can hold, or
 * one less.
 */

const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const S32_MIN = -(1n << 31n);
const S32_MAX = (1n << 31n) - 1n;
const U32_MAX = (1n << 32n) - 1n;

/** The bounds and tnum of a scalar. */
export interface ScalarState {
  smin: bigint;
  smax: bigint;
  umin: bigint;
  umax: bigint;
  s32min: bigint;
  s32max: bigint;
  u32min: bigint;
  u32max: bigint;
  /** tnum value and mask. */
  value: bigint;
  mask: bigint;
}

export function unknownScalar(): ScalarState {
  return { smin: S64_MIN, smax: S64_MAX, umin: 0n, umax: U64_MAX, s32min: S32_MIN, s32max: S32_MAX, u32min: 0n, u32max: U32_MAX, value: 0n, mask: U64_MAX };
}

export function constScalar(v: bigint): ScalarState {
  const u = BigInt.asUintN(64, v);
  const lo = u & U32_MAX;
  return {
    smin: BigInt.asIntN(64, u), smax: BigInt.asIntN(64, u), umin: u, umax: u,
    s32min: BigInt.asIntN(32, lo), s32max: BigInt.asIntN(32, lo), u32min: lo, u32max: lo, value: u, mask: 0n,
  };
}

function num(text: string): bigint {
  const neg = text.startsWith('-');
  const t = neg ? text.slice(1) : text;
  const v = BigInt(t);
  return neg ? -v : v;
}

/**
 * Parses one register's value text (`scalar(id=1,smin=...,var_off=(0x0; 0xff))`,
 * `P5`, `-3`, `Pscalar()`); null for anything that is not a scalar.
 */
export function parseScalar(text: string): ScalarState | null {
  let t = text.trim();
  if (t.startsWith('P')) t = t.slice(1);
  if (/^-?(0x[0-9a-f]+|\d+)$/.test(t)) return constScalar(num(t));
  const m = /^scalar\((.*)\)$/.exec(t);
  if (!m) return null;
  const s = unknownScalar();
  let tnumSeen = false;
  const body = m[1]!;
  const vo = /var_off=\((0x[0-9a-f]+); (0x[0-9a-f]+)\)/.exec(body);
  if (vo) {
    s.value = BigInt(vo[1]!);
    s.mask = BigInt(vo[2]!);
    tnumSeen = true;
  }
  for (const part of body.replace(/var_off=\([^)]*\)/, '').split(',')) {
    const names = part.split('=');
    if (names.length < 2) continue;
    const raw = names.pop()!;
    for (const n of names) {
      switch (n) {
        case 'smin': s.smin = BigInt.asIntN(64, num(raw)); break;
        case 'smax': s.smax = BigInt.asIntN(64, num(raw)); break;
        case 'umin': s.umin = BigInt.asUintN(64, num(raw)); break;
        case 'umax': s.umax = BigInt.asUintN(64, num(raw)); break;
        case 'smin32': s.s32min = BigInt.asIntN(32, num(raw)); break;
        case 'smax32': s.s32max = BigInt.asIntN(32, num(raw)); break;
        case 'umin32': s.u32min = BigInt.asUintN(32, num(raw)); break;
        case 'umax32': s.u32max = BigInt.asUintN(32, num(raw)); break;
        default: break; // id, ...
      }
    }
  }
  // no var_off printed: the tnum is unknown (the default of unknownScalar)
  void tnumSeen;
  return s;
}

/** Register values printed after `;` on an instruction line (`R1=... R3=...`). */
export function parseStateLine(text: string): Map<number, string> {
  const out = new Map<number, string>();
  let i = 0;
  while (i < text.length) {
    const m = /R(\d+)(?:_[rwD]+)?=/y;
    m.lastIndex = i;
    const hit = m.exec(text);
    if (!hit) {
      i++;
      continue;
    }
    const start = m.lastIndex;
    let depth = 0;
    let j = start;
    for (; j < text.length; j++) {
      const c = text[j]!;
      if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (c === ' ' && depth === 0) break;
    }
    out.set(Number(hit[1]), text.slice(start, j));
    i = j;
  }
  return out;
}

/**
 * Every state of register `reg` printed right after the instruction at
 * `slot` in a level-2 log (one per visit), or null if it was never reached
 * or was not a scalar.
 */
export function statesAt(log: string, slot: number, reg: number): ScalarState[] | null {
  const prefix = `${slot}: (`;
  const states: ScalarState[] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const semi = line.indexOf(';');
    if (semi < 0) continue;
    const text = parseStateLine(line.slice(semi + 1)).get(reg);
    if (text === undefined) continue;
    const s = parseScalar(text);
    if (!s) return null;
    states.push(s);
  }
  return states.length ? states : null;
}

/** The smallest state containing all of `states` (bounds and tnum). */
export function unionStates(states: readonly ScalarState[]): ScalarState {
  const u = { ...states[0]! };
  for (const s of states.slice(1)) {
    if (s.smin < u.smin) u.smin = s.smin;
    if (s.smax > u.smax) u.smax = s.smax;
    if (s.umin < u.umin) u.umin = s.umin;
    if (s.umax > u.umax) u.umax = s.umax;
    if (s.s32min < u.s32min) u.s32min = s.s32min;
    if (s.s32max > u.s32max) u.s32max = s.s32max;
    if (s.u32min < u.u32min) u.u32min = s.u32min;
    if (s.u32max > u.u32max) u.u32max = s.u32max;
    const mask = u.mask | s.mask | (u.value ^ s.value);
    u.value = u.value & ~mask & U64_MAX;
    u.mask = mask;
  }
  return u;
}

export const LIMITS = { S64_MIN, S64_MAX, U64_MAX, S32_MIN, S32_MAX, U32_MAX };
