/**
 * CO-RE ("compile once, run everywhere") relocations, as libbpf applies
 * them (its relo_core.c): each `.BTF.ext` record names a local type, an
 * access string (`0:1:2`) and a kind; the loader finds candidate types in
 * the target BTF by name (ignoring `___flavor` suffixes), matches the
 * access path field by field, computes the local and target values and
 * patches the instruction (ALU immediate, LDX/ST/STX offset and size, or
 * lddw immediate). A relocation that cannot be resolved poisons its
 * instruction with `call 0xbad2310` (195896080), exactly like libbpf, so
 * the verifier rejects it only if it is reachable. The log lines are
 * libbpf's debug lines, word for word.
 */
import type { Btf, BtfType } from './btf.js';
import { describeKind, isAnyEnum, isComposite } from './btf.js';
import type { CoreRelo } from './btf-ext.js';
import { CoreReloKind } from './btf-ext.js';
import { LoaderError } from './loader-error.js';
import { LibbpfPoison } from '../isa/uapi.js';

/** The immediate of a poisoned instruction: `call 0xbad2310` ("bad relo"). */
export const CORE_POISON_IMM = LibbpfPoison.CORE_CALL;

/** libbpf's BPF_CORE_SPEC_MAX_LEN. */
const SPEC_MAX_LEN = 64;

const KIND_NAMES: Readonly<Record<number, string>> = {
  0: 'byte_off', 1: 'byte_sz', 2: 'field_exists', 3: 'signed', 4: 'lshift_u64', 5: 'rshift_u64',
  6: 'local_type_id', 7: 'target_type_id', 8: 'type_exists', 9: 'type_size', 10: 'enumval_exists',
  11: 'enumval_value', 12: 'type_matches',
};

/** libbpf's short name of a CO-RE relocation kind (`byte_off`, `field_exists`, ...). */
export function coreReloKindName(kind: number): string {
  return KIND_NAMES[kind] ?? 'unknown';
}

function isFieldBased(kind: number): boolean {
  return kind >= CoreReloKind.FIELD_BYTE_OFFSET && kind <= CoreReloKind.FIELD_RSHIFT_U64;
}

function isTypeBased(kind: number): boolean {
  return kind === CoreReloKind.TYPE_ID_LOCAL || kind === CoreReloKind.TYPE_ID_TARGET || kind === CoreReloKind.TYPE_EXISTS
    || kind === CoreReloKind.TYPE_MATCHES || kind === CoreReloKind.TYPE_SIZE;
}

function isEnumvalBased(kind: number): boolean {
  return kind === CoreReloKind.ENUMVAL_EXISTS || kind === CoreReloKind.ENUMVAL_VALUE;
}

/**
 * Length of a name without its flavor: `task_struct___v2` → 11. The flavor
 * starts at the last `___` that has a non-underscore on both sides.
 */
export function essentialNameLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') return i + 1;
  }
  return name.length;
}

/** The name without its `___flavor` suffix. */
export function essentialName(name: string): string {
  return name.slice(0, essentialNameLength(name));
}

/** One high-level step of an access path: a named field or an array index. */
interface Accessor {
  typeId: number;
  idx: number;
  name?: string;
}

/** A parsed access path against one BTF (libbpf's `struct bpf_core_spec`). */
interface Spec {
  btf: Btf;
  rootTypeId: number;
  kind: number;
  spec: Accessor[];
  raw: number[];
  bitOffset: number;
}

/** A candidate target type. */
interface Candidate {
  btf: Btf;
  id: number;
}

/** What a relocation resolves to (libbpf's `struct bpf_core_relo_res`). */
export interface CoreResult {
  origVal: bigint;
  newVal: bigint;
  poison: boolean;
  validate: boolean;
  failMemszAdjust: boolean;
  origSz: number;
  newSz: number;
  origTypeId: number;
  newTypeId: number;
  /** The local spec in libbpf's text form (what libbpf reports when a poisoned instruction is reached). */
  localSpecText?: string;
}

/** Work allowed per relocation: the searches are exhaustive, so hostile BTF must not make them explode. */
const STEP_BUDGET = 2_000_000;
let steps = 0;

function step(): void {
  if (++steps > STEP_BUDGET) throw new CoreFail('E2BIG', `CO-RE type search exceeded ${STEP_BUDGET} steps (pathological BTF)`);
}

class CoreFail extends Error {
  constructor(readonly errno: string, message = errno) {
    super(message);
  }
}

