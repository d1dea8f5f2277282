/**
 * Memory accesses of the eBPF to WebAssembly JIT: address computation and
 * its checks, loads, stores and atomics.
 *
 * Checked mode bounds-checks each access against a per-site cache of the
 * last region it hit, searching the region table (`inline.ts`) on a miss
 * and calling the `access` import only when that fails (which throws the
 * interpreter's fault). Unchecked (verified) code guards each access the
 * verifier proved safe with its page's rights (one load from the page
 * table, a test and a branch) and gives every other access the checked
 * path. Accesses below an unmodified r10 inside its 512-byte frame need
 * no check. The site checks and guards are shared with the inline map
 * lookups and legacy packet loads (emit-calls.ts).
 */
import type { AtomicInsn, LoadInsn, StoreImmInsn, StoreRegInsn } from '../isa/instruction.js';
import { STACK_SIZE } from '../isa/opcode.js';
import { guardsBase, PAGE_TABLE, PageRights } from '../vm/memory.js';
import type { FnEmitter, Site } from './function-emitter.js';
import { RegionAccess } from './inline.js';
import { accessInfo, guardInfo, ImportName } from './module-abi.js';
import { BLOCK_I64 } from './wasm/opcodes.js';
import type { OpName } from './wasm/opcodes.js';

/** A new access site of `size` bytes: its cache in globals, and in locals too inside a loop. */
export function newSite(e: FnEmitter, size: number): Site {
  const g = e.pc.site(size);
  if (!e.curInLoop) return { ...g, loLocal: -1, spanLocal: -1 };
  const site: Site = { ...g, loLocal: e.m.local(e.def, 'i64', 'site.lo'), spanLocal: e.m.local(e.def, 'i64', 'site.span') };
  e.loopSites.push(site);
  return site;
}

/** Pushes `ea - site.lo >u site.span` (a miss). */
export function emitSiteMiss(e: FnEmitter, site: Site, ea: () => void): void {
  const c = e.code;
  ea();
  if (site.loLocal >= 0) c.localGet(site.loLocal);
  else c.globalGet(site.lo);
  c.op('i64.sub');
  if (site.spanLocal >= 0) c.localGet(site.spanLocal);
  else c.globalGet(site.span);
  c.op('i64.gt_u');
}

/** Whether the access at `pc` gets the full region check: checked code, or an access the verifier did not prove. */
export function fullCheck(e: FnEmitter, pc: number): boolean {
  return e.v.checked || (e.v.safe !== undefined && !e.v.safe.has(pc));
}

/**
 * Pushes the i32 address of an access of `size` bytes at `reg + off`
 * (region-checked in checked mode and for unproven accesses, guarded by
 * the page rights otherwise) and returns the static offset the load or
 * store must add. `rmw`: a read-modify-write (the guard needs both rights;
 * in checked mode the caller checks the read first).
 */
function emitAddress(e: FnEmitter, reg: number, off: number, size: number, write: boolean, pc: number, rmw = false): number {
  const c = e.code;
  if (reg === 10 && !e.r10Written && off >= -STACK_SIZE && off + size <= 0) {
    // Inside this function's own frame: always inside the stack region.
    c.localGet(e.fpb);
    return off + STACK_SIZE;
  }
  if (!fullCheck(e, pc)) {
    const need = rmw ? PageRights.read | PageRights.write : write ? PageRights.write : PageRights.read;
    const base = e.temp('base', 'i32');
    e.get(reg);
    c.op('i32.wrap_i64');
    if (!guardsBase(off, size)) {
      c.localTee(base);
      c.i32(off);
      c.op('i32.add');
      emitGuardTop(e, size, need, pc, () => e.get(reg), off);
    } else if ((e.guarded[reg]! & need) !== need) {
      // A small offset: the base's page is tested, once per block and register for all of them.
      c.localTee(base);
      emitGuardTop(e, size, need, pc, () => e.get(reg), off);
      e.guarded[reg]! |= need;
    } else {
      c.localSet(base);
    }
    // The access itself adds a non-negative offset in the instruction (an address the guard
    // let through cannot have wrapped: a sum of 4 GiB or more wraps into the guard page).
    c.localGet(base);
    if (off >= 0) return off;
    c.i32(off);
    c.op('i32.add');
    return 0;
  }
  const ea = e.temp('ea', 'i64');
  e.get(reg);
  if (off !== 0) {
    c.i64(off);
    c.op('i64.add');
  }
  c.localSet(ea);
  emitSiteCheck(e, ea, size, write, pc, () => {
    e.get(reg);
    c.i32(off);
  });
  c.localGet(ea);
  c.op('i32.wrap_i64');
  return 0;
}

