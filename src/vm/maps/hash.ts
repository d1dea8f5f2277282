/**
 * `BPF_MAP_TYPE_HASH` and `BPF_MAP_TYPE_PERCPU_HASH` (and, through
 * lru.ts, the LRU variants): a chained hash table laid out in the address
 * space, so an engine can look a key up without calling JavaScript.
 *
 * Layout (docs/maps.md has the full picture):
 * - buckets: `n_buckets` = max_entries rounded up to a power of two, one
 *   u32 each: the address of the first entry of the chain, 0 when empty;
 * - entries, from an {@link EntryPool}, in internal pages: a 24-byte header
 *   `{ u32 next; u32 hash; u32 lru_prev; u32 lru_next; u32 value; u32 free_next }`
 *   and the key padded to 8 bytes;
 * - values, parallel to the entries in pages of the map's value class
 *   (read-write, read-only for BPF_F_RDONLY_PROG, write-only for
 *   BPF_F_WRONLY_PROG): the value padded to 8 (per-CPU maps: one padded
 *   value per possible CPU) at the address the entry's `value` word holds.
 *   A program that writes past a value reaches the next value, never a
 *   chain.
 *
 * The hash is Linux's (`jhash2`/`jhash` of the key with the map's seed),
 * the bucket is `hash & (n_buckets - 1)`, and new elements go to the head of
 * their chain, so iteration (`get_next_key`, batches, `for_each`) visits
 * keys in the kernel's order when both use the same seed (BPF_F_ZERO_SEED).
 */
import { VmError } from '../../errors.js';
import type { Machine } from '../machine.js';
import type { Region } from '../memory.js';
import { mapHash, randomSeed } from './hash-function.js';
import { ACCESS_MASK, accessFlagsOk, BpfMap, KMALLOC_MAX_SIZE, MapDescriptor, PCPU_MIN_UNIT_SIZE, readU32, roundUp8, u32Bytes } from './bpf-map.js';
import { EntryPool } from './pool.js';
import { Errno, MapError, MapFlags, MapType, UpdateFlags } from './types.js';
import type { BatchResult, MapEntry, MapSpec } from './types.js';

/** Bytes of an entry header. */
export const HASH_ENTRY_HEADER = 24;

/** Offsets inside a hash entry (`value`: the address of its value). */
export const HashEntry = { next: 0, hash: 4, lruPrev: 8, lruNext: 12, value: 16, freeNext: 20, key: 24 } as const;

/** Flags hash maps accept (`HTAB_CREATE_FLAG_MASK`). */
const HTAB_CREATE_FLAG_MASK = MapFlags.NO_PREALLOC | MapFlags.NO_COMMON_LRU | MapFlags.NUMA_NODE | ACCESS_MASK | MapFlags.ZERO_SEED;

/** Linux's `htab_map_alloc_check` (and the size checks of `htab_map_alloc`). */
export function checkHashSpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  const percpu = spec.type === MapType.PERCPU_HASH || spec.type === MapType.LRU_PERCPU_HASH;
  const lru = spec.type === MapType.LRU_HASH || spec.type === MapType.LRU_PERCPU_HASH;
  if (flags & ~HTAB_CREATE_FLAG_MASK || !accessFlagsOk(flags)) throw new MapError('EINVAL', `invalid flags 0x${flags.toString(16)} for a hash map`);
  if (!lru && flags & MapFlags.NO_COMMON_LRU) throw new MapError('EINVAL', 'BPF_F_NO_COMMON_LRU needs an LRU hash map');
  if (lru && flags & MapFlags.NO_PREALLOC) throw new MapError('ENOTSUPP', 'LRU hash maps are always preallocated: BPF_F_NO_PREALLOC is not supported');
  if (percpu && flags & MapFlags.NUMA_NODE) throw new MapError('EINVAL', 'per-CPU hash maps take no NUMA node');
  if (spec.maxEntries === 0 || spec.keySize === 0 || spec.valueSize === 0) {
    throw new MapError('EINVAL', 'hash maps need max_entries, key_size and value_size above 0');
  }
  if (spec.keySize + spec.valueSize >= KMALLOC_MAX_SIZE - 48) throw new MapError('E2BIG', 'key_size + value_size is too large');
  if (percpu && roundUp8(spec.valueSize) > PCPU_MIN_UNIT_SIZE) throw new MapError('E2BIG', `per-CPU values are limited to ${PCPU_MIN_UNIT_SIZE} bytes`);
  if (spec.maxEntries > 2 ** 31) throw new MapError('E2BIG', 'max_entries above 2^31');
}

