/**
 * The C library functions the backend calls, reached through koffi (a
 * foreign function interface whose prebuilt binaries come from the npm
 * registry). koffi is loaded on first use, never at import time, so tsbpf
 * imports cleanly on a machine without it; {@link libcStatus} says why the
 * functions are missing there.
 */
import { createRequire } from 'node:module';
import { BPF_SYSCALL_NR } from './syscall-abi.js';
import { BpfUnavailableError } from './syscall-errors.js';

/** The functions of the C library the backend uses, bound for this machine. */
export interface Libc {
  /** `syscall(nr, cmd, attr, size)`: the raw result (negative on error; see {@link Libc.errno}). */
  bpf(cmd: number, attr: Uint8Array, size: number): number;
  /** `close(fd)`. */
  close(fd: number): number;
  /** `mmap(NULL, length, prot, flags, fd, offset)`: the address, or `MAP_FAILED` (2^64 - 1). */
  mmap(length: number, prot: number, flags: number, fd: number, offset: number): bigint;
  /** `munmap(addr, length)`. */
  munmap(addr: bigint, length: number): number;
  /** `capget(header, data)` for the calling thread. */
  capget(header: Uint8Array, data: Uint8Array): number;
  /** `capset(header, data)` for the calling thread. */
  capset(header: Uint8Array, data: Uint8Array): number;
  /** The calling thread's `errno` after the last call. */
  errno(): number;
  /** The address of a buffer's first byte (to put into a `union bpf_attr`). */
  address(buffer: Uint8Array): bigint;
  /** `length` bytes of memory at `addr` (an mmap'ed region) as an ArrayBuffer. */
  view(addr: bigint, length: number): ArrayBuffer;
  /** The page size. */
  pageSize: number;
}

/** The subset of koffi's API used here. */
interface Koffi {
  load(path: string | null): { func(definition: string): (...args: unknown[]) => unknown };
  errno(): number;
  address(value: unknown): bigint;
  view(ptr: unknown, length: number): ArrayBuffer;
}

/** `MAP_FAILED`, as the unsigned address mmap returns. */
export const MAP_FAILED = 2n ** 64n - 1n;

let bound: Libc | BpfUnavailableError | undefined;

function bind(): Libc {
  if (process.platform !== 'linux') throw new BpfUnavailableError(`bpf(2) exists only on Linux (this is ${process.platform})`);
  const nr = BPF_SYSCALL_NR[process.arch];
  if (nr === undefined) throw new BpfUnavailableError(`no bpf(2) system call number known for architecture ${process.arch}`);
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (err) {
    throw new BpfUnavailableError(`koffi cannot be loaded (npm install koffi): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  let lib: ReturnType<Koffi['load']> | undefined;
  const failures: string[] = [];
  for (const name of ['libc.so.6', null, 'libc.so']) {
    try {
      lib = koffi.load(name);
      lib.func('long syscall(long, long, void *, long)');
      break;
    } catch (err) {
      failures.push(`${name ?? '(main program)'}: ${err instanceof Error ? err.message : String(err)}`);
      lib = undefined;
    }
  }
  if (!lib) throw new BpfUnavailableError(`cannot load the C library through koffi (${failures.join('; ')})`);
  const syscall = lib.func('long syscall(long, long, void *, long)') as (nr: number, cmd: number, attr: Uint8Array, size: number) => number;
  const close = lib.func('int close(int)') as (fd: number) => number;
  const mmap = lib.func('void *mmap(void *, size_t, int, int, int, long)') as (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  const munmap = lib.func('int munmap(void *, size_t)') as (addr: bigint, len: number) => number;
  const capget = lib.func('int capget(void *, void *)') as (h: Uint8Array, d: Uint8Array) => number;
  const capset = lib.func('int capset(void *, void *)') as (h: Uint8Array, d: Uint8Array) => number;
  const getpagesize = lib.func('int getpagesize(void)') as () => number;
  return {
    bpf: (cmd, attr, size) => Number(syscall(nr, cmd, attr, size)),
    close,
    mmap: (length, prot, flags, fd, offset) => {
      const p = mmap(null, length, prot, flags, fd, offset);
      return p === null ? 0n : koffi.address(p);
    },
    munmap,
    capget,
    capset,
    errno: () => koffi.errno(),
    address: (buffer) => koffi.address(buffer),
    view: (addr, length) => koffi.view(addr, length),
    pageSize: getpagesize(),
  };
}

/** The bound C library; throws {@link BpfUnavailableError} where it cannot be had. */
export function libc(): Libc {
  if (bound === undefined) {
    try {
      bound = bind();
    } catch (err) {
      bound = err instanceof BpfUnavailableError ? err : new BpfUnavailableError(`cannot bind the C library: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (bound instanceof BpfUnavailableError) throw bound;
  return bound;
}

/** Whether the C library can be reached here, and if not, why. */
export function libcStatus(): { ok: true } | { ok: false; reason: string } {
  try {
    libc();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
