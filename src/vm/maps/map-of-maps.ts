/**
 * `BPF_MAP_TYPE_ARRAY_OF_MAPS` and `BPF_MAP_TYPE_HASH_OF_MAPS`
 * (kernel/bpf/map_in_map.c): maps whose values are other maps.
 *
 * User space stores and reads inner map ids (4-byte values; in Linux, map
 * fds in and map ids out). Programs get the inner map's pointer (its
 * descriptor address) from `bpf_map_lookup_elem`, or 0, and use it like any
 * map pointer; they cannot update or delete (the Linux verifier allows only
 * lookups).
 *
 * Every inner map must match the template (`spec.innerMap`) as Linux's
 * `bpf_map_meta_equal` checks: same type, key_size, value_size and flags,
 * and for array maps the same max_entries unless the template has
 * BPF_F_INNER_MAP. A mismatch is EINVAL.
 *
 * Layout: the array variant stores u32 inner map addresses at
 * `storage + 4 * index` (0 = empty); the hash variant is a hash map
 * (hash.ts) whose 4-byte values are those addresses.
 */
import type { Machine } from '../machine.js';
import type { Region } from '../memory.js';
import { MapDirectory } from './directory.js';
import { HashMap } from './hash.js';
import { arrayNextKey, BpfMap, HelperRef, MapDescriptor, mapTypeName, readU32, u32Bytes } from './bpf-map.js';
import { MapError, MapFlags, MapType } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

/** Whether `inner` may be stored in a map-in-map created with template `template` (Linux's `map_meta_equal`). */
export function innerMapMatches(template: MapSpec, inner: BpfMap): boolean {
  const tflags = template.flags ?? 0;
  if (template.type !== inner.type || template.keySize !== inner.keySize || template.valueSize !== inner.valueSize || tflags !== inner.flags) return false;
  const array = template.type === MapType.ARRAY || template.type === MapType.PERCPU_ARRAY;
  return !array || (tflags & MapFlags.INNER_MAP) !== 0 || template.maxEntries === inner.maxEntries;
}

/** Linux's `bpf_map_meta_alloc` checks on the template; `check` validates it as a map of its own. */
export function checkInnerTemplate(spec: MapSpec, check: (inner: MapSpec) => void): void {
  const inner = spec.innerMap;
  if (inner === undefined) throw new MapError('EINVAL', `${mapTypeName(spec.type)} map '${spec.name}' needs an inner map template`);
  check(inner);
  if (inner.type === MapType.ARRAY_OF_MAPS || inner.type === MapType.HASH_OF_MAPS) {
    throw new MapError('EINVAL', 'maps of maps of maps are not supported: the inner map cannot be a map-in-map');
  }
  if (inner.type === MapType.PROG_ARRAY) throw new MapError('ENOTSUPP', 'a prog_array cannot be an inner map');
}

/** Resolves a user value (an inner map id) of a map-in-map to the map pointer to store. */
function resolveInner(outer: BpfMap, template: MapSpec, value: Uint8Array): number {
  if (value.length !== 4) throw new MapError('EINVAL', `values of map '${outer.name}' are 4-byte inner map ids`);
  const id = readU32(value);
  const inner = MapDirectory.of(outer.machine.space).byId(id);
  if (inner === undefined) throw new MapError('EBADF', `${id} is not the id of a map`);
  if (!innerMapMatches(template, inner)) {
    throw new MapError('EINVAL', `map ${id} ('${inner.name}', ${inner.typeName} key ${inner.keySize} value ${inner.valueSize} max_entries ${inner.maxEntries} flags 0x${inner.flags.toString(16)}) does not match the inner map template of '${outer.name}' (${mapTypeName(template.type)} key ${template.keySize} value ${template.valueSize} max_entries ${template.maxEntries} flags 0x${(template.flags ?? 0).toString(16)})`);
  }
  return inner.address;
}

/** The id (4 bytes) of the map whose pointer is `addr`. */
function idBytes(outer: BpfMap, addr: number): Uint8Array {
  return u32Bytes(MapDirectory.of(outer.machine.space).byAddress(addr)?.id ?? 0);
}

