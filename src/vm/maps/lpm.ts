/**
 * `BPF_MAP_TYPE_LPM_TRIE`: longest-prefix match over keys
 * `{ u32 prefixlen; u8 data[key_size - 4] }` (data in network order,
 * data[0] most significant). The algorithm is Linux's (kernel/bpf/lpm_trie.c):
 * an unbalanced binary trie of nodes with prefixes, where "intermediate"
 * nodes (no value) separate two subtrees, so lookups, updates, deletes and
 * `get_next_key` (post-order: more specific prefixes first) give the
 * kernel's results.
 *
 * Layout: nodes come from an {@link EntryPool} (up to 2 x max_entries nodes,
 * carved on demand since LPM tries are never preallocated), in internal
 * pages: `{ u32 child[2]; u32 prefixlen; u32 flags; u32 value; u32 pad;
 * u8 data[data_size]; pad to 8 }`, flags bit 0 = intermediate, `value` the
 * address of the node's value, which lives apart in pages of the map's
 * value class (parallel to the nodes; docs/maps.md). The root node's
 * address is descriptor word `state0`; the free-list head is `state1`.
 */
import { VmError } from '../../errors.js';
import type { Machine } from '../machine.js';
import { ACCESS_MASK, accessFlagsOk, BpfMap, KMALLOC_MAX_SIZE, MapDescriptor, roundUp8 } from './bpf-map.js';
import { EntryPool } from './pool.js';
import { Errno, MapError, MapFlags, UpdateFlags } from './types.js';
import type { MapEntry, MapSpec } from './types.js';

/** Offsets inside an LPM node. */
export const LpmNode = { child0: 0, child1: 4, prefixlen: 8, flags: 12, value: 16, data: 24 } as const;
/** `LPM_TREE_NODE_FLAG_IM`. */
const FLAG_IM = 1;
/** Largest data part of a key (`LPM_DATA_SIZE_MAX`). */
export const LPM_DATA_SIZE_MAX = 256;
/** Largest value (`LPM_VAL_SIZE_MAX`): KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - sizeof(struct lpm_trie_node). */
export const LPM_VAL_SIZE_MAX = KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - 24;
const LPM_CREATE_FLAG_MASK = MapFlags.NO_PREALLOC | MapFlags.NUMA_NODE | ACCESS_MASK;

/** Linux's checks in `trie_alloc`. */
export function checkLpmSpec(spec: MapSpec): void {
  const flags = spec.flags ?? 0;
  if (spec.maxEntries === 0) throw new MapError('EINVAL', 'LPM tries need max_entries above 0');
  if (!(flags & MapFlags.NO_PREALLOC)) throw new MapError('EINVAL', 'LPM tries must be created with BPF_F_NO_PREALLOC');
  if (flags & ~LPM_CREATE_FLAG_MASK || !accessFlagsOk(flags)) throw new MapError('EINVAL', `invalid flags 0x${flags.toString(16)} for an LPM trie`);
  if (spec.keySize < 5 || spec.keySize > 4 + LPM_DATA_SIZE_MAX) {
    throw new MapError('EINVAL', `LPM trie key_size must be 5..${4 + LPM_DATA_SIZE_MAX} (a u32 prefixlen and 1..${LPM_DATA_SIZE_MAX} data bytes), not ${spec.keySize}`);
  }
  // LPM_VAL_SIZE_MAX: KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - sizeof(struct lpm_trie_node) (24 bytes in Linux 6.x; probed, testing/specs.ts).
  if (spec.valueSize < 1 || spec.valueSize > LPM_VAL_SIZE_MAX) {
    throw new MapError('EINVAL', `LPM trie value_size must be 1..${LPM_VAL_SIZE_MAX}, not ${spec.valueSize}`);
  }
}

/** An LPM trie. */
export class LpmTrieMap extends BpfMap {
  /** Data bytes of a key (key_size - 4). */
  readonly dataSize: number;
  /** `max_prefixlen` = 8 x data_size. */
  readonly maxPrefixlen: number;
  /** Bytes per node (without its value, which lives apart). */
  readonly nodeSize: number;
  private readonly pool: EntryPool;

  constructor(machine: Machine, spec: MapSpec, id: number) {
    super(machine, spec, id);
    this.dataSize = spec.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    this.nodeSize = LpmNode.data + roundUp8(this.dataSize);
    this.setField(MapDescriptor.entrySize, this.nodeSize);
    this.setField(MapDescriptor.storage, this.descriptor.start + MapDescriptor.state0);
    const access = this.valueAccess;
    this.pool = new EntryPool(this.machine.space, (suffix, size) => this.allocate(suffix, 'internal', size, { readable: false, writable: false }),
      this.nodeSize, 2 * this.maxEntries, this.descriptor.start + MapDescriptor.state1, false,
      { allocate: (suffix, size) => this.allocate(suffix, 'map', size, access), stride: this.stride, slot: LpmNode.value });
  }

