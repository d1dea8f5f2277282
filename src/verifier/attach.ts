/**
 * Attach points of BTF-typed programs (tracing: fentry/fexit/fmod_ret,
 * tp_btf, iterators; LSM): the kernel function, tracepoint or hook a program
 * is loaded for (`attach_btf_id` in the kernel's BTF), checked as
 * `bpf_check_attach_target`/`check_attach_btf_id` do, and the context
 * accesses it allows (`btf_ctx_access`): each u64 of the context is an
 * argument of the attach point, typed from its BTF prototype.
 */
import type { Env } from './env.js';
import type { KBtfType, KernelBtf } from './kbtf.js';
import { anonName, findByNameKind, isAnyEnum, isModifier, isSmallInt, kindStr, paramMatchSuffix, skipModifiers, typeById } from './kbtf.js';
import { F, T } from './reg.js';
import { AttachType, ProgType } from '../isa/uapi.js';

/** A context argument the attach point types itself (`struct bpf_ctx_arg_aux`): iterators' objects and buffers. */
export interface CtxArgInfo {
  off: number;
  regType: number;
  btfId: number;
}

/** A resolved attach point. */
export interface AttachTarget {
  btf: KernelBtf;
  /** `attach_btf_id`. */
  btfId: number;
  /** `attach_func_name` (a tracepoint's name without `btf_trace_`). */
  funcName: string;
  /** The attach point's FUNC_PROTO. */
  proto: KBtfType;
  /** tp_btf: the prototype's first argument (`void *__data`) is not the program's. */
  btfTrace: boolean;
  /** Arguments typed by the attach point itself (iterators). */
  ctxArgInfo: CtxArgInfo[];
  /** tp_btf: arguments that may be NULL (bit 4*i) or an error pointer (bit 4*i+1) (`raw_tp_null_args`). */
  rawTpNullMask: number;
  /** struct_ops: the struct, the member's index and byte offset, and the tcp_sock the kernel types `struct sock` arguments as (tcp_congestion_ops). */
  structOps?: { struct: string; memberIdx: number; memberOff: number; sockPromotion?: { sock: number; tcpSock: number } };
}

/** Why an attach point is refused: the kernel's log line (or none), errno; `tsbpf` for what tsbpf cannot decide. */
export interface AttachError {
  msg: string | null;
  errno: string;
}

/** `bpf_prog_has_trampoline`. */
export function hasTrampoline(progType: number, attach: number): boolean {
  return (progType === ProgType.TRACING && (attach === AttachType.TRACE_FENTRY || attach === AttachType.TRACE_FEXIT || attach === AttachType.MODIFY_RETURN))
    || (progType === ProgType.LSM && attach === AttachType.LSM_MAC);
}

