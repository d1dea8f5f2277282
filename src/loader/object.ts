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
 */
import type { ErrorLocation } from '../errors.js';
import { CallSrc, PseudoSrc } from '../isa/opcode.js';
import type { MapSpec } from '../vm/maps/types.js';
import type { Btf, BtfComposite, BtfDatasec, BtfType, BtfVar } from './btf.js';
import { BtfFuncLinkage, BtfVarLinkage, parseBtf } from './btf.js';
import type { BtfExt } from './btf-ext.js';
import { parseBtfExt } from './btf-ext.js';
import { coreContext, coreTypesAreCompat, essentialName, patchCoreInsn, resolveCoreRelo } from './core.js';
import { contextBtf } from './ctx-btf.js';
import type { ElfFile, ElfRelocation, ElfSection, ElfSymbol } from './elf.js';
import { RELOC_TYPE_NAMES, RelocType, SHN_LORESERVE, SHN_UNDEF, SectionFlags, SectionType, SymbolBind, SymbolType, SymbolVisibility, readElf } from './elf.js';
import { LoaderError } from './loader-error.js';
import type { KcfgDesc, KcfgType, KconfigValue } from './kconfig.js';
import { DEFAULT_KCONFIG, setKconfigValue } from './kconfig.js';
import { programTypeOfSection, samplesTailCallKey } from './sections.js';
import type { SectionProgramType } from './sections.js';
import type {
  ExternSpec, LegacyMapInfo, LoadFailure, MapInitialValue, ObjectMapSpec, ObjectSpec, ProgramFuncInfo, ProgramFunction,
  ProgramLineInfo, ProgramRelocation, ProgramSpec,
} from './spec.js';
import { decodeUtf8 } from './reader.js';
import { LibbpfPoison, MapFlags, MapType, ProgType } from '../isa/uapi.js';

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

