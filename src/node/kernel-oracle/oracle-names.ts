/**
 * The names the oracle's requests use for program, map and attach types
 * and for flags: Linux's enum names without their prefixes (the tables are
 * tsbpf's, shared with the verifier and the maps), plus the aliases people
 * type.
 */
import { lookupEnum } from './fields.js';
import { MAP_TYPE_NAMES } from '../../isa/uapi.js';
import { ATTACH_TYPE_NAMES, PROG_TYPE_NAMES } from '../../isa/uapi.js';

export { PROG_TYPE_NAMES, MAP_TYPE_NAMES, ATTACH_TYPE_NAMES };

/** Other names for program types. */
export const PROG_TYPE_ALIASES: Readonly<Record<string, string>> = {
  socket: 'socket_filter', filter: 'socket_filter',
  tc: 'sched_cls', classifier: 'sched_cls', cls: 'sched_cls',
  action: 'sched_act', act: 'sched_act',
  tp: 'tracepoint', raw_tp: 'raw_tracepoint',
  raw_tp_writable: 'raw_tracepoint_writable', uprobe: 'kprobe',
  fentry: 'tracing', fexit: 'tracing', iter: 'tracing',
};

/** Other names for map types. */
export const MAP_TYPE_ALIASES: Readonly<Record<string, string>> = {
  perf_array: 'perf_event_array', lpm: 'lpm_trie', ringbuffer: 'ringbuf', ring_buffer: 'ringbuf',
};

/** `map_flags` bits by name (`BPF_F_` removed, lowercase). */
export const MAP_FLAGS: Readonly<Record<string, number>> = {
  no_prealloc: 1 << 0, no_common_lru: 1 << 1, numa_node: 1 << 2, rdonly: 1 << 3, wronly: 1 << 4,
  stack_build_id: 1 << 5, zero_seed: 1 << 6, rdonly_prog: 1 << 7, wronly_prog: 1 << 8, clone: 1 << 9,
  mmapable: 1 << 10, preserve_elems: 1 << 11, inner_map: 1 << 12, link: 1 << 13, path_fd: 1 << 14,
  vtype_btf_obj_fd: 1 << 15, token_fd: 1 << 16, segv_on_fault: 1 << 17, no_user_conv: 1 << 18,
};

/** `prog_flags` bits by name. */
export const PROG_FLAGS: Readonly<Record<string, number>> = {
  strict_alignment: 1 << 0, any_alignment: 1 << 1, test_rnd_hi32: 1 << 2, test_state_freq: 1 << 3,
  sleepable: 1 << 4, xdp_has_frags: 1 << 5, xdp_dev_bound_only: 1 << 6, test_reg_invariants: 1 << 7,
  token_fd: 1 << 16,
};

/** Per-CPU map types: one value slot (8-byte aligned) per possible CPU. */
export const PERCPU_MAPS: ReadonlySet<string> = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
/** Maps read back by popping. */
export const POP_MAPS: ReadonlySet<string> = new Set(['queue', 'stack']);
/** Maps whose elements have no key. */
export const KEYLESS_MAPS: ReadonlySet<string> = new Set(['queue', 'stack', 'bloom_filter']);
/** Maps whose values are fds in and object ids out (looked up as at least 4 bytes). */
export const FD_MAPS: ReadonlySet<string> = new Set(['prog_array', 'array_of_maps', 'hash_of_maps', 'perf_event_array', 'cgroup_array']);
/** Program types whose BPF_PROG_TEST_RUN refuses repeat, data_out and ctx_out. */
export const NO_REPEAT_PROGS: ReadonlySet<string> = new Set(['raw_tracepoint', 'raw_tracepoint_writable', 'tracing', 'syscall', 'struct_ops', 'lsm']);

/** The number of a program type name or number. */
export function progTypeNum(value: unknown): number {
  return lookupEnum(value, PROG_TYPE_NAMES, PROG_TYPE_ALIASES, 'bpf_prog_type_', 'prog_type');
}

/** The name of program type `n` (its number as text when unnamed). */
export function progTypeName(n: number): string {
  return n >= 0 && n < PROG_TYPE_NAMES.length ? PROG_TYPE_NAMES[n]! : String(n);
}

/** The number of a map type name or number. */
export function mapTypeNum(value: unknown): number {
  return lookupEnum(value, MAP_TYPE_NAMES, MAP_TYPE_ALIASES, 'bpf_map_type_', 'map type');
}

/** The name of map type `n`. */
export function mapTypeName(n: number): string {
  return n >= 0 && n < MAP_TYPE_NAMES.length ? MAP_TYPE_NAMES[n]! : String(n);
}

/** The number of an expected attach type (0 when absent). */
export function attachTypeNum(value: unknown): number {
  if (value === undefined || value === null) return 0;
  return lookupEnum(value, ATTACH_TYPE_NAMES, {}, 'bpf_', 'expected_attach_type');
}
