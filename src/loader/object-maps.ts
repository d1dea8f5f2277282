/**
 * The object's maps, as libbpf (and the older loaders) define them:
 * BTF-defined maps in `.maps`, legacy definitions in `maps` sections
 * (libbpf's, samples/bpf's and iproute2's layouts), the internal maps of
 * global data (`.data`, `.rodata`, `.bss`) and `.kconfig`, and the initial
 * entries of prog arrays and maps of maps. A definition libbpf refuses
 * becomes that map's `loadError`, not the object's.
 */
import type { MapSpec, MapValueFields } from '../vm/maps/types.js';
import { MAP_VALUE_FIELDS, parseBtfRecord } from '../verifier/btf-record.js';
import type { BtfComposite, BtfDatasec, BtfVar } from './btf.js';
import { BtfVarLinkage } from './btf.js';
import { RelocType, SectionFlags, SymbolType } from './elf.js';
import { LoaderError } from './loader-error.js';
import type { ObjectBuild } from './object-build.js';
import { failureOf, relocName } from './object-build.js';
import { resolveKconfig } from './object-externs.js';
import { programTypeOfSection } from './sections.js';
import type { LegacyMapInfo, MapInitialValue, ObjectMapSpec } from './spec.js';
import { MapFlags, MapType } from '../isa/uapi.js';

/** Largest map value the loader allocates for global data (Linux caps array values far lower). */
const MAX_VALUE_SIZE = 1 << 30;

/** A map definition read from BTF (libbpf's `struct btf_map_def`); `parts` names the fields it set, for the log. */
interface MapDef {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  mapExtra: bigint;
  numaNode: number;
  pinning: number;
  keyTypeId: number;
  valueTypeId: number;
  parts: Set<string>;
  hasValues: boolean;
  inner?: MapDef;
}

/**
 * Collects the object's maps in libbpf's order: legacy `maps` sections,
 * BTF-defined maps, global data by section index, then `.kconfig` (whose
 * value the externs' values are written into).
 */
export function collectMaps(build: ObjectBuild): void {
  for (const idx of build.legacyMapSections) collectLegacyMaps(build, idx);
  iproute2InnerTemplates(build);
  if (build.mapsIdx >= 0) collectBtfMaps(build);
  // Global data, by section index.
  for (const s of build.elf.sections) {
    const kind = build.kinds.get(s.index);
    if ((kind !== 'data' && kind !== 'rodata' && kind !== 'bss') || s.size === 0) continue;
    if (s.size > MAX_VALUE_SIZE) {
      const i = addInternalMap(build, kind, s.name, s.index, new Uint8Array(0));
      const m = build.maps[i]!;
      m.valueSize = s.size;
      delete m.initialData;
      m.loadError = { message: `map '${m.name}': failed to create: -E2BIG (a ${s.size}-byte global data section: tsbpf holds at most ${MAX_VALUE_SIZE} bytes)`, errno: 'E2BIG', section: s.name, offset: s.offset };
      continue;
    }
    addInternalMap(build, kind, s.name, s.index, kind === 'bss' ? new Uint8Array(s.size) : s.data.slice());
  }
  const kcfg = build.externs.filter((e) => e.kcfg);
  if (kcfg.length) {
    const last = kcfg[kcfg.length - 1]!.kcfg!;
    if (last.dataOff + last.size > MAX_VALUE_SIZE) build.fail(`.kconfig externs need ${last.dataOff + last.size} bytes, more than a map value may hold`, '.BTF');
    const data = new Uint8Array(last.dataOff + last.size);
    resolveKconfig(build, data);
    build.kconfigMap = addInternalMap(build, 'kconfig', '.kconfig', build.elf.symtabIndex, data);
  }
}

/** libbpf's `internal_map_name`: the kernel-visible name of a global data map. */
export function internalMapName(objName: string, realName: string): string {
  const OBJ_NAME_LEN = 16;
  let sfxLen = Math.max(7, realName.length);
  if (sfxLen >= OBJ_NAME_LEN) sfxLen = OBJ_NAME_LEN - 1;
  const pfxLen = realName.indexOf('.', 1) >= 0 ? 0 : Math.min(OBJ_NAME_LEN - sfxLen - 1, objName.length);
  const name = objName.slice(0, pfxLen) + realName.slice(0, sfxLen);
  return name.slice(0, OBJ_NAME_LEN - 1).replace(/[^A-Za-z0-9_.]/g, '_');
}

/**
 * Adds the internal map of a global data section or of `.kconfig`: an
 * array of one value holding `data`, named by {@link internalMapName},
 * read-only for programs for `.rodata` and `.kconfig`, mmapable when its
 * DATASEC has non-static variables. Returns its index.
 */
