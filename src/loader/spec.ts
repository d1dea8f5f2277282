/**
 * The loader's output: an object file as a typed, relocatable spec.
 * Programs carry their final instruction bytes plus symbolic relocation
 * records per slot (map references by map index, never numbers a kernel or
 * a VM assigned); maps are `MapSpec`s plus what the loader knows about
 * them (kind, initial contents, initial prog/map values).
 */
import type { MapSpec } from '../vm/maps/types.js';
import type { Btf } from './btf.js';
import type { BtfExt } from './btf-ext.js';
import type { SectionRuleKind } from './sections.js';

/**
 * A relocation of one instruction slot, symbolic. The instruction bytes
 * already encode the same facts (see docs/loader.md): a map reference is a
 * `lddw` with src 5 (`BPF_PSEUDO_MAP_IDX`) and imm = map index, a value
 * address is src 6 (`BPF_PSEUDO_MAP_IDX_VALUE`) with imm = map index and
 * the second slot's imm = offset.
 */
export type ProgramRelocation =
  /** `lddw` of a map: `{ slot, kind: 'map', map }`. */
  | { slot: number; kind: 'map'; map: number }
  /** `lddw` of an address inside a map's value (global data): `{ slot, kind: 'map_value', map, offset }`. */
  | { slot: number; kind: 'map_value'; map: number; offset: number }
  /** `lddw` of a `.kconfig` extern: its bytes are at `offset` of the `.kconfig` map `map`. */
  | { slot: number; kind: 'kconfig'; name: string; map: number; offset: number }
  /** `lddw` of a `.ksyms` extern (kernel symbol); absent in user space, so the value is 0. */
  | { slot: number; kind: 'ksym'; name: string; weak: boolean }
  /** Call of a kernel function (kfunc) that does not exist here: poisoned like libbpf does for a missing weak kfunc. */
  | { slot: number; kind: 'kfunc'; name: string; weak: boolean }
  /** A CO-RE relocation that found no target: the slot is poisoned (`call 0xbad2310`); `spec` is libbpf's text of the local spec. */
  | { slot: number; kind: 'core_failed'; spec: string }
  /** bpf-to-bpf call, already linked: the callee starts at slot `target`. */
  | { slot: number; kind: 'call'; target: number; function: string }
  /** `lddw` of a function address (callback), already linked: the function starts at slot `target`. */
  | { slot: number; kind: 'func'; target: number; function: string };

/** One function inside a program's instructions (the entry function first, then appended subprograms). */
export interface ProgramFunction {
  name: string;
  /** First slot. */
  slot: number;
  /** Number of slots. */
  slots: number;
  /** ELF section the code came from. */
  section: string;
}

/** Source position of an instruction (from `.BTF.ext` line info). */
export interface ProgramLineInfo {
  slot: number;
  file: string;
  line: number;
  column: number;
  /** The source line's text. */
  source: string;
}

/** Which BTF FUNC describes the function starting at `slot`. */
export interface ProgramFuncInfo {
  slot: number;
  typeId: number;
  name: string;
}

/**
 * Why something of an object cannot be loaded, in the words libbpf (or the
 * kernel) uses for it, with the errno it would return and where in the ELF
 * the cause is. A program or map with one is still part of the object
 * (every other program loads, runs and is verified); only it fails.
 */
export interface LoadFailure {
  /** libbpf's or the kernel's message (`extern (func ksym) 'x': not found in kernel or module BTFs`). */
  message: string;
  /** The errno libbpf would return (`ESRCH`, `EINVAL`, `ENOTSUP`, ...). */
  errno: string;
  /** ELF section of the cause. */
  section?: string;
  /** Byte offset of the cause in the file. */
  offset?: number;
  /** Instruction index (in the program's section) of the cause. */
  insn?: number;
}

