/**
 * Building BTF programmatically: a {@link BtfBuilder} collects type
 * descriptions (integers, pointers, arrays, structs with C layout computed
 * for you, enums, functions, ...) and produces a {@link Btf} exactly like
 * one parsed from an object file. tsbpf describes its built-in context
 * structures this way (see ctx-btf.ts).
 */
import { LoaderError } from './loader-error.js';
import type { BtfMember, BtfType } from './btf.js';
import { Btf, encodeBtf, parseBtf } from './btf.js';

/** A member of a struct or union to lay out. */
export interface MemberSpec {
  /** Name; empty for an anonymous struct/union member. */
  name: string;
  /** Type id (from the same builder). */
  type: number;
  /** Bitfield width in bits; omitted for ordinary members. */
  bits?: number;
  /** Explicit bit offset; omitted to place the member as a C compiler would. */
  bitOffset?: number;
}

/** Options of {@link BtfBuilder.struct} and {@link BtfBuilder.union}. */
export interface CompositeOptions {
  /** Explicit size in bytes (default: C layout, rounded up to the alignment). */
  size?: number;
  /** `__attribute__((packed))`: alignment 1, no padding. */
  packed?: boolean;
  /** Minimum alignment (`__attribute__((aligned(N)))`). */
  align?: number;
}

/** A BTF type description without its id. */
export type BtfTypeInput = BtfType extends infer T ? T extends BtfType ? Omit<T, 'id'> : never : never;

interface Layout {
  size: number;
  align: number;
}

/** Collects type descriptions and builds a {@link Btf}. */
export class BtfBuilder {
  private readonly types: (BtfType | undefined)[] = [];
  private readonly layouts = new Map<number, Layout>();
  private arraySizeType = 0;

  /** @param name name of the resulting BTF in logs */
  constructor(private readonly name = '') {}

  private add(t: BtfTypeInput, layout?: Layout): number {
    const id = this.types.length + 1;
    this.types.push({ ...t, id } as BtfType);
    if (layout) this.layouts.set(id, layout);
    return id;
  }

  private layoutOf(id: number, what: string): Layout {
    const l = this.layouts.get(id);
    if (!l) throw new LoaderError(`BTF builder: ${what}: type [${id}] has no known size (declared but not defined, void or a function)`);
    return l;
  }

  /** An integer type (`int`, `unsigned char`, `_Bool`, ...). */
  int(name: string, size: number, options: { signed?: boolean; char?: boolean; bool?: boolean; bits?: number; offset?: number } = {}): number {
    const encoding = (options.signed ? 1 : 0) | (options.char ? 2 : 0) | (options.bool ? 4 : 0);
    return this.add({ kind: 'INT', name, kflag: false, size, encoding, offset: options.offset ?? 0, bits: options.bits ?? size * 8 }, { size, align: Math.min(size, 8) });
  }

  /** A floating-point type. */
  float(name: string, size: number): number {
    return this.add({ kind: 'FLOAT', name, kflag: false, size }, { size, align: Math.min(size, 8) });
  }

  /** A pointer to `target` (0 for `void *`). */
  ptr(target: number): number {
    return this.add({ kind: 'PTR', name: '', kflag: false, type: target }, { size: 8, align: 8 });
  }

  /** `typedef target name`. */
  typedef(name: string, target: number): number {
    return this.add({ kind: 'TYPEDEF', name, kflag: false, type: target }, this.layouts.get(target));
  }

  /** `const target`. */
  const(target: number): number {
    return this.add({ kind: 'CONST', name: '', kflag: false, type: target }, this.layouts.get(target));
  }

  /** `volatile target`. */
  volatile(target: number): number {
    return this.add({ kind: 'VOLATILE', name: '', kflag: false, type: target }, this.layouts.get(target));
  }

  /** `restrict target`. */
  restrict(target: number): number {
    return this.add({ kind: 'RESTRICT', name: '', kflag: false, type: target }, this.layouts.get(target));
  }

  /** `__attribute__((btf_type_tag(name))) target`. */
  typeTag(name: string, target: number): number {
    return this.add({ kind: 'TYPE_TAG', name, kflag: false, type: target }, this.layouts.get(target));
  }

  /** `elem[nelems]`; the index type is clang's `__ARRAY_SIZE_TYPE__` unless given. */
  array(elem: number, nelems: number, indexType?: number): number {
    if (indexType === undefined) {
      if (!this.arraySizeType) this.arraySizeType = this.int('__ARRAY_SIZE_TYPE__', 4);
      indexType = this.arraySizeType;
    }
    const el = this.layoutOf(elem, 'array element');
    return this.add({ kind: 'ARRAY', name: '', kflag: false, type: elem, indexType, nelems }, { size: el.size * nelems, align: el.align });
  }

  /** Reserves an id for a struct/union defined later with {@link define} (for self-references). */
  declare(kind: 'struct' | 'union', name: string): number {
    const id = this.types.length + 1;
    this.types.push(undefined);
    this.pending.set(id, { kind, name });
    return id;
  }

  private readonly pending = new Map<number, { kind: 'struct' | 'union'; name: string }>();

  /** Defines a struct/union reserved with {@link declare}. */
  define(id: number, members: readonly MemberSpec[], options: CompositeOptions = {}): number {
    const p = this.pending.get(id);
    if (!p) throw new LoaderError(`BTF builder: type [${id}] was not declared`);
    this.pending.delete(id);
    const { type, layout } = this.composite(p.kind === 'union' ? 'UNION' : 'STRUCT', p.name, members, options);
    this.types[id - 1] = { ...type, id } as BtfType;
    this.layouts.set(id, layout);
    return id;
  }

