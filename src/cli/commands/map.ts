/** `tsbpf map dump OBJ NAME`: a map's contents after a run, like `bpftool map dump`. */
import type { Command } from 'commander';
import { formatMapEntry, formattedToJson, formattedToJs } from '../../loader/value-format.js';
import type { BpfMap } from '../../vm/maps/bpf-map.js';
import { dumpMap, toHex } from '../../runtime/map-io.js';
import { splitPerCpu } from '../../vm/maps/bpf-map.js';
import type { Collection } from '../../runtime/collection.js';
import { addLoadOptions, addRunOptions, loadObject, mapInitFromFlags, runFromFlags } from '../object-run.js';
import type { LoadFlags, RunFlags } from '../object-run.js';
import { applyMapInit } from '../../runtime/map-io.js';
import type { MapDumpEntry } from '../../runtime/map-io.js';
import { inFile } from '../options.js';
import { out } from '../output.js';
import { describePinning } from '../../loader/object-maps.js';
import { PlaceholderMap } from '../../vm/maps/unbacked.js';
import { TsbpfError } from '../../errors.js';
import { MapType } from '../../isa/uapi.js';

/**
 * One line of `map list` / `prog load` for map `i`: type, sizes and flags as
 * created, pinning (any value a loader used is shown), the legacy layout,
 * and why a map could not be created.
 */
export function describeMap(collection: Collection, i: number): string {
  const m = collection.maps[i]!;
  const spec = collection.object.maps[i]!;
  const pin = spec.pinning ? `  pinning ${spec.pinning} (${describePinning(spec.pinning)})` : '';
  const legacy = spec.legacy ? `  legacy ${spec.legacy.layout === 'other' ? '' : `${spec.legacy.layout} `}definition (${spec.legacy.size} bytes)${spec.legacy.id ? ` id ${spec.legacy.id}` : ''}${spec.legacy.innerId ? ` inner_id ${spec.legacy.innerId}` : ''}` : '';
  const problem = m instanceof PlaceholderMap ? `  ${m.kind === 'unsupported' ? 'NOT BACKED' : 'NOT CREATED'}: ${m.reason}` : '';
  return `map ${i}: ${m.typeName}  name ${spec.name}  key ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}  flags 0x${m.flags.toString(16)}${m.frozen ? '  frozen' : ''}${pin}${legacy}${problem}`;
}

function spaced(hex: string): string {
  return hex.replace(/(..)(?!$)/g, '$1 ');
}

/**
 * The lines `map dump` prints for `map`: with the object's BTF, each entry as
 * bpftool formats it (pretty JSON, or one compact line per entry); without,
 * hex bytes. `skipZeroArrayEntries` leaves out array slots that hold zeros.
 */
export function formatMapLines(collection: Collection, map: BpfMap, options: { compact?: boolean; skipZeroArrayEntries?: boolean } = {}): string[] {
  const spec = collection.object.maps[collection.maps.indexOf(map)]!;
  if (map instanceof PlaceholderMap) return [`(${map.message})`];
  const btf = collection.object.btf;
  if (map.type === MapType.BLOOM_FILTER) return ['(a bloom filter cannot be read element by element)'];
  const isArray = map.type === MapType.ARRAY || map.type === MapType.PERCPU_ARRAY;
  const skip = options.skipZeroArrayEntries === true && isArray;
  // an array holds every index: count them, but never materialise the zero ones
  const entries = skip ? map.nonZeroEntries() : map.entries();
  const total = skip ? map.maxEntries : entries.length;
  const hidden = total - entries.length;
  const footer = hidden > 0 ? [`(${hidden} of ${total} entries hold only zeros and are not shown)`] : [];
  const typed = btf !== undefined && (spec.btfKeyTypeId || spec.btfValueTypeId)
    && map.type !== MapType.PROG_ARRAY && map.type !== MapType.ARRAY_OF_MAPS && map.type !== MapType.HASH_OF_MAPS;
  if (typed) {
    const items = entries.map((e) => formatMapEntry(btf, spec, e.key, e.value, { cpus: map.cpus, plainText: true }));
    if (items.length === 0) return total === 0 ? ['(empty)'] : footer;
    if (options.compact) return [...items.map((item) => formattedToJson(item)), ...footer];
    return [...formattedToJson({ kind: 'array', items }, { pretty: true }).split('\n'), ...footer];
  }
  const keyless = map.type === MapType.QUEUE || map.type === MapType.STACK || map.type === MapType.RINGBUF;
  const lines = entries.map((e) => {
    const key = keyless ? '' : `key: ${spaced(toHex(e.key))}  `;
    if (map.percpu) {
      return key + splitPerCpu(e.value, map.valueSize, map.cpus).map((v, cpu) => `value (CPU ${String(cpu).padStart(2, '0')}): ${spaced(toHex(v))}`).join('  ');
    }
    return `${key}value: ${spaced(toHex(e.value))}`;
  });
  return lines.length ? [...lines, ...footer] : total === 0 ? ['(empty)'] : footer;
}

