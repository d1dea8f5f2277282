/** `bpf_csum_diff`: the one's complement difference of `from` and `to`, folded to 16 bits as Linux 6.11+ returns it. */
import { helperIdentity } from '../helper-call.js';
import type { Helper } from '../helper-call.js';

/** Adds 32-bit words with end-around carry, starting from `seed`. */
export function csumAdd(seed: number, words: Iterable<number>): number {
  let sum = seed >>> 0;
  for (const w of words) {
    sum += w >>> 0;
    if (sum > 0xffffffff) sum -= 0xffffffff;
  }
  return sum >>> 0;
}

/** Folds a 32-bit one's complement sum to 16 bits (Linux `csum_from32to16`). */
export function fold16(sum: number): number {
  let x = (sum & 0xffff) + (sum >>> 16);
  x = (x & 0xffff) + (x >>> 16);
  return x;
}

/** One's complement subtraction of 32-bit sums (Linux `csum_sub`). */
function csumSub(a: number, b: number): number {
  return csumAdd(a, [~b >>> 0]);
}

/** The checksum helpers that need no packet. */
export function csumHelpers(): Helper[] {
  return [
    {
      // Linux 6.11+ computes the difference arch-independently and folds it to 16 bits.
      ...helperIdentity('bpf_csum_diff'), fn: (c) => {
        const fromSize = c.u32(2);
        const toSize = c.u32(4);
        const seed = c.u32(5);
        const bytes = c.space.bytes;
        // csum_partial adds little-endian 32-bit words; a partial last word is zero-padded.
        const words = (arg: number, size: number) => {
          const at = size ? c.ptr(arg, size) : 0;
          const out: number[] = [];
          for (let i = 0; i < size; i += 4) {
            let w = 0;
            for (let k = 0; k < 4 && i + k < size; k++) w |= bytes[at + i + k]! << (8 * k);
            out.push(w >>> 0);
          }
          return out;
        };
        const from = words(1, fromSize);
        const to = words(3, toSize);
        if (fromSize && toSize) return c.ret(fold16(csumSub(csumAdd(seed, to), csumAdd(0, from))));
        if (toSize) return c.ret(fold16(csumAdd(seed, to)));
        if (fromSize) return c.ret(fold16(~csumAdd(~seed >>> 0, from) >>> 0));
        c.ret(fold16(seed));
      },
    },
  ];
}
