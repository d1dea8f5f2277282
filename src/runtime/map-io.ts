/**
 * Map contents as text: initial contents from JSON (`--map-init`) and dumps
 * as raw hex bytes (`prog run --json`, `map dump`), the way the kernel's
 * bpf(2) calls see them.
 */
import { TsbpfError } from '../errors.js';
import type { BpfMap } from '../vm/maps/bpf-map.js';
import { splitPerCpu } from '../vm/maps/bpf-map.js';
import { PlaceholderMap } from '../vm/maps/unbacked.js';
import type { Collection } from './collection.js';
import { MapType, UpdateFlags } from '../isa/uapi.js';

/** One initial element: hex bytes, or `prog:NAME` (prog arrays) / `map:NAME` (maps of maps) for the value. */
export interface MapInitEntry {
  /** Key as hex; left out for queue, stack and bloom filter maps (the value is pushed). */
  key?: string;
  value: string;
  /** Per-CPU maps: every CPU's value, as a dump lists them (then `value` is ignored). */
  values?: string[];
}

/** One dumped element, raw bytes as lowercase hex. */
export interface MapDumpEntry {
  /** Absent for queue, stack and ring buffer elements. */
  key?: string;
  /** The value (per-CPU maps: the value of CPU 0). */
  value: string;
  /** Per-CPU maps: every CPU's value, CPU 0 first. */
  values?: string[];
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Bytes of a hex string (whitespace allowed), or a clear error naming `what`. */
export function fromHex(text: string, what: string): Uint8Array {
  const clean = text.replace(/^0x/i, '').replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new TsbpfError(`${what}: '${text}' is not hex bytes`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const PUSHED = new Set<number>([MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER]);

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/**
 * Stores initial contents: `init` maps libbpf map names to entries. Values
 * `prog:NAME` and `map:NAME` name a program or map of the collection.
 */
export function applyMapInit(collection: Collection, init: Record<string, readonly MapInitEntry[]>): void {
  for (const [name, entries] of Object.entries(init)) {
    const map = collection.map(name);
    entries.forEach((entry, i) => {
      const where = `--map-init ${name}[${i}]`;
      let value: Uint8Array;
      if (entry.value.startsWith('prog:')) {
        value = u32(collection.program({ name: entry.value.slice(5) }).id);
      } else if (entry.value.startsWith('map:')) {
        value = u32(collection.map(entry.value.slice(4)).id);
      } else if (entry.values !== undefined && map.percpu) {
        // bpf(2)'s layout: each CPU's value padded to 8 bytes
        const step = (map.valueSize + 7) & ~7;
        value = new Uint8Array(step * map.cpus);
        entry.values.slice(0, map.cpus).forEach((v, cpu) => value.set(fromHex(v, `${where}.values[${cpu}]`).subarray(0, map.valueSize), cpu * step));
      } else {
        value = fromHex(entry.value, `${where}.value`);
      }
      try {
        if (PUSHED.has(map.type)) {
          map.update(null, value, UpdateFlags.ANY);
        } else {
          if (entry.key === undefined) throw new TsbpfError(`${where}: a key is needed for ${map.typeName} map '${name}'`);
          map.update(fromHex(entry.key, `${where}.key`), value, UpdateFlags.ANY);
        }
      } catch (err) {
        if (err instanceof TsbpfError && !err.reason.startsWith('--map-init')) throw new TsbpfError(`${where}: ${err.reason}`);
        throw err;
      }
    });
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TsbpfError(`not JSON: ${err instanceof Error ? err.message : String(err)}`, { file });
  }
}

function parseEntries(doc: unknown, file: string, where: string): MapInitEntry[] {
  if (!Array.isArray(doc)) throw new TsbpfError(`${where}expected a JSON array of {"key":"hex","value":"hex"} entries`, { file });
  return doc.map((e: unknown, i) => {
    const o = e as { key?: unknown; value?: unknown; values?: unknown };
    if (typeof e !== 'object' || e === null || typeof o.value !== 'string' || (o.key !== undefined && typeof o.key !== 'string')
      || (o.values !== undefined && !(Array.isArray(o.values) && o.values.every((v) => typeof v === 'string')))) {
      throw new TsbpfError(`${where}entry ${i}: expected {"key":"hex","value":"hex"} (per-CPU maps may add "values":["hex",...])`, { file });
    }
    return {
      ...(o.key !== undefined ? { key: o.key as string } : {}), value: o.value as string,
      ...(o.values !== undefined ? { values: o.values as string[] } : {}),
    };
  });
}

/** Reads a `--map-init` JSON document: an array of entries for one map. */
export function parseMapInitJson(text: string, file: string): MapInitEntry[] {
  return parseEntries(parseJson(text, file), file, '');
}

/**
 * Reads a document of several maps, `{"name":[entries...], ...}`: what
 * `--map-out` writes (and `prog run --json` prints under "maps"), so state
 * carries from one run to the next.
 */
export function parseMapsJson(text: string, file: string): Record<string, MapInitEntry[]> {
  const doc = parseJson(text, file);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new TsbpfError('expected a JSON object {"map name":[entries...]}', { file });
  const out: Record<string, MapInitEntry[]> = {};
  for (const [name, entries] of Object.entries(doc)) out[name] = parseEntries(entries, file, `map '${name}': `);
  return out;
}

/** How {@link dumpMap} lists a map. */
export interface DumpOptions {
  /**
   * Leave out the slots of array maps (array, per-CPU array) whose value is
   * all zero bytes: an array holds every index, and the zero ones say
   * nothing (the text output of `prog run` does the same). Without it a
   * large array (Katran's 33-million-slot `ch_rings`) is listed in full.
   */
  skipZeroArrayEntries?: boolean;
}

/** Every element of `map` as raw hex, in the order bpf(2) iteration gives (bloom filters cannot be read: empty). */
export function dumpMap(map: BpfMap, options: DumpOptions = {}): MapDumpEntry[] {
  if (map.type === MapType.BLOOM_FILTER) return [];
  const keyless = map.type === MapType.QUEUE || map.type === MapType.STACK || map.type === MapType.RINGBUF;
  const array = map.type === MapType.ARRAY || map.type === MapType.PERCPU_ARRAY;
  const entries = array && options.skipZeroArrayEntries ? map.nonZeroEntries() : map.entries();
  return entries.map((e) => {
    const out: MapDumpEntry = keyless ? { value: '' } : { key: toHex(e.key), value: '' };
    if (map.percpu) {
      const values = splitPerCpu(e.value, map.valueSize, map.cpus).map(toHex);
      out.value = values[0]!;
      out.values = values;
    } else {
      out.value = toHex(e.value);
    }
    return out;
  });
}

/**
 * Every map of the collection, by name. A map tsbpf does not back (a
 * placeholder: the programs that use it cannot run) has no contents to
 * show and is left out, so a run of another program still reports its maps.
 */
export function dumpMaps(collection: Collection, options: DumpOptions = {}): Record<string, MapDumpEntry[]> {
  const out: Record<string, MapDumpEntry[]> = {};
  collection.object.maps.forEach((spec, i) => {
    if (collection.maps[i] instanceof PlaceholderMap) return;
    out[spec.name] = dumpMap(collection.maps[i]!, options);
  });
  return out;
}
