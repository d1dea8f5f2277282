/**
 * Families about pointers and program structure, each with its accesses at
 * the edge of what is allowed (the last valid byte, or one past it):
 *
 * - `ptr`: arithmetic on every pointer type reachable without kernel BTF
 *   (ctx, stack, packet, packet meta and end, map value, map value or
 *   null, map pointer, ring buffer memory), constant and variable offsets,
 *   offsets near BPF_MAX_VAR_OFF, forbidden operators, then an access;
 * - `pkt`: packet bounds checks in every form and order (JMP and the
 *   reversed operands), packet meta against data, variable offsets,
 *   accesses inside the checked range or one past it, writes, helpers that
 *   invalidate packet pointers;
 * - `stack`: spills and fills of pointers and scalars (8-byte, partial,
 *   misaligned, overwritten halves), frame bounds, stack zeroing with ST;
 * - `ctx`: context loads and stores at the edges of each field, for
 *   several program types, and through a moved context pointer;
 * - `map`: lookups in array/hash/per-CPU maps, null checks (or none),
 *   constant offsets at the value's end, direct value addresses, helper
 *   key/value arguments at the edge of the stack, ring buffer records;
 * - `loop`: bounded loops and `may_goto` loops that index a map value or
 *   the stack with the counter, the last iteration at the edge;
 * - `subprog`: bpf-to-bpf calls passing stack, map value and packet
 *   pointers and scalars, callee writes into the caller's frame, returned
 *   scalars checked at their edge, combined stack depth at the limit.
 */
import { CTX_ACCESS } from '../../../src/verifier/ctx-access.js';
import { emitBad, type UseRegs } from './edges.js';
import { Asm, EDGE_IMM32, finish, MAP_ARRAY, MAP_ARRAY_SMALL, MAP_HASH, MAP_PERCPU, MAP_RINGBUF, Rand, skeleton, TYPES, fuzzMaps, type FuzzProgram, type Skeleton } from './gen.js';
import type { Generated, Generator, UseFn } from './families.js';
import { ScalarBody, PROFILES } from './scalar.js';

const SIZES = [1, 2, 4, 8] as const;

function ot(off: number): string {
  return off < 0 ? `- ${-off}` : `+ ${off}`;
}

function packetType(r: Rand): string {
  return r.weighted([['xdp', 4], ['sched_cls', 3], ['cgroup_skb', 1]] as const);
}

/** `rD = *(uS *)(rB + off)` or a store, chosen at random. */
function access(a: Asm, r: Rand, base: number, off: number, size: number, canWrite = true): void {
  if (canWrite && r.chance(0.4)) {
    if (r.chance(0.5)) a.emit(`*(u${size * 8} *)(r${base} ${ot(off)}) = ${r.pick([0, 1, -1, 0x7f])}`);
    else a.emit(`*(u${size * 8} *)(r${base} ${ot(off)}) = r0`);
  } else {
    a.emit(`r0 = *(u${size * 8} *)(r${base} ${ot(off)})`);
  }
}

/**
 * An offset for an access of `size` bytes in a region of `len` bytes
 * starting at `lo`: at an edge (the first or last valid position, or one
 * past either) with probability `edge`, else a valid aligned position.
 */
function edgeOff(r: Rand, lo: number, len: number, size: number, edge = 0.5): number {
  if (len < size || r.chance(edge)) {
    const k = r.int(0, 5);
    if (k === 0) return lo;
    if (k === 1) return lo - r.pick([1, size, 8]);
    if (k === 2 || k === 3) return lo + len - size;
    if (k === 4) return lo + len - size + r.pick([1, 1, 2, size]);
    return lo + r.int(-4, len + 4);
  }
  return lo + size * r.int(0, Math.floor((len - size) / size));
}

// ---------------------------------------------------------------------------

