/**
 * Capture files, read incrementally: pcap (both byte orders, microsecond
 * and nanosecond timestamps) and pcapng (section header, interface
 * description, enhanced, simple and obsolete packet blocks; several
 * sections and interfaces; either byte order). Bytes arrive in chunks of
 * any size, so a capture larger than memory streams through; packets come
 * out as soon as their record is complete. The code uses only ECMAScript
 * (it runs in a browser too); src/node/capture-files.ts feeds it from disk.
 *
 * A truncated or corrupt file gives a {@link CaptureError} naming the byte
 * offset and the index of the packet where it went wrong, after every
 * packet before it was delivered.
 *
 * A packet's `data` is a view of the chunk it came in (no copy per
 * packet); nothing ever writes to it, and keeping it keeps that chunk.
 */
import { TsbpfError } from '../errors.js';

/** One captured packet. */
export interface CapturedPacket {
  /** The bytes captured (at most the snap length). */
  data: Uint8Array;
  /** Length of the packet on the wire (`orig_len`). */
  origLen: number;
  /** Capture time: whole seconds since the epoch... */
  sec: number;
  /** ...and nanoseconds into that second (numbers, not one bigint: a reader or writer per packet stays cheap). */
  nsec: number;
  /** Interface index in the file (pcapng interface id; 0 for pcap). */
  iface: number;
  /** Link type of the interface (`LINKTYPE_*`). */
  linkType: number;
}

/** An interface of a capture: pcap has one, pcapng one per interface description block. */
export interface CaptureInterface {
  linkType: number;
  snapLen: number;
  /** `if_name` (pcapng), when the file has one. */
  name?: string;
  /** Timestamp units per second (pcapng `if_tsresol`; 10^6 by default, 10^9 for nanosecond pcap). */
  tsUnitsPerSecond: bigint;
}

/**
 * The bytes of a record libpcap hands out: a record longer than its
 * interface's snapshot length is cut to it (a snapshot length of 0 or above
 * 256 KiB counts as 256 KiB, as libpcap adjusts it).
 */
export function keptLength(caplen: number, snapLen: number): number {
  const snapshot = snapLen > 0 && snapLen <= MAX_RECORD ? snapLen : MAX_RECORD;
  return caplen > snapshot ? snapshot : caplen;
}

/** A packet's capture time in nanoseconds since the epoch. */
export function timestampNs(p: Pick<CapturedPacket, 'sec' | 'nsec'>): bigint {
  return BigInt(p.sec) * 1_000_000_000n + BigInt(p.nsec);
}

/** Splits a time in nanoseconds since the epoch into {@link CapturedPacket}'s seconds and nanoseconds. */
export function splitTimestampNs(ns: bigint): { sec: number; nsec: number } {
  const sec = ns / 1_000_000_000n;
  return { sec: Number(sec), nsec: Number(ns - sec * 1_000_000_000n) };
}

const TWO16 = 65536;

/**
 * A pcapng timestamp (`hi`:`lo` units of `1/units` s) as seconds and
 * nanoseconds. Decimal resolutions up to nanoseconds divide exactly in
 * doubles (16-bit long division keeps every step below 2^53); other
 * resolutions take bigints.
 */
function splitUnits(hi: number, lo: number, units: bigint): { sec: number; nsec: number } {
  const u = Number(units);
  if (u <= 1e9 && 1e9 % u === 0) {
    let rem = 0;
    let sec = 0;
    for (const limb of [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff]) {
      const cur = rem * TWO16 + limb;
      const q = Math.floor(cur / u);
      rem = cur - q * u;
      sec = sec * TWO16 + q;
    }
    if (sec <= Number.MAX_SAFE_INTEGER) return { sec, nsec: rem * (1e9 / u) };
  }
  const ts = (BigInt(hi) << 32n) | BigInt(lo);
  const sec = ts / units;
  return { sec: Number(sec), nsec: Number(((ts - sec * units) * 1_000_000_000n) / units) };
}

/** The format of a capture file. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** A capture that cannot be read further: what, at which byte and which packet. */
export class CaptureError extends TsbpfError {
  constructor(reason: string, readonly byteOffset: number, readonly packetIndex: number) {
    super(`${reason} at byte ${byteOffset} (packet ${packetIndex})`);
  }
}

