/**
 * `struct __sk_buff` programs (tc `sched_cls`/`sched_act`, socket filters,
 * cgroup_skb, lwt) as the kernel's BPF_PROG_TEST_RUN presents them
 * (docs/hooks.md): tc programs see the frame from the Ethernet header
 * on, the others from the network header on (the 14-byte MAC header is
 * pulled, and pushed back as zeros in `data_out`).
 */
import { PacketRefusedError, TsbpfError, VmError } from '../errors.js';
import type { Machine } from '../vm/machine.js';
import type { Region } from '../vm/memory.js';
import { SKB_CTX_BYTES, SkbWords } from '../vm/legacy-load.js';

/** Size of `struct __sk_buff`. */
export const SK_BUFF_SIZE = 192;

/** Ethernet header length. */
export const ETH_HLEN = 14;
/**
 * Room in front of the frame for `bpf_skb_change_head`, `_adjust_room`,
 * `_change_proto` and `_vlan_push`: as much as they may add (a packet
 * stays within {@link BPF_SKB_MAX_LEN}), plus a margin; where the kernel
 * would reallocate the head, tsbpf already has the room.
 */
export const SKB_HEADROOM = 16384 + 256;
/** Largest frame the buffer holds (data plus growth by `change_tail`). */
export const SKB_MAX_FRAME = 65535;
/**
 * `BPF_SKB_MAX_LEN` (`SKB_MAX_ALLOC`: 16 KiB minus the 320-byte
 * `skb_shared_info`): the longest packet `bpf_skb_change_tail`,
 * `bpf_skb_change_head` and `bpf_skb_adjust_room` may make.
 */
export const BPF_SKB_MAX_LEN = 16064;

/** Field offsets of `struct __sk_buff`. */
export const SkBuff = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24,
  vlan_proto: 28, priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68,
  tc_classid: 72, data: 76, data_end: 80, napi_id: 84, family: 88, remote_ip4: 92, local_ip4: 96,
  remote_ip6: 100, local_ip6: 116, remote_port: 132, local_port: 136, data_meta: 140,
  flow_keys: 144, tstamp: 152, wire_len: 160, gso_segs: 164, sk: 168, gso_size: 176,
  tstamp_type: 180, hwtstamp: 184,
} as const;

/** Fields a test run's `ctx_in` may set (all others must be zero, as Linux's `convert___skb_to_skb` demands). */
const CTX_IN_FIELDS: readonly [number, number][] = [
  [SkBuff.mark, 4], [SkBuff.priority, 4], [SkBuff.ingress_ifindex, 4], [SkBuff.ifindex, 4],
  [SkBuff.cb, 20], [SkBuff.tstamp, 8], [SkBuff.wire_len, 4], [SkBuff.gso_segs, 4], [SkBuff.gso_size, 4],
  [SkBuff.hwtstamp, 8],
];

/**
 * A socket buffer's tunnel metadata (`struct ip_tunnel_info`): what a
 * collect-metadata tunnel device attaches to a received packet (give it in
 * a test run's input) or what `bpf_skb_set_tunnel_key` attaches for
 * transmission.
 */
export interface TunnelInfo {
  /** `IP_TUNNEL_INFO_TX` (set by `bpf_skb_set_tunnel_key`) or received. */
  mode: 'rx' | 'tx';
  /** 4 or 6. */
  family: 4 | 6;
  /** The tunnel key (VNI, GRE key, ...), 64 bits in the kernel. */
  id: bigint;
  /** Outer source and destination addresses (4 or 16 bytes, network order). */
  src: Uint8Array;
  dst: Uint8Array;
  tos: number;
  ttl: number;
  /** IPv6 flow label. */
  label: number;
  /** `TUNNEL_*` flag bits (IP_TUNNEL_*_BIT numbering: bit 0 CSUM, 2 KEY, 3 SEQ, 8 DONT_FRAGMENT, 13 NOCACHE, ...). */
  flags: number;
  /** Tunnel options (`bpf_skb_set_tunnel_opt`). */
  options?: Uint8Array;
}

/** Packet types (`pkt_type`). */
export const PacketType = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3 } as const;

/** Options of {@link SkbContext.load}. */
export interface SkbLoadOptions {
  /** An initial `struct __sk_buff` (BPF_PROG_TEST_RUN's ctx_in). */
  ctxIn?: Uint8Array;
  /** Interface index (default 1, the loopback of the test-run namespace). */
  ifindex?: number;
  /** Tunnel metadata the packet arrived with (`bpf_skb_get_tunnel_key` reads it). */
  tunnel?: TunnelInfo;
}

/** A socket buffer and its `__sk_buff` inside a machine's address space. */
export class SkbContext {
  readonly ctx: Region;
  readonly buffer: Region;
  /**
   * Where the MAC header of the current frame starts (`skb_mac_header`).
   * The helpers trust this field; the copy after the `__sk_buff` (SkbWords)
   * is only what the engines' legacy loads read, whose addresses are
   * checked like any access, so a checked program that overwrites it
   * misleads only its own loads.
   */
  get macHeader(): number {
    return this.mac;
  }

