/**
 * The kernel's BTF as the verifier reads it: kernel struct layouts walked
 * by loads through BTF pointers (`btf_struct_walk`, `btf_struct_access`),
 * type matches for helper arguments (`btf_struct_ids_match`), the
 * `__safe_trusted`/`__safe_rcu` allow lists (`btf_nested_type_is_trusted`)
 * and the small type predicates of kernel/bpf/btf.c.
 *
 * The BTF is described structurally (src/loader's `Btf` fits), so the
 * verifier does not depend on the loader; the host reads the file (e.g.
 * /sys/kernel/btf/vmlinux) and hands it in.
 */

/** A member of a struct or union. */
export interface KBtfMember {
  name: string;
  type: number;
  bitOffset: number;
  bitfieldSize: number;
}

/** The parts of a BTF type the verifier reads. */
export interface KBtfType {
  kind: string;
  name: string;
  kflag?: boolean;
  type?: number;
  size?: number;
  members?: readonly KBtfMember[];
  nelems?: number;
  params?: readonly { name: string; type: number }[];
  linkage?: number;
  componentIdx?: number;
  /** A DATASEC's variables. */
  vars?: readonly { type: number; offset?: number; size?: number }[];
}

/** A kernel BTF (vmlinux, or a split module BTF on top of it). */
export interface KernelBtf {
  /** The type with id `id` (0: void), or undefined when there is none. */
  tryType(id: number): KBtfType | undefined;
  /** Ids of the types called `name`, ascending. */
  idsByName(name: string): readonly number[];
}

/** `btf_kind_str`. */
export function kindStr(t: KBtfType): string {
  return t.kind === 'UNKN' ? 'UNKNOWN' : t.kind;
}

const VOID: KBtfType = { kind: 'UNKN', name: '' };

/** `btf_type_by_id` (void for 0 and unknown ids). */
export function typeById(btf: KernelBtf, id: number): KBtfType {
  return (id === 0 ? undefined : btf.tryType(id)) ?? VOID;
}

/** `btf_type_is_modifier`: typedef, volatile, const, restrict, type tag. */
export function isModifier(t: KBtfType): boolean {
  return t.kind === 'TYPEDEF' || t.kind === 'VOLATILE' || t.kind === 'CONST' || t.kind === 'RESTRICT' || t.kind === 'TYPE_TAG';
}

/** `btf_type_is_struct`: a struct or a union. */
export function isStruct(t: KBtfType): boolean {
  return t.kind === 'STRUCT' || t.kind === 'UNION';
}

/** `btf_type_is_small_int`. */
export function isSmallInt(t: KBtfType): boolean {
  return t.kind === 'INT' && (t.size ?? 0) <= 8;
}

/** `btf_is_any_enum`. */
export function isAnyEnum(t: KBtfType): boolean {
  return t.kind === 'ENUM' || t.kind === 'ENUM64';
}

/** `btf_type_is_scalar`: int or enum. */
export function isScalarType(t: KBtfType): boolean {
  return t.kind === 'INT' || isAnyEnum(t);
}

/** `btf_type_skip_modifiers`: the type behind modifiers and typedefs, with its id. */
export function skipModifiers(btf: KernelBtf, id: number): { t: KBtfType; id: number } {
  let t = typeById(btf, id);
  for (let n = 0; isModifier(t) && n < 64; n++) {
    id = t.type ?? 0;
    t = typeById(btf, id);
  }
  return { t, id };
}

/** `__btf_name_by_offset`: a type's or member's name, `(anon)` when it has none. */
export function anonName(name: string): string {
  return name || '(anon)';
}

/** The name of type `id` (`btf_type_name`). */
export function typeName(btf: KernelBtf, id: number): string {
  return typeById(btf, id).name;
}

/** `btf_find_by_name_kind`: the first id of `name` with `kind`, or -1. */
export function findByNameKind(btf: KernelBtf, name: string, kind: string): number {
  for (const id of btf.idsByName(name)) if (typeById(btf, id).kind === kind) return id;
  return -1;
}

