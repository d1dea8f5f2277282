import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, sleb32, sleb64, uleb } from './leb128.js';

/** Reference decoders, straight from the definition. */
function decodeU(bytes: number[]): bigint {
  let v = 0n;
  bytes.forEach((b, i) => { v |= BigInt(b & 0x7f) << BigInt(7 * i); });
  return v;
}
function decodeS(bytes: number[]): bigint {
  const v = decodeU(bytes);
  const bits = BigInt(7 * bytes.length);
  return (bytes[bytes.length - 1]! & 0x40) !== 0 ? v - (1n << bits) : v;
}
function minimal(bytes: number[]): boolean {
  return bytes.slice(0, -1).every((b) => (b & 0x80) !== 0) && (bytes[bytes.length - 1]! & 0x80) === 0;
}

describe('LEB128', () => {
  it('encodes known values as the WebAssembly spec shows them', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb32(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb32(-1)).toEqual([0x7f]);
    expect(sleb32(63)).toEqual([0x3f]);
    expect(sleb32(64)).toEqual([0xc0, 0x00]);
    expect(sleb64(-(2n ** 63n))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
  });

  it('round-trips unsigned 32-bit values minimally', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
      const b = uleb(v);
      return minimal(b) && decodeU(b) === BigInt(v);
    }));
  });

  it('round-trips signed 32-bit values minimally', () => {
    fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => {
      const b = sleb32(v);
      return minimal(b) && decodeS(b) === BigInt(v) && b.length <= 5;
    }));
  });

  it('round-trips signed 64-bit values from (lo, hi) pairs minimally', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
      const w = new ByteWriter(2);
      w.s64(Number(BigInt.asIntN(32, v)), Number(v >> 32n));
      const b = Array.from(w.finish());
      return minimal(b) && decodeS(b) === v && b.length <= 10;
    }));
  });
});
