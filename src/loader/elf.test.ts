import { describe, expect, it } from 'vitest';
import { LoaderError } from './loader-error.js';
import { readElf } from './elf.js';
import { fixture, fixtureObjects, fixturePath, missing, run } from '../../test/support/loader-tools.js';

interface ReadelfJson {
  Sections: { Section: { Index: number; Name: { Name: string }; Type: { Value: number }; Flags: { Value: number }; Offset: number; Size: number; Link: number; Info: number; AddressAlignment: number; EntrySize: number } }[];
  Symbols: { Symbol: { Name: { Name: string }; Value: number; Size: number; Binding: { Value: number }; Type: { Value: number }; Other: { Value: number }; Section: { Value: number } } }[];
  Relocations: { SectionIndex: number; Relocs: { Relocation: { Offset: number; Type: { Value: number }; Symbol: { Value: number } } }[] }[];
}

describe('ELF reader', () => {
  const noReadelf = missing('llvm-readelf-19');
  it.each(fixtureObjects())('%s: sections, symbols and relocations match llvm-readelf-19', (name) => {
    if (noReadelf) {
      console.log(`skipped: ${noReadelf}`);
      return;
    }
    const r = run('llvm-readelf-19', ['--elf-output-style=JSON', '-S', '-s', '-r', fixturePath(name)]);
    expect(r.ok, r.stderr).toBe(true);
    const oracle = (JSON.parse(r.stdout) as ReadelfJson[])[0]!;
    const elf = readElf(fixture(name), { file: name });
    expect(elf.sections.map((s) => [s.index, s.name, s.type >>> 0, s.flags >>> 0, s.offset, s.size, s.link, s.info, s.addralign, s.entsize]))
      .toEqual(oracle.Sections.map(({ Section: s }) => [s.Index, s.Name.Name, s.Type.Value >>> 0, s.Flags.Value >>> 0, s.Offset, s.Size, s.Link, s.Info, s.AddressAlignment, s.EntrySize]));
    expect(elf.symbols.map((s) => [s.type === 3 && s.name === '' ? elf.sections[s.shndx]!.name : s.name, s.value, s.size, s.bind, s.type, s.visibility, s.shndx]))
      .toEqual(oracle.Symbols.map(({ Symbol: s }) => [s.Name.Name, s.Value, s.Size, s.Binding.Value, s.Type.Value, s.Other.Value & 3, s.Section.Value]));
    expect(elf.relocations.map((rs) => [rs.index, rs.entries.map((e) => [e.offset, e.type, e.symbol])]))
      .toEqual(oracle.Relocations.map((rs) => [rs.SectionIndex, rs.Relocs.map(({ Relocation: e }) => [e.Offset, e.Type.Value, e.Symbol.Value])]));
    for (const s of elf.sections) {
      if (s.type !== 8 && s.type !== 0) expect(s.data.length).toBe(s.size);
    }
  });

  it('refuses big-endian objects with a clear error', () => {
    const bytes = fixture('subprogs.o').slice();
    bytes[5] = 2;
    expect(() => readElf(bytes, { file: 'be.o' })).toThrow(/big-endian objects are not supported/);
    try {
      readElf(bytes, { file: 'be.o' });
    } catch (e) {
      expect(e).toBeInstanceOf(LoaderError);
      expect((e as LoaderError).location).toMatchObject({ file: 'be.o', offset: 5 });
    }
  });

  it('refuses 32-bit, non-ELF, non-relocatable and non-BPF files', () => {
    const base = fixture('subprogs.o');
    const with_ = (at: number, v: number): Uint8Array => {
      const b = base.slice();
      b[at] = v;
      return b;
    };
    expect(() => readElf(new TextEncoder().encode('hello world'))).toThrow(/not an ELF file/);
    expect(() => readElf(with_(4, 1))).toThrow(/32-bit ELF/);
    expect(() => readElf(with_(16, 2))).toThrow(/not a relocatable object/);
    expect(() => readElf(with_(18, 62))).toThrow(/not a BPF object \(e_machine 62/);
  });

  it('names the place of every truncation', () => {
    const base = fixture('globals.o');
    for (const len of [0, 3, 10, 40, 63, 64, 200, base.length - 1]) {
      let err: unknown;
      try {
        readElf(base.subarray(0, len), { file: 'cut.o' });
      } catch (e) {
        err = e;
      }
      expect(err, `length ${len}`).toBeInstanceOf(LoaderError);
      expect((err as LoaderError).location.file).toBe('cut.o');
    }
  });

  it('rejects bad section headers', () => {
    const base = fixture('globals.o');
    const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const shoff = Number(view(base).getBigUint64(40, true));
    // A section whose contents extend past the end of the file.
    const b1 = base.slice();
    view(b1).setBigUint64(shoff + 3 * 64 + 32, 1n << 40n, true);
    expect(() => readElf(b1, { file: 'x.o' })).toThrow(/section 3 contents .* extend past the end of the file/);
    // A section name outside the string table.
    const b2 = base.slice();
    view(b2).setUint32(shoff + 3 * 64, 0xffffff, true);
    expect(() => readElf(b2)).toThrow(/name of section 3: string offset \d+ is outside the string table/);
    // A section header table past the end.
    const b3 = base.slice();
    view(b3).setBigUint64(40, BigInt(base.length), true);
    expect(() => readElf(b3)).toThrow(/section header 0 at offset \d+ is outside the file/);
    // A relocation section pointing at a missing section.
    const elf = readElf(base);
    const rel = elf.relocations[0]!;
    const b4 = base.slice();
    view(b4).setUint32(shoff + rel.index * 64 + 44, 999, true);
    expect(() => readElf(b4)).toThrow(/applies to section 999, which does not exist/);
    // A relocation naming a symbol that does not exist.
    const relSec = elf.sections[rel.index]!;
    const b5 = base.slice();
    view(b5).setUint32(relSec.offset + 12, 5000, true);
    expect(() => readElf(b5)).toThrow(/refers to symbol 5000/);
    // A symbol in a section that does not exist.
    const symtab = elf.sections[elf.symtabIndex]!;
    const b6 = base.slice();
    view(b6).setUint16(symtab.offset + 24 * 3 + 6, 900, true);
    expect(() => readElf(b6)).toThrow(/symbol 3 refers to section 900/);
  });
});
