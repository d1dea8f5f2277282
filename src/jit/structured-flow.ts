/**
 * Unstructured jumps to structured WebAssembly control flow.
 *
 * Reducible graphs use the dominator-tree translation of Norman Ramsey,
 * "Beyond Relooper: recursive translation of unstructured control flow to
 * structured control flow" (ICFP 2022): a block `x` is emitted as
 *
 *     doTree x = loop? (nodeWithin x (merge children of x, latest first))
 *     nodeWithin x (y : ys) = block (nodeWithin x ys) ; doTree y
 *     nodeWithin x []       = code of x ; its branches
 *
 * where a branch to a loop header is `br` to its `loop` (continue), a branch
 * to a merge node (two or more forward in-edges) is `br` to the end of the
 * `block` it follows (exit), and a branch to any other block is that block's
 * tree, inlined. Bounded loops thus become real WebAssembly loops.
 *
 * Irreducible graphs fall back to a dispatch loop: `loop` + `br_table` over
 * the blocks, with the next block in a local.
 *
 * The translation runs on an explicit work stack, so a long chain of
 * branches cannot exhaust the JavaScript stack.
 */
import type { BasicBlock, FunctionGraph } from './control-flow.js';
import type { Code } from './wasm/code.js';

/** What the instruction emitter provides to the translation. */
export interface BlockEmitter {
  readonly code: Code;
  /** Emits the straight-line code of `b`, up to (not including) its terminator's control transfer. */
  body(b: BasicBlock): void;
  /** For a conditional terminator: pushes an i32 that is non-zero when the jump is taken. */
  cond(b: BasicBlock): void;
  /** Whether the fall edge of `b`'s conditional needs code of its own (`may_goto` counts down there). */
  hasFallEdge(b: BasicBlock): boolean;
  /** Emits the code of the fall edge (see {@link hasFallEdge}). */
  fallEdge(b: BasicBlock): void;
  /** For a conditional whose two targets are the same block: emits what the terminator does besides jumping. */
  sameTarget(b: BasicBlock): void;
  /** Emits the function's return for an `exit`. */
  exit(b: BasicBlock): void;
  /** A fresh i32 local for the dispatch loop's next-block index. */
  nextLocal(): number;
}

/** An enclosing construct, innermost first. */
interface Frame {
  kind: 'if' | 'loop' | 'block';
  /** The block a `br` to this frame reaches (-1 for `if`). */
  label: number;
  next: Frame | null;
}

/** Statistics of one translation, reported by `compileProgram`. */
export interface StructureStats {
  /** Whether the dispatch loop was used. */
  dispatch: boolean;
  blocks: number;
  loops: number;
}

