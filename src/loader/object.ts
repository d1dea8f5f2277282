/**
 * From a clang-built ELF object to an {@link ObjectSpec}, following what
 * libbpf does when it opens and relocates an object (bpf_object__open,
 * bpf_object__relocate): programs by section and function symbol, maps
 * (BTF-defined, legacy, global data, `.kconfig`), externs, CO-RE against a
 * target BTF, subprogram linking and data relocations. The result keeps
 * relocations symbolic (map indexes, offsets), so the VM can place maps
 * wherever it likes. Differences from libbpf are listed in docs/loader.md.
 */
import type { ErrorLocation } from '../errors.js';
import { CallSrc, PseudoSrc } from '../isa/opcode.js';
import { MapFlags, MapType } from '../vm/maps/types.js';
import type { MapSpec } from '../vm/maps/types.js';
import type { Btf, BtfComposite, BtfDatasec, BtfType, BtfVar } from './btf.js';
import { BtfFuncLinkage, BtfVarLinkage, parseBtf } from './btf.js';
import type { BtfExt } from './btf-ext.js';
import { parseBtfExt } from './btf-ext.js';
import { coreContext, coreTypesAreCompat, essentialName, patchCoreInsn, resolveCoreRelo } from './core.js';
import { contextBtf } from './ctx-btf.js';
import type { ElfFile, ElfRelocation, ElfSection, ElfSymbol } from './elf.js';
import { RELOC_TYPE_NAMES, RelocType, SHN_LORESERVE, SHN_UNDEF, SectionFlags, SectionType, SymbolBind, SymbolType, SymbolVisibility, readElf } from './elf.js';
import { LoaderError } from './errors.js';
import type { KcfgDesc, KcfgType, KconfigValue } from './kconfig.js';
import { DEFAULT_KCONFIG, setKconfigValue } from './kconfig.js';
import { programTypeOfSection } from './sections.js';
import type { SectionProgramType } from './sections.js';
import type {
  ExternSpec, MapInitialValue, ObjectMapSpec, ObjectSpec, ProgramFuncInfo, ProgramFunction, ProgramLineInfo,
  ProgramRelocation, ProgramSpec,
} from './spec.js';
import { decodeUtf8 } from './reader.js';

/** Options of {@link parseObject}. */
export interface ParseObjectOptions {
  /** File name (a path is fine): used in messages and to derive the object name. */
  name?: string;
  /** Object name, overriding the one derived from `name` (libbpf's `object_name` open option). */
  objectName?: string;
  /** BTF that CO-RE relocations are resolved against (default: tsbpf's context types, {@link contextBtf}). */
  coreTarget?: Btf;
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
}

/** The parts an object is built from: an ELF file and its parsed BTF. */
export interface ObjectParts {
  elf: ElfFile;
  btf?: Btf;
  btfExt?: BtfExt;
}

/** Parses an object file into an {@link ObjectSpec}. Throws {@link LoaderError} on bad input. */
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

function loc(file: string | undefined, section?: string, offset?: number, insn?: number): ErrorLocation {
  const l: ErrorLocation = {};
  if (file !== undefined) l.file = file;
  if (section !== undefined) l.section = section;
  if (offset !== undefined) l.offset = offset;
  if (insn !== undefined) l.insn = insn;
  return l;
}

/** libbpf's object name: the file's base name, at most 15 characters, cut at the first '.'. */
export function objectNameOf(path: string | undefined): string {
  if (path === undefined || path === '') return 'obj';
  const base = path.split('/').filter((p) => p !== '').pop() ?? path;
  const short = base.slice(0, 15);
  const dot = short.indexOf('.');
  return dot >= 0 ? short.slice(0, dot) : short;
}

/** libbpf's `internal_map_name`: the kernel-visible name of a global data map. */
export function internalMapName(objName: string, realName: string): string {
  const OBJ_NAME_LEN = 16;
  let sfxLen = Math.max(7, realName.length);
  if (sfxLen >= OBJ_NAME_LEN) sfxLen = OBJ_NAME_LEN - 1;
  const pfxLen = realName.indexOf('.', 1) >= 0 ? 0 : Math.min(OBJ_NAME_LEN - sfxLen - 1, objName.length);
  const name = objName.slice(0, pfxLen) + realName.slice(0, sfxLen);
  return name.slice(0, OBJ_NAME_LEN - 1).replace(/[^A-Za-z0-9_.]/g, '_');
}

/** Largest map value the loader allocates for global data (Linux caps array values far lower). */
const MAX_VALUE_SIZE = 1 << 30;

type SecKind = 'prog' | 'data' | 'rodata' | 'bss' | 'maps' | 'legacy_maps';

/** A function found in an executable section (entry program or subprogram). */
interface Func {
  name: string;
  secIdx: number;
  secName: string;
  /** First slot in the section. */
  insnOff: number;
  /** Number of slots. */
  cnt: number;
  global: boolean;
  /** In `.text`: only ever called, never an entry point. */
  subprog: boolean;
  /** Own instructions (CO-RE applied in place). */
  insns: Uint8Array;
  relos: RelocDesc[];
  /** Index among entry programs, or -1. */
  progIndex: number;
  /** Own slots poisoned by CO-RE relocations that found no target, with libbpf's text of the spec. */
  coreFailures?: { insn: number; spec: string }[];
}

type RelocDesc =
  | { insn: number; type: 'ld64'; map: number }
  | { insn: number; type: 'data'; map: number; symOff: number }
  | { insn: number; type: 'call' | 'subprog_addr'; secIdx: number; symOff: number; symName: string }
  | { insn: number; type: 'extern_ld64' | 'extern_call'; ext: number };

interface Extern {
  name: string;
  symIdx: number;
  weak: boolean;
  btfId: number;
  type: 'kcfg' | 'ksym';
  kcfg?: KcfgDesc & { align: number; dataOff: number };
  ksymTypeId: number;
  func: boolean;
  resolved: boolean;
  value?: bigint | string;
  /** The kernel BTF id a kfunc or typed ksym resolved to. */
  kernelBtfId?: number;
}

interface MapDef {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  mapExtra: bigint;
  numaNode: number;
  pinning: number;
  keyTypeId: number;
  valueTypeId: number;
  parts: Set<string>;
  hasValues: boolean;
  inner?: MapDef;
}

/** Builds an {@link ObjectSpec} from an ELF file and its BTF (also used by the linker). */
export function buildObject(parts: ObjectParts, options: ParseObjectOptions = {}): ObjectSpec {
  return new ObjectBuilder(parts, options).build();
}

class ObjectBuilder {
  private readonly elf: ElfFile;
  private readonly btf: Btf | undefined;
  private readonly btfExt: BtfExt | undefined;
  private readonly file: string | undefined;
  private readonly log: string[] = [];
  private readonly objName: string;
  private readonly kinds = new Map<number, SecKind>();
  private textIdx = -1;
  private mapsIdx = -1;
  private legacyMapsIdx = -1;
  private license = '';
  private kernelVersion = 0;
  private readonly funcs: Func[] = [];
  private readonly maps: ObjectMapSpec[] = [];
  private readonly externs: Extern[] = [];
  private kconfigMap = -1;
  private readonly programs: ProgramSpec[] = [];

  constructor(parts: ObjectParts, private readonly options: ParseObjectOptions) {
    this.elf = parts.elf;
    this.btf = parts.btf;
    this.btfExt = parts.btfExt;
    this.file = parts.elf.file ?? options.name;
    this.objName = options.objectName ?? objectNameOf(options.name ?? parts.elf.file);
  }

  private fail(reason: string, section?: string, offset?: number, insn?: number): never {
    throw new LoaderError(reason, loc(this.file, section, offset, insn));
  }

  build(): ObjectSpec {
    this.log.push(`loading ${this.options.name ?? this.file ?? this.objName}`);
    this.collectSections();
    if (this.btf) this.fixupBtf();
    this.collectExterns();
    this.collectMaps();
    this.collectFuncs();
    this.collectRelos();
    this.applyCore();
    for (const f of this.funcs) {
      if (!f.subprog) this.programs.push(this.finishProgram(f));
    }
    this.resolveMapInitialValues();
    const spec: ObjectSpec = {
      name: this.objName,
      license: this.license,
      kernelVersion: this.kernelVersion,
      programs: this.programs,
      maps: this.maps,
      externs: this.externs.map((e) => this.externSpec(e)),
      log: this.log,
    };
    if (this.file !== undefined) spec.file = this.file;
    if (this.btf) spec.btf = this.btf;
    if (this.btfExt) spec.btfExt = this.btfExt;
    return spec;
  }