  /** Number of prefixes stored. */
  get count(): number {
    return this.field(MapDescriptor.count);
  }

  private get rootSlot(): number {
    return this.descriptor.start + MapDescriptor.state0;
  }

  // ---- node access ----------------------------------------------------------

  private u32(addr: number): number {
    return this.dv.getUint32(addr, true);
  }

  private setU32(addr: number, v: number): void {
    this.dv.setUint32(addr, v >>> 0, true);
  }

  private prefixlen(node: number): number {
    return this.u32(node + LpmNode.prefixlen);
  }

  private isIm(node: number): boolean {
    return (this.u32(node + LpmNode.flags) & FLAG_IM) !== 0;
  }

  private child(node: number, bit: number): number {
    return this.u32(node + 4 * bit);
  }

  /** Bit `index` (0 = most significant) of the data at `data[off..]`. */
  private static bit(data: Uint8Array, off: number, index: number): number {
    return (data[off + (index >>> 3)]! >> (7 - (index & 7))) & 1;
  }

  /** Linux's `longest_prefix_match`: leading bits `node` and `key` share, at most min(prefixlens). */
  private match(node: number, key: Uint8Array): number {
    const mem = this.mem;
    const limit = Math.min(this.prefixlen(node), keyPrefixlen(key));
    const d = node + LpmNode.data;
    let p = 0;
    for (let i = 0; i < this.dataSize; i++) {
      const diff = mem[d + i]! ^ key[4 + i]!;
      if (diff !== 0) return Math.min(p + Math.clz32(diff) - 24, limit);
      p += 8;
      if (p >= limit) return limit;
    }
    return Math.min(p, limit);
  }

  /** Address of the value of `node`. */
  private valueAt(node: number): number {
    return this.pool.valueAt(node);
  }

  /** Zeroes a node taken from the pool, except the address of its value. */
  private clearNode(n: number): void {
    const mem = this.mem;
    mem.fill(0, n, n + LpmNode.value);
    mem.fill(0, n + LpmNode.value + 4, n + this.nodeSize);
  }

  private newNode(key: Uint8Array, value: Uint8Array | null): number {
    const n = this.pool.alloc();
    if (n === 0) return 0;
    const mem = this.mem;
    this.clearNode(n);
    this.setU32(n + LpmNode.prefixlen, keyPrefixlen(key));
    mem.set(key.subarray(4, 4 + this.dataSize), n + LpmNode.data);
    if (value !== null) mem.set(value.subarray(0, this.valueSize), this.valueAt(n));
    return n;
  }

  // ---- the algorithms of lpm_trie.c -----------------------------------------------

  /** `trie_lookup_elem`: the node of the longest stored prefix matching `key`, or 0. */
  private lookupNode(key: Uint8Array): number {
    if (keyPrefixlen(key) > this.maxPrefixlen) return 0;
    let found = 0;
    let node = this.u32(this.rootSlot);
    let steps = 0;
    while (node !== 0) {
      const matchlen = this.match(node, key);
      if (matchlen === this.maxPrefixlen) return node;
      if (matchlen < this.prefixlen(node)) break;
      if (!this.isIm(node)) found = node;
      node = this.child(node, LpmTrieMap.bit(key, 4, this.prefixlen(node)));
      this.guard(++steps);
    }
    return found;
  }

  private guard(steps: number): void {
    if (steps > this.maxPrefixlen + 1) throw new VmError(`${this.label} is corrupted: a path is longer than max_prefixlen (did a program write outside a value?)`);
  }

  /** Linux's `trie_check_add_elem`: -ENOENT for BPF_EXIST, -ENOSPC when full, else counts the new element. */
  private checkAdd(flags: number): number {
    if (flags === UpdateFlags.EXIST) return -Errno.ENOENT;
    if (this.count >= this.maxEntries) return -Errno.ENOSPC;
    this.setField(MapDescriptor.count, this.count + 1);
    return 0;
  }