  /** A struct laid out as a C compiler would (System V rules, bitfields included). */
  struct(name: string, members: readonly MemberSpec[], options: CompositeOptions = {}): number {
    const { type, layout } = this.composite('STRUCT', name, members, options);
    return this.add(type, layout);
  }

  /** A union (every member at offset 0 unless given). */
  union(name: string, members: readonly MemberSpec[], options: CompositeOptions = {}): number {
    const { type, layout } = this.composite('UNION', name, members, options);
    return this.add(type, layout);
  }

  private composite(kind: 'STRUCT' | 'UNION', name: string, members: readonly MemberSpec[], options: CompositeOptions): { type: BtfTypeInput; layout: Layout } {
    let bit = 0;
    let maxAlign = options.packed ? 1 : Math.max(1, options.align ?? 1);
    let end = 0;
    const out: BtfMember[] = [];
    let kflag = false;
    for (const m of members) {
      const l = this.layoutOf(m.type, `member '${m.name}' of ${kind.toLowerCase()} ${name}`);
      const align = options.packed ? 1 : l.align;
      let offset: number;
      if (m.bits !== undefined) {
        kflag = true;
        if (m.bitOffset !== undefined) offset = m.bitOffset;
        else if (kind === 'UNION') offset = 0;
        else {
          const unit = l.size * 8;
          offset = bit;
          if (!options.packed && Math.floor(offset / unit) !== Math.floor((offset + Math.max(m.bits, 1) - 1) / unit)) {
            offset = Math.ceil(offset / unit) * unit;
          }
          if (m.bits === 0) offset = Math.ceil(offset / unit) * unit;
        }
        if (m.name !== '' && !options.packed) maxAlign = Math.max(maxAlign, align);
        bit = offset + m.bits;
      } else {
        offset = m.bitOffset ?? (kind === 'UNION' ? 0 : Math.ceil(bit / (align * 8)) * align * 8);
        maxAlign = Math.max(maxAlign, align);
        bit = offset + l.size * 8;
      }
      end = Math.max(end, bit);
      out.push({ name: m.name, type: m.type, bitOffset: offset, bitfieldSize: m.bits ?? 0 });
    }
    const size = options.size ?? Math.ceil(Math.ceil(end / 8) / maxAlign) * maxAlign;
    return { type: { kind, name, kflag, size, members: out } as BtfTypeInput, layout: { size, align: maxAlign } };
  }

  /** An enum; values are taken as given (signed when any is negative unless `signed` says otherwise). */
  enum(name: string, values: readonly (readonly [string, number])[], options: { size?: number; signed?: boolean } = {}): number {
    const size = options.size ?? 4;
    const signed = options.signed ?? values.some(([, v]) => v < 0);
    return this.add({ kind: 'ENUM', name, kflag: signed, size, values: values.map(([n, v]) => ({ name: n, value: v | 0 })) }, { size, align: Math.min(size, 8) });
  }

  /** A 64-bit enum. */
  enum64(name: string, values: readonly (readonly [string, bigint])[], options: { size?: number; signed?: boolean } = {}): number {
    const size = options.size ?? 8;
    const signed = options.signed ?? values.some(([, v]) => v < 0n);
    return this.add({ kind: 'ENUM64', name, kflag: signed, size, values: values.map(([n, v]) => ({ name: n, value: BigInt.asUintN(64, v) })) }, { size, align: Math.min(size, 8) });
  }

  /** A forward declaration of a struct (or union). */
  fwd(name: string, union = false): number {
    return this.add({ kind: 'FWD', name, kflag: union });
  }

  /** A function prototype. */
  funcProto(returnType: number, params: readonly { name?: string; type: number }[]): number {
    return this.add({ kind: 'FUNC_PROTO', name: '', kflag: false, type: returnType, params: params.map((p) => ({ name: p.name ?? '', type: p.type })) });
  }

  /** A function (linkage 0 static, 1 global, 2 extern). */
  func(name: string, proto: number, linkage = 1): number {
    return this.add({ kind: 'FUNC', name, kflag: false, type: proto, linkage });
  }

  /** A variable (linkage 0 static, 1 global, 2 extern). */
  variable(name: string, type: number, linkage = 1): number {
    return this.add({ kind: 'VAR', name, kflag: false, type, linkage }, this.layouts.get(type));
  }

  /** A data section with its variables. */
  datasec(name: string, vars: readonly { type: number; offset: number; size: number }[], size?: number): number {
    const sz = size ?? vars.reduce((m, v) => Math.max(m, v.offset + v.size), 0);
    return this.add({ kind: 'DATASEC', name, kflag: false, size: sz, vars: vars.map((v) => ({ ...v })) }, { size: sz, align: 1 });
  }

  /** A declaration tag (`componentIdx` -1 for the type itself). */
  declTag(name: string, type: number, componentIdx = -1): number {
    return this.add({ kind: 'DECL_TAG', name, kflag: false, type, componentIdx });
  }

  /** Size in bytes of a type built so far. */
  sizeOf(id: number): number {
    return this.layoutOf(id, 'sizeOf').size;
  }

  /** Builds the BTF: encodes the types and parses them back, so the result is checked like any input. */
  build(): Btf {
    if (this.pending.size) {
      const names = [...this.pending.values()].map((p) => `${p.kind} ${p.name}`).join(', ');
      throw new LoaderError(`BTF builder: declared but never defined: ${names}`);
    }
    const draft = new Btf(this.types as BtfType[], new Uint8Array([0]), { name: this.name });
    return parseBtf(encodeBtf(draft), { name: this.name });
  }
}
