/**
 * Calls in the eBPF to WebAssembly JIT, and what leaves a function through
 * the runtime: helper calls, inlined map lookups, tail calls, `callx`,
 * bpf-to-bpf calls and the legacy packet loads (`ldabs`/`ldind`).
 *
 * Helpers are imports; arguments and results travel through the CPU's
 * register file in memory (spills and reloads), so every helper works
 * unchanged. Map lookups with a constant map (array, hash, LPM trie),
 * `bpf_get_smp_processor_id` and argument-less helpers get shorter paths;
 * tail calls through a constant prog array read it in WebAssembly.
 * bpf-to-bpf calls are `call`s that pass the frame pointer of the callee
 * (caller's - 512) and the registers: all of them in checked mode, r1..r5
 * in and r0 out in unchecked mode.
 */
import type { LdAbsInsn, LdIndInsn } from '../isa/instruction.js';
import { STACK_SIZE } from '../isa/opcode.js';
import { BpfFunc, MapType, helperId } from '../isa/uapi.js';
import { MAX_TAIL_CALLS } from '../vm/interpreter.js';
import { SkbWords } from '../vm/legacy-load.js';
import { PageRights } from '../vm/memory.js';
import type { MapFacts } from './compile.js';
import { emitBswap16, emitBswap32 } from './emit-alu.js';
import { emitGuard, emitSiteCheck, emitSiteMiss, emitStoreSite, fullCheck, newSite } from './emit-memory.js';
import type { FnEmitter } from './function-emitter.js';
import type { FuncRef } from './wasm/code.js';
import { MAX_INLINE_KEY, RegionAccess } from './inline.js';
import { ENV, ImportName } from './module-abi.js';
import { BLOCK_I64 } from './wasm/opcodes.js';

/** Helpers that read no argument and never call back: no register spill, only r0 comes back. */
const ARGLESS: ReadonlyMap<number, string> = new Map(([
  'bpf_ktime_get_ns', 'bpf_get_prandom_u32', 'bpf_get_current_pid_tgid', 'bpf_get_current_uid_gid',
  'bpf_get_numa_node_id', 'bpf_jiffies64', 'bpf_ktime_get_boot_ns', 'bpf_ktime_get_coarse_ns', 'bpf_ktime_get_tai_ns',
] as const).map((name) => [helperId(name)!, name]));

/** Stores registers into the register file before a helper call. */
function emitSpill(e: FnEmitter, from: number, to: number): void {
  const c = e.code;
  for (let r = from; r <= to; r++) {
    c.globalGet(e.pc.regs);
    e.get(r);
    c.mem('i64.store', 3, 8 * r);
  }
}

/** Loads registers back from the register file after a helper call. */
function emitReload(e: FnEmitter, from: number, to: number): void {
  const c = e.code;
  for (let r = from; r <= to; r++) {
    c.globalGet(e.pc.regs);
    c.mem('i64.load', 3, 8 * r);
    e.set(r);
  }
}

/** The generic helper call: spill, call the import, reload. */
function emitGenericHelper(e: FnEmitter, pc: number, id: number): void {
  const c = e.code;
  // The interpreter's exact register file: callbacks see every register and may leave r1..r5 changed.
  emitSpill(e, 0, 10);
  c.localGet(e.fp);
  c.globalSet(e.pc.fpNow);
  e.syncBudgetOut();
  c.i32(pc);
  c.call(e.pc.helper(id));
  e.syncBudgetIn();
  emitReload(e, 0, 5);
}

/**
 * A call of helper `id`: tail calls, the CPU id, argument-less helpers and
 * inlined map lookups get their short paths, every other helper the
 * generic call.
 */
export function emitHelperCall(e: FnEmitter, pc: number, id: number): void {
  const c = e.code;
  e.lastLookupInline = false;
  if (id === BpfFunc.tail_call) {
    emitTailCall(e, pc);
    return;
  }
  const name = e.pc.env.helperName(id);
  if (id === BpfFunc.get_smp_processor_id && name === 'bpf_get_smp_processor_id') {
    c.globalGet(e.pc.cpu);
    c.op('i64.extend_i32_u');
    e.set(0);
    return;
  }
  if (name !== undefined && ARGLESS.get(id) === name) {
    e.syncBudgetOut();
    c.i32(pc);
    c.call(e.pc.helper(id));
    e.syncBudgetIn();
    emitReload(e, 0, 0);
    return;
  }
  if (id === BpfFunc.map_lookup_elem && name === 'bpf_map_lookup_elem' && emitInlineLookup(e, pc)) {
    e.lastLookupInline = true;
    return;
  }
  emitGenericHelper(e, pc, id);
}

