/**
 * BTF (BPF Type Format): the type model, a parser for `.BTF` sections and
 * raw BTF files (such as /sys/kernel/btf/vmlinux, including split BTF on
 * top of a base), lookups by id and name, and the size, alignment and
 * member-offset rules libbpf applies (`btf__resolve_size`,
 * `btf__align_of`, `skip_mods_and_typedefs`). The format is Linux's
 * (Documentation/bpf/btf.rst).
 */
import type { ErrorLocation } from '../errors.js';
import { LoaderError } from './loader-error.js';
import { ByteReader, cString, decodeUtf8, encodeUtf8 } from './reader.js';

/** `BTF_KIND_*` numbers. */
export const BtfKind = {
  UNKN: 0, INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9,
  CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17,
  TYPE_TAG: 18, ENUM64: 19,
} as const;

/** Kind names as bpftool prints them (`UNKN` prints as `UNKNOWN`). */
export type BtfKindName = keyof typeof BtfKind;

/** Kind names indexed by kind number. */
export const BTF_KIND_NAMES: readonly BtfKindName[] = [
  'UNKN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST',
  'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
];

/** `BTF_INT_*` encoding bits. */
export const BtfIntEncoding = { SIGNED: 1, CHAR: 2, BOOL: 4 } as const;

/** `BTF_VAR_*` linkage of variables. */
export const BtfVarLinkage = { STATIC: 0, GLOBAL_ALLOCATED: 1, GLOBAL_EXTERN: 2 } as const;

/** `BTF_FUNC_*` linkage of functions. */
export const BtfFuncLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;

/** BTF magic number. */
export const BTF_MAGIC = 0xeb9f;

interface BtfTypeBase {
  /** Type id (0 is void). */
  id: number;
  /** Name; empty for anonymous types. */
  name: string;
  /** The `kind_flag` bit of `info`. */
  kflag: boolean;
}