/** An array of maps. */
export class ArrayOfMapsMap extends BpfMap {
  /** u32 inner map pointers by index. */
  readonly storage: Region;
  readonly template: MapSpec;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.template = spec.innerMap!;
    this.storage = this.allocate('.maps', 'internal', 4 * this.maxEntries, { readable: false, writable: false });
    this.setField(MapDescriptor.storage, this.storage.start);
  }

  /** The inner map at `index`, if any. */
  mapAt(index: number): BpfMap | undefined {
    if (index >= this.maxEntries) return undefined;
    return MapDirectory.of(this.machine.space).byAddress(this.slot(index));
  }

  private slot(index: number): number {
    return this.dv.getUint32(this.storage.start + 4 * index, true);
  }

  private index(key: Uint8Array): number {
    const index = readU32(key);
    if (index >= this.maxEntries) throw new MapError('E2BIG', `index ${index} is beyond max_entries ${this.maxEntries} of ${this.label}`);
    return index;
  }

  protected lookupElem(key: Uint8Array): Uint8Array | undefined {
    const index = readU32(key);
    if (index >= this.maxEntries || this.slot(index) === 0) return undefined;
    return idBytes(this, this.slot(index));
  }

  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    if (flags !== 0) throw new MapError('EINVAL', `${this.label} takes BPF_ANY only`);
    const index = this.index(key);
    const addr = resolveInner(this, this.template, value);
    this.dv.setUint32(this.storage.start + 4 * index, addr, true);
  }

  protected deleteElem(key: Uint8Array): void {
    const index = this.index(key);
    if (this.slot(index) === 0) throw new MapError('ENOENT', `slot ${index} of ${this.label} is empty`);
    this.dv.setUint32(this.storage.start + 4 * index, 0, true);
  }

  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    return arrayNextKey(key, this.maxEntries);
  }

  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) {
      const addr = this.slot(i);
      if (addr !== 0) out.push({ key: u32Bytes(i), value: idBytes(this, addr) });
    }
    return out;
  }

  /** The inner map's pointer, or 0. */
  override progLookup(keyAddr: number, _cpu: number): number {
    const index = this.dv.getUint32(keyAddr, true);
    return index >= this.maxEntries ? 0 : this.slot(index);
  }
}

/** A hash of maps. */
export class HashOfMapsMap extends HashMap {
  readonly template: MapSpec;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id, { percpu: false });
    this.template = spec.innerMap!;
  }

  /** The values are inner-map pointers the lookup hands out as map pointers: internal, like an array of maps' slots. */
  protected override get valueAccess(): { readable: boolean; writable: boolean } {
    return { readable: false, writable: false };
  }

  /** The inner map stored under `key`, if any. */
  mapFor(key: Uint8Array): BpfMap | undefined {
    const e = this.find(key, this.hashOf(key));
    return e === 0 ? undefined : MapDirectory.of(this.machine.space).byAddress(this.dv.getUint32(this.valueAddr(e), true));
  }

  protected override userValue(e: number): Uint8Array {
    return idBytes(this, this.dv.getUint32(this.valueAddr(e), true));
  }

  protected override storedValue(value: Uint8Array): Uint8Array {
    return u32Bytes(resolveInner(this, this.template, value));
  }

  /** The inner map's pointer, or 0. */
  override progLookup(keyAddr: number, cpu: number): number {
    const at = super.progLookup(keyAddr, cpu);
    return at === 0 ? 0 : this.dv.getUint32(at, true);
  }

  override progUpdate(_keyAddr: number, _valueAddr: number, _flags: number, _cpu: number): number {
    return this.refuse(HelperRef.update);
  }

  override progDelete(_keyAddr: number, _cpu: number): number {
    return this.refuse(HelperRef.delete);
  }

  override progForEach(_cpu: number, _visit: (keyAddr: number, valueAddr: number) => boolean): number {
    return this.refuse(HelperRef.forEach);
  }
}
