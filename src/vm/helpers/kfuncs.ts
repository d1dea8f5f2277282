/**
 * Kernel functions (kfuncs) user space can honour: the open-coded
 * iterators over numbers and bits (`bpf_for`, `bpf_repeat`,
 * `bpf_for_each(bits, ...)`), the RCU read section markers, which
 * protect nothing here, and the dynptr kfuncs (dynptr.ts). A kfunc call names its function by BTF id; the
 * loader knows the name, and prepareProgram turns a call of one of these
 * into a call of the helper below with a tsbpf-only id, so both engines
 * call them like helpers. Behaviour as kernel/bpf/helpers.c (6.18); the
 * program's own objects and their lists are in alloc.ts.
 */
import type { Helper, HelperCall } from '../helper-call.js';
import type { AddressSpace } from '../memory.js';
import { Limits } from '../../isa/uapi.js';
import { allocKfuncs } from './alloc.js';
import { rbtreeKfuncs } from './rbtree.js';

/** First tsbpf-only helper id of a runtime kfunc: far above Linux's helper ids and libbpf's poison values. */
const RUNTIME_KFUNC_BASE = 0x7ff0_0000;

const NAMES = [
  'bpf_iter_num_new', 'bpf_iter_num_next', 'bpf_iter_num_destroy',
  'bpf_iter_bits_new', 'bpf_iter_bits_next', 'bpf_iter_bits_destroy',
  'bpf_rcu_read_lock', 'bpf_rcu_read_unlock',
  // dynptr.ts
  'bpf_dynptr_from_skb', 'bpf_dynptr_from_xdp', 'bpf_dynptr_slice', 'bpf_dynptr_slice_rdwr', 'bpf_dynptr_adjust',
  'bpf_dynptr_is_null', 'bpf_dynptr_is_rdonly', 'bpf_dynptr_size', 'bpf_dynptr_clone',
  // hooks/packet-helpers.ts
  'bpf_xdp_pull_data',
  // alloc.ts
  'bpf_obj_new_impl', 'bpf_obj_drop_impl', 'bpf_refcount_acquire_impl', 'bpf_list_push_front_impl', 'bpf_list_push_back_impl',
  'bpf_list_pop_front', 'bpf_list_pop_back', 'bpf_list_front', 'bpf_list_back',
  // rbtree.ts
  'bpf_rbtree_add_impl', 'bpf_rbtree_remove', 'bpf_rbtree_first', 'bpf_rbtree_root', 'bpf_rbtree_left', 'bpf_rbtree_right',
] as const;
type KfuncName = (typeof NAMES)[number];

