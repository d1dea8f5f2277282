/**
 * Formatting map keys and values with their BTF types the way bpftool's
 * btf_dumper does for `bpftool map dump` (the "formatted" member of
 * `bpftool -j map dump`, and the plain-text dump of maps with BTF).
 * Integers are decimal numbers, bitfields and 128-bit integers hex
 * strings, `char` arrays holding a NUL-terminated printable string a JSON
 * string, structs and unions objects, arrays lists, enums the
 * enumerator's name (or the number when none matches), pointers numbers,
 * `_Bool` true/false, global data sections `{ ".data": [ { "var": v } ] }`.
 * See docs/btf.md for the rules and the few deliberate differences.
 */
import type { Btf, BtfType } from './btf.js';
import { LoaderError } from './loader-error.js';
import { MapType } from '../isa/uapi.js';

/** A formatted value: a tree that serializes to bpftool's text. */
export type FormattedValue =
  /** A token printed verbatim: numbers, `0x..` hex in plain text, `"\u00..."` escapes, `(nil)`. */
  | { kind: 'raw'; text: string }
  /** A JSON string. */
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'array'; items: FormattedValue[] }
  /** Members in order; names may repeat or be empty (anonymous members), as in bpftool. */
  | { kind: 'object'; fields: [string, FormattedValue][] };

/** Options of {@link formatBtfValue}. */
export interface FormatOptions {
  /**
   * bpftool's plain-text mode (`bpftool map dump` without `-j`): hex
   * values and pointers unquoted, non-printable chars as `0x..`.
   */
  plainText?: boolean;
}

const raw = (text: string): FormattedValue => ({ kind: 'raw', text });

class Reader {
  constructor(readonly data: Uint8Array) {}

  bytes(off: number, n: number): Uint8Array {
    if (off < 0 || off + n > this.data.length) {
      throw new LoaderError(`value formatting: ${n} bytes at offset ${off} are outside the ${this.data.length}-byte value`);
    }
    return this.data.subarray(off, off + n);
  }

