/**
 * A `union bpf_attr` under construction: a zeroed buffer with typed little
 * endian writers for the fields the commands use.
 */

/** A zeroed attribute buffer with little-endian field accessors. */
export class Attr {
  /** The bytes handed to bpf(2). */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Zeroes every field (to reuse the buffer for another call). */
  clear(): this {
    this.bytes.fill(0);
    return this;
  }

  /** Writes a `__u32` (or `__s32`) at `offset`. */
  u32(offset: number, value: number): this {
    this.view.setUint32(offset, value >>> 0, true);
    return this;
  }

  /** Writes an `__aligned_u64` at `offset`. */
  u64(offset: number, value: bigint | number): this {
    this.view.setBigUint64(offset, BigInt.asUintN(64, BigInt(value)), true);
    return this;
  }

  /** Writes a fixed-size char array (`map_name`, `prog_name`): at most `size - 1` bytes, NUL padded. */
  chars(offset: number, size: number, value: Uint8Array): this {
    this.bytes.fill(0, offset, offset + size);
    this.bytes.set(value.subarray(0, size - 1), offset);
    return this;
  }

  /** Reads the `__u32` at `offset` (fields the kernel writes back). */
  getU32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
}
