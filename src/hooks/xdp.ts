/**
 * XDP as the kernel's BPF_PROG_TEST_RUN presents it (docs/hooks.md):
 * the frame sits behind 256 bytes of headroom in a 4 KiB buffer, and the
 * program gets a `struct xdp_md` whose `data`/`data_end`/`data_meta` hold
 * address-space offsets (DESIGN.md: contexts need no rewriting).
 */
import { PacketRefusedError, VmError } from '../errors.js';
import type { Machine } from '../vm/machine.js';
import type { Region } from '../vm/memory.js';

/** Headroom in front of the frame (XDP_PACKET_HEADROOM). */
export const XDP_HEADROOM = 256;
/** Size of the packet buffer. */
export const XDP_BUFFER_SIZE = 4096;
/** Largest frame that fits the linear buffer (4096 - headroom - skb_shared_info tailroom, as in Linux). */
export const XDP_MAX_FRAME = 3520;
/** `sizeof(struct xdp_frame)`, kept at the start of the buffer in Linux. */
export const XDP_FRAME_SIZE = 40;
/** `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))`, kept at the end of the buffer. */
export const XDP_TAILROOM = 320;
/** Size of `struct xdp_md`. */
export const XDP_MD_SIZE = 24;

/** Field offsets of `struct xdp_md`. */
export const XdpMd = {
  data: 0,
  data_end: 4,
  data_meta: 8,
  ingress_ifindex: 12,
  rx_queue_index: 16,
  egress_ifindex: 20,
} as const;

// XDP verdicts are Linux's vocabulary (isa/uapi.ts).
export { XdpAction } from '../isa/uapi.js';

/** An XDP context and packet buffer inside a machine's address space. */
export class XdpContext {
  readonly ctx: Region;
  readonly buffer: Region;
  /**
   * Where the part of the buffer a run may have written, [low, high), is
   * kept: two u32 words in the address space, so that a capture driver in
   * WebAssembly (hooks/xdp-capture-batch.ts) stages packets as this class
   * does. A verified program and the helpers write only between data_meta
   * and data_end, and those move only through {@link setPointers}, so
   * {@link load} clears just this part instead of the whole buffer (each
   * packet still starts from zeros, as the kernel's test run allocates a
   * fresh buffer).
   */
  readonly dirtyCell: number;

  /** `dirtyCell`: 8 bytes of the address space no program can reach (one region for many contexts); by default a region of its own. */
  constructor(private readonly machine: Machine, name = 'xdp', dirtyCell?: number) {
    const space = machine.space;
    this.buffer = space.allocate(`${name}.packet`, 'packet', XDP_BUFFER_SIZE, { align: 64 });
    this.ctx = space.allocate(`${name}.ctx`, 'ctx', XDP_MD_SIZE, { writable: false });
    this.dirtyCell = dirtyCell ?? space.allocate(`${name}.dirty`, 'internal', 8, { readable: false, writable: false }).start;
    this.setDirty(this.buffer.start, this.buffer.start + this.buffer.size);
  }

  private setDirty(low: number, high: number): void {
    const v = this.machine.space.data;
    v.setUint32(this.dirtyCell, low, true);
    v.setUint32(this.dirtyCell + 4, high, true);
  }

  /** After a run whose accesses were checked only against the regions: it may have written anywhere in the buffer. */
  assumeWritten(): void {
    this.setDirty(this.buffer.start, this.buffer.start + this.buffer.size);
  }

  /** Copies `frame` into the buffer and resets the context fields. */
  load(frame: Uint8Array, ingressIfindex = 1, rxQueueIndex = 0): void {
    const data = this.reset(frame.length, ingressIfindex, rxQueueIndex);
    this.machine.space.bytes.set(frame, data);
  }

  /**
   * {@link load} of a frame that is already in the address space, at
   * `from` (`length` bytes): a capture read into the memory is copied
   * within it, with no JavaScript copy of each packet.
   */
  loadFrom(from: number, length: number, ingressIfindex = 1, rxQueueIndex = 0): void {
    const data = this.reset(length, ingressIfindex, rxQueueIndex);
    this.machine.space.bytes.copyWithin(data, from, from + length);
  }

