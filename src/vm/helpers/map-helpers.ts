/**
 * The map helpers, with Linux's ids and return conventions
 * (include/uapi/linux/bpf.h): lookups return a pointer into the address
 * space or 0, the others 0 or a negative errno.
 *
 * r1 (or r2 for `bpf_perf_event_output`) must be a map pointer: the address
 * of a map descriptor (`lddw rX, map`, or an inner map pointer from a
 * map-of-maps lookup); anything else is a `VmError` naming the helper and
 * the address. Calls the Linux verifier would refuse (a helper on a map type
 * that does not support it, a write to a `BPF_F_RDONLY_PROG` map) are
 * `VmError`s quoting the verifier, never a silent misrun.
 */
import { TsbpfError, VmError } from '../../errors.js';
import { helperIdentity } from '../helper-call.js';
import type { Helper, HelperCall } from '../helper-call.js';
import { MapDirectory } from '../maps/directory.js';
import { HelperRef, mapTypeName } from '../maps/bpf-map.js';
import type { BpfMap } from '../maps/bpf-map.js';
import { CgroupArrayMap } from '../maps/cgroup-array.js';
import { PerfEventArrayMap } from '../maps/perf.js';
import { RingBufMap } from '../maps/ringbuf.js';
import { PlaceholderMap } from '../maps/unbacked.js';
import { MapError } from '../maps/types.js';
import { Errno, MapFlags, MapType } from '../../isa/uapi.js';
import type { HelperName } from '../../isa/uapi.js';

/** The map whose pointer is argument `n`, or a VmError naming `helper`. */
function mapArg(c: HelperCall, n: number, helper: string): BpfMap {
  const addr = c.num(n);
  const map = MapDirectory.of(c.space).byAddress(addr);
  if (map === undefined) throw new VmError(`${helper}: R${n} = ${c.space.describe(addr)} is not a map pointer`, { insn: c.pc });
  if (map instanceof PlaceholderMap) throw map.programError(helper);
  return map;
}

/** The verifier's refusal of `helper` (e.g. `bpf_ringbuf_output#130`) on `map`. */
function wrongType(map: BpfMap, helper: string): never {
  throw new VmError(`cannot pass map_type ${map.type} into func ${helper}: map '${map.name}' is a ${mapTypeName(map.type)} (the Linux verifier refuses this call)`);
}

/** The verifier's "write into map forbidden" for BPF_F_RDONLY_PROG maps. */
function checkWritable(map: BpfMap, helper: string): void {
  if (map.flags & MapFlags.RDONLY_PROG) {
    throw new VmError(`write into map forbidden: map '${map.name}' is read-only for programs (BPF_F_RDONLY_PROG); the Linux verifier refuses ${helper} on it`);
  }
}

/** A u64 flags argument as a u32 number; values above 32 bits become 0xffffffff (invalid for every helper here). */
function flagsArg(c: HelperCall, n: number): number {
  const v = c.u64(n);
  return v > 0xffffffffn ? 0xffffffff : Number(v);
}

/**
 * Runs a helper body: a VmError gets the helper name and the call's
 * instruction; a MapError (e.g. no memory for a new
 * element) becomes the -errno result, as the kernel's helper would return.
 */
function helper(name: HelperName, body: (c: HelperCall) => number): Helper {
  return {
    ...helperIdentity(name), fn: (c) => {
      let r: number;
      try {
        r = body(c);
      } catch (err) {
        if (err instanceof MapError) {
          r = -err.code;
        } else if (err instanceof VmError) {
          throw new VmError(err.reason.startsWith(name) ? err.reason : `${name}: ${err.reason}`, { ...err.location, insn: err.location.insn ?? c.pc });
        } else if (err instanceof TsbpfError && !(err instanceof VmError)) {
          throw new VmError(`${name}: ${err.reason}`, { insn: c.pc });
        } else {
          throw err;
        }
      }
      c.ret(r);
    },
  };
}

/** The ring buffer map of argument `n`. */
export function ringArg(c: HelperCall, n: number, name: string, ref: string): RingBufMap {
  const map = mapArg(c, n, name);
  if (!(map instanceof RingBufMap)) return wrongType(map, ref);
  return map;
}

/** The ring buffer whose data area holds the record at `sample` (its 8-byte header just before), if any. */
export function ringHolding(c: HelperCall, sample: number): RingBufMap | undefined {
  const region = c.space.regionAt(sample - 8, 8);
  const ring = region === undefined ? undefined : MapDirectory.of(c.space).byRegion(region.start);
  return ring instanceof RingBufMap ? ring : undefined;
}

