/**
 * The maps of a machine (`machine.maps`): a factory for every supported map
 * type that applies Linux's creation checks (throwing {@link MapError} with
 * the kernel's errno), and lookups by id and by map pointer.
 */
import type { Machine } from '../machine.js';
import type { PreparedProgram } from '../prepared-program.js';
import { ArrayMap, checkArraySpec } from './array.js';
import { BloomFilterMap, checkBloomSpec } from './bloom.js';
import { MapDirectory } from './directory.js';
import { checkHashSpec, HashMap } from './hash.js';
import { checkLpmSpec, LpmTrieMap } from './lpm.js';
import { LruHashMap } from './lru.js';
import { mapTypeName } from './bpf-map.js';
import type { BpfMap } from './bpf-map.js';
import { ArrayOfMapsMap, checkInnerTemplate, HashOfMapsMap } from './map-of-maps.js';
import { checkFdArraySpec, PerfEventArrayMap } from './perf.js';
import { CgroupArrayMap } from './cgroup-array.js';
import { ProgArrayMap } from './prog-array.js';
import { checkQueueSpec, QueueStackMap } from './queue.js';
import { checkRingbufSpec, RingBufMap } from './ringbuf.js';
import { checkUnbackedSpec, PlaceholderMap, UnsupportedMapError, unsupportedTypeReason } from './unbacked.js';
import type { PlaceholderKind } from './unbacked.js';
import { checkCpumapSpec, checkDevmapSpec, checkXskmapSpec, CpuMap, DevMap, DevMapHash, XskMap } from './devmap.js';
import { checkStackTraceSpec, StackTraceMap } from './stack-trace.js';
import { MapError, MapFlags, MapType, MAP_TYPE_NAMES, SPIN_LOCK_SIZE, TIMER_SIZE } from './types.js';
import type { MapSpec } from './types.js';

const U32_MAX = 0xffffffff;

function clampU32(n: number): number {
  return Number.isInteger(n) && n >= 0 && n <= U32_MAX ? n : 0;
}

function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

/**
 * Linux's creation checks for `spec` (`map_create` then the type's
 * `map_alloc_check`/`map_alloc`): throws a {@link MapError} with the errno
 * bpf(2) would return, or, for a definition Linux would accept of a type
 * tsbpf does not implement, an {@link UnsupportedMapError}.
 */
export function checkMapSpec(spec: MapSpec): void {
  const { type } = spec;
  if (!isU32(type) || !isU32(spec.keySize) || !isU32(spec.valueSize) || !isU32(spec.maxEntries) || !isU32(spec.flags ?? 0)) {
    throw new MapError('EINVAL', `map '${spec.name}': type, key_size, value_size, max_entries and flags must be 32-bit unsigned integers`);
  }
  if (type === MapType.UNSPEC || type >= MAP_TYPE_NAMES.length) throw new MapError('EINVAL', `map '${spec.name}': unknown map type ${type}`);
  const extra = spec.mapExtra ?? 0n;
  if (extra < 0n || extra >= 1n << 64n) throw new MapError('EINVAL', `map '${spec.name}': map_extra must be a 64-bit unsigned integer`);
  if (type !== MapType.BLOOM_FILTER && type !== MapType.ARENA && extra !== 0n) {
    throw new MapError('EINVAL', `map '${spec.name}': map_extra is only for bloom filters and arenas`);
  }
  try {
    checkType(spec);
    checkFields(spec);
  } catch (err) {
    if (err instanceof UnsupportedMapError) throw new UnsupportedMapError(`map '${spec.name}' (${mapTypeName(type)}): ${err.reason.replace(/ \([A-Z0-9]+\)$/, '')}`);
    if (err instanceof MapError) throw new MapError(err.errno, `map '${spec.name}' (${mapTypeName(type)}): ${err.reason.replace(/ \([A-Z0-9]+\)$/, '')}`);
    throw err;
  }
}

