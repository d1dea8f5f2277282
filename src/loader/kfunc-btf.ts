/**
 * The kfuncs tsbpf knows without a kernel BTF: the number and bit iterators
 * (`bpf_for`, `bpf_repeat`, `bpf_for_each(bits, ...)`), the RCU read
 * section markers, the dynptr kfuncs, bpf_xdp_pull_data and the program's
 * own objects (bpf_obj_new, bpf_obj_drop, lists and rbtrees of them), with Linux
 * 6.18's prototypes and structs (kernel/bpf/helpers.c, net/core/filter.c,
 * include/linux/bpf.h), each tagged `bpf_kfunc` as
 * the kernel's own BTF tags them. Where no kernel BTF is given (a browser,
 * a machine without /sys/kernel/btf/vmlinux) the loader resolves `.ksyms`
 * kfunc externs against this BTF, and the object tells the verifier so
 * (`ObjectSpec.kfuncBtf`): the programs then verify and run as with the
 * kernel's BTF.
 */
import type { Btf } from './btf.js';
import { BtfBuilder } from './btf-builder.js';

let built: Btf | undefined;

/** The built-in kfunc BTF (built once). */
export function builtinKfuncBtf(): Btf {
  if (built) return built;
  const b = new BtfBuilder('tsbpf-kfuncs');
  const int = b.int('int', 4, { signed: true });
  const u32 = b.typedef('u32', b.int('unsigned int', 4));
  const u64 = b.typedef('u64', b.int('long long unsigned int', 8));
  const iterNum = b.struct('bpf_iter_num', [{ name: '__opaque', type: b.array(u64, 1) }], { align: 8 });
  const iterBits = b.struct('bpf_iter_bits', [{ name: '__opaque', type: b.array(u64, 2) }], { align: 8 });
  const intPtr = b.ptr(int);
  const kfunc = (name: string, ret: number, params: { name: string; type: number }[]): void => {
    b.declTag('bpf_kfunc', b.func(name, b.funcProto(ret, params)));
  };
  for (const [type, struct, newParams] of [
    ['num', iterNum, [{ name: 'start', type: int }, { name: 'end', type: int }]],
    ['bits', iterBits, [{ name: 'unsafe_ptr__ign', type: b.ptr(b.const(u64)) }, { name: 'nr_words', type: u32 }]],
  ] as const) {
    const it = { name: 'it', type: b.ptr(struct) };
    kfunc(`bpf_iter_${type}_new`, int, [it, ...newParams]);
    kfunc(`bpf_iter_${type}_next`, intPtr, [it]);
    kfunc(`bpf_iter_${type}_destroy`, 0, [it]);
  }
  kfunc('bpf_rcu_read_lock', 0, []);
  kfunc('bpf_rcu_read_unlock', 0, []);
  // dynptrs: 16 opaque bytes; the contexts only as what the arguments point to
  const u8 = b.int('unsigned char', 1);
  const dynptr = b.struct('bpf_dynptr', [{ name: '__opaque', type: b.array(u64, 2) }], { align: 8 });
  const skb = b.struct('__sk_buff', [{ name: '__opaque', type: b.array(u8, 192) }], { align: 8 });
  const xdp = b.struct('xdp_md', [{ name: '__opaque', type: b.array(u8, 24) }], { align: 4 });
  const cdyn = b.ptr(b.const(dynptr));
  const voidPtr = b.ptr(0);
  const bool = b.typedef('bool', b.int('_Bool', 1, { bool: true }));
  kfunc('bpf_dynptr_from_skb', int, [{ name: 's', type: b.ptr(skb) }, { name: 'flags', type: u64 }, { name: 'ptr__uninit', type: b.ptr(dynptr) }]);
  kfunc('bpf_dynptr_from_xdp', int, [{ name: 'x', type: b.ptr(xdp) }, { name: 'flags', type: u64 }, { name: 'ptr__uninit', type: b.ptr(dynptr) }]);
  for (const name of ['bpf_dynptr_slice', 'bpf_dynptr_slice_rdwr']) {
    kfunc(name, voidPtr, [{ name: 'p', type: cdyn }, { name: 'offset', type: u32 }, { name: 'buffer__opt', type: voidPtr }, { name: 'buffer__szk', type: u32 }]);
  }
  kfunc('bpf_dynptr_adjust', int, [{ name: 'p', type: cdyn }, { name: 'start', type: u32 }, { name: 'end', type: u32 }]);
  kfunc('bpf_dynptr_is_null', bool, [{ name: 'p', type: cdyn }]);
  kfunc('bpf_dynptr_is_rdonly', bool, [{ name: 'p', type: cdyn }]);
  kfunc('bpf_dynptr_size', u32, [{ name: 'p', type: cdyn }]);
  kfunc('bpf_dynptr_clone', int, [{ name: 'p', type: cdyn }, { name: 'clone__uninit', type: b.ptr(dynptr) }]);
  kfunc('bpf_xdp_pull_data', int, [{ name: 'x', type: b.ptr(xdp) }, { name: 'len', type: u32 }]);
  // the program's own objects and lists of them (bpf_experimental.h)
  const meta = { name: 'meta__ign', type: voidPtr };
  for (const name of ['bpf_obj_new_impl', 'bpf_percpu_obj_new_impl']) kfunc(name, voidPtr, [{ name: 'local_type_id__k', type: u64 }, meta]);
  for (const name of ['bpf_obj_drop_impl', 'bpf_percpu_obj_drop_impl']) kfunc(name, 0, [{ name: 'p__alloc', type: voidPtr }, meta]);
  kfunc('bpf_refcount_acquire_impl', voidPtr, [{ name: 'p__refcounted_kptr', type: voidPtr }, meta]);
  const listHead = b.ptr(b.struct('bpf_list_head', [{ name: '__opaque', type: b.array(u64, 2) }], { align: 8 }));
  const listNode = b.ptr(b.struct('bpf_list_node', [{ name: '__opaque', type: b.array(u64, 3) }], { align: 8 }));
  for (const name of ['bpf_list_push_front_impl', 'bpf_list_push_back_impl']) {
    kfunc(name, int, [{ name: 'head', type: listHead }, { name: 'node', type: listNode }, meta, { name: 'off', type: u64 }]);
  }
  for (const name of ['bpf_list_pop_front', 'bpf_list_pop_back', 'bpf_list_front', 'bpf_list_back']) kfunc(name, listNode, [{ name: 'head', type: listHead }]);
  const rbRoot = b.ptr(b.struct('bpf_rb_root', [{ name: '__opaque', type: b.array(u64, 2) }], { align: 8 }));
  const rbNodeStruct = b.struct('bpf_rb_node', [{ name: '__opaque', type: b.array(u64, 4) }], { align: 8 });
  const rbNode = b.ptr(rbNodeStruct);
  const less = b.ptr(b.funcProto(bool, [{ name: '', type: rbNode }, { name: '', type: b.ptr(b.const(rbNodeStruct)) }]));
  kfunc('bpf_rbtree_add_impl', int, [{ name: 'root', type: rbRoot }, { name: 'node', type: rbNode }, { name: 'less', type: less }, meta, { name: 'off', type: u64 }]);
  for (const name of ['bpf_rbtree_remove', 'bpf_rbtree_left', 'bpf_rbtree_right']) kfunc(name, rbNode, [{ name: 'root', type: rbRoot }, { name: 'node', type: rbNode }]);
  for (const name of ['bpf_rbtree_first', 'bpf_rbtree_root']) kfunc(name, rbNode, [{ name: 'root', type: rbRoot }]);
  built = b.build();
  return built;
}
