/**
 * The hash function of hash maps and bloom filters: Bob Jenkins' lookup3
 * `jhash` as Linux implements it (include/linux/jhash.h). Hash maps use
 * `jhash2` over the key as little-endian 32-bit words when key_size is a
 * multiple of 4 and the byte-wise `jhash` otherwise (`htab_map_hash`), so
 * a map created with `BPF_F_ZERO_SEED` puts every key in the same bucket,
 * in the same order, as the kernel does. Both are word-wise 32-bit integer
 * code (add, xor, rotate) that a WebAssembly JIT can emit inline.
 */

/** `JHASH_INITVAL`. */
export const JHASH_INITVAL = 0xdeadbeef;

function rol(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Reads a little-endian u32 at `i` (the words of `jhash2`, `__get_unaligned_cpu32` on x86). */
function word(k: Uint8Array, i: number): number {
  return k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24);
}

/** The final mix of lookup3 on (a, b, c); returns c. */
function final(a: number, b: number, c: number): number {
  c ^= b; c = (c - rol(b, 14)) | 0;
  a ^= c; a = (a - rol(c, 11)) | 0;
  b ^= a; b = (b - rol(a, 25)) | 0;
  c ^= b; c = (c - rol(b, 16)) | 0;
  a ^= c; a = (a - rol(c, 4)) | 0;
  b ^= a; b = (b - rol(a, 14)) | 0;
  c ^= b; c = (c - rol(b, 24)) | 0;
  return c >>> 0;
}

/**
 * `jhash2(k, length, initval)` over `words` little-endian u32 words of
 * `bytes` starting at `offset`.
 */
export function jhash2(bytes: Uint8Array, offset: number, words: number, initval: number): number {
  let a = (JHASH_INITVAL + (words << 2) + initval) | 0;
  let b = a;
  let c = a;
  let i = offset;
  let n = words;
  while (n > 3) {
    a = (a + word(bytes, i)) | 0;
    b = (b + word(bytes, i + 4)) | 0;
    c = (c + word(bytes, i + 8)) | 0;
    // __jhash_mix
    a = (a - c) | 0; a ^= rol(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rol(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rol(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rol(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rol(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rol(b, 4); b = (b + a) | 0;
    n -= 3;
    i += 12;
  }
  if (n === 0) return c >>> 0;
  if (n === 3) c = (c + word(bytes, i + 8)) | 0;
  if (n >= 2) b = (b + word(bytes, i + 4)) | 0;
  a = (a + word(bytes, i)) | 0;
  return final(a, b, c);
}

/** `jhash(key, length, initval)`: the byte-wise variant, over `length` bytes of `bytes` at `offset`. */
export function jhash(bytes: Uint8Array, offset: number, length: number, initval: number): number {
  let a = (JHASH_INITVAL + length + initval) | 0;
  let b = a;
  let c = a;
  let i = offset;
  let n = length;
  while (n > 12) {
    a = (a + word(bytes, i)) | 0;
    b = (b + word(bytes, i + 4)) | 0;
    c = (c + word(bytes, i + 8)) | 0;
    a = (a - c) | 0; a ^= rol(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rol(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rol(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rol(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rol(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rol(b, 4); b = (b + a) | 0;
    n -= 12;
    i += 12;
  }
  if (n === 0) return c >>> 0;
  // The tail, as lookup3's fall-through switch: byte j of the last 12 goes to a, b or c.
  if (n >= 12) c = (c + (bytes[i + 11]! << 24)) | 0;
  if (n >= 11) c = (c + (bytes[i + 10]! << 16)) | 0;
  if (n >= 10) c = (c + (bytes[i + 9]! << 8)) | 0;
  if (n >= 9) c = (c + bytes[i + 8]!) | 0;
  if (n >= 8) b = (b + (bytes[i + 7]! << 24)) | 0;
  if (n >= 7) b = (b + (bytes[i + 6]! << 16)) | 0;
  if (n >= 6) b = (b + (bytes[i + 5]! << 8)) | 0;
  if (n >= 5) b = (b + bytes[i + 4]!) | 0;
  if (n >= 4) a = (a + (bytes[i + 3]! << 24)) | 0;
  if (n >= 3) a = (a + (bytes[i + 2]! << 16)) | 0;
  if (n >= 2) a = (a + (bytes[i + 1]! << 8)) | 0;
  a = (a + bytes[i]!) | 0;
  return final(a, b, c);
}

/** Linux's `htab_map_hash`: `jhash2` for keys whose size is a multiple of 4, else `jhash`. */
export function mapHash(bytes: Uint8Array, offset: number, length: number, seed: number): number {
  return length % 4 === 0 ? jhash2(bytes, offset, length >>> 2, seed) : jhash(bytes, offset, length, seed);
}

/** A random 32-bit seed (Linux's `get_random_u32` for `hashrnd`). */
export function randomSeed(): number {
  return (Math.random() * 0x100000000) >>> 0;
}