  // ---------------------------------------------------------------- sections

  private section(idx: number): ElfSection {
    const s = this.elf.sections[idx];
    if (!s) this.fail(`section index ${idx} does not exist`);
    return s;
  }

  private collectSections(): void {
    if (this.elf.symtabIndex < 0) this.fail("couldn't find symbol table: stripped object file?");
    for (const s of this.elf.sections) {
      if (s.index === 0) continue;
      const name = s.name;
      if (s.type === SectionType.STRTAB || s.type === SectionType.LLVM_ADDRSIG) continue;
      if (s.type === SectionType.PROGBITS && s.size === 0 && name === '.text') continue;
      if (isDwarf(name) || (name.startsWith('.rel') && (isDwarf(name.slice(4)) || name === '.rel.BTF' || name === '.rel.BTF.ext'))) continue;
      if (name === 'license') {
        const nul = s.data.indexOf(0);
        this.license = decodeUtf8(nul >= 0 ? s.data.subarray(0, nul) : s.data);
        this.log.push(`license of ${this.objName} is ${this.license}`);
      } else if (name === 'version') {
        if (s.data.length !== 4) this.fail(`invalid kver section: ${s.data.length} bytes, expected 4`, name, s.offset);
        this.kernelVersion = new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, true);
        this.log.push(`kernel version of ${this.objName} is ${this.kernelVersion.toString(16)}`);
      } else if (name === 'maps') {
        this.legacyMapsIdx = s.index;
        this.kinds.set(s.index, 'legacy_maps');
      } else if (name === '.maps') {
        this.mapsIdx = s.index;
        this.kinds.set(s.index, 'maps');
      } else if (name === '.BTF' || name === '.BTF.ext' || s.type === SectionType.SYMTAB) {
        // handled elsewhere
      } else if (s.type === SectionType.PROGBITS && s.size > 0) {
        if (s.flags & SectionFlags.EXECINSTR) {
          if (name === '.text') this.textIdx = s.index;
          if (s.size % 8 !== 0) this.fail(`program section size ${s.size} is not a multiple of 8`, name, s.offset);
          this.kinds.set(s.index, 'prog');
        } else if (name === '.data' || name.startsWith('.data.')) {
          this.kinds.set(s.index, 'data');
        } else if (name === '.rodata' || name.startsWith('.rodata.')) {
          this.kinds.set(s.index, 'rodata');
        } else {
          this.log.push(`elf: skipping unrecognized data section(${s.index}) ${name}`);
        }
      } else if (s.type === SectionType.NOBITS && (name === '.bss' || name.startsWith('.bss.'))) {
        this.kinds.set(s.index, 'bss');
      } else if (s.type !== SectionType.REL && s.type !== SectionType.RELA) {
        this.log.push(`elf: skipping section(${s.index}) ${name} (size ${s.size})`);
      }
    }
  }

  // ---------------------------------------------------------------- BTF fixups

  /** libbpf's btf_fixup_datasec (DATASEC sizes and VAR offsets from the ELF, hidden globals as static, VARs by offset) and hidden subprograms as static. */
  private fixupBtf(): void {
    const btf = this.btf!;
    for (const t of btf.ownTypes) {
      if (t.kind !== 'DATASEC') continue;
      if (t.name !== '.kconfig' && t.name !== '.ksyms') {
        let fixOffsets = false;
        if (t.size === 0) {
          const sec = this.elf.sections.find((s) => s.name === t.name);
          if (!sec || sec.size === 0) {
            this.log.push(`sec '${t.name}': failed to determine size from ELF`);
            continue;
          }
          t.size = sec.size;
          fixOffsets = true;
        }
        for (const v of t.vars) {
          const vt = btf.tryType(v.type);
          if (!vt || vt.kind !== 'VAR') {
            if (vt && vt.kind === 'FUNC') continue;
            this.fail(`BTF: DATASEC '${t.name}' holds type [${v.type}], which is not a VAR`, '.BTF');
          }
          if (vt.linkage === BtfVarLinkage.STATIC || vt.linkage === BtfVarLinkage.GLOBAL_EXTERN) continue;
          const sym = this.elf.symbols.find((s) => s.type === SymbolType.OBJECT && (s.bind === SymbolBind.GLOBAL || s.bind === SymbolBind.WEAK) && s.name === vt.name);
          if (!sym) this.fail(`BTF: sec '${t.name}': failed to find ELF symbol for VAR '${vt.name}'`, '.BTF');
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
    for (const sym of this.elf.symbols) {
      if (sym.type !== SymbolType.FUNC || (sym.bind !== SymbolBind.GLOBAL && sym.bind !== SymbolBind.WEAK)) continue;
      if (sym.visibility !== SymbolVisibility.HIDDEN && sym.visibility !== SymbolVisibility.INTERNAL) continue;
      if (this.elf.sections[sym.shndx]?.name !== '.text') continue;
      for (const t of btf.ownTypes) {
        if (t.kind === 'FUNC' && t.linkage === BtfFuncLinkage.GLOBAL && t.name === sym.name) {
          t.linkage = BtfFuncLinkage.STATIC;
          break;
        }
      }
    }
  }

  // ---------------------------------------------------------------- externs

  private collectExterns(): void {
    const btf = this.btf;
    const raw: Extern[] = [];
    for (const sym of this.elf.symbols) {
      if (sym.shndx !== SHN_UNDEF || (sym.bind !== SymbolBind.GLOBAL && sym.bind !== SymbolBind.WEAK) || sym.type !== SymbolType.NOTYPE || sym.name === '') continue;
      if (!btf) this.fail(`extern '${sym.name}' needs BTF (build with -g)`);
      let btfId = -1;
      for (const t of btf.types()) {
        if ((t.kind !== 'VAR' && t.kind !== 'FUNC') || t.name !== sym.name) continue;
        if (t.kind === 'VAR' && t.linkage !== BtfVarLinkage.GLOBAL_EXTERN) this.fail(`extern '${sym.name}': its BTF VAR is not extern`, '.BTF');
        if (t.kind === 'FUNC' && t.linkage !== 2) this.fail(`extern '${sym.name}': its BTF FUNC is not extern`, '.BTF');
        btfId = t.id;
        break;
      }
      if (btfId < 0) this.fail(`failed to find BTF for extern '${sym.name}'`, '.BTF');
      const t = btf.typeById(btfId);
      let sec: BtfDatasec | undefined;
      for (const d of btf.types()) {
        if (d.kind === 'DATASEC' && d.vars.some((v) => v.type === btfId)) {
          sec = d;
          break;
        }
      }
      if (!sec) {
        if (t.kind === 'FUNC') this.fail(`extern function '${sym.name}' is not defined in this object: link it with the object that defines it (tsbpf link, bpftool gen object)`);
        this.fail(`extern '${sym.name}' is not in a .kconfig or .ksyms section (an unresolved extern variable: link it with the object that defines it)`);
      }
      const ext: Extern = { name: t.name, symIdx: sym.index, weak: sym.bind === SymbolBind.WEAK, btfId, type: 'kcfg', ksymTypeId: 0, func: t.kind === 'FUNC', resolved: false };
      if (sec.name === '.kconfig') {
        if (t.kind === 'FUNC') this.fail(`extern function ${t.name} is unsupported under .kconfig section`);
        const vt = (t as BtfVar).type;
        const size = btf.tryResolveSize(vt);
        if (typeof size === 'string' || size <= 0) this.fail(`failed to resolve size of extern (kcfg) '${t.name}'`);
        const align = btf.alignOf(vt);
        const { type, signed } = kcfgType(btf, vt);
        if (type === 'unknown') this.fail(`extern (kcfg) '${t.name}': type is unsupported`);
        ext.kcfg = { name: t.name, type, size, signed, align, dataOff: 0 };
      } else if (sec.name === '.ksyms') {
        ext.type = 'ksym';
        ext.ksymTypeId = t.kind === 'FUNC' ? t.type : btf.skipModsAndTypedefs((t as BtfVar).type).id;
      } else {
        this.fail(`unrecognized extern section '${sec.name}'`);
      }
      raw.push(ext);
    }
    raw.sort((a, b) => {
      if (a.type !== b.type) return a.type === 'kcfg' ? -1 : 1;
      if (a.kcfg && b.kcfg) {
        if (a.kcfg.align !== b.kcfg.align) return b.kcfg.align - a.kcfg.align;
        if (a.kcfg.size !== b.kcfg.size) return a.kcfg.size - b.kcfg.size;
      }
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    });
    this.externs.push(...raw);
    this.log.push(`collected ${raw.length} externs total`);
    let off = 0;
    for (let i = 0; i < raw.length; i++) {
      const e = raw[i]!;
      if (e.kcfg) {
        e.kcfg.dataOff = Math.ceil(off / e.kcfg.align) * e.kcfg.align;
        off = e.kcfg.dataOff + e.kcfg.size;
        this.log.push(`extern (kcfg) #${i}: symbol ${e.symIdx}, off ${e.kcfg.dataOff}, name ${e.name}`);
      } else {
        this.log.push(`extern (ksym) #${i}: symbol ${e.symIdx}, name ${e.name}`);
      }
    }
    // libbpf turns the .kconfig DATASEC into an allocated variable layout.
    if (btf && raw.some((e) => e.kcfg)) {
      const sec = btf.findByName('.kconfig', 'DATASEC') as BtfDatasec | undefined;
      if (sec) {
        sec.size = off;
        for (const v of sec.vars) {
          const vt = btf.typeById(v.type);
          const e = raw.find((x) => x.name === vt.name);
          if (!e || !e.kcfg) this.fail(`failed to find extern definition for BTF var '${vt.name}'`, '.BTF');
          if (vt.kind === 'VAR') vt.linkage = BtfVarLinkage.GLOBAL_ALLOCATED;
          v.offset = e.kcfg.dataOff;
        }
        sec.vars.sort((a, b) => a.offset - b.offset);
      }
    }
  }

  private resolveKconfig(data: Uint8Array): void {
    const values: Record<string, KconfigValue> = { ...DEFAULT_KCONFIG, ...(this.options.kconfig ?? {}) };
    for (const e of this.externs) {
      if (!e.kcfg) continue;
      const v = Object.prototype.hasOwnProperty.call(values, e.name) ? values[e.name] : undefined;
      if (v === undefined) {
        if (!e.weak) this.fail(`extern (kcfg) '${e.name}' (strong): not resolved: tsbpf knows no value for it (see docs/loader.md; pass it in the kconfig option)`);
        this.log.push(`extern '${e.name}' (weak): not resolved, defaulting to zero`);
        continue;
      }
      const bytes = data.subarray(e.kcfg.dataOff, e.kcfg.dataOff + e.kcfg.size);
      try {
        setKconfigValue(e.kcfg, bytes, v);
      } catch (err) {
        if (err instanceof LoaderError) this.fail(err.reason);
        throw err;
      }
      e.resolved = true;
      e.value = typeof v === 'string' && v.startsWith('"') ? v : typeof v === 'string' && /^[ynm]$/.test(v) ? v : BigInt(typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'number' ? Math.trunc(v) : v);
      let shown = 0n;
      for (let i = Math.min(8, bytes.length) - 1; i >= 0; i--) shown = (shown << 8n) | BigInt(bytes[i]!);
      this.log.push(`extern (kcfg) '${e.name}': set to 0x${shown.toString(16)}`);
    }
  }

  private externSpec(e: Extern): ExternSpec {
    const out: ExternSpec = { name: e.name, kind: e.type === 'kcfg' ? 'kconfig' : 'ksym', weak: e.weak, btfId: e.btfId, resolved: e.resolved };
    if (e.kcfg) {
      out.offset = e.kcfg.dataOff;
      out.size = e.kcfg.size;
    }
    if (e.value !== undefined) out.value = e.value;
    if (e.type === 'ksym') {
      out.func = e.func;
      out.typeless = e.ksymTypeId === 0;
    }
    return out;
  }

  // ---------------------------------------------------------------- maps

  private collectMaps(): void {
    if (this.legacyMapsIdx >= 0) this.collectLegacyMaps();
    if (this.mapsIdx >= 0) this.collectBtfMaps();
    // Global data, by section index.
    for (const s of this.elf.sections) {
      const kind = this.kinds.get(s.index);
      if ((kind !== 'data' && kind !== 'rodata' && kind !== 'bss') || s.size === 0) continue;
      if (s.size > MAX_VALUE_SIZE) this.fail(`global data section of ${s.size} bytes is too large for a map value (at most ${MAX_VALUE_SIZE})`, s.name, s.offset);
      this.addInternalMap(kind, s.name, s.index, kind === 'bss' ? new Uint8Array(s.size) : s.data.slice());
    }
    const kcfg = this.externs.filter((e) => e.kcfg);
    if (kcfg.length) {
      const last = kcfg[kcfg.length - 1]!.kcfg!;
      if (last.dataOff + last.size > MAX_VALUE_SIZE) this.fail(`.kconfig externs need ${last.dataOff + last.size} bytes, more than a map value may hold`, '.BTF');
      const data = new Uint8Array(last.dataOff + last.size);
      this.resolveKconfig(data);
      this.kconfigMap = this.addInternalMap('kconfig', '.kconfig', this.elf.symtabIndex, data);
    }
    for (const e of this.externs) {
      if (e.type !== 'ksym') continue;
      if (this.resolveKsym(e)) continue;
      if (!e.weak) {
        this.fail(`extern '${e.name}' (strong): not resolved: kernel ${e.func ? 'functions (kfuncs)' : 'symbols'} do not exist in user space (declare it __weak and test bpf_ksym_exists())`);
      }
      this.log.push(`extern '${e.name}' (weak): not resolved, defaulting to zero`);
    }
  }

  /**
   * bpf_object__resolve_ksym_func_btf_id / _var_btf_id: a kfunc or a typed
   * kernel variable, found by name in the kernel BTF and checked against
   * the object's declaration. Typeless ksyms need kallsyms addresses, which
   * tsbpf does not have.
   */
  private resolveKsym(e: Extern): boolean {
    if (!e.func && e.ksymTypeId === 0) return false;
    const kern = this.options.ksymTarget?.();
    const local = this.btf;
    if (!kern || !local) return false;
    const kind = e.func ? 'FUNC' : 'VAR';
    const what = e.func ? 'func ksym' : 'var ksym';
    const name = e.func ? essentialName(e.name) : e.name;
    const id = kern.idsByName(name).find((i) => kern.typeById(i).kind === kind);
    if (id === undefined) {
      if (e.weak) return false;
      this.fail(`extern (${what}) '${e.name}': not found in kernel or module BTFs`);
    }
    const kt = kern.typeById(id) as { type: number };
    if (e.func) {
      if (!coreTypesAreCompat(local, e.ksymTypeId, kern, kt.type)) {
        if (e.weak) return false;
        this.fail(`extern (func ksym) '${e.name}': func_proto [${e.ksymTypeId}] incompatible with ${kern.name || 'vmlinux'} [${kt.type}]`);
      }
    } else {
      const targ = kern.skipModsAndTypedefs(kt.type);
      if (!coreTypesAreCompat(local, e.ksymTypeId, kern, targ.id)) {
        const lt = local.typeById(e.ksymTypeId);
        this.fail(`extern (var ksym) '${e.name}': incompatible types, expected [${e.ksymTypeId}] ${lt.kind} ${lt.name}, but kernel has [${targ.id}] ${targ.kind} ${targ.name}`);
      }
    }
    e.kernelBtfId = id;
    e.resolved = true;
    this.log.push(`extern (${what}) '${e.name}': resolved to ${kern.name || 'vmlinux'} [${id}]`);
    return true;
  }

  private addInternalMap(kind: 'data' | 'rodata' | 'bss' | 'kconfig', realName: string, secIdx: number, data: Uint8Array): number {
    const name = internalMapName(this.objName, realName);
    let flags = kind === 'rodata' || kind === 'kconfig' ? MapFlags.RDONLY_PROG : 0;
    const btf = this.btf;
    let valueTypeId = 0;
    if (btf) {
      const ids = btf.idsByName(realName);
      if (ids.length) valueTypeId = ids[0]!;
      const t = valueTypeId ? btf.typeById(valueTypeId) : undefined;
      if (t && t.kind === 'DATASEC' && t.vars.some((v) => {
        const vt = btf.tryType(v.type);
        return vt !== undefined && vt.kind === 'VAR' && vt.linkage !== BtfVarLinkage.STATIC;
      })) flags |= MapFlags.MMAPABLE;
    }
    const map: ObjectMapSpec = {
      name, type: MapType.ARRAY, keySize: 4, valueSize: data.length, maxEntries: 1, flags,
      kind, realName, section: kind === 'kconfig' ? '.kconfig' : realName, sectionIndex: secIdx, sectionOffset: 0,
      initialData: data, frozen: kind === 'rodata' || kind === 'kconfig',
    };
    if (valueTypeId) {
      map.btfKeyTypeId = 0;
      map.btfValueTypeId = valueTypeId;
    }
    this.maps.push(map);
    this.log.push(`map '${name}' (global data): at sec_idx ${secIdx}, offset 0, flags ${flags.toString(16)}.`);
    this.log.push(`map ${this.maps.length - 1} is "${name}"`);
    return this.maps.length - 1;
  }

  private collectLegacyMaps(): void {
    const sec = this.section(this.legacyMapsIdx);
    const syms = this.elf.symbols.filter((s) => s.shndx === sec.index && s.name !== '' && (s.type === SymbolType.OBJECT || s.type === SymbolType.NOTYPE))
      .sort((a, b) => a.value - b.value);
    if (syms.length === 0) {
      this.log.push(`elf: legacy maps section has no map symbols`);
      return;
    }
    if (sec.size === 0 || sec.size % syms.length !== 0) {
      this.fail(`unable to determine legacy map definition size: section is ${sec.size} bytes for ${syms.length} maps`, 'maps', sec.offset);
    }
    const defSize = sec.size / syms.length;
    if (defSize < 16) this.fail(`legacy map definitions of ${defSize} bytes are too small (struct bpf_map_def has at least 16)`, 'maps', sec.offset);
    const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
    for (const sym of syms) {
      const off = sym.value;
      if (off + defSize > sec.size || off % 4 !== 0) this.fail(`legacy map '${sym.name}' at offset ${off} is outside the maps section or misaligned`, 'maps', sec.offset + off);
      const u32 = (i: number): number => (i * 4 + 4 <= defSize ? view.getUint32(off + i * 4, true) : 0);
      const iproute2 = defSize === 36;
      if (!iproute2 && defSize > 20) {
        for (let i = 20; i < defSize; i++) {
          if (sec.data[off + i] !== 0) this.fail(`legacy map '${sym.name}': unknown non-zero fields at offset ${i} of its ${defSize}-byte definition`, 'maps', sec.offset + off + i);
        }
      }
      const map: ObjectMapSpec = {
        name: sym.name, type: u32(0), keySize: u32(1), valueSize: u32(2), maxEntries: u32(3), flags: u32(4),
        kind: 'legacy', realName: sym.name, section: 'maps', sectionIndex: sec.index, sectionOffset: off, frozen: false,
      };
      if (iproute2) {
        map.legacy = { id: u32(5), pinning: u32(6), innerId: u32(7), innerIdx: u32(8) };
        if (map.legacy.pinning) map.pinning = map.legacy.pinning;
      }
      this.maps.push(map);
      this.log.push(`map '${sym.name}' (legacy): at sec_idx ${sec.index}, offset ${off}.`);
    }
  }

  private collectBtfMaps(): void {
    const btf = this.btf;
    const sec = this.section(this.mapsIdx);
    if (!btf) this.fail('BTF-defined maps (.maps section) need BTF: build with -g', '.maps', sec.offset);
    const ds = btf.findByName('.maps', 'DATASEC') as BtfDatasec | undefined;
    if (!ds) this.fail("DATASEC '.maps' not found", '.BTF');
    ds.vars.forEach((vi, varIdx) => {
      const vt = btf.tryType(vi.type);
      const name = vt?.name ?? '';
      if (name === '') this.fail(`map #${varIdx}: empty name`, '.maps');
      if (vi.offset + vi.size > sec.size) this.fail(`map '${name}' BTF data is corrupted: ${vi.size} bytes at offset ${vi.offset} are outside .maps (${sec.size} bytes)`, '.maps', sec.offset + Math.min(vi.offset, sec.size));
      if (!vt || vt.kind !== 'VAR') this.fail(`map '${name}': unexpected var kind ${vt?.kind.toLowerCase()}`, '.maps');
      if (vt.linkage !== BtfVarLinkage.GLOBAL_ALLOCATED) this.fail(`map '${name}': unsupported map linkage ${['static', 'global', 'extern'][vt.linkage] ?? 'unknown'}`, '.maps');
      const def = btf.skipModsAndTypedefs(vt.type);
      if (def.kind !== 'STRUCT') this.fail(`map '${name}': unexpected def kind ${def.kind.toLowerCase()}`, '.maps');
      if (def.size > vi.size) this.fail(`map '${name}': invalid def size`, '.maps');
      this.log.push(`map '${name}': at sec_idx ${sec.index}, offset ${vi.offset}.`);
      const md = this.parseMapDef(name, def, false);
      const map: ObjectMapSpec = {
        name, type: md.type, keySize: md.keySize, valueSize: md.valueSize, maxEntries: md.maxEntries, flags: md.flags,
        kind: 'btf', realName: name, section: '.maps', sectionIndex: sec.index, sectionOffset: vi.offset, frozen: false,
      };
      this.fillMap(map, md);
      if (md.inner) {
        const inner: MapSpec = { name: `${name}.inner`, type: md.inner.type, keySize: md.inner.keySize, valueSize: md.inner.valueSize, maxEntries: md.inner.maxEntries, flags: md.inner.flags };
        this.fillMap(inner, md.inner);
        map.innerMap = inner;
      }
      this.maps.push(map);
    });
  }

  private fillMap(map: MapSpec & { numaNode?: number }, md: MapDef): void {
    const n = `map '${map.name}': found`;
    const p = md.parts;
    if (p.has('type')) this.log.push(`${n} type = ${md.type}.`);
    if (p.has('key_type')) this.log.push(`${n} key [${md.keyTypeId}], sz = ${md.keySize}.`);
    else if (p.has('key_size')) this.log.push(`${n} key_size = ${md.keySize}.`);
    if (p.has('value_type')) this.log.push(`${n} value [${md.valueTypeId}], sz = ${md.valueSize}.`);
    else if (p.has('value_size')) this.log.push(`${n} value_size = ${md.valueSize}.`);
    if (p.has('max_entries')) this.log.push(`${n} max_entries = ${md.maxEntries}.`);
    if (p.has('map_flags')) this.log.push(`${n} map_flags = 0x${md.flags.toString(16)}.`);
    if (p.has('map_extra')) this.log.push(`${n} map_extra = 0x${md.mapExtra.toString(16)}.`);
    if (p.has('pinning')) this.log.push(`${n} pinning = ${md.pinning}.`);
    if (p.has('numa_node')) this.log.push(`${n} numa_node = ${md.numaNode}.`);
    if (p.has('inner')) this.log.push(`${n} inner map definition.`);
    if (md.mapExtra) map.mapExtra = md.mapExtra;
    if (md.numaNode) map.numaNode = md.numaNode;
    if (md.pinning) map.pinning = md.pinning;
    if (md.keyTypeId) map.btfKeyTypeId = md.keyTypeId;
    if (md.valueTypeId) {
      map.btfValueTypeId = md.valueTypeId;
      const fields = this.btf!.valueFields(md.valueTypeId);
      if (fields.spinLock !== undefined || fields.timer !== undefined) map.fields = fields;
    }
    if (map.type === MapType.RINGBUF || map.type === MapType.USER_RINGBUF) map.maxEntries = adjustRingbufSize(map.maxEntries, this.options.pageSize ?? 4096);
    if (map.type === MapType.PERF_EVENT_ARRAY && map.maxEntries === 0 && this.options.possibleCpus) map.maxEntries = this.options.possibleCpus;
  }

  /** libbpf's parse_btf_map_def. */
  private parseMapDef(mapName: string, def: BtfComposite, inner: boolean): MapDef {
    const btf = this.btf!;
    const md: MapDef = { type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, mapExtra: 0n, numaNode: 0, pinning: 0, keyTypeId: 0, valueTypeId: 0, parts: new Set(), hasValues: false };
    const bad: (reason: string) => never = (reason) => this.fail(`map '${mapName}': ${reason}`, '.maps');
    const fieldInt = (m: { name: string; type: number }): number => {
      const t = btf.skipModsAndTypedefs(m.type);
      if (t.kind !== 'PTR') bad(`attr '${m.name}': expected PTR, got ${t.kind.toLowerCase()}.`);
      const arr = btf.tryType((t as { type: number }).type);
      if (!arr) bad(`attr '${m.name}': type [${(t as { type: number }).type}] not found.`);
      if (arr.kind !== 'ARRAY') bad(`attr '${m.name}': expected ARRAY, got ${arr.kind.toLowerCase()}.`);
      return arr.nelems;
    };
    const fieldLong = (m: { name: string; type: number }): bigint => {
      const t = btf.skipModsAndTypedefs(m.type);
      if (t.kind === 'PTR') return BigInt(fieldInt(m));
      if (t.kind !== 'ENUM' && t.kind !== 'ENUM64') bad(`attr '${m.name}': expected ENUM or ENUM64, got ${t.kind.toLowerCase()}.`);
      if (t.values.length !== 1) bad(`attr '${m.name}': invalid __ulong`);
      return t.kind === 'ENUM' ? BigInt.asUintN(64, BigInt(t.values[0]!.value)) : t.values[0]!.value;
    };
    const typeSize = (m: { name: string; type: number }, what: string): { size: number; id: number } => {
      const t = btf.tryType(m.type);
      if (!t) bad(`${what} type [${m.type}] not found.`);
      if (t.kind !== 'PTR') bad(`${what} spec is not PTR: ${t.kind.toLowerCase()}.`);
      const sz = btf.tryResolveSize(t.type);
      if (typeof sz === 'string') bad(`can't determine ${what} size for type [${t.type}]: ${sz}.`);
      return { size: sz, id: t.type };
    };
    def.members.forEach((m, i) => {
      switch (m.name) {
        case 'type': md.type = fieldInt(m); md.parts.add('type'); break;
        case 'max_entries': md.maxEntries = fieldInt(m); md.parts.add('max_entries'); break;
        case 'map_flags': md.flags = fieldInt(m); md.parts.add('map_flags'); break;
        case 'numa_node': md.numaNode = fieldInt(m); md.parts.add('numa_node'); break;
        case 'key_size': {
          const sz = fieldInt(m);
          if (md.keySize && md.keySize !== sz) bad(`conflicting key size ${md.keySize} != ${sz}.`);
          md.keySize = sz;
          md.parts.add('key_size');
          break;
        }
        case 'key': {
          const { size, id } = typeSize(m, 'key');
          if (md.keySize && md.keySize !== size) bad(`conflicting key size ${md.keySize} != ${size}.`);
          md.keySize = size;
          md.keyTypeId = id;
          md.parts.add('key_size').add('key_type');
          break;
        }
        case 'value_size': {
          const sz = fieldInt(m);
          if (md.valueSize && md.valueSize !== sz) bad(`conflicting value size ${md.valueSize} != ${sz}.`);
          md.valueSize = sz;
          md.parts.add('value_size');
          break;
        }
        case 'value': {
          const { size, id } = typeSize(m, 'value');
          if (md.valueSize && md.valueSize !== size) bad(`conflicting value size ${md.valueSize} != ${size}.`);
          md.valueSize = size;
          md.valueTypeId = id;
          md.parts.add('value_size').add('value_type');
          break;
        }
        case 'values': {
          const mapInMap = md.type === MapType.ARRAY_OF_MAPS || md.type === MapType.HASH_OF_MAPS;
          const progArray = md.type === MapType.PROG_ARRAY;
          const desc = mapInMap ? 'map-in-map inner' : 'prog-array value';
          if (inner) bad('multi-level inner maps not supported.');
          if (i !== def.members.length - 1) bad("'values' member should be last.");
          if (!mapInMap && !progArray) bad('should be map-in-map or prog-array.');
          if (md.valueSize && md.valueSize !== 4) bad(`conflicting value size ${md.valueSize} != 4.`);
          md.valueSize = 4;
          md.hasValues = true;
          const t = btf.tryType(m.type);
          if (!t) bad(`${desc} type [${m.type}] not found.`);
          if (t.kind !== 'ARRAY' || t.nelems) bad(`${desc} spec is not a zero-sized array.`);
          const p = btf.skipModsAndTypedefs(t.type);
          if (p.kind !== 'PTR') bad(`${desc} def is of unexpected kind ${p.kind.toLowerCase()}.`);
          const target = btf.skipModsAndTypedefs(p.type);
          if (progArray) {
            if (target.kind !== 'FUNC_PROTO') bad(`prog-array value def is of unexpected kind ${target.kind.toLowerCase()}.`);
            break;
          }
          if (target.kind !== 'STRUCT') bad(`map-in-map inner def is of unexpected kind ${target.kind.toLowerCase()}.`);
          md.inner = this.parseMapDef(`${mapName}.inner`, target, true);
          md.parts.add('inner');
          break;
        }
        case 'pinning': {
          if (inner) bad("inner def can't be pinned.");
          const v = fieldInt(m);
          if (v !== 0 && v !== 1) bad(`invalid pinning value ${v}.`);
          md.pinning = v;
          md.parts.add('pinning');
          break;
        }
        case 'map_extra': md.mapExtra = fieldLong(m); md.parts.add('map_extra'); break;
        default:
          bad(`unknown field '${m.name}'.`);
      }
    });
    if (md.type === 0) bad("map type isn't specified.");
    return md;
  }

  /** `.rel.maps` (prog arrays and maps of maps) and iproute2 conventions. */
  private resolveMapInitialValues(): void {
    const rel = this.elf.relocations.find((r) => r.target === this.mapsIdx && this.mapsIdx >= 0);
    if (rel) {
      const btf = this.btf!;
      const ds = btf.findByName('.maps', 'DATASEC') as BtfDatasec;
      rel.entries.forEach((r, i) => {
        const sym = this.symbol(r.symbol, rel.name, r.offset);
        this.log.push(`.maps relo #${i}: for ${r.symbol} value ${sym.value} rel->r_offset ${r.offset} name ${sym.nameOff ?? 0} ('${sym.name || '<?>'}')`);
        if (r.type !== RelocType.R_BPF_64_ABS64) this.fail(`.maps relo #${i}: unexpected relocation type ${relocName(r.type)}`, rel.name, r.offset);
        const mapIdx = this.maps.findIndex((m) => {
          if (m.kind !== 'btf') return false;
          const vi = ds.vars.find((v) => v.offset === m.sectionOffset);
          return vi !== undefined && vi.offset <= r.offset && r.offset + 8 <= vi.offset + vi.size;
        });
        if (mapIdx < 0) this.fail(`.maps relo #${i}: cannot find map '${sym.name}' at rel->r_offset ${r.offset}`, rel.name, r.offset);
        const map = this.maps[mapIdx]!;
        const vi = ds.vars.find((v) => v.offset === map.sectionOffset)!;
        const def = btf.skipModsAndTypedefs((btf.typeById(vi.type) as BtfVar).type) as BtfComposite;
        const last = def.members[def.members.length - 1];
        if (!last || last.name !== 'values') this.fail(`.maps relo #${i}: map '${map.name}' has no 'values' member`, rel.name, r.offset);
        const moff = Math.floor(last.bitOffset / 8);
        const rel0 = r.offset - vi.offset;
        if (rel0 < moff || (rel0 - moff) % 8 !== 0) this.fail(`.maps relo #${i}: bad slot offset ${rel0} in map '${map.name}'`, rel.name, r.offset);
        const key = (rel0 - moff) / 8;
        let value: MapInitialValue;
        if (map.type === MapType.ARRAY_OF_MAPS || map.type === MapType.HASH_OF_MAPS) {
          if (sym.shndx !== this.mapsIdx) this.fail(`.maps relo #${i}: '${sym.name}' isn't a BTF-defined map`, rel.name, r.offset);
          if (map.type === MapType.HASH_OF_MAPS && map.keySize !== 4) this.fail(`.maps relo #${i}: hash-of-maps '${map.name}' should have key size 4.`, rel.name, r.offset);
          const target = this.maps.findIndex((m) => m.kind === 'btf' && m.name === sym.name);
          if (target < 0) this.fail(`.maps relo #${i}: '${sym.name}' isn't a valid map reference`, rel.name, r.offset);
          value = { key, kind: 'map', map: target, name: sym.name };
        } else if (map.type === MapType.PROG_ARRAY) {
          const prog = this.programs.findIndex((p) => p.name === sym.name);
          if (prog < 0) this.fail(`.maps relo #${i}: '${sym.name}' isn't a valid program reference`, rel.name, r.offset);
          const p = this.programs[prog]!;
          if (p.sectionIndex !== sym.shndx || p.sectionOffset !== sym.value) this.fail(`.maps relo #${i}: '${sym.name}' isn't an entry-point program`, rel.name, r.offset);
          value = { key, kind: 'program', program: prog, name: sym.name };
        } else {
          return this.fail(`.maps relo #${i}: map '${map.name}' is neither a prog array nor a map of maps`, rel.name, r.offset);
        }
        (map.initialValues ??= []).push(value);
        this.log.push(`.maps relo #${i}: map '${map.name}' slot [${key}] points to ${value.kind === 'map' ? 'map' : 'prog'} '${sym.name}'`);
      });
    }
    // iproute2: tail-call sections "N/M" and inner maps by id.
    const legacyById = (id: number): number => this.maps.findIndex((m) => m.legacy !== undefined && m.legacy.id === id);
    this.programs.forEach((p, index) => {
      if (!p.tailCall) return;
      const m = legacyById(p.tailCall.mapId);
      if (m < 0 || this.maps[m]!.type !== MapType.PROG_ARRAY) {
        this.log.push(`prog '${p.name}': no prog array with id ${p.tailCall.mapId} for tail-call section '${p.section}'`);
        return;
      }
      (this.maps[m]!.initialValues ??= []).push({ key: p.tailCall.key, kind: 'program', program: index, name: p.name });
    });
    this.maps.forEach((inner, innerIdx) => {
      const lg = inner.legacy;
      if (!lg || !lg.id || lg.innerId || lg.innerIdx === 0xffffffff) return;
      this.maps.forEach((outer) => {
        if (!outer.legacy || outer.legacy.innerId !== lg.id) return;
        if (outer.type !== MapType.ARRAY_OF_MAPS && outer.type !== MapType.HASH_OF_MAPS) return;
        outer.innerMap ??= { name: `${outer.name}.inner`, type: inner.type, keySize: inner.keySize, valueSize: inner.valueSize, maxEntries: inner.maxEntries, flags: inner.flags ?? 0 };
        (outer.initialValues ??= []).push({ key: lg.innerIdx, kind: 'map', map: innerIdx, name: inner.name });
      });
    });
    for (const m of this.maps) m.initialValues?.sort((a, b) => a.key - b.key);
  }

  // ---------------------------------------------------------------- programs

  private collectFuncs(): void {
    for (const [idx, kind] of this.kinds) {
      if (kind !== 'prog') continue;
      const sec = this.section(idx);
      const syms = this.elf.symbols.filter((s) => s.shndx === idx && s.type === SymbolType.FUNC);
      if (syms.length === 0) {
        // An old-style object: the whole section is one program named after it.
        this.addFunc(sec, sec.name, 0, sec.size, true);
        continue;
      }
      for (const sym of syms) {
        if (sym.value + sym.size > sec.size) this.fail(`program '${sym.name}' at offset ${sym.value} crosses section boundary (${sym.size} bytes, section ${sec.size})`, sec.name, sec.offset + Math.min(sym.value, sec.size));
        if (sym.value % 8 || sym.size % 8) this.fail(`program '${sym.name}' at offset ${sym.value} (${sym.size} bytes) is not made of whole instructions`, sec.name, sec.offset + sym.value);
        if (sym.size === 0) this.fail(`program '${sym.name}' has size 0`, sec.name, sec.offset + sym.value);
        this.addFunc(sec, sym.name, sym.value, sym.size, sym.bind !== SymbolBind.LOCAL);
      }
    }
    this.funcs.sort((a, b) => a.secIdx - b.secIdx || a.insnOff - b.insnOff);
    for (let i = 1; i < this.funcs.length; i++) {
      const a = this.funcs[i - 1]!;
      const b = this.funcs[i]!;
      if (a.secIdx === b.secIdx && a.insnOff + a.cnt > b.insnOff) {
        this.fail(`functions '${a.name}' and '${b.name}' overlap`, b.secName, this.section(b.secIdx).offset + b.insnOff * 8);
      }
    }
    let n = 0;
    for (const f of this.funcs) {
      if (!f.subprog) f.progIndex = n++;
      this.log.push(`sec '${f.secName}': found program '${f.name}' at insn offset ${f.insnOff} (${f.insnOff * 8} bytes), code size ${f.cnt} insns (${f.cnt * 8} bytes)`);
    }
  }

  private addFunc(sec: ElfSection, name: string, off: number, size: number, global: boolean): void {
    this.funcs.push({
      name, secIdx: sec.index, secName: sec.name, insnOff: off / 8, cnt: size / 8, global,
      subprog: sec.index === this.textIdx, insns: sec.data.slice(off, off + size), relos: [], progIndex: -1,
    });
  }

  private funcAt(secIdx: number, insn: number): Func | undefined {
    for (const f of this.funcs) {
      if (f.secIdx === secIdx && insn >= f.insnOff && insn < f.insnOff + f.cnt) return f;
    }
    return undefined;
  }

  private symbol(idx: number, section: string, offset: number): ElfSymbol {
    const s = this.elf.symbols[idx];
    if (!s) this.fail(`relocation refers to symbol ${idx}, which does not exist`, section, offset);
    return s;
  }

  private collectRelos(): void {
    for (const rel of this.elf.relocations) {
      const target = this.section(rel.target);
      if (this.kinds.get(rel.target) !== 'prog') {
        if (rel.target !== this.mapsIdx && !isDwarf(target.name) && target.name !== '.BTF' && target.name !== '.BTF.ext') {
          this.log.push(`elf: skipping relo section(${rel.index}) ${rel.name} for section(${rel.target}) ${target.name}`);
        }
        continue;
      }
      this.log.push(`sec '${rel.name}': collecting relocation for section(${rel.target}) '${target.name}'`);
      rel.entries.forEach((r, i) => this.recordReloc(rel.name, target, r, i));
    }
  }

  private recordReloc(relName: string, sec: ElfSection, r: ElfRelocation, i: number): void {
    const at = sec.offset + r.offset;
    if (r.offset % 8 !== 0 || r.offset >= sec.size) {
      this.fail(`relocation #${i} at offset ${r.offset} is outside the section (${sec.size} bytes) or not on an instruction boundary`, sec.name, sec.offset + Math.min(r.offset, sec.size));
    }
    if (r.type === RelocType.NONE) return;
    const sym = this.symbol(r.symbol, relName, r.offset);
    if (sym.shndx !== SHN_UNDEF && sym.shndx < SHN_LORESERVE && sym.shndx >= this.elf.sections.length) {
      this.fail(`corrupted symbol #${r.symbol} pointing to invalid section #${sym.shndx} for relo #${i}`, relName);
    }
    const insnIdx = r.offset / 8;
    const symName = sym.type === SymbolType.SECTION && sym.name === '' ? (this.elf.sections[sym.shndx]?.name ?? '<?>') : sym.name || '<?>';
    this.log.push(`sec '${relName}': relo #${i}: insn #${insnIdx} against '${symName}'`);
    const f = this.funcAt(sec.index, insnIdx);
    if (!f) {
      this.log.push(`sec '${relName}': relo #${i}: couldn't find program in section '${sec.name}' for insn #${insnIdx}, probably overridden weak function, skipping...`);
      return;
    }
    const local = insnIdx - f.insnOff;
    const view = new DataView(f.insns.buffer, f.insns.byteOffset, f.insns.byteLength);
    const code = view.getUint8(local * 8);
    const isCall = code === 0x85;
    const isLddw = code === 0x18;
    if (!isCall && !isLddw) {
      this.fail(`prog '${f.name}': invalid relo against '${symName}' for insns[${local}].code 0x${code.toString(16)}: a relocation must point at a lddw or call instruction`, sec.name, at, insnIdx);
    }
    if (isLddw && local + 1 >= f.cnt) this.fail(`prog '${f.name}': lddw at insn ${local} has no second slot`, sec.name, at, insnIdx);
    const okType = isCall ? r.type === RelocType.R_BPF_64_32 : r.type === RelocType.R_BPF_64_64 || r.type === RelocType.R_BPF_64_ABS64;
    if (!okType) this.fail(`prog '${f.name}': relocation type ${relocName(r.type)} cannot apply to a ${isCall ? 'call' : 'lddw'} instruction`, sec.name, at, insnIdx);
    const imm = view.getInt32(local * 8 + 4, true);
    const src = view.getUint8(local * 8 + 1) >> 4;
    // Extern.
    if (sym.shndx === SHN_UNDEF && (sym.bind === SymbolBind.GLOBAL || sym.bind === SymbolBind.WEAK) && sym.type === SymbolType.NOTYPE && sym.name !== '') {
      const ext = this.externs.findIndex((e) => e.symIdx === r.symbol);
      if (ext < 0) this.fail(`prog '${f.name}': extern relo failed to find extern for '${symName}' (${r.symbol})`, sec.name, at, insnIdx);
      f.relos.push({ insn: local, type: isCall ? 'extern_call' : 'extern_ld64', ext });
      this.log.push(`prog '${f.name}': found extern #${ext} '${this.externs[ext]!.name}' (sym ${r.symbol}) for insn #${local}`);
      return;
    }
    if (isCall) {
      if (src !== 1) this.fail(`prog '${f.name}': incorrect bpf_call opcode (a relocated call must be a bpf-to-bpf call, src 1)`, sec.name, at, insnIdx);
      if (!sym.shndx || sym.shndx >= SHN_LORESERVE || this.kinds.get(sym.shndx) !== 'prog') {
        this.fail(`prog '${f.name}': bad call relo against '${symName}' in section '${this.elf.sections[sym.shndx]?.name ?? '?'}'`, sec.name, at, insnIdx);
      }
      if (sym.value % 8) this.fail(`prog '${f.name}': bad call relo against '${symName}' at offset ${sym.value}`, sec.name, at, insnIdx);
      f.relos.push({ insn: local, type: 'call', secIdx: sym.shndx, symOff: sym.value, symName });
      return;
    }
    if (!sym.shndx || sym.shndx >= SHN_LORESERVE) {
      this.fail(`prog '${f.name}': invalid relo against '${symName}' in special section 0x${sym.shndx.toString(16)}; forgot to initialize global var?..`, sec.name, at, insnIdx);
    }
    const kind = this.kinds.get(sym.shndx);
    const symSec = this.section(sym.shndx);
    if (kind === 'prog') {
      if (sym.value % 8 || imm % 8) this.fail(`prog '${f.name}': bad subprog addr relo against '${symName}' at offset ${sym.value}+${imm}`, sec.name, at, insnIdx);
      f.relos.push({ insn: local, type: 'subprog_addr', secIdx: sym.shndx, symOff: sym.value, symName });
      // libbpf marks these as BPF_PSEUDO_FUNC before linking.
      view.setUint8(local * 8 + 1, (view.getUint8(local * 8 + 1) & 0x0f) | (PseudoSrc.FUNC << 4));
      return;
    }
    if (kind === 'maps' || kind === 'legacy_maps') {
      const off = sym.value + (sym.type === SymbolType.SECTION ? imm : 0);
      const map = this.maps.findIndex((m) => (m.kind === 'btf' || m.kind === 'legacy') && m.sectionIndex === sym.shndx && m.sectionOffset === off);
      if (map < 0) this.fail(`prog '${f.name}': map relo failed to find map for section '${symSec.name}', off ${off}`, sec.name, at, insnIdx);
      f.relos.push({ insn: local, type: 'ld64', map });
      this.log.push(`prog '${f.name}': found map ${map} (${this.maps[map]!.name}, sec ${sym.shndx}, off ${off}) for insn #${local}`);
      return;
    }
    if (kind === 'data' || kind === 'rodata' || kind === 'bss') {
      const map = this.maps.findIndex((m) => (m.kind === 'data' || m.kind === 'rodata' || m.kind === 'bss') && m.sectionIndex === sym.shndx);
      if (map < 0) this.fail(`prog '${f.name}': data relo failed to find map for section '${symSec.name}'`, sec.name, at, insnIdx);
      f.relos.push({ insn: local, type: 'data', map, symOff: sym.value });
      this.log.push(`prog '${f.name}': found data map ${map} (${this.maps[map]!.name}, sec ${sym.shndx}, off 0) for insn ${local}`);
      return;
    }
    this.fail(`prog '${f.name}': bad data relo against '${symName}' in section '${symSec.name}'`, sec.name, at, insnIdx);
  }

  // ---------------------------------------------------------------- CO-RE

  private applyCore(): void {
    const ext = this.btfExt;
    if (!ext || !ext.coreRelos.length || !this.btf) return;
    const target = this.options.coreTarget ?? contextBtf();
    const targetName = this.options.coreTargetName ?? (this.options.coreTarget ? (target.name || 'vmlinux') : 'tsbpf');
    const ctx = coreContext(this.btf, target, targetName, this.log);
    for (const sec of ext.coreRelos) {
      if (sec.section === '') this.fail('CO-RE relocations for a section with an empty name', '.BTF.ext');
      const elfSec = this.elf.sections.find((s) => s.name === sec.section);
      this.log.push(`sec '${sec.section}': found ${sec.records.length} CO-RE relocations`);
      sec.records.forEach((rec, i) => {
        if (rec.insnOff % 8) this.fail(`CO-RE relocation #${i} of section '${sec.section}' at byte offset ${rec.insnOff} is not on an instruction boundary`, '.BTF.ext');
        const insnIdx = rec.insnOff / 8;
        const f = elfSec ? this.funcAt(elfSec.index, insnIdx) : undefined;
        if (!f) {
          this.log.push(`sec '${sec.section}': skipping CO-RE relocation #${i} for insn #${insnIdx} belonging to eliminated weak subprogram`);
          return;
        }
        const local = insnIdx - f.insnOff;
        const site = { ...(this.file !== undefined ? { file: this.file } : {}), section: sec.section };
        const res = resolveCoreRelo(ctx, f.name, rec, i, site);
        patchCoreInsn(ctx, f.name, f.insns, local, i, res, site);
        if (res.poison) (f.coreFailures ??= []).push({ insn: local, spec: res.localSpecText ?? '' });
      });
    }
  }

  // ---------------------------------------------------------------- linking

  private finishProgram(main: Func): ProgramSpec {
    const secName = main.secName.startsWith('?') ? main.secName.slice(1) : main.secName;
    const autoload = !main.secName.startsWith('?');
    const pt: SectionProgramType = programTypeOfSection(secName);
    // Append subprograms (libbpf bpf_object__reloc_code), depth first.
    const chunks: Uint8Array[] = [main.insns.slice()];
    let total = main.cnt;
    const placed = new Map<Func, number>([[main, 0]]);
    const order: Func[] = [main];
    const relos: { insn: number; desc: RelocDesc }[] = [];
    const relocCode = (prog: Func, depth: number): void => {
      if (depth > 1000) this.fail(`prog '${main.name}': subprogram calls nest too deep`, prog.secName);
      const base = placed.get(prog)!;
      for (const d of prog.relos) relos.push({ insn: base + d.insn, desc: d });
      const view = new DataView(prog.insns.buffer, prog.insns.byteOffset, prog.insns.byteLength);
      for (let i = 0; i < prog.cnt; i++) {
        const code = view.getUint8(i * 8);
        const regs = view.getUint8(i * 8 + 1);
        const isSubCall = code === 0x85 && (regs >> 4) === 1 && (regs & 0xf) === 0 && view.getInt16(i * 8 + 2, true) === 0;
        const isFunc = code === 0x18 && (regs >> 4) === PseudoSrc.FUNC;
        if (!isSubCall && !isFunc) continue;
        const relo = prog.relos.find((r) => r.insn === i);
        if (relo && relo.type === 'extern_call') continue;
        if (relo && relo.type !== 'call' && relo.type !== 'subprog_addr') {
          this.fail(`prog '${prog.name}': unexpected relo for insn #${i}, type ${relo.type}`, prog.secName, undefined, i);
        }
        const imm = view.getInt32(i * 8 + 4, true);
        let secIdx: number;
        let subInsn: number;
        if (relo) {
          const r = relo as { secIdx: number; symOff: number };
          secIdx = r.secIdx;
          subInsn = relo.type === 'call' ? r.symOff / 8 + imm + 1 : (r.symOff + imm) / 8;
        } else if (isFunc) {
          return this.fail(`prog '${prog.name}': missing subprog addr relo for insn #${i}`, prog.secName, undefined, i);
        } else {
          secIdx = prog.secIdx;
          subInsn = prog.insnOff + i + imm + 1;
        }
        const callee = this.funcAt(secIdx, subInsn);
        if (!callee) {
          this.fail(`prog '${prog.name}': call at insn #${i} targets insn ${subInsn} of section '${this.elf.sections[secIdx]?.name ?? '?'}', where no function starts`, prog.secName, undefined, i);
        }
        if (callee.insnOff !== subInsn) {
          this.fail(`prog '${prog.name}': call at insn #${i} jumps into the middle of function '${callee.name}'`, prog.secName, undefined, i);
        }
        if (!placed.has(callee)) {
          placed.set(callee, total);
          order.push(callee);
          chunks.push(callee.insns.slice());
          total += callee.cnt;
          relocCode(callee, depth + 1);
        }
        const newImm = placed.get(callee)! - (base + i) - 1;
        patches.push({ slot: base + i, imm: newImm, callee, isFunc });
        this.log.push(`prog '${prog.name}': insn #${i} relocated, imm ${newImm} points to subprog '${callee.name}' (now at ${placed.get(callee)} offset)`);
      }
    };
    const patches: { slot: number; imm: number; callee: Func; isFunc: boolean }[] = [];
    relocCode(main, 0);
    const insns = new Uint8Array(total * 8);
    let at = 0;
    for (const c of chunks) {
      insns.set(c, at);
      at += c.length;
    }
    const view = new DataView(insns.buffer);
    const records: ProgramRelocation[] = [];
    for (const p of patches) {
      view.setInt32(p.slot * 8 + 4, p.imm, true);
      records.push(p.isFunc ? { slot: p.slot, kind: 'func', target: placed.get(p.callee)!, function: p.callee.name } : { slot: p.slot, kind: 'call', target: placed.get(p.callee)!, function: p.callee.name });
    }
    // Data relocations (libbpf bpf_object__relocate_data), with map indexes instead of fds.
    for (const { insn, desc } of relos) {
      const o = insn * 8;
      switch (desc.type) {
        case 'ld64':
          view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | (PseudoSrc.MAP_IDX << 4));
          view.setInt32(o + 4, desc.map, true);
          records.push({ slot: insn, kind: 'map', map: desc.map });
          break;
        case 'data': {
          const offset = (view.getInt32(o + 4, true) + desc.symOff) | 0;
          view.setInt32(o + 12, offset, true);
          view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | (PseudoSrc.MAP_IDX_VALUE << 4));
          view.setInt32(o + 4, desc.map, true);
          records.push({ slot: insn, kind: 'map_value', map: desc.map, offset });
          break;
        }
        case 'extern_ld64': {
          const ext = this.externs[desc.ext]!;
          if (ext.kcfg) {
            view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | (PseudoSrc.MAP_IDX_VALUE << 4));
            view.setInt32(o + 4, this.kconfigMap, true);
            view.setInt32(o + 12, ext.kcfg.dataOff, true);
            records.push({ slot: insn, kind: 'kconfig', name: ext.name, map: this.kconfigMap, offset: ext.kcfg.dataOff });
          } else if (ext.kernelBtfId !== undefined) {
            view.setUint8(o + 1, (view.getUint8(o + 1) & 0x0f) | (PseudoSrc.BTF_ID << 4));
            view.setInt32(o + 4, ext.kernelBtfId, true);
            view.setInt32(o + 12, 0, true);
            records.push({ slot: insn, kind: 'ksym', name: ext.name, weak: ext.weak });
          } else {
            view.setInt32(o + 4, 0, true);
            view.setInt32(o + 12, 0, true);
            records.push({ slot: insn, kind: 'ksym', name: ext.name, weak: ext.weak });
          }
          break;
        }
        case 'extern_call': {
          const ext = this.externs[desc.ext]!;
          view.setUint8(o, 0x85);
          view.setInt16(o + 2, 0, true);
          if (ext.kernelBtfId !== undefined) {
            view.setUint8(o + 1, CallSrc.KFUNC << 4);
            view.setInt32(o + 4, ext.kernelBtfId, true);
          } else {
            view.setUint8(o + 1, 0);
            view.setInt32(o + 4, 2002000000 + desc.ext, true);
          }
          records.push({ slot: insn, kind: 'kfunc', name: ext.name, weak: ext.weak });
          break;
        }
        case 'call': case 'subprog_addr':
          break;
      }
    }
    for (const f of order) {
      for (const c of f.coreFailures ?? []) records.push({ slot: placed.get(f)! + c.insn, kind: 'core_failed', spec: c.spec });
    }
    records.sort((a, b) => a.slot - b.slot);
    const functions: ProgramFunction[] = order.map((f) => ({ name: f.name, slot: placed.get(f)!, slots: f.cnt, section: f.secName }));
    const { funcInfo, lineInfo } = this.extInfo(order, placed);
    const spec: ProgramSpec = {
      name: main.name, section: secName, sectionIndex: main.secIdx, sectionOffset: main.insnOff * 8,
      type: pt.type, typeName: pt.typeName, flags: pt.flags, sectionRule: pt.rule, sectionRuleKind: pt.ruleKind,
      autoload, global: main.global, insns, relocations: records, functions, funcInfo, lineInfo,
    };
    if (pt.expectedAttachType !== undefined) {
      spec.expectedAttachType = pt.expectedAttachType;
      spec.expectedAttachTypeName = pt.expectedAttachTypeName!;
    }
    if (pt.attachTo !== undefined) spec.attachTo = pt.attachTo;
    if (pt.tailCall) spec.tailCall = pt.tailCall;
    if (pt.ruleKind === 'unknown') this.log.push(`prog '${main.name}': section '${secName}' names no known program type; type unspec`);
    return spec;
  }

  private extInfo(order: Func[], placed: Map<Func, number>): { funcInfo: ProgramFuncInfo[]; lineInfo: ProgramLineInfo[] } {
    const funcInfo: ProgramFuncInfo[] = [];
    const lineInfo: ProgramLineInfo[] = [];
    const ext = this.btfExt;
    if (!ext) return { funcInfo, lineInfo };
    for (const f of order) {
      const base = placed.get(f)!;
      const inRange = (off: number): number | undefined => {
        if (off % 8) return undefined;
        const idx = off / 8;
        return idx >= f.insnOff && idx < f.insnOff + f.cnt ? base + idx - f.insnOff : undefined;
      };
      for (const s of ext.funcInfo) {
        if (s.section !== f.secName) continue;
        for (const r of s.records) {
          const slot = inRange(r.insnOff);
          if (slot === undefined) continue;
          funcInfo.push({ slot, typeId: r.typeId, name: this.btf?.tryType(r.typeId)?.name ?? '' });
        }
      }
      for (const s of ext.lineInfo) {
        if (s.section !== f.secName) continue;
        for (const r of s.records) {
          const slot = inRange(r.insnOff);
          if (slot === undefined) continue;
          lineInfo.push({ slot, file: r.fileName, line: r.lineNum, column: r.column, source: r.line });
        }
      }
    }
    funcInfo.sort((a, b) => a.slot - b.slot);
    lineInfo.sort((a, b) => a.slot - b.slot);
    return { funcInfo, lineInfo };
  }
}

