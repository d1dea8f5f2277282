/**
 * The state of one object build (`buildObject`, object.ts), shared by the
 * modules that each handle one concern of it: object.ts (sections, BTF
 * fix-ups, the order of the steps), object-externs.ts, object-maps.ts and
 * object-programs.ts. Each step is a function taking the
 * {@link ObjectBuild} as its first argument; the order they run in matters
 * (the log follows libbpf's, and later steps read what earlier ones found),
 * so it is kept in one place, buildObject.
 */
import type { ErrorLocation } from '../errors.js';
import type { Btf } from './btf.js';
import type { BtfExt } from './btf-ext.js';
import type { ElfFile, ElfSection, ElfSymbol } from './elf.js';
import { RELOC_TYPE_NAMES } from './elf.js';
import type { KcfgDesc } from './kconfig.js';
import { LoaderError } from './loader-error.js';
import type { ObjectParts, ParseObjectOptions } from './object.js';
import type { LoadFailure, ObjectMapSpec, ProgramSpec } from './spec.js';

/** What a section of the object holds, for the sections the builder uses. */
export type SecKind = 'prog' | 'data' | 'rodata' | 'bss' | 'maps' | 'legacy_maps';

/** A function found in an executable section (entry program or subprogram). */
export interface Func {
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

/** A relocation of one instruction of a {@link Func}, recorded before the program is linked. */
export type RelocDesc =
  | { insn: number; type: 'ld64'; map: number }
  | { insn: number; type: 'data'; map: number; symOff: number }
  | { insn: number; type: 'call' | 'subprog_addr'; secIdx: number; symOff: number; symName: string }
  | { insn: number; type: 'extern_ld64' | 'extern_call'; ext: number };

/** An extern symbol of the object (`.kconfig` or `.ksyms`), as collected and resolved. */
export interface Extern {
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
  /** The address a typeless ksym resolved to (kallsyms). */
  address?: bigint;
}

/** The state of one object build: the input, what the steps found so far, and the log. */
export class ObjectBuild {
  readonly elf: ElfFile;
  readonly btf: Btf | undefined;
  readonly btfExt: BtfExt | undefined;
  readonly file: string | undefined;
  readonly log: string[] = [];
  readonly kinds = new Map<number, SecKind>();
  textIdx = -1;
  mapsIdx = -1;
  /** Legacy map sections: `maps` and, as cilium/ebpf reads them, any name starting with `maps` (`maps/flows`). */
  readonly legacyMapSections: number[] = [];
  license = '';
  kernelVersion = 0;
  readonly funcs: Func[] = [];
  readonly maps: ObjectMapSpec[] = [];
  readonly externs: Extern[] = [];
  kconfigMap = -1;
  readonly programs: ProgramSpec[] = [];
  /** Set when kfunc externs were resolved against the built-in kfunc BTF (no kernel BTF was given). */
  kfuncBtf: Btf | undefined;

  constructor(parts: ObjectParts, readonly options: ParseObjectOptions, readonly objName: string) {
    this.elf = parts.elf;
    this.btf = parts.btf;
    this.btfExt = parts.btfExt;
    this.file = parts.elf.file ?? options.name;
  }

  /** Throws the {@link LoaderError} of a broken object (or, caught by a step, of one program or map). */
  fail(reason: string, section?: string, offset?: number, insn?: number): never {
    throw new LoaderError(reason, loc(this.file, section, offset, insn));
  }

  /** The section at `idx`, which must exist. */
  section(idx: number): ElfSection {
    const s = this.elf.sections[idx];
    if (!s) this.fail(`section index ${idx} does not exist`);
    return s;
  }

  /** The symbol a relocation refers to, which must exist. */
  symbol(idx: number, section: string, offset: number): ElfSymbol {
    const s = this.elf.symbols[idx];
    if (!s) this.fail(`relocation refers to symbol ${idx}, which does not exist`, section, offset);
    return s;
  }
}

/** An {@link ErrorLocation} with only the parts that are known. */
export function loc(file: string | undefined, section?: string, offset?: number, insn?: number): ErrorLocation {
  const l: ErrorLocation = {};
  if (file !== undefined) l.file = file;
  if (section !== undefined) l.section = section;
  if (offset !== undefined) l.offset = offset;
  if (insn !== undefined) l.insn = insn;
  return l;
}

/** A LoaderError thrown while building one program or map: it becomes that program's or map's load failure. */
export function failureOf(err: LoaderError, errno = 'EINVAL'): LoadFailure {
  const f: LoadFailure = { message: err.reason, errno };
  if (err.location.section !== undefined) f.section = err.location.section;
  if (err.location.offset !== undefined) f.offset = err.location.offset;
  if (err.location.insn !== undefined) f.insn = err.location.insn;
  return f;
}

/** Whether a section holds DWARF debug information (which the loader ignores). */
export function isDwarf(name: string): boolean {
  return name.startsWith('.debug_');
}

/** The name of an ELF relocation type, for messages. */
export function relocName(type: number): string {
  return RELOC_TYPE_NAMES[type] ?? `type ${type}`;
}