/** Kind 0 in the type section (never referenced; id 0 is void). */
export interface BtfUnknown extends BtfTypeBase { kind: 'UNKN'; sizeOrType: number }
/** An integer: `size` bytes, `bits` value bits starting at bit `offset`. */
export interface BtfInt extends BtfTypeBase { kind: 'INT'; size: number; encoding: number; offset: number; bits: number }
/** Pointer and the modifiers/typedef that only reference another type. */
export interface BtfRef extends BtfTypeBase { kind: 'PTR' | 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG'; type: number }
/** An array of `nelems` elements of `type`. */
export interface BtfArray extends BtfTypeBase { kind: 'ARRAY'; type: number; indexType: number; nelems: number }
/** A struct or union member; `bitOffset` from the start of the aggregate. */
export interface BtfMember { name: string; type: number; bitOffset: number; bitfieldSize: number }
/** A struct or union. */
export interface BtfComposite extends BtfTypeBase { kind: 'STRUCT' | 'UNION'; size: number; members: BtfMember[] }
/** An enumerator of a 32-bit enum (`value` is the raw 32-bit value, read as signed). */
export interface BtfEnumValue { name: string; value: number }
/** An enum (`kflag` set: signed). */
export interface BtfEnum extends BtfTypeBase { kind: 'ENUM'; size: number; values: BtfEnumValue[] }
/** An enumerator of a 64-bit enum (raw unsigned 64-bit value). */
export interface BtfEnum64Value { name: string; value: bigint }
/** A 64-bit enum (`kflag` set: signed). */
export interface BtfEnum64 extends BtfTypeBase { kind: 'ENUM64'; size: number; values: BtfEnum64Value[] }
/** A forward declaration (`kflag` set: union, else struct). */
export interface BtfFwd extends BtfTypeBase { kind: 'FWD' }
/** A function; `type` is its FUNC_PROTO; `linkage` is `BTF_FUNC_*`. */
export interface BtfFunc extends BtfTypeBase { kind: 'FUNC'; type: number; linkage: number }
/** A function parameter (type 0 with no name: varargs). */
export interface BtfParam { name: string; type: number }
/** A function prototype; `type` is the return type. */
export interface BtfFuncProto extends BtfTypeBase { kind: 'FUNC_PROTO'; type: number; params: BtfParam[] }
/** A variable; `linkage` is `BTF_VAR_*`. */
export interface BtfVar extends BtfTypeBase { kind: 'VAR'; type: number; linkage: number }
/** A variable (or function) inside a data section. */
export interface BtfVarSecinfo { type: number; offset: number; size: number }
/** A data section (`.data`, `.maps`, `.kconfig`, ...). */
export interface BtfDatasec extends BtfTypeBase { kind: 'DATASEC'; size: number; vars: BtfVarSecinfo[] }
/** A floating-point type. */
export interface BtfFloat extends BtfTypeBase { kind: 'FLOAT'; size: number }
/** A declaration tag on `type` (component -1: the type itself, else a member/param index). */
export interface BtfDeclTag extends BtfTypeBase { kind: 'DECL_TAG'; type: number; componentIdx: number }

/** Any BTF type. */
export type BtfType =
  | BtfUnknown | BtfInt | BtfRef | BtfArray | BtfComposite | BtfEnum | BtfEnum64 | BtfFwd | BtfFunc
  | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;

/** The void type, id 0. */
export const VOID_TYPE: BtfUnknown = Object.freeze({ id: 0, name: '', kflag: false, kind: 'UNKN', sizeOrType: 0 }) as BtfUnknown;

/** Number of "vlen" entries a type carries (what bpftool prints as vlen). */
export function btfVlen(t: BtfType): number {
  switch (t.kind) {
    case 'STRUCT': case 'UNION': return t.members.length;
    case 'ENUM': case 'ENUM64': return t.values.length;
    case 'FUNC_PROTO': return t.params.length;
    case 'DATASEC': return t.vars.length;
    case 'FUNC': return t.linkage;
    default: return 0;
  }
}

/** Whether a type is a const/volatile/restrict/type-tag modifier. */
export function isModifier(t: BtfType): boolean {
  return t.kind === 'VOLATILE' || t.kind === 'CONST' || t.kind === 'RESTRICT' || t.kind === 'TYPE_TAG';
}

/** Whether a type is ENUM or ENUM64. */
export function isAnyEnum(t: BtfType): t is BtfEnum | BtfEnum64 {
  return t.kind === 'ENUM' || t.kind === 'ENUM64';
}

/** Whether a type is a struct or union. */
export function isComposite(t: BtfType): t is BtfComposite {
  return t.kind === 'STRUCT' || t.kind === 'UNION';
}

/** Where a BTF blob came from, for error messages. */
export interface BtfSource {
  /** File name. */
  file?: string;
  /** ELF section name (`.BTF`), if any. */
  section?: string;
  /** File offset of the blob's first byte. */
  offset?: number;
}

/** Options of {@link Btf.parse}. */
export interface BtfParseOptions extends BtfSource {
  /** Base BTF of split BTF (kernel module BTF on top of vmlinux). */
  base?: Btf;
  /** A name for this BTF in logs (CO-RE prints it: `[vmlinux]`). */
  name?: string;
}

/** Deepest chain of modifiers/typedefs/arrays followed (libbpf's MAX_RESOLVE_DEPTH). */
export const MAX_RESOLVE_DEPTH = 32;

/** A parsed or built BTF: types by id, strings, lookups and layout rules. */
export class Btf {
  /** Name used in logs (`vmlinux`, the object name, ...). */
  name: string;
  /** Base BTF of split BTF, if any. */
  readonly base: Btf | undefined;
  /** Own types, in id order starting at `startId`. */
  readonly ownTypes: readonly BtfType[];
  /** Id of the first own type (1, or the base's count for split BTF). */
  readonly startId: number;
  /** Raw string section (starts with a NUL unless split). */
  readonly strings: Uint8Array;
  /** Offset where this BTF's strings start (the base's string length for split BTF). */
  readonly stringStart: number;
  private byName: Map<string, number[]> | undefined;
  private readonly stringCache = new Map<number, string>();
  private readonly source: BtfSource;

  constructor(types: readonly BtfType[], strings: Uint8Array, options: { base?: Btf; name?: string; source?: BtfSource } = {}) {
    this.base = options.base;
    this.startId = options.base ? options.base.count : 1;
    this.stringStart = options.base ? options.base.stringStart + options.base.strings.length : 0;
    this.ownTypes = types;
    this.strings = strings;
    this.name = options.name ?? '';
    this.source = options.source ?? {};
  }

