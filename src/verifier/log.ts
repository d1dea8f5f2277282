/**
 * The verifier log: a text buffer that, like the kernel's, can be cut back
 * to an earlier position (the kernel forgets the instructions of a path
 * that reached `exit` when it pops the next branch at log level 1, and
 * rewrites the end of the last line to append register state), plus the
 * number formats of kernel/bpf/log.c.
 */

/** Appendable, truncatable log text. */
export class VLog {
  private parts: string[] = [];
  private length = 0;

  /** Appends text. */
  write(s: string): void {
    if (s.length === 0) return;
    this.parts.push(s);
    this.length += s.length;
  }

  /** Current length (the kernel's `end_pos`). */
  get pos(): number {
    return this.length;
  }

  /** Cuts the text back to `pos` characters. */
  reset(pos: number): void {
    if (pos >= this.length) return;
    while (this.parts.length > 0 && this.length - this.parts[this.parts.length - 1]!.length >= pos) {
      this.length -= this.parts.pop()!.length;
    }
    if (this.length > pos) {
      const last = this.parts.pop()!;
      const keep = last.length - (this.length - pos);
      this.parts.push(last.slice(0, keep));
      this.length = pos;
    }
  }

  /** The whole text. */
  text(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join('')];
    return this.parts[0] ?? '';
  }
}

/** Unsigned number: decimal up to 65535, `%#llx` above (verbose_unum). */
export function unum(v: bigint): string {
  return v <= 0xffffn ? v.toString() : '0x' + v.toString(16);
}

/** Signed number: decimal within s16, else the 64-bit pattern in hex (verbose_snum). */
export function snum(v: bigint): string {
  if (v >= -32768n && v <= 32767n) return v.toString();
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** Column where `; state` starts after an instruction line of `pos` characters (vlog_alignment). */
export function vlogAlignment(pos: number): number {
  const x = Math.max(pos + 4, 40);
  return Math.ceil(x / 8) * 8 - pos - 1;
}
