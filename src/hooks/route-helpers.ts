/**
 * Routing helpers over the run's network ({@link NetNamespace}):
 * `bpf_fib_lookup` (69) and `bpf_check_mtu` (163), in their XDP and socket
 * buffer flavours (net/core/filter.c). Without a network description the
 * run sees the kernel test run's empty namespace: `lo` alone, which does
 * not forward, so a lookup from it answers `BPF_FIB_LKUP_RET_FWD_DISABLED`.
 */
import { helperIdentity } from '../vm/helper-call.js';
import type { Helper, HelperCall } from '../vm/helper-call.js';
import type { HookContexts } from './contexts.js';
import { FibResult, readFibParams, writeFibParams } from './net.js';
import type { NetInterface } from './net.js';
import { skbOf, xdpOf } from './packet-helpers.js';
import { SkBuff } from './skb.js';
import { XdpMd } from './xdp.js';

const EINVAL = -22;
const ENODEV = -19;
/** `sizeof(struct bpf_fib_lookup)`. */
const FIB_PARAMS_SIZE = 64;
/** Every `BPF_FIB_LOOKUP_*` flag. */
const FIB_LOOKUP_MASK = 0x3f;
/** `BPF_MTU_CHK_SEGS`. */
const MTU_CHK_SEGS = 1n;
const VLAN_HLEN = 4;

/** `bpf_fib_lookup(ctx, params, plen, flags)`; `checkMtu` is XDP's (always) or tc's (when tot_len is set). */
function fibLookup(c: HelperCall, contexts: HookContexts, xdp: boolean, skbLen: number): number {
  const plen = c.i32(3);
  const flags = c.u32(4);
  if (plen < FIB_PARAMS_SIZE) return EINVAL;
  if (flags & ~FIB_LOOKUP_MASK) return EINVAL;
  const at = c.ptr(2, FIB_PARAMS_SIZE, true);
  const view = c.space.bytes.subarray(at, at + FIB_PARAMS_SIZE);
  const p = readFibParams(view);
  const checkMtu = xdp || p.totLen !== 0;
  let rc = contexts.net.fibLookup(p, flags, checkMtu);
  if (!xdp && rc === FibResult.SUCCESS && !checkMtu) {
    // is_skb_forwardable: the output device must be up and the packet fit its MTU (plus a link header and a VLAN tag).
    const dev = contexts.net.device(p.ifindex)!;
    if (!dev.up || skbLen > dev.mtu + dev.hardHeaderLen + VLAN_HLEN) rc = FibResult.FRAG_NEEDED;
    p.totLen = dev.mtu & 0xffff;
  }
  writeFibParams(view, p);
  return rc;
}

/** The device of `ifindex`, or the context's own device for 0 (`__dev_via_ifindex`). */
function mtuDevice(contexts: HookContexts, ifindex: number, own: number): NetInterface | undefined {
  return contexts.net.device(ifindex === 0 ? own : ifindex);
}

/** The routing helpers of XDP programs. */
export function xdpRouteHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      ...helperIdentity('bpf_fib_lookup'), fn: (c) => {
        xdpOf(c, contexts, 'bpf_fib_lookup');
        c.ret(fibLookup(c, contexts, true, 0));
      },
    },
    {
      // bpf_xdp_check_mtu(ctx, ifindex, *mtu_len, len_diff, flags): no flags; the frame (or *mtu_len + link header) must fit.
      ...helperIdentity('bpf_check_mtu'), fn: (c) => {
        const x = xdpOf(c, contexts, 'bpf_check_mtu');
        const mtuLen = c.ptr(3, 4, true);
        if (c.u64(5) !== 0n) return c.ret(EINVAL);
        const own = c.space.data.getUint32(x.ctx.start + XdpMd.ingress_ifindex, true);
        const dev = mtuDevice(contexts, c.u32(2), own);
        if (!dev) return c.ret(ENODEV);
        const v = c.space.data;
        const p = x.pointers();
        const given = v.getUint32(mtuLen, true);
        const len = (given ? given + dev.hardHeaderLen : p.end - p.data) + c.i32(4);
        v.setUint32(mtuLen, dev.mtu, true);
        c.ret(len > dev.mtu + dev.hardHeaderLen ? 1 : 0);
      },
    },
  ];
}

/** The routing helpers of socket-buffer programs. */
export function skbRouteHelpers(contexts: HookContexts): Helper[] {
  return [
    {
      ...helperIdentity('bpf_fib_lookup'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_fib_lookup');
        const { data, end } = s.bounds();
        c.ret(fibLookup(c, contexts, false, end - data));
      },
    },
    {
      // bpf_skb_check_mtu(ctx, ifindex, *mtu_len, len_diff, flags): BPF_MTU_CHK_SEGS only for GSO packets, and then with no length given.
      ...helperIdentity('bpf_check_mtu'), fn: (c) => {
        const s = skbOf(c, contexts, 'bpf_check_mtu');
        const mtuLen = c.ptr(3, 4, true);
        const flags = c.u64(5);
        const lenDiff = c.i32(4);
        const v = c.space.data;
        const given = v.getUint32(mtuLen, true);
        if (flags & ~MTU_CHK_SEGS) return c.ret(EINVAL);
        if (flags & MTU_CHK_SEGS && (lenDiff !== 0 || given !== 0)) return c.ret(EINVAL);
        const dev = mtuDevice(contexts, c.u32(2), s.field(SkBuff.ifindex));
        if (!dev) return c.ret(ENODEV);
        const { data, end } = s.bounds();
        const len = (given ? given + dev.hardHeaderLen : end - data) + lenDiff;
        let ret = 0;
        if (len > dev.mtu + dev.hardHeaderLen) {
          // A GSO packet may be split on transmit: it passes, unless the segments are checked (a test run's has no
          // transport header to segment by: EINVAL).
          if (!s.gso) ret = 1;
          else if (flags & MTU_CHK_SEGS) return c.ret(EINVAL);
        }
        v.setUint32(mtuLen, dev.mtu, true);
        c.ret(ret);
      },
    },
  ];
}