/** Smallest power of two >= n. */
function roundUpPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Options of a hash map class. */
export interface HashOptions {
  percpu: boolean;
  /** max_entries after Linux's adjustments (NO_COMMON_LRU rounding). */
  maxEntries?: number;
}

/** A hash map, optionally per-CPU. */
export class HashMap extends BpfMap {
  /** The bucket array: one u32 chain head per bucket. */
  readonly buckets: Region;
  readonly nBuckets: number;
  readonly seed: number;
  /** Bytes per entry (header and key; the value lives apart). */
  readonly entrySize: number;
  /** Bytes per value (every CPU's slot of per-CPU maps). */
  readonly valueStride: number;
  protected readonly pool: EntryPool;

  constructor(machine: Machine, spec: MapSpec, id: number, options: HashOptions) {
    super(machine, spec, id, { percpu: options.percpu, ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}) });
    const max = this.maxEntries;
    this.nBuckets = roundUpPow2(max);
    // A thread attaching to another's memory takes the seed the original drew (its descriptor holds it), or no key would be found.
    this.seed = spec.hashSeed !== undefined ? spec.hashSeed >>> 0 : (this.flags & MapFlags.ZERO_SEED) ? 0
      : machine.space.replaying ? this.field(MapDescriptor.seed) : randomSeed();
    this.entrySize = HASH_ENTRY_HEADER + roundUp8(spec.keySize);
    this.valueStride = this.cpus * this.stride;
    this.buckets = this.allocate('.buckets', 'internal', this.nBuckets * 4, { readable: false, writable: false });
    this.setField(MapDescriptor.storage, this.buckets.start);
    this.setField(MapDescriptor.mask, this.nBuckets - 1);
    this.setField(MapDescriptor.seed, this.seed);
    this.setField(MapDescriptor.entrySize, this.entrySize);
    const access = this.valueAccess;
    const prealloc = (this.flags & MapFlags.NO_PREALLOC) === 0;
    this.pool = new EntryPool(this.machine.space, (suffix, size) => this.allocate(suffix, 'internal', size, { readable: false, writable: false }),
      this.entrySize, max, this.descriptor.start + MapDescriptor.state0, prealloc,
      { allocate: (suffix, size) => this.allocate(suffix, 'map', size, access), stride: this.valueStride, slot: HashEntry.value }, HashEntry.freeNext);
  }

  /** Number of elements. */
  get count(): number {
    return this.field(MapDescriptor.count);
  }

  // Changes of the table take the map's lock (`exclusive`) when workers share the memory; lookups do
  // not: a new element is complete before the bucket word that links it is written, and the word is
  // written with an atomic store, so a reader sees the chain before or after the insert.

  // ---- the table ------------------------------------------------------------

  /** Linux's `htab_map_hash` of `key` with this map's seed. */
  hashOf(key: Uint8Array): number {
    return mapHash(key, 0, this.keySize, this.seed);
  }

  /** Address of the chain head of the bucket of `hash`. */
  protected bucketAddr(hash: number): number {
    return this.buckets.start + 4 * ((hash & (this.nBuckets - 1)) >>> 0);
  }

  /** Throws when a chain is longer than the map could hold (a program wrote outside a value). */
  protected guard(steps: number): void {
    if (steps > this.pool.allocated + 1) {
      throw new VmError(`${this.label} is corrupted: a bucket chain does not end (did a program write outside a value?)`);
    }
  }

  /** Whether the entry at `e` holds `key`. */
  protected keyAt(e: number, key: Uint8Array): boolean {
    const mem = this.mem;
    const k = e + HashEntry.key;
    for (let i = 0; i < key.length; i++) if (mem[k + i] !== key[i]) return false;
    return true;
  }

  /** The entry holding `key` (whose hash is `hash`), or 0. */
  protected find(key: Uint8Array, hash: number): number {
    const dv = this.dv;
    let e = dv.getUint32(this.bucketAddr(hash), true);
    let steps = 0;
    while (e !== 0) {
      if (dv.getUint32(e + HashEntry.hash, true) === hash && this.keyAt(e, key)) return e;
      e = dv.getUint32(e + HashEntry.next, true);
      this.guard(++steps);
    }
    return 0;
  }

  /** The entries of bucket `b`, head first. */
  protected chain(b: number): number[] {
    const dv = this.dv;
    const out: number[] = [];
    let e = dv.getUint32(this.buckets.start + 4 * b, true);
    while (e !== 0) {
      out.push(e);
      e = dv.getUint32(e + HashEntry.next, true);
      this.guard(out.length);
    }
    return out;
  }

  /** Links `e` at the head of its bucket. */
  private linkHead(e: number, hash: number): void {
    const dv = this.dv;
    const b = this.bucketAddr(hash);
    dv.setUint32(e + HashEntry.next, dv.getUint32(b, true), true);
    // Atomic (sequentially consistent) store: the entry's key and value, written before, are visible to a reader that sees the link.
    if (this.machine.space.concurrent) Atomics.store(this.machine.space.i32, b >>> 2, e);
    else dv.setUint32(b, e, true);
  }

  /** Removes `e` from its bucket chain. */
  private unlink(e: number): void {
    const dv = this.dv;
    let slot = this.bucketAddr(dv.getUint32(e + HashEntry.hash, true));
    let steps = 0;
    for (;;) {
      const cur = dv.getUint32(slot, true);
      if (cur === 0) throw new VmError(`${this.label} is corrupted: entry 0x${e.toString(16)} is not in its bucket`);
      if (cur === e) {
        dv.setUint32(slot, dv.getUint32(e + HashEntry.next, true), true);
        return;
      }
      slot = cur + HashEntry.next;
      this.guard(++steps);
    }
  }

  /** Address of CPU `cpu`'s value in entry `e`. */
  protected valueAddr(e: number, cpu = 0): number {
    return this.pool.valueAt(e) + cpu * this.stride;
  }

  /** Bytes of the entry's value as user space sees them (per-CPU: every CPU's slot). */
  protected readValue(e: number): Uint8Array {
    const at = this.valueAddr(e);
    return this.mem.slice(at, at + this.userValueSize);
  }

  /** The key of entry `e` (a copy). */
  protected readKey(e: number): Uint8Array {
    const at = e + HashEntry.key;
    return this.mem.slice(at, at + this.keySize);
  }

  // ---- LRU hooks (no-ops here; lru.ts implements them) -------------------------

  /** An element was used by a program (lookup) or updated. */
  protected touch(_e: number): void {}
  /** A new element was linked. */
  protected inserted(_e: number): void {}
  /** An element is about to be unlinked and freed. */
  protected removing(_e: number): void {}

  /** A free entry for a new element, or 0 when the map is full (LRU maps evict instead). */
  protected allocEntry(): number {
    return this.pool.alloc();
  }

  /**
   * Whether an update of an existing element moves it to the head of its
   * bucket (Linux replaces the element there; per-CPU maps update in
   * place). Not when threads share the memory: Linux links the new element
   * before it unlinks the old one, so a concurrent lookup always finds the
   * key, while moving one entry leaves a moment without it.
   */
  protected get updateMovesToHead(): boolean {
    return !this.percpu && !this.machine.space.concurrent;
  }

  // ---- the operations, shared by user space and programs --------------------

  /**
   * Creates or replaces `key`. `value` is the user layout (`cpus * stride`
   * bytes for per-CPU maps) when `cpu` is -1, else one value_size value for
   * CPU `cpu` (a program's update). Returns 0 or -errno.
   */
  protected put(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    if (BpfMap.badUpdateFlags(flags & ~UpdateFlags.F_LOCK)) return -Errno.EINVAL;
    const locked = (flags & UpdateFlags.F_LOCK) !== 0;
    if (locked && !this.hasSpinLock) return -Errno.EINVAL;
    flags &= ~UpdateFlags.F_LOCK;
    const hash = this.hashOf(key);
    const old = this.find(key, hash);
    if (old !== 0 && flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    if (old === 0 && flags === UpdateFlags.EXIST) return -Errno.ENOENT;
    if (old !== 0 && locked) {
      // BPF_F_LOCK: the value is copied in place under the lock; the element (and its timer) stays.
      this.copyValueIn(this.valueAddr(old), value);
      this.touch(old);
      return 0;
    }
    if (old !== 0) {
      // Linux replaces the element: the new one starts with fresh special fields, the old one's timer is freed.
      if (this.specialRanges.length) {
        this.freeSpecial(this.valueAddr(old));
        this.clearSpecial(this.valueAddr(old));
      }
      this.writeValue(old, value, cpu, false);
      if (this.updateMovesToHead) {
        this.unlink(old);
        this.linkHead(old, hash);
      }
      this.touch(old);
      return 0;
    }
    const e = this.allocEntry();
    if (e === 0) return -Errno.E2BIG;
    const dv = this.dv;
    dv.setUint32(e + HashEntry.hash, hash, true);
    this.mem.set(key, e + HashEntry.key);
    if (this.specialRanges.length) this.clearSpecial(this.valueAddr(e));
    this.writeValue(e, value, cpu, true);
    this.linkHead(e, hash);
    this.setField(MapDescriptor.count, this.count + 1);
    this.inserted(e);
    return 0;
  }

  /** Writes a value: all CPUs from the user layout, or one CPU (zeroing the others of a new element, as Linux's `pcpu_init_value`). */
  private writeValue(e: number, value: Uint8Array, cpu: number, fresh: boolean): void {
    const mem = this.mem;
    if (!this.percpu) {
      this.copyValueIn(this.valueAddr(e), value);
      return;
    }
    if (cpu < 0) {
      mem.set(value.subarray(0, this.cpus * this.stride), this.valueAddr(e));
      return;
    }
    if (fresh) mem.fill(0, this.valueAddr(e), this.valueAddr(e) + this.cpus * this.stride);
    mem.set(value.subarray(0, this.valueSize), this.valueAddr(e, cpu));
  }

  /** Deletes `key`; 0 or -ENOENT. */
  protected remove(key: Uint8Array): number {
    const e = this.find(key, this.hashOf(key));
    if (e === 0) return -Errno.ENOENT;
    this.removeEntry(e);
    return 0;
  }

  /** Unlinks and frees `e`. */
  protected removeEntry(e: number): void {
    if (this.specialRanges.length) this.freeSpecial(this.valueAddr(e));
    this.removing(e);
    this.unlink(e);
    this.pool.free(e);
    this.setField(MapDescriptor.count, this.count - 1);
  }

  // ---- user space --------------------------------------------------------------

  /** The value user space reads for entry `e` (hash-of-maps translates it). */
  protected userValue(e: number): Uint8Array {
    return this.readValue(e);
  }

  /** The bytes stored for a user value (checked; per-CPU maps expand it). */
  protected storedValue(value: Uint8Array): Uint8Array {
    if (this.percpu) return this.perCpuValue(value);
    this.checkValue(value);
    return value;
  }

  protected lookupElem(key: Uint8Array): Uint8Array | undefined {
    const e = this.find(key, this.hashOf(key));
    return e === 0 ? undefined : this.hideSpecial(this.userValue(e));
  }

  /** The key of the element whose value is at `valueAddr` (a timer callback's key). */
  override keyOfValue(valueAddr: number): Uint8Array | undefined {
    for (let b = 0; b <= this.field(MapDescriptor.mask); b++) {
      for (const e of this.chain(b)) if (this.valueAddr(e) === valueAddr) return this.readKey(e);
    }
    return undefined;
  }

  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    const stored = this.storedValue(value);
    const r = this.exclusive(() => this.put(key.slice(), stored.slice(), flags, -1));
    if (r !== 0) throw this.updateError(r, flags);
  }

  /** The MapError for a failed update. */
  private updateError(r: number, flags: number): MapError {
    switch (-r) {
      case Errno.EEXIST: return new MapError('EEXIST', `key exists in ${this.label} (BPF_NOEXIST)`);
      case Errno.ENOENT: return new MapError('ENOENT', `key not found in ${this.label} (BPF_EXIST)`);
      case Errno.E2BIG: return new MapError('E2BIG', `${this.label} is full (${this.maxEntries} elements)`);
      default: return new MapError('EINVAL', `invalid update flags ${flags} for ${this.label}`);
    }
  }

  protected deleteElem(key: Uint8Array): void {
    if (this.exclusive(() => this.remove(key)) !== 0) throw new MapError('ENOENT', `key not found in ${this.label}`);
  }

  protected override lookupAndDeleteElem(key: Uint8Array): Uint8Array | undefined {
    return this.exclusive(() => {
      const e = this.find(key, this.hashOf(key));
      if (e === 0) return undefined;
      const value = this.userValue(e);
      this.removeEntry(e);
      return value;
    });
  }

  /** Linux's `htab_map_get_next_key`: the next key in the same chain, else the first key of the following buckets. */
  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    let b = 0;
    if (key !== null) {
      const hash = this.hashOf(key);
      const e = this.find(key, hash);
      if (e !== 0) {
        const next = this.dv.getUint32(e + HashEntry.next, true);
        if (next !== 0) return this.readKey(next);
        b = ((hash & (this.nBuckets - 1)) >>> 0) + 1;
      }
    }
    const dv = this.dv;
    for (; b < this.nBuckets; b++) {
      const head = dv.getUint32(this.buckets.start + 4 * b, true);
      if (head !== 0) return this.readKey(head);
    }
    return undefined;
  }

  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (let b = 0; b < this.nBuckets; b++) {
      for (const e of this.chain(b)) out.push({ key: this.readKey(e), value: this.userValue(e) });
    }
    return out;
  }

  protected override batchSupport(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: true, lookupAndDelete: true, update: true, delete: true };
  }

  /**
   * Linux's `__htab_map_lookup_and_delete_batch`: whole buckets at a time;
   * the token is the next bucket index (u32). ENOSPC when the first
   * non-empty bucket has more elements than `count`.
   */
  protected override lookupBatchElems(inBatch: Uint8Array | null, count: number, del: boolean): BatchResult {
    return del ? this.exclusive(() => this.lookupBatchLocked(inBatch, count, del)) : this.lookupBatchLocked(inBatch, count, del);
  }

  private lookupBatchLocked(inBatch: Uint8Array | null, count: number, del: boolean): BatchResult {
    let b = 0;
    if (inBatch !== null) {
      if (inBatch.length !== 4) throw new MapError('EINVAL', `the batch token of ${this.label} is a 4-byte bucket index`);
      b = readU32(inBatch);
    }
    const entries: MapEntry[] = [];
    if (b >= this.nBuckets) return { entries, nextKey: null };
    for (;;) {
      const chain = this.chain(b);
      if (chain.length > count - entries.length) {
        if (entries.length === 0) throw new MapError('ENOSPC', `bucket ${b} of ${this.label} holds ${chain.length} elements, more than the batch count ${count}`);
        return { entries, nextKey: u32Bytes(b) };
      }
      for (const e of chain) entries.push({ key: this.readKey(e), value: this.userValue(e) });
      if (del) for (const e of chain) this.removeEntry(e);
      b++;
      if (b >= this.nBuckets) return { entries, nextKey: null };
    }
  }

  // ---- programs ----------------------------------------------------------------

  override progLookup(keyAddr: number, cpu: number): number {
    const key = this.mem.subarray(keyAddr, keyAddr + this.keySize);
    const e = this.find(key, this.hashOf(key));
    if (e === 0) return 0;
    if (this.percpu) this.checkCpu(cpu);
    this.touch(e);
    return this.valueAddr(e, this.percpu ? cpu : 0);
  }

  override progUpdate(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    if (this.percpu) this.checkCpu(cpu);
    const mem = this.mem;
    // Copies: taking an entry may grow the memory, which detaches views of it.
    const key = mem.slice(keyAddr, keyAddr + this.keySize);
    const value = mem.slice(valueAddr, valueAddr + this.valueSize);
    return this.exclusive(() => this.put(key, value, flags, this.percpu ? cpu : -1));
  }

  override progDelete(keyAddr: number, _cpu: number): number {
    const key = this.mem.slice(keyAddr, keyAddr + this.keySize);
    return this.exclusive(() => this.remove(key));
  }

  override progLookupPercpu(keyAddr: number, targetCpu: number): number {
    if (!this.percpu) return this.refuse('bpf_map_lookup_percpu_elem#195');
    if (targetCpu >= this.cpus) return 0;
    const key = this.mem.subarray(keyAddr, keyAddr + this.keySize);
    const e = this.find(key, this.hashOf(key));
    if (e === 0) return 0;
    this.touch(e);
    return this.valueAddr(e, targetCpu);
  }

  /** Linux's `bpf_for_each_hash_elem`: buckets in order, each chain head first; the callback may delete the element it is given. */
  override progForEach(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number {
    if (this.percpu) this.checkCpu(cpu);
    let n = 0;
    for (let b = 0; b < this.nBuckets; b++) {
      for (const e of this.chain(b)) {
        // Skip elements an earlier callback deleted.
        if (!this.chain(b).includes(e)) continue;
        n++;
        // The key lives in an internal page: the callback reads a read-only copy.
        const stop = this.withKeySlot((slot) => {
          this.mem.copyWithin(slot, e + HashEntry.key, e + HashEntry.key + this.keySize);
          return visit(slot, this.valueAddr(e, this.percpu ? cpu : 0));
        });
        if (stop) return n;
      }
    }
    return n;
  }
}
