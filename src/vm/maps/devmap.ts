/**
 * The maps `bpf_redirect_map` sends frames through (kernel/bpf/devmap.c,
 * cpumap.c, xskmap.c): `BPF_MAP_TYPE_DEVMAP` (an array of devices),
 * `BPF_MAP_TYPE_DEVMAP_HASH` (devices by key), `BPF_MAP_TYPE_CPUMAP`
 * (CPUs) and `BPF_MAP_TYPE_XSKMAP` (AF_XDP sockets), with Linux's creation
 * checks, user-space update/lookup/delete errors and iteration order.
 *
 * Layout: each map has a value region of `max_entries` 8-byte slots that
 * programs may read (never write) through `bpf_map_lookup_elem` where the
 * kernel allows a lookup: a devmap slot holds `struct bpf_devmap_val`
 * (`u32 ifindex`, `u32 prog id`), an XSK map slot `struct bpf_xdp_sock`
 * (`u32 queue_id`). Which slots are in use, and the hash chains of
 * `devmap_hash`, are kept by the map object: no engine reads them.
 */
import type { Machine } from '../machine.js';
import type { Region } from '../memory.js';
import { arrayNextKey, BpfMap, MapDescriptor, readU32, u32Bytes } from './bpf-map.js';
import { MapError, MapFlags, MapType, UpdateFlags } from './types.js';
import type { MapEntry, MapSpec } from './types.js';
import { AttachType, ProgType } from '../../isa/uapi.js';

/**
 * `NR_CPUS` of the reference kernel (Linux 6.18, x86_64 on the test
 * machines): a cpumap may have at most this many entries (E2BIG above).
 */
export const NR_CPUS = 256;
/** Largest cpumap queue (`qsize`): more is EOVERFLOW. */
const CPUMAP_MAX_QSIZE = 16384;

/** One usable entry of a redirect map: what `bpf_redirect_map` sends a frame to. */
export interface RedirectEntry {
  /** The key. */
  key: number;
  /** devmap/devmap_hash: the device; cpumap: the CPU (the key); xskmap: the socket's device. */
  ifindex: number;
  /** The program of a devmap/cpumap entry (0 = none). */
  progId: number;
  /** cpumap: the queue size. */
  qsize?: number;
  /** xskmap: the socket id and its queue. */
  socket?: number;
  queueId?: number;
}

/** Maps `bpf_redirect_map` works on. */
export abstract class RedirectMap extends BpfMap {
  /** Slots of 8 bytes that lookups point into (read-only for programs). */
  readonly storage: Region;

  protected constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.storage = this.allocate('.values', 'map', this.maxEntries * 8, { readable: true, writable: false, align: 8 });
    this.setField(MapDescriptor.storage, this.storage.start);
  }

  /** The entry `bpf_redirect_map(map, key, ...)` finds (the kernel's `__*_lookup_elem`), or undefined. */
  abstract redirectEntry(key: number): RedirectEntry | undefined;

  /** Every entry, in the order a broadcast visits them (`BPF_F_BROADCAST`). */
  abstract redirectEntries(): RedirectEntry[];

  protected slotAddress(index: number): number {
    return this.storage.start + 8 * index;
  }

  /** A devmap or cpumap entry in its slot: the ifindex or queue size, then the program id. */
  protected writeSlot(slot: number, first: number, progId: number): void {
    this.dv.setUint32(this.slotAddress(slot), first, true);
    this.dv.setUint32(this.slotAddress(slot) + 4, progId, true);
  }

  protected clearSlot(slot: number): void {
    this.dv.setBigUint64(this.slotAddress(slot), 0n, true);
  }

  /** The slot of an array-like key (devmap, cpumap, XSK map): EINVAL beyond max_entries. */
  protected indexOf(key: Uint8Array, noun: string, errno: 'EINVAL' | 'E2BIG' = 'EINVAL'): number {
    const index = readU32(key);
    if (index >= this.maxEntries) throw new MapError(errno, `${noun} ${index} is beyond max_entries ${this.maxEntries} of ${this.label}`);
    return index;
  }

  /** The program id of a devmap/cpumap value, checked like the kernel checks the program fd: 0 or an XDP program loaded for `attach`. */
  protected checkProgram(progId: number, attach: number, errno: 'EINVAL' | 'ENOMEM'): number {
    if ((progId | 0) <= 0) return 0;
    const attrs = this.machine.programs.attrs(progId);
    if (this.machine.programs.get(progId) === undefined || attrs === undefined || attrs.type !== ProgType.XDP || attrs.expectedAttachType !== attach) {
      throw new MapError(errno, `program ${progId} is not an XDP program loaded for ${attach === AttachType.XDP_DEVMAP ? 'xdp/devmap' : 'xdp/cpumap'} (an entry's program must be one)`);
    }
    return progId;
  }
}