/** The ring buffer whose data area holds the record at argument 1 (`bpf_ringbuf_submit`/`_discard`). */
function recordRing(c: HelperCall, name: string): { ring: RingBufMap; sample: number } {
  const sample = c.num(1);
  const ring = ringHolding(c, sample);
  if (ring === undefined) {
    throw new VmError(`${name}: R1 = ${c.space.describe(sample)} is not a record from bpf_ringbuf_reserve`, { insn: c.pc });
  }
  return { ring, sample };
}

/** Every map helper. */
export function mapHelpers(): Helper[] {
  return [
    helper('bpf_map_lookup_elem', (c) => {
      const map = mapArg(c, 1, 'bpf_map_lookup_elem');
      return map.progLookup(c.ptr(2, map.keySize), c.cpu);
    }),
    helper('bpf_map_update_elem', (c) => {
      const map = mapArg(c, 1, 'bpf_map_update_elem');
      checkWritable(map, HelperRef.update);
      return map.progUpdate(c.ptr(2, map.keySize), c.ptr(3, map.valueSize), flagsArg(c, 4), c.cpu);
    }),
    helper('bpf_map_delete_elem', (c) => {
      const map = mapArg(c, 1, 'bpf_map_delete_elem');
      checkWritable(map, HelperRef.delete);
      return map.progDelete(c.ptr(2, map.keySize), c.cpu);
    }),
    helper('bpf_perf_event_output', (c) => {
      const map = mapArg(c, 2, 'bpf_perf_event_output');
      if (!(map instanceof PerfEventArrayMap)) return wrongType(map, HelperRef.perfEventOutput);
      const size = c.num(5);
      return map.output(c.cpu, c.u64(3), c.ptr(4, size), size);
    }),
    helper('bpf_current_task_under_cgroup', (c) => {
      const map = mapArg(c, 1, 'bpf_current_task_under_cgroup');
      if (!(map instanceof CgroupArrayMap)) return wrongType(map, 'bpf_current_task_under_cgroup#37');
      return map.currentTaskUnderCgroup(c.num(2));
    }),
    helper('bpf_map_push_elem', (c) => {
      const map = mapArg(c, 1, 'bpf_map_push_elem');
      checkWritable(map, HelperRef.push);
      return map.progPush(c.ptr(2, map.valueSize), flagsArg(c, 3), c.cpu);
    }),
    helper('bpf_map_pop_elem', (c) => {
      const map = mapArg(c, 1, 'bpf_map_pop_elem');
      checkWritable(map, HelperRef.pop);
      return map.progPop(c.ptr(2, map.valueSize, true), c.cpu);
    }),
    helper('bpf_map_peek_elem', (c) => {
      const map = mapArg(c, 1, 'bpf_map_peek_elem');
      return map.progPeek(c.ptr(2, map.valueSize, map.type !== MapType.BLOOM_FILTER), c.cpu);
    }),
    helper('bpf_ringbuf_output', (c) => {
      const ring = ringArg(c, 1, 'bpf_ringbuf_output', HelperRef.ringbufOutput);
      const size = c.num(3);
      return ring.output(c.ptr(2, size), size, flagsArg(c, 4));
    }),
    helper('bpf_ringbuf_reserve', (c) => {
      const ring = ringArg(c, 1, 'bpf_ringbuf_reserve', HelperRef.ringbufReserve);
      if (c.u64(3) !== 0n) return 0;
      const size = c.u64(2);
      return size > 0xffffffffn ? 0 : ring.reserve(Number(size));
    }),
    helper('bpf_ringbuf_submit', (c) => {
      const { ring, sample } = recordRing(c, 'bpf_ringbuf_submit');
      ring.commit(sample, false);
      return 0;
    }),
    helper('bpf_ringbuf_discard', (c) => {
      const { ring, sample } = recordRing(c, 'bpf_ringbuf_discard');
      ring.commit(sample, true);
      return 0;
    }),
    helper('bpf_ringbuf_query', (c) => {
      const ring = ringArg(c, 1, 'bpf_ringbuf_query', HelperRef.ringbufQuery);
      return ring.query(flagsArg(c, 2));
    }),
    helper('bpf_for_each_map_elem', (c) => {
      const map = mapArg(c, 1, 'bpf_for_each_map_elem');
      const callback = c.u64(2);
      const ctx = c.u64(3);
      if (c.u64(4) !== 0n) return -Errno.EINVAL;
      const mapPtr = BigInt(map.address);
      return map.progForEach(c.cpu, (key, value) => c.invoke(callback, [mapPtr, BigInt(key), BigInt(value), ctx]) !== 0n);
    }),
    helper('bpf_map_lookup_percpu_elem', (c) => {
      const map = mapArg(c, 1, 'bpf_map_lookup_percpu_elem');
      const cpu = c.u64(3);
      return map.progLookupPercpu(c.ptr(2, map.keySize), cpu > 0xffffffffn ? 0xffffffff : Number(cpu));
    }),
  ];
}
