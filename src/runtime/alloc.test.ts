/**
 * The program's own objects at run time (test/fixtures/verifier/objects/
 * alloc_kptrs.c, whose verdicts are the kernel's): bpf_obj_new and
 * bpf_obj_drop, bpf_kptr_xchg into a map value, refcounts, and lists under a
 * spin lock, on both engines, the maps kept between runs as one load keeps
 * them in the kernel. Expected values are worked out from the C source (and
 * were the kernel's in scripts/compare-test-runs.py's runs).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseObject } from '../loader/object.js';
import { jitEngine } from '../jit/jit-engine.js';
import { interpreterEngine } from '../vm/engine.js';
import type { Engine } from '../vm/engine.js';
import { loadCollection } from './collection.js';
import { HEAP_SIZE } from '../vm/helpers/alloc.js';

const OBJECT = new URL('../../test/fixtures/verifier/objects/alloc_kptrs.o', import.meta.url);
const FRAME = new Uint8Array(64);

function load() {
  const c = loadCollection(parseObject(new Uint8Array(readFileSync(OBJECT)), { name: 'alloc_kptrs.o' }));
  const run = (name: string, engine: Engine) => Number(c.run(c.program({ name }), { dataIn: FRAME }, engine).retval);
  return { c, run };
}

describe.each([['interp', interpreterEngine], ['jit', jitEngine]] as const)('allocated objects at run time (%s)', (_name, engine) => {
  it('bpf_kptr_xchg keeps an object in the map until the next run takes it out', () => {
    const { c, run } = load();
    expect(run('xchg_in_out', engine)).toBe(0); // the field was empty
    expect(run('xchg_in_out', engine)).toBe(5); // the object the first run stored (a = 5)
    // user space reads the kptr as zeros (the value holds nothing else)
    expect(c.map('kmap').nonZeroEntries()).toEqual([]);
    // the object stored is there for a load through the kptr: load_kptr_rcu writes b = 7 and returns a
    expect(run('load_kptr_rcu', engine)).toBe(5);
  });

  it('lists: a pushed object pops out again, front/back see the newest', () => {
    const { run } = load();
    expect(run('list_push_pop', engine)).toBe(9);
    expect(run('list_nonown_in_lock', engine)).toBe(4);
    expect(run('list_nonown_in_lock', engine)).toBe(4);
    expect(run('global_list', engine)).toBe(0);
  });

  it('rbtrees: add with the program\'s less, first, left, remove', () => {
    const { run } = load();
    // the 64-byte frame's length is the key; nothing left of it before: no left child
    expect(run('rb_add_first_remove', engine)).toBe(64);
  });

  it('rbtrees have the kernel\'s shape (root, children, grandchildren after two removals)', () => {
    // rb_shape inserts the first 12 bytes as keys; the results are the kernel's test runs (6.18.44) of these packets
    const cases: [string, number][] = [
      ['0503080104070902060a0b0c', 167970571], ['092537343105110820311d1f', 873013303], ['383704060618360b30342b37', 923152440],
      ['10262309183b271f29260527', 655367977], ['1014072f1a1f0a0605021a24', 436603423], ['28113017332d36302a3c2202', 857156918],
    ];
    for (const [hex, kernel] of cases) {
      const { c } = load();
      const frame = new Uint8Array(64);
      frame.set(Buffer.from(hex, 'hex'));
      expect(Number(c.run(c.program({ name: 'rb_shape' }), { dataIn: frame }, engine).retval), hex).toBe(kernel);
    }
  });

  it('a refcounted object lives until its last reference is dropped', () => {
    const { run } = load();
    expect(run('refcount_twice', engine)).toBe(3);
  });

  it('objects dropped are reused, and a full heap makes bpf_obj_new return NULL', () => {
    const { c, run } = load();
    // push, pop and drop: the same memory over and over
    for (let i = 0; i < 3000; i++) expect(run('list_push_pop', engine)).toBe(9);
    // objects left in a list stay: each `struct item` takes 32 bytes of this CPU's part of the heap
    const fit = Math.floor(HEAP_SIZE / c.machine.possibleCpus / 8) * 8 / 32;
    let first = -1;
    for (let i = 0; i < HEAP_SIZE / 32 + 10 && first < 0; i++) if (run('list_nonown_in_lock', engine) === 1) first = i;
    expect(first).toBe(fit);
  });
});
