/**
 * `.BTF.ext`: per-section function info (which BTF FUNC each function
 * is), line info (source file, line text, line and column of
 * instructions) and CO-RE relocation records. Record offsets are byte
 * offsets of instructions in their ELF section; strings live in `.BTF`.
 */
import type { ErrorLocation } from '../errors.js';
import type { Btf } from './btf.js';
import { ByteReader } from './reader.js';

/** One func_info record: the function starting at `insnOff` has BTF type `typeId` (a FUNC). */
export interface FuncInfo {
  /** Byte offset of the function's first instruction in its section. */
  insnOff: number;
  typeId: number;
}

/** One line_info record. */
export interface LineInfo {
  /** Byte offset of the instruction in its section. */
  insnOff: number;
  /** Source file name. */
  fileName: string;
  /** The source line's text. */
  line: string;
  /** 1-based line number. */
  lineNum: number;
  /** 1-based column (0 when unknown). */
  column: number;
  /** String offsets in `.BTF`, as recorded. */
  fileNameOff: number;
  lineOff: number;
}

/** `enum bpf_core_relo_kind`. */
export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0, FIELD_BYTE_SIZE: 1, FIELD_EXISTS: 2, FIELD_SIGNED: 3, FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5, TYPE_ID_LOCAL: 6, TYPE_ID_TARGET: 7, TYPE_EXISTS: 8, TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10, ENUMVAL_VALUE: 11, TYPE_MATCHES: 12,
} as const;

/** One CO-RE relocation record (`struct bpf_core_relo`). */
export interface CoreRelo {
  /** Byte offset of the instruction to patch in its section. */
  insnOff: number;
  /** Local BTF type id of the root type. */
  typeId: number;
  /** Access string (`0:1:2`). */
  accessStr: string;
  accessStrOff: number;
  /** {@link CoreReloKind} value. */
  kind: number;
}

/** Records of one ELF section. */
export interface BtfExtSection<T> {
  /** ELF section name. */
  section: string;
  records: T[];
}

/** A parsed `.BTF.ext`. */
export interface BtfExt {
  funcInfo: BtfExtSection<FuncInfo>[];
  lineInfo: BtfExtSection<LineInfo>[];
  coreRelos: BtfExtSection<CoreRelo>[];
  /** Record sizes as found (0 for absent parts). */
  funcInfoRecSize: number;
  lineInfoRecSize: number;
  coreReloRecSize: number;
}

/** Where the `.BTF.ext` came from, for messages. */
export interface BtfExtSource {
  file?: string;
  section?: string;
  offset?: number;
}

const MIN_REC = { func: 8, line: 16, core: 16 } as const;

/**
 * Parses `.BTF.ext` bytes; strings are looked up in `btf`. Throws a
 * LoaderError naming the byte offset for anything malformed.
 */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, source: BtfExtSource = {}): BtfExt {
  const where: ErrorLocation = { offset: source.offset ?? 0 };
  if (source.file !== undefined) where.file = source.file;
  where.section = source.section ?? '.BTF.ext';
  const r = new ByteReader(bytes, where, '.BTF.ext');
  const fail: (reason: string, off?: number) => never = (reason, off) => {
    throw r.error(`.BTF.ext: ${reason}`, off);
  };
  if (bytes.length < 8) fail(`header not found: ${bytes.length} bytes`, 0);
  const magic = r.u16(0);
  if (magic === 0x9feb) fail('big-endian .BTF.ext is not supported', 0);
  if (magic !== 0xeb9f) fail(`invalid magic 0x${magic.toString(16)}`, 0);
  const version = r.u8(2);
  if (version !== 1) fail(`unsupported version ${version}`, 2);
  const hdrLen = r.u32(4);
  if (hdrLen < 24) fail(`header length ${hdrLen} is shorter than 24`, 4);
  if (hdrLen > bytes.length) fail(`header length ${hdrLen} is larger than the section (${bytes.length} bytes)`, 4);
  const str = (off: number, what: string, at: number): string => {
    if (!btf.hasString(off)) fail(`${what}: string offset ${off} is outside the .BTF string section`, at);
    try {
      return btf.stringAt(off);
    } catch {
      return fail(`${what}: bad string at offset ${off}`, at);
    }
  };

  const parsePart = <T>(offField: number, desc: string, minRec: number, rec: (at: number, index: number) => T): { sections: BtfExtSection<T>[]; recSize: number } => {
    if (offField + 8 > hdrLen) return { sections: [], recSize: 0 };
    const off = r.u32(offField);
    const len = r.u32(offField + 4);
    if (len === 0) return { sections: [], recSize: 0 };
    if (off % 4 !== 0) fail(`${desc} section offset ${off} is not aligned to 4 bytes`, offField);
    const start = hdrLen + off;
    if (start + len > bytes.length) fail(`${desc} section (offset ${off}, ${len} bytes) is beyond the end of .BTF.ext (${bytes.length} bytes)`, offField);
    if (len < 4) fail(`${desc} record size not found`, start);
    const recSize = r.u32(start);
    if (recSize < minRec || recSize % 4 !== 0) fail(`${desc} section has invalid record size ${recSize}`, start);
    let at = start + 4;
    const end = start + len;
    if (at === end) fail(`${desc} section has no records`, at);
    const sections: BtfExtSection<T>[] = [];
    while (at < end) {
      if (end - at < 8) fail(`${desc} section header is truncated`, at);
      const secName = str(r.u32(at), `${desc} section name`, at);
      const num = r.u32(at + 4);
      if (num === 0) fail(`${desc} section '${secName}' has no records`, at + 4);
      if (8 + num * recSize > end - at) fail(`${desc} section '${secName}' claims ${num} records of ${recSize} bytes, more than the ${end - at - 8} bytes left`, at + 4);
      at += 8;
      const records: T[] = [];
      for (let i = 0; i < num; i++, at += recSize) records.push(rec(at, i));
      sections.push({ section: secName, records });
    }
    return { sections, recSize };
  };

  const func = parsePart(8, 'func_info', MIN_REC.func, (at) => ({ insnOff: r.u32(at), typeId: r.u32(at + 4) }));
  const line = parsePart(16, 'line_info', MIN_REC.line, (at) => {
    const fileNameOff = r.u32(at + 4);
    const lineOff = r.u32(at + 8);
    const lineCol = r.u32(at + 12);
    return {
      insnOff: r.u32(at),
      fileName: str(fileNameOff, 'line_info file name', at + 4),
      line: str(lineOff, 'line_info line', at + 8),
      lineNum: lineCol >>> 10,
      column: lineCol & 0x3ff,
      fileNameOff,
      lineOff,
    };
  });
  const core = hdrLen >= 32
    ? parsePart(24, 'core_relo', MIN_REC.core, (at) => {
      const accessStrOff = r.u32(at + 8);
      return { insnOff: r.u32(at), typeId: r.u32(at + 4), accessStr: str(accessStrOff, 'core_relo access string', at + 8), accessStrOff, kind: r.u32(at + 12) };
    })
    : { sections: [], recSize: 0 };
  return {
    funcInfo: func.sections,
    lineInfo: line.sections,
    coreRelos: core.sections,
    funcInfoRecSize: func.recSize,
    lineInfoRecSize: line.recSize,
    coreReloRecSize: core.recSize,
  };
}