function kindCompat(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

function skip(btf: Btf, id: number): { t: BtfType; id: number } {
  let t = btf.typeById(id);
  for (let depth = 0; t.kind === 'TYPEDEF' || t.kind === 'VOLATILE' || t.kind === 'CONST' || t.kind === 'RESTRICT' || t.kind === 'TYPE_TAG'; depth++) {
    if (depth > 128) throw new CoreFail('ELOOP', `type [${id}]: modifier chain loops`);
    id = t.type;
    t = btf.typeById(id);
  }
  return { t, id };
}

function resolveSize(btf: Btf, id: number): number {
  const r = btf.tryResolveSize(id);
  if (typeof r === 'string') throw new CoreFail('EINVAL', r);
  return r;
}

function intOffset(t: BtfType): number {
  return t.kind === 'INT' ? t.offset : 0;
}

function typesAreCompat(lb: Btf, lid: number, tb: Btf, tid: number, level: number): number {
  step();
  let lt = lb.typeById(lid);
  let tt = tb.typeById(tid);
  if (!kindCompat(lt, tt)) return 0;
  for (let depth = 32; ; ) {
    if (--depth < 0) throw new CoreFail('EINVAL', 'type compatibility check nests too deep');
    ({ t: lt, id: lid } = skip(lb, lid));
    ({ t: tt, id: tid } = skip(tb, tid));
    if (!kindCompat(lt, tt)) return 0;
    switch (lt.kind) {
      case 'UNKN': case 'STRUCT': case 'UNION': case 'ENUM': case 'FWD': case 'ENUM64':
        return 1;
      case 'INT':
        return intOffset(lt) === 0 && intOffset(tt) === 0 ? 1 : 0;
      case 'PTR':
        lid = lt.type;
        tid = (tt as typeof lt).type;
        continue;
      case 'ARRAY':
        lid = lt.type;
        tid = (tt as typeof lt).type;
        continue;
      case 'FUNC_PROTO': {
        const tp = tt as typeof lt;
        if (lt.params.length !== tp.params.length) return 0;
        for (let i = 0; i < lt.params.length; i++) {
          if (level <= 0) throw new CoreFail('EINVAL', 'type compatibility check nests too deep');
          const r = typesAreCompat(lb, skip(lb, lt.params[i]!.type).id, tb, skip(tb, tp.params[i]!.type).id, level - 1);
          if (r <= 0) return r;
        }
        lid = skip(lb, lt.type).id;
        tid = skip(tb, tp.type).id;
        continue;
      }
      default:
        return 0;
    }
  }
}

/**
 * bpf_core_types_are_compat: whether local type `lid` and target type `tid`
 * are compatible the way libbpf checks `.ksyms` externs against the kernel
 * (func prototypes for kfuncs, variable types for typed ksyms).
 */
export function coreTypesAreCompat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  steps = 0;
  try {
    return typesAreCompat(lb, lid, tb, tid, 32) > 0;
  } catch (err) {
    if (err instanceof CoreFail) return false;
    throw err;
  }
}

function namesMatch(ln: string, tn: string): boolean {
  if (tn === '') return ln === '';
  const tl = essentialNameLength(tn);
  const ll = essentialNameLength(ln);
  return tl === ll && ln.slice(0, ll) === tn.slice(0, tl);
}

function typesMatch(lb: Btf, lid: number, tb: Btf, tid: number, behindPtr: boolean, level: number): number {
  step();
  if (level <= 0) throw new CoreFail('EINVAL', 'type match nests too deep');
  for (let depth = 32; ; ) {
    if (--depth < 0) throw new CoreFail('EINVAL', 'type match nests too deep');
    const l = skip(lb, lid);
    const t = skip(tb, tid);
    const lt = l.t;
    const tt = t.t;
    if (!namesMatch(lt.name, tt.name)) return 0;
    switch (lt.kind) {
      case 'UNKN':
        return tt.kind === 'UNKN' ? 1 : 0;
      case 'FWD':
        if (behindPtr) {
          if (tt.kind === 'FWD') return lt.kflag === tt.kflag ? 1 : 0;
          return (tt.kind === 'STRUCT' && !lt.kflag) || (tt.kind === 'UNION' && lt.kflag) ? 1 : 0;
        }
        return tt.kind === 'FWD' && lt.kflag === tt.kflag ? 1 : 0;
      case 'ENUM': case 'ENUM64': {
        if (!isAnyEnum(tt)) return 0;
        if (lt.size !== tt.size || lt.values.length > tt.values.length) return 0;
        for (const lv of lt.values) {
          if (!tt.values.some((tv) => namesMatch(lv.name, tv.name))) return 0;
        }
        return 1;
      }
      case 'STRUCT': case 'UNION': {
        if (behindPtr) {
          if (lt.kind === tt.kind) return 1;
          if (tt.kind !== 'FWD') return 0;
          return (lt.kind === 'UNION') === tt.kflag ? 1 : 0;
        }
        if (lt.kind !== tt.kind) return 0;
        const tc = tt as typeof lt;
        if (lt.members.length > tc.members.length) return 0;
        for (const lm of lt.members) {
          let matched = false;
          for (const tm of tc.members) {
            if (!namesMatch(lm.name, tm.name)) continue;
            const r = typesMatch(lb, lm.type, tb, tm.type, behindPtr, level - 1);
            if (r > 0) {
              matched = true;
              break;
            }
          }
          if (!matched) return 0;
        }
        return 1;
      }
      case 'INT': {
        if (tt.kind !== 'INT') return 0;
        return lt.size === tt.size && (lt.encoding & 1) === (tt.encoding & 1) ? 1 : 0;
      }
      case 'PTR':
        if (tt.kind !== 'PTR') return 0;
        behindPtr = true;
        lid = lt.type;
        tid = tt.type;
        continue;
      case 'ARRAY':
        if (tt.kind !== 'ARRAY' || lt.nelems !== tt.nelems) return 0;
        lid = lt.type;
        tid = tt.type;
        continue;
      case 'FUNC_PROTO': {
        if (tt.kind !== 'FUNC_PROTO' || lt.params.length !== tt.params.length) return 0;
        for (let i = 0; i < lt.params.length; i++) {
          const r = typesMatch(lb, lt.params[i]!.type, tb, tt.params[i]!.type, behindPtr, level - 1);
          if (r <= 0) return r;
        }
        lid = lt.type;
        tid = tt.type;
        continue;
      }
      default:
        return 0;
    }
  }
}

