/**
 * Map operations emitted as WebAssembly, from the layouts in docs/maps.md:
 * a hash map lookup (Linux's `htab_map_hash`: lookup3 `jhash2`/`jhash`,
 * then the bucket chain) as one function per map, specialised for the
 * map's key size, seed, bucket mask and storage address, which are fixed
 * when the map is created.
 */
import type { Code, FuncRef, GlobalRef } from './wasm/code.js';
import type { ModuleBuilder } from './wasm/module.js';
import type { OpName } from './wasm/opcodes.js';

/** lookup3's `JHASH_INITVAL`. */
const JHASH_INITVAL = 0xdeadbeef;

/** Offset of the key in a hash entry. */
const ENTRY_KEY = 24;
/** Offset of the u32 holding the address of an entry's value (hash entries and LPM nodes alike). */
const ENTRY_VALUE = 16;

/** What a hash lookup needs to know about its map. */
export interface HashLookupFacts {
  readonly keySize: number;
  readonly seed: number;
  /** Buckets - 1. */
  readonly mask: number;
  /** Address of the bucket array. */
  readonly storage: number;
  /** Bytes between per-CPU values. */
  readonly stride: number;
  /** Per-CPU slots (1 unless per-CPU). */
  readonly cpus: number;
  readonly percpu: boolean;
  /** Largest chain to walk before handing over to the helper (which reports corruption). */
  readonly maxSteps: number;
}

/** Largest key size the inline hash lookup handles. */
export const MAX_INLINE_KEY = 64;

/** Emits lookup3 on three i32 locals. */
class Jhash {
  constructor(private readonly c: Code, private readonly a: number, private readonly b: number, private readonly cc: number) {}

  /** x = x OP (y rol k), or x = x OP y when k is 0. */
  private upd(x: number, op: 'i32.add' | 'i32.sub' | 'i32.xor', y: number, k = 0): void {
    const c = this.c;
    c.localGet(x);
    c.localGet(y);
    if (k !== 0) {
      c.i32(k);
      c.op('i32.rotl');
    }
    c.op(op);
    c.localSet(x);
  }

  mix(): void {
    const { a, b, cc: c } = this;
    this.upd(a, 'i32.sub', c); this.upd(a, 'i32.xor', c, 4); this.upd(c, 'i32.add', b);
    this.upd(b, 'i32.sub', a); this.upd(b, 'i32.xor', a, 6); this.upd(a, 'i32.add', c);
    this.upd(c, 'i32.sub', b); this.upd(c, 'i32.xor', b, 8); this.upd(b, 'i32.add', a);
    this.upd(a, 'i32.sub', c); this.upd(a, 'i32.xor', c, 16); this.upd(c, 'i32.add', b);
    this.upd(b, 'i32.sub', a); this.upd(b, 'i32.xor', a, 19); this.upd(a, 'i32.add', c);
    this.upd(c, 'i32.sub', b); this.upd(c, 'i32.xor', b, 4); this.upd(b, 'i32.add', a);
  }

  final(): void {
    const { a, b, cc: c } = this;
    this.upd(c, 'i32.xor', b); this.upd(c, 'i32.sub', b, 14);
    this.upd(a, 'i32.xor', c); this.upd(a, 'i32.sub', c, 11);
    this.upd(b, 'i32.xor', a); this.upd(b, 'i32.sub', a, 25);
    this.upd(c, 'i32.xor', b); this.upd(c, 'i32.sub', b, 16);
    this.upd(a, 'i32.xor', c); this.upd(a, 'i32.sub', c, 4);
    this.upd(b, 'i32.xor', a); this.upd(b, 'i32.sub', a, 14);
    this.upd(c, 'i32.xor', b); this.upd(c, 'i32.sub', b, 24);
  }

  /** x += (the value `load` pushes). */
  add(x: number, load: () => void): void {
    this.c.localGet(x);
    load();
    this.c.op('i32.add');
    this.c.localSet(x);
  }
}

/**
 * Defines `lookup(key i32) -> i64` for a hash map: the value address, 0
 * when the key is absent, or -1 when the helper must decide (a chain
 * longer than the map can hold, or a CPU without a per-CPU slot).
 */
