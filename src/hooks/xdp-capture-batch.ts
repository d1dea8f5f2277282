/**
 * The per-packet work of an XDP run over a pcap file, in WebAssembly: a
 * chunk of the file read into the address space is staged record by record
 * into the XDP contexts of a batch (`stage`), the JIT runs the batch in one
 * call, and the verdicts are turned into pcap records of the packets to
 * keep (`collect`). JavaScript then does per batch what it did per packet
 * (node/pcap-batches.ts): with no call, view or allocation per packet, a
 * capture runs at the speed of the copies.
 *
 * Both functions read and write a control block in the address space
 * ({@link Control}); staging does what `XdpContext.loadFrom` does (the
 * kernel test run's checks and context, the buffer cleared where the last
 * run may have written), collecting what `XdpContext.outRange` and
 * `CaptureWriter.writeRecordFrom` do.
 */
import { MAX_RECORD } from '../capture/read.js';
import type { FuncDef } from '../jit/wasm/module.js';
import type { FuncRef } from '../jit/wasm/code.js';
import { ModuleBuilder } from '../jit/wasm/module.js';
import { BLOCK_I32 } from '../jit/wasm/opcodes.js';
import type { Code } from '../jit/wasm/code.js';
import { XDP_BUFFER_SIZE, XDP_HEADROOM, XDP_MAX_FRAME, XdpMd } from './xdp.js';

/** Byte offsets of the control block's u32 words. */
export const Control = {
  /** In: address of the staged file data and how many bytes of it are held. */
  stage: 0,
  held: 4,
  /** In/out: offset in the stage of the next record. */
  at: 8,
  /** In: {@link ControlFlag}s. */
  flags: 12,
  /** In: the longest record kept (the file's snapshot length, at most MAX_RECORD). */
  snapshot: 16,
  /** In: packets per batch. */
  capacity: 20,
  /** Out of `stage`: records staged (frames refused by the test run included) and contexts filled. */
  fill: 24,
  staged: 28,
  /** Out: {@link ControlError}, and the record length or slot it concerns. */
  error: 32,
  errorValue: 36,
  /** In: the slot table (per slot: ctx, packet buffer, dirty cell, unused; u32 each). */
  slots: 40,
  /** In: the record table ({@link RECORD_FIELDS} u32 per record). */
  records: 44,
  /** In: where collected pcap records go, and how many bytes fit there. */
  out: 48,
  outSize: 52,
  /** In/out of `collect`: the next record to collect; in: collect stops before `until`. */
  next: 56,
  until: 60,
  /** In: the verdict (u32) of each slot. */
  retvals: 64,
  /** In: the kept-record list ({@link KEPT_FIELDS} u32 per kept packet). */
  kept: 68,
  /** Out of `collect`: kept packets, and bytes of pcap records written at `out`. */
  keptCount: 72,
  outUsed: 76,
  /** In: the `ingress_ifindex` of every packet. */
  ifindex: 80,
  /** In: worker threads sharing the file, and this one's index: a record is staged only where its flow hash modulo `workers` is `worker`. */
  workers: 84,
  worker: 88,
  /** In/out: the file index of the record at `at`. */
  packet: 92,
  /** In: a destination (u8) per {@link verdictCode}, 0 for packets not kept. */
  destinations: 96,
  /**
   * In/out of `collect`, a u32 per {@link verdictCode}: the records
   * collected, their bytes (as read from the file), and the first of them
   * (its place in the record table; 0xffffffff while none), so that
   * JavaScript counts a batch per code, not per packet. The caller clears
   * them before a batch's first `collect`.
   */
  packets: 108,
  bytes: 148,
  first: 188,
} as const;

/** Verdict codes: 0..7, {@link OTHER_VERDICT} and {@link REFUSED_CODE}. */
export const VERDICT_CODES = 10;

/** Bytes of the control block. */
export const CONTROL_SIZE = Control.first + 4 * VERDICT_CODES;

/** Bits of {@link Control.flags}. */
export const ControlFlag = { bigEndian: 1, nanosecond: 2, checked: 4 } as const;

/** Values of {@link Control.error}. */
export const ControlError = { none: 0, recordTooLarge: 1, contextOverwritten: 2 } as const;

/** u32 fields of a record in the record table: frame address, sec, nsec, kept length, bytes cut off, slot (-1: refused), index in the file. */
export const RECORD_FIELDS = 7;
export const RecordField = { frame: 0, sec: 1, nsec: 2, length: 3, cutOff: 4, slot: 5, index: 6 } as const;