/** Tracepoints whose arguments may be NULL (bit 4*i) or an error pointer (bit 4*i+1), as the kernel lists them. */
const RAW_TP_NULL_ARGS: Readonly<Record<string, number>> = {
  sched_pi_setprio: 0x10, sched_stick_numa: 0x100, sched_swap_numa: 0x100,
  // in 6.18.44 build v1272 (measured: a NULL wait options / SEND_SIG_* info pointer)
  sched_process_wait: 0x1, signal_generate: 0x20, signal_deliver: 0x20, tcp_sendmsg_locked: 0x100,
  afs_make_fs_call: 0x10, afs_make_fs_calli: 0x10, afs_make_fs_call1: 0x10, afs_make_fs_call2: 0x10, afs_protocol_error: 0x1,
  afs_flock_ev: 0x10,
  cachefiles_lookup: 0x1 | 0x200, cachefiles_unlink: 0x1, cachefiles_rename: 0x1, cachefiles_prep_read: 0x1,
  cachefiles_mark_active: 0x1, cachefiles_mark_failed: 0x1, cachefiles_mark_inactive: 0x1, cachefiles_vfs_error: 0x1,
  cachefiles_io_error: 0x1, cachefiles_ondemand_open: 0x1, cachefiles_ondemand_copen: 0x1, cachefiles_ondemand_close: 0x1,
  cachefiles_ondemand_read: 0x1, cachefiles_ondemand_cread: 0x1, cachefiles_ondemand_fd_write: 0x1,
  cachefiles_ondemand_fd_release: 0x1,
  ext4_mballoc_discard: 0x10, ext4_mballoc_free: 0x10, fib_table_lookup: 0x100,
  posix_lock_inode: 0x10, fcntl_setlk: 0x10, locks_remove_posix: 0x10, flock_lock_inode: 0x10,
  break_lease_noblock: 0x10, break_lease_block: 0x10, break_lease_unblock: 0x10, generic_delete_lease: 0x10,
  time_out_leases: 0x10, host1x_cdma_push_gather: 0x10000,
  mm_khugepaged_scan_pmd: 0x10, mm_collapse_huge_page_isolate: 0x1, mm_khugepaged_scan_file: 0x10,
  mm_khugepaged_collapse_file: 0x10, mm_page_alloc: 0x1, mm_page_pcpu_drain: 0x1, mm_page_alloc_zone_locked: 0x1,
  netfs_failure: 0x10, device_pm_callback_start: 0x10, qdisc_dequeue: 0x1000,
  rxrpc_recvdata: 0x1, rxrpc_resend: 0x10, rxrpc_tq: 0x10, rxrpc_client: 0x1, kfree_skb: 0x1000,
  xs_stream_read_data: 0x1, xprt_reserve_cong: 0x10, xprt_release_cong: 0x10, xprt_get_cong: 0x10, xprt_put_cong: 0x10,
  tcp_send_reset: 0x11, tegra_dma_tx_status: 0x100, tmigr_update_events: 0x1,
  writeback_dirty_folio: 0x10, folio_wait_writeback: 0x10, mr_integ_alloc: 0x2000, bpf_testmod_test_read: 0x0,
  amdgpu_vm_bo_map: 0x1, amdgpu_vm_bo_unmap: 0x1, netfs_folioq: 0x1,
  xfs_defer_create_intent: 0x1, xfs_defer_cancel_list: 0x1, xfs_defer_pending_finish: 0x1, xfs_defer_pending_abort: 0x1,
  xfs_defer_relog_intent: 0x1, xfs_defer_isolate_paused: 0x1, xfs_defer_item_pause: 0x1, xfs_defer_item_unpause: 0x1,
  xfs_defer_add_item: 0x1, xfs_defer_cancel_item: 0x1, xfs_defer_finish_item: 0x1,
  xfs_ioc_free_eofblocks: 0x10, xfs_blockgc_free_space: 0x10, xfs_btree_updkeys: 0x100,
  xfs_btree_overlapped_query_range: 0x100, xfs_map_blocks_found: 0x10000, xfs_map_blocks_alloc: 0x10000,
  xfs_iomap_alloc: 0x1000, xfs_iomap_found: 0x1000,
  xfs_inodegc_flush: 0x1, xfs_inodegc_push: 0x1, xfs_inodegc_start: 0x1, xfs_inodegc_stop: 0x1, xfs_inodegc_queue: 0x1,
  xfs_inodegc_throttle: 0x1, xfs_fs_sync_fs: 0x1, xfs_blockgc_start: 0x1, xfs_blockgc_stop: 0x1, xfs_blockgc_worker: 0x1,
  xfs_blockgc_flush_all: 0x1, xchk_nlinks_live_update: 0x10, xchk_metapath_lookup: 0x100,
  nfsd_dirent: 0x1, nfsd_file_acquire: 0x1001, nfsd_file_insert_err: 0x1, nfsd_file_cons_err: 0x1,
  nfs4_setup_sequence: 0x1, pnfs_update_layout: 0x10000, nfs4_inode_callback_event: 0x200,
  nfs4_inode_stateid_callback_event: 0x200,
  pnfs_mds_fallback_pg_init_read: 0x10000, pnfs_mds_fallback_pg_init_write: 0x10000,
  pnfs_mds_fallback_pg_get_mirror_count: 0x10000, pnfs_mds_fallback_read_done: 0x10000,
  pnfs_mds_fallback_write_done: 0x10000, pnfs_mds_fallback_read_pagelist: 0x10000,
  pnfs_mds_fallback_write_pagelist: 0x10000,
  coda_dec_pic_run: 0x10, coda_dec_pic_done: 0x10,
  cfg80211_scan_done: 0x11, rdev_set_coalesce: 0x10, cfg80211_report_wowlan_wakeup: 0x100,
  cfg80211_inform_bss_frame: 0x100, cfg80211_michael_mic_failure: 0x10000,
  wiphy_work_queue: 0x10, wiphy_work_run: 0x10, wiphy_work_cancel: 0x10, wiphy_work_flush: 0x10,
  hugetlbfs_alloc_inode: 0x10, spufs_context: 0x10, kvm_page_fault_enter: 0x100, dpu_crtc_setup_mixer: 0x100,
  binder_transaction: 0x100, btree_path_free: 0x100, hfi1_sdma_progress: 0x1000, iptfs_ingress_postq_event: 0x1000,
  neigh_update: 0x10, amdtp_packet: 0x100,
};

