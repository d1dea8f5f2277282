/**
 * Builds dist/ before the tests when any source is newer than the build, so
 * CLI tests always run the current code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  const built = 'dist/cli/main.js';
  if (existsSync(built) && statSync(built).mtimeMs >= newest('src')) return;
  // Type errors are reported by `npm test`'s type check; tsc still emits JavaScript for the CLI tests.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
  spawnSync('node', ['scripts/bundle-worker.mjs'], { stdio: 'ignore' });
}