/** `__btf_resolve_size`: size of a type through modifiers and (nested) arrays. */
export function resolveSize(btf: KernelBtf, id: number): {
  type: KBtfType; size: number; elemType: KBtfType; elemId: number; totalNelems: number; typeId: number;
} | null {
  let type = typeById(btf, id);
  let arrayType: KBtfType | null = null;
  let arrayElem = 0;
  let nelems = 1;
  let typeId = id;
  for (let i = 0; i < 32; i++) {
    switch (type.kind) {
      case 'INT': case 'STRUCT': case 'UNION': case 'ENUM': case 'FLOAT': case 'ENUM64':
      case 'PTR': {
        const size = type.kind === 'PTR' ? 8 : type.size ?? 0;
        if (nelems && size > 0xffffffff / nelems) return null;
        return {
          type: arrayType ?? type, size: nelems * size, elemType: type, elemId: arrayType ? arrayElem : 0,
          totalNelems: nelems, typeId,
        };
      }
      case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG':
        typeId = type.type ?? 0;
        type = typeById(btf, typeId);
        break;
      case 'ARRAY':
        if (!arrayType) arrayType = type;
        if (nelems && (type.nelems ?? 0) > 0xffffffff / nelems) return null;
        nelems *= type.nelems ?? 0;
        arrayElem = type.type ?? 0;
        type = typeById(btf, arrayElem);
        break;
      default:
        return null;
    }
  }
  return null;
}

/** Result of a struct walk step. */
export const WALK_SCALAR = 0;
export const WALK_PTR = 1;
export const WALK_STRUCT = 2;
/** A pointer member to something that is not a struct: untrusted read-only memory (6.18). */
export const WALK_PTR_UNTRUSTED = 3;

/** Register type flags the walk can add (values of reg.ts `F`). */
export interface WalkFlags {
  user: number;
  percpu: number;
  rcu: number;
  untrusted: number;
}

/** One step of `btf_struct_walk`; `out` receives the next id, the flags and the field name. */
function structWalk(btf: KernelBtf, t0: KBtfType, off0: number, size: number, out: { id: number; flag: number; field: string | null },
  fl: WalkFlags, log: (s: string) => void, walkFlexArrays = true): number {
  let t = t0;
  let off = off0;
  for (let depth = 0; depth < 64; depth++) {
    if (isModifier(t)) t = skipModifiers(btf, t.type ?? 0).t;
    const tname = anonName(t.name);
    if (!isStruct(t)) {
      log(`Type '${tname}' is not a struct\n`);
      return -22;
    }
    const members = t.members ?? [];
    const vlen = members.length;
    if (t.kind === 'UNION' && vlen !== 1 && !(out.flag & fl.untrusted)) out.flag |= fl.untrusted;
    if (off + size > (t.size ?? 0)) {
      const fail = (): number => {
        log(`access beyond struct ${tname} at off ${off >>> 0} size ${size >>> 0}\n`);
        return -13;
      };
      // an allocated object is as large as its struct: no flexible array past it
      if (vlen === 0 || !walkFlexArrays) return fail();
      const member = members[vlen - 1]!;
      const mtype = skipModifiers(btf, member.type).t;
      if (mtype.kind !== 'ARRAY' || (mtype.nelems ?? 0) !== 0) return fail();
      const moff = Math.floor(member.bitOffset / 8);
      if (off < moff) return fail();
      const elem = skipModifiers(btf, mtype.type ?? 0).t;
      if (elem.kind === 'INT') return WALK_SCALAR;
      if (!isStruct(elem)) return fail();
      off = (off - moff) % (elem.size ?? 1);
      t = elem;
      continue;
    }
    let descend = false;
    for (const member of members) {
      let moff = Math.floor(member.bitOffset / 8);
      if (off + size <= moff) break;
      if (member.bitfieldSize) {
        const endBit = member.bitOffset + member.bitfieldSize;
        if (off <= moff && Math.ceil(endBit / 8) <= off + size) return WALK_SCALAR;
        continue;
      }
      if (off < moff) break;
      let mid = member.type;
      const mname = anonName(member.name);
      const r = resolveSize(btf, member.type);
      if (!r) {
        log(`field ${mname} doesn't have size\n`);
        return -14;
      }
      let mtype = r.type;
      let msize = r.size;
      if (r.typeId !== member.type) mid = r.typeId;
      const mtrueEnd = moff + msize;
      if (off >= mtrueEnd) continue;
      if (mtype.kind === 'ARRAY') {
        if (moff === mtrueEnd) continue;
        msize = Math.floor(msize / r.totalNelems);
        const elemIdx = Math.floor((off - moff) / msize);
        moff += elemIdx * msize;
        mtype = r.elemType;
        mid = r.elemId;
      }
      if (isStruct(mtype)) {
        t = mtype;
        if (off === moff) {
          out.id = mid;
          return WALK_STRUCT;
        }
        off -= moff;
        descend = true;
        break;
      }
      if (mtype.kind === 'PTR') {
        if (msize !== size || off !== moff) {
          log(`cannot access ptr member ${mname} with moff ${moff} in struct ${tname} with off ${off} size ${size}\n`);
          return -13;
        }
        let tmpFlag = 0;
        const tag = typeById(btf, mtype.type ?? 0);
        if (tag.kind === 'TYPE_TAG' && !tag.kflag) {
          if (tag.name === 'user') tmpFlag = fl.user;
          if (tag.name === 'percpu') tmpFlag = fl.percpu;
          if (tag.name === 'rcu') tmpFlag = fl.rcu;
        }
        const s = skipModifiers(btf, mtype.type ?? 0);
        if (isStruct(s.t)) {
          out.id = s.id;
          out.flag |= tmpFlag;
          out.field = member.name;
          return WALK_PTR;
        }
        return WALK_PTR_UNTRUSTED;
      }
      if (off + size > mtrueEnd && !(out.flag & fl.untrusted)) {
        log(`access beyond the end of member ${mname} (mend:${mtrueEnd}) in struct ${tname} with off ${off} size ${size}\n`);
        return -13;
      }
      return WALK_SCALAR;
    }
    if (descend) continue;
    log(`struct ${tname} doesn't have field at offset ${off}\n`);
    return -22;
  }
  return -22;
}