  /** Parses a BTF blob (a `.BTF` section or a raw BTF file). */
  static parse(bytes: Uint8Array, options: BtfParseOptions = {}): Btf {
    return parseBtf(bytes, options);
  }

  /** Number of type ids, including void (libbpf's `btf__type_cnt`). */
  get count(): number {
    return this.startId + this.ownTypes.length;
  }

  /** Whether `id` names a type of this BTF (or its base). */
  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.count;
  }

  /** The type with id `id`; id 0 is void. Throws for unknown ids. */
  typeById(id: number): BtfType {
    if (id === 0) return this.base ? this.base.typeById(0) : VOID_TYPE;
    if (id < this.startId) {
      if (this.base && id > 0) return this.base.typeById(id);
    } else {
      const t = this.ownTypes[id - this.startId];
      if (t) return t;
    }
    throw this.error(`type id ${id} does not exist (${this.count - 1} types)`);
  }

  /** The type with id `id`, or undefined. */
  tryType(id: number): BtfType | undefined {
    return this.has(id) ? this.typeById(id) : undefined;
  }

  /** All types from id 1 (or the base's first own id with `own`) on. */
  *types(own = false): IterableIterator<BtfType> {
    if (!own && this.base) yield* this.base.types();
    yield* this.ownTypes;
  }

  /** The string at offset `off` of the string section (split BTF: base offsets first). */
  stringAt(off: number): string {
    if (off < this.stringStart) {
      if (this.base) return this.base.stringAt(off);
    }
    const cached = this.stringCache.get(off);
    if (cached !== undefined) return cached;
    const rel = off - this.stringStart;
    if (!Number.isInteger(rel) || rel < 0 || rel >= this.strings.length) throw this.error(`string offset ${off} is outside the string section (${this.stringStart + this.strings.length} bytes)`);
    let end = rel;
    while (end < this.strings.length && this.strings[end] !== 0) end++;
    if (end >= this.strings.length) throw this.error(`string at offset ${off} is not NUL-terminated`);
    const s = decodeUtf8(this.strings.subarray(rel, end));
    this.stringCache.set(off, s);
    return s;
  }

  /** Whether `off` is a valid string offset. */
  hasString(off: number): boolean {
    if (off < this.stringStart) return this.base ? this.base.hasString(off) : false;
    const rel = off - this.stringStart;
    return Number.isInteger(rel) && rel >= 0 && rel < this.strings.length;
  }

  /** Ids of the types called `name` (any kind), ascending, base first. */
  idsByName(name: string): readonly number[] {
    if (!this.byName) {
      const map = new Map<string, number[]>();
      let id = this.startId;
      for (const t of this.ownTypes) {
        if (t.name) {
          const list = map.get(t.name);
          if (list) list.push(id);
          else map.set(t.name, [id]);
        }
        id++;
      }
      this.byName = map;
    }
    const own = this.byName.get(name) ?? [];
    return this.base ? [...this.base.idsByName(name), ...own] : own;
  }

  /** The first type called `name` of kind `kind` (libbpf `btf__find_by_name_kind`), or undefined. */
  findByName(name: string, kind?: BtfKindName): BtfType | undefined {
    for (const id of this.idsByName(name)) {
      const t = this.typeById(id);
      if (kind === undefined || t.kind === kind) return t;
    }
    return undefined;
  }

  /** Follows modifiers and typedefs from `id` (libbpf `skip_mods_and_typedefs`). */
  skipModsAndTypedefs(id: number): BtfType {
    let t = this.typeById(id);
    for (let depth = 0; isModifier(t) || t.kind === 'TYPEDEF'; depth++) {
      if (depth >= MAX_RESOLVE_DEPTH * 4) throw this.error(`type [${id}]: modifier/typedef chain too long or looping`);
      t = this.typeById((t as BtfRef).type);
    }
    return t;
  }

