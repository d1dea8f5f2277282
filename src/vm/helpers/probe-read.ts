/**
 * `bpf_probe_read*`: in user space "kernel" and "user" memory are both the
 * collection's address space, so these copy from any region programs may
 * read and fail with -EFAULT (zeroing the destination) elsewhere, as Linux
 * does on a fault.
 */
import { helperIdentity } from '../helper-call.js';
import type { Helper, HelperCall } from '../helper-call.js';

const EFAULT = -14;

function readable(c: HelperCall, addr: number, size: number): boolean {
  const region = c.space.regionAt(addr, size);
  return region !== undefined && region.readable;
}

function copy(c: HelperCall): void {
  const size = c.u32(2);
  if (size === 0) return c.ret(0);
  const dst = c.ptr(1, size, true);
  const src = c.num(3);
  const bytes = c.space.bytes;
  if (!readable(c, src, size)) {
    bytes.fill(0, dst, dst + size);
    return c.ret(EFAULT);
  }
  bytes.copyWithin(dst, src, src + size);
  c.ret(0);
}

function copyString(c: HelperCall): void {
  const size = c.u32(2);
  if (size === 0) return c.ret(0);
  const dst = c.ptr(1, size, true);
  const src = c.num(3);
  const bytes = c.space.bytes;
  if (!readable(c, src, 1)) {
    bytes.fill(0, dst, dst + size);
    return c.ret(EFAULT);
  }
  let n = 0;
  while (n < size - 1 && readable(c, src + n, 1) && bytes[src + n] !== 0) n++;
  bytes.copyWithin(dst, src, src + n);
  bytes[dst + n] = 0;
  c.ret(n + 1);
}

/** The probe-read family. */
export function probeHelpers(): Helper[] {
  return [
    { ...helperIdentity('bpf_probe_read'), fn: copy },
    { ...helperIdentity('bpf_probe_read_str'), fn: copyString },
    { ...helperIdentity('bpf_probe_read_user'), fn: copy },
    { ...helperIdentity('bpf_probe_read_kernel'), fn: copy },
    { ...helperIdentity('bpf_probe_read_user_str'), fn: copyString },
    { ...helperIdentity('bpf_probe_read_kernel_str'), fn: copyString },
  ];
}