export function emitHashLookup(m: ModuleBuilder, name: string, f: HashLookupFacts, cpu: GlobalRef): FuncRef {
  const { def, ref } = m.func(name, m.type(['i32'], ['i64']), ['key']);
  const c = def.code;
  const key = 0;
  const a = m.local(def, 'i32', 'a');
  const b = m.local(def, 'i32', 'b');
  const cc = m.local(def, 'i32', 'c');
  const e = m.local(def, 'i32', 'e');
  const steps = m.local(def, 'i32', 'steps');
  const h = new Jhash(c, a, b, cc);
  const word = (at: number) => () => c.mem('i32.load', 0, at);
  const byte = (at: number, shift: number) => () => {
    c.mem('i32.load8_u', 0, at);
    if (shift) {
      c.i32(shift);
      c.op('i32.shl');
    }
  };
  const init = (v: number) => {
    c.i32(v);
    c.localTee(a);
    c.localTee(b);
    c.localSet(cc);
  };
  if (f.percpu) {
    // A CPU without a slot: let the helper raise its error.
    c.globalGet(cpu);
    c.i32(f.cpus);
    c.op('i32.ge_u');
    c.if();
    c.i64(-1);
    c.op('return');
    c.end();
  }
  if (f.keySize % 4 === 0) {
    // jhash2 over key_size / 4 little-endian words.
    let n = f.keySize / 4;
    init((JHASH_INITVAL + (n << 2) + f.seed) | 0);
    let i = 0;
    while (n > 3) {
      h.add(a, () => { c.localGet(key); word(i)(); });
      h.add(b, () => { c.localGet(key); word(i + 4)(); });
      h.add(cc, () => { c.localGet(key); word(i + 8)(); });
      h.mix();
      n -= 3;
      i += 12;
    }
    if (n > 0) {
      if (n === 3) h.add(cc, () => { c.localGet(key); word(i + 8)(); });
      if (n >= 2) h.add(b, () => { c.localGet(key); word(i + 4)(); });
      h.add(a, () => { c.localGet(key); word(i)(); });
      h.final();
    }
  } else {
    // jhash over bytes.
    let n = f.keySize;
    init((JHASH_INITVAL + n + f.seed) | 0);
    let i = 0;
    while (n > 12) {
      h.add(a, () => { c.localGet(key); word(i)(); });
      h.add(b, () => { c.localGet(key); word(i + 4)(); });
      h.add(cc, () => { c.localGet(key); word(i + 8)(); });
      h.mix();
      n -= 12;
      i += 12;
    }
    const regs = [a, b, cc];
    for (let j = n - 1; j >= 0; j--) h.add(regs[j >> 2]!, () => { c.localGet(key); byte(i + j, 8 * (j & 3))(); });
    h.final();
  }
  // e = bucket head
  c.localGet(cc);
  c.i32(f.mask);
  c.op('i32.and');
  c.i32(2);
  c.op('i32.shl');
  c.mem('i32.load', 2, f.storage);
  c.localSet(e);
  c.block();
  c.loop();
  c.localGet(e);
  c.op('i32.eqz');
  c.brIf(1);
  // hash and key match?
  c.localGet(e);
  c.mem('i32.load', 2, 4);
  c.localGet(cc);
  c.op('i32.eq');
  keyEquals(c, e, key, f.keySize);
  c.op('i32.and');
  c.if();
  c.localGet(e);
  c.mem('i32.load', 2, ENTRY_VALUE);
  c.op('i64.extend_i32_u');
  if (f.percpu) {
    c.globalGet(cpu);
    c.op('i64.extend_i32_u');
    c.i64(f.stride);
    c.op('i64.mul');
    c.op('i64.add');
  }
  c.op('return');
  c.end();
  c.localGet(e);
  c.mem('i32.load', 2, 0);
  c.localSet(e);
  c.localGet(steps);
  c.i32(1);
  c.op('i32.add');
  c.localTee(steps);
  c.i32(f.maxSteps);
  c.op('i32.le_u');
  c.brIf(0);
  // Too long: the helper reports the corruption.
  c.i64(-1);
  c.op('return');
  c.end();
  c.end();
  c.i64(0);
  return ref;
}

