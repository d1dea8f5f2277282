/**
 * Map creation cases with the errno Linux returns (checked against the
 * running kernel by kernel-oracle.test.ts, and against tsbpf by
 * registry.test.ts). `tsbpf` is set where tsbpf deliberately differs.
 */
import { MapFlags as F, MapType as T } from '../types.js';
import type { MapSpec } from '../types.js';

/** One creation case. */
export interface CreateCase {
  spec: MapSpec;
  /** What Linux answers: 'ok' or the errno name. */
  linux: string;
  /** What tsbpf answers when it differs from Linux (unsupported types). */
  tsbpf?: string;
}

const s = (type: number, keySize: number, valueSize: number, maxEntries: number, flags = 0, extra: Partial<MapSpec> = {}): MapSpec =>
  ({ name: 'm', type, keySize, valueSize, maxEntries, flags, ...extra });

const inner = s(T.ARRAY, 4, 4, 1);

export const CREATE_CASES: readonly CreateCase[] = [
  { spec: s(T.ARRAY, 4, 4, 0), linux: 'EINVAL' },
  { spec: s(T.ARRAY, 8, 4, 1), linux: 'EINVAL' },
  { spec: s(T.ARRAY, 4, 0, 1), linux: 'EINVAL' },
  { spec: s(T.ARRAY, 4, 4, 1, F.MMAPABLE), linux: 'ok' },
  { spec: s(T.ARRAY, 4, 4, 1, F.INNER_MAP), linux: 'ok' },
  { spec: s(T.ARRAY, 4, 4, 1, F.RDONLY_PROG), linux: 'ok' },
  { spec: s(T.PERCPU_ARRAY, 4, 4, 1, F.MMAPABLE), linux: 'EINVAL' },
  { spec: s(T.PERCPU_ARRAY, 4, 32768, 1), linux: 'ok' },
  { spec: s(T.PERCPU_ARRAY, 4, 32769, 1), linux: 'E2BIG' },
  { spec: s(T.ARRAY, 4, 4, 1, F.NO_PREALLOC), linux: 'EINVAL' },
  { spec: s(T.ARRAY, 4, 4, 1, F.RDONLY | F.WRONLY), linux: 'EINVAL' },
  { spec: s(T.ARRAY, 4, 4, 1, F.RDONLY_PROG | F.WRONLY_PROG), linux: 'EINVAL' },
  { spec: s(T.ARRAY, 4, 4, 1, F.ZERO_SEED), linux: 'EINVAL' },
  { spec: s(T.ARRAY, 4, 4, 4, F.PRESERVE_ELEMS), linux: 'EINVAL' },
  { spec: s(T.ARRAY, 4, 4, 1, 0, { mapExtra: 1n }), linux: 'EINVAL' },
  { spec: s(T.HASH, 0, 4, 1), linux: 'EINVAL' },
  { spec: s(T.HASH, 4, 0, 1), linux: 'EINVAL' },
  { spec: s(T.HASH, 4, 4, 0), linux: 'EINVAL' },
  { spec: s(T.HASH, 600, 4, 1), linux: 'ok' },
  { spec: s(T.HASH, 4, 4, 1, F.NO_PREALLOC), linux: 'ok' },
  { spec: s(T.HASH, 4, 4, 1, F.ZERO_SEED), linux: 'ok' },
  { spec: s(T.HASH, 4, 4, 1, F.NO_COMMON_LRU), linux: 'EINVAL' },
  { spec: s(T.HASH, 4, 4, 1, F.MMAPABLE), linux: 'EINVAL' },
  { spec: s(T.HASH, 4, 4, 1, F.INNER_MAP), linux: 'EINVAL' },
  { spec: s(T.HASH, 4, 4, 1, F.RDONLY), linux: 'ok' },
  { spec: s(T.HASH, 4, 4, 2 ** 31 + 1), linux: 'E2BIG' },
  { spec: s(T.PERCPU_HASH, 4, 32769, 1), linux: 'E2BIG' },
  { spec: s(T.PERCPU_HASH, 4, 4, 1, F.NUMA_NODE), linux: 'EINVAL' },
  { spec: s(T.LRU_HASH, 4, 4, 1, F.NO_PREALLOC), linux: 'ENOTSUPP' },
  { spec: s(T.LRU_HASH, 4, 4, 3, F.NO_COMMON_LRU), linux: 'ok' },
  { spec: s(T.LRU_PERCPU_HASH, 4, 4, 1), linux: 'ok' },
  { spec: s(T.LPM_TRIE, 8, 4, 1), linux: 'EINVAL' },
  { spec: s(T.LPM_TRIE, 4, 4, 1, F.NO_PREALLOC), linux: 'EINVAL' },
  { spec: s(T.LPM_TRIE, 5, 4, 1, F.NO_PREALLOC), linux: 'ok' },
  { spec: s(T.LPM_TRIE, 260, 4, 1, F.NO_PREALLOC), linux: 'ok' },
  { spec: s(T.LPM_TRIE, 261, 4, 1, F.NO_PREALLOC), linux: 'EINVAL' },
  { spec: s(T.LPM_TRIE, 8, 0, 1, F.NO_PREALLOC), linux: 'EINVAL' },
  { spec: s(T.LPM_TRIE, 8, 4, 0, F.NO_PREALLOC), linux: 'EINVAL' },
  { spec: s(T.LPM_TRIE, 8, 4, 1, F.NO_PREALLOC | F.ZERO_SEED), linux: 'EINVAL' },
  { spec: s(T.RINGBUF, 0, 0, 4096), linux: 'ok' },
  { spec: s(T.RINGBUF, 0, 0, 24576), linux: 'EINVAL' },
  { spec: s(T.RINGBUF, 0, 0, 2048), linux: 'EINVAL' },
  { spec: s(T.RINGBUF, 4, 0, 4096), linux: 'EINVAL' },
  { spec: s(T.RINGBUF, 0, 4, 4096), linux: 'EINVAL' },
  { spec: s(T.RINGBUF, 0, 0, 4096, F.RDONLY_PROG), linux: 'EINVAL' },
  { spec: s(T.QUEUE, 4, 4, 4), linux: 'EINVAL' },
  { spec: s(T.QUEUE, 0, 0, 4), linux: 'EINVAL' },
  { spec: s(T.QUEUE, 0, 4, 0), linux: 'EINVAL' },
  { spec: s(T.QUEUE, 0, 4, 4), linux: 'ok' },
  { spec: s(T.STACK, 0, 4, 4, F.NO_PREALLOC), linux: 'EINVAL' },
  { spec: s(T.STACK, 0, 4, 4, F.RDONLY_PROG), linux: 'ok' },
  { spec: s(T.BLOOM_FILTER, 4, 4, 4), linux: 'EINVAL' },
  { spec: s(T.BLOOM_FILTER, 0, 0, 4), linux: 'EINVAL' },
  { spec: s(T.BLOOM_FILTER, 0, 4, 0), linux: 'EINVAL' },
  { spec: s(T.BLOOM_FILTER, 0, 4, 4, 0, { mapExtra: 16n }), linux: 'EINVAL' },
  { spec: s(T.BLOOM_FILTER, 0, 4, 4, 0, { mapExtra: 15n }), linux: 'ok' },
  { spec: s(T.BLOOM_FILTER, 0, 4, 4, F.ZERO_SEED), linux: 'ok' },
  { spec: s(T.BLOOM_FILTER, 0, 4, 4, F.NO_PREALLOC), linux: 'EINVAL' },
  { spec: s(T.PROG_ARRAY, 4, 8, 4), linux: 'EINVAL' },
  { spec: s(T.PROG_ARRAY, 4, 4, 4), linux: 'ok' },
  { spec: s(T.PROG_ARRAY, 4, 4, 4, F.RDONLY_PROG), linux: 'EINVAL' },
  { spec: s(T.PERF_EVENT_ARRAY, 4, 4, 4), linux: 'ok' },
  { spec: s(T.PERF_EVENT_ARRAY, 4, 8, 4), linux: 'EINVAL' },
  { spec: s(T.PERF_EVENT_ARRAY, 4, 4, 4, F.PRESERVE_ELEMS), linux: 'ok' },
  { spec: s(T.ARRAY_OF_MAPS, 4, 4, 2, 0, { innerMap: inner }), linux: 'ok' },
  { spec: s(T.ARRAY_OF_MAPS, 4, 8, 2, 0, { innerMap: inner }), linux: 'EINVAL' },
  { spec: s(T.ARRAY_OF_MAPS, 4, 4, 2, F.RDONLY_PROG, { innerMap: inner }), linux: 'EINVAL' },
  { spec: s(T.ARRAY_OF_MAPS, 4, 4, 2, 0, { innerMap: s(T.PROG_ARRAY, 4, 4, 1) }), linux: 'ENOTSUPP' },
  { spec: s(T.ARRAY_OF_MAPS, 4, 4, 2, 0, { innerMap: s(T.ARRAY_OF_MAPS, 4, 4, 2, 0, { innerMap: inner }) }), linux: 'EINVAL' },
  { spec: s(T.HASH_OF_MAPS, 4, 4, 2, 0, { innerMap: s(T.RINGBUF, 0, 0, 4096) }), linux: 'ok' },
  { spec: s(T.HASH_OF_MAPS, 4, 4, 2, F.RDONLY_PROG, { innerMap: inner }), linux: 'ok' },
  { spec: s(T.HASH_OF_MAPS, 4, 8, 2, 0, { innerMap: inner }), linux: 'EINVAL' },
  { spec: s(T.SOCKMAP, 4, 4, 4), linux: 'ok', tsbpf: 'EINVAL' },
  { spec: s(T.STACK_TRACE, 4, 8, 4), linux: 'ok', tsbpf: 'EINVAL' },
  { spec: s(T.CGROUP_STORAGE, 16, 8, 0), linux: 'ok', tsbpf: 'EINVAL' },
  { spec: s(99, 4, 8, 4), linux: 'EINVAL' },
  { spec: s(T.UNSPEC, 4, 8, 4), linux: 'EINVAL' },
];
