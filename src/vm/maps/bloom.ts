/**
 * `BPF_MAP_TYPE_BLOOM_FILTER` (kernel/bpf/bloom_filter.c): a keyless set of
 * values with no false negatives. `map_extra` bits 0-3 give the number of
 * hash functions k (0 means 5). The bit array has
 * `max_entries * k * 7 / 5` bits rounded up to a power of two (at least
 * 64), as Linux sizes it; bit `h` of value v for function i is
 * `jhash2/jhash(v, seed + i) & mask`, stored little-endian (bit h in byte
 * h / 8). With the same seed (BPF_F_ZERO_SEED) the bits are the kernel's.
 *
 * Layout: the bit array at `storage`; descriptor `mask` = bits - 1, `seed`,
 * `state0` = k.
 *
 * User space adds with `update(null, value)` and tests with
 * {@link BloomFilterMap.contains}; programs use `bpf_map_push_elem` and
 * `bpf_map_peek_elem` (0 = maybe present, -ENOENT = absent).
 */
import type { Machine } from '../machine.js';
import type { Region } from '../memory.js';
import { jhash, jhash2, randomSeed } from './hash-function.js';
import { ACCESS_MASK, accessFlagsOk, BpfMap, KMALLOC_MAX_SIZE, MapDescriptor } from './bpf-map.js';
import { Errno, MapError, MapFlags } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

const BLOOM_CREATE_FLAG_MASK = MapFlags.NUMA_NODE | MapFlags.ZERO_SEED | ACCESS_MASK;

/** Linux's checks in `bloom_map_alloc`. */
export function checkBloomSpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  const extra = spec.mapExtra ?? 0n;
  if (spec.keySize !== 0 || spec.valueSize === 0 || spec.maxEntries === 0 || flags & ~BLOOM_CREATE_FLAG_MASK || !accessFlagsOk(flags) || (extra & ~0xfn) !== 0n) {
    throw new MapError('EINVAL', 'bloom filters need key_size 0, value_size and max_entries above 0, and map_extra (number of hash functions) in 0..15');
  }
  if (spec.valueSize > KMALLOC_MAX_SIZE) throw new MapError('E2BIG', 'value_size is too large');
}

/** Sizes of Linux's bit array: `{ bytes, mask }`. */
export function bloomBitset(maxEntries: number, hashFuncs: number): { bytes: number; mask: number } {
  const U32 = 2 ** 32;
  let bits = maxEntries * hashFuncs;
  let overflow = bits >= U32;
  if (!overflow) {
    bits = Math.floor(bits / 5) * 7;
    overflow = bits >= U32 || bits > 2 ** 31;
  }
  let bytes: number;
  let mask: number;
  if (overflow) {
    bytes = 2 ** 29; // BITS_TO_BYTES(U32_MAX)
    mask = 0xffffffff;
  } else {
    if (bits <= 64) bits = 64;
    else bits = 2 ** Math.ceil(Math.log2(bits));
    bytes = bits / 8;
    mask = bits - 1;
  }
  return { bytes: Math.ceil(bytes / 8) * 8, mask };
}

/** A bloom filter. */
export class BloomFilterMap extends BpfMap {
  readonly bitset: Region;
  readonly hashFuncs: number;
  readonly mask: number;
  readonly seed: number;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.hashFuncs = Number((spec.mapExtra ?? 0n) & 0xfn) || 5;
    const { bytes, mask } = bloomBitset(this.maxEntries, this.hashFuncs);
    this.mask = mask;
    // A thread attaching to another's memory takes the seed the original drew (its descriptor holds it), or its bits would be elsewhere.
    this.seed = spec.hashSeed !== undefined ? spec.hashSeed >>> 0 : (this.flags & MapFlags.ZERO_SEED) ? 0
      : machine.space.replaying ? this.field(MapDescriptor.seed) : randomSeed();
    this.bitset = this.allocate('.bits', 'internal', bytes, { readable: false, writable: false });
    this.setField(MapDescriptor.storage, this.bitset.start);
    this.setField(MapDescriptor.mask, mask);
    this.setField(MapDescriptor.seed, this.seed);
    this.setField(MapDescriptor.state0, this.hashFuncs);
  }

  /** Bit of `value` (value_size bytes at `off`) for hash function `i`. */
  private bit(value: Uint8Array, off: number, i: number): number {
    const seed = (this.seed + i) >>> 0;
    const h = this.valueSize % 4 === 0 ? jhash2(value, off, this.valueSize / 4, seed) : jhash(value, off, this.valueSize, seed);
    return (h & this.mask) >>> 0;
  }

  private add(value: Uint8Array, off: number): void {
    const mem = this.mem;
    // Workers sharing the memory set bits of the same bytes: an atomic OR loses none (bits are only ever set).
    const atomic = this.machine.space.concurrent;
    for (let i = 0; i < this.hashFuncs; i++) {
      const h = this.bit(value, off, i);
      const at = this.bitset.start + Math.floor(h / 8);
      if (atomic) Atomics.or(mem, at, 1 << (h & 7));
      else mem[at] = mem[at]! | (1 << (h & 7));
    }
  }

  private test(value: Uint8Array, off: number): boolean {
    const mem = this.mem;
    for (let i = 0; i < this.hashFuncs; i++) {
      const h = this.bit(value, off, i);
      if (!(mem[this.bitset.start + Math.floor(h / 8)]! & (1 << (h & 7)))) return false;
    }
    return true;
  }

  /** Whether `value` may be in the set (`bpf_map_peek_elem`; bpf(2) lookup with the value): false means certainly absent. */
  contains(value: Uint8Array): boolean {
    this.checkRead();
    this.checkValue(value);
    return this.test(value, 0);
  }

  // ---- user space --------------------------------------------------------------

  protected lookupElem(_key: Uint8Array): Uint8Array | undefined {
    throw new MapError('EINVAL', `${this.label} is looked up by value: use contains(value)`);
  }

  /** Adds `value`; flags must be BPF_ANY. */
  protected updateElem(_key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    if (flags !== 0) throw new MapError('EINVAL', `${this.label} takes BPF_ANY only`);
    this.add(value, 0);
  }

  protected deleteElem(_key: Uint8Array): void {
    throw new MapError('EOPNOTSUPP', `values cannot be removed from ${this.label}`);
  }

  protected nextKeyOf(_key: Uint8Array | null): Uint8Array | undefined {
    throw new MapError('EOPNOTSUPP', `${this.label} cannot be iterated`);
  }

  protected allEntries(): MapEntry[] {
    throw new MapError('EOPNOTSUPP', `${this.label} cannot be iterated`);
  }

  // ---- programs ----------------------------------------------------------------

  override progPush(valueAddr: number, flags: number, _cpu: number): number {
    if (flags !== 0) return -Errno.EINVAL;
    this.add(this.mem, valueAddr);
    return 0;
  }

  override progPeek(valueAddr: number, _cpu: number): number {
    return this.test(this.mem, valueAddr) ? 0 : -Errno.ENOENT;
  }
}