/** Linux's `dev_map_alloc_check`. */
export function checkDevmapSpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  if (spec.maxEntries === 0 || spec.keySize !== 4 || (spec.valueSize !== 4 && spec.valueSize !== 8)
    || flags & ~(MapFlags.NUMA_NODE | MapFlags.RDONLY | MapFlags.WRONLY)) {
    throw new MapError('EINVAL', 'devmaps need key_size 4, value_size 4 (ifindex) or 8 (ifindex, program), max_entries above 0 and no flags but BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY');
  }
  if (spec.type === MapType.DEVMAP_HASH && spec.maxEntries > 2 ** 31) throw new MapError('EINVAL', 'a devmap_hash has at most 2^31 entries');
}

/** Linux's `cpu_map_alloc` checks. */
export function checkCpumapSpec(spec: MapSpec): void {
  if (spec.maxEntries === 0 || spec.keySize !== 4 || (spec.valueSize !== 4 && spec.valueSize !== 8) || (spec.flags ?? 0) & ~MapFlags.NUMA_NODE) {
    throw new MapError('EINVAL', 'cpumaps need key_size 4, value_size 4 (qsize) or 8 (qsize, program), max_entries above 0 and no flags but BPF_F_NUMA_NODE');
  }
  if (spec.maxEntries > NR_CPUS) throw new MapError('E2BIG', `a cpumap has at most NR_CPUS (${NR_CPUS}) entries`);
}

/** Linux's `xsk_map_alloc` checks. */
export function checkXskmapSpec(spec: MapSpec): void {
  if (spec.maxEntries === 0 || spec.keySize !== 4 || spec.valueSize !== 4 || (spec.flags ?? 0) & ~(MapFlags.NUMA_NODE | MapFlags.RDONLY | MapFlags.WRONLY)) {
    throw new MapError('EINVAL', 'XSK maps need key_size 4, value_size 4 (a socket), max_entries above 0 and no flags but BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY');
  }
}

/** `BPF_MAP_TYPE_DEVMAP`: devices by index. */
export class DevMap extends RedirectMap {
  private readonly used: Uint8Array;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    // dev_map_init_map: lookups return a pointer the program must not write, so the map is BPF_F_RDONLY_PROG.
    super(machine, { ...spec, flags: (spec.flags ?? 0) | MapFlags.RDONLY_PROG }, id);
    this.used = new Uint8Array(this.maxEntries);
  }

  private value(index: number): Uint8Array {
    const at = this.slotAddress(index);
    return this.mem.slice(at, at + this.valueSize);
  }

  protected lookupElem(key: Uint8Array): Uint8Array | undefined {
    const index = readU32(key);
    return index < this.maxEntries && this.used[index] ? this.value(index) : undefined;
  }

  /** `__dev_map_update_elem`. */
  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    if (BpfMap.badUpdateFlags(flags)) throw new MapError('EINVAL', `invalid update flags ${flags} for ${this.label}`);
    const index = this.indexOf(key, 'index', 'E2BIG');
    if (flags === UpdateFlags.NOEXIST) throw new MapError('EEXIST', `every slot of ${this.label} exists (BPF_NOEXIST)`);
    const ifindex = readU32(value);
    const prog = this.valueSize === 8 ? readU32(value.subarray(4)) : 0;
    if (ifindex === 0) {
      if ((prog | 0) > 0) throw new MapError('EINVAL', 'an entry without a device (ifindex 0) cannot have a program');
      this.used[index] = 0;
      this.clearSlot(index);
      return;
    }
    if (!this.machine.netDevice(ifindex)) throw new MapError('EINVAL', `no network device with ifindex ${ifindex}`);
    const progId = this.checkProgram(prog, AttachType.XDP_DEVMAP, 'EINVAL');
    this.writeSlot(index, ifindex, progId);
    this.used[index] = 1;
  }

  /** `dev_map_delete_elem`: EINVAL beyond max_entries, otherwise 0 (even for an empty slot). */
  protected deleteElem(key: Uint8Array): void {
    const index = this.indexOf(key, 'index');
    this.used[index] = 0;
    this.clearSlot(index);
  }

  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    return arrayNextKey(key, this.maxEntries);
  }

  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) if (this.used[i]) out.push({ key: u32Bytes(i), value: this.value(i) });
    return out;
  }

  override progLookup(keyAddr: number, _cpu: number): number {
    const index = this.dv.getUint32(keyAddr, true);
    return index < this.maxEntries && this.used[index] ? this.slotAddress(index) : 0;
  }

  redirectEntry(key: number): RedirectEntry | undefined {
    if (key >= this.maxEntries || !this.used[key]) return undefined;
    const at = this.slotAddress(key);
    return { key, ifindex: this.dv.getUint32(at, true), progId: this.dv.getUint32(at + 4, true) };
  }

  redirectEntries(): RedirectEntry[] {
    const out: RedirectEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) {
      const e = this.redirectEntry(i);
      if (e) out.push(e);
    }
    return out;
  }
}

