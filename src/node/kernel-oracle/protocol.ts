/**
 * The kernel oracle's requests and replies: JSON objects (see
 * docs/testing.md for every field). Requests are loose on purpose: they
 * come from tests, scripts and the command line, and every field is
 * checked when it is read, with a reply that names the bad field.
 */

/** A map of a request's `maps` list. */
export interface OracleMapSpec {
  /** Name (`array`, `hash`, `percpu_array`, `ringbuf`, `bpf_map_type_queue`, ...) or number. Default `array`. */
  type?: string | number;
  key_size?: number;
  value_size?: number;
  max_entries?: number;
  /** A number, a name (`no_prealloc`) or a list of names and numbers. */
  flags?: number | string | readonly (string | number)[];
  /** Same as `flags` (when `flags` is absent). */
  map_flags?: number | string | readonly (string | number)[];
  /** Map name (at most 15 bytes are kept). */
  name?: string;
  /** Index of an earlier map used as the inner map template (maps of maps). */
  inner_map?: number;
  map_extra?: number;
  numa_node?: number;
  /** Whether `run` dumps this map (default true). */
  dump?: boolean;
  [key: string]: unknown;
}

/** Program fields (of `verify`, `run` and each of `progs`). */
export interface OracleProgramFields {
  /** Name (`xdp`, `socket_filter`, `tc`, `BPF_PROG_TYPE_KPROBE`, ...) or number. */
  prog_type?: string | number;
  /** Hex of the raw instructions. */
  insns?: string;
  /** Default "GPL". */
  license?: string;
  /** Default 1. */
  log_level?: number;
  /** First log buffer size, default 16 MiB, grown while the kernel says ENOSPC. */
  log_size?: number;
  prog_flags?: number | string | readonly (string | number)[];
  expected_attach_type?: string | number;
  attach_btf_id?: number;
  prog_name?: string;
  kern_version?: number;
  prog_ifindex?: number;
}

/** One test run's input (`run`, or each of `inputs`). */
export interface OracleRunInput {
  data_in?: string;
  ctx_in?: string;
  repeat?: number;
  data_size_out?: number;
  ctx_size_out?: number;
  flags?: number;
  cpu?: number;
  batch_size?: number;
}

/** An element stored before a run. */
export interface OracleMapInit {
  map: number;
  key?: string;
  value?: string;
  /** The fd of map K (maps of maps). */
  value_map?: number;
  /** The fd of progs[K]; -1: the main program (prog arrays). */
  value_prog?: number;
  flags?: number;
}

/** A request. */
export interface OracleRequest extends OracleProgramFields, OracleRunInput {
  cmd: 'probe' | 'verify' | 'run';
  maps?: readonly unknown[];
  /** More programs loaded after the main one (tail-call targets). */
  progs?: readonly unknown[];
  inputs?: readonly OracleRunInput[];
  map_init?: readonly unknown[];
  /** Default true. */
  dump_maps?: boolean;
  /** `bpf`: loaded with CAP_BPF but without CAP_PERFMON and CAP_SYS_ADMIN. */
  caps?: 'bpf';
  [key: string]: unknown;
}

/** A reply; which fields are there depends on the command and the outcome. */
export interface OracleReply {
  ok: boolean;
  error?: string;
  errno?: number;
  errno_name?: string;
  stage?: string;
  accepted?: boolean;
  log?: string;
  log_truncated?: boolean;
  insn_processed?: number | null;
  retval?: number;
  duration_ns?: number;
  repeat?: number;
  data_out?: string;
  data_size_out?: number;
  ctx_out?: string | null;
  results?: OracleRunResult[];
  maps?: OracleMapDump[];
  bpf?: boolean;
  reason?: string;
  [key: string]: unknown;
}

/** One test run's result. */
export interface OracleRunResult {
  retval: number;
  duration_ns: number;
  repeat: number;
  data_size_out: number;
  data_out: string;
  ctx_out: string | null;
}

/** A map read back after a run. */
export interface OracleMapDump {
  map: number;
  type: string;
  /** Array/hash-like maps: every entry; per-CPU maps add `values` (one per CPU); queue/stack: popped `{ value }`s. */
  entries?: { key?: string; value: string; values?: string[] }[];
  /** Ring buffers: the committed records. */
  records?: string[];
  error?: string;
  errno?: number;
}
