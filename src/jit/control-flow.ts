/**
 * Control-flow graphs of BPF functions: basic blocks, reverse postorder,
 * dominators (Cooper, Harvey and Kennedy, "A Simple, Fast Dominance
 * Algorithm"), loop headers, merge nodes and the reducibility test that
 * picks between the structured translation and the dispatch loop.
 */
import type { Instruction } from '../isa/instruction.js';
import { branchTarget } from '../isa/instruction.js';

/** How a basic block ends. */
export type Terminator =
  /** `exit`. */
  | { kind: 'exit'; pc: number }
  /** Unconditional transfer (`ja`, `gotol` or falling into the next block); `pc` is -1 for a fall. */
  | { kind: 'goto'; pc: number; target: number }
  /** Conditional jump (`jmp`) or `may_goto` at `pc`: `taken` when the condition holds, else `fall`. */
  | { kind: 'cond'; pc: number; taken: number; fall: number };

/** A basic block: slots `[start, end)`, the terminator's instruction included. */
export interface BasicBlock {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  term: Terminator;
  /** Successor block ids (taken first for conditionals). */
  readonly succs: number[];
  /** Predecessor block ids (one entry per edge). */
  readonly preds: number[];
}

/** The graph of one function plus its dominance facts. */
export interface FunctionGraph {
  /** Entry slot. */
  readonly entry: number;
  /** Blocks in address order; block 0 is the entry. */
  readonly blocks: BasicBlock[];
  /** Reachable block ids in reverse postorder (entry first). */
  readonly rpo: number[];
  /** Position of each block in `rpo` (-1 when unreachable). */
  readonly rpoIndex: Int32Array;
  /** Immediate dominator of each reachable block (the entry's is itself; -1 when unreachable). */
  readonly idom: Int32Array;
  /** Dominator-tree children, in reverse postorder. */
  readonly children: number[][];
  /** Whether every retreating edge goes to a block that dominates its source. */
  readonly reducible: boolean;
  /** Blocks that are targets of back edges. */
  readonly loopHeaders: Uint8Array;
  /** Blocks with two or more forward in-edges. */
  readonly mergeNodes: Uint8Array;
}

/**
 * Blocks inside a loop: the natural loops of the back edges of a reducible
 * graph (the header plus what reaches the edge's source without passing
 * the header); every reachable block of an irreducible one.
 */
export function loopBlocks(g: FunctionGraph): Uint8Array {
  const inLoop = new Uint8Array(g.blocks.length);
  if (!g.reducible) {
    for (const id of g.rpo) inLoop[id] = 1;
    return inLoop;
  }
  for (const id of g.rpo) {
    for (const h of g.blocks[id]!.succs) {
      if (g.rpoIndex[h]! > g.rpoIndex[id]!) continue;
      inLoop[h] = 1;
      const seen = new Uint8Array(g.blocks.length);
      seen[h] = 1;
      const work = [id];
      while (work.length > 0) {
        const x = work.pop()!;
        if (seen[x]) continue;
        seen[x] = 1;
        inLoop[x] = 1;
        for (const p of g.blocks[x]!.preds) if (!seen[p] && g.rpoIndex[p] !== -1) work.push(p);
      }
    }
  }
  return inLoop;
}

/** Whether `insn` ends a basic block. */
function endsBlock(insn: Instruction): boolean {
  return insn.kind === 'jmp' || insn.kind === 'ja' || insn.kind === 'gotol' || insn.kind === 'may_goto' || insn.kind === 'exit';
}

