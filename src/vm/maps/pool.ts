/**
 * Fixed-size entries carved out of the address space, with a free list kept
 * in the memory itself: a free entry's first u32 is the address of the next
 * free entry (0 ends the list), and the list head is a u32 at `headAddr`
 * (a descriptor field). Hash maps and LPM tries take their elements from a
 * pool, so the whole structure is in the address space.
 *
 * A preallocated pool (Linux's default for hash maps) carves all its
 * entries when created; a pool for BPF_F_NO_PREALLOC maps (and LPM tries)
 * carves chunks on demand, each chunk a region of its own, up to
 * `capacity` entries.
 */
import type { Region } from '../memory.js';

/** Allocates a region of `size` bytes whose name ends with `suffix`. */
export type RegionAllocator = (suffix: string, size: number) => Region;

/** A pool of equally sized, 8-byte aligned entries. */
export class EntryPool {
  /** The regions entries were carved from, in order. */
  readonly chunks: Region[] = [];
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
  ) {
    if (prealloc && capacity > 0) {
      const region = this.allocate('.elems', capacity * entrySize);
      this.chunks.push(region);
      this.carved = capacity;
      // Thread every entry onto the free list, the first entry first.
      const dv = this.space.data;
      for (let i = 0; i < capacity; i++) {
        const at = region.start + i * entrySize;
        dv.setUint32(at, i + 1 < capacity ? at + entrySize : 0, true);
      }
      dv.setUint32(headAddr, region.start, true);
    }
  }

  /** Entries carved so far (all of them for a preallocated pool). */
  get allocated(): number {
    return this.carved;
  }

  /**
   * An entry address, or 0 when `capacity` entries are in use. May grow the
   * memory: views of the old buffer must be re-read after a call.
   */
  alloc(): number {
    const dv = this.space.data;
    const head = dv.getUint32(this.headAddr, true);
    if (head !== 0) {
      dv.setUint32(this.headAddr, dv.getUint32(head, true), true);
      return head;
    }
    if (this.next === this.end) {
      if (this.carved >= this.capacity) return 0;
      const n = Math.min(this.capacity - this.carved, Math.max(64, this.carved));
      const region = this.allocate(`.elems[${this.chunks.length}]`, n * this.entrySize);
      this.chunks.push(region);
      this.next = region.start;
      this.end = region.start + n * this.entrySize;
      this.carved += n;
    }
    const at = this.next;
    this.next += this.entrySize;
    return at;
  }

  /** Returns an entry to the free list. */
  free(addr: number): void {
    const dv = this.space.data;
    dv.setUint32(addr, dv.getUint32(this.headAddr, true), true);
    dv.setUint32(this.headAddr, addr, true);
  }
}