/** A LoaderError thrown while building one program or map: it becomes that program's or map's load failure. */
function failureOf(err: LoaderError, errno = 'EINVAL'): LoadFailure {
  const f: LoadFailure = { message: err.reason, errno };
  if (err.location.section !== undefined) f.section = err.location.section;
  if (err.location.offset !== undefined) f.offset = err.location.offset;
  if (err.location.insn !== undefined) f.insn = err.location.insn;
  return f;
}

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
  /** Why programs containing this function cannot load (relocations, CO-RE, externs). */
  errors: LoadFailure[];
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
  /** Why programs using this extern cannot load (libbpf's message). */
  error?: LoadFailure;
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
  /** Legacy map sections: `maps` and, as cilium/ebpf reads them, any name starting with `maps` (`maps/flows`). */
  private readonly legacyMapSections: number[] = [];
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
    this.tailCallTypes();
    this.resolveMapInitialValues();
    for (const p of this.programs) {
      if (p.loadError) this.log.push(`prog '${p.name}': cannot be loaded: ${p.loadError.message}`);
    }
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
      } else if (name.startsWith('maps') && !(s.flags & SectionFlags.EXECINSTR)) {
        this.legacyMapSections.push(s.index);
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
      const ext: Extern = { name: sym.name, symIdx: sym.index, weak: sym.bind === SymbolBind.WEAK, btfId: -1, type: 'ksym', ksymTypeId: 0, func: false, resolved: false };
      raw.push(ext);
      // What libbpf refuses about one extern fails the programs that use it.
      const bad = (message: string): void => {
        ext.error = { message, errno: 'EINVAL', section: '.symtab' };
        this.log.push(message);
      };
      if (!btf) {
        bad(`extern '${sym.name}' needs BTF (build with -g)`);
        continue;
      }
      let btfId = -1;
      let badLinkage = '';
      for (const t of btf.types()) {
        if ((t.kind !== 'VAR' && t.kind !== 'FUNC') || t.name !== sym.name) continue;
        if (t.kind === 'VAR' && t.linkage !== BtfVarLinkage.GLOBAL_EXTERN) badLinkage = `extern '${sym.name}': its BTF VAR is not extern`;
        if (t.kind === 'FUNC' && t.linkage !== 2) badLinkage = `extern '${sym.name}': its BTF FUNC is not extern`;
        btfId = t.id;
        break;
      }
      if (badLinkage) {
        bad(badLinkage);
        continue;
      }
      if (btfId < 0) {
        bad(`failed to find BTF for extern '${sym.name}'`);
        continue;
      }
      ext.btfId = btfId;
      const t = btf.typeById(btfId);
      ext.func = t.kind === 'FUNC';
      let sec: BtfDatasec | undefined;
      for (const d of btf.types()) {
        if (d.kind === 'DATASEC' && d.vars.some((v) => v.type === btfId)) {
          sec = d;
          break;
        }
      }
      if (!sec) {
        bad(t.kind === 'FUNC'
          ? `extern function '${sym.name}' is not defined in this object: link it with the object that defines it (tsbpf link, bpftool gen object)`
          : `extern '${sym.name}' is not in a .kconfig or .ksyms section (an unresolved extern variable: link it with the object that defines it)`);
        continue;
      }
      if (sec.name === '.kconfig') {
        ext.type = 'kcfg';
        if (t.kind === 'FUNC') {
          bad(`extern function ${t.name} is unsupported under .kconfig section`);
          continue;
        }
        const vt = (t as BtfVar).type;
        const size = btf.tryResolveSize(vt);
        if (typeof size === 'string' || size <= 0) {
          bad(`failed to resolve size of extern (kcfg) '${t.name}'`);
          continue;
        }
        const align = btf.alignOf(vt);
        const { type, signed } = kcfgType(btf, vt);
        if (type === 'unknown') {
          bad(`extern (kcfg) '${t.name}': type is unsupported`);
          continue;
        }
        ext.kcfg = { name: t.name, type, size, signed, align, dataOff: 0 };
      } else if (sec.name === '.ksyms') {
        ext.ksymTypeId = t.kind === 'FUNC' ? t.type : btf.skipModsAndTypedefs((t as BtfVar).type).id;
      } else {
        bad(`unrecognized extern section '${sec.name}'`);
      }
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
      } else if (!e.error) {
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
          if (!e) this.fail(`failed to find extern definition for BTF var '${vt.name}'`, '.BTF');
          if (!e.kcfg) continue; // refused above: its programs fail
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
        // libbpf (bpf_object__resolve_externs): CONFIG_ externs come from the
        // kernel's config, LINUX_ ones are virtual, anything else is refused.
        if (!e.name.startsWith('CONFIG_') && (!e.name.startsWith('LINUX_') || !e.weak)) {
          e.error = { message: `extern (kcfg) '${e.name}': unrecognized virtual extern`, errno: 'EINVAL', section: '.kconfig' };
          this.log.push(`${e.error.message} (tsbpf's kconfig option can give it a value)`);
        } else if (!e.weak) {
          e.error = { message: `extern '${e.name}' (strong): not resolved`, errno: 'ESRCH', section: '.kconfig' };
          this.log.push(`${e.error.message}: tsbpf knows no value for it (see docs/loader.md; pass it in the kconfig option)`);
        } else {
          this.log.push(`extern '${e.name}' (weak): not resolved, defaulting to zero`);
        }
        continue;
      }
      const bytes = data.subarray(e.kcfg.dataOff, e.kcfg.dataOff + e.kcfg.size);
      try {
        setKconfigValue(e.kcfg, bytes, v);
      } catch (err) {
        if (!(err instanceof LoaderError)) throw err;
        e.error = { message: err.reason, errno: 'EINVAL', section: '.kconfig' };
        this.log.push(err.reason);
        continue;
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
    if (e.error) out.error = e.error;
    return out;
  }

  // ---------------------------------------------------------------- maps

  private collectMaps(): void {
    for (const idx of this.legacyMapSections) this.collectLegacyMaps(idx);
    this.iproute2InnerTemplates();
    if (this.mapsIdx >= 0) this.collectBtfMaps();
    // Global data, by section index.
    for (const s of this.elf.sections) {
      const kind = this.kinds.get(s.index);
      if ((kind !== 'data' && kind !== 'rodata' && kind !== 'bss') || s.size === 0) continue;
      if (s.size > MAX_VALUE_SIZE) {
        const i = this.addInternalMap(kind, s.name, s.index, new Uint8Array(0));
        const m = this.maps[i]!;
        m.valueSize = s.size;
        delete m.initialData;
        m.loadError = { message: `map '${m.name}': failed to create: -E2BIG (a ${s.size}-byte global data section: tsbpf holds at most ${MAX_VALUE_SIZE} bytes)`, errno: 'E2BIG', section: s.name, offset: s.offset };
        continue;
      }
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
      if (e.type !== 'ksym' || e.error) continue;
      if (this.resolveKsym(e)) continue;
      if (!e.weak) {
        // libbpf's messages (bpf_object__resolve_externs): kernel symbols and kfuncs do not exist in user space.
        const message = e.func
          ? `extern (func ksym) '${e.name}': not found in kernel or module BTFs`
          : e.ksymTypeId !== 0 ? `extern (var ksym) '${e.name}': not found in kernel BTF` : `extern '${e.name}' (strong): not resolved`;
        // libbpf returns -EINVAL when BTF resolution fails, -ESRCH for what stays unresolved (typeless, from kallsyms).
        e.error = { message, errno: e.ksymTypeId !== 0 || e.func ? 'EINVAL' : 'ESRCH', section: '.ksyms' };
        this.log.push(`${message}: kernel ${e.func ? 'functions (kfuncs)' : 'symbols'} do not exist in user space (declare it __weak and test bpf_ksym_exists()); the programs that use it cannot load`);
        continue;
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
      return this.ksymFailure(e, `extern (${what}) '${e.name}': not found in kernel or module BTFs`);
    }
    const kt = kern.typeById(id) as { type: number };
    if (e.func) {
      if (!coreTypesAreCompat(local, e.ksymTypeId, kern, kt.type)) {
        if (e.weak) return false;
        return this.ksymFailure(e, `extern (func ksym) '${e.name}': func_proto [${e.ksymTypeId}] incompatible with ${kern.name || 'vmlinux'} [${kt.type}]`);
      }
    } else {
      const targ = kern.skipModsAndTypedefs(kt.type);
      if (!coreTypesAreCompat(local, e.ksymTypeId, kern, targ.id)) {
        const lt = local.typeById(e.ksymTypeId);
        return this.ksymFailure(e, `extern (var ksym) '${e.name}': incompatible types, expected [${e.ksymTypeId}] ${lt.kind} ${lt.name}, but kernel has [${targ.id}] ${targ.kind} ${targ.name}`);
      }
    }
    e.kernelBtfId = id;
    e.resolved = true;
    this.log.push(`extern (${what}) '${e.name}': resolved to ${kern.name || 'vmlinux'} [${id}]`);
    return true;
  }

  /** A kernel symbol libbpf would refuse: the programs that use it cannot load (the others can). */
  private ksymFailure(e: Extern, message: string): true {
    e.error = { message, errno: 'EINVAL', section: '.ksyms' };
    this.log.push(`${message}: the programs that use it cannot load`);
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

  /**
   * Whether the object follows iproute2's conventions (tc's sections,
   * tail-call sections, Cilium's entry points), which decides how legacy map
   * definitions of 24 to 32 bytes read without BTF (samples/bpf's have the
   * same sizes).
   */
  private iproute2Style(): boolean {
    return this.elf.sections.some((s) => {
      if ((s.flags & SectionFlags.EXECINSTR) === 0) return false;
      const kind = programTypeOfSection(s.name.replace(/^\?/, '')).ruleKind;
      return s.name === 'classifier' || s.name === 'action' || kind === 'iproute2' || kind === 'iproute2-tail-call' || kind === 'cilium';
    });
  }

  /**
   * Legacy map definitions (a `maps` section, or `maps/...`): each symbol of
   * the section is a map. With BTF the fields are read by name (every
   * loader's struct: libbpf's `struct bpf_map_def`, samples/bpf's
   * `struct bpf_load_map_def`, iproute2's `struct bpf_elf_map`); without,
   * by the definition's size. Never refused: what cannot be read becomes
   * the map's load error, unknown non-zero fields are logged.
   */
  private collectLegacyMaps(secIdx: number): void {
    const sec = this.section(secIdx);
    const seen = new Set<number>();
    const syms = this.elf.symbols.filter((s) => s.shndx === sec.index && s.name !== '' && (s.type === SymbolType.OBJECT || s.type === SymbolType.NOTYPE))
      .sort((a, b) => a.value - b.value)
      .filter((s) => (seen.has(s.value) ? false : (seen.add(s.value), true)));
    if (syms.length === 0) {
      this.log.push(`elf: legacy maps section '${sec.name}' has no map symbols`);
      return;
    }
    const btf = this.btf;
    const ds = btf?.findByName(sec.name, 'DATASEC') as BtfDatasec | undefined;
    const view = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
    const first = this.maps.length;
    const iproute2 = this.iproute2Style();
    for (const sym of syms) {
      const off = sym.value;
      const base: ObjectMapSpec = {
        name: sym.name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0,
        kind: 'legacy', realName: sym.name, section: sec.name, sectionIndex: sec.index, sectionOffset: off, frozen: false,
      };
      const refuse = (message: string): void => {
        base.loadError = { message, errno: 'EINVAL', section: sec.name, offset: sec.offset + Math.min(off, sec.size) };
        this.maps.push(base);
        this.log.push(message);
      };
      const vi = ds?.vars.find((v) => v.offset === off && btf!.tryType(v.type)?.name === sym.name);
      const vt = vi ? btf!.tryType(vi.type) : undefined;
      const st = vt && vt.kind === 'VAR' ? btf!.skipModsAndTypedefs(vt.type) : undefined;
      const struct = st && st.kind === 'STRUCT' ? st : undefined;
      let size: number;
      if (vi && vi.size > 0) size = vi.size;
      else if (sym.size > 0) size = sym.size;
      else if (sec.size % syms.length === 0) size = sec.size / syms.length;
      else {
        refuse(`elf: unable to determine legacy map definition size in ${sec.name}: ${sec.size} bytes for ${syms.length} maps (map '${sym.name}')`);
        continue;
      }
      if (off + size > sec.size) {
        refuse(`legacy map '${sym.name}' at offset ${off} (${size} bytes) is outside the '${sec.name}' section (${sec.size} bytes)`);
        continue;
      }
      const fields = new Map<string, number>();
      const unknown: NonNullable<LegacyMapInfo['unknown']> = [];
      const u = (at: number, n: number): number => {
        let v = 0;
        for (let i = n - 1; i >= 0; i--) v = v * 256 + (at + i < size ? view.getUint8(off + at + i) : 0);
        return v;
      };
      let layout: LegacyMapInfo['layout'];
      let covered = 0;
      if (struct) {
        for (const m of struct.members) {
          const msize = btf!.tryResolveSize(m.type);
          const at = m.bitOffset / 8;
          if (typeof msize === 'string' || m.bitfieldSize || !Number.isInteger(at) || msize < 1) continue;
          const known = LEGACY_FIELDS[m.name];
          const n = Math.min(msize, 4);
          if (known !== undefined && msize <= 8) {
            fields.set(known, u(at, n));
          } else {
            for (let i = 0; i < msize; i += 4) {
              const v = u(at + i, Math.min(4, msize - i));
              if (v) unknown.push({ offset: at + i, name: m.name, value: v });
            }
          }
          covered = Math.max(covered, at + msize);
        }
        const names = new Set(struct.members.map((m) => m.name));
        layout = ['size_key', 'size_value', 'max_elem', 'id', 'inner_id', 'inner_idx'].some((n) => names.has(n)) ? 'iproute2'
          : names.has('inner_map_idx') || names.has('numa_node') ? 'samples'
            : [...names].every((n) => LIBBPF_LEGACY_FIELDS.includes(n)) ? 'libbpf' : 'other';
      } else {
        // 36 bytes is iproute2's struct bpf_elf_map; 24 to 32 (and more) is iproute2's or samples/bpf's, told by the object's sections.
        layout = size <= 20 ? 'libbpf' : size === 36 || iproute2 ? 'iproute2' : 'samples';
        const order = LEGACY_LAYOUTS[layout];
        order.forEach((f, i) => fields.set(f, u(i * 4, 4)));
        covered = order.length * 4;
      }
      for (let at = covered; at < size; at += 4) {
        const v = u(at, Math.min(4, size - at));
        if (v) unknown.push({ offset: at, value: v });
      }
      const get = (f: string): number => fields.get(f) ?? 0;
      const map: ObjectMapSpec = {
        ...base, type: get('type'), keySize: get('keySize'), valueSize: get('valueSize'), maxEntries: get('maxEntries'), flags: get('flags'),
      };
      const legacy: LegacyMapInfo = {
        layout, fieldsFrom: struct ? 'btf' : 'size', size,
        id: get('id'), pinning: get('pinning'), innerId: get('innerId'), innerIdx: fields.has('innerIdx') ? get('innerIdx') : 0,
      };
      if (fields.has('innerMapIdx')) legacy.innerMapIdx = get('innerMapIdx');
      if (fields.has('numaNode')) legacy.numaNode = get('numaNode');
      if (unknown.length) legacy.unknown = unknown;
      map.legacy = legacy;
      this.log.push(`map '${sym.name}' (legacy): at sec_idx ${sec.index}, offset ${off}.`);
      this.log.push(`map '${sym.name}': ${size}-byte ${layout === 'other' ? '' : `${layout} `}definition (fields read ${struct ? `by name from BTF struct ${struct.name || '(anon)'}` : 'by size'}): type ${map.type}, key ${map.keySize}, value ${map.valueSize}, max_entries ${map.maxEntries}, flags 0x${(map.flags ?? 0).toString(16)}`);
      for (const x of unknown) {
        this.log.push(`map '${sym.name}': unknown non-zero field${x.name ? ` '${x.name}'` : ''} at offset ${x.offset} of its ${size}-byte definition (0x${x.value.toString(16)}): ignored`);
      }
      if (legacy.pinning) {
        map.pinning = legacy.pinning;
        this.log.push(`map '${sym.name}': pinning ${legacy.pinning} (${describePinning(legacy.pinning)}): recorded, tsbpf pins nothing`);
      }
      if (legacy.numaNode && (map.flags ?? 0) & MapFlags.NUMA_NODE) map.numaNode = legacy.numaNode;
      this.fixupMapDef(map);
      this.annotateLegacyBtf(map);
      this.maps.push(map);
    }
    // samples/bpf: a map of maps names its inner map template by index in the section.
    const ours = this.maps.slice(first);
    for (const outer of ours) {
      if (outer.loadError || outer.legacy?.innerMapIdx === undefined) continue;
      if (outer.type !== MapType.ARRAY_OF_MAPS && outer.type !== MapType.HASH_OF_MAPS) continue;
      const inner = ours[outer.legacy.innerMapIdx];
      if (!inner || inner === outer || inner.loadError) {
        outer.loadError = { message: `map '${outer.name}': inner_map_idx ${outer.legacy.innerMapIdx} names no map of section '${sec.name}' to use as the inner map template`, errno: 'EINVAL', section: sec.name, offset: sec.offset + outer.sectionOffset };
        this.log.push(outer.loadError.message);
        continue;
      }
      outer.innerMap = innerTemplate(outer.name, inner);
      this.log.push(`map '${outer.name}': inner map template is map '${inner.name}' (inner_map_idx ${outer.legacy.innerMapIdx})`);
    }
  }

  /** iproute2 maps of maps: the inner map template is the map whose `id` is the outer map's `inner_id` (bpf_map_attach). */
  private iproute2InnerTemplates(): void {
    for (const outer of this.maps) {
      const lg = outer.legacy;
      if (!lg || outer.loadError || lg.innerMapIdx !== undefined || (outer.type !== MapType.ARRAY_OF_MAPS && outer.type !== MapType.HASH_OF_MAPS)) continue;
      if (lg.layout !== 'iproute2') continue;
      const at = this.elf.sections[outer.sectionIndex]!.offset + outer.sectionOffset;
      if (!lg.innerId) {
        outer.loadError = { message: `Map '${outer.name}' cannot be created since no inner map ID defined!`, errno: 'EINVAL', section: outer.section, offset: at };
        this.log.push(outer.loadError.message);
        continue;
      }
      const inner = this.maps.find((m) => m !== outer && m.legacy !== undefined && m.legacy.id === lg.innerId && !m.loadError);
      if (!inner) {
        outer.loadError = { message: `Map '${outer.name}' cannot be loaded. Inner map with ID ${lg.innerId} not found!`, errno: 'EINVAL', section: outer.section, offset: at };
        this.log.push(outer.loadError.message);
        continue;
      }
      outer.innerMap = innerTemplate(outer.name, inner);
      this.log.push(`map '${outer.name}': inner map template is map '${inner.name}' (id ${lg.innerId})`);
    }
  }

  /** iproute2 `BPF_ANNOTATE_KV_PAIR` and libbpf 0.x: BTF struct `____btf_map_<name>` with `key` and `value` members types a legacy map. */
  private annotateLegacyBtf(map: ObjectMapSpec): void {
    const btf = this.btf;
    const t = btf?.findByName(`____btf_map_${map.name}`, 'STRUCT');
    if (!btf || !t || t.kind !== 'STRUCT') return;
    const key = t.members.find((m) => m.name === 'key');
    const value = t.members.find((m) => m.name === 'value');
    if (!key || !value) return;
    const ks = btf.tryResolveSize(key.type);
    const vs = btf.tryResolveSize(value.type);
    if (ks !== map.keySize || vs !== map.valueSize) {
      this.log.push(`map '${map.name}': ____btf_map_${map.name} key/value sizes ${String(ks)}/${String(vs)} differ from the definition's ${map.keySize}/${map.valueSize}: not used`);
      return;
    }
    map.btfKeyTypeId = key.type;
    map.btfValueTypeId = value.type;
    this.log.push(`map '${map.name}': key [${key.type}] and value [${value.type}] types from ____btf_map_${map.name}`);
  }

  /**
   * Fix-ups the loaders apply to a definition before creating the map:
   * perf event arrays get key and value size 4 when left at 0 (cilium/ebpf)
   * and max_entries = possible CPUs when 0 (libbpf, when the `possibleCpus`
   * option is given; the runtime does it at creation otherwise); ring buffer
   * sizes are rounded up like libbpf; maps of maps get value size 4.
   */
  private fixupMapDef(map: MapSpec): void {
    if (map.type === MapType.PERF_EVENT_ARRAY) {
      if (map.keySize === 0) {
        map.keySize = 4;
        this.log.push(`map '${map.name}': perf event array key_size 0 set to 4`);
      }
      if (map.valueSize === 0) {
        map.valueSize = 4;
        this.log.push(`map '${map.name}': perf event array value_size 0 set to 4`);
      }
      if (map.maxEntries === 0 && this.options.possibleCpus) {
        map.maxEntries = this.options.possibleCpus;
        this.log.push(`map '${map.name}': setting size to ${map.maxEntries}`);
      }
    }
    if ((map.type === MapType.ARRAY_OF_MAPS || map.type === MapType.HASH_OF_MAPS) && map.valueSize === 0) map.valueSize = 4;
    if (map.type === MapType.RINGBUF || map.type === MapType.USER_RINGBUF) map.maxEntries = adjustRingbufSize(map.maxEntries, this.options.pageSize ?? 4096);
  }

  private collectBtfMaps(): void {
    const btf = this.btf;
    const sec = this.section(this.mapsIdx);
    if (!btf) this.fail('BTF-defined maps (.maps section) need BTF: build with -g', '.maps', sec.offset);
    const ds = btf.findByName('.maps', 'DATASEC') as BtfDatasec | undefined;
    if (!ds) this.fail("DATASEC '.maps' not found", '.BTF');
    ds.vars.forEach((vi, varIdx) => {
      const vt = btf.tryType(vi.type);
      const name = vt?.name || `map#${varIdx}`;
      const at = sec.offset + Math.min(vi.offset, sec.size);
      try {
        if (!vt || vt.name === '') this.fail(`map #${varIdx}: empty name`, '.maps', at);
        if (vi.offset + vi.size > sec.size) this.fail(`map '${name}' BTF data is corrupted: ${vi.size} bytes at offset ${vi.offset} are outside .maps (${sec.size} bytes)`, '.maps', at);
        if (vt.kind !== 'VAR') this.fail(`map '${name}': unexpected var kind ${vt.kind.toLowerCase()}`, '.maps', at);
        if (vt.linkage !== BtfVarLinkage.GLOBAL_ALLOCATED) this.fail(`map '${name}': unsupported map linkage ${['static', 'global', 'extern'][vt.linkage] ?? 'unknown'}`, '.maps', at);
        const def = btf.skipModsAndTypedefs(vt.type);
        if (def.kind !== 'STRUCT') this.fail(`map '${name}': unexpected def kind ${def.kind.toLowerCase()}`, '.maps', at);
        if (def.size > vi.size) this.fail(`map '${name}': invalid def size`, '.maps', at);
        this.log.push(`map '${name}': at sec_idx ${sec.index}, offset ${vi.offset}.`);
        const md = this.parseMapDef(name, def, false, at);
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
      } catch (err) {
        if (!(err instanceof LoaderError)) throw err;
        // libbpf refuses the whole object here; tsbpf fails the programs that use this map.
        this.log.push(err.reason);
        this.maps.push({
          name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, kind: 'btf', realName: name, section: '.maps',
          sectionIndex: sec.index, sectionOffset: vi.offset, frozen: false, loadError: failureOf(err, /unknown field/.test(err.reason) ? 'ENOTSUP' : 'EINVAL'),
        });
      }
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
    this.fixupMapDef(map);
  }

  /** libbpf's parse_btf_map_def. */
  private parseMapDef(mapName: string, def: BtfComposite, inner: boolean, at?: number): MapDef {
    const btf = this.btf!;
    const md: MapDef = { type: 0, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, mapExtra: 0n, numaNode: 0, pinning: 0, keyTypeId: 0, valueTypeId: 0, parts: new Set(), hasValues: false };
    const bad: (reason: string) => never = (reason) => this.fail(`map '${mapName}': ${reason}`, '.maps', at);
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
          md.inner = this.parseMapDef(`${mapName}.inner`, target, true, at);
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

  /**
   * Initial entries of prog arrays and maps of maps: `.rel.maps` (BTF
   * `values`), then the loaders' conventions: iproute2 tail-call sections
   * (`id/key`) and inner maps (`inner_id`/`inner_idx`), OVS `tail-N`,
   * samples/bpf `socket/N`. A `.maps` relocation libbpf refuses fails the
   * map it is in (and so the programs that use it), not the object.
   */
  private resolveMapInitialValues(): void {
    const rel = this.elf.relocations.find((r) => r.target === this.mapsIdx && this.mapsIdx >= 0);
    if (rel && this.btf) {
      const btf = this.btf;
      const ds = btf.findByName('.maps', 'DATASEC') as BtfDatasec | undefined;
      rel.entries.forEach((r, i) => {
        const relSec = this.elf.sections[rel.index]!;
        const at = relSec.offset + i * (relSec.entsize || 16);
        const sym = this.symbol(r.symbol, rel.name, r.offset);
        this.log.push(`.maps relo #${i}: for ${r.symbol} value ${sym.value} rel->r_offset ${r.offset} name ${sym.nameOff ?? 0} ('${sym.name || '<?>'}')`);
        const mapIdx = ds ? this.maps.findIndex((m) => {
          if (m.kind !== 'btf') return false;
          const vi = ds.vars.find((v) => v.offset === m.sectionOffset);
          return vi !== undefined && vi.offset <= r.offset && r.offset + 8 <= vi.offset + vi.size;
        }) : -1;
        if (mapIdx < 0) {
          this.log.push(`.maps relo #${i}: cannot find map '${sym.name}' at rel->r_offset ${r.offset}: ignored`);
          return;
        }
        const map = this.maps[mapIdx]!;
        if (map.loadError) return;
        const refuse = (message: string): void => {
          map.loadError = { message, errno: 'EINVAL', section: rel.name, offset: at };
          this.log.push(message);
        };
        // libbpf does not look at the type; older clang wrote R_BPF_64_64 where newer writes R_BPF_64_ABS64.
        if (r.type !== RelocType.R_BPF_64_ABS64 && r.type !== RelocType.R_BPF_64_64) {
          refuse(`.maps relo #${i}: unexpected relocation type ${relocName(r.type)} for map '${map.name}'`);
          return;
        }
        const vi = ds!.vars.find((v) => v.offset === map.sectionOffset)!;
        const def = btf.skipModsAndTypedefs((btf.typeById(vi.type) as BtfVar).type) as BtfComposite;
        const last = def.members[def.members.length - 1];
        if (!last || last.name !== 'values') {
          refuse(`.maps relo #${i}: map '${map.name}' has no 'values' member`);
          return;
        }
        const moff = Math.floor(last.bitOffset / 8);
        const rel0 = r.offset - vi.offset;
        if (rel0 < moff || (rel0 - moff) % 8 !== 0) {
          refuse(`.maps relo #${i}: bad slot offset ${rel0} in map '${map.name}'`);
          return;
        }
        const key = (rel0 - moff) / 8;
        let value: MapInitialValue;
        if (map.type === MapType.ARRAY_OF_MAPS || map.type === MapType.HASH_OF_MAPS) {
          if (sym.shndx !== this.mapsIdx) return refuse(`.maps relo #${i}: '${sym.name}' isn't a BTF-defined map`);
          if (map.type === MapType.HASH_OF_MAPS && map.keySize !== 4) return refuse(`.maps relo #${i}: hash-of-maps '${map.name}' should have key size 4.`);
          const target = this.maps.findIndex((m) => m.kind === 'btf' && m.name === sym.name);
          if (target < 0) return refuse(`.maps relo #${i}: '${sym.name}' isn't a valid map reference`);
          value = { key, kind: 'map', map: target, name: sym.name };
        } else if (map.type === MapType.PROG_ARRAY) {
          const prog = this.programs.findIndex((p) => p.name === sym.name);
          if (prog < 0) return refuse(`.maps relo #${i}: '${sym.name}' isn't a valid program reference`);
          const p = this.programs[prog]!;
          if (p.sectionIndex !== sym.shndx || p.sectionOffset !== sym.value) return refuse(`.maps relo #${i}: '${sym.name}' isn't an entry-point program`);
          value = { key, kind: 'program', program: prog, name: sym.name };
        } else {
          return refuse(`.maps relo #${i}: map '${map.name}' is neither a prog array nor a map of maps`);
        }
        (map.initialValues ??= []).push(value);
        this.log.push(`.maps relo #${i}: map '${map.name}' slot [${key}] points to ${value.kind === 'map' ? 'map' : 'prog'} '${sym.name}'`);
      });
    }
    // Tail-call sections: iproute2 "id/key", OVS "tail-N", samples/bpf "socket/N".
    const lastProgArray = this.maps.reduce((last, m, i) => (m.kind === 'legacy' && m.type === MapType.PROG_ARRAY ? i : last), -1);
    this.programs.forEach((p, index) => {
      const tail = p.tailCall;
      if (!tail) return;
      let m = -1;
      let what = '';
      if (tail.loader === 'iproute2') {
        m = this.maps.findIndex((x) => x.legacy !== undefined && x.legacy.id === tail.mapId && x.type === MapType.PROG_ARRAY);
        what = `prog array with id ${tail.mapId}`;
      } else if (tail.loader === 'ovs') {
        m = this.maps.findIndex((x) => x.name === tail.map && x.type === MapType.PROG_ARRAY);
        what = `prog array '${tail.map}'`;
      } else {
        m = lastProgArray;
        what = 'prog array in the maps section';
      }
      if (m < 0) {
        this.log.push(`prog '${p.name}': no ${what} for tail-call section '${p.section}'`);
        return;
      }
      const map = this.maps[m]!;
      if (tail.key >= map.maxEntries) {
        this.log.push(`prog '${p.name}': tail-call key ${tail.key} of section '${p.section}' is beyond max_entries ${map.maxEntries} of prog array '${map.name}' (iproute2: "Tail call key ${tail.key} for map ${tail.mapId ?? map.name} out of bounds?"): not installed`);
        return;
      }
      (map.initialValues ??= []).push({ key: tail.key, kind: 'program', program: index, name: p.name });
      this.log.push(`prog '${p.name}': installed at key ${tail.key} of prog array '${map.name}' (${tail.loader} section '${p.section}')`);
    });
    // iproute2: an inner map with id X and inner_idx K goes at key K of every map of maps whose inner_id is X.
    this.maps.forEach((inner, innerIdx) => {
      const lg = inner.legacy;
      if (!lg || !lg.id || lg.innerId || lg.innerIdx === 0xffffffff || lg.layout !== 'iproute2' || inner.loadError) return;
      this.maps.forEach((outer) => {
        if (!outer.legacy || outer.legacy.innerId !== lg.id || outer === inner) return;
        if (outer.type !== MapType.ARRAY_OF_MAPS && outer.type !== MapType.HASH_OF_MAPS) return;
        (outer.initialValues ??= []).push({ key: lg.innerIdx, kind: 'map', map: innerIdx, name: inner.name });
        this.log.push(`map '${outer.name}': slot [${lg.innerIdx}] holds map '${inner.name}' (inner_idx)`);
      });
    });
    for (const m of this.maps) m.initialValues?.sort((a, b) => a.key - b.key);
  }

  /**
   * iproute2 loads tail-call sections (`id/key`) with the type of the command
   * that loads the object (tc filter: sched_cls, tc action: sched_act, ip
   * link xdp: xdp). tsbpf gives them the type every other program of the
   * object agrees on, else sched_cls.
   */
  private tailCallTypes(): void {
    const others = this.programs.filter((p) => p.sectionRuleKind !== 'iproute2-tail-call' && p.sectionRuleKind !== 'unknown');
    const first = others[0];
    if (!first || first.type === ProgType['SCHED_CLS'] || others.some((p) => p.type !== first.type)) return;
    for (const p of this.programs) {
      if (p.sectionRuleKind !== 'iproute2-tail-call') continue;
      p.type = first.type;
      p.typeName = first.typeName;
      if (first.expectedAttachType !== undefined) {
        p.expectedAttachType = first.expectedAttachType;
        p.expectedAttachTypeName = first.expectedAttachTypeName!;
      }
      this.log.push(`prog '${p.name}': tail-call section '${p.section}' loaded as ${first.typeName}, the type of the object's other programs`);
    }
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
      subprog: sec.index === this.textIdx, insns: sec.data.slice(off, off + size), relos: [], progIndex: -1, errors: [],
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
    try {
      this.recordFuncReloc(f, sec, r, sym, symName);
    } catch (err) {
      if (!(err instanceof LoaderError)) throw err;
      // libbpf refuses the object here; tsbpf fails the programs that contain this function.
      f.errors.push(failureOf(err));
      this.log.push(err.reason);
    }
  }

  private recordFuncReloc(f: Func, sec: ElfSection, r: ElfRelocation, sym: ElfSymbol, symName: string): void {
    const at = sec.offset + r.offset;
    const insnIdx = r.offset / 8;
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
    const given = typeof this.options.coreTarget === 'function' ? this.options.coreTarget() : this.options.coreTarget;
    const target = given ?? contextBtf();
    const targetName = this.options.coreTargetName ?? (given ? (target.name || 'vmlinux') : 'tsbpf');
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
        try {
          const res = resolveCoreRelo(ctx, f.name, rec, i, site);
          patchCoreInsn(ctx, f.name, f.insns, local, i, res, site);
          if (res.poison) (f.coreFailures ??= []).push({ insn: local, spec: res.localSpecText ?? '' });
        } catch (err) {
          if (!(err instanceof LoaderError)) throw err;
          // libbpf fails the object; tsbpf the programs containing this function.
          f.errors.push({ ...failureOf(err), insn: err.location.insn ?? insnIdx });
          this.log.push(err.reason);
        }
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
    let linkError: LoadFailure | undefined;
    try {
      relocCode(main, 0);
    } catch (err) {
      if (!(err instanceof LoaderError)) throw err;
      // libbpf refuses the object; tsbpf this program (its code is what could be linked).
      linkError = failureOf(err);
      this.log.push(err.reason);
    }
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
            view.setInt32(o + 4, LibbpfPoison.KFUNC_BASE + desc.ext, true);
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
    else if (this.legacyMapSections.length > 0) {
      const key = samplesTailCallKey(secName);
      if (key !== undefined) spec.tailCall = { key, loader: 'samples' };
    }
    const failure = order.map((f) => f.errors[0]).find((e) => e !== undefined) ?? linkError ?? this.usedFailure(relos.map((r) => r.desc));
    if (failure) spec.loadError = failure;
    if (pt.ruleKind === 'unknown') this.log.push(`prog '${main.name}': section '${secName}' names no known program type; type unspec`);
    return spec;
  }

  /** The first unresolved extern or unusable map among a program's relocations (libbpf fails at extern resolution, then at map creation). */
  private usedFailure(relos: readonly RelocDesc[]): LoadFailure | undefined {
    for (const r of relos) {
      if ((r.type === 'extern_ld64' || r.type === 'extern_call') && this.externs[r.ext]!.error) return this.externs[r.ext]!.error;
    }
    for (const r of relos) {
      const map = r.type === 'ld64' || r.type === 'data' ? this.maps[r.map] : undefined;
      if (map?.loadError) return map.loadError;
    }
    return undefined;
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

/** Legacy map definition fields by member name (every loader's struct). */
const LEGACY_FIELDS: Readonly<Record<string, string>> = {
  type: 'type', key_size: 'keySize', size_key: 'keySize', value_size: 'valueSize', size_value: 'valueSize',
  max_entries: 'maxEntries', max_elem: 'maxEntries', map_flags: 'flags', flags: 'flags', id: 'id', pinning: 'pinning',
  inner_id: 'innerId', inner_idx: 'innerIdx', inner_map_idx: 'innerMapIdx', numa_node: 'numaNode',
};
const LIBBPF_LEGACY_FIELDS = ['type', 'key_size', 'value_size', 'max_entries', 'map_flags'];

/** Legacy map definition layouts (u32 fields in order) when there is no BTF to read them by name. */
const LEGACY_LAYOUTS: Readonly<Record<'libbpf' | 'samples' | 'iproute2' | 'other', readonly string[]>> = {
  libbpf: ['type', 'keySize', 'valueSize', 'maxEntries', 'flags'],
  samples: ['type', 'keySize', 'valueSize', 'maxEntries', 'flags', 'innerMapIdx', 'numaNode'],
  iproute2: ['type', 'keySize', 'valueSize', 'maxEntries', 'flags', 'id', 'pinning', 'innerId', 'innerIdx'],
  other: ['type', 'keySize', 'valueSize', 'maxEntries', 'flags'],
};

/** What a pinning value means to the loaders that use it. */
export function describePinning(p: number): string {
  switch (p) {
    case 0: return 'none';
    case 1: return 'libbpf LIBBPF_PIN_BY_NAME, iproute2 PIN_OBJECT_NS';
    case 2: return 'iproute2 PIN_GLOBAL_NS';
    default: return "a loader's own value (iproute2 looks it up in /etc/iproute2/bpf_pinning; Cilium's loader has its own)";
  }
}

/** The inner map template of a map of maps, copied from the map `inner`. */
function innerTemplate(outer: string, inner: MapSpec): MapSpec {
  const t: MapSpec = { name: `${outer}.inner`, type: inner.type, keySize: inner.keySize, valueSize: inner.valueSize, maxEntries: inner.maxEntries, flags: inner.flags ?? 0 };
  if (inner.mapExtra !== undefined) t.mapExtra = inner.mapExtra;
  if (inner.innerMap) t.innerMap = inner.innerMap;
  return t;
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

