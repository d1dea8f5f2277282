/**
 * Maps tsbpf does not back, and the placeholder that stands for them.
 *
 * An object may define maps of types tsbpf has no implementation of
 * (sockmap, cgroup storage, struct_ops, ...) or maps larger than the
 * address space can hold. Linux would create them, so the object loads: such
 * a map becomes a {@link PlaceholderMap} with a descriptor (so programs that
 * reference it still verify and can be listed, disassembled and compiled)
 * and every operation on it, from user space or from a program, fails with
 * an error that names the map, its type and why tsbpf cannot back it.
 *
 * Before saying "not supported", {@link checkUnbackedSpec} applies Linux's
 * creation checks of those types (probed against the kernel, see
 * testing/specs.ts): a definition Linux would refuse is refused with Linux's
 * errno, like any other.
 */
import { VmError } from '../../errors.js';
import type { Machine } from '../machine.js';
import { checkArraySpec } from './array.js';
import { checkRingbufSpec } from './ringbuf.js';
import { ACCESS_MASK, accessFlagsOk, BpfMap, MapDescriptor, mapTypeName, PCPU_MIN_UNIT_SIZE } from './bpf-map.js';
import { MapError, MapFlags, MapType } from './types.js';
import type { MapEntry, MapSpec } from './types.js';
import { Limits } from '../../isa/uapi.js';

/** A map type (or size) tsbpf cannot back, though Linux would create the map: bpf(2) has no such errno; tsbpf uses EOPNOTSUPP. */
export class UnsupportedMapError extends MapError {
  constructor(reason: string) {
    super('EOPNOTSUPP', reason);
  }
}

/** Linux's `MAX_BPF_STACK`: the largest sockhash key. */
const MAX_BPF_STACK = Limits.STACK;
const FLAGS_NUMA_ACCESS = MapFlags.NUMA_NODE | MapFlags.RDONLY | MapFlags.WRONLY;

function einval(reason: string): never {
  throw new MapError('EINVAL', reason);
}

/**
 * Linux's creation checks (`map_alloc_check`/`map_alloc`) for the map types
 * tsbpf does not implement; returns normally when Linux would create the
 * map. Limits that depend on the running kernel's configuration take the
 * values of the kernel tsbpf models.
 */
export function checkUnbackedSpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  const { keySize, valueSize, maxEntries } = spec;
  switch (spec.type) {
    case MapType.SOCKMAP:
    case MapType.SOCKHASH: {
      const hash = spec.type === MapType.SOCKHASH;
      if (maxEntries === 0 || (hash ? keySize === 0 : keySize !== 4) || (valueSize !== 4 && valueSize !== 8) || flags & ~FLAGS_NUMA_ACCESS) {
        einval(`${hash ? 'sockhashes need key_size above 0' : 'sockmaps need key_size 4'}, value_size 4 or 8, max_entries above 0 and no flags but NUMA/read-only/write-only`);
      }
      if (hash && keySize > MAX_BPF_STACK) throw new MapError('E2BIG', `a sockhash key is at most ${MAX_BPF_STACK} bytes`);
      return;
    }
    case MapType.REUSEPORT_SOCKARRAY:
      if (valueSize !== 4 && valueSize !== 8) einval('value_size of a reuseport socket array must be 4 or 8');
      return checkArraySpec(spec);
    case MapType.CGROUP_STORAGE:
    case MapType.PERCPU_CGROUP_STORAGE:
      if (keySize !== 8 && keySize !== 16) einval('cgroup storage keys are a cgroup id (8 bytes) or struct bpf_cgroup_storage_key (16)');
      if (valueSize === 0) einval('cgroup storage needs value_size above 0');
      if (spec.type === MapType.PERCPU_CGROUP_STORAGE && valueSize > PCPU_MIN_UNIT_SIZE) throw new MapError('E2BIG', `per-CPU values are limited to ${PCPU_MIN_UNIT_SIZE} bytes`);
      if (flags & ~(MapFlags.NUMA_NODE | ACCESS_MASK) || !accessFlagsOk(flags)) einval(`invalid flags 0x${flags.toString(16)} for cgroup storage`);
      if (maxEntries !== 0) einval('cgroup storage has max_entries 0 (one value per cgroup)');
      return;
    case MapType.SK_STORAGE:
    case MapType.INODE_STORAGE:
    case MapType.TASK_STORAGE:
    case MapType.CGRP_STORAGE:
      if (flags & ~(MapFlags.NO_PREALLOC | MapFlags.CLONE) || !(flags & MapFlags.NO_PREALLOC) || maxEntries !== 0 || keySize !== 4 || valueSize === 0
        || !spec.btfKeyTypeId || !spec.btfValueTypeId) {
        einval('local storage maps need BPF_F_NO_PREALLOC, max_entries 0, key_size 4, value_size above 0 and BTF key and value types');
      }
      return;
    case MapType.STRUCT_OPS:
      if (keySize !== 4 || maxEntries !== 1) einval('struct_ops maps need key_size 4 and max_entries 1 (and the kernel struct\'s BTF, which libbpf gives from .struct_ops)');
      return;
    case MapType.USER_RINGBUF:
      return checkRingbufSpec(spec);
    case MapType.ARENA:
      if (keySize !== 0 || valueSize !== 0 || maxEntries === 0 || !(flags & MapFlags.MMAPABLE)) {
        einval('arenas need key_size 0, value_size 0, max_entries (pages) above 0 and BPF_F_MMAPABLE');
      }
      return;
    default:
      return;
  }
}