/** Tracing targets the kernel refuses (`btf_id_deny`). */
const TRACING_DENY = new Set(['migrate_disable', 'migrate_enable', 'rcu_read_unlock_strict', 'preempt_count_add',
  'preempt_count_sub', '__rcu_read_lock', '__rcu_read_unlock']);

/** `bpf_lsm_*` functions that are not LSM hooks, or hooks BPF may not attach to. */
const LSM_NOT_HOOKS = new Set(['bpf_lsm_find_cgroup_shim', 'bpf_lsm_verify_prog', 'bpf_lsm_is_sleepable_hook', 'bpf_lsm_is_trusted',
  'bpf_lsm_get_retval_range', 'bpf_lsm_vm_enough_memory', 'bpf_lsm_inode_need_killpriv', 'bpf_lsm_inode_getsecurity',
  'bpf_lsm_inode_listsecurity', 'bpf_lsm_inode_copy_up_xattr', 'bpf_lsm_getselfattr', 'bpf_lsm_getprocattr',
  'bpf_lsm_setprocattr', 'bpf_lsm_key_getsecurity', 'bpf_lsm_audit_rule_match', 'bpf_lsm_ismaclabel']);

/** LSM hooks whose arguments are not trusted (`untrusted_lsm_hooks`). */
const LSM_UNTRUSTED = new Set(['bpf_lsm_bpf_map_free', 'bpf_lsm_bpf_prog_free', 'bpf_lsm_file_alloc_security',
  'bpf_lsm_file_free_security', 'bpf_lsm_sk_alloc_security', 'bpf_lsm_sk_free_security', 'bpf_lsm_task_free',
  'bpf_lsm_bdev_alloc_security', 'bpf_lsm_bdev_free_security']);

/** LSM hooks returning 0 or 1 (`bool_lsm_hooks`). */
const LSM_BOOL = new Set(['bpf_lsm_xfrm_state_pol_flow_match', 'bpf_lsm_audit_rule_known', 'bpf_lsm_inode_xattr_skipcap']);

/**
 * Iterator targets (`bpf_iter_reg`): the context arguments each types
 * itself, measured on the kernel (scripts/probe-verifier-tracing.ts), and
 * the map iterators' from the kernel's source (the probe loads no map).
 * Types are register types; the BTF id is the member's pointee in
 * `bpf_iter__T`.
 */
export const ITER_CTX_ARGS: Readonly<Record<string, readonly { off: number; type: number }[]>> = {
  bpf_link: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }],
  bpf_map: [{ off: 8, type: T.BTF_ID | F.TRUSTED | F.MAYBE_NULL }],
  // the map iterators (the kernel's bpf_iter_reg; their buffers' sizes are checked at attach, against the map)
  bpf_map_elem: [{ off: 16, type: T.BUF | F.RDONLY | F.MAYBE_NULL }, { off: 24, type: T.BUF | F.MAYBE_NULL }],
  bpf_sk_storage_map: [{ off: 16, type: T.BTF_ID | F.MAYBE_NULL }, { off: 24, type: T.BUF | F.MAYBE_NULL }],
  sockmap: [{ off: 16, type: T.BUF | F.RDONLY | F.MAYBE_NULL }, { off: 24, type: T.BTF_ID | F.MAYBE_NULL }],
  bpf_prog: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }],
  cgroup: [{ off: 8, type: T.BTF_ID | F.TRUSTED | F.MAYBE_NULL }],
  dmabuf: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }],
  ipv6_route: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }],
  kmem_cache: [{ off: 8, type: T.BTF_ID | F.TRUSTED | F.MAYBE_NULL }],
  ksym: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }],
  netlink: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }],
  task: [{ off: 8, type: T.BTF_ID | F.TRUSTED | F.MAYBE_NULL }],
  task_file: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }, { off: 24, type: T.BTF_ID | F.MAYBE_NULL }],
  task_vma: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }, { off: 16, type: T.BTF_ID | F.MAYBE_NULL }],
  tcp: [{ off: 8, type: T.BTF_ID | F.TRUSTED | F.MAYBE_NULL }],
  udp: [{ off: 8, type: T.BTF_ID | F.TRUSTED | F.MAYBE_NULL }],
  unix: [{ off: 8, type: T.BTF_ID | F.MAYBE_NULL }],
};