function isDwarf(name: string): boolean {
  return name.startsWith('.debug_');
}

function relocName(type: number): string {
  return RELOC_TYPE_NAMES[type] ?? `type ${type}`;
}

/** libbpf's adjust_ringbuf_sz: the smallest page-size power-of-two multiple at least `sz`. */
export function adjustRingbufSize(sz: number, pageSize = 4096): number {
  if (sz === 0) return 0;
  if (sz % pageSize === 0 && isPow2(sz / pageSize)) return sz;
  for (let mul = 1; mul <= Math.floor(0xffffffff / pageSize); mul *= 2) {
    if (mul * pageSize > sz) return mul * pageSize;
  }
  return sz;
}

function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** libbpf's find_kcfg_type. */
function kcfgType(btf: Btf, id: number): { type: KcfgType; signed: boolean } {
  const t: BtfType = btf.skipModsAndTypedefs(id);
  switch (t.kind) {
    case 'INT': {
      if (t.encoding & 4) return { type: t.size === 1 ? 'bool' : 'unknown', signed: false };
      const signed = (t.encoding & 1) !== 0;
      if (t.size === 1) return { type: 'char', signed };
      if (t.size < 1 || t.size > 8 || (t.size & (t.size - 1))) return { type: 'unknown', signed };
      return { type: 'int', signed };
    }
    case 'ENUM':
      return { type: t.size === 4 && t.name === 'libbpf_tristate' ? 'tristate' : 'unknown', signed: false };
    case 'ENUM64':
      return { type: t.name === 'libbpf_tristate' ? 'tristate' : 'unknown', signed: false };
    case 'ARRAY':
      if (t.nelems === 0) return { type: 'unknown', signed: false };
      return { type: kcfgType(btf, t.type).type === 'char' ? 'char_array' : 'unknown', signed: false };
    default:
      return { type: 'unknown', signed: false };
  }
}

