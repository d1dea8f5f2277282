/**
 * Helper prototypes (`struct bpf_func_proto`): argument and return types of
 * the Linux helpers the verifier checks calls against. Which program types
 * may call which helpers, and which are GPL-only, is in
 * helper-availability.ts (measured on the kernel).
 */
import { BpfFunc } from './helper-ids.js';
import { ProgType } from './uapi.js';

/** Base argument types (`enum bpf_arg_type`). */
export const A = {
  DONTCARE: 0,
  CONST_MAP_PTR: 1,
  PTR_TO_MAP_KEY: 2,
  PTR_TO_MAP_VALUE: 3,
  PTR_TO_MEM: 4,
  PTR_TO_ARENA: 5,
  CONST_SIZE: 6,
  CONST_SIZE_OR_ZERO: 7,
  PTR_TO_CTX: 8,
  ANYTHING: 9,
  PTR_TO_SPIN_LOCK: 10,
  PTR_TO_SOCK_COMMON: 11,
  PTR_TO_SOCKET: 12,
  PTR_TO_BTF_ID: 13,
  PTR_TO_RINGBUF_MEM: 14,
  CONST_ALLOC_SIZE_OR_ZERO: 15,
  PTR_TO_BTF_ID_SOCK_COMMON: 16,
  PTR_TO_PERCPU_BTF_ID: 17,
  PTR_TO_FUNC: 18,
  PTR_TO_STACK: 19,
  PTR_TO_CONST_STR: 20,
  PTR_TO_TIMER: 21,
  KPTR_XCHG_DEST: 22,
  PTR_TO_DYNPTR: 23,
} as const;

/** Argument type flags (share bit positions with register type flags where the kernel does). */
export const AF = {
  MAYBE_NULL: 1 << 8,
  RDONLY: 1 << 9,
  UNINIT: 1 << 17,
  WRITE: 1 << 18,
  FIXED_SIZE: 1 << 19,
  RELEASE: 1 << 20,
  ALIGNED: 1 << 21,
} as const;

/** Return types (`enum bpf_return_type`, base). */
export const R = {
  INTEGER: 0,
  VOID: 1,
  PTR_TO_MAP_VALUE: 2,
  PTR_TO_SOCKET: 3,
  PTR_TO_TCP_SOCK: 4,
  PTR_TO_SOCK_COMMON: 5,
  PTR_TO_MEM: 6,
  PTR_TO_MEM_OR_BTF_ID: 7,
  PTR_TO_BTF_ID: 8,
} as const;

/** Return flags. */
export const RF = {
  MAYBE_NULL: 1 << 8,
  RDONLY: 1 << 9,
  RINGBUF: 1 << 10,
} as const;

/** A helper prototype. */
export interface FuncProto {
  ret: number;
  args: number[];
  /** Fixed sizes for MEM_FIXED_SIZE arguments. */
  argSize?: number[];
  pktAccess?: boolean;
  /** Changes packet data (invalidates packet pointers). */
  changesPkt?: boolean;
  mightSleep?: boolean;
  /** `fn->allowed`: only some tracing attach points may call it ("helper call is not allowed in probe" elsewhere). */
  allowedOnlyForTracing?: boolean;
  /** Return BTF type name for RET_PTR_TO_BTF_ID. */
  retBtf?: string;
  /** `arg_btf_id` of ARG_PTR_TO_BTF_ID arguments, by struct name (resolved in the kernel BTF). */
  argBtf?: (string | undefined)[];
}

const ANY = A.ANYTHING;
const CTX = A.PTR_TO_CTX;
const MAP = A.CONST_MAP_PTR;
const KEY = A.PTR_TO_MAP_KEY;
const VALUE = A.PTR_TO_MAP_VALUE;
const MEM_RO = A.PTR_TO_MEM | AF.RDONLY;
const MEM_RO_NULL = A.PTR_TO_MEM | AF.RDONLY | AF.MAYBE_NULL;
const UNINIT_MEM = A.PTR_TO_MEM | AF.UNINIT | AF.WRITE;
const MEM_W_NULL = A.PTR_TO_MEM | AF.MAYBE_NULL | AF.WRITE;
const SIZE = A.CONST_SIZE;
const SIZE0 = A.CONST_SIZE_OR_ZERO;
const BTF_ID = A.PTR_TO_BTF_ID;
const SOCK_COMMON_BTF = A.PTR_TO_BTF_ID_SOCK_COMMON;
const DYNPTR = A.PTR_TO_DYNPTR;
const UNINIT_MEM_NOSIZE = A.PTR_TO_MEM | AF.UNINIT | AF.WRITE;
const INT = R.INTEGER;
const VOID = R.VOID;

