/**
 * The helpers that work on packets: XDP's adjust/load/store helpers and the
 * socket-buffer helpers of tc and socket filters, with Linux's checks and
 * return values (net/core/filter.c). Each finds its packet from the context
 * pointer in r1 through {@link HookContexts}.
 */
import { VmError } from '../errors.js';
import { helperIdentity } from '../vm/helper-call.js';
import type { Helper, HelperCall } from '../vm/helper-call.js';
import { csumAdd } from '../vm/helpers/csum.js';
import { runtimeKfuncIdentity } from '../vm/helpers/kfuncs.js';
import type { HookContexts } from './contexts.js';
import { BPF_SKB_MAX_LEN, ETH_HLEN, SkBuff } from './skb.js';
import type { SkbContext } from './skb.js';
import type { XdpContext } from './xdp.js';

const EINVAL = -22;
const EFAULT = -14;
const EACCES = -13;
const ENOMEM = -12;
const ENOTSUPP = -524;
const INT_MAX = 0x7fffffff;

/** `csum_add` of two 32-bit sums. */
function add32(a: number, b: number): number {
  return csumAdd(a, [b]);
}

/** `csum_fold`: 32-bit sum to the complemented 16-bit checksum. */
function fold(sum: number): number {
  let x = (sum & 0xffff) + (sum >>> 16);
  x = (x & 0xffff) + (x >>> 16);
  return ~x & 0xffff;
}

/** Rewrites the checksum at `at` (stored as read natively) after `from` became `to`: Linux `csum_replace4`. */
function replace4(view: DataView, at: number, from: number, to: number): void {
  const sum = ~view.getUint16(at, true) & 0xffff;
  view.setUint16(at, fold(add32(add32(sum, ~from >>> 0), to >>> 0)), true);
}

/** Linux `csum_replace_by_diff`. */
function replaceByDiff(view: DataView, at: number, diff: number): void {
  view.setUint16(at, fold(add32(diff >>> 0, ~view.getUint16(at, true) >>> 0 & 0xffff)), true);
}

/** The XDP context argument r1 points to, or a VmError naming the helper. */
export function xdpOf(c: HelperCall, contexts: HookContexts, name: string): XdpContext {
  const x = contexts.xdpAt(c.num(1));
  if (!x) throw new VmError(`${name}: R1 = ${c.space.describe(c.num(1))} is not an XDP context`, { insn: c.pc });
  return x;
}

/** The socket buffer argument r1 points to, or a VmError naming the helper. */
export function skbOf(c: HelperCall, contexts: HookContexts, name: string): SkbContext {
  const s = contexts.skbAt(c.num(1));
  if (!s) throw new VmError(`${name}: R1 = ${c.space.describe(c.num(1))} is not a socket buffer`, { insn: c.pc });
  return s;
}

