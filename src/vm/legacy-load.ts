/**
 * Where a legacy packet load (`ldabs`/`ldind`, socket filters and tc
 * programs) reads. Offsets from 0 are relative to `__sk_buff.data`;
 * negative ones to the network header (`SKF_NET_OFF + n`) or the MAC
 * header (`SKF_LL_OFF + n`), which the kernel's
 * `bpf_internal_load_pointer_neg_helper` takes from the skb. Here the skb
 * context keeps them in words right after the `__sk_buff` (written by
 * hooks/skb.ts; programs cannot reach them, the verifier bounds context
 * accesses by the `__sk_buff` size), so every engine reads the same bytes.
 */
import { SKF_LL_OFF, SKF_NET_OFF } from '../isa/uapi.js';

/** Offsets in an skb context of `data`, `data_end` and the words kept after the `__sk_buff`. */
export const SkbWords = { data: 76, dataEnd: 80, macHeader: 192, networkHeader: 196, head: 200 } as const;

/** Bytes an skb context region holds: the `__sk_buff` (192) and the words after it. */
export const SKB_CTX_BYTES = 208;

/**
 * The address a legacy load of `size` bytes at `offset` (a signed 32-bit
 * value) reads from the skb whose context is at `ctx`, or -1 when the
 * kernel's load fails (the program then ends with r0 = 0): outside the
 * linear data for offsets from 0, outside [head, data_end) for offsets
 * relative to the headers, below `SKF_LL_OFF` always.
 */
export function legacyLoadAddress(dv: DataView, ctx: number, offset: number, size: number): number {
  const end = dv.getUint32(ctx + SkbWords.dataEnd, true);
  let at: number;
  let low: number;
  if (offset >= 0) {
    low = dv.getUint32(ctx + SkbWords.data, true);
    at = low + offset;
  } else if (offset >= SKF_NET_OFF) {
    at = dv.getUint32(ctx + SkbWords.networkHeader, true) + (offset - SKF_NET_OFF);
    low = dv.getUint32(ctx + SkbWords.head, true);
  } else if (offset >= SKF_LL_OFF) {
    at = dv.getUint32(ctx + SkbWords.macHeader, true) + (offset - SKF_LL_OFF);
    low = dv.getUint32(ctx + SkbWords.head, true);
  } else {
    return -1;
  }
  return at >= low && at + size <= end ? at : -1;
}