  set macHeader(at: number) {
    this.mac = at;
    this.machine.space.data.setUint32(this.ctx.start + SkbWords.macHeader, at, true);
  }

  /** Where the network header starts (`skb_network_header`; mirrored as {@link macHeader} is). */
  get networkHeader(): number {
    return this.network;
  }

  set networkHeader(at: number) {
    this.network = at;
    this.machine.space.data.setUint32(this.ctx.start + SkbWords.networkHeader, at, true);
  }

  private mac = 0;
  private network = 0;

  /** `skb->l4_hash || skb->sw_hash`: the hash in `__sk_buff.hash` is valid, `bpf_get_hash_recalc` returns it. */
  hashValid = false;
  /** `skb->encapsulation` (set by an encapsulating `bpf_skb_adjust_room`). */
  encapsulation = false;
  /** The tunnel metadata (`skb_tunnel_info`), or null. */
  tunnel: TunnelInfo | null = null;
  /** The socket's cookie once generated (the kernel generates it on first use; each run has a fresh socket). */
  socketCookie = 0n;

  /**
   * @param l2 true when the program sees the Ethernet header (tc); false when
   *   `data` starts at the network header (socket filters, cgroup_skb, lwt).
   */
  constructor(private readonly machine: Machine, readonly l2: boolean, name = 'skb') {
    const space = machine.space;
    this.buffer = space.allocate(`${name}.packet`, 'packet', SKB_HEADROOM + SKB_MAX_FRAME + 64, { align: 64 });
    this.ctx = space.allocate(`${name}.ctx`, 'ctx', SKB_CTX_BYTES);
    this.dirtyLow = this.buffer.start;
    this.dirtyHigh = this.buffer.start + this.buffer.size;
  }

  /**
   * The part of the buffer a run may have written, [low, high): verified
   * programs and the helpers write only between data and data_end (the
   * MAC header included), which move only through {@link setBounds}, so
   * {@link load} clears this part instead of the 80 KiB buffer.
   */
  private dirtyLow: number;
  private dirtyHigh: number;

  /** After a run whose accesses were checked only against the regions: it may have written anywhere in the buffer. */
  assumeWritten(): void {
    this.dirtyLow = this.buffer.start;
    this.dirtyHigh = this.buffer.start + this.buffer.size;
  }

  /** Copies `frame` (an Ethernet frame) in and fills the context like the kernel's test run. */
  load(frame: Uint8Array, options: SkbLoadOptions = {}): void {
    if (frame.length < ETH_HLEN) throw new PacketRefusedError(`frame of ${frame.length} bytes is shorter than an Ethernet header (14)`);
    if (frame.length > SKB_MAX_FRAME) throw new PacketRefusedError(`frame of ${frame.length} bytes is larger than ${SKB_MAX_FRAME}`);
    // Linux gives the test-run skb a socket for IPv4/IPv6 and first pulls the whole IP header.
    const etherType = (frame[12]! << 8) | frame[13]!;
    const ipHeader = etherType === 0x0800 ? 20 : etherType === 0x86dd ? 40 : 0;
    if (frame.length - ETH_HLEN < ipHeader) {
      throw new PacketRefusedError(`frame of ${frame.length} bytes is too short for its ${ipHeader === 20 ? 'IPv4' : 'IPv6'} header (EINVAL)`);
    }
    const space = this.machine.space;
    space.bytes.fill(0, this.dirtyLow, this.dirtyHigh);
    space.bytes.fill(0, this.ctx.start, this.ctx.start + this.ctx.size);
    this.macHeader = this.buffer.start + SKB_HEADROOM;
    space.data.setUint32(this.ctx.start + SkbWords.head, this.buffer.start, true);
    this.dirtyLow = this.macHeader;
    this.dirtyHigh = this.macHeader + frame.length;
    this.networkHeader = this.macHeader + ETH_HLEN;
    this.hashValid = false;
    this.encapsulation = false;
    this.tunnel = options.tunnel ?? null;
    this.socketCookie = 0n;
    space.bytes.set(frame, this.macHeader);
    const v = space.data;
    const c = this.ctx.start;
    if (options.ctxIn) this.applyCtxIn(options.ctxIn);
    const data = this.l2 ? this.macHeader : this.macHeader + ETH_HLEN;
    v.setUint32(c + SkBuff.data, data, true);
    v.setUint32(c + SkBuff.data_end, this.macHeader + frame.length, true);
    v.setUint32(c + SkBuff.data_meta, data, true);
    v.setUint32(c + SkBuff.len, this.macHeader + frame.length - data, true);
    // eth_type_trans(): protocol from the EtherType (VLAN tags stay in the frame), pkt_type from the destination.
    v.setUint32(c + SkBuff.protocol, v.getUint16(this.macHeader + 12, true), true);
    // The test run's device is lo: its own address and its broadcast address are both all zero.
    const toLo = frame.subarray(0, 6).every((b) => b === 0);
    const multicast = (frame[0]! & 1) === 1;
    v.setUint32(c + SkBuff.pkt_type, toLo ? PacketType.HOST : multicast ? PacketType.MULTICAST : PacketType.OTHERHOST, true);
    if (!options.ctxIn || v.getUint32(c + SkBuff.ifindex, true) === 0) v.setUint32(c + SkBuff.ifindex, options.ifindex ?? 1, true);
  }