/** Emits the control flow of `g` through `e`. */
export function emitStructured(g: FunctionGraph, e: BlockEmitter): StructureStats {
  if (!g.reducible) return emitDispatch(g, e);
  const code = e.code;
  const blocks = g.blocks;
  const work: (() => void)[] = [];
  let loops = 0;

  const depthOf = (ctx: Frame | null, kind: 'loop' | 'block', label: number): number => {
    let d = 0;
    for (let f = ctx; f !== null; f = f.next, d++) if (f.kind === kind && f.label === label) return d;
    throw new Error(`internal error: no enclosing ${kind} for block ${label}`);
  };

  /** How a branch from `src` to `dst` is made: a `br` depth, or -1 to inline `dst`. */
  const branchDepth = (src: number, dst: number, ctx: Frame | null): number => {
    if (g.rpoIndex[dst]! <= g.rpoIndex[src]!) return depthOf(ctx, 'loop', dst);
    if (g.mergeNodes[dst]) return depthOf(ctx, 'block', dst);
    return -1;
  };

  /** Pushes the tasks of a branch from `src` to `dst` (in tail position). */
  const doBranch = (src: number, dst: number, ctx: Frame | null): void => {
    const d = branchDepth(src, dst, ctx);
    if (d >= 0) code.br(d);
    else work.push(() => doTree(dst, ctx));
  };

  const terminator = (x: number, ctx: Frame | null): void => {
    const b = blocks[x]!;
    const t = b.term;
    code.pc = t.pc;
    if (t.kind === 'exit') {
      e.exit(b);
      return;
    }
    if (t.kind === 'goto') {
      doBranch(x, t.target, ctx);
      return;
    }
    if (t.taken === t.fall) {
      e.sameTarget(b);
      doBranch(x, t.taken, ctx);
      return;
    }
    const dt = branchDepth(x, t.taken, ctx);
    const df = branchDepth(x, t.fall, ctx);
    const edge = e.hasFallEdge(b);
    if (dt >= 0) {
      e.cond(b);
      code.brIf(dt);
      if (edge) e.fallEdge(b);
      if (df >= 0) code.br(df);
      else work.push(() => doTree(t.fall, ctx));
      return;
    }
    if (df >= 0 && !edge) {
      e.cond(b);
      code.op('i32.eqz');
      code.brIf(df);
      work.push(() => doTree(t.taken, ctx));
      return;
    }
    // Both sides need code of their own: if/else.
    const inner: Frame = { kind: 'if', label: -1, next: ctx };
    e.cond(b);
    code.if();
    // Tasks run last-pushed first: then-branch, else, fall branch, end.
    work.push(() => code.end());
    work.push(() => {
      if (edge) e.fallEdge(b);
      const d = branchDepth(x, t.fall, inner);
      if (d >= 0) code.br(d);
      else work.push(() => doTree(t.fall, inner));
    });
    work.push(() => code.else());
    work.push(() => {
      const d = branchDepth(x, t.taken, inner);
      if (d >= 0) code.br(d);
      else work.push(() => doTree(t.taken, inner));
    });
  };

  const nodeWithin = (x: number, merges: readonly number[], i: number, ctx: Frame | null): void => {
    if (i === merges.length) {
      e.body(blocks[x]!);
      terminator(x, ctx);
      return;
    }
    const y = merges[i]!;
    code.pc = -1;
    code.block();
    work.push(() => doTree(y, ctx));
    work.push(() => { code.pc = -1; code.end(); });
    work.push(() => nodeWithin(x, merges, i + 1, { kind: 'block', label: y, next: ctx }));
  };

  const doTree = (x: number, ctx: Frame | null): void => {
    // Merge children, the one latest in reverse postorder first (outermost).
    const merges = g.children[x]!.filter((c) => g.mergeNodes[c]).sort((a, b) => g.rpoIndex[b]! - g.rpoIndex[a]!);
    if (g.loopHeaders[x]) {
      loops++;
      code.pc = -1;
      code.loop();
      work.push(() => { code.pc = -1; code.end(); });
      work.push(() => nodeWithin(x, merges, 0, { kind: 'loop', label: x, next: ctx }));
    } else {
      nodeWithin(x, merges, 0, ctx);
    }
  };

  work.push(() => doTree(0, null));
  while (work.length > 0) work.pop()!();
  code.pc = -1;
  code.op('unreachable');
  return { dispatch: false, blocks: g.rpo.length, loops };
}

/**
 * The fallback for irreducible graphs:
 *
 *     loop $dispatch
 *       block $bN-1 ... block $b0
 *         local.get $next  br_table $b0 .. $bN-1
 *       end  code of block 0 (sets $next, br $dispatch)
 *       ...
 *     end
 *
 * Falling off the code of block i enters block i+1, so fall-through edges
 * need no dispatch.
 */
function emitDispatch(g: FunctionGraph, e: BlockEmitter): StructureStats {
  const code = e.code;
  const order = [...g.rpo].sort((a, b) => g.blocks[a]!.start - g.blocks[b]!.start);
  const n = order.length;
  const pos = new Int32Array(g.blocks.length).fill(-1);
  order.forEach((id, i) => { pos[id] = i; });
  const next = e.nextLocal();
  code.pc = -1;
  code.i32(pos[0]!);
  code.localSet(next);
  code.loop();
  for (let i = 0; i < n; i++) code.block();
  code.localGet(next);
  code.brTable(order.map((_, i) => i), n - 1);
  for (let i = 0; i < n; i++) {
    code.pc = -1;
    code.end();
    const b = g.blocks[order[i]!]!;
    // Inside block $b(i+1) .. $b(n-1), then the loop.
    const loopDepth = n - 1 - i;
    /** Jumps to `target`; returns false when it simply falls into the next block's code. */
    const jump = (target: number, extra: number): boolean => {
      if (pos[target] === i + 1 && extra === 0) return false;
      code.i32(pos[target]!);
      code.localSet(next);
      code.br(loopDepth + extra);
      return true;
    };
    e.body(b);
    const t = b.term;
    code.pc = t.pc;
    let jumped = true;
    if (t.kind === 'exit') {
      e.exit(b);
    } else if (t.kind === 'goto') {
      jumped = jump(t.target, 0);
    } else if (t.taken === t.fall) {
      e.sameTarget(b);
      jumped = jump(t.taken, 0);
    } else {
      e.cond(b);
      code.if();
      jump(t.taken, 1);
      code.else();
      if (e.hasFallEdge(b)) e.fallEdge(b);
      if (pos[t.fall] === i + 1) jumped = false;
      else jump(t.fall, 1);
      code.end();
    }
    // After a transfer the rest of this block's wasm code is unreachable; say so for validation.
    if (jumped) code.op('unreachable');
  }
  code.end();
  code.op('unreachable');
  return { dispatch: true, blocks: n, loops: 0 };
}

