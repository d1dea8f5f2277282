/**
 * Reader of the eBPF conformance test format (`test/fixtures/conformance`,
 * upstream bpf_conformance): sections `-- asm`, `-- mem`, `-- result`,
 * `-- raw`, `-- error`, `-- c`, `-- no register offset`.
 */
import { TsbpfError } from '../errors.js';

/** One parsed conformance test. */
export interface ConformanceTest {
  /** The program text (`-- asm`), comments removed, with original line numbers. */
  asm: { text: string; firstLine: number };
  /** Input memory (`-- mem`), or null when absent. */
  mem: Uint8Array | null;
  /** Expected r0 (`-- result`), or null. */
  result: bigint | null;
  /** Pre-encoded instruction words (`-- raw`), or null. */
  raw: bigint[] | null;
  /** Expected error text (`-- error`), or null. */
  error: string | null;
}

/** A malformed conformance file. */
export class ConformanceFormatError extends TsbpfError {}

/** Parses one conformance file. `file` is used in error messages only. */
export function parseConformance(text: string, file?: string): ConformanceTest {
  const sections = new Map<string, { lines: string[]; start: number }>();
  let current: { lines: string[]; start: number } | null = null;
  const lines = text.split('\n');
  lines.forEach((rawLine, i) => {
    const cut = rawLine.replace(/\r$/, '');
    const hash = cut.indexOf('#');
    const line = (hash >= 0 ? cut.slice(0, hash) : cut).trim();
    const header = /^--\s*(.*?)\s*$/.exec(line);
    if (header && line.startsWith('--')) {
      current = { lines: [], start: i + 2 };
      sections.set(header[1]!, current);
      return;
    }
    if (current) current.lines.push(line);
  });
  const asm = sections.get('asm');
  if (!asm) throw new ConformanceFormatError('no `-- asm` section', { file });
  const body = (name: string) => sections.get(name)?.lines.filter((l) => l !== '') ?? null;

  const memLines = body('mem');
  let mem: Uint8Array | null = null;
  if (memLines) {
    const bytes = memLines.join(' ').split(/\s+/).filter((t) => t !== '');
    mem = new Uint8Array(bytes.length);
    bytes.forEach((tok, i) => {
      if (!/^[0-9a-fA-F]{2}$/.test(tok)) {
        throw new ConformanceFormatError(`-- mem: '${tok}' is not a two-digit hex byte`, { file, line: sections.get('mem')!.start });
      }
      mem![i] = parseInt(tok, 16);
    });
  }
  const resultLines = body('result');
  let result: bigint | null = null;
  if (resultLines && resultLines.length > 0) {
    const tok = resultLines[0]!;
    try {
      result = BigInt.asUintN(64, BigInt(tok));
    } catch {
      throw new ConformanceFormatError(`-- result: '${tok}' is not a number`, { file, line: sections.get('result')!.start });
    }
  }
  const rawLines = body('raw');
  const raw = rawLines ? rawLines.map((tok) => {
    try {
      return BigInt.asUintN(64, BigInt(tok));
    } catch {
      throw new ConformanceFormatError(`-- raw: '${tok}' is not a 64-bit number`, { file, line: sections.get('raw')!.start });
    }
  }) : null;
  const errorLines = body('error');
  return {
    asm: { text: '\n'.repeat(asm.start - 1) + asm.lines.join('\n'), firstLine: asm.start },
    mem,
    result,
    raw,
    error: errorLines && errorLines.length ? errorLines.join(' ').trim() : null,
  };
}

/** Little-endian bytes of `-- raw` instruction words. */
export function rawToBytes(words: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(words.length * 8);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setBigUint64(i * 8, w, true));
  return out;
}
