/**
 * Kernel functions (kfuncs): `call` with src 2 and the function's id in the
 * kernel BTF. tsbpf models a built-in set the way check_kfunc_call treats
 * them — RCU read sections, the context cast, read-only casts, task,
 * cgroup and cpumask references, conntrack lookups, the number and bit
 * iterators (iters.ts), dynptrs (dynptrs.ts) — with the program types that may call each (measured,
 * scripts/probe-verifier-kfuncs.ts). Any other kfunc is refused with a
 * `tsbpf:` message: its arguments follow conventions (suffixes, flags) the
 * kernel reads from its own kfunc sets, which tsbpf does not have.
 */
import type { Env } from './env.js';
import { VerifyAbort } from './env.js';
import type { RawInsn } from '../isa/raw.js';
import type { Reg } from './reg.js';
import { baseType, copyReg, F, isNullReg, isTrustedReg, markKnownZero, markNotInit, markUnknown, mayBeNull, regTypeStr, T } from './reg.js';
import type { KernelBtf } from './kbtf.js';
import { anonName, btfStructIdsMatch, findByNameKind, isStruct, kindStr, resolveSize, skipModifiers, typeById, typeName } from './kbtf.js';
import { isRcuReg, WALK_FLAGS } from './btf-access.js';
import { acquireReference, releaseReference } from './refs.js';
import { checkMemSizeReg, checkPtrOffReg } from './mem.js';
import { markPtrNotNullReg } from './branch.js';
import { checkFuncArgRegOff, clearAllPktPointers, mapIdentity, pushCallbackCall } from './calls.js';
import type { BtfField } from './btf-record.js';
import {
  convertOwningNonOwning, graphNodeResult, isNonOwningRef, rbtreeAddCallbackState, objNewResult, processAllocArg, processGraphNodeArg, processGraphRootArg, processRefcountedArg, refSetNonOwning,
} from './graph.js';
import { A, AF } from '../isa/helper-protos.js';
import { tnumIsConst } from './tnum.js';
import { markChainPrecision } from './precision.js';
import { DynptrType as Dynptr, PROG_TYPE_NAMES, ProgType } from '../isa/uapi.js';
import type { IterMethod, IterSlot, IterType } from './iters.js';
import { iterTypeStr, processIterArg, processIterNextCall } from './iters.js';
import type { DynptrInfo } from './dynptrs.js';
import { dynptrTypeFlag, processDynptrFunc } from './dynptrs.js';

/** An argument of a modelled kfunc. */
type KArg =
  | { kind: 'scalar' }
  /** `__k`: a known constant. */
  | { kind: 'const' }
  /** `__ign`: not checked. */
  | { kind: 'ignore' }
  | { kind: 'ctx' }
  /** A kernel object of struct `btf` (KF_RCU: an RCU or trusted pointer; KF_RELEASE: a referenced one). */
  | { kind: 'btf'; btf: string }
  /** KF_ARG_PTR_TO_MEM_SIZE: memory the kfunc reads and writes, its size in the next argument (`__sz`), which is `size`. */
  | { kind: 'mem' }
  | { kind: 'size' }
  /** KF_ARG_PTR_TO_ITER: the iterator on the stack (struct `btf`). */
  | { kind: 'iter'; btf: string }
  /**
   * KF_ARG_PTR_TO_DYNPTR: an initialised dynptr, or with `create` (`__uninit`)
   * stack where the kfunc makes one of that type ('parent': the type of the
   * kfunc's first dynptr, for bpf_dynptr_clone).
   */
  | { kind: 'dynptr'; create?: number | 'parent' }
  /** `buffer__opt` then `buffer__szk`: memory that may be NULL, its size a known constant (the result's size). */
  | { kind: 'opt_mem' }
  | { kind: 'size_const' }
  /** KF_ARG_PTR_TO_ALLOC_BTF_ID (`p__alloc`): an owned object of the program's (released by the drop kfuncs). */
  | { kind: 'alloc' }
  /** KF_ARG_PTR_TO_REFCOUNTED_KPTR: an owning or non-owning reference to an object with a `bpf_refcount`. */
  | { kind: 'refcounted' }
  /** A list head or rbtree root in a map value or an owned object, its lock held. */
  | { kind: 'root'; field: 'bpf_list_head' | 'bpf_rb_root' }
  /** A list or rbtree node: `owning` for the kfuncs that take ownership (push, add). */
  | { kind: 'node'; field: 'bpf_list_node' | 'bpf_rb_node'; owning: boolean }
  /** KF_ARG_PTR_TO_CALLBACK: a subprogram (rbtree_add's `less`). */
  | { kind: 'callback' };

/** A modelled kfunc. */
interface KfuncDef {
  args: KArg[];
  /** KF_ACQUIRE | KF_RET_NULL: returns a referenced `ret` or NULL (`trusted`: a trusted pointer, as kfuncs' results are). */
  ret?: { btf: string; acquire: boolean; null: boolean; trusted?: boolean };
  /** Returns a scalar (an int, a bool). */
  retScalar?: boolean;
  flags: { rcu?: boolean; release?: boolean; trusted?: boolean };
  special?: 'rcu_lock' | 'rcu_unlock' | 'kern_ctx' | 'rdonly_cast' | 'trap' | 'obj_new' | 'percpu_obj_new' | 'refcount_acquire'
    /** Takes its node argument into the root (push, add): the node's references stop owning it. */
    | 'graph_insert'
    /** Returns a node of the root's value type: owning with `acquire`, else non-owning. */
    | 'graph_node';
  /** KF_ACQUIRE | KF_RET_NULL for the allocation and graph kfuncs (the others say it with `ret`). */
  acquire?: boolean;
  retNull?: boolean;
  /** KF_SPINLOCK_SAFE: callable with a bpf_spin_lock held (the graph kfuncs). */
  spinLockSafe?: boolean;
  /** bpf_rbtree_add: its `less` callback is verified as called from here. */
  rbtreeAdd?: boolean;
  /** KF_... that may change packet data (is_kfunc_pkt_changing): packet pointers are gone after the call. */
  changesPkt?: boolean;
  /** An open-coded iterator's method (KF_ITER_NEW / KF_ITER_NEXT | KF_RET_NULL / KF_ITER_DESTROY). */
  iter?: IterMethod;
  /** Returns read-only memory of this many bytes (a pointer to a scalar type), NULL too with `null`. */
  retMem?: { size: number; null: boolean };
  /** bpf_dynptr_slice(_rdwr): a slice of the dynptr's data or NULL, as large as the constant size. */
  slice?: 'rdonly' | 'rdwr';
}

