/**
 * The base class of every map. A map lives in its machine's address space:
 * a small descriptor region (whose start address is the "map pointer" a
 * program holds after `lddw rX, map`) plus the storage its type needs. User
 * space (TypeScript) and programs (through helpers) work on the same bytes.
 *
 * User-space methods take and return bytes and throw {@link MapError} with
 * Linux's errno; program-side methods take addresses in the address space
 * and return what the helper returns (an address, 0 for NULL, or -errno).
 * A program-side call that the Linux verifier would refuse for this map
 * type (e.g. `bpf_map_lookup_elem` on a prog array) throws a `VmError` that
 * quotes the verifier's reason: tsbpf also runs unverified programs, and
 * such a call must never silently misrun.
 *
 * The public user-space methods do the checks bpf(2) does before reaching
 * the map type (permissions from `BPF_F_RDONLY`/`BPF_F_WRONLY` and
 * freezing, key and value sizes, `BPF_F_LOCK`), then call the protected
 * `*Elem` hooks each map type implements.
 */
import { VmError } from '../../errors.js';
import type { Machine } from '../machine.js';
import { lockWord, unlockWord } from '../memory.js';
import type { Region, RegionKind } from '../memory.js';
import { MapTimers } from './timers.js';
import { MapBatchError, MapError, MapFlags, MAP_TYPE_NAMES, SPIN_LOCK_SIZE, TIMER_SIZE, UpdateFlags } from './types.js';
import type { BatchResult, MapEntry, MapSpec } from './types.js';

/** Bytes of the descriptor fields ({@link MapDescriptor}). */
export const MAP_DESCRIPTOR_FIELDS = 64;
/**
 * Bytes of a map descriptor region: as many as the verifier lets a program
 * read through a map pointer (`struct bpf_map`'s 256 bytes, see
 * checkPtrToMapAccess in src/verifier/mem.ts), so every read it accepts
 * stays inside the descriptor. The fields fill the first
 * {@link MAP_DESCRIPTOR_FIELDS} bytes; the rest reads as zeros. Programs may
 * read the descriptor, never write it (a read-only page class).
 */
export const MAP_DESCRIPTOR_SIZE = 256;

/**
 * Descriptor field offsets (little-endian u32). Engines may read them, e.g.
 * the JIT to inline array and hash lookups. Fields a map type does not use
 * are 0; docs/maps.md gives the meaning of `state0..2` per type.
 */
export const MapDescriptor = {
  /** `enum bpf_map_type`. */
  type: 0,
  keySize: 4,
  valueSize: 8,
  maxEntries: 12,
  flags: 16,
  /** Map id in the machine's registry. */
  id: 20,
  /** Address of the element storage (array values, hash buckets, ring data, ...). */
  storage: 24,
  /** Bytes between consecutive values (value_size rounded up to 8). */
  stride: 28,
  /** Per-CPU slots of each element (1 for maps that are not per-CPU). */
  cpus: 32,
  /** Hash maps: number of buckets - 1; bloom filters: bit mask; ring buffers: size - 1. */
  mask: 36,
  /** Hash maps and bloom filters: the hash seed. */
  seed: 40,
  /** Hash maps and LPM tries: bytes per entry (node). */
  entrySize: 44,
  /** Type-specific state words (see docs/maps.md). */
  state0: 48,
  state1: 52,
  state2: 56,
  /** Number of elements (hash maps, LPM tries). */
  count: 60,
  /** Hash maps on several worker threads: the mutex their writers take (memory.ts `lockWord`). */
  lock: 64,
} as const;

/** Helper names with Linux ids, as the verifier prints them. */
export const HelperRef = {
  lookup: 'bpf_map_lookup_elem#1',
  update: 'bpf_map_update_elem#2',
  delete: 'bpf_map_delete_elem#3',
  perfEventOutput: 'bpf_perf_event_output#25',
  push: 'bpf_map_push_elem#87',
  pop: 'bpf_map_pop_elem#88',
  peek: 'bpf_map_peek_elem#89',
  ringbufOutput: 'bpf_ringbuf_output#130',
  ringbufReserve: 'bpf_ringbuf_reserve#131',
  ringbufQuery: 'bpf_ringbuf_query#134',
  forEach: 'bpf_for_each_map_elem#164',
  lookupPercpu: 'bpf_map_lookup_percpu_elem#195',
} as const;

