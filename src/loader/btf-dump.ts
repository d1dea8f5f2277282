/**
 * The text `bpftool btf dump file X` prints (its default "raw" format),
 * line for line: one header line per type, then one tab-indented line per
 * member, enumerator, parameter or section variable. Matches bpftool 7.1.
 */
import type { Btf, BtfType } from './btf.js';

const KIND_STR: Readonly<Record<BtfType['kind'], string>> = {
  UNKN: 'UNKNOWN', INT: 'INT', PTR: 'PTR', ARRAY: 'ARRAY', STRUCT: 'STRUCT', UNION: 'UNION', ENUM: 'ENUM',
  FWD: 'FWD', TYPEDEF: 'TYPEDEF', VOLATILE: 'VOLATILE', CONST: 'CONST', RESTRICT: 'RESTRICT', FUNC: 'FUNC',
  FUNC_PROTO: 'FUNC_PROTO', VAR: 'VAR', DATASEC: 'DATASEC', FLOAT: 'FLOAT', DECL_TAG: 'DECL_TAG',
  TYPE_TAG: 'TYPE_TAG', ENUM64: 'ENUM64',
};

function q(name: string): string {
  return name === '' ? '(anon)' : name;
}

function intEncoding(enc: number): string {
  switch (enc) {
    case 0: return '(none)';
    case 1: return 'SIGNED';
    case 2: return 'CHAR';
    case 4: return 'BOOL';
    default: return 'UNKN';
  }
}

function varLinkage(l: number): string {
  return l === 0 ? 'static' : l === 1 ? 'global' : l === 2 ? 'extern' : '(unknown)';
}

/** The lines bpftool prints for one type (without trailing newline). */
export function dumpBtfType(btf: Btf, t: BtfType): string {
  let s = `[${t.id}] ${KIND_STR[t.kind]} '${q(t.name)}'`;
  switch (t.kind) {
    case 'UNKN':
      break;
    case 'INT':
      s += ` size=${t.size} bits_offset=${t.offset} nr_bits=${t.bits} encoding=${intEncoding(t.encoding)}`;
      break;
    case 'PTR': case 'CONST': case 'VOLATILE': case 'RESTRICT': case 'TYPEDEF': case 'TYPE_TAG':
      s += ` type_id=${t.type}`;
      break;
    case 'ARRAY':
      s += ` type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
      break;
    case 'STRUCT': case 'UNION':
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${q(m.name)}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case 'ENUM':
      s += ` encoding=${t.kflag ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${q(v.name)}' val=${t.kflag ? v.value : v.value >>> 0}`;
      break;
    case 'ENUM64':
      s += ` encoding=${t.kflag ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) {
        s += t.kflag ? `\n\t'${q(v.name)}' val=${BigInt.asIntN(64, v.value)}LL` : `\n\t'${q(v.name)}' val=${BigInt.asUintN(64, v.value)}ULL`;
      }
      break;
    case 'FWD':
      s += ` fwd_kind=${t.kflag ? 'union' : 'struct'}`;
      break;
    case 'FUNC':
      s += ` type_id=${t.type} linkage=${varLinkage(t.linkage)}`;
      break;
    case 'FUNC_PROTO':
      s += ` ret_type_id=${t.type} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${q(p.name)}' type_id=${p.type}`;
      break;
    case 'VAR':
      s += ` type_id=${t.type}, linkage=${varLinkage(t.linkage)}`;
      break;
    case 'DATASEC':
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        if (v.type < btf.count) {
          const vt = btf.typeById(v.type);
          s += ` (${KIND_STR[vt.kind]} '${q(vt.name)}')`;
        }
      }
      break;
    case 'FLOAT':
      s += ` size=${t.size}`;
      break;
    case 'DECL_TAG':
      s += ` type_id=${t.type} component_idx=${t.componentIdx}`;
      break;
  }
  return s;
}

/**
 * The whole raw dump: every own type (for split BTF, only the types after
 * the base, as bpftool does), each followed by a newline.
 */
export function dumpBtf(btf: Btf, rootIds?: readonly number[]): string {
  const parts: string[] = [];
  if (rootIds && rootIds.length) {
    for (const id of rootIds) parts.push(dumpBtfType(btf, btf.typeById(id)));
  } else {
    for (const t of btf.ownTypes) parts.push(dumpBtfType(btf, t));
  }
  return parts.length ? parts.join('\n') + '\n' : '';
}
