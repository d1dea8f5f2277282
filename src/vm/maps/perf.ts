/**
 * `BPF_MAP_TYPE_PERF_EVENT_ARRAY` and a user-side reader like libbpf's
 * `perf_buffer`.
 *
 * In Linux each slot holds a perf event (one per CPU) whose mmap'ed ring
 * receives `bpf_perf_event_output` samples. Here a {@link PerfBuffer} opens
 * one event per CPU (slots 0 .. min(max_entries, possibleCpus) - 1) and
 * stores its id in the slot; the map's storage is those u32 ids (0 = empty)
 * at `storage + 4 * index`. Each event's ring is a byte budget of
 * `pageCount x 4096` bytes accounted the way perf accounts it (a sample
 * takes `8 + round_up(size + 4, 8)` bytes, a lost record 24); the records
 * themselves are kept by the reader, outside the address space, since no
 * program reads them.
 */
import type { Machine } from '../machine.js';
import { checkArraySpec } from './array.js';
import { readU32, u32Bytes } from './bpf-map.js';
import { SlotArrayMap } from './slot-array.js';
import { Errno, MapError, MapFlags, MapType } from './types.js';
import type { MapSpec } from './types.js';

/** Linux's `fd_array_map_alloc_check` for perf event arrays. */
export function checkFdArraySpec(spec: MapSpec): void {
  if (spec.valueSize !== 4) throw new MapError('EINVAL', `value_size of a ${spec.type === MapType.PERF_EVENT_ARRAY ? 'perf event' : 'file descriptor'} array must be 4, not ${spec.valueSize}`);
  if ((spec.flags ?? 0) & (MapFlags.RDONLY_PROG | MapFlags.WRONLY_PROG)) {
    throw new MapError('EINVAL', 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are not supported for this map type');
  }
  checkArraySpec(spec);
}

/** Bytes of a perf page. */
const PERF_PAGE = 4096;
/** Bytes of a PERF_RECORD_LOST record (header, id, lost). */
const LOST_RECORD_SIZE = 24;

/** One record of a perf ring. */
export type PerfRecord = { kind: 'sample'; data: Uint8Array; size: number } | { kind: 'lost'; count: number; size: number };

/** One CPU's perf event and its ring (records kept for the reader). */
export class PerfRing {
  readonly records: PerfRecord[] = [];
  used = 0;
  lost = 0;

  constructor(readonly id: number, readonly cpu: number, readonly capacity: number) {}

  /** Linux's `perf_output_begin` accounting: a pending lost count needs room for its record too. */
  write(data: Uint8Array): boolean {
    // PERF_SAMPLE_RAW: u32 size then the data, padded so the record stays 8-byte aligned.
    const raw = Math.ceil((data.length + 4) / 8) * 8 - 4;
    const sampleSize = 8 + 4 + raw;
    const need = sampleSize + (this.lost > 0 ? LOST_RECORD_SIZE : 0);
    if (this.used + need > this.capacity) {
      this.lost++;
      return false;
    }
    if (this.lost > 0) {
      this.records.push({ kind: 'lost', count: this.lost, size: LOST_RECORD_SIZE });
      this.lost = 0;
    }
    const padded = new Uint8Array(raw);
    padded.set(data);
    this.records.push({ kind: 'sample', data: padded, size: sampleSize });
    this.used += need;
    return true;
  }
}

/** A perf event array. */
export class PerfEventArrayMap extends SlotArrayMap {
  private readonly rings = new Map<number, PerfRing>();
  private nextEventId = 1;

  /** The slots hold event ids. */
  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id, '.events');
  }

  /** Opens a perf event on `cpu` with a ring of `pageCount` pages; returns its id (what a perf event fd is in Linux). */
  openEvent(cpu: number, pageCount: number): number {
    const id = this.nextEventId++;
    this.rings.set(id, new PerfRing(id, cpu, pageCount * PERF_PAGE));
    return id;
  }

  /** Closes event `id`, clearing the slots that hold it. */
  closeEvent(id: number): void {
    this.rings.delete(id);
    for (let i = 0; i < this.maxEntries; i++) if (this.slot(i) === id) this.setSlot(i, 0);
  }

  /** The ring of event `id`. */
  ringOf(id: number): PerfRing | undefined {
    return this.rings.get(id);
  }

  /**
   * `bpf_perf_event_output`: writes `size` bytes at `dataAddr` to the event
   * in slot `flags & BPF_F_INDEX_MASK` (BPF_F_CURRENT_CPU: the calling
   * CPU's). 0, -EINVAL (flags), -E2BIG (index), -ENOENT (empty slot),
   * -EOPNOTSUPP (event of another CPU), -ENOSPC (ring full: counted lost).
   */
  output(cpu: number, flags: bigint, dataAddr: number, size: number): number {
    if (flags >> 32n !== 0n) return -Errno.EINVAL;
    let index = Number(flags & 0xffffffffn);
    if (index === 0xffffffff) index = cpu;
    if (index >= this.maxEntries) return -Errno.E2BIG;
    const ring = this.rings.get(this.slot(index));
    if (ring === undefined) return -Errno.ENOENT;
    if (ring.cpu !== cpu) return -Errno.EOPNOTSUPP;
    return ring.write(this.mem.slice(dataAddr, dataAddr + size)) ? 0 : -Errno.ENOSPC;
  }

  // ---- user space ----------------------------------------------------------------

  /** bpf(2) cannot read perf event fds back (no `map_fd_sys_lookup_elem`): ENOTSUPP. */
  protected lookupElem(_key: Uint8Array): Uint8Array | undefined {
    throw new MapError('ENOTSUPP', `${this.label} slots cannot be read back`);
  }

  /** Stores event id `value` (from {@link openEvent}) in slot `key`. */
  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    if (flags !== 0) throw new MapError('EINVAL', `${this.label} takes BPF_ANY only`);
    const index = readU32(key);
    if (index >= this.maxEntries) throw new MapError('E2BIG', `index ${index} is beyond max_entries ${this.maxEntries} of ${this.label}`);
    const id = readU32(value);
    if (!this.rings.has(id)) throw new MapError('EBADF', `${id} is not a perf event of ${this.label} (open one with a PerfBuffer or openEvent)`);
    this.setSlot(index, id);
  }

  /** Installs event `id` in slot `index` (what a PerfBuffer does for each CPU). */
  attach(index: number, id: number): void {
    this.updateElem(u32Bytes(index), u32Bytes(id), 0);
  }
}

