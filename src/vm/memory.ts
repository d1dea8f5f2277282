/**
 * The address space of a loaded collection: one `WebAssembly.Memory` that
 * every program, map, stack and packet lives in (DESIGN.md, "The address
 * space"). A BPF pointer is an offset into it.
 *
 * Two layers describe who may touch what:
 * - regions record what each range holds and whether programs may read or
 *   write it; checked-mode engines (and accesses the verifier did not prove)
 *   consult them on every access;
 * - pages (64 KiB, the WebAssembly page) each belong to one protection
 *   class: `rw`, `ro` (programs may only read), `wo` (only write) or
 *   `internal` (no program access: what the runtime itself trusts). A region
 *   takes the class of its rights, and allocation never puts two classes in
 *   one page, so a per-page rights table (1 byte a page, mirrored into the
 *   memory at {@link PAGE_TABLE} for compiled code) is a cheap guard that
 *   the engines apply to every access the verifier proved safe: a verifier
 *   bug can then only reach memory programs may reach anyway, never the
 *   runtime's own state (docs/architecture.md, "The address space").
 */
import { VmError } from '../errors.js';

/** What a region holds; shown in fault messages. */
export type RegionKind =
  | 'stack' | 'ctx' | 'packet' | 'input' | 'map' | 'global' | 'ringbuf' | 'scratch' | 'internal';

/** A range of the address space with program access rights. */
export interface Region {
  readonly name: string;
  readonly kind: RegionKind;
  readonly start: number;
  readonly size: number;
  /** Programs may load from it. */
  readonly readable: boolean;
  /** Programs may store to it. */
  readonly writable: boolean;
}

/**
 * The protection class of a page: what programs may do with every byte of
 * it. `internal` pages hold what the runtime trusts (register files, JIT
 * batch areas and region tables, hash buckets and entry headers, prog-array
 * and map-of-maps slots, queue and bloom storage, ring-buffer positions).
 */
export type PageClass = 'rw' | 'ro' | 'wo' | 'internal';

/** Bits of a page's entry in the rights table (the same bits as the JIT's region table). */
export const PageRights = { read: 1, write: 2 } as const;

/** The rights byte of each class. */
export const CLASS_RIGHTS: Readonly<Record<PageClass, number>> = {
  rw: PageRights.read | PageRights.write,
  ro: PageRights.read,
  wo: PageRights.write,
  internal: 0,
};

/** The class of a region with these rights. */
export function pageClassOf(readable: boolean, writable: boolean): PageClass {
  return readable ? (writable ? 'rw' : 'ro') : writable ? 'wo' : 'internal';
}

/** Options for a new address space. */
export interface AddressSpaceOptions {
  /** Back the memory by a SharedArrayBuffer so worker threads can share it. */
  shared?: boolean;
  /** Initial size in 64 KiB pages (default 4). */
  initialPages?: number;
  /** Largest size in pages (default 16384 = 1 GiB; at most 65535). */
  maximumPages?: number;
  /**
   * Attach to the shared memory of a space another thread built (see
   * {@link AddressSpace.share}) instead of creating one. The new space
   * starts in replay mode: allocations follow the same deterministic order
   * as the original's (the same loader code run on the same object) and
   * get the same addresses, but every write goes to a private copy of the
   * memory, so the maps' contents are never re-initialised;
   * {@link AddressSpace.endReplay} then checks the layout matched and
   * switches to the shared memory. `maximumPages` must be the original's.
   */
  attach?: WebAssembly.Memory;
  /** With `attach`: the layout the replay must reproduce ({@link SharedSpace.layout}). */
  attachLayout?: SpaceLayout;
}

/**
 * A fingerprint of the allocations made so far: their number and a hash of
 * every region's start and size in allocation order. Two spaces with the
 * same layout put the same things at the same addresses.
 */
export interface SpaceLayout {
  readonly allocations: number;
  readonly hash: number;
}

/** Bytes of one WebAssembly page. */
export const WASM_PAGE = 65536;
/**
 * Bytes at address 0 that are never allocated: a NULL pointer plus any
 * 16-bit instruction offset stays inside, so it can never reach data.
 */
export const GUARD_SIZE = WASM_PAGE;
/**
 * Address of the page rights table: one byte per 64 KiB page of the whole
 * 32-bit space (65536 bytes, the page after the guard page, itself
 * `internal`). Byte `addr >>> 16` holds {@link PageRights} bits.
 */