/** Linux's PCPU_MIN_UNIT_SIZE: the largest per-CPU value (E2BIG above). */
export const PCPU_MIN_UNIT_SIZE = 32768;
/** KMALLOC_MAX_SIZE on x86-64 (4 MiB): the bound of Linux's element size checks. */
export const KMALLOC_MAX_SIZE = 1 << 22;

/** Flags every map type accepts for program/user access control (`BPF_F_ACCESS_MASK`). */
export const ACCESS_MASK = MapFlags.RDONLY | MapFlags.WRONLY | MapFlags.RDONLY_PROG | MapFlags.WRONLY_PROG;

/** Linux's `bpf_map_flags_access_ok`: not read-only and write-only at once, for user space or programs. */
export function accessFlagsOk(flags: number): boolean {
  return !((flags & MapFlags.RDONLY) && (flags & MapFlags.WRONLY))
    && !((flags & MapFlags.RDONLY_PROG) && (flags & MapFlags.WRONLY_PROG));
}

/** `value_size` rounded up to 8: the distance between values in storage. */
export function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Name of a map type id (`hash`, `array`, ...) or `type N`. */
export function mapTypeName(type: number): string {
  return MAP_TYPE_NAMES[type] ?? `type ${type}`;
}

/** Options a map class passes to the base constructor. */
export interface BpfMapOptions {
  /** One value slot per possible CPU. */
  percpu?: boolean;
  /** `max_entries` as the map reports it (Linux rounds some, e.g. NO_COMMON_LRU maps). */
  maxEntries?: number;
}

/** A map in a machine. */
export abstract class BpfMap {
  /** Id in the machine's map registry (what a file descriptor is in Linux). */
  readonly id: number;
  readonly spec: Readonly<MapSpec>;
  /** The descriptor; its start is the map pointer programs hold. */
  readonly descriptor: Region;
  /** Per-CPU slots of each element: `machine.possibleCpus` for per-CPU maps, else 1. */
  readonly cpus: number;
  /** Whether each element holds one value per possible CPU. */
  readonly percpu: boolean;
  /** Bytes between values: value_size rounded up to 8. */
  readonly stride: number;
  /** Set by {@link freeze}: user space may no longer write. */
  frozen = false;

  protected constructor(readonly machine: Machine, spec: MapSpec, id: number, options: BpfMapOptions = {}) {
    this.id = id;
    this.spec = { ...spec, flags: spec.flags ?? 0, maxEntries: options.maxEntries ?? spec.maxEntries };
    this.percpu = options.percpu ?? false;
    this.cpus = this.percpu ? machine.possibleCpus : 1;
    this.stride = roundUp8(spec.valueSize);
    this.descriptor = this.allocate('', 'map', MAP_DESCRIPTOR_SIZE, { readable: true, writable: false });
    this.setField(MapDescriptor.type, spec.type);
    this.setField(MapDescriptor.keySize, spec.keySize);
    this.setField(MapDescriptor.valueSize, spec.valueSize);
    this.setField(MapDescriptor.maxEntries, this.spec.maxEntries);
    this.setField(MapDescriptor.flags, this.flags);
    this.setField(MapDescriptor.id, id);
    this.setField(MapDescriptor.stride, this.stride);
    this.setField(MapDescriptor.cpus, this.cpus);
  }

  /**
   * Byte ranges of each value that hold kernel objects (`bpf_spin_lock`,
   * `bpf_timer`, kptrs, list heads, ...): copies between user space and the map skip them, as
   * Linux's `copy_map_value` does, and user space reads them as zeros.
   */
  get specialRanges(): readonly (readonly [number, number])[] {
    const f = this.spec.fields;
    if (!f) return [];
    const out: [number, number][] = [];
    if (f.spinLock !== undefined) out.push([f.spinLock, f.spinLock + SPIN_LOCK_SIZE]);
    if (f.timer !== undefined) out.push([f.timer, f.timer + TIMER_SIZE]);
    for (const r of f.others ?? []) out.push([r[0], r[1]]);
    return out.sort((a, b) => a[0] - b[0]);
  }