/**
 * The three methods of an iterator whose `_new` takes `newArgs` after the
 * iterator (with `newFlags`, e.g. KF_RCU for kernel object arguments) and
 * whose `_next` hands out an int, or the kernel object `nextBtf`.
 */
function iterDefs(type: string, newArgs: KArg[], nextBtf?: string, newFlags: KfuncDef['flags'] = {}): Record<string, KfuncDef> {
  const it: KArg = { kind: 'iter', btf: `bpf_iter_${type}` };
  return {
    [`bpf_iter_${type}_new`]: { args: [it, ...newArgs], retScalar: true, flags: newFlags, iter: 'new' },
    [`bpf_iter_${type}_next`]: nextBtf === undefined
      ? { args: [it], retMem: { size: 4, null: true }, flags: {}, iter: 'next' }
      : { args: [it], ret: { btf: nextBtf, acquire: false, null: true, trusted: true }, flags: {}, iter: 'next' },
    [`bpf_iter_${type}_destroy`]: { args: [it], flags: {}, iter: 'destroy' },
  };
}

/** The cpumask kfuncs beyond create/acquire/release and one bit: `M` a mask read, `B` a bpf_cpumask written, `S` a scalar; a result or none. */
function cpumaskOps(): Record<string, KfuncDef> {
  const M: KArg = { kind: 'btf', btf: 'cpumask' };
  const B: KArg = { kind: 'btf', btf: 'bpf_cpumask' };
  const S: KArg = { kind: 'scalar' };
  const ops: [string, KArg[], boolean][] = [
    ['bpf_cpumask_first', [M], true], ['bpf_cpumask_first_zero', [M], true], ['bpf_cpumask_first_and', [M, M], true],
    ['bpf_cpumask_setall', [B], false], ['bpf_cpumask_clear', [B], false], ['bpf_cpumask_and', [B, M, M], true],
    ['bpf_cpumask_or', [B, M, M], false], ['bpf_cpumask_xor', [B, M, M], false], ['bpf_cpumask_equal', [M, M], true],
    ['bpf_cpumask_intersects', [M, M], true], ['bpf_cpumask_subset', [M, M], true], ['bpf_cpumask_empty', [M], true],
    ['bpf_cpumask_full', [M], true], ['bpf_cpumask_copy', [B, M], false], ['bpf_cpumask_any_distribute', [M], true],
    ['bpf_cpumask_any_and_distribute', [M, M], true], ['bpf_cpumask_weight', [M], true],
    ['bpf_cpumask_test_and_set_cpu', [S, B], true], ['bpf_cpumask_test_and_clear_cpu', [S, B], true],
  ];
  const defs: Record<string, KfuncDef> = Object.fromEntries(ops.map(([name, args, ret]) => [name, { args, ...(ret ? { retScalar: true } : {}), flags: { rcu: true } }]));
  // fills a mask the program owns from the program's memory (`src`, `src__sz` bytes)
  defs['bpf_cpumask_populate'] = { args: [B, { kind: 'mem' }, { kind: 'size' }], retScalar: true, flags: { rcu: true } };
  return defs;
}

const LIST_HEAD: KArg = { kind: 'root', field: 'bpf_list_head' };
const RB_ROOT: KArg = { kind: 'root', field: 'bpf_rb_root' };
const RB_NODE_NON_OWNING: KArg = { kind: 'node', field: 'bpf_rb_node', owning: false };

