/**
 * `BPF_MAP_TYPE_QUEUE` (FIFO) and `BPF_MAP_TYPE_STACK` (LIFO): keyless maps
 * of max_entries values (kernel/bpf/queue_stack_maps.c).
 *
 * Layout: a circular buffer of max_entries + 1 slots of `stride` bytes
 * (value_size rounded up to 8) at `storage`; descriptor words `state0` =
 * head (next slot to write), `state1` = tail (oldest element), `state2` =
 * number of slots. Empty when head == tail, full when head + 1 == tail
 * (modulo the slot count), exactly as Linux.
 *
 * User space: `update(null, v, flags)` pushes (BPF_EXIST on a full map
 * replaces the oldest element), `lookup(null)` peeks, `lookupAndDelete(null)`
 * pops. Programs use `bpf_map_push_elem`, `bpf_map_pop_elem` and
 * `bpf_map_peek_elem`.
 */
import type { Machine } from '../machine.js';
import type { Region } from '../memory.js';
import { ACCESS_MASK, accessFlagsOk, BpfMap, KMALLOC_MAX_SIZE, MapDescriptor } from './bpf-map.js';
import { Errno, MapError, MapFlags, MapType, UpdateFlags } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

const QUEUE_STACK_CREATE_FLAG_MASK = MapFlags.NUMA_NODE | ACCESS_MASK;

/** Linux's `queue_stack_map_alloc_check`. */
export function checkQueueSpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  if (spec.maxEntries === 0 || spec.keySize !== 0 || spec.valueSize === 0 || flags & ~QUEUE_STACK_CREATE_FLAG_MASK || !accessFlagsOk(flags)) {
    throw new MapError('EINVAL', `queue and stack maps need key_size 0 (not ${spec.keySize}), value_size and max_entries above 0, and no flags but NUMA/access ones`);
  }
  if (spec.valueSize > KMALLOC_MAX_SIZE) throw new MapError('E2BIG', 'value_size is too large');
}

/** A queue or a stack. */
export class QueueStackMap extends BpfMap {
  readonly storage: Region;
  /** Number of slots: max_entries + 1. */
  readonly size: number;
  /** true for BPF_MAP_TYPE_STACK. */
  readonly lifo: boolean;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.lifo = spec.type === MapType.STACK;
    this.size = this.maxEntries + 1;
    this.storage = this.allocate('.elems', 'internal', this.size * this.stride, { readable: false, writable: false });
    this.setField(MapDescriptor.storage, this.storage.start);
    this.setField(MapDescriptor.state2, this.size);
  }

  private get head(): number {
    return this.field(MapDescriptor.state0);
  }

  private set head(v: number) {
    this.setField(MapDescriptor.state0, v);
  }

  private get tail(): number {
    return this.field(MapDescriptor.state1);
  }

  private set tail(v: number) {
    this.setField(MapDescriptor.state1, v);
  }

  /** Number of elements. */
  get count(): number {
    return (this.head - this.tail + this.size) % this.size;
  }

  private isFull(): boolean {
    const h = this.head + 1 >= this.size ? 0 : this.head + 1;
    return h === this.tail;
  }

  private slot(i: number): number {
    return this.storage.start + i * this.stride;
  }

  /** `queue_stack_map_push_elem`: 0 or -errno (under the map's lock when workers share it, as Linux takes its spinlock). */
  private push(value: Uint8Array, flags: number): number {
    return this.exclusive(() => this.pushLocked(value, flags));
  }

  private pushLocked(value: Uint8Array, flags: number): number {
    if (flags & UpdateFlags.NOEXIST || BpfMap.badUpdateFlags(flags)) return -Errno.EINVAL;
    if (this.isFull()) {
      if (flags !== UpdateFlags.EXIST) return -Errno.E2BIG;
      // Overwrite the oldest element.
      this.tail = this.tail + 1 >= this.size ? 0 : this.tail + 1;
    }
    this.mem.set(value.subarray(0, this.valueSize), this.slot(this.head));
    this.head = this.head + 1 >= this.size ? 0 : this.head + 1;
    return 0;
  }

  /** The slot `get` reads (the oldest for a queue, the newest for a stack), or -1 when empty. */
  private next(): number {
    if (this.head === this.tail) return -1;
    if (!this.lifo) return this.tail;
    return this.head === 0 ? this.size - 1 : this.head - 1;
  }

  /** `__queue_map_get` / `__stack_map_get`: the value, removing it when `del`; undefined when empty. */
  private get(del: boolean): Uint8Array | undefined {
    return this.exclusive(() => this.getLocked(del));
  }

  private getLocked(del: boolean): Uint8Array | undefined {
    const i = this.next();
    if (i < 0) return undefined;
    const value = this.mem.slice(this.slot(i), this.slot(i) + this.valueSize);
    if (del) {
      if (this.lifo) this.head = i;
      else this.tail = i + 1 >= this.size ? 0 : i + 1;
    }
    return value;
  }

  // ---- user space --------------------------------------------------------------

  protected lookupElem(_key: Uint8Array): Uint8Array | undefined {
    return this.get(false);
  }

  protected updateElem(_key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    const r = this.push(value, flags);
    if (r === -Errno.E2BIG) throw new MapError('E2BIG', `${this.label} is full (${this.maxEntries} elements); BPF_EXIST replaces the oldest`);
    if (r !== 0) throw new MapError('EINVAL', `invalid push flags ${flags} for ${this.label}`);
  }

  protected deleteElem(_key: Uint8Array): void {
    throw new MapError('EINVAL', `${this.label} has no delete: pop with lookupAndDelete`);
  }

  protected nextKeyOf(_key: Uint8Array | null): Uint8Array | undefined {
    throw new MapError('EINVAL', `${this.label} has no keys to iterate`);
  }

  protected override lookupAndDeleteElem(_key: Uint8Array): Uint8Array | undefined {
    return this.get(true);
  }

  /** The elements in the order pops return them, without removing them. */
  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    const n = this.count;
    for (let k = 0; k < n; k++) {
      const i = this.lifo ? (this.head - 1 - k + 2 * this.size) % this.size : (this.tail + k) % this.size;
      out.push({ key: new Uint8Array(0), value: this.mem.slice(this.slot(i), this.slot(i) + this.valueSize) });
    }
    return out;
  }

  // ---- programs ----------------------------------------------------------------

  override progPush(valueAddr: number, flags: number, _cpu: number): number {
    return this.push(this.mem.slice(valueAddr, valueAddr + this.valueSize), flags);
  }

  /** Pops into `valueAddr`; an empty map zeroes it and returns -ENOENT, as Linux. */
  override progPop(valueAddr: number, _cpu: number): number {
    return this.copyOut(valueAddr, this.get(true));
  }

  override progPeek(valueAddr: number, _cpu: number): number {
    return this.copyOut(valueAddr, this.get(false));
  }

  private copyOut(valueAddr: number, value: Uint8Array | undefined): number {
    const mem = this.mem;
    if (value === undefined) {
      mem.fill(0, valueAddr, valueAddr + this.valueSize);
      return -Errno.ENOENT;
    }
    mem.set(value, valueAddr);
    return 0;
  }
}
