/**
 * The address space of a loaded collection: one `WebAssembly.Memory` that
 * every program, map, stack and packet lives in (DESIGN.md, "The address
 * space"). A BPF pointer is an offset into it. Regions record what each range
 * holds and whether programs may read or write it; checked-mode engines
 * consult them on every access.
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
  readable: boolean;
  /** Programs may store to it. */
  writable: boolean;
}

/** Options for a new address space. */
export interface AddressSpaceOptions {
  /** Back the memory by a SharedArrayBuffer so worker threads can share it. */
  shared?: boolean;
  /** Initial size in 64 KiB pages (default 4). */
  initialPages?: number;
  /** Largest size in pages (default 16384 = 1 GiB). */
  maximumPages?: number;
}

/** Bytes of one WebAssembly page. */
export const WASM_PAGE = 65536;
/**
 * Bytes at address 0 that are never allocated: a NULL pointer plus any
 * 16-bit instruction offset stays inside, so it can never reach data.
 */
export const GUARD_SIZE = WASM_PAGE;

/** One collection's memory with a bump allocator and a region table. */
export class AddressSpace {
  /** The memory shared by the engines, helpers and user-space map access. */
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private readonly maximumPages: number;
  private top = GUARD_SIZE;
  private sorted: Region[] = [];
  private views: { buffer: ArrayBuffer | SharedArrayBuffer; bytes: Uint8Array; data: DataView } | null = null;

  constructor(options: AddressSpaceOptions = {}) {
    this.shared = options.shared ?? false;
    this.maximumPages = options.maximumPages ?? 16384;
    const initial = Math.max(2, options.initialPages ?? 4);
    this.memory = new WebAssembly.Memory({ initial, maximum: this.maximumPages, shared: this.shared });
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
  refresh(): { buffer: ArrayBuffer | SharedArrayBuffer; bytes: Uint8Array; data: DataView } {
    const buffer = this.memory.buffer;
    this.views = { buffer, bytes: new Uint8Array(buffer), data: new DataView(buffer) };
    return this.views;
  }

  /** Every region, sorted by start address. */
  get regions(): readonly Region[] {
    return this.sorted;
  }

  /**
   * Reserves `size` bytes (zeroed) aligned to `align`, growing the memory
   * when needed. Throws a {@link VmError} when the maximum size is reached.
   */
  allocate(name: string, kind: RegionKind, size: number, access: { readable?: boolean; writable?: boolean; align?: number } = {}): Region {
    if (!Number.isInteger(size) || size < 0) throw new VmError(`cannot allocate ${size} bytes for ${name}`);
    const align = access.align ?? 8;
    const start = Math.ceil(this.top / align) * align;
    const end = start + size;
    this.ensure(end, name);
    this.top = end;
    const region: Region = {
      name, kind, start, size,
      readable: access.readable ?? true,
      writable: access.writable ?? true,
    };
    this.sorted.push(region);
    this.bytes.fill(0, start, end);
    return region;
  }

  private ensure(end: number, name: string): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / WASM_PAGE);
    const current = have / WASM_PAGE;
    if (current + pages > this.maximumPages) {
      throw new VmError(`out of memory: ${name} needs ${end - have} more bytes beyond the ${this.maximumPages * WASM_PAGE}-byte limit`);
    }
    this.memory.grow(pages);
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
    return `${hex} (unmapped)`;
  }
}