/** Pushes an i32 that is 1 when the entry at `e` holds the key at `key`. */
function keyEquals(c: Code, e: number, key: number, size: number): void {
  let first = true;
  let at = 0;
  const chunk = (bytes: number, load: OpName, eq: OpName) => {
    c.localGet(e);
    c.mem(load, 0, ENTRY_KEY + at);
    c.localGet(key);
    c.mem(load, 0, at);
    c.op(eq);
    if (!first) c.op('i32.and');
    first = false;
    at += bytes;
  };
  while (size - at >= 8) chunk(8, 'i64.load', 'i64.eq');
  if (size - at >= 4) chunk(4, 'i32.load', 'i32.eq');
  if (size - at >= 2) chunk(2, 'i32.load16_u', 'i32.eq');
  if (size - at >= 1) chunk(1, 'i32.load8_u', 'i32.eq');
}


/** What an LPM trie lookup needs to know about its map. */
export interface LpmLookupFacts {
  readonly keySize: number;
  /** Address of the word holding the root node. */
  readonly rootSlot: number;
  /** Largest chain to walk before handing over to the helper (max_prefixlen + 1). */
  readonly maxSteps: number;
}

/** Node fields of an LPM trie (docs/maps.md). */
const LPM_PREFIXLEN = 8;
const LPM_FLAGS = 12;
const LPM_DATA = 24;

/**
 * Defines `lookup(key i32) -> i64` for an LPM trie (Linux's
 * `trie_lookup_elem` over the layout of docs/maps.md): the value address of
 * the longest matching prefix, 0, or -1 when the helper must decide.
 */
