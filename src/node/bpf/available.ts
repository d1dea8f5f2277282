/**
 * Whether this machine lets us use bpf(2): Linux, koffi loadable, a known
 * system call number, and the kernel willing to create a map for us (root
 * or CAP_BPF; `kernel.unprivileged_bpf_disabled` decides for the rest).
 */
import { AttrSize, BpfCommand } from './syscall-abi.js';
import { Attr } from './attr.js';
import { Errno, errnoText } from './errno.js';
import { libc, libcStatus } from './libc.js';

/** Whether bpf(2) can be used, and if not, why (`reason` is one line). */
export type Availability = { ok: true } | { ok: false; reason: string };

let cached: Availability | undefined;

/**
 * Checks once (cached) that bpf(2) works here by creating and closing a
 * one-element array map. Never throws.
 */
export function available(): Availability {
  if (cached) return cached;
  const status = libcStatus();
  if (!status.ok) {
    cached = status;
    return cached;
  }
  const c = libc();
  const attr = new Attr(AttrSize.MAP_CREATE).u32(0, 2).u32(4, 4).u32(8, 4).u32(12, 1);
  const fd = c.bpf(BpfCommand.MAP_CREATE, attr.bytes, AttrSize.MAP_CREATE);
  if (fd < 0) {
    const errno = c.errno();
    cached = {
      ok: false,
      reason: errno === Errno.ENOSYS ? `bpf(2) not available: ${errnoText(errno)}` : `bpf(2) not permitted: ${errnoText(errno)} (needs root or CAP_BPF)`,
    };
    return cached;
  }
  c.close(fd);
  cached = { ok: true };
  return cached;
}