const ptrGen: Generator = (seed) => {
  const r = new Rand(seed);
  const type = packetType(r);
  const kind = r.weighted([['stack', 3], ['map', 4], ['pkt', 3], ['meta', 1], ['ctx', 1], ['end', 0.5], ['null', 1], ['mapptr', 0.5], ['ringbuf', 1.5]] as const);
  const sk = skeleton(r, kind === 'meta' && type === 'cgroup_skb' ? 'xdp' : type, { value: kind !== 'ringbuf' });
  const { a } = sk;
  const p = r.int(1, 4);
  let region = { lo: 0, len: 0 };
  switch (kind) {
    case 'stack':
      a.emit(`r${p} = r10`);
      region = { lo: -512, len: 512 };
      break;
    case 'map':
      a.emit(`r${p} = r9`);
      region = { lo: 0, len: sk.maps[sk.valueMap]!.value_size };
      break;
    case 'pkt':
      a.emit(`r${p} = r7`);
      region = { lo: 0, len: sk.pktChecked };
      break;
    case 'meta': {
      const meta = sk.type.dataMeta!;
      a.emit(`r${p} = *(u32 *)(r6 + ${meta})`);
      const n = r.pick([1, 4, 8, 16, 32]);
      a.emit('r5 = r' + p);
      a.emit(`r5 += ${n}`);
      a.emit(r.chance(0.5) ? `if r5 > r7 goto ${sk.out}` : `if r7 < r5 goto ${sk.out}`);
      region = { lo: 0, len: n };
      break;
    }
    case 'ctx':
      a.emit(`r${p} = r6`);
      region = { lo: 0, len: 4 };
      break;
    case 'end':
      a.emit(`r${p} = r8`);
      break;
    case 'null': {
      a.emit('*(u32 *)(r10 - 4) = 0');
      a.emit('r2 = r10');
      a.emit('r2 += -4');
      a.emit(`ld_pseudo r1, 1, ${MAP_ARRAY}`);
      a.emit('call bpf_map_lookup_elem');
      a.emit(`r${p} = r0`);
      region = { lo: 0, len: sk.maps[MAP_ARRAY]!.value_size };
      break;
    }
    case 'mapptr':
      a.emit(`ld_pseudo r${p}, 1, ${r.pick([MAP_ARRAY, MAP_HASH])}`);
      break;
    case 'ringbuf': {
      const size = r.pick([1, 4, 8, 12, 16, 64]);
      a.emit(`ld_pseudo r1, 1, ${MAP_RINGBUF}`);
      a.emit(`r2 = ${size}`);
      a.emit('r3 = 0');
      a.emit('call bpf_ringbuf_reserve');
      a.emit(`if r0 == 0 goto ${sk.out}`);
      a.emit('r9 = r0');
      a.emit(`r${p} = r9`);
      region = { lo: 0, len: size };
      break;
    }
  }
  // arithmetic: constant steps, a variable step, or a forbidden operator
  let fixed = 0;
  for (let i = r.int(0, 3); i > 0; i--) {
    const w = r.weighted([['add', 6], ['sub', 3], ['var', 2], ['big', 0.5], ['bad', 0.6], ['w32', 0.3]] as const);
    if (w === 'add' || w === 'sub') {
      const c = r.chance(0.7) ? r.int(-16, 24) : r.pick(EDGE_IMM32);
      a.emit(`r${p} ${w === 'add' ? '+=' : '-='} ${c}`);
      fixed += w === 'add' ? c : -c;
    } else if (w === 'var') {
      const s = p === 5 ? 0 : 5;
      a.emit(`r${s} = *(u8 *)(r10 - 1)`); // uninitialised stack byte: unknown (privileged)
      a.emit(`r${s} &= ${r.pick([0, 1, 3, 7, 15, 0xff])}`);
      a.emit(`r${p} ${r.chance(0.8) ? '+=' : '-='} r${s}`);
    } else if (w === 'big') {
      const c = r.pick([(1 << 29) - 1, 1 << 29, -(1 << 29) + 1, -(1 << 29), 0x7fffffff, -0x80000000]);
      a.emit(`r${p} += ${c}`);
      fixed += c;
    } else if (w === 'bad') {
      a.emit(`r${p} ${r.pick(['*=', '&=', '|=', '^=', '<<=', '>>=', 's>>=', '/='])} ${r.pick([1, 2, 0xff, 0])}`.replace('/= 0', '/= 1'));
    } else {
      a.emit(`w${p} += ${r.int(0, 8)}`);
    }
  }
  const size = r.pick(SIZES);
  let off: number;
  if (region.len > 0) off = edgeOff(r, region.lo, region.len, size) - fixed;
  else off = r.int(-8, 8);
  if (off < -32768 || off > 32767) off = r.int(-8, 8);
  const canWrite = kind !== 'ctx' && !(sk.type.name === 'cgroup_skb' && (kind === 'pkt'));
  if (r.chance(0.08)) {
    // pass the pointer to a helper instead (map key argument)
    a.emit(`r2 = r${p}`);
    a.emit(`ld_pseudo r1, 1, ${MAP_HASH}`);
    a.emit('call bpf_map_lookup_elem');
  } else if (r.chance(0.05)) {
    a.emit(`r0 = r${p}`); // leak a pointer as the return value
    a.emit('exit');
  } else {
    access(a, r, p, off, size, canWrite);
  }
  if (kind === 'ringbuf') {
    a.emit('r1 = r9');
    a.emit('r2 = 0');
    a.emit(r.chance(0.5) ? 'call bpf_ringbuf_submit' : 'call bpf_ringbuf_discard');
  }
  return { prog: finish(sk, 'ptr', seed, `${kind} fixed ${fixed} off ${off} size ${size}`) };
};

// ---------------------------------------------------------------------------

