/**
 * A WebAssembly module under construction and its binary encoding: types,
 * imports (functions, memory, table, globals), functions, globals, exports
 * and a `name` section. The encoder also returns a map from code offsets to
 * BPF slots so a trap can be traced back to the instruction that caused it.
 */
import { Code, packRef, unpackRef } from './code.js';
import type { FuncRef, GlobalRef } from './code.js';
import { ByteWriter } from './leb128.js';
import { Imm, OP_CODE, OP_IMM, OP_PREFIX, VALTYPE_CODE } from './opcodes.js';
import type { ValType } from './opcodes.js';

/** A function signature. */
export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** Limits of a memory or table. */
export interface Limits {
  min: number;
  max?: number;
  shared?: boolean;
}

/** An import. */
export type Import =
  | { kind: 'func'; module: string; name: string; type: number; debugName: string }
  | { kind: 'memory'; module: string; name: string; limits: Limits }
  | { kind: 'table'; module: string; name: string; limits: Limits }
  | { kind: 'global'; module: string; name: string; type: ValType; mutable: boolean; debugName: string };

/** A function defined in the module. */
export interface FuncDef {
  name: string;
  type: number;
  /** Number of parameters (from the type). */
  params: number;
  /** Types of the locals after the parameters. */
  locals: ValType[];
  /** Names of parameters and locals (for the WAT printer), by index. */
  localNames: string[];
  code: Code;
}

/** A global defined in the module. */
export interface GlobalDef {
  name: string;
  type: 'i32' | 'i64';
  mutable: boolean;
  /** Initial value as a (lo, hi) pair. */
  lo: number;
  hi: number;
  /** When set: the initial value is this (imported, immutable) global's. */
  initFrom?: GlobalRef;
}

/** An export. */
export interface Export {
  name: string;
  kind: 'func' | 'global' | 'memory' | 'table';
  /** Packed reference for functions and globals, index otherwise. */
  ref: number;
}

/** A code offset in the module bytes and the BPF slot it belongs to. */
export interface SourcePoint {
  offset: number;
  func: number;
  pc: number;
}

/** The builder of one module. */
export class ModuleBuilder {
  readonly types: FuncType[] = [];
  private readonly typeKeys = new Map<string, number>();
  readonly imports: Import[] = [];
  readonly funcs: FuncDef[] = [];
  readonly globals: GlobalDef[] = [];
  readonly exports: Export[] = [];
  private importedFuncs = 0;
  private importedGlobals = 0;