/** One entry-point program. */
export interface ProgramSpec {
  /** Function name (the ELF symbol). */
  name: string;
  /** ELF section, without a leading `?`. */
  section: string;
  sectionIndex: number;
  /** Byte offset of the function in its section. */
  sectionOffset: number;
  /** `enum bpf_prog_type` id (0 = unspec). */
  type: number;
  /** `xdp`, `sched_cls`, `socket_filter`, `kprobe`, `tracing`, ... */
  typeName: string;
  /** `expected_attach_type`, when libbpf sets one for this section. */
  expectedAttachType?: number;
  expectedAttachTypeName?: string;
  /** Load flags (`BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`). */
  flags: number;
  /** What follows `type/` in the section name (kprobe function, tracepoint, ...). */
  attachTo?: string;
  /**
   * struct_ops programs: the struct and member a `.struct_ops` or
   * `.struct_ops.link` variable (`map`) points at the program from, as
   * libbpf finds them; the kernel loads the program for that member of the
   * kernel's struct of that name.
   */
  structOps?: { struct: string; member: string; map: string };
  /** The section rule that matched (`kprobe+`, `xdp`, `socket` (legacy prefix), `N/M`, or '' when unknown). */
  sectionRule: string;
  sectionRuleKind: SectionRuleKind;
  /**
   * A loader's tail-call convention: the program is installed at `key` of a
   * prog array. iproute2 (`N/M`): the array whose `struct bpf_elf_map` id
   * is `mapId`; OVS (`tail-N`): the array named `map` (`tailcalls`);
   * samples/bpf (`socket/N`, `kprobe/N`, ...): the last prog array of the
   * legacy `maps` section.
   */
  tailCall?: TailCallConvention;
  /** False for `SEC("?name")` programs (libbpf does not load them by default). */
  autoload: boolean;
  /** Global (or weak) symbol, as opposed to static. */
  global: boolean;
  /** Final instruction bytes (8 per slot), subprograms appended and CO-RE applied. */
  insns: Uint8Array;
  /** Symbolic relocations, ascending by slot. */
  relocations: ProgramRelocation[];
  /** Functions inside `insns`. */
  functions: ProgramFunction[];
  funcInfo: ProgramFuncInfo[];
  /** Source lines by slot, ascending. */
  lineInfo: ProgramLineInfo[];
  /**
   * Why libbpf would not load this program (an unresolved strong extern it
   * uses, a relocation it cannot apply, a call into no function, a map it
   * uses that cannot be made): its verdict is this rejection, it never runs.
   * The other programs of the object are not affected.
   */
  loadError?: LoadFailure;
}

/** How a loader installs a program into a prog array (see {@link ProgramSpec.tailCall}). */
export interface TailCallConvention {
  /** iproute2: the `id` of the prog array's `struct bpf_elf_map`. */
  mapId?: number;
  /** OVS: the prog array's name. */
  map?: string;
  key: number;
  loader: 'iproute2' | 'ovs' | 'samples';
}

/** What a legacy (`maps` section) definition held, read by the layout of the loader it was written for. */
export interface LegacyMapInfo {
  /**
   * The definition's layout: `libbpf` (`struct bpf_map_def`, 20 bytes),
   * `samples` (samples/bpf `struct bpf_load_map_def`, 28 bytes: +
   * `inner_map_idx`, `numa_node`), `iproute2` (`struct bpf_elf_map`, 36
   * bytes: + `id`, `pinning`, `inner_id`, `inner_idx`; 28 bytes before
   * maps of maps), `other` (a struct of another loader, read by name).
   */
  layout: 'libbpf' | 'samples' | 'iproute2' | 'other';
  /** `btf`: fields read by member name from the object's BTF; `size`: by the definition's size. */
  fieldsFrom: 'btf' | 'size';
  /** Bytes of one definition. */
  size: number;
  /** iproute2: the map's id (tail-call sections `id/key`, `inner_id`). */
  id: number;
  /** iproute2 pinning (0 none, 1 PIN_OBJECT_NS, 2 PIN_GLOBAL_NS, other values: the loader's own, e.g. Cilium's). */
  pinning: number;
  /** iproute2: the id of the inner map template of a map of maps. */
  innerId: number;
  /** iproute2: the slot of every map of maps whose `inner_id` is this map's id where this map goes (0xffffffff: none). */
  innerIdx: number;
  /** samples/bpf: index (in the `maps` section) of the inner map template of a map of maps. */
  innerMapIdx?: number;
  /** samples/bpf: NUMA node (with BPF_F_NUMA_NODE). */
  numaNode?: number;
  /** Non-zero fields the loader did not understand (recorded, never refused). */
  unknown?: { offset: number; name?: string; value: number }[];
}

