/**
 * The program's own objects at run time: `bpf_obj_new` hands out zeroed
 * memory of a struct of the program's BTF from a heap in the address space,
 * `bpf_obj_drop` gives it back (after dropping what its lists, rbtrees and
 * kptrs own, and only when its last reference goes), `bpf_refcount_acquire`
 * counts a reference, `bpf_kptr_xchg` swaps a pointer in a map value, and
 * the list kfuncs link objects through their `bpf_list_node` as
 * kernel/bpf/helpers.c does (a node knows the head that owns it). Which
 * struct a type id names comes from the program (`PreparedProgram.localType`).
 *
 * The heap is one region the programs read and write, split between the
 * CPUs (a worker allocates from its own part, so threads never hand out the
 * same bytes); which granule starts an object of which type is kept apart,
 * in memory programs cannot reach, so a drop finds the object a node
 * belongs to. Allocation fails (NULL) when a CPU's part is full, as the
 * kernel's may.
 */
import type { Helper, HelperCall } from '../helper-call.js';
import { helperIdentity } from '../helper-call.js';
import type { AddressSpace, Region } from '../memory.js';
import { VmError } from '../../errors.js';
import { dropTree } from './rbtree.js';

/** A graph root (list head or rbtree root) inside an object: what it holds. */
export interface LocalGraphRoot {
  offset: number;
  kind: 'list' | 'rbtree';
  /** The type id of the objects it holds and where their node is. */
  valueTypeId: number;
  nodeOffset: number;
}

/** A struct of the program's BTF as `bpf_obj_new` allocates it. */
export interface LocalType {
  name: string;
  size: number;
  /** Offset of its `bpf_refcount`, or -1. */
  refcountOff: number;
  roots: readonly LocalGraphRoot[];
  /** Offsets of kptrs to the program's own objects. */
  kptrs: readonly number[];
}

const GRANULE = 8;
/** The heap's size (all CPUs together). */
export const HEAP_SIZE = 1 << 20;

/** The objects of one address space. */
export class ObjectHeap {
  /** Per CPU: the next unused byte of its part, and freed blocks by size. */
  private readonly next: number[] = [];
  private readonly freed: Map<number, number[]>[] = [];
  private readonly part: number;

  constructor(
    readonly space: AddressSpace,
    /** The objects' memory. */
    readonly data: Region,
    /** One u32 per granule of `data`: the type id of the object starting there, or 0. */
    readonly starts: Region,
    readonly cpus: number,
  ) {
    this.part = Math.floor(data.size / cpus / GRANULE) * GRANULE;
  }

  private state(cpu: number): { next: number; freed: Map<number, number[]> } {
    if (this.next[cpu] === undefined) {
      this.next[cpu] = this.data.start + cpu * this.part;
      this.freed[cpu] = new Map();
    }
    return { next: this.next[cpu]!, freed: this.freed[cpu]! };
  }

  /** A zeroed object of `type` (id `typeId`) for CPU `cpu`, or 0. */
  alloc(cpu: number, typeId: number, type: LocalType): number {
    const size = Math.max(GRANULE, Math.ceil(type.size / GRANULE) * GRANULE);
    const st = this.state(cpu % this.cpus);
    let addr = st.freed.get(size)?.pop() ?? 0;
    if (!addr) {
      const end = this.data.start + ((cpu % this.cpus) + 1) * this.part;
      if (st.next + size > end) return 0;
      addr = st.next;
      this.next[cpu % this.cpus] = st.next + size;
    }
    this.space.bytes.fill(0, addr, addr + size);
    this.space.data.setUint32(this.startSlot(addr), typeId, true);
    return addr;
  }

  /** Gives back an object (its start) for CPU `cpu` to reuse. */
  free(cpu: number, addr: number, type: LocalType): void {
    const size = Math.max(GRANULE, Math.ceil(type.size / GRANULE) * GRANULE);
    this.space.data.setUint32(this.startSlot(addr), 0, true);
    const st = this.state(cpu % this.cpus);
    let list = st.freed.get(size);
    if (!list) st.freed.set(size, (list = []));
    list.push(addr);
  }

  /** Whether `addr` is inside the heap. */
  holds(addr: number): boolean {
    return addr >= this.data.start && addr < this.data.start + this.data.size;
  }

