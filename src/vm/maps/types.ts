/**
 * Map types, flags and the interface every map implementation provides.
 * Ids, flags and errno values are Linux's (include/uapi/linux/bpf.h).
 */
import { TsbpfError } from '../../errors.js';
import type { ErrorLocation } from '../../errors.js';

/** `enum bpf_map_type`. */
export const MapType = {
  UNSPEC: 0, HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5,
  PERCPU_ARRAY: 6, STACK_TRACE: 7, CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13, DEVMAP: 14, SOCKMAP: 15, CPUMAP: 16,
  XSKMAP: 17, SOCKHASH: 18, CGROUP_STORAGE: 19, REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21, QUEUE: 22, STACK: 23, SK_STORAGE: 24, DEVMAP_HASH: 25,
  STRUCT_OPS: 26, RINGBUF: 27, INODE_STORAGE: 28, TASK_STORAGE: 29, BLOOM_FILTER: 30,
  USER_RINGBUF: 31, CGRP_STORAGE: 32, ARENA: 33,
} as const;

/** Map type names as libbpf and bpftool print them, by id. */
export const MAP_TYPE_NAMES: readonly string[] = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array',
  'stack_trace', 'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps',
  'hash_of_maps', 'devmap', 'sockmap', 'cpumap', 'xskmap', 'sockhash', 'cgroup_storage',
  'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack', 'sk_storage', 'devmap_hash',
  'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter', 'user_ringbuf',
  'cgrp_storage', 'arena',
];

/** Map creation flags (`map_flags`). */
export const MapFlags = {
  NO_PREALLOC: 1 << 0, NO_COMMON_LRU: 1 << 1, NUMA_NODE: 1 << 2, RDONLY: 1 << 3, WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5, ZERO_SEED: 1 << 6, RDONLY_PROG: 1 << 7, WRONLY_PROG: 1 << 8,
  CLONE: 1 << 9, MMAPABLE: 1 << 10, PRESERVE_ELEMS: 1 << 11, INNER_MAP: 1 << 12,
} as const;

/** Flags of an element update. */
export const UpdateFlags = { ANY: 0, NOEXIST: 1, EXIST: 2, F_LOCK: 4 } as const;

/** errno values helpers return negated. */
export const Errno = {
  EPERM: 1, ENOENT: 2, E2BIG: 7, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17,
  ENODEV: 19, EINVAL: 22, ENOSPC: 28, ERANGE: 34, EDEADLK: 35, EOVERFLOW: 75, ENOTSUPP: 524, EOPNOTSUPP: 95,
} as const;

/** Name of an errno value. */
export type ErrnoName = keyof typeof Errno;

/** A map operation that failed the way Linux fails it (`errno` is the name, e.g. 'ENOENT'). */
export class MapError extends TsbpfError {
  constructor(readonly errno: ErrnoName, reason: string, location: ErrorLocation = {}) {
    super(`${reason} (${errno})`, location);
  }

  /** The errno number (`Errno[errno]`), as bpf(2) would set it. */
  get code(): number {
    return Errno[this.errno];
  }
}

/**
 * A batch operation that stopped at an element: `processed` elements were
 * done before it (bpf(2) reports them in `batch.count`).
 */
export class MapBatchError extends MapError {
  constructor(errno: ErrnoName, reason: string, readonly processed: number) {
    super(errno, reason);
  }
}

/** Flags of `bpf_ringbuf_output`, `_submit`, `_discard` and `bpf_ringbuf_query`. */
export const RingbufFlags = {
  NO_WAKEUP: 1, FORCE_WAKEUP: 2,
  /** Query: bytes produced and not consumed yet. */
  AVAIL_DATA: 0,
  /** Query: size of the data area. */
  RING_SIZE: 1,
  /** Query: consumer position. */
  CONS_POS: 2,
  /** Query: producer position. */
  PROD_POS: 3,
} as const;

/** Ring buffer record header bits (`BPF_RINGBUF_BUSY_BIT`, `BPF_RINGBUF_DISCARD_BIT`) and size. */
export const RINGBUF_BUSY_BIT = 0x80000000;
export const RINGBUF_DISCARD_BIT = 0x40000000;
export const RINGBUF_HDR_SIZE = 8;

/** `bpf_perf_event_output` flags: the index mask and "the current CPU". */
export const BPF_F_INDEX_MASK = 0xffffffff;
export const BPF_F_CURRENT_CPU = 0xffffffff;

/** What a map is: its definition as a loader or a user gives it. */
export interface MapSpec {
  /** Name as libbpf names it (e.g. `counts`, `obj.rodata`). */
  name: string;
  /** `enum bpf_map_type` id. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** `map_flags`. */
  flags?: number;
  /** `map_extra` (bloom filter: number of hash functions in the low 4 bits). */
  mapExtra?: bigint;
  /** Template of the inner maps, for `array_of_maps` and `hash_of_maps`. */
  innerMap?: MapSpec;
  /** BTF type ids of key and value in the object's BTF, for formatted dumps. */
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  /** libbpf `pinning` attribute (0 none, 1 by name). */
  pinning?: number;
  /**
   * Kernel objects inside each value, found in the value's BTF type (the
   * kernel's `btf_record`): a `struct bpf_spin_lock` (4 bytes) and a
   * `struct bpf_timer` (16 bytes), by byte offset. User space never reads
   * or writes them; `BPF_F_LOCK` needs the lock.
   */
  fields?: MapValueFields;
  /**
   * Seed of the hash function of hash maps and bloom filters. Linux draws a
   * random one per map unless `BPF_F_ZERO_SEED` is set (then 0); tsbpf does
   * the same, and this field fixes it (tests, reproducible runs).
   */
  hashSeed?: number;
}

/** Offsets of the special fields of a map value (see {@link MapSpec.fields}). */
export interface MapValueFields {
  spinLock?: number;
  timer?: number;
}

/** Sizes of `struct bpf_spin_lock` and `struct bpf_timer`. */
export const SPIN_LOCK_SIZE = 4;
export const TIMER_SIZE = 16;

/**
 * What a batch lookup returns: the entries, and the token to pass as
 * `inBatch` to continue, or null when the end of the map was reached (where
 * bpf(2) fails with ENOENT). Hash maps use Linux's token (a little-endian u32
 * bucket index); the other maps use the last key returned.
 */
export interface BatchResult {
  entries: MapEntry[];
  nextKey: Uint8Array | null;
}

/** One entry as user space sees it. */
export interface MapEntry {
  key: Uint8Array;
  value: Uint8Array;
}
