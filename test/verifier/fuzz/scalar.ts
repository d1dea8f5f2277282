/**
 * Scalar families: unknown values (map value bytes, packet bytes, context
 * fields, helper results, spilled and filled values) go through a random
 * mix of ALU operations, sign extensions, byte swaps, copies (linked
 * scalars) and conditional jumps that refine them; then one of them is
 * checked at the edge of its bounds (edges.ts). The families differ in the
 * mix: `alu` (every ALU op, 32 and 64 bits, tnum-heavy masks, shifts),
 * `sext` (movsx, sign-extending loads, sdiv/smod, bswap), `branch` (range
 * checks with every condition, JMP and JMP32, reg and imm, signed),
 * `linked` (copies, `+= const` deltas, checks on one copy and use of the
 * other), `spill` (8/4/2/1-byte spills and fills, misaligned, of scalars).
 */
import { Asm, EDGE_IMM32, EDGE_IMM64, Rand, movConst, skeleton, type Skeleton } from './gen.js';

/** What a scalar body generator does, by weight. */
export interface ScalarProfile {
  alu: number;
  sext: number;
  swap: number;
  branch: number;
  check: number;
  copy: number;
  spill: number;
  divmod: number;
  atomic: number;
}

export const PROFILES: Readonly<Record<string, ScalarProfile>> = {
  alu: { alu: 10, sext: 1, swap: 1, branch: 2, check: 2, copy: 1, spill: 0.5, divmod: 1, atomic: 0.3 },
  sext: { alu: 3, sext: 6, swap: 3, branch: 2, check: 3, copy: 1, spill: 1, divmod: 2, atomic: 0.3 },
  branch: { alu: 3, sext: 1, swap: 0.5, branch: 6, check: 6, copy: 1, spill: 0.5, divmod: 0.3, atomic: 0.2 },
  linked: { alu: 2, sext: 0.5, swap: 0.3, branch: 3, check: 5, copy: 6, spill: 1, divmod: 0.2, atomic: 0.3 },
  spill: { alu: 3, sext: 1, swap: 0.3, branch: 2, check: 3, copy: 1, spill: 6, divmod: 0.2, atomic: 2 },
  mixed: { alu: 5, sext: 1, swap: 0.5, branch: 4, check: 3, copy: 2, spill: 2, divmod: 0.5, atomic: 0.5 },
};

const ALU_OPS = ['+=', '-=', '*=', '&=', '|=', '^=', '<<=', '>>=', 's>>=', '='] as const;
const MASKS = [1, 3, 7, 0xf, 0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0xfff, 0xffff, 0x7fffffff, -8, -4, -256, 0xf0, 0xff00, 0x7ff8, 0x3c, -0x80000000, 0x55, 0xaa];
const CONDS = ['==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&'] as const;

/** Body generation state: which of r0..r5 hold scalars. */
export class ScalarBody {
  live = new Set<number>();
  /** Stack slots (offsets) holding spilled scalars, with their spill size. */
  spilled = new Map<number, number>();

  constructor(readonly sk: Skeleton, readonly p: ScalarProfile, readonly regs: readonly number[] = [0, 1, 2, 3, 4, 5]) {}

  get a(): Asm {
    return this.sk.a;
  }

  get r(): Rand {
    return this.sk.r;
  }

  reg(): number {
    const live = [...this.live];
    if (live.length === 0 || this.r.chance(0.002)) return this.r.pick(this.regs);
    return this.r.pick(live);
  }

  dst(): number {
    return this.r.chance(0.6) && this.live.size ? this.reg() : this.r.pick(this.regs);
  }

  imm(): number {
    const r = this.r;
    if (r.chance(0.7)) return r.pick(EDGE_IMM32);
    if (r.chance(0.5)) return r.int(-300, 300);
    return r.int(-0x80000000, 0x7fffffff);
  }

