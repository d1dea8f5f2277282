/**
 * The optimizer, in the spirit of libpcap's optimize.c: global value
 * numbering (a packet load, `len` or arithmetic on known values gets one
 * number everywhere, so a load whose value A or X already holds goes
 * away, and constants fold), jump threading (a test whose outcome the
 * tests on every path to it already decide, on the same value, is
 * skipped — including tests whose branches meet), removal of statements
 * whose results nobody reads, and merging of identical blocks. It repeats
 * until nothing changes.
 *
 * Skipping blocks is only done when every register and scratch word the
 * new successor reads holds the same value as on the old path, so the
 * result is exact; unused loads disappear, as in libpcap (a load past the
 * captured bytes no longer rejects the packet when its value was unused).
 */
import { AluOp, Class, JmpOp, Mode, Src } from '../insn.js';
import type { CbpfInsn } from '../insn.js';
import { fold } from './codegen.js';
import { FilterError } from './filter-lexer.js';
import type { Block } from './codegen.js';

/**
 * What the tests on the way decided: for each edge that dominates (lies on
 * every path), the test it took (value, operation, operand) and the
 * outcome. Keyed by the edge itself, as libpcap's edge dominators are: two
 * different paths that tested the same thing do not combine.
 */
type Facts = Map<string, [string, boolean]>;

/** Atoms: A, X, M[0..15]. */
const A = 0;
const X = 1;
const NATOMS = 18;
const M = (k: number): number => 2 + k;

interface Info {
  entry: number[];
  exit: number[];
  /** Value of A at the jump, and of the operand (constant's value number or X's). */
  av: number;
  ov: number;
  liveIn: Set<number>;
  /** Facts known on entry, by the edge that established them: edge id -> [test key, outcome]. */
  facts: Facts;
  preds: Block[];
}

/** Optimizes the block graph under `root` (the leaves are the accept and reject blocks); returns the new root. */
export function optimizeBlocks(root: Block): Block {
  const top: Block = { stmts: [], jmp: { code: Class.JMP | JmpOp.JEQ | Src.K, k: 0 }, jt: root, jf: root };
  const opt = new Optimizer();
  opt.top = top;
  for (let round = 0; round < 10000; round++) {
    opt.analyze(top);
    if (opt.thread()) continue;
    if (opt.deadStatements(top)) continue;
    // Pull-ups need no facts: repeat them on a lighter analysis, then thread again.
    let pulled = false;
    while (opt.pullup(top)) {
      pulled = true;
      opt.analyze(top, false);
    }
    if (pulled) continue;
    if (opt.intern(top)) continue;
    break;
  }
  return top.jt!;
}

class Optimizer {
  private table = new Map<string, number>();
  private consts = new Map<number, number>();
  private nextVal = 1;
  private info = new Map<Block, Info>();
  private order: Block[] = [];

  /** The block above the root (skipping a sticky block is allowed from there only, like libpcap's opt_root). */
  top: Block | undefined;

  private fresh(): number {
    return this.nextVal++;
  }
  private num(key: string): number {
    let v = this.table.get(key);
    if (v === undefined) {
      v = this.nextVal++;
      this.table.set(key, v);
    }
    return v;
  }
  private constNum(c: number): number {
    const v = this.num(`c${c >>> 0}`);
    this.consts.set(v, c >>> 0);
    return v;
  }

  /** Blocks reachable from `top`, in topological order. */
  private topo(top: Block): Block[] {
    const seen = new Set<Block>();
    const post: Block[] = [];
    const visit = (b: Block): void => {
      if (seen.has(b)) return;
      seen.add(b);
      if (b.jmp) {
        visit(b.jf!);
        visit(b.jt!);
      }
      post.push(b);
    };
    visit(top);
    return post.reverse();
  }

