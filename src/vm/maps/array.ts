/**
 * `BPF_MAP_TYPE_ARRAY` and `BPF_MAP_TYPE_PERCPU_ARRAY`: max_entries values
 * preallocated and zeroed, keyed by a u32 index.
 *
 * Layout: one region of values, `stride` = value_size rounded up to 8.
 * - array: value `i` at `storage + i * stride`;
 * - per-CPU array: CPU `c`'s value of element `i` at
 *   `storage + (i * cpus + c) * stride`, so one element's values are
 *   contiguous, exactly the layout bpf(2) hands to user space.
 */
import type { Machine } from '../machine.js';
import type { Region } from '../memory.js';
import { arrayNextKey, ACCESS_MASK, accessFlagsOk, BpfMap, HelperRef, MapDescriptor, PCPU_MIN_UNIT_SIZE, readU32, roundUp8, u32Bytes } from './bpf-map.js';
import { Errno, MapError, MapFlags, MapType, UpdateFlags } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

/** Flags array maps accept (`ARRAY_CREATE_FLAG_MASK`). */
const ARRAY_CREATE_FLAG_MASK = MapFlags.NUMA_NODE | MapFlags.MMAPABLE | ACCESS_MASK | MapFlags.PRESERVE_ELEMS | MapFlags.INNER_MAP;

/** Linux's `array_map_alloc_check` (shared by every array-based map). */
export function checkArraySpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  const percpu = spec.type === MapType.PERCPU_ARRAY;
  if (spec.keySize !== 4) throw new MapError('EINVAL', `array maps need key_size 4, not ${spec.keySize}`);
  if (spec.valueSize === 0) throw new MapError('EINVAL', 'array maps need value_size above 0');
  if (spec.maxEntries === 0) throw new MapError('EINVAL', 'array maps need max_entries above 0');
  if (flags & ~ARRAY_CREATE_FLAG_MASK || !accessFlagsOk(flags) || (percpu && flags & MapFlags.NUMA_NODE)) {
    throw new MapError('EINVAL', `invalid flags 0x${flags.toString(16)} for an array map`);
  }
  if (spec.type !== MapType.ARRAY && flags & (MapFlags.MMAPABLE | MapFlags.INNER_MAP)) {
    throw new MapError('EINVAL', 'BPF_F_MMAPABLE and BPF_F_INNER_MAP are only for BPF_MAP_TYPE_ARRAY');
  }
  if (spec.type !== MapType.PERF_EVENT_ARRAY && flags & MapFlags.PRESERVE_ELEMS) {
    throw new MapError('EINVAL', 'BPF_F_PRESERVE_ELEMS is only for BPF_MAP_TYPE_PERF_EVENT_ARRAY');
  }
  if (spec.valueSize > 0x7fffffff) throw new MapError('E2BIG', 'value_size above INT_MAX');
  if (percpu && roundUp8(spec.valueSize) > PCPU_MIN_UNIT_SIZE) throw new MapError('E2BIG', `per-CPU values are limited to ${PCPU_MIN_UNIT_SIZE} bytes`);
}