const pktGen: Generator = (seed) => {
  const r = new Rand(seed);
  const type = packetType(r);
  const sk = skeleton(r, type, { value: r.chance(0.5) });
  const { a } = sk;
  if (sk.type.data === undefined) return { prog: finish(sk, 'pkt', seed) };
  if (sk.pktChecked === 0 && r.chance(0.5)) {
    a.emit('r7 = *(u32 *)(r6 + ' + sk.type.data + ')');
  }
  const writable = sk.type.pktWrite;
  for (let i = r.int(1, 3); i > 0; i--) {
    const n = r.pick([1, 2, 4, 8, 14, 20, 34, 42, 54, 60, 64, 100]);
    const form = r.int(0, 7);
    const t = r.int(1, 5);
    const cont = a.label();
    let base = 7;
    if (r.chance(0.25)) {
      // a variable start: r7 + (unknown & mask)
      a.emit(`r${t === 5 ? 4 : 5} = *(u8 *)(r10 - 2)`);
      const s = t === 5 ? 4 : 5;
      a.emit(`r${s} &= ${r.pick([1, 7, 15, 0xff, 0x3fff, 0xffff])}`);
      a.emit(`r0 = r7`);
      a.emit(`r0 += r${s}`);
      base = 0;
    }
    a.emit(`r${t} = r${base}`);
    a.emit(`r${t} += ${n}`);
    const size = r.pick(SIZES);
    const off = r.chance(0.7) ? (r.chance(0.5) ? n - size : n - size + r.pick([1, 1, 2, size])) : r.int(-2, n + 2);
    const doAccess = (): void => {
      if (r.chance(0.15)) {
        // move the pointer past the checked range first
        a.emit(`r${base} += ${r.int(0, n)}`);
      }
      if (writable && r.chance(0.3)) a.emit(`*(u${size * 8} *)(r${base} ${ot(off)}) = 1`);
      else if (r.chance(0.05)) a.emit(`*(u${size * 8} *)(r${base} ${ot(off)}) = 1`);
      else a.emit(`r${r.chance(0.5) ? 0 : t} = *(u${size * 8} *)(r${base} ${ot(off)})`);
    };
    // forms: the taken side skips (access on the fall-through) or the taken side accesses
    switch (form) {
      case 0: a.emit(`if r${t} > r8 goto ${cont}`); doAccess(); break;
      case 1: a.emit(`if r8 < r${t} goto ${cont}`); doAccess(); break;
      case 2: a.emit(`if r${t} >= r8 goto ${cont}`); doAccess(); break; // one byte short
      case 3: a.emit(`if r8 <= r${t} goto ${cont}`); doAccess(); break;
      case 4: {
        const yes = a.label();
        a.emit(`if r${t} <= r8 goto ${yes}`);
        a.emit(`goto ${cont}`);
        a.place(yes);
        doAccess();
        break;
      }
      case 5: {
        const yes = a.label();
        a.emit(`if r8 >= r${t} goto ${yes}`);
        a.emit(`goto ${cont}`);
        a.place(yes);
        doAccess();
        break;
      }
      case 6: {
        const yes = a.label();
        a.emit(`if r${t} < r8 goto ${yes}`);
        a.emit(`goto ${cont}`);
        a.place(yes);
        doAccess();
        break;
      }
      default:
        // no check at all, or a 32-bit compare
        if (r.chance(0.5)) a.emit(`if w${t} > w8 goto ${cont}`);
        doAccess();
    }
    a.place(cont);
    if (r.chance(0.1) && sk.type.helpers.has('bpf_xdp_adjust_head')) {
      a.emit('r1 = r6');
      a.emit(`r2 = ${r.pick([0, 4, -4])}`);
      a.emit('call bpf_xdp_adjust_head');
    } else if (r.chance(0.1) && sk.type.helpers.has('bpf_skb_pull_data')) {
      a.emit('r1 = r6');
      a.emit('r2 = 0');
      a.emit('call bpf_skb_pull_data');
    }
  }
  if (r.chance(0.3)) {
    // a pointer compared with pkt_end (the taken side knows it is at or beyond the end), moved, compared again
    const t = r.int(1, 5);
    const n = r.pick([0, 1, 4, 14]);
    const l1 = a.label();
    const ok = a.label();
    const bad = a.label();
    a.emit(`r${t} = r7`);
    if (n) a.emit(`r${t} += ${n}`);
    const c1 = r.pick(['>', '>=', 'r8 <', 'r8 <=']);
    a.emit(c1.startsWith('r8') ? `if ${c1} r${t} goto ${l1}` : `if r${t} ${c1} r8 goto ${l1}`);
    a.emit(`goto ${ok}`);
    a.place(l1);
    a.emit(`r${t} ${r.pick(['+=', '-='])} ${r.pick([0, 1, 2, -1, 8])}`);
    const c2 = r.pick(['>', '>=', '<', '<=', '==', '!=']);
    a.emit(r.chance(0.5) ? `if r${t} ${c2} r8 goto ${ok}` : `if r8 ${c2} r${t} goto ${ok}`);
    a.emit(`goto ${bad}`);
    a.place(bad);
    a.emit('r0 = 0');
    a.emit('r0 = *(u64 *)(r0 + 0)');
    a.place(ok);
  }
  if (r.chance(0.5)) {
    // an access with the prologue's range
    const size = r.pick(SIZES);
    access(a, r, 7, sk.pktChecked ? edgeOff(r, 0, sk.pktChecked, size) : 0, size, writable);
  }
  return { prog: finish(sk, 'pkt', seed) };
};

