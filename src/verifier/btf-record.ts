/**
 * The kernel objects a value holds (`struct btf_record`): spin locks,
 * timers, kptrs, list and rbtree roots and nodes, refcounts, found in a map
 * value's BTF type or in a program's own struct types the way the kernel's
 * `btf_parse_fields` finds them (members, nested structs and arrays of
 * them, global variables of a data section). The verifier checks loads,
 * stores and helper arguments against these fields; a struct of the
 * program's BTF with any of them has a record of its own
 * (`btf_parse_struct_metas`), which `bpf_obj_new` objects carry.
 */
import type { KBtfType, KernelBtf } from './kbtf.js';
import { findByNameKind, isModifier, typeById } from './kbtf.js';

/** `enum btf_field_type`, by the name the kernel prints (`btf_field_type_name`). */
export type FieldType =
  | 'bpf_spin_lock' | 'bpf_res_spin_lock' | 'bpf_timer' | 'bpf_wq' | 'bpf_task_work'
  | 'kptr_untrusted' | 'kptr' | 'percpu_kptr' | 'uptr'
  | 'bpf_list_head' | 'bpf_list_node' | 'bpf_rb_root' | 'bpf_rb_node' | 'bpf_refcount';

/** One field of a record. */
export interface BtfField {
  type: FieldType;
  offset: number;
  size: number;
  /** kptrs and uptrs: what they point to, in the kernel BTF (`local` false) or the program's. */
  kptr?: { local: boolean; btfId: number; name: string };
  /** List heads and rbtree roots (`__contains(type, node)`): the value type and its node's offset. */
  graphRoot?: { valueBtfId: number; valueName: string; nodeOffset: number };
}

/** A value's kernel objects, sorted by offset. */
export interface BtfRecord {
  fields: readonly BtfField[];
  spinLockOff: number;
  resSpinLockOff: number;
  timerOff: number;
  wqOff: number;
  refcountOff: number;
}

/** The field types a map value may hold (map_check_btf). */
export const MAP_VALUE_FIELDS: ReadonlySet<FieldType> = new Set<FieldType>([
  'bpf_spin_lock', 'bpf_res_spin_lock', 'bpf_timer', 'bpf_wq', 'bpf_task_work', 'kptr_untrusted', 'kptr', 'percpu_kptr', 'uptr',
  'bpf_list_head', 'bpf_rb_root', 'bpf_refcount',
]);

/** The field types an object of the program's BTF may hold (btf_parse_struct_metas). */
export const ALLOC_OBJ_FIELDS: ReadonlySet<FieldType> = new Set<FieldType>([
  'bpf_spin_lock', 'bpf_res_spin_lock', 'bpf_list_head', 'bpf_list_node', 'bpf_rb_root', 'bpf_rb_node', 'bpf_refcount',
  'kptr_untrusted', 'kptr', 'percpu_kptr',
]);

const STRUCT_FIELDS: readonly { type: FieldType; size: number; align: number; unique: boolean }[] = [
  { type: 'bpf_spin_lock', size: 4, align: 4, unique: true },
  { type: 'bpf_res_spin_lock', size: 8, align: 8, unique: true },
  { type: 'bpf_timer', size: 16, align: 8, unique: true },
  { type: 'bpf_wq', size: 16, align: 8, unique: true },
  { type: 'bpf_task_work', size: 8, align: 8, unique: true },
  { type: 'bpf_list_head', size: 16, align: 8, unique: false },
  { type: 'bpf_list_node', size: 24, align: 8, unique: false },
  { type: 'bpf_rb_root', size: 16, align: 8, unique: false },
  { type: 'bpf_rb_node', size: 32, align: 8, unique: false },
  { type: 'bpf_refcount', size: 4, align: 4, unique: true },
];

const KPTR_TAGS: Readonly<Record<string, FieldType>> = {
  kptr_untrusted: 'kptr_untrusted', kptr: 'kptr', percpu_kptr: 'percpu_kptr', uptr: 'uptr',
};

const KPTRS: ReadonlySet<FieldType> = new Set<FieldType>(['kptr_untrusted', 'kptr', 'percpu_kptr', 'uptr']);

/** Whether a field type is a kptr or uptr (BPF_KPTR | BPF_UPTR). */
export function isKptrField(t: FieldType): boolean {
  return KPTRS.has(t);
}