/** `btf_distill_func_proto`: the trampoline's model of a function; null when it fits, else the kernel's message. */
function distillFuncProto(btf: KernelBtf, proto: KBtfType, tname: string): string | null {
  const params = proto.params ?? [];
  if (params.length > 12) return `The function ${tname} has ${params.length} arguments. Too many.`;
  const typeSize = (id: number): { size: number; t: KBtfType } => {
    if (!id) return { size: 0, t: typeById(btf, 0) };
    const t = skipModifiers(btf, id).t;
    if (t.kind === 'PTR') return { size: 8, t };
    if (t.kind === 'INT' || isAnyEnum(t) || t.kind === 'STRUCT') return { size: t.size ?? 0, t };
    return { size: -22, t };
  };
  const ret = typeSize(proto.type ?? 0);
  if (ret.size < 0 || ret.t.kind === 'STRUCT') return `The function ${tname} return type ${kindStr(ret.t)} is unsupported.`;
  for (let i = 0; i < params.length; i++) {
    if (i === params.length - 1 && params[i]!.type === 0) return `The function ${tname} with variable args is unsupported.`;
    const a = typeSize(params[i]!.type);
    if (a.size < 0 || a.size > 16) return `The function ${tname} arg${i} type ${kindStr(a.t)} is unsupported.`;
    if (a.size === 0) return `The function ${tname} has malformed void argument.`;
  }
  return null;
}

/**
 * `check_attach_btf_id` for a tracing or LSM program: the attach point
 * `btfId` of the kernel BTF, or why the kernel (or tsbpf) refuses it.
 */
