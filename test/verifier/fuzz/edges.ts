/**
 * Checks placed at the edge of what the verifier knows about a scalar. A
 * generator builds a program up to a marker `rY = rX`; tsbpf verifies it
 * once at log level 2 and the marker's printed states give the bounds of
 * rY over every path (`edgeState`); then one of these builders emits a use
 * of rY whose verdict flips exactly at those bounds:
 *
 * - `branch`: `if rY > umax goto bad` (never taken: accepted) or
 *   `if rY > umax - 1 goto bad` (explored: rejected), likewise for umin,
 *   smin, smax, the 32-bit bounds (JMP32), known tnum bits (JSET) and
 *   equality, with the constant as an immediate or in a register, on
 *   either side;
 * - `map`: a map value access at `r9 + rY + off` with `off` at the last
 *   valid byte or one past it (max side or min side);
 * - `stack`: a variable-offset stack write at the frame's top or bottom;
 * - `size`: rY as a helper's size argument for a buffer of exactly umax
 *   bytes, or one less;
 * - `sane`: pointer arithmetic whose offset lands at +-BPF_MAX_VAR_OFF.
 *
 * `bad` is a path the verifier must reject (a load through a scalar), so a
 * difference of one in any bound between tsbpf and the kernel is a
 * difference in verdict.
 */
import type { Asm, Rand, Skeleton } from './gen.js';
import { movConst } from './gen.js';
import { LIMITS, type ScalarState } from './state.js';

const { U64_MAX, U32_MAX } = LIMITS;
const MAX_VAR_OFF = 1n << 29n;

/** Registers and labels a use may take. */
export interface UseRegs {
  /** The probed register (the marker's destination). */
  y: number;
  /** Free registers the use may clobber. */
  z: number;
  t: number;
  /** The label of the rejected path. */
  bad: string;
  /** Where to continue when the use is done (falls through if absent). */
}

export type UseKind = 'branch' | 'map' | 'stack' | 'size' | 'sane' | 'pkt';

/** Emits the rejected path. */
export function emitBad(a: Asm, bad: string): void {
  if (!a.referenced(bad)) return;
  a.place(bad);
  a.emit('r0 = 0');
  a.emit('r0 = *(u64 *)(r0 + 0)');
  a.emit('exit');
}

/** The neutral check used while gathering states: never taken, makes rY precise. */
export function gatherUse(a: Asm, u: UseRegs): void {
  a.emit(`if r${u.y} > -1 goto ${u.bad}`);
}

function fitsImm64(v: bigint): boolean {
  const s = BigInt.asIntN(64, v);
  return s >= -0x80000000n && s <= 0x7fffffffn;
}

const FLIP: Record<string, string> = { '>': '<', '>=': '<=', '<': '>', '<=': '>=', 's>': 's<', 's>=': 's<=', 's<': 's>', 's<=': 's>=', '==': '==', '!=': '!=', '&': '&' };

/** `if rY OP K goto bad` (or 32-bit), with K an immediate or a register on either side. */
function cmp(a: Asm, r: Rand, u: UseRegs, op: string, k: bigint, w32: boolean): string {
  const reg = w32 ? `w${u.y}` : `r${u.y}`;
  const kk = w32 ? BigInt.asIntN(32, k) : BigInt.asIntN(64, k);
  const immOk = w32 || fitsImm64(k);
  if (immOk && r.chance(0.6)) {
    a.emit(`if ${reg} ${op} ${kk} goto ${u.bad}`);
    return `${reg} ${op} ${kk}`;
  }
  a.emit(movConst(u.z, w32 ? BigInt.asUintN(32, k) : k));
  const zr = w32 ? `w${u.z}` : `r${u.z}`;
  if (op !== '&' && r.chance(0.4)) {
    a.emit(`if ${zr} ${FLIP[op]} ${reg} goto ${u.bad}`);
    return `${zr}=${kk} ${FLIP[op]} ${reg}`;
  }
  a.emit(`if ${reg} ${op} ${zr} goto ${u.bad}`);
  return `${reg} ${op} ${zr}=${kk}`;
}

