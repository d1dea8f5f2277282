/**
 * A reader of ELF64 relocatable objects as clang builds them for BPF: the
 * file header, section headers and names, section data, the symbol table
 * and relocation sections. Little-endian only (a big-endian object is a
 * clear error). Every offset, size and index in the file is checked: a
 * malformed file gives a {@link LoaderError} naming the file, the section
 * and the byte offset, never an exception from a typed array.
 */
import { LoaderError } from './loader-error.js';
import { ByteReader, cString } from './reader.js';

/** Section header types (`sh_type`). */
export const SectionType = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, HASH: 5, DYNAMIC: 6, NOTE: 7, NOBITS: 8,
  REL: 9, DYNSYM: 11, SYMTAB_SHNDX: 18, LLVM_ADDRSIG: 0x6fff4c03,
} as const;

/** Section header flags (`sh_flags`). */
export const SectionFlags = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4, MERGE: 0x10, STRINGS: 0x20, INFO_LINK: 0x40 } as const;

/** Symbol types (`ELF64_ST_TYPE`). */
export const SymbolType = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;

/** Symbol bindings (`ELF64_ST_BIND`). */
export const SymbolBind = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;

/** Symbol visibilities (`ELF64_ST_VISIBILITY`). */
export const SymbolVisibility = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;

/** Special section index: an undefined symbol. */
export const SHN_UNDEF = 0;
/** Special section indexes start here. */
export const SHN_LORESERVE = 0xff00;
/** Special section index: an absolute symbol (no section). */
export const SHN_ABS = 0xfff1;
/** Special section index: a common (unallocated) symbol. */
export const SHN_COMMON = 0xfff2;
/** Special section index: the real index is in `.symtab_shndx`. */
export const SHN_XINDEX = 0xffff;

/** `e_machine` of BPF objects. */
export const EM_BPF = 247;
/** `e_type` of relocatable objects. */
export const ET_REL = 1;

/** BPF relocation types (llvm's `R_BPF_*`, see Linux Documentation/bpf/llvm_reloc.rst). */
export const RelocType = {
  NONE: 0,
  /** `lddw` immediate: S + A. */
  R_BPF_64_64: 1,
  /** 64-bit data word: S + A. */
  R_BPF_64_ABS64: 2,
  /** 32-bit data word: S + A. */
  R_BPF_64_ABS32: 3,
  /** 32-bit data word, not resolved at dynamic load (DWARF, .BTF, .BTF.ext). */
  R_BPF_64_NODYLD32: 4,
  /** Call immediate: (S + A) / 8 - 1. */
  R_BPF_64_32: 10,
} as const;

/** Names of {@link RelocType} values. */
export const RELOC_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'R_BPF_NONE', 1: 'R_BPF_64_64', 2: 'R_BPF_64_ABS64', 3: 'R_BPF_64_ABS32', 4: 'R_BPF_64_NODYLD32', 10: 'R_BPF_64_32',
};

/** The ELF file header fields that matter to BPF objects. */
export interface ElfHeader {
  /** `e_type` (1 = relocatable). */
  type: number;
  /** `e_machine` (247 = BPF). */
  machine: number;
  /** `e_version`. */
  version: number;
  /** `e_flags`. */
  flags: number;
  /** File offset of the section header table. */
  shoff: number;
  /** Number of section headers (extended numbering resolved). */
  shnum: number;
  /** Index of the section name string table (extended numbering resolved). */
  shstrndx: number;
}

/** One section: its header fields, name and contents. */
export interface ElfSection {
  /** Index in the section header table. */
  index: number;
  name: string;
  type: number;
  flags: number;
  /** File offset of the contents. */
  offset: number;
  /** `sh_size` (for NOBITS sections, the size in memory). */
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** The contents (empty for NOBITS and NULL sections); a view into the file bytes. */
  data: Uint8Array;
}

