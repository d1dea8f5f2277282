/**
 * Pinning in bpffs: BPF_OBJ_PIN puts a map or program at a path under a
 * mounted bpffs (usually /sys/fs/bpf), BPF_OBJ_GET opens a pinned object
 * again as a new fd.
 */
import { AttrSize, BpfCommand } from './syscall-abi.js';
import { Attr } from './attr.js';
import { addressOf, bpf } from './syscall.js';

const encoder = new TextEncoder();

/** Pins object `fd` at `path` (in a mounted bpffs). */
export function pinObject(fd: number, path: string): void {
  const pathname = encoder.encode(`${path}\0`);
  bpf(BpfCommand.OBJ_PIN, new Attr(AttrSize.OBJ).u64(0, addressOf(pathname)).u32(8, fd).bytes, AttrSize.OBJ, path);
}

/** Opens the object pinned at `path`; returns a new fd (the caller closes it). `flags`: BPF_F_RDONLY 1 << 3, BPF_F_WRONLY 1 << 4. */
export function getPinned(path: string, flags = 0): number {
  const pathname = encoder.encode(`${path}\0`);
  return bpf(BpfCommand.OBJ_GET, new Attr(AttrSize.OBJ).u64(0, addressOf(pathname)).u32(12, flags).bytes, AttrSize.OBJ, path);
}