  /** Checks a frame's length, clears what the last run may have written and fills the context for `length` bytes; returns where the frame goes. */
  private reset(length: number, ingressIfindex: number, rxQueueIndex: number): number {
    if (length < 14) throw new PacketRefusedError(`XDP frame of ${length} bytes is shorter than an Ethernet header (14)`);
    if (length > XDP_MAX_FRAME) {
      throw new PacketRefusedError(`XDP frame of ${length} bytes is larger than the ${XDP_MAX_FRAME}-byte linear buffer`);
    }
    const space = this.machine.space;
    const data = this.buffer.start + XDP_HEADROOM;
    const view = space.data;
    space.bytes.fill(0, view.getUint32(this.dirtyCell, true), view.getUint32(this.dirtyCell + 4, true));
    view.setUint32(this.dirtyCell, data, true);
    view.setUint32(this.dirtyCell + 4, data + length, true);
    const c = this.ctx.start;
    view.setUint32(c + XdpMd.data, data, true);
    view.setUint32(c + XdpMd.data_end, data + length, true);
    view.setUint32(c + XdpMd.data_meta, data, true);
    view.setUint32(c + XdpMd.ingress_ifindex, ingressIfindex, true);
    view.setUint32(c + XdpMd.rx_queue_index, rxQueueIndex, true);
    view.setUint32(c + XdpMd.egress_ifindex, 0, true);
    return data;
  }

  /** Sets `ingress_ifindex` and `rx_queue_index`. */
  setIngress(ifindex: number, queue: number): void {
    const v = this.machine.space.data;
    v.setUint32(this.ctx.start + XdpMd.ingress_ifindex, ifindex, true);
    v.setUint32(this.ctx.start + XdpMd.rx_queue_index, queue, true);
  }

  /**
   * Current `data_meta`, `data` and `data_end`, which helpers trust only
   * inside the packet buffer (the context is read-only for programs; this
   * is the second line of defence): anything else is a VmError.
   */
  pointers(): { meta: number; data: number; end: number } {
    const v = this.machine.space.data;
    const c = this.ctx.start;
    const p = { meta: v.getUint32(c + XdpMd.data_meta, true), data: v.getUint32(c + XdpMd.data, true), end: v.getUint32(c + XdpMd.data_end, true) };
    if (p.meta < this.buffer.start || p.meta > p.data || p.data > p.end || p.end > this.buffer.start + this.buffer.size) {
      throw new VmError(`xdp_md data_meta 0x${p.meta.toString(16)} / data 0x${p.data.toString(16)} / data_end 0x${p.end.toString(16)} are outside the packet buffer of ${this.ctx.name} (the context was overwritten)`);
    }
    return p;
  }

  /**
   * Where `data_out` starts (`data_meta`) or, with `end`, ends
   * (`data_end`), checked as {@link pointers} checks them, without an
   * object per call.
   */
  outRange(end: boolean): number {
    const v = this.machine.space.data;
    const c = this.ctx.start;
    const meta = v.getUint32(c + XdpMd.data_meta, true);
    const data = v.getUint32(c + XdpMd.data, true);
    const last = v.getUint32(c + XdpMd.data_end, true);
    if (meta < this.buffer.start || meta > data || data > last || last > this.buffer.start + this.buffer.size) this.pointers(); // throws the context's error
    return end ? last : meta;
  }

  /** Sets `data_meta`, `data` and `data_end` (after an adjust helper). */
  setPointers(p: { meta: number; data: number; end: number }): void {
    const v = this.machine.space.data;
    const c = this.ctx.start;
    v.setUint32(c + XdpMd.data_meta, p.meta, true);
    v.setUint32(c + XdpMd.data, p.data, true);
    v.setUint32(c + XdpMd.data_end, p.end, true);
    if (p.meta < v.getUint32(this.dirtyCell, true)) v.setUint32(this.dirtyCell, p.meta, true);
    if (p.end > v.getUint32(this.dirtyCell + 4, true)) v.setUint32(this.dirtyCell + 4, p.end, true);
  }

  /** Lowest address `data_meta` may reach: the buffer start plus Linux's `struct xdp_frame` (40 bytes). */
  get frameEnd(): number {
    return this.buffer.start + XDP_FRAME_SIZE;
  }

  /** Highest address `data_end` may reach: the buffer end minus Linux's `skb_shared_info` tailroom (320 bytes). */
  get hardEnd(): number {
    return this.buffer.start + XDP_BUFFER_SIZE - XDP_TAILROOM;
  }

  /** The bytes from `data_meta` to `data_end`: what BPF_PROG_TEST_RUN returns as `data_out`. */
  dataOut(): Uint8Array {
    return this.packet().slice();
  }

  /** {@link dataOut} as a view of the machine's memory, valid until the next load (no copy). */
  packet(): Uint8Array {
    const v = this.machine.space.data;
    const c = this.ctx.start;
    const meta = v.getUint32(c + XdpMd.data_meta, true);
    const data = v.getUint32(c + XdpMd.data, true);
    const end = v.getUint32(c + XdpMd.data_end, true);
    if (meta < this.buffer.start || meta > data || data > end || end > this.buffer.start + this.buffer.size) this.pointers(); // throws the context's error
    return this.machine.space.bytes.subarray(meta, end);
  }
}