  /** An unknown value from one of the sources. */
  source(dst: number): void {
    const { a, r, sk } = this;
    const kinds: [string, number][] = [['const', 1], ['value', sk.valueMap >= 0 ? 5 : 0], ['ctx', 2], ['pkt', sk.pktChecked > 0 ? 3 : 0], ['const64', 0.5], ['slot', this.spilled.size ? 2 : 0]];
    const kind = r.weighted(kinds);
    switch (kind) {
      case 'value': {
        const vs = sk.maps[sk.valueMap]!.value_size;
        const size = r.pick([1, 2, 4, 8].filter((s) => s <= vs));
        const off = r.int(0, Math.floor((vs - size) / size)) * size;
        const signed = size < 8 && r.chance(this.p.sext > 2 ? 0.5 : 0.15);
        a.emit(`r${dst} = *(${signed ? 's' : 'u'}${size * 8} *)(r9 + ${off})`);
        break;
      }
      case 'ctx': {
        const [off, size] = r.pick(sk.type.scalarFields);
        a.emit(`r${dst} = *(u${size * 8} *)(r6 + ${off})`);
        break;
      }
      case 'pkt': {
        const size = r.pick([1, 2, 4, 8].filter((s) => s <= sk.pktChecked));
        const off = r.int(0, sk.pktChecked - size);
        const signed = size < 8 && r.chance(0.2);
        a.emit(`r${dst} = *(${signed ? 's' : 'u'}${size * 8} *)(r7 + ${off})`);
        break;
      }
      case 'slot': {
        const [off, size] = r.pick([...this.spilled]);
        a.emit(`r${dst} = *(u${size * 8} *)(r10 - ${off})`);
        break;
      }
      case 'const64':
        a.emit(movConst(dst, r.pick(EDGE_IMM64)));
        break;
      default:
        a.emit(movConst(dst, BigInt(this.imm())));
    }
    this.live.add(dst);
  }

  /** Initial values: a few helper results (spilled: calls clobber r1..r5), then sources. */
  prologue(): void {
    const { a, r } = this;
    const calls = r.int(0, 2);
    for (let i = 0; i < calls; i++) {
      a.emit(r.chance(0.8) ? 'call bpf_get_prandom_u32' : 'call bpf_ktime_get_ns');
      const off = 64 + 8 * i;
      if (r.chance(0.3)) a.emit(`r0 ${r.pick(['&=', '>>=', '%='])} ${r.pick([0xff, 7, 12, 0xffff, 3])}`);
      a.emit(`*(u64 *)(r10 - ${off}) = r0`);
      this.spilled.set(off, 8);
    }
    const n = r.int(2, 4);
    for (let i = 0; i < n; i++) this.source(r.pick(this.regs));
  }

  alu(): void {
    const { a, r } = this;
    const w = r.chance(0.35);
    const op = r.pick(ALU_OPS);
    const d = op === '=' ? this.dst() : this.reg();
    const rn = (n: number) => (w ? `w${n}` : `r${n}`);
    let src: string;
    if (r.chance(0.4) && this.live.size) {
      const s = this.reg();
      if ((op === '<<=' || op === '>>=' || op === 's>>=') && r.chance(0.7)) {
        // a bounded shift amount (the verifier only tracks constant shifts; the rest must be in range at run time)
        a.emit(`${rn(s)} &= ${w ? 31 : 63}`);
      }
      src = rn(s);
    } else {
      let v = op === '&=' || op === '|=' || op === '^=' ? (r.chance(0.6) ? r.pick(MASKS) : this.imm()) : this.imm();
      if (op === '<<=' || op === '>>=' || op === 's>>=') v = r.chance(0.995) ? r.int(0, w ? 31 : 63) : r.pick([32, 64, -1]);
      src = String(v);
    }
    a.emit(`${rn(d)} ${op} ${src}`);
    this.live.add(d);
  }

  divmod(): void {
    const { a, r } = this;
    const w = r.chance(0.4);
    const op = r.pick(['/=', '%=', 's/=', 's%='] as const);
    const d = this.reg();
    const rn = (n: number) => (w ? `w${n}` : `r${n}`);
    const src = r.chance(0.5) && this.live.size ? rn(this.reg()) : String(r.pick([1, 2, 3, 7, 8, -1, -2, 16, 255, 0x7fffffff, -0x80000000, 10]));
    a.emit(`${rn(d)} ${op} ${src}`);
    this.live.add(d);
  }