function addInternalMap(build: ObjectBuild, kind: 'data' | 'rodata' | 'bss' | 'kconfig', realName: string, secIdx: number, data: Uint8Array): number {
  const name = internalMapName(build.objName, realName);
  let flags = kind === 'rodata' || kind === 'kconfig' ? MapFlags.RDONLY_PROG : 0;
  const btf = build.btf;
  let valueTypeId = 0;
  if (btf) {
    const ids = btf.idsByName(realName);
    if (ids.length) valueTypeId = ids[0]!;
    const t = valueTypeId ? btf.typeById(valueTypeId) : undefined;
    if (t && t.kind === 'DATASEC' && t.vars.some((v) => {
      const vt = btf.tryType(v.type);
      return vt !== undefined && vt.kind === 'VAR' && vt.linkage !== BtfVarLinkage.STATIC;
    })) flags |= MapFlags.MMAPABLE;
  }
  const map: ObjectMapSpec = {
    name, type: MapType.ARRAY, keySize: 4, valueSize: data.length, maxEntries: 1, flags,
    kind, realName, section: kind === 'kconfig' ? '.kconfig' : realName, sectionIndex: secIdx, sectionOffset: 0,
    initialData: data, frozen: kind === 'rodata' || kind === 'kconfig',
  };
  if (valueTypeId) {
    map.btfKeyTypeId = 0;
    map.btfValueTypeId = valueTypeId;
    // global variables may be locks and list heads too (`private(A) struct bpf_list_head ...`)
    const fields = valueObjects(build, valueTypeId, data.length);
    if (fields) map.fields = fields;
  }
  build.maps.push(map);
  build.log.push(`map '${name}' (global data): at sec_idx ${secIdx}, offset 0, flags ${flags.toString(16)}.`);
  build.log.push(`map ${build.maps.length - 1} is "${name}"`);
  return build.maps.length - 1;
}

/**
 * Whether the object follows iproute2's conventions (tc's sections,
 * tail-call sections, Cilium's entry points), which decides how legacy map
 * definitions of 24 to 32 bytes read without BTF (samples/bpf's have the
 * same sizes).
 */
function iproute2Style(build: ObjectBuild): boolean {
  return build.elf.sections.some((s) => {
    if ((s.flags & SectionFlags.EXECINSTR) === 0) return false;
    const kind = programTypeOfSection(s.name.replace(/^\?/, '')).ruleKind;
    return s.name === 'classifier' || s.name === 'action' || kind === 'iproute2' || kind === 'iproute2-tail-call' || kind === 'cilium';
  });
}

/**
 * Legacy map definitions (a `maps` section, or `maps/...`): each symbol of
 * the section is a map. With BTF the fields are read by name (every
 * loader's struct: libbpf's `struct bpf_map_def`, samples/bpf's
 * `struct bpf_load_map_def`, iproute2's `struct bpf_elf_map`); without,
 * by the definition's size. Never refused: what cannot be read becomes
 * the map's load error, unknown non-zero fields are logged.
 */