  /**
   * The kernel objects inside a value of type `id` (the kernel's
   * `btf_parse_fields`): the byte offsets of a `struct bpf_spin_lock` and a
   * `struct bpf_timer`, found in the type itself or in nested structs.
   */
  valueFields(id: number): { spinLock?: number; timer?: number } {
    const out: { spinLock?: number; timer?: number } = {};
    const walk = (typeId: number, base: number, depth: number): void => {
      if (depth > MAX_RESOLVE_DEPTH) return;
      let t: BtfType;
      try {
        t = this.skipModsAndTypedefs(typeId);
      } catch {
        return;
      }
      if (t.kind !== 'STRUCT' && t.kind !== 'UNION') return;
      if (t.name === 'bpf_spin_lock') {
        out.spinLock ??= base;
        return;
      }
      if (t.name === 'bpf_timer') {
        out.timer ??= base;
        return;
      }
      for (const m of t.members) if (m.bitfieldSize === 0 && m.bitOffset % 8 === 0) walk(m.type, base + m.bitOffset / 8, depth + 1);
    };
    walk(id, 0, 0);
    return out;
  }

  /** Follows modifiers only (not typedefs). */
  skipModifiers(id: number): BtfType {
    let t = this.typeById(id);
    for (let depth = 0; isModifier(t); depth++) {
      if (depth >= MAX_RESOLVE_DEPTH * 4) throw this.error(`type [${id}]: modifier chain too long or looping`);
      t = this.typeById((t as BtfRef).type);
    }
    return t;
  }

  /**
   * Follows modifiers, typedefs and variables to the underlying type id
   * (libbpf `btf__resolve_type`). Throws on void or too deep chains.
   */
  resolveType(id: number): number {
    let t = this.typeById(id);
    let depth = 0;
    while (depth < MAX_RESOLVE_DEPTH && t.id !== 0 && (isModifier(t) || t.kind === 'TYPEDEF' || t.kind === 'VAR')) {
      id = (t as BtfRef | BtfVar).type;
      t = this.typeById(id);
      depth++;
    }
    if (depth === MAX_RESOLVE_DEPTH || t.id === 0) throw this.error(`type [${id}] does not resolve to a concrete type`);
    return id;
  }

  /** Size in bytes of type `id` (libbpf `btf__resolve_size`). Throws when it has none. */
  resolveSize(id: number): number {
    const r = this.tryResolveSize(id);
    if (typeof r === 'string') throw this.error(r);
    return r;
  }

  /** Like {@link resolveSize} but returns the reason as a string instead of throwing. */
  tryResolveSize(id: number): number | string {
    let nelems = 1;
    let t = this.tryType(id);
    if (!t) return `type id ${id} does not exist`;
    for (let i = 0; i < MAX_RESOLVE_DEPTH && t.id !== 0; i++) {
      switch (t.kind) {
        case 'INT': case 'STRUCT': case 'UNION': case 'ENUM': case 'ENUM64': case 'DATASEC': case 'FLOAT': {
          const size = nelems * t.size;
          if (size > 0xffffffff) return `type [${id}] is too large`;
          return size;
        }
        case 'PTR':
          return nelems * 8;
        case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG': case 'VAR': case 'DECL_TAG':
          t = this.tryType(t.type);
          break;
        case 'ARRAY':
          if (nelems && t.nelems > Math.floor(0xffffffff / nelems)) return `type [${id}] is too large`;
          nelems *= t.nelems;
          t = this.tryType(t.type);
          break;
        default:
          return `type [${t.id}] ${describeKind(t)} has no size`;
      }
      if (!t) return `type [${id}] refers to a missing type`;
    }
    return `type [${id}] has no size (void or a chain deeper than ${MAX_RESOLVE_DEPTH})`;
  }

  /** Alignment in bytes of type `id` (libbpf `btf__align_of`; packed structs give 1). */
  alignOf(id: number, depth = 0): number {
    if (depth > MAX_RESOLVE_DEPTH) throw this.error(`type [${id}]: nesting too deep to compute its alignment`);
    const t = this.typeById(id);
    switch (t.kind) {
      case 'INT': case 'ENUM': case 'ENUM64': case 'FLOAT':
        return Math.min(8, t.size);
      case 'PTR':
        return 8;
      case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG':
        return this.alignOf(t.type, depth + 1);
      case 'ARRAY':
        return this.alignOf(t.type, depth + 1);
      case 'STRUCT': case 'UNION': {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignOf(m.type, depth + 1);
          max = Math.max(max, a);
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        if (t.size % max !== 0) return 1;
        return max;
      }
      default:
        throw this.error(`type [${id}] ${describeKind(t)} has no alignment`);
    }
  }

