/**
 * The maps of a request: parsing `maps`, creating them in the kernel,
 * storing `map_init` elements, and reading every map back after a run.
 */
import { BpfCommand } from '../bpf/syscall-abi.js';
import { Errno, errnoMessage, errnoText } from '../bpf/errno.js';
import { BpfSyscallError } from '../bpf/syscall-errors.js';
import { createMap, mapElemCommand, nameBytes } from '../bpf/map-commands.js';
import { readRingbuf } from '../bpf/ringbuf-read.js';
import { OracleFailure, inputError } from './failure.js';
import { flagsNum, has, hex, intField, isObject, parseHex, text, type Fields } from './fields.js';
import { FD_MAPS, KEYLESS_MAPS, MAP_FLAGS, PERCPU_MAPS, POP_MAPS, mapTypeName, mapTypeNum } from './oracle-names.js';
import type { OracleMapDump } from './protocol.js';

/** A map of a request, as parsed, with its fd once created. */
export interface OracleMap {
  index: number;
  type: number;
  typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: Uint8Array;
  /** The raw `inner_map` field (checked when the map is created). */
  innerMap: unknown;
  mapExtra: number;
  numaNode: number;
  dump: boolean;
  percpu: boolean;
  /** Value slots: possible CPUs for per-CPU maps, else 1. */
  ncpus: number;
  fd: number;
}

/** Bytes of one CPU's value (per-CPU values are 8-byte aligned). */
export function slotSize(m: OracleMap): number {
  return m.percpu ? (m.valueSize + 7) & ~7 : m.valueSize;
}

/** Bytes a lookup writes. */
export function lookupSize(m: OracleMap): number {
  if (FD_MAPS.has(m.typeName)) return Math.max(m.valueSize, 4);
  return slotSize(m) * m.ncpus;
}

/** Parses `req.maps` (every map is checked before any is created). */
export function parseMaps(req: Fields, ncpus: () => number): OracleMap[] {
  const specs = req['maps'] ?? [];
  if (!Array.isArray(specs)) throw inputError('maps must be a list');
  return specs.map((spec: unknown, index) => {
    if (!isObject(spec)) throw inputError(`maps[${index}] must be an object`);
    const type = mapTypeNum(spec['type'] ?? 'array');
    const typeName = mapTypeName(type);
    const keySize = intField(spec, 'key_size', 0);
    const valueSize = intField(spec, 'value_size', 0);
    const maxEntries = intField(spec, 'max_entries', 0);
    const flags = flagsNum(has(spec, 'flags') ? spec['flags'] : spec['map_flags'], MAP_FLAGS, 'map flag');
    const name = nameBytes(has(spec, 'name') ? text(spec['name']) : '').subarray(0, 15);
    const innerMap = spec['inner_map'];
    const mapExtra = intField(spec, 'map_extra', 0);
    const numaNode = intField(spec, 'numa_node', 0);
    const dump = has(spec, 'dump') ? Boolean(spec['dump']) : true;
    const percpu = PERCPU_MAPS.has(typeName);
    return {
      index, type, typeName, keySize, valueSize, maxEntries, flags, name, innerMap, mapExtra, numaNode, dump, percpu,
      ncpus: percpu ? ncpus() : 1, fd: -1,
    };
  });
}

/** A key that identifies what the kernel would create for these maps (to reuse them). */
export function mapsKey(maps: readonly OracleMap[]): string {
  return JSON.stringify(maps.map((m) => [m.type, m.keySize, m.valueSize, m.maxEntries, m.flags, hex(m.name), m.innerMap ?? null, m.mapExtra, m.numaNode]));
}

/** Creates the maps in order; on failure the ones created so far keep their fds (the caller closes them). */
export function createMaps(maps: OracleMap[]): void {
  for (const m of maps) {
    let innerMapFd = 0;
    if (m.innerMap !== undefined && m.innerMap !== null) {
      const k = m.innerMap;
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= m.index) {
        throw inputError(`maps[${m.index}].inner_map must index an earlier map`);
      }
      innerMapFd = maps[k]!.fd;
    }
    try {
      m.fd = createMap({
        type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags,
        innerMapFd, numaNode: m.numaNode, name: m.name, mapExtra: BigInt(m.mapExtra),
      });
    } catch (err) {
      if (!(err instanceof BpfSyscallError)) throw err;
      throw new OracleFailure(
        `maps[${m.index}] (${m.typeName} key_size=${m.keySize} value_size=${m.valueSize} max_entries=${m.maxEntries}): `
        + `BPF_MAP_CREATE failed: ${errnoText(err.errno)}`, err.errno, 'map_create');
    }
  }
}

function fdBytes(fd: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, fd, true);
  return b;
}

/**
 * Stores the `map_init` elements: hex values (a per-CPU map takes one CPU's
 * value, copied to every CPU, or all of them), or the fd of a map
 * (`value_map`) or program (`value_prog`, -1 the main one).
 */