  /** Whether values hold a `bpf_spin_lock` (what `BPF_F_LOCK` needs). */
  get hasSpinLock(): boolean {
    return this.spec.fields?.spinLock !== undefined;
  }

  /** Copies `value` (value_size bytes) to the value at `to`, leaving the special fields alone (`copy_map_value`). */
  protected copyValueIn(to: number, value: Uint8Array): void {
    const ranges = this.specialRanges;
    const mem = this.mem;
    if (ranges.length === 0) {
      mem.set(value.subarray(0, this.valueSize), to);
      return;
    }
    let at = 0;
    for (const [lo, hi] of ranges) {
      if (lo > at) mem.set(value.subarray(at, lo), to + at);
      at = hi;
    }
    if (at < this.valueSize) mem.set(value.subarray(at, this.valueSize), to + at);
  }

  /** A copy of a value for user space, its special fields zeroed (`check_and_init_map_value`). */
  protected hideSpecial(value: Uint8Array): Uint8Array {
    for (const [lo, hi] of this.specialRanges) {
      for (let c = 0; c * this.stride < value.length; c++) value.fill(0, c * this.stride + lo, c * this.stride + hi);
    }
    return value;
  }

  /** Zeroes the special fields of the value at `addr` (a fresh element: `check_and_init_map_value`). */
  protected clearSpecial(addr: number): void {
    for (const [lo, hi] of this.specialRanges) this.mem.fill(0, addr + lo, addr + hi);
  }

  /**
   * `bpf_obj_free_fields`: the value at `addr` is replaced or goes away, so
   * its timer is cancelled and freed (the field reads as zero again).
   */
  protected freeSpecial(addr: number): void {
    const timer = this.spec.fields?.timer;
    if (timer === undefined) return;
    MapTimers.of(this.machine.space).free(addr + timer);
    this.mem.fill(0, addr + timer, addr + timer + TIMER_SIZE);
  }

  /**
   * The key of the element whose value is at `valueAddr`, as a timer
   * callback gets it (arrays: the index), or undefined when the value is not
   * one of this map's.
   */
  keyOfValue(_valueAddr: number): Uint8Array | undefined {
    return undefined;
  }

  /** Map pointer value as programs see it. */
  get address(): number {
    return this.descriptor.start;
  }

  get name(): string {
    return this.spec.name;
  }

  /** `enum bpf_map_type` id. */
  get type(): number {
    return this.spec.type;
  }

  /** Type name as bpftool prints it (`hash`, `lru_percpu_hash`, ...). */
  get typeName(): string {
    return mapTypeName(this.spec.type);
  }

  get keySize(): number {
    return this.spec.keySize;
  }

  get valueSize(): number {
    return this.spec.valueSize;
  }

  get maxEntries(): number {
    return this.spec.maxEntries;
  }

  get flags(): number {
    return this.spec.flags ?? 0;
  }

  /** Bytes of a value as user space reads and writes it: `cpus * stride` for per-CPU maps, else value_size. */
  get userValueSize(): number {
    return this.percpu ? this.cpus * this.stride : this.valueSize;
  }

  /** `map 'name' (hash)`, for messages. */
  protected get label(): string {
    return `map '${this.name}' (${this.typeName})`;
  }

  // ---- memory ------------------------------------------------------------

  /** A byte view of the whole address space (re-read after any allocation: growth replaces the buffer). */
  protected get mem(): Uint8Array {
    return this.machine.space.bytes;
  }

  /** A DataView of the whole address space. */
  protected get dv(): DataView {
    return this.machine.space.data;
  }

  /** Reserves a region named `map:<name><suffix>`; running out of memory is ENOMEM, as in Linux. */
  protected allocate(suffix: string, kind: RegionKind, size: number, access: { readable?: boolean; writable?: boolean; align?: number } = {}): Region {
    try {
      return this.machine.space.allocate(`map:${this.spec.name}${suffix}`, kind, size, access);
    } catch (err) {
      if (err instanceof VmError) throw new MapError('ENOMEM', `cannot allocate ${size} bytes for ${this.label}: ${err.reason}`);
      throw err;
    }
  }