function isFlexArray(btf: Btf, acc: Accessor | undefined, nelems: number): boolean {
  if (!acc || acc.name === undefined || nelems > 0) return false;
  const t = btf.typeById(acc.typeId);
  return isComposite(t) && acc.idx === t.members.length - 1;
}

/** Parses a relocation's access string against the local BTF (libbpf `bpf_core_parse_spec`). */
function parseSpec(progName: string, btf: Btf, relo: CoreRelo): Spec {
  const specStr = relo.accessStr;
  if (specStr === '' || specStr.startsWith(':')) throw new CoreFail('EINVAL');
  const spec: Spec = { btf, rootTypeId: relo.typeId, kind: relo.kind, spec: [], raw: [], bitOffset: 0 };
  if (isTypeBased(relo.kind)) {
    if (specStr !== '0') throw new CoreFail('EINVAL');
    return spec;
  }
  if (!/^\d+(:\d+)*$/.test(specStr)) throw new CoreFail('EINVAL');
  for (const part of specStr.split(':')) {
    if (spec.raw.length === SPEC_MAX_LEN) throw new CoreFail('E2BIG');
    const v = Number(part);
    if (!Number.isSafeInteger(v) || v > 0x7fffffff) throw new CoreFail('EINVAL');
    spec.raw.push(v);
  }
  let { t, id } = skip(btf, relo.typeId);
  let accessIdx = spec.raw[0]!;
  spec.spec.push({ typeId: id, idx: accessIdx });
  if (isEnumvalBased(relo.kind)) {
    if (!isAnyEnum(t) || spec.raw.length > 1 || accessIdx >= t.values.length) throw new CoreFail('EINVAL');
    spec.spec[0]!.name = t.values[accessIdx]!.name;
    return spec;
  }
  if (!isFieldBased(relo.kind)) throw new CoreFail('EINVAL');
  let sz = resolveSize(btf, id);
  spec.bitOffset = accessIdx * sz * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    ({ t, id } = skip(btf, id));
    accessIdx = spec.raw[i]!;
    if (isComposite(t)) {
      if (accessIdx >= t.members.length) throw new CoreFail('EINVAL');
      const m = t.members[accessIdx]!;
      spec.bitOffset += m.bitOffset;
      if (m.name !== '') {
        spec.spec.push({ typeId: id, idx: accessIdx, name: m.name });
      }
      id = m.type;
    } else if (t.kind === 'ARRAY') {
      const nelems = t.nelems;
      const prev = spec.spec[spec.spec.length - 1];
      ({ t, id } = skip(btf, t.type));
      const flex = isFlexArray(btf, prev, nelems);
      if (!flex && accessIdx >= nelems) throw new CoreFail('EINVAL');
      spec.spec.push({ typeId: id, idx: accessIdx });
      sz = resolveSize(btf, id);
      spec.bitOffset += accessIdx * sz * 8;
    } else {
      throw new CoreFail('EINVAL', `prog '${progName}': relo for [${relo.typeId}] ${specStr} (at idx ${i}) captures type [${id}] of unexpected kind ${describeKind(t)}`);
    }
  }
  return spec;
}

function fieldsAreCompat(lb: Btf, lid: number, tb: Btf, tid: number): number {
  for (let depth = 0; depth < 64; depth++) {
    const l = skip(lb, lid);
    const t = skip(tb, tid);
    const lt = l.t;
    const tt = t.t;
    if (isComposite(lt) && isComposite(tt)) return 1;
    if (!kindCompat(lt, tt)) return 0;
    switch (lt.kind) {
      case 'PTR': case 'FLOAT':
        return 1;
      case 'FWD': case 'ENUM64': case 'ENUM': {
        const ll = essentialNameLength(lt.name);
        const tl = essentialNameLength(tt.name);
        return ll === 0 || tl === 0 || (ll === tl && lt.name.slice(0, ll) === tt.name.slice(0, tl)) ? 1 : 0;
      }
      case 'INT':
        return intOffset(lt) === 0 && intOffset(tt) === 0 ? 1 : 0;
      case 'ARRAY':
        lid = lt.type;
        tid = (tt as typeof lt).type;
        continue;
      default:
        return 0;
    }
  }
  throw new CoreFail('EINVAL', 'field compatibility check nests too deep');
}

