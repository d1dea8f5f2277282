import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoaderError } from './loader-error.js';
import { linkObjects } from './linker.js';
import { parseObject } from './object.js';
import type { ObjectSpec } from './spec.js';
import { fixture, fixturePath, missing, run, tempDir } from '../../test/support/loader-tools.js';

/** What must agree between two specs: programs (after linking and relocation) and maps. */
function essence(spec: ObjectSpec): unknown {
  return {
    programs: spec.programs.map((p) => ({
      name: p.name, section: p.section, type: p.typeName, insns: Buffer.from(p.insns).toString('hex'),
      relocations: p.relocations, functions: p.functions.map((f) => [f.name, f.slot, f.slots]),
      lines: p.lineInfo.map((l) => [l.slot, l.file, l.line, l.column, l.source]),
      funcInfo: p.funcInfo.map((f) => [f.slot, f.name]),
    })),
    maps: spec.maps.map((m) => ({
      name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags,
      kind: m.kind, initialData: m.initialData ? Buffer.from(m.initialData).toString('hex') : undefined, initialValues: m.initialValues,
      key: m.btfKeyTypeId ? spec.btf!.describe(m.btfKeyTypeId) : undefined, value: m.btfValueTypeId ? spec.btf!.describe(m.btfValueTypeId) : undefined,
    })),
    license: spec.license,
  };
}

const input = (n: string): { bytes: Uint8Array; name: string } => ({ bytes: fixture(n), name: n });

describe('static linker', () => {
  it('link_a + link_b + link_c: same programs and maps as bpftool gen object (committed output)', () => {
    const ours = linkObjects(['link_a.o', 'link_b.o', 'link_c.o'].map(input), { name: 'linked_abc.o' });
    const theirs = parseObject(fixture('linked_abc.o'), { name: 'linked_abc.o' });
    expect(essence(ours)).toEqual(essence(theirs));
    const a = ours.programs.find((p) => p.name === 'entry_a')!;
    // The weak maybe() of link_a.o lost to link_c.o's strong one; static helpers of a and b stay apart.
    expect(a.functions.map((f) => f.name)).toEqual(['entry_a', 'helper', 'shared_fn', 'helper', 'maybe']);
    const maybe = a.lineInfo.find((l) => l.slot === a.functions[4]!.slot)!;
    expect(maybe.file).toBe('./link_c.c');
  });

  it.each([
    [['link_a.o', 'link_b.o', 'link_c.o']],
    [['link_c.o', 'link_b.o', 'link_a.o']],
    [['link_b.o', 'link_a.o', 'link_c.o']],
    [['subprogs.o']],
    [['globals_11.o', 'subprogs.o']],
  ])('%j: same as bpftool gen object run now', (names) => {
    const ours = linkObjects(names.map(input), { name: 'out.o' });
    const why = missing('bpftool');
    if (why) {
      console.log(`skipped: ${why}`);
      return;
    }
    const dir = tempDir();
    const r = run('bpftool', ['gen', 'object', join(dir, 'out.o'), ...names.map(fixturePath)]);
    expect(r.ok, r.stderr).toBe(true);
    const theirs = parseObject(new Uint8Array(readFileSync(join(dir, 'out.o'))), { name: 'out.o' });
    expect(essence(ours)).toEqual(essence(theirs));
  });

  it('a single object links to itself (CO-RE included)', () => {
    for (const name of ['core.o', 'maps.o', 'globals.o']) {
      expect(essence(linkObjects([input(name)], { name }))).toEqual(essence(parseObject(fixture(name), { name })));
    }
  });

  it('refuses conflicting definitions and keeps unresolved externs an error', () => {
    const both = (): ObjectSpec => linkObjects([input('link_b.o'), input('link_b.o')]);
    expect(both).toThrow(LoaderError);
    expect(both).toThrow(/conflicting non-weak symbol #\d+ \(\w+\) definition/);
    // An unresolved extern fails the programs that use it, not the object.
    const ac = linkObjects([input('link_a.o'), input('link_c.o')]);
    const failed = ac.programs.filter((p) => p.loadError !== undefined);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.loadError!.message).toMatch(/extern function 'shared_fn' is not defined|unrecognized extern section '.maps'/);
    expect(() => linkObjects([])).toThrow(/nothing to link/);
  });
});