const DEFS: Readonly<Record<string, KfuncDef>> = {
  bpf_rcu_read_lock: { args: [], flags: {}, special: 'rcu_lock' },
  bpf_rcu_read_unlock: { args: [], flags: {}, special: 'rcu_unlock' },
  bpf_cast_to_kern_ctx: { args: [{ kind: 'ctx' }], flags: {}, special: 'kern_ctx' },
  bpf_rdonly_cast: { args: [{ kind: 'ignore' }, { kind: 'const' }], flags: {}, special: 'rdonly_cast' },
  bpf_task_acquire: { args: [{ kind: 'btf', btf: 'task_struct' }], ret: { btf: 'task_struct', acquire: true, null: true }, flags: { rcu: true } },
  bpf_task_release: { args: [{ kind: 'btf', btf: 'task_struct' }], flags: { release: true } },
  bpf_task_from_pid: { args: [{ kind: 'scalar' }], ret: { btf: 'task_struct', acquire: true, null: true }, flags: {} },
  bpf_cgroup_acquire: { args: [{ kind: 'btf', btf: 'cgroup' }], ret: { btf: 'cgroup', acquire: true, null: true }, flags: { rcu: true } },
  bpf_cgroup_release: { args: [{ kind: 'btf', btf: 'cgroup' }], flags: { release: true } },
  bpf_cgroup_from_id: { args: [{ kind: 'scalar' }], ret: { btf: 'cgroup', acquire: true, null: true }, flags: {} },
  bpf_cpumask_create: { args: [], ret: { btf: 'bpf_cpumask', acquire: true, null: true }, flags: {} },
  bpf_cpumask_release: { args: [{ kind: 'btf', btf: 'bpf_cpumask' }], flags: { release: true } },
  // KF_ACQUIRE | KF_TRUSTED_ARGS: a new reference to a mask the program holds (never NULL)
  bpf_cpumask_acquire: { args: [{ kind: 'btf', btf: 'bpf_cpumask' }], ret: { btf: 'bpf_cpumask', acquire: true, null: false }, flags: { trusted: true } },
  // KF_RCU: set a bit of a mask the program may write; test one of any mask (a struct bpf_cpumask starts with its struct cpumask)
  bpf_cpumask_set_cpu: { args: [{ kind: 'scalar' }, { kind: 'btf', btf: 'bpf_cpumask' }], flags: { rcu: true } },
  bpf_cpumask_clear_cpu: { args: [{ kind: 'scalar' }, { kind: 'btf', btf: 'bpf_cpumask' }], flags: { rcu: true } },
  bpf_cpumask_test_cpu: { args: [{ kind: 'scalar' }, { kind: 'btf', btf: 'cpumask' }], retScalar: true, flags: { rcu: true } },
  // kernel/bpf/cpumask.c's other operations (KF_RCU): reading any mask, writing a mask the program owns
  ...cpumaskOps(),
  // net/netfilter/nf_conntrack_bpf.c: the lookups take the context, a tuple and options, each with its size
  // (KF_TRUSTED_ARGS on this kernel, measured: a NULL tuple is `Possibly NULL pointer passed to trusted arg1`)
  bpf_skb_ct_lookup: { args: [{ kind: 'ctx' }, { kind: 'mem' }, { kind: 'size' }, { kind: 'mem' }, { kind: 'size' }], ret: { btf: 'nf_conn', acquire: true, null: true }, flags: { trusted: true } },
  bpf_xdp_ct_lookup: { args: [{ kind: 'ctx' }, { kind: 'mem' }, { kind: 'size' }, { kind: 'mem' }, { kind: 'size' }], ret: { btf: 'nf_conn', acquire: true, null: true }, flags: { trusted: true } },
  bpf_ct_release: { args: [{ kind: 'btf', btf: 'nf_conn' }], flags: { release: true } },
  // kernel/bpf/helpers.c: `int *next()` over [start, end) and over the set bits of nr_words u64 words
  ...iterDefs('num', [{ kind: 'scalar' }, { kind: 'scalar' }]),
  ...iterDefs('bits', [{ kind: 'ignore' }, { kind: 'scalar' }]),
  // kernel/bpf/task_iter.c: the VMAs of a task from an address on (KF_RCU: the task an RCU or trusted pointer)
  ...iterDefs('task_vma', [{ kind: 'btf', btf: 'task_struct' }, { kind: 'scalar' }], 'vm_area_struct', { rcu: true }),
  // kernel/bpf/helpers.c, net/core/filter.c: dynptrs over packets, their slices, clones and views
  bpf_dynptr_from_skb: { args: [{ kind: 'ctx' }, { kind: 'scalar' }, { kind: 'dynptr', create: Dynptr.SKB }], retScalar: true, flags: {} },
  bpf_dynptr_from_xdp: { args: [{ kind: 'ctx' }, { kind: 'scalar' }, { kind: 'dynptr', create: Dynptr.XDP }], retScalar: true, flags: {} },
  bpf_dynptr_from_skb_meta: { args: [{ kind: 'ctx' }, { kind: 'scalar' }, { kind: 'dynptr', create: Dynptr.SKB_META }], retScalar: true, flags: {} },
  bpf_dynptr_slice: { args: [{ kind: 'dynptr' }, { kind: 'scalar' }, { kind: 'opt_mem' }, { kind: 'size_const' }], slice: 'rdonly', flags: {} },
  bpf_dynptr_slice_rdwr: { args: [{ kind: 'dynptr' }, { kind: 'scalar' }, { kind: 'opt_mem' }, { kind: 'size_const' }], slice: 'rdwr', flags: {} },
  bpf_dynptr_adjust: { args: [{ kind: 'dynptr' }, { kind: 'scalar' }, { kind: 'scalar' }], retScalar: true, flags: {} },
  bpf_dynptr_is_null: { args: [{ kind: 'dynptr' }], retScalar: true, flags: {} },
  bpf_dynptr_is_rdonly: { args: [{ kind: 'dynptr' }], retScalar: true, flags: {} },
  bpf_dynptr_size: { args: [{ kind: 'dynptr' }], retScalar: true, flags: {} },
  bpf_dynptr_clone: { args: [{ kind: 'dynptr' }, { kind: 'dynptr', create: 'parent' }], retScalar: true, flags: {} },
  // net/core/filter.c (6.18): makes the first len bytes of a multi-buffer frame linear; the packet may move
  bpf_xdp_pull_data: { args: [{ kind: 'ctx' }, { kind: 'scalar' }], retScalar: true, flags: {}, changesPkt: true },
  // what clang emits for a trap (an uninitialised variable it could prove); no program may call it
  __bpf_trap: { args: [], flags: {}, special: 'trap' },
  // kernel/bpf/helpers.c: the program's own objects (bpf_experimental.h's bpf_obj_new and friends)
  bpf_obj_new_impl: { args: [{ kind: 'const' }, { kind: 'ignore' }], flags: {}, special: 'obj_new', acquire: true, retNull: true },
  bpf_percpu_obj_new_impl: { args: [{ kind: 'const' }, { kind: 'ignore' }], flags: {}, special: 'percpu_obj_new', acquire: true, retNull: true },
  bpf_obj_drop_impl: { args: [{ kind: 'alloc' }, { kind: 'ignore' }], flags: { release: true } },
  bpf_percpu_obj_drop_impl: { args: [{ kind: 'alloc' }, { kind: 'ignore' }], flags: { release: true } },
  bpf_refcount_acquire_impl: { args: [{ kind: 'refcounted' }, { kind: 'ignore' }], flags: { rcu: true }, special: 'refcount_acquire', acquire: true, retNull: true, spinLockSafe: true },
  bpf_list_push_front_impl: { args: [LIST_HEAD, { kind: 'node', field: 'bpf_list_node', owning: true }, { kind: 'ignore' }, { kind: 'const' }], retScalar: true, flags: {}, special: 'graph_insert', spinLockSafe: true },
  bpf_list_push_back_impl: { args: [LIST_HEAD, { kind: 'node', field: 'bpf_list_node', owning: true }, { kind: 'ignore' }, { kind: 'const' }], retScalar: true, flags: {}, special: 'graph_insert', spinLockSafe: true },
  bpf_list_pop_front: { args: [LIST_HEAD], flags: {}, special: 'graph_node', acquire: true, retNull: true, spinLockSafe: true },
  bpf_list_pop_back: { args: [LIST_HEAD], flags: {}, special: 'graph_node', acquire: true, retNull: true, spinLockSafe: true },
  bpf_list_front: { args: [LIST_HEAD], flags: {}, special: 'graph_node', retNull: true, spinLockSafe: true },
  bpf_list_back: { args: [LIST_HEAD], flags: {}, special: 'graph_node', retNull: true, spinLockSafe: true },
  bpf_rbtree_add_impl: {
    args: [RB_ROOT, { kind: 'node', field: 'bpf_rb_node', owning: true }, { kind: 'callback' }, { kind: 'ignore' }, { kind: 'const' }],
    retScalar: true, flags: {}, special: 'graph_insert', spinLockSafe: true, rbtreeAdd: true,
  },
  bpf_rbtree_remove: { args: [RB_ROOT, RB_NODE_NON_OWNING], flags: {}, special: 'graph_node', acquire: true, retNull: true, spinLockSafe: true },
  bpf_rbtree_first: { args: [RB_ROOT], flags: {}, special: 'graph_node', retNull: true, spinLockSafe: true },
  bpf_rbtree_root: { args: [RB_ROOT], flags: {}, special: 'graph_node', retNull: true, spinLockSafe: true },
  bpf_rbtree_left: { args: [RB_ROOT, RB_NODE_NON_OWNING], flags: {}, special: 'graph_node', retNull: true, spinLockSafe: true },
  bpf_rbtree_right: { args: [RB_ROOT, RB_NODE_NON_OWNING], flags: {}, special: 'graph_node', retNull: true, spinLockSafe: true },
  // net/ipv4/bpf_tcp_ca.c: the kernel's own congestion control steps, for struct_ops congestion controls
  tcp_reno_ssthresh: { args: [{ kind: 'btf', btf: 'sock' }], retScalar: true, flags: {} },
  tcp_reno_cong_avoid: { args: [{ kind: 'btf', btf: 'sock' }, { kind: 'scalar' }, { kind: 'scalar' }], flags: {} },
  tcp_reno_undo_cwnd: { args: [{ kind: 'btf', btf: 'sock' }], retScalar: true, flags: {} },
  tcp_slow_start: { args: [{ kind: 'btf', btf: 'tcp_sock' }, { kind: 'scalar' }], retScalar: true, flags: {} },
  tcp_cong_avoid_ai: { args: [{ kind: 'btf', btf: 'tcp_sock' }, { kind: 'scalar' }, { kind: 'scalar' }], flags: {} },
};