function collectLegacyMaps(build: ObjectBuild, secIdx: number): void {
  const sec = build.section(secIdx);
  const seen = new Set<number>();
  const syms = build.elf.symbols.filter((s) => s.shndx === sec.index && s.name !== '' && (s.type === SymbolType.OBJECT || s.type === SymbolType.NOTYPE))
    .sort((a, b) => a.value - b.value)
    .filter((s) => (seen.has(s.value) ? false : (seen.add(s.value), true)));
  if (syms.length === 0) {
    build.log.push(`elf: legacy maps section '${sec.name}' has no map symbols`);
    return;
  }
  const btf = build.btf;
  const ds = btf?.findByName(sec.name, 'DATASEC') as BtfDatasec | undefined;
  const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const first = build.maps.length;
  const iproute2 = iproute2Style(build);
  for (const sym of syms) {
    const off = sym.value;
    const base: ObjectMapSpec = {
      name: sym.name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0,
      kind: 'legacy', realName: sym.name, section: sec.name, sectionIndex: sec.index, sectionOffset: off, frozen: false,
    };
    const refuse = (message: string): void => {
      base.loadError = { message, errno: 'EINVAL', section: sec.name, offset: sec.offset + Math.min(off, sec.size) };
      build.maps.push(base);
      build.log.push(message);
    };
    const vi = ds?.vars.find((v) => v.offset === off && btf!.tryType(v.type)?.name === sym.name);
    const vt = vi ? btf!.tryType(vi.type) : undefined;
    const st = vt && vt.kind === 'VAR' ? btf!.skipModsAndTypedefs(vt.type) : undefined;
    const struct = st && st.kind === 'STRUCT' ? st : undefined;
    let size: number;
    if (vi && vi.size > 0) size = vi.size;
    else if (sym.size > 0) size = sym.size;
    else if (sec.size % syms.length === 0) size = sec.size / syms.length;
    else {
      refuse(`elf: unable to determine legacy map definition size in ${sec.name}: ${sec.size} bytes for ${syms.length} maps (map '${sym.name}')`);
      continue;
    }
    if (off + size > sec.size) {
      refuse(`legacy map '${sym.name}' at offset ${off} (${size} bytes) is outside the '${sec.name}' section (${sec.size} bytes)`);
      continue;
    }
    const fields = new Map<string, number>();
    const unknown: NonNullable<LegacyMapInfo['unknown']> = [];
    const u = (at: number, n: number): number => {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + (at + i < size ? view.getUint8(off + at + i) : 0);
      return v;
    };
    let layout: LegacyMapInfo['layout'];
    let covered = 0;
    if (struct) {
      for (const m of struct.members) {
        const msize = btf!.tryResolveSize(m.type);
        const at = m.bitOffset / 8;
        if (typeof msize === 'string' || m.bitfieldSize || !Number.isInteger(at) || msize < 1) continue;
        const known = LEGACY_FIELDS[m.name];
        const n = Math.min(msize, 4);
        if (known !== undefined && msize <= 8) {
          fields.set(known, u(at, n));
        } else {
          for (let i = 0; i < msize; i += 4) {
            const v = u(at + i, Math.min(4, msize - i));
            if (v) unknown.push({ offset: at + i, name: m.name, value: v });
          }
        }
        covered = Math.max(covered, at + msize);
      }
      const names = new Set(struct.members.map((m) => m.name));
      layout = ['size_key', 'size_value', 'max_elem', 'id', 'inner_id', 'inner_idx'].some((n) => names.has(n)) ? 'iproute2'
        : names.has('inner_map_idx') || names.has('numa_node') ? 'samples'
          : [...names].every((n) => LIBBPF_LEGACY_FIELDS.includes(n)) ? 'libbpf' : 'other';
    } else {
      // 36 bytes is iproute2's struct bpf_elf_map; 24 to 32 (and more) is iproute2's or samples/bpf's, told by the object's sections.
      layout = size <= 20 ? 'libbpf' : size === 36 || iproute2 ? 'iproute2' : 'samples';
      const order = LEGACY_LAYOUTS[layout];
      order.forEach((f, i) => fields.set(f, u(i * 4, 4)));
      covered = order.length * 4;
    }
    for (let at = covered; at < size; at += 4) {
      const v = u(at, Math.min(4, size - at));
      if (v) unknown.push({ offset: at, value: v });
    }
    const get = (f: string): number => fields.get(f) ?? 0;
    const map: ObjectMapSpec = {
      ...base, type: get('type'), keySize: get('keySize'), valueSize: get('valueSize'), maxEntries: get('maxEntries'), flags: get('flags'),
    };
    const legacy: LegacyMapInfo = {
      layout, fieldsFrom: struct ? 'btf' : 'size', size,
      id: get('id'), pinning: get('pinning'), innerId: get('innerId'), innerIdx: fields.has('innerIdx') ? get('innerIdx') : 0,
    };
    if (fields.has('innerMapIdx')) legacy.innerMapIdx = get('innerMapIdx');
    if (fields.has('numaNode')) legacy.numaNode = get('numaNode');
    if (unknown.length) legacy.unknown = unknown;
    map.legacy = legacy;
    build.log.push(`map '${sym.name}' (legacy): at sec_idx ${sec.index}, offset ${off}.`);
    build.log.push(`map '${sym.name}': ${size}-byte ${layout === 'other' ? '' : `${layout} `}definition (fields read ${struct ? `by name from BTF struct ${struct.name || '(anon)'}` : 'by size'}): type ${map.type}, key ${map.keySize}, value ${map.valueSize}, max_entries ${map.maxEntries}, flags 0x${(map.flags ?? 0).toString(16)}`);
    for (const x of unknown) {
      build.log.push(`map '${sym.name}': unknown non-zero field${x.name ? ` '${x.name}'` : ''} at offset ${x.offset} of its ${size}-byte definition (0x${x.value.toString(16)}): ignored`);
    }
    if (legacy.pinning) {
      map.pinning = legacy.pinning;
      build.log.push(`map '${sym.name}': pinning ${legacy.pinning} (${describePinning(legacy.pinning)}): recorded, tsbpf pins nothing`);
    }
    if (legacy.numaNode && (map.flags ?? 0) & MapFlags.NUMA_NODE) map.numaNode = legacy.numaNode;
    fixupMapDef(build, map);
    annotateLegacyBtf(build, map);
    build.maps.push(map);
  }
  // samples/bpf: a map of maps names its inner map template by index in the section.
  const ours = build.maps.slice(first);
  for (const outer of ours) {
    if (outer.loadError || outer.legacy?.innerMapIdx === undefined) continue;
    if (outer.type !== MapType.ARRAY_OF_MAPS && outer.type !== MapType.HASH_OF_MAPS) continue;
    const inner = ours[outer.legacy.innerMapIdx];
    if (!inner || inner === outer || inner.loadError) {
      outer.loadError = { message: `map '${outer.name}': inner_map_idx ${outer.legacy.innerMapIdx} names no map of section '${sec.name}' to use as the inner map template`, errno: 'EINVAL', section: sec.name, offset: sec.offset + outer.sectionOffset };
      build.log.push(outer.loadError.message);
      continue;
    }
    outer.innerMap = innerTemplate(outer.name, inner);
    build.log.push(`map '${outer.name}': inner map template is map '${inner.name}' (inner_map_idx ${outer.legacy.innerMapIdx})`);
  }
}

