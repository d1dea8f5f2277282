/**
 * The interface every map implementation provides, and the errors maps
 * fail with. Map types, flags and errno values are Linux's (isa/uapi.ts).
 */
import { TsbpfError } from '../../errors.js';
import type { ErrorLocation } from '../../errors.js';
import { Errno } from '../../isa/uapi.js';
import type { ErrnoName } from '../../isa/uapi.js';

// Linux's map vocabulary lives in isa/uapi.ts; re-exported for the map implementations.
export { Errno, MAP_TYPE_NAMES, MapFlags, MapType, UpdateFlags } from '../../isa/uapi.js';
export type { ErrnoName } from '../../isa/uapi.js';

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

/** Ring buffer record header bit: the record is being written (`BPF_RINGBUF_BUSY_BIT`). */
export const RINGBUF_BUSY_BIT = 0x80000000;
/** Ring buffer record header bit: the record was discarded (`BPF_RINGBUF_DISCARD_BIT`). */
export const RINGBUF_DISCARD_BIT = 0x40000000;
/** Bytes of a ring buffer record header (`BPF_RINGBUF_HDR_SZ`). */
export const RINGBUF_HDR_SIZE = 8;

/** `bpf_perf_event_output` flags: the mask of the CPU index. */
export const BPF_F_INDEX_MASK = 0xffffffff;
/** `bpf_perf_event_output` flags: "the current CPU". */
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
  /**
   * The other kernel objects (kptrs, list heads, rbtree roots, refcounts,
   * workqueues) as [start, end) byte ranges: programs reach them through
   * kfuncs, copies from and to user space skip them, user space reads zeros.
   */
  others?: readonly (readonly [number, number])[];
}

/** Size of `struct bpf_spin_lock`. */
export const SPIN_LOCK_SIZE = 4;
/** Size of `struct bpf_timer`. */
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
