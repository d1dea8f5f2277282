/**
 * Dynamic pointers at run time: the dynptr helpers (`bpf_dynptr_from_mem`,
 * `bpf_ringbuf_reserve/submit/discard_dynptr`, `bpf_dynptr_read/write/data`)
 * and kfuncs (`bpf_dynptr_from_skb/xdp`, `slice`, `adjust`, `is_null`,
 * `is_rdonly`, `size`, `clone`), as kernel/bpf/helpers.c does them. A
 * dynptr is 16 bytes of the program's stack, laid out as the kernel's
 * `struct bpf_dynptr_kern`: the memory's address (for a packet dynptr, its
 * context's), then the size with the type in bits 28-30 and read-only in
 * bit 31, then the offset into the memory. The verifier keeps programs from
 * reading or forging those bytes.
 */
import type { Helper, HelperCall } from '../helper-call.js';
import { helperIdentity } from '../helper-call.js';
import { VmError } from '../../errors.js';
import { DynptrType } from '../../isa/uapi.js';
import { ringArg, ringHolding } from './map-helpers.js';
import { runtimeKfuncIdentity } from './kfuncs.js';

const EINVAL = -22;
const E2BIG = -7;
const EFAULT = -14;
const ERANGE = -34;

/** DYNPTR_MAX_SIZE: sizes are 24 bits. */
const MAX_SIZE = 0xffffff;
const TYPE_SHIFT = 28;
const RDONLY_BIT = 0x80000000;

/**
 * Where a packet dynptr's bytes are now: the hooks that give programs
 * packets answer for their contexts (the packet may have moved since the
 * dynptr was made).
 */
export interface PacketDynptrSource {
  /** The packet of the context at `ctx` (`type` SKB or XDP): its first byte and length, or undefined. */
  packet(type: number, ctx: number): { data: number; len: number } | undefined;
  /** Whether a program of this context may change the packet (skb dynptrs of read-only types are read-only). */
  writable(type: number, ctx: number): boolean;
}

interface Dynptr {
  /** Address of the dynptr's 16 bytes. */
  at: number;
  data: number;
  size: number;
  type: number;
  rdonly: boolean;
  offset: number;
}

function read(c: HelperCall, n: number): Dynptr {
  const at = c.ptr(n, 16);
  const d = c.space.data;
  const word = d.getUint32(at + 8, true);
  return {
    at, data: d.getUint32(at + 4, true) * 4294967296 + d.getUint32(at, true), size: word & MAX_SIZE,
    type: (word >>> TYPE_SHIFT) & 7, rdonly: (word & RDONLY_BIT) !== 0, offset: d.getUint32(at + 12, true),
  };
}

function init(c: HelperCall, at: number, data: number, type: number, size: number, rdonly = false): void {
  const d = c.space.data;
  d.setBigUint64(at, BigInt(data), true);
  d.setUint32(at + 8, (size | (type << TYPE_SHIFT) | (rdonly ? RDONLY_BIT : 0)) >>> 0, true);
  d.setUint32(at + 12, 0, true);
}

/** bpf_dynptr_set_null. */
function setNull(c: HelperCall, at: number): void {
  c.space.bytes.fill(0, at, at + 16);
}

/** bpf_dynptr_check_off_len. */
function offLenOk(p: Dynptr, offset: number, len: number): boolean {
  return offset <= p.size && len <= p.size - offset;
}

/** The address of the dynptr's byte `offset` for `len` bytes, or an errno. */
function bytesAt(p: Dynptr, offset: number, len: number, packets: PacketDynptrSource | undefined): number {
  if (p.type === DynptrType.LOCAL || p.type === DynptrType.RINGBUF) return p.data + p.offset + offset;
  const pkt = packets?.packet(p.type, p.data);
  if (!pkt) return EINVAL;
  // the packet may have shrunk since: the kernel's skb/xdp copies fail then
  if (p.offset + offset + len > pkt.len) return EFAULT;
  return pkt.data + p.offset + offset;
}

/**
 * The address of the dynptr's `len` bytes at `offset` (within the dynptr)
 * for `bpf_dynptr_read` or `_write`, or the packet's own errno. The address
 * space must let the program access them: the verifier keeps dynptrs from
 * being forged, and this keeps a program run without it (or a verifier
 * bug) inside program memory.
 */
function reach(c: HelperCall, name: string, p: Dynptr, offset: number, len: number, write: boolean, packets: PacketDynptrSource | undefined): number {
  const addr = bytesAt(p, offset, len, packets);
  if (addr < 0 || len === 0) return addr;
  const region = c.space.regionAt(addr, len);
  if (region === undefined || (write ? !region.writable : !region.readable)) {
    throw new VmError(`${name}: the dynptr's memory ${c.space.describe(addr)} is not a ${write ? 'writable' : 'readable'} region of ${len} bytes`, { insn: c.pc });
  }
  return addr;
}

function commit(c: HelperCall, discard: boolean): void {
  const p = read(c, 1);
  if (p.data === 0) return c.ret(0);
  ringHolding(c, p.data)?.commit(p.data, discard);
  setNull(c, p.at);
  c.ret(0);
}

/**
 * The dynptr helpers and kfuncs; with `packets`, packet dynptrs too (the
 * hooks of XDP and socket-buffer programs pass theirs).
 */