function p(ret: number, args: number[], extra: Partial<FuncProto> = {}): FuncProto {
  return { ret, args, ...extra };
}

const probeRead = p(INT, [UNINIT_MEM, SIZE0, ANY]);
const csumReplace = p(INT, [CTX, ANY, ANY, ANY, ANY], { changesPkt: true });
// the socket lookups and syncookie helpers read their tuple or headers straight from the packet (pkt_access)
const skLookup = p(R.PTR_TO_SOCKET | RF.MAYBE_NULL, [CTX, MEM_RO, SIZE, ANY, ANY], { pktAccess: true });
const skcLookup = p(R.PTR_TO_SOCK_COMMON | RF.MAYBE_NULL, [CTX, MEM_RO, SIZE, ANY, ANY], { pktAccess: true });
const perfOut = p(INT, [CTX, MAP, ANY, MEM_RO, SIZE0]);
const noArgs = p(INT, []);
const ctxOnly = p(INT, [CTX]);
const ctxAny = p(INT, [CTX, ANY]);

/** Helpers whose prototype depends on the program type (a different `func_proto` per type). */
export function protoFor(funcId: number, progType: number): FuncProto | undefined {
  const skbTypes: number[] = [
    ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.CGROUP_SKB, ProgType.LWT_IN,
    ProgType.LWT_OUT, ProgType.LWT_XMIT, ProgType.SK_SKB, ProgType.LWT_SEG6LOCAL,
  ];
  if (funcId === BpfFunc.get_cgroup_classid) return skbTypes.includes(progType) ? p(INT, [CTX]) : p(INT, []); // bpf_get_cgroup_classid(_curr)
  if (progType === ProgType.SYSCALL) {
    // syscall programs get the tracing flavours (BTF-typed pointers)
    if (funcId === BpfFunc.get_socket_cookie) return p(INT, [A.PTR_TO_BTF_ID_SOCK_COMMON | AF.MAYBE_NULL]);
    if (funcId === BpfFunc.xdp_output) return p(INT, [BTF_ID, MAP, ANY, MEM_RO, SIZE0]);
    if (funcId === BpfFunc.xdp_get_buff_len) return p(INT, [BTF_ID]);
    if (funcId === BpfFunc.sk_storage_get || funcId === BpfFunc.sk_storage_delete) return { ...PROTOS.get(funcId)!, allowedOnlyForTracing: true };
  }
  if (funcId === BpfFunc.sk_assign) {
    // bpf_sk_assign: sk_lookup's bpf_sk_lookup_assign takes a socket or NULL
    return progType === ProgType.SK_LOOKUP
      ? p(INT, [CTX, A.PTR_TO_SOCKET | AF.MAYBE_NULL, ANY])
      : p(INT, [CTX, A.PTR_TO_BTF_ID_SOCK_COMMON, ANY]);
  }
  return PROTOS.get(funcId);
}

/**
 * The prototypes tracing and LSM programs with an attach point get where
 * they differ from the others' (tracing_prog_func_proto,
 * bpf_lsm_func_proto): BTF-typed kernel objects instead of contexts.
 */