/** `btf_field_type_name`. */
export function fieldTypeName(t: FieldType): string {
  return t === 'kptr_untrusted' ? 'kptr' : t;
}

const MAX_RESOLVE_DEPTH = 32;
const BTF_FIELDS_MAX = 11;

/** A field found before its type's details are parsed (`btf_field_info`). */
interface FieldInfo {
  type: FieldType;
  off: number;
  kptrTypeId?: number;
  root?: { valueBtfId: number; nodeName: string };
}

class FieldError extends Error {
  constructor(readonly errno: number) {
    super(`btf record: ${errno}`);
  }
}

const EINVAL = -22;
const E2BIG = -7;
const EEXIST = -17;
const ENOENT = -2;

function isStructOrUnion(t: KBtfType): boolean {
  return t.kind === 'STRUCT' || t.kind === 'UNION';
}

/** The decl tag `tag_key...` on member `compIdx` of `owner` (-1: the variable itself); its value, or an error. */
function declTagValue(btf: KernelBtf, ownerId: number, compIdx: number, key: string): string {
  let found: string | null = null;
  for (let id = 1; ; id++) {
    const t = btf.tryType(id);
    if (!t) break;
    if (t.kind !== 'DECL_TAG' || t.type !== ownerId || (t.componentIdx ?? -1) !== compIdx || !t.name.startsWith(key)) continue;
    if (found !== null) throw new FieldError(EINVAL);
    found = t.name.slice(key.length);
  }
  if (found === null) throw new FieldError(EINVAL);
  return found;
}

/** btf_find_kptr: a pointer member tagged kptr, kptr_untrusted, percpu_kptr or uptr. */
function findKptr(btf: KernelBtf, typeId: number, off: number, mask: ReadonlySet<FieldType>): FieldInfo | null {
  let t = typeById(btf, typeId);
  if (t.kind === 'VOLATILE') {
    typeId = t.type ?? 0;
    t = typeById(btf, typeId);
  }
  if (t.kind !== 'PTR') return null;
  let found: FieldType | null = null;
  let count = 0;
  let id = t.type ?? 0;
  let cur = typeById(btf, id);
  for (let depth = 0; isModifier(cur) && depth < MAX_RESOLVE_DEPTH * 4; depth++) {
    if (cur.kind === 'TYPE_TAG' && !cur.kflag) {
      const tag = KPTR_TAGS[cur.name];
      if (tag && found !== tag) {
        found = tag;
        count++;
      }
    }
    id = cur.type ?? 0;
    cur = typeById(btf, id);
  }
  if (count > 1) throw new FieldError(EINVAL);
  if (!found || !mask.has(found)) return null;
  if (!isStructOrUnion(cur)) throw new FieldError(EINVAL);
  return { type: found, off, kptrTypeId: id };
}

/** btf_find_graph_root: a list head or rbtree root with its `contains:TYPE:NODE` tag. */
function findGraphRoot(btf: KernelBtf, ownerId: number, compIdx: number, type: FieldType, off: number): FieldInfo {
  const value = declTagValue(btf, ownerId, compIdx, 'contains:');
  const colon = value.indexOf(':');
  if (colon < 0) throw new FieldError(EINVAL);
  const valueId = findByNameKind(btf, value.slice(0, colon), 'STRUCT');
  if (valueId < 0) throw new FieldError(ENOENT);
  const nodeName = value.slice(colon + 1);
  if (!nodeName) throw new FieldError(EINVAL);
  return { type, off, root: { valueBtfId: valueId, nodeName } };
}

interface Walk {
  btf: KernelBtf;
  mask: ReadonlySet<FieldType>;
  seen: Set<FieldType>;
}

/** btf_repeat_fields: the fields of one array element repeated for the others. */
function repeat(infos: FieldInfo[], count: number, elemSize: number): FieldInfo[] {
  for (const f of infos) {
    if (!KPTRS.has(f.type) && f.type !== 'bpf_list_head' && f.type !== 'bpf_rb_root') throw new FieldError(EINVAL);
  }
  if (infos.length * count > BTF_FIELDS_MAX) throw new FieldError(E2BIG);
  const out: FieldInfo[] = [];
  for (let i = 0; i < count; i++) for (const f of infos) out.push({ ...f, off: f.off + i * elemSize });
  return out;
}