  /**
   * Runs the statements of `b` over `vals` (changed in place). With `alter`,
   * statements that leave a register unchanged go away and arithmetic on
   * constants becomes a constant load.
   */
  private run(b: Block, vals: number[], alter: boolean): void {
    if (b.raw) {
      for (let i = 0; i < NATOMS; i++) vals[i] = this.fresh();
      return;
    }
    const keep: CbpfInsn[] = [];
    for (const s0 of b.stmts) {
      let s = s0;
      const cls = s.code & 0x07;
      let drop = false;
      const set = (atom: number, v: number): void => {
        if (vals[atom] === v) drop = true;
        else vals[atom] = v;
      };
      switch (cls) {
        case Class.LD:
        case Class.LDX: {
          const atom = cls === Class.LD ? A : X;
          const mode = s.code & 0xe0;
          if (mode === Mode.IMM) set(atom, this.constNum(s.k));
          else if (mode === Mode.LEN) set(atom, this.num('len'));
          else if (mode === Mode.MEM) set(atom, vals[M(s.k)]!);
          else if (mode === Mode.ABS) set(atom, this.num(`ld${s.code}:${s.k}`));
          else if (mode === Mode.IND) {
            const xc = this.consts.get(vals[X]!);
            if (xc !== undefined && alter) {
              // A constant index: an absolute load.
              s = { code: (s.code & ~0xe0) | Mode.ABS, jt: 0, jf: 0, k: (s.k + xc) >>> 0 };
              set(atom, this.num(`ld${s.code}:${s.k}`));
            } else set(atom, this.num(`ldi${s.code}:${s.k}:${vals[X]}`));
          } else if (mode === Mode.MSH) set(atom, this.num(`msh${s.k}`));
          break;
        }
        case Class.ST:
          set(M(s.k), vals[A]!);
          break;
        case Class.STX:
          set(M(s.k), vals[X]!);
          break;
        case Class.MISC:
          if ((s.code & 0xf8) === 0x00) set(X, vals[A]!);
          else set(A, vals[X]!);
          break;
        case Class.ALU: {
          const op = s.code & 0xf0;
          if (op === AluOp.NEG) {
            const c = this.consts.get(vals[A]!);
            if (c !== undefined && alter) {
              s = { code: Class.LD | Mode.IMM, jt: 0, jf: 0, k: -c >>> 0 };
              set(A, this.constNum(-c >>> 0));
            } else set(A, this.num(`neg${vals[A]}`));
            break;
          }
          let ov = (s.code & 0x08) === Src.X ? vals[X]! : this.constNum(s.k);
          const oc = this.consts.get(ov);
          if (oc !== undefined && oc > 31 && alter && (op === AluOp.LSH || op === AluOp.RSH)) {
            throw new FilterError('shift by more than 31 bits', 0);
          }
          if (oc === 0 && alter && (op === AluOp.DIV || op === AluOp.MOD)) {
            // libpcap's optimizer refuses a division it finds to be by zero.
            throw new FilterError(op === AluOp.DIV ? 'division by zero' : 'modulus by zero', 0);
          }
          if (oc !== undefined && (s.code & 0x08) === Src.X && alter) {
            s = { code: Class.ALU | op | Src.K, jt: 0, jf: 0, k: oc };
            ov = this.constNum(oc);
          }
          const ac = this.consts.get(vals[A]!);
          if (ac === 0 && oc === undefined && alter) {
            // 0 op X: libpcap makes it 0 (or X for + | ^), so a division by X no longer faults.
            if (op === AluOp.ADD || op === AluOp.OR || op === AluOp.XOR) {
              s = { code: Class.MISC | 0x80, jt: 0, jf: 0, k: 0 };
              set(A, vals[X]!);
            } else {
              s = { code: Class.LD | Mode.IMM, jt: 0, jf: 0, k: 0 };
              set(A, this.constNum(0));
            }
            if (!(drop && alter)) keep.push(s);
            continue;
          }
          const k = (s.code & 0x08) === Src.K ? s.k >>> 0 : oc;
          if (k !== undefined && (s.code & 0x08) === Src.K && alter) {
            // Identities leave A as it is.
            const identity = ((op === AluOp.ADD || op === AluOp.SUB || op === AluOp.OR || op === AluOp.XOR || op === AluOp.LSH || op === AluOp.RSH) && k === 0)
              || ((op === AluOp.MUL || op === AluOp.DIV) && k === 1) || (op === AluOp.AND && k === 0xffffffff);
            if (identity) {
              drop = true;
              break;
            }
          }
          if (ac !== undefined && oc !== undefined && !((op === AluOp.DIV || op === AluOp.MOD) && oc === 0)) {
            const r = fold(op, ac, oc);
            if (alter) s = { code: Class.LD | Mode.IMM, jt: 0, jf: 0, k: r };
            set(A, this.constNum(r));
          } else if ((op === AluOp.AND || op === AluOp.MUL) && oc === 0 && alter) {
            s = { code: Class.LD | Mode.IMM, jt: 0, jf: 0, k: 0 };
            set(A, this.constNum(0));
          } else set(A, this.num(`alu${op}:${vals[A]}:${ov}`));
          break;
        }
      }
      if (!(drop && alter)) keep.push(s);
    }
    if (alter) b.stmts = keep;
  }

