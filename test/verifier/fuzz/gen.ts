/**
 * The building blocks of the verifier fuzzer's generators: a seeded random
 * source, an assembly emitter that counts instruction slots (so a program
 * knows where its probe instruction is), labels, interesting constants, and
 * the program skeletons of each program type (context, packet pointers, a
 * map value) that the families build on.
 *
 * Programs are LLVM-syntax assembly (readable in a divergence report) with
 * the map list the kernel oracle takes; `programBytes` assembles them.
 */
import { rng } from '../../support/random-programs.js';
import { m, sourceBytes, type OracleMap, type SourceProgram } from '../corpus/common.js';

/** One generated program. */
export interface FuzzProgram extends SourceProgram {
  family: string;
  seed: number;
  asm: string;
  maps: OracleMap[];
  /** What the program's edge is (for reports). */
  note?: string;
}

/** Integers in [lo, hi], picks, chances; all from one seed. */
export class Rand {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = rng(seed);
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One of `choices` by weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((a, [, w]) => a + w, 0);
    let x = this.next() * total;
    for (const [v, w] of choices) {
      x -= w;
      if (x < 0) return v;
    }
    return choices[choices.length - 1]![0];
  }

  /** A random u64. */
  u64(): bigint {
    return (BigInt(this.int(0, 0xffffffff)) << 32n) | BigInt(this.int(0, 0xffffffff));
  }
}

/** 32-bit immediates near the edges that matter to bounds tracking. */
export const EDGE_IMM32: readonly number[] = [
  0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512, 1023, 4095, 4096, 0x7fff, 0x8000,
  0xffff, 0x10000, 0x7fffffff, -0x80000000, -1, -2, -3, -4, -8, -16, -127, -128, -129, -255, -256, -0x8000, -0x8001,
  -0x10000, 0x3fffffff, 0x40000000, -0x40000000, 0x1fffffff, 0x20000000,
];

/** 64-bit constants near the edges. */
export const EDGE_IMM64: readonly bigint[] = [
  0x100000000n, 0xffffffffn, 0x80000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn,
  0xffffffff00000000n, 0xffffffff80000000n, 0x00000000ffff0000n, 0x1ffffffffn, 0x8000000080000000n,
  0x7fffffff7fffffffn, 0xfffffffffffffff0n, 0x0000000100000001n, 0xff00000000000000n,
];

/** Assembly text with a slot counter. */
export class Asm {
  readonly lines: string[] = [];
  slots = 0;
  private labels = 0;

  constructor(private readonly prefix = 'L') {}

  /** Appends one instruction (or a `label:` line). */
  emit(line: string): void {
    this.lines.push(line);
    if (line.endsWith(':')) return;
    this.slots += / ll$/.test(line) || line.startsWith('ld_pseudo') ? 2 : 1;
  }

  label(): string {
    return `${this.prefix}${this.labels++}`;
  }

  place(label: string): void {
    this.emit(`${label}:`);
  }

  text(): string {
    return this.lines.join('\n');
  }

  /** Whether an instruction jumps to (or loads the address of) `label`. */
  referenced(label: string): boolean {
    const re = new RegExp(`(goto|call|, 4,) ${label}$`);
    return this.lines.some((l) => re.test(l));
  }
}

/** `rD = v` for any 64-bit value (mov or lddw). */
export function movConst(dst: number, v: bigint): string {
  const s = BigInt.asIntN(64, v);
  if (s >= -0x80000000n && s <= 0x7fffffffn) return `r${dst} = ${s}`;
  return `r${dst} = 0x${BigInt.asUintN(64, v).toString(16)} ll`;
}

/** An immediate as the assembler takes it (decimal, signed). */
export function immText(v: number | bigint): string {
  return String(v);
}

/** Offset text: `+ 4`, `- 8`. */
export function offText(off: number): string {
  return off < 0 ? `- ${-off}` : `+ ${off}`;
}

/** Program types the fuzzer generates, with what their context offers. */
export interface TypeInfo {
  name: string;
  /** Offsets of the packet pointers in the context (absent: no direct packet access). */
  data?: number;
  dataEnd?: number;
  dataMeta?: number;
  /** Width of those context fields (4, or 8 for sk_msg/sock_ops). */
  ptrSize?: number;
  /** Stores into the packet allowed. */
  pktWrite: boolean;
  /** A safe return value. */
  ret: number;
  /** Scalar fields that load unknown values: [offset, size]. */
  scalarFields: readonly (readonly [number, number])[];
  /** Helper ids the type may call, among those the fuzzer uses. */
  helpers: ReadonlySet<string>;
  expected_attach_type?: string;
  /** Context bytes a checked run needs (raw contexts). */
  ctxSize?: number;
}