  sext(): void {
    const { a, r, sk } = this;
    const k = r.int(0, 4);
    const d = this.dst();
    if (k <= 2) {
      const s = this.reg();
      if (r.chance(0.6)) a.emit(`r${d} = (s${r.pick([8, 16, 32])})r${s}`);
      else a.emit(`w${d} = (s${r.pick([8, 16])})w${s}`);
    } else if (k === 3 && sk.valueMap >= 0) {
      const vs = sk.maps[sk.valueMap]!.value_size;
      const size = r.pick([1, 2, 4].filter((s) => s <= vs));
      a.emit(`r${d} = *(s${size * 8} *)(r9 + ${r.int(0, Math.floor((vs - size) / size)) * size})`);
    } else if (this.spilled.size) {
      const [off] = r.pick([...this.spilled]);
      const size = r.pick([1, 2, 4]);
      a.emit(`r${d} = *(s${size * 8} *)(r10 - ${off})`);
    } else {
      a.emit(`r${d} = (s32)r${this.reg()}`);
    }
    this.live.add(d);
  }

  swap(): void {
    const { a, r } = this;
    const d = this.reg();
    const k = r.int(0, 5);
    if (k === 0) a.emit(`r${d} = -r${d}`);
    else if (k === 1) a.emit(`w${d} = -w${d}`);
    else a.emit(`r${d} = ${r.pick(['le', 'be', 'bswap'])}${r.pick([16, 32, 64])} r${d}`);
    this.live.add(d);
  }

  cond(): string {
    const { r } = this;
    const op = r.pick(CONDS);
    const w = r.chance(0.3);
    const x = this.reg();
    const rn = (n: number) => (w ? `w${n}` : `r${n}`);
    const rhs = r.chance(0.35) && this.live.size ? rn(this.reg()) : String(op === '&' ? r.pick(MASKS) : this.imm());
    return `${rn(x)} ${op} ${rhs}`;
  }

  /** A forward branch over a small block (both paths reach the join). */
  branch(depth: number): void {
    const { a, r } = this;
    const l = a.label();
    a.emit(`if ${this.cond()} goto ${l}`);
    const before = new Set(this.live);
    this.block(r.int(1, 3), depth + 1);
    for (const n of [...this.live]) if (!before.has(n)) this.live.delete(n);
    a.place(l);
  }

  /** A range check whose failing side leaves the program. */
  check(): void {
    const { a, r, sk } = this;
    a.emit(`if ${this.cond()} goto ${sk.out}`);
    if (r.chance(0.3)) {
      // and its mirror, to close the range from the other side
      a.emit(`if ${this.cond()} goto ${sk.out}`);
    }
  }

  /** A copy, maybe with a constant delta, then a check on one of the two. */
  copy(): void {
    const { a, r, sk } = this;
    const s = this.reg();
    let d = this.r.pick(this.regs);
    if (d === s) d = this.regs[(this.regs.indexOf(s) + 1) % this.regs.length]!;
    const w = r.chance(0.25);
    a.emit(w ? `w${d} = w${s}` : `r${d} = r${s}`);
    this.live.add(d);
    if (r.chance(0.6)) a.emit(`${w ? 'w' : 'r'}${r.pick([d, s])} += ${r.pick([1, -1, 2, 4, 8, -8, 100, -100, 0x7fffffff, this.imm()])}`);
    if (r.chance(0.7)) {
      const x = r.pick([d, s]);
      const w2 = r.chance(0.25);
      a.emit(`if ${w2 ? 'w' : 'r'}${x} ${r.pick(CONDS)} ${this.imm()} goto ${r.chance(0.5) ? sk.out : a.label()}`);
      // a dangling label would not assemble: make the jump target the next line
      const last = a.lines[a.lines.length - 1]!;
      const m = /goto (L\d+)$/.exec(last);
      if (m && m[1] !== sk.out) a.place(m[1]!);
    }
  }

  /** An offset below r10 for an access of `size` bytes: aligned inside a slot, rarely misaligned. */
  private slotOff(size: number, base: number): number {
    const r = this.r;
    if (r.chance(0.015)) return base - r.int(1, 7);
    return base - size * r.int(0, 8 / size - 1);
  }

