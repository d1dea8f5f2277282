/**
 * The rbtree kfuncs at run time: a red-black tree of the program's
 * objects, kept in the program's memory as the kernel keeps it, so that
 * `bpf_rbtree_root`, `_left` and `_right` see the shape the kernel's tree
 * has. A root (`struct bpf_rb_root`, 16 bytes) is the root node and the
 * leftmost one; a node (`struct bpf_rb_node`, 32 bytes) is its parent with
 * the colour in bit 0 (black = 1), its right and left children, and the
 * root that owns it. Insertion descends with the program's `less(node,
 * parent)` callback and rebalances as the classic algorithm (and Linux's
 * lib/rbtree.c) does; removal replaces a node with two children by its
 * successor.
 */
import type { Helper, HelperCall } from '../helper-call.js';
import { dropObject, heapOwnerOf } from './alloc.js';

const RED = 0;
const BLACK = 1;

/** A child's place in a node: the byte offset of `rb_right` or `rb_left`. */
type Side = 8 | 16;
const RIGHT: Side = 8;
const LEFT: Side = 16;
const other = (side: Side): Side => (side === LEFT ? RIGHT : LEFT);

class Tree {
  constructor(readonly c: HelperCall, readonly root: number) {}

  private get(addr: number): number {
    return Number(this.c.space.data.getBigUint64(addr, true));
  }
  private set(addr: number, v: number): void {
    this.c.space.data.setBigUint64(addr, BigInt(v), true);
  }

  parent(n: number): number {
    return this.get(n) & ~1;
  }
  color(n: number): number {
    return n === 0 ? BLACK : this.get(n) & 1;
  }
  setParent(n: number, p: number): void {
    this.set(n, p | this.color(n));
  }
  setColor(n: number, color: number): void {
    this.set(n, this.parent(n) | color);
  }
  child(n: number, side: Side): number {
    return this.get(n + side);
  }
  setChild(n: number, side: Side, v: number): void {
    this.set(n + side, v);
  }
  /** The side of `parent` that `n` hangs on (the left one for an empty child of a node with no left child). */
  sideOf(n: number, parent: number): Side {
    return this.child(parent, LEFT) === n ? LEFT : RIGHT;
  }
  owner(n: number): number {
    return this.get(n + 24);
  }
  setOwner(n: number, v: number): void {
    this.set(n + 24, v);
  }
  top(): number {
    return this.get(this.root);
  }
  setTop(n: number): void {
    this.set(this.root, n);
  }
  leftmost(): number {
    return this.get(this.root + 8);
  }
  setLeftmost(n: number): void {
    this.set(this.root + 8, n);
  }

  /** Puts `n` where `old` was under `old`'s parent. */
  private replaceChild(old: number, n: number, parent: number): void {
    if (parent === 0) this.setTop(n);
    else this.setChild(parent, this.sideOf(old, parent), n);
  }

  /** Rotates `x` down to `side`: its child on the other side takes its place. */
  private rotate(x: number, side: Side): void {
    const o = other(side);
    const y = this.child(x, o);
    const p = this.parent(x);
    const inner = this.child(y, side);
    this.setChild(x, o, inner);
    if (inner) this.setParent(inner, x);
    this.setParent(y, p);
    this.replaceChild(x, y, p);
    this.setChild(y, side, x);
    this.setParent(x, y);
  }

  /** rb_link_node + rb_insert_color_cached. */
  insert(n: number, parent: number, asLeft: boolean, leftmost: boolean): void {
    this.set(n, parent | RED);
    this.setChild(n, LEFT, 0);
    this.setChild(n, RIGHT, 0);
    if (parent === 0) this.setTop(n);
    else this.setChild(parent, asLeft ? LEFT : RIGHT, n);
    if (leftmost) this.setLeftmost(n);
    let z = n;
    while (this.color(this.parent(z)) === RED) {
      let p = this.parent(z);
      const g = this.parent(p);
      const side = this.sideOf(p, g);
      const o = other(side);
      const u = this.child(g, o);
      if (this.color(u) === RED) {
        this.setColor(p, BLACK);
        this.setColor(u, BLACK);
        this.setColor(g, RED);
        z = g;
        continue;
      }
      if (z === this.child(p, o)) {
        this.rotate(p, side);
        z = p;
        p = this.parent(z);
      }
      this.setColor(p, BLACK);
      this.setColor(g, RED);
      this.rotate(g, o);
    }
    this.setColor(this.top(), BLACK);
  }

  private next(n: number): number {
    if (this.child(n, RIGHT)) {
      let m = this.child(n, RIGHT);
      while (this.child(m, LEFT)) m = this.child(m, LEFT);
      return m;
    }
    let p = this.parent(n);
    let c = n;
    while (p && c === this.child(p, RIGHT)) {
      c = p;
      p = this.parent(p);
    }
    return p;
  }