export function tracingProto(funcId: number, progType: number): FuncProto | undefined {
  switch (funcId) {
    case BpfFunc.get_socket_cookie: return p(INT, [SOCK_COMMON_BTF | AF.MAYBE_NULL]);
    case BpfFunc.sk_storage_get:
      return progType === ProgType.LSM || progType === ProgType.STRUCT_OPS
        ? p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, SOCK_COMMON_BTF, VALUE | AF.MAYBE_NULL, ANY])
        : p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, BTF_ID | AF.MAYBE_NULL, VALUE | AF.MAYBE_NULL, ANY], { argBtf: [undefined, 'sock_common'] });
    case BpfFunc.sk_storage_delete:
      return progType === ProgType.LSM || progType === ProgType.STRUCT_OPS
        ? p(INT, [MAP, SOCK_COMMON_BTF])
        : p(INT, [MAP, BTF_ID | AF.MAYBE_NULL], { argBtf: [undefined, 'sock_common'] });
    case BpfFunc.skb_output: return p(INT, [BTF_ID, MAP, ANY, MEM_RO, SIZE0], { argBtf: ['sk_buff'] });
    case BpfFunc.xdp_output: return p(INT, [BTF_ID, MAP, ANY, MEM_RO, SIZE0], { argBtf: ['xdp_buff'] });
    case BpfFunc.xdp_get_buff_len: return p(INT, [BTF_ID], { argBtf: ['xdp_buff'] });
    case BpfFunc.setsockopt: return p(INT, [SOCK_COMMON_BTF, ANY, ANY, MEM_RO, SIZE]);
    case BpfFunc.getsockopt: return p(INT, [SOCK_COMMON_BTF, ANY, ANY, UNINIT_MEM, SIZE]);
    case BpfFunc.get_local_storage: return p(R.PTR_TO_MAP_VALUE, [MAP, ANY]);
    default: return undefined;
  }
}

