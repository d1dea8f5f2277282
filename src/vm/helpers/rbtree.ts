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
import { dropObject, heapOwnerOf, setRbtreeDropper } from './alloc.js';

const RED = 0;
const BLACK = 1;

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
  right(n: number): number {
    return this.get(n + 8);
  }
  left(n: number): number {
    return this.get(n + 16);
  }
  setRight(n: number, v: number): void {
    this.set(n + 8, v);
  }
  setLeft(n: number, v: number): void {
    this.set(n + 16, v);
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
    else if (this.left(parent) === old) this.setLeft(parent, n);
    else this.setRight(parent, n);
  }

  private rotateLeft(x: number): void {
    const y = this.right(x);
    const p = this.parent(x);
    this.setRight(x, this.left(y));
    if (this.left(y)) this.setParent(this.left(y), x);
    this.setParent(y, p);
    this.replaceChild(x, y, p);
    this.setLeft(y, x);
    this.setParent(x, y);
  }

  private rotateRight(x: number): void {
    const y = this.left(x);
    const p = this.parent(x);
    this.setLeft(x, this.right(y));
    if (this.right(y)) this.setParent(this.right(y), x);
    this.setParent(y, p);
    this.replaceChild(x, y, p);
    this.setRight(y, x);
    this.setParent(x, y);
  }

  /** rb_link_node + rb_insert_color_cached. */
  insert(n: number, parent: number, asLeft: boolean, leftmost: boolean): void {
    this.set(n, parent | RED);
    this.setLeft(n, 0);
    this.setRight(n, 0);
    if (parent === 0) this.setTop(n);
    else if (asLeft) this.setLeft(parent, n);
    else this.setRight(parent, n);
    if (leftmost) this.setLeftmost(n);
    let z = n;
    while (this.color(this.parent(z)) === RED) {
      let p = this.parent(z);
      const g = this.parent(p);
      if (p === this.left(g)) {
        const u = this.right(g);
        if (this.color(u) === RED) {
          this.setColor(p, BLACK);
          this.setColor(u, BLACK);
          this.setColor(g, RED);
          z = g;
          continue;
        }
        if (z === this.right(p)) {
          this.rotateLeft(p);
          z = p;
          p = this.parent(z);
        }
        this.setColor(p, BLACK);
        this.setColor(g, RED);
        this.rotateRight(g);
      } else {
        const u = this.left(g);
        if (this.color(u) === RED) {
          this.setColor(p, BLACK);
          this.setColor(u, BLACK);
          this.setColor(g, RED);
          z = g;
          continue;
        }
        if (z === this.left(p)) {
          this.rotateRight(p);
          z = p;
          p = this.parent(z);
        }
        this.setColor(p, BLACK);
        this.setColor(g, RED);
        this.rotateLeft(g);
      }
    }
    this.setColor(this.top(), BLACK);
  }

  private next(n: number): number {
    if (this.right(n)) {
      let m = this.right(n);
      while (this.left(m)) m = this.left(m);
      return m;
    }
    let p = this.parent(n);
    let c = n;
    while (p && c === this.right(p)) {
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
    if (!this.left(z)) {
      x = this.right(z);
      xParent = this.parent(z);
      this.replaceChild(z, x, xParent);
      if (x) this.setParent(x, xParent);
    } else if (!this.right(z)) {
      x = this.left(z);
      xParent = this.parent(z);
      this.replaceChild(z, x, xParent);
      if (x) this.setParent(x, xParent);
    } else {
      y = this.right(z);
      while (this.left(y)) y = this.left(y);
      yColor = this.color(y);
      x = this.right(y);
      if (this.parent(y) === z) {
        xParent = y;
      } else {
        xParent = this.parent(y);
        this.setLeft(xParent, x);
        if (x) this.setParent(x, xParent);
        this.setRight(y, this.right(z));
        this.setParent(this.right(z), y);
      }
      const zp = this.parent(z);
      this.replaceChild(z, y, zp);
      this.set(y, zp | this.color(z));
      this.setLeft(y, this.left(z));
      this.setParent(this.left(z), y);
    }
    if (yColor === BLACK) this.eraseFixup(x, xParent);
    this.set(z, z);
    this.setLeft(z, 0);
    this.setRight(z, 0);
  }

  private eraseFixup(x0: number, parent0: number): void {
    let x = x0;
    let parent = parent0;
    while (x !== this.top() && this.color(x) === BLACK && parent) {
      if (x === this.left(parent)) {
        let w = this.right(parent);
        if (this.color(w) === RED) {
          this.setColor(w, BLACK);
          this.setColor(parent, RED);
          this.rotateLeft(parent);
          w = this.right(parent);
        }
        if (this.color(this.left(w)) === BLACK && this.color(this.right(w)) === BLACK) {
          this.setColor(w, RED);
          x = parent;
          parent = this.parent(x);
        } else {
          if (this.color(this.right(w)) === BLACK) {
            this.setColor(this.left(w), BLACK);
            this.setColor(w, RED);
            this.rotateRight(w);
            w = this.right(parent);
          }
          this.setColor(w, this.color(parent));
          this.setColor(parent, BLACK);
          if (this.right(w)) this.setColor(this.right(w), BLACK);
          this.rotateLeft(parent);
          x = this.top();
          parent = 0;
        }
      } else {
        let w = this.left(parent);
        if (this.color(w) === RED) {
          this.setColor(w, BLACK);
          this.setColor(parent, RED);
          this.rotateRight(parent);
          w = this.left(parent);
        }
        if (this.color(this.right(w)) === BLACK && this.color(this.left(w)) === BLACK) {
          this.setColor(w, RED);
          x = parent;
          parent = this.parent(x);
        } else {
          if (this.color(this.left(w)) === BLACK) {
            this.setColor(this.right(w), BLACK);
            this.setColor(w, RED);
            this.rotateLeft(w);
            w = this.left(parent);
          }
          this.setColor(w, this.color(parent));
          this.setColor(parent, BLACK);
          if (this.left(w)) this.setColor(this.left(w), BLACK);
          this.rotateRight(parent);
          x = this.top();
          parent = 0;
        }
      }
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
      cur = t.left(cur);
    } else {
      asLeft = false;
      leftmost = false;
      cur = t.right(cur);
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
  c.ret(right ? t.right(node) : t.left(node));
}

/** Drops every object of the tree at `root` (its node at `nodeOffset`): the object holding the root went away. */
function dropTree(c: HelperCall, root: number, nodeOffset: number): void {
  const t = new Tree(c, root);
  for (let n = t.leftmost(); n; n = t.leftmost()) {
    t.erase(n);
    t.setOwner(n, 0);
    dropObject(c, n - nodeOffset);
  }
}

setRbtreeDropper(dropTree);

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
