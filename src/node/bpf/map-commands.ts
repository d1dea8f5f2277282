/**
 * Maps through bpf(2): BPF_MAP_CREATE and the element commands (lookup,
 * update, delete, get-next-key, lookup-and-delete), and BPF_MAP_FREEZE.
 * Keys and values are byte buffers of the map's sizes; the caller owns the
 * returned file descriptor (close it with `closeFd`).
 */
import { AttrSize, BpfCommand } from './syscall-abi.js';
import { Attr } from './attr.js';
import { Errno } from './errno.js';
import { BpfSyscallError } from './syscall-errors.js';
import { addressOf, bpf, bpfRaw } from './syscall.js';

/** What BPF_MAP_CREATE takes (`union bpf_attr`'s map-create struct). */
export interface MapCreateOptions {
  /** `enum bpf_map_type` number. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** `map_flags` (BPF_F_NO_PREALLOC, BPF_F_MMAPABLE, ...). */
  flags?: number;
  /** fd of the inner map template, for maps of maps. */
  innerMapFd?: number;
  /** NUMA node (used with BPF_F_NUMA_NODE). */
  numaNode?: number;
  /** Name: at most 15 bytes are kept. */
  name?: string | Uint8Array;
  /** `map_extra` (bloom filter hash count, arena start address). */
  mapExtra?: bigint | number;
  /** BTF describing the key and value (0: none). */
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
}

const encoder = new TextEncoder();

/** Bytes of a name as the kernel's char arrays take it. */
export function nameBytes(name: string | Uint8Array | undefined): Uint8Array {
  if (name === undefined) return new Uint8Array(0);
  return typeof name === 'string' ? encoder.encode(name) : name;
}

/** Creates a map; returns its fd. Throws {@link BpfSyscallError} (EINVAL, E2BIG, EPERM, ...). */
export function createMap(o: MapCreateOptions): number {
  const a = new Attr(AttrSize.MAP_CREATE)
    .u32(0, o.type).u32(4, o.keySize).u32(8, o.valueSize).u32(12, o.maxEntries)
    .u32(16, o.flags ?? 0).u32(20, o.innerMapFd ?? 0).u32(24, o.numaNode ?? 0)
    .chars(28, 16, nameBytes(o.name))
    .u32(48, o.btfFd ?? 0).u32(52, o.btfKeyTypeId ?? 0).u32(56, o.btfValueTypeId ?? 0)
    .u64(64, o.mapExtra ?? 0);
  return bpf(BpfCommand.MAP_CREATE, a.bytes);
}

/** The element-command attribute: map_fd@0, key@8, value/next_key@16, flags@24. */
function elemAttr(fd: number, key: Uint8Array | null, value: Uint8Array | null, flags: number | bigint): Attr {
  return new Attr(AttrSize.MAP_ELEM).u32(0, fd).u64(8, addressOf(key)).u64(16, addressOf(value)).u64(24, flags);
}

/**
 * Runs an element command; returns 0, or minus the errno for the errors in
 * `expected` (e.g. ENOENT); throws {@link BpfSyscallError} for the others.
 */
export function mapElemCommand(cmd: number, fd: number, key: Uint8Array | null, value: Uint8Array | null, flags: number | bigint = 0, expected: readonly number[] = []): number {
  const r = bpfRaw(cmd, elemAttr(fd, key, value, flags).bytes, AttrSize.MAP_ELEM);
  if (r < 0 && !expected.includes(-r)) throw new BpfSyscallError(cmd, -r);
  return r < 0 ? r : 0;
}

/** Copies the value at `key` into `value` (per-CPU maps: every CPU's, 8-byte aligned slots). False when there is none. */
export function mapLookup(fd: number, key: Uint8Array | null, value: Uint8Array, flags: number | bigint = 0): boolean {
  return mapElemCommand(BpfCommand.MAP_LOOKUP_ELEM, fd, key, value, flags, [Errno.ENOENT]) === 0;
}

/** Stores `value` at `key` (queue, stack, bloom filter: `key` null). `flags`: BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2, BPF_F_LOCK 4. */
export function mapUpdate(fd: number, key: Uint8Array | null, value: Uint8Array, flags: number | bigint = 0): void {
  mapElemCommand(BpfCommand.MAP_UPDATE_ELEM, fd, key, value, flags);
}

/** Deletes `key`; false when it was not there. */
export function mapDelete(fd: number, key: Uint8Array): boolean {
  return mapElemCommand(BpfCommand.MAP_DELETE_ELEM, fd, key, null, 0, [Errno.ENOENT]) === 0;
}

/** Writes the key after `key` (the first key for null) into `next`; false at the end. */
export function mapGetNextKey(fd: number, key: Uint8Array | null, next: Uint8Array): boolean {
  return mapElemCommand(BpfCommand.MAP_GET_NEXT_KEY, fd, key, next, 0, [Errno.ENOENT]) === 0;
}

/** Pops (queue, stack: `key` null) or removes an element into `value`; false when there is none. */
export function mapLookupAndDelete(fd: number, key: Uint8Array | null, value: Uint8Array): boolean {
  return mapElemCommand(BpfCommand.MAP_LOOKUP_AND_DELETE_ELEM, fd, key, value, 0, [Errno.ENOENT]) === 0;
}

/** Freezes a map: user space can no longer write it (programs with BPF_F_RDONLY_PROG see constants). */
export function freezeMap(fd: number): void {
  bpf(BpfCommand.MAP_FREEZE, new Attr(AttrSize.MAP_ELEM).u32(0, fd).bytes);
}