function checkType(spec: MapSpec): void {
  switch (spec.type) {
    case MapType.ARRAY:
    case MapType.PERCPU_ARRAY:
      return checkArraySpec(spec);
    case MapType.HASH:
    case MapType.PERCPU_HASH:
    case MapType.LRU_HASH:
    case MapType.LRU_PERCPU_HASH:
      return checkHashSpec(spec);
    case MapType.LPM_TRIE:
      return checkLpmSpec(spec);
    case MapType.QUEUE:
    case MapType.STACK:
      return checkQueueSpec(spec);
    case MapType.RINGBUF:
      return checkRingbufSpec(spec);
    case MapType.BLOOM_FILTER:
      return checkBloomSpec(spec);
    case MapType.PROG_ARRAY:
    case MapType.PERF_EVENT_ARRAY:
    case MapType.CGROUP_ARRAY:
      return checkFdArraySpec(spec);
    case MapType.ARRAY_OF_MAPS:
      checkFdArraySpec(spec);
      return checkInnerTemplate(spec, checkMapSpec);
    case MapType.HASH_OF_MAPS:
      if (spec.valueSize !== 4) throw new MapError('EINVAL', `value_size of a hash of maps must be 4, not ${spec.valueSize}`);
      checkHashSpec(spec);
      return checkInnerTemplate(spec, checkMapSpec);
    case MapType.DEVMAP:
    case MapType.DEVMAP_HASH:
      return checkDevmapSpec(spec);
    case MapType.CPUMAP:
      return checkCpumapSpec(spec);
    case MapType.XSKMAP:
      return checkXskmapSpec(spec);
    case MapType.STACK_TRACE:
      return checkStackTraceSpec(spec);
    default:
      checkUnbackedSpec(spec);
      throw new UnsupportedMapError(unsupportedTypeReason(spec.type));
  }
}

/** Linux's `map_check_btf` for values holding a bpf_spin_lock or a bpf_timer. */
function checkFields(spec: MapSpec): void {
  const f = spec.fields;
  if (!f || (f.spinLock === undefined && f.timer === undefined)) return;
  for (const [name, off, size] of [['bpf_spin_lock', f.spinLock, SPIN_LOCK_SIZE], ['bpf_timer', f.timer, TIMER_SIZE]] as const) {
    if (off !== undefined && (!Number.isInteger(off) || off < 0 || off % (size === 4 ? 4 : 8) !== 0 || off + size > spec.valueSize)) {
      throw new MapError('EINVAL', `a ${name} at offset ${off} does not fit the ${spec.valueSize}-byte value`);
    }
  }
  if ((spec.flags ?? 0) & (MapFlags.RDONLY_PROG | MapFlags.WRONLY_PROG)) {
    throw new MapError('EACCES', 'a value holding a bpf_spin_lock or bpf_timer cannot be read-only or write-only for programs');
  }
  if (f.spinLock !== undefined && spec.type !== MapType.HASH && spec.type !== MapType.ARRAY) {
    throw new MapError('EOPNOTSUPP', 'only hash and array maps (and local storages) may hold a bpf_spin_lock');
  }
  if (f.timer !== undefined && spec.type !== MapType.HASH && spec.type !== MapType.LRU_HASH && spec.type !== MapType.ARRAY) {
    throw new MapError('EOPNOTSUPP', 'only hash, LRU hash and array maps may hold a bpf_timer');
  }
}

/** Linux's `max_entries` adjustment for BPF_F_NO_COMMON_LRU maps: a multiple of the CPU count. */
function lruMaxEntries(spec: MapSpec, cpus: number): number {
  const max = Math.ceil(spec.maxEntries / cpus) * cpus;
  return max > U32_MAX ? Math.floor(spec.maxEntries / cpus) * cpus : max;
}

/** The maps of one machine. */
export class MapRegistry {
  private readonly maps = new Map<number, BpfMap>();

  constructor(readonly machine: Machine) {
    machine.tailCallTarget = (mapAddr, index) => this.tailCallTarget(mapAddr, index);
  }

  private get directory(): MapDirectory {
    return MapDirectory.of(this.machine.space);
  }

  /** Creates a map, laid out in the machine's address space. Throws {@link MapError} like bpf(BPF_MAP_CREATE). */
  create(spec: MapSpec): BpfMap {
    checkMapSpec(spec);
    const id = this.directory.reserveId();
    const map = this.construct(spec, id);
    this.maps.set(id, map);
    this.directory.add(map);
    if (map instanceof RingBufMap) this.directory.addRegion(map.data.start, map);
    return map;
  }