// ---------------------------------------------------------------------------

/** Stack spills/fills of pointers and scalars; a filled scalar is checked at its edge. */
const stackGen: Generator = (seed, use) => {
  const r = new Rand(seed);
  const type = r.weighted([['xdp', 3], ['sched_cls', 2], ['kprobe', 1]] as const);
  const sk = skeleton(r, type);
  const { a } = sk;
  const body = new ScalarBody(sk, PROFILES['spill']!, [0, 1, 2, 3, 4]);
  body.prologue();
  const ptrs = [6, 9, 10, ...(sk.type.data !== undefined ? [7, 8] : [])];
  let filledPtr: { reg: number; from: number } | null = null;
  for (let i = r.int(2, 8); i > 0; i--) {
    const k = r.weighted([['spillptr', 3], ['spillscalar', 2], ['clobber', 1], ['st', 1], ['edge', 1], ['alu', 2]] as const);
    const slot = 8 * r.int(1, 8);
    if (k === 'spillptr') {
      const src = r.pick(ptrs);
      a.emit(`*(u64 *)(r10 - ${slot}) = r${src}`);
      if (r.chance(0.3)) {
        // overwrite part of the spilled pointer
        const sz = r.pick([1, 2, 4]);
        a.emit(`*(u${sz * 8} *)(r10 - ${slot - r.pick([0, 4].filter((x) => x + sz <= 8))}) = ${r.pick([0, 1])}`);
      }
      const d = r.int(1, 4);
      const fs = r.chance(0.9) ? 8 : r.pick([1, 2, 4]);
      a.emit(`r${d} = *(u${fs * 8} *)(r10 - ${slot - (fs === 8 ? 0 : r.pick([0, 8 - fs]))})`);
      body.live.delete(d);
      filledPtr = { reg: d, from: src };
    } else if (k === 'spillscalar') {
      body.spill();
    } else if (k === 'clobber') {
      // a 32-bit spill of a scalar, then an 8-byte fill
      const s = body.reg();
      a.emit(`*(u32 *)(r10 - ${slot}) = w${s}`);
      if (r.chance(0.5)) a.emit(`*(u32 *)(r10 - ${slot - 4}) = ${r.pick([0, 1, -1])}`);
      const d = r.int(0, 4);
      a.emit(`r${d} = *(u${r.pick([32, 64])} *)(r10 - ${slot})`);
      body.live.add(d);
    } else if (k === 'st') {
      const sz = r.pick(SIZES);
      a.emit(`*(u${sz * 8} *)(r10 - ${slot - (sz === 8 ? 0 : sz * r.int(0, 8 / sz - 1))}) = ${r.pick([0, 0, 1, -1, 0x7fffffff])}`);
      const d = r.int(0, 4);
      a.emit(`r${d} = *(u${r.pick(SIZES) * 8} *)(r10 - ${slot})`);
      body.live.add(d);
    } else if (k === 'edge') {
      const sz = r.pick(SIZES);
      const off = r.pick([-512, -512, -512 - sz, -sz, -sz, 0, -8 * r.int(1, 64), -512 + sz - 1]);
      if (r.chance(0.5)) a.emit(`*(u${sz * 8} *)(r10 ${ot(off)}) = 0`);
      else {
        const d = r.int(0, 4);
        a.emit(`r${d} = *(u${sz * 8} *)(r10 ${ot(off)})`);
        body.live.add(d);
      }
    } else {
      body.step(1);
    }
  }
  if (filledPtr && r.chance(0.5)) {
    // use the filled pointer
    const { reg, from } = filledPtr;
    const size = r.pick(SIZES);
    const off = from === 10 ? -8 * r.int(1, 8) : from === 9 ? r.int(0, 8) : from === 6 ? r.pick(sk.type.scalarFields.map((f) => f[0])) : 0;
    a.emit(`r0 = *(u${size * 8} *)(r${reg} ${ot(off)})`);
  }
  const live = [...body.live];
  let marker: Generated['marker'];
  const bad = a.label();
  if (live.length) {
    const x = r.pick(live);
    const free = [0, 1, 2, 3, 4, 5].filter((n) => n !== x);
    const y = r.pick(free);
    const z = r.pick(free.filter((n) => n !== y));
    const t = r.pick(free.filter((n) => n !== y && n !== z));
    marker = probeAt(sk, x, { y, z, t, bad }, use);
  }
  const prog = finish(sk, 'stack', seed);
  emitBad(a, bad);
  prog.asm = a.text();
  return marker ? { prog, marker } : { prog };
};