export function emitLpmLookup(m: ModuleBuilder, name: string, f: LpmLookupFacts): FuncRef {
  const { def, ref } = m.func(name, m.type(['i32'], ['i64']), ['key']);
  const c = def.code;
  const key = 0;
  const dataSize = f.keySize - 4;
  const maxPrefixlen = 8 * dataSize;
  const kp = m.local(def, 'i32', 'key_prefixlen');
  const node = m.local(def, 'i32', 'node');
  const found = m.local(def, 'i32', 'found');
  const np = m.local(def, 'i32', 'node_prefixlen');
  const match = m.local(def, 'i32', 'matchlen');
  const steps = m.local(def, 'i32', 'steps');
  const i = m.local(def, 'i32', 'i');
  const diff = m.local(def, 'i32', 'diff');
  const bswap = () => {
    // i32 on the stack, byte-swapped (the data is big-endian).
    c.localTee(diff);
    c.i32(8);
    c.op('i32.rotl');
    c.i32(0x00ff00ff);
    c.op('i32.and');
    c.localGet(diff);
    c.i32(8);
    c.op('i32.rotr');
    c.i32(0xff00ff00 | 0);
    c.op('i32.and');
    c.op('i32.or');
  };
  c.localGet(key);
  c.mem('i32.load', 0, 0);
  c.localTee(kp);
  c.i32(maxPrefixlen);
  c.op('i32.gt_u');
  c.if();
  c.i64(0);
  c.op('return');
  c.end();
  c.i32(0);
  c.mem('i32.load', 2, f.rootSlot);
  c.localSet(node);
  c.block();
  c.loop();
  c.localGet(node);
  c.op('i32.eqz');
  c.brIf(1);
  // matchlen = min(first differing bit, min(node prefixlen, key prefixlen))
  c.localGet(node);
  c.mem('i32.load', 2, LPM_PREFIXLEN);
  c.localTee(np);
  c.localGet(kp);
  c.localGet(np);
  c.localGet(kp);
  c.op('i32.lt_u');
  c.op('select');
  c.localSet(match);
  if (dataSize === 4) {
    c.localGet(node);
    c.mem('i32.load', 0, LPM_DATA);
    c.localGet(key);
    c.mem('i32.load', 0, 4);
    c.op('i32.xor');
    bswap();
    c.op('i32.clz');
    c.localTee(diff);
    c.localGet(match);
    c.localGet(diff);
    c.localGet(match);
    c.op('i32.lt_u');
    c.op('select');
    c.localSet(match);
  } else {
    // Byte by byte: the first differing byte's leading zeros, capped by matchlen.
    c.i32(0);
    c.localSet(i);
    c.block();
    c.loop();
    c.localGet(node);
    c.localGet(i);
    c.op('i32.add');
    c.mem('i32.load8_u', 0, LPM_DATA);
    c.localGet(key);
    c.localGet(i);
    c.op('i32.add');
    c.mem('i32.load8_u', 0, 4);
    c.op('i32.xor');
    c.localTee(diff);
    c.if();
    // p + clz32(diff) - 24
    c.localGet(i);
    c.i32(3);
    c.op('i32.shl');
    c.localGet(diff);
    c.op('i32.clz');
    c.op('i32.add');
    c.i32(24);
    c.op('i32.sub');
    c.localTee(diff);
    c.localGet(match);
    c.localGet(diff);
    c.localGet(match);
    c.op('i32.lt_u');
    c.op('select');
    c.localSet(match);
    c.br(2);
    c.end();
    c.localGet(i);
    c.i32(1);
    c.op('i32.add');
    c.localTee(i);
    c.i32(dataSize);
    c.op('i32.lt_u');
    c.brIf(0);
    c.end();
    c.end();
  }
  // A full match ends the search.
  c.localGet(match);
  c.i32(maxPrefixlen);
  c.op('i32.eq');
  c.if();
  c.localGet(node);
  c.mem('i32.load', 2, ENTRY_VALUE);
  c.op('i64.extend_i32_u');
  c.op('return');
  c.end();
  c.localGet(match);
  c.localGet(np);
  c.op('i32.lt_u');
  c.brIf(1);
  // Not an intermediate node: the best match so far.
  c.localGet(node);
  c.mem('i32.load', 2, LPM_FLAGS);
  c.i32(1);
  c.op('i32.and');
  c.op('i32.eqz');
  c.if();
  c.localGet(node);
  c.localSet(found);
  c.end();
  // node = child[bit np of the key data]
  c.localGet(node);
  c.localGet(key);
  c.localGet(np);
  c.i32(3);
  c.op('i32.shr_u');
  c.op('i32.add');
  c.mem('i32.load8_u', 0, 4);
  c.i32(7);
  c.localGet(np);
  c.i32(7);
  c.op('i32.and');
  c.op('i32.sub');
  c.op('i32.shr_u');
  c.i32(1);
  c.op('i32.and');
  c.i32(2);
  c.op('i32.shl');
  c.op('i32.add');
  c.mem('i32.load', 2, 0);
  c.localSet(node);
  c.localGet(steps);
  c.i32(1);
  c.op('i32.add');
  c.localTee(steps);
  c.i32(f.maxSteps);
  c.op('i32.le_u');
  c.brIf(0);
  c.i64(-1);
  c.op('return');
  c.end();
  c.end();
  c.localGet(found);
  c.if(-2);
  c.localGet(found);
  c.mem('i32.load', 2, ENTRY_VALUE);
  c.op('i64.extend_i32_u');
  c.else();
  c.i64(0);
  c.end();
  return ref;
}

/**
 * Address of the region search's cache: one u32 table-entry address per
 * 32-byte line hash, in the NULL guard page above anything NULL + a 16-bit
 * offset reaches. A cached entry is only a hint (it is checked), so stale or
 * racing writes are harmless.
 */
export const FIND_CACHE = 0x8000;
/** Entries of the region search's cache. */
export const FIND_CACHE_ENTRIES = 1024;

/** Entry of the region table the runtime mirrors into memory: start, end, access bits. */
export const REGION_ENTRY = 12;
/** Access bits of a region table entry. */
export const RegionAccess = { read: 1, write: 2 } as const;

/**
 * Defines `find(addr i64, size i32, need i32) -> i64`: a binary search of
 * the region table (sorted by start) for the region holding all of
 * `[addr, addr + size)` with the access bits `need`; returns
 * `start | (size_of_region - size) << 32` (what an access site caches), or
 * -1 when there is none, which the runtime then explains (or finds in
 * regions added since the table was written). A direct-mapped cache in
 * front of the search makes repeated misses cheap.
 */