/** btf_find_field_one: the fields of one member (or variable) of type `typeId` at `off`. */
function findFieldOne(w: Walk, ownerId: number, compIdx: number, typeId: number, off: number, expectedSize: number, level: number): FieldInfo[] {
  const { btf } = w;
  let t = typeById(btf, typeId);
  let id = typeId;
  let nelems = 1;
  let i = 0;
  for (; i < MAX_RESOLVE_DEPTH && t.kind === 'ARRAY'; i++) {
    nelems *= t.nelems ?? 0;
    id = t.type ?? 0;
    t = typeById(btf, id);
  }
  if (i === MAX_RESOLVE_DEPTH) throw new FieldError(E2BIG);
  if (nelems === 0) return [];
  // btf_get_field_type: a struct of a special name, else a pointer that may be a kptr
  const special = STRUCT_FIELDS.find((f) => w.mask.has(f.type) && f.type === t.name) ?? null;
  if (special?.unique) {
    if (w.seen.has(special.type)) throw new FieldError(E2BIG);
    w.seen.add(special.type);
  }
  const mayKptr = !special && [...KPTRS].some((k) => w.mask.has(k)) && !isStructOrUnion(t);
  if (!special && !mayKptr) {
    if (!isStructOrUnion(t)) return [];
    const size = t.size ?? 0;
    if (expectedSize && expectedSize !== size * nelems) return [];
    if (level + 1 >= MAX_RESOLVE_DEPTH) throw new FieldError(E2BIG);
    const inner = findStructFields(w, id, t, level + 1).map((f) => ({ ...f, off: f.off + off }));
    if (inner.length === 0 || nelems === 1) return inner;
    return repeat(inner, nelems, size);
  }
  const size = special ? special.size : 8;
  const align = special ? special.align : 8;
  if (expectedSize && expectedSize !== size * nelems) return [];
  if (off % align) return [];
  let info: FieldInfo | null;
  if (!special) {
    info = findKptr(btf, id, off, w.mask);
  } else if (special.type === 'bpf_list_head' || special.type === 'bpf_rb_root') {
    info = isStructOrUnion(t) && t.size === size ? findGraphRoot(btf, ownerId, compIdx, special.type, off) : null;
  } else {
    info = isStructOrUnion(t) && t.size === size ? { type: special.type, off } : null;
  }
  if (!info) return [];
  return nelems > 1 ? repeat([info], nelems, size) : [info];
}

/** btf_find_struct_field. */
function findStructFields(w: Walk, id: number, t: KBtfType, level: number): FieldInfo[] {
  const out: FieldInfo[] = [];
  (t.members ?? []).forEach((m, i) => {
    const bitOff = t.kflag ? m.bitOffset & 0xffffff : m.bitOffset;
    if (bitOff % 8) throw new FieldError(EINVAL);
    out.push(...findFieldOne(w, id, i, m.type, bitOff / 8, 0, level));
  });
  return out;
}

/** btf_parse_graph_root: the node member of the contained type. */
function parseGraphRoot(btf: KernelBtf, info: FieldInfo, nodeType: string): BtfField['graphRoot'] {
  const root = info.root!;
  const vt = typeById(btf, root.valueBtfId);
  let nodeOffset = -1;
  for (const m of vt.members ?? []) {
    if (m.name !== root.nodeName) continue;
    if (nodeOffset >= 0) throw new FieldError(EINVAL);
    const n = typeById(btf, m.type);
    if (!isStructOrUnion(n) || n.name !== nodeType) throw new FieldError(EINVAL);
    if (m.bitOffset % 8) throw new FieldError(EINVAL);
    nodeOffset = m.bitOffset / 8;
    if (nodeOffset % 8) throw new FieldError(EINVAL);
  }
  if (nodeOffset < 0) throw new FieldError(ENOENT);
  return { valueBtfId: root.valueBtfId, valueName: vt.name, nodeOffset };
}

/**
 * btf_parse_fields: the record of type `typeId` of `btf` (a struct or a
 * DATASEC), limited to the field types in `mask`; null when it has none, a
 * negative errno when the kernel refuses its BTF. A kptr to a struct the
 * kernel BTF has by that name points to that kernel type, else to the
 * program's own (an object of `bpf_obj_new`).
 */