/**
 * The page guard of a proven access at the i32 address in local `a` (the
 * low 32 bits of `reg + off`, as the interpreter takes them): `if
 * ((pages[a >>> 16] & need) != need)` trap, leaving the pointer (`reg`
 * pushes it), `off` and the access in the `fault*` globals for the runtime
 * to report checked mode's fault (src/vm/interpreter.ts guardFault). A
 * trap rather than a call keeps the fast path free of spills. An access of
 * up to 8 bytes may spill into the next page only where that page's first
 * bytes are unused (PAGE_GAP in src/vm/memory.ts).
 */
export function emitGuard(e: FnEmitter, a: number, size: number, need: number, pc: number, reg: () => void, off: number): void {
  e.code.localGet(a);
  emitGuardTop(e, size, need, pc, reg, off);
}

/** {@link emitGuard} of the i32 address on top of the stack (consumed). */
function emitGuardTop(e: FnEmitter, size: number, need: number, pc: number, reg: () => void, off: number): void {
  const c = e.code;
  if (!e.copying) e.pc.stats.guardedAccesses++;
  c.i32(16);
  c.op('i32.shr_u');
  c.mem('i32.load8_u', 0, PAGE_TABLE);
  c.i32(need);
  c.op('i32.and');
  if (need === PageRights.read || need === PageRights.write) {
    c.op('i32.eqz');
  } else {
    c.i32(need);
    c.op('i32.ne');
  }
  c.if();
  reg();
  c.globalSet(e.pc.global(ImportName.faultReg, 'i64', true));
  c.i32(off);
  c.globalSet(e.pc.global(ImportName.faultOff, 'i32', true));
  c.i32(guardInfo(size, need, pc));
  c.globalSet(e.pc.global(ImportName.faultInfo, 'i32', true));
  c.op('unreachable');
  c.end();
}

/**
 * `if (ea - site.lo >u site.span) refill-or-fault`, where `args` pushes
 * the (reg i64, off i32) the `access` import takes.
 */
export function emitSiteCheck(e: FnEmitter, ea: number, size: number, write: boolean, pc: number, args: () => void): void {
  const c = e.code;
  const site = newSite(e, size);
  if (!e.copying) e.pc.stats.checkedAccesses++;
  emitSiteMiss(e, site, () => c.localGet(ea));
  c.if();
  // A miss: the region table in WebAssembly, then the runtime (which refreshes it or throws the fault).
  const packed = e.temp('packed', 'i64');
  c.localGet(ea);
  c.i32(size);
  c.i32(write ? RegionAccess.write : RegionAccess.read);
  c.call(e.pc.regionFind());
  c.localTee(packed);
  c.i64(-1);
  c.op('i64.eq');
  c.if();
  args();
  c.i32(accessInfo(size, write, pc));
  c.call(e.pc.importFunc(ImportName.access, ['i64', 'i32', 'i32'], ['i64']));
  c.localSet(packed);
  c.end();
  c.localGet(packed);
  emitStoreSite(e, site);
  c.end();
}

/** Pops a packed (lo | span << 32) region and stores it in `site`. */
export function emitStoreSite(e: FnEmitter, site: Site): void {
  const c = e.code;
  const t = e.temp('packed', 'i64');
  c.localTee(t);
  c.i64(0xffffffff);
  c.op('i64.and');
  if (site.loLocal >= 0) c.localTee(site.loLocal);
  c.globalSet(site.lo);
  c.localGet(t);
  c.i64(32);
  c.op('i64.shr_u');
  if (site.spanLocal >= 0) c.localTee(site.spanLocal);
  c.globalSet(site.span);
}

/** `ldx`: `dst = *(size *)(src + off)`, zero- or sign-extended. */
export function emitLoad(e: FnEmitter, i: LoadInsn, pc: number): void {
  const c = e.code;
  const s = emitAddress(e, i.src, i.off, i.size, false, pc);
  const name: OpName = i.size === 8 ? 'i64.load'
    : i.size === 4 ? (i.signed ? 'i64.load32_s' : 'i64.load32_u')
      : i.size === 2 ? (i.signed ? 'i64.load16_s' : 'i64.load16_u')
        : (i.signed ? 'i64.load8_s' : 'i64.load8_u');
  c.mem(name, 0, s);
  e.set(i.dst);
}

/** `st` and `stx`: `*(size *)(dst + off) = imm` or `src`. */
export function emitStore(e: FnEmitter, i: StoreImmInsn | StoreRegInsn, pc: number): void {
  const c = e.code;
  const s = emitAddress(e, i.dst, i.off, i.size, true, pc);
  if (i.kind === 'st') c.i64(i.imm);
  else e.get(i.src);
  c.mem(i.size === 8 ? 'i64.store' : i.size === 4 ? 'i64.store32' : i.size === 2 ? 'i64.store16' : 'i64.store8', 0, s);
}