  /**
   * Access rights of value storage for programs, from `BPF_F_RDONLY_PROG` /
   * `BPF_F_WRONLY_PROG` (maps whose values the runtime trusts, such as
   * inner-map pointers, make them internal).
   */
  protected get valueAccess(): { readable: boolean; writable: boolean } {
    return { readable: (this.flags & MapFlags.WRONLY_PROG) === 0, writable: (this.flags & MapFlags.RDONLY_PROG) === 0 };
  }

  /** Read-only key slots for `bpf_for_each_map_elem` callbacks, one per nesting level (allocated on first use). */
  private keyScratch: Region | null = null;
  private forEachDepth = 0;

  /**
   * Runs `body` with the address of a key slot (key_size bytes, read-only
   * for programs) where a `bpf_for_each_map_elem` callback finds the key of
   * the element it visits: keys the map keeps in internal pages (or does
   * not store at all, as arrays) are copied there. Eight nesting levels.
   */
  protected withKeySlot<T>(body: (slot: number) => T): T {
    const size = roundUp8(Math.max(this.keySize, 4));
    if (this.keyScratch === null) {
      this.keyScratch = this.allocate('.foreach_key', 'scratch', 8 * size, { readable: true, writable: false });
    }
    if (this.forEachDepth >= 8) throw new MapError('EBUSY', `bpf_for_each_map_elem nested too deeply on ${this.label}`);
    const slot = this.keyScratch.start + size * this.forEachDepth;
    this.forEachDepth++;
    try {
      return body(slot);
    } finally {
      this.forEachDepth--;
    }
  }

  /**
   * Runs `fn` holding the map's lock when worker threads share the memory
   * (`space.concurrent`): maps whose changes touch several words (a hash
   * table's chains, free list, count and LRU list; a queue's head and
   * tail) make them under it, so concurrent updates are never lost. The
   * lock is a word of the descriptor and is not reentrant: only a map's
   * entry points take it.
   */
  protected exclusive<T>(fn: () => T): T {
    const space = this.machine.space;
    if (!space.concurrent) return fn();
    const word = this.descriptor.start + MapDescriptor.lock;
    lockWord(space, word);
    try {
      return fn();
    } finally {
      unlockWord(space, word);
    }
  }

  /** Reads descriptor field `offset` (a {@link MapDescriptor} value). */
  protected field(offset: number): number {
    return this.dv.getUint32(this.descriptor.start + offset, true);
  }

  /** Writes descriptor field `offset`. */
  protected setField(offset: number, value: number): void {
    this.dv.setUint32(this.descriptor.start + offset, value >>> 0, true);
  }

  // ---- user space: the checks bpf(2) makes, then the type's hook ----------

  /** The value of `key` (per-CPU maps: every CPU's value, each padded to 8 bytes, as bpf(2) returns), or undefined (ENOENT). */
  lookup(key: Uint8Array | null): Uint8Array | undefined {
    this.checkRead();
    return this.lookupElem(this.userKey(key));
  }

  /**
   * Creates or replaces an element; `flags` is BPF_ANY, BPF_NOEXIST or
   * BPF_EXIST. Per-CPU maps take every CPU's value (each padded to 8 bytes)
   * or one value_size value that is copied to every CPU.
   */
  update(key: Uint8Array | null, value: Uint8Array, flags: number = UpdateFlags.ANY): void {
    this.checkWrite();
    this.checkLockFlag(flags);
    this.updateElem(this.userKey(key), value, flags);
  }

  /** Deletes an element. */
  delete(key: Uint8Array | null): void {
    this.checkWrite();
    this.deleteElem(this.userKey(key));
  }

