/**
 * What the compiler may read from a machine at compile time: the fields of
 * a map descriptor (docs/maps.md), fixed when the map is created.
 */
import type { AddressSpace } from '../vm/memory.js';
import { MapDirectory } from '../vm/maps/directory.js';
import { MapDescriptor } from '../vm/maps/bpf-map.js';
import type { MapFacts } from './compile.js';

/** Facts of the map whose descriptor is at `addr`, or undefined when no map is there. */
export function mapFacts(space: AddressSpace, addr: number): MapFacts | undefined {
  if (MapDirectory.of(space).byAddress(addr) === undefined) return undefined;
  const d = space.data;
  const u32 = (field: number) => d.getUint32(addr + field, true);
  return {
    type: u32(MapDescriptor.type),
    keySize: u32(MapDescriptor.keySize),
    maxEntries: u32(MapDescriptor.maxEntries),
    storage: u32(MapDescriptor.storage),
    stride: u32(MapDescriptor.stride),
    cpus: u32(MapDescriptor.cpus),
    mask: u32(MapDescriptor.mask),
    seed: u32(MapDescriptor.seed),
  };
}