/**
 * A branch on rY at one of its bounds. `tight`: the branch is never taken
 * for the given state (the verifier must prune it); otherwise it is
 * possible by one value.
 */
export function branchUse(a: Asm, r: Rand, u: UseRegs, s: ScalarState, tight: boolean): string {
  const kind = r.weighted([
    ['umax', 4], ['umin', 2], ['smax', 3], ['smin', 3], ['u32max', 3], ['u32min', 1], ['s32max', 2], ['s32min', 2],
    ['jset', 2], ['eq', 2],
  ] as const);
  const strict = r.chance(0.6);
  const d = tight ? 0n : 1n;
  switch (kind) {
    case 'umax':
      if (!tight && s.umax === 0n) return branchUse(a, r, u, s, true);
      return strict ? cmp(a, r, u, '>', s.umax - d, false) : (s.umax === U64_MAX && tight ? cmp(a, r, u, '>', s.umax, false) : cmp(a, r, u, '>=', s.umax + 1n - d, false));
    case 'umin':
      if (!tight && s.umin === U64_MAX) return branchUse(a, r, u, s, true);
      return strict || s.umin === 0n ? cmp(a, r, u, '<', s.umin + d, false) : cmp(a, r, u, '<=', s.umin - 1n + d, false);
    case 'smax':
      if (!tight && s.smax === LIMITS.S64_MIN) return branchUse(a, r, u, s, true);
      return strict || s.smax === LIMITS.S64_MAX ? cmp(a, r, u, 's>', s.smax - d, false) : cmp(a, r, u, 's>=', s.smax + 1n - d, false);
    case 'smin':
      if (!tight && s.smin === LIMITS.S64_MAX) return branchUse(a, r, u, s, true);
      return strict || s.smin === LIMITS.S64_MIN ? cmp(a, r, u, 's<', s.smin + d, false) : cmp(a, r, u, 's<=', s.smin - 1n + d, false);
    case 'u32max':
      if (!tight && s.u32max === 0n) return branchUse(a, r, u, s, true);
      return strict || s.u32max === U32_MAX ? cmp(a, r, u, '>', s.u32max - d, true) : cmp(a, r, u, '>=', s.u32max + 1n - d, true);
    case 'u32min':
      if (!tight && s.u32min === U32_MAX) return branchUse(a, r, u, s, true);
      return strict || s.u32min === 0n ? cmp(a, r, u, '<', s.u32min + d, true) : cmp(a, r, u, '<=', s.u32min - 1n + d, true);
    case 's32max':
      if (!tight && s.s32max === LIMITS.S32_MIN) return branchUse(a, r, u, s, true);
      return strict || s.s32max === LIMITS.S32_MAX ? cmp(a, r, u, 's>', s.s32max - d, true) : cmp(a, r, u, 's>=', s.s32max + 1n - d, true);
    case 's32min':
      if (!tight && s.s32min === LIMITS.S32_MAX) return branchUse(a, r, u, s, true);
      return strict || s.s32min === LIMITS.S32_MIN ? cmp(a, r, u, 's<', s.s32min + d, true) : cmp(a, r, u, 's<=', s.s32min - 1n + d, true);
    case 'jset': {
      // a known-zero bit (never set) or an unknown bit
      const known0: number[] = [];
      const unknown: number[] = [];
      for (let b = 0; b < 64; b++) {
        const bit = 1n << BigInt(b);
        if (s.mask & bit) unknown.push(b);
        else if (!(s.value & bit)) known0.push(b);
      }
      const w32 = r.chance(0.3);
      const pool = (tight ? known0 : unknown).filter((b) => !w32 || b < 32);
      if (pool.length === 0) return branchUse(a, r, u, s, tight);
      let bits = 1n << BigInt(r.pick(pool));
      if (tight && r.chance(0.4)) for (const b of pool) if (r.chance(0.5)) bits |= 1n << BigInt(b);
      return cmp(a, r, u, '&', bits, w32);
    }
    case 'eq': {
      if (tight) {
        const k = r.chance(0.5) && s.umax !== U64_MAX ? s.umax + 1n : s.umin !== 0n ? s.umin - 1n : s.umax + 1n;
        if (k > U64_MAX) return branchUse(a, r, u, s, tight);
        return cmp(a, r, u, '==', k, false);
      }
      return cmp(a, r, u, '==', r.chance(0.5) ? s.umax : s.umin, false);
    }
  }
}

