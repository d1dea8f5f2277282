/** Output helpers shared by the commands. */

/** Writes a line to standard output. */
export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Writes a line to standard error. */
export function err(line = ''): void {
  process.stderr.write(line + '\n');
}

/** `0x…` lowercase hex of an unsigned 64-bit value. */
export function hex64(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** Lowercase hex of bytes, no separators. */
export function bytesHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
