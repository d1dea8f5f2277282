/**
 * Static linking of several BPF objects into one, like libbpf's linker
 * (`bpftool gen object out.o a.o b.o`): sections of the same name are
 * concatenated (aligned), global symbols are resolved across objects
 * (strong over weak, definitions over `extern` declarations, extern maps
 * in `.maps` included), relocations and `.BTF.ext` records are shifted,
 * BTF is merged (types appended and renumbered; global VARs, FUNCs and
 * data sections unified). The result is built into an {@link ObjectSpec}
 * by the same code that parses a single object. Unlike libbpf, the
 * merged BTF is not deduplicated (see docs/loader.md).
 */
import { LoaderError } from './loader-error.js';
import type { Btf, BtfDatasec, BtfType, BtfVarSecinfo } from './btf.js';
import { Btf as BtfClass, BtfFuncLinkage, BtfVarLinkage, encodeBtf, parseBtf } from './btf.js';
import type { BtfExt, BtfExtSection, CoreRelo, FuncInfo, LineInfo } from './btf-ext.js';
import type { ElfFile, ElfRelocation, ElfRelocationSection, ElfSection, ElfSymbol } from './elf.js';
import { EM_BPF, ET_REL, SHN_LORESERVE, SHN_UNDEF, SectionFlags, SectionType, SymbolBind, SymbolType } from './elf.js';
import type { ObjectParts, ParseObjectOptions } from './object.js';
import { buildObject, readObjectParts } from './object.js';
import type { ObjectSpec } from './spec.js';

/** One input of the linker. */
export interface LinkInput {
  bytes: Uint8Array;
  /** File name, for messages. */
  name?: string;
}

interface DstSec {
  index: number;
  name: string;
  type: number;
  flags: number;
  entsize: number;
  align: number;
  size: number;
  chunks: { at: number; data: Uint8Array }[];
  /** For REL sections: index of the relocated dst section and entries. */
  relTarget?: number;
  entries?: ElfRelocation[];
  /** Section symbol index in the merged symbol table. */
  secSym?: number;
  /** Merged DATASEC variables (before final offsets). */
  vars: { type: number; offset: number; size: number; glob?: GlobSym }[];
  hasBtf: boolean;
}

interface GlobSym {
  name: string;
  symIdx: number;
  isExtern: boolean;
  isWeak: boolean;
  /** Merged BTF id of its VAR/FUNC (0: none yet). */
  btfId: number;
  /** Whether the DATASEC entry was added. */
  inDatasec: boolean;
  /** The object whose definition replaced an extern, until its BTF is merged. */
  pendingDefinition?: ObjectParts;
}

/** Links objects and builds the result (see {@link linkParts}). */
export function linkObjects(inputs: readonly LinkInput[], options: ParseObjectOptions = {}): ObjectSpec {
  const parts = inputs.map((i) => readObjectParts(i.bytes, i.name));
  return buildObject(linkParts(parts, options.name), { ...options });
}

/** Links already-parsed objects into one set of {@link ObjectParts}. */
export function linkParts(inputs: readonly ObjectParts[], name?: string): ObjectParts {
  return new Linker(name).link(inputs);
}

function isDwarf(name: string): boolean {
  return name.startsWith('.debug_');
}

function ignored(s: ElfSection): boolean {
  if (s.index === 0) return true;
  if (s.type === SectionType.STRTAB || s.type === SectionType.SYMTAB || s.type === SectionType.LLVM_ADDRSIG || s.type === SectionType.SYMTAB_SHNDX) return true;
  if (s.type === SectionType.PROGBITS && s.size === 0 && s.name === '.text') return true;
  if (isDwarf(s.name) || s.name === '.BTF' || s.name === '.BTF.ext') return true;
  if (s.name.startsWith('.rel')) {
    const rest = s.name.slice(4);
    if (isDwarf(rest) || rest === '.BTF' || rest === '.BTF.ext') return true;
  }
  return false;
}

/** Rewrites every type id a type refers to. */
function remapType(t: BtfType, map: (id: number) => number): BtfType {
  switch (t.kind) {
    case 'PTR': case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG':
      return { ...t, type: map(t.type) };
    case 'FUNC': case 'VAR': case 'DECL_TAG':
      return { ...t, type: map(t.type) };
    case 'ARRAY':
      return { ...t, type: map(t.type), indexType: map(t.indexType) };
    case 'STRUCT': case 'UNION':
      return { ...t, members: t.members.map((m) => ({ ...m, type: map(m.type) })) };
    case 'FUNC_PROTO':
      return { ...t, type: map(t.type), params: t.params.map((p) => ({ ...p, type: map(p.type) })) };
    case 'DATASEC':
      return { ...t, vars: t.vars.map((v) => ({ ...v, type: map(v.type) })) };
    case 'ENUM':
      return { ...t, values: t.values.map((v) => ({ ...v })) };
    case 'ENUM64':
      return { ...t, values: t.values.map((v) => ({ ...v })) };
    default:
      return { ...t };
  }
}

