/**
 * LEB128, the variable-length integer encoding of the WebAssembly binary
 * format. 64-bit values travel as (lo, hi) pairs of 32-bit words so that
 * encoding an `i64.const` needs no BigInt.
 */

/** A growable byte buffer. */
export class ByteWriter {
  private buf: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < this.length + need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** Appends one byte. */
  byte(b: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b & 0xff;
  }

  /** Appends bytes. */
  bytes(data: ArrayLike<number>): void {
    if (this.length + data.length > this.buf.length) this.grow(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^53. */
  u32(value: number): void {
    if (value < 0x80 && value >= 0) {
      if (this.length === this.buf.length) this.grow(1);
      this.buf[this.length++] = value;
      return;
    }
    if (value <= 0xffffffff) {
      let v = value >>> 0;
      if (this.length + 5 > this.buf.length) this.grow(5);
      const buf = this.buf;
      let n = this.length;
      while (v >= 0x80) {
        buf[n++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[n++] = v;
      this.length = n;
      return;
    }
    let v = value;
    for (;;) {
      const low = v % 128;
      v = Math.floor(v / 128);
      if (v === 0) {
        this.byte(low);
        return;
      }
      this.byte(low | 0x80);
    }
  }

  /** Signed LEB128 of a 32-bit integer. */
  s32(value: number): void {
    if (value >= -64 && value < 64) {
      if (this.length === this.buf.length) this.grow(1);
      this.buf[this.length++] = value & 0x7f;
      return;
    }
    let v = value | 0;
    for (;;) {
      const low = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0);
      this.byte(done ? low : low | 0x80);
      if (done) return;
    }
  }

  /** Signed LEB128 of the 64-bit integer `hi * 2^32 + (lo >>> 0)` (hi signed). */
  s64(lo: number, hi: number): void {
    let l = lo >>> 0;
    let h = hi | 0;
    for (;;) {
      const low = l & 0x7f;
      // Arithmetic shift of the 64-bit pair right by 7.
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>= 7;
      const signClear = (low & 0x40) === 0;
      const done = (h === 0 && l === 0 && signClear) || (h === -1 && l === 0xffffffff && !signClear);
      this.byte(done ? low : low | 0x80);
      if (done) return;
    }
  }

  /** A length-prefixed UTF-8 name. */
  name(text: string): void {
    const data = new TextEncoder().encode(text);
    this.u32(data.length);
    this.bytes(data);
  }

  /** The bytes written, as a new array. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Bytes of the unsigned LEB128 encoding of `value`. */
export function uleb(value: number): number[] {
  const w = new ByteWriter(8);
  w.u32(value);
  return Array.from(w.finish());
}

/** Bytes of the signed LEB128 encoding of a 32-bit `value`. */
export function sleb32(value: number): number[] {
  const w = new ByteWriter(8);
  w.s32(value);
  return Array.from(w.finish());
}

/** Bytes of the signed LEB128 encoding of a 64-bit bigint (taken modulo 2^64). */
export function sleb64(value: bigint): number[] {
  const v = BigInt.asIntN(64, value);
  const w = new ByteWriter(16);
  w.s64(Number(BigInt.asIntN(32, v)), Number(v >> 32n));
  return Array.from(w.finish());
}
