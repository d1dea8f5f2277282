/**
 * Maps of an object that cannot be created, and what that means for its
 * programs. Linux judges each program on its own: a map Linux refuses (an
 * invalid size for its type) fails the programs that use it, with libbpf's
 * message (`map 'x': failed to create: -EINVAL`), and the others load; a
 * map Linux would create but tsbpf cannot back (a type tsbpf does not
 * implement, a size beyond its address space) lets its programs verify and
 * fails only their runs.
 */
import { INSN_SIZE, PseudoSrc } from '../isa/opcode.js';
import type { LoadFailure, ObjectMapSpec, ObjectSpec, ProgramSpec } from '../loader/spec.js';
import { checkMapSpec } from '../vm/maps/registry.js';
import { MapError } from '../vm/maps/types.js';
import type { MapSpec } from '../vm/maps/types.js';
import { UnsupportedMapError } from '../vm/maps/unbacked.js';
import { mapTypeName } from '../vm/maps/bpf-map.js';
import { MapType } from '../isa/uapi.js';

/** Why a map cannot be created: Linux refuses it (`invalid`) or tsbpf cannot back it (`unsupported`). */
export interface MapProblem {
  kind: 'invalid' | 'unsupported';
  /** The reason, without the map's name. */
  reason: string;
  /** Errno Linux (or libbpf) gives for an invalid map. */
  errno: string;
  /**
   * For an invalid map, libbpf's message (the verdict of the programs that
   * use it): `map 'x': failed to create: -EINVAL (...)`; for an unsupported
   * one, what a run of those programs says: `it uses map 'x' (devmap), which
   * tsbpf does not back: ...`.
   */
  message: string;
}

/** strerror() of the errnos map creation gives. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  EINVAL: 'Invalid argument', E2BIG: 'Argument list too long', ENOMEM: 'Cannot allocate memory', EPERM: 'Operation not permitted',
  ENOTSUPP: 'Unknown error 524', EOPNOTSUPP: 'Operation not supported', EBADF: 'Bad file descriptor', ENOENT: 'No such file or directory',
};

/** A MapError's reason without the `map 'x' (type): ` prefix and ` (EINVAL)` suffix. */
function bareReason(err: MapError, name: string, type: number): string {
  return err.reason
    .replace(/ \([A-Z0-9]+\)$/, '')
    .replace(`map '${name}' (${mapTypeName(type)}): `, '')
    .replace(`map '${name}': `, '');
}

/** What a map creation error means (see {@link MapProblem}); rethrows what is not a MapError. */
export function mapProblemOf(spec: MapSpec, err: unknown): MapProblem {
  const unbacked = (reason: string, errno: string): MapProblem =>
    ({ kind: 'unsupported', reason, errno, message: `it uses map '${spec.name}' (${mapTypeName(spec.type)}), which tsbpf does not back: ${reason}` });
  if (err instanceof UnsupportedMapError) return unbacked(bareReason(err, spec.name, spec.type), 'EOPNOTSUPP');
  if (err instanceof MapError && err.errno === 'ENOMEM') {
    const need = /cannot allocate (\d+) bytes/.exec(err.reason)?.[1];
    const limit = /beyond the (\d+)-byte limit/.exec(err.reason)?.[1];
    return unbacked(need && limit
      ? `it needs ${need} bytes, more than tsbpf's address space (${limit} bytes, shared by the collection) has left`
      : `tsbpf's address space cannot hold it (${bareReason(err, spec.name, spec.type)})`, 'ENOMEM');
  }
  if (err instanceof MapError) {
    const reason = bareReason(err, spec.name, spec.type);
    // libbpf's words (1.x: strerror and the errno number), then why.
    return { kind: 'invalid', reason, errno: err.errno, message: `map '${spec.name}': failed to create: ${ERRNO_TEXT[err.errno] ?? err.errno}(-${err.code}) (${reason})` };
  }
  throw err;
}

/** The problem of a loader-refused map definition (ObjectMapSpec.loadError). */
export function loaderMapProblem(_spec: ObjectMapSpec, failure: LoadFailure): MapProblem {
  return { kind: 'invalid', reason: failure.message, errno: failure.errno, message: failure.message };
}

/**
 * A map spec with the creation-time fix-ups libbpf applies: a perf event
 * array with max_entries 0 gets one entry per possible CPU.
 */
export function creationSpec(spec: ObjectMapSpec, possibleCpus: number): ObjectMapSpec {
  if (spec.type === MapType.PERF_EVENT_ARRAY && spec.maxEntries === 0) return { ...spec, maxEntries: possibleCpus };
  return spec;
}

/**
 * Linux's creation checks on every map of `object` (nothing is allocated):
 * the problem of each map, or undefined when Linux and tsbpf create it. A
 * map tsbpf might still fail to allocate (out of address space) is only
 * known when a collection creates it.
 */
export function objectMapProblems(object: ObjectSpec, possibleCpus = 1): (MapProblem | undefined)[] {
  return object.maps.map((spec) => {
    if (spec.loadError) return loaderMapProblem(spec, spec.loadError);
    try {
      checkMapSpec(creationSpec(spec, possibleCpus));
      return undefined;
    } catch (err) {
      return mapProblemOf(spec, err);
    }
  });
}

/** Indexes of the maps a program's instructions reference (`lddw` src 5/6, as the loader encodes them). */
export function mapsUsedBy(program: Pick<ProgramSpec, 'insns'>): number[] {
  const used = new Set<number>();
  const b = program.insns;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let pc = 0; pc + 1 < b.length / INSN_SIZE; pc++) {
    if (b[pc * INSN_SIZE] !== 0x18) continue;
    const src = b[pc * INSN_SIZE + 1]! >> 4;
    if (src === PseudoSrc.MAP_IDX || src === PseudoSrc.MAP_IDX_VALUE) used.add(view.getInt32(pc * INSN_SIZE + 4, true));
    pc++;
  }
  return [...used].sort((a, b) => a - b);
}

/**
 * `program` as libbpf would see it given the map problems: a program that
 * uses a map Linux refuses cannot load (its `loadError` is the map's
 * failure); other programs are returned unchanged.
 */
export function withMapFailures(program: ProgramSpec, problems: readonly (MapProblem | undefined)[]): ProgramSpec {
  if (program.loadError) return program;
  for (const i of mapsUsedBy(program)) {
    const p = problems[i];
    if (p?.kind === 'invalid') return { ...program, loadError: { message: p.message, errno: p.errno } };
  }
  return program;
}

/** Why tsbpf cannot run `program` because of the maps it uses (a map it does not back), or undefined. */
export function unbackedMapUse(program: ProgramSpec, problems: readonly (MapProblem | undefined)[]): string | undefined {
  for (const i of mapsUsedBy(program)) {
    const p = problems[i];
    if (p?.kind === 'unsupported') return p.message;
  }
  return undefined;
}
