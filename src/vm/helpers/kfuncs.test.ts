/**
 * The kfuncs user space runs (open-coded iterators): programs that call
 * them through kfunc calls, as a loader hands them over (the name of each
 * call's kfunc by instruction), give what kernel/bpf/helpers.c gives, on
 * both engines. The kernel itself is compared in
 * test/kernel/pkt-objects-vs-kernel.test.ts (iter_loops.c).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/index.js';
import { jitEngine } from '../../jit/jit-engine.js';
import { interpreterEngine } from '../engine.js';
import { Machine } from '../machine.js';
import { prepareProgram } from '../prepared-program.js';
import { helperTable } from './index.js';

/** Calls written `call N` with N in KFUNCS' keys become kfunc calls of that name. */
const KFUNCS: Readonly<Record<number, string>> = {
  901: 'bpf_iter_num_new', 902: 'bpf_iter_num_next', 903: 'bpf_iter_num_destroy',
  911: 'bpf_iter_bits_new', 912: 'bpf_iter_bits_next', 913: 'bpf_iter_bits_destroy',
};

function withKfuncs(text: string): { bytes: Uint8Array; kfuncName: (slot: number) => string | undefined } {
  const bytes = assemble(text, { syntax: 'llvm' }).bytes.slice();
  const v = new DataView(bytes.buffer);
  const names = new Map<number, string>();
  for (let slot = 0; slot * 8 < bytes.length; slot++) {
    const name = KFUNCS[v.getInt32(slot * 8 + 4, true)];
    if (bytes[slot * 8] !== 0x85 || name === undefined) continue;
    bytes[slot * 8 + 1] = 2 << 4;
    names.set(slot, name);
  }
  return { bytes, kfuncName: (slot) => names.get(slot) };
}

const ENGINES = [['interp', interpreterEngine], ['jit', jitEngine]] as const;

function runBoth(text: string): bigint[] {
  const { bytes, kfuncName } = withKfuncs(text);
  return ENGINES.map(([, engine]) => {
    const machine = new Machine({ helpers: helperTable() });
    const prog = prepareProgram(bytes, { helpers: machine.helpers, kfuncName });
    return engine.load(machine, prog).run().r0;
  });
}

/** A checksum of a sequence, as the programs below fold it: h = h * 31 + x (mod 2^64). */
const fold = (xs: readonly number[]) => xs.reduce((h, x) => BigInt.asUintN(64, h * 31n + BigInt.asUintN(64, BigInt(x))), 0n);

/** bpf_iter_num over [start, end): the numbers, or the error of _new and no numbers. */
function numModel(start: number, end: number): { err: number; values: number[] } {
  if (start > end) return { err: -22, values: [] };
  if (end - start > 8 * 1024 * 1024) return { err: -7, values: [] };
  return { err: 0, values: Array.from({ length: end - start }, (_, i) => start + i) };
}

/** bpf_iter_bits over `words`: the set bits' indexes, or the error of _new and none. */
function bitsModel(words: readonly bigint[]): { err: number; values: number[] } {
  if (words.length === 0) return { err: -22, values: [] };
  const values: number[] = [];
  words.forEach((w, i) => {
    for (let b = 0; b < 64; b++) if ((w >> BigInt(b)) & 1n) values.push(i * 64 + b);
  });
  return { err: 0, values };
}

/**
 * Calls `_new` (kfunc `newId`, its arguments set, the iterator at r6),
 * then `_next` (newId + 1) until NULL, then `_destroy` (newId + 2):
 * r0 = fold(err of _new, then every value next() hands out).
 */
function drain(newId: number): string {
  return `call ${newId}
    r7 = r0
    r7 <<= 32
    r7 s>>= 32
  loop:
    r1 = r6
    call ${newId + 1}
    if r0 == 0 goto done
    r1 = *(s32 *)(r0 + 0)
    r7 *= 31
    r7 += r1
    goto loop
  done:
    r1 = r6
    call ${newId + 2}
    r0 = r7
    exit`;
}

/** The number iterator over [start, end), drained. */
function numProgram(start: number, end: number): string {
  return `
    r6 = r10
    r6 += -8
    r1 = r6
    r2 = ${start}
    r3 = ${end}
    ${drain(901)}`;
}

/** The bit iterator over `words` (on the stack), drained. */
function bitsProgram(words: readonly bigint[]): string {
  const stores = words.map((w, i) => `r1 = ${BigInt.asIntN(64, w)} ll\n*(u64 *)(r10 - ${64 - i * 8}) = r1`).join('\n');
  return `
    ${stores}
    r6 = r10
    r6 += -80
    r1 = r6
    r2 = r10
    r2 += -64
    r3 = ${words.length}
    ${drain(911)}`;
}