const COMMON = ['bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem', 'bpf_get_prandom_u32',
  'bpf_ktime_get_ns', 'bpf_get_smp_processor_id', 'bpf_ringbuf_reserve', 'bpf_ringbuf_submit', 'bpf_ringbuf_discard',
  'bpf_ringbuf_output', 'bpf_loop', 'bpf_for_each_map_elem', 'bpf_jiffies64', 'bpf_ktime_get_boot_ns'];

export const TYPES: Readonly<Record<string, TypeInfo>> = {
  xdp: {
    name: 'xdp', data: 0, dataEnd: 4, dataMeta: 8, ptrSize: 4, pktWrite: true, ret: 2,
    scalarFields: [[12, 4], [16, 4]],
    helpers: new Set([...COMMON, 'bpf_xdp_load_bytes', 'bpf_xdp_store_bytes', 'bpf_csum_diff', 'bpf_xdp_adjust_head', 'bpf_xdp_get_buff_len']),
  },
  sched_cls: {
    name: 'sched_cls', data: 76, dataEnd: 80, dataMeta: 140, ptrSize: 4, pktWrite: true, ret: 0,
    scalarFields: [[0, 4], [4, 4], [8, 4], [16, 4], [20, 4], [36, 4], [40, 4], [48, 4], [60, 4], [64, 4], [0, 2], [16, 2], [8, 1]],
    helpers: new Set([...COMMON, 'bpf_skb_load_bytes', 'bpf_skb_store_bytes', 'bpf_csum_diff', 'bpf_skb_pull_data', 'bpf_l3_csum_replace']),
  },
  socket_filter: {
    name: 'socket_filter', data: undefined, pktWrite: false, ret: 0,
    scalarFields: [[0, 4], [4, 4], [8, 4], [16, 4], [20, 4], [36, 4], [48, 4], [0, 2], [4, 1]],
    helpers: new Set([...COMMON, 'bpf_skb_load_bytes']),
  },
  cgroup_skb: {
    name: 'cgroup_skb', data: 76, dataEnd: 80, ptrSize: 4, pktWrite: false, ret: 1,
    scalarFields: [[0, 4], [4, 4], [8, 4], [16, 4], [20, 4], [36, 4], [48, 4], [0, 2], [0, 1]],
    helpers: new Set([...COMMON, 'bpf_skb_load_bytes']),
    expected_attach_type: 'cgroup_inet_ingress',
  },
  kprobe: {
    name: 'kprobe', pktWrite: false, ret: 0,
    scalarFields: [[0, 8], [8, 8], [16, 8], [80, 8], [104, 8], [112, 8], [160, 8], [4, 4], [24, 4], [2, 2], [7, 1]],
    helpers: new Set([...COMMON, 'bpf_probe_read_kernel', 'bpf_probe_read_user']),
    ctxSize: 168,
  },
  tracepoint: {
    name: 'tracepoint', pktWrite: false, ret: 0,
    scalarFields: [[8, 8], [16, 8], [24, 4], [12, 4], [40, 2], [63, 1]],
    helpers: new Set([...COMMON, 'bpf_probe_read_kernel']),
    ctxSize: 8192,
  },
};

/** Helper ids by name (the ones the generators call). */
export const HELPER_IDS: Readonly<Record<string, number>> = {
  bpf_map_lookup_elem: 1, bpf_map_update_elem: 2, bpf_map_delete_elem: 3, bpf_ktime_get_ns: 5, bpf_get_prandom_u32: 7,
  bpf_get_smp_processor_id: 8, bpf_skb_store_bytes: 9, bpf_l3_csum_replace: 10, bpf_csum_diff: 28, bpf_skb_load_bytes: 26,
  bpf_xdp_adjust_head: 44, bpf_skb_pull_data: 39, bpf_probe_read_kernel: 113, bpf_probe_read_user: 112,
  bpf_ringbuf_output: 130, bpf_ringbuf_reserve: 131, bpf_ringbuf_submit: 132, bpf_ringbuf_discard: 133,
  bpf_jiffies64: 118, bpf_ktime_get_boot_ns: 125, bpf_loop: 181, bpf_for_each_map_elem: 164,
  bpf_xdp_load_bytes: 189, bpf_xdp_store_bytes: 190, bpf_xdp_get_buff_len: 188,
};

/** The maps every fuzz program gets (index: role). */
export const MAP_ARRAY = 0;
export const MAP_HASH = 1;
export const MAP_RINGBUF = 2;
export const MAP_ARRAY_SMALL = 3;
export const MAP_PERCPU = 4;