class Linker {
  private readonly secs: DstSec[] = [];
  private readonly byIndex = new Map<number, DstSec>();
  private nextIndex = 1;
  private readonly symbols: ElfSymbol[] = [{ index: 0, name: '', value: 0, size: 0, type: 0, bind: 0, visibility: 0, shndx: 0 }];
  private readonly globs = new Map<string, GlobSym>();
  private readonly types: BtfType[] = [];
  private readonly ext: { func: Map<string, FuncInfo[]>; line: Map<string, LineInfo[]>; core: Map<string, CoreRelo[]> } = { func: new Map(), line: new Map(), core: new Map() };
  private anyBtf = false;

  constructor(private readonly name?: string) {}

  private fail(reason: string, file?: string, section?: string): never {
    const loc: { file?: string; section?: string } = {};
    if (file !== undefined) loc.file = file;
    if (section !== undefined) loc.section = section;
    throw new LoaderError(`link: ${reason}`, loc);
  }

  private dst(name: string): DstSec | undefined {
    return this.secs.find((s) => s.name === name);
  }

  link(inputs: readonly ObjectParts[]): ObjectParts {
    if (inputs.length === 0) this.fail('nothing to link');
    for (const input of inputs) this.add(input);
    return this.finish();
  }

  private add(input: ObjectParts): void {
    const { elf, btf } = input;
    const file = elf.file;
    if (elf.symtabIndex < 0) this.fail('object has no symbol table', file);
    if (btf) {
      this.anyBtf = true;
      fixupInputBtf(btf, elf);
    }
    // Sections: data first (libbpf linker_append_sec_data).
    const dstOff = new Map<number, number>();
    const dstIdx = new Map<number, number>();
    const skipped = new Set<number>();
    for (const s of elf.sections) {
      if (ignored(s) || s.type === SectionType.REL || s.type === SectionType.RELA) continue;
      if (s.type !== SectionType.PROGBITS && s.type !== SectionType.NOBITS) continue;
      let d = this.dst(s.name);
      if (!d) {
        d = { index: this.nextIndex++, name: s.name, type: s.type, flags: s.flags, entsize: s.entsize, align: s.addralign, size: 0, chunks: [], vars: [], hasBtf: false };
        this.secs.push(d);
        this.byIndex.set(d.index, d);
      } else if (d.index < 0) {
        // An ephemeral section (known from BTF only, e.g. extern maps in .maps) gets real contents.
        Object.assign(d, { index: this.nextIndex++, type: s.type, flags: s.flags, entsize: s.entsize, align: s.addralign });
        this.byIndex.set(d.index, d);
      } else {
        if (d.type !== s.type || d.flags !== s.flags || d.entsize !== s.entsize) this.fail(`ELF sections ${s.name} are incompatible (type, flags or entry size differ)`, file, s.name);
        if (s.name === 'license' || s.name === 'version') {
          const prev = d.chunks[0]?.data ?? new Uint8Array(0);
          if (prev.length !== s.data.length || prev.some((b, i) => b !== s.data[i])) this.fail(`non-identical contents of section '${s.name}' are not supported`, file, s.name);
          skipped.add(s.index);
          dstIdx.set(s.index, d.index);
          dstOff.set(s.index, 0);
          continue;
        }
      }
      const align = Math.max(1, d.align, s.addralign);
      if (align > 1 << 16 || s.size > 1 << 30) this.fail(`section ${s.name}: size ${s.size} or alignment ${s.addralign} is out of range`, file, s.name);
      const at = Math.ceil(d.size / align) * align;
      if (s.type !== SectionType.NOBITS) d.chunks.push({ at, data: s.data });
      d.size = at + s.size;
      d.align = align;
      dstOff.set(s.index, at);
      dstIdx.set(s.index, d.index);
    }
    // Symbols (libbpf linker_append_elf_sym).
    const symMap = new Map<number, number>();
    for (const sym of elf.symbols) {
      if (sym.index === 0) continue;
      symMap.set(sym.index, this.addSymbol(input, sym, dstIdx, dstOff, skipped));
    }
    // Relocations (libbpf linker_append_elf_relos).
    for (const rel of elf.relocations) {
      const relSec = elf.sections[rel.index]!;
      if (ignored(relSec) || skipped.has(rel.target) || !dstIdx.has(rel.target)) continue;
      const targetDst = this.byIndex.get(dstIdx.get(rel.target)!)!;
      let d = this.dst(rel.name);
      if (!d) {
        d = { index: this.nextIndex++, name: rel.name, type: SectionType.REL, flags: relSec.flags, entsize: 16, align: 8, size: 0, chunks: [], vars: [], hasBtf: false, relTarget: targetDst.index, entries: [] };
        this.secs.push(d);
        this.byIndex.set(d.index, d);
      }
      const base = dstOff.get(rel.target)!;
      for (const r of rel.entries) {
        const src = elf.symbols[r.symbol]!;
        const mapped = symMap.get(r.symbol) ?? 0;
        d.entries!.push({ offset: r.offset + base, type: r.type, symbol: mapped, addend: r.addend });
        if (src.type === SymbolType.SECTION) {
          if (!(elf.sections[rel.target]!.flags & SectionFlags.EXECINSTR)) this.fail('relocation against STT_SECTION in non-exec section is not supported', file, rel.name);
          const shift = dstOff.get(src.shndx) ?? 0;
          if (shift) this.patchImm(targetDst, r.offset + base, shift);
        }
      }
    }
    if (btf) this.appendBtf(input, dstIdx, dstOff);
  }