  /** The member of struct/union `id` called `name` (direct members only), with its index. */
  member(id: number, name: string): { index: number; member: BtfMember } | undefined {
    const t = this.skipModsAndTypedefs(id);
    if (!isComposite(t)) return undefined;
    const index = t.members.findIndex((m) => m.name === name);
    return index < 0 ? undefined : { index, member: t.members[index]! };
  }

  /**
   * Byte/bit position of a member path such as `['data']` or
   * `['headers', 'pkt_type']` in struct `id`, descending into anonymous
   * members when a name is not found directly.
   */
  fieldOffset(id: number, path: readonly string[]): { bitOffset: number; bitfieldSize: number; type: number } {
    let bitOffset = 0;
    let cur = id;
    let last: BtfMember | undefined;
    for (const name of path) {
      const found = this.findMember(cur, name, 0);
      if (!found) throw this.error(`type [${cur}] has no member '${name}'`);
      bitOffset += found.bitOffset;
      last = found.member;
      cur = found.member.type;
    }
    return { bitOffset, bitfieldSize: last?.bitfieldSize ?? 0, type: cur };
  }

  private findMember(id: number, name: string, depth: number): { member: BtfMember; bitOffset: number } | undefined {
    if (depth > MAX_RESOLVE_DEPTH) return undefined;
    const t = this.skipModsAndTypedefs(id);
    if (!isComposite(t)) return undefined;
    for (const m of t.members) {
      if (m.name === name) return { member: m, bitOffset: m.bitOffset };
    }
    for (const m of t.members) {
      if (m.name === '') {
        const inner = this.findMember(m.type, name, depth + 1);
        if (inner) return { member: inner.member, bitOffset: m.bitOffset + inner.bitOffset };
      }
    }
    return undefined;
  }

  /** `kind name` of a type for messages (`struct task_struct`, `int`, `<anon>`). */
  describe(id: number): string {
    const t = this.tryType(id);
    if (!t) return `<bad type ${id}>`;
    if (id === 0) return 'void';
    return `${describeKind(t)} ${t.name || '<anon>'}`;
  }

  /** A LoaderError located at this BTF's source. */
  error(reason: string, offset?: number): LoaderError {
    const loc: ErrorLocation = {};
    if (this.source.file !== undefined) loc.file = this.source.file;
    if (this.source.section !== undefined) loc.section = this.source.section;
    if (offset !== undefined) loc.offset = (this.source.offset ?? 0) + offset;
    return new LoaderError(`BTF${this.name ? ` '${this.name}'` : ''}: ${reason}`, loc);
  }

  /** Encodes this BTF (own types) into the binary format. */
  encode(): Uint8Array {
    return encodeBtf(this);
  }
}

/** Lower-case kind name as libbpf prints it in messages (`struct`, `typedef`, `func_proto`, `void`, ...). */
export function describeKind(t: BtfType): string {
  return t.kind === 'UNKN' ? 'void' : t.kind.toLowerCase();
}

const HDR_LEN = 24;

