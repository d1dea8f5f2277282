/**
 * `BPF_MAP_TYPE_STACK_TRACE` (kernel/bpf/stackmap.c): stacks by id, filled
 * by `bpf_get_stackid`. User space has no kernel stack to walk, so in
 * tsbpf `bpf_get_stackid` never stores one (docs/helpers.md) and the map
 * stays empty; its creation checks and user-space errors are Linux's.
 */
import type { Machine } from '../machine.js';
import { BpfMap, MapDescriptor, readU32 } from './bpf-map.js';
import { MapError, MapFlags } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

/** `sysctl_perf_event_max_stack` (default 127): the deepest stack a value may hold. */
export const PERF_EVENT_MAX_STACK = 127;
/** `sizeof(struct bpf_stack_build_id)`. */
const BUILD_ID_SIZE = 32;

/** Linux's `stack_map_alloc` checks. */
export function checkStackTraceSpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  if (flags & ~(MapFlags.NUMA_NODE | MapFlags.RDONLY | MapFlags.WRONLY | MapFlags.STACK_BUILD_ID)) {
    throw new MapError('EINVAL', 'stack trace maps take no flags but BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_STACK_BUILD_ID');
  }
  if (spec.maxEntries === 0 || spec.keySize !== 4 || spec.valueSize < 8 || spec.valueSize % 8) {
    throw new MapError('EINVAL', 'stack trace maps need key_size 4, a value_size that is a multiple of 8 and max_entries above 0');
  }
  const elem = flags & MapFlags.STACK_BUILD_ID ? BUILD_ID_SIZE : 8;
  if (spec.valueSize % elem || spec.valueSize / elem > PERF_EVENT_MAX_STACK) {
    throw new MapError('EINVAL', `a stack trace value holds at most ${PERF_EVENT_MAX_STACK} frames of ${elem} bytes`);
  }
  if (spec.maxEntries > 2 ** 31) throw new MapError('E2BIG', 'a stack trace map has at most 2^31 entries');
}

/** A stack trace map: always empty in user space. */
export class StackTraceMap extends BpfMap {
  /** Buckets: max_entries rounded up to a power of two, as in Linux (ids of `bpf_get_stackid` are bucket numbers). */
  readonly buckets: number;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    let n = 1;
    while (n < this.maxEntries) n *= 2;
    this.buckets = n;
    this.setField(MapDescriptor.mask, n - 1);
  }

  protected lookupElem(_key: Uint8Array): Uint8Array | undefined {
    return undefined;
  }

  /** `stack_map_update_elem`: stacks only come from `bpf_get_stackid` (EINVAL). */
  protected updateElem(_key: Uint8Array, value: Uint8Array, _flags: number): void {
    this.checkValue(value);
    throw new MapError('EINVAL', `${this.label}: stacks are stored by bpf_get_stackid, not by user space`);
  }

  /** `stack_map_delete_elem`: E2BIG beyond the buckets, else ENOENT (no stack is ever stored). */
  protected deleteElem(key: Uint8Array): void {
    const id = readU32(key);
    if (id >= this.buckets) throw new MapError('E2BIG', `stack id ${id} is beyond the ${this.buckets} buckets of ${this.label}`);
    throw new MapError('ENOENT', `no stack with id ${id} in ${this.label}`);
  }

  protected nextKeyOf(_key: Uint8Array | null): Uint8Array | undefined {
    return undefined;
  }

  protected allEntries(): MapEntry[] {
    return [];
  }
}