/** `LINKTYPE_*` values tsbpf turns into Ethernet frames (see {@link toEthernet}). */
export const LinkType = {
  NULL: 0, ETHERNET: 1, RAW: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276,
} as const;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
/** Largest record tsbpf accepts (256 KiB, libpcap's MAXIMUM_SNAPLEN). */
export const MAX_RECORD = 262144;
/** Largest pcapng block (16 MiB, libpcap's limit). */
const MAX_BLOCK = 16 * 1024 * 1024;

/**
 * Reads a capture from chunks: `push` every chunk, then `end`. Each call
 * returns the packets completed by it.
 */
export class CaptureReader {
  /** pcap or pcapng, once the first bytes were seen. */
  format: CaptureFormat | undefined;
  /** The interfaces seen so far. */
  readonly interfaces: CaptureInterface[] = [];
  private buf = new Uint8Array(0);
  private dv = new DataView(this.buf.buffer);
  /** File offset of `buf[0]`. */
  private base = 0;
  private little = true;
  private nano = false;
  private packets = 0;

  /** Whether the file's fields are little-endian (pcap: from its magic; pcapng: the current section's). */
  get littleEndian(): boolean {
    return this.little;
  }

  /** pcap: whether timestamps are in nanoseconds (magic 0xa1b23c4d) rather than microseconds. */
  get nanosecond(): boolean {
    return this.nano;
  }

  /** The damage found, reported by {@link end} once the packets before it are out. */
  private damage: CaptureError | undefined;

  /**
   * Adds bytes; returns the packets they complete. Damage is not thrown
   * here: the packets before it come out first, and {@link end} reports it.
   */
  push(chunk: Uint8Array): CapturedPacket[] {
    const out: CapturedPacket[] = [];
    this.feed(chunk, (p) => out.push(p));
    return out;
  }