/** Where a map comes from. */
export type ObjectMapKind = 'btf' | 'legacy' | 'data' | 'rodata' | 'bss' | 'kconfig';

/** An initial entry of a prog array or map of maps (`__array(values, ...)`, iproute2 conventions). */
export type MapInitialValue =
  | { key: number; kind: 'program'; program: number; name: string }
  | { key: number; kind: 'map'; map: number; name: string };

/** A map of the object: a {@link MapSpec} plus loader facts. */
export interface ObjectMapSpec extends MapSpec {
  kind: ObjectMapKind;
  /** Name before libbpf's shortening (`.rodata`, `.rodata.config`, `flows`). */
  realName: string;
  /** ELF section of the definition (`.maps`, `maps`, `.data`, ...). */
  section: string;
  sectionIndex: number;
  /** Offset of the definition in its section. */
  sectionOffset: number;
  /** NUMA node (`numa_node`), when given. */
  numaNode?: number;
  /** Initial value of key 0 for global data and `.kconfig` maps. */
  initialData?: Uint8Array;
  /** Initial entries of prog arrays and maps of maps. */
  initialValues?: MapInitialValue[];
  /** Frozen after loading (`.rodata*`, `.kconfig`): user space may not write it either. */
  frozen: boolean;
  /** Legacy definition details (`maps` sections). */
  legacy?: LegacyMapInfo;
  /**
   * Why no map can be made of this definition (libbpf's message: a
   * malformed BTF definition, an invalid pinning value, ...): programs that
   * use the map fail with it, the others load.
   */
  loadError?: LoadFailure;
}

/** An extern variable or function of the object. */
export interface ExternSpec {
  name: string;
  kind: 'kconfig' | 'ksym';
  weak: boolean;
  /** BTF id of its VAR or FUNC. */
  btfId: number;
  /** Whether tsbpf provided a value (kconfig) or found the symbol (never, for ksyms). */
  resolved: boolean;
  /** Offset and size in the `.kconfig` map. */
  offset?: number;
  size?: number;
  /** The value written (kconfig), as a number or string. */
  value?: bigint | string;
  /** ksyms: a function (kfunc) rather than a variable. */
  func?: boolean;
  /** ksyms: declared without a type (`extern const void x __ksym`). */
  typeless?: boolean;
  /** Why libbpf would not resolve it: the programs that use it cannot load. */
  error?: LoadFailure;
}

/** A parsed object file. */
export interface ObjectSpec {
  /** Object name as libbpf derives it (file name up to 15 characters, cut at the first '.'). */
  name: string;
  /** File name given by the caller. */
  file?: string;
  /** Contents of the `license` section ('' when absent). */
  license: string;
  /** Contents of the `version` section (0 when absent). */
  kernelVersion: number;
  /** Entry programs, by section index then offset. */
  programs: ProgramSpec[];
  /** Maps, in libbpf's order: legacy, BTF-defined, global data by section, `.kconfig`. */
  maps: ObjectMapSpec[];
  externs: ExternSpec[];
  btf?: Btf;
  btfExt?: BtfExt;
  /**
   * The BTF the programs' kfunc calls name functions of, when it is not a
   * kernel BTF: without one the loader resolves kfuncs against tsbpf's
   * built-in set (loader/kfunc-btf.ts), and the verifier must read the
   * same ids.
   */
  kfuncBtf?: Btf;
  /** What the loader did, in libbpf's debug wording where it has one (for `--verbose`). */
  log: string[];
}