/** u32 fields of an entry of the kept-record list: destination, bytes of the pcap record, index in the file. */
export const KEPT_FIELDS = 3;

/** u32 fields of a slot in the slot table. */
export const SLOT_FIELDS = 4;

/** Verdicts 0..7 are their own code; larger ones share {@link OTHER_VERDICT}, refused frames {@link REFUSED_CODE}. */
export const OTHER_VERDICT = 8;
export const REFUSED_CODE = 9;

/** The code of a verdict in {@link Control.destinations}. */
export function verdictCode(retval: number): number {
  return retval >>> 0 < OTHER_VERDICT ? retval >>> 0 : OTHER_VERDICT;
}

/** The two functions over one memory. */
export interface CaptureBatchKernels {
  /** Stages records from `at` until the batch is full, the held data ends or a record is too large. */
  stage(control: number): void;
  /** Writes the records from `next` to `until` of the packets to keep, until the output area is full or the context of one was overwritten. */
  collect(control: number): void;
  /** runtime/flow-hash.ts's `flowHash` of the `length` bytes at `frame`. */
  flowHash(frame: number, length: number): number;
}

const kernels = new WeakMap<WebAssembly.Memory, CaptureBatchKernels>();

/** The kernels over `memory` (compiled once per process, instantiated once per memory). */
export function captureBatchKernels(memory: WebAssembly.Memory, shared: boolean): CaptureBatchKernels {
  let k = kernels.get(memory);
  if (k === undefined) {
    const instance = new WebAssembly.Instance(compiled(shared), { env: { memory } });
    const exports = instance.exports as unknown as { stage: (c: number) => void; collect: (c: number) => void; flow_hash: (f: number, n: number) => number };
    const hash = exports.flow_hash;
    k = { stage: exports.stage, collect: exports.collect, flowHash: (frame, length) => hash(frame, length) >>> 0 };
    kernels.set(memory, k);
  }
  return k;
}

const modules = new Map<boolean, WebAssembly.Module>();

function compiled(shared: boolean): WebAssembly.Module {
  let m = modules.get(shared);
  if (m === undefined) {
    m = new WebAssembly.Module(build(shared) as Uint8Array<ArrayBuffer>);
    modules.set(shared, m);
  }
  return m;
}

/** Local-variable helper: names for readability of the emitting code. */
class Fn {
  readonly c: Code;
  constructor(readonly m: ModuleBuilder, readonly def: FuncDef) {
    this.c = def.code;
  }

  local(name: string): number {
    return this.m.local(this.def, 'i32', name);
  }

  /** local = control[field] */
  loadControl(local: number, field: number): void {
    this.c.localGet(0).mem('i32.load', 2, field).localSet(local);
  }

  /** control[field] = local */
  storeControl(field: number, local: number): void {
    this.c.localGet(0).localGet(local).mem('i32.store', 2, field);
  }
}

function build(shared: boolean): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory('env', 'memory', shared ? { min: 1, max: 65536, shared: true } : { min: 1 });
  const hash = emitFlowHash(m);
  m.exportFunc('flow_hash', hash);
  const type = m.type(['i32'], []);
  const stage = m.func('stage', type, ['control']);
  emitStage(new Fn(m, stage.def), hash);
  m.exportFunc('stage', stage.ref);
  const collect = m.func('collect', type, ['control']);
  emitCollect(new Fn(m, collect.def));
  m.exportFunc('collect', collect.ref);
  return m.encode().bytes;
}

/** Pushes the u32 at `addr + offset` of the file, byte-swapped when the file is big-endian (`big` is a local holding 0 or 1). */
function fileU32(f: Fn, addr: number, offset: number, big: number): void {
  const c = f.c;
  c.localGet(big);
  c.if(BLOCK_I32);
  // bswap: (x rotl 8) & 0x00ff00ff | (x rotr 8) & 0xff00ff00
  c.localGet(addr).mem('i32.load', 0, offset).i32(8).op('i32.rotl').i32(0x00ff00ff).op('i32.and');
  c.localGet(addr).mem('i32.load', 0, offset).i32(8).op('i32.rotr').i32(0xff00ff00).op('i32.and');
  c.op('i32.or');
  c.else();
  c.localGet(addr).mem('i32.load', 0, offset);
  c.end();
}

const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SEED = 0x811c9dc5;
const MIX = 0xcc9e2d51;
const GOLDEN = 0x9e3779b1;