  /**
   * {@link push} without the array: `visit` hears each packet the bytes
   * complete, as soon as its record is parsed (a packet's objects then die
   * young, which is what keeps a long capture cheap). An error `visit`
   * throws leaves the reader unusable.
   */
  feed(chunk: Uint8Array, visit: (packet: CapturedPacket) => void): void {
    if (this.damage) return;
    if (chunk.length > 0) {
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf);
      joined.set(chunk, this.buf.length);
      this.buf = joined;
      this.dv = new DataView(joined.buffer);
    }
    let at = 0;
    try {
      for (;;) {
        const used = this.format === 'pcapng' ? this.block(at, visit) : this.record(at, visit);
        if (used === 0) break;
        at += used;
      }
    } catch (err) {
      if (!(err instanceof CaptureError)) throw err;
      this.damage = err;
    }
    this.buf = this.buf.slice(at);
    this.dv = new DataView(this.buf.buffer);
    this.base += at;
  }

  /** The end of the file: fails when the file was damaged, or a record or header was cut short. */
  end(): void {
    if (this.damage) throw this.damage;
    if (this.format === undefined) {
      if (this.buf.length === 0) throw new CaptureError('empty file: no capture header', 0, 0);
      throw new CaptureError(`truncated capture header (${this.buf.length} bytes)`, 0, 0);
    }
    if (this.buf.length > 0) {
      throw new CaptureError(`truncated ${this.format === 'pcap' ? 'packet record' : 'block'} (${this.buf.length} bytes left)`, this.base, this.packets);
    }
  }

  private fail(reason: string, at: number): never {
    throw new CaptureError(reason, this.base + at, this.packets);
  }

  private u16(at: number): number {
    return this.dv.getUint16(at, this.little);
  }

  private u32(at: number): number {
    return this.dv.getUint32(at, this.little);
  }

  /** pcap: the file header, or one packet record; returns the bytes used (0: need more). */
  private record(at: number, out: (packet: CapturedPacket) => void): number {
    const avail = this.buf.length - at;
    if (this.format === undefined) {
      if (avail < 4) return 0;
      const le = this.dv.getUint32(at, true);
      const be = this.dv.getUint32(at, false);
      if (le === PCAPNG_SHB) {
        this.format = 'pcapng';
        return this.block(at, out);
      }
      if (avail < 24) return 0;
      if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) this.little = true;
      else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) this.little = false;
      else this.fail(`not a pcap or pcapng file (magic 0x${be.toString(16).padStart(8, '0')})`, at);
      this.nano = (this.little ? le : be) === PCAP_MAGIC_NS;
      this.format = 'pcap';
      const major = this.u16(at + 4);
      if (major !== 2) this.fail(`unsupported pcap version ${major}.${this.u16(at + 6)}`, at + 4);
      const snapLen = this.u32(at + 16);
      // The high bits of the link type field carry FCS information (libpcap's LT_LINKTYPE keeps the low 26).
      const linkType = this.u32(at + 20) & 0x03ffffff;
      this.interfaces.push({ linkType, snapLen, tsUnitsPerSecond: this.nano ? 1_000_000_000n : 1_000_000n });
      return 24;
    }
    if (avail < 16) return 0;
    const caplen = this.u32(at + 8);
    const origLen = this.u32(at + 12);
    if (caplen > MAX_RECORD) this.fail(`packet record of ${caplen} bytes is larger than ${MAX_RECORD}`, at + 8);
    if (avail < 16 + caplen) return 0;
    const frac = this.u32(at + 4);
    const iface = this.interfaces[0]!;
    out({
      data: this.buf.subarray(at + 16, at + 16 + keptLength(caplen, iface.snapLen)), origLen, iface: 0, linkType: iface.linkType,
      sec: this.u32(at), nsec: this.nano ? frac : frac * 1000,
    });
    this.packets++;
    return 16 + caplen;
  }

  /** pcapng: one block; returns the bytes used (0: need more). */
  private block(at: number, out: (packet: CapturedPacket) => void): number {
    const avail = this.buf.length - at;
    if (avail < 12) return 0;
    if (this.dv.getUint32(at, true) === PCAPNG_SHB) {
      // A section header sets the byte order of everything up to the next one.
      if (this.dv.getUint32(at + 8, true) === PCAPNG_BOM) this.little = true;
      else if (this.dv.getUint32(at + 8, false) === PCAPNG_BOM) this.little = false;
      else this.fail('pcapng section header with an unknown byte-order magic', at + 8);
      this.interfaces.length = 0;
    }
    const type = this.u32(at);
    const len = this.u32(at + 4);
    if (len < 12 || len % 4 !== 0) this.fail(`pcapng block of type 0x${type.toString(16)} with invalid length ${len}`, at + 4);
    if (len > MAX_BLOCK) this.fail(`pcapng block of ${len} bytes is larger than ${MAX_BLOCK}`, at + 4);
    if (avail < len) return 0;
    if (this.u32(at + len - 4) !== len) this.fail(`pcapng block of type 0x${type.toString(16)}: trailing length ${this.u32(at + len - 4)} differs from ${len}`, at + len - 4);
    const body = at + 8;
    const bodyLen = len - 12;
    switch (type) {
      case PCAPNG_SHB: {
        if (bodyLen < 16) this.fail('pcapng section header block too short', at);
        const major = this.u16(body + 4);
        if (major !== 1) this.fail(`unsupported pcapng version ${major}.${this.u16(body + 6)}`, body + 4);
        break;
      }
      case 1: { // interface description block
        if (bodyLen < 8) this.fail('pcapng interface description block too short', at);
        const iface: CaptureInterface = { linkType: this.u16(body), snapLen: this.u32(body + 4), tsUnitsPerSecond: 1_000_000n };
        this.options(body + 8, bodyLen - 8, (code, o, n) => {
          if (code === 2) iface.name = new TextDecoder().decode(this.buf.subarray(o, o + n));
          if (code === 9 && n >= 1) {
            const r = this.buf[o]!;
            iface.tsUnitsPerSecond = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r & 0x7f);
          }
        });
        this.interfaces.push(iface);
        break;
      }
      case 6: case 2: { // enhanced packet block; obsolete packet block
        if (bodyLen < 20) this.fail('pcapng packet block too short', at);
        const ifaceId = type === 6 ? this.u32(body) : this.u16(body);
        const iface = this.interfaces[ifaceId];
        if (!iface) this.fail(`packet of interface ${ifaceId}, which no interface description block defines`, body);
        const caplen = this.u32(body + 12);
        const origLen = this.u32(body + 16);
        if (caplen > bodyLen - 20) this.fail(`packet of ${caplen} bytes does not fit its block`, body + 12);
        out({
          data: this.buf.subarray(body + 20, body + 20 + keptLength(caplen, iface.snapLen)), origLen, iface: ifaceId, linkType: iface.linkType,
          ...splitUnits(this.u32(body + 4), this.u32(body + 8), iface.tsUnitsPerSecond),
        });
        this.packets++;
        break;
      }
      case 3: { // simple packet block: interface 0, no timestamp
        const iface = this.interfaces[0];
        if (!iface) this.fail('simple packet block before any interface description block', at);
        if (bodyLen < 4) this.fail('pcapng simple packet block too short', at);
        const origLen = this.u32(body);
        const caplen = Math.min(origLen, bodyLen - 4, iface.snapLen || origLen);
        out({ data: this.buf.subarray(body + 4, body + 4 + caplen), origLen, iface: 0, linkType: iface.linkType, sec: 0, nsec: 0 });
        this.packets++;
        break;
      }
      default:
        break; // name resolution, statistics, decryption secrets, custom blocks: nothing to run
    }
    return len;
  }

  /** Walks pcapng options (code, offset of the value, length) until opt_endofopt. */
  private options(at: number, len: number, visit: (code: number, at: number, len: number) => void): void {
    const end = at + len;
    while (at + 4 <= end) {
      const code = this.u16(at);
      const n = this.u16(at + 2);
      if (code === 0) return;
      if (at + 4 + n > end) this.fail(`pcapng option ${code} overruns its block`, at);
      visit(code, at + 4, n);
      at += 4 + ((n + 3) & ~3);
    }
  }
}

