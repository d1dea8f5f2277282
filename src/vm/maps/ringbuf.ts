/**
 * `BPF_MAP_TYPE_RINGBUF`: a multi-producer, single-consumer byte ring with
 * Linux's record format (kernel/bpf/ringbuf.c), and a user-space consumer
 * that works like libbpf's `ring_buffer__consume` / `ring_buffer__poll`.
 *
 * Layout:
 * - a control region (not accessible to programs): `u64 consumer_pos` at
 *   +0, `u64 producer_pos` at +8, `u64 pending_pos` at +16; its address is
 *   descriptor word `state0`;
 * - the data area at `storage`, `2 x max_entries` bytes: records live at
 *   `storage + (pos & mask)`. Linux maps the data pages twice in a row so a
 *   record that crosses the end is contiguous for the program; tsbpf does
 *   the same with a second copy of the area: a program writes the part of a
 *   record past the end into the second copy, and submit/discard copies it
 *   to the start of the first copy, where Linux's second mapping would have
 *   put it. Consumers read records contiguously from where they start.
 *
 * A record is an 8-byte header (`u32 len` with BPF_RINGBUF_BUSY_BIT while
 * reserved and BPF_RINGBUF_DISCARD_BIT once discarded, `u32 pg_off`) and
 * the data, padded to 8 bytes. `pg_off` is Linux's value: the page of the
 * header counted from the start of the kernel's `struct bpf_ringbuf` (3 +
 * the page within the data area).
 */
import { VmError } from '../../errors.js';
import type { Machine } from '../machine.js';
import type { Region } from '../memory.js';
import { BpfMap, MapDescriptor, roundUp8 } from './bpf-map.js';
import { Errno, MapError, MapFlags, RINGBUF_BUSY_BIT, RINGBUF_DISCARD_BIT, RINGBUF_HDR_SIZE, RingbufFlags } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

/** Linux's page size, which ring buffer sizes are multiples of. */
export const PAGE_SIZE = 4096;
/** `RINGBUF_MAX_RECORD_SZ`. */
const RINGBUF_MAX_RECORD_SZ = Math.floor(0xffffffff / 4);
/** Pages before the data area in the kernel's `struct bpf_ringbuf` (RINGBUF_PGOFF + RINGBUF_POS_PAGES). */
const RINGBUF_DATA_PGOFF = 3;

/** Linux's checks in `ringbuf_map_alloc`. */
export function checkRingbufSpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  if (flags & ~MapFlags.NUMA_NODE) throw new MapError('EINVAL', `invalid flags 0x${flags.toString(16)} for a ring buffer (only BPF_F_NUMA_NODE)`);
  const n = spec.maxEntries;
  if (spec.keySize !== 0 || spec.valueSize !== 0 || n === 0 || (n & (n - 1)) !== 0 || n % PAGE_SIZE !== 0) {
    throw new MapError('EINVAL', `a ring buffer needs key_size 0, value_size 0 and max_entries a power of 2 multiple of ${PAGE_SIZE} (not ${n})`);
  }
}

/** A ring buffer callback: gets one record (a view valid during the call); a negative result stops consuming and is returned. */
export type RingBufferCallback = (data: Uint8Array) => number | void;