/** The argument kinds that are pointers in the kfunc's prototype. */
const POINTER_ARGS: ReadonlySet<KArg['kind']> = new Set(['ctx', 'btf', 'mem', 'iter', 'dynptr', 'alloc', 'refcounted', 'root', 'node', 'callback']);

/** The kfuncs tsbpf models. */
export const KFUNC_NAMES: readonly string[] = Object.keys(DEFS);

/** The program types the kfunc table was measured for (the others get a `tsbpf:` refusal). */
const PROBED_TYPES: ReadonlySet<string> = new Set([
  'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb', 'cgroup_sock', 'lwt_in',
  'sock_ops', 'sk_skb', 'cgroup_device', 'sk_msg', 'raw_tracepoint', 'cgroup_sock_addr', 'sk_reuseport', 'flow_dissector',
  'cgroup_sysctl', 'cgroup_sockopt', 'tracing', 'sk_lookup', 'syscall', 'netfilter', 'struct_ops',
]);
const COMMON = [...PROBED_TYPES];
const TASK_CGROUP = ['sched_cls', 'tracepoint', 'xdp', 'perf_event', 'cgroup_skb', 'cgroup_sock', 'sock_ops', 'cgroup_device',
  'cgroup_sock_addr', 'cgroup_sysctl', 'cgroup_sockopt', 'tracing', 'syscall', 'struct_ops'];

const CPUMASK = ['tracepoint', 'perf_event', 'tracing', 'syscall', 'struct_ops'];
const CONNTRACK = ['sched_cls', 'xdp'];

/** Program types that may call each modelled kfunc (their kfunc sets; scripts/probe-verifier-kfuncs.ts, 6.18.44). */
const KFUNC_PROG_TYPES: Readonly<Record<string, readonly string[]>> = {
  bpf_rcu_read_lock: COMMON,
  bpf_rcu_read_unlock: COMMON,
  bpf_cast_to_kern_ctx: COMMON,
  bpf_rdonly_cast: COMMON,
  bpf_task_acquire: TASK_CGROUP,
  bpf_task_release: TASK_CGROUP,
  bpf_task_from_pid: TASK_CGROUP,
  bpf_cgroup_acquire: TASK_CGROUP,
  bpf_cgroup_release: TASK_CGROUP,
  bpf_cgroup_from_id: TASK_CGROUP,
  bpf_cpumask_create: CPUMASK,
  bpf_cpumask_release: CPUMASK,
  bpf_cpumask_acquire: CPUMASK,
  bpf_cpumask_set_cpu: CPUMASK,
  bpf_cpumask_clear_cpu: CPUMASK,
  bpf_cpumask_test_cpu: CPUMASK,
  ...Object.fromEntries(Object.keys(cpumaskOps()).map((name) => [name, CPUMASK])),
  bpf_skb_ct_lookup: CONNTRACK,
  bpf_xdp_ct_lookup: CONNTRACK,
  bpf_ct_release: CONNTRACK,
  // the common kfunc set: every program type
  bpf_iter_num_new: COMMON,
  bpf_iter_num_next: COMMON,
  bpf_iter_num_destroy: COMMON,
  bpf_iter_bits_new: COMMON,
  bpf_iter_bits_next: COMMON,
  bpf_iter_bits_destroy: COMMON,
  bpf_iter_task_vma_new: COMMON,
  bpf_iter_task_vma_next: COMMON,
  bpf_iter_task_vma_destroy: COMMON,
  // the skb kfunc set (as probed: the types whose loads get past the set check)
  bpf_dynptr_from_skb: ['socket_filter', 'sched_cls', 'sched_act', 'tracepoint', 'perf_event', 'cgroup_skb', 'cgroup_sock', 'lwt_in',
    'sock_ops', 'sk_skb', 'cgroup_device', 'cgroup_sock_addr', 'cgroup_sysctl', 'cgroup_sockopt', 'tracing', 'netfilter'],
  bpf_dynptr_from_xdp: ['xdp'],
  bpf_dynptr_from_skb_meta: ['sched_cls', 'sched_act'],
  bpf_dynptr_slice: COMMON,
  bpf_dynptr_slice_rdwr: COMMON,
  bpf_dynptr_adjust: COMMON,
  bpf_dynptr_is_null: COMMON,
  bpf_dynptr_is_rdonly: COMMON,
  bpf_dynptr_size: COMMON,
  bpf_dynptr_clone: COMMON,
  bpf_xdp_pull_data: ['xdp'],
  __bpf_trap: COMMON,
  // the generic kfunc set (measured: the same types as the task and cgroup kfuncs)
  bpf_obj_new_impl: TASK_CGROUP,
  bpf_percpu_obj_new_impl: TASK_CGROUP,
  bpf_obj_drop_impl: TASK_CGROUP,
  bpf_percpu_obj_drop_impl: TASK_CGROUP,
  bpf_refcount_acquire_impl: TASK_CGROUP,
  bpf_list_push_front_impl: TASK_CGROUP,
  bpf_list_push_back_impl: TASK_CGROUP,
  bpf_list_pop_front: TASK_CGROUP,
  bpf_list_pop_back: TASK_CGROUP,
  bpf_list_front: TASK_CGROUP,
  bpf_list_back: TASK_CGROUP,
  bpf_rbtree_add_impl: TASK_CGROUP,
  bpf_rbtree_remove: TASK_CGROUP,
  bpf_rbtree_first: TASK_CGROUP,
  bpf_rbtree_root: TASK_CGROUP,
  bpf_rbtree_left: TASK_CGROUP,
  bpf_rbtree_right: TASK_CGROUP,
  tcp_reno_ssthresh: ['struct_ops'],
  tcp_reno_cong_avoid: ['struct_ops'],
  tcp_reno_undo_cwnd: ['struct_ops'],
  tcp_slow_start: ['struct_ops'],
  tcp_cong_avoid_ai: ['struct_ops'],
};