/** A map value access at r9 + rY + off, at the value's end (max side) or start (min side). */
export function mapUse(a: Asm, r: Rand, u: UseRegs, s: ScalarState, tight: boolean, valueSize: number): string | null {
  const size = r.pick([1, 2, 4, 8]);
  const maxSide = r.chance(0.6);
  let off: bigint;
  if (maxSide) off = BigInt(valueSize - size) - s.umax + (tight ? 0n : 1n);
  else off = -s.smin - (tight ? 0n : 1n);
  if (off < -32768n || off > 32767n) return null;
  a.emit(`r${u.z} = r9`);
  a.emit(`r${u.z} += r${u.y}`);
  const o = Number(off);
  const ot = o < 0 ? `- ${-o}` : `+ ${o}`;
  const ty = `u${size * 8}`;
  if (r.chance(0.5)) a.emit(`r${u.t} = *(${ty} *)(r${u.z} ${ot})`);
  else a.emit(`*(${ty} *)(r${u.z} ${ot}) = ${r.pick([0, 1, -1])}`);
  return `map value ${maxSide ? 'max' : 'min'} side, off ${o}, size ${size}`;
}

/** A variable-offset stack write at the top (0) or bottom (-512) of the frame. */
export function stackUse(a: Asm, r: Rand, u: UseRegs, s: ScalarState, tight: boolean): string | null {
  const size = r.pick([1, 2, 4, 8]);
  const top = r.chance(0.5);
  let off: bigint;
  if (top) off = -BigInt(size) - s.smax + (tight ? 0n : 1n);
  else off = -512n - s.smin - (tight ? 0n : 1n);
  if (off < -32768n || off > 32767n) return null;
  a.emit(`r${u.z} = r10`);
  a.emit(`r${u.z} += r${u.y}`);
  const o = Number(off);
  const ot = o < 0 ? `- ${-o}` : `+ ${o}`;
  if (r.chance(0.8)) a.emit(`*(u${size * 8} *)(r${u.z} ${ot}) = ${r.pick([0, 7])}`);
  else a.emit(`r${u.t} = *(u${size * 8} *)(r${u.z} ${ot})`);
  return `stack ${top ? 'top' : 'bottom'}, off ${o}, size ${size}`;
}

/** rY as a helper's size argument for a stack buffer of (about) umax bytes. */
export function sizeUse(a: Asm, r: Rand, u: UseRegs, s: ScalarState, tight: boolean, sk: Skeleton): string | null {
  if (s.umax > 512n || s.umax === 0n) return null;
  const buf = Number(s.umax) - (tight ? 0 : 1);
  if (buf <= 0) return null;
  const helpers = sk.type.helpers;
  const choices: string[] = [];
  if (helpers.has('bpf_probe_read_kernel')) choices.push('probe');
  if (helpers.has('bpf_skb_load_bytes')) choices.push('skb');
  if (helpers.has('bpf_xdp_load_bytes')) choices.push('xdp');
  choices.push('ringbuf');
  const which = r.pick(choices);
  const bufOff = -buf - (r.chance(0.5) ? 0 : r.int(0, 16));
  if (bufOff < -512) return null;
  // helper calls clobber r1..r5: move rY into the size register first
  switch (which) {
    case 'probe':
      a.emit(`r2 = r${u.y}`);
      a.emit('r1 = r10');
      a.emit(`r1 += ${bufOff}`);
      a.emit('r3 = 0');
      a.emit('call bpf_probe_read_kernel');
      break;
    case 'skb':
      a.emit(`r4 = r${u.y}`);
      a.emit('r1 = r6');
      a.emit(`r2 = ${r.pick([0, 0, 14])}`);
      a.emit('r3 = r10');
      a.emit(`r3 += ${bufOff}`);
      a.emit('call bpf_skb_load_bytes');
      break;
    case 'xdp':
      a.emit(`r4 = r${u.y}`);
      a.emit('r1 = r6');
      a.emit('r2 = 0');
      a.emit('r3 = r10');
      a.emit(`r3 += ${bufOff}`);
      a.emit('call bpf_xdp_load_bytes');
      break;
    default:
      // ringbuf output reads the buffer: initialise it first
      a.emit(`r3 = r${u.y}`);
      a.emit('r2 = r10');
      a.emit(`r2 += ${bufOff}`);
      for (let o = bufOff & ~7; o < 0; o += 8) a.emit(`*(u64 *)(r10 ${o < 0 ? '- ' + -o : '+ ' + o}) = 0`);
      a.emit('ld_pseudo r1, 1, 2');
      a.emit('r4 = 0');
      a.emit('call bpf_ringbuf_output');
      break;
  }
  return `${which} size, buffer ${buf} at ${bufOff}`;
}