/** A ring buffer map. */
export class RingBufMap extends BpfMap {
  /** consumer_pos, producer_pos, pending_pos. */
  readonly control: Region;
  /** The data area (twice the ring size, see the file comment). */
  readonly data: Region;
  /** Size of the ring in bytes (max_entries). */
  readonly size: number;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.size = this.maxEntries;
    this.control = this.allocate('.positions', 'internal', 32, { readable: false, writable: false });
    this.data = this.allocate('.data', 'ringbuf', 2 * this.size, { readable: true, writable: true, align: 8 });
    this.setField(MapDescriptor.storage, this.data.start);
    this.setField(MapDescriptor.mask, this.size - 1);
    this.setField(MapDescriptor.state0, this.control.start);
  }

  private pos(offset: number): number {
    const dv = this.dv;
    return dv.getUint32(this.control.start + offset + 4, true) * 4294967296 + dv.getUint32(this.control.start + offset, true);
  }

  private setPos(offset: number, v: number): void {
    const dv = this.dv;
    dv.setUint32(this.control.start + offset, v >>> 0, true);
    dv.setUint32(this.control.start + offset + 4, Math.floor(v / 4294967296), true);
  }

  /** How far the consumer has read. */
  get consumerPosition(): number {
    return this.pos(0);
  }

  /** How far producers have reserved. */
  get producerPosition(): number {
    return this.pos(8);
  }

  /** Bytes reserved and not consumed yet (`BPF_RB_AVAIL_DATA`). */
  get availableData(): number {
    return this.producerPosition - this.consumerPosition;
  }

  /**
   * The length in the header at `hdr`. Headers sit in the data area, which
   * programs write: a length no record of this ring can have (a program
   * wrote outside its record) is a VmError, never a copy past the area.
   */
  private recordLength(hdr: number): number {
    const len = (this.dv.getUint32(hdr, true) & ~RINGBUF_BUSY_BIT & ~RINGBUF_DISCARD_BIT) >>> 0;
    if (roundUp8(len + RINGBUF_HDR_SIZE) > this.size) {
      throw new VmError(`${this.label} is corrupted: the record at 0x${hdr.toString(16)} claims ${len} bytes (did a program write outside a record?)`);
    }
    return len;
  }

  // ---- the producer side (programs) ------------------------------------------------

  /**
   * `__bpf_ringbuf_reserve`: the address of `size` bytes for a new record,
   * or 0 when there is no room. Producers on several workers reserve under
   * the map's lock, as Linux's producers take the ring's spinlock.
   */
  reserve(size: number): number {
    return this.exclusive(() => this.reserveLocked(size));
  }

  private reserveLocked(size: number): number {
    if (size > RINGBUF_MAX_RECORD_SZ) return 0;
    const len = roundUp8(size + RINGBUF_HDR_SIZE);
    if (len > this.size) return 0;
    const mask = this.size - 1;
    const dv = this.dv;
    const cons = this.consumerPosition;
    const prod = this.producerPosition;
    let pend = this.pos(16);
    while (pend < prod) {
      const hdrLen = dv.getUint32(this.data.start + (pend % this.size), true);
      if (hdrLen & RINGBUF_BUSY_BIT) break;
      pend += roundUp8(((hdrLen & ~RINGBUF_DISCARD_BIT) >>> 0) + RINGBUF_HDR_SIZE);
    }
    this.setPos(16, pend);
    const next = prod + len;
    if (next - cons > mask || next - pend > mask) return 0;
    const hdr = this.data.start + (prod % this.size);
    dv.setUint32(hdr, (size | RINGBUF_BUSY_BIT) >>> 0, true);
    dv.setUint32(hdr + 4, RINGBUF_DATA_PGOFF + Math.floor((hdr - this.data.start) / PAGE_SIZE), true);
    this.setPos(8, next);
    return hdr + RINGBUF_HDR_SIZE;
  }

  /**
   * `bpf_ringbuf_commit`: clears the busy bit of the record at `sample`
   * (setting the discard bit for a discard). Throws a VmError when `sample`
   * is not a reserved record of this ring (the Linux verifier would refuse
   * the program).
   */
  commit(sample: number, discard: boolean): void {
    const hdr = sample - RINGBUF_HDR_SIZE;
    const off = hdr - this.data.start;
    const dv = this.dv;
    if (off < 0 || off >= this.size || off % 8 !== 0 || !(dv.getUint32(hdr, true) & RINGBUF_BUSY_BIT)) {
      throw new VmError(`0x${sample.toString(16)} is not a reserved record of ring buffer ${this.label} (submitted twice, or not from bpf_ringbuf_reserve)`);
    }
    const len = this.recordLength(hdr);
    const end = off + RINGBUF_HDR_SIZE + len;
    if (end > this.size) {
      // The record crossed the end: its tail is in the second copy; put it where the ring wraps.
      const mem = this.mem;
      mem.copyWithin(this.data.start, this.data.start + this.size, this.data.start + end);
    }
    const word = (len | (discard ? RINGBUF_DISCARD_BIT : 0)) >>> 0;
    // Another worker's reserve walks the headers for busy bits: the record's bytes are written before its header says so.
    if (this.machine.space.concurrent) Atomics.store(this.machine.space.i32, hdr >>> 2, word | 0);
    else dv.setUint32(hdr, word, true);
  }

  /** `bpf_ringbuf_output`: copies `size` bytes at `dataAddr` into a new record; 0, -EAGAIN when full, -EINVAL for bad flags. */
  output(dataAddr: number, size: number, flags: number): number {
    if (flags & ~(RingbufFlags.NO_WAKEUP | RingbufFlags.FORCE_WAKEUP)) return -Errno.EINVAL;
    const rec = this.reserve(size);
    if (rec === 0) return -Errno.EAGAIN;
    this.mem.copyWithin(rec, dataAddr, dataAddr + size);
    this.commit(rec, false);
    return 0;
  }

  /** `bpf_ringbuf_query`. */
  query(flags: number): number {
    switch (flags) {
      case RingbufFlags.AVAIL_DATA: return this.availableData;
      case RingbufFlags.RING_SIZE: return this.size;
      case RingbufFlags.CONS_POS: return this.consumerPosition;
      case RingbufFlags.PROD_POS: return this.producerPosition;
      default: return 0;
    }
  }

  // ---- the consumer side (user space) ------------------------------------------------

  /**
   * libbpf's `ringbuf_process_ring`: calls `cb` for each committed record in
   * order, skipping discarded ones, and stops at a record still being
   * written, after `limit` records, or when `cb` returns a negative number
   * (which is returned). Returns the number of records given to `cb`. The
   * data is a view of the ring, valid only during the callback.
   */
  consume(cb: RingBufferCallback, limit = Number.POSITIVE_INFINITY): number {
    let cons = this.consumerPosition;
    let count = 0;
    for (;;) {
      let progressed = false;
      const prod = this.producerPosition;
      while (cons < prod) {
        const hdr = this.data.start + (cons % this.size);
        const hdrLen = this.dv.getUint32(hdr, true);
        if (hdrLen & RINGBUF_BUSY_BIT) return count;
        progressed = true;
        const len = this.recordLength(hdr);
        cons += roundUp8(len + RINGBUF_HDR_SIZE);
        if (!(hdrLen & RINGBUF_DISCARD_BIT)) {
          const r = cb(this.mem.subarray(hdr + RINGBUF_HDR_SIZE, hdr + RINGBUF_HDR_SIZE + len));
          if (typeof r === 'number' && r < 0) {
            this.setPos(0, cons);
            return r;
          }
          count++;
        }
        this.setPos(0, cons);
        if (count >= limit) return count;
      }
      if (!progressed) return count;
    }
  }

  /** Committed, non-discarded records from the consumer position on, as copies, without consuming them. */
  records(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let cons = this.consumerPosition;
    const prod = this.producerPosition;
    while (cons < prod) {
      const hdr = this.data.start + (cons % this.size);
      const hdrLen = this.dv.getUint32(hdr, true);
      if (hdrLen & RINGBUF_BUSY_BIT) break;
      const len = this.recordLength(hdr);
      if (!(hdrLen & RINGBUF_DISCARD_BIT)) out.push(this.mem.slice(hdr + RINGBUF_HDR_SIZE, hdr + RINGBUF_HDR_SIZE + len));
      cons += roundUp8(len + RINGBUF_HDR_SIZE);
    }
    return out;
  }

  // ---- the map interface: rings have no elements ------------------------------------

  private notSupported(): never {
    throw new MapError('ENOTSUPP', `${this.label} has no elements: programs write records, user space consumes them`);
  }

  protected lookupElem(_key: Uint8Array): Uint8Array | undefined {
    return this.notSupported();
  }

  protected updateElem(_key: Uint8Array, _value: Uint8Array, _flags: number): void {
    this.notSupported();
  }

  protected deleteElem(_key: Uint8Array): void {
    this.notSupported();
  }

  protected nextKeyOf(_key: Uint8Array | null): Uint8Array | undefined {
    return this.notSupported();
  }

  /** The records a consumer would read next (see {@link records}), with empty keys. */
  protected allEntries(): MapEntry[] {
    return this.records().map((value) => ({ key: new Uint8Array(0), value }));
  }
}

/**
 * libbpf's `struct ring_buffer`: several ring buffer maps, each with its
 * callback, consumed together. tsbpf programs run synchronously, so
 * {@link poll} never waits: it consumes what is there.
 */
export class RingBuffer {
  private readonly rings: { map: RingBufMap; cb: RingBufferCallback }[] = [];

  constructor(map?: RingBufMap, cb?: RingBufferCallback) {
    if (map !== undefined && cb !== undefined) this.add(map, cb);
  }

  /** `ring_buffer__add`. */
  add(map: RingBufMap, cb: RingBufferCallback): this {
    this.rings.push({ map, cb });
    return this;
  }

  /** `ring_buffer__consume`: every available record of every ring; the total, or the first negative callback result. */
  consume(): number {
    let total = 0;
    for (const { map, cb } of this.rings) {
      const r = map.consume(cb);
      if (r < 0) return r;
      total += r;
    }
    return total;
  }

  /** `ring_buffer__poll`: the same as {@link consume} (nothing runs concurrently, so there is nothing to wait for). */
  poll(_timeoutMs = 0): number {
    return this.consume();
  }
}
