/**
 * The README's examples run as written on a fresh clone: the repository is
 * cloned into an empty folder (the committed tree, nothing from this
 * checkout but its installed node_modules, which a clone gets from `npm
 * ci`), built as `npm install` builds it (the `prepare` script), and every
 * `npx tsbpf ...` line of the README runs there with exit status 0. The
 * clone is alone in its folder, so a line that needs anything from outside
 * the repository fails here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every `npx tsbpf ...` command line of the README, comments cut. */
function readmeCommands(): string[] {
  return readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n')
    .filter((l) => /^\s*npx tsbpf /.test(l))
    .map((l) => l.replace(/\s+#.*$/, '').trim());
}

const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8' });
const canClone = git.status === 0 && git.stdout.trim() === 'true' && existsSync(join(ROOT, 'node_modules'));
if (!canClone) console.log('skipping the README-on-a-fresh-clone test: this tree is not a git checkout with node_modules');

describe.skipIf(!canClone)('the README on a fresh clone', () => {
  it('every npx tsbpf line runs as written', () => {
    const commands = readmeCommands();
    expect(commands.length).toBeGreaterThanOrEqual(10);
    const dir = join(mkdtempSync(join(tmpdir(), 'tsbpf-readme-')), 'tsbpf');
    const clone = spawnSync('git', ['clone', '-q', '--depth', '1', `file://${ROOT}`, dir], { encoding: 'utf8' });
    expect(clone.status, clone.stderr).toBe(0);
    // the clone is alone in its folder: a line that needs anything beside the repository fails here
    expect(readdirSync(dirname(dir))).toEqual(['tsbpf']);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const build = spawnSync('npm', ['run', '-s', 'prepare'], { cwd: dir, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    for (const command of commands) {
      const r = spawnSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${command}\n${r.stderr}`).toBe(0);
      expect(r.stderr, command).not.toMatch(/internal error|\n\s+at /);
    }
  }, 300_000);
});
