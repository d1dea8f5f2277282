/**
 * BPF maps laid out in the machine's address space, with Linux's semantics.
 * See docs/maps.md.
 */
export * from './types.js';
export { BpfMap, MapDescriptor, MAP_DESCRIPTOR_SIZE, HelperRef, splitPerCpu, mapTypeName, roundUp8, PCPU_MIN_UNIT_SIZE, KMALLOC_MAX_SIZE } from './bpf-map.js';
export type { BpfMapOptions } from './bpf-map.js';
export { ArrayMap, checkArraySpec } from './array.js';
export { HashMap, HashEntry, HASH_ENTRY_HEADER, checkHashSpec } from './hash.js';
export { LruHashMap } from './lru.js';
export { LpmTrieMap, LpmNode, lpmKey, checkLpmSpec } from './lpm.js';
export { QueueStackMap, checkQueueSpec } from './queue.js';
export { RingBufMap, RingBuffer, checkRingbufSpec, PAGE_SIZE } from './ringbuf.js';
export type { RingBufferCallback } from './ringbuf.js';
export { PerfEventArrayMap, PerfBuffer, PerfRing, checkFdArraySpec } from './perf.js';
export type { PerfBufferOptions, PerfSampleCallback, PerfLostCallback, PerfRecord } from './perf.js';
export { BloomFilterMap, bloomBitset, checkBloomSpec } from './bloom.js';
export { ProgArrayMap } from './prog-array.js';
export { ArrayOfMapsMap, HashOfMapsMap, innerMapMatches } from './map-of-maps.js';
export { MapRegistry, checkMapSpec } from './registry.js';
export { PlaceholderMap, UnsupportedMapError, checkUnbackedSpec } from './unbacked.js';
export type { PlaceholderKind } from './unbacked.js';
export { MapDirectory, mapAt } from './directory.js';
export { jhash, jhash2, mapHash } from './hash-function.js';
export { EntryPool } from './pool.js';