/** An array or per-CPU array map. */
export class ArrayMap extends BpfMap {
  /** The values. */
  readonly storage: Region;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id, { percpu: spec.type === MapType.PERCPU_ARRAY });
    this.storage = this.allocate('.values', 'map', this.maxEntries * this.cpus * this.stride, { ...this.valueAccess, align: 8 });
    this.setField(MapDescriptor.storage, this.storage.start);
  }

  /** Address of CPU `cpu`'s value of element `index`. */
  valueAddress(index: number, cpu = 0): number {
    return this.storage.start + (index * this.cpus + cpu) * this.stride;
  }

  protected lookupElem(key: Uint8Array): Uint8Array | undefined {
    const index = readU32(key);
    if (index >= this.maxEntries) return undefined;
    const at = this.valueAddress(index);
    return this.hideSpecial(this.mem.slice(at, at + this.userValueSize));
  }

  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    const stored = this.percpu ? this.perCpuValue(value) : (this.checkValue(value), value);
    if (BpfMap.badUpdateFlags(flags & ~UpdateFlags.F_LOCK)) throw new MapError('EINVAL', `invalid update flags ${flags} for ${this.label}`);
    const index = readU32(key);
    if (index >= this.maxEntries) throw new MapError('E2BIG', `index ${index} is beyond max_entries ${this.maxEntries} of ${this.label}`);
    if (flags & UpdateFlags.NOEXIST) throw new MapError('EEXIST', `every element of ${this.label} exists (BPF_NOEXIST)`);
    if (this.specialRanges.length) {
      // copy_map_value leaves the lock and the timer alone; bpf_obj_free_fields then frees the old timer.
      this.copyValueIn(this.valueAddress(index), stored);
      this.freeSpecial(this.valueAddress(index));
      return;
    }
    this.mem.set(stored.subarray(0, this.userValueSize), this.valueAddress(index));
  }

  protected deleteElem(_key: Uint8Array): void {
    throw new MapError('EINVAL', `elements of ${this.label} cannot be deleted`);
  }

  /** Linux's `array_map_get_next_key`: index order; a missing or out-of-range key restarts at 0. */
  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    return arrayNextKey(key, this.maxEntries);
  }

  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) {
      const at = this.valueAddress(i);
      out.push({ key: u32Bytes(i), value: this.mem.slice(at, at + this.userValueSize) });
    }
    return out;
  }

  protected override usedEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    const mem = this.mem;
    for (let i = 0; i < this.maxEntries; i++) {
      const at = this.valueAddress(i);
      for (let b = at, end = at + this.userValueSize; b < end; b++) {
        if (mem[b] !== 0) {
          // (user space reads kernel objects in the value as zeros: a slot holding only those is no entry)
          const value = this.hideSpecial(mem.slice(at, end));
          if (value.some((x) => x !== 0)) out.push({ key: u32Bytes(i), value });
          break;
        }
      }
    }
    return out;
  }

  protected override batchSupport(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: true, lookupAndDelete: false, update: true, delete: false };
  }

  // ---- programs ----------------------------------------------------------------

  override progLookup(keyAddr: number, cpu: number): number {
    const index = this.dv.getUint32(keyAddr, true);
    if (index >= this.maxEntries) return 0;
    if (this.percpu) this.checkCpu(cpu);
    return this.valueAddress(index, this.percpu ? cpu : 0);
  }

  /** Linux's `array_map_update_elem`, including where it checks BPF_F_LOCK (after the index and BPF_NOEXIST). */
  override progUpdate(keyAddr: number, valueAddr: number, flags: number, cpu: number): number {
    if (BpfMap.badUpdateFlags(flags & ~UpdateFlags.F_LOCK)) return -Errno.EINVAL;
    const index = this.dv.getUint32(keyAddr, true);
    if (index >= this.maxEntries) return -Errno.E2BIG;
    if (flags & UpdateFlags.NOEXIST) return -Errno.EEXIST;
    if (flags & UpdateFlags.F_LOCK && !this.hasSpinLock) return -Errno.EINVAL;
    if (this.percpu) this.checkCpu(cpu);
    const to = this.valueAddress(index, this.percpu ? cpu : 0);
    if (this.specialRanges.length) {
      this.copyValueIn(to, this.mem.slice(valueAddr, valueAddr + this.valueSize));
      this.freeSpecial(to);
      return 0;
    }
    this.mem.copyWithin(to, valueAddr, valueAddr + this.valueSize);
    return 0;
  }

  /** The index of the element whose value is at `valueAddr`. */
  override keyOfValue(valueAddr: number): Uint8Array | undefined {
    const off = valueAddr - this.storage.start;
    if (off < 0 || off % (this.cpus * this.stride) !== 0 || off / (this.cpus * this.stride) >= this.maxEntries) return undefined;
    return u32Bytes(off / (this.cpus * this.stride));
  }

  override progDelete(_keyAddr: number, _cpu: number): number {
    return -Errno.EINVAL;
  }

  override progLookupPercpu(keyAddr: number, targetCpu: number): number {
    if (!this.percpu) return this.refuse(HelperRef.lookupPercpu);
    if (targetCpu >= this.cpus) return 0;
    const index = this.dv.getUint32(keyAddr, true);
    if (index >= this.maxEntries) return 0;
    return this.valueAddress(index, targetCpu);
  }

  /** Linux's `bpf_for_each_array_elem`: every index in order; the key is a u32 the callback may read. */
  override progForEach(cpu: number, visit: (keyAddr: number, valueAddr: number) => boolean): number {
    if (this.percpu) this.checkCpu(cpu);
    return this.withKeySlot((keyAddr) => {
      let n = 0;
      for (let i = 0; i < this.maxEntries; i++) {
        n++;
        this.dv.setUint32(keyAddr, i, true);
        if (visit(keyAddr, this.valueAddress(i, this.percpu ? cpu : 0))) break;
      }
      return n;
    });
  }
}