/** A sample callback: the CPU and the raw data (padded as perf pads it: to 4 bytes past a multiple of 8). */
export type PerfSampleCallback = (cpu: number, data: Uint8Array) => void;
/** A lost-samples callback. */
export type PerfLostCallback = (cpu: number, count: number) => void;

/** Options of a {@link PerfBuffer}. */
export interface PerfBufferOptions {
  /** Pages per CPU ring (libbpf's `page_cnt`, default 8). */
  pageCount?: number;
  onSample?: PerfSampleCallback;
  onLost?: PerfLostCallback;
}

/**
 * libbpf's `perf_buffer`: opens one perf event per CPU, puts them in the
 * map, and hands the records to callbacks, CPU by CPU, each CPU's records in
 * order. Lost samples are reported when the next sample of that CPU fits
 * (perf's PERF_RECORD_LOST), or at the end of a consume when none did.
 */
export class PerfBuffer {
  private readonly events: { cpu: number; id: number }[] = [];
  private readonly onSample: PerfSampleCallback | undefined;
  private readonly onLost: PerfLostCallback | undefined;

  constructor(readonly map: PerfEventArrayMap, options: PerfBufferOptions = {}) {
    const pages = options.pageCount ?? 8;
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0) {
      throw new MapError('EINVAL', `perf buffer page count must be a power of 2, not ${pages}`);
    }
    this.onSample = options.onSample;
    this.onLost = options.onLost;
    const cpus = Math.min(map.maxEntries, map.machine.possibleCpus);
    for (let cpu = 0; cpu < cpus; cpu++) {
      const id = map.openEvent(cpu, pages);
      map.attach(cpu, id);
      this.events.push({ cpu, id });
    }
  }

  /** `perf_buffer__consume`: drains every CPU's ring; returns the number of samples delivered. */
  consume(onSample = this.onSample, onLost = this.onLost): number {
    let n = 0;
    for (const { cpu, id } of this.events) {
      const ring = this.map.ringOf(id);
      if (ring === undefined) continue;
      for (const r of ring.records) {
        if (r.kind === 'sample') {
          n++;
          onSample?.(cpu, r.data);
        } else {
          onLost?.(cpu, r.count);
        }
      }
      ring.records.length = 0;
      ring.used = 0;
      if (ring.lost > 0) {
        onLost?.(cpu, ring.lost);
        ring.lost = 0;
      }
    }
    return n;
  }

  /** `perf_buffer__poll`: the same as {@link consume} (nothing to wait for). */
  poll(_timeoutMs = 0): number {
    return this.consume();
  }

  /** `perf_buffer__free`: closes the events and empties their slots. */
  close(): void {
    for (const { id } of this.events) this.map.closeEvent(id);
    this.events.length = 0;
  }
}