  /** `trie_update_elem` (Linux 6.13+ semantics: BPF_NOEXIST/BPF_EXIST honoured, in-place update when full). `key`/`value` must not view the memory. */
  private updateNode(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (BpfMap.badUpdateFlags(flags)) return -Errno.EINVAL;
    const plen = keyPrefixlen(key);
    if (plen > this.maxPrefixlen) return -Errno.EINVAL;
    let slot = this.rootSlot;
    let node = 0;
    let matchlen = 0;
    let steps = 0;
    while ((node = this.u32(slot)) !== 0) {
      matchlen = this.match(node, key);
      const np = this.prefixlen(node);
      if (np !== matchlen || np === plen || np === this.maxPrefixlen) break;
      slot = node + 4 * LpmTrieMap.bit(key, 4, np);
      this.guard(++steps);
    }
    if (node === 0) {
      const r = this.checkAdd(flags);
      if (r !== 0) return r;
      const n = this.newNode(key, value);
      if (n === 0) return this.uncount(-Errno.ENOMEM);
      this.setU32(slot, n);
      return 0;
    }
    if (this.prefixlen(node) === matchlen) {
      // The same prefix: replace the value (an intermediate node becomes a real one).
      if (!this.isIm(node)) {
        if (flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
      } else {
        const r = this.checkAdd(flags);
        if (r !== 0) return r;
      }
      const mem = this.mem;
      mem.set(key.subarray(4, 4 + this.dataSize), node + LpmNode.data);
      mem.set(value.subarray(0, this.valueSize), this.valueAt(node));
      this.setU32(node + LpmNode.flags, 0);
      return 0;
    }
    const r = this.checkAdd(flags);
    if (r !== 0) return r;
    const n = this.newNode(key, value);
    if (n === 0) return this.uncount(-Errno.ENOMEM);
    if (matchlen === plen) {
      // The new prefix covers `node`: insert it above.
      const nodeData = this.mem.slice(node + LpmNode.data, node + LpmNode.data + this.dataSize);
      this.setU32(n + 4 * LpmTrieMap.bit(nodeData, 0, matchlen), node);
      this.setU32(slot, n);
      return 0;
    }
    // They diverge at bit `matchlen`: an intermediate node holds both.
    const im = this.pool.alloc();
    if (im === 0) {
      this.pool.free(n);
      return this.uncount(-Errno.ENOMEM);
    }
    const mem = this.mem;
    this.clearNode(im);
    this.setU32(im + LpmNode.prefixlen, matchlen);
    this.setU32(im + LpmNode.flags, FLAG_IM);
    mem.copyWithin(im + LpmNode.data, node + LpmNode.data, node + LpmNode.data + this.dataSize);
    if (LpmTrieMap.bit(key, 4, matchlen)) {
      this.setU32(im + LpmNode.child0, node);
      this.setU32(im + LpmNode.child1, n);
    } else {
      this.setU32(im + LpmNode.child0, n);
      this.setU32(im + LpmNode.child1, node);
    }
    this.setU32(slot, im);
    return 0;
  }

  private uncount(r: number): number {
    this.setField(MapDescriptor.count, this.count - 1);
    return r;
  }

  /** `trie_delete_elem`: exact prefix only. */
  private deleteNode(key: Uint8Array): number {
    const plen = keyPrefixlen(key);
    if (plen > this.maxPrefixlen) return -Errno.EINVAL;
    let trim = this.rootSlot;
    let trim2 = trim;
    let parent = 0;
    let node = 0;
    let matchlen = 0;
    let steps = 0;
    while ((node = this.u32(trim)) !== 0) {
      matchlen = this.match(node, key);
      const np = this.prefixlen(node);
      if (np !== matchlen || np === plen) break;
      parent = node;
      trim2 = trim;
      trim = node + 4 * LpmTrieMap.bit(key, 4, np);
      this.guard(++steps);
    }
    if (node === 0 || this.prefixlen(node) !== plen || this.prefixlen(node) !== matchlen || this.isIm(node)) return -Errno.ENOENT;
    this.setField(MapDescriptor.count, this.count - 1);
    const c0 = this.child(node, 0);
    const c1 = this.child(node, 1);
    if (c0 !== 0 && c1 !== 0) {
      this.setU32(node + LpmNode.flags, FLAG_IM);
      return 0;
    }
    if (parent !== 0 && this.isIm(parent) && c0 === 0 && c1 === 0) {
      this.setU32(trim2, node === this.child(parent, 0) ? this.child(parent, 1) : this.child(parent, 0));
      this.pool.free(parent);
      this.pool.free(node);
      return 0;
    }
    this.setU32(trim, c0 !== 0 ? c0 : c1);
    this.pool.free(node);
    return 0;
  }

  /** `trie_get_next_key`: post-order, so more specific prefixes come before the ones that contain them. */
  private nextNode(key: Uint8Array | null): number {
    let searchRoot = this.u32(this.rootSlot);
    if (searchRoot === 0) return 0;
    const leftmost = (root: number): number => {
      let next = 0;
      for (let node = root; node !== 0;) {
        if (this.isIm(node)) {
          node = this.child(node, 0);
        } else {
          next = node;
          node = this.child(node, 0);
          if (node === 0) node = this.child(next, 1);
        }
      }
      return next;
    };
    if (key === null || keyPrefixlen(key) > this.maxPrefixlen) return leftmost(searchRoot);
    const plen = keyPrefixlen(key);
    const stack: number[] = [];
    let node = searchRoot;
    while (node !== 0) {
      stack.push(node);
      const matchlen = this.match(node, key);
      const np = this.prefixlen(node);
      if (np !== matchlen || np === plen) break;
      node = this.child(node, LpmTrieMap.bit(key, 4, np));
      this.guard(stack.length);
    }
    if (node === 0 || this.prefixlen(node) !== plen || this.isIm(node)) return leftmost(searchRoot);
    // The key's node was found: the next node in post-order.
    node = stack[stack.length - 1]!;
    let sp = stack.length - 1;
    while (sp > 0) {
      const parent = stack[sp - 1]!;
      if (this.child(parent, 0) === node) {
        searchRoot = this.child(parent, 1);
        if (searchRoot !== 0) return leftmost(searchRoot);
      }
      if (!this.isIm(parent)) return parent;
      node = parent;
      sp--;
    }
    return 0;
  }

  private nodeKey(node: number): Uint8Array {
    const key = new Uint8Array(this.keySize);
    new DataView(key.buffer).setUint32(0, this.prefixlen(node), true);
    key.set(this.mem.subarray(node + LpmNode.data, node + LpmNode.data + this.dataSize), 4);
    return key;
  }

  private nodeValue(node: number): Uint8Array {
    const at = this.valueAt(node);
    return this.mem.slice(at, at + this.valueSize);
  }

  // ---- user space --------------------------------------------------------------

  protected lookupElem(key: Uint8Array): Uint8Array | undefined {
    const node = this.lookupNode(key);
    return node === 0 ? undefined : this.nodeValue(node);
  }

  protected updateElem(key: Uint8Array, value: Uint8Array, flags: number): void {
    this.checkValue(value);
    const r = this.updateNode(key.slice(), value.slice(), flags);
    switch (-r) {
      case 0: return;
      case Errno.EEXIST: throw new MapError('EEXIST', `prefix exists in ${this.label} (BPF_NOEXIST)`);
      case Errno.ENOENT: throw new MapError('ENOENT', `prefix not found in ${this.label} (BPF_EXIST)`);
      case Errno.ENOSPC: throw new MapError('ENOSPC', `${this.label} is full (${this.maxEntries} prefixes)`);
      case Errno.ENOMEM: throw new MapError('ENOMEM', `no memory for a node of ${this.label}`);
      default: throw new MapError('EINVAL', keyPrefixlen(key) > this.maxPrefixlen
        ? `prefixlen ${keyPrefixlen(key)} is above ${this.maxPrefixlen} for ${this.label}`
        : `invalid update flags ${flags} for ${this.label}`);
    }
  }

  protected deleteElem(key: Uint8Array): void {
    const r = this.deleteNode(key);
    if (r === -Errno.EINVAL) throw new MapError('EINVAL', `prefixlen ${keyPrefixlen(key)} is above ${this.maxPrefixlen} for ${this.label}`);
    if (r !== 0) throw new MapError('ENOENT', `prefix not found in ${this.label}`);
  }

  protected nextKeyOf(key: Uint8Array | null): Uint8Array | undefined {
    const node = this.nextNode(key);
    return node === 0 ? undefined : this.nodeKey(node);
  }

  protected allEntries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (let node = this.nextNode(null); node !== 0; node = this.nextNode(this.nodeKey(node))) {
      out.push({ key: this.nodeKey(node), value: this.nodeValue(node) });
      if (out.length > this.maxEntries) throw new VmError(`${this.label} is corrupted: iteration does not end`);
    }
    return out;
  }