/**
 * `flow_hash(frame, len) -> u32`: runtime/flow-hash.ts's `flowHash` (the
 * worker a packet goes to), bit for bit: the two addresses and the two
 * ports XORed, the protocol, murmur3's finaliser.
 * `src/hooks/xdp-capture-batch.test.ts` holds the two equal on random frames.
 */
function emitFlowHash(m: ModuleBuilder): FuncRef {
  // fnv(ptr, len) -> h, for frames shorter than an Ethernet header
  const fnv = m.func('fnv', m.type(['i32', 'i32'], ['i32']), ['ptr', 'len']);
  {
    const c = fnv.def.code;
    const end = m.local(fnv.def, 'i32', 'end');
    const h = m.local(fnv.def, 'i32', 'h');
    c.i32(FNV_BASIS).localSet(h);
    c.localGet(0).localGet(1).op('i32.add').localSet(end);
    c.block().loop();
    c.localGet(0).localGet(end).op('i32.ge_u').brIf(1);
    c.localGet(h).localGet(0).mem('i32.load8_u', 0, 0).op('i32.xor').i32(FNV_PRIME).op('i32.mul').localSet(h);
    c.localGet(0).i32(1).op('i32.add').localSet(0);
    c.br(0);
    c.end().end();
    c.localGet(h);
  }
  // fmix(h) -> h (called once per packet)
  const fmix = m.func('fmix', m.type(['i32'], ['i32']), ['h']);
  {
    const c = fmix.def.code;
    c.localGet(0).localGet(0).i32(16).op('i32.shr_u').op('i32.xor').i32(0x85ebca6b).op('i32.mul').localSet(0);
    c.localGet(0).localGet(0).i32(13).op('i32.shr_u').op('i32.xor').i32(0xc2b2ae35).op('i32.mul').localSet(0);
    c.localGet(0).localGet(0).i32(16).op('i32.shr_u').op('i32.xor');
  }
  const { ref, def } = m.func('flow_hash', m.type(['i32', 'i32'], ['i32']), ['frame', 'len']);
  const c = def.code;
  const frame = 0;
  const len = 1;
  const off = m.local(def, 'i32', 'off');
  const type = m.local(def, 'i32', 'type');
  const tags = m.local(def, 'i32', 'tags');
  const l3 = m.local(def, 'i32', 'l3');
  const ihl = m.local(def, 'i32', 'ihl');
  const proto = m.local(def, 'i32', 'proto');
  const l4 = m.local(def, 'i32', 'l4');
  const ports = m.local(def, 'i32', 'ports');
  const h = m.local(def, 'i32', 'h');
  const be16 = (at: number, plus: number): void => {
    c.localGet(frame).localGet(at).op('i32.add').mem('i32.load8_u', 0, plus).i32(8).op('i32.shl');
    c.localGet(frame).localGet(at).op('i32.add').mem('i32.load8_u', 0, plus + 1).op('i32.or');
  };
  const byteAt = (at: number, plus: number): void => {
    c.localGet(frame).localGet(at).op('i32.add').mem('i32.load8_u', 0, plus);
  };
  /** Pushes whether `p` is TCP, UDP, SCTP or UDP-Lite. */
  const portProtocol = (p: number): void => {
    c.localGet(p).i32(6).op('i32.eq');
    c.localGet(p).i32(17).op('i32.eq').op('i32.or');
    c.localGet(p).i32(132).op('i32.eq').op('i32.or');
    c.localGet(p).i32(136).op('i32.eq').op('i32.or');
  };
  /** Pushes the u32 at frame + `at` + `plus` XORed with the one `apart` bytes further. */
  const xorWords = (at: number, plus: number, apart: number, load: 'i32.load' | 'i32.load16_u' = 'i32.load'): void => {
    c.localGet(frame).localGet(at).op('i32.add').mem(load, 0, plus);
    c.localGet(frame).localGet(at).op('i32.add').mem(load, 0, plus + apart);
    c.op('i32.xor');
  };
  /** h = rotl((h ^ w) * MIX, 15), w on the stack (murmur3's block step). */
  const mixInto = (): void => {
    c.localGet(h).op('i32.xor').i32(MIX).op('i32.mul').i32(15).op('i32.rotl').localSet(h);
  };
  /** Pushes the transport part (runtime/flow-hash.ts's `transport`): the XORed ports when `ports`, the protocol. */
  const transport = (): void => {
    c.localGet(ports);
    c.if(BLOCK_I32);
    xorWords(l4, 0, 2, 'i32.load16_u');
    c.i32(0x10000).op('i32.or');
    c.else();
    c.i32(0);
    c.end();
    c.localGet(proto).i32(17).op('i32.shl').op('i32.xor').i32(GOLDEN).op('i32.mul');
  };
  /** Returns fmix(src ^ dst ^ transport) for IPv4 (l3, l4, proto and ports set). */
  const ipv4 = (): void => {
    xorWords(l3, 12, 4);
    transport();
    c.op('i32.xor').call(fmix.ref).op('return');
  };
  c.localGet(len).i32(14).op('i32.lt_u');
  c.if();
  c.localGet(frame).localGet(len).call(fnv.ref).call(fmix.ref).op('return');
  c.end();
  // the common frame first, the same hash as the general walk below: IPv4 with no tag and no options
  c.localGet(len).i32(34).op('i32.ge_u');
  c.localGet(frame).mem('i32.load16_u', 0, 12).i32(0x0008).op('i32.eq').op('i32.and'); // EtherType 0x0800, read little-endian
  c.localGet(frame).mem('i32.load8_u', 0, 14).i32(0x45).op('i32.eq').op('i32.and');
  c.if();
  c.i32(14).localSet(l3);
  c.i32(34).localSet(l4);
  c.localGet(frame).mem('i32.load8_u', 0, 23).localSet(proto);
  // no fragment bits (the big-endian 0x3fff of the flags and offset, read little-endian), a port protocol, the ports in the frame
  c.localGet(frame).mem('i32.load16_u', 0, 20).i32(0xff3f).op('i32.and').op('i32.eqz');
  portProtocol(proto);
  c.op('i32.and');
  c.localGet(len).i32(38).op('i32.ge_u').op('i32.and');
  c.localSet(ports);
  ipv4();
  c.end();
  c.i32(12).localSet(off);
  be16(off, 0);
  c.localSet(type);
  // up to two 802.1Q / 802.1ad tags
  c.block().loop();
  c.localGet(tags).i32(2).op('i32.ge_u').brIf(1);
  c.localGet(type).i32(0x8100).op('i32.ne').localGet(type).i32(0x88a8).op('i32.ne').op('i32.and').brIf(1);
  c.localGet(off).i32(6).op('i32.add').localGet(len).op('i32.gt_u').brIf(1);
  c.localGet(off).i32(4).op('i32.add').localSet(off);
  be16(off, 0);
  c.localSet(type);
  c.localGet(tags).i32(1).op('i32.add').localSet(tags);
  c.br(0);
  c.end().end();
  c.localGet(off).i32(2).op('i32.add').localSet(l3);
  // IPv4
  c.localGet(type).i32(0x0800).op('i32.eq');
  c.localGet(l3).i32(20).op('i32.add').localGet(len).op('i32.le_u').op('i32.and');
  c.if();
  byteAt(l3, 0);
  c.i32(4).op('i32.shr_u').i32(4).op('i32.eq');
  c.if();
  byteAt(l3, 0);
  c.i32(15).op('i32.and').i32(4).op('i32.mul').localSet(ihl);
  byteAt(l3, 9);
  c.localSet(proto);
  c.localGet(l3).localGet(ihl).op('i32.add').localSet(l4);
  // ports: not a fragment (MF or an offset), a port protocol, ihl >= 20, and the ports in the frame
  be16(l3, 6);
  c.i32(0x3fff).op('i32.and').op('i32.eqz');
  portProtocol(proto);
  c.op('i32.and');
  c.localGet(ihl).i32(20).op('i32.ge_u').op('i32.and');
  c.localGet(l4).i32(4).op('i32.add').localGet(len).op('i32.le_u').op('i32.and');
  c.localSet(ports);
  ipv4();
  c.end();
  c.end();
  // IPv6: the address words pairwise XORed, a murmur3 step each
  c.localGet(type).i32(0x86dd).op('i32.eq');
  c.localGet(l3).i32(40).op('i32.add').localGet(len).op('i32.le_u').op('i32.and');
  c.if();
  byteAt(l3, 0);
  c.i32(4).op('i32.shr_u').i32(6).op('i32.eq');
  c.if();
  byteAt(l3, 6);
  c.localSet(proto);
  c.localGet(l3).i32(40).op('i32.add').localSet(l4);
  portProtocol(proto);
  c.localGet(l4).i32(4).op('i32.add').localGet(len).op('i32.le_u').op('i32.and');
  c.localSet(ports);
  c.i32(SEED).localSet(h);
  for (let k = 0; k < 4; k++) {
    xorWords(l3, 8 + 4 * k, 16);
    mixInto();
  }
  c.localGet(h);
  transport();
  c.op('i32.xor').call(fmix.ref).op('return');
  c.end();
  c.end();
  // anything else: the two MAC addresses XORed, and the type
  c.i32(SEED).localSet(h);
  c.localGet(frame).mem('i32.load', 0, 0).localGet(frame).mem('i32.load', 0, 6).op('i32.xor');
  mixInto();
  c.localGet(frame).mem('i32.load16_u', 0, 4).localGet(frame).mem('i32.load16_u', 0, 10).op('i32.xor');
  mixInto();
  c.localGet(h).localGet(type).op('i32.xor');
  c.call(fmix.ref);
  return ref;
}