/** add_kfunc_call (at the program's load): the id must name a function of the kernel BTF. */
export function addKfuncCall(env: Env, insn: RawInsn): boolean {
  const btf = env.kfuncBtf();
  if (!btf) return false;
  const t = btf.tryType(insn.imm);
  if (!t || t.kind !== 'FUNC') env.fail(`kernel btf_id ${insn.imm} is not a function`, 'EINVAL');
  return true;
}

/** The name the kernel prints for a kfunc call (`call bpf_rcu_read_lock#64914`). */
export function kfuncName(env: Env, imm: number): string | null {
  const btf = env.kfuncBtf();
  const t = btf?.tryType(imm);
  return t && t.kind === 'FUNC' ? t.name : null;
}

const TAGGED = new WeakMap<KernelBtf, Set<number>>();

/** The functions the kernel BTF tags `bpf_kfunc` (declared with `__bpf_kfunc`). */
function taggedKfuncs(btf: KernelBtf): Set<number> {
  let set = TAGGED.get(btf);
  if (!set) {
    set = new Set();
    for (const id of btf.idsByName('bpf_kfunc')) {
      const t = btf.tryType(id);
      if (t?.kind === 'DECL_TAG' && t.type) set.add(t.type);
    }
    TAGGED.set(btf, set);
  }
  return set;
}

/**
 * Whether fetch_kfunc_meta finds kernel function `id` callable by the
 * program (in a kfunc set for its type): only then does the liveness pass
 * read the kfunc's parameters instead of all argument registers.
 * Unmodelled kfuncs are taken as callable (tsbpf refuses them anyway).
 */
export function kfuncCallable(env: Env, id: number): boolean {
  const btf = env.kfuncBtf();
  const fn = btf?.tryType(id);
  if (!btf || !fn || fn.kind !== 'FUNC') return false;
  if (env.progType !== ProgType.STRUCT_OPS && !taggedKfuncs(btf).has(id)) return false;
  const allowed = KFUNC_PROG_TYPES[fn.name];
  const typeName0 = PROG_TYPE_NAMES[env.progType] ?? '';
  return !allowed || !PROBED_TYPES.has(typeName0) || allowed.includes(typeName0);
}

/** kfunc_spin_allowed: the graph kfuncs and the number iterator may be called with a bpf_spin_lock held. */
export function kfuncSpinAllowed(env: Env, imm: number): boolean {
  const name = kfuncName(env, imm);
  return name !== null && (DEFS[name]?.spinLockSafe === true || name.startsWith('bpf_iter_num_'));
}

/** is_sync_callback_calling_kfunc: bpf_rbtree_add's `less` is called before it returns. */
export function isSyncCallbackKfuncCall(env: Env, insn: RawInsn): boolean {
  const name = kfuncName(env, insn.imm);
  return name !== null && DEFS[name]?.rbtreeAdd === true && kfuncCallable(env, insn.imm);
}

/** Whether the call at `insn` is an open-coded iterator's `_next` the program may call (check_cfg makes it a checkpoint). */
export function isIterNextCall(env: Env, insn: RawInsn): boolean {
  const name = kfuncName(env, insn.imm);
  return name !== null && DEFS[name]?.iter === 'next' && kfuncCallable(env, insn.imm);
}

/** Whether the call at `insn` is a kfunc that may change packet data (check_cfg marks its subprogram). */
export function isPktChangingKfuncCall(env: Env, insn: RawInsn): boolean {
  const name = kfuncName(env, insn.imm);
  return name !== null && DEFS[name]?.changesPkt === true && kfuncCallable(env, insn.imm);
}

/** The iterator type of struct `name` in the kernel BTF (btf_check_iter_arg). */
function iterType(env: Env, btf: KernelBtf, name: string, i: number): IterType {
  const id = findByNameKind(btf, name, 'STRUCT');
  if (id < 0) env.fail(`expected valid iter pointer as arg #${i}`, 'EINVAL');
  return { btfId: id, name: iterTypeStr(name), slots: Math.floor((typeById(btf, id).size ?? 0) / 8) };
}

/** in_rbtree_lock_required_cb: verifying the callback of an rbtree kfunc (rbtree_add's `less`). */
function inRbtreeLockRequiredCb(env: Env): boolean {
  const st = env.cur;
  if (!st.curframe) return false;
  const callee = st.frames[st.curframe]!;
  if (!callee.inCallbackFn) return false;
  const insn = env.insns[callee.callsite];
  if (!insn || insn.src !== 2) return false;
  return kfuncName(env, insn.imm)?.startsWith('bpf_rbtree_') === true;
}

/** Who a value's lock belongs to: its map. */
const lockOwner = (r: Reg): unknown => mapIdentity(r.map!);

