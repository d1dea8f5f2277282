/**
 * `BPF_MAP_TYPE_PROG_ARRAY`: the jump table of `bpf_tail_call`. User space
 * stores program ids (from `machine.programs`; in Linux, program fds, read
 * back as program ids); programs cannot look it up, update it or delete from
 * it (the Linux verifier allows only `bpf_tail_call` on it).
 *
 * Like Linux, the array is bound to the type of the first program that uses
 * it (Collection) or is stored in it; other types are refused (EINVAL).
 *
 * Layout: u32 program ids at `storage + 4 * index`, 0 = empty, so an engine
 * can resolve a tail call without JavaScript.
 */
import type { Machine } from '../machine.js';
import type { ProgramAttrs } from '../loaded-programs.js';
import { describeProgramAttrs, sameProgramAttrs } from '../loaded-programs.js';
import type { Region } from '../memory.js';
import { arrayNextKey, BpfMap, MapDescriptor, readU32, u32Bytes } from './bpf-map.js';
import { MapError } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

/** A prog array. */
export class ProgArrayMap extends BpfMap {
  /** u32 program ids by index. */
  readonly storage: Region;
  /** The program type this array is bound to (by the first program that used it or was stored in it). */
  private ownerAttrs: ProgramAttrs | null = null;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.storage = this.allocate('.progs', 'internal', 4 * this.maxEntries, { readable: false, writable: false });
    this.setField(MapDescriptor.storage, this.storage.start);
  }

  /** The program id at `index`, or undefined for an empty or out-of-range slot (what `bpf_tail_call` needs). */
  programAt(index: number): number | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries) return undefined;
    const id = this.dv.getUint32(this.storage.start + 4 * index, true);
    return id === 0 ? undefined : id;
  }

  /** The program type the array is bound to, if any program used it yet. */
  get owner(): ProgramAttrs | null {
    return this.ownerAttrs;
  }

  /**
   * Binds the array to a program type, or checks a program against the type
   * it is bound to (`bpf_prog_map_compatible`): true when they match.
   */
  claim(attrs: ProgramAttrs): boolean {
    if (this.ownerAttrs === null) {
      this.ownerAttrs = attrs;
      return true;
    }
    return sameProgramAttrs(this.ownerAttrs, attrs);
  }

  private setSlot(index: number, id: number): void {
    this.dv.setUint32(this.storage.start + 4 * index, id, true);
  }

  private index(key: Uint8Array): number {
    const index = readU32(key);
    if (index >= this.maxEntries) throw new MapError('E2BIG', `index ${index} is beyond max_entries ${this.maxEntries} of ${this.label}`);
    return index;
  }

  /** The program id at `key` (4 bytes), as bpf(2) returns it; undefined when empty. */
  protected lookupElem(key: Uint8Array): Uint8Array | undefined {
    const id = this.programAt(readU32(key));
    return id === undefined ? undefined : u32Bytes(id);
  }

  /** Stores program id `value` (4 bytes) at `key`; BPF_ANY only; the id must be a program of the machine (EBADF). */
  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    if (flags !== 0) throw new MapError('EINVAL', `${this.label} takes BPF_ANY only`);
    const index = this.index(key);
    const id = readU32(value);
    if (id === 0 || this.machine.programs.get(id) === undefined) throw new MapError('EBADF', `${id} is not the id of a program loaded in this machine`);
    const attrs = this.machine.programs.attrs(id);
    if (attrs && !this.claim(attrs)) {
      throw new MapError('EINVAL', `program ${id} (${describeProgramAttrs(attrs)}) cannot join ${this.label}, which holds ${describeProgramAttrs(this.ownerAttrs!)} programs`);
    }
    this.setSlot(index, id);
  }

  protected deleteElem(key: Uint8Array): void {
    const index = this.index(key);
    if (this.programAt(index) === undefined) throw new MapError('ENOENT', `slot ${index} of ${this.label} is empty`);
    this.setSlot(index, 0);
  }

  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    return arrayNextKey(key, this.maxEntries);
  }

  /** The filled slots. */
  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) {
      const id = this.programAt(i);
      if (id !== undefined) out.push({ key: u32Bytes(i), value: u32Bytes(id) });
    }
    return out;
  }
}