/** iproute2 maps of maps: the inner map template is the map whose `id` is the outer map's `inner_id` (bpf_map_attach). */
function iproute2InnerTemplates(build: ObjectBuild): void {
  for (const outer of build.maps) {
    const lg = outer.legacy;
    if (!lg || outer.loadError || lg.innerMapIdx !== undefined || (outer.type !== MapType.ARRAY_OF_MAPS && outer.type !== MapType.HASH_OF_MAPS)) continue;
    if (lg.layout !== 'iproute2') continue;
    const at = build.elf.sections[outer.sectionIndex]!.offset + outer.sectionOffset;
    if (!lg.innerId) {
      outer.loadError = { message: `Map '${outer.name}' cannot be created since no inner map ID defined!`, errno: 'EINVAL', section: outer.section, offset: at };
      build.log.push(outer.loadError.message);
      continue;
    }
    const inner = build.maps.find((m) => m !== outer && m.legacy !== undefined && m.legacy.id === lg.innerId && !m.loadError);
    if (!inner) {
      outer.loadError = { message: `Map '${outer.name}' cannot be loaded. Inner map with ID ${lg.innerId} not found!`, errno: 'EINVAL', section: outer.section, offset: at };
      build.log.push(outer.loadError.message);
      continue;
    }
    outer.innerMap = innerTemplate(outer.name, inner);
    build.log.push(`map '${outer.name}': inner map template is map '${inner.name}' (id ${lg.innerId})`);
  }
}

/** iproute2 `BPF_ANNOTATE_KV_PAIR` and libbpf 0.x: BTF struct `____btf_map_<name>` with `key` and `value` members types a legacy map. */
function annotateLegacyBtf(build: ObjectBuild, map: ObjectMapSpec): void {
  const btf = build.btf;
  const t = btf?.findByName(`____btf_map_${map.name}`, 'STRUCT');
  if (!btf || !t || t.kind !== 'STRUCT') return;
  const key = t.members.find((m) => m.name === 'key');
  const value = t.members.find((m) => m.name === 'value');
  if (!key || !value) return;
  const ks = btf.tryResolveSize(key.type);
  const vs = btf.tryResolveSize(value.type);
  if (ks !== map.keySize || vs !== map.valueSize) {
    build.log.push(`map '${map.name}': ____btf_map_${map.name} key/value sizes ${String(ks)}/${String(vs)} differ from the definition's ${map.keySize}/${map.valueSize}: not used`);
    return;
  }
  map.btfKeyTypeId = key.type;
  map.btfValueTypeId = value.type;
  build.log.push(`map '${map.name}': key [${key.type}] and value [${value.type}] types from ____btf_map_${map.name}`);
}

/**
 * Fix-ups the loaders apply to a definition before creating the map:
 * perf event arrays get key and value size 4 when left at 0 (cilium/ebpf)
 * and max_entries = possible CPUs when 0 (libbpf, when the `possibleCpus`
 * option is given; the runtime does it at creation otherwise); ring buffer
 * sizes are rounded up like libbpf; maps of maps get value size 4.
 */
function fixupMapDef(build: ObjectBuild, map: MapSpec): void {
  if (map.type === MapType.PERF_EVENT_ARRAY) {
    if (map.keySize === 0) {
      map.keySize = 4;
      build.log.push(`map '${map.name}': perf event array key_size 0 set to 4`);
    }
    if (map.valueSize === 0) {
      map.valueSize = 4;
      build.log.push(`map '${map.name}': perf event array value_size 0 set to 4`);
    }
    if (map.maxEntries === 0 && build.options.possibleCpus) {
      map.maxEntries = build.options.possibleCpus;
      build.log.push(`map '${map.name}': setting size to ${map.maxEntries}`);
    }
  }
  if ((map.type === MapType.ARRAY_OF_MAPS || map.type === MapType.HASH_OF_MAPS) && map.valueSize === 0) map.valueSize = 4;
  if (map.type === MapType.RINGBUF || map.type === MapType.USER_RINGBUF) map.maxEntries = adjustRingbufSize(map.maxEntries, build.options.pageSize ?? 4096);
}

/** BTF-defined maps: each VAR of the `.maps` DATASEC is a map, its struct read by {@link parseMapDef}. */
function collectBtfMaps(build: ObjectBuild): void {
  const btf = build.btf;
  const sec = build.section(build.mapsIdx);
  if (!btf) build.fail('BTF-defined maps (.maps section) need BTF: build with -g', '.maps', sec.offset);
  const ds = btf.findByName('.maps', 'DATASEC') as BtfDatasec | undefined;
  if (!ds) build.fail("DATASEC '.maps' not found", '.BTF');
  ds.vars.forEach((vi, varIdx) => {
    const vt = btf.tryType(vi.type);
    const name = vt?.name || `map#${varIdx}`;
    const at = sec.offset + Math.min(vi.offset, sec.size);
    try {
      if (!vt || vt.name === '') build.fail(`map #${varIdx}: empty name`, '.maps', at);
      if (vi.offset + vi.size > sec.size) build.fail(`map '${name}' BTF data is corrupted: ${vi.size} bytes at offset ${vi.offset} are outside .maps (${sec.size} bytes)`, '.maps', at);
      if (vt.kind !== 'VAR') build.fail(`map '${name}': unexpected var kind ${vt.kind.toLowerCase()}`, '.maps', at);
      if (vt.linkage !== BtfVarLinkage.GLOBAL_ALLOCATED) build.fail(`map '${name}': unsupported map linkage ${['static', 'global', 'extern'][vt.linkage] ?? 'unknown'}`, '.maps', at);
      const def = btf.skipModsAndTypedefs(vt.type);
      if (def.kind !== 'STRUCT') build.fail(`map '${name}': unexpected def kind ${def.kind.toLowerCase()}`, '.maps', at);
      if (def.size > vi.size) build.fail(`map '${name}': invalid def size`, '.maps', at);
      build.log.push(`map '${name}': at sec_idx ${sec.index}, offset ${vi.offset}.`);
      const md = parseMapDef(build, name, def, false, at);
      const map: ObjectMapSpec = {
        name, type: md.type, keySize: md.keySize, valueSize: md.valueSize, maxEntries: md.maxEntries, flags: md.flags,
        kind: 'btf', realName: name, section: '.maps', sectionIndex: sec.index, sectionOffset: vi.offset, frozen: false,
      };
      fillMap(build, map, md);
      if (md.inner) {
        const inner: MapSpec = { name: `${name}.inner`, type: md.inner.type, keySize: md.inner.keySize, valueSize: md.inner.valueSize, maxEntries: md.inner.maxEntries, flags: md.inner.flags };
        fillMap(build, inner, md.inner);
        map.innerMap = inner;
      }
      build.maps.push(map);
    } catch (err) {
      if (!(err instanceof LoaderError)) throw err;
      // libbpf refuses the whole object here; tsbpf fails the programs that use this map.
      build.log.push(err.reason);
      build.maps.push({
        name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, kind: 'btf', realName: name, section: '.maps',
        sectionIndex: sec.index, sectionOffset: vi.offset, frozen: false, loadError: failureOf(err, /unknown field/.test(err.reason) ? 'ENOTSUP' : 'EINVAL'),
      });
    }
  });
}