  /** The key after `key` in iteration order (the first key for null or a missing key), or undefined at the end (ENOENT). */
  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    this.checkRead();
    return this.nextKeyOf(key === null ? null : this.userKey(key));
  }

  /** Every entry in iteration order (for queue/stack/ringbuf maps: the elements a consumer would read, without consuming them). */
  entries(): MapEntry[] {
    this.checkRead();
    return this.allEntries();
  }

  /**
   * The entries whose value holds a non-zero byte (any CPU's, for per-CPU
   * maps), in iteration order. For arrays, which always hold every key,
   * that is what says anything; it never materialises the zero slots, so a
   * 33-million-entry array costs only its used entries.
   */
  nonZeroEntries(): MapEntry[] {
    this.checkRead();
    return this.usedEntries();
  }

  /** Looks up and deletes (pop for queue/stack); undefined when there is no such element (ENOENT). */
  lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    this.checkRead();
    this.checkWrite();
    return this.lookupAndDeleteElem(this.userKey(key));
  }

  /**
   * `BPF_MAP_LOOKUP_BATCH`: up to `count` entries after the batch token
   * `inBatch` (null: from the start). `nextKey` is null once the end is
   * reached (bpf(2) returns ENOENT then).
   */
  lookupBatch(inBatch: Uint8Array | null, count: number): BatchResult {
    this.checkRead();
    this.checkCount(count);
    return this.lookupBatchElems(inBatch, count, false);
  }

  /** `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: like {@link lookupBatch}, deleting what it returns. */
  lookupAndDeleteBatch(inBatch: Uint8Array | null, count: number): BatchResult {
    this.checkRead();
    this.checkWrite();
    this.checkCount(count);
    return this.lookupBatchElems(inBatch, count, true);
  }

  /**
   * `BPF_MAP_UPDATE_BATCH`: updates in order and returns how many were
   * done; the first failure throws a {@link MapBatchError} whose
   * `processed` counts the updates done before it.
   */
  updateBatch(entries: readonly MapEntry[], flags: number = UpdateFlags.ANY): number {
    this.checkWrite();
    this.checkBatch('update');
    this.checkLockFlag(flags);
    let done = 0;
    for (const e of entries) {
      try {
        this.updateElem(this.userKey(e.key), e.value, flags);
      } catch (err) {
        if (err instanceof MapError) throw new MapBatchError(err.errno, err.reason, done);
        throw err;
      }
      done++;
    }
    return done;
  }

  /** `BPF_MAP_DELETE_BATCH`: deletes in order; the first failure throws a {@link MapBatchError}. */
  deleteBatch(keys: readonly Uint8Array[]): number {
    this.checkWrite();
    this.checkBatch('delete');
    let done = 0;
    for (const k of keys) {
      try {
        this.deleteElem(this.userKey(k));
      } catch (err) {
        if (err instanceof MapError) throw new MapBatchError(err.errno, err.reason, done);
        throw err;
      }
      done++;
    }
    return done;
  }

  /**
   * Makes the map read-only for user space (BPF_MAP_FREEZE). Programs keep
   * their access, as in Linux. EPERM for a map created BPF_F_RDONLY, EBUSY
   * when already frozen.
   */
  freeze(): void {
    if (this.flags & MapFlags.RDONLY) throw new MapError('EPERM', `${this.label} was created read-only (BPF_F_RDONLY)`);
    if (this.frozen) throw new MapError('EBUSY', `${this.label} is already frozen`);
    this.frozen = true;
  }

  // ---- hooks of each map type -------------------------------------------

  /** Lookup of a checked key (length key_size; empty for keyless maps). */
  protected abstract lookupElem(key: Uint8Array): Uint8Array | undefined;
  /** Update of a checked key; `flags` has BPF_F_LOCK only when the value holds a spin lock. */
  protected abstract updateElem(key: Uint8Array, value: Uint8Array, flags: number): void;
  protected abstract deleteElem(key: Uint8Array): void;
  protected abstract nextKeyOf(key: Uint8Array | null): Uint8Array | undefined;
  protected abstract allEntries(): MapEntry[];

  /** {@link nonZeroEntries}; types whose storage can be scanned in place override it. */
  protected usedEntries(): MapEntry[] {
    return this.allEntries().filter((e) => e.value.some((b) => b !== 0));
  }

  /** bpf(2) supports lookup-and-delete for hash maps and queue/stack only. */
  protected lookupAndDeleteElem(_key: Uint8Array): Uint8Array | undefined {
    throw new MapError('ENOTSUPP', `${this.label} does not support lookup-and-delete`);
  }

  /** Which batch operations the type has (bpf(2) answers ENOTSUPP for the others). */
  protected batchSupport(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: false, lookupAndDelete: false, update: false, delete: false };
  }

  /**
   * Linux's `generic_map_lookup_batch`: walks `get_next_key` from the
   * token (the last key of the previous batch).
   */
  protected lookupBatchElems(inBatch: Uint8Array | null, count: number, del: boolean): BatchResult {
    this.checkBatch(del ? 'lookupAndDelete' : 'lookup');
    const entries: MapEntry[] = [];
    let prev = inBatch === null ? null : this.userKey(inBatch);
    while (entries.length < count) {
      const key = this.nextKeyOf(prev);
      if (key === undefined) return { entries, nextKey: null };
      const value = this.lookupElem(key);
      if (value !== undefined) entries.push({ key, value });
      prev = key;
    }
    return { entries, nextKey: prev };
  }

  // ---- programs -----------------------------------------------------------
  // What a map type does not offer, the verifier refuses (devmaps and stack trace maps take only their own helpers,
  // cpumaps no lookup, ...): these defaults refuse too, naming the helper, as a second line of defence.

  /** `bpf_map_lookup_elem`: address of the value for the key at `keyAddr` (this CPU's slot for per-CPU maps), or 0. */
  progLookup(_keyAddr: number, _cpu: number): number {
    return this.refuse(HelperRef.lookup);
  }

  /** `bpf_map_update_elem`: 0 or -errno. */
  progUpdate(_keyAddr: number, _valueAddr: number, _flags: number, _cpu: number): number {
    return this.refuse(HelperRef.update);
  }

  /** `bpf_map_delete_elem`: 0 or -errno. */
  progDelete(_keyAddr: number, _cpu: number): number {
    return this.refuse(HelperRef.delete);
  }

  /** `bpf_map_push_elem` (queue, stack, bloom filter): 0 or -errno. */
  progPush(_valueAddr: number, _flags: number, _cpu: number): number {
    return this.refuse(HelperRef.push);
  }

  /** `bpf_map_pop_elem` (queue, stack): copies the element to `valueAddr`; 0 or -errno. */
  progPop(_valueAddr: number, _cpu: number): number {
    return this.refuse(HelperRef.pop);
  }

  /** `bpf_map_peek_elem` (queue, stack, bloom filter): 0 or -errno. */
  progPeek(_valueAddr: number, _cpu: number): number {
    return this.refuse(HelperRef.peek);
  }

  /** `bpf_map_lookup_percpu_elem` (per-CPU maps): address of CPU `targetCpu`'s value, or 0. */
  progLookupPercpu(_keyAddr: number, _targetCpu: number): number {
    return this.refuse(HelperRef.lookupPercpu);
  }

  /**
   * `bpf_for_each_map_elem`: calls `visit(keyAddr, valueAddr)` for each
   * element (this CPU's value for per-CPU maps) until it returns true;
   * returns the number of elements visited.
   */
  progForEach(_cpu: number, _visit: (keyAddr: number, valueAddr: number) => boolean): number {
    return this.refuse(HelperRef.forEach);
  }

  /** Throws the verifier's refusal of `helper` on this map type. */
  protected refuse(helper: string): never {
    throw new VmError(`cannot pass map_type ${this.type} into func ${helper}: ${this.label} does not support it (the Linux verifier refuses this call)`);
  }

  // ---- shared checks --------------------------------------------------------

  /** EPERM when user space may not read (BPF_F_WRONLY). */
  protected checkRead(): void {
    if (this.flags & MapFlags.WRONLY) throw new MapError('EPERM', `${this.label} is write-only for user space (BPF_F_WRONLY)`);
  }

  /** EPERM when user space may not write (BPF_F_RDONLY or frozen). */
  protected checkWrite(): void {
    if (this.frozen) throw new MapError('EPERM', `${this.label} is frozen`);
    if (this.flags & MapFlags.RDONLY) throw new MapError('EPERM', `${this.label} is read-only for user space (BPF_F_RDONLY)`);
  }

  /** BPF_F_LOCK needs a bpf_spin_lock in the value: EINVAL otherwise, as bpf(2) answers. */
  protected checkLockFlag(flags: number): void {
    if (flags & UpdateFlags.F_LOCK && !this.hasSpinLock) throw new MapError('EINVAL', `BPF_F_LOCK needs a bpf_spin_lock in the value of ${this.label}`);
  }

  private checkCount(count: number): void {
    if (!Number.isInteger(count) || count < 1) throw new MapError('EINVAL', `batch count must be a positive integer, not ${count}`);
  }

  private checkBatch(op: 'lookup' | 'lookupAndDelete' | 'update' | 'delete'): void {
    if (!this.batchSupport()[op]) throw new MapError('ENOTSUPP', `${this.label} does not support ${op} batches`);
  }

  /** A user key checked against key_size (null or empty for keyless maps). */
  protected userKey(key: Uint8Array | null): Uint8Array {
    if (key === null) {
      if (this.keySize === 0) return new Uint8Array(0);
      throw new MapError('EINVAL', `${this.label} needs a key of ${this.keySize} bytes`);
    }
    if (key.length !== this.keySize) {
      throw new MapError('EINVAL', `key of ${key.length} bytes for ${this.label}, whose key_size is ${this.keySize}`);
    }
    return key;
  }

  /** EINVAL unless `value` has value_size bytes. */
  protected checkValue(value: Uint8Array): void {
    if (value.length !== this.valueSize) {
      throw new MapError('EINVAL', `value of ${value.length} bytes for ${this.label}, whose value_size is ${this.valueSize}`);
    }
  }

  /**
   * A user value of a per-CPU map as `cpus * stride` bytes: either that
   * layout already, or one value_size value copied to every CPU.
   */
  protected perCpuValue(value: Uint8Array): Uint8Array {
    const full = this.cpus * this.stride;
    if (value.length === full) return value;
    if (value.length === this.valueSize) {
      const out = new Uint8Array(full);
      for (let c = 0; c < this.cpus; c++) out.set(value, c * this.stride);
      return out;
    }
    throw new MapError('EINVAL', `value of ${value.length} bytes for per-CPU ${this.label}: give ${full} bytes (${this.cpus} CPUs x ${this.stride}) or one value of ${this.valueSize}`);
  }

  /** EINVAL unless `flags` is BPF_ANY, BPF_NOEXIST or BPF_EXIST. */
  protected static badUpdateFlags(flags: number): boolean {
    return !Number.isInteger(flags) || flags < 0 || flags > UpdateFlags.EXIST;
  }

  /** Throws a VmError unless `cpu` has a slot in this per-CPU map. */
  protected checkCpu(cpu: number): void {
    if (cpu >= this.cpus) {
      throw new VmError(`CPU ${cpu} has no slot in per-CPU ${this.label}: it was created for ${this.cpus} possible CPU${this.cpus === 1 ? '' : 's'} (Machine option possibleCpus)`);
    }
  }
}

/** Splits a per-CPU user value (`cpus * stride` bytes) into one value_size view per CPU. */
export function splitPerCpu(value: Uint8Array, valueSize: number, cpus: number): Uint8Array[] {
  const stride = roundUp8(valueSize);
  const out: Uint8Array[] = [];
  for (let c = 0; c < cpus; c++) out.push(value.subarray(c * stride, c * stride + valueSize));
  return out;
}

/** `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A little-endian u32 as 4 bytes. */
export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** The little-endian u32 at the start of `b`. */
export function readU32(b: Uint8Array): number {
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/**
 * Linux's `array_map_get_next_key` (also used by prog arrays, perf event
 * arrays and arrays of maps): index order; null, a missing or an
 * out-of-range key restarts at 0; after the last index there is no next key.
 */
export function arrayNextKey(key: Uint8Array | null, maxEntries: number): Uint8Array | undefined {
  const index = key === null ? maxEntries : readU32(key);
  if (index >= maxEntries) return u32Bytes(0);
  if (index === maxEntries - 1) return undefined;
  return u32Bytes(index + 1);
}