  private construct(spec: MapSpec, id: number): BpfMap {
    const m = this.machine;
    switch (spec.type) {
      case MapType.ARRAY:
      case MapType.PERCPU_ARRAY:
        return new ArrayMap(m, spec, id);
      case MapType.HASH:
        return new HashMap(m, spec, id, { percpu: false });
      case MapType.PERCPU_HASH:
        return new HashMap(m, spec, id, { percpu: true });
      case MapType.LRU_HASH:
      case MapType.LRU_PERCPU_HASH: {
        const percpu = spec.type === MapType.LRU_PERCPU_HASH;
        const common = ((spec.flags ?? 0) & MapFlags.NO_COMMON_LRU) === 0;
        return new LruHashMap(m, spec, id, common ? { percpu } : { percpu, maxEntries: lruMaxEntries(spec, m.possibleCpus) });
      }
      case MapType.LPM_TRIE:
        return new LpmTrieMap(m, spec, id);
      case MapType.QUEUE:
      case MapType.STACK:
        return new QueueStackMap(m, spec, id);
      case MapType.RINGBUF:
        return new RingBufMap(m, spec, id);
      case MapType.BLOOM_FILTER:
        return new BloomFilterMap(m, spec, id);
      case MapType.PROG_ARRAY:
        return new ProgArrayMap(m, spec, id);
      case MapType.PERF_EVENT_ARRAY:
        return new PerfEventArrayMap(m, spec, id);
      case MapType.CGROUP_ARRAY:
        return new CgroupArrayMap(m, spec, id);
      case MapType.ARRAY_OF_MAPS:
        return new ArrayOfMapsMap(m, spec, id);
      case MapType.HASH_OF_MAPS:
        return new HashOfMapsMap(m, spec, id);
      case MapType.DEVMAP:
        return new DevMap(m, spec, id);
      case MapType.DEVMAP_HASH:
        return new DevMapHash(m, spec, id);
      case MapType.CPUMAP:
        return new CpuMap(m, spec, id);
      case MapType.XSKMAP:
        return new XskMap(m, spec, id);
      case MapType.STACK_TRACE:
        return new StackTraceMap(m, spec, id);
      default:
        throw new UnsupportedMapError(unsupportedTypeReason(spec.type));
    }
  }

  /**
   * A placeholder for a map that cannot be created here (see
   * {@link PlaceholderMap}): it has an id and a descriptor, and every
   * operation on it fails with `reason`.
   */
  createPlaceholder(spec: MapSpec, reason: string, kind: PlaceholderKind): PlaceholderMap {
    const safe: MapSpec = {
      ...spec,
      keySize: clampU32(spec.keySize), valueSize: clampU32(spec.valueSize), maxEntries: clampU32(spec.maxEntries), flags: clampU32(spec.flags ?? 0),
    };
    const id = this.directory.reserveId();
    const map = new PlaceholderMap(this.machine, safe, id, reason, kind);
    this.maps.set(id, map);
    this.directory.add(map);
    return map;
  }

  /** The map with id `id` (created by this machine). */
  byId(id: number): BpfMap | undefined {
    return this.maps.get(id);
  }

  /** The map whose pointer (descriptor address) is `addr`. */
  byAddress(addr: number): BpfMap | undefined {
    const map = this.directory.byAddress(addr);
    return map !== undefined && this.maps.get(map.id) === map ? map : undefined;
  }

  /** The first map named `name`. */
  byName(name: string): BpfMap | undefined {
    for (const m of this.maps.values()) if (m.name === name) return m;
    return undefined;
  }

  /** Every map, in creation order. */
  list(): BpfMap[] {
    return [...this.maps.values()];
  }

  /** What `bpf_tail_call(ctx, map, index)` jumps to: the program at `index` of the prog array at `mapAddr`. */
  tailCallTarget(mapAddr: number, index: number): PreparedProgram | undefined {
    const map = this.directory.byAddress(mapAddr);
    if (!(map instanceof ProgArrayMap)) return undefined;
    const id = map.programAt(index);
    return id === undefined ? undefined : this.machine.programs.get(id);
  }
}
