/**
 * The library's public surface (docs/api.md): small, documented, and the
 * generated reference in docs/api.md current with the doc comments.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENTRY_POINTS, collectApi, renderApi, updatedApiDoc } from '../scripts/api-docs.js';
import * as tsbpf from '../src/index.js';

const root = new URL('../', import.meta.url);
const api = collectApi();

describe('public API', () => {
  it('docs/api.md holds the reference generated from the current doc comments', () => {
    const current = readFileSync(new URL('docs/api.md', root), 'utf8');
    expect(updatedApiDoc(current, renderApi(api)), 'docs/api.md is stale: run npm run docs:api').toBe(current);
  });

  it('every export of every entry point has a doc comment', () => {
    const undocumented = [...api].flatMap(([subpath, entries]) => entries.filter((e) => e.summary === '').map((e) => `${subpath}: ${e.name}`));
    expect(undocumented).toEqual([]);
  });

  it('the main entry point is a designed surface, not every internal', () => {
    const names = api.get('tsbpf')!.map((e) => e.name);
    expect(names.length).toBeLessThan(160);
    for (const internal of ['jhash', 'REGFILE_SIZE', 'EntryPool', 'HelperTable', 'AddressSpace', 'readElf', 'objectMapProblems', 'MAP_DESCRIPTOR_SIZE']) {
      expect(names, internal).not.toContain(internal);
    }
    // what the README and docs/api.md show is there
    for (const used of ['assemble', 'Machine', 'prepareProgram', 'interpret', 'parseObject', 'loadCollection', 'dumpMaps', 'CaptureReader', 'PacketStream', 'jitEngine', 'verifyObjectProgram', 'compileFilter']) {
      expect(names, used).toContain(used);
    }
    // the value exports the reference lists are the module's real exports
    const values = Object.keys(tsbpf).sort();
    const listedValues = api.get('tsbpf')!.filter((e) => !['interface', 'type'].includes(e.kind)).map((e) => e.name).sort();
    expect(values).toEqual(listedValues);
  });

  it('package.json exports every entry point from dist/', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    for (const { subpath, file } of ENTRY_POINTS) {
      const key = subpath === 'tsbpf' ? '.' : `./${subpath.slice('tsbpf/'.length)}`;
      const js = `./${file.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')}`;
      expect(pkg.exports[key], key).toEqual({ types: js.replace(/\.js$/, '.d.ts'), default: js });
    }
  });
});