export function parseBtfRecord(btf: KernelBtf, typeId: number, mask: ReadonlySet<FieldType>, valueSize: number,
  kernelBtf: KernelBtf | null | (() => KernelBtf | null)): BtfRecord | null | number {
  try {
    const t = typeById(btf, typeId);
    const w: Walk = { btf, mask, seen: new Set() };
    let infos: FieldInfo[];
    if (isStructOrUnion(t)) {
      infos = findStructFields(w, typeId, t, 0);
    } else if (t.kind === 'DATASEC') {
      infos = [];
      for (const v of t.vars ?? []) {
        const vt = typeById(btf, v.type);
        infos.push(...findFieldOne(w, v.type, -1, vt.type ?? 0, v.offset ?? 0, v.size ?? 0, 0));
      }
    } else {
      return EINVAL;
    }
    if (infos.length === 0) return null;
    if (infos.length > BTF_FIELDS_MAX) return E2BIG;
    const rec: BtfRecord = { fields: [], spinLockOff: -1, resSpinLockOff: -1, timerOff: -1, wqOff: -1, refcountOff: -1 };
    const fields: BtfField[] = [];
    let nextOff = 0;
    for (const info of infos) {
      const size = info.type in KPTR_TAGS ? 8 : STRUCT_FIELDS.find((f) => f.type === info.type)!.size;
      if (info.off + size > valueSize) return -14;
      if (info.off < nextOff) return EEXIST;
      nextOff = info.off + size;
      const field: BtfField = { type: info.type, offset: info.off, size };
      switch (info.type) {
        case 'bpf_spin_lock': rec.spinLockOff = info.off; break;
        case 'bpf_res_spin_lock': rec.resSpinLockOff = info.off; break;
        case 'bpf_timer': rec.timerOff = info.off; break;
        case 'bpf_wq': rec.wqOff = info.off; break;
        case 'bpf_refcount': rec.refcountOff = info.off; break;
        case 'bpf_list_head': field.graphRoot = parseGraphRoot(btf, info, 'bpf_list_node'); break;
        case 'bpf_rb_root': field.graphRoot = parseGraphRoot(btf, info, 'bpf_rb_node'); break;
        default:
          if (info.kptrTypeId !== undefined) {
            const target = typeById(btf, info.kptrTypeId);
            const kbtf = typeof kernelBtf === 'function' ? kernelBtf() : kernelBtf;
            const kernelId = kbtf && target.name ? findByNameKind(kbtf, target.name, target.kind === 'UNION' ? 'UNION' : 'STRUCT') : -1;
            field.kptr = kernelId > 0
              ? { local: false, btfId: kernelId, name: target.name }
              : { local: true, btfId: info.kptrTypeId, name: target.name };
          }
      }
      fields.push(field);
    }
    if (rec.spinLockOff >= 0 && rec.resSpinLockOff >= 0) return EINVAL;
    const has = (ft: FieldType): boolean => fields.some((f) => f.type === ft);
    if ((has('bpf_list_head') || has('bpf_rb_root')) && rec.spinLockOff < 0 && rec.resSpinLockOff < 0) return EINVAL;
    if (rec.refcountOff < 0 && has('bpf_list_node') && has('bpf_rb_node')) return EINVAL;
    fields.sort((a, b) => a.offset - b.offset);
    rec.fields = fields;
    return rec;
  } catch (e) {
    if (e instanceof FieldError) return e.errno;
    throw e;
  }
}

const STRUCT_METAS = new WeakMap<KernelBtf, Map<number, BtfRecord | null>>();

/**
 * btf_find_struct_meta: the record of struct `id` of the program's BTF, or
 * null when it holds none of the fields an allocated object may hold.
 */
export function structMeta(progBtf: KernelBtf, id: number, kernelBtf: KernelBtf | null | (() => KernelBtf | null)): BtfRecord | null {
  let cache = STRUCT_METAS.get(progBtf);
  if (!cache) {
    cache = new Map();
    STRUCT_METAS.set(progBtf, cache);
  }
  if (cache.has(id)) return cache.get(id)!;
  const t = typeById(progBtf, id);
  let rec: BtfRecord | null = null;
  if (isStructOrUnion(t)) {
    const r = parseBtfRecord(progBtf, id, ALLOC_OBJ_FIELDS, t.size ?? 0, kernelBtf);
    rec = typeof r === 'number' ? null : r;
  }
  cache.set(id, rec);
  return rec;
}

/** btf_record_find: the field of one of `types` at exactly `offset`. */
export function recordFind(rec: BtfRecord | null | undefined, offset: number, types: (t: FieldType) => boolean): BtfField | undefined {
  return rec?.fields.find((f) => f.offset === offset && types(f.type));
}