/** Emits the marker and the use (as families.probe; kept here to avoid an import cycle at module load). */
function probeAt(sk: Skeleton, x: number, u: UseRegs, use: UseFn): { slot: number; y: number } {
  const { a } = sk;
  a.emit(`r${u.y} = r${x}`);
  const slot = a.slots - 1;
  const skip = a.label();
  use(a, u, sk, skip);
  a.place(skip);
  return { slot, y: u.y };
}

// ---------------------------------------------------------------------------

function parseRanges(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    if (!part) continue;
    const [lo, hi] = part.split('-').map(Number);
    for (let v = lo!; v <= (hi ?? lo!); v++) out.push(v);
  }
  return out;
}

const CTX_TYPES = [
  ['xdp', 3], ['sched_cls', 3], ['socket_filter', 2], ['cgroup_skb', 2], ['kprobe', 2], ['tracepoint', 1],
  ['perf_event', 1], ['raw_tracepoint', 1], ['sk_skb', 1], ['cgroup_sock', 1], ['sock_ops', 1], ['sk_msg', 1],
  ['cgroup_sock_addr', 1], ['lwt_in', 0.5], ['cgroup_device', 0.5], ['flow_dissector', 0.5], ['sk_lookup', 0.5],
] as const;

const ATTACH: Record<string, string> = {
  cgroup_skb: 'cgroup_inet_ingress', cgroup_sock: 'cgroup_inet_sock_create', cgroup_sock_addr: 'cgroup_inet4_connect',
  sk_skb: 'sk_skb_stream_verdict', sk_msg: 'sk_msg_verdict', sk_lookup: 'sk_lookup', flow_dissector: 'flow_dissector',
  cgroup_device: 'cgroup_device', sock_ops: 'cgroup_sock_ops',
};

const RET: Record<string, number> = { cgroup_skb: 1, cgroup_sock: 1, cgroup_sock_addr: 1, cgroup_device: 1, sk_lookup: 1, sk_skb: 1, sk_msg: 1, sock_ops: 1, flow_dissector: 0 };

const ctxGen: Generator = (seed) => {
  const r = new Rand(seed);
  const typeName = r.weighted(CTX_TYPES);
  const table = CTX_ACCESS[typeName] ?? CTX_ACCESS['xdp']!;
  const a = new Asm();
  const out = a.label();
  a.emit('r6 = r1');
  let moved = 0;
  if (r.chance(0.1)) {
    moved = r.pick([4, 8, -4, 1]);
    a.emit(`r1 += ${moved}`);
  }
  for (let i = r.int(1, 4); i > 0; i--) {
    const write = r.chance(0.25);
    const size = r.pick(SIZES);
    const valid = parseRanges((write ? table.write : table.read)[size] ?? '');
    let off: number;
    if (valid.length && r.chance(0.9)) {
      off = r.pick(valid);
      const k = r.int(0, 9);
      if (k === 1) off += r.pick([1, -1, size, -size, 2, 4]);
      else if (k === 2) off = valid[valid.length - 1]! + r.pick([0, 1, size]);
    } else {
      off = r.int(-8, 300);
    }
    const base = moved && r.chance(0.7) ? 1 : 6;
    if (write) {
      if (r.chance(0.5)) a.emit(`*(u${size * 8} *)(r${base} ${ot(off)}) = ${r.pick([0, 1, 2, -1])}`);
      else a.emit(`*(u${size * 8} *)(r${base} ${ot(off)}) = r${r.pick([6, 10, 0, 2])}`.replace('= r0', '= r6'));
    } else {
      const d = r.int(2, 5);
      a.emit(`r${d} = *(u${size * 8} *)(r${base} ${ot(off)})`);
      const ptrType = table.ptr[`${off}:${size}`];
      // (sock pointer fields sparingly: tsbpf's bpf_sock field check is a known divergence in mem.ts)
      if (ptrType && (ptrType.endsWith('or_null') || r.chance(0.1)) && r.chance(0.15)) {
        // dereference a pointer field (null-check the _or_null ones, maybe)
        if (ptrType.endsWith('or_null') && r.chance(0.7)) a.emit(`if r${d} == 0 goto ${out}`);
        a.emit(`r0 = *(u${r.pick([8, 32, 64])} *)(r${d} + ${r.pick([0, 0, 4, 16])})`);
      }
    }
  }
  if (r.chance(0.1) && (typeName === 'socket_filter' || typeName === 'sched_cls')) {
    a.emit(`r0 = *(u${r.pick([8, 16, 32])} *)skb[${r.pick([0, 12, 14, 23, -1, 0x7fffffff])}]`);
  }
  const ret = RET[typeName] ?? (typeName === 'xdp' ? 2 : 0);
  a.emit(`r0 = ${r.chance(0.95) ? ret : r.pick([0, 1, 2, 3, 7, -1])}`);
  a.emit('exit');
  if (a.referenced(out)) {
    a.place(out);
    a.emit(`r0 = ${ret}`);
    a.emit('exit');
  }
  const prog: FuzzProgram = { name: `fuzz/ctx/${seed}`, family: 'ctx', seed, prog_type: typeName, asm: a.text(), maps: [] };
  if (ATTACH[typeName]) prog.expected_attach_type = ATTACH[typeName];
  return { prog };
};