/** check_kfunc_call for the modelled kfuncs. */
export function checkKfuncCall(env: Env, insn: RawInsn): void {
  const btf = env.kfuncBtf()!;
  const fn = btf.tryType(insn.imm)!;
  const name = fn.name;
  const def = DEFS[name];
  const allowed = KFUNC_PROG_TYPES[name];
  if (!def || !allowed) {
    // A function without the `bpf_kfunc` declaration tag is in none of the
    // kernel's kfunc sets (struct_ops programs aside: congestion control
    // may call some plain tcp functions).
    if (env.progType !== ProgType.STRUCT_OPS && !taggedKfuncs(btf).has(insn.imm)) {
      env.fail(`calling kernel function ${name} is not allowed`, 'EACCES');
    }
    env.fail(`tsbpf: kernel function ${name} is not among the kfuncs tsbpf's verifier models (${KFUNC_NAMES.join(', ')})`, 'ENOTSUPP');
  }
  const typeName0 = PROG_TYPE_NAMES[env.progType] ?? '';
  if (!PROBED_TYPES.has(typeName0)) {
    env.fail(`tsbpf: whether ${typeName0} programs may call kernel function ${name} (the kernel's kfunc sets) is not known to tsbpf`, 'ENOTSUPP');
  }
  if (!allowed.includes(typeName0)) env.fail(`calling kernel function ${name} is not allowed`, 'EACCES');
  const regs = env.regs;
  if (def.special === 'trap') env.fail('unexpected __bpf_trap() due to uninitialized variable?', 'EFAULT');
  if ((def.special === 'rcu_lock' || def.special === 'rcu_unlock') && inRbtreeLockRequiredCb(env)) {
    env.fail('Calling bpf_rcu_read_{lock,unlock} in unnecessary rbtree callback', 'EACCES');
  }
  if (def.special === 'rcu_lock') {
    if (env.cur.activeRcuLock) env.fail(`nested rcu read lock (kernel function ${name})`, 'EINVAL');
    env.cur.activeRcuLock++;
  } else if (def.special === 'rcu_unlock') {
    if (!env.cur.activeRcuLock) env.fail(`unmatched rcu read unlock (kernel function ${name})`, 'EINVAL');
    env.cur.activeRcuLock--;
    // pointers trusted inside the section are not after it
    for (const f of env.cur.frames.slice(0, env.cur.curframe + 1)) {
      const fix = (r: Reg): void => {
        // a non-owning reference that lived on RCU stops being one too
        if (r.type & F.RCU) r.type = (r.type & ~(F.RCU | F.MAYBE_NULL | F.NON_OWN)) | F.UNTRUSTED;
      };
      f.regs.forEach(fix);
      for (let s = 0; s < f.allocatedStack / 8; s++) if (f.slotType[s * 8 + 7] === 1) fix(f.spilled[s]!);
    }
  }
  let releaseRef = 0;
  let insertRef = 0;
  let allocBtfId = 0;
  let owningArg = false;
  let callbackSubprog = 0;
  let root: BtfField | null = null;
  let constArg = 0n;
  let iterSlot: IterSlot | null = null;
  let dynptr: DynptrInfo | null = null;
  let sliceSize = -1;
  def.args.forEach((a, i) => {
    const regno = i + 1;
    const reg = regs[regno]!;
    // check_kfunc_args reads no register before its argument's check: an
    // `__ign` argument may be unset, the others fail their own check
    // (KF_TRUSTED_ARGS: no pointer argument may be NULL)
    if ((def.flags.trusted || def.flags.rcu || def.flags.release) && POINTER_ARGS.has(a.kind) && (isNullReg(reg) || mayBeNull(reg.type))) {
      env.fail(`Possibly NULL pointer passed to trusted arg${i}`, 'EACCES');
    }
    switch (a.kind) {
      case 'ignore':
        return;
      case 'scalar':
        if (reg.type !== T.SCALAR) env.fail(`R${regno} is not a scalar`, 'EINVAL');
        return;
      case 'const':
        if (reg.type !== T.SCALAR) env.fail(`R${regno} is not a scalar`, 'EINVAL');
        if (!tnumIsConst(reg.varOff)) env.fail(`R${regno} must be a known constant`, 'EINVAL');
        markChainPrecision(env, regno);
        constArg = reg.varOff.value;
        return;
      case 'ctx':
        // check_func_arg_reg_off comes first: an unset register has an unknown offset
        if (reg.type === T.NOT_INIT) env.fail('variable ? access var_off=(0x0; 0xffffffffffffffff) disallowed');
        if (reg.type !== T.CTX) env.fail(`arg#${i} expected pointer to ctx, but got ${regTypeStr(reg.type)}`, 'EINVAL');
        checkPtrOffReg(env, reg, regno, false);
        return;
      case 'btf':
        releaseRef = checkBtfArg(env, btf, name, def, a.btf, i, regno, reg) || releaseRef;
        return;
      case 'mem':
        checkKfuncMemSize(env, i, regno + 1);
        return;
      case 'size':
        return; // checked with its memory
      case 'iter':
        checkFuncArgRegOff(env, reg, regno, A.DONTCARE);
        iterSlot = processIterArg(env, name, def.iter!, iterType(env, btf, a.btf, i), i, regno);
        return;
      case 'dynptr': {
        checkFuncArgRegOff(env, reg, regno, A.DONTCARE);
        if (a.create === undefined) {
          // a pointer to a const dynptr is fine wherever the kfunc only reads it
          dynptr = processDynptrFunc(env, regno, { uninit: false, rdonly: reg.type === T.DYNPTR, type: 0 });
          return;
        }
        const parent = a.create === 'parent' ? dynptr : null;
        if (a.create === 'parent' && !parent) env.fail('verifier internal error: no dynptr type for parent of clone', 'EFAULT');
        processDynptrFunc(env, regno, {
          uninit: reg.type !== T.DYNPTR, rdonly: reg.type === T.DYNPTR,
          type: parent ? parent.type : a.create as number, cloneRefObjId: parent?.refObjId ?? 0,
        });
        return;
      }
      case 'opt_mem': {
        const size = regs[regno + 1]!;
        // a kernel object pointer (a map's included) goes the kernel object way, which a void * cannot take
        const b = baseType(reg.type);
        if (b === T.BTF_ID || b === T.SOCKET || b === T.SOCK_COMMON || b === T.TCP_SOCK || b === T.MAP_PTR) {
          env.fail(`kernel function ${name} args#${i} pointer type UNKNOWN  is not supported`, 'EINVAL');
        }
        if (!isNullReg(reg)) checkKfuncMemSize(env, i, regno + 1);
        if (!tnumIsConst(size.varOff)) env.fail(`R${regno + 1} must be a known constant`, 'EINVAL');
        sliceSize = Number(size.varOff.value);
        return;
      }
      case 'size_const':
        return; // checked with its memory
      case 'alloc': {
        checkFuncArgRegOff(env, reg, regno, reg.refObjId ? AF.RELEASE : A.DONTCARE);
        processAllocArg(env, name, i, regno);
        releaseRef = reg.refObjId;
        // the call is rewritten for the type it drops: every path must drop the same type there
        const aux = env.aux[env.insnIdx]!;
        if (aux.dropType !== undefined && aux.dropType !== reg.btfId) {
          env.verbose('same call cannot be used with different types\n');
          env.verbose('use one call for each type: inline the static function that holds the call,\n');
          env.fail('or mark the callee with __attribute__((nomerge))', 'EINVAL');
        }
        aux.dropType = reg.btfId;
        return;
      }
      case 'refcounted':
        // (a BTF pointer argument: no fixed offset here, unlike the other allocated-object arguments)
        if (baseType(reg.type) === T.BTF_ID) checkPtrOffReg(env, reg, regno, false);
        else checkFuncArgRegOff(env, reg, regno, A.DONTCARE);
        allocBtfId = processRefcountedArg(env, i, regno);
        // a new reference to an object the program owns cannot fail
        if (!isNonOwningRef(reg) && reg.refObjId) owningArg = true;
        return;
      case 'root':
        checkFuncArgRegOff(env, reg, regno, A.DONTCARE);
        root = processGraphRootArg(env, a.field, i, regno, lockOwner);
        return;
      case 'node':
        checkFuncArgRegOff(env, reg, regno, A.DONTCARE);
        processGraphNodeArg(env, name, a.field, i, regno, root, a.owning, inRbtreeLockRequiredCb(env));
        if (def.special === 'graph_insert') insertRef = reg.refObjId;
        return;
      case 'callback':
        if (reg.type !== T.FUNC) env.fail(`arg${i} expected pointer to func`, 'EINVAL');
        callbackSubprog = reg.subprogno;
        return;
    }
  });
  if (def.rbtreeAdd) pushCallbackCall(env, env.insnIdx, callbackSubprog, rbtreeAddCallbackState(env, root!));
  if (insertRef) {
    // the list or rbtree owns the object now: its references become non-owning
    convertOwningNonOwning(env, insertRef);
    releaseReference(env, insertRef);
  }
  if (releaseRef && !releaseReference(env, releaseRef)) env.fail(`kfunc ${name}#${insn.imm} reference has not been acquired before`, 'EINVAL');
  if (def.changesPkt) clearAllPktPointers(env);
  for (const r of [0, 1, 2, 3, 4, 5]) {
    markNotInit(regs[r]!);
    env.markRegScratched(r);
  }
  const r0 = regs[0]!;
  if (def.special === 'kern_ctx') {
    const id = kernCtxId(btf, env.progType);
    if (id < 0) env.fail(`tsbpf: the kernel context type of ${PROG_TYPE_NAMES[env.progType]} programs is not in the kernel BTF`, 'ENOTSUPP');
    markKnownZero(r0);
    r0.type = T.BTF_ID | F.TRUSTED;
    r0.btfId = id;
    r0.btfName = typeName(btf, id);
  } else if (def.special === 'rdonly_cast') {
    const id = Number(constArg);
    const t = id === 0 ? typeById(btf, 0) : btf.tryType(id);
    if (!t) env.fail(`Unknown type ID ${BigInt.asIntN(64, constArg)} passed to kfunc ${name}`, 'EINVAL');
    markKnownZero(r0);
    if (isStruct(t)) {
      r0.type = T.BTF_ID | F.UNTRUSTED;
      r0.btfId = id;
      r0.btfName = t.name;
    } else if (t.kind === 'UNKN') {
      r0.type = T.MEM | F.RDONLY | F.UNTRUSTED;
      r0.memSize = 0;
    } else {
      env.fail(`kfunc ${name} type ID argument must be of a struct or void`, 'EINVAL');
    }
  } else if (def.ret) {
    markKnownZero(r0);
    const id = findByNameKind(btf, def.ret.btf, 'STRUCT');
    r0.type = T.BTF_ID | (def.ret.null ? F.MAYBE_NULL : 0) | (def.ret.trusted ? F.TRUSTED : 0);
    r0.btfId = Math.max(0, id);
    r0.btfName = def.ret.btf;
    // a nullable result takes an id, then an acquired one the reference's
    if (def.ret.null) r0.id = env.nextId();
    if (def.ret.acquire) {
      const ref = acquireReference(env, env.insnIdx);
      if (def.ret.null) r0.id = ref;
      r0.refObjId = ref;
    }
  } else if (def.special === 'obj_new' || def.special === 'percpu_obj_new') {
    objNewResult(env, r0, constArg, def.special === 'percpu_obj_new');
  } else if (def.special === 'refcount_acquire') {
    markKnownZero(r0);
    r0.type = T.BTF_ID | F.ALLOC;
    r0.btfId = allocBtfId;
    r0.btfName = env.progBtf ? typeById(env.progBtf, allocBtfId).name : '';
  } else if (def.special === 'graph_node') {
    graphNodeResult(r0, root!);
  } else if (def.retScalar) {
    markUnknown(r0);
  } else if (def.retMem) {
    markKnownZero(r0);
    r0.type = T.MEM | F.RDONLY;
    r0.memSize = def.retMem.size;
    // memory an iterator hands out dies with the iterator
    if (iterSlot) r0.refObjId = (iterSlot as IterSlot).refObjId;
    if (def.retMem.null) {
      r0.type |= F.MAYBE_NULL;
      r0.id = env.nextId();
    }
  }
  const retNull = def.retNull === true && !(def.special === 'refcount_acquire' && owningArg);
  if (retNull) {
    r0.type |= F.MAYBE_NULL;
    r0.id = env.nextId();
  }
  if (def.acquire) {
    const ref = acquireReference(env, env.insnIdx);
    if (retNull) r0.id = ref;
    r0.refObjId = ref;
  } else if (def.special === 'graph_node') {
    refSetNonOwning(env, r0);
  }
  if (def.slice) {
    const d = dynptr as DynptrInfo | null;
    if (!d) env.fail('verifier internal error: no dynptr id', 'EFAULT');
    markKnownZero(r0);
    r0.memSize = sliceSize;
    r0.type = T.MEM | dynptrTypeFlag(d.type) | (def.slice === 'rdonly' ? F.RDONLY : 0) | F.MAYBE_NULL;
    // the kernel tsbpf follows (6.18.44, build v1272) refuses writable slices outright, once the arguments passed
    if (def.slice === 'rdwr') env.fail(`${name}() is not allowed`, 'EINVAL');
    r0.dynptrId = d.id;
    // a slice of a ring buffer record ends with the record (6.18.44 build v1272, measured)
    r0.refObjId = d.refObjId;
    r0.id = env.nextId();
  }
  if (def.iter === 'next') processIterNextCall(env, iterSlot!);
}