/** Copies a parsed definition into a map (logging the parts found, as libbpf does) and applies {@link fixupMapDef}. */
function fillMap(build: ObjectBuild, map: MapSpec & { numaNode?: number }, md: MapDef): void {
  const n = `map '${map.name}': found`;
  const p = md.parts;
  if (p.has('type')) build.log.push(`${n} type = ${md.type}.`);
  if (p.has('key_type')) build.log.push(`${n} key [${md.keyTypeId}], sz = ${md.keySize}.`);
  else if (p.has('key_size')) build.log.push(`${n} key_size = ${md.keySize}.`);
  if (p.has('value_type')) build.log.push(`${n} value [${md.valueTypeId}], sz = ${md.valueSize}.`);
  else if (p.has('value_size')) build.log.push(`${n} value_size = ${md.valueSize}.`);
  if (p.has('max_entries')) build.log.push(`${n} max_entries = ${md.maxEntries}.`);
  if (p.has('map_flags')) build.log.push(`${n} map_flags = 0x${md.flags.toString(16)}.`);
  if (p.has('map_extra')) build.log.push(`${n} map_extra = 0x${md.mapExtra.toString(16)}.`);
  if (p.has('pinning')) build.log.push(`${n} pinning = ${md.pinning}.`);
  if (p.has('numa_node')) build.log.push(`${n} numa_node = ${md.numaNode}.`);
  if (p.has('inner')) build.log.push(`${n} inner map definition.`);
  if (md.mapExtra) map.mapExtra = md.mapExtra;
  if (md.numaNode) map.numaNode = md.numaNode;
  if (md.pinning) map.pinning = md.pinning;
  if (md.keyTypeId) map.btfKeyTypeId = md.keyTypeId;
  if (md.valueTypeId) {
    map.btfValueTypeId = md.valueTypeId;
    const fields = valueObjects(build, md.valueTypeId, md.valueSize);
    if (fields) map.fields = fields;
  }
  fixupMapDef(build, map);
}

/**
 * The kernel objects in a value of BTF type `typeId` (a struct, or a data
 * section's variables), as the kernel's btf_parse_fields finds them: the
 * spin lock and timer by offset, the others (kptrs, list heads, ...) as byte
 * ranges; undefined when it has none.
 */
function valueObjects(build: ObjectBuild, typeId: number, size: number): MapValueFields | undefined {
  const btf = build.btf!;
  const rec = parseBtfRecord(btf, typeId, MAP_VALUE_FIELDS, size, null);
  if (typeof rec !== 'object' || !rec) return btf.tryType(typeId)?.kind === 'DATASEC' ? undefined : nonEmpty(btf.valueFields(typeId));
  const fields: MapValueFields = {};
  if (rec.spinLockOff >= 0) fields.spinLock = rec.spinLockOff;
  if (rec.timerOff >= 0) fields.timer = rec.timerOff;
  const others = rec.fields.filter((f) => f.type !== 'bpf_spin_lock' && f.type !== 'bpf_timer').map((f) => [f.offset, f.offset + f.size] as const);
  if (others.length) fields.others = others;
  return fields;
}

function nonEmpty(f: MapValueFields): MapValueFields | undefined {
  return f.spinLock !== undefined || f.timer !== undefined ? f : undefined;
}

