/**
 * From a clang-built ELF object to an {@link ObjectSpec}, following what
 * libbpf does when it opens and relocates an object (bpf_object__open,
 * bpf_object__relocate): programs by section and function symbol, maps
 * (BTF-defined, legacy ones of every loader's layout, global data,
 * `.kconfig`), externs, CO-RE against a target BTF, subprogram linking and
 * data relocations. The result keeps relocations symbolic (map indexes,
 * offsets), so the VM can place maps wherever it likes. Only a broken ELF
 * throws: what concerns one program or map becomes its `loadError` (libbpf
 * would refuse the whole object). Differences from libbpf are listed in
 * docs/loader.md.
 *
 * This file holds the entry points, the sections and the BTF fix-ups, and
 * the order of the steps; the steps of each concern are in
 * object-externs.ts, object-maps.ts and object-programs.ts, working on the
 * shared state of object-build.ts.
 */
import type { Btf } from './btf.js';
import { BtfFuncLinkage, BtfVarLinkage, parseBtf } from './btf.js';
import type { BtfExt } from './btf-ext.js';
import { parseBtfExt } from './btf-ext.js';
import type { contextBtf } from './ctx-btf.js';
import type { ElfFile } from './elf.js';
import { SectionFlags, SectionType, SymbolBind, SymbolType, SymbolVisibility, readElf } from './elf.js';
import { LoaderError } from './loader-error.js';
import type { DEFAULT_KCONFIG, KconfigValue } from './kconfig.js';
import { ObjectBuild, isDwarf, loc } from './object-build.js';
import { collectExterns, externSpec, resolveKsyms } from './object-externs.js';
import { collectMaps, resolveMapInitialValues } from './object-maps.js';
import { applyCore, collectFuncs, collectRelos, finishProgram, tailCallTypes } from './object-programs.js';
import { applyStructOps, collectStructOps } from './object-struct-ops.js';
import type { ObjectSpec } from './spec.js';
import { decodeUtf8 } from './reader.js';

/** Options of {@link parseObject}. */
export interface ParseObjectOptions {
  /** File name (a path is fine): used in messages and to derive the object name. */
  name?: string;
  /** Object name, overriding the one derived from `name` (libbpf's `object_name` open option). */
  objectName?: string;
  /**
   * BTF that CO-RE relocations are resolved against (default: tsbpf's
   * context types, {@link contextBtf}); a function is called only when the
   * object has CO-RE relocations (kernel BTF is large to parse), and null
   * from it means the default.
   */
  coreTarget?: Btf | (() => Btf | null | undefined);
  /** Name of the CO-RE target in the log (default: the target's name, `vmlinux`, or `tsbpf`). */
  coreTargetName?: string;
  /** `.kconfig` values added to or replacing {@link DEFAULT_KCONFIG}. */
  kconfig?: Readonly<Record<string, KconfigValue>>;
  /** Number of possible CPUs: `max_entries` of perf event arrays left at 0 becomes this (libbpf does it at map creation). */
  possibleCpus?: number;
  /** Page size for ring buffer sizes (default 4096). */
  pageSize?: number;
  /**
   * The kernel BTF `.ksyms` externs are resolved against, as libbpf does at
   * load: kfuncs become kfunc calls (`BPF_PSEUDO_KFUNC_CALL`, the function's
   * id), typed kernel variables `BPF_PSEUDO_BTF_ID` loads. Read on first use
   * (only objects with such externs need it). Without it (or when it returns
   * null) a strong `.ksyms` extern fails to open.
   */
  ksymTarget?: () => Btf | null;
  /**
   * Addresses of kernel symbols (e.g. from /proc/kallsyms) for typeless
   * `.ksyms` externs (`extern const void sym __ksym;`): libbpf writes the
   * address into the `ld_imm64` that loads the symbol. Without it a strong
   * typeless extern fails the programs that use it.
   */
  ksymAddress?: (name: string) => bigint | undefined;
}

/** The parts an object is built from: an ELF file and its parsed BTF. */
export interface ObjectParts {
  elf: ElfFile;
  btf?: Btf;
  btfExt?: BtfExt;
}

/**
 * Parses an object file into an {@link ObjectSpec}. Throws {@link LoaderError}
 * only when the ELF itself is broken (or its BTF); what concerns one program
 * or one map (an unresolved extern, a relocation that cannot apply, a map
 * definition libbpf refuses) is that program's or map's `loadError`, and the
 * rest of the object loads.
 */
export function parseObject(bytes: Uint8Array, options: ParseObjectOptions = {}): ObjectSpec {
  return buildObject(readObjectParts(bytes, options.name), options);
}