/** `BPF_MAP_TYPE_DEVMAP_HASH`: devices by any u32 key, in hash chains like Linux's (bucket = key & (n_buckets - 1), newest first). */
export class DevMapHash extends RedirectMap {
  private readonly buckets: number[][];
  private readonly slots = new Map<number, number>();
  private readonly free: number[] = [];

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, { ...spec, flags: (spec.flags ?? 0) | MapFlags.RDONLY_PROG }, id);
    let n = 1;
    while (n < this.maxEntries) n *= 2;
    this.buckets = Array.from({ length: n }, () => []);
    for (let i = this.maxEntries - 1; i >= 0; i--) this.free.push(i);
    this.setField(MapDescriptor.mask, n - 1);
  }

  private bucket(key: number): number[] {
    return this.buckets[key & (this.buckets.length - 1)]!;
  }

  protected lookupElem(key: Uint8Array): Uint8Array | undefined {
    const slot = this.slots.get(readU32(key));
    if (slot === undefined) return undefined;
    const at = this.slotAddress(slot);
    return this.mem.slice(at, at + this.valueSize);
  }

  /** `__dev_map_hash_update_elem`. */
  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    const k = readU32(key);
    const ifindex = readU32(value);
    if (BpfMap.badUpdateFlags(flags) || ifindex === 0) throw new MapError('EINVAL', ifindex === 0 ? 'a devmap_hash entry needs a device (ifindex 0)' : `invalid update flags ${flags} for ${this.label}`);
    const old = this.slots.get(k);
    if (old !== undefined && flags & UpdateFlags.NOEXIST) throw new MapError('EEXIST', `key ${k} exists in ${this.label} (BPF_NOEXIST)`);
    if (!this.machine.netDevice(ifindex)) throw new MapError('EINVAL', `no network device with ifindex ${ifindex}`);
    const progId = this.checkProgram(this.valueSize === 8 ? readU32(value.subarray(4)) : 0, AttachType.XDP_DEVMAP, 'EINVAL');
    let slot = old;
    const chain = this.bucket(k);
    if (slot === undefined) {
      if (this.slots.size >= this.maxEntries) throw new MapError('E2BIG', `${this.label} is full`);
      slot = this.free.pop()!;
      this.slots.set(k, slot);
    } else {
      chain.splice(chain.indexOf(k), 1);
    }
    chain.unshift(k);
    this.writeSlot(slot, ifindex, progId);
  }

  protected deleteElem(key: Uint8Array): void {
    const k = readU32(key);
    const slot = this.slots.get(k);
    if (slot === undefined) throw new MapError('ENOENT', `key ${k} is not in ${this.label}`);
    const chain = this.bucket(k);
    chain.splice(chain.indexOf(k), 1);
    this.slots.delete(k);
    this.clearSlot(slot);
    this.free.push(slot);
  }

  /** `dev_map_hash_get_next_key`. */
  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    let start = 0;
    if (key !== null) {
      const k = readU32(key);
      if (this.slots.has(k)) {
        const chain = this.bucket(k);
        const next = chain[chain.indexOf(k) + 1];
        if (next !== undefined) return u32Bytes(next);
        start = (k & (this.buckets.length - 1)) + 1;
      }
    }
    for (let i = start; i < this.buckets.length; i++) {
      const first = this.buckets[i]![0];
      if (first !== undefined) return u32Bytes(first);
    }
    return undefined;
  }

  protected allEntries(): MapEntry[] {
    return this.redirectEntries().map((e) => ({ key: u32Bytes(e.key), value: this.lookupElem(u32Bytes(e.key))! }));
  }

  override progLookup(keyAddr: number, _cpu: number): number {
    const slot = this.slots.get(this.dv.getUint32(keyAddr, true));
    return slot === undefined ? 0 : this.slotAddress(slot);
  }

  redirectEntry(key: number): RedirectEntry | undefined {
    const slot = this.slots.get(key >>> 0);
    if (slot === undefined) return undefined;
    const at = this.slotAddress(slot);
    return { key: key >>> 0, ifindex: this.dv.getUint32(at, true), progId: this.dv.getUint32(at + 4, true) };
  }

  redirectEntries(): RedirectEntry[] {
    return this.buckets.flatMap((chain) => chain.map((k) => this.redirectEntry(k)!));
  }
}