  /** The object `addr` points into (its start and type id), or null. */
  objectAt(addr: number): { start: number; typeId: number } | null {
    if (!this.holds(addr)) return null;
    for (let a = addr - ((addr - this.data.start) % GRANULE); a >= this.data.start; a -= GRANULE) {
      const typeId = this.space.data.getUint32(this.startSlot(a), true);
      if (typeId) return { start: a, typeId };
    }
    return null;
  }

  private startSlot(addr: number): number {
    return this.starts.start + ((addr - this.data.start) / GRANULE) * 4;
  }
}

const HEAPS = new WeakMap<AddressSpace, ObjectHeap>();

/**
 * The heap of `space`, made on first use (a collection makes it when it
 * loads a program that calls `bpf_obj_new`, so every thread attached to
 * the space finds it at the same place).
 */
export function objectHeap(space: AddressSpace, cpus: number): ObjectHeap {
  let heap = HEAPS.get(space);
  if (!heap) {
    const data = space.allocate('bpf_obj_new heap', 'internal', HEAP_SIZE, { readable: true, writable: true, align: 8 });
    const starts = space.allocate('bpf_obj_new heap starts', 'internal', (HEAP_SIZE / GRANULE) * 4, { readable: false, writable: false });
    heap = new ObjectHeap(space, data, starts, Math.max(1, cpus));
    HEAPS.set(space, heap);
  }
  return heap;
}

function heapOf(c: HelperCall): ObjectHeap {
  const heap = HEAPS.get(c.space);
  if (!heap) throw new VmError(`${c.helper}: the program's objects have no heap (the program was not loaded by a collection)`, { insn: c.pc });
  return heap;
}

function typeOf(c: HelperCall, typeId: number): LocalType {
  const t = c.program?.localType?.(typeId);
  if (!t) throw new VmError(`${c.helper}: type id ${typeId} names no struct of the program's BTF`, { insn: c.pc });
  return t;
}

const u64 = (c: HelperCall, addr: number): number => Number(c.space.data.getBigUint64(addr, true));
const setU64 = (c: HelperCall, addr: number, v: number): void => c.space.data.setBigUint64(addr, BigInt(v), true);

/** `bpf_obj_new_impl(local_type_id, meta)`. */
function objNew(c: HelperCall): void {
  const typeId = c.num(1);
  const type = typeOf(c, typeId);
  const addr = heapOf(c).alloc(c.cpu, typeId, type);
  // bpf_obj_init: a refcounted object starts with one reference
  if (addr && type.refcountOff >= 0) c.space.data.setUint32(addr + type.refcountOff, 1, true);
  c.ret(addr);
}

/**
 * __bpf_obj_drop_impl: one reference less; the last one frees the object
 * after what it owns (bpf_obj_free_fields).
 */
function dropObject(c: HelperCall, addr: number): void {
  const heap = heapOf(c);
  const obj = heap.objectAt(addr);
  if (!obj || obj.start !== addr) throw new VmError(`${c.helper}: 0x${addr.toString(16)} is no object of bpf_obj_new`, { insn: c.pc });
  const type = typeOf(c, obj.typeId);
  if (type.refcountOff >= 0) {
    const at = addr + type.refcountOff;
    const n = c.space.data.getUint32(at, true);
    if (n > 1) {
      c.space.data.setUint32(at, n - 1, true);
      return;
    }
  }
  for (const root of type.roots) {
    if (root.kind === 'list') {
      const head = addr + root.offset;
      for (let n = listFirst(c, head); n; n = listFirst(c, head)) {
        listUnlink(c, n);
        dropObject(c, n - root.nodeOffset);
      }
    } else {
      dropTree(c, addr + root.offset, root.nodeOffset);
    }
  }
  for (const off of type.kptrs) {
    const p = u64(c, addr + off);
    if (p && heap.holds(p)) dropObject(c, p);
  }
  heap.free(c.cpu, addr, type);
}

/** `bpf_obj_drop_impl(p, meta)`. */
function objDrop(c: HelperCall): void {
  dropObject(c, c.num(1));
  c.ret(0);
}