/**
 * Atomic instructions: load-acquire, store-release and the
 * read-modify-writes (with or without fetch, `xchg`, `cmpxchg`). On shared
 * memory an aligned access uses Wasm's atomics and an unaligned one the
 * plain sequence; otherwise the plain sequence.
 */
export function emitAtomic(e: FnEmitter, i: AtomicInsn, pc: number): void {
  const c = e.code;
  const size = i.size;
  const log = Math.log2(size);
  const addr = e.temp('addr', 'i32');
  const plainLoad: OpName = size === 8 ? 'i64.load' : size === 4 ? 'i64.load32_u' : size === 2 ? 'i64.load16_u' : 'i64.load8_u';
  const plainStore: OpName = size === 8 ? 'i64.store' : size === 4 ? 'i64.store32' : size === 2 ? 'i64.store16' : 'i64.store8';
  const setAddr = (s: number) => {
    if (s !== 0) {
      c.i32(s);
      c.op('i32.add');
    }
    c.localSet(addr);
  };
  /** Emits `aligned ? atomicPart : plainPart` for shared memory, plain otherwise. */
  const choose = (atomicPart: () => void, plainPart: () => void, result: boolean) => {
    if (!e.v.shared) {
      plainPart();
      return;
    }
    c.localGet(addr);
    c.i32(size - 1);
    c.op('i32.and');
    c.op('i32.eqz');
    c.if(result ? BLOCK_I64 : undefined);
    atomicPart();
    c.else();
    plainPart();
    c.end();
  };
  if (i.op === 'load_acq') {
    setAddr(emitAddress(e, i.src, i.off, size, false, pc));
    const atomicLoad: OpName = size === 8 ? 'i64.atomic.load' : size === 4 ? 'i64.atomic.load32_u' : size === 2 ? 'i64.atomic.load16_u' : 'i64.atomic.load8_u';
    choose(() => { c.localGet(addr); c.mem(atomicLoad, log, 0); }, () => { c.localGet(addr); c.mem(plainLoad, 0, 0); }, true);
    e.set(i.dst);
    return;
  }
  if (i.op === 'store_rel') {
    setAddr(emitAddress(e, i.dst, i.off, size, true, pc));
    const atomicStore: OpName = size === 8 ? 'i64.atomic.store' : size === 4 ? 'i64.atomic.store32' : size === 2 ? 'i64.atomic.store16' : 'i64.atomic.store8';
    choose(
      () => { c.localGet(addr); e.get(i.src); c.mem(atomicStore, log, 0); },
      () => { c.localGet(addr); e.get(i.src); c.mem(plainStore, 0, 0); },
      false,
    );
    return;
  }
  // Read-modify-write: the interpreter checks the read, then the write (the guard tests both rights at once).
  if (fullCheck(e, pc) && !(i.dst === 10 && !e.r10Written && i.off >= -STACK_SIZE && i.off + size <= 0)) {
    emitAddress(e, i.dst, i.off, size, false, pc);
    c.op('drop');
  }
  setAddr(emitAddress(e, i.dst, i.off, size, true, pc, true));
  const old = e.temp('old', 'i64');
  const w32 = size === 4;
  const rmw = (op: string): OpName => (w32 ? `i64.atomic.rmw32.${op}_u` : `i64.atomic.rmw.${op}`) as OpName;
  if (i.op === 'cmpxchg') {
    choose(
      () => { c.localGet(addr); e.get(0); e.get(i.src); c.mem(rmw('cmpxchg'), log, 0); },
      () => {
        c.localGet(addr);
        c.mem(plainLoad, 0, 0);
        c.localTee(old);
        e.get(0);
        if (w32) {
          c.i64(0xffffffff);
          c.op('i64.and');
        }
        c.op('i64.eq');
        c.if();
        c.localGet(addr);
        e.get(i.src);
        c.mem(plainStore, 0, 0);
        c.end();
        c.localGet(old);
      },
      true,
    );
    e.set(0);
    return;
  }
  const opName = i.op === 'xchg' ? 'xchg' : i.op;
  choose(
    () => { c.localGet(addr); e.get(i.src); c.mem(rmw(opName), log, 0); },
    () => {
      c.localGet(addr);
      c.mem(plainLoad, 0, 0);
      c.localSet(old);
      c.localGet(addr);
      if (i.op === 'xchg') {
        e.get(i.src);
      } else {
        c.localGet(old);
        e.get(i.src);
        c.op(`i64.${i.op}` as OpName);
      }
      c.mem(plainStore, 0, 0);
      c.localGet(old);
    },
    true,
  );
  if (i.fetch) e.set(i.src);
  else c.op('drop');
}