function matchMember(lb: Btf, localAcc: Accessor, tb: Btf, targId: number, spec: Spec, next: { id: number }, depth = 0): number {
  if (depth > 64) throw new CoreFail('E2BIG');
  const s = skip(tb, targId);
  const tt = s.t;
  targId = s.id;
  if (!isComposite(tt)) return 0;
  const lt = lb.typeById(localAcc.typeId);
  if (!isComposite(lt)) return 0;
  const localMember = lt.members[localAcc.idx]!;
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i]!;
    step();
    if (spec.raw.length === SPEC_MAX_LEN) throw new CoreFail('E2BIG');
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      const found = matchMember(lb, localAcc, tb, m.type, spec, next, depth + 1);
      if (found) return found;
    } else if (m.name === localMember.name) {
      spec.spec.push({ typeId: targId, idx: i, name: m.name });
      next.id = m.type;
      const found = fieldsAreCompat(lb, localMember.type, tb, m.type);
      if (!found) spec.spec.pop();
      return found;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return 0;
}

function specMatch(local: Spec, tb: Btf, targId: number, targ: Spec): number {
  targ.btf = tb;
  targ.rootTypeId = targId;
  targ.kind = local.kind;
  targ.spec = [];
  targ.raw = [];
  targ.bitOffset = 0;
  if (isTypeBased(local.kind)) {
    if (local.kind === CoreReloKind.TYPE_MATCHES) return typesMatch(local.btf, local.rootTypeId, tb, targId, false, 32);
    return typesAreCompat(local.btf, local.rootTypeId, tb, targId, 32);
  }
  const localAcc0 = local.spec[0]!;
  if (isEnumvalBased(local.kind)) {
    const s = skip(tb, targId);
    if (!isAnyEnum(s.t)) return 0;
    const ll = essentialNameLength(localAcc0.name ?? '');
    for (let i = 0; i < s.t.values.length; i++) {
      const tn = s.t.values[i]!.name;
      if (essentialNameLength(tn) !== ll) continue;
      if ((localAcc0.name ?? '').slice(0, ll) === tn.slice(0, ll)) {
        targ.spec.push({ typeId: s.id, idx: i, name: tn });
        targ.raw.push(i);
        return 1;
      }
    }
    return 0;
  }
  if (!isFieldBased(local.kind)) throw new CoreFail('EINVAL');
  for (let i = 0; i < local.spec.length; i++) {
    const localAcc = local.spec[i]!;
    const s = skip(tb, targId);
    targId = s.id;
    if (localAcc.name !== undefined) {
      const next = { id: targId };
      const matched = matchMember(local.btf, localAcc, tb, targId, targ, next);
      if (matched <= 0) return matched;
      targId = next.id;
    } else {
      if (i > 0) {
        if (s.t.kind !== 'ARRAY') return 0;
        const flex = isFlexArray(tb, targ.spec[i - 1], s.t.nelems);
        if (!flex && localAcc.idx >= s.t.nelems) return 0;
        targId = skip(tb, s.t.type).id;
      }
      if (targ.raw.length === SPEC_MAX_LEN) throw new CoreFail('E2BIG');
      targ.spec.push({ typeId: targId, idx: localAcc.idx });
      targ.raw.push(localAcc.idx);
      const sz = resolveSize(tb, targId);
      targ.bitOffset += localAcc.idx * sz * 8;
    }
  }
  return 1;
}

interface FieldCalc {
  val: bigint;
  fieldSz: number;
  typeId: number;
  validate: boolean;
}

function elemSize(btf: Btf, id: number): number {
  let s = skip(btf, id);
  for (let depth = 0; s.t.kind === 'ARRAY'; depth++) {
    if (depth > 64) throw new CoreFail('EINVAL');
    s = skip(btf, s.t.type);
  }
  return resolveSize(btf, s.id);
}

