/**
 * Fixed-size entries carved out of the address space, with a free list kept
 * in the memory itself: a free entry's link word (its first u32 unless the
 * owner chooses another) is the address of the next free entry (0 ends the
 * list), and the list head is a u32 at `headAddr`
 * (a descriptor field). Hash maps and LPM tries take their elements from a
 * pool, so the whole structure is in the address space.
 *
 * Entries (headers and keys: what the map's code trusts) and the values
 * programs get pointers to live apart, in pages of different classes
 * (docs/architecture.md): the entries in `internal` pages, the values in
 * pages of the map's value class. Each chunk is carved as two parallel
 * regions, entry `i` of the chunk owning value `i` (`values.start + i *
 * stride`), and every entry records its value's address in a u32 at
 * `values.slot`, so a lookup needs no arithmetic on chunk boundaries. A
 * program that overruns a value can then only reach other values, never a
 * chain link or a key.
 *
 * A preallocated pool (Linux's default for hash maps) carves all its
 * entries when created; a pool for BPF_F_NO_PREALLOC maps (and LPM tries)
 * carves chunks on demand, each chunk a region of its own, up to
 * `capacity` entries.
 */
import type { Region } from '../memory.js';

/** Allocates a region of `size` bytes whose name ends with `suffix`. */
export type RegionAllocator = (suffix: string, size: number) => Region;

/** Where a pool keeps its entries' values. */
export interface PoolValues {
  /** Allocates the values of a chunk (in the map's value class). */
  readonly allocate: RegionAllocator;
  /** Bytes per value (a multiple of 8). */
  readonly stride: number;
  /** Offset in an entry of the u32 holding its value's address (not 0: that is the free-list link). */
  readonly slot: number;
}

/** A pool of equally sized, 8-byte aligned entries, each with its value. */
export class EntryPool {
  /** The regions entries were carved from, in order. */
  readonly chunks: Region[] = [];
  /** The value regions, parallel to {@link chunks}. */
  readonly valueChunks: Region[] = [];
  private carved = 0;
  private next = 0;
  private end = 0;

  constructor(
    private readonly space: { readonly data: DataView },
    private readonly allocate: RegionAllocator,
    /** Bytes per entry (a multiple of 8). */
    readonly entrySize: number,
    /** Most entries the pool ever holds. */
    readonly capacity: number,
    /** Address of the u32 free-list head. */
    readonly headAddr: number,
    prealloc: boolean,
    private readonly values: PoolValues,
    /**
     * Offset in an entry of the free-list link (default 0). Hash maps use a
     * word a chain walk never reads, so a lookup standing on an entry that
     * another thread frees meanwhile still follows the chain it was on.
     */
    private readonly link = 0,
  ) {
    if (prealloc && capacity > 0) {
      const region = this.carve(capacity, '');
      // Thread every entry onto the free list, the first entry first.
      const dv = this.space.data;
      for (let i = 0; i < capacity; i++) {
        const at = region.start + i * entrySize;
        dv.setUint32(at + link, i + 1 < capacity ? at + entrySize : 0, true);
      }
      dv.setUint32(headAddr, region.start, true);
    }
  }

  /** Carves `n` entries and their values; returns the entries' region. */
  private carve(n: number, suffix: string): Region {
    const region = this.allocate(`.elems${suffix}`, n * this.entrySize);
    const values = this.values.allocate(`.values${suffix}`, n * this.values.stride);
    this.chunks.push(region);
    this.valueChunks.push(values);
    this.carved += n;
    const dv = this.space.data;
    for (let i = 0; i < n; i++) dv.setUint32(region.start + i * this.entrySize + this.values.slot, values.start + i * this.values.stride, true);
    return region;
  }

  /** Entries carved so far (all of them for a preallocated pool). */
  get allocated(): number {
    return this.carved;
  }

  /** Address of the value of the entry at `entry`. */
  valueAt(entry: number): number {
    return this.space.data.getUint32(entry + this.values.slot, true);
  }

  /**
   * An entry address, or 0 when `capacity` entries are in use. May grow the
   * memory: views of the old buffer must be re-read after a call.
   */
  alloc(): number {
    const dv = this.space.data;
    const head = dv.getUint32(this.headAddr, true);
    if (head !== 0) {
      dv.setUint32(this.headAddr, dv.getUint32(head + this.link, true), true);
      return head;
    }
    if (this.next === this.end) {
      if (this.carved >= this.capacity) return 0;
      const n = Math.min(this.capacity - this.carved, Math.max(64, this.carved));
      const region = this.carve(n, `[${this.chunks.length}]`);
      this.next = region.start;
      this.end = region.start + n * this.entrySize;
    }
    const at = this.next;
    this.next += this.entrySize;
    return at;
  }

  /** Returns an entry to the free list. */
  free(addr: number): void {
    const dv = this.space.data;
    dv.setUint32(addr + this.link, dv.getUint32(this.headAddr, true), true);
    dv.setUint32(this.headAddr, addr, true);
  }
}