/** Facts of the map whose pointer register `r` holds as a known constant. */
function constMap(e: FnEmitter, r: number): MapFacts | undefined {
  const k = e.consts[r];
  if (k === null || k === undefined || k[1] !== 0 || k[0] === 0) return undefined;
  return e.pc.env.mapAt?.(k[0] >>> 0);
}

/**
 * The fast path of an inline lookup through the map's compiled lookup
 * function `lookup` (key address in, value address or -1 out): -1 means
 * the function cannot answer (a miss, or what it does not handle), and the
 * real helper runs instead.
 */
function lookupCall(e: FnEmitter, pc: number, lookup: FuncRef): () => void {
  const c = e.code;
  const t = e.temp('found', 'i64');
  return () => {
    e.get(2);
    c.op('i32.wrap_i64');
    c.call(lookup);
    c.localTee(t);
    c.i64(-1);
    c.op('i64.eq');
    c.if();
    emitGenericHelper(e, pc, 1);
    c.else();
    c.localGet(t);
    e.set(0);
    c.end();
  };
}

/**
 * `bpf_map_lookup_elem` on a map whose pointer is a constant, from the
 * layouts of docs/maps.md read at compile time:
 * - array: `r0 = key < max_entries ? storage + key * stride : 0`;
 * - hash: a call of the map's lookup function (jhash, then the chain).
 * The key pointer goes through an access-site cache whose miss runs the
 * real helper (same checks, same messages): the key is a helper argument,
 * checked in every mode.
 */
function emitInlineLookup(e: FnEmitter, pc: number): boolean {
  const facts = constMap(e, 1);
  if (facts === undefined) return false;
  const c = e.code;
  let fast: () => void;
  let keySize: number;
  let needsCheck = true;
  if ((facts.type === MapType.ARRAY || facts.type === MapType.PERCPU_ARRAY) && facts.keySize === 4) {
    const percpu = facts.type === MapType.PERCPU_ARRAY;
    keySize = 4;
    if (percpu) needsCheck = true;
    const key = e.temp('key', 'i32');
    fast = () => {
      e.get(2);
      c.op('i32.wrap_i64');
      c.op('i32.load', 0, 0);
      c.localTee(key);
      c.i32(facts.maxEntries);
      c.op('i32.lt_u');
      c.if(BLOCK_I64);
      c.i64(facts.storage);
      c.localGet(key);
      c.op('i64.extend_i32_u');
      c.i64(facts.stride * facts.cpus);
      c.op('i64.mul');
      c.op('i64.add');
      if (percpu) {
        c.globalGet(e.pc.cpu);
        c.op('i64.extend_i32_u');
        c.i64(facts.stride);
        c.op('i64.mul');
        c.op('i64.add');
      }
      c.else();
      c.i64(0);
      c.end();
      e.set(0);
    };
  } else if ((facts.type === MapType.HASH || facts.type === MapType.PERCPU_HASH) && facts.keySize <= MAX_INLINE_KEY) {
    keySize = facts.keySize;
    fast = lookupCall(e, pc, e.pc.hashLookup(facts));
  } else if (facts.type === MapType.LPM_TRIE && facts.keySize > 4) {
    keySize = facts.keySize;
    fast = lookupCall(e, pc, e.pc.lpmLookup(facts));
  } else {
    return false;
  }
  if (!e.copying) e.pc.stats.inlineLookups++;
  if (!needsCheck) {
    fast();
    return true;
  }
  const site = newSite(e, keySize);
  if (!e.copying) e.pc.stats.checkedAccesses++;
  emitSiteMiss(e, site, () => e.get(2));
  if (facts.type === MapType.PERCPU_ARRAY) {
    // A CPU without a slot: the helper raises the error.
    c.globalGet(e.pc.cpu);
    c.i32(facts.cpus);
    c.op('i32.ge_u');
    c.op('i32.or');
  }
  c.if();
  emitGenericHelper(e, pc, 1);
  // The helper accepted the key pointer: remember its region for the fast path.
  e.get(2);
  c.i32(keySize);
  c.i32(RegionAccess.read);
  c.call(e.pc.regionFind());
  const t = e.temp('packed', 'i64');
  c.localTee(t);
  c.i64(-1);
  c.op('i64.ne');
  c.if();
  c.localGet(t);
  emitStoreSite(e, site);
  c.end();
  c.else();
  fast();
  c.end();
  return true;
}