function calcFieldRelo(progName: string, relo: CoreRelo, spec: Spec | undefined): FieldCalc {
  const out: FieldCalc = { val: 0n, fieldSz: 0, typeId: 0, validate: true };
  if (relo.kind === CoreReloKind.FIELD_EXISTS) {
    out.val = spec ? 1n : 0n;
    return out;
  }
  if (!spec) throw new CoreFail('EUCLEAN');
  const acc = spec.spec[spec.spec.length - 1]!;
  const t = spec.btf.typeById(acc.typeId);
  if (acc.name === undefined) {
    if (relo.kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      out.val = BigInt(Math.floor(spec.bitOffset / 8));
      out.fieldSz = elemSize(spec.btf, acc.typeId);
      out.typeId = acc.typeId;
    } else if (relo.kind === CoreReloKind.FIELD_BYTE_SIZE) {
      out.val = BigInt(resolveSize(spec.btf, acc.typeId));
    } else {
      throw new CoreFail('EINVAL', `prog '${progName}': relo ${relo.kind} at insn #${relo.insnOff / 8} can't be applied to array access`);
    }
    out.validate = true;
    return out;
  }
  if (!isComposite(t)) throw new CoreFail('EINVAL');
  const m = t.members[acc.idx]!;
  const ms = skip(spec.btf, m.type);
  const mt = ms.t;
  const fieldTypeId = ms.id;
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = 'size' in mt ? (mt as { size: number }).size : 0;
    if (byteSz <= 0) throw new CoreFail('EINVAL');
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new CoreFail('E2BIG', `prog '${progName}': relo ${relo.kind} at insn #${relo.insnOff / 8} can't be satisfied for bitfield`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = resolveSize(spec.btf, fieldTypeId);
    byteOff = Math.floor(spec.bitOffset / 8);
    bitSz = byteSz * 8;
  }
  out.validate = !bitfield;
  switch (relo.kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      out.val = BigInt(byteOff);
      if (!bitfield) {
        out.fieldSz = elemSize(spec.btf, fieldTypeId);
        out.typeId = fieldTypeId;
      }
      break;
    case CoreReloKind.FIELD_BYTE_SIZE:
      out.val = BigInt(byteSz);
      break;
    case CoreReloKind.FIELD_SIGNED:
      out.val = (isAnyEnum(mt) && mt.kflag) || (mt.kind === 'INT' && (mt.encoding & 1) !== 0) ? 1n : 0n;
      out.validate = true;
      break;
    case CoreReloKind.FIELD_LSHIFT_U64:
      out.val = BigInt(64 - (bitOff + bitSz - byteOff * 8));
      break;
    case CoreReloKind.FIELD_RSHIFT_U64:
      out.val = BigInt(64 - bitSz);
      out.validate = true;
      break;
    default:
      throw new CoreFail('EOPNOTSUPP');
  }
  return out;
}

function calcTypeRelo(relo: CoreRelo, spec: Spec | undefined): { val: bigint; validate: boolean } {
  if (!spec) return { val: 0n, validate: true };
  switch (relo.kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      return { val: BigInt(spec.rootTypeId), validate: false };
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return { val: 1n, validate: true };
    case CoreReloKind.TYPE_SIZE:
      return { val: BigInt(resolveSize(spec.btf, spec.rootTypeId)), validate: true };
    default:
      throw new CoreFail('EOPNOTSUPP');
  }
}

function calcEnumvalRelo(relo: CoreRelo, spec: Spec | undefined): bigint {
  switch (relo.kind) {
    case CoreReloKind.ENUMVAL_EXISTS:
      return spec ? 1n : 0n;
    case CoreReloKind.ENUMVAL_VALUE: {
      if (!spec) throw new CoreFail('EUCLEAN');
      const t = spec.btf.typeById(spec.spec[0]!.typeId);
      if (t.kind === 'ENUM') return BigInt.asUintN(64, BigInt(t.values[spec.spec[0]!.idx]!.value));
      if (t.kind === 'ENUM64') return t.values[spec.spec[0]!.idx]!.value;
      throw new CoreFail('EINVAL');
    }
    default:
      throw new CoreFail('EOPNOTSUPP');
  }
}

function calcRelo(progName: string, relo: CoreRelo, reloIdx: number, local: Spec, targ: Spec | undefined, log: string[]): CoreResult {
  const res: CoreResult = { origVal: 0n, newVal: 0n, poison: false, validate: true, failMemszAdjust: false, origSz: 0, newSz: 0, origTypeId: 0, newTypeId: 0 };
  try {
    if (isFieldBased(relo.kind)) {
      const o = calcFieldRelo(progName, relo, local);
      res.origVal = o.val;
      res.origSz = o.fieldSz;
      res.origTypeId = o.typeId;
      res.validate = o.validate;
      const n = calcFieldRelo(progName, relo, targ);
      res.newVal = n.val;
      res.newSz = n.fieldSz;
      res.newTypeId = n.typeId;
      if (res.origSz !== res.newSz) {
        const ot = local.btf.typeById(res.origTypeId);
        const nt = targ!.btf.typeById(res.newTypeId);
        const safe = (ot.kind === 'PTR' && nt.kind === 'PTR')
          || (ot.kind === 'INT' && nt.kind === 'INT' && ot.encoding !== 1 && nt.encoding !== 1);
        if (!safe) res.failMemszAdjust = true;
      }
    } else if (isTypeBased(relo.kind)) {
      const o = calcTypeRelo(relo, local);
      res.origVal = o.val;
      res.validate = o.validate;
      res.newVal = calcTypeRelo(relo, targ).val;
    } else if (isEnumvalBased(relo.kind)) {
      res.origVal = calcEnumvalRelo(relo, local);
      res.newVal = calcEnumvalRelo(relo, targ);
    } else {
      throw new CoreFail('EOPNOTSUPP');
    }
  } catch (e) {
    if (e instanceof CoreFail && e.errno === 'EUCLEAN') {
      res.poison = true;
      return res;
    }
    if (e instanceof CoreFail && e.errno === 'EOPNOTSUPP') {
      log.push(`prog '${progName}': relo #${reloIdx}: unrecognized CO-RE relocation ${coreReloKindName(relo.kind)} (${relo.kind}) at insn #${relo.insnOff / 8}`);
    }
    throw e;
  }
  return res;
}