/** Copies below this size go 8 bytes at a time in the function; larger ones through memory.copy (a call in V8). */
const INLINE_COPY = 256;

/**
 * Copies `len` bytes from `src` to `dst` (locals; the ranges do not
 * overlap), using `i` as a scratch local: packets are short, and a loop of
 * 8-byte moves beats the call behind memory.copy for them.
 */
function copy(f: Fn, dst: number, src: number, len: number, i: number): void {
  const c = f.c;
  c.localGet(len).i32(INLINE_COPY).op('i32.ge_u');
  c.if();
  c.localGet(dst).localGet(src).localGet(len).op('memory.copy');
  c.else();
  c.i32(0).localSet(i);
  // whole words, then the bytes left
  c.block();
  c.loop();
  c.localGet(i).i32(8).op('i32.add').localGet(len).op('i32.gt_u').brIf(1);
  c.localGet(dst).localGet(i).op('i32.add');
  c.localGet(src).localGet(i).op('i32.add').mem('i64.load', 0, 0);
  c.mem('i64.store', 0, 0);
  c.localGet(i).i32(8).op('i32.add').localSet(i);
  c.br(0);
  c.end();
  c.end();
  c.block();
  c.loop();
  c.localGet(i).localGet(len).op('i32.ge_u').brIf(1);
  c.localGet(dst).localGet(i).op('i32.add');
  c.localGet(src).localGet(i).op('i32.add').mem('i32.load8_u', 0, 0);
  c.mem('i32.store8', 0, 0);
  c.localGet(i).i32(1).op('i32.add').localSet(i);
  c.br(0);
  c.end();
  c.end();
  c.end();
}

