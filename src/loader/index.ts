/**
 * The loader: ELF objects built by clang for BPF become typed, relocatable
 * {@link ObjectSpec}s (programs, maps, relocations, BTF, CO-RE), as
 * libbpf would open and relocate them. See docs/loader.md and docs/btf.md.
 */
export { LoaderError } from './loader-error.js';
export {
  readElf, sectionByName, SectionType, SectionFlags, SymbolType, SymbolBind, SymbolVisibility, RelocType, RELOC_TYPE_NAMES,
  EM_BPF, ET_REL, SHN_UNDEF, SHN_ABS, SHN_COMMON, SHN_XINDEX,
} from './elf.js';
export type { ElfFile, ElfHeader, ElfSection, ElfSymbol, ElfRelocation, ElfRelocationSection, ReadElfOptions } from './elf.js';
export {
  Btf, parseBtf, encodeBtf, BtfKind, BTF_KIND_NAMES, BtfIntEncoding, BtfVarLinkage, BtfFuncLinkage, BTF_MAGIC, VOID_TYPE,
  btfVlen, isModifier, isAnyEnum, isComposite, describeKind, MAX_RESOLVE_DEPTH,
} from './btf.js';
export type {
  BtfType, BtfKindName, BtfUnknown, BtfInt, BtfRef, BtfArray, BtfComposite, BtfMember, BtfEnum, BtfEnumValue, BtfEnum64,
  BtfEnum64Value, BtfFwd, BtfFunc, BtfFuncProto, BtfParam, BtfVar, BtfVarSecinfo, BtfDatasec, BtfFloat, BtfDeclTag,
  BtfSource, BtfParseOptions,
} from './btf.js';
export { BtfBuilder } from './btf-builder.js';
export type { MemberSpec, CompositeOptions, BtfTypeInput } from './btf-builder.js';
export { dumpBtf, dumpBtfType } from './btf-dump.js';
export { parseBtfExt, CoreReloKind } from './btf-ext.js';
export type { BtfExt, BtfExtSection, BtfExtSource, FuncInfo, LineInfo, CoreRelo } from './btf-ext.js';
export { contextBtf, CONTEXT_STRUCT_NAMES, CONTEXT_STRUCT_BY_PROG_TYPE } from './ctx-btf.js';
export {
  CORE_POISON_IMM, coreReloKindName, essentialName, essentialNameLength, coreContext, resolveCoreRelo, patchCoreInsn,
} from './core.js';
export type { CoreContext, CoreResult, CoreSite } from './core.js';
export {
  formatBtfValue, formatMapEntry, mapDumpEntry, hexBytes, formattedToJson, formattedToJs, isPerCpuMapType,
} from './value-format.js';
export type { FormattedValue, FormatOptions, FormattableMap } from './value-format.js';
export {
  programTypeOfSection, sectionPatterns, sectionRules, sectionTableRow, iproute2TailCall, samplesTailCallKey,
} from './sections.js';
export { PROG_TYPE_NAMES, ProgType, ATTACH_TYPE_NAMES, AttachType, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS } from '../isa/uapi.js';
export type { SectionProgramType, SectionRuleKind, SectionRule, SectionTailCall } from './sections.js';
export { DEFAULT_KCONFIG, TSBPF_KERNEL_VERSION, kernelVersion, parseKconfig, setKconfigValue } from './kconfig.js';
export type { KconfigValue, KcfgDesc, KcfgType } from './kconfig.js';
export { parseObject, buildObject, readObjectParts, objectNameOf } from './object.js';
export { internalMapName, adjustRingbufSize, describePinning } from './object-maps.js';
export type { ParseObjectOptions, ObjectParts } from './object.js';
export { linkObjects, linkParts } from './linker.js';
export type { LinkInput } from './linker.js';
export type {
  ObjectSpec, ProgramSpec, ProgramRelocation, ProgramFunction, ProgramLineInfo, ProgramFuncInfo, ObjectMapSpec, ObjectMapKind,
  MapInitialValue, ExternSpec, LoadFailure, LegacyMapInfo, TailCallConvention,
} from './spec.js';