  /** Index of the function type (params) -> (results), added once. */
  type(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(',')}->${results.join(',')}`;
    let index = this.typeKeys.get(key);
    if (index === undefined) {
      index = this.types.length;
      this.types.push({ params: [...params], results: [...results] });
      this.typeKeys.set(key, index);
    }
    return index;
  }

  /** Imports a function. */
  importFunc(module: string, name: string, type: number, debugName = name): FuncRef {
    this.imports.push({ kind: 'func', module, name, type, debugName });
    return { kind: 'import', index: this.importedFuncs++ };
  }

  /** Imports a memory. */
  importMemory(module: string, name: string, limits: Limits): void {
    this.imports.push({ kind: 'memory', module, name, limits });
  }

  /** Imports a funcref table. */
  importTable(module: string, name: string, limits: Limits): void {
    this.imports.push({ kind: 'table', module, name, limits });
  }

  /** Imports a global. */
  importGlobal(module: string, name: string, type: ValType, mutable: boolean, debugName = name): GlobalRef {
    this.imports.push({ kind: 'global', module, name, type, mutable, debugName });
    return { kind: 'import', index: this.importedGlobals++ };
  }

  /** Defines a global. */
  global(name: string, type: 'i32' | 'i64', mutable: boolean, lo = 0, hi = 0): GlobalRef {
    this.globals.push({ name, type, mutable, lo, hi });
    return { kind: 'defined', index: this.globals.length - 1 };
  }

  /** Defines a global initialised from an imported immutable global. */
  globalFrom(name: string, type: 'i32' | 'i64', mutable: boolean, from: GlobalRef): GlobalRef {
    this.globals.push({ name, type, mutable, lo: 0, hi: 0, initFrom: from });
    return { kind: 'defined', index: this.globals.length - 1 };
  }

  /** Defines a function; returns its reference and body. */
  func(name: string, type: number, paramNames: readonly string[] = []): { ref: FuncRef; def: FuncDef } {
    const t = this.types[type]!;
    const def: FuncDef = {
      name, type, params: t.params.length, locals: [], code: new Code(),
      localNames: t.params.map((_, i) => paramNames[i] ?? `p${i}`),
    };
    this.funcs.push(def);
    return { ref: { kind: 'defined', index: this.funcs.length - 1 }, def };
  }

  /** Adds a local to `def`; returns its index. */
  local(def: FuncDef, type: ValType, name?: string): number {
    const index = def.params + def.locals.length;
    def.locals.push(type);
    def.localNames.push(name ?? `l${index}`);
    return index;
  }

  /** Exports a function. */
  exportFunc(name: string, f: FuncRef): void {
    this.exports.push({ name, kind: 'func', ref: packRef(f) });
  }

  /** Exports a global. */
  exportGlobal(name: string, g: GlobalRef): void {
    this.exports.push({ name, kind: 'global', ref: packRef(g) });
  }

  /** Absolute function index of a reference. */
  funcIndex(packed: number): number {
    const r = unpackRef(packed);
    return r.kind === 'import' ? r.index : this.importedFuncs + r.index;
  }

  /** Absolute global index of a reference. */
  globalIndex(packed: number): number {
    const r = unpackRef(packed);
    return r.kind === 'import' ? r.index : this.importedGlobals + r.index;
  }

  /** Number of imported functions. */
  get importedFuncCount(): number {
    return this.importedFuncs;
  }

  /** Number of imported globals. */
  get importedGlobalCount(): number {
    return this.importedGlobals;
  }

  /** Encodes the module. */
  encode(): { bytes: Uint8Array; sourceMap: SourcePoint[] } {
    return encodeModule(this);
  }
}

function limits(w: ByteWriter, l: Limits): void {
  if (l.shared) {
    w.byte(0x03);
    w.u32(l.min);
    w.u32(l.max ?? l.min);
  } else if (l.max !== undefined) {
    w.byte(0x01);
    w.u32(l.min);
    w.u32(l.max);
  } else {
    w.byte(0x00);
    w.u32(l.min);
  }
}

function section(out: ByteWriter, id: number, body: ByteWriter): number {
  out.byte(id);
  out.u32(body.length);
  const start = out.length;
  out.bytes(body.finish());
  return start;
}

/** Encodes one instruction list; records (relative offset, pc) whenever the pc changes. */
const PREFIX = OP_PREFIX;
const CODE = OP_CODE;
const IMM = OP_IMM;
const I = { ...Imm };

function encodeBody(m: ModuleBuilder, code: Code, w: ByteWriter, points: { offset: number; pc: number }[]): void {
  const { ops, a, b, pcs, side } = code;
  const PREFIXES = PREFIX;
  const CODES = CODE;
  const IMMS = IMM;
  let lastPc = -2;
  const n = code.length;
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    const pc = pcs[i]!;
    if (pc !== lastPc) {
      points.push({ offset: w.length, pc });
      lastPc = pc;
    }
    const prefix = PREFIXES[op]!;
    if (prefix !== 0) {
      w.byte(prefix);
      w.u32(CODES[op]!);
    } else {
      w.byte(CODES[op]!);
    }
    switch (IMMS[op]) {
      case I.None: break;
      case I.Local:
      case I.Label:
      case I.Table:
        w.u32(a[i]!);
        break;
      case I.Lane: w.byte(a[i]!); break;
      case I.Global: w.u32(m.globalIndex(a[i]!)); break;
      case I.Func: w.u32(m.funcIndex(a[i]!)); break;
      case I.Mem: w.u32(a[i]!); w.u32(b[i]!); break;
      case I.I32: w.s32(a[i]!); break;
      case I.I64: w.s64(a[i]!, b[i]!); break;
      case I.Block: w.s32(a[i]!); break;
      case I.BrTable: {
        const labels = side[a[i]!]!;
        w.u32(labels.length - 1);
        for (const l of labels) w.u32(l);
        break;
      }
      case I.CallIndirect: w.u32(a[i]!); w.u32(b[i]!); break;
      case I.Shuffle: w.bytes(side[a[i]!]!); break;
      case I.Zero: w.byte(0); break;
      case I.ZeroZero: w.byte(0); w.byte(0); break;
      default: throw new Error(`bad immediate kind for opcode ${op}`);
    }
  }
}

function encodeModule(m: ModuleBuilder): { bytes: Uint8Array; sourceMap: SourcePoint[] } {
  const out = new ByteWriter(4096);
  out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

  const types = new ByteWriter();
  types.u32(m.types.length);
  for (const t of m.types) {
    types.byte(0x60);
    types.u32(t.params.length);
    for (const p of t.params) types.byte(VALTYPE_CODE[p]);
    types.u32(t.results.length);
    for (const r of t.results) types.byte(VALTYPE_CODE[r]);
  }
  section(out, 1, types);

  if (m.imports.length > 0) {
    const imports = new ByteWriter();
    imports.u32(m.imports.length);
    for (const imp of m.imports) {
      imports.name(imp.module);
      imports.name(imp.name);
      switch (imp.kind) {
        case 'func': imports.byte(0x00); imports.u32(imp.type); break;
        case 'table': imports.byte(0x01); imports.byte(VALTYPE_CODE.funcref); limits(imports, imp.limits); break;
        case 'memory': imports.byte(0x02); limits(imports, imp.limits); break;
        case 'global': imports.byte(0x03); imports.byte(VALTYPE_CODE[imp.type]); imports.byte(imp.mutable ? 1 : 0); break;
      }
    }
    section(out, 2, imports);
  }

  const funcs = new ByteWriter();
  funcs.u32(m.funcs.length);
  for (const f of m.funcs) funcs.u32(f.type);
  section(out, 3, funcs);

  if (m.globals.length > 0) {
    const globals = new ByteWriter();
    globals.u32(m.globals.length);
    for (const g of m.globals) {
      globals.byte(VALTYPE_CODE[g.type]);
      globals.byte(g.mutable ? 1 : 0);
      if (g.initFrom !== undefined) {
        globals.byte(0x23);
        globals.u32(m.globalIndex(packRef(g.initFrom)));
      } else if (g.type === 'i32') {
        globals.byte(0x41);
        globals.s32(g.lo);
      } else {
        globals.byte(0x42);
        globals.s64(g.lo, g.hi);
      }
      globals.byte(0x0b);
    }
    section(out, 6, globals);
  }

  if (m.exports.length > 0) {
    const exports = new ByteWriter();
    exports.u32(m.exports.length);
    for (const e of m.exports) {
      exports.name(e.name);
      switch (e.kind) {
        case 'func': exports.byte(0x00); exports.u32(m.funcIndex(e.ref)); break;
        case 'table': exports.byte(0x01); exports.u32(e.ref); break;
        case 'memory': exports.byte(0x02); exports.u32(e.ref); break;
        case 'global': exports.byte(0x03); exports.u32(m.globalIndex(e.ref)); break;
      }
    }
    section(out, 7, exports);
  }

  // Code: every body is encoded on its own so offsets can be made absolute afterwards.
  const bodies: { bytes: Uint8Array; points: { offset: number; pc: number }[] }[] = [];
  for (const f of m.funcs) {
    const w = new ByteWriter(256 + f.code.length * 3);
    // Locals, run-length grouped.
    const groups: { type: ValType; count: number }[] = [];
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (last && last.type === t) last.count++;
      else groups.push({ type: t, count: 1 });
    }
    w.u32(groups.length);
    for (const g of groups) {
      w.u32(g.count);
      w.byte(VALTYPE_CODE[g.type]);
    }
    const points: { offset: number; pc: number }[] = [];
    encodeBody(m, f.code, w, points);
    w.byte(0x0b);
    bodies.push({ bytes: w.finish(), points });
  }
  const code = new ByteWriter(bodies.reduce((n, b) => n + b.bytes.length + 5, 16));
  code.u32(bodies.length);
  const bodyStarts: number[] = [];
  for (const b of bodies) {
    code.u32(b.bytes.length);
    bodyStarts.push(code.length);
    code.bytes(b.bytes);
  }
  const codeStart = section(out, 10, code);
  const sourceMap: SourcePoint[] = [];
  bodies.forEach((b, i) => {
    for (const p of b.points) {
      if (p.pc >= 0) sourceMap.push({ offset: codeStart + bodyStarts[i]! + p.offset, func: m.importedFuncCount + i, pc: p.pc });
    }
  });

  // The name section: function and local names, for stack traces and disassemblers.
  const names = new ByteWriter();
  names.name('name');
  const fnames = new ByteWriter();
  const namedImports = m.imports.filter((i) => i.kind === 'func');
  fnames.u32(namedImports.length + m.funcs.length);
  namedImports.forEach((imp, i) => {
    fnames.u32(i);
    fnames.name(imp.kind === 'func' ? imp.debugName : imp.name);
  });
  m.funcs.forEach((f, i) => {
    fnames.u32(m.importedFuncCount + i);
    fnames.name(f.name);
  });
  names.byte(1);
  names.u32(fnames.length);
  names.bytes(fnames.finish());
  const lnames = new ByteWriter();
  lnames.u32(m.funcs.length);
  m.funcs.forEach((f, i) => {
    lnames.u32(m.importedFuncCount + i);
    lnames.u32(f.localNames.length);
    f.localNames.forEach((n, j) => {
      lnames.u32(j);
      lnames.name(n);
    });
  });
  names.byte(2);
  names.u32(lnames.length);
  names.bytes(lnames.finish());
  section(out, 0, names);

  return { bytes: out.finish(), sourceMap };
}
