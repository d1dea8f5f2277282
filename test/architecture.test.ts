/**
 * The layering rules of DESIGN.md, checked on the source tree: imports only
 * go downward, and the portable core uses no Node built-ins.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Rank of each top-level part of src/; a file may import equal or lower ranks only. */
const RANK: Record<string, number> = {
  'errors.ts': 0, isa: 0, asm: 1, cbpf: 2, vm: 3, jit: 4, verifier: 5, loader: 6, capture: 7, hooks: 7,
  conformance: 8, runtime: 8, 'engines.ts': 8, 'index.ts': 9, 'low-level.ts': 9, node: 10, cli: 11,
};
const CORE = new Set(['errors.ts', 'isa', 'asm', 'cbpf', 'vm', 'jit', 'verifier', 'loader', 'capture', 'hooks', 'conformance', 'runtime', 'engines.ts', 'index.ts', 'low-level.ts']);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      out.push(...sources(p));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
      out.push(p);
    }
  }
  return out;
}

function part(file: string): string {
  return relative(SRC, file).split('/')[0]!;
}

const files = sources(SRC);

describe('architecture', () => {
  it('knows the layer of every part of src/', () => {
    const unknown = [...new Set(files.map(part))].filter((p) => !(p in RANK));
    expect(unknown).toEqual([]);
  });

  it('imports only go to the same or lower layers', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = part(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = part(join(file, '..', m[1]!)).replace(/\.js$/, '.ts');
        if ((RANK[target] ?? 99) > (RANK[from] ?? -1)) violations.push(`${relative(SRC, file)} imports ${m[1]} (${target} is above ${from})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the core uses no Node built-ins', () => {
    const violations: string[] = [];
    for (const file of files.filter((f) => CORE.has(part(f)))) {
      // Comments may name Node things; only code counts.
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      if (/from 'node:|require\(|\bprocess\.|\bBuffer\./.test(text)) violations.push(relative(SRC, file));
    }
    expect(violations).toEqual([]);
  });
});