/** The XDP packet helpers. */
export function xdpHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      ...helperIdentity('bpf_xdp_adjust_head'), fn: (c) => {
        const x = xdpOf(c, contexts, 'bpf_xdp_adjust_head');
        const p = x.pointers();
        const delta = c.i32(2);
        const metalen = p.data - p.meta;
        const data = p.data + delta;
        if (data < x.frameEnd + metalen || data > p.end - ETH_HLEN) return c.ret(EINVAL);
        if (metalen) c.space.bytes.copyWithin(p.meta + delta, p.meta, p.data);
        x.setPointers({ meta: p.meta + delta, data, end: p.end });
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_xdp_adjust_tail'), fn: (c) => {
        const x = xdpOf(c, contexts, 'bpf_xdp_adjust_tail');
        const p = x.pointers();
        const delta = c.i32(2);
        const end = p.end + delta;
        if (end > x.hardEnd || end < p.data + ETH_HLEN) return c.ret(EINVAL);
        if (delta > 0) c.space.bytes.fill(0, p.end, end);
        x.setPointers({ ...p, end });
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_xdp_adjust_meta'), fn: (c) => {
        const x = xdpOf(c, contexts, 'bpf_xdp_adjust_meta');
        const p = x.pointers();
        const meta = p.meta + c.i32(2);
        if (meta < x.frameEnd || meta > p.data) return c.ret(EINVAL);
        const metalen = p.data - meta;
        if (metalen > 255 || (metalen & 3) !== 0) return c.ret(EACCES); // skb_shared_info.meta_len is a u8
        x.setPointers({ ...p, meta });
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_xdp_get_buff_len'), fn: (c) => {
        const p = xdpOf(c, contexts, 'bpf_xdp_get_buff_len').pointers();
        c.ret(p.end - p.data);
      },
    },
    {
      ...helperIdentity('bpf_xdp_load_bytes'), fn: (c) => {
        const p = xdpOf(c, contexts, 'bpf_xdp_load_bytes').pointers();
        const off = c.u32(2);
        const len = c.u32(4);
        if (len === 0 || off + len > p.end - p.data) return c.ret(EINVAL);
        c.space.bytes.copyWithin(c.ptr(3, len, true), p.data + off, p.data + off + len);
        c.ret(0);
      },
    },
    {
      // kfunc: frames here are one buffer, already linear as far as they go
      ...runtimeKfuncIdentity('bpf_xdp_pull_data'), fn: (c) => {
        const p = xdpOf(c, contexts, 'bpf_xdp_pull_data').pointers();
        c.ret(c.u32(2) <= p.end - p.data ? 0 : EINVAL);
      },
    },
    {
      ...helperIdentity('bpf_xdp_store_bytes'), fn: (c) => {
        const p = xdpOf(c, contexts, 'bpf_xdp_store_bytes').pointers();
        const off = c.u32(2);
        const len = c.u32(4);
        if (len === 0 || off + len > p.end - p.data) return c.ret(EINVAL);
        const src = c.ptr(3, len);
        c.space.bytes.copyWithin(p.data + off, src, src + len);
        c.ret(0);
      },
    },
  ];
}

/** Bytes the helper may touch from `data` on (the socket buffer's linear length). */
function linear(s: SkbContext): { data: number; len: number } {
  const { data, end } = s.bounds();
  return { data, len: end - data };
}