export function resolveAttachTarget(btf: KernelBtf, progType: number, attach: number, btfId: number, sleepable: boolean,
  gpl: boolean): AttachTarget | AttachError {
  const fail = (msg: string | null, errno = 'EINVAL'): AttachError => ({ msg, errno });
  if (!btfId) return fail('Tracing programs must provide btf_id');
  const t0 = btfId > 0 ? btf.tryType(btfId) : undefined;
  if (!t0) return fail(`attach_btf_id ${btfId} is invalid`);
  let tname = t0.name;
  if (!tname) return fail(`attach_btf_id ${btfId} doesn't have a name`);
  let proto: KBtfType;
  const target: AttachTarget = {
    btf, btfId, funcName: tname, proto: t0, btfTrace: false, ctxArgInfo: [], rawTpNullMask: 0,
  };
  if (progType === ProgType.TRACING && attach === AttachType.TRACE_RAW_TP) {
    if (t0.kind !== 'TYPEDEF') return fail(`attach_btf_id ${btfId} is not a typedef`);
    if (!tname.startsWith('btf_trace_')) return fail(`attach_btf_id ${btfId} points to wrong type name ${tname}`);
    tname = tname.slice('btf_trace_'.length);
    // the kernel takes the prototype (with argument names) from the
    // tracepoint's `__bpf_trace_<template>` function; the typedef's has the
    // same types
    const ptr = typeById(btf, t0.type ?? 0);
    if (ptr.kind !== 'PTR') return fail(null);
    proto = typeById(btf, ptr.type ?? 0);
    if (proto.kind !== 'FUNC_PROTO') return fail(null);
    target.btfTrace = true;
    target.rawTpNullMask = RAW_TP_NULL_ARGS[tname] ?? 0;
  } else if (progType === ProgType.TRACING && attach === AttachType.TRACE_ITER) {
    if (t0.kind !== 'FUNC') return fail(`attach_btf_id ${btfId} is not a function`);
    proto = typeById(btf, t0.type ?? 0);
    if (proto.kind !== 'FUNC_PROTO') return fail(null);
    const distill = distillFuncProto(btf, proto, tname);
    if (distill) return fail(distill);
    if (!tname.startsWith('bpf_iter_')) return fail(null);
    const iterName = tname.slice('bpf_iter_'.length);
    const args = ITER_CTX_ARGS[iterName];
    if (!args) {
      return fail(`tsbpf: iterator '${iterName}' is not among the iterator targets tsbpf knows (the kernel types their context arguments by target)`, 'ENOTSUPP');
    }
    const ctxStruct = findByNameKind(btf, `bpf_iter__${iterName}`, 'STRUCT');
    for (const a of args) {
      const m = ctxStruct >= 0 ? (typeById(btf, ctxStruct).members ?? []).find((x) => x.bitOffset === a.off * 8) : undefined;
      // the members are __bpf_md_ptr unions around the pointer
      let ptr = m ? skipModifiers(btf, m.type).t : undefined;
      for (let n = 0; ptr && (ptr.kind === 'UNION' || ptr.kind === 'STRUCT') && ptr.members?.length && n < 4; n++) {
        ptr = skipModifiers(btf, ptr.members[0]!.type).t;
      }
      const id = ptr?.kind === 'PTR' ? skipModifiers(btf, ptr.type ?? 0).id : 0;
      target.ctxArgInfo.push({ off: a.off, regType: a.type, btfId: id });
    }
  } else if ((progType === ProgType.TRACING && (attach === AttachType.TRACE_FENTRY || attach === AttachType.TRACE_FEXIT || attach === AttachType.MODIFY_RETURN))
    || (progType === ProgType.LSM && (attach === AttachType.LSM_MAC || attach === AttachType.LSM_CGROUP))) {
    if (t0.kind !== 'FUNC') return fail(`attach_btf_id ${btfId} is not a function`);
    proto = typeById(btf, t0.type ?? 0);
    if (proto.kind !== 'FUNC_PROTO') return fail(null);
    const distill = distillFuncProto(btf, proto, tname);
    if (distill) return fail(distill);
    if (sleepable) {
      // sleepable fentry/fexit/fmod_ret need the kernel's error-injection
      // list, sleepable LSM programs its list of sleepable hooks
      return fail(`tsbpf: whether ${tname} may be attached to by a sleepable program (the kernel's ${progType === ProgType.LSM ? 'sleepable LSM hook' : 'error injection'} list) is not known to tsbpf`, 'ENOTSUPP');
    }
    if (attach === AttachType.MODIFY_RETURN && !tname.startsWith('security_')) {
      return fail(`tsbpf: whether ${tname}() is modifiable (the kernel's error injection list) is not known to tsbpf`, 'ENOTSUPP');
    }
    if (progType === ProgType.LSM) {
      if (!gpl) return fail('LSM programs must have a GPL compatible license');
      if (!tname.startsWith('bpf_lsm_') || LSM_NOT_HOOKS.has(tname)) {
        return fail(`attach_btf_id ${btfId} points to wrong type name ${tname}`);
      }
    } else if (TRACING_DENY.has(tname)) {
      return fail(null);
    }
  } else {
    return fail(null);
  }
  target.funcName = tname;
  target.proto = proto;
  return target;
}

/** `prog_args_trusted`. */
export function progArgsTrusted(progType: number, attach: number, target: AttachTarget): boolean {
  if (progType === ProgType.TRACING) return attach === AttachType.TRACE_RAW_TP || attach === AttachType.TRACE_ITER;
  if (progType === ProgType.LSM) return !LSM_UNTRUSTED.has(target.funcName);
  return progType === ProgType.STRUCT_OPS;
}

/** `bpf_lsm_get_retval_range` for an LSM_MAC program: null for void hooks. */
export function lsmRetvalRange(target: AttachTarget): { min: number; max: number } | null {
  if (!target.proto.type) return null;
  return LSM_BOOL.has(target.funcName) ? { min: 0, max: 1 } : { min: -4095, max: 0 };
}