export const PAGE_TABLE = GUARD_SIZE;
/** Entries of the page rights table (every page a 32-bit address can name). */
export const PAGE_TABLE_SIZE = 65536;
/**
 * Unused bytes at the start of every run of fresh pages, which makes a
 * guard that tests one page enough. A guarded access of `size` bytes at
 * `base + off` tests the page of `base` when `0 <= off` and `off + size <=
 * PAGE_GAP` ({@link guardsBase}), else the page of `base + off`; either way
 * it may reach up to `PAGE_GAP - 1` bytes past the end of the page it
 * tested. When the next page belongs to another class it is the first page
 * of a run (runs are taken whole from the top of the memory), whose first
 * `PAGE_GAP` bytes belong to no region and are never read or written by the
 * runtime: the spill lands there. This costs 64 bytes per run and nothing
 * per access (testing the page of the last byte too would cost a second
 * table load on every access), and testing the base's page lets compiled
 * code test a base register once for all the small offsets a block reads
 * through it (struct fields, packet headers). The top of the memory keeps
 * the same slack (the memory is always at least `PAGE_GAP` bytes larger
 * than what is allocated), so such an access never leaves the memory
 * either.
 */
export const PAGE_GAP = 64;

/** Whether a guarded access at `base + off` of `size` bytes tests the page of `base` (else that of `base + off`); see {@link PAGE_GAP}. */
export function guardsBase(off: number, size: number): boolean {
  return off >= 0 && off + size <= PAGE_GAP;
}

/** The cached views of the memory. */
interface Views {
  buffer: ArrayBuffer | SharedArrayBuffer;
  bytes: Uint8Array;
  data: DataView;
  i32: Int32Array;
}

/** What a thread needs to attach to a shared space ({@link AddressSpace.share}); both can be posted to a worker. */
export interface SharedSpace {
  readonly memory: WebAssembly.Memory;
  readonly maximumPages: number;
  /** The layout an attaching thread's replay must reproduce (what {@link AddressSpace.markLayout} recorded). */
  readonly layout: SpaceLayout;
}

/** A class's current chunk: `[next, end)` is free. */
interface Chunk {
  next: number;
  end: number;
}

/**
 * One collection's memory: a page allocator per protection class (each
 * class fills its own chunk and takes fresh pages from the top of the
 * memory), the page rights table and the region table.
 */
export class AddressSpace {
  /** The memory shared by the engines, helpers and user-space map access. */
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /**
   * The rights of every page ({@link PageRights} bits), indexed by
   * `addr >>> 16`; what guarded engines test. Mirrored at {@link PAGE_TABLE}
   * in the memory for compiled code. Only the allocator writes it.
   */
  readonly pageRights = new Uint8Array(PAGE_TABLE_SIZE);
  private readonly maximumPages: number;
  /** End of the pages handed to classes so far (a multiple of {@link WASM_PAGE}). */
  private top = PAGE_TABLE + PAGE_TABLE_SIZE;
  private readonly chunks: Record<PageClass, Chunk> = {
    rw: { next: 0, end: 0 }, ro: { next: 0, end: 0 }, wo: { next: 0, end: 0 }, internal: { next: 0, end: 0 },
  };
  private readonly pageClasses = new Map<number, PageClass>();
  private sorted: Region[] = [];
  private allocations = 0;
  private views: Views | null = null;
  /** Replay mode (an attaching space before {@link endReplay}): the private copy every view is on. */
  private replayCopy: Uint8Array | null = null;
  /**
   * Shared spaces: the word that holds the top of the allocated pages once
   * several threads allocate ({@link share}); 0 for private spaces.
   */
  private readonly topWord: number = 0;
  private concurrentMode = false;
  private layoutHash = 0;
  /** What {@link markLayout} recorded. */
  private marked: SpaceLayout | undefined;
  /** The layout an attaching space must reproduce. */
  private readonly expected: SpaceLayout | undefined;

  constructor(options: AddressSpaceOptions = {}) {
    this.shared = options.shared ?? options.attach !== undefined;
    this.maximumPages = Math.min(PAGE_TABLE_SIZE - 1, options.maximumPages ?? 16384);
    if (options.attach !== undefined) {
      const buffer: unknown = options.attach.buffer;
      // (a browser page that is not cross-origin isolated has no SharedArrayBuffer at all)
      if (typeof SharedArrayBuffer === 'undefined' || !(buffer instanceof SharedArrayBuffer)) throw new VmError('only a shared memory can be attached to');
      this.memory = options.attach;
      this.expected = options.attachLayout;
      // Writes during the replay must not reach the shared bytes (other threads' maps live there): a private copy takes them.
      this.replayCopy = new Uint8Array(buffer.byteLength);
      this.replayCopy.set(new Uint8Array(buffer));
    } else {
      const initial = Math.min(this.maximumPages, Math.max(3, options.initialPages ?? 4));
      this.memory = new WebAssembly.Memory({ initial, maximum: this.maximumPages, shared: this.shared });
    }
    this.pageClasses.set(0, 'internal');
    this.pageClasses.set(PAGE_TABLE / WASM_PAGE, 'internal');
    // The first allocation, so an attaching space finds it at the same address.
    if (this.shared) this.topWord = this.allocate('allocator', 'internal', 8, { readable: false, writable: false }).start;
  }