/** `bpf_refcount_acquire_impl(p, meta)`: refcount_inc_not_zero. */
function refcountAcquire(c: HelperCall): void {
  const addr = c.num(1);
  const obj = heapOf(c).objectAt(addr);
  const type = obj ? typeOf(c, obj.typeId) : null;
  if (!obj || !type || type.refcountOff < 0) throw new VmError(`${c.helper}: 0x${addr.toString(16)} is no refcounted object`, { insn: c.pc });
  const at = obj.start + type.refcountOff;
  const n = c.space.data.getUint32(at, true);
  if (n === 0) return c.ret(0);
  c.space.data.setUint32(at, n + 1, true);
  c.ret(addr);
}

// struct bpf_list_head { next, prev } (zero: never used, empty); struct bpf_list_node_kern { next, prev, owner }

function listInit(c: HelperCall, head: number): void {
  if (u64(c, head) === 0) {
    setU64(c, head, head);
    setU64(c, head + 8, head);
  }
}

function listFirst(c: HelperCall, head: number): number {
  const n = u64(c, head);
  return n === 0 || n === head ? 0 : n;
}

function listLast(c: HelperCall, head: number): number {
  const n = u64(c, head + 8);
  return n === 0 || n === head ? 0 : n;
}

function listUnlink(c: HelperCall, node: number): void {
  const next = u64(c, node);
  const prev = u64(c, node + 8);
  setU64(c, prev, next);
  setU64(c, next + 8, prev);
  setU64(c, node, 0);
  setU64(c, node + 8, 0);
  setU64(c, node + 16, 0);
}

/** __bpf_list_add: a node already in a list is refused, and the reference to its object dropped. */
function listPush(c: HelperCall, tail: boolean): void {
  const head = c.num(1);
  const node = c.num(2);
  if (u64(c, node + 16) !== 0) {
    const obj = heapOwnerOf(c, node);
    if (obj) dropObject(c, obj);
    return c.ret(-22);
  }
  listInit(c, head);
  const prev = tail ? u64(c, head + 8) : head;
  const next = tail ? head : u64(c, head);
  setU64(c, node, next);
  setU64(c, node + 8, prev);
  setU64(c, prev, node);
  setU64(c, next + 8, node);
  setU64(c, node + 16, head);
  c.ret(0);
}

function listPop(c: HelperCall, tail: boolean): void {
  const head = c.num(1);
  const node = tail ? listLast(c, head) : listFirst(c, head);
  if (node) listUnlink(c, node);
  c.ret(node);
}

/** `bpf_kptr_xchg(dst, ptr)`: the old pointer, `ptr` in its place. */
function kptrXchg(c: HelperCall): void {
  const dst = c.ptr(1, 8, true);
  const old = c.space.data.getBigUint64(dst, true);
  c.space.data.setBigUint64(dst, c.u64(2), true);
  c.ret(old);
}

export { dropObject };

/** The start of the object of the heap that `addr` points into, or 0. */
export function heapOwnerOf(c: HelperCall, addr: number): number {
  return HEAPS.get(c.space)?.objectAt(addr)?.start ?? 0;
}

/** The runtime kfuncs of the program's objects and lists, and `bpf_kptr_xchg`. */
export function allocKfuncs(id: (name: string) => { id: number; name: string }): Helper[] {
  return [
    { ...id('bpf_obj_new_impl'), fn: objNew },
    { ...id('bpf_obj_drop_impl'), fn: objDrop },
    { ...id('bpf_refcount_acquire_impl'), fn: refcountAcquire },
    { ...id('bpf_list_push_front_impl'), fn: (c) => listPush(c, false) },
    { ...id('bpf_list_push_back_impl'), fn: (c) => listPush(c, true) },
    { ...id('bpf_list_pop_front'), fn: (c) => listPop(c, false) },
    { ...id('bpf_list_pop_back'), fn: (c) => listPop(c, true) },
    { ...id('bpf_list_front'), fn: (c) => c.ret(listFirst(c, c.num(1))) },
    { ...id('bpf_list_back'), fn: (c) => c.ret(listLast(c, c.num(1))) },
  ];
}

/** `bpf_kptr_xchg`, a Linux helper. */
export function kptrHelpers(): Helper[] {
  return [{ ...helperIdentity('bpf_kptr_xchg'), fn: kptrXchg }];
}