/** Builds the graph of the function whose slots are `[entry, end)`. */
export function buildGraph(bySlot: readonly (Instruction | undefined)[], entry: number, end: number): FunctionGraph {
  const leader = new Uint8Array(end - entry + 1);
  leader[0] = 1;
  for (let pc = entry; pc < end; pc++) {
    const insn = bySlot[pc];
    if (insn === undefined || !endsBlock(insn)) continue;
    const next = pc + 1;
    if (next < end) leader[next - entry] = 1;
    if (insn.kind !== 'exit') {
      const t = branchTarget(insn, pc)!;
      leader[t - entry] = 1;
    }
  }
  const blockAt = new Int32Array(end - entry).fill(-1);
  const starts: number[] = [];
  for (let pc = entry; pc < end; pc++) {
    if (leader[pc - entry] && bySlot[pc] !== undefined) {
      blockAt[pc - entry] = starts.length;
      starts.push(pc);
    }
  }
  const blocks: BasicBlock[] = starts.map((start, id) => {
    const stop = id + 1 < starts.length ? starts[id + 1]! : end;
    return { id, start, end: stop, term: { kind: 'exit', pc: -1 }, succs: [], preds: [] };
  });
  const idOf = (slot: number) => blockAt[slot - entry]!;
  for (const b of blocks) {
    let last = b.end - 1;
    if (bySlot[last] === undefined) last -= 1;
    const insn = bySlot[last]!;
    if (insn.kind === 'exit') {
      b.term = { kind: 'exit', pc: last };
    } else if (insn.kind === 'ja' || insn.kind === 'gotol') {
      b.term = { kind: 'goto', pc: last, target: idOf(branchTarget(insn, last)!) };
    } else if (insn.kind === 'jmp' || insn.kind === 'may_goto') {
      b.term = { kind: 'cond', pc: last, taken: idOf(branchTarget(insn, last)!), fall: idOf(b.end) };
    } else {
      // Falls into the next block (structure checks guarantee one exists).
      b.term = { kind: 'goto', pc: -1, target: idOf(b.end) };
    }
    const t = b.term;
    if (t.kind === 'goto') b.succs.push(t.target);
    else if (t.kind === 'cond') {
      b.succs.push(t.taken);
      if (t.fall !== t.taken) b.succs.push(t.fall);
    }
  }
  for (const b of blocks) for (const s of b.succs) blocks[s]!.preds.push(b.id);
  return analyse(entry, blocks);
}

function analyse(entry: number, blocks: BasicBlock[]): FunctionGraph {
  const n = blocks.length;
  // Reverse postorder by an iterative depth-first search.
  const visited = new Uint8Array(n);
  const post: number[] = [];
  const stack: { id: number; next: number }[] = [{ id: 0, next: 0 }];
  visited[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const succs = blocks[top.id]!.succs;
    if (top.next < succs.length) {
      const s = succs[top.next++]!;
      if (!visited[s]) {
        visited[s] = 1;
        stack.push({ id: s, next: 0 });
      }
    } else {
      post.push(top.id);
      stack.pop();
    }
  }
  const rpo = post.reverse();
  const rpoIndex = new Int32Array(n).fill(-1);
  rpo.forEach((id, i) => { rpoIndex[id] = i; });

  // Dominators (Cooper-Harvey-Kennedy) over reverse postorder.
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    let x = a;
    let y = b;
    while (x !== y) {
      while (rpoIndex[x]! > rpoIndex[y]!) x = idom[x]!;
      while (rpoIndex[y]! > rpoIndex[x]!) y = idom[y]!;
    }
    return x;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 1; i < rpo.length; i++) {
      const b = rpo[i]!;
      let nd = -1;
      for (const p of blocks[b]!.preds) {
        if (idom[p] === -1 || rpoIndex[p] === -1) continue;
        nd = nd === -1 ? p : intersect(p, nd);
      }
      if (nd !== idom[b]) {
        idom[b] = nd;
        changed = true;
      }
    }
  }
  const dominates = (a: number, b: number): boolean => {
    let x = b;
    for (;;) {
      if (x === a) return true;
      const up = idom[x]!;
      if (up === x || up === -1) return false;
      x = up;
    }
  };

  const children: number[][] = blocks.map(() => []);
  for (const id of rpo) if (id !== 0) children[idom[id]!]!.push(id);

  const loopHeaders = new Uint8Array(n);
  const mergeNodes = new Uint8Array(n);
  let reducible = true;
  for (const id of rpo) {
    let forward = 0;
    for (const p of blocks[id]!.preds) {
      if (rpoIndex[p] === -1) continue;
      if (rpoIndex[p]! >= rpoIndex[id]!) {
        // A retreating edge: a back edge only when the target dominates the source.
        if (dominates(id, p)) loopHeaders[id] = 1;
        else reducible = false;
      } else {
        forward++;
      }
    }
    if (forward >= 2) mergeNodes[id] = 1;
  }
  return { entry, blocks, rpo, rpoIndex, idom, children, reducible, loopHeaders, mergeNodes };
}