/** libbpf's text form of a spec: `<byte_off> [5] struct task_struct.pid (0:0 @ offset 0)`. */
function formatSpec(spec: Spec): string {
  const t = spec.btf.tryType(spec.rootTypeId);
  let s = `<${coreReloKindName(spec.kind)}> [${spec.rootTypeId}] ${t ? describeKind(t) : 'unknown'} ${t && t.name ? t.name : '<anon>'}`;
  if (isTypeBased(spec.kind)) return s;
  if (isEnumvalBased(spec.kind)) {
    let et: BtfType | undefined;
    try {
      et = skip(spec.btf, spec.rootTypeId).t;
    } catch {
      return s;
    }
    const idx = spec.raw[0] ?? 0;
    if (et.kind === 'ENUM') {
      const e = et.values[idx];
      if (e) s += `::${e.name} = ${et.kflag ? e.value : e.value >>> 0}`;
    } else if (et.kind === 'ENUM64') {
      const e = et.values[idx];
      if (e) s += `::${e.name} = ${et.kflag ? BigInt.asIntN(64, e.value) : e.value}`;
    }
    return s;
  }
  if (isFieldBased(spec.kind)) {
    spec.spec.forEach((a, i) => {
      if (a.name !== undefined) s += `.${a.name}`;
      else if (i > 0 || a.idx > 0) s += `[${a.idx}]`;
    });
    s += ` (${spec.raw.join(':')}`;
    s += spec.bitOffset % 8 ? ` @ offset ${Math.floor(spec.bitOffset / 8)}.${spec.bitOffset % 8})` : ` @ offset ${spec.bitOffset / 8})`;
  }
  return s;
}

/** Candidate cache and settings shared by all relocations of one object. */
export interface CoreContext {
  /** The object's BTF (local types). */
  local: Btf;
  /** The BTF relocations are resolved against. */
  target: Btf;
  /** Name of the target in the log (`vmlinux`, `tsbpf`). */
  targetName: string;
  /** Candidates found so far, by local type id (narrowed as relocations match). */
  cands: Map<number, Candidate[]>;
  /** libbpf-style debug lines are appended here. */
  log: string[];
}

/** A fresh {@link CoreContext}. */
export function coreContext(local: Btf, target: Btf, targetName: string, log: string[]): CoreContext {
  return { local, target, targetName, cands: new Map(), log };
}

function findCandidates(ctx: CoreContext, localId: number): Candidate[] {
  const lt = ctx.local.typeById(localId);
  const localName = lt.name;
  if (localName === '') throw new CoreFail('EINVAL');
  const ll = essentialNameLength(localName);
  const ess = localName.slice(0, ll);
  const out: Candidate[] = [];
  const target = ctx.target;
  for (const t of target.types()) {
    if (!kindCompat(t, lt)) continue;
    const tn = t.name;
    if (tn === '' || tn.length < ll) continue;
    if (essentialNameLength(tn) !== ll || !tn.startsWith(ess)) continue;
    ctx.log.push(`CO-RE relocating [${localId}] ${describeKind(lt)} ${localName}: found target candidate [${t.id}] ${describeKind(t)} ${tn} in [${ctx.targetName}]`);
    out.push({ btf: target, id: t.id });
  }
  return out;
}

/** Where a relocation sits, for error messages. */
export interface CoreSite {
  file?: string;
  section: string;
}

/**
 * Resolves one relocation (libbpf `bpf_core_calc_relo_insn`): returns the
 * values to patch, or throws a LoaderError for relocations libbpf refuses
 * (malformed access strings, ambiguous candidates, ...).
 */