  protected override batchSupport(): { lookup: boolean; lookupAndDelete: boolean; update: boolean; delete: boolean } {
    return { lookup: true, lookupAndDelete: false, update: true, delete: true };
  }

  // ---- programs ----------------------------------------------------------------

  override progLookup(keyAddr: number, _cpu: number): number {
    const node = this.lookupNode(this.mem.subarray(keyAddr, keyAddr + this.keySize));
    return node === 0 ? 0 : this.valueAt(node);
  }

  override progUpdate(keyAddr: number, valueAddr: number, flags: number, _cpu: number): number {
    const mem = this.mem;
    return this.updateNode(mem.slice(keyAddr, keyAddr + this.keySize), mem.slice(valueAddr, valueAddr + this.valueSize), flags);
  }

  override progDelete(keyAddr: number, _cpu: number): number {
    return this.deleteNode(this.mem.slice(keyAddr, keyAddr + this.keySize));
  }
}

/** The prefixlen of a key (host-order u32 at its start). */
function keyPrefixlen(key: Uint8Array): number {
  return (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
}

/** An LPM key: `prefixlen` then the data bytes (e.g. an IPv4 address). */
export function lpmKey(prefixlen: number, data: ArrayLike<number>): Uint8Array {
  const key = new Uint8Array(4 + data.length);
  new DataView(key.buffer).setUint32(0, prefixlen, true);
  key.set(Array.from(data), 4);
  return key;
}
