/**
 * bpf(2) itself: one call with a `union bpf_attr` buffer, and closing the
 * file descriptors it returns.
 */
import { BpfSyscallError } from './syscall-errors.js';
import { libc } from './libc.js';

/**
 * Calls bpf(cmd, attr, size). Returns the result (a new fd for commands
 * that create objects, 0 otherwise); throws {@link BpfSyscallError} with the
 * errno when the kernel refuses.
 */
export function bpf(cmd: number, attr: Uint8Array, size: number = attr.length, context?: string): number {
  const c = libc();
  const r = c.bpf(cmd, attr, size);
  if (r < 0) throw new BpfSyscallError(cmd, c.errno(), context);
  return r;
}

/**
 * Calls bpf(cmd, attr, size) without throwing: the result, or minus the
 * errno. For loops that expect refusals (ENOENT at the end of an
 * iteration, a verifier rejection).
 */
export function bpfRaw(cmd: number, attr: Uint8Array, size: number = attr.length): number {
  const c = libc();
  const r = c.bpf(cmd, attr, size);
  return r < 0 ? -c.errno() : r;
}

/** Closes a file descriptor bpf(2) returned (negative ones are ignored). */
export function closeFd(fd: number): void {
  if (fd >= 0) libc().close(fd);
}

/** The address of a buffer for a pointer field of `union bpf_attr` (0 for none or an empty one). */
export function addressOf(buffer: Uint8Array | null | undefined): bigint {
  return buffer && buffer.length > 0 ? libc().address(buffer) : 0n;
}
