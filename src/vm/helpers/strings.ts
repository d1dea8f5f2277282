/** `bpf_strtol`, `bpf_strtoul` and `bpf_strncmp`, with Linux's parsing rules and results. */
import { helperIdentity } from '../helper-call.js';
import type { Helper, HelperCall } from '../helper-call.js';

const EINVAL = -22;
const ERANGE = -34;
const BASE_MASK = 0x1f;
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

interface Parsed {
  value: bigint;
  negative: boolean;
  consumed: number;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x7a) return l - 0x61 + 10;
  return 99;
}

/** Linux's `__bpf_strtoull`: a parse result, or a negative errno. */
function parse(bytes: Uint8Array, flags: number): Parsed | number {
  if (bytes.length === 0) return EINVAL;
  if ((flags & ~BASE_MASK) !== 0) return EINVAL;
  let base = flags & BASE_MASK;
  if (base !== 0 && base !== 8 && base !== 10 && base !== 16) return EINVAL;
  let i = 0;
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  const negative = i < bytes.length && bytes[i] === 0x2d;
  if (negative) i++;
  if (i >= bytes.length) return EINVAL;
  // Linux copies at most 63 bytes into a NUL-terminated scratch string.
  const str = bytes.subarray(i, Math.min(bytes.length, i + 63));
  let j = 0;
  const at = (k: number) => (k < str.length ? str[k]! : 0);
  const lower = (k: number) => at(k) | 0x20;
  if (base === 0) {
    if (at(0) === 0x30) base = lower(1) === 0x78 && digitValue(at(2)) < 16 ? 16 : 8;
    else base = 10;
  }
  if (base === 16 && at(0) === 0x30 && lower(1) === 0x78) j = 2;
  const start = j;
  let value = 0n;
  let overflow = false;
  while (j < str.length) {
    const d = digitValue(str[j]!);
    if (d >= base) break;
    value = value * BigInt(base) + BigInt(d);
    if (value > UINT64_MAX) overflow = true;
    j++;
  }
  if (overflow) return ERANGE;
  if (j === start) return EINVAL;
  return { value, negative, consumed: i + j };
}

function source(c: HelperCall): Uint8Array {
  const len = c.u32(2);
  if (len === 0) return new Uint8Array(0);
  const addr = c.ptr(1, len);
  return c.space.bytes.subarray(addr, addr + len);
}

/** The string helpers. */
export function stringHelpers(): Helper[] {
  return [
    {
      ...helperIdentity('bpf_strtol'), fn: (c) => {
        const r = parse(source(c), c.u32(3));
        if (typeof r === 'number') return c.ret(r);
        if (r.negative ? r.value > INT64_MAX + 1n : r.value > INT64_MAX) return c.ret(ERANGE);
        c.space.data.setBigInt64(c.ptr(4, 8, true), BigInt.asIntN(64, r.negative ? -r.value : r.value), true);
        c.ret(r.consumed);
      },
    },
    {
      ...helperIdentity('bpf_strtoul'), fn: (c) => {
        const r = parse(source(c), c.u32(3));
        if (typeof r === 'number') return c.ret(r);
        if (r.negative) return c.ret(EINVAL);
        c.space.data.setBigUint64(c.ptr(4, 8, true), r.value, true);
        c.ret(r.consumed);
      },
    },
    {
      ...helperIdentity('bpf_strncmp'), fn: (c) => {
        const size = c.u32(2);
        const bytes = c.space.bytes;
        const a = size === 0 ? 0 : c.ptr(1, size);
        const b = c.num(3);
        for (let i = 0; i < size; i++) {
          const region = c.space.regionAt(b + i);
          if (region === undefined || !region.readable) return c.ret(EINVAL);
          const x = bytes[a + i]!;
          const y = bytes[b + i]!;
          if (x !== y) return c.ret(x < y ? -1 : 1);
          if (x === 0) break;
        }
        c.ret(0);
      },
    },
  ];
}