const expected = (m: { err: number; values: number[] }) => fold([m.err, ...m.values]);

describe('kfuncs at run time', () => {
  it('bpf_iter_num hands out start..end-1 once, then NULL; a reversed or too long range fails and is empty', () => {
    for (const [start, end] of [[0, 5], [-3, 2], [7, 7], [5, 2], [-2_000_000_000, 2_000_000_000], [2147483640, 2147483647]] as const) {
      const want = expected(numModel(start, end));
      expect(runBoth(numProgram(start, end)), `[${start}, ${end})`).toEqual([want, want]);
    }
  });

  it('bpf_iter_num agrees with the model on random ranges', () => {
    fc.assert(fc.property(fc.integer({ min: -40, max: 40 }), fc.integer({ min: -40, max: 40 }), (start, end) => {
      const want = expected(numModel(start, end));
      expect(runBoth(numProgram(start, end))).toEqual([want, want]);
    }), { numRuns: 40 });
  });

  it('bpf_iter_bits hands out the set bits of one word and of several, in order', () => {
    const word = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0n, 1n, 1n << 63n, (1n << 64n) - 1n), fc.nat(31).map((b) => 1n << BigInt(b * 2)));
    fc.assert(fc.property(fc.array(word, { minLength: 0, maxLength: 4 }), (words) => {
      const want = expected(bitsModel(words));
      expect(runBoth(bitsProgram(words))).toEqual([want, want]);
    }), { numRuns: 60 });
  });

  it('bpf_iter_bits refuses more than 511 words and an unreadable source', () => {
    const tooMany = bitsProgram([1n]).replace('r3 = 1', 'r3 = 512');
    expect(runBoth(tooMany)).toEqual([fold([-7]), fold([-7])]);
    const unreadable = bitsProgram([1n]).replace('r2 += -64', 'r2 = 16');
    expect(runBoth(unreadable)).toEqual([fold([-14]), fold([-14])]);
  });

  it('local dynptrs: write, read back, bounds and flags errors, on both engines', () => {
    // a dynptr over 16 bytes of stack at fp-64 (the verifier wants a map value; the runtime does not care)
    const text = `
      r1 = r10
      r1 += -64
      r2 = 16
      r3 = 0
      r4 = r10
      r4 += -16
      call 197
      r6 = r0
      r1 = 0x1122334455667788 ll
      *(u64 *)(r10 - 72) = r1
      r1 = r10
      r1 += -16
      r2 = 4
      r3 = r10
      r3 += -72
      r4 = 8
      r5 = 0
      call 202
      r6 += r0
      r1 = r10
      r1 += -80
      r2 = 8
      r3 = r10
      r3 += -16
      r4 = 4
      r5 = 0
      call 201
      r6 += r0
      r1 = r10
      r1 += -80
      r2 = 8
      r3 = r10
      r3 += -16
      r4 = 12
      r5 = 0
      call 201
      r6 *= 31
      r6 += r0
      r0 = *(u64 *)(r10 - 80)
      r0 += r6
      exit`;
    // read at 12 for 8 bytes is past the 16: -E2BIG; the first read gets back what was written at 4
    const want = BigInt.asUintN(64, 0x1122334455667788n + BigInt(-7));
    expect(runBoth(text)).toEqual([want, want]);
  });

  it('a forged dynptr cannot reach memory the program may not touch (runs without the verifier)', () => {
    const text = `
      r1 = 16
      *(u64 *)(r10 - 16) = r1
      r1 = 0x10000008
      *(u64 *)(r10 - 8) = r1
      r1 = r10
      r1 += -32
      r2 = 8
      r3 = r10
      r3 += -16
      r4 = 0
      r5 = 0
      call 201
      exit`;
    const { bytes, kfuncName } = withKfuncs(text);
    for (const [, engine] of ENGINES) {
      const machine = new Machine({ helpers: helperTable() });
      const prog = prepareProgram(bytes, { helpers: machine.helpers, kfuncName });
      expect(() => engine.load(machine, prog).run()).toThrow(/bpf_dynptr_read: the dynptr's memory .* is not a readable region of 8 bytes/);
    }
  });

  it('a kfunc user space cannot run is still refused at its instruction', () => {
    const { bytes } = withKfuncs('call 901\nr0 = 0\nexit');
    expect(() => prepareProgram(bytes, { kfuncName: () => 'bpf_percpu_obj_new_impl' })).toThrow('kfunc call of bpf_percpu_obj_new_impl (BTF id 901) is not supported in user space');
  });
});