/**
 * `btf_struct_access` for a read of `size` bytes at `off` of struct `id`:
 * `{ kind: 'scalar' }`, `{ kind: 'ptr', id, flag, field }` (a pointer
 * member to a struct), or `{ err }` after logging the kernel's message.
 */
export function btfStructAccess(btf: KernelBtf, id0: number, off0: number, size: number, fl: WalkFlags, log: (s: string) => void, walkFlexArrays = true):
  { kind: 'scalar' } | { kind: 'mem' } | { kind: 'ptr'; id: number; flag: number; field: string | null } | { err: number } {
  let id = id0;
  let off = off0;
  const out = { id: 0, flag: 0, field: null as string | null };
  for (let n = 0; n < 64; n++) {
    const t = typeById(btf, id);
    const r = structWalk(btf, t, off, size, out, fl, log, walkFlexArrays);
    if (r === WALK_PTR) return { kind: 'ptr', id: out.id, flag: out.flag, field: out.field };
    if (r === WALK_SCALAR) return { kind: 'scalar' };
    if (r === WALK_PTR_UNTRUSTED) return { kind: 'mem' };
    if (r === WALK_STRUCT) {
      id = out.id;
      off = 0;
      continue;
    }
    return { err: r };
  }
  return { err: -22 };
}

/** `btf_struct_ids_match`: whether struct `id` at `off` is (or starts with, when not strict) struct `needId`. */
export function btfStructIdsMatch(btf: KernelBtf, id0: number, off: number, needId: number, strict: boolean, fl: WalkFlags, log: (s: string) => void): boolean {
  if (off === 0 && id0 === needId) return true;
  if (strict) return false;
  let id = id0;
  let o = off;
  for (let n = 0; n < 64; n++) {
    const t = btf.tryType(id);
    if (!t) return false;
    const out = { id: 0, flag: 0, field: null as string | null };
    const r = structWalk(btf, t, o, 1, out, fl, log);
    if (r !== WALK_STRUCT) return false;
    id = out.id;
    if (id === needId) return true;
    o = 0;
  }
  return false;
}

/**
 * `btf_nested_type_is_trusted`: whether field `field` (pointing to `btfId`)
 * of struct `regBtfId` is listed in the kernel's `<struct><suffix>` allow
 * list (`task_struct__safe_rcu`, ...), which the kernel emits into its BTF.
 */
export function btfNestedTypeIsTrusted(btf: KernelBtf, regBtfId: number, field: string | null, btfId: number, suffix: string): boolean {
  if (field === null) return false;
  const walk = btf.tryType(regBtfId);
  if (!walk) return false;
  const safeName = `${walk.name}${suffix}`;
  if (safeName.length >= 64) return false;
  const safeId = findByNameKind(btf, safeName, walk.kind);
  if (safeId < 0) return false;
  for (const m of typeById(btf, safeId).members ?? []) {
    const mt = typeById(btf, m.type);
    if (mt.kind !== 'PTR') continue;
    const r = skipModifiers(btf, mt.type ?? 0);
    if (btfId === r.id && field === m.name) return true;
  }
  return false;
}

/** `btf_param_match_suffix`. */
export function paramMatchSuffix(name: string, suffix: string): boolean {
  return name.length > suffix.length && name.endsWith(suffix);
}