/** Parses BTF bytes; see {@link Btf.parse}. */
export function parseBtf(bytes: Uint8Array, options: BtfParseOptions = {}): Btf {
  const where: ErrorLocation = {};
  if (options.file !== undefined) where.file = options.file;
  if (options.section !== undefined) where.section = options.section;
  where.offset = options.offset ?? 0;
  const r = new ByteReader(bytes, where, options.section ?? 'BTF');
  const fail: (reason: string, off?: number) => never = (reason, off) => {
    throw r.error(`BTF: ${reason}`, off);
  };
  if (bytes.length < HDR_LEN) fail(`header not found: ${bytes.length} bytes, a header needs ${HDR_LEN}`, 0);
  const magic = r.u16(0);
  if (magic === 0x9feb) fail('big-endian BTF is not supported', 0);
  if (magic !== BTF_MAGIC) fail(`invalid magic 0x${magic.toString(16)} (expected 0x${BTF_MAGIC.toString(16)})`, 0);
  const version = r.u8(2);
  if (version !== 1) fail(`unsupported version ${version}`, 2);
  const hdrLen = r.u32(4);
  if (hdrLen < HDR_LEN) fail(`header length ${hdrLen} is shorter than ${HDR_LEN}`, 4);
  if (hdrLen > bytes.length) fail(`header length ${hdrLen} is larger than the data (${bytes.length} bytes)`, 4);
  const typeOff = r.u32(8);
  const typeLen = r.u32(12);
  const strOff = r.u32(16);
  const strLen = r.u32(20);
  const metaLeft = bytes.length - hdrLen;
  if (strOff + strLen > metaLeft) fail(`string section (offset ${strOff}, ${strLen} bytes) extends past the end of the data (${metaLeft} bytes after the header)`, 16);
  if (typeOff + typeLen > strOff) fail(`type section (offset ${typeOff}, ${typeLen} bytes) overlaps the string section at ${strOff}`, 8);
  if (typeOff % 4 !== 0) fail(`type section offset ${typeOff} is not aligned to 4 bytes`, 8);

  const base = options.base;
  const strings = bytes.slice(hdrLen + strOff, hdrLen + strOff + strLen);
  if (base && strLen === 0) {
    // Split BTF with no strings of its own.
  } else {
    if (strLen === 0 || strings[strLen - 1] !== 0) fail('invalid string section: empty or not NUL-terminated', hdrLen + strOff);
    if (!base && strings[0] !== 0) fail('malformed string section: it does not start with an empty string (split BTF needs its base)', hdrLen + strOff);
  }
  const stringStart = base ? base.stringStart + base.strings.length : 0;
  const strReader = new ByteReader(strings, { ...where, offset: (where.offset ?? 0) + hdrLen + strOff }, 'BTF string section');
  const strCache = new Map<number, string>();
  const str = (off: number, what: string, at: number): string => {
    if (off === 0) return '';
    if (off < stringStart) {
      if (!base || !base.hasString(off)) fail(`${what}: invalid string offset ${off}`, at);
      return base!.stringAt(off);
    }
    const cached = strCache.get(off);
    if (cached !== undefined) return cached;
    const rel = off - stringStart;
    if (rel >= strings.length) fail(`${what}: string offset ${off} is outside the string section (${stringStart + strLen} bytes)`, at);
    const s = cString(strReader, rel, what);
    strCache.set(off, s);
    return s;
  };

  const tr = r.sub(hdrLen + typeOff, typeLen, 'BTF type section');
  const types: BtfType[] = [];
  const startId = base ? base.count : 1;
  let pos = 0;
  while (pos < typeLen) {
    const id = startId + types.length;
    const at = pos;
    const abs = hdrLen + typeOff + at;
    if (typeLen - pos < 12) fail(`type [${id}] is truncated: ${typeLen - pos} bytes left in the type section`, abs);
    const nameOff = tr.u32(pos);
    const info = tr.u32(pos + 4);
    const sizeOrType = tr.u32(pos + 8);
    pos += 12;
    const kindNum = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = (info >>> 31) === 1;
    if (kindNum >= BTF_KIND_NAMES.length) fail(`type [${id}]: unsupported BTF kind ${kindNum}`, abs);
    const kind = BTF_KIND_NAMES[kindNum]!;
    const name = str(nameOff, `type [${id}] name`, abs);
    const need = (n: number): void => {
      if (pos + n > typeLen) fail(`type [${id}] ${kind.toLowerCase()} is truncated: it needs ${n} more bytes, ${typeLen - pos} are left`, abs);
    };
    let t: BtfType;
    switch (kind) {
      case 'UNKN':
        t = { id, name, kflag, kind, sizeOrType };
        break;
      case 'INT': {
        need(4);
        const v = tr.u32(pos);
        pos += 4;
        t = { id, name, kflag, kind, size: sizeOrType, encoding: (v >>> 24) & 0x0f, offset: (v >>> 16) & 0xff, bits: v & 0xff };
        break;
      }
      case 'PTR': case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG':
        t = { id, name, kflag, kind, type: sizeOrType };
        break;
      case 'ARRAY':
        need(12);
        t = { id, name, kflag, kind, type: tr.u32(pos), indexType: tr.u32(pos + 4), nelems: tr.u32(pos + 8) };
        pos += 12;
        break;
      case 'STRUCT': case 'UNION': {
        need(12 * vlen);
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++, pos += 12) {
          const off = tr.u32(pos + 8);
          members.push({
            name: str(tr.u32(pos), `type [${id}] member ${i} name`, hdrLen + typeOff + pos),
            type: tr.u32(pos + 4),
            bitOffset: kflag ? off & 0xffffff : off,
            bitfieldSize: kflag ? off >>> 24 : 0,
          });
        }
        t = { id, name, kflag, kind, size: sizeOrType, members };
        break;
      }
      case 'ENUM': {
        need(8 * vlen);
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++, pos += 8) {
          values.push({ name: str(tr.u32(pos), `type [${id}] enumerator ${i} name`, hdrLen + typeOff + pos), value: tr.i32(pos + 4) });
        }
        t = { id, name, kflag, kind, size: sizeOrType, values };
        break;
      }
      case 'ENUM64': {
        need(12 * vlen);
        const values: BtfEnum64Value[] = [];
        for (let i = 0; i < vlen; i++, pos += 12) {
          const lo = BigInt(tr.u32(pos + 4));
          const hi = BigInt(tr.u32(pos + 8));
          values.push({ name: str(tr.u32(pos), `type [${id}] enumerator ${i} name`, hdrLen + typeOff + pos), value: (hi << 32n) | lo });
        }
        t = { id, name, kflag, kind, size: sizeOrType, values };
        break;
      }
      case 'FWD':
        t = { id, name, kflag, kind };
        break;
      case 'FUNC':
        t = { id, name, kflag, kind, type: sizeOrType, linkage: vlen };
        break;
      case 'FUNC_PROTO': {
        need(8 * vlen);
        const params: BtfParam[] = [];
        for (let i = 0; i < vlen; i++, pos += 8) {
          params.push({ name: str(tr.u32(pos), `type [${id}] parameter ${i} name`, hdrLen + typeOff + pos), type: tr.u32(pos + 4) });
        }
        t = { id, name, kflag, kind, type: sizeOrType, params };
        break;
      }
      case 'VAR':
        need(4);
        t = { id, name, kflag, kind, type: sizeOrType, linkage: tr.u32(pos) };
        pos += 4;
        break;
      case 'DATASEC': {
        need(12 * vlen);
        const vars: BtfVarSecinfo[] = [];
        for (let i = 0; i < vlen; i++, pos += 12) vars.push({ type: tr.u32(pos), offset: tr.u32(pos + 4), size: tr.u32(pos + 8) });
        t = { id, name, kflag, kind, size: sizeOrType, vars };
        break;
      }
      case 'FLOAT':
        t = { id, name, kflag, kind, size: sizeOrType };
        break;
      case 'DECL_TAG':
        need(4);
        t = { id, name, kflag, kind, type: sizeOrType, componentIdx: tr.i32(pos) };
        pos += 4;
        break;
    }
    types.push(t);
  }

  const btf = new Btf(types, strings, {
    ...(base ? { base } : {}),
    name: options.name ?? '',
    source: { ...(options.file !== undefined ? { file: options.file } : {}), ...(options.section !== undefined ? { section: options.section } : {}), offset: where.offset ?? 0 },
  });
  validateBtf(btf, (reason) => fail(reason));
  return btf;
}