  private patchImm(sec: DstSec, off: number, shift: number): void {
    for (const c of sec.chunks) {
      if (off >= c.at && off + 8 <= c.at + c.data.length) {
        // Copy on write: inputs stay untouched.
        const copy = c.data.slice();
        const view = new DataView(copy.buffer);
        const rel = off - c.at;
        const code = view.getUint8(rel);
        const imm = view.getInt32(rel + 4, true);
        view.setInt32(rel + 4, code === 0x85 ? imm + shift / 8 : imm + shift, true);
        c.data = copy;
        return;
      }
    }
  }

  private addSymbol(input: ObjectParts, sym: ElfSymbol, dstIdx: Map<number, number>, dstOff: Map<number, number>, skipped: Set<number>): number {
    const file = input.elf.file;
    const isExtern = sym.shndx === SHN_UNDEF;
    let dst: DstSec | undefined;
    let off = 0;
    if (!isExtern && sym.shndx < SHN_LORESERVE) {
      if (skipped.has(sym.shndx)) return 0;
      const di = dstIdx.get(sym.shndx);
      if (di === undefined) {
        // A symbol in an ignored section (DWARF, ...).
        if (sym.bind === SymbolBind.LOCAL) return 0;
        this.fail(`symbol '${sym.name}' is in a section that is not linked`, file);
      }
      dst = this.byIndex.get(di)!;
      off = dstOff.get(sym.shndx)!;
      if (sym.type === SymbolType.SECTION && dst.secSym !== undefined) return dst.secSym;
    }
    if (sym.bind === SymbolBind.LOCAL || (isExtern && sym.name === '')) return this.pushSym(sym, dst, off);
    if (isExtern && !input.btf) this.fail(`extern '${sym.name}': externs without BTF info are not supported`, file);
    const g = this.globs.get(sym.name);
    if (!g) {
      const idx = this.pushSym(sym, dst, off);
      this.globs.set(sym.name, { name: sym.name, symIdx: idx, isExtern, isWeak: sym.bind === SymbolBind.WEAK, btfId: 0, inDatasec: false });
      return idx;
    }
    const d = this.symbols[g.symIdx]!;
    if (!isExtern && !g.isExtern && !g.isWeak && sym.bind !== SymbolBind.WEAK) {
      this.fail(`conflicting non-weak symbol #${sym.index} (${sym.name}) definition`, file);
    }
    if (!isExtern && !g.isExtern && d.type !== sym.type) this.fail(`global '${sym.name}': symbol type mismatch`, file);
    if (sym.bind === SymbolBind.GLOBAL) {
      d.bind = SymbolBind.GLOBAL;
      g.isWeak = false;
    }
    if (sym.visibility > d.visibility) d.visibility = sym.visibility;
    if (isExtern) return g.symIdx;
    if (!g.isExtern && sym.bind === SymbolBind.WEAK) return g.symIdx;
    d.type = sym.type;
    d.shndx = dst ? dst.index : sym.shndx;
    d.value = off + sym.value;
    d.size = sym.size;
    g.isExtern = false;
    g.pendingDefinition = input;
    return g.symIdx;
  }