/** One symbol of the symbol table. */
export interface ElfSymbol {
  /** Index in the symbol table. */
  index: number;
  name: string;
  /** `st_name`: offset of the name in the string table. */
  nameOff?: number;
  /** `st_value` (for objects: offset in its section). */
  value: number;
  size: number;
  /** {@link SymbolType} value. */
  type: number;
  /** {@link SymbolBind} value. */
  bind: number;
  /** {@link SymbolVisibility} value. */
  visibility: number;
  /** Section index (`SHN_*` specials kept as is). */
  shndx: number;
}

/** One relocation entry (REL; RELA entries carry an addend). */
export interface ElfRelocation {
  /** Offset in the relocated section. */
  offset: number;
  /** {@link RelocType} value. */
  type: number;
  /** Index of the symbol in the symbol table. */
  symbol: number;
  /** Explicit addend (RELA only; 0 for REL). */
  addend: bigint;
}

/** A relocation section with its parsed entries. */
export interface ElfRelocationSection {
  /** Index of the REL/RELA section. */
  index: number;
  name: string;
  /** Index of the section the relocations apply to (`sh_info`). */
  target: number;
  entries: ElfRelocation[];
}

/** A parsed ELF object. */
export interface ElfFile {
  /** File name given by the caller, for messages. */
  file?: string;
  header: ElfHeader;
  /** All sections, by index (index 0 is the NULL section). */
  sections: ElfSection[];
  /** Index of the symbol table section, or -1 when there is none. */
  symtabIndex: number;
  /** Symbols, by index (index 0 is the null symbol); empty without a symbol table. */
  symbols: ElfSymbol[];
  /** Relocation sections, in section order. */
  relocations: ElfRelocationSection[];
}

/** Options of {@link readElf}. */
export interface ReadElfOptions {
  /** File name for error messages. */
  file?: string;
}

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

/**
 * Parses an ELF64 little-endian relocatable object. Throws a
 * {@link LoaderError} for anything malformed.
 */