/** Reads the ELF and its `.BTF` / `.BTF.ext` sections. */
export function readObjectParts(bytes: Uint8Array, file?: string): ObjectParts {
  const elf = readElf(bytes, file !== undefined ? { file } : {});
  const btfSec = elf.sections.find((s) => s.name === '.BTF');
  const extSec = elf.sections.find((s) => s.name === '.BTF.ext');
  let btf: Btf | undefined;
  let btfExt: BtfExt | undefined;
  if (btfSec) {
    if (btfSec.type !== SectionType.PROGBITS) throw new LoaderError(`.BTF is not a PROGBITS section (type ${btfSec.type})`, loc(file, '.BTF', btfSec.offset));
    btf = parseBtf(btfSec.data, { ...(file !== undefined ? { file } : {}), section: '.BTF', offset: btfSec.offset });
  }
  if (extSec && btf) {
    if (extSec.type !== SectionType.PROGBITS) throw new LoaderError(`.BTF.ext is not a PROGBITS section (type ${extSec.type})`, loc(file, '.BTF.ext', extSec.offset));
    btfExt = parseBtfExt(extSec.data, btf, { ...(file !== undefined ? { file } : {}), section: '.BTF.ext', offset: extSec.offset });
  }
  return { elf, ...(btf ? { btf } : {}), ...(btfExt ? { btfExt } : {}) };
}

/** libbpf's object name: the file's base name, at most 15 characters, cut at the first '.'. */
export function objectNameOf(path: string | undefined): string {
  if (path === undefined || path === '') return 'obj';
  const base = path.split('/').filter((p) => p !== '').pop() ?? path;
  const short = base.slice(0, 15);
  const dot = short.indexOf('.');
  return dot >= 0 ? short.slice(0, dot) : short;
}

/** Builds an {@link ObjectSpec} from an ELF file and its BTF (also used by the linker). */
export function buildObject(parts: ObjectParts, options: ParseObjectOptions = {}): ObjectSpec {
  const build = new ObjectBuild(parts, options, options.objectName ?? objectNameOf(options.name ?? parts.elf.file));
  build.log.push(`loading ${options.name ?? build.file ?? build.objName}`);
  collectSections(build);
  if (build.btf) fixupBtf(build);
  collectExterns(build);
  collectMaps(build);
  resolveKsyms(build);
  collectFuncs(build);
  collectRelos(build);
  applyCore(build);
  const structOps = collectStructOps(build);
  for (const f of build.funcs) {
    if (!f.subprog) build.programs.push(finishProgram(build, f));
  }
  applyStructOps(build, structOps, build.programs);
  tailCallTypes(build);
  resolveMapInitialValues(build);
  for (const p of build.programs) {
    if (p.loadError) build.log.push(`prog '${p.name}': cannot be loaded: ${p.loadError.message}`);
  }
  const spec: ObjectSpec = {
    name: build.objName,
    license: build.license,
    kernelVersion: build.kernelVersion,
    programs: build.programs,
    maps: build.maps,
    externs: build.externs.map((e) => externSpec(e)),
    log: build.log,
  };
  if (build.file !== undefined) spec.file = build.file;
  if (build.btf) spec.btf = build.btf;
  if (build.btfExt) spec.btfExt = build.btfExt;
  if (build.kfuncBtf) spec.kfuncBtf = build.kfuncBtf;
  return spec;
}