/** ETH_P_IP, ETH_P_IPV6. */
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;

/**
 * The packet as an Ethernet frame, which is what XDP and tc programs parse:
 * Ethernet frames are returned as they are; raw IPv4/IPv6, BSD loopback and
 * Linux cooked captures (SLL, SLL2) get a 14-byte Ethernet header with the
 * packet's protocol, zero destination and the cooked header's source
 * address when it has one. Returns undefined for a link type or protocol
 * tsbpf cannot frame (the caller reports it).
 */
export function toEthernet(p: CapturedPacket): Uint8Array | undefined {
  const d = p.data;
  switch (p.linkType) {
    case LinkType.ETHERNET: return d;
    case LinkType.RAW: return framedByVersion(d);
    case LinkType.IPV4: return framed(ETH_P_IP, d);
    case LinkType.IPV6: return framed(ETH_P_IPV6, d);
    case LinkType.NULL: case LinkType.LOOP: return d.length >= 4 ? framedByVersion(d.subarray(4)) : undefined;
    case LinkType.LINUX_SLL: {
      if (d.length < 16) return undefined;
      const hatype = (d[2]! << 8) | d[3]!;
      const addrLen = (d[4]! << 8) | d[5]!;
      return framed((d[14]! << 8) | d[15]!, d.subarray(16), hatype === 1 && addrLen === 6 ? d.subarray(6, 12) : undefined);
    }
    case LinkType.LINUX_SLL2: {
      if (d.length < 20) return undefined;
      const hatype = (d[8]! << 8) | d[9]!;
      return framed((d[0]! << 8) | d[1]!, d.subarray(20), hatype === 1 && d[11] === 6 ? d.subarray(12, 18) : undefined);
    }
    default: return undefined;
  }
}

/** An Ethernet frame around `payload`: zero destination, `src` or zero source, EtherType `proto`. */
function framed(proto: number, payload: Uint8Array, src?: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  if (src) f.set(src.subarray(0, 6), 6);
  f[12] = proto >> 8;
  f[13] = proto & 0xff;
  f.set(payload, 14);
  return f;
}

/** A raw IP packet framed by its version nibble (undefined when it is neither 4 nor 6). */
function framedByVersion(payload: Uint8Array): Uint8Array | undefined {
  const v = payload.length > 0 ? payload[0]! >> 4 : 0;
  return v === 4 ? framed(ETH_P_IP, payload) : v === 6 ? framed(ETH_P_IPV6, payload) : undefined;
}