/** The parameters of the attach point as the program sees them (without tp_btf's `void *__data`). */
function progParams(target: AttachTarget): readonly { name: string; type: number }[] {
  const params = target.proto.params ?? [];
  return target.btfTrace ? params.slice(1) : params;
}

/** `get_ctx_arg_idx`. */
function ctxArgIdx(btf: KernelBtf, proto: KBtfType, off: number): number {
  const params = proto.params ?? [];
  let offset = 0;
  const width = (id: number): number => {
    const t = skipModifiers(btf, id).t;
    return t.kind === 'PTR' ? 8 : Math.ceil((t.size ?? 0) / 8) * 8;
  };
  for (let i = 0; i < params.length; i++) {
    offset += width(params[i]!.type);
    if (off < offset) return i;
  }
  offset += width(proto.type ?? 0);
  if (off < offset) return params.length;
  return params.length + 1;
}

/** The outcome of a context access (`struct bpf_insn_access_aux`). */
export interface CtxAccess {
  ok: boolean;
  regType: number;
  btfId: number;
  isRetval: boolean;
}

/**
 * `btf_ctx_access` (with `bpf_tracing_btf_ctx_access`'s checks for tracing
 * programs): reading argument `off / 8` of the attach point.
 */
export function btfCtxAccess(target: AttachTarget, progType: number, attach: number, off: number, size: number, write: boolean,
  log: (s: string) => void): CtxAccess {
  const no: CtxAccess = { ok: false, regType: T.SCALAR, btfId: 0, isRetval: false };
  const scalar: CtxAccess = { ok: true, regType: T.SCALAR, btfId: 0, isRetval: false };
  // bpf_tracing_ctx_access (tracing); LSM programs get btf_ctx_access alone in
  // the kernel, tsbpf applies the same checks to them (they cannot be
  // compared with the kernel here; a write is refused, never accepted)
  if (off < 0 || off >= 8 * 12 || write || off % size !== 0) return no;
  const btf = target.btf;
  const tname = target.funcName;
  if (off % 8) {
    log(`func '${tname}' offset ${off} is not multiple of 8\n`);
    return no;
  }
  const arg = ctxArgIdx(btf, target.proto, off);
  const params = progParams(target);
  const nrArgs = params.length;
  if (arg > nrArgs) {
    log(`func '${tname}' doesn't have ${arg + 1}-th argument\n`);
    return no;
  }
  let isRetval = false;
  let t: KBtfType;
  if (arg === nrArgs) {
    switch (attach) {
      case AttachType.LSM_MAC:
        isRetval = progType === ProgType.LSM;
        t = typeById(btf, target.proto.type ?? 0);
        break;
      case AttachType.LSM_CGROUP: case AttachType.TRACE_FEXIT:
        t = typeById(btf, target.proto.type ?? 0);
        break;
      case AttachType.MODIFY_RETURN:
        t = skipModifiers(btf, target.proto.type ?? 0).t;
        if (!isSmallInt(t)) {
          log(`ret type ${kindStr(t)} not allowed for fmod_ret\n`);
          return no;
        }
        break;
      default:
        log(`func '${tname}' doesn't have ${arg + 1}-th argument\n`);
        return no;
    }
  } else {
    t = typeById(btf, params[arg]!.type);
  }
  for (let n = 0; isModifier(t) && n < 64; n++) t = typeById(btf, t.type ?? 0);
  if (isSmallInt(t) || isAnyEnum(t) || t.kind === 'STRUCT') return { ...scalar, isRetval };
  if (t.kind !== 'PTR') {
    log(`func '${tname}' arg${arg} '${anonName(t.name)}' has type ${kindStr(t)}. Only pointer access is allowed\n`);
    return no;
  }
  if (size !== 8) {
    log(`func '${tname}' size ${size} must be 8\n`);
    return no;
  }
  for (const c of target.ctxArgInfo) {
    if (c.off === off && (c.regType & 0xff) === T.BUF && (c.regType & F.MAYBE_NULL)) return { ok: true, regType: c.regType, btfId: 0, isRetval };
  }
  if (!t.type) return { ...scalar, isRetval };
  if (skipModifiers(btf, t.type).t.kind === 'INT') return { ...scalar, isRetval };
  for (const c of target.ctxArgInfo) {
    if (c.off === off) {
      if (!c.btfId) {
        log(`invalid btf_id for context argument offset ${off}\n`);
        return no;
      }
      return { ok: true, regType: c.regType, btfId: c.btfId, isRetval };
    }
  }
  let regType: number = T.BTF_ID;
  if (progArgsTrusted(progType, attach, target)) regType |= F.TRUSTED;
  const param = arg < nrArgs ? params[arg] : undefined;
  if (param && paramMatchSuffix(param.name, '__nullable')) regType |= F.MAYBE_NULL;
  let ptrErr = false;
  if (attach === AttachType.TRACE_RAW_TP && progType === ProgType.TRACING) {
    if (target.rawTpNullMask & (0x1 << (arg * 4))) regType |= F.MAYBE_NULL;
    if (target.rawTpNullMask & (0x2 << (arg * 4))) ptrErr = true;
  }
  let btfId = t.type;
  let pt = typeById(btf, t.type);
  if (pt.kind === 'TYPE_TAG' && !pt.kflag) {
    if (pt.name === 'user') regType |= F.USER;
    if (pt.name === 'percpu') regType |= F.PERCPU;
  }
  for (let n = 0; isModifier(pt) && n < 64; n++) {
    btfId = pt.type ?? 0;
    pt = typeById(btf, btfId);
  }
  if (pt.kind !== 'STRUCT' && pt.kind !== 'UNION') {
    log(`func '${tname}' arg${arg} type ${kindStr(pt)} is not a struct\n`);
    return no;
  }
  log(`func '${tname}' arg${arg} has btf_id ${btfId} type ${kindStr(pt)} '${anonName(pt.name)}'\n`);
  if (ptrErr) {
    log(`marking pointer arg${arg} as scalar as it may encode error`);
    return { ...scalar, isRetval };
  }
  const promote = target.structOps?.sockPromotion;
  if (promote && btfId === promote.sock && !(regType & (F.USER | F.PERCPU | F.UNTRUSTED))) btfId = promote.tcpSock;
  return { ok: true, regType, btfId, isRetval };
}