  /** Whether this space is replaying another thread's layout (attached, before {@link endReplay}). */
  get replaying(): boolean {
    return this.replayCopy !== null;
  }

  /**
   * Whether several threads may use the memory now ({@link share} or
   * {@link endReplay} was called): maps then take their locks.
   */
  get concurrent(): boolean {
    return this.concurrentMode;
  }

  /**
   * Readies a shared space for other threads: they attach with
   * `{ attach: memory, maximumPages }` and replay the same allocations.
   * From now on every thread (this one included) takes fresh pages for
   * what it allocates, from a top kept in the memory, so no two threads
   * ever hand out the same bytes: what a thread allocates after this (its
   * stacks, contexts, compiled code's areas) is its own. Returns what an
   * attaching thread needs.
   */
  share(): SharedSpace {
    if (!this.shared) throw new VmError('the address space is not shared: load the collection with shared: true');
    if (this.replayCopy !== null) throw new VmError('an address space that is still replaying cannot be shared');
    if (!this.concurrentMode) {
      Atomics.store(this.i32, this.topWord >>> 2, this.top / WASM_PAGE);
      this.enterConcurrent();
    }
    return { memory: this.memory, maximumPages: this.maximumPages, layout: this.marked ?? this.layout };
  }

  /** The fingerprint of the allocations so far. */
  get layout(): SpaceLayout {
    return { allocations: this.allocations, hash: this.layoutHash };
  }

  /**
   * Records the layout as it is now (a collection once loaded): what a
   * thread attaching later must reproduce, whatever this thread allocates
   * in between.
   */
  markLayout(): void {
    this.marked = this.layout;
  }

  /**
   * Ends the replay of an attaching space: checks that it allocated exactly
   * what the original had when it was shared (else the layouts differ and
   * nothing may run), then moves every view to the shared memory.
   */
  endReplay(): void {
    if (this.replayCopy === null) return;
    this.replayCopy = null;
    this.views = null;
    const sharedTop = Atomics.load(this.i32, this.topWord >>> 2) * WASM_PAGE;
    const e = this.expected;
    if (sharedTop < this.top || sharedTop === 0 || (e !== undefined && (e.allocations !== this.allocations || e.hash !== this.layoutHash))) {
      throw new VmError(`the attached memory's layout differs from this thread's (${e ? `${e.allocations} regions there, ${this.allocations} here` : `it ends at 0x${sharedTop.toString(16)}, the replay at 0x${this.top.toString(16)}`}${e && e.allocations === this.allocations ? ', at other addresses' : ''}): attach to a space built from the same object with the same options`);
    }
    this.enterConcurrent();
  }

  private enterConcurrent(): void {
    // Chunks left from before hold bytes every thread thinks it may hand out: drop them.
    for (const chunk of Object.values(this.chunks)) {
      chunk.next = 0;
      chunk.end = 0;
    }
    this.concurrentMode = true;
  }

  /** An Int32Array over the whole memory, for `Atomics` (replaced when the memory grows). */
  get i32(): Int32Array {
    return (this.views ?? this.refresh()).i32;
  }

  /** Current size in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** A byte view of the whole memory (replaced when the memory grows). */
  get bytes(): Uint8Array {
    return (this.views ?? this.refresh()).bytes;
  }

  /** A DataView of the whole memory (replaced when the memory grows). */
  get data(): DataView {
    return (this.views ?? this.refresh()).data;
  }

  /** The buffer the current views are on (`memory.buffer` is slow to read, so engines compare against this). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return (this.views ?? this.refresh()).buffer;
  }

  /**
   * Rebuilds the views from `memory.buffer`. The views are cached because
   * reading `memory.buffer` costs more than most BPF instructions; growth
   * through {@link allocate} refreshes them. Call this after another thread
   * grew a shared memory.
   */
  refresh(): Views {
    const buffer = this.replayCopy !== null ? this.replayCopy.buffer : this.memory.buffer;
    this.views = { buffer, bytes: new Uint8Array(buffer), data: new DataView(buffer), i32: new Int32Array(buffer, 0, buffer.byteLength >>> 2) };
    return this.views;
  }

