/**
 * Helpers of tracing and LSM programs with an attach point
 * (tracing_prog_func_proto, bpf_lsm_func_proto): the raw tracepoint set
 * the kernel gave tp_btf and iterator programs (measured,
 * helper-availability.ts), plus what the kernel adds for trampolines
 * (fentry/fexit/fmod_ret/LSM: bpf_get_func_arg/ret/arg_cnt, the attach
 * cookie) and LSM hooks, and the `allowed` checks some helpers make on the
 * attach point (bpf_d_path, the tracing flavour of bpf_sk_storage_*).
 */
import type { Env } from './env.js';
import { AttachType, BpfFunc, GPL_ONLY_BY_TYPE, HELPERS_BY_TYPE, ProgType } from '../isa/uapi.js';
import type { FuncProto } from '../isa/helper-protos.js';
import { protoFor, tracingProto } from '../isa/helper-protos.js';
import type { AttachTarget } from './attach.js';
import { hasTrampoline } from './attach.js';


/** LSM hooks on which a socket is locked / may be used unlocked (bpf_{g,s}etsockopt for lsm_cgroup). */
const LSM_LOCKED_SOCKOPT = new Set(['bpf_lsm_socket_sock_rcv_skb', 'bpf_lsm_sock_graft', 'bpf_lsm_inet_csk_clone',
  'bpf_lsm_inet_conn_established']);
const LSM_UNLOCKED_SOCKOPT = new Set(['bpf_lsm_socket_post_create', 'bpf_lsm_socket_socketpair']);

/**
 * LSM hooks the kernel lists as sleepable (`sleepable_lsm_hooks`), as far
 * as tsbpf knows them: bpf_d_path is allowed on these; on other hooks tsbpf
 * cannot tell and refuses with a `tsbpf:` message.
 */
export const LSM_SLEEPABLE_HOOKS: ReadonlySet<string> = new Set([
  'bpf', 'bpf_map', 'bpf_map_create', 'bpf_map_free', 'bpf_prog', 'bpf_prog_load', 'bpf_prog_free', 'bpf_token_create',
  'bpf_token_free', 'bpf_token_cmd', 'bpf_token_capable', 'bprm_check_security', 'bprm_committed_creds',
  'bprm_committing_creds', 'bprm_creds_for_exec', 'bprm_creds_from_file', 'capget', 'capset', 'cred_prepare',
  'file_ioctl', 'file_lock', 'file_open', 'file_receive', 'inet_conn_established', 'inode_create', 'inode_free_security',
  'inode_getattr', 'inode_getxattr', 'inode_mknod', 'inode_need_killpriv', 'inode_post_setxattr', 'inode_readlink',
  'inode_rename', 'inode_rmdir', 'inode_setattr', 'inode_setxattr', 'inode_symlink', 'inode_unlink',
  'kernel_module_request', 'kernel_read_file', 'kernfs_init_security', 'key_free', 'mmap_file', 'netlink_send',
  'path_notify', 'release_secctx', 'sb_alloc_security', 'sb_eat_lsm_opts', 'sb_kern_mount', 'sb_mount', 'sb_remount',
  'sb_set_mnt_opts', 'sb_show_options', 'sb_statfs', 'sb_umount', 'settime', 'socket_accept', 'socket_bind',
  'socket_connect', 'socket_create', 'socket_getpeername', 'socket_getpeersec_dgram', 'socket_getsockname',
  'socket_getsockopt', 'socket_listen', 'socket_post_create', 'socket_recvmsg', 'socket_sendmsg', 'socket_shutdown',
  'socket_socketpair', 'syslog', 'task_alloc', 'task_prctl', 'task_setscheduler', 'task_to_inode', 'userns_create',
].map((h) => `bpf_lsm_${h}`));

/** Functions fentry/fexit programs may call bpf_d_path from (`btf_allowlist_d_path`). */
const D_PATH_ALLOWLIST = new Set(['security_file_permission', 'security_inode_getattr', 'security_file_open',
  'security_path_truncate', 'vfs_truncate', 'vfs_fallocate', 'dentry_open', 'vfs_getattr', 'filp_close']);

/** Helper sets of a tracing or LSM program with its attach point. */
export interface HelperSets {
  helpers: ReadonlySet<number>;
  gpl: ReadonlySet<number>;
}

