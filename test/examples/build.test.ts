/**
 * The committed example objects, input packets and manifest are exactly
 * what examples/build.sh and examples/expectations.py make from the
 * sources: rebuilt in a scratch copy of examples/, every file must come out
 * byte for byte the same. Skips, with a printed reason, without clang-19 or
 * llvm-readelf-19.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLES_DIR } from './manifest.js';

function has(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

const tools = has('clang-19', ['--version']) && has('llvm-readelf-19', ['--version']) && has('python3', ['--version']);
if (!tools) console.log('skipping the examples rebuild check: clang-19, llvm-readelf-19 or python3 is missing');

describe.skipIf(!tools)('examples rebuild', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'tsbpf-examples-'));
  const copy = join(scratch, 'examples');
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('build.sh and expectations.py reproduce every committed object, packet and the manifest', () => {
    cpSync(EXAMPLES_DIR, copy, { recursive: true });
    // Only the sources stay: everything compared must be made anew.
    for (const f of readdirSync(copy)) if (f.endsWith('.o') || f === 'examples.json') rmSync(join(copy, f));
    for (const f of readdirSync(join(copy, 'inputs'))) if (f.endsWith('.bin')) rmSync(join(copy, 'inputs', f));
    const build = spawnSync('sh', [join(copy, 'build.sh')], { encoding: 'utf8', timeout: 300_000 });
    expect(build.status, build.stderr).toBe(0);
    const manifest = spawnSync('python3', [join(copy, 'expectations.py')], { encoding: 'utf8', timeout: 120_000 });
    expect(manifest.status, manifest.stderr).toBe(0);

    const files = [
      ...readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.o') || f === 'examples.json'),
      ...readdirSync(join(EXAMPLES_DIR, 'inputs')).filter((f) => f.endsWith('.bin')).map((f) => join('inputs', f)),
    ];
    expect(files.length).toBeGreaterThan(40);
    const differ = files.filter((f) => !readFileSync(join(EXAMPLES_DIR, f)).equals(readFileSync(join(copy, f))));
    expect(differ, 'rebuild examples/ (examples/build.sh, then python3 examples/expectations.py)').toEqual([]);
  });
});