/**
 * KF_ARG_PTR_TO_MEM_SIZE (check_kfunc_mem_size_reg): the memory of argument
 * `i` is read and then written for as many bytes as register `sizeRegno`
 * may hold (zero allowed), a possibly-NULL pointer as if not NULL; a failure
 * ends with the kernel's line about the pair.
 */
function checkKfuncMemSize(env: Env, i: number, sizeRegno: number): void {
  const mem = env.regs[sizeRegno - 1]!;
  const saved = mayBeNull(mem.type) ? copyReg(mem) : null;
  if (saved) markPtrNotNullReg(mem);
  try {
    const meta = { rawMode: false, accessSize: 0, regno: 0, msizeMaxValue: 0n };
    checkMemSizeReg(env, sizeRegno, 'read', true, meta);
    checkMemSizeReg(env, sizeRegno, 'write', true, meta);
  } catch (e) {
    if (e instanceof VerifyAbort) env.fail(`arg#${i} arg#${i + 1} memory, len pair leads to invalid memory access`, e.errno);
    throw e;
  } finally {
    if (saved) Object.assign(mem, saved);
  }
}

/** A kernel object argument (KF_ARG_PTR_TO_BTF_ID); the reference it releases, or 0. */
function checkBtfArg(env: Env, btf: KernelBtf, name: string, def: KfuncDef, need: string, i: number, regno: number, reg: Reg): number {
  const trustedArgs = def.flags.release === true || def.flags.trusted === true;
  if ((trustedArgs || def.flags.rcu) && (isNullReg(reg) || mayBeNull(reg.type))) env.fail(`Possibly NULL pointer passed to trusted arg${i}`, 'EACCES');
  if (baseType(reg.type) !== T.BTF_ID) {
    if (reg.type === T.SCALAR || reg.type === T.NOT_INIT) env.fail(`arg#${i} pointer type STRUCT ${need} must point to scalar, or struct with scalar`, 'EINVAL');
    env.fail(`tsbpf: kfunc ${name} argument ${i} is a ${regTypeStr(reg.type)}: tsbpf models only kernel object pointers there`, 'ENOTSUPP');
  }
  if ((trustedArgs || def.flags.rcu) && !isTrustedReg(reg)) {
    if (!def.flags.rcu) env.fail(`R${regno} must be referenced or trusted`, 'EINVAL');
    if (!isRcuReg(reg)) env.fail(`R${regno} must be a rcu pointer`, 'EINVAL');
  }
  if (def.flags.release && reg.off) env.fail(`R${regno} must have zero offset when passed to release func or trusted arg to kfunc`, 'EINVAL');
  const needId = findByNameKind(btf, need, 'STRUCT');
  // strict type match only for acquiring and releasing kfuncs: others take bitwise-equivalent types (a struct through its first member)
  const strict = def.ret?.acquire === true || (def.flags.release === true && reg.refObjId !== 0);
  if (!reg.btfId || needId < 0 || !btfStructIdsMatch(btf, reg.btfId, reg.off, needId, strict, WALK_FLAGS, (m) => env.verbose(m))) {
    const have = skipModifiers(btf, reg.btfId).t;
    env.fail(`kernel function ${name} args#${i} expected pointer to STRUCT ${need} but R${regno} has a pointer to ${kindStr(have)} ${anonName(have.name)}`, 'EINVAL');
  }
  if (def.flags.release && !reg.refObjId) env.fail(`release kernel function ${name} expects refcounted PTR_TO_BTF_ID`, 'EINVAL');
  return def.flags.release ? reg.refObjId : 0;
}