/** libbpf's parse_btf_map_def. */
function parseMapDef(build: ObjectBuild, mapName: string, def: BtfComposite, inner: boolean, at?: number): MapDef {
  const btf = build.btf!;
  const md: MapDef = { type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, mapExtra: 0n, numaNode: 0, pinning: 0, keyTypeId: 0, valueTypeId: 0, parts: new Set(), hasValues: false };
  const bad: (reason: string) => never = (reason) => build.fail(`map '${mapName}': ${reason}`, '.maps', at);
  const fieldInt = (m: { name: string; type: number }): number => {
    const t = btf.skipModsAndTypedefs(m.type);
    if (t.kind !== 'PTR') bad(`attr '${m.name}': expected PTR, got ${t.kind.toLowerCase()}.`);
    const arr = btf.tryType((t as { type: number }).type);
    if (!arr) bad(`attr '${m.name}': type [${(t as { type: number }).type}] not found.`);
    if (arr.kind !== 'ARRAY') bad(`attr '${m.name}': expected ARRAY, got ${arr.kind.toLowerCase()}.`);
    return arr.nelems;
  };
  const fieldLong = (m: { name: string; type: number }): bigint => {
    const t = btf.skipModsAndTypedefs(m.type);
    if (t.kind === 'PTR') return BigInt(fieldInt(m));
    if (t.kind !== 'ENUM' && t.kind !== 'ENUM64') bad(`attr '${m.name}': expected ENUM or ENUM64, got ${t.kind.toLowerCase()}.`);
    if (t.values.length !== 1) bad(`attr '${m.name}': invalid __ulong`);
    return t.kind === 'ENUM' ? BigInt.asUintN(64, BigInt(t.values[0]!.value)) : t.values[0]!.value;
  };
  const typeSize = (m: { name: string; type: number }, what: string): { size: number; id: number } => {
    const t = btf.tryType(m.type);
    if (!t) bad(`${what} type [${m.type}] not found.`);
    if (t.kind !== 'PTR') bad(`${what} spec is not PTR: ${t.kind.toLowerCase()}.`);
    const sz = btf.tryResolveSize(t.type);
    if (typeof sz === 'string') bad(`can't determine ${what} size for type [${t.type}]: ${sz}.`);
    return { size: sz, id: t.type };
  };
  def.members.forEach((m, i) => {
    switch (m.name) {
      case 'type': md.type = fieldInt(m); md.parts.add('type'); break;
      case 'max_entries': md.maxEntries = fieldInt(m); md.parts.add('max_entries'); break;
      case 'map_flags': md.flags = fieldInt(m); md.parts.add('map_flags'); break;
      case 'numa_node': md.numaNode = fieldInt(m); md.parts.add('numa_node'); break;
      case 'key_size': {
        const sz = fieldInt(m);
        if (md.keySize && md.keySize !== sz) bad(`conflicting key size ${md.keySize} != ${sz}.`);
        md.keySize = sz;
        md.parts.add('key_size');
        break;
      }
      case 'key': {
        const { size, id } = typeSize(m, 'key');
        if (md.keySize && md.keySize !== size) bad(`conflicting key size ${md.keySize} != ${size}.`);
        md.keySize = size;
        md.keyTypeId = id;
        md.parts.add('key_size').add('key_type');
        break;
      }
      case 'value_size': {
        const sz = fieldInt(m);
        if (md.valueSize && md.valueSize !== sz) bad(`conflicting value size ${md.valueSize} != ${sz}.`);
        md.valueSize = sz;
        md.parts.add('value_size');
        break;
      }
      case 'value': {
        const { size, id } = typeSize(m, 'value');
        if (md.valueSize && md.valueSize !== size) bad(`conflicting value size ${md.valueSize} != ${size}.`);
        md.valueSize = size;
        md.valueTypeId = id;
        md.parts.add('value_size').add('value_type');
        break;
      }
      case 'values': {
        const mapInMap = md.type === MapType.ARRAY_OF_MAPS || md.type === MapType.HASH_OF_MAPS;
        const progArray = md.type === MapType.PROG_ARRAY;
        const desc = mapInMap ? 'map-in-map inner' : 'prog-array value';
        if (inner) bad('multi-level inner maps not supported.');
        if (i !== def.members.length - 1) bad("'values' member should be last.");
        if (!mapInMap && !progArray) bad('should be map-in-map or prog-array.');
        if (md.valueSize && md.valueSize !== 4) bad(`conflicting value size ${md.valueSize} != 4.`);
        md.valueSize = 4;
        md.hasValues = true;
        const t = btf.tryType(m.type);
        if (!t) bad(`${desc} type [${m.type}] not found.`);
        if (t.kind !== 'ARRAY' || t.nelems) bad(`${desc} spec is not a zero-sized array.`);
        const p = btf.skipModsAndTypedefs(t.type);
        if (p.kind !== 'PTR') bad(`${desc} def is of unexpected kind ${p.kind.toLowerCase()}.`);
        const target = btf.skipModsAndTypedefs(p.type);
        if (progArray) {
          if (target.kind !== 'FUNC_PROTO') bad(`prog-array value def is of unexpected kind ${target.kind.toLowerCase()}.`);
          break;
        }
        if (target.kind !== 'STRUCT') bad(`map-in-map inner def is of unexpected kind ${target.kind.toLowerCase()}.`);
        md.inner = parseMapDef(build, `${mapName}.inner`, target, true, at);
        md.parts.add('inner');
        break;
      }
      case 'pinning': {
        if (inner) bad("inner def can't be pinned.");
        const v = fieldInt(m);
        if (v !== 0 && v !== 1) bad(`invalid pinning value ${v}.`);
        md.pinning = v;
        md.parts.add('pinning');
        break;
      }
      case 'map_extra': md.mapExtra = fieldLong(m); md.parts.add('map_extra'); break;
      default:
        bad(`unknown field '${m.name}'.`);
    }
  });
  if (md.type === 0) bad("map type isn't specified.");
  return md;
}

