/**
 * The part perf event arrays and cgroup arrays share: Linux's fd arrays
 * whose slots hold something user space opened (a perf event, a cgroup),
 * kept here as a u32 per slot at `storage + 4 * index` (0 = empty).
 * Programs never read the slots through the map helpers (the verifier
 * allows only the type's own helpers), and bpf(2) iterates indexes.
 */
import type { Machine } from '../machine.js';
import type { Region } from '../memory.js';
import { arrayNextKey, BpfMap, MapDescriptor, readU32, u32Bytes } from './bpf-map.js';
import { MapError } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

/** An array of u32 slots, 0 meaning empty. */
export abstract class SlotArrayMap extends BpfMap {
  /** u32 per slot (0 = empty). */
  readonly storage: Region;

  /** `regionName` names the slots' region (`.events`, `.cgroups`). */
  constructor(machine: Machine, spec: MapSpec, id: number, regionName: string) {
    super(machine, spec, id);
    this.storage = this.allocate(regionName, 'internal', 4 * this.maxEntries, { readable: false, writable: false });
    this.setField(MapDescriptor.storage, this.storage.start);
  }

  protected slot(index: number): number {
    return this.dv.getUint32(this.storage.start + 4 * index, true);
  }

  protected setSlot(index: number, value: number): void {
    this.dv.setUint32(this.storage.start + 4 * index, value, true);
  }

  protected deleteElem(key: Uint8Array): void {
    const index = readU32(key);
    if (index >= this.maxEntries) throw new MapError('E2BIG', `index ${index} is beyond max_entries ${this.maxEntries} of ${this.label}`);
    if (this.slot(index) === 0) throw new MapError('ENOENT', `slot ${index} of ${this.label} is empty`);
    this.setSlot(index, 0);
  }

  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    return arrayNextKey(key, this.maxEntries);
  }

  /** The filled slots, with what they hold as values. */
  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) {
      const value = this.slot(i);
      if (value !== 0) out.push({ key: u32Bytes(i), value: u32Bytes(value) });
    }
    return out;
  }
}