  /** Value numbers, jump operands, liveness and the facts known on entry to each block. */
  analyze(top: Block, withFacts = true): void {
    this.order = this.topo(top);
    this.info = new Map();
    for (const b of this.order) this.info.set(b, { entry: [], exit: [], av: 0, ov: 0, liveIn: new Set(), facts: new Map(), preds: [] });
    for (const b of this.order) {
      if (!b.jmp) continue;
      this.info.get(b.jt!)!.preds.push(b);
      if (b.jf !== b.jt) this.info.get(b.jf!)!.preds.push(b);
    }
    for (const b of this.order) {
      const inf = this.info.get(b)!;
      if (inf.preds.length === 0) inf.entry = Array.from({ length: NATOMS }, () => this.fresh());
      else {
        const first = this.info.get(inf.preds[0]!)!.exit;
        inf.entry = first.map((v, i) => (inf.preds.every((p) => this.info.get(p)!.exit[i] === v) ? v : this.fresh()));
      }
      const vals = [...inf.entry];
      this.run(b, vals, true);
      inf.exit = vals;
      if (b.jmp) {
        inf.av = vals[A]!;
        if ((b.jmp.code & 0x08) === Src.X) {
          const xc = this.consts.get(vals[X]!);
          if (xc !== undefined) b.jmp = { code: b.jmp.code & ~0x08, k: xc };
        }
        inf.ov = (b.jmp.code & 0x08) === Src.X ? vals[X]! : this.constNum(b.jmp.k);
        // Facts on entry: what every path to this block has decided.
        const d = this.decide(inf.av, b.jmp.code, inf.ov, new Map() as Facts);
        if (d !== undefined && b.jt !== b.jf) {
          const t = d ? b.jt! : b.jf!;
          b.jt = t;
          b.jf = t;
        }
      }
    }
    // Facts: the intersection over predecessors of what their paths knew plus the edge taken.
    for (const b of withFacts ? this.order : []) {
      const inf = this.info.get(b)!;
      let facts: Facts | undefined;
      for (const p of inf.preds) {
        const pf: Facts = new Map(this.info.get(p)!.facts);
        const e = this.edgeFact(p, b);
        if (e) pf.set(e[0], [e[1], e[2]]);
        if (!facts) facts = pf;
        else for (const k of facts.keys()) if (!pf.has(k)) facts.delete(k);
      }
      inf.facts = facts ?? new Map();
    }
    this.liveness();
  }

  private edgeFact(p: Block, s: Block): [string, string, boolean] | undefined {
    if (!p.jmp || p.jt === p.jf || p.raw) return undefined;
    const pi = this.info.get(p)!;
    const taken = s === p.jt;
    return [`${this.blockId(p)}${taken ? 't' : 'f'}`, `${pi.av}:${p.jmp.code & 0xf8}:${pi.ov}`, taken];
  }