/** Pointer arithmetic whose result lands at the BPF_MAX_VAR_OFF limit. */
export function saneUse(a: Asm, r: Rand, u: UseRegs, s: ScalarState, tight: boolean): string | null {
  const low = r.chance(0.5);
  // add C so that smin (low side) becomes -(2^29) + 1 (tight) or -(2^29), or so that smin becomes 2^29 - 1 / 2^29
  const target = low ? -MAX_VAR_OFF + (tight ? 1n : 0n) : MAX_VAR_OFF - (tight ? 1n : 0n);
  if (s.smin === LIMITS.S64_MIN) return null;
  const c = target - s.smin;
  if (c < -0x80000000n || c > 0x7fffffffn) return null;
  if (s.smax + c > LIMITS.S64_MAX) return null;
  a.emit(`r${u.y} += ${c}`);
  a.emit(`r${u.z} = ${r.pick(['r9', 'r10', 'r9'])}`);
  a.emit(`r${u.z} += r${u.y}`);
  return `pointer + scalar with smin ${target}`;
}

/** A packet access at r7 + rY + off after checking rY + off + n against data_end. */
export function pktUse(a: Asm, r: Rand, u: UseRegs, tight: boolean, skip: string): string {
  const n = r.pick([1, 2, 4, 8, 14, 20]);
  const size = r.pick([1, 2, 4, 8].filter((x) => x <= n + 1));
  const off = n - size + (tight ? 0 : 1);
  a.emit(`r${u.z} = r7`);
  a.emit(`r${u.z} += r${u.y}`);
  a.emit(`r${u.t} = r${u.z}`);
  a.emit(`r${u.t} += ${n}`);
  a.emit(r.chance(0.5) ? `if r${u.t} > r8 goto ${skip}` : `if r8 < r${u.t} goto ${skip}`);
  a.emit(`r0 = *(u${size * 8} *)(r${u.z} ${off < 0 ? '- ' + -off : '+ ' + off})`);
  return `packet + var, checked ${n}, access ${size} at ${off}`;
}

/** Builds the use of kind `kind`; falls back to a branch when the edge does not fit. */
export function emitUse(kind: UseKind, a: Asm, r: Rand, u: UseRegs, s: ScalarState, tight: boolean, sk: Skeleton, skip: string): string {
  let note: string | null = null;
  switch (kind) {
    case 'map':
      if (sk.valueMap >= 0) note = mapUse(a, r, u, s, tight, sk.maps[sk.valueMap]!.value_size);
      break;
    case 'stack':
      note = stackUse(a, r, u, s, tight);
      break;
    case 'size':
      note = sizeUse(a, r, u, s, tight, sk);
      break;
    case 'sane':
      if (sk.valueMap >= 0) note = saneUse(a, r, u, s, tight);
      break;
    case 'pkt':
      if (sk.packet) note = pktUse(a, r, u, tight, skip);
      break;
    default:
      break;
  }
  return note ?? branchUse(a, r, u, s, tight);
}

export { U64_MAX, U32_MAX };