export function readElf(bytes: Uint8Array, options: ReadElfOptions = {}): ElfFile {
  const file = options.file;
  const r = new ByteReader(bytes, file !== undefined ? { file } : {}, 'file');
  const fail: (reason: string, offset?: number, section?: string) => never = (reason, offset, section) => {
    const loc: { file?: string; offset?: number; section?: string } = {};
    if (file !== undefined) loc.file = file;
    if (section !== undefined) loc.section = section;
    if (offset !== undefined) loc.offset = offset;
    throw new LoaderError(reason, loc);
  };

  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail('not an ELF file (bad magic)', 0);
  }
  if (bytes.length < 16) fail(`truncated ELF header: ${bytes.length} bytes`, bytes.length);
  const cls = bytes[4];
  if (cls === 1) fail('32-bit ELF objects are not supported (BPF objects are ELF64)', 4);
  if (cls !== 2) fail(`invalid ELF class ${cls}`, 4);
  const data = bytes[5];
  if (data === 2) fail('big-endian objects are not supported: build with -target bpfel (or -target bpf on a little-endian host)', 5);
  if (data !== 1) fail(`invalid ELF data encoding ${data}`, 5);
  if (bytes.length < EHDR_SIZE) fail(`truncated ELF header: ${bytes.length} of ${EHDR_SIZE} bytes`, bytes.length);

  const type = r.u16(16);
  const machine = r.u16(18);
  const version = r.u32(20);
  const shoff = r.u64n(40, 'section header table offset');
  const flags = r.u32(48);
  const shentsize = r.u16(58);
  let shnum = r.u16(60);
  let shstrndx = r.u16(62);
  if (type !== ET_REL) fail(`not a relocatable object (e_type ${type}); BPF objects are built with clang -c`, 16);
  if (machine !== EM_BPF && machine !== 0) fail(`not a BPF object (e_machine ${machine}, expected ${EM_BPF})`, 18);
  if (shoff === 0) fail('the object has no section header table', 40);
  if (shentsize !== SHDR_SIZE) fail(`section header size ${shentsize}, expected ${SHDR_SIZE}`, 58);

  const shdrAt = (index: number): number => shoff + index * SHDR_SIZE;
  const checkShdr = (index: number): void => {
    if (shdrAt(index) + SHDR_SIZE > bytes.length) {
      fail(`section header ${index} at offset ${shdrAt(index)} is outside the file (${bytes.length} bytes)`, shdrAt(index));
    }
  };
  // Extended numbering: the real counts live in section header 0.
  checkShdr(0);
  if (shnum === 0) {
    shnum = r.u64n(shdrAt(0) + 32, 'extended section count');
  }
  if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shdrAt(0) + 40);
  if (shnum === 0) fail('the object has no sections', 60);
  if (shnum > 0x100000) fail(`implausible section count ${shnum}`, 60);
  checkShdr(shnum - 1);
  if (shstrndx >= shnum) fail(`section name table index ${shstrndx} is outside the ${shnum} sections`, 62);

  interface RawShdr { name: number; type: number; flags: number; offset: number; size: number; link: number; info: number; addralign: number; entsize: number }
  const raw: RawShdr[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shdrAt(i);
    raw.push({
      name: r.u32(at),
      type: r.u32(at + 4),
      flags: Number(r.u64(at + 8) & 0xffffffffn),
      offset: r.u64n(at + 24, `section ${i} offset`),
      size: r.u64n(at + 32, `section ${i} size`),
      link: r.u32(at + 40),
      info: r.u32(at + 44),
      addralign: r.u64n(at + 48, `section ${i} alignment`),
      entsize: r.u64n(at + 56, `section ${i} entry size`),
    });
  }
  const hasData = (s: RawShdr): boolean => s.type !== SectionType.NOBITS && s.type !== SectionType.NULL;
  const dataOf = (s: RawShdr, i: number, label: string): Uint8Array => {
    if (!hasData(s)) return new Uint8Array(0);
    if (s.offset + s.size > bytes.length) {
      fail(`section ${i} contents (${s.size} bytes at offset ${s.offset}) extend past the end of the file (${bytes.length} bytes)`, s.offset, label);
    }
    return bytes.subarray(s.offset, s.offset + s.size);
  };

  const shstr = raw[shstrndx]!;
  if (shstr.type !== SectionType.STRTAB) fail(`section name table (section ${shstrndx}) is not a string table (type ${shstr.type})`, shdrAt(shstrndx));
  const shstrReader = new ByteReader(dataOf(shstr, shstrndx, `#${shstrndx}`), { ...(file !== undefined ? { file } : {}), offset: shstr.offset, section: `#${shstrndx}` }, 'section name table');

  const sections: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = raw[i]!;
    const name = i === 0 && s.name === 0 ? '' : cString(shstrReader, s.name, `name of section ${i}`);
    sections.push({
      index: i, name, type: s.type, flags: s.flags, offset: s.offset, size: s.size, link: s.link,
      info: s.info, addralign: s.addralign, entsize: s.entsize, data: dataOf(s, i, name || `#${i}`),
    });
  }

  // Symbol table.
  const symtabs = sections.filter((s) => s.type === SectionType.SYMTAB);
  if (symtabs.length > 1) fail(`multiple symbol tables (sections ${symtabs.map((s) => s.index).join(', ')})`, symtabs[1]!.offset, symtabs[1]!.name);
  const symbols: ElfSymbol[] = [];
  let symtabIndex = -1;
  if (symtabs.length === 1) {
    const st = symtabs[0]!;
    symtabIndex = st.index;
    if (st.entsize !== SYM_SIZE) fail(`symbol table entry size ${st.entsize}, expected ${SYM_SIZE}`, st.offset, st.name);
    if (st.size % SYM_SIZE !== 0) fail(`symbol table size ${st.size} is not a multiple of ${SYM_SIZE}`, st.offset, st.name);
    if (st.link === 0 || st.link >= shnum || sections[st.link]!.type !== SectionType.STRTAB) {
      fail(`symbol table links to section ${st.link}, which is not a string table`, st.offset, st.name);
    }
    const strtab = sections[st.link]!;
    const strReader = new ByteReader(strtab.data, { ...(file !== undefined ? { file } : {}), offset: strtab.offset, section: strtab.name }, 'string table');
    const symReader = new ByteReader(st.data, { ...(file !== undefined ? { file } : {}), offset: st.offset, section: st.name }, 'symbol table');
    const xindex = sections.find((s) => s.type === SectionType.SYMTAB_SHNDX && s.link === st.index);
    const count = st.size / SYM_SIZE;
    for (let i = 0; i < count; i++) {
      const at = i * SYM_SIZE;
      const nameOff = symReader.u32(at);
      const info = symReader.u8(at + 4);
      const other = symReader.u8(at + 5);
      let shndx = symReader.u16(at + 6);
      if (shndx === SHN_XINDEX) {
        if (xindex === undefined || (i + 1) * 4 > xindex.data.length) {
          fail(`symbol ${i} uses an extended section index but there is no SYMTAB_SHNDX entry for it`, st.offset + at + 6, st.name);
        }
        shndx = new DataView(xindex.data.buffer, xindex.data.byteOffset + i * 4, 4).getUint32(0, true);
      }
      if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= shnum) {
        fail(`symbol ${i} refers to section ${shndx}, but there are ${shnum} sections`, st.offset + at + 6, st.name);
      }
      symbols.push({
        index: i,
        name: nameOff === 0 ? '' : cString(strReader, nameOff, `name of symbol ${i}`),
        nameOff,
        value: symReader.u64n(at + 8, `value of symbol ${i}`),
        size: symReader.u64n(at + 16, `size of symbol ${i}`),
        type: info & 0xf,
        bind: info >> 4,
        visibility: other & 0x3,
        shndx,
      });
    }
  }

  // Relocation sections.
  const relocations: ElfRelocationSection[] = [];
  for (const s of sections) {
    if (s.type !== SectionType.REL && s.type !== SectionType.RELA) continue;
    const rela = s.type === SectionType.RELA;
    const entsize = rela ? RELA_SIZE : REL_SIZE;
    if (s.entsize !== entsize) fail(`relocation entry size ${s.entsize}, expected ${entsize}`, s.offset, s.name);
    if (s.size % entsize !== 0) fail(`relocation section size ${s.size} is not a multiple of ${entsize}`, s.offset, s.name);
    if (s.info === 0 || s.info >= shnum) fail(`relocation section applies to section ${s.info}, which does not exist`, s.offset, s.name);
    if (s.link !== symtabIndex) fail(`relocation section links to section ${s.link}, not to the symbol table`, s.offset, s.name);
    const rr = new ByteReader(s.data, { ...(file !== undefined ? { file } : {}), offset: s.offset, section: s.name }, 'relocation section');
    const entries: ElfRelocation[] = [];
    for (let at = 0; at < s.size; at += entsize) {
      const offset = rr.u64n(at, 'relocation offset');
      const info = rr.u64(at + 8);
      const symbol = Number(info >> 32n);
      const rtype = Number(info & 0xffffffffn);
      if (symbol >= symbols.length) {
        fail(`relocation #${at / entsize} refers to symbol ${symbol}, but the symbol table has ${symbols.length}`, s.offset + at + 8, s.name);
      }
      const addend = rela ? BigInt.asIntN(64, rr.u64(at + 16)) : 0n;
      entries.push({ offset, type: rtype, symbol, addend });
    }
    relocations.push({ index: s.index, name: s.name, target: s.info, entries });
  }

  return {
    ...(file !== undefined ? { file } : {}),
    header: { type, machine, version, flags, shoff, shnum, shstrndx },
    sections,
    symtabIndex,
    symbols,
    relocations,
  };
}

/** The first section called `name`, if any. */
export function sectionByName(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}