/** Value sizes are drawn per program so edges move; these are the shapes. */
export function fuzzMaps(r: Rand): OracleMap[] {
  const v1 = r.pick([8, 16, 24, 48, 64, 128, 256]);
  const v2 = r.pick([4, 8, 12, 16, 20, 32, 48]);
  const v3 = r.pick([1, 2, 3, 4, 5, 7, 8]);
  const k2 = r.pick([4, 8, 12, 16]);
  return [
    m(`array:4:${v1}:${r.pick([1, 2, 4, 16])}`),
    m(`hash:${k2}:${v2}:16`),
    m('ringbuf:0:0:4096'),
    m(`array:4:${v3}:${r.pick([1, 3, 8])}`),
    m(`percpu_array:4:${r.pick([8, 16, 32])}:4`),
  ];
}

/** Value size of map `i`. */
export function valueSize(maps: readonly OracleMap[], i: number): number {
  return maps[i]!.value_size;
}

/**
 * A program skeleton: r6 = ctx; for packet types r7 = data, r8 = data_end
 * (and `pktChecked` bytes proven); r9 = a map value (non-null) of map
 * `valueMap`. The families add their body, then `finish` returns.
 */
export interface Skeleton {
  a: Asm;
  r: Rand;
  type: TypeInfo;
  maps: OracleMap[];
  /** Map whose value r9 points to (-1: none). */
  valueMap: number;
  /** Bytes proven in the packet on the main path (0: none / no packet). */
  pktChecked: number;
  /** r7/r8 hold the packet pointers. */
  packet: boolean;
  /** Label of the common exit path. */
  out: string;
}

/** Builds the common prologue. */
export function skeleton(r: Rand, typeName: string, opts: { packet?: boolean; value?: boolean } = {}): Skeleton {
  const type = TYPES[typeName]!;
  const a = new Asm();
  const maps = fuzzMaps(r);
  const sk: Skeleton = { a, r, type, maps, valueMap: -1, pktChecked: 0, packet: false, out: a.label() };
  a.emit('r6 = r1');
  if (opts.value !== false) {
    const mi = r.weighted([[MAP_ARRAY, 5], [MAP_HASH, 2], [MAP_ARRAY_SMALL, 2], [MAP_PERCPU, 1]] as const);
    const keySize = maps[mi]!.key_size;
    // a zero key of the right size on the stack
    for (let o = 0; o < keySize; o += 4) a.emit(`*(u32 *)(r10 - ${keySize - o}) = 0`);
    a.emit('r2 = r10');
    a.emit(`r2 += -${keySize}`);
    a.emit(`ld_pseudo r1, 1, ${mi}`);
    a.emit('call bpf_map_lookup_elem');
    a.emit(`if r0 == 0 goto ${sk.out}`);
    a.emit('r9 = r0');
    sk.valueMap = mi;
  }
  if (opts.packet !== false && type.data !== undefined) {
    const w = type.ptrSize === 8 ? 'u64' : 'u32';
    a.emit(`r7 = *(${w} *)(r6 + ${type.data})`);
    a.emit(`r8 = *(${w} *)(r6 + ${type.dataEnd})`);
    sk.packet = true;
    if (r.chance(0.85)) {
      const n = r.pick([1, 2, 4, 8, 14, 20, 34, 42, 54, 64]);
      a.emit('r1 = r7');
      a.emit(`r1 += ${n}`);
      a.emit(`if r1 > r8 goto ${sk.out}`);
      sk.pktChecked = n;
    }
  }
  return sk;
}

/** The common exit: `out:` returns the type's safe value. */
export function finish(sk: Skeleton, family: string, seed: number, note?: string, flags?: string[]): FuzzProgram {
  const { a } = sk;
  a.emit(`r0 = ${sk.type.ret}`);
  a.emit('exit');
  if (a.referenced(sk.out)) {
    a.place(sk.out);
    a.emit(`r0 = ${sk.type.ret}`);
    a.emit('exit');
  }
  const p: FuzzProgram = { name: `fuzz/${family}/${seed}`, family, seed, prog_type: sk.type.name, asm: a.text(), maps: sk.maps };
  if (sk.type.expected_attach_type) p.expected_attach_type = sk.type.expected_attach_type;
  if (note) p.note = note;
  if (flags?.length) p.prog_flags = flags;
  return p;
}

/** The program's bytes. */
export function programBytes(p: SourceProgram): Uint8Array {
  return sourceBytes(p);
}