/**
 * libbpf's `find_attach_btf_id`: the kernel BTF id of the attach point a
 * section names (`btf_trace_X` typedef for tp_btf, `bpf_lsm_X` for LSM,
 * `bpf_iter_X` for iterators, the function itself otherwise), or -1.
 */
export function findAttachBtfId(btf: KernelBtf, progType: number, attach: number, name: string): number {
  if (progType === ProgType.TRACING && attach === AttachType.TRACE_RAW_TP) return findByNameKind(btf, `btf_trace_${name}`, 'TYPEDEF');
  if (progType === ProgType.LSM) return findByNameKind(btf, `bpf_lsm_${name}`, 'FUNC');
  if (attach === AttachType.TRACE_ITER) return findByNameKind(btf, `bpf_iter_${name}`, 'FUNC');
  return findByNameKind(btf, name, 'FUNC');
}

/**
 * check_attach_btf_id for tracing and LSM programs: with the kernel BTF and
 * an attach point, the context is typed from it (env.attach); without
 * either, tsbpf keeps its own model (twelve u64 arguments, no BTF pointers).
 */
export function checkAttachBtfId(env: Env): void {
  if (env.progType === ProgType.STRUCT_OPS) {
    env.attach = resolveStructOps(env);
    return;
  }
  if (env.progType !== ProgType.TRACING && env.progType !== ProgType.LSM) return;
  if (env.attachBtfId === undefined && env.attachTo === undefined) return;
  const btf = env.kbtf();
  if (!btf) return;
  let btfId = env.attachBtfId ?? 0;
  if (env.attachBtfId === undefined && env.attachTo !== undefined) {
    btfId = findAttachBtfId(btf, env.progType, env.expectedAttachType, env.attachTo);
    if (btfId < 0) {
      env.fail(`tsbpf: attach point '${env.attachTo}' is not in the kernel BTF (libbpf: failed to find kernel BTF type ID of '${env.attachTo}'; the program is not loaded)`, 'ESRCH');
    }
  }
  const r = resolveAttachTarget(btf, env.progType, env.expectedAttachType, btfId, env.sleepable, env.gpl);
  if ('errno' in r) {
    env.fail(r.msg ?? `tsbpf: the kernel refuses attach_btf_id ${btfId} ('${btf.tryType(btfId)?.name ?? ''}') for this program (EINVAL before verification, without a log message)`, r.errno);
  }
  env.attach = r;
}