export function resolveCoreRelo(ctx: CoreContext, progName: string, relo: CoreRelo, reloIdx: number, site: CoreSite): CoreResult {
  const log = ctx.log;
  const fail: (reason: string) => never = (reason) => {
    throw new LoaderError(reason, { ...(site.file !== undefined ? { file: site.file } : {}), section: site.section, insn: Math.floor(relo.insnOff / 8) });
  };
  steps = 0;
  const local = ctx.local;
  const lt = local.tryType(relo.typeId);
  if (!lt) return fail(`prog '${progName}': relo #${reloIdx}: local type [${relo.typeId}] does not exist`);
  try {
    let cands: Candidate[] | undefined;
    if (relo.kind !== CoreReloKind.TYPE_ID_LOCAL) {
      cands = ctx.cands.get(relo.typeId);
      if (!cands) {
        try {
          cands = findCandidates(ctx, relo.typeId);
        } catch (e) {
          if (e instanceof CoreFail) {
            return fail(`prog '${progName}': relo #${reloIdx}: target candidate search failed for [${relo.typeId}] ${describeKind(lt)} ${lt.name}: -${e.errno}${e.message !== e.errno ? ` (${e.message})` : ''}`);
          }
          throw e;
        }
        ctx.cands.set(relo.typeId, cands);
      }
    }
    let localSpec: Spec;
    try {
      localSpec = parseSpec(progName, local, relo);
    } catch (e) {
      if (e instanceof CoreFail) {
        return fail(`prog '${progName}': relo #${reloIdx}: parsing [${relo.typeId}] ${describeKind(lt)} ${lt.name || '<anon>'} + ${relo.accessStr} failed: ${e.message !== e.errno ? e.message : `-${e.errno}`}`);
      }
      throw e;
    }
    log.push(`prog '${progName}': relo #${reloIdx}: ${formatSpec(localSpec)}`);
    if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
      return { origVal: BigInt(localSpec.rootTypeId), newVal: BigInt(localSpec.rootTypeId), poison: false, validate: false, failMemszAdjust: false, origSz: 0, newSz: 0, origTypeId: 0, newTypeId: 0 };
    }
    if (lt.name === '') return fail(`prog '${progName}': relo #${reloIdx}: <${coreReloKindName(relo.kind)}> (${relo.kind}) relocation doesn't support anonymous types`);
    const list = cands!;
    let res: CoreResult | undefined;
    let targSpec: Spec | undefined;
    const kept: Candidate[] = [];
    for (let i = 0; i < list.length; i++) {
      const cand: Spec = { btf: list[i]!.btf, rootTypeId: 0, kind: relo.kind, spec: [], raw: [], bitOffset: 0 };
      const matched = specMatch(localSpec, list[i]!.btf, list[i]!.id, cand);
      log.push(`prog '${progName}': relo #${reloIdx}: ${matched === 0 ? 'non-matching' : 'matching'} candidate #${i} ${formatSpec(cand)}`);
      if (matched === 0) continue;
      const candRes = calcRelo(progName, relo, reloIdx, localSpec, cand, log);
      if (!res) {
        res = candRes;
        targSpec = cand;
      } else if (cand.bitOffset !== targSpec!.bitOffset) {
        return fail(`prog '${progName}': relo #${reloIdx}: field offset ambiguity: ${cand.bitOffset} != ${targSpec!.bitOffset}`);
      } else if (candRes.poison !== res.poison || candRes.newVal !== res.newVal) {
        return fail(`prog '${progName}': relo #${reloIdx}: relocation decision ambiguity: ${candRes.poison ? 'failure' : 'success'} ${candRes.newVal} != ${res.poison ? 'failure' : 'success'} ${res.newVal}`);
      }
      kept.push(list[i]!);
    }
    if (kept.length > 0) {
      list.length = 0;
      list.push(...kept);
    }
    if (!res) {
      log.push(`prog '${progName}': relo #${reloIdx}: no matching targets found`);
      res = calcRelo(progName, relo, reloIdx, localSpec, undefined, log);
    }
    res.localSpecText = formatSpec(localSpec);
    return res;
  } catch (e) {
    if (e instanceof CoreFail) return fail(`prog '${progName}': relo #${reloIdx}: failed to relocate: ${e.message !== e.errno ? e.message : `-${e.errno}`}`);
    throw e;
  }
}

function u64(v: number): bigint {
  return BigInt.asUintN(64, BigInt(v));
}

const SIZE_BYTES: Readonly<Record<number, number>> = { 0x18: 8, 0x00: 4, 0x08: 2, 0x10: 1 };
const BYTES_SIZE: Readonly<Record<number, number>> = { 8: 0x18, 4: 0x00, 2: 0x08, 1: 0x10 };

function poisonSlot(view: DataView, slot: number): void {
  const at = slot * 8;
  view.setUint8(at, 0x85);
  view.setUint8(at + 1, 0);
  view.setInt16(at + 2, 0, true);
  view.setInt32(at + 4, CORE_POISON_IMM, true);
}

/**
 * Patches instruction `slot` of `insns` with a resolved relocation
 * (libbpf `bpf_core_patch_insn`), logging what changed.
 */
