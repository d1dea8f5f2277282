/**
 * The WAT printer against wabt (an independent implementation): the text
 * of every generated module parses, and assembles into exactly the bytes of
 * our encoder (the name section aside, which wat2wasm does not emit).
 */
import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../asm/index.js';
import { encodeProgram } from '../../isa/encode.js';
import { prepareProgram } from '../../vm/prepared-program.js';
import type { PreparedProgram } from '../../vm/prepared-program.js';
import type { Machine } from '../../vm/machine.js';
import { compileToWasm, programToWat } from '../index.js';
import { fuzzMachine, randomProgram } from '../../../test/jit/random-programs.js';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabt: Wabt;
beforeAll(async () => { wabt = await wabtInit(); });

/** Non-custom sections as hex, in order. */
function sections(b: Uint8Array): string[] {
  const out: string[] = [];
  let i = 8;
  while (i < b.length) {
    const id = b[i++]!;
    let size = 0;
    let shift = 0;
    let byte: number;
    do { byte = b[i++]!; size += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    if (id !== 0) out.push(`${id}:${Buffer.from(b.subarray(i, i + size)).toString('hex')}`);
    i += size;
  }
  return out;
}

function roundTrip(prog: PreparedProgram, options: { checked: boolean; shared: boolean; role: 'entry' | 'tail'; machine?: Machine }): void {
  const wat = programToWat(prog, options);
  const mod = wabt.parseWat('prog.wat', wat, { threads: true, tail_call: true });
  const { buffer } = mod.toBinary({ canonicalize_lebs: true });
  mod.destroy();
  const mine = compileToWasm(prog, options).bytes;
  expect(WebAssembly.validate(mine as Uint8Array<ArrayBuffer>)).toBe(true);
  expect(sections(buffer)).toEqual(sections(mine));
}

const variants = [
  { checked: true, shared: false, role: 'entry' },
  { checked: false, shared: false, role: 'entry' },
  { checked: true, shared: true, role: 'tail' },
  { checked: false, shared: true, role: 'entry' },
] as const;

describe('WAT printer', () => {
  for (const file of ['alu-loop.s', 'checksum.s', 'parse.s', 'hash-counter.s', 'lpm.s', 'tail-call.s']) {
    it(`prints ${file} so that wat2wasm gives the same bytes`, () => {
      const src = readFileSync(new URL(`../../../bench/programs/${file}`, import.meta.url), 'utf8');
      const prog = prepareProgram(assemble(src, { file }).bytes, { allowPseudo: true });
      for (const v of variants) roundTrip(prog, v);
    });
  }

  it('round-trips random programs (calls, callbacks, atomics, irreducible loops, map operations)', () => {
    const fm = fuzzMachine();
    for (let seed = 1; seed <= 40; seed++) {
      const { insns } = randomProgram(seed, fm);
      const prog = prepareProgram(encodeProgram(insns), { helpers: fm.machine.helpers });
      // With the machine: its maps' lookups are inline (jhash, chains, the LPM walk).
      roundTrip(prog, { ...variants[seed % variants.length]!, machine: fm.machine });
    }
  });

  it('annotates each BPF instruction', () => {
    const prog = prepareProgram(assemble('r0 = 1\nr0 += 2\nexit\n').bytes);
    const wat = programToWat(prog);
    expect(wat).toContain(';; 0: r0 = 0x1');
    expect(wat).toContain(';; 1: r0 += 0x2');
    expect(wat).toMatch(/\(export "run" \(func \$bpf\.run\)\)/);
  });
});