/** Zeroes [`from`, `to`) (locals; nothing when `to` <= `from`). */
function zero(f: Fn, from: number, to: number): void {
  const c = f.c;
  c.localGet(to).localGet(from).op('i32.gt_u');
  c.if();
  c.localGet(from).i32(0).localGet(to).localGet(from).op('i32.sub').op('memory.fill');
  c.end();
}

function emitStage(f: Fn, hash: FuncRef): void {
  const c = f.c;
  const stage = f.local('stage');
  const held = f.local('held');
  const at = f.local('at');
  const flags = f.local('flags');
  const big = f.local('big');
  const snapshot = f.local('snapshot');
  const capacity = f.local('capacity');
  const fill = f.local('fill');
  const staged = f.local('staged');
  const slots = f.local('slots');
  const records = f.local('records');
  const ifindex = f.local('ifindex');
  const rec = f.local('rec');
  const caplen = f.local('caplen');
  const len = f.local('len');
  const r = f.local('r');
  const slot = f.local('slot');
  const ctx = f.local('ctx');
  const dirty = f.local('dirty');
  const data = f.local('data');
  const orig = f.local('orig');
  const low = f.local('low');
  const high = f.local('high');
  const src = f.local('src');
  const i = f.local('i');
  const workers = f.local('workers');
  const worker = f.local('worker');
  const packet = f.local('packet');
  f.loadControl(stage, Control.stage);
  f.loadControl(held, Control.held);
  f.loadControl(at, Control.at);
  f.loadControl(flags, Control.flags);
  f.loadControl(snapshot, Control.snapshot);
  f.loadControl(capacity, Control.capacity);
  f.loadControl(slots, Control.slots);
  f.loadControl(records, Control.records);
  f.loadControl(ifindex, Control.ifindex);
  f.loadControl(workers, Control.workers);
  f.loadControl(worker, Control.worker);
  f.loadControl(packet, Control.packet);
  c.localGet(flags).i32(ControlFlag.bigEndian).op('i32.and').localSet(big);
  c.localGet(0).i32(ControlError.none).mem('i32.store', 2, Control.error);
  c.block();
  c.loop();
  // the batch is full
  c.localGet(fill).localGet(capacity).op('i32.ge_u').brIf(1);
  // not even a record header left
  c.localGet(held).localGet(at).op('i32.sub').i32(16).op('i32.lt_u').brIf(1);
  c.localGet(stage).localGet(at).op('i32.add').localSet(rec);
  fileU32(f, rec, 8, big);
  c.localSet(caplen);
  c.localGet(caplen).i32(MAX_RECORD).op('i32.gt_u');
  c.if();
  c.localGet(0).i32(ControlError.recordTooLarge).mem('i32.store', 2, Control.error);
  c.localGet(0).localGet(caplen).mem('i32.store', 2, Control.errorValue);
  c.br(2);
  c.end();
  // the record's bytes are not all held yet
  c.localGet(held).localGet(at).op('i32.sub').i32(16).op('i32.sub').localGet(caplen).op('i32.lt_u').brIf(1);
  // len = min(caplen, snapshot)
  c.localGet(caplen).localGet(snapshot).localGet(caplen).localGet(snapshot).op('i32.lt_u').op('select').localSet(len);
  // another worker's flow: skipped
  c.localGet(workers).i32(1).op('i32.gt_u');
  c.if();
  c.localGet(rec).i32(16).op('i32.add').localGet(len).call(hash).localGet(workers).op('i32.rem_u').localGet(worker).op('i32.ne');
  c.if();
  c.localGet(at).i32(16).op('i32.add').localGet(caplen).op('i32.add').localSet(at);
  c.localGet(packet).i32(1).op('i32.add').localSet(packet);
  c.br(2);
  c.end();
  c.end();
  // r = records + fill * RECORD_FIELDS * 4
  c.localGet(records).localGet(fill).i32(RECORD_FIELDS * 4).op('i32.mul').op('i32.add').localSet(r);
  c.localGet(r).localGet(rec).i32(16).op('i32.add').mem('i32.store', 2, RecordField.frame * 4);
  c.localGet(r);
  fileU32(f, rec, 0, big);
  c.mem('i32.store', 2, RecordField.sec * 4);
  c.localGet(r);
  fileU32(f, rec, 4, big);
  // microseconds to nanoseconds unless the file has nanoseconds
  c.i32(1).i32(1000).localGet(flags).i32(ControlFlag.nanosecond).op('i32.and').op('select').op('i32.mul');
  c.mem('i32.store', 2, RecordField.nsec * 4);
  c.localGet(r).localGet(len).mem('i32.store', 2, RecordField.length * 4);
  c.localGet(r).localGet(packet).mem('i32.store', 2, RecordField.index * 4);
  fileU32(f, rec, 12, big);
  c.localSet(orig);
  // cutOff = max(0, orig - len)
  c.localGet(r);
  c.localGet(orig).localGet(len).op('i32.sub').i32(0).localGet(orig).localGet(len).op('i32.gt_u').op('select');
  c.mem('i32.store', 2, RecordField.cutOff * 4);
  // the test run refuses frames shorter than an Ethernet header or longer than the linear buffer
  c.localGet(len).i32(14).op('i32.lt_u').localGet(len).i32(XDP_MAX_FRAME).op('i32.gt_u').op('i32.or');
  c.if();
  c.localGet(r).i32(-1).mem('i32.store', 2, RecordField.slot * 4);
  c.else();
  c.localGet(slots).localGet(staged).i32(SLOT_FIELDS * 4).op('i32.mul').op('i32.add').localSet(slot);
  c.localGet(slot).mem('i32.load', 2, 0).localSet(ctx);
  c.localGet(slot).mem('i32.load', 2, 8).localSet(dirty);
  c.localGet(slot).mem('i32.load', 2, 4).i32(XDP_HEADROOM).op('i32.add').localSet(data);
  // clear what the last run may have written and the frame does not cover: [low, data) and [data + len, high)
  c.localGet(dirty).mem('i32.load', 2, 0).localSet(low);
  c.localGet(dirty).mem('i32.load', 2, 4).localSet(high);
  c.localGet(data).localGet(high).localGet(data).localGet(high).op('i32.lt_u').op('select').localSet(orig);
  zero(f, low, orig);
  c.localGet(data).localGet(len).op('i32.add').localSet(orig);
  c.localGet(orig).localGet(low).localGet(orig).localGet(low).op('i32.gt_u').op('select').localSet(orig);
  zero(f, orig, high);
  c.localGet(rec).i32(16).op('i32.add').localSet(src);
  copy(f, data, src, len, i);
  c.localGet(dirty).localGet(data).mem('i32.store', 2, 0);
  c.localGet(dirty).localGet(data).localGet(len).op('i32.add').mem('i32.store', 2, 4);
  c.localGet(ctx).localGet(data).mem('i32.store', 2, XdpMd.data);
  c.localGet(ctx).localGet(data).localGet(len).op('i32.add').mem('i32.store', 2, XdpMd.data_end);
  c.localGet(ctx).localGet(data).mem('i32.store', 2, XdpMd.data_meta);
  c.localGet(ctx).localGet(ifindex).mem('i32.store', 2, XdpMd.ingress_ifindex);
  c.localGet(ctx).i32(0).mem('i32.store', 2, XdpMd.rx_queue_index);
  c.localGet(ctx).i32(0).mem('i32.store', 2, XdpMd.egress_ifindex);
  c.localGet(r).localGet(staged).mem('i32.store', 2, RecordField.slot * 4);
  c.localGet(staged).i32(1).op('i32.add').localSet(staged);
  c.end();
  c.localGet(fill).i32(1).op('i32.add').localSet(fill);
  c.localGet(packet).i32(1).op('i32.add').localSet(packet);
  c.localGet(at).i32(16).op('i32.add').localGet(caplen).op('i32.add').localSet(at);
  c.br(0);
  c.end();
  c.end();
  f.storeControl(Control.at, at);
  f.storeControl(Control.fill, fill);
  f.storeControl(Control.staged, staged);
  f.storeControl(Control.packet, packet);
}