export function patchCoreInsn(ctx: CoreContext, progName: string, insns: Uint8Array, slot: number, reloIdx: number, res: CoreResult, site: CoreSite): void {
  const log = ctx.log;
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const count = insns.length / 8;
  const fail: (reason: string) => never = (reason) => {
    throw new LoaderError(`prog '${progName}': relo #${reloIdx}: ${reason}`, { ...(site.file !== undefined ? { file: site.file } : {}), section: site.section, insn: slot });
  };
  if (slot < 0 || slot >= count) return fail(`insn #${slot} is outside the program (${count} instructions)`);
  const at = slot * 8;
  const code = view.getUint8(at);
  const cls = code & 7;
  const isLddw = code === 0x18;
  const poison = (): void => {
    if (isLddw && slot + 1 < count) {
      log.push(`prog '${progName}': relo #${reloIdx}: substituting insn #${slot + 1} w/ invalid insn`);
      poisonSlot(view, slot + 1);
    }
    log.push(`prog '${progName}': relo #${reloIdx}: substituting insn #${slot} w/ invalid insn`);
    poisonSlot(view, slot);
  };
  if (res.poison) {
    poison();
    return;
  }
  const origVal = res.origVal;
  const newVal = res.newVal;
  switch (cls) {
    case 0x04: case 0x07: {
      if ((code & 0x08) !== 0) return fail(`insn #${slot} (ALU/ALU64) uses a register operand, not an immediate`);
      const imm = view.getInt32(at + 4, true);
      if (res.validate && u64(imm) !== origVal) {
        return fail(`unexpected insn #${slot} (ALU/ALU64) value: got ${imm}, exp ${origVal} -> ${newVal}`);
      }
      view.setInt32(at + 4, Number(BigInt.asIntN(32, newVal)), true);
      log.push(`prog '${progName}': relo #${reloIdx}: patched insn #${slot} (ALU/ALU64) imm ${u64(imm)} -> ${newVal}`);
      return;
    }
    case 0x01: case 0x02: case 0x03: {
      const off = view.getInt16(at + 2, true);
      if (res.validate && u64(off) !== origVal) {
        return fail(`unexpected insn #${slot} (LDX/ST/STX) value: got ${off}, exp ${origVal} -> ${newVal}`);
      }
      if (newVal > 0x7fffn) return fail(`insn #${slot} (LDX/ST/STX) value too big: ${newVal}`);
      if (res.failMemszAdjust) {
        log.push(`prog '${progName}': relo #${reloIdx}: insn #${slot} (LDX/ST/STX) accesses field incorrectly. Make sure you are accessing pointers, unsigned integers, or fields of matching type and size.`);
        poison();
        return;
      }
      view.setInt16(at + 2, Number(newVal), true);
      log.push(`prog '${progName}': relo #${reloIdx}: patched insn #${slot} (LDX/ST/STX) off ${u64(off)} -> ${newVal}`);
      if (res.newSz !== res.origSz) {
        const bytes = SIZE_BYTES[code & 0x18]!;
        if (bytes !== res.origSz) return fail(`insn #${slot} (LDX/ST/STX) unexpected mem size: got ${bytes}, exp ${res.origSz}`);
        const sizeCode = BYTES_SIZE[res.newSz];
        if (sizeCode === undefined) return fail(`insn #${slot} (LDX/ST/STX) invalid new mem size: ${res.newSz}`);
        view.setUint8(at, (code & 0xe0) | sizeCode | cls);
        log.push(`prog '${progName}': relo #${reloIdx}: patched insn #${slot} (LDX/ST/STX) mem_sz ${res.origSz} -> ${res.newSz}`);
      }
      return;
    }
    case 0x00: {
      const regs = view.getUint8(at + 1);
      if (!isLddw || slot + 1 >= count || (regs >> 4) !== 0 || view.getInt16(at + 2, true) !== 0
        || view.getUint8(at + 8) !== 0 || view.getUint8(at + 9) !== 0 || view.getInt16(at + 10, true) !== 0) {
        return fail(`insn #${slot} (LDIMM64) has unexpected form`);
      }
      const imm = (BigInt(view.getUint32(at + 12, true)) << 32n) | BigInt(view.getUint32(at + 4, true));
      if (res.validate && imm !== origVal) return fail(`unexpected insn #${slot} (LDIMM64) value: got ${imm}, exp ${origVal} -> ${newVal}`);
      view.setInt32(at + 4, Number(BigInt.asIntN(32, newVal)), true);
      view.setInt32(at + 12, Number(BigInt.asIntN(32, newVal >> 32n)), true);
      log.push(`prog '${progName}': relo #${reloIdx}: patched insn #${slot} (LDIMM64) imm64 ${imm} -> ${newVal}`);
      return;
    }
    default: {
      const regs = view.getUint8(at + 1);
      return fail(`trying to relocate unrecognized insn #${slot}, code:0x${code.toString(16)}, src:0x${(regs >> 4).toString(16)}, dst:0x${(regs & 0xf).toString(16)}, off:0x${(view.getInt16(at + 2, true) & 0xffff).toString(16)}, imm:0x${(view.getInt32(at + 4, true) >>> 0).toString(16)}`);
    }
  }
}
