/**
 * `BPF_MAP_TYPE_CGROUP_ARRAY`: slots that hold cgroups, for
 * `bpf_current_task_under_cgroup` and `bpf_skb_under_cgroup`
 * (kernel/bpf/arraymap.c, `cgroup_array_map_ops`).
 *
 * Linux stores a cgroup taken from a file descriptor of a cgroup directory.
 * tsbpf has no cgroups: a slot holds the u32 user space put there (a
 * cgroup's id or fd, as the caller means it), at `storage + 4 * index` (0 =
 * empty). Programs get the kernel's answers where they do not depend on
 * cgroup membership (an index beyond max_entries, an empty slot); asking
 * whether the current task is in a cgroup stops the run, naming the helper.
 * bpf(2) cannot read the slots back (no `map_fd_sys_lookup_elem`:
 * ENOTSUPP), as in Linux.
 */
import { VmError } from '../../errors.js';
import type { Machine } from '../machine.js';
import { readU32 } from './bpf-map.js';
import { SlotArrayMap } from './slot-array.js';
import { Errno, MapError } from './types.js';
import type { MapSpec } from './types.js';

/** A cgroup array. */
export class CgroupArrayMap extends SlotArrayMap {
  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id, '.cgroups');
  }

  /**
   * `bpf_current_task_under_cgroup(map, idx)`: -E2BIG for an index beyond
   * max_entries, -EAGAIN for an empty slot (Linux's answers); a filled slot
   * asks about cgroup membership, which tsbpf does not model: a VmError.
   */
  currentTaskUnderCgroup(index: number): number {
    if (index >= this.maxEntries) return -Errno.E2BIG;
    if (this.slot(index) === 0) return -Errno.EAGAIN;
    throw new VmError(`slot ${index} of ${this.label} holds cgroup ${this.slot(index)}: tsbpf does not model cgroups, so it cannot tell whether the current task is in it`);
  }

  /** bpf(2) cannot read cgroups back (no `map_fd_sys_lookup_elem`): ENOTSUPP. */
  protected lookupElem(_key: Uint8Array): Uint8Array | undefined {
    throw new MapError('ENOTSUPP', `${this.label} slots cannot be read back`);
  }

  /** Stores the cgroup `value` (not 0) in slot `key`. */
  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    if (flags !== 0) throw new MapError('EINVAL', `${this.label} takes BPF_ANY only`);
    const index = readU32(key);
    if (index >= this.maxEntries) throw new MapError('E2BIG', `index ${index} is beyond max_entries ${this.maxEntries} of ${this.label}`);
    const cgroup = readU32(value);
    if (cgroup === 0) throw new MapError('EBADF', `0 is not a cgroup (${this.label} takes a cgroup's fd or id)`);
    this.setSlot(index, cgroup);
  }
}