  private pushSym(sym: ElfSymbol, dst: DstSec | undefined, off: number): number {
    const idx = this.symbols.length;
    const s: ElfSymbol = { ...sym, index: idx, shndx: dst ? dst.index : sym.shndx, value: sym.type === SymbolType.SECTION ? 0 : off + sym.value };
    this.symbols.push(s);
    if (sym.type === SymbolType.SECTION && dst) dst.secSym = idx;
    return idx;
  }

  private appendBtf(input: ObjectParts, dstIdx: Map<number, number>, dstOff: Map<number, number>): void {
    const btf = input.btf!;
    const file = input.elf.file;
    const typeMap = new Map<number, number>([[0, 0]]);
    const start = this.types.length + 1;
    const pending: BtfType[] = [];
    const redefine: { g: GlobSym; t: BtfType }[] = [];
    for (const t of btf.types()) {
      if (t.kind === 'DATASEC') continue;
      const nonStatic = (t.kind === 'VAR' && t.linkage !== BtfVarLinkage.STATIC) || (t.kind === 'FUNC' && t.linkage !== BtfFuncLinkage.STATIC);
      if (nonStatic) {
        const g = this.globs.get(t.name);
        if (!g) continue; // license/version vars of deduplicated sections
        if (g.btfId) {
          typeMap.set(t.id, g.btfId);
          if (g.pendingDefinition === input) redefine.push({ g, t });
          continue;
        }
        g.btfId = start + pending.length;
      }
      typeMap.set(t.id, start + pending.length);
      pending.push(t);
    }
    const map = (id: number): number => {
      const m = typeMap.get(id);
      if (m === undefined) this.fail(`failed to find new ID mapping for original BTF type ID ${id}`, file, '.BTF');
      return m;
    };
    pending.forEach((t, i) => this.types.push({ ...remapType(t, map), id: start + i } as BtfType));
    // An extern declared earlier is now defined: its VAR/FUNC takes the definition's linkage and type.
    for (const { g, t } of redefine) {
      const cur = this.types[g.btfId - 1]!;
      if (cur.kind === 'VAR' && t.kind === 'VAR') {
        cur.linkage = t.linkage;
        cur.type = map(t.type);
      } else if (cur.kind === 'FUNC' && t.kind === 'FUNC') {
        cur.linkage = t.linkage;
        cur.type = map(t.type);
      }
      delete g.pendingDefinition;
    }
    // DATASECs.
    for (const t of btf.types()) {
      if (t.kind !== 'DATASEC') continue;
      const srcSec = input.elf.sections.find((s) => s.name === t.name);
      let d = this.dst(t.name);
      if (!d) {
        // Ephemeral sections (.kconfig, .ksyms, .extern) have no ELF section.
        d = { index: -1, name: t.name, type: SectionType.NULL, flags: 0, entsize: 0, align: 1, size: 0, chunks: [], vars: [], hasBtf: false };
        this.secs.push(d);
      }
      d.hasBtf = true;
      const base = srcSec && dstOff.has(srcSec.index) && dstIdx.get(srcSec.index) === d.index ? dstOff.get(srcSec.index)! : 0;
      for (const v of t.vars) {
        const nt = this.types[map(v.type) - 1];
        const g = nt && (nt.kind === 'VAR' || nt.kind === 'FUNC') && nt.linkage !== 0 ? this.globs.get(nt.name) : undefined;
        if (g && g.inDatasec) continue;
        if (g) g.inDatasec = true;
        d.vars.push({ type: map(v.type), offset: base + v.offset, size: v.size, ...(g ? { glob: g } : {}) });
      }
    }
    // .BTF.ext records.
    const ext = input.btfExt;
    if (ext) {
      const shift = (section: string): number => {
        const s = input.elf.sections.find((x) => x.name === section);
        if (!s || !dstOff.has(s.index)) this.fail(`can't find section '${section}' referenced from .BTF.ext`, file, '.BTF.ext');
        return dstOff.get(s.index)!;
      };
      const push = <T>(into: Map<string, T[]>, secs: BtfExtSection<T>[], fix: (r: T, off: number) => T): void => {
        for (const s of secs) {
          const off = shift(s.section);
          const list = into.get(s.section) ?? [];
          for (const r of s.records) list.push(fix(r, off));
          into.set(s.section, list);
        }
      };
      push(this.ext.func, ext.funcInfo, (r, off) => ({ insnOff: r.insnOff + off, typeId: map(r.typeId) }));
      push(this.ext.line, ext.lineInfo, (r, off) => ({ ...r, insnOff: r.insnOff + off }));
      push(this.ext.core, ext.coreRelos, (r, off) => ({ ...r, insnOff: r.insnOff + off, typeId: map(r.typeId) }));
    }
  }