  /** rb_erase_cached, then RB_CLEAR_NODE. */
  erase(z: number): void {
    if (this.leftmost() === z) this.setLeftmost(this.next(z));
    let y = z;
    let yColor = this.color(y);
    let x: number;
    let xParent: number;
    if (!this.child(z, LEFT) || !this.child(z, RIGHT)) {
      // at most one child: it takes z's place
      x = this.child(z, LEFT) || this.child(z, RIGHT);
      xParent = this.parent(z);
      this.replaceChild(z, x, xParent);
      if (x) this.setParent(x, xParent);
    } else {
      // two: the successor takes z's place
      y = this.child(z, RIGHT);
      while (this.child(y, LEFT)) y = this.child(y, LEFT);
      yColor = this.color(y);
      x = this.child(y, RIGHT);
      if (this.parent(y) === z) {
        xParent = y;
      } else {
        xParent = this.parent(y);
        this.setChild(xParent, LEFT, x);
        if (x) this.setParent(x, xParent);
        this.setChild(y, RIGHT, this.child(z, RIGHT));
        this.setParent(this.child(z, RIGHT), y);
      }
      const zp = this.parent(z);
      this.replaceChild(z, y, zp);
      this.set(y, zp | this.color(z));
      this.setChild(y, LEFT, this.child(z, LEFT));
      this.setParent(this.child(z, LEFT), y);
    }
    if (yColor === BLACK) this.eraseFixup(x, xParent);
    this.set(z, z);
    this.setChild(z, LEFT, 0);
    this.setChild(z, RIGHT, 0);
  }

  private eraseFixup(x0: number, parent0: number): void {
    let x = x0;
    let parent = parent0;
    while (x !== this.top() && this.color(x) === BLACK && parent) {
      const side = this.sideOf(x, parent);
      const o = other(side);
      let w = this.child(parent, o);
      if (this.color(w) === RED) {
        this.setColor(w, BLACK);
        this.setColor(parent, RED);
        this.rotate(parent, side);
        w = this.child(parent, o);
      }
      if (this.color(this.child(w, side)) === BLACK && this.color(this.child(w, o)) === BLACK) {
        this.setColor(w, RED);
        x = parent;
        parent = this.parent(x);
        continue;
      }
      if (this.color(this.child(w, o)) === BLACK) {
        this.setColor(this.child(w, side), BLACK);
        this.setColor(w, RED);
        this.rotate(w, o);
        w = this.child(parent, o);
      }
      this.setColor(w, this.color(parent));
      this.setColor(parent, BLACK);
      if (this.child(w, o)) this.setColor(this.child(w, o), BLACK);
      this.rotate(parent, side);
      x = this.top();
      parent = 0;
    }
    if (x) this.setColor(x, BLACK);
  }
}

/** `bpf_rbtree_add_impl(root, node, less, meta, off)`. */
function rbtreeAdd(c: HelperCall): void {
  const root = c.num(1);
  const node = c.num(2);
  const less = c.u64(3);
  const t = new Tree(c, root);
  // a node some tree already owns: refused, and the reference dropped
  if (t.owner(node) !== 0) {
    const obj = heapOwnerOf(c, node);
    if (obj) dropObject(c, obj);
    return c.ret(-22);
  }
  let parent = 0;
  let cur = t.top();
  let asLeft = false;
  let leftmost = true;
  while (cur) {
    parent = cur;
    if (c.invoke(less, [BigInt(node), BigInt(cur)]) & 1n) {
      asLeft = true;
      cur = t.child(cur, LEFT);
    } else {
      asLeft = false;
      leftmost = false;
      cur = t.child(cur, RIGHT);
    }
  }
  t.insert(node, parent, asLeft, leftmost);
  t.setOwner(node, root);
  c.ret(0);
}

/** `bpf_rbtree_remove(root, node)`: the node, no longer in the tree, or NULL when the root does not own it. */
function rbtreeRemove(c: HelperCall): void {
  const root = c.num(1);
  const node = c.num(2);
  const t = new Tree(c, root);
  if (t.owner(node) !== root) return c.ret(0);
  t.erase(node);
  t.setOwner(node, 0);
  c.ret(node);
}

function rbtreeChild(c: HelperCall, right: boolean): void {
  const root = c.num(1);
  const node = c.num(2);
  const t = new Tree(c, root);
  if (t.owner(node) !== root) return c.ret(0);
  c.ret(t.child(node, right ? RIGHT : LEFT));
}

/** Drops every object of the tree at `root` (its node at `nodeOffset`): the object holding the root went away. */
export function dropTree(c: HelperCall, root: number, nodeOffset: number): void {
  const t = new Tree(c, root);
  for (let n = t.leftmost(); n; n = t.leftmost()) {
    t.erase(n);
    t.setOwner(n, 0);
    dropObject(c, n - nodeOffset);
  }
}

/** The rbtree kfuncs user space runs. */
export function rbtreeKfuncs(id: (name: string) => { id: number; name: string }): Helper[] {
  return [
    { ...id('bpf_rbtree_add_impl'), fn: rbtreeAdd },
    { ...id('bpf_rbtree_remove'), fn: rbtreeRemove },
    { ...id('bpf_rbtree_first'), fn: (c) => c.ret(new Tree(c, c.num(1)).leftmost()) },
    { ...id('bpf_rbtree_root'), fn: (c) => c.ret(new Tree(c, c.num(1)).top()) },
    { ...id('bpf_rbtree_left'), fn: (c) => rbtreeChild(c, false) },
    { ...id('bpf_rbtree_right'), fn: (c) => rbtreeChild(c, true) },
  ];
}
