/**
 * The Linux bpf(2) backend: maps, programs, test runs, BTF, pins and ring
 * buffers of the running kernel, reached from Node through koffi. Nothing
 * here loads koffi or touches the kernel at import time; call
 * {@link available} to learn whether this machine can use it.
 */
export { BpfCommand, AttrSize, MAX_LOG_SIZE, MIN_LOG_SIZE, BPF_SYSCALL_NR, commandName } from './abi.js';
export { Errno, ENOTSUPP, errnoName, errnoMessage, errnoText, errnoNumber } from './errno.js';
export { BpfSyscallError, BpfUnavailableError } from './errors.js';
export { libcStatus } from './libc.js';
export { available } from './available.js';
export type { Availability } from './available.js';
export { bpf, bpfRaw, closeFd, addressOf } from './syscall.js';
export { createMap, mapLookup, mapUpdate, mapDelete, mapGetNextKey, mapLookupAndDelete, mapElemCommand, freezeMap } from './maps.js';
export type { MapCreateOptions } from './maps.js';
export { loadProgram, testRun, DEFAULT_LOG_SIZE, clampLogSize } from './programs.js';
export type { ProgLoadOptions, ProgLoadResult, TestRunOptions, TestRunResult } from './programs.js';
export { loadBtf } from './btf.js';
export type { BtfLoadResult } from './btf.js';
export { pinObject, getPinned } from './objects.js';
export { readRingbuf } from './ringbuf.js';
export type { RingbufContents } from './ringbuf.js';
export { Capability, getCapabilities, setCapabilities, withCapabilitiesLowered } from './capabilities.js';
export type { CapabilitySets } from './capabilities.js';
export { possibleCpus } from './cpus.js';