/** `"0x.."` strings of hex bytes, as bpftool prints raw keys and values. */
function byteArray(hex: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < hex.length; i += 2) out.push(`0x${hex.slice(i, i + 2)}`);
  return out;
}

/** A dumped entry in `bpftool -j map dump`'s shape: byte arrays, per-CPU values with their CPU. */
function bpftoolEntry(e: MapDumpEntry): Record<string, unknown> {
  return {
    ...(e.key !== undefined ? { key: byteArray(e.key) } : {}),
    ...(e.values !== undefined ? { values: e.values.map((v, cpu) => ({ cpu, value: byteArray(v) })) } : { value: byteArray(e.value) }),
  };
}

/** Registers `map` and its subcommands. */
export function registerMap(program: Command): void {
  const map = program.command('map').description('inspect the maps of BPF object files (like bpftool map)');
  addLoadOptions(map.command('list')
    .alias('show')
    .description('list the maps of an object as libbpf creates them (with pinning, legacy definitions, and maps that could not be created)')
    .argument('<object>', 'ELF object file')
    .option('--json', 'print [{"name","type","key_size","value_size","max_entries","flags","frozen","pinning","legacy","error"}]'))
    .action((file: string, flags: LoadFlags & { json?: boolean }) => {
      const collection = inFile(file, () => loadObject([file], { ...flags, verify: false }));
      if (flags.json) {
        out(JSON.stringify(collection.maps.map((m, i) => {
          const spec = collection.object.maps[i]!;
          return {
            name: spec.name, type: m.typeName, key_size: m.keySize, value_size: m.valueSize,
            max_entries: m.maxEntries, flags: m.flags, frozen: m.frozen, pinning: spec.pinning ?? 0,
            legacy: spec.legacy ?? null, error: m instanceof PlaceholderMap ? m.message : null,
          };
        })));
        return;
      }
      collection.maps.forEach((_m, i) => out(describeMap(collection, i)));
    });

  addRunOptions(map.command('dump')
    .description('dump a map: its initial contents, or after a run when --data-in/--ctx-in/--repeat selects one')
    .argument('<object>', 'ELF object file')
    .argument('<name>', 'map name as libbpf names it (e.g. counts, obj.bss)')
    .option('--run', 'run the program first (implied by --data-in and --ctx-in)')
    .option('--json', 'print JSON as `bpftool -j map dump` does: [{"key":["0x00",...],"value":[...]} (per-CPU maps: "values":[{"cpu":N,"value":[...]}]) plus "formatted" when the map has BTF]')
    .option('--hex', 'print JSON with bytes as hex strings (tsbpf\'s form, as prog run --json and --map-init use): [{"key":"hex","value":"hex","values":["hex"...]}...] plus "formatted"'))
    .action((file: string, name: string, flags: RunFlags & { run?: boolean; json?: boolean; hex?: boolean }) => {
      const running = flags.run || flags.dataIn !== undefined || flags.ctxIn !== undefined;
      const collection = inFile(file, () => {
        if (running) return runFromFlags([file], flags).collection;
        const c = loadObject([file], flags);
        applyMapInit(c, mapInitFromFlags(flags.mapInit ?? []));
        return c;
      });
      const m = inFile(file, () => collection.map(name));
      if (m instanceof PlaceholderMap) throw new TsbpfError(m.message, { file });
      if (flags.json || flags.hex) {
        const spec = collection.object.maps[collection.maps.indexOf(m)]!;
        const btf = collection.object.btf;
        const raw = dumpMap(m);
        const entries = m.type === MapType.BLOOM_FILTER ? [] : m.entries();
        out(JSON.stringify(raw.map((e, i) => {
          const formatted = btf && (spec.btfKeyTypeId || spec.btfValueTypeId) && entries[i]
            ? { formatted: formattedToJs(formatMapEntry(btf, spec, entries[i].key, entries[i].value, { cpus: m.cpus })) }
            : {};
          return flags.hex ? { ...e, ...formatted } : { ...bpftoolEntry(e), ...formatted };
        })));
        return;
      }
      for (const l of formatMapLines(collection, m)) out(l);
    });
}
