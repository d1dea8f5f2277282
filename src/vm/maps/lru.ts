/**
 * `BPF_MAP_TYPE_LRU_HASH` and `BPF_MAP_TYPE_LRU_PERCPU_HASH`: hash maps
 * that make room for a new element by evicting the least recently used one.
 *
 * The recency list is a doubly linked list threaded through the entries'
 * `lru_prev`/`lru_next` header words, most recent first; its head and tail
 * are descriptor words `state1` and `state2`. An element becomes the most
 * recent when it is created or updated, and when a program looks it up
 * (`bpf_map_lookup_elem`, `bpf_map_lookup_percpu_elem`); user-space lookups
 * do not count, as in Linux (`htab_lru_map_lookup_elem_sys`).
 *
 * Linux approximates LRU (active/inactive lists with a reference bit,
 * per-CPU free lists refilled in batches), so under pressure it may evict a
 * different element than this exact LRU does, and may evict before the map
 * is full. tsbpf evicts only when all max_entries elements are in use, and
 * always the least recently used one.
 */
import type { Machine } from '../machine.js';
import { HashEntry, HashMap } from './hash.js';
import { MapDescriptor } from './bpf-map.js';
import type { MapSpec } from './types.js';

/** An LRU hash map, optionally per-CPU. */
export class LruHashMap extends HashMap {
  constructor(machine: Machine, spec: MapSpec, id: number, options: { percpu: boolean; maxEntries?: number }) {
    super(machine, spec, id, options);
  }

  /** The most recently used entry (0 when empty). */
  private get head(): number {
    return this.field(MapDescriptor.state1);
  }

  /** The least recently used entry (0 when empty). */
  private get tail(): number {
    return this.field(MapDescriptor.state2);
  }

  /** Keys from the most to the least recently used (for tests and tools). */
  recency(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const dv = this.dv;
    for (let e = this.head; e !== 0; e = dv.getUint32(e + HashEntry.lruNext, true)) {
      out.push(this.readKey(e));
      this.guard(out.length);
    }
    return out;
  }

  private detach(e: number): void {
    const dv = this.dv;
    const prev = dv.getUint32(e + HashEntry.lruPrev, true);
    const next = dv.getUint32(e + HashEntry.lruNext, true);
    if (prev === 0) this.setField(MapDescriptor.state1, next);
    else dv.setUint32(prev + HashEntry.lruNext, next, true);
    if (next === 0) this.setField(MapDescriptor.state2, prev);
    else dv.setUint32(next + HashEntry.lruPrev, prev, true);
    dv.setUint32(e + HashEntry.lruPrev, 0, true);
    dv.setUint32(e + HashEntry.lruNext, 0, true);
  }

  private pushFront(e: number): void {
    const dv = this.dv;
    const head = this.head;
    dv.setUint32(e + HashEntry.lruPrev, 0, true);
    dv.setUint32(e + HashEntry.lruNext, head, true);
    if (head === 0) this.setField(MapDescriptor.state2, e);
    else dv.setUint32(head + HashEntry.lruPrev, e, true);
    this.setField(MapDescriptor.state1, e);
  }

  // A program's lookup moves the element to the head of the recency list: a change, so it takes the lock.
  override progLookup(keyAddr: number, cpu: number): number {
    return this.exclusive(() => super.progLookup(keyAddr, cpu));
  }

  override progLookupPercpu(keyAddr: number, targetCpu: number): number {
    return this.exclusive(() => super.progLookupPercpu(keyAddr, targetCpu));
  }

  protected override touch(e: number): void {
    if (this.head === e) return;
    this.detach(e);
    this.pushFront(e);
  }

  protected override inserted(e: number): void {
    this.pushFront(e);
  }

  protected override removing(e: number): void {
    this.detach(e);
  }

  /** A free entry, evicting the least recently used element when all are in use. */
  protected override allocEntry(): number {
    const e = this.pool.alloc();
    if (e !== 0) return e;
    const victim = this.tail;
    if (victim === 0) return 0;
    this.removeEntry(victim);
    return this.pool.alloc();
  }
}