/** `BPF_MAP_TYPE_CPUMAP`: CPUs by index; values `struct bpf_cpumap_val` (`u32 qsize`, `u32 prog id`). */
export class CpuMap extends RedirectMap {
  private readonly used: Uint8Array;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.used = new Uint8Array(this.maxEntries);
  }

  protected lookupElem(key: Uint8Array): Uint8Array | undefined {
    const index = readU32(key);
    if (index >= this.maxEntries || !this.used[index]) return undefined;
    const at = this.slotAddress(index);
    return this.mem.slice(at, at + this.valueSize);
  }

  /** `cpu_map_update_elem`: qsize 0 deletes; a CPU that is not possible is ENODEV; a bad program ENOMEM (the kernel's entry allocation fails). */
  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    const qsize = readU32(value);
    if (BpfMap.badUpdateFlags(flags)) throw new MapError('EINVAL', `invalid update flags ${flags} for ${this.label}`);
    const cpu = this.indexOf(key, 'CPU', 'E2BIG');
    if (flags === UpdateFlags.NOEXIST) throw new MapError('EEXIST', `every slot of ${this.label} exists (BPF_NOEXIST)`);
    if (qsize > CPUMAP_MAX_QSIZE) throw new MapError('EOVERFLOW', `qsize ${qsize} is above ${CPUMAP_MAX_QSIZE}`);
    if (cpu >= this.machine.possibleCpus) throw new MapError('ENODEV', `CPU ${cpu} is not one of the ${this.machine.possibleCpus} possible CPUs`);
    if (qsize === 0) {
      this.used[cpu] = 0;
      this.clearSlot(cpu);
      return;
    }
    const progId = this.checkProgram(this.valueSize === 8 ? readU32(value.subarray(4)) : 0, AttachType.XDP_CPUMAP, 'ENOMEM');
    this.writeSlot(cpu, qsize, progId);
    this.used[cpu] = 1;
  }

  protected deleteElem(key: Uint8Array): void {
    const cpu = this.indexOf(key, 'CPU');
    this.used[cpu] = 0;
    this.clearSlot(cpu);
  }

  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    return arrayNextKey(key, this.maxEntries);
  }

  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) if (this.used[i]) out.push({ key: u32Bytes(i), value: this.lookupElem(u32Bytes(i))! });
    return out;
  }

  redirectEntry(key: number): RedirectEntry | undefined {
    if (key >= this.maxEntries || !this.used[key]) return undefined;
    const at = this.slotAddress(key);
    return { key, ifindex: 0, qsize: this.dv.getUint32(at, true), progId: this.dv.getUint32(at + 4, true) };
  }

  redirectEntries(): RedirectEntry[] {
    const out: RedirectEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) {
      const e = this.redirectEntry(i);
      if (e) out.push(e);
    }
    return out;
  }
}

/** An AF_XDP socket of a machine (tsbpf has no kernel sockets: user space opens these to fill XSK maps). */
export interface XskSocket {
  readonly id: number;
  /** The device and queue the socket is bound to. */
  readonly ifindex: number;
  readonly queueId: number;
  /** Frames redirected to it (filled by whoever carries redirects out; a test run does not). */
  readonly received: Uint8Array[];
}