function emitCollect(f: Fn): void {
  const c = f.c;
  const next = f.local('next');
  const until = f.local('until');
  const records = f.local('records');
  const slots = f.local('slots');
  const retvals = f.local('retvals');
  const checked = f.local('checked');
  const pos = f.local('pos');
  const outEnd = f.local('outEnd');
  const kept = f.local('kept');
  const keptCount = f.local('keptCount');
  const r = f.local('r');
  const slotIndex = f.local('slotIndex');
  const slot = f.local('slot');
  const code = f.local('code');
  const start = f.local('start');
  const end = f.local('end');
  const ctx = f.local('ctx');
  const buf = f.local('buf');
  const meta = f.local('meta');
  const data = f.local('data');
  const dest = f.local('dest');
  const size = f.local('size');
  const out = f.local('out');
  const at = f.local('at');
  const i = f.local('i');
  const tally = f.local('tally');
  f.loadControl(next, Control.next);
  f.loadControl(until, Control.until);
  f.loadControl(records, Control.records);
  f.loadControl(slots, Control.slots);
  f.loadControl(retvals, Control.retvals);
  f.loadControl(kept, Control.kept);
  f.loadControl(out, Control.out);
  c.localGet(0).mem('i32.load', 2, Control.flags).i32(ControlFlag.checked).op('i32.and').localSet(checked);
  c.localGet(out).localSet(pos);
  c.localGet(out).localGet(0).mem('i32.load', 2, Control.outSize).op('i32.add').localSet(outEnd);
  c.i32(0).localSet(keptCount);
  c.localGet(0).i32(ControlError.none).mem('i32.store', 2, Control.error);
  c.block();
  c.loop();
  c.localGet(next).localGet(until).op('i32.ge_u').brIf(1);
  c.localGet(records).localGet(next).i32(RECORD_FIELDS * 4).op('i32.mul').op('i32.add').localSet(r);
  c.localGet(r).mem('i32.load', 2, RecordField.slot * 4).localSet(slotIndex);
  c.localGet(slotIndex).i32(0).op('i32.lt_s');
  c.if();
  // a refused frame: as read from the file
  c.i32(REFUSED_CODE).localSet(code);
  c.localGet(r).mem('i32.load', 2, RecordField.frame * 4).localSet(start);
  c.localGet(start).localGet(r).mem('i32.load', 2, RecordField.length * 4).op('i32.add').localSet(end);
  c.else();
  // code = min(retval, OTHER_VERDICT)
  c.localGet(retvals).localGet(slotIndex).i32(2).op('i32.shl').op('i32.add').mem('i32.load', 2, 0).localSet(code);
  c.localGet(code).i32(OTHER_VERDICT).localGet(code).i32(OTHER_VERDICT).op('i32.lt_u').op('select').localSet(code);
  c.localGet(slots).localGet(slotIndex).i32(SLOT_FIELDS * 4).op('i32.mul').op('i32.add').localSet(slot);
  c.localGet(slot).mem('i32.load', 2, 0).localSet(ctx);
  c.localGet(slot).mem('i32.load', 2, 4).localSet(buf);
  c.localGet(ctx).mem('i32.load', 2, XdpMd.data_meta).localSet(meta);
  c.localGet(ctx).mem('i32.load', 2, XdpMd.data).localSet(data);
  c.localGet(ctx).mem('i32.load', 2, XdpMd.data_end).localSet(end);
  // data_out is [data_meta, data_end), trusted only inside the buffer (XdpContext.outRange)
  c.localGet(meta).localGet(buf).op('i32.lt_u');
  c.localGet(data).localGet(meta).op('i32.lt_u').op('i32.or');
  c.localGet(end).localGet(data).op('i32.lt_u').op('i32.or');
  c.localGet(end).localGet(buf).i32(XDP_BUFFER_SIZE).op('i32.add').op('i32.gt_u').op('i32.or');
  c.if();
  c.localGet(0).i32(ControlError.contextOverwritten).mem('i32.store', 2, Control.error);
  c.localGet(0).localGet(slotIndex).mem('i32.store', 2, Control.errorValue);
  c.br(3);
  c.end();
  c.localGet(meta).localSet(start);
  // a run checked only against the regions may have written anywhere in the buffer (XdpContext.assumeWritten)
  c.localGet(checked);
  c.if();
  c.localGet(slot).mem('i32.load', 2, 8).localGet(buf).mem('i32.store', 2, 0);
  c.localGet(slot).mem('i32.load', 2, 8).localGet(buf).i32(XDP_BUFFER_SIZE).op('i32.add').mem('i32.store', 2, 4);
  c.end();
  c.end();
  c.localGet(code).i32(2).op('i32.shl').localSet(tally);
  c.localGet(0).localGet(code).op('i32.add').mem('i32.load8_u', 0, Control.destinations).localSet(dest);
  c.localGet(dest);
  c.if();
  c.localGet(end).localGet(start).op('i32.sub').localSet(size);
  // the output area is full: the caller writes it out and collects again from here
  c.localGet(pos).i32(16).op('i32.add').localGet(size).op('i32.add').localGet(outEnd).op('i32.gt_u').brIf(2);
  // a pcap record (little-endian, microseconds), as CaptureWriter writes one
  c.localGet(pos).localGet(r).mem('i32.load', 2, RecordField.sec * 4).mem('i32.store', 0, 0);
  c.localGet(pos).localGet(r).mem('i32.load', 2, RecordField.nsec * 4).i32(1000).op('i32.div_u').mem('i32.store', 0, 4);
  c.localGet(pos).localGet(size).mem('i32.store', 0, 8);
  c.localGet(pos).localGet(size).localGet(r).mem('i32.load', 2, RecordField.cutOff * 4).op('i32.add').mem('i32.store', 0, 12);
  c.localGet(pos).i32(16).op('i32.add').localSet(at);
  copy(f, at, start, size, i);
  c.localGet(kept).localGet(keptCount).i32(KEPT_FIELDS * 4).op('i32.mul').op('i32.add').localSet(at);
  c.localGet(at).localGet(dest).mem('i32.store', 2, 0);
  c.localGet(at).localGet(size).i32(16).op('i32.add').mem('i32.store', 2, 4);
  c.localGet(at).localGet(r).mem('i32.load', 2, RecordField.index * 4).mem('i32.store', 2, 8);
  c.localGet(keptCount).i32(1).op('i32.add').localSet(keptCount);
  c.localGet(pos).i32(16).op('i32.add').localGet(size).op('i32.add').localSet(pos);
  c.end();
  // counted once collected (a record whose output did not fit is collected by the next call)
  c.localGet(0).localGet(tally).op('i32.add').localSet(tally);
  c.localGet(tally).localGet(tally).mem('i32.load', 2, Control.packets).i32(1).op('i32.add').mem('i32.store', 2, Control.packets);
  c.localGet(tally).localGet(tally).mem('i32.load', 2, Control.bytes).localGet(r).mem('i32.load', 2, RecordField.length * 4).op('i32.add').mem('i32.store', 2, Control.bytes);
  c.localGet(tally).mem('i32.load', 2, Control.first).i32(-1).op('i32.eq');
  c.if();
  c.localGet(tally).localGet(next).mem('i32.store', 2, Control.first);
  c.end();
  c.localGet(next).i32(1).op('i32.add').localSet(next);
  c.br(0);
  c.end();
  c.end();
  f.storeControl(Control.next, next);
  f.storeControl(Control.keptCount, keptCount);
  c.localGet(0).localGet(pos).localGet(out).op('i32.sub').mem('i32.store', 2, Control.outUsed);
}
