/**
 * The conformance data as assembler input: every `-- asm` section of
 * test/fixtures/conformance/*.data assembles (conformance syntax, also detected
 * automatically), `-- raw` words equal our bytes, and disassembling then
 * reassembling gives the same bytes in both syntaxes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble, disassemble } from './index.js';

const DIR = join(import.meta.dirname, '../../test/fixtures/conformance');
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.data')).sort() : [];
if (!files.length) console.log(`conformance assembly tests skipped: no *.data files in ${DIR}`);

/** The sections of a file; section text keeps its original line numbers (other lines blank). */
function sections(text: string): Map<string, string> {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '').split('#')[0]!);
  const out = new Map<string, string[]>();
  let current: string | undefined;
  lines.forEach((line, i) => {
    if (line.includes('--')) {
      current = line.replace(/^.*--\s*/, '').trim();
      out.set(current, lines.map(() => ''));
      return;
    }
    if (current) out.get(current)![i] = line;
  });
  return new Map([...out].map(([k, v]) => [k, v.join('\n')]));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe.skipIf(!files.length)('conformance data', () => {
  it(`has the ${files.length} test files`, () => {
    expect(files.length).toBe(313);
  });

  it('assembles every -- asm section, reassembles its disassembly, and detects its syntax', () => {
    let insns = 0;
    for (const file of files) {
      const asm = sections(readFileSync(join(DIR, file), 'utf8')).get('asm');
      expect(asm, file).toBeDefined();
      const prog = assemble(asm!, { syntax: 'conformance', file });
      expect(prog.insns.length, file).toBeGreaterThan(0);
      expect(hex(assemble(asm!, { file }).bytes), `${file} (auto)`).toBe(hex(prog.bytes));
      for (const syntax of ['conformance', 'llvm'] as const) {
        for (const labels of [false, true]) {
          const text = disassemble(prog.bytes, { syntax, labels });
          expect(hex(assemble(text, { syntax }).bytes), `${file} via ${syntax}${labels ? ' with labels' : ''}`).toBe(hex(prog.bytes));
        }
      }
      insns += prog.bytes.length / 8;
    }
    expect(insns).toBe(2762); // FORMAT.md: 2,762 instruction slots
  });

  it('matches the -- raw words of lddw.data', () => {
    const s = sections(readFileSync(join(DIR, 'lddw.data'), 'utf8'));
    const words = s.get('raw')!.split('\n').map((l) => l.trim()).filter(Boolean).map((w) => BigInt(w));
    const raw = new Uint8Array(words.length * 8);
    const view = new DataView(raw.buffer);
    words.forEach((w, i) => view.setBigUint64(i * 8, w, true));
    expect(hex(assemble(s.get('asm')!, { syntax: 'conformance' }).bytes)).toBe(hex(raw));
  });

  it('resolves the implicit exit label to the first exit', () => {
    const prog = assemble('jne %r0, 0, exit\nmov %r0, 1\nexit\nexit\n', { syntax: 'conformance' });
    expect(prog.insns[0]).toMatchObject({ kind: 'jmp', off: 1 });
  });
});
