import { describe, expect, it } from 'vitest';
import { Btf } from './btf.js';
import { parseBtfExt } from './btf-ext.js';
import { readElf } from './elf.js';
import { LoaderError } from './loader-error.js';
import { parseObject } from './object.js';
import { fixture, fixturePath, kernelUnavailable, libbpfLoad, run } from '../../test/support/loader-tools.js';

function parts(name: string): { btf: Btf; ext: Uint8Array } {
  const elf = readElf(fixture(name));
  const btf = Btf.parse(elf.sections.find((s) => s.name === '.BTF')!.data);
  return { btf, ext: elf.sections.find((s) => s.name === '.BTF.ext')!.data };
}

describe('.BTF.ext', () => {
  it('reads func_info, line_info and CO-RE records per section', () => {
    const { btf, ext } = parts('core.o');
    const e = parseBtfExt(ext, btf);
    expect(e.funcInfo.map((s) => s.section)).toEqual(['kprobe/do_nanosleep', 'tc']);
    expect(e.funcInfo[0]!.records.map((r) => btf.typeById(r.typeId).name)).toEqual(['core_reads']);
    expect(e.lineInfo[0]!.records[0]).toMatchObject({ insnOff: 0, fileName: './core.c' });
    expect(e.lineInfo[0]!.records.every((r) => r.lineNum > 0 && r.line.length > 0)).toBe(true);
    expect(e.coreRelos.map((s) => [s.section, s.records.length])).toEqual([['kprobe/do_nanosleep', 33], ['tc', 7]]);
    expect(e.coreRelos[0]!.records[0]).toMatchObject({ insnOff: 16, accessStr: '0:0', kind: 0 });
  });

  it('rejects malformed .BTF.ext with a LoaderError', () => {
    const { btf, ext } = parts('subprogs.o');
    const patch = (at: number, v: number): Uint8Array => {
      const c = ext.slice();
      new DataView(c.buffer).setUint32(at, v, true);
      return c;
    };
    const hdrLen = new DataView(ext.buffer, ext.byteOffset).getUint32(4, true);
    const funcOff = new DataView(ext.buffer, ext.byteOffset).getUint32(8, true);
    const cases: [Uint8Array, RegExp][] = [
      [ext.subarray(0, 4), /header not found/],
      [patch(0, 0x1111), /invalid magic/],
      [patch(4, 1000000), /header length 1000000 is larger/],
      [patch(12, 1 << 24), /beyond the end of .BTF.ext/],
      [patch(hdrLen + funcOff, 3), /invalid record size 3/],
      [patch(hdrLen + funcOff + 4, 1 << 30), /string offset \d+ is outside/],
      [patch(hdrLen + funcOff + 8, 1 << 20), /claims \d+ records/],
    ];
    for (const [bytes, re] of cases) {
      let err: unknown;
      try {
        parseBtfExt(bytes, btf, { file: 'f.o', offset: 10 });
      } catch (e) {
        err = e;
      }
      expect(err, String(re)).toBeInstanceOf(LoaderError);
      expect((err as Error).message).toMatch(re);
      expect((err as LoaderError).location.section).toBe('.BTF.ext');
    }
  });

  it.each(['subprogs.o', 'linked_abc.o', 'link_b.o'])('%s: per-program source lines match the kernel\'s (bpftool prog dump xlated linum)', (name) => {
    const why = kernelUnavailable();
    const spec = parseObject(fixture(name), { name });
    for (const p of spec.programs) {
      expect(p.lineInfo.length).toBeGreaterThan(0);
      expect(p.lineInfo[0]!.slot).toBe(0);
      expect(p.funcInfo.map((f) => f.slot)).toEqual(p.functions.map((f) => f.slot));
      expect(p.funcInfo.map((f) => f.name)).toEqual(p.functions.map((f) => f.name));
    }
    if (why) {
      console.log(`skipped the kernel comparison: ${why}`);
      return;
    }
    const load = libbpfLoad(fixturePath(name), (dir, l) => {
      for (const p of spec.programs) {
        const prog = l.programs.find((x) => x.name === p.name);
        expect(prog, p.name).toBeDefined();
        const r = run('bpftool', ['-j', 'prog', 'dump', 'xlated', 'id', String(prog!.id), 'linum']);
        expect(r.ok, r.stderr).toBe(true);
        const kernel = (JSON.parse(r.stdout) as { src?: string; file?: string; line_num?: number; line_col?: number }[])
          .filter((x) => x.src !== undefined).map((x) => [x.file, x.line_num, x.line_col ?? 0, x.src]);
        const ours = p.lineInfo.map((l) => [l.file, l.line, l.column, l.source.trimStart()]);
        expect(ours, p.name).toEqual(kernel);
      }
      void dir;
    });
    expect(load.ok, load.stderr).toBe(true);
  });
});