  /** Little-endian unsigned integer of `n` bytes. */
  uint(off: number, n: number): bigint {
    const b = this.bytes(off, n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }
}

function hex128(v: bigint, plain: boolean): FormattedValue {
  const upper = v >> 64n;
  const lower = v & 0xffffffffffffffffn;
  const text = upper === 0n ? `0x${lower.toString(16)}` : `0x${upper.toString(16)}${lower.toString(16).padStart(16, '0')}`;
  return plain ? raw(text) : { kind: 'string', value: text };
}

/** bpftool's btf_dumper_bitfield: `nrBits` bits starting `bitOffset` bits into `off`. */
function bitfield(r: Reader, off: number, nrBits: number, bitOffset: number, plain: boolean): FormattedValue {
  const bitsToCopy = bitOffset + nrBits;
  const bytesToCopy = Math.ceil(bitsToCopy / 8);
  if (bytesToCopy > 16) throw new LoaderError(`value formatting: bitfield of ${nrBits} bits at bit ${bitOffset} is wider than 128 bits`);
  const num = r.uint(off, bytesToCopy);
  const value = (num >> BigInt(bitOffset)) & ((1n << BigInt(nrBits)) - 1n);
  return hex128(value, plain);
}

function isPrint(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/** Formats `data` (at least the type's size) as type `typeId` of `btf`. */
export function formatBtfValue(btf: Btf, typeId: number, data: Uint8Array, options: FormatOptions = {}): FormattedValue {
  return new Dumper(btf, options.plainText ?? false).type(typeId, 0, new Reader(data), 0, 0);
}

class Dumper {
  constructor(private readonly btf: Btf, private readonly plain: boolean) {}

  type(id: number, bitOffset: number, r: Reader, off: number, depth: number): FormattedValue {
    if (depth > 64) throw new LoaderError(`value formatting: type [${id}] nests too deep`);
    const t = this.btf.typeById(id);
    switch (t.kind) {
      case 'INT':
        return this.int(t, bitOffset, r, off);
      case 'STRUCT': case 'UNION': {
        const fields: [string, FormattedValue][] = [];
        for (const m of t.members) {
          const dataOff = off + Math.floor(m.bitOffset / 8);
          const v = m.bitfieldSize
            ? bitfield(r, dataOff, m.bitfieldSize, m.bitOffset % 8, this.plain)
            : this.type(m.type, m.bitOffset % 8, r, dataOff, depth + 1);
          fields.push([m.name, v]);
        }
        return { kind: 'object', fields };
      }
      case 'ARRAY':
        return this.array(t.type, t.nelems, r, off, depth);
      case 'ENUM': {
        const size = t.size;
        if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new LoaderError(`value formatting: enum [${t.id}] has size ${size}`);
        const value = BigInt.asIntN(size * 8, r.uint(off, size));
        for (const e of t.values) if (BigInt(e.value) === value) return { kind: 'string', value: e.name };
        return raw(value.toString());
      }
      case 'ENUM64': {
        const value = r.uint(off, 8);
        for (const e of t.values) if (e.value === value) return { kind: 'string', value: e.name };
        return raw(BigInt.asIntN(64, value).toString());
      }
      case 'PTR': {
        const v = r.uint(off, 8);
        if (!this.plain) return raw(v.toString());
        return raw(v === 0n ? '(nil)' : `0x${v.toString(16)}`);
      }
      case 'UNKN':
        return raw('(unknown)');
      case 'FWD':
        throw new LoaderError(`value formatting: type [${t.id}] is a forward declaration (fwd-kind-invalid)`);
      case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG':
        return this.type(this.btf.resolveType(t.id), bitOffset, r, off, depth + 1);
      case 'VAR':
        return { kind: 'object', fields: [[t.name, this.type(t.type, bitOffset, r, off, depth + 1)]] };
      case 'DATASEC':
        return { kind: 'object', fields: [[t.name, { kind: 'array', items: t.vars.map((v) => this.type(v.type, 0, r, off + v.offset, depth + 1)) }]] };
      case 'FLOAT': {
        const b = r.bytes(off, t.size);
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        if (t.size === 4) return raw(formatFloat(view.getFloat32(0, true)));
        if (t.size === 8) return raw(formatFloat(view.getFloat64(0, true)));
        return hex128(r.uint(off, Math.min(t.size, 16)), this.plain);
      }
      default:
        throw new LoaderError(`value formatting: type [${t.id}] of kind ${t.kind.toLowerCase()} cannot be formatted`);
    }
  }

  private int(t: Extract<BtfType, { kind: 'INT' }>, bitOffset: number, r: Reader, off: number): FormattedValue {
    const nrBits = t.bits;
    if (bitOffset || t.offset || nrBits % 8) {
      const total = bitOffset + t.offset;
      return bitfield(r, off + Math.floor(total / 8), nrBits, total % 8, this.plain);
    }
    if (nrBits === 128) return hex128(r.uint(off, 16), this.plain);
    switch (t.encoding) {
      case 0:
        if (nrBits === 64 || nrBits === 32 || nrBits === 16 || nrBits === 8) return raw(r.uint(off, nrBits / 8).toString());
        return bitfield(r, off, nrBits, 0, this.plain);
      case 1:
        if (nrBits === 64 || nrBits === 32 || nrBits === 16 || nrBits === 8) return raw(BigInt.asIntN(nrBits, r.uint(off, nrBits / 8)).toString());
        return bitfield(r, off, nrBits, 0, this.plain);
      case 2: {
        const c = r.bytes(off, 1)[0]!;
        if (isPrint(c)) return { kind: 'string', value: String.fromCharCode(c) };
        return this.plain ? raw(`0x${c.toString(16)}`) : raw(`"\\u00${c.toString(16).padStart(2, '0')}"`);
      }
      case 4:
        return { kind: 'bool', value: r.bytes(off, 1)[0] !== 0 };
      default:
        throw new LoaderError(`value formatting: int [${t.id}] has unknown encoding ${t.encoding}`);
    }
  }

  private array(elemId: number, nelems: number, r: Reader, off: number, depth: number): FormattedValue {
    const str = this.stringOf(elemId, nelems, r, off);
    if (str !== undefined) return { kind: 'string', value: str };
    const size = this.btf.resolveSize(elemId);
    if (size === 0 ? nelems > 65536 : off + size * nelems > r.data.length) {
      throw new LoaderError(`value formatting: array of ${nelems} elements of ${size} bytes does not fit the ${r.data.length}-byte value`);
    }
    const items: FormattedValue[] = [];
    for (let i = 0; i < nelems; i++) items.push(this.type(elemId, 0, r, off + i * size, depth + 1));
    return { kind: 'array', items };
  }

  /** bpftool's is_str_array: char elements holding a NUL-terminated printable string. */
  private stringOf(elemId: number, nelems: number, r: Reader, off: number): string | undefined {
    if (!nelems) return undefined;
    const elem = this.btf.skipModifiers(elemId);
    if (elem.kind !== 'INT' || elem.size !== 1) return undefined;
    if (elem.encoding !== 2 && elem.name !== 'char') return undefined;
    let s = '';
    for (let i = 0; i < nelems; i++) {
      if (off + i >= r.data.length) return undefined;
      const c = r.data[off + i]!;
      if (c === 0) return s;
      if (c <= 0x1f || c >= 0x7f) return undefined;
      s += String.fromCharCode(c);
    }
    return undefined;
  }
}

function formatFloat(v: number): string {
  if (Number.isNaN(v)) return '"nan"';
  if (!Number.isFinite(v)) return v > 0 ? '"inf"' : '"-inf"';
  return String(v);
}

/** Map types whose values are per CPU (bpftool's map_is_per_cpu). */
export function isPerCpuMapType(type: number): boolean {
  return type === MapType.PERCPU_HASH || type === MapType.PERCPU_ARRAY || type === MapType.LRU_PERCPU_HASH
    || type === MapType.PERCPU_CGROUP_STORAGE;
}

/** What {@link formatMapEntry} needs to know about a map. */
export interface FormattableMap {
  type: number;
  valueSize: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
}

/**
 * bpftool's do_dump_btf: `{ "key": ..., "value": ... }`, or for per-CPU
 * maps `{ "key": ..., "values": [ { "cpu": 0, "value": ... }, ... ] }`
 * (each CPU's value at a stride of the value size rounded up to 8).
 */
export function formatMapEntry(btf: Btf, map: FormattableMap, key: Uint8Array, value: Uint8Array, options: FormatOptions & { cpus?: number } = {}): FormattedValue {
  const fields: [string, FormattedValue][] = [];
  if (map.btfKeyTypeId) fields.push(['key', formatBtfValue(btf, map.btfKeyTypeId, key, options)]);
  const vid = map.btfValueTypeId ?? 0;
  if (!isPerCpuMapType(map.type)) {
    fields.push(['value', formatBtfValue(btf, vid, value, options)]);
  } else {
    const step = Math.ceil(map.valueSize / 8) * 8;
    const n = options.cpus ?? (step ? Math.floor(value.length / step) : 0);
    const items: FormattedValue[] = [];
    for (let i = 0; i < n; i++) {
      items.push({ kind: 'object', fields: [['cpu', raw(String(i))], ['value', formatBtfValue(btf, vid, value.subarray(i * step), options)]] });
    }
    fields.push(['values', { kind: 'array', items }]);
  }
  return { kind: 'object', fields };
}

/** bpftool's print_hex_data_json: `["0x01","0xab",...]`. */
export function hexBytes(data: Uint8Array): FormattedValue {
  return { kind: 'array', items: [...data].map((b) => ({ kind: 'string', value: `0x${b.toString(16).padStart(2, '0')}` }) as FormattedValue) };
}

/**
 * One entry as `bpftool -j map dump` prints it: hex key and value (or
 * per-CPU values), plus "formatted" when the map has BTF.
 */
export function mapDumpEntry(map: FormattableMap, key: Uint8Array, value: Uint8Array, btf: Btf | undefined, cpus = 1): FormattedValue {
  const fields: [string, FormattedValue][] = [['key', hexBytes(key)]];
  if (!isPerCpuMapType(map.type)) {
    fields.push(['value', hexBytes(value.subarray(0, map.valueSize))]);
  } else {
    const step = Math.ceil(map.valueSize / 8) * 8;
    const items: FormattedValue[] = [];
    for (let i = 0; i < cpus; i++) {
      items.push({ kind: 'object', fields: [['cpu', raw(String(i))], ['value', hexBytes(value.subarray(i * step, i * step + map.valueSize))]] });
    }
    fields.push(['values', { kind: 'array', items }]);
  }
  if (btf && (map.btfKeyTypeId || map.btfValueTypeId)) fields.push(['formatted', formatMapEntry(btf, map, key, value, { cpus })]);
  return { kind: 'object', fields };
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '\t': out += '\\t'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\f': out += '\\f'; break;
      case '\b': out += '\\b'; break;
      case '\\': out += '\\\\'; break;
      case '"': out += '\\"'; break;
      default: out += c < 0x20 ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
    }
  }
  return out + '"';
}

