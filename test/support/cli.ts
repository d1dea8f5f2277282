/** Runs the built `tsbpf` command and captures its output. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of the built CLI entry point. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** What one CLI run printed. */
export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `tsbpf ...args`. */
export function tsbpf(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary folder. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tsbpf-cli-'));
}

/** Writes `content` to `name` inside `dir` and returns its path. */
export function writeTemp(dir: string, name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
