/**
 * The printf dialect of `bpf_trace_printk`, `bpf_trace_vprintk` and
 * `bpf_snprintf`, checked the way Linux's `bpf_bprintf_prepare` checks it:
 * conversions `%d %i %u %x %X` with `l`/`ll`, `%c`, `%s`, `%p`, `%pK`,
 * `%px`, `%pI4 %pi4 %pI6 %pi6`, `%pks %pus`, flags `0 + - space` and a
 * width. Anything else makes the helper return -EINVAL.
 */
import type { AddressSpace } from '../memory.js';

/** Result of formatting: the text, or null when the format is invalid. */
export type Formatted = string | null;

/** Reads a NUL-terminated string at `addr` (at most `max` bytes), or null when unreadable. */
export function readCString(space: AddressSpace, addr: number, max: number): string | null {
  const region = space.regionAt(addr);
  if (region === undefined || !region.readable) return null;
  const end = Math.min(region.start + region.size, addr + max);
  const bytes = space.bytes;
  let i = addr;
  while (i < end && bytes[i] !== 0) i++;
  return new TextDecoder('latin1').decode(bytes.subarray(addr, i));
}

function pad(text: string, width: number, left: boolean, zero: boolean): string {
  if (text.length >= width) return text;
  if (left) return text.padEnd(width, ' ');
  if (zero) {
    const sign = text[0] === '-' || text[0] === '+' || text[0] === ' ' ? text[0] : '';
    return sign + text.slice(sign.length).padStart(width - sign.length, '0');
  }
  return text.padStart(width, ' ');
}

/** `%pI6` (eight colon-separated groups of four hex digits) or `%pi6` (32 hex digits). */
function ip6(bytes: Uint8Array, colons: boolean): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16).padStart(4, '0'));
  return words.join(colons ? ':' : '');
}

/** `%pI4` (dotted decimal) or `%pi4` (each byte zero-padded to three digits). */
function ip4(bytes: Uint8Array, padded: boolean): string {
  return [...bytes].map((b) => (padded ? String(b).padStart(3, '0') : String(b))).join('.');
}

/**
 * Formats `fmt` with raw 64-bit `args`. `space` resolves `%s` and `%pI*`
 * pointers (an unreadable string prints as empty, like Linux's failed copy).
 * Returns null when the format is invalid or needs more than `args.length`
 * arguments.
 */
export function bpfFormat(fmt: string, args: readonly bigint[], space: AddressSpace): Formatted {
  let out = '';
  let argi = 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt.charCodeAt(i);
    if (ch > 0x7e || (ch < 0x20 && !(ch >= 0x09 && ch <= 0x0d))) return null;
    if (fmt[i] !== '%') {
      out += fmt[i];
      continue;
    }
    if (fmt[i + 1] === '%') {
      out += '%';
      i++;
      continue;
    }
    if (argi >= args.length) return null;
    i++;
    let left = false;
    let zero = false;
    let plus = false;
    let space1 = false;
    while ('0+- '.includes(fmt[i] ?? 'x') && i < fmt.length) {
      if (fmt[i] === '-') left = true;
      else if (fmt[i] === '0') zero = true;
      else if (fmt[i] === '+') plus = true;
      else space1 = true;
      i++;
    }
    let width = 0;
    while (i < fmt.length && fmt[i]! >= '0' && fmt[i]! <= '9') width = width * 10 + Number(fmt[i++]);
    const arg = BigInt.asUintN(64, args[argi++]!);
    const c = fmt[i];
    if (c === 'p') {
      const n1 = fmt[i + 1];
      const n2 = fmt[i + 2];
      if ((n1 === 'k' || n1 === 'u') && n2 === 's') {
        i += 2;
        out += pad(readCString(space, Number(arg), 4096) ?? '', width, left, false);
        continue;
      }
      if (n1 === 'i' || n1 === 'I') {
        if (n2 !== '4' && n2 !== '6') return null;
        i += 2;
        const size = n2 === '4' ? 4 : 16;
        const region = space.regionAt(Number(arg), size);
        const bytes = region?.readable ? space.read(Number(arg), size) : new Uint8Array(size);
        out += pad(size === 4 ? ip4(bytes, n1 === 'i') : ip6(bytes, n1 === 'I'), width, left, false);
        continue;
      }
      if (n1 === 'S' || n1 === 's' || n1 === 'B') {
        // Symbol lookups: nothing in user space has a kernel symbol, so Linux's fallback "0x<address>" is printed.
        i++;
        out += pad('0x' + arg.toString(16), width, left, false);
        continue;
      }
      if (n1 === 'K' || n1 === 'x') i++;
      else if (n1 !== undefined && /[A-Za-z0-9]/.test(n1)) return null;
      out += pad(arg.toString(16).padStart(16, '0'), width, left, zero);
      continue;
    }
    if (c === 's') {
      out += pad(readCString(space, Number(arg), 4096) ?? '', width, left, false);
      continue;
    }
    if (c === 'c') {
      out += pad(String.fromCharCode(Number(arg & 0xffn)), width, left, false);
      continue;
    }
    let bits = 32;
    if (fmt[i] === 'l') { bits = 64; i++; }
    if (fmt[i] === 'l') { bits = 64; i++; }
    const conv = fmt[i];
    let text: string;
    switch (conv) {
      case 'd': case 'i': {
        const v = BigInt.asIntN(bits, arg);
        text = v.toString();
        if (v >= 0n && plus) text = '+' + text;
        else if (v >= 0n && space1) text = ' ' + text;
        break;
      }
      case 'u': text = BigInt.asUintN(bits, arg).toString(); break;
      case 'x': text = BigInt.asUintN(bits, arg).toString(16); break;
      case 'X': text = BigInt.asUintN(bits, arg).toString(16).toUpperCase(); break;
      default: return null;
    }
    out += pad(text, width, left, zero && !left);
  }
  return out;
}