/** Checks that every type reference exists and FUNCs point at FUNC_PROTOs (libbpf `btf_validate_type`). */
function validateBtf(btf: Btf, fail: (reason: string) => never): void {
  const count = btf.count;
  const checkId = (id: number, ctx: number): void => {
    if (id >= count) fail(`type [${ctx}] refers to type [${id}], but there are only ${count - 1} types`);
  };
  for (const t of btf.ownTypes) {
    switch (t.kind) {
      case 'PTR': case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'VAR': case 'DECL_TAG': case 'TYPE_TAG':
        checkId(t.type, t.id);
        break;
      case 'ARRAY':
        checkId(t.type, t.id);
        checkId(t.indexType, t.id);
        break;
      case 'STRUCT': case 'UNION':
        for (const m of t.members) checkId(m.type, t.id);
        break;
      case 'FUNC': {
        checkId(t.type, t.id);
        const proto = btf.typeById(t.type);
        if (proto.kind !== 'FUNC_PROTO') fail(`type [${t.id}]: func '${t.name}' refers to type [${t.type}], which is not a FUNC_PROTO`);
        break;
      }
      case 'FUNC_PROTO':
        checkId(t.type, t.id);
        for (const p of t.params) checkId(p.type, t.id);
        break;
      case 'DATASEC':
        for (const v of t.vars) checkId(v.type, t.id);
        break;
      default:
        break;
    }
  }
}

