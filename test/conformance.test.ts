/**
 * The public eBPF conformance suite (test/fixtures/conformance) on every engine,
 * one vitest test per file, plus the CLI's summary line.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runConformanceText } from '../src/conformance/run-conformance.js';
import { ENGINE_NAMES, engineByName } from '../src/engines.js';
import { tsbpf } from './support/cli.js';

const DIR = fileURLToPath(new URL('./fixtures/conformance/', import.meta.url));
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.data')).sort() : [];

it('the repository holds the conformance data and its licence', () => {
  expect(files.length).toBeGreaterThanOrEqual(313);
  expect(existsSync(join(DIR, 'LICENSE'))).toBe(true);
  expect(existsSync(join(DIR, 'FORMAT.md'))).toBe(true);
});

describe.skipIf(files.length === 0)('eBPF conformance suite', () => {
  for (const engineName of ENGINE_NAMES) {
    describe(`engine ${engineName}`, () => {
      const engine = engineByName(engineName);
      it.each(files)('%s', (file) => {
        const outcome = runConformanceText(readFileSync(join(DIR, file), 'utf8'), file, engine);
        expect(outcome.reason ?? '').toBe('');
        expect(outcome.passed).toBe(true);
      });
    });
  }

  it('tsbpf conformance prints failures and the summary line', () => {
    for (const engineName of ENGINE_NAMES) {
      const r = tsbpf('conformance', DIR, '--engine', engineName);
      expect(r.stdout.trim().split('\n').at(-1)).toBe(`${files.length} passed, 0 failed`);
      expect(r.status).toBe(0);
    }
  });
});
