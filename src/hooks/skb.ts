/**
 * `struct __sk_buff` programs (tc `sched_cls`/`sched_act`, socket filters,
 * cgroup_skb, lwt) as the kernel's BPF_PROG_TEST_RUN presents them
 * (docs/hooks.md): tc programs see the frame from the Ethernet header
 * on, the others from the network header on (the 14-byte MAC header is
 * pulled, and pushed back as zeros in `data_out`).
 */
import { TsbpfError, VmError } from '../errors.js';
import type { Machine } from '../vm/machine.js';
import type { Region } from '../vm/memory.js';

/** Size of `struct __sk_buff`. */
export const SK_BUFF_SIZE = 192;
/** Ethernet header length. */
export const ETH_HLEN = 14;
/** Room in front of the frame for `bpf_skb_change_head`/`adjust_room`. */
export const SKB_HEADROOM = 256;
/** Largest frame the buffer holds (data plus growth by `change_tail`). */
export const SKB_MAX_FRAME = 65535;

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

/** Packet types (`pkt_type`). */
export const PacketType = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3 } as const;

/** Options of {@link SkbContext.load}. */
export interface SkbLoadOptions {
  /** An initial `struct __sk_buff` (BPF_PROG_TEST_RUN's ctx_in). */
  ctxIn?: Uint8Array;
  /** Interface index (default 1, the loopback of the test-run namespace). */
  ifindex?: number;
}

/** A socket buffer and its `__sk_buff` inside a machine's address space. */
export class SkbContext {
  readonly ctx: Region;
  readonly buffer: Region;
  /** Where the MAC header of the current frame starts. */
  macHeader = 0;

  /**
   * @param l2 true when the program sees the Ethernet header (tc); false when
   *   `data` starts at the network header (socket filters, cgroup_skb, lwt).
   */
  constructor(private readonly machine: Machine, readonly l2: boolean, name = 'skb') {
    const space = machine.space;
    this.buffer = space.allocate(`${name}.packet`, 'packet', SKB_HEADROOM + SKB_MAX_FRAME + 64, { align: 64 });
    this.ctx = space.allocate(`${name}.ctx`, 'ctx', SK_BUFF_SIZE);
  }

  /** Copies `frame` (an Ethernet frame) in and fills the context like the kernel's test run. */
  load(frame: Uint8Array, options: SkbLoadOptions = {}): void {
    if (frame.length < ETH_HLEN) throw new TsbpfError(`frame of ${frame.length} bytes is shorter than an Ethernet header (14)`);
    if (frame.length > SKB_MAX_FRAME) throw new TsbpfError(`frame of ${frame.length} bytes is larger than ${SKB_MAX_FRAME}`);
    // Linux gives the test-run skb a socket for IPv4/IPv6 and first pulls the whole IP header.
    const etherType = (frame[12]! << 8) | frame[13]!;
    const ipHeader = etherType === 0x0800 ? 20 : etherType === 0x86dd ? 40 : 0;
    if (frame.length - ETH_HLEN < ipHeader) {
      throw new TsbpfError(`frame of ${frame.length} bytes is too short for its ${ipHeader === 20 ? 'IPv4' : 'IPv6'} header (EINVAL)`);
    }
    const space = this.machine.space;
    space.bytes.fill(0, this.buffer.start, this.buffer.start + this.buffer.size);
    space.bytes.fill(0, this.ctx.start, this.ctx.start + this.ctx.size);
    this.macHeader = this.buffer.start + SKB_HEADROOM;
    space.write(this.macHeader, frame);
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

  /** Moves `data`/`data_end` (after a helper changed the packet) and keeps `len` and `data_meta` in step. */
  setBounds(data: number, end: number): void {
    const v = this.machine.space.data;
    const c = this.ctx.start;
    v.setUint32(c + SkBuff.data, data, true);
    v.setUint32(c + SkBuff.data_end, end, true);
    v.setUint32(c + SkBuff.data_meta, data, true);
    v.setUint32(c + SkBuff.len, end - data, true);
    this.macHeader = this.l2 ? data : data - ETH_HLEN;
  }

  /**
   * The packet after a run as BPF_PROG_TEST_RUN returns it: the whole frame
   * for L2 programs, 14 zero bytes plus the bytes from the network header on
   * for the others.
   */
  dataOut(): Uint8Array {
    const { data, end } = this.bounds();
    const bytes = this.machine.space.read(data, Math.max(0, end - data));
    if (this.l2) return bytes;
    const out = new Uint8Array(ETH_HLEN + bytes.length);
    out.set(bytes, ETH_HLEN);
    return out;
  }

  /** The context after a run (BPF_PROG_TEST_RUN's ctx_out). */
  ctxOut(): Uint8Array {
    return this.machine.space.read(this.ctx.start, SK_BUFF_SIZE);
  }
}