/**
 * Serializes like bpftool's json_writer: compact, or with `pretty` the
 * layout of `bpftool -p` (object members on their own lines indented by 4
 * spaces, array elements inline).
 */
export function formattedToJson(v: FormattedValue, options: { pretty?: boolean } = {}): string {
  const pretty = options.pretty ?? false;
  let out = '';
  let depth = 0;
  let sep = '';
  const eor = (): void => {
    out += sep;
    sep = ',';
  };
  const eol = (): void => {
    if (pretty) out += '\n' + '    '.repeat(depth);
  };
  const walk = (x: FormattedValue): void => {
    switch (x.kind) {
      case 'raw': eor(); out += x.text; break;
      case 'string': eor(); out += quote(x.value); break;
      case 'bool': eor(); out += x.value ? 'true' : 'false'; break;
      case 'array':
      case 'object': {
        eor();
        out += x.kind === 'array' ? '[' : '{';
        depth++;
        sep = '';
        if (x.kind === 'array') {
          for (const item of x.items) walk(item);
        } else {
          for (const [name, val] of x.fields) {
            eor();
            eol();
            sep = '';
            out += quote(name) + (pretty ? ': ' : ':');
            walk(val);
          }
        }
        depth--;
        if (sep !== '') eol();
        out += x.kind === 'array' ? ']' : '}';
        sep = ',';
        break;
      }
    }
  };
  walk(v);
  return out;
}

/**
 * The formatted value as plain JavaScript: numbers (bigint beyond 2^53),
 * strings, booleans, arrays, objects (a repeated or empty member name keeps
 * the last value).
 */
export function formattedToJs(v: FormattedValue): unknown {
  switch (v.kind) {
    case 'raw': {
      if (/^-?\d+$/.test(v.text)) {
        const b = BigInt(v.text);
        return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
      }
      if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v.text)) return Number(v.text);
      if (v.text.startsWith('"')) return JSON.parse(v.text) as unknown;
      return v.text;
    }
    case 'string': return v.value;
    case 'bool': return v.value;
    case 'array': return v.items.map(formattedToJs);
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v.fields) o[k] = formattedToJs(x);
      return o;
    }
  }
}