// ---------------------------------------------------------------------------

const mapGen: Generator = (seed) => {
  const r = new Rand(seed);
  const type = r.weighted([['xdp', 3], ['sched_cls', 2], ['kprobe', 2], ['socket_filter', 1]] as const);
  const sk = skeleton(r, type, { value: false, packet: r.chance(0.5) });
  const { a, maps } = sk;
  for (let i = r.int(1, 3); i > 0; i--) {
    const k = r.weighted([['lookup', 5], ['direct', 1.5], ['update', 2], ['ringbuf', 1.5], ['delete', 0.5]] as const);
    if (k === 'lookup') {
      const mi = r.pick([MAP_ARRAY, MAP_HASH, MAP_ARRAY_SMALL, MAP_PERCPU]);
      const m = maps[mi]!;
      // the key: on the stack, at an edge, or a map value
      const keyOff = r.chance(0.95) ? -m.key_size - 8 * r.int(0, 2) : -m.key_size + r.pick([1, 2, 4]);
      for (let o = 0; o < m.key_size; o += 4) if (keyOff + o + 4 <= 0) a.emit(`*(u32 *)(r10 ${ot(keyOff + o)}) = ${r.int(0, 3)}`);
      a.emit('r2 = r10');
      a.emit(`r2 += ${keyOff}`);
      a.emit(`ld_pseudo r1, 1, ${mi}`);
      a.emit('call bpf_map_lookup_elem');
      const check = r.weighted([['eq', 5], ['ne', 2], ['none', 0.6], ['w32', 0.3], ['late', 0.5]] as const);
      const vs = m.value_size;
      const size = r.pick(SIZES);
      const off = edgeOff(r, 0, vs, size, 0.3);
      if (check === 'eq') {
        a.emit(`if r0 == 0 goto ${sk.out}`);
        access(a, r, 0, off, size);
      } else if (check === 'ne') {
        const ok = a.label();
        const skip = a.label();
        a.emit(`if r0 != 0 goto ${ok}`);
        a.emit(`goto ${skip}`);
        a.place(ok);
        access(a, r, 0, off, size);
        a.place(skip);
      } else if (check === 'w32') {
        a.emit(`if w0 == 0 goto ${sk.out}`);
        access(a, r, 0, off, size);
      } else if (check === 'late') {
        a.emit('r1 = r0');
        a.emit(`r1 += ${r.int(0, 8)}`);
        a.emit(`if r0 == 0 goto ${sk.out}`);
        access(a, r, 1, off, size);
      } else {
        access(a, r, 0, off, size);
      }
      if (check !== 'none') {
        // keep the value pointer for a key/value argument later
        a.emit('r9 = r0');
      }
    } else if (k === 'direct') {
      const mi = r.pick([MAP_ARRAY, MAP_ARRAY_SMALL]);
      const vs = maps[mi]!.value_size;
      const size = r.pick(SIZES);
      const base = r.chance(0.8) ? r.int(0, vs - 1) : r.pick([vs, vs + 1, -1]);
      a.emit(`ld_pseudo r1, 2, ${mi}, ${base}`);
      access(a, r, 1, edgeOff(r, -base, vs, size, 0.3), size);
    } else if (k === 'update') {
      const mi = r.pick([MAP_ARRAY, MAP_HASH, MAP_PERCPU]);
      const m = maps[mi]!;
      const keyOff = -m.key_size - (r.chance(0.9) ? r.pick([0, 8]) : r.pick([-1, -2]));
      const valOff = -256 + (r.chance(0.85) ? r.pick([0, 256 - m.value_size]) : r.pick([256 - m.value_size + 1, 256 - m.value_size + 4]));
      for (let o = valOff & ~7; o < valOff + m.value_size && o < 0; o += 8) if (o >= -512) a.emit(`*(u64 *)(r10 ${ot(o)}) = 0`);
      a.emit(`*(u32 *)(r10 - ${Math.max(4, -(keyOff & ~3))}) = 0`);
      a.emit('r2 = r10');
      a.emit(`r2 += ${keyOff}`);
      a.emit('r3 = r10');
      a.emit(`r3 += ${valOff}`);
      a.emit(`r4 = ${r.pick([0, 0, 1, 2, 4])}`);
      a.emit(`ld_pseudo r1, 1, ${mi}`);
      a.emit('call bpf_map_update_elem');
    } else if (k === 'delete') {
      const mi = r.pick([MAP_HASH, MAP_ARRAY]);
      a.emit(`*(u64 *)(r10 - 16) = 0`);
      a.emit('r2 = r10');
      a.emit(`r2 += -${maps[mi]!.key_size}`);
      a.emit(`ld_pseudo r1, 1, ${mi}`);
      a.emit('call bpf_map_delete_elem');
    } else {
      const size = r.chance(0.8) ? r.pick([1, 4, 8, 16, 40]) : r.pick([0, 4096, 4097, -1]);
      a.emit(`ld_pseudo r1, 1, ${MAP_RINGBUF}`);
      a.emit(`r2 = ${size}`);
      a.emit('r3 = 0');
      a.emit('call bpf_ringbuf_reserve');
      const done = a.label();
      if (r.chance(0.95)) a.emit(`if r0 == 0 goto ${done}`);
      const asz = r.pick(SIZES);
      a.emit('r5 = r0');
      access(a, r, 5, edgeOff(r, 0, Math.max(size, 1), asz, 0.3), asz);
      const end = r.weighted([['submit', 5], ['discard', 2], ['leak', 0.3], ['twice', 0.2]] as const);
      if (end !== 'leak') {
        a.emit('r1 = r5');
        a.emit('r2 = 0');
        a.emit(end === 'discard' ? 'call bpf_ringbuf_discard' : 'call bpf_ringbuf_submit');
        if (end === 'twice') {
          a.emit('r2 = 0');
          a.emit('call bpf_ringbuf_submit');
        }
      }
      a.place(done);
    }
  }
  return { prog: finish(sk, 'map', seed) };
};