/** What a placeholder stands for: a map Linux would create that tsbpf cannot back, or one Linux refuses. */
export type PlaceholderKind = 'unsupported' | 'invalid';

/**
 * A map that exists only as a descriptor: every operation fails with
 * {@link PlaceholderMap.reason}. The descriptor's type field is 0, so no
 * engine inlines an access to it.
 */
export class PlaceholderMap extends BpfMap {
  constructor(machine: Machine, spec: MapSpec, id: number, readonly reason: string, readonly kind: PlaceholderKind) {
    super(machine, spec, id);
    this.setField(MapDescriptor.type, 0);
  }

  /** `map 'x' (sockmap) is not backed by tsbpf: ...`. */
  get message(): string {
    return this.kind === 'unsupported'
      ? `${this.label} is not backed by tsbpf: ${this.reason}`
      : `${this.label} could not be created: ${this.reason}`;
  }

  private fail(): never {
    throw new MapError(this.kind === 'unsupported' ? 'EOPNOTSUPP' : 'EBADF', this.message);
  }

  /** The error a program gets when a helper reaches this map. */
  programError(helper: string): VmError {
    return new VmError(`${helper}: ${this.message}`);
  }

  protected override checkRead(): void {
    this.fail();
  }

  protected override checkWrite(): void {
    this.fail();
  }

  override freeze(): void {
    this.fail();
  }

  protected override refuse(helper: string): never {
    throw this.programError(helper);
  }

  protected lookupElem(): Uint8Array | undefined {
    return this.fail();
  }

  protected updateElem(): void {
    this.fail();
  }

  protected deleteElem(): void {
    this.fail();
  }

  protected nextKeyOf(): Uint8Array | undefined {
    return this.fail();
  }

  protected allEntries(): MapEntry[] {
    return this.fail();
  }

  override progLookup(_keyAddr: number, _cpu: number): number {
    throw this.programError('bpf_map_lookup_elem#1');
  }

  override progUpdate(_keyAddr: number, _valueAddr: number, _flags: number, _cpu: number): number {
    throw this.programError('bpf_map_update_elem#2');
  }

  override progDelete(_keyAddr: number, _cpu: number): number {
    throw this.programError('bpf_map_delete_elem#3');
  }
}

/** `tsbpf does not implement sockmap maps (type 15)`. */
export function unsupportedTypeReason(type: number): string {
  return `tsbpf does not implement ${mapTypeName(type)} maps (type ${type})`;
}