/** Encodes the own types of a BTF into a standalone binary blob (strings re-interned). */
export function encodeBtf(btf: Btf): Uint8Array {
  if (btf.base) throw new LoaderError('encoding split BTF is not supported');
  const strOffsets = new Map<string, number>([['', 0]]);
  const strParts: Uint8Array[] = [new Uint8Array(1)];
  let strLen = 1;
  const intern = (s: string): number => {
    const known = strOffsets.get(s);
    if (known !== undefined) return known;
    const bytes = encodeUtf8(s);
    const off = strLen;
    strOffsets.set(s, off);
    strParts.push(bytes, new Uint8Array(1));
    strLen += bytes.length + 1;
    return off;
  };
  const words: number[] = [];
  const head = (t: BtfType, vlen: number, sizeOrType: number): void => {
    words.push(intern(t.name), ((t.kflag ? 1 : 0) << 31 | BtfKind[t.kind] << 24 | (vlen & 0xffff)) >>> 0, sizeOrType >>> 0);
  };
  for (const t of btf.ownTypes) {
    switch (t.kind) {
      case 'UNKN': head(t, 0, t.sizeOrType); break;
      case 'INT': head(t, 0, t.size); words.push(((t.encoding & 0xf) << 24 | (t.offset & 0xff) << 16 | (t.bits & 0xff)) >>> 0); break;
      case 'PTR': case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG': head(t, 0, t.type); break;
      case 'ARRAY': head(t, 0, 0); words.push(t.type, t.indexType, t.nelems); break;
      case 'STRUCT': case 'UNION':
        head(t, t.members.length, t.size);
        for (const m of t.members) words.push(intern(m.name), m.type, (t.kflag ? (m.bitfieldSize << 24 | m.bitOffset) : m.bitOffset) >>> 0);
        break;
      case 'ENUM':
        head(t, t.values.length, t.size);
        for (const v of t.values) words.push(intern(v.name), v.value >>> 0);
        break;
      case 'ENUM64':
        head(t, t.values.length, t.size);
        for (const v of t.values) {
          const u = BigInt.asUintN(64, v.value);
          words.push(intern(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
        }
        break;
      case 'FWD': head(t, 0, 0); break;
      case 'FUNC': head(t, t.linkage, t.type); break;
      case 'FUNC_PROTO':
        head(t, t.params.length, t.type);
        for (const p of t.params) words.push(intern(p.name), p.type);
        break;
      case 'VAR': head(t, 0, t.type); words.push(t.linkage); break;
      case 'DATASEC':
        head(t, t.vars.length, t.size);
        for (const v of t.vars) words.push(v.type, v.offset, v.size);
        break;
      case 'FLOAT': head(t, 0, t.size); break;
      case 'DECL_TAG': head(t, 0, t.type); words.push(t.componentIdx >>> 0); break;
    }
  }
  const typeLen = words.length * 4;
  const out = new Uint8Array(HDR_LEN + typeLen + strLen);
  const view = new DataView(out.buffer);
  view.setUint16(0, BTF_MAGIC, true);
  view.setUint8(2, 1);
  view.setUint8(3, 0);
  view.setUint32(4, HDR_LEN, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, typeLen, true);
  view.setUint32(16, typeLen, true);
  view.setUint32(20, strLen, true);
  for (let i = 0; i < words.length; i++) view.setUint32(HDR_LEN + i * 4, words[i]! >>> 0, true);
  let at = HDR_LEN + typeLen;
  for (const part of strParts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