// ---------------------------------------------------------------------------

const loopGen: Generator = (seed, use) => {
  const r = new Rand(seed);
  const type = r.weighted([['xdp', 3], ['sched_cls', 1], ['kprobe', 1]] as const);
  const sk = skeleton(r, type, { value: true, packet: false });
  const { a } = sk;
  const vs = sk.maps[sk.valueMap]!.value_size;
  const c = r.int(1, 4);
  const elem = r.pick([1, 2, 4, 8].filter((s) => s <= vs));
  const step = r.pick([1, 1, 1, 2]);
  const start = r.pick([0, 0, 1]);
  // the last index reached: at the value's last element, or one past
  const last = Math.floor(vs / elem) - 1 + (r.chance(0.5) ? 0 : r.pick([1, 2]));
  const bound = Math.min(Math.max(last + 1, start + 1), 80);
  const mayGoto = r.chance(0.3);
  const target = r.weighted([['map', 4], ['stack', 2], ['none', 1]] as const);
  a.emit(`r${c} = ${start}`);
  const top = a.label();
  const done = a.label();
  a.place(top);
  if (mayGoto) a.emit(`may_goto ${done}`);
  if (target === 'map') {
    const p = c === 5 ? 4 : 5;
    a.emit(`r${p} = r${c}`);
    if (elem > 1) a.emit(`r${p} <<= ${Math.log2(elem)}`);
    a.emit(`r${p} += r9`);
    if (r.chance(0.5)) a.emit(`*(u${elem * 8} *)(r${p} + 0) = r${c}`);
    else a.emit(`r0 = *(u${elem * 8} *)(r${p} + 0)`);
  } else if (target === 'stack') {
    const p = c === 5 ? 4 : 5;
    a.emit(`r${p} = r${c}`);
    a.emit(`r${p} <<= 3`);
    a.emit(`r${p} += r10`);
    a.emit(`*(u64 *)(r${p} ${ot(-r.pick([8, 8, 512 - 8 * bound + 8, 512 - 8 * bound]))}) = 0`);
  } else {
    a.emit(`r0 += ${r.int(1, 3)}`);
  }
  a.emit(`r${c} += ${step}`);
  if (mayGoto && r.chance(0.3)) {
    // no exit condition but may_goto
    a.emit(`goto ${top}`);
  } else {
    const cond = r.weighted([['<', 4], ['<=', 1], ['!=', 1], ['s<', 1], ['w<', 1]] as const);
    const b = cond === '<=' ? bound - 1 : bound;
    if (cond === 'w<') a.emit(`if w${c} < ${b} goto ${top}`);
    else if (cond === '!=' && step === 1) a.emit(`if r${c} != ${b} goto ${top}`);
    else a.emit(`if r${c} ${cond === '!=' ? '<' : cond} ${b} goto ${top}`);
  }
  a.place(done);
  // the counter after the loop, checked at its edge
  const bad = a.label();
  const marker = probeAt(sk, c, { y: c === 3 ? 2 : 3, z: 0, t: c === 1 ? 4 : 1, bad }, use);
  const prog = finish(sk, 'loop', seed, `elem ${elem} bound ${bound} ${mayGoto ? 'may_goto' : ''}`);
  emitBad(a, bad);
  prog.asm = a.text();
  return { prog, marker };
};