/** Sorts the sections by what they hold (programs, maps, global data), and reads `license` and `version`. */
function collectSections(build: ObjectBuild): void {
  if (build.elf.symtabIndex < 0) build.fail("couldn't find symbol table: stripped object file?");
  for (const s of build.elf.sections) {
    if (s.index === 0) continue;
    const name = s.name;
    if (s.type === SectionType.STRTAB || s.type === SectionType.LLVM_ADDRSIG) continue;
    if (s.type === SectionType.PROGBITS && s.size === 0 && name === '.text') continue;
    if (isDwarf(name) || (name.startsWith('.rel') && (isDwarf(name.slice(4)) || name === '.rel.BTF' || name === '.rel.BTF.ext'))) continue;
    if (name === 'license') {
      const nul = s.data.indexOf(0);
      build.license = decodeUtf8(nul >= 0 ? s.data.subarray(0, nul) : s.data);
      build.log.push(`license of ${build.objName} is ${build.license}`);
    } else if (name === 'version') {
      if (s.data.length !== 4) build.fail(`invalid kver section: ${s.data.length} bytes, expected 4`, name, s.offset);
      build.kernelVersion = new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, true);
      build.log.push(`kernel version of ${build.objName} is ${build.kernelVersion.toString(16)}`);
    } else if (name.startsWith('maps') && !(s.flags & SectionFlags.EXECINSTR)) {
      build.legacyMapSections.push(s.index);
      build.kinds.set(s.index, 'legacy_maps');
    } else if (name === '.maps') {
      build.mapsIdx = s.index;
      build.kinds.set(s.index, 'maps');
    } else if (name === '.BTF' || name === '.BTF.ext' || s.type === SectionType.SYMTAB) {
      // handled elsewhere
    } else if (s.type === SectionType.PROGBITS && s.size > 0) {
      if (s.flags & SectionFlags.EXECINSTR) {
        if (name === '.text') build.textIdx = s.index;
        if (s.size % 8 !== 0) build.fail(`program section size ${s.size} is not a multiple of 8`, name, s.offset);
        build.kinds.set(s.index, 'prog');
      } else if (name === '.data' || name.startsWith('.data.')) {
        build.kinds.set(s.index, 'data');
      } else if (name === '.rodata' || name.startsWith('.rodata.')) {
        build.kinds.set(s.index, 'rodata');
      } else {
        build.log.push(name === '.struct_ops' || name === '.struct_ops.link'
          ? `elf: struct_ops section(${s.index}) ${name}: its programs are loaded for their members, its maps are not created`
          : `elf: skipping unrecognized data section(${s.index}) ${name}`);
      }
    } else if (s.type === SectionType.NOBITS && (name === '.bss' || name.startsWith('.bss.'))) {
      build.kinds.set(s.index, 'bss');
    } else if (s.type !== SectionType.REL && s.type !== SectionType.RELA) {
      build.log.push(`elf: skipping section(${s.index}) ${name} (size ${s.size})`);
    }
  }
}

/** libbpf's btf_fixup_datasec (DATASEC sizes and VAR offsets from the ELF, hidden globals as static, VARs by offset) and hidden subprograms as static. */
function fixupBtf(build: ObjectBuild): void {
  const btf = build.btf!;
  for (const t of btf.ownTypes) {
    if (t.kind !== 'DATASEC') continue;
    if (t.name !== '.kconfig' && t.name !== '.ksyms') {
      let fixOffsets = false;
      if (t.size === 0) {
        const sec = build.elf.sections.find((s) => s.name === t.name);
        if (!sec || sec.size === 0) {
          build.log.push(`sec '${t.name}': failed to determine size from ELF`);
          continue;
        }
        t.size = sec.size;
        fixOffsets = true;
      }
      for (const v of t.vars) {
        const vt = btf.tryType(v.type);
        if (!vt || vt.kind !== 'VAR') {
          if (vt && vt.kind === 'FUNC') continue;
          build.fail(`BTF: DATASEC '${t.name}' holds type [${v.type}], which is not a VAR`, '.BTF');
        }
        if (vt.linkage === BtfVarLinkage.STATIC || vt.linkage === BtfVarLinkage.GLOBAL_EXTERN) continue;
        const sym = build.elf.symbols.find((s) => s.type === SymbolType.OBJECT && (s.bind === SymbolBind.GLOBAL || s.bind === SymbolBind.WEAK) && s.name === vt.name);
        if (!sym) build.fail(`BTF: sec '${t.name}': failed to find ELF symbol for VAR '${vt.name}'`, '.BTF');
        if (fixOffsets) v.offset = sym.value;
        if (sym.visibility === SymbolVisibility.HIDDEN || sym.visibility === SymbolVisibility.INTERNAL) vt.linkage = BtfVarLinkage.STATIC;
      }
    }
    t.vars.sort((a, b) => a.offset - b.offset);
  }
  // libbpf (bpf_object__sanitize_and_load_btf, mark_btf_static): a global or
  // weak subprogram (in .text) with hidden or internal visibility gets a
  // static BTF FUNC, so the verifier checks it in its callers' context
  // (e.g. usdt.bpf.h's `__weak __hidden bpf_usdt_arg()`).
  for (const sym of build.elf.symbols) {
    if (sym.type !== SymbolType.FUNC || (sym.bind !== SymbolBind.GLOBAL && sym.bind !== SymbolBind.WEAK)) continue;
    if (sym.visibility !== SymbolVisibility.HIDDEN && sym.visibility !== SymbolVisibility.INTERNAL) continue;
    if (build.elf.sections[sym.shndx]?.name !== '.text') continue;
    for (const t of btf.ownTypes) {
      if (t.kind === 'FUNC' && t.linkage === BtfFuncLinkage.GLOBAL && t.name === sym.name) {
        t.linkage = BtfFuncLinkage.STATIC;
        break;
      }
    }
  }
}