/** The helpers a tracing or LSM program attached to `target` may call, and which are GPL-only. */
export function tracingHelperSets(progType: number, attach: number, target: AttachTarget, sleepable: boolean): HelperSets {
  const key = attach === AttachType.TRACE_ITER ? iterKey(target) : 'tracing';
  const helpers = new Set(HELPERS_BY_TYPE[key] ?? HELPERS_BY_TYPE['tracing'] ?? []);
  const gpl = new Set(GPL_ONLY_BY_TYPE[key] ?? GPL_ONLY_BY_TYPE['tracing'] ?? []);
  const trampoline = hasTrampoline(progType, attach);
  if (trampoline) {
    helpers.add(BpfFunc.get_func_arg);
    helpers.add(BpfFunc.get_func_ret);
    helpers.add(BpfFunc.get_func_arg_cnt);
    helpers.add(BpfFunc.get_attach_cookie);
  } else if (attach !== AttachType.TRACE_RAW_TP) {
    helpers.delete(BpfFunc.get_attach_cookie);
  }
  if (progType === ProgType.LSM) {
    for (const id of [145, 146, 107, 108, 93, 94, 159]) helpers.add(id);
    for (const id of [161, 193]) {
      if (sleepable) helpers.add(id);
      else helpers.delete(id);
    }
    const cgroup = attach === AttachType.LSM_CGROUP;
    for (const id of [81, 186, 187]) {
      if (cgroup) helpers.add(id);
      else helpers.delete(id);
    }
    const sockopt = cgroup && (LSM_LOCKED_SOCKOPT.has(target.funcName) || LSM_UNLOCKED_SOCKOPT.has(target.funcName));
    for (const id of [49, 57]) {
      if (sockopt) helpers.add(id);
      else helpers.delete(id);
    }
  }
  return { helpers, gpl };
}

function iterKey(target: AttachTarget): string {
  const own = `tracing/trace_iter/${target.funcName.replace(/^bpf_iter_/, '')}`;
  return HELPERS_BY_TYPE[own] ? own : 'tracing/trace_iter';
}

/**
 * `fn->allowed` of the helpers that check the attach point: null when the
 * call is allowed, 'refused' ("helper call is not allowed in probe"), or a
 * `tsbpf:` reason when tsbpf cannot tell.
 */
export function tracingHelperAllowed(funcId: number, progType: number, attach: number, target: AttachTarget): null | 'refused' | string {
  switch (funcId) {
    case BpfFunc.d_path: // bpf_d_path
      if (progType === ProgType.TRACING && attach === AttachType.TRACE_ITER) return null;
      if (progType === ProgType.LSM) {
        if (LSM_SLEEPABLE_HOOKS.has(target.funcName)) return null;
        return `tsbpf: bpf_d_path is allowed on sleepable LSM hooks only, and whether ${target.funcName} is one is not known to tsbpf`;
      }
      return D_PATH_ALLOWLIST.has(target.funcName) && (attach === AttachType.TRACE_FENTRY || attach === AttachType.TRACE_FEXIT || attach === AttachType.MODIFY_RETURN)
        ? null : 'refused';
    case BpfFunc.sk_storage_get: case BpfFunc.sk_storage_delete: // bpf_sk_storage_get/delete, tracing flavour
      if (progType !== ProgType.TRACING) return null;
      if (attach === AttachType.TRACE_ITER || attach === AttachType.TRACE_RAW_TP) return null;
      if (attach === AttachType.TRACE_FENTRY || attach === AttachType.TRACE_FEXIT) return target.funcName.startsWith('bpf_sk_storage') ? 'refused' : null;
      return 'refused';
    default:
      return null;
  }
}

const setsCache = new WeakMap<Env, HelperSets>();

/** The helpers the program may call and the GPL-only ones (its type's, or its attach point's). */
export function envHelperSets(env: Env): HelperSets {
  if (!env.attach) return { helpers: env.typeInfo.helpers, gpl: env.typeInfo.gplHelpers };
  if (env.progType === ProgType.STRUCT_OPS) return structOpsHelperSets(env.attach);
  let sets = setsCache.get(env);
  if (!sets) {
    sets = tracingHelperSets(env.progType, env.expectedAttachType, env.attach, env.sleepable);
    setsCache.set(env, sets);
  }
  return sets;
}

/**
 * A congestion control's helpers (bpf_tcp_ca_get_func_proto, measured on
 * ssthresh): `release`, called as the control retires, may not set or get
 * socket options.
 */
function structOpsHelperSets(target: AttachTarget): HelperSets {
  const helpers = new Set(HELPERS_BY_TYPE['struct_ops'] ?? []);
  if (target.structOps?.struct === 'tcp_congestion_ops' && target.funcName === 'release') {
    helpers.delete(BpfFunc.setsockopt);
    helpers.delete(BpfFunc.getsockopt);
  }
  return { helpers, gpl: new Set(GPL_ONLY_BY_TYPE['struct_ops'] ?? []) };
}

/** The prototype of helper `funcId` for the program (`get_func_proto`). */
export function envHelperProto(env: Env, funcId: number): FuncProto | undefined {
  return (env.attach ? tracingProto(funcId, env.progType) : undefined) ?? protoFor(funcId, env.progType);
}