/** The kernel's context type of a program type (`bpf_ctx_convert`'s `BPF_PROG_TYPE_X_kern` member), or -1. */
function kernCtxId(btf: KernelBtf, progType: number): number {
  const conv = findByNameKind(btf, 'bpf_ctx_convert', 'STRUCT');
  if (conv < 0) return -1;
  const member = `BPF_PROG_TYPE_${(PROG_TYPE_NAMES[progType] ?? '').toUpperCase()}_kern`;
  const m = (typeById(btf, conv).members ?? []).find((x) => x.name === member);
  if (!m) return -1;
  const r = skipModifiers(btf, m.type);
  return isStruct(r.t) ? r.id : -1;
}

void markUnknown;

/**
 * check_pseudo_btf_id: a `lddw` of a kernel variable or function
 * (BPF_PSEUDO_BTF_ID, `imm` its id in the kernel BTF). Per-CPU variables
 * load a per-CPU kernel object pointer, structs a kernel object pointer,
 * anything else read-only memory of the type's size.
 */
export function checkPseudoBtfId(env: Env, idx: number, insn: RawInsn, next: RawInsn): void {
  const btf = env.kbtf();
  if (next.imm !== 0) env.fail(`tsbpf: ldimm64 names a kernel module's BTF (fd ${next.imm}); tsbpf knows only the kernel's own BTF`, 'ENOTSUPP');
  if (!btf) {
    env.fail(`tsbpf: ldimm64 loads kernel variable with BTF id ${insn.imm}, which needs the kernel BTF tsbpf was not given (--btf)`, 'ENOTSUPP');
  }
  const id = insn.imm;
  const t = id === 0 ? typeById(btf, 0) : id > 0 ? btf.tryType(id) : undefined;
  if (!t) env.fail(`ldimm64 insn specifies invalid btf_id ${id}.`, 'ENOENT');
  if (t.kind !== 'VAR' && t.kind !== 'FUNC') env.fail(`pseudo btf_id ${id} in ldimm64 isn't KIND_VAR or KIND_FUNC`, 'EINVAL');
  // kallsyms_lookup_name (a kernel without CONFIG_KALLSYMS_ALL has no
  // addresses for its variables; every function of its BTF has one)
  const known = env.kernelSymbols?.(t.name);
  if (known === false) env.fail(`ldimm64 failed to find the address for kernel symbol '${t.name}'.`, 'ENOENT');
  if (known === undefined && t.kind === 'VAR') {
    env.fail(`tsbpf: whether the kernel has an address for variable '${t.name}' (kallsyms; none without CONFIG_KALLSYMS_ALL) is not known to tsbpf: give it the kernel's symbols`, 'ENOTSUPP');
  }
  const aux = env.aux[idx]!;
  if (t.kind === 'FUNC') {
    aux.btfVar = { type: T.MEM | F.RDONLY, btfId: 0, memSize: 0 };
    return;
  }
  const sec = findByNameKind(btf, '.data..percpu', 'DATASEC');
  const percpu = sec > 0 && (typeById(btf, sec).vars ?? []).some((v) => v.type === id);
  const type = t.type ?? 0;
  const target = skipModifiers(btf, type).t;
  if (percpu) {
    aux.btfVar = { type: T.BTF_ID | F.PERCPU, btfId: type, memSize: 0 };
  } else if (!isStruct(target)) {
    const r = resolveSize(btf, skipModifiers(btf, type).id);
    if (!r) env.fail(`ldimm64 unable to resolve the size of type '${target.name}': -22`, 'EINVAL');
    aux.btfVar = { type: T.MEM | F.RDONLY, btfId: 0, memSize: r.size };
  } else {
    aux.btfVar = { type: T.BTF_ID, btfId: type, memSize: 0 };
  }
}