/**
 * Initial entries of prog arrays and maps of maps: `.rel.maps` (BTF
 * `values`), then the loaders' conventions: iproute2 tail-call sections
 * (`id/key`) and inner maps (`inner_id`/`inner_idx`), OVS `tail-N`,
 * samples/bpf `socket/N`. A `.maps` relocation libbpf refuses fails the
 * map it is in (and so the programs that use it), not the object.
 */
export function resolveMapInitialValues(build: ObjectBuild): void {
  const rel = build.elf.relocations.find((r) => r.target === build.mapsIdx && build.mapsIdx >= 0);
  if (rel && build.btf) {
    const btf = build.btf;
    const ds = btf.findByName('.maps', 'DATASEC') as BtfDatasec | undefined;
    rel.entries.forEach((r, i) => {
      const relSec = build.elf.sections[rel.index]!;
      const at = relSec.offset + i * (relSec.entsize || 16);
      const sym = build.symbol(r.symbol, rel.name, r.offset);
      build.log.push(`.maps relo #${i}: for ${r.symbol} value ${sym.value} rel->r_offset ${r.offset} name ${sym.nameOff ?? 0} ('${sym.name || '<?>'}')`);
      const mapIdx = ds ? build.maps.findIndex((m) => {
        if (m.kind !== 'btf') return false;
        const vi = ds.vars.find((v) => v.offset === m.sectionOffset);
        return vi !== undefined && vi.offset <= r.offset && r.offset + 8 <= vi.offset + vi.size;
      }) : -1;
      if (mapIdx < 0) {
        build.log.push(`.maps relo #${i}: cannot find map '${sym.name}' at rel->r_offset ${r.offset}: ignored`);
        return;
      }
      const map = build.maps[mapIdx]!;
      if (map.loadError) return;
      const refuse = (message: string): void => {
        map.loadError = { message, errno: 'EINVAL', section: rel.name, offset: at };
        build.log.push(message);
      };
      // libbpf does not look at the type; older clang wrote R_BPF_64_64 where newer writes R_BPF_64_ABS64.
      if (r.type !== RelocType.R_BPF_64_ABS64 && r.type !== RelocType.R_BPF_64_64) {
        refuse(`.maps relo #${i}: unexpected relocation type ${relocName(r.type)} for map '${map.name}'`);
        return;
      }
      const vi = ds!.vars.find((v) => v.offset === map.sectionOffset)!;
      const def = btf.skipModsAndTypedefs((btf.typeById(vi.type) as BtfVar).type) as BtfComposite;
      const last = def.members[def.members.length - 1];
      if (!last || last.name !== 'values') {
        refuse(`.maps relo #${i}: map '${map.name}' has no 'values' member`);
        return;
      }
      const moff = Math.floor(last.bitOffset / 8);
      const rel0 = r.offset - vi.offset;
      if (rel0 < moff || (rel0 - moff) % 8 !== 0) {
        refuse(`.maps relo #${i}: bad slot offset ${rel0} in map '${map.name}'`);
        return;
      }
      const key = (rel0 - moff) / 8;
      let value: MapInitialValue;
      if (map.type === MapType.ARRAY_OF_MAPS || map.type === MapType.HASH_OF_MAPS) {
        if (sym.shndx !== build.mapsIdx) return refuse(`.maps relo #${i}: '${sym.name}' isn't a BTF-defined map`);
        if (map.type === MapType.HASH_OF_MAPS && map.keySize !== 4) return refuse(`.maps relo #${i}: hash-of-maps '${map.name}' should have key size 4.`);
        const target = build.maps.findIndex((m) => m.kind === 'btf' && m.name === sym.name);
        if (target < 0) return refuse(`.maps relo #${i}: '${sym.name}' isn't a valid map reference`);
        value = { key, kind: 'map', map: target, name: sym.name };
      } else if (map.type === MapType.PROG_ARRAY) {
        const prog = build.programs.findIndex((p) => p.name === sym.name);
        if (prog < 0) return refuse(`.maps relo #${i}: '${sym.name}' isn't a valid program reference`);
        const p = build.programs[prog]!;
        if (p.sectionIndex !== sym.shndx || p.sectionOffset !== sym.value) return refuse(`.maps relo #${i}: '${sym.name}' isn't an entry-point program`);
        value = { key, kind: 'program', program: prog, name: sym.name };
      } else {
        return refuse(`.maps relo #${i}: map '${map.name}' is neither a prog array nor a map of maps`);
      }
      (map.initialValues ??= []).push(value);
      build.log.push(`.maps relo #${i}: map '${map.name}' slot [${key}] points to ${value.kind === 'map' ? 'map' : 'prog'} '${sym.name}'`);
    });
  }
  // Tail-call sections: iproute2 "id/key", OVS "tail-N", samples/bpf "socket/N".
  const lastProgArray = build.maps.reduce((last, m, i) => (m.kind === 'legacy' && m.type === MapType.PROG_ARRAY ? i : last), -1);
  build.programs.forEach((p, index) => {
    const tail = p.tailCall;
    if (!tail) return;
    let m = -1;
    let what = '';
    if (tail.loader === 'iproute2') {
      m = build.maps.findIndex((x) => x.legacy !== undefined && x.legacy.id === tail.mapId && x.type === MapType.PROG_ARRAY);
      what = `prog array with id ${tail.mapId}`;
    } else if (tail.loader === 'ovs') {
      m = build.maps.findIndex((x) => x.name === tail.map && x.type === MapType.PROG_ARRAY);
      what = `prog array '${tail.map}'`;
    } else {
      m = lastProgArray;
      what = 'prog array in the maps section';
    }
    if (m < 0) {
      build.log.push(`prog '${p.name}': no ${what} for tail-call section '${p.section}'`);
      return;
    }
    const map = build.maps[m]!;
    if (tail.key >= map.maxEntries) {
      build.log.push(`prog '${p.name}': tail-call key ${tail.key} of section '${p.section}' is beyond max_entries ${map.maxEntries} of prog array '${map.name}' (iproute2: "Tail call key ${tail.key} for map ${tail.mapId ?? map.name} out of bounds?"): not installed`);
      return;
    }
    (map.initialValues ??= []).push({ key: tail.key, kind: 'program', program: index, name: p.name });
    build.log.push(`prog '${p.name}': installed at key ${tail.key} of prog array '${map.name}' (${tail.loader} section '${p.section}')`);
  });
  // iproute2: an inner map with id X and inner_idx K goes at key K of every map of maps whose inner_id is X.
  build.maps.forEach((inner, innerIdx) => {
    const lg = inner.legacy;
    if (!lg || !lg.id || lg.innerId || lg.innerIdx === 0xffffffff || lg.layout !== 'iproute2' || inner.loadError) return;
    build.maps.forEach((outer) => {
      if (!outer.legacy || outer.legacy.innerId !== lg.id || outer === inner) return;
      if (outer.type !== MapType.ARRAY_OF_MAPS && outer.type !== MapType.HASH_OF_MAPS) return;
      (outer.initialValues ??= []).push({ key: lg.innerIdx, kind: 'map', map: innerIdx, name: inner.name });
      build.log.push(`map '${outer.name}': slot [${lg.innerIdx}] holds map '${inner.name}' (inner_idx)`);
    });
  });
  for (const m of build.maps) m.initialValues?.sort((a, b) => a.key - b.key);
}