/** The struct_ops types tsbpf models (their verifier ops: context, helpers, writes). */
const STRUCT_OPS_MODELLED = new Set(['tcp_congestion_ops']);
/** Members of a modelled struct_ops type that BPF may not implement (`check_member`). */
const STRUCT_OPS_UNSUPPORTED: Readonly<Record<string, ReadonlySet<string>>> = { tcp_congestion_ops: new Set(['get_info']) };

/**
 * check_struct_ops_btf_id: the member of the kernel's struct_ops type the
 * program implements; its function prototype types the context.
 */
function resolveStructOps(env: Env): AttachTarget {
  if (!env.gpl) env.fail('struct ops programs must have a GPL compatible license', 'EINVAL');
  const so = env.structOps;
  if (!so) {
    env.fail('tsbpf: this struct_ops program is named by no struct_ops variable (libbpf loads a struct_ops program for the member of a `.struct_ops` variable that points at it)', 'ENOTSUPP');
  }
  const btf = env.kbtf();
  if (!btf) env.fail(`tsbpf: struct_ops programs are typed by the kernel's struct ${so.struct}, in the kernel BTF tsbpf was not given (--btf)`, 'ENOTSUPP');
  const id = findByNameKind(btf, so.struct, 'STRUCT');
  // libbpf looks the type up with its bpf_struct_ops_ wrapper: a struct the kernel does not register is refused before loading
  if (id < 0 || findByNameKind(btf, `bpf_struct_ops_${so.struct}`, 'STRUCT') < 0) {
    env.fail(`tsbpf: struct ${so.struct} is no struct_ops type of this kernel (libbpf: struct_ops init_kern: struct ${so.struct} is not found in kernel BTF; nothing is loaded)`, 'ENOTSUPP');
  }
  if (!STRUCT_OPS_MODELLED.has(so.struct)) {
    env.fail(`tsbpf: struct_ops programs of struct ${so.struct} are not modelled (their context, helpers and writes are the type's own verifier ops); tsbpf models ${[...STRUCT_OPS_MODELLED].join(', ')}`, 'ENOTSUPP');
  }
  const t = typeById(btf, id);
  const members = t.members ?? [];
  const idx = members.findIndex((m) => m.name === so.member);
  if (idx < 0) env.fail(`tsbpf: struct ${so.struct} of the kernel has no member ${so.member} (libbpf refuses the object)`, 'ENOTSUPP');
  const m = members[idx]!;
  const ptr = skipModifiers(btf, m.type).t;
  const proto = ptr.kind === 'PTR' ? skipModifiers(btf, ptr.type ?? 0).t : undefined;
  if (!proto || proto.kind !== 'FUNC_PROTO') env.fail(`attach to invalid member ${so.member}(@idx ${idx}) of struct ${so.struct}`, 'EINVAL');
  if (STRUCT_OPS_UNSUPPORTED[so.struct]?.has(so.member)) env.fail(`attach to unsupported member ${so.member} of struct ${so.struct}`, 'ENOTSUPP');
  const target: AttachTarget = {
    btf, btfId: id, funcName: so.member, proto, btfTrace: false, ctxArgInfo: [], rawTpNullMask: 0,
    structOps: { struct: so.struct, memberIdx: idx, memberOff: m.bitOffset / 8 },
  };
  if (so.struct === 'tcp_congestion_ops') {
    // bpf_tcp_ca_is_valid_access: a struct sock argument is the tcp_sock it is
    const sock = findByNameKind(btf, 'sock', 'STRUCT');
    const tcpSock = findByNameKind(btf, 'tcp_sock', 'STRUCT');
    if (sock > 0 && tcpSock > 0) target.structOps!.sockPromotion = { sock, tcpSock };
  }
  return target;
}