  private ids = new Map<Block, number>();
  private blockId(b: Block): number {
    let id = this.ids.get(b);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(b, id);
    }
    return id;
  }

  private liveness(): void {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const b = this.order[i]!;
      const inf = this.info.get(b)!;
      const live = new Set<number>();
      if (b.jmp) {
        for (const a of this.info.get(b.jt!)!.liveIn) live.add(a);
        for (const a of this.info.get(b.jf!)!.liveIn) live.add(a);
        if (b.jt !== b.jf || b.raw) {
          live.add(A);
          if ((b.jmp.code & 0x08) === Src.X) live.add(X);
        }
      }
      if (b.raw) {
        inf.liveIn = new Set();
        continue;
      }
      for (let j = b.stmts.length - 1; j >= 0; j--) stmtLiveness(b.stmts[j]!, live);
      inf.liveIn = live;
    }
  }

  /** The outcome of a jump on A (value `av`) against `ov`, if constants or the known facts decide it. */
  private decide(av: number, code: number, ov: number, facts: Facts): boolean | undefined {
    const op = code & 0xf0;
    const key = `${av}:${code & 0xf8}:${ov}`;
    for (const [k, v] of facts.values()) if (k === key) return v;
    const ac = this.consts.get(av);
    const oc = this.consts.get(ov);
    if (ac === undefined && (code & 0xf8) === (JmpOp.JEQ | Src.K)) {
      // A known equal to another constant on this path: not equal to this one. Only equality tests are
      // decided this way, as libpcap's optimizer does (it would not decide `jgt #1500` after `jeq #0x800`);
      // deciding more would drop loads libpcap keeps, and truncated packets would be judged differently.
      for (const [k, v] of facts.values()) {
        if (!v) continue;
        const [fa, fcode, fo] = k.split(':').map(Number);
        if (fa === av && fcode === (JmpOp.JEQ | Src.K) && fo !== ov) return false;
      }
    }
    if (ac === undefined || oc === undefined) return undefined;
    switch (op) {
      case JmpOp.JEQ: return ac === oc;
      case JmpOp.JGT: return ac > oc;
      case JmpOp.JGE: return ac >= oc;
      case JmpOp.JSET: return (ac & oc) !== 0;
      default: return undefined;
    }
  }

  /** Jump threading: retarget edges past tests already decided on the way, bottom-up; true if something changed. */
  thread(): boolean {
    let changed = false;
    for (let i = this.order.length - 1; i >= 0; i--) {
      const p = this.order[i]!;
      if (!p.jmp) continue;
      const pi = this.info.get(p)!;
      const edges: ('jt' | 'jf')[] = p.jt === p.jf ? ['jt'] : ['jt', 'jf'];
      for (const which of edges) {
        const s = p[which]!;
        const facts: Facts = new Map(pi.facts);
        const e = this.edgeFact(p, s);
        if (e) facts.set(e[0], [e[1], e[2]]);
        const target = this.skip(p, s, facts);
        if (target && target !== s) {
          if (p.jt === p.jf) {
            p.jt = target;
            p.jf = target;
          } else p[which] = target;
          changed = true;
          // Going bottom-up, a change here only alters what later-in-order blocks computed (still done with
          // valid values and facts) and the liveness of this block and its ancestors, which is redone.
          this.liveness();
        }
      }
    }
    return changed;
  }

  /** How far the path from `p` into `s` can skip: the farthest block whose inputs stay the same. */
  private skip(p: Block, s: Block, facts: Facts): Block | undefined {
    const start = this.info.get(p)!.exit;
    const vals = [...start];
    let cur = s;
    let best: Block | undefined;
    for (let steps = 0; steps < 1000; steps++) {
      if (!cur.jmp || cur.raw || (cur.sticky && p !== this.top)) break;
      this.run(cur, vals, false);
      let next: Block;
      if (cur.jt === cur.jf) next = cur.jt!;
      else {
        const av = vals[A]!;
        const ov = (cur.jmp.code & 0x08) === Src.X ? vals[X]! : this.constNum(cur.jmp.k);
        const d = this.decide(av, cur.jmp.code, ov, facts);
        if (d === undefined) break;
        facts.set(`path${steps}`, [`${av}:${cur.jmp.code & 0xf8}:${ov}`, d]);
        next = d ? cur.jt! : cur.jf!;
      }
      const live = this.info.get(next)!.liveIn;
      if ([...live].every((a) => vals[a] === start[a])) best = next;
      cur = next;
    }
    return best;
  }

  /** Removes statements whose results are never read; true if any went. */
  deadStatements(top: Block): boolean {
    let changed = false;
    for (const b of this.order) {
      if (!b.jmp || b.raw || b.sticky || b === top) continue;
      const live = new Set<number>();
      for (const a of this.info.get(b.jt!)!.liveIn) live.add(a);
      for (const a of this.info.get(b.jf!)!.liveIn) live.add(a);
      if (b.jt !== b.jf) {
        live.add(A);
        if ((b.jmp.code & 0x08) === Src.X) live.add(X);
      }
      const keep: CbpfInsn[] = [];
      for (let j = b.stmts.length - 1; j >= 0; j--) {
        const s = b.stmts[j]!;
        const d = defined(s);
        if (d !== undefined && !live.has(d)) {
          changed = true;
          continue;
        }
        stmtLiveness(s, live);
        keep.push(s);
      }
      b.stmts = keep.reverse();
    }
    return changed;
  }

  /**
   * libpcap's or_pullup and and_pullup: in a chain of tests sharing their
   * true exit (an "or" chain, linked by false edges; "and" chains are the
   * mirror image), a test of the value the chain starts with that comes
   * after tests of other values moves up next to the first, where the value
   * is still in A, so its load goes away. Done only where the moved and
   * skipped-over blocks see the same register values as before and every
   * chain block has one predecessor; true after one change.
   */
  pullup(top: Block): boolean {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const b = this.order[i]!;
      if (b === top || !b.jmp || b.raw) continue;
      if (this.pullChain(b, 'jf', 'jt') || this.pullChain(b, 'jt', 'jf')) return true;
    }
    return false;
  }

  private pullChain(b: Block, next: 'jt' | 'jf', same: 'jt' | 'jf'): boolean {
    const info = (x: Block): Info => this.info.get(x)!;
    const preds = info(b).preds;
    if (preds.length === 0 || preds.some((p) => p.raw)) return false;
    const val = info(preds[0]!).exit[A]!;
    if (preds.some((p) => info(p).exit[A] !== val)) return false;
    const exit = b[same];
    const inChain = (x: Block, first: boolean): boolean =>
      !!x.jmp && !x.raw && x[same] === exit && x.jt !== x.jf && (first || info(x).preds.length === 1);
    let prev: Block | undefined;
    let d = b;
    for (;;) {
      if (!inChain(d, d === b)) return false;
      if (info(d).exit[A] !== val) break;
      prev = d;
      d = d[next]!;
    }
    let samePrev = d;
    let s = d[next]!;
    for (;;) {
      if (!inChain(s, false)) return false;
      if (info(s).exit[A] === val) break;
      samePrev = s;
      s = s[next]!;
    }
    // The run of tests of the value starting at s moves as a whole (its later tests rely on A from the first).
    let last = s;
    while (inChain(last[next]!, false) && info(last[next]!).exit[A] === val) last = last[next]!;
    const after = last[next]!;
    const fits = (to: Block, from: Block[]): boolean =>
      [...info(to).liveIn].every((atom) => from.every((f) => info(f).exit[atom] === info(to).entry[atom]));
    // The run now follows the chain's head (or the predecessors), d follows the run, and what followed the run follows samePrev.
    if (!fits(s, prev ? [prev] : preds) || !fits(d, [last]) || !fits(after, [samePrev])) return false;
    samePrev[next] = after;
    last[next] = d;
    if (prev) prev[next] = s;
    else {
      for (const p of preds) {
        if (p.jt === b) p.jt = s;
        if (p.jf === b) p.jf = s;
      }
    }
    return true;
  }

  /** Merges identical blocks (same code, same successors); true if any merged. */
  intern(top: Block): boolean {
    const canon = new Map<string, Block>();
    const byId = new Map<number, Block>();
    const ids = new Map<Block, number>();
    let changed = false;
    for (let i = this.order.length - 1; i >= 0; i--) {
      const b = this.order[i]!;
      if (b === top) continue;
      if (b.jmp) {
        const jt = b.jt!;
        const jf = b.jf!;
        b.jt = this.resolve(jt, byId, ids);
        b.jf = this.resolve(jf, byId, ids);
        if (b.jt !== jt || b.jf !== jf) changed = true;
      }
      const key = b.jmp
        ? `${b.raw ? 'r' : ''}${b.stmts.map((s) => `${s.code},${s.jt},${s.jf},${s.k}`).join(';')}|${b.jmp.code},${b.jmp.k}|${ids.get(b.jt!)},${ids.get(b.jf!)}`
        : `ret${b.ret}`;
      const c = canon.get(key);
      if (c) ids.set(b, ids.get(c)!);
      else {
        canon.set(key, b);
        byId.set(ids.size, b);
        ids.set(b, ids.size);
      }
    }
    const rt = this.resolve(top.jt!, byId, ids);
    if (rt !== top.jt) {
      top.jt = rt;
      top.jf = rt;
      changed = true;
    }
    return changed;
  }

  private resolve(b: Block, byId: Map<number, Block>, ids: Map<Block, number>): Block {
    const id = ids.get(b);
    return id === undefined ? b : byId.get(id) ?? b;
  }
}

/** The atom a statement writes, if it only writes one and has no other effect. */
function defined(s: CbpfInsn): number | undefined {
  switch (s.code & 0x07) {
    case Class.LD: return A;
    case Class.LDX: return X;
    case Class.ST:
    case Class.STX: return M(s.k);
    case Class.ALU: return A;
    case Class.MISC: return (s.code & 0xf8) === 0 ? X : A;
    default: return undefined;
  }
}

/** Updates the live set across `s`, backwards. */
function stmtLiveness(s: CbpfInsn, live: Set<number>): void {
  const d = defined(s);
  if (d !== undefined) live.delete(d);
  switch (s.code & 0x07) {
    case Class.LD:
    case Class.LDX:
      if ((s.code & 0xe0) === Mode.IND) live.add(X);
      if ((s.code & 0xe0) === Mode.MEM) live.add(M(s.k));
      break;
    case Class.ST: live.add(A); break;
    case Class.STX: live.add(X); break;
    case Class.ALU:
      live.add(A);
      if ((s.code & 0x08) === Src.X && (s.code & 0xf0) !== AluOp.NEG) live.add(X);
      break;
    case Class.MISC:
      live.add((s.code & 0xf8) === 0 ? A : X);
      break;
  }
}
