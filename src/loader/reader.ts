/**
 * Bounds-checked little-endian reads over a byte range. Every read outside
 * the range is a {@link LoaderError} naming the file, the section and the
 * absolute byte offset, never an exception from a typed array.
 */
import type { ErrorLocation } from '../errors.js';
import { LoaderError } from './loader-error.js';

/** A window on `bytes[start, start + length)` with checked reads. */
export class ByteReader {
  private readonly view: DataView;

  /**
   * @param bytes the underlying bytes
   * @param where location of this range for error messages (`offset` is the
   *   absolute offset of the range's first byte in the file, default 0)
   * @param what a short description of the range ("section header table",
   *   ".BTF", ...), used in messages
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly where: ErrorLocation = {},
    readonly what = 'data',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Number of bytes in the range. */
  get length(): number {
    return this.bytes.length;
  }

  /** A LoaderError at relative offset `off` of this range. */
  error(reason: string, off?: number, extra: ErrorLocation = {}): LoaderError {
    const base = this.where.offset ?? 0;
    const loc: ErrorLocation = { ...this.where, ...extra };
    if (off !== undefined) loc.offset = base + off;
    else delete loc.offset;
    return new LoaderError(reason, loc);
  }

  /** Throws unless `[off, off + size)` lies inside the range. */
  check(off: number, size: number, what = this.what): void {
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(size) || off < 0 || size < 0 || off + size > this.bytes.length) {
      throw this.error(`${what}: ${size} bytes at offset ${off} are outside the ${this.what} (${this.bytes.length} bytes)`, Number.isSafeInteger(off) && off >= 0 ? Math.min(off, this.bytes.length) : undefined);
    }
  }

  u8(off: number, what?: string): number {
    this.check(off, 1, what);
    return this.view.getUint8(off);
  }

  u16(off: number, what?: string): number {
    this.check(off, 2, what);
    return this.view.getUint16(off, true);
  }

  u32(off: number, what?: string): number {
    this.check(off, 4, what);
    return this.view.getUint32(off, true);
  }

  i32(off: number, what?: string): number {
    this.check(off, 4, what);
    return this.view.getInt32(off, true);
  }

  i16(off: number, what?: string): number {
    this.check(off, 2, what);
    return this.view.getInt16(off, true);
  }

  /** A 64-bit unsigned value as a bigint. */
  u64(off: number, what?: string): bigint {
    this.check(off, 8, what);
    return this.view.getBigUint64(off, true);
  }

  /** A 64-bit unsigned value that must fit in a JavaScript number (sizes, offsets). */
  u64n(off: number, what = 'value'): number {
    const v = this.u64(off, what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(`${what} 0x${v.toString(16)} is too large`, off);
    return Number(v);
  }

  /** A sub-range `[off, off + size)` without copying. */
  slice(off: number, size: number, what?: string): Uint8Array {
    this.check(off, size, what);
    return this.bytes.subarray(off, off + size);
  }

  /** A sub-reader over `[off, off + size)`; its offsets are relative to `off`. */
  sub(off: number, size: number, what: string, extra: ErrorLocation = {}): ByteReader {
    const bytes = this.slice(off, size, what);
    return new ByteReader(bytes, { ...this.where, ...extra, offset: (this.where.offset ?? 0) + off }, what);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes bytes as UTF-8 (invalid sequences become U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    // Fast path for the common case; String.fromCharCode on small chunks.
    let s = '';
    for (let i = 0; i < bytes.length; i += 4096) {
      s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
    }
    return s;
  }
  return utf8.decode(bytes);
}

/** Encodes a string as UTF-8. */
export function encodeUtf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/**
 * The NUL-terminated string at `off` of a string table. Throws when `off`
 * is outside the table or the string has no terminator inside it.
 */
export function cString(table: ByteReader, off: number, what: string): string {
  if (!Number.isSafeInteger(off) || off < 0 || off >= table.length) {
    throw table.error(`${what}: string offset ${off} is outside the string table (${table.length} bytes)`);
  }
  const bytes = table.bytes;
  let end = off;
  while (end < bytes.length && bytes[end] !== 0) end++;
  if (end >= bytes.length) throw table.error(`${what}: string at offset ${off} is not NUL-terminated`, off);
  return decodeUtf8(bytes.subarray(off, end));
}