  spill(): void {
    const { a, r } = this;
    const s = this.reg();
    const size = r.weighted([[8, 5], [4, 3], [2, 1], [1, 1]] as const);
    const base = 8 * r.int(1, 7);
    const off = this.slotOff(size, base);
    const w = size === 4 && r.chance(0.5) ? 'w' : 'r';
    if (r.chance(0.1)) a.emit(`*(u${size * 8} *)(r10 - ${off}) = ${this.imm()}`);
    else a.emit(`*(u${size * 8} *)(r10 - ${off}) = ${w}${s}`);
    this.spilled.set(off, size);
    if (r.chance(0.6)) {
      const d = r.pick(this.regs);
      const fsize = r.chance(0.7) ? size : r.pick([1, 2, 4, 8]);
      const foff = r.chance(0.8) ? off : this.slotOff(fsize, base);
      a.emit(`r${d} = *(${r.chance(0.1) && fsize < 8 ? 's' : 'u'}${fsize * 8} *)(r10 - ${foff})`);
      this.live.add(d);
    }
  }

  /** An atomic operation on a stack slot or the map value, maybe fetching the old value. */
  atomic(): void {
    const { a, r, sk } = this;
    const onStack = sk.valueMap < 0 || r.chance(0.6);
    const w = r.chance(0.3);
    const size = w ? 4 : 8;
    let base: string;
    if (onStack) {
      const off = 8 * r.int(1, 7);
      if (r.chance(0.7)) a.emit(`*(u64 *)(r10 - ${off}) = r${this.reg()}`);
      base = `r10 - ${off}`;
      this.spilled.set(off, 8);
    } else {
      const vs = sk.maps[sk.valueMap]!.value_size;
      if (vs < size) return;
      base = `r9 + ${size * r.int(0, Math.floor(vs / size) - 1)}`;
    }
    const s = this.reg();
    const ty = `u${size * 8}`;
    const rs = `${w ? 'w' : 'r'}${s}`;
    const k = r.int(0, 4);
    if (k === 0) a.emit(`lock *(${ty} *)(${base}) ${r.pick(['+=', '|=', '&=', '^='])} ${rs}`);
    else if (k === 1) a.emit(`${rs} = atomic${w ? '' : '64'}_fetch_${r.pick(['add', 'or', 'and', 'xor'])}((${ty} *)(${base}), ${rs})`);
    else if (k === 2) a.emit(`${rs} = atomic${w ? '' : '64'}_xchg((${ty} *)(${base}), ${rs})`);
    else {
      if (!this.live.has(0)) a.emit('r0 = 0');
      const w0 = w ? 'w0' : 'r0';
      a.emit(`${w0} = atomic${w ? '' : '64'}_cmpxchg((${ty} *)(${base}), ${w0}, ${rs === w0 ? (w ? 'w1' : 'r1') : rs})`);
      this.live.add(0);
    }
    this.live.add(s);
  }

  step(depth: number): void {
    const p = this.p;
    const what = this.r.weighted([
      ['alu', p.alu], ['sext', p.sext], ['swap', p.swap], ['branch', depth < 2 ? p.branch : 0], ['check', p.check],
      ['copy', p.copy], ['spill', p.spill], ['divmod', p.divmod], ['atomic', p.atomic], ['source', 0.7],
    ] as const);
    switch (what) {
      case 'atomic': this.atomic(); break;
      case 'alu': this.alu(); break;
      case 'sext': this.sext(); break;
      case 'swap': this.swap(); break;
      case 'branch': this.branch(depth); break;
      case 'check': this.check(); break;
      case 'copy': this.copy(); break;
      case 'spill': this.spill(); break;
      case 'divmod': this.divmod(); break;
      default: this.source(this.r.pick(this.regs));
    }
  }

  block(n: number, depth = 0): void {
    for (let i = 0; i < n; i++) this.step(depth);
  }
}

/** A scalar-family skeleton: program type and prologue. */
export function scalarSkeleton(r: Rand): Skeleton {
  const type = r.weighted([['xdp', 4], ['sched_cls', 3], ['socket_filter', 1], ['cgroup_skb', 1], ['kprobe', 2], ['tracepoint', 1]] as const);
  return skeleton(r, type);
}

export { Asm };