  /** Every region, sorted by start address. */
  get regions(): readonly Region[] {
    return this.sorted;
  }

  /** Counts allocations: it changes whenever {@link regions} does (engines that mirror the regions compare it). */
  get generation(): number {
    return this.allocations;
  }

  /** The protection class of the page holding `addr` (undefined for a page no class owns yet). */
  pageClass(addr: number): PageClass | undefined {
    return this.pageClasses.get(Math.floor(addr / WASM_PAGE));
  }

  /**
   * Whether every byte of `[addr, addr + size)` lies in pages that give
   * `rights` ({@link PageRights} bits): the guard helpers apply to program
   * pointers (a region check implies it).
   */
  allows(addr: number, size: number, rights: number): boolean {
    if (!Number.isInteger(addr) || addr < 0 || size < 0 || addr + size > 0x100000000) return false;
    if (size === 0) return true;
    const last = (addr + size - 1) >>> 16;
    for (let p = addr >>> 16; p <= last; p++) if ((this.pageRights[p]! & rights) !== rights) return false;
    return true;
  }

  /**
   * Reserves `size` bytes (zeroed) aligned to `align`, growing the memory
   * when needed, in pages of the class its rights give (programs may read
   * and write by default). Throws a {@link VmError} when the maximum size is
   * reached.
   */
  allocate(name: string, kind: RegionKind, size: number, access: { readable?: boolean; writable?: boolean; align?: number } = {}): Region {
    if (!Number.isInteger(size) || size < 0) throw new VmError(`cannot allocate ${size} bytes for ${name}`);
    const align = access.align ?? 8;
    if (!Number.isInteger(align) || align < 1 || align > WASM_PAGE) throw new VmError(`cannot align ${name} to ${align} bytes`);
    const readable = access.readable ?? true;
    const writable = access.writable ?? true;
    const cls = pageClassOf(readable, writable);
    const chunk = this.chunks[cls];
    let start = Math.ceil(chunk.next / align) * align;
    // Pages above the top were never handed out, so they still hold the zeros the memory was made or grown with.
    let fresh = false;
    if (chunk.end === 0 || start + size > chunk.end) {
      fresh = true;
      // Fresh pages from the top, the first PAGE_GAP bytes left unused (see PAGE_GAP).
      let run = this.top;
      let runEnd = 0;
      let end = 0;
      for (;;) {
        if (this.concurrentMode) run = Atomics.load(this.i32, this.topWord >>> 2) * WASM_PAGE;
        start = Math.ceil((run + PAGE_GAP) / align) * align;
        end = start + size;
        runEnd = Math.max(run + WASM_PAGE, Math.ceil(end / WASM_PAGE) * WASM_PAGE);
        if (runEnd + PAGE_GAP > this.maximumPages * WASM_PAGE) break; // ensure() says why
        // Several threads: the run is ours only if no other thread moved the top meanwhile.
        if (!this.concurrentMode || Atomics.compareExchange(this.i32, this.topWord >>> 2, run / WASM_PAGE, runEnd / WASM_PAGE) === run / WASM_PAGE) break;
      }
      this.ensure(runEnd + PAGE_GAP, name);
      this.top = Math.max(this.top, runEnd);
      this.claim(run, runEnd, cls);
      // Keep whichever chunk has more room left: the new run's tail or the old chunk.
      if (chunk.end === 0 || runEnd - end > chunk.end - chunk.next) {
        chunk.next = end;
        chunk.end = runEnd;
      }
    } else {
      chunk.next = start + size;
    }
    const region: Region = { name, kind, start, size, readable, writable };
    this.insert(region);
    this.allocations++;
    this.layoutHash = Math.imul(Math.imul(this.layoutHash ^ start, 0x9e3779b1) ^ size, 0x85ebca6b) >>> 0;
    // A replay keeps the original's bytes in its copy: what the original wrote there (a hash seed) can be read back.
    // Zeroing fresh pages would only commit memory a large map may never touch.
    if (this.replayCopy === null && !fresh) this.bytes.fill(0, start, start + size);
    return region;
  }

  /** Gives pages `[from, to)` to `cls` in both copies of the rights table. */
  private claim(from: number, to: number, cls: PageClass): void {
    const rights = CLASS_RIGHTS[cls];
    const bytes = this.bytes;
    for (let p = from / WASM_PAGE; p < to / WASM_PAGE; p++) {
      this.pageClasses.set(p, cls);
      this.pageRights[p] = rights;
      bytes[PAGE_TABLE + p] = rights;
    }
  }