/** The AF_XDP sockets of a machine. */
export class XskSockets {
  private static readonly byMachine = new WeakMap<Machine, XskSockets>();
  private readonly sockets = new Map<number, XskSocket>();
  private next = 1;

  /** The sockets of `machine` (created on first use). */
  static of(machine: Machine): XskSockets {
    let s = XskSockets.byMachine.get(machine);
    if (!s) XskSockets.byMachine.set(machine, (s = new XskSockets()));
    return s;
  }

  /** Opens a socket bound to queue `queueId` of device `ifindex`; its id is what XSK map values hold. */
  open(ifindex: number, queueId: number): XskSocket {
    const socket: XskSocket = { id: this.next++, ifindex, queueId, received: [] };
    this.sockets.set(socket.id, socket);
    return socket;
  }

  get(id: number): XskSocket | undefined {
    return this.sockets.get(id);
  }
}

/** `BPF_MAP_TYPE_XSKMAP`: AF_XDP sockets by index. User space stores socket ids (from {@link XskSockets}) where Linux takes socket fds. */
export class XskMap extends RedirectMap {
  private readonly socketIds: Uint32Array;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.socketIds = new Uint32Array(this.maxEntries);
  }

  /** The sockets user space can store in this map. */
  get sockets(): XskSockets {
    return XskSockets.of(this.machine);
  }

  /** User-space lookups are EOPNOTSUPP in Linux (`xsk_map_lookup_elem_sys_only`). */
  protected lookupElem(_key: Uint8Array): Uint8Array | undefined {
    throw new MapError('EOPNOTSUPP', `${this.label}: user space cannot look up XSK map entries`);
  }

  /** `xsk_map_update_elem`: the value is a socket id (EBADF when there is no such socket). */
  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    if (BpfMap.badUpdateFlags(flags)) throw new MapError('EINVAL', `invalid update flags ${flags} for ${this.label}`);
    const index = this.indexOf(key, 'index', 'E2BIG');
    const socket = this.sockets.get(readU32(value));
    if (!socket) throw new MapError('EBADF', `${readU32(value)} is not an AF_XDP socket of this machine (XskSockets.open)`);
    const old = this.socketIds[index]!;
    if (old === socket.id) return;
    if (old !== 0 && flags === UpdateFlags.NOEXIST) throw new MapError('EEXIST', `slot ${index} of ${this.label} is in use (BPF_NOEXIST)`);
    if (old === 0 && flags === UpdateFlags.EXIST) throw new MapError('ENOENT', `slot ${index} of ${this.label} is empty (BPF_EXIST)`);
    this.socketIds[index] = socket.id;
    this.dv.setUint32(this.slotAddress(index), socket.queueId, true);
  }

  protected deleteElem(key: Uint8Array): void {
    const index = this.indexOf(key, 'index');
    this.socketIds[index] = 0;
    this.dv.setUint32(this.slotAddress(index), 0, true);
  }

  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    return arrayNextKey(key, this.maxEntries);
  }

  /** The filled slots with their socket ids (what a dump shows; bpf(2) cannot read them back). */
  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    this.socketIds.forEach((s, i) => {
      if (s !== 0) out.push({ key: u32Bytes(i), value: u32Bytes(s) });
    });
    return out;
  }

  /** A lookup returns the socket (`struct bpf_xdp_sock`: its `queue_id`), or 0. */
  override progLookup(keyAddr: number, _cpu: number): number {
    const index = this.dv.getUint32(keyAddr, true);
    return index < this.maxEntries && this.socketIds[index] !== 0 ? this.slotAddress(index) : 0;
  }

  redirectEntry(key: number): RedirectEntry | undefined {
    if (key >= this.maxEntries || this.socketIds[key] === 0) return undefined;
    const socket = this.sockets.get(this.socketIds[key]!)!;
    return { key, ifindex: socket.ifindex, progId: 0, socket: socket.id, queueId: socket.queueId };
  }

  redirectEntries(): RedirectEntry[] {
    const out: RedirectEntry[] = [];
    for (let i = 0; i < this.maxEntries; i++) {
      const e = this.redirectEntry(i);
      if (e) out.push(e);
    }
    return out;
  }
}
