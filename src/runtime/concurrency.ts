/**
 * Which maps stay right when one program runs on several worker threads
 * over one shared memory (docs/hooks.md, "Worker threads"): what is safe
 * keeps all its state in the memory and takes the map's lock for every
 * change; anything else would lose updates or corrupt state, so a run on
 * workers refuses it up front, naming the map, rather than giving results
 * that are silently wrong.
 */
import { decodeAt } from '../isa/decode.js';
import { INSN_SIZE, PseudoSrc } from '../isa/opcode.js';
import { MapFlags, MapType } from '../isa/uapi.js';
import type { BpfMap } from '../vm/maps/bpf-map.js';
import { PlaceholderMap } from '../vm/maps/unbacked.js';
import type { Collection, LoadedProgram } from './collection.js';

/**
 * Map types whose whole state is in the address space and whose changes
 * are atomic (array slots: one value per key, per-CPU slots per worker;
 * bloom filter bits, set with an atomic OR) or made under the map's lock
 * (hash tables: chains, free list, count, LRU list; queues and stacks:
 * head and tail; ring buffers: the reservation of a record, whose header
 * a worker then releases with an atomic store). Prog arrays only change from user space, never during a
 * run.
 */
const CONCURRENT_TYPES: ReadonlySet<number> = new Set([
  MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.PROG_ARRAY,
  MapType.QUEUE, MapType.STACK, MapType.BLOOM_FILTER, MapType.RINGBUF,
]);

/** Why `map` cannot be shared by concurrent workers, or undefined when it can. */
export function concurrencyProblem(map: BpfMap): string | undefined {
  if (map instanceof PlaceholderMap) return undefined; // never runs: the program's own error says why
  if (!CONCURRENT_TYPES.has(map.type)) return `${map.typeName} maps keep state outside the shared memory or change it without a lock`;
  if ((map.type === MapType.HASH || map.type === MapType.PERCPU_HASH) && (map.flags & MapFlags.NO_PREALLOC) !== 0) {
    return 'BPF_F_NO_PREALLOC hash maps carve their elements per thread';
  }
  if (map.specialRanges.length > 0) return 'its values hold a bpf_spin_lock or bpf_timer, which tsbpf keeps per thread';
  return undefined;
}

/** The indexes of the maps a program's code refers to (`lddw` map pseudo loads). */
function mapsOf(program: LoadedProgram): Set<number> {
  const out = new Set<number>();
  const insns = program.spec.insns;
  for (let pc = 0; pc < insns.length / INSN_SIZE; pc++) {
    if (insns[pc * INSN_SIZE] !== 0x18) continue;
    const insn = decodeAt(insns, pc);
    pc++;
    if (insn.kind === 'lddw' && (insn.pseudo === PseudoSrc.MAP_IDX || insn.pseudo === PseudoSrc.MAP_IDX_VALUE)) out.add(insn.imm);
  }
  return out;
}

/**
 * What stops `program` from running on several workers at once: one line
 * per map it (or a program its prog arrays hold) uses that is not safe
 * there, as `map 'name' (type): why`. Empty when it may.
 */
export function workerProblems(collection: Collection, program: LoadedProgram): string[] {
  const used = new Set<number>();
  for (const p of [program, ...collection.tailCallTargets()]) for (const i of mapsOf(p)) used.add(i);
  const out: string[] = [];
  for (const i of [...used].sort((a, b) => a - b)) {
    const map = collection.maps[i];
    if (map === undefined) continue;
    const why = concurrencyProblem(map);
    if (why !== undefined) out.push(`map '${collection.object.maps[i]!.name}' (${map.typeName}): ${why}`);
  }
  return out;
}