/**
 * `bpf_tail_call(ctx, map, index)`: jump to the target's body, or fall
 * through. The table holds bodies at slot 2 * program id (stubs that
 * compile the body on first use until then); with a constant prog array
 * the id is read from its storage in WebAssembly and the runtime is asked
 * only when the slot lies beyond the table.
 */
function emitTailCall(e: FnEmitter, pc: number): void {
  const c = e.code;
  const slot = e.temp('target', 'i32');
  if (!e.pc.usesTable) {
    e.m.importTable(ENV, ImportName.table, { min: 0 });
    e.pc.usesTable = true;
  }
  const resolve = () => {
    e.get(2);
    c.op('i32.wrap_i64');
    e.get(2);
    c.i64(32);
    c.op('i64.shr_u');
    c.op('i32.wrap_i64');
    e.get(3);
    c.op('i32.wrap_i64');
    c.i32(pc);
    c.call(e.pc.importFunc(ImportName.tailCall, ['i32', 'i32', 'i32', 'i32'], ['i32']));
    c.localSet(slot);
  };
  const jump = () => {
    c.localGet(slot);
    c.i32(0);
    c.op('i32.ge_s');
    c.if();
    c.globalGet(e.pc.tailCount);
    c.i32(1);
    c.op('i32.add');
    c.globalSet(e.pc.tailCount);
    e.syncBudgetOut();
    if (e.v.checked) {
      for (let r = 0; r <= 9; r++) e.get(r);
      c.localGet(e.fp);
      c.localGet(slot);
      c.returnCallIndirect(e.pc.bodyType);
    } else {
      for (let r = 1; r <= 5; r++) e.get(r);
      c.localGet(e.fp);
      c.localGet(slot);
      c.returnCallIndirect(e.pc.bodyType);
    }
    c.end();
  };
  c.globalGet(e.pc.tailCount);
  c.i32(MAX_TAIL_CALLS);
  c.op('i32.lt_u');
  c.if();
  const facts = constMap(e, 2);
  if (facts !== undefined && facts.type === MapType.PROG_ARRAY) {
    const id = e.temp('index', 'i32');
    // index < max_entries (the low 32 bits of r3, as the interpreter takes them)
    e.get(3);
    c.op('i32.wrap_i64');
    c.localTee(id);
    c.i32(facts.maxEntries);
    c.op('i32.lt_u');
    c.if();
    c.localGet(id);
    c.i32(2);
    c.op('i32.shl');
    c.mem('i32.load', 2, facts.storage);
    c.localTee(id);
    c.if();
    // slot = 2 * id; ask the runtime when the table has no body there yet.
    c.localGet(id);
    c.i32(1);
    c.op('i32.shl');
    // Every slot of the table holds the program's body or a stub that compiles it first;
    // only a slot beyond the table's end asks the runtime (which grows the table).
    c.localTee(slot);
    c.op('table.size', 0);
    c.op('i32.ge_u');
    c.if();
    resolve();
    c.end();
    jump();
    c.end();
    c.end();
  } else {
    resolve();
    jump();
  }
  c.end();
}

/** `callx rX`: the helper id is in a register (resolved by the runtime). */
export function emitCallx(e: FnEmitter, pc: number, dst: number): void {
  const c = e.code;
  emitSpill(e, 0, 10);
  c.localGet(e.fp);
  c.globalSet(e.pc.fpNow);
  e.syncBudgetOut();
  e.get(dst);
  c.op('i32.wrap_i64');
  c.i32(pc);
  c.call(e.pc.importFunc(ImportName.callx, ['i32', 'i32'], ['i32']));
  e.syncBudgetIn();
  emitReload(e, 0, 5);
  c.if();
  emitTailCall(e, pc);
  c.end();
}

/** bpf-to-bpf call: a new frame 512 bytes below, at most 8 frames deep. */
export function emitLocalCall(e: FnEmitter, pc: number, target: number): void {
  const c = e.code;
  const f = e.pc.funcs.get(target);
  if (f === undefined) throw new Error(`internal error: no function for slot ${target}`);
  c.localGet(e.fp);
  c.i32(STACK_SIZE);
  c.op('i32.sub');
  c.globalGet(e.pc.stackLimit);
  c.op('i32.le_u');
  c.if();
  c.i32(pc);
  c.call(e.pc.importFunc(ImportName.tooDeep, ['i32'], []));
  c.op('unreachable');
  c.end();
  e.syncBudgetOut();
  const full = e.v.checked;
  for (let r = full ? 0 : 1; r <= (full ? 9 : 5); r++) e.get(r);
  c.localGet(e.fp);
  c.i32(STACK_SIZE);
  c.op('i32.sub');
  c.call(f);
  for (let r = full ? 5 : 0; r >= 0; r--) e.set(r);
  e.syncBudgetIn();
}