export function dynptrHelpers(packets?: PacketDynptrSource): Helper[] {
  const fromPacket = (type: number) => (c: HelperCall): void => {
    const at = c.ptr(3, 16, true);
    const pkt = packets?.packet(type, c.num(1));
    if (c.u64(2) !== 0n || !pkt) {
      setNull(c, at);
      return c.ret(EINVAL);
    }
    init(c, at, c.num(1), type, Math.min(pkt.len, MAX_SIZE), !packets!.writable(type, c.num(1)));
    c.ret(0);
  };
  const slice = (c: HelperCall): void => {
    const p = read(c, 1);
    const offset = c.u32(2);
    const len = c.u32(4);
    if (p.data === 0 || !offLenOk(p, offset, len)) return c.ret(0);
    const addr = bytesAt(p, offset, len, packets);
    c.ret(addr < 0 ? 0 : addr);
  };
  return [
    {
      ...helperIdentity('bpf_dynptr_from_mem'), fn: (c) => {
        const size = c.u32(2);
        const at = c.ptr(4, 16, true);
        if (c.u64(3) !== 0n || size > MAX_SIZE) {
          setNull(c, at);
          return c.ret(c.u64(3) !== 0n ? EINVAL : E2BIG);
        }
        init(c, at, c.num(1), DynptrType.LOCAL, size);
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_ringbuf_reserve_dynptr'), fn: (c) => {
        const at = c.ptr(4, 16, true);
        const size = c.u32(2);
        const map = ringArg(c, 1, 'bpf_ringbuf_reserve_dynptr', 'bpf_ringbuf_reserve_dynptr#198');
        if (c.u64(3) !== 0n || size > MAX_SIZE) {
          setNull(c, at);
          return c.ret(c.u64(3) !== 0n ? EINVAL : E2BIG);
        }
        const sample = map.reserve(size);
        if (!sample) {
          setNull(c, at);
          return c.ret(EINVAL);
        }
        init(c, at, sample, DynptrType.RINGBUF, size);
        c.ret(0);
      },
    },
    { ...helperIdentity('bpf_ringbuf_submit_dynptr'), fn: (c) => commit(c, false) },
    { ...helperIdentity('bpf_ringbuf_discard_dynptr'), fn: (c) => commit(c, true) },
    {
      ...helperIdentity('bpf_dynptr_read'), fn: (c) => {
        const len = c.u32(2);
        const dst = c.ptr(1, len, true);
        const p = read(c, 3);
        const offset = c.u32(4);
        if (p.data === 0 || c.u64(5) !== 0n) return c.ret(EINVAL);
        if (!offLenOk(p, offset, len)) return c.ret(E2BIG);
        const src = reach(c, 'bpf_dynptr_read', p, offset, len, false, packets);
        if (src < 0) return c.ret(src);
        c.space.bytes.copyWithin(dst, src, src + len);
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_dynptr_write'), fn: (c) => {
        const p = read(c, 1);
        const offset = c.u32(2);
        const len = c.u32(4);
        const src = c.ptr(3, len);
        if (p.data === 0 || p.rdonly) return c.ret(EINVAL);
        if (!offLenOk(p, offset, len)) return c.ret(E2BIG);
        if (c.u64(5) !== 0n && p.type !== DynptrType.SKB) return c.ret(EINVAL);
        const dst = reach(c, 'bpf_dynptr_write', p, offset, len, true, packets);
        if (dst < 0) return c.ret(dst);
        c.space.bytes.copyWithin(dst, src, src + len);
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_dynptr_data'), fn: (c) => {
        const p = read(c, 1);
        const offset = c.u32(2);
        const len = c.u32(3);
        // packet dynptrs have no data slices through this helper (bpf_dynptr_slice gives them)
        if (p.data === 0 || !offLenOk(p, offset, len) || p.rdonly) return c.ret(0);
        if (p.type !== DynptrType.LOCAL && p.type !== DynptrType.RINGBUF) return c.ret(0);
        c.ret(p.data + p.offset + offset);
      },
    },
    { ...runtimeKfuncIdentity('bpf_dynptr_from_skb'), fn: fromPacket(DynptrType.SKB) },
    { ...runtimeKfuncIdentity('bpf_dynptr_from_xdp'), fn: fromPacket(DynptrType.XDP) },
    { ...runtimeKfuncIdentity('bpf_dynptr_slice'), fn: slice },
    { ...runtimeKfuncIdentity('bpf_dynptr_slice_rdwr'), fn: (c) => (read(c, 1).rdonly ? c.ret(0) : slice(c)) },
    {
      ...runtimeKfuncIdentity('bpf_dynptr_adjust'), fn: (c) => {
        const p = read(c, 1);
        const start = c.u32(2);
        const end = c.u32(3);
        if (p.data === 0) return c.ret(EINVAL);
        if (start > p.size || end > p.size) return c.ret(ERANGE);
        if (start > end) return c.ret(EINVAL);
        const d = c.space.data;
        d.setUint32(p.at + 12, p.offset + start, true);
        d.setUint32(p.at + 8, ((d.getUint32(p.at + 8, true) & ~MAX_SIZE) | (end - start)) >>> 0, true);
        c.ret(0);
      },
    },
    { ...runtimeKfuncIdentity('bpf_dynptr_is_null'), fn: (c) => c.ret(read(c, 1).data === 0 ? 1 : 0) },
    { ...runtimeKfuncIdentity('bpf_dynptr_is_rdonly'), fn: (c) => { const p = read(c, 1); c.ret(p.data !== 0 && p.rdonly ? 1 : 0); } },
    { ...runtimeKfuncIdentity('bpf_dynptr_size'), fn: (c) => { const p = read(c, 1); c.ret(p.data === 0 ? EINVAL : p.size); } },
    {
      ...runtimeKfuncIdentity('bpf_dynptr_clone'), fn: (c) => {
        const p = read(c, 1);
        const at = c.ptr(2, 16, true);
        if (p.data === 0) {
          setNull(c, at);
          return c.ret(EINVAL);
        }
        c.space.bytes.copyWithin(at, p.at, p.at + 16);
        c.ret(0);
      },
    },
  ];
}