  private finish(): ObjectParts {
    // Final sections: NULL, merged sections in creation order, then the symbol table.
    const sections: ElfSection[] = [{ index: 0, name: '', type: 0, flags: 0, offset: 0, size: 0, link: 0, info: 0, addralign: 0, entsize: 0, data: new Uint8Array(0) }];
    const real = this.secs.filter((s) => s.index > 0).sort((a, b) => a.index - b.index);
    const symtabIndex = real.length + 1;
    const relocations: ElfRelocationSection[] = [];
    for (const d of real) {
      let data = new Uint8Array(0);
      if (d.type !== SectionType.NOBITS && d.type !== SectionType.REL) {
        data = new Uint8Array(d.size);
        for (const c of d.chunks) data.set(c.data, c.at);
      }
      const size = d.type === SectionType.REL ? d.entries!.length * 16 : d.size;
      sections.push({ index: d.index, name: d.name, type: d.type, flags: d.flags, offset: 0, size, link: d.type === SectionType.REL ? symtabIndex : 0, info: d.relTarget ?? 0, addralign: d.align, entsize: d.entsize, data });
      if (d.type === SectionType.REL) relocations.push({ index: d.index, name: d.name, target: d.relTarget!, entries: d.entries! });
    }
    sections.push({ index: symtabIndex, name: '.symtab', type: SectionType.SYMTAB, flags: 0, offset: 0, size: this.symbols.length * 24, link: 0, info: 0, addralign: 8, entsize: 24, data: new Uint8Array(0) });
    const elf: ElfFile = {
      ...(this.name !== undefined ? { file: this.name } : {}),
      header: { type: ET_REL, machine: EM_BPF, version: 1, flags: 0, shoff: 0, shnum: sections.length, shstrndx: 0 },
      sections,
      symtabIndex,
      symbols: this.symbols,
      relocations,
    };
    if (!this.anyBtf) return { elf };
    // DATASECs last, as libbpf's finalize_btf adds them; defined globals take their final offsets.
    for (const d of this.secs) {
      if (!d.hasBtf) continue;
      const vars: BtfVarSecinfo[] = d.vars.map((v) => {
        let offset = v.offset;
        let size = v.size;
        if (v.glob && !v.glob.isExtern) {
          const sym = this.symbols[v.glob.symIdx]!;
          offset = sym.value;
          const t = this.types[v.type - 1];
          if (sym.size) size = sym.size;
          else if (t && t.kind === 'VAR') {
            const sz = new BtfClass(this.types, new Uint8Array([0])).tryResolveSize(t.type);
            if (typeof sz === 'number') size = sz;
          }
        }
        return { type: v.type, offset, size };
      });
      const ds: BtfDatasec = { id: this.types.length + 1, name: d.name, kflag: false, kind: 'DATASEC', size: d.index > 0 ? d.size : 0, vars };
      this.types.push(ds);
    }
    const draft = new BtfClass(this.types, new Uint8Array([0]));
    const btf: Btf = parseBtf(encodeBtf(draft), this.name !== undefined ? { name: this.name } : {});
    const btfExt: BtfExt = {
      funcInfo: [...this.ext.func].map(([section, records]) => ({ section, records })),
      lineInfo: [...this.ext.line].map(([section, records]) => ({ section, records })),
      coreRelos: [...this.ext.core].map(([section, records]) => ({ section, records })),
      funcInfoRecSize: 8,
      lineInfoRecSize: 16,
      coreReloRecSize: 16,
    };
    return { elf, btf, btfExt };
  }
}

/** Per-input BTF fix-up before merging: DATASEC sizes and VAR offsets from the ELF (libbpf linker_fixup_btf). */
function fixupInputBtf(btf: Btf, elf: ElfFile): void {
  for (const t of btf.ownTypes) {
    if (t.kind !== 'DATASEC') continue;
    const sec = elf.sections.find((s) => s.name === t.name);
    if (!sec) continue;
    t.size = sec.size;
    for (const v of t.vars) {
      const vt = btf.tryType(v.type);
      if (!vt || vt.kind !== 'VAR' || vt.linkage !== BtfVarLinkage.GLOBAL_ALLOCATED) continue;
      const sym = elf.symbols.find((s) => s.shndx === sec.index && s.type === SymbolType.OBJECT && s.name === vt.name);
      if (!sym) throw new LoaderError(`link: failed to find symbol for variable '${vt.name}' in section '${t.name}'`, { ...(elf.file !== undefined ? { file: elf.file } : {}), section: '.BTF' });
      v.offset = sym.value;
    }
  }
}
