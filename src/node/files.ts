/**
 * Host adapter: reads programs and data from files for the CLI. Everything
 * here turns file-system failures into {@link TsbpfError}s that name the file.
 */
import { readFileSync, statSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { assemble } from '../asm/index.js';
import { TsbpfError } from '../errors.js';

/** A program read from a file. */
export interface ProgramFile {
  bytes: Uint8Array;
  /** Source line of each slot's instruction, when the file was assembly. */
  lines?: number[];
  format: 'binary' | 'assembly';
}

/** Reads a whole file, or throws a one-line error naming it. */
export function readFileBytes(path: string): Uint8Array {
  try {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new TsbpfError(`cannot read file: ${describeFsError(err)}`, { file: path });
  }
}

/** Reads a text file. */
export function readTextFile(path: string): string {
  return new TextDecoder().decode(readFileBytes(path));
}

function describeFsError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = String((err as { code: unknown }).code);
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EISDIR') return 'is a directory';
    if (code === 'EACCES') return 'permission denied';
    return code;
  }
  return String(err);
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/**
 * Loads a program: `.bin`/`.raw` files are raw instructions, `.s`/`.asm`
 * assembly in either syntax; other names are sniffed (text is assembled).
 */
export function loadProgramFile(path: string, syntax: 'auto' | 'llvm' | 'conformance' = 'auto'): ProgramFile {
  const data = readFileBytes(path);
  const ext = extname(path).toLowerCase();
  if (ELF_MAGIC.every((b, i) => data[i] === b)) {
    throw new TsbpfError('this is an ELF object: use `tsbpf prog run` / `tsbpf prog load` for objects', { file: path });
  }
  const isBinary = ext === '.bin' || ext === '.raw' || (ext !== '.s' && ext !== '.asm' && !looksLikeText(data));
  if (isBinary) return { bytes: data, format: 'binary' };
  const text = new TextDecoder().decode(data);
  const program = assemble(text, { syntax, file: path });
  return { bytes: program.bytes, lines: program.lines, format: 'assembly' };
}

function looksLikeText(data: Uint8Array): boolean {
  const n = Math.min(data.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = data[i]!;
    if (c === 0 || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) return false;
  }
  return true;
}

/** Parses hex bytes (`"01 02 ff"`, `"0102ff"`, `0x` prefix allowed) or throws naming the position. */
export function parseHex(text: string, what = 'hex data'): Uint8Array {
  const clean = text.replace(/^0x/i, '').replace(/[\s:,]+/g, '');
  if (clean.length % 2 !== 0) throw new TsbpfError(`${what}: odd number of hex digits (${clean.length})`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    const pair = clean.slice(2 * i, 2 * i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) throw new TsbpfError(`${what}: '${pair}' at byte ${i} is not hex`);
    out[i] = parseInt(pair, 16);
  }
  return out;
}

/** Expands files and folders into the list of files ending with `ext`, sorted. */
export function collectFiles(paths: readonly string[], ext: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let stat;
    try {
      stat = statSync(p);
    } catch (err) {
      throw new TsbpfError(`cannot read: ${describeFsError(err)}`, { file: p });
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name.endsWith(ext)) out.push(join(p, name));
      }
    } else {
      out.push(p);
    }
  }
  return out;
}