/** The helper id a call of kfunc `name` runs as, or undefined when user space cannot run it. */
export function runtimeKfuncId(name: string): number | undefined {
  const i = (NAMES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : RUNTIME_KFUNC_BASE + i;
}

/** Whether helper id `id` is a runtime kfunc's (not a Linux helper's). */
export function isRuntimeKfuncId(id: number): boolean {
  return id >= RUNTIME_KFUNC_BASE && id < RUNTIME_KFUNC_BASE + NAMES.length;
}

/** The helper identity (tsbpf-only id and name) of runtime kfunc `name`. */
export function runtimeKfuncIdentity(name: KfuncName): { id: number; name: KfuncName } {
  return { id: RUNTIME_KFUNC_BASE + NAMES.indexOf(name), name };
}

const id = runtimeKfuncIdentity;

const EINVAL = -22;
const E2BIG = -7;
const EFAULT = -14;

/** `struct bpf_iter_num_kern { int cur; int end; }`. */
function numNew(c: HelperCall): void {
  const it = c.ptr(1, 8, true);
  const d = c.space.data;
  const start = c.i32(2);
  const end = c.i32(3);
  // start == end is an empty range; a failed creation leaves an iterator that returns NULL at once
  if (start > end || end - start > Limits.LOOPS) {
    d.setInt32(it, 0, true);
    d.setInt32(it + 4, 0, true);
    return c.ret(start > end ? EINVAL : E2BIG);
  }
  d.setInt32(it, start - 1, true);
  d.setInt32(it + 4, end, true);
  c.ret(0);
}

function numNext(c: HelperCall): void {
  const it = c.ptr(1, 8, true);
  const d = c.space.data;
  const cur = d.getInt32(it, true);
  const end = d.getInt32(it + 4, true);
  if (cur + 1 >= end) {
    d.setInt32(it, 0, true);
    d.setInt32(it + 4, 0, true);
    return c.ret(0);
  }
  d.setInt32(it, cur + 1, true);
  c.ret(it);
}

function numDestroy(c: HelperCall): void {
  const it = c.ptr(1, 8, true);
  c.space.data.setBigUint64(it, 0n, true);
  c.ret(0);
}

/** The kernel's limit on `nr_words` (BITS_ITER_NR_WORDS_MAX). */
const BITS_MAX_WORDS = 511;

/**
 * Copies of bit arrays longer than one word, by iterator address (the
 * kernel allocates them; the iterator's pointer field holds its own address
 * here as a handle). The verifier keeps programs from copying or reading an
 * iterator, so the address names it until `_destroy`.
 */
const bitCopies = new WeakMap<AddressSpace, Map<number, Uint8Array>>();

function copiesOf(space: AddressSpace): Map<number, Uint8Array> {
  let m = bitCopies.get(space);
  if (!m) bitCopies.set(space, (m = new Map()));
  return m;
}

/** `struct bpf_iter_bits_kern { union { u64 *bits; u64 bits_copy; }; int nr_bits; int bit; }`. */
function bitsNew(c: HelperCall): void {
  const it = c.ptr(1, 16, true);
  const d = c.space.data;
  const src = c.num(2);
  const words = c.u32(3);
  d.setBigUint64(it, 0n, true);
  d.setInt32(it + 8, 0, true);
  d.setInt32(it + 12, -1, true);
  copiesOf(c.space).delete(it);
  if (src === 0 || words === 0) return c.ret(EINVAL);
  if (words > BITS_MAX_WORDS) return c.ret(E2BIG);
  const bytes = words * 8;
  const region = c.space.regionAt(src, bytes);
  // bpf_probe_read_kernel: an unreadable source is a fault, not a crash
  if (region === undefined || !region.readable) return c.ret(EFAULT);
  if (words === 1) {
    d.setBigUint64(it, d.getBigUint64(src, true), true);
  } else {
    copiesOf(c.space).set(it, c.space.bytes.slice(src, src + bytes));
    d.setBigUint64(it, BigInt(it), true);
  }
  d.setInt32(it + 8, bytes * 8, true);
  c.ret(0);
}

function bitsNext(c: HelperCall): void {
  const it = c.ptr(1, 16, true);
  const d = c.space.data;
  const nrBits = d.getInt32(it + 8, true);
  let bit = d.getInt32(it + 12, true);
  if (!nrBits || bit >= nrBits) return c.ret(0);
  const bytes = nrBits === 64 ? c.space.bytes.subarray(it, it + 8) : copiesOf(c.space).get(it);
  // find_next_bit: bit n is bit n % 8 of byte n / 8 (little-endian words)
  for (bit = bit + 1; bytes !== undefined && bit < nrBits; bit++) {
    if ((bit & 7) === 0 && bytes[bit >> 3] === 0) {
      bit += 7;
      continue;
    }
    if (bytes[bit >> 3]! & (1 << (bit & 7))) break;
  }
  if (bit > nrBits || bytes === undefined) bit = nrBits;
  d.setInt32(it + 12, bit, true);
  c.ret(bit >= nrBits ? 0 : it + 12);
}

function bitsDestroy(c: HelperCall): void {
  const it = c.ptr(1, 16, true);
  copiesOf(c.space).delete(it);
  c.ret(0);
}

/** The kfuncs user space runs, as helpers with tsbpf-only ids ({@link runtimeKfuncId}). */
export function kfuncHelpers(): Helper[] {
  return [
    { ...id('bpf_iter_num_new'), fn: numNew },
    { ...id('bpf_iter_num_next'), fn: numNext },
    { ...id('bpf_iter_num_destroy'), fn: numDestroy },
    { ...id('bpf_iter_bits_new'), fn: bitsNew },
    { ...id('bpf_iter_bits_next'), fn: bitsNext },
    { ...id('bpf_iter_bits_destroy'), fn: bitsDestroy },
    // RCU read sections: nothing in user space is freed under a running program
    { ...id('bpf_rcu_read_lock'), fn: (c) => c.ret(0) },
    { ...id('bpf_rcu_read_unlock'), fn: (c) => c.ret(0) },
    ...allocKfuncs((name) => id(name as KfuncName)),
    ...rbtreeKfuncs((name) => id(name as KfuncName)),
  ];
}