/**
 * Legacy `ldabs`/`ldind`: big-endian packet data of the `__sk_buff` in r6
 * (`data` at 76, `data_end` at 80); out of bounds ends the run with r0 = 0.
 */
export function emitLegacyLoad(e: FnEmitter, i: LdAbsInsn | LdIndInsn, pc: number): void {
  const c = e.code;
  const size = i.size;
  const ctx = e.temp('addr', 'i32');
  const data = e.temp('ea', 'i64');
  const a = e.temp('old', 'i64');
  const full = fullCheck(e, pc);
  if (full) {
    // The context's data/data_end words: r6 + 76 when r6's high word is 0, else -1 + 76 (outside every region).
    const ea = e.temp('ctx', 'i64');
    e.get(6);
    c.i64(32);
    c.op('i64.shr_u');
    c.op('i64.eqz');
    c.if(BLOCK_I64);
    e.get(6);
    c.else();
    c.i64(-1);
    c.end();
    c.i64(76);
    c.op('i64.add');
    c.localSet(ea);
    emitSiteCheck(e, ea, 8, false, pc, () => {
      e.get(6);
      c.i32(76);
    });
    c.localGet(ea);
    c.op('i32.wrap_i64');
    c.localSet(ctx);
  } else {
    e.get(6);
    c.op('i32.wrap_i64');
    c.i32(76);
    c.op('i32.add');
    c.localSet(ctx);
    emitGuard(e, ctx, 8, PageRights.read, pc, () => e.get(6), 76);
  }
  // a = data + offset, or -1 when a + size > data_end; a negative offset
  // reads relative to the headers (vm/legacy-load.ts, through an import);
  // the load fails when a is -1.
  c.localGet(ctx);
  c.mem('i64.load32_u', 0, 0);
  c.localSet(data);
  const off = e.temp('off', 'i64');
  if (i.kind === 'ldind') {
    e.get(i.src);
    c.op('i32.wrap_i64');
    c.i32(i.imm);
    c.op('i32.add');
    c.op('i64.extend_i32_s');
  } else {
    c.i64(i.imm);
  }
  c.localTee(off);
  c.i64(0);
  c.op('i64.lt_s');
  c.if(BLOCK_I64);
  {
    const at = e.temp('legacy', 'i32');
    c.localGet(ctx);
    c.i32(SkbWords.data);
    c.op('i32.sub');
    c.localGet(off);
    c.op('i32.wrap_i64');
    c.i32(size);
    c.call(e.pc.importFunc(ImportName.legacyAddress, ['i32', 'i32', 'i32'], ['i32']));
    c.localTee(at);
    c.i32(-1);
    c.op('i32.eq');
    c.if(BLOCK_I64);
    c.i64(-1);
    c.else();
    c.localGet(at);
    c.op('i64.extend_i32_u');
    c.end();
  }
  c.else();
  c.localGet(data);
  c.localGet(off);
  c.op('i64.add');
  c.localTee(a);
  c.i64(size);
  c.op('i64.add');
  c.localGet(ctx);
  c.mem('i64.load32_u', 0, 4);
  c.op('i64.gt_u');
  c.if(BLOCK_I64);
  c.i64(-1);
  c.else();
  c.localGet(a);
  c.end();
  c.end();
  c.localTee(a);
  c.i64(0);
  c.op('i64.lt_s');
  c.if();
  c.i64(0);
  e.set(0);
  if (e.isMain) {
    e.returnSequence();
  } else {
    e.syncBudgetOut();
    c.i32(pc);
    c.call(e.pc.importFunc(ImportName.abortRun, ['i32'], []));
    c.op('unreachable');
  }
  c.end();
  if (full) {
    emitSiteCheck(e, a, size, false, pc, () => {
      c.localGet(a);
      c.i32(0);
    });
  } else {
    const a32 = e.temp('guarded', 'i32');
    c.localGet(a);
    c.op('i32.wrap_i64');
    c.localSet(a32);
    emitGuard(e, a32, size, PageRights.read, pc, () => c.localGet(a), 0);
  }
  c.localGet(a);
  c.op('i32.wrap_i64');
  if (size === 1) {
    c.mem('i64.load8_u', 0, 0);
  } else {
    c.mem(size === 2 ? 'i32.load16_u' : 'i32.load', 0, 0);
    if (size === 2) emitBswap16(e);
    else emitBswap32(e);
    c.op('i64.extend_i32_u');
  }
  e.set(0);
}
