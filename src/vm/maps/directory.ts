/**
 * Every map of an address space, by id and by descriptor address. Helpers
 * only see the address space (through `HelperCall`), so they find the map
 * behind a map pointer here; map-in-map values (inner map ids) are resolved
 * here too. Ids are unique within an address space, even when several
 * machines share it.
 */
import type { AddressSpace } from '../memory.js';
import type { BpfMap } from './bpf-map.js';

/** The maps of one address space. */
export class MapDirectory {
  private static readonly bySpace = new WeakMap<AddressSpace, MapDirectory>();
  private nextId = 1;
  private readonly ids = new Map<number, BpfMap>();
  private readonly addresses = new Map<number, BpfMap>();
  private readonly regions = new Map<number, BpfMap>();

  /** The directory of `space` (created on first use). */
  static of(space: AddressSpace): MapDirectory {
    let d = MapDirectory.bySpace.get(space);
    if (d === undefined) {
      d = new MapDirectory();
      MapDirectory.bySpace.set(space, d);
    }
    return d;
  }

  /** A fresh map id (ids start at 1, as file descriptors would). */
  reserveId(): number {
    return this.nextId++;
  }

  /** Records a created map. */
  add(map: BpfMap): void {
    this.ids.set(map.id, map);
    this.addresses.set(map.address, map);
  }

  /** Records that the region starting at `start` belongs to `map` (ring buffer data: submit finds the ring by record address). */
  addRegion(start: number, map: BpfMap): void {
    this.regions.set(start, map);
  }

  /** The map owning the region that starts at `start`. */
  byRegion(start: number): BpfMap | undefined {
    return this.regions.get(start);
  }

  /** The map with id `id`. */
  byId(id: number): BpfMap | undefined {
    return this.ids.get(id);
  }

  /** The map whose descriptor starts at `addr` (a map pointer). */
  byAddress(addr: number): BpfMap | undefined {
    return this.addresses.get(addr);
  }
}

/** The map behind the map pointer `addr` in `space`, if it is one. */
export function mapAt(space: AddressSpace, addr: number): BpfMap | undefined {
  return MapDirectory.of(space).byAddress(addr);
}
