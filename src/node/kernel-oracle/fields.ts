/**
 * Reading request fields the way the oracle's protocol defines them: a
 * field that is absent, `undefined` or `null` takes its default; integers
 * must be integers; hex strings may hold whitespace and a `0x` prefix;
 * enums are names (case-insensitive, `bpf_*` prefix optional, aliases) or
 * numbers; flags are a number, a name or a list of names and numbers.
 */
import { inputError } from './failure.js';

/** A JSON-like object. */
export type Fields = Readonly<Record<string, unknown>>;

/** The value of `key`, undefined when absent or undefined (JSON has no undefined). */
export function field(obj: Fields, key: string): unknown {
  return obj[key];
}

/** Whether `key` is present (not undefined: JSON drops undefined). */
export function has(obj: Fields, key: string): boolean {
  return obj[key] !== undefined;
}

/** Whether `v` is a plain object (a JSON object). */
export function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` as Python's repr() shows it in messages: `'xdp'`, `5`, `None`, `True`. */
export function repr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }
  if (Array.isArray(v)) return `[${v.map(repr).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${repr(k)}: ${repr(x)}`).join(', ')}}`;
  return String(v);
}

/** `v` as text the way a name field takes it (`null` reads `None`). */
export function text(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return typeof v === 'string' ? v : typeof v === 'object' ? repr(v) : String(v);
}

/** An integer field; `dflt` when absent or null. */
export function intField(obj: Fields, name: string, dflt: number): number {
  const v = obj[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw inputError(`${name} must be an integer`);
  return v;
}

const HEX = /^[0-9a-fA-F]*$/;

/** Bytes of a hex field (empty when absent or null). */
export function parseHex(value: unknown, what: string): Uint8Array {
  if (value === undefined || value === null) return new Uint8Array(0);
  if (typeof value !== 'string') throw inputError(`${what} must be a hex string`);
  let t = /\s/.test(value) ? value.replace(/\s+/g, '') : value;
  if (t.startsWith('0x') || t.startsWith('0X')) t = t.slice(2);
  if (t.length % 2 !== 0 || !HEX.test(t)) throw inputError(`${what} is not valid hex`);
  return Buffer.from(t, 'hex');
}

/** Lowercase hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/**
 * The number of an enum value: a number as is, or a name from `table`
 * (its index), after lowercasing, removing `prefix` and mapping `aliases`;
 * a string of digits is its number.
 */
export function lookupEnum(value: unknown, table: readonly string[], aliases: Readonly<Record<string, string>>, prefix: string, what: string): number {
  if (typeof value === 'boolean') throw inputError(`bad ${what}: ${repr(value)}`);
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    let name = value.trim().toLowerCase();
    if (name.startsWith(prefix)) name = name.slice(prefix.length);
    name = aliases[name] ?? name;
    const i = table.indexOf(name);
    if (i >= 0) return i;
    if (/^\d+$/.test(name)) return Number(name);
  }
  throw inputError(`unknown ${what} ${repr(value)} (known: ${table.slice(1).join(', ')})`);
}

/** A flags field: a number, a name, or a list of names and numbers ORed together (0 when absent). */
export function flagsNum(value: unknown, table: Readonly<Record<string, number>>, what: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'boolean') throw inputError(`bad ${what}: ${repr(value)}`);
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw inputError(`bad ${what}: ${repr(value)}`);
  let total = 0;
  for (const item of list) {
    if (typeof item === 'number' && Number.isInteger(item)) {
      total |= item;
      continue;
    }
    let name = text(item).trim().toLowerCase();
    if (name.startsWith('bpf_f_')) name = name.slice('bpf_f_'.length);
    const bit = table[name];
    if (bit === undefined) throw inputError(`unknown ${what} ${repr(item)} (known: ${Object.keys(table).sort().join(', ')})`);
    total |= bit;
  }
  return total >>> 0;
}