export function initMaps(req: Fields, maps: readonly OracleMap[], mainFd: number, extraFds: readonly number[]): void {
  const items = req['map_init'] ?? [];
  if (!Array.isArray(items)) throw inputError('map_init must be a list');
  items.forEach((item: unknown, n) => {
    const where = `map_init[${n}]`;
    if (!isObject(item)) throw inputError(`${where} must be an object`);
    const idx = item['map'];
    if (typeof idx !== 'number' || !Number.isInteger(idx) || idx < 0 || idx >= maps.length) throw inputError(`${where}: map must index the maps list`);
    const m = maps[idx]!;
    let value: Uint8Array;
    if (has(item, 'value_map')) {
      const k = item['value_map'];
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= maps.length) throw inputError(`${where}: bad value_map`);
      value = fdBytes(maps[k]!.fd);
    } else if (has(item, 'value_prog')) {
      const k = item['value_prog'];
      let fd: number;
      if (k === -1) fd = mainFd;
      else if (typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < extraFds.length) fd = extraFds[k]!;
      else throw inputError(`${where}: bad value_prog`);
      value = fdBytes(fd);
    } else {
      value = parseHex(item['value'], `${where}.value`);
      if (m.percpu) {
        const slot = slotSize(m);
        if (value.length === m.valueSize) {
          const all = new Uint8Array(slot * m.ncpus);
          for (let c = 0; c < m.ncpus; c++) all.set(value, c * slot);
          value = all;
        } else if (value.length !== slot * m.ncpus) {
          throw inputError(`${where}: per-CPU value must be ${m.valueSize} bytes (one CPU) or ${slot * m.ncpus} (all ${m.ncpus} CPUs)`);
        }
      } else if (value.length !== m.valueSize) {
        throw inputError(`${where}: value is ${value.length} bytes, map value_size is ${m.valueSize}`);
      }
    }
    let key: Uint8Array | null = null;
    if (!KEYLESS_MAPS.has(m.typeName)) {
      key = parseHex(item['key'], `${where}.key`);
      if (key.length !== m.keySize) throw inputError(`${where}: key is ${key.length} bytes, map key_size is ${m.keySize}`);
    }
    const flags = intField(item, 'flags', 0);
    try {
      mapElemCommand(BpfCommand.MAP_UPDATE_ELEM, m.fd, nullIfEmpty(key), nullIfEmpty(value), flags);
    } catch (err) {
      if (!(err instanceof BpfSyscallError)) throw err;
      throw new OracleFailure(`${where}: BPF_MAP_UPDATE_ELEM on maps[${idx}] failed: ${errnoText(err.errno)}`, err.errno, 'map_init');
    }
  });
}

function nullIfEmpty(b: Uint8Array | null): Uint8Array | null {
  return b && b.length ? b : null;
}

/**
 * Reads a map back: every entry of array/hash-like maps (get-next-key then
 * lookup; per-CPU maps add every CPU's value), queue/stack elements popped
 * in order, ring buffer records. A map that cannot be read carries `error`.
 */
export function dumpMap(m: OracleMap): OracleMapDump {
  const out: OracleMapDump = { map: m.index, type: m.typeName };
  try {
    if (m.typeName === 'ringbuf') {
      out.records = readRingbuf(m.fd, m.maxEntries).records.map(hex);
      return out;
    }
    if (POP_MAPS.has(m.typeName)) {
      const entries: { value: string }[] = [];
      const value = m.valueSize ? new Uint8Array(m.valueSize) : null;
      while (entries.length < Math.max(m.maxEntries, 1)) {
        if (mapElemCommand(BpfCommand.MAP_LOOKUP_AND_DELETE_ELEM, m.fd, null, value, 0, [Errno.ENOENT]) < 0) break;
        entries.push({ value: value ? hex(value) : '' });
      }
      out.entries = entries;
      return out;
    }
    const entries: { key: string; value: string; values?: string[] }[] = [];
    let key: Uint8Array | null = null;
    const next = new Uint8Array(Math.max(m.keySize, 1));
    const size = lookupSize(m);
    const value = new Uint8Array(Math.max(size, 1));
    const slot = slotSize(m);
    const limit = Math.max(m.maxEntries, 1);
    while (entries.length < limit) {
      if (mapElemCommand(BpfCommand.MAP_GET_NEXT_KEY, m.fd, key, next, 0, [Errno.ENOENT]) < 0) break;
      const keyBytes = next.slice(0, m.keySize);
      const found = mapElemCommand(BpfCommand.MAP_LOOKUP_ELEM, m.fd, next, value, 0, [Errno.ENOENT]) === 0;
      key = keyBytes.length ? keyBytes : null;
      if (!found) continue; // an empty prog_array slot
      if (m.percpu) {
        const values = Array.from({ length: m.ncpus }, (_, c) => hex(value.subarray(c * slot, c * slot + m.valueSize)));
        entries.push({ key: hex(keyBytes), value: values[0]!, values });
      } else {
        entries.push({ key: hex(keyBytes), value: hex(value.subarray(0, size)) });
      }
    }
    out.entries = entries;
  } catch (err) {
    if (!(err instanceof BpfSyscallError)) throw err;
    delete out.entries;
    if (err.command === 'mmap') {
      out.error = `cannot dump: [Errno ${err.errno}] ${errnoMessage(err.errno)}`;
    } else {
      out.error = `cannot dump: ${errnoText(err.errno)}`;
      out.errno = err.errno;
    }
  }
  return out;
}