export function emitRegionFind(m: ModuleBuilder, name: string, table: GlobalRef, count: GlobalRef): FuncRef {
  const { def, ref } = m.func(name, m.type(['i64', 'i32', 'i32'], ['i64']), ['addr', 'size', 'need']);
  const c = def.code;
  const a = m.local(def, 'i32', 'a');
  const lo = m.local(def, 'i32', 'lo');
  const hi = m.local(def, 'i32', 'hi');
  const mid = m.local(def, 'i32', 'mid');
  const e = m.local(def, 'i32', 'entry');
  const found = m.local(def, 'i32', 'found');
  const slot = m.local(def, 'i32', 'slot');
  // Only 32-bit addresses can be in a region.
  c.localGet(0);
  c.i64(32);
  c.op('i64.shr_u');
  c.op('i64.eqz');
  c.op('i32.eqz');
  c.if();
  c.i64(-1);
  c.op('return');
  c.end();
  c.localGet(0);
  c.op('i32.wrap_i64');
  c.localSet(a);
  // A direct-mapped cache of table entries by 32-byte line first (a hint: the entry is checked).
  c.localGet(a);
  c.i32(5 - 2);
  c.op('i32.shr_u');
  c.i32((FIND_CACHE_ENTRIES - 1) * 4);
  c.op('i32.and');
  c.localTee(slot);
  c.mem('i32.load', 2, FIND_CACHE);
  c.localTee(e);
  c.if(-1);
  c.localGet(a);
  c.localGet(e);
  c.mem('i32.load', 2, 0);
  c.op('i32.ge_u');
  c.localGet(a);
  c.localGet(e);
  c.mem('i32.load', 2, 4);
  c.op('i32.lt_u');
  c.op('i32.and');
  c.else();
  c.i32(0);
  c.end();
  c.localSet(found);
  // Otherwise a binary search of the table.
  c.globalGet(count);
  c.localSet(hi);
  c.block();
  c.loop();
  c.localGet(found);
  c.brIf(1);
  c.localGet(lo);
  c.localGet(hi);
  c.op('i32.ge_u');
  c.brIf(1);
  // entry = table + 12 * mid, mid = (lo + hi) / 2
  c.globalGet(table);
  c.localGet(lo);
  c.localGet(hi);
  c.op('i32.add');
  c.i32(1);
  c.op('i32.shr_u');
  c.localTee(mid);
  c.i32(REGION_ENTRY);
  c.op('i32.mul');
  c.op('i32.add');
  c.localSet(e);
  c.localGet(a);
  c.localGet(e);
  c.mem('i32.load', 2, 0);
  c.op('i32.lt_u');
  c.if();
  c.localGet(mid);
  c.localSet(hi);
  c.br(1);
  c.end();
  c.localGet(a);
  c.localGet(e);
  c.mem('i32.load', 2, 4);
  c.op('i32.ge_u');
  c.if();
  c.localGet(mid);
  c.i32(1);
  c.op('i32.add');
  c.localSet(lo);
  c.br(1);
  c.end();
  c.i32(1);
  c.localSet(found);
  c.br(0);
  c.end();
  c.end();
  c.localGet(found);
  c.op('i32.eqz');
  c.if();
  c.i64(-1);
  c.op('return');
  c.end();
  c.localGet(slot);
  c.localGet(e);
  c.mem('i32.store', 2, FIND_CACHE);
  // [start, end) holds the address: the whole access must fit and be allowed.
  c.localGet(a);
  c.op('i64.extend_i32_u');
  c.localGet(1);
  c.op('i64.extend_i32_u');
  c.op('i64.add');
  c.localGet(e);
  c.mem('i32.load', 2, 4);
  c.op('i64.extend_i32_u');
  c.op('i64.gt_u');
  c.localGet(e);
  c.mem('i32.load', 2, 8);
  c.localGet(2);
  c.op('i32.and');
  c.op('i32.eqz');
  c.op('i32.or');
  c.if();
  c.i64(-1);
  c.op('return');
  c.end();
  // start | (end - start - size) << 32
  c.localGet(e);
  c.mem('i32.load', 2, 0);
  c.op('i64.extend_i32_u');
  c.localGet(e);
  c.mem('i32.load', 2, 4);
  c.localGet(e);
  c.mem('i32.load', 2, 0);
  c.op('i32.sub');
  c.localGet(1);
  c.op('i32.sub');
  c.op('i64.extend_i32_u');
  c.i64(32);
  c.op('i64.shl');
  c.op('i64.or');
  return ref;
}