/** The socket-buffer helpers (tc, socket filters, cgroup_skb, lwt). */
export function skbHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      ...helperIdentity('bpf_skb_load_bytes'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_load_bytes');
        const off = c.u32(2);
        const len = c.u32(4);
        const to = c.ptr(3, len, true);
        const { data, len: have } = linear(s);
        if (off > INT_MAX || off + len > have) {
          c.space.bytes.fill(0, to, to + len);
          return c.ret(EFAULT);
        }
        c.space.bytes.copyWithin(to, data + off, data + off + len);
        c.ret(0);
      },
    },
    {
      // Offsets from the MAC header (BPF_HDR_START_MAC) or the network header (BPF_HDR_START_NET); anything wrong is -EFAULT.
      ...helperIdentity('bpf_skb_load_bytes_relative'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_load_bytes_relative');
        const off = c.u32(2);
        const len = c.u32(4);
        const start = c.u32(5);
        const to = c.ptr(3, len, true);
        const { end } = s.bounds();
        const base = start === 0 ? s.macHeader : start === 1 ? s.networkHeader : -1;
        if (base < 0 || off > 0xffff || base + off + len > end) {
          c.space.bytes.fill(0, to, to + len);
          return c.ret(EFAULT);
        }
        c.space.bytes.copyWithin(to, base + off, base + off + len);
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_skb_store_bytes'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_store_bytes');
        const off = c.u32(2);
        const len = c.u32(4);
        const flags = c.u64(5);
        if (flags & ~3n) return c.ret(EINVAL);
        const { data, len: have } = linear(s);
        if (off > INT_MAX || off + len > have) return c.ret(EFAULT);
        const from = c.ptr(3, len);
        c.space.bytes.copyWithin(data + off, from, from + len);
        if (flags & 2n) s.clearHash();
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_l3_csum_replace'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_l3_csum_replace');
        const off = c.u32(2);
        const from = c.u32(3);
        const to = c.u32(4);
        const flags = c.u64(5);
        if (flags & ~0xfn) return c.ret(EINVAL);
        const { data, len } = linear(s);
        if (off > 0xffff || off + 2 > len) return c.ret(EFAULT);
        const view = c.space.data;
        switch (Number(flags & 0xfn)) {
          case 0: if (from !== 0) return c.ret(EINVAL); replaceByDiff(view, data + off, to); break;
          case 2: replace4(view, data + off, from & 0xffff, to & 0xffff); break;
          case 4: replace4(view, data + off, from, to); break;
          default: return c.ret(EINVAL);
        }
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_l4_csum_replace'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_l4_csum_replace');
        const off = c.u32(2);
        const from = c.u32(3);
        const to = c.u32(4);
        const flags = c.u64(5);
        const mangled0 = (flags & 0x20n) !== 0n;
        const enforce = (flags & 0x40n) !== 0n;
        if (flags & ~(0x20n | 0x40n | 0x10n | 0xfn | 0x80n)) return c.ret(EINVAL);
        const { data, len } = linear(s);
        if (off > 0xffff || off + 2 > len) return c.ret(EFAULT);
        const view = c.space.data;
        const at = data + off;
        if (mangled0 && !enforce && view.getUint16(at, true) === 0) return c.ret(0);
        // A test-run skb is CHECKSUM_NONE: the checksum field itself is updated, pseudo-header or not.
        switch (Number(flags & 0xfn)) {
          case 0: if (from !== 0) return c.ret(EINVAL); replaceByDiff(view, at, to); break;
          case 2: replace4(view, at, from & 0xffff, to & 0xffff); break;
          case 4: replace4(view, at, from, to); break;
          default: return c.ret(EINVAL);
        }
        if (mangled0 && view.getUint16(at, true) === 0) view.setUint16(at, 0xffff, true);
        c.ret(0);
      },
    },
    {
      // The new length must leave the headers (skb_network_offset) and stay within BPF_SKB_MAX_LEN.
      ...helperIdentity('bpf_skb_change_tail'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_change_tail');
        const newLen = c.u32(2);
        const { data, end } = s.bounds();
        const min = Math.max(0, s.networkHeader - data);
        const maxEnd = s.buffer.start + s.buffer.size;
        if (c.u64(3) !== 0n || newLen < min || newLen > BPF_SKB_MAX_LEN || data + newLen > maxEnd) return c.ret(EINVAL);
        if (s.encapsulation) return c.ret(ENOTSUPP);
        if (data + newLen > end) c.space.bytes.fill(0, end, data + newLen);
        s.setBounds(data, data + newLen);
        c.ret(0);
      },
    },
    {
      // Room in front of the MAC header, which then starts at the new data (skb_reset_mac_header).
      ...helperIdentity('bpf_skb_change_head'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_change_head');
        const room = c.u32(2);
        const { data, end } = s.bounds();
        const newLen = end - data + room;
        if (c.u64(3) !== 0n || room > INT_MAX || (!s.gso && newLen > BPF_SKB_MAX_LEN)) return c.ret(EINVAL);
        if (data - room < s.buffer.start) return c.ret(ENOMEM);
        c.space.bytes.fill(0, data - room, data);
        s.setBounds(data - room, end);
        s.macHeader = data - room;
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_skb_pull_data'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_skb_pull_data');
        // Every tsbpf socket buffer is linear: pulling succeeds when the bytes exist.
        c.ret(c.u32(2) <= linear(s).len ? 0 : ENOMEM);
      },
    },
    {
      // One cookie per socket, generated on first use; every run has a fresh socket, as in the kernel's test run.
      ...helperIdentity('bpf_get_socket_cookie'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_get_socket_cookie');
        if (s.socketCookie === 0n) s.socketCookie = contexts.nextSocketCookie();
        c.ret(s.socketCookie);
      },
    },
    {
      // __skb_set_sw_hash(skb, hash, true): bpf_get_hash_recalc returns it until the hash is cleared.
      ...helperIdentity('bpf_set_hash'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_set_hash');
        s.setField(SkBuff.hash, c.u32(2));
        s.hashValid = true;
        c.ret(0);
      },
    },
    {
      ...helperIdentity('bpf_csum_update'), fn: (c) => {
        skbOf(c, contexts, 'bpf_csum_update');
        // Only CHECKSUM_COMPLETE buffers carry a running checksum; test-run buffers are CHECKSUM_NONE.
        c.ret(ENOTSUPP);
      },
    },
  ];
}