  /** Inserts `region` keeping the list sorted by start (allocations of different classes interleave). */
  private insert(region: Region): void {
    const list = this.sorted;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.start <= region.start) lo = mid + 1;
      else hi = mid;
    }
    if (lo === list.length) list.push(region);
    else list.splice(lo, 0, region);
  }

  private ensure(end: number, name: string): void {
    if (this.replayCopy !== null) {
      // The original grew the memory for the same allocations; needing more means the layouts differ.
      if (end > this.replayCopy.length) throw new VmError(`${name} lies beyond the attached memory (0x${this.replayCopy.length.toString(16)} bytes): the layouts differ`);
      return;
    }
    const have = this.memory.buffer.byteLength;
    // Another thread may have grown a shared memory: views shorter than what we hand out must be renewed.
    if (end <= have) {
      if (this.views !== null && this.views.bytes.length < end) this.refresh();
      return;
    }
    if (Math.ceil(end / WASM_PAGE) > this.maximumPages) {
      throw new VmError(`out of memory: ${name} needs ${end - have} more bytes beyond the ${this.maximumPages * WASM_PAGE}-byte limit`);
    }
    // Another thread may grow it between the size read and grow(): read again until it is large enough.
    for (let now = have; now < end; now = this.memory.buffer.byteLength) {
      try {
        this.memory.grow(Math.ceil((end - now) / WASM_PAGE));
      } catch {
        // a concurrent grow took the last pages; what matters is whether ours fit
        if (this.memory.buffer.byteLength < end) throw new VmError(`out of memory: ${name} does not fit in the ${this.maximumPages * WASM_PAGE}-byte limit`);
      }
    }
    this.refresh();
  }

  /** The region that contains all of `[addr, addr + size)`, if any. */
  regionAt(addr: number, size = 1): Region | undefined {
    const list = this.sorted;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = list[mid]!;
      if (addr < r.start) hi = mid - 1;
      else if (addr >= r.start + r.size) lo = mid + 1;
      else return addr + size <= r.start + r.size ? r : undefined;
    }
    return undefined;
  }

  /** Copies `data` into the memory at `addr`. */
  write(addr: number, data: Uint8Array): void {
    this.bytes.set(data, addr);
  }

  /** A copy of `[addr, addr + size)`. */
  read(addr: number, size: number): Uint8Array {
    return this.bytes.slice(addr, addr + size);
  }

  /** Describes an address for error messages: `0x1234 (stack+16)` or `0x10 (unmapped)`. */
  describe(addr: number): string {
    const hex = '0x' + addr.toString(16);
    const r = this.regionAt(addr);
    if (r) return `${hex} (${r.name}+${addr - r.start})`;
    if (addr < GUARD_SIZE) return `${hex} (NULL guard page)`;
    if (addr >= PAGE_TABLE && addr < PAGE_TABLE + PAGE_TABLE_SIZE) return `${hex} (page table)`;
    return `${hex} (unmapped)`;
  }
}

/** Spins before a waiter sleeps: map critical sections last microseconds. */
const LOCK_SPINS = 200;

/**
 * Takes the mutex in the i32 word at `addr` of a shared memory (0: free,
 * 1: held, 2: held and someone may be waiting), the futex-style mutex of
 * Drepper's "Futexes Are Tricky": what serialises the writers of a map
 * across worker threads. Where the thread may not block
 * (`Atomics.wait` throws on a browser's main thread), it spins.
 */
export function lockWord(space: AddressSpace, addr: number): void {
  const i32 = space.i32;
  const i = addr >>> 2;
  let c = Atomics.compareExchange(i32, i, 0, 1);
  for (let n = 0; c !== 0 && n < LOCK_SPINS; n++) c = Atomics.compareExchange(i32, i, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(i32, i, 2);
  while (c !== 0) {
    try {
      Atomics.wait(i32, i, 2, 1);
    } catch {
      // no blocking here: spin
    }
    c = Atomics.exchange(i32, i, 2);
  }
}

/** Releases the mutex {@link lockWord} took, waking one waiter. */
export function unlockWord(space: AddressSpace, addr: number): void {
  const i32 = space.i32;
  const i = addr >>> 2;
  if (Atomics.sub(i32, i, 1) !== 1) {
    Atomics.store(i32, i, 0);
    Atomics.notify(i32, i, 1);
  }
}
