/**
 * The Linux bpf(2) backend: maps, programs, test runs, BTF, pins and ring
 * buffers of the running kernel, reached from Node through koffi. Nothing
 * here loads koffi or touches the kernel at import time; call
 * {@link available} to learn whether this machine can use it.
 */
export { BpfCommand, AttrSize, MAX_LOG_SIZE, MIN_LOG_SIZE, BPF_SYSCALL_NR, commandName } from './syscall-abi.js';
export { Errno, ENOTSUPP, errnoName, errnoMessage, errnoText, errnoNumber } from './errno.js';
export { BpfSyscallError, BpfUnavailableError } from './syscall-errors.js';
export { libcStatus } from './libc.js';
export { available } from './available.js';
export type { Availability } from './available.js';
export { bpf, bpfRaw, closeFd, addressOf } from './syscall.js';
export { createMap, mapLookup, mapUpdate, mapDelete, mapGetNextKey, mapLookupAndDelete, mapElemCommand, freezeMap } from './map-commands.js';
export type { MapCreateOptions } from './map-commands.js';
export { loadProgram, testRun, DEFAULT_LOG_SIZE, clampLogSize } from './prog-commands.js';
export type { ProgLoadOptions, ProgLoadResult, TestRunOptions, TestRunResult } from './prog-commands.js';
export { loadBtf } from './btf-load.js';
export type { BtfLoadResult } from './btf-load.js';
export { pinObject, getPinned } from './pinning.js';
export { readRingbuf } from './ringbuf-read.js';
export type { RingbufContents } from './ringbuf-read.js';
export { Capability, getCapabilities, setCapabilities, withCapabilitiesLowered } from './capabilities.js';
export type { CapabilitySets } from './capabilities.js';
export { possibleCpus } from './cpus.js';