  private applyCtxIn(ctxIn: Uint8Array): void {
    if (ctxIn.length > SK_BUFF_SIZE) throw new TsbpfError(`ctx_in of ${ctxIn.length} bytes is larger than struct __sk_buff (${SK_BUFF_SIZE})`);
    const padded = new Uint8Array(SK_BUFF_SIZE);
    padded.set(ctxIn);
    const allowed = new Uint8Array(SK_BUFF_SIZE);
    for (const [off, size] of CTX_IN_FIELDS) allowed.fill(1, off, off + size);
    for (let i = 0; i < SK_BUFF_SIZE; i++) {
      if (padded[i] !== 0 && allowed[i] === 0) {
        throw new TsbpfError(`ctx_in sets byte ${i} of struct __sk_buff, which a test run does not accept (EINVAL)`, { offset: i });
      }
    }
    this.machine.space.write(this.ctx.start, padded);
  }

  /**
   * Current `data` and `data_end`. They live in the context, which programs
   * may write (other fields of it): helpers and `dataOut` trust them only
   * inside the packet buffer, so anything else is a VmError rather than a
   * copy to or from memory the packet does not own.
   */
  bounds(): { data: number; end: number } {
    const v = this.machine.space.data;
    const data = v.getUint32(this.ctx.start + SkBuff.data, true);
    const end = v.getUint32(this.ctx.start + SkBuff.data_end, true);
    if (data < this.buffer.start || data > end || end > this.buffer.start + this.buffer.size) {
      throw new VmError(`__sk_buff data 0x${data.toString(16)} / data_end 0x${end.toString(16)} are outside the packet buffer of ${this.ctx.name} (the context was overwritten)`);
    }
    return { data, end };
  }

  /**
   * Moves `data`/`data_end` (after a helper changed the packet) and keeps
   * `len` and `data_meta` in step. The MAC and network headers stay where
   * they are: the helper that moves them sets them.
   */
  setBounds(data: number, end: number): void {
    const v = this.machine.space.data;
    const c = this.ctx.start;
    v.setUint32(c + SkBuff.data, data, true);
    v.setUint32(c + SkBuff.data_end, end, true);
    v.setUint32(c + SkBuff.data_meta, data, true);
    v.setUint32(c + SkBuff.len, end - data, true);
    if (data < this.dirtyLow) this.dirtyLow = data;
    if (end > this.dirtyHigh) this.dirtyHigh = end;
  }

  /** Reads a u32 field of the `__sk_buff` (`SkBuff.protocol`, ...). */
  field(offset: number): number {
    return this.machine.space.data.getUint32(this.ctx.start + offset, true);
  }

  /** Writes a u32 field of the `__sk_buff`. */
  setField(offset: number, value: number): void {
    this.machine.space.data.setUint32(this.ctx.start + offset, value >>> 0, true);
  }

  /** `skb->protocol` in host order (0x0800 for IPv4). */
  get protocol(): number {
    const raw = this.field(SkBuff.protocol) & 0xffff;
    return ((raw & 0xff) << 8) | (raw >> 8);
  }

  set protocol(p: number) {
    this.setField(SkBuff.protocol, ((p & 0xff) << 8) | ((p >> 8) & 0xff));
  }

  /** `skb_is_gso`: a test run's skb is GSO when its `ctx_in` set `gso_size`. */
  get gso(): boolean {
    return this.field(SkBuff.gso_size) !== 0;
  }

  /** `skb_clear_hash`. */
  clearHash(): void {
    this.hashValid = false;
    this.setField(SkBuff.hash, 0);
  }

  /**
   * The packet after a run as BPF_PROG_TEST_RUN returns it: the whole frame
   * for L2 programs, 14 zero bytes plus the bytes from the network header on
   * for the others.
   */
  dataOut(): Uint8Array {
    const bytes = this.packet();
    if (this.l2) return bytes.slice();
    const out = new Uint8Array(ETH_HLEN + bytes.length);
    out.set(bytes, ETH_HLEN);
    return out;
  }

  /** The bytes from `data` to `data_end` after a run: a view of the machine's memory, valid until the next load. */
  packet(): Uint8Array {
    const { data, end } = this.bounds();
    return this.machine.space.bytes.subarray(data, end);
  }

  /** The context after a run (BPF_PROG_TEST_RUN's ctx_out). */
  ctxOut(): Uint8Array {
    return this.machine.space.read(this.ctx.start, SK_BUFF_SIZE);
  }
}