// ---------------------------------------------------------------------------

const subprogGen: Generator = (seed, use) => {
  const r = new Rand(seed);
  const type = r.weighted([['xdp', 3], ['sched_cls', 1], ['kprobe', 1]] as const);
  const sk = skeleton(r, type, { packet: r.chance(0.4) });
  const { a } = sk;
  const kind = r.weighted([['stackptr', 4], ['scalar', 4], ['valueptr', 2], ['pktptr', 1], ['depth', 1], ['retptr', 0.5]] as const);
  // caller side
  const callerDepth = r.pick([8, 16, 64, 256, 480, 504, 512]);
  a.emit(`*(u64 *)(r10 - ${callerDepth}) = 0`);
  let bufLen = 0;
  if (kind === 'stackptr') {
    bufLen = r.pick([4, 8, 16, 32]);
    a.emit('r1 = r10');
    a.emit(`r1 += -${bufLen}`);
    a.emit(`r2 = ${r.int(0, 3)}`);
  } else if (kind === 'valueptr') {
    a.emit('r1 = r9');
    a.emit(`r2 = ${r.int(0, 3)}`);
  } else if (kind === 'pktptr' && sk.pktChecked) {
    a.emit('r1 = r7');
    a.emit('r2 = r8');
  } else {
    a.emit(`r1 = *(u${r.pick([8, 16, 32])} *)(r9 + 0)`);
    a.emit(`r2 = ${r.pick(EDGE_IMM32)}`);
  }
  const sub = 'S0';
  a.emit(`call ${sub}`);
  // the returned value, checked at its edge
  const bad = a.label();
  let marker: Generated['marker'];
  if (kind === 'scalar' || kind === 'stackptr' || r.chance(0.5)) marker = probeAt(sk, 0, { y: 1, z: 2, t: 3, bad }, use);
  const prog = finish(sk, 'subprog', seed, `${kind} caller depth ${callerDepth}`);
  emitBad(a, bad);
  // the callee
  a.place(sub);
  const calleeDepth = r.chance(0.8) ? r.pick([8, 16, 32, 64]) : r.pick([512 - callerDepth, 512 - callerDepth + 8, 512 - callerDepth + 32]);
  if (calleeDepth > 0 && calleeDepth <= 512) a.emit(`*(u64 *)(r10 - ${calleeDepth}) = 0`);
  switch (kind) {
    case 'stackptr': {
      const size = r.pick(SIZES);
      const off = edgeOff(r, 0, bufLen, size);
      a.emit(`*(u${size * 8} *)(r1 ${ot(off)}) = r2`);
      a.emit('r0 = r2');
      break;
    }
    case 'valueptr': {
      const size = r.pick(SIZES);
      a.emit(`r0 = *(u${size * 8} *)(r1 ${ot(edgeOff(r, 0, sk.maps[sk.valueMap]!.value_size, size))})`);
      break;
    }
    case 'pktptr': {
      a.emit('r3 = r1');
      const n = r.pick([1, 4, 14]);
      a.emit(`r3 += ${n}`);
      a.emit(`if r3 > r2 goto ${sub}x`);
      a.emit(`r0 = *(u8 *)(r1 + ${r.pick([0, n - 1, n])})`);
      a.place(`${sub}x`);
      a.emit('r0 = 0');
      break;
    }
    case 'depth':
      a.emit('call S1');
      break;
    case 'retptr':
      a.emit(r.chance(0.5) ? 'r0 = r10' : 'r0 = r1');
      break;
    default: {
      const body = new ScalarBody({ ...sk, out: `${sub}out` }, PROFILES['alu']!, [0, 1, 2, 3, 4, 5]);
      body.live = new Set([1, 2]);
      a.emit('r0 = r1');
      body.live.add(0);
      body.block(r.int(1, 5));
      const rr = [...body.live];
      a.emit(`r0 = r${r.pick(rr)}`);
    }
  }
  a.emit('exit');
  if (a.referenced(`${sub}out`)) {
    a.place(`${sub}out`);
    a.emit('r0 = 0');
    a.emit('exit');
  }
  if (kind === 'depth') {
    a.place('S1');
    const d2 = r.pick([8, 32, 64, 128]);
    a.emit(`*(u64 *)(r10 - ${d2}) = 0`);
    a.emit('r0 = 0');
    a.emit('exit');
  }
  prog.asm = a.text();
  return marker ? { prog, marker } : { prog };
};

export const POINTER_FAMILIES: Record<string, { weight: number; gen: Generator }> = {
  ptr: { weight: 10, gen: ptrGen },
  pkt: { weight: 8, gen: pktGen },
  stack: { weight: 7, gen: stackGen },
  ctx: { weight: 6, gen: ctxGen },
  map: { weight: 7, gen: mapGen },
  loop: { weight: 5, gen: loopGen },
  subprog: { weight: 5, gen: subprogGen },
};

export { TYPES, fuzzMaps };