/** Prototypes by helper id. */
export const PROTOS: ReadonlyMap<number, FuncProto> = new Map<number, FuncProto>([
  [BpfFunc.map_lookup_elem, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, KEY], { pktAccess: true })],
  [BpfFunc.map_update_elem, p(INT, [MAP, KEY, VALUE, ANY], { pktAccess: true })],
  [BpfFunc.map_delete_elem, p(INT, [MAP, KEY], { pktAccess: true })],
  [BpfFunc.probe_read, probeRead],
  [BpfFunc.ktime_get_ns, noArgs],
  [BpfFunc.trace_printk, p(INT, [MEM_RO, SIZE])],
  [BpfFunc.get_prandom_u32, noArgs],
  [BpfFunc.get_smp_processor_id, noArgs],
  [BpfFunc.skb_store_bytes, p(INT, [CTX, ANY, MEM_RO, SIZE, ANY], { changesPkt: true })],
  [BpfFunc.l3_csum_replace, csumReplace],
  [BpfFunc.l4_csum_replace, csumReplace],
  [BpfFunc.tail_call, p(VOID, [CTX, MAP, ANY])],
  [BpfFunc.clone_redirect, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [BpfFunc.get_current_pid_tgid, noArgs],
  [BpfFunc.get_current_uid_gid, noArgs],
  [BpfFunc.get_current_comm, p(INT, [UNINIT_MEM, SIZE])],
  [BpfFunc.get_cgroup_classid, ctxOnly],
  [BpfFunc.skb_vlan_push, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [BpfFunc.skb_vlan_pop, p(INT, [CTX], { changesPkt: true })],
  [BpfFunc.skb_get_tunnel_key, p(INT, [CTX, UNINIT_MEM, SIZE, ANY])],
  [BpfFunc.skb_set_tunnel_key, p(INT, [CTX, MEM_RO, SIZE, ANY])],
  [BpfFunc.perf_event_read, p(INT, [MAP, ANY])],
  [BpfFunc.redirect, p(INT, [ANY, ANY])],
  [BpfFunc.get_route_realm, ctxOnly],
  [BpfFunc.perf_event_output, perfOut],
  [BpfFunc.skb_load_bytes, p(INT, [CTX, ANY, UNINIT_MEM, SIZE])],
  [BpfFunc.get_stackid, p(INT, [CTX, MAP, ANY])],
  [BpfFunc.csum_diff, p(INT, [MEM_RO_NULL, SIZE0, MEM_RO_NULL, SIZE0, ANY], { pktAccess: true })],
  [BpfFunc.skb_get_tunnel_opt, p(INT, [CTX, UNINIT_MEM, SIZE])],
  [BpfFunc.skb_set_tunnel_opt, p(INT, [CTX, MEM_RO, SIZE])],
  [BpfFunc.skb_change_proto, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [BpfFunc.skb_change_type, ctxAny],
  [BpfFunc.skb_under_cgroup, p(INT, [CTX, MAP, ANY])],
  [BpfFunc.get_hash_recalc, ctxOnly],
  [BpfFunc.get_current_task, noArgs],
  [BpfFunc.probe_write_user, p(INT, [ANY, MEM_RO, SIZE])],
  [BpfFunc.current_task_under_cgroup, p(INT, [MAP, ANY])],
  [BpfFunc.skb_change_tail, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [BpfFunc.skb_pull_data, p(INT, [CTX, ANY], { changesPkt: true })],
  [BpfFunc.csum_update, ctxAny],
  [BpfFunc.set_hash_invalid, ctxOnly],
  [BpfFunc.get_numa_node_id, noArgs],
  [BpfFunc.skb_change_head, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [BpfFunc.xdp_adjust_head, p(INT, [CTX, ANY], { changesPkt: true })],
  [BpfFunc.probe_read_str, probeRead],
  [BpfFunc.get_socket_cookie, ctxOnly],
  [BpfFunc.get_socket_uid, ctxOnly],
  [BpfFunc.set_hash, ctxAny],
  [BpfFunc.setsockopt, p(INT, [CTX, ANY, ANY, MEM_RO, SIZE])],
  [BpfFunc.skb_adjust_room, p(INT, [CTX, ANY, ANY, ANY], { changesPkt: true })],
  [BpfFunc.redirect_map, p(INT, [MAP, ANY, ANY])],
  [BpfFunc.sk_redirect_map, p(INT, [CTX, MAP, ANY, ANY])],
  [BpfFunc.sock_map_update, p(INT, [CTX, MAP, KEY, ANY])],
  [BpfFunc.xdp_adjust_meta, p(INT, [CTX, ANY], { changesPkt: true })],
  [BpfFunc.perf_event_read_value, p(INT, [MAP, ANY, UNINIT_MEM, SIZE])],
  [BpfFunc.perf_prog_read_value, p(INT, [CTX, UNINIT_MEM, SIZE])],
  [BpfFunc.getsockopt, p(INT, [CTX, ANY, ANY, UNINIT_MEM, SIZE])],
  [BpfFunc.override_return, p(INT, [CTX, ANY])],
  [BpfFunc.sock_ops_cb_flags_set, ctxAny],
  [BpfFunc.msg_redirect_map, p(INT, [CTX, MAP, ANY, ANY])],
  [BpfFunc.msg_apply_bytes, ctxAny],
  [BpfFunc.msg_cork_bytes, ctxAny],
  [BpfFunc.msg_pull_data, p(INT, [CTX, ANY, ANY, ANY], { changesPkt: true })],
  [BpfFunc.bind, p(INT, [CTX, MEM_RO, SIZE])],
  [BpfFunc.xdp_adjust_tail, p(INT, [CTX, ANY], { changesPkt: true })],
  [BpfFunc.skb_get_xfrm_state, p(INT, [CTX, ANY, UNINIT_MEM, SIZE, ANY])],
  [BpfFunc.get_stack, p(INT, [CTX, UNINIT_MEM, SIZE0, ANY])],
  [BpfFunc.skb_load_bytes_relative, p(INT, [CTX, ANY, UNINIT_MEM, SIZE, ANY])],
  [BpfFunc.fib_lookup, p(INT, [CTX, A.PTR_TO_MEM | AF.WRITE, SIZE, ANY])],
  [BpfFunc.sock_hash_update, p(INT, [CTX, MAP, KEY, ANY])],
  [BpfFunc.msg_redirect_hash, p(INT, [CTX, MAP, KEY, ANY])],
  [BpfFunc.sk_redirect_hash, p(INT, [CTX, MAP, KEY, ANY])],
  [BpfFunc.lwt_push_encap, p(INT, [CTX, ANY, MEM_RO, SIZE], { changesPkt: true })],
  [BpfFunc.lwt_seg6_store_bytes, p(INT, [CTX, ANY, MEM_RO, SIZE], { changesPkt: true })],
  [BpfFunc.lwt_seg6_adjust_srh, p(INT, [CTX, ANY, ANY], { changesPkt: true })],
  [BpfFunc.lwt_seg6_action, p(INT, [CTX, ANY, MEM_RO, SIZE], { changesPkt: true })],
  [BpfFunc.rc_repeat, ctxOnly],
  [BpfFunc.rc_keydown, p(INT, [CTX, ANY, ANY, ANY])],
  [BpfFunc.skb_cgroup_id, ctxOnly],
  [BpfFunc.get_current_cgroup_id, noArgs],
  [BpfFunc.get_local_storage, p(R.PTR_TO_MAP_VALUE, [MAP, ANY])],
  [BpfFunc.sk_select_reuseport, p(INT, [CTX, MAP, KEY, ANY])],
  [BpfFunc.skb_ancestor_cgroup_id, ctxAny],
  [BpfFunc.sk_lookup_tcp, skLookup],
  [BpfFunc.sk_lookup_udp, skLookup],
  [BpfFunc.sk_release, p(INT, [A.PTR_TO_BTF_ID_SOCK_COMMON | AF.RELEASE])],
  [BpfFunc.map_push_elem, p(INT, [MAP, VALUE, ANY])],
  [BpfFunc.map_pop_elem, p(INT, [MAP, VALUE | AF.UNINIT | AF.WRITE])],
  [BpfFunc.map_peek_elem, p(INT, [MAP, VALUE | AF.UNINIT | AF.WRITE])],
  [BpfFunc.msg_push_data, p(INT, [CTX, ANY, ANY, ANY], { changesPkt: true })],
  [BpfFunc.msg_pop_data, p(INT, [CTX, ANY, ANY, ANY], { changesPkt: true })],
  [BpfFunc.rc_pointer_rel, p(INT, [CTX, ANY, ANY])],
  [BpfFunc.spin_lock, p(VOID, [A.PTR_TO_SPIN_LOCK])],
  [BpfFunc.spin_unlock, p(VOID, [A.PTR_TO_SPIN_LOCK])],
  [BpfFunc.sk_fullsock, p(R.PTR_TO_SOCKET | RF.MAYBE_NULL, [A.PTR_TO_SOCK_COMMON])],
  [BpfFunc.tcp_sock, p(R.PTR_TO_TCP_SOCK | RF.MAYBE_NULL, [A.PTR_TO_SOCK_COMMON])],
  [BpfFunc.skb_ecn_set_ce, ctxOnly],
  [BpfFunc.get_listener_sock, p(R.PTR_TO_SOCKET | RF.MAYBE_NULL, [A.PTR_TO_SOCK_COMMON])],
  [BpfFunc.skc_lookup_tcp, skcLookup],
  [BpfFunc.tcp_check_syncookie, p(INT, [A.PTR_TO_BTF_ID_SOCK_COMMON, MEM_RO, SIZE, MEM_RO, SIZE], { pktAccess: true })],
  [BpfFunc.sysctl_get_name, p(INT, [CTX, UNINIT_MEM, SIZE, ANY])],
  [BpfFunc.sysctl_get_current_value, p(INT, [CTX, UNINIT_MEM, SIZE])],
  [BpfFunc.sysctl_get_new_value, p(INT, [CTX, UNINIT_MEM, SIZE])],
  [BpfFunc.sysctl_set_new_value, p(INT, [CTX, MEM_RO, SIZE])],
  [BpfFunc.strtol, p(INT, [MEM_RO, SIZE, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 0, 0, 8] })],
  [BpfFunc.strtoul, p(INT, [MEM_RO, SIZE, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 0, 0, 8] })],
  [BpfFunc.send_signal, p(INT, [ANY])],
  [BpfFunc.probe_read_user, probeRead],
  [BpfFunc.probe_read_kernel, probeRead],
  [BpfFunc.probe_read_user_str, probeRead],
  [BpfFunc.probe_read_kernel_str, probeRead],
  [BpfFunc.tcp_send_ack, p(INT, [BTF_ID, ANY], { argBtf: ['tcp_sock'] })],
  [BpfFunc.send_signal_thread, p(INT, [ANY])],
  [BpfFunc.jiffies64, noArgs],
  [BpfFunc.read_branch_records, p(INT, [CTX, A.PTR_TO_MEM | AF.MAYBE_NULL | AF.WRITE, SIZE0, ANY])],
  [BpfFunc.get_ns_current_pid_tgid, p(INT, [ANY, ANY, UNINIT_MEM, SIZE])],
  [BpfFunc.xdp_output, perfOut],
  [BpfFunc.get_netns_cookie, p(INT, [CTX | AF.MAYBE_NULL])],
  [BpfFunc.get_current_ancestor_cgroup_id, p(INT, [ANY])],
  [BpfFunc.ktime_get_boot_ns, noArgs],
  [BpfFunc.seq_printf, p(INT, [BTF_ID, MEM_RO, SIZE, MEM_RO_NULL, SIZE0], { argBtf: ['seq_file'] })],
  [BpfFunc.seq_write, p(INT, [BTF_ID, MEM_RO, SIZE0], { argBtf: ['seq_file'] })],
  [BpfFunc.sk_cgroup_id, p(INT, [SOCK_COMMON_BTF])],
  [BpfFunc.sk_ancestor_cgroup_id, p(INT, [SOCK_COMMON_BTF, ANY])],
  [BpfFunc.ringbuf_output, p(INT, [MAP, MEM_RO, SIZE0, ANY])],
  [BpfFunc.ringbuf_reserve, p(R.PTR_TO_MEM | RF.MAYBE_NULL | RF.RINGBUF, [MAP, A.CONST_ALLOC_SIZE_OR_ZERO, ANY])],
  [BpfFunc.ringbuf_submit, p(VOID, [A.PTR_TO_RINGBUF_MEM | AF.RELEASE, ANY])],
  [BpfFunc.ringbuf_discard, p(VOID, [A.PTR_TO_RINGBUF_MEM | AF.RELEASE, ANY])],
  [BpfFunc.ringbuf_query, p(INT, [MAP, ANY])],
  [BpfFunc.csum_level, ctxAny],
  [BpfFunc.get_task_stack, p(INT, [A.PTR_TO_BTF_ID, UNINIT_MEM, SIZE0, ANY], { argBtf: ['task_struct'] })],
  [BpfFunc.inode_storage_get, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, BTF_ID | AF.MAYBE_NULL, VALUE | AF.MAYBE_NULL, ANY], { argBtf: [undefined, 'inode'] })],
  [BpfFunc.inode_storage_delete, p(INT, [MAP, BTF_ID | AF.MAYBE_NULL], { argBtf: [undefined, 'inode'] })],
  [BpfFunc.copy_from_user, p(INT, [UNINIT_MEM, SIZE0, ANY], { mightSleep: true })],
  [BpfFunc.seq_printf_btf, p(INT, [BTF_ID, MEM_RO, SIZE0, ANY], { argBtf: ['seq_file'] })],
  [BpfFunc.skb_cgroup_classid, ctxOnly],
  [BpfFunc.redirect_neigh, p(INT, [ANY, MEM_RO_NULL, SIZE0, ANY])],
  [BpfFunc.redirect_peer, p(INT, [ANY, ANY])],
  [BpfFunc.bprm_opts_set, p(INT, [BTF_ID, ANY], { argBtf: ['linux_binprm'] })],
  [BpfFunc.ktime_get_coarse_ns, noArgs],
  [BpfFunc.ima_inode_hash, p(INT, [BTF_ID, UNINIT_MEM, SIZE], { argBtf: ['inode'] })],
  [BpfFunc.ima_file_hash, p(INT, [BTF_ID, UNINIT_MEM, SIZE], { argBtf: ['file'] })],
  [BpfFunc.check_mtu, p(INT, [CTX, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.WRITE, ANY, ANY], { argSize: [0, 0, 4] })],
  [BpfFunc.for_each_map_elem, p(INT, [MAP, A.PTR_TO_FUNC, A.PTR_TO_STACK | AF.MAYBE_NULL, ANY])],
  [BpfFunc.snprintf, p(INT, [MEM_W_NULL, SIZE0, A.PTR_TO_CONST_STR, MEM_RO_NULL, SIZE0])],
  [BpfFunc.get_func_ip, ctxOnly],
  [BpfFunc.get_attach_cookie, ctxOnly],
  [BpfFunc.trace_vprintk, p(INT, [MEM_RO, SIZE, MEM_RO_NULL, SIZE0])],
  [BpfFunc.loop, p(INT, [ANY, A.PTR_TO_FUNC, A.PTR_TO_STACK | AF.MAYBE_NULL, ANY])],
  [BpfFunc.strncmp, p(INT, [MEM_RO, SIZE, A.PTR_TO_CONST_STR])],
  [BpfFunc.get_func_arg, p(INT, [CTX, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 0, 8] })],
  [BpfFunc.get_func_ret, p(INT, [CTX, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 8] })],
  [BpfFunc.get_func_arg_cnt, ctxOnly],
  [BpfFunc.get_retval, noArgs],
  [BpfFunc.set_retval, p(INT, [ANY])],
  [BpfFunc.xdp_get_buff_len, ctxOnly],
  [BpfFunc.xdp_load_bytes, p(INT, [CTX, ANY, UNINIT_MEM, SIZE])],
  [BpfFunc.xdp_store_bytes, p(INT, [CTX, ANY, MEM_RO, SIZE])],
  [BpfFunc.skb_set_tstamp, p(INT, [CTX, ANY, ANY])],
  [BpfFunc.map_lookup_percpu_elem, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, KEY, ANY])],
  [BpfFunc.ktime_get_tai_ns, noArgs],
  [BpfFunc.sk_storage_get, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, SOCK_COMMON_BTF, VALUE | AF.MAYBE_NULL, ANY])],
  [BpfFunc.sk_storage_delete, p(INT, [MAP, SOCK_COMMON_BTF])],
  [BpfFunc.tcp_gen_syncookie, p(INT, [SOCK_COMMON_BTF, MEM_RO, SIZE, MEM_RO, SIZE], { pktAccess: true })],
  [BpfFunc.skb_output, p(INT, [BTF_ID, MAP, ANY, MEM_RO, SIZE0], { argBtf: ['sk_buff'] })],
  [BpfFunc.skc_to_tcp6_sock, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'tcp6_sock' })],
  [BpfFunc.skc_to_tcp_sock, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'tcp_sock' })],
  [BpfFunc.skc_to_tcp_timewait_sock, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'tcp_timewait_sock' })],
  [BpfFunc.skc_to_tcp_request_sock, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'tcp_request_sock' })],
  [BpfFunc.skc_to_udp6_sock, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'udp6_sock' })],
  [BpfFunc.load_hdr_opt, p(INT, [CTX, A.PTR_TO_MEM | AF.WRITE, SIZE, ANY])],
  [BpfFunc.store_hdr_opt, p(INT, [CTX, MEM_RO, SIZE, ANY])],
  [BpfFunc.reserve_hdr_opt, p(INT, [CTX, ANY, ANY])],
  [BpfFunc.d_path, p(INT, [BTF_ID, A.PTR_TO_MEM | AF.WRITE, SIZE0], { allowedOnlyForTracing: true, argBtf: ['path'] })],
  [BpfFunc.snprintf_btf, p(INT, [A.PTR_TO_MEM | AF.WRITE, SIZE, MEM_RO, SIZE, ANY])],
  [BpfFunc.per_cpu_ptr, p(R.PTR_TO_MEM_OR_BTF_ID | RF.MAYBE_NULL, [A.PTR_TO_PERCPU_BTF_ID, ANY])],
  [BpfFunc.this_cpu_ptr, p(R.PTR_TO_MEM_OR_BTF_ID, [A.PTR_TO_PERCPU_BTF_ID])],
  [BpfFunc.task_storage_get, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, BTF_ID | AF.MAYBE_NULL, VALUE | AF.MAYBE_NULL, ANY], { argBtf: [undefined, 'task_struct'] })],
  [BpfFunc.task_storage_delete, p(INT, [MAP, BTF_ID], { argBtf: [undefined, 'task_struct'] })],
  [BpfFunc.get_current_task_btf, p(R.PTR_TO_BTF_ID, [], { retBtf: 'task_struct' })],
  [BpfFunc.sock_from_file, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [BTF_ID], { argBtf: ['file'], retBtf: 'socket' })],
  [BpfFunc.sys_bpf, p(INT, [ANY, MEM_RO, SIZE])],
  [BpfFunc.btf_find_by_name_kind, p(INT, [MEM_RO, SIZE, ANY, ANY])],
  [BpfFunc.sys_close, p(INT, [ANY])],
  [BpfFunc.timer_init, p(INT, [A.PTR_TO_TIMER, MAP, ANY])],
  [BpfFunc.timer_set_callback, p(INT, [A.PTR_TO_TIMER, A.PTR_TO_FUNC])],
  [BpfFunc.timer_start, p(INT, [A.PTR_TO_TIMER, ANY, ANY])],
  [BpfFunc.timer_cancel, p(INT, [A.PTR_TO_TIMER])],
  [BpfFunc.task_pt_regs, p(R.PTR_TO_BTF_ID, [BTF_ID], { argBtf: ['task_struct'], retBtf: 'pt_regs' })],
  [BpfFunc.get_branch_snapshot, p(INT, [UNINIT_MEM_NOSIZE, SIZE0])],
  [BpfFunc.skc_to_unix_sock, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [SOCK_COMMON_BTF], { retBtf: 'unix_sock' })],
  [BpfFunc.kallsyms_lookup_name, p(INT, [MEM_RO, SIZE0, ANY, A.PTR_TO_MEM | AF.FIXED_SIZE | AF.UNINIT | AF.WRITE | AF.ALIGNED], { argSize: [0, 0, 0, 8] })],
  [BpfFunc.find_vma, p(INT, [BTF_ID, ANY, A.PTR_TO_FUNC, A.PTR_TO_STACK | AF.MAYBE_NULL, ANY], { argBtf: ['task_struct'] })],
  [BpfFunc.copy_from_user_task, p(INT, [UNINIT_MEM_NOSIZE, SIZE0, ANY, BTF_ID, ANY], { mightSleep: true, argBtf: [undefined, undefined, undefined, 'task_struct'] })],
  [BpfFunc.kptr_xchg, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [A.KPTR_XCHG_DEST, BTF_ID | AF.MAYBE_NULL | AF.RELEASE])],
  [BpfFunc.skc_to_mptcp_sock, p(R.PTR_TO_BTF_ID | RF.MAYBE_NULL, [A.PTR_TO_SOCK_COMMON], { retBtf: 'mptcp_sock' })],
  [BpfFunc.dynptr_from_mem, p(INT, [UNINIT_MEM_NOSIZE, SIZE0, ANY, DYNPTR | AF.UNINIT])],
  [BpfFunc.ringbuf_reserve_dynptr, p(INT, [MAP, ANY, ANY, DYNPTR | AF.UNINIT])],
  [BpfFunc.ringbuf_submit_dynptr, p(VOID, [DYNPTR | AF.RELEASE, ANY])],
  [BpfFunc.ringbuf_discard_dynptr, p(VOID, [DYNPTR | AF.RELEASE, ANY])],
  [BpfFunc.dynptr_read, p(INT, [UNINIT_MEM_NOSIZE, SIZE0, DYNPTR | AF.RDONLY, ANY, ANY])],
  [BpfFunc.dynptr_write, p(INT, [DYNPTR | AF.RDONLY, ANY, MEM_RO, SIZE0, ANY])],
  [BpfFunc.dynptr_data, p(R.PTR_TO_MEM | RF.MAYBE_NULL, [DYNPTR | AF.RDONLY, ANY, A.CONST_ALLOC_SIZE_OR_ZERO])],
  [BpfFunc.tcp_raw_gen_syncookie_ipv4, p(INT, [A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE, MEM_RO, SIZE], { argSize: [20], pktAccess: true })],
  [BpfFunc.tcp_raw_gen_syncookie_ipv6, p(INT, [A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE, MEM_RO, SIZE], { argSize: [40], pktAccess: true })],
  [BpfFunc.tcp_raw_check_syncookie_ipv4, p(INT, [A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE, A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE], { argSize: [20, 20], pktAccess: true })],
  [BpfFunc.tcp_raw_check_syncookie_ipv6, p(INT, [A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE, A.PTR_TO_MEM | AF.RDONLY | AF.FIXED_SIZE], { argSize: [40, 20], pktAccess: true })],
  [BpfFunc.user_ringbuf_drain, p(INT, [MAP, A.PTR_TO_FUNC, A.PTR_TO_STACK | AF.MAYBE_NULL, ANY])],
  [BpfFunc.cgrp_storage_get, p(R.PTR_TO_MAP_VALUE | RF.MAYBE_NULL, [MAP, BTF_ID | AF.MAYBE_NULL, VALUE | AF.MAYBE_NULL, ANY], { argBtf: [undefined, 'cgroup'] })],
  [BpfFunc.cgrp_storage_delete, p(INT, [MAP, BTF_ID | AF.MAYBE_NULL], { argBtf: [undefined, 'cgroup'] })],
]);

/** Whether a helper changes packet data (`bpf_helper_changes_pkt_data`). */
export function helperChangesPktData(id: number): boolean {
  return PROTOS.get(id)?.changesPkt === true;
}

/** Helpers that call a callback synchronously (`is_sync_callback_calling_function`). */
export function isSyncCallbackHelper(id: number): boolean {
  return id === BpfFunc.for_each_map_elem || id === BpfFunc.find_vma || id === BpfFunc.loop || id === BpfFunc.user_ringbuf_drain;
}