/** Legacy map definition fields by member name (every loader's struct). */
const LEGACY_FIELDS: Readonly<Record<string, string>> = {
  type: 'type', key_size: 'keySize', size_key: 'keySize', value_size: 'valueSize', size_value: 'valueSize',
  max_entries: 'maxEntries', max_elem: 'maxEntries', map_flags: 'flags', flags: 'flags', id: 'id', pinning: 'pinning',
  inner_id: 'innerId', inner_idx: 'innerIdx', inner_map_idx: 'innerMapIdx', numa_node: 'numaNode',
};
const LIBBPF_LEGACY_FIELDS = ['type', 'key_size', 'value_size', 'max_entries', 'map_flags'];

/** Legacy map definition layouts (u32 fields in order) when there is no BTF to read them by name. */
const LEGACY_LAYOUTS: Readonly<Record<'libbpf' | 'samples' | 'iproute2' | 'other', readonly string[]>> = {
  libbpf: ['type', 'keySize', 'valueSize', 'maxEntries', 'flags'],
  samples: ['type', 'keySize', 'valueSize', 'maxEntries', 'flags', 'innerMapIdx', 'numaNode'],
  iproute2: ['type', 'keySize', 'valueSize', 'maxEntries', 'flags', 'id', 'pinning', 'innerId', 'innerIdx'],
  other: ['type', 'keySize', 'valueSize', 'maxEntries', 'flags'],
};

/** What a pinning value means to the loaders that use it. */
export function describePinning(p: number): string {
  switch (p) {
    case 0: return 'none';
    case 1: return 'libbpf LIBBPF_PIN_BY_NAME, iproute2 PIN_OBJECT_NS';
    case 2: return 'iproute2 PIN_GLOBAL_NS';
    default: return "a loader's own value (iproute2 looks it up in /etc/iproute2/bpf_pinning; Cilium's loader has its own)";
  }
}

/** The inner map template of a map of maps, copied from the map `inner`. */
function innerTemplate(outer: string, inner: MapSpec): MapSpec {
  const t: MapSpec = { name: `${outer}.inner`, type: inner.type, keySize: inner.keySize, valueSize: inner.valueSize, maxEntries: inner.maxEntries, flags: inner.flags ?? 0 };
  if (inner.mapExtra !== undefined) t.mapExtra = inner.mapExtra;
  if (inner.innerMap) t.innerMap = inner.innerMap;
  return t;
}

/** libbpf's adjust_ringbuf_sz: the smallest page-size power-of-two multiple at least `sz`. */
export function adjustRingbufSize(sz: number, pageSize = 4096): number {
  if (sz === 0) return 0;
  if (sz % pageSize === 0 && isPow2(sz / pageSize)) return sz;
  for (let mul = 1; mul <= Math.floor(0xffffffff / pageSize); mul *= 2) {
    if (mul * pageSize > sz) return mul * pageSize;
  }
  return sz;
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
